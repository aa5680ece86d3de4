/* The ingest pipeline: sources are listed and checked, every byte is read
 * once to be staged, hashed and identified (on every core for folders,
 * streamed for archives), the deposit is checked against a bag's manifests
 * or a donor's manifest, and the version is committed with its PREMIS
 * events.  Any refusal drops the staging area: nothing reaches the store. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest_internal.h"
#include "vl_metadata.h"

void vl_run_warn(vl_ingest_run *run, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&run->prog_mu);
    run->warnings++;
    if (run->o->warn)
        run->o->warn(run->o->cb_arg, msg);
    pthread_mutex_unlock(&run->prog_mu);
}

int vl_run_refuse_size(vl_ingest_run *run, uint64_t need, vl_error *err,
                       const char *fmt, ...)
{
    char what[512], need_h[32], limit_h[32], why[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    vl_size_format(need, need_h);
    vl_size_format(run->limit, limit_h);
    if (run->limit_is_option)
        snprintf(why, sizeof why, "over --max-bytes %llu (%s)",
                 (unsigned long long)run->limit, limit_h);
    else
        vl_space_describe(&run->space, why, sizeof why);
    return vl_error_set(err, VL_EINPUT, "%s %llu bytes (%s); %s", what,
                        (unsigned long long)need, need_h, why);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vl_run_progress(vl_ingest_run *run, size_t files, uint64_t bytes, int force)
{
    if (!run->o->progress)
        return;
    pthread_mutex_lock(&run->prog_mu);
    run->prog.files_done += files;
    run->prog.bytes_done += bytes;
    long long t = now_ms();
    if (force || t - run->last_report_ms >= 200) {
        run->last_report_ms = t;
        run->o->progress(run->o->cb_arg, &run->prog);
    }
    pthread_mutex_unlock(&run->prog_mu);
}

static void record_result(const vl_record *r, vl_digest_result *d)
{
    memset(d, 0, sizeof *d);
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        if (r->hex[a]) {
            d->mask |= VL_DIGEST_BIT(a);
            snprintf(d->hex[a], sizeof d->hex[a], "%s", r->hex[a]);
        }
}

/* Digests a check needs that the first read did not compute (a bag in an
 * archive names its algorithms only in manifests that may come after the
 * payload): read the staged copy again for just those. */
static int add_missing_digests(vl_record *r, unsigned need, vl_error *err)
{
    unsigned missing = 0;
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        if ((need & VL_DIGEST_BIT(a)) && !r->hex[a])
            missing |= VL_DIGEST_BIT(a);
    if (!missing)
        return VL_OK;
    vl_digest_result d;
    int rc = vl_digest_file(r->staged, missing, &d, NULL, err);
    for (int a = 0; rc == VL_OK && a < VL_DIGEST_COUNT; a++)
        if ((missing & VL_DIGEST_BIT(a)) && !(r->hex[a] = vl_strdup(d.hex[a])))
            rc = vl_error_set(err, VL_ESYS, "out of memory");
    return rc;
}

static void report_line(void *arg, const char *msg)
{
    vl_ingest_run *run = arg;
    vl_run_warn(run, "%s", msg);
}

/* ---- archive entries: final names ---------------------------------------- */

/* A bag inside an archive sits at the top or in one top folder. */
static const char *archive_bag_root(vl_ingest_run *run)
{
    static char root[4096];
    for (size_t i = 0; i < run->dep.n; i++) {
        const char *l = run->dep.recs[i].logical;
        if (!strcmp(l, "bagit.txt"))
            return "";
        const char *slash = strchr(l, '/');
        if (slash && !strcmp(slash + 1, "bagit.txt") &&
            (size_t)(slash - l) + 2 < sizeof root) {
            snprintf(root, sizeof root, "%.*s/", (int)(slash - l), l);
            /* every entry must be under that folder */
            for (size_t j = 0; j < run->dep.n; j++)
                if (strncmp(run->dep.recs[j].logical, root, strlen(root)) != 0)
                    return NULL;
            return root;
        }
    }
    return NULL;
}

/* Give archive entries their logical paths and move their staged bytes
 * from scratch to the content folder. */
static int refuse_broken_bag(const char *source, const char *manifest, vl_error *err);
static int is_payload_manifest(const char *name);
static void report_line(void *arg, const char *msg);

/* An archive whose top (or one top folder) has data/ and a payload manifest
 * but no bagit.txt: the manifest's name, else NULL. */
static const char *archive_broken_bag(vl_ingest_run *run)
{
    for (size_t i = 0; i < run->dep.n; i++) {
        const char *l = run->dep.recs[i].logical, *slash = strchr(l, '/');
        size_t rl = 0;
        if (!is_payload_manifest(l)) {
            if (!slash || !is_payload_manifest(slash + 1))
                continue;
            rl = (size_t)(slash - l) + 1;
        }
        for (size_t j = 0; j < run->dep.n; j++) {
            const char *o = run->dep.recs[j].logical;
            if (!strncmp(o, l, rl) && !strncmp(o + rl, "data/", 5))
                return l + rl;
        }
    }
    return NULL;
}

static int place_archive_entries(vl_ingest_run *run, const char *source, int bag_ok,
                                 vl_error *err)
{
    const char *bag_root = bag_ok ? archive_bag_root(run) : NULL, *broken;
    int rc = VL_OK, has_data = 0;
    if (bag_ok && !bag_root && (broken = archive_broken_bag(run)) != NULL)
        return refuse_broken_bag(source, broken, err);
    if (bag_root) {
        if (!(run->bag = vl_bag_new()))
            return vl_error_set(err, VL_ESYS, "out of memory");
        vl_bag_set_warn(run->bag, report_line, run);
    }
    for (size_t i = 0; i < run->dep.n && rc == VL_OK; i++) {
        vl_record *r = &run->dep.recs[i];
        char *logical = NULL, *dst = NULL;
        vl_error why = {0};
        if (!r->from_archive)
            continue;
        if (bag_root) {
            const char *rel = r->logical + strlen(bag_root);
            if (!strncmp(rel, "data/", 5)) {
                has_data = 1;
                logical = vl_strdup(rel);
            } else {
                logical = vl_path_join(VL_BAG_TAG_DIR, rel);
                vl_buf b;
                if ((rc = vl_fs_read_file(r->staged, 256u << 20, &b, err)) == VL_OK) {
                    rc = vl_bag_add_tag_file(run->bag, rel, b.data, b.len, err);
                    vl_buf_release(&b);
                }
            }
        } else {
            logical = vl_path_join(VL_PAYLOAD_DIR, r->logical);
        }
        if (rc != VL_OK)
            break;
        if (!logical) {
            rc = vl_error_set(err, VL_ESYS, "out of memory");
            break;
        }
        /* The limits judge the path as stored, known only now (a bag's
         * root folder is dropped, its tag files go to metadata/bag/). */
        if (vl_logical_path_check(logical, &why) != VL_OK ||
            vl_logical_path_limits(logical, &why) != VL_OK) {
            char *shown = vl_name_shorten(r->shown, VL_NAME_SHOWN_MAX);
            rc = vl_error_set(err, VL_EINPUT, "refusing entry %s: %s",
                              shown ? shown : "?", why.msg);
            free(shown);
            free(logical);
            break;
        }
        if ((rc = vl_txn_stage_path(run->txn, logical, &dst, err)) == VL_OK &&
            rename(r->staged, dst) != 0)
            rc = vl_error_sys(err, "cannot move %s to %s", r->staged, dst);
        if (rc == VL_OK) {
            free(r->logical);
            free(r->staged);
            r->logical = logical;
            r->staged = dst;
        } else {
            free(logical);
            free(dst);
        }
    }
    /* Without a payload file, whether the archive had an empty data/
     * folder is not known here: not checked then. */
    if (rc == VL_OK && run->bag && has_data)
        vl_bag_set_payload_dir(run->bag, 1);
    return rc;
}

/* ---- checks against a bag and a donor manifest ------------------------- */

static int check_bag(vl_ingest_run *run, vl_error *err)
{
    size_t nextra = vl_bag_payload_extra_count(run->bag);
    const char *names[32], *extra[32];
    char (*hex)[VL_DIGEST_HEX_MAX] = NULL;
    int rc = VL_OK;
    for (size_t k = 0; k < nextra && k < 32; k++)
        names[k] = vl_bag_payload_extra_name(run->bag, k);
    if (nextra && !(hex = calloc(nextra, sizeof *hex)))
        return vl_error_set(err, VL_ESYS, "out of memory");
    for (size_t k = 0; k < nextra; k++)
        extra[k] = hex[k];
    for (size_t i = 0; i < run->dep.n && rc == VL_OK; i++) {
        vl_record *r = &run->dep.recs[i];
        vl_digest_result d;
        if (strncmp(r->logical, "data/", 5) != 0)
            continue;
        if ((rc = add_missing_digests(r, vl_bag_payload_mask(run->bag), err)) != VL_OK)
            break;
        /* Algorithms outside the digest engine's (a manifest in sha384 or
         * sha3-256) cost one more read of the staged copy. */
        if (nextra && (rc = vl_digest_file_named(r->staged, names, nextra, hex, NULL,
                                                 err)) != VL_OK)
            break;
        record_result(r, &d);
        rc = vl_bag_payload_seen(run->bag, r->logical, r->size, &d,
                                 nextra ? extra : NULL, err);
    }
    free(hex);
    if (rc != VL_OK)
        return rc;
    rc = vl_bag_verify(run->bag, report_line, run, err);
    if (rc == VL_EINPUT && vl_bag_to_fetch(run->bag))
        rc = vl_error_set(err, VL_EINPUT, "refusing the bag: it is incomplete: %zu "
                          "file%s that fetch.txt lists %s still to be fetched (each "
                          "problem is listed above); vellum does not download",
                          vl_bag_to_fetch(run->bag),
                          vl_bag_to_fetch(run->bag) == 1 ? "" : "s",
                          vl_bag_to_fetch(run->bag) == 1 ? "is" : "are");
    else if (rc == VL_EINPUT)
        rc = vl_error_set(err, VL_EINPUT, "refusing the bag: it does not match its "
                          "manifests (each problem is listed above)");
    return rc;
}

/* A bag whose declaration is missing: data/ and a payload manifest in a
 * folder with no bagit.txt.  Stored as an ordinary folder it would keep
 * manifests nobody checked, so it is refused unless the depositor says it
 * is not a bag (--not-a-bag). */
static int refuse_broken_bag(const char *source, const char *manifest, vl_error *err)
{
    char *shown = vl_name_shorten(source, VL_NAME_SHOWN_MAX);
    char *man = vl_name_escape(manifest);
    int rc = vl_error_set(err, VL_EINPUT, "refusing %s: a broken BagIt bag: it has "
                          "data/ and %s, but bagit.txt is missing; give --not-a-bag "
                          "to deposit it as an ordinary folder", shown ? shown : "?",
                          man ? man : "?");
    free(shown);
    free(man);
    return rc;
}

static int is_payload_manifest(const char *name)
{
    size_t n = strlen(name);
    return n > 13 && !strncmp(name, "manifest-", 9) && !strcmp(name + n - 4, ".txt") &&
           !strchr(name, '/');
}

/* Donor manifest paths are relative to the deposit: "a/b.txt" matches
 * data/a/b.txt; "data/a/b.txt" and "./a/b.txt" are accepted too. */
static const char *manifest_expect(const vl_manifest *m, const char *logical)
{
    const char *rel = logical + strlen(VL_PAYLOAD_DIR) + 1;
    const char *hex = vl_manifest_lookup(m, rel);
    if (!hex)
        hex = vl_manifest_lookup(m, logical);
    if (!hex) {
        char *dot = vl_asprintf("./%s", rel);
        if (dot)
            hex = vl_manifest_lookup(m, dot);
        free(dot);
    }
    return hex;
}

static int check_manifest(vl_ingest_run *run, const vl_manifest *m, vl_error *err)
{
    vl_digest_alg alg = vl_manifest_alg(m);
    size_t problems = 0;
    json_t *present = json_object();
    if (!present)
        return vl_error_set(err, VL_ESYS, "out of memory");
    for (size_t i = 0; i < run->dep.n; i++) {
        vl_record *r = &run->dep.recs[i];
        if (strncmp(r->logical, "data/", 5) != 0)
            continue;
        json_object_set_new(present, r->logical + 5, json_true());
        const char *want = manifest_expect(m, r->logical);
        if (!want) {
            vl_run_warn(run, "%s: not listed in the manifest", r->logical + 5);
            problems++;
        } else if (!r->hex[alg] || strcasecmp(want, r->hex[alg]) != 0) {
            vl_run_warn(run, "%s: %s mismatch: manifest says %s, file has %s",
                        r->logical + 5, vl_digest_name(alg), want,
                        r->hex[alg] ? r->hex[alg] : "?");
            problems++;
        }
    }
    for (size_t i = 0; i < vl_manifest_count(m); i++) {
        const char *p, *hex;
        vl_manifest_entry(m, i, &p, &hex);
        const char *q = p;
        while (q[0] == '.' && q[1] == '/')
            q += 2;
        if (!strncmp(q, "data/", 5) && !json_object_get(present, q) &&
            json_object_get(present, q + 5))
            continue;
        if (!json_object_get(present, q)) {
            vl_run_warn(run, "%s: listed in the manifest but missing from the deposit", p);
            problems++;
        }
    }
    json_decref(present);
    if (problems)
        return vl_error_set(err, VL_EINPUT, "refusing the deposit: %zu discrepanc%s "
                            "with the manifest (listed above); nothing was stored",
                            problems, problems == 1 ? "y" : "ies");
    return VL_OK;
}

/* ---- events ------------------------------------------------------------- */

static int add_events(vl_ingest_run *run, const char *const *sources, size_t nsources,
                      const vl_manifest *m, vl_error *err)
{
    vl_txn *t = run->txn;
    vl_event ev;
    char detail[2048], algs[128] = "";
    char depositor[512];
    const char *magic = vl_identify_library_version();
    const char *agents_ingest[3], *agents_digest[2], *agents_id[2], *agents_un[2];
    int rc;
    size_t pos = 0;
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        if (run->mask & VL_DIGEST_BIT(a))
            pos += (size_t)snprintf(algs + pos, sizeof algs - pos, "%s%s",
                                    pos ? ", " : "", vl_digest_name((vl_digest_alg)a));
    snprintf(depositor, sizeof depositor, "%s%s%s%s",
             run->o->user_name ? run->o->user_name : "unknown depositor",
             run->o->user_address ? " <" : "",
             run->o->user_address ? run->o->user_address : "",
             run->o->user_address ? ">" : "");
    agents_ingest[0] = vl_agent_vellum();
    agents_ingest[1] = depositor;
    agents_digest[0] = vl_agent_vellum();
    agents_digest[1] = vl_agent_openssl();

    pos = 0;
    detail[0] = '\0';
    for (size_t i = 0; i < nsources; i++)
        pos += (size_t)snprintf(detail + pos, pos < sizeof detail ? sizeof detail - pos : 0,
                                "%s%s", i ? ", " : "", sources[i]);
    char ingest_detail[2600];
    snprintf(ingest_detail, sizeof ingest_detail, "Deposited %zu files (%llu bytes) "
             "from %s", run->dep.n, (unsigned long long)run->dep.bytes, detail);
    vl_event_init(&ev, VL_EV_INGESTION, NULL);
    ev.detail = ingest_detail;
    ev.agents = agents_ingest;
    ev.nagents = 2;
    if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
        return rc;

    snprintf(detail, sizeof detail, "Computed %s for every file, from one read of "
             "its bytes", algs);
    vl_event_init(&ev, VL_EV_DIGEST, NULL);
    ev.detail = detail;
    ev.agents = agents_digest;
    ev.nagents = 2;
    if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
        return rc;

    if (!run->o->no_identify) {
        size_t with_puid = 0, unknown = 0;
        const char **unk = calloc(run->dep.n + 1, sizeof *unk);
        if (!unk)
            return vl_error_set(err, VL_ESYS, "out of memory");
        for (size_t i = 0; i < run->dep.n; i++) {
            if (run->dep.recs[i].puid)
                with_puid++;
            /* with signatures, unidentified means no PUID */
            if (run->sigs ? !run->dep.recs[i].puid
                          : (!run->dep.recs[i].mime ||
                             !strcmp(run->dep.recs[i].mime, "application/octet-stream")))
                unk[unknown++] = run->dep.recs[i].logical;
        }
        if (run->sigs)
            snprintf(detail, sizeof detail, "Identified the format of %zu files "
                     "with PRONOM signatures (%s), libmagic for text encodings "
                     "and for what PRONOM does not identify; %zu have a PRONOM "
                     "identifier, %zu have none", run->dep.n,
                     vl_signatures_describe(run->sigs), with_puid,
                     run->dep.n - with_puid);
        else
            snprintf(detail, sizeof detail, "Identified the format of %zu files with "
                     "libmagic and vellum's PRONOM table (no PRONOM signature file "
                     "is set); %zu have a PRONOM identifier", run->dep.n, with_puid);
        agents_id[0] = vl_agent_vellum();
        agents_id[1] = magic;
        vl_event_init(&ev, VL_EV_FORMAT_ID, NULL);
        if (run->sigs && unknown)
            ev.outcome = "warning";
        ev.detail = detail;
        ev.agents = agents_id;
        ev.nagents = 2;
        rc = vl_txn_add_event(t, &ev, err);
        /* files whose outcome differs get their own event naming them */
        if (rc == VL_OK && unknown) {
            vl_event_init(&ev, VL_EV_FORMAT_ID, NULL);
            ev.outcome = "warning";
            ev.detail = run->sigs ? "Format not identified by PRONOM signatures"
                                  : "Format not identified (application/octet-stream)";
            ev.files = unk;
            ev.nfiles = unknown > 1000 ? 1000 : unknown;
            ev.agents = agents_id;
            ev.nagents = 2;
            rc = vl_txn_add_event(t, &ev, err);
        }
        free(unk);
        if (rc != VL_OK)
            return rc;
    }
    if (run->archives) {
        snprintf(detail, sizeof detail, "Unpacked %zu archive%s with libarchive, "
                 "streaming each entry into staging: %s", run->archives,
                 run->archives == 1 ? "" : "s", run->archive_names ? run->archive_names : "");
        agents_un[0] = vl_agent_vellum();
        agents_un[1] = vl_archive_library_version();
        vl_event_init(&ev, VL_EV_UNPACKING, NULL);
        ev.detail = detail;
        ev.agents = agents_un;
        ev.nagents = 2;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            return rc;
    }
    if (run->bag) {
        size_t nf = vl_bag_fetch_count(run->bag);
        snprintf(detail, sizeof detail, "BagIt %s bag validated: bagit.txt, bag-info.txt, "
                 "payload and tag manifests, Payload-Oxum%s", vl_bag_version(run->bag),
                 nf ? "; every file fetch.txt lists was present" : "");
        vl_event_init(&ev, VL_EV_VALIDATION, NULL);
        ev.detail = detail;
        ev.agents = agents_ingest;
        ev.nagents = 1;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            return rc;
        vl_event_init(&ev, VL_EV_FIXITY, NULL);
        ev.detail = "Every payload file matched the bag's payload manifests";
        ev.agents = agents_digest;
        ev.nagents = 2;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            return rc;
    }
    if (m) {
        snprintf(detail, sizeof detail, "Every file matched the donor's %s manifest %s "
                 "(%zu entries)", vl_digest_name(vl_manifest_alg(m)),
                 run->o->manifest_path, vl_manifest_count(m));
        vl_event_init(&ev, VL_EV_FIXITY, NULL);
        ev.detail = detail;
        ev.agents = agents_digest;
        ev.nagents = 2;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            return rc;
    }
    return VL_OK;
}

/* ---- the run ------------------------------------------------------------ */

struct bag_fixity_ctx {
    vl_ingest_run *run;
    vl_digest_alg inv_alg;
    int rc;
    vl_error *err;
};

static void keep_bag_digest(void *arg, const char *rel, vl_digest_alg alg, const char *hex)
{
    struct bag_fixity_ctx *c = arg;
    if (alg == c->inv_alg || c->rc != VL_OK)
        return;
    c->rc = vl_txn_add_fixity(c->run->txn, rel, alg, hex, c->err);
}

static int add_to_txn(vl_ingest_run *run, const vl_manifest *m, vl_error *err)
{
    vl_digest_alg inv_alg = vl_repo_digest(run->repo);
    const vl_inventory *head = vl_txn_head_inventory(run->txn);
    int rc = VL_OK;
    if (head)
        inv_alg = vl_inventory_digest_alg(head);
    for (size_t i = 0; i < run->dep.n && rc == VL_OK; i++) {
        vl_record *r = &run->dep.recs[i];
        vl_digest_result d;
        record_result(r, &d);
        rc = vl_txn_add(run->txn, r->logical, &d, r->size, 1, err);
        /* digests computed for another reason go to the fixity block too */
        for (int a = 0; rc == VL_OK && a < VL_DIGEST_COUNT; a++)
            if (a != (int)inv_alg && r->hex[a] &&
                ((m && a == (int)vl_manifest_alg(m)) ||
                 (run->bag && (vl_bag_payload_mask(run->bag) & VL_DIGEST_BIT(a)))))
                rc = vl_txn_add_fixity(run->txn, r->logical, (vl_digest_alg)a, r->hex[a], err);
    }
    return rc;
}

static int classify_is_archive(vl_ingest_run *run, const char *path)
{
    struct stat st;
    /* A hard-linked archive is listed like any file, and refused (or left
     * out) there as a hard link. */
    if (run->o->no_unpack || lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_nlink > 1 || st.st_size == 0)
        return 0;
    return vl_archive_is_container_file(path);
}

static void record_formats(vl_ingest_run *run, const char *id, vl_digest_alg alg)
{
    vl_catalog *cat = vl_repo_catalog(run->repo);
    vl_error err = {0};
    /* One transaction for all rows: one autocommit per file cost two locks
     * and a journal write each, more than identifying the file. */
    int txn = vl_catalog_begin(cat, &err) == VL_OK;
    for (size_t i = 0; i < run->dep.n; i++) {
        vl_record *r = &run->dep.recs[i];
        if (!r->mime || !r->hex[alg])
            continue;
        vl_catalog_format f = {r->mime, r->encoding, r->description, r->puid,
                               r->format_name, r->format_version, r->basis,
                               r->warning, r->others, r->signatures};
        vl_catalog_format_put(cat, id, r->hex[alg], &f, &err);
    }
    /* The version's own METS.xml: vellum wrote it, so its format is known. */
    if (run->mets_digest[alg][0]) {
        vl_catalog_format f = {"application/xml", "utf-8", "METS document (XML 1.0)",
                               "fmt/101", "Extensible Markup Language", "1.0",
                               NULL, NULL, NULL, NULL};
        vl_catalog_format_put(cat, id, run->mets_digest[alg], &f, &err);
    }
    if (txn)
        vl_catalog_commit(cat, &err);
}

/* Per-file descriptive metadata must name files of the new state. */
static int check_file_metadata(vl_ingest_run *run, const vl_descriptive *desc,
                               vl_error *err)
{
    json_t *have = json_object();
    int rc = VL_OK;
    if (!have)
        return vl_error_set(err, VL_ESYS, "out of memory");
    for (size_t i = 0; i < run->dep.n; i++)
        json_object_set_new(have, run->dep.recs[i].logical, json_true());
    const vl_inventory *head = vl_txn_head_inventory(run->txn);
    for (size_t i = 0; i < vl_descriptive_file_count(desc) && rc == VL_OK; i++) {
        const char *p = vl_descriptive_file_path(desc, i);
        if (json_object_get(have, p))
            continue;
        if (run->o->merge && head && vl_inventory_lookup(head, vl_inventory_head(head), p))
            continue;
        rc = vl_error_set(err, VL_EINPUT, "metadata describes %s, which is not in the "
                          "deposit", p);
    }
    json_decref(have);
    return rc;
}

static int record_cmp(const void *a, const void *b)
{
    return strcmp(((const vl_record *)a)->logical, ((const vl_record *)b)->logical);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const vl_entry *)a)->logical, ((const vl_entry *)b)->logical);
}

/* The repository's PRONOM signature files (settings pronom.signatures and
 * pronom.containers), compiled once into REPO/cache.  Without them,
 * identification is libmagic's. */
static int open_signatures(vl_ingest_run *run, vl_error *err)
{
    const char *sig = vl_repo_config_get(run->repo, VL_CONF_PRONOM_SIGNATURES);
    const char *con = vl_repo_config_get(run->repo, VL_CONF_PRONOM_CONTAINERS);
    char *cache = NULL;
    int rc;
    if (!sig || !*sig)
        return VL_OK;
    if (!(cache = vl_path_join(vl_repo_dir(run->repo), VL_CACHE_DIR)))
        return vl_error_set(err, VL_ESYS, "out of memory");
    /* no cache is only slower: a failure here is not the deposit's */
    if (mkdir(cache, 0777) != 0 && errno != EEXIST) {
        free(cache);
        cache = NULL;
    }
    rc = vl_signatures_open(sig, con && *con ? con : NULL, cache, &run->sigs, err);
    if (rc != VL_OK)
        rc = vl_error_set(err, rc, "%s (setting %s; 'vellum config' changes it)",
                          err->msg, VL_CONF_PRONOM_SIGNATURES);
    free(cache);
    return rc;
}

int vl_ingest(vl_repo *repo, const char *const *sources, size_t nsources,
              const vl_ingest_options *o, vl_ingest_result *res, vl_error *err)
{
    vl_ingest_run run = {0};
    vl_entry_list list = {0};
    vl_manifest *m = NULL;
    vl_descriptive *desc = NULL;
    int rc = VL_OK, *is_archive = NULL, as_bag = 0;
    run.repo = repo;
    run.o = o;
    run.nthreads = o->nthreads;
    pthread_mutex_init(&run.dep.mu, NULL);
    pthread_mutex_init(&run.prog_mu, NULL);
    memset(res, 0, sizeof *res);
    if (nsources == 0) {
        rc = vl_error_set(err, VL_EINPUT, "nothing to ingest: give a folder or file");
        goto done;
    }
    if (o->manifest_path) {
        vl_buf b;
        if ((rc = vl_fs_read_file(o->manifest_path, 256u << 20, &b, err)) != VL_OK)
            goto done;
        const char *base = vl_path_basename(o->manifest_path);
        int bagit = !strncmp(base, "manifest-", 9) || !strncmp(base, "tagmanifest-", 12);
        int hint = -1;
        if (bagit) {
            char alg[32];
            vl_digest_alg a;
            if (sscanf(strchr(base, '-') + 1, "%31[^.]", alg) == 1 &&
                vl_digest_from_name(alg, &a) == 0)
                hint = (int)a;
        }
        rc = vl_manifest_parse(b.data, b.len, hint, bagit, o->manifest_path, &m, err);
        vl_buf_release(&b);
        if (rc != VL_OK)
            goto done;
    }
    /* Descriptive metadata is read (and refused) before anything is staged. */
    if (!(desc = vl_descriptive_new())) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < o->ndc; i++)
        if ((rc = vl_dc_add_assignment(vl_descriptive_deposit_dc(desc), o->dc[i], err)) != VL_OK)
            goto done;
    if (o->metadata_path && (rc = vl_descriptive_load(desc, o->metadata_path, err)) != VL_OK)
        goto done;
    if (!(is_archive = calloc(nsources, sizeof *is_archive))) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    /* List and check every folder and plain file before writing anything. */
    as_bag = nsources == 1 && !o->not_a_bag && vl_source_is_bag_dir(sources[0]);
    for (size_t i = 0; i < nsources; i++) {
        char *manifest = NULL;
        if ((is_archive[i] = classify_is_archive(&run, sources[i])))
            continue;
        if (!o->not_a_bag && !as_bag &&
            vl_source_is_broken_bag_dir(sources[i], &manifest)) {
            rc = refuse_broken_bag(sources[i], manifest ? manifest : "?", err);
            free(manifest);
            goto done;
        }
        if ((rc = vl_source_collect(sources[i], o, as_bag, &list, err)) != VL_OK)
            goto done;
    }
    if (list.n)
        qsort(list.items, list.n, sizeof *list.items, entry_cmp);
    for (size_t i = 1; i < list.n; i++)
        if (!strcmp(list.items[i].logical, list.items[i - 1].logical)) {
            rc = vl_error_set(err, VL_EINPUT, "%s and %s would both be stored as %s",
                              list.items[i - 1].src, list.items[i].src,
                              list.items[i].logical);
            goto done;
        }
    if ((rc = vl_repo_space(repo, &run.space, err)) != VL_OK)
        goto done;
    run.limit = run.space.usable;
    if (o->max_bytes && o->max_bytes < run.limit) {
        run.limit = o->max_bytes;
        run.limit_is_option = 1;
    }
    if (list.bytes > run.limit) {
        rc = vl_run_refuse_size(&run, list.bytes, err, "refusing the deposit: it needs");
        goto done;
    }
    if (!o->no_identify && (rc = open_signatures(&run, err)) != VL_OK)
        goto done;
    if ((rc = vl_txn_begin(repo, o->id, &run.txn, err)) != VL_OK)
        goto done;
    snprintf(res->id, sizeof res->id, "%s", vl_txn_object_id(run.txn));
    run.mask = vl_txn_digest_mask(run.txn);
    if (m)
        run.mask |= VL_DIGEST_BIT(vl_manifest_alg(m));
    run.prog.files_total = list.n;
    run.prog.bytes_total = list.bytes;
    run.last_report_ms = now_ms();
    if (as_bag) {
        if (!(run.bag = vl_bag_new())) {
            rc = vl_error_set(err, VL_ESYS, "out of memory");
            goto done;
        }
        vl_bag_set_warn(run.bag, report_line, &run);
        char *data = vl_path_join(sources[0], "data");
        if (!data) {
            rc = vl_error_set(err, VL_ESYS, "out of memory");
            goto done;
        }
        vl_bag_set_payload_dir(run.bag, vl_fs_is_dir(data));
        free(data);
    }
    if (list.n) {
        if (run.bag) {
            /* The tag files say which digests the payload needs: read them
             * first (vl_source_stage_list does), parse, then hash. */
            for (size_t i = 0; i < list.n; i++)
                if (list.items[i].is_tag) {
                    vl_buf b;
                    if ((rc = vl_fs_read_file(list.items[i].src, 256u << 20, &b, err)) != VL_OK)
                        goto done;
                    rc = vl_bag_add_tag_file(run.bag, list.items[i].logical +
                                             strlen(VL_BAG_TAG_DIR) + 1, b.data, b.len, err);
                    vl_buf_release(&b);
                    if (rc != VL_OK)
                        goto done;
                }
            if ((rc = vl_bag_parse(run.bag, err)) != VL_OK)
                goto done;
            run.mask |= vl_bag_payload_mask(run.bag);
        }
        if ((rc = vl_source_stage_list(&run, &list, err)) != VL_OK)
            goto done;
    }
    for (size_t i = 0; i < nsources; i++) {
        if (!is_archive[i])
            continue;
        size_t before = run.dep.n;
        if ((rc = vl_archive_ingest(&run, sources[i], err)) != VL_OK)
            goto done;
        char *names = vl_asprintf("%s%s%s", run.archive_names ? run.archive_names : "",
                                  run.archive_names ? ", " : "", sources[i]);
        free(run.archive_names);
        run.archive_names = names;
        (void)before;
    }
    if (run.archives) {
        int bag_ok = nsources == 1 && !as_bag && !o->not_a_bag;
        if ((rc = place_archive_entries(&run, sources[0], bag_ok, err)) != VL_OK)
            goto done;
        if (run.bag) {
            if ((rc = vl_bag_parse(run.bag, err)) != VL_OK)
                goto done;
        }
    }
    vl_run_progress(&run, 0, 0, 1);
    /* Workers finish in any order: sort so that deduplication keeps the
     * first path in byte order and every listing is stable. */
    if (run.dep.n)
        qsort(run.dep.recs, run.dep.n, sizeof *run.dep.recs, record_cmp);
    if (run.dep.n == 0) {
        rc = vl_error_set(err, VL_EINPUT, "nothing to ingest: the sources hold no files");
        goto done;
    }
    if (run.bag && (rc = check_bag(&run, err)) != VL_OK)
        goto done;
    if (m && (rc = check_manifest(&run, m, err)) != VL_OK)
        goto done;
    vl_names_check_collisions(&run);
    if (run.bag) {
        snprintf(res->bag_version, sizeof res->bag_version, "%s", vl_bag_version(run.bag));
        for (size_t i = 0; i < vl_bag_info_count(run.bag); i++) {
            const char *label, *value;
            vl_bag_info_entry(run.bag, i, &label, &value);
            if ((rc = vl_descriptive_add_bag_info(desc, label, value, err)) != VL_OK)
                goto done;
        }
    }
    if ((rc = add_to_txn(&run, m, err)) != VL_OK)
        goto done;
    if (run.bag) {
        struct bag_fixity_ctx bc = {&run, vl_repo_digest(repo), VL_OK, err};
        if (vl_txn_head_inventory(run.txn))
            bc.inv_alg = vl_inventory_digest_alg(vl_txn_head_inventory(run.txn));
        vl_bag_foreach_digest(run.bag, keep_bag_digest, &bc);
        if ((rc = bc.rc) != VL_OK)
            goto done;
    }
    if (o->merge && (rc = vl_txn_keep_all(run.txn, err)) != VL_OK)
        goto done;
    if ((rc = check_file_metadata(&run, desc, err)) != VL_OK)
        goto done;
    /* METS.xml differs every time (dates, event ids): judge "nothing
     * changed" on everything else. */
    if (vl_txn_unchanged_except(run.txn, "METS.xml")) {
        res->files = run.dep.n;
        res->bytes = run.dep.bytes;
        res->version = 0;
        goto done;
    }
    if ((rc = add_events(&run, sources, nsources, m, err)) != VL_OK)
        goto done;
    if ((rc = vl_ingest_write_mets(&run, desc, err)) != VL_OK)
        goto done;
    vl_txn_info info = {o->message, o->user_name, o->user_address};
    vl_digest_alg inv_alg = vl_txn_head_inventory(run.txn)
        ? vl_inventory_digest_alg(vl_txn_head_inventory(run.txn)) : vl_repo_digest(repo);
    /* Formats go to the catalog before the commit: rows are keyed by
     * content digest, so if the commit never happens they match no file,
     * and if it does they are already there when a crash follows it. */
    record_formats(&run, res->id, inv_alg);
    vl_txn *t = run.txn;
    run.txn = NULL;   /* commit frees it whatever happens */
    if ((rc = vl_txn_commit(t, &info, &res->version, err)) != VL_OK)
        goto done;
    res->files = run.dep.n;
    res->bytes = run.dep.bytes;
    res->warnings = run.warnings;
done:
    vl_txn_abort(run.txn);
    /* A full disk: after the staging area is given back, say how much more
     * room the deposit needs.  (Once a version is stored, the message says
     * so instead and names 'vellum recover'; it carries no errno.) */
    if (rc == VL_ESYS && err && err->sys_errno == ENOSPC) {
        uint64_t need = list.bytes > run.dep.bytes ? list.bytes : run.dep.bytes;
        vl_space_error(repo, "the deposit", need, err);
        rc = vl_error_set(err, VL_ESYS, "%s; nothing was stored", err->msg);
        err->sys_errno = ENOSPC;
    }
    vl_entry_list_release(&list);
    vl_deposit_release(&run.dep);
    vl_bag_free(run.bag);
    vl_signatures_close(run.sigs);
    vl_manifest_free(m);
    vl_descriptive_free(desc);
    free(is_archive);
    free(run.archive_names);
    pthread_mutex_destroy(&run.dep.mu);
    pthread_mutex_destroy(&run.prog_mu);
    return rc;
}
