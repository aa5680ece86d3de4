/* Unit tests for format identification (ingest/identify.c, ingest/puid.c):
 * small real-format files built in memory, each checked for libmagic's MIME
 * type and the PRONOM identifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A white-box test: it uses ingest/'s private identify_private.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "identify_private.h"
#include "vl_ingest.h"

/* ---- building blocks ------------------------------------------------------- */

typedef struct {
    unsigned char *d;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->d = realloc(b->d, b->cap);
        assert_non_null(b->d);
    }
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

static void puts_(bytes *b, const char *s)
{
    put(b, s, strlen(s));
}

static void le16(bytes *b, unsigned v)
{
    unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(b, x, 2);
}

static void le32(bytes *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    put(b, x, 4);
}

static void be32(bytes *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(b, x, 4);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

/* A zip of stored entries, no extra fields (as OCF and ODF want). */
static bytes make_zip(const char *const *names, const char *const *data,
                      size_t n)
{
    bytes z = {0}, cd = {0};
    for (size_t i = 0; i < n; i++) {
        uint32_t off = (uint32_t)z.len, crc, len = (uint32_t)strlen(data[i]);
        unsigned nl = (unsigned)strlen(names[i]);
        crc = crc32_of((const unsigned char *)data[i], len);
        le32(&z, 0x04034b50); le16(&z, 20); le16(&z, 0); le16(&z, 0);
        le16(&z, 0); le16(&z, 0x21); le32(&z, crc); le32(&z, len);
        le32(&z, len); le16(&z, nl); le16(&z, 0);
        put(&z, names[i], nl);
        put(&z, data[i], len);
        le32(&cd, 0x02014b50); le16(&cd, 20); le16(&cd, 20); le16(&cd, 0);
        le16(&cd, 0); le16(&cd, 0); le16(&cd, 0x21); le32(&cd, crc);
        le32(&cd, len); le32(&cd, len); le16(&cd, nl); le16(&cd, 0);
        le16(&cd, 0); le16(&cd, 0); le16(&cd, 0); le32(&cd, 0); le32(&cd, off);
        put(&cd, names[i], nl);
    }
    uint32_t cdoff = (uint32_t)z.len;
    put(&z, cd.d, cd.len);
    le32(&z, 0x06054b50); le16(&z, 0); le16(&z, 0); le16(&z, (unsigned)n);
    le16(&z, (unsigned)n); le32(&z, (uint32_t)cd.len); le32(&z, cdoff);
    le16(&z, 0);
    free(cd.d);
    return z;
}

static void png_chunk(bytes *b, const char *type, const void *data, size_t n)
{
    unsigned char tmp[64];
    be32(b, (uint32_t)n);
    memcpy(tmp, type, 4);
    memcpy(tmp + 4, data, n);
    put(b, tmp, 4 + n);
    be32(b, crc32_of(tmp, 4 + n));
}

static bytes make_png(const char *extra_chunk)
{
    static const unsigned char ihdr[] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
    /* zlib stream of the one scanline "\0\0" */
    static const unsigned char idat[] = {0x78, 0x9c, 0x63, 0x60, 0x00,
                                         0x00, 0x00, 0x02, 0x00, 0x01};
    bytes b = {0};
    put(&b, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(&b, "IHDR", ihdr, sizeof ihdr);
    if (extra_chunk)
        png_chunk(&b, extra_chunk, "\0", 1);
    png_chunk(&b, "IDAT", idat, sizeof idat);
    png_chunk(&b, "IEND", "", 0);
    return b;
}

static bytes make_gif(const char *version)
{
    static const unsigned char rest[] = {
        1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
        ',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 'D', 1, 0, ';'};
    bytes b = {0};
    puts_(&b, "GIF");
    puts_(&b, version);
    put(&b, rest, sizeof rest);
    return b;
}

static void jpeg_tail(bytes *b)
{
    static const unsigned char sof[] = {0xff, 0xc0, 0, 11, 8, 0, 1, 0, 1,
                                        1, 1, 0x11, 0};
    static const unsigned char sos[] = {0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f,
                                        0, 0, 0, 0xff, 0xd9};
    unsigned char dqt[69] = {0xff, 0xdb, 0, 67, 0};
    memset(dqt + 5, 1, 64);
    put(b, dqt, sizeof dqt);
    put(b, sof, sizeof sof);
    put(b, sos, sizeof sos);
}

static bytes make_jfif(unsigned minor)
{
    unsigned char app0[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',
                            0, 1, (unsigned char)minor, 0, 0, 1, 0, 1, 0, 0};
    bytes b = {0};
    put(&b, app0, sizeof app0);
    jpeg_tail(&b);
    return b;
}

static bytes make_exif(const char *version)
{
    bytes b = {0}, body = {0};
    puts_(&body, "Exif");
    put(&body, "\0\0II*\0", 6);
    le32(&body, 8);
    le16(&body, 1);                     /* IFD0: the Exif IFD pointer */
    le16(&body, 0x8769); le16(&body, 4); le32(&body, 1); le32(&body, 26);
    le32(&body, 0);
    le16(&body, 1);                     /* Exif IFD: ExifVersion */
    le16(&body, 0x9000); le16(&body, 7); le32(&body, 4);
    puts_(&body, version);
    le32(&body, 0);
    put(&b, "\xff\xd8\xff\xe1", 4);
    unsigned char len[2] = {(unsigned char)((body.len + 2) >> 8),
                            (unsigned char)(body.len + 2)};
    put(&b, len, 2);
    put(&b, body.d, body.len);
    jpeg_tail(&b);
    free(body.d);
    return b;
}

static bytes make_pdf(const char *version, const char *xmp)
{
    bytes b = {0};
    char obj[512];
    puts_(&b, "%PDF-");
    puts_(&b, version);
    puts_(&b, "\n%\xe2\xe3\xcf\xd3\n");
    puts_(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>\n"
              "endobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\n"
              "endobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox "
              "[0 0 200 200] >>\nendobj\n");
    if (xmp) {
        snprintf(obj, sizeof obj, "4 0 obj\n<< /Type /Metadata /Subtype /XML "
                 "/Length %zu >>\nstream\n", strlen(xmp));
        puts_(&b, obj);
        puts_(&b, xmp);
        puts_(&b, "\nendstream\nendobj\n");
    }
    puts_(&b, "trailer\n<< /Size 5 /Root 1 0 R >>\n%%EOF\n");
    return b;
}

#define XMP_PDFA(part, conf)                                                  \
    "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"      \
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www."  \
    "w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" "     \
    "xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"><pdfaid:part>" part     \
    "</pdfaid:part><pdfaid:conformance>" conf "</pdfaid:conformance>"         \
    "</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"

/* 16-bit mono PCM; with bext (version 1) it is Broadcast WAVE. */
static bytes make_wav(int bext)
{
    bytes b = {0}, body = {0};
    puts_(&body, "WAVE");
    if (bext) {
        unsigned char chunk[602] = {0};
        memcpy(chunk, "vellum", 6);
        chunk[346] = 1;                 /* Version */
        puts_(&body, "bext");
        le32(&body, sizeof chunk);
        put(&body, chunk, sizeof chunk);
    }
    puts_(&body, "fmt ");
    le32(&body, 16); le16(&body, 1); le16(&body, 1); le32(&body, 8000);
    le32(&body, 16000); le16(&body, 2); le16(&body, 16);
    puts_(&body, "data");
    le32(&body, 1600);
    for (int i = 0; i < 800; i++)
        le16(&body, (unsigned)(i * 37) & 0xffff);
    puts_(&b, "RIFF");
    le32(&b, (uint32_t)body.len);
    put(&b, body.d, body.len);
    free(body.d);
    return b;
}

static bytes text(const char *s)
{
    bytes b = {0};
    puts_(&b, s);
    return b;
}

/* ---- checks ---------------------------------------------------------------- */

static void expect(const bytes *b, const char *name, const char *mime,
                   const char *puid, const char *version)
{
    vl_identifier *id = NULL;
    vl_format f;
    vl_error err = {0};
    assert_int_equal(vl_identifier_open(NULL, &id, &err), VL_OK);
    assert_int_equal(vl_identify_buffer(id, b->d, b->len, b->len, name, &f,
                                        &err), VL_OK);
    vl_identifier_close(id);
    if (strcmp(f.mime, mime) || strcmp(f.puid, puid) ||
        (version && strcmp(f.format_version, version)))
        fail_msg("%s: got %s / %s / %s (%s), want %s / %s / %s", name, f.mime,
                 f.puid, f.format_version, f.description, mime, puid,
                 version ? version : "*");
    assert_true(f.format_name[0] != '\0' || !f.description[0]);
}

static void check(bytes b, const char *name, const char *mime,
                  const char *puid, const char *version)
{
    expect(&b, name, mime, puid, version);
    free(b.d);
}

static void test_basics(void **state)
{
    (void)state;
    assert_int_equal(vl_identify_prefix_bytes(), 256 * 1024);
    assert_string_equal(vl_identify_library_version(), "libmagic 5.44");
}

static void test_images(void **state)
{
    (void)state;
    check(make_png(NULL), "a.png", "image/png", "fmt/11", "1.0");
    check(make_png("sRGB"), "a.png", "image/png", "fmt/12", "1.1");
    check(make_png("iTXt"), "a.png", "image/png", "fmt/13", "1.2");
    check(make_gif("87a"), "a.gif", "image/gif", "fmt/3", "87a");
    check(make_gif("89a"), "a.gif", "image/gif", "fmt/4", "89a");
    check(make_jfif(1), "a.jpg", "image/jpeg", "fmt/43", "1.01");
    check(make_jfif(2), "a.jpg", "image/jpeg", "fmt/44", "1.02");
    check(make_exif("0220"), "a.jpg", "image/jpeg", "x-fmt/391", "2.2");
    check(make_exif("0231"), "a.jpg", "image/jpeg", "fmt/1507", "2.3.x");
    check(text("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\""
               "http://www.w3.org/2000/svg\" version=\"1.1\" width=\"4\" "
               "height=\"4\"><rect width=\"2\" height=\"2\"/></svg>\n"),
          "a.svg", "image/svg+xml", "fmt/92", "1.1");
    /* SVG without a version attribute: family known, PUID not fixed */
    check(text("<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>\n"),
          "b.svg", "image/svg+xml", "", "");
}

static void test_pdf(void **state)
{
    (void)state;
    check(make_pdf("1.4", NULL), "a.pdf", "application/pdf", "fmt/18", "1.4");
    check(make_pdf("1.7", NULL), "a.pdf", "application/pdf", "fmt/276", "1.7");
    check(make_pdf("2.0", NULL), "a.pdf", "application/pdf", "fmt/1129", "2.0");
    check(make_pdf("1.4", XMP_PDFA("1", "B")), "a.pdf", "application/pdf",
          "fmt/354", "1b");
    check(make_pdf("1.4", XMP_PDFA("1", "A")), "a.pdf", "application/pdf",
          "fmt/95", "1a");
    check(make_pdf("1.7", XMP_PDFA("2", "U")), "a.pdf", "application/pdf",
          "fmt/478", "2u");
    check(make_pdf("1.7", XMP_PDFA("3", "b")), "a.pdf", "application/pdf",
          "fmt/480", "3b");
    /* attribute form of the XMP properties */
    check(make_pdf("1.7", "<rdf:Description xmlns:pdfaid=\"http://www.aiim.org"
                          "/pdfa/ns/id/\" pdfaid:part=\"2\" "
                          "pdfaid:conformance=\"A\"/>"),
          "a.pdf", "application/pdf", "fmt/476", "2a");
    /* no PDF/A-1u exists: the plain PDF version stands */
    check(make_pdf("1.4", XMP_PDFA("1", "U")), "a.pdf", "application/pdf",
          "fmt/18", "1.4");
    /* the words without the pdfaid namespace are not PDF/A */
    check(make_pdf("1.4", "<pdfaid:part>1</pdfaid:part><pdfaid:conformance>B"
                          "</pdfaid:conformance>"),
          "a.pdf", "application/pdf", "fmt/18", "1.4");
}

static void test_pdfa_beyond_prefix(void **state)
{
    (void)state;
    /* The XMP sits past the prefix: only the plain PDF version is known. */
    bytes b = make_pdf("1.4", NULL);
    size_t pad = vl_identify_prefix_bytes();
    char *filler = malloc(pad + 1);
    assert_non_null(filler);
    memset(filler, ' ', pad);
    filler[pad] = '\0';
    b.len -= strlen("trailer\n<< /Size 5 /Root 1 0 R >>\n%%EOF\n");
    puts_(&b, "% ");
    puts_(&b, filler);
    puts_(&b, "\n4 0 obj\n<< /Length 10 >>\nstream\n" XMP_PDFA("1", "B")
              "\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    free(filler);
    check(b, "a.pdf", "application/pdf", "fmt/18", "1.4");
}

static void test_audio(void **state)
{
    (void)state;
    check(make_wav(0), "a.wav", "audio/x-wav", "fmt/141", NULL);
    check(make_wav(1), "a.wav", "audio/x-wav", "fmt/704", "1 PCM Encoding");
}

static void test_text(void **state)
{
    (void)state;
    check(text("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<records><record "
               "id=\"1\">caf\xc3\xa9</record></records>\n"),
          "a.xml", "text/xml", "fmt/101", "1.0");
    check(text("<!DOCTYPE html>\n<html><head><title>t</title></head><body>"
               "<p>Hello</p></body></html>\n"),
          "a.html", "text/html", "fmt/471", "5");
    check(text("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://"
               "www.w3.org/TR/html4/strict.dtd\">\n<html><head><title>t"
               "</title></head><body><p>Hi</p></body></html>\n"),
          "a.html", "text/html", "fmt/100", "4.01");
    check(text("<html><head><title>t</title></head><body><p>Hi</p></body>"
               "</html>\n"),
          "a.html", "text/html", "fmt/96", "");
    check(text("id,name,amount\n1,alpha,3.5\n2,beta,4.25\n3,gamma,7\n"),
          "a.csv", "text/csv", "x-fmt/18", NULL);
    /* one column: libmagic sees plain text, the extension says CSV */
    check(text("name\nalpha\nbeta\n"), "list.csv", "text/plain", "x-fmt/18",
          NULL);
    check(text("name\nalpha\nbeta\n"), "list.txt", "text/plain", "x-fmt/111",
          NULL);
    check(text("Plain notes in UTF-8: na\xc3\xafve caf\xc3\xa9.\n"), "a.txt",
          "text/plain", "x-fmt/111", NULL);
}

static void test_encoding_and_description(void **state)
{
    vl_identifier *id = NULL;
    vl_format f;
    vl_error err = {0};
    const char *s = "Plain notes in UTF-8: na\xc3\xafve caf\xc3\xa9.\n";
    (void)state;
    assert_int_equal(vl_identifier_open(NULL, &id, &err), VL_OK);
    assert_int_equal(vl_identify_buffer(id, s, strlen(s), strlen(s), NULL, &f,
                                        &err), VL_OK);
    assert_string_equal(f.encoding, "utf-8");
    assert_string_equal(f.description, "Unicode text, UTF-8 text");
    assert_string_equal(f.format_name, "Plain Text File");
    assert_int_equal(vl_identify_buffer(id, "ab\n", 3, 3, NULL, &f, &err),
                     VL_OK);
    assert_string_equal(f.encoding, "us-ascii");
    vl_identifier_close(id);
}

static void test_containers(void **state)
{
    static const char *const zip_n[] = {"a.txt", "b/c.txt"};
    static const char *const zip_d[] = {"hello\n", "world\n"};
    static const char *const docx_n[] = {"[Content_Types].xml", "_rels/.rels",
                                         "word/document.xml"};
    static const char *const docx_d[] = {"<?xml version=\"1.0\"?><Types/>",
                                         "<Relationships/>", "<w:document/>"};
    static const char *const xlsx_n[] = {"[Content_Types].xml", "_rels/.rels",
                                         "xl/workbook.xml"};
    static const char *const epub_n[] = {"mimetype", "META-INF/container.xml",
                                         "content.opf"};
    static const char *const epub_d[] = {"application/epub+zip",
                                         "<container/>", "<package/>"};
    static const char *const odt_n[] = {"mimetype", "meta.xml",
                                        "META-INF/manifest.xml"};
    static const char *const odt_d[] = {
        "application/vnd.oasis.opendocument.text",
        "<?xml version=\"1.0\"?><office:document-meta xmlns:office=\"urn:oasis:"
        "names:tc:opendocument:xmlns:office:1.0\" office:version=\"1.3\"/>",
        "<manifest:manifest/>"};
    (void)state;
    check(make_zip(zip_n, zip_d, 2), "a.zip", "application/zip", "x-fmt/263",
          NULL);
    check(make_zip(docx_n, docx_d, 3), "a.docx", "application/vnd."
          "openxmlformats-officedocument.wordprocessingml.document", "fmt/412",
          NULL);
    check(make_zip(xlsx_n, docx_d, 3), "a.xlsx", "application/vnd."
          "openxmlformats-officedocument.spreadsheetml.sheet", "fmt/214", NULL);
    check(make_zip(epub_n, epub_d, 3), "a.epub", "application/epub+zip",
          "fmt/483", NULL);
    check(make_zip(odt_n, odt_d, 3), "a.odt",
          "application/vnd.oasis.opendocument.text", "fmt/1756", "1.3");
}

static void test_odd_input(void **state)
{
    vl_identifier *id = NULL;
    vl_format f;
    vl_error err = {0};
    unsigned char junk[4096];
    (void)state;
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)((i * 131 + 7) % 251);
    assert_int_equal(vl_identifier_open(NULL, &id, &err), VL_OK);
    assert_int_equal(vl_identify_buffer(id, NULL, 0, 0, NULL, &f, &err), VL_OK);
    assert_string_equal(f.description, "empty");
    assert_string_equal(f.puid, "");
    assert_int_equal(vl_identify_buffer(id, junk, sizeof junk, 1u << 30,
                                        "x.bin", &f, &err), VL_OK);
    assert_string_equal(f.mime, "application/octet-stream");
    assert_string_equal(f.encoding, "binary");
    assert_string_equal(f.description, "data");
    assert_string_equal(f.puid, "");
    /* truncated headers of each probed format must not trip anything */
    static const char *const heads[] = {
        "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", "RIFF\x10\0\0\0WAVEfmt \xff\xff",
        "RIFF\x10\0\0\0WAVEbext", "%PDF-1.", "GIF89", "\xff\xd8\xff\xe0\0\x10JF",
        "PK\x03\x04\x14\0\0\0\0\0", "<svg version=", "<?xml version=\"",
        "<!DOCTYPE html", "\xff\xd8\xff\xe1\0\x08" "Exif\0\0MM"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        size_t n = strlen(heads[i]) + 1;
        for (size_t k = 0; k <= n; k++)
            assert_int_equal(vl_identify_buffer(id, heads[i], k, k, "x.odt",
                                                &f, &err), VL_OK);
    }
    vl_identifier_close(id);
}

/* One identifier per thread, as the ingest workers use them. */
static void *thread_main(void *arg)
{
    bytes *b = arg;
    vl_identifier *id = NULL;
    vl_format f;
    vl_error err = {0};
    int ok = 1;
    if (vl_identifier_open(NULL, &id, &err) != VL_OK)
        return NULL;
    for (int i = 0; i < 200 && ok; i++)
        ok = vl_identify_buffer(id, b->d, b->len, b->len, "a.png", &f, &err)
                 == VL_OK && !strcmp(f.puid, "fmt/11");
    vl_identifier_close(id);
    return ok ? arg : NULL;
}

static void test_threads(void **state)
{
    pthread_t t[4];
    bytes b = make_png(NULL);
    void *r;
    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, &b), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_ptr_equal(r, &b);
    }
    free(b.d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_pdf),
        cmocka_unit_test(test_pdfa_beyond_prefix),
        cmocka_unit_test(test_audio),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_encoding_and_description),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_odd_input),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
