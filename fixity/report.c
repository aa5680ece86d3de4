/* Curators' reports: gather totals, formats, audit coverage and history from
 * the catalog into a small model, then write it as HTML (report_html.c),
 * JSON or CSV.  Failure rows are not held in the model: they are streamed
 * from the catalog while writing, so a report stays small in memory however
 * many files failed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "report_private.h"

/* ---- small helpers -------------------------------------------------------- */

void rp_size(uint64_t bytes, char out[32])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, 32, "%llu B", (unsigned long long)bytes);
    else
        snprintf(out, 32, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s",
                 v, units[u]);
}

void rp_count(uint64_t n, char out[32])
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    int o = 0;
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static char *dup_opt(const char *s)
{
    return s ? vl_strdup(s) : NULL;
}

int rp_failures(const rp_model *m, vl_report_failure_fn fn, void *arg,
                vl_error *err)
{
    return vl_catalog_report_failures(m->cat, m->since[0] ? m->since : NULL,
                                      fn, arg, err);
}

/* Copies only speak once there is a replica or more than one is asked
 * for: alone, the primary's coverage says it all. */
static int copies_matter(const rp_model *m)
{
    return m->ncopies > 1 || m->min_copies > 1;
}

static int primary_headline(const rp_model *m, char *out, size_t cap);

int rp_headline(const rp_model *m, char *out, size_t cap)
{
    char k[32];
    int kind = primary_headline(m, out, cap);
    size_t len = strlen(out);
    if (kind == 2 || !copies_matter(m) || m->copy_objects == 0)
        return kind;
    if (m->failed_copy) {
        /* only replicas failed (the primary's failures are above) */
        rp_count(m->failed_copy, k);
        snprintf(out, cap, "%s object%s FAILED fixity on a replica", k,
                 m->failed_copy == 1 ? "" : "s");
        return 2;
    }
    if (m->short_copies) {
        rp_count(m->short_copies, k);
        snprintf(out + len, cap - len, "; %s with fewer than %d verified "
                 "copies", k, m->min_copies);
        return 1;
    }
    return kind;
}

static int primary_headline(const rp_model *m, char *out, size_t cap)
{
    const rp_coverage *c = &m->cov;
    char n[32], k[32];
    rp_count(c->objects, n);
    if (c->last_failed > 0) {
        rp_count(c->last_failed, k);
        snprintf(out, cap, "%s object%s FAILED fixity", k,
                 c->last_failed == 1 ? "" : "s");
        return 2;
    }
    if (c->objects == 0) {
        snprintf(out, cap, "The repository holds no objects yet");
        return 1;
    }
    if (c->never == c->objects) {
        snprintf(out, cap, "None of the %s object%s has been audited yet", n,
                 c->objects == 1 ? "" : "s");
        return 1;
    }
    if (c->never > 0) {
        char a[32];
        rp_count(c->objects - c->never, a);
        rp_count(c->never, k);
        snprintf(out, cap,
                 "All %s audited object%s passed; %s never audited", a,
                 c->objects - c->never == 1 ? "" : "s", k);
        return 1;
    }
    if (c->objects == 1)
        snprintf(out, cap, "The 1 object passed its last audit");
    else
        snprintf(out, cap, "All %s objects passed their last audit", n);
    if (c->overdue > 0) {
        size_t len = strlen(out);
        rp_count(c->overdue, k);
        snprintf(out + len, cap - len, "; %s overdue", k);
        return 1;
    }
    return 0;
}

/* ---- gathering -------------------------------------------------------------- */

static void model_free(rp_model *m)
{
    for (size_t i = 0; i < m->nformats; i++) {
        free(m->formats[i].puid);
        free(m->formats[i].mime);
        free(m->formats[i].name);
        free(m->formats[i].version);
    }
    free(m->formats);
    for (size_t i = 0; i < m->ndue; i++) {
        free(m->due[i].id);
        free(m->due[i].last);
    }
    free(m->due);
    free(m->days);
    rp_copies_free(m);
}

static int on_format(void *arg, const vl_report_format_row *f)
{
    rp_model *m = arg;
    rp_format *slot;
    m->format_kinds++;
    if (m->nformats < RP_MAX_FORMATS) {
        slot = &m->formats[m->nformats++];
        slot->puid = dup_opt(f->puid);
        slot->mime = dup_opt(f->mime);
        slot->name = dup_opt(f->format_name);
        slot->version = dup_opt(f->format_version);
        if ((f->puid && !slot->puid) || (f->mime && !slot->mime) ||
            (f->format_name && !slot->name) ||
            (f->format_version && !slot->version))
            return VL_ESYS;
    } else {
        /* Rows come most-used first: everything past the cap is the tail. */
        slot = &m->formats[RP_MAX_FORMATS];
        if (m->nformats == RP_MAX_FORMATS)
            m->nformats++;
        slot->other_kinds++;
    }
    slot->files += f->files;
    slot->bytes += f->bytes;
    return 0;
}

/* Overdue and never-audited objects arrive in due order: keep the first. */
static void on_due(void *arg, const char *id, const char *last, uint64_t bytes)
{
    rp_model *m = arg;
    if (m->ndue >= RP_MAX_DUE || m->oom)
        return;
    rp_due *d = &m->due[m->ndue++];
    d->id = vl_strdup(id ? id : "");
    d->last = dup_opt(last);
    if (!d->id || (last && !d->last))
        m->oom = 1;
}

static int on_day(void *arg, const vl_audit_day *d)
{
    rp_model *m = arg;
    if (VL_GROW(m->days, m->days_cap, m->ndays + 1, NULL) != VL_OK)
        return VL_ESYS;
    rp_day *o = &m->days[m->ndays++];
    snprintf(o->date, sizeof o->date, "%.10s", d->day ? d->day : "");
    o->objects = d->objects;
    o->failures = d->failed;
    o->files = d->files;
    o->bytes = d->bytes;
    o->seconds = d->seconds;
    return 0;
}

typedef struct fail_count {
    rp_model *m;
    char *last_object;
    int failed;
} fail_count;

static int on_fail_count(void *arg, const vl_report_failure *f)
{
    fail_count *c = arg;
    const char *id = f->object_id ? f->object_id : "";
    c->m->failure_rows++;
    if (f->current)
        c->m->failure_current++;
    /* Rows come ordered by object: count each change of object. */
    if (!c->last_object || strcmp(c->last_object, id) != 0) {
        c->m->failure_objects++;
        free(c->last_object);
        if (!(c->last_object = vl_strdup(id))) {
            c->failed = 1;
            return VL_ESYS;
        }
    }
    return 0;
}

static int gather(vl_repo *r, const char *since, rp_model *m, vl_error *err)
{
    int64_t t;
    vl_audit_status st;
    fail_count fc = {m, NULL, 0};
    int rc = VL_OK;

    m->cat = vl_repo_catalog(r);
    m->repo_dir = vl_repo_dir(r);
    vl_time_rfc3339(vl_time_now(), m->generated);
    if (since && *since) {
        if (vl_time_parse(since, &t) != 0) {
            rc = vl_error_set(err, VL_EINPUT,
                              "--since '%s' is not a date (YYYY-MM-DD) or an "
                              "RFC 3339 time", since);
            goto done;
        }
        vl_time_rfc3339(t, m->since);
    }
    m->formats = calloc(RP_MAX_FORMATS + 1, sizeof *m->formats);
    m->due = calloc(RP_MAX_DUE, sizeof *m->due);
    if (!m->formats || !m->due) {
        rc = vl_error_oom(err);
        goto done;
    }
    rc = vl_catalog_report_totals(m->cat, &m->totals, err);
    if (rc == VL_OK)
        rc = vl_catalog_report_formats(m->cat, on_format, m, err);
    /* Coverage as `vellum audit --status` counts it, so the two agree. */
    if (rc == VL_OK)
        rc = vl_audit_status_get(r, &st, on_due, m, err);
    if (rc != VL_OK)
        goto done;
    m->interval_days = st.interval_days;
    m->cov.objects = st.objects;
    m->cov.within = st.within_interval;
    m->cov.overdue = st.overdue;
    m->cov.never = st.never_audited;
    m->cov.bytes_to_audit = st.bytes_to_audit;
    m->cov.cycle_complete_at = st.cycle_complete_at;
    m->cov.failed_within = st.failed_within;
    rc = vl_catalog_report_last_outcomes(m->cat, &m->cov.last_passed,
                                         &m->cov.last_failed, err);
    if (rc == VL_OK)
        rc = vl_catalog_audit_days(m->cat, m->since[0] ? m->since : NULL,
                                   on_day, m, err);
    if (rc == VL_OK)
        rc = rp_failures(m, on_fail_count, &fc, err);
    if (rc == VL_OK)
        rc = rp_gather_copies(r, m, err);
    if (rc == VL_OK && m->oom)
        rc = VL_ESYS;
    /* Callbacks return VL_ESYS without a message only when memory ran out. */
    if (rc != VL_OK && err && !err->msg[0])
        rc = vl_error_oom(err);
done:
    free(fc.last_object);
    return rc;
}

/* ---- JSON ----------------------------------------------------------------------
 * Written key by key in sorted order, arrays one element per line, so the
 * failures can be streamed and the output still diffs well. */

#define JFLAGS (JSON_SORT_KEYS | JSON_ENCODE_ANY)

static int json_put(FILE *f, json_t *v)
{
    int rc = v ? json_dumpf(v, f, JFLAGS) : -1;
    json_decref(v);
    return rc == 0 ? VL_OK : VL_ESYS;
}

static json_t *j_format(const rp_format *p)
{
    return json_pack("{s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:I}", "puid", p->puid,
                     "mime", p->mime, "name", p->name, "version", p->version,
                     "files", (json_int_t)p->files, "bytes",
                     (json_int_t)p->bytes, "other_formats",
                     (json_int_t)p->other_kinds);
}

static json_t *j_day(const rp_day *d)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:f}", "date", d->date,
                     "objects", (json_int_t)d->objects, "files",
                     (json_int_t)d->files, "bytes", (json_int_t)d->bytes,
                     "failures", (json_int_t)d->failures, "seconds",
                     d->seconds);
}

typedef struct json_stream {
    FILE *f;
    size_t n;
} json_stream;

static int on_json_failure(void *arg, const vl_report_failure *x)
{
    json_stream *s = arg;
    json_t *v = json_pack(
        "{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, "
        "s:b}",
        "object", x->object_id, "kind", x->kind, "code", x->code, "path",
        x->path, "logical_path", x->logical, "algorithm", x->algorithm, "expected", x->expected,
        "actual", x->actual, "message",
        x->message, "first_seen", x->first_seen, "last_seen", x->last_seen,
        "current", x->current);
    fputs(s->n++ ? ",\n    " : "\n    ", s->f);
    return json_put(s->f, v);
}

static int write_json(const rp_model *m, FILE *f, vl_error *err)
{
    char headline[256];
    int kind = rp_headline(m, headline, sizeof headline);
    json_stream js = {f, 0};
    int rc = VL_OK;

    char done_at[32];
    if (m->cov.cycle_complete_at)
        vl_time_rfc3339(m->cov.cycle_complete_at, done_at);
    fputs("{\n  \"advice\": ", f);
    rc |= rp_json_advice(m, f);
    fputs(",\n  \"copies\": ", f);
    rc |= rp_json_copies(m, f);
    fputs(",\n  \"coverage\": ", f);
    rc |= json_put(f, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:I, "
                                "s:s?}",
                                "objects", (json_int_t)m->cov.objects,
                                "within", (json_int_t)m->cov.within,
                                "overdue", (json_int_t)m->cov.overdue,
                                "never", (json_int_t)m->cov.never,
                                "last_passed", (json_int_t)m->cov.last_passed,
                                "last_failed", (json_int_t)m->cov.last_failed,
                                "interval_days", m->interval_days,
                                "bytes_to_audit",
                                (json_int_t)m->cov.bytes_to_audit,
                                "cycle_complete_at",
                                m->cov.cycle_complete_at ? done_at : NULL));
    fputs(",\n  \"due\": [", f);
    for (size_t i = 0; i < m->ndue; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        rc |= json_put(f, json_pack("{s:s, s:s?}", "object", m->due[i].id,
                                    "last_audit", m->due[i].last));
    }
    fputs(m->ndue ? "\n  ],\n  \"failures\": [" : "],\n  \"failures\": [", f);
    if (rc == VL_OK) {
        rc = rp_failures(m, on_json_failure, &js, err);
        if (rc != VL_OK)
            goto done;
    }
    fputs(js.n ? "\n  ],\n  \"formats\": [" : "],\n  \"formats\": [", f);
    for (size_t i = 0; i < m->nformats; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        rc |= json_put(f, j_format(&m->formats[i]));
    }
    fprintf(f, "%s,\n  \"generated\": \"%s\",\n  \"history\": [",
            m->nformats ? "\n  ]" : "]", m->generated);
    for (size_t i = 0; i < m->ndays; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        rc |= json_put(f, j_day(&m->days[i]));
    }
    fputs(m->ndays ? "\n  ],\n  \"object_copies\": " : "],\n  \"object_copies\": ", f);
    if (rc == VL_OK && (rc = rp_json_object_copies(m, f, err)) != VL_OK)
        goto done;
    fputs(",\n  \"repairs\": ", f);
    rc |= rp_json_repairs(m, f);
    fputs(",\n  \"repository\": ", f);
    rc |= json_put(f, json_string(m->repo_dir));
    fputs(",\n  \"since\": ", f);
    rc |= json_put(f, m->since[0] ? json_string(m->since) : json_null());
    fputs(",\n  \"status\": ", f);
    rc |= json_put(f, json_pack("{s:s, s:s, s:I, s:I, s:I}", "headline",
                                headline, "level",
                                kind == 2 ? "failed"
                                : kind == 1 ? "attention" : "ok",
                                "failed_objects",
                                (json_int_t)m->cov.last_failed,
                                "failures_listed",
                                (json_int_t)m->failure_rows,
                                "failures_current",
                                (json_int_t)m->failure_current));
    fputs(",\n  \"totals\": ", f);
    rc |= json_put(f, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "objects",
                                (json_int_t)m->totals.objects, "versions",
                                (json_int_t)m->totals.versions, "files",
                                (json_int_t)m->totals.files, "bytes",
                                (json_int_t)m->totals.bytes, "metadata_files",
                                (json_int_t)m->totals.metadata_files, "metadata_bytes",
                                (json_int_t)m->totals.metadata_bytes, "stored_files",
                                (json_int_t)m->totals.stored_files,
                                "stored_bytes",
                                (json_int_t)m->totals.stored_bytes));
    fputs("\n}\n", f);
    if (rc != VL_OK)
        rc = vl_error_set(err, VL_ESYS, "writing the JSON report failed");
done:
    return rc;
}

/* ---- CSV ------------------------------------------------------------------------
 * RFC 4180: CRLF line ends; a field holding a comma, quote, CR or LF is
 * quoted with quotes doubled.  One table a file (a spreadsheet or pandas
 * reads one table), each starting with its header row, present even when
 * no row follows.
 *
 * Values can be a depositor's (object ids, file names), and the CSV is read
 * on terminals and by line-based tools as well as by spreadsheets: control
 * characters (newlines included) are hex-escaped like everywhere else that
 * prints text, so one row is one line, and a value a spreadsheet would run
 * as a formula (= + - @ or tab first) gets a leading ' (OWASP's advice).
 * The JSON report keeps every value exact. */



static void csv_num(FILE *f, uint64_t v, int last)
{
    fprintf(f, "%llu%s", (unsigned long long)v, last ? "\r\n" : ",");
}

static int on_csv_failure(void *arg, const vl_report_failure *x)
{
    FILE *f = arg;
    vl_csv_field(f, x->object_id, 0);
    vl_csv_field(f, x->kind, 0);
    vl_csv_field(f, x->code, 0);
    vl_csv_field(f, x->path, 0);
    vl_csv_field(f, x->logical, 0);
    vl_csv_field(f, x->algorithm, 0);
    vl_csv_field(f, x->expected, 0);
    vl_csv_field(f, x->actual, 0);
    vl_csv_field(f, x->first_seen, 0);
    vl_csv_field(f, x->last_seen, 0);
    vl_csv_field(f, x->current ? "yes" : "no", 0);
    vl_csv_field(f, x->message, 1);
    return 0;
}

static int csv_totals(const rp_model *m, FILE *f, vl_error *err)
{
    (void)err;
    const vl_report_totals *t = &m->totals;
    const struct {
        const char *name;
        uint64_t v;
    } totals[] = {
        {"objects", t->objects},           {"versions", t->versions},
        {"files", t->files},               {"bytes", t->bytes},
        {"metadata_files", t->metadata_files},
        {"metadata_bytes", t->metadata_bytes},
        {"stored_files", t->stored_files}, {"stored_bytes", t->stored_bytes},
    };
    fputs("metric,value\r\n", f);
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        vl_csv_field(f, totals[i].name, 0);
        csv_num(f, totals[i].v, 1);
    }
    return VL_OK;
}

static int csv_formats(const rp_model *m, FILE *f, vl_error *err)
{
    (void)err;
    fputs("puid,mime,format_name,format_version,files,bytes\r\n", f);
    for (size_t i = 0; i < m->nformats; i++) {
        const rp_format *p = &m->formats[i];
        vl_csv_field(f, p->puid, 0);
        vl_csv_field(f, p->mime, 0);
        vl_csv_field(f, p->name, 0);
        vl_csv_field(f, p->version, 0);
        csv_num(f, p->files, 0);
        csv_num(f, p->bytes, 1);
    }
    return VL_OK;
}

static int csv_coverage(const rp_model *m, FILE *f, vl_error *err)
{
    (void)err;
    fprintf(f, "metric,value\r\nobjects,%llu\r\n"
               "within,%llu\r\noverdue,%llu\r\nnever,%llu\r\n"
               "last_passed,%llu\r\nlast_failed,%llu\r\ninterval_days,%d\r\n"
               "bytes_to_audit,%llu\r\n",
            (unsigned long long)m->cov.objects,
            (unsigned long long)m->cov.within,
            (unsigned long long)m->cov.overdue,
            (unsigned long long)m->cov.never,
            (unsigned long long)m->cov.last_passed,
            (unsigned long long)m->cov.last_failed, m->interval_days,
            (unsigned long long)m->cov.bytes_to_audit);
    return VL_OK;
}

static int csv_history(const rp_model *m, FILE *f, vl_error *err)
{
    (void)err;
    fputs("date,objects,files,bytes,failures\r\n", f);
    for (size_t i = 0; i < m->ndays; i++) {
        const rp_day *d = &m->days[i];
        vl_csv_field(f, d->date, 0);
        csv_num(f, d->objects, 0);
        csv_num(f, d->files, 0);
        csv_num(f, d->bytes, 0);
        csv_num(f, d->failures, 1);
    }
    return VL_OK;
}

static int csv_failures(const rp_model *m, FILE *f, vl_error *err)
{
    fputs("object,kind,code,path,logical_path,algorithm,expected,actual,"
          "first_seen,last_seen,current,message\r\n", f);
    return rp_failures(m, on_csv_failure, f, err);
}

typedef int (*csv_table_fn)(const rp_model *m, FILE *f, vl_error *err);

/* One CSV file a table, in the order of the HTML report. */
static const struct {
    const char *name;
    csv_table_fn fn;
} csv_tables[] = {
    {"totals", csv_totals},           {"formats", csv_formats},
    {"coverage", csv_coverage},       {"history", csv_history},
    {"failures", csv_failures},       {"copies", rp_csv_copies},
    {"object_copies", rp_csv_object_copies},
    {"replication", rp_csv_replication},
    {"advice", rp_csv_advice},
};
#define N_CSV_TABLES (sizeof csv_tables / sizeof csv_tables[0])

const char *vl_report_csv_table_name(size_t i)
{
    return i < N_CSV_TABLES ? csv_tables[i].name : NULL;
}

static csv_table_fn csv_table(const char *name)
{
    for (size_t i = 0; i < N_CSV_TABLES; i++)
        if (!strcmp(csv_tables[i].name, name))
            return csv_tables[i].fn;
    return NULL;
}

/* ---- output ---------------------------------------------------------------------- */

typedef struct rp_writer {
    vl_report_format fmt;
    csv_table_fn table;
} rp_writer;

static int write_one(const rp_model *m, const rp_writer *w, FILE *f, vl_error *err)
{
    if (w->table)
        return w->table(m, f, err);
    if (w->fmt == VL_REPORT_JSON)
        return write_json(m, f, err);
    return rp_write_html(m, f, err);
}

/* Written beside the destination and renamed over it: a reader never sees
 * half a report, and a failed run leaves the old one. */
static int write_out(const rp_model *m, const rp_writer *w, const char *out_path,
                     vl_error *err)
{
    FILE *f = stdout;
    char *tmp = NULL;
    int rc = VL_OK;
    if (out_path) {
        if (!(tmp = vl_asprintf("%s.tmp-%ld", out_path, (long)getpid()))) {
            rc = vl_error_oom(err);
            goto done;
        }
        if (!(f = fopen(tmp, "w"))) {
            rc = vl_error_sys(err, "create %s", tmp);
            goto done;
        }
    }
    if ((rc = write_one(m, w, f, err)) != VL_OK)
        goto done;
    if (fflush(f) != 0 || ferror(f)) {
        rc = vl_error_sys(err, "write %s", tmp ? tmp : "standard output");
        goto done;
    }
    if (tmp) {
        if (fsync(fileno(f)) != 0) {
            rc = vl_error_sys(err, "fsync %s", tmp);
            goto done;
        }
        int closed = fclose(f);
        f = NULL;
        if (closed != 0) {
            rc = vl_error_sys(err, "close %s", tmp);
            goto done;
        }
        if (rename(tmp, out_path) != 0) {
            rc = vl_error_sys(err, "rename %s to %s", tmp, out_path);
            goto done;
        }
        free(tmp);
        tmp = NULL;
        rc = vl_fs_fsync_parent(out_path, err);
    }
done:
    if (tmp) {
        if (f)
            fclose(f);
        unlink(tmp);
        free(tmp);
    }
    return rc;
}

int vl_report_write(vl_repo *r, vl_report_format fmt, const char *since,
                    const char *out_path, vl_error *err)
{
    rp_model m = {0};
    rp_writer w = {fmt, NULL};
    int rc;
    if (fmt == VL_REPORT_CSV) {
        rc = vl_error_set(err, VL_EINPUT, "the CSV report is one table a file: "
                          "name the table, or a folder for all of them");
        goto done;
    }
    if ((rc = gather(r, since, &m, err)) != VL_OK)
        goto done;
    rc = write_out(&m, &w, out_path, err);
done:
    if (rc != VL_OK && err && !err->msg[0])
        vl_error_set(err, rc, "writing the report failed");
    model_free(&m);
    return rc;
}

int vl_report_write_csv(vl_repo *r, const char *table, const char *since,
                        const char *out, vl_error *err)
{
    rp_model m = {0};
    rp_writer w = {VL_REPORT_CSV, NULL};
    char *path = NULL;
    int rc = VL_OK;
    if (table && !(w.table = csv_table(table))) {
        rc = vl_error_set(err, VL_EINPUT, "no CSV table \"%s\"", table);
        goto done;
    }
    if (!table && !out) {
        rc = vl_error_set(err, VL_EINPUT, "a folder for the CSV tables is needed");
        goto done;
    }
    if (!table && mkdir(out, 0777) != 0 && errno != EEXIST) {
        rc = vl_error_sys(err, "create folder %s", out);
        goto done;
    }
    if ((rc = gather(r, since, &m, err)) != VL_OK)
        goto done;
    if (table) {
        rc = write_out(&m, &w, out, err);
        goto done;
    }
    size_t len = strlen(out);
    for (size_t i = 0; i < N_CSV_TABLES; i++) {
        free(path);
        if (!(path = vl_asprintf("%s%s%s.csv", out,
                                 len && out[len - 1] == '/' ? "" : "/",
                                 csv_tables[i].name))) {
            rc = vl_error_oom(err);
            goto done;
        }
        w.table = csv_tables[i].fn;
        if ((rc = write_out(&m, &w, path, err)) != VL_OK)
            goto done;
    }
done:
    if (rc != VL_OK && err && !err->msg[0])
        vl_error_set(err, rc, "writing the report failed");
    free(path);
    model_free(&m);
    return rc;
}
