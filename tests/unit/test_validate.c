/* OCFL validator: every fixture made by tests/fixtures/ocfl/make-fixtures.
 * A bad fixture's name starts with the exact set of codes expected
 * ("E023+E042-..."); a good fixture must give no error. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* A white-box test: it uses storage/'s private backend_private.h and validate_private.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_STORAGE_INTERNAL
#include "backend_private.h"
#include "validate_private.h"
#include "vl_storage.h"

static char fixtures[4096];

typedef struct seen {
    char codes[4096];        /* "+E023+E042+" style, sorted on compare */
    size_t errors, warnings;
    char last_message[2048];
    char last_object[1024];
    char last_path[1024];
    /* The facts of the last finding that has a problem ("<null>" = NULL). */
    struct {
        char code[8];
        int problem;
        char object_root[1024], path[1024], content_path[1024];
        char algorithm[32], expected[160], actual[160];
    } facts;
} seen;

#define KEEP(dst, src) snprintf(dst, sizeof dst, "%s", (src) ? (src) : "<null>")

static void collect(void *arg, const vl_finding *f)
{
    seen *s = arg;
    char key[8];
    snprintf(key, sizeof key, "+%s+", f->code);
    if (!strstr(s->codes, key)) {
        if (!s->codes[0])
            strcat(s->codes, "+");
        strncat(s->codes, f->code, sizeof s->codes - strlen(s->codes) - 8);
        strcat(s->codes, "+");
    }
    assert_true(f->severity == (f->code[0] == 'W' ? VL_SEV_WARNING
                                                   : VL_SEV_ERROR));
    assert_non_null(f->object);
    assert_non_null(f->path);
    assert_true(f->message[0] != '\0');
    snprintf(s->last_message, sizeof s->last_message, "%s", f->message);
    snprintf(s->last_object, sizeof s->last_object, "%s", f->object);
    snprintf(s->last_path, sizeof s->last_path, "%s", f->path);
    if (f->problem != VL_PROBLEM_OTHER) {
        KEEP(s->facts.code, f->code);
        s->facts.problem = f->problem;
        KEEP(s->facts.object_root, f->object_root);
        KEEP(s->facts.path, f->path);
        KEEP(s->facts.content_path, f->content_path);
        KEEP(s->facts.algorithm, f->algorithm);
        KEEP(s->facts.expected, f->expected);
        KEEP(s->facts.actual, f->actual);
    }
}

/* Validate a fixture folder as `vellum validate --path` does: an object
 * or a storage root, told apart by vl_validate_path itself (a folder
 * without a declaration is an object missing it, or a storage root missing
 * its own when objects are below it). */
static int run(const char *dir, int digests, int threads, seen *s,
               vl_validate_counts *c)
{
    vl_validate_options o = {.check_digests = digests, .nthreads = threads,
                             .on_finding = collect, .arg = s};
    vl_error err = {0};
    memset(c, 0, sizeof *c);
    memset(s, 0, sizeof *s);
    int rc = vl_validate_path(dir, &o, c, &err);
    if (rc != VL_OK)
        print_error("%s: %s\n", dir, err.msg);
    return rc;
}

static int code_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "+E042+E023+" or "E023+E042" -> "E023+E042" */
static void normalise(const char *in, char *out, size_t cap)
{
    char buf[4096], *parts[256];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", in);
    for (char *t = strtok(buf, "+"); t && n < 256; t = strtok(NULL, "+"))
        parts[n++] = t;
    qsort(parts, n, sizeof *parts, code_cmp);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "+" : "",
                 parts[i]);
}

static void test_bad(void **state)
{
    const char *dir = *state;
    const char *name = strrchr(dir, '/') + 1;
    char want_raw[256], want[256], got[4096];
    size_t n = strcspn(name, "-");
    snprintf(want_raw, sizeof want_raw, "%.*s", (int)n, name);
    normalise(want_raw, want, sizeof want);
    seen s;
    vl_validate_counts c;
    assert_int_equal(run(dir, 1, 0, &s, &c), VL_OK);
    normalise(s.codes, got, sizeof got);
    if (strcmp(want, got))
        print_error("%s: expected %s, got %s (last: %s)\n", name, want, got,
                    s.last_message);
    assert_string_equal(want, got);
}

static void test_good(void **state)
{
    seen s;
    vl_validate_counts c;
    assert_int_equal(run(*state, 1, 0, &s, &c), VL_OK);
    if (c.errors)
        print_error("%s: %s\n", (const char *)*state, s.last_message);
    assert_int_equal(c.errors, 0);
    assert_true(c.objects >= 1);
}

static char *fixture(const char *rel)
{
    static char buf[8][4200];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", fixtures, rel);
    return buf[k];
}

static void test_no_digests_skips_content(void **state)
{
    seen s;
    vl_validate_counts c;
    const char *d = fixture("bad/E092-content-digest-mismatch");
    assert_int_equal(run(d, 0, 0, &s, &c), VL_OK);
    assert_int_equal(c.errors, 0);
    assert_int_equal(run(d, 1, 1, &s, &c), VL_OK);
    assert_int_equal(c.errors, 1);
    /* the message names the file and the object is the inventory id */
    assert_non_null(strstr(s.last_message, "v1/content/a.txt"));
    assert_string_equal(s.last_object, "urn:example:E092-content-digest-mismatch");
}

/* The facts of a content digest mismatch: the full digests, not the
 * message's shortened ones, on one thread and on several. */
static void test_mismatch_facts(void **state)
{
    seen s;
    vl_validate_counts c;
    char want[VL_DIGEST_HEX_MAX], have[VL_DIGEST_HEX_MAX];
    vl_digest_buffer(VL_SHA512, "alpha\n", 6, want);
    vl_digest_buffer(VL_SHA512, "ALPHA\n", 6, have);
    assert_int_equal(strlen(want), 128);
    for (int threads = 1; threads <= 4; threads += 3) {
        assert_int_equal(run(fixture("bad/E092-content-digest-mismatch"), 1,
                             threads, &s, &c), VL_OK);
        assert_int_equal(c.errors, 1);
        assert_string_equal(s.facts.code, "E092");
        assert_int_equal(s.facts.problem, VL_PROBLEM_MISMATCH);
        assert_string_equal(s.facts.object_root, "");
        assert_string_equal(s.facts.path, "inventory.json");
        assert_string_equal(s.facts.content_path, "v1/content/a.txt");
        assert_string_equal(s.facts.algorithm, "sha512");
        assert_string_equal(s.facts.expected, want);
        assert_string_equal(s.facts.actual, have);
        /* the message still shortens them */
        assert_null(strstr(s.last_message, want));
    }
}

/* An older inventory's digest in its own algorithm: reported against that
 * inventory, with that algorithm. */
static void test_older_inventory_facts(void **state)
{
    seen s;
    vl_validate_counts c;
    char want[VL_DIGEST_HEX_MAX], have[VL_DIGEST_HEX_MAX];
    vl_digest_buffer(VL_SHA256, "ALPHA\n", 6, want);
    vl_digest_buffer(VL_SHA256, "alpha\n", 6, have);
    for (int threads = 1; threads <= 4; threads += 3) {
        assert_int_equal(run(fixture("bad/E092+W004-older-sha256-inventory-"
                                     "wrong-digest"), 1, threads, &s, &c),
                         VL_OK);
        assert_int_equal(c.errors, 1);
        assert_int_equal(c.warnings, 1);
        assert_string_equal(s.facts.code, "E092");
        assert_int_equal(s.facts.problem, VL_PROBLEM_MISMATCH);
        assert_string_equal(s.facts.path, "v1/inventory.json");
        assert_string_equal(s.facts.content_path, "v1/content/a.txt");
        assert_string_equal(s.facts.algorithm, "sha256");
        assert_string_equal(s.facts.expected, want);
        assert_string_equal(s.facts.actual, have);
    }
    /* --no-digests: the structure only */
    assert_int_equal(run(fixture("bad/E092+W004-older-sha256-inventory-"
                                 "wrong-digest"), 0, 0, &s, &c), VL_OK);
    assert_int_equal(c.errors, 0);
}

static void test_fixity_mismatch_facts(void **state)
{
    seen s;
    vl_validate_counts c;
    char have[VL_DIGEST_HEX_MAX];
    vl_digest_buffer(VL_MD5, "alpha\n", 6, have);
    assert_int_equal(run(fixture("bad/E093-fixity-mismatch"), 1, 0, &s, &c),
                     VL_OK);
    assert_string_equal(s.facts.code, "E093");
    assert_int_equal(s.facts.problem, VL_PROBLEM_MISMATCH);
    assert_string_equal(s.facts.content_path, "v1/content/a.txt");
    assert_string_equal(s.facts.algorithm, "md5");
    assert_string_equal(s.facts.expected, "00000000000000000000000000000000");
    assert_string_equal(s.facts.actual, have);
}

static void test_missing_facts(void **state)
{
    seen s;
    vl_validate_counts c;
    assert_int_equal(run(fixture("bad/E092-missing-content-file"), 1, 0, &s,
                         &c), VL_OK);
    assert_int_equal(c.errors, 1);
    assert_string_equal(s.facts.code, "E092");
    assert_int_equal(s.facts.problem, VL_PROBLEM_MISSING);
    assert_string_equal(s.facts.content_path, "v2/content/b.txt");
    assert_string_equal(s.facts.algorithm, "<null>");
    assert_string_equal(s.facts.expected, "<null>");
    assert_string_equal(s.facts.actual, "<null>");
}

/* A sidecar that disagrees: expected is the sidecar's, actual the
 * inventory's own digest. */
static void test_sidecar_facts(void **state)
{
    seen s;
    vl_validate_counts c;
    const char *d = fixture("bad/E060-sidecar-digest-wrong");
    char inv[4300], have[VL_DIGEST_HEX_MAX], zeros[129];
    vl_buf b;
    vl_error err = {0};
    snprintf(inv, sizeof inv, "%s/inventory.json", d);
    vl_buf_init(&b, 0);
    assert_int_equal(vl_fs_read_file(inv, 1 << 20, &b, &err), VL_OK);
    vl_digest_buffer(VL_SHA512, b.data, b.len, have);
    vl_buf_release(&b);
    memset(zeros, '0', 128);
    zeros[128] = '\0';
    assert_int_equal(run(d, 1, 0, &s, &c), VL_OK);
    assert_string_equal(s.facts.code, "E060");
    assert_int_equal(s.facts.problem, VL_PROBLEM_MISMATCH);
    assert_string_equal(s.facts.content_path, "inventory.json.sha512");
    assert_string_equal(s.facts.algorithm, "sha512");
    assert_string_equal(s.facts.expected, zeros);
    assert_string_equal(s.facts.actual, have);
}

static void test_threads_agree(void **state)
{
    seen s1, s2;
    vl_validate_counts c1, c2;
    const char *d = fixture("bad/E093-fixity-mismatch");
    assert_int_equal(run(d, 1, 1, &s1, &c1), VL_OK);
    assert_int_equal(run(d, 1, 4, &s2, &c2), VL_OK);
    assert_string_equal(s1.codes, s2.codes);
    assert_int_equal(c1.errors, c2.errors);
}

static void test_storage_root_counts(void **state)
{
    seen s;
    vl_validate_counts c;
    assert_int_equal(run(fixture("good/storage-root-0004"), 1, 0, &s, &c),
                     VL_OK);
    assert_int_equal(c.objects, 2);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.warnings, 0);
    /* storage root findings carry the path relative to the root */
    assert_int_equal(run(fixture("bad/E084-file-in-intermediate-folder"), 1, 0,
                         &s, &c), VL_OK);
    assert_string_equal(s.last_path, "aa/stray.txt");
}

/* on_object: each object once, after its findings, with the size of its
 * root inventory.json as stored. */
typedef struct sizes_seen {
    int n, findings_after;
    char object[4][128];
    uint64_t bytes[4];
    int known[4];
} sizes_seen;

static void sizes_finding(void *arg, const vl_finding *f)
{
    (void)f;
    ((sizes_seen *)arg)->findings_after++;
}

static void sizes_object(void *arg, const vl_validated_object *vo)
{
    sizes_seen *s = arg;
    if (s->n < 4) {
        snprintf(s->object[s->n], sizeof s->object[0], "%s", vo->object);
        s->bytes[s->n] = vo->inventory_bytes;
        s->known[s->n] = vo->inventory_known;
        /* a storage root's own findings may follow; an object's may not */
        s->findings_after = 0;
    }
    s->n++;
}

static void test_object_sizes(void **state)
{
    sizes_seen s;
    vl_validate_options o = {.check_digests = 1, .on_finding = sizes_finding,
                             .on_object = sizes_object, .arg = &s};
    vl_validate_counts c = {0};
    vl_error err = {0};
    char inv[4300];
    struct stat st;
    memset(&s, 0, sizeof s);
    snprintf(inv, sizeof inv, "%s/good/minimal/inventory.json", fixtures);
    assert_int_equal(stat(inv, &st), 0);
    snprintf(inv, sizeof inv, "%s/good/minimal", fixtures);
    assert_int_equal(vl_validate_path(inv, &o, &c, &err), VL_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.known[0], 1);
    assert_int_equal(s.bytes[0], (uint64_t)st.st_size);
    assert_int_equal(s.findings_after, 0);
    /* a storage root: once per object */
    memset(&s, 0, sizeof s);
    memset(&c, 0, sizeof c);
    snprintf(inv, sizeof inv, "%s/good/storage-root-0004", fixtures);
    assert_int_equal(vl_validate_path(inv, &o, &c, &err), VL_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(c.objects, 2);
    assert_true(s.known[0] && s.known[1] && s.bytes[0] > 0 && s.bytes[1] > 0);
    assert_string_not_equal(s.object[0], s.object[1]);
    /* no inventory: reported, its size unknown */
    char tmp[] = "/tmp/vellum-sizes-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    snprintf(inv, sizeof inv, "%s/stray.txt", tmp);
    FILE *fp = fopen(inv, "w");
    assert_non_null(fp);
    fclose(fp);
    memset(&s, 0, sizeof s);
    assert_int_equal(vl_validate_path(tmp, &o, &c, &err), VL_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.known[0], 0);
    assert_int_equal(s.bytes[0], 0);
    unlink(inv);
    rmdir(tmp);
}

/* Only a missing path or a file is refused; any folder is validated. */
static void test_not_ocfl(void **state)
{
    vl_validate_options o = {0};
    vl_validate_counts c = {0};
    vl_error err = {0};
    char file[4300];
    assert_int_equal(vl_validate_path("/nonexistent/vellum", &o, &c, &err),
                     VL_EINPUT);
    assert_non_null(strstr(err.msg, "does not exist"));
    snprintf(file, sizeof file, "%s/good/minimal/inventory.json", fixtures);
    assert_int_equal(vl_validate_path(file, &o, &c, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "is not a folder"));
}

/* A folder without a declaration is an object missing it. */
static void test_folder_without_declaration(void **state)
{
    seen s;
    vl_validate_counts c;
    char got[256];
    assert_int_equal(run(fixture("bad/E003+E063-empty-folder"), 1, 0, &s, &c),
                     VL_OK);
    assert_int_equal(c.objects, 1);
    assert_int_equal(c.errors, 2);
    normalise(s.codes, got, sizeof got);
    assert_string_equal(got, "E003+E063");
    /* a tree of objects without a root declaration is a storage root */
    assert_int_equal(run(fixture("bad/E069-no-root-declaration"), 1, 0, &s,
                         &c), VL_OK);
    normalise(s.codes, got, sizeof got);
    assert_string_equal(got, "E069");
    assert_int_equal(c.objects, 1);
}

static void buffer_codes(const char *json, char *out, size_t cap)
{
    seen s;
    memset(&s, 0, sizeof s);
    vl_validate_options o = {.on_finding = collect, .arg = &s};
    vl_validate_counts c = {0};
    vl_error err = {0};
    assert_int_equal(vl_validate_inventory_buffer(json, strlen(json), &o, &c,
                                                  &err), VL_OK);
    normalise(s.codes, out, cap);
}

static void test_inventory_buffer(void **state)
{
    char got[1024];
    const char *good =
        "{\"id\":\"urn:x\",\"type\":\"https://ocfl.io/1.1/spec/#inventory\","
        "\"digestAlgorithm\":\"sha512\",\"head\":\"v1\",\"manifest\":{},"
        "\"versions\":{\"v1\":{\"created\":\"2024-01-01T00:00:00+01:00\","
        "\"message\":\"m\",\"user\":{\"name\":\"a\",\"address\":"
        "\"mailto:a@b\"},\"state\":{}}}}";
    buffer_codes(good, got, sizeof got);
    assert_string_equal(got, "");
    buffer_codes("{\"id\":1,\"id\":2}", got, sizeof got);
    assert_string_equal(got, "E033");
    buffer_codes("[]", got, sizeof got);
    assert_string_equal(got, "E033");
    buffer_codes("{}", got, sizeof got);
    assert_string_equal(got, "E036+E041+E043");
    buffer_codes("{\"id\":\"urn:x\",\"type\":\"https://ocfl.io/1.0/spec/"
                 "#inventory\",\"digestAlgorithm\":\"sha512\",\"head\":\"v1\","
                 "\"manifest\":{},\"versions\":{\"v1\":{\"created\":"
                 "\"2024-01-01T00:00:00Z\",\"state\":{}}},\"fixity\":null}",
                 got, sizeof got);
    assert_string_equal(got, "E056+W007");   /* 1.0 has no E111 */
}

/* An inventory with two files, manifest and state; MANIFEST, STATE and
 * FIXITY are spliced in (with their leading comma) so that each case
 * differs from it by one member. */
static void strict_codes(const char *manifest_extra, const char *state_extra,
                         const char *fixity, const char *message, char *out,
                         size_t cap)
{
    char a[129], b[129], json[4096];
    memset(a, 'a', 128);
    memset(b, 'b', 128);
    a[128] = b[128] = '\0';
    snprintf(json, sizeof json,
             "{\"id\":\"urn:x\",\"type\":\"https://ocfl.io/1.1/spec/"
             "#inventory\",\"digestAlgorithm\":\"sha512\",\"head\":\"v1\","
             "\"manifest\":{\"%s\":[\"v1/content/a\"],\"%s\":"
             "[\"v1/content/b\"]%s},\"versions\":{\"v1\":{\"created\":"
             "\"2024-01-01T00:00:00Z\",\"message\":%s,\"user\":{\"name\":"
             "\"n\",\"address\":\"mailto:a@b\"},\"state\":{\"%s\":[\"a\"],"
             "\"%s\":[\"b\"]%s}}}%s}",
             a, b, manifest_extra, message, a, b, state_extra, fixity);
    buffer_codes(json, out, cap);
}

/* The inventory is read streamed, its big maps into a scratch index; it
 * must be as strict as a document parser was: a key twice in any map, a
 * \u0000 or an unpaired surrogate in any string, a number no C type holds
 * make it not JSON (E033, and nothing else). */
static void test_inventory_strict(void **state)
{
    char got[1024], dup[300];
    (void)state;
    strict_codes("", "", "", "\"m\"", got, sizeof got);
    assert_string_equal(got, "");
    /* the same digest twice inside the manifest */
    snprintf(dup, sizeof dup, ",\"%0128d\":[\"v1/content/c\"],"
             "\"%0128d\":[\"v1/content/d\"]", 0, 0);
    strict_codes(dup, "", "", "\"m\"", got, sizeof got);
    assert_string_equal(got, "E033");
    /* the same digest twice inside a version's state */
    snprintf(dup, sizeof dup, ",\"%0128d\":[\"c\"],\"%0128d\":[\"d\"]",
             0, 0);
    strict_codes("", dup, "", "\"m\"", got, sizeof got);
    assert_string_equal(got, "E033");
    /* ... inside a fixity block, and inside a value the index drops */
    strict_codes("", "", ",\"fixity\":{\"md5\":{\"0\":[\"v1/content/a\"],"
                 "\"0\":[\"v1/content/b\"]}}", "\"m\"", got, sizeof got);
    assert_string_equal(got, "E033");
    strict_codes(",\"x\":{\"k\":1,\"k\":2}", "", "", "\"m\"", got,
                 sizeof got);
    assert_string_equal(got, "E033");
    /* alike but for case is a finding, not a parse error */
    snprintf(dup, sizeof dup, ",\"%0127dA\":[\"v1/content/c\"],"
             "\"%0127da\":[\"v1/content/d\"]", 0, 0);
    strict_codes(dup, "", "", "\"m\"", got, sizeof got);
    assert_string_equal(got, "E096+E107");
    strict_codes(",\"x\":[\"v1/content/\\u0000\"]", "", "", "\"m\"",
                 got, sizeof got);
    assert_string_equal(got, "E033");
    strict_codes("", "", "", "\"\\ud834x\"", got, sizeof got);
    assert_string_equal(got, "E033");
    strict_codes("", "", "", "\"\\ud834\\udd1e\"", got, sizeof got);
    assert_string_equal(got, "");
    strict_codes("", "", "", "99999999999999999999", got, sizeof got);
    assert_string_equal(got, "E033");
    strict_codes("", "", "", "\"\xc0\xaf\"", got, sizeof got);
    assert_string_equal(got, "E033");
}

int main(void)
{
    const char *tests = getenv("VELLUM_TESTS");
    char tmpl[] = "/tmp/vellum-validate-XXXXXX", cmd[8400];
    if (!mkdtemp(tmpl))
        return 1;
    snprintf(fixtures, sizeof fixtures, "%s", tmpl);
    snprintf(cmd, sizeof cmd, "python3 %s/fixtures/ocfl/make-fixtures %s",
             tests && *tests ? tests : "tests", fixtures);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot build fixtures: %s\n", cmd);
        return 1;
    }
    struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_no_digests_skips_content),
        cmocka_unit_test(test_mismatch_facts),
        cmocka_unit_test(test_fixity_mismatch_facts),
        cmocka_unit_test(test_older_inventory_facts),
        cmocka_unit_test(test_missing_facts),
        cmocka_unit_test(test_sidecar_facts),
        cmocka_unit_test(test_threads_agree),
        cmocka_unit_test(test_storage_root_counts),
        cmocka_unit_test(test_object_sizes),
        cmocka_unit_test(test_not_ocfl),
        cmocka_unit_test(test_folder_without_declaration),
        cmocka_unit_test(test_inventory_buffer),
        cmocka_unit_test(test_inventory_strict),
    };
    size_t nfixed = sizeof fixed / sizeof fixed[0], n = 0, cap = 512;
    struct CMUnitTest *all = calloc(cap, sizeof *all);
    char **names = calloc(cap, sizeof *names);
    for (size_t i = 0; i < nfixed; i++)
        all[n++] = fixed[i];
    const char *kinds[] = {"good", "bad"};
    for (int k = 0; k < 2; k++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", fixtures, kinds[k]);
        struct dirent **ents;
        int m = scandir(dir, &ents, NULL, alphasort);
        for (int i = 0; i < m; i++) {
            if (ents[i]->d_name[0] != '.' && n < cap) {
                names[n] = malloc(strlen(dir) + strlen(ents[i]->d_name) + 2);
                sprintf(names[n], "%s/%s", dir, ents[i]->d_name);
                all[n] = (struct CMUnitTest){
                    .name = strrchr(names[n], '/') - strlen(kinds[k]),
                    .test_func = k ? test_bad : test_good,
                    .initial_state = names[n]};
                n++;
            }
            free(ents[i]);
        }
        if (m >= 0)
            free(ents);
    }
    int failed = _cmocka_run_group_tests("validate", all, n, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(all);
    snprintf(cmd, sizeof cmd, "rm -rf %s", fixtures);
    if (system(cmd) != 0)
        return 1;
    return failed;
}
