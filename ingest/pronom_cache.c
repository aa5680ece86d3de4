/* The compiled signature file on disk: cache_dir/pronom-<key>.bin, the key
 * being the SHA-256 of the signature file's bytes and the container
 * file's, so a changed file never meets a stale cache.
 *
 * Layout: a header (magic, layout version, payload length, the key again
 * and the payload's SHA-256), then the payload in native byte order.  Any
 * mismatch (short file, other version, other key, digest, a count that
 * does not fit) makes the reader give up and the engine compile from the
 * XML again: the cache is only ever a shortcut.  Written with
 * vl_fs_write_atomic (temporary file, fsync, rename), so readers see a
 * whole file or none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pronom_internal.h"

#define CACHE_MAGIC "VLPRONOM"
#define CACHE_LAYOUT 1u
#define CACHE_MAX ((size_t)256 * 1024 * 1024)
#define SRC_MAX ((size_t)256 * 1024 * 1024)

typedef struct header {
    char magic[8];
    uint32_t layout;
    uint32_t header_size;
    uint64_t payload_len;
    char key[64];
    char digest[64];      /* SHA-256 of the payload, hex */
} header;

static int hash_file(vl_digest_ctx *ctx, const char *path, vl_error *err)
{
    vl_buf b;
    int rc;
    vl_buf_init(&b, SRC_MAX);
    rc = vl_fs_read_file(path, SRC_MAX, &b, err);
    if (rc == VL_OK)
        vl_digest_update(ctx, b.data ? b.data : "", b.len);
    vl_buf_release(&b);
    return rc;
}

int vl_pronom_cache_key(const char *sigpath, const char *contpath,
                        char key[65], vl_error *err)
{
    vl_digest_ctx *ctx = vl_digest_new(VL_DIGEST_BIT(VL_SHA256));
    vl_digest_result r;
    int rc;

    key[0] = '\0';
    if (!ctx)
        return vl_error_sys(err, "PRONOM cache key");
    /* Each part is prefixed, so (a, b) and (ab, "") differ. */
    vl_digest_update(ctx, "signatures\n", 11);
    if ((rc = hash_file(ctx, sigpath, err)) != VL_OK)
        goto done;
    if (contpath) {
        vl_digest_update(ctx, "\ncontainers\n", 12);
        if ((rc = hash_file(ctx, contpath, err)) != VL_OK)
            goto done;
    }
    if ((rc = vl_digest_final(ctx, &r, err)) != VL_OK)
        goto done;
    memcpy(key, r.hex[VL_SHA256], 64);
    key[64] = '\0';
done:
    vl_digest_free(ctx);
    return rc;
}

static char *cache_path(const char *dir, const char *key)
{
    char *name = vl_asprintf("pronom-%s.bin", key), *p;
    if (!name)
        return NULL;
    p = vl_path_join(dir, name);
    free(name);
    return p;
}

/* ---- writing ------------------------------------------------------------------ */

static int put_str(vl_buf *b, const char *s, vl_error *err)
{
    uint32_t n = (uint32_t)strlen(s ? s : "");
    int rc = vl_buf_append(b, &n, 4, err);
    return rc == VL_OK ? vl_buf_append(b, s ? s : "", n, err) : rc;
}

static int put_ints(vl_buf *b, const int *v, size_t n, vl_error *err)
{
    uint32_t c = (uint32_t)n;
    int rc = vl_buf_append(b, &c, 4, err);
    return rc == VL_OK && n ? vl_buf_append(b, v, n * sizeof *v, err) : rc;
}

static int save(const vl_pronom_sigfile *f, vl_buf *b, vl_error *err)
{
    uint32_t n = (uint32_t)f->nsig;
    int rc = put_str(b, f->version, err);
    if (rc == VL_OK)
        rc = vl_buf_append(b, &n, 4, err);
    for (size_t i = 0; i < f->nsig && rc == VL_OK; i++)
        rc = vl_pronom_sig_save(f->sigs[i], b, err);
    n = (uint32_t)f->nfmt;
    if (rc == VL_OK)
        rc = vl_buf_append(b, &n, 4, err);
    for (size_t i = 0; i < f->nfmt && rc == VL_OK; i++) {
        const vl_pronom_format *x = &f->fmts[i];
        uint32_t ne = (uint32_t)x->next;
        if ((rc = vl_buf_append(b, &x->id, 4, err)) != VL_OK ||
            (rc = put_str(b, x->puid, err)) != VL_OK ||
            (rc = put_str(b, x->name, err)) != VL_OK ||
            (rc = put_str(b, x->version, err)) != VL_OK ||
            (rc = put_str(b, x->mime, err)) != VL_OK ||
            (rc = vl_buf_append(b, &ne, 4, err)) != VL_OK)
            break;
        for (size_t k = 0; k < x->next && rc == VL_OK; k++)
            rc = put_str(b, x->ext[k], err);
        if (rc == VL_OK)
            rc = put_ints(b, x->sig, x->nsig, err);
        if (rc == VL_OK)
            rc = put_ints(b, x->prio, x->nprio, err);
    }
    return rc;
}

int vl_pronom_cache_write(const char *dir, const char *key,
                          const vl_pronom_sigfile *f, vl_error *err)
{
    vl_buf b;
    header h;
    char hex[VL_DIGEST_HEX_MAX];
    char *path = NULL;
    int rc;

    vl_buf_init(&b, CACHE_MAX);
    memset(&h, 0, sizeof h);
    /* Room for the header first, filled in once the payload is known. */
    if ((rc = vl_buf_append(&b, &h, sizeof h, err)) != VL_OK ||
        (rc = save(f, &b, err)) != VL_OK)
        goto done;
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.layout = CACHE_LAYOUT;
    h.header_size = sizeof h;
    h.payload_len = b.len - sizeof h;
    memcpy(h.key, key, 64);
    vl_digest_buffer(VL_SHA256, b.data + sizeof h, b.len - sizeof h, hex);
    memcpy(h.digest, hex, 64);
    memcpy(b.data, &h, sizeof h);
    if ((rc = vl_fs_mkdirs(dir, err)) != VL_OK)
        goto done;
    if (!(path = cache_path(dir, key))) {
        rc = vl_error_sys(err, "PRONOM cache");
        goto done;
    }
    rc = vl_fs_write_atomic(path, b.data, b.len, err);
done:
    free(path);
    vl_buf_release(&b);
    return rc;
}

/* ---- reading ------------------------------------------------------------------ */

static int get(const uint8_t *d, size_t len, size_t *pos, void *out, size_t n)
{
    if (*pos > len || len - *pos < n)
        return -1;
    memcpy(out, d + *pos, n);
    *pos += n;
    return 0;
}

static int get_str(const uint8_t *d, size_t len, size_t *pos, char **out)
{
    uint32_t n;
    *out = NULL;
    if (get(d, len, pos, &n, 4) != 0 || n > len - *pos)
        return -1;
    if (!(*out = vl_strndup((const char *)d + *pos, n)) ||
        strlen(*out) != n)   /* no NUL inside */
        return -1;
    *pos += n;
    return 0;
}

static int get_ints(const uint8_t *d, size_t len, size_t *pos, int **v,
                    size_t *n)
{
    uint32_t c;
    if (get(d, len, pos, &c, 4) != 0 || c > (len - *pos) / sizeof(int))
        return -1;
    *n = c;
    if (!c)
        return 0;
    if (!(*v = malloc(c * sizeof **v)))
        return -1;
    return get(d, len, pos, *v, c * sizeof **v);
}

static int load(const uint8_t *d, size_t len, vl_pronom_sigfile *f)
{
    size_t pos = 0;
    uint32_t n;

    if (get_str(d, len, &pos, &f->version) != 0 ||
        get(d, len, &pos, &n, 4) != 0 || n > len - pos ||
        !(f->sigs = calloc(n + 1, sizeof *f->sigs)))
        return -1;
    for (; f->nsig < n; f->nsig++)
        if (vl_pronom_sig_load(d, len, &pos, &f->sigs[f->nsig]) != 0)
            return -1;
    if (get(d, len, &pos, &n, 4) != 0 || n > len - pos ||
        !(f->fmts = calloc(n + 1, sizeof *f->fmts)))
        return -1;
    for (; f->nfmt < n;) {
        vl_pronom_format *x = &f->fmts[f->nfmt++];   /* freed if partial */
        uint32_t ne;
        if (get(d, len, &pos, &x->id, 4) != 0 ||
            get_str(d, len, &pos, &x->puid) != 0 ||
            get_str(d, len, &pos, &x->name) != 0 ||
            get_str(d, len, &pos, &x->version) != 0 ||
            get_str(d, len, &pos, &x->mime) != 0 ||
            get(d, len, &pos, &ne, 4) != 0 || ne > len - pos ||
            (ne && !(x->ext = calloc(ne, sizeof *x->ext))))
            return -1;
        for (; x->next < ne;)
            if (get_str(d, len, &pos, &x->ext[x->next++]) != 0)
                return -1;
        if (get_ints(d, len, &pos, &x->sig, &x->nsig) != 0 ||
            get_ints(d, len, &pos, &x->prio, &x->nprio) != 0)
            return -1;
    }
    return pos == len ? 0 : -1;
}

int vl_pronom_cache_read(const char *dir, const char *key,
                         vl_pronom_sigfile **out, vl_error *err)
{
    char *path = cache_path(dir, key);
    vl_pronom_sigfile *f = NULL;
    vl_buf b;
    header h;
    char hex[VL_DIGEST_HEX_MAX];
    int rc = VL_EINPUT;

    *out = NULL;
    vl_buf_init(&b, CACHE_MAX);
    if (!path) {
        rc = vl_error_sys(err, "PRONOM cache");
        goto done;
    }
    if (!vl_fs_exists(path)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: no cache", path);
        goto done;
    }
    if ((rc = vl_fs_read_file(path, CACHE_MAX, &b, err)) != VL_OK)
        goto done;
    rc = VL_EINPUT;
    if (b.len < sizeof h) {
        vl_error_set(err, rc, "%s: too short", path);
        goto done;
    }
    memcpy(&h, b.data, sizeof h);
    if (memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.layout != CACHE_LAYOUT ||
        h.header_size != sizeof h || h.payload_len != b.len - sizeof h ||
        memcmp(h.key, key, 64) != 0) {
        vl_error_set(err, rc, "%s: not a cache of this version and key",
                     path);
        goto done;
    }
    vl_digest_buffer(VL_SHA256, b.data + sizeof h, b.len - sizeof h, hex);
    if (memcmp(h.digest, hex, 64) != 0) {
        vl_error_set(err, rc, "%s: damaged (digest)", path);
        goto done;
    }
    if (!(f = calloc(1, sizeof *f))) {
        rc = vl_error_sys(err, "%s", path);
        goto done;
    }
    if (load((const uint8_t *)b.data + sizeof h, b.len - sizeof h, f) != 0) {
        vl_error_set(err, rc, "%s: damaged (contents)", path);
        goto done;
    }
    *out = f;
    f = NULL;
    rc = VL_OK;
done:
    vl_pronom_sigfile_free(f);
    vl_buf_release(&b);
    free(path);
    return rc;
}
