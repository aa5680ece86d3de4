/* PRONOM identifiers (PUIDs) for common preservation formats.
 *
 * libmagic names the format family (MIME type and description); the few
 * bytes that fix a PRONOM version (PDF header and XMP pdfaid, PNG chunks,
 * RIFF chunks, JFIF and Exif version fields, XML declaration, HTML doctype,
 * ODF office:version) are read here from the same leading bytes.  The facts
 * in the table (PUID, name, version) are from PRONOM (DROID signature file
 * V122).  This is not a signature engine: when the evidence in the prefix
 * does not fix one PRONOM format, the PUID stays empty rather than guessed.
 * A file bigger than the prefix is judged on the prefix, as DROID does with
 * its own scan window. */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "puid.h"

enum family {
    F_NONE, F_PDF, F_PDFA, F_TIFF, F_JFIF, F_EXIF, F_JPEG, F_JP2, F_PNG,
    F_GIF, F_SVG, F_WAV, F_BWF, F_MP3, F_FLAC, F_MP4, F_DOCX, F_XLSX, F_PPTX,
    F_ODT, F_ODS, F_ODP, F_EPUB, F_ZIP, F_GZIP, F_TAR, F_XML, F_HTML,
    F_XHTML, F_JSON, F_CSV, F_TEXT
};

/* key: what the probes below found ("1.4", "1b", "89a", "1 pcm"); a NULL
 * key is the family's row when no keyed row matches (puid may be ""). */
struct pronom {
    unsigned char family;
    const char *key;
    const char *puid;
    const char *name;
    const char *version;
};

#define PDF_NAME(v) "Acrobat PDF " v " - Portable Document Format"
#define PDFA_NAME "Acrobat PDF/A - Portable Document Format"
#define EXIF_NAME "Exchangeable Image File Format (Compressed)"
#define BWF_NAME "Broadcast WAVE"

static const struct pronom table[] = {
    {F_PDF, "1.0", "fmt/14", PDF_NAME("1.0"), "1.0"},
    {F_PDF, "1.1", "fmt/15", PDF_NAME("1.1"), "1.1"},
    {F_PDF, "1.2", "fmt/16", PDF_NAME("1.2"), "1.2"},
    {F_PDF, "1.3", "fmt/17", PDF_NAME("1.3"), "1.3"},
    {F_PDF, "1.4", "fmt/18", PDF_NAME("1.4"), "1.4"},
    {F_PDF, "1.5", "fmt/19", PDF_NAME("1.5"), "1.5"},
    {F_PDF, "1.6", "fmt/20", PDF_NAME("1.6"), "1.6"},
    {F_PDF, "1.7", "fmt/276", PDF_NAME("1.7"), "1.7"},
    {F_PDF, "2.0", "fmt/1129", "PDF 2.0 - Portable Document Format", "2.0"},
    {F_PDF, NULL, "", "Portable Document Format", ""},
    {F_PDFA, "1a", "fmt/95", PDFA_NAME, "1a"},
    {F_PDFA, "1b", "fmt/354", PDFA_NAME, "1b"},
    {F_PDFA, "2a", "fmt/476", PDFA_NAME, "2a"},
    {F_PDFA, "2b", "fmt/477", PDFA_NAME, "2b"},
    {F_PDFA, "2u", "fmt/478", PDFA_NAME, "2u"},
    {F_PDFA, "3a", "fmt/479", PDFA_NAME, "3a"},
    {F_PDFA, "3b", "fmt/480", PDFA_NAME, "3b"},
    {F_PDFA, "3u", "fmt/481", PDFA_NAME, "3u"},
    {F_PDFA, "4", "fmt/1910", PDFA_NAME, "4"},
    {F_PDFA, "4e", "fmt/1911", PDFA_NAME, "4e"},
    {F_PDFA, "4f", "fmt/1912", PDFA_NAME, "4f"},
    {F_TIFF, NULL, "fmt/353", "Tagged Image File Format", ""},
    {F_JFIF, "1.00", "fmt/42", "JPEG File Interchange Format", "1.00"},
    {F_JFIF, "1.01", "fmt/43", "JPEG File Interchange Format", "1.01"},
    {F_JFIF, "1.02", "fmt/44", "JPEG File Interchange Format", "1.02"},
    {F_JFIF, NULL, "", "JPEG File Interchange Format", ""},
    {F_EXIF, "2.0", "x-fmt/398", EXIF_NAME, "2.0"},
    {F_EXIF, "2.1", "x-fmt/390", EXIF_NAME, "2.1"},
    {F_EXIF, "2.2", "x-fmt/391", EXIF_NAME, "2.2"},
    {F_EXIF, "2.21", "fmt/645", EXIF_NAME, "2.21"},
    {F_EXIF, "2.3.x", "fmt/1507", EXIF_NAME, "2.3.x"},
    {F_EXIF, NULL, "", EXIF_NAME, ""},
    {F_JPEG, NULL, "fmt/41", "Raw JPEG Stream", ""},
    {F_JP2, NULL, "x-fmt/392", "JP2 (JPEG 2000 part 1)", ""},
    {F_PNG, "1.0", "fmt/11", "Portable Network Graphics", "1.0"},
    {F_PNG, "1.1", "fmt/12", "Portable Network Graphics", "1.1"},
    {F_PNG, "1.2", "fmt/13", "Portable Network Graphics", "1.2"},
    {F_PNG, NULL, "", "Portable Network Graphics", ""},
    {F_GIF, "87a", "fmt/3", "Graphics Interchange Format", "87a"},
    {F_GIF, "89a", "fmt/4", "Graphics Interchange Format", "89a"},
    {F_GIF, NULL, "", "Graphics Interchange Format", ""},
    {F_SVG, "1.0", "fmt/91", "Scalable Vector Graphics", "1.0"},
    {F_SVG, "1.1", "fmt/92", "Scalable Vector Graphics", "1.1"},
    {F_SVG, "1.2 tiny", "fmt/413", "Scalable Vector Graphics Tiny", "1.2"},
    {F_SVG, NULL, "", "Scalable Vector Graphics", ""},
    {F_WAV, "pcm", "fmt/141", "Waveform Audio (PCMWAVEFORMAT)", ""},
    {F_WAV, "ex", "fmt/142", "Waveform Audio (WAVEFORMATEX)", ""},
    {F_WAV, "ext", "fmt/143", "Waveform Audio (WAVEFORMATEXTENSIBLE)", ""},
    {F_WAV, NULL, "fmt/6", "Waveform Audio", ""},
    {F_BWF, "0 generic", "fmt/1", BWF_NAME, "0 Generic"},
    {F_BWF, "1 generic", "fmt/2", BWF_NAME, "1 Generic"},
    {F_BWF, "2 generic", "fmt/527", BWF_NAME, "2 Generic"},
    {F_BWF, "0 pcm", "fmt/703", BWF_NAME, "0 PCM Encoding"},
    {F_BWF, "1 pcm", "fmt/704", BWF_NAME, "1 PCM Encoding"},
    {F_BWF, "2 pcm", "fmt/705", BWF_NAME, "2 PCM Encoding"},
    {F_BWF, "0 mpeg", "fmt/706", BWF_NAME, "0 MPEG Encoding"},
    {F_BWF, "1 mpeg", "fmt/707", BWF_NAME, "1 MPEG Encoding"},
    {F_BWF, "2 mpeg", "fmt/708", BWF_NAME, "2 MPEG Encoding"},
    {F_BWF, "0 ext", "fmt/709", BWF_NAME, "0 WAVEFORMATEXTENSIBLE Encoding"},
    {F_BWF, "1 ext", "fmt/710", BWF_NAME, "1 WAVEFORMATEXTENSIBLE Encoding"},
    {F_BWF, "2 ext", "fmt/711", BWF_NAME, "2 WAVEFORMATEXTENSIBLE Encoding"},
    {F_BWF, NULL, "", BWF_NAME, ""},
    {F_MP3, NULL, "fmt/134", "MPEG 1/2 Audio Layer 3", ""},
    {F_FLAC, NULL, "fmt/279", "FLAC (Free Lossless Audio Codec)", "1.2.1"},
    {F_MP4, NULL, "fmt/199", "MPEG-4 Media File", ""},
    {F_DOCX, NULL, "fmt/412", "Microsoft Word for Windows", "2007 onwards"},
    {F_XLSX, NULL, "fmt/214", "Microsoft Excel for Windows", "2007 onwards"},
    {F_PPTX, NULL, "fmt/215", "Microsoft Powerpoint for Windows",
     "2007 onwards"},
    {F_ODT, "1.0", "fmt/136", "OpenDocument Text", "1.0"},
    {F_ODT, "1.1", "fmt/290", "OpenDocument Text", "1.1"},
    {F_ODT, "1.2", "fmt/291", "OpenDocument Text", "1.2"},
    {F_ODT, "1.3", "fmt/1756", "OpenDocument Text", "1.3"},
    {F_ODT, "1.4", "fmt/2044", "OpenDocument Text", "1.4"},
    {F_ODT, NULL, "", "OpenDocument Text", ""},
    {F_ODS, "1.0", "fmt/137", "OpenDocument Spreadsheet", "1.0"},
    {F_ODS, "1.1", "fmt/294", "OpenDocument Spreadsheet", "1.1"},
    {F_ODS, "1.2", "fmt/295", "OpenDocument Spreadsheet", "1.2"},
    {F_ODS, "1.3", "fmt/1755", "OpenDocument Spreadsheet", "1.3"},
    {F_ODS, "1.4", "fmt/2045", "OpenDocument Spreadsheet", "1.4"},
    {F_ODS, NULL, "", "OpenDocument Spreadsheet", ""},
    {F_ODP, "1.0", "fmt/138", "OpenDocument Presentation", "1.0"},
    {F_ODP, "1.1", "fmt/292", "OpenDocument Presentation", "1.1"},
    {F_ODP, "1.2", "fmt/293", "OpenDocument Presentation", "1.2"},
    {F_ODP, "1.3", "fmt/1754", "OpenDocument Presentation", "1.3"},
    {F_ODP, "1.4", "fmt/2046", "OpenDocument Presentation", "1.4"},
    {F_ODP, NULL, "", "OpenDocument Presentation", ""},
    {F_EPUB, NULL, "fmt/483", "ePub Format", ""},
    {F_ZIP, NULL, "x-fmt/263", "ZIP Format", ""},
    {F_GZIP, NULL, "x-fmt/266", "GZIP Format", ""},
    {F_TAR, NULL, "x-fmt/265", "Tape Archive Format", ""},
    {F_XML, "1.0", "fmt/101", "Extensible Markup Language", "1.0"},
    {F_XML, "1.1", "fmt/1776", "Extensible Markup Language", "1.1"},
    {F_XML, NULL, "", "Extensible Markup Language", ""},
    {F_HTML, "2.0", "fmt/97", "Hypertext Markup Language", "2.0"},
    {F_HTML, "3.2", "fmt/98", "Hypertext Markup Language", "3.2"},
    {F_HTML, "4.0", "fmt/99", "Hypertext Markup Language", "4.0"},
    {F_HTML, "4.01", "fmt/100", "Hypertext Markup Language", "4.01"},
    {F_HTML, "5", "fmt/471", "Hypertext Markup Language", "5"},
    {F_HTML, NULL, "fmt/96", "Hypertext Markup Language", ""},
    {F_XHTML, "1.0", "fmt/102", "Extensible Hypertext Markup Language", "1.0"},
    {F_XHTML, "1.1", "fmt/103", "Extensible Hypertext Markup Language", "1.1"},
    {F_XHTML, NULL, "", "Extensible Hypertext Markup Language", ""},
    {F_JSON, NULL, "fmt/817", "JSON Data Interchange Format", ""},
    {F_CSV, NULL, "x-fmt/18", "Comma Separated Values", ""},
    {F_TEXT, NULL, "x-fmt/111", "Plain Text File", ""},
};

static int known_key(int family, const char *key)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].family == family && table[i].key &&
            !strcmp(table[i].key, key))
            return 1;
    return 0;
}

/* ---- small byte helpers -------------------------------------------------- */

static const unsigned char *find(const unsigned char *h, size_t n,
                                 const char *needle)
{
    return memmem(h, n, needle, strlen(needle));
}

/* Case-insensitive search (ASCII). */
static const unsigned char *find_ci(const unsigned char *h, size_t n,
                                    const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; m && i + m <= n; i++)
        if (!strncasecmp((const char *)h + i, needle, m))
            return h + i;
    return NULL;
}

static unsigned le16(const unsigned char *p)
{
    return p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Lower-case extension of name ("" when none or too long). */
static void extension(const char *name, char ext[8])
{
    const char *base, *dot;
    size_t i = 0;
    ext[0] = '\0';
    if (!name)
        return;
    base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (!(dot = strrchr(base, '.')) || strlen(dot + 1) >= 8)
        return;
    for (dot++; *dot; dot++)
        ext[i++] = (char)tolower((unsigned char)*dot);
    ext[i] = '\0';
}

/* The value of an attribute or element "tag" after p: tag="v", tag='v' or
 * <tag>v</tag>; copied (trimmed, at most cap-1 bytes) into out. */
static void xml_value(const unsigned char *p, const unsigned char *end,
                      size_t taglen, char *out, size_t cap)
{
    size_t n = 0;
    unsigned char stop;
    out[0] = '\0';
    p += taglen;
    while (p < end && isspace(*p))
        p++;
    if (p >= end)
        return;
    if (*p == '>') {
        stop = '<';
    } else if (*p == '=') {
        for (p++; p < end && isspace(*p); p++)
            ;
        if (p >= end || (*p != '"' && *p != '\''))
            return;
        stop = *p;
    } else {
        return;
    }
    for (p++; p < end && isspace(*p); p++)
        ;
    while (p < end && *p != stop && n + 1 < cap)
        out[n++] = (char)*p++;
    while (n && isspace((unsigned char)out[n - 1]))
        n--;
    out[n] = '\0';
}

/* ---- probes: each writes the key of the table row it found -------------- */


/* "%PDF-1.4" in the first KiB; PDF/A from an XMP pdfaid part/conformance
 * when the level it names is a PRONOM format, else the plain version. */
static int pdf_probe(const unsigned char *d, size_t len, char *key, size_t cap)
{
    const unsigned char *p, *end = d + len;
    size_t head = len < 1024 ? len : 1024;
    char part[8], conf[8], level[4];

    if ((p = find(d, head, "%PDF-")) && p + 8 <= end && isdigit(p[5]) &&
        p[6] == '.' && isdigit(p[7]))
        snprintf(key, cap, "%c.%c", p[5], p[7]);
    /* The pdfaid namespace must be there too, so that a PDF merely
     * mentioning the words is not taken for PDF/A. */
    if (!find(d, len, "http://www.aiim.org/pdfa/ns/id/") ||
        !(p = find(d, len, "pdfaid:part")))
        return F_PDF;
    xml_value(p, end, strlen("pdfaid:part"), part, sizeof part);
    conf[0] = '\0';
    if ((p = find(d, len, "pdfaid:conformance")))
        xml_value(p, end, strlen("pdfaid:conformance"), conf, sizeof conf);
    if (strlen(part) != 1 || strlen(conf) > 1)
        return F_PDF;
    level[0] = part[0];
    level[1] = (char)tolower((unsigned char)conf[0]);
    level[2] = '\0';
    if (!known_key(F_PDFA, level))
        return F_PDF;
    snprintf(key, cap, "%s", level);
    return F_PDFA;
}

static void png_probe(const unsigned char *d, size_t len, char *key, size_t cap)
{
    int v11 = 0, v12 = 0;
    size_t off = 8;
    if (len < 16 || memcmp(d, "\x89PNG\r\n\x1a\n", 8))
        return;
    /* iTXt came with PNG 1.2; iCCP, sPLT and sRGB with 1.1. */
    while (off + 8 <= len) {
        uint32_t n = be32(d + off);
        const unsigned char *t = d + off + 4;
        if (!memcmp(t, "iTXt", 4))
            v12 = 1;
        else if (!memcmp(t, "iCCP", 4) || !memcmp(t, "sPLT", 4) ||
                 !memcmp(t, "sRGB", 4))
            v11 = 1;
        else if (!memcmp(t, "IEND", 4))
            break;
        if (n > len - off - 8)
            break;
        off += 12 + (size_t)n;
    }
    snprintf(key, cap, "%s", v12 ? "1.2" : v11 ? "1.1" : "1.0");
}

/* RIFF WAVE: a bext chunk makes it Broadcast WAVE (its version at offset
 * 346 of the chunk); the fmt chunk's size and tag say which WAVEFORMAT. */
static int wav_probe(const unsigned char *d, size_t len, char *key, size_t cap)
{
    size_t off = 12;
    long fmt_size = -1, bext_version = -1;
    unsigned tag = 0;
    int bext = 0;
    const char *enc;

    if (len < 12 || memcmp(d, "RIFF", 4) || memcmp(d + 8, "WAVE", 4))
        return F_NONE;
    while (off + 8 <= len) {
        uint32_t n = le32(d + off + 4);
        const unsigned char *body = d + off + 8;
        size_t avail = len - off - 8;
        if (!memcmp(d + off, "fmt ", 4) && avail >= 2) {
            fmt_size = (long)n;
            tag = le16(body);
        } else if (!memcmp(d + off, "bext", 4)) {
            bext = 1;
            if (n >= 348 && avail >= 348)
                bext_version = (long)le16(body + 346);
        }
        if (n > avail)
            break;
        off += 8 + (size_t)n + (n & 1);
    }
    if (bext) {
        enc = tag == 1 ? "pcm" : (tag == 0x50 || tag == 0x55) ? "mpeg"
            : tag == 0xfffe ? "ext" : "generic";
        if (fmt_size >= 0 && bext_version >= 0 && bext_version <= 2)
            snprintf(key, cap, "%ld %s", bext_version, enc);
        return F_BWF;
    }
    if (fmt_size == 16 && tag == 1)
        snprintf(key, cap, "pcm");
    else if (fmt_size == 18)
        snprintf(key, cap, "ex");
    else if (fmt_size == 40 && tag == 0xfffe)
        snprintf(key, cap, "ext");
    return F_WAV;
}

static void jfif_probe(const unsigned char *d, size_t len, char *key,
                       size_t cap)
{
    if (len >= 13 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff &&
        d[3] == 0xe0 && !memcmp(d + 6, "JFIF", 5))
        snprintf(key, cap, "%u.%02u", d[11], d[12]);
}

/* The ExifVersion entry (tag 0x9000, UNDEFINED, count 4) in either order. */
static void exif_probe(const unsigned char *d, size_t len, char *key,
                       size_t cap)
{
    static const unsigned char ii[] = {0x00, 0x90, 0x07, 0x00,
                                       0x04, 0x00, 0x00, 0x00};
    static const unsigned char mm[] = {0x90, 0x00, 0x00, 0x07,
                                       0x00, 0x00, 0x00, 0x04};
    const unsigned char *p = memmem(d, len, ii, sizeof ii);
    char v[5];
    if (!p)
        p = memmem(d, len, mm, sizeof mm);
    if (!p || p + 12 > d + len)
        return;
    memcpy(v, p + 8, 4);
    v[4] = '\0';
    if (!strcmp(v, "0200"))
        snprintf(key, cap, "2.0");
    else if (!strcmp(v, "0210"))
        snprintf(key, cap, "2.1");
    else if (!strcmp(v, "0220"))
        snprintf(key, cap, "2.2");
    else if (!strcmp(v, "0221"))
        snprintf(key, cap, "2.21");
    else if (!strncmp(v, "023", 3) && isdigit((unsigned char)v[3]))
        snprintf(key, cap, "2.3.x");
}

static void svg_probe(const unsigned char *d, size_t len, char *key, size_t cap)
{
    const unsigned char *p = find(d, len, "<svg"), *end, *v;
    char ver[8], profile[16];
    if (!p)
        return;
    end = memchr(p, '>', (size_t)(d + len - p));
    if (!end)
        return;
    ver[0] = profile[0] = '\0';
    /* " version" so that baseProfile's or xmlns:*'s text is not taken */
    if ((v = find(p, (size_t)(end - p), " version")) ||
        (v = find(p, (size_t)(end - p), "\nversion")))
        xml_value(v, end, strlen(" version"), ver, sizeof ver);
    if ((v = find(p, (size_t)(end - p), "baseProfile")))
        xml_value(v, end, strlen("baseProfile"), profile, sizeof profile);
    if (!strcmp(ver, "1.2") && !strcasecmp(profile, "tiny"))
        snprintf(key, cap, "1.2 tiny");
    else if (!strcmp(ver, "1.0") || !strcmp(ver, "1.1"))
        snprintf(key, cap, "%s", ver);
}

/* <?xml version="1.0" at the very start (after a UTF-8 BOM). */
static void xml_probe(const unsigned char *d, size_t len, char *key, size_t cap)
{
    const unsigned char *p, *end;
    char ver[8];
    if (len >= 3 && !memcmp(d, "\xef\xbb\xbf", 3)) {
        d += 3;
        len -= 3;
    }
    if (len < 6 || memcmp(d, "<?xml", 5))
        return;
    end = memchr(d, '>', len < 256 ? len : 256);
    if (!end || !(p = find(d, (size_t)(end - d), "version")))
        return;
    xml_value(p, end, strlen("version"), ver, sizeof ver);
    if (!strcmp(ver, "1.0") || !strcmp(ver, "1.1"))
        snprintf(key, cap, "%s", ver);
}

/* The document type declaration: HTML 2.0-4.01 and XHTML by their public
 * identifiers, HTML 5 by a bare <!DOCTYPE html>. */
static int html_probe(const unsigned char *d, size_t len, int family,
                      char *key, size_t cap)
{
    static const struct {
        const char *fpi;
        int family;
        const char *key;
    } dtds[] = {
        {"//DTD XHTML 1.0", F_XHTML, "1.0"}, {"//DTD XHTML 1.1", F_XHTML, "1.1"},
        {"//DTD HTML 4.01", F_HTML, "4.01"}, {"//DTD HTML 4.0", F_HTML, "4.0"},
        {"//DTD HTML 3.2", F_HTML, "3.2"},   {"//DTD HTML 2.0", F_HTML, "2.0"},
    };
    size_t head = len < 4096 ? len : 4096, n;
    const unsigned char *p = find_ci(d, head, "<!doctype"), *end, *q;
    if (!p || !(end = memchr(p, '>', (size_t)(d + len - p))))
        return family;
    n = (size_t)(end - p);
    for (size_t i = 0; i < sizeof dtds / sizeof dtds[0]; i++)
        if (find_ci(p, n, dtds[i].fpi)) {
            snprintf(key, cap, "%s", dtds[i].key);
            return dtds[i].family;
        }
    for (q = p + 9; q < end && isspace(*q); q++)
        ;
    if (end - q >= 4 && !strncasecmp((const char *)q, "html", 4)) {
        for (q += 4; q < end && isspace(*q); q++)
            ;
        if (q == end || find_ci(q, (size_t)(end - q), "about:legacy-compat")) {
            snprintf(key, cap, "5");
            return F_HTML;
        }
    }
    return family;
}

/* office:version (or manifest:version) from the first small parts of an
 * OpenDocument zip, read with libarchive's streaming zip reader so that a
 * truncated prefix simply ends the search. */
static void odf_probe(const unsigned char *d, size_t len, char *key, size_t cap)
{
    static const char *const parts[] = {"meta.xml", "content.xml",
                                        "styles.xml", "META-INF/manifest.xml"};
    static const char *const attrs[] = {"office:version", "manifest:version"};
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    char buf[4096], ver[8];
    if (!a)
        return;
    if (archive_read_support_format_zip_streamable(a) != ARCHIVE_OK ||
        archive_read_open_memory(a, d, len) != ARCHIVE_OK)
        goto done;
    for (int i = 0; i < 32 && archive_read_next_header(a, &e) == ARCHIVE_OK;
         i++) {
        const char *name = archive_entry_pathname(e);
        int want = 0;
        la_ssize_t got;
        for (size_t j = 0; name && j < sizeof parts / sizeof parts[0]; j++)
            want |= !strcmp(name, parts[j]);
        if (!want)
            continue;
        if ((got = archive_read_data(a, buf, sizeof buf)) <= 0)
            break;
        for (size_t j = 0; j < 2; j++) {
            const unsigned char *p = find((unsigned char *)buf, (size_t)got,
                                          attrs[j]);
            if (!p)
                continue;
            xml_value(p, (unsigned char *)buf + got, strlen(attrs[j]), ver,
                      sizeof ver);
            if (strlen(ver) == 3 && ver[0] == '1' && ver[1] == '.' &&
                ver[2] >= '0' && ver[2] <= '4') {
                snprintf(key, cap, "%s", ver);
                goto done;
            }
        }
    }
done:
    archive_read_free(a);
}

/* A zip libmagic did not name: the extension says what it claims to be,
 * the prefix must bear it out (the package's marker entries). */
static int zip_family(const unsigned char *d, size_t len, const char *ext)
{
    static const struct {
        const char *ext, *marker, *part;
        int family;
    } kinds[] = {
        {"docx", "[Content_Types].xml", "word/", F_DOCX},
        {"xlsx", "[Content_Types].xml", "xl/", F_XLSX},
        {"pptx", "[Content_Types].xml", "ppt/", F_PPTX},
        {"odt", "mimetypeapplication/vnd.oasis.opendocument.text", NULL, F_ODT},
        {"ods", "mimetypeapplication/vnd.oasis.opendocument.spreadsheet", NULL,
         F_ODS},
        {"odp", "mimetypeapplication/vnd.oasis.opendocument.presentation",
         NULL, F_ODP},
        {"epub", "mimetypeapplication/epub+zip", NULL, F_EPUB},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const unsigned char *p;
        if (strcmp(ext, kinds[i].ext) || !(p = find(d, len, kinds[i].marker)))
            continue;
        /* "...opendocument.text-template" is another format */
        if (!kinds[i].part && p + strlen(kinds[i].marker) < d + len &&
            p[strlen(kinds[i].marker)] == '-')
            continue;
        if (!kinds[i].part || find(d, len, kinds[i].part))
            return kinds[i].family;
    }
    return F_ZIP;
}

static int mime_is(const char *mime, const char *a)
{
    return !strcmp(mime, a);
}

/* The family libmagic's answer names, and the key the bytes give. */
static int classify(const unsigned char *d, size_t len, const char *ext,
                    const vl_format *f, char *key, size_t cap)
{
    const char *m = f->mime, *desc = f->description;
    int fam = F_NONE;

    if (mime_is(m, "application/pdf"))
        return pdf_probe(d, len, key, cap);
    if (mime_is(m, "image/tiff"))
        return F_TIFF;
    if (mime_is(m, "image/jpeg")) {
        if (strstr(desc, "JFIF standard")) {
            jfif_probe(d, len, key, cap);
            return F_JFIF;
        }
        if (strstr(desc, "Exif standard")) {
            exif_probe(d, len, key, cap);
            return F_EXIF;
        }
        return F_JPEG;
    }
    if (mime_is(m, "image/jp2"))
        return strstr(desc, "JP2") ? F_JP2 : F_NONE;
    if (mime_is(m, "image/png")) {
        png_probe(d, len, key, cap);
        return F_PNG;
    }
    if (mime_is(m, "image/gif")) {
        if (len >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6)))
            snprintf(key, cap, "%.3s", (const char *)d + 3);
        return F_GIF;
    }
    if (mime_is(m, "image/svg+xml")) {
        svg_probe(d, len, key, cap);
        return F_SVG;
    }
    if (mime_is(m, "audio/x-wav") || mime_is(m, "audio/wav") ||
        mime_is(m, "audio/vnd.wave"))
        return wav_probe(d, len, key, cap);
    if (mime_is(m, "audio/mpeg"))
        return strstr(desc, "layer III") ? F_MP3 : F_NONE;
    if (mime_is(m, "audio/flac") || mime_is(m, "audio/x-flac"))
        return F_FLAC;
    if (mime_is(m, "video/mp4") || mime_is(m, "audio/mp4") ||
        mime_is(m, "audio/x-m4a"))
        return F_MP4;
    if (mime_is(m, "application/vnd.openxmlformats-officedocument."
                   "wordprocessingml.document"))
        return F_DOCX;
    if (mime_is(m, "application/vnd.openxmlformats-officedocument."
                   "spreadsheetml.sheet"))
        return F_XLSX;
    if (mime_is(m, "application/vnd.openxmlformats-officedocument."
                   "presentationml.presentation"))
        return F_PPTX;
    if (mime_is(m, "application/vnd.oasis.opendocument.text"))
        fam = F_ODT;
    else if (mime_is(m, "application/vnd.oasis.opendocument.spreadsheet"))
        fam = F_ODS;
    else if (mime_is(m, "application/vnd.oasis.opendocument.presentation"))
        fam = F_ODP;
    else if (mime_is(m, "application/epub+zip"))
        return F_EPUB;
    else if (mime_is(m, "application/zip") ||
             !strncmp(desc, "Microsoft OOXML", 15)) {
        fam = zip_family(d, len, ext);
        if (fam == F_ZIP && !mime_is(m, "application/zip"))
            return F_NONE;
    }
    if (fam == F_ODT || fam == F_ODS || fam == F_ODP) {
        odf_probe(d, len, key, cap);
        return fam;
    }
    if (fam != F_NONE)
        return fam;
    if (mime_is(m, "application/gzip") || mime_is(m, "application/x-gzip"))
        return F_GZIP;
    if (mime_is(m, "application/x-tar"))
        return F_TAR;
    if (mime_is(m, "application/json"))
        return F_JSON;
    if (mime_is(m, "text/html") || mime_is(m, "application/xhtml+xml"))
        return html_probe(d, len, mime_is(m, "text/html") ? F_HTML : F_XHTML,
                          key, cap);
    if (mime_is(m, "text/xml") || mime_is(m, "application/xml")) {
        fam = html_probe(d, len, F_XML, key, cap);
        if (fam == F_XML)
            xml_probe(d, len, key, cap);
        return fam == F_HTML ? F_XML : fam;   /* HTML 5 is not XML */
    }
    if (mime_is(m, "text/csv"))
        return F_CSV;
    if (mime_is(m, "text/plain"))
        return !strcmp(ext, "csv") ? F_CSV : F_TEXT;
    return F_NONE;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

void vl_puid_classify(const void *data, size_t len, uint64_t total_size,
                      const char *name, vl_format *out)
{
    const unsigned char *d = data;
    const struct pronom *hit = NULL, *fallback = NULL;
    char ext[8], key[32] = "";
    int fam;
    size_t n;

    (void)total_size;   /* judged on the prefix; kept for a later engine */
    extension(name, ext);
    fam = classify(d, len, ext, out, key, sizeof key);
    for (size_t i = 0; !hit && fam != F_NONE && i < sizeof table / sizeof table[0];
         i++) {
        if (table[i].family != fam)
            continue;
        if (!table[i].key)
            fallback = &table[i];
        else if (key[0] && !strcmp(table[i].key, key))
            hit = &table[i];
    }
    if (!hit)
        hit = fallback;
    if (hit) {
        copy(out->puid, sizeof out->puid, hit->puid);
        copy(out->format_name, sizeof out->format_name, hit->name);
        copy(out->format_version, sizeof out->format_version, hit->version);
        return;
    }
    /* No PRONOM family: libmagic's own name, up to its first comma. */
    n = strcspn(out->description, ",");
    if (n >= sizeof out->format_name)
        n = sizeof out->format_name - 1;
    memcpy(out->format_name, out->description, n);
    out->format_name[n] = '\0';
}
