/* OCFL inventory.json read by a streaming parser (yajl) into an on-disk
 * index, and written back by streaming from that index: memory does not
 * grow with the file count (a million-file inventory is hundreds of MiB of
 * JSON, which a document tree would hold several times over).
 *
 * The index is a private SQLite database with no file name: SQLite keeps it
 * in its page cache (capped below) and spills to a temporary file beyond.
 * Version headers (created, message, user, counts) stay in memory: there
 * are few of them.  Conformance checking lives in the validator.
 *
 * A new version leaves the old ones' states as they were, and an object
 * of V versions has V states: each is kept as the text the writer makes
 * of it (laid out as it is parsed), written back as is, and made into rows
 * only when a query asks for that version.  So adding a version costs a
 * pass over the inventory's text, not an index of every version's rows. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "inventory_private.h"
#include "yajl_alloc_private.h"
#include "vl_storage.h"

/* Page cache of one inventory's index, KiB.  Enough to keep an ordinary
 * object's rows in memory; a huge one spills to the temporary file. */
#define INDEX_CACHE_KIB 8192
/* ...and of its spooled states: a few MiB of them stay in memory. */
#define SPOOL_CACHE_KIB 4096
#define VL_STR_(x) #x
#define VL_STR(x) VL_STR_(x)

typedef struct version {
    char *name;
    int num;                  /* parsed from name; negative for names that
                                 are not this object's version names */
    char *created, *message, *user_name, *user_address;
    int has_state;
    /* Its state's text as the writer lays it out is in the vstate table,
     * written back as is; its rows are in the state table only once
     * loaded (read back from that text when a query needs them). */
    int spooled, loaded;
    size_t file_count, metadata_count;
} version;

enum {
    ST_CONTENT_PATH,
    ST_LOOKUP,
    ST_FIXITY,
    ST_MANIFEST_ADD,
    ST_STATE_ADD,
    ST_FIXITY_ADD,
    ST_FIXITY_HAS,
    ST_SPOOL_ADD,
    ST_COUNT
};

struct vl_inventory {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    pthread_mutex_t mu;       /* recursive: foreach callbacks may look up */
    int broken;               /* the index lost a write: refuse everything */
    int query_failed;         /* a read failed: a "not there" may be wrong */
    char *id, *type, *head_name, *content_dir;
    vl_digest_alg alg;
    int head;
    int has_fixity;           /* a "fixity" block is written (even empty) */
    char **fix_algs;          /* its algorithms, even those with no entry */
    size_t nfix;
    version *v;
    size_t nv, cap;
};

/* ---- answers: strings handed out by the lookups ------------------------
 * A lookup's answer is copied out of the index into one of a few slots of
 * the calling thread, so it stays valid while that thread makes
 * ANSWER_SLOTS - 1 more lookups, whatever other threads do. */
#define ANSWER_SLOTS 16  /* and when the last inventory is freed, they go */

struct answers {
    char *slot[ANSWER_SLOTS];
    size_t cap[ANSWER_SLOTS];
    unsigned next;
};

static pthread_key_t answers_key;
static pthread_once_t answers_once = PTHREAD_ONCE_INIT;

static void answers_free(void *p)
{
    struct answers *a = p;
    if (!a)
        return;
    for (int i = 0; i < ANSWER_SLOTS; i++)
        free(a->slot[i]);
    free(a);
}

static void answers_init(void)
{
    if (pthread_key_create(&answers_key, answers_free) != 0)
        abort(); /* only with PTHREAD_KEYS_MAX keys taken: a programming error */
}

/* Inventories open in the process: when the last goes, the calling thread's
 * slots go too (other threads' go when they end). */
static _Atomic long live_inventories;

static void answers_release_mine(void)
{
    pthread_once(&answers_once, answers_init);
    struct answers *a = pthread_getspecific(answers_key);
    if (a) {
        pthread_setspecific(answers_key, NULL);
        answers_free(a);
    }
}

int vl_inventory_failed(const vl_inventory *inv)
{
    return inv->query_failed || inv->broken;
}

static const char *answer(const unsigned char *text, int len)
{
    pthread_once(&answers_once, answers_init);
    struct answers *a = pthread_getspecific(answers_key);
    if (!a) {
        if (!(a = calloc(1, sizeof *a)) || pthread_setspecific(answers_key, a) != 0) {
            free(a);
            vl_alloc_failed();
            return NULL;
        }
    }
    unsigned i = a->next++ % ANSWER_SLOTS;
    size_t need = (size_t)len + 1;
    if (a->cap[i] < need) {
        size_t cap = need < 256 ? 256 : need;
        char *p = realloc(a->slot[i], cap);
        if (!p) {
            vl_alloc_failed();
            return NULL;
        }
        a->slot[i] = p;
        a->cap[i] = cap;
    }
    memcpy(a->slot[i], text, (size_t)len);
    a->slot[i][len] = '\0';
    return a->slot[i];
}

/* ---- the index ------------------------------------------------------- */

static const char *const schema =
    "CREATE TABLE manifest (digest TEXT NOT NULL, path TEXT NOT NULL,"
    " pver INTEGER NOT NULL, k INTEGER NOT NULL);"
    "CREATE TABLE state (ver INTEGER NOT NULL, digest TEXT NOT NULL,"
    " path TEXT NOT NULL, k INTEGER NOT NULL);"
    "CREATE TABLE fixity (alg TEXT NOT NULL, digest TEXT NOT NULL,"
    " path TEXT NOT NULL, pver INTEGER NOT NULL, k INTEGER NOT NULL);"
    /* Spooled states (see version) are written once and read once, in
     * order, in 64 KiB pieces: a database of their own with pages that
     * size takes a sixteenth of the system calls a 4 KiB page would. */
    "ATTACH DATABASE '' AS spool;"
    "PRAGMA spool.page_size=65536;"
    "PRAGMA spool.journal_mode=OFF;"
    "PRAGMA spool.cache_size=-" VL_STR(SPOOL_CACHE_KIB) ";"
    "CREATE TABLE spool.vstate (ver INTEGER NOT NULL, text BLOB NOT NULL);"
    "CREATE INDEX spool.vstate_v ON vstate (ver);"
    "BEGIN;";

/* Built after a bulk load, which is faster than keeping them up to date
 * row by row.  The lookup indexes carry the answer too: SQLite prefers a
 * covering index, and would otherwise scan a version's whole state through
 * state_vdp for every lookup. */
static const char *const indexes =
    "CREATE INDEX manifest_dp ON manifest (digest, path);"
    "CREATE INDEX manifest_v ON manifest (pver);"
    "CREATE INDEX state_vp ON state (ver, path, digest);"
    "CREATE INDEX state_vdp ON state (ver, digest, path);"
    "CREATE INDEX fixity_ap ON fixity (alg, path, digest);"
    "CREATE INDEX fixity_adp ON fixity (alg, digest, path);"
    "CREATE INDEX fixity_v ON fixity (pver);";

static const char *const statements[ST_COUNT] = {
    [ST_CONTENT_PATH] = "SELECT path FROM manifest WHERE digest = ?1"
                        " ORDER BY path LIMIT 1",
    [ST_LOOKUP] = "SELECT digest FROM state WHERE ver = ?1 AND path = ?2 LIMIT 1",
    [ST_FIXITY] = "SELECT digest FROM fixity WHERE alg = ?1 AND path = ?2 LIMIT 1",
    [ST_MANIFEST_ADD] = "INSERT INTO manifest VALUES (?1, ?2, ?3, ?4)",
    [ST_STATE_ADD] = "INSERT INTO state VALUES (?1, ?2, ?3, ?4)",
    [ST_FIXITY_ADD] = "INSERT INTO fixity VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_FIXITY_HAS] = "SELECT 1 FROM fixity WHERE alg = ?1 AND path = ?2 LIMIT 1",
    [ST_SPOOL_ADD] = "INSERT INTO vstate VALUES (?1, ?2)",
};

static void lock(const vl_inventory *inv)
{
    pthread_mutex_lock(&((vl_inventory *)inv)->mu);
}

static void unlock(const vl_inventory *inv)
{
    pthread_mutex_unlock(&((vl_inventory *)inv)->mu);
}

/* A failed write may have rolled the index's transaction back (SQLite does
 * on a full disk or a failed allocation): then nothing it holds is sure. */
static int index_failed(vl_inventory *inv, int rc)
{
    inv->query_failed = 1;
    if (rc == SQLITE_NOMEM)
        vl_alloc_failed();
    if (sqlite3_get_autocommit(inv->db))
        inv->broken = 1;
    return -1;
}

static sqlite3_stmt *stmt(vl_inventory *inv, int which)
{
    if (!inv->st[which] &&
        sqlite3_prepare_v2(inv->db, statements[which], -1, &inv->st[which], NULL) != SQLITE_OK) {
        index_failed(inv, sqlite3_errcode(inv->db));
        return NULL;
    }
    return inv->st[which];
}

static void version_clear(version *v)
{
    free(v->name);
    free(v->created);
    free(v->message);
    free(v->user_name);
    free(v->user_address);
}

void vl_inventory_free(vl_inventory *inv)
{
    if (!inv)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(inv->st[i]);
    sqlite3_close(inv->db);
    pthread_mutex_destroy(&inv->mu);
    for (size_t i = 0; i < inv->nv; i++)
        version_clear(&inv->v[i]);
    free(inv->v);
    for (size_t i = 0; i < inv->nfix; i++)
        free(inv->fix_algs[i]);
    free(inv->fix_algs);
    free(inv->id);
    free(inv->type);
    free(inv->head_name);
    free(inv->content_dir);
    free(inv);
    if (--live_inventories == 0)
        answers_release_mine();
}

static vl_inventory *index_new(void)
{
    vl_inventory *inv = calloc(1, sizeof *inv);
    pthread_mutexattr_t ma;
    if (!inv)
        return NULL;
    live_inventories++;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&inv->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    if (vl_scratch_db_open(&inv->db, INDEX_CACHE_KIB, schema) != SQLITE_OK) {
        vl_inventory_free(inv);
        return NULL;
    }
    return inv;
}

static int parse_version_name(const char *s)
{
    if (!s || s[0] != 'v' || !s[1])
        return -1;
    long v = 0;
    for (const char *p = s + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return (int)v;
}

/* The version number a content path lies under ("v3/content/..." -> 3),
 * or 0. */
static int path_version(const char *p)
{
    char name[16];
    const char *slash = strchr(p, '/');
    if (!slash || (size_t)(slash - p) >= sizeof name)
        return 0;
    memcpy(name, p, (size_t)(slash - p));
    name[slash - p] = '\0';
    int n = parse_version_name(name);
    return n < 0 ? 0 : n;
}

static version *version_of(const vl_inventory *inv, int num)
{
    for (size_t i = inv->nv; i-- > 0;)
        if (inv->v[i].num == num)
            return &inv->v[i];
    return NULL;
}

static version *version_push(vl_inventory *inv)
{
    if (inv->nv == inv->cap) {
        size_t cap = inv->cap ? inv->cap * 2 : 16;
        version *v = realloc(inv->v, cap * sizeof *v);
        if (!v)
            return NULL;
        inv->v = v;
        inv->cap = cap;
    }
    version *v = &inv->v[inv->nv++];
    memset(v, 0, sizeof *v);
    return v;
}

/* Run a bound INSERT and make its statement ready for the next. */
static int step_insert(vl_inventory *inv, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : index_failed(inv, rc);
}

static int insert_manifest(vl_inventory *inv, const char *digest, size_t dlen,
                           const char *path, size_t plen, long k)
{
    sqlite3_stmt *st = stmt(inv, ST_MANIFEST_ADD);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, digest, (int)dlen, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, (int)plen, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, path_version(path));
    sqlite3_bind_int64(st, 4, k);
    return step_insert(inv, st);
}

static int insert_state(vl_inventory *inv, int ver, const char *digest,
                        size_t dlen, const char *path, size_t plen, long k)
{
    sqlite3_stmt *st = stmt(inv, ST_STATE_ADD);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, ver);
    sqlite3_bind_text(st, 2, digest, (int)dlen, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, path, (int)plen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, k);
    return step_insert(inv, st);
}

static int insert_fixity(vl_inventory *inv, const char *alg, const char *digest,
                         size_t dlen, const char *path, size_t plen, long k)
{
    sqlite3_stmt *st = stmt(inv, ST_FIXITY_ADD);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, alg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, digest, (int)dlen, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, path, (int)plen, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, path_version(path));
    sqlite3_bind_int64(st, 5, k);
    return step_insert(inv, st);
}

/* Remember a fixity algorithm's name (once): 0, or -1 out of memory. */
static int note_fixity_alg(vl_inventory *inv, const char *alg)
{
    for (size_t i = 0; i < inv->nfix; i++)
        if (!strcmp(inv->fix_algs[i], alg))
            return 0;
    char **a = realloc(inv->fix_algs, (inv->nfix + 1) * sizeof *a);
    if (!a)
        return -1;
    inv->fix_algs = a;
    if (!(a[inv->nfix] = strdup(alg)))
        return -1;
    inv->nfix++;
    inv->has_fixity = 1;
    return 0;
}

static int count_path(version *v, const char *path, size_t len)
{
    v->file_count++;
    if ((len == 8 && !memcmp(path, "METS.xml", 8)) ||
        (len >= 9 && !memcmp(path, "metadata/", 9)))
        v->metadata_count++;
    return 0;
}

vl_inventory *vl_inventory_new(const char *id, vl_digest_alg alg)
{
    vl_inventory *inv = index_new();
    if (!inv)
        return NULL;
    inv->alg = alg;
    if (!(inv->id = strdup(id)) || !(inv->type = strdup(VL_OCFL_INVENTORY_TYPE_1_1)) ||
        !(inv->head_name = strdup("v0")) ||
        sqlite3_exec(inv->db, indexes, NULL, NULL, NULL) != SQLITE_OK) {
        vl_inventory_free(inv);
        return NULL;
    }
    return inv;
}

/* ---- streaming write --------------------------------------------------
 * The layout is jansson's JSON_INDENT(2) | JSON_SORT_KEYS, which vellum
 * wrote before it streamed: keys in byte order, two spaces a level. */

typedef struct writer {
    vl_inventory_sink sink;
    void *arg;
    char buf[65536];
    size_t len;
    int failed;
} writer;

static void w_flush(writer *w)
{
    if (w->len && !w->failed && w->sink(w->buf, w->len, w->arg) != 0)
        w->failed = 1;
    w->len = 0;
}

static void w_put(writer *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n > sizeof w->buf) {
        w_flush(w);
        if (n > sizeof w->buf) {
            if (!w->failed && w->sink(s, n, w->arg) != 0)
                w->failed = 1;
            return;
        }
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void w_str(writer *w, const char *s) { w_put(w, s, strlen(s)); }

static void w_indent(writer *w, int level)
{
    static const char spaces[] = "                                ";
    w_put(w, "\n", 1);
    w_put(w, spaces, (size_t)(2 * level) < sizeof spaces - 1 ? (size_t)(2 * level)
                                                              : sizeof spaces - 1);
}

/* 1 when one of 8 bytes is a control character, '"' or '\\' (the
 * "has less than" and "has zero" tests of bit twiddling, exact as a
 * yes/no): every digest and path of every version passes here. */
static int any_escaped(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high ? 1 : 0;
}

/* A JSON string as jansson writes it: '"' and '\' escaped, control
 * characters as their short escape or \u00XX, everything else as is. */
static void w_json_string(writer *w, const char *s, size_t n)
{
    size_t run = 0, i = 0;
    uint64_t x;
    w_put(w, "\"", 1);
    while (i + 8 <= n && (memcpy(&x, s + i, 8), !any_escaped(x)))
        i += 8;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c < 0x20) {
            switch (c) {
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default:
                snprintf(u, sizeof u, "\\u%04X", c);
                esc = u;
            }
        }
        if (!esc)
            continue;
        w_put(w, s + run, i - run);
        w_str(w, esc);
        run = i + 1;
    }
    w_put(w, s + run, n - run);
    w_put(w, "\"", 1);
}

static void w_key(writer *w, int level, int *first, const char *key)
{
    if (!*first)
        w_put(w, ",", 1);
    *first = 0;
    w_indent(w, level);
    w_json_string(w, key, strlen(key));
    w_put(w, ": ", 2);
}

static void w_string_member(writer *w, int level, int *first, const char *key,
                            const char *value)
{
    w_key(w, level, first, key);
    w_json_string(w, value, strlen(value));
}

/* ---- streaming parse ------------------------------------------------- */

typedef enum frame_kind {
    F_TOP,
    F_MANIFEST,     /* digest -> [paths] */
    F_PATHS,        /* an array of paths of a manifest, state or fixity key */
    F_VERSIONS,
    F_VERSION,
    F_USER,
    F_STATE,
    F_FIXITY,       /* algorithm -> block */
    F_FIXBLOCK,     /* digest -> [paths] */
    F_SKIP          /* a value vellum does not use */
} frame_kind;

enum { PATHS_MANIFEST, PATHS_STATE, PATHS_FIXITY };

#define MAX_DEPTH 8

/* Top-level keys, for duplicates (rejected, as a document parser would). */
enum { K_ID = 1, K_TYPE = 2, K_ALG = 4, K_HEAD = 8, K_CDIR = 16, K_MANIFEST = 32,
       K_VERSIONS = 64, K_FIXITY = 128 };

typedef struct parser {
    vl_inventory *inv;
    yajl_handle h;
    frame_kind stack[MAX_DEPTH];
    int depth;
    int skip;                 /* nesting inside an F_SKIP value */
    char *key;                /* the pending key of the current map */
    size_t key_len, key_cap;
    char *digest;             /* key of the array being read */
    size_t digest_len, digest_cap;
    int paths_of;             /* PATHS_* */
    char *fix_alg;            /* the fixity block being read */
    char *bad_alg;            /* a digestAlgorithm vellum cannot use */
    version *cur;             /* the version being read: index into inv->v */
    size_t cur_index;
    long k;                   /* ordinal of the map key an array belongs to */
    unsigned seen;            /* K_* */
    unsigned vseen;           /* keys of the current version */
    int bad_shape;            /* a required member of the wrong type */
    int duplicate;
    int failed;               /* the index or memory failed */
    int done;                 /* the top-level object closed */
    /* The state being read, laid out as the writer would (spool_sink puts
     * it in the vstate table), and whether it is in the writer's order:
     * digests strictly rising, each one's paths not falling, no empty
     * array.  Only then is that text what the rows would write. */
    writer *sw;
    int canon;
    int st_any;               /* a digest of this state was seen */
    size_t npaths;            /* paths of its current digest so far */
    char *last;               /* the previous of those paths */
    size_t last_len, last_cap;
    int load_ver;             /* load_rows: the version whose rows it reads */
    vl_yajl_alloc ya;         /* yajl's allocator (out of memory: failed) */
} parser;

struct vl_inventory_parser {
    parser p;
};

static int set_buf(char **buf, size_t *len, size_t *cap, const unsigned char *s,
                   size_t n)
{
    if (*cap < n + 1) {
        size_t c = n + 1 < 128 ? 128 : n + 1;
        char *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf, s, n);
    (*buf)[n] = '\0';
    *len = n;
    return 0;
}

static int key_is(const parser *p, const char *k)
{
    return strlen(k) == p->key_len && !memcmp(p->key, k, p->key_len);
}

static int push(parser *p, frame_kind k)
{
    if (p->depth >= MAX_DEPTH) {
        p->bad_shape = 1;
        return 0;
    }
    p->stack[p->depth++] = k;
    return 1;
}

static frame_kind top(const parser *p)
{
    return p->depth ? p->stack[p->depth - 1] : F_TOP;
}

static char *dup_n(const unsigned char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* What a value at the current position must be. */
typedef enum want { W_ANY, W_STRING, W_MAP, W_ARRAY } want;

static int mark_top(parser *p, unsigned bit)
{
    if (p->seen & bit)
        p->duplicate = 1;
    p->seen |= bit;
    return 1;
}

static int mark_version(parser *p, unsigned bit)
{
    if (p->vseen & bit)
        p->duplicate = 1;
    p->vseen |= bit;
    return 1;
}

/* A value that is not what its position needs: a required member makes the
 * inventory unusable; anything else is passed over (the validator reports
 * it). */
static int wrong_type(parser *p)
{
    switch (top(p)) {
    case F_TOP:
        if (key_is(p, "id") || key_is(p, "digestAlgorithm") || key_is(p, "head") ||
            key_is(p, "manifest") || key_is(p, "versions") ||
            key_is(p, "contentDirectory"))
            p->bad_shape = 1;
        break;
    case F_MANIFEST:
    case F_PATHS:
        if (p->paths_of != PATHS_FIXITY || top(p) == F_MANIFEST)
            p->bad_shape = 1;
        break;
    case F_VERSIONS:
    case F_STATE:
        p->bad_shape = 1;
        break;
    case F_VERSION:
        if (key_is(p, "state"))
            p->bad_shape = 1;
        break;
    default:
        break;
    }
    return 1;
}

static int on_scalar(parser *p)
{
    if (p->failed)
        return 0;
    if (top(p) == F_SKIP)
        return 1;
    return wrong_type(p);
}

static int cb_null(void *ctx) { return on_scalar(ctx); }
static int cb_bool(void *ctx, int b) { (void)b; return on_scalar(ctx); }
static int cb_number(void *ctx, const char *s, size_t n)
{
    (void)s;
    (void)n;
    return on_scalar(ctx);
}

static int take_string(char **slot, const unsigned char *s, size_t n, parser *p)
{
    free(*slot);
    if (!(*slot = dup_n(s, n))) {
        p->failed = 1;
        return 0;
    }
    return 1;
}

/* Byte order, as SQLite's BINARY collation sorts the rows. */
static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int spool_sink(const char *data, size_t len, void *arg)
{
    parser *p = arg;
    vl_inventory *inv = p->inv;
    sqlite3_stmt *st = stmt(inv, ST_SPOOL_ADD);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, inv->v[p->cur_index].num);
    sqlite3_bind_blob(st, 2, data, (int)len, SQLITE_STATIC);
    return step_insert(inv, st);
}

static int state_path(parser *p, const unsigned char *s, size_t n)
{
    const char *path = (const char *)s;
    if (p->npaths) {
        if (cmp_bytes(path, n, p->last, p->last_len) < 0)
            p->canon = 0;
        w_put(p->sw, ",", 1);
    }
    w_indent(p->sw, 5);
    w_json_string(p->sw, path, n);
    p->npaths++;
    count_path(&p->inv->v[p->cur_index], path, n);
    if (set_buf(&p->last, &p->last_len, &p->last_cap, s, n) != 0) {
        p->failed = 1;
        return 0;
    }
    return 1;
}

static int unspool(vl_inventory *inv, version *v);

/* The end of a version's state: its text is spooled; one not in the
 * writer's order goes to rows now (as every state did before), so that the
 * index checks for duplicate keys see it. */
static int end_state(parser *p)
{
    writer *w = p->sw;
    version *v = &p->inv->v[p->cur_index];
    if (p->st_any) {
        w_indent(w, 4);
        w_put(w, "]", 1);
        w_indent(w, 3);
        w_put(w, "}", 1);
    } else
        w_put(w, "{}", 2);
    w_flush(w);
    v->spooled = 1;
    if (w->failed || (!p->canon && unspool(p->inv, v) != 0)) {
        p->failed = 1;
        return 0;
    }
    return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    parser *p = ctx;
    if (p->failed)
        return 0;
    vl_inventory *inv = p->inv;
    switch (top(p)) {
    case F_SKIP:
        return 1;
    case F_TOP:
        if (key_is(p, "id"))
            return mark_top(p, K_ID) && take_string(&inv->id, s, n, p);
        if (key_is(p, "type"))
            return mark_top(p, K_TYPE) && take_string(&inv->type, s, n, p);
        if (key_is(p, "head"))
            return mark_top(p, K_HEAD) && take_string(&inv->head_name, s, n, p);
        if (key_is(p, "contentDirectory"))
            return mark_top(p, K_CDIR) && take_string(&inv->content_dir, s, n, p);
        if (key_is(p, "digestAlgorithm")) {
            char name[32];
            mark_top(p, K_ALG);
            snprintf(name, sizeof name, "%.*s", (int)(n < 31 ? n : 31), (const char *)s);
            vl_digest_alg a;
            if (n >= 31 || vl_digest_from_name(name, &a) != 0 ||
                (a != VL_SHA512 && a != VL_SHA256)) {
                p->bad_shape = 2;
                return take_string(&p->bad_alg, s, n, p);
            }
            inv->alg = a;
            return 1;
        }
        return 1;
    case F_VERSION: {
        version *v = &inv->v[p->cur_index];
        if (key_is(p, "created"))
            return mark_version(p, 1) && take_string(&v->created, s, n, p);
        if (key_is(p, "message"))
            return mark_version(p, 2) && take_string(&v->message, s, n, p);
        if (key_is(p, "state") || key_is(p, "user"))
            return wrong_type(p);
        return 1;
    }
    case F_USER: {
        version *v = &inv->v[p->cur_index];
        if (key_is(p, "name"))
            return take_string(&v->user_name, s, n, p);
        if (key_is(p, "address"))
            return take_string(&v->user_address, s, n, p);
        return 1;
    }
    case F_PATHS: {
        int rc = 0;
        if (p->paths_of == PATHS_MANIFEST)
            rc = insert_manifest(inv, p->digest, p->digest_len, (const char *)s, n, p->k);
        else if (p->paths_of == PATHS_STATE)
            return state_path(p, s, n);
        else
            rc = insert_fixity(inv, p->fix_alg, p->digest, p->digest_len,
                               (const char *)s, n, p->k);
        if (rc != 0) {
            p->failed = 1;
            return 0;
        }
        return 1;
    }
    default:
        return wrong_type(p);
    }
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
    parser *p = ctx;
    if (p->failed)
        return 0;
    if (top(p) == F_SKIP)
        return 1;
    if (set_buf(&p->key, &p->key_len, &p->key_cap, s, n) != 0) {
        p->failed = 1;
        return 0;
    }
    return 1;
}

static int start_skip(parser *p)
{
    p->skip = 1;
    return push(p, F_SKIP);
}

static int cb_start_map(void *ctx)
{
    parser *p = ctx;
    if (p->failed)
        return 0;
    vl_inventory *inv = p->inv;
    if (p->done)
        return 0;
    if (p->depth == 0 && !p->key) {
        /* the document itself: a key buffer marks that it has begun */
        if (set_buf(&p->key, &p->key_len, &p->key_cap, (const unsigned char *)"", 0)) {
            p->failed = 1;
            return 0;
        }
        return push(p, F_TOP);
    }
    switch (top(p)) {
    case F_SKIP:
        p->skip++;
        return 1;
    case F_TOP:
        if (p->depth == 0)
            return 0; /* a second document */
        if (key_is(p, "manifest"))
            return mark_top(p, K_MANIFEST) && push(p, F_MANIFEST);
        if (key_is(p, "versions"))
            return mark_top(p, K_VERSIONS) && push(p, F_VERSIONS);
        if (key_is(p, "fixity")) {
            mark_top(p, K_FIXITY);
            inv->has_fixity = 1;
            return push(p, F_FIXITY);
        }
        wrong_type(p);
        return start_skip(p);
    case F_VERSIONS: {
        version *v = version_push(inv);
        if (!v || !(v->name = dup_n((const unsigned char *)p->key, p->key_len))) {
            p->failed = 1;
            return 0;
        }
        int num = parse_version_name(v->name);
        /* a name that is no version number still gets a number of its own,
         * so its rows never mix with a real version's */
        v->num = num >= 1 ? num : -(int)inv->nv;
        for (size_t i = 0; i + 1 < inv->nv; i++)
            if (!strcmp(inv->v[i].name, v->name) ||
                (num >= 1 && inv->v[i].num == num))
                p->duplicate = 1;
        p->cur_index = inv->nv - 1;
        p->vseen = 0;
        return push(p, F_VERSION);
    }
    case F_VERSION:
        if (key_is(p, "state")) {
            mark_version(p, 4);
            inv->v[p->cur_index].has_state = 1;
            p->canon = 1;
            p->st_any = 0;
            p->sw->len = 0;
            p->sw->failed = 0;
            return push(p, F_STATE);
        }
        if (key_is(p, "user")) {
            mark_version(p, 8);
            return push(p, F_USER);
        }
        return start_skip(p);
    case F_FIXITY:
        free(p->fix_alg);
        if (!(p->fix_alg = dup_n((const unsigned char *)p->key, p->key_len)) ||
            note_fixity_alg(inv, p->fix_alg) != 0) {
            p->failed = 1;
            return 0;
        }
        return push(p, F_FIXBLOCK);
    default:
        wrong_type(p);
        return start_skip(p);
    }
}

/* The end of a skipped value's inner container: 1 when it was one. */
static int end_skipped(parser *p)
{
    if (top(p) != F_SKIP)
        return 0;
    if (--p->skip == 0)
        p->depth--;
    return 1;
}

static int cb_end_map(void *ctx)
{
    parser *p = ctx;
    if (p->failed)
        return 0;
    if (end_skipped(p))
        return 1;
    if (top(p) == F_STATE && !end_state(p))
        return 0;
    if (top(p) == F_FIXBLOCK) {
        free(p->fix_alg);
        p->fix_alg = NULL;
    }
    p->depth--;
    if (p->depth == 0)
        p->done = 1;
    return 1;
}

static int cb_start_array(void *ctx)
{
    parser *p = ctx;
    if (p->failed)
        return 0;
    switch (top(p)) {
    case F_SKIP:
        p->skip++;
        return 1;
    case F_MANIFEST:
    case F_STATE:
    case F_FIXBLOCK:
        p->paths_of = top(p) == F_MANIFEST ? PATHS_MANIFEST
                      : top(p) == F_STATE  ? PATHS_STATE
                                           : PATHS_FIXITY;
        if (p->paths_of == PATHS_STATE) {
            if (p->st_any) {
                if (cmp_bytes(p->key, p->key_len, p->digest, p->digest_len) <= 0)
                    p->canon = 0;
                w_indent(p->sw, 4);
                w_put(p->sw, "],", 2);
            } else
                w_put(p->sw, "{", 1);
            w_indent(p->sw, 4);
            w_json_string(p->sw, p->key, p->key_len);
            w_put(p->sw, ": [", 3);
            p->st_any = 1;
            p->npaths = 0;
        }
        if (set_buf(&p->digest, &p->digest_len, &p->digest_cap,
                    (const unsigned char *)p->key, p->key_len) != 0) {
            p->failed = 1;
            return 0;
        }
        p->k++;
        return push(p, F_PATHS);
    default:
        wrong_type(p);
        return start_skip(p);
    }
}

static int cb_end_array(void *ctx)
{
    parser *p = ctx;
    if (p->failed)
        return 0;
    if (end_skipped(p))
        return 1;
    if (p->paths_of == PATHS_STATE && !p->npaths)
        p->canon = 0; /* the writer has no empty arrays */
    p->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

/* ---- a spooled state read back into rows ------------------------------ */

static int ld_key(void *ctx, const unsigned char *s, size_t n)
{
    parser *p = ctx;
    if (p->failed || set_buf(&p->digest, &p->digest_len, &p->digest_cap, s, n) != 0) {
        p->failed = 1;
        return 0;
    }
    return 1;
}

static int ld_start_array(void *ctx)
{
    parser *p = ctx;
    p->k++;
    return !p->failed;
}

static int ld_string(void *ctx, const unsigned char *s, size_t n)
{
    parser *p = ctx;
    if (p->failed || insert_state(p->inv, p->load_ver, p->digest, p->digest_len,
                                  (const char *)s, n, p->k) != 0) {
        p->failed = 1;
        return 0;
    }
    return 1;
}

static int ld_go_on(void *ctx) { return !((parser *)ctx)->failed; }

static const yajl_callbacks load_callbacks = {
    NULL, NULL, NULL, NULL, NULL, ld_string,
    ld_go_on, ld_key, ld_go_on, ld_start_array, ld_go_on,
};

static int query(vl_inventory *inv, const char *sql, sqlite3_stmt **st);

/* Make the rows of a spooled version's state, from its text, the first
 * time a query needs them: a new version reads only the head's. */
static int load_rows(vl_inventory *inv, version *v)
{
    parser *lp = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, step;
    if (!v->spooled || v->loaded)
        return 0;
    if (inv->broken)
        return -1;
    if (!(lp = calloc(1, sizeof *lp))) {
        vl_alloc_failed();
        goto done;
    }
    lp->inv = inv;
    lp->load_ver = v->num;
    yajl_alloc_funcs funcs;
    vl_yajl_alloc_init(&lp->ya, &lp->failed, &funcs);
    if (!(lp->h = yajl_alloc(&load_callbacks, &funcs, lp)) || lp->failed ||
        query(inv, "SELECT text FROM vstate WHERE ver = ?1 ORDER BY rowid", &st) != 0)
        goto done;
    sqlite3_bind_int(st, 1, v->num);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        if (!text || yajl_parse(lp->h, text, (size_t)n) != yajl_status_ok)
            goto done;
    }
    if (step != SQLITE_DONE) {
        index_failed(inv, step);
        goto done;
    }
    if (yajl_complete_parse(lp->h) != yajl_status_ok)
        goto done;
    v->loaded = 1;
    rc = 0;
done:
    if (rc != 0) {
        /* rows of it may be in: a second try would double them */
        inv->query_failed = 1;
        if (lp && lp->k)
            inv->broken = 1;
    }
    sqlite3_finalize(st);
    if (lp) {
        if (lp->h)
            yajl_free(lp->h);
        free(lp->digest);
        free(lp);
    }
    return rc;
}

/* Rows only, from now on: before a version's state changes. */
static int unspool(vl_inventory *inv, version *v)
{
    sqlite3_stmt *st = NULL;
    if (!v->spooled)
        return 0;
    if (load_rows(inv, v) != 0 ||
        query(inv, "DELETE FROM vstate WHERE ver = ?1", &st) != 0)
        return -1;
    sqlite3_bind_int(st, 1, v->num);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return index_failed(inv, step);
    v->spooled = v->loaded = 0;
    return 0;
}


int vl_inventory_parser_new(vl_inventory_parser **out, vl_error *err)
{
    vl_inventory_parser *ip = calloc(1, sizeof *ip);
    parser *p;
    if (!ip)
        return vl_error_oom(err);
    p = &ip->p;
    if (!(p->inv = index_new())) {
        free(ip);
        return vl_error_set(err, VL_ESYS, "inventory: cannot make its index");
    }
    yajl_alloc_funcs funcs;
    vl_yajl_alloc_init(&p->ya, &p->failed, &funcs);
    if (!(p->sw = calloc(1, sizeof *p->sw)) ||
        !(p->h = yajl_alloc(&callbacks, &funcs, p)) || p->failed) {
        vl_inventory_parser_free(ip);
        return vl_error_oom(err);
    }
    p->sw->sink = spool_sink;
    p->sw->arg = p;
    *out = ip;
    return VL_OK;
}

void vl_inventory_parser_free(vl_inventory_parser *ip)
{
    if (!ip)
        return;
    parser *p = &ip->p;
    if (p->h)
        yajl_free(p->h);
    vl_inventory_free(p->inv);
    free(p->key);
    free(p->digest);
    free(p->fix_alg);
    free(p->bad_alg);
    free(p->sw);
    free(p->last);
    free(ip);
}

static int syntax_error(parser *p, const unsigned char *data, size_t len,
                        vl_error *err)
{
    if (p->failed)
        return vl_error_set(err, VL_ESYS, "inventory: out of memory or temporary "
                            "space for its index");
    unsigned char *m = yajl_get_error(p->h, 0, data, len);
    int rc = vl_error_set(err, VL_EINPUT, "inventory is not valid JSON: %s",
                          m ? (const char *)m : "syntax error");
    if (m)
        yajl_free_error(p->h, m);
    return rc;
}

int vl_inventory_parser_feed(vl_inventory_parser *ip, const void *data, size_t len,
                             vl_error *err)
{
    parser *p = &ip->p;
    if (yajl_parse(p->h, data, len) != yajl_status_ok)
        return syntax_error(p, data, len, err);
    return VL_OK;
}

int vl_inventory_parser_finish(vl_inventory_parser *ip, vl_inventory **out,
                               vl_error *err)
{
    parser *p = &ip->p;
    vl_inventory *inv = p->inv;
    sqlite3_stmt *st = NULL;
    int rc = VL_OK;
    if (yajl_complete_parse(p->h) != yajl_status_ok)
        return syntax_error(p, NULL, 0, err);
    if (p->failed)
        return syntax_error(p, NULL, 0, err);
    if (!p->done)
        return vl_error_set(err, VL_EINPUT, "inventory is not valid JSON: not an object");
    if (p->duplicate)
        return vl_error_set(err, VL_EINPUT, "inventory is not valid JSON: "
                            "duplicate object key");
    if (p->bad_shape == 2)
        return vl_error_set(err, VL_EINPUT, "inventory digestAlgorithm \"%s\" "
                            "is not sha512 or sha256", p->bad_alg);
    if (p->bad_shape || !inv->id || !(p->seen & K_ALG) || !inv->head_name ||
        !(p->seen & K_MANIFEST) || !(p->seen & K_VERSIONS))
        return vl_error_set(err, VL_EINPUT, "inventory lacks id, digestAlgorithm, "
                            "head, manifest or versions of the right type");
    int h = parse_version_name(inv->head_name);
    if (h < 1)
        return vl_error_set(err, VL_EINPUT, "inventory head \"%s\" is not a version",
                            inv->head_name);
    inv->head = h;
    for (int n = 1; n <= h; n++) {
        char name[16];
        vl_inventory_version_name(inv, n, name);
        version *v = version_of(inv, n);
        if (!v || strcmp(v->name, name) != 0 || !v->has_state)
            return vl_error_set(err, VL_EINPUT, "inventory version %s is missing "
                                "or has no state", name);
    }
    if (sqlite3_exec(inv->db, indexes, NULL, NULL, NULL) != SQLITE_OK) {
        index_failed(inv, sqlite3_errcode(inv->db));
        return vl_error_set(err, VL_ESYS, "inventory index: %s", sqlite3_errmsg(inv->db));
    }
    /* A key given twice in one map: its paths came under two ordinals. */
    if (sqlite3_prepare_v2(inv->db,
                           "SELECT 1 FROM (SELECT digest FROM manifest GROUP BY digest"
                           " HAVING min(k) != max(k) LIMIT 1)"
                           " UNION ALL SELECT 1 FROM (SELECT ver FROM state"
                           " GROUP BY ver, digest HAVING min(k) != max(k) LIMIT 1)"
                           " UNION ALL SELECT 1 FROM (SELECT alg FROM fixity"
                           " GROUP BY alg, digest HAVING min(k) != max(k) LIMIT 1)",
                           -1, &st, NULL) != SQLITE_OK) {
        index_failed(inv, sqlite3_errcode(inv->db));
        rc = vl_error_set(err, VL_ESYS, "inventory index: %s", sqlite3_errmsg(inv->db));
        goto done;
    }
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        rc = vl_error_set(err, VL_EINPUT, "inventory is not valid JSON: "
                          "duplicate object key");
        goto done;
    }
    if (step != SQLITE_DONE) {
        index_failed(inv, step);
        rc = vl_error_set(err, VL_ESYS, "inventory index: %s", sqlite3_errmsg(inv->db));
        goto done;
    }
    *out = inv;
    p->inv = NULL;
done:
    sqlite3_finalize(st);
    return rc;
}

int vl_inventory_parse(const char *text, size_t len, vl_inventory **out,
                       vl_error *err)
{
    vl_inventory_parser *ip = NULL;
    int rc = vl_inventory_parser_new(&ip, err);
    if (rc == VL_OK)
        rc = vl_inventory_parser_feed(ip, text, len, err);
    if (rc == VL_OK)
        rc = vl_inventory_parser_finish(ip, out, err);
    vl_inventory_parser_free(ip);
    return rc;
}

/* A {digest: [paths]} map from rows (digest, path) in digest then path
 * order, at `level` (the level of its key). */
static int w_path_map(writer *w, vl_inventory *inv, sqlite3_stmt *st, int level)
{
    int rc, any = 0;
    char *last = NULL;
    size_t last_len = 0, last_cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !w->failed) {
        const char *d = (const char *)sqlite3_column_text(st, 0);
        size_t dlen = (size_t)sqlite3_column_bytes(st, 0);
        const char *path = (const char *)sqlite3_column_text(st, 1);
        size_t plen = (size_t)sqlite3_column_bytes(st, 1);
        if (!d || !path) {
            rc = SQLITE_NOMEM;
            break;
        }
        if (!any || dlen != last_len || memcmp(d, last, dlen) != 0) {
            if (any) {
                w_indent(w, level + 1);
                w_put(w, "],", 2);
            } else
                w_put(w, "{", 1);
            w_indent(w, level + 1);
            w_json_string(w, d, dlen);
            w_put(w, ": [", 3);
            if (set_buf(&last, &last_len, &last_cap, (const unsigned char *)d, dlen)) {
                rc = SQLITE_NOMEM;
                break;
            }
            any = 1;
        } else
            w_put(w, ",", 1);
        w_indent(w, level + 2);
        w_json_string(w, path, plen);
    }
    free(last);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return index_failed(inv, rc);
    if (!any)
        w_put(w, "{}", 2);
    else {
        w_indent(w, level + 1);
        w_put(w, "]", 1);
        w_indent(w, level);
        w_put(w, "}", 1);
    }
    return 0;
}

static int query(vl_inventory *inv, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(inv->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return index_failed(inv, sqlite3_errcode(inv->db));
    }
    return 0;
}

static int cmp_version_name(const void *a, const void *b)
{
    return strcmp((*(version *const *)a)->name, (*(version *const *)b)->name);
}

/* A spooled state: its text as it was laid out when parsed. */
static int w_spooled(writer *w, vl_inventory *inv, sqlite3_stmt *st, int ver)
{
    int step;
    sqlite3_bind_int(st, 1, ver);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && !w->failed) {
        const char *text = sqlite3_column_blob(st, 0);
        if (!text) {
            step = SQLITE_NOMEM;
            break;
        }
        w_put(w, text, (size_t)sqlite3_column_bytes(st, 0));
    }
    sqlite3_reset(st);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : index_failed(inv, step);
}

static int dump_versions(writer *w, vl_inventory *inv)
{
    version **order = malloc((inv->nv ? inv->nv : 1) * sizeof *order);
    sqlite3_stmt *st = NULL, *sp = NULL;
    int rc = 0;
    if (!order)
        return -1;
    for (size_t i = 0; i < inv->nv; i++)
        order[i] = &inv->v[i];
    qsort(order, inv->nv, sizeof *order, cmp_version_name);
    if (query(inv, "SELECT digest, path FROM state WHERE ver = ?1"
                   " ORDER BY digest, path", &st) != 0 ||
        query(inv, "SELECT text FROM vstate WHERE ver = ?1 ORDER BY rowid", &sp) != 0) {
        rc = -1;
        goto done;
    }
    if (!inv->nv) {
        w_str(w, "{}");
        goto done;
    }
    w_put(w, "{", 1);
    for (size_t i = 0; i < inv->nv && rc == 0; i++) {
        version *v = order[i];
        int first = 1, vfirst = i == 0;
        w_key(w, 2, &vfirst, v->name);
        w_put(w, "{", 1);
        if (v->created)
            w_string_member(w, 3, &first, "created", v->created);
        if (v->message)
            w_string_member(w, 3, &first, "message", v->message);
        if (v->has_state) {
            w_key(w, 3, &first, "state");
            if (v->spooled)
                rc = w_spooled(w, inv, sp, v->num);
            else {
                sqlite3_bind_int(st, 1, v->num);
                rc = w_path_map(w, inv, st, 3);
                sqlite3_reset(st);
            }
        }
        if (v->user_name || v->user_address) {
            int ufirst = 1;
            w_key(w, 3, &first, "user");
            w_put(w, "{", 1);
            if (v->user_address)
                w_string_member(w, 4, &ufirst, "address", v->user_address);
            if (v->user_name)
                w_string_member(w, 4, &ufirst, "name", v->user_name);
            w_indent(w, 3);
            w_put(w, "}", 1);
        }
        if (first)
            w_put(w, "}", 1);
        else {
            w_indent(w, 2);
            w_put(w, "}", 1);
        }
    }
    w_indent(w, 1);
    w_put(w, "}", 1);
done:
    sqlite3_finalize(st);
    sqlite3_finalize(sp);
    free(order);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int dump_fixity(writer *w, vl_inventory *inv)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, first = 1;
    qsort(inv->fix_algs, inv->nfix, sizeof *inv->fix_algs, cmp_str);
    if (query(inv, "SELECT digest, path FROM fixity WHERE alg = ?1"
                   " ORDER BY digest, path", &st) != 0)
        return -1;
    w_put(w, "{", 1);
    for (size_t i = 0; i < inv->nfix && rc == 0; i++) {
        w_key(w, 2, &first, inv->fix_algs[i]);
        sqlite3_bind_text(st, 1, inv->fix_algs[i], -1, SQLITE_STATIC);
        rc = w_path_map(w, inv, st, 2);
        sqlite3_reset(st);
    }
    if (first)
        w_put(w, "}", 1);
    else {
        w_indent(w, 1);
        w_put(w, "}", 1);
    }
    sqlite3_finalize(st);
    return rc;
}

int vl_inventory_dump(const vl_inventory *cinv, vl_inventory_sink sink, void *arg)
{
    vl_inventory *inv = (vl_inventory *)cinv;
    writer *w = malloc(sizeof *w);
    sqlite3_stmt *st = NULL;
    int rc = 0, first = 1;
    if (!w) {
        vl_alloc_failed();
        return -1;
    }
    w->sink = sink;
    w->arg = arg;
    w->len = 0;
    w->failed = 0;
    lock(inv);
    if (inv->broken) {
        rc = -1;
        goto done;
    }
    w_put(w, "{", 1);
    if (inv->content_dir)
        w_string_member(w, 1, &first, "contentDirectory", inv->content_dir);
    w_string_member(w, 1, &first, "digestAlgorithm", vl_digest_name(inv->alg));
    if (inv->has_fixity) {
        w_key(w, 1, &first, "fixity");
        if ((rc = dump_fixity(w, inv)) != 0)
            goto done;
    }
    w_string_member(w, 1, &first, "head", inv->head_name);
    w_string_member(w, 1, &first, "id", inv->id);
    w_key(w, 1, &first, "manifest");
    if ((rc = query(inv, "SELECT digest, path FROM manifest ORDER BY digest, path",
                    &st)) != 0 ||
        (rc = w_path_map(w, inv, st, 1)) != 0)
        goto done;
    if (inv->type)
        w_string_member(w, 1, &first, "type", inv->type);
    w_key(w, 1, &first, "versions");
    if ((rc = dump_versions(w, inv)) != 0)
        goto done;
    w_put(w, "\n}\n", 3);
    w_flush(w);
    if (w->failed)
        rc = -1;
done:
    sqlite3_finalize(st);
    unlock(inv);
    free(w);
    return rc;
}

struct buf_sink {
    char *data;
    size_t len, cap;
};

static int to_buf(const char *data, size_t len, void *arg)
{
    struct buf_sink *b = arg;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            vl_alloc_failed();
            return -1;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

char *vl_inventory_serialize(const vl_inventory *inv, size_t *len)
{
    struct buf_sink b = {0};
    if (vl_inventory_dump(inv, to_buf, &b) != 0) {
        free(b.data);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.data;
}

vl_inventory *vl_inventory_copy(const vl_inventory *cinv)
{
    vl_inventory *inv = (vl_inventory *)cinv;
    vl_inventory *c = index_new();
    sqlite3_backup *bk = NULL;
    int ok = 0;
    if (!c)
        return NULL;
    lock(inv);
    if (inv->broken)
        goto done;
    c->alg = inv->alg;
    c->head = inv->head;
    c->has_fixity = inv->has_fixity;
    if ((inv->id && !(c->id = strdup(inv->id))) ||
        (inv->type && !(c->type = strdup(inv->type))) ||
        (inv->head_name && !(c->head_name = strdup(inv->head_name))) ||
        (inv->content_dir && !(c->content_dir = strdup(inv->content_dir))))
        goto done;
    for (size_t i = 0; i < inv->nfix; i++)
        if (note_fixity_alg(c, inv->fix_algs[i]) != 0)
            goto done;
    c->has_fixity = inv->has_fixity;
    for (size_t i = 0; i < inv->nv; i++) {
        version *s = &inv->v[i], *d = version_push(c);
        if (!d)
            goto done;
        *d = *s;
        d->name = d->created = d->message = d->user_name = d->user_address = NULL;
        if (!(d->name = strdup(s->name)) ||
            (s->created && !(d->created = strdup(s->created))) ||
            (s->message && !(d->message = strdup(s->message))) ||
            (s->user_name && !(d->user_name = strdup(s->user_name))) ||
            (s->user_address && !(d->user_address = strdup(s->user_address))))
            goto done;
    }
    /* A backup cannot read past an open write transaction: both sides
     * commit (nothing is durable in a temporary database anyway) and begin
     * again after. */
    if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(inv->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto done;
    static const char *const dbs[] = {"main", "spool"};
    for (int i = 0; i < 2; i++) {
        if (!(bk = sqlite3_backup_init(c->db, dbs[i], inv->db, dbs[i])) ||
            sqlite3_backup_step(bk, -1) != SQLITE_DONE)
            goto done;
        int fin = sqlite3_backup_finish(bk);
        bk = NULL;
        if (fin != SQLITE_OK)
            goto done;
    }
    if (sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        goto done;
    ok = 1;
done:
    if (bk)
        sqlite3_backup_finish(bk);
    if (!inv->broken && sqlite3_get_autocommit(inv->db) &&
        sqlite3_exec(inv->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        inv->broken = 1;
    unlock(inv);
    if (!ok) {
        vl_alloc_failed();
        vl_inventory_free(c);
        return NULL;
    }
    return c;
}

/* ---- reading ---------------------------------------------------------- */

const char *vl_inventory_id(const vl_inventory *inv) { return inv->id; }

vl_digest_alg vl_inventory_digest_alg(const vl_inventory *inv) { return inv->alg; }

const char *vl_inventory_content_dir(const vl_inventory *inv)
{
    return inv->content_dir ? inv->content_dir : "content";
}

int vl_inventory_head(const vl_inventory *inv) { return inv->head; }

void vl_inventory_version_name(const vl_inventory *inv, int num, char out[16])
{
    const char *head = inv->head_name;
    if (head && head[1] == '0' && head[2]) {
        int width = (int)strlen(head) - 1;
        snprintf(out, 16, "v%0*d", width, num);
    } else {
        snprintf(out, 16, "v%d", num);
    }
}

int vl_logical_is_metadata(const char *logical)
{
    return !strcmp(logical, "METS.xml") || !strncmp(logical, "metadata/", 9);
}

/* The version of number num, under this object's name for it. */
static version *named_version(const vl_inventory *inv, int num)
{
    char name[16];
    version *v = num >= 1 ? version_of(inv, num) : NULL;
    if (!v)
        return NULL;
    vl_inventory_version_name(inv, num, name);
    return strcmp(v->name, name) ? NULL : v;
}

int vl_inventory_version_info(const vl_inventory *inv, int num,
                              vl_version_info *out)
{
    version *v = named_version(inv, num);
    if (!v)
        return -1;
    out->created = v->created;
    out->message = v->message;
    out->user_name = v->user_name;
    out->user_address = v->user_address;
    out->file_count = v->file_count;
    out->metadata_count = v->metadata_count;
    return 0;
}

/* Rows of (a, b) text columns handed to fn; the statement is the caller's. */
static int rows_foreach(vl_inventory *inv, sqlite3_stmt *st, vl_state_fn fn,
                        void *arg)
{
    int step, rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *b = (const char *)sqlite3_column_text(st, 1);
        if (!a || !b) {
            step = SQLITE_NOMEM;
            break;
        }
        if ((rc = fn(arg, a, b)) != 0)
            return rc;
    }
    if (step != SQLITE_DONE) {
        index_failed(inv, step);
        return -1;
    }
    return 0;
}

int vl_inventory_state_foreach(const vl_inventory *cinv, int num,
                               vl_state_fn fn, void *arg)
{
    vl_inventory *inv = (vl_inventory *)cinv;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    lock(inv);
    version *v = named_version(inv, num);
    if (v && !inv->broken && load_rows(inv, v) == 0 &&
        query(inv, "SELECT path, digest FROM state WHERE ver = ?1 ORDER BY path",
              &st) == 0) {
        sqlite3_bind_int(st, 1, v->num);
        rc = rows_foreach(inv, st, fn, arg);
    }
    sqlite3_finalize(st);
    unlock(inv);
    return rc;
}

int vl_inventory_manifest_foreach(const vl_inventory *cinv, vl_state_fn fn,
                                  void *arg)
{
    vl_inventory *inv = (vl_inventory *)cinv;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    lock(inv);
    if (!inv->broken &&
        query(inv, "SELECT digest, path FROM manifest ORDER BY digest, path", &st) == 0)
        rc = rows_foreach(inv, st, fn, arg);
    sqlite3_finalize(st);
    unlock(inv);
    return rc;
}

/* One text answer of a cached single-row query. */
static const char *ask(vl_inventory *inv, int which, int ival, const char *a,
                       const char *b)
{
    const char *out = NULL;
    lock(inv);
    sqlite3_stmt *st = inv->broken ? NULL : stmt(inv, which);
    if (!st) {
        inv->query_failed = 1;
        goto done;
    }
    if (sqlite3_bind_parameter_count(st) == 1) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    } else if (a && b) {
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int(st, 1, ival);
        sqlite3_bind_text(st, 2, a ? a : b, -1, SQLITE_STATIC);
    }
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        if (!t || !(out = answer(t, sqlite3_column_bytes(st, 0)))) {
            vl_alloc_failed();
            inv->query_failed = 1;
        }
    } else if (step != SQLITE_DONE)
        index_failed(inv, step);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
done:
    unlock(inv);
    return out;
}

const char *vl_inventory_content_path(const vl_inventory *inv, const char *digest)
{
    return ask((vl_inventory *)inv, ST_CONTENT_PATH, 0, digest, NULL);
}

const char *vl_inventory_lookup(const vl_inventory *inv, int num,
                                const char *logical)
{
    vl_inventory *w = (vl_inventory *)inv;
    const char *out = NULL;
    lock(w);
    version *v = named_version(inv, num);
    if (v && load_rows(w, v) == 0)
        out = ask(w, ST_LOOKUP, v->num, NULL, logical);
    unlock(w);
    return out;
}

const char *vl_inventory_fixity(const vl_inventory *inv, vl_digest_alg alg,
                                const char *content_path)
{
    return ask((vl_inventory *)inv, ST_FIXITY, 0, vl_digest_name(alg), content_path);
}

int vl_inventory_fixity_foreach(const vl_inventory *cinv, vl_fixity_fn fn,
                                void *arg)
{
    vl_inventory *inv = (vl_inventory *)cinv;
    sqlite3_stmt *st = NULL;
    int rc = -1, step;
    lock(inv);
    if (inv->broken || query(inv, "SELECT alg, digest, path FROM fixity"
                                  " ORDER BY alg, digest, path", &st) != 0)
        goto done;
    rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *d = (const char *)sqlite3_column_text(st, 1);
        const char *p = (const char *)sqlite3_column_text(st, 2);
        if (!a || !d || !p) {
            step = SQLITE_NOMEM;
            break;
        }
        if ((rc = fn(arg, a, d, p)) != 0)
            goto done;
    }
    if (step != SQLITE_DONE) {
        index_failed(inv, step);
        rc = -1;
    }
done:
    sqlite3_finalize(st);
    unlock(inv);
    return rc;
}

/* ---- building ---------------------------------------------------------- */

int vl_inventory_manifest_add(vl_inventory *inv, const char *digest,
                              const char *content_path)
{
    lock(inv);
    int rc = inv->broken ? -1
                         : insert_manifest(inv, digest, strlen(digest), content_path,
                                           strlen(content_path), 0);
    unlock(inv);
    return rc;
}

int vl_inventory_fixity_add(vl_inventory *inv, vl_digest_alg alg,
                            const char *digest, const char *content_path)
{
    const char *name = vl_digest_name(alg);
    int rc = -1;
    lock(inv);
    sqlite3_stmt *st = inv->broken ? NULL : stmt(inv, ST_FIXITY_HAS);
    if (!st)
        goto done;
    /* One entry per content path per algorithm. */
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, content_path, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step == SQLITE_ROW)
        rc = 0;
    else if (step != SQLITE_DONE)
        index_failed(inv, step);
    else if (note_fixity_alg(inv, name) != 0)
        vl_alloc_failed();
    else
        rc = insert_fixity(inv, name, digest, strlen(digest), content_path,
                           strlen(content_path), 0);
done:
    unlock(inv);
    return rc;
}

int vl_inventory_version_add(vl_inventory *inv, const char *created,
                             const char *message, const char *user_name,
                             const char *user_address)
{
    int num = inv->head + 1;
    char name[16];
    char *head = NULL;
    lock(inv);
    version *v = inv->broken ? NULL : version_push(inv);
    if (!v)
        goto fail;
    /* A new version follows the naming convention of the existing ones. */
    vl_inventory_version_name(inv, num, name);
    v->num = num;
    v->has_state = 1;
    if (!(v->name = strdup(name)) || !(v->created = strdup(created)) ||
        (message && !(v->message = strdup(message))) ||
        (user_name && !(v->user_name = strdup(user_name))) ||
        (user_name && user_address && !(v->user_address = strdup(user_address))) ||
        !(head = strdup(name))) {
        version_clear(v);
        inv->nv--;
        goto fail;
    }
    free(inv->head_name);
    inv->head_name = head;
    inv->head = num;
    unlock(inv);
    return num;
fail:
    vl_alloc_failed();
    unlock(inv);
    return -1;
}

int vl_inventory_state_add(vl_inventory *inv, int num, const char *digest,
                           const char *logical)
{
    int rc = -1;
    lock(inv);
    version *v = named_version(inv, num);
    if (v && !inv->broken && unspool(inv, v) == 0) {
        size_t len = strlen(logical);
        rc = insert_state(inv, v->num, digest, strlen(digest), logical, len, 0);
        if (rc == 0)
            count_path(v, logical, len);
    }
    unlock(inv);
    return rc;
}

static int count_sql(vl_inventory *inv, const char *sql, int a, int b, long *out)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (query(inv, sql, &st) != 0)
        return -1;
    sqlite3_bind_int(st, 1, a);
    sqlite3_bind_int(st, 2, b);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = (long)sqlite3_column_int64(st, 0);
        rc = 0;
    } else
        index_failed(inv, step);
    sqlite3_finalize(st);
    return rc;
}

int vl_inventory_states_equal(const vl_inventory *cinv, int a, int b)
{
    vl_inventory *inv = (vl_inventory *)cinv;
    long na = 0, nb = 0, missing = 1;
    int eq = 0;
    lock(inv);
    version *va = named_version(inv, a), *vb = named_version(inv, b);
    if (!va || !vb || inv->broken || load_rows(inv, va) != 0 || load_rows(inv, vb) != 0)
        goto done;
    /* The same number of distinct paths, and every (path, digest) of a in b:
     * a path given twice in one state counts once, as a map would. */
    const char *count = "SELECT count(DISTINCT path) FROM state WHERE ver = ?1 AND ?2 = ?2";
    eq = count_sql(inv, count, va->num, 0, &na) == 0 &&
         count_sql(inv, count, vb->num, 0, &nb) == 0 && na == nb &&
         count_sql(inv, "SELECT count(*) FROM state x WHERE x.ver = ?1 AND NOT EXISTS"
                        " (SELECT 1 FROM state y WHERE y.ver = ?2 AND y.path = x.path"
                        " AND y.digest = x.digest)", va->num, vb->num, &missing) == 0 &&
         missing == 0;
done:
    unlock(inv);
    return eq;
}

int vl_inventory_truncate(vl_inventory *inv, int num)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    char name[16];
    lock(inv);
    if (inv->broken)
        goto done;
    for (size_t i = inv->nv; i-- > 0;)
        if (inv->v[i].num > num) {
            sqlite3_stmt *del = NULL;
            if (query(inv, "DELETE FROM state WHERE ver = ?1", &del) != 0)
                goto done;
            sqlite3_bind_int(del, 1, inv->v[i].num);
            int step = sqlite3_step(del);
            sqlite3_finalize(del);
            if (step != SQLITE_DONE) {
                index_failed(inv, step);
                goto done;
            }
            version_clear(&inv->v[i]);
            memmove(&inv->v[i], &inv->v[i + 1], (inv->nv - i - 1) * sizeof *inv->v);
            inv->nv--;
        }
    const char *prune[] = {"DELETE FROM manifest WHERE pver > ?1",
                           "DELETE FROM fixity WHERE pver > ?1",
                           "DELETE FROM vstate WHERE ver > ?1"};
    for (int i = 0; i < 3; i++) {
        if (query(inv, prune[i], &st) != 0)
            goto done;
        sqlite3_bind_int(st, 1, num);
        int step = sqlite3_step(st);
        sqlite3_finalize(st);
        st = NULL;
        if (step != SQLITE_DONE) {
            index_failed(inv, step);
            goto done;
        }
    }
    vl_inventory_version_name(inv, num, name);
    char *head = strdup(name);
    if (!head) {
        vl_alloc_failed();
        goto done;
    }
    free(inv->head_name);
    inv->head_name = head;
    inv->head = num;
    rc = 0;
done:
    unlock(inv);
    return rc;
}

/* Run sql with ?1 text, ?2 int, ?3 text bound (unused ones ignored). */
static int exec_bound(vl_inventory *inv, const char *sql, const char *t1, int i2,
                      const char *t3)
{
    sqlite3_stmt *st = NULL;
    if (query(inv, sql, &st) != 0)
        return -1;
    int n = sqlite3_bind_parameter_count(st);
    sqlite3_bind_text(st, 1, t1, -1, SQLITE_STATIC);
    if (n >= 2)
        sqlite3_bind_int(st, 2, i2);
    if (n >= 3)
        sqlite3_bind_text(st, 3, t3, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : index_failed(inv, step);
}

int vl_inventory_prune_under(vl_inventory *inv, const char *prefix, int num)
{
    int rc = -1;
    lock(inv);
    version *v = named_version(inv, num);
    /* substr, not LIKE: '_' in a path is no wildcard */
    if (v && !inv->broken && load_rows(inv, v) == 0 &&
        exec_bound(inv, "DELETE FROM manifest WHERE substr(path, 1, length(?1)) = ?1"
                        " AND digest NOT IN (SELECT digest FROM state WHERE ver = ?2)",
                   prefix, v->num, NULL) == 0 &&
        exec_bound(inv, "DELETE FROM fixity WHERE substr(path, 1, length(?1)) = ?1"
                        " AND path NOT IN (SELECT path FROM manifest)",
                   prefix, 0, NULL) == 0)
        rc = 0;
    unlock(inv);
    return rc;
}

int vl_inventory_rewrite_prefix(vl_inventory *inv, const char *from, int num,
                                const char *to)
{
    int rc = -1;
    lock(inv);
    if (!inv->broken &&
        exec_bound(inv, "UPDATE manifest SET path = ?3 || substr(path, length(?1) + 1),"
                        " pver = ?2 WHERE substr(path, 1, length(?1)) = ?1",
                   from, num, to) == 0 &&
        exec_bound(inv, "UPDATE fixity SET path = ?3 || substr(path, length(?1) + 1),"
                        " pver = ?2 WHERE substr(path, 1, length(?1)) = ?1",
                   from, num, to) == 0)
        rc = 0;
    unlock(inv);
    return rc;
}

int vl_inventory_version_describe(vl_inventory *inv, int num, const char *created,
                                  const char *message)
{
    int rc = -1;
    lock(inv);
    version *v = named_version(inv, num);
    char *c = v && created ? strdup(created) : NULL;
    char *m = v && message ? strdup(message) : NULL;
    if (v && (!created || c) && (!message || m)) {
        if (c) {
            free(v->created);
            v->created = c;
        }
        if (m) {
            free(v->message);
            v->message = m;
        }
        rc = 0;
    } else {
        free(c);
        free(m);
        if (v)
            vl_alloc_failed();
    }
    unlock(inv);
    return rc;
}

/* ---- reading from a store -------------------------------------------- */

/* The sidecar's algorithm is the inventory's own, known once its
 * digestAlgorithm is parsed (near the start of any inventory vellum
 * wrote): both candidates are computed until then, only that one after. */
struct load_feed {
    vl_inventory_parser *p;
    vl_digest_ctx *dc[2];     /* sha512, sha256 */
};

static int feed_chunk(void *arg, const void *data, size_t len, vl_error *err)
{
    struct load_feed *f = arg;
    parser *p = &f->p->p;
    const char *d = data;
    int rc = VL_OK;
    while (len && rc == VL_OK) {
        int known = (p->seen & K_ALG) && !p->bad_shape;
        /* small pieces until it is known, so that little is hashed twice */
        size_t n = known || len < 4096 ? len : 4096;
        for (int i = 0; i < 2; i++)
            if (!known || p->inv->alg == (i ? VL_SHA256 : VL_SHA512))
                vl_digest_update(f->dc[i], d, n);
        rc = vl_inventory_parser_feed(f->p, d, n, err);
        d += n;
        len -= n;
    }
    return rc;
}

static ssize_t reader_read(void *arg, void *buf, size_t cap, vl_error *err)
{
    return vl_reader_read(arg, buf, cap, err);
}

int vl_inventory_load(vl_backend *b, const char *rel, vl_inventory **out,
                      char digest[VL_DIGEST_HEX_MAX], vl_error *err)
{
    struct load_feed f = {NULL, {NULL, NULL}};
    vl_reader *rd = NULL;
    vl_digest_result res;
    vl_inventory *inv = NULL;
    int rc;
    if ((rc = vl_inventory_parser_new(&f.p, err)) != VL_OK)
        goto done;
    if (!(f.dc[0] = vl_digest_new(VL_DIGEST_BIT(VL_SHA512))) ||
        !(f.dc[1] = vl_digest_new(VL_DIGEST_BIT(VL_SHA256)))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_open(b, rel, &rd, err)) != VL_OK ||
        (rc = vl_digest_pump(reader_read, rd, -1, 0, feed_chunk, &f, NULL, NULL,
                             err)) != VL_OK ||
        (rc = vl_inventory_parser_finish(f.p, &inv, err)) != VL_OK)
        goto done;
    vl_digest_alg alg = vl_inventory_digest_alg(inv);
    if ((rc = vl_digest_final(f.dc[alg == VL_SHA256], &res, err)) != VL_OK) {
        vl_inventory_free(inv);
        goto done;
    }
    if (digest)
        memcpy(digest, res.hex[alg], VL_DIGEST_HEX_MAX);
    *out = inv;
done:
    vl_reader_close(rd);
    vl_inventory_parser_free(f.p);
    vl_digest_free(f.dc[0]);
    vl_digest_free(f.dc[1]);
    return rc;
}
