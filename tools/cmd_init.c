/* vellum init: create a repository. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum init [--repo DIR] [--digest sha512|sha256]\n"
    "                   [--fixity md5,sha1,sha256,blake2b-512] [--json]\n"
    "\n"
    "Create a repository in DIR (else $VELLUM_REPO, else ./vellum-repo): an\n"
    "OCFL 1.1 storage root using the 0004-hashed-n-tuple-storage-layout\n"
    "extension, the catalog, a staging folder and vellum.conf.  DIR must be\n"
    "new or empty.\n"
    "  --digest ALG   inventory digest (default sha512)\n"
    "  --fixity LIST  extra digests always recorded in each inventory's fixity\n"
    "                 block (default none: each costs throughput)\n";

CLI_COMMAND(init)
{
    static const struct option opts[] = {
        {"digest", required_argument, NULL, 'd'},
        {"fixity", required_argument, NULL, 'f'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_repo_options ro = {VL_SHA512, 0, VL_SHARED_PRIVATE};
    vl_error err = {0};
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'd':
            if (vl_digest_from_name(optarg, &ro.digest) != 0 ||
                (ro.digest != VL_SHA512 && ro.digest != VL_SHA256))
                return cli_usage_error("init", "--digest must be sha512 or sha256");
            break;
        case 'f':
            if (vl_digest_mask_parse(optarg, &ro.fixity_mask, &err) != VL_OK)
                return cli_usage_error("init", "--fixity: %s", err.msg);
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("init", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    const char *dir = cli_repo_dir(&c);
    if (vl_repo_init(dir, &ro, &err) != VL_OK)
        return cli_fail(&err);
    if (c.json)
        cli_print_json(json_pack("{s:s, s:s}", "repository", dir, "digest",
                                 vl_digest_name(ro.digest)));
    else
        printf("initialized repository %s (inventory digest %s)\n", dir,
               vl_digest_name(ro.digest));
    return CLI_EXIT_OK;
}
