/* The catalog's descriptive metadata: each object's deposit Dublin Core
 * (given as --dc, --metadata DC/MODS, bag-info.txt; MODS crosswalked to DC),
 * filled at ingest and by reindex from METS, and the listings that use it
 * (ls with titles and audit results, search).  Not one of catalog.c's
 * tables, so a reindex keeps it. */
#include <stdlib.h>
#include <string.h>

#include "catalog_private.h"
#include "catalog_sql.h"

static const char *const desc_schema =
    "CREATE TABLE IF NOT EXISTS descriptive ("
    "  object_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  element TEXT NOT NULL, value TEXT NOT NULL,"
    "  PRIMARY KEY (object_id, seq)) WITHOUT ROWID";

int vl_sql_ensure_descriptive(vl_db *db, vl_error *err)
{
    return vl_sql_ensure(db, "descriptive", desc_schema, err);
}

static int run(vl_db *db, vl_db_stmt *st, const char *what, vl_error *err)
{
    int rc = vl_db_step(st) == VL_DB_DONE ? VL_OK : vl_sql_err(db, err, what);
    vl_db_reset(st);
    return rc;
}

int vl_catalog_desc_set(vl_catalog *cat, const char *object_id, size_t n,
                        vl_desc_entry_fn entry, const void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *del = NULL, *ins = NULL;
    int rc = vl_sql_ensure_descriptive(db, err);
    if (rc != VL_OK)
        return rc;
    if (vl_db_prepare(db, "DELETE FROM descriptive WHERE object_id = ?", &del) != VL_DB_OK ||
        vl_db_prepare(db, "INSERT INTO descriptive VALUES (?,?,?,?)", &ins) != VL_DB_OK) {
        rc = vl_sql_err(db, err, "preparing descriptive metadata");
        goto done;
    }
    vl_sql_bind_text(del, 1, object_id);
    if ((rc = run(db, del, "replacing descriptive metadata", err)) != VL_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const char *el = NULL, *val = NULL;
        entry(arg, i, &el, &val);
        if (!el || !val)
            continue;
        vl_sql_bind_text(ins, 1, object_id);
        vl_db_bind_int64(ins, 2, (int64_t)i);
        vl_sql_bind_text(ins, 3, el);
        vl_sql_bind_text(ins, 4, val);
        if ((rc = run(db, ins, "recording descriptive metadata", err)) != VL_OK)
            goto done;
    }
done:
    vl_db_finalize(del);
    vl_db_finalize(ins);
    return rc;
}

int vl_catalog_desc_count(vl_catalog *cat, const char *object_id, size_t *n,
                          vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = vl_sql_ensure_descriptive(db, err);
    *n = 0;
    if (rc != VL_OK)
        return rc;
    if (vl_db_prepare(db, "SELECT count(*) FROM descriptive WHERE object_id = ?", &st) != VL_DB_OK)
        return vl_sql_err(db, err, "counting descriptive metadata");
    vl_sql_bind_text(st, 1, object_id);
    if (vl_db_step(st) == VL_DB_ROW)
        *n = (size_t)vl_db_column_int64(st, 0);
    else
        rc = vl_sql_err(db, err, "counting descriptive metadata");
    vl_db_finalize(st);
    return rc;
}

/* "%text%" for LIKE, with %, _ and \ escaped by \. */
static char *like_pattern(const char *text)
{
    size_t n = strlen(text);
    char *p = malloc(2 * n + 3), *o = p;
    if (!p)
        return NULL;
    *o++ = '%';
    for (const char *s = text; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

#define SEARCHED "('title','creator','subject','date','identifier')"
/* SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE does that. */
#define MATCH_WHERE_OP(LIKE)                                                 \
    " FROM descriptive d WHERE d.object_id = o.id AND d.element IN " SEARCHED \
    " AND d.value " LIKE " ?1 ESCAPE '\\' ORDER BY d.seq LIMIT 1"

/* The latest audit is the highest row id, as in catalog_audits.c. */
#define LIST_SQL(MATCH_WHERE)                                                \
    "SELECT o.id, o.path, o.head, o.created, o.updated,"                     \
    " coalesce(o.head_files, 0), coalesce(o.head_bytes, 0),"                 \
    " " VL_SQL_META_FILES ", " VL_SQL_META_BYTES ","                         \
    " (SELECT t.value FROM descriptive t WHERE t.object_id = o.id"           \
    "   AND t.element = 'title' ORDER BY t.seq LIMIT 1),"                    \
    " a.started, a.outcome,"                                                 \
    " (SELECT d.element" MATCH_WHERE "),"                                    \
    " (SELECT d.value" MATCH_WHERE ")"                                       \
    " FROM objects o LEFT JOIN audits a ON a.id ="                           \
    "   (SELECT max(id) FROM audits WHERE object_id = o.id)"                 \
    " WHERE (?1 IS NULL OR EXISTS (SELECT 1" MATCH_WHERE "))"                \
    "   AND (?2 = 0 OR (a.outcome IS NOT NULL AND a.outcome <> 'pass'))"     \
    " ORDER BY o.id"

int vl_catalog_list(vl_catalog *cat, const vl_catalog_list_filter *f,
                    vl_catalog_listing_fn fn, void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    char *pattern = NULL;
    int rc = vl_sql_ensure_descriptive(db, err), step;
    if (rc == VL_OK)
        rc = vl_sql_ensure_audits(db, err);
    if (rc != VL_OK)
        return rc;
    if (f && f->text && !(pattern = like_pattern(f->text)))
        return vl_error_oom(err);
    if (vl_db_prepare(db, vl_db_kind(db) == VL_DB_PG
                              ? LIST_SQL(MATCH_WHERE_OP("ILIKE"))
                              : LIST_SQL(MATCH_WHERE_OP("LIKE")),
                      &st) != VL_DB_OK) {
        rc = vl_sql_err(db, err, "preparing the object listing");
        goto done;
    }
    vl_sql_bind_text(st, 1, pattern);
    vl_db_bind_int(st, 2, f && f->failed);
    while ((step = vl_db_step(st)) == VL_DB_ROW) {
        vl_catalog_listing l = {
            .object = {.id = vl_sql_col(st, 0), .path = vl_sql_col(st, 1),
                       .head = vl_db_column_int(st, 2),
                       .created = vl_sql_col(st, 3), .updated = vl_sql_col(st, 4)},
            .title = vl_sql_col(st, 9),
            .last_audit = vl_sql_col(st, 10),
            .last_outcome = vl_sql_col(st, 11),
            .match_element = vl_sql_col(st, 12),
            .match_value = vl_sql_col(st, 13),
        };
        vl_catalog_object_counts(&l.object, (uint64_t)vl_db_column_int64(st, 5),
                                 (uint64_t)vl_db_column_int64(st, 6),
                                 (uint64_t)vl_db_column_int64(st, 7),
                                 (uint64_t)vl_db_column_int64(st, 8));
        if (f && f->due_cutoff) {
            int64_t t;
            if (l.last_audit && vl_time_parse(l.last_audit, &t) == 0 &&
                t > f->due_cutoff)
                continue;
        }
        if ((rc = fn(arg, &l)) != 0)
            goto done;
    }
    if (step != VL_DB_DONE)
        rc = vl_sql_err(db, err, "listing objects");
done:
    vl_db_finalize(st);
    free(pattern);
    return rc;
}
