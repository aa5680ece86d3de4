/* vellum ls: list the objects in the repository. */
#include "cli.h"

static const char usage[] =
    "usage: vellum ls [--repo DIR] [--json]\n"
    "\n"
    "List every object: id, head version, files and bytes of the head state,\n"
    "and when it was last changed.\n";

static int print_row(void *arg, const vl_catalog_object *o)
{
    json_t *arr = arg;
    if (arr) {
        json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:I, s:I, s:s?, s:s?}",
                              "id", o->id, "path", o->path, "head", o->head,
                              "files", (json_int_t)o->files, "bytes",
                              (json_int_t)o->bytes, "created", o->created,
                              "updated", o->updated));
    } else {
        char sz[32];
        cli_format_size(o->bytes, sz);
        printf("%s\tv%d\t%llu file%s\t%s\t%s\n", cli_text(o->id), o->head,
               (unsigned long long)o->files, o->files == 1 ? "" : "s", sz,
               o->updated ? o->updated : "");
    }
    return 0;
}

CLI_COMMAND(ls)
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
        return cli_option_error("ls", argv);
    }
    if (optind < argc)
        return cli_usage_error("ls", "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    json_t *arr = c.json ? json_array() : NULL;
    if (vl_catalog_objects(vl_repo_catalog(repo), print_row, arr, &err) != VL_OK) {
        json_decref(arr);
        rc = cli_fail(&err);
    } else if (arr) {
        cli_print_json(arr);
    }
    vl_repo_close(repo);
    return rc;
}
