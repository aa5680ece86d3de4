/* A deposit's own records (see txn_index_private.h) in a private SQLite
 * database with no file name, as the inventory keeps its rows: SQLite holds
 * it in a small page cache and spills to a temporary file beyond, so a
 * million-file deposit costs disk, not memory.  One transaction stays open
 * for its whole life (nothing needs to survive a crash: staging is thrown
 * away then).  Any failure marks the index broken: with no journal a failed
 * write may have left it half done, so every later call fails too. */
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txn_index_private.h"

/* Page cache, KiB: a few thousand files' rows; more go to the temporary
 * file (the operating system's cache, not this process's memory). */
#define TXN_INDEX_CACHE_KIB 4096

static const char *const schema =
    /* given: the deposit's own path (1), or kept from the head (0) */
    "CREATE TABLE state (path TEXT PRIMARY KEY, digest TEXT NOT NULL,"
    " given INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE staged (digest TEXT PRIMARY KEY, path TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE dirs (path TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TABLE fixity (alg INTEGER NOT NULL, hex TEXT NOT NULL, path TEXT NOT NULL);"
    "BEGIN;";

enum {
    ST_PUT_GIVEN,
    ST_PUT_KEPT,
    ST_STAGE,
    ST_STAGED,
    ST_DIR_KNOWN,
    ST_DIR_ADD,
    ST_FIXITY_ADD,
    ST_COUNT_STATE,
    ST_CONFLICT,
    ST_STATE_ALL,
    ST_STAGED_ALL,
    ST_FIXITY_ALL,
    ST_COUNT
};

static const char *const statements[ST_COUNT] = {
    /* no change when the deposit gave the path already */
    [ST_PUT_GIVEN] = "INSERT INTO state VALUES (?1, ?2, 1) ON CONFLICT (path)"
                     " DO UPDATE SET digest = excluded.digest, given = 1"
                     " WHERE given = 0",
    [ST_PUT_KEPT] = "INSERT OR IGNORE INTO state VALUES (?1, ?2, 0)",
    [ST_STAGE] = "INSERT OR IGNORE INTO staged VALUES (?1, ?2)",
    [ST_STAGED] = "SELECT 1 FROM staged WHERE digest = ?1",
    [ST_DIR_KNOWN] = "SELECT 1 FROM dirs WHERE path = ?1",
    [ST_DIR_ADD] = "INSERT OR IGNORE INTO dirs VALUES (?1)",
    [ST_FIXITY_ADD] = "INSERT INTO fixity VALUES (?1, ?2, ?3)",
    [ST_COUNT_STATE] = "SELECT count(*) - (SELECT count(*) FROM state WHERE path = ?1)"
                       " FROM state",
    /* b lies under the folder a: "a/" <= b < "a0" ('0' follows '/'), one
     * range search of the primary key per path */
    [ST_CONFLICT] = "SELECT a.path, b.path FROM state a JOIN state b"
                    " ON b.path >= a.path || '/' AND b.path < a.path || '0'"
                    " LIMIT 1",
    [ST_STATE_ALL] = "SELECT path, digest FROM state ORDER BY path",
    [ST_STAGED_ALL] = "SELECT digest, path FROM staged ORDER BY digest",
    [ST_FIXITY_ALL] = "SELECT f.alg, f.hex, s.digest FROM fixity f"
                      " JOIN state s ON s.path = f.path ORDER BY f.rowid",
};

struct vl_txn_index {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    const char *id;           /* the object's, for messages; not owned */
    int broken;
    char why[512];            /* the first failure, repeated after it */
};

/* The failure of SQLite call code while doing what (a printf format). */
static int failed(vl_txn_index *x, int code, vl_error *err, const char *what, ...)
    __attribute__((format(printf, 4, 5)));

static int failed(vl_txn_index *x, int code, vl_error *err, const char *what, ...)
{
    if (code == SQLITE_NOMEM)
        vl_alloc_failed();   /* the shortage count operations check */
    if (!x->broken) {
        char doing[256];
        va_list ap;
        va_start(ap, what);
        vsnprintf(doing, sizeof doing, what, ap);
        va_end(ap);
        snprintf(x->why, sizeof x->why, "cannot %s of \"%s\": out of memory or "
                 "temporary space (%s)", doing, x->id, sqlite3_errstr(code));
        x->broken = 1;
    }
    return vl_error_set(err, VL_ESYS, "%s", x->why);
}

void vl_txn_index_free(vl_txn_index *x)
{
    if (!x)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(x->st[i]);
    sqlite3_close(x->db);
    free(x);
}

int vl_txn_index_open(const char *id, vl_txn_index **out, vl_error *err)
{
    int code;
    vl_txn_index *x = calloc(1, sizeof *x);
    *out = NULL;
    if (!x)
        return vl_error_oom(err);
    x->id = id;
    code = vl_scratch_db_open(&x->db, TXN_INDEX_CACHE_KIB, schema);
    for (int i = 0; i < ST_COUNT && code == SQLITE_OK; i++)
        code = sqlite3_prepare_v2(x->db, statements[i], -1, &x->st[i], NULL);
    if (code != SQLITE_OK) {
        int rc = failed(x, code, err, "make the deposit's index");
        vl_txn_index_free(x);
        return rc;
    }
    *out = x;
    return VL_OK;
}

/* Bind up to two texts (NULL binds SQL NULL) to statement which. */
static sqlite3_stmt *bind2(vl_txn_index *x, int which, const char *a, const char *b)
{
    sqlite3_stmt *st = x->st[which];
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    return st;
}

/* Run a statement that returns at most one row: *row tells whether it did. */
static int step_once(sqlite3_stmt *st, int *row)
{
    int code = sqlite3_step(st);
    *row = code == SQLITE_ROW;
    if (code == SQLITE_ROW || code == SQLITE_DONE)
        code = SQLITE_OK;
    sqlite3_reset(st);
    return code;
}

int vl_txn_index_put(vl_txn_index *x, const char *logical, const char *digest,
                     int given, vl_error *err)
{
    int row, code;
    if (x->broken)
        return vl_error_set(err, VL_ESYS, "%s", x->why);
    code = step_once(bind2(x, given ? ST_PUT_GIVEN : ST_PUT_KEPT, logical, digest), &row);
    if (code != SQLITE_OK)
        return failed(x, code, err, "record \"%s\"", logical);
    if (given && sqlite3_changes(x->db) == 0)
        return vl_error_set(err, VL_EINPUT, "\"%s\" is given twice in one deposit",
                            logical);
    return VL_OK;
}

int vl_txn_index_stage(vl_txn_index *x, const char *digest, const char *logical,
                       int *is_new, vl_error *err)
{
    int row, code;
    *is_new = 0;
    if (x->broken)
        return vl_error_set(err, VL_ESYS, "%s", x->why);
    if ((code = step_once(bind2(x, ST_STAGE, digest, logical), &row)) != SQLITE_OK)
        return failed(x, code, err, "record the staged content of \"%s\"", logical);
    *is_new = sqlite3_changes(x->db) > 0;
    return VL_OK;
}

/* Whether the key is in the table that statement which looks it up in. */
static int lookup(vl_txn_index *x, int which, const char *key, int *found,
                  vl_error *err)
{
    int code;
    *found = 0;
    if (x->broken)
        return vl_error_set(err, VL_ESYS, "%s", x->why);
    if ((code = step_once(bind2(x, which, key, NULL), found)) != SQLITE_OK)
        return failed(x, code, err, "look up \"%s\"", key);
    return VL_OK;
}

int vl_txn_index_staged(vl_txn_index *x, const char *digest, int *found,
                        vl_error *err)
{
    return lookup(x, ST_STAGED, digest, found, err);
}

int vl_txn_index_dir_known(vl_txn_index *x, const char *dir, int *known,
                           vl_error *err)
{
    return lookup(x, ST_DIR_KNOWN, dir, known, err);
}

int vl_txn_index_dir_add(vl_txn_index *x, const char *dir, vl_error *err)
{
    int row, code;
    if (x->broken)
        return vl_error_set(err, VL_ESYS, "%s", x->why);
    if ((code = step_once(bind2(x, ST_DIR_ADD, dir, NULL), &row)) != SQLITE_OK)
        return failed(x, code, err, "record the staging folder \"%s\"", dir);
    return VL_OK;
}

int vl_txn_index_fixity_add(vl_txn_index *x, vl_digest_alg alg, const char *hex,
                            const char *logical, vl_error *err)
{
    int row, code;
    sqlite3_stmt *st = x->st[ST_FIXITY_ADD];
    if (x->broken)
        return vl_error_set(err, VL_ESYS, "%s", x->why);
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, (int)alg);
    sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, logical, -1, SQLITE_STATIC);
    if ((code = step_once(st, &row)) != SQLITE_OK)
        return failed(x, code, err, "record the %s of \"%s\"", vl_digest_name(alg),
                      logical);
    return VL_OK;
}

int vl_txn_index_count(vl_txn_index *x, const char *except, size_t *n,
                       vl_error *err)
{
    sqlite3_stmt *st;
    int code;
    *n = 0;
    if (x->broken)
        return vl_error_set(err, VL_ESYS, "%s", x->why);
    st = bind2(x, ST_COUNT_STATE, except, NULL);
    if ((code = sqlite3_step(st)) == SQLITE_ROW) {
        *n = (size_t)sqlite3_column_int64(st, 0);
        code = SQLITE_OK;
    }
    sqlite3_reset(st);
    return code == SQLITE_OK ? VL_OK : failed(x, code, err, "count the files");
}

/* An owned copy of column i of st's row. */
static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? vl_strdup((const char *)s) : NULL;
}

int vl_txn_index_conflict(vl_txn_index *x, char **file, char **inner,
                          vl_error *err)
{
    sqlite3_stmt *st = x->st[ST_CONFLICT];
    int code, rc = VL_OK;
    *file = *inner = NULL;
    if (x->broken)
        return vl_error_set(err, VL_ESYS, "%s", x->why);
    sqlite3_reset(st);
    if ((code = sqlite3_step(st)) == SQLITE_ROW) {
        if (!(*file = column_dup(st, 0)) || !(*inner = column_dup(st, 1))) {
            free(*file);
            *file = NULL;
            rc = vl_error_oom(err);
        }
    } else if (code != SQLITE_DONE) {
        rc = failed(x, code, err, "check the paths");
    }
    sqlite3_reset(st);
    return rc;
}

/* Hand each row's two text columns from first on to fn. */
static int foreach(vl_txn_index *x, sqlite3_stmt *st, int first, int *alg,
                   vl_txn_index_fn fn, void *arg, const char *what, vl_error *err)
{
    int code, rc = VL_OK;
    if (x->broken)
        return vl_error_set(err, VL_ESYS, "%s", x->why);
    sqlite3_reset(st);
    while ((code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, first);
        const char *b = (const char *)sqlite3_column_text(st, first + 1);
        if (!a || !b) {   /* NOT NULL columns: only a failed copy is NULL */
            code = SQLITE_NOMEM;
            break;
        }
        if (alg)
            *alg = sqlite3_column_int(st, 0);
        if ((rc = fn(arg, a, b)) != 0)
            break;
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = failed(x, code, err, "read %s", what);
    sqlite3_reset(st);
    return rc;
}

int vl_txn_index_state_foreach(vl_txn_index *x, vl_txn_index_fn fn, void *arg,
                               vl_error *err)
{
    return foreach(x, x->st[ST_STATE_ALL], 0, NULL, fn, arg, "the new state", err);
}

int vl_txn_index_staged_foreach(vl_txn_index *x, vl_txn_index_fn fn, void *arg,
                                vl_error *err)
{
    return foreach(x, x->st[ST_STAGED_ALL], 0, NULL, fn, arg, "the staged content",
                   err);
}

struct fixity_row {
    int alg;
    vl_txn_index_fixity_fn fn;
    void *arg;
};

static int fixity_row(void *arg, const char *hex, const char *digest)
{
    struct fixity_row *f = arg;
    return f->fn(f->arg, (vl_digest_alg)f->alg, hex, digest);
}

int vl_txn_index_fixity_foreach(vl_txn_index *x, vl_txn_index_fixity_fn fn,
                                void *arg, vl_error *err)
{
    struct fixity_row f = {0, fn, arg};
    return foreach(x, x->st[ST_FIXITY_ALL], 1, &f.alg, fixity_row, &f,
                   "the fixity values", err);
}
