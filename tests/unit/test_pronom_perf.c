/* Unit tests for the PRONOM engine's fast paths: the Aho-Corasick
 * automaton that prefilters unindexed signatures (against a naive search,
 * overlapping and duplicate patterns, patterns at the ends of a scanned
 * range), the matcher's BOF and EOF windows (never a signature dropped
 * that a full match accepts), and the cache's failure modes (damaged
 * payloads with a valid digest, a foreign layout, a bad arena size, a
 * damaged or stale key index). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A white-box test: it uses ingest/'s private pronom_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "pronom_internal.h"

/* ---- helpers --------------------------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd(void)   /* xorshift: the same cases every run */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static const char *shared(void)
{
    const char *s = getenv("VELLUM_SHARED");
    return s && *s ? s : "/work/shared";
}

static char *tmpdir(void)
{
    char *d = strdup("/tmp/vl-pronom-perf-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void rmdir_all(char *dir)
{
    vl_error err = {0};
    vl_fs_rmtree(dir, &err);
    free(dir);
}

typedef struct hit {
    size_t pat, end;
} hit;

typedef struct hits {
    hit v[200000];
    size_t n;
    size_t stop_after;   /* 0: never stop */
} hits;

static int collect(void *ctx, size_t pat, size_t end)
{
    hits *h = ctx;
    assert_true(h->n < sizeof h->v / sizeof h->v[0]);
    if (h->n)   /* in order of end */
        assert_true(h->v[h->n - 1].end <= end);
    h->v[h->n++] = (hit){pat, end};
    return h->stop_after && h->n >= h->stop_after;
}

static int cmp_hit(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return (x->pat > y->pat) - (x->pat < y->pat);
}

static vl_pronom_ac *ac_of(const uint8_t *const *pat, const size_t *len,
                           size_t n)
{
    vl_pronom_ac *a = NULL;
    vl_error err = {0};
    if (vl_pronom_ac_new(pat, len, n, &a, &err) != VL_OK)
        fail_msg("automaton: %s", err.msg);
    return a;
}

/* Every occurrence wholly inside buf[from, to), by brute force. */
static void naive(const uint8_t *const *pat, const size_t *len, size_t n,
                  const uint8_t *buf, size_t from, size_t to, hits *h)
{
    h->n = 0;
    for (size_t p = 0; p < n; p++)
        for (size_t s = from; len[p] && s + len[p] <= to; s++)
            if (memcmp(buf + s, pat[p], len[p]) == 0)
                h->v[h->n++] = (hit){p, s + len[p]};
    qsort(h->v, h->n, sizeof h->v[0], cmp_hit);
}

static void same_hits(hits *a, hits *b)
{
    qsort(a->v, a->n, sizeof a->v[0], cmp_hit);
    qsort(b->v, b->n, sizeof b->v[0], cmp_hit);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->v[i].pat, b->v[i].pat);
        assert_int_equal(a->v[i].end, b->v[i].end);
    }
}

/* ---- the automaton ------------------------------------------------------------ */

/* Hundreds of patterns over a small alphabet (so that they share
 * prefixes, are suffixes of each other and overlap in the text), some
 * duplicated, some empty: every occurrence in every range, as a naive
 * search finds them. */
static void test_ac_many(void **st)
{
    enum { NP = 400, LEN = 6000 };
    static uint8_t store[NP][16], buf[LEN];
    static hits got, want;
    const uint8_t *pat[NP];
    size_t len[NP];
    vl_pronom_ac *a;
    const size_t ranges[][2] = {{0, LEN}, {0, 0}, {0, 1}, {LEN - 1, LEN},
                                {LEN - 7, LEN}, {5, 17}, {1000, 1013},
                                {LEN / 2, LEN}};

    for (size_t p = 0; p < NP; p++) {
        len[p] = p % 50 == 0 ? 0 : 1 + rnd() % 12;
        for (size_t i = 0; i < len[p]; i++)
            /* mostly a-d, sometimes any byte (0x00 and 0xff included) */
            store[p][i] = rnd() % 8 ? (uint8_t)('a' + rnd() % 4)
                                    : (uint8_t)rnd();
        if (p % 37 == 36) {   /* a duplicate of the one before */
            memcpy(store[p], store[p - 1], len[p - 1]);
            len[p] = len[p - 1];
        }
        pat[p] = store[p];
    }
    for (size_t i = 0; i < LEN; i++)
        buf[i] = rnd() % 16 ? (uint8_t)('a' + rnd() % 4) : (uint8_t)rnd();
    /* a long pattern at the very start and the very end of the buffer */
    memcpy(store[1], buf, 12);
    len[1] = 12;
    memcpy(store[2], buf + LEN - 12, 12);
    len[2] = 12;
    a = ac_of(pat, len, NP);
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        got.n = 0;
        got.stop_after = 0;
        vl_pronom_ac_scan(a, buf, ranges[r][0], ranges[r][1], collect, &got);
        naive(pat, len, NP, buf, ranges[r][0], ranges[r][1], &want);
        same_hits(&got, &want);
        if (r == 0) {   /* the two long ones were found where they are */
            int first = 0, last = 0;
            for (size_t i = 0; i < got.n; i++) {
                first |= got.v[i].pat == 1 && got.v[i].end == 12;
                last |= got.v[i].pat == 2 && got.v[i].end == LEN;
            }
            assert_true(first && last);
        }
    }
    vl_pronom_ac_free(a);
}

/* So many long patterns that the automaton is too big for its full
 * table (more than 32767 nodes): the sparse path finds the same. */
static void test_ac_large(void **st)
{
    enum { NP = 3000, LEN = 4000 };
    static uint8_t store[NP][20], buf[LEN];
    static hits got, want;
    const uint8_t *pat[NP];
    size_t len[NP];
    vl_pronom_ac *a;
    for (size_t i = 0; i < LEN; i++)
        buf[i] = rnd() % 4 ? (uint8_t)('a' + rnd() % 3) : (uint8_t)rnd();
    for (size_t p = 0; p < NP; p++) {
        len[p] = 12 + rnd() % 8;
        for (size_t i = 0; i < len[p]; i++)
            store[p][i] = (uint8_t)rnd();
        if (p % 10 == 0) {   /* some that occur: slices of the text */
            size_t at = rnd() % (LEN - 20);
            len[p] = p % 20 ? 3 + p % 5 : 19;
            memcpy(store[p], buf + at, len[p]);
        }
        pat[p] = store[p];
    }
    a = ac_of(pat, len, NP);
    got.n = 0;
    got.stop_after = 0;
    vl_pronom_ac_scan(a, buf, 0, LEN, collect, &got);
    naive(pat, len, NP, buf, 0, LEN, &want);
    assert_true(want.n >= NP / 20);
    same_hits(&got, &want);
    vl_pronom_ac_free(a);
}

/* The textbook case, suffix chains and duplicates, a stop. */
static void test_ac_overlapping(void **st)
{
    const char *words[] = {"he", "she", "his", "hers", "abcd", "bcd", "cd",
                           "d", "he", ""};
    const uint8_t *pat[10];
    size_t len[10];
    static hits got, want;
    vl_pronom_ac *a;
    const char *text = "ushers abcd hishe";

    for (size_t i = 0; i < 10; i++) {
        pat[i] = (const uint8_t *)words[i];
        len[i] = strlen(words[i]);
    }
    a = ac_of(pat, len, 10);
    got.n = 0;
    got.stop_after = 0;
    vl_pronom_ac_scan(a, (const uint8_t *)text, 0, strlen(text), collect,
                      &got);
    naive(pat, len, 10, (const uint8_t *)text, 0, strlen(text), &want);
    /* she, he, he (dup) at 4; hers at 6; abcd bcd cd d at 11; his at 15;
     * she he he at 17: 12 in all */
    assert_int_equal(want.n, 12);
    same_hits(&got, &want);
    /* A nonzero return stops the scan at once. */
    got.n = 0;
    got.stop_after = 2;
    vl_pronom_ac_scan(a, (const uint8_t *)text, 0, strlen(text), collect,
                      &got);
    assert_int_equal(got.n, 2);
    /* A range that cuts a word: only whole occurrences inside it. */
    got.n = 0;
    got.stop_after = 0;
    vl_pronom_ac_scan(a, (const uint8_t *)text, 8, 10, collect, &got);
    naive(pat, len, 10, (const uint8_t *)text, 8, 10, &want);
    assert_int_equal(want.n, 0);
    same_hits(&got, &want);
    vl_pronom_ac_free(a);

    /* No patterns at all, and only empty ones: nothing, ever. */
    a = ac_of(pat, len, 0);
    got.n = 0;
    vl_pronom_ac_scan(a, (const uint8_t *)text, 0, strlen(text), collect,
                      &got);
    assert_int_equal(got.n, 0);
    vl_pronom_ac_free(a);
    a = ac_of(pat + 9, len + 9, 1);
    vl_pronom_ac_scan(a, (const uint8_t *)text, 0, strlen(text), collect,
                      &got);
    assert_int_equal(got.n, 0);
    vl_pronom_ac_free(a);
}

/* Every byte value as a pattern of its own and after a common first byte:
 * the root and one inner node with all 256 children (every word of the
 * child map, ranks up to 255). */
static void test_ac_all_bytes(void **st)
{
    static uint8_t store[512][2], buf[1024];
    static hits got, want;
    const uint8_t *pat[512];
    size_t len[512];
    vl_pronom_ac *a;
    for (size_t b = 0; b < 256; b++) {
        store[b][0] = (uint8_t)b;
        pat[b] = store[b];
        len[b] = 1;
        store[256 + b][0] = 0x80;
        store[256 + b][1] = (uint8_t)(255 - b);
        pat[256 + b] = store[256 + b];
        len[256 + b] = 2;
    }
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = i % 3 ? (uint8_t)rnd() : 0x80;
    a = ac_of(pat, len, 512);
    got.n = 0;
    got.stop_after = 0;
    vl_pronom_ac_scan(a, buf, 0, sizeof buf, collect, &got);
    naive(pat, len, 512, buf, 0, sizeof buf, &want);
    same_hits(&got, &want);
    vl_pronom_ac_free(a);
}

/* ---- the matcher's windows ------------------------------------------------------ */

/* Unindexed signatures of every kind of place: BOF at an offset range, EOF
 * within a few bytes of the end, variable, and two-sequence ones. */
static const char *window_file =
    "<?xml version=\"1.0\"?>\n"
    "<FFSignatureFile Version=\"7\"><InternalSignatureCollection>"
    "<InternalSignature ID=\"1\"><ByteSequence Reference=\"BOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"4\" SubSeqMaxOffset=\"8\">"
    "<Sequence>CAFEBABE</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "<InternalSignature ID=\"2\"><ByteSequence Reference=\"EOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"4\">"
    "<Sequence>DEADBEEF</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "<InternalSignature ID=\"3\"><ByteSequence>"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\">"
    "<Sequence>FEEDFACE</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "<InternalSignature ID=\"4\"><ByteSequence Reference=\"BOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"64\">"
    "<Sequence>CAFE??BE</Sequence></SubSequence></ByteSequence>"
    "<ByteSequence Reference=\"EOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\">"
    "<Sequence>BEEF</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "<InternalSignature ID=\"5\"><ByteSequence Reference=\"EOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"2\" SubSeqMaxOffset=\"2\">"
    "<Sequence>FACE</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "<InternalSignature ID=\"6\"><ByteSequence Reference=\"BOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"1\" SubSeqMaxOffset=\"1\">"
    "<Sequence>FE</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "</InternalSignatureCollection><FileFormatCollection>"
    "<FileFormat ID=\"1\" PUID=\"t/1\" Name=\"a\"><InternalSignatureID>1"
    "</InternalSignatureID></FileFormat>"
    "<FileFormat ID=\"2\" PUID=\"t/2\" Name=\"b\"><InternalSignatureID>2"
    "</InternalSignatureID></FileFormat>"
    "<FileFormat ID=\"3\" PUID=\"t/3\" Name=\"c\"><InternalSignatureID>3"
    "</InternalSignatureID></FileFormat>"
    "<FileFormat ID=\"4\" PUID=\"t/4\" Name=\"d\"><InternalSignatureID>4"
    "</InternalSignatureID></FileFormat>"
    "<FileFormat ID=\"5\" PUID=\"t/5\" Name=\"e\"><InternalSignatureID>5"
    "</InternalSignatureID></FileFormat>"
    "<FileFormat ID=\"6\" PUID=\"t/6\" Name=\"f\"><InternalSignatureID>6"
    "</InternalSignatureID></FileFormat>"
    "</FileFormatCollection></FFSignatureFile>\n";

/* Random files made of the signatures' bytes, placed near both ends and at
 * the windows' edges: the matcher (prefilter, then full match) finds
 * exactly the signatures a full match of each one finds, for files in one
 * window and for files with separate BOF and EOF windows. */
static void test_matcher_windows(void **st)
{
    static const uint8_t tokens[][4] = {{0xCA, 0xFE, 0xBA, 0xBE},
                                        {0xDE, 0xAD, 0xBE, 0xEF},
                                        {0xFE, 0xED, 0xFA, 0xCE}};
    static uint8_t file[4096];
    vl_pronom_sigfile *f = NULL;
    vl_pronom_matcher *m = NULL;
    vl_error err = {0};
    size_t checked = 0, matched = 0;

    assert_int_equal(vl_pronom_sigfile_load_memory("window.xml", window_file,
                                                   strlen(window_file), &f,
                                                   &err), VL_OK);
    assert_int_equal(vl_pronom_matcher_new(f, &m, &err), VL_OK);
    for (int round = 0; round < 3000; round++) {
        size_t size = 16 + rnd() % (sizeof file - 16);
        size_t win = round % 2 ? size : 8 + rnd() % (size - 8);
        size_t fmt[16], n = 0;
        int want[7] = {0}, got[7] = {0};
        for (size_t i = 0; i < size; i++)
            file[i] = (uint8_t)rnd();
        for (int k = rnd() % 6; k-- > 0;) {
            const uint8_t *t = tokens[rnd() % 3];
            size_t tl = 1 + rnd() % 4;
            long at, jig = (long)(rnd() % 3) - 1;
            /* near the start, near the end, or at a window's edge */
            switch (rnd() % 4) {
            case 0: at = (long)(rnd() % 12); break;
            case 1: at = (long)(size - tl) - (long)(rnd() % 8); break;
            case 2: at = (long)win - (long)tl + jig; break;
            default: at = (long)(size - win) + jig; break;
            }
            if (at < 0)
                at = 0;
            if ((size_t)at + tl > size)
                at = (long)(size - tl);
            memcpy(file + at, rnd() % 2 ? t : t + 4 - tl, tl);
        }
        assert_int_equal(vl_pronom_matcher_run(m, file, win,
                                               file + size - win, win, size,
                                               fmt, NULL, 16, &n), VL_OK);
        for (size_t i = 0; i < n; i++)
            got[f->fmts[fmt[i]].id] = 1;
        for (size_t s = 0; s < f->nsig; s++)
            if (vl_pronom_sig_match(f->sigs[s], file, win, file + size - win,
                                    win, size, NULL, 0))
                want[vl_pronom_sig_id(f->sigs[s])] = 1;
        for (int id = 1; id <= 6; id++) {
            if (want[id] != got[id])
                fail_msg("round %d size %zu window %zu: signature %d "
                         "full match %d, matcher %d", round, size, win, id,
                         want[id], got[id]);
            matched += (size_t)want[id];
        }
        checked++;
    }
    print_message("%zu files, %zu signature matches\n", checked, matched);
    assert_true(matched > 300);   /* the placements do hit */
    vl_pronom_matcher_free(m);
    vl_pronom_sigfile_free(f);
}

/* ---- the cache ------------------------------------------------------------------ */

static char *v122(void)
{
    char *p = vl_asprintf("%s/pronom/DROID_SignatureFile_V122.xml", shared());
    assert_non_null(p);
    return p;
}

static char *cache_file(const char *dir, const char *sig)
{
    char key[65], *name, *p;
    vl_error err = {0};
    assert_int_equal(vl_pronom_cache_key(sig, NULL, key, &err), VL_OK);
    name = vl_asprintf("pronom-%s.bin", key);
    p = vl_path_join(dir, name);
    free(name);
    return p;
}

static void read_all(const char *path, vl_buf *b)
{
    vl_error err = {0};
    vl_buf_init(b, 0);
    assert_int_equal(vl_fs_read_file(path, 64 << 20, b, &err), VL_OK);
}

/* The header, as pronom_cache.c lays it out (layout 2). */
enum { H_LAYOUT = 8, H_SIZE = 12, H_PAYLOAD = 16, H_ARENA = 24, H_KEY = 32,
       H_DIGEST = 96 };

static uint32_t h_size(const vl_buf *b)
{
    uint32_t v;
    memcpy(&v, b->data + H_SIZE, 4);
    return v;
}

/* Re-seal a changed payload: its length and digest set to match, so that
 * only the reader's own checks stand between it and the bytes. */
static void reseal(vl_buf *b)
{
    uint32_t hs = h_size(b);
    uint64_t pl = b->len - hs;
    char hex[VL_DIGEST_HEX_MAX];
    memcpy(b->data + H_PAYLOAD, &pl, 8);
    vl_digest_buffer(VL_SHA256, b->data + hs, b->len - hs, hex);
    memcpy(b->data + H_DIGEST, hex, 64);
}

static int try_read(const char *dir, const char *key, const vl_buf *b,
                    const char *bin)
{
    vl_pronom_sigfile *f = NULL;
    vl_error err = {0};
    int rc;
    assert_int_equal(vl_fs_write_atomic(bin, b->data, b->len, &err), VL_OK);
    rc = vl_pronom_cache_read(dir, key, &f, &err);
    assert_true(rc == VL_OK || rc == VL_EINPUT);
    assert_true(rc == VL_OK ? f != NULL : f == NULL);
    vl_pronom_sigfile_free(f);
    return rc;
}

/* Damage a valid digest cannot catch (the digest made to match): bytes
 * changed, payloads cut short or grown, the arena size wrong.  The reader
 * refuses or reads something, but never reads out of bounds or crashes
 * (run under ASan/UBSan), and the engine always opens. */
static void test_cache_damage_resealed(void **st)
{
    char *sig = v122(), *dir = tmpdir(), *bin;
    char key[65];
    vl_pronom_options o = {sig, NULL, dir};
    vl_pronom *p = NULL;
    vl_error err = {0};
    vl_buf good, b;
    size_t refused = 0, read = 0;
    uint32_t hs;

    assert_int_equal(vl_pronom_open(&o, &p, &err), VL_OK);   /* writes */
    vl_pronom_close(p);
    bin = cache_file(dir, sig);
    memcpy(key, vl_path_basename(bin) + 7, 64);
    key[64] = '\0';
    read_all(bin, &good);
    hs = h_size(&good);
    assert_int_equal(hs, 160);
    assert_int_equal(try_read(dir, key, &good, bin), VL_OK);

    for (int round = 0; round < 150; round++) {
        vl_buf_init(&b, 0);
        assert_int_equal(vl_buf_append(&b, good.data, good.len, &err), VL_OK);
        switch (round % 3) {
        case 0:   /* a few bytes changed anywhere in the payload */
            for (int k = 0; k < 1 + round % 4; k++)
                b.data[hs + rnd() % (good.len - hs)] = (char)rnd();
            break;
        case 1:   /* cut short */
            b.len = hs + rnd() % (good.len - hs);
            break;
        default:  /* counts made huge */
            for (int k = 0; k < 3; k++) {
                size_t at = hs + rnd() % (good.len - hs - 4);
                memset(b.data + at, 0xff, 4);
            }
            break;
        }
        reseal(&b);
        if (try_read(dir, key, &b, bin) == VL_OK)
            read++;
        else
            refused++;
        vl_buf_release(&b);
    }
    print_message("damaged and resealed: %zu refused, %zu read\n", refused,
                  read);
    assert_true(refused > 100);

    /* The arena size: too small still reads (more blocks), absurd is
     * refused before any allocation. */
    vl_buf_init(&b, 0);
    assert_int_equal(vl_buf_append(&b, good.data, good.len, &err), VL_OK);
    memcpy(b.data + H_ARENA, &(uint64_t){16}, 8);
    assert_int_equal(try_read(dir, key, &b, bin), VL_OK);
    memcpy(b.data + H_ARENA, &(uint64_t){UINT64_MAX / 2}, 8);
    assert_int_equal(try_read(dir, key, &b, bin), VL_EINPUT);
    /* Another layout (the old one), and another key: foreign. */
    memcpy(b.data, good.data, hs);
    memcpy(b.data + H_LAYOUT, &(uint32_t){1}, 4);
    assert_int_equal(try_read(dir, key, &b, bin), VL_EINPUT);
    memcpy(b.data, good.data, hs);
    b.data[H_KEY] ^= 1;
    assert_int_equal(try_read(dir, key, &b, bin), VL_EINPUT);
    /* Nothing but a header; then empty. */
    b.len = hs;
    memcpy(b.data, good.data, hs);
    reseal(&b);
    assert_int_equal(try_read(dir, key, &b, bin), VL_EINPUT);
    b.len = 0;
    assert_int_equal(try_read(dir, key, &b, bin), VL_EINPUT);
    vl_buf_release(&b);

    /* The engine over a foreign cache: opens, and the cache is rewritten. */
    assert_int_equal(vl_pronom_open(&o, &p, &err), VL_OK);
    assert_string_equal(vl_pronom_signature_version(p), "V122");
    vl_pronom_close(p);
    read_all(bin, &b);
    assert_int_equal(b.len, good.len);
    assert_memory_equal(b.data, good.data, good.len);
    vl_buf_release(&b);
    /* A folder where the cache file should be: ignored, still opens. */
    assert_int_equal(unlink(bin), 0);
    assert_int_equal(mkdir(bin, 0700), 0);
    assert_int_equal(vl_pronom_open(&o, &p, &err), VL_OK);
    vl_pronom_close(p);

    vl_buf_release(&good);
    free(bin);
    free(sig);
    rmdir_all(dir);
}

/* The key index: written on a first open of files that have not changed
 * lately, used after, and any damage to it is ignored. */
static void test_cache_key_index(void **st)
{
    char *sig = v122(), *dir = tmpdir(), *idx = vl_path_join(dir, "pronom-keys");
    char key[65];
    vl_pronom_options o = {sig, NULL, dir};
    vl_pronom *p = NULL;
    vl_error err = {0};
    vl_buf b;
    const char *damage[] = {
        "", "garbage\n", "S 1 2 3 C -\n", "\n\n\n",
        "no newline at the end, and long ", NULL};

    assert_int_equal(vl_pronom_cache_key(sig, NULL, key, &err), VL_OK);
    assert_int_equal(vl_pronom_open(&o, &p, &err), VL_OK);
    vl_pronom_close(p);
    read_all(idx, &b);
    assert_non_null(strstr(b.data, key));   /* remembered */
    assert_int_equal(b.data[b.len - 1], '\n');
    {
        /* The remembered key is the one given back. */
        char k2[65];
        assert_int_equal(vl_pronom_cache_key_remembered(dir, sig, NULL, k2,
                                                        &err), VL_OK);
        assert_string_equal(k2, key);
    }
    /* A remembered key that is wrong (a damaged line that still parses):
     * the engine opens, as from a cache miss. */
    {
        char *bad = strdup(b.data), *k = strstr(bad, key), k2[65];
        k[0] = k[0] == '0' ? '1' : '0';
        assert_int_equal(vl_fs_write_atomic(idx, bad, strlen(bad), &err),
                         VL_OK);
        assert_int_equal(vl_pronom_cache_key_remembered(dir, sig, NULL, k2,
                                                        &err), VL_OK);
        assert_string_not_equal(k2, key);
        assert_int_equal(vl_pronom_open(&o, &p, &err), VL_OK);
        assert_string_equal(vl_pronom_signature_version(p), "V122");
        vl_pronom_close(p);
        free(bad);
    }
    for (size_t i = 0; damage[i]; i++) {
        char k2[65];
        assert_int_equal(vl_fs_write_atomic(idx, damage[i], strlen(damage[i]),
                                            &err), VL_OK);
        assert_int_equal(vl_pronom_cache_key_remembered(dir, sig, NULL, k2,
                                                        &err), VL_OK);
        assert_string_equal(k2, key);   /* hashed again, and right */
    }
    /* Binary junk and an oversized index: ignored too. */
    {
        static char junk[70000];
        char k2[65];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (char)rnd();
        assert_int_equal(vl_fs_write_atomic(idx, junk, sizeof junk, &err),
                         VL_OK);
        assert_int_equal(vl_pronom_cache_key_remembered(dir, sig, NULL, k2,
                                                        &err), VL_OK);
        assert_string_equal(k2, key);
    }
    vl_buf_release(&b);
    free(idx);
    free(sig);
    rmdir_all(dir);
}

/* A signature file changed in place keeping its size and mtime: ctime
 * still changes, so the stale key is not used.  (Needs a file older than
 * the index's few racy seconds: one sleep.) */
static void test_cache_key_stale(void **st)
{
    const char *a =
        "<?xml version=\"1.0\"?>\n<FFSignatureFile Version=\"1\">"
        "<InternalSignatureCollection><InternalSignature ID=\"1\">"
        "<ByteSequence Reference=\"BOFoffset\"><SubSequence Position=\"1\" "
        "SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"0\"><Sequence>41414141"
        "</Sequence></SubSequence></ByteSequence></InternalSignature>"
        "</InternalSignatureCollection><FileFormatCollection>"
        "<FileFormat ID=\"1\" PUID=\"t/1\" Name=\"x\"><InternalSignatureID>1"
        "</InternalSignatureID></FileFormat></FileFormatCollection>"
        "</FFSignatureFile>\n";
    char *dir = tmpdir(), *sig = vl_path_join(dir, "sig.xml"), *b;
    vl_pronom_options o = {sig, NULL, dir};
    vl_pronom *p = NULL;
    vl_pronom_result r;
    vl_error err = {0};
    struct stat sst;
    struct timespec times[2];

    assert_int_equal(vl_fs_write_atomic(sig, a, strlen(a), &err), VL_OK);
    assert_int_equal(stat(sig, &sst), 0);
    sleep(4);
    assert_int_equal(vl_pronom_open(&o, &p, &err), VL_OK);
    assert_int_equal(vl_pronom_identify(p, (const uint8_t *)"AAAA", 4,
                                        (const uint8_t *)"AAAA", 4, 4, NULL,
                                        NULL, &r, &err), VL_OK);
    assert_int_equal(r.n, 1);
    vl_pronom_close(p);
    assert_true(vl_fs_exists(dir) && access(sig, R_OK) == 0);
    {
        char *idx = vl_path_join(dir, "pronom-keys");
        assert_true(vl_fs_exists(idx));   /* the key was remembered */
        free(idx);
    }
    /* Same size, same mtime, other bytes: 41414141 -> 42424242. */
    b = strdup(a);
    memcpy(strstr(b, "41414141"), "42424242", 8);
    {
        int fd = open(sig, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(vl_fs_write_all(fd, b, strlen(b)), 0);
        close(fd);
    }
    times[0] = sst.st_atim;
    times[1] = sst.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, sig, times, 0), 0);
    assert_int_equal(vl_pronom_open(&o, &p, &err), VL_OK);
    assert_int_equal(vl_pronom_identify(p, (const uint8_t *)"AAAA", 4,
                                        (const uint8_t *)"AAAA", 4, 4, NULL,
                                        NULL, &r, &err), VL_OK);
    assert_int_equal(r.n, 0);
    assert_int_equal(vl_pronom_identify(p, (const uint8_t *)"BBBB", 4,
                                        (const uint8_t *)"BBBB", 4, 4, NULL,
                                        NULL, &r, &err), VL_OK);
    assert_int_equal(r.n, 1);
    vl_pronom_close(p);
    free(b);
    free(sig);
    rmdir_all(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ac_many),
        cmocka_unit_test(test_ac_large),
        cmocka_unit_test(test_ac_overlapping),
        cmocka_unit_test(test_ac_all_bytes),
        cmocka_unit_test(test_matcher_windows),
        cmocka_unit_test(test_cache_damage_resealed),
        cmocka_unit_test(test_cache_key_index),
        cmocka_unit_test(test_cache_key_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
