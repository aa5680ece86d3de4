/* OLE2 compound files (MS-CFB), read for the container signatures.  See
 * ole2.h for what is checked; the layout, in brief:
 *   header (512 bytes; the first sector, 512 or 4096 bytes long), then
 *   sectors numbered from 0; sector n starts at (n + 1) * sector size.
 *   The FAT gives each sector's successor in its chain; the FAT's own
 *   sectors are listed by the DIFAT (109 entries in the header, the rest in
 *   a chain of DIFAT sectors).  Streams smaller than the cutoff (4096) live
 *   in 64-byte mini sectors inside the mini stream (the root entry's
 *   stream), chained by the mini FAT.  The directory is a chain of 128-byte
 *   entries; each storage's children form a red-black tree of siblings. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ole2.h"

#define SECT_MAXREG 0xFFFFFFFAu
#define SECT_END 0xFFFFFFFEu
#define SECT_FREE 0xFFFFFFFFu
#define NOSTREAM 0xFFFFFFFFu

#define HEADER_LEN 512
#define DIR_ENTRY_LEN 128
#define MINI_SECTOR 64
#define MINI_CUTOFF 4096
#define HEADER_DIFAT 109
/* Storages nested deeper than this are refused: no real document comes
 * close, and it bounds every path's length. */
#define MAX_DEPTH 64

/* Chain states, worked out once per table (see classify). */
enum { CH_UNKNOWN = 0, CH_WALKING, CH_GOOD, CH_BAD };

typedef struct ole2_entry {
    char *path;
    int is_stream;
    uint64_t size;
    uint32_t start;
} ole2_entry;

struct vl_ole2 {
    int fd;
    char *shown;
    uint64_t file_size;
    uint32_t ssz;          /* sector size: 512 or 4096 */
    uint32_t nsect;        /* sectors after the header, a partial last one too */
    uint32_t *fat;
    uint32_t nfat;
    uint8_t *fat_state;    /* CH_* per FAT entry */
    uint32_t *minifat;
    uint32_t nminifat;
    uint8_t *minifat_state;
    uint32_t *ms;          /* the mini stream's sectors, in order */
    uint32_t nms;
    uint64_t ms_size;
    ole2_entry *e;
    size_t n;
};

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int corrupt(const vl_ole2 *h, vl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int corrupt(const vl_ole2 *h, vl_error *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return vl_error_set(err, VL_EINPUT, "%s: corrupt OLE2 compound file: %s",
                        h->shown, what);
}

/* pread until len bytes or the end of the file; the count, or -1. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* len bytes at off inside sector s (s checked against the file).  The last
 * sector may be cut short by the end of the file: what is missing reads as
 * zeros, as other readers do. */
static int read_in_sector(vl_ole2 *h, uint32_t s, uint32_t off, void *buf,
                          size_t len, vl_error *err)
{
    ssize_t r;

    if (s >= h->nsect)
        return corrupt(h, err, "sector %u is beyond the end of the file "
                       "(%u sectors)", s, h->nsect);
    r = pread_full(h->fd, buf, len, ((uint64_t)s + 1) * h->ssz + off);
    if (r < 0)
        return vl_error_sys(err, "%s: cannot read", h->shown);
    memset((char *)buf + r, 0, len - (size_t)r);
    return VL_OK;
}

/* Which entries of a chain table lead, without a loop and without leaving
 * the table, to END: then walking a chain from a GOOD entry ends, and the
 * walk need not count its steps.  Linear: each entry is walked once. */
static int classify(const uint32_t *next, uint32_t n, uint32_t limit,
                    uint8_t *state)
{
    uint32_t *path = malloc((size_t)(n ? n : 1) * sizeof *path);
    uint32_t i, s, len;
    uint8_t result;

    if (!path)
        return -1;
    for (i = 0; i < n; i++) {
        if (state[i] != CH_UNKNOWN)
            continue;
        len = 0;
        s = i;
        for (;;) {
            if (s == SECT_END) {
                result = CH_GOOD;
                break;
            }
            if (s >= n || s >= limit) {
                result = CH_BAD;     /* out of range, free or special */
                break;
            }
            if (state[s] == CH_GOOD || state[s] == CH_BAD) {
                result = state[s];
                break;
            }
            if (state[s] == CH_WALKING) {
                result = CH_BAD;     /* a loop */
                break;
            }
            state[s] = CH_WALKING;
            path[len++] = s;
            s = next[s];
        }
        while (len)
            state[path[--len]] = result;
    }
    free(path);
    return 0;
}

/* Check that a chain may be walked from start: the first sector in range
 * and its chain ending without a loop. */
static int chain_ok(vl_ole2 *h, int mini, uint32_t start, const char *what,
                    vl_error *err)
{
    uint32_t n = mini ? h->nminifat : h->nfat;
    const uint8_t *st = mini ? h->minifat_state : h->fat_state;

    if (start >= n || (!mini && start >= h->nsect))
        return corrupt(h, err, "%s starts at %ssector %u, out of range",
                       what, mini ? "mini " : "", start);
    if (st[start] != CH_GOOD)
        return corrupt(h, err, "the %s chain of %s loops or leaves the "
                       "file", mini ? "mini FAT" : "FAT", what);
    return VL_OK;
}

/* The sectors of a regular chain (checked by chain_ok), at most max. */
static int chain_list(vl_ole2 *h, uint32_t start, uint32_t max,
                      uint32_t **out, uint32_t *n, const char *what,
                      vl_error *err)
{
    uint32_t *v, k = 0, s;
    int rc;

    *out = NULL;
    *n = 0;
    if (start == SECT_END)
        return VL_OK;
    if ((rc = chain_ok(h, 0, start, what, err)) != VL_OK)
        return rc;
    v = malloc((size_t)(max ? max : 1) * sizeof *v);
    if (!v)
        return vl_error_sys(err, "%s: reading %s", h->shown, what);
    for (s = start; s != SECT_END && k < max; s = h->fat[s])
        v[k++] = s;
    *out = v;
    *n = k;
    return VL_OK;
}

/* The whole of a regular chain read into memory (directory, mini FAT). */
static int chain_read(vl_ole2 *h, uint32_t start, uint8_t **out,
                      uint32_t *nsectors, const char *what, vl_error *err)
{
    uint32_t *v = NULL, n = 0, i;
    uint8_t *buf = NULL;
    int rc;

    *out = NULL;
    *nsectors = 0;
    if ((rc = chain_list(h, start, h->nsect, &v, &n, what, err)) != VL_OK)
        goto done;
    if (!n)
        goto done;
    if (!(buf = malloc((size_t)n * h->ssz))) {
        rc = vl_error_sys(err, "%s: reading %s", h->shown, what);
        goto done;
    }
    for (i = 0; i < n; i++)
        if ((rc = read_in_sector(h, v[i], 0, buf + (size_t)i * h->ssz, h->ssz,
                                 err)) != VL_OK)
            goto done;
    *out = buf;
    *nsectors = n;
    buf = NULL;
done:
    free(buf);
    free(v);
    return rc;
}

static int read_header_and_fat(vl_ole2 *h, const uint8_t *hd, vl_error *err)
{
    static const uint8_t sig[8] = {0xD0, 0xCF, 0x11, 0xE0,
                                   0xA1, 0xB1, 0x1A, 0xE1};
    uint16_t major = le16(hd + 26), shift = le16(hd + 30);
    uint32_t nfatsect = le32(hd + 44), difat_next = le32(hd + 68);
    uint32_t ndifat = le32(hd + 72), per, i, k = 0, *fatsect = NULL;
    uint8_t *sec = NULL;
    int rc = VL_OK;

    if (memcmp(hd, sig, 8))
        return corrupt(h, err, "no compound file signature");
    if (le16(hd + 28) != 0xFFFE)
        return corrupt(h, err, "byte order mark is not FFFE");
    if (!((major == 3 && shift == 9) || (major == 4 && shift == 12)))
        return corrupt(h, err, "version %u with sector shift %u",
                       (unsigned)major, (unsigned)shift);
    if (le16(hd + 32) != 6)
        return corrupt(h, err, "mini sector shift %u, not 6",
                       (unsigned)le16(hd + 32));
    if (le32(hd + 56) != MINI_CUTOFF)
        return corrupt(h, err, "mini stream cutoff %u, not 4096",
                       le32(hd + 56));
    h->ssz = 1u << shift;
    if (h->file_size < h->ssz)
        return corrupt(h, err, "%llu bytes, shorter than its header",
                       (unsigned long long)h->file_size);
    {
        uint64_t n = (h->file_size - h->ssz + h->ssz - 1) / h->ssz;
        h->nsect = n > SECT_MAXREG ? SECT_MAXREG : (uint32_t)n;
    }
    if (nfatsect == 0 || nfatsect > h->nsect)
        return corrupt(h, err, "%u FAT sectors in a file of %u sectors",
                       nfatsect, h->nsect);
    if (!(fatsect = malloc((size_t)nfatsect * sizeof *fatsect)) ||
        !(sec = malloc(h->ssz))) {
        rc = vl_error_sys(err, "%s: reading the FAT", h->shown);
        goto done;
    }
    for (i = 0; i < HEADER_DIFAT && k < nfatsect; i++)
        fatsect[k++] = le32(hd + 76 + 4 * i);
    /* The DIFAT chain: each sector holds per entries and the next one's
     * index.  It is walked at most ndifat times (itself at most the file's
     * sector count), so a loop ends there. */
    per = h->ssz / 4 - 1;
    if (ndifat > h->nsect) {
        rc = corrupt(h, err, "%u DIFAT sectors in a file of %u sectors",
                     ndifat, h->nsect);
        goto done;
    }
    for (i = 0; i < ndifat && k < nfatsect; i++) {
        uint32_t j;
        if ((rc = read_in_sector(h, difat_next, 0, sec, h->ssz, err)) !=
            VL_OK)
            goto done;
        for (j = 0; j < per && k < nfatsect; j++)
            fatsect[k++] = le32(sec + 4 * j);
        difat_next = le32(sec + 4 * per);
    }
    if (k < nfatsect) {
        rc = corrupt(h, err, "the DIFAT lists %u of its %u FAT sectors", k,
                     nfatsect);
        goto done;
    }
    h->nfat = (uint32_t)((uint64_t)nfatsect * h->ssz / 4);
    if (!(h->fat = malloc((size_t)nfatsect * h->ssz)) ||
        !(h->fat_state = calloc(h->nfat, 1))) {
        rc = vl_error_sys(err, "%s: reading the FAT", h->shown);
        goto done;
    }
    for (i = 0; i < nfatsect; i++) {
        uint32_t j;
        if ((rc = read_in_sector(h, fatsect[i], 0, sec, h->ssz, err)) !=
            VL_OK)
            goto done;
        for (j = 0; j < h->ssz / 4; j++)
            h->fat[(size_t)i * (h->ssz / 4) + j] = le32(sec + 4 * j);
    }
    if (classify(h->fat, h->nfat, h->nsect, h->fat_state) < 0)
        rc = vl_error_sys(err, "%s: reading the FAT", h->shown);
done:
    free(fatsect);
    free(sec);
    return rc;
}

static int read_minifat(vl_ole2 *h, uint32_t start, vl_error *err)
{
    uint8_t *buf = NULL;
    uint32_t n = 0, i;
    int rc;

    if (start == SECT_END || start == SECT_FREE)
        return VL_OK;                    /* no mini FAT: no small streams */
    if ((rc = chain_read(h, start, &buf, &n, "the mini FAT", err)) != VL_OK)
        return rc;
    h->nminifat = (uint32_t)((uint64_t)n * h->ssz / 4);
    h->minifat = malloc((size_t)(h->nminifat ? h->nminifat : 1) *
                        sizeof *h->minifat);
    h->minifat_state = calloc(h->nminifat ? h->nminifat : 1, 1);
    if (!h->minifat || !h->minifat_state) {
        rc = vl_error_sys(err, "%s: reading the mini FAT", h->shown);
        goto done;
    }
    for (i = 0; i < h->nminifat; i++)
        h->minifat[i] = le32(buf + 4 * (size_t)i);
    /* A mini sector must lie inside the mini stream (known later, so
     * checked again when read); here only the table's own bounds. */
    if (classify(h->minifat, h->nminifat, h->nminifat, h->minifat_state) < 0)
        rc = vl_error_sys(err, "%s: reading the mini FAT", h->shown);
done:
    free(buf);
    return rc;
}

/* UTF-16LE (units, stopping at a NUL) to UTF-8; bad surrogates become
 * U+FFFD.  out holds at least 3 * units + 1 bytes. */
static void utf16_to_utf8(const uint8_t *p, size_t units, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < units; i++) {
        uint32_t c = le16(p + 2 * i);
        if (c == 0)
            break;
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < units &&
            le16(p + 2 * i + 2) >= 0xDC00 && le16(p + 2 * i + 2) <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (le16(p + 2 * i + 2) - 0xDC00);
            i++;
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            c = 0xFFFD;
        }
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | c >> 12);
            out[o++] = (char)(0x80 | (c >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | c >> 18);
            out[o++] = (char)(0x80 | (c >> 12 & 0x3F));
            out[o++] = (char)(0x80 | (c >> 6 & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = 0;
}

typedef struct dir_raw {
    const uint8_t *p;      /* the 128 bytes */
    uint32_t left, right, child;
    uint8_t type;
} dir_raw;

/* Work item: a storage whose children are still to be listed. */
typedef struct pending {
    uint32_t dir;          /* its directory entry */
    size_t out;            /* its entry in h->e, or (size_t)-1 for the root */
    unsigned depth;
} pending;

static int add_entry(vl_ole2 *h, const char *parent, const dir_raw *d,
                     uint16_t major, vl_error *err)
{
    char name[32 * 4 + 1];
    uint16_t nlen = le16(d->p + 64);
    size_t units = nlen / 2 > 32 ? 32 : nlen / 2;
    ole2_entry *e = &h->e[h->n];

    /* Lenient on the name length, as other readers are: at most the 32
     * units the field holds, ending at the first NUL. */
    utf16_to_utf8(d->p, units, name);
    e->path = parent ? vl_asprintf("%s/%s", parent, name) : vl_strdup(name);
    if (!e->path)
        return vl_error_sys(err, "%s: reading the directory", h->shown);
    e->is_stream = d->type == 2;
    e->start = le32(d->p + 116);
    /* Version 3 files may leave junk in the size's high half (MS-CFB
     * 2.6.3): only the low 32 bits count there. */
    e->size = major == 3 ? le32(d->p + 120) : le64(d->p + 120);
    if (!e->is_stream)
        e->size = 0;
    h->n++;
    return VL_OK;
}

static int read_directory(vl_ole2 *h, uint32_t start, uint16_t major,
                          vl_error *err)
{
    uint8_t *buf = NULL, *seen = NULL;
    uint32_t nsec = 0, ndir, i, *stack = NULL;
    dir_raw *d = NULL;
    pending *work = NULL;
    size_t nwork = 0, w = 0;
    int rc;

    if ((rc = chain_read(h, start, &buf, &nsec, "the directory", err)) !=
        VL_OK)
        return rc;
    ndir = (uint32_t)((uint64_t)nsec * h->ssz / DIR_ENTRY_LEN);
    if (ndir == 0) {
        rc = corrupt(h, err, "empty directory");
        goto done;
    }
    d = calloc(ndir, sizeof *d);
    seen = calloc(ndir, 1);
    stack = malloc((size_t)ndir * sizeof *stack);
    work = malloc((size_t)ndir * sizeof *work);
    h->e = calloc(ndir, sizeof *h->e);
    if (!d || !seen || !stack || !work || !h->e) {
        rc = vl_error_sys(err, "%s: reading the directory", h->shown);
        goto done;
    }
    for (i = 0; i < ndir; i++) {
        d[i].p = buf + (size_t)i * DIR_ENTRY_LEN;
        d[i].type = d[i].p[66];
        d[i].left = le32(d[i].p + 68);
        d[i].right = le32(d[i].p + 72);
        d[i].child = le32(d[i].p + 76);
    }
    if (d[0].type != 5) {
        rc = corrupt(h, err, "the first directory entry is not the root");
        goto done;
    }
    /* The mini stream is the root's stream. */
    h->ms_size = major == 3 ? le32(d[0].p + 120) : le64(d[0].p + 120);
    if (h->ms_size > (uint64_t)h->nsect * h->ssz) {
        rc = corrupt(h, err, "a mini stream of %llu bytes in a file of %llu",
                     (unsigned long long)h->ms_size,
                     (unsigned long long)h->file_size);
        goto done;
    }
    if (h->ms_size) {
        uint32_t need = (uint32_t)((h->ms_size + h->ssz - 1) / h->ssz);
        if ((rc = chain_list(h, le32(d[0].p + 116), need, &h->ms, &h->nms,
                             "the mini stream", err)) != VL_OK)
            goto done;
        if (h->nms < need) {
            rc = corrupt(h, err, "the mini stream's chain has %u sectors, "
                         "its size needs %u", h->nms, need);
            goto done;
        }
    }
    /* Breadth first over storages, each sibling tree walked in order with
     * an explicit stack; an entry met twice means the tree is not a tree
     * (a cycle, or shared), refused. */
    seen[0] = 1;
    work[nwork++] = (pending){0, (size_t)-1, 0};
    while (w < nwork) {
        pending p = work[w++];
        size_t sp = 0;
        uint32_t cur = d[p.dir].child;
        /* h->e was sized for every entry at once, so this stays put. */
        const char *parent = p.out == (size_t)-1 ? NULL : h->e[p.out].path;

        if (p.depth >= MAX_DEPTH) {
            rc = corrupt(h, err, "storages nested deeper than %d", MAX_DEPTH);
            goto done;
        }
        while (cur != NOSTREAM || sp) {
            while (cur != NOSTREAM) {
                if (cur >= ndir) {
                    rc = corrupt(h, err, "directory entry %u refers to entry "
                                 "%u of %u", p.dir, cur, ndir);
                    goto done;
                }
                if (seen[cur]) {
                    rc = corrupt(h, err, "directory entry %u is reached "
                                 "twice (a cycle in the directory tree)", cur);
                    goto done;
                }
                seen[cur] = 1;
                stack[sp++] = cur;
                cur = d[cur].left;
            }
            cur = stack[--sp];
            if (d[cur].type != 1 && d[cur].type != 2) {
                rc = corrupt(h, err, "directory entry %u of type %u in the "
                             "tree", cur, (unsigned)d[cur].type);
                goto done;
            }
            if ((rc = add_entry(h, parent, &d[cur], major, err)) != VL_OK)
                goto done;
            if (d[cur].type == 1 && d[cur].child != NOSTREAM)
                work[nwork++] = (pending){cur, h->n - 1, p.depth + 1};
            cur = d[cur].right;
        }
    }
done:
    free(buf);
    free(seen);
    free(stack);
    free(work);
    free(d);
    return rc;
}

int vl_ole2_open(const char *path, const char *shown, vl_ole2 **out,
                 vl_error *err)
{
    vl_ole2 *h = calloc(1, sizeof *h);
    uint8_t hd[HEADER_LEN];
    struct stat st;
    ssize_t r;
    int rc;

    *out = NULL;
    if (!h)
        return vl_error_sys(err, "%s: opening", shown ? shown : path);
    h->fd = -1;
    if (!(h->shown = vl_name_shorten(shown ? shown : path,
                                     VL_NAME_SHOWN_MAX))) {
        rc = vl_error_sys(err, "opening an OLE2 file");
        goto done;
    }
    if ((h->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = vl_error_sys(err, "%s: cannot open", h->shown);
        goto done;
    }
    if (fstat(h->fd, &st) < 0) {
        rc = vl_error_sys(err, "%s: cannot stat", h->shown);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: not a regular file", h->shown);
        goto done;
    }
    h->file_size = (uint64_t)st.st_size;
    if ((r = pread_full(h->fd, hd, sizeof hd, 0)) < 0) {
        rc = vl_error_sys(err, "%s: cannot read", h->shown);
        goto done;
    }
    if (r < HEADER_LEN) {
        rc = corrupt(h, err, "%zd bytes, shorter than its header", r);
        goto done;
    }
    if ((rc = read_header_and_fat(h, hd, err)) != VL_OK ||
        (rc = read_minifat(h, le32(hd + 60), err)) != VL_OK ||
        (rc = read_directory(h, le32(hd + 48), le16(hd + 26), err)) != VL_OK)
        goto done;
    *out = h;
    h = NULL;
done:
    vl_ole2_close(h);
    return rc;
}

void vl_ole2_close(vl_ole2 *h)
{
    size_t i;

    if (!h)
        return;
    if (h->fd >= 0)
        close(h->fd);
    for (i = 0; i < h->n; i++)
        free(h->e[i].path);
    free(h->e);
    free(h->fat);
    free(h->fat_state);
    free(h->minifat);
    free(h->minifat_state);
    free(h->ms);
    free(h->shown);
    free(h);
}

size_t vl_ole2_count(const vl_ole2 *h) { return h->n; }

void vl_ole2_entry(const vl_ole2 *h, size_t i, const char **name,
                   int *is_stream, uint64_t *size)
{
    if (name)
        *name = h->e[i].path;
    if (is_stream)
        *is_stream = h->e[i].is_stream;
    if (size)
        *size = h->e[i].size;
}

/* Bytes [off, off + len) of the mini stream, len within one mini sector. */
static int read_mini(vl_ole2 *h, uint64_t off, uint8_t *buf, size_t len,
                     vl_error *err)
{
    uint64_t k = off / h->ssz;

    if (off + len > h->ms_size || k >= h->nms)
        return corrupt(h, err, "mini sector at %llu is beyond the mini "
                       "stream (%llu bytes)", (unsigned long long)off,
                       (unsigned long long)h->ms_size);
    return read_in_sector(h, h->ms[k], (uint32_t)(off % h->ssz), buf, len,
                          err);
}

int vl_ole2_read_at(vl_ole2 *h, size_t i, uint64_t off, void *buf,
                    size_t cap, size_t *len, vl_error *err)
{
    const ole2_entry *e = &h->e[i];
    int mini = e->size < MINI_CUTOFF;
    uint32_t unit = mini ? MINI_SECTOR : h->ssz, s;
    uint64_t want, k, pos;
    uint8_t *out = buf;
    size_t got = 0;
    int rc;

    *len = 0;
    if (!e->is_stream || off >= e->size || cap == 0)
        return VL_OK;
    want = e->size - off < cap ? e->size - off : cap;
    if (!mini && e->size > (uint64_t)h->nsect * h->ssz)
        return corrupt(h, err, "stream %s of %llu bytes is larger than the "
                       "file", e->path, (unsigned long long)e->size);
    if ((rc = chain_ok(h, mini, e->start, e->path, err)) != VL_OK)
        return rc;
    /* To the sector holding off: the chain is known to end, and each step
     * is checked for its end. */
    s = e->start;
    for (k = off / unit; k > 0; k--) {
        s = mini ? h->minifat[s] : h->fat[s];
        if (s == SECT_END)
            return corrupt(h, err, "stream %s ends before its size",
                           e->path);
    }
    pos = off % unit;
    while (got < want) {
        size_t chunk = unit - pos < want - got ? unit - pos : want - got;
        if (s == SECT_END)
            return corrupt(h, err, "stream %s ends before its size",
                           e->path);
        rc = mini ? read_mini(h, (uint64_t)s * MINI_SECTOR + pos, out + got,
                              chunk, err)
                  : read_in_sector(h, s, (uint32_t)pos, out + got, chunk,
                                   err);
        if (rc != VL_OK)
            return rc;
        got += chunk;
        pos = 0;
        s = mini ? h->minifat[s] : h->fat[s];
    }
    *len = got;
    return VL_OK;
}

int vl_ole2_read(vl_ole2 *h, size_t i, void *buf, size_t cap, size_t *len,
                 vl_error *err)
{
    return vl_ole2_read_at(h, i, 0, buf, cap, len, err);
}
