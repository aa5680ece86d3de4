/* vellum events: list preservation events; verify the hash-chained log. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum events [ID] [--type TYPE] [--since DATE] [--outcome OUTCOME]\n"
    "                     [--repo DIR] [--json]\n"
    "       vellum events verify [--file FILE] [--repo DIR] [--json]\n"
    "       vellum events export [FILE] [--repo DIR]\n"
    "\n"
    "List PREMIS preservation events (all, or one object's), oldest first.\n"
    "TYPE is a PREMIS event type or the beginning of one (fixity is \"fixity\n"
    "check\"): ingestion, \"message digest calculation\", \"format\n"
    "identification\", \"fixity check\", unpacking, validation, \"metadata\n"
    "extraction\", dissemination, creation, replication, recovery, quarantine,\n"
    "deletion (a staged head discarded).\n"
    "OUTCOME is success, warning or fail.  An unknown ID is an error (exit 2).\n"
    "'verify' checks the append-only event log: every line's hash chain, and that\n"
    "the catalog and the log agree; it names the first broken line (exit 1).\n"
    "With a PostgreSQL catalog the log is the catalog's events table, and\n"
    "verify checks the chain there.  'verify --file FILE' checks the chain of\n"
    "a log file alone (an exported one).  'export' writes the log, one JSON\n"
    "line per event as events.jsonl holds them, to FILE or standard output.\n";

struct list_ctx {
    json_t *arr;   /* --json: the events, else NULL */
    size_t n;      /* events listed */
};

static int print_event(void *arg, const vl_event_row *e)
{
    struct list_ctx *ctx = arg;
    json_t *arr = ctx->arr;
    ctx->n++;
    if (arr) {
        json_error_t je;
        json_t *files = json_loads(e->files_json ? e->files_json : "[]", 0, &je);
        json_t *agents = json_loads(e->agents_json ? e->agents_json : "[]", 0, &je);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:o*, s:o*}",
                              "seq", (json_int_t)e->seq, "id", e->id, "type", e->type,
                              "datetime", e->datetime, "outcome", e->outcome, "detail",
                              e->detail, "outcome_detail", e->outcome_detail, "object",
                              e->object_id, "version", e->version, "files", files,
                              "agents", agents));
        return 0;
    }
    char ver[16] = "";
    if (e->version)
        snprintf(ver, sizeof ver, " v%d", e->version);
    printf("%s  %-27s %-7s %s%s  %s\n", cli_text(e->datetime), cli_text(e->type),
           cli_text(e->outcome), e->object_id ? cli_text(e->object_id) : "-", ver,
           cli_text(e->detail));
    /* What was found, one line each (an audit's problems), each indented
     * under the first; the text in them is escaped line by line. */
    for (const char *p = e->outcome_detail; p && *p;) {
        size_t len = strcspn(p, "\n");
        char *line = strndup(p, len);
        printf("    %s\n", line ? cli_text(line) : "?");
        free(line);
        p += len;
        if (*p == '\n')
            p++;
    }
    return 0;
}

static void print_problem(void *arg, const char *msg)
{
    json_t *arr = arg;
    if (arr)
        json_array_append_new(arr, json_string(msg));
    else
        printf("%s\n", cli_text(msg));
}

/* events verify --file: the chain of a log file, no repository needed. */
static int verify_file(const char *path, int json)
{
    vl_error err = {0};
    json_t *arr = json ? json_array() : NULL;
    int v = vl_events_verify_file(path, print_problem, arr, &err);
    if (v != VL_OK && v != VL_FINDING) {
        json_decref(arr);
        return cli_fail(&err);
    }
    if (arr)
        cli_print_json(json_pack("{s:b, s:o}", "intact", v == VL_OK, "problems",
                                 arr));
    else if (v == VL_OK)
        printf("event log intact: %s: chain unbroken\n", cli_text(path));
    else
        fprintf(stderr, "vellum: the event log has been altered (see above)\n");
    return v == VL_OK ? CLI_EXIT_OK : CLI_EXIT_FINDINGS;
}

/* events export [FILE]: written beside FILE and renamed, so that a failed
 * export leaves no half file under the name. */
static int export_log(vl_repo *repo, const char *path)
{
    vl_error err = {0};
    char *tmp = path ? vl_asprintf("%s.tmp-%ld", path, (long)getpid()) : NULL;
    FILE *out = path ? (tmp ? fopen(tmp, "w") : NULL) : stdout;
    int rc = CLI_EXIT_OK;
    if (path && !tmp) {
        vl_error_oom(&err);
        rc = cli_fail(&err);
        goto done;
    }
    if (!out) {
        vl_error_sys(&err, "cannot create %s", tmp);
        rc = cli_fail(&err);
        goto done;
    }
    if (vl_events_export(repo, out, path ? path : "standard output", &err) !=
        VL_OK) {
        rc = cli_fail(&err);
    } else if (fflush(out) != 0 || (path && fsync(fileno(out)) != 0)) {
        vl_error_sys(&err, "cannot write %s", path ? path : "standard output");
        rc = cli_fail(&err);
    }
    if (path) {
        if (fclose(out) != 0 && rc == CLI_EXIT_OK) {
            vl_error_sys(&err, "cannot write %s", path);
            rc = cli_fail(&err);
        }
        if (rc == CLI_EXIT_OK && rename(tmp, path) != 0) {
            vl_error_sys(&err, "cannot rename %s to %s", tmp, path);
            rc = cli_fail(&err);
        }
        if (rc != CLI_EXIT_OK)
            unlink(tmp);
    }
done:
    free(tmp);
    return rc;
}

CLI_COMMAND(events)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 's'},
        {"outcome", required_argument, NULL, 'o'},
        {"file", required_argument, NULL, 'F'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_event_filter f = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    const char *file = NULL;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 't':
            if (vl_event_type_resolve(optarg, &f.type, &err) != VL_OK)
                return cli_usage_error("events", "--type: %s", err.msg);
            break;
        case 's': f.since = optarg; break;
        case 'F': file = optarg; break;
        case 'o':
            if (vl_event_outcome_check(optarg, &err) != VL_OK)
                return cli_usage_error("events", "--outcome: %s", err.msg);
            f.outcome = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("events", argv);
        }
    }
    int verify = optind < argc && !strcmp(argv[optind], "verify");
    int export = optind < argc && !strcmp(argv[optind], "export");
    const char *out_path = NULL;
    if (verify || export)
        optind++;
    if (export && optind < argc)
        out_path = argv[optind++];
    if (!verify && !export && optind < argc)
        f.object_id = argv[optind++];
    if (file && !verify)
        return cli_usage_error("events", "--file goes with verify");
    if (optind < argc)
        return cli_usage_error("events", "unexpected argument '%s'", argv[optind]);
    if (f.object_id && (rc = cli_check_id(f.object_id)) != CLI_EXIT_OK)
        return rc;
    if (file)
        return verify_file(file, c.json);
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    if (export) {
        rc = export_log(repo, out_path);
        vl_repo_close(repo);
        return rc;
    }
    json_t *arr = c.json ? json_array() : NULL;
    if (verify) {
        int v = vl_events_verify(repo, print_problem, arr, &err);
        if (v == VL_FINDING) {
            rc = CLI_EXIT_FINDINGS;
            if (arr)
                cli_print_json(json_pack("{s:b, s:o}", "intact", 0, "problems", arr));
            else
                fprintf(stderr, "vellum: the event log has been altered (see above)\n");
        } else if (v != VL_OK) {
            json_decref(arr);
            rc = cli_fail(&err);
        } else if (arr) {
            cli_print_json(json_pack("{s:b, s:o}", "intact", 1, "problems", arr));
        } else {
            printf("event log intact: chain and catalog agree\n");
        }
    } else {
        struct list_ctx ctx = {arr, 0};
        int known = 1;
        if (vl_events_list(repo, &f, print_event, &ctx, &err) != VL_OK) {
            json_decref(arr);
            rc = cli_fail(&err);
        } else if (!ctx.n && f.object_id &&
                   vl_repo_object_known(repo, f.object_id, &known, &err) != VL_OK) {
            json_decref(arr);
            rc = cli_fail(&err);
        } else if (!known) {   /* nothing to list is not "no events" */
            json_decref(arr);
            vl_error_set(&err, VL_EINPUT, "no object with id \"%s\"", f.object_id);
            rc = cli_fail_object(repo, f.object_id, &err);
        } else if (arr) {
            cli_print_json(arr);
        }
    }
    vl_repo_close(repo);
    return rc;
}
