/* Audits: each object gets a full OCFL validation with every content and
 * fixity digest recomputed (the validator, on every core), then its catalog
 * rows are compared with its inventory and the sizes on storage.  The
 * outcome is recorded as a PREMIS "fixity check" event in the log, a row
 * in the catalog's audit history (for scheduling and reports) and the
 * primary copy's row of the catalog's copies.  A replica's copy of an
 * object gets the same validation on the replica's storage (no catalog
 * comparison: the catalog describes the primary), recorded as an event
 * naming the replica and that replica's copies row.  Nothing is ever
 * repaired here. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vl_json.h"
#include "audit_private.h"
#include "vl_fixity.h"

/* Object locks: a deposit in progress would look like an unexpected
 * version folder.  Wait a little, then leave the object for the next run. */
#define AUDIT_LOCK_WAIT 10

int vl_audit_parse_size(const char *s, uint64_t *out)
{
    return vl_size_parse(s, out);
}

/* ---- one object's failures ------------------------------------------- */

typedef struct fail_list {
    vl_audit_failure *v;
    size_t n, cap;
    int oom;
} fail_list;

static void fail_list_free(fail_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->v[i].code);
        free((char *)l->v[i].path);
        free((char *)l->v[i].expected);
        free((char *)l->v[i].actual);
        free((char *)l->v[i].message);
        free((char *)l->v[i].algorithm);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* kind is a static string; the rest are copied. */
static vl_audit_failure *fail_add(fail_list *l, const char *kind,
                                  const char *code, const char *path,
                                  const char *message)
{
    if (VL_GROW(l->v, l->cap, l->n + 1, NULL) != VL_OK) {
        l->oom = 1;
        return NULL;
    }
    vl_audit_failure *f = &l->v[l->n];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->code = code ? vl_strdup(code) : NULL;
    f->path = path ? vl_strdup(path) : NULL;
    f->message = vl_strdup(message ? message : "");
    if ((code && !f->code) || (path && !f->path) || !f->message) {
        free((char *)f->code);
        free((char *)f->path);
        free((char *)f->message);
        l->oom = 1;
        return NULL;
    }
    l->n++;
    return f;
}

/* ---- one object ------------------------------------------------------ */

typedef struct obj {
    vl_repo *r;
    const char *id;
    const char *copy;          /* VL_PRIMARY_COPY or a replica name */
    const char *location;      /* a replica's folder, or NULL */
    int primary;
    vl_backend *b;             /* the copy's storage (NULL: unreachable) */
    char *rel;                 /* object root in the store */
    size_t rel_len;
    vl_inventory *inv;         /* parsed without the sidecar check, or NULL */
    fail_list fl;
    uint64_t files, bytes;
    vl_error *err;
} obj;

/* The failure already listed for a path, of a kind, or NULL. */
static vl_audit_failure *fail_find(fail_list *l, const char *kind, const char *path)
{
    for (size_t i = 0; path && i < l->n; i++)
        if (l->v[i].path && !strcmp(l->v[i].kind, kind) && !strcmp(l->v[i].path, path))
            return &l->v[i];
    return NULL;
}

/* Replace a failure's string (owned) with text (taken); 0 when text is
 * NULL (out of memory). */
static int fail_set(const char **slot, char *text)
{
    if (!text)
        return 0;
    free((char *)*slot);
    *slot = text;
    return 1;
}

/* One damaged file is one problem: a second algorithm that finds the same
 * file changed joins the first one's row ("sha512, md5 digests do not
 * match"), which keeps the first algorithm's expected and actual values
 * and names every value in its message. */
static void merge_mismatch(obj *o, vl_audit_failure *af, const char *alg,
                           const char *exp, const char *act)
{
    const char *first = af->algorithm ? af->algorithm : "?";
    int single = !strchr(first, ',');
    char *algs = vl_asprintf("%s, %s", first, alg);
    const char *rest = strstr(af->message, " match: ");
    char *msg = NULL;
    if (algs)
        msg = single ? vl_asprintf("%s digests do not match: %s expected %s, "
                                   "actual %s; %s expected %s, actual %s", algs,
                                   first, af->expected ? af->expected : "?",
                                   af->actual ? af->actual : "?", alg, exp, act)
                     : vl_asprintf("%s digests do not match: %s; %s expected %s, "
                                   "actual %s", algs, rest ? rest + 8 : "", alg,
                                   exp, act);
    if (!msg || !fail_set(&af->message, msg) || !fail_set(&af->algorithm, algs)) {
        free(msg);
        free(algs);
        o->fl.oom = 1;
    }
}

/* A mismatch in full, from the finding's facts (its message shortens the
 * digests for people). */
static void add_mismatch(obj *o, const vl_finding *f, const char *path)
{
    const char *alg = f->algorithm ? f->algorithm : "?";
    const char *exp = f->expected ? f->expected : "?";
    const char *act = f->actual ? f->actual : "?";
    const char *kind = "digest";
    char *text;
    vl_audit_failure *af;
    if (strcmp(f->code, "E060") && strcmp(alg, "size") &&
        (af = fail_find(&o->fl, "digest", path)) && af->algorithm &&
        strcmp(af->algorithm, "size")) {
        merge_mismatch(o, af, alg, exp, act);
        return;
    }
    if (!strcmp(f->code, "E060")) {
        kind = "inventory";
        text = vl_asprintf("inventory.json does not match its sidecar: "
                           "expected %s %s, actual %s", alg, exp, act);
    } else if (!strcmp(alg, "size")) {
        text = vl_asprintf("fixity size does not match: expected %s, "
                           "actual %s", exp, act);
    } else {
        text = vl_asprintf("%s%s digest does not match: expected %s, "
                           "actual %s", strcmp(f->code, "E093") ? "" : "fixity ",
                           alg, exp, act);
    }
    if (!text || !(af = fail_add(&o->fl, kind, f->code, path, text))) {
        o->fl.oom = 1;
        goto done;
    }
    af->algorithm = f->algorithm ? vl_strdup(f->algorithm) : NULL;
    af->expected = f->expected ? vl_strdup(f->expected) : NULL;
    af->actual = f->actual ? vl_strdup(f->actual) : NULL;
    if ((f->algorithm && !af->algorithm) || (f->expected && !af->expected) ||
        (f->actual && !af->actual))
        o->fl.oom = 1;   /* fail_list_free frees what was copied */
done:
    free(text);
}

/* Each finding becomes a failure of a kind; the kind comes from the
 * finding's facts and code, never from its wording. */
static void on_finding(void *arg, const vl_finding *f)
{
    obj *o = arg;
    const char *rel = f->path ? f->path : "", *msg = f->message;
    const char *code = f->code ? f->code : "", *kind = "structure";
    if (f->severity != VL_SEV_ERROR)
        return;   /* warnings are advice, not fixity failures */
    /* Paths relative to the object root, and the message without the
     * validator's "rel: " prefix. */
    if (!strncmp(rel, o->rel, o->rel_len) &&
        (rel[o->rel_len] == '/' || !rel[o->rel_len]))
        rel += o->rel_len + (rel[o->rel_len] == '/');
    size_t rl = strlen(rel);
    if (rl && !strncmp(msg, rel, rl) && !strncmp(msg + rl, ": ", 2))
        msg += rl + 2;
    /* The file itself; a digest finding's path is the inventory. */
    const char *path = f->content_path ? f->content_path : (*rel ? rel : NULL);

    switch (f->problem) {
    case VL_PROBLEM_MISMATCH:
        add_mismatch(o, f, path);
        return;
    case VL_PROBLEM_MISSING:
        kind = "missing";
        if (!strcmp(code, "E092"))   /* a file, rather than a folder */
            msg = "missing from storage (listed in the manifest)";
        break;
    case VL_PROBLEM_UNREADABLE:
        kind = "unreadable";
        break;
    case VL_PROBLEM_UNEXPECTED:
        kind = "unexpected";
        break;
    default:
        if (!strcmp(code, "E092") || !strcmp(code, "E093"))
            kind = "structure";
        else if (!strcmp(code, "E023"))   /* a content folder not listed */
            kind = "unexpected";
        else if (!strncmp(vl_path_basename(rel), VL_INVENTORY_FILE,
                          VL_INVENTORY_FILE_LEN) ||
                 !strcmp(code, "E058") || !strcmp(code, "E060") ||
                 !strcmp(code, "E063"))
            kind = "inventory";
        break;
    }
    fail_add(&o->fl, kind, code, path, msg);
}

/* This process ran out of memory (a failure with no errno, or ENOMEM),
 * rather than the store failing to give something: the run's error, never
 * the object's. */
static int short_of_memory(const vl_error *e)
{
    return e->status == VL_ESYS && (e->sys_errno == 0 || e->sys_errno == ENOMEM);
}

/* Content files and bytes on storage (what the validator read). */
static int count_content(void *arg, const char *digest, const char *path)
{
    obj *o = arg;
    char *rel = vl_asprintf("%s/%s", o->rel, path);
    int kind = 0;
    uint64_t size = 0;
    vl_error e = {0};
    if (!rel) {
        o->fl.oom = 1;
        return 1;
    }
    if (vl_backend_stat(o->b, rel, &kind, &size, &e) == VL_OK) {
        if (kind == VL_WALK_FILE) {
            o->files++;
            o->bytes += size;
        }
    } else if (short_of_memory(&e)) {
        o->fl.oom = 1;
    }
    free(rel);
    return 0;
}

/* A catalog disagreement, with the content file it is about (from the
 * check's facts, never its wording). */
static void on_catalog(void *arg, const vl_catalog_problem *p)
{
    obj *o = arg;
    /* A damaged file's catalog size disagrees too: the same problem. */
    vl_audit_failure *af = fail_find(&o->fl, "digest", p->content_path);
    if (af) {
        char *msg = vl_asprintf("%s; catalog: %s", af->message, p->message);
        if (!fail_set(&af->message, msg))
            o->fl.oom = 1;
        return;
    }
    fail_add(&o->fl, "catalog", NULL, p->content_path, p->message);
}

/* Parse the root inventory for expected digests, sizes and the catalog
 * check.  Without its sidecar check on purpose: the validator reports a
 * bad sidecar, and the catalog comparison is still worth having. */
static void load_inventory(obj *o)
{
    vl_error e = {0};
    char *rel = vl_asprintf("%s/inventory.json", o->rel);
    if (!rel) {
        o->fl.oom = 1;
        return;
    }
    if (vl_inventory_load(o->b, rel, &o->inv, NULL, &e) != VL_OK &&
        short_of_memory(&e))
        o->fl.oom = 1;   /* not a damaged inventory: the run's error */
    free(rel);
}

static char *failures_json(const fail_list *l)
{
    json_t *a = json_array();
    char *s = NULL;
    for (size_t i = 0; a && i < l->n; i++) {
        const vl_audit_failure *f = &l->v[i];
        if (json_array_append_new(
                a, json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}", "kind",
                             f->kind, "code", f->code, "path", f->path,
                             "algorithm", f->algorithm, "expected", f->expected,
                             "actual", f->actual, "message", f->message)) != 0) {
            json_decref(a);
            return NULL;     /* a failure left out: none written */
        }
    }
    if (a)
        s = vl_json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* One line per failure for the event's outcome detail. */
static char *failure_lines(const fail_list *l)
{
    vl_buf b;
    vl_buf_init(&b, 0);
    for (size_t i = 0; i < l->n; i++) {
        const vl_audit_failure *f = &l->v[i];
        /* one line each: a newline in a name is escaped, so that every
         * newline here separates two problems */
        char *path = f->path ? vl_name_escape(f->path) : NULL;
        char *msg = vl_name_escape(f->message ? f->message : "");
        int bad = (f->path && !path) || !msg ||
                  vl_buf_printf(&b, NULL, "%s%s %s %s: %s", i ? "\n" : "",
                                f->code ? f->code : "-", f->kind,
                                path ? path : "-", msg) != VL_OK;
        free(path);
        free(msg);
        if (bad) {
            vl_buf_release(&b);
            return NULL;
        }
    }
    return vl_buf_detach(&b);
}

static int record(obj *o, const vl_audit_result *res, const char *started,
                  const char *finished, vl_error *err)
{
    const char *agents[2] = {vl_agent_vellum(), vl_agent_openssl()};
    char *fj = failures_json(&o->fl), *lines = failure_lines(&o->fl);
    char *detail = o->primary
        ? vl_asprintf("audit of the primary copy: full OCFL validation with "
                      "every content and fixity digest recomputed, and "
                      "catalog-against-store agreement; %llu stored files, "
                      "%llu bytes read; %zu problem%s (one per damaged file)",
                      (unsigned long long)res->files,
                      (unsigned long long)res->bytes, res->nfailures,
                      res->nfailures == 1 ? "" : "s")
        : vl_asprintf("audit of replica %s at %s: full OCFL validation with "
                      "every content and fixity digest recomputed; %llu "
                      "stored files, %llu bytes read; %zu problem%s (one per "
                      "damaged file)", o->copy,
                      o->location ? o->location : "(unknown)",
                      (unsigned long long)res->files,
                      (unsigned long long)res->bytes, res->nfailures,
                      res->nfailures == 1 ? "" : "s");
    int version = o->inv ? vl_inventory_head(o->inv) : 0;
    vl_event ev;
    int rc;
    if (!fj || !lines || !detail) {
        rc = vl_error_oom(err);
        goto done;
    }
    vl_event_init(&ev, VL_EV_FIXITY, o->id);
    ev.outcome = res->passed ? "success" : "fail";
    ev.detail = detail;
    ev.outcome_detail = res->passed ? NULL : lines;
    ev.version = version;
    ev.agents = agents;
    ev.nagents = 2;
    if ((rc = vl_events_append(o->r, &ev, err)) != VL_OK)
        goto done;
    if (!o->primary) {
        rc = vl_catalog_copy_verified(vl_repo_catalog(o->r), o->copy, o->id,
                                      version, res->passed ? "pass" : "fail",
                                      started, fj, err);
        goto done;
    }
    vl_audit_row row = {
        .object_id = o->id,
        .started = started,
        .finished = finished,
        .outcome = res->passed ? "pass" : "fail",
        .bytes = res->bytes,
        .files = res->files,
        .seconds = res->seconds,
        .failures_json = fj,
    };
    if ((rc = vl_catalog_audit_insert(vl_repo_catalog(o->r), &row, err)) != VL_OK)
        goto done;
    rc = vl_catalog_copy_verified(vl_repo_catalog(o->r), VL_PRIMARY_COPY, o->id,
                                  version, row.outcome, started, fj, err);
done:
    free(fj);
    free(lines);
    free(detail);
    return rc;
}

/* A read error inside one object (a folder or file made unreadable, a
 * failing disk) is that object's failure, not the end of the run: it is
 * recorded as "unreadable" against the object (the validator's findings,
 * which come with their facts, name the files) and the audit goes on.
 * Which errors those are is told by the error's status and errno, never
 * its wording: running out of memory (no errno, or ENOMEM) or space is
 * still the run's error.  Returns VL_OK when the error was taken as a
 * failure. */
static int take_read_error(obj *o, int rc, vl_error *err)
{
    if (rc != VL_ESYS || err->sys_errno == 0 || err->sys_errno == ENOMEM ||
        err->sys_errno == ENOSPC || err->sys_errno == EDQUOT)
        return rc;
    fail_add(&o->fl, "unreadable", NULL, NULL, err->msg);
    vl_error_clear(err);
    return VL_OK;
}

/* A replica's storage, or its failure to be reached as the copy's failure
 * ("unreachable"); running out of memory is the run's error. */
static int open_copy(obj *o, vl_error *err)
{
    vl_error e = {0};
    int rc = vl_copy_backend(o->r, o->copy, &o->b, &e);
    if (rc == VL_OK)
        return VL_OK;
    if (rc != VL_ESYS || e.sys_errno == ENOMEM) {
        *err = e;
        return rc;
    }
    o->b = NULL;
    fail_add(&o->fl, "unreachable", NULL, NULL, e.msg);
    return VL_OK;
}

/* Audit one object (one copy of it) and record it; *skipped when its lock
 * was busy. */
/* The head-state counts of an object, as ls gives them. */
static int got_counts(void *arg, const vl_catalog_object *o)
{
    *(vl_catalog_object *)arg = *o;
    return 0;
}

static int audit_one(vl_repo *r, const vl_audit_target *t,
                     const vl_audit_options *opt, vl_audit_summary *s,
                     vl_error *err)
{
    const char *id = t->id;
    obj o = {.r = r, .id = id, .err = err,
             .copy = t->copy ? t->copy : VL_PRIMARY_COPY};
    vl_lock *lock = NULL;
    vl_error lerr = {0};
    char started[32], finished[32];
    double t0 = vl_time_mono();
    int rc = VL_OK, kind = 0;

    o.primary = !strcmp(o.copy, VL_PRIMARY_COPY);
    if (vl_lock_object(r, id, AUDIT_LOCK_WAIT, &lock, &lerr) != VL_OK) {
        if (lerr.reason != VL_REASON_LOCKED && short_of_memory(&lerr)) {
            rc = vl_error_set(err, VL_ESYS, "auditing %s: %s", id, lerr.msg);
            goto done;
        }
        s->skipped++;
        if (opt && opt->on_skip)
            opt->on_skip(opt->arg, id, lerr.msg);
        goto done;
    }
    vl_time_rfc3339(vl_time_now(), started);
    if (!(o.rel = vl_repo_object_path(r, id))) {
        rc = vl_error_oom(err);
        goto done;
    }
    o.rel_len = strlen(o.rel);
    if (o.primary) {
        o.b = vl_repo_backend(r);
    } else {
        char *key = vl_asprintf(VL_REPLICA_KEY_PREFIX "%s", o.copy);
        if (!key) {
            rc = vl_error_oom(err);
            goto done;
        }
        o.location = vl_repo_config_get(r, key);
        free(key);
        if ((rc = open_copy(&o, err)) != VL_OK)
            goto done;
    }
    if (!o.b) {
        /* unreachable: recorded as the copy's failure below */
    } else if ((rc = vl_backend_stat(o.b, o.rel, &kind, NULL, err)) != VL_OK) {
        if ((rc = take_read_error(&o, rc, err)) != VL_OK)
            goto done;
    } else if (kind != VL_WALK_DIR) {
        char *m = o.primary
            ? vl_asprintf("the object folder %s is missing from the store", o.rel)
            : vl_asprintf("the object folder %s is missing from replica %s "
                          "(never replicated, or lost)", o.rel, o.copy);
        fail_add(&o.fl, "missing", NULL, NULL, m ? m : "object folder missing");
        free(m);
    } else {
        vl_validate_options vo = {.check_digests = 1,
                                  .nthreads = opt ? opt->nthreads : 0,
                                  .on_finding = on_finding, .arg = &o};
        vl_validate_counts c = {0};
        load_inventory(&o);
        rc = vl_validate_object(o.b, o.rel, &vo, &c, err);
        if ((rc = take_read_error(&o, rc, err)) != VL_OK)
            goto done;
        if (o.inv) {
            if (vl_inventory_manifest_foreach(o.inv, count_content, &o) != 0)
                o.fl.oom = 1;
            /* The catalog describes the primary only. */
            if (o.primary) {
                rc = vl_catalog_check_object_problems(vl_repo_catalog(r), o.b,
                                                      o.rel, o.inv, on_catalog,
                                                      &o, err);
                if (rc == VL_FINDING)
                    rc = VL_OK;
                if ((rc = take_read_error(&o, rc, err)) != VL_OK)
                    goto done;
            }
        }
    }
    if (o.fl.oom) {
        rc = vl_error_oom(err);
        goto done;
    }
    vl_time_rfc3339(vl_time_now(), finished);
    vl_catalog_object counts = {0};
    vl_catalog_get_object(vl_repo_catalog(r), id, got_counts, &counts, NULL);
    vl_audit_result res = {
        .object_files = counts.files,
        .object_bytes = counts.bytes,
        .metadata_files = counts.metadata_files,
        .object_id = id,
        .copy = o.copy,
        .passed = o.fl.n == 0,
        .files = o.files,
        .bytes = o.bytes,
        .seconds = vl_time_mono() - t0,
        .nfailures = o.fl.n,
        .failures = o.fl.v,
    };
    if ((rc = record(&o, &res, started, finished, err)) != VL_OK)
        goto done;
    s->objects++;
    if (res.passed)
        s->passed++;
    else
        s->failed++;
    s->bytes += res.bytes;
    if (opt && opt->on_object)
        opt->on_object(opt->arg, &res);
done:
    vl_lock_release(lock);
    vl_inventory_free(o.inv);
    fail_list_free(&o.fl);
    free(o.rel);
    return rc;
}

int vl_audit_run(vl_repo *r, const vl_audit_target *t, size_t n,
                 const vl_audit_options *o, uint64_t max_bytes,
                 double max_seconds, vl_audit_summary *s, vl_error *err)
{
    double t0 = vl_time_mono();
    int rc = VL_OK;
    for (size_t i = 0; i < n; i++) {
        double used = vl_time_mono() - t0;
        /* Budgets: never stop before the first object, so every run makes
         * progress; bytes are known ahead, so stop before overshooting. */
        if (i > 0 && ((max_bytes && s->bytes + t[i].bytes > max_bytes) ||
                      (max_seconds > 0 && used >= max_seconds))) {
            s->budget_reached = 1;
            break;
        }
        if (o && t[i].copy && o->on_start_copy)
            o->on_start_copy(o->arg, t[i].id, t[i].copy, t[i].bytes);
        else if (o && o->on_start)
            o->on_start(o->arg, t[i].id, t[i].bytes);
        if ((rc = audit_one(r, &t[i], o, s, err)) != VL_OK)
            break;
    }
    s->seconds = vl_time_mono() - t0;
    if (rc == VL_OK && s->failed)
        rc = VL_FINDING;
    return rc;
}

/* ---- vl_audit: given ids, or every object ------------------------------ */

static int collect(void *arg, const vl_audit_object *ao)
{
    vl_audit_targets *ts = arg;
    if (vl_audit_targets_add(ts, ao->id, ao->bytes, ao->last_started) != VL_OK)
        return VL_ESYS;
    ts->v[ts->n - 1].failed = ao->last_outcome && strcmp(ao->last_outcome, "pass");
    return 0;
}

int vl_audit_targets_add(vl_audit_targets *ts, const char *id, uint64_t bytes,
                         const char *last)
{
    if (VL_GROW(ts->v, ts->cap, ts->n + 1, NULL) != VL_OK)
        return VL_ESYS;
    vl_audit_target *t = &ts->v[ts->n];
    memset(t, 0, sizeof *t);
    t->id = vl_strdup(id);
    t->last = last ? vl_strdup(last) : NULL;
    t->bytes = bytes;
    if (!t->id || (last && !t->last)) {
        free(t->id);
        free(t->last);
        return VL_ESYS;
    }
    ts->n++;
    return VL_OK;
}

void vl_audit_targets_free(vl_audit_targets *ts)
{
    for (size_t i = 0; i < ts->n; i++) {
        free(ts->v[i].id);
        free(ts->v[i].last);
    }
    free(ts->v);
    memset(ts, 0, sizeof *ts);
}

int vl_audit_targets_load(vl_repo *r, vl_audit_targets *ts, vl_error *err)
{
    int rc = vl_catalog_audit_objects(vl_repo_catalog(r), collect, ts, err);
    if (rc != VL_OK && err && !err->msg[0])
        rc = vl_error_oom(err);
    return rc;
}

int vl_audit(vl_repo *r, const char *const *ids, size_t n,
             const vl_audit_options *o, vl_audit_summary *s, vl_error *err)
{
    vl_audit_targets all = {0}, want = {0};
    vl_audit_summary local = {0};
    vl_copy_names names = {0};
    int rc;
    if (!s)
        s = &local;
    memset(s, 0, sizeof *s);
    if ((rc = vl_audit_copy_names(r, o, &names, err)) != VL_OK ||
        (rc = vl_audit_targets_load(r, &all, err)) != VL_OK)
        goto done;
    if (n == 0) {
        /* Every object, in id order (the catalog list is in due order). */
        for (size_t i = 0; i < all.n; i++)
            if ((rc = vl_audit_targets_add(&want, all.v[i].id, all.v[i].bytes,
                                           NULL)) != VL_OK) {
                rc = vl_error_oom(err);
                goto done;
            }
        if (want.n > 1)
            qsort(want.v, want.n, sizeof *want.v, vl_audit_target_cmp_id);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t bytes = 0;
        int found = 0;
        for (size_t j = 0; j < all.n && !found; j++)
            if (!strcmp(all.v[j].id, ids[i]))
                found = 1, bytes = all.v[j].bytes;
        if (!found) {
            /* In the store but not in the catalog: audit it, and the
             * catalog check says what is wrong. */
            int present = 0;
            if ((rc = vl_repo_object_stored(r, ids[i], &present, err)) != VL_OK)
                goto done;
            if (!present) {
                rc = vl_error_set(err, VL_EINPUT, "no object with id %s",
                                  ids[i]);
                goto done;
            }
        }
        if (vl_audit_targets_add(&want, ids[i], bytes, NULL) != VL_OK) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    if (names.n) {
        /* Each object's copies in turn: primary first, replicas by name. */
        vl_audit_targets pairs = {0};
        if ((rc = vl_audit_targets_expand(&want, &names, &pairs, err)) != VL_OK)
            goto done;
        vl_audit_targets_free(&want);
        want = pairs;
    }
    rc = vl_audit_run(r, want.v, want.n, o, o ? o->max_bytes : 0,
                      o ? o->max_seconds : 0, s, err);
done:
    vl_audit_targets_free(&all);
    vl_audit_targets_free(&want);
    vl_copy_names_free(&names);
    return rc;
}

int vl_audit_target_cmp_id(const void *a, const void *b)
{
    return strcmp(((const vl_audit_target *)a)->id,
                  ((const vl_audit_target *)b)->id);
}

int vl_audit_target_cmp_due(const void *a, const void *b)
{
    const vl_audit_target *x = a, *y = b;
    int c;
    if (!x->last != !y->last)
        return x->last ? 1 : -1;
    if (x->last && (c = strcmp(x->last, y->last)) != 0)
        return c;
    if ((c = strcmp(x->id, y->id)) != 0)
        return c;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

int vl_audit_targets_expand(const vl_audit_targets *objs,
                            const vl_copy_names *names, vl_audit_targets *out,
                            vl_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < objs->n; i++)
        for (size_t k = 0; k < names->n; k++) {
            const vl_audit_target *t = &objs->v[i];
            int primary = !strcmp(names->v[k], VL_PRIMARY_COPY);
            if (vl_audit_targets_add(out, t->id, t->bytes,
                                     primary ? t->last : NULL) != VL_OK) {
                vl_audit_targets_free(out);
                return vl_error_oom(err);
            }
            out->v[out->n - 1].copy = names->v[k];
            out->v[out->n - 1].rank = k;
        }
    return VL_OK;
}
