/* The catalog's format identification results, per object and content
 * digest (identical content has one format). */

#include <stdlib.h>

#include "catalog_private.h"
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

/* Each deposited file's modification time as the depositor had it (from
 * the folder entry or the archive entry), per version and logical path, in
 * nanoseconds since the epoch: get gives it back.  Files carried over by
 * --merge keep theirs (the rows of the version before are carried). */
static const char *const dates_schema =
    "CREATE TABLE IF NOT EXISTS file_dates ("
    "  object_id TEXT NOT NULL, version INTEGER NOT NULL,"
    "  logical_path TEXT NOT NULL, modified_ns INTEGER NOT NULL,"
    "  PRIMARY KEY (object_id, version, logical_path)) WITHOUT ROWID";

static int ensure(vl_db *db, vl_error *err)
{
    int rc = vl_sql_ensure(db, "formats", formats_schema, err);
    if (rc == VL_OK)
        rc = vl_sql_ensure(db, "format_basis", pronom_schema, err);
    return rc == VL_OK ? vl_sql_ensure(db, "file_dates", dates_schema, err) : rc;
}

int vl_catalog_dates_carry(vl_catalog *cat, const char *object_id, int from,
                           int to, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = ensure(db, err);
    if (rc != VL_OK)
        return rc;
    if (vl_db_prepare(db, "INSERT INTO file_dates SELECT "
                           "object_id, ?3, logical_path, modified_ns FROM "
                           "file_dates WHERE object_id = ?1 AND version = ?2"
                           " ON CONFLICT DO NOTHING", &st) != VL_DB_OK)
        return vl_sql_err(db, err, "preparing a file date copy");
    vl_sql_bind_text(st, 1, object_id);
    vl_db_bind_int(st, 2, from);
    vl_db_bind_int(st, 3, to);
    if (vl_db_step(st) != VL_DB_DONE)
        rc = vl_sql_err(db, err, "carrying file dates");
    vl_db_finalize(st);
    return rc;
}

/* A format row's ten columns, from column first on. */
static vl_catalog_format format_at(vl_db_stmt *st, int first)
{
    vl_catalog_format f = {
        vl_db_column_text(st, first), vl_db_column_text(st, first + 1),
        vl_db_column_text(st, first + 2), vl_db_column_text(st, first + 3),
        vl_db_column_text(st, first + 4), vl_db_column_text(st, first + 5),
        vl_db_column_text(st, first + 6), vl_db_column_text(st, first + 7),
        vl_db_column_text(st, first + 8), vl_db_column_text(st, first + 9)};
    return f;
}

int vl_catalog_files_detail(vl_catalog *cat, const char *id, int version,
                            const char *after, size_t limit,
                            vl_catalog_file_detail_fn fn, void *arg,
                            vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    char limit_sql[32] = "", *sql = NULL;
    int rc = ensure(db, err), s;
    if (rc != VL_OK)
        return rc;
    if (limit)
        snprintf(limit_sql, sizeof limit_sql, " LIMIT %zu", limit);
    /* As vl_catalog_format_get and vl_catalog_date_get give them. */
    sql = vl_asprintf(
        "SELECT f.logical_path, c.content_path, f.digest, c.size,"
        " CASE WHEN fm.object_id IS NULL THEN 0 ELSE 1 END, fm.mime, fm.encoding, fm.description,"
        " fm.puid, fm.format_name, fm.format_version, b.basis, b.warning,"
        " b.others, b.signatures,"
        " CASE WHEN d.object_id IS NULL THEN 0 ELSE 1 END, d.modified_ns"
        VL_SQL_FILES_CONTENT
        " LEFT JOIN formats fm ON fm.object_id = f.object_id"
        "  AND fm.digest = f.digest"
        " LEFT JOIN format_basis b ON b.object_id = f.object_id"
        "  AND b.digest = f.digest"
        " LEFT JOIN file_dates d ON d.object_id = f.object_id"
        "  AND d.version = f.version AND d.logical_path = f.logical_path"
        " WHERE f.object_id = ? AND f.version = ?%s"
        " ORDER BY f.logical_path%s",
        after ? " AND f.logical_path > ?" : "", limit_sql);
    if (!sql)
        return vl_error_oom(err);
    if (vl_db_prepare(db, sql, &st) != VL_DB_OK) {
        rc = vl_sql_err(db, err, "preparing a file listing");
        goto done;
    }
    vl_sql_bind_text(st, 1, id);
    vl_db_bind_int(st, 2, version);
    if (after)
        vl_sql_bind_text(st, 3, after);
    while ((s = vl_db_step(st)) == VL_DB_ROW) {
        vl_catalog_format fm = format_at(st, 5);
        vl_catalog_file_detail d = {
            .file = {vl_db_column_text(st, 0), vl_db_column_text(st, 1),
                     vl_db_column_text(st, 2),
                     (uint64_t)vl_db_column_int64(st, 3)},
            .format = vl_db_column_int(st, 4) ? &fm : NULL,
            .has_modified = vl_db_column_int(st, 15) != 0,
            .modified_ns = vl_db_column_int64(st, 16),
        };
        if ((rc = fn(arg, &d)) != 0)
            goto done;
    }
    if (s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "listing files");
done:
    vl_db_finalize(st);
    free(sql);
    return rc;
}

int vl_sql_ensure_formats(vl_db *db, vl_error *err)
{
    return ensure(db, err);
}

/* ---- one file at a time ------------------------------------------------ */

struct vl_catalog_facts {
    vl_catalog *cat;
    char *object_id;
    /* each prepared on first use, then reset after each */
    vl_db_stmt *format, *date, *put_format, *put_basis, *put_date;
};

int vl_catalog_facts_open(vl_catalog *cat, const char *object_id,
                          vl_catalog_facts **out, vl_error *err)
{
    vl_catalog_facts *fx = calloc(1, sizeof *fx);
    int rc = VL_OK;
    *out = NULL;
    if (!fx || !(fx->object_id = vl_strdup(object_id)))
        rc = vl_error_oom(err);
    else
        rc = ensure(vl_catalog_vdb(cat), err);
    if (rc != VL_OK) {
        vl_catalog_facts_close(fx);
        return rc;
    }
    fx->cat = cat;
    *out = fx;
    return VL_OK;
}

void vl_catalog_facts_close(vl_catalog_facts *fx)
{
    if (!fx)
        return;
    vl_db_finalize(fx->format);
    vl_db_finalize(fx->date);
    vl_db_finalize(fx->put_format);
    vl_db_finalize(fx->put_basis);
    vl_db_finalize(fx->put_date);
    free(fx->object_id);
    free(fx);
}

int vl_catalog_facts_format(vl_catalog_facts *fx, const char *digest,
                            vl_catalog_format_fn fn, void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(fx->cat);
    int rc = VL_OK;
    if (!fx->format &&
        vl_db_prepare(db, "SELECT f.mime, f.encoding, f.description, f.puid, f.format_name,"
            " f.format_version, b.basis, b.warning, b.others, b.signatures"
            " FROM formats f LEFT JOIN format_basis b"
            " ON b.object_id = f.object_id AND b.digest = f.digest"
            " WHERE f.object_id = ? AND f.digest = ?", &fx->format) != VL_DB_OK)
        return vl_sql_err(db, err, "reading a format");
    vl_sql_bind_text(fx->format, 1, fx->object_id);
    vl_sql_bind_text(fx->format, 2, digest);
    int s = vl_db_step(fx->format);
    if (s == VL_DB_ROW) {
        vl_catalog_format f = format_at(fx->format, 0);
        fn(arg, &f);
    } else if (s != VL_DB_DONE) {
        rc = vl_sql_err(db, err, "reading a format");
    }
    vl_db_reset(fx->format);
    return rc;
}

int vl_catalog_facts_date(vl_catalog_facts *fx, int version, const char *logical,
                          int64_t *modified_ns, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(fx->cat);
    int rc = VL_OK, s;
    if (!fx->date &&
        vl_db_prepare(db, "SELECT modified_ns FROM file_dates WHERE "
                          "object_id = ? AND version = ? AND logical_path = ?",
                      &fx->date) != VL_DB_OK)
        return vl_sql_err(db, err, "preparing a file date lookup");
    vl_sql_bind_text(fx->date, 1, fx->object_id);
    vl_db_bind_int(fx->date, 2, version);
    vl_sql_bind_text(fx->date, 3, logical);
    if ((s = vl_db_step(fx->date)) == VL_DB_ROW)
        *modified_ns = vl_db_column_int64(fx->date, 0);
    else if (s == VL_DB_DONE)
        rc = VL_FINDING;
    else
        rc = vl_sql_err(db, err, "reading a file date");
    vl_db_reset(fx->date);
    return rc;
}

int vl_catalog_facts_put_format(vl_catalog_facts *fx, const char *digest,
                                const vl_catalog_format *f, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(fx->cat);
    int rc = VL_OK;
    if (!fx->put_format &&
        vl_db_prepare(db, "INSERT INTO formats VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT (object_id, digest) DO UPDATE SET"
            " mime = excluded.mime, encoding = excluded.encoding,"
            " description = excluded.description, puid = excluded.puid,"
            " format_name = excluded.format_name,"
            " format_version = excluded.format_version", &fx->put_format) != VL_DB_OK)
        return vl_sql_err(db, err, "preparing a format insert");
    vl_db_stmt *st = fx->put_format;
    vl_sql_bind_text_known(st, 1, fx->object_id);
    vl_sql_bind_text_known(st, 2, digest);
    vl_sql_bind_text_known(st, 3, f->mime);
    vl_sql_bind_text_known(st, 4, f->encoding);
    vl_sql_bind_text_known(st, 5, f->description);
    vl_sql_bind_text_known(st, 6, f->puid);
    vl_sql_bind_text_known(st, 7, f->format_name);
    vl_sql_bind_text_known(st, 8, f->format_version);
    if (vl_db_step(st) != VL_DB_DONE)
        rc = vl_sql_err(db, err, "recording a format");
    vl_db_reset(st);
    if (rc != VL_OK || !(f->basis || f->warning || f->others || f->signatures))
        return rc;
    if (!fx->put_basis &&
        vl_db_prepare(db, "INSERT INTO format_basis VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (object_id, digest) DO UPDATE SET"
            " basis = excluded.basis, warning = excluded.warning,"
            " others = excluded.others, signatures = excluded.signatures",
            &fx->put_basis) != VL_DB_OK)
        return vl_sql_err(db, err, "preparing a format basis insert");
    st = fx->put_basis;
    vl_sql_bind_text_known(st, 1, fx->object_id);
    vl_sql_bind_text_known(st, 2, digest);
    vl_sql_bind_text_known(st, 3, f->basis);
    vl_sql_bind_text_known(st, 4, f->warning);
    vl_sql_bind_text_known(st, 5, f->others);
    vl_sql_bind_text_known(st, 6, f->signatures);
    if (vl_db_step(st) != VL_DB_DONE)
        rc = vl_sql_err(db, err, "recording a format basis");
    vl_db_reset(st);
    return rc;
}

int vl_catalog_facts_put_date(vl_catalog_facts *fx, int version, const char *logical,
                              int64_t modified_ns, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(fx->cat);
    int rc = VL_OK;
    if (!fx->put_date &&
        vl_db_prepare(db, "INSERT INTO file_dates VALUES (?,?,?,?)"
                          " ON CONFLICT (object_id, version, logical_path)"
                          " DO UPDATE SET modified_ns = excluded.modified_ns",
                      &fx->put_date) != VL_DB_OK)
        return vl_sql_err(db, err, "preparing a file date insert");
    vl_sql_bind_text(fx->put_date, 1, fx->object_id);
    vl_db_bind_int(fx->put_date, 2, version);
    vl_sql_bind_text(fx->put_date, 3, logical);
    vl_db_bind_int64(fx->put_date, 4, modified_ns);
    if (vl_db_step(fx->put_date) != VL_DB_DONE)
        rc = vl_sql_err(db, err, "recording a file date");
    vl_db_reset(fx->put_date);
    return rc;
}

int vl_catalog_format_put(vl_catalog *cat, const char *object_id,
                          const char *digest, const vl_catalog_format *f,
                          vl_error *err)
{
    vl_catalog_facts *fx = NULL;
    int rc = vl_catalog_facts_open(cat, object_id, &fx, err);
    if (rc == VL_OK)
        rc = vl_catalog_facts_put_format(fx, digest, f, err);
    vl_catalog_facts_close(fx);
    return rc;
}

int vl_catalog_date_put(vl_catalog *cat, const char *object_id, int version,
                        const char *logical, int64_t modified_ns,
                        vl_error *err)
{
    vl_catalog_facts *fx = NULL;
    int rc = vl_catalog_facts_open(cat, object_id, &fx, err);
    if (rc == VL_OK)
        rc = vl_catalog_facts_put_date(fx, version, logical, modified_ns, err);
    vl_catalog_facts_close(fx);
    return rc;
}

int vl_catalog_format_get(vl_catalog *cat, const char *object_id,
                          const char *digest, vl_catalog_format_fn fn,
                          void *arg, vl_error *err)
{
    vl_catalog_facts *fx = NULL;
    int rc = vl_catalog_facts_open(cat, object_id, &fx, err);
    if (rc == VL_OK)
        rc = vl_catalog_facts_format(fx, digest, fn, arg, err);
    vl_catalog_facts_close(fx);
    return rc;
}

int vl_catalog_date_get(vl_catalog *cat, const char *object_id, int version,
                        const char *logical, int64_t *modified_ns,
                        vl_error *err)
{
    vl_catalog_facts *fx = NULL;
    int rc = vl_catalog_facts_open(cat, object_id, &fx, err);
    if (rc == VL_OK)
        rc = vl_catalog_facts_date(fx, version, logical, modified_ns, err);
    vl_catalog_facts_close(fx);
    return rc;
}

int vl_catalog_dates(vl_catalog *cat, const char *object_id, int version,
                     vl_catalog_date_fn fn, void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = ensure(db, err), s;
    if (rc != VL_OK)
        return rc;
    if (vl_db_prepare(db, "SELECT logical_path, modified_ns FROM "
                           "file_dates WHERE object_id = ? AND version = ?", &st) != VL_DB_OK)
        return vl_sql_err(db, err, "preparing a file date listing");
    vl_sql_bind_text(st, 1, object_id);
    vl_db_bind_int(st, 2, version);
    while ((s = vl_db_step(st)) == VL_DB_ROW) {
        const char *logical = vl_db_column_text(st, 0);
        if (logical && (rc = fn(arg, logical, vl_db_column_int64(st, 1),
                                err)) != VL_OK)
            break;
    }
    if (rc == VL_OK && s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "reading file dates");
    vl_db_finalize(st);
    return rc;
}
