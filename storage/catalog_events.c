/* The catalog's copy of the preservation event log: one row per log line,
 * with the fields people search by pulled out into columns. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_private.h"
#include "vl_json.h"
#include "catalog_sql.h"

static const char *const events_schema =
    "CREATE TABLE IF NOT EXISTS events ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  type TEXT NOT NULL,"
    "  datetime TEXT NOT NULL,"
    "  outcome TEXT,"
    "  detail TEXT,"
    "  outcome_detail TEXT,"
    "  object_id TEXT,"
    "  version INTEGER,"
    "  files TEXT,"
    "  agents TEXT,"
    "  hash TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_object ON events (object_id, seq);"
    "CREATE INDEX IF NOT EXISTS events_type ON events (type, datetime);";

/* PostgreSQL: the events table is the log itself (see events.c), so each
 * row keeps its JSON line verbatim. */
static const char *const events_line_pg =
    "ALTER TABLE events ADD COLUMN IF NOT EXISTS line TEXT";

/* Arbitrary constant: the key of the lock appends to the chain take. */
#define EVENTS_LOCK_SQL "SELECT pg_advisory_xact_lock(x'7661656c6c756d02'::bigint)"

static int ensure(vl_db *db, vl_error *err)
{
    int pg_new = vl_db_kind(db) == VL_DB_PG && !vl_db_schema_ready(db);
    int rc = vl_sql_ensure(db, "events", events_schema, err);
    if (rc == VL_OK && pg_new && vl_db_exec_ddl(db, events_line_pg) != VL_DB_OK)
        rc = vl_sql_err(db, err, "creating the events table");
    return rc;
}

int vl_catalog_events_are_log(vl_catalog *cat)
{
    return vl_db_kind(vl_catalog_vdb(cat)) == VL_DB_PG;
}

int vl_catalog_events_lock(vl_catalog *cat, int *outer, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    int rc = vl_catalog_scope_begin(cat, outer, err);
    if (rc == VL_OK && vl_db_exec(db, EVENTS_LOCK_SQL) != VL_DB_OK) {
        rc = vl_sql_err(db, err, "locking the event log");
        vl_catalog_scope_end(cat, *outer, 0, NULL);
    }
    return rc;
}

int vl_catalog_event_last(vl_catalog *cat, long *seq, char **line,
                          vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = VL_OK, s;
    *seq = 0;
    *line = NULL;
    if (vl_db_prepare(db, "SELECT seq, line FROM events ORDER BY seq DESC"
                      " LIMIT 1", &st) != VL_DB_OK)
        return vl_sql_err(db, err, "reading the last event");
    if ((s = vl_db_step(st)) == VL_DB_ROW) {
        const char *l = vl_db_column_text(st, 1);
        *seq = (long)vl_db_column_int64(st, 0);
        if (!l)
            rc = vl_error_set(err, VL_FINDING, "catalog %s: event %ld has no "
                              "log line", vl_db_name(db), *seq);
        else if (!(*line = vl_strdup(l)))
            rc = vl_error_oom(err);
    } else if (s != VL_DB_DONE) {
        rc = vl_sql_err(db, err, "reading the last event");
    }
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_events_lines(vl_catalog *cat, vl_event_line_fn fn, void *arg,
                            vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = VL_OK, s;
    if (vl_db_prepare(db, "SELECT seq, line, hash FROM events ORDER BY seq",
                      &st) != VL_DB_OK)
        return vl_sql_err(db, err, "reading the event log");
    while ((s = vl_db_step(st)) == VL_DB_ROW) {
        const char *l = vl_db_column_text(st, 1);
        rc = fn(arg, (long)vl_db_column_int64(st, 0), l ? l : "",
                vl_db_column_text(st, 2), err);
        if (rc != VL_OK)
            break;
    }
    if (rc == VL_OK && s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "reading the event log");
    vl_db_finalize(st);
    return rc;
}

int vl_sql_ensure_events(vl_db *db, vl_error *err)
{
    return ensure(db, err);
}

int vl_catalog_event_insert(vl_catalog *cat, long seq, const char *line,
                            const char *hash, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int oom = 0;
    json_t *j = vl_json_loadb(line, strlen(line), 0, NULL, &oom);
    char *files = NULL, *agents = NULL;
    int rc;
    if (oom)
        return vl_error_set(err, VL_ESYS, "event %ld: out of memory", seq);
    if (!j)
        return vl_error_set(err, VL_FINDING, "event %ld is not valid JSON", seq);
    if ((rc = ensure(db, err)) != VL_OK)
        goto done;
    if (vl_db_prepare(db, "INSERT INTO events (seq, id, type, datetime, outcome, detail,"
            " outcome_detail, object_id, version, files, agents, hash)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (seq) DO UPDATE SET"
            " id = excluded.id, type = excluded.type,"
            " datetime = excluded.datetime, outcome = excluded.outcome,"
            " detail = excluded.detail, outcome_detail = excluded.outcome_detail,"
            " object_id = excluded.object_id, version = excluded.version,"
            " files = excluded.files, agents = excluded.agents,"
            " hash = excluded.hash", &st) != VL_DB_OK) {
        rc = vl_sql_err(db, err, "preparing an event insert");
        goto done;
    }
    json_t *jf = json_object_get(j, "files"), *ja = json_object_get(j, "agents");
    files = jf ? vl_json_dumps(jf, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    agents = ja ? vl_json_dumps(ja, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if ((jf && !files) || (ja && !agents)) {
        rc = vl_error_set(err, VL_ESYS, "event %ld: out of memory", seq);
        goto done;
    }
    vl_db_bind_int64(st, 1, seq);
    vl_sql_bind_text(st, 2, json_string_value(json_object_get(j, "id")));
    vl_sql_bind_text(st, 3, json_string_value(json_object_get(j, "type")));
    vl_sql_bind_text(st, 4, json_string_value(json_object_get(j, "datetime")));
    vl_sql_bind_text(st, 5, json_string_value(json_object_get(j, "outcome")));
    vl_sql_bind_text(st, 6, json_string_value(json_object_get(j, "detail")));
    vl_sql_bind_text(st, 7, json_string_value(json_object_get(j, "outcome_detail")));
    vl_sql_bind_text(st, 8, json_string_value(json_object_get(j, "object")));
    vl_db_bind_int(st, 9, (int)json_integer_value(json_object_get(j, "version")));
    vl_sql_bind_text(st, 10, files ? files : "[]");
    vl_sql_bind_text(st, 11, agents ? agents : "[]");
    vl_sql_bind_text(st, 12, hash);
    if (vl_db_step(st) != VL_DB_DONE) {
        rc = vl_sql_err(db, err, "recording an event");
        goto done;
    }
    /* PostgreSQL: the line itself too (the table is the log). */
    if (vl_db_kind(db) == VL_DB_PG) {
        vl_db_finalize(st);
        st = NULL;
        if (vl_db_prepare(db, "UPDATE events SET line = ? WHERE seq = ?", &st) !=
            VL_DB_OK) {
            rc = vl_sql_err(db, err, "recording an event");
            goto done;
        }
        vl_sql_bind_text(st, 1, line);
        vl_db_bind_int64(st, 2, seq);
        if (vl_db_step(st) != VL_DB_DONE)
            rc = vl_sql_err(db, err, "recording an event");
    }
done:
    vl_db_finalize(st);
    json_decref(j);
    free(files);
    free(agents);
    return rc;
}

int vl_catalog_event_exists(vl_catalog *cat, const char *id, int *exists,
                            vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = ensure(db, err);
    *exists = 0;
    if (rc != VL_OK)
        return rc;
    if (vl_db_prepare(db, "SELECT 1 FROM events WHERE id = ?", &st) != VL_DB_OK)
        return vl_sql_err(db, err, "looking up an event");
    vl_sql_bind_text(st, 1, id);
    int s = vl_db_step(st);
    if (s == VL_DB_ROW)
        *exists = 1;
    else if (s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "looking up an event");
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_events_clear(vl_catalog *cat, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    int rc = ensure(db, err);
    if (rc == VL_OK && vl_db_exec(db, "DELETE FROM events") != VL_DB_OK)
        rc = vl_sql_err(db, err, "clearing events");
    return rc;
}

int vl_catalog_events_query(vl_catalog *cat, const vl_event_filter *f,
                            vl_event_fn fn, void *arg, vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = ensure(db, err);
    int64_t since_t = 0;
    char since[32] = "";
    if (rc != VL_OK)
        return rc;
    if (f && f->since) {
        if (vl_time_parse(f->since, &since_t) != 0)
            return vl_error_set(err, VL_EINPUT, "\"%s\" is not a date (YYYY-MM-DD "
                                "or RFC 3339)", f->since);
        vl_time_rfc3339(since_t, since);
    }
    if (vl_db_prepare(db, "SELECT seq, id, type, datetime, outcome, detail, outcome_detail,"
            " object_id, version, files, agents FROM events"
            " WHERE (?1 IS NULL OR object_id = ?1) AND (?2 IS NULL OR type = ?2)"
            " AND (?3 IS NULL OR datetime >= ?3) AND (?4 IS NULL OR outcome = ?4)"
            " ORDER BY seq", &st) != VL_DB_OK)
        return vl_sql_err(db, err, "listing events");
    vl_sql_bind_text(st, 1, f ? f->object_id : NULL);
    vl_sql_bind_text(st, 2, f ? f->type : NULL);
    vl_sql_bind_text(st, 3, *since ? since : NULL);
    vl_sql_bind_text(st, 4, f ? f->outcome : NULL);
    int s;
    while ((s = vl_db_step(st)) == VL_DB_ROW) {
        vl_event_row row = {
            (long)vl_db_column_int64(st, 0), vl_sql_col(st, 1), vl_sql_col(st, 2), vl_sql_col(st, 3),
            vl_sql_col(st, 4), vl_sql_col(st, 5), vl_sql_col(st, 6), vl_sql_col(st, 7), vl_db_column_int(st, 8),
            vl_sql_col(st, 9), vl_sql_col(st, 10)};
        if (fn(arg, &row) != 0)
            break;
    }
    if (s != VL_DB_ROW && s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "listing events");
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_events_hashes(vl_catalog *cat, vl_event_hash_fn fn, void *arg,
                             vl_error *err)
{
    vl_db *db = vl_catalog_vdb(cat);
    vl_db_stmt *st = NULL;
    int rc = ensure(db, err);
    if (rc != VL_OK)
        return rc;
    if (vl_db_prepare(db, "SELECT seq, hash FROM events ORDER BY seq", &st) != VL_DB_OK)
        return vl_sql_err(db, err, "reading event hashes");
    int s;
    while ((s = vl_db_step(st)) == VL_DB_ROW)
        if (fn(arg, (long)vl_db_column_int64(st, 0), vl_sql_col(st, 1)) != 0)
            break;
    if (s != VL_DB_ROW && s != VL_DB_DONE)
        rc = vl_sql_err(db, err, "reading event hashes");
    vl_db_finalize(st);
    return rc;
}
