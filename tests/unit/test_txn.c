/* Unit tests for storage/txn.c through its public API: what a deposit has
 * said (kept in the transaction's own index) decides the new version: a
 * path given twice is refused, a merge keeps the head's paths but the
 * deposit's own win, identical content is stored once, a deposit equal to
 * the head makes no version, and a file may not also be a folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit_files.h"
#include "unit_repo.h"
#include "vl_storage.h"

static vl_repo *new_repo(char **dir_out)
{
    return unit_repo_new(dir_out, "repo", VL_SHA512, VL_DIGEST_BIT(VL_MD5));
}

static void digest_of(const char *text, unsigned mask, vl_digest_result *d)
{
    vl_digest_ctx *c = vl_digest_new(mask);
    vl_error err = {0};
    assert_non_null(c);
    vl_digest_update(c, text, strlen(text));
    assert_int_equal(vl_digest_final(c, d, &err), VL_OK);
    vl_digest_free(c);
}

static char *sha512_of(const char *text)
{
    vl_digest_result d;
    digest_of(text, VL_DIGEST_BIT(VL_SHA512), &d);
    return vl_strdup(d.hex[VL_SHA512]);
}

/* Stage text as logical and add it; the status of vl_txn_add, with its
 * message in err.  *staged_path (when not NULL) gets the staging path. */
static int add_text(vl_txn *t, const char *logical, const char *text,
                    char **staged_path, vl_error *err)
{
    char *p = NULL;
    vl_digest_result d;
    assert_int_equal(vl_txn_stage_path(t, logical, &p, err), VL_OK);
    assert_int_equal(vl_fs_write_atomic(p, text, strlen(text), err), VL_OK);
    digest_of(text, vl_txn_digest_mask(t), &d);
    int rc = vl_txn_add(t, logical, &d, strlen(text), 1, err);
    if (staged_path)
        *staged_path = p;
    else
        free(p);
    return rc;
}

static int commit(vl_txn *t)
{
    vl_txn_info info = {"test", "Tester", "mailto:t@example.org"};
    vl_error err = {0};
    int version = -1;
    int rc = vl_txn_commit(t, &info, &version, &err);
    if (rc != VL_OK)
        fail_msg("commit failed: %s", err.msg);
    return version;
}

/* v1 of id: a.txt "alpha", dir/b.txt "beta". */
static void make_v1(vl_repo *r, const char *id)
{
    vl_txn *t = NULL;
    vl_error err = {0};
    assert_int_equal(vl_txn_begin(r, id, &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "alpha\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "dir/b.txt", "beta\n", NULL, &err), VL_OK);
    assert_int_equal(commit(t), 1);
}

static void done_repo(vl_repo *r, char *base)
{
    vl_error err = {0};
    vl_repo_close(r);
    vl_fs_rmtree(base, &err);
    free(base);
}

static void test_a_path_given_twice_is_refused(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_txn *t = NULL;
    vl_error err = {0};
    assert_int_equal(vl_txn_begin(r, "urn:txn:twice", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "one\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "two\n", NULL, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "\"a.txt\" is given twice"));
    /* the transaction goes on: the first one stays */
    assert_int_equal(add_text(t, "b.txt", "two\n", NULL, &err), VL_OK);
    assert_int_equal(commit(t), 1);

    vl_inventory *inv = NULL;
    char *one = sha512_of("one\n");
    assert_int_equal(vl_repo_load_inventory(r, "urn:txn:twice", &inv, &err), VL_OK);
    assert_string_equal(vl_inventory_lookup(inv, 1, "a.txt"), one);
    vl_inventory_free(inv);
    free(one);
    done_repo(r, base);
}

static void test_merge_keeps_head_paths_and_the_deposit_wins(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_txn *t = NULL;
    vl_error err = {0};
    make_v1(r, "urn:txn:merge");

    assert_int_equal(vl_txn_begin(r, "urn:txn:merge", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "replaced\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "c.txt", "gamma\n", NULL, &err), VL_OK);
    assert_int_equal(vl_txn_keep_all(t, &err), VL_OK);
    /* a kept path may still be replaced by the deposit, once */
    assert_int_equal(add_text(t, "dir/b.txt", "beta 2\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "dir/b.txt", "beta 3\n", NULL, &err), VL_EINPUT);
    assert_int_equal(add_text(t, "c.txt", "gamma 2\n", NULL, &err), VL_EINPUT);
    assert_int_equal(vl_txn_unchanged_except(t, "c.txt"), 0);
    assert_int_equal(commit(t), 2);

    vl_inventory *inv = NULL;
    char *rep = sha512_of("replaced\n"), *b2 = sha512_of("beta 2\n");
    char *g = sha512_of("gamma\n"), *alpha = sha512_of("alpha\n");
    assert_int_equal(vl_repo_load_inventory(r, "urn:txn:merge", &inv, &err), VL_OK);
    vl_version_info vi;
    assert_int_equal(vl_inventory_version_info(inv, 2, &vi), 0);
    assert_int_equal(vi.file_count, 3);
    assert_string_equal(vl_inventory_lookup(inv, 2, "a.txt"), rep);
    assert_string_equal(vl_inventory_lookup(inv, 2, "dir/b.txt"), b2);
    assert_string_equal(vl_inventory_lookup(inv, 2, "c.txt"), g);
    assert_string_equal(vl_inventory_lookup(inv, 1, "a.txt"), alpha);
    /* new content in v2, with its md5 */
    assert_string_equal(vl_inventory_content_path(inv, g), "v2/content/c.txt");
    vl_digest_result d;
    digest_of("gamma\n", VL_DIGEST_BIT(VL_MD5), &d);
    assert_string_equal(vl_inventory_fixity(inv, VL_MD5, "v2/content/c.txt"),
                        d.hex[VL_MD5]);
    vl_inventory_free(inv);
    free(rep);
    free(b2);
    free(g);
    free(alpha);
    done_repo(r, base);
}

static void test_identical_content_is_stored_once(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_txn *t = NULL;
    vl_error err = {0};
    char *first = NULL, *second = NULL, *stored = NULL;
    make_v1(r, "urn:txn:dedup");

    assert_int_equal(vl_txn_begin(r, "urn:txn:dedup", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "alpha\n", &stored, &err), VL_OK);
    assert_int_equal(add_text(t, "dir/b.txt", "beta\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "x/new.txt", "same\n", &first, &err), VL_OK);
    assert_int_equal(add_text(t, "y/copy.txt", "same\n", &second, &err), VL_OK);
    /* stored in v1 already, or staged once already: the copy is removed */
    assert_int_equal(access(stored, F_OK), -1);
    assert_int_equal(access(first, F_OK), 0);
    assert_int_equal(access(second, F_OK), -1);
    assert_int_equal(commit(t), 2);

    vl_inventory *inv = NULL;
    char *same = sha512_of("same\n"), *alpha = sha512_of("alpha\n");
    assert_int_equal(vl_repo_load_inventory(r, "urn:txn:dedup", &inv, &err), VL_OK);
    assert_string_equal(vl_inventory_lookup(inv, 2, "x/new.txt"), same);
    assert_string_equal(vl_inventory_lookup(inv, 2, "y/copy.txt"), same);
    assert_string_equal(vl_inventory_content_path(inv, same), "v2/content/x/new.txt");
    assert_string_equal(vl_inventory_content_path(inv, alpha), "v1/content/a.txt");
    vl_inventory_free(inv);
    free(same);
    free(alpha);
    free(first);
    free(second);
    free(stored);
    done_repo(r, base);
}

static void test_an_unchanged_deposit_makes_no_version(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_txn *t = NULL;
    vl_error err = {0};
    make_v1(r, "urn:txn:same");

    assert_int_equal(vl_txn_begin(r, "urn:txn:same", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "dir/b.txt", "beta\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "alpha\n", NULL, &err), VL_OK);
    assert_int_equal(vl_txn_unchanged_except(t, "METS.xml"), 1);
    /* one path different, but not when that path is left out */
    assert_int_equal(add_text(t, "METS.xml", "<mets/>\n", NULL, &err), VL_OK);
    assert_int_equal(vl_txn_unchanged_except(t, "METS.xml"), 1);
    assert_int_equal(vl_txn_unchanged_except(t, "a.txt"), 0);
    vl_txn_abort(t);

    /* the same files: nothing to commit */
    assert_int_equal(vl_txn_begin(r, "urn:txn:same", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "alpha\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "dir/b.txt", "beta\n", NULL, &err), VL_OK);
    assert_int_equal(commit(t), 0);

    /* a file left out is a change */
    assert_int_equal(vl_txn_begin(r, "urn:txn:same", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "alpha\n", NULL, &err), VL_OK);
    assert_int_equal(vl_txn_unchanged_except(t, "METS.xml"), 0);
    assert_int_equal(commit(t), 2);
    done_repo(r, base);
}

static void test_a_file_may_not_be_a_folder(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_txn *t = NULL;
    vl_error err = {0};
    int version = -1;
    assert_int_equal(vl_txn_begin(r, "urn:txn:clash", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a", "file\n", NULL, &err), VL_OK);
    assert_int_equal(commit(t), 1);

    /* merged into a head that has "a"; "a b" and "a.txt" sort between "a"
     * and "a/..." */
    assert_int_equal(vl_txn_begin(r, "urn:txn:clash", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a b", "other\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "other 2\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "a/inner/x", "inside\n", NULL, &err), VL_OK);
    assert_int_equal(vl_txn_keep_all(t, &err), VL_OK);
    assert_int_equal(vl_txn_commit(t, NULL, &version, &err), VL_EINPUT);
    assert_string_equal(err.msg, "\"a\" is both a file and the folder of \"a/inner/x\"");
    assert_int_equal(version, 0);

    /* prefixes that are not folders are no clash */
    assert_int_equal(vl_txn_begin(r, "urn:txn:clash", &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a b/c", "other\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "other 2\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "ab/c", "other 3\n", NULL, &err), VL_OK);
    assert_int_equal(vl_txn_keep_all(t, &err), VL_OK);
    assert_int_equal(commit(t), 2);
    done_repo(r, base);
}

/* ---- staged heads (OCFL extension 0005) ---- */

#define EXT "extensions/0005-mutable-head"

static char *object_file(vl_repo *r, const char *id, const char *rel)
{
    char *obj = vl_repo_object_path(r, id);
    char *p = vl_asprintf("%s/store/%s/%s", vl_repo_dir(r), obj, rel);
    free(obj);
    return p;
}

static int exists_in(vl_repo *r, const char *id, const char *rel)
{
    char *p = object_file(r, id, rel);
    int e = vl_fs_exists(p);
    free(p);
    return e;
}

static int commit_staged(vl_txn *t, int *rev)
{
    *rev = vl_txn_revision(t);
    return commit(t);
}

static void test_staged_revisions_without_new_digests_have_no_content_dir(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_txn *t = NULL;
    vl_error err = {0};
    vl_mhead_info mi;
    vl_inventory *inv = NULL;
    int rev = 0;
    const char *id = "urn:txn:staged";
    make_v1(r, id);

    /* r1: gamma is new, in content/r1 */
    assert_int_equal(vl_txn_begin_staged(r, id, &t, &err), VL_OK);
    assert_int_equal(vl_txn_version(t), 2);
    assert_int_equal(add_text(t, "a.txt", "alpha\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "c.txt", "gamma\n", NULL, &err), VL_OK);
    assert_int_equal(commit_staged(t, &rev), 2);
    assert_int_equal(rev, 1);
    assert_true(exists_in(r, id, EXT "/head/content/r1/c.txt"));
    assert_false(exists_in(r, id, "v2"));

    /* r2: only digests stored already (a rename of c.txt): no content/r2 */
    assert_int_equal(vl_txn_begin_staged(r, id, &t, &err), VL_OK);
    assert_int_equal(vl_txn_version(t), 2);
    assert_int_equal(vl_txn_base_version(t), 2);
    assert_int_equal(add_text(t, "a.txt", "alpha\n", NULL, &err), VL_OK);
    assert_int_equal(add_text(t, "renamed.txt", "gamma\n", NULL, &err), VL_OK);
    assert_int_equal(commit_staged(t, &rev), 2);
    assert_int_equal(rev, 2);
    assert_true(exists_in(r, id, EXT "/revisions/r2"));
    assert_false(exists_in(r, id, EXT "/head/content/r2"));
    assert_true(exists_in(r, id, EXT "/head/content/r1/c.txt"));

    /* r3: gamma leaves the state: its r1 file and manifest entry go, and
     * content/ with it (nothing of the head is left there) */
    assert_int_equal(vl_txn_begin_staged(r, id, &t, &err), VL_OK);
    assert_int_equal(add_text(t, "a.txt", "alpha\n", NULL, &err), VL_OK);
    assert_int_equal(commit_staged(t, &rev), 2);
    assert_int_equal(rev, 3);
    assert_false(exists_in(r, id, EXT "/head/content"));
    assert_int_equal(vl_mhead_get(r, id, &mi, &inv, &err), VL_OK);
    assert_int_equal(mi.active, 1);
    assert_int_equal(mi.version, 2);
    assert_int_equal(mi.revisions, 3);
    assert_int_equal(mi.conflict, 0);
    char *g = sha512_of("gamma\n"), *alpha = sha512_of("alpha\n");
    assert_null(vl_inventory_content_path(inv, g));
    assert_string_equal(vl_inventory_content_path(inv, alpha), "v1/content/a.txt");
    vl_inventory_free(inv);

    /* a root version is refused while the head is staged */
    assert_int_equal(vl_txn_begin(r, id, &t, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "staged head"));

    /* commit: v2 is the last revision's state, paths under v2 */
    vl_mhead_commit_result res;
    assert_int_equal(vl_mhead_commit(r, id, NULL, &res, &err), VL_OK);
    assert_int_equal(res.version, 2);
    assert_int_equal(res.revisions, 3);
    assert_false(exists_in(r, id, "extensions"));
    assert_int_equal(vl_repo_load_inventory(r, id, &inv, &err), VL_OK);
    assert_int_equal(vl_inventory_head(inv), 2);
    assert_string_equal(vl_inventory_lookup(inv, 2, "a.txt"), alpha);
    assert_null(vl_inventory_lookup(inv, 2, "renamed.txt"));
    assert_null(vl_inventory_content_path(inv, g));
    vl_inventory_free(inv);
    assert_int_equal(vl_mhead_commit(r, id, NULL, &res, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "nothing to commit"));
    free(g);
    free(alpha);
    done_repo(r, base);
}

static void test_a_taken_revision_marker_refuses_the_revision(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_txn *t = NULL;
    vl_error err = {0};
    vl_txn_info info = {"test", "Tester", "mailto:t@example.org"};
    int rev = 0, version = -1;
    const char *id = "urn:txn:race";
    make_v1(r, id);
    assert_int_equal(vl_txn_begin_staged(r, id, &t, &err), VL_OK);
    assert_int_equal(add_text(t, "c.txt", "gamma\n", NULL, &err), VL_OK);
    assert_int_equal(commit_staged(t, &rev), 2);
    char *inv_path = object_file(r, id, EXT "/head/inventory.json");
    vl_buf before, after;
    vl_buf_init(&before, 1 << 20);
    vl_buf_init(&after, 1 << 20);
    assert_int_equal(vl_fs_read_file(inv_path, 1 << 20, &before, &err), VL_OK);

    /* another writer (another repository on this store) takes r2 first */
    assert_int_equal(vl_txn_begin_staged(r, id, &t, &err), VL_OK);
    assert_int_equal(vl_txn_revision(t), 2);
    char *marker = object_file(r, id, EXT "/revisions/r2");
    assert_int_equal(vl_fs_write_atomic(marker, "r2", 2, &err), VL_OK);
    assert_int_equal(add_text(t, "d.txt", "delta\n", NULL, &err), VL_OK);
    assert_int_equal(vl_txn_commit(t, &info, &version, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "revision marker"));
    /* nothing of ours reached the head */
    assert_int_equal(vl_fs_read_file(inv_path, 1 << 20, &after, &err), VL_OK);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    assert_false(exists_in(r, id, EXT "/head/content/r2"));
    vl_buf_release(&before);
    vl_buf_release(&after);
    free(marker);
    free(inv_path);
    done_repo(r, base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_path_given_twice_is_refused),
        cmocka_unit_test(test_merge_keeps_head_paths_and_the_deposit_wins),
        cmocka_unit_test(test_identical_content_is_stored_once),
        cmocka_unit_test(test_an_unchanged_deposit_makes_no_version),
        cmocka_unit_test(test_a_file_may_not_be_a_folder),
        cmocka_unit_test(test_staged_revisions_without_new_digests_have_no_content_dir),
        cmocka_unit_test(test_a_taken_revision_marker_refuses_the_revision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
