/* A tiny OLE2 compound-file writer for the tests (version 3, 512-byte
 * sectors), so that fixtures are made at test time rather than kept as
 * binary files.  Layout, fixed so that tests can corrupt a known place:
 *   header, then FAT sectors from sector 0, the directory, the mini FAT,
 *   the mini stream, and each large stream's sectors in turn.
 * Streams under 4096 bytes go in the mini stream.  Each storage's children
 * form a balanced binary tree in the order given (so a reader listing them
 * in order gives them back in that order); colours are all black, which no
 * reader here checks. */
#ifndef VL_TEST_OLE2_WRITER_H
#define VL_TEST_OLE2_WRITER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct ow_item {
    const char *path;      /* "Storage/Stream", storages listed first */
    const void *data;      /* stream bytes (NULL for a storage) */
    size_t len;
    int storage;
} ow_item;

#define OW_SSZ 512u
#define OW_END 0xFFFFFFFEu
#define OW_FREE 0xFFFFFFFFu

static inline void ow_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void ow_put32(uint8_t *p, uint32_t v)
{
    ow_put16(p, v);
    ow_put16(p + 2, v >> 16);
}

/* The directory entry index (1-based: 0 is the root) of path's parent. */
static inline uint32_t ow_parent(const ow_item *it, size_t n, size_t i)
{
    const char *slash = strrchr(it[i].path, '/');
    size_t k, plen;

    if (!slash)
        return 0;
    plen = (size_t)(slash - it[i].path);
    for (k = 0; k < i; k++)
        if (it[k].storage && strlen(it[k].path) == plen &&
            !memcmp(it[k].path, it[i].path, plen))
            return (uint32_t)(k + 1);
    (void)n;
    return 0;
}

/* Balanced tree over kids[lo, hi): returns its top, sets left and right. */
static inline uint32_t ow_tree(uint8_t *dir, const uint32_t *kids, size_t lo,
                               size_t hi)
{
    size_t mid;
    uint8_t *e;

    if (lo >= hi)
        return OW_FREE;
    mid = lo + (hi - lo) / 2;
    e = dir + (size_t)kids[mid] * 128;
    ow_put32(e + 68, ow_tree(dir, kids, lo, mid));
    ow_put32(e + 72, ow_tree(dir, kids, mid + 1, hi));
    return kids[mid];
}

/* UTF-8 (BMP only, enough for tests) to the 64-byte UTF-16LE name field;
 * returns the name length field (bytes, with the NUL). */
static inline uint32_t ow_name(uint8_t *e, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t u = 0;

    while (*p && u < 31) {
        uint32_t c = *p++;
        if (c >= 0xE0) {
            c = (c & 0x0F) << 12 | (uint32_t)(p[0] & 0x3F) << 6 | (p[1] & 0x3F);
            p += 2;
        } else if (c >= 0xC0) {
            c = (c & 0x1F) << 6 | (p[0] & 0x3F);
            p++;
        }
        ow_put16(e + 2 * u++, c);
    }
    return (u + 1) * 2;
}

/* The file's bytes (malloc'd) and their count. */
static inline uint8_t *ow_build(const ow_item *it, size_t n, size_t *outlen)
{
    size_t ndir = n + 1, i, k;
    uint32_t nmini = 0, nbig = 0, dsec, mfsec, mssec, f, other, total;
    uint32_t next_mini = 0, next_big, *kids;
    uint8_t *file, *fat, *dir, *minifat, *ms;

    for (i = 0; i < n; i++) {
        if (it[i].storage)
            continue;
        if (it[i].len < 4096)
            nmini += (uint32_t)((it[i].len + 63) / 64);
        else
            nbig += (uint32_t)((it[i].len + OW_SSZ - 1) / OW_SSZ);
    }
    dsec = (uint32_t)((ndir + 3) / 4);
    mfsec = (nmini * 4 + OW_SSZ - 1) / OW_SSZ;
    mssec = (nmini * 64 + OW_SSZ - 1) / OW_SSZ;
    other = dsec + mfsec + mssec + nbig;
    for (f = 1; f * (OW_SSZ / 4) < f + other; f++)
        ;
    total = f + other;
    file = calloc((size_t)(total + 1) * OW_SSZ, 1);
    kids = malloc((n + 1) * sizeof *kids);
    if (!file || !kids || f > 109)
        abort();
    fat = file + OW_SSZ;
    dir = fat + (size_t)f * OW_SSZ;
    minifat = dir + (size_t)dsec * OW_SSZ;
    ms = minifat + (size_t)mfsec * OW_SSZ;
    /* Header. */
    memcpy(file, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
    ow_put16(file + 24, 0x3E);
    ow_put16(file + 26, 3);
    ow_put16(file + 28, 0xFFFE);
    ow_put16(file + 30, 9);
    ow_put16(file + 32, 6);
    ow_put32(file + 44, f);
    ow_put32(file + 48, f);
    ow_put32(file + 56, 4096);
    ow_put32(file + 60, mfsec ? f + dsec : OW_END);
    ow_put32(file + 64, mfsec);
    ow_put32(file + 68, OW_END);
    for (i = 0; i < 109; i++)
        ow_put32(file + 76 + 4 * i, i < f ? (uint32_t)i : OW_FREE);
    /* FAT. */
    for (i = 0; i < (size_t)f * (OW_SSZ / 4); i++)
        ow_put32(fat + 4 * i, i < f ? 0xFFFFFFFDu : OW_FREE);
#define OW_CHAIN(first, count)                                               \
    for (k = 0; k < (count); k++)                                            \
        ow_put32(fat + 4 * ((first) + k),                                    \
                 k + 1 < (count) ? (uint32_t)((first) + k + 1) : OW_END)
    OW_CHAIN(f, dsec);
    OW_CHAIN(f + dsec, mfsec);
    OW_CHAIN(f + dsec + mfsec, mssec);
    for (i = 0; i < (size_t)mfsec * (OW_SSZ / 4); i++)
        ow_put32(minifat + 4 * i, OW_FREE);
    /* Directory: every entry's links empty to start with. */
    for (i = 0; i < (size_t)dsec * 4; i++) {
        ow_put32(dir + 128 * i + 68, OW_FREE);
        ow_put32(dir + 128 * i + 72, OW_FREE);
        ow_put32(dir + 128 * i + 76, OW_FREE);
    }
    ow_put16(dir + 64, ow_name(dir, "Root Entry"));
    dir[66] = 5;
    dir[67] = 1;
    ow_put32(dir + 116, mssec ? f + dsec + mfsec : OW_END);
    ow_put32(dir + 120, nmini * 64);
    next_big = f + dsec + mfsec + mssec;
    for (i = 0; i < n; i++) {
        uint8_t *e = dir + 128 * (i + 1);
        const char *slash = strrchr(it[i].path, '/');
        ow_put16(e + 64, ow_name(e, slash ? slash + 1 : it[i].path));
        e[66] = it[i].storage ? 1 : 2;
        e[67] = 1;
        ow_put32(e + 116, OW_END);
        if (it[i].storage || it[i].len == 0)
            continue;
        ow_put32(e + 120, (uint32_t)it[i].len);
        if (it[i].len < 4096) {
            uint32_t cnt = (uint32_t)((it[i].len + 63) / 64);
            ow_put32(e + 116, next_mini);
            for (k = 0; k < cnt; k++)
                ow_put32(minifat + 4 * (next_mini + k),
                         k + 1 < cnt ? next_mini + (uint32_t)k + 1 : OW_END);
            memcpy(ms + (size_t)next_mini * 64, it[i].data, it[i].len);
            next_mini += cnt;
        } else {
            uint32_t cnt = (uint32_t)((it[i].len + OW_SSZ - 1) / OW_SSZ);
            ow_put32(e + 116, next_big);
            OW_CHAIN(next_big, cnt);
            memcpy(file + (size_t)(next_big + 1) * OW_SSZ, it[i].data,
                   it[i].len);
            next_big += cnt;
        }
    }
#undef OW_CHAIN
    /* Each storage's children (the root's too) as a balanced tree. */
    for (i = 0; i <= n; i++) {
        size_t nk = 0;
        if (i > 0 && !it[i - 1].storage)
            continue;
        for (k = 0; k < n; k++)
            if (ow_parent(it, n, k) == i)
                kids[nk++] = (uint32_t)(k + 1);
        ow_put32(dir + 128 * i + 76, ow_tree(dir, kids, 0, nk));
    }
    free(kids);
    *outlen = (size_t)(total + 1) * OW_SSZ;
    return file;
}

/* Where directory entry i is in a file ow_build made. */
static inline size_t ow_dir_offset(const uint8_t *file, size_t i)
{
    uint32_t first = (uint32_t)file[48] | (uint32_t)file[49] << 8;
    return (size_t)(first + 1) * OW_SSZ + 128 * i;
}

#endif
