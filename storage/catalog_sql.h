/* Private to storage/: small SQLite helpers shared by the catalog's side
 * tables (events, formats, audits, report queries). */
#ifndef VL_CATALOG_SQL_H
#define VL_CATALOG_SQL_H

#include <sqlite3.h>

#include "vl_storage.h"

/* VL_ESYS naming the database file, what was being done and SQLite's word. */
static inline int vl_sql_err(sqlite3 *db, vl_error *err, const char *what)
{
    return vl_error_set(err, VL_ESYS, "catalog %s: %s: %s",
                        sqlite3_db_filename(db, "main"), what, sqlite3_errmsg(db));
}

static inline const char *vl_sql_col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* A head file's size: that of any content path holding its digest, f
 * being the files row (the covering index content_digest answers it
 * without touching the table). */
#define VL_SQL_HEAD_FILE_SIZE                                               \
    "(SELECT c.size FROM content c WHERE c.object_id = f.object_id"         \
    " AND c.digest = f.digest AND c.size IS NOT NULL LIMIT 1)"

#endif
