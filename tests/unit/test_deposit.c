/* The deposit's records and folder listing (ingest/deposit.c): rows of a
 * temporary index, given back by cursors in logical path order (ties as
 * added) or as added, with bounded memory however many there are. */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A white-box test: it uses ingest/'s private headers, so it defines
 * what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "ingest_internal.h"

static void dep_init(vl_deposit *d)
{
    memset(d, 0, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
}

static void dep_free(vl_deposit *d)
{
    vl_deposit_release(d);
    pthread_mutex_destroy(&d->mu);
}

static void add_ranked(vl_deposit *d, const char *logical, uint64_t size,
                       const char *sha512, const char *mime, int from_archive,
                       int64_t mtime, int64_t rank)
{
    vl_digest_result res;
    vl_format f;
    vl_error err = {0};
    memset(&res, 0, sizeof res);
    memset(&f, 0, sizeof f);
    if (sha512) {
        res.mask = VL_DIGEST_BIT(VL_SHA512);
        snprintf(res.hex[VL_SHA512], sizeof res.hex[VL_SHA512], "%s", sha512);
    }
    if (mime)
        snprintf(f.mime, sizeof f.mime, "%s", mime);
    if (vl_deposit_add(d, logical, "/staged", "shown.zip:x", size, &res,
                       mime ? &f : NULL, from_archive, mtime, rank, &err) != VL_OK)
        fail_msg("add %s: %s", logical, err.msg);
}

static void add(vl_deposit *d, const char *logical, uint64_t size, const char *sha512,
                const char *mime, int from_archive, int64_t mtime)
{
    add_ranked(d, logical, size, sha512, mime, from_archive, mtime, 0);
}

/* The logical paths a cursor gives, joined by spaces. */
static void walk(vl_deposit *d, int flags, char *out, size_t cap)
{
    vl_deposit_cursor c;
    const vl_record *r;
    vl_error err = {0};
    out[0] = '\0';
    assert_int_equal(vl_deposit_open(d, flags, &c, &err), VL_OK);
    while (vl_deposit_next(&c, &r, &err) == VL_OK && r)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? " " : "",
                 r->logical);
    assert_int_equal(err.status, 0);
    vl_deposit_close(&c);
}

static void test_orders_and_filters(void **state)
{
    vl_deposit d;
    char got[512];
    vl_error err = {0};
    int found;
    (void)state;
    dep_init(&d);
    walk(&d, 0, got, sizeof got);      /* nothing added: no rows, no error */
    assert_string_equal(got, "");
    add(&d, "data/b", 2, "bb", "text/plain", 0, 5);
    add(&d, "data/a/z", 1, "aa", NULL, 0, VL_MTIME_UNKNOWN);
    add(&d, "metadata/bag/bagit.txt", 3, NULL, "text/plain", 0, 7);
    add(&d, "data/a", 4, "cc", "", 1, 9);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.bytes, 10);
    walk(&d, 0, got, sizeof got);
    /* byte order: "data/a" < "data/a/z" < "data/b" */
    assert_string_equal(got, "data/a data/a/z data/b metadata/bag/bagit.txt");
    walk(&d, VL_DEP_AS_ADDED, got, sizeof got);
    assert_string_equal(got, "data/b data/a/z metadata/bag/bagit.txt data/a");
    walk(&d, VL_DEP_PAYLOAD, got, sizeof got);
    assert_string_equal(got, "data/a data/a/z data/b");

    /* a kept file is seen only by a cursor that asks for them */
    vl_catalog_format kf = {"", NULL, "kept", NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    assert_int_equal(vl_deposit_add_kept(&d, "data/aa", 6, VL_SHA256, "dd", &kf, 11,
                                         &err), VL_OK);
    walk(&d, VL_DEP_PAYLOAD, got, sizeof got);
    assert_string_equal(got, "data/a data/a/z data/b");
    walk(&d, VL_DEP_PAYLOAD | VL_DEP_KEPT, got, sizeof got);
    assert_string_equal(got, "data/a data/a/z data/aa data/b");
    assert_int_equal(d.n, 4);

    /* sorted, the same orders; a record added after still comes in place */
    assert_int_equal(vl_deposit_sort(&d, &err), VL_OK);
    add(&d, "data/0", 1, "00", NULL, 0, 1);
    walk(&d, 0, got, sizeof got);
    assert_string_equal(got, "data/0 data/a data/a/z data/b metadata/bag/bagit.txt");
    walk(&d, VL_DEP_PAYLOAD | VL_DEP_KEPT, got, sizeof got);
    assert_string_equal(got, "data/0 data/a data/a/z data/aa data/b");
    assert_int_equal(vl_deposit_has(&d, "data/0", &found, &err), VL_OK);
    assert_int_equal(found, 1);

    /* the fields come back as given; format strings interned, "" as none
     * for identified files but kept as "" for the catalog's */
    vl_deposit_cursor c;
    const vl_record *r;
    assert_int_equal(vl_deposit_open(&d, VL_DEP_KEPT, &c, &err), VL_OK);
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_string_equal(r->logical, "data/0");
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_string_equal(r->logical, "data/a");
    assert_int_equal(r->from_archive, 1);
    assert_string_equal(r->staged, "/staged");   /* archive entries keep both */
    assert_string_equal(r->shown, "shown.zip:x");
    assert_null(r->mime);
    assert_string_equal(r->hex[VL_SHA512], "cc");
    assert_int_equal(r->mtime_ns, 9);
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_string_equal(r->logical, "data/a/z");
    assert_null(r->staged);                      /* a listed file's is derived */
    assert_null(r->shown);
    assert_true(r->mtime_ns == VL_MTIME_UNKNOWN);
    assert_null(r->hex[VL_SHA256]);
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_string_equal(r->logical, "data/aa");
    assert_string_equal(r->mime, "");
    assert_string_equal(r->description, "kept");
    assert_null(r->encoding);
    assert_string_equal(r->hex[VL_SHA256], "dd");
    assert_null(r->hex[VL_SHA512]);
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_string_equal(r->logical, "data/b");
    assert_string_equal(r->mime, "text/plain");
    const char *mime = r->mime;
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_string_equal(r->logical, "metadata/bag/bagit.txt");
    assert_ptr_equal(r->mime, mime);             /* one copy */
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_null(r);
    vl_deposit_rewind(&c);                       /* the METS reads twice */
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_string_equal(r->logical, "data/0");
    vl_deposit_close(&c);
    dep_free(&d);
}

static void test_lookups_and_changes(void **state)
{
    vl_deposit d;
    char got[512], *first = NULL;
    vl_error err = {0};
    size_t n;
    int found;
    (void)state;
    dep_init(&d);
    add(&d, "bag/bagit.txt", 1, NULL, NULL, 1, 0);
    add(&d, "bag/data/x", 1, NULL, NULL, 1, 0);
    add(&d, "bagz", 1, NULL, NULL, 1, 0);
    assert_int_equal(vl_deposit_count_prefix(&d, "bag/", 0, &n, &err), VL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(vl_deposit_count_prefix(&d, "bag/", 1, &n, &err), VL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(vl_deposit_count_prefix(&d, "", 0, &n, &err), VL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(vl_deposit_has(&d, "bag/data/x", &found, &err), VL_OK);
    assert_int_equal(found, 1);
    assert_int_equal(vl_deposit_has(&d, "bag/data", &found, &err), VL_OK);
    assert_int_equal(found, 0);

    /* an archive entry moved to its place: found by its new path, its
     * staged copy now where the transaction stages that path */
    vl_deposit_cursor c;
    const vl_record *r;
    assert_int_equal(vl_deposit_open(&d, VL_DEP_AS_ADDED, &c, &err), VL_OK);
    while (vl_deposit_next(&c, &r, &err) == VL_OK && r) {
        char *to = vl_asprintf("data/%s", r->logical);
        assert_int_equal(vl_deposit_move(&d, r->id, to, &err), VL_OK);
        assert_int_equal(vl_deposit_set_digest(&d, r->id, VL_MD5, "ee", &err), VL_OK);
        free(to);
    }
    assert_int_equal(err.status, 0);
    vl_deposit_close(&c);
    walk(&d, VL_DEP_PAYLOAD, got, sizeof got);
    assert_string_equal(got, "data/bag/bagit.txt data/bag/data/x data/bagz");
    assert_int_equal(vl_deposit_open(&d, 0, &c, &err), VL_OK);
    assert_int_equal(vl_deposit_next(&c, &r, &err), VL_OK);
    assert_null(r->staged);
    assert_string_equal(r->hex[VL_MD5], "ee");
    vl_deposit_close(&c);

    /* the first name given for a key is kept */
    assert_int_equal(vl_deposit_first_name(&d, "k", NULL, &first, &err), VL_OK);
    assert_null(first);
    assert_int_equal(vl_deposit_first_name(&d, "k", "A", &first, &err), VL_OK);
    assert_null(first);
    assert_int_equal(vl_deposit_first_name(&d, "k", "a", &first, &err), VL_OK);
    assert_string_equal(first, "A");
    free(first);
    dep_free(&d);
}

static void test_listing(void **state)
{
    vl_deposit d;
    vl_entry_list l = {0};
    vl_entry_cursor c;
    const vl_entry *e;
    vl_error err = {0};
    char got[256] = "";
    (void)state;
    dep_init(&d);
    l.dep = &d;
    assert_int_equal(vl_entry_list_add(&l, "/s/b", "data/b", 5, 0, &err), VL_OK);
    assert_int_equal(vl_entry_list_add(&l, "/s/t", "metadata/bag/t", 1, 1, &err), VL_OK);
    assert_int_equal(vl_entry_list_add(&l, "/t/a", "data/a", 2, 0, &err), VL_OK);
    assert_int_equal(vl_entry_list_add(&l, "/s/a", "data/a", 3, 0, &err), VL_OK);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.bytes, 11);
    assert_int_equal(vl_entry_open(&l, 0, &c, &err), VL_OK);
    while (vl_entry_next(&c, &e, &err) == VL_OK && e)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s ", e->src);
    vl_entry_close(&c);
    assert_string_equal(got, "/t/a /s/a /s/b /s/t ");   /* ties as listed */
    assert_int_equal(vl_entry_open(&l, 1, &c, &err), VL_OK);
    assert_int_equal(vl_entry_next(&c, &e, &err), VL_OK);
    assert_string_equal(e->logical, "metadata/bag/t");
    assert_int_equal(e->is_tag, 1);
    assert_int_equal(vl_entry_next(&c, &e, &err), VL_OK);
    assert_null(e);
    vl_entry_close(&c);
    dep_free(&d);
}

/* Workers add at once, each file with its rank in the listing: every
 * record is kept once, and in logical path order without a sort. */
struct adder {
    vl_deposit *d;
    int k;
};

static void *add_many(void *arg)
{
    struct adder *a = arg;
    char path[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(path, sizeof path, "data/%05d", i * 4 + a->k);
        add_ranked(a->d, path, 1, "ff", "text/plain", 0, i, i * 4 + a->k + 1);
    }
    return NULL;
}

static void test_threads(void **state)
{
    vl_deposit d;
    pthread_t t[4];
    struct adder a[4];
    vl_deposit_cursor c;
    const vl_record *r;
    vl_error err = {0};
    char want[64];
    int i = 0;
    (void)state;
    dep_init(&d);
    for (int k = 0; k < 4; k++) {
        a[k] = (struct adder){&d, k};
        pthread_create(&t[k], NULL, add_many, &a[k]);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    assert_int_equal(d.n, 8000);
    for (int pass = 0; pass < 2; pass++) {
        /* by the index, then (sorted: every record ranked) by the table */
        if (pass == 1)
            assert_int_equal(vl_deposit_sort(&d, &err), VL_OK);
        assert_int_equal(d.sorted, pass);
        i = 0;
        assert_int_equal(vl_deposit_open(&d, VL_DEP_PAYLOAD, &c, &err), VL_OK);
        while (vl_deposit_next(&c, &r, &err) == VL_OK && r) {
            snprintf(want, sizeof want, "data/%05d", i++);
            assert_string_equal(r->logical, want);
        }
        vl_deposit_close(&c);
        assert_int_equal(i, 8000);
    }
    dep_free(&d);
}

/* The point of the index: 200,000 records with long paths and two digests
 * (about 80 MB as strings in memory) leave the heap a few MiB larger. */
static void test_bounded_memory(void **state)
{
    vl_deposit d;
    vl_entry_list l = {0};
    vl_digest_result res;
    vl_error err = {0};
    char path[256];
    (void)state;
    dep_init(&d);
    l.dep = &d;
    memset(&res, 0, sizeof res);
    res.mask = VL_DIGEST_BIT(VL_SHA512) | VL_DIGEST_BIT(VL_SHA256);
    memset(res.hex[VL_SHA512], 'a', 128);
    memset(res.hex[VL_SHA256], 'b', 64);
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < 200000; i++) {
        snprintf(path, sizeof path, "data/some/rather/long/folder/names/here/%07d/"
                 "and-a-file-name-of-some-length-%07d.txt", i % 997, i);
        assert_int_equal(vl_entry_list_add(&l, path + 5, path, 10, 0, &err), VL_OK);
        assert_int_equal(vl_deposit_add(&d, path, path, path, 10, &res, NULL, 0, i,
                                         0, &err), VL_OK);
    }
    size_t after = mallinfo2().uordblks;
    print_message("heap grew %zu KiB for 200,000 records\n", (after - before) >> 10);
    assert_true(after - before < 16u << 20);
    dep_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orders_and_filters),
        cmocka_unit_test(test_lookups_and_changes),
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_bounded_memory),
    };
    return cmocka_run_group_tests_name("deposit", tests, NULL, NULL);
}
