/* vellum diff: files added, removed, changed and renamed between two
 * versions of an object (vl_inventory_diff). */
#include "cli.h"

static const char usage[] =
    "usage: vellum diff ID [vA [vB]] [--repo DIR] [--json]\n"
    "\n"
    "Compare two versions of an object from its inventory: vA to vB, vA to\n"
    "the head, or (no version) the version before the head to the head.\n"
    "One line a file: A path (added), D path (removed), M path (changed:\n"
    "same path, other digest), R old -> new (renamed: same digest).\n";

struct diff_ctx {
    int json, failed;   /* failed: a row could not be made (memory) */
    size_t rows;        /* --json: rows printed */
    size_t counts[4];   /* A, D, M, R */
};

/* --json streams its "changes" rows as they come (a version of a million
 * files may change them all), laid out as jansson lays them out two
 * levels down; "counts" and the rest follow, keys in sorted order. */
static int json_row(struct diff_ctx *d, json_t *row)
{
    if (!row)
        return -1;
    fputs(d->rows++ ? ",\n    " : "{\n  \"changes\": [\n    ", stdout);
    return cli_print_json_element(row, "    ");
}

static int print_entry(void *arg, const vl_diff_entry *e)
{
    struct diff_ctx *d = arg;
    int k = e->kind == VL_DIFF_ADDED ? 0 : e->kind == VL_DIFF_REMOVED ? 1
            : e->kind == VL_DIFF_CHANGED ? 2 : 3;
    d->counts[k]++;
    static const char *const names[] = {"added", "removed", "changed", "renamed"};
    if (d->json) {
        d->failed = json_row(d, json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "change",
                                          names[k], "path", e->path, "from", e->old_path,
                                          "digest", e->digest, "old_digest",
                                          e->old_digest)) != 0;
        return d->failed;
    } else if (e->kind == VL_DIFF_RENAMED) {
        printf("R %s -> %s\n", cli_text(e->old_path), cli_text(e->path));
    } else {
        printf("%c %s\n", (char)e->kind, cli_text(e->path));
    }
    return 0;
}

CLI_COMMAND(diff)
{
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_inventory *inv = NULL;
    int rc, from = 0, to = 0;
    if ((rc = cli_common_options_only("diff", usage, argc, argv, &c)) != CLI_CONTINUE)
        return rc;
    int nargs = argc - optind;
    if (nargs < 1 || nargs > 3)
        return cli_usage_error("diff", "give an object id and up to two versions");
    if ((rc = cli_check_id(argv[optind])) != CLI_EXIT_OK)
        return rc;
    const char *id = argv[optind];
    if (nargs >= 2 && (from = cli_parse_version(argv[optind + 1])) <= 0)
        return cli_usage_error("diff", "versions are vN, e.g. v2: not \"%s\"",
                               cli_text(argv[optind + 1]));
    if (nargs == 3 && (to = cli_parse_version(argv[optind + 2])) <= 0)
        return cli_usage_error("diff", "versions are vN, e.g. v2: not \"%s\"",
                               cli_text(argv[optind + 2]));
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    if (vl_repo_load_inventory(repo, id, &inv, &err) != VL_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    int head = vl_inventory_head(inv);
    if (to == 0)
        to = head;
    if (from == 0)
        from = head > 1 ? head - 1 : head;
    if (from > head || to > head) {
        rc = cli_usage_error("diff", "\"%s\" has no version v%d (head is v%d)",
                             cli_text(id), from > head ? from : to, head);
        goto done;
    }
    struct diff_ctx d = {c.json, 0, 0, {0, 0, 0, 0}};
    if (vl_inventory_diff(inv, from, to, print_entry, &d, &err) != VL_OK ||
        (d.failed && vl_error_oom(&err))) {
        if (d.rows)   /* end the cut-short document's line; stderr says why */
            fputs("\n", stdout);
        fflush(stdout);
        rc = cli_fail(&err);
        goto done;
    }
    if (c.json) {
        char fname[16], tname[16];
        vl_inventory_version_name(inv, from, fname);
        vl_inventory_version_name(inv, to, tname);
        json_t *rest = json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I}}", "object", id,
                                 "from", fname, "to", tname, "counts", "added",
                                 (json_int_t)d.counts[0], "removed",
                                 (json_int_t)d.counts[1], "changed",
                                 (json_int_t)d.counts[2], "renamed",
                                 (json_int_t)d.counts[3]);
        char *tail = rest ? json_dumps(rest, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        json_decref(rest);
        if (!tail) {
            if (d.rows)
                fputs("\n", stdout);
            vl_error_oom(&err);
            rc = cli_fail(&err);
            goto done;
        }
        /* tail is "{\n  \"counts\": ...": the rows' array goes before it */
        printf("%s,\n%s\n", d.rows ? "\n  ]" : "{\n  \"changes\": []", tail + 2);
        free(tail);
    }
    rc = CLI_EXIT_OK;
done:
    vl_inventory_free(inv);
    vl_repo_close(repo);
    return rc;
}
