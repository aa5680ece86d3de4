/* vellum ingest: deposit folders or files as a new object or version. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum ingest SOURCE... [--id ID] [--message TEXT]\n"
    "                     [--user-name NAME --user-address URI] [--merge]\n"
    "                     [--repo DIR] [--json] [--quiet]\n"
    "\n"
    "Deposit SOURCE folders and files as one new version.  A new id (or none:\n"
    "one is minted as urn:uuid:...) makes v1; an existing id makes a new version\n"
    "whose state is the sources, or with --merge the head state with the\n"
    "sources' files added or replaced.  Files land under data/.  A deposit that\n"
    "changes nothing writes no version.\n";

struct progress_state {
    struct timespec start;
    int shown;
};

static void show_progress(void *arg, const vl_ingest_progress *p)
{
    struct progress_state *s = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - s->start.tv_sec) +
                  (double)(now.tv_nsec - s->start.tv_nsec) / 1e9;
    double rate = secs > 0 ? (double)p->bytes_done / secs : 0;
    double eta = rate > 0 ? (double)(p->bytes_total - p->bytes_done) / rate : 0;
    char done[32], total[32], r[32];
    cli_format_size(p->bytes_done, done);
    cli_format_size(p->bytes_total, total);
    cli_format_size((uint64_t)rate, r);
    fprintf(stderr, "\r%zu/%zu files, %s/%s, %s/s, ETA %.0fs   ", p->files_done,
            p->files_total, done, total, r, eta);
    s->shown = 1;
}

static void show_warning(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "vellum: warning: %s\n", msg);
}

CLI_COMMAND(ingest)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},
        {"message", required_argument, NULL, 'm'},
        {"user-name", required_argument, NULL, 'n'},
        {"user-address", required_argument, NULL, 'a'},
        {"merge", no_argument, NULL, 'M'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_ingest_options o = {0};
    vl_ingest_result res;
    struct progress_state ps = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'i': o.id = optarg; break;
        case 'm': o.message = optarg; break;
        case 'n': o.user_name = optarg; break;
        case 'a': o.user_address = optarg; break;
        case 'M': o.merge = 1; break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("ingest", "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("ingest", "give at least one folder or file to deposit");
    if (o.user_address && !o.user_name)
        return cli_usage_error("ingest", "--user-address needs --user-name");
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    if (!o.user_name) { /* the repository's default depositor, if set */
        o.user_name = vl_repo_config_get(repo, "user.name");
        o.user_address = vl_repo_config_get(repo, "user.address");
    }
    if (!o.message)
        o.message = "Deposit by vellum ingest";
    o.warn = show_warning;
    if (cli_progress_enabled(&c)) {
        clock_gettime(CLOCK_MONOTONIC, &ps.start);
        o.progress = show_progress;
        o.cb_arg = &ps;
    }
    rc = vl_ingest(repo, (const char *const *)argv + optind, (size_t)(argc - optind),
                   &o, &res, &err);
    if (ps.shown)
        fputc('\n', stderr);
    if (rc != VL_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    if (c.json) {
        cli_print_json(json_pack("{s:s, s:i, s:b, s:I, s:I}", "id", res.id,
                                 "version", res.version, "changed", res.version > 0,
                                 "files", (json_int_t)res.files, "bytes",
                                 (json_int_t)res.bytes));
    } else if (res.version == 0) {
        printf("%s: no changes; no version written\n", res.id);
    } else {
        char sz[32];
        cli_format_size(res.bytes, sz);
        printf("%s v%d (%zu files, %s)\n", res.id, res.version, res.files, sz);
    }
done:
    vl_repo_close(repo);
    return rc;
}
