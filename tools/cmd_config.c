/* vellum config: show or change repository settings. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum config [KEY [VALUE]] [--repo DIR]\n"
    "\n"
    "With no KEY, print every setting; with KEY, print it; with KEY VALUE,\n"
    "set it.  Keys: user.name, user.address (default depositor), schemas (path\n"
    "of the XML schemas).  digest and fixity are fixed at init.\n";

static const char *const settable[] = {"user.name", "user.address", "schemas", NULL};

CLI_COMMAND(config)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        if (opt == 'h') {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        return cli_usage_error("config", "unknown option");
    }
    int nargs = argc - optind;
    if (nargs > 2)
        return cli_usage_error("config", "give at most KEY and VALUE");
    if (nargs == 2) {
        int ok = 0;
        for (int i = 0; settable[i]; i++)
            ok |= !strcmp(settable[i], argv[optind]);
        if (!ok)
            return cli_usage_error("config", "'%s' cannot be set here", argv[optind]);
    }
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    if (nargs == 2) {
        if (vl_repo_config_set(repo, argv[optind], argv[optind + 1], &err) != VL_OK)
            rc = cli_fail(&err);
    } else if (nargs == 1) {
        const char *v = vl_repo_config_get(repo, argv[optind]);
        if (v)
            printf("%s\n", v);
        else
            rc = CLI_EXIT_FINDINGS;   /* like git config: unset is exit 1 */
    } else {
        const char *keys[] = {"digest", "fixity", "user.name", "user.address",
                              "schemas", NULL};
        for (int i = 0; keys[i]; i++) {
            const char *v = vl_repo_config_get(repo, keys[i]);
            if (v)
                printf("%s = %s\n", keys[i], v);
        }
    }
    vl_repo_close(repo);
    return rc;
}
