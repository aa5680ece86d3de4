/* vellum recover: finish or undo interrupted work, clear staging. */
#include "cli.h"
#include "vl_metadata.h"

static const char usage[] =
    "usage: vellum recover [--repo DIR] [--json]\n"
    "\n"
    "After a crash or a kill: every interrupted deposit is either completed\n"
    "(its version had reached the store) or dropped (it had not), the catalog\n"
    "is brought in line with the store, and staging is emptied.  Temporaries\n"
    "that a killed export or get left beside its destination are removed.\n"
    "Work still running in other processes is left alone.\n";

CLI_COMMAND(recover)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_recover_counts n = {0};
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        if (opt == 'h') {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        return cli_usage_error("recover", "unknown option");
    }
    if (optind < argc)
        return cli_usage_error("recover", "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_RECOVER, &repo)) != CLI_EXIT_OK)
        return rc;
    if (vl_repo_recover(repo, &n, &err) != VL_OK ||
        vl_metadata_reindex_formats(repo, NULL, &err) != VL_OK)
        rc = cli_fail(&err);
    else if (c.json)
        cli_print_json(json_pack("{s:I,s:I}", "objects_repaired",
                                 (json_int_t)n.repaired,
                                 "temporaries_removed",
                                 (json_int_t)n.temporaries));
    else
        printf("recovered: %zu interrupted deposits settled, staging cleared, "
               "%zu abandoned temporaries removed\n", n.repaired,
               n.temporaries);
    vl_repo_close(repo);
    return rc;
}
