/* vellum report: a report for curators (holdings, formats, audit coverage,
 * fixity failures, audit history) as HTML, JSON or CSV. */
#include <string.h>

#include "cli.h"
#include "vl_fixity.h"

static const char usage[] =
    "usage: vellum report [--since DATE] [--format html|json|csv] [--out FILE]\n"
    "                     [--repo DIR]\n"
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
    "that lists failures still exits 0.\n";

CLI_COMMAND(report)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_report_format fmt = VL_REPORT_HTML;
    const char *since = NULL, *out = NULL, *format = NULL;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 's': since = optarg; break;
        case 'f': format = optarg; break;
        case 'o': out = optarg; break;
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
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    if (vl_report_write(repo, fmt, since, out, &err) != VL_OK)
        rc = cli_fail(&err);
    else if (out && !c.quiet && cli_progress_enabled(&c))
        fprintf(stderr, "vellum report: wrote %s\n", cli_text(out));
    vl_repo_close(repo);
    return rc;
}
