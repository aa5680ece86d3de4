/* Reading a METS back (metadata/mets_read.c) and exports
 * (metadata/export.c): what vl_mets_write writes comes back (formats,
 * original names, deposit DC, MODS, per-file DC); hostile or malformed
 * input is refused; exports through the library leave nothing behind on
 * refusal and check what they wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

/* A white-box test: it uses metadata/'s private descriptive_internal.h and
 * mets_private.h, and storage/'s catalog_private.h (to drop the catalog's
 * format rows), so it defines what those folders' own sources get from the
 * Makefile. */
#define VL_METADATA_INTERNAL
#define VL_STORAGE_INTERNAL
#include "catalog_private.h"
#include "descriptive_internal.h"
#include "mets_private.h"
#include "unit_files.h"
#include "vl_ingest.h"
#include "vl_metadata.h"

/* ---- a METS written from an array --------------------------------------- */

typedef struct arr {
    const vl_mets_file *f;
    size_t n, pos;
} arr;

static void arr_rewind(void *a) { ((arr *)a)->pos = 0; }

static int arr_next(void *a, vl_mets_file *out)
{
    arr *s = a;
    if (s->pos >= s->n)
        return 0;
    *out = s->f[s->pos++];
    return 1;
}

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
              "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static const vl_mets_file files[] = {
    {.logical = "data/a & b.txt", .size = 12, .sha512 = SHA_A,
     .mime = "text/plain", .format_name = "Plain Text File", .puid = "x-fmt/111",
     .original_name = "box/a & b.txt"},
    {.logical = "data/dir/scan 100%.pdf", .size = 99, .sha512 = SHA_B,
     .mime = "application/pdf", .format_name = "Acrobat PDF 1.4",
     .format_version = "1.4", .puid = "fmt/18"},
    {.logical = "data/dir/unknown.bin", .size = 3, .sha512 = SHA_B},
    {.logical = "data/z.txt", .size = 1, .sha512 = SHA_A, .mime = "text/plain"},
};

static void write_sample(const char *path, vl_descriptive *desc)
{
    arr a = {files, sizeof files / sizeof files[0], 0};
    vl_mets_source src;
    vl_error err = {0};
    memset(&src, 0, sizeof src);
    src.object_id = "urn:t:read";
    src.create_date = "2026-01-02T03:04:05Z";
    src.vellum_version = VL_VERSION;
    src.desc = desc;
    src.rewind = arr_rewind;
    src.next = arr_next;
    src.arg = &a;
    if (vl_mets_write(&src, path, &err) != VL_OK)
        fail_msg("vl_mets_write: %s", err.msg);
}

struct seen {
    char lines[8][512];
    size_t n;
};

static int on_file(void *arg, const vl_mets_file_info *f, vl_error *err)
{
    struct seen *s = arg;
    assert_true(s->n < 8);
    snprintf(s->lines[s->n++], sizeof s->lines[0], "%s|%llu|%s|%s|%s|%s|%s",
             f->logical, (unsigned long long)f->size, f->mime ? f->mime : "-",
             f->format_name ? f->format_name : "-",
             f->format_version ? f->format_version : "-",
             f->puid ? f->puid : "-", f->original_name ? f->original_name : "-");
    return VL_OK;
}

static void test_formats_come_back(void **state)
{
    char *dir = tmpdir(), *path = vl_path_join(dir, "METS.xml");
    struct seen s = {0};
    vl_error err = {0};
    write_sample(path, NULL);
    if (vl_mets_read_file(path, NULL, on_file, &s, &err) != VL_OK)
        fail_msg("read: %s", err.msg);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.lines[0], "data/a & b.txt|12|text/plain|Plain Text File|-|x-fmt/111|box/a & b.txt");
    assert_string_equal(s.lines[1], "data/dir/scan 100%.pdf|99|application/pdf|Acrobat PDF 1.4|1.4|fmt/18|-");
    /* "unknown" and a name that only repeats the MIME type are not names */
    assert_string_equal(s.lines[2], "data/dir/unknown.bin|3|-|-|-|-|-");
    assert_string_equal(s.lines[3], "data/z.txt|1|text/plain|-|-|-|-");
    vl_fs_rmtree(dir, NULL);
    free(path);
    free(dir);
}

static const char *dc_value(const vl_dc *dc, const char *element)
{
    for (size_t i = 0; dc && i < vl_dc_count(dc); i++) {
        const char *e, *v;
        vl_dc_entry(dc, i, &e, &v);
        if (!strcmp(e, element))
            return v;
    }
    return NULL;
}

static void test_descriptive_comes_back(void **state)
{
    char *dir = tmpdir(), *path = vl_path_join(dir, "METS.xml");
    char *csv = vl_path_join(dir, "metadata.csv");
    vl_descriptive *in = vl_descriptive_new(), *out = vl_descriptive_new();
    vl_error err = {0};
    const vl_dc *fdc;

    put(dir, "metadata.csv",
        "filename,dc.title,dc.description\n"
        "objects/,Letters <& more>,\"Two lines\nof text\"\n"
        "objects/dir/scan 100%.pdf,The scan,\n"
        "objects/z.txt,Zed,\n");
    assert_int_equal(vl_descriptive_load(in, csv, &err), VL_OK);
    write_sample(path, in);
    if (vl_mets_read_file(path, out, NULL, NULL, &err) != VL_OK)
        fail_msg("read: %s", err.msg);
    assert_string_equal(dc_value(vl_descriptive_deposit_dc(out), "title"),
                        "Letters <& more>");
    assert_string_equal(dc_value(vl_descriptive_deposit_dc(out), "description"),
                        "Two lines\nof text");
    /* MODS was crosswalked at write time and comes back as a record */
    assert_non_null(vl_descriptive_mods_xml(out));
    assert_non_null(strstr(vl_descriptive_mods_xml(out), "<mods:title>Letters &lt;&amp; more&gt;</mods:title>"));
    assert_non_null(strstr(vl_descriptive_mods_xml(out), "xmlns:mods=\"http://www.loc.gov/mods/v3\""));
    assert_int_equal(vl_descriptive_file_count(out), 2);
    fdc = vl_descriptive_file_dc(out, "data/dir/scan 100%.pdf");
    assert_non_null(fdc);
    assert_string_equal(dc_value(fdc, "title"), "The scan");
    assert_string_equal(dc_value(vl_descriptive_file_dc(out, "data/z.txt"), "title"), "Zed");
    assert_null(vl_descriptive_file_dc(out, "data/a & b.txt"));

    /* writing what was read gives the same descriptive sections */
    char *again = vl_path_join(dir, "again.xml");
    vl_buf a, b;
    write_sample(again, out);
    vl_buf_init(&a, 0);
    vl_buf_init(&b, 0);
    assert_int_equal(vl_fs_read_file(path, 1 << 20, &a, &err), VL_OK);
    assert_int_equal(vl_fs_read_file(again, 1 << 20, &b, &err), VL_OK);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    vl_buf_release(&a);
    vl_buf_release(&b);
    free(again);

    vl_descriptive_free(in);
    vl_descriptive_free(out);
    vl_fs_rmtree(dir, NULL);
    free(csv);
    free(path);
    free(dir);
}

static int read_text(const char *xml, vl_descriptive *d, struct seen *s,
                     vl_error *err)
{
    char *dir = tmpdir();
    put(dir, "m.xml", xml);
    char *p = vl_path_join(dir, "m.xml");
    int rc = vl_mets_read_file(p, d, s ? on_file : NULL, s, err);
    vl_fs_rmtree(dir, NULL);
    free(p);
    free(dir);
    return rc;
}

static void test_hostile_and_malformed_refused(void **state)
{
    vl_error err = {0};
    vl_descriptive *d = vl_descriptive_new();
    const char *laughs =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE m [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n"
        "<mets:mets xmlns:mets=\"http://www.loc.gov/METS/\">&b;</mets:mets>\n";
    const char *xxe =
        "<!-- a comment first --><!DOCTYPE m SYSTEM \"file:///etc/passwd\">"
        "<m/>";
    assert_int_equal(read_text(laughs, d, NULL, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "DOCTYPE"));
    assert_int_equal(read_text(xxe, d, NULL, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "DOCTYPE"));
    assert_int_equal(read_text("<mets:mets xmlns:mets=\"http://www.loc.gov/METS/\">"
                               "<mets:fileSec>", d, NULL, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "m.xml:"));
    assert_int_equal(read_text("", d, NULL, &err), VL_EINPUT);
    vl_descriptive_free(d);
}

static void test_links_not_id_spelling(void **state)
{
    /* IDs chosen by someone else: the joins follow ADMID/DMDID/FILEID, and
     * a formatNote carries libmagic's encoding and description. */
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<m:mets xmlns:m=\"http://www.loc.gov/METS/\" xmlns:x=\"http://www.w3.org/1999/xlink\""
        " xmlns:o=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" xmlns:d=\"http://purl.org/dc/elements/1.1/\">"
        "<m:dmdSec ID=\"Q\"><m:mdWrap MDTYPE=\"DC\"><m:xmlData><o:dc><d:title>Deposit</d:title></o:dc></m:xmlData></m:mdWrap></m:dmdSec>"
        "<m:dmdSec ID=\"R\"><m:mdWrap MDTYPE=\"DC\"><m:xmlData><o:dc><d:title>One file</d:title><d:Title>no</d:Title></o:dc></m:xmlData></m:mdWrap></m:dmdSec>"
        "<m:amdSec><m:techMD ID=\"T9\"><m:mdWrap MDTYPE=\"PREMIS:OBJECT\"><m:xmlData>"
        "<object xmlns=\"http://www.loc.gov/premis/v3\"><objectIdentifier><objectIdentifierType>uuid</objectIdentifierType>"
        "<objectIdentifierValue>nope</objectIdentifierValue></objectIdentifier><objectIdentifier>"
        "<objectIdentifierType>local</objectIdentifierType><objectIdentifierValue>data/f.txt</objectIdentifierValue>"
        "</objectIdentifier><objectCharacteristics><size>5</size><format><formatDesignation><formatName>Plain Text File</formatName></formatDesignation>"
        "<formatRegistry><formatRegistryName>PRONOM</formatRegistryName><formatRegistryKey>x-fmt/111</formatRegistryKey></formatRegistry>"
        "<formatNote>encoding: us-ascii</formatNote><formatNote>description: ASCII text</formatNote></format></objectCharacteristics></object>"
        "</m:xmlData></m:mdWrap></m:techMD></m:amdSec>"
        "<m:fileSec><m:fileGrp><m:file ID=\"F1\" MIMETYPE=\"text/plain\" ADMID=\"T9\"><m:FLocat LOCTYPE=\"URL\" x:href=\"data/wrong.txt\"/></m:file>"
        "<m:file ID=\"F2\"><m:FLocat LOCTYPE=\"URL\" x:href=\"data/g%20h.txt\"/></m:file></m:fileGrp></m:fileSec>"
        "<m:structMap><m:div DMDID=\"Q\"><m:div DMDID=\"R\"><m:fptr FILEID=\"F1\"/></m:div>"
        "<m:div DMDID=\"R\"><m:fptr FILEID=\"F2\"/></m:div></m:div></m:structMap></m:mets>\n";
    vl_descriptive *d = vl_descriptive_new();
    struct seen s = {0};
    vl_error err = {0};
    if (read_text(xml, d, &s, &err) != VL_OK)
        fail_msg("read: %s", err.msg);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.lines[0], "data/f.txt|5|text/plain|Plain Text File|-|x-fmt/111|-");
    assert_string_equal(dc_value(vl_descriptive_deposit_dc(d), "title"), "Deposit");
    assert_int_equal(vl_descriptive_file_count(d), 2);
    assert_string_equal(dc_value(vl_descriptive_file_dc(d, "data/f.txt"), "title"), "One file");
    /* no PREMIS object: the FLocat href, unescaped */
    assert_string_equal(dc_value(vl_descriptive_file_dc(d, "data/g h.txt"), "title"), "One file");
    assert_int_equal(vl_dc_count(vl_descriptive_file_dc(d, "data/f.txt")), 1);
    vl_descriptive_free(d);
}

static int on_file_notes(void *arg, const vl_mets_file_info *f, vl_error *err)
{
    char *out = arg;
    snprintf(out, 256, "%s/%s", f->encoding ? f->encoding : "-",
             f->description ? f->description : "-");
    return VL_OK;
}

static void test_format_notes(void **state)
{
    const char *xml =
        "<m:mets xmlns:m=\"http://www.loc.gov/METS/\"><m:amdSec><m:techMD ID=\"t\"><m:mdWrap MDTYPE=\"PREMIS:OBJECT\"><m:xmlData>"
        "<p:object xmlns:p=\"http://www.loc.gov/premis/v3\"><p:objectIdentifier><p:objectIdentifierType>local</p:objectIdentifierType>"
        "<p:objectIdentifierValue>data/x</p:objectIdentifierValue></p:objectIdentifier><p:objectCharacteristics><p:format>"
        "<p:formatDesignation><p:formatName>x</p:formatName></p:formatDesignation><p:formatNote>encoding: binary</p:formatNote>"
        "<p:formatNote>description: PDF document, version 1.4</p:formatNote></p:format></p:objectCharacteristics></p:object>"
        "</m:xmlData></m:mdWrap></m:techMD></m:amdSec></m:mets>";
    char *dir = tmpdir(), *p, got[256] = "";
    vl_error err = {0};
    put(dir, "m.xml", xml);
    p = vl_path_join(dir, "m.xml");
    assert_int_equal(vl_mets_read_file(p, NULL, on_file_notes, got, &err), VL_OK);
    assert_string_equal(got, "binary/PDF document, version 1.4");
    vl_fs_rmtree(dir, NULL);
    free(p);
    free(dir);
}

/* ---- exports through the library ---------------------------------------- */

static size_t entries(const char *dir)
{
    char *cmd = vl_asprintf("ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    unsigned long n = 0;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%lu", &n), 1);
    pclose(p);
    free(cmd);
    return n;
}

static int checks_run;

static int count_check(void *arg, const char *dir, vl_error *err)
{
    checks_run++;
    return vl_bag_check_dir(dir, NULL, NULL, err);
}

static int refuse_check(void *arg, const char *dir, vl_error *err)
{
    return vl_error_set(err, VL_EINPUT, "refused for the test");
}

static void test_export_api(void **state)
{
    char *dir = tmpdir(), *repo_dir = vl_path_join(dir, "repo");
    char *src = vl_path_join(dir, "src"), *dest = vl_path_join(dir, "bag");
    const char *sources[1] = {src};
    vl_repo_options ro = {VL_SHA512, 0, VL_SHARED_PRIVATE, NULL, NULL, 0};
    vl_ingest_options io;
    vl_ingest_result ir;
    vl_export_options eo;
    vl_export_result er;
    vl_repo *r = NULL;
    vl_error err = {0};

    put(src, "a.txt", "alpha\n");
    put(src, "b/c.txt", "gamma\n");
    assert_int_equal(vl_repo_init(repo_dir, &ro, &err), VL_OK);
    assert_int_equal(vl_repo_open(repo_dir, &r, &err), VL_OK);
    memset(&io, 0, sizeof io);
    io.id = "urn:t:api";
    io.user_name = "Tester";
    if (vl_ingest(r, sources, 1, &io, &ir, &err) != VL_OK)
        fail_msg("ingest: %s", err.msg);

    memset(&eo, 0, sizeof eo);
    eo.format = "bagit";
    /* a bag export without a checker is refused before anything is made */
    assert_int_equal(vl_export(r, "urn:t:api", dest, &eo, &er, &err), VL_EINPUT);
    assert_int_equal(vl_fs_exists(dest), 0);
    eo.check_bag = refuse_check;
    assert_int_equal(vl_export(r, "urn:t:api", dest, &eo, &er, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "does not validate"));
    assert_int_equal(vl_fs_exists(dest), 0);
    assert_int_equal(entries(dir), 2);   /* repo and src: nothing beside */
    eo.check_bag = count_check;
    if (vl_export(r, "urn:t:api", dest, &eo, &er, &err) != VL_OK)
        fail_msg("export: %s", err.msg);
    assert_int_equal(checks_run, 1);
    assert_int_equal(er.version, 1);
    assert_int_equal(er.files, 2);
    assert_int_equal(er.bytes, 12);
    assert_true(strncmp(er.event_id, "urn:uuid:", 9) == 0);
    /* the bag is valid to the checker on its own, too */
    assert_int_equal(vl_bag_check_dir(dest, NULL, NULL, &err), VL_OK);
    /* and a changed payload byte is not */
    put(dest, "data/a.txt", "alphA\n");
    assert_int_equal(vl_bag_check_dir(dest, NULL, NULL, &err), VL_EINPUT);

    /* bad arguments */
    char *d2 = vl_path_join(dir, "x");
    eo.format = "zip";
    assert_int_equal(vl_export(r, "urn:t:api", d2, &eo, &er, &err), VL_EINPUT);
    eo.format = "mets";
    eo.archive = "rar";
    assert_int_equal(vl_export(r, "urn:t:api", d2, &eo, &er, &err), VL_EINPUT);
    eo.archive = NULL;
    eo.version = 2;
    assert_int_equal(vl_export(r, "urn:t:api", d2, &eo, &er, &err), VL_EINPUT);
    assert_int_equal(vl_fs_exists(d2), 0);

    /* regenerated METS with nothing but the catalog and the store */
    char *m = vl_path_join(dir, "regen.xml");
    struct seen s = {0};
    assert_int_equal(vl_mets_regenerate(r, "urn:t:api", 0, m, &err), VL_OK);
    assert_int_equal(vl_mets_read_file(m, NULL, on_file, &s, &err), VL_OK);
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(s.lines[0], "data/a.txt|6|text/plain|"));

    /* formats the catalog has are kept (they may say more than the
     * METS); lost ones come back from the stored METS */
    size_t nobj = 0, nfmt = 0;
    assert_int_equal(vl_repo_reindex(r, &nobj, &err), VL_OK);
    assert_int_equal(vl_metadata_reindex_formats(r, &nfmt, &err), VL_OK);
    assert_int_equal(nfmt, 0);
    assert_int_equal(sqlite3_exec(vl_catalog_db(vl_repo_catalog(r)),
                                  "DELETE FROM formats", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(vl_metadata_restore_formats(r, "urn:t:api", &nfmt, &err), VL_OK);
    assert_int_equal(nfmt, 3);   /* two data files and METS.xml itself */
    /* the same through the one call 'vellum reindex' makes */
    assert_int_equal(sqlite3_exec(vl_catalog_db(vl_repo_catalog(r)),
                                  "DELETE FROM formats", NULL, NULL, NULL),
                     SQLITE_OK);
    nobj = nfmt = 0;
    assert_int_equal(vl_metadata_reindex(r, &nobj, &nfmt, &err), VL_OK);
    assert_int_equal(nobj, 1);
    assert_int_equal(nfmt, 3);
    /* and 'vellum recover' with nothing to settle */
    vl_recover_counts rec = {0};
    assert_int_equal(vl_metadata_recover(r, &rec, &err), VL_OK);
    assert_int_equal(rec.repaired, 0);
    assert_int_equal(rec.unhealed, 0);

    vl_repo_close(r);
    vl_fs_rmtree(dir, NULL);
    free(m);
    free(d2);
    free(dir);
    free(repo_dir);
    free(src);
    free(dest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_come_back),
        cmocka_unit_test(test_descriptive_comes_back),
        cmocka_unit_test(test_hostile_and_malformed_refused),
        cmocka_unit_test(test_links_not_id_spelling),
        cmocka_unit_test(test_format_notes),
        cmocka_unit_test(test_export_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
