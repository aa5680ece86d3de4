/* The catalog's audit history: one row per object audit (fixity/audit.c),
 * read back for scheduling (--due, --status) and for curators' reports.
 * Not one of catalog.c's tables, so a reindex keeps it. */
#include <string.h>

#include "catalog_private.h"
#include "catalog_sql.h"

static const char *const audits_schema =
    "CREATE TABLE IF NOT EXISTS audits ("
    "  id INTEGER PRIMARY KEY,"
    "  object_id TEXT NOT NULL,"
    "  started TEXT NOT NULL,"
    "  finished TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"      /* pass | fail */
    "  bytes INTEGER,"
    "  files INTEGER,"
    "  seconds REAL,"
    "  failures TEXT);"             /* JSON array */
    "CREATE INDEX IF NOT EXISTS audits_object ON audits (object_id, started);"
    "CREATE INDEX IF NOT EXISTS audits_started ON audits (started);";

static int ensure(vl_db *db, vl_error *err)
{
    return vl_sql_ensure(db, "audits", audits_schema, err);
}

int vl_sql_ensure_audits(vl_db *db, vl_error *err)
{
    return ensure(db, err);
}

/* Prepare sql after making sure the table exists. */
static int prepare(vl_db *db, const char *sql, vl_db_stmt **st,
                   const char *what, vl_error *err)
{
    int rc = ensure(db, err);
    if (rc == VL_OK && vl_db_prepare(db, sql, st) != VL_DB_OK)
        rc = vl_sql_err(db, err, what);
    return rc;
}

/* since as a canonical RFC 3339 string (so it compares with the stored
 * times as text); "" when NULL.  VL_EINPUT when unparsable. */
static int since_text(const char *since, char out[32], vl_error *err)
{
    int64_t t;
    out[0] = '\0';
    if (!since || !*since)
        return VL_OK;
    if (vl_time_parse(since, &t) != 0)
        return vl_error_set(err, VL_EINPUT, "'%s' is not a date or RFC 3339 "
                            "time", since);
    vl_time_rfc3339(t, out);
    return VL_OK;
}

int vl_catalog_audit_insert(vl_catalog *cat, const vl_audit_row *row,
                            vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = prepare(db,
                     "INSERT INTO audits (object_id, started, finished, outcome,"
                     " bytes, files, seconds, failures) VALUES (?,?,?,?,?,?,?,?)",
                     &st, "preparing an audit insert", err);
    if (rc != VL_OK)
        goto done;
    vl_sql_bind_text(st, 1, row->object_id);
    vl_sql_bind_text(st, 2, row->started);
    vl_sql_bind_text(st, 3, row->finished);
    vl_sql_bind_text(st, 4, row->outcome);
    vl_db_bind_int64(st, 5, (int64_t)row->bytes);
    vl_db_bind_int64(st, 6, (int64_t)row->files);
    vl_db_bind_double(st, 7, row->seconds);
    vl_sql_bind_text(st, 8, row->failures_json ? row->failures_json : "[]");
    if (vl_db_step(st) != VL_DB_DONE)
        rc = vl_sql_err(db, err, "recording an audit");
done:
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_audit_objects(vl_catalog *cat, vl_audit_object_fn fn, void *arg,
                             vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc, step;
    /* The last audit is the latest row (highest id), whatever the clock
     * said; content sizes are NULL for files missing from storage. */
    rc = prepare(db,
                 "SELECT o.id,"
                 " (SELECT COALESCE(SUM(c.size), 0) FROM content c"
                 "   WHERE c.object_id = o.id),"
                 " a.started, a.outcome"
                 " FROM objects o LEFT JOIN audits a ON a.id ="
                 "   (SELECT MAX(id) FROM audits WHERE object_id = o.id)"
                 " ORDER BY a.started IS NOT NULL, a.started, o.id",
                 &st, "listing objects to audit", err);
    if (rc != VL_OK)
        goto done;
    while ((step = vl_db_step(st)) == VL_DB_ROW) {
        vl_audit_object o = {vl_sql_col(st, 0), (uint64_t)vl_db_column_int64(st, 1),
                             vl_sql_col(st, 2), vl_sql_col(st, 3)};
        if ((rc = fn(arg, &o)) != 0)
            goto done;
    }
    if (step != VL_DB_DONE)
        rc = vl_sql_err(db, err, "listing objects to audit");
done:
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_audit_days(vl_catalog *cat, const char *since,
                          vl_audit_day_fn fn, void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    char from[32];
    int rc, step;
    if ((rc = since_text(since, from, err)) != VL_OK)
        return rc;
    rc = prepare(db,
                 "SELECT substr(started, 1, 10) AS day, COUNT(*),"
                 " SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END),"
                 " SUM(CASE WHEN outcome <> 'pass' THEN 1 ELSE 0 END),"
                 " COALESCE(SUM(bytes), 0), COALESCE(SUM(files), 0),"
                 " COALESCE(SUM(seconds), 0)"
                 " FROM audits WHERE started >= ? GROUP BY day ORDER BY day",
                 &st, "totalling audits", err);
    if (rc != VL_OK)
        goto done;
    vl_sql_bind_text(st, 1, from);
    while ((step = vl_db_step(st)) == VL_DB_ROW) {
        vl_audit_day d = {
            .day = vl_sql_col(st, 0),
            .objects = (uint64_t)vl_db_column_int64(st, 1),
            .passed = (uint64_t)vl_db_column_int64(st, 2),
            .failed = (uint64_t)vl_db_column_int64(st, 3),
            .bytes = (uint64_t)vl_db_column_int64(st, 4),
            .files = (uint64_t)vl_db_column_int64(st, 5),
            .seconds = vl_db_column_double(st, 6),
        };
        if ((rc = fn(arg, &d)) != 0)
            goto done;
    }
    if (step != VL_DB_DONE)
        rc = vl_sql_err(db, err, "totalling audits");
done:
    vl_db_finalize(st);
    return rc;
}
