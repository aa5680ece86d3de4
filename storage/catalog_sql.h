/* Private to storage/: small database helpers shared by the catalog's side
 * tables (events, formats, audits, report queries). */
#ifndef VL_CATALOG_SQL_H
#define VL_CATALOG_SQL_H

#ifndef VL_STORAGE_INTERNAL
#error "catalog_sql.h is private to storage/"
#endif

#include <errno.h>

#include "db_private.h"
#include "vl_storage.h"

/* A full disk (SQLite: SQLITE_FULL, or an I/O error whose errno says so). */
static inline int vl_sql_no_space(vl_db *db)
{
    return vl_db_no_space(db);
}

/* VL_ESYS naming the catalog (the SQLite file, or the PostgreSQL database
 * without secrets), what was being done and the engine's word ("no space
 * left on device", with sys_errno ENOSPC, for a full disk). */
static inline int vl_sql_err(vl_db *db, vl_error *err, const char *what)
{
    if (vl_db_nomem(db))
        return vl_error_oom(err);
    if (vl_sql_no_space(db)) {
        vl_error_set(err, VL_ESYS, "catalog %s: %s: no space left on device",
                     vl_db_name(db), what);
        if (err)
            err->sys_errno = ENOSPC;
        return VL_ESYS;
    }
    return vl_error_set(err, VL_ESYS, "catalog %s: %s: %s",
                        vl_db_name(db), what, vl_db_errmsg(db));
}

/* Make sure a side table exists; schema holds its CREATE TABLE and CREATE
 * INDEX statements, all IF NOT EXISTS.  A read-only catalog is never
 * written: a table it lacks (no audit has run yet, say) gets an empty
 * stand-in in the connection's TEMP schema, so queries find no rows. */
int vl_sql_ensure(vl_db *db, const char *table, const char *schema,
                  vl_error *err);
/* Each side table's own; a read-only catalog calls them all as it opens,
 * since making a stand-in in the midst of a query would abort it. */
int vl_sql_ensure_audits(vl_db *db, vl_error *err);
int vl_sql_ensure_events(vl_db *db, vl_error *err);
int vl_sql_ensure_formats(vl_db *db, vl_error *err);
int vl_sql_ensure_copies(vl_db *db, vl_error *err);
int vl_sql_ensure_descriptive(vl_db *db, vl_error *err);

/* Binding parameters, one meaning each.  Text is not copied
 * (as SQLITE_STATIC): every caller steps the statement while the string is
 * still there, and binds again before stepping it again. */
/* Text; NULL binds SQL NULL, "" binds ''. */
void vl_sql_bind_text(vl_db_stmt *st, int i, const char *s);
/* Text where empty means unknown: NULL and "" both bind SQL NULL. */
void vl_sql_bind_text_known(vl_db_stmt *st, int i, const char *s);
/* A size, or SQL NULL when it is not known. */
void vl_sql_bind_size(vl_db_stmt *st, int i, uint64_t size, int known);

static inline const char *vl_sql_col(vl_db_stmt *st, int i)
{
    return vl_db_column_text(st, i);
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
