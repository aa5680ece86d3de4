/* The streamed inventory: what it reads, what it refuses, and that what it
 * writes is, byte for byte, what a document parser and writer (jansson,
 * with vellum's old layout) make of the same inventory. */
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define VL_STORAGE_INTERNAL
#include "inventory_private.h"
#include "vl_storage.h"

static const char *rich =
    "{\"type\": \"https://ocfl.io/1.1/spec/#inventory\","
    " \"id\": \"urn:x:\\u00e9t\\u00e9 \\\"q\\\" \\/ back\\\\slash\","
    " \"head\": \"v10\", \"digestAlgorithm\": \"sha512\","
    " \"contentDirectory\": \"stuff\","
    " \"manifest\": {\"bb\": [\"v2/stuff/b\", \"v1/stuff/a\"], \"aa\": [\"v10/stuff/c\\ttab\"]},"
    " \"fixity\": {\"md5\": {\"m2\": [\"v2/stuff/b\"], \"m1\": [\"v1/stuff/a\"]},"
    "  \"sha1\": {\"s1\": [\"v1/stuff/a\"]}, \"empty\": {}},"
    " \"versions\": {"
    "  \"v2\": {\"created\": \"2026-01-02T00:00:00Z\", \"message\": \"two\\nlines\","
    "          \"user\": {\"name\": \"N\", \"address\": \"mailto:n@x\"},"
    "          \"state\": {\"bb\": [\"z\", \"a/\\u0001ctl\"]}},"
    "  \"v1\": {\"created\": \"2026-01-01T00:00:00Z\", \"state\": {\"bb\": [\"a\"]}},"
    "  \"v3\": {\"created\": \"c3\", \"state\": {}},"
    "  \"v4\": {\"created\": \"c4\", \"state\": {}}, \"v5\": {\"created\": \"c5\", \"state\": {}},"
    "  \"v6\": {\"created\": \"c6\", \"state\": {}}, \"v7\": {\"created\": \"c7\", \"state\": {}},"
    "  \"v8\": {\"created\": \"c8\", \"state\": {}}, \"v9\": {\"created\": \"c9\", \"state\": {}},"
    "  \"v10\": {\"created\": \"c10\", \"message\": \"\\u65e5\\u672c\","
    "           \"state\": {\"aa\": [\"data/\\u00e9\"], \"bb\": [\"METS.xml\", \"metadata/m\"]}}"
    " }}";

static int by_text(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a),
                  json_string_value(*(json_t *const *)b));
}

/* Path arrays in byte order, as vellum always wrote them. */
static void sort_arrays(json_t *j)
{
    const char *k;
    json_t *v;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v) sort_arrays(v);
    } else if (json_is_array(j)) {
        size_t n = json_array_size(j);
        json_t **items = malloc((n ? n : 1) * sizeof *items);
        assert_non_null(items);
        for (size_t i = 0; i < n; i++)
            items[i] = json_incref(json_array_get(j, i));
        qsort(items, n, sizeof *items, by_text);
        for (size_t i = 0; i < n; i++)
            json_array_set_new(j, i, items[i]);
        free(items);
    }
}

static char *jansson_layout(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    sort_arrays(j);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    assert_non_null(s);
    size_t n = strlen(s);
    char *out = malloc(n + 2);
    assert_non_null(out);
    memcpy(out, s, n);
    out[n] = '\n';
    out[n + 1] = '\0';
    free(s);
    return out;
}

static void test_written_as_a_document_writer_would(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory *inv = NULL;
    assert_int_equal(vl_inventory_parse(rich, strlen(rich), &inv, &err), VL_OK);
    size_t len = 0;
    char *ours = vl_inventory_serialize(inv, &len);
    char *theirs = jansson_layout(rich);
    assert_non_null(ours);
    assert_string_equal(ours, theirs);
    assert_int_equal(len, strlen(theirs));
    /* and it reads back to the same bytes */
    vl_inventory *back = NULL;
    assert_int_equal(vl_inventory_parse(ours, len, &back, &err), VL_OK);
    char *again = vl_inventory_serialize(back, NULL);
    assert_string_equal(again, ours);
    free(again);
    free(ours);
    free(theirs);
    vl_inventory_free(back);
    vl_inventory_free(inv);
}

static void test_reads_what_it_holds(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory *inv = NULL;
    vl_version_info vi;
    assert_int_equal(vl_inventory_parse(rich, strlen(rich), &inv, &err), VL_OK);
    assert_string_equal(vl_inventory_id(inv), "urn:x:\xc3\xa9t\xc3\xa9 \"q\" / back\\slash");
    assert_int_equal(vl_inventory_head(inv), 10);
    assert_string_equal(vl_inventory_content_dir(inv), "stuff");
    assert_int_equal(vl_inventory_digest_alg(inv), VL_SHA512);
    assert_string_equal(vl_inventory_lookup(inv, 2, "a/\x01" "ctl"), "bb");
    assert_null(vl_inventory_lookup(inv, 1, "z"));
    assert_null(vl_inventory_lookup(inv, 11, "a"));
    assert_string_equal(vl_inventory_content_path(inv, "bb"), "v1/stuff/a");
    assert_string_equal(vl_inventory_content_path(inv, "aa"), "v10/stuff/c\ttab");
    assert_null(vl_inventory_content_path(inv, "cc"));
    assert_string_equal(vl_inventory_fixity(inv, VL_MD5, "v2/stuff/b"), "m2");
    assert_string_equal(vl_inventory_fixity(inv, VL_SHA1, "v1/stuff/a"), "s1");
    assert_null(vl_inventory_fixity(inv, VL_SHA1, "v2/stuff/b"));
    assert_int_equal(vl_inventory_version_info(inv, 10, &vi), 0);
    assert_int_equal(vi.file_count, 3);
    assert_int_equal(vi.metadata_count, 2);
    assert_string_equal(vi.message, "\xe6\x97\xa5\xe6\x9c\xac");
    assert_null(vi.user_name);
    assert_int_equal(vl_inventory_version_info(inv, 2, &vi), 0);
    assert_string_equal(vi.user_name, "N");
    assert_string_equal(vi.user_address, "mailto:n@x");
    assert_string_equal(vi.message, "two\nlines");
    assert_int_equal(vl_inventory_version_info(inv, 11, &vi), -1);
    /* an answer holds while its thread makes 15 more lookups */
    const char *first = vl_inventory_content_path(inv, "bb");
    for (int i = 0; i < 15; i++)
        assert_string_equal(vl_inventory_lookup(inv, 10, "data/\xc3\xa9"), "aa");
    assert_string_equal(first, "v1/stuff/a");
    vl_inventory_free(inv);
}

/* Fed a byte at a time, the parser ends where it does fed whole. */
static void test_fed_in_pieces(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory_parser *p = NULL;
    vl_inventory *inv = NULL;
    assert_int_equal(vl_inventory_parser_new(&p, &err), VL_OK);
    for (size_t i = 0; rich[i]; i++)
        assert_int_equal(vl_inventory_parser_feed(p, rich + i, 1, &err), VL_OK);
    assert_int_equal(vl_inventory_parser_finish(p, &inv, &err), VL_OK);
    vl_inventory_parser_free(p);
    char *ours = vl_inventory_serialize(inv, NULL);
    char *theirs = jansson_layout(rich);
    assert_string_equal(ours, theirs);
    free(ours);
    free(theirs);
    vl_inventory_free(inv);
}

static const char *base_ok =
    "{\"id\": \"i\", \"type\": \"t\", \"digestAlgorithm\": \"sha256\", \"head\": \"v1\","
    " \"manifest\": {\"d\": [\"v1/content/f\"]},"
    " \"versions\": {\"v1\": {\"created\": \"c\", \"state\": {\"d\": [\"f\"]}}}}";

static void refused(const char *text, int status, const char *why)
{
    vl_error err = {0};
    vl_inventory *inv = NULL;
    int rc = vl_inventory_parse(text, strlen(text), &inv, &err);
    if (rc != status || !strstr(err.msg, why))
        fail_msg("%s: got %d \"%s\", wanted %d \"%s\"", text, rc, err.msg, status, why);
    assert_null(inv);
}

static void test_refusals(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory *inv = NULL;
    assert_int_equal(vl_inventory_parse(base_ok, strlen(base_ok), &inv, &err), VL_OK);
    assert_int_equal(vl_inventory_digest_alg(inv), VL_SHA256);
    vl_inventory_free(inv);

    refused("", VL_EINPUT, "not valid JSON");
    refused("[1, 2]", VL_EINPUT, "");
    refused("{\"id\": \"i\"", VL_EINPUT, "not valid JSON");
    refused("{\"id\": \"i\"} {}", VL_EINPUT, "not valid JSON");
    refused("{\"id\": \"\xff\"}", VL_EINPUT, "not valid JSON");
    /* a key twice: at the top, in the manifest, in a state, a version */
    refused("{\"id\": \"i\", \"id\": \"j\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"state\": {}}}}",
            VL_EINPUT, "duplicate");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {\"d\": [\"a\"], \"e\": [\"b\"], \"d\": [\"c\"]},"
            " \"versions\": {\"v1\": {\"state\": {}}}}",
            VL_EINPUT, "duplicate");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"state\": {\"d\": [\"a\"],"
            " \"d\": [\"b\"]}}}}",
            VL_EINPUT, "duplicate");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"state\": {}}, \"v1\": {\"state\": {}}}}",
            VL_EINPUT, "duplicate");
    /* members missing or of the wrong type */
    refused("{\"digestAlgorithm\": \"sha512\", \"head\": \"v1\", \"manifest\": {},"
            " \"versions\": {\"v1\": {\"state\": {}}}}", VL_EINPUT, "lacks id");
    refused("{\"id\": 5, \"digestAlgorithm\": \"sha512\", \"head\": \"v1\", \"manifest\": {},"
            " \"versions\": {\"v1\": {\"state\": {}}}}", VL_EINPUT, "lacks id");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\", \"manifest\": [],"
            " \"versions\": {\"v1\": {\"state\": {}}}}", VL_EINPUT, "lacks id");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {\"d\": [5]}, \"versions\": {\"v1\": {\"state\": {}}}}",
            VL_EINPUT, "lacks id");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {\"d\": \"a\"}, \"versions\": {\"v1\": {\"state\": {}}}}",
            VL_EINPUT, "lacks id");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"state\": {\"d\": [null]}}}}",
            VL_EINPUT, "lacks id");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"state\": []}}}",
            VL_EINPUT, "lacks id");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"md5\", \"head\": \"v1\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"state\": {}}}}",
            VL_EINPUT, "digestAlgorithm \"md5\" is not sha512 or sha256");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"1\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"state\": {}}}}",
            VL_EINPUT, "head \"1\" is not a version");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v2\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"state\": {}}}}",
            VL_EINPUT, "version v2 is missing");
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\","
            " \"manifest\": {}, \"versions\": {\"v1\": {\"created\": \"c\"}}}",
            VL_EINPUT, "version v1 is missing or has no state");
    /* zero-padded heads need zero-padded versions */
    refused("{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v002\","
            " \"manifest\": {}, \"versions\": {\"v001\": {\"state\": {}}, \"v2\": {\"state\": {}}}}",
            VL_EINPUT, "version v002 is missing");
}

static void test_zero_padded_and_building(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory *inv = NULL;
    const char *text =
        "{\"id\": \"i\", \"digestAlgorithm\": \"sha512\", \"head\": \"v002\","
        " \"manifest\": {\"d\": [\"v001/content/f\"]},"
        " \"versions\": {\"v001\": {\"created\": \"a\", \"state\": {\"d\": [\"f\"]}},"
        " \"v002\": {\"created\": \"b\", \"state\": {\"d\": [\"f\", \"g\"]}}}}";
    char name[16];
    assert_int_equal(vl_inventory_parse(text, strlen(text), &inv, &err), VL_OK);
    assert_int_equal(vl_inventory_head(inv), 2);
    vl_inventory_version_name(inv, 3, name);
    assert_string_equal(name, "v003");
    assert_string_equal(vl_inventory_lookup(inv, 2, "g"), "d");
    /* a copy is independent of its source */
    vl_inventory *copy = vl_inventory_copy(inv);
    assert_non_null(copy);
    assert_int_equal(vl_inventory_version_add(copy, "c", NULL, NULL, NULL), 3);
    assert_int_equal(vl_inventory_manifest_add(copy, "e", "v003/content/h"), 0);
    assert_int_equal(vl_inventory_state_add(copy, 3, "e", "h"), 0);
    assert_int_equal(vl_inventory_head(inv), 2);
    assert_null(vl_inventory_content_path(inv, "e"));
    assert_string_equal(vl_inventory_content_path(copy, "e"), "v003/content/h");
    char *s = vl_inventory_serialize(copy, NULL);
    assert_non_null(strstr(s, "\"head\": \"v003\""));
    assert_non_null(strstr(s, "\"v003\": {\n      \"created\": \"c\",\n      \"state\""));
    free(s);
    /* the source reads on after the copy (it committed for the backup) */
    assert_string_equal(vl_inventory_lookup(inv, 1, "f"), "d");
    assert_int_equal(vl_inventory_manifest_add(inv, "x", "v002/content/x"), 0);
    assert_string_equal(vl_inventory_content_path(inv, "x"), "v002/content/x");
    assert_true(vl_inventory_truncate(copy, 2) == 0);
    assert_null(vl_inventory_content_path(copy, "e"));
    assert_int_equal(vl_inventory_head(copy), 2);
    vl_inventory_free(copy);
    vl_inventory_free(inv);
}

/* Lookups from several threads at once each get their own answers. */
typedef struct lookup_job {
    vl_inventory *inv;
    int which;
    int wrong;
} lookup_job;

static void *lookups(void *arg)
{
    lookup_job *j = arg;
    char digest[32], want[64];
    for (int i = 0; i < 2000; i++) {
        int k = (i * 7 + j->which) % 500;
        snprintf(digest, sizeof digest, "d%04d", k);
        snprintf(want, sizeof want, "v1/content/file-%04d", k);
        const char *got = vl_inventory_content_path(j->inv, digest);
        if (!got || strcmp(got, want) != 0)
            j->wrong++;
    }
    return NULL;
}

static void test_lookups_from_threads(void **state)
{
    (void)state;
    vl_inventory *inv = vl_inventory_new("t", VL_SHA512);
    assert_non_null(inv);
    assert_int_equal(vl_inventory_version_add(inv, "c", NULL, NULL, NULL), 1);
    for (int k = 0; k < 500; k++) {
        char d[32], p[64];
        snprintf(d, sizeof d, "d%04d", k);
        snprintf(p, sizeof p, "v1/content/file-%04d", k);
        assert_int_equal(vl_inventory_manifest_add(inv, d, p), 0);
    }
    pthread_t th[4];
    lookup_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (lookup_job){inv, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, lookups, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].wrong, 0);
    }
    vl_inventory_free(inv);
}

/* A large inventory streamed in: generated piece by piece, never whole. */
static void test_large_inventory_streamed(void **state)
{
    (void)state;
    enum { N = 100000 };
    vl_error err = {0};
    vl_inventory_parser *p = NULL;
    vl_inventory *inv = NULL;
    char piece[512];
    assert_int_equal(vl_inventory_parser_new(&p, &err), VL_OK);
#define FEED(...)                                                                  \
    do {                                                                           \
        int n_ = snprintf(piece, sizeof piece, __VA_ARGS__);                       \
        assert_int_equal(vl_inventory_parser_feed(p, piece, (size_t)n_, &err), VL_OK); \
    } while (0)
    FEED("{\"id\": \"big\", \"digestAlgorithm\": \"sha512\", \"head\": \"v1\", \"manifest\": {");
    for (int i = 0; i < N; i++)
        FEED("%s\"%0128d\": [\"v1/content/data/%d.txt\"]", i ? ", " : "", i, i);
    FEED("}, \"versions\": {\"v1\": {\"created\": \"c\", \"state\": {");
    for (int i = 0; i < N; i++)
        FEED("%s\"%0128d\": [\"data/%d.txt\"]", i ? ", " : "", i, i);
    FEED("}}}}");
#undef FEED
    assert_int_equal(vl_inventory_parser_finish(p, &inv, &err), VL_OK);
    vl_inventory_parser_free(p);
    vl_version_info vi;
    assert_int_equal(vl_inventory_version_info(inv, 1, &vi), 0);
    assert_int_equal(vi.file_count, N);
    char d[160];
    snprintf(d, sizeof d, "%0128d", 77777);
    assert_string_equal(vl_inventory_lookup(inv, 1, "data/77777.txt"), d);
    assert_string_equal(vl_inventory_content_path(inv, d), "v1/content/data/77777.txt");
    vl_inventory_free(inv);
}

/* ---- many versions: old states written back as they were read ---------- */

/* Digest of file k: hex whose order is not the files' order. */
static void file_digest(int k, char out[130])
{
    snprintf(out, 130, "%0120d%08x", 0, (unsigned)k * 2654435761u);
}

/* Path of file k: some need escapes, some are not ASCII. */
static void file_path(int k, char out[64])
{
    snprintf(out, 64, k % 5 == 1 ? "data/\"q\"\t%d/\xc3\xa9/x" : "data/f/%d.txt", k);
}

/* An inventory of `versions` versions, version v holding files 1..v (file 3
 * twice, under two paths), and an md5 fixity block: a document to compare
 * with. */
static json_t *many_versions(int versions)
{
    json_t *doc = json_object(), *manifest = json_object(), *vs = json_object();
    json_t *md5 = json_object();
    char d[130], path[64], name[16], cpath[96];
    for (int v = 1; v <= versions; v++) {
        json_t *state = json_object();
        for (int k = 1; k <= v; k++) {
            file_digest(k, d);
            file_path(k, path);
            json_t *arr = json_object_get(state, d);
            if (!arr)
                json_object_set_new(state, d, arr = json_array());
            json_array_append_new(arr, json_string(path));
            if (k == 3)
                json_array_append_new(arr, json_string("data/again/3"));
        }
        file_digest(v, d);
        file_path(v, path);
        snprintf(cpath, sizeof cpath, "v%d/content/%s", v, path);
        json_object_set_new(manifest, d, json_pack("[s]", cpath));
        json_object_set_new(md5, d, json_pack("[s]", cpath));
        snprintf(name, sizeof name, "v%d", v);
        json_object_set_new(vs, name, json_pack("{s:s, s:s, s:o, s:{s:s, s:s}}", "created",
                                                "2026-01-01T00:00:00Z", "message", "m\xc3\xa9",
                                                "state", state, "user", "name", "U",
                                                "address", "mailto:u@x"));
    }
    snprintf(name, sizeof name, "v%d", versions);
    json_object_set_new(doc, "id", json_string("urn:many/\"versions\""));
    json_object_set_new(doc, "type", json_string("https://ocfl.io/1.1/spec/#inventory"));
    json_object_set_new(doc, "digestAlgorithm", json_string("sha512"));
    json_object_set_new(doc, "head", json_string(name));
    json_object_set_new(doc, "manifest", manifest);
    json_object_set_new(doc, "fixity", json_pack("{s:o}", "md5", md5));
    json_object_set_new(doc, "versions", vs);
    return doc;
}

static char *layout_of(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    char *out = jansson_layout(text);
    free(text);
    return out;
}

static int count_row(void *arg, const char *logical, const char *digest)
{
    (void)logical;
    (void)digest;
    ++*(int *)arg;
    return 0;
}

/* Add version `num` (files 1..num) the way a transaction does. */
static void add_version(vl_inventory *inv, int num)
{
    char d[130], path[64], cpath[96];
    assert_int_equal(vl_inventory_version_add(inv, "2026-01-01T00:00:00Z", "m\xc3\xa9", "U",
                                              "mailto:u@x"), num);
    file_digest(num, d);
    file_path(num, path);
    snprintf(cpath, sizeof cpath, "v%d/content/%s", num, path);
    assert_int_equal(vl_inventory_manifest_add(inv, d, cpath), 0);
    assert_int_equal(vl_inventory_fixity_add(inv, VL_MD5, d, cpath), 0);
    for (int k = 1; k <= num; k++) {
        file_digest(k, d);
        file_path(k, path);
        assert_int_equal(vl_inventory_state_add(inv, num, d, path), 0);
        if (k == 3)
            assert_int_equal(vl_inventory_state_add(inv, num, d, "data/again/3"), 0);
    }
}

/* Parse text, add version head+1, and compare what is written with the
 * document writer's text of the same content; old versions still answer. */
static void check_new_version(const char *text, int versions)
{
    vl_error err = {0};
    vl_inventory *inv = NULL;
    char d[130], path[64];
    assert_int_equal(vl_inventory_parse(text, strlen(text), &inv, &err), VL_OK);
    json_t *want = many_versions(versions);
    char *before = layout_of(want);
    char *ours = vl_inventory_serialize(inv, NULL);
    assert_non_null(ours);
    assert_string_equal(ours, before);
    free(ours);
    add_version(inv, versions + 1);
    json_decref(want);
    want = many_versions(versions + 1);
    char *after = layout_of(want);
    ours = vl_inventory_serialize(inv, NULL);
    assert_non_null(ours);
    assert_string_equal(ours, after);
    free(ours);
    /* a copy writes the same */
    vl_inventory *copy = vl_inventory_copy(inv);
    assert_non_null(copy);
    ours = vl_inventory_serialize(copy, NULL);
    assert_string_equal(ours, after);
    free(ours);
    vl_inventory_free(copy);
    /* old versions answer from their text, read back when asked */
    for (int v = 1; v <= versions + 1; v += 3) {
        int rows = 0;
        for (int k = 1; k <= versions + 1; k++) {
            file_digest(k, d);
            file_path(k, path);
            const char *got = vl_inventory_lookup(inv, v, path);
            if (k <= v)
                assert_string_equal(got, d);
            else
                assert_null(got);
        }
        assert_int_equal(vl_inventory_state_foreach(inv, v, count_row, &rows), 0);
        assert_int_equal(rows, v >= 3 ? v + 1 : v);
    }
    assert_true(vl_inventory_states_equal(inv, 2, 2));
    assert_false(vl_inventory_states_equal(inv, 2, 3));
    assert_false(vl_inventory_failed(inv));
    /* written again after those reads, the same bytes */
    ours = vl_inventory_serialize(inv, NULL);
    assert_string_equal(ours, after);
    free(ours);
    /* and a version rolled back leaves the others as they were */
    assert_int_equal(vl_inventory_truncate(inv, versions), 0);
    ours = vl_inventory_serialize(inv, NULL);
    assert_string_equal(ours, before);
    free(ours);
    free(before);
    free(after);
    json_decref(want);
    vl_inventory_free(inv);
}

static void test_new_version_of_canonical_inventory(void **state)
{
    (void)state;
    json_t *doc = many_versions(12);
    char *text = layout_of(doc);
    check_new_version(text, 12);
    free(text);
    json_decref(doc);
}

/* Another tool's layout: compact, keys unsorted, escapes vellum never
 * writes (\/ and \uXXXX): what is written is still the canonical text. */
static void test_new_version_of_foreign_inventory(void **state)
{
    (void)state;
    json_t *doc = many_versions(12);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ESCAPE_SLASH | JSON_ENSURE_ASCII);
    assert_non_null(text);
    assert_non_null(strstr(text, "\\/"));
    assert_non_null(strcasestr(text, "\\u00e9"));
    check_new_version(text, 12);
    free(text);
    json_decref(doc);
}

/* States not in the writer's order: digests falling, paths falling, a
 * digest with no paths (which the writer leaves out), odd whitespace. */
static void test_state_out_of_order(void **state)
{
    (void)state;
    vl_error err = {0};
    vl_inventory *inv = NULL;
    const char *text =
        "{ \"id\" :\"i\",\"type\":\"t\",\"digestAlgorithm\":\"sha512\",\"head\":\"v4\","
        "\n\t\"manifest\":{\"b\":[\"v1/content/x\"],\"a\":[\"v1/content/y\"]},"
        "\"versions\":{"
        "\"v1\":{\"created\":\"c\",\"state\":{\"b\":[\"x\"],\"a\":[\"y\"]}},"
        "\"v2\":{\"created\":\"c\",\"state\":{\"a\":[\"y\",\"\\u0041\"],\"b\":[\"x\"]}},"
        "\"v3\":{\"created\":\"c\",\"state\":{\"a\":[\"y\"],\"b\":[],\"c\":[\"x\"]}},"
        "\"v4\":{\"created\":\"c\",\"state\":{  \"a\" : [ \"x\" , \"y\" ] , \"b\":[\"z\"]  }}}}";
    const char *same =
        "{\"id\":\"i\",\"type\":\"t\",\"digestAlgorithm\":\"sha512\",\"head\":\"v4\","
        "\"manifest\":{\"b\":[\"v1/content/x\"],\"a\":[\"v1/content/y\"]},"
        "\"versions\":{"
        "\"v1\":{\"created\":\"c\",\"state\":{\"b\":[\"x\"],\"a\":[\"y\"]}},"
        "\"v2\":{\"created\":\"c\",\"state\":{\"a\":[\"y\",\"A\"],\"b\":[\"x\"]}},"
        "\"v3\":{\"created\":\"c\",\"state\":{\"a\":[\"y\"],\"c\":[\"x\"]}},"
        "\"v4\":{\"created\":\"c\",\"state\":{\"a\":[\"x\",\"y\"],\"b\":[\"z\"]}}}}";
    assert_int_equal(vl_inventory_parse(text, strlen(text), &inv, &err), VL_OK);
    char *ours = vl_inventory_serialize(inv, NULL);
    char *theirs = jansson_layout(same);
    assert_string_equal(ours, theirs);
    assert_string_equal(vl_inventory_lookup(inv, 2, "A"), "a");
    assert_string_equal(vl_inventory_lookup(inv, 3, "x"), "c");
    assert_string_equal(vl_inventory_lookup(inv, 4, "z"), "b");
    assert_string_equal(vl_inventory_lookup(inv, 1, "x"), "b");
    vl_version_info vi;
    assert_int_equal(vl_inventory_version_info(inv, 3, &vi), 0);
    assert_int_equal(vi.file_count, 2);
    free(ours);
    free(theirs);
    vl_inventory_free(inv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_as_a_document_writer_would),
        cmocka_unit_test(test_reads_what_it_holds),
        cmocka_unit_test(test_fed_in_pieces),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_zero_padded_and_building),
        cmocka_unit_test(test_lookups_from_threads),
        cmocka_unit_test(test_large_inventory_streamed),
        cmocka_unit_test(test_new_version_of_canonical_inventory),
        cmocka_unit_test(test_new_version_of_foreign_inventory),
        cmocka_unit_test(test_state_out_of_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
