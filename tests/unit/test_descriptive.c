/* Descriptive metadata: the Dublin Core model and --dc, DC and MODS XML
 * records, metadata.csv, bag-info.txt mapping, the DC <-> MODS crosswalks
 * (DC -> MODS checked against the MODS 3.8 schema) and the safe XML reader
 * against hostile files.  Fixtures: tests/fixtures/xml/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/catalog.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

/* A white-box test: it uses metadata/'s private descriptive_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_METADATA_INTERNAL
#include "descriptive_internal.h"

/* ---- helpers ---------------------------------------------------------------- */

static const char *fixture(const char *name)
{
    static char buf[4][4096];
    static int k;
    const char *tests = getenv("VELLUM_TESTS");

    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/fixtures/xml/%s",
             tests && *tests ? tests : "tests", name);
    return buf[k];
}

/* The n-th value of element in dc (0-based), or NULL. */
static const char *dc_get(const vl_dc *dc, const char *element, size_t n)
{
    size_t i;

    for (i = 0; dc && i < vl_dc_count(dc); i++) {
        const char *el, *v;
        vl_dc_entry(dc, i, &el, &v);
        if (strcmp(el, element) == 0 && n-- == 0)
            return v;
    }
    return NULL;
}

static size_t dc_n(const vl_dc *dc, const char *element)
{
    size_t n = 0;

    while (dc_get(dc, element, n))
        n++;
    return n;
}

static int load_str(vl_descriptive *d, const char *name, const char *text,
                    vl_error *err)
{
    return vl_descriptive_load_memory(d, name, text, strlen(text), err);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in \"%s\"", needle, hay);
}

/* ---- Dublin Core model ---------------------------------------------------- */

static void test_dc_elements(void **state)
{
    const char *const *names = vl_dc_elements();
    vl_dc *dc = vl_dc_new();
    vl_error err;
    size_t i;
    (void)state;

    assert_non_null(dc);
    assert_true(vl_dc_is_empty(dc));
    for (i = 0; names[i]; i++) {
        char v[64];
        snprintf(v, sizeof v, "value %zu", i);
        assert_int_equal(vl_dc_add(dc, names[i], v, &err), VL_OK);
    }
    assert_int_equal(i, 15);
    assert_int_equal(vl_dc_count(dc), 15);
    assert_false(vl_dc_is_empty(dc));
    for (i = 0; names[i]; i++) {
        const char *el, *v;
        char want[64];
        vl_dc_entry(dc, i, &el, &v);
        snprintf(want, sizeof want, "value %zu", i);
        assert_string_equal(el, names[i]);
        assert_string_equal(v, want);
    }
    /* Repeatable, and element names are case-insensitive. */
    assert_int_equal(vl_dc_add(dc, "Subject", "again", &err), VL_OK);
    assert_int_equal(dc_n(dc, "subject"), 2);

    assert_int_equal(vl_dc_add(dc, "titel", "x", &err), VL_EINPUT);
    assert_contains(err.msg, "'titel' is not a Dublin Core element");
    assert_int_equal(vl_dc_add(dc, "", "x", &err), VL_EINPUT);
    assert_int_equal(vl_dc_add(dc, "audience", "x", &err), VL_EINPUT);
    /* Values must be writable as XML later. */
    assert_int_equal(vl_dc_add(dc, "title", "", &err), VL_EINPUT);
    assert_contains(err.msg, "empty");
    assert_int_equal(vl_dc_add(dc, "title", "  \n ", &err), VL_EINPUT);
    assert_int_equal(vl_dc_add(dc, "title", "a\x01" "b", &err), VL_EINPUT);
    assert_contains(err.msg, "control character");
    assert_int_equal(vl_dc_add(dc, "title", "\xff\xfe", &err), VL_EINPUT);
    assert_contains(err.msg, "UTF-8");
    assert_int_equal(vl_dc_add(dc, "title", "\xef\xbf\xbe", &err), VL_EINPUT);
    assert_int_equal(vl_dc_add(dc, "title", "tab\tand\nline", &err), VL_OK);
    assert_int_equal(vl_dc_count(dc), 17);
    vl_dc_free(dc);
}

static void test_dc_assignment(void **state)
{
    vl_dc *dc = vl_dc_new();
    vl_error err;
    (void)state;

    assert_int_equal(vl_dc_add_assignment(dc, "title=A=B", &err), VL_OK);
    assert_string_equal(dc_get(dc, "title", 0), "A=B");
    assert_int_equal(vl_dc_add_assignment(dc, "creator=Lee, Ann", &err), VL_OK);
    assert_string_equal(dc_get(dc, "creator", 0), "Lee, Ann");
    assert_int_equal(vl_dc_add_assignment(dc, " Date =1784", &err), VL_OK);
    assert_string_equal(dc_get(dc, "date", 0), "1784");

    assert_int_equal(vl_dc_add_assignment(dc, "title", &err), VL_EINPUT);
    assert_contains(err.msg, "--dc 'title': expected ELEMENT=VALUE");
    assert_int_equal(vl_dc_add_assignment(dc, "=x", &err), VL_EINPUT);
    assert_int_equal(vl_dc_add_assignment(dc, "bogus=x", &err), VL_EINPUT);
    assert_contains(err.msg, "--dc: 'bogus' is not a Dublin Core element");
    assert_int_equal(vl_dc_add_assignment(dc, "title=", &err), VL_EINPUT);
    assert_contains(err.msg, "--dc: dc.title: value is empty");
    assert_int_equal(vl_dc_count(dc), 3);
    vl_dc_free(dc);
}

/* ---- DC and MODS XML records ---------------------------------------------- */

static void test_dc_xml_load(void **state)
{
    vl_descriptive *d = vl_descriptive_new();
    vl_dc *dc;
    vl_error err;
    (void)state;

    assert_int_equal(vl_descriptive_load(d, fixture("dc.xml"), &err), VL_OK);
    dc = vl_descriptive_deposit_dc(d);
    assert_int_equal(vl_dc_count(dc), 13);
    assert_string_equal(dc_get(dc, "title", 0), "Letters of Ann Lee");
    assert_string_equal(dc_get(dc, "subject", 1), "Shakers");
    assert_string_equal(dc_get(dc, "language", 0), "eng");
    assert_null(vl_descriptive_mods_xml(d));
    assert_int_equal(vl_descriptive_file_count(d), 0);
    assert_null(vl_descriptive_file_dc(d, "data/x"));

    /* A second record adds to the first (--metadata is repeatable). */
    assert_int_equal(load_str(d, "more.xml",
                              "<r xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                              "<other><x/></other>"
                              "<md><dc:title>\n  Second title\n</dc:title>"
                              "<dc:rights/><note>not DC</note></md></r>",
                              &err),
                     VL_OK);
    assert_int_equal(vl_dc_count(dc), 14);
    assert_string_equal(dc_get(dc, "title", 1), "Second title");
    vl_descriptive_free(d);
}

static void test_dc_xml_refused(void **state)
{
    vl_descriptive *d = vl_descriptive_new();
    vl_error err;
    (void)state;

    assert_int_equal(load_str(d, "bad.xml",
                              "<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives."
                              "org/OAI/2.0/oai_dc/\" xmlns:dc=\"http://purl.org/"
                              "dc/elements/1.1/\">\n<dc:title>T</dc:title>\n"
                              "<dc:titel>U</dc:titel></oai_dc:dc>",
                              &err),
                     VL_EINPUT);
    assert_string_equal(err.msg,
                        "bad.xml:3: <dc:titel> is not a Dublin Core element");
    assert_int_equal(load_str(d, "case.xml",
                              "<r xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                              "<dc:Title>T</dc:Title></r>",
                              &err),
                     VL_EINPUT);
    assert_int_equal(load_str(d, "other.xml", "<record><title>T</title></record>",
                              &err),
                     VL_EINPUT);
    assert_contains(err.msg, "other.xml: neither a MODS record");
    assert_int_equal(load_str(d, "coll.xml",
                              "<modsCollection xmlns=\"http://www.loc.gov/mods/"
                              "v3\"/>",
                              &err),
                     VL_EINPUT);
    assert_contains(err.msg, "give one mods:mods record");
    assert_int_equal(load_str(d, "empty.xml", " \n", &err), VL_EINPUT);
    assert_string_equal(err.msg, "empty.xml: empty file");
    /* Nothing was stored by the refused files. */
    assert_true(vl_dc_is_empty(vl_descriptive_deposit_dc(d)));
    vl_descriptive_free(d);
}

static void test_mods_load(void **state)
{
    vl_descriptive *d = vl_descriptive_new();
    const char *mods;
    vl_dc *dc;
    vl_error err;
    (void)state;

    assert_int_equal(vl_descriptive_load(d, fixture("mods.xml"), &err), VL_OK);
    mods = vl_descriptive_mods_xml(d);
    assert_non_null(mods);
    assert_true(strncmp(mods, "<mods ", 6) == 0);
    assert_contains(mods, "xmlns=\"http://www.loc.gov/mods/v3\"");
    assert_contains(mods, "<recordIdentifier>ann-0001</recordIdentifier>");

    dc = vl_descriptive_deposit_dc(d);
    assert_string_equal(dc_get(dc, "title", 0),
                        "The letters of Ann Lee: a selection");
    assert_string_equal(dc_get(dc, "creator", 0), "Lee, Ann");
    assert_int_equal(dc_n(dc, "creator"), 1);
    assert_string_equal(dc_get(dc, "contributor", 0), "Meacham, Joseph");
    assert_string_equal(dc_get(dc, "type", 0), "text");
    assert_string_equal(dc_get(dc, "type", 1), "letters (correspondence)");
    assert_string_equal(dc_get(dc, "publisher", 0),
                        "Example Historical Society");
    assert_string_equal(dc_get(dc, "date", 0), "1784");
    assert_string_equal(dc_get(dc, "language", 0), "eng");
    assert_string_equal(dc_get(dc, "format", 0), "application/pdf");
    assert_string_equal(dc_get(dc, "format", 1), "42 leaves");
    assert_string_equal(dc_get(dc, "description", 0),
                        "Letters written by Ann Lee, 1774-1784.");
    assert_string_equal(dc_get(dc, "subject", 0), "Shakers");
    assert_string_equal(dc_get(dc, "coverage", 0), "New York");
    assert_string_equal(dc_get(dc, "identifier", 0),
                        "https://example.org/ark:/12345/ann");
    assert_string_equal(dc_get(dc, "source", 0), "Ann Lee papers, box 1");
    assert_string_equal(dc_get(dc, "relation", 0), "Shaker manuscripts");
    assert_string_equal(dc_get(dc, "rights", 0), "Public domain");
    assert_int_equal(vl_dc_count(dc), 17);

    /* Only one MODS record; the refused second one changes nothing. */
    assert_int_equal(vl_descriptive_load(d, fixture("mods.xml"), &err),
                     VL_EINPUT);
    assert_contains(err.msg, "a MODS record was already given");
    assert_int_equal(vl_dc_count(dc), 17);
    vl_descriptive_free(d);
}

static void test_mods_to_dc(void **state)
{
    static const char rec[] =
        "<m:mods xmlns:m=\"http://www.loc.gov/mods/v3\">"
        "<m:name><m:namePart type=\"family\">Doe</m:namePart>"
        "<m:namePart type=\"given\">Jane</m:namePart></m:name>"
        "<m:name usage=\"primary\"><m:displayForm>Roe, R.</m:displayForm>"
        "<m:role><m:roleTerm type=\"code\">edt</m:roleTerm></m:role></m:name>"
        "<m:name><m:namePart>Smith</m:namePart>"
        "<m:role><m:roleTerm type=\"code\">aut</m:roleTerm></m:role></m:name>"
        "<m:subject><m:temporal>1900-1910</m:temporal>"
        "<m:hierarchicalGeographic><m:country>France</m:country>"
        "<m:city>Paris</m:city></m:hierarchicalGeographic></m:subject>"
        "<m:titleInfo><m:title>Part</m:title><m:partNumber>2</m:partNumber>"
        "<m:partName>Maps</m:partName></m:titleInfo>"
        "<m:location><m:url>https://example.org/x</m:url></m:location>"
        "<m:extension><m:title>ignored</m:title></m:extension>"
        "</m:mods>";
    vl_dc *dc = vl_dc_new();
    vl_error err;
    (void)state;

    assert_int_equal(vl_mods_to_dc(rec, sizeof rec - 1, dc, &err), VL_OK);
    assert_string_equal(dc_get(dc, "creator", 0), "Doe, Jane");
    assert_string_equal(dc_get(dc, "creator", 1), "Roe, R.");
    assert_string_equal(dc_get(dc, "creator", 2), "Smith");
    assert_null(dc_get(dc, "contributor", 0));
    assert_string_equal(dc_get(dc, "coverage", 0), "1900-1910");
    assert_string_equal(dc_get(dc, "coverage", 1), "France -- Paris");
    assert_string_equal(dc_get(dc, "title", 0), "Part. 2, Maps");
    assert_string_equal(dc_get(dc, "identifier", 0), "https://example.org/x");
    assert_int_equal(vl_dc_count(dc), 7);

    assert_int_equal(vl_mods_to_dc("<mods/>", 7, dc, &err), VL_EINPUT);
    assert_contains(err.msg, "not mods:mods");
    assert_int_equal(vl_mods_to_dc("<m:mods", 7, dc, &err), VL_EINPUT);
    assert_int_equal(vl_dc_count(dc), 7);
    vl_dc_free(dc);
}

/* ---- DC -> MODS, validated against MODS 3.8 --------------------------------- */

struct schema_errors {
    char first[1024];
    int n;
};

#if LIBXML_VERSION >= 21200
static void schema_error(void *arg, const xmlError *e)
#else
static void schema_error(void *arg, xmlErrorPtr e)
#endif
{
    struct schema_errors *se = arg;

    if (se->n++ == 0)
        snprintf(se->first, sizeof se->first, "line %d: %s", e->line,
                 e->message);
}

static void assert_valid_mods(const char *mods)
{
    const char *shared = getenv("VELLUM_SHARED");
    char catalog[4096], xsd[4096];
    struct schema_errors se;
    xmlSchemaParserCtxtPtr pc;
    xmlSchemaValidCtxtPtr vc;
    xmlSchemaPtr schema;
    xmlDocPtr doc;
    FILE *f;
    int rc;

    if (!shared || !*shared)
        shared = "../shared";
    snprintf(catalog, sizeof catalog, "%s/schemas/catalog.xml", shared);
    snprintf(xsd, sizeof xsd, "%s/schemas/mods-3-8.xsd", shared);
    f = fopen(catalog, "r");
    if (!f)
        fail_msg("no schema catalog at %s: set VELLUM_SHARED to the shared "
                 "folder (with schemas/)",
                 catalog);
    fclose(f);
    assert_int_equal(xmlLoadCatalog(catalog), 0);
    memset(&se, 0, sizeof se);
    xmlSetStructuredErrorFunc(&se, schema_error);
    pc = xmlSchemaNewParserCtxt(xsd);
    assert_non_null(pc);
    schema = xmlSchemaParse(pc);
    if (!schema)
        fail_msg("cannot load %s: %s", xsd, se.first);
    vc = xmlSchemaNewValidCtxt(schema);
    assert_non_null(vc);
    xmlSchemaSetValidStructuredErrors(vc, schema_error, &se);
    doc = xmlReadMemory(mods, (int)strlen(mods), "mods.xml", NULL,
                        XML_PARSE_NONET);
    assert_non_null(doc);
    rc = xmlSchemaValidateDoc(vc, doc);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (rc != 0)
        fail_msg("MODS not valid against MODS 3.8 (%s):\n%s", se.first, mods);
    xmlFreeDoc(doc);
    xmlSchemaFreeValidCtxt(vc);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pc);
}

static void test_dc_to_mods(void **state)
{
    static const char *const values[][2] = {
        {"title", "Letters & <notes> of \"Ann\""},
        {"creator", "Lee, Ann"},
        {"contributor", "Meacham, Joseph"},
        {"subject", "Shakers"},
        {"description", "Two\nparagraphs."},
        {"publisher", "Example Historical Society"},
        {"date", "1784"},
        {"type", "Text"},
        {"type", "Collection"},
        {"type", "Event"},
        {"type", "cartographic"},
        {"type", "letters"},
        {"format", "application/pdf"},
        {"format", "42 leaves"},
        {"identifier", "https://example.org/ann"},
        {"identifier", "box 1 folder 2"},
        {"source", "Ann Lee papers"},
        {"source", "urn:nbn:de:1234"},
        {"language", "eng"},
        {"language", "en-GB"},
        {"language", "English"},
        {"relation", "Shaker manuscripts"},
        {"coverage", "1774-1784"},
        {"coverage", "New York"},
        {"rights", "Public domain"},
    };
    vl_dc *dc = vl_dc_new(), *back = vl_dc_new();
    vl_error err;
    char *mods;
    size_t i;
    (void)state;

    assert_null(vl_dc_to_mods(dc));   /* nothing to say */
    for (i = 0; i < sizeof values / sizeof values[0]; i++)
        assert_int_equal(vl_dc_add(dc, values[i][0], values[i][1], &err),
                         VL_OK);
    mods = vl_dc_to_mods(dc);
    assert_non_null(mods);
    assert_valid_mods(mods);
    assert_contains(mods, "<mods:mods xmlns:mods=\"http://www.loc.gov/mods/v3\" "
                          "version=\"3.8\">");
    assert_contains(mods, "<mods:title>Letters &amp; &lt;notes&gt; of "
                          "\"Ann\"</mods:title>");
    assert_contains(mods, "<mods:roleTerm type=\"text\">creator</mods:roleTerm>");
    assert_contains(mods, "<mods:abstract>");
    assert_contains(mods, "<mods:dateOther>1784</mods:dateOther>");
    assert_contains(mods, "<mods:typeOfResource>text</mods:typeOfResource>");
    assert_contains(mods, "<mods:genre authority=\"dct\">Text</mods:genre>");
    assert_contains(mods, "<mods:typeOfResource collection=\"yes\">mixed "
                          "material</mods:typeOfResource>");
    assert_contains(mods, "<mods:genre>letters</mods:genre>");
    assert_contains(mods, "<mods:internetMediaType>application/pdf"
                          "</mods:internetMediaType>");
    assert_contains(mods, "<mods:form>42 leaves</mods:form>");
    assert_contains(mods, "<mods:identifier type=\"uri\">https://example.org/"
                          "ann</mods:identifier>");
    assert_contains(mods, "<mods:relatedItem type=\"original\">");
    assert_contains(mods, "<mods:languageTerm type=\"code\" authority=\"iso639-"
                          "2b\">eng</mods:languageTerm>");
    assert_contains(mods, "authority=\"rfc5646\">en-GB<");
    assert_contains(mods, "<mods:languageTerm type=\"text\">English<");
    assert_contains(mods, "<mods:temporal>1774-1784</mods:temporal>");
    assert_contains(mods, "<mods:geographic>New York</mods:geographic>");
    assert_contains(mods, "<mods:accessCondition>Public domain<");

    /* Back to DC: every element survives the round trip. */
    assert_int_equal(vl_mods_to_dc(mods, strlen(mods), back, &err), VL_OK);
    for (i = 0; vl_dc_elements()[i]; i++) {
        const char *el = vl_dc_elements()[i];
        if (dc_n(back, el) < 1)
            fail_msg("%s lost in DC -> MODS -> DC", el);
    }
    assert_string_equal(dc_get(back, "title", 0), values[0][1]);
    assert_string_equal(dc_get(back, "creator", 0), "Lee, Ann");
    assert_string_equal(dc_get(back, "contributor", 0), "Meacham, Joseph");
    assert_string_equal(dc_get(back, "source", 1), "urn:nbn:de:1234");
    free(mods);

    /* A title alone is valid MODS too. */
    vl_dc_free(dc);
    dc = vl_dc_new();
    assert_int_equal(vl_dc_add(dc, "title", "Only a title", &err), VL_OK);
    mods = vl_dc_to_mods(dc);
    assert_non_null(mods);
    assert_valid_mods(mods);
    free(mods);
    vl_dc_free(dc);
    vl_dc_free(back);
}

/* ---- metadata.csv ------------------------------------------------------------ */

static void test_csv_fixture(void **state)
{
    vl_descriptive *d = vl_descriptive_new();
    const vl_dc *f;
    vl_dc *dc;
    vl_error err;
    (void)state;

    assert_int_equal(vl_descriptive_load(d, fixture("metadata.csv"), &err),
                     VL_OK);
    dc = vl_descriptive_deposit_dc(d);
    /* BOM skipped, quoted commas, CRLF and "" inside quotes. */
    assert_string_equal(dc_get(dc, "title", 0), "Letters of Ann Lee");
    assert_string_equal(dc_get(dc, "creator", 0), "Lee, Ann");
    assert_string_equal(dc_get(dc, "subject", 0), "Correspondence");
    assert_string_equal(dc_get(dc, "subject", 1), "Shakers");
    assert_string_equal(dc_get(dc, "description", 0),
                        "Letters, 1774-1784.\r\nSecond paragraph with "
                        "\"quotes\".");
    assert_int_equal(vl_dc_count(dc), 5);   /* "notes" column ignored */

    assert_int_equal(vl_descriptive_file_count(d), 3);
    assert_string_equal(vl_descriptive_file_path(d, 0), "data/letters/one.txt");
    assert_string_equal(vl_descriptive_file_path(d, 1),
                        "data/letters/three.txt");
    assert_string_equal(vl_descriptive_file_path(d, 2), "data/letters/two.txt");
    f = vl_descriptive_file_dc(d, "data/letters/one.txt");
    assert_non_null(f);
    assert_string_equal(dc_get(f, "title", 0), "First letter");
    assert_string_equal(dc_get(f, "creator", 0), "Lee, Ann");
    assert_string_equal(dc_get(f, "description", 0), "A letter to Joseph.");
    assert_int_equal(vl_dc_count(f), 3);
    f = vl_descriptive_file_dc(d, "data/letters/two.txt");
    assert_non_null(f);
    assert_string_equal(dc_get(f, "subject", 0), "Travel");
    assert_non_null(vl_descriptive_file_dc(d, "data/letters/three.txt"));
    assert_null(vl_descriptive_file_dc(d, "letters/three.txt"));
    vl_descriptive_free(d);
}

static void test_csv_shapes(void **state)
{
    vl_descriptive *d = vl_descriptive_new();
    const vl_dc *f;
    vl_error err;
    (void)state;

    /* LF endings, no final line end, header names in any case, blank lines,
     * short rows, whole-deposit spellings, rows for one file merged. */
    assert_int_equal(
        load_str(d, "m.csv",
                 " FileName ,DC.Title,dc.SUBJECT,dcterms.audience\n"
                 "objects,Deposit title\n"
                 "\n"
                 "data,,Deposit subject\n"
                 "a b.txt,\"Line one\nline two\",\"x, y\"\n"
                 "objects/a b.txt,,second subject,ignored\n"
                 "\"data/c,d.txt\",\"\"\"Quoted\"\"\"",
                 &err),
        VL_OK);
    assert_string_equal(dc_get(vl_descriptive_deposit_dc(d), "title", 0),
                        "Deposit title");
    assert_string_equal(dc_get(vl_descriptive_deposit_dc(d), "subject", 0),
                        "Deposit subject");
    assert_int_equal(vl_descriptive_file_count(d), 2);
    f = vl_descriptive_file_dc(d, "data/a b.txt");
    assert_non_null(f);
    assert_string_equal(dc_get(f, "title", 0), "Line one\nline two");
    assert_string_equal(dc_get(f, "subject", 0), "x, y");
    assert_string_equal(dc_get(f, "subject", 1), "second subject");
    f = vl_descriptive_file_dc(d, "data/c,d.txt");
    assert_non_null(f);
    assert_string_equal(dc_get(f, "title", 0), "\"Quoted\"");

    /* CR-only line ends and a header-only file. */
    assert_int_equal(load_str(d, "cr.csv", "filename,dc.date\robjects/,1901\r",
                              &err),
                     VL_OK);
    assert_string_equal(dc_get(vl_descriptive_deposit_dc(d), "date", 0),
                        "1901");
    assert_int_equal(load_str(d, "h.csv", "filename,dc.title\r\n", &err), VL_OK);
    vl_descriptive_free(d);
}

static void test_csv_refused(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"name,dc.title\nobjects/,T\n",
         "bad.csv: not XML, and as CSV its header has no 'filename' column"},
        {"filename,dc.titel\nobjects/,T\n",
         "bad.csv: row 1: column 'dc.titel' is not a Dublin Core element"},
        {"filename,filename\n", "bad.csv: row 1: two 'filename' columns"},
        {"filename,dc.title\n/etc/passwd,T\n",
         "bad.csv: row 2: filename '/etc/passwd' is absolute"},
        {"filename,dc.title\nobjects/../../x,T\n",
         "bad.csv: row 2: filename 'objects/../../x' contains '..'"},
        {"filename,dc.title\na/..,T\n", "contains '..'"},
        {"filename,dc.title\na//b,T\n", "bad.csv: row 2: filename 'a//b'"},
        {"filename,dc.title\n,T\n", "bad.csv: row 2: empty filename"},
        {"filename,dc.title\nx,T,extra\n",
         "bad.csv: row 2 (line 2): 3 fields but the header has 2"},
        {"filename,dc.title\nx,\"T\"z\n", "bad.csv:2: text after a closing quote"},
        {"filename,dc.title\n\nx,\"T\nmore\n",
         "bad.csv:3: a quoted field starts here and is never closed"},
        {"filename,dc.title\nx,\xff\n", "bad.csv:2: not valid UTF-8"},
        {"filename,dc.title\nx,a\x01z\n",
         "bad.csv: row 2: dc.title: value contains a control character"},
    };
    vl_descriptive *d = vl_descriptive_new();
    vl_error err;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (load_str(d, "bad.csv", cases[i].text, &err) != VL_EINPUT)
            fail_msg("case %zu accepted", i);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].msg,
                     err.msg);
    }
    /* NUL bytes cannot be C strings. */
    assert_int_equal(vl_descriptive_load_memory(d, "nul.csv",
                                                "filename\nx\0y\n", 12, &err),
                     VL_EINPUT);
    assert_contains(err.msg, "NUL");
    /* A field over 1 MiB. */
    {
        size_t n = ((size_t)1 << 20) + 16, k;
        char *big = malloc(n + 32);
        assert_non_null(big);
        k = (size_t)sprintf(big, "filename,dc.title\nx,");
        memset(big + k, 'a', n);
        big[k + n] = '\0';
        assert_int_equal(load_str(d, "big.csv", big, &err), VL_EINPUT);
        assert_contains(err.msg, "longer than 1 MiB");
        free(big);
    }
    /* A failure in a late row stores nothing from earlier rows. */
    assert_int_equal(load_str(d, "late.csv",
                              "filename,dc.title\nobjects/,T\nx,U\n/y,V\n",
                              &err),
                     VL_EINPUT);
    assert_true(vl_dc_is_empty(vl_descriptive_deposit_dc(d)));
    assert_int_equal(vl_descriptive_file_count(d), 0);
    vl_descriptive_free(d);
}

/* ---- bag-info.txt ------------------------------------------------------------ */

static void test_bag_info(void **state)
{
    static const char *const in[][2] = {
        {"Source-Organization", "Example Historical Society"},
        {"Organization-Address", "1 Main St"},
        {"Contact-Name", "Ann Archivist"},
        {"Contact-Email", "ann@example.org"},
        {"Contact-Phone", "+1 555 0100"},
        {"External-Description", "Letters of Ann Lee"},
        {"External-Identifier", "ark:/12345/ann"},
        {"Internal-Sender-Identifier", "acc-2024-01"},
        {"Internal-Sender-Description", "Accession of 2024"},
        {"bagging-date", "2024-01-02"},
        {"Bag-Group-Identifier", "shakers"},
        {"Title", "Letters"},
        {"Creator", "Lee, Ann"},
        {"Author", "Meacham, Joseph"},
        {"Payload-Oxum", "12.3"},
        {"Bag-Size", "12 B"},
        {"Bag-Count", "1 of 1"},
        {"BagIt-Profile-Identifier", "https://example.org/profile.json"},
        {"X-Custom", "ignored"},
        {"Title", "   "},
    };
    vl_descriptive *d = vl_descriptive_new();
    vl_dc *dc;
    vl_error err;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof in / sizeof in[0]; i++)
        assert_int_equal(vl_descriptive_add_bag_info(d, in[i][0], in[i][1],
                                                     &err),
                         VL_OK);
    dc = vl_descriptive_deposit_dc(d);
    assert_string_equal(dc_get(dc, "publisher", 0),
                        "Example Historical Society");
    assert_string_equal(dc_get(dc, "contributor", 0), "Ann Archivist");
    assert_string_equal(dc_get(dc, "description", 0), "Letters of Ann Lee");
    assert_string_equal(dc_get(dc, "description", 1), "Accession of 2024");
    assert_string_equal(dc_get(dc, "identifier", 0), "ark:/12345/ann");
    assert_string_equal(dc_get(dc, "identifier", 1), "acc-2024-01");
    assert_string_equal(dc_get(dc, "date", 0), "2024-01-02");
    assert_string_equal(dc_get(dc, "relation", 0), "shakers");
    assert_string_equal(dc_get(dc, "title", 0), "Letters");
    assert_string_equal(dc_get(dc, "creator", 0), "Lee, Ann");
    assert_string_equal(dc_get(dc, "creator", 1), "Meacham, Joseph");
    assert_int_equal(vl_dc_count(dc), 11);

    assert_int_equal(vl_descriptive_add_bag_info(d, "Title", "a\x02", &err),
                     VL_EINPUT);
    assert_contains(err.msg, "bag-info.txt: Title:");
    vl_descriptive_free(d);
}

/* ---- safe XML ------------------------------------------------------------------ */

static void test_xml_hostile(void **state)
{
    static const struct {
        const char *file;
        const char *msg;
    } cases[] = {
        {"billion-laughs.xml",
         "billion-laughs.xml:3: entity declarations are not accepted in "
         "metadata (billion laughs / external entity protection)"},
        {"external-entity.xml",
         "external-entity.xml:3: entity declarations are not accepted in "
         "metadata (billion laughs / external entity protection)"},
        {"external-dtd.xml",
         "external-dtd.xml:2: a DOCTYPE with an external DTD is not accepted"},
        {"malformed.xml", "malformed.xml:4: Opening and ending tag mismatch"},
    };
    vl_descriptive *d = vl_descriptive_new();
    vl_error err;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = fixture(cases[i].file);
        if (vl_descriptive_load(d, path, &err) != VL_EINPUT)
            fail_msg("%s accepted", cases[i].file);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("\"%s\" not in \"%s\"", cases[i].msg, err.msg);
        /* The message names the file as given. */
        assert_true(strncmp(err.msg, path, strlen(path)) == 0);
    }
    assert_true(vl_dc_is_empty(vl_descriptive_deposit_dc(d)));
    assert_null(vl_descriptive_mods_xml(d));
    vl_descriptive_free(d);
}

static void test_xml_safe_reader(void **state)
{
    static const char good[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE r [ <!ELEMENT r ANY> ]>\n"
        "<r a=\"&amp;&#65;\">&lt;ok&gt;</r>";
    static const char param[] =
        "<!DOCTYPE r [ <!ENTITY % p \"<!ENTITY x 'y'>\"> %p; ]><r>&x;</r>";
    static const char undeclared[] = "<r>\n&x;</r>";
    static const char unparsed[] =
        "<!DOCTYPE r [ <!NOTATION n SYSTEM \"n\">"
        "<!ENTITY u SYSTEM \"file:///etc/passwd\" NDATA n> ]><r/>";
    static const char nested_attr[] =
        "<!DOCTYPE r [ <!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;\"> ]>"
        "<r x=\"&b;&b;\"/>";
    void *doc = NULL;
    vl_error err;
    (void)state;

    assert_int_equal(vl_xml_read_safe(good, sizeof good - 1, "good.xml", &doc,
                                      &err),
                     VL_OK);
    assert_non_null(doc);
    vl_xml_free(doc);
    doc = NULL;
    assert_int_equal(vl_xml_read_safe(param, sizeof param - 1, "p.xml", &doc,
                                      &err),
                     VL_EINPUT);
    assert_contains(err.msg, "p.xml:1: entity declarations are not accepted");
    assert_null(doc);
    assert_int_equal(vl_xml_read_safe(undeclared, sizeof undeclared - 1,
                                      "u.xml", &doc, &err),
                     VL_EINPUT);
    assert_contains(err.msg, "u.xml:2: ");
    assert_int_equal(vl_xml_read_safe(unparsed, sizeof unparsed - 1, "n.xml",
                                      &doc, &err),
                     VL_EINPUT);
    assert_contains(err.msg, "entity declarations are not accepted");
    assert_int_equal(vl_xml_read_safe(nested_attr, sizeof nested_attr - 1,
                                      "a.xml", &doc, &err),
                     VL_EINPUT);
    assert_contains(err.msg, "entity declarations are not accepted");
    assert_int_equal(vl_xml_read_safe("", 0, "e.xml", &doc, &err), VL_EINPUT);
    assert_contains(err.msg, "e.xml");
    assert_int_equal(vl_xml_read_safe("<a></b>", 7, "m.xml", &doc, &err),
                     VL_EINPUT);
    assert_contains(err.msg, "m.xml:1: ");
    assert_null(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dc_elements),
        cmocka_unit_test(test_dc_assignment),
        cmocka_unit_test(test_dc_xml_load),
        cmocka_unit_test(test_dc_xml_refused),
        cmocka_unit_test(test_mods_load),
        cmocka_unit_test(test_mods_to_dc),
        cmocka_unit_test(test_dc_to_mods),
        cmocka_unit_test(test_csv_fixture),
        cmocka_unit_test(test_csv_shapes),
        cmocka_unit_test(test_csv_refused),
        cmocka_unit_test(test_bag_info),
        cmocka_unit_test(test_xml_hostile),
        cmocka_unit_test(test_xml_safe_reader),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    xmlCatalogCleanup();
    xmlCleanupParser();
    return rc;
}
