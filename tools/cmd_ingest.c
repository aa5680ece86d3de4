/* vellum ingest: deposit folders or files as a new object or version. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum ingest SOURCE... [--id ID] [--message TEXT]\n"
    "                     [--user-name NAME --user-address URI] [--merge] [--stage]\n"
    "                     [--manifest FILE] [--symlinks refuse|skip]\n"
    "                     [--expand-nested] [--no-unpack] [--no-identify]\n"
    "                     [--not-a-bag] [--dc ELEMENT=VALUE]... [--metadata FILE]\n"
    "                     [--max-bytes N[K|M|G|T]] [--repo DIR] [--json] [--quiet]\n"
    "\n"
    "Deposit SOURCEs (folders, files, archives, BagIt bags as folders or\n"
    "archives) as one new version.  A new id (or none: one is minted as\n"
    "urn:uuid:...) makes v1; an existing id makes a new version whose state is\n"
    "the sources, or with --merge the head state with the sources' files added\n"
    "or replaced.  Files land under data/ (a bag's tag files under\n"
    "metadata/bag/).  A deposit that changes nothing writes no version.\n"
    "  --stage           stage the deposit in the object's mutable head (OCFL\n"
    "                    extension 0005-mutable-head) instead of making a\n"
    "                    version: each staged deposit is a revision (r1, r2,\n"
    "                    ...) of one version N+1, which 'vellum commit ID'\n"
    "                    turns into vN+1.  It starts from the staged head's\n"
    "                    state when there is one (else the head version's);\n"
    "                    as without --stage, the sources are the new state,\n"
    "                    or with --merge are added to it.  A new id gets an\n"
    "                    empty v1 first.  While a head is staged, deposits\n"
    "                    without --stage into the object are refused.\n"
    "  --manifest FILE   donor checksums (md5sum/sha*sum output or a BagIt\n"
    "                    manifest): any mismatch, missing or unlisted file\n"
    "                    refuses the whole deposit\n"
    "  --symlinks skip   leave symbolic and hard links out with a warning\n"
    "                    (default: refuse the deposit)\n"
    "  --expand-nested   unpack archives found inside archives\n"
    "  --no-unpack       keep archive sources as files\n"
    "  --no-identify     skip format identification\n"
    "  --not-a-bag       the source is no BagIt bag: deposit it as an ordinary\n"
    "                    folder or archive (a folder with data/ and\n"
    "                    manifest-*.txt but no bagit.txt is otherwise refused\n"
    "                    as a broken bag)\n"
    "  --max-bytes N     refuse deposits (or archives expanding) past N bytes\n"
    "  --dc ELEMENT=VALUE  Dublin Core for the whole deposit (repeatable; the 15\n"
    "                    DC elements: title, creator, subject, description, ...)\n"
    "  --metadata FILE   a DC XML record, a MODS record, or a metadata.csv\n"
    "                    (filename + dc.* columns; a row for objects/ or data/\n"
    "                    describes the whole deposit)\n";

struct progress_state {
    double start;   /* vl_time_mono */
    int shown;
};

static void show_progress(void *arg, const vl_ingest_progress *p)
{
    struct progress_state *s = arg;
    double secs = vl_time_mono() - s->start;
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
    fprintf(stderr, "vellum: warning: %s\n", cli_text(msg));
}

/* A problem that refuses the deposit. */
static void show_problem(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "vellum: error: %s\n", cli_text(msg));
}

CLI_COMMAND(ingest)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},
        {"message", required_argument, NULL, 'm'},
        {"user-name", required_argument, NULL, 'n'},
        {"user-address", required_argument, NULL, 'a'},
        {"merge", no_argument, NULL, 'M'},
        {"stage", no_argument, NULL, 'S'},
        {"manifest", required_argument, NULL, 'f'},
        {"symlinks", required_argument, NULL, 's'},
        {"expand-nested", no_argument, NULL, 'E'},
        {"no-unpack", no_argument, NULL, 'U'},
        {"no-identify", no_argument, NULL, 'I'},
        {"not-a-bag", no_argument, NULL, 'N'},
        {"max-bytes", required_argument, NULL, 'B'},
        {"dc", required_argument, NULL, 'D'},
        {"metadata", required_argument, NULL, 'T'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_ingest_options o = {0};
    vl_ingest_result res;
    struct progress_state ps = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    const char **dcs = NULL;
    size_t ndc = 0;
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
        case 'S': o.stage = 1; break;
        case 'f': o.manifest_path = optarg; break;
        case 's':
            if (!strcmp(optarg, "skip"))
                o.symlinks_skip = 1;
            else if (strcmp(optarg, "refuse") != 0)
                return cli_usage_error("ingest", "--symlinks takes refuse or skip");
            break;
        case 'E': o.expand_nested = 1; break;
        case 'U': o.no_unpack = 1; break;
        case 'I': o.no_identify = 1; break;
        case 'N': o.not_a_bag = 1; break;
        case 'D': {
            const char **nd = realloc(dcs, (ndc + 1) * sizeof *nd);
            if (!nd)
                return CLI_EXIT_SYSTEM;
            dcs = nd;
            dcs[ndc++] = optarg;
            break;
        }
        case 'T': o.metadata_path = optarg; break;
        case 'B':
            if (vl_size_parse(optarg, &o.max_bytes) != 0)
                return cli_usage_error("ingest", "--max-bytes takes a size like 500M");
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("ingest", argv);
        }
    }
    o.dc = dcs;
    o.ndc = ndc;
    if (optind >= argc) {
        free(dcs);
        return cli_usage_error("ingest", "give at least one folder or file to deposit");
    }
    /* Refused before anything is read: a deposit can be long. */
    if (o.id && (rc = cli_check_id(o.id)) != CLI_EXIT_OK) {
        free(dcs);
        return rc;
    }
    if (o.user_address && !o.user_name)
        return cli_usage_error("ingest", "--user-address needs --user-name");
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    if (!o.user_name) { /* the repository's default depositor, if set */
        o.user_name = vl_repo_config_get(repo, "user.name");
        o.user_address = vl_repo_config_get(repo, "user.address");
    }
    if (!o.user_name) { /* else the account that ran the deposit */
        struct passwd *pw = getpwuid(geteuid());
        o.user_name = pw && pw->pw_name ? pw->pw_name : "unknown";
    }
    if (!o.message)
        o.message = "Deposit by vellum ingest";
    o.warn = show_warning;
    o.problem = show_problem;
    if (cli_progress_enabled(&c)) {
        ps.start = vl_time_mono();
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
        json_t *out = json_pack("{s:s, s:i, s:b, s:I, s:I, s:I, s:I, s:s?, s:I, s:I, "
                                 "s:s?}",
                                 "id", res.id,
                                 "version", res.version, "changed", res.version > 0,
                                 "files", (json_int_t)res.files, "bytes",
                                 (json_int_t)res.bytes, "metadata_files",
                                 (json_int_t)(res.version > 0 ? 1 : 0), "warnings",
                                 (json_int_t)res.warnings, "bag_version",
                                 res.bag_version[0] ? res.bag_version : NULL,
                                 "replicas_updated", (json_int_t)res.replicas_updated,
                                 "replicas_refused", (json_int_t)res.replicas_refused,
                                 "replica_problem",
                                 res.replica_problem[0] ? res.replica_problem : NULL);
        /* staged: the head's version and this deposit's revision */
        if (out && o.stage) {
            json_object_set_new(out, "staged", json_true());
            json_object_set_new(out, "revision", res.revision > 0
                                                     ? json_integer(res.revision)
                                                     : json_null());
        }
        cli_print_json(out);
    } else if (res.version == 0) {
        printf("%s: no changes; no version written\n", cli_text(res.id));
    } else {
        char counts[CLI_COUNTS_MAX];
        /* every version carries the METS.xml vellum wrote */
        cli_format_counts(res.files, res.bytes, 1, counts);
        if (o.stage)
            printf("%s v%d staged, revision r%d (%s); 'vellum commit %s' makes it a "
                   "version\n", cli_text(res.id), res.version, res.revision, counts,
                   cli_text(res.id));
        else
            printf("%s v%d (%s)\n", cli_text(res.id), res.version, counts);
        if (res.replicas_updated && !c.quiet)
            printf("replicated to %zu replica%s\n", res.replicas_updated,
                   res.replicas_updated == 1 ? "" : "s");
    }
    /* A version without an address draws validate's W008: say once how to
     * give one, as git does for a missing user.email. */
    if (res.version > 0 && !o.user_address && !c.quiet)
        fprintf(stderr, "vellum: note: no depositor address: this version names "
                "'%s' with no address (validate warns W008); set them with "
                "'vellum config user.name NAME' and 'vellum config user.address "
                "mailto:...'\n", cli_text(o.user_name));
    if (res.replica_problem[0])
        fprintf(stderr, "vellum: warning: the deposit is stored, but not replicated: "
                "%s; run 'vellum replicate %s'\n", cli_text(res.replica_problem),
                cli_text(res.id));
done:
    free(dcs);
    vl_repo_close(repo);
    return rc;
}
