/* OCFL validator: an inventory.json read in one streamed pass (yajl).  The
 * small parts (top-level values, each version's created, message and user)
 * become a jansson tree as before; the three maps that grow with the file
 * count (the manifest, each version's state, each fixity block) become rows
 * of the run's scratch database instead, so that memory stays bounded
 * whatever the object holds.  The pass also digests the bytes (sidecars,
 * E064) and is as strict as the document parser was: a duplicate key, a
 * \u0000, invalid UTF-8, a lone surrogate or an unrepresentable number make
 * the document not JSON (E033). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <yajl/yajl_parse.h>

#include "validate_private.h"
#include "yajl_alloc_private.h"

/* ---- the scratch database ---------------------------------------------- */

/* k: one row per key of a streamed map (sect 0 manifest, 1 a version's
 * state, 2 a fixity block; blk the version's or algorithm's ordinal in its
 * map; k the key's ordinal), bad when its value is not a non-empty array
 * (1 not an array, 2 an empty one).  Keys are found by a 64-bit hash of
 * the digest (dh; an integer index is a fraction of the size of a text
 * one, and the digest itself is compared once the hash matched).  ld is
 * the lower-case form when that differs, lh its hash; such keys are also
 * in kup, for E096/E097 (two keys alike but for case need one with an
 * upper-case letter).
 * e: one row per element of such an array, path NULL when not a string. */
static const char SCHEMA[] =
    "CREATE TABLE k(inv INTEGER, sect INTEGER, blk INTEGER, k INTEGER,"
    " digest TEXT, ld TEXT, dh INTEGER, lh INTEGER, bad INTEGER,"
    " PRIMARY KEY(inv, sect, blk, k)) WITHOUT ROWID;"
    "CREATE INDEX k_h ON k(inv, sect, dh, blk);"
    "CREATE TABLE kup(inv INTEGER, sect INTEGER, blk INTEGER, lh INTEGER,"
    " k INTEGER, ld TEXT, PRIMARY KEY(inv, sect, blk, lh, k)) WITHOUT ROWID;"
    "CREATE TABLE e(inv INTEGER, sect INTEGER, blk INTEGER, k INTEGER,"
    " e INTEGER, path TEXT, PRIMARY KEY(inv, sect, blk, k, e)) WITHOUT ROWID;"
    "CREATE INDEX e_p ON e(inv, sect, blk, path);"
    "CREATE TABLE vok(inv INTEGER, blk INTEGER, PRIMARY KEY(inv, blk))"
    " WITHOUT ROWID;"
    "CREATE TABLE fok(inv INTEGER, blk INTEGER, alg TEXT,"
    " PRIMARY KEY(inv, blk)) WITHOUT ROWID;"
    "CREATE TABLE walked(ord INTEGER PRIMARY KEY, path TEXT);"
    "CREATE INDEX walked_p ON walked(path);"
    "CREATE TABLE claims(ord INTEGER PRIMARY KEY, code TEXT, alg INTEGER,"
    " ld TEXT, digest TEXT, path TEXT, file INTEGER,"
    " UNIQUE(code, alg, ld, path));"
    "CREATE INDEX claims_p ON claims(path, ord);"
    "CREATE TABLE cexists(path TEXT PRIMARY KEY) WITHOUT ROWID;";

sqlite3_int64 vv_hash(const char *s, int lower)
{
    uint64_t h = 14695981039346656037ull;   /* FNV-1a */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (lower && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 1099511628211ull;
    }
    return (sqlite3_int64)h;
}

/* Page cache of the scratch database; beyond it, rows spill to a
 * temporary file. */
#define VV_DB_CACHE_KIB 8192

int vv_db_fail(vv_db *d, int code, vl_error *err)
{
    if (code == SQLITE_NOMEM) {
        vl_alloc_failed();
        return vl_error_oom(err);
    }
    return vl_error_set(err, VL_ESYS, "validation: scratch index: %s",
                        d && d->db ? sqlite3_errmsg(d->db)
                                   : sqlite3_errstr(code));
}

int vv_db_open(vv_db *d, vl_error *err)
{
    memset(d, 0, sizeof *d);
    int code = vl_scratch_db_open(&d->db, VV_DB_CACHE_KIB, SCHEMA);
    /* one transaction for the whole run: nothing is kept, and a commit
     * per row would write the temporary file each time */
    if (code == SQLITE_OK)
        code = sqlite3_exec(d->db, "BEGIN", NULL, NULL, NULL);
    if (code != SQLITE_OK) {
        int rc = vv_db_fail(d, code, err);
        vv_db_close(d);
        return rc;
    }
    return VL_OK;
}

void vv_db_close(vv_db *d)
{
    for (size_t i = 0; i < d->nst; i++)
        sqlite3_finalize(d->st[i].st);
    if (d->db)
        sqlite3_close(d->db);
    memset(d, 0, sizeof *d);
}

int vv_q(vv_db *d, const char *sql, sqlite3_stmt **out, vl_error *err)
{
    for (size_t i = 0; i < d->nst; i++)
        if (d->st[i].sql == sql) {
            sqlite3_reset(d->st[i].st);
            sqlite3_clear_bindings(d->st[i].st);
            *out = d->st[i].st;
            return VL_OK;
        }
    if (d->nst == VV_DB_STMTS)
        return vl_error_set(err, VL_ESYS, "validation: too many queries");
    int code = sqlite3_prepare_v2(d->db, sql, -1, out, NULL);
    if (code != SQLITE_OK)
        return vv_db_fail(d, code, err);
    d->st[d->nst].sql = sql;
    d->st[d->nst++].st = *out;
    return VL_OK;
}

int vv_exec_inv(vv_db *d, const char *sql, int inv, vl_error *err)
{
    sqlite3_stmt *st;
    int rc = vv_q(d, sql, &st, err);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, inv);
    int code = sqlite3_step(st);
    sqlite3_reset(st);
    return code == SQLITE_DONE ? VL_OK : vv_db_fail(d, code, err);
}

/* ---- the byte check: what yajl accepts and jansson did not ------------- */

/* Strict UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF)
 * over the whole document, and in strings every \uXXXX: not \u0000, and a
 * surrogate only as a high-low pair.  Fed chunk by chunk. */
typedef struct scan {
    int need;                /* continuation bytes still expected */
    unsigned cp;             /* code point being decoded */
    unsigned min;            /* smallest code point for its length */
    int in_str, esc, hex;    /* in a string; after '\'; hex digits left */
    unsigned u;              /* the \u value being read */
    int want_low;            /* after a high surrogate: 0, 1 want '\',
                                2 want 'u', 3 reading the low one */
    const char *bad;         /* why not, once found */
} scan;

static void scan_u(scan *s)
{
    if (s->want_low == 3) {
        if (s->u < 0xDC00 || s->u > 0xDFFF)
            s->bad = "invalid Unicode surrogate pair";
        s->want_low = 0;
    } else if (s->u == 0) {
        s->bad = "\\u0000 is not allowed";
    } else if (s->u >= 0xD800 && s->u <= 0xDBFF) {
        s->want_low = 1;
    } else if (s->u >= 0xDC00 && s->u <= 0xDFFF) {
        s->bad = "invalid Unicode: a lone low surrogate";
    }
}

/* Returns the number of bytes taken before a problem (len when none). */
static size_t scan_feed(scan *s, const unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned c = p[i];
        if (s->need) {
            if ((c & 0xC0) != 0x80) {
                s->bad = "invalid UTF-8";
                return i;
            }
            s->cp = (s->cp << 6) | (c & 0x3F);
            if (--s->need == 0 && (s->cp < s->min || s->cp > 0x10FFFF ||
                                   (s->cp >= 0xD800 && s->cp <= 0xDFFF))) {
                s->bad = "invalid UTF-8";
                return i;
            }
            continue;
        }
        if (c >= 0x80) {
            if (c >= 0xC2 && c <= 0xDF)
                s->need = 1, s->cp = c & 0x1F, s->min = 0x80;
            else if (c >= 0xE0 && c <= 0xEF)
                s->need = 2, s->cp = c & 0x0F, s->min = 0x800;
            else if (c >= 0xF0 && c <= 0xF4)
                s->need = 3, s->cp = c & 0x07, s->min = 0x10000;
            else {
                s->bad = "invalid UTF-8";
                return i;
            }
            if (s->want_low) {
                s->bad = "invalid Unicode: a lone high surrogate";
                return i;
            }
            continue;
        }
        if (!s->in_str) {
            if (c == '"')
                s->in_str = 1;
            continue;
        }
        if (s->hex) {
            int v = c >= '0' && c <= '9' ? (int)c - '0'
                    : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
            if (v < 0)
                return len;  /* yajl says what is wrong */
            s->u = (s->u << 4) | (unsigned)v;
            if (--s->hex == 0) {
                scan_u(s);
                if (s->bad)
                    return i;
            }
            continue;
        }
        if (s->esc) {
            s->esc = 0;
            if (c == 'u') {
                if (s->want_low == 2)
                    s->want_low = 3;
                s->hex = 4;
                s->u = 0;
                continue;
            }
            if (s->want_low) {
                s->bad = "invalid Unicode: a lone high surrogate";
                return i;
            }
            continue;
        }
        if (s->want_low == 1 && c == '\\') {
            s->want_low = 2;
            s->esc = 1;
            continue;
        }
        if (s->want_low) {
            s->bad = "invalid Unicode: a lone high surrogate";
            return i;
        }
        if (c == '\\')
            s->esc = 1;
        else if (c == '"')
            s->in_str = 0;
    }
    return len;
}

/* ---- the parser -------------------------------------------------------- */

/* jansson's limit, kept: a deeper document was not JSON to it. */
#define MAX_DEPTH 2048

typedef enum { F_OBJ, F_ARR, F_SMAP, F_SARR } fkind;
typedef enum { R_OTHER, R_ROOT, R_VERSIONS, R_VERSION, R_FIXITY } frole;

typedef struct frame {
    fkind kind;
    frole role;
    json_t *node;            /* F_OBJ, F_ARR */
    int orphan;              /* node is a value inside a streamed map: only
                                parsed for its strictness, then dropped */
    char *key;               /* pending key (F_OBJ, F_SMAP) */
    size_t key_cap;
    long nkeys;              /* keys so far */
    int sect;                /* F_SMAP, F_SARR */
    long blk;                /* F_SMAP, F_SARR; F_OBJ R_VERSION: its
                                ordinal in versions */
    long k, e;               /* F_SARR: its key's ordinal, elements so far */
} frame;

typedef struct pctx {
    vv_db *db;
    int inv;
    yajl_handle h;
    frame *st;
    size_t depth, cap;
    json_t *root;
    const char *bad;         /* why the document is not JSON */
    char badbuf[96];
    int failed;              /* out of memory or the scratch index failed */
    vl_error *err;
    sqlite3_stmt *ins_k, *ins_e, *ins_up;
    vl_yajl_alloc ya;         /* yajl's allocator (out of memory: failed) */
} pctx;

static int oom(pctx *p)
{
    if (!p->failed) {
        vl_alloc_failed();
        vl_error_oom(p->err);
    }
    p->failed = 1;
    return 0;
}

static int not_json(pctx *p, const char *why)
{
    if (!p->bad)
        p->bad = why;
    return 0;
}

static int db_failed(pctx *p, int code)
{
    if (!p->failed)
        vv_db_fail(p->db, code, p->err);
    p->failed = 1;
    return 0;
}

static frame *top(pctx *p)
{
    return p->depth ? &p->st[p->depth - 1] : NULL;
}

static int set_key(pctx *p, frame *f, const unsigned char *s, size_t n)
{
    if (f->key_cap < n + 1) {
        size_t c = n + 1 < 64 ? 64 : n + 1;
        char *k = realloc(f->key, c);
        if (!k)
            return oom(p);
        f->key = k;
        f->key_cap = c;
    }
    memcpy(f->key, s, n);
    f->key[n] = '\0';
    return 1;
}

static int add_key_row(pctx *p, frame *f, int bad)
{
    sqlite3_stmt *st = p->ins_k;
    size_t n = strlen(f->key);
    sqlite3_int64 dh = vv_hash(f->key, 0), lh = dh;
    int code;
    char *ld = NULL;
    for (size_t i = 0; i < n && !ld; i++)
        if (f->key[i] >= 'A' && f->key[i] <= 'Z' && !(ld = malloc(n + 1)))
            return oom(p);
    for (size_t i = 0; ld && i <= n; i++)
        ld[i] = f->key[i] >= 'A' && f->key[i] <= 'Z'
                    ? (char)(f->key[i] - 'A' + 'a') : f->key[i];
    if (ld)
        lh = vv_hash(ld, 0);
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, p->inv);
    sqlite3_bind_int(st, 2, f->sect);
    sqlite3_bind_int64(st, 3, f->blk);
    sqlite3_bind_int64(st, 4, f->nkeys - 1);
    sqlite3_bind_text(st, 5, f->key, (int)n, SQLITE_STATIC);
    if (ld)
        sqlite3_bind_text(st, 6, ld, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_int64(st, 7, dh);
    sqlite3_bind_int64(st, 8, lh);
    sqlite3_bind_int(st, 9, bad);
    code = sqlite3_step(st);
    sqlite3_reset(st);
    if (code == SQLITE_DONE && ld) {
        st = p->ins_up;
        sqlite3_bind_int(st, 1, p->inv);
        sqlite3_bind_int(st, 2, f->sect);
        sqlite3_bind_int64(st, 3, f->blk);
        sqlite3_bind_int64(st, 4, lh);
        sqlite3_bind_int64(st, 5, f->nkeys - 1);
        sqlite3_bind_text(st, 6, ld, (int)n, SQLITE_STATIC);
        code = sqlite3_step(st);
        sqlite3_reset(st);
    }
    free(ld);
    return code == SQLITE_DONE ? 1 : db_failed(p, code);
}

static int add_elem_row(pctx *p, frame *f, const unsigned char *s, size_t n)
{
    sqlite3_stmt *st = p->ins_e;
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, p->inv);
    sqlite3_bind_int(st, 2, f->sect);
    sqlite3_bind_int64(st, 3, f->blk);
    sqlite3_bind_int64(st, 4, f->k);
    sqlite3_bind_int64(st, 5, f->e++);
    if (s)
        sqlite3_bind_text(st, 6, (const char *)s, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    int code = sqlite3_step(st);
    sqlite3_reset(st);
    return code == SQLITE_DONE ? 1 : db_failed(p, code);
}

/* A scalar or a container's node arrives where the top frame is: into
 * the tree, or (inside a streamed map) as a row saying what it was.  Takes
 * v. */
static int place(pctx *p, json_t *v)
{
    frame *f = top(p);
    if (!f) {
        p->root = v;
        return 1;
    }
    switch (f->kind) {
    case F_OBJ:
        if (json_object_get(f->node, f->key)) {
            json_decref(v);
            return not_json(p, "duplicate object key");
        }
        if (json_object_set_new_nocheck(f->node, f->key, v))
            return oom(p);
        return 1;
    case F_ARR:
        if (json_array_append_new(f->node, v))
            return oom(p);
        return 1;
    case F_SMAP:
        json_decref(v);
        return add_key_row(p, f, 1);
    case F_SARR:
        json_decref(v);
        return add_elem_row(p, f, NULL, 0);
    }
    json_decref(v);
    return 1;
}

static int push(pctx *p, frame f)
{
    if (p->depth >= MAX_DEPTH)
        return not_json(p, "maximum parsing depth reached");
    if (VL_GROW(p->st, p->cap, p->depth + 1, NULL) != VL_OK)
        return oom(p);
    p->st[p->depth++] = f;
    return 1;
}

static int go_on(const pctx *p)
{
    return !p->bad && !p->failed;
}

static int scalar(pctx *p, json_t *v)
{
    if (!go_on(p)) {
        json_decref(v);
        return 0;
    }
    if (!v)
        return oom(p);
    return place(p, v);
}

static int cb_null(void *ctx)
{
    return scalar(ctx, json_null());
}

static int cb_bool(void *ctx, int b)
{
    return scalar(ctx, json_boolean(b));
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    pctx *p = ctx;
    char small[64], *buf = small;
    json_t *v;
    if (!go_on(p))
        return 0;
    if (n >= sizeof small && !(buf = malloc(n + 1)))
        return oom(p);
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    /* jansson's limits: a long long, a finite double */
    if (strpbrk(buf, ".eE")) {
        double d = strtod(buf, NULL);
        v = errno == ERANGE && (d > 1.0 || d < -1.0) ? NULL : json_real(d);
        if (!v && errno == ERANGE)
            not_json(p, "real number overflow");
    } else {
        long long i = strtoll(buf, NULL, 10);
        v = errno == ERANGE ? NULL : json_integer(i);
        if (!v && errno == ERANGE)
            not_json(p, buf[0] == '-' ? "too big negative integer"
                                      : "too big integer");
    }
    if (buf != small)
        free(buf);
    if (p->bad)
        return 0;
    return scalar(p, v);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    pctx *p = ctx;
    if (!go_on(p))
        return 0;
    if (memchr(s, 0, n))
        return not_json(p, "\\u0000 is not allowed");
    frame *f = top(p);
    if (f && f->kind == F_SARR)
        return add_elem_row(p, f, s, n);
    return scalar(p, json_stringn_nocheck((const char *)s, n));
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
    pctx *p = ctx;
    frame *f = top(p);
    if (!go_on(p))
        return 0;
    if (memchr(s, 0, n))
        return not_json(p, "\\u0000 is not allowed");
    f->nkeys++;
    return set_key(p, f, s, n);
}

static int open_container(pctx *p, int is_map)
{
    frame *f = top(p);
    if (!go_on(p))
        return 0;
    /* where a big map starts, its rows go to the scratch index */
    if (is_map && f && f->kind == F_OBJ && !f->orphan) {
        int sect = -1;
        long blk = 0;
        if (f->role == R_ROOT && !strcmp(f->key, "manifest"))
            sect = 0;
        else if (f->role == R_VERSION && !strcmp(f->key, "state"))
            sect = 1, blk = f->blk;
        else if (f->role == R_FIXITY)
            sect = 2, blk = f->nkeys - 1;
        if (sect >= 0) {
            json_t *ph = json_object();   /* stands for it in the tree */
            if (!ph)
                return oom(p);
            if (!place(p, ph))
                return 0;
            return push(p, (frame){.kind = F_SMAP, .sect = sect, .blk = blk});
        }
    }
    if (!is_map && f && f->kind == F_SMAP) {
        /* a key's array of paths */
        return push(p, (frame){.kind = F_SARR, .sect = f->sect, .blk = f->blk,
                               .k = f->nkeys - 1});
    }
    json_t *node = is_map ? json_object() : json_array();
    if (!node)
        return oom(p);
    frame nf = {.kind = is_map ? F_OBJ : F_ARR, .node = node};
    /* a value inside a streamed map (not an array of paths, or not a
     * path): a row says what it was; it is still parsed, for its
     * strictness, then dropped */
    int streamed = f && (f->kind == F_SMAP || f->kind == F_SARR);
    nf.orphan = streamed || (f && f->orphan);
    if (!nf.orphan && is_map) {
        if (!f)
            nf.role = R_ROOT;
        else if (f->kind == F_OBJ && f->role == R_ROOT &&
                 !strcmp(f->key, "versions"))
            nf.role = R_VERSIONS;
        else if (f->kind == F_OBJ && f->role == R_ROOT &&
                 !strcmp(f->key, "fixity"))
            nf.role = R_FIXITY;
        else if (f->kind == F_OBJ && f->role == R_VERSIONS) {
            nf.role = R_VERSION;
            nf.blk = f->nkeys - 1;
        }
    }
    int ok;
    if (streamed) {
        ok = f->kind == F_SMAP ? add_key_row(p, f, 1)
                               : add_elem_row(p, f, NULL, 0);
    } else {
        json_incref(node);   /* the frame's own reference */
        ok = place(p, node);
    }
    if (!ok || !push(p, nf)) {
        json_decref(node);
        return 0;
    }
    return 1;
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, 1);
}

static int cb_start_array(void *ctx)
{
    return open_container(ctx, 0);
}

static int close_container(pctx *p)
{
    frame *f = top(p);
    if (!go_on(p))
        return 0;
    int ok = 1;
    if (f->kind == F_SARR) {
        frame *m = &p->st[p->depth - 2];
        ok = add_key_row(p, m, f->e == 0 ? 2 : 0);   /* 2: an empty array */
    }
    json_decref(f->node);   /* the frame's reference (a dropped one's last) */
    free(f->key);
    p->depth--;
    return ok;
}

static int cb_end(void *ctx)
{
    return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end, cb_start_array, cb_end,
};

static const char INS_K[] =
    "INSERT INTO k(inv, sect, blk, k, digest, ld, dh, lh, bad)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char INS_UP[] =
    "INSERT INTO kup(inv, sect, blk, lh, k, ld) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
/* A key twice in a streamed map (not JSON to a document parser): found
 * after the pass, in one scan of the hash index, rather than by a lookup
 * for each key; a shared hash is then told from a shared key. */
static const char Q_DUP_HASHES[] =
    "SELECT sect, dh, blk FROM k INDEXED BY k_h WHERE inv = ?1"
    " GROUP BY sect, dh, blk HAVING COUNT(*) > 1";
static const char Q_DUP_KEYS[] =
    "SELECT COUNT(DISTINCT digest) < COUNT(*) FROM k INDEXED BY k_h"
    " WHERE inv = ?1 AND sect = ?2 AND dh = ?3 AND blk = ?4";
static const char INS_E[] =
    "INSERT INTO e(inv, sect, blk, k, e, path) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/* One document being read: parser, byte check, digests, line count. */
typedef struct vv_reading {
    pctx *p;
    scan sc;
    vl_digest_ctx *dc;
    uint64_t size;
    long lines;              /* newlines before the current chunk */
    int stopped;             /* not JSON: the rest is only digested */
} vv_reading;

static void reading_free(vv_reading *r)
{
    if (r->p) {
        if (r->p->h)
            yajl_free(r->p->h);
        while (r->p->depth) {
            frame *f = top(r->p);
            json_decref(f->node);
            free(f->key);
            r->p->depth--;
        }
        free(r->p->st);
        json_decref(r->p->root);
        free(r->p);
    }
    vl_digest_free(r->dc);
    memset(r, 0, sizeof *r);
}

static int reading_new(vv_ctx *v, vv_inv *inv, vv_reading *r, vl_error *err)
{
    memset(r, 0, sizeof *r);
    if (!(r->p = calloc(1, sizeof *r->p)) ||
        !(r->dc = vl_digest_new(VL_DIGEST_BIT(VL_SHA512) |
                                VL_DIGEST_BIT(VL_SHA256)))) {
        reading_free(r);
        return vl_error_oom(err);
    }
    pctx *p = r->p;
    p->db = v->db;
    p->inv = inv->id = ++v->db->next_inv;
    inv->db = v->db;
    p->err = err;
    yajl_alloc_funcs funcs;
    vl_yajl_alloc_init(&p->ya, &p->failed, &funcs);
    int rc;
    if (!(p->h = yajl_alloc(&callbacks, &funcs, p)) || p->failed) {
        reading_free(r);
        return vl_error_oom(err);
    }
    yajl_config(p->h, yajl_dont_validate_strings, 1);  /* scan_feed does */
    if ((rc = vv_q(v->db, INS_K, &p->ins_k, err)) ||
        (rc = vv_q(v->db, INS_E, &p->ins_e, err)) ||
        (rc = vv_q(v->db, INS_UP, &p->ins_up, err))) {
        reading_free(r);
        return rc;
    }
    return VL_OK;
}

static long count_lines(const unsigned char *s, size_t n)
{
    long c = 0;
    for (const unsigned char *q = s; (q = memchr(q, '\n', n - (size_t)(q - s)));
         q++)
        c++;
    return c;
}

static void set_bad(vv_inv *inv, const char *why, long line)
{
    snprintf(inv->perr, sizeof inv->perr, "%s", why);
    inv->pline = line;
}

static int reading_feed(vv_reading *r, vv_inv *inv, const unsigned char *s,
                        size_t n, vl_error *err)
{
    pctx *p = r->p;
    vl_digest_update(r->dc, s, n);
    r->size += n;
    if (r->stopped)
        return VL_OK;
    size_t ok = scan_feed(&r->sc, s, n);
    if (yajl_parse(p->h, s, ok) != yajl_status_ok || p->bad || p->failed) {
        if (p->failed)
            return err->status ? err->status : vl_error_oom(err);
        size_t at = yajl_get_bytes_consumed(p->h);
        if (at > ok)
            at = ok;
        if (p->bad) {
            set_bad(inv, p->bad, r->lines + count_lines(s, at) + 1);
        } else {
            unsigned char *m = yajl_get_error(p->h, 0, s, ok);
            char why[160];
            snprintf(why, sizeof why, "%s", m ? (const char *)m : "syntax error");
            why[strcspn(why, "\n")] = '\0';
            if (m)
                yajl_free_error(p->h, m);
            set_bad(inv, why, r->lines + count_lines(s, at) + 1);
        }
        r->stopped = 1;
        return VL_OK;
    }
    if (r->sc.bad) {
        set_bad(inv, r->sc.bad, r->lines + count_lines(s, ok) + 1);
        r->stopped = 1;
        return VL_OK;
    }
    r->lines += count_lines(s, n);
    return VL_OK;
}

static int dup_keys(pctx *p, int *dup, vl_error *err)
{
    sqlite3_stmt *st, *keys;
    int rc, code;
    if ((rc = vv_q(p->db, Q_DUP_HASHES, &st, err)) ||
        (rc = vv_q(p->db, Q_DUP_KEYS, &keys, err)))
        return rc;
    sqlite3_bind_int(st, 1, p->inv);
    while (!*dup && (code = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_bind_int(keys, 1, p->inv);
        sqlite3_bind_int(keys, 2, sqlite3_column_int(st, 0));
        sqlite3_bind_int64(keys, 3, sqlite3_column_int64(st, 1));
        sqlite3_bind_int64(keys, 4, sqlite3_column_int64(st, 2));
        if ((code = sqlite3_step(keys)) == SQLITE_ROW)
            *dup = sqlite3_column_int(keys, 0);
        sqlite3_reset(keys);
        if (code != SQLITE_ROW)
            break;
    }
    sqlite3_reset(st);
    if (!*dup && code != SQLITE_DONE)
        return vv_db_fail(p->db, code, err);
    return VL_OK;
}

static int reading_finish(vv_reading *r, vv_inv *inv, vl_error *err)
{
    pctx *p = r->p;
    vl_digest_result res;
    int rc = vl_digest_final(r->dc, &res, err);
    if (rc)
        return rc;
    memcpy(inv->sha512, res.hex[VL_SHA512], VL_DIGEST_HEX_MAX);
    memcpy(inv->sha256, res.hex[VL_SHA256], VL_DIGEST_HEX_MAX);
    inv->size = r->size;
    inv->loaded = 1;
    if (!r->stopped) {
        if (yajl_complete_parse(p->h) != yajl_status_ok || p->bad ||
            p->failed) {
            if (p->failed)
                return err->status ? err->status : vl_error_oom(err);
            if (p->bad) {
                set_bad(inv, p->bad, r->lines + 1);
            } else {
                unsigned char *m = yajl_get_error(p->h, 0, NULL, 0);
                char why[160];
                snprintf(why, sizeof why, "%s",
                         m ? (const char *)m : "syntax error");
                why[strcspn(why, "\n")] = '\0';
                if (m)
                    yajl_free_error(p->h, m);
                set_bad(inv, why, r->lines + 1);
            }
            r->stopped = 1;
        } else if (r->sc.bad) {
            set_bad(inv, r->sc.bad, r->lines + 1);
            r->stopped = 1;
        }
    }
    if (!r->stopped) {
        int dup = 0;
        if ((rc = dup_keys(p, &dup, err)))
            return rc;
        if (dup) {
            set_bad(inv, "duplicate object key in the manifest, a state or a "
                         "fixity block", 0);
            r->stopped = 1;
        }
    }
    if (!r->stopped && !json_is_object(p->root) && !json_is_array(p->root)) {
        set_bad(inv, "'[' or '{' expected", 1);
        r->stopped = 1;
    }
    if (!r->stopped) {
        inv->root = p->root;
        p->root = NULL;
    }
    return VL_OK;
}

int vv_inventory_load(vv_ctx *v, vv_inv *inv, const char *data, size_t len,
                      vl_error *err)
{
    vv_reading r;
    int rc = reading_new(v, inv, &r, err);
    if (rc)
        return rc;
    /* in pieces, as a stream would come */
    for (size_t off = 0; off < len && rc == VL_OK; off += 65536)
        rc = reading_feed(&r, inv, (const unsigned char *)data + off,
                          len - off < 65536 ? len - off : 65536, err);
    if (rc == VL_OK)
        rc = reading_finish(&r, inv, err);
    reading_free(&r);
    return rc;
}

int vv_inventory_read(vv_ctx *v, const char *rel, vv_inv *inv, vl_error *err)
{
    vv_reading r;
    vl_reader *rd = NULL;
    unsigned char *buf = NULL;
    char *path = vv_join(v->base, rel);
    int rc;
    if (!path)
        return vl_error_oom(err);
    if ((rc = reading_new(v, inv, &r, err)))
        goto done;
    if (!(buf = malloc(65536))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_open(v->b, path, &rd, err)) != VL_OK)
        goto done;
    for (;;) {
        ssize_t n = vl_reader_read(rd, buf, 65536, err);
        if (n < 0) {
            rc = err->status ? err->status : VL_ESYS;
            goto done;
        }
        if (n == 0)
            break;
        if (r.size + (uint64_t)n > VV_INVENTORY_MAX) {
            rc = vl_error_set(err, VL_EINPUT, "%s is larger than %zu bytes",
                              path, VV_INVENTORY_MAX);
            goto done;
        }
        if ((rc = reading_feed(&r, inv, buf, (size_t)n, err)))
            goto done;
    }
    rc = reading_finish(&r, inv, err);
done:
    if (rc != VL_OK)
        vv_note(err);
    vl_reader_close(rd);
    reading_free(&r);
    free(buf);
    free(path);
    return rc;
}
