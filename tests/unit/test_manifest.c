/* Checksum manifests: donor md5sum/sha*sum/BSD formats, algorithm
 * inference, GNU escapes, BagIt percent-encoding, and every refusal with
 * its line number. */
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
#include "manifest_private.h"

#define MD5_A "0cc175b9c0f1b6a831c399e269772661"
#define MD5_B "92eb5ffee6ae2fec3ad71c777531578f"
#define SHA1_A "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
#define SHA256_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define SHA512_A                                                           \
    "1f40fc92da241694750979ee6cf582f2d5d7d28e18335de05abc54d0560e0f53"     \
    "02860c652bf08d560252aa5e74210546f369fbbbce8c12cfc7957b2652fe9a75"

#define MF_BAGIT VL_MF_BAGIT
#define MF_LEGACY VL_MF_LEGACY
#define MF_PAYLOAD VL_MF_PAYLOAD

static vl_manifest *parse_ok(const char *text, int hint, int bagit)
{
    vl_manifest *m = NULL;
    vl_error err = {0};
    int rc = vl_manifest_parse(text, strlen(text), hint, bagit, "donor.txt",
                               &m, &err);
    if (rc != VL_OK)
        fail_msg("unexpected refusal: %s", err.msg);
    assert_non_null(m);
    return m;
}

/* Parse must fail with VL_EINPUT and a message containing each of the
 * NULL-terminated fragments. */
static void parse_bad(const char *text, size_t len, int hint, int bagit, ...)
{
    vl_manifest *m = NULL;
    vl_error err = {0};
    va_list ap;
    const char *frag;
    int rc = vl_manifest_parse(text, len, hint, bagit, "donor.txt", &m, &err);

    if (rc != VL_EINPUT)
        fail_msg("expected VL_EINPUT, got %d for: %s", rc, text);
    assert_null(m);
    va_start(ap, bagit);
    while ((frag = va_arg(ap, const char *)) != NULL)
        if (!strstr(err.msg, frag))
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, frag);
    va_end(ap);
}

static void test_gnu_text_and_binary(void **state)
{
    vl_manifest *m = parse_ok(MD5_A "  a.txt\n" MD5_B " *dir/b.bin\n", -1, 0);
    const char *p, *h;

    assert_int_equal(vl_manifest_alg(m), VL_MD5);
    assert_int_equal(vl_manifest_count(m), 2);
    vl_manifest_entry(m, 1, &p, &h);
    assert_string_equal(p, "dir/b.bin");
    assert_string_equal(h, MD5_B);
    assert_string_equal(vl_manifest_lookup(m, "a.txt"), MD5_A);
    assert_null(vl_manifest_lookup(m, "missing"));
    vl_manifest_free(m);
}

static void test_infer_each_alg(void **state)
{
    static const struct {
        const char *hex;
        vl_digest_alg alg;
    } c[] = {{MD5_A, VL_MD5}, {SHA1_A, VL_SHA1}, {SHA256_A, VL_SHA256},
             {SHA512_A, VL_SHA512}};
    size_t i;

    for (i = 0; i < 4; i++) {
        char text[300];
        snprintf(text, sizeof text, "%s  x\n", c[i].hex);
        vl_manifest *m = parse_ok(text, -1, 0);
        assert_int_equal(vl_manifest_alg(m), c[i].alg);
        vl_manifest_free(m);
    }
}

static void test_bsd_tagged(void **state)
{
    vl_manifest *m = parse_ok("SHA256 (a b.txt) = " SHA256_A "\n"
                              "SHA256 (odd) = name) = " SHA256_A "\n",
                              -1, 0);
    assert_int_equal(vl_manifest_alg(m), VL_SHA256);
    assert_string_equal(vl_manifest_lookup(m, "a b.txt"), SHA256_A);
    assert_string_equal(vl_manifest_lookup(m, "odd) = name"), SHA256_A);
    vl_manifest_free(m);

    /* OpenSSL 3 "dgst" and macOS "md5" spellings. */
    m = parse_ok("SHA2-256(x)= " SHA256_A "\n", -1, 0);
    assert_string_equal(vl_manifest_lookup(m, "x"), SHA256_A);
    vl_manifest_free(m);
    m = parse_ok("MD5 (x) = " MD5_A "\n", VL_MD5, 0);
    assert_string_equal(vl_manifest_lookup(m, "x"), MD5_A);
    vl_manifest_free(m);
    m = parse_ok("BLAKE2b (x) = " SHA512_A "\n", -1, 0);
    assert_int_equal(vl_manifest_alg(m), VL_BLAKE2B512);
    vl_manifest_free(m);
}

static void test_bsd_errors(void **state)
{
    const char *t = "SHA384 (x) = " SHA256_A "\n";
    parse_bad(t, strlen(t), -1, 0, "donor.txt line 1", "SHA384 is not one", NULL);
    t = "WHIRL (x) = " SHA256_A "\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "unknown algorithm tag", NULL);
    t = "MD5 (x) = " SHA256_A "\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "md5 checksum has 64", NULL);
    t = "SHA256 (x) = " SHA256_A "\n";
    parse_bad(t, strlen(t), VL_MD5, 0, "line 1", "sha256 checksum in a md5",
              NULL);
    t = "MD5 (x) = " MD5_A "\nSHA1 (y) = " SHA1_A "\n";
    parse_bad(t, strlen(t), -1, 0, "line 2", "mixed algorithms", NULL);
    t = "SHA256 (x) = zz\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "not hexadecimal", NULL);
}

static void test_blank_comment_crlf_cr(void **state)
{
    vl_manifest *m = parse_ok("# made by sha1sum\r\n\r\n" SHA1_A
                              "  a\r\n   \r\n" SHA1_A "  b\r" SHA1_A "  c",
                              -1, 0);
    assert_int_equal(vl_manifest_count(m), 3);
    assert_non_null(vl_manifest_lookup(m, "a"));
    assert_non_null(vl_manifest_lookup(m, "b"));
    assert_non_null(vl_manifest_lookup(m, "c"));
    vl_manifest_free(m);
}

static void test_mixed_lengths(void **state)
{
    const char *t = MD5_A "  a\n" SHA256_A "  b\n";
    parse_bad(t, strlen(t), -1, 0, "donor.txt line 2", "mixed", NULL);
}

static void test_line_errors_named(void **state)
{
    const char *t = MD5_A "  a\n\nthis is not a checksum\n";
    parse_bad(t, strlen(t), -1, 0, "donor.txt line 3", NULL);
    t = "abc  x\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "3 hex digits", NULL);
    t = MD5_A "  \n";
    parse_bad(t, strlen(t), -1, 0, "line 1", NULL);
    t = "";
    parse_bad(t, 0, -1, 0, "donor.txt: no checksum lines", NULL);
    t = "# only a comment\n";
    parse_bad(t, strlen(t), -1, 0, "no checksum lines", NULL);
}

static void test_uppercase_hex_lowered(void **state)
{
    vl_manifest *m = parse_ok("0CC175B9C0F1B6A831C399E269772661  a\n", -1, 0);
    assert_string_equal(vl_manifest_lookup(m, "a"), MD5_A);
    vl_manifest_free(m);
}

static void test_gnu_escapes(void **state)
{
    vl_manifest *m = parse_ok("\\" MD5_A "  new\\nline\\\\back\\rcr\n"
                              "\\MD5 (tag\\ngnu) = " MD5_B "\n"
                              MD5_A "  plain\\n\n", -1, 0);
    assert_string_equal(vl_manifest_lookup(m, "new\nline\\back\rcr"), MD5_A);
    assert_string_equal(vl_manifest_lookup(m, "tag\ngnu"), MD5_B);
    /* Without the leading backslash the name is literal. */
    assert_string_equal(vl_manifest_lookup(m, "plain\\n"), MD5_A);
    vl_manifest_free(m);

    const char *t = "\\" MD5_A "  bad\\tescape\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "backslash escape", NULL);
    t = "\\" MD5_A "  lone\\\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "lone backslash", NULL);
}

static void test_duplicates(void **state)
{
    vl_manifest *m = parse_ok(MD5_A "  a\n" MD5_A "  a\n", -1, 0);
    assert_int_equal(vl_manifest_count(m), 1);
    vl_manifest_free(m);

    const char *t = MD5_A "  a\n" MD5_B "  b\n" MD5_B "  a\n";
    parse_bad(t, strlen(t), -1, 0, "donor.txt line 3", "different checksum",
              "first on line 1", NULL);
    /* BagIt: a repeat with the same checksum is read (with a warning, see
     * test_bagit_warnings); with another checksum it is refused. */
    m = parse_ok(MD5_A " data/a\n" MD5_A " data/a\n", VL_MD5, MF_BAGIT);
    assert_int_equal(vl_manifest_count(m), 1);
    vl_manifest_free(m);
    t = MD5_A " data/a\n" MD5_B " data/a\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT, "donor.txt line 2: path listed "
              "again with a different checksum (first on line 1) \"data/a\"",
              NULL);
}

static void test_paths(void **state)
{
    vl_manifest *m = parse_ok(MD5_A "  ./dir/a\n", -1, 0);
    assert_string_equal(vl_manifest_lookup(m, "dir/a"), MD5_A);
    vl_manifest_free(m);

    const char *t = MD5_A "  /etc/passwd\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "absolute path", NULL);
    t = MD5_A "  a/../../b\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "\"..\" segment", NULL);
    /* BagIt paths are read in normal form (warnings: test_bagit_warnings). */
    m = parse_ok(MD5_A " data/./b\n" MD5_B " data//c\n" MD5_A " ./data/d\n"
                 MD5_A " data/x/../e\n", VL_MD5, MF_BAGIT);
    assert_string_equal(vl_manifest_lookup(m, "data/b"), MD5_A);
    assert_string_equal(vl_manifest_lookup(m, "data/c"), MD5_B);
    assert_non_null(vl_manifest_lookup(m, "data/d"));
    assert_non_null(vl_manifest_lookup(m, "data/e"));
    vl_manifest_free(m);
    t = MD5_A " dir/\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT, "line 1", "ends with /", NULL);
    t = MD5_A " ../../../README.md\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT | MF_PAYLOAD,
              "donor.txt line 1: path leaves the bag (\"..\" above its top "
              "folder) \"../../../README.md\"", NULL);
    t = MD5_A " data/../../x\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT, "path leaves the bag", NULL);
    t = MD5_A " data/../bagit.txt\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT | MF_PAYLOAD,
              "payload manifest lists a file outside data/ \"bagit.txt\"",
              NULL);
    t = MD5_A " /data/a\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT, "donor.txt line 1: absolute "
              "path \"/data/a\"", NULL);
    t = MD5_A " data/..\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT, "names the bag's top folder",
              NULL);
    t = MD5_A "  bad\xff\n";
    parse_bad(t, strlen(t), -1, 0, "line 1", "UTF-8", NULL);
    static const char nul[] = MD5_A "  a\0b\n";
    parse_bad(nul, sizeof nul - 1, -1, 0, "line 1", "NUL", NULL);
    t = MD5_A " other/x\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT | MF_PAYLOAD, "line 1",
              "outside data/", NULL);
}

static void test_bagit_percent(void **state)
{
    vl_manifest *m = parse_ok(MD5_A " data/a%0Ab\n"
                              MD5_A "\t\tdata/c%0dd\n"
                              MD5_A " data/100%25\n"
                              MD5_A " data/keep%20and%zz%\n"
                              MD5_A " data/with space\n",
                              VL_MD5, MF_BAGIT);
    assert_non_null(vl_manifest_lookup(m, "data/a\nb"));
    assert_non_null(vl_manifest_lookup(m, "data/c\rd"));
    assert_non_null(vl_manifest_lookup(m, "data/100%"));
    assert_non_null(vl_manifest_lookup(m, "data/keep%20and%zz%"));
    assert_non_null(vl_manifest_lookup(m, "data/with space"));
    vl_manifest_free(m);

    /* 0.97 did not encode '%': %25 stays literal, '*' before a path goes. */
    m = parse_ok(MD5_A " data/100%25\n" MD5_A " *data/star\n", VL_MD5,
                 MF_BAGIT | MF_LEGACY);
    assert_non_null(vl_manifest_lookup(m, "data/100%25"));
    assert_non_null(vl_manifest_lookup(m, "data/star"));
    vl_manifest_free(m);
}

typedef struct warnings {
    char text[4096];
    size_t n;
} warnings;

static void warned(void *arg, const char *msg)
{
    warnings *w = arg;
    size_t used = strlen(w->text);
    snprintf(w->text + used, sizeof w->text - used, "%s\n", msg);
    w->n++;
}

/* What BagIt reads with a warning (RFC 8493 sections 2.1.3 and 5.1): each
 * warning exactly, one line each. */
static void test_bagit_warnings(void **state)
{
    warnings w = {{0}, 0};
    vl_manifest_opts o = {VL_MF_BAGIT | VL_MF_PAYLOAD, VL_MD5, 0, NULL,
                          warned, &w};
    vl_manifest *m = NULL;
    vl_error err = {0};
    static const char t[] = MD5_A " ./data/a\n"
                            MD5_A " data/./b\n"
                            MD5_A " data//c\n"
                            MD5_A " data/x/../d\n"
                            MD5_A " data/a\n"
                            MD5_A " data/100%\n"
                            MD5_A " data/sub\\e.txt\n";

    assert_int_equal(vl_manifest_parse_opts(t, sizeof t - 1, &o,
                                            "manifest-md5.txt", &m, &err),
                     VL_OK);
    assert_int_equal(vl_manifest_count(m), 6);
    assert_int_equal(vl_manifest_entry_line(m, 5), 7);
    assert_string_equal(w.text,
        "manifest-md5.txt line 1: path \"./data/a\" is relative (\"./\"); "
        "read as \"data/a\"\n"
        "manifest-md5.txt line 2: path \"data/./b\" has a \".\" segment; "
        "read as \"data/b\"\n"
        "manifest-md5.txt line 3: path \"data//c\" has an empty segment "
        "(\"//\"); read as \"data/c\"\n"
        "manifest-md5.txt line 4: path \"data/x/../d\" has a \"..\" segment; "
        "read as \"data/d\"\n"
        "manifest-md5.txt line 5: \"data/a\" listed again with the same "
        "checksum (first on line 1)\n"
        "manifest-md5.txt line 6: path \"data/100%\" has a '%' that is not "
        "%0A, %0D or %25; read as written (BagIt 1.0 writes '%' as %25)\n"
        "manifest-md5.txt line 7: path \"data/sub\\e.txt\" has a backslash, "
        "read as part of a name: BagIt separates folders with '/' only\n");
    vl_manifest_free(m);

    /* 0.97 did not encode '%': no warning there. */
    memset(&w, 0, sizeof w);
    o.flags |= VL_MF_LEGACY;
    assert_int_equal(vl_manifest_parse_opts(MD5_A " data/100%\n", 43, &o,
                                            "manifest-md5.txt", &m, &err),
                     VL_OK);
    assert_int_equal(w.n, 0);
    vl_manifest_free(m);

    /* A backslash before data/ is not a separator: outside data/. */
    static const char win[] = MD5_A " data\\a.txt\n";
    o.flags = VL_MF_BAGIT | VL_MF_PAYLOAD;
    assert_int_equal(vl_manifest_parse_opts(win, sizeof win - 1, &o,
                                            "manifest-md5.txt", &m, &err),
                     VL_EINPUT);
    assert_string_equal(err.msg, "manifest-md5.txt line 1: payload manifest "
                        "lists a file outside data/ \"data\\a.txt\"");

    /* Any digest by its length (sha384 here). */
    static const char s384[] =
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
        "8086072ba1e7cc2358baeca134c825a7 data/abc\n";
    vl_manifest_opts any = {VL_MF_BAGIT | VL_MF_PAYLOAD, -1, 96, "sha384",
                            NULL, NULL};
    assert_int_equal(vl_manifest_parse_opts(s384, sizeof s384 - 1, &any,
                                            "manifest-sha384.txt", &m, &err),
                     VL_OK);
    assert_non_null(vl_manifest_lookup(m, "data/abc"));
    vl_manifest_free(m);
    static const char short384[] = MD5_A " data/abc\n";
    assert_int_equal(vl_manifest_parse_opts(short384, sizeof short384 - 1,
                                            &any, "manifest-sha384.txt", &m,
                                            &err), VL_EINPUT);
    assert_string_equal(err.msg, "manifest-sha384.txt line 1: sha384 checksum "
                        "has 32 hex digits, not 96");
}

static void test_bagit_rules(void **state)
{
    vl_manifest *m = parse_ok("", VL_SHA256, MF_BAGIT);
    assert_int_equal(vl_manifest_count(m), 0);
    assert_int_equal(vl_manifest_alg(m), VL_SHA256);
    vl_manifest_free(m);

    const char *t = MD5_A " data/a\n";
    parse_bad(t, strlen(t), VL_SHA256, MF_BAGIT, "line 1",
              "sha256 checksum has 32 hex digits", NULL);
    t = "# comment\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT, "line 1",
              "not \"CHECKSUM FILEPATH\"", NULL);
    t = "\xEF\xBB\xBF" MD5_A " data/a\n";
    parse_bad(t, strlen(t), VL_MD5, MF_BAGIT, "byte-order mark", NULL);
    /* A donor file from Windows may carry a BOM. */
    m = parse_ok("\xEF\xBB\xBF" MD5_A "  a\n", -1, 0);
    assert_non_null(vl_manifest_lookup(m, "a"));
    vl_manifest_free(m);
}

static void test_many_entries_lookup(void **state)
{
    vl_buf b;
    vl_error err = {0};
    vl_manifest *m = NULL;
    char path[32];
    size_t i;

    vl_buf_init(&b, 0);
    for (i = 0; i < 20000; i++)
        assert_int_equal(vl_buf_printf(&b, &err, "%s  f/%zu\n", MD5_A, i),
                         VL_OK);
    assert_int_equal(vl_manifest_parse(b.data, b.len, -1, 0, "big", &m, &err),
                     VL_OK);
    assert_int_equal(vl_manifest_count(m), 20000);
    for (i = 0; i < 20000; i++) {
        snprintf(path, sizeof path, "f/%zu", i);
        assert_non_null(vl_manifest_lookup(m, path));
    }
    assert_null(vl_manifest_lookup(m, "f/20000"));
    vl_manifest_free(m);
    vl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gnu_text_and_binary),
        cmocka_unit_test(test_infer_each_alg),
        cmocka_unit_test(test_bsd_tagged),
        cmocka_unit_test(test_bsd_errors),
        cmocka_unit_test(test_blank_comment_crlf_cr),
        cmocka_unit_test(test_mixed_lengths),
        cmocka_unit_test(test_line_errors_named),
        cmocka_unit_test(test_uppercase_hex_lowered),
        cmocka_unit_test(test_gnu_escapes),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_bagit_percent),
        cmocka_unit_test(test_bagit_warnings),
        cmocka_unit_test(test_bagit_rules),
        cmocka_unit_test(test_many_entries_lookup),
    };
    return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
