/* The catalog: an SQLite index of objects, versions, content and files.
 * Everything here can be rebuilt from the OCFL store, so the database is
 * tuned for speed (WAL, synchronous=NORMAL) rather than for being the record.
 * Other modules keep their own tables in the same database (vl_catalog_db);
 * this file only ever touches the five tables it creates. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>


#include "catalog_private.h"
#include "catalog_sql.h"
#include "inventory_private.h"
#include "vl_storage.h"

#define CATALOG_SCHEMA_VERSION 2

struct vl_catalog {
    vl_db *db;
    char *path;       /* for messages: the file, or the masked URL */
    char *conninfo;   /* PostgreSQL: the URL connected to (lock.c) */
    unsigned long incremental;   /* syncs that added one version's rows */
};

/* WITHOUT ROWID: rows are stored once, in key order, rather than as a table
 * plus a primary-key index, which halves the pages a big sync writes. */
static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS objects ("
    "  id TEXT PRIMARY KEY,"
    "  path TEXT NOT NULL,"
    "  head INTEGER,"
    "  digest_alg TEXT,"
    "  created TEXT,"
    "  updated TEXT,"
    "  head_files INTEGER,"   /* head-state totals, kept by each sync so */
    "  head_bytes INTEGER);"  /* that ls need not add up every file row */
    "CREATE TABLE IF NOT EXISTS versions ("
    "  object_id TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,"
    "  num INTEGER NOT NULL,"
    "  created TEXT,"
    "  message TEXT,"
    "  user_name TEXT,"
    "  user_address TEXT,"
    "  PRIMARY KEY (object_id, num)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS content ("
    "  object_id TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  content_path TEXT NOT NULL,"
    "  size INTEGER,"   /* NULL when the file was missing from storage */
    "  PRIMARY KEY (object_id, content_path)) WITHOUT ROWID;"
    /* digest -> first content path and size, for files() and objects().
     * Covering (size included): otherwise the planner prefers the primary
     * key and a head-state total turns quadratic. */
    "CREATE INDEX IF NOT EXISTS content_digest"
    "  ON content (object_id, digest, content_path, size);"
    "CREATE TABLE IF NOT EXISTS files ("
    "  object_id TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  logical_path TEXT NOT NULL,"
    "  digest TEXT NOT NULL,"
    "  PRIMARY KEY (object_id, version, logical_path)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fixity ("
    "  object_id TEXT NOT NULL REFERENCES objects(id) ON DELETE CASCADE,"
    "  content_path TEXT NOT NULL,"
    "  algorithm TEXT NOT NULL,"
    "  value TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS fixity_object"
    "  ON fixity (object_id, content_path, algorithm);";

/* PostgreSQL has no json_valid: the report's failure list
 * (catalog_report.c) asks this instead. */
static const char *const pg_functions_sql =
    "CREATE OR REPLACE FUNCTION vellum_json_array(t text) RETURNS boolean"
    " LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN"
    " RETURN jsonb_typeof(t::jsonb) = 'array';"
    " EXCEPTION WHEN others THEN RETURN false; END $$";

/* Head-state totals of objects. */
#define HEAD_TOTALS_SQL                                                      \
    "UPDATE objects SET"                                                     \
    " head_files = (SELECT count(*) FROM files f"                           \
    "   WHERE f.object_id = objects.id AND f.version = objects.head),"      \
    " head_bytes = (SELECT coalesce(sum(" VL_SQL_HEAD_FILE_SIZE "), 0)"    \
    "   FROM files f"                                                        \
    "   WHERE f.object_id = objects.id AND f.version = objects.head)"

/* Schema 1 -> 2: the head totals, filled in once for every object. */
static const char *const migrate_1_2_sql =
    "ALTER TABLE objects ADD COLUMN head_files INTEGER;"
    "ALTER TABLE objects ADD COLUMN head_bytes INTEGER;"
    HEAD_TOTALS_SQL ";";

/* Schema 1 read without upgrading: a TEMP view of the same name, which
 * unqualified queries find first, adds the head totals. */
static const char *const read_1_as_2_sql =
    "CREATE TEMP VIEW objects AS SELECT o.*,"
    " (SELECT count(*) FROM main.files f"
    "   WHERE f.object_id = o.id AND f.version = o.head) AS head_files,"
    " (SELECT coalesce(sum(" VL_SQL_HEAD_FILE_SIZE "), 0) FROM main.files f"
    "   WHERE f.object_id = o.id AND f.version = o.head) AS head_bytes"
    " FROM main.objects o";

/* Tables owned by this file, children first (clear and remove). */
static const char *const own_tables[] = {"fixity", "files", "content",
                                         "versions", "objects"};

static int db_fail(vl_catalog *cat, vl_error *err, const char *what)
{
    if (vl_db_nomem(cat->db))
        return vl_error_oom(err);
    if (vl_sql_no_space(cat->db)) {
        vl_error_set(err, VL_ESYS, "catalog %s: %s: no space left on device",
                     cat->path, what);
        if (err)
            err->sys_errno = ENOSPC;
        return VL_ESYS;
    }
    return vl_error_set(err, VL_ESYS, "catalog %s: %s: %s", cat->path, what,
                        vl_db_errmsg(cat->db));
}

static int exec(vl_catalog *cat, const char *sql, const char *what,
                vl_error *err)
{
    if (vl_db_exec(cat->db, sql) != VL_DB_OK)
        return db_fail(cat, err, what);
    return VL_OK;
}

static int prepare(vl_catalog *cat, const char *sql, vl_db_stmt **st,
                   vl_error *err)
{
    if (vl_db_prepare(cat->db, sql, st) != VL_DB_OK) {
        *st = NULL;
        return db_fail(cat, err, "preparing a query");
    }
    return VL_OK;
}

/* Run a bound statement that returns no rows, then reset it for reuse. */
static int step_done(vl_catalog *cat, vl_db_stmt *st, const char *what,
                     vl_error *err)
{
    int rc = vl_db_step(st);
    vl_db_reset(st);
    if (rc != VL_DB_DONE)
        return db_fail(cat, err, what);
    return VL_OK;
}

static const char *col_text(vl_db_stmt *st, int i)
{
    return vl_db_column_text(st, i);
}

/* ---- write scopes -------------------------------------------------------
 * A write that must be atomic runs in its own transaction, or in a savepoint
 * when the caller already holds one (vl_catalog_begin).  A fresh transaction
 * is BEGIN IMMEDIATE so a concurrent writer makes us wait in the busy handler
 * instead of failing later on a read-to-write upgrade. */
typedef struct scope {
    int outer; /* 1 = we opened the transaction, 0 = savepoint */
    int open;
} scope;

static int scope_begin(vl_catalog *cat, scope *s, int write, vl_error *err)
{
    s->outer = vl_db_autocommit(cat->db);
    s->open = 0;
    /* PostgreSQL takes row locks as it writes: a plain BEGIN. */
    const char *sql = s->outer ? (write && vl_db_kind(cat->db) == VL_DB_SQLITE
                                      ? "BEGIN IMMEDIATE" : "BEGIN")
                               : "SAVEPOINT vl_scope";
    int rc = exec(cat, sql, "starting a transaction", err);
    if (rc == VL_OK)
        s->open = 1;
    return rc;
}

static int scope_end(vl_catalog *cat, scope *s, int ok, vl_error *err)
{
    int rc = VL_OK;
    if (!s->open)
        return VL_OK;
    s->open = 0;
    if (ok) {
        rc = exec(cat, s->outer ? "COMMIT" : "RELEASE vl_scope",
                  "committing", err);
        if (rc == VL_OK)
            return VL_OK;
    }
    /* Undo; errors here add nothing to the one already reported. */
    if (s->outer) {
        if (!vl_db_autocommit(cat->db))
            vl_db_exec(cat->db, "ROLLBACK");
    } else {
        vl_db_exec(cat->db, "ROLLBACK TO vl_scope; RELEASE vl_scope");
    }
    return rc;
}

int vl_catalog_scope_begin(vl_catalog *cat, int *outer, vl_error *err)
{
    scope s;
    int rc = scope_begin(cat, &s, 1, err);
    *outer = s.outer;
    return rc;
}

int vl_catalog_scope_end(vl_catalog *cat, int outer, int ok, vl_error *err)
{
    scope s = {outer, 1};
    return scope_end(cat, &s, ok, err);
}

/* ---- open / close ------------------------------------------------------- */

static int user_version(vl_catalog *cat, int *out, vl_error *err)
{
    if (vl_db_user_version(cat->db, out) != VL_DB_OK)
        return db_fail(cat, err, "reading the schema version");
    return VL_OK;
}

/* Every side table, made as the catalog opens rather than when first used:
 * on PostgreSQL under the schema lock (two processes making the same table
 * at once collide there), on SQLite so that lookups need not ask again. */
static int ensure_side_tables(vl_catalog *cat, vl_error *err)
{
    int rc;
    if ((rc = vl_sql_ensure_audits(cat->db, err)) == VL_OK &&
        (rc = vl_sql_ensure_events(cat->db, err)) == VL_OK &&
        (rc = vl_sql_ensure_formats(cat->db, err)) == VL_OK &&
        (rc = vl_sql_ensure_descriptive(cat->db, err)) == VL_OK)
        rc = vl_sql_ensure_copies(cat->db, err);
    return rc;
}

static int create_schema(vl_catalog *cat, vl_error *err)
{
    scope s;
    int ver = 0;
    /* Two processes may open a new catalog at once: take the write lock
     * before looking, so exactly one creates the schema. */
    int rc = scope_begin(cat, &s, 1, err);
    if (rc != VL_OK)
        return rc;
    if (vl_db_schema_lock(cat->db) != VL_DB_OK) {
        rc = db_fail(cat, err, "locking the schema");
        goto done;
    }
    rc = user_version(cat, &ver, err);
    if (rc != VL_OK)
        goto done;
    if (ver > CATALOG_SCHEMA_VERSION) {
        rc = vl_error_set(err, VL_ESYS,
                          "catalog %s: schema version %d is newer than this "
                          "vellum understands (%d)",
                          cat->path, ver, CATALOG_SCHEMA_VERSION);
        goto done;
    }
    /* PostgreSQL's side tables are made with the schema, not at each open:
     * their DDL (ALTER TABLE above all) would lock tables that other
     * processes are writing. */
    if (ver == CATALOG_SCHEMA_VERSION)
        goto done;
    if (ver == 1)
        rc = exec(cat, migrate_1_2_sql, "upgrading the schema to version 2",
                  err);
    else if (vl_db_exec_ddl(cat->db, schema_sql) != VL_DB_OK)
        rc = db_fail(cat, err, "creating the schema");
    else if (vl_db_kind(cat->db) == VL_DB_PG &&
             vl_db_exec(cat->db, pg_functions_sql) != VL_DB_OK)
        rc = db_fail(cat, err, "creating the schema");
    if (rc == VL_OK &&
        vl_db_set_user_version(cat->db, CATALOG_SCHEMA_VERSION) != VL_DB_OK)
        rc = db_fail(cat, err, "setting the schema version");
    if (rc == VL_OK && vl_db_kind(cat->db) == VL_DB_PG)
        rc = ensure_side_tables(cat, err);
done:
    if (scope_end(cat, &s, rc == VL_OK, err) != VL_OK && rc == VL_OK)
        rc = VL_ESYS;
    /* SQLite's side tables are made after this (vl_catalog_open) */
    if (rc == VL_OK && vl_db_kind(cat->db) == VL_DB_PG)
        vl_db_set_schema_ready(cat->db);
    return rc;
}

int vl_catalog_is_url(const char *path)
{
    return path && (strncmp(path, "postgresql://", 13) == 0 ||
                    strncmp(path, "postgres://", 11) == 0);
}

/* A PostgreSQL catalog: connect (the password, if any, comes from
 * PGPASSWORD or ~/.pgpass through libpq, never from the URL) and make or
 * check the schema. */
static int open_pg(vl_catalog *cat, const char *url, vl_error *err)
{
    int rc = VL_OK;
    /* Messages name the catalog by its URL with any password masked. */
    free(cat->path);
    if (!(cat->path = vl_catalog_url_mask(url)) ||
        !(cat->conninfo = vl_strdup(url)))
        return vl_error_oom(err);
    rc = vl_db_open_pg(url, cat->path, &cat->db, err);
    if (rc == VL_OK)
        rc = create_schema(cat, err);
    return rc;
}

int vl_catalog_open(const char *path, vl_catalog **out, vl_error *err)
{
    int rc = VL_OK;
    vl_catalog *cat = calloc(1, sizeof *cat);
    *out = NULL;
    if (!cat || !(cat->path = vl_strdup(path))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (vl_catalog_is_url(path)) {
        rc = open_pg(cat, path, err);
        goto opened;
    }
    /* The driver waits for other processes' locks (busy timeout). */
    if (vl_db_open_sqlite(path, VL_DB_OPEN_CREATE, &cat->db) != VL_DB_OK) {
        rc = cat->db ? db_fail(cat, err, "cannot open")
                     : vl_error_oom(err);
        goto done;
    }
    rc = exec(cat, "PRAGMA journal_mode=WAL", "setting WAL mode", err);
    if (rc == VL_OK)
        rc = exec(cat, "PRAGMA synchronous=NORMAL", "setting synchronous",
                  err);
    if (rc == VL_OK)
        rc = exec(cat, "PRAGMA foreign_keys=ON", "enabling foreign keys", err);
    /* A large object's sync touches tens of MB of pages: the default 2 MB
     * cache spills to the WAL mid-transaction and reads it back.  Temporary
     * tables and sorts go to a temporary file, not memory: a report's
     * GROUP BY over a million files held 200 MiB in memory, 21 MiB on file
     * (and ran faster). */
    if (rc == VL_OK)
        rc = exec(cat, "PRAGMA cache_size=-8192; PRAGMA temp_store=FILE",
                  "setting the cache size", err);
    if (rc == VL_OK)
        rc = create_schema(cat, err);
    /* The side tables too, once (outside any transaction, so that none is
     * rolled back): otherwise each lookup runs its CREATE TABLE IF NOT
     * EXISTS again, which cost more than the lookup when done per file. */
    if (rc == VL_OK && (rc = ensure_side_tables(cat, err)) == VL_OK)
        vl_db_set_schema_ready(cat->db);
opened:
    if (rc != VL_OK)
        goto done;
    *out = cat;
    cat = NULL;
done:
    vl_catalog_close(cat);
    return rc;
}

/* ---- read-only open ------------------------------------------------------
 * Commands that only read must work on a full or read-only filesystem and
 * write nothing there.  SQLite reads a WAL database through its -shm index,
 * creating it (and an empty -wal) when missing: a reader needs that to read
 * safely beside a live writer, so it is used where it exists or where there
 * is room and write access to make it.  Where there is neither, no writer
 * can be at work, and a database with no WAL to replay (no -wal, or an
 * empty one) is whole in its main file: it is opened immutable, with no
 * locks and no side files. */

#define ROOM_FOR_INDEX (1u << 20)   /* the -shm takes 32 KiB; keep a margin */

static int room_for_index(const char *path)
{
    char *dir = vl_path_dirname(path);
    struct statvfs sv;
    int ok = dir && statvfs(dir, &sv) == 0 && !(sv.f_flag & ST_RDONLY) &&
             (uint64_t)sv.f_bavail * sv.f_frsize >= ROOM_FOR_INDEX &&
             access(dir, W_OK) == 0;
    free(dir);
    return ok;
}

/* "file:" URI of path with query; bytes other than unreserved ones and '/'
 * are %-escaped, so '?', '#' and '%' in a folder name stay part of it. */
static char *file_uri(const char *path, const char *query)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *uri = malloc(5 + 3 * n + 1 + strlen(query) + 1), *o = uri;
    if (!uri)
        return NULL;
    o += sprintf(o, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr("/-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    sprintf(o, "?%s", query);
    return uri;
}

/* Open cat->path read-only with the given URI query and read the schema
 * version (the first read, where SQLite opens the WAL if any). */
static int open_uri(vl_catalog *cat, const char *query, int *ver,
                    vl_error *err)
{
    char *uri = file_uri(cat->path, query);
    int rc = VL_OK;
    if (!uri)
        return vl_error_oom(err);
    if (vl_db_open_sqlite(uri, VL_DB_OPEN_RO_URI, &cat->db) != VL_DB_OK) {
        rc = cat->db ? db_fail(cat, err, "cannot open")
                     : vl_error_oom(err);
    } else {
        rc = exec(cat, "PRAGMA cache_size=-8192; PRAGMA temp_store=FILE",
                  "setting the cache size", err);
        if (rc == VL_OK)
            rc = user_version(cat, ver, err);
    }
    free(uri);
    if (rc != VL_OK && cat->db) {
        vl_db_close(cat->db);
        cat->db = NULL;
    }
    return rc;
}

/* No catalog yet (or one never given a schema): an empty one in memory, as
 * a reindex of an empty store would make. */
static int open_empty(vl_catalog *cat, vl_error *err)
{
    if (vl_db_open_sqlite(":memory:", VL_DB_OPEN_CREATE, &cat->db) !=
        VL_DB_OK)
        return cat->db ? db_fail(cat, err, "cannot open")
                       : vl_error_oom(err);
    return create_schema(cat, err);
}

/* An existing catalog file, read-only (see above). */
static int open_file(vl_catalog *cat, vl_error *err)
{
    int rc = VL_ESYS, ver = 0;
    char *wal = vl_asprintf("%s-wal", cat->path);
    struct stat ws;
    if (!wal)
        return vl_error_oom(err);
    int have_wal = stat(wal, &ws) == 0;
    if (have_wal || room_for_index(cat->path))
        rc = open_uri(cat, "mode=ro", &ver, err);
    if (rc != VL_OK && (!have_wal || ws.st_size == 0))
        rc = open_uri(cat, "immutable=1", &ver, err);
    else if (rc != VL_OK)
        rc = vl_error_set(err, rc, "%s (its write-ahead log %s holds changes "
                          "that cannot be read without writing the index "
                          "beside it; make room, or run a command that "
                          "writes)", err->msg, wal);
    if (rc != VL_OK)
        goto done;
    if (ver == 0) {
        /* A file with no schema (an empty file, say) holds nothing. */
        vl_db_close(cat->db);
        cat->db = NULL;
        rc = open_empty(cat, err);
    } else if (ver == 1) {
        /* Upgrading is a write, left to the next command that writes; the
         * head totals are worked out as they are read. */
        rc = exec(cat, read_1_as_2_sql, "reading a version 1 schema", err);
    } else if (ver > CATALOG_SCHEMA_VERSION) {
        rc = vl_error_set(err, VL_ESYS, "catalog %s: schema version %d is newer "
                          "than this vellum understands (%d)", cat->path, ver,
                          CATALOG_SCHEMA_VERSION);
    }
done:
    free(wal);
    return rc;
}

int vl_catalog_open_readonly(const char *path, vl_catalog **out, vl_error *err)
{
    int rc = VL_OK;
    vl_catalog *cat = calloc(1, sizeof *cat);
    struct stat st;
    *out = NULL;
    if (!cat || !(cat->path = vl_strdup(path)))
        rc = vl_error_oom(err);
    else if (vl_catalog_is_url(path))
        rc = open_pg(cat, path, err); /* the server keeps readers safe */
    else if (stat(path, &st) == 0)
        rc = open_file(cat, err);
    else if (errno == ENOENT)
        rc = open_empty(cat, err);
    else
        rc = vl_error_sys(err, "cannot read catalog %s", path);
    /* Side tables (or their stand-ins) exist before any query runs. */
    if (rc == VL_OK && (rc = vl_sql_ensure_audits(cat->db, err)) == VL_OK &&
        (rc = vl_sql_ensure_events(cat->db, err)) == VL_OK &&
        (rc = vl_sql_ensure_formats(cat->db, err)) == VL_OK &&
        (rc = vl_sql_ensure_descriptive(cat->db, err)) == VL_OK)
        rc = vl_sql_ensure_copies(cat->db, err);
    if (rc == VL_OK) {
        vl_db_set_schema_ready(cat->db);
        *out = cat;
        cat = NULL;
    }
    vl_catalog_close(cat);
    return rc;
}

int vl_sql_ensure(vl_db *db, const char *table, const char *schema,
                  vl_error *err)
{
    static const char create[] = "CREATE TABLE IF NOT EXISTS ";
    vl_db_stmt *st = NULL;
    char *sql = NULL;
    char what[96];
    int rc = VL_OK, step;
    snprintf(what, sizeof what, "creating the %s table", table);
    /* PostgreSQL: made under the schema lock as the catalog opened. */
    if (vl_db_schema_ready(db))
        goto done;
    if (!vl_db_readonly(db)) {
        if (vl_db_exec_ddl(db, schema) != VL_DB_OK)
            rc = vl_sql_err(db, err, what);
        goto done;
    }
    if (vl_db_prepare(db, "SELECT 1 FROM main.sqlite_master WHERE type = "
                           "'table' AND name = ?1 UNION ALL SELECT 1 FROM "
                           "temp.sqlite_master WHERE type = 'table' AND "
                           "name = ?1", &st) != VL_DB_OK) {
        rc = vl_sql_err(db, err, "looking for a table");
        goto done;
    }
    vl_sql_bind_text(st, 1, table);
    if ((step = vl_db_step(st)) == VL_DB_ROW)
        goto done;
    if (step != VL_DB_DONE) {
        rc = vl_sql_err(db, err, "looking for a table");
        goto done;
    }
    /* Its CREATE TABLE statement alone (indexes are no use on no rows),
     * made TEMP. */
    const char *from = strstr(schema, create);
    const char *end = from ? strchr(from, ';') : NULL;
    size_t len = !from ? 0 : end ? (size_t)(end - from) : strlen(from);
    if (!from)
        rc = vl_error_set(err, VL_ESYS, "internal: no CREATE TABLE for %s", table);
    else if (!(sql = vl_asprintf("CREATE TEMP TABLE IF NOT EXISTS %.*s",
                                 (int)(len - strlen(create)),
                                 from + strlen(create))))
        rc = vl_error_oom(err);
    else if (vl_db_exec(db, sql) != VL_DB_OK)
        rc = vl_sql_err(db, err, what);
done:
    vl_db_finalize(st);
    free(sql);
    return rc;
}

void vl_catalog_close(vl_catalog *cat)
{
    if (!cat)
        return;
    vl_db_close(cat->db);
    free(cat->path);
    free(cat->conninfo);
    free(cat);
}

void *vl_catalog_db(vl_catalog *cat) { return vl_db_native(cat->db); }

vl_db *vl_catalog_vdb(vl_catalog *cat) { return cat->db; }

const char *vl_catalog_name(vl_catalog *cat) { return cat->path; }

int vl_catalog_check_unused(vl_catalog *cat, vl_error *err)
{
    vl_db_stmt *st = NULL;
    int rc = prepare(cat, "SELECT (SELECT count(*) FROM objects)"
                          " + (SELECT count(*) FROM events)", &st, err);
    if (rc != VL_OK)
        return rc;
    if (vl_db_step(st) != VL_DB_ROW)
        rc = db_fail(cat, err, "looking for another repository's rows");
    else if (vl_db_column_int64(st, 0) > 0)
        rc = vl_error_set(err, VL_EINPUT, "catalog %s already holds another "
                          "repository's catalog; give each repository a "
                          "database of its own", cat->path);
    vl_db_finalize(st);
    return rc;
}

const char *vl_catalog_conninfo(vl_catalog *cat)
{
    return cat ? cat->conninfo : NULL;
}

int vl_catalog_begin(vl_catalog *cat, vl_error *err)
{
    if (!vl_db_autocommit(cat->db))
        return vl_error_set(err, VL_ESYS,
                            "catalog %s: a transaction is already open",
                            cat->path);
    return exec(cat, vl_db_kind(cat->db) == VL_DB_SQLITE ? "BEGIN IMMEDIATE"
                                                         : "BEGIN",
                "starting a transaction", err);
}

int vl_catalog_commit(vl_catalog *cat, vl_error *err)
{
    /* PostgreSQL only warns of a COMMIT with no transaction; SQLite fails. */
    if (vl_db_kind(cat->db) == VL_DB_PG && vl_db_autocommit(cat->db))
        return vl_error_set(err, VL_ESYS, "catalog %s: committing: no "
                            "transaction is active", cat->path);
    int rc = exec(cat, "COMMIT", "committing", err);
    if (rc != VL_OK)
        vl_catalog_rollback(cat);
    return rc;
}

void vl_catalog_rollback(vl_catalog *cat)
{
    if (!vl_db_autocommit(cat->db))
        vl_db_exec(cat->db, "ROLLBACK");
}

/* ---- sync ---------------------------------------------------------------- */

typedef struct sync_ctx {
    vl_catalog *cat;
    vl_backend *b;
    const char *object_rel;
    const char *id;
    vl_db_stmt *ins;
    vl_db_stmt *known_size;   /* size already recorded for a content path */
    const char *prefix;       /* incremental: only content paths under it */
    size_t prefix_len;
    int64_t outside;          /* counting: entries not under prefix */
    int num;
    int rc;
    vl_error *err;
} sync_ctx;

/* 1 when a content path is left out of this sync (incremental: it belongs
 * to an older version, whose rows the catalog already holds). */
static int skipped(const sync_ctx *c, const char *path)
{
    return c->prefix && strncmp(path, c->prefix, c->prefix_len) != 0;
}

/* Content size from storage; *known = 0 when the file is absent. */
static int content_size(vl_backend *b, const char *object_rel,
                        const char *content_path, int *known, uint64_t *size,
                        vl_error *err)
{
    int kind = 0;
    char *rel = vl_path_join(object_rel, content_path);
    if (!rel)
        return vl_error_oom(err);
    *size = 0;
    int rc = vl_backend_stat(b, rel, &kind, size, err);
    free(rel);
    *known = rc == VL_OK && kind == VL_WALK_FILE;
    return rc;
}

static int sync_content(void *arg, const char *digest, const char *path)
{
    sync_ctx *c = arg;
    uint64_t size = 0;
    int known = 0;
    if (skipped(c, path))
        return 0;
    /* Content is immutable once stored: a size the catalog already holds
     * need not be read from storage again (a new version of a big object
     * would otherwise stat every file it ever had). */
    if (c->known_size) {
        vl_sql_bind_text(c->known_size, 1, c->id);
        vl_sql_bind_text(c->known_size, 2, path);
        if (vl_db_step(c->known_size) == VL_DB_ROW &&
            !vl_db_column_is_null(c->known_size, 0)) {
            size = (uint64_t)vl_db_column_int64(c->known_size, 0);
            known = 1;
        }
        vl_db_reset(c->known_size);
    }
    if (!known)
        c->rc = content_size(c->b, c->object_rel, path, &known, &size, c->err);
    if (c->rc != VL_OK)
        return 1;
    vl_sql_bind_text(c->ins, 1, c->id);
    vl_sql_bind_text(c->ins, 2, digest);
    vl_sql_bind_text(c->ins, 3, path);
    vl_sql_bind_size(c->ins, 4, size, known);
    c->rc = step_done(c->cat, c->ins, "inserting content", c->err);
    return c->rc != VL_OK;
}

static int sync_file(void *arg, const char *logical, const char *digest)
{
    sync_ctx *c = arg;
    vl_sql_bind_text(c->ins, 1, c->id);
    vl_db_bind_int(c->ins, 2, c->num);
    vl_sql_bind_text(c->ins, 3, logical);
    vl_sql_bind_text(c->ins, 4, digest);
    c->rc = step_done(c->cat, c->ins, "inserting a file", c->err);
    return c->rc != VL_OK;
}

static int sync_fixity(void *arg, const char *alg, const char *digest,
                       const char *path)
{
    sync_ctx *c = arg;
    if (skipped(c, path))
        return 0;
    vl_sql_bind_text(c->ins, 1, c->id);
    vl_sql_bind_text(c->ins, 2, path);
    vl_sql_bind_text(c->ins, 3, alg);
    vl_sql_bind_text(c->ins, 4, digest);
    c->rc = step_done(c->cat, c->ins, "inserting fixity", c->err);
    return c->rc != VL_OK;
}

static int count_content(void *arg, const char *digest, const char *path)
{
    sync_ctx *c = arg;
    (void)digest;
    c->outside += skipped(c, path);
    return 0;
}

static int count_fixity(void *arg, const char *alg, const char *digest,
                        const char *path)
{
    (void)alg;
    return count_content(arg, digest, path);
}

/* Delete this object's rows from our child tables.  The objects row itself
 * is kept by sync (upserted) so rows of other modules' tables that reference
 * it survive a re-sync. */
static int delete_children(vl_catalog *cat, const char *id, vl_error *err)
{
    int rc = VL_OK;
    for (size_t i = 0; i + 1 < sizeof own_tables / sizeof *own_tables; i++) {
        char sql[96];
        vl_db_stmt *st = NULL;
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE object_id = ?",
                 own_tables[i]);
        rc = prepare(cat, sql, &st, err);
        if (rc != VL_OK)
            break;
        vl_sql_bind_text(st, 1, id);
        rc = step_done(cat, st, "deleting old rows", err);
        vl_db_finalize(st);
        if (rc != VL_OK)
            break;
    }
    return rc;
}

/* A foreach over the inventory stopped without its callback failing: its
 * index could not be read. */
static int index_error(vl_catalog *cat, const vl_inventory *inv, vl_error *err)
{
    return vl_error_set(err, VL_ESYS, "catalog %s: cannot read the inventory index "
                        "of %s: out of memory or temporary space", cat->path,
                        vl_inventory_id(inv));
}

static int same_text(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* What the catalog holds of an object, to tell whether it is exactly the
 * inventory's version head-1 (then a new version only adds rows). */
#define PREVIOUS_SQL                                                         \
    "SELECT o.head, o.path, o.digest_alg, o.created, o.updated,"            \
    " v.created, v.message, v.user_name, v.user_address,"                   \
    " (SELECT count(*) FROM versions x WHERE x.object_id = o.id),"          \
    " (SELECT count(*) FROM files f WHERE f.object_id = o.id"               \
    "   AND f.version = ?2),"                                               \
    " (SELECT count(*) FROM files f WHERE f.object_id = o.id"               \
    "   AND (f.version > ?2 OR f.version < 1)),"                            \
    " (SELECT count(*) FROM content c WHERE c.object_id = o.id),"           \
    " (SELECT count(*) FROM content c WHERE c.object_id = o.id"             \
    "   AND c.content_path >= ?3 AND c.content_path < ?4),"                 \
    " (SELECT count(*) FROM fixity x WHERE x.object_id = o.id)"             \
    " FROM objects o LEFT JOIN versions v"                                  \
    "   ON v.object_id = o.id AND v.num = ?2"                               \
    " WHERE o.id = ?1"

/* *yes = 1 when the catalog's rows of the object are those of the
 * inventory's versions 1..head-1: objects row, version head-1, row counts
 * of every table (content and fixity outside the new version's folder).
 * Stored content never changes, but fixity may be added to old content
 * and an object may be rebuilt under the same id: any difference means a
 * full sync. */
static int at_previous(sync_ctx *c, const vl_inventory *inv, int head,
                       const char *vdir, const vl_version_info *first,
                       int *yes, vl_error *err)
{
    vl_db_stmt *st = NULL;
    vl_version_info prev;
    char lo[24], hi[24];
    int64_t content_old, fixity_old;
    int rc;

    *yes = 0;
    if (head < 2 || vl_inventory_version_info(inv, head - 1, &prev) != 0)
        return VL_OK;
    c->outside = 0;
    if (vl_inventory_manifest_foreach(inv, count_content, c) != 0)
        return index_error(c->cat, inv, err);
    content_old = c->outside;
    c->outside = 0;
    if (vl_inventory_fixity_foreach(inv, count_fixity, c) != 0)
        return index_error(c->cat, inv, err);
    fixity_old = c->outside;
    /* Every row under "vN/" ('0' follows '/'): none may exist yet. */
    snprintf(lo, sizeof lo, "%s/", vdir);
    snprintf(hi, sizeof hi, "%s0", vdir);
    rc = prepare(c->cat, PREVIOUS_SQL, &st, err);
    if (rc != VL_OK)
        return rc;
    vl_sql_bind_text(st, 1, c->id);
    vl_db_bind_int(st, 2, head - 1);
    vl_sql_bind_text(st, 3, lo);
    vl_sql_bind_text(st, 4, hi);
    int step = vl_db_step(st);
    if (step == VL_DB_ROW) {
        *yes = vl_db_column_int(st, 0) == head - 1 &&
               same_text(col_text(st, 1), c->object_rel) &&
               same_text(col_text(st, 2),
                         vl_digest_name(vl_inventory_digest_alg(inv))) &&
               same_text(col_text(st, 3), first->created) &&
               same_text(col_text(st, 4), prev.created) &&
               same_text(col_text(st, 5), prev.created) &&
               same_text(col_text(st, 6), prev.message) &&
               same_text(col_text(st, 7), prev.user_name) &&
               same_text(col_text(st, 8), prev.user_address) &&
               vl_db_column_int64(st, 9) == head - 1 &&
               vl_db_column_int64(st, 10) == (int64_t)prev.file_count &&
               vl_db_column_int64(st, 11) == 0 &&
               vl_db_column_int64(st, 12) == content_old &&
               vl_db_column_int64(st, 13) == 0 &&
               vl_db_column_int64(st, 14) == fixity_old;
    } else if (step != VL_DB_DONE) {
        rc = db_fail(c->cat, err, "reading the object's rows");
    }
    vl_db_finalize(st);
    return rc;
}

static int sync_impl(vl_catalog *cat, vl_backend *b, const char *object_rel,
                     const vl_inventory *inv, int reuse_sizes, vl_error *err);

int vl_catalog_sync_object(vl_catalog *cat, vl_backend *b,
                           const char *object_rel, const vl_inventory *inv,
                           vl_error *err)
{
    return sync_impl(cat, b, object_rel, inv, 0, err);
}

int vl_catalog_sync_new_version(vl_catalog *cat, vl_backend *b,
                                const char *object_rel, const vl_inventory *inv,
                                vl_error *err)
{
    return sync_impl(cat, b, object_rel, inv, 1, err);
}

unsigned long vl_catalog_incremental_syncs(const vl_catalog *cat)
{
    return cat->incremental;
}

/* Keep the sizes already known before the rows go (see sync_content). */
static int keep_sizes(sync_ctx *c, vl_error *err)
{
    vl_catalog *cat = c->cat;
    vl_db_stmt *st = NULL;
    int rc = VL_OK;
    if (vl_db_exec_ddl(cat->db, "CREATE TEMP TABLE IF NOT EXISTS sync_sizes ("
                       " content_path TEXT PRIMARY KEY, size INTEGER);"
                       "DELETE FROM temp.sync_sizes") != VL_DB_OK)
        rc = db_fail(cat, err, "preparing a sync");
    if (rc == VL_OK)
        rc = prepare(cat, "INSERT INTO temp.sync_sizes SELECT content_path, size"
                          " FROM content WHERE object_id = ?"
                          " ON CONFLICT (content_path) DO UPDATE"
                          " SET size = excluded.size", &st, err);
    if (rc == VL_OK) {
        vl_sql_bind_text(st, 1, c->id);
        rc = step_done(cat, st, "reading known sizes", err);
        vl_db_finalize(st);
    }
    if (rc == VL_OK)
        rc = prepare(cat, "SELECT size FROM temp.sync_sizes WHERE ?1 IS NOT NULL"
                          " AND content_path = ?2", &c->known_size, err);
    return rc;
}

/* Sync every row of the object (from = 1, after deleting its old rows), or
 * only those of version from = head when the catalog holds the rest. */
static int sync_rows(sync_ctx *c, const vl_inventory *inv, int from,
                     const vl_version_info *first, const vl_version_info *last,
                     vl_error *err)
{
    vl_catalog *cat = c->cat;
    vl_db_stmt *st = NULL;
    int head = vl_inventory_head(inv);
    int rc = prepare(cat,
                 "INSERT INTO objects (id, path, head, digest_alg, created, "
                 "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                 "ON CONFLICT (id) DO UPDATE SET path = ?2, head = ?3, "
                 "digest_alg = ?4, created = ?5, updated = ?6",
                 &st, err);
    if (rc != VL_OK)
        goto done;
    vl_sql_bind_text(st, 1, c->id);
    vl_sql_bind_text(st, 2, c->object_rel);
    vl_db_bind_int(st, 3, head);
    vl_sql_bind_text(st, 4, vl_digest_name(vl_inventory_digest_alg(inv)));
    vl_sql_bind_text(st, 5, first->created);
    vl_sql_bind_text(st, 6, last->created);
    rc = step_done(cat, st, "writing the object row", err);
    vl_db_finalize(st);
    st = NULL;
    if (rc != VL_OK)
        goto done;

    rc = prepare(cat,
                 "INSERT INTO versions (object_id, num, created, message, "
                 "user_name, user_address) VALUES (?, ?, ?, ?, ?, ?)",
                 &st, err);
    for (int n = from; rc == VL_OK && n <= head; n++) {
        vl_version_info vi;
        if (vl_inventory_version_info(inv, n, &vi) != 0) {
            rc = vl_error_set(err, VL_EINPUT,
                              "catalog %s: inventory of %s lacks version %d",
                              cat->path, c->id, n);
            break;
        }
        vl_sql_bind_text(st, 1, c->id);
        vl_db_bind_int(st, 2, n);
        vl_sql_bind_text(st, 3, vi.created);
        vl_sql_bind_text(st, 4, vi.message);
        vl_sql_bind_text(st, 5, vi.user_name);
        vl_sql_bind_text(st, 6, vi.user_address);
        rc = step_done(cat, st, "inserting a version", err);
    }
    vl_db_finalize(st);
    st = NULL;
    if (rc != VL_OK)
        goto done;

    rc = prepare(cat,
                 "INSERT INTO content (object_id, digest, content_path, size) "
                 "VALUES (?, ?, ?, ?)",
                 &c->ins, err);
    if (rc == VL_OK && vl_inventory_manifest_foreach(inv, sync_content, c))
        rc = c->rc ? c->rc : index_error(cat, inv, err);
    vl_db_finalize(c->ins);
    c->ins = NULL;
    if (rc != VL_OK)
        goto done;

    rc = prepare(cat,
                 "INSERT INTO files (object_id, version, logical_path, digest) "
                 "VALUES (?, ?, ?, ?)",
                 &c->ins, err);
    for (c->num = from; rc == VL_OK && c->num <= head; c->num++)
        if (vl_inventory_state_foreach(inv, c->num, sync_file, c))
            rc = c->rc                      ? c->rc
                 : vl_inventory_failed(inv) ? index_error(cat, inv, err)
                       : vl_error_set(err, VL_EINPUT,
                                      "catalog %s: inventory of %s lacks "
                                      "version %d", cat->path, c->id, c->num);
    vl_db_finalize(c->ins);
    c->ins = NULL;
    if (rc != VL_OK)
        goto done;

    rc = prepare(cat,
                 "INSERT INTO fixity (object_id, content_path, algorithm, "
                 "value) VALUES (?, ?, ?, ?)",
                 &c->ins, err);
    if (rc == VL_OK && vl_inventory_fixity_foreach(inv, sync_fixity, c))
        rc = c->rc ? c->rc : index_error(cat, inv, err);
    vl_db_finalize(c->ins);
    c->ins = NULL;
    if (rc != VL_OK)
        goto done;
    rc = prepare(cat, HEAD_TOTALS_SQL " WHERE id = ?1", &st, err);
    if (rc == VL_OK) {
        vl_sql_bind_text(st, 1, c->id);
        rc = step_done(cat, st, "adding up the head state", err);
    }
done:
    vl_db_finalize(st);
    return rc;
}

static int sync_impl(vl_catalog *cat, vl_backend *b, const char *object_rel,
                     const vl_inventory *inv, int reuse_sizes, vl_error *err)
{
    scope s = {0, 0};
    sync_ctx c = {.cat = cat, .b = b, .object_rel = object_rel,
                  .id = vl_inventory_id(inv), .err = err};
    int head = vl_inventory_head(inv);
    vl_version_info first = {0}, last = {0};
    char vdir[16], *prefix = NULL;
    int rc = VL_OK, incremental = 0;

    if (!c.id) {
        rc = vl_error_set(err, VL_EINPUT, "catalog %s: inventory of %s has no id",
                          cat->path, object_rel);
        goto done;
    }
    if (head > 0 && (vl_inventory_version_info(inv, 1, &first) != 0 ||
                     vl_inventory_version_info(inv, head, &last) != 0)) {
        rc = vl_error_set(err, VL_EINPUT,
                          "catalog %s: inventory of %s lacks a version",
                          cat->path, c.id);
        goto done;
    }
    rc = scope_begin(cat, &s, 1, err);
    if (rc != VL_OK)
        goto done;
    /* After a commit the catalog usually holds the versions before it:
     * then only the new version's rows are added, not every version's
     * rows deleted and written again (which grows with each version). */
    if (reuse_sizes && head > 1) {
        vl_inventory_version_name(inv, head, vdir);
        prefix = vl_asprintf("%s/%s/", vdir, vl_inventory_content_dir(inv));
        if (!prefix) {
            rc = vl_error_oom(err);
            goto done;
        }
        c.prefix = prefix;
        c.prefix_len = strlen(prefix);
        rc = at_previous(&c, inv, head, vdir, &first, &incremental, err);
        if (rc != VL_OK)
            goto done;
        if (!incremental)
            c.prefix = NULL;
    }
    if (!incremental) {
        if (reuse_sizes && (rc = keep_sizes(&c, err)) != VL_OK)
            goto done;
        if ((rc = delete_children(cat, c.id, err)) != VL_OK)
            goto done;
    }
    rc = sync_rows(&c, inv, incremental ? head : 1, &first, &last, err);
done:
    vl_db_finalize(c.known_size);
    if (scope_end(cat, &s, rc == VL_OK, err) != VL_OK && rc == VL_OK)
        rc = VL_ESYS;
    if (rc == VL_OK && incremental)
        cat->incremental++;
    if (rc != VL_OK && c.id && err && !strstr(err->msg, c.id))
        vl_error_set(err, rc, "%s (syncing object %s)", err->msg, c.id);
    free(prefix);
    return rc;
}

int vl_catalog_remove_object(vl_catalog *cat, const char *id, vl_error *err)
{
    scope s;
    vl_db_stmt *st = NULL;
    int rc = scope_begin(cat, &s, 1, err);
    if (rc != VL_OK)
        return rc;
    /* Explicit deletes: correct even if foreign_keys was switched off. */
    rc = delete_children(cat, id, err);
    if (rc == VL_OK)
        rc = prepare(cat, "DELETE FROM objects WHERE id = ?", &st, err);
    if (rc == VL_OK) {
        vl_sql_bind_text(st, 1, id);
        rc = step_done(cat, st, "deleting an object", err);
    }
    vl_db_finalize(st);
    if (scope_end(cat, &s, rc == VL_OK, err) != VL_OK && rc == VL_OK)
        rc = VL_ESYS;
    return rc;
}

int vl_catalog_clear(vl_catalog *cat, vl_error *err)
{
    scope s;
    int rc = scope_begin(cat, &s, 1, err);
    if (rc != VL_OK)
        return rc;
    for (size_t i = 0; rc == VL_OK && i < sizeof own_tables / sizeof *own_tables;
         i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "DELETE FROM %s", own_tables[i]);
        rc = exec(cat, sql, "clearing the catalog", err);
    }
    if (scope_end(cat, &s, rc == VL_OK, err) != VL_OK && rc == VL_OK)
        rc = VL_ESYS;
    return rc;
}

/* ---- queries ------------------------------------------------------------- */

#define OBJECT_SELECT                                                        \
    "SELECT o.id, o.path, o.head, o.created, o.updated,"                    \
    " coalesce(o.head_files, 0), coalesce(o.head_bytes, 0), "                \
    VL_SQL_META_FILES ", " VL_SQL_META_BYTES " FROM objects o "

void vl_catalog_object_counts(vl_catalog_object *o, uint64_t all_files,
                              uint64_t all_bytes, uint64_t meta_files,
                              uint64_t meta_bytes)
{
    o->metadata_files = meta_files <= all_files ? meta_files : all_files;
    o->metadata_bytes = meta_bytes <= all_bytes ? meta_bytes : all_bytes;
    o->files = all_files - o->metadata_files;
    o->bytes = all_bytes - o->metadata_bytes;
}

static int object_rows(vl_catalog *cat, vl_db_stmt *st, int *seen,
                       vl_catalog_object_fn fn, void *arg, vl_error *err)
{
    int step, rc = VL_OK;
    while ((step = vl_db_step(st)) == VL_DB_ROW) {
        vl_catalog_object o = {
            .id = col_text(st, 0),
            .path = col_text(st, 1),
            .head = vl_db_column_int(st, 2),
            .created = col_text(st, 3),
            .updated = col_text(st, 4),
        };
        vl_catalog_object_counts(&o, (uint64_t)vl_db_column_int64(st, 5),
                                 (uint64_t)vl_db_column_int64(st, 6),
                                 (uint64_t)vl_db_column_int64(st, 7),
                                 (uint64_t)vl_db_column_int64(st, 8));
        (*seen)++;
        rc = fn(arg, &o);
        if (rc != 0)
            return rc;
    }
    if (step != VL_DB_DONE)
        rc = db_fail(cat, err, "listing objects");
    return rc;
}

int vl_catalog_objects(vl_catalog *cat, vl_catalog_object_fn fn, void *arg,
                       vl_error *err)
{
    vl_db_stmt *st = NULL;
    int seen = 0;
    int rc = prepare(cat, OBJECT_SELECT "ORDER BY o.id", &st, err);
    if (rc == VL_OK)
        rc = object_rows(cat, st, &seen, fn, arg, err);
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_get_object(vl_catalog *cat, const char *id,
                          vl_catalog_object_fn fn, void *arg, vl_error *err)
{
    vl_db_stmt *st = NULL;
    int seen = 0;
    int rc = prepare(cat, OBJECT_SELECT "WHERE o.id = ?", &st, err);
    if (rc != VL_OK)
        goto done;
    vl_sql_bind_text(st, 1, id);
    rc = object_rows(cat, st, &seen, fn, arg, err);
    if (rc == VL_OK && !seen)
        rc = vl_error_set(err, VL_EINPUT, "no object with id \"%s\"", id);
done:
    vl_db_finalize(st);
    return rc;
}

int vl_catalog_files(vl_catalog *cat, const char *id, int version,
                     vl_catalog_file_fn fn, void *arg, vl_error *err)
{
    vl_db_stmt *st = NULL;
    int rc, step, head = 0;

    rc = prepare(cat, "SELECT head FROM objects WHERE id = ?", &st, err);
    if (rc != VL_OK)
        goto done;
    vl_sql_bind_text(st, 1, id);
    step = vl_db_step(st);
    if (step == VL_DB_ROW) {
        head = vl_db_column_int(st, 0);
    } else if (step == VL_DB_DONE) {
        rc = vl_error_set(err, VL_EINPUT, "no object with id \"%s\"", id);
        goto done;
    } else {
        rc = db_fail(cat, err, "looking up an object");
        goto done;
    }
    if (version == 0)
        version = head;
    if (version < 1 || version > head) {
        rc = vl_error_set(err, VL_EINPUT, "object \"%s\" has no version %d",
                          id, version);
        goto done;
    }
    vl_db_finalize(st);
    /* Content = the first content path (byte order) holding the digest. */
    rc = prepare(cat,
                 "SELECT f.logical_path, c.content_path, f.digest, c.size"
                 VL_SQL_FILES_CONTENT
                 " WHERE f.object_id = ? AND f.version = ?"
                 " ORDER BY f.logical_path",
                 &st, err);
    if (rc != VL_OK)
        goto done;
    vl_sql_bind_text(st, 1, id);
    vl_db_bind_int(st, 2, version);
    while ((step = vl_db_step(st)) == VL_DB_ROW) {
        vl_catalog_file f = {
            .logical = col_text(st, 0),
            .content = col_text(st, 1),
            .digest = col_text(st, 2),
            .size = (uint64_t)vl_db_column_int64(st, 3),
        };
        rc = fn(arg, &f);
        if (rc != 0)
            goto done;
    }
    if (step != VL_DB_DONE)
        rc = db_fail(cat, err, "listing files");
done:
    vl_db_finalize(st);
    return rc;
}

/* ---- check ----------------------------------------------------------------
 * The inventory is loaded into TEMP tables so each comparison is one SQL
 * query in each direction, whatever the object's size.  TEMP tables live in
 * this connection only and never take the main database's write lock. */

static const char *const check_schema_sql =
    "CREATE TEMP TABLE IF NOT EXISTS chk_versions ("
    "  num INTEGER PRIMARY KEY, created TEXT, message TEXT, user_name TEXT,"
    "  user_address TEXT);"
    "CREATE TEMP TABLE IF NOT EXISTS chk_content ("
    "  content_path TEXT PRIMARY KEY, digest TEXT, size INTEGER,"
    "  present INTEGER);"
    "CREATE TEMP TABLE IF NOT EXISTS chk_files ("
    "  version INTEGER, logical_path TEXT, digest TEXT,"
    "  PRIMARY KEY (version, logical_path));"
    "CREATE TEMP TABLE IF NOT EXISTS chk_fixity ("
    "  content_path TEXT, algorithm TEXT, value TEXT);"
    "CREATE INDEX IF NOT EXISTS temp.chk_fixity_path"
    "  ON chk_fixity (content_path, algorithm, value);";

static const char *const check_clear_sql =
    "DELETE FROM temp.chk_versions; DELETE FROM temp.chk_content;"
    "DELETE FROM temp.chk_files; DELETE FROM temp.chk_fixity;";

typedef struct check_ctx {
    vl_catalog *cat;
    const vl_inventory *inv;
    vl_message_fn fn;            /* one of these two */
    vl_catalog_problem_fn pfn;
    void *arg;
    size_t findings;
    int oom;
} check_ctx;

static void vreport(check_ctx *k, const char *content_path, const char *fmt,
                    va_list ap) __attribute__((format(printf, 3, 0)));
static void vreport(check_ctx *k, const char *content_path, const char *fmt,
                    va_list ap)
{
    char *line = NULL;
    int n = vasprintf(&line, fmt, ap);
    k->findings++;
    if (n < 0) {
        k->oom = 1;
        return;
    }
    if (k->pfn) {
        vl_catalog_problem p = {content_path, line};
        k->pfn(k->arg, &p);
    } else if (k->fn) {
        k->fn(k->arg, line);
    }
    free(line);
}

static void report(check_ctx *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report(check_ctx *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(k, NULL, fmt, ap);
    va_end(ap);
}

/* A disagreement about one content file (its path as stored, unescaped). */
static void report_content(check_ctx *k, const char *content_path,
                           const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_content(check_ctx *k, const char *content_path,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(k, content_path, fmt, ap);
    va_end(ap);
}

/* Escaped copy of a row string for a message line; "(none)" for NULL. */
static char *esc(const char *s, check_ctx *k)
{
    char *e = vl_name_escape(s ? s : "(none)");
    if (!e)
        k->oom = 1;
    return e;
}

static const char *vname(check_ctx *k, int num, char out[16])
{
    vl_inventory_version_name(k->inv, num, out);
    return out;
}

/* Load callbacks: insert one row into a temp table. */
static int load_content(void *arg, const char *digest, const char *path)
{
    sync_ctx *c = arg;
    uint64_t size;
    int known;
    c->rc = content_size(c->b, c->object_rel, path, &known, &size, c->err);
    if (c->rc != VL_OK)
        return 1;
    vl_sql_bind_text(c->ins, 1, path);
    vl_sql_bind_text(c->ins, 2, digest);
    vl_sql_bind_size(c->ins, 3, size, known);
    vl_db_bind_int(c->ins, 4, known);
    c->rc = step_done(c->cat, c->ins, "loading the inventory", c->err);
    return c->rc != VL_OK;
}

static int load_file(void *arg, const char *logical, const char *digest)
{
    sync_ctx *c = arg;
    vl_db_bind_int(c->ins, 1, c->num);
    vl_sql_bind_text(c->ins, 2, logical);
    vl_sql_bind_text(c->ins, 3, digest);
    c->rc = step_done(c->cat, c->ins, "loading the inventory", c->err);
    return c->rc != VL_OK;
}

static int load_fixity(void *arg, const char *alg, const char *digest,
                       const char *path)
{
    sync_ctx *c = arg;
    vl_sql_bind_text(c->ins, 1, path);
    vl_sql_bind_text(c->ins, 2, alg);
    vl_sql_bind_text(c->ins, 3, digest);
    c->rc = step_done(c->cat, c->ins, "loading the inventory", c->err);
    return c->rc != VL_OK;
}

static int load_inventory(vl_catalog *cat, vl_backend *b,
                          const char *object_rel, const vl_inventory *inv,
                          vl_error *err)
{
    sync_ctx c = {.cat = cat, .b = b, .object_rel = object_rel, .err = err};
    int head = vl_inventory_head(inv);
    int rc = prepare(cat,
                     "INSERT INTO temp.chk_versions VALUES (?, ?, ?, ?, ?)"
                     " ON CONFLICT (num) DO UPDATE SET"
                     " created = excluded.created, message = excluded.message,"
                     " user_name = excluded.user_name,"
                     " user_address = excluded.user_address",
                     &c.ins, err);
    for (int n = 1; rc == VL_OK && n <= head; n++) {
        vl_version_info vi;
        if (vl_inventory_version_info(inv, n, &vi) != 0)
            continue; /* reported as a missing version */
        vl_db_bind_int(c.ins, 1, n);
        vl_sql_bind_text(c.ins, 2, vi.created);
        vl_sql_bind_text(c.ins, 3, vi.message);
        vl_sql_bind_text(c.ins, 4, vi.user_name);
        vl_sql_bind_text(c.ins, 5, vi.user_address);
        rc = step_done(cat, c.ins, "loading the inventory", err);
    }
    vl_db_finalize(c.ins);
    c.ins = NULL;
    if (rc != VL_OK)
        return rc;

    /* Upserts: a malformed inventory listing a path twice must not abort
     * the check; the validator reports that. */
    rc = prepare(cat,
                 "INSERT INTO temp.chk_content VALUES (?, ?, ?, ?)"
                 " ON CONFLICT (content_path) DO UPDATE SET"
                 " digest = excluded.digest, size = excluded.size,"
                 " present = excluded.present",
                 &c.ins, err);
    if (rc == VL_OK && vl_inventory_manifest_foreach(inv, load_content, &c))
        rc = c.rc ? c.rc : index_error(cat, inv, err);
    vl_db_finalize(c.ins);
    c.ins = NULL;
    if (rc != VL_OK)
        return rc;

    rc = prepare(cat, "INSERT INTO temp.chk_files VALUES (?, ?, ?)"
                      " ON CONFLICT DO NOTHING",
                 &c.ins, err);
    for (c.num = 1; rc == VL_OK && c.num <= head; c.num++)
        if (vl_inventory_state_foreach(inv, c.num, load_file, &c) &&
            (c.rc || vl_inventory_failed(inv)))
            rc = c.rc ? c.rc : index_error(cat, inv, err);
    vl_db_finalize(c.ins);
    c.ins = NULL;
    if (rc != VL_OK)
        return rc;

    rc = prepare(cat, "INSERT INTO temp.chk_fixity VALUES (?, ?, ?)", &c.ins,
                 err);
    if (rc == VL_OK && vl_inventory_fixity_foreach(inv, load_fixity, &c))
        rc = c.rc ? c.rc : index_error(cat, inv, err);
    vl_db_finalize(c.ins);
    return rc;
}

/* One comparison query: each row is a disagreement, formatted by line(). */
typedef void (*row_fn)(check_ctx *k, vl_db_stmt *st);

static int compare(check_ctx *k, const char *id, const char *sql, row_fn line,
                   vl_error *err)
{
    vl_db_stmt *st = NULL;
    int step;
    int rc = prepare(k->cat, sql, &st, err);
    if (rc != VL_OK)
        return rc;
    vl_sql_bind_text(st, 1, id);
    while ((step = vl_db_step(st)) == VL_DB_ROW)
        line(k, st);
    if (step != VL_DB_DONE)
        rc = db_fail(k->cat, err, "comparing with the inventory");
    vl_db_finalize(st);
    return rc;
}

static void line_version_extra(check_ctx *k, vl_db_stmt *st)
{
    char v[16];
    report(k, "catalog has version %s but the inventory does not",
           vname(k, vl_db_column_int(st, 0), v));
}

static void line_version_missing(check_ctx *k, vl_db_stmt *st)
{
    char v[16];
    report(k, "inventory has version %s but the catalog does not",
           vname(k, vl_db_column_int(st, 0), v));
}

static void line_version_field(check_ctx *k, vl_db_stmt *st)
{
    char v[16];
    char *a = esc(col_text(st, 2), k), *b = esc(col_text(st, 3), k);
    if (a && b)
        report(k, "catalog and inventory disagree on %s %s: catalog \"%s\", "
                  "inventory \"%s\"",
               vname(k, vl_db_column_int(st, 0), v), col_text(st, 1), a, b);
    free(a);
    free(b);
}

static void line_file_extra(check_ctx *k, vl_db_stmt *st)
{
    char v[16];
    char *p = esc(col_text(st, 1), k);
    if (p)
        report(k, "catalog says %s has %s but the inventory does not",
               vname(k, vl_db_column_int(st, 0), v), p);
    free(p);
}

static void line_file_missing(check_ctx *k, vl_db_stmt *st)
{
    char v[16];
    char *p = esc(col_text(st, 1), k);
    if (p)
        report(k, "inventory says %s has %s but the catalog does not",
               vname(k, vl_db_column_int(st, 0), v), p);
    free(p);
}

static void line_file_digest(check_ctx *k, vl_db_stmt *st)
{
    char v[16];
    char *p = esc(col_text(st, 1), k);
    char *a = esc(col_text(st, 2), k), *b = esc(col_text(st, 3), k);
    if (p && a && b)
        report(k, "%s %s: catalog digest %s, inventory digest %s",
               vname(k, vl_db_column_int(st, 0), v), p, a, b);
    free(p);
    free(a);
    free(b);
}

static void line_content_extra(check_ctx *k, vl_db_stmt *st)
{
    char *p = esc(col_text(st, 0), k);
    if (p)
        report_content(k, col_text(st, 0), "catalog lists content %s but the inventory does not", p);
    free(p);
}

static void line_content_missing(check_ctx *k, vl_db_stmt *st)
{
    char *p = esc(col_text(st, 0), k);
    if (p)
        report_content(k, col_text(st, 0), "inventory lists content %s but the catalog does not", p);
    free(p);
}

static void line_content_digest(check_ctx *k, vl_db_stmt *st)
{
    char *p = esc(col_text(st, 0), k);
    char *a = esc(col_text(st, 1), k), *b = esc(col_text(st, 2), k);
    if (p && a && b)
        report_content(k, col_text(st, 0), "content %s: catalog digest %s, inventory digest %s", p, a,
               b);
    free(p);
    free(a);
    free(b);
}

static void line_content_size(check_ctx *k, vl_db_stmt *st)
{
    char *p = esc(col_text(st, 0), k);
    char cs[32] = "(none)", ss[32] = "missing";
    if (!vl_db_column_is_null(st, 1))
        snprintf(cs, sizeof cs, "%lld", (long long)vl_db_column_int64(st, 1));
    if (!vl_db_column_is_null(st, 2))
        snprintf(ss, sizeof ss, "%lld", (long long)vl_db_column_int64(st, 2));
    if (p)
        report_content(k, col_text(st, 0), "content %s: catalog size %s, size on storage %s", p, cs, ss);
    free(p);
}

static void line_content_absent(check_ctx *k, vl_db_stmt *st)
{
    char *p = esc(col_text(st, 0), k);
    if (p)
        report_content(k, col_text(st, 0), "content %s is in the inventory but missing from storage",
               p);
    free(p);
}

static void line_fixity_extra(check_ctx *k, vl_db_stmt *st)
{
    char *p = esc(col_text(st, 0), k), *a = esc(col_text(st, 1), k);
    char *x = esc(col_text(st, 2), k);
    if (p && a && x)
        report_content(k, col_text(st, 0), "catalog has %s fixity %s for %s but the inventory does not",
               a, x, p);
    free(p);
    free(a);
    free(x);
}

static void line_fixity_missing(check_ctx *k, vl_db_stmt *st)
{
    char *p = esc(col_text(st, 0), k), *a = esc(col_text(st, 1), k);
    char *x = esc(col_text(st, 2), k);
    if (p && a && x)
        report_content(k, col_text(st, 0), "inventory has %s fixity %s for %s but the catalog does not",
               a, x, p);
    free(p);
    free(a);
    free(x);
}

static const struct {
    const char *sql;
    row_fn line;
} comparisons[] = {
    {"SELECT num FROM versions WHERE object_id = ?1 AND num NOT IN"
     " (SELECT num FROM temp.chk_versions) ORDER BY num",
     line_version_extra},
    {"SELECT num FROM temp.chk_versions WHERE num NOT IN"
     " (SELECT num FROM versions WHERE object_id = ?1) ORDER BY num",
     line_version_missing},
    {"SELECT v.num, 'created', v.created, i.created FROM versions v"
     " JOIN temp.chk_versions i USING (num) WHERE v.object_id = ?1"
     " AND v.created IS DISTINCT FROM i.created"
     " UNION ALL SELECT v.num, 'message', v.message, i.message FROM versions v"
     " JOIN temp.chk_versions i USING (num) WHERE v.object_id = ?1"
     " AND v.message IS DISTINCT FROM i.message"
     " UNION ALL SELECT v.num, 'user name', v.user_name, i.user_name"
     " FROM versions v JOIN temp.chk_versions i USING (num)"
     " WHERE v.object_id = ?1 AND v.user_name IS DISTINCT FROM i.user_name"
     " UNION ALL SELECT v.num, 'user address', v.user_address, i.user_address"
     " FROM versions v JOIN temp.chk_versions i USING (num)"
     " WHERE v.object_id = ?1 AND v.user_address IS DISTINCT FROM i.user_address"
     " ORDER BY 1, 2",
     line_version_field},
    {"SELECT f.version, f.logical_path FROM files f WHERE f.object_id = ?1"
     " AND NOT EXISTS (SELECT 1 FROM temp.chk_files i"
     "  WHERE i.version = f.version AND i.logical_path = f.logical_path)"
     " ORDER BY 1, 2",
     line_file_extra},
    {"SELECT i.version, i.logical_path FROM temp.chk_files i"
     " WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.object_id = ?1"
     "  AND f.version = i.version AND f.logical_path = i.logical_path)"
     " ORDER BY 1, 2",
     line_file_missing},
    {"SELECT f.version, f.logical_path, f.digest, i.digest FROM files f"
     " JOIN temp.chk_files i"
     "  ON i.version = f.version AND i.logical_path = f.logical_path"
     " WHERE f.object_id = ?1 AND f.digest IS DISTINCT FROM i.digest ORDER BY 1, 2",
     line_file_digest},
    {"SELECT c.content_path FROM content c WHERE c.object_id = ?1"
     " AND c.content_path NOT IN (SELECT content_path FROM temp.chk_content)"
     " ORDER BY 1",
     line_content_extra},
    {"SELECT i.content_path FROM temp.chk_content i WHERE i.content_path"
     " NOT IN (SELECT content_path FROM content WHERE object_id = ?1)"
     " ORDER BY 1",
     line_content_missing},
    {"SELECT c.content_path, c.digest, i.digest FROM content c"
     " JOIN temp.chk_content i USING (content_path)"
     " WHERE c.object_id = ?1 AND c.digest IS DISTINCT FROM i.digest ORDER BY 1",
     line_content_digest},
    {"SELECT c.content_path, c.size, i.size FROM content c"
     " JOIN temp.chk_content i USING (content_path)"
     " WHERE c.object_id = ?1 AND c.size IS DISTINCT FROM i.size ORDER BY 1",
     line_content_size},
    /* Not a catalog disagreement, but the catalog cannot be right about a
     * file the store lost: callers comparing catalog and store want it. */
    {"SELECT content_path FROM temp.chk_content WHERE present = 0"
     " AND ?1 IS NOT NULL ORDER BY 1",
     line_content_absent},
    {"SELECT content_path, algorithm, value FROM fixity WHERE object_id = ?1"
     " EXCEPT SELECT content_path, algorithm, value FROM temp.chk_fixity"
     " ORDER BY 1, 2, 3",
     line_fixity_extra},
    {"SELECT content_path, algorithm, value FROM temp.chk_fixity"
     " EXCEPT SELECT content_path, algorithm, value FROM fixity"
     "  WHERE object_id = ?1 ORDER BY 1, 2, 3",
     line_fixity_missing},
};

/* The objects row against the inventory's id, path, head and dates. */
static int check_object_row(check_ctx *k, const char *id,
                            const char *object_rel, int *found,
                            vl_error *err)
{
    const vl_inventory *inv = k->inv;
    vl_db_stmt *st = NULL;
    int head = vl_inventory_head(inv), step;
    vl_version_info first = {0}, last = {0};
    char *eid = esc(id, k);
    int rc = prepare(k->cat,
                     "SELECT path, head, digest_alg, created, updated"
                     " FROM objects WHERE id = ?",
                     &st, err);
    *found = 0;
    if (rc != VL_OK || !eid)
        goto done;
    vl_sql_bind_text(st, 1, id);
    step = vl_db_step(st);
    if (step == VL_DB_DONE) {
        report(k, "catalog has no object \"%s\" but the inventory does", eid);
        goto done;
    }
    if (step != VL_DB_ROW) {
        rc = db_fail(k->cat, err, "looking up an object");
        goto done;
    }
    *found = 1;
    if (head > 0) {
        vl_inventory_version_info(inv, 1, &first);
        vl_inventory_version_info(inv, head, &last);
    }
    const char *path = col_text(st, 0), *alg = col_text(st, 2);
    const char *want_alg = vl_digest_name(vl_inventory_digest_alg(inv));
    struct {
        const char *what, *cat, *inv;
    } fields[] = {
        {"path", path, object_rel},
        {"digest algorithm", alg, want_alg},
        {"created", col_text(st, 3), first.created},
        {"updated", col_text(st, 4), last.created},
    };
    if (vl_db_column_int(st, 1) != head ||
        vl_db_column_is_null(st, 1))
        report(k, "object \"%s\": catalog head %d, inventory head %d", eid,
               vl_db_column_int(st, 1), head);
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const char *a = fields[i].cat, *b = fields[i].inv;
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) {
            char *ea = esc(a, k), *eb = esc(b, k);
            if (ea && eb)
                report(k, "object \"%s\": catalog %s \"%s\", inventory \"%s\"",
                       eid, fields[i].what, ea, eb);
            free(ea);
            free(eb);
        }
    }
done:
    free(eid);
    vl_db_finalize(st);
    return rc;
}

static int check_object(check_ctx k, vl_backend *b, const char *object_rel,
                        vl_error *err);

int vl_catalog_check_object(vl_catalog *cat, vl_backend *b,
                            const char *object_rel, const vl_inventory *inv,
                            vl_message_fn fn, void *arg, vl_error *err)
{
    check_ctx k = {.cat = cat, .inv = inv, .fn = fn, .arg = arg};
    return check_object(k, b, object_rel, err);
}

int vl_catalog_check_object_problems(vl_catalog *cat, vl_backend *b,
                                     const char *object_rel,
                                     const vl_inventory *inv,
                                     vl_catalog_problem_fn fn, void *arg,
                                     vl_error *err)
{
    check_ctx k = {.cat = cat, .inv = inv, .pfn = fn, .arg = arg};
    return check_object(k, b, object_rel, err);
}

static int check_object(check_ctx k, vl_backend *b, const char *object_rel,
                        vl_error *err)
{
    vl_catalog *cat = k.cat;
    const vl_inventory *inv = k.inv;
    const char *id = vl_inventory_id(inv);
    scope s = {0, 0};
    int found = 0;
    int rc = VL_OK;

    if (!id)
        return vl_error_set(err, VL_EINPUT,
                            "catalog %s: inventory of %s has no id", cat->path,
                            object_rel);
    /* IF NOT EXISTS each time: a caller's rollback may have undone them. */
    if (vl_db_exec_ddl(cat->db, check_schema_sql) != VL_DB_OK)
        rc = db_fail(cat, err, "creating check tables");
    if (rc != VL_OK)
        return rc;
    /* One read snapshot for all comparisons (a savepoint inside a caller's
     * transaction).  Only TEMP tables are written. */
    rc = scope_begin(cat, &s, 0, err);
    if (rc == VL_OK)
        rc = exec(cat, check_clear_sql, "clearing check tables", err);
    if (rc == VL_OK)
        rc = load_inventory(cat, b, object_rel, inv, err);
    if (rc == VL_OK)
        rc = check_object_row(&k, id, object_rel, &found, err);
    for (size_t i = 0;
         rc == VL_OK && found && i < sizeof comparisons / sizeof *comparisons;
         i++)
        rc = compare(&k, id, comparisons[i].sql, comparisons[i].line, err);
    if (rc == VL_OK && k.oom)
        rc = vl_error_oom(err);
    if (rc == VL_OK)
        rc = exec(cat, check_clear_sql, "clearing check tables", err);
    /* Commit only to end the snapshot: the temp rows are already gone. */
    if (scope_end(cat, &s, rc == VL_OK, err) != VL_OK && rc == VL_OK)
        rc = VL_ESYS;
    if (rc == VL_OK && k.findings)
        rc = VL_FINDING;
    return rc;
}
