/* vellum bag: check BagIt bags (validate) and make them (create), without a
 * repository. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum bag validate PATH... [--fast] [--json]\n"
    "       vellum bag create SRC DEST [--algorithm ALG]... [--info LABEL=VALUE]...\n"
    "                         [--dc FILE] [--json]\n"
    "\n"
    "BagIt bags (RFC 8493; 0.93-0.97 bags are read too), no repository needed.\n"
    "\n"
    "validate  check each PATH, a bag folder or an archive holding one (zip,\n"
    "          tar, tar.gz... with the bag at its top or in its one top folder):\n"
    "          bagit.txt, every payload and tag manifest (any digest OpenSSL\n"
    "          provides), fetch.txt, bag-info.txt and Payload-Oxum.  Problems go\n"
    "          to stdout as \"PATH: problem\", warnings to stderr.\n"
    "  --fast        sizes against Payload-Oxum only; no digests\n"
    "  --json        one object per PATH: valid, complete, problems, warnings\n"
    "\n"
    "create    make a BagIt 1.0 bag at DEST (which must not exist) from the\n"
    "          files of the folder SRC: built beside DEST, checked, fsynced and\n"
    "          renamed, so DEST is the whole bag or nothing.\n"
    "  --algorithm ALG     a payload and tag manifest in ALG (repeatable; sha512\n"
    "                      when none is given; md5, sha1, sha256, sha3-256...)\n"
    "  --info LABEL=VALUE  a bag-info.txt element (repeatable, in order);\n"
    "                      Bagging-Date (YYYY-MM-DD) replaces today's date\n"
    "  --dc FILE           bag-info.txt from a Dublin Core record (DC XML, or\n"
    "                      MODS or metadata.csv as ingest --metadata reads):\n"
    "                      title Title, creator Creator, publisher\n"
    "                      Source-Organization, description\n"
    "                      External-Description, identifier External-Identifier\n"
    "Bagging-Date, Bag-Software-Agent and Payload-Oxum are always written.\n"
    "\n"
    "Exit: 0 valid (or created), 1 invalid or incomplete, 2 usage or a PATH\n"
    "vellum cannot judge, 3 system error.\n";

/* ---- validate ------------------------------------------------------------ */

typedef struct one {
    const char *path;
    int json;
    json_t *problems, *warnings;
} one;

static void on_problem(void *arg, const char *msg)
{
    one *o = arg;
    if (o->json)
        json_array_append_new(o->problems, json_string(msg));
    else
        printf("%s: %s\n", cli_text(o->path), cli_text(msg));
}

static void on_warning(void *arg, const char *msg)
{
    one *o = arg;
    if (o->json)
        json_array_append_new(o->warnings, json_string(msg));
    else {
        fflush(stdout);   /* in order when both go to one place */
        fprintf(stderr, "vellum: warning: %s: %s\n", cli_text(o->path),
                cli_text(msg));
    }
}

static int validate_one(const char *path, int fast, int json, json_t *out)
{
    one o = {path, json, json_array(), json_array()};
    vl_bag_check_options opt = {0};
    vl_bag_check_result res;
    vl_error err = {0};
    const char *status;
    char size[32];
    int rc;

    opt.fast = fast;
    opt.problem = on_problem;
    opt.warn = on_warning;
    opt.arg = &o;
    rc = vl_bag_check_path(path, &opt, &res, &err);
    status = rc == VL_OK ? "valid" : rc == VL_FINDING ? "invalid"
           : rc == VL_EINPUT ? "unusable" : "error";
    cli_format_size(res.bytes, size);
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:b, s:b, s:s?, s:I, s:I, s:I, s:o, "
                              "s:o, s:s?}", "path", path, "status", status,
                              "valid", rc == VL_OK, "fast", fast, "version",
                              res.version[0] ? res.version : NULL, "files",
                              (json_int_t)res.files, "bytes",
                              (json_int_t)res.bytes, "to_fetch",
                              (json_int_t)res.to_fetch, "problems",
                              o.problems, "warnings", o.warnings, "error",
                              rc == VL_OK ? NULL : err.msg);
        if (j) {
            json_object_set_new(j, "complete", res.complete < 0
                                ? json_null() : json_boolean(res.complete));
            json_array_append_new(out, j);
        }
        return rc;
    }
    json_decref(o.problems);
    json_decref(o.warnings);
    if (rc == VL_OK && fast)
        printf("%s: Payload-Oxum matches (BagIt %s, %zu file%s, %s; digests "
               "not checked)\n", cli_text(path), res.version, res.files,
               res.files == 1 ? "" : "s", size);
    else if (rc == VL_OK)
        printf("%s: valid (BagIt %s, %zu file%s, %s)\n", cli_text(path),
               res.version, res.files, res.files == 1 ? "" : "s", size);
    else if (rc == VL_FINDING && res.to_fetch)
        printf("%s: incomplete: %zu file%s that fetch.txt lists %s still to be "
               "fetched\n", cli_text(path), res.to_fetch,
               res.to_fetch == 1 ? "" : "s", res.to_fetch == 1 ? "is" : "are");
    else if (rc == VL_FINDING)
        printf("%s: invalid: %s\n", cli_text(path), cli_text(err.msg));
    else {
        fflush(stdout);
        cli_fail(&err);
    }
    return rc;
}

static int cmd_validate_bags(int argc, char **argv)
{
    static const struct option opts[] = {
        {"fast", no_argument, NULL, 'F'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    int opt, fast = 0, worst = CLI_EXIT_OK;
    json_t *out = NULL;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'F': fast = 1; break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("bag validate", argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error("bag validate", "give at least one bag folder "
                               "or archive");
    if (c.json && !(out = json_array()))
        return CLI_EXIT_SYSTEM;
    for (int i = optind; i < argc; i++) {
        int rc = validate_one(argv[i], fast, c.json, out);
        if (rc > worst)
            worst = rc;
    }
    if (c.json)
        cli_print_json(out);
    return worst;
}

/* ---- create -------------------------------------------------------------- */

static void create_warning(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "vellum: warning: %s\n", cli_text(msg));
}

static int cmd_create_bag(int argc, char **argv)
{
    static const struct option opts[] = {
        {"algorithm", required_argument, NULL, 'a'},
        {"info", required_argument, NULL, 'i'},
        {"dc", required_argument, NULL, 'D'},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_bag_create_options o = {0};
    vl_bag_create_result res;
    vl_error err = {0};
    const char **algs = NULL, **labels = NULL, **values = NULL;
    size_t nalg = 0, ninfo = 0;
    int opt, rc = CLI_EXIT_OK;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'a': {
            const char **na = realloc(algs, (nalg + 1) * sizeof *na);
            if (!na) {
                rc = CLI_EXIT_SYSTEM;
                goto done;
            }
            algs = na;
            algs[nalg++] = optarg;
            break;
        }
        case 'i': {
            char *eq = strchr(optarg, '=');
            const char **nl, **nv;
            if (!eq) {
                rc = cli_usage_error("bag create", "--info takes LABEL=VALUE, "
                                     "not \"%s\"", optarg);
                goto done;
            }
            nl = realloc(labels, (ninfo + 1) * sizeof *nl);
            if (nl)
                labels = nl;
            nv = realloc(values, (ninfo + 1) * sizeof *nv);
            if (nv)
                values = nv;
            if (!nl || !nv) {
                rc = CLI_EXIT_SYSTEM;
                goto done;
            }
            *eq = '\0';
            labels[ninfo] = optarg;
            values[ninfo++] = eq + 1;
            break;
        }
        case 'D': o.dc_path = optarg; break;
        case 'h':
            fputs(usage, stdout);
            goto done;
        default:
            rc = cli_option_error("bag create", argv);
            goto done;
        }
    }
    if (argc - optind != 2) {
        rc = cli_usage_error("bag create", "give the folder to bag and the "
                             "bag to make: SRC DEST");
        goto done;
    }
    o.algorithms = algs;
    o.nalgorithms = nalg;
    o.info_labels = labels;
    o.info_values = values;
    o.ninfo = ninfo;
    o.warn = create_warning;
    if ((rc = vl_bag_create(argv[optind], argv[optind + 1], &o, &res, &err)) !=
        VL_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    if (c.json) {
        json_t *a = json_array();
        for (size_t i = 0; i < (nalg ? nalg : 1); i++)
            json_array_append_new(a, json_string(nalg ? algs[i] : "sha512"));
        cli_print_json(json_pack("{s:s, s:s, s:I, s:I, s:o}", "path",
                                 argv[optind + 1], "version", "1.0", "files",
                                 (json_int_t)res.files, "bytes",
                                 (json_int_t)res.bytes, "algorithms", a));
    } else {
        char size[32];
        cli_format_size(res.bytes, size);
        printf("%s: BagIt 1.0 bag created (%zu file%s, %s)\n",
               cli_text(argv[optind + 1]), res.files,
               res.files == 1 ? "" : "s", size);
    }
done:
    free(algs);
    free(labels);
    free(values);
    return rc;
}

CLI_COMMAND(bag)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "validate"))
        return cmd_validate_bags(argc - 1, argv + 1);
    if (!strcmp(argv[1], "create"))
        return cmd_create_bag(argc - 1, argv + 1);
    return cli_usage_error("bag", "'%s' is not a bag command (validate, "
                           "create)", argv[1]);
}
