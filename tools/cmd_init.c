/* vellum init: create a repository. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum init [--repo DIR] [--digest sha512|sha256]\n"
    "                   [--fixity md5,sha1,sha256,blake2b-512]\n"
    "                   [--shared private|group|world]\n"
    "                   [--user-name NAME --user-address URI]\n"
    "                   [--catalog postgresql://...] [--json]\n"
    "\n"
    "Create a repository in DIR (else $VELLUM_REPO, else ./vellum-repo): an\n"
    "OCFL 1.1 storage root using the 0004-hashed-n-tuple-storage-layout\n"
    "extension, the catalog, a staging folder and vellum.conf.  DIR must be\n"
    "new or empty.\n"
    "  --digest ALG   inventory digest (default sha512)\n"
    "  --fixity LIST  extra digests always recorded in each inventory's fixity\n"
    "                 block (default none: each costs throughput)\n"
    "  --shared WHO   who may read the repository: private (default; folders\n"
    "                 0750, files 0640), group (2770, 0660) or world (0755,\n"
    "                 0644).  Committed files are read-only (0440, 0440,\n"
    "                 0444).  Your umask can only narrow these.\n"
    "  --user-name NAME, --user-address URI\n"
    "                 the default depositor of versions (user.name and\n"
    "                 user.address; 'vellum config' changes them), e.g.\n"
    "                 --user-address mailto:ann@example.org\n"
    "  --store s3://BUCKET/PREFIX\n"
    "                 keep the OCFL storage root in an S3 bucket (it must\n"
    "                 exist; the prefix must be empty); the catalog, staging\n"
    "                 and vellum.conf stay in DIR.  The endpoint and region\n"
    "                 come from these options, else AWS_ENDPOINT_URL and\n"
    "                 AWS_REGION (recorded in vellum.conf); credentials from\n"
    "                 AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else the\n"
    "                 credentials FILE (AWS format, mode 600), never printed\n"
    "  --join         use the storage root already at --store (made by another\n"
    "                 vellum with the same layout) instead of a new one, and\n"
    "                 fill this repository's catalog from it; several workers\n"
    "                 depositing at once need a shared PostgreSQL catalog\n"
    "  --s3-no-tls-verify\n"
    "                 do not check the https endpoint's certificate (each\n"
    "                 command then warns)\n"
    "  --catalog URL  keep the catalog in PostgreSQL rather than in DIR's\n"
    "                 SQLite file, e.g. postgresql://host/dbname?user=me; the\n"
    "                 password goes in PGPASSWORD or ~/.pgpass, never in the\n"
    "                 URL.  One database (schema) per repository.\n";

CLI_COMMAND(init)
{
    static const struct option opts[] = {
        {"digest", required_argument, NULL, 'd'},
        {"fixity", required_argument, NULL, 'f'},
        {"shared", required_argument, NULL, 's'},
        {"user-name", required_argument, NULL, 'n'},
        {"user-address", required_argument, NULL, 'a'},
        {"store", required_argument, NULL, 'S'},
        {"s3-endpoint", required_argument, NULL, 'E'},
        {"s3-region", required_argument, NULL, 'g'},
        {"s3-credentials", required_argument, NULL, 'C'},
        {"s3-no-tls-verify", no_argument, NULL, 'T'},
        {"join", no_argument, NULL, 'j'},
        {"catalog", required_argument, NULL, 'c'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_repo_options ro = {VL_SHA512, 0, VL_SHARED_PRIVATE, NULL, NULL, 0};
    const char *user_name = NULL, *user_address = NULL, *catalog = NULL;
    const char *s3_endpoint = NULL, *s3_region = NULL, *s3_credentials = NULL;
    int s3_no_tls = 0, rc = CLI_EXIT_OK;
    vl_kv *settings = NULL;
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
        case 's':
            if (vl_shared_parse(optarg, &ro.shared) != 0)
                return cli_usage_error("init", "--shared must be private, group or world");
            break;
        case 'n':
            user_name = optarg;
            break;
        case 'a':
            user_address = optarg;
            break;
        case 'S':
            ro.store_url = optarg;
            break;
        case 'E':
            s3_endpoint = optarg;
            break;
        case 'g':
            s3_region = optarg;
            break;
        case 'C':
            s3_credentials = optarg;
            break;
        case 'T':
            s3_no_tls = 1;
            break;
        case 'j':
            ro.join = 1;
            break;
        case 'c':
            /* Checked before anything is made; the message never echoes
             * the URL (it may hold the password being refused). */
            if (vl_catalog_url_check(optarg, &err) != VL_OK)
                return cli_usage_error("init", "--catalog: %s", err.msg);
            catalog = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("init", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("init", "unexpected argument '%s'", argv[optind]);
    if (user_address && !user_name)
        return cli_usage_error("init", "--user-address needs --user-name");
    if ((user_name && strpbrk(user_name, "\r\n")) ||
        (user_address && strpbrk(user_address, "\r\n")))
        return cli_usage_error("init", "--user-name and --user-address take one line");
    if (ro.store_url && strncmp(ro.store_url, "s3://", 5))
        return cli_usage_error("init", "--store takes an s3://BUCKET/PREFIX URL");
    if (!ro.store_url && (s3_endpoint || s3_region || s3_credentials || s3_no_tls ||
                          ro.join))
        return cli_usage_error("init", "the --s3-* options go with --store s3://...");
    if (ro.store_url) {
        if (!(settings = vl_kv_new()) ||
            (s3_endpoint && vl_kv_set(settings, "s3.endpoint", s3_endpoint)) ||
            (s3_region && vl_kv_set(settings, "s3.region", s3_region)) ||
            (s3_credentials && vl_kv_set(settings, "s3.credentials", s3_credentials)) ||
            (s3_no_tls && vl_kv_set(settings, "s3.tls_verify", "false"))) {
            vl_kv_free(settings);
            vl_error_oom(&err);
            return cli_fail(&err);
        }
        ro.store_settings = settings;
    }
    const char *dir = cli_repo_dir(&c);
    rc = vl_repo_init_catalog(dir, &ro, catalog, &err);
    vl_kv_free(settings);
    if (rc != VL_OK)
        return cli_fail(&err);
    if (ro.join && catalog) {
        /* several workers, one shared catalog: it knows the store already */
        if (!c.json)
            printf("joined %s, sharing the catalog %s\n", ro.store_url,
                   "in PostgreSQL");
    } else if (ro.join) {   /* the catalog learns what the joined store holds */
        vl_repo *repo = NULL;
        size_t objects = 0;
        if (vl_repo_open(dir, &repo, &err) != VL_OK ||
            vl_repo_reindex(repo, &objects, &err) != VL_OK) {
            vl_repo_close(repo);
            return cli_fail(&err);
        }
        vl_repo_close(repo);
        if (!c.json)
            printf("joined %s: %zu object%s catalogued\n", ro.store_url, objects,
                   objects == 1 ? "" : "s");
    }
    if (user_name) {   /* the default depositor, as 'vellum config' sets it */
        vl_repo *repo = NULL;
        if (vl_repo_open(dir, &repo, &err) != VL_OK ||
            vl_repo_config_set(repo, "user.name", user_name, &err) != VL_OK ||
            (user_address &&
             vl_repo_config_set(repo, "user.address", user_address, &err) != VL_OK)) {
            vl_repo_close(repo);
            return cli_fail(&err);
        }
        vl_repo_close(repo);
    }
    /* The modes as they came out: the user's umask may narrow them. */
    vl_shared_modes want, got;
    char folders[8], files[8], committed[8];
    vl_shared_mode_bits(ro.shared, 0, &want);
    vl_shared_mode_bits(ro.shared, 1, &got);
    snprintf(folders, sizeof folders, "%04o", (unsigned)got.folders);
    snprintf(files, sizeof files, "%04o", (unsigned)got.files);
    snprintf(committed, sizeof committed, "%04o", (unsigned)got.committed);
    if (c.json)
        cli_print_json(json_pack("{s:s, s:s?, s:s, s:s, s:{s:s, s:s, s:s}}",
                                 "repository", dir, "store", ro.store_url,
                                 "digest", vl_digest_name(ro.digest), "shared",
                                 vl_shared_name(ro.shared), "modes", "folders",
                                 folders, "files", files, "committed", committed));
    else
        printf("initialized repository %s (inventory digest %s)\n"
               "shared = %s: folders %s, files %s, committed files %s\n", dir,
               vl_digest_name(ro.digest), vl_shared_name(ro.shared), folders,
               files, committed);
    if (ro.store_url && !c.json)
        printf("storage root: %s\n", ro.store_url);
    /* Narrowing a private repository further is the user's choice; a group
     * or world one that its readers cannot use is probably not. */
    if (ro.shared != VL_SHARED_PRIVATE && (got.files != want.files ||
                                           got.folders != want.folders))
        fprintf(stderr, "vellum: warning: your umask narrows shared = %s to "
                "folders %s and files %s (not %04o and %04o); give everyone who "
                "uses this repository a umask of %s\n", vl_shared_name(ro.shared),
                folders, files, (unsigned)want.folders, (unsigned)want.files,
                ro.shared == VL_SHARED_GROUP ? "0007 or 0002" : "0022");
    return CLI_EXIT_OK;
}
