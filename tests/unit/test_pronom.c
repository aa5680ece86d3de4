/* Unit tests for the PRONOM engine (ingest/pronom*.c): the byte-sequence
 * syntax, DROID's anchoring, subsequence offsets and fragments, priorities
 * and extensions on small hand-made signature files, then the real DROID
 * signature files (from VELLUM_SHARED, default /work/shared) with files
 * built here as bytes, and the compiled cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* A white-box test: it uses ingest/'s private pronom_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "pronom_internal.h"

/* ---- helpers --------------------------------------------------------------- */

static const char *shared(void)
{
    const char *s = getenv("VELLUM_SHARED");
    return s && *s ? s : "/work/shared";
}

static char *shared_path(const char *rel)
{
    char *p = vl_asprintf("%s/pronom/%s", shared(), rel);
    assert_non_null(p);
    return p;
}

/* First match of seq text in buf, -1 when none. */
static long find(const char *text, const void *buf, size_t len)
{
    vl_pronom_seq *s;
    vl_error err = {0};
    size_t st, en;
    long r = -1;
    if (vl_pronom_seq_compile(text, &s, &err) != VL_OK)
        fail_msg("compile %s: %s", text, err.msg);
    if (vl_pronom_seq_find(s, buf, len, 0, len, &st, &en))
        r = (long)st;
    vl_pronom_seq_free(s);
    return r;
}

static int refused(const char *text, const char *want)
{
    vl_pronom_seq *s = NULL;
    vl_error err = {0};
    int rc = vl_pronom_seq_compile(text, &s, &err);
    if (rc == VL_OK) {
        vl_pronom_seq_free(s);
        return 0;
    }
    if (rc != VL_EINPUT || !strstr(err.msg, "offset") ||
        (want && !strstr(err.msg, want))) {
        print_error("%s -> %s\n", text, err.msg);
        return 0;
    }
    return 1;
}

/* An InternalSignature from XML text (no namespace needed). */
static vl_pronom_sig *sig_of(const char *xml)
{
    xmlDocPtr d = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
                                XML_PARSE_NONET);
    vl_pronom_sig *s = NULL;
    vl_error err = {0};
    assert_non_null(d);
    if (vl_pronom_sig_from_xml(xmlDocGetRootElement(d), &s, &err) != VL_OK)
        fail_msg("signature: %s", err.msg);
    xmlFreeDoc(d);
    return s;
}

static int sig_hit(const vl_pronom_sig *s, const void *data, size_t len,
                   char *basis)
{
    char b[256];
    return vl_pronom_sig_match(s, data, len, data, len, len,
                               basis ? basis : b, 256);
}

/* A temporary folder per test. */
static char *tmpdir(void)
{
    char *d = strdup("/tmp/vl-pronom-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
    char *p = vl_path_join(dir, name);
    vl_error err = {0};
    assert_int_equal(vl_fs_write_atomic(p, text, strlen(text), &err), VL_OK);
    return p;
}

/* ---- sequence syntax --------------------------------------------------------- */

static void test_seq_hex_and_wildcards(void **st)
{
    const uint8_t d[] = {0x00, 0x25, 0x50, 0x44, 0x46, 0x10, 0xff};
    assert_int_equal(find("255044", d, sizeof d), 1);
    assert_int_equal(find("25 50 44", d, sizeof d), 1);   /* spaces */
    assert_int_equal(find("2550??46", d, sizeof d), 1);
    assert_int_equal(find("10fF", d, sizeof d), 5);     /* any case */
}

static void test_seq_ranges_and_negation(void **st)
{
    const uint8_t d[] = {0x41, 0x10, 0x7a, 0x00, 0x35};
    assert_int_equal(find("[00:1F]", d, sizeof d), 1);
    assert_int_equal(find("[!41]", d, sizeof d), 1);
    assert_int_equal(find("[!00:41]", d, sizeof d), 2);
    assert_int_equal(find("['a'-'z']", d, sizeof d), 2);
    assert_int_equal(find("['5'-'7']", d, sizeof d), 4);
    assert_int_equal(find("[30-39]", d, sizeof d), 4);
    assert_int_equal(find("[30-39]?", d, sizeof d), -1);  /* needs 2 bytes */
    assert_int_equal(find("00[30-39]?", "\x00" "5x", 3), 0);
    assert_int_equal(find("[!&01]10", d, sizeof d), -1);
    assert_int_equal(find("[&01]10", d, sizeof d), 0);
    assert_int_equal(find("[~0F]00", d, sizeof d), 2);
}

static void test_seq_text_alternatives(void **st)
{
    const char *d = "xx%PDF-1.4 tail";
    assert_int_equal(find("'%PDF-'", d, strlen(d)), 2);
    assert_int_equal(find("'PDF-1.'(33|34|3335)", d, strlen(d)), 3);
    assert_int_equal(find("(5858|'%P')'DF'", d, strlen(d)), 2);
    assert_int_equal(find("('zz'|'tai')6C", d, strlen(d)), 11);
    assert_int_equal(find("(41|42)", d, strlen(d)), -1);
}

static void test_seq_gaps(void **st)
{
    const char *d = "AB1234CD";
    assert_int_equal(find("'AB'{4}'CD'", d, strlen(d)), 0);
    assert_int_equal(find("'AB'{3}'CD'", d, strlen(d)), -1);
    assert_int_equal(find("'AB'{2-5}'CD'", d, strlen(d)), 0);
    assert_int_equal(find("'AB'{5-9}'CD'", d, strlen(d)), -1);
    assert_int_equal(find("'AB'{1-*}'CD'", d, strlen(d)), 0);
    assert_int_equal(find("'AB'*'CD'", d, strlen(d)), 0);
    assert_int_equal(find("'B'*'A'", d, strlen(d)), -1);
}

static void test_seq_malformed(void **st)
{
    assert_true(refused("2", "hex"));
    assert_true(refused("ZZ", "unexpected"));
    assert_true(refused("[00:1F", "unterminated"));
    assert_true(refused("[]", "empty"));
    assert_true(refused("(41|42", "unterminated"));
    assert_true(refused("41)", "unexpected"));
    assert_true(refused("'abc", "unterminated"));
    assert_true(refused("{5-2}", "m < n"));
    assert_true(refused("{x}", "number"));
    assert_true(refused("41{99999999999}", "too large"));
    assert_true(refused("", "empty"));
    assert_true(refused("((((((((((((((((((41))))))))))))))))))", "deep"));
    /* The offset is that of the problem. */
    {
        vl_pronom_seq *s;
        vl_error err = {0};
        assert_int_equal(vl_pronom_seq_compile("4142 4G", &s, &err),
                         VL_EINPUT);
        assert_non_null(strstr(err.msg, "offset 5"));
    }
}

/* ---- anchoring ------------------------------------------------------------------ */

#define SS(pos, min, max, seq) \
    "<SubSequence Position=\"" #pos "\" SubSeqMinOffset=\"" #min "\"" max \
    "><Sequence>" seq "</Sequence>"

static void test_sig_bof_eof_var(void **st)
{
    char basis[256];
    const char *bofx = "<InternalSignature ID=\"1\"><ByteSequence "
        "Reference=\"BOFoffset\">" SS(1, 0, " SubSeqMaxOffset=\"0\"", "4142")
        "</SubSequence></ByteSequence></InternalSignature>";
    const char *eofx = "<InternalSignature ID=\"2\"><ByteSequence "
        "Reference=\"EOFoffset\">" SS(1, 0, " SubSeqMaxOffset=\"0\"", "5A")
        "</SubSequence></ByteSequence></InternalSignature>";
    const char *varx = "<InternalSignature ID=\"3\"><ByteSequence>"
        SS(1, 0, "", "4D4E") "</SubSequence></ByteSequence>"
        "</InternalSignature>";
    vl_pronom_sig *b = sig_of(bofx), *e = sig_of(eofx), *v = sig_of(varx);

    assert_true(sig_hit(b, "ABxxxxZ", 7, basis));
    assert_string_equal(basis, "BOF 0-1");
    assert_false(sig_hit(b, "xABxxxZ", 7, NULL));
    assert_true(sig_hit(e, "ABxxxxZ", 7, basis));
    assert_string_equal(basis, "EOF 6-6");
    assert_false(sig_hit(e, "ABxxxZx", 7, NULL));
    assert_true(sig_hit(v, "xxxxMNxx", 8, basis));
    assert_string_equal(basis, "VAR 4-5");
    assert_false(sig_hit(v, "xxxxMxNx", 8, NULL));

    /* EOF offsets are absolute in the basis, from the eof window. */
    {
        uint8_t big[100];
        memset(big, 'x', sizeof big);
        memcpy(big, "AB", 2);
        big[99] = 'Z';
        assert_true(vl_pronom_sig_match(e, big, 10, big + 90, 10, 100,
                                        basis, sizeof basis));
        assert_string_equal(basis, "EOF 99-99");
        /* a variable sequence is looked for in the eof window too */
        memcpy(big + 95, "MN", 2);
        assert_true(vl_pronom_sig_match(v, big, 10, big + 90, 10, 100,
                                        basis, sizeof basis));
        assert_string_equal(basis, "VAR 95-96");
    }
    vl_pronom_sig_free(b);
    vl_pronom_sig_free(e);
    vl_pronom_sig_free(v);
}

static void test_sig_two_sequences(void **st)
{
    char basis[256];
    const char *x = "<InternalSignature ID=\"20\">"
        "<ByteSequence Reference=\"BOFoffset\">"
        SS(1, 0, " SubSeqMaxOffset=\"0\"", "41") "</SubSequence></ByteSequence>"
        "<ByteSequence Reference=\"EOFoffset\">"
        SS(1, 0, " SubSeqMaxOffset=\"2\"", "5A") "</SubSequence></ByteSequence>"
        "</InternalSignature>";
    vl_pronom_sig *s = sig_of(x);
    assert_true(sig_hit(s, "AxxxxxxxxxxxZ", 13, basis));
    assert_string_equal(basis, "BOF 0-0; EOF 12-12");
    assert_true(sig_hit(s, "AxxxxxxxxxZxx", 13, basis));
    assert_string_equal(basis, "BOF 0-0; EOF 10-10");
    assert_false(sig_hit(s, "AxxxxxxxxZxxx", 13, NULL));
    vl_pronom_sig_free(s);
}

static void test_sig_subsequence_offsets(void **st)
{
    char basis[256];
    /* First anchored within 2..4 of BOF; the second 1..3 after it. */
    const char *x = "<InternalSignature ID=\"5\"><ByteSequence "
        "Reference=\"BOFoffset\">"
        SS(1, 2, " SubSeqMaxOffset=\"4\"", "4142") "</SubSequence>"
        SS(2, 1, " SubSeqMaxOffset=\"3\"", "4344") "</SubSequence>"
        "</ByteSequence></InternalSignature>";
    /* EOF: Position 2 is nearest the end (DROID walks the list backwards);
     * Position 1 ends at least 2 bytes before Position 2 starts. */
    const char *y = "<InternalSignature ID=\"6\"><ByteSequence "
        "Reference=\"EOFoffset\">"
        SS(1, 2, "", "5859") "</SubSequence>"
        SS(2, 1, " SubSeqMaxOffset=\"1\"", "5A") "</SubSequence>"
        "</ByteSequence></InternalSignature>";
    vl_pronom_sig *s = sig_of(x), *t = sig_of(y);

    assert_false(sig_hit(s, "ABxCDxxxxx", 10, NULL));     /* AB at 0 */
    assert_true(sig_hit(s, "xxABxCDxxx", 10, basis));     /* at 2, gap 1 */
    assert_string_equal(basis, "BOF 2-6");
    assert_true(sig_hit(s, "xxxxABxxxCD", 11, basis));    /* at 4, gap 3 */
    assert_false(sig_hit(s, "xxxxxABxCD", 10, NULL));     /* at 5 */
    assert_false(sig_hit(s, "xxABCDxxxx", 10, NULL));     /* gap 0 */
    assert_false(sig_hit(s, "xxABxxxxCD", 10, NULL));     /* gap 4 */

    assert_true(sig_hit(t, "xXYabZq", 7, basis));
    assert_string_equal(basis, "EOF 1-5");
    assert_true(sig_hit(t, "XYabcdeZq", 9, NULL));        /* min only */
    assert_false(sig_hit(t, "xXYaZq", 6, NULL));          /* gap 1 < 2 */
    assert_false(sig_hit(t, "xXYabZ", 6, NULL));          /* Z at EOF-0 */
    assert_false(sig_hit(t, "xZqabXY", 7, NULL));         /* order */
    vl_pronom_sig_free(s);
    vl_pronom_sig_free(t);
}

static void test_sig_fragments(void **st)
{
    char basis[256];
    /* anchor "MM"; left: pos 1 is "a" or "bb" right before (0..1 gap),
     * pos 2 is "Q" right before that; right: pos 1 "[30:39]" 2..3 after. */
    const char *x = "<InternalSignature ID=\"7\"><ByteSequence "
        "Reference=\"BOFoffset\">"
        SS(1, 0, " SubSeqMaxOffset=\"1\"", "4D4D")
        "<LeftFragment MinOffset=\"0\" MaxOffset=\"1\" Position=\"1\">61"
        "</LeftFragment>"
        "<LeftFragment MinOffset=\"0\" MaxOffset=\"1\" Position=\"1\">6262"
        "</LeftFragment>"
        "<LeftFragment MinOffset=\"0\" MaxOffset=\"0\" Position=\"2\">51"
        "</LeftFragment>"
        "<RightFragment MinOffset=\"2\" MaxOffset=\"3\" Position=\"1\">"
        "[30:39]</RightFragment>"
        "</SubSequence></ByteSequence></InternalSignature>";
    vl_pronom_sig *s = sig_of(x);

    assert_true(sig_hit(s, "QaMMxx5", 7, basis));
    assert_string_equal(basis, "BOF 0-6");
    assert_true(sig_hit(s, "QbbMMxxx7", 9, NULL));   /* other alternative */
    assert_true(sig_hit(s, "QaxMMxx5", 8, NULL));    /* left gap 1 */
    assert_true(sig_hit(s, "xQaMMxx5", 8, NULL));    /* whole starts at 1 */
    assert_false(sig_hit(s, "xxQaMMxx5", 9, NULL));  /* starts at 2 > max */
    assert_false(sig_hit(s, "QcMMxx5", 7, NULL));    /* no alternative */
    assert_false(sig_hit(s, "aMMxx5", 6, NULL));     /* Q missing */
    assert_false(sig_hit(s, "QaMMx5", 6, NULL));     /* right gap 1 < 2 */
    assert_false(sig_hit(s, "QaMMxxxx5", 9, NULL));  /* right gap 4 > 3 */
    assert_false(sig_hit(s, "QaMMxxA", 7, NULL));    /* not a digit */
    vl_pronom_sig_free(s);
}

static void test_sig_bad_xml(void **st)
{
    const char *bad[] = {
        "<InternalSignature><ByteSequence/></InternalSignature>",
        "<InternalSignature ID=\"1\"/>",
        "<InternalSignature ID=\"1\"><ByteSequence/></InternalSignature>",
        "<InternalSignature ID=\"1\"><ByteSequence><SubSequence "
        "Position=\"1\"><Sequence>4</Sequence></SubSequence></ByteSequence>"
        "</InternalSignature>",
        "<InternalSignature ID=\"1\"><ByteSequence><SubSequence "
        "SubSeqMinOffset=\"-1\"><Sequence>41</Sequence></SubSequence>"
        "</ByteSequence></InternalSignature>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xmlDocPtr d = xmlReadMemory(bad[i], (int)strlen(bad[i]), "t.xml",
                                    NULL, XML_PARSE_NONET);
        vl_pronom_sig *s = NULL;
        vl_error err = {0};
        assert_int_equal(vl_pronom_sig_from_xml(xmlDocGetRootElement(d), &s,
                                                &err), VL_EINPUT);
        assert_null(s);
        xmlFreeDoc(d);
    }
}

/* ---- engine on a small signature file -------------------------------------------- */

static const char *small_file =
    "<?xml version=\"1.0\"?>\n"
    "<FFSignatureFile Version=\"7\" xmlns=\"http://www.nationalarchives.gov."
    "uk/pronom/SignatureFile\"><InternalSignatureCollection>"
    "<InternalSignature ID=\"1\"><ByteSequence Reference=\"BOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"0\">"
    "<Sequence>46524D54</Sequence></SubSequence></ByteSequence>"
    "<NewElement Foo=\"bar\"/></InternalSignature>"
    "<InternalSignature ID=\"2\"><ByteSequence Reference=\"BOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"0\">"
    "<Sequence>46524D5432</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "<InternalSignature ID=\"3\"><ByteSequence>"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\">"
    "<Sequence>4D41524B</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "<InternalSignature ID=\"4\"><ByteSequence>"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\">"
    "<Sequence>4D41524B</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "</InternalSignatureCollection><FileFormatCollection>"
    "<FileFormat ID=\"10\" PUID=\"test/1\" Name=\"Frame\" Version=\"1\" "
    "MIMEType=\"application/x-frame, application/x-other\">"
    "<InternalSignatureID>1</InternalSignatureID><Extension>frm</Extension>"
    "</FileFormat>"
    "<FileFormat ID=\"11\" PUID=\"test/2\" Name=\"Frame\" Version=\"2\">"
    "<InternalSignatureID>2</InternalSignatureID><Extension>frm</Extension>"
    "<HasPriorityOverFileFormatID>10</HasPriorityOverFileFormatID>"
    "</FileFormat>"
    "<FileFormat ID=\"12\" PUID=\"test/3\" Name=\"Mark A\">"
    "<InternalSignatureID>3</InternalSignatureID><Extension>mka</Extension>"
    "</FileFormat>"
    "<FileFormat ID=\"13\" PUID=\"test/4\" Name=\"Mark B\">"
    "<InternalSignatureID>4</InternalSignatureID><Extension>mkb</Extension>"
    "</FileFormat>"
    "<FileFormat ID=\"14\" PUID=\"test/5\" Name=\"Text\">"
    "<Extension>TXT</Extension></FileFormat>"
    "<FileFormat ID=\"15\" PUID=\"test/6\" Name=\"Text too\">"
    "<Extension>txt</Extension></FileFormat>"
    "</FileFormatCollection></FFSignatureFile>\n";

static vl_pronom *open_small(char **dir)
{
    vl_pronom_options o = {0};
    vl_pronom *p = NULL;
    vl_error err = {0};
    char *path;
    *dir = tmpdir();
    path = write_tmp(*dir, "sig.xml", small_file);
    o.signatures = path;
    if (vl_pronom_open(&o, &p, &err) != VL_OK)
        fail_msg("open: %s", err.msg);
    free(path);
    return p;
}

static void rmdir_all(char *dir)
{
    vl_error err = {0};
    vl_fs_rmtree(dir, &err);
    free(dir);
}

static void ident(const vl_pronom *p, const char *data, const char *name,
                  vl_pronom_result *r)
{
    vl_error err = {0};
    size_t n = strlen(data);
    assert_int_equal(vl_pronom_identify(p, (const uint8_t *)data, n,
                                        (const uint8_t *)data, n, n, name,
                                        NULL, r, &err), VL_OK);
}

static void test_engine_priority(void **st)
{
    char *dir;
    vl_pronom *p = open_small(&dir);
    vl_pronom_result r;

    assert_string_equal(vl_pronom_signature_version(p), "V7");
    assert_string_equal(vl_pronom_container_version(p), "");
    ident(p, "FRMT1 data", "a.frm", &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].puid, "test/1");
    assert_string_equal(r.m[0].mime, "application/x-frame");
    assert_int_equal(r.m[0].basis_kind, VL_PRONOM_BASIS_SIGNATURE);
    assert_string_equal(r.m[0].basis, "byte match BOF 0-3 (signature 1)");
    assert_string_equal(r.warning, "");
    /* test/2 matches too and has priority over test/1 */
    ident(p, "FRMT2 data", "a.frm", &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].puid, "test/2");
    assert_string_equal(r.m[0].version, "2");
    vl_pronom_close(p);
    rmdir_all(dir);
}

static void test_engine_extension(void **st)
{
    char *dir;
    vl_pronom *p = open_small(&dir);
    vl_pronom_result r;

    ident(p, "plain words", "notes.TXT", &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.m[0].puid, "test/5");
    assert_int_equal(r.m[0].basis_kind, VL_PRONOM_BASIS_EXTENSION);
    assert_string_equal(r.m[0].basis, "extension match txt");
    assert_string_equal(r.warning, "2 formats match");
    ident(p, "plain words", "notes.none", &r);
    assert_int_equal(r.n, 0);
    ident(p, "plain words", NULL, &r);
    assert_int_equal(r.n, 0);
    /* a signature match with a foreign extension */
    ident(p, "FRMT1", "a.txt", &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].puid, "test/1");
    assert_string_equal(r.warning, "extension mismatch");
    vl_pronom_close(p);
    rmdir_all(dir);
}

static void test_engine_several(void **st)
{
    char *dir;
    vl_pronom *p = open_small(&dir);
    vl_pronom_result r;

    ident(p, "xxMARKxx", "f.mka", &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.warning, "2 formats match");
    assert_true(strstr(r.m[0].basis, "VAR 2-5") != NULL);
    vl_pronom_close(p);
    rmdir_all(dir);
}

static void test_engine_bad_files(void **st)
{
    const char *bad[] = {
        "not xml at all",
        "<FFSignatureFile><InternalSignatureCollection>",
        "<Other/>",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]>"
        "<FFSignatureFile/>",
        "<FFSignatureFile><InternalSignatureCollection><InternalSignature "
        "ID=\"1\"><ByteSequence><SubSequence><Sequence>(41</Sequence>"
        "</SubSequence></ByteSequence></InternalSignature>"
        "</InternalSignatureCollection></FFSignatureFile>",
        "<FFSignatureFile><FileFormatCollection><FileFormat ID=\"x\"/>"
        "</FileFormatCollection></FFSignatureFile>",
        /* Refused after its first Sequence compiled (a leak the fuzzer
         * found: the sanitizer build checks it is freed). */
        "<FFSignatureFile><InternalSignatureCollection><InternalSignature "
        "ID=\"9\"><ByteSequence><SubSequence><Sequence>49</Sequence>"
        "<Sequence>4A</Sequence></SubSequence></ByteSequence>"
        "</InternalSignature></InternalSignatureCollection>"
        "</FFSignatureFile>",
    };
    char *dir = tmpdir();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = write_tmp(dir, "bad.xml", bad[i]);
        vl_pronom_options o = {path, NULL, NULL};
        vl_pronom *p = NULL;
        vl_error err = {0};
        assert_int_equal(vl_pronom_open(&o, &p, &err), VL_EINPUT);
        assert_null(p);
        if (!strstr(err.msg, "bad.xml"))
            fail_msg("message does not name the file: %s", err.msg);
        free(path);
    }
    {
        vl_pronom_options o = {"/nonexistent/sig.xml", NULL, NULL};
        vl_pronom *p = NULL;
        vl_error err = {0};
        assert_int_not_equal(vl_pronom_open(&o, &p, &err), VL_OK);
        assert_non_null(strstr(err.msg, "sig.xml"));
    }
    rmdir_all(dir);
}

/* ---- the real signature files -------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int has_puid(const vl_pronom_result *r, const char *puid)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->m[i].puid, puid) == 0)
            return 1;
    return 0;
}

static void bytes_ident(const vl_pronom *p, const uint8_t *d, size_t n,
                        const char *name, vl_pronom_result *r)
{
    vl_error err = {0};
    assert_int_equal(vl_pronom_identify(p, d, n, d, n, n, name, NULL, r,
                                        &err), VL_OK);
}

static void check_known(const vl_pronom *p)
{
    vl_pronom_result r;
    static const uint8_t png[] = {
        0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13,
        'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0,
        0x3a, 0x7e, 0x9b, 0x55, 0, 0, 0, 0, 'I', 'E', 'N', 'D',
        0xae, 0x42, 0x60, 0x82};
    const char *pdf = "%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n"
                      "%%EOF\n";
    const char *gif = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    const uint8_t tiff[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0};

    bytes_ident(p, (const uint8_t *)pdf, strlen(pdf), "a.pdf", &r);
    assert_true(has_puid(&r, "fmt/18"));
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].mime, "application/pdf");
    assert_string_equal(r.warning, "");
    bytes_ident(p, png, sizeof png, "a.png", &r);
    assert_true(has_puid(&r, "fmt/11"));
    bytes_ident(p, (const uint8_t *)gif, 14, "a.gif", &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].puid, "fmt/4");
    assert_string_equal(r.m[0].basis,
                        "byte match BOF 0-5; EOF 13-13 (signature 17)");
    bytes_ident(p, tiff, sizeof tiff, "a.tif", &r);
    assert_true(has_puid(&r, "fmt/353"));
    /* the same TIFF named .pdf: the mismatch is reported */
    bytes_ident(p, tiff, sizeof tiff, "a.pdf", &r);
    assert_true(strstr(r.warning, "extension mismatch") != NULL);
    /* nothing matches: the extension decides */
    bytes_ident(p, (const uint8_t *)"\x01\x02\x03", 3, "b.pdf", &r);
    assert_true(r.n >= 1);
    assert_int_equal(r.m[0].basis_kind, VL_PRONOM_BASIS_EXTENSION);
}

static void test_real_v122(void **st)
{
    char *path = shared_path("DROID_SignatureFile_V122.xml");
    vl_pronom_sigfile *f = NULL;
    vl_pronom_options o = {path, NULL, NULL};
    vl_pronom *p = NULL;
    vl_error err = {0};
    double t0 = now_ms(), t1;

    if (vl_pronom_sigfile_load(path, &f, &err) != VL_OK)
        fail_msg("%s", err.msg);
    t1 = now_ms();
    assert_int_equal(f->nsig, 2242);
    assert_int_equal(f->nfmt, 2544);
    assert_string_equal(f->version, "V122");
    vl_pronom_sigfile_free(f);
    if (vl_pronom_open(&o, &p, &err) != VL_OK)
        fail_msg("%s", err.msg);
    print_message("V122 parsed and compiled in %.0f ms; windows %zu/%zu\n",
                  t1 - t0, vl_pronom_bof_bytes(p), vl_pronom_eof_bytes(p));
    assert_true(vl_pronom_bof_bytes(p) <= 256 * 1024);
    assert_true(vl_pronom_eof_bytes(p) <= 256 * 1024);
    check_known(p);
    vl_pronom_close(p);
    free(path);
}

static void test_real_v118(void **st)
{
    char *path = shared_path("older/DROID_SignatureFile_V118.xml");
    vl_pronom_options o = {path, NULL, NULL};
    vl_pronom *p = NULL;
    vl_error err = {0};
    if (vl_pronom_open(&o, &p, &err) != VL_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(vl_pronom_signature_version(p), "V118");
    check_known(p);
    vl_pronom_close(p);
    free(path);
}

/* ---- the cache ------------------------------------------------------------------------- */

static void same_results(const vl_pronom *a, const vl_pronom *b)
{
    const char *inputs[] = {
        "%PDF-1.4\n%%EOF\n", "GIF89a\x01\x00\x01\x00\x00;", "II*\0abcdef",
        "PK\x03\x04 zip", "{\\rtf1\\ansi x}", "<?xml version=\"1.0\"?><a/>",
        "\x01\x02", "#!/bin/sh\necho\n",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        vl_pronom_result ra, rb;
        size_t n = strlen(inputs[i]);
        if (i == 2)
            n = 10;
        bytes_ident(a, (const uint8_t *)inputs[i], n, "x.dat", &ra);
        bytes_ident(b, (const uint8_t *)inputs[i], n, "x.dat", &rb);
        assert_memory_equal(&ra, &rb, sizeof ra);
    }
}

static void test_cache(void **st)
{
    char *path = shared_path("DROID_SignatureFile_V122.xml");
    char *dir = tmpdir();
    vl_pronom_options plain = {path, NULL, NULL}, cached = {path, NULL, dir};
    vl_pronom *a = NULL, *b = NULL, *c = NULL;
    vl_error err = {0};
    char key[65], *bin, *name;
    double t0, t1, t2;
    FILE *fp;

    assert_int_equal(vl_pronom_open(&plain, &a, &err), VL_OK);
    t0 = now_ms();
    assert_int_equal(vl_pronom_open(&cached, &b, &err), VL_OK);  /* writes */
    t1 = now_ms();
    vl_pronom_close(b);
    b = NULL;
    assert_int_equal(vl_pronom_cache_key(path, NULL, key, &err), VL_OK);
    name = vl_asprintf("pronom-%s.bin", key);
    bin = vl_path_join(dir, name);
    assert_true(vl_fs_exists(bin));
    assert_int_equal(vl_pronom_open(&cached, &b, &err), VL_OK);  /* reads */
    t2 = now_ms();
    print_message("open V122: compile+write %.1f ms, from cache %.1f ms\n",
                  t1 - t0, t2 - t1);
    assert_string_equal(vl_pronom_signature_version(b), "V122");
    assert_int_equal(vl_pronom_bof_bytes(a), vl_pronom_bof_bytes(b));
    same_results(a, b);
    check_known(b);

    /* Corrupt the cache in the middle: ignored, recompiled, same answers. */
    assert_non_null(fp = fopen(bin, "r+b"));
    fseek(fp, 0, SEEK_END);
    fseek(fp, ftell(fp) / 2, SEEK_SET);
    fputs("garbage garbage garbage", fp);
    fclose(fp);
    assert_int_equal(vl_pronom_open(&cached, &c, &err), VL_OK);
    same_results(a, c);
    vl_pronom_close(c);
    c = NULL;
    /* Truncated, then not a cache at all. */
    assert_int_equal(truncate(bin, 100), 0);
    assert_int_equal(vl_pronom_open(&cached, &c, &err), VL_OK);
    same_results(a, c);
    vl_pronom_close(c);
    c = NULL;
    assert_int_equal(vl_fs_write_atomic(bin, "x", 1, &err), VL_OK);
    assert_int_equal(vl_pronom_open(&cached, &c, &err), VL_OK);
    same_results(a, c);

    vl_pronom_close(a);
    vl_pronom_close(b);
    vl_pronom_close(c);
    free(bin);
    free(name);
    free(path);
    rmdir_all(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_hex_and_wildcards),
        cmocka_unit_test(test_seq_ranges_and_negation),
        cmocka_unit_test(test_seq_text_alternatives),
        cmocka_unit_test(test_seq_gaps),
        cmocka_unit_test(test_seq_malformed),
        cmocka_unit_test(test_sig_bof_eof_var),
        cmocka_unit_test(test_sig_two_sequences),
        cmocka_unit_test(test_sig_subsequence_offsets),
        cmocka_unit_test(test_sig_fragments),
        cmocka_unit_test(test_sig_bad_xml),
        cmocka_unit_test(test_engine_priority),
        cmocka_unit_test(test_engine_extension),
        cmocka_unit_test(test_engine_several),
        cmocka_unit_test(test_engine_bad_files),
        cmocka_unit_test(test_real_v122),
        cmocka_unit_test(test_real_v118),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
