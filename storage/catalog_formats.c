/* The catalog's format identification results, per object and content
 * digest (identical content has one format). */
#include <sqlite3.h>

#include "catalog_sql.h"

static const char *const formats_schema =
    "CREATE TABLE IF NOT EXISTS formats ("
    "  object_id TEXT NOT NULL, digest TEXT NOT NULL, mime TEXT,"
    "  encoding TEXT, description TEXT, puid TEXT, format_name TEXT,"
    "  format_version TEXT, PRIMARY KEY (object_id, digest)) WITHOUT ROWID";

/* How PRONOM identified it: beside the formats table rather than in it, so
 * that catalogs made before PRONOM need no change of table. */
static const char *const pronom_schema =
    "CREATE TABLE IF NOT EXISTS format_basis ("
    "  object_id TEXT NOT NULL, digest TEXT NOT NULL, basis TEXT,"
    "  warning TEXT, others TEXT, signatures TEXT,"
    "  PRIMARY KEY (object_id, digest)) WITHOUT ROWID";

static int ensure(sqlite3 *db, vl_error *err)
{
    int rc = vl_sql_ensure(db, "formats", formats_schema, err);
    return rc == VL_OK ? vl_sql_ensure(db, "format_basis", pronom_schema, err) : rc;
}

int vl_sql_ensure_formats(sqlite3 *db, vl_error *err)
{
    return ensure(db, err);
}

/* The strings outlive the statement's step: SQLITE_STATIC makes no copy,
 * so a bind cannot fail for want of memory (and leave the column NULL). */
static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int vl_catalog_format_put(vl_catalog *cat, const char *object_id,
                          const char *digest, const vl_catalog_format *f,
                          vl_error *err)
{
    sqlite3 *db = vl_catalog_db(cat);
    sqlite3_stmt *st = NULL;
    int rc = ensure(db, err);
    if (rc != VL_OK)
        return rc;
    if (sqlite3_prepare_v2(db,
            "INSERT OR REPLACE INTO formats VALUES (?,?,?,?,?,?,?,?)", -1, &st,
            NULL) != SQLITE_OK)
        return vl_sql_err(db, err, "preparing a format insert");
    bind_opt(st, 1, object_id);
    bind_opt(st, 2, digest);
    bind_opt(st, 3, f->mime);
    bind_opt(st, 4, f->encoding);
    bind_opt(st, 5, f->description);
    bind_opt(st, 6, f->puid);
    bind_opt(st, 7, f->format_name);
    bind_opt(st, 8, f->format_version);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = vl_sql_err(db, err, "recording a format");
    sqlite3_finalize(st);
    st = NULL;
    if (rc != VL_OK || !(f->basis || f->warning || f->others || f->signatures))
        return rc;
    if (sqlite3_prepare_v2(db,
            "INSERT OR REPLACE INTO format_basis VALUES (?,?,?,?,?,?)", -1, &st,
            NULL) != SQLITE_OK)
        return vl_sql_err(db, err, "preparing a format basis insert");
    bind_opt(st, 1, object_id);
    bind_opt(st, 2, digest);
    bind_opt(st, 3, f->basis);
    bind_opt(st, 4, f->warning);
    bind_opt(st, 5, f->others);
    bind_opt(st, 6, f->signatures);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = vl_sql_err(db, err, "recording a format basis");
    sqlite3_finalize(st);
    return rc;
}

int vl_catalog_format_get(vl_catalog *cat, const char *object_id,
                          const char *digest, vl_catalog_format_fn fn,
                          void *arg, vl_error *err)
{
    sqlite3 *db = vl_catalog_db(cat);
    sqlite3_stmt *st = NULL;
    int rc = ensure(db, err);
    if (rc != VL_OK)
        return rc;
    if (sqlite3_prepare_v2(db,
            "SELECT f.mime, f.encoding, f.description, f.puid, f.format_name,"
            " f.format_version, b.basis, b.warning, b.others, b.signatures"
            " FROM formats f LEFT JOIN format_basis b"
            " ON b.object_id = f.object_id AND b.digest = f.digest"
            " WHERE f.object_id = ? AND f.digest = ?", -1, &st, NULL) != SQLITE_OK)
        return vl_sql_err(db, err, "reading a format");
    sqlite3_bind_text(st, 1, object_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        vl_catalog_format f = {
            (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
            (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5),
            (const char *)sqlite3_column_text(st, 6), (const char *)sqlite3_column_text(st, 7),
            (const char *)sqlite3_column_text(st, 8), (const char *)sqlite3_column_text(st, 9)};
        fn(arg, &f);
    } else if (s != SQLITE_DONE) {
        rc = vl_sql_err(db, err, "reading a format");
    }
    sqlite3_finalize(st);
    return rc;
}
