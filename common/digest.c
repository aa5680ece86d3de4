/* The digest engine: one pass over a stream feeds every requested
 * algorithm, an optional copy destination and an optional observer. */
#include "vl_common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static const struct {
    const char *name;
    size_t hex_len;
} algs[VL_DIGEST_COUNT] = {
    [VL_MD5] = {"md5", 32},
    [VL_SHA1] = {"sha1", 40},
    [VL_SHA256] = {"sha256", 64},
    [VL_SHA512] = {"sha512", 128},
    [VL_BLAKE2B512] = {"blake2b-512", 128},
};

static const EVP_MD *builtin_md(vl_digest_alg alg)
{
    switch (alg) {
    case VL_MD5: return EVP_md5();
    case VL_SHA1: return EVP_sha1();
    case VL_SHA256: return EVP_sha256();
    case VL_SHA512: return EVP_sha512();
    case VL_BLAKE2B512: return EVP_blake2b512();
    default: return NULL;
    }
}

/* Each algorithm's implementation is fetched from OpenSSL once and kept for
 * the life of the process.  With the built-in EVP_sha512() and the like,
 * OpenSSL 3 fetches the implementation again for every context it sets up
 * (allocations and a lock each time), and a fetch that runs out of memory
 * half way leaves blocks behind in its method store.  Should the fetch
 * itself fail, the built-in one is used and the fetch is tried again the
 * next time. */
static EVP_MD *fetched[VL_DIGEST_COUNT];
static pthread_mutex_t fetch_lock = PTHREAD_MUTEX_INITIALIZER;

static const EVP_MD *alg_md(vl_digest_alg alg)
{
    static const char *const ossl_names[VL_DIGEST_COUNT] = {
        [VL_MD5] = "MD5", [VL_SHA1] = "SHA1", [VL_SHA256] = "SHA2-256",
        [VL_SHA512] = "SHA2-512", [VL_BLAKE2B512] = "BLAKE2B-512",
    };
    const EVP_MD *md;

    if ((unsigned)alg >= VL_DIGEST_COUNT)
        return NULL;
    pthread_mutex_lock(&fetch_lock);
    if (!fetched[alg])
        fetched[alg] = EVP_MD_fetch(NULL, ossl_names[alg], NULL);
    md = fetched[alg];
    pthread_mutex_unlock(&fetch_lock);
    return md ? md : builtin_md(alg);
}

const char *vl_digest_name(vl_digest_alg alg)
{
    if ((unsigned)alg >= VL_DIGEST_COUNT)
        return "unknown";
    return algs[alg].name;
}

int vl_digest_from_name(const char *name, vl_digest_alg *out)
{
    int i;

    for (i = 0; i < VL_DIGEST_COUNT; i++) {
        if (strcmp(name, algs[i].name) == 0) {
            *out = (vl_digest_alg)i;
            return 0;
        }
    }
    return -1;
}

size_t vl_digest_hex_len(vl_digest_alg alg)
{
    if ((unsigned)alg >= VL_DIGEST_COUNT)
        return 0;
    return algs[alg].hex_len;
}

int vl_digest_mask_parse(const char *list, unsigned *mask, vl_error *err)
{
    char *copy = vl_strdup(list), *tok, *save = NULL;
    unsigned m = 0;
    int rc = VL_OK;

    if (!copy) {
        rc = vl_error_sys(err, "digest list");
        goto done;
    }
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *end;
        vl_digest_alg alg;

        while (*tok == ' ' || *tok == '\t' || *tok == '\n' || *tok == '\r')
            tok++;
        end = tok + strlen(tok);
        while (end > tok && (end[-1] == ' ' || end[-1] == '\t' ||
                             end[-1] == '\n' || end[-1] == '\r'))
            *--end = '\0';
        if (*tok == '\0' || strcmp(tok, "none") == 0)
            continue;
        if (vl_digest_from_name(tok, &alg) != 0) {
            char *esc = vl_name_escape(tok);
            rc = vl_error_set(err, VL_EINPUT,
                              "unknown digest algorithm \"%s\" (known: md5, "
                              "sha1, sha256, sha512, blake2b-512)",
                              esc ? esc : "?");
            free(esc);
            goto done;
        }
        m |= VL_DIGEST_BIT(alg);
    }
    *mask = m;
done:
    free(copy);
    return rc;
}

struct vl_digest_ctx {
    unsigned mask;
    int failed; /* an update failed; reported by vl_digest_final */
    EVP_MD_CTX *md[VL_DIGEST_COUNT];
};

vl_digest_ctx *vl_digest_new(unsigned mask)
{
    vl_digest_ctx *ctx = calloc(1, sizeof *ctx);
    int i;

    if (!ctx)
        return NULL;
    ctx->mask = mask & ((1u << VL_DIGEST_COUNT) - 1);
    for (i = 0; i < VL_DIGEST_COUNT; i++) {
        if (!(ctx->mask & VL_DIGEST_BIT(i)))
            continue;
        ctx->md[i] = EVP_MD_CTX_new();
        if (!ctx->md[i] ||
            EVP_DigestInit_ex(ctx->md[i], alg_md((vl_digest_alg)i), NULL) != 1) {
            vl_digest_free(ctx);
            return NULL;
        }
    }
    return ctx;
}

void vl_digest_update(vl_digest_ctx *ctx, const void *data, size_t len)
{
    int i;

    if (len == 0)
        return;
    for (i = 0; i < VL_DIGEST_COUNT; i++)
        if (ctx->md[i] && EVP_DigestUpdate(ctx->md[i], data, len) != 1)
            ctx->failed = 1;
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 0x0F];
    }
    out[2 * n] = '\0';
}

int vl_digest_final(vl_digest_ctx *ctx, vl_digest_result *out, vl_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n;
    int i, rc = VL_OK;

    memset(out, 0, sizeof *out);
    out->mask = ctx->mask;
    if (ctx->failed) {
        rc = vl_error_set(err, VL_ESYS, "digest update failed (OpenSSL)");
        goto done;
    }
    for (i = 0; i < VL_DIGEST_COUNT; i++) {
        if (!ctx->md[i])
            continue;
        if (EVP_DigestFinal_ex(ctx->md[i], md, &n) != 1) {
            rc = vl_error_set(err, VL_ESYS, "%s digest failed (OpenSSL)",
                              algs[i].name);
            goto done;
        }
        to_hex(md, n, out->hex[i]);
    }
done:
    return rc;
}

void vl_digest_free(vl_digest_ctx *ctx)
{
    int i;

    if (!ctx)
        return;
    for (i = 0; i < VL_DIGEST_COUNT; i++)
        EVP_MD_CTX_free(ctx->md[i]);
    free(ctx);
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int vl_digest_pump(vl_read_fn rd, void *rd_arg, int out_fd, unsigned mask,
                   vl_chunk_fn observer, void *observer_arg,
                   vl_digest_result *out, uint64_t *size, vl_error *err)
{
    vl_error local;
    vl_error *e = err ? err : &local; /* read/observer callbacks need one */
    vl_digest_ctx *ctx = NULL;
    vl_digest_result res;
    uint64_t total = 0;
    char *buf = NULL;
    int rc = VL_OK;

    vl_error_clear(e); /* so a read failure's status is never a stale one */
    buf = malloc(VL_IO_BUFSIZE);
    ctx = vl_digest_new(mask);
    if (!buf || !ctx) {
        errno = ENOMEM;
        rc = vl_error_sys(e, "digest");
        goto done;
    }
    for (;;) {
        ssize_t n = rd(rd_arg, buf, VL_IO_BUFSIZE, e);
        if (n < 0) {
            rc = e->status != VL_OK ? e->status : VL_ESYS;
            if (e->msg[0] == '\0')
                vl_error_set(e, rc, "read failed");
            goto done;
        }
        if (n == 0)
            break;
        vl_digest_update(ctx, buf, (size_t)n);
        if (out_fd >= 0 && write_all(out_fd, buf, (size_t)n) != 0) {
            rc = vl_error_sys(e, "write to descriptor %d", out_fd);
            goto done;
        }
        if (observer) {
            rc = observer(observer_arg, buf, (size_t)n, e);
            if (rc != VL_OK)
                goto done;
        }
        total += (uint64_t)n;
    }
    rc = vl_digest_final(ctx, &res, e);
    if (rc != VL_OK)
        goto done;
    if (out)
        *out = res;
    if (size)
        *size = total;
done:
    vl_digest_free(ctx);
    free(buf);
    return rc;
}

struct fd_source {
    int fd;
    const char *name; /* for messages; NULL names the descriptor */
};

static ssize_t fd_read(void *arg, void *buf, size_t cap, vl_error *err)
{
    struct fd_source *src = arg;
    ssize_t n;

    do
        n = read(src->fd, buf, cap);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (src->name)
            vl_error_sys(err, "read %s", src->name);
        else
            vl_error_sys(err, "read descriptor %d", src->fd);
    }
    return n;
}

int vl_digest_fd(int in_fd, int out_fd, unsigned mask, vl_digest_result *out,
                 uint64_t *size, vl_error *err)
{
    struct fd_source src = {in_fd, NULL};

    return vl_digest_pump(fd_read, &src, out_fd, mask, NULL, NULL, out, size,
                          err);
}

int vl_digest_file(const char *path, unsigned mask, vl_digest_result *out,
                   uint64_t *size, vl_error *err)
{
    struct fd_source src = {-1, path};
    int rc;

    src.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src.fd < 0)
        return vl_error_sys(err, "open %s", path);
    rc = vl_digest_pump(fd_read, &src, -1, mask, NULL, NULL, out, size, err);
    close(src.fd);
    return rc;
}

int vl_digest_buffer(vl_digest_alg alg, const void *data, size_t len,
                     char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const EVP_MD *type = alg_md(alg);

    out[0] = '\0';
    if (!type || EVP_Digest(data, len, md, &n, type, NULL) != 1)
        return -1;
    to_hex(md, n, out);
    return 0;
}

const char *vl_digest_library_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}
