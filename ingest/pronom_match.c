/* Many signatures against one file, then DROID's priorities.
 *
 * Which signatures are tried:
 *  - those whose first ByteSequence is anchored at offset 0 of the file
 *    with fixed leading bytes are indexed by their first two bytes (or by
 *    the first one when they have only one): a file tries only those that
 *    start like it;
 *  - every signature has a prefilter string where it has one: the
 *    leading fixed bytes of one of its Sequences (for an indexed one,
 *    not the Sequence the index already checked), which must occur where
 *    that Sequence can be (the first or last N bytes when it is anchored,
 *    else anywhere in the windows).  Those strings are the patterns of one
 *    Aho-Corasick automaton: a file within one window is scanned once, a
 *    bigger one over its BOF window (as far as the farthest reach) and
 *    its EOF window; only signatures whose string occurred get the full
 *    match.  (This replaced a memmem per signature, some 750 passes over
 *    the windows for V122: about 5 ms on a 256 KiB window, now a few
 *    hundred us; gating the indexed signatures too spared the full match
 *    of a hundred XML signatures on every file starting "<?xml".)
 *    Candidates are then tried in signature file order, as before, so
 *    results and their order do not depend on where the strings were found.
 *
 * Windows: the most any signature needs from either end, capped at
 * VL_PRONOM_WINDOW_MAX (256 KiB, the same bound as ingest's identify
 * prefix); unbounded and variable signatures are matched within that. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pronom_internal.h"

#define VL_PRONOM_WINDOW_MAX ((size_t)256 * 1024)
#define RUN_MAX 64      /* matches collected before priorities */

#define REQ_MAX 3       /* prefilter requirements kept per signature */

/* One string of one requirement of one signature. */
typedef struct pre {
    uint32_t sig;
    uint8_t req;         /* which requirement of sig */
    uint8_t from;        /* 0 near the start, 1 near the end, 2 anywhere */
    const uint8_t *lit;
    size_t litlen;
    size_t reach;
} pre;

typedef struct idpair {
    int id;
    size_t idx;
} idpair;

typedef struct extpair {
    const char *ext;
    size_t fmt;
} extpair;

/* ---- Aho-Corasick ------------------------------------------------------------
 * The classic automaton: a trie of the patterns, failure links (the longest
 * proper suffix of a node's string that is also a trie node) and
 * dictionary links (the nearest such suffix where a pattern ends).  The
 * root has a full 256-entry table, since a scan of data matching nothing
 * spends nearly every byte there; any other node has a 256-bit map of its
 * children's bytes and finds a child by the map's rank (popcount), which
 * keeps the whole automaton near 40 bytes a node (about 10,000 nodes for
 * V122) instead of 1 KiB a node for a full table. */
#define AC_NONE UINT32_MAX

/* An automaton this small also gets a full transition table (the
 * matcher keeps its patterns short so that it does): one load per byte. */
#define AC_DENSE_MAX 0x7fffu
#define AC_OUT_BIT 0x8000u

struct vl_pronom_ac {
    uint32_t nnode;
    uint32_t root[256];          /* root's transitions; 0 = stay at root */
    uint16_t (*dense)[256];      /* next node, | AC_OUT_BIT when it ends a
                                    pattern; NULL when too many nodes */
    uint64_t (*map)[4];          /* per node: bytes with a child */
    uint8_t (*below)[4];         /* per node: children in map words < w */
    uint32_t *first;             /* per node: its first child in kids */
    uint32_t *kids;              /* children, grouped by parent, by byte */
    uint32_t *fail;              /* per node */
    uint32_t *out;               /* first pattern ending here, or AC_NONE */
    uint32_t *dict;              /* nearest suffix node with out, AC_NONE */
    uint32_t *pnext;             /* per pattern: next one on its node */
    uint32_t *plen;
};

void vl_pronom_ac_free(vl_pronom_ac *a)
{
    if (!a)
        return;
    free(a->dense);
    free(a->map);
    free(a->below);
    free(a->first);
    free(a->kids);
    free(a->fail);
    free(a->out);
    free(a->dict);
    free(a->pnext);
    free(a->plen);
    free(a);
}

/* Bits set in x, without relying on a popcount instruction (the build
 * targets baseline x86-64, where __builtin_popcountll is a libgcc call). */
static unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & UINT64_C(0x5555555555555555));
    x = (x & UINT64_C(0x3333333333333333)) +
        ((x >> 2) & UINT64_C(0x3333333333333333));
    x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
    return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

static int ac_has(const vl_pronom_ac *a, uint32_t s, unsigned c)
{
    return (int)((a->map[s][c >> 6] >> (c & 63)) & 1);
}

static uint32_t ac_child(const vl_pronom_ac *a, uint32_t s, unsigned c)
{
    uint64_t w = a->map[s][c >> 6] & ((UINT64_C(1) << (c & 63)) - 1);
    return a->kids[a->first[s] + a->below[s][c >> 6] +
                   popcount64(w)];
}

/* The next state from s on byte c (the goto function, failure links
 * followed: each step goes to a shallower node, so a scan is linear).
 */
static uint32_t ac_step(const vl_pronom_ac *a, uint32_t s, unsigned c)
{
    while (s) {
        if (ac_has(a, s, c))
            return ac_child(a, s, c);
        s = a->fail[s];
    }
    return a->root[c];
}

/* The trie while it is built: children as sibling lists. */
typedef struct ac_build {
    uint32_t *kid, *sib;
    uint8_t *byte;
    uint32_t n;
    size_t kcap, scap, ycap;   /* the three arrays grow apart */
} ac_build;

static uint32_t ac_build_node(ac_build *b, uint8_t c)
{
    size_t need = (size_t)b->n + 1;
    if (VL_GROW(b->kid, b->kcap, need, NULL) != VL_OK ||
        VL_GROW(b->sib, b->scap, need, NULL) != VL_OK ||
        VL_GROW(b->byte, b->ycap, need, NULL) != VL_OK)
        return AC_NONE;
    b->kid[b->n] = b->sib[b->n] = AC_NONE;
    b->byte[b->n] = c;
    return b->n++;
}

int vl_pronom_ac_new(const uint8_t *const *pat, const size_t *len, size_t n,
                     vl_pronom_ac **out, vl_error *err)
{
    ac_build b = {0};
    vl_pronom_ac *a = calloc(1, sizeof *a);
    uint32_t *node_of = NULL, *queue = NULL, nk = 0;
    int rc = VL_ESYS;

    *out = NULL;
    if (!a || n >= AC_NONE || !(node_of = calloc(n + 1, sizeof *node_of)) ||
        ac_build_node(&b, 0) == AC_NONE)
        goto nomem;
    /* The trie. */
    for (size_t p = 0; p < n; p++) {
        uint32_t s = 0;
        for (size_t i = 0; i < len[p]; i++) {
            uint32_t k = b.kid[s];
            while (k != AC_NONE && b.byte[k] != pat[p][i])
                k = b.sib[k];
            if (k == AC_NONE) {
                if (b.n >= AC_NONE - 1 ||
                    (k = ac_build_node(&b, pat[p][i])) == AC_NONE)
                    goto nomem;
                b.sib[k] = b.kid[s];
                b.kid[s] = k;
            }
            s = k;
        }
        node_of[p] = len[p] ? s : AC_NONE;
    }
    a->nnode = b.n;
    if (!(a->map = calloc(b.n, sizeof *a->map)) ||
        !(a->below = calloc(b.n, sizeof *a->below)) ||
        !(a->first = calloc(b.n, sizeof *a->first)) ||
        !(a->kids = calloc(b.n, sizeof *a->kids)) ||
        !(a->fail = calloc(b.n, sizeof *a->fail)) ||
        !(a->out = malloc(b.n * sizeof *a->out)) ||
        !(a->dict = malloc(b.n * sizeof *a->dict)) ||
        !(a->pnext = malloc((n + 1) * sizeof *a->pnext)) ||
        !(a->plen = calloc(n + 1, sizeof *a->plen)) ||
        !(queue = malloc(b.n * sizeof *queue)))
        goto nomem;
    /* Children in byte order, found by rank in the map. */
    for (uint32_t s = 0; s < b.n; s++) {
        a->first[s] = nk;
        a->out[s] = a->dict[s] = AC_NONE;
        for (uint32_t k = b.kid[s]; k != AC_NONE; k = b.sib[k])
            a->map[s][b.byte[k] >> 6] |= UINT64_C(1) << (b.byte[k] & 63);
        for (int w = 1; w < 4; w++)
            a->below[s][w] = (uint8_t)(a->below[s][w - 1] +
                              popcount64(a->map[s][w - 1]));
        /* Each child at its rank among its siblings: in byte order. */
        for (uint32_t k = b.kid[s]; k != AC_NONE; k = b.sib[k]) {
            unsigned c = b.byte[k];
            uint64_t lo = a->map[s][c >> 6] & ((UINT64_C(1) << (c & 63)) - 1);
            a->kids[nk + a->below[s][c >> 6] + popcount64(lo)] = k;
        }
        nk += a->below[s][3] + popcount64(a->map[s][3]);
    }
    for (unsigned c = 0; c < 256; c++)
        a->root[c] = ac_has(a, 0, c) ? ac_child(a, 0, c) : 0;
    /* Patterns on their nodes, the first pattern listed first. */
    for (size_t p = n; p-- > 0;) {
        a->plen[p] = (uint32_t)len[p];
        a->pnext[p] = AC_NONE;
        if (node_of[p] == AC_NONE)
            continue;
        a->pnext[p] = a->out[node_of[p]];
        a->out[node_of[p]] = (uint32_t)p;
    }
    /* Failure and dictionary links, breadth first: a node's suffixes are
     * shallower, so they are done before it. */
    {
        uint32_t head = 0, tail = 0;
        for (uint32_t k = b.kid[0]; k != AC_NONE; k = b.sib[k]) {
            a->fail[k] = 0;
            queue[tail++] = k;
        }
        while (head < tail) {
            uint32_t u = queue[head++];
            for (uint32_t k = b.kid[u]; k != AC_NONE; k = b.sib[k]) {
                uint32_t f = ac_step(a, a->fail[u], b.byte[k]);
                a->fail[k] = f;
                a->dict[k] = a->out[f] != AC_NONE ? f : a->dict[f];
                queue[tail++] = k;
            }
        }
    }
    /* The full table, breadth first so that a node's failure (shallower)
     * has its row before the node needs it. */
    if (b.n <= AC_DENSE_MAX) {
        uint32_t head = 0, tail = 0;
        if (!(a->dense = malloc((size_t)b.n * sizeof *a->dense)))
            goto nomem;
        queue[tail++] = 0;
        while (head < tail) {
            uint32_t u = queue[head++];
            for (unsigned c = 0; c < 256; c++) {
                uint32_t v = ac_has(a, u, c) ? ac_child(a, u, c)
                             : u ? a->dense[a->fail[u]][c] & ~AC_OUT_BIT : 0;
                a->dense[u][c] = (uint16_t)(v | (v && (a->out[v] != AC_NONE ||
                                                       a->dict[v] != AC_NONE)
                                                  ? AC_OUT_BIT : 0));
            }
            for (uint32_t k = b.kid[u]; k != AC_NONE; k = b.sib[k])
                queue[tail++] = k;
        }
    }
    *out = a;
    a = NULL;
    rc = VL_OK;
    goto done;
nomem:
    rc = vl_error_oom(err);
done:
    free(b.kid);
    free(b.sib);
    free(b.byte);
    free(node_of);
    free(queue);
    vl_pronom_ac_free(a);
    return rc;
}

void vl_pronom_ac_scan(const vl_pronom_ac *a, const uint8_t *buf, size_t from,
                       size_t to, int (*hit)(void *ctx, size_t pat,
                                             size_t end),
                       void *ctx)
{
    uint32_t s = 0;
    if (a->dense) {
        for (size_t i = from; i < to; i++) {
            uint32_t e = a->dense[s][buf[i]];
            s = e & ~AC_OUT_BIT;
            if (!(e & AC_OUT_BIT))
                continue;
            for (uint32_t o = a->out[s] != AC_NONE ? s : a->dict[s];
                 o != AC_NONE; o = a->dict[o])
                for (uint32_t p = a->out[o]; p != AC_NONE; p = a->pnext[p])
                    if (hit(ctx, p, i + 1))
                        return;
        }
        return;
    }
    for (size_t i = from; i < to; i++) {
        /* Inline the root case: it is most of the bytes of most files. */
        s = s ? ac_step(a, s, buf[i]) : a->root[buf[i]];
        if (!s)
            continue;
        for (uint32_t o = a->out[s] != AC_NONE ? s : a->dict[s];
             o != AC_NONE; o = a->dict[o])
            for (uint32_t p = a->out[o]; p != AC_NONE; p = a->pnext[p])
                if (hit(ctx, p, i + 1))
                    return;
    }
}

/* ---- the matcher ------------------------------------------------------------ */

struct vl_pronom_matcher {
    const vl_pronom_sigfile *f;
    size_t bof, eof;
    uint32_t *idx2, *list2;      /* CSR: 65537 offsets, sig indexes */
    uint32_t *idx1, *list1;      /* CSR: 257 offsets */
    uint8_t *nreq;               /* per signature: its requirements */
    pre *pf;                     /* their strings, grouped by pattern */
    size_t npf;
    uint32_t *other;             /* signatures not in the index */
    size_t nother;
    size_t npat;                 /* distinct strings */
    uint32_t *pat_idx;           /* CSR: string -> its pf entries */
    const uint8_t **pat;         /* per string: its bytes */
    size_t *patlen;
    vl_pronom_ac *ac;            /* patterns: the strings' prefixes */
    size_t nprefix;
    uint32_t *prefix_idx;        /* CSR: prefix -> its strings */
    uint8_t *prefixlen;
    size_t bof_scan, eof_scan;   /* farthest reach from each end */
    size_t **sigfmt;             /* per signature: the formats using it */
    size_t *nsigfmt;
    idpair *fmt_by_id;           /* sorted by id */
    extpair *by_ext;             /* sorted by ext */
    size_t nby_ext;
    size_t *by_puid;             /* format indexes sorted by PUID */
};

static int cmp_id(const void *a, const void *b)
{
    const idpair *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int cmp_ext(const void *a, const void *b)
{
    const extpair *x = a, *y = b;
    int c = strcmp(x->ext, y->ext);
    return c ? c : (x->fmt > y->fmt) - (x->fmt < y->fmt);
}

static const vl_pronom_sigfile *puid_sort_f;   /* qsort has no context */

static int cmp_puid(const void *a, const void *b)
{
    return strcmp(puid_sort_f->fmts[*(const size_t *)a].puid,
                  puid_sort_f->fmts[*(const size_t *)b].puid);
}

void vl_pronom_matcher_free(vl_pronom_matcher *m)
{
    if (!m)
        return;
    free(m->idx2);
    free(m->list2);
    free(m->idx1);
    free(m->list1);
    free(m->nreq);
    free(m->pf);
    free(m->other);
    vl_pronom_ac_free(m->ac);
    free(m->pat_idx);
    free(m->pat);
    free(m->patlen);
    free(m->prefix_idx);
    free(m->prefixlen);
    if (m->sigfmt)
        for (size_t i = 0; i < m->f->nsig; i++)
            free(m->sigfmt[i]);
    free(m->sigfmt);
    free(m->nsigfmt);
    free(m->fmt_by_id);
    free(m->by_ext);
    free(m->by_puid);
    free(m);
}

static size_t find_id(const idpair *v, size_t n, int id)
{
    idpair key = {id, 0};
    const idpair *hit = bsearch(&key, v, n, sizeof *v, cmp_id);
    return hit ? hit->idx : SIZE_MAX;
}

/* Build a CSR table from (key, value) pairs counted in two passes. */
static int csr_build(const vl_pronom_sigfile *f, size_t nkeys, int width,
                     uint32_t **idx_out, uint32_t **list_out)
{
    uint32_t *idx = calloc(nkeys + 1, sizeof *idx), *list = NULL;
    uint8_t pre_b[2];
    size_t total = 0;
    if (!idx)
        return -1;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < f->nsig; i++) {
            size_t n = vl_pronom_sig_bof_prefix(f->sigs[i], pre_b, 2);
            size_t key;
            if ((width == 2 && n < 2) || (width == 1 && n != 1))
                continue;
            key = width == 2 ? (size_t)pre_b[0] << 8 | pre_b[1] : pre_b[0];
            if (pass == 0)
                idx[key + 1]++;
            else
                list[idx[key]++] = (uint32_t)i;
        }
        if (pass == 0) {
            for (size_t k = 0; k < nkeys; k++)
                idx[k + 1] += idx[k];
            total = idx[nkeys];
            if (!(list = malloc((total ? total : 1) * sizeof *list))) {
                free(idx);
                return -1;
            }
        }
    }
    /* The second pass advanced each start to the next one's: shift back. */
    memmove(idx + 1, idx, nkeys * sizeof *idx);
    idx[0] = 0;
    *idx_out = idx;
    *list_out = list;
    return 0;
}

static int cmp_lit(const void *a, const void *b)
{
    const pre *x = a, *y = b;
    size_t n = x->litlen < y->litlen ? x->litlen : y->litlen;
    int c = memcmp(x->lit, y->lit, n);
    if (c)
        return c;
    if (x->litlen != y->litlen)
        return x->litlen < y->litlen ? -1 : 1;
    if (x->sig != y->sig)
        return x->sig < y->sig ? -1 : 1;
    return (x->req > y->req) - (x->req < y->req);
}

/* Every signature's requirements: an indexed one's leave out what the
 * index checked; short strings only as a signature's one requirement. */
static int requirements(vl_pronom_matcher *m, vl_error *err)
{
    const vl_pronom_sigfile *f = m->f;
    vl_pronom_req *req = malloc((REQ_MAX + 1) * sizeof *req);
    size_t cap = 0;
    int rc = VL_OK;
    if (!req || !(m->nreq = calloc(f->nsig + 1, 1)))
        goto nomem;
    for (size_t i = 0; i < f->nsig; i++) {
        uint8_t b[2];
        int indexed = vl_pronom_sig_bof_prefix(f->sigs[i], b, 2) != 0;
        size_t nr = vl_pronom_sig_requirements(f->sigs[i], indexed, req,
                                               REQ_MAX, &req[REQ_MAX]);
        for (size_t r = 0; r < nr; r++) {
            size_t shortest = SIZE_MAX;
            for (size_t a = 0; a < req[r].nalt; a++)
                if (req[r].alt[a].litlen < shortest)
                    shortest = req[r].alt[a].litlen;
            /* A byte or two occurs in most files: each hit would cost
             * more than it saves, unless it is all a signature has. */
            if ((indexed || r > 0) && shortest < (r > 0 ? 3u : 2u))
                break;   /* the rest are no better */
            if (m->npf + req[r].nalt > cap) {
                size_t nc = cap ? cap * 2 : 4096;
                pre *x;
                while (nc < m->npf + req[r].nalt)
                    nc *= 2;
                if (!(x = realloc(m->pf, nc * sizeof *x)))
                    goto nomem;
                m->pf = x;
                cap = nc;
            }
            for (size_t a = 0; a < req[r].nalt; a++) {
                const vl_pronom_req_lit *l = &req[r].alt[a];
                m->pf[m->npf++] = (pre){(uint32_t)i, (uint8_t)r,
                                        (uint8_t)l->from, l->lit, l->litlen,
                                        l->reach};
            }
            m->nreq[i] = (uint8_t)(r + 1);
        }
        if (!indexed)
            m->other[m->nother++] = (uint32_t)i;
    }
    goto done;
nomem:
    rc = vl_error_sys(err, "PRONOM signatures");
done:
    free(req);
    return rc;
}

/* The automaton looks for the first PREFIX_MAX bytes of each string (a
 * hit checks the rest in place): short patterns keep it to a few thousand
 * nodes, small enough for a full table that stays in the cache, where
 * the whole strings made ten thousand. */
#define PREFIX_MAX 4

/* The distinct prefilter strings (many signatures share one, "<?xml" or
 * "xmlns" say: a string is checked once however many use it), their
 * distinct prefixes, the automaton over those, and how far into each
 * window a scan must go: the farthest reach of the strings looked for
 * near that end (or anywhere). */
static int prefilter_build(vl_pronom_matcher *m, vl_error *err)
{
    const uint8_t **pre_pat = NULL;
    size_t *pre_len = NULL;
    int rc = VL_ESYS;

    if (!(m->pat = calloc(m->npf + 1, sizeof *m->pat)) ||
        !(m->patlen = calloc(m->npf + 1, sizeof *m->patlen)) ||
        !(m->pat_idx = calloc(m->npf + 2, sizeof *m->pat_idx)) ||
        !(m->prefix_idx = calloc(m->npf + 2, sizeof *m->prefix_idx)) ||
        !(m->prefixlen = calloc(m->npf + 1, 1)) ||
        !(pre_pat = calloc(m->npf + 1, sizeof *pre_pat)) ||
        !(pre_len = calloc(m->npf + 1, sizeof *pre_len))) {
        rc = vl_error_sys(err, "PRONOM signatures");
        goto done;
    }
    for (size_t k = 0; k < m->npf; k++) {
        const pre *x = &m->pf[k];
        for (int end = 0; end < 2; end++) {
            size_t *scan = end ? &m->eof_scan : &m->bof_scan;
            if (x->from == 2)
                *scan = SIZE_MAX;
            else if (x->from == end && x->reach > *scan)
                *scan = x->reach;
        }
    }
    /* Sorted by bytes, equal strings are neighbours, and so are strings
     * with equal prefixes. */
    if (m->npf)
        qsort(m->pf, m->npf, sizeof *m->pf, cmp_lit);
    for (size_t k = 0; k < m->npf; k++) {
        const pre *x = &m->pf[k];
        size_t pl = x->litlen < PREFIX_MAX ? x->litlen : PREFIX_MAX;
        if (k && x->litlen == m->patlen[m->npat - 1] &&
            memcmp(x->lit, m->pat[m->npat - 1], x->litlen) == 0)
            continue;
        if (!m->nprefix || pl != pre_len[m->nprefix - 1] ||
            memcmp(x->lit, pre_pat[m->nprefix - 1], pl) != 0) {
            pre_pat[m->nprefix] = x->lit;
            pre_len[m->nprefix] = pl;
            m->prefixlen[m->nprefix] = (uint8_t)pl;
            m->prefix_idx[m->nprefix++] = (uint32_t)m->npat;
        }
        m->pat[m->npat] = x->lit;
        m->patlen[m->npat] = x->litlen;
        m->pat_idx[m->npat++] = (uint32_t)k;
    }
    m->pat_idx[m->npat] = (uint32_t)m->npf;
    m->prefix_idx[m->nprefix] = (uint32_t)m->npat;
    rc = vl_pronom_ac_new(pre_pat, pre_len, m->nprefix, &m->ac, err);
done:
    free(pre_pat);
    free(pre_len);
    return rc;
}

int vl_pronom_matcher_new(const vl_pronom_sigfile *f, vl_pronom_matcher **out,
                          vl_error *err)
{
    vl_pronom_matcher *m = calloc(1, sizeof *m);
    idpair *sig_by_id = NULL;
    size_t next = 0;
    int rc = VL_ESYS;

    *out = NULL;
    if (!m)
        goto nomem;
    m->f = f;
    if (csr_build(f, 65536, 2, &m->idx2, &m->list2) != 0 ||
        csr_build(f, 256, 1, &m->idx1, &m->list1) != 0)
        goto nomem;
    if (!(m->other = calloc(f->nsig + 1, sizeof *m->other)) ||
        !(m->sigfmt = calloc(f->nsig + 1, sizeof *m->sigfmt)) ||
        !(m->nsigfmt = calloc(f->nsig + 1, sizeof *m->nsigfmt)) ||
        !(sig_by_id = calloc(f->nsig + 1, sizeof *sig_by_id)) ||
        !(m->fmt_by_id = calloc(f->nfmt + 1, sizeof *m->fmt_by_id)) ||
        !(m->by_puid = calloc(f->nfmt + 1, sizeof *m->by_puid)))
        goto nomem;
    for (size_t i = 0; i < f->nsig; i++) {
        size_t nb, ob;
        vl_pronom_sig_needs(f->sigs[i], &nb, &ob);
        if (nb > m->bof)
            m->bof = nb;
        if (ob > m->eof)
            m->eof = ob;
        sig_by_id[i] = (idpair){vl_pronom_sig_id(f->sigs[i]), i};
    }
    if ((rc = requirements(m, err)) != VL_OK)
        goto done;
    if ((rc = prefilter_build(m, err)) != VL_OK)
        goto done;
    if (m->bof > VL_PRONOM_WINDOW_MAX)
        m->bof = VL_PRONOM_WINDOW_MAX;
    if (m->eof > VL_PRONOM_WINDOW_MAX)
        m->eof = VL_PRONOM_WINDOW_MAX;
    qsort(sig_by_id, f->nsig, sizeof *sig_by_id, cmp_id);
    for (size_t i = 0; i < f->nfmt; i++) {
        m->fmt_by_id[i] = (idpair){f->fmts[i].id, i};
        m->by_puid[i] = i;
        next += f->fmts[i].next;
        for (size_t k = 0; k < f->fmts[i].nsig; k++) {
            size_t s = find_id(sig_by_id, f->nsig, f->fmts[i].sig[k]);
            size_t *x;
            if (s == SIZE_MAX)
                continue;   /* a dangling reference: nothing to match */
            if (!(x = realloc(m->sigfmt[s], (m->nsigfmt[s] + 1) * sizeof *x)))
                goto nomem;
            m->sigfmt[s] = x;
            x[m->nsigfmt[s]++] = i;
        }
    }
    qsort(m->fmt_by_id, f->nfmt, sizeof *m->fmt_by_id, cmp_id);
    puid_sort_f = f;
    qsort(m->by_puid, f->nfmt, sizeof *m->by_puid, cmp_puid);
    if (!(m->by_ext = calloc(next + 1, sizeof *m->by_ext)))
        goto nomem;
    for (size_t i = 0; i < f->nfmt; i++)
        for (size_t k = 0; k < f->fmts[i].next; k++)
            m->by_ext[m->nby_ext++] = (extpair){f->fmts[i].ext[k], i};
    qsort(m->by_ext, m->nby_ext, sizeof *m->by_ext, cmp_ext);
    *out = m;
    m = NULL;
    rc = VL_OK;
    goto done;
nomem:
    rc = vl_error_oom(err);
done:
    free(sig_by_id);
    vl_pronom_matcher_free(m);
    return rc;
}

size_t vl_pronom_matcher_bof_bytes(const vl_pronom_matcher *m)
{
    return m->bof;
}

size_t vl_pronom_matcher_eof_bytes(const vl_pronom_matcher *m)
{
    return m->eof;
}

size_t vl_pronom_matcher_by_puid(const vl_pronom_matcher *m,
                                 const char *puid)
{
    size_t lo = 0, hi = m->f->nfmt;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->f->fmts[m->by_puid[mid]].puid, puid);
        if (c == 0)
            return m->by_puid[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

size_t vl_pronom_matcher_by_ext(const vl_pronom_matcher *m, const char *ext,
                                size_t *out, size_t cap)
{
    size_t lo = 0, hi = m->nby_ext, n = 0;
    while (lo < hi) {   /* first entry >= ext */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(m->by_ext[mid].ext, ext) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < m->nby_ext && strcmp(m->by_ext[lo].ext, ext) == 0; lo++)
        if (n < cap && (n == 0 || out[n - 1] != m->by_ext[lo].fmt))
            out[n++] = m->by_ext[lo].fmt;
    return n;
}

/* 1 when format a has priority over b, directly or through others. */
static int outranks(const vl_pronom_matcher *m, size_t a, size_t b,
                    unsigned char *seen)
{
    const vl_pronom_format *fa = &m->f->fmts[a];
    if (seen[a])
        return 0;
    seen[a] = 1;
    for (size_t k = 0; k < fa->nprio; k++) {
        size_t x = find_id(m->fmt_by_id, m->f->nfmt, fa->prio[k]);
        if (x == SIZE_MAX)
            continue;
        if (x == b || outranks(m, x, b, seen))
            return 1;
    }
    return 0;
}

static int outranks_top(const vl_pronom_matcher *m, size_t a, size_t b)
{
    unsigned char *seen = calloc(m->f->nfmt + 1, 1);
    int r;
    if (!seen)
        return 0;   /* no memory: keep both, the safe answer */
    r = outranks(m, a, b, seen);
    free(seen);
    return r;
}

void vl_pronom_matcher_prioritise(const vl_pronom_matcher *m, size_t *fmt,
                                  char (*basis)[256], size_t *n)
{
    unsigned char drop[RUN_MAX] = {0};
    size_t cnt = *n < RUN_MAX ? *n : RUN_MAX, w = 0;
    for (size_t i = 0; i < cnt; i++)
        for (size_t j = 0; j < cnt && !drop[i]; j++)
            /* Two formats each over the other (a cycle): both kept. */
            if (i != j && fmt[i] != fmt[j] &&
                outranks_top(m, fmt[j], fmt[i]) &&
                !outranks_top(m, fmt[i], fmt[j]))
                drop[i] = 1;
    for (size_t i = 0; i < cnt; i++) {
        if (drop[i])
            continue;
        if (w != i) {
            fmt[w] = fmt[i];
            if (basis)
                memcpy(basis[w], basis[i], sizeof basis[0]);
        }
        w++;
    }
    *n = w;
}

typedef struct run {
    const vl_pronom_matcher *m;
    const uint8_t *bof, *eof;
    size_t boflen, eoflen;
    uint64_t size;
    size_t fmt[RUN_MAX];
    char basis[RUN_MAX][256];
    size_t n;
    uint8_t *met;       /* per signature: bit r when requirement r is met */
    /* Per pattern, once seen: 1 in the BOF window (first end there), 2 in
     * the EOF window (last end there); the patterns seen, in order. */
    uint8_t *seen;
    uint32_t *first, *last, *touched;
    size_t ntouched;
} run;

static void try_sig(run *r, size_t s)
{
    char where[200];
    const vl_pronom_matcher *m = r->m;
    if (!m->nsigfmt[s])
        return;
    if (!vl_pronom_sig_match(m->f->sigs[s], r->bof, r->boflen, r->eof,
                             r->eoflen, r->size, where, sizeof where))
        return;
    for (size_t k = 0; k < m->nsigfmt[s]; k++) {
        size_t f = m->sigfmt[s][k], i;
        for (i = 0; i < r->n && r->fmt[i] != f; i++)
            ;
        if (i < r->n || r->n == RUN_MAX)
            continue;
        r->fmt[r->n] = f;
        snprintf(r->basis[r->n], sizeof r->basis[0],
                 "byte match %s (signature %d)", where,
                 vl_pronom_sig_id(m->f->sigs[s]));
        r->n++;
    }
}

/* One prefilter pass: which window it is: 0 the BOF window, 1 the EOF
 * window, 2 a whole file that fits in one window (both at once). */
typedef struct pass {
    run *r;
    const uint8_t *buf;
    size_t len;
    int mode;
} pass;

/* An occurrence of a prefilter string (they come in increasing end
 * order): the first in the BOF window and the last in the EOF window are
 * all the candidates need. */
static void seen_at(run *r, int mode, size_t pat, size_t end)
{
    if (!r->seen[pat])
        r->touched[r->ntouched++] = (uint32_t)pat;
    if (mode != 1 && !(r->seen[pat] & 1)) {
        r->seen[pat] |= 1;
        r->first[pat] = (uint32_t)end;
    }
    if (mode != 0) {
        r->seen[pat] |= 2;
        r->last[pat] = (uint32_t)end;
    }
}

/* A prefix found: which of its strings are there in full. */
static int prefilter_hit(void *ctx, size_t prefix, size_t end)
{
    pass *ps = ctx;
    const vl_pronom_matcher *m = ps->r->m;
    size_t pl = m->prefixlen[prefix], start = end - pl;
    for (uint32_t k = m->prefix_idx[prefix]; k < m->prefix_idx[prefix + 1]; k++) {
        size_t len = m->patlen[k];
        if (len > pl && (len > ps->len - start ||
                         memcmp(ps->buf + start + pl, m->pat[k] + pl,
                                len - pl) != 0))
            continue;
        seen_at(ps->r, ps->mode, k, start + len);
    }
    return 0;
}

/* The requirements met: a string that lies where it may (in the first or
 * last reach bytes when it is anchored, anywhere in the windows when not)
 * meets its requirement. */
static void mark_candidates(run *r)
{
    const vl_pronom_matcher *m = r->m;
    for (size_t t = 0; t < r->ntouched; t++) {
        uint32_t pat = r->touched[t];
        for (uint32_t k = m->pat_idx[pat]; k < m->pat_idx[pat + 1]; k++) {
            const pre *p = &m->pf[k];
            int ok;
            if (p->from == 2)
                ok = 1;
            else if (p->from == 0)
                ok = (r->seen[pat] & 1) &&
                     (p->reach >= r->boflen || r->first[pat] <= p->reach);
            else
                ok = (r->seen[pat] & 2) &&
                     (p->reach >= r->eoflen ||
                      r->last[pat] - p->litlen >= r->eoflen - p->reach);
            if (ok)
                r->met[p->sig] |= (uint8_t)(1u << p->req);
        }
    }
}

/* Try signature s when all its requirements are met. */
static void try_cand(run *r, size_t s)
{
    if (r->met[s] == (1u << r->m->nreq[s]) - 1)
        try_sig(r, s);
}

int vl_pronom_matcher_run(const vl_pronom_matcher *m, const uint8_t *bof,
                          size_t boflen, const uint8_t *eof, size_t eoflen,
                          uint64_t size, size_t *fmt, char (*basis)[256],
                          size_t cap, size_t *n)
{
    /* Not calloc: the 16 KiB of basis text need no zeroing, and zeroing
     * them was a tenth of the time per small file. */
    run *r = malloc(sizeof *r);
    int rc = VL_OK;
    if (!r) {
        *n = 0;
        return VL_ESYS;
    }
    r->n = 0;
    r->m = m;
    r->bof = bof;
    r->boflen = bof ? boflen : 0;
    r->eof = eof;
    r->eoflen = eof ? eoflen : 0;
    r->size = size;
    /* A small file is all in one window: use it for both ends. */
    if (r->boflen >= size) {
        r->eof = bof;
        r->eoflen = (size_t)size;
    } else if (r->eoflen >= size) {
        r->bof = eof;
        r->boflen = (size_t)size;
    }
    r->ntouched = 0;
    r->met = calloc(m->f->nsig + 1, 1);
    r->seen = calloc(m->npat + 1, 1);
    r->first = malloc((m->npat + 1) * sizeof *r->first);
    r->last = malloc((m->npat + 1) * sizeof *r->last);
    r->touched = malloc((m->npat + 1) * sizeof *r->touched);
    if (!r->met || !r->seen || !r->first || !r->last || !r->touched) {
        *n = 0;
        rc = VL_ESYS;
        goto done;
    }
    if (r->boflen && r->bof == r->eof && r->boflen == r->eoflen) {
        /* The whole file in one window: one pass serves both ends. */
        pass ps = {r, r->bof, r->boflen, 2};
        vl_pronom_ac_scan(m->ac, r->bof, 0, r->boflen, prefilter_hit, &ps);
    } else {
        if (r->boflen) {
            pass ps = {r, r->bof, r->boflen, 0};
            size_t to = m->bof_scan < r->boflen ? m->bof_scan : r->boflen;
            vl_pronom_ac_scan(m->ac, r->bof, 0, to, prefilter_hit, &ps);
        }
        if (r->eoflen) {
            pass ps = {r, r->eof, r->eoflen, 1};
            size_t from = m->eof_scan < r->eoflen ? r->eoflen - m->eof_scan : 0;
            vl_pronom_ac_scan(m->ac, r->eof, from, r->eoflen, prefilter_hit,
                              &ps);
        }
    }
    mark_candidates(r);
    if (r->boflen >= 2) {
        size_t key = (size_t)r->bof[0] << 8 | r->bof[1];
        for (uint32_t k = m->idx2[key]; k < m->idx2[key + 1]; k++)
            try_cand(r, m->list2[k]);
    }
    if (r->boflen >= 1)
        for (uint32_t k = m->idx1[r->bof[0]]; k < m->idx1[r->bof[0] + 1]; k++)
            try_cand(r, m->list1[k]);
    for (size_t i = 0; i < m->nother; i++)
        try_cand(r, m->other[i]);
    vl_pronom_matcher_prioritise(m, r->fmt, r->basis, &r->n);
    *n = r->n < cap ? r->n : cap;
    for (size_t i = 0; i < *n; i++) {
        fmt[i] = r->fmt[i];
        if (basis)
            memcpy(basis[i], r->basis[i], sizeof basis[0]);
    }
done:
    free(r->met);
    free(r->seen);
    free(r->first);
    free(r->last);
    free(r->touched);
    free(r);
    return rc;
}
