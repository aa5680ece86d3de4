/* torture: fail every allocation of a library operation in turn, as curl's
 * torture tests do, and check what the library does about it.
 *
 * Each case is a small, fixed operation on library entry points (digest a
 * file, parse and write an inventory, open a catalog, write and read back a
 * METS, load PRONOM signatures, check a bag, validate and audit a small
 * repository, deposit a folder).  For each case the driver
 *   1. prepares its files once (a template folder), then runs it once
 *      undisturbed in this process, so that libraries' one-time set-ups
 *      (OpenSSL's tables, libxml2's and SQLite's globals) are done;
 *   2. runs it in a child process with allocfail armed but failing
 *      nothing: K allocations, the normal outcome (status and a digest of
 *      what the case saw), and nothing may be left allocated;
 *   3. for N = 1 ... K runs it again in a fresh child (from a fresh copy of
 *      the template) that fails allocation N, and checks:
 *        - no crash, abort or hang (the child is killed after 60 s);
 *        - nothing allocated during the case is still allocated after it;
 *        - the outcome is either the normal one (the failure was absorbed:
 *          a library fell back or retried) or VL_ESYS with a message: an
 *          allocation failure is a system error, never "invalid input", a
 *          finding, or success with a different result.
 * Each case is one TAP line; the first findings of a case are shown with
 * the stack of the failed allocation (and of a leaked block), symbolised
 * with addr2line.  Children are forked from one prepared process, one
 * worker thread each, so the allocation numbering is the same every run.
 *
 *   torture                 every case
 *   torture -c NAME         one case (repeatable)
 *   torture -c NAME -n N    only failure N, the child's stderr shown
 *   torture -s ...          one line per finding, with where it was
 *   torture -l              list the cases with their allocation counts
 *   torture -j JOBS         cases at a time (default: the cores, at most 4)
 *   torture -a              every allocation of every case (cases with a
 *                           stride fail every stride-th one otherwise)
 *   torture -S K            every K-th allocation at least (and the first
 *                           and last 100 of each case): make check's pace
 * The allocfail shim (allocfail.so beside this binary) is preloaded by
 * re-executing when it is not loaded yet. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlerror.h>
#include <openssl/err.h>

/* A white-box driver: it calls the library's private entry points (the
 * inventory builders, the catalog, the METS reader, the BagIt checker), so
 * it defines what those folders' own sources get from the Makefile. */
#define VL_COMMON_INTERNAL
#define VL_STORAGE_INTERNAL
#define VL_METADATA_INTERNAL
#define VL_INGEST_INTERNAL
#include "bagit_private.h"
#include "catalog_private.h"
#include "common_private.h"
#include "descriptive_internal.h"
#include "identify_private.h"
#include "inventory_private.h"
#include "mets_private.h"
#include "validate_private.h"
#include "vl_common.h"
#include "vl_fixity.h"
#include "vl_ingest.h"
#include "vl_metadata.h"
#include "vl_storage.h"

/* ---- the shim's controls ---------------------------------------------- */

static void (*af_arm)(long fail, const long *trace, size_t ntrace);
static long (*af_disarm)(void);
static long (*af_failed)(void);
static size_t (*af_leaks)(long *seqs, size_t max);

/* ---- what a case saw: a running FNV-1a digest (no allocation) --------- */

typedef struct seen {
    uint64_t h;
} seen;

static void see(seen *s, const char *text)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "<null>");
    for (; *p; p++) {
        s->h ^= *p;
        s->h *= 0x100000001b3ULL;
    }
    s->h ^= 0xff;                       /* field separator */
    s->h *= 0x100000001b3ULL;
}

static void see_int(seen *s, long long v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", v);
    see(s, b);
}

/* ---- small file helpers (undisturbed set-up only) --------------------- */

static char *join(const char *a, const char *b)
{
    char *p = vl_path_join(a, b);
    if (!p) {
        fprintf(stderr, "torture: out of memory\n");
        exit(2);
    }
    return p;
}

static int write_text(const char *dir, const char *rel, const char *text,
                      vl_error *err)
{
    char *p = join(dir, rel);
    int rc = vl_fs_mkdirs_parent(p, err);
    if (rc == VL_OK)
        rc = vl_fs_write_atomic(p, text, strlen(text), err);
    free(p);
    return rc;
}

typedef struct copy_arg {
    const char *from, *to;
} copy_arg;

static int copy_one(void *arg, const char *rel, int kind, const struct stat *st,
                    vl_error *err)
{
    copy_arg *c = arg;
    char *src = join(c->from, rel), *dst = join(c->to, rel);
    int rc = VL_OK;
    if (kind == VL_WALK_DIR) {
        if (mkdir(dst, 0777) != 0 && errno != EEXIST)
            rc = vl_error_sys(err, "mkdir %s", dst);
    } else if (kind == VL_WALK_FILE) {
        /* no fsync: this is scratch space */
        int in = open(src, O_RDONLY | O_CLOEXEC);
        int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                       st->st_mode & 0777);
        char buf[65536];
        ssize_t n = 0;
        if (in < 0 || out < 0)
            rc = vl_error_sys(err, "copy %s", src);
        while (rc == VL_OK && (n = read(in, buf, sizeof buf)) > 0)
            if (vl_fs_write_all(out, buf, (size_t)n) != 0)
                rc = vl_error_sys(err, "write %s", dst);
        if (n < 0)
            rc = vl_error_sys(err, "read %s", src);
        /* the same times in every copy: a deposit's METS.xml records them,
         * and its digest orders the inventory's rows (so allocations) */
        struct timespec times[2] = {st->st_atim, st->st_mtim};
        if (rc == VL_OK && out >= 0 && futimens(out, times) != 0)
            rc = vl_error_sys(err, "set the times of %s", dst);
        if (in >= 0)
            close(in);
        if (out >= 0)
            close(out);
    }
    free(src);
    free(dst);
    return rc;
}

/* Make to a fresh copy of from (files, folders, modes). */
static int copy_tree(const char *from, const char *to, vl_error *err)
{
    copy_arg c = {from, to};
    int rc = vl_fs_rmtree(to, err);
    if (rc == VL_OK && mkdir(to, 0777) != 0)
        rc = vl_error_sys(err, "mkdir %s", to);
    if (rc == VL_OK)
        rc = vl_tree_walk(from, 1, copy_one, &c, err);
    /* folders' modes last (committed content folders are read-only) */
    return rc;
}

/* ======================================================================
 * The cases.  prepare() makes the template folder (undisturbed); run()
 * is what is tortured: it works in a fresh copy of the template, feeds
 * what it sees into s, frees everything it made, and returns the status.
 * ==================================================================== */

typedef struct tcase {
    const char *name;
    int (*prepare)(const char *dir, vl_error *err);
    int (*run)(const char *dir, seen *s, vl_error *err);
    int reads_only;          /* runs in the template itself, not a copy */
    /* > 1: fail every stride-th allocation only (and the first and last
     * 100), unless -a asks for all; for cases whose allocations are
     * mostly the ones other cases fail already (opening a repository),
     * so that make check keeps its time.  Deterministic either way. */
    int stride;
} tcase;

static int g_all_allocs;      /* -a: every allocation of every case */
static int g_min_stride = 1;  /* -S K: at least every K-th allocation */

/* ---- digest: every algorithm over a file ------------------------------ */

static int digest_prepare(const char *dir, vl_error *err)
{
    char text[3000];
    for (size_t i = 0; i < sizeof text - 1; i++)
        text[i] = (char)('a' + i % 26);
    text[sizeof text - 1] = '\0';
    return write_text(dir, "a.bin", text, err);
}

static int digest_run(const char *dir, seen *s, vl_error *err)
{
    vl_digest_result d;
    uint64_t size = 0;
    char *p = vl_path_join(dir, "a.bin");
    int rc;
    if (!p)
        return vl_error_set(err, VL_ESYS, "out of memory");
    unsigned mask = VL_DIGEST_BIT(VL_MD5) | VL_DIGEST_BIT(VL_SHA1) |
                    VL_DIGEST_BIT(VL_SHA256) | VL_DIGEST_BIT(VL_SHA512) |
                    VL_DIGEST_BIT(VL_BLAKE2B512);
    rc = vl_digest_file(p, mask, &d, &size, err);
    if (rc == VL_OK) {
        for (int a = 0; a < VL_DIGEST_COUNT; a++)
            see(s, d.hex[a]);
        see_int(s, (long long)size);
    }
    free(p);
    return rc;
}

/* ---- inventory: parse, copy, add a version, write --------------------- */

static const char *inventory_json =
    "{\n"
    "  \"digestAlgorithm\": \"sha512\",\n"
    "  \"fixity\": {\"md5\": {\"9e107d9d372bb6826bd81d3542a419d6\": "
    "[\"v1/content/data/a.txt\"]}},\n"
    "  \"head\": \"v2\",\n"
    "  \"id\": \"urn:example:torture\",\n"
    "  \"manifest\": {\n"
    "    \"4dff4ea340f0a823f15d3f4f01ab62eae0e5da579ccb851f8db9dfe84c58b2b37b89"
    "903a740e1ee172da793a6e79d560e5f7f9bd058a12a280433ed6fa46510a\": "
    "[\"v1/content/data/a.txt\"],\n"
    "    \"f7fbba6e0636f890e56fbbf3283e524c6fa3204ae298382d624741d0dc663832"
    "6e282c41be5e4254d8820772c5518a2c5a8c0c7f7eda19594a7eb539453e1ed7\": "
    "[\"v2/content/data/b.txt\"]\n"
    "  },\n"
    "  \"type\": \"https://ocfl.io/1.1/spec/#inventory\",\n"
    "  \"versions\": {\n"
    "    \"v1\": {\"created\": \"2026-01-01T00:00:00Z\", \"message\": \"first\","
    " \"user\": {\"name\": \"Ann\", \"address\": \"mailto:ann@example.org\"},"
    " \"state\": {\"4dff4ea340f0a823f15d3f4f01ab62eae0e5da579ccb851f8db9dfe84c"
    "58b2b37b89903a740e1ee172da793a6e79d560e5f7f9bd058a12a280433ed6fa46510a\":"
    " [\"data/a.txt\"]}},\n"
    "    \"v2\": {\"created\": \"2026-01-02T00:00:00Z\", \"message\": \"second\","
    " \"user\": {\"name\": \"Ann\", \"address\": \"mailto:ann@example.org\"},"
    " \"state\": {\"4dff4ea340f0a823f15d3f4f01ab62eae0e5da579ccb851f8db9dfe84c"
    "58b2b37b89903a740e1ee172da793a6e79d560e5f7f9bd058a12a280433ed6fa46510a\":"
    " [\"data/a.txt\", \"data/copy of a.txt\"], \"f7fbba6e0636f890e56fbbf328"
    "3e524c6fa3204ae298382d624741d0dc6638326e282c41be5e4254d8820772c5518a2c5a"
    "8c0c7f7eda19594a7eb539453e1ed7\": [\"data/b.txt\"]}}\n"
    "  }\n"
    "}\n";

static int seen_state(void *arg, const char *logical, const char *digest)
{
    see(arg, logical);
    see(arg, digest);
    return 0;
}

static int inventory_run(const char *dir, seen *s, vl_error *err)
{
    vl_inventory *inv = NULL, *copy = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = vl_inventory_parse(inventory_json, strlen(inventory_json), &inv, err);
    if (rc != VL_OK)
        goto done;
    if (!(copy = vl_inventory_copy(inv))) {
        rc = vl_error_set(err, VL_ESYS, "inventory copy: out of memory");
        goto done;
    }
    const char *c = "00000000000000000000000000000000000000000000000000000000000"
                    "000000000000000000000000000000000000000000000000000000000"
                    "000000000000";
    /* the builders say only that they failed: the test names it */
    if (vl_inventory_version_add(copy, "2026-01-03T00:00:00Z", "third", "Bo",
                                 "mailto:bo@example.org") != 3 ||
        vl_inventory_manifest_add(copy, c, "v3/content/data/c.txt") != 0 ||
        vl_inventory_state_add(copy, 3, c, "data/c.txt") != 0 ||
        vl_inventory_fixity_add(copy, VL_MD5, "d41d8cd98f00b204e9800998ecf8427e",
                                "v3/content/data/c.txt") != 0) {
        rc = vl_error_set(err, VL_ESYS, "inventory building: out of memory");
        goto done;
    }
    /* v2 read back from its spooled text, v3 from rows */
    if (vl_inventory_state_foreach(copy, 2, seen_state, s) != 0 ||
        vl_inventory_state_foreach(copy, 3, seen_state, s) != 0) {
        rc = vl_error_set(err, VL_ESYS, "inventory state: out of memory");
        goto done;
    }
    if (!(text = vl_inventory_serialize(copy, &len))) {
        rc = vl_error_set(err, VL_ESYS, "inventory serialize: out of memory");
        goto done;
    }
    see(s, text);
done:
    free(text);
    vl_inventory_free(copy);
    vl_inventory_free(inv);
    return rc;
}

/* ---- inventory validation (the validator's own JSON checks) ----------- */

static void seen_finding(void *arg, const vl_finding *f)
{
    seen *s = arg;
    see(s, f->code);
    see(s, f->object);
    see(s, f->path);
    see(s, f->message);
    see_int(s, f->problem);
    see(s, f->content_path);
    see(s, f->expected);
    see(s, f->actual);
}

static int inventory_validate_run(const char *dir, seen *s, vl_error *err)
{
    /* a sha256 digest where sha512 is declared, and a missing version: findings */
    static const char *bad =
        "{\"digestAlgorithm\": \"sha512\", \"head\": \"v2\", \"id\": \"x\","
        " \"manifest\": {\"abc\": [\"v1/content/a\"]},"
        " \"type\": \"https://ocfl.io/1.1/spec/#inventory\","
        " \"versions\": {\"v1\": {\"created\": \"2026-01-01T00:00:00Z\","
        " \"state\": {\"abc\": [\"a\", \"a/b\"]}}}}";
    vl_validate_options o = {1, 1, seen_finding, s, NULL};
    vl_validate_counts c = {0};
    int rc = vl_validate_inventory_buffer(inventory_json, strlen(inventory_json),
                                          &o, &c, err);
    see_int(s, rc);
    if (rc == VL_ESYS)
        return rc;
    rc = vl_validate_inventory_buffer(bad, strlen(bad), &o, &c, err);
    see_int(s, (long long)c.errors);
    see_int(s, (long long)c.warnings);
    return rc;
}

/* ---- catalog: create, then open again --------------------------------- */

static int catalog_prepare(const char *dir, vl_error *err)
{
    return VL_OK;
}

static int catalog_run(const char *dir, seen *s, vl_error *err)
{
    vl_catalog *cat = NULL;
    char *p = vl_path_join(dir, "catalog.sqlite");
    int rc;
    if (!p)
        return vl_error_set(err, VL_ESYS, "out of memory");
    if ((rc = vl_catalog_open(p, &cat, err)) != VL_OK)
        goto done;
    vl_catalog_close(cat);
    cat = NULL;
    rc = vl_catalog_open_readonly(p, &cat, err);
done:
    vl_catalog_close(cat);
    free(p);
    return rc;
}

/* ---- METS: write three files and two events, read them back ----------- */

typedef struct mets_src {
    size_t pos, epos;
} mets_src;

static const char *sha_a = "4dff4ea340f0a823f15d3f4f01ab62eae0e5da579ccb851f8db9dfe"
                           "84c58b2b37b89903a740e1ee172da793a6e79d560e5f7f9bd058a1"
                           "2a280433ed6fa46510a";

static void mets_rewind(void *arg) { ((mets_src *)arg)->pos = 0; }

static int mets_next(void *arg, vl_mets_file *out)
{
    static const char *names[] = {"data/a.txt", "data/letters/b & c.pdf",
                                  "data/z.bin"};
    mets_src *m = arg;
    if (m->pos >= 3)
        return 0;
    memset(out, 0, sizeof *out);
    out->logical = names[m->pos];
    out->size = 100 + m->pos;
    out->sha512 = sha_a;
    out->digests[VL_SHA512] = sha_a;
    out->digests[VL_MD5] = "9e107d9d372bb6826bd81d3542a419d6";
    out->mime = m->pos == 1 ? "application/pdf" : "text/plain";
    out->format_name = m->pos == 1 ? "Acrobat PDF 1.4" : NULL;
    out->format_version = m->pos == 1 ? "1.4" : NULL;
    out->puid = m->pos == 1 ? "fmt/18" : NULL;
    out->encoding = m->pos == 0 ? "us-ascii" : NULL;
    out->original_name = m->pos == 2 ? "Z.BIN" : NULL;
    out->basis = m->pos == 1 ? "byte match at 0, 8" : NULL;
    out->signatures = "DROID V122; containers 40";
    m->pos++;
    return 1;
}

static void mets_rewind_events(void *arg) { ((mets_src *)arg)->epos = 0; }

static int mets_next_event(void *arg, vl_event_row *out)
{
    mets_src *m = arg;
    if (m->epos >= 2)
        return 0;
    memset(out, 0, sizeof *out);
    out->seq = (long)m->epos + 1;
    out->id = m->epos ? "urn:uuid:00000000-0000-4000-8000-000000000002"
                      : "urn:uuid:00000000-0000-4000-8000-000000000001";
    out->type = m->epos ? VL_EV_FIXITY : VL_EV_INGESTION;
    out->datetime = "2026-01-01T00:00:00Z";
    out->outcome = "success";
    out->detail = "deposit";
    out->object_id = "urn:example:torture";
    out->version = 1;
    out->files_json = m->epos ? "[\"data/a.txt\"]" : "[]";
    out->agents_json = "[{\"name\": \"vellum 0.1.0\", \"role\": \"executing program\"}]";
    m->epos++;
    return 1;
}

static int seen_mets_file(void *arg, const vl_mets_file_info *f, vl_error *err)
{
    seen *s = arg;
    see(s, f->logical);
    see_int(s, (long long)f->size);
    see(s, f->mime);
    see(s, f->format_name);
    see(s, f->puid);
    see(s, f->encoding);
    see(s, f->original_name);
    see(s, f->basis);
    see(s, f->signatures);
    return VL_OK;
}

static int mets_run(const char *dir, seen *s, vl_error *err)
{
    vl_descriptive *desc = vl_descriptive_new(), *back = vl_descriptive_new();
    char *path = vl_path_join(dir, "METS.xml");
    mets_src m = {0};
    vl_mets_agent agents[] = {{"vellum 0.1.0", "software", "CREATOR"},
                              {"Ann <mailto:ann@example.org>", "person", NULL}};
    vl_mets_source src = {0};
    int rc;
    vl_dc *dc;
    if (!desc || !back || !path || !(dc = vl_descriptive_deposit_dc(desc))) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = vl_dc_add(dc, "title", "Letters of Ann & <Bo>", err)) != VL_OK ||
        (rc = vl_dc_add(dc, "creator", "Ann", err)) != VL_OK)
        goto done;
    src.object_id = "urn:example:torture";
    src.create_date = "2026-01-01T00:00:00Z";
    src.vellum_version = VL_VERSION;
    src.desc = desc;
    src.rewind = mets_rewind;
    src.next = mets_next;
    src.arg = &m;
    src.rewind_events = mets_rewind_events;
    src.next_event = mets_next_event;
    src.event_arg = &m;
    src.agents = agents;
    src.nagents = 2;
    if ((rc = vl_mets_write(&src, path, err)) != VL_OK)
        goto done;
    if ((rc = vl_mets_read_file(path, back, seen_mets_file, s, err)) != VL_OK)
        goto done;
    const vl_dc *got = vl_descriptive_deposit_dc(back);
    if (!got) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < vl_dc_count(got); i++) {
        const char *el, *val;
        vl_dc_entry(got, i, &el, &val);
        see(s, el);
        see(s, val);
    }
done:
    free(path);
    vl_descriptive_free(back);
    vl_descriptive_free(desc);
    return rc;
}

/* ---- PRONOM: compile two small signature files, then load the cache --- */

static const char *sig_xml =
    "<?xml version=\"1.0\"?>\n"
    "<FFSignatureFile Version=\"99\" DateCreated=\"2026-01-01T00:00:00\" "
    "xmlns=\"http://www.nationalarchives.gov.uk/pronom/SignatureFile\">"
    "<InternalSignatureCollection>"
    "<InternalSignature ID=\"1\" Specificity=\"Specific\">"
    "<ByteSequence Reference=\"BOFoffset\"><SubSequence Position=\"1\" "
    "SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"0\"><Sequence>255044462D312E34"
    "</Sequence></SubSequence></ByteSequence>"
    "<ByteSequence Reference=\"EOFoffset\"><SubSequence Position=\"1\" "
    "SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"1024\"><Sequence>2525454F46"
    "</Sequence></SubSequence></ByteSequence></InternalSignature>"
    "<InternalSignature ID=\"2\" Specificity=\"Specific\">"
    "<ByteSequence Reference=\"BOFoffset\"><SubSequence Position=\"1\" "
    "SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"0\"><Sequence>504B0304{26}"
    "['a'-'z']*[!00]?" "?(01|0203)</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature>"
    "<InternalSignature ID=\"3\" Specificity=\"Specific\">"
    "<ByteSequence Reference=\"BOFoffset\"><SubSequence Position=\"1\" "
    "SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"0\"><Sequence>D0CF11E0A1B11AE1"
    "</Sequence></SubSequence></ByteSequence></InternalSignature>"
    "</InternalSignatureCollection><FileFormatCollection>"
    "<FileFormat ID=\"1\" PUID=\"fmt/18\" Name=\"Acrobat PDF 1.4\" Version=\"1.4\" "
    "MIMEType=\"application/pdf\"><InternalSignatureID>1</InternalSignatureID>"
    "<Extension>pdf</Extension></FileFormat>"
    "<FileFormat ID=\"2\" PUID=\"x-fmt/263\" Name=\"ZIP Format\" "
    "MIMEType=\"application/zip\"><InternalSignatureID>2</InternalSignatureID>"
    "<Extension>zip</Extension></FileFormat>"
    "<FileFormat ID=\"3\" PUID=\"fmt/111\" Name=\"OLE2\">"
    "<InternalSignatureID>3</InternalSignatureID></FileFormat>"
    "<FileFormat ID=\"4\" PUID=\"fmt/40\" Name=\"Word 97\" Version=\"97\">"
    "<Extension>doc</Extension><HasPriorityOverFileFormatID>3"
    "</HasPriorityOverFileFormatID></FileFormat>"
    "<FileFormat ID=\"5\" PUID=\"x-fmt/111\" Name=\"Plain Text File\" "
    "MIMEType=\"text/plain\"><Extension>txt</Extension></FileFormat>"
    "</FileFormatCollection></FFSignatureFile>\n";

static const char *container_xml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ContainerSignatureMapping schemaVersion=\"1.0\" signatureVersion=\"7\">"
    "<ContainerSignatures>"
    "<ContainerSignature Id=\"1020\" ContainerType=\"OLE2\">"
    "<Description>Word 97</Description><Files><File><Path>WordDocument</Path>"
    "</File><File><Path>CompObj</Path><BinarySignatures>"
    "<InternalSignatureCollection><InternalSignature ID=\"300\">"
    "<ByteSequence Reference=\"BOFoffset\"><SubSequence Position=\"1\" "
    "SubSeqMinOffset=\"40\" SubSeqMaxOffset=\"1024\">"
    "<Sequence>10 00 00 00 'Word.Document.8' 00</Sequence></SubSequence>"
    "</ByteSequence></InternalSignature></InternalSignatureCollection>"
    "</BinarySignatures></File></Files></ContainerSignature>"
    "<ContainerSignature Id=\"1030\" ContainerType=\"ZIP\">"
    "<Description>OOXML</Description><Files><File><Path>[Content_Types].xml"
    "</Path><BinarySignatures><InternalSignatureCollection>"
    "<InternalSignature ID=\"302\"><ByteSequence Reference=\"BOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"4096\">"
    "<Sequence>'wordprocessingml'</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature></InternalSignatureCollection></BinarySignatures>"
    "</File></Files></ContainerSignature>"
    "</ContainerSignatures><FileFormatMappings>"
    "<FileFormatMapping signatureId=\"1020\" Puid=\"fmt/40\"/>"
    "<FileFormatMapping signatureId=\"1030\" Puid=\"fmt/412\"/>"
    "</FileFormatMappings><TriggerPuids>"
    "<TriggerPuid ContainerType=\"OLE2\" Puid=\"fmt/111\"/>"
    "<TriggerPuid ContainerType=\"ZIP\" Puid=\"x-fmt/263\"/>"
    "</TriggerPuids></ContainerSignatureMapping>\n";

static int pronom_prepare(const char *dir, vl_error *err)
{
    int rc = write_text(dir, "sig.xml", sig_xml, err);
    if (rc == VL_OK)
        rc = write_text(dir, "container.xml", container_xml, err);
    return rc;
}

static int pronom_open(const char *dir, seen *s, vl_error *err)
{
    char *sig = vl_path_join(dir, "sig.xml");
    char *con = vl_path_join(dir, "container.xml");
    char *cache = vl_path_join(dir, "cache");
    vl_signatures *sigs = NULL;
    int rc;
    if (!sig || !con || !cache) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = vl_signatures_open(sig, con, cache, &sigs, err)) != VL_OK)
        goto done;
    see(s, vl_signatures_describe(sigs));
done:
    vl_signatures_close(sigs);
    free(cache);
    free(con);
    free(sig);
    return rc;
}

/* a cache made beforehand: the run reads it */
static int pronom_cached_prepare(const char *dir, vl_error *err)
{
    seen s = {0};
    int rc = pronom_prepare(dir, err);
    if (rc == VL_OK)
        rc = pronom_open(dir, &s, err);
    return rc;
}

/* ---- BagIt: check a small bag in a folder ----------------------------- */

static void seen_line(void *arg, const char *message)
{
    see(arg, message);
}

static int bag_prepare(const char *dir, vl_error *err)
{
    static const struct { const char *rel, *text; } payload[] = {
        {"data/a.txt", "alpha\n"},
        {"data/sub/b c.txt", "bravo\n"},
        {"data/d%e.txt", "delta\n"},
    };
    char hex[VL_DIGEST_HEX_MAX];
    vl_buf m256, m512, tag;
    int rc = VL_OK;
    vl_buf_init(&m256, 0);
    vl_buf_init(&m512, 0);
    vl_buf_init(&tag, 0);
    const char *decl = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
    const char *info = "Source-Organization: Example\nBagging-Date: 2026-01-01\n"
                       "Payload-Oxum: 18.3\nExternal-Description: a long\n"
                       "  folded value\n";
    if ((rc = write_text(dir, "bag/bagit.txt", decl, err)) != VL_OK ||
        (rc = write_text(dir, "bag/bag-info.txt", info, err)) != VL_OK)
        goto done;
    for (size_t i = 0; i < 3; i++) {
        const char *t = payload[i].text;
        char *enc = NULL;
        char rel[64];
        snprintf(rel, sizeof rel, "bag/%s", payload[i].rel);
        if ((rc = write_text(dir, rel, t, err)) != VL_OK)
            goto done;
        enc = vl_strdup(payload[i].rel);
        if (strchr(enc, '%'))
            snprintf(rel, sizeof rel, "data/d%%25e.txt");
        else
            snprintf(rel, sizeof rel, "%s", enc);
        free(enc);
        vl_digest_buffer(VL_SHA256, t, strlen(t), hex);
        vl_buf_printf(&m256, NULL, "%s %s\n", hex, rel);
        vl_digest_buffer(VL_SHA512, t, strlen(t), hex);
        vl_buf_printf(&m512, NULL, "%s  %s\n", hex, rel);
    }
    if ((rc = write_text(dir, "bag/manifest-sha256.txt", m256.data, err)) != VL_OK ||
        (rc = write_text(dir, "bag/manifest-sha512.txt", m512.data, err)) != VL_OK)
        goto done;
    vl_digest_buffer(VL_SHA256, decl, strlen(decl), hex);
    vl_buf_printf(&tag, NULL, "%s bagit.txt\n", hex);
    vl_digest_buffer(VL_SHA256, info, strlen(info), hex);
    vl_buf_printf(&tag, NULL, "%s bag-info.txt\n", hex);
    vl_digest_buffer(VL_SHA256, m256.data, m256.len, hex);
    vl_buf_printf(&tag, NULL, "%s manifest-sha256.txt\n", hex);
    /* a wrong one, so the check reports something */
    vl_buf_printf(&tag, NULL, "%064d manifest-sha512.txt\n", 0);
    rc = write_text(dir, "bag/tagmanifest-sha256.txt", tag.data, err);
done:
    vl_buf_release(&m256);
    vl_buf_release(&m512);
    vl_buf_release(&tag);
    return rc;
}

static int bag_run(const char *dir, seen *s, vl_error *err)
{
    char *bag = vl_path_join(dir, "bag");
    if (!bag)
        return vl_error_set(err, VL_ESYS, "out of memory");
    int rc = vl_bag_check_dir(bag, seen_line, s, err);
    free(bag);
    return rc;
}

/* ---- repositories: two small objects, one of them damaged ------------- */

static int deposit(vl_repo *r, const char *dir, const char *id,
                   const char *const *files, vl_error *err)
{
    char *src = join(dir, "src");
    vl_ingest_options o = {0};
    vl_ingest_result res;
    int rc = vl_fs_rmtree(src, err);
    for (size_t i = 0; rc == VL_OK && files[i]; i += 2)
        rc = write_text(src, files[i], files[i + 1], err);
    memset(&res, 0, sizeof res);
    o.id = id;
    o.message = "deposit";
    o.user_name = "Ann";
    o.user_address = "mailto:ann@example.org";
    o.nthreads = 1;
    const char *srcs[] = {src};
    if (rc == VL_OK)
        rc = vl_ingest(r, srcs, 1, &o, &res, err);
    if (rc == VL_OK)
        rc = vl_fs_rmtree(src, err);
    free(src);
    return rc;
}

static const char *good_files[] = {"a.txt", "alpha\n", "sub/b.txt", "bravo\n",
                                   "c.csv", "x,y\n1,2\n", NULL};
static const char *other_files[] = {"one.txt", "first\n", "two.txt", "second\n",
                                    NULL};

/* repo/ with urn:example:good and urn:example:bad, whose one.txt was
 * changed in place after the deposit. */
static int repo_prepare(const char *dir, vl_error *err)
{
    char *path = join(dir, "repo");
    vl_repo_options ro = {VL_SHA512, VL_DIGEST_BIT(VL_MD5), VL_SHARED_PRIVATE, NULL, NULL, 0};
    vl_repo *r = NULL;
    char *rel = NULL, *file = NULL;
    int rc = vl_repo_init(path, &ro, err);
    if (rc == VL_OK)
        rc = vl_repo_open(path, &r, err);
    if (rc == VL_OK)
        rc = deposit(r, dir, "urn:example:good", good_files, err);
    if (rc == VL_OK)
        rc = deposit(r, dir, "urn:example:bad", other_files, err);
    if (rc != VL_OK)
        goto done;
    rel = vl_repo_object_path(r, "urn:example:bad");
    char *obj = vl_asprintf("%s/store/%s/v1/content/data", path, rel);
    file = join(obj, "one.txt");
    chmod(obj, 0755);
    chmod(file, 0644);
    FILE *f = fopen(file, "r+");
    if (!f || fputs("FIRST\n", f) < 0 || fclose(f) != 0)
        rc = vl_error_sys(err, "tamper %s", file);
    chmod(file, 0444);
    free(obj);
done:
    free(file);
    free(rel);
    vl_repo_close(r);
    free(path);
    return rc;
}

static int validate_run(const char *dir, seen *s, vl_error *err)
{
    char *store = vl_path_join(dir, "repo/store");
    vl_validate_options o = {1, 1, seen_finding, s, NULL};
    vl_validate_counts c = {0};
    if (!store)
        return vl_error_set(err, VL_ESYS, "out of memory");
    int rc = vl_validate_path(store, &o, &c, err);
    see_int(s, (long long)c.objects);
    see_int(s, (long long)c.errors);
    see_int(s, (long long)c.warnings);
    free(store);
    return rc;
}

static void seen_audit(void *arg, const vl_audit_result *r)
{
    seen *s = arg;
    see(s, r->object_id);
    see_int(s, r->passed);
    see_int(s, (long long)r->files);
    see_int(s, (long long)r->bytes);
    for (size_t i = 0; i < r->nfailures; i++) {
        const vl_audit_failure *f = &r->failures[i];
        see(s, f->kind);
        see(s, f->code);
        see(s, f->path);
        see(s, f->expected);
        see(s, f->actual);
        see(s, f->message);
    }
}

static int audit_run(const char *dir, seen *s, vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    vl_repo *r = NULL;
    vl_audit_options o = {0};
    vl_audit_summary sum = {0};
    const char *ids[] = {"urn:example:bad"};
    int rc;
    if (!path)
        return vl_error_set(err, VL_ESYS, "out of memory");
    if ((rc = vl_repo_open(path, &r, err)) != VL_OK)
        goto done;
    o.nthreads = 1;
    o.on_object = seen_audit;
    o.arg = s;
    rc = vl_audit(r, ids, 1, &o, &sum, err);
    see_int(s, (long long)sum.objects);
    see_int(s, (long long)sum.passed);
    see_int(s, (long long)sum.failed);
done:
    vl_repo_close(r);
    free(path);
    return rc;
}

/* ---- ingest: a second version of the good object (no identification:
 * libmagic's database alone makes thousands of allocations) ----------- */

static int ingest_prepare(const char *dir, vl_error *err)
{
    int rc = repo_prepare(dir, err);
    if (rc == VL_OK)
        rc = write_text(dir, "new/a.txt", "alpha, changed\n", err);
    if (rc == VL_OK)
        rc = write_text(dir, "new/sub/b.txt", "bravo\n", err);
    if (rc == VL_OK)
        rc = write_text(dir, "new/d.txt", "delta\n", err);
    return rc;
}

static int ingest_run(const char *dir, seen *s, vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    char *src = vl_path_join(dir, "new");
    vl_repo *r = NULL;
    vl_ingest_options o = {0};
    vl_ingest_result res;
    int rc;
    memset(&res, 0, sizeof res);
    if (!path || !src) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = vl_repo_open(path, &r, err)) != VL_OK)
        goto done;
    o.id = "urn:example:good";
    o.message = "second";
    o.user_name = "Bo";
    o.user_address = "mailto:bo@example.org";
    o.nthreads = 1;
    o.no_identify = 1;
    const char *srcs[] = {src};
    rc = vl_ingest(r, srcs, 1, &o, &res, err);
    see(s, res.id);
    see_int(s, res.version);
    see_int(s, (long long)res.files);
    see_int(s, (long long)res.stored);
done:
    vl_repo_close(r);
    free(src);
    free(path);
    return rc;
}

/* ---- staged heads (OCFL extension 0005): a second revision, a commit -- */

static int stage_one(const char *dir, const char *srcname, int merge, seen *s,
                     vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    char *src = vl_path_join(dir, srcname);
    vl_repo *r = NULL;
    vl_ingest_options o = {0};
    vl_ingest_result res;
    int rc;
    memset(&res, 0, sizeof res);
    if (!path || !src) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = vl_repo_open(path, &r, err)) != VL_OK)
        goto done;
    o.id = "urn:example:good";
    o.message = "staged";
    o.user_name = "Bo";
    o.user_address = "mailto:bo@example.org";
    o.nthreads = 1;
    o.no_identify = 1;
    o.stage = 1;
    o.merge = merge;
    const char *srcs[] = {src};
    rc = vl_ingest(r, srcs, 1, &o, &res, err);
    if (s) {
        see_int(s, res.version);
        see_int(s, res.revision);
        see_int(s, (long long)res.files);
    }
done:
    vl_repo_close(r);
    free(src);
    free(path);
    return rc;
}

/* The good object with a staged head of one revision (new/), and a
 * second source that replaces a file and drops one. */
static int stage_prepare(const char *dir, vl_error *err)
{
    int rc = ingest_prepare(dir, err);
    if (rc == VL_OK)
        rc = write_text(dir, "again/a.txt", "alpha, changed twice\n", err);
    if (rc == VL_OK)
        rc = write_text(dir, "again/sub/b.txt", "bravo\n", err);
    if (rc == VL_OK)
        rc = stage_one(dir, "new", 0, NULL, err);
    return rc;
}

static int stage_run(const char *dir, seen *s, vl_error *err)
{
    return stage_one(dir, "again", 1, s, err);   /* kept files from the head */
}

static int commit_prepare(const char *dir, vl_error *err)
{
    int rc = stage_prepare(dir, err);
    if (rc == VL_OK)
        rc = stage_one(dir, "again", 1, NULL, err);
    return rc;
}

static int commit_run(const char *dir, seen *s, vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    vl_repo *r = NULL;
    vl_mhead_commit_result res;
    int rc;
    memset(&res, 0, sizeof res);
    if (!path)
        return vl_error_set(err, VL_ESYS, "out of memory");
    if ((rc = vl_repo_open(path, &r, err)) == VL_OK)
        rc = vl_mhead_commit(r, "urn:example:good", "committed", &res, err);
    see_int(s, res.version);
    see_int(s, res.revisions);
    vl_repo_close(r);
    free(path);
    return rc;
}

/* A discard of the same two-revision head. */
static int discard_run(const char *dir, seen *s, vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    vl_repo *r = NULL;
    vl_mhead_discard_result res;
    int rc;
    memset(&res, 0, sizeof res);
    if (!path)
        return vl_error_set(err, VL_ESYS, "out of memory");
    if ((rc = vl_repo_open(path, &r, err)) == VL_OK)
        rc = vl_mhead_discard(r, "urn:example:good", &res, err);
    see_int(s, res.version);
    see_int(s, res.revisions);
    see_int(s, res.event_version);
    vl_repo_close(r);
    free(path);
    return rc;
}

/* ---- get: the good object's head version out to a folder ------------- */

static int get_run(const char *dir, seen *s, vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    char *dest = vl_path_join(dir, "out");
    vl_repo *r = NULL;
    int rc;
    if (!path || !dest) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = vl_repo_open_mode(path, VL_OPEN_READ, &r, err)) != VL_OK)
        goto done;
    rc = vl_repo_get(r, "urn:example:good", 0, dest, err);
done:
    vl_repo_close(r);
    free(dest);
    free(path);
    return rc;
}

/* ---- get-replica: damaged files read from a replica -------------------
 * repo_prepare's repository with a replica (a copy of its store made after
 * urn:example:bad was tampered with, so no copy of its one.txt is good),
 * then urn:example:good's a.txt tampered with in the primary alone. */
static int get_replica_prepare(const char *dir, vl_error *err)
{
    char *path = join(dir, "repo"), *store = join(path, "store");
    char *rep = join(dir, "replica");
    char *rel = NULL, *file = NULL;
    vl_repo *r = NULL;
    int rc = repo_prepare(dir, err);
    if (rc == VL_OK)
        rc = copy_tree(store, rep, err);
    if (rc == VL_OK)
        rc = vl_repo_open(path, &r, err);
    if (rc == VL_OK)
        rc = vl_replica_add(r, "r1", rep, err);
    if (rc != VL_OK)
        goto done;
    rel = vl_repo_object_path(r, "urn:example:good");
    file = vl_asprintf("%s/%s/v1/content/data/a.txt", store, rel);
    chmod(file, 0644);
    FILE *f = fopen(file, "r+");
    if (!f || fputs("ALPHA\n", f) < 0 || fclose(f) != 0)
        rc = vl_error_sys(err, "tamper %s", file);
    chmod(file, 0444);
done:
    vl_repo_close(r);
    free(file);
    free(rel);
    free(rep);
    free(store);
    free(path);
    return rc;
}

static void see_note(void *arg, const vl_get_file_note *n)
{
    see(arg, n->logical);
    see(arg, n->source);
    see(arg, n->problem);
}

/* get of the good object (a.txt from the replica), cat of its a.txt, and
 * get --skip-damaged of the bad one (one.txt left out: VL_FINDING). */
static int get_replica_run(const char *dir, seen *s, vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    char *dest = vl_path_join(dir, "out"), *dest2 = vl_path_join(dir, "out2");
    char *catf = vl_path_join(dir, "cat.out");
    vl_get_options o = {NULL, 0, see_note, s};
    vl_repo *r = NULL;
    int rc, fd = -1;
    if (!path || !dest || !dest2 || !catf) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = vl_repo_open_mode(path, VL_OPEN_READ, &r, err)) != VL_OK ||
        (rc = vl_repo_get_opts(r, "urn:example:good", 0, dest, &o, err)) != VL_OK)
        goto done;
    if ((fd = open(catf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        rc = vl_error_sys(err, "open %s", catf);
        goto done;
    }
    if ((rc = vl_repo_cat(r, "urn:example:good", 0, "data/a.txt", fd, see_note, s,
                          err)) != VL_OK)
        goto done;
    o.skip_damaged = 1;
    rc = vl_repo_get_opts(r, "urn:example:bad", 0, dest2, &o, err);
done:
    if (fd >= 0)
        close(fd);
    vl_repo_close(r);
    free(catf);
    free(dest2);
    free(dest);
    free(path);
    return rc;
}

/* ---- replicate and repair: the good object copied to a replica (the bad
 * one is refused: its primary copy does not verify); then, with both
 * copies whole, one file of the primary damaged and put back ------------ */

static int replica_prepare(const char *dir, vl_error *err)
{
    char *path = join(dir, "repo"), *rep = join(dir, "rep");
    vl_repo *r = NULL;
    int rc = repo_prepare(dir, err);
    if (rc == VL_OK)
        rc = vl_repo_open(path, &r, err);
    if (rc == VL_OK)
        rc = vl_replica_add(r, "r1", rep, err);
    vl_repo_close(r);
    free(path);
    free(rep);
    return rc;
}

static void seen_replication(void *arg, const vl_replicate_result *res)
{
    seen *s = arg;
    see(s, res->object_id);
    see(s, res->replica);
    see_int(s, res->state);
    see_int(s, res->to_version);
    see_int(s, (long long)res->files);
}

static int replicate_run(const char *dir, seen *s, vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    vl_repo *r = NULL;
    vl_replicate_options o = {.on_result = seen_replication, .arg = s};
    vl_replicate_summary sum = {0};
    int rc;
    if (!path)
        return vl_error_set(err, VL_ESYS, "out of memory");
    if ((rc = vl_repo_open(path, &r, err)) == VL_OK)
        rc = vl_replicate(r, NULL, 0, &o, &sum, err);
    see_int(s, (long long)sum.updated);
    see_int(s, (long long)sum.refused);
    vl_repo_close(r);
    free(path);
    return rc;
}

static int repair_prepare(const char *dir, vl_error *err)
{
    char *path = join(dir, "repo");
    vl_repo *r = NULL;
    char *rel = NULL, *file = NULL, *obj = NULL;
    const char *ids[] = {"urn:example:good"};
    int rc = replica_prepare(dir, err);
    if (rc == VL_OK)
        rc = vl_repo_open(path, &r, err);
    if (rc == VL_OK)
        rc = vl_replicate(r, ids, 1, NULL, NULL, err);
    if (rc != VL_OK)
        goto done;
    rel = vl_repo_object_path(r, "urn:example:good");
    obj = vl_asprintf("%s/store/%s/v1/content/data", path, rel);
    file = join(obj, "a.txt");
    chmod(obj, 0755);
    chmod(file, 0644);
    FILE *f = fopen(file, "r+");
    if (!f || fputs("ALPHA\n", f) < 0 || fclose(f) != 0)
        rc = vl_error_sys(err, "tamper %s", file);
    chmod(file, 0444);
done:
    free(obj);
    free(file);
    free(rel);
    vl_repo_close(r);
    free(path);
    return rc;
}

static void seen_repair(void *arg, const vl_repair_action *a)
{
    seen *s = arg;
    see(s, a->copy);
    see(s, a->path);
    see(s, a->problem);
    see(s, a->source);
    see_int(s, a->repaired);
}

static int repair_run(const char *dir, seen *s, vl_error *err)
{
    char *path = vl_path_join(dir, "repo");
    vl_repo *r = NULL;
    vl_repair_options o = {.on_action = seen_repair, .arg = s};
    vl_repair_summary sum = {0};
    const char *ids[] = {"urn:example:good"};
    int rc;
    if (!path)
        return vl_error_set(err, VL_ESYS, "out of memory");
    if ((rc = vl_repo_open(path, &r, err)) == VL_OK)
        rc = vl_repair(r, ids, 1, &o, &sum, err);
    see_int(s, (long long)sum.repaired);
    see_int(s, (long long)sum.failed);
    vl_repo_close(r);
    free(path);
    return rc;
}

/* The longest first, so that cases run side by side (-j) end together. */
static const tcase cases[] = {
    {"audit", repo_prepare, audit_run, 0, 1},
    {"repair", repair_prepare, repair_run, 0, 3},
    {"replicate", replica_prepare, replicate_run, 0, 3},
    {"ingest", ingest_prepare, ingest_run, 0, 1},
    {"stage", stage_prepare, stage_run, 0, 1},
    {"commit", commit_prepare, commit_run, 0, 1},
    {"discard", commit_prepare, discard_run, 0, 1},
    {"catalog-open", catalog_prepare, catalog_run, 0, 1},
    {"get-replica", get_replica_prepare, get_replica_run, 0, 2},
    {"get", repo_prepare, get_run, 0, 1},
    {"mets", NULL, mets_run, 0, 1},
    {"validate", repo_prepare, validate_run, 1, 1},
    /* a staged head: its inventory, markers, content and digests */
    {"validate-staged", stage_prepare, validate_run, 1, 1},
    {"pronom-compile", pronom_prepare, pronom_open, 0, 1},
    {"inventory", NULL, inventory_run, 1, 1},
    {"pronom-cache", pronom_cached_prepare, pronom_open, 0, 1},
    {"inventory-validate", NULL, inventory_validate_run, 1, 1},
    {"bagit", bag_prepare, bag_run, 1, 1},
    {"digest", digest_prepare, digest_run, 1, 1},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ======================================================================
 * The driver.
 * ==================================================================== */

typedef struct outcome {
    int rc, status;
    long count, failed;
    size_t nleaks;
    long leaks[64];
    uint64_t seen;
    char msg[512];
} outcome;

enum { RUN_OK, RUN_CRASH, RUN_HANG, RUN_LOST };

typedef struct run {
    int kind;                /* RUN_* */
    int sig;                 /* RUN_CRASH: the signal */
    outcome o;
} run;

static char g_root[PATH_MAX];  /* scratch root */
static int g_verbose;
static int g_summary;        /* -s: one line per finding */
static int g_timeout = 60;

/* A crash in a child prints its stack in the shim's format, so that
 * show_trace can name where it happened. */
static void on_crash(int sig)
{
    void *frames[64];
    char line[PATH_MAX + 256];
    int n = backtrace(frames, 64);
    int len = snprintf(line, sizeof line, "allocfail: crashed with signal %d:\n", sig);
    if (write(2, line, (size_t)len) < 0) { /* nothing to do */ }
    for (int i = 2; i < n; i++) {       /* from the frame that faulted */
        Dl_info info;
        if (!dladdr(frames[i], &info) || !info.dli_fname)
            continue;
        len = snprintf(line, sizeof line, "allocfail-frame %s +0x%lx %s\n",
                       info.dli_fname[0] ? info.dli_fname : "?",
                       (unsigned long)((uintptr_t)frames[i] - (uintptr_t)info.dli_fbase),
                       info.dli_sname ? info.dli_sname : "?");
        if (len > (int)sizeof line - 1)
            len = (int)sizeof line - 1;
        if (write(2, line, (size_t)len) < 0) { /* nothing to do */ }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void child(const tcase *c, const char *work, long fail,
                  const long *trace, size_t ntrace, int fd)
{
    int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on_crash);
    outcome o;
    vl_error err = {0};
    seen s = {0xcbf29ce484222325ULL};
    memset(&o, 0, sizeof o);
    alarm((unsigned)g_timeout);
    af_arm(fail, trace, ntrace);
    o.rc = c->run(work, &s, &err);
    o.count = af_disarm();
    o.failed = af_failed();
    /* libraries' "last error" copies are kept until the next error: not
     * leaks of the case */
    xmlResetLastError();
    ERR_clear_error();
    o.nleaks = af_leaks(o.leaks, 64);
    o.status = err.status;
    o.seen = s.h;
    vl_text_escape_into(o.msg, sizeof o.msg, err.msg);
    if (write(fd, &o, sizeof o) != (ssize_t)sizeof o)
        _exit(3);
    _exit(0);
}

/* One run of case c in a fresh copy of tmpl at work, failing allocation
 * fail (0: none); the child's stderr goes to errfile (NULL: /dev/null). */
static void run_case(const tcase *c, const char *tmpl, const char *work,
                     long fail, const long *trace, size_t ntrace,
                     const char *errfile, run *out)
{
    vl_error err = {0};
    int p[2];
    memset(out, 0, sizeof *out);
    if (c->reads_only)
        work = tmpl;
    else if (copy_tree(tmpl, work, &err) != VL_OK) {
        fprintf(stderr, "torture: %s\n", err.msg);
        exit(2);
    }
    if (pipe(p) != 0) {
        perror("pipe");
        exit(2);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(p[0]);
        if (!g_verbose) {
            int e = open(errfile ? errfile : "/dev/null",
                         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (e >= 0) {
                dup2(e, 2);
                close(e);
            }
        }
        child(c, work, fail, trace, ntrace, p[1]);
    }
    close(p[1]);
    size_t got = 0;
    while (got < sizeof out->o) {
        ssize_t n = read(p[0], (char *)&out->o + got, sizeof out->o - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(st)) {
        out->sig = WTERMSIG(st);
        out->kind = out->sig == SIGALRM ? RUN_HANG : RUN_CRASH;
    } else if (got != sizeof out->o || WEXITSTATUS(st) != 0) {
        out->kind = RUN_LOST;
    }
}

/* What is wrong with run r (failing allocation n) against the normal run
 * base, as text into why; 0 when nothing is. */
static int judge(const run *r, const run *base, long n, char *why, size_t cap)
{
    const outcome *o = &r->o;
    if (r->kind == RUN_CRASH) {
        snprintf(why, cap, "crashed (%s)", strsignal(r->sig));
        return 1;
    }
    if (r->kind == RUN_HANG) {
        snprintf(why, cap, "did not end within %d s", g_timeout);
        return 1;
    }
    if (r->kind == RUN_LOST) {
        snprintf(why, cap, "the child exited without a result");
        return 1;
    }
    if (n && o->failed != n) {
        snprintf(why, cap, "allocation %ld was never made (%ld made): the "
                 "numbering changed between runs", n, o->count);
        return 1;
    }
    if (o->nleaks == (size_t)-1) {
        snprintf(why, cap, "too many blocks live at once to check for leaks "
                 "(make the case smaller)");
        return 1;
    }
    if (o->nleaks) {
        int len = snprintf(why, cap, "%zu block%s left allocated (allocation",
                           o->nleaks, o->nleaks == 1 ? "" : "s");
        for (size_t i = 0; i < o->nleaks && i < 8 && len < (int)cap - 24; i++)
            len += snprintf(why + len, cap - (size_t)len, " #%ld", o->leaks[i]);
        snprintf(why + len, cap - (size_t)len, ")%s%s", o->rc ? ": " : "",
                 o->rc ? o->msg : "");
        return 1;
    }
    if (!n || (o->rc == base->o.rc && o->seen == base->o.seen))
        return 0;               /* the normal outcome */
    if (o->rc == VL_ESYS && o->status == VL_ESYS && o->msg[0])
        return 0;               /* reported as it should be */
    if (o->rc == VL_OK)
        snprintf(why, cap, "succeeded with a different result");
    else if (o->rc == VL_ESYS)
        snprintf(why, cap, "failed without a message (status %d)", o->status);
    else
        snprintf(why, cap, "returned %d (%s) instead of %d or a system error",
                 o->rc, o->msg, base->o.rc);
    return 1;
}

/* The stacks a child printed into file (allocfail-frame lines after an
 * "allocfail: ..." header: the failed or traced allocation, a crash),
 * frames in this binary symbolised with addr2line, each stack shown down
 * to the case's own function.  Printed as TAP comments unless quiet; the
 * innermost frame of this binary in the first stack (where the library
 * asked for the memory) goes to site. */
#define MAX_LINES 256
static void show_trace(const char *file, int quiet, char *site, size_t cap)
{
    FILE *f = fopen(file, "r");
    char line[PATH_MAX + 256], self[PATH_MAX], real[PATH_MAX];
    char obj[PATH_MAX], sym[200];
    static unsigned long offs[MAX_LINES];
    static int kind[MAX_LINES];         /* 0 text, 1 frame, 2 frame of this binary */
    static char text[MAX_LINES][300];
    static char out[MAX_LINES][1024];
    int n = 0;
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = '\0';
    snprintf(site, cap, "?");
    if (!f)
        return;
    while (n < MAX_LINES && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        unsigned long off;
        out[n][0] = '\0';
        if (sscanf(line, "allocfail-frame %4095s +0x%lx %199s", obj, &off, sym) != 3) {
            kind[n] = 0;
            snprintf(text[n++], sizeof text[0], "%.250s", line);
            continue;
        }
        size_t ol = strlen(obj);
        if (ol >= 12 && !strcmp(obj + ol - 12, "allocfail.so"))
            continue;
        kind[n] = realpath(obj, real) && !strcmp(real, self) ? 2 : 1;
        offs[n] = off ? off - 1 : 0;    /* the call, not the return */
        const char *base = strrchr(obj, '/');
        snprintf(text[n++], sizeof text[0], "%s %s", base ? base + 1 : obj, sym);
    }
    fclose(f);
    /* one addr2line for every frame of this binary */
    static char cmd[MAX_LINES * 24 + PATH_MAX];
    int len = snprintf(cmd, sizeof cmd, "addr2line -a -f -i -p -e '%s'", self);
    for (int i = 0; i < n; i++)
        if (kind[i] == 2)
            len += snprintf(cmd + len, sizeof cmd - (size_t)len, " 0x%lx", offs[i]);
    FILE *a = popen(cmd, "r");
    int cur = -1, next_i = 0;
    while (a && fgets(line, sizeof line, a)) {
        unsigned long addr;
        line[strcspn(line, "\n")] = '\0';
        char *rest = line;
        if (sscanf(line, "0x%lx: ", &addr) == 1 && strstr(line, ": ")) {
            /* answers come in the order asked */
            cur = -1;
            for (int i = next_i; i < n; i++)
                if (kind[i] == 2) {
                    cur = i;
                    next_i = i + 1;
                    break;
                }
            rest = strstr(line, ": ") + 2;
        }
        if (cur >= 0) {
            size_t ul = strlen(out[cur]);
            snprintf(out[cur] + ul, sizeof out[cur] - ul, "%s%s",
                     ul ? "\n#       " : "", rest);
        }
    }
    if (a)
        pclose(a);
    char cwd[PATH_MAX];
    size_t cl = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    int found = 0, stop = 0, stacks = 0;
    for (int i = 0; i < n; i++) {
        if (kind[i] == 0) {
            stop = 0;
            stacks++;
            if (!quiet)
                printf("#   %s\n", text[i]);
            continue;
        }
        if (stop)
            continue;
        const char *t = kind[i] == 2 && out[i][0] ? out[i] : text[i];
        char shown[1024];
        /* file names relative to the source tree */
        size_t k = 0;
        for (const char *q = t; *q && k < sizeof shown - 1; q++) {
            if (cl && !strncmp(q, cwd, cl) && q[cl] == '/')
                q += cl + 1;
            shown[k++] = *q;
        }
        shown[k] = '\0';
        if (!quiet)
            printf("#     %s\n", shown);
        if (kind[i] == 2 && !found && stacks <= 1 &&
            !strstr(shown, "common/alloc.c")) {
            found = 1;
            snprintf(site, cap, "%.*s", (int)strcspn(shown, "\n"), shown);
        }
        if (strstr(shown, "tests/faults/torture.c"))
            stop = 1;           /* the case itself: the rest is the driver */
    }
}

typedef struct tally {
    long runs, reported, absorbed, findings, library;
} tally;

/* ---- leaks that are a library's own ------------------------------------
 * libxml2 2.9 leaks what it allocated inside a call when a later
 * allocation in the same call fails (xmlTextWriterStartElement keeps the
 * stack entry it could not push; xmlDocCopyNode the half-copied node).
 * The caller never receives those blocks and cannot free them.  A leak is
 * the library's when every leaked block was allocated inside a library
 * called from the very call site (same return address in this binary)
 * where the failed allocation was made, also inside that library. */

/* The call sites in this binary below the library frames of each stack in
 * file (at most max, in file order), 0 for a stack whose allocation was
 * not made inside a library (vellum's own, or the C library's on
 * vellum's behalf); returns how many stacks. */
static size_t library_call_sites(const char *file, unsigned long *sites,
                                 int *failing, size_t max)
{
    FILE *f = fopen(file, "r");
    char line[PATH_MAX + 256], obj[PATH_MAX], sym[200], self[PATH_MAX], real[PATH_MAX];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    unsigned long off;
    size_t n = 0;
    int stage = 2;      /* 0 allocator hooks in this binary, 1 library, 2 done */
    self[sl > 0 ? sl : 0] = '\0';
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "allocfail: ", 11)) {
            if (n == max)
                break;
            failing[n] = !strncmp(line + 11, "failing", 7);
            sites[n++] = 0;
            stage = 0;
            continue;
        }
        if (stage == 2 ||
            sscanf(line, "allocfail-frame %4095s +0x%lx %199s", obj, &off, sym) != 3)
            continue;
        size_t ol = strlen(obj);
        if (ol >= 12 && !strcmp(obj + ol - 12, "allocfail.so"))
            continue;
        int mine = realpath(obj, real) && !strcmp(real, self);
        if (stage == 0 && !mine)
            /* the C library on vellum's behalf is not a library's own */
            stage = strstr(obj, "/libc.so") ? 2 : 1;
        else if (stage == 0 && mine && strcmp(sym, "?"))
            stage = 2;                  /* a named function of vellum's */
        else if (stage == 1 && mine) {
            sites[n - 1] = off;
            stage = 2;
        }
    }
    fclose(f);
    return n;
}

typedef struct lib_sites {
    unsigned long site[64];
    size_t n;
    char shown[16][200];     /* the call sites named so far */
    size_t nshown;
} lib_sites;

/* 1 when the leak of run r (failing allocation n) is the library's own. */
static int library_leak(const tcase *c, const char *tmpl, const char *work,
                        long n, const run *r, const char *errfile,
                        lib_sites *seen_sites)
{
    run again;
    long trace[65];
    unsigned long sites[65];
    int failing[65];
    size_t nt = 0;
    if (r->o.nleaks > 64)
        return 0;
    trace[nt++] = n;
    for (size_t i = 0; i < r->o.nleaks; i++)
        trace[nt++] = r->o.leaks[i];
    /* one run prints every stack: the failed allocation's and the blocks' */
    run_case(c, tmpl, work, n, trace, nt, errfile, &again);
    if (library_call_sites(errfile, sites, failing, 65) != nt)
        return 0;
    unsigned long site = 0;
    for (size_t i = 0; i < nt; i++)
        if (failing[i])
            site = sites[i];
    for (size_t i = 0; i < nt; i++)
        if (!site || sites[i] != site)
            return 0;
    for (size_t i = 0; i < seen_sites->n; i++)
        if (seen_sites->site[i] == site)
            return 1;
    if (seen_sites->n < 64) {
        char where[1024];
        seen_sites->site[seen_sites->n++] = site;
        run_case(c, tmpl, work, n, &n, 1, errfile, &again);
        show_trace(errfile, 1, where, sizeof where);
        for (size_t i = 0; i < seen_sites->nshown; i++)
            if (!strncmp(seen_sites->shown[i], where, sizeof seen_sites->shown[i] - 1))
                return 1;
        if (seen_sites->nshown < 16)
            snprintf(seen_sites->shown[seen_sites->nshown++],
                     sizeof seen_sites->shown[0], "%.199s", where);
        printf("# %s: a library leaks what it allocated in the call at %s "
               "when an allocation in it fails (first at allocation %ld; "
               "not vellum's to free)\n", c->name, where, n);
    }
    return 1;
}

static int torture(const tcase *c, int num, long only, int list_only)
{
    char tmpl[PATH_MAX + 64], work[PATH_MAX + 64], errfile[PATH_MAX + 64];
    vl_error err = {0};
    run base, r;
    tally t = {0};
    lib_sites sites = {{0}, 0, {{0}}, 0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    snprintf(tmpl, sizeof tmpl, "%s/%s.template", g_root, c->name);
    snprintf(work, sizeof work, "%s/%s.work", g_root, c->name);
    snprintf(errfile, sizeof errfile, "%s/%s.stderr", g_root, c->name);
    if (vl_fs_mkdirs(tmpl, &err) != VL_OK ||
        (c->prepare && c->prepare(tmpl, &err) != VL_OK)) {
        printf("not ok %d - %s: preparing it failed: %s\n", num, c->name, err.msg);
        return 1;
    }
    /* once in this process: one-time set-ups happen here, not in a child */
    {
        seen s = {0};
        vl_error e2 = {0};
        if (copy_tree(tmpl, work, &e2) == VL_OK)
            c->run(work, &s, &e2);
        ERR_clear_error();
    }
    run_case(c, tmpl, work, 0, NULL, 0, errfile, &base);
    char why[1024];
    if (judge(&base, &base, 0, why, sizeof why)) {
        printf("not ok %d - %s: the undisturbed run %s\n", num, c->name, why);
        return 1;
    }
    long count = base.o.count;
    if (list_only) {
        printf("%-20s %6ld allocations, status %d%s%s\n", c->name, count,
               base.o.rc, base.o.rc ? ": " : "", base.o.msg);
        return 0;
    }
    long shown = 0;
    long from = only ? only : 1, to = only ? only : count;
    for (long n = from; n <= to; n++) {
        int stride = c->stride > g_min_stride ? c->stride : g_min_stride;
        if (!only && !g_all_allocs && stride > 1 && n > 100 && n <= count - 100 &&
            n % stride != 0)
            continue;
        run_case(c, tmpl, work, n, NULL, 0, errfile, &r);
        t.runs++;
        if (judge(&r, &base, n, why, sizeof why)) {
            if (r.kind == RUN_OK && r.o.nleaks && r.o.failed == n &&
                library_leak(c, tmpl, work, n, &r, errfile, &sites)) {
                t.library++;
                run copy = r;
                copy.o.nleaks = 0;
                if (!judge(&copy, &base, n, why, sizeof why))
                    continue;   /* otherwise as it should be */
            }
            t.findings++;
            char site[1024];
            if (g_summary) {
                /* one line each: where the failed allocation was asked for */
                run_case(c, tmpl, work, n, &n, 1, errfile, &r);
                show_trace(errfile, 1, site, sizeof site);
                printf("# %s %ld: %s @ %s\n", c->name, n, why, site);
            } else if (shown++ < 5 || only) {
                printf("# %s: failing allocation %ld of %ld: %s\n", c->name, n,
                       count, why);
                /* the same run again, with the stacks */
                run_case(c, tmpl, work, n, &n, 1, errfile, &r);
                show_trace(errfile, 0, site, sizeof site);
                if (r.o.nleaks) {
                    run_case(c, tmpl, work, n, r.o.leaks, 1, errfile, &r);
                    show_trace(errfile, 0, site, sizeof site);
                }
            }
        } else if (r.o.rc == base.o.rc && r.o.seen == base.o.seen) {
            t.absorbed++;
        } else {
            t.reported++;
        }
        if (only && g_verbose)
            printf("# run %ld: status %d: %s\n", n, r.o.rc, r.o.msg);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%s %d - %s: %ld allocations, %ld runs: %ld reported, %ld absorbed, "
           "%ld library leak%s, %ld finding%s (%.1f s)\n",
           t.findings ? "not ok" : "ok", num, c->name, count, t.runs,
           t.reported, t.absorbed, t.library, t.library == 1 ? "" : "s",
           t.findings, t.findings == 1 ? "" : "s", secs);
    vl_fs_rmtree(work, &err);
    return t.findings != 0;
}

static cpu_set_t g_cpus;      /* the cores this process was given */

/* The n-th core of g_cpus (round robin). */
static int nth_cpu(size_t n)
{
    size_t count = (size_t)CPU_COUNT(&g_cpus), k = n % (count ? count : 1);
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &g_cpus) && k-- == 0)
            return i;
    return 0;
}

/* Each case in a process of its own on one core, up to jobs at a time;
 * the TAP lines in case order as they come.  Returns 1 when any failed. */
static int run_all(const tcase **list, size_t n, int jobs, long only,
                   int list_only)
{
    pid_t pids[NCASES];
    int done[NCASES] = {0}, status[NCASES] = {0};
    size_t next = 0, printed = 0, running = 0;
    int failed = 0;
    char out[PATH_MAX + 64];
    if (jobs < 1)
        jobs = 1;
    while (printed < n) {
        while (next < n && running < (size_t)jobs) {
            snprintf(out, sizeof out, "%s/%zu.tap", g_root, next);
            fflush(stdout);
            fflush(stderr);
            pid_t pid = fork();
            if (pid < 0) {
                perror("torture: fork");
                return 1;
            }
            if (pid == 0) {
                cpu_set_t one;
                CPU_ZERO(&one);
                CPU_SET(nth_cpu(next), &one);
                if (sched_setaffinity(0, sizeof one, &one) != 0 || vl_ncpu() != 1) {
                    printf("not ok %zu - %s: cannot run on one core\n",
                           next + 1, list[next]->name);
                    _exit(1);
                }
                if (!freopen(out, "w", stdout))
                    _exit(2);
                int rc = torture(list[next], (int)next + 1, only, list_only);
                fflush(stdout);
                _exit(rc ? 1 : 0);
            }
            pids[next++] = pid;
            running++;
        }
        int st;
        pid_t pid = wait(&st);
        if (pid < 0)
            break;
        for (size_t i = 0; i < next; i++)
            if (pids[i] == pid && !done[i]) {
                done[i] = 1;
                status[i] = st;
                running--;
            }
        /* print what is finished, in order */
        while (printed < n && done[printed]) {
            snprintf(out, sizeof out, "%s/%zu.tap", g_root, printed);
            FILE *f = fopen(out, "r");
            char line[4096];
            int any = 0;
            while (f && fgets(line, sizeof line, f)) {
                fputs(line, stdout);
                any |= !strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7);
            }
            if (f)
                fclose(f);
            int st_i = status[printed];
            if (!WIFEXITED(st_i) || WEXITSTATUS(st_i) != 0) {
                failed = 1;
                if (!any)
                    printf("not ok %zu - %s: the case's process %s %d\n",
                           printed + 1, list[printed]->name,
                           WIFSIGNALED(st_i) ? "died of signal" : "exited",
                           WIFSIGNALED(st_i) ? WTERMSIG(st_i) : WEXITSTATUS(st_i));
            }
            fflush(stdout);
            printed++;
        }
    }
    return failed;
}

static void usage(void)
{
    fprintf(stderr, "usage: torture [-v] [-s] [-l] [-j JOBS] [-c CASE]... [-n N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *only_cases[NCASES + 1] = {0};
    size_t nonly = 0;
    long only_n = 0;
    int list_only = 0, opt, jobs = 0;

#if defined(__SANITIZE_ADDRESS__)
    /* The shim would stand in front of ASan's own allocator. */
    printf("1..0 # SKIP the allocation torture runs on the plain build\n");
    return 0;
#endif
    af_arm = (void (*)(long, const long *, size_t))dlsym(RTLD_DEFAULT,
                                                         "vl_allocfail_arm");
    if (!af_arm) {
        /* preload the shim beside this binary and start again */
        char self[PATH_MAX], shim[PATH_MAX + 32];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0 || getenv("VELLUM_TORTURE_REEXEC")) {
            fprintf(stderr, "torture: the allocfail shim is not loaded\n");
            return 2;
        }
        self[n] = '\0';
        snprintf(shim, sizeof shim, "%s", self);
        snprintf(strrchr(shim, '/') + 1, 32, "allocfail.so");
        setenv("LD_PRELOAD", shim, 1);
        setenv("VELLUM_TORTURE_REEXEC", "1", 1);
        execv(self, argv);
        perror("torture: exec");
        return 2;
    }
    unsetenv("LD_PRELOAD");          /* not into addr2line */
    af_disarm = (long (*)(void))dlsym(RTLD_DEFAULT, "vl_allocfail_disarm");
    af_failed = (long (*)(void))dlsym(RTLD_DEFAULT, "vl_allocfail_failed");
    af_leaks = (size_t (*)(long *, size_t))dlsym(RTLD_DEFAULT, "vl_allocfail_leaks");
    if (!af_disarm || !af_failed || !af_leaks) {
        fprintf(stderr, "torture: the allocfail shim is incomplete\n");
        return 2;
    }
    while ((opt = getopt(argc, argv, "avslc:n:t:j:S:")) != -1) {
        switch (opt) {
        case 'v': g_verbose = 1; break;
        case 's': g_summary = 1; break;
        case 'l': list_only = 1; break;
        case 'c':
            if (nonly < NCASES)
                only_cases[nonly++] = optarg;
            break;
        case 'n': only_n = atol(optarg); break;
        case 'a': g_all_allocs = 1; break;
        case 'S': g_min_stride = atoi(optarg) > 1 ? atoi(optarg) : 1; break;
        case 't': g_timeout = atoi(optarg); break;
        case 'j': jobs = atoi(optarg); break;
        default: usage();
        }
    }
    /* The cores there are: one case on each at a time (-j), each case
     * on one core, so that the library's worker pools (every core by
     * default) run inline and allocations come in the same order every
     * run. */
    if (sched_getaffinity(0, sizeof g_cpus, &g_cpus) != 0) {
        CPU_ZERO(&g_cpus);
        CPU_SET(0, &g_cpus);
    }
    if (jobs <= 0)
        jobs = CPU_COUNT(&g_cpus) < 4 ? CPU_COUNT(&g_cpus) : 4;
    /* a fixed clock, so every run writes the same bytes */
    setenv("VELLUM_NOW", "2026-02-01T00:00:00Z", 1);
    /* event identifiers in sequence: a case's METS.xml, its digest and the
     * order of inventory rows that follows from it are the same in every
     * child, so allocations are numbered alike */
    setenv("VELLUM_UUID_SEED", "1", 1);
    const char *base = getenv("VELLUM_TORTURE_DIR");
    if (!base || !*base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(g_root, sizeof g_root, "%s/vl-torture-XXXXXX", base);
    if (!mkdtemp(g_root)) {
        perror("torture: mkdtemp");
        return 2;
    }
    int failed = 0, num = 0;
    size_t todo = 0;
    for (size_t i = 0; i < NCASES; i++) {
        int want = nonly == 0;
        for (size_t j = 0; j < nonly; j++)
            want |= !strcmp(only_cases[j], cases[i].name);
        todo += (size_t)want;
    }
    if (!todo)
        usage();
    if (!list_only)
        printf("1..%zu\n", todo);
    const tcase *chosen[NCASES];
    for (size_t i = 0; i < NCASES; i++) {
        int want = nonly == 0;
        for (size_t j = 0; j < nonly; j++)
            want |= !strcmp(only_cases[j], cases[i].name);
        if (want)
            chosen[num++] = &cases[i];
    }
    failed = run_all(chosen, (size_t)num, jobs, only_n, list_only);
    vl_error err = {0};
    vl_fs_rmtree(g_root, &err);
    return failed;
}
