/* Unit tests for the catalog on PostgreSQL (storage/db_pg.c behind
 * storage/catalog*.c): the cases of test_catalog.c that do not look inside
 * SQLite, run against a database of their own on the server that
 * VELLUM_TEST_PG names (a libpq URI; tools/test-postgres start DIR writes
 * one), plus the side tables, the event log's rows, URLs and the schema
 * made on open.  Without VELLUM_TEST_PG every test fails, saying so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

/* A white-box test: it uses storage/'s private backend_private.h, catalog_private.h and inventory_private.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_STORAGE_INTERNAL
#include "backend_private.h"
#include "catalog_private.h"
#include "db_private.h"
#include "inventory_private.h"
#include "vl_common.h"
#include "vl_storage.h"

#define OBJ_A "info:obj-a"
#define OBJ_B "info:obj-b"
#define REL_A "ab/obj-a"
#define REL_B "cd/obj-b"

typedef struct fx {
    char dir[64];
    char *store;
    char *dbpath;
    vl_backend *b;
    vl_catalog *cat;
    vl_inventory *inv_a;   /* 2 versions, fixity, a digest with 2 paths */
    vl_inventory *inv_b;   /* 1 version */
    char dbname[64];
    char *url;             /* the test's database */
} fx;

/* ---- helpers ------------------------------------------------------------ */

static void put_file(fx *f, const char *rel, const char *data)
{
    char *p = vl_path_join(f->store, rel);
    vl_error err = {0};
    assert_non_null(p);
    assert_int_equal(vl_fs_mkdirs_parent(p, &err), VL_OK);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, strlen(data), fp), strlen(data));
    assert_int_equal(fclose(fp), 0);
    free(p);
}

/* Store content at object_rel/content_path and list it in the manifest. */
static void add_content(fx *f, vl_inventory *inv, const char *object_rel,
                        const char *content_path, const char *data,
                        char digest[VL_DIGEST_HEX_MAX])
{
    char *rel = vl_path_join(object_rel, content_path);
    assert_non_null(rel);
    put_file(f, rel, data);
    free(rel);
    vl_digest_buffer(VL_SHA512, data, strlen(data), digest);
    assert_int_equal(vl_inventory_manifest_add(inv, digest, content_path), 0);
}

static char *digest_of(const char *data)
{
    static char hex[4][VL_DIGEST_HEX_MAX];
    static int next;
    char *out = hex[next++ % 4];
    vl_digest_buffer(VL_SHA512, data, strlen(data), out);
    return out;
}

static vl_inventory *build_a(fx *f)
{
    vl_inventory *inv = vl_inventory_new(OBJ_A, VL_SHA512);
    char d_hello[VL_DIGEST_HEX_MAX], d_world[VL_DIGEST_HEX_MAX],
        d_new[VL_DIGEST_HEX_MAX];
    assert_non_null(inv);
    /* "hello" is stored twice; the later-sorting path is listed first so
     * files() must pick by content path order, not manifest order. */
    add_content(f, inv, REL_A, "v1/content/data/z-hello.txt", "hello",
                d_hello);
    add_content(f, inv, REL_A, "v1/content/data/a.txt", "hello", d_hello);
    add_content(f, inv, REL_A, "v1/content/data/b.txt", "world!!", d_world);
    add_content(f, inv, REL_A, "v2/content/data/c.txt", "new content 3",
                d_new);
    assert_int_equal(vl_inventory_version_add(inv, "2026-01-01T00:00:00Z",
                                              "first", "Ann",
                                              "mailto:ann@example.org"),
                     1);
    assert_int_equal(vl_inventory_state_add(inv, 1, d_hello, "data/a.txt"), 0);
    assert_int_equal(vl_inventory_state_add(inv, 1, d_world, "data/b.txt"), 0);
    assert_int_equal(
        vl_inventory_version_add(inv, "2026-02-01T00:00:00Z", NULL, NULL, NULL),
        2);
    assert_int_equal(vl_inventory_state_add(inv, 2, d_hello, "data/a.txt"), 0);
    assert_int_equal(vl_inventory_state_add(inv, 2, d_new, "data/c.txt"), 0);
    assert_int_equal(vl_inventory_state_add(inv, 2, d_hello, "data/a2.txt"), 0);
    assert_int_equal(vl_inventory_fixity_add(inv, VL_MD5, "5d41402abc4b2a76b9719d911017c592",
                                             "v1/content/data/a.txt"),
                     0);
    assert_int_equal(vl_inventory_fixity_add(inv, VL_SHA1, "1111111111111111111111111111111111111111",
                                             "v1/content/data/b.txt"),
                     0);
    return inv;
}

static vl_inventory *build_b(fx *f)
{
    vl_inventory *inv = vl_inventory_new(OBJ_B, VL_SHA512);
    char d[VL_DIGEST_HEX_MAX];
    assert_non_null(inv);
    add_content(f, inv, REL_B, "v1/content/only.bin", "0123456789", d);
    assert_int_equal(vl_inventory_version_add(inv, "2025-05-05T05:05:05Z",
                                              "only", NULL, NULL),
                     1);
    assert_int_equal(vl_inventory_state_add(inv, 1, d, "only.bin"), 0);
    return inv;
}

/* A connection to the server's maintenance database (VELLUM_TEST_PG). */
static PGconn *admin_connect(void)
{
    const char *url = getenv("VELLUM_TEST_PG");
    if (!url || !*url)
        fail_msg("VELLUM_TEST_PG is not set: start a server with "
                 "tools/test-postgres start DIR and source DIR/env");
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to VELLUM_TEST_PG: %s", PQerrorMessage(c));
    return c;
}

static void admin_exec(const char *sql)
{
    PGconn *c = admin_connect();
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* VELLUM_TEST_PG with its database replaced by name. */
static char *url_for(const char *name)
{
    const char *url = getenv("VELLUM_TEST_PG");
    const char *a = strstr(url, "://");
    assert_non_null(a);
    a += 3;
    size_t host = strcspn(a, "/?");
    const char *q = strchr(a, '?');
    return vl_asprintf("%.*s/%s%s", (int)(a + host - url), url, name,
                       q ? q : "");
}

static int setup(void **state)
{
    static int n;
    fx *f = calloc(1, sizeof *f);
    vl_error err = {0};
    char sql[128];
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/vl-catalog-pg-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    /* Each test its own database: nothing carries over. */
    snprintf(f->dbname, sizeof f->dbname, "vl_unit_%ld_%d_%ld", (long)getpid(),
             n++, (long)time(NULL) % 100000);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->dbname);
    admin_exec(sql);
    f->url = url_for(f->dbname);
    f->store = vl_path_join(f->dir, "store");
    f->dbpath = vl_strdup(f->url);
    assert_non_null(f->url);
    assert_int_equal(vl_fs_mkdirs(f->store, &err), VL_OK);
    f->b = vl_backend_fs_new(f->store);
    assert_non_null(f->b);
    if (vl_catalog_open(f->dbpath, &f->cat, &err) != VL_OK)
        fail_msg("open: %s", err.msg);
    f->inv_a = build_a(f);
    f->inv_b = build_b(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char sql[128];
    vl_catalog_close(f->cat);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
             f->dbname);
    admin_exec(sql);
    vl_backend_free(f->b);
    vl_inventory_free(f->inv_a);
    vl_inventory_free(f->inv_b);
    vl_fs_rmtree(f->dir, NULL);
    free(f->store);
    free(f->dbpath);
    free(f->url);
    free(f);
    return 0;
}

static void sync_ok(fx *f, const char *rel, const vl_inventory *inv)
{
    vl_error err = {0};
    int rc = vl_catalog_sync_object(f->cat, f->b, rel, inv, &err);
    if (rc != VL_OK)
        fail_msg("sync: %s", err.msg);
}

/* On the catalog's own connection: it sees the catalog's open
 * transaction, as the SQLite tests' queries do. */
static void exec_sql(fx *f, const char *sql)
{
    PGresult *r = PQexec(vl_catalog_db(f->cat), sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK &&
        PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(vl_catalog_db(f->cat)));
    PQclear(r);
}

static char *query_text(fx *f, const char *sql)
{
    PGresult *r = PQexec(vl_catalog_db(f->cat), sql);
    char *v;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
        fail_msg("%s: %s", sql, PQerrorMessage(vl_catalog_db(f->cat)));
    v = strdup(PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static long long query_int(fx *f, const char *sql)
{
    char *t = query_text(f, sql);
    /* booleans come back as t and f */
    long long v = !strcmp(t, "t") ? 1 : strtoll(t, NULL, 10);
    free(t);
    return v;
}

/* Total rows in the five catalog tables for one object. */
static long long rows_of(fx *f, const char *id)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM objects WHERE id='%1$s')"
             " + (SELECT count(*) FROM versions WHERE object_id='%1$s')"
             " + (SELECT count(*) FROM content WHERE object_id='%1$s')"
             " + (SELECT count(*) FROM files WHERE object_id='%1$s')"
             " + (SELECT count(*) FROM fixity WHERE object_id='%1$s')",
             id);
    return query_int(f, sql);
}

/* Copies of object rows, so they outlive the callback. */
typedef struct objrow {
    char id[64], path[64], created[32], updated[32];
    int head;
    uint64_t files, bytes;
} objrow;

typedef struct objlist {
    objrow rows[8];
    int n;
} objlist;

static void copy_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "(null)");
}

static int collect_object(void *arg, const vl_catalog_object *o)
{
    objlist *l = arg;
    if (l->n >= 8)
        return -1;
    objrow *r = &l->rows[l->n++];
    copy_str(r->id, sizeof r->id, o->id);
    copy_str(r->path, sizeof r->path, o->path);
    copy_str(r->created, sizeof r->created, o->created);
    copy_str(r->updated, sizeof r->updated, o->updated);
    r->head = o->head;
    r->files = o->files;
    r->bytes = o->bytes;
    return 0;
}

typedef struct filerow {
    char logical[64], content[64], digest[VL_DIGEST_HEX_MAX];
    uint64_t size;
} filerow;

typedef struct filelist {
    filerow rows[8];
    int n;
} filelist;

static int collect_file(void *arg, const vl_catalog_file *cf)
{
    filelist *l = arg;
    if (l->n >= 8)
        return -1;
    filerow *r = &l->rows[l->n++];
    copy_str(r->logical, sizeof r->logical, cf->logical);
    copy_str(r->content, sizeof r->content, cf->content);
    copy_str(r->digest, sizeof r->digest, cf->digest);
    r->size = cf->size;
    return 0;
}

typedef struct msgs {
    char lines[16][512];
    int n;
} msgs;

static void collect_msg(void *arg, const char *m)
{
    msgs *l = arg;
    if (l->n < 16)
        snprintf(l->lines[l->n], sizeof l->lines[0], "%s", m);
    l->n++;
}

static int check(fx *f, const char *rel, const vl_inventory *inv, msgs *m)
{
    vl_error err = {0};
    memset(m, 0, sizeof *m);
    int rc = vl_catalog_check_object(f->cat, f->b, rel, inv, collect_msg, m,
                                     &err);
    if (rc != VL_OK && rc != VL_FINDING)
        fail_msg("check: %s", err.msg);
    return rc;
}

#include "catalog_incremental.h"

static void assert_has_line(const msgs *m, const char *want)
{
    for (int i = 0; i < m->n && i < 16; i++)
        if (strstr(m->lines[i], want))
            return;
    for (int i = 0; i < m->n && i < 16; i++)
        print_message("  got: %s\n", m->lines[i]);
    fail_msg("no message containing \"%s\"", want);
}

/* ---- tests --------------------------------------------------------------- */

static void test_open_schema(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    vl_catalog *again = NULL;
    assert_int_equal(query_int(f, "SELECT value FROM vellum_meta WHERE name = "
                                  "'schema_version'"), 2);
    /* every table, the side tables too, made as the catalog opened */
    assert_int_equal(query_int(f, "SELECT count(*) FROM information_schema.tables"
                                  " WHERE table_name IN ('objects', 'versions',"
                                  " 'content', 'files', 'fixity', 'events',"
                                  " 'audits', 'formats', 'format_basis',"
                                  " 'file_dates', 'descriptive', 'replicas',"
                                  " 'copies')"),
                     13);
    /* text sorts by bytes, as in SQLite */
    assert_int_equal(query_int(f, "SELECT count(*) FROM information_schema.columns"
                                  " WHERE table_name = 'files' AND"
                                  " column_name = 'logical_path' AND"
                                  " collation_name = 'C'"), 1);
    /* Reopening an existing catalog keeps its rows. */
    sync_ok(f, REL_B, f->inv_b);
    assert_int_equal(vl_catalog_open(f->dbpath, &again, &err), VL_OK);
    assert_int_equal(vl_db_kind(vl_catalog_vdb(again)), VL_DB_PG);
    vl_catalog_close(again);
    assert_int_equal(rows_of(f, OBJ_B), 1 + 1 + 1 + 1);
    /* The read-only open of commands that only read works the same. */
    assert_int_equal(vl_catalog_open_readonly(f->dbpath, &again, &err), VL_OK);
    objlist l = {0};
    assert_int_equal(vl_catalog_objects(again, collect_object, &l, &err), VL_OK);
    assert_int_equal(l.n, 1);
    vl_catalog_close(again);
}

static void test_open_errors(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    vl_catalog *c = NULL;
    char *bad = url_for("vl_unit_no_such_database");
    assert_int_equal(vl_catalog_open(bad, &c, &err), VL_ESYS);
    assert_null(c);
    /* one line naming the catalog */
    assert_non_null(strstr(err.msg, "catalog postgresql"));
    assert_non_null(strstr(err.msg, "vl_unit_no_such_database"));
    assert_null(strchr(err.msg, '\n'));
    free(bad);
    /* A catalog written by a newer vellum is refused, not misread. */
    exec_sql(f, "UPDATE vellum_meta SET value = 7 WHERE name = 'schema_version'");
    memset(&err, 0, sizeof err);
    assert_int_equal(vl_catalog_open(f->dbpath, &c, &err), VL_ESYS);
    assert_null(c);
    assert_non_null(strstr(err.msg, "schema version 7"));
    assert_non_null(strstr(err.msg, f->dbname));
}

static void test_objects_listing(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    objlist l = {0};
    /* Synced in reverse id order: the listing must sort. */
    sync_ok(f, REL_B, f->inv_b);
    sync_ok(f, REL_A, f->inv_a);
    assert_int_equal(vl_catalog_objects(f->cat, collect_object, &l, &err),
                     VL_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.rows[0].id, OBJ_A);
    assert_string_equal(l.rows[0].path, REL_A);
    assert_int_equal(l.rows[0].head, 2);
    assert_string_equal(l.rows[0].created, "2026-01-01T00:00:00Z");
    assert_string_equal(l.rows[0].updated, "2026-02-01T00:00:00Z");
    /* Head state: a.txt (5) + c.txt (13) + a2.txt (5, same digest). */
    assert_int_equal(l.rows[0].files, 3);
    assert_int_equal(l.rows[0].bytes, 5 + 13 + 5);
    assert_string_equal(l.rows[1].id, OBJ_B);
    assert_string_equal(l.rows[1].path, REL_B);
    assert_int_equal(l.rows[1].head, 1);
    assert_string_equal(l.rows[1].created, "2025-05-05T05:05:05Z");
    assert_string_equal(l.rows[1].updated, "2025-05-05T05:05:05Z");
    assert_int_equal(l.rows[1].files, 1);
    assert_int_equal(l.rows[1].bytes, 10);
}

static void test_objects_callback_stops(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    objlist l = {.n = 7};
    sync_ok(f, REL_A, f->inv_a);
    sync_ok(f, REL_B, f->inv_b);
    /* collect_object returns -1 once full: the listing stops there. */
    assert_int_equal(vl_catalog_objects(f->cat, collect_object, &l, &err), -1);
    assert_int_equal(l.n, 8);
}

static void test_object_lookup(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    objlist l = {0};
    sync_ok(f, REL_A, f->inv_a);
    sync_ok(f, REL_B, f->inv_b);
    assert_int_equal(vl_catalog_get_object(f->cat, OBJ_B, collect_object, &l, &err),
                     VL_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.rows[0].id, OBJ_B);
    assert_int_equal(l.rows[0].bytes, 10);
    assert_int_equal(vl_catalog_get_object(f->cat, "nope", collect_object, &l, &err),
                     VL_EINPUT);
    assert_int_equal(l.n, 1);
    assert_string_equal(err.msg, "no object with id \"nope\"");
}

static void test_files(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    filelist l = {0};
    sync_ok(f, REL_A, f->inv_a);

    assert_int_equal(vl_catalog_files(f->cat, OBJ_A, 0, collect_file, &l, &err),
                     VL_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.rows[0].logical, "data/a.txt");
    assert_string_equal(l.rows[0].content, "v1/content/data/a.txt");
    assert_string_equal(l.rows[0].digest, digest_of("hello"));
    assert_int_equal(l.rows[0].size, 5);
    assert_string_equal(l.rows[1].logical, "data/a2.txt");
    assert_string_equal(l.rows[1].content, "v1/content/data/a.txt");
    assert_int_equal(l.rows[1].size, 5);
    assert_string_equal(l.rows[2].logical, "data/c.txt");
    assert_string_equal(l.rows[2].content, "v2/content/data/c.txt");
    assert_string_equal(l.rows[2].digest, digest_of("new content 3"));
    assert_int_equal(l.rows[2].size, 13);

    memset(&l, 0, sizeof l);
    assert_int_equal(vl_catalog_files(f->cat, OBJ_A, 1, collect_file, &l, &err),
                     VL_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.rows[0].logical, "data/a.txt");
    assert_string_equal(l.rows[1].logical, "data/b.txt");
    assert_string_equal(l.rows[1].content, "v1/content/data/b.txt");
    assert_string_equal(l.rows[1].digest, digest_of("world!!"));
    assert_int_equal(l.rows[1].size, 7);

    memset(&l, 0, sizeof l);
    assert_int_equal(vl_catalog_files(f->cat, OBJ_A, 3, collect_file, &l, &err),
                     VL_EINPUT);
    assert_int_equal(l.n, 0);
    assert_non_null(strstr(err.msg, "no version 3"));
    assert_int_equal(
        vl_catalog_files(f->cat, OBJ_A, -1, collect_file, &l, &err), VL_EINPUT);
    assert_int_equal(
        vl_catalog_files(f->cat, "nope", 0, collect_file, &l, &err), VL_EINPUT);
    assert_string_equal(err.msg, "no object with id \"nope\"");
}

static void test_resync_replaces(void **state)
{
    fx *f = *state;
    /* objects 1 + versions 2 + content 4 + files 5 + fixity 2 */
    const long long want = 1 + 2 + 4 + 5 + 2;
    sync_ok(f, REL_A, f->inv_a);
    assert_int_equal(rows_of(f, OBJ_A), want);
    sync_ok(f, REL_A, f->inv_a);
    assert_int_equal(rows_of(f, OBJ_A), want);

    /* A smaller inventory under the same id leaves none of the old rows. */
    vl_inventory *small = vl_inventory_new(OBJ_A, VL_SHA256);
    char d[VL_DIGEST_HEX_MAX];
    assert_non_null(small);
    add_content(f, small, "ef/moved", "v1/content/x", "xyz", d);
    assert_int_equal(vl_inventory_version_add(small, "2027-01-01T00:00:00Z",
                                              NULL, NULL, NULL),
                     1);
    assert_int_equal(vl_inventory_state_add(small, 1, d, "x"), 0);
    sync_ok(f, "ef/moved", small);
    assert_int_equal(rows_of(f, OBJ_A), 1 + 1 + 1 + 1);
    char *p = query_text(f, "SELECT path || ' ' || head || ' ' || digest_alg "
                            "FROM objects WHERE id='" OBJ_A "'");
    assert_string_equal(p, "ef/moved 1 sha256");
    free(p);
    msgs m;
    assert_int_equal(check(f, "ef/moved", small, &m), VL_OK);
    vl_inventory_free(small);
}

static void test_resync_keeps_foreign_rows(void **state)
{
    fx *f = *state;
    /* Another module's table referencing objects must survive a re-sync
     * (the objects row is updated, not deleted). */
    sync_ok(f, REL_A, f->inv_a);
    exec_sql(f, "CREATE TABLE notes (object_id TEXT REFERENCES objects(id) "
                "ON DELETE CASCADE, what TEXT)");
    exec_sql(f, "INSERT INTO notes VALUES ('" OBJ_A "', 'ingest')");
    sync_ok(f, REL_A, f->inv_a);
    assert_int_equal(query_int(f, "SELECT count(*) FROM notes"), 1);
}

static void test_remove_object(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    objlist l = {0};
    sync_ok(f, REL_A, f->inv_a);
    sync_ok(f, REL_B, f->inv_b);
    assert_int_equal(vl_catalog_remove_object(f->cat, OBJ_A, &err), VL_OK);
    assert_int_equal(rows_of(f, OBJ_A), 0);
    assert_int_equal(rows_of(f, OBJ_B), 4);
    assert_int_equal(vl_catalog_objects(f->cat, collect_object, &l, &err),
                     VL_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.rows[0].id, OBJ_B);
    /* Removing an absent object is not an error. */
    assert_int_equal(vl_catalog_remove_object(f->cat, OBJ_A, &err), VL_OK);
}

static void test_clear(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    objlist l = {0};
    sync_ok(f, REL_A, f->inv_a);
    sync_ok(f, REL_B, f->inv_b);
    exec_sql(f, "INSERT INTO formats (object_id, digest, puid) VALUES"
                " ('x', 'x', 'fmt/1')");
    assert_int_equal(vl_catalog_clear(f->cat, &err), VL_OK);
    assert_int_equal(
        query_int(f, "SELECT (SELECT count(*) FROM objects) + (SELECT count(*) "
                     "FROM versions) + (SELECT count(*) FROM content) + "
                     "(SELECT count(*) FROM files) + (SELECT count(*) FROM "
                     "fixity)"),
        0);
    assert_int_equal(vl_catalog_objects(f->cat, collect_object, &l, &err),
                     VL_OK);
    assert_int_equal(l.n, 0);
    /* Tables of other modules are left alone. */
    assert_int_equal(query_int(f, "SELECT count(*) FROM formats"), 1);
}

static void test_transactions(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    assert_int_equal(vl_catalog_begin(f->cat, &err), VL_OK);
    sync_ok(f, REL_A, f->inv_a);  /* nests as a savepoint */
    assert_int_equal(rows_of(f, OBJ_A), 14);
    /* A second begin while one is open is refused. */
    assert_int_equal(vl_catalog_begin(f->cat, &err), VL_ESYS);
    vl_catalog_rollback(f->cat);
    assert_int_equal(rows_of(f, OBJ_A), 0);

    assert_int_equal(vl_catalog_begin(f->cat, &err), VL_OK);
    sync_ok(f, REL_A, f->inv_a);
    sync_ok(f, REL_B, f->inv_b);
    assert_int_equal(vl_catalog_remove_object(f->cat, OBJ_B, &err), VL_OK);
    assert_int_equal(vl_catalog_commit(f->cat, &err), VL_OK);
    assert_int_equal(rows_of(f, OBJ_A), 14);
    assert_int_equal(rows_of(f, OBJ_B), 0);
    /* Commit without a transaction is a database error naming the file. */
    assert_int_equal(vl_catalog_commit(f->cat, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, f->dbpath));
}

static void test_sync_failure_rolls_back(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    sync_ok(f, REL_A, f->inv_a);
    /* A trigger makes the fixity insert fail half-way through a re-sync:
     * the old rows must be intact afterwards. */
    exec_sql(f, "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'boom'; END $$;"
                "CREATE TRIGGER boom BEFORE INSERT ON fixity FOR EACH ROW"
                " EXECUTE FUNCTION boom()");
    assert_int_equal(vl_catalog_sync_object(f->cat, f->b, REL_A, f->inv_a, &err),
                     VL_ESYS);
    assert_non_null(strstr(err.msg, "boom"));
    assert_non_null(strstr(err.msg, f->dbpath));
    assert_int_equal(rows_of(f, OBJ_A), 14);
    /* Inside a caller's transaction the savepoint undoes only the sync. */
    assert_int_equal(vl_catalog_begin(f->cat, &err), VL_OK);
    sync_ok(f, REL_B, f->inv_b);
    assert_int_equal(vl_catalog_sync_object(f->cat, f->b, REL_A, f->inv_a, &err),
                     VL_ESYS);
    assert_int_equal(vl_catalog_commit(f->cat, &err), VL_OK);
    assert_int_equal(rows_of(f, OBJ_A), 14);
    assert_int_equal(rows_of(f, OBJ_B), 4);
    msgs m;
    exec_sql(f, "DROP TRIGGER boom ON fixity");
    assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_OK);
}

static void test_check_agrees(void **state)
{
    fx *f = *state;
    msgs m;
    sync_ok(f, REL_A, f->inv_a);
    sync_ok(f, REL_B, f->inv_b);
    assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_OK);
    assert_int_equal(m.n, 0);
    assert_int_equal(check(f, REL_B, f->inv_b, &m), VL_OK);
    assert_int_equal(m.n, 0);
    /* Checking the wrong inventory against an object disagrees. */
    assert_int_equal(check(f, REL_A, f->inv_b, &m), VL_FINDING);
}

/* Each tamper of the catalog rows and the lines it must produce. */
static const struct tamper {
    const char *sql;
    int lines;
    const char *want1, *want2;
} tampers[] = {
    {"UPDATE objects SET head = 1", 1, "catalog head 1, inventory head 2",
     NULL},
    {"UPDATE objects SET path = 'zz/other'", 1,
     "catalog path \"zz/other\", inventory \"" REL_A "\"", NULL},
    {"UPDATE objects SET digest_alg = 'md5'", 1, "catalog digest algorithm",
     NULL},
    {"UPDATE objects SET created = '1999'", 1, "catalog created \"1999\"",
     NULL},
    {"UPDATE objects SET updated = NULL", 1, "catalog updated \"(none)\"",
     NULL},
    {"DELETE FROM objects", 1, "catalog has no object \"" OBJ_A "\"", NULL},
    {"DELETE FROM versions WHERE num = 2", 1,
     "inventory has version v2 but the catalog does not", NULL},
    {"INSERT INTO versions (object_id, num) VALUES ('" OBJ_A "', 9)", 1,
     "catalog has version v9 but the inventory does not", NULL},
    {"UPDATE versions SET message = 'other' WHERE num = 1", 1,
     "disagree on v1 message: catalog \"other\", inventory \"first\"", NULL},
    {"UPDATE versions SET user_address = NULL WHERE num = 1", 1,
     "disagree on v1 user address", NULL},
    {"UPDATE versions SET created = 'x' WHERE num = 2", 1,
     "disagree on v2 created", NULL},
    {"UPDATE versions SET user_name = 'Bob' WHERE num = 2", 1,
     "disagree on v2 user name: catalog \"Bob\", inventory \"(none)\"", NULL},
    {"DELETE FROM files WHERE version = 2 AND logical_path = 'data/c.txt'", 1,
     "inventory says v2 has data/c.txt but the catalog does not", NULL},
    {"INSERT INTO files VALUES ('" OBJ_A "', 2, 'data/ghost.txt', 'ab')", 1,
     "catalog says v2 has data/ghost.txt but the inventory does not", NULL},
    {"UPDATE files SET digest = '00' WHERE version = 1 AND "
     "logical_path = 'data/b.txt'",
     1, "v1 data/b.txt: catalog digest 00, inventory digest", NULL},
    {"DELETE FROM content WHERE content_path = 'v1/content/data/b.txt'", 1,
     "inventory lists content v1/content/data/b.txt but the catalog does not",
     NULL},
    {"INSERT INTO content VALUES ('" OBJ_A "', 'ab', 'v9/content/x', 1)", 1,
     "catalog lists content v9/content/x but the inventory does not", NULL},
    {"UPDATE content SET digest = 'ff' WHERE content_path = "
     "'v2/content/data/c.txt'",
     1, "content v2/content/data/c.txt: catalog digest ff, inventory digest",
     NULL},
    {"UPDATE content SET size = 999 WHERE content_path = "
     "'v1/content/data/a.txt'",
     1, "content v1/content/data/a.txt: catalog size 999, size on storage 5",
     NULL},
    {"DELETE FROM fixity WHERE algorithm = 'md5'", 1,
     "inventory has md5 fixity 5d41402abc4b2a76b9719d911017c592 for "
     "v1/content/data/a.txt but the catalog does not",
     NULL},
    {"UPDATE fixity SET value = 'bad' WHERE algorithm = 'sha1'", 2,
     "catalog has sha1 fixity bad for v1/content/data/b.txt but the "
     "inventory does not",
     "inventory has sha1 fixity 1111111111111111111111111111111111111111 for "
     "v1/content/data/b.txt but the catalog does not"},
    {"INSERT INTO fixity VALUES ('" OBJ_A "', 'v1/content/data/a.txt', "
     "'sha256', 'cafe')",
     1, "catalog has sha256 fixity cafe for v1/content/data/a.txt", NULL},
};

static void test_check_tampered_rows(void **state)
{
    fx *f = *state;
    msgs m;
    for (size_t i = 0; i < sizeof tampers / sizeof *tampers; i++) {
        sync_ok(f, REL_A, f->inv_a);
        sync_ok(f, REL_B, f->inv_b);
        assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_OK);
        /* Only object A is tampered with; B must stay in agreement. */
        char sql[512];
        snprintf(sql, sizeof sql, "%s%s", tampers[i].sql,
                 strncmp(tampers[i].sql, "INSERT", 6) == 0
                     ? ""
                     : strstr(tampers[i].sql, "objects")
                           ? " WHERE id = '" OBJ_A "'"
                       : strstr(tampers[i].sql, "WHERE")
                           ? " AND object_id = '" OBJ_A "'"
                           : " WHERE object_id = '" OBJ_A "'");
        exec_sql(f, sql);
        print_message("# tamper: %s\n", sql);
        assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_FINDING);
        if (m.n != tampers[i].lines) {
            for (int j = 0; j < m.n && j < 16; j++)
                print_message("  got: %s\n", m.lines[j]);
            fail_msg("%s: %d lines, want %d", sql, m.n, tampers[i].lines);
        }
        assert_has_line(&m, tampers[i].want1);
        if (tampers[i].want2)
            assert_has_line(&m, tampers[i].want2);
        assert_int_equal(check(f, REL_B, f->inv_b, &m), VL_OK);
    }
}

static void test_check_inventory_and_storage_changes(void **state)
{
    fx *f = *state;
    msgs m;
    sync_ok(f, REL_A, f->inv_a);

    /* The inventory gains a file the catalog has not seen. */
    vl_inventory *inv = vl_inventory_copy(f->inv_a);
    assert_non_null(inv);
    assert_int_equal(vl_inventory_state_add(inv, 2, digest_of("hello"),
                                            "data/late.txt"),
                     0);
    assert_int_equal(check(f, REL_A, inv, &m), VL_FINDING);
    assert_int_equal(m.n, 1);
    assert_has_line(&m, "inventory says v2 has data/late.txt but the catalog "
                        "does not");
    vl_inventory_free(inv);

    /* The inventory gains a version. */
    inv = vl_inventory_copy(f->inv_a);
    assert_non_null(inv);
    assert_int_equal(
        vl_inventory_version_add(inv, "2026-03-01T00:00:00Z", NULL, NULL, NULL),
        3);
    assert_int_equal(check(f, REL_A, inv, &m), VL_FINDING);
    assert_has_line(&m, "catalog head 2, inventory head 3");
    assert_has_line(&m, "inventory has version v3 but the catalog does not");
    assert_has_line(&m, "catalog updated \"2026-02-01T00:00:00Z\", inventory "
                        "\"2026-03-01T00:00:00Z\"");
    assert_int_equal(m.n, 3);
    vl_inventory_free(inv);

    /* A stored content file changes size. */
    put_file(f, REL_A "/v2/content/data/c.txt", "grown content 3!!");
    assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_FINDING);
    assert_int_equal(m.n, 1);
    assert_has_line(&m, "content v2/content/data/c.txt: catalog size 13, size "
                        "on storage 17");
    /* Re-sync picks the new size up. */
    sync_ok(f, REL_A, f->inv_a);
    assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_OK);

    /* A stored content file disappears. */
    char *p = vl_path_join(f->store, REL_A "/v1/content/data/b.txt");
    assert_int_equal(remove(p), 0);
    free(p);
    assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_FINDING);
    assert_has_line(&m, "content v1/content/data/b.txt: catalog size 7, size "
                        "on storage missing");
    assert_has_line(&m, "content v1/content/data/b.txt is in the inventory "
                        "but missing from storage");
    assert_int_equal(m.n, 2);
    /* Sync tolerates it (an index of a damaged store), size unknown. */
    sync_ok(f, REL_A, f->inv_a);
    assert_int_equal(query_int(f, "SELECT size IS NULL FROM content WHERE "
                                  "content_path = 'v1/content/data/b.txt'"),
                     1);
    assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_FINDING);
    assert_int_equal(m.n, 1);
    assert_has_line(&m, "missing from storage");
}

static void test_check_escapes_names(void **state)
{
    fx *f = *state;
    msgs m;
    sync_ok(f, REL_A, f->inv_a);
    exec_sql(f, "INSERT INTO files VALUES ('" OBJ_A "', 1, 'bad' || chr(10) "
                "|| 'name', 'ab')");
    assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_FINDING);
    assert_int_equal(m.n, 1);
    assert_null(strchr(m.lines[0], '\n'));
    assert_has_line(&m, "catalog says v1 has bad\\x0aname");
}

/* vl_inventory_diff: v1 {a, b} to v2 {a, c, a2 (= a)}; and back. */
struct diff_rows {
    char text[8][96];
    size_t n;
};

static int on_diff(void *arg, const vl_diff_entry *e)
{
    struct diff_rows *d = arg;
    if (d->n < 8)
        snprintf(d->text[d->n++], sizeof d->text[0], "%c %s%s%s", (char)e->kind,
                 e->old_path ? e->old_path : "", e->old_path ? " -> " : "", e->path);
    return 0;
}

static void test_inventory_diff(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    struct diff_rows d = {.n = 0};
    assert_int_equal(vl_inventory_diff(f->inv_a, 1, 2, on_diff, &d, &err), VL_OK);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.text[0], "A data/a2.txt");
    assert_string_equal(d.text[1], "D data/b.txt");
    assert_string_equal(d.text[2], "A data/c.txt");
    d.n = 0;
    assert_int_equal(vl_inventory_diff(f->inv_a, 2, 2, on_diff, &d, &err), VL_OK);
    assert_int_equal(d.n, 0);
    assert_int_equal(vl_inventory_diff(f->inv_a, 1, 3, on_diff, &d, &err), VL_EINPUT);
}

/* Descriptive metadata: set at ingest, listed with titles, searched. */
static const char *const desc_el[] = {"title", "creator", "subject"};
static const char *const desc_val[] = {"Letters of Ann", "Smith, Ann", "100% cotton"};

static void desc_entry(const void *arg, size_t i, const char **el, const char **val)
{
    (void)arg;
    *el = desc_el[i];
    *val = desc_val[i];
}

static int collect_listing(void *arg, const vl_catalog_listing *l)
{
    struct diff_rows *d = arg;
    if (d->n < 8)
        snprintf(d->text[d->n++], sizeof d->text[0], "%s|%s|%s|%llu+%llu",
                 l->object.id, l->title ? l->title : "-",
                 l->match_element ? l->match_element : "-",
                 (unsigned long long)l->object.files,
                 (unsigned long long)l->object.metadata_files);
    return 0;
}

static void test_descriptive_search(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    struct diff_rows d = {.n = 0};
    sync_ok(f, REL_A, f->inv_a);
    sync_ok(f, REL_B, f->inv_b);
    assert_int_equal(vl_catalog_desc_set(f->cat, OBJ_A, 3, desc_entry, NULL, &err),
                     VL_OK);
    size_t n = 0;
    assert_int_equal(vl_catalog_desc_count(f->cat, OBJ_A, &n, &err), VL_OK);
    assert_int_equal(n, 3);
    vl_catalog_list_filter all = {0};
    assert_int_equal(vl_catalog_list(f->cat, &all, collect_listing, &d, &err), VL_OK);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.text[0], OBJ_A "|Letters of Ann|-|3+0");
    /* case-insensitive; % and _ are literal */
    vl_catalog_list_filter q = {.text = "SMITH"};
    d.n = 0;
    assert_int_equal(vl_catalog_list(f->cat, &q, collect_listing, &d, &err), VL_OK);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.text[0], OBJ_A "|Letters of Ann|creator|3+0");
    q.text = "0%";
    d.n = 0;
    assert_int_equal(vl_catalog_list(f->cat, &q, collect_listing, &d, &err), VL_OK);
    assert_int_equal(d.n, 1);
    q.text = "1_0";
    d.n = 0;
    assert_int_equal(vl_catalog_list(f->cat, &q, collect_listing, &d, &err), VL_OK);
    assert_int_equal(d.n, 0);
    /* set again replaces */
    assert_int_equal(vl_catalog_desc_set(f->cat, OBJ_A, 1, desc_entry, NULL, &err),
                     VL_OK);
    assert_int_equal(vl_catalog_desc_count(f->cat, OBJ_A, &n, &err), VL_OK);
    assert_int_equal(n, 1);
}

/* ---- PostgreSQL's own ---------------------------------------------------- */

static int collect_line(void *arg, long seq, const char *line,
                        const char *hash, vl_error *err)
{
    msgs *m = arg;
    (void)err;
    if (m->n < 16)
        snprintf(m->lines[m->n], sizeof m->lines[0], "%ld %s %s", seq, line,
                 hash ? hash : "(null)");
    m->n++;
    return VL_OK;
}

static int count_event(void *arg, const vl_event_row *e)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

static void test_events_are_the_log(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    msgs m = {0};
    long seq = -1;
    char *line = NULL;
    int outer = 0, n = 0;
    assert_true(vl_catalog_events_are_log(f->cat));
    assert_int_equal(vl_catalog_event_last(f->cat, &seq, &line, &err), VL_OK);
    assert_int_equal(seq, 0);
    assert_null(line);
    const char *l1 = "{\"id\":\"urn:e:1\",\"object\":\"" OBJ_A "\",\"seq\":1,"
                     "\"type\":\"ingestion\",\"datetime\":\"2026-01-01T00:00:00Z\","
                     "\"version\":1}";
    const char *l2 = "{\"id\":\"urn:e:2\",\"seq\":2,\"type\":\"fixity check\","
                     "\"datetime\":\"2026-01-02T00:00:00Z\",\"outcome\":\"fail\"}";
    const char *l3 = "{\"id\":\"urn:e:3\",\"seq\":3,\"type\":\"creation\","
                     "\"datetime\":\"2026-01-03T00:00:00Z\"}";
    assert_int_equal(vl_catalog_events_lock(f->cat, &outer, &err), VL_OK);
    assert_int_equal(vl_catalog_event_insert(f->cat, 1, l1, "h1", &err), VL_OK);
    assert_int_equal(vl_catalog_event_insert(f->cat, 2, l2, "h2", &err), VL_OK);
    assert_int_equal(vl_catalog_scope_end(f->cat, outer, 1, &err), VL_OK);
    assert_int_equal(vl_catalog_event_last(f->cat, &seq, &line, &err), VL_OK);
    assert_int_equal(seq, 2);
    assert_string_equal(line, l2);
    free(line);
    assert_int_equal(vl_catalog_events_lines(f->cat, collect_line, &m, &err),
                     VL_OK);
    assert_int_equal(m.n, 2);
    assert_non_null(strstr(m.lines[0], "urn:e:1"));
    assert_non_null(strstr(m.lines[1], " h2"));
    /* filters bind NULL and text alike */
    vl_event_filter ef = {0};
    assert_int_equal(vl_catalog_events_query(f->cat, &ef, count_event, &n, &err),
                     VL_OK);
    assert_int_equal(n, 2);
    n = 0;
    ef.outcome = "fail";
    assert_int_equal(vl_catalog_events_query(f->cat, &ef, count_event, &n, &err),
                     VL_OK);
    assert_int_equal(n, 1);
    n = 0;
    ef.outcome = NULL;
    ef.since = "2026-01-02";
    assert_int_equal(vl_catalog_events_query(f->cat, &ef, count_event, &n, &err),
                     VL_OK);
    assert_int_equal(n, 1);
    int exists = 0;
    assert_int_equal(vl_catalog_event_exists(f->cat, "urn:e:2", &exists, &err),
                     VL_OK);
    assert_true(exists);
    /* a rolled back append leaves nothing */
    assert_int_equal(vl_catalog_events_lock(f->cat, &outer, &err), VL_OK);
    assert_int_equal(vl_catalog_event_insert(f->cat, 3, l3, "h3", &err), VL_OK);
    vl_catalog_scope_end(f->cat, outer, 0, &err);
    assert_int_equal(query_int(f, "SELECT count(*) FROM events"), 2);
}

static int got_format(void *arg, const vl_catalog_format *fm)
{
    snprintf(arg, 64, "%s|%s", fm->puid ? fm->puid : "-",
             fm->basis ? fm->basis : "-");
    return 0;
}

static int got_audit_object(void *arg, const vl_audit_object *o)
{
    msgs *m = arg;
    if (m->n < 16)
        snprintf(m->lines[m->n], sizeof m->lines[0], "%s %llu %s", o->id,
                 (unsigned long long)o->bytes,
                 o->last_outcome ? o->last_outcome : "never");
    m->n++;
    return 0;
}

static int got_failure(void *arg, const vl_report_failure *fl)
{
    msgs *m = arg;
    if (m->n < 16)
        snprintf(m->lines[m->n], sizeof m->lines[0], "%s %s %s %s %d",
                 fl->object_id, fl->kind ? fl->kind : "-",
                 fl->path ? fl->path : "-", fl->logical ? fl->logical : "-",
                 fl->current);
    m->n++;
    return 0;
}

static int got_copy(void *arg, const vl_report_copy_row *c)
{
    msgs *m = arg;
    if (m->n < 16)
        snprintf(m->lines[m->n], sizeof m->lines[0], "%s %s %d %s",
                 c->object_id, c->copy, c->version,
                 c->outcome ? c->outcome : "-");
    m->n++;
    return 0;
}

static int got_day(void *arg, const vl_audit_day *d)
{
    msgs *m = arg;
    if (m->n < 16)
        snprintf(m->lines[m->n], sizeof m->lines[0], "%s %llu %llu %llu %.1f",
                 d->day, (unsigned long long)d->objects,
                 (unsigned long long)d->passed, (unsigned long long)d->failed,
                 d->seconds);
    m->n++;
    return 0;
}

static void test_side_tables(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    msgs m = {0};
    char got[64] = "";
    int64_t ns = 0;
    sync_ok(f, REL_A, f->inv_a);
    sync_ok(f, REL_B, f->inv_b);
    /* formats: an upsert replaces */
    vl_catalog_format fm = {.mime = "text/plain", .puid = "x-fmt/111"};
    assert_int_equal(vl_catalog_format_put(f->cat, OBJ_A, "d1", &fm, &err), VL_OK);
    fm.puid = "fmt/1";
    fm.basis = "signature";
    assert_int_equal(vl_catalog_format_put(f->cat, OBJ_A, "d1", &fm, &err), VL_OK);
    assert_int_equal(vl_catalog_format_get(f->cat, OBJ_A, "d1", got_format, got,
                                           &err), VL_OK);
    assert_string_equal(got, "fmt/1|signature");
    /* file dates: put, carry (conflicts kept), get */
    assert_int_equal(vl_catalog_date_put(f->cat, OBJ_A, 1, "data/a.txt",
                                         INT64_C(1700000000123456789), &err), VL_OK);
    assert_int_equal(vl_catalog_dates_carry(f->cat, OBJ_A, 1, 2, &err), VL_OK);
    assert_int_equal(vl_catalog_dates_carry(f->cat, OBJ_A, 1, 2, &err), VL_OK);
    assert_int_equal(vl_catalog_date_get(f->cat, OBJ_A, 2, "data/a.txt", &ns,
                                         &err), VL_OK);
    assert_true(ns == INT64_C(1700000000123456789));
    assert_int_equal(vl_catalog_date_get(f->cat, OBJ_A, 3, "data/a.txt", &ns,
                                         &err), VL_FINDING);
    /* the same through one handle, each statement used again */
    vl_catalog_facts *h = NULL;
    assert_int_equal(vl_catalog_facts_open(f->cat, OBJ_A, &h, &err), VL_OK);
    for (int i = 0; i < 3; i++) {
        got[0] = '\0';
        assert_int_equal(vl_catalog_facts_format(h, "d1", got_format, got, &err), VL_OK);
        assert_string_equal(got, "fmt/1|signature");
        got[0] = '\0';
        assert_int_equal(vl_catalog_facts_format(h, "d2", got_format, got, &err), VL_OK);
        assert_string_equal(got, "");
        ns = 0;
        assert_int_equal(vl_catalog_facts_date(h, 2, "data/a.txt", &ns, &err), VL_OK);
        assert_true(ns == INT64_C(1700000000123456789));
        assert_int_equal(vl_catalog_facts_date(h, 3, "data/a.txt", &ns, &err), VL_FINDING);
    }
    vl_catalog_facts_close(h);
    /* audits, and the report queries over them */
    vl_audit_row a = {.object_id = OBJ_A, .started = "2026-03-01T00:00:00Z",
                      .finished = "2026-03-01T00:00:01Z", .outcome = "fail",
                      .bytes = 30, .files = 4, .seconds = 1.5,
                      .failures_json = "[{\"kind\":\"fixity\",\"path\":"
                                       "\"v1/content/data/b.txt\"}]"};
    assert_int_equal(vl_catalog_audit_insert(f->cat, &a, &err), VL_OK);
    a.object_id = OBJ_B;
    a.outcome = "pass";
    a.failures_json = "not json";
    assert_int_equal(vl_catalog_audit_insert(f->cat, &a, &err), VL_OK);
    assert_int_equal(vl_catalog_audit_objects(f->cat, got_audit_object, &m, &err),
                     VL_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.lines[0], OBJ_A " 30 fail");
    assert_string_equal(m.lines[1], OBJ_B " 10 pass");
    memset(&m, 0, sizeof m);
    assert_int_equal(vl_catalog_audit_days(f->cat, NULL, got_day, &m, &err), VL_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.lines[0], "2026-03-01 2 1 1 3.0");
    uint64_t passed = 0, failed = 0;
    assert_int_equal(vl_catalog_report_last_outcomes(f->cat, &passed, &failed,
                                                     &err), VL_OK);
    assert_true(passed == 1 && failed == 1);
    memset(&m, 0, sizeof m);
    assert_int_equal(vl_catalog_report_failures(f->cat, NULL, got_failure, &m,
                                                &err), VL_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.lines[0],
                        OBJ_A " fixity v1/content/data/b.txt data/b.txt 1");
    vl_report_totals t;
    assert_int_equal(vl_catalog_report_totals(f->cat, &t, &err), VL_OK);
    assert_true(t.objects == 2 && t.versions == 3);
    /* copies */
    assert_int_equal(vl_catalog_replica_put(f->cat, "r1", "/x", "2026", &err),
                     VL_OK);
    assert_int_equal(vl_catalog_replica_put(f->cat, "r1", "/y", "2026", &err),
                     VL_OK);
    assert_int_equal(vl_catalog_copy_replicated(f->cat, "r1", OBJ_A, 2, "ok",
                                                "2026-03-02T00:00:00Z", &err),
                     VL_OK);
    memset(&m, 0, sizeof m);
    assert_int_equal(vl_catalog_report_copies(f->cat, "[\"primary\", \"r1\"]",
                                              got_copy, &m, &err), VL_OK);
    assert_int_equal(m.n, 4);
    assert_string_equal(m.lines[0], OBJ_A " primary 2 fail");
    assert_string_equal(m.lines[1], OBJ_A " r1 2 -");
    assert_string_equal(m.lines[3], OBJ_B " r1 0 -");
}

static void test_urls(void **state)
{
    (void)state;
    vl_error err = {0};
    char *m;
    assert_int_equal(vl_catalog_url_check("postgresql://h/db?user=u", &err), VL_OK);
    assert_int_equal(vl_catalog_url_check("postgres:///db?host=/s", &err), VL_OK);
    assert_int_equal(vl_catalog_url_check("postgresql://u:pw@h/db", &err),
                     VL_EINPUT);
    assert_null(strstr(err.msg, "pw@"));
    assert_int_equal(vl_catalog_url_check("postgresql://h/db?a=1&PassWord=x",
                                          &err), VL_EINPUT);
    assert_int_equal(vl_catalog_url_check("/some/file.sqlite", &err), VL_EINPUT);
    assert_non_null(m = vl_catalog_url_mask("postgresql://u:secret@h/db?password=p2&x=1"));
    assert_string_equal(m, "postgresql://u:***@h/db?password=***&x=1");
    free(m);
    assert_non_null(m = vl_catalog_url_mask("postgresql://u@h/db"));
    assert_string_equal(m, "postgresql://u@h/db");
    free(m);
    assert_non_null(m = vl_catalog_url_with_password("postgresql://h/db", "a b&c"));
    assert_string_equal(m, "postgresql://h/db?password=a%20b%26c");
    free(m);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_schema),
        T(test_open_errors),
        T(test_objects_listing),
        T(test_objects_callback_stops),
        T(test_object_lookup),
        T(test_files),
        T(test_resync_replaces),
        T(test_resync_keeps_foreign_rows),
        T(test_incremental_sync_equals_full),
        T(test_remove_object),
        T(test_clear),
        T(test_transactions),
        T(test_sync_failure_rolls_back),
        T(test_check_agrees),
        T(test_check_tampered_rows),
        T(test_check_inventory_and_storage_changes),
        T(test_check_escapes_names),
        T(test_inventory_diff),
        T(test_descriptive_search),
        T(test_events_are_the_log),
        T(test_side_tables),
        T(test_urls),
    };
    return cmocka_run_group_tests_name("catalog_pg", tests, NULL, NULL);
}
