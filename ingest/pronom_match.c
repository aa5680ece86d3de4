/* Many signatures against one file, then DROID's priorities.
 *
 * Which signatures are tried:
 *  - those whose first ByteSequence is anchored at offset 0 of the file
 *    with fixed leading bytes are indexed by their first two bytes (or by
 *    the first one when they have only one): a file tries only those that
 *    start like it;
 *  - every other signature has a prefilter: the leading fixed bytes of one
 *    of its Sequences, which must occur where that Sequence can be (the
 *    first or last N bytes when it is anchored, else anywhere in the
 *    windows), looked for with memmem before the full match.
 * An Aho-Corasick automaton over those prefilter strings would scan the
 * windows once instead of once per signature; memmem is what is here, and
 * with about 300 unindexed signatures in V122 it costs a few ms on a
 * full 256 KiB window (measured in the report of this change).
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

typedef struct pre {
    size_t sig;
    const uint8_t *lit;
    size_t litlen;
    int from;
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

struct vl_pronom_matcher {
    const vl_pronom_sigfile *f;
    size_t bof, eof;
    uint32_t *idx2, *list2;      /* CSR: 65537 offsets, sig indexes */
    uint32_t *idx1, *list1;      /* CSR: 257 offsets */
    pre *other;
    size_t nother;
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
    free(m->other);
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
        uint8_t b[2];
        size_t nb, ob;
        pre *p = &m->other[m->nother];
        vl_pronom_sig_needs(f->sigs[i], &nb, &ob);
        if (nb > m->bof)
            m->bof = nb;
        if (ob > m->eof)
            m->eof = ob;
        sig_by_id[i] = (idpair){vl_pronom_sig_id(f->sigs[i]), i};
        if (vl_pronom_sig_bof_prefix(f->sigs[i], b, 2))
            continue;
        p->sig = i;
        p->litlen = vl_pronom_sig_required(f->sigs[i], &p->lit, &p->from,
                                           &p->reach);
        m->nother++;
    }
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
    rc = vl_error_sys(err, "PRONOM signatures");
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

static int window_has(const uint8_t *buf, size_t len, const pre *p,
                      int from_end)
{
    size_t start = 0, span = len;
    if (p->reach != SIZE_MAX && p->reach < len) {
        span = p->reach;
        start = from_end ? len - p->reach : 0;
    }
    return span >= p->litlen &&
           memmem(buf + start, span, p->lit, p->litlen) != NULL;
}

int vl_pronom_matcher_run(const vl_pronom_matcher *m, const uint8_t *bof,
                          size_t boflen, const uint8_t *eof, size_t eoflen,
                          uint64_t size, size_t *fmt, char (*basis)[256],
                          size_t cap, size_t *n)
{
    run *r = calloc(1, sizeof *r);
    if (!r) {
        *n = 0;
        return VL_ESYS;
    }
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
    if (r->boflen >= 2) {
        size_t key = (size_t)r->bof[0] << 8 | r->bof[1];
        for (uint32_t k = m->idx2[key]; k < m->idx2[key + 1]; k++)
            try_sig(r, m->list2[k]);
    }
    if (r->boflen >= 1)
        for (uint32_t k = m->idx1[r->bof[0]]; k < m->idx1[r->bof[0] + 1]; k++)
            try_sig(r, m->list1[k]);
    for (size_t i = 0; i < m->nother; i++) {
        const pre *p = &m->other[i];
        if (p->litlen) {
            int hit = 0;
            if (p->from != 1)
                hit = window_has(r->bof, r->boflen, p, 0);
            if (!hit && p->from != 0 && r->eoflen)
                hit = window_has(r->eof, r->eoflen, p, 1);
            if (!hit)
                continue;
        }
        try_sig(r, p->sig);
    }
    vl_pronom_matcher_prioritise(m, r->fmt, r->basis, &r->n);
    *n = r->n < cap ? r->n : cap;
    for (size_t i = 0; i < *n; i++) {
        fmt[i] = r->fmt[i];
        if (basis)
            memcpy(basis[i], r->basis[i], sizeof basis[0]);
    }
    free(r);
    return VL_OK;
}
