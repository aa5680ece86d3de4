/* vellum get: write an object's files out, verifying every digest. */
#include "cli.h"

static const char usage[] =
    "usage: vellum get ID DEST [--version vN] [--repo DIR] [--json]\n"
    "\n"
    "Rebuild the logical state of the head version (or vN) in the new folder\n"
    "DEST, byte-exact, recomputing every digest while copying.  A mismatch\n"
    "names the file, exits 1 and leaves nothing at DEST.\n";

CLI_COMMAND(get)
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
                return cli_usage_error("get", "--version takes vN, e.g. v2");
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("get", "unknown option");
        }
    }
    if (optind + 2 == argc && (rc = cli_check_id(argv[optind])) != CLI_EXIT_OK)
        return rc;
    if (optind + 2 != argc)
        return cli_usage_error("get", "give an object id and a destination folder");
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    if (vl_repo_get(repo, argv[optind], num, argv[optind + 1], &err) != VL_OK)
        rc = cli_fail(&err);
    else if (c.json)
        cli_print_json(json_pack("{s:s, s:s, s:b}", "id", argv[optind], "dest",
                                 argv[optind + 1], "verified", 1));
    else
        printf("%s -> %s (every digest verified)\n", cli_text(argv[optind]),
               cli_text(argv[optind + 1]));
    vl_repo_close(repo);
    return rc;
}
