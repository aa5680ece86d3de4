/* Private to storage/: small SQLite helpers shared by the catalog's side
 * tables (events, formats, audits, report queries). */
#ifndef VL_CATALOG_SQL_H
#define VL_CATALOG_SQL_H

#ifndef VL_STORAGE_INTERNAL
#error "catalog_sql.h is private to storage/"
#endif

#include <errno.h>
#include <sqlite3.h>

#include "vl_storage.h"

/* A full disk reaches SQLite as SQLITE_FULL, or as an I/O error (growing
 * the -shm file) whose errno says so. */
static inline int vl_sql_no_space(sqlite3 *db)
{
    int code = sqlite3_extended_errcode(db) & 0xff;
    return code == SQLITE_FULL ||
           ((code == SQLITE_IOERR || code == SQLITE_CANTOPEN) &&
            sqlite3_system_errno(db) == ENOSPC);
}

/* VL_ESYS naming the database file, what was being done and SQLite's word
 * ("no space left on device", with sys_errno ENOSPC, for a full disk). */
static inline int vl_sql_err(sqlite3 *db, vl_error *err, const char *what)
{
    if (vl_sql_no_space(db)) {
        vl_error_set(err, VL_ESYS, "catalog %s: %s: no space left on device",
                     sqlite3_db_filename(db, "main"), what);
        if (err)
            err->sys_errno = ENOSPC;
        return VL_ESYS;
    }
    return vl_error_set(err, VL_ESYS, "catalog %s: %s: %s",
                        sqlite3_db_filename(db, "main"), what, sqlite3_errmsg(db));
}

/* Make sure a side table exists; schema holds its CREATE TABLE and CREATE
 * INDEX statements, all IF NOT EXISTS.  A read-only catalog is never
 * written: a table it lacks (no audit has run yet, say) gets an empty
 * stand-in in the connection's TEMP schema, so queries find no rows. */
int vl_sql_ensure(sqlite3 *db, const char *table, const char *schema,
                  vl_error *err);
/* Each side table's own; a read-only catalog calls them all as it opens,
 * since making a stand-in in the midst of a query would abort it. */
int vl_sql_ensure_audits(sqlite3 *db, vl_error *err);
int vl_sql_ensure_events(sqlite3 *db, vl_error *err);
int vl_sql_ensure_formats(sqlite3 *db, vl_error *err);
int vl_sql_ensure_copies(sqlite3 *db, vl_error *err);
int vl_sql_ensure_descriptive(sqlite3 *db, vl_error *err);

/* Binding parameters, one meaning each.  Text is not copied
 * (SQLITE_STATIC): every caller steps the statement while the string is
 * still there, and binds again before stepping it again. */
/* Text; NULL binds SQL NULL, "" binds ''. */
void vl_sql_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Text where empty means unknown: NULL and "" both bind SQL NULL. */
void vl_sql_bind_text_known(sqlite3_stmt *st, int i, const char *s);
/* A size, or SQL NULL when it is not known. */
void vl_sql_bind_size(sqlite3_stmt *st, int i, uint64_t size, int known);

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

/* Count and bytes of an object's head-state metadata files (vellum's
 * METS.xml, metadata/...: vl_logical_is_metadata): o is the objects row. */
#define VL_SQL_IS_META                                                      \
    "(f.logical_path = 'METS.xml' OR (f.logical_path >= 'metadata/'"         \
    " AND f.logical_path < 'metadata0'))"
#define VL_SQL_META_WHERE                                                   \
    " FROM files f WHERE f.object_id = o.id AND f.version = o.head"          \
    " AND " VL_SQL_IS_META
#define VL_SQL_META_FILES "(SELECT count(*)" VL_SQL_META_WHERE ")"
#define VL_SQL_META_BYTES                                                   \
    "(SELECT coalesce(sum(" VL_SQL_HEAD_FILE_SIZE "), 0)" VL_SQL_META_WHERE ")"

#endif
