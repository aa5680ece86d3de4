/* vellum reindex: rebuild the catalog from the storage root. */
#include "cli.h"
#include "vl_metadata.h"

static const char usage[] =
    "usage: vellum reindex [--repo DIR] [--json]\n"
    "\n"
    "Rebuild the catalog from the OCFL storage root alone (the store is the\n"
    "truth; the catalog is an index of it).  Format identification results\n"
    "come back from the METS.xml stored in each object version.\n";

CLI_COMMAND(reindex)
{
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    size_t n = 0, formats = 0;
    int rc;
    if ((rc = cli_common_options_only("reindex", usage, argc, argv, &c)) != CLI_CONTINUE)
        return rc;
    if (optind < argc)
        return cli_usage_error("reindex", "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    if (vl_metadata_reindex(repo, &n, &formats, &err) != VL_OK)
        rc = cli_fail(&err);
    else if (c.json)
        cli_print_json(json_pack("{s:I, s:I}", "objects", (json_int_t)n,
                                 "formats", (json_int_t)formats));
    else if (n == 0)
        printf("reindexed 0 objects: the store holds none; the catalog is empty\n");
    else if (formats)
        printf("reindexed %zu object%s: catalog rebuilt from the store; the "
               "formats of %zu file%s restored from the stored METS\n", n,
               n == 1 ? "" : "s", formats, formats == 1 ? "" : "s");
    else
        printf("reindexed %zu object%s: catalog rebuilt from the store; no file "
               "format needed restoring from the stored METS\n", n, n == 1 ? "" : "s");
    vl_repo_close(repo);
    return rc;
}
