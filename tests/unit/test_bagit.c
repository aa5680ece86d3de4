/* BagIt checker: 0.97 and 1.0 bags built in memory, each refusal of
 * vl_bag_parse and each discrepancy kind of vl_bag_verify asserted by its
 * message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* A white-box test: it uses ingest/'s private bagit_private.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "bagit_private.h"
#include "vl_ingest.h"

typedef struct pf {
    const char *path;      /* as on disk, "data/..." */
    const char *content;
} pf;

typedef struct report {
    char text[16384];
    size_t n;
} report;

static void collect(void *arg, const char *message)
{
    report *r = arg;
    size_t used = strlen(r->text);

    assert_null(strchr(message, '\n'));
    snprintf(r->text + used, sizeof r->text - used, "%s\n", message);
    r->n++;
}

static void add(vl_bag *b, const char *rel, const char *text)
{
    vl_error err = {0};
    if (vl_bag_add_tag_file(b, rel, text, strlen(text), &err) != VL_OK)
        fail_msg("add %s: %s", rel, err.msg);
}

/* "hex path" lines with CR, LF and % percent-encoded (BagIt 1.0). */
static char *manifest_text(vl_digest_alg a, const pf *f, size_t n,
                           const char *eol)
{
    vl_buf b;
    size_t i;
    const char *p;

    vl_buf_init(&b, 0);
    vl_buf_append(&b, "", 0, NULL);
    for (i = 0; i < n; i++) {
        char hex[VL_DIGEST_HEX_MAX];
        vl_digest_buffer(a, f[i].content, strlen(f[i].content), hex);
        vl_buf_printf(&b, NULL, "%s ", hex);
        for (p = f[i].path; *p; p++) {
            if (*p == '\n')
                vl_buf_printf(&b, NULL, "%%0A");
            else if (*p == '\r')
                vl_buf_printf(&b, NULL, "%%0D");
            else if (*p == '%')
                vl_buf_printf(&b, NULL, "%%25");
            else
                vl_buf_append(&b, p, 1, NULL);
        }
        vl_buf_printf(&b, NULL, "%s", eol);
    }
    return vl_buf_detach(&b);
}

static char *tag_line(vl_digest_alg a, const char *rel, const char *text,
                      const char *eol)
{
    char hex[VL_DIGEST_HEX_MAX];
    vl_digest_buffer(a, text, strlen(text), hex);
    return vl_asprintf("%s %s%s", hex, rel, eol);
}

static const char *manifest_name(vl_digest_alg a, int tag)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "%smanifest-%s.txt", tag ? "tag" : "",
             a == VL_BLAKE2B512 ? "blake2b512" : vl_digest_name(a));
    return buf;
}

/* A bag with a payload manifest per algorithm in algs, optional
 * bag-info.txt, and (tag_alg >= 0) a tag manifest over every tag file. */
static vl_bag *build(const char *version, const char *eol, unsigned algs,
                     const pf *f, size_t n, const char *info, int tag_alg)
{
    vl_bag *b = vl_bag_new();
    vl_buf tm;
    char *decl = vl_asprintf("BagIt-Version: %s%sTag-File-Character-Encoding: "
                             "UTF-8%s", version, eol, eol);
    int a;

    assert_non_null(b);
    vl_buf_init(&tm, 0);
    vl_buf_append(&tm, "", 0, NULL);
    add(b, "bagit.txt", decl);
    if (tag_alg >= 0) {
        char *l = tag_line((vl_digest_alg)tag_alg, "bagit.txt", decl,
                           eol);
        vl_buf_printf(&tm, NULL, "%s", l);
        free(l);
    }
    free(decl);
    if (info) {
        add(b, "bag-info.txt", info);
        if (tag_alg >= 0) {
            char *l = tag_line((vl_digest_alg)tag_alg, "bag-info.txt",
                               info, eol);
            vl_buf_printf(&tm, NULL, "%s", l);
            free(l);
        }
    }
    for (a = 0; a < VL_DIGEST_COUNT; a++) {
        if (!(algs & VL_DIGEST_BIT(a)))
            continue;
        char *m = manifest_text((vl_digest_alg)a, f, n, eol);
        char name[64];
        snprintf(name, sizeof name, "%s", manifest_name((vl_digest_alg)a, 0));
        add(b, name, m);
        if (tag_alg >= 0) {
            char *l = tag_line((vl_digest_alg)tag_alg, name, m, eol);
            vl_buf_printf(&tm, NULL, "%s", l);
            free(l);
        }
        free(m);
    }
    if (tag_alg >= 0)
        add(b, manifest_name((vl_digest_alg)tag_alg, 1), tm.data);
    vl_buf_release(&tm);
    return b;
}

static void parse_ok(vl_bag *b)
{
    vl_error err = {0};
    if (vl_bag_parse(b, &err) != VL_OK)
        fail_msg("parse: %s", err.msg);
}

static void parse_refused(vl_bag *b, const char *frag1, const char *frag2)
{
    vl_error err = {0};
    int rc = vl_bag_parse(b, &err);
    if (rc != VL_EINPUT)
        fail_msg("expected refusal containing \"%s\", got %d", frag1, rc);
    if (!strstr(err.msg, frag1) || (frag2 && !strstr(err.msg, frag2)))
        fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err.msg, frag1,
                 frag2 ? frag2 : "");
    vl_bag_free(b);
}

/* Record a payload file with every digest the bag asks for. */
static void seen(vl_bag *b, const char *rel, const char *content)
{
    vl_digest_result d = {0};
    vl_error err = {0};
    char hex[8][VL_DIGEST_HEX_MAX];
    const char *extra[8];
    size_t k, n = vl_bag_payload_extra_count(b);
    int a;

    d.mask = (1u << VL_DIGEST_COUNT) - 1;
    for (a = 0; a < VL_DIGEST_COUNT; a++)
        vl_digest_buffer((vl_digest_alg)a, content, strlen(content), d.hex[a]);
    assert_true(n <= 8);
    for (k = 0; k < n; k++) {
        vl_digest_buffer_named(vl_bag_payload_extra_name(b, k), content,
                               strlen(content), hex[k]);
        extra[k] = hex[k];
    }
    if (vl_bag_payload_seen(b, rel, strlen(content), &d, n ? extra : NULL,
                            &err) != VL_OK)
        fail_msg("payload_seen %s: %s", rel, err.msg);
}

static int verify(vl_bag *b, report *r)
{
    vl_error err = {0};
    int rc;

    memset(r, 0, sizeof *r);
    rc = vl_bag_verify(b, collect, r, &err);
    if (rc == VL_EINPUT)
        assert_non_null(strstr(err.msg, "bag is not valid"));
    return rc;
}

static void has(const report *r, const char *frag)
{
    if (!strstr(r->text, frag))
        fail_msg("report lacks \"%s\":\n%s", frag, r->text);
}

static const pf files2[] = {{"data/a.txt", "hello"}, {"data/sub/b.txt", ""}};

static void count_digest(void *arg, const char *rel, vl_digest_alg alg,
                         const char *hex)
{
    size_t *n = arg;
    assert_int_equal(strncmp(rel, "data/", 5), 0);
    assert_int_equal(strlen(hex), vl_digest_hex_len(alg));
    (*n)++;
}

static void test_valid_1_0(void **state)
{
    vl_bag *b = build("1.0", "\n", VL_DIGEST_BIT(VL_SHA256) |
                                       VL_DIGEST_BIT(VL_SHA512),
                      files2, 2,
                      "Source-Organization: Example Org\n"
                      "Payload-Oxum: 5.2\n"
                      "Contact-Name: A\n"
                      "Contact-Name: B\n",
                      VL_SHA256);
    report r;
    const char *l, *v;
    size_t nd = 0;

    parse_ok(b);
    assert_string_equal(vl_bag_version(b), "1.0");
    assert_int_equal(vl_bag_payload_mask(b),
                     VL_DIGEST_BIT(VL_SHA256) | VL_DIGEST_BIT(VL_SHA512));
    assert_int_equal(vl_bag_info_count(b), 4);
    vl_bag_info_entry(b, 0, &l, &v);
    assert_string_equal(l, "Source-Organization");
    assert_string_equal(v, "Example Org");
    vl_bag_info_entry(b, 3, &l, &v);
    assert_string_equal(l, "Contact-Name");
    assert_string_equal(v, "B");
    {
        vl_error ferr = {0};
        assert_int_equal(vl_bag_foreach_digest(b, count_digest, &nd, &ferr), VL_OK);
    }
    assert_int_equal(nd, 4);
    seen(b, "data/sub/b.txt", "");
    seen(b, "data/a.txt", "hello");
    assert_int_equal(verify(b, &r), VL_OK);
    assert_int_equal(r.n, 0);
    vl_bag_free(b);
}

static void test_valid_0_97_crlf(void **state)
{
    vl_bag *b = build("0.97", "\r\n", VL_DIGEST_BIT(VL_MD5), files2, 2,
                      "Payload-Oxum: 5.2\r\nExternal-Description: one\r\n"
                      "  two\r\n", VL_MD5);
    report r;
    const char *l, *v;

    parse_ok(b);
    assert_string_equal(vl_bag_version(b), "0.97");
    vl_bag_info_entry(b, 1, &l, &v);
    assert_string_equal(v, "one two");
    seen(b, "data/a.txt", "hello");
    seen(b, "data/sub/b.txt", "");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);
}

static void test_cr_line_endings(void **state)
{
    vl_bag *b = build("1.0", "\r", VL_DIGEST_BIT(VL_SHA512), files2, 2,
                      "A: 1\rB: 2\r", VL_SHA512);
    report r;

    parse_ok(b);
    assert_int_equal(vl_bag_info_count(b), 2);
    seen(b, "data/a.txt", "hello");
    seen(b, "data/sub/b.txt", "");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);
}

/* A bag whose bagit.txt is decl (manifest and payload valid). */
static vl_bag *with_decl(const char *decl, size_t len)
{
    vl_bag *b = vl_bag_new();
    vl_error err = {0};
    assert_int_equal(vl_bag_add_tag_file(b, "bagit.txt", decl, len, &err),
                     VL_OK);
    add(b, "manifest-md5.txt", "");
    return b;
}

static void test_declaration_refusals(void **state)
{
    static const struct {
        const char *decl;
        const char *frag;
    } c[] = {
        {"\xEF\xBB\xBF" "BagIt-Version: 1.0\nTag-File-Character-Encoding: "
         "UTF-8\n", "byte-order mark"},
        {"\xEF\xBB\xBF" "BagIt-Version: 0.97\nTag-File-Character-Encoding: "
         "UTF-8\n", "byte-order mark"},
        {"BagIt-Version : 0.97\nTag-File-Character-Encoding : UTF-8\n",
         "bagit.txt line 1"},
        {"BagIt-Version:  1.0\nTag-File-Character-Encoding: UTF-8\n",
         "bagit.txt line 1"},
        {"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8 \n",
         "bagit.txt line 2"},
        {"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",
         "bagit.txt line 1"},
        {"BagIt-Version: 1.0\n", "exactly two lines"},
        {"", "exactly two lines"},
        {"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n\n",
         "exactly two lines"},
        {"BagIt-Version: 0.99\nTag-File-Character-Encoding: UTF-8\n",
         "0.99 is not supported"},
        {"BagIt-Version: 0.97\nTag-File-Character-Encoding: NO-SUCH-CODE\n",
         "not one vellum can read"},
        {"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-\xff\n",
         "not valid UTF-8"},
    };
    size_t i;

    for (i = 0; i < sizeof c / sizeof c[0]; i++)
        parse_refused(with_decl(c[i].decl, strlen(c[i].decl)), c[i].frag,
                      NULL);

    vl_bag *b = vl_bag_new();
    add(b, "manifest-md5.txt", "");
    parse_refused(b, "bagit.txt is missing: a bag declares itself there "
                  "(RFC 8493 section 2.1.1)", NULL);

    /* Declaration without a final newline, lower-case encoding name. */
    b = with_decl("BagIt-Version: 1.0\nTag-File-Character-Encoding: utf-8",
                  53);
    parse_ok(b);
    vl_bag_free(b);
}

/* 0.97 allowed other encodings: the conformance suite has UTF-16 tags. */
static void test_utf16_0_97(void **state)
{
    static const char decl[] = "BagIt-Version: 0.97\n"
                               "Tag-File-Character-Encoding: UTF-16BE\n";
    vl_bag *b = with_decl(decl, sizeof decl - 1);
    vl_error err = {0};
    char hex[VL_DIGEST_HEX_MAX];
    char ascii[200], u16[404];
    size_t i, n;
    report r;
    const char *l, *v;

    /* bag-info.txt with a BOM, as UTF-16BE. */
    n = (size_t)snprintf(ascii, sizeof ascii, "Contact-Name: Ann\n");
    u16[0] = (char)0xFE;
    u16[1] = (char)0xFF;
    for (i = 0; i < n; i++) {
        u16[2 + 2 * i] = 0;
        u16[3 + 2 * i] = ascii[i];
    }
    assert_int_equal(vl_bag_add_tag_file(b, "bag-info.txt", u16, 2 + 2 * n,
                                         &err), VL_OK);
    vl_digest_buffer(VL_SHA1, "x", 1, hex);
    n = (size_t)snprintf(ascii, sizeof ascii, "%s data/x\n", hex);
    for (i = 0; i < n; i++) {
        u16[2 * i] = 0;
        u16[2 * i + 1] = ascii[i];
    }
    assert_int_equal(vl_bag_add_tag_file(b, "manifest-sha1.txt", u16, 2 * n,
                                         &err), VL_OK);
    parse_ok(b);
    vl_bag_info_entry(b, 0, &l, &v);
    assert_string_equal(l, "Contact-Name");
    assert_string_equal(v, "Ann");
    seen(b, "data/x", "x");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);

    /* Odd byte count is not UTF-16. */
    b = with_decl(decl, sizeof decl - 1);
    assert_int_equal(vl_bag_add_tag_file(b, "bag-info.txt", "\0A\0", 3, &err),
                     VL_OK);
    parse_refused(b, "bag-info.txt: not valid UTF-16BE", NULL);
}

static const char decl10[] = "BagIt-Version: 1.0\n"
                             "Tag-File-Character-Encoding: UTF-8\n";

static void test_manifest_refusals(void **state)
{
    vl_bag *b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "bag-info.txt", "A: b\n");
    parse_refused(b, "no payload manifest", NULL);

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-sha999.txt", "");
    parse_refused(b, "manifest-sha999.txt: algorithm \"sha999\" is not one "
                  "vellum can compute (it reads every fixed-length digest "
                  "OpenSSL provides: md5, sha1, sha224, sha256, sha384, "
                  "sha512, sha3256, blake2b512...)", NULL);

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-md5.txt", "");
    add(b, "tagmanifest-shake256.txt", "");
    parse_refused(b, "tagmanifest-shake256.txt", "\"shake256\"");

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-blake2b.txt", "");
    add(b, "manifest-blake2b512.txt", "");
    parse_refused(b, "both give blake2b-512", NULL);

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-md5.txt", "0cc175b9c0f1b6a831c399e269772661 data/a\n"
                               "garbage\n");
    parse_refused(b, "manifest-md5.txt line 2", NULL);

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-md5.txt", "0cc175b9c0f1b6a831c399e269772661 bag-info.txt\n");
    parse_refused(b, "manifest-md5.txt line 1", "outside data/");

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-md5.txt", "0cc175b9c0f1b6a831c399e269772661 data/../x\n");
    parse_refused(b, "manifest-md5.txt line 1: payload manifest lists a file "
                  "outside data/ \"x\"", NULL);

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-md5.txt", "");
    add(b, "tagmanifest-md5.txt", "0cc175b9c0f1b6a831c399e269772661 data/a\n");
    parse_refused(b, "tagmanifest-md5.txt line 1", "payload file");

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-md5.txt", "0cc175b9c0f1b6a831c399e269772661 data/a\n"
                               "92eb5ffee6ae2fec3ad71c777531578f data/a\n");
    parse_refused(b, "manifest-md5.txt line 2: path listed again with a "
                  "different checksum (first on line 1) \"data/a\"", NULL);

    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-md5.txt", "\xEF\xBB\xBF");
    parse_refused(b, "manifest-md5.txt", "byte-order mark");

    /* A manifest in a tag folder is only a tag file. */
    b = vl_bag_new();
    add(b, "bagit.txt", decl10);
    add(b, "manifest-md5.txt", "");
    add(b, "meta/manifest-sha224.txt", "anything");
    parse_ok(b);
    vl_bag_free(b);
}

static vl_bag *with_info(const char *version, const char *info)
{
    char *decl = vl_asprintf("BagIt-Version: %s\n"
                             "Tag-File-Character-Encoding: UTF-8\n", version);
    vl_bag *b = with_decl(decl, strlen(decl));
    free(decl);
    add(b, "bag-info.txt", info);
    return b;
}

static void test_bag_info(void **state)
{
    vl_bag *b = with_info("1.0", "External-Description: a long\n"
                                 "   description\n"
                                 "\tcontinued\n"
                                 "\n"
                                 "Label With Space:value:with:colons  \n"
                                 "Empty:\n"
                                 "Keyword: x\n"
                                 "Keyword: y\n");
    const char *l, *v;

    parse_ok(b);
    assert_int_equal(vl_bag_info_count(b), 5);
    vl_bag_info_entry(b, 0, &l, &v);
    assert_string_equal(v, "a long description continued");
    vl_bag_info_entry(b, 1, &l, &v);
    assert_string_equal(l, "Label With Space");
    assert_string_equal(v, "value:with:colons");
    vl_bag_info_entry(b, 2, &l, &v);
    assert_string_equal(l, "Empty");
    assert_string_equal(v, "");
    vl_bag_info_entry(b, 4, &l, &v);
    assert_string_equal(l, "Keyword");
    assert_string_equal(v, "y");
    vl_bag_free(b);

    parse_refused(with_info("1.0", "A: 1\nB: 2\nno colon here\n"),
                  "bag-info.txt line 3", "no ':'");
    parse_refused(with_info("1.0", "  leading continuation\n"),
                  "bag-info.txt line 1", "continuation");
    parse_refused(with_info("1.0", "A: 1\n\n  after blank\n"),
                  "bag-info.txt line 3", "continuation");
    parse_refused(with_info("1.0", "A: 1\n: no label\n"),
                  "bag-info.txt line 2", "empty label");
    parse_refused(with_info("1.0", "Label : value\n"),
                  "bag-info.txt line 1", "label ends with whitespace");
    parse_refused(with_info("1.0", "A: \xc3\x28\n"),
                  "bag-info.txt line 1", "UTF-8");
    parse_refused(with_info("1.0", "\xEF\xBB\xBF" "A: 1\n"),
                  "bag-info.txt", "byte-order mark");
    parse_refused(with_info("1.0", "A: 1\nPayload-Oxum: 12\n"),
                  "bag-info.txt line 2", "Payload-Oxum \"12\" is not");
    parse_refused(with_info("1.0", "Payload-Oxum: 1.\n"),
                  "bag-info.txt line 1", "OCTETCOUNT.STREAMCOUNT");
    parse_refused(with_info("1.0", "payload-oxum: 1.1\nX: y\n"
                                   "Payload-Oxum: 1.1\n"),
                  "bag-info.txt line 3", "given again (first on line 1)");
    parse_refused(with_info("1.0", "Payload-Oxum: 99999999999999999999.1\n"),
                  "bag-info.txt line 1", "Payload-Oxum");

    /* 0.97: whitespace before the colon is allowed. */
    b = with_info("0.97", "Label : value\n");
    parse_ok(b);
    vl_bag_info_entry(b, 0, &l, &v);
    assert_string_equal(l, "Label");
    assert_string_equal(v, "value");
    vl_bag_free(b);

    /* Continuation of the Payload-Oxum value still gets checked. */
    b = with_info("1.0", "Payload-Oxum: 5.\n 1\n");
    parse_refused(b, "line 1", "\"5. 1\"");
}

static void test_package_info_0_95(void **state)
{
    vl_bag *b = with_info("0.95", "A: 1\n");
    const char *l, *v;

    vl_bag_free(b);
    b = with_decl("BagIt-Version: 0.95\nTag-File-Character-Encoding: UTF-8\n",
                  54);
    add(b, "package-info.txt", "Contact-Name: Old\n");
    parse_ok(b);
    assert_int_equal(vl_bag_info_count(b), 1);
    vl_bag_info_entry(b, 0, &l, &v);
    assert_string_equal(v, "Old");
    vl_bag_free(b);
}

/* Every discrepancy kind, all reported by one verify. */
static void test_every_discrepancy(void **state)
{
    static const pf listed[] = {
        {"data/x.txt", "original"},
        {"data/y.txt", "gone"},
        {"data/w.txt", "fine"},
    };
    vl_bag *b = vl_bag_new();
    char *md5 = manifest_text(VL_MD5, listed, 3, "\n");
    char *sha = manifest_text(VL_SHA256, listed, 3, "\n");
    char *md5e, *tm, hex[VL_DIGEST_HEX_MAX], hex2[VL_DIGEST_HEX_MAX];
    const char *info = "Payload-Oxum: 4.3\n";
    report r;

    /* data/e.txt is in the md5 manifest only. */
    vl_digest_buffer(VL_MD5, "extra", 5, hex);
    md5e = vl_asprintf("%s%s data/e.txt\n", md5, hex);
    add(b, "bagit.txt", decl10);
    add(b, "bag-info.txt", info);
    add(b, "manifest-md5.txt", md5e);
    add(b, "manifest-sha256.txt", sha);
    vl_digest_buffer(VL_SHA256, decl10, strlen(decl10), hex);
    tm = vl_asprintf("%s bagit.txt\n"
                     "0000000000000000000000000000000000000000000000000000000000000000 bag-info.txt\n"
                     "%s meta/absent.txt\n", hex, hex);
    add(b, "tagmanifest-sha256.txt", tm);
    parse_ok(b);

    seen(b, "data/x.txt", "changed");
    seen(b, "data/w.txt", "fine");
    seen(b, "data/z.txt", "stray");
    seen(b, "data/e.txt", "extra");
    assert_int_equal(verify(b, &r), VL_EINPUT);

    vl_digest_buffer(VL_SHA256, "original", 8, hex);
    vl_digest_buffer(VL_SHA256, "changed", 7, hex2);
    char *want = vl_asprintf("data/x.txt: sha256 expected %s got %s", hex,
                             hex2);
    has(&r, want);
    free(want);
    vl_digest_buffer(VL_MD5, "original", 8, hex);
    vl_digest_buffer(VL_MD5, "changed", 7, hex2);
    want = vl_asprintf("data/x.txt: md5 expected %s got %s", hex, hex2);
    has(&r, want);
    free(want);
    has(&r, "data/y.txt: listed in manifest-md5.txt, manifest-sha256.txt "
            "but missing\n");
    has(&r, "data/z.txt: present but in no payload manifest\n");
    has(&r, "data/e.txt: present but not listed in manifest-sha256.txt\n");
    has(&r, "Payload-Oxum in bag-info.txt is 4.3 but the payload has 21 "
            "bytes in 4 files\n");
    vl_digest_buffer(VL_SHA256, info, strlen(info), hex);
    want = vl_asprintf("bag-info.txt: sha256 expected "
                       "0000000000000000000000000000000000000000000000000000000000000000"
                       " got %s (tagmanifest-sha256.txt)", hex);
    has(&r, want);
    free(want);
    has(&r, "meta/absent.txt: listed in tagmanifest-sha256.txt but missing\n");
    assert_int_equal(r.n, 8);
    /* Sorted: tag files, then payload by path, then the bag as a whole. */
    assert_int_equal(strncmp(r.text, "bag-info.txt:", 13), 0);
    assert_non_null(strstr(r.text, "Payload-Oxum in"));
    assert_true(strstr(r.text, "data/e.txt") < strstr(r.text, "data/x.txt"));
    assert_true(strstr(r.text, "data/z.txt") < strstr(r.text, "Payload-Oxum"));

    /* Verify again: same report, nothing lost or doubled. */
    report r2;
    assert_int_equal(verify(b, &r2), VL_EINPUT);
    assert_string_equal(r.text, r2.text);

    free(md5);
    free(md5e);
    free(sha);
    free(tm);
    vl_bag_free(b);
}

/* 0.97 asked for each payload file in at least one manifest. */
static void test_0_97_one_manifest_enough(void **state)
{
    static const pf f[] = {{"data/a", "a"}};
    vl_bag *b = vl_bag_new();
    char *md5 = manifest_text(VL_MD5, f, 1, "\n");
    report r;

    add(b, "bagit.txt", "BagIt-Version: 0.97\n"
                        "Tag-File-Character-Encoding: UTF-8\n");
    add(b, "manifest-md5.txt", md5);
    add(b, "manifest-sha1.txt", "");
    parse_ok(b);
    seen(b, "data/a", "a");
    assert_int_equal(verify(b, &r), VL_OK);
    free(md5);
    vl_bag_free(b);
}

static void test_percent_encoded_paths(void **state)
{
    static const pf f[] = {{"data/line\nbreak", "1"},
                           {"data/cr\rname", "2"},
                           {"data/100%", "3"},
                           {"data/caf\xc3\xa9", "4"}};
    vl_bag *b = build("1.0", "\n", VL_DIGEST_BIT(VL_SHA512), f, 4, NULL, -1);
    report r;

    parse_ok(b);
    seen(b, "data/cr\rname", "2");
    seen(b, "data/100%", "3");
    seen(b, "data/caf\xc3\xa9", "4");
    assert_int_equal(verify(b, &r), VL_EINPUT);
    /* The control character is escaped in messages. */
    has(&r, "data/line\\x0abreak: listed in manifest-sha512.txt but missing");
    assert_int_equal(r.n, 1);
    vl_bag_free(b);
}

static void test_payload_seen_errors(void **state)
{
    vl_bag *b = build("1.0", "\n", VL_DIGEST_BIT(VL_SHA256), files2, 2, NULL,
                      -1);
    vl_digest_result d = {0};
    vl_error err = {0};

    assert_int_equal(vl_bag_payload_seen(b, "data/a.txt", 5, &d, NULL, &err),
                     VL_EINPUT);
    assert_non_null(strstr(err.msg, "before vl_bag_parse"));
    parse_ok(b);
    assert_int_equal(vl_bag_payload_seen(b, "bag-info.txt", 5, &d, NULL,
                                         &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "under data/"));
    assert_int_equal(vl_bag_payload_seen(b, "data/a.txt", 5, &d, NULL, &err),
                     VL_EINPUT);
    assert_non_null(strstr(err.msg, "no sha256 digest"));
    seen(b, "data/sub/b.txt", "");
    assert_int_equal(vl_bag_payload_seen(b, "data/sub/b.txt", 0, &d, NULL,
                                         &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "recorded twice"));
    vl_bag_free(b);
}

static void test_tag_file_limits(void **state)
{
    vl_bag *b = vl_bag_new();
    vl_error err = {0};
    size_t big = (16u << 20) + 1;
    char *data = calloc(1, big);

    assert_non_null(data);
    assert_int_equal(vl_bag_add_tag_file(b, "bag-info.txt", data, big, &err),
                     VL_EINPUT);
    assert_non_null(strstr(err.msg, "bag-info.txt: tag file of 16777217 "
                            "bytes"));
    /* Manifests grow with the payload and get more room. */
    assert_int_equal(vl_bag_add_tag_file(b, "manifest-md5.txt", data, big,
                                         &err), VL_OK);
    free(data);
    assert_int_equal(vl_bag_add_tag_file(b, "manifest-md5.txt", "", 0, &err),
                     VL_EINPUT);
    assert_non_null(strstr(err.msg, "given twice"));
    assert_int_equal(vl_bag_add_tag_file(b, "data/x", "", 0, &err),
                     VL_EINPUT);
    assert_non_null(strstr(err.msg, "payload, not a tag file"));
    assert_int_equal(vl_bag_add_tag_file(b, "../x", "", 0, &err), VL_EINPUT);
    vl_bag_free(b);

    b = with_decl(decl10, sizeof decl10 - 1);
    parse_ok(b);
    assert_int_equal(vl_bag_add_tag_file(b, "late.txt", "", 0, &err),
                     VL_EINPUT);
    assert_int_equal(vl_bag_parse(b, &err), VL_EINPUT);
    vl_bag_free(b);

    /* Verify before parse is refused too. */
    b = vl_bag_new();
    assert_int_equal(vl_bag_verify(b, NULL, NULL, &err), VL_EINPUT);
    vl_bag_free(b);
}

static void test_blake2b_and_empty_payload(void **state)
{
    vl_bag *b = build("1.0", "\n", VL_DIGEST_BIT(VL_BLAKE2B512), files2, 2,
                      "Payload-Oxum: 5.2\n", VL_BLAKE2B512);
    report r;

    parse_ok(b);
    assert_int_equal(vl_bag_payload_mask(b), VL_DIGEST_BIT(VL_BLAKE2B512));
    seen(b, "data/a.txt", "hello");
    seen(b, "data/sub/b.txt", "");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);

    /* An empty bag with Payload-Oxum 0.0 is valid. */
    b = build("1.0", "\n", VL_DIGEST_BIT(VL_SHA256), NULL, 0,
              "Payload-Oxum: 0.0\n", -1);
    parse_ok(b);
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);
}


/* ---- RFC 8493 conformance cases: each warning and refusal exactly ------- */

/* A 1.0 bag whose warnings go to w. */
static vl_bag *bag_w(const char *decl, report *w)
{
    vl_bag *b = vl_bag_new();

    assert_non_null(b);
    memset(w, 0, sizeof *w);
    vl_bag_set_warn(b, collect, w);
    add(b, "bagit.txt", decl ? decl : decl10);
    return b;
}

/* "HEX PATH\n" with the digest (OpenSSL name) of content; the path as
 * written. */
static char *mline(const char *evp, const char *content, const char *path)
{
    char hex[VL_DIGEST_HEX_MAX];
    vl_digest_buffer_named(evp, content, strlen(content), hex);
    return vl_asprintf("%s %s\n", hex, path);
}

static void parse_msg(vl_bag *b, const char *want)
{
    vl_error err = {0};
    int rc = vl_bag_parse(b, &err);
    if (rc != VL_EINPUT)
        fail_msg("expected refusal \"%s\", got %d", want, rc);
    assert_string_equal(err.msg, want);
    vl_bag_free(b);
}

/* Item 6: "./data/..." is read as data/..., with a warning; so are ".",
 * empty and ".." segments that stay inside the bag (RFC 8493 2.1.3: the
 * path is relative to the base directory). */
static void test_relative_paths(void **state)
{
    report w, r;
    vl_bag *b = bag_w(NULL, &w);
    char *l1 = mline("MD5", "hello", "./data/a.txt");
    char *l2 = mline("MD5", "", "data/sub/../b.txt");
    char *l3 = mline("MD5", "x", "data//c.txt");
    char *m = vl_asprintf("%s%s%s", l1, l2, l3);
    char *t = mline("MD5", decl10, "./bagit.txt");

    add(b, "manifest-md5.txt", m);
    add(b, "tagmanifest-md5.txt", t);
    parse_ok(b);
    assert_string_equal(w.text,
        "manifest-md5.txt line 1: path \"./data/a.txt\" is relative (\"./\"); "
        "read as \"data/a.txt\"\n"
        "manifest-md5.txt line 2: path \"data/sub/../b.txt\" has a \"..\" "
        "segment; read as \"data/b.txt\"\n"
        "manifest-md5.txt line 3: path \"data//c.txt\" has an empty segment "
        "(\"//\"); read as \"data/c.txt\"\n"
        "tagmanifest-md5.txt line 1: path \"./bagit.txt\" is relative "
        "(\"./\"); read as \"bagit.txt\"\n");
    seen(b, "data/a.txt", "hello");
    seen(b, "data/b.txt", "");
    seen(b, "data/c.txt", "x");
    assert_int_equal(verify(b, &r), VL_OK);
    assert_int_equal(r.n, 0);
    vl_bag_free(b);
    free(l1);
    free(l2);
    free(l3);
    free(m);
    free(t);
}

/* Item 6 siblings: paths that leave the bag or are absolute are refused
 * (RFC 8493 5.1); '/' is the only separator, so a backslash is part of a
 * name (2.1.3), with a warning. */
static void test_path_refusals(void **state)
{
    report w, r;
    vl_bag *b;
    char *m;

    /* The LoC suite's out-of-scope-file-paths-using-dot-notation. */
    b = bag_w(NULL, &w);
    m = mline("MD5", "x", "../../../README.md");
    add(b, "manifest-md5.txt", m);
    free(m);
    parse_msg(b, "manifest-md5.txt line 1: path leaves the bag (\"..\" above "
              "its top folder) \"../../../README.md\"");

    b = bag_w(NULL, &w);
    m = mline("MD5", "x", "/etc/passwd");
    add(b, "manifest-md5.txt", m);
    free(m);
    parse_msg(b, "manifest-md5.txt line 1: absolute path \"/etc/passwd\"");

    b = bag_w(NULL, &w);
    add(b, "manifest-md5.txt", "");
    m = mline("MD5", "x", "meta/../../outside.txt");
    add(b, "tagmanifest-md5.txt", m);
    free(m);
    parse_msg(b, "tagmanifest-md5.txt line 1: path leaves the bag (\"..\" "
              "above its top folder) \"meta/../../outside.txt\"");

    b = bag_w(NULL, &w);
    m = mline("MD5", "x", "data/a/");
    add(b, "manifest-md5.txt", m);
    free(m);
    parse_msg(b, "manifest-md5.txt line 1: path ends with / (manifests list "
              "files, not folders) \"data/a/\"");

    /* A Windows writer's "data\a.txt" is no file under data/. */
    b = bag_w(NULL, &w);
    m = mline("MD5", "x", "data\\a.txt");
    add(b, "manifest-md5.txt", m);
    free(m);
    parse_msg(b, "manifest-md5.txt line 1: payload manifest lists a file "
              "outside data/ \"data\\a.txt\"");
    assert_string_equal(w.text, "manifest-md5.txt line 1: path "
                        "\"data\\a.txt\" has a backslash, read as part of a "
                        "name: BagIt separates folders with '/' only\n");

    /* A backslash inside a name under data/ names that file. */
    b = bag_w(NULL, &w);
    m = mline("MD5", "x", "data/dir\\a.txt");
    add(b, "manifest-md5.txt", m);
    free(m);
    parse_ok(b);
    seen(b, "data/dir\\a.txt", "x");
    assert_int_equal(verify(b, &r), VL_OK);
    assert_int_equal(w.n, 1);
    vl_bag_free(b);
}

/* Item 6 siblings: percent-encoding (2.1.3: %0A, %0D, %25 and only those),
 * line endings (2.3: LF, CR or CRLF, mixed), BOMs (2.3) and tag file
 * encodings (2.1.1 Tag-File-Character-Encoding). */
static void test_encodings(void **state)
{
    report w, r;
    vl_bag *b;
    char *m, *a, *c, *d;
    const char *l, *v;

    /* %0a in lower case decodes too; a '%' that encodes nothing is kept,
     * with a warning in a 1.0 bag. */
    b = bag_w(NULL, &w);
    a = mline("MD5", "1", "data/two%0alines");
    c = mline("MD5", "2", "data/50%off");
    m = vl_asprintf("%s%s", a, c);
    add(b, "manifest-md5.txt", m);
    free(a);
    free(c);
    free(m);
    parse_ok(b);
    assert_string_equal(w.text, "manifest-md5.txt line 2: path "
                        "\"data/50%off\" has a '%' that is not %0A, %0D or "
                        "%25; read as written (BagIt 1.0 writes '%' as "
                        "%25)\n");
    seen(b, "data/two\nlines", "1");
    seen(b, "data/50%off", "2");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);

    /* One manifest ending its lines three ways. */
    b = bag_w(NULL, &w);
    a = mline("MD5", "1", "data/a");
    c = mline("MD5", "2", "data/b");
    d = mline("MD5", "3", "data/c");
    a[strlen(a) - 1] = '\r';
    m = vl_asprintf("%s\n%s%s", a, c, d);
    m[strlen(m) - 1] = '\r';
    add(b, "manifest-md5.txt", m);
    free(a);
    free(c);
    free(d);
    free(m);
    add(b, "bag-info.txt", "A: 1\r\nB: 2\rC: 3\n");
    parse_ok(b);
    assert_int_equal(vl_bag_info_count(b), 3);
    seen(b, "data/a", "1");
    seen(b, "data/b", "2");
    seen(b, "data/c", "3");
    assert_int_equal(verify(b, &r), VL_OK);
    assert_int_equal(w.n, 0);
    vl_bag_free(b);

    /* A UTF-8 BOM in any tag file is refused. */
    b = bag_w(NULL, &w);
    add(b, "manifest-md5.txt", "\xEF\xBB\xBF");
    parse_msg(b, "manifest-md5.txt: starts with a byte-order mark, which "
              "BagIt does not allow in UTF-8 tag files");
    b = bag_w(NULL, &w);
    add(b, "manifest-md5.txt", "");
    add(b, "fetch.txt", "\xEF\xBB\xBF");
    parse_msg(b, "fetch.txt: starts with a byte-order mark, which BagIt does "
              "not allow in UTF-8 tag files");
    b = bag_w(NULL, &w);
    add(b, "manifest-md5.txt", "");
    add(b, "bag-info.txt", "\xEF\xBB\xBF" "A: 1\n");
    parse_msg(b, "bag-info.txt: starts with a byte-order mark, which BagIt "
              "does not allow in UTF-8 tag files");

    /* A 1.0 bag in ISO-8859-1: read (RFC 8493 recommends UTF-8 strongly,
     * but does not require it), names and values converted. */
    b = bag_w("BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n",
              &w);
    m = mline("MD5", "x", "data/caf\xe9");
    add(b, "manifest-md5.txt", m);
    free(m);
    add(b, "bag-info.txt", "Contact-Name: Jos\xe9\n");
    parse_ok(b);
    assert_string_equal(w.text, "bagit.txt: tag files are in ISO-8859-1; "
                        "BagIt 1.0 strongly recommends UTF-8 (RFC 8493 "
                        "section 2.3)\n");
    vl_bag_info_entry(b, 0, &l, &v);
    assert_string_equal(v, "Jos\xc3\xa9");
    seen(b, "data/caf\xc3\xa9", "x");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);

    /* "utf8" is UTF-8: no warning. */
    b = bag_w("BagIt-Version: 1.0\nTag-File-Character-Encoding: utf8\n", &w);
    add(b, "manifest-md5.txt", "");
    parse_ok(b);
    assert_int_equal(w.n, 0);
    vl_bag_free(b);

    /* UTF-8 declared, Latin-1 written. */
    b = bag_w(NULL, &w);
    add(b, "manifest-md5.txt", "");
    add(b, "bag-info.txt", "Contact-Name: Jos\xe9\n");
    parse_msg(b, "bag-info.txt line 1: not valid UTF-8");

    /* An encoding iconv does not know is vellum's limit, not the bag's
     * fault. */
    b = bag_w("BagIt-Version: 1.0\nTag-File-Character-Encoding: X-NONE\n", &w);
    add(b, "manifest-md5.txt", "");
    assert_int_equal(vl_bag_parse(b, NULL), VL_EINPUT);
    assert_int_equal(vl_bag_refused_for_limit(b), 1);
    vl_bag_free(b);
}

/* Item 7: fetch.txt (RFC 8493 2.2.3).  A holey bag whose fetched files are
 * all present is complete; one still missing is reported with its URL. */
static void test_fetch(void **state)
{
    report w, r;
    vl_bag *b;
    char *a = mline("MD5", "local", "data/a.txt");
    char *c = mline("MD5", "remote", "data/remote.bin");
    char *m = vl_asprintf("%s%s", a, c);
    static const char fetch[] =
        "https://example.org/remote.bin 6 data/remote.bin\n"
        "\n"
        "https://example.org/a.txt - ./data/a.txt\n";

    /* Complete: every fetch.txt file is there. */
    b = bag_w(NULL, &w);
    add(b, "manifest-md5.txt", m);
    add(b, "fetch.txt", fetch);
    parse_ok(b);
    assert_int_equal(vl_bag_fetch_count(b), 2);
    assert_string_equal(w.text, "fetch.txt line 3: path \"./data/a.txt\" is "
                        "relative (\"./\"); read as \"data/a.txt\"\n");
    seen(b, "data/a.txt", "local");
    seen(b, "data/remote.bin", "remote");
    assert_int_equal(verify(b, &r), VL_OK);
    assert_int_equal(vl_bag_complete(b), 1);
    vl_bag_free(b);

    /* Incomplete: the file still to fetch is named, with its URL. */
    b = bag_w(NULL, &w);
    add(b, "manifest-md5.txt", m);
    add(b, "fetch.txt", fetch);
    parse_ok(b);
    seen(b, "data/a.txt", "local");
    assert_int_equal(verify(b, &r), VL_EINPUT);
    assert_string_equal(r.text, "data/remote.bin: listed in manifest-md5.txt "
                        "but missing: still to be fetched from "
                        "https://example.org/remote.bin (fetch.txt line 1; "
                        "vellum does not download)\n");
    assert_int_equal(vl_bag_complete(b), 0);
    assert_int_equal(vl_bag_to_fetch(b), 1);
    vl_bag_free(b);

    /* A path may hold spaces and the encoded CR, LF and '%'; tabs
     * separate too; a second entry for a path is ignored with a warning. */
    {
        char *sp = mline("MD5", "s", "data/two words%0A100%25");
        char *m2 = vl_asprintf("%s%s", a, sp);
        b = bag_w(NULL, &w);
        add(b, "manifest-md5.txt", m2);
        add(b, "fetch.txt", "https://example.org/s\t1\tdata/two words%0A100%25\n"
                            "https://example.org/t 1 data/two words%0a100%25\n");
        parse_ok(b);
        assert_int_equal(vl_bag_fetch_count(b), 1);
        assert_string_equal(w.text, "fetch.txt line 2: \"data/two "
                            "words\\x0a100%\" listed again (first on line 1); "
                            "the first is used\n");
        seen(b, "data/a.txt", "local");
        assert_int_equal(verify(b, &r), VL_EINPUT);
        assert_string_equal(r.text, "data/two words\\x0a100%: listed in "
                            "manifest-md5.txt but missing: still to be fetched "
                            "from https://example.org/s (fetch.txt line 1; "
                            "vellum does not download)\n");
        vl_bag_free(b);
        free(sp);
        free(m2);
    }

    /* Each malformed line, refused naming it. */
    static const struct {
        const char *line, *msg;
    } bad[] = {
        {"https://example.org/x data/a.txt\n",
         "fetch.txt line 1: not \"URL LENGTH PATH\""},
        {"example.org/x 5 data/a.txt\n",
         "fetch.txt line 1: not an absolute URL \"example.org/x\""},
        {"https://example.org/x ten data/a.txt\n",
         "fetch.txt line 1: LENGTH is not a number of bytes or \"-\": \"ten\""},
        {"https://example.org/x 5 bag-info.txt\n",
         "fetch.txt line 1: \"bag-info.txt\" is not a payload file: fetch.txt "
         "lists files under data/ only (RFC 8493 section 2.2.3)"},
        {"https://example.org/x 5 ../../etc/passwd\n",
         "fetch.txt line 1: path leaves the bag (\"..\" above its top folder) "
         "\"../../etc/passwd\""},
        {"https://example.org/x 5 /data/a.txt\n",
         "fetch.txt line 1: absolute path \"/data/a.txt\""},
        {"https://example.org/x 5 data/unlisted.txt\n",
         "fetch.txt line 1: \"data/unlisted.txt\" is not listed in "
         "manifest-md5.txt (every file fetch.txt lists is in every payload "
         "manifest, RFC 8493 section 2.2.3)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = bag_w(NULL, &w);
        add(b, "manifest-md5.txt", m);
        add(b, "fetch.txt", bad[i].line);
        parse_msg(b, bad[i].msg);
    }

    /* 0.97 (the LoC suite's local-fetch): an entry outside data/ is
     * ignored with a warning. */
    b = bag_w("BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n", &w);
    add(b, "manifest-md5.txt", a);
    add(b, "fetch.txt", "file:///home/x/sachiel.png 42000 sachiel.png\n");
    parse_ok(b);
    assert_string_equal(w.text, "fetch.txt line 1: \"sachiel.png\" is not "
                        "under data/; ignored (BagIt 1.0 fetches payload files "
                        "only)\n");
    assert_int_equal(vl_bag_fetch_count(b), 0);
    seen(b, "data/a.txt", "local");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);
    free(a);
    free(c);
    free(m);
}

/* Item 8: manifests in any digest OpenSSL provides (RFC 8493 2.4). */
static void test_other_algorithms(void **state)
{
    report w, r;
    vl_bag *b = bag_w(NULL, &w);
    char *m384 = mline("SHA2-384", "hello", "data/a.txt");
    char *m3 = mline("SHA3-256", "hello", "data/a.txt");
    char *t224, *t2s, *a, *c, hex[VL_DIGEST_HEX_MAX], hex2[VL_DIGEST_HEX_MAX];
    size_t nd = 0;

    add(b, "manifest-sha384.txt", m384);
    add(b, "manifest-sha3256.txt", m3);
    a = mline("SHA2-224", m384, "manifest-sha384.txt");
    c = mline("SHA2-224", m3, "manifest-sha3256.txt");
    t224 = vl_asprintf("%s%s", a, c);
    free(a);
    free(c);
    a = mline("BLAKE2S-256", decl10, "bagit.txt");
    t2s = a;
    add(b, "tagmanifest-sha224.txt", t224);
    add(b, "tagmanifest-blake2s256.txt", t2s);
    parse_ok(b);
    assert_int_equal(w.n, 0);
    assert_int_equal(vl_bag_payload_mask(b), 0);
    assert_int_equal(vl_bag_payload_extra_count(b), 2);
    assert_string_equal(vl_bag_payload_extra_name(b, 0), "SHA3-256");
    assert_string_equal(vl_bag_payload_extra_name(b, 1), "SHA2-384");
    {
        vl_error ferr = {0};
        assert_int_equal(vl_bag_foreach_digest(b, count_digest, &nd, &ferr), VL_OK);
    }
    assert_int_equal(nd, 0);   /* no fixity-block algorithm among them */
    seen(b, "data/a.txt", "hello");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);

    /* A mismatch names the algorithm as the file does. */
    b = bag_w(NULL, &w);
    add(b, "manifest-sha384.txt", m384);
    parse_ok(b);
    seen(b, "data/a.txt", "changed");
    assert_int_equal(verify(b, &r), VL_EINPUT);
    vl_digest_buffer_named("SHA2-384", "hello", 5, hex);
    vl_digest_buffer_named("SHA2-384", "changed", 7, hex2);
    char *want = vl_asprintf("data/a.txt: sha384 expected %s got %s\n", hex,
                             hex2);
    assert_string_equal(r.text, want);
    free(want);
    vl_bag_free(b);

    /* bagit-python's hashlib name: read, with a warning. */
    b = bag_w(NULL, &w);
    add(b, "manifest-sha3_256.txt", m3);
    parse_ok(b);
    assert_string_equal(w.text, "manifest-sha3_256.txt: \"sha3_256\" is not "
                        "a BagIt algorithm name (lower case letters and digits "
                        "only, RFC 8493 section 2.4); read as SHA3-256\n");
    seen(b, "data/a.txt", "hello");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);

    /* The checksum length is the algorithm's. */
    b = bag_w(NULL, &w);
    a = mline("SHA2-256", "hello", "data/a.txt");
    add(b, "manifest-sha384.txt", a);
    free(a);
    parse_msg(b, "manifest-sha384.txt line 1: sha384 checksum has 64 hex "
              "digits, not 96");

    /* One algorithm, two spellings. */
    b = bag_w(NULL, &w);
    add(b, "manifest-sha3256.txt", m3);
    add(b, "manifest-sha3_256.txt", m3);
    parse_msg(b, "manifest-sha3256.txt and manifest-sha3_256.txt both give "
              "sha3256 checksums");

    /* Not provided: vellum's limit, not the bag's fault. */
    b = bag_w(NULL, &w);
    add(b, "manifest-md4.txt", "");
    assert_int_equal(vl_bag_parse(b, NULL), VL_EINPUT);
    assert_int_equal(vl_bag_refused_for_limit(b), 1);
    vl_bag_free(b);
    free(m384);
    free(m3);
    free(t224);
    free(t2s);
}

/* Item 9: the same path twice (same checksum: warning) and names in
 * another Unicode normalization (RFC 8493 6.1.1.3: tolerate, warn). */
static void test_duplicates_normalization(void **state)
{
    static const char nfc[] = "data/caf\xc3\xa9", nfd[] = "data/cafe\xcc\x81";
    report w, r;
    vl_bag *b;
    char *a, *c, *m, hex[VL_DIGEST_HEX_MAX], hex2[VL_DIGEST_HEX_MAX];

    b = bag_w(NULL, &w);
    a = mline("MD5", "x", "data/a.txt");
    m = vl_asprintf("%s%s", a, a);
    add(b, "manifest-md5.txt", m);
    free(a);
    free(m);
    parse_ok(b);
    assert_string_equal(w.text, "manifest-md5.txt line 2: \"data/a.txt\" "
                        "listed again with the same checksum (first on line "
                        "1)\n");
    seen(b, "data/a.txt", "x");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);

    /* Listed NFC in two manifests, NFD on disk: matched once, one
     * warning; the digests are still checked. */
    b = bag_w(NULL, &w);
    a = mline("MD5", "x", nfc);
    c = mline("SHA2-256", "x", nfc);
    add(b, "manifest-md5.txt", a);
    add(b, "manifest-sha256.txt", c);
    free(a);
    free(c);
    parse_ok(b);
    seen(b, nfd, "x");
    assert_int_equal(verify(b, &r), VL_OK);
    assert_string_equal(w.text, "data/cafe\xcc\x81: listed in "
                        "manifest-md5.txt as \"data/caf\xc3\xa9\", the same "
                        "name in another Unicode normalization (NFD here, NFC "
                        "there); matched\n");
    vl_bag_free(b);

    /* Listed NFD, NFC on disk, with other content: the mismatch is
     * reported against the file on disk. */
    b = bag_w(NULL, &w);
    a = mline("SHA2-256", "x", nfd);
    add(b, "manifest-sha256.txt", a);
    free(a);
    parse_ok(b);
    seen(b, nfc, "y");
    assert_int_equal(verify(b, &r), VL_EINPUT);
    vl_digest_buffer(VL_SHA256, "x", 1, hex);
    vl_digest_buffer(VL_SHA256, "y", 1, hex2);
    m = vl_asprintf("data/caf\xc3\xa9: sha256 expected %s got %s\n", hex, hex2);
    assert_string_equal(r.text, m);
    free(m);
    assert_non_null(strstr(w.text, "(NFC here, NFD there); matched"));
    vl_bag_free(b);

    /* Two files on disk that both normalise to the listed name: no match,
     * the name is missing and both files are unlisted. */
    b = bag_w(NULL, &w);
    a = mline("MD5", "x", "data/N\xc3\xba\xc3\xb1" "ez");
    add(b, "manifest-md5.txt", a);
    free(a);
    parse_ok(b);
    seen(b, "data/Nu\xcc\x81n\xcc\x83" "ez", "x");
    seen(b, "data/Nu\xcc\x81\xc3\xb1" "ez", "x");
    assert_int_equal(verify(b, &r), VL_EINPUT);
    has(&r, "data/N\xc3\xba\xc3\xb1" "ez: listed in manifest-md5.txt but "
            "missing\n");
    has(&r, "data/Nu\xcc\x81n\xcc\x83" "ez: present but in no payload "
            "manifest\n");
    has(&r, "data/Nu\xcc\x81\xc3\xb1" "ez: present but in no payload "
            "manifest\n");
    assert_int_equal(r.n, 3);
    assert_int_equal(w.n, 0);
    vl_bag_free(b);

    /* The LoC suite's same-filename-listed-twice-with-different-
     * normalization: both entries, both files (a Linux filesystem keeps
     * both names): valid, with a warning. */
    b = bag_w(NULL, &w);
    a = mline("SHA2-512", "", nfc);
    c = mline("SHA2-512", "", nfd);
    m = vl_asprintf("%s%s", a, c);
    add(b, "manifest-sha512.txt", m);
    free(a);
    free(c);
    free(m);
    parse_ok(b);
    assert_string_equal(w.text, "manifest-sha512.txt lines 1 and 2: "
                        "\"data/caf\xc3\xa9\" and \"data/cafe\xcc\x81\" are "
                        "the same name in two Unicode normalizations (NFC, "
                        "NFD)\n");
    seen(b, nfc, "");
    seen(b, nfd, "");
    assert_int_equal(verify(b, &r), VL_OK);
    vl_bag_free(b);

    /* Names that differ only in case. */
    b = bag_w(NULL, &w);
    a = mline("MD5", "1", "data/Read.me");
    c = mline("MD5", "2", "data/READ.ME");
    m = vl_asprintf("%s%s", a, c);
    add(b, "manifest-md5.txt", m);
    free(a);
    free(c);
    free(m);
    parse_ok(b);
    assert_string_equal(w.text, "manifest-md5.txt lines 1 and 2: "
                        "\"data/Read.me\" and \"data/READ.ME\" differ only in "
                        "case\n");
    vl_bag_free(b);
}

/* The payload folder is a required element (RFC 8493 2.1.2); --fast
 * checks Payload-Oxum alone. */
static void test_payload_dir_and_oxum(void **state)
{
    report w, r;
    vl_bag *b = bag_w(NULL, &w);
    vl_error err = {0};

    add(b, "manifest-md5.txt", "");
    vl_bag_set_payload_dir(b, 0);
    parse_ok(b);
    assert_int_equal(verify(b, &r), VL_EINPUT);
    assert_string_equal(r.text, "data/: the payload folder is missing (RFC "
                        "8493 section 2.1.2)\n");
    assert_int_equal(vl_bag_complete(b), 0);
    assert_int_equal(vl_bag_verify_oxum(b, NULL, NULL, &err), VL_EINPUT);
    assert_string_equal(err.msg, "bag-info.txt has no Payload-Oxum to check "
                        "the payload against");
    vl_bag_free(b);

    b = bag_w(NULL, &w);
    char *a = mline("MD5", "hello", "data/a.txt");
    add(b, "manifest-md5.txt", a);
    free(a);
    add(b, "bag-info.txt", "Payload-Oxum: 5.1\n");
    parse_ok(b);
    /* Sizes only: a changed byte goes unnoticed, a changed size does not. */
    assert_int_equal(vl_bag_payload_seen(b, "data/a.txt", 5, NULL, NULL,
                                         &err), VL_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(vl_bag_verify_oxum(b, collect, &r, &err), VL_OK);
    assert_int_equal(r.n, 0);
    assert_int_equal(vl_bag_payload_seen(b, "data/b.txt", 1, NULL, NULL,
                                         &err), VL_OK);
    assert_int_equal(vl_bag_verify_oxum(b, collect, &r, &err), VL_EINPUT);
    assert_string_equal(r.text, "Payload-Oxum in bag-info.txt is 5.1 but the "
                        "payload has 6 bytes in 2 files\n");
    vl_bag_free(b);
}

/* A file in a fresh temporary folder, for tag files given by path. */
static char *write_temp(char *dir, const char *name, const void *data, size_t len)
{
    char *path = vl_asprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void add_path(vl_bag *b, const char *rel, const char *path)
{
    vl_error err = {0};
    if (vl_bag_add_tag_path(b, rel, path, &err) != VL_OK)
        fail_msg("add %s by path: %s", rel, err.msg);
}

static void count_any(void *arg, const char *rel, vl_digest_alg alg, const char *hex)
{
    (*(size_t *)arg)++;
}

/* A manifest given by its path, of many entries, is streamed: every
 * entry read (the last one too), duplicates and lookalikes warned about
 * with their lines, missing and unlisted files reported by path. */
static void test_manifest_by_path_many(void **state)
{
    enum { N = 20000 };
    char dir[] = "/tmp/vl-bagit-XXXXXX";
    char *mpath, *dpath, name[64], content[64], hex[VL_DIGEST_HEX_MAX];
    vl_buf m;
    report w, r;
    vl_bag *b;
    size_t i, nd = 0;

    assert_non_null(mkdtemp(dir));
    vl_buf_init(&m, 0);
    for (i = 0; i < N; i++) {
        snprintf(content, sizeof content, "file %zu", i);
        vl_digest_buffer(VL_SHA256, content, strlen(content), hex);
        vl_buf_printf(&m, NULL, "%s data/d%03zu/f%06zu.txt\n", hex, i / 1000, i);
        if (i == 7)   /* the same line again: a warning naming line 8 */
            vl_buf_printf(&m, NULL, "%s data/d000/f000007.txt\n", hex);
    }
    /* two names of one file on a case-insensitive disk, at the end */
    vl_digest_buffer(VL_SHA256, "x", 1, hex);
    vl_buf_printf(&m, NULL, "%s data/Readme\n%s data/README", hex, hex);
    mpath = write_temp(dir, "manifest-sha256.txt", m.data, m.len);
    dpath = write_temp(dir, "bagit.txt", decl10, strlen(decl10));
    b = vl_bag_new();
    assert_non_null(b);
    memset(&w, 0, sizeof w);
    vl_bag_set_warn(b, collect, &w);
    add_path(b, "manifest-sha256.txt", mpath);
    add_path(b, "bagit.txt", dpath);
    parse_ok(b);
    assert_string_equal(w.text,
                        "manifest-sha256.txt line 9: \"data/d000/f000007.txt\" listed "
                        "again with the same checksum (first on line 8)\n"
                        "manifest-sha256.txt lines 20002 and 20003: \"data/Readme\" and "
                        "\"data/README\" differ only in case\n");
    {
        vl_error ferr = {0};
        assert_int_equal(vl_bag_foreach_digest(b, count_any, &nd, &ferr), VL_OK);
    }
    assert_int_equal(nd, N + 2);
    /* in reverse, all but f012345, and one file in no manifest */
    for (i = N; i-- > 0;) {
        if (i == 12345)
            continue;
        snprintf(name, sizeof name, "data/d%03zu/f%06zu.txt", i / 1000, i);
        snprintf(content, sizeof content, "file %zu", i);
        seen(b, name, i == 4 ? "changed" : content);
    }
    seen(b, "data/Readme", "x");
    seen(b, "data/README", "x");
    seen(b, "data/extra", "e");
    assert_int_equal(verify(b, &r), VL_EINPUT);
    assert_int_equal(r.n, 3);
    vl_digest_buffer(VL_SHA256, "file 4", 6, hex);
    {
        char want[1024], got[VL_DIGEST_HEX_MAX];
        vl_digest_buffer(VL_SHA256, "changed", 7, got);
        snprintf(want, sizeof want,
                 "data/d000/f000004.txt: sha256 expected %s got %s\n"
                 "data/d012/f012345.txt: listed in manifest-sha256.txt but missing\n"
                 "data/extra: present but in no payload manifest\n", hex, got);
        assert_string_equal(r.text, want);
    }
    vl_bag_free(b);

    /* The same manifest handed in as bytes is spooled in parts and read
     * back the same; a tag manifest's digest of it is taken streamed. */
    b = vl_bag_new();
    assert_non_null(b);
    memset(&w, 0, sizeof w);
    vl_bag_set_warn(b, collect, &w);
    add(b, "bagit.txt", decl10);
    add(b, "manifest-sha256.txt", m.data);
    {
        char *tl = tag_line(VL_MD5, "manifest-sha256.txt", m.data, "\n");
        add(b, "tagmanifest-md5.txt", tl);
        free(tl);
    }
    parse_ok(b);
    assert_non_null(strstr(w.text, "lines 20002 and 20003"));
    for (i = 0; i < N; i++) {
        snprintf(name, sizeof name, "data/d%03zu/f%06zu.txt", i / 1000, i);
        snprintf(content, sizeof content, "file %zu", i);
        seen(b, name, content);
    }
    seen(b, "data/Readme", "x");
    seen(b, "data/README", "x");
    assert_int_equal(verify(b, &r), VL_OK);
    assert_int_equal(r.n, 0);
    vl_bag_free(b);
    unlink(mpath);
    unlink(dpath);
    rmdir(dir);
    free(mpath);
    free(dpath);
    vl_buf_release(&m);
}

/* One bag read with every chunk size from 1 byte up: lines (LF, CRLF, a
 * lone CR, a CRLF cut between two reads), multi-byte names and UTF-16
 * characters cut between reads give the same entries, warnings and report
 * as when read whole. */
static void run_chunked(size_t chunk, int utf16, const char *manifest,
                        const char *fetch, report *w, report *r)
{
    static const char decl8[] = "BagIt-Version: 1.0\n"
                                "Tag-File-Character-Encoding: UTF-8\n";
    static const char decl16[] = "BagIt-Version: 1.0\n"
                                 "Tag-File-Character-Encoding: UTF-16LE\n";
    vl_bag *b = vl_bag_new();
    vl_error err = {0};
    char *u = NULL;
    const char *files[][2] = {{"data/a", "1"}, {"data/b", "2"},
                              {"data/\xc3\xa9t\xc3\xa9", "3"}, {"data/\xe2\x82\xac", "4"}};
    size_t i, n;

    assert_non_null(b);
    vl_bag_set_read_chunk(b, chunk);
    memset(w, 0, sizeof *w);
    vl_bag_set_warn(b, collect, w);
    add(b, "bagit.txt", utf16 ? decl16 : decl8);
    for (i = 0; i < 2; i++) {
        const char *text = i ? fetch : manifest;
        const char *rel = i ? "fetch.txt" : "manifest-md5.txt";
        if (!utf16) {
            add(b, rel, text);
            continue;
        }
        /* UTF-16LE with a BOM: every character of these is in the BMP */
        n = strlen(text);
        u = calloc(2 * n + 2, 1);
        u[0] = (char)0xFF;
        u[1] = (char)0xFE;
        {
            size_t o = 2, k = 0;
            while (k < n) {
                unsigned char c = (unsigned char)text[k];
                unsigned cp;
                if (c < 0x80) {
                    cp = c;
                    k += 1;
                } else if (c < 0xE0) {
                    cp = ((c & 0x1Fu) << 6) | ((unsigned char)text[k + 1] & 0x3Fu);
                    k += 2;
                } else {
                    cp = ((c & 0x0Fu) << 12) | (((unsigned char)text[k + 1] & 0x3Fu) << 6) |
                         ((unsigned char)text[k + 2] & 0x3Fu);
                    k += 3;
                }
                u[o++] = (char)(cp & 0xFF);
                u[o++] = (char)(cp >> 8);
            }
            assert_int_equal(vl_bag_add_tag_file(b, rel, u, o, &err), VL_OK);
        }
        free(u);
    }
    parse_ok(b);
    assert_int_equal(vl_bag_fetch_count(b), 2);
    for (i = 0; i < sizeof files / sizeof files[0]; i++)
        if (i != 1)   /* data/b: fetched */
            seen(b, files[i][0], files[i][1]);
    memset(r, 0, sizeof *r);
    verify(b, r);
    vl_bag_free(b);
}

static void test_stream_boundaries(void **state)
{
    char *l[6], *manifest, *fetch;
    report w0, r0, w, r;
    size_t chunk;
    int utf16;

    l[0] = mline("MD5", "1", "data/a");
    l[1] = mline("MD5", "2", "data/b");
    l[2] = mline("MD5", "3", "data/\xc3\xa9t\xc3\xa9");
    l[3] = mline("MD5", "4", "data/\xe2\x82\xac");
    l[4] = mline("MD5", "1", "data/a");          /* listed again: a warning */
    l[5] = mline("MD5", "5", "data/./gone");     /* a warning, and missing */
    l[0][strlen(l[0]) - 1] = '\r';               /* a lone CR */
    manifest = vl_asprintf("%s%s\r\n%s\r\n\r\n%s%s%s", l[0], l[1], l[2], l[3], l[4], l[5]);
    /* "\r\n" after l[1] and l[2]: their own '\n' is dropped below */
    {
        char *p;
        while ((p = strstr(manifest, "\n\r\n")) != NULL)
            memmove(p, p + 1, strlen(p + 1) + 1);
    }
    fetch = vl_asprintf("https://example.org/b 1 data/b\r\n"
                        "https://example.org/e - data/\xe2\x82\xac\r");
    for (utf16 = 0; utf16 < 2; utf16++) {
        run_chunked(0, utf16, manifest, fetch, &w0, &r0);
        assert_non_null(strstr(w0.text, "line 6: \"data/a\" listed again"));
        assert_non_null(strstr(w0.text, "\"data/./gone\" has a \".\" segment"));
        assert_non_null(strstr(r0.text, "data/gone: listed in manifest-md5.txt but missing\n"));
        assert_non_null(strstr(r0.text, "data/b: listed in manifest-md5.txt but missing: "
                               "still to be fetched from https://example.org/b (fetch.txt line 1"));
        for (chunk = 1; chunk <= 9; chunk++) {
            run_chunked(chunk, utf16, manifest, fetch, &w, &r);
            assert_string_equal(w.text, w0.text);
            assert_string_equal(r.text, r0.text);
        }
    }
    for (chunk = 0; chunk < 6; chunk++)
        free(l[chunk]);
    free(manifest);
    free(fetch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_1_0),
        cmocka_unit_test(test_valid_0_97_crlf),
        cmocka_unit_test(test_cr_line_endings),
        cmocka_unit_test(test_declaration_refusals),
        cmocka_unit_test(test_utf16_0_97),
        cmocka_unit_test(test_manifest_refusals),
        cmocka_unit_test(test_bag_info),
        cmocka_unit_test(test_package_info_0_95),
        cmocka_unit_test(test_every_discrepancy),
        cmocka_unit_test(test_0_97_one_manifest_enough),
        cmocka_unit_test(test_percent_encoded_paths),
        cmocka_unit_test(test_payload_seen_errors),
        cmocka_unit_test(test_tag_file_limits),
        cmocka_unit_test(test_blake2b_and_empty_payload),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_path_refusals),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_other_algorithms),
        cmocka_unit_test(test_duplicates_normalization),
        cmocka_unit_test(test_payload_dir_and_oxum),
        cmocka_unit_test(test_manifest_by_path_many),
        cmocka_unit_test(test_stream_boundaries),
    };
    return cmocka_run_group_tests_name("bagit", tests, NULL, NULL);
}
