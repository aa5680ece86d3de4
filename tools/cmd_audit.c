/* vellum audit: fixity audits (full OCFL validation, every digest
 * recomputed, catalog agreement), their nightly schedule and its status. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vl_fixity.h"

static const char usage[] =
    "usage: vellum audit [ID... | --all | --due] [--replicas | --replica NAME...]\n"
    "                    [--max-bytes N] [--max-seconds N] [--repo DIR] [--json]\n"
    "                    [--quiet]\n"
    "       vellum audit --status [--repo DIR] [--json]\n"
    "\n"
    "Audit objects: a full OCFL validation with every content and fixity digest\n"
    "recomputed, and the catalog compared with the store.  Each object audit\n"
    "records a PREMIS \"fixity check\" event naming the copy audited.  Nothing\n"
    "is repaired unless --repair is given.\n"
    "\n"
    "  --all            every object\n"
    "  --due            objects never audited, then those audited longest ago\n"
    "                   (only those older than audit.interval_days), up to the\n"
    "                   budgets; the next run carries on\n"
    "  --max-bytes N    stop before an object that would take the bytes read past\n"
    "                   N (K, M, G, T suffixes); default audit.max_bytes_per_run\n"
    "                   for --due\n"
    "  --max-seconds N  start no object after N seconds; default\n"
    "                   audit.max_seconds_per_run for --due\n"
    "  --replicas       audit every copy: the primary and every replica, each\n"
    "                   with every digest recomputed on its own storage\n"
    "  --replica NAME   audit only that replica's copies, not the primary\n"
    "                   (repeatable); an unknown NAME is exit 2\n"
    "                   With either, the unit of work (of --due's order and of\n"
    "                   the budgets) is one copy of one object; a replica that\n"
    "                   cannot be reached fails as \"unreachable\".\n"
    "  --repair         after the audit, repair the objects that failed (as\n"
    "                   'vellum repair' does: every copy, from verified bytes of\n"
    "                   another copy), then audit them again; the exit code is\n"
    "                   that of the second audit\n"
    "  --status         first the objects whose latest audit failed and what\n"
    "                   to run; then never-audited and overdue objects, when the current\n"
    "                   cycle completes at the observed rate, and per copy how\n"
    "                   many objects were verified within the interval\n"
    "\n"
    "Each failed object gets an ALERT line on stderr.\n"
    "Exit: 0 every object passed, 1 a fixity failure, 2 bad usage or unknown ID,\n"
    "3 system error.\n";

typedef struct out_ctx {
    cli_common *c;
    json_t *objects;          /* --json */
    int copies;               /* --replicas or --replica: name each copy */
    json_t *failed;           /* --repair: ids of objects a copy of which failed */
    json_t *repairs;          /* --repair --json: the actions */
} out_ctx;

static void print_failure(FILE *f, const char *indent, const vl_audit_failure *x)
{
    if (x->path)
        fprintf(f, "%s%s %s: %s", indent, cli_text(x->code ? x->code : x->kind),
                cli_text(x->path), cli_text(x->message));
    else
        fprintf(f, "%s%s: %s", indent, cli_text(x->code ? x->code : x->kind),
                cli_text(x->message));
}

static void on_start(void *arg, const char *id, uint64_t bytes)
{
    out_ctx *o = arg;
    if (cli_progress_enabled(o->c)) {
        char sz[32];
        cli_format_size(bytes, sz);
        fprintf(stderr, "auditing %s (%s)...\n", cli_text(id), sz);
    }
}

static void on_start_copy(void *arg, const char *id, const char *copy,
                          uint64_t bytes)
{
    out_ctx *o = arg;
    if (cli_progress_enabled(o->c)) {
        char sz[32];
        cli_format_size(bytes, sz);
        if (strcmp(copy, VL_PRIMARY_COPY))
            fprintf(stderr, "auditing %s on replica %s (%s)...\n", cli_text(id),
                    cli_text(copy), sz);
        else
            fprintf(stderr, "auditing %s (%s)...\n", cli_text(id), sz);
    }
}

static void on_skip(void *arg, const char *id, const char *why)
{
    fprintf(stderr, "vellum: skipped %s, left for the next run: %s\n",
            cli_text(id), cli_text(why));
}

static void on_object(void *arg, const vl_audit_result *r)
{
    out_ctx *o = arg;
    char sz[32];
    int replica = r->copy && strcmp(r->copy, VL_PRIMARY_COPY);
    /* The alert goes out as soon as the object is done, whatever the
     * output format: it is what a cron mail or the journal should show. */
    if (!r->passed && o->failed)
        json_object_set_new(o->failed, r->object_id, json_true());
    if (!r->passed) {
        fprintf(stderr, "vellum: ALERT fixity failure in %s%s%s: %zu problem%s "
                "(first: ", cli_text(r->object_id),
                replica ? " on replica " : "", replica ? cli_text(r->copy) : "",
                r->nfailures, r->nfailures == 1 ? "" : "s");
        print_failure(stderr, "", &r->failures[0]);
        fputs(")\n", stderr);
    }
    if (o->objects) {
        json_t *fails = json_array();
        for (size_t i = 0; i < r->nfailures; i++) {
            const vl_audit_failure *x = &r->failures[i];
            json_array_append_new(
                fails, json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s}",
                                 "kind", x->kind, "code", x->code, "path",
                                 x->path, "algorithm", x->algorithm, "expected",
                                 x->expected, "actual", x->actual, "message",
                                 x->message));
        }
        json_array_append_new(
            o->objects, json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:f, s:o}",
                                  "id", r->object_id, "copy",
                                  r->copy ? r->copy : VL_PRIMARY_COPY,
                                  "passed", r->passed, "files",
                                  (json_int_t)r->files, "bytes",
                                  (json_int_t)r->bytes, "object_files",
                                  (json_int_t)r->object_files, "object_bytes",
                                  (json_int_t)r->object_bytes, "metadata_files",
                                  (json_int_t)r->metadata_files, "seconds", r->seconds,
                                  "failures", fails));
        return;
    }
    /* The object counted as ls counts it; then what the audit read. */
    char counts[CLI_COUNTS_MAX];
    cli_format_size(r->bytes, sz);
    cli_format_counts(r->object_files, r->object_bytes, r->metadata_files, counts);
    if (o->copies)
        printf("%s %s (%s%s, %s; read %llu stored file%s, %s)\n",
               r->passed ? "pass" : "FAIL", cli_text(r->object_id),
               replica ? "replica " : "", cli_text(r->copy ? r->copy : VL_PRIMARY_COPY),
               counts, (unsigned long long)r->files, r->files == 1 ? "" : "s", sz);
    else
        printf("%s %s (%s; read %llu stored file%s, %s)\n", r->passed ? "pass" : "FAIL",
               cli_text(r->object_id), counts, (unsigned long long)r->files,
               r->files == 1 ? "" : "s", sz);
    for (size_t i = 0; i < r->nfailures; i++) {
        print_failure(stdout, "  ", &r->failures[i]);
        putchar('\n');
    }
    fflush(stdout);
}

/* --repair: one line per action (the repair command's wording). */
static void on_repair(void *arg, const vl_repair_action *a)
{
    cli_repair_action(a, ((out_ctx *)arg)->repairs, "repair ");
}

static void print_summary(const out_ctx *o, const vl_audit_summary *s)
{
    char sz[32], rate[32];
    if (o->objects) {
        json_t *j = json_pack("{s:{s:I, s:I, s:I, s:I, s:f, s:b, s:I}, s:O}",
                              "summary", "objects", (json_int_t)s->objects,
                              "passed", (json_int_t)s->passed, "failed",
                              (json_int_t)s->failed, "bytes",
                              (json_int_t)s->bytes, "seconds", s->seconds,
                              "budget_reached", s->budget_reached, "skipped",
                              (json_int_t)s->skipped, "objects", o->objects);
        if (j && o->repairs)
            json_object_set(j, "repairs", o->repairs);
        cli_print_json(j);
        return;
    }
    cli_format_size(s->bytes, sz);
    cli_format_size(s->seconds > 0 ? (uint64_t)((double)s->bytes / s->seconds) : 0,
                    rate);
    printf("audited %zu %s%s: %zu passed, %zu failed; %s in %.2f s (%s/s)%s\n",
           s->objects, o->copies ? "cop" : "object",
           o->copies ? (s->objects == 1 ? "y" : "ies") : (s->objects == 1 ? "" : "s"),
           s->passed, s->failed, sz,
           s->seconds, rate,
           s->budget_reached ? "; budget reached, the next run continues" : "");
}

/* ---- --status ----------------------------------------------------------- */

/* Due objects are gathered (as JSON) and printed after the failures. */
static void on_due(void *arg, const char *id, const char *last, uint64_t bytes)
{
    json_array_append_new(arg, json_pack("{s:s, s:s?, s:I}", "id", id, "last_audit",
                                         last, "bytes", (json_int_t)bytes));
}

static void print_due(json_t *due)
{
    size_t i;
    json_t *d;
    json_array_foreach(due, i, d)
    {
        char sz[32];
        const char *id = json_string_value(json_object_get(d, "id"));
        const char *last = json_string_value(json_object_get(d, "last_audit"));
        cli_format_size((uint64_t)json_integer_value(json_object_get(d, "bytes")), sz);
        if (last)
            printf("overdue  %s  last audited %s  %s\n", cli_text(id),
                   cli_text(last), sz);
        else
            printf("never    %s  %s\n", cli_text(id), sz);
    }
}

/* Objects whose latest audit failed: JSON ids, or lines. */
static void on_failed(void *arg, const char *id, const char *last, uint64_t bytes)
{
    json_t *arr = arg;
    (void)bytes;
    if (arr)
        json_array_append_new(arr, json_string(id));
    else
        printf("failed   %s  last audited %s\n", cli_text(id), cli_text(last));
}

/* Per copy, for --status: JSON rows, or the lines printed at the end. */
typedef struct copies_out {
    json_t *rows;
    vl_buf text;
    int interval_days;
} copies_out;

static void on_copy_status(void *arg, const vl_copy_status *cs)
{
    copies_out *c = arg;
    int primary = !strcmp(cs->name, VL_PRIMARY_COPY);
    if (c->rows) {
        json_array_append_new(
            c->rows, json_pack("{s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I}",
                               "copy", cs->name, "location", cs->location,
                               "objects", (json_int_t)cs->objects, "verified",
                               (json_int_t)cs->verified, "within_interval",
                               (json_int_t)cs->within_interval, "failed",
                               (json_int_t)cs->failed, "never",
                               (json_int_t)cs->never, "behind",
                               (json_int_t)cs->behind));
        return;
    }
    vl_buf_printf(&c->text, NULL, "copy %s%s%s%s: %zu of %zu objects verified "
                  "within %d days (failed %zu, never audited %zu",
                  primary ? "" : "replica ", cli_text(cs->name),
                  primary ? "" : " at ", primary ? "" : cli_text(cs->location),
                  cs->verified, cs->objects, c->interval_days, cs->failed,
                  cs->never);
    if (!primary)
        vl_buf_printf(&c->text, NULL, ", missing or behind %zu", cs->behind);
    vl_buf_printf(&c->text, NULL, ")\n");
}

static int status(vl_repo *repo, int json)
{
    vl_audit_status st;
    vl_error err = {0};
    json_t *due = json_array();
    json_t *failed = json ? json_array() : NULL;
    copies_out co = {.rows = json ? json_array() : NULL};
    char when[32] = "", next[32] = "", sz[32], rate[32];
    vl_buf_init(&co.text, 0);
    if (vl_audit_status_get(repo, &st, on_due, due, &err) != VL_OK ||
        (co.interval_days = st.interval_days,
         vl_audit_copy_status(repo, on_copy_status, &co, &err)) != VL_OK) {
        json_decref(due);
        json_decref(failed);
        json_decref(co.rows);
        vl_buf_release(&co.text);
        return cli_fail(&err);
    }
    /* Failures lead: a complete cycle says nothing about damage found. */
    if (!json && st.failed) {
        const char *one = NULL;
        json_t *ids = json_array();
        if (st.failed == 1 && ids &&
            vl_audit_failed_foreach(repo, on_failed, ids, &err) == VL_OK)
            one = json_string_value(json_array_get(ids, 0));
        printf("FAILED: %zu object%s failed %s last audit: run 'vellum repair %s', "
               "then 'vellum audit %s'\n", st.failed, st.failed == 1 ? "" : "s",
               st.failed == 1 ? "its" : "their", one ? cli_text(one) : "ID",
               one ? cli_text(one) : "ID");
        json_decref(ids);
    }
    if ((json || st.failed) &&
        vl_audit_failed_foreach(repo, on_failed, failed, &err) != VL_OK) {
        json_decref(due);
        json_decref(failed);
        json_decref(co.rows);
        vl_buf_release(&co.text);
        return cli_fail(&err);
    }
    if (st.cycle_complete_at)
        vl_time_rfc3339(st.cycle_complete_at, when);
    if (st.next_due_at)
        vl_time_rfc3339(st.next_due_at, next);
    if (json) {
        cli_print_json(json_pack(
            "{s:I, s:I, s:I, s:I, s:i, s:f, s:I, s:s?, s:I, s:I, s:f, s:s?, s:o, "
            "s:o, s:I, s:o}",
            "objects", (json_int_t)st.objects, "never_audited",
            (json_int_t)st.never_audited, "overdue", (json_int_t)st.overdue,
            "within_interval", (json_int_t)st.within_interval, "interval_days",
            st.interval_days, "bytes_per_second", st.bytes_per_second,
            "bytes_to_audit", (json_int_t)st.bytes_to_audit,
            "cycle_complete_at", when[0] ? when : NULL, "runs_needed",
            (json_int_t)st.runs_needed, "max_bytes_per_run",
            (json_int_t)st.max_bytes_per_run, "max_seconds_per_run",
            st.max_seconds_per_run, "next_due_at", next[0] ? next : NULL,
            "due", due, "copies", co.rows, "failed", (json_int_t)st.failed,
            "failed_objects", failed));
        vl_buf_release(&co.text);
        return CLI_EXIT_OK;
    }
    print_due(due);
    json_decref(due);
    cli_format_size(st.bytes_to_audit, sz);
    cli_format_size((uint64_t)st.bytes_per_second, rate);
    printf("objects: %zu (never audited %zu, overdue %zu, within %d days %zu, "
           "failed %zu)\n", st.objects, st.never_audited, st.overdue,
           st.interval_days, st.within_interval, st.failed);
    printf("to audit: %zu object%s, %s\n", st.never_audited + st.overdue,
           st.never_audited + st.overdue == 1 ? "" : "s", sz);
    if (st.bytes_per_second > 0)
        printf("observed rate: %s/s\n", rate);
    else
        printf("observed rate: none yet (no audit recorded)\n");
    if (st.max_bytes_per_run || st.max_seconds_per_run > 0) {
        cli_format_size(st.max_bytes_per_run, sz);
        printf("budget per run: %s, %.0f s (0 = none)\n",
               st.max_bytes_per_run ? sz : "0", st.max_seconds_per_run);
    }
    if (st.never_audited + st.overdue == 0)
        printf("cycle complete%s%s%s\n", st.failed ? " (failures above)" : "",
               next[0] ? "; next object due " : "", next);
    else if (when[0])
        printf("cycle completes: %s (%zu daily run%s of audit --due)\n", when,
               st.runs_needed, st.runs_needed == 1 ? "" : "s");
    else if (st.runs_needed)
        printf("cycle completes: in %zu daily runs of audit --due\n",
               st.runs_needed);
    else
        printf("cycle completes: unknown until an audit has been timed\n");
    /* Copies only once there is a replica: alone, the primary is the above. */
    if (vl_replica_count(repo) > 0 && co.text.data)
        fputs(co.text.data, stdout);
    vl_buf_release(&co.text);
    return CLI_EXIT_OK;
}

CLI_COMMAND(audit)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"due", no_argument, NULL, 'd'},
        {"status", no_argument, NULL, 's'},
        {"max-bytes", required_argument, NULL, 'b'},
        {"max-seconds", required_argument, NULL, 't'},
        {"replicas", no_argument, NULL, 'P'},
        {"replica", required_argument, NULL, 'N'},
        {"repair", no_argument, NULL, 'r'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_audit_options ao = {0};
    vl_audit_summary s = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    out_ctx o = {.c = &c};
    int opt, rc = CLI_EXIT_OK, all = 0, due = 0, stat = 0, repair = 0;
    /* --replica names point into argv, which outlives the run */
    const char **copies = calloc((size_t)argc + 1, sizeof *copies);
    char *end;
    if (!copies) {
        fputs("vellum: out of memory\n", stderr);
        return CLI_EXIT_SYSTEM;
    }
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'a': all = 1; break;
        case 'd': due = 1; break;
        case 's': stat = 1; break;
        case 'b':
            if (vl_audit_parse_size(optarg, &ao.max_bytes) != 0 || !ao.max_bytes) {
                rc = cli_usage_error("audit", "--max-bytes '%s' is not a size",
                                     optarg);
                goto done;
            }
            break;
        case 't':
            ao.max_seconds = strtod(optarg, &end);
            if (*end || end == optarg || !(ao.max_seconds > 0)) {
                rc = cli_usage_error("audit", "--max-seconds '%s' is not a "
                                     "number of seconds", optarg);
                goto done;
            }
            break;
        case 'P': ao.all_copies = 1; break;
        case 'r': repair = 1; break;
        case 'N': copies[ao.ncopies++] = optarg; break;
        case 'h': fputs(usage, stdout); goto done;
        default: rc = cli_option_error("audit", argv); goto done;
        }
    }
    ao.copies = copies;
    int nids = argc - optind;
    for (int i = optind; i < argc; i++)
        if ((rc = cli_check_id(argv[i])) != CLI_EXIT_OK)
            goto done;
    if (all + due + stat + (nids > 0) != 1)
        rc = cli_usage_error("audit", "give IDs, --all, --due or --status "
                             "(one of them)");
    else if (stat && (ao.max_bytes || ao.max_seconds > 0))
        rc = cli_usage_error("audit", "--status takes no budgets");
    else if (ao.all_copies && ao.ncopies)
        rc = cli_usage_error("audit", "give --replicas (every copy) or "
                             "--replica NAME (that replica), not both");
    else if (stat && repair)
        rc = cli_usage_error("audit", "--status does not repair");
    else if (stat && (ao.all_copies || ao.ncopies))
        rc = cli_usage_error("audit", "--status shows every copy; it takes "
                             "no --replicas or --replica");
    if (rc != CLI_EXIT_OK)
        goto done;
    /* --status only reads; audits record events and history. */
    if ((rc = cli_open_repo_mode(&c, stat ? VL_OPEN_READ : VL_OPEN_WRITE,
                                 &repo)) != CLI_EXIT_OK)
        goto done;
    if (stat) {
        rc = status(repo, c.json);
        goto done;
    }
    o.objects = c.json ? json_array() : NULL;
    o.copies = ao.all_copies || ao.ncopies;
    if (repair && vl_replica_count(repo) == 0) {
        fprintf(stderr, "vellum audit: --repair needs a replica to repair from; add "
                "one with 'vellum replica add NAME FOLDER'\n");
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    if (repair && (!(o.failed = json_object()) || (c.json && !(o.repairs = json_array())))) {
        fputs("vellum: out of memory\n", stderr);
        rc = CLI_EXIT_SYSTEM;
        goto done;
    }
    if (ao.all_copies && vl_replica_count(repo) == 0 && !c.quiet)
        fprintf(stderr, "vellum: note: the repository has no replica; auditing "
                "the primary copy only (add one: vellum replica add NAME DIR)\n");
    ao.on_object = on_object;
    ao.on_start = on_start;
    ao.on_start_copy = on_start_copy;
    ao.on_skip = on_skip;
    ao.arg = &o;
    if (due)
        rc = vl_audit_due(repo, &ao, &s, &err);
    else
        rc = vl_audit(repo, (const char *const *)(argv + optind), (size_t)nids,
                      &ao, &s, &err);
    if (rc == VL_FINDING && repair && json_object_size(o.failed) > 0) {
        /* Repair what failed, then audit it again: the second audit's
         * outcome is the run's. */
        size_t n = json_object_size(o.failed), k = 0;
        const char **ids = calloc(n, sizeof *ids);
        const char *key;
        json_t *v;
        vl_repair_options ro = {.on_action = on_repair, .arg = &o};
        vl_repair_summary rs = {0};
        vl_audit_summary again = {0};
        if (!ids) {
            fputs("vellum: out of memory\n", stderr);
            rc = CLI_EXIT_SYSTEM;
            goto done;
        }
        json_object_foreach(o.failed, key, v) ids[k++] = key;
        if (!c.json && !c.quiet)
            printf("repairing %zu object%s\n", n, n == 1 ? "" : "s");
        rc = vl_repair(repo, ids, n, &ro, &rs, &err);
        if (rc == VL_OK || rc == VL_FINDING) {
            if (!c.json && !c.quiet)
                printf("auditing %zu repaired object%s again\n", n, n == 1 ? "" : "s");
            ao.max_bytes = 0;
            ao.max_seconds = 0;
            rc = vl_audit(repo, ids, n, &ao, &again, &err);
            s.objects += again.objects;
            s.passed += again.passed;
            s.failed = again.failed;   /* what is still wrong */
            s.bytes += again.bytes;
            s.seconds += again.seconds;
        }
        free(ids);
    }
    if (rc == VL_OK || rc == VL_FINDING)
        print_summary(&o, &s);
    if (rc != VL_OK && rc != VL_FINDING)
        rc = cli_fail_object(repo, NULL, &err);
    else
        rc = rc == VL_FINDING ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
done:
    json_decref(o.objects);
    json_decref(o.failed);
    json_decref(o.repairs);
    vl_repo_close(repo);
    free(copies);
    return rc;
}
