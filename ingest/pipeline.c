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
#include <unistd.h>

#include "bagit_private.h"
#include "identify_private.h"
#include "ingest_internal.h"
#include "manifest_private.h"
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

/* What the refusal's event keeps of the problems: enough to see what was
 * wrong, however many there were. */
#define REFUSAL_DETAIL_MAX 8192

void vl_run_problem(vl_ingest_run *run, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&run->prog_mu);
    run->problems++;
    if (run->refusal.len < REFUSAL_DETAIL_MAX)
        vl_buf_printf(&run->refusal, NULL, "%s%s", run->refusal.len ? "; "
                      : "", msg);
    else if (run->refusal.len < REFUSAL_DETAIL_MAX + 64)
        vl_buf_printf(&run->refusal, NULL, "; ...");
    if (run->o->problem)
        run->o->problem(run->o->cb_arg, msg);
    else if (run->o->warn)
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
    return (long long)(vl_time_mono() * 1000.0);
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
 * payload): read the staged copy again for just those, into res (which
 * holds the record's) and the record.  The record's strings are not used
 * after it changes. */
static int add_missing_digests(vl_deposit *dep, const vl_record *r, const char *staged,
                               unsigned need, vl_digest_result *res, vl_error *err)
{
    unsigned missing = 0;
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        if ((need & VL_DIGEST_BIT(a)) && !r->hex[a])
            missing |= VL_DIGEST_BIT(a);
    if (!missing)
        return VL_OK;
    vl_digest_result d;
    int64_t id = r->id;
    int rc = vl_digest_file(staged, missing, &d, NULL, err);
    for (int a = 0; rc == VL_OK && a < VL_DIGEST_COUNT; a++)
        if (missing & VL_DIGEST_BIT(a)) {
            res->mask |= VL_DIGEST_BIT(a);
            memcpy(res->hex[a], d.hex[a], sizeof res->hex[a]);
            rc = vl_deposit_set_digest(dep, id, (vl_digest_alg)a, d.hex[a], err);
        }
    return rc;
}

static void report_line(void *arg, const char *msg)
{
    vl_ingest_run *run = arg;
    vl_run_warn(run, "%s", msg);
}

static void report_problem(void *arg, const char *msg)
{
    vl_ingest_run *run = arg;
    vl_run_problem(run, "%s", msg);
}

/* ---- archive entries: final names ---------------------------------------- */

/* The first bagit.txt (as added) at the top or in one top folder. */
struct bag_root_ctx {
    char *root;
    size_t cap;
};

static int find_bagit(void *arg, const vl_record *r, vl_error *err)
{
    struct bag_root_ctx *c = arg;
    const char *l = r->logical, *slash = strchr(l, '/');
    (void)err;
    if (!strcmp(l, "bagit.txt")) {
        c->root[0] = '\0';
        return VL_DEP_STOP;
    }
    if (slash && !strcmp(slash + 1, "bagit.txt") && (size_t)(slash - l) + 2 < c->cap) {
        snprintf(c->root, c->cap, "%.*s/", (int)(slash - l), l);
        return VL_DEP_STOP;
    }
    return VL_OK;
}

/* A bag inside an archive sits at the top or in one top folder: *is_bag = 1
 * with that folder ("" or "name/") in root (cap bytes), 0 when it is no
 * bag. */
static int archive_bag_root(vl_ingest_run *run, char *root, size_t cap, int *is_bag,
                            vl_error *err)
{
    struct bag_root_ctx c = {root, cap};
    size_t under;
    int rc;
    *is_bag = 0;
    root[0] = '\0';
    rc = vl_deposit_foreach(&run->dep, VL_DEP_AS_ADDED, find_bagit, &c, err);
    if (rc != VL_DEP_STOP)
        return rc;
    /* every entry must be under that folder */
    if (root[0] &&
        (rc = vl_deposit_count_prefix(&run->dep, root, 0, &under, err)) != VL_OK)
        return rc;
    *is_bag = !root[0] || under == run->dep.n;
    return VL_OK;
}

/* Give archive entries their logical paths and move their staged bytes
 * from scratch to the content folder. */
static int refuse_broken_bag(const char *source, const char *manifest, vl_error *err);
static int is_payload_manifest(const char *name);
static void report_line(void *arg, const char *msg);

/* An archive whose top (or one top folder) has data/ and a payload manifest
 * but no bagit.txt: the manifest's name (the first as added) in name. */
struct broken_bag_ctx {
    vl_deposit *dep;
    char *name;
    size_t cap;
};

static int find_broken_bag(void *arg, const vl_record *r, vl_error *err)
{
    struct broken_bag_ctx *c = arg;
    const char *l = r->logical, *slash = strchr(l, '/');
    size_t rl = 0, n;
    int rc;
    if (!is_payload_manifest(l)) {
        if (!slash || !is_payload_manifest(slash + 1))
            return VL_OK;
        rl = (size_t)(slash - l) + 1;
    }
    char *data = vl_asprintf("%.*s" VL_PAYLOAD_PREFIX, (int)rl, l);
    if (!data)
        return vl_error_oom(err);
    rc = vl_deposit_count_prefix(c->dep, data, 1, &n, err);
    free(data);
    if (rc != VL_OK || !n)
        return rc;
    snprintf(c->name, c->cap, "%s", l + rl);
    return VL_DEP_STOP;
}

struct place_ctx {
    vl_ingest_run *run;
    const char *bag_root;
    int has_data;
};

static int place_entry(void *arg, const vl_record *r, vl_error *err);

static int place_archive_entries(vl_ingest_run *run, const char *source, int bag_ok,
                                 vl_error *err)
{
    char root[4096], broken[4096];
    const char *bag_root = NULL;
    int rc = VL_OK, is_bag = 0;
    if (bag_ok && (rc = archive_bag_root(run, root, sizeof root, &is_bag, err)) != VL_OK)
        return rc;
    if (is_bag)
        bag_root = root;
    if (bag_ok && !bag_root) {
        struct broken_bag_ctx bc = {&run->dep, broken, sizeof broken};
        rc = vl_deposit_foreach(&run->dep, VL_DEP_AS_ADDED, find_broken_bag, &bc, err);
        if (rc == VL_DEP_STOP)
            return refuse_broken_bag(source, broken, err);
        if (rc != VL_OK)
            return rc;
    }
    if (bag_root) {
        if (!(run->bag = vl_bag_new()))
            return vl_error_oom(err);
        vl_bag_set_warn(run->bag, report_line, run);
    }
    struct place_ctx pc = {run, bag_root, 0};
    rc = vl_deposit_foreach(&run->dep, VL_DEP_AS_ADDED, place_entry, &pc, err);
    /* Without a payload file, whether the archive had an empty data/
     * folder is not known here: not checked then. */
    if (rc == VL_OK && run->bag && pc.has_data)
        vl_bag_set_payload_dir(run->bag, 1);
    return rc;
}

static int place_entry(void *arg, const vl_record *r, vl_error *err)
{
    struct place_ctx *c = arg;
    vl_ingest_run *run = c->run;
    const char *bag_root = c->bag_root;
    char *logical = NULL, *dst = NULL;
    const char *tag_rel = NULL;
    vl_error why = {0};
    int rc = VL_OK;
    if (!r->from_archive)
        return VL_OK;
    {
        if (bag_root) {
            const char *rel = r->logical + strlen(bag_root);
            if (!strncmp(rel, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN)) {
                c->has_data = 1;
                logical = vl_strdup(rel);
            } else {
                logical = vl_path_join(VL_BAG_TAG_DIR, rel);
                tag_rel = rel;   /* given to the bag where it is staged */
            }
        } else {
            logical = vl_path_join(VL_PAYLOAD_DIR, r->logical);
        }
        if (rc != VL_OK) {
            free(logical);
            return rc;
        }
        if (!logical)
            return vl_error_oom(err);
        /* The limits judge the path as stored, known only now (a bag's
         * root folder is dropped, its tag files go to metadata/bag/). */
        if (vl_logical_path_check(logical, &why) != VL_OK ||
            vl_logical_path_limits(logical, &why) != VL_OK) {
            char *shown = vl_name_shorten(r->shown, VL_NAME_SHOWN_MAX);
            rc = vl_error_set(err, VL_EINPUT, "refusing entry %s: %s",
                              shown ? shown : "?", why.msg);
            free(shown);
            free(logical);
            return rc;
        }
        if ((rc = vl_txn_stage_path(run->txn, logical, &dst, err)) == VL_OK &&
            rename(r->staged, dst) != 0)
            rc = vl_error_sys(err, "cannot move %s to %s", r->staged, dst);
        /* streamed from there when the bag reads or digests it */
        if (rc == VL_OK && tag_rel)
            rc = vl_bag_add_tag_path(run->bag, tag_rel, dst, err);
        if (rc == VL_OK)
            rc = vl_deposit_move(&run->dep, r->id, logical, err);
        free(logical);
        free(dst);
    }
    return rc;
}

/* ---- checks against a bag and a donor manifest ------------------------- */

struct bag_seen_ctx {
    vl_ingest_run *run;
    const char **names;
    size_t nextra;
    char (*hex)[VL_DIGEST_HEX_MAX];
    const char **extra;
};

static int bag_seen(void *arg, const vl_record *r, vl_error *err)
{
    struct bag_seen_ctx *c = arg;
    vl_ingest_run *run = c->run;
    vl_digest_result d;
    char *logical = NULL, *staged = NULL;
    uint64_t size = r->size;
    int rc;
    record_result(r, &d);
    /* placed by now: every payload file is where the txn stages it */
    if ((rc = vl_txn_stage_path(run->txn, r->logical, &staged, err)) != VL_OK)
        return rc;
    /* Algorithms outside the digest engine's (a manifest in sha384 or
     * sha3-256) cost one more read of the staged copy. */
    if (c->nextra && (rc = vl_digest_file_named(staged, c->names, c->nextra,
                                                c->hex, NULL, err)) != VL_OK)
        goto done;
    if (!(logical = vl_strdup(r->logical))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = add_missing_digests(&run->dep, r, staged, vl_bag_payload_mask(run->bag),
                                  &d, err)) == VL_OK)
        rc = vl_bag_payload_seen(run->bag, logical, size, &d,
                                 c->nextra ? c->extra : NULL, err);
done:
    free(logical);
    free(staged);
    return rc;
}

static int check_bag(vl_ingest_run *run, vl_error *err)
{
    size_t nextra = vl_bag_payload_extra_count(run->bag);
    const char *names[32], *extra[32];
    char (*hex)[VL_DIGEST_HEX_MAX] = NULL;
    int rc = VL_OK;
    for (size_t k = 0; k < nextra && k < 32; k++)
        names[k] = vl_bag_payload_extra_name(run->bag, k);
    if (nextra && !(hex = calloc(nextra, sizeof *hex)))
        return vl_error_oom(err);
    for (size_t k = 0; k < nextra; k++)
        extra[k] = hex[k];
    struct bag_seen_ctx c = {run, names, nextra, hex, extra};
    rc = vl_deposit_foreach(&run->dep, VL_DEP_PAYLOAD, bag_seen, &c, err);
    free(hex);
    if (rc != VL_OK)
        return rc;
    rc = vl_bag_verify(run->bag, report_problem, run, err);
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

/* A manifest made one folder above the deposit: every path starts with the
 * same folder ("dpkg/a.txt" against a deposit of the folder dpkg), which
 * none of the deposit's paths does, and taking it off makes paths match
 * (or it is the name of the folder deposited).  Said in one line. */
/* *found = 1 when the deposit has the payload file rel ("a/b.txt" for
 * data/a/b.txt). */
static int payload_has(vl_ingest_run *run, const char *rel, int *found, vl_error *err)
{
    char *logical = vl_path_join(VL_PAYLOAD_DIR, rel);
    int rc;
    *found = 0;
    if (!logical)
        return vl_error_oom(err);
    rc = vl_deposit_has(&run->dep, logical, found, err);
    free(logical);
    return rc;
}

static int manifest_prefix_hint(vl_ingest_run *run, const vl_manifest *m,
                                vl_error *err)
{
    const char *first = NULL;
    size_t plen = 0, n = vl_manifest_count(m), match = 0, named = 0, under;
    char *prefix = NULL, *data = NULL;
    int rc = VL_OK, found;
    if (n == 0)
        return VL_OK;
    for (size_t i = 0; i < n; i++) {
        const char *p, *hex, *slash;
        vl_manifest_entry(m, i, &p, &hex);
        while (p[0] == '.' && p[1] == '/')
            p += 2;
        if (!first) {
            if (!(slash = strchr(p, '/')) || slash == p)
                return VL_OK;
            first = p;
            plen = (size_t)(slash - p) + 1;
        } else if (strncmp(p, first, plen) != 0) {
            return VL_OK;
        }
    }
    /* "data/..." is read as the deposit's own data/ (manifest_expect). */
    if (plen == VL_PAYLOAD_PREFIX_LEN && !strncmp(first, VL_PAYLOAD_PREFIX, plen))
        return VL_OK;
    if (!(prefix = vl_strndup(first, plen)) ||
        !(data = vl_path_join(VL_PAYLOAD_DIR, prefix))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_deposit_count_prefix(&run->dep, data, 1, &under, err)) != VL_OK ||
        under)
        goto done;   /* the deposit has that folder too */
    for (size_t i = 0; i < n; i++) {
        const char *p, *hex;
        vl_manifest_entry(m, i, &p, &hex);
        while (p[0] == '.' && p[1] == '/')
            p += 2;
        if ((rc = payload_has(run, p + plen, &found, err)) != VL_OK)
            goto done;
        match += found;
    }
    for (size_t i = 0; i < run->nsources; i++) {
        const char *base = vl_path_basename(run->sources[i]);
        size_t bl = strlen(base);
        while (bl > 1 && base[bl - 1] == '/')
            bl--;
        named += bl == plen - 1 && !strncmp(base, prefix, plen - 1);
    }
    if (!match && !named)
        goto done;
    prefix[plen - 1] = '\0';
    vl_run_problem(run, "the manifest's paths all start with '%s/'; the "
                   "deposit's files do not: %zu of %zu paths match without "
                   "it, so the manifest was made in the folder above the "
                   "deposit; give the parent folder, or a manifest relative "
                   "to the deposit", prefix, match, n);
done:
    free(prefix);
    free(data);
    return rc;
}

struct manifest_ctx {
    vl_ingest_run *run;
    const vl_manifest *m;
    size_t problems;
};

static int manifest_file(void *arg, const vl_record *r, vl_error *err)
{
    struct manifest_ctx *c = arg;
    vl_digest_alg alg = vl_manifest_alg(c->m);
    const char *want = manifest_expect(c->m, r->logical);
    (void)err;
    if (!want) {
        vl_run_problem(c->run, "%s: not listed in the manifest", r->logical + 5);
        c->problems++;
    } else if (!r->hex[alg] || strcasecmp(want, r->hex[alg]) != 0) {
        vl_run_problem(c->run, "%s: %s mismatch: manifest says %s, file has %s",
                       r->logical + 5, vl_digest_name(alg), want,
                       r->hex[alg] ? r->hex[alg] : "?");
        c->problems++;
    }
    return VL_OK;
}

static int check_manifest(vl_ingest_run *run, const vl_manifest *m, vl_error *err)
{
    struct manifest_ctx c = {run, m, 0};
    int rc, found;
    if ((rc = vl_deposit_foreach(&run->dep, VL_DEP_PAYLOAD, manifest_file, &c,
                                 err)) != VL_OK)
        return rc;
    for (size_t i = 0; i < vl_manifest_count(m); i++) {
        const char *p, *hex;
        vl_manifest_entry(m, i, &p, &hex);
        const char *q = p;
        while (q[0] == '.' && q[1] == '/')
            q += 2;
        /* "data/x" names data/x, else the deposit's data/data/x */
        if ((rc = payload_has(run, q, &found, err)) != VL_OK)
            return rc;
        if (!found && !strncmp(q, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN) &&
            (rc = payload_has(run, q + 5, &found, err)) != VL_OK)
            return rc;
        if (!found) {
            vl_run_problem(run, "%s: listed in the manifest but missing from the deposit", p);
            c.problems++;
        }
    }
    size_t problems = c.problems;
    if (problems && (rc = manifest_prefix_hint(run, m, err)) != VL_OK)
        return rc;
    if (problems)
        return vl_error_set(err, VL_EINPUT, "refusing the deposit: %zu discrepanc%s "
                            "with the manifest (listed above); nothing was stored",
                            problems, problems == 1 ? "y" : "ies");
    return VL_OK;
}

/* ---- events ------------------------------------------------------------- */

/* Files whose format was not identified: counted, and the first (in
 * logical path order) named by the event about them. */
#define UNKNOWN_NAMED 1000
struct unknown_ctx {
    vl_ingest_run *run;
    size_t with_puid, unknown;
    char **names;        /* UNKNOWN_NAMED + 1, NULL-terminated */
};

static int count_unknown(void *arg, const vl_record *r, vl_error *err)
{
    struct unknown_ctx *c = arg;
    if (r->puid)
        c->with_puid++;
    /* with signatures, unidentified means no PUID */
    if (c->run->sigs ? !r->puid
                     : (!r->mime || !strcmp(r->mime, "application/octet-stream"))) {
        if (c->unknown < UNKNOWN_NAMED &&
            !(c->names[c->unknown] = vl_strdup(r->logical)))
            return vl_error_oom(err);
        c->unknown++;
    }
    return VL_OK;
}

/* The version's PREMIS events.  Details are built in a vl_buf: source and
 * archive names have no length limit, and a cut one could end inside a
 * UTF-8 character. */
static int add_events(vl_ingest_run *run, const char *const *sources, size_t nsources,
                      const vl_manifest *m, vl_error *err)
{
    vl_txn *t = run->txn;
    vl_event ev;
    vl_buf algs, detail, named;
    char depositor[512];
    const char *magic = vl_identify_library_version();
    const char *agents_ingest[3], *agents_digest[2], *agents_id[2], *agents_un[2];
    struct unknown_ctx uc = {run, 0, 0, NULL};
    int rc = VL_OK;
    vl_buf_init(&algs, 0);
    vl_buf_init(&detail, 0);
    vl_buf_init(&named, 0);
    for (int a = 0; a < VL_DIGEST_COUNT && rc == VL_OK; a++)
        if (run->mask & VL_DIGEST_BIT(a))
            rc = vl_buf_printf(&algs, err, "%s%s", algs.len ? ", " : "",
                               vl_digest_name((vl_digest_alg)a));
    if (rc != VL_OK)
        goto done;
    snprintf(depositor, sizeof depositor, "%s%s%s%s",
             run->o->user_name ? run->o->user_name : "unknown depositor",
             run->o->user_address ? " <" : "",
             run->o->user_address ? run->o->user_address : "",
             run->o->user_address ? ">" : "");
    agents_ingest[0] = vl_agent_vellum();
    agents_ingest[1] = depositor;
    agents_digest[0] = vl_agent_vellum();
    agents_digest[1] = vl_agent_openssl();

    rc = vl_buf_printf(&detail, err, "Deposited %zu files (%llu bytes) from ",
                       run->dep.n, (unsigned long long)run->dep.bytes);
    for (size_t i = 0; i < nsources && rc == VL_OK; i++)
        rc = vl_buf_printf(&detail, err, "%s%s", i ? ", " : "", sources[i]);
    if (rc != VL_OK)
        goto done;
    vl_event_init(&ev, VL_EV_INGESTION, NULL);
    ev.detail = detail.data;
    ev.agents = agents_ingest;
    ev.nagents = 2;
    if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
        goto done;

    vl_buf_reset(&detail);
    if ((rc = vl_buf_printf(&detail, err, "Computed %s for every file, from one "
                            "read of its bytes", algs.data ? algs.data : "")) != VL_OK)
        goto done;
    vl_event_init(&ev, VL_EV_DIGEST, NULL);
    ev.detail = detail.data;
    ev.agents = agents_digest;
    ev.nagents = 2;
    if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
        goto done;

    if (!run->o->no_identify) {
        if (!(uc.names = calloc(UNKNOWN_NAMED + 1, sizeof *uc.names))) {
            rc = vl_error_oom(err);
            goto done;
        }
        if ((rc = vl_deposit_foreach(&run->dep, 0, count_unknown, &uc, err)) != VL_OK)
            goto done;
        size_t with_puid = uc.with_puid, unknown = uc.unknown;
        const char **unk = (const char **)uc.names;
        vl_buf_reset(&detail);
        if (run->sigs)
            rc = vl_buf_printf(&detail, err, "Identified the format of %zu %s "
                               "with PRONOM signatures (%s), libmagic for text "
                               "encodings and for what PRONOM does not identify; "
                               "%zu %s a PRONOM identifier, %zu %s none",
                               run->dep.n, run->dep.n == 1 ? "file" : "files",
                               vl_signatures_describe(run->sigs), with_puid,
                               with_puid == 1 ? "has" : "have",
                               run->dep.n - with_puid,
                               run->dep.n - with_puid == 1 ? "has" : "have");
        else
            rc = vl_buf_printf(&detail, err, "Identified the format of %zu %s "
                               "with libmagic and vellum's PRONOM table (no PRONOM "
                               "signature file is set); %zu %s a PRONOM "
                               "identifier", run->dep.n,
                               run->dep.n == 1 ? "file" : "files", with_puid,
                               with_puid == 1 ? "has" : "have");
        if (rc != VL_OK)
            goto done;
        /* The files a warning is about, named (the first 20) in its
         * outcome detail, which 'vellum events' prints. */
        if (unknown)
            rc = vl_buf_printf(&named, err, "%zu %s not identified: ", unknown,
                               unknown == 1 ? "file" : "files");
        for (size_t i = 0; i < unknown && i < 20 && rc == VL_OK; i++) {
            /* escaped: a newline in a name must not start a line of its own */
            char *esc = vl_name_escape(unk[i]);
            rc = esc ? vl_buf_printf(&named, err, "%s%s", i ? ", " : "", esc)
                     : vl_error_oom(err);
            free(esc);
        }
        if (rc == VL_OK && unknown > 20)
            rc = vl_buf_printf(&named, err, " and %zu more", unknown - 20);
        if (rc != VL_OK)
            goto done;
        agents_id[0] = vl_agent_vellum();
        agents_id[1] = magic;
        vl_event_init(&ev, VL_EV_FORMAT_ID, NULL);
        if (run->sigs && unknown) {
            ev.outcome = "warning";
            ev.outcome_detail = named.data;
        }
        ev.detail = detail.data;
        ev.agents = agents_id;
        ev.nagents = 2;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            goto done;
        /* files whose outcome differs get their own event naming them */
        if (unknown) {
            vl_event_init(&ev, VL_EV_FORMAT_ID, NULL);
            ev.outcome = "warning";
            ev.detail = run->sigs ? "Format not identified by PRONOM signatures"
                                  : "Format not identified (application/octet-stream)";
            ev.outcome_detail = named.data;
            ev.files = unk;
            ev.nfiles = unknown > UNKNOWN_NAMED ? UNKNOWN_NAMED : unknown;
            ev.agents = agents_id;
            ev.nagents = 2;
            if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
                goto done;
        }
    }
    if (run->archives) {
        vl_buf_reset(&detail);
        if ((rc = vl_buf_printf(&detail, err, "Unpacked %zu archive%s with "
                                "libarchive, streaming each entry into staging: %s",
                                run->archives, run->archives == 1 ? "" : "s",
                                run->archive_names ? run->archive_names : "")) != VL_OK)
            goto done;
        agents_un[0] = vl_agent_vellum();
        agents_un[1] = vl_archive_library_version();
        vl_event_init(&ev, VL_EV_UNPACKING, NULL);
        ev.detail = detail.data;
        ev.agents = agents_un;
        ev.nagents = 2;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            goto done;
    }
    if (run->bag) {
        size_t nf = vl_bag_fetch_count(run->bag);
        vl_buf_reset(&detail);
        if ((rc = vl_buf_printf(&detail, err, "BagIt %s bag validated: bagit.txt, "
                                "bag-info.txt, payload and tag manifests, "
                                "Payload-Oxum%s", vl_bag_version(run->bag),
                                nf ? "; every file fetch.txt lists was present"
                                   : "")) != VL_OK)
            goto done;
        vl_event_init(&ev, VL_EV_VALIDATION, NULL);
        ev.detail = detail.data;
        ev.agents = agents_ingest;
        ev.nagents = 1;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            goto done;
        vl_event_init(&ev, VL_EV_FIXITY, NULL);
        ev.detail = "Every payload file matched the bag's payload manifests";
        ev.agents = agents_digest;
        ev.nagents = 2;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            goto done;
    }
    if (m) {
        vl_buf_reset(&detail);
        if ((rc = vl_buf_printf(&detail, err, "Every file matched the donor's %s "
                                "manifest %s (%zu entries)",
                                vl_digest_name(vl_manifest_alg(m)),
                                run->o->manifest_path, vl_manifest_count(m))) != VL_OK)
            goto done;
        vl_event_init(&ev, VL_EV_FIXITY, NULL);
        ev.detail = detail.data;
        ev.agents = agents_digest;
        ev.nagents = 2;
        if ((rc = vl_txn_add_event(t, &ev, err)) != VL_OK)
            goto done;
    }
done:
    for (size_t i = 0; uc.names && i < UNKNOWN_NAMED && uc.names[i]; i++)
        free(uc.names[i]);
    free(uc.names);
    vl_buf_release(&algs);
    vl_buf_release(&detail);
    vl_buf_release(&named);
    return rc;
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

struct txn_add_ctx {
    vl_ingest_run *run;
    const vl_manifest *m;
    vl_digest_alg inv_alg;
};

static int txn_add_one(void *arg, const vl_record *r, vl_error *err)
{
    struct txn_add_ctx *c = arg;
    vl_ingest_run *run = c->run;
    vl_digest_result d;
    int rc;
    record_result(r, &d);
    rc = vl_txn_add(run->txn, r->logical, &d, r->size, 1, err);
    /* digests computed for another reason go to the fixity block too */
    for (int a = 0; rc == VL_OK && a < VL_DIGEST_COUNT; a++)
        if (a != (int)c->inv_alg && r->hex[a] &&
            ((c->m && a == (int)vl_manifest_alg(c->m)) ||
             (run->bag && (vl_bag_payload_mask(run->bag) & VL_DIGEST_BIT(a)))))
            rc = vl_txn_add_fixity(run->txn, r->logical, (vl_digest_alg)a, r->hex[a], err);
    return rc;
}

static int add_to_txn(vl_ingest_run *run, const vl_manifest *m, vl_error *err)
{
    const vl_inventory *head = vl_txn_head_inventory(run->txn);
    struct txn_add_ctx c = {run, m, head ? vl_inventory_digest_alg(head)
                                         : vl_repo_digest(run->repo)};
    return vl_deposit_foreach(&run->dep, 0, txn_add_one, &c, err);
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

struct catalog_ctx {
    vl_catalog_facts *fx;   /* NULL: the catalog could not be used */
    vl_digest_alg alg;
    int num;
};

static int put_format(void *arg, const vl_record *r, vl_error *err)
{
    struct catalog_ctx *c = arg;
    vl_error ignored = {0};
    (void)err;
    if (!r->mime || !r->hex[c->alg])
        return VL_OK;
    vl_catalog_format f = {r->mime, r->encoding, r->description, r->puid,
                           r->format_name, r->format_version, r->basis,
                           r->warning, r->others, r->signatures};
    if (c->fx)
        vl_catalog_facts_put_format(c->fx, r->hex[c->alg], &f, &ignored);
    return VL_OK;
}

/* Formats are best effort (a lost row only makes 'show' say less), but a
 * deposit index that cannot be read refuses the commit. */
static int record_formats(vl_ingest_run *run, const char *id, vl_digest_alg alg,
                          vl_error *failed)
{
    vl_catalog *cat = vl_repo_catalog(run->repo);
    vl_error err = {0};
    struct catalog_ctx c = {NULL, alg, 0};
    /* One transaction for all rows: one autocommit per file cost two locks
     * and a journal write each, more than identifying the file. */
    int txn = vl_catalog_begin(cat, &err) == VL_OK;
    vl_catalog_facts_open(cat, id, &c.fx, &err);
    int rc = vl_deposit_foreach(&run->dep, 0, put_format, &c, failed);
    /* The version's own METS.xml: vellum wrote it, so its format is known. */
    if (run->mets_digest[alg][0] && c.fx) {
        vl_catalog_format f = {"application/xml", "utf-8", "METS document (XML 1.0)",
                               "fmt/101", "Extensible Markup Language", "1.0",
                               NULL, NULL, NULL, NULL};
        vl_catalog_facts_put_format(c.fx, run->mets_digest[alg], &f, &err);
    }
    vl_catalog_facts_close(c.fx);
    if (txn)
        vl_catalog_commit(cat, &err);
    return rc;
}

/* Each deposited file's modification time, for get to give back; with
 * --merge the files kept from the head keep theirs. */
static int put_date(void *arg, const vl_record *r, vl_error *err)
{
    struct catalog_ctx *c = arg;
    vl_error ignored = {0};
    (void)err;
    if (r->mtime_ns != VL_MTIME_UNKNOWN && c->fx)
        vl_catalog_facts_put_date(c->fx, c->num, r->logical, r->mtime_ns, &ignored);
    return VL_OK;
}

static int record_dates(vl_ingest_run *run, const char *id, vl_error *failed)
{
    vl_catalog *cat = vl_repo_catalog(run->repo);
    const vl_inventory *head = vl_txn_head_inventory(run->txn);
    int num = vl_txn_version(run->txn), base = vl_txn_base_version(run->txn);
    vl_error err = {0};
    struct catalog_ctx c = {NULL, 0, num};
    int txn = vl_catalog_begin(cat, &err) == VL_OK;
    vl_catalog_facts_open(cat, id, &c.fx, &err);
    int rc = vl_deposit_foreach(&run->dep, 0, put_date, &c, failed);
    vl_catalog_facts_close(c.fx);
    /* a staged head's dates are its own version's already */
    if (rc == VL_OK && head && run->o->merge && base != num)
        vl_catalog_dates_carry(cat, id, base, num, &err);
    if (txn)
        vl_catalog_commit(cat, &err);
    return rc;
}

/* Per-file descriptive metadata must name files of the new state. */
static int check_file_metadata(vl_ingest_run *run, const vl_descriptive *desc,
                               vl_error *err)
{
    int rc = VL_OK, found;
    const vl_inventory *head = vl_txn_head_inventory(run->txn);
    for (size_t i = 0; i < vl_descriptive_file_count(desc) && rc == VL_OK; i++) {
        const char *p = vl_descriptive_file_path(desc, i);
        if ((rc = vl_deposit_has(&run->dep, p, &found, err)) != VL_OK)
            break;
        if (found)
            continue;
        if (run->o->merge && head && vl_inventory_lookup(head, vl_inventory_head(head), p))
            continue;
        rc = vl_error_set(err, VL_EINPUT, "metadata describes %s, which is not in the "
                          "deposit", p);
    }
    return rc;
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
        return vl_error_oom(err);
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

/* ---- the phases of one deposit -------------------------------------------- */

/* Everything one vl_ingest call holds, for its phases. */
typedef struct ingest_job {
    vl_ingest_run run;
    const char *const *sources;
    size_t nsources;
    vl_ingest_result *res;
    vl_manifest *m;            /* the donor's manifest, or NULL */
    vl_descriptive *desc;      /* descriptive metadata given with the deposit */
    vl_entry_list list;        /* files of the folder and plain-file sources */
    int *is_archive;           /* per source: unpacked rather than listed */
    int as_bag;                /* the one source is a bag folder */
} ingest_job;

/* --manifest: a donor's manifest, or a BagIt manifest file whose name
 * gives its algorithm. */
static int read_manifest(ingest_job *j, vl_error *err)
{
    const char *path = j->run.o->manifest_path;
    vl_buf b;
    int rc;
    if (!path)
        return VL_OK;
    if ((rc = vl_fs_read_file(path, 256u << 20, &b, err)) != VL_OK)
        return rc;
    const char *base = vl_path_basename(path);
    int bagit = !strncmp(base, "manifest-", 9) || !strncmp(base, "tagmanifest-", 12);
    int hint = -1;
    if (bagit) {
        char alg[32];
        vl_digest_alg a;
        if (sscanf(strchr(base, '-') + 1, "%31[^.]", alg) == 1 &&
            vl_digest_from_name(alg, &a) == 0)
            hint = (int)a;
    }
    rc = vl_manifest_parse(b.data, b.len, hint, bagit, path, &j->m, err);
    vl_buf_release(&b);
    return rc;
}

/* Descriptive metadata is read (and refused) before anything is staged. */
static int read_metadata(ingest_job *j, vl_error *err)
{
    const vl_ingest_options *o = j->run.o;
    int rc;
    if (!(j->desc = vl_descriptive_new()))
        return vl_error_oom(err);
    for (size_t i = 0; i < o->ndc; i++)
        if ((rc = vl_dc_add_assignment(vl_descriptive_deposit_dc(j->desc),
                                       o->dc[i], err)) != VL_OK)
            return rc;
    if (o->metadata_path)
        return vl_descriptive_load(j->desc, o->metadata_path, err);
    return VL_OK;
}

/* Two sources giving the same logical path: the first pair in logical
 * path order is refused. */
static int check_names_unique(vl_entry_list *list, vl_error *err)
{
    vl_entry_cursor c;
    const vl_entry *e;
    char *prev = NULL, *prev_src = NULL;
    int rc = vl_entry_open(list, 0, &c, err);
    while (rc == VL_OK && (rc = vl_entry_next(&c, &e, err)) == VL_OK && e) {
        if (prev && !strcmp(prev, e->logical)) {
            rc = vl_error_set(err, VL_EINPUT, "%s and %s would both be stored as %s",
                              prev_src, e->src, e->logical);
            break;
        }
        free(prev);
        free(prev_src);
        prev = vl_strdup(e->logical);
        prev_src = vl_strdup(e->src);
        if (!prev || !prev_src)
            rc = vl_error_oom(err);
    }
    vl_entry_close(&c);
    free(prev);
    free(prev_src);
    return rc;
}

/* List and check every folder and plain file before writing anything;
 * archives are only noted (they are read once, while staged). */
static int list_sources(ingest_job *j, vl_error *err)
{
    vl_entry_list *list = &j->list;
    int rc;
    if (!(j->is_archive = calloc(j->nsources, sizeof *j->is_archive)))
        return vl_error_oom(err);
    j->as_bag = j->nsources == 1 && !j->run.o->not_a_bag &&
                vl_source_is_bag_dir(j->sources[0]);
    for (size_t i = 0; i < j->nsources; i++) {
        char *manifest = NULL;
        if ((j->is_archive[i] = classify_is_archive(&j->run, j->sources[i])))
            continue;
        if (!j->run.o->not_a_bag && !j->as_bag &&
            vl_source_is_broken_bag_dir(j->sources[i], &manifest)) {
            rc = refuse_broken_bag(j->sources[i], manifest ? manifest : "?", err);
            free(manifest);
            return rc;
        }
        if ((rc = vl_source_collect(j->sources[i], j->run.o, j->as_bag, list,
                                    err)) != VL_OK)
            return rc;
    }
    return check_names_unique(list, err);
}

/* The deposit's limit is --max-bytes or the room staging has, whichever
 * is less; listed files past it are refused now (archives as they unpack). */
static int check_room(ingest_job *j, vl_error *err)
{
    vl_ingest_run *run = &j->run;
    int rc;
    if ((rc = vl_repo_space(run->repo, &run->space, err)) != VL_OK)
        return rc;
    run->limit = run->space.usable;
    if (run->o->max_bytes && run->o->max_bytes < run->limit) {
        run->limit = run->o->max_bytes;
        run->limit_is_option = 1;
    }
    if (j->list.bytes > run->limit)
        return vl_run_refuse_size(run, j->list.bytes, err,
                                  "refusing the deposit: it needs");
    return VL_OK;
}

/* Open the transaction and settle which digests every file gets. */
static int begin_version(ingest_job *j, vl_error *err)
{
    vl_ingest_run *run = &j->run;
    int rc;
    if ((rc = run->o->stage ? vl_txn_begin_staged(run->repo, run->o->id, &run->txn, err)
                            : vl_txn_begin(run->repo, run->o->id, &run->txn, err)) != VL_OK)
        return rc;
    snprintf(j->res->id, sizeof j->res->id, "%s", vl_txn_object_id(run->txn));
    run->mask = vl_txn_digest_mask(run->txn);
    if (j->m)
        run->mask |= VL_DIGEST_BIT(vl_manifest_alg(j->m));
    run->prog.files_total = j->list.n;
    run->prog.bytes_total = j->list.bytes;
    run->last_report_ms = now_ms();
    if (j->as_bag) {
        char *data;
        if (!(run->bag = vl_bag_new()))
            return vl_error_oom(err);
        vl_bag_set_warn(run->bag, report_line, run);
        if (!(data = vl_path_join(j->sources[0], VL_PAYLOAD_DIR)))
            return vl_error_oom(err);
        vl_bag_set_payload_dir(run->bag, vl_fs_is_dir(data));
        free(data);
    }
    return VL_OK;
}

/* Read, stage, hash and identify the listed files. */
static int stage_listed(ingest_job *j, vl_error *err)
{
    vl_ingest_run *run = &j->run;
    vl_entry_list *list = &j->list;
    int rc;
    if (!list->n)
        return VL_OK;
    if (run->bag) {
        /* The tag files say which digests the payload needs: read them
         * first (vl_source_stage_list does), parse, then hash. */
        vl_entry_cursor c;
        const vl_entry *e;
        rc = vl_entry_open(list, 1, &c, err);
        while (rc == VL_OK && (rc = vl_entry_next(&c, &e, err)) == VL_OK && e)
            rc = vl_bag_add_tag_path(run->bag, e->logical + strlen(VL_BAG_TAG_DIR) + 1,
                                     e->src, err);
        vl_entry_close(&c);
        if (rc != VL_OK || (rc = vl_bag_parse(run->bag, err)) != VL_OK)
            return rc;
        run->mask |= vl_bag_payload_mask(run->bag);
    }
    return vl_source_stage_list(run, list, err);
}

/* Unpack the archives, streaming each entry into staging, then give the
 * entries their places (a lone archive holding a bag is taken as one). */
static int stage_archives(ingest_job *j, vl_error *err)
{
    vl_ingest_run *run = &j->run;
    int rc;
    for (size_t i = 0; i < j->nsources; i++) {
        if (!j->is_archive[i])
            continue;
        if ((rc = vl_archive_ingest(run, j->sources[i], err)) != VL_OK)
            return rc;
        char *names = vl_asprintf("%s%s%s", run->archive_names ? run->archive_names : "",
                                  run->archive_names ? ", " : "", j->sources[i]);
        free(run->archive_names);
        run->archive_names = names;
    }
    if (!run->archives)
        return VL_OK;
    if ((rc = place_archive_entries(run, j->sources[0],
                                    j->nsources == 1 && !j->as_bag &&
                                    !run->o->not_a_bag, err)) != VL_OK)
        return rc;
    return run->bag ? vl_bag_parse(run->bag, err) : VL_OK;
}

/* The deposit as a whole: not empty, in a stable order, matching its
 * bag's or the donor's manifests; names that collide after
 * normalization are warned about. */
static int check_deposit(ingest_job *j, vl_error *err)
{
    vl_ingest_run *run = &j->run;
    int rc;
    vl_run_progress(run, 0, 0, 1);
    /* Workers finish in any order: the cursors give the records in logical
     * path order, so that deduplication keeps the first path in byte order
     * and every listing is stable. */
    if (run->dep.n == 0)
        return vl_error_set(err, VL_EINPUT, "nothing to ingest: the sources hold no files");
    if ((rc = vl_deposit_sort(&run->dep, err)) != VL_OK)
        return rc;
    if (run->bag && (rc = check_bag(run, err)) != VL_OK)
        return rc;
    if (j->m && (rc = check_manifest(run, j->m, err)) != VL_OK)
        return rc;
    return vl_names_check_collisions(run, err);
}

/* A bag's bag-info.txt becomes descriptive metadata too. */
static int take_bag_info(ingest_job *j, vl_error *err)
{
    vl_bag *bag = j->run.bag;
    int rc;
    if (!bag)
        return VL_OK;
    snprintf(j->res->bag_version, sizeof j->res->bag_version, "%s", vl_bag_version(bag));
    for (size_t i = 0; i < vl_bag_info_count(bag); i++) {
        const char *label, *value;
        vl_bag_info_entry(bag, i, &label, &value);
        if ((rc = vl_descriptive_add_bag_info(j->desc, label, value, err)) != VL_OK)
            return rc;
    }
    return VL_OK;
}

/* The new version's state: the deposit's files with their digests (the
 * bag's too), the head's files kept with --merge; descriptive metadata
 * may only describe files of that state. */
static int fill_version(ingest_job *j, vl_error *err)
{
    vl_ingest_run *run = &j->run;
    int rc;
    if ((rc = add_to_txn(run, j->m, err)) != VL_OK)
        return rc;
    if (run->bag) {
        struct bag_fixity_ctx bc = {run, vl_repo_digest(run->repo), VL_OK, err};
        if (vl_txn_head_inventory(run->txn))
            bc.inv_alg = vl_inventory_digest_alg(vl_txn_head_inventory(run->txn));
        if ((rc = vl_bag_foreach_digest(run->bag, keep_bag_digest, &bc, err)) != VL_OK ||
            (rc = bc.rc) != VL_OK)
            return rc;
    }
    if (run->o->merge && (rc = vl_txn_keep_all(run->txn, err)) != VL_OK)
        return rc;
    return check_file_metadata(run, j->desc, err);
}

static void dc_entry(const void *arg, size_t i, const char **element,
                     const char **value)
{
    vl_dc_entry(arg, i, element, value);
}

/* The deposit's Dublin Core (MODS crosswalked, bag-info.txt mapped) to the
 * catalog, for ls and search: a version deposited without any keeps what
 * the object had.  The METS holds it too (reindex restores it from there),
 * so a failure here loses nothing. */
static void record_descriptive(ingest_job *j)
{
    vl_error err = {0};
    const vl_dc *dc = j->desc ? vl_descriptive_deposit_dc(j->desc) : NULL;
    if (dc && vl_dc_count(dc) > 0)
        vl_catalog_desc_set(vl_repo_catalog(j->run.repo), j->res->id,
                            vl_dc_count(dc), dc_entry, dc, &err);
}

/* Record formats and commit the version; the transaction is gone after. */
static int commit_version(ingest_job *j, vl_error *err)
{
    vl_ingest_run *run = &j->run;
    const vl_ingest_options *o = run->o;
    vl_txn_info info = {o->message, o->user_name, o->user_address};
    vl_digest_alg inv_alg = vl_txn_head_inventory(run->txn)
        ? vl_inventory_digest_alg(vl_txn_head_inventory(run->txn))
        : vl_repo_digest(run->repo);
    int rc;
    /* Formats go to the catalog before the commit: rows are keyed by
     * content digest, so if the commit never happens they match no file,
     * and if it does they are already there when a crash follows it. */
    if ((rc = record_formats(run, j->res->id, inv_alg, err)) != VL_OK ||
        (rc = record_dates(run, j->res->id, err)) != VL_OK)
        return rc;
    vl_txn *t = run->txn;
    run->txn = NULL;   /* commit frees it whatever happens */
    j->res->revision = vl_txn_revision(t);
    if ((rc = vl_txn_commit(t, &info, &j->res->version, err)) != VL_OK)
        return rc;
    if (j->res->version == 0)
        j->res->revision = 0;
    record_descriptive(j);
    j->res->files = run->dep.n;
    j->res->bytes = run->dep.bytes;
    j->res->warnings = run->warnings;
    return VL_OK;
}

/* replicate.after_ingest = true: the new version goes to every replica
 * now.  The deposit is stored whatever happens here; a refusal or an
 * unreachable replica is reported in res and left to 'vellum replicate'. */
static void note_replica(void *arg, const vl_replicate_result *r)
{
    vl_ingest_result *res = arg;
    if (r->state == VL_REPL_UPDATED || r->state == VL_REPL_CURRENT) {
        res->replicas_updated++;
        return;
    }
    res->replicas_refused++;
    if (!res->replica_problem[0])
        snprintf(res->replica_problem, sizeof res->replica_problem, "%.64s: %.400s",
                 r->replica, r->message ? r->message : vl_repl_state_name(r->state));
}

static void replicate_after(vl_repo *repo, vl_ingest_result *res)
{
    const char *v = vl_repo_config_get(repo, "replicate.after_ingest");
    const char *ids[1] = {res->id};
    vl_replicate_options ro = {.on_result = note_replica, .arg = res};
    vl_error e = {0};
    if (!v || (strcasecmp(v, "true") && strcmp(v, "1") && strcasecmp(v, "yes")) ||
        vl_replica_count(repo) == 0)
        return;
    int rc = vl_replicate(repo, ids, 1, &ro, NULL, &e);
    if (rc != VL_OK && rc != VL_FINDING && !res->replica_problem[0])
        snprintf(res->replica_problem, sizeof res->replica_problem, "%.400s", e.msg);
}

/* A refused deposit stores nothing, but the event log says it was tried:
 * an "ingestion" event with outcome "fail", the id asked for (none when
 * one was to be minted), the sources, and the reason with the problems
 * listed.  Best effort: the refusal is what the caller hears about. */
static void record_refusal(vl_ingest_run *run, const vl_error *why)
{
    vl_event ev;
    vl_buf detail, outcome;
    char depositor[512];
    const char *agents[2];
    const vl_ingest_options *o = run->o;
    const char *id = o->id && *o->id && vl_text_printable(o->id) ? o->id
                                                                  : NULL;
    int rc;
    vl_buf_init(&detail, 0);
    vl_buf_init(&outcome, 0);
    snprintf(depositor, sizeof depositor, "%s%s%s%s",
             o->user_name ? o->user_name : "unknown depositor",
             o->user_address ? " <" : "", o->user_address ? o->user_address : "",
             o->user_address ? ">" : "");
    agents[0] = vl_agent_vellum();
    agents[1] = depositor;
    rc = vl_buf_printf(&detail, NULL, "Deposit refused, nothing stored; "
                       "sources: ");
    for (size_t i = 0; i < run->nsources && rc == VL_OK; i++)
        rc = vl_buf_printf(&detail, NULL, "%s%s", i ? ", " : "",
                           run->sources[i]);
    /* The reason, without the pointer to the lines printed above it:
     * here the problems follow it. */
    const char *msg = why && why->msg[0] ? why->msg : "refused";
    static const char *const above[] = {" (each problem is listed above)",
                                        " (listed above)"};
    const char *cut = NULL;
    size_t cutlen = 0;
    for (size_t i = 0; !cut && i < sizeof above / sizeof above[0]; i++)
        if ((cut = strstr(msg, above[i])))
            cutlen = strlen(above[i]);
    if (rc == VL_OK)
        rc = cut ? vl_buf_printf(&outcome, NULL, "%.*s%s", (int)(cut - msg),
                                 msg, cut + cutlen)
                 : vl_buf_printf(&outcome, NULL, "%s", msg);
    if (rc == VL_OK && run->refusal.len)
        rc = vl_buf_printf(&outcome, NULL, ": %s", run->refusal.data);
    if (rc != VL_OK)
        goto done;
    vl_event_init(&ev, VL_EV_INGESTION, id);
    ev.outcome = "fail";
    ev.detail = detail.data;
    ev.outcome_detail = outcome.data;
    ev.agents = agents;
    ev.nagents = 2;
    vl_events_append(run->repo, &ev, NULL);
done:
    vl_buf_release(&detail);
    vl_buf_release(&outcome);
}

int vl_ingest(vl_repo *repo, const char *const *sources, size_t nsources,
              const vl_ingest_options *o, vl_ingest_result *res, vl_error *err)
{
    ingest_job j = {.sources = sources, .nsources = nsources, .res = res};
    vl_ingest_run *run = &j.run;
    int rc;
    run->repo = repo;
    run->o = o;
    run->sources = sources;
    run->nsources = nsources;
    vl_buf_init(&run->refusal, 0);
    run->nthreads = o->nthreads;
    pthread_mutex_init(&run->dep.mu, NULL);
    j.list.dep = &run->dep;
    pthread_mutex_init(&run->prog_mu, NULL);
    memset(res, 0, sizeof *res);
    if (nsources == 0) {
        rc = vl_error_set(err, VL_EINPUT, "nothing to ingest: give a folder or file");
        goto done;
    }
    if ((rc = read_manifest(&j, err)) != VL_OK ||
        (rc = read_metadata(&j, err)) != VL_OK ||
        (rc = list_sources(&j, err)) != VL_OK ||
        (rc = check_room(&j, err)) != VL_OK ||
        (!o->no_identify && (rc = open_signatures(run, err)) != VL_OK) ||
        (rc = begin_version(&j, err)) != VL_OK ||
        (rc = stage_listed(&j, err)) != VL_OK ||
        (rc = stage_archives(&j, err)) != VL_OK ||
        (rc = check_deposit(&j, err)) != VL_OK ||
        (rc = take_bag_info(&j, err)) != VL_OK ||
        (rc = fill_version(&j, err)) != VL_OK)
        goto done;
    /* METS.xml differs every time (dates, event ids): judge "nothing
     * changed" on everything else. */
    if (vl_txn_unchanged_except(run->txn, VL_METS_FILE)) {
        res->files = run->dep.n;
        res->bytes = run->dep.bytes;
        res->version = 0;
        goto done;
    }
    if ((rc = add_events(run, sources, nsources, j.m, err)) == VL_OK &&
        (rc = vl_ingest_write_mets(run, j.desc, err)) == VL_OK &&
        (rc = commit_version(&j, err)) == VL_OK && res->version > 0 && !o->stage)
        replicate_after(repo, res);   /* a staged head is replicated once committed */
done:
    vl_txn_abort(run->txn);
    run->txn = NULL;
    if (rc == VL_EINPUT)
        record_refusal(run, err);
    vl_buf_release(&run->refusal);
    /* A full disk: after the staging area is given back, say how much more
     * room the deposit needs.  (Once a version is stored, the message says
     * so instead and names 'vellum recover'; it carries no errno.) */
    if (rc == VL_ESYS && err && err->sys_errno == ENOSPC) {
        uint64_t need = j.list.bytes > run->dep.bytes ? j.list.bytes : run->dep.bytes;
        vl_space_error(repo, "the deposit", need, err);
        rc = vl_error_set(err, VL_ESYS, "%s; nothing was stored", err->msg);
        err->sys_errno = ENOSPC;
    }
    vl_deposit_release(&run->dep);
    vl_bag_free(run->bag);
    vl_signatures_close(run->sigs);
    vl_manifest_free(j.m);
    vl_descriptive_free(j.desc);
    free(j.is_archive);
    free(run->archive_names);
    pthread_mutex_destroy(&run->dep.mu);
    pthread_mutex_destroy(&run->prog_mu);
    return rc;
}
