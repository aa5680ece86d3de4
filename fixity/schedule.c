/* Audit scheduling: `--due` audits what is due (never audited first, then
 * the longest since audited) within the per-run budgets, and the next run
 * carries on, so a nightly run keeps every object inside
 * audit.interval_days.  `--status` says how far behind the cycle is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit_private.h"

#define DAY 86400

/* ceil() without libm, which is not linked. */
static double up(double x)
{
    double t = (double)(int64_t)x;
    return t < x ? t + 1 : t;
}

int vl_audit_config(vl_repo *r, int *interval_days, uint64_t *max_bytes,
                    double *max_seconds, vl_error *err)
{
    const char *v;
    char *end;
    *interval_days = 90;
    *max_bytes = 0;
    *max_seconds = 0;
    if ((v = vl_repo_config_get(r, "audit.interval_days")) && *v) {
        errno = 0;
        long d = strtol(v, &end, 10);
        if (errno || *end || d < 1 || d > 36500)
            return vl_error_set(err, VL_EINPUT, "audit.interval_days '%s' is "
                                "not a number of days (1-36500)", v);
        *interval_days = (int)d;
    }
    if ((v = vl_repo_config_get(r, "audit.max_bytes_per_run")) && *v &&
        vl_audit_parse_size(v, max_bytes) != 0)
        return vl_error_set(err, VL_EINPUT, "audit.max_bytes_per_run '%s' is "
                            "not a size (bytes, or with K, M, G, T)", v);
    if ((v = vl_repo_config_get(r, "audit.max_seconds_per_run")) && *v) {
        errno = 0;
        double s = strtod(v, &end);
        if (errno || *end || !(s >= 0) || s > 1e9)
            return vl_error_set(err, VL_EINPUT, "audit.max_seconds_per_run "
                                "'%s' is not a number of seconds", v);
        *max_seconds = s;
    }
    return VL_OK;
}

/* Due: never audited, or last audited at or before now - interval. */
static int is_due(const char *last, int64_t cutoff)
{
    int64_t t;
    return !last || vl_time_parse(last, &t) != 0 || t <= cutoff;
}

/* (object, copy) pairs with each copy's last audit, for --due with
 * copies; bytes are the object's (a replica holds the same). */
typedef struct pairs_ctx {
    const vl_audit_targets *by_id;    /* every object, sorted by id */
    vl_audit_targets *out;
} pairs_ctx;

static int add_pairs(void *arg, const vl_object_copies *oc)
{
    pairs_ctx *c = arg;
    vl_audit_target key = {.id = (char *)oc->object_id};
    const vl_audit_target *obj = bsearch(&key, c->by_id->v, c->by_id->n,
                                         sizeof key, vl_audit_target_cmp_id);
    for (size_t k = 0; k < oc->ncopies; k++) {
        if (vl_audit_targets_add(c->out, oc->object_id, obj ? obj->bytes : 0,
                                 oc->copies[k].verified) != VL_OK)
            return VL_ESYS;
        c->out->v[c->out->n - 1].copy = oc->copies[k].copy;
        c->out->v[c->out->n - 1].rank = k;
    }
    return 0;
}

static int load_pairs(vl_repo *r, vl_audit_targets *all,
                      const vl_copy_names *names, vl_audit_targets *out,
                      vl_error *err)
{
    pairs_ctx c = {all, out};
    int rc;
    if (all->n > 1)
        qsort(all->v, all->n, sizeof *all->v, vl_audit_target_cmp_id);
    rc = vl_audit_copies_of(r, names, add_pairs, &c, err);
    if (rc != VL_OK && err && !err->msg[0])
        rc = vl_error_oom(err);
    if (rc == VL_OK && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, vl_audit_target_cmp_due);
    return rc;
}

int vl_audit_due(vl_repo *r, const vl_audit_options *o, vl_audit_summary *s,
                 vl_error *err)
{
    vl_audit_targets all = {0};
    vl_audit_summary local = {0};
    vl_copy_names names = {0};
    uint64_t max_bytes;
    double max_seconds;
    int days, rc;
    size_t n = 0;
    if (!s)
        s = &local;
    memset(s, 0, sizeof *s);
    if ((rc = vl_audit_config(r, &days, &max_bytes, &max_seconds, err)) != VL_OK)
        goto done;
    if (o && o->max_bytes)
        max_bytes = o->max_bytes;
    if (o && o->max_seconds > 0)
        max_seconds = o->max_seconds;
    if ((rc = vl_audit_copy_names(r, o, &names, err)) != VL_OK ||
        (rc = vl_audit_targets_load(r, &all, err)) != VL_OK)
        goto done;
    if (names.n) {
        vl_audit_targets pairs = {0};
        rc = load_pairs(r, &all, &names, &pairs, err);
        vl_audit_targets_free(&all);
        all = pairs;
        if (rc != VL_OK)
            goto done;
    }
    /* The list is in due order: move the due ones to the front, in order. */
    int64_t cutoff = vl_time_now() - (int64_t)days * DAY;
    for (size_t i = 0; i < all.n; i++) {
        if (!is_due(all.v[i].last, cutoff))
            continue;
        vl_audit_target t = all.v[n];
        all.v[n] = all.v[i];
        all.v[i] = t;
        n++;
    }
    rc = vl_audit_run(r, all.v, n, o, max_bytes, max_seconds, s, err);
done:
    vl_audit_targets_free(&all);
    vl_copy_names_free(&names);
    return rc;
}

typedef struct rate_ctx {
    uint64_t bytes;
    double seconds;
} rate_ctx;

static int add_day(void *arg, const vl_audit_day *d)
{
    rate_ctx *c = arg;
    c->bytes += d->bytes;
    c->seconds += d->seconds;
    return 0;
}

int vl_audit_status_get(vl_repo *r, vl_audit_status *st, vl_audit_status_fn fn,
                        void *arg, vl_error *err)
{
    vl_audit_targets all = {0};
    rate_ctx rate = {0};
    int64_t now = vl_time_now();
    int rc;
    memset(st, 0, sizeof *st);
    if ((rc = vl_audit_config(r, &st->interval_days, &st->max_bytes_per_run,
                              &st->max_seconds_per_run, err)) != VL_OK ||
        (rc = vl_audit_targets_load(r, &all, err)) != VL_OK ||
        (rc = vl_catalog_audit_days(vl_repo_catalog(r), NULL, add_day, &rate,
                                    err)) != VL_OK)
        goto done;
    int64_t cutoff = now - (int64_t)st->interval_days * DAY;
    st->objects = all.n;
    for (size_t i = 0; i < all.n; i++) {
        const vl_audit_target *t = &all.v[i];
        int64_t last;
        st->failed += t->failed != 0;
        if (!t->last) {
            st->never_audited++;
        } else if (is_due(t->last, cutoff)) {
            st->overdue++;
        } else {
            st->within_interval++;
            st->failed_within += t->failed != 0;
            if (vl_time_parse(t->last, &last) == 0 &&
                (!st->next_due_at || last + st->interval_days * DAY <
                                         st->next_due_at))
                st->next_due_at = last + (int64_t)st->interval_days * DAY;
            continue;
        }
        st->bytes_to_audit += t->bytes;
        if (fn)
            fn(arg, t->id, t->last, t->bytes);
    }
    if (rate.seconds > 0)
        st->bytes_per_second = (double)rate.bytes / rate.seconds;
    if (st->never_audited + st->overdue == 0) {
        st->cycle_complete_at = now;
        goto done;
    }
    st->next_due_at = 0;
    /* What one run can do: the smaller of the byte budget and the seconds
     * budget at the observed rate; no budget means one run does it all.
     * Runs are counted one a day (the timer's schedule). */
    double per_run = (double)st->max_bytes_per_run, todo = (double)st->bytes_to_audit;
    double rate_bps = st->bytes_per_second;
    if (st->max_seconds_per_run > 0) {
        if (rate_bps <= 0 && !st->max_bytes_per_run)
            goto done;   /* no observed rate yet: unknown */
        double b = st->max_seconds_per_run * rate_bps;
        if (b > 0 && (per_run <= 0 || b < per_run))
            per_run = b;
    }
    if (per_run > 0 && todo > per_run) {
        st->runs_needed = (size_t)up(todo / per_run);
        double last_run = todo - per_run * (double)(st->runs_needed - 1);
        st->cycle_complete_at = now + (int64_t)(st->runs_needed - 1) * DAY +
                                (rate_bps > 0 ? (int64_t)up(last_run / rate_bps) : 0);
    } else {
        st->runs_needed = 1;
        if (rate_bps > 0)
            st->cycle_complete_at = now + (int64_t)up(todo / rate_bps);
    }
done:
    vl_audit_targets_free(&all);
    return rc;
}

int vl_audit_failed_foreach(vl_repo *r, vl_audit_status_fn fn, void *arg,
                            vl_error *err)
{
    vl_audit_targets all = {0};
    int rc = vl_audit_targets_load(r, &all, err);
    if (rc == VL_OK && all.n > 1)
        qsort(all.v, all.n, sizeof *all.v, vl_audit_target_cmp_id);
    for (size_t i = 0; rc == VL_OK && i < all.n; i++)
        if (all.v[i].failed)
            fn(arg, all.v[i].id, all.v[i].last, all.v[i].bytes);
    vl_audit_targets_free(&all);
    return rc;
}

int vl_audit_due_cutoff(vl_repo *r, int64_t *cutoff, vl_error *err)
{
    int days;
    uint64_t max_bytes;
    double max_seconds;
    int rc = vl_audit_config(r, &days, &max_bytes, &max_seconds, err);
    if (rc == VL_OK)
        *cutoff = vl_time_now() - (int64_t)days * DAY;
    return rc;
}
