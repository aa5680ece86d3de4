/* One DROID InternalSignature: its ByteSequences, read from the signature
 * file's XML, and their matching against a file's first and last bytes.
 *
 * DROID's semantics (droid-core ByteSequence/SubSequence):
 *  - Reference "BOFoffset": SubSequences in Position order from the start
 *    of the file.  The first is anchored: the start of the subsequence (its
 *    outermost left fragment, or its Sequence when it has none) lies
 *    SubSeqMinOffset..SubSeqMaxOffset bytes after the start of file (no
 *    maximum: anywhere in the window).  Each later subsequence starts at
 *    least its own SubSeqMinOffset (at most SubSeqMaxOffset, when given)
 *    after the end of the one before.
 *  - Reference "EOFoffset": the mirror image.  DROID walks the list from
 *    its LAST entry backwards (ByteSequence.matches, reverseOrder): the
 *    highest Position is nearest the end of file, its end (outermost right
 *    fragment) SubSeqMin..MaxOffset bytes before EOF, and each earlier
 *    Position ends at least its own SubSeqMinOffset before the start of the
 *    one after it.  The subsequences are thus listed in file order.
 *  - no Reference: variable, the first subsequence anywhere.
 *  - Left/RightFragments: bytes immediately before/after the Sequence, at
 *    a gap of MinOffset..MaxOffset bytes; Position 1 is next to the
 *    Sequence, higher Positions chain outwards; fragments sharing a
 *    Position are alternatives.
 * Like DROID, a subsequence takes its first match (nearest the anchor end)
 * and later subsequences do not make it look for another one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "pronom_internal.h"

enum { REF_VAR = 0, REF_BOF = 1, REF_EOF = 2 };
#define NO_MAX UINT64_MAX
#define FRAG_ENDS 16
#define CHAIN_BUDGET 2000000ul

typedef struct frag {
    vl_pronom_seq *seq;
    uint32_t min, max;
} frag;

typedef struct fragpos {
    frag *alt;
    size_t nalt;
} fragpos;

typedef struct subseq {
    int position;
    uint64_t min, max;           /* max NO_MAX when absent */
    vl_pronom_seq *anchor;
    fragpos *left, *right;
    size_t nleft, nright;
} subseq;

typedef struct bseq {
    int ref;
    subseq *sub;
    size_t nsub;
} bseq;

struct vl_pronom_sig {
    int id;
    bseq *bs;
    size_t nbs;
};

/* ---- freeing ---------------------------------------------------------------- */

static void fragpos_free(fragpos *fp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < fp[i].nalt; k++)
            vl_pronom_seq_free(fp[i].alt[k].seq);
        free(fp[i].alt);
    }
    free(fp);
}

void vl_pronom_sig_free(vl_pronom_sig *s)
{
    if (!s)
        return;
    for (size_t b = 0; b < s->nbs; b++) {
        for (size_t k = 0; k < s->bs[b].nsub; k++) {
            subseq *q = &s->bs[b].sub[k];
            vl_pronom_seq_free(q->anchor);
            fragpos_free(q->left, q->nleft);
            fragpos_free(q->right, q->nright);
        }
        free(s->bs[b].sub);
    }
    free(s->bs);
    free(s);
}

int vl_pronom_sig_id(const vl_pronom_sig *s)
{
    return s->id;
}

/* ---- reading the XML --------------------------------------------------------- */

static int is_el(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name &&
           strcmp((const char *)n->name, name) == 0;
}

/* An unsigned attribute; 0 absent (def kept), 1 ok, -1 not a number. */
static int attr_u64(const xmlNode *n, const char *name, uint64_t *v)
{
    xmlChar *a = xmlGetProp(n, (const xmlChar *)name);
    const char *p;
    uint64_t x = 0;
    int rc = 1;
    if (!a)
        return 0;
    p = (const char *)a;
    while (*p == ' ')
        p++;
    if (!*p)
        rc = -1;
    for (; *p && rc == 1; p++) {
        if (*p < '0' || *p > '9' || x > 0xffffffffull)
            rc = -1;
        else
            x = x * 10 + (uint64_t)(*p - '0');
    }
    if (rc == 1 && x > 0xffffffffull)
        rc = -1;
    xmlFree(a);
    if (rc == 1)
        *v = x;
    return rc;
}

static int sig_err(vl_error *err, int id, const char *what)
{
    return vl_error_set(err, VL_EINPUT, "InternalSignature %d: %s", id,
                        what);
}

static int compile_text(const xmlNode *n, int id, vl_pronom_seq **out,
                        vl_error *err)
{
    xmlChar *t = xmlNodeGetContent(n);
    vl_error e2 = {0};
    int rc;
    if (!t)
        return sig_err(err, id, "empty sequence");
    rc = vl_pronom_seq_compile((const char *)t, out, &e2);
    xmlFree(t);
    if (rc != VL_OK)
        return vl_error_set(err, rc, "InternalSignature %d: %s", id,
                            e2.msg);
    return VL_OK;
}

typedef struct rawfrag {
    int position;
    frag f;
} rawfrag;

static int cmp_rawfrag(const void *a, const void *b)
{
    const rawfrag *x = a, *y = b;
    return (x->position > y->position) - (x->position < y->position);
}

/* Group fragments by Position into fp (positions in ascending order). */
static int group_frags(rawfrag *rf, size_t n, fragpos **out, size_t *nout)
{
    fragpos *fp = NULL;
    size_t np = 0;
    if (n)
        qsort(rf, n, sizeof *rf, cmp_rawfrag);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || rf[i].position != rf[i - 1].position) {
            fragpos *x = realloc(fp, (np + 1) * sizeof *x);
            if (!x)
                goto fail;
            fp = x;
            memset(&fp[np++], 0, sizeof *fp);
        }
        {
            fragpos *g = &fp[np - 1];
            frag *a = realloc(g->alt, (g->nalt + 1) * sizeof *a);
            if (!a)
                goto fail;
            g->alt = a;
            g->alt[g->nalt++] = rf[i].f;
            rf[i].f.seq = NULL;
        }
    }
    *out = fp;
    *nout = np;
    return 0;
fail:
    fragpos_free(fp, np);
    return -1;
}

static int subseq_from_xml(const xmlNode *n, int id, subseq *q, vl_error *err)
{
    rawfrag *lf = NULL, *rf = NULL;
    size_t nl = 0, nr = 0;
    uint64_t v;
    int rc = VL_EINPUT;

    memset(q, 0, sizeof *q);
    q->max = NO_MAX;
    v = 1;
    if (attr_u64(n, "Position", &v) < 0 ||
        attr_u64(n, "SubSeqMinOffset", &q->min) < 0 ||
        attr_u64(n, "SubSeqMaxOffset", &q->max) < 0) {
        rc = sig_err(err, id, "bad SubSequence offset or Position");
        goto done;
    }
    q->position = (int)v;
    /* DROID raises a maximum below the minimum to the minimum
     * (SubSequence.setMaxSeqOffset); both container files hold such
     * signatures (24010: Min 4, Max 0), so refusing them would refuse the
     * file. */
    if (q->max != NO_MAX && q->max < q->min)
        q->max = q->min;
    for (const xmlNode *c = n->children; c; c = c->next) {
        int left = is_el(c, "LeftFragment");
        if (is_el(c, "Sequence")) {
            if (q->anchor) {
                rc = sig_err(err, id, "two Sequences in a SubSequence");
                goto done;
            }
            if ((rc = compile_text(c, id, &q->anchor, err)) != VL_OK)
                goto done;
        } else if (left || is_el(c, "RightFragment")) {
            rawfrag **list = left ? &lf : &rf;
            size_t *cnt = left ? &nl : &nr;
            rawfrag *x = realloc(*list, (*cnt + 1) * sizeof *x);
            uint64_t mn = 0, mx = 0, pos = 1;
            if (!x) {
                rc = vl_error_sys(err, "InternalSignature %d", id);
                goto done;
            }
            *list = x;
            x = &x[(*cnt)];
            memset(x, 0, sizeof *x);
            if (attr_u64(c, "MinOffset", &mn) < 0 ||
                attr_u64(c, "MaxOffset", &mx) < 0 ||
                attr_u64(c, "Position", &pos) < 0) {
                rc = sig_err(err, id, "bad fragment offsets or Position");
                goto done;
            }
            if (mx < mn)   /* as for SubSequences: DROID clamps */
                mx = mn;
            if ((rc = compile_text(c, id, &x->f.seq, err)) != VL_OK)
                goto done;
            x->position = (int)pos;
            x->f.min = (uint32_t)mn;
            x->f.max = (uint32_t)mx;
            (*cnt)++;
        }
    }
    if (!q->anchor) {
        rc = sig_err(err, id, "SubSequence without a Sequence");
        goto done;
    }
    if (group_frags(lf, nl, &q->left, &q->nleft) != 0 ||
        group_frags(rf, nr, &q->right, &q->nright) != 0) {
        rc = vl_error_sys(err, "InternalSignature %d", id);
        goto done;
    }
    rc = VL_OK;
done:
    /* The caller counts q only when it is whole: what a failure leaves in
     * it (a Sequence before a second one, the left fragments before the
     * right ones ran out of memory) is freed here. */
    if (rc != VL_OK) {
        vl_pronom_seq_free(q->anchor);
        fragpos_free(q->left, q->nleft);
        fragpos_free(q->right, q->nright);
        q->anchor = NULL;
        q->left = q->right = NULL;
        q->nleft = q->nright = 0;
    }
    for (size_t i = 0; i < nl; i++)
        vl_pronom_seq_free(lf[i].f.seq);
    for (size_t i = 0; i < nr; i++)
        vl_pronom_seq_free(rf[i].f.seq);
    free(lf);
    free(rf);
    return rc;
}

static int cmp_subseq(const void *a, const void *b)
{
    const subseq *x = a, *y = b;
    return (x->position > y->position) - (x->position < y->position);
}

int vl_pronom_sig_from_xml(const void *node, vl_pronom_sig **out,
                           vl_error *err)
{
    const xmlNode *n = node;
    vl_pronom_sig *s = NULL;
    uint64_t id = 0;
    int rc = VL_EINPUT;

    *out = NULL;
    if (!n || !is_el(n, "InternalSignature")) {
        rc = vl_error_set(err, VL_EINPUT, "not an InternalSignature");
        goto done;
    }
    if (attr_u64(n, "ID", &id) <= 0 || id > 0x7fffffff) {
        rc = vl_error_set(err, VL_EINPUT, "InternalSignature without a "
                          "valid ID");
        goto done;
    }
    if (!(s = calloc(1, sizeof *s))) {
        rc = vl_error_sys(err, "InternalSignature %d", (int)id);
        goto done;
    }
    s->id = (int)id;
    for (const xmlNode *c = n->children; c; c = c->next) {
        bseq *b;
        xmlChar *ref;
        if (!is_el(c, "ByteSequence"))
            continue;
        if (!(b = realloc(s->bs, (s->nbs + 1) * sizeof *b))) {
            rc = vl_error_sys(err, "InternalSignature %d", s->id);
            goto done;
        }
        s->bs = b;
        b = &s->bs[s->nbs++];
        memset(b, 0, sizeof *b);
        ref = xmlGetProp(c, (const xmlChar *)"Reference");
        /* Indirect offsets are in DROID's schema but used by no signature;
         * they are read as plain BOF/EOF anchors. */
        if (ref && strstr((const char *)ref, "BOFoffset"))
            b->ref = REF_BOF;
        else if (ref && strstr((const char *)ref, "EOFoffset"))
            b->ref = REF_EOF;
        xmlFree(ref);
        for (const xmlNode *d = c->children; d; d = d->next) {
            subseq *q;
            if (!is_el(d, "SubSequence"))
                continue;
            if (!(q = realloc(b->sub, (b->nsub + 1) * sizeof *q))) {
                rc = vl_error_sys(err, "InternalSignature %d", s->id);
                goto done;
            }
            b->sub = q;
            if ((rc = subseq_from_xml(d, s->id, &b->sub[b->nsub], err))
                != VL_OK)
                goto done;
            b->nsub++;
        }
        if (!b->nsub) {
            rc = sig_err(err, s->id, "ByteSequence without a SubSequence");
            goto done;
        }
        qsort(b->sub, b->nsub, sizeof *b->sub, cmp_subseq);
    }
    if (!s->nbs) {
        rc = sig_err(err, s->id, "no ByteSequence");
        goto done;
    }
    *out = s;
    s = NULL;
    rc = VL_OK;
done:
    vl_pronom_sig_free(s);
    return rc;
}

/* ---- sizes --------------------------------------------------------------------- */

static size_t frag_span(const fragpos *fp, size_t n, int want_max)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t best = want_max ? 0 : SIZE_MAX;
        for (size_t k = 0; k < fp[i].nalt; k++) {
            const frag *f = &fp[i].alt[k];
            size_t l = want_max ? f->seq->maxlen : f->seq->minlen;
            size_t v = l == VL_PRONOM_UNBOUNDED ? SIZE_MAX
                     : l + (want_max ? f->max : f->min);
            if (v < l)
                v = SIZE_MAX;
            if (want_max ? v > best : v < best)
                best = v;
        }
        if (best == SIZE_MAX || total > SIZE_MAX - best)
            return SIZE_MAX;
        total += best;
    }
    return total;
}

static size_t sat(size_t a, size_t b)
{
    return (a == SIZE_MAX || b == SIZE_MAX || a > SIZE_MAX - b) ? SIZE_MAX
                                                                 : a + b;
}

void vl_pronom_sig_needs(const vl_pronom_sig *s, size_t *bof, size_t *eof)
{
    *bof = *eof = 0;
    for (size_t b = 0; b < s->nbs; b++) {
        const bseq *x = &s->bs[b];
        size_t need = 0;
        for (size_t k = 0; k < x->nsub; k++) {
            const subseq *q = &x->sub[k];
            size_t off = q->max == NO_MAX ? SIZE_MAX : (size_t)q->max;
            need = sat(need, off);
            need = sat(need, frag_span(q->left, q->nleft, 1));
            need = sat(need, frag_span(q->right, q->nright, 1));
            need = sat(need, q->anchor->maxlen == VL_PRONOM_UNBOUNDED
                                 ? SIZE_MAX : q->anchor->maxlen);
        }
        if (x->ref == REF_EOF) {
            if (need > *eof)
                *eof = need;
        } else if (x->ref == REF_BOF) {
            if (need > *bof)
                *bof = need;
        } else {
            *bof = *eof = SIZE_MAX;
        }
    }
}

size_t vl_pronom_sig_bof_prefix(const vl_pronom_sig *s, uint8_t *out,
                                size_t cap)
{
    for (size_t b = 0; b < s->nbs; b++) {
        const subseq *q;
        size_t n;
        if (s->bs[b].ref != REF_BOF)
            continue;
        q = &s->bs[b].sub[0];
        if (q->min != 0 || q->max != 0 || q->nleft)
            continue;
        n = q->anchor->litlen < cap ? q->anchor->litlen : cap;
        if (n) {
            memcpy(out, q->anchor->lit, n);
            return n;
        }
    }
    return 0;
}

/* The subsequence whose leading bytes vl_pronom_sig_bof_prefix gives. */
static const subseq *prefix_subseq(const vl_pronom_sig *s)
{
    for (size_t b = 0; b < s->nbs; b++) {
        const subseq *q;
        if (s->bs[b].ref != REF_BOF)
            continue;
        q = &s->bs[b].sub[0];
        if (q->min == 0 && q->max == 0 && !q->nleft && q->anchor->litlen)
            return q;
    }
    return NULL;
}

/* Requirements, best first: more bytes in the shortest string, then a
 * bounded place, then fewer strings. */
static int req_better(const vl_pronom_req *a, const vl_pronom_req *b)
{
    size_t la = SIZE_MAX, lb = SIZE_MAX;
    for (size_t i = 0; i < a->nalt; i++)
        la = a->alt[i].litlen < la ? a->alt[i].litlen : la;
    for (size_t i = 0; i < b->nalt; i++)
        lb = b->alt[i].litlen < lb ? b->alt[i].litlen : lb;
    if (la != lb)
        return la > lb;
    if ((a->alt[0].from != 2) != (b->alt[0].from != 2))
        return a->alt[0].from != 2;
    return a->nalt < b->nalt;
}

/* Keep req among the best cap in out[0..*n). */
static void req_keep(vl_pronom_req *out, size_t *n, size_t cap,
                     const vl_pronom_req *req)
{
    size_t at = *n;
    while (at > 0 && req_better(req, &out[at - 1]))
        at--;
    if (at >= cap)
        return;
    if (*n < cap)
        (*n)++;
    memmove(&out[at + 1], &out[at], (*n - 1 - at) * sizeof *out);
    out[at] = *req;
}

/* A fragment Position whose every alternative starts with fixed bytes:
 * one of those strings must occur (anywhere, as far as we say). */
static void frag_reqs(const fragpos *fp, size_t n, vl_pronom_req *out,
                      size_t *nout, size_t cap, vl_pronom_req *tmp)
{
    for (size_t k = 0; k < n; k++) {
        tmp->nalt = 0;
        if (fp[k].nalt == 0 || fp[k].nalt > VL_PRONOM_REQ_ALTS)
            continue;
        for (size_t a = 0; a < fp[k].nalt; a++) {
            const vl_pronom_seq *q = fp[k].alt[a].seq;
            if (!q->litlen) {
                tmp->nalt = 0;
                break;
            }
            tmp->alt[tmp->nalt++] = (vl_pronom_req_lit){q->lit, q->litlen, 2,
                                                        SIZE_MAX};
        }
        if (tmp->nalt)
            req_keep(out, nout, cap, tmp);
    }
}

size_t vl_pronom_sig_requirements(const vl_pronom_sig *s, int skip_prefix,
                                  vl_pronom_req *out, size_t cap,
                                  vl_pronom_req *tmp)
{
    const subseq *skip = skip_prefix ? prefix_subseq(s) : NULL;
    size_t n = 0;
    for (size_t b = 0; b < s->nbs; b++)
        for (size_t k = 0; k < s->bs[b].nsub; k++) {
            const subseq *q = &s->bs[b].sub[k];
            const vl_pronom_seq *a = q->anchor;
            int first = s->bs[b].ref == REF_EOF ? k == s->bs[b].nsub - 1
                                                : k == 0;
            size_t r = SIZE_MAX;
            if (q == skip)
                continue;
            frag_reqs(q->left, q->nleft, out, &n, cap, tmp);
            frag_reqs(q->right, q->nright, out, &n, cap, tmp);
            if (!a->litlen)
                continue;
            /* Only the anchored first subsequence has a bounded place. */
            if (first && s->bs[b].ref != REF_VAR && q->max != NO_MAX)
                r = sat(sat((size_t)q->max, a->maxlen == VL_PRONOM_UNBOUNDED
                                            ? SIZE_MAX : a->maxlen),
                        frag_span(s->bs[b].ref == REF_EOF ? q->right : q->left,
                                  s->bs[b].ref == REF_EOF ? q->nright
                                                          : q->nleft, 1));
            tmp->nalt = 1;
            tmp->alt[0] = (vl_pronom_req_lit){
                a->lit, a->litlen,
                r == SIZE_MAX ? 2 : s->bs[b].ref == REF_EOF, r};
            req_keep(out, &n, cap, tmp);
        }
    return n;
}

/* ---- matching ------------------------------------------------------------------ */

typedef struct view {
    const uint8_t *buf;
    size_t len;
    unsigned long budget;
} view;

/* Fragment positions k.. from boundary pos going dir; the final boundary
 * must be within [lo, hi]; *out receives it. */
static int chain(view *v, const fragpos *fp, size_t np, size_t k, size_t pos,
                 int dir, size_t lo, size_t hi, size_t *out)
{
    if (k == np) {
        if (pos < lo || pos > hi)
            return 0;
        *out = pos;
        return 1;
    }
    for (size_t a = 0; a < fp[k].nalt; a++) {
        const frag *f = &fp[k].alt[a];
        size_t room = dir > 0 ? v->len - pos : pos;
        size_t gmax = f->max < room ? f->max : room;
        for (size_t g = f->min; g <= gmax; g++) {
            size_t ends[FRAG_ENDS], ne;
            size_t at = dir > 0 ? pos + g : pos - g;
            if (v->budget == 0)
                return 0;
            v->budget--;
            /* Most fragments are plain bytes: a cheap test of the byte
             * next to the boundary before the full match. */
            if (f->seq->fixed && f->seq->litlen == f->seq->n) {
                if (dir > 0 ? (at >= v->len || v->buf[at] != f->seq->lit[0])
                            : (at == 0 || v->buf[at - 1] !=
                                              f->seq->lit[f->seq->n - 1]))
                    continue;
            }
            ne = vl_pronom_seq_ends(f->seq, v->buf, v->len, at, dir, ends,
                                    FRAG_ENDS);
            for (size_t e = 0; e < ne; e++)
                if (chain(v, fp, np, k + 1, ends[e], dir, lo, hi, out))
                    return 1;
        }
    }
    return 0;
}

/* One subsequence from marker p in direction dir (+1 forwards, -1
 * backwards from the end); [min, max] bounds the distance from p to the
 * subsequence's inner edge.  On a match, *outer is its far edge and
 * *inner its near one. */
static int subseq_match(view *v, const subseq *q, size_t p, int dir,
                        uint64_t min, uint64_t max, size_t *inner,
                        size_t *outer)
{
    const fragpos *in = dir > 0 ? q->left : q->right;
    const fragpos *out = dir > 0 ? q->right : q->left;
    size_t nin = dir > 0 ? q->nleft : q->nright;
    size_t nout = dir > 0 ? q->nright : q->nleft;
    size_t inmin = frag_span(in, nin, 0), inmax = frag_span(in, nin, 1);
    size_t room = dir > 0 ? v->len - p : p;
    size_t dlo, dhi, ilo, ihi;

    if (min > room || inmin == SIZE_MAX)
        return 0;
    dlo = (size_t)min + inmin;
    dhi = max == NO_MAX ? room : sat((size_t)max, inmax);
    if (dhi > room)
        dhi = room;
    if (dlo > dhi)
        return 0;
    /* The inner edge must be max bytes from p at most, and not cross p. */
    if (dir > 0) {
        ilo = p + (size_t)min;
        ihi = max == NO_MAX ? v->len : p + (size_t)max;
    } else {
        ilo = max == NO_MAX || max > p ? 0 : p - (size_t)max;
        ihi = p - (size_t)min;
    }
    for (size_t d = dlo; d <= dhi; d++) {
        size_t y = dir > 0 ? p + d : p - d;
        size_t ends[FRAG_ENDS], ne, q_in = y;
        if (dir > 0 && q->anchor->litlen && !inmin && !nin) {
            /* Jump to the next place the anchor's leading bytes occur. */
            size_t st, en;
            if (!vl_pronom_seq_find(q->anchor, v->buf, v->len, y, p + dhi,
                                    &st, &en))
                return 0;
            d = st - p;
            y = st;
        }
        if (v->budget == 0)
            return 0;
        v->budget--;
        ne = vl_pronom_seq_ends(q->anchor, v->buf, v->len, y, dir, ends,
                                FRAG_ENDS);
        if (!ne)
            continue;
        if (!chain(v, in, nin, 0, y, -dir, ilo, ihi, &q_in))
            continue;
        for (size_t e = 0; e < ne; e++) {
            size_t w;
            if (chain(v, out, nout, 0, ends[e], dir, 0, v->len, &w)) {
                *inner = q_in;
                *outer = w;
                return 1;
            }
        }
    }
    return 0;
}

/* A whole ByteSequence in one buffer; lo and hi: the byte range (inclusive,
 * buffer offsets) it covered. */
static int bseq_match(view *v, const bseq *b, size_t *lo, size_t *hi)
{
    size_t p, inner, outer;
    if (b->ref == REF_EOF) {
        p = v->len;
        for (size_t k = b->nsub; k-- > 0;) {
            const subseq *q = &b->sub[k];
            int first = k == b->nsub - 1;
            if (!subseq_match(v, q, p, -1, q->min, q->max, &inner, &outer))
                return 0;
            if (first)
                *hi = inner ? inner - 1 : 0;
            p = outer;
        }
        *lo = p;
        return 1;
    }
    p = 0;
    for (size_t k = 0; k < b->nsub; k++) {
        const subseq *q = &b->sub[k];
        /* Variable: the first subsequence anywhere (DROID's full scan). */
        uint64_t max = b->ref == REF_VAR && k == 0 ? NO_MAX : q->max;
        uint64_t min = b->ref == REF_VAR && k == 0 ? 0 : q->min;
        if (!subseq_match(v, q, p, 1, min, max, &inner, &outer))
            return 0;
        if (k == 0)
            *lo = inner;
        p = outer;
    }
    *hi = p ? p - 1 : 0;
    return 1;
}

int vl_pronom_sig_match(const vl_pronom_sig *s, const uint8_t *bof,
                        size_t boflen, const uint8_t *eof, size_t eoflen,
                        uint64_t size, char *basis, size_t basis_cap)
{
    size_t used = 0;
    if (basis && basis_cap)
        basis[0] = '\0';
    /* When one window holds the whole file it serves both ends. */
    if (boflen >= size && bof) {
        eof = bof;
        eoflen = (size_t)size;
        boflen = (size_t)size;
    } else if (eoflen >= size && eof) {
        bof = eof;
        boflen = eoflen = (size_t)size;
    }
    if (!bof)
        boflen = 0;
    if (!eof)
        eoflen = 0;
    for (size_t b = 0; b < s->nbs; b++) {
        const bseq *x = &s->bs[b];
        view v;
        size_t lo = 0, hi = 0;
        uint64_t base = 0;
        const char *kind = x->ref == REF_BOF ? "BOF"
                         : x->ref == REF_EOF ? "EOF" : "VAR";
        int ok;
        if (x->ref == REF_EOF) {
            v = (view){eof, eoflen, CHAIN_BUDGET};
            base = size - eoflen;
            ok = bseq_match(&v, x, &lo, &hi);
        } else {
            v = (view){bof, boflen, CHAIN_BUDGET};
            ok = bseq_match(&v, x, &lo, &hi);
            if (!ok && x->ref == REF_VAR && eof != bof && eoflen) {
                v = (view){eof, eoflen, CHAIN_BUDGET};
                base = size - eoflen;
                ok = bseq_match(&v, x, &lo, &hi);
            }
        }
        if (!ok)
            return 0;
        if (basis && basis_cap > used) {
            int w = snprintf(basis + used, basis_cap - used, "%s%s %llu-%llu",
                             b ? "; " : "", kind,
                             (unsigned long long)(base + lo),
                             (unsigned long long)(base + hi));
            if (w > 0)
                used += (size_t)w < basis_cap - used ? (size_t)w
                                                     : basis_cap - used - 1;
        }
    }
    return 1;
}

/* ---- the cache's flat form (pronom_cache.c) ------------------------------------ */

static int put(vl_buf *b, const void *p, size_t n, vl_error *err)
{
    return vl_buf_append(b, p, n, err);
}

static int get(const uint8_t *d, size_t len, size_t *pos, void *out,
               size_t n)
{
    if (*pos > len || len - *pos < n)
        return -1;
    memcpy(out, d + *pos, n);
    *pos += n;
    return 0;
}

static int frags_save(const fragpos *fp, size_t n, vl_buf *out, vl_error *err)
{
    uint32_t np = (uint32_t)n;
    int rc = put(out, &np, 4, err);
    for (size_t i = 0; i < n && rc == VL_OK; i++) {
        uint32_t na = (uint32_t)fp[i].nalt;
        rc = put(out, &na, 4, err);
        for (size_t k = 0; k < fp[i].nalt && rc == VL_OK; k++) {
            const frag *f = &fp[i].alt[k];
            if ((rc = put(out, &f->min, 4, err)) == VL_OK &&
                (rc = put(out, &f->max, 4, err)) == VL_OK)
                rc = vl_pronom_seq_save(f->seq, out, err);
        }
    }
    return rc;
}

static int frags_load(const uint8_t *d, size_t len, size_t *pos,
                      vl_pronom_arena *arena, fragpos **out, size_t *nout)
{
    uint32_t np;
    fragpos *fp = NULL;
    if (get(d, len, pos, &np, 4) != 0 || np > len - *pos)
        return -1;
    if (np && !(fp = vl_pronom_arena_alloc(arena, (size_t)np * sizeof *fp)))
        return -1;
    for (size_t i = 0; i < np; i++) {
        uint32_t na;
        fragpos *g = &fp[i];
        if (get(d, len, pos, &na, 4) != 0 || na == 0 || na > len - *pos ||
            !(g->alt = vl_pronom_arena_alloc(arena,
                                             (size_t)na * sizeof *g->alt)))
            return -1;
        for (; g->nalt < na; g->nalt++) {
            frag *f = &g->alt[g->nalt];
            if (get(d, len, pos, &f->min, 4) != 0 ||
                get(d, len, pos, &f->max, 4) != 0 || f->max < f->min ||
                vl_pronom_seq_load(d, len, pos, 0, arena, &f->seq) != 0)
                return -1;
        }
    }
    *out = fp;
    *nout = np;
    return 0;
}

int vl_pronom_sig_save(const vl_pronom_sig *s, vl_buf *out, vl_error *err)
{
    int32_t id = s->id;
    uint32_t nb = (uint32_t)s->nbs;
    int rc = put(out, &id, 4, err);
    if (rc == VL_OK)
        rc = put(out, &nb, 4, err);
    for (size_t b = 0; b < s->nbs && rc == VL_OK; b++) {
        uint32_t ref = (uint32_t)s->bs[b].ref, ns = (uint32_t)s->bs[b].nsub;
        if ((rc = put(out, &ref, 4, err)) == VL_OK)
            rc = put(out, &ns, 4, err);
        for (size_t k = 0; k < s->bs[b].nsub && rc == VL_OK; k++) {
            const subseq *q = &s->bs[b].sub[k];
            int32_t position = q->position;
            if ((rc = put(out, &position, 4, err)) == VL_OK &&
                (rc = put(out, &q->min, 8, err)) == VL_OK &&
                (rc = put(out, &q->max, 8, err)) == VL_OK &&
                (rc = vl_pronom_seq_save(q->anchor, out, err)) == VL_OK &&
                (rc = frags_save(q->left, q->nleft, out, err)) == VL_OK)
                rc = frags_save(q->right, q->nright, out, err);
        }
    }
    return rc;
}

int vl_pronom_sig_load(const uint8_t *d, size_t len, size_t *pos,
                       vl_pronom_arena *arena, vl_pronom_sig **out)
{
    vl_pronom_sig *s = vl_pronom_arena_alloc(arena, sizeof *s);
    int32_t id;
    uint32_t nb;

    *out = NULL;
    if (!s || get(d, len, pos, &id, 4) != 0 || get(d, len, pos, &nb, 4) != 0 ||
        nb == 0 || nb > len - *pos ||
        !(s->bs = vl_pronom_arena_alloc(arena, (size_t)nb * sizeof *s->bs)))
        return -1;
    s->id = id;
    for (; s->nbs < nb; s->nbs++) {
        bseq *b = &s->bs[s->nbs];
        uint32_t ref, ns;
        if (get(d, len, pos, &ref, 4) != 0 || ref > REF_EOF ||
            get(d, len, pos, &ns, 4) != 0 || ns == 0 || ns > len - *pos ||
            !(b->sub = vl_pronom_arena_alloc(arena,
                                             (size_t)ns * sizeof *b->sub)))
            return -1;
        b->ref = (int)ref;
        for (; b->nsub < ns; b->nsub++) {
            subseq *q = &b->sub[b->nsub];
            int32_t position;
            if (get(d, len, pos, &position, 4) != 0 ||
                get(d, len, pos, &q->min, 8) != 0 ||
                get(d, len, pos, &q->max, 8) != 0 || q->max < q->min ||
                vl_pronom_seq_load(d, len, pos, 0, arena, &q->anchor) != 0 ||
                frags_load(d, len, pos, arena, &q->left, &q->nleft) != 0 ||
                frags_load(d, len, pos, arena, &q->right, &q->nright) != 0)
                return -1;
            q->position = position;
        }
    }
    *out = s;
    return 0;
}
