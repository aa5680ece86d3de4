/* Differences between two versions of an object, from its inventory: files
 * added, removed, changed (same path, other digest) and renamed (same
 * digest, other path).  Both states go into a scratch database and the
 * differences are queries on it: memory does not grow with the file count,
 * and pairing renames is a join, not a search of every removed file for
 * each added one. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "vl_storage.h"

#define DIFF_CACHE_KIB 4096

static const char SCHEMA[] =
    "CREATE TABLE a (path TEXT PRIMARY KEY, digest TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE b (path TEXT PRIMARY KEY, digest TEXT NOT NULL) WITHOUT ROWID;"
    /* paths only in a (old) and only in b (new), numbered in path order
     * within each digest */
    "CREATE TABLE olda (digest TEXT, k INTEGER, path TEXT,"
    " PRIMARY KEY (digest, k)) WITHOUT ROWID;"
    "CREATE TABLE newb (digest TEXT, k INTEGER, path TEXT,"
    " PRIMARY KEY (digest, k)) WITHOUT ROWID;"
    "BEGIN;";

/* A new path takes the old path of the same digest that has the same rank
 * in path order: the first new path the first old one, and so on, which
 * is "each new path, in path order, takes the first old path of its
 * digest that no earlier one took". */
static const char PAIRS[] =
    "INSERT INTO olda SELECT digest, ROW_NUMBER() OVER (PARTITION BY digest"
    " ORDER BY path), path FROM a WHERE path NOT IN (SELECT path FROM b);"
    "INSERT INTO newb SELECT digest, ROW_NUMBER() OVER (PARTITION BY digest"
    " ORDER BY path), path FROM b WHERE path NOT IN (SELECT path FROM a);";

static const char CHANGES[] =
    "SELECT 'M', b.path, NULL, b.digest, a.digest FROM a JOIN b"
    " ON a.path = b.path WHERE a.digest <> b.digest"
    " UNION ALL"
    " SELECT CASE WHEN o.path IS NULL THEN 'A' ELSE 'R' END, n.path, o.path,"
    " n.digest, o.digest FROM newb n LEFT JOIN olda o"
    " ON o.digest = n.digest AND o.k = n.k"
    " UNION ALL"
    " SELECT 'D', o.path, NULL, NULL, o.digest FROM olda o WHERE NOT EXISTS"
    " (SELECT 1 FROM newb n WHERE n.digest = o.digest AND n.k = o.k)"
    " ORDER BY 2";

struct fill {
    sqlite3_stmt *ins;
    int code;
};

static int fill_one(void *arg, const char *logical, const char *digest)
{
    struct fill *f = arg;
    sqlite3_bind_text(f->ins, 1, logical, -1, SQLITE_STATIC);
    sqlite3_bind_text(f->ins, 2, digest, -1, SQLITE_STATIC);
    f->code = sqlite3_step(f->ins);
    sqlite3_reset(f->ins);
    if (f->code == SQLITE_DONE)
        f->code = SQLITE_OK;
    return f->code != SQLITE_OK;
}

static int db_failed(sqlite3 *db, int code, const vl_inventory *inv, vl_error *err)
{
    if (code == SQLITE_NOMEM)
        vl_alloc_failed();
    return vl_error_set(err, VL_ESYS, "cannot compare versions of \"%s\": out of "
                        "memory or temporary space (%s)", vl_inventory_id(inv),
                        db ? sqlite3_errmsg(db) : sqlite3_errstr(code));
}

static int load(sqlite3 *db, const char *table, const vl_inventory *inv, int num,
                vl_error *err)
{
    struct fill f = {NULL, SQLITE_OK};
    char sql[64];
    snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO %s VALUES (?1, ?2)", table);
    int code = sqlite3_prepare_v2(db, sql, -1, &f.ins, NULL), rc = VL_OK;
    if (code != SQLITE_OK)
        return db_failed(db, code, inv, err);
    if (vl_inventory_state_foreach(inv, num, fill_one, &f) != 0)
        rc = f.code != SQLITE_OK      ? db_failed(db, f.code, inv, err)
             : vl_inventory_failed(inv) ? vl_error_set(err, VL_ESYS,
                                                     "cannot read the inventory "
                                                     "index of \"%s\"",
                                                     vl_inventory_id(inv))
                                      : vl_error_set(err, VL_EINPUT,
                                                     "\"%s\" has no version v%d",
                                                     vl_inventory_id(inv), num);
    sqlite3_finalize(f.ins);
    return rc;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int vl_inventory_diff(const vl_inventory *inv, int from, int to,
                      vl_diff_fn fn, void *arg, vl_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = VL_OK, code = vl_scratch_db_open(&db, DIFF_CACHE_KIB, SCHEMA);
    if (code != SQLITE_OK) {
        rc = db_failed(db, code, inv, err);
        goto done;
    }
    if ((rc = load(db, "a", inv, from, err)) != VL_OK ||
        (rc = load(db, "b", inv, to, err)) != VL_OK)
        goto done;
    if ((code = sqlite3_exec(db, PAIRS, NULL, NULL, NULL)) != SQLITE_OK ||
        (code = sqlite3_prepare_v2(db, CHANGES, -1, &st, NULL)) != SQLITE_OK) {
        rc = db_failed(db, code, inv, err);
        goto done;
    }
    while ((code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = col(st, 0), *path = col(st, 1);
        if (!kind || !path) {
            code = SQLITE_NOMEM;
            break;
        }
        vl_diff_entry e = {(vl_diff_kind)kind[0], path, col(st, 2), col(st, 3),
                           col(st, 4)};
        if (fn(arg, &e) != 0) {
            code = SQLITE_DONE;
            break;
        }
    }
    if (code != SQLITE_DONE)
        rc = db_failed(db, code, inv, err);
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
