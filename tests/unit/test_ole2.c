/* OLE2 reader: compound files made by the test writer (ole2_writer.h) read
 * back - names, sizes, bytes, from the mini stream and the regular FAT, in
 * nested storages - and corrupt variants refused with VL_EINPUT naming the
 * file and the problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A white-box test: it uses ingest/'s private ole2.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "ole2.h"
#include "ole2_writer.h"
#include "unit_files.h"

static uint8_t big[10000], deep[5000], comp[100], inner[500];

static const ow_item items[] = {
    {"CompObj", comp, sizeof comp, 0},
    {"WordDocument", big, sizeof big, 0},
    {"Storage", NULL, 0, 1},
    {"\x05SummaryInformation", inner, 200, 0},
    {"Empty", "", 0, 0},
    {"Donn\xc3\xa9" "es", inner, 64, 0},
    {"Storage/Inner", inner, sizeof inner, 0},
    {"Storage/Sub", NULL, 0, 1},
    {"Storage/Sub/Deep", deep, sizeof deep, 0},
};
#define NITEMS (sizeof items / sizeof items[0])

static void fill(void)
{
    size_t i;
    for (i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + i / 251);
    for (i = 0; i < sizeof deep; i++)
        deep[i] = (uint8_t)(i * 13 + 5);
    for (i = 0; i < sizeof comp; i++)
        comp[i] = (uint8_t)(0xA0 + i);
    for (i = 0; i < sizeof inner; i++)
        inner[i] = (uint8_t)(i ^ 0x5A);
}

/* The bytes written to a fresh file; its path (malloc'd) in *path. */
static void write_file(const uint8_t *data, size_t len, char **dir,
                       char **path)
{
    vl_error err = {0};
    *dir = tmpdir();
    *path = vl_path_join(*dir, "doc.ole");
    assert_int_equal(vl_fs_write_atomic(*path, data, len, &err), VL_OK);
}

static void cleanup(char *dir, char *path)
{
    vl_fs_rmtree(dir, NULL);
    free(dir);
    free(path);
}

static size_t find(vl_ole2 *h, const char *name)
{
    size_t i;
    for (i = 0; i < vl_ole2_count(h); i++) {
        const char *n;
        vl_ole2_entry(h, i, &n, NULL, NULL);
        if (!strcmp(n, name))
            return i;
    }
    fail_msg("no entry %s", name);
    return 0;
}

static void test_roundtrip(void **state)
{
    static const char *order[] = {
        "CompObj", "WordDocument", "Storage", "\x05SummaryInformation",
        "Empty", "Donn\xc3\xa9" "es", "Storage/Inner", "Storage/Sub",
        "Storage/Sub/Deep"};
    size_t len, i, got;
    uint8_t *file = ow_build(items, NITEMS, &len);
    static uint8_t buf[20000];
    char *dir, *path;
    vl_error err = {0};
    vl_ole2 *h;

    write_file(file, len, &dir, &path);
    if (vl_ole2_open(path, "doc.ole", &h, &err) != VL_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(vl_ole2_count(h), NITEMS);
    /* Children of a storage in tree order, storages before their
     * contents (breadth first). */
    for (i = 0; i < NITEMS; i++) {
        const char *n;
        int is_stream;
        uint64_t size;
        vl_ole2_entry(h, i, &n, &is_stream, &size);
        assert_string_equal(n, order[i]);
    }
    for (i = 0; i < NITEMS; i++) {
        size_t k = find(h, items[i].path);
        int is_stream;
        uint64_t size;
        const char *n;
        vl_ole2_entry(h, k, &n, &is_stream, &size);
        assert_int_equal(is_stream, !items[i].storage);
        assert_int_equal(size, items[i].storage ? 0 : items[i].len);
        memset(buf, 0xEE, sizeof buf);
        if (vl_ole2_read(h, k, buf, sizeof buf, &got, &err) != VL_OK)
            fail_msg("%s: %s", items[i].path, err.msg);
        assert_int_equal(got, items[i].storage ? 0 : items[i].len);
        if (got)
            assert_memory_equal(buf, items[i].data, got);
    }
    /* A cap: only the first bytes; and reads from an offset, across
     * sector boundaries, at the tail. */
    i = find(h, "WordDocument");
    assert_int_equal(vl_ole2_read(h, i, buf, 700, &got, &err), VL_OK);
    assert_int_equal(got, 700);
    assert_memory_equal(buf, big, 700);
    assert_int_equal(vl_ole2_read_at(h, i, 9000, buf, 4096, &got, &err),
                     VL_OK);
    assert_int_equal(got, 1000);
    assert_memory_equal(buf, big + 9000, 1000);
    assert_int_equal(vl_ole2_read_at(h, i, 1023, buf, 3, &got, &err), VL_OK);
    assert_int_equal(got, 3);
    assert_memory_equal(buf, big + 1023, 3);
    assert_int_equal(vl_ole2_read_at(h, i, 10000, buf, 10, &got, &err),
                     VL_OK);
    assert_int_equal(got, 0);
    i = find(h, "Storage/Inner");
    assert_int_equal(vl_ole2_read_at(h, i, 100, buf, 300, &got, &err), VL_OK);
    assert_int_equal(got, 300);
    assert_memory_equal(buf, inner + 100, 300);
    vl_ole2_close(h);
    free(file);
    cleanup(dir, path);
}

/* Open a patched copy: VL_EINPUT at open, or at reading every stream,
 * with a message naming the file and holding want. */
static void expect_refused(const uint8_t *file, size_t len, const char *want)
{
    char *dir, *path;
    vl_error err = {0};
    vl_ole2 *h = NULL;
    static uint8_t buf[16384];
    int rc;

    write_file(file, len, &dir, &path);
    rc = vl_ole2_open(path, "bad.doc", &h, &err);
    if (rc == VL_OK) {
        size_t i, got;
        for (i = 0; i < vl_ole2_count(h) && rc == VL_OK; i++)
            rc = vl_ole2_read(h, i, buf, sizeof buf, &got, &err);
        vl_ole2_close(h);
    }
    assert_int_equal(rc, VL_EINPUT);
    if (!strstr(err.msg, "bad.doc") || !strstr(err.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
    cleanup(dir, path);
}

static void put32(uint8_t *p, uint32_t v) { ow_put32(p, v); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void test_corrupt(void **state)
{
    size_t len, wd, inner_e;
    uint8_t *file = ow_build(items, NITEMS, &len);
    uint8_t *c = malloc(len);
    uint32_t start;

    /* Entries are written in the order given: WordDocument is 2. */
    wd = ow_dir_offset(file, 2);
    inner_e = ow_dir_offset(file, 7);
    start = get32(file + wd + 116);

    memcpy(c, file, len);
    c[0] = 0xD1;
    expect_refused(c, len, "signature");

    memcpy(c, file, len);
    put32(c + 512 + 4 * start + 4, start);        /* second sector: back */
    expect_refused(c, len, "loops");

    memcpy(c, file, len);
    put32(c + 512 + 4 * start, 5000000);           /* beyond the file */
    expect_refused(c, len, "loops or leaves the file");

    memcpy(c, file, len);
    put32(c + wd + 116, 70000);                    /* stream start */
    expect_refused(c, len, "out of range");

    memcpy(c, file, len);
    put32(c + 48, 123456);                         /* directory start */
    expect_refused(c, len, "out of range");

    memcpy(c, file, len);
    put32(c + 76, 99999);                          /* the FAT's sector */
    expect_refused(c, len, "beyond the end of the file");

    memcpy(c, file, len);
    expect_refused(c, 1536, "out of range");      /* truncated */
    expect_refused(c, 300, "shorter than its header");

    memcpy(c, file, len);
    put32(c + inner_e + 72, 2);   /* a right sibling already in the root */
    expect_refused(c, len, "cycle");

    memcpy(c, file, len);
    put32(c + ow_dir_offset(file, 8) + 76, 3);     /* Sub holds Storage */
    expect_refused(c, len, "cycle");

    memcpy(c, file, len);
    put32(c + wd + 68, 4000);                      /* left: no such entry */
    expect_refused(c, len, "refers to entry");

    memcpy(c, file, len);
    c[ow_dir_offset(file, 0) + 66] = 2;
    expect_refused(c, len, "not the root");

    memcpy(c, file, len);
    put32(c + ow_dir_offset(file, 1) + 116, 1000); /* CompObj: mini index */
    expect_refused(c, len, "out of range");

    memcpy(c, file, len);
    put32(c + ow_dir_offset(file, 1) + 120, 4000); /* CompObj grows */
    expect_refused(c, len, "ends before its size");

    memcpy(c, file, len);
    put32(c + wd + 120, 4000000);                  /* bigger than the file */
    expect_refused(c, len, "larger than the file");

    memcpy(c, file, len);
    c[26] = 4;                                     /* v4, 512-byte sectors */
    expect_refused(c, len, "version 4");

    memcpy(c, file, len);
    put32(c + 56, 512);
    expect_refused(c, len, "cutoff");

    memcpy(c, file, len);
    put32(c + 72, 1);                              /* DIFAT sector count */
    put32(c + 44, 200);                            /* more FAT than listed */
    expect_refused(c, len, "FAT sectors");
    free(c);
    free(file);
}

/* Every truncation of a good file is refused or read; never anything
 * else (the sanitizer build catches reads out of bounds). */
static void test_truncations(void **state)
{
    size_t len, cut;
    uint8_t *file = ow_build(items, NITEMS, &len);
    static uint8_t buf[16384];

    for (cut = 0; cut <= len; cut += 97) {
        char *dir, *path;
        vl_error err = {0};
        vl_ole2 *h;
        int rc;

        write_file(file, cut, &dir, &path);
        rc = vl_ole2_open(path, NULL, &h, &err);
        if (rc == VL_OK) {
            size_t i, got;
            for (i = 0; i < vl_ole2_count(h); i++) {
                rc = vl_ole2_read(h, i, buf, sizeof buf, &got, &err);
                assert_true(rc == VL_OK || rc == VL_EINPUT);
            }
            vl_ole2_close(h);
        } else {
            assert_int_equal(rc, VL_EINPUT);
            assert_non_null(strstr(err.msg, "doc.ole"));
        }
        cleanup(dir, path);
    }
    free(file);
}

static void test_depth_bound(void **state)
{
    ow_item deepitems[80];
    char paths[80][400];
    size_t i, len;
    uint8_t *file;

    for (i = 0; i < 80; i++) {
        snprintf(paths[i], sizeof paths[i], "%s%sd", i ? paths[i - 1] : "",
                 i ? "/" : "");
        deepitems[i] = (ow_item){paths[i], NULL, 0, 1};
    }
    file = ow_build(deepitems, 80, &len);
    expect_refused(file, len, "nested deeper");
    free(file);
    /* 60 levels are fine. */
    {
        char *dir, *path;
        vl_error err = {0};
        vl_ole2 *h;
        const char *n;
        file = ow_build(deepitems, 60, &len);
        write_file(file, len, &dir, &path);
        assert_int_equal(vl_ole2_open(path, NULL, &h, &err), VL_OK);
        assert_int_equal(vl_ole2_count(h), 60);
        vl_ole2_entry(h, 59, &n, NULL, NULL);
        assert_string_equal(n, paths[59]);
        vl_ole2_close(h);
        cleanup(dir, path);
        free(file);
    }
}

static void test_not_a_file(void **state)
{
    vl_error err = {0};
    vl_ole2 *h;
    char *dir = tmpdir();
    char *p = vl_path_join(dir, "absent");

    assert_int_equal(vl_ole2_open(p, NULL, &h, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "absent"));
    assert_int_equal(vl_ole2_open(dir, NULL, &h, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "not a regular file"));
    free(p);
    cleanup(dir, vl_strdup(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_depth_bound),
        cmocka_unit_test(test_not_a_file),
    };
    fill();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
