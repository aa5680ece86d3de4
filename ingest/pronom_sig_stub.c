/* TEMPORARY STUB - DELETE BEFORE MERGE.  Stands in for pronom_sig.c and
 * pronom_seq.c (being written in the pronom-core worktree) so that
 * pronom_container.c can be built and tested on its own branch.  Only the
 * raw-syntax subset the container file uses: hex bytes, 'text', ['a'-'b'],
 * [xx:yy], ??, {n} / {n-m}; SubSequences with SubSeqMinOffset/MaxOffset
 * at BOF, EOF or anywhere; fragments are ignored. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "pronom.h"

typedef struct stub_el {
    uint8_t set[32];
    uint32_t gmin, gmax;     /* a gap when gmax > 0 */
} stub_el;

typedef struct stub_seq {
    int ref;                 /* 0 BOF, 1 EOF, 2 anywhere */
    int rel;                 /* offsets from the previous one's end */
    long min, max;           /* max -1: unbounded */
    stub_el *e;
    size_t n;
} stub_seq;

struct vl_pronom_sig {
    stub_seq *s;
    size_t n;
};

static int hexv(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

static stub_el *push(stub_seq *q)
{
    stub_el *e;
    if (q->n >= 4096)
        return NULL;
    e = realloc(q->e, (q->n + 1) * sizeof *e);
    if (!e)
        return NULL;
    q->e = e;
    memset(&e[q->n], 0, sizeof *e);
    return &e[q->n++];
}

static int parse(stub_seq *q, const char *t)
{
    while (*t) {
        stub_el *e;
        if (isspace((unsigned char)*t)) {
            t++;
        } else if (*t == '\'') {
            for (t++; *t && *t != '\''; t++) {
                if (!(e = push(q)))
                    return -1;
                e->set[(uint8_t)*t / 8] |= 1 << ((uint8_t)*t % 8);
            }
            if (*t)
                t++;
        } else if (*t == '(') {
            if (!(e = push(q)))
                return -1;
            for (t++; *t && *t != ')'; t++) {
                int c;
                if (*t == '|' || isspace((unsigned char)*t))
                    continue;
                if (hexv(t[0]) < 0 || hexv(t[1]) < 0 ||
                    (t[2] != '|' && t[2] != ')'))
                    return -1;
                c = hexv(t[0]) * 16 + hexv(t[1]);
                e->set[c / 8] |= 1 << (c % 8);
                t++;
            }
            if (*t)
                t++;
        } else if (*t == '[' && t[1] == '&') {
            int m, c;
            if (hexv(t[2]) < 0 || hexv(t[3]) < 0 || t[4] != ']')
                return -1;
            m = hexv(t[2]) * 16 + hexv(t[3]);
            if (!(e = push(q)))
                return -1;
            for (c = 0; c < 256; c++)
                if ((c & m) == m)
                    e->set[c / 8] |= 1 << (c % 8);
            t += 5;
        } else if (*t == '[') {
            int lo, hi, c;
            t++;
            if (*t == '\'') {
                if (strnlen(t, 8) < 8 || t[2] != '\'' || t[3] != '-' ||
                    t[4] != '\'' || t[6] != '\'')
                    return -1;
                lo = (uint8_t)t[1];
                hi = (uint8_t)t[5];
                t += 7;
            } else {
                if (hexv(t[0]) < 0 || hexv(t[1]) < 0 || t[2] != ':' ||
                    hexv(t[3]) < 0 || hexv(t[4]) < 0)
                    return -1;
                lo = hexv(t[0]) * 16 + hexv(t[1]);
                hi = hexv(t[3]) * 16 + hexv(t[4]);
                t += 5;
            }
            while (*t && *t != ']')
                t++;
            if (*t)
                t++;
            if (!(e = push(q)))
                return -1;
            for (c = lo; c <= hi && c < 256; c++)
                e->set[c / 8] |= 1 << (c % 8);
        } else if (*t == '{') {
            char *end;
            if (!(e = push(q)))
                return -1;
            e->gmin = (uint32_t)strtoul(t + 1, &end, 10);
            e->gmax = *end == '-' ? (uint32_t)strtoul(end + 1, &end, 10)
                                  : e->gmin;
            if (e->gmax == 0)
                e->gmax = 1, e->gmin = 0;
            if (e->gmax > 64 || e->gmin > e->gmax)
                return -1;           /* the stub's backtracking stays small */
            t = strchr(t, '}');
            if (!t)
                return -1;
            t++;
        } else if (t[0] == '?' && t[1] == '?') {
            if (!(e = push(q)))
                return -1;
            memset(e->set, 0xFF, sizeof e->set);
            t += 2;
        } else if (hexv(t[0]) >= 0 && hexv(t[1]) >= 0) {
            int c = hexv(t[0]) * 16 + hexv(t[1]);
            if (!(e = push(q)))
                return -1;
            e->set[c / 8] |= 1 << (c % 8);
            t += 2;
        } else {
            return -1;
        }
    }
    return 0;
}

static long attr_long(xmlNode *n, const char *name, long dflt)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    long r = v && *v ? strtol((const char *)v, NULL, 10) : dflt;
    xmlFree(v);
    return r;
}

int vl_pronom_sig_from_xml(const void *node, vl_pronom_sig **out,
                           vl_error *err)
{
    xmlNode *isig = (xmlNode *)node, *bs, *ss, *c;
    vl_pronom_sig *s = calloc(1, sizeof *s);

    *out = NULL;
    if (!s)
        return vl_error_sys(err, "stub");
    for (bs = isig->children; bs; bs = bs->next) {
        xmlChar *ref;
        if (bs->type != XML_ELEMENT_NODE ||
            strcmp((const char *)bs->name, "ByteSequence"))
            continue;
        size_t first = s->n;
        ref = xmlGetProp(bs, (const xmlChar *)"Reference");
        for (ss = bs->children; ss; ss = ss->next) {
            stub_seq *q;
            if (ss->type != XML_ELEMENT_NODE ||
                strcmp((const char *)ss->name, "SubSequence"))
                continue;
            q = realloc(s->s, (s->n + 1) * sizeof *q);
            if (!q)
                abort();
            s->s = q;
            q = &s->s[s->n++];
            memset(q, 0, sizeof *q);
            q->ref = ref && !strcmp((char *)ref, "BOFoffset")   ? 0
                     : ref && !strcmp((char *)ref, "EOFoffset") ? 1
                                                                : 2;
            q->rel = s->n - 1 > first && q->ref != 1;
            q->min = attr_long(ss, "SubSeqMinOffset", 0);
            q->max = attr_long(ss, "SubSeqMaxOffset", -1);
            for (c = ss->children; c; c = c->next) {
                if (c->type == XML_ELEMENT_NODE &&
                    !strcmp((const char *)c->name, "Sequence")) {
                    xmlChar *t = xmlNodeGetContent(c);
                    int bad = parse(q, (const char *)t);
                    xmlFree(t);
                    if (bad) {
                        xmlFree(ref);
                        vl_pronom_sig_free(s);
                        return vl_error_set(err, VL_EINPUT, "stub: bad "
                                            "sequence");
                    }
                }
            }
        }
        xmlFree(ref);
    }
    *out = s;
    return VL_OK;
}

void vl_pronom_sig_free(vl_pronom_sig *s)
{
    size_t i;
    if (!s)
        return;
    for (i = 0; i < s->n; i++)
        free(s->s[i].e);
    free(s->s);
    free(s);
}

/* Match elements from k on at buf[pos]; the end position in *end. */
static int match_at(const stub_seq *q, size_t k, const uint8_t *b,
                    size_t len, size_t pos, size_t *end)
{
    if (k == q->n) {
        *end = pos;
        return 1;
    }
    if (q->e[k].gmax) {
        uint32_t g;
        for (g = q->e[k].gmin; g <= q->e[k].gmax; g++)
            if (pos + g <= len && match_at(q, k + 1, b, len, pos + g, end))
                return 1;
        return 0;
    }
    if (pos >= len || !(q->e[k].set[b[pos] / 8] & (1 << (b[pos] % 8))))
        return 0;
    return match_at(q, k + 1, b, len, pos + 1, end);
}

int vl_pronom_sig_match(const vl_pronom_sig *s, const uint8_t *bof,
                        size_t boflen, const uint8_t *eof, size_t eoflen,
                        uint64_t size, char *basis, size_t basis_cap)
{
    size_t i, p, end = 0;

    for (i = 0; i < s->n; i++) {
        const stub_seq *q = &s->s[i];
        int ok = 0;
        if (q->ref == 1) {
            /* the sequence's end at eoflen - off */
            for (p = 0; p < eoflen && !ok; p++) {
                size_t off;
                if (!match_at(q, 0, eof, eoflen, p, &end))
                    continue;
                off = eoflen - end;
                ok = (long)off >= q->min && (q->max < 0 || (long)off <= q->max);
            }
        } else {
            size_t base = q->rel ? end : 0;
            size_t from = q->ref == 0 || q->rel ? base + (size_t)q->min : 0;
            size_t to = (q->ref == 0 || q->rel) && q->max >= 0
                            ? base + (size_t)q->max : boflen;
            for (p = from; p <= to && p < boflen && !ok; p++)
                ok = match_at(q, 0, bof, boflen, p, &end);
        }
        if (!ok)
            return 0;
    }
    if (basis && basis_cap)
        basis[0] = 0;
    (void)size;
    return 1;
}
