/* vellum events: list preservation events; verify the hash-chained log. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum events [ID] [--type TYPE] [--since DATE] [--outcome OUTCOME]\n"
    "                     [--repo DIR] [--json]\n"
    "       vellum events verify [--repo DIR] [--json]\n"
    "\n"
    "List PREMIS preservation events (all, or one object's), oldest first.\n"
    "TYPE is a PREMIS event type such as ingestion, \"fixity check\", \"format\n"
    "identification\"; OUTCOME is success, warning or fail.\n"
    "'verify' checks the append-only event log: every line's hash chain, and that\n"
    "the catalog and the log agree; it names the first broken line (exit 1).\n";

static int print_event(void *arg, const vl_event_row *e)
{
    json_t *arr = arg;
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
    if (e->outcome_detail && *e->outcome_detail)
        printf("    %s\n", cli_text(e->outcome_detail));
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
        case 't': f.type = optarg; break;
        case 's': f.since = optarg; break;
        case 'o': f.outcome = optarg; break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("events", "unknown option");
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
    } else if (vl_events_list(repo, &f, print_event, arr, &err) != VL_OK) {
        json_decref(arr);
        rc = cli_fail(&err);
    } else if (arr) {
        cli_print_json(arr);
    }
    vl_repo_close(repo);
    return rc;
}
