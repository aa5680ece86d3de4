/* Unit tests for storage/catalog.c: sync an inventory (with real content
 * files so the backend gives sizes), read it back, re-sync, remove, clear,
 * and check the catalog against the inventory after tampering. */
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
#include <sqlite3.h>

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

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    vl_error err = {0};
    assert_non_null(f);
    /* tmpfs when there is one: the big test makes and removes 100,000
     * files, which a disk-backed /tmp can take minutes over. */
    snprintf(f->dir, sizeof f->dir, "%s/vl-catalog-XXXXXX",
             vl_fs_is_dir("/dev/shm") && access("/dev/shm", W_OK) == 0
                 ? "/dev/shm"
                 : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    f->store = vl_path_join(f->dir, "store");
    f->dbpath = vl_path_join(f->dir, "catalog.sqlite");
    assert_int_equal(vl_fs_mkdirs(f->store, &err), VL_OK);
    f->b = vl_backend_fs_new(f->store);
    assert_non_null(f->b);
    assert_int_equal(vl_catalog_open(f->dbpath, &f->cat, &err), VL_OK);
    f->inv_a = build_a(f);
    f->inv_b = build_b(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    vl_catalog_close(f->cat);
    vl_backend_free(f->b);
    vl_inventory_free(f->inv_a);
    vl_inventory_free(f->inv_b);
    vl_fs_rmtree(f->dir, NULL);
    free(f->store);
    free(f->dbpath);
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

static sqlite3 *db(fx *f) { return vl_catalog_db(f->cat); }

static void exec_sql(fx *f, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db(f), sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail_msg("%s: %s", sql, msg);
    }
}

static long long query_int(fx *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v;
    assert_int_equal(sqlite3_prepare_v2(db(f), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *query_text(fx *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *v;
    assert_int_equal(sqlite3_prepare_v2(db(f), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
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
    char *mode = query_text(f, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    assert_int_equal(query_int(f, "PRAGMA user_version"), 2);
    assert_int_equal(query_int(f, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(f, "SELECT count(*) FROM sqlite_master WHERE "
                                  "type='table' AND name IN ('objects',"
                                  "'versions','content','files','fixity')"),
                     5);
    /* Reopening an existing catalog keeps its rows. */
    sync_ok(f, REL_B, f->inv_b);
    assert_int_equal(vl_catalog_open(f->dbpath, &again, &err), VL_OK);
    assert_int_equal(
        sqlite3_exec(vl_catalog_db(again), "SELECT 1 FROM objects", NULL, NULL,
                     NULL),
        SQLITE_OK);
    vl_catalog_close(again);
    assert_int_equal(rows_of(f, OBJ_B), 1 + 1 + 1 + 1);
}

static void test_open_errors(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    vl_catalog *c = NULL;
    char *bad = vl_path_join(f->dir, "no/such/dir/catalog.sqlite");
    assert_int_equal(vl_catalog_open(bad, &c, &err), VL_ESYS);
    assert_null(c);
    assert_non_null(strstr(err.msg, bad));
    free(bad);
    /* A catalog written by a newer vellum is refused, not misread. */
    exec_sql(f, "PRAGMA user_version = 7");
    memset(&err, 0, sizeof err);
    assert_int_equal(vl_catalog_open(f->dbpath, &c, &err), VL_ESYS);
    assert_null(c);
    assert_non_null(strstr(err.msg, "schema version 7"));
    assert_non_null(strstr(err.msg, f->dbpath));
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

typedef struct detailrow {
    char logical[64], content[64], mime[64], puid[32];
    int has_format, has_modified;
    int64_t modified_ns;
} detailrow;

typedef struct detaillist {
    detailrow rows[8];
    int n;
} detaillist;

static int collect_detail(void *arg, const vl_catalog_file_detail *d)
{
    detaillist *l = arg;
    if (l->n >= 8)
        return -1;
    detailrow *r = &l->rows[l->n++];
    copy_str(r->logical, sizeof r->logical, d->file.logical);
    copy_str(r->content, sizeof r->content, d->file.content);
    r->has_format = d->format != NULL;
    copy_str(r->mime, sizeof r->mime, d->format ? d->format->mime : NULL);
    copy_str(r->puid, sizeof r->puid, d->format ? d->format->puid : NULL);
    r->has_modified = d->has_modified;
    r->modified_ns = d->modified_ns;
    return 0;
}

/* The files of a version with their formats and dates, whole or a page at
 * a time (what show and the METS export read). */
static void test_files_detail(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    detaillist l = {0};
    vl_catalog_format fmt = {.mime = "text/plain", .puid = "x-fmt/111"};
    sync_ok(f, REL_A, f->inv_a);
    assert_int_equal(vl_catalog_format_put(f->cat, OBJ_A, digest_of("hello"), &fmt,
                                           &err), VL_OK);
    assert_int_equal(vl_catalog_date_put(f->cat, OBJ_A, 2, "data/c.txt", -5, &err),
                     VL_OK);

    assert_int_equal(vl_catalog_files_detail(f->cat, OBJ_A, 2, NULL, 0,
                                             collect_detail, &l, &err), VL_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.rows[0].logical, "data/a.txt");
    assert_string_equal(l.rows[0].content, "v1/content/data/a.txt");
    assert_true(l.rows[0].has_format);
    assert_string_equal(l.rows[0].mime, "text/plain");
    assert_string_equal(l.rows[0].puid, "x-fmt/111");
    assert_false(l.rows[0].has_modified);
    assert_string_equal(l.rows[1].logical, "data/a2.txt");
    assert_true(l.rows[1].has_format);   /* the same content */
    assert_string_equal(l.rows[2].logical, "data/c.txt");
    assert_false(l.rows[2].has_format);
    assert_true(l.rows[2].has_modified);
    assert_int_equal(l.rows[2].modified_ns, -5);

    /* Pages: the first two, then what sorts after the last one given. */
    memset(&l, 0, sizeof l);
    assert_int_equal(vl_catalog_files_detail(f->cat, OBJ_A, 2, NULL, 2,
                                             collect_detail, &l, &err), VL_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.rows[1].logical, "data/a2.txt");
    memset(&l, 0, sizeof l);
    assert_int_equal(vl_catalog_files_detail(f->cat, OBJ_A, 2, "data/a2.txt", 2,
                                             collect_detail, &l, &err), VL_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.rows[0].logical, "data/c.txt");
    memset(&l, 0, sizeof l);
    assert_int_equal(vl_catalog_files_detail(f->cat, OBJ_A, 2, "data/c.txt", 2,
                                             collect_detail, &l, &err), VL_OK);
    assert_int_equal(l.n, 0);
    /* v1 has its own files; a date of v2 is not v1's */
    assert_int_equal(vl_catalog_files_detail(f->cat, OBJ_A, 1, NULL, 0,
                                             collect_detail, &l, &err), VL_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.rows[1].logical, "data/b.txt");
    assert_false(l.rows[0].has_modified);
}

static int got_format(void *arg, const vl_catalog_format *fm)
{
    snprintf(arg, 64, "%s|%s", fm->puid ? fm->puid : "-",
             fm->basis ? fm->basis : "-");
    return 0;
}

/* Formats and dates looked up a file at a time through one handle (a
 * staged head's kept files, a METS read back): each statement is used
 * again after a hit and after a miss.  The side tables exist from the
 * catalog's opening, before anything is written to them. */
static void test_facts(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    vl_catalog_facts *h = NULL;
    char got[64];
    int64_t ns = 0;
    assert_int_equal(query_int(f, "SELECT count(*) FROM sqlite_master WHERE type = "
                                  "'table' AND name IN ('formats', 'format_basis', "
                                  "'file_dates', 'audits', 'events')"), 5);
    sync_ok(f, REL_A, f->inv_a);
    vl_catalog_format fm = {.mime = "text/plain", .puid = "fmt/1", .basis = "signature"};
    assert_int_equal(vl_catalog_format_put(f->cat, OBJ_A, "d1", &fm, &err), VL_OK);
    assert_int_equal(vl_catalog_date_put(f->cat, OBJ_A, 2, "data/a.txt", 42, &err), VL_OK);
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
        assert_true(ns == 42);
        assert_int_equal(vl_catalog_facts_date(h, 1, "data/a.txt", &ns, &err), VL_FINDING);
    }
    /* records through the handle, each statement used again: an upsert
     * replaces, and a format with no basis keeps the basis row it had */
    vl_catalog_format plain = {.mime = "text/plain", .puid = "fmt/2"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(vl_catalog_facts_put_format(h, "d3", &fm, &err), VL_OK);
        assert_int_equal(vl_catalog_facts_put_format(h, "d3", &plain, &err), VL_OK);
        assert_int_equal(vl_catalog_facts_put_date(h, 3, "data/n.txt", 7 + i, &err), VL_OK);
    }
    got[0] = '\0';
    assert_int_equal(vl_catalog_facts_format(h, "d3", got_format, got, &err), VL_OK);
    assert_string_equal(got, "fmt/2|signature");
    assert_int_equal(vl_catalog_facts_date(h, 3, "data/n.txt", &ns, &err), VL_OK);
    assert_true(ns == 8);
    assert_int_equal(query_int(f, "SELECT count(*) FROM file_dates WHERE version = 3"), 1);
    vl_catalog_facts_close(h);
    /* another object's handle sees none of them */
    assert_int_equal(vl_catalog_facts_open(f->cat, OBJ_B, &h, &err), VL_OK);
    got[0] = '\0';
    assert_int_equal(vl_catalog_facts_format(h, "d1", got_format, got, &err), VL_OK);
    assert_string_equal(got, "");
    assert_int_equal(vl_catalog_facts_date(h, 2, "data/a.txt", &ns, &err), VL_FINDING);
    vl_catalog_facts_close(h);
    vl_catalog_facts_close(NULL);
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
    exec_sql(f, "CREATE TABLE other_module (object_id TEXT REFERENCES objects(id) "
                "ON DELETE CASCADE, what TEXT)");
    exec_sql(f, "INSERT INTO other_module VALUES ('" OBJ_A "', 'ingest')");
    sync_ok(f, REL_A, f->inv_a);
    assert_int_equal(query_int(f, "SELECT count(*) FROM other_module"), 1);
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
    /* (the side tables exist from the catalog's opening) */
    exec_sql(f, "INSERT INTO formats (object_id, digest, puid) VALUES ('"
                OBJ_A "', 'x', 'fmt/1')");
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
    exec_sql(f, "CREATE TEMP TRIGGER boom BEFORE INSERT ON fixity BEGIN "
                "SELECT RAISE(ABORT, 'boom'); END");
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
    exec_sql(f, "DROP TRIGGER boom");
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
    /* foreign_keys off so deleting the objects row leaves the others. */
    exec_sql(f, "PRAGMA foreign_keys = OFF");
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
    exec_sql(f, "INSERT INTO files VALUES ('" OBJ_A "', 1, 'bad' || char(10) "
                "|| 'name', 'ab')");
    assert_int_equal(check(f, REL_A, f->inv_a, &m), VL_FINDING);
    assert_int_equal(m.n, 1);
    assert_null(strchr(m.lines[0], '\n'));
    assert_has_line(&m, "catalog says v1 has bad\\x0aname");
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_sync_100k(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    objlist l = {0};
    msgs m;
#ifdef __SANITIZE_ADDRESS__
    /* the plain build runs the full size (a quadratic plan shows there);
     * under the sanitizers a fifth of it walks the same code */
    const int n = 20000;
#else
    const int n = 100000;
#endif
    vl_inventory *inv = vl_inventory_new("info:big", VL_SHA512);
    assert_non_null(inv);
    assert_int_equal(vl_inventory_version_add(inv, "2026-01-01T00:00:00Z",
                                              "big", NULL, NULL),
                     1);
    for (int i = 0; i < n; i++) {
        char path[64], logical[48], data[32], d[VL_DIGEST_HEX_MAX];
        snprintf(logical, sizeof logical, "d%03d/f%06d", i / 1000, i);
        snprintf(path, sizeof path, "v1/content/%s", logical);
        snprintf(data, sizeof data, "%d", i);
        add_content(f, inv, "big", path, data, d);
        assert_int_equal(vl_inventory_state_add(inv, 1, d, logical), 0);
    }
    uint64_t want_bytes = 0;
    for (int i = 0; i < n; i++) {
        char data[32];
        want_bytes += (uint64_t)snprintf(data, sizeof data, "%d", i);
    }
    double t0 = now_sec();
    sync_ok(f, "big", inv);
    double t1 = now_sec();
    assert_int_equal(vl_catalog_get_object(f->cat, "info:big", collect_object, &l,
                                       &err),
                     VL_OK);
    double t2 = now_sec();
    assert_int_equal(l.rows[0].files, n);
    assert_int_equal(l.rows[0].bytes, want_bytes);
    assert_int_equal(query_int(f, "SELECT count(*) FROM content"), n);
    /* Re-sync replaces rather than adds. */
    sync_ok(f, "big", inv);
    double t3 = now_sec();
    assert_int_equal(query_int(f, "SELECT count(*) FROM files"), n);
    assert_int_equal(check(f, "big", inv, &m), VL_OK);
    double t4 = now_sec();
    /* Times are reported, never asserted: a test must give the same result
     * on a loaded machine (typical is ~2 s; a quadratic plan takes hours,
     * which the suite's own duration shows). */
    print_message("# %d files: sync %.2fs, object() %.2fs, re-sync %.2fs, "
                  "check %.2fs\n",
                  n, t1 - t0, t2 - t1, t3 - t2, t4 - t3);
    vl_inventory_free(inv);
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

/* Renames pair old and new paths of one digest by rank in path order (the
 * first new path takes the first old one), beside changes, additions and
 * removals, every row in path order; both ways; a callback's stop. */
static int stop_at_two(void *arg, const vl_diff_entry *e)
{
    struct diff_rows *d = arg;
    on_diff(arg, e);
    return d->n == 2;
}

static void test_inventory_diff_renames(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory *inv = vl_inventory_new("urn:diff", VL_SHA512);
    assert_non_null(inv);
    static const char *const v1[][2] = {
        {"d1", "x1.txt"}, {"d1", "x2.txt"}, {"d2", "y.txt"}, {"d3", "m.txt"},
        {"d4", "gone.txt"}, {"d5", "keep.txt"}};
    static const char *const v2[][2] = {
        {"d1", "n1.txt"}, {"d1", "n2.txt"}, {"d1", "n3.txt"}, {"d6", "m.txt"},
        {"d5", "keep.txt"}, {"d2", "y2.txt"}, {"d7", "new.txt"}};
    assert_int_equal(vl_inventory_version_add(inv, "2026-01-01T00:00:00Z", NULL, NULL,
                                              NULL), 1);
    for (size_t i = 0; i < sizeof v1 / sizeof *v1; i++)
        assert_int_equal(vl_inventory_state_add(inv, 1, v1[i][0], v1[i][1]), 0);
    assert_int_equal(vl_inventory_version_add(inv, "2026-01-02T00:00:00Z", NULL, NULL,
                                              NULL), 2);
    for (size_t i = 0; i < sizeof v2 / sizeof *v2; i++)
        assert_int_equal(vl_inventory_state_add(inv, 2, v2[i][0], v2[i][1]), 0);

    struct diff_rows d = {.n = 0};
    assert_int_equal(vl_inventory_diff(inv, 1, 2, on_diff, &d, &err), VL_OK);
    static const char *const want[] = {
        "D gone.txt", "M m.txt", "R x1.txt -> n1.txt", "R x2.txt -> n2.txt",
        "A n3.txt", "A new.txt", "R y.txt -> y2.txt"};
    assert_int_equal(d.n, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(d.text[i], want[i]);

    d.n = 0;
    assert_int_equal(vl_inventory_diff(inv, 2, 1, on_diff, &d, &err), VL_OK);
    static const char *const back[] = {
        "A gone.txt", "M m.txt", "D n3.txt", "D new.txt", "R n1.txt -> x1.txt",
        "R n2.txt -> x2.txt", "R y2.txt -> y.txt"};
    assert_int_equal(d.n, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(d.text[i], back[i]);

    d.n = 0;
    assert_int_equal(vl_inventory_diff(inv, 1, 2, stop_at_two, &d, &err), VL_OK);
    assert_int_equal(d.n, 2);
    assert_int_equal(vl_inventory_diff(inv, 3, 1, on_diff, &d, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "v3"));
    vl_inventory_free(inv);
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
        T(test_files_detail),
        T(test_resync_replaces),
        T(test_resync_keeps_foreign_rows),
        T(test_facts),
        T(test_incremental_sync_equals_full),
        T(test_remove_object),
        T(test_clear),
        T(test_transactions),
        T(test_sync_failure_rolls_back),
        T(test_check_agrees),
        T(test_check_tampered_rows),
        T(test_check_inventory_and_storage_changes),
        T(test_check_escapes_names),
        T(test_sync_100k),
        T(test_inventory_diff),
        cmocka_unit_test(test_inventory_diff_renames),
        T(test_descriptive_search),
    };
    return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
