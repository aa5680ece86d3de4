/* Unit tests for replicas through the library: the registry (names,
 * folders, config and catalog), per-copy catalog rows, replication's
 * results and repair's summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit_files.h"
#include "unit_repo.h"
#include "vl_ingest.h"
#include "vl_storage.h"

static vl_repo *new_repo(char **base_out)
{
    return unit_repo_new(base_out, "repo", VL_SHA512, 0);
}

static void ingest(vl_repo *r, const char *src, const char *id)
{
    vl_ingest_options o = {0};
    vl_ingest_result res;
    vl_error err = {0};
    o.id = id;
    o.message = "test";
    o.user_name = "Tester";
    o.user_address = "mailto:t@example.org";
    o.no_identify = 1;
    const char *srcs[] = {src};
    if (vl_ingest(r, srcs, 1, &o, &res, &err) != VL_OK)
        fail_msg("ingest failed: %s", err.msg);
}

static int count_names(void *arg, const vl_replica_info *ri)
{
    char *names = arg;
    strcat(names, ri->name);
    strcat(names, " ");
    return 0;
}

static void test_registry(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    char *b = vl_path_join(base, "b"), *a = vl_path_join(base, "a");
    char names[256] = "";
    vl_backend *be = NULL;
    assert_int_equal(vl_replica_add(r, "-x", a, &err), VL_EINPUT);
    assert_int_equal(vl_replica_add(r, "primary", a, &err), VL_EINPUT);
    char longname[80];
    memset(longname, 'n', 65);
    longname[65] = '\0';
    assert_int_equal(vl_replica_add(r, longname, a, &err), VL_EINPUT);
    assert_int_equal(vl_replica_add(r, "zeta", b, &err), VL_OK);
    assert_int_equal(vl_replica_add(r, "alpha.1", a, &err), VL_OK);
    assert_int_equal(vl_replica_count(r), 2);
    assert_int_equal(vl_replica_list(r, count_names, names, &err), VL_OK);
    assert_string_equal(names, "alpha.1 zeta ");
    assert_int_equal(vl_copy_backend(r, "alpha.1", &be, &err), VL_OK);
    assert_non_null(be);
    assert_string_equal(vl_backend_root(be), a);
    assert_int_equal(vl_copy_backend(r, "nope", &be, &err), VL_EINPUT);
    assert_int_equal(vl_copy_backend(r, VL_PRIMARY_COPY, &be, &err), VL_OK);
    assert_ptr_equal(be, vl_repo_backend(r));
    /* a replica whose layout file was changed is refused when opened */
    char *lay = vl_path_join(b, "ocfl_layout.json");
    chmod(lay, 0644);
    put(b, "ocfl_layout.json", "{}\n");
    assert_int_equal(vl_copy_backend(r, "zeta", &be, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "ocfl_layout.json differs"));
    /* forgetting keeps the folder; the registry survives a reopen */
    assert_int_equal(vl_replica_remove(r, "zeta", &err), VL_OK);
    assert_int_equal(vl_replica_remove(r, "zeta", &err), VL_EINPUT);
    assert_true(vl_fs_exists(lay));
    char *dir = vl_strdup(vl_repo_dir(r));
    vl_repo_close(r);
    assert_int_equal(vl_repo_open(dir, &r, &err), VL_OK);
    assert_int_equal(vl_replica_count(r), 1);
    assert_non_null(vl_copy_root(r, "alpha.1"));
    assert_null(vl_copy_root(r, "zeta"));
    vl_repo_close(r);
    vl_fs_rmtree(base, NULL);
    free(dir);
    free(lay);
    free(a);
    free(b);
    free(base);
}

struct rows {
    char text[512];
};

static int take_row(void *arg, const vl_copy_row *c)
{
    struct rows *rs = arg;
    char line[160];
    snprintf(line, sizeof line, "%s:%s:v%d:%s:%s;", c->object_id, c->copy, c->version,
             c->state ? c->state : "-", c->outcome ? c->outcome : "-");
    strcat(rs->text, line);
    return 0;
}

static void test_copy_rows(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base);
    vl_catalog *cat = vl_repo_catalog(r);
    vl_error err = {0};
    struct rows rs = {""};
    assert_int_equal(vl_catalog_copy_replicated(cat, "r1", "o1", 2, "current",
                                                "2026-01-01T00:00:00Z", &err), VL_OK);
    assert_int_equal(vl_catalog_copy_verified(cat, "r1", "o1", 0, "fail",
                                              "2026-01-02T00:00:00Z", "[]", &err), VL_OK);
    assert_int_equal(vl_catalog_copy_verified(cat, VL_PRIMARY_COPY, "o1", 2, "pass",
                                              "2026-01-02T00:00:00Z", NULL, &err), VL_OK);
    assert_int_equal(vl_catalog_copy_replicated(cat, "r1", "o2", 1, "ahead",
                                                "2026-01-01T00:00:00Z", &err), VL_OK);
    assert_int_equal(vl_catalog_copies(cat, NULL, take_row, &rs, &err), VL_OK);
    /* primary first within an object; an audit with version 0 keeps the
     * version replication recorded */
    assert_string_equal(rs.text, "o1:primary:v2:-:pass;o1:r1:v2:current:fail;"
                                 "o2:r1:v1:ahead:-;");
    rs.text[0] = '\0';
    assert_int_equal(vl_catalog_copies_forget(cat, "r1", &err), VL_OK);
    assert_int_equal(vl_catalog_copies(cat, "o1", take_row, &rs, &err), VL_OK);
    assert_string_equal(rs.text, "o1:primary:v2:-:pass;");
    vl_repo_close(r);
    vl_fs_rmtree(base, NULL);
    free(base);
}

struct results {
    int updated, current, refused;
    char last_message[512];
};

static void on_result(void *arg, const vl_replicate_result *res)
{
    struct results *rs = arg;
    if (res->state == VL_REPL_UPDATED)
        rs->updated++;
    else if (res->state == VL_REPL_CURRENT)
        rs->current++;
    else {
        rs->refused++;
        snprintf(rs->last_message, sizeof rs->last_message, "%s", res->message);
    }
}

static void test_replicate_and_repair(void **state)
{
    (void)state;
    char *base = NULL;
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    char *src = vl_path_join(base, "src"), *rep = vl_path_join(base, "rep");
    put(src, "a.txt", "alpha\n");
    put(src, "b/c.txt", "gamma\n");
    ingest(r, src, "urn:t:1");
    put(src, "d.txt", "delta\n");
    ingest(r, src, "urn:t:1");
    /* no replica: refused as input */
    assert_int_equal(vl_replicate(r, NULL, 0, NULL, NULL, &err), VL_EINPUT);
    assert_int_equal(vl_repair(r, NULL, 0, NULL, NULL, &err), VL_EINPUT);
    assert_int_equal(vl_replica_add(r, "r1", rep, &err), VL_OK);
    struct results rs = {0};
    vl_replicate_options ro = {.on_result = on_result, .arg = &rs};
    vl_replicate_summary s;
    assert_int_equal(vl_replicate(r, NULL, 0, &ro, &s, &err), VL_OK);
    assert_int_equal(rs.updated, 1);
    assert_int_equal(s.updated, 1);
    assert_true(s.files >= 4);   /* a.txt, c.txt, d.txt and the METS files */
    memset(&rs, 0, sizeof rs);
    assert_int_equal(vl_replicate(r, NULL, 0, &ro, &s, &err), VL_OK);
    assert_int_equal(rs.current, 1);
    assert_int_equal(s.files, 0);

    /* a file lost from the replica comes back from the primary */
    char *obj = vl_repo_object_path(r, "urn:t:1");
    char *lost = vl_asprintf("%s/%s/v1/content/data/b/c.txt", rep, obj);
    chmod(lost, 0644);
    assert_int_equal(unlink(lost), 0);
    vl_repair_summary rsum;
    assert_int_equal(vl_repair(r, NULL, 0, NULL, &rsum, &err), VL_OK);
    assert_int_equal(rsum.objects, 1);
    assert_int_equal(rsum.repaired, 1);
    assert_int_equal(rsum.failed, 0);
    assert_true(vl_fs_exists(lost));
    /* the same file damaged in both copies: a finding, nothing written */
    char *prim = vl_asprintf("%s/store/%s/v1/content/data/b/c.txt", vl_repo_dir(r), obj);
    chmod(prim, 0644);
    chmod(lost, 0644);
    FILE *f = fopen(prim, "w");
    fputs("GAMMA\n", f);
    fclose(f);
    f = fopen(lost, "w");
    fputs("gamm\n", f);
    fclose(f);
    assert_int_equal(vl_repair(r, NULL, 0, NULL, &rsum, &err), VL_FINDING);
    assert_int_equal(rsum.failed, 2);
    vl_buf bb;
    vl_buf_init(&bb, 0);
    assert_int_equal(vl_fs_read_file(prim, 100, &bb, &err), VL_OK);
    assert_string_equal(bb.data, "GAMMA\n");
    vl_buf_release(&bb);
    /* replication refuses a primary whose bytes do not verify: a new
     * replica gets nothing of the object */
    char *rep2 = vl_path_join(base, "rep2");
    assert_int_equal(vl_replica_add(r, "r2", rep2, &err), VL_OK);
    memset(&rs, 0, sizeof rs);
    ro.replica = "r2";
    assert_int_equal(vl_replicate(r, NULL, 0, &ro, &s, &err), VL_FINDING);
    assert_int_equal(rs.refused, 1);
    assert_non_null(strstr(rs.last_message, "does not verify"));
    char *obj2 = vl_path_join(rep2, obj);
    assert_false(vl_fs_exists(obj2));
    vl_repo_close(r);
    vl_fs_rmtree(base, NULL);
    free(obj2);
    free(rep2);
    free(prim);
    free(lost);
    free(obj);
    free(src);
    free(rep);
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_copy_rows),
        cmocka_unit_test(test_replicate_and_repair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
