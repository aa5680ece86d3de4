/* vellum ls: list the objects in the repository. */
#include <string.h>

#include "cli.h"
#include "vl_fixity.h"

static const char usage[] =
    "usage: vellum ls [--failed] [--due] [--repo DIR] [--json]\n"
    "\n"
    "List every object: id, head version, files and bytes of the head state,\n"
    "when it was last changed, its latest audit (pass, FAIL or never) and its\n"
    "title (dc:title, from --dc, --metadata or bag-info.txt).\n"
    "  --failed   only objects whose latest audit failed\n"
    "  --due      only objects due for audit: never audited, or last audited\n"
    "             more than audit.interval_days ago\n"
    "'vellum search TEXT' finds objects by their descriptive metadata.\n";

static int print_row(void *arg, const vl_catalog_listing *l)
{
    json_t *arr = arg;
    const vl_catalog_object *o = &l->object;
    if (arr) {
        json_array_append_new(arr, cli_listing_json(l));
    } else {
        char counts[CLI_COUNTS_MAX], audit[64];
        cli_format_counts(o->files, o->bytes, o->metadata_files, counts);
        cli_audit_result(l->last_outcome, l->last_audit, audit, sizeof audit);
        printf("%s\tv%d\t%s\t%s\t%s\t%s\n", cli_text(o->id), o->head, counts,
               o->updated ? o->updated : "", audit, l->title ? cli_text(l->title) : "-");
    }
    return 0;
}

CLI_COMMAND(ls)
{
    static const struct option opts[] = {
        {"failed", no_argument, NULL, 'f'}, {"due", no_argument, NULL, 'd'},
        CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_catalog_list_filter f = {0};
    int opt, rc, due = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'f':
            f.failed = 1;
            break;
        case 'd':
            due = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("ls", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("ls", "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    if (due && vl_audit_due_cutoff(repo, &f.due_cutoff, &err) != VL_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    json_t *arr = c.json ? json_array() : NULL;
    if (vl_catalog_list(vl_repo_catalog(repo), &f, print_row, arr, &err) != VL_OK) {
        json_decref(arr);
        rc = cli_fail(&err);
    } else if (arr) {
        cli_print_json(arr);
    }
done:
    vl_repo_close(repo);
    return rc;
}
