/* vellum events: list preservation events; verify the hash-chained log. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum events [ID] [--type TYPE] [--since DATE] [--outcome OUTCOME]\n"
    "                     [--repo DIR] [--json]\n"
    "       vellum events verify [--repo DIR] [--json]\n"
    "\n"
    "List PREMIS preservation events (all, or one object's), oldest first.\n"
    "TYPE is a PREMIS event type or the beginning of one (fixity is \"fixity\n"
    "check\"): ingestion, \"message digest calculation\", \"format\n"
    "identification\", \"fixity check\", unpacking, validation, \"metadata\n"
    "extraction\", dissemination, creation, replication, recovery, quarantine.\n"
    "OUTCOME is success, warning or fail.  An unknown ID is an error (exit 2).\n"
    "'verify' checks the append-only event log: every line's hash chain, and that\n"
    "the catalog and the log agree; it names the first broken line (exit 1).\n";

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

CLI_COMMAND(events)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 's'},
        {"outcome", required_argument, NULL, 'o'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_event_filter f = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
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
    if (verify)
        optind++;
    if (!verify && optind < argc)
        f.object_id = argv[optind++];
    if (optind < argc)
        return cli_usage_error("events", "unexpected argument '%s'", argv[optind]);
    if (f.object_id && (rc = cli_check_id(f.object_id)) != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
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
