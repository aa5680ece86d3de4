/* METS writer and offline schema validation.  Every METS written here is
 * validated against the official METS, PREMIS, MODS and DC schemas in
 * $VELLUM_SHARED/schemas (mets-bundle.xsd with the catalog); a missing
 * schemas folder is a failure, not a skip.  Structure is checked with
 * XPath; a 100,000-file source checks size, speed and memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/uri.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

/* A white-box test: it uses metadata/'s private descriptive_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_METADATA_INTERNAL
#include "descriptive_internal.h"
#include "vl_metadata.h"

#define OBJ_ID "urn:vellum:test:letters & <more>"

static char g_schemas[4096];
static char g_tmp[4096];
static char g_fixtures[4096];
static char g_setup_problem[8192];   /* reported by every test */

/* Without the schemas every test fails with the reason (never skips). */
static void need_env(void)
{
    if (g_setup_problem[0])
        fail_msg("%s", g_setup_problem);
}

/* ---- a synthetic source over an array ---------------------------------- */

typedef struct arr_src {
    vl_mets_file *files;
    size_t n, pos;
    vl_event_row *events;
    size_t nevents, epos;
    int fail_at;             /* next() returns -1 at this position (1-based) */
} arr_src;

static void arr_rewind(void *arg) { ((arr_src *)arg)->pos = 0; }

static int arr_next(void *arg, vl_mets_file *out)
{
    arr_src *s = arg;
    if (s->fail_at && s->pos + 1 == (size_t)s->fail_at)
        return -1;
    if (s->pos >= s->n)
        return 0;
    *out = s->files[s->pos++];
    return 1;
}

static void arr_rewind_events(void *arg) { ((arr_src *)arg)->epos = 0; }

static int arr_next_event(void *arg, vl_event_row *out)
{
    arr_src *s = arg;
    if (s->epos >= s->nevents)
        return 0;
    *out = s->events[s->epos++];
    return 1;
}

/* ---- a generated source: n files, nothing stored per file -------------- */

typedef struct gen_src {
    size_t n, pos;
    int all_algs;            /* every algorithm vellum computes */
    char path[128];
    char sha512[129], sha256[65], md5[33], sha1[41], b2[129];
    vl_event_row events[4];
    size_t epos;
} gen_src;

static void gen_rewind(void *arg) { ((gen_src *)arg)->pos = 0; }

static void fake_hex(char *out, size_t len, size_t seed)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        out[i] = hex[x & 15];
    }
    out[len] = '\0';
}

static int gen_next(void *arg, vl_mets_file *out)
{
    gen_src *s = arg;
    if (s->pos >= s->n)
        return 0;
    size_t i = s->pos++;
    /* 100 files a folder, two levels: realistic path lengths */
    snprintf(s->path, sizeof s->path, "data/series-%02zu/box-%04zu/item-%06zu.txt",
             i / 10000, i / 100, i);
    fake_hex(s->sha512, 128, i);
    fake_hex(s->sha256, 64, i + 7);
    memset(out, 0, sizeof *out);
    out->logical = s->path;
    out->size = 1000 + i % 9000;
    out->sha512 = s->sha512;
    out->digests[VL_SHA512] = s->sha512;
    out->digests[VL_SHA256] = s->sha256;
    if (s->all_algs) {
        fake_hex(s->md5, 32, i + 1);
        fake_hex(s->sha1, 40, i + 2);
        fake_hex(s->b2, 128, i + 3);
        out->digests[VL_MD5] = s->md5;
        out->digests[VL_SHA1] = s->sha1;
        out->digests[VL_BLAKE2B512] = s->b2;
    }
    out->mime = "text/plain";
    out->format_name = "Plain Text File";
    out->puid = i % 3 ? "x-fmt/111" : NULL;
    return 1;
}

static void gen_rewind_events(void *arg) { ((gen_src *)arg)->epos = 0; }

static int gen_next_event(void *arg, vl_event_row *out)
{
    gen_src *s = arg;
    if (s->epos >= 4)
        return 0;
    *out = s->events[s->epos++];
    return 1;
}

static const vl_mets_agent g_agents[] = {
    {"vellum 0.1.0", "software", "CREATOR"},
    {"OpenSSL 3.0.2 15 Mar 2022", "software", NULL},
    {"libmagic 5.41", "software", NULL},
    {"libarchive 3.6.0", "software", NULL},
    {"Ann Archivist <mailto:ann@example.org>", "person", "ARCHIVIST"},
};

static void gen_init(gen_src *g, size_t n, vl_mets_source *src)
{
    static const char *ids[4] = {
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        "urn:uuid:00000000-0000-4000-8000-000000000002",
        "urn:uuid:00000000-0000-4000-8000-000000000003",
        "urn:uuid:00000000-0000-4000-8000-000000000004"};
    static const char *types[4] = {"message digest calculation",
        "format identification", "format identification", "ingestion"};
    memset(g, 0, sizeof *g);
    g->n = n;
    for (int i = 0; i < 4; i++) {
        g->events[i].id = ids[i];
        g->events[i].type = types[i];
        g->events[i].datetime = "2026-01-02T03:04:05Z";
        g->events[i].outcome = "success";
        g->events[i].detail = "done for every file";
        g->events[i].object_id = "gen";
        g->events[i].version = 1;
        g->events[i].files_json = "[]";
        g->events[i].agents_json = "[\"vellum 0.1.0\", \"OpenSSL 3.0.2 15 Mar 2022\"]";
    }
    g->events[2].outcome = "warning";
    g->events[2].files_json =
        "[\"data/series-00/box-0000/item-000001.txt\"]";
    memset(src, 0, sizeof *src);
    src->object_id = "gen";
    src->create_date = "2026-01-02T03:04:05Z";
    src->vellum_version = "0.1.0";
    src->rewind = gen_rewind;
    src->next = gen_next;
    src->arg = g;
    src->rewind_events = gen_rewind_events;
    src->next_event = gen_next_event;
    src->event_arg = g;
    src->agents = g_agents;
    src->nagents = sizeof g_agents / sizeof g_agents[0];
}

/* ---- helpers ------------------------------------------------------------ */

typedef struct msgs {
    char text[8192];
    size_t n;
} msgs;

static void collect(void *arg, const char *m)
{
    msgs *s = arg;
    s->n++;
    size_t used = strlen(s->text);
    snprintf(s->text + used, sizeof s->text - used, "%s\n", m);
}

static void must_validate(const char *path)
{
    msgs ms = {{0}, 0};
    vl_error err = {0};
    int rc = vl_schema_validate_mets(g_schemas, path, collect, &ms, &err);
    if (rc != VL_OK)
        fail_msg("%s not schema-valid (rc %d): %s%s", path, rc, err.msg, ms.text);
}

static char *tmp_path(const char *name)
{
    return vl_path_join(g_tmp, name);
}

static xmlXPathContextPtr xp_new(xmlDocPtr doc)
{
    xmlXPathContextPtr x = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(x, BAD_CAST "mets", BAD_CAST "http://www.loc.gov/METS/");
    xmlXPathRegisterNs(x, BAD_CAST "premis", BAD_CAST "http://www.loc.gov/premis/v3");
    xmlXPathRegisterNs(x, BAD_CAST "mods", BAD_CAST "http://www.loc.gov/mods/v3");
    xmlXPathRegisterNs(x, BAD_CAST "oai_dc", BAD_CAST "http://www.openarchives.org/OAI/2.0/oai_dc/");
    xmlXPathRegisterNs(x, BAD_CAST "dc", BAD_CAST "http://purl.org/dc/elements/1.1/");
    xmlXPathRegisterNs(x, BAD_CAST "xlink", BAD_CAST "http://www.w3.org/1999/xlink");
    return x;
}

static double xp_num(xmlXPathContextPtr x, const char *expr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, x);
    assert_non_null(o);
    double v = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    return v;
}

/* String value of an expression (malloc'd). */
static char *xp_str(xmlXPathContextPtr x, const char *expr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, x);
    assert_non_null(o);
    xmlChar *s = xmlXPathCastToString(o);
    xmlXPathFreeObject(o);
    char *r = strdup((const char *)s);
    xmlFree(s);
    return r;
}

static void expect_str(xmlXPathContextPtr x, const char *expr, const char *want)
{
    char *got = xp_str(x, expr);
    if (strcmp(got, want))
        fail_msg("%s: got '%s', want '%s'", expr, got, want);
    free(got);
}

static void expect_num(xmlXPathContextPtr x, const char *expr, double want)
{
    double got = xp_num(x, expr);
    if (got != want)
        fail_msg("%s: got %g, want %g", expr, got, want);
}

/* ---- the small, hostile source ----------------------------------------- */

static const char *const g_paths[] = {
    "data/%41 odd.txt",
    "data/a & b/<tag>.txt",
    "data/a & b/sub dir/deep/x.bin",
    "data/a & b/sub dir/y.txt",
    "data/letters/one.txt",
    "data/letters/two.pdf",
    "data/photos/z.png",
    "data/photos/\xc3\xbcn\xc3\xaf" "code \xe5\x86\x99\xe7\x9c\x9f.jpg",
    "data/readme.txt",
    "data/zeta/empty",
};
#define NFILES (sizeof g_paths / sizeof g_paths[0])

static vl_mets_file g_files[NFILES];
static char g_sha512[NFILES][129], g_md5[NFILES][33], g_b2[NFILES][129];

static vl_event_row g_events[] = {
    {1, "urn:uuid:11111111-1111-4111-8111-111111111111", "message digest calculation",
     "2026-01-02T03:04:05Z", "success", "Computed sha512, md5, blake2b-512", NULL,
     OBJ_ID, 1, "[]", "[\"vellum 0.1.0\", \"OpenSSL 3.0.2 15 Mar 2022\"]"},
    {2, "urn:uuid:22222222-2222-4222-8222-222222222222", "format identification",
     "2026-01-02T03:04:06Z", "success", "Identified 10 files", NULL,
     OBJ_ID, 1, "[]", "[\"vellum 0.1.0\", \"libmagic 5.41\"]"},
    {3, "urn:uuid:33333333-3333-4333-8333-333333333333", "format identification",
     "2026-01-02T03:04:06Z", "warning", "Format not identified (application/octet-stream)",
     "2 files <unknown> & unnamed", OBJ_ID, 1,
     "[\"data/a & b/sub dir/deep/x.bin\", \"data/zeta/empty\"]",
     "[\"vellum 0.1.0\", \"libmagic 5.41\"]"},
    {4, "urn:uuid:44444444-4444-4444-8444-444444444444", "unpacking",
     "2026-01-02T03:04:07Z", "success", "Unpacked letters.zip", NULL,
     OBJ_ID, 1, "[]", "[\"vellum 0.1.0\", \"libarchive 3.6.0\", \"zipper 9\"]"},
    {5, "urn:uuid:55555555-5555-4555-8555-555555555555", "ingestion",
     "2026-01-02T03:04:08Z", "success", "Deposited by Ann", NULL,
     OBJ_ID, 1, "[]", "[\"vellum 0.1.0\", \"Ann Archivist <mailto:ann@example.org>\"]"},
};
#define NEVENTS (sizeof g_events / sizeof g_events[0])

static void small_files(void)
{
    for (size_t i = 0; i < NFILES; i++) {
        vl_mets_file *f = &g_files[i];
        memset(f, 0, sizeof *f);
        f->logical = g_paths[i];
        f->size = 100 * i;
        fake_hex(g_sha512[i], 128, i);
        fake_hex(g_md5[i], 32, i + 100);
        fake_hex(g_b2[i], 128, i + 200);
        f->sha512 = g_sha512[i];
        f->digests[VL_SHA512] = g_sha512[i];
        f->digests[VL_MD5] = g_md5[i];
        if (i % 2)
            f->digests[VL_BLAKE2B512] = g_b2[i];
        f->mime = "text/plain";
        f->format_name = "Plain Text File";
        f->puid = "x-fmt/111";
    }
    /* no PUID, no format name */
    g_files[2].mime = "application/octet-stream";
    g_files[2].format_name = NULL;
    g_files[2].puid = NULL;
    g_files[9].mime = NULL;
    g_files[9].format_name = NULL;
    g_files[9].puid = NULL;
    g_files[5].mime = "application/pdf";
    g_files[5].format_name = "Acrobat PDF 1.7 - Portable Document Format";
    g_files[5].format_version = "1.7";
    g_files[5].puid = "fmt/276";
    /* names as deposited, one of them not UTF-8 */
    g_files[4].original_name = "letters.zip/One.TXT";
    g_files[7].original_name = "z\xff\x01.png";
}

static vl_descriptive *make_desc(void)
{
    vl_descriptive *d = vl_descriptive_new();
    vl_error err = {0};
    char *csv = tmp_path("metadata.csv");
    assert_non_null(d);
    vl_dc *dc = vl_descriptive_deposit_dc(d);
    assert_int_equal(vl_dc_add(dc, "title", "Letters of Ann & <Bob>", &err), VL_OK);
    assert_int_equal(vl_dc_add(dc, "creator", "Ann \xc3\x85str\xc3\xb6" "m", &err), VL_OK);
    assert_int_equal(vl_dc_add(dc, "date", "1901", &err), VL_OK);
    assert_int_equal(vl_dc_add(dc, "identifier", OBJ_ID, &err), VL_OK);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs("filename,dc.title\n"
          "data/letters/one.txt,The first letter\n"
          "data/readme.txt,Read me & weep\n", f);
    fclose(f);
    if (vl_descriptive_load(d, csv, &err) != VL_OK)
        fail_msg("vl_descriptive_load: %s", err.msg);
    free(csv);
    return d;
}

static void small_source(arr_src *a, vl_mets_source *src,
                         const vl_descriptive *d)
{
    small_files();
    memset(a, 0, sizeof *a);
    a->files = g_files;
    a->n = NFILES;
    a->events = g_events;
    a->nevents = NEVENTS;
    memset(src, 0, sizeof *src);
    src->object_id = OBJ_ID;
    src->create_date = "2026-01-02T03:04:08Z";
    src->vellum_version = "0.1.0";
    src->desc = d;
    src->rewind = arr_rewind;
    src->next = arr_next;
    src->arg = a;
    src->rewind_events = arr_rewind_events;
    src->next_event = arr_next_event;
    src->event_arg = a;
    src->agents = g_agents;
    src->nagents = sizeof g_agents / sizeof g_agents[0];
}

/* Every IDREF-like attribute resolves to an existing ID. */
static void check_refs(xmlXPathContextPtr x, const char *attr_expr,
                       const char *id_attr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST attr_expr, x);
    assert_non_null(o);
    int n = o->nodesetval ? o->nodesetval->nodeNr : 0;
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
        char *save = NULL, *copy = strdup((const char *)v);
        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
            char q[256];
            snprintf(q, sizeof q, "count(//*[@%s='%s'])", id_attr, t);
            if (xp_num(x, q) != 1)
                fail_msg("%s value %s does not resolve to one @%s", attr_expr,
                         t, id_attr);
        }
        free(copy);
        xmlFree(v);
    }
    xmlXPathFreeObject(o);
}

/* For each fptr: the LABELs of its divs up to the root spell the logical
 * path, and that is the path its file's FLocat points to. */
static void check_struct(xmlXPathContextPtr x)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST "//mets:fptr", x);
    int n = o->nodesetval ? o->nodesetval->nodeNr : 0;
    assert_int_equal(n, NFILES);
    for (int i = 0; i < n; i++) {
        xmlNodePtr fp = o->nodesetval->nodeTab[i];
        xmlChar *fid = xmlGetProp(fp, BAD_CAST "FILEID");
        char *path = strdup("");
        for (xmlNodePtr d = fp->parent; d && xmlStrcmp(d->name, BAD_CAST "structMap");
             d = d->parent) {
            xmlChar *type = xmlGetProp(d, BAD_CAST "TYPE");
            xmlChar *label = xmlGetProp(d, BAD_CAST "LABEL");
            int root = !xmlStrcmp(type, BAD_CAST "Object");
            if (root) {
                assert_string_equal((const char *)label, OBJ_ID);
            } else {
                char *longer = vl_asprintf("%s%s%s", (const char *)label,
                                           path[0] ? "/" : "", path);
                free(path);
                path = longer;
            }
            xmlFree(type);
            xmlFree(label);
        }
        char q[256];
        snprintf(q, sizeof q, "string(//mets:file[@ID='%s']/mets:FLocat/@xlink:href)",
                 (const char *)fid);
        char *h = xp_str(x, q);
        char *un = xmlURIUnescapeString(h, 0, NULL);
        assert_string_equal(un, path);
        /* and the path is one of ours */
        int found = 0;
        for (size_t k = 0; k < NFILES; k++)
            found |= !strcmp(g_paths[k], path);
        assert_true(found);
        xmlFree(un);
        free(h);
        free(path);
        xmlFree(fid);
    }
    xmlXPathFreeObject(o);
}

static void test_small(void **state)
{
    need_env();
    arr_src a;
    vl_mets_source src;
    vl_descriptive *d = make_desc();
    char *path = tmp_path("METS.xml");
    vl_error err = {0};

    small_source(&a, &src, d);
    if (vl_mets_write(&src, path, &err) != VL_OK)
        fail_msg("vl_mets_write: %s", err.msg);
    must_validate(path);

    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlXPathContextPtr x = xp_new(doc);
    expect_str(x, "string(/mets:mets/@OBJID)", OBJ_ID);
    expect_str(x, "string(/mets:mets/mets:metsHdr/@CREATEDATE)", "2026-01-02T03:04:08Z");
    expect_str(x, "string(/mets:mets/mets:metsHdr/mets:agent[@ROLE='CREATOR']/mets:name)",
               "vellum 0.1.0");
    expect_num(x, "count(/mets:mets/mets:metsHdr/mets:agent[@ROLE='CREATOR'])", 1);
    expect_str(x, "string(/mets:mets/mets:metsHdr/mets:agent[@ROLE='ARCHIVIST' and @TYPE='INDIVIDUAL']/mets:name)",
               "Ann Archivist <mailto:ann@example.org>");
    /* fileSec */
    expect_num(x, "count(//mets:fileGrp[@USE='original']/mets:file)", NFILES);
    expect_num(x, "count(//mets:file[@CHECKSUMTYPE='SHA-512'])", NFILES);
    expect_str(x, "string(//mets:file[@ID='file-000001']/@CHECKSUM)", g_sha512[0]);
    expect_str(x, "string(//mets:file[@ID='file-000001']/@SIZE)", "0");
    expect_str(x, "string(//mets:file[@ID='file-000006']/@MIMETYPE)", "application/pdf");
    expect_num(x, "count(//mets:file[@ID='file-000010']/@MIMETYPE)", 0);
    expect_str(x, "string(//mets:file[@ID='file-000001']/mets:FLocat/@xlink:href)",
               "data/%2541%20odd.txt");
    expect_str(x, "string(//mets:file[@ID='file-000002']/mets:FLocat/@xlink:href)",
               "data/a%20%26%20b/%3Ctag%3E.txt");
    expect_str(x, "string(//mets:file[@ID='file-000008']/mets:FLocat/@xlink:href)",
               "data/photos/%C3%BCn%C3%AFcode%20%E5%86%99%E7%9C%9F.jpg");
    /* IDs are generated, never names */
    expect_num(x, "count(//*[@ID and not(starts-with(@ID,'file-') or "
                  "starts-with(@ID,'techMD-') or starts-with(@ID,'amdSec-') or "
                  "starts-with(@ID,'dmd-') or starts-with(@ID,'digiprov-'))])", 0);
    /* links resolve */
    check_refs(x, "//@ADMID", "ID");
    check_refs(x, "//@DMDID", "ID");
    check_refs(x, "//@FILEID", "ID");
    check_refs(x, "//@LinkAgentXmlID", "xmlID");
    /* structMap: nested folders, each once */
    check_struct(x);
    expect_num(x, "count(//mets:structMap[@TYPE='physical'])", 1);
    expect_num(x, "count(//mets:div[@TYPE='Directory' and @LABEL='a & b'])", 1);
    expect_num(x, "count(//mets:div[@TYPE='Directory' and @LABEL='data'])", 1);
    expect_num(x, "count(//mets:div[@LABEL='sub dir']/mets:div[@LABEL='deep']/"
                  "mets:div[@TYPE='Item' and @LABEL='x.bin'])", 1);
    expect_num(x, "count(//mets:div[@TYPE='Item'])", NFILES);
    expect_num(x, "count(//mets:div[@TYPE='Directory'])", 7);
    /* techMD: PREMIS object per file */
    expect_num(x, "count(//mets:techMD/mets:mdWrap[@MDTYPE='PREMIS:OBJECT']/"
                  "mets:xmlData/premis:object)", NFILES);
    expect_str(x, "string(//mets:techMD[@ID='techMD-000006']//premis:formatRegistryKey)",
               "fmt/276");
    expect_str(x, "string(//mets:techMD[@ID='techMD-000006']//premis:formatVersion)",
               "1.7");
    expect_num(x, "count(//mets:techMD[@ID='techMD-000003']//premis:formatRegistry)", 0);
    expect_str(x, "string(//mets:techMD[@ID='techMD-000003']//premis:formatName)",
               "application/octet-stream");
    expect_str(x, "string(//mets:techMD[@ID='techMD-000010']//premis:formatName)", "unknown");
    expect_num(x, "count(//mets:techMD[@ID='techMD-000002']//premis:fixity)", 3);
    expect_num(x, "count(//mets:techMD[@ID='techMD-000001']//premis:fixity)", 2);
    expect_str(x, "string(//mets:techMD[@ID='techMD-000002']//premis:fixity"
                  "[premis:messageDigestAlgorithm='MD5']/premis:messageDigest)", g_md5[1]);
    expect_str(x, "string(//mets:techMD[@ID='techMD-000005']//premis:originalName)",
               "letters.zip/One.TXT");
    expect_str(x, "string(//mets:techMD[@ID='techMD-000008']//premis:originalName)",
               "z\\xff\\x01.png");
    expect_str(x, "string(//mets:techMD[@ID='techMD-000002']//premis:objectIdentifierValue)",
               "data/a & b/<tag>.txt");
    expect_str(x, "string(//mets:file[@ID='file-000004']/@ADMID)", "techMD-000004");
    /* events: each once, in one digiprovMD */
    expect_num(x, "count(//mets:digiprovMD)", 2);
    expect_num(x, "count(//premis:event)", NEVENTS);
    for (size_t i = 0; i < NEVENTS; i++) {
        char q[256];
        snprintf(q, sizeof q, "count(//premis:event[premis:eventIdentifier/"
                 "premis:eventIdentifierValue='%s'])", g_events[i].id);
        expect_num(x, q, 1);
    }
    /* an event without files links the object, one with files each file */
    expect_str(x, "string(//premis:event[premis:eventType='ingestion']/"
                  "premis:linkingObjectIdentifier/premis:linkingObjectIdentifierValue)", OBJ_ID);
    expect_num(x, "count(//premis:event[premis:eventType='ingestion']/"
                  "premis:linkingObjectIdentifier)", 1);
    expect_num(x, "count(//premis:event[premis:eventOutcomeInformation/"
                  "premis:eventOutcome='warning']/premis:linkingObjectIdentifier)", 2);
    expect_num(x, "count(//premis:event/premis:linkingObjectIdentifier/"
                  "premis:linkingObjectIdentifierValue[. = //premis:objectIdentifierValue])", 2);
    expect_str(x, "string(//premis:event[premis:eventOutcomeInformation/premis:eventOutcome="
                  "'warning']//premis:eventOutcomeDetailNote)", "2 files <unknown> & unnamed");
    /* agents once each: five given, plus "zipper 9" named by an event */
    expect_num(x, "count(//premis:agent)", 6);
    expect_num(x, "count(//premis:agent[premis:agentName='vellum 0.1.0'])", 1);
    expect_num(x, "count(//premis:agent[premis:agentName='zipper 9' and premis:agentType='software'])", 1);
    expect_num(x, "count(//premis:agent[premis:agentType='person'])", 1);
    expect_num(x, "count(//premis:event[premis:eventType='unpacking']/premis:linkingAgentIdentifier)", 3);
    /* descriptive: deposit DC + MODS (crosswalked), per-file DC */
    expect_str(x, "string(//mets:dmdSec[@ID='dmd-dc']/mets:mdWrap[@MDTYPE='DC']//dc:title)",
               "Letters of Ann & <Bob>");
    expect_num(x, "count(//mets:dmdSec[@ID='dmd-mods']/mets:mdWrap[@MDTYPE='MODS']/"
                  "mets:xmlData/mods:mods)", 1);
    expect_num(x, "count(//mets:dmdSec[@ID='dmd-mods']//mods:title)", 1);
    expect_str(x, "string(//mets:structMap/mets:div/@DMDID)", "dmd-dc dmd-mods");
    expect_str(x, "string(//mets:div[@LABEL='one.txt']/@DMDID)", "dmd-file-000005");
    expect_str(x, "string(//mets:dmdSec[@ID='dmd-file-000005']//dc:title)", "The first letter");
    expect_str(x, "string(//mets:dmdSec[@ID='dmd-file-000009']//dc:title)", "Read me & weep");
    expect_num(x, "count(//mets:dmdSec)", 4);
    xmlXPathFreeContext(x);
    xmlFreeDoc(doc);

    /* written atomically: no temp file left beside it */
    char *tmp = vl_asprintf("%s.tmp-%ld", path, (long)getpid());
    assert_false(vl_fs_exists(tmp));
    free(tmp);
    free(path);
    vl_descriptive_free(d);
}

/* MODS given by the user is kept (namespaces remapped), DC is derived. */
static void test_given_mods(void **state)
{
    need_env();
    arr_src a;
    vl_mets_source src;
    vl_descriptive *d = vl_descriptive_new();
    char *mods = tmp_path("mods.xml"), *path = tmp_path("METS-mods.xml");
    vl_error err = {0};
    FILE *f = fopen(mods, "w");
    assert_non_null(f);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<mods xmlns=\"http://www.loc.gov/mods/v3\" version=\"3.8\">\n"
          "  <titleInfo><title>Given MODS title</title></titleInfo>\n"
          "  <name type=\"personal\"><namePart>Ann</namePart></name>\n"
          "  <note>unique-mods-note</note>\n"
          "  <extension><x:thing xmlns:x=\"urn:example:x\" x:a=\"1\">y</x:thing></extension>\n"
          "</mods>\n", f);
    fclose(f);
    if (vl_descriptive_load(d, mods, &err) != VL_OK)
        fail_msg("vl_descriptive_load MODS: %s", err.msg);
    small_source(&a, &src, d);
    if (vl_mets_write(&src, path, &err) != VL_OK)
        fail_msg("vl_mets_write: %s", err.msg);
    must_validate(path);
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlXPathContextPtr x = xp_new(doc);
    expect_str(x, "string(//mets:dmdSec[@ID='dmd-mods']//mods:note)", "unique-mods-note");
    expect_str(x, "string(//mets:dmdSec[@ID='dmd-mods']//*[local-name()='thing' and "
                  "namespace-uri()='urn:example:x']/@*[local-name()='a'])", "1");
    xmlXPathFreeContext(x);
    xmlFreeDoc(doc);
    unlink(path);
    unlink(mods);
    free(path);
    free(mods);
    vl_descriptive_free(d);
}

/* No descriptive metadata, no events, no files: still valid. */
static void test_minimal(void **state)
{
    need_env();
    arr_src a;
    vl_mets_source src;
    char *path = tmp_path("METS-min.xml");
    vl_error err = {0};
    small_source(&a, &src, NULL);
    a.n = 0;
    a.nevents = 0;
    src.agents = NULL;
    src.nagents = 0;
    if (vl_mets_write(&src, path, &err) != VL_OK)
        fail_msg("vl_mets_write: %s", err.msg);
    must_validate(path);
    unlink(path);
    free(path);
}

static void test_errors(void **state)
{
    need_env();
    arr_src a;
    vl_mets_source src;
    char *path = tmp_path("METS-err.xml");
    vl_error err = {0};

    /* the source fails: nothing is left behind */
    small_source(&a, &src, NULL);
    a.fail_at = 4;
    assert_int_equal(vl_mets_write(&src, path, &err), VL_ESYS);
    assert_false(vl_fs_exists(path));
    char *tmp = vl_asprintf("%s.tmp-%ld", path, (long)getpid());
    assert_false(vl_fs_exists(tmp));
    free(tmp);

    /* files out of order are refused */
    small_source(&a, &src, NULL);
    vl_mets_file swap = g_files[3];
    g_files[3] = g_files[4];
    g_files[4] = swap;
    assert_int_equal(vl_mets_write(&src, path, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "order"));
    assert_false(vl_fs_exists(path));

    /* unwritable place */
    small_source(&a, &src, NULL);
    assert_int_equal(vl_mets_write(&src, "/nonexistent-dir/METS.xml", &err), VL_ESYS);
    free(path);
}

/* Invalid documents are reported with file and line. */
static void test_invalid_reported(void **state)
{
    need_env();
    struct { const char *file; const char *needle; } cases[] = {
        {"bad-premis-size.xml", "bad-premis-size.xml:24: "},
        {"bad-checksumtype.xml", "bad-checksumtype.xml:12: "},
        {"not-well-formed.xml", "not-well-formed.xml:7: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = vl_path_join(g_fixtures, cases[i].file);
        msgs ms = {{0}, 0};
        vl_error err = {0};
        int rc = vl_schema_validate_mets(g_schemas, p, collect, &ms, &err);
        if (rc != VL_FINDING || !strstr(ms.text, cases[i].needle))
            fail_msg("%s: rc %d (%s), messages:\n%s", cases[i].file, rc,
                     err.msg, ms.text);
        free(p);
    }
    /* the official valid example passes */
    char *ex = vl_path_join(g_schemas, "examples/mets-with-mods-premis-dc.xml");
    must_validate(ex);
    free(ex);
}

static void test_schema_errors(void **state)
{
    need_env();
    vl_error err = {0};
    msgs ms = {{0}, 0};
    char *ex = vl_path_join(g_schemas, "examples/mets-minimal.xml");
    /* no schemas there */
    assert_int_equal(vl_schema_validate_mets(g_tmp, ex, collect, &ms, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, g_tmp));
    /* a folder with the schemas but no catalog: nothing fetched, refused */
    char *dir = tmp_path("nocat");
    assert_int_equal(vl_fs_mkdirs(dir, &err), VL_OK);
    char *src = vl_path_join(g_schemas, "mets.xsd"), *dst = vl_path_join(dir, "mets.xsd");
    assert_int_equal(vl_fs_copy_file(src, dst, &err), VL_OK);
    assert_int_equal(vl_schema_validate_mets(dir, ex, collect, &ms, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "xlink.xsd"));
    /* missing document */
    assert_int_equal(vl_schema_validate_mets(g_schemas, "/nonexistent/METS.xml",
                                             collect, &ms, &err), VL_ESYS);
    vl_fs_rmtree(dir, &err);
    free(src);
    free(dst);
    free(dir);
    free(ex);
}

static long maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The generated source at a size schema validation takes quickly. */
static void test_generated_valid(void **state)
{
    need_env();
    gen_src g;
    vl_mets_source src;
    char *path = tmp_path("METS-gen.xml");
    vl_error err = {0};
    gen_init(&g, 2000, &src);
    if (vl_mets_write(&src, path, &err) != VL_OK)
        fail_msg("vl_mets_write: %s", err.msg);
    must_validate(path);
    free(path);
}

static void test_100k(void **state)
{
    need_env();
    gen_src g;
    vl_mets_source src;
    char *path = tmp_path("METS-100k.xml");
    vl_error err = {0};
    struct stat st;
#ifdef __SANITIZE_ADDRESS__
    /* the size and memory checks are the plain build's (ASan's quarantine
     * hides the memory, see below); a fifth of it walks the same code */
    const size_t n = 20000;
#else
    const size_t n = 100000;
#endif

    gen_init(&g, n, &src);
    long rss0 = maxrss_kib();
    double t0 = now_s();
    if (vl_mets_write(&src, path, &err) != VL_OK)
        fail_msg("vl_mets_write: %s", err.msg);
    double secs = now_s() - t0;
    long rss1 = maxrss_kib();
    assert_int_equal(stat(path, &st), 0);
    double per_file = (double)st.st_size / (double)n;
    printf("# METS for %zu files: %lld bytes (%.0f bytes/file), %.2f s, "
           "peak RSS +%ld KiB\n", n, (long long)st.st_size, per_file, secs,
           rss1 - rss0);
    assert_true(per_file < 2048);
    /* secs is reported, never asserted: the result must not depend on how
     * loaded the machine is. */
    /* AddressSanitizer keeps up to 256 MiB of freed blocks in quarantine,
     * so peak RSS says nothing about the writer there; the plain build
     * checks it. */
#ifndef __SANITIZE_ADDRESS__
    assert_true(rss1 - rss0 < 64 * 1024);
#endif
    if (getenv("VELLUM_LONG")) {   /* streaming validation of all of it */
        t0 = now_s();
        must_validate(path);
        printf("# validated in %.2f s, peak RSS +%ld KiB\n", now_s() - t0,
               maxrss_kib() - rss0);
#ifndef __SANITIZE_ADDRESS__
        assert_true(maxrss_kib() - rss0 < 64 * 1024);
#endif
    }
    unlink(path);

    /* every algorithm at once: reported, the worst case for fixity */
    gen_init(&g, 10000, &src);
    g.all_algs = 1;
    if (vl_mets_write(&src, path, &err) != VL_OK)
        fail_msg("vl_mets_write: %s", err.msg);
    assert_int_equal(stat(path, &st), 0);
    printf("# with md5, sha1, sha256, sha512 and blake2b-512: %.0f bytes/file\n",
           (double)st.st_size / 10000.0);
    unlink(path);
    free(path);
}

static int setup(void **state)
{
    const char *shared = getenv("VELLUM_SHARED");
    char *t;
    if (!shared || !*shared) {
        snprintf(g_setup_problem, sizeof g_setup_problem, "VELLUM_SHARED is "
                 "not set: it must name the shared reference folder holding "
                 "schemas/ (make check sets it)");
        return 0;
    }
    snprintf(g_schemas, sizeof g_schemas, "%s/schemas", shared);
    t = vl_path_join(g_schemas, "catalog.xml");
    if (!vl_fs_exists(t))
        snprintf(g_setup_problem, sizeof g_setup_problem, "no schemas at %s "
                 "(VELLUM_SHARED=%s): catalog.xml is missing", g_schemas, shared);
    free(t);
    const char *tmpdir = getenv("TMPDIR");
    snprintf(g_tmp, sizeof g_tmp, "%s/vellum-mets-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(g_tmp)) {
        snprintf(g_setup_problem, sizeof g_setup_problem, "mkdtemp %s failed", g_tmp);
        g_tmp[0] = '\0';
        return 0;
    }
    /* tests/fixtures/mets: tests run from the repository root */
    const char *tests = getenv("VELLUM_TESTS");
    snprintf(g_fixtures, sizeof g_fixtures, "%s/fixtures/mets",
             tests && *tests ? tests : "tests");
    return 0;
}

static int teardown(void **state)
{
    vl_error err = {0};
    if (g_tmp[0] && getenv("VELLUM_TEST_KEEP"))
        fprintf(stderr, "kept %s\n", g_tmp);
    else if (g_tmp[0])
        vl_fs_rmtree(g_tmp, &err);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_100k),   /* first: its peak RSS is measured */
        cmocka_unit_test(test_small),
        cmocka_unit_test(test_given_mods),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_invalid_reported),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_generated_valid),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
