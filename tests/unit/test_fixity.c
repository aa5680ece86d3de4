/* Unit tests for fixity/: audits of a good and of a tampered object (outcome,
 * failures, the PREMIS fixity event), the --due schedule against a fixed
 * clock (VELLUM_NOW), the per-run budgets, and the CSV and HTML reports with
 * hostile object ids and repository names.  Nothing here sleeps or measures
 * time: the wall clock is fixed through VELLUM_NOW and the monotonic clock
 * of the time budgets is a fake one the tests move. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "unit_files.h"
#include "unit_repo.h"
#include "vl_fixity.h"
#include "vl_ingest.h"
#include "vl_storage.h"

#define DAY 86400
/* 2026-01-01T00:00:00Z */
#define T0 1767225600LL

/* ---- a fake monotonic clock ------------------------------------------- */

/* The audit's time budget reads CLOCK_MONOTONIC (vl_time_mono).  This
 * definition takes the place of libc's for the whole test binary (libvellum
 * is linked statically into it): while fake_clock is set, CLOCK_MONOTONIC
 * stands still at fake_now and moves only when a test moves it, so a time
 * budget runs out after a chosen number of objects however fast or slow
 * the machine.  Every other read goes to the kernel. */
static int fake_clock;
static double fake_now;

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (fake_clock && id == CLOCK_MONOTONIC) {
        ts->tv_sec = (time_t)fake_now;
        ts->tv_nsec = (long)((fake_now - (double)ts->tv_sec) * 1e9);
        return 0;
    }
    return (int)syscall(SYS_clock_gettime, id, ts);
}

/* ---- helpers ----------------------------------------------------------- */

static void set_now(long long t)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", t);
    assert_int_equal(setenv("VELLUM_NOW", v, 1), 0);
}

static vl_repo *new_repo_named(char **base_out, const char *name)
{
    return unit_repo_new(base_out, name, VL_SHA512, 0);
}

static vl_repo *new_repo(char **base_out)
{
    return new_repo_named(base_out, "repo");
}

/* Deposit one folder holding a.txt (text) as object id. */
static void deposit(vl_repo *r, const char *base, const char *id,
                    const char *text)
{
    char *src = vl_path_join(base, "src");
    vl_error err = {0};
    vl_fs_rmtree(src, &err);
    put(src, "a.txt", text);
    vl_ingest_options o = {0};
    vl_ingest_result res;
    memset(&res, 0, sizeof res);
    o.id = id;
    o.message = "test";
    o.user_name = "Tester";
    o.user_address = "mailto:t@example.org";
    const char *srcs[] = {src};
    int rc = vl_ingest(r, srcs, 1, &o, &res, &err);
    if (rc != VL_OK)
        fail_msg("ingest of %s failed: %s", id, err.msg);
    assert_int_equal(res.version, 1);
    vl_fs_rmtree(src, &err);
    free(src);
}

/* Overwrite v1/content/a.txt of object id in place (same length, so only
 * the digest can tell), in the storage root store. */
static void tamper_in(vl_repo *r, const char *store, const char *id,
                      const char *text)
{
    char *rel = vl_repo_object_path(r, id);
    char *root = vl_path_join(store, rel);
    char *content = vl_path_join(root, "v1/content/data");
    char *file = vl_path_join(content, "a.txt");
    assert_true(vl_fs_exists(file));
    chmod(content, 0755);
    chmod(file, 0644);
    FILE *f = fopen(file, "r+");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    free(file);
    free(content);
    free(root);
    free(rel);
}

static void tamper(vl_repo *r, const char *id, const char *text)
{
    char *store = vl_path_join(vl_repo_dir(r), "store");
    tamper_in(r, store, id, text);
    free(store);
}

static void cleanup(vl_repo *r, char *base)
{
    vl_error err = {0};
    vl_repo_close(r);
    /* Content is written read-only: make it removable. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'", base);
    assert_int_equal(system(cmd), 0);
    vl_fs_rmtree(base, &err);
    free(base);
    unsetenv("VELLUM_NOW");
}

/* What on_object saw. */
struct seen {
    size_t n;
    char ids[8][64];
    char copy[8][32];
    int passed[8];
    size_t nfailures[8];
    char kind[8][32];
    char path[8][256];
    char algorithm[8][16];
    int expected_differs[8];
};

static void on_object(void *arg, const vl_audit_result *res)
{
    struct seen *s = arg;
    assert_true(s->n < 8);
    size_t i = s->n++;
    snprintf(s->ids[i], sizeof s->ids[i], "%s", res->object_id);
    snprintf(s->copy[i], sizeof s->copy[i], "%s", res->copy ? res->copy : "");
    s->passed[i] = res->passed;
    s->nfailures[i] = res->nfailures;
    if (res->nfailures) {
        const vl_audit_failure *f = &res->failures[0];
        snprintf(s->kind[i], sizeof s->kind[i], "%s", f->kind ? f->kind : "");
        snprintf(s->path[i], sizeof s->path[i], "%s", f->path ? f->path : "");
        snprintf(s->algorithm[i], sizeof s->algorithm[i], "%s",
                 f->algorithm ? f->algorithm : "");
        s->expected_differs[i] = f->expected && f->actual &&
                                 strcmp(f->expected, f->actual) != 0;
    }
}

/* Fixity events of one object. */
struct events {
    size_t n;
    char outcome[4][16];
    char outcome_detail[4][1024];
};

static int on_event(void *arg, const vl_event_row *row)
{
    struct events *e = arg;
    if (e->n < 4) {
        snprintf(e->outcome[e->n], sizeof e->outcome[e->n], "%s",
                 row->outcome ? row->outcome : "");
        snprintf(e->outcome_detail[e->n], sizeof e->outcome_detail[e->n], "%s",
                 row->outcome_detail ? row->outcome_detail : "");
    }
    e->n++;
    return 0;
}

static void fixity_events(vl_repo *r, const char *id, struct events *e)
{
    vl_event_filter f = {0};
    vl_error err = {0};
    memset(e, 0, sizeof *e);
    f.object_id = id;
    f.type = VL_EV_FIXITY;
    assert_int_equal(vl_events_list(r, &f, on_event, e, &err), VL_OK);
}

static char *slurp(const char *path)
{
    vl_buf b;
    vl_error err = {0};
    vl_buf_init(&b, 0);
    assert_int_equal(vl_fs_read_file(path, 0, &b, &err), VL_OK);
    return b.data;   /* the caller frees */
}

/* ---- audits ------------------------------------------------------------ */

static void test_audit_good_object_passes_with_one_event(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    deposit(r, base, "good", "hello, world\n");
    struct events e;
    fixity_events(r, "good", &e);
    assert_int_equal(e.n, 0);

    struct seen seen = {0};
    vl_audit_options o = {0};
    vl_audit_summary s;
    o.on_object = on_object;
    o.arg = &seen;
    const char *ids[] = {"good"};
    assert_int_equal(vl_audit(r, ids, 1, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 1);
    assert_int_equal(s.passed, 1);
    assert_int_equal(s.failed, 0);
    /* a.txt and the METS document vellum writes beside it. */
    assert_true(s.bytes > strlen("hello, world\n"));
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.ids[0], "good");
    assert_int_equal(seen.passed[0], 1);
    assert_int_equal(seen.nfailures[0], 0);

    fixity_events(r, "good", &e);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.outcome[0], "success");
    cleanup(r, base);
}

static void test_audit_tampered_file_fails_naming_it(void **state)
{
    (void)state;
    char *base;
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    deposit(r, base, "good", "untouched\n");
    deposit(r, base, "bad", "hello, world\n");
    tamper(r, "bad", "jello");

    struct seen seen = {0};
    vl_audit_options o = {0};
    vl_audit_summary s;
    o.on_object = on_object;
    o.arg = &seen;
    /* Every object (n == 0), in id order: bad, then good. */
    assert_int_equal(vl_audit(r, NULL, 0, &o, &s, &err), VL_FINDING);
    assert_int_equal(s.objects, 2);
    assert_int_equal(s.passed, 1);
    assert_int_equal(s.failed, 1);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.ids[0], "bad");
    assert_int_equal(seen.passed[0], 0);
    assert_int_equal(seen.nfailures[0], 1);
    assert_string_equal(seen.kind[0], "digest");
    assert_non_null(strstr(seen.path[0], "v1/content/data/a.txt"));
    assert_string_equal(seen.algorithm[0], "sha512");
    assert_true(seen.expected_differs[0]);
    assert_string_equal(seen.ids[1], "good");
    assert_int_equal(seen.passed[1], 1);

    struct events e;
    fixity_events(r, "bad", &e);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.outcome[0], "fail");
    assert_non_null(strstr(e.outcome_detail[0], "v1/content/data/a.txt"));
    fixity_events(r, "good", &e);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.outcome[0], "success");
    cleanup(r, base);
}

/* ---- schedule ---------------------------------------------------------- */

static void test_due_follows_interval_and_last_audit(void **state)
{
    (void)state;
    char *base;
    set_now(T0);
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    assert_int_equal(vl_repo_config_set(r, "audit.interval_days", "30", &err),
                     VL_OK);
    deposit(r, base, "a", "aaaa\n");
    deposit(r, base, "b", "bbbb\n");

    /* Never audited: both due. */
    vl_audit_status st;
    assert_int_equal(vl_audit_status_get(r, &st, NULL, NULL, &err), VL_OK);
    assert_int_equal(st.objects, 2);
    assert_int_equal(st.never_audited, 2);
    assert_int_equal(st.interval_days, 30);
    struct seen seen = {0};
    vl_audit_options o = {0};
    vl_audit_summary s;
    o.on_object = on_object;
    o.arg = &seen;
    assert_int_equal(vl_audit_due(r, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 2);

    /* Ten days later: nothing due; the next falls due at T0 + 30 days. */
    set_now(T0 + 10 * DAY);
    assert_int_equal(vl_audit_status_get(r, &st, NULL, NULL, &err), VL_OK);
    assert_int_equal(st.never_audited, 0);
    assert_int_equal(st.overdue, 0);
    assert_int_equal(st.within_interval, 2);
    assert_int_equal(st.next_due_at, T0 + 30 * DAY);
    assert_int_equal(vl_audit_due(r, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 0);

    /* A new object is due at once, alone. */
    deposit(r, base, "c", "cccc\n");
    seen.n = 0;
    assert_int_equal(vl_audit_due(r, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 1);
    assert_string_equal(seen.ids[0], "c");

    /* Thirty days after the first audit a and b are due again (at the
     * boundary: "at or before now - interval"), c (audited at +10) not. */
    set_now(T0 + 30 * DAY);
    assert_int_equal(vl_audit_status_get(r, &st, NULL, NULL, &err), VL_OK);
    assert_int_equal(st.overdue, 2);
    assert_int_equal(st.within_interval, 1);
    seen.n = 0;
    assert_int_equal(vl_audit_due(r, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 2);
    assert_int_equal(seen.n, 2);
    assert_true(strcmp(seen.ids[0], "c") != 0 && strcmp(seen.ids[1], "c") != 0);
    cleanup(r, base);
}

/* ---- budgets ----------------------------------------------------------- */

static void test_byte_budget_stops_and_next_run_continues(void **state)
{
    (void)state;
    char *base;
    set_now(T0);
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    /* Three objects of a little over 100 kB each (a.txt plus METS). */
    static char text[100001];
    memset(text, 'x', 100000);
    text[100000] = 0;
    deposit(r, base, "o1", text);
    deposit(r, base, "o2", text);
    deposit(r, base, "o3", text);

    struct seen seen = {0};
    vl_audit_options o = {0};
    vl_audit_summary s;
    o.on_object = on_object;
    o.arg = &seen;
    o.max_bytes = 250000;   /* two fit, the third would overshoot */
    assert_int_equal(vl_audit_due(r, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 2);
    assert_true(s.bytes > 200000 && s.bytes <= 250000);
    assert_int_equal(s.budget_reached, 1);

    /* After the interval all three are due; the never-audited o3 comes
     * first, and the config's budget (used when the options give none)
     * stops the run after it. */
    set_now(T0 + 91 * DAY);
    assert_int_equal(vl_repo_config_set(r, "audit.max_bytes_per_run", "100",
                                        &err), VL_OK);
    o.max_bytes = 0;
    seen.n = 0;
    assert_int_equal(vl_audit_due(r, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 1);
    assert_int_equal(s.budget_reached, 1);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.ids[0], "o3");
    cleanup(r, base);
}

/* A budget smaller than one object still audits one object (every run makes
 * progress) and stops there. */
static void test_tiny_byte_budget_audits_exactly_one_object(void **state)
{
    (void)state;
    char *base;
    set_now(T0);
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    deposit(r, base, "o1", "one\n");
    deposit(r, base, "o2", "two\n");

    vl_audit_options o = {0};
    vl_audit_summary s;
    o.max_bytes = 1;
    assert_int_equal(vl_audit(r, NULL, 0, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 1);
    assert_int_equal(s.budget_reached, 1);

    /* No budget: all of them. */
    o.max_bytes = 0;
    assert_int_equal(vl_audit(r, NULL, 0, &o, &s, &err), VL_OK);
    assert_int_equal(s.objects, 2);
    assert_int_equal(s.budget_reached, 0);
    cleanup(r, base);
}

/* Each object audit "takes" 10 s of the fake clock. */
static void tick_10s(void *arg, const vl_audit_result *res)
{
    (void)res;
    (*(size_t *)arg)++;
    fake_now += 10;
}

/* The seconds budget, against the fake clock: with 25 s and 10 s an object,
 * the run starts a third object at 20 s (still under budget) and stops
 * before a fourth at 30 s; the config's audit.max_seconds_per_run is used
 * when the options give none. */
static void test_seconds_budget_with_a_fake_clock(void **state)
{
    (void)state;
    char *base;
    set_now(T0);
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    const char *ids[] = {"o1", "o2", "o3", "o4", "o5"};
    for (size_t i = 0; i < 5; i++)
        deposit(r, base, ids[i], "same\n");

    size_t seen = 0;
    vl_audit_options o = {0};
    vl_audit_summary s;
    o.on_object = tick_10s;
    o.arg = &seen;
    o.max_seconds = 25;
    fake_now = 1000;
    fake_clock = 1;
    int rc = vl_audit(r, NULL, 0, &o, &s, &err);
    fake_clock = 0;
    assert_int_equal(rc, VL_OK);
    assert_int_equal(seen, 3);
    assert_int_equal(s.objects, 3);
    assert_int_equal(s.budget_reached, 1);
    assert_true(s.seconds >= 29.999 && s.seconds <= 30.001);

    assert_int_equal(vl_repo_config_set(r, "audit.max_seconds_per_run", "15",
                                        &err), VL_OK);
    o.max_seconds = 0;
    seen = 0;
    set_now(T0 + 91 * DAY);   /* all five due, o4 and o5 (never) first */
    fake_clock = 1;
    rc = vl_audit_due(r, &o, &s, &err);
    fake_clock = 0;
    assert_int_equal(rc, VL_OK);
    /* 0 s: o4, 10 s: o5 (the two never audited), 20 s >= 15: stop. */
    assert_int_equal(seen, 2);
    assert_int_equal(s.budget_reached, 1);
    cleanup(r, base);
}

/* ---- copies ------------------------------------------------------------ */

/* A replica "rep" at base/rep: a copy of the store, added as the existing
 * storage root it is. */
static char *add_replica(vl_repo *r, const char *base)
{
    char *dir = vl_path_join(base, "rep");
    char cmd[1200];
    vl_error err = {0};
    snprintf(cmd, sizeof cmd, "cp -a '%s/store' '%s'", vl_repo_dir(r), dir);
    assert_int_equal(system(cmd), 0);
    if (vl_replica_add(r, "rep", dir, &err) != VL_OK)
        fail_msg("replica add: %s", err.msg);
    return dir;
}

struct object_copies_seen {
    size_t n;
    char ids[4][16];
    size_t ncopies[4], verified[4], failed[4], behind[4];
};

static int on_object_copies(void *arg, const vl_object_copies *oc)
{
    struct object_copies_seen *s = arg;
    assert_true(s->n < 4);
    snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", oc->object_id);
    s->ncopies[s->n] = oc->ncopies;
    s->verified[s->n] = oc->verified;
    s->failed[s->n] = oc->failed;
    s->behind[s->n] = oc->behind;
    assert_string_equal(oc->copies[0].copy, VL_PRIMARY_COPY);
    s->n++;
    return 0;
}

static void on_copy_status(void *arg, const vl_copy_status *cs)
{
    vl_copy_status *out = arg;
    size_t i = strcmp(cs->name, VL_PRIMARY_COPY) != 0;
    out[i] = *cs;
    out[i].name = out[i].location = NULL;   /* valid during the call only */
}

static void test_replica_copies_audited_and_counted(void **state)
{
    (void)state;
    char *base;
    set_now(T0);
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    deposit(r, base, "a", "aaaa\n");
    deposit(r, base, "b", "bbbb\n");
    char *rep = add_replica(r, base);
    tamper_in(r, rep, "b", "B");

    /* An unknown copy: VL_EINPUT, nothing audited. */
    struct seen seen = {0};
    vl_audit_options o = {0};
    vl_audit_summary s;
    const char *bad[] = {"nope"};
    o.on_object = on_object;
    o.arg = &seen;
    o.copies = bad;
    o.ncopies = 1;
    assert_int_equal(vl_audit(r, NULL, 0, &o, &s, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "no replica named \"nope\""));
    assert_int_equal(seen.n, 0);

    /* Every copy: object by object, the primary first. */
    o.copies = NULL;
    o.ncopies = 0;
    o.all_copies = 1;
    assert_int_equal(vl_audit(r, NULL, 0, &o, &s, &err), VL_FINDING);
    assert_int_equal(s.objects, 4);
    assert_int_equal(s.failed, 1);
    assert_int_equal(seen.n, 4);
    assert_string_equal(seen.ids[2], "b");
    assert_string_equal(seen.copy[2], VL_PRIMARY_COPY);
    assert_int_equal(seen.passed[2], 1);
    assert_string_equal(seen.ids[3], "b");
    assert_string_equal(seen.copy[3], "rep");
    assert_int_equal(seen.passed[3], 0);
    assert_string_equal(seen.kind[3], "digest");
    assert_string_equal(seen.path[3], "v1/content/data/a.txt");
    assert_true(seen.expected_differs[3]);

    /* Per object and per copy, from the catalog. */
    struct object_copies_seen oc = {0};
    assert_int_equal(vl_audit_copies(r, on_object_copies, &oc, &err), VL_OK);
    assert_int_equal(oc.n, 2);
    assert_string_equal(oc.ids[0], "a");
    assert_int_equal(oc.ncopies[0], 2);
    assert_int_equal(oc.verified[0], 2);
    assert_int_equal(oc.verified[1], 1);
    assert_int_equal(oc.failed[1], 1);
    assert_int_equal(oc.behind[1], 0);
    vl_copy_status cs[2];
    memset(cs, 0, sizeof cs);
    assert_int_equal(vl_audit_copy_status(r, on_copy_status, cs, &err), VL_OK);
    assert_int_equal(cs[0].verified, 2);
    assert_int_equal(cs[1].objects, 2);
    assert_int_equal(cs[1].verified, 1);
    assert_int_equal(cs[1].failed, 1);
    int min = 0;
    assert_int_equal(vl_copies_min(r, &min, &err), VL_OK);
    assert_int_equal(min, 2);

    /* Past the interval nothing is verified any more. */
    set_now(T0 + 91 * DAY);
    memset(&oc, 0, sizeof oc);
    assert_int_equal(vl_audit_copies(r, on_object_copies, &oc, &err), VL_OK);
    assert_int_equal(oc.verified[0], 0);
    assert_int_equal(oc.failed[1], 1);
    free(rep);
    cleanup(r, base);
}

/* Repairs made and failed are the "recovery" events since --since. */
static void recovery(vl_repo *r, long long when, const char *outcome)
{
    vl_event ev;
    vl_error err = {0};
    set_now(when);
    vl_event_init(&ev, VL_EV_RECOVERY, "a");
    ev.outcome = outcome;
    ev.detail = "test";
    ev.version = 1;
    assert_int_equal(vl_events_append(r, &ev, &err), VL_OK);
}

static long long json_int_at(const char *text, const char *obj, const char *key)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    long long v = json_integer_value(json_object_get(json_object_get(j, obj), key));
    json_decref(j);
    return v;
}

static void test_report_counts_repairs_and_advises(void **state)
{
    (void)state;
    char *base;
    set_now(T0);
    vl_repo *r = new_repo(&base);
    vl_error err = {0};
    deposit(r, base, "a", "aaaa\n");
    recovery(r, T0 + DAY, "success");
    recovery(r, T0 + 2 * DAY, "fail");
    recovery(r, T0 + 3 * DAY, "success");
    char *path = vl_path_join(base, "report.json");
    assert_int_equal(vl_report_write(r, VL_REPORT_JSON, NULL, path, &err), VL_OK);
    char *json = slurp(path);
    assert_int_equal(json_int_at(json, "repairs", "made"), 2);
    assert_int_equal(json_int_at(json, "repairs", "failed"), 1);
    assert_int_equal(json_int_at(json, "copies", "copies_per_object"), 1);
    assert_int_equal(json_int_at(json, "copies", "min_copies"), 1);
    assert_non_null(strstr(json, "\"vellum events --type recovery --outcome fail\""));
    assert_non_null(strstr(json, "\"vellum replica add NAME DIR\""));
    free(json);
    assert_int_equal(vl_report_write(r, VL_REPORT_JSON, "2026-01-03T12:00:00Z",
                                     path, &err), VL_OK);
    json = slurp(path);
    assert_int_equal(json_int_at(json, "repairs", "made"), 1);
    assert_int_equal(json_int_at(json, "repairs", "failed"), 0);
    assert_null(strstr(json, "--outcome fail"));
    free(json);
    free(path);
    cleanup(r, base);
}

/* ---- reports ----------------------------------------------------------- */

#define HOSTILE_CSV_ID "=HYPERLINK(\"http://x\"),evil"
#define HOSTILE_HTML_ID "<script>alert(1)</script>"

static void test_reports_escape_hostile_ids(void **state)
{
    (void)state;
    char *base;
    set_now(T0);
    /* The repository's folder name is the HTML report's title. */
    vl_repo *r = new_repo_named(&base, "<script>title");
    vl_error err = {0};
    deposit(r, base, HOSTILE_CSV_ID, "hello, world\n");
    deposit(r, base, HOSTILE_HTML_ID, "hello, world\n");
    /* Failing objects are the ones whose ids the reports print. */
    tamper(r, HOSTILE_CSV_ID, "jello");
    tamper(r, HOSTILE_HTML_ID, "jello");
    vl_audit_summary s;
    assert_int_equal(vl_audit(r, NULL, 0, NULL, &s, &err), VL_FINDING);
    assert_int_equal(s.failed, 2);

    char *csv_path = vl_path_join(base, "report.csv");
    /* CSV is one table a file: the combined one is refused. */
    assert_int_equal(vl_report_write(r, VL_REPORT_CSV, NULL, csv_path, &err),
                     VL_EINPUT);
    assert_int_equal(vl_report_write_csv(r, "failures", NULL, csv_path, &err),
                     VL_OK);
    char *csv = slurp(csv_path);
    /* Quoted (comma and quotes), quotes doubled, formula defused with '. */
    assert_non_null(strstr(csv, "\r\n\"'=HYPERLINK(\"\"http://x\"\"),evil\","));
    assert_null(strstr(csv, "\r\n=HYPERLINK"));
    assert_null(strstr(csv, ",=HYPERLINK"));

    char *html_path = vl_path_join(base, "report.html");
    assert_int_equal(vl_report_write(r, VL_REPORT_HTML, NULL, html_path, &err),
                     VL_OK);
    char *html = slurp(html_path);
    assert_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "<title>Preservation report \xe2\x80\x94 "
                                 "&lt;script&gt;title"));
    free(html);
    free(html_path);
    free(csv);
    free(csv_path);
    cleanup(r, base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_good_object_passes_with_one_event),
        cmocka_unit_test(test_audit_tampered_file_fails_naming_it),
        cmocka_unit_test(test_due_follows_interval_and_last_audit),
        cmocka_unit_test(test_byte_budget_stops_and_next_run_continues),
        cmocka_unit_test(test_tiny_byte_budget_audits_exactly_one_object),
        cmocka_unit_test(test_seconds_budget_with_a_fake_clock),
        cmocka_unit_test(test_reports_escape_hostile_ids),
        cmocka_unit_test(test_replica_copies_audited_and_counted),
        cmocka_unit_test(test_report_counts_repairs_and_advises),
    };
    return cmocka_run_group_tests_name("fixity", tests, NULL, NULL);
}
