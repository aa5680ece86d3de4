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

ssize_t vl_fd_read(void *arg, void *buf, size_t cap, vl_error *err)
{
    vl_fd_source *src = arg;
    ssize_t n;

    do
        n = read(src->fd, buf, cap);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (src->name)
            vl_error_sys(err, "cannot read %s", src->name);
        else
            vl_error_sys(err, "cannot read descriptor %d", src->fd);
    }
    return n;
}

int vl_digest_fd(int in_fd, int out_fd, unsigned mask, vl_digest_result *out,
                 uint64_t *size, vl_error *err)
{
    vl_fd_source src = {in_fd, NULL};

    return vl_digest_pump(vl_fd_read, &src, out_fd, mask, NULL, NULL, out, size,
                          err);
}

int vl_digest_file(const char *path, unsigned mask, vl_digest_result *out,
                   uint64_t *size, vl_error *err)
{
    vl_fd_source src = {-1, path};
    int rc;

    src.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src.fd < 0)
        return vl_error_sys(err, "open %s", path);
    rc = vl_digest_pump(vl_fd_read, &src, -1, mask, NULL, NULL, out, size, err);
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

/* ---- any digest OpenSSL provides, by name ------------------------------ */

/* Lower case, alphanumerics only: how BagIt normalises algorithm names. */
static void name_key(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    for (; *s && n + 1 < cap; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[n++] = c;
    }
    out[n] = '\0';
}

struct md_search {
    char key[VL_DIGEST_NAME_MAX];
    int hit;                           /* one of the names matched */
    char found[VL_DIGEST_NAME_MAX];    /* the digest's OpenSSL name */
};

static void md_name(const char *name, void *arg)
{
    struct md_search *s = arg;
    char k[VL_DIGEST_NAME_MAX];

    name_key(name, k, sizeof k);
    if (strcmp(k, s->key) == 0)
        s->hit = 1;
}

static void md_each(EVP_MD *md, void *arg)
{
    struct md_search *s = arg;
    const char *name;

    if (s->found[0])
        return;
    s->hit = 0;
    EVP_MD_names_do_all(md, md_name, s);
    if (s->hit && (name = EVP_MD_get0_name(md)) != NULL &&
        strlen(name) < sizeof s->found)
        snprintf(s->found, sizeof s->found, "%s", name);
}

int vl_digest_lookup(const char *name, char evp_name[VL_DIGEST_NAME_MAX],
                     size_t *hex_len, int *known)
{
    static const struct {
        const char *short_name, *full;
    } aliases[] = {{"blake2b", "blake2b512"}, {"blake2s", "blake2s256"}};
    static const struct {
        int nid;
        vl_digest_alg alg;
        const char *evp;   /* OpenSSL 3's own name for it */
    } ours[] = {{NID_md5, VL_MD5, "MD5"},          {NID_sha1, VL_SHA1, "SHA1"},
                {NID_sha256, VL_SHA256, "SHA2-256"}, {NID_sha512, VL_SHA512, "SHA2-512"},
                {NID_blake2b512, VL_BLAKE2B512, "BLAKE2B-512"}};
    struct md_search s;
    EVP_MD *md = NULL;
    int size, rc = -1;
    size_t i;

    memset(&s, 0, sizeof s);
    if (strlen(name) >= sizeof s.key)
        return -1;
    name_key(name, s.key, sizeof s.key);
    if (!s.key[0])
        return -1;
    for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(s.key, aliases[i].short_name) == 0)
            snprintf(s.key, sizeof s.key, "%s", aliases[i].full);
    /* The engine's own algorithms need no search of the providers (which
     * allocates, and could call a known name unknown when memory is
     * short). */
    for (i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        char k[VL_DIGEST_NAME_MAX];
        name_key(vl_digest_name(ours[i].alg), k, sizeof k);
        if (strcmp(k, s.key) == 0) {
            snprintf(evp_name, VL_DIGEST_NAME_MAX, "%s", ours[i].evp);
            *hex_len = vl_digest_hex_len(ours[i].alg);
            *known = (int)ours[i].alg;
            return 0;
        }
    }
    EVP_MD_do_all_provided(NULL, md_each, &s);
    if (!s.found[0] || !(md = EVP_MD_fetch(NULL, s.found, NULL)))
        goto done;
    size = EVP_MD_get_size(md);
    if ((EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) || size <= 0 ||
        (size_t)size * 2 >= VL_DIGEST_HEX_MAX)
        goto done;
    snprintf(evp_name, VL_DIGEST_NAME_MAX, "%s", s.found);
    *hex_len = (size_t)size * 2;
    *known = -1;
    for (i = 0; i < sizeof ours / sizeof ours[0]; i++)
        if (EVP_MD_get_type(md) == ours[i].nid)
            *known = (int)ours[i].alg;
    rc = 0;
done:
    EVP_MD_free(md);
    return rc;
}

struct vl_digest_set {
    size_t n;
    int failed;
    EVP_MD_CTX **md;
};

vl_digest_set *vl_digest_set_new(const char *const *evp_names, size_t n)
{
    vl_digest_set *s = calloc(1, sizeof *s);
    size_t i;

    if (!s)
        return NULL;
    s->n = n;
    if (n && !(s->md = calloc(n, sizeof *s->md))) {
        free(s);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        EVP_MD *md = EVP_MD_fetch(NULL, evp_names[i], NULL);
        int ok = md && (s->md[i] = EVP_MD_CTX_new()) != NULL &&
                 EVP_DigestInit_ex(s->md[i], md, NULL) == 1;
        EVP_MD_free(md);
        if (!ok) {
            vl_digest_set_free(s);
            return NULL;
        }
    }
    return s;
}

void vl_digest_set_update(vl_digest_set *s, const void *data, size_t len)
{
    size_t i;

    if (len == 0)
        return;
    for (i = 0; i < s->n; i++)
        if (EVP_DigestUpdate(s->md[i], data, len) != 1)
            s->failed = 1;
}

int vl_digest_set_final(vl_digest_set *s, char (*hex)[VL_DIGEST_HEX_MAX],
                        vl_error *err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n;
    size_t i;

    if (s->failed)
        return vl_error_set(err, VL_ESYS, "digest update failed (OpenSSL)");
    for (i = 0; i < s->n; i++) {
        if (EVP_DigestFinal_ex(s->md[i], md, &n) != 1)
            return vl_error_set(err, VL_ESYS, "%s digest failed (OpenSSL)",
                                EVP_MD_get0_name(EVP_MD_CTX_get0_md(s->md[i])));
        to_hex(md, n, hex[i]);
    }
    return VL_OK;
}

void vl_digest_set_free(vl_digest_set *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; s->md && i < s->n; i++)
        EVP_MD_CTX_free(s->md[i]);
    free(s->md);
    free(s);
}

int vl_digest_set_observe(void *arg, const void *data, size_t len,
                          vl_error *err)
{
    vl_digest_set_update(arg, data, len);
    return VL_OK;
}

int vl_digest_file_named(const char *path, const char *const *evp_names,
                         size_t n, char (*hex)[VL_DIGEST_HEX_MAX],
                         uint64_t *size, vl_error *err)
{
    vl_fd_source src = {-1, path};
    vl_digest_set *set = vl_digest_set_new(evp_names, n);
    int rc;

    if (!set)
        return vl_error_set(err, VL_ESYS, "%s: cannot set up its digests "
                            "(OpenSSL)", path);
    src.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (src.fd < 0) {
        rc = vl_error_sys(err, "open %s", path);
        goto done;
    }
    rc = vl_digest_pump(vl_fd_read, &src, -1, 0, vl_digest_set_observe, set,
                        NULL, size, err);
    if (rc == VL_OK)
        rc = vl_digest_set_final(set, hex, err);
done:
    if (src.fd >= 0)
        close(src.fd);
    vl_digest_set_free(set);
    return rc;
}

int vl_digest_buffer_named(const char *evp_name, const void *data, size_t len,
                           char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD *type = EVP_MD_fetch(NULL, evp_name, NULL);
    int rc = -1;

    out[0] = '\0';
    if (type && EVP_Digest(data, len, md, &n, type, NULL) == 1) {
        to_hex(md, n, out);
        rc = 0;
    }
    EVP_MD_free(type);
    return rc;
}
