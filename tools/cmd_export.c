/* vellum export: an object version as a METS package, a BagIt bag or an
 * OCFL object copy, in a folder or an archive. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "vl_metadata.h"

static const char usage[] =
    "usage: vellum export ID DEST --format mets|bagit|ocfl [--version vN]\n"
    "                     [--archive zip|tar|tar.gz|tgz|tar.xz|tar.bz2]\n"
    "                     [--repo DIR] [--json]\n"
    "\n"
    "Write the head version (or vN) of an object to the new name DEST:\n"
    "  mets   METS.xml, regenerated now with every event so far, and data/\n"
    "  bagit  a BagIt 1.0 bag (sha512 and sha256 manifests, bag-info.txt from\n"
    "         the Dublin Core and the donor's bag-info, METS.xml as a tag\n"
    "         file), checked after writing\n"
    "  ocfl   the OCFL object folder byte for byte, validated after copying\n"
    "A deposit that was a bag keeps the donor's tag files under metadata/bag/\n"
    "(mets and bagit too).  Files keep their deposited modification times.\n"
    "A DEST named .zip, .tar, .tar.gz/.tgz, .tar.xz or .tar.bz2 is written as\n"
    "that archive, holding one folder; --archive gives the kind for another\n"
    "name, and must agree with DEST's extension.\n"
    "Every digest is checked on the way out.  An existing DEST is refused;\n"
    "a failure leaves nothing behind.  Each export records a PREMIS\n"
    "\"dissemination\" event.\n";

static void bag_problem(void *arg, const char *message)
{
    fprintf(stderr, "vellum export: bag: %s\n", cli_text(message));
}

/* The bag checker lives in ingest/, above the exporter in metadata/. */
static int check_bag(void *arg, const char *dir, vl_error *err)
{
    return vl_bag_check_dir(dir, bag_problem, arg, err);
}

CLI_COMMAND(export)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"version", required_argument, NULL, 'v'},
        {"archive", required_argument, NULL, 'a'},
        CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_export_options eo = {0};
    vl_export_result res;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'f':
            eo.format = optarg;
            break;
        case 'v':
            if ((eo.version = cli_parse_version(optarg)) < 1)
                return cli_usage_error("export", "--version takes vN, e.g. v2");
            break;
        case 'a':
            eo.archive = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("export", argv);
        }
    }
    if (optind + 2 != argc)
        return cli_usage_error("export", "give an object id and a destination");
    if (!eo.format)
        return cli_usage_error("export", "give --format mets, bagit or ocfl");
    if (strcmp(eo.format, "mets") && strcmp(eo.format, "bagit") &&
        strcmp(eo.format, "ocfl"))
        return cli_usage_error("export", "--format takes mets, bagit or ocfl");
    if (eo.archive && strcmp(eo.archive, "zip") && strcmp(eo.archive, "tar") &&
        strcmp(eo.archive, "tar.gz") && strcmp(eo.archive, "tgz") &&
        strcmp(eo.archive, "tar.xz") && strcmp(eo.archive, "tar.bz2"))
        return cli_usage_error("export", "--archive takes zip, tar, tar.gz "
                               "(or tgz), tar.xz or tar.bz2");
    if ((rc = cli_check_id(argv[optind])) != CLI_EXIT_OK)
        return rc;
    eo.check_bag = check_bag;
    const char *id = argv[optind], *dest = argv[optind + 1];
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    if (vl_export(repo, id, dest, &eo, &res, &err) != VL_OK)
        rc = cli_fail_object(repo, id, &err);
    else if (c.json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:s?, s:i, s:I, s:I, s:I, s:I, s:I, "
                                 "s:s}",
                                 "id", id, "dest", dest, "format", eo.format,
                                 "archive", res.archive, "version", res.version,
                                 "files", (json_int_t)res.files, "bytes",
                                 (json_int_t)res.bytes, "object_files",
                                 (json_int_t)res.object_files, "object_bytes",
                                 (json_int_t)res.object_bytes, "metadata_files",
                                 (json_int_t)res.metadata_files, "event",
                                 res.event_id));
    else {
        /* The object counted as everywhere else; an OCFL copy also says
         * how many stored files (every version, inventories) it holds. */
        char counts[CLI_COUNTS_MAX];
        cli_format_counts(res.object_files, res.object_bytes, res.metadata_files,
                          counts);
        printf("%s v%d -> %s (%s%s%s, %s", cli_text(id), res.version,
               cli_text(dest), eo.format, res.archive ? ", " : "",
               res.archive ? res.archive : "", counts);
        if (!strcmp(eo.format, "ocfl"))
            printf("; %zu stored files copied", res.files);
        printf(", every digest verified)\n");
    }
    vl_repo_close(repo);
    return rc;
}
