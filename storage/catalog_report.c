/* Read-only summaries of the catalog for curators' reports: totals, the
 * format distribution of head states, last audit outcomes and fixity
 * failures (coverage and per-day history come from catalog_audits.c).  Every figure is one aggregate query, so a report on a
 * repository of many thousands of objects costs a few index scans and holds
 * only what it prints.  The audits table belongs to storage/catalog_audits.c;
 * it is only read here, and a catalog where no audit has run yet (no table)
 * simply has no audit figures.  As there, times are RFC 3339 UTC text and an
 * object's latest audit is its highest row id. */
#include <string.h>


#include "catalog_private.h"
#include "catalog_sql.h"

static int prep(vl_db *db, const char *sql, vl_db_stmt **st,
                const char *what, vl_error *err)
{
    if (vl_db_prepare(db, sql, st) != VL_DB_OK) {
        *st = NULL;
        return vl_sql_err(db, err, what);
    }
    return VL_OK;
}

static uint64_t col_u64(vl_db_stmt *st, int i)
{
    int64_t v = vl_db_column_int64(st, i);
    return v > 0 ? (uint64_t)v : 0;
}

/* Tables other modules create lazily may be absent in a young catalog. */
static int table_exists(vl_db *db, const char *name, int *out, vl_error *err)
{
    vl_db_stmt *st = NULL;
    int rc;
    if (vl_db_kind(db) == VL_DB_PG) {
        *out = 1; /* made with the schema (catalog.c) */
        return VL_OK;
    }
    rc = prep(db,
                  "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                  &st, "looking up a table", err);
    if (rc != VL_OK)
        return rc;
    vl_sql_bind_text(st, 1, name);
    int s = vl_db_step(st);
    if (s == VL_DB_ROW || s == VL_DB_DONE)
        *out = s == VL_DB_ROW;
    else
        rc = vl_sql_err(db, err, "looking up a table");
    vl_db_finalize(st);
    return rc;
}

/* Run a query with one row of integer columns into out[0..n). */
static int one_row(vl_db *db, const char *sql, uint64_t *out, int n,
                   const char *what, vl_error *err)
{
    vl_db_stmt *st = NULL;
    int rc = prep(db, sql, &st, what, err);
    if (rc != VL_OK)
        return rc;
    if (vl_db_step(st) == VL_DB_ROW) {
        for (int i = 0; i < n; i++)
            out[i] = col_u64(st, i);
    } else {
        rc = vl_sql_err(db, err, what);
    }
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_report_totals(vl_catalog *cat, vl_report_totals *out,
                             vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    uint64_t v[4] = {0, 0, 0, 0};
    int rc;
    memset(out, 0, sizeof *out);
    rc = one_row(db, "SELECT count(*) FROM objects", v, 1,
                 "counting objects", err);
    if (rc != VL_OK)
        goto done;
    out->objects = v[0];
    rc = one_row(db, "SELECT count(*) FROM versions", v, 1,
                 "counting versions", err);
    if (rc != VL_OK)
        goto done;
    out->versions = v[0];
    /* Each sync keeps its object's head totals (catalog.c). */
    rc = one_row(db,
                 "SELECT coalesce(sum(head_files), 0),"
                 " coalesce(sum(head_bytes), 0),"
                 " coalesce(sum(" VL_SQL_META_FILES "), 0),"
                 " coalesce(sum(" VL_SQL_META_BYTES "), 0) FROM objects o",
                 v, 4, "adding up head states", err);
    if (rc != VL_OK)
        goto done;
    /* files: deposited files (data/); METS.xml and the like apart */
    out->metadata_files = v[2] <= v[0] ? v[2] : v[0];
    out->metadata_bytes = v[3] <= v[1] ? v[3] : v[1];
    out->files = v[0] - out->metadata_files;
    out->bytes = v[1] - out->metadata_bytes;
    rc = one_row(db, "SELECT count(*), coalesce(sum(size), 0) FROM content",
                 v, 2, "adding up stored content", err);
    if (rc != VL_OK)
        goto done;
    out->stored_files = v[0];
    out->stored_bytes = v[1];
done:
    return rc;
}

/* The formats of the deposited files of head states (the files the totals
 * count; vellum's METS.xml is not among them). */
int vl_catalog_report_formats(vl_catalog *cat, vl_report_format_fn fn,
                              void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int have = 0, s;
    int rc = table_exists(db, "formats", &have, err);
    if (rc != VL_OK)
        goto done;
    /* Without a formats table nothing was identified: one "unknown" row. */
    rc = prep(db,
              have ? "SELECT fm.puid, fm.mime, max(fm.format_name),"
                     " max(fm.format_version), count(*),"
                     " coalesce(sum(" VL_SQL_HEAD_FILE_SIZE "), 0)"
                     " FROM objects o JOIN files f"
                     " ON f.object_id = o.id AND f.version = o.head"
                     " AND NOT " VL_SQL_IS_META
                     " LEFT JOIN formats fm"
                     " ON fm.object_id = f.object_id AND fm.digest = f.digest"
                     " GROUP BY fm.puid, fm.mime"
                     " ORDER BY count(*) DESC, 6 DESC, fm.puid, fm.mime"
                   : "SELECT NULL, NULL, NULL, NULL, count(*),"
                     " coalesce(sum(" VL_SQL_HEAD_FILE_SIZE "), 0)"
                     " FROM objects o JOIN files f"
                     " ON f.object_id = o.id AND f.version = o.head"
                     " AND NOT " VL_SQL_IS_META
                     " HAVING count(*) > 0",
              &st, "preparing the format distribution", err);
    if (rc != VL_OK)
        goto done;
    while ((s = vl_db_step(st)) == VL_DB_ROW) {
        vl_report_format_row f = {
            .puid = vl_sql_col(st, 0),
            .mime = vl_sql_col(st, 1),
            .format_name = vl_sql_col(st, 2),
            .format_version = vl_sql_col(st, 3),
            .files = col_u64(st, 4),
            .bytes = col_u64(st, 5),
        };
        if ((rc = fn(arg, &f)) != 0)
            goto done;
    }
    if (s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "reading the format distribution");
done:
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_report_last_outcomes(vl_catalog *cat, uint64_t *passed,
                                    uint64_t *failed, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    uint64_t v[2] = {0, 0};
    int have = 0;
    int rc = table_exists(db, "audits", &have, err);
    /* The latest audit is the highest row id, as in catalog_audits.c. */
    if (rc == VL_OK && have)
        rc = one_row(db,
                     "SELECT coalesce(sum(CASE WHEN a.outcome = 'pass' THEN 1 ELSE 0 END), 0),"
                     " coalesce(sum(CASE WHEN a.outcome <> 'pass' THEN 1 ELSE 0 END), 0)"
                     " FROM objects o JOIN audits a ON a.id ="
                     " (SELECT max(id) FROM audits WHERE object_id = o.id)",
                     v, 2, "counting last audit outcomes", err);
    *passed = v[0];
    *failed = v[1];
    return rc;
}

#define FAILURES_SQLITE \
              "WITH items AS (SELECT a.id AS audit, a.object_id, a.started,"\
              "  json_extract(j.value, '$.kind') AS kind,"\
              "  json_extract(j.value, '$.code') AS code,"\
              "  json_extract(j.value, '$.path') AS path,"\
              "  json_extract(j.value, '$.algorithm') AS algorithm,"\
              "  json_extract(j.value, '$.expected') AS expected,"\
              "  json_extract(j.value, '$.actual') AS actual,"\
              "  json_extract(j.value, '$.message') AS message"\
              "  FROM audits a LEFT JOIN json_each(CASE WHEN"\
              "   json_valid(a.failures) AND json_type(a.failures) = 'array'"\
              "   THEN a.failures ELSE '[]' END) j"\
              "  WHERE a.outcome <> 'pass'),"\
              " grouped AS (SELECT object_id, kind, code, path, expected,"\
              "  actual, max(algorithm) AS algorithm, max(message) AS message,"\
              "  min(started) AS first_seen, max(started) AS last_seen,"\
              "  max(audit) AS last_audit FROM items"\
              "  GROUP BY object_id, kind, code, path, expected, actual),"\
              /* latest audit per failing object only, through the index */\
              " marked AS (SELECT g.*, g.last_audit = (SELECT max(a.id)"\
              "  FROM audits a WHERE a.object_id = g.object_id) AS current"\
              "  FROM grouped g)"\
              " SELECT object_id, kind, code, path, algorithm, expected, actual,"\
              "  message, first_seen, last_seen, current,"\
              /* the file as curators know it: a content path's logical name */\
              "  (SELECT f.logical_path FROM content c JOIN files f"\
              "   ON f.object_id = c.object_id AND f.digest = c.digest"\
              "   WHERE c.object_id = m.object_id AND c.content_path = m.path"\
              "   ORDER BY f.version DESC, f.logical_path LIMIT 1)"\
              " FROM marked m WHERE ?1 IS NULL OR last_seen >= ?1 OR current"\
              " ORDER BY object_id, path, kind, first_seen"
#define FAILURES_PG \
              "WITH items AS (SELECT a.id AS audit, a.object_id, a.started,"\
              "  j.value->>'kind' AS kind,"\
              "  j.value->>'code' AS code,"\
              "  j.value->>'path' AS path,"\
              "  j.value->>'algorithm' AS algorithm,"\
              "  j.value->>'expected' AS expected,"\
              "  j.value->>'actual' AS actual,"\
              "  j.value->>'message' AS message"\
              "  FROM audits a LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN"\
              "   vellum_json_array(a.failures)"\
              "   THEN a.failures::jsonb ELSE '[]'::jsonb END) j(value) ON true"\
              "  WHERE a.outcome <> 'pass'),"\
              " grouped AS (SELECT object_id, kind, code, path, expected,"\
              "  actual, max(algorithm) AS algorithm, max(message) AS message,"\
              "  min(started) AS first_seen, max(started) AS last_seen,"\
              "  max(audit) AS last_audit FROM items"\
              "  GROUP BY object_id, kind, code, path, expected, actual),"\
              /* latest audit per failing object only, through the index */\
              " marked AS (SELECT g.*, g.last_audit = (SELECT max(a.id)"\
              "  FROM audits a WHERE a.object_id = g.object_id) AS current"\
              "  FROM grouped g)"\
              " SELECT object_id, kind, code, path, algorithm, expected, actual,"\
              "  message, first_seen, last_seen, current,"\
              /* the file as curators know it: a content path's logical name */\
              "  (SELECT f.logical_path FROM content c JOIN files f"\
              "   ON f.object_id = c.object_id AND f.digest = c.digest"\
              "   WHERE c.object_id = m.object_id AND c.content_path = m.path"\
              "   ORDER BY f.version DESC, f.logical_path LIMIT 1)"\
              " FROM marked m WHERE ?1 IS NULL OR last_seen >= ?1 OR current"\
              " ORDER BY object_id, path, kind, first_seen"

/* Every failure item of every failed audit (a failed audit without items
 * still yields one row, kind NULL), grouped so that a file failing the same
 * way audit after audit is one row whose first_seen is the earliest audit
 * that found it. */
int vl_catalog_report_failures(vl_catalog *cat, const char *since,
                               vl_report_failure_fn fn, void *arg,
                               vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int have = 0, s;
    int rc = table_exists(db, "audits", &have, err);
    if (rc != VL_OK || !have)
        goto done;
    /* PostgreSQL's JSON functions have other names (and no json_valid:
     * vellum_json_array, made with the schema, stands in). */
    rc = prep(db, vl_db_kind(db) == VL_DB_PG ? FAILURES_PG : FAILURES_SQLITE,
              &st, "preparing the failure list", err);
    if (rc != VL_OK)
        goto done;
    vl_sql_bind_text(st, 1, since);
    while ((s = vl_db_step(st)) == VL_DB_ROW) {
        vl_report_failure f = {
            .object_id = vl_sql_col(st, 0),
            .kind = vl_sql_col(st, 1),
            .code = vl_sql_col(st, 2),
            .path = vl_sql_col(st, 3),
            .algorithm = vl_sql_col(st, 4),
            .expected = vl_sql_col(st, 5),
            .actual = vl_sql_col(st, 6),
            .message = vl_sql_col(st, 7),
            .first_seen = vl_sql_col(st, 8),
            .last_seen = vl_sql_col(st, 9),
            .current = vl_db_column_int(st, 10),
            .logical = vl_sql_col(st, 11),
        };
        if ((rc = fn(arg, &f)) != 0)
            goto done;
    }
    if (s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "reading the failure list");
done:
    vl_db_finalize(st);
    return rc;
}

/* The copies' names, in the order given (a JSON array). */
#define COPIES_NAMES_SQLITE                                                 \
    "WITH names(pos, name) AS (SELECT key, value FROM json_each(?1)),"
#define COPIES_NAMES_PG                                                     \
    "WITH names(pos, name) AS (SELECT ord - 1, value FROM"                  \
    " jsonb_array_elements_text(CAST(?1 AS jsonb))"                         \
    " WITH ORDINALITY AS n(value, ord)),"
#define COPIES_ROWS \
              " rows AS (SELECT o.id AS id, o.head AS head, n.pos AS pos,"\
              "  n.name AS name, c.version AS cversion, c.verified AS cverified,"\
              "  c.outcome AS coutcome, c.state AS state, c.failures AS cfail,"\
              "  a.started AS astarted, a.outcome AS aoutcome, a.failures AS afail,"\
              "  (c.verified IS NOT NULL AND (a.started IS NULL OR"\
              "   c.verified > a.started)) AS copy_newer"\
              "  FROM objects o CROSS JOIN names n"\
              "  LEFT JOIN copies c ON c.object_id = o.id AND c.copy = n.name"\
              "  LEFT JOIN audits a ON n.name = ?2 AND a.id ="\
              "   (SELECT max(id) FROM audits WHERE object_id = o.id))"\
              " SELECT id, head, name,"\
              "  CASE WHEN name = ?2 THEN coalesce(head, 0)"\
              "   ELSE coalesce(cversion, 0) END,"\
              "  CASE WHEN name <> ?2 OR copy_newer THEN cverified"\
              "   ELSE astarted END,"\
              "  CASE WHEN name <> ?2 OR copy_newer THEN coutcome"\
              "   ELSE aoutcome END,"\
              "  state,"\
              "  CASE WHEN name <> ?2 OR copy_newer THEN cfail ELSE afail END"\
              " FROM rows ORDER BY id, pos"

/* Objects by id, each with one row per copy name (in the array's order).
 * The primary's last audit is the later of its audit history row (the
 * object's highest audit id) and its "copies" row (which a repair may have
 * written since); the same audit writes both, and then the history row is
 * the one read. */
int vl_catalog_report_copies(vl_catalog *cat, const char *copies_json,
                             vl_report_copy_fn fn, void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int s;
    int rc = vl_sql_ensure_audits(db, err);
    if (rc == VL_OK)
        rc = vl_sql_ensure_copies(db, err);
    if (rc != VL_OK)
        return rc;
    rc = prep(db,
              vl_db_kind(db) == VL_DB_PG ? COPIES_NAMES_PG COPIES_ROWS
                                         : COPIES_NAMES_SQLITE COPIES_ROWS,
              &st, "preparing the copies of each object", err);
    if (rc != VL_OK)
        goto done;
    vl_sql_bind_text(st, 1, copies_json);
    vl_sql_bind_text(st, 2, VL_PRIMARY_COPY);
    while ((s = vl_db_step(st)) == VL_DB_ROW) {
        vl_report_copy_row c = {
            .object_id = vl_sql_col(st, 0),
            .head = vl_db_column_int(st, 1),
            .copy = vl_sql_col(st, 2),
            .version = vl_db_column_int(st, 3),
            .verified = vl_sql_col(st, 4),
            .outcome = vl_sql_col(st, 5),
            .state = vl_sql_col(st, 6),
            .failures_json = vl_sql_col(st, 7),
        };
        if ((rc = fn(arg, &c)) != 0)
            goto done;
    }
    if (s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "reading the copies of each object");
done:
    vl_db_finalize(st);
    return rc;
}
