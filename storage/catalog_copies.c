/* The catalog's replicas and, per object and copy, the version held, the
 * last replicate's state and the last audit of that copy.  Not one of
 * catalog.c's tables, so a reindex keeps them (the store cannot rebuild
 * them; the replication and fixity events carry the same facts). */
#include <string.h>

#include "catalog_private.h"
#include "catalog_sql.h"

/* One schema per table: a read-only catalog's stand-in for a missing
 * table is made from its schema's first CREATE TABLE (vl_sql_ensure). */
static const char *const replicas_schema =
    "CREATE TABLE IF NOT EXISTS replicas ("
    "  name TEXT PRIMARY KEY,"
    "  location TEXT NOT NULL,"
    "  added TEXT NOT NULL);";
static const char *const copies_schema =
    "CREATE TABLE IF NOT EXISTS copies ("
    "  object_id TEXT NOT NULL,"
    "  copy TEXT NOT NULL,"
    "  version INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT,"
    "  replicated TEXT,"
    "  verified TEXT,"
    "  outcome TEXT,"
    "  failures TEXT,"
    "  PRIMARY KEY (object_id, copy)) WITHOUT ROWID;";

int vl_sql_ensure_copies(vl_db *db, vl_error *err)
{
    int rc = vl_sql_ensure(db, "replicas", replicas_schema, err);
    if (rc == VL_OK)
        rc = vl_sql_ensure(db, "copies", copies_schema, err);
    return rc;
}

static int run(vl_catalog *cat, const char *sql, const char *const *text,
               size_t ntext, const int *ints, size_t nints, const char *what,
               vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = vl_sql_ensure_copies(db, err);
    if (rc != VL_OK)
        return rc;
    if (vl_db_prepare(db, sql, &st) != VL_DB_OK)
        return vl_sql_err(db, err, what);
    size_t i = 0;
    for (; i < ntext; i++)
        vl_sql_bind_text(st, (int)i + 1, text[i]);
    for (size_t j = 0; j < nints; j++)
        vl_db_bind_int(st, (int)(i + j) + 1, ints[j]);
    if (vl_db_step(st) != VL_DB_DONE)
        rc = vl_sql_err(db, err, what);
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_replica_put(vl_catalog *cat, const char *name,
                           const char *location, const char *added,
                           vl_error *err)
{
    const char *t[] = {name, location, added};
    return run(cat, "INSERT INTO replicas (name, location, added)"
               " VALUES (?,?,?) ON CONFLICT (name) DO UPDATE SET"
               " location = excluded.location, added = excluded.added", t, 3, NULL, 0, "recording a replica", err);
}

int vl_catalog_replica_forget(vl_catalog *cat, const char *name,
                              vl_error *err)
{
    const char *t[] = {name};
    int rc = run(cat, "DELETE FROM replicas WHERE name = ?", t, 1, NULL, 0,
                 "forgetting a replica", err);
    if (rc == VL_OK)
        rc = vl_catalog_copies_forget(cat, name, err);
    return rc;
}

int vl_catalog_copies_forget(vl_catalog *cat, const char *copy, vl_error *err)
{
    const char *t[] = {copy};
    return run(cat, "DELETE FROM copies WHERE copy = ?", t, 1, NULL, 0,
               "forgetting a replica's copies", err);
}

int vl_catalog_copy_replicated(vl_catalog *cat, const char *copy,
                               const char *object_id, int version,
                               const char *state, const char *when,
                               vl_error *err)
{
    const char *t[] = {object_id, copy, state, when};
    int v[] = {version};
    return run(cat, "INSERT INTO copies (object_id, copy, state, replicated,"
               " version) VALUES (?,?,?,?,?) ON CONFLICT (object_id, copy) DO"
               " UPDATE SET state = excluded.state,"
               " replicated = excluded.replicated, version = excluded.version",
               t, 4, v, 1, "recording a replication", err);
}

int vl_catalog_copy_verified(vl_catalog *cat, const char *copy,
                             const char *object_id, int version,
                             const char *outcome, const char *started,
                             const char *failures_json, vl_error *err)
{
    const char *t[] = {object_id, copy, outcome, started,
                       failures_json ? failures_json : "[]"};
    int v[] = {version};
    return run(cat, "INSERT INTO copies (object_id, copy, outcome, verified,"
               " failures, version) VALUES (?,?,?,?,?,?) ON CONFLICT"
               " (object_id, copy) DO UPDATE SET outcome = excluded.outcome,"
               " verified = excluded.verified, failures = excluded.failures,"
               " version = CASE WHEN excluded.version > 0 THEN excluded.version"
               " ELSE copies.version END",
               t, 5, v, 1, "recording an audit of a copy", err);
}

int vl_catalog_copies(vl_catalog *cat, const char *object_id, vl_copy_fn fn,
                      void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = vl_sql_ensure_copies(db, err), step;
    if (rc != VL_OK)
        return rc;
    if (vl_db_prepare(db, "SELECT copy, object_id, version, state, replicated,"
                           " verified, outcome, failures FROM copies"
                           " WHERE ?1 IS NULL OR object_id = ?1"
                           " ORDER BY object_id, copy <> 'primary', copy", &st) != VL_DB_OK)
        return vl_sql_err(db, err, "listing copies");
    vl_sql_bind_text(st, 1, object_id);
    while ((step = vl_db_step(st)) == VL_DB_ROW) {
        vl_copy_row row = {
            .copy = vl_sql_col(st, 0),
            .object_id = vl_sql_col(st, 1),
            .version = vl_db_column_int(st, 2),
            .state = vl_sql_col(st, 3),
            .replicated = vl_sql_col(st, 4),
            .verified = vl_sql_col(st, 5),
            .outcome = vl_sql_col(st, 6),
            .failures_json = vl_sql_col(st, 7),
        };
        if (fn(arg, &row) != 0)
            break;
    }
    if (step != VL_DB_ROW && step != VL_DB_DONE)
        rc = vl_sql_err(db, err, "listing copies");
    vl_db_finalize(st);
    return rc;
}
