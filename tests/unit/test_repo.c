/* Unit tests for storage/: inventories, the 0004 layout, and repository
 * operations through the library, with the catalog compared against the
 * store after every kind of operation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A white-box test: it uses storage/'s private catalog_private.h, inventory_private.h, layout_private.h and repo_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_STORAGE_INTERNAL
#include "catalog_private.h"
#include "inventory_private.h"
#include "layout_private.h"
#include "name_sort_private.h"
#include "repo_internal.h"
#include "unit_files.h"
#include "unit_repo.h"
#include "vl_ingest.h"
#include "vl_storage.h"

/* ---- helpers ----------------------------------------------------------- */

struct mismatch {
    int count;
    char first[512];
};

static void on_mismatch(void *arg, const char *msg)
{
    struct mismatch *m = arg;
    if (!m->count++)
        snprintf(m->first, sizeof m->first, "%s", msg);
}

/* The catalog agrees with the store for every object in the catalog and
 * every object in the store is in the catalog. */
struct agree_ctx {
    vl_repo *r;
    size_t n;
};

static int check_one(void *arg, const vl_catalog_object *o)
{
    struct agree_ctx *c = arg;
    vl_inventory *inv = NULL;
    vl_error err = {0};
    struct mismatch m = {0};
    assert_int_equal(vl_repo_load_inventory(c->r, o->id, &inv, &err), VL_OK);
    int rc = vl_catalog_check_object(vl_repo_catalog(c->r), vl_repo_backend(c->r),
                                     o->path, inv, on_mismatch, &m, &err);
    if (rc != VL_OK)
        fail_msg("catalog disagrees with store for %s: %s", o->id, m.first);
    vl_inventory_free(inv);
    c->n++;
    return 0;
}

static void assert_catalog_agrees(vl_repo *r, size_t expect_objects)
{
    struct agree_ctx c = {r, 0};
    vl_error err = {0};
    assert_int_equal(vl_catalog_objects(vl_repo_catalog(r), check_one, &c, &err), VL_OK);
    assert_int_equal(c.n, expect_objects);
}

static vl_repo *new_repo(char **dir_out, vl_digest_alg alg, unsigned fixity)
{
    return unit_repo_new(dir_out, "repo", alg, fixity);
}

static int ingest(vl_repo *r, const char *src, const char *id, int merge,
                  vl_ingest_result *res)
{
    vl_ingest_options o = {0};
    vl_error err = {0};
    o.id = id;
    o.merge = merge;
    o.message = "test";
    o.user_name = "Tester";
    o.user_address = "mailto:t@example.org";
    const char *srcs[] = {src};
    int rc = vl_ingest(r, srcs, 1, &o, res, &err);
    if (rc != VL_OK && rc != VL_EINPUT)
        fail_msg("ingest failed: %s", err.msg);
    return rc;
}

/* ---- layout ------------------------------------------------------------ */

static void test_layout_examples(void **state)
{
    (void)state;
    vl_layout l;
    vl_error err = {0};
    vl_layout_default(&l);
    char *p = vl_layout_object_path(&l, "object-01");
    assert_string_equal(p, "3c0/ff4/240/3c0ff4240c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4");
    free(p);
    p = vl_layout_object_path(&l, "..hor/rib:le-$id");
    assert_string_equal(p, "487/326/d8c/487326d8c2a3c0b885e23da1469b4d6671fd4e76978924b4443e9e3c316cda6d");
    free(p);
    const char *ex2 = "{\"extensionName\":\"0004-hashed-n-tuple-storage-layout\","
                      "\"digestAlgorithm\":\"md5\",\"tupleSize\":2,\"numberOfTuples\":15,"
                      "\"shortObjectRoot\":true}";
    assert_int_equal(vl_layout_parse(ex2, strlen(ex2), &l, &err), VL_OK);
    p = vl_layout_object_path(&l, "object-01");
    assert_string_equal(p, "ff/75/53/44/92/48/5e/ab/b3/9f/86/35/67/28/88/4e");
    free(p);
    const char *ex3 = "{\"extensionName\":\"0004-hashed-n-tuple-storage-layout\","
                      "\"tupleSize\":0,\"numberOfTuples\":0}";
    assert_int_equal(vl_layout_parse(ex3, strlen(ex3), &l, &err), VL_OK);
    p = vl_layout_object_path(&l, "object-01");
    assert_string_equal(p, "3c0ff4240c1e116dba14c7627f2319b58aa3d77606d0d90dfc6161608ac987d4");
    free(p);
    const char *bad = "{\"extensionName\":\"0004-hashed-n-tuple-storage-layout\","
                      "\"tupleSize\":0,\"numberOfTuples\":2}";
    assert_int_equal(vl_layout_parse(bad, strlen(bad), &l, &err), VL_EINPUT);
    const char *full = "{\"extensionName\":\"0004-hashed-n-tuple-storage-layout\","
                       "\"digestAlgorithm\":\"md5\",\"tupleSize\":4,\"numberOfTuples\":8,"
                       "\"shortObjectRoot\":true}";
    assert_int_equal(vl_layout_parse(full, strlen(full), &l, &err), VL_EINPUT);
    char *json = NULL;
    vl_layout_default(&l);
    json = vl_layout_config_json(&l);
    vl_layout back;
    assert_int_equal(vl_layout_parse(json, strlen(json), &back, &err), VL_OK);
    assert_int_equal(back.tuple_size, 3);
    assert_int_equal(back.alg, VL_SHA256);
    free(json);
}

/* ---- inventory --------------------------------------------------------- */

static int buf_sink(const char *data, size_t len, void *arg)
{
    return vl_buf_append(arg, data, len, NULL) == VL_OK ? 0 : -1;
}

/* Fails on its first piece. */
static int failing_sink(const char *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    return ++*(int *)arg == 1 ? -1 : 0;
}

static void test_inventory_build_and_round_trip(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory *inv = vl_inventory_new("urn:x", VL_SHA512);
    assert_non_null(inv);
    assert_int_equal(vl_inventory_head(inv), 0);
    assert_int_equal(vl_inventory_version_add(inv, "2026-01-01T00:00:00Z", "m",
                                              "n", "mailto:a@b"), 1);
    assert_int_equal(vl_inventory_manifest_add(inv, "aa", "v1/content/b"), 0);
    assert_int_equal(vl_inventory_manifest_add(inv, "aa", "v1/content/a"), 0);
    assert_int_equal(vl_inventory_state_add(inv, 1, "aa", "z"), 0);
    assert_int_equal(vl_inventory_state_add(inv, 1, "aa", "y"), 0);
    assert_int_equal(vl_inventory_fixity_add(inv, VL_MD5, "mm", "v1/content/a"), 0);
    assert_int_equal(vl_inventory_fixity_add(inv, VL_MD5, "mm", "v1/content/a"), 0);
    size_t len;
    char *text = vl_inventory_serialize(inv, &len);
    assert_non_null(text);
    assert_int_equal(text[len - 1], '\n');
    /* path arrays come out sorted, whatever order they were added in */
    assert_non_null(strstr(text, "\"v1/content/a\",\n      \"v1/content/b\""));
    vl_inventory *back = NULL;
    assert_int_equal(vl_inventory_parse(text, len, &back, &err), VL_OK);
    assert_string_equal(vl_inventory_id(back), "urn:x");
    assert_int_equal(vl_inventory_head(back), 1);
    assert_string_equal(vl_inventory_lookup(back, 1, "y"), "aa");
    assert_null(vl_inventory_lookup(back, 1, "x"));
    assert_string_equal(vl_inventory_content_path(back, "aa"), "v1/content/a");
    assert_string_equal(vl_inventory_fixity(back, VL_MD5, "v1/content/a"), "mm");
    vl_version_info vi;
    assert_int_equal(vl_inventory_version_info(back, 1, &vi), 0);
    assert_string_equal(vi.user_address, "mailto:a@b");
    assert_int_equal(vi.file_count, 2);
    char *again = vl_inventory_serialize(back, NULL);
    assert_string_equal(text, again);  /* byte-stable */
    free(again);
    /* the streamed form is the same bytes, in pieces; a sink that fails
     * stops it with -1 */
    vl_buf streamed;
    vl_buf_init(&streamed, 0);
    assert_int_equal(vl_inventory_dump(back, buf_sink, &streamed), 0);
    assert_int_equal(streamed.len, len);
    assert_memory_equal(streamed.data, text, len);
    vl_buf_release(&streamed);
    int calls = 0;
    assert_int_equal(vl_inventory_dump(back, failing_sink, &calls), -1);
    assert_int_equal(calls, 1);
    free(text);
    /* a second version equal in state, then truncated away */
    assert_int_equal(vl_inventory_version_add(inv, "2026-01-02T00:00:00Z", NULL, NULL, NULL), 2);
    vl_inventory_state_add(inv, 2, "aa", "y");
    vl_inventory_state_add(inv, 2, "aa", "z");
    assert_true(vl_inventory_states_equal(inv, 1, 2));
    vl_inventory_manifest_add(inv, "bb", "v2/content/q");
    vl_inventory_state_add(inv, 2, "bb", "q");
    assert_false(vl_inventory_states_equal(inv, 1, 2));
    vl_inventory_truncate(inv, 1);
    assert_int_equal(vl_inventory_head(inv), 1);
    assert_null(vl_inventory_content_path(inv, "bb"));
    vl_inventory_free(back);
    vl_inventory_free(inv);
}

static void test_inventory_parse_rejects(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory *inv = NULL;
    const char *cases[] = {
        "not json",
        "{\"id\":\"x\",\"id\":\"y\"}",
        "{\"id\":\"x\",\"digestAlgorithm\":\"md5\",\"head\":\"v1\",\"manifest\":{},"
        "\"versions\":{\"v1\":{\"state\":{}}}}",
        "{\"id\":\"x\",\"digestAlgorithm\":\"sha512\",\"head\":\"v2\",\"manifest\":{},"
        "\"versions\":{\"v1\":{\"state\":{}}}}",
        "{\"id\":\"x\",\"digestAlgorithm\":\"sha512\",\"head\":\"v1\",\"manifest\":{\"a\":\"p\"},"
        "\"versions\":{\"v1\":{\"state\":{}}}}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(vl_inventory_parse(cases[i], strlen(cases[i]), &inv, &err),
                         VL_EINPUT);
        assert_true(err.msg[0] != '\0');
    }
    const char *padded =
        "{\"id\":\"x\",\"digestAlgorithm\":\"sha256\",\"head\":\"v002\",\"manifest\":{},"
        "\"versions\":{\"v001\":{\"state\":{}},\"v002\":{\"state\":{}}}}";
    assert_int_equal(vl_inventory_parse(padded, strlen(padded), &inv, &err), VL_OK);
    char name[16];
    vl_inventory_version_name(inv, 3, name);
    assert_string_equal(name, "v003");
    assert_int_equal(vl_inventory_digest_alg(inv), VL_SHA256);
    vl_inventory_free(inv);
}

/* ---- repository operations with catalog agreement ---------------------- */

static void test_operations_keep_catalog_and_store_in_agreement(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base, VL_SHA512, VL_DIGEST_BIT(VL_MD5));
    char *src = vl_path_join(base, "src");
    char *more = vl_path_join(base, "more");
    vl_ingest_result res;
    vl_error err = {0};
    size_t n = 0;

    put(src, "a.txt", "alpha\n");
    put(src, "dir/b.txt", "beta\n");
    put(src, "dir/dup.txt", "alpha\n");
    assert_int_equal(ingest(r, src, "urn:op:1", 0, &res), VL_OK);
    assert_int_equal(res.version, 1);
    assert_catalog_agrees(r, 1);

    /* unchanged: no version */
    assert_int_equal(ingest(r, src, "urn:op:1", 0, &res), VL_OK);
    assert_int_equal(res.version, 0);
    assert_catalog_agrees(r, 1);

    /* new version */
    put(src, "c.txt", "gamma\n");
    assert_int_equal(ingest(r, src, "urn:op:1", 0, &res), VL_OK);
    assert_int_equal(res.version, 2);
    assert_catalog_agrees(r, 1);

    /* merge */
    put(more, "a.txt", "replaced\n");
    assert_int_equal(ingest(r, more, "urn:op:1", 1, &res), VL_OK);
    assert_int_equal(res.version, 3);
    assert_catalog_agrees(r, 1);

    /* a merge that would make a path both file and folder is refused */
    char *clash = vl_path_join(base, "clash");
    put(clash, "a.txt/inner", "x\n");
    assert_int_equal(ingest(r, clash, "urn:op:1", 1, &res), VL_EINPUT);
    free(clash);
    assert_catalog_agrees(r, 1);

    /* a second object (minted id) */
    assert_int_equal(ingest(r, more, NULL, 0, &res), VL_OK);
    assert_int_equal(strncmp(res.id, "urn:uuid:", 9), 0);
    assert_catalog_agrees(r, 2);

    /* reindex from the store alone */
    assert_int_equal(vl_repo_reindex(r, &n, &err), VL_OK);
    assert_int_equal(n, 2);
    assert_catalog_agrees(r, 2);

    /* recover with nothing to do */
    vl_recover_counts rec = {0};
    assert_int_equal(vl_repo_recover(r, &rec, &err), VL_OK);
    assert_int_equal(rec.repaired, 0);
    assert_int_equal(rec.temporaries, 0);
    assert_catalog_agrees(r, 2);

    /* the md5 fixity block holds the new content */
    vl_inventory *inv = NULL;
    assert_int_equal(vl_repo_load_inventory(r, "urn:op:1", &inv, &err), VL_OK);
    char md5[VL_DIGEST_HEX_MAX];
    vl_digest_buffer(VL_MD5, "gamma\n", 6, md5);
    assert_string_equal(vl_inventory_fixity(inv, VL_MD5, "v2/content/data/c.txt"), md5);
    /* v3 state: a.txt replaced, b, dup and c kept */
    assert_non_null(vl_inventory_lookup(inv, 3, "data/c.txt"));
    assert_non_null(vl_inventory_lookup(inv, 3, "data/dir/dup.txt"));
    char sha[VL_DIGEST_HEX_MAX];
    vl_digest_buffer(VL_SHA512, "replaced\n", 9, sha);
    assert_string_equal(vl_inventory_lookup(inv, 3, "data/a.txt"), sha);
    vl_inventory_free(inv);

    /* the catalog check notices a disagreement */
    assert_int_equal(vl_catalog_remove_object(vl_repo_catalog(r), "urn:op:1", &err), VL_OK);
    struct agree_ctx c = {r, 0};
    assert_int_equal(vl_catalog_objects(vl_repo_catalog(r), check_one, &c, &err), VL_OK);
    assert_int_equal(c.n, 1);

    vl_repo_close(r);
    vl_fs_rmtree(base, &err);
    free(base);
    free(src);
    free(more);
}

static void test_lock_excludes_a_second_holder(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base, VL_SHA256, 0);
    vl_lock *a = NULL, *b = NULL;
    vl_error err = {0};
    assert_int_equal(vl_lock_object(r, "urn:l", 0, &a, &err), VL_OK);
    /* flock locks belong to open file descriptions: a second open conflicts */
    assert_int_equal(vl_lock_object(r, "urn:l", 0, &b, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "locked"));
    assert_int_equal(err.reason, VL_REASON_LOCKED);
    /* After a wait the message names the object; the reason survives. */
    assert_int_equal(vl_lock_object(r, "urn:l", 1, &b, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "object \"urn:l\" is locked"));
    assert_int_equal(err.reason, VL_REASON_LOCKED);
    vl_lock_release(a);
    assert_int_equal(vl_lock_object(r, "urn:l", 0, &b, &err), VL_OK);
    vl_lock_release(b);
    vl_repo_close(r);
    vl_fs_rmtree(base, &err);
    free(base);
}

static void test_get_verifies_and_leaves_nothing_on_mismatch(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base, VL_SHA512, 0);
    char *src = vl_path_join(base, "src");
    char *out = vl_path_join(base, "out");
    vl_ingest_result res;
    vl_error err = {0};
    put(src, "x/y.txt", "payload\n");
    assert_int_equal(ingest(r, src, "urn:g", 0, &res), VL_OK);
    assert_int_equal(vl_repo_get(r, "urn:g", 0, out, &err), VL_OK);
    char *got = vl_path_join(out, "data/x/y.txt");
    vl_buf b;
    assert_int_equal(vl_fs_read_file(got, 0, &b, &err), VL_OK);
    assert_string_equal(b.data, "payload\n");
    vl_buf_release(&b);
    free(got);
    /* corrupt the stored copy */
    char *rel = vl_repo_object_path(r, "urn:g");
    char *stored = vl_asprintf("%s/store/%s/v1/content/data/x/y.txt", vl_repo_dir(r), rel);
    FILE *f = fopen(stored, "w");
    assert_non_null(f);
    fputs("PAYLOAD\n", f);
    fclose(f);
    char *out2 = vl_path_join(base, "out2");
    assert_int_equal(vl_repo_get(r, "urn:g", 0, out2, &err), VL_FINDING);
    assert_non_null(strstr(err.msg, "data/x/y.txt"));
    assert_false(vl_fs_exists(out2));
    assert_int_equal(vl_repo_get(r, "urn:g", 2, out2, &err), VL_EINPUT);
    free(rel);
    free(stored);
    free(out2);
    vl_repo_close(r);
    vl_fs_rmtree(base, &err);
    free(base);
    free(src);
    free(out);
}

/* Notes from vl_repo_get_opts / vl_repo_cat, kept for checking. */
struct get_notes {
    int n, from_replica, left_out;
    char last_source[64], last_logical[256];
};

static void on_get_note(void *arg, const vl_get_file_note *n)
{
    struct get_notes *g = arg;
    g->n++;
    if (n->source)
        g->from_replica++;
    else
        g->left_out++;
    snprintf(g->last_source, sizeof g->last_source, "%s", n->source ? n->source : "");
    snprintf(g->last_logical, sizeof g->last_logical, "%s", n->logical);
    assert_non_null(n->problem);
}

static void overwrite(const char *path, const char *text)
{
    assert_int_equal(chmod(path, 0644), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_file_text(const char *path, const char *text)
{
    vl_buf b;
    vl_error err = {0};
    assert_int_equal(vl_fs_read_file(path, 0, &b, &err), VL_OK);
    assert_string_equal(b.data ? b.data : "", text);
    vl_buf_release(&b);
}

static void test_get_and_cat_read_damaged_files_from_a_replica(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base, VL_SHA512, 0);
    char *src = vl_path_join(base, "src");
    char *rep = vl_path_join(base, "replica");
    vl_ingest_result res;
    vl_error err = {0};
    put(src, "a.txt", "alpha\n");
    put(src, "d/b.txt", "bravo\n");
    assert_int_equal(ingest(r, src, "urn:rg", 0, &res), VL_OK);
    /* a replica: a copy of the storage root, registered as one */
    char *cmd = vl_asprintf("cp -a '%s/store' '%s'", vl_repo_dir(r), rep);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(vl_replica_add(r, "r1", rep, &err), VL_OK);
    char *rel = vl_repo_object_path(r, "urn:rg");
    char *stored = vl_asprintf("%s/store/%s/v1/content/data/d/b.txt", vl_repo_dir(r), rel);
    char *replica_copy = vl_asprintf("%s/%s/v1/content/data/d/b.txt", rep, rel);
    overwrite(stored, "BRAVO\n");

    /* the whole state: b.txt from the replica, and said so */
    struct get_notes g = {0};
    vl_get_options o = {0};
    o.on_file = on_get_note;
    o.arg = &g;
    char *out = vl_path_join(base, "out");
    char *got = vl_path_join(out, "data/d/b.txt");
    assert_int_equal(vl_repo_get_opts(r, "urn:rg", 0, out, &o, &err), VL_OK);
    assert_file_text(got, "bravo\n");
    assert_int_equal(g.from_replica, 1);
    assert_string_equal(g.last_source, "r1");
    assert_string_equal(g.last_logical, "data/d/b.txt");

    /* cat: the same, to a descriptor */
    char *catp = vl_path_join(base, "cat.out");
    int fd = open(catp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    memset(&g, 0, sizeof g);
    assert_int_equal(vl_repo_cat(r, "urn:rg", 0, "data/d/b.txt", fd, on_get_note, &g,
                                 &err), VL_OK);
    close(fd);
    assert_file_text(catp, "bravo\n");
    assert_int_equal(g.from_replica, 1);

    /* one file */
    char *one = vl_path_join(base, "one.txt");
    o.file = "data/d/b.txt";
    assert_int_equal(vl_repo_get_opts(r, "urn:rg", 0, one, &o, &err), VL_OK);
    assert_file_text(one, "bravo\n");
    char *none = vl_path_join(base, "none");
    o.file = "data/nope";
    assert_int_equal(vl_repo_get_opts(r, "urn:rg", 0, none, &o, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "has no file data/nope"));
    assert_false(vl_fs_exists(none));
    o.file = NULL;

    /* damaged in every copy: nothing at dest, or the rest with skip_damaged */
    overwrite(replica_copy, "");
    char *out2 = vl_path_join(base, "out2");
    assert_int_equal(vl_repo_get(r, "urn:rg", 0, out2, &err), VL_FINDING);
    assert_non_null(strstr(err.msg, "replica r1"));
    assert_false(vl_fs_exists(out2));
    memset(&g, 0, sizeof g);
    o.skip_damaged = 1;
    assert_int_equal(vl_repo_get_opts(r, "urn:rg", 0, out2, &o, &err), VL_FINDING);
    assert_int_equal(g.left_out, 1);
    assert_string_equal(g.last_logical, "data/d/b.txt");
    char *kept = vl_path_join(out2, "data/a.txt");
    char *lost = vl_path_join(out2, "data/d");
    assert_file_text(kept, "alpha\n");
    assert_false(vl_fs_exists(lost));   /* no empty folder left for it */
    fd = open(catp, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(vl_repo_cat(r, "urn:rg", 0, "data/d/b.txt", fd, NULL, NULL,
                                 &err), VL_FINDING);
    close(fd);
    assert_file_text(catp, "");

    free(kept);
    free(lost);
    free(out2);
    free(none);
    free(one);
    free(catp);
    free(got);
    free(out);
    free(replica_copy);
    free(stored);
    free(rel);
    free(cmd);
    vl_repo_close(r);
    vl_fs_rmtree(base, &err);
    free(base);
    free(src);
    free(rep);
}

/* ---- modes ------------------------------------------------------------- */

static mode_t mode_of(const char *dir, const char *name)
{
    char *p = vl_path_join(dir, name);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    free(p);
    return st.st_mode & 07777;
}

static mode_t umask_now(void)
{
    mode_t m = umask(0);
    umask(m);
    return m;
}

/* Under each setting and caller umask: the catalog and the -wal and -shm
 * files SQLite makes while the repository is open get the files' mode; the
 * umask is narrowed while open (never widened) and given back on close. */
static void test_shared_modes_catalog_and_umask(void **state)
{
    static const struct {
        vl_shared shared;
        mode_t caller, open_umask, folders, files;
    } cases[] = {
        {VL_SHARED_PRIVATE, 022, 027, 0750, 0640},
        {VL_SHARED_PRIVATE, 077, 077, 0700, 0600},
        {VL_SHARED_GROUP, 002, 007, 02770, 0660},
        {VL_SHARED_GROUP, 022, 027, 02750, 0640},
        {VL_SHARED_WORLD, 002, 022, 0755, 0644},
    };
    mode_t before = umask(022);
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *base = tmpdir();
        char *dir = vl_path_join(base, "repo");
        vl_repo_options o = {VL_SHA512, 0, cases[i].shared, NULL, NULL, 0};
        vl_error err = {0};
        vl_repo *r = NULL;
        umask(cases[i].caller);
        assert_int_equal(vl_repo_init(dir, &o, &err), VL_OK);
        assert_int_equal(umask_now(), cases[i].caller);
        assert_int_equal(vl_repo_open(dir, &r, &err), VL_OK);
        assert_int_equal(vl_repo_shared(r), cases[i].shared);
        assert_int_equal(umask_now(), cases[i].open_umask);
        /* A write through the catalog: its -wal and -shm exist now. */
        assert_int_equal(vl_repo_reindex(r, NULL, &err), VL_OK);
        assert_int_equal(mode_of(dir, ""), cases[i].folders);
        assert_int_equal(mode_of(dir, "staging"), cases[i].folders);
        assert_int_equal(mode_of(dir, "catalog.sqlite"), cases[i].files);
        assert_int_equal(mode_of(dir, "catalog.sqlite-wal"), cases[i].files);
        assert_int_equal(mode_of(dir, "catalog.sqlite-shm"), cases[i].files);
        assert_int_equal(mode_of(dir, "vellum.conf"), cases[i].files);
        assert_int_equal(mode_of(dir, "store/0=ocfl_1.1"), cases[i].files & 0444);
        vl_shared_modes m;
        vl_shared_mode_bits(cases[i].shared, 1, &m);
        assert_int_equal(m.folders, cases[i].folders);
        assert_int_equal(m.files, cases[i].files);
        assert_int_equal(m.committed, cases[i].files & 0444);
        vl_repo_close(r);
        assert_int_equal(umask_now(), cases[i].caller);
        vl_fs_rmtree(base, &err);
        free(dir);
        free(base);
    }
    umask(before);
}

/* ---- reserve, unfinished work, read-only opens ------------------------- */

static void test_reserve_settings(void **state)
{
    (void)state;
    uint64_t v = 0;
    const uint64_t fs = 25165824;   /* 24 MiB */
    assert_int_equal(vl_reserve_parse("1%", fs, &v), 0);
    assert_int_equal(v, 251658);
    assert_int_equal(vl_reserve_parse("0.5%", 1000000, &v), 0);
    assert_int_equal(v, 5000);
    assert_int_equal(vl_reserve_parse("100%", fs, &v), 0);
    assert_int_equal(v, fs);
    assert_int_equal(vl_reserve_parse("64M", fs, &v), 0);
    assert_int_equal(v, 64u << 20);
    assert_int_equal(vl_reserve_parse("0", fs, &v), 0);
    assert_int_equal(v, 0);
    const char *bad[] = {"", "%", "101%", "-1%", "1.%", ".5%", "1.2.3%", "1e2%",
                         " 1%", "1 %", "lots", "12Q", "-5M", NULL};
    for (int i = 0; bad[i]; i++)
        if (vl_reserve_parse(bad[i], fs, &v) == 0)
            fail_msg("\"%s\" taken as a reserve", bad[i]);
}

static void test_space_keeps_the_floor(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base, VL_SHA256, 0);
    vl_space s;
    vl_error err = {0};
    assert_int_equal(vl_repo_space(r, &s, &err), VL_OK);
    assert_true(s.is_default);
    assert_string_equal(s.setting, "1%");
    assert_true(s.reserve >= VL_RESERVE_FLOOR);
    assert_true(s.reserve >= s.size / 100);
    assert_int_equal(s.usable, s.free > s.reserve ? s.free - s.reserve : 0);
    assert_int_equal(vl_repo_config_set(r, VL_RESERVE_KEY, "0", &err), VL_OK);
    assert_int_equal(vl_repo_space(r, &s, &err), VL_OK);
    assert_int_equal(s.reserve, VL_RESERVE_FLOOR);
    assert_int_equal(vl_repo_config_set(r, VL_RESERVE_KEY, "nonsense", &err), VL_OK);
    assert_int_equal(vl_repo_space(r, &s, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "ingest.reserve \"nonsense\""));
    vl_repo_close(r);
    vl_fs_rmtree(base, &err);
    free(base);
}

static void test_pending_work_is_told_from_live_work(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base, VL_SHA256, 0);
    char *dir = vl_strdup(vl_repo_dir(r));
    char key[VL_DIGEST_HEX_MAX], rel[256];
    vl_pending p;
    vl_lock *lock = NULL;
    vl_repo *w = NULL;
    vl_error err = {0};
    assert_int_equal(vl_repo_pending(r, &p, &err), VL_OK);
    assert_int_equal(p.txns + p.outside, 0);
    /* a transaction folder whose lock is held is live work */
    vl_digest_buffer(VL_SHA256, "urn:p", 5, key);   /* the lock key */
    snprintf(rel, sizeof rel, "staging/txn-%s-1234/intent.json", key);
    put(dir, rel, "{}");
    assert_int_equal(vl_lock_object(r, "urn:p", 0, &lock, &err), VL_OK);
    assert_int_equal(vl_repo_pending(r, &p, &err), VL_OK);
    assert_int_equal(p.txns, 0);
    assert_int_equal(vl_repo_open(dir, &w, &err), VL_OK);
    vl_repo_close(w);
    /* once let go, it is unfinished: writers are refused, recover is not */
    vl_lock_release(lock);
    assert_int_equal(vl_repo_pending(r, &p, &err), VL_OK);
    assert_int_equal(p.txns, 1);
    snprintf(rel, sizeof rel, "staging/txn-%s-1234", key);
    assert_string_equal(p.first, rel);
    char msg[512];
    vl_pending_describe(&p, msg, sizeof msg);
    assert_non_null(strstr(msg, "1 unfinished transaction ("));
    w = NULL;
    assert_int_equal(vl_repo_open(dir, &w, &err), VL_ESYS);
    assert_null(w);
    assert_non_null(strstr(err.msg, "run 'vellum recover' first"));
    assert_int_equal(vl_repo_open_mode(dir, VL_OPEN_READ, &w, &err), VL_OK);
    vl_repo_close(w);
    assert_int_equal(vl_repo_open_mode(dir, VL_OPEN_RECOVER, &w, &err), VL_OK);
    vl_recover_counts n;
    assert_int_equal(vl_repo_recover(w, &n, &err), VL_OK);
    vl_repo_close(w);
    assert_int_equal(vl_repo_pending(r, &p, &err), VL_OK);
    assert_int_equal(p.txns + p.outside, 0);
    vl_repo_close(r);
    vl_fs_rmtree(base, &err);
    free(base);
    free(dir);
}

/* A read-only open makes nothing: no staging folder, no catalog, no
 * tables; a missing catalog reads as empty and writes through it fail. */
static void test_read_only_open_makes_nothing(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base, VL_SHA256, 0);
    char *dir = vl_strdup(vl_repo_dir(r));
    char *src = vl_path_join(base, "src");
    char *staging = vl_path_join(dir, "staging");
    char *cat = vl_path_join(dir, "catalog.sqlite");
    vl_ingest_result res;
    vl_error err = {0};
    put(src, "a.txt", "a\n");
    assert_int_equal(ingest(r, src, "urn:ro", 0, &res), VL_OK);
    vl_repo_close(r);
    r = NULL;
    /* read-only, with the catalog there: the object is found */
    assert_int_equal(vl_repo_open_mode(dir, VL_OPEN_READ, &r, &err), VL_OK);
    struct agree_ctx c = {r, 0};
    assert_int_equal(vl_catalog_objects(vl_repo_catalog(r), check_one, &c, &err),
                     VL_OK);
    assert_int_equal(c.n, 1);
    vl_catalog_format f = {"text/plain", NULL, NULL, NULL, NULL, NULL,
                           NULL, NULL, NULL, NULL};
    assert_int_equal(vl_catalog_format_put(vl_repo_catalog(r), "urn:ro", "00", &f,
                                           &err), VL_ESYS);
    vl_repo_close(r);
    r = NULL;
    /* without staging and catalog: neither is made */
    assert_int_equal(vl_fs_rmtree(staging, &err), VL_OK);
    assert_int_equal(unlink(cat), 0);
    char *side = vl_asprintf("%s-wal", cat);
    unlink(side);
    free(side);
    side = vl_asprintf("%s-shm", cat);
    unlink(side);
    free(side);
    assert_int_equal(vl_repo_open_mode(dir, VL_OPEN_READ, &r, &err), VL_OK);
    c.r = r;
    c.n = 0;
    assert_int_equal(vl_catalog_objects(vl_repo_catalog(r), check_one, &c, &err),
                     VL_OK);
    assert_int_equal(c.n, 0);
    vl_pending p;
    assert_int_equal(vl_repo_pending(r, &p, &err), VL_OK);
    assert_int_equal(p.txns + p.outside, 0);
    vl_repo_close(r);
    assert_false(vl_fs_exists(staging));
    assert_false(vl_fs_exists(cat));
    vl_fs_rmtree(base, &err);
    free(base);
    free(dir);
    free(src);
    free(staging);
    free(cat);
}


/* ---- folder names sorted in bounded memory (name_sort.c) ---------------- */

struct sorted_log {
    char **want;
    size_t n, at;
    size_t stop_at;
};

static int check_next(void *arg, const char *name, int kind, vl_error *err)
{
    struct sorted_log *l = arg;
    if (l->at == l->stop_at)
        return vl_error_set(err, VL_FINDING, "stopped at %s", name);
    assert_true(l->at < l->n);
    assert_string_equal(name, l->want[l->at]);
    /* the kind travels with its name: the name's length, here */
    assert_int_equal(kind, (int)strlen(name) % 4 + 1);
    l->at++;
    return VL_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted as strcmp sorts (bytes as unsigned: UTF-8 after ASCII, 'B'
 * before 'a'), in memory and once spilled, and a callback's status
 * stops the listing. */
static void sort_names(size_t n, const char *limit)
{
    vl_name_sort *s = NULL;
    vl_error err = {0};
    char **names = calloc(n, sizeof *names);
    unsigned seed = 12345;
    assert_non_null(names);
    if (limit)
        assert_int_equal(setenv("VELLUM_LIST_MEMORY", limit, 1), 0);
    assert_int_equal(vl_name_sort_new(&s, &err), VL_OK);
    for (size_t i = 0; i < n; i++) {
        static const char *const parts[] = {"a", "B", "\xc3\xa9", "z", "a-", "a0", "~"};
        char buf[64];
        seed = seed * 1103515245u + 12345u;
        snprintf(buf, sizeof buf, "%s%u%s", parts[(seed >> 8) % 7], (seed >> 12) % 100000,
                 parts[(seed >> 20) % 7]);
        assert_non_null(names[i] = strdup(buf));
        assert_int_equal(vl_name_sort_add(s, names[i], (int)strlen(names[i]) % 4 + 1, &err),
                         VL_OK);
    }
    assert_int_equal(vl_name_sort_count(s), n);
    qsort(names, n, sizeof *names, cmp_names);
    struct sorted_log l = {names, n, 0, (size_t)-1};
    assert_int_equal(vl_name_sort_each(s, check_next, &l, &err), VL_OK);
    assert_int_equal(l.at, n);
    if (n > 3) {
        struct sorted_log stop = {names, n, 0, 3};
        assert_int_equal(vl_name_sort_each(s, check_next, &stop, &err), VL_FINDING);
        assert_int_equal(stop.at, 3);
        assert_non_null(strstr(err.msg, names[3]));
    }
    vl_name_sort_free(s);
    unsetenv("VELLUM_LIST_MEMORY");
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void test_name_sort(void **state)
{
    (void)state;
    sort_names(0, NULL);
    sort_names(1, NULL);
    sort_names(500, NULL);           /* in memory */
    sort_names(10000, NULL);         /* past the default: spilled */
    sort_names(500, "0");            /* spilled from the first name */
    sort_names(500, "499");          /* spilled at the last one */
    sort_names(500, "500");          /* exactly the limit: in memory */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_examples),
        cmocka_unit_test(test_inventory_build_and_round_trip),
        cmocka_unit_test(test_inventory_parse_rejects),
        cmocka_unit_test(test_operations_keep_catalog_and_store_in_agreement),
        cmocka_unit_test(test_lock_excludes_a_second_holder),
        cmocka_unit_test(test_get_verifies_and_leaves_nothing_on_mismatch),
        cmocka_unit_test(test_get_and_cat_read_damaged_files_from_a_replica),
        cmocka_unit_test(test_shared_modes_catalog_and_umask),
        cmocka_unit_test(test_reserve_settings),
        cmocka_unit_test(test_space_keeps_the_floor),
        cmocka_unit_test(test_pending_work_is_told_from_live_work),
        cmocka_unit_test(test_read_only_open_makes_nothing),
        cmocka_unit_test(test_name_sort),
    };
    return cmocka_run_group_tests_name("repo", tests, NULL, NULL);
}
