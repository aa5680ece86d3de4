/* Reports: the copies of every object (the primary and each replica), how
 * many are verified, objects short of replicate.min_copies, repairs made
 * and failed (PREMIS "recovery" events), and the advice that names the
 * command to run.  The model part is gathered here; JSON and CSV rows of
 * each object's copies are streamed from the catalog while writing. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report_private.h"

#define JFLAGS (JSON_SORT_KEYS | JSON_ENCODE_ANY)

void rp_copies_text(const rp_model *m, size_t verified, size_t ncopies,
                    char *out, size_t cap)
{
    snprintf(out, cap, "%zu of %zu cop%s verified in the last %d days",
             verified, ncopies, ncopies == 1 ? "y" : "ies", m->interval_days);
}

int rp_object_copies(const rp_model *m, vl_object_copies_fn fn, void *arg,
                     vl_error *err)
{
    return vl_audit_copies(m->repo, fn, arg, err);
}

static int matches(const vl_copy_state *s, int which)
{
    switch (which) {
    case 'f': return s->outcome && strcmp(s->outcome, "pass") != 0;
    case 'b': return s->behind;
    default: return !s->recent && !s->behind;
    }
}

char *rp_copy_names(const vl_object_copies *oc, int which, int *oom)
{
    vl_buf b;
    vl_buf_init(&b, 0);
    for (size_t i = 0; i < oc->ncopies; i++)
        if (matches(&oc->copies[i], which) &&
            vl_buf_printf(&b, NULL, "%s%s", b.len ? ", " : "",
                          oc->copies[i].copy) != VL_OK) {
            *oom = 1;
            vl_buf_release(&b);
            return NULL;
        }
    if (!b.len) {
        vl_buf_release(&b);
        return NULL;
    }
    return vl_buf_detach(&b);
}

/* For people: each failed copy with its first problem, e.g. "r1: E092
 * v1/content/data/a.txt (and 2 more)". */
static char *failed_detail(const vl_object_copies *oc, int *oom)
{
    vl_buf b;
    vl_buf_init(&b, 0);
    for (size_t i = 0; i < oc->ncopies; i++) {
        const vl_copy_state *s = &oc->copies[i];
        json_t *a, *first;
        if (!matches(s, 'f'))
            continue;
        a = s->failures_json ? json_loads(s->failures_json, 0, NULL) : NULL;
        first = json_array_get(a, 0);
        const char *code = json_string_value(json_object_get(first, "code"));
        const char *kind = json_string_value(json_object_get(first, "kind"));
        const char *what = json_string_value(json_object_get(first, "path"));
        size_t more = json_array_size(a) ? json_array_size(a) - 1 : 0;
        if (!what)
            what = json_string_value(json_object_get(first, "message"));
        int rc = vl_buf_printf(&b, NULL, "%s%s", b.len ? "; " : "", s->copy);
        if (rc == VL_OK && what)
            rc = vl_buf_printf(&b, NULL, ": %s %s", code ? code : kind ? kind : "",
                               what);
        if (rc == VL_OK && more)
            rc = vl_buf_printf(&b, NULL, " (and %zu more)", more);
        json_decref(a);
        if (rc != VL_OK) {
            *oom = 1;
            vl_buf_release(&b);
            return NULL;
        }
    }
    if (!b.len) {
        vl_buf_release(&b);
        return NULL;
    }
    return vl_buf_detach(&b);
}

/* ---- gathering ------------------------------------------------------------ */

typedef struct gather_ctx {
    rp_model *m;
    int oom;
} gather_ctx;

static void on_copy_status(void *arg, const vl_copy_status *cs)
{
    gather_ctx *c = arg;
    rp_model *m = c->m;
    rp_copy *p = &m->copies[m->ncopies++];
    p->name = vl_strdup(cs->name);
    p->location = cs->location ? vl_strdup(cs->location) : NULL;
    if (!p->name || (cs->location && !p->location))
        c->oom = 1;
    p->objects = cs->objects;
    p->verified = cs->verified;
    p->within = cs->within_interval;
    p->failed = cs->failed;
    p->never = cs->never;
    p->behind = cs->behind;
}

static int on_object(void *arg, const vl_object_copies *oc)
{
    gather_ctx *c = arg;
    rp_model *m = c->m;
    size_t unverified = 0;
    int is_short = oc->verified < (size_t)m->min_copies;
    for (size_t i = 0; i < oc->ncopies; i++)
        unverified += matches(&oc->copies[i], 'u');
    m->copy_objects++;
    m->by_verified[oc->verified <= m->ncopies ? oc->verified : m->ncopies]++;
    m->all_verified += oc->verified == oc->ncopies;
    m->short_copies += is_short;
    m->failed_copy += oc->failed > 0;
    m->behind_copy += oc->behind > 0;
    m->unverified_copy += unverified > 0;
    if (oc->failed && m->nrepair_ids < RP_MAX_REPAIR_IDS &&
        !(m->repair_ids[m->nrepair_ids++] = vl_strdup(oc->object_id)))
        c->oom = 1;
    m->attention_total += is_short || oc->failed || oc->behind;
    if ((is_short || oc->failed || oc->behind) &&
        m->nattention < RP_MAX_ATTENTION) {
        rp_attention *a = &m->attention[m->nattention++];
        a->id = vl_strdup(oc->object_id);
        a->ncopies = oc->ncopies;
        a->verified = oc->verified;
        a->failed = failed_detail(oc, &c->oom);
        a->behind = rp_copy_names(oc, 'b', &c->oom);
        a->unverified = rp_copy_names(oc, 'u', &c->oom);
        if (!a->id)
            c->oom = 1;
    }
    return c->oom ? VL_ESYS : 0;
}

static int count_event(void *arg, const vl_event_row *row)
{
    (*(uint64_t *)arg)++;
    return 0;
}

/* An object id as one shell word: as it is when it is made of safe
 * characters, else in single quotes (a quote inside as '\''). */
static char *shell_word(const char *s)
{
    const char *safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789:._/-+=@,%";
    vl_buf b;
    if (*s && strspn(s, safe) == strlen(s))
        return vl_strdup(s);
    vl_buf_init(&b, 0);
    if (vl_buf_printf(&b, NULL, "'") != VL_OK)
        goto fail;
    for (; *s; s++)
        if (vl_buf_printf(&b, NULL, *s == '\'' ? "'\\''" : "%c", *s) != VL_OK)
            goto fail;
    if (vl_buf_printf(&b, NULL, "'") != VL_OK)
        goto fail;
    return vl_buf_detach(&b);
fail:
    vl_buf_release(&b);
    return NULL;
}

/* command and reason: printf-made; reason may be NULL-formatted text. */
static void advise(rp_model *m, gather_ctx *c, char *command, char *reason)
{
    if (!command || !reason || m->nadvice >= RP_MAX_ADVICE) {
        if (!command || !reason)
            c->oom = 1;
        free(command);
        free(reason);
        return;
    }
    m->advice[m->nadvice].command = command;
    m->advice[m->nadvice].reason = reason;
    m->nadvice++;
}

static const char *s_(uint64_t n)
{
    return n == 1 ? "" : "s";
}

static const char *has_(uint64_t n)
{
    return n == 1 ? "has" : "have";
}

static void build_advice(rp_model *m, gather_ctx *c)
{
    size_t replicas = m->ncopies ? m->ncopies - 1 : 0;
    char since[48] = "";
    if (m->since[0])
        snprintf(since, sizeof since, " since %.10s", m->since);
    if (replicas && m->failed_copy) {
        if (m->failed_copy <= m->nrepair_ids) {
            for (size_t i = 0; i < m->nrepair_ids; i++) {
                char *w = shell_word(m->repair_ids[i]);
                advise(m, c, w ? vl_asprintf("vellum repair %s", w) : NULL,
                       vl_asprintf("a copy of %s failed its last audit: "
                                   "repair puts back the damaged files "
                                   "from a copy that verifies",
                                   m->repair_ids[i]));
                free(w);
            }
        } else {
            advise(m, c, vl_strdup("vellum repair --all"),
                   vl_asprintf("%llu objects have a copy that failed its last "
                               "audit: repair puts back the damaged files "
                               "from a copy that verifies",
                               (unsigned long long)m->failed_copy));
        }
    }
    if (replicas && m->behind_copy)
        advise(m, c, vl_strdup("vellum replicate --all"),
               vl_asprintf("%llu object%s %s a replica copy missing or behind "
                           "the current version",
                           (unsigned long long)m->behind_copy,
                           s_(m->behind_copy), has_(m->behind_copy)));
    if (replicas && m->unverified_copy)
        advise(m, c, vl_strdup("vellum audit --due --replicas"),
               vl_asprintf("%llu object%s %s copies not verified in the last "
                           "%d days (run nightly, it works through them "
                           "within the budgets)",
                           (unsigned long long)m->unverified_copy,
                           s_(m->unverified_copy), has_(m->unverified_copy),
                           m->interval_days));
    if (!replicas)
        advise(m, c, vl_strdup("vellum replica add NAME DIR"),
               vl_asprintf("every object has one copy, in this repository's "
                           "store, and nothing to repair it from: add a "
                           "replica on another disk, then run vellum "
                           "replicate --all"));
    else if ((size_t)m->min_copies > m->ncopies)
        advise(m, c, vl_strdup("vellum replica add NAME DIR"),
               vl_asprintf("replicate.min_copies is %d but each object has "
                           "%zu copies: add a replica", m->min_copies,
                           m->ncopies));
    if (m->deposits_refused)
        advise(m, c, vl_strdup("vellum events --type ingestion --outcome fail"),
               vl_asprintf("%llu deposit%s refused%s: nothing of %s was "
                           "stored; the events say why",
                           (unsigned long long)m->deposits_refused,
                           m->deposits_refused == 1 ? " was" : "s were", since,
                           m->deposits_refused == 1 ? "it" : "them"));
    if (m->repairs_failed)
        advise(m, c, vl_strdup("vellum events --type recovery --outcome fail"),
               vl_asprintf("%llu repair%s failed%s: no copy held good bytes "
                           "for those files",
                           (unsigned long long)m->repairs_failed,
                           s_(m->repairs_failed), since));
}

int rp_gather_copies(vl_repo *r, rp_model *m, vl_error *err)
{
    gather_ctx c = {m, 0};
    vl_event_filter f = {0};
    int rc;
    m->repo = r;
    if ((rc = vl_copies_min(r, &m->min_copies, err)) != VL_OK)
        return rc;
    size_t n = vl_replica_count(r) + 1;
    m->copies = calloc(n, sizeof *m->copies);
    m->by_verified = calloc(n + 1, sizeof *m->by_verified);
    m->attention = calloc(RP_MAX_ATTENTION, sizeof *m->attention);
    if (!m->copies || !m->by_verified || !m->attention)
        return vl_error_oom(err);
    if ((rc = vl_audit_copy_status(r, on_copy_status, &c, err)) != VL_OK)
        return rc;
    if (c.oom)
        return vl_error_oom(err);
    if ((rc = vl_audit_copies(r, on_object, &c, err)) != VL_OK)
        return c.oom ? vl_error_oom(err) : rc;
    /* Repairs: each "recovery" event is one file put back (or not). */
    f.type = VL_EV_RECOVERY;
    f.since = m->since[0] ? m->since : NULL;
    f.outcome = "success";
    if ((rc = vl_events_list(r, &f, count_event, &m->repairs_made, err)) != VL_OK)
        return rc;
    f.outcome = "fail";
    if ((rc = vl_events_list(r, &f, count_event, &m->repairs_failed, err)) != VL_OK)
        return rc;
    /* Refused deposits: stored nothing, but the curator should know. */
    f.type = VL_EV_INGESTION;
    f.outcome = "fail";
    if ((rc = vl_events_list(r, &f, count_event, &m->deposits_refused,
                             err)) != VL_OK)
        return rc;
    build_advice(m, &c);
    return c.oom ? vl_error_oom(err) : VL_OK;
}

void rp_copies_free(rp_model *m)
{
    for (size_t i = 0; i < m->ncopies; i++) {
        free(m->copies[i].name);
        free(m->copies[i].location);
    }
    free(m->copies);
    free(m->by_verified);
    for (size_t i = 0; i < m->nattention; i++) {
        free(m->attention[i].id);
        free(m->attention[i].failed);
        free(m->attention[i].behind);
        free(m->attention[i].unverified);
    }
    free(m->attention);
    for (size_t i = 0; i < m->nrepair_ids; i++)
        free(m->repair_ids[i]);
    for (size_t i = 0; i < m->nadvice; i++) {
        free(m->advice[i].command);
        free(m->advice[i].reason);
    }
}

/* ---- JSON ------------------------------------------------------------------ */

static int put(FILE *f, json_t *v)
{
    int rc = v ? json_dumpf(v, f, JFLAGS) : -1;
    json_decref(v);
    return rc == 0 ? VL_OK : VL_ESYS;
}

int rp_json_advice(const rp_model *m, FILE *f)
{
    int rc = VL_OK;
    fputs("[", f);
    for (size_t i = 0; i < m->nadvice; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        rc |= put(f, json_pack("{s:s, s:s}", "command", m->advice[i].command,
                               "reason", m->advice[i].reason));
    }
    fputs(m->nadvice ? "\n  ]" : "]", f);
    return rc;
}

int rp_json_copies(const rp_model *m, FILE *f)
{
    json_t *per = json_array(), *by = json_array();
    for (size_t i = 0; per && i < m->ncopies; i++) {
        const rp_copy *p = &m->copies[i];
        json_array_append_new(
            per, json_pack("{s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I}", "copy",
                           p->name, "location", p->location, "objects",
                           (json_int_t)p->objects, "verified",
                           (json_int_t)p->verified, "within",
                           (json_int_t)p->within, "failed",
                           (json_int_t)p->failed, "never", (json_int_t)p->never,
                           "behind", (json_int_t)p->behind));
    }
    for (size_t k = 0; by && k <= m->ncopies; k++)
        json_array_append_new(by, json_pack("{s:I, s:I}", "verified",
                                            (json_int_t)k, "objects",
                                            (json_int_t)m->by_verified[k]));
    return put(f, json_pack("{s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, "
                            "s:o, s:o}",
                            "copies_per_object", (json_int_t)m->ncopies,
                            "min_copies", m->min_copies, "interval_days",
                            m->interval_days, "objects",
                            (json_int_t)m->copy_objects, "all_verified",
                            (json_int_t)m->all_verified, "short",
                            (json_int_t)m->short_copies, "failed",
                            (json_int_t)m->failed_copy, "behind",
                            (json_int_t)m->behind_copy, "unverified",
                            (json_int_t)m->unverified_copy, "per_copy", per,
                            "by_verified", by));
}

int rp_json_repairs(const rp_model *m, FILE *f)
{
    return put(f, json_pack("{s:I, s:I}", "made", (json_int_t)m->repairs_made,
                            "failed", (json_int_t)m->repairs_failed));
}

typedef struct stream_ctx {
    const rp_model *m;
    FILE *f;
    size_t n;
    int oom;
} stream_ctx;

static int on_json_object(void *arg, const vl_object_copies *oc)
{
    stream_ctx *c = arg;
    char text[96];
    json_t *states = json_array();
    rp_copies_text(c->m, oc->verified, oc->ncopies, text, sizeof text);
    for (size_t i = 0; states && i < oc->ncopies; i++) {
        const vl_copy_state *s = &oc->copies[i];
        json_t *fails = s->failures_json ? json_loads(s->failures_json, 0, NULL)
                                         : NULL;
        json_array_append_new(
            states, json_pack("{s:s, s:i, s:s?, s:s?, s:s?, s:b, s:b, s:b, s:o}",
                              "copy", s->copy, "version", s->version,
                              "verified", s->verified, "outcome", s->outcome,
                              "state", s->state, "recent", s->recent, "good",
                              s->good, "behind", s->behind, "failures",
                              fails ? fails : json_null()));
    }
    fputs(c->n++ ? ",\n    " : "\n    ", c->f);
    return put(c->f, json_pack("{s:s, s:i, s:I, s:I, s:I, s:I, s:b, s:s, s:o}",
                               "object", oc->object_id, "head", oc->head,
                               "copies", (json_int_t)oc->ncopies, "verified",
                               (json_int_t)oc->verified, "failed",
                               (json_int_t)oc->failed, "behind",
                               (json_int_t)oc->behind, "short",
                               oc->verified < (size_t)c->m->min_copies,
                               "summary", text, "states", states));
}

int rp_json_object_copies(const rp_model *m, FILE *f, vl_error *err)
{
    stream_ctx c = {m, f, 0, 0};
    fputs("[", f);
    int rc = rp_object_copies(m, on_json_object, &c, err);
    fputs(c.n ? "\n  ]" : "]", f);
    return rc;
}

/* ---- CSV ------------------------------------------------------------------- */

static void csv_num(FILE *f, uint64_t v, int last)
{
    fprintf(f, "%llu%s", (unsigned long long)v, last ? "\r\n" : ",");
}

static int on_csv_object(void *arg, const vl_object_copies *oc)
{
    stream_ctx *c = arg;
    FILE *f = c->f;
    char text[96];
    char *failed = rp_copy_names(oc, 'f', &c->oom);
    char *behind = rp_copy_names(oc, 'b', &c->oom);
    rp_copies_text(c->m, oc->verified, oc->ncopies, text, sizeof text);
    vl_csv_field(f, oc->object_id, 0);
    csv_num(f, (uint64_t)(oc->head > 0 ? oc->head : 0), 0);
    csv_num(f, oc->ncopies, 0);
    csv_num(f, oc->verified, 0);
    csv_num(f, (uint64_t)c->m->min_copies, 0);
    vl_csv_field(f, oc->verified < (size_t)c->m->min_copies ? "yes" : "no", 0);
    vl_csv_field(f, failed, 0);
    vl_csv_field(f, behind, 0);
    vl_csv_field(f, text, 1);
    free(failed);
    free(behind);
    return c->oom ? VL_ESYS : 0;
}

int rp_csv_copies(const rp_model *m, FILE *f, vl_error *err)
{
    (void)err;
    fputs("copy,location,objects,verified,within,failed,never,behind\r\n", f);
    for (size_t i = 0; i < m->ncopies; i++) {
        const rp_copy *p = &m->copies[i];
        vl_csv_field(f, p->name, 0);
        vl_csv_field(f, p->location, 0);
        csv_num(f, p->objects, 0);
        csv_num(f, p->verified, 0);
        csv_num(f, p->within, 0);
        csv_num(f, p->failed, 0);
        csv_num(f, p->never, 0);
        csv_num(f, p->behind, 1);
    }
    return VL_OK;
}

int rp_csv_object_copies(const rp_model *m, FILE *f, vl_error *err)
{
    stream_ctx c = {m, f, 0, 0};
    int rc;
    fputs("object,head,copies,verified,min_copies,short,failed_copies,"
          "behind_copies,summary\r\n", f);
    if ((rc = rp_object_copies(m, on_csv_object, &c, err)) != VL_OK)
        return c.oom ? vl_error_oom(err) : rc;
    return VL_OK;
}

int rp_csv_replication(const rp_model *m, FILE *f, vl_error *err)
{
    (void)err;
    fprintf(f, "metric,value\r\ncopies_per_object,%zu\r\n"
               "min_copies,%d\r\nobjects_all_verified,%llu\r\n"
               "objects_short,%llu\r\nobjects_failed_copy,%llu\r\n"
               "objects_behind,%llu\r\nobjects_unverified,%llu\r\n"
               "repairs_made,%llu\r\nrepairs_failed,%llu\r\n",
            m->ncopies, m->min_copies, (unsigned long long)m->all_verified,
            (unsigned long long)m->short_copies,
            (unsigned long long)m->failed_copy,
            (unsigned long long)m->behind_copy,
            (unsigned long long)m->unverified_copy,
            (unsigned long long)m->repairs_made,
            (unsigned long long)m->repairs_failed);
    return VL_OK;
}

int rp_csv_advice(const rp_model *m, FILE *f, vl_error *err)
{
    (void)err;
    fputs("command,reason\r\n", f);
    for (size_t i = 0; i < m->nadvice; i++) {
        vl_csv_field(f, m->advice[i].command, 0);
        vl_csv_field(f, m->advice[i].reason, 1);
    }
    return VL_OK;
}
