/* vellum config: show or change repository settings. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "vl_fixity.h"

static const char usage[] =
    "usage: vellum config [KEY [VALUE]] [--repo DIR] [--json]\n"
    "\n"
    "With no KEY, print every setting, and the defaults of those not set\n"
    "(marked \"(default)\"; --json: one object, key to value); with KEY, print\n"
    "its value (exit 1 when it is not set; --json: {\"key\", \"value\"}); with\n"
    "KEY VALUE, set it.  Keys: user.name, user.address (default depositor), schemas (path\n"
    "of the XML schemas), audit.interval_days (default 90),\n"
    "audit.max_bytes_per_run (bytes, or with K, M, G, T) and\n"
    "audit.max_seconds_per_run (budgets of `vellum audit --due`; 0 or unset =\n"
    "none);\n"
    "ingest.reserve (free space deposits leave on the staging filesystem: a\n"
    "percentage of it or a size; default 1%, never under 4 MiB);\n"
    "shared (private, group or world: the modes of files and folders made from\n"
    "now on; existing ones keep theirs);\n"
    "pronom.signatures and pronom.containers (the DROID signature file and the\n"
    "container signature file deposits are identified with; a signature file\n"
    "is loaded before it is set);\n"
    "replicate.after_ingest (true: each deposit goes to every replica as soon\n"
    "as it is stored) and replicate.min_copies (verified copies an object\n"
    "should have, 1-100; default 2 once there is a replica, else 1; reports\n"
    "name objects with fewer).\n"
    "digest, fixity and catalog are fixed at init (catalog: the PostgreSQL\n"
    "URL, any password in it shown as ***; default the SQLite file\n"
    "catalog.sqlite).\n";

static const char *const settable[] = {"user.name", "user.address", "schemas",
                                       "audit.interval_days",
                                       "audit.max_bytes_per_run",
                                       "audit.max_seconds_per_run",
                                       VL_RESERVE_KEY, "shared",
                                       VL_CONF_PRONOM_SIGNATURES,
                                       VL_CONF_PRONOM_CONTAINERS,
                                       "replicate.after_ingest",
                                       "replicate.min_copies", "s3.endpoint",
                                       "s3.region", "s3.credentials",
                                       "s3.tls_verify", "s3.parallel",
                                       "s3.retries", NULL};

/* The PRONOM files a repository would have after setting key to value must
 * load together (so that no deposit meets a bad one); they are compiled
 * into REPO/cache on the way, so that the first deposit starts at once.
 * Only a container file set before any signature file is merely checked
 * to be a readable file.  Prints the reason; 0 when good. */
static int pronom_file_bad(vl_repo *repo, const char *key, const char *value)
{
    vl_error err = {0};
    vl_signatures *sigs = NULL;
    struct stat st;
    int is_sigs = !strcmp(key, VL_CONF_PRONOM_SIGNATURES);
    const char *sig = is_sigs ? value : vl_repo_config_get(repo, VL_CONF_PRONOM_SIGNATURES);
    const char *cont = is_sigs ? vl_repo_config_get(repo, VL_CONF_PRONOM_CONTAINERS) : value;
    char *cache = NULL;
    int bad = 0;
    if (stat(value, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "vellum config: %s: cannot read '%s': %s\n", key,
                cli_text(value), errno ? strerror(errno) : "not a file");
        return 1;
    }
    if (!sig || !*sig)
        return 0;
    if (cont && !*cont)
        cont = NULL;
    cache = vl_path_join(vl_repo_dir(repo), VL_CACHE_DIR);
    if (cache && mkdir(cache, 0777) != 0 && errno != EEXIST) {
        free(cache);   /* no cache is only slower */
        cache = NULL;
    }
    if (vl_signatures_open(sig, cont, cache, &sigs, &err) != VL_OK) {
        fprintf(stderr, "vellum config: %s\n", cli_text(err.msg));
        bad = 1;
    }
    vl_signatures_close(sigs);
    free(cache);
    return bad;
}

/* Settings with a format are checked here so that a nightly audit or a
 * deposit never meets a bad one; 0 when value suits key. */
static int value_bad(const char *key, const char *value)
{
    char *end;
    uint64_t size;
    vl_shared shared;
    if (!strcmp(key, "shared"))
        return vl_shared_parse(value, &shared) != 0;
    if (!strcmp(key, "audit.interval_days")) {
        long d = strtol(value, &end, 10);
        return end == value || *end || d < 1 || d > 36500;
    }
    if (!strcmp(key, "audit.max_bytes_per_run"))
        return vl_audit_parse_size(value, &size) != 0;
    if (!strcmp(key, "audit.max_seconds_per_run")) {
        double v = strtod(value, &end);
        return end == value || *end || !(v >= 0) || v > 1e9;
    }
    if (!strcmp(key, VL_RESERVE_KEY))
        return vl_reserve_parse(value, 0, &size) != 0;
    if (!strcmp(key, "replicate.after_ingest"))
        return strcmp(value, "true") && strcmp(value, "false");
    if (!strcmp(key, "replicate.min_copies")) {
        long n = strtol(value, &end, 10);
        return end == value || *end || n < 1 || n > 100;
    }
    if (!strcmp(key, "s3.tls_verify"))
        return strcmp(value, "true") && strcmp(value, "false");
    if (!strcmp(key, "s3.parallel") || !strcmp(key, "s3.retries")) {
        long n = strtol(value, &end, 10);
        return end == value || *end || n < 0 || n > (key[3] == 'p' ? 64 : 20) ||
               (key[3] == 'p' && n < 1);
    }
    if (!strcmp(key, "s3.endpoint"))
        return strncmp(value, "http://", 7) && strncmp(value, "https://", 8);
    return 0;
}

/* What a key that is not set means (static or buf), or NULL. */
static const char *default_of(vl_repo *repo, const char *key, char *buf, size_t n)
{
    vl_error err = {0};
    if (!strcmp(key, "user.name")) {   /* as ingest falls back to it */
        struct passwd *pw = getpwuid(geteuid());
        return pw && pw->pw_name ? pw->pw_name : NULL;
    }
    if (!strcmp(key, "audit.interval_days")) {
        int days;
        uint64_t bytes;
        double secs;
        if (vl_audit_config(repo, &days, &bytes, &secs, &err) != VL_OK)
            return NULL;
        snprintf(buf, n, "%d", days);
        return buf;
    }
    if (!strcmp(key, "audit.max_bytes_per_run") ||
        !strcmp(key, "audit.max_seconds_per_run"))
        return "0";
    if (!strcmp(key, VL_RESERVE_KEY))
        return VL_RESERVE_DEFAULT;
    if (!strcmp(key, "shared"))
        return "private";
    if (!strcmp(key, "replicate.after_ingest"))
        return "false";
    if (!strcmp(key, "replicate.min_copies")) {
        int copies;
        if (vl_copies_min(repo, &copies, &err) != VL_OK)
            return NULL;
        snprintf(buf, n, "%d", copies);
        return buf;
    }
    return NULL;
}

/* A secret is never printed, only that it is set. */
static const char *secret_masked(const char *key, const char *value)
{
    if (value && (strstr(key, "secret") || strstr(key, "password")))
        return "******** (set)";
    return value;
}

CLI_COMMAND(config)
{
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    int rc;
    if ((rc = cli_common_options_only("config", usage, argc, argv, &c)) != CLI_CONTINUE)
        return rc;
    int nargs = argc - optind;
    if (nargs > 2)
        return cli_usage_error("config", "give at most KEY and VALUE");
    if (nargs == 2) {
        int ok = 0;
        for (int i = 0; settable[i]; i++)
            ok |= !strcmp(settable[i], argv[optind]);
        if (!ok)
            return cli_usage_error("config", "'%s' cannot be set here", argv[optind]);
        if (value_bad(argv[optind], argv[optind + 1]))
            return cli_usage_error("config", "'%s' is not a valid %s",
                                   argv[optind + 1], argv[optind]);
    }
    if ((rc = cli_open_repo_mode(&c, nargs == 2 ? VL_OPEN_WRITE : VL_OPEN_READ,
                                 &repo)) != CLI_EXIT_OK)
        return rc;
    if (nargs == 2) {
        /* a file is kept by its absolute path: deposits run from anywhere */
        char *abs = !strncmp(argv[optind], "pronom.", 7) ? realpath(argv[optind + 1], NULL)
                                                         : NULL;
        if (!strncmp(argv[optind], "pronom.", 7) &&
            pronom_file_bad(repo, argv[optind], abs ? abs : argv[optind + 1])) {
            free(abs);
            vl_repo_close(repo);
            return CLI_EXIT_USAGE;
        }
        if (vl_repo_config_set(repo, argv[optind], abs ? abs : argv[optind + 1],
                               &err) != VL_OK)
            rc = cli_fail(&err);
        else if (c.json)
            cli_print_json(json_pack("{s:s, s:s}", "key", argv[optind], "value",
                                     abs ? abs : argv[optind + 1]));
        if (rc == CLI_EXIT_OK && !strcmp(argv[optind], "shared"))
            fprintf(stderr, "vellum: note: shared = %s applies to files and folders "
                    "made from now on; existing ones keep their modes\n",
                    argv[optind + 1]);
        free(abs);
    } else if (nargs == 1) {
        const char *v = secret_masked(argv[optind], vl_repo_config_get(repo, argv[optind]));
        char *masked = NULL;
        if (v && !strcmp(argv[optind], "catalog.password"))
            v = "***";
        if (v && !strcmp(argv[optind], "catalog")) {
            if (!(masked = vl_catalog_url_mask(v))) {
                vl_repo_close(repo);
                vl_error_oom(&err);
                return cli_fail(&err);
            }
            v = masked;
        }
        if (c.json)
            cli_print_json(json_pack("{s:s, s:s?}", "key", argv[optind], "value", v));
        else if (v)
            printf("%s\n", cli_text(v));
        if (!v)
            rc = CLI_EXIT_FINDINGS;   /* like git config: unset is exit 1 */
        free(masked);
    } else {
        const char *keys[] = {"digest", "fixity", "user.name", "user.address",
                              "schemas", "audit.interval_days",
                              "audit.max_bytes_per_run",
                              "audit.max_seconds_per_run", VL_RESERVE_KEY,
                              "shared", VL_CONF_PRONOM_SIGNATURES,
                              VL_CONF_PRONOM_CONTAINERS, "replicate.after_ingest",
                              "replicate.min_copies", "catalog",
                              "catalog.password", "store", "s3.endpoint",
                              "s3.region", "s3.credentials", "s3.tls_verify",
                              "s3.parallel", "s3.retries", "s3.access_key_id",
                              "s3.secret_access_key", NULL};
        json_t *all = c.json ? json_object() : NULL;
        for (int i = 0; keys[i]; i++) {
            char buf[32];
            char *masked = NULL;
            const char *v = secret_masked(keys[i], vl_repo_config_get(repo, keys[i]));
            /* a password, should one be there, is never shown */
            if (v && !strcmp(keys[i], "catalog") && !(v = masked = vl_catalog_url_mask(v)))
                v = "***";
            if (v && !strcmp(keys[i], "catalog.password"))
                v = "***";
            const char *d = v ? NULL : default_of(repo, keys[i], buf, sizeof buf);
            if (all && (v || d))
                json_object_set_new(all, keys[i], json_string(v ? v : d));
            else if (v)
                printf("%s = %s\n", keys[i], cli_text(v));
            else if (d)
                printf("%s = %s (default)\n", keys[i], cli_text(d));
            free(masked);
        }
        if (all)
            cli_print_json(all);
    }
    vl_repo_close(repo);
    return rc;
}
