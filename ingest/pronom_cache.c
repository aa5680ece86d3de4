/* The compiled signature file on disk: cache_dir/pronom-<key>.bin, the key
 * being the SHA-256 of the signature file's bytes and the container
 * file's, so a changed file never meets a stale cache.
 *
 * Layout: a header (magic, layout version, payload length, the arena size
 * the payload loads into, the key again and the payload's SHA-256), then
 * the payload in native byte order, runs of plain bytes stored as bytes
 * (a payload of about 0.2 MB for V122, was 2.2 MB).  The reader makes one
 * read of the whole file and builds the signatures in one arena (one
 * block, sized from the header) instead of tens of thousands of small
 * allocations; every count and length is still checked against the bytes
 * left, so any mismatch (short file, other version, other key, digest, a
 * count that does not fit, an arena too small) makes the reader give up and
 * the engine compile from the XML again: the cache is only ever a shortcut.
 * Written with vl_fs_write_atomic (temporary file, fsync, rename), so
 * readers see a whole file or none.
 *
 * The key costs a SHA-256 of 4 MB of XML (several ms, most of a cached
 * start), so cache_dir/pronom-keys remembers the key of the files as they
 * were: one line per pair of files, their (device, inode, size, mtime,
 * ctime) and the key.  While stat gives the same tuples the remembered key
 * is used; any change (an edit, a copy over the file, a touch) misses and
 * the files are hashed again.  Files changed in the last seconds are not
 * remembered: within one timestamp tick a later edit would keep the same
 * tuple (git's "racily clean" problem). */
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pronom_internal.h"

#define CACHE_MAGIC "VLPRONOM"
#define CACHE_LAYOUT 2u
#define CACHE_MAX ((size_t)256 * 1024 * 1024)
#define SRC_MAX ((size_t)256 * 1024 * 1024)
/* A loaded element takes at most about 70 bytes of arena per payload byte
 * (a one-byte literal becomes a 64-byte element): an arena bound of 128
 * per byte can only be reached by a corrupt file. */
#define ARENA_PER_BYTE 128
#define ARENA_BLOCK ((size_t)256 * 1024)
#define KEYS_NAME "pronom-keys"
#define KEYS_MAX_LINES 32
#define KEYS_FILE_MAX ((size_t)64 * 1024)
#define RACY_SECONDS 3

/* ---- the arena ----------------------------------------------------------------- */

typedef struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[];
} block;

struct vl_pronom_arena {
    block *head;
    size_t total, limit;    /* bytes in blocks, and their bound */
};

/* A new block of cap bytes, zeroed: calloc of a large block is fresh
 * pages from the kernel, so no allocation needs its own memset. */
static block *block_new(vl_pronom_arena *a, size_t cap)
{
    block *b;
    if (a->total > a->limit || cap > a->limit - a->total ||
        !(b = calloc(1, sizeof *b + cap)))
        return NULL;
    b->next = a->head;
    b->cap = cap;
    a->head = b;
    a->total += cap;
    return b;
}

/* first: the size of the first block (the whole load, when the header's
 * size is right); limit: the bound over all blocks. */
static vl_pronom_arena *arena_new(size_t first, size_t limit)
{
    vl_pronom_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->limit = limit;
    if (first && !block_new(a, first)) {
        free(a);
        return NULL;
    }
    return a;
}

void *vl_pronom_arena_alloc(vl_pronom_arena *a, size_t n)
{
    const size_t al = alignof(max_align_t);
    block *b = a->head;
    void *p;
    if (n > a->limit)
        return NULL;
    n = (n + al - 1) & ~(al - 1);
    if ((!b || b->cap - b->used < n) &&
        !(b = block_new(a, n > ARENA_BLOCK ? n : ARENA_BLOCK)))
        return NULL;
    p = (char *)b->data + b->used;
    b->used += n;
    return p;   /* zero: blocks are calloc'd and never reused */
}

void vl_pronom_arena_free(vl_pronom_arena *a)
{
    if (!a)
        return;
    while (a->head) {
        block *b = a->head;
        a->head = b->next;
        free(b);
    }
    free(a);
}

/* Bytes handed out so far (for the header's arena size). */
static size_t arena_used(const vl_pronom_arena *a)
{
    size_t n = 0;
    for (const block *b = a->head; b; b = b->next)
        n += b->used;
    return n;
}

typedef struct header {
    char magic[8];
    uint32_t layout;
    uint32_t header_size;
    uint64_t payload_len;
    uint64_t arena_size;  /* what the payload took to load when written */
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

static vl_pronom_sigfile *payload_load(const uint8_t *d, size_t len,
                                       size_t hint);

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
                          vl_pronom_sigfile **f, vl_error *err)
{
    vl_buf b;
    header h;
    char hex[VL_DIGEST_HEX_MAX];
    char *path = NULL;
    vl_pronom_sigfile *loaded;
    int rc;

    vl_buf_init(&b, CACHE_MAX);
    memset(&h, 0, sizeof h);
    /* Room for the header first, filled in once the payload is known. */
    if ((rc = vl_buf_append(&b, &h, sizeof h, err)) != VL_OK ||
        (rc = save(*f, &b, err)) != VL_OK)
        goto done;
    /* The compiled form is let go before its copy is loaded: holding the
     * two at once was the peak of a run without a cache (the payload is
     * only some 0.2 MB). */
    vl_pronom_sigfile_free(*f);
    *f = NULL;
    /* Loaded back as a cache read would: this checks that the payload
     * reads back, gives the arena size the reader then allocates as one
     * block, and is what the caller goes on with. */
    loaded = payload_load((const uint8_t *)b.data + sizeof h,
                          b.len - sizeof h, 0);
    if (!loaded) {
        rc = vl_error_set(err, VL_ESYS, "PRONOM cache: the compiled "
                          "form does not read back");
        goto done;
    }
    *f = loaded;
    h.arena_size = arena_used(loaded->arena);
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.layout = CACHE_LAYOUT;
    h.header_size = sizeof h;
    h.payload_len = b.len - sizeof h;
    memcpy(h.key, key, 64);
    if (vl_digest_buffer(VL_SHA256, b.data + sizeof h, b.len - sizeof h,
                         hex) != 0) {
        rc = vl_error_set(err, VL_ESYS, "PRONOM cache: digest: out of memory");
        goto done;
    }
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

static int get_str(const uint8_t *d, size_t len, size_t *pos,
                   vl_pronom_arena *ar, char **out)
{
    uint32_t n;
    *out = NULL;
    if (get(d, len, pos, &n, 4) != 0 || n > len - *pos ||
        memchr(d + *pos, '\0', n) ||   /* no NUL inside */
        !(*out = vl_pronom_arena_alloc(ar, (size_t)n + 1)))
        return -1;
    memcpy(*out, d + *pos, n);
    *pos += n;
    return 0;
}

static int get_ints(const uint8_t *d, size_t len, size_t *pos,
                    vl_pronom_arena *ar, int **v, size_t *n)
{
    uint32_t c;
    if (get(d, len, pos, &c, 4) != 0 || c > (len - *pos) / sizeof(int))
        return -1;
    *n = c;
    if (!c)
        return 0;
    if (!(*v = vl_pronom_arena_alloc(ar, c * sizeof **v)))
        return -1;
    return get(d, len, pos, *v, c * sizeof **v);
}

/* The payload into f, everything from ar (f->arena is set by the caller:
 * on failure nothing needs freeing piece by piece). */
static int load(const uint8_t *d, size_t len, vl_pronom_arena *ar,
                vl_pronom_sigfile *f)
{
    size_t pos = 0;
    uint32_t n;

    if (get_str(d, len, &pos, ar, &f->version) != 0 ||
        get(d, len, &pos, &n, 4) != 0 || n > len - pos ||
        !(f->sigs = vl_pronom_arena_alloc(ar, ((size_t)n + 1) *
                                                  sizeof *f->sigs)))
        return -1;
    for (; f->nsig < n; f->nsig++)
        if (vl_pronom_sig_load(d, len, &pos, ar, &f->sigs[f->nsig]) != 0)
            return -1;
    if (get(d, len, &pos, &n, 4) != 0 || n > len - pos ||
        !(f->fmts = vl_pronom_arena_alloc(ar, ((size_t)n + 1) *
                                                  sizeof *f->fmts)))
        return -1;
    for (; f->nfmt < n; f->nfmt++) {
        vl_pronom_format *x = &f->fmts[f->nfmt];
        uint32_t ne;
        if (get(d, len, &pos, &x->id, 4) != 0 ||
            get_str(d, len, &pos, ar, &x->puid) != 0 ||
            get_str(d, len, &pos, ar, &x->name) != 0 ||
            get_str(d, len, &pos, ar, &x->version) != 0 ||
            get_str(d, len, &pos, ar, &x->mime) != 0 ||
            get(d, len, &pos, &ne, 4) != 0 || ne > len - pos ||
            (ne && !(x->ext = vl_pronom_arena_alloc(ar, ne *
                                                        sizeof *x->ext))))
            return -1;
        for (; x->next < ne; x->next++)
            if (get_str(d, len, &pos, ar, &x->ext[x->next]) != 0)
                return -1;
        if (get_ints(d, len, &pos, ar, &x->sig, &x->nsig) != 0 ||
            get_ints(d, len, &pos, ar, &x->prio, &x->nprio) != 0)
            return -1;
    }
    return pos == len ? 0 : -1;
}

/* The whole of a regular file of at most max bytes, in one read (the
 * size known from fstat); NULL with errno set otherwise. */
static uint8_t *slurp(const char *path, size_t max, size_t *len)
{
    struct stat st;
    uint8_t *data = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), e;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > max) {
        errno = EINVAL;
        goto fail;
    }
    if (!(data = malloc((size_t)st.st_size + 1)))
        goto fail;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;   /* shorter than fstat said: being replaced */
            goto fail;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return data;
fail:
    e = errno;
    free(data);
    close(fd);
    errno = e;
    return NULL;
}

/* The arena bound for a payload of len bytes. */
static size_t arena_limit(size_t len)
{
    return len * ARENA_PER_BYTE + ARENA_BLOCK;
}

/* Parse a payload into a new sigfile (one arena); NULL when corrupt or out
 * of memory.  hint: the first block's size. */
static vl_pronom_sigfile *payload_load(const uint8_t *d, size_t len,
                                       size_t hint)
{
    vl_pronom_sigfile *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    if (!(f->arena = arena_new(hint, arena_limit(len))) ||
        load(d, len, f->arena, f) != 0) {
        vl_pronom_sigfile_free(f);   /* frees the arena, if any */
        return NULL;
    }
    return f;
}

int vl_pronom_cache_read(const char *dir, const char *key,
                         vl_pronom_sigfile **out, vl_error *err)
{
    char *path = cache_path(dir, key);
    vl_pronom_sigfile *f = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    header h;
    char hex[VL_DIGEST_HEX_MAX];
    int rc = VL_EINPUT;

    *out = NULL;
    if (!path) {
        rc = vl_error_sys(err, "PRONOM cache");
        goto done;
    }
    if (!(data = slurp(path, CACHE_MAX, &len))) {
        rc = vl_error_set(err, VL_EINPUT, "%s: no cache (%s)", path,
                          strerror(errno));
        goto done;
    }
    if (len < sizeof h) {
        vl_error_set(err, rc, "%s: too short", path);
        goto done;
    }
    memcpy(&h, data, sizeof h);
    if (memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.layout != CACHE_LAYOUT ||
        h.header_size != sizeof h || h.payload_len != len - sizeof h ||
        memcmp(h.key, key, 64) != 0 ||
        h.arena_size > arena_limit(len - sizeof h)) {
        vl_error_set(err, rc, "%s: not a cache of this version and key",
                     path);
        goto done;
    }
    if (vl_digest_buffer(VL_SHA256, data + sizeof h, len - sizeof h, hex) != 0 ||
        memcmp(h.digest, hex, 64) != 0) {
        vl_error_set(err, rc, "%s: damaged (digest)", path);
        goto done;
    }
    if (!(f = payload_load(data + sizeof h, len - sizeof h,
                           (size_t)h.arena_size))) {
        vl_error_set(err, rc, "%s: damaged (contents)", path);
        goto done;
    }
    *out = f;
    rc = VL_OK;
done:
    free(data);
    free(path);
    return rc;
}

/* ---- the key, remembered ------------------------------------------------------- */

/* "dev ino size mtime ctime" of path, or "-" for no file; -1 when it
 * cannot be stat'ed.  *fresh is set when it changed in the last
 * RACY_SECONDS (or is dated in the future). */
static int stat_tuple(const char *path, char *out, size_t cap, int *fresh)
{
    struct stat st;
    time_t now = time(NULL);
    if (!path) {
        snprintf(out, cap, "-");
        return 0;
    }
    if (stat(path, &st) != 0)
        return -1;
    snprintf(out, cap, "%llu %llu %lld %lld.%09ld %lld.%09ld",
             (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
             (long long)st.st_size, (long long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
             st.st_ctim.tv_nsec);
    if (st.st_mtim.tv_sec > now - RACY_SECONDS ||
        st.st_ctim.tv_sec > now - RACY_SECONDS)
        *fresh = 1;
    return 0;
}

/* "S <tuple> C <tuple>" for the pair, into out; -1 when a file is not
 * there. */
static int pair_id(const char *sigpath, const char *contpath, char *out,
                   size_t cap, int *fresh)
{
    char a[160], b[160];
    if (stat_tuple(sigpath, a, sizeof a, fresh) != 0 ||
        stat_tuple(contpath, b, sizeof b, fresh) != 0)
        return -1;
    snprintf(out, cap, "S %s C %s", a, b);
    return 0;
}

static int is_hex64(const char *p)
{
    for (int i = 0; i < 64; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

/* The key remembered for id in the index text, into key; 1 found. */
static int keys_find(const char *text, size_t len, const char *id,
                     char key[65])
{
    size_t idlen = strlen(id);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll;
        if (!nl)
            break;   /* a last line without its newline: cut short */
        ll = (size_t)(nl - p);
        if (ll == idlen + 1 + 64 && memcmp(p, id, idlen) == 0 &&
            p[idlen] == ' ' && is_hex64(p + idlen + 1)) {
            memcpy(key, p + idlen + 1, 64);
            key[64] = '\0';
            return 1;
        }
        p = nl + 1;
    }
    return 0;
}

/* Remember id -> key: the new line first, then up to KEYS_MAX_LINES - 1
 * of the old lines for other ids.  Best effort: the index only saves
 * time. */
static void keys_remember(const char *dir, const char *path,
                          const char *id, const char *key)
{
    vl_buf in, outb;
    vl_error ignored = {0};
    size_t idlen = strlen(id), lines = 1;
    vl_buf_init(&in, KEYS_FILE_MAX);
    vl_buf_init(&outb, KEYS_FILE_MAX + 1024);
    if (vl_fs_read_file(path, KEYS_FILE_MAX, &in, &ignored) != VL_OK)
        in.len = 0;
    if (vl_buf_append(&outb, id, idlen, &ignored) != VL_OK ||
        vl_buf_append(&outb, " ", 1, &ignored) != VL_OK ||
        vl_buf_append(&outb, key, 64, &ignored) != VL_OK ||
        vl_buf_append(&outb, "\n", 1, &ignored) != VL_OK)
        goto done;
    for (const char *p = in.data, *end = in.data + in.len;
         p && p < end && lines < KEYS_MAX_LINES;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll;
        if (!nl)
            break;
        ll = (size_t)(nl - p);
        /* only well-formed lines for other pairs are kept */
        if (ll > 66 && p[ll - 65] == ' ' && is_hex64(p + ll - 64) &&
            !(ll == idlen + 65 && memcmp(p, id, idlen) == 0)) {
            if (vl_buf_append(&outb, p, ll + 1, &ignored) != VL_OK)
                goto done;
            lines++;
        }
        p = nl + 1;
    }
    if (vl_fs_mkdirs(dir, &ignored) == VL_OK)
        (void)vl_fs_write_atomic(path, outb.data, outb.len, &ignored);
done:
    vl_buf_release(&in);
    vl_buf_release(&outb);
}

int vl_pronom_cache_key_remembered(const char *dir, const char *sigpath,
                                   const char *contpath, char key[65],
                                   vl_error *err)
{
    char id[400] = "", id2[400];
    char *path = vl_path_join(dir, KEYS_NAME);
    vl_buf b;
    vl_error ignored = {0};
    int fresh = 0, have, rc;

    vl_buf_init(&b, KEYS_FILE_MAX);
    if (!path) {
        rc = vl_error_sys(err, "PRONOM cache");
        goto done;
    }
    have = pair_id(sigpath, contpath, id, sizeof id, &fresh) == 0;
    if (have &&
        vl_fs_read_file(path, KEYS_FILE_MAX, &b, &ignored) == VL_OK &&
        keys_find(b.data ? b.data : "", b.len, id, key)) {
        rc = VL_OK;
        goto done;
    }
    if ((rc = vl_pronom_cache_key(sigpath, contpath, key, err)) != VL_OK)
        goto done;
    /* Remembered only when the files did not change while being hashed
     * and have not changed too recently to be told apart by their times. */
    fresh = 0;
    if (have && pair_id(sigpath, contpath, id2, sizeof id2, &fresh) == 0 &&
        strcmp(id, id2) == 0 && !fresh)
        keys_remember(dir, path, id, key);
done:
    vl_buf_release(&b);
    free(path);
    return rc;
}
