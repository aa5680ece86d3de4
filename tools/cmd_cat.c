/* vellum cat: write one file of an object to stdout, verified first. */
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum cat ID PATH [--version vN] [--repo DIR]\n"
    "\n"
    "Write the file PATH (a logical path, as 'vellum show' lists it, e.g.\n"
    "data/report.pdf) of the head version (or vN) to stdout.  Its digest is\n"
    "checked before the first byte goes out: a copy in the repository that is\n"
    "missing, unreadable or damaged is read from the first replica whose copy\n"
    "verifies, with a note on stderr.  When no copy is good nothing is written\n"
    "and cat exits 1.  --json has no effect: stdout carries the file's bytes.\n"
    "Exit: 0 ok, 1 no good copy, 2 usage or unknown id, version or path,\n"
    "3 system error.\n";

static void on_file(void *arg, const vl_get_file_note *n)
{
    (void)arg;
    fprintf(stderr, "vellum: note: %s: primary copy damaged (%s); read from "
            "replica %s\n", cli_text(n->logical), cli_text(n->problem),
            cli_text(n->source));
}

CLI_COMMAND(cat)
{
    static const struct option opts[] = {
        {"version", required_argument, NULL, 'v'}, CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    int opt, rc, num = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'v':
            if ((num = cli_parse_version(optarg)) < 0)
                return cli_usage_error("cat", "--version takes vN, e.g. v2");
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("cat", argv);
        }
    }
    if (optind + 2 == argc && (rc = cli_check_id(argv[optind])) != CLI_EXIT_OK)
        return rc;
    if (optind + 2 != argc)
        return cli_usage_error("cat", "give an object id and a file's path");
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    fflush(stdout);
    if (vl_repo_cat(repo, argv[optind], num, argv[optind + 1], STDOUT_FILENO,
                    on_file, NULL, &err) != VL_OK)
        rc = cli_fail_object(repo, argv[optind], &err);
    vl_repo_close(repo);
    return rc;
}
