/* PRONOM byte sequences: the compiled form of both syntaxes (the DROID
 * signature file's and PRONOM's raw one) and its matching.
 *
 * A sequence is a list of elements: a set of byte values (one byte), a gap
 * (min..max bytes, max possibly unbounded) or alternatives (each itself a
 * sequence, of any length).  Matching is a backtracking walk that can run
 * in either direction, because left fragments are matched from the anchor
 * outwards, i.e. backwards.  A step budget bounds the walk so that a
 * hostile pattern ("*" inside nested alternatives) cannot take forever:
 * past the budget the pattern is taken as not matching. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pronom_internal.h"

#define SEQ_TEXT_MAX (64 * 1024)     /* longer text is refused */
#define SEQ_DEPTH_MAX 16             /* nested alternatives */
#define SEQ_GAP_MAX 0x7fffffffu      /* {n}: at most this */
#define SEQ_STEPS_MAX 200000ul       /* per match call */
/* A search over a window shares one budget: the per-call one, plus a few
 * steps per byte searched, so that a hostile pattern cannot make each of
 * 256 Ki start positions spend a full call's budget. */
#define SEQ_FIND_STEPS_PER_BYTE 64ul

/* ---- building ------------------------------------------------------------ */

static void set_add(uint8_t *set, unsigned lo, unsigned hi)
{
    for (unsigned b = lo; b <= hi; b++)
        set[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static int set_has(const uint8_t *set, unsigned b)
{
    return (set[b >> 3] >> (b & 7)) & 1;
}

/* 1 when set holds exactly one byte value (then *value).  Four word
 * tests, not 256 bit tests: a cache load runs this on every element. */
static int set_single(const uint8_t *set, uint8_t *value)
{
    int at = -1;
    for (int w = 0; w < 4; w++) {
        uint64_t x = 0;   /* bit j of byte k is value 64w + 8k + j */
        for (int k = 0; k < 8; k++)
            x |= (uint64_t)set[8 * w + k] << (8 * k);
        if (!x)
            continue;
        if (at >= 0 || (x & (x - 1)))
            return 0;   /* a second bit */
        at = 64 * w + __builtin_ctzll(x);
    }
    if (at < 0)
        return 0;
    *value = (uint8_t)at;
    return 1;
}

void vl_pronom_seq_free(vl_pronom_seq *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        for (size_t k = 0; k < s->e[i].nalt; k++)
            vl_pronom_seq_free(s->e[i].alt[k]);
        free(s->e[i].alt);
    }
    free(s->e);
    free(s->lit);
    free(s);
}

static vl_pronom_el *seq_push(vl_pronom_seq *s, size_t *cap)
{
    if (VL_GROW(s->e, *cap, s->n + 1, NULL) != VL_OK)
        return NULL;
    memset(&s->e[s->n], 0, sizeof s->e[0]);
    return &s->e[s->n++];
}

static size_t add_sat(size_t a, size_t b)
{
    return (a == VL_PRONOM_UNBOUNDED || b == VL_PRONOM_UNBOUNDED ||
            a > VL_PRONOM_UNBOUNDED - 1 - b) ? VL_PRONOM_UNBOUNDED : a + b;
}

/* Lengths, the fixed flag and the leading literal, from the elements;
 * the literal from arena when one is given.  known: the literal when the
 * caller already has it (a cache load: its first run of plain bytes), so
 * that the sets need not be decoded again; its length must not exceed the
 * true one (a shorter literal is only a weaker prefilter). */
static int seq_finish(vl_pronom_seq *s, vl_pronom_arena *arena,
                      const uint8_t *known, size_t known_len)
{
    size_t lit = 0;
    uint8_t v;
    s->minlen = s->maxlen = 0;
    s->fixed = 1;
    for (size_t i = 0; i < s->n; i++) {
        const vl_pronom_el *e = &s->e[i];
        if (e->kind == VL_PRONOM_EL_SET) {
            s->minlen = add_sat(s->minlen, 1);
            s->maxlen = add_sat(s->maxlen, 1);
        } else if (e->kind == VL_PRONOM_EL_GAP) {
            s->fixed = 0;
            s->minlen = add_sat(s->minlen, e->min);
            s->maxlen = e->max == UINT32_MAX ? VL_PRONOM_UNBOUNDED
                                             : add_sat(s->maxlen, e->max);
        } else {
            size_t mn = VL_PRONOM_UNBOUNDED, mx = 0;
            s->fixed = 0;
            for (size_t k = 0; k < e->nalt; k++) {
                if (e->alt[k]->minlen < mn)
                    mn = e->alt[k]->minlen;
                if (e->alt[k]->maxlen > mx)
                    mx = e->alt[k]->maxlen;
            }
            s->minlen = add_sat(s->minlen, mn);
            s->maxlen = add_sat(s->maxlen, mx);
        }
    }
    if (known)
        lit = known_len;
    else
        while (lit < s->n && s->e[lit].kind == VL_PRONOM_EL_SET &&
               set_single(s->e[lit].set, &v))
            lit++;
    if (lit) {
        if (!(s->lit = arena ? vl_pronom_arena_alloc(arena, lit)
                             : malloc(lit)))
            return -1;
        if (known)
            memcpy(s->lit, known, lit);
        else
            for (size_t i = 0; i < lit; i++)
                set_single(s->e[i].set, &s->lit[i]);
        s->litlen = lit;
    }
    return 0;
}

typedef struct parser {
    const char *t;
    size_t i, len;
    vl_error *err;
} parser;

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int perr(parser *p, const char *what)
{
    return vl_error_set(p->err, VL_EINPUT, "byte sequence: %s at offset %zu",
                        what, p->i);
}

static void skip_ws(parser *p)
{
    while (p->i < p->len && isspace((unsigned char)p->t[p->i]))
        p->i++;
}

/* One value inside [...]: a hex pair or a quoted character. */
static int range_value(parser *p, unsigned *v)
{
    skip_ws(p);
    if (p->i + 2 < p->len && p->t[p->i] == '\'' && p->t[p->i + 2] == '\'') {
        *v = (unsigned char)p->t[p->i + 1];
        p->i += 3;
        return VL_OK;
    }
    if (p->i + 1 < p->len && hexval(p->t[p->i]) >= 0 &&
        hexval(p->t[p->i + 1]) >= 0) {
        *v = (unsigned)(hexval(p->t[p->i]) * 16 + hexval(p->t[p->i + 1]));
        p->i += 2;
        return VL_OK;
    }
    return perr(p, "expected a hex pair or a quoted character in [...]");
}

/* "[...]": values, ranges lo:hi or lo-hi, masks &XX (all bits) and ~XX
 * (any bit), '!' first to negate. */
static int parse_class(parser *p, uint8_t *set)
{
    uint8_t tmp[32] = {0};
    int neg = 0, any = 0;
    p->i++;   /* '[' */
    skip_ws(p);
    if (p->i < p->len && p->t[p->i] == '!') {
        neg = 1;
        p->i++;
    }
    for (;;) {
        unsigned lo, hi;
        skip_ws(p);
        if (p->i >= p->len)
            return perr(p, "unterminated [");
        if (p->t[p->i] == ']') {
            p->i++;
            break;
        }
        if (p->t[p->i] == '&' || p->t[p->i] == '~') {
            int all = p->t[p->i] == '&';
            unsigned m;
            p->i++;
            if (range_value(p, &m) != VL_OK)
                return VL_EINPUT;
            for (unsigned b = 0; b < 256; b++)
                if (all ? (b & m) == m : (b & m) != 0)
                    set_add(tmp, b, b);
            any = 1;
            continue;
        }
        if (range_value(p, &lo) != VL_OK)
            return VL_EINPUT;
        hi = lo;
        skip_ws(p);
        if (p->i < p->len && (p->t[p->i] == ':' || p->t[p->i] == '-')) {
            p->i++;
            if (range_value(p, &hi) != VL_OK)
                return VL_EINPUT;
        }
        if (hi < lo) {
            unsigned x = lo;
            lo = hi;
            hi = x;
        }
        set_add(tmp, lo, hi);
        any = 1;
    }
    if (!any)
        return perr(p, "empty []");
    for (int k = 0; k < 32; k++)
        set[k] = neg ? (uint8_t)~tmp[k] : tmp[k];
    return VL_OK;
}

static int parse_num(parser *p, uint32_t *v)
{
    uint64_t x = 0;
    size_t start = p->i;
    skip_ws(p);
    start = p->i;
    while (p->i < p->len && p->t[p->i] >= '0' && p->t[p->i] <= '9') {
        x = x * 10 + (uint64_t)(p->t[p->i] - '0');
        if (x > SEQ_GAP_MAX)
            return perr(p, "gap too large");
        p->i++;
    }
    if (p->i == start)
        return perr(p, "expected a number in {...}");
    *v = (uint32_t)x;
    return VL_OK;
}

static int parse_gap(parser *p, uint32_t *min, uint32_t *max)
{
    p->i++;   /* '{' */
    if (parse_num(p, min) != VL_OK)
        return VL_EINPUT;
    skip_ws(p);
    *max = *min;
    if (p->i < p->len && (p->t[p->i] == '-' || p->t[p->i] == ':')) {
        p->i++;
        skip_ws(p);
        if (p->i < p->len && p->t[p->i] == '*') {
            *max = UINT32_MAX;
            p->i++;
        } else if (parse_num(p, max) != VL_OK) {
            return VL_EINPUT;
        } else if (*max < *min) {
            return perr(p, "gap {n-m} with m < n");
        }
    }
    skip_ws(p);
    if (p->i >= p->len || p->t[p->i] != '}')
        return perr(p, "expected } after a gap");
    p->i++;
    return VL_OK;
}

/* Elements until the end of text, or '|' / ')' when inside (...). */
static int parse_seq(parser *p, int depth, vl_pronom_seq **out)
{
    vl_pronom_seq *s = calloc(1, sizeof *s);
    size_t cap = 0;
    int rc = VL_ESYS;

    *out = NULL;
    if (!s) {
        rc = vl_error_sys(p->err, "byte sequence");
        goto done;
    }
    for (;;) {
        vl_pronom_el *e;
        char c;
        skip_ws(p);
        if (p->i >= p->len)
            break;
        c = p->t[p->i];
        if (depth > 0 && (c == '|' || c == ')'))
            break;
        if (c == '\'') {
            size_t j = p->i + 1;
            while (j < p->len && p->t[j] != '\'')
                j++;
            if (j >= p->len) {
                rc = perr(p, "unterminated quoted text");
                goto done;
            }
            if (j == p->i + 1) {
                rc = perr(p, "empty quoted text");
                goto done;
            }
            for (size_t k = p->i + 1; k < j; k++) {
                if (!(e = seq_push(s, &cap)))
                    goto nomem;
                e->kind = VL_PRONOM_EL_SET;
                set_add(e->set, (unsigned char)p->t[k],
                        (unsigned char)p->t[k]);
            }
            p->i = j + 1;
            continue;
        }
        if (!(e = seq_push(s, &cap)))
            goto nomem;
        if (c == '[') {
            e->kind = VL_PRONOM_EL_SET;
            if ((rc = parse_class(p, e->set)) != VL_OK)
                goto done;
        } else if (c == '?') {
            /* "??" is one byte; a lone '?' (seen in hand-written PRONOM
             * text such as "[30-39]?") is taken the same way. */
            e->kind = VL_PRONOM_EL_SET;
            memset(e->set, 0xff, sizeof e->set);
            p->i += (p->i + 1 < p->len && p->t[p->i + 1] == '?') ? 2 : 1;
        } else if (c == '*') {
            e->kind = VL_PRONOM_EL_GAP;
            e->min = 0;
            e->max = UINT32_MAX;
            p->i++;
        } else if (c == '{') {
            e->kind = VL_PRONOM_EL_GAP;
            if ((rc = parse_gap(p, &e->min, &e->max)) != VL_OK)
                goto done;
        } else if (c == '(') {
            size_t acap = 0;
            if (depth >= SEQ_DEPTH_MAX) {
                rc = perr(p, "alternatives nested too deep");
                goto done;
            }
            e->kind = VL_PRONOM_EL_ALT;
            p->i++;
            for (;;) {
                vl_pronom_seq *a;
                if ((rc = parse_seq(p, depth + 1, &a)) != VL_OK)
                    goto done;
                if (VL_GROW(e->alt, acap, e->nalt + 1, NULL) != VL_OK) {
                    vl_pronom_seq_free(a);
                    goto nomem;
                }
                e->alt[e->nalt++] = a;
                if (p->i >= p->len) {
                    rc = perr(p, "unterminated (");
                    goto done;
                }
                if (p->t[p->i++] == ')')
                    break;
            }
        } else if (hexval(c) >= 0 && p->i + 1 < p->len &&
                   hexval(p->t[p->i + 1]) >= 0) {
            unsigned v = (unsigned)(hexval(c) * 16 + hexval(p->t[p->i + 1]));
            e->kind = VL_PRONOM_EL_SET;
            set_add(e->set, v, v);
            p->i += 2;
        } else if (hexval(c) >= 0) {
            rc = perr(p, "odd number of hex digits");
            goto done;
        } else {
            rc = perr(p, "unexpected character");
            goto done;
        }
    }
    /* The doubling left up to half of the array unused, and a compiled
     * signature file holds some 100,000 elements of 64 bytes until the
     * run ends: give the rest back. */
    if (s->n && s->n < cap) {
        vl_pronom_el *e = realloc(s->e, s->n * sizeof *e);
        if (e)
            s->e = e;
    }
    if (seq_finish(s, NULL, NULL, 0) != 0)
        goto nomem;
    *out = s;
    s = NULL;
    rc = VL_OK;
    goto done;
nomem:
    rc = vl_error_oom(p->err);
done:
    vl_pronom_seq_free(s);
    return rc;
}

int vl_pronom_seq_compile(const char *text, vl_pronom_seq **out, vl_error *err)
{
    parser p = {text, 0, text ? strlen(text) : 0, err};
    vl_pronom_seq *s = NULL;
    int rc;

    *out = NULL;
    if (!text)
        return vl_error_set(err, VL_EINPUT, "byte sequence: none given");
    if (p.len > SEQ_TEXT_MAX)
        return vl_error_set(err, VL_EINPUT, "byte sequence: longer than "
                            "%d bytes", SEQ_TEXT_MAX);
    if ((rc = parse_seq(&p, 0, &s)) != VL_OK)
        return rc;
    if (p.i < p.len) {   /* a stray '|' or ')' at the top level */
        vl_pronom_seq_free(s);
        return perr(&p, "unexpected character");
    }
    if (s->n == 0) {
        vl_pronom_seq_free(s);
        return vl_error_set(err, VL_EINPUT, "byte sequence: empty at "
                            "offset 0");
    }
    *out = s;
    return VL_OK;
}

/* ---- matching ------------------------------------------------------------- */

typedef struct frame {
    const vl_pronom_seq *s;
    size_t i;
    const struct frame *up;
} frame;

typedef struct mctx {
    const uint8_t *buf;
    size_t len;
    int dir;
    unsigned long steps, limit;
    size_t *ends;
    size_t cap, n;
    int first_only;
} mctx;

/* Record an end; 1 stops the walk. */
static int found(mctx *m, size_t pos)
{
    for (size_t k = 0; k < m->n; k++)
        if (m->ends[k] == pos)
            return 0;
    if (m->n < m->cap)
        m->ends[m->n++] = pos;
    return m->first_only || m->n >= m->cap;
}

/* Walk s from element i (counted in the walk's direction) at pos; -1 when
 * the step budget ran out. */
static int walk(mctx *m, const vl_pronom_seq *s, size_t i, const frame *up,
                size_t pos)
{
    for (;;) {
        const vl_pronom_el *e;
        if (++m->steps > m->limit)
            return -1;
        if (i == s->n) {
            if (!up)
                return found(m, pos);
            s = up->s;
            i = up->i + 1;
            up = up->up;
            continue;
        }
        e = &s->e[m->dir > 0 ? i : s->n - 1 - i];
        if (e->kind == VL_PRONOM_EL_SET) {
            size_t at;
            if (m->dir > 0) {
                if (pos >= m->len)
                    return 0;
                at = pos++;
            } else {
                if (pos == 0)
                    return 0;
                at = --pos;
            }
            if (!set_has(e->set, m->buf[at]))
                return 0;
            i++;
            continue;
        }
        if (e->kind == VL_PRONOM_EL_GAP) {
            size_t room = m->dir > 0 ? m->len - pos : pos;
            size_t hi = e->max == UINT32_MAX || e->max > room ? room : e->max;
            if (e->min > room)
                return 0;
            for (size_t g = e->min; g <= hi; g++) {
                int r = walk(m, s, i + 1, up,
                             m->dir > 0 ? pos + g : pos - g);
                if (r)
                    return r;
            }
            return 0;
        }
        {
            frame f = {s, i, up};
            for (size_t k = 0; k < e->nalt; k++) {
                int r = walk(m, e->alt[k], 0, &f, pos);
                if (r)
                    return r;
            }
            return 0;
        }
    }
}

static int fixed_at(const vl_pronom_seq *s, const uint8_t *buf, size_t len,
                    size_t pos, int dir, size_t *end)
{
    size_t start;
    if (dir > 0) {
        if (pos > len || len - pos < s->n)
            return 0;
        start = pos;
        *end = pos + s->n;
    } else {
        if (pos > len || pos < s->n)
            return 0;
        start = pos - s->n;
        *end = start;
    }
    if (s->litlen && memcmp(buf + start, s->lit, s->litlen) != 0)
        return 0;
    for (size_t k = s->litlen; k < s->n; k++)
        if (!set_has(s->e[k].set, buf[start + k]))
            return 0;
    return 1;
}

size_t vl_pronom_seq_ends(const vl_pronom_seq *s, const uint8_t *buf,
                          size_t len, size_t pos, int dir, size_t *ends,
                          size_t cap)
{
    mctx m = {buf, len, dir, 0, SEQ_STEPS_MAX, ends, cap, 0, 0};
    if (!cap || pos > len)
        return 0;
    if (s->fixed)
        return (size_t)fixed_at(s, buf, len, pos, dir, &ends[0]);
    if (walk(&m, s, 0, NULL, pos) < 0)
        return 0;
    return m.n;
}

/* One forward match at pos, counting its steps in *used against limit; -1
 * when the budget ran out. */
static int match_budget(const vl_pronom_seq *s, const uint8_t *buf, size_t len,
                        size_t pos, size_t *end, unsigned long *used,
                        unsigned long limit)
{
    mctx m = {buf, len, 1, *used, limit, end, 1, 0, 1};
    int r;
    if (pos > len)
        return 0;
    if (s->fixed)
        return fixed_at(s, buf, len, pos, 1, end);
    r = walk(&m, s, 0, NULL, pos);
    *used = m.steps;
    return r < 0 ? -1 : r > 0 && m.n == 1;
}

int vl_pronom_seq_find(const vl_pronom_seq *s, const uint8_t *buf,
                       size_t len, size_t from, size_t last_start,
                       size_t *start, size_t *end)
{
    size_t at = from;
    unsigned long used = 0, limit;
    if (last_start > len)
        last_start = len;
    limit = SEQ_STEPS_MAX + SEQ_FIND_STEPS_PER_BYTE *
                                (unsigned long)(last_start >= from ? last_start - from + 1 : 0);
    while (at <= last_start) {
        if (s->litlen) {
            const uint8_t *hit;
            size_t span = last_start - at + s->litlen;
            if (span > len - at)
                span = len - at;
            hit = memmem(buf + at, span, s->lit, s->litlen);
            if (!hit)
                return 0;
            at = (size_t)(hit - buf);
        }
        int r = match_budget(s, buf, len, at, end, &used, limit);
        if (r < 0)
            return 0;   /* out of budget: no match, as for one call */
        if (r) {
            *start = at;
            return 1;
        }
        at++;
    }
    return 0;
}

/* ---- the cache's flat form (pronom_cache.c) --------------------------------
 * Native byte order: a cache is only read on the machine that wrote it
 * (its header's format version changes with this layout). */

static int put(vl_buf *b, const void *p, size_t n, vl_error *err)
{
    return vl_buf_append(b, p, n, err);
}

static int get(const uint8_t *d, size_t len, size_t *pos, void *out,
               size_t n)
{
    if (len - *pos < n || *pos > len)
        return -1;
    memcpy(out, d + *pos, n);
    *pos += n;
    return 0;
}

/* Element kinds in the file besides the in-memory ones: a run of
 * single-value sets (most of every signature) as a count and the bytes,
 * 1 + 4 + n bytes instead of 33 per byte. */
enum { EL_FILE_LIT = 8 };

int vl_pronom_seq_save(const vl_pronom_seq *s, vl_buf *out, vl_error *err)
{
    uint32_t n = (uint32_t)s->n;
    int rc = put(out, &n, sizeof n, err);
    for (size_t i = 0; i < s->n && rc == VL_OK;) {
        const vl_pronom_el *e = &s->e[i];
        uint8_t k = (uint8_t)e->kind, v;
        uint32_t run = 0;
        while (i + run < s->n && s->e[i + run].kind == VL_PRONOM_EL_SET &&
               set_single(s->e[i + run].set, &v))
            run++;
        if (run) {
            k = EL_FILE_LIT;
            if ((rc = put(out, &k, 1, err)) != VL_OK ||
                (rc = put(out, &run, 4, err)) != VL_OK)
                break;
            for (uint32_t r = 0; r < run && rc == VL_OK; r++) {
                set_single(s->e[i + r].set, &v);
                rc = put(out, &v, 1, err);
            }
            i += run;
            continue;
        }
        if ((rc = put(out, &k, 1, err)) != VL_OK)
            break;
        if (e->kind == VL_PRONOM_EL_SET) {
            rc = put(out, e->set, sizeof e->set, err);
        } else if (e->kind == VL_PRONOM_EL_GAP) {
            if ((rc = put(out, &e->min, 4, err)) == VL_OK)
                rc = put(out, &e->max, 4, err);
        } else {
            uint32_t na = (uint32_t)e->nalt;
            rc = put(out, &na, 4, err);
            for (size_t a = 0; a < e->nalt && rc == VL_OK; a++)
                rc = vl_pronom_seq_save(e->alt[a], out, err);
        }
        i++;
    }
    return rc;
}

int vl_pronom_seq_load(const uint8_t *d, size_t len, size_t *pos, int depth,
                       vl_pronom_arena *arena, vl_pronom_seq **out)
{
    vl_pronom_seq *s = NULL;
    const uint8_t *lead = NULL;   /* the leading run of plain bytes */
    size_t lead_len = 0;
    uint32_t n;

    *out = NULL;
    if (depth > SEQ_DEPTH_MAX || get(d, len, pos, &n, 4) != 0 || n == 0 ||
        n > len - *pos)   /* every element takes a byte at least */
        return -1;
    if (!(s = vl_pronom_arena_alloc(arena, sizeof *s)) ||
        !(s->e = vl_pronom_arena_alloc(arena, (size_t)n * sizeof *s->e)))
        return -1;
    while (s->n < n) {
        vl_pronom_el *e = &s->e[s->n];
        uint8_t k;
        if (get(d, len, pos, &k, 1) != 0)
            return -1;
        if (k == EL_FILE_LIT) {
            uint32_t run;
            if (get(d, len, pos, &run, 4) != 0 || run == 0 ||
                run > n - s->n || run > len - *pos)
                return -1;
            if (s->n == 0) {
                lead = d + *pos;
                lead_len = run;
            }
            for (uint32_t r = 0; r < run; r++, s->n++) {
                uint8_t v = d[(*pos)++];
                s->e[s->n].kind = VL_PRONOM_EL_SET;
                s->e[s->n].set[v >> 3] = (uint8_t)(1u << (v & 7));
            }
            continue;
        }
        e->kind = k;
        if (k == VL_PRONOM_EL_SET) {
            if (get(d, len, pos, e->set, sizeof e->set) != 0)
                return -1;
        } else if (k == VL_PRONOM_EL_GAP) {
            if (get(d, len, pos, &e->min, 4) != 0 ||
                get(d, len, pos, &e->max, 4) != 0 || e->max < e->min)
                return -1;
        } else if (k == VL_PRONOM_EL_ALT) {
            uint32_t na;
            if (get(d, len, pos, &na, 4) != 0 || na == 0 ||
                na > len - *pos ||
                !(e->alt = vl_pronom_arena_alloc(arena,
                                                 (size_t)na * sizeof *e->alt)))
                return -1;
            for (; e->nalt < na; e->nalt++)
                if (vl_pronom_seq_load(d, len, pos, depth + 1, arena,
                                       &e->alt[e->nalt]) != 0)
                    return -1;
        } else {
            return -1;
        }
        s->n++;
    }
    /* No leading run: no literal (the writer puts every single-value set
     * into a run), given as a zero-length one so nothing is decoded. */
    if (seq_finish(s, arena, lead ? lead : d, lead_len) != 0)
        return -1;
    *out = s;
    return 0;
}
