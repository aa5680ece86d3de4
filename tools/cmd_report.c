/* vellum report: a report for curators (holdings, formats, audit coverage,
 * fixity failures, audit history) as HTML, JSON or CSV. */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "vl_fixity.h"

static const char usage[] =
    "usage: vellum report [--since DATE] [--format html|json] [--out FILE]\n"
    "                     [--repo DIR]\n"
    "       vellum report --format csv --table NAME [--out FILE] [--since DATE]\n"
    "       vellum report --format csv --out DIR/ [--since DATE]\n"
    "\n"
    "Report on the repository for curators: totals (objects, versions, files,\n"
    "bytes), the format distribution (PUID, MIME type), audit coverage (audited\n"
    "within audit.interval_days, overdue, never), every fixity failure with its\n"
    "expected and actual digest and when it was first seen, and the audit\n"
    "history per day.  DATE (YYYY-MM-DD or RFC 3339) limits the history and the\n"
    "failures to audits since then; failures of each object's latest audit are\n"
    "always shown.\n"
    "\n"
    "HTML (the default) is one self-contained file with inline charts that opens\n"
    "offline and prints; --json is short for --format json.  With --out the\n"
    "report is written to FILE atomically, else to standard output.  A report\n"
    "that lists failures still exits 0.\n"
    "\n"
    "CSV is one table a file, each with its header row: --table NAME writes\n"
    "one (totals, formats, coverage, history, failures, copies, object_copies,\n"
    "replication, advice); --out DIR/ (a folder: a trailing / or an existing\n"
    "folder) writes each as DIR/NAME.csv.\n";

/* "totals, formats, ..." for errors. */
static void table_names(char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; vl_report_csv_table_name(i) && n < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "",
                              vl_report_csv_table_name(i));
}

CLI_COMMAND(report)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"table", required_argument, NULL, 't'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_report_format fmt = VL_REPORT_HTML;
    const char *since = NULL, *out = NULL, *format = NULL, *table = NULL;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 's': since = optarg; break;
        case 'f': format = optarg; break;
        case 'o': out = optarg; break;
        case 't': table = optarg; break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("report", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("report", "unexpected argument '%s'",
                               argv[optind]);
    if (format && !strcmp(format, "json"))
        fmt = VL_REPORT_JSON;
    else if (format && !strcmp(format, "csv"))
        fmt = VL_REPORT_CSV;
    else if (format && strcmp(format, "html"))
        return cli_usage_error("report", "--format must be html, json or csv, "
                               "not '%s'", format);
    if (c.json) {
        if (format && fmt != VL_REPORT_JSON)
            return cli_usage_error("report", "--json conflicts with --format %s",
                                   format);
        fmt = VL_REPORT_JSON;
    }
    if (out && !*out)
        return cli_usage_error("report", "--out needs a file name");
    int64_t t;
    if (since && vl_time_parse(since, &t) != 0)
        return cli_usage_error("report", "--since '%s' is not a date "
                               "(YYYY-MM-DD) or an RFC 3339 time", since);
    char names[256];
    table_names(names, sizeof names);
    int folder = 0;
    if (out) {
        struct stat st;
        folder = out[strlen(out) - 1] == '/' || (stat(out, &st) == 0 && S_ISDIR(st.st_mode));
    }
    if (table && fmt != VL_REPORT_CSV)
        return cli_usage_error("report", "--table is for --format csv");
    if (fmt == VL_REPORT_CSV) {
        if (table && folder)
            return cli_usage_error("report", "--table writes one file: --out names "
                                   "a file, not the folder %s", cli_text(out));
        if (!table && !folder)
            return cli_usage_error("report", "CSV is one table a file: give --table "
                                   "NAME (%s), or --out DIR/ for all of them", names);
        int found = !table;
        for (size_t i = 0; table && vl_report_csv_table_name(i); i++)
            found |= !strcmp(table, vl_report_csv_table_name(i));
        if (!found)
            return cli_usage_error("report", "no CSV table '%s': give one of %s",
                                   cli_text(table), names);
    } else if (folder) {
        return cli_usage_error("report", "--out %s is a folder: give a file name",
                               cli_text(out));
    }
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    if ((fmt == VL_REPORT_CSV ? vl_report_write_csv(repo, table, since, out, &err)
                              : vl_report_write(repo, fmt, since, out, &err)) != VL_OK)
        rc = cli_fail(&err);
    else if (out && !c.quiet && cli_progress_enabled(&c))
        fprintf(stderr, "vellum report: wrote %s\n", cli_text(out));
    vl_repo_close(repo);
    return rc;
}
