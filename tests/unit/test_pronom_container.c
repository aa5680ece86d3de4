/* Container signatures: the shared container signature files loaded
 * ($VELLUM_SHARED/pronom), and containers made at test time - ZIPs with
 * libarchive's writer, OLE2 files with ole2_writer.h - identified by the
 * PUIDs the file's FileFormatMappings give (looked up there, not guessed:
 * signature 1030 -> fmt/412, 6010 -> fmt/290, 6020 -> fmt/291, 14010 ->
 * fmt/483, 10000 -> x-fmt/412, 1020 -> fmt/40, 1090 -> fmt/609, 1100 ->
 * x-fmt/45, 2010 -> fmt/61, 3000 -> fmt/126).  Corrupt
 * containers and bad signature files are refused with VL_EINPUT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

/* A white-box test: it uses ingest/'s private pronom_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "ole2_writer.h"
#include "pronom_internal.h"
#include "unit_files.h"

static char g_new[4096], g_old[4096];
static vl_pronom_containers *g_c;
static char *g_dir;

typedef struct zent {
    const char *name;        /* ending in '/': a folder entry */
    const char *text;
} zent;

static char *make_zip(const char *name, const zent *e, size_t n)
{
    char *path = vl_path_join(g_dir, name);
    struct archive *a = archive_write_new();
    size_t i;

    assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        size_t len = strlen(e[i].text);
        int dir = e[i].name[strlen(e[i].name) - 1] == '/';
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(ae, dir ? 0755 : 0644);
        archive_entry_set_size(ae, dir ? 0 : (la_int64_t)len);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (!dir && len)
            assert_int_equal(archive_write_data(a, e[i].text, len),
                             (la_ssize_t)len);
        archive_entry_free(ae);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return path;
}

static char *make_ole2(const char *name, const ow_item *it, size_t n)
{
    char *path = vl_path_join(g_dir, name);
    size_t len;
    uint8_t *f = ow_build(it, n, &len);
    vl_error err = {0};

    assert_int_equal(vl_fs_write_atomic(path, f, len, &err), VL_OK);
    free(f);
    return path;
}

/* The PUIDs found, space separated, for one comparison. */
static void match(int type, const char *path, char *out, size_t cap)
{
    char puids[8][32], basis[8][256];
    size_t n, i, used = 0;
    vl_error err = {0};

    if (vl_pronom_containers_match(g_c, type, path, puids, basis, 8, &n,
                                   &err) != VL_OK)
        fail_msg("%s", err.msg);
    out[0] = 0;
    for (i = 0; i < n; i++) {
        assert_non_null(strstr(basis[i], "container signature "));
        used += (size_t)snprintf(out + used, cap - used, "%s%s",
                                 i ? " " : "", puids[i]);
    }
}

static int setup(void **state)
{
    const char *shared = getenv("VELLUM_SHARED");
    vl_error err = {0};

    snprintf(g_new, sizeof g_new, "%s/pronom/container-signature-20260119.xml",
             shared ? shared : "../shared");
    snprintf(g_old, sizeof g_old,
             "%s/pronom/older/container-signature-20240501.xml",
             shared ? shared : "../shared");
    if (vl_pronom_containers_load(g_new, &g_c, &err) != VL_OK) {
        fprintf(stderr, "cannot load %s (set VELLUM_SHARED): %s\n", g_new,
                err.msg);
        return -1;
    }
    g_dir = tmpdir();
    return 0;
}

static int teardown(void **state)
{
    vl_pronom_containers_free(g_c);
    vl_fs_rmtree(g_dir, NULL);
    free(g_dir);
    return 0;
}

static void test_load(void **state)
{
    vl_pronom_containers *old;
    vl_error err = {0};

    assert_string_equal(vl_pronom_containers_version(g_c), "40");
    {
        size_t nb;
        const char *w = vl_pronom_containers_warning(g_c, &nb);
        if (nb)
            fail_msg("%zu container signatures unusable: %s", nb, w);
    }
    assert_int_equal(vl_pronom_containers_count(g_c, 0), 310);
    assert_int_equal(vl_pronom_containers_count(g_c, VL_CONTAINER_OLE2), 169);
    assert_int_equal(vl_pronom_containers_count(g_c, VL_CONTAINER_ZIP), 141);
    assert_int_equal(vl_pronom_containers_trigger(g_c, "fmt/111"),
                     VL_CONTAINER_OLE2);
    assert_int_equal(vl_pronom_containers_trigger(g_c, "fmt/189"),
                     VL_CONTAINER_ZIP);
    assert_int_equal(vl_pronom_containers_trigger(g_c, "x-fmt/263"),
                     VL_CONTAINER_ZIP);
    assert_int_equal(vl_pronom_containers_trigger(g_c, "fmt/40"), 0);

    if (vl_pronom_containers_load(g_old, &old, &err) != VL_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(vl_pronom_containers_version(old), "37");
    assert_int_equal(vl_pronom_containers_count(old, 0), 299);
    assert_int_equal(vl_pronom_containers_count(old, VL_CONTAINER_OLE2), 169);
    assert_int_equal(vl_pronom_containers_count(old, VL_CONTAINER_ZIP), 130);
    vl_pronom_containers_free(old);
}

static void test_zip(void **state)
{
    static const zent docx[] = {
        {"[Content_Types].xml",
         "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
         "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
         "content-types\"><Default Extension=\"xml\" ContentType="
         "\"application/xml\"/><Override PartName=\"/word/document.xml\" "
         "ContentType=\"application/vnd.openxmlformats-officedocument."
         "wordprocessingml.document.main+xml\"/></Types>"},
        {"_rels/.rels", "<Relationships/>"},
        {"word/document.xml", "<w:document/>"},
    };
    static const zent odt[] = {
        {"mimetype", "application/vnd.oasis.opendocument.text"},
        {"META-INF/", ""},
        {"META-INF/manifest.xml",
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest:manifest "
         "xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
         "\" manifest:version=\"1.2\"><manifest:file-entry manifest:full-path"
         "=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument."
         "text\"/></manifest:manifest>"},
        {"content.xml",
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document-content"
         " xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
         "office:version=\"1.2\"><office:body/></office:document-content>"},
    };
    static const zent epub[] = {
        {"mimetype", "application/epub+zip"},
        {"META-INF/container.xml", "<container/>"},
        {"OEBPS/content.opf", "<package/>"},
    };
    static const zent jar[] = {
        {"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: "
                                 "test\r\n\r\n"},
        {"a/B.class", "\xca\xfe\xba\xbe"},
    };
    static const zent plain[] = {
        {"readme.txt", "nothing to see"},
        {"[content_types].xml", "ContentType=\"application/vnd."
                                "openxmlformats-officedocument."
                                "wordprocessingml.document.main+xml\""},
    };
    char got[512], *p;

    match(VL_CONTAINER_ZIP, p = make_zip("a.docx", docx, 3), got, sizeof got);
    assert_string_equal(got, "fmt/412");
    free(p);
    /* 6010 (ODT 1.1, fmt/290) does not look at the version (1.1 is the
     * default when none is given): both match, and the DROID signature
     * file's priorities, applied by the engine, leave fmt/291. */
    match(VL_CONTAINER_ZIP, p = make_zip("a.odt", odt, 4), got, sizeof got);
    assert_string_equal(got, "fmt/290 fmt/291");
    free(p);
    match(VL_CONTAINER_ZIP, p = make_zip("a.epub", epub, 3), got, sizeof got);
    assert_string_equal(got, "fmt/483");
    free(p);
    match(VL_CONTAINER_ZIP, p = make_zip("a.jar", jar, 2), got, sizeof got);
    assert_string_equal(got, "x-fmt/412");
    free(p);
    /* Entry names are compared exactly, as DROID's lookup by name does. */
    match(VL_CONTAINER_ZIP, p = make_zip("a.zip", plain, 2), got, sizeof got);
    assert_string_equal(got, "");
    free(p);
}

static uint8_t g_wd[5000], g_wb[600], g_ppt[200];
static uint8_t g_compobj[128];

static void test_ole2(void **state)
{
    static const char sig[] = "\x10\x00\x00\x00Word.Document.8";
    char got[512], *p;

    /* CompObj: a header, the user type, then the ProgID at offset 60
     * (the signature looks for it from 40 to 1024). */
    memset(g_compobj, 0, sizeof g_compobj);
    g_compobj[0] = 1;
    g_compobj[2] = 0xFE;
    g_compobj[3] = 0xFF;
    memcpy(g_compobj + 60, sig, sizeof sig);     /* with its NUL */
    /* Excel 97: the BIFF8 BOF record, 09 08 10 00 00 06 05 00. */
    memcpy(g_wb, "\x09\x08\x10\x00\x00\x06\x05\x00", 8);
    {
        ow_item word[] = {{"\x01" "CompObj", g_compobj, sizeof g_compobj, 0},
                          {"WordDocument", g_wd, sizeof g_wd, 0},
                          {"1Table", g_wb, 100, 0},
                          {"\x05SummaryInformation", g_ppt, 100, 0}};
        /* 1090 (fmt/609, Word 6.0-2003 generic) needs only WordDocument:
         * both, in signature file order; priorities are the engine's. */
        match(VL_CONTAINER_OLE2, p = make_ole2("a.doc", word, 4), got,
              sizeof got);
        assert_string_equal(got, "fmt/40 fmt/609");
        free(p);
    }
    {
        /* Byte 10 of WordDocument with bit 0 set: a template (1100). */
        ow_item word[] = {{"\x01" "CompObj", g_compobj, sizeof g_compobj, 0},
                          {"WordDocument", g_wd, sizeof g_wd, 0}};
        g_wd[10] = 0x01;
        match(VL_CONTAINER_OLE2, p = make_ole2("a.dot", word, 2), got,
              sizeof got);
        g_wd[10] = 0;
        assert_string_equal(got, "fmt/40 fmt/609 x-fmt/45");
        free(p);
    }
    {
        ow_item xls[] = {{"Workbook", g_wb, sizeof g_wb, 0},
                         {"\x05SummaryInformation", g_ppt, 100, 0}};
        match(VL_CONTAINER_OLE2, p = make_ole2("a.xls", xls, 2), got,
              sizeof got);
        assert_string_equal(got, "fmt/61");
        free(p);
    }
    {
        ow_item ppt[] = {{"Current User", g_ppt, 50, 0},
                         {"PowerPoint Document", g_ppt, sizeof g_ppt, 0}};
        match(VL_CONTAINER_OLE2, p = make_ole2("a.ppt", ppt, 2), got,
              sizeof got);
        assert_string_equal(got, "fmt/126");
        free(p);
    }
    {
        /* Exact names: "worddocument" is not "WordDocument". */
        ow_item word[] = {{"\x01" "CompObj", g_compobj, sizeof g_compobj, 0},
                          {"worddocument", g_wd, sizeof g_wd, 0}};
        match(VL_CONTAINER_OLE2, p = make_ole2("b.doc", word, 2), got,
              sizeof got);
        assert_string_equal(got, "");
        free(p);
    }
    {
        /* The ProgID before offset 40: no match for CompObj's signature. */
        ow_item word[] = {{"\x01" "CompObj", g_compobj, sizeof g_compobj, 0},
                          {"WordDocument", g_wd, sizeof g_wd, 0}};
        memmove(g_compobj + 10, g_compobj + 60, sizeof sig);
        memset(g_compobj + 60, 0, sizeof sig);
        match(VL_CONTAINER_OLE2, p = make_ole2("c.doc", word, 2), got,
              sizeof got);
        assert_string_equal(got, "fmt/609");
        free(p);
    }
}

static void expect_einput(int type, const char *path, const char *want)
{
    char puids[8][32], basis[8][256];
    size_t n = 99;
    vl_error err = {0};

    assert_int_equal(vl_pronom_containers_match(g_c, type, path, puids, basis,
                                                8, &n, &err),
                     VL_EINPUT);
    assert_int_equal(n, 0);
    if (!strstr(err.msg, vl_path_basename(path)) || !strstr(err.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

static void test_corrupt_containers(void **state)
{
    static const zent docx[] = {
        {"[Content_Types].xml", "ContentType=\"application/vnd."
                                "openxmlformats-officedocument."
                                "wordprocessingml.document.main+xml\""},
        {"word/document.xml", "<w:document/>"},
    };
    vl_buf b;
    vl_error err = {0};
    char *zip = make_zip("c.docx", docx, 2), *bad;
    ow_item word[] = {{"WordDocument", g_wd, sizeof g_wd, 0}};
    char *ole = make_ole2("c.doc", word, 1);

    /* Not a ZIP at all. */
    put(g_dir, "text.docx", "just some text, not a zip archive\n");
    bad = vl_path_join(g_dir, "text.docx");
    expect_einput(VL_CONTAINER_ZIP, bad, "ZIP");
    expect_einput(VL_CONTAINER_OLE2, bad, "OLE2");
    free(bad);
    /* A ZIP cut short: its central directory gone. */
    vl_buf_init(&b, 0);
    assert_int_equal(vl_fs_read_file(zip, 1 << 20, &b, &err), VL_OK);
    bad = vl_path_join(g_dir, "cut.docx");
    assert_int_equal(vl_fs_write_atomic(bad, b.data, b.len / 2, &err), VL_OK);
    expect_einput(VL_CONTAINER_ZIP, bad, "ZIP");
    free(bad);
    vl_buf_release(&b);
    /* A ZIP64 end record declaring 200000 entries: refused before
     * libarchive loads a central directory that large. */
    vl_buf_init(&b, 0);
    assert_int_equal(vl_fs_read_file(zip, 1 << 20, &b, &err), VL_OK);
    {
        size_t cd_end = b.len - 22;
        uint8_t rec[56 + 20] = {0}, eocd[22];
        memcpy(eocd, b.data + cd_end, 22);
        memcpy(rec, "PK\6\6", 4);
        rec[4] = 44;
        ow_put32(rec + 24, 200000);                 /* entries on disk */
        ow_put32(rec + 32, 200000);                 /* total entries */
        memcpy(rec + 56, "PK\6\7", 4);
        ow_put32(rec + 56 + 8, (uint32_t)cd_end);   /* the ZIP64 record */
        rec[56 + 16] = 1;
        b.len = cd_end;
        assert_int_equal(vl_buf_append(&b, rec, sizeof rec, &err), VL_OK);
        assert_int_equal(vl_buf_append(&b, eocd, sizeof eocd, &err), VL_OK);
    }
    bad = vl_path_join(g_dir, "many.docx");
    assert_int_equal(vl_fs_write_atomic(bad, b.data, b.len, &err), VL_OK);
    expect_einput(VL_CONTAINER_ZIP, bad, "declares 200000 entries");
    free(bad);
    vl_buf_release(&b);
    /* An OLE2 file with its directory pointing beyond the file. */
    vl_buf_init(&b, 0);
    assert_int_equal(vl_fs_read_file(ole, 1 << 20, &b, &err), VL_OK);
    ow_put32((uint8_t *)b.data + 48, 5000);
    bad = vl_path_join(g_dir, "bad.doc");
    assert_int_equal(vl_fs_write_atomic(bad, b.data, b.len, &err), VL_OK);
    expect_einput(VL_CONTAINER_OLE2, bad, "out of range");
    free(bad);
    vl_buf_release(&b);
    free(zip);
    free(ole);
}

static void expect_load_refused(const char *text, const char *want)
{
    vl_pronom_containers *c = NULL;
    vl_error err = {0};
    char *p;

    put(g_dir, "sig.xml", text);
    p = vl_path_join(g_dir, "sig.xml");
    assert_int_equal(vl_pronom_containers_load(p, &c, &err), VL_EINPUT);
    assert_null(c);
    if (!strstr(err.msg, "sig.xml") || !strstr(err.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
    free(p);
}

static void test_bad_signature_files(void **state)
{
    vl_pronom_containers *c = NULL;
    vl_error err = {0};
    char *p = vl_path_join(g_dir, "absent.xml");

    assert_int_equal(vl_pronom_containers_load(p, &c, &err), VL_ESYS);
    free(p);
    expect_load_refused("<ContainerSignatureMapping", "");
    expect_load_refused("<DROID/>", "not a container signature file");
    expect_load_refused("<ContainerSignatureMapping/>", "no ContainerSignature");
    expect_load_refused(
        "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">]>"
        "<ContainerSignatureMapping>&b;</ContainerSignatureMapping>", "");
    expect_load_refused(
        "<ContainerSignatureMapping><ContainerSignatures>"
        "<ContainerSignature Id=\"1\" ContainerType=\"ZIP\"><Files><File/>"
        "</Files></ContainerSignature></ContainerSignatures>"
        "</ContainerSignatureMapping>", "without a Path");
    expect_load_refused(
        "<ContainerSignatureMapping><ContainerSignatures>"
        "<ContainerSignature Id=\"x\" ContainerType=\"ZIP\"/>"
        "</ContainerSignatures></ContainerSignatureMapping>", "numeric Id");
    expect_load_refused(
        "<ContainerSignatureMapping><ContainerSignatures>"
        "<ContainerSignature Id=\"1\" ContainerType=\"ZIP\"><Files><File>"
        "<Path>a</Path></File></Files></ContainerSignature>"
        "</ContainerSignatures><FileFormatMappings><FileFormatMapping "
        "signatureId=\"1\" Puid=\"0123456789012345678901234567890123\"/>"
        "</FileFormatMappings></ContainerSignatureMapping>", "Puid");

    /* A minimal file of our own: a signature only by presence, a folder
     * entry, a PUID given by two signatures reported once. */
    put(g_dir, "mini.xml",
        "<ContainerSignatureMapping signatureVersion=\"7\"><ContainerSignatures>"
        "<ContainerSignature Id=\"1\" ContainerType=\"ZIP\"><Files>"
        "<File><Path>header/siardversion/2.2/</Path></File>"
        "<File><Path>a.txt</Path></File></Files></ContainerSignature>"
        "<ContainerSignature Id=\"2\" ContainerType=\"ZIP\"><Files>"
        "<File><Path>a.txt</Path></File></Files></ContainerSignature>"
        "<ContainerSignature Id=\"3\" ContainerType=\"GZIP\"><Files>"
        "<File><Path>a.txt</Path></File></Files></ContainerSignature>"
        "<ContainerSignature Id=\"4\" ContainerType=\"ZIP\"><Files>"
        "<File><Path>a.txt</Path><BinarySignatures>"
        "<InternalSignatureCollection><InternalSignature ID=\"4\">"
        "<ByteSequence Reference=\"BOFoffset\"><SubSequence Position=\"1\" "
        "SubSeqMinOffset=\"0\"><Sequence>ZZ</Sequence></SubSequence>"
        "</ByteSequence></InternalSignature></InternalSignatureCollection>"
        "</BinarySignatures></File></Files></ContainerSignature>"
        "</ContainerSignatures><FileFormatMappings>"
        "<FileFormatMapping signatureId=\"1\" Puid=\"fmt/995\"/>"
        "<FileFormatMapping signatureId=\"2\" Puid=\"fmt/995\"/>"
        "<FileFormatMapping signatureId=\"2\" Puid=\"fmt/996\"/>"
        "<FileFormatMapping signatureId=\"3\" Puid=\"fmt/997\"/>"
        "<FileFormatMapping signatureId=\"4\" Puid=\"fmt/999\"/>"
        "<FileFormatMapping signatureId=\"99\" Puid=\"fmt/998\"/>"
        "</FileFormatMappings><TriggerPuids><TriggerPuid ContainerType=\"ZIP\""
        " Puid=\"x-fmt/263\"/></TriggerPuids></ContainerSignatureMapping>");
    p = vl_path_join(g_dir, "mini.xml");
    if (vl_pronom_containers_load(p, &c, &err) != VL_OK)
        fail_msg("%s", err.msg);
    free(p);
    assert_string_equal(vl_pronom_containers_version(c), "7");
    assert_int_equal(vl_pronom_containers_count(c, 0), 4);
    assert_int_equal(vl_pronom_containers_count(c, VL_CONTAINER_ZIP), 3);
    {
        /* Signature 4 does not compile: kept, never matching, told. */
        size_t nb;
        const char *w = vl_pronom_containers_warning(c, &nb);
        assert_int_equal(nb, 1);
        if (!strstr(w, "mini.xml") || !strstr(w, "container signature 4"))
            fail_msg("warning \"%s\"", w);
    }
    {
        static const zent z[] = {{"header/", ""},
                                 {"header/siardversion/", ""},
                                 {"header/siardversion/2.2/", ""},
                                 {"a.txt", "a"}};
        char puids[2][32], basis[2][256];
        size_t n;
        char *zp = make_zip("s.siard", z, 4);
        vl_pronom_containers *keep = g_c;
        g_c = c;
        assert_int_equal(vl_pronom_containers_match(c, VL_CONTAINER_ZIP, zp,
                                                    puids, basis, 2, &n, &err),
                         VL_OK);
        assert_int_equal(n, 2);             /* not fmt/999 */
        assert_string_equal(puids[0], "fmt/995");
        assert_string_equal(basis[0], "container signature 1: "
                                      "header/siardversion/2.2/, a.txt");
        assert_string_equal(puids[1], "fmt/996");
        /* cap: only as many as asked for */
        assert_int_equal(vl_pronom_containers_match(c, VL_CONTAINER_ZIP, zp,
                                                    puids, basis, 1, &n, &err),
                         VL_OK);
        assert_int_equal(n, 1);
        g_c = keep;
        free(zp);
    }
    vl_pronom_containers_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_zip),
        cmocka_unit_test(test_ole2),
        cmocka_unit_test(test_corrupt_containers),
        cmocka_unit_test(test_bad_signature_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
