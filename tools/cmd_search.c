/* vellum search: objects whose descriptive metadata holds some text. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum search TEXT [--repo DIR] [--json]\n"
    "\n"
    "Find objects whose title, creator, subject, date or identifier (Dublin\n"
    "Core, from --dc, --metadata DC or MODS, or bag-info.txt) contains TEXT,\n"
    "ignoring case.  One line an object: id, head version, the field that\n"
    "matched and its value, and the title.  When nothing matches it says so\n"
    "on standard error (--json: an empty list).\n";

struct search_ctx {
    json_t *rows;
    size_t n;
};

static int print_row(void *arg, const vl_catalog_listing *l)
{
    struct search_ctx *s = arg;
    s->n++;
    if (s->rows) {
        json_t *o = cli_listing_json(l);
        json_object_set_new(o, "matched", json_pack("{s:s?, s:s?}", "element",
                            l->match_element, "value", l->match_value));
        json_array_append_new(s->rows, o);
    } else {
        printf("%s\tv%d\t%s: %s\t%s\n", cli_text(l->object.id), l->object.head,
               cli_text(l->match_element), cli_text(l->match_value),
               l->title ? cli_text(l->title) : "-");
    }
    return 0;
}

CLI_COMMAND(search)
{
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    int rc;
    if ((rc = cli_common_options_only("search", usage, argc, argv, &c)) != CLI_CONTINUE)
        return rc;
    if (optind + 1 != argc)
        return cli_usage_error("search", "give one TEXT to look for");
    if (!argv[optind][0])
        return cli_usage_error("search", "TEXT is empty");
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    vl_catalog_list_filter f = {.text = argv[optind]};
    struct search_ctx s = {c.json ? json_array() : NULL, 0};
    if (vl_catalog_list(vl_repo_catalog(repo), &f, print_row, &s, &err) != VL_OK) {
        json_decref(s.rows);
        rc = cli_fail(&err);
        goto done;
    }
    if (s.rows)
        cli_print_json(s.rows);
    else if (!s.n && !c.quiet)
        fprintf(stderr, "vellum search: no object's title, creator, subject, date "
                "or identifier contains \"%s\"\n", cli_text(argv[optind]));
    rc = CLI_EXIT_OK;
done:
    vl_repo_close(repo);
    return rc;
}
