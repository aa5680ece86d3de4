/* vellum replica: add, list and forget replicas (other storage roots that
 * hold copies of every object). */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum replica add NAME FOLDER [--repo DIR] [--json]\n"
    "       vellum replica ls [--repo DIR] [--json]\n"
    "       vellum replica rm NAME [--repo DIR]\n"
    "\n"
    "A replica is a complete OCFL storage root in its own folder, ideally on\n"
    "another disk, holding copies of the repository's objects under the same\n"
    "layout; any OCFL tool can read it.  'add' makes a new or empty FOLDER a\n"
    "storage root (or takes an earlier replica with the same layout); copies\n"
    "arrive with 'vellum replicate'.  'ls' lists replicas with the objects each\n"
    "holds at the primary's head and when they were last verified.  'rm'\n"
    "forgets a replica; its folder is left as it is.\n";

struct ls_ctx {
    vl_repo *repo;
    json_t *list;
    int rc;
};

struct copy_counts {
    const char *name;
    size_t held, verified, failed;
};

static int count_copy(void *arg, const vl_copy_row *row)
{
    struct copy_counts *cc = arg;
    if (strcmp(row->copy, cc->name))
        return 0;
    if (row->version > 0)
        cc->held++;
    if (row->outcome && !strcmp(row->outcome, "pass"))
        cc->verified++;
    if (row->outcome && !strcmp(row->outcome, "fail"))
        cc->failed++;
    return 0;
}

static int print_replica(void *arg, const vl_replica_info *ri)
{
    struct ls_ctx *c = arg;
    struct copy_counts cc = {.name = ri->name};
    vl_error err = {0};
    vl_backend *b = NULL;
    int reachable = vl_copy_backend(c->repo, ri->name, &b, &err) == VL_OK;
    if (vl_catalog_copies(vl_repo_catalog(c->repo), NULL, count_copy, &cc,
                          &err) != VL_OK) {
        c->rc = cli_fail(&err);
        return 1;
    }
    if (c->list) {
        json_array_append_new(
            c->list, json_pack("{s:s,s:s,s:b,s:s?,s:I,s:I,s:I}", "name", ri->name,
                               "location", ri->location, "reachable", reachable,
                               "problem", reachable ? NULL : err.msg, "objects",
                               (json_int_t)cc.held, "verified",
                               (json_int_t)cc.verified, "failed",
                               (json_int_t)cc.failed));
    } else {
        printf("%s\t%s\t%zu object%s, %zu verified, %zu failed%s%s\n",
               cli_text(ri->name), cli_text(ri->location), cc.held,
               cc.held == 1 ? "" : "s", cc.verified, cc.failed,
               reachable ? "" : "; unreachable: ", reachable ? "" : cli_text(err.msg));
    }
    return 0;
}

CLI_COMMAND(replica)
{
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    int rc;
    if ((rc = cli_common_options_only("replica", usage, argc, argv, &c)) != CLI_CONTINUE)
        return rc;
    if (optind >= argc)
        return cli_usage_error("replica", "say add, ls or rm");
    const char *sub = argv[optind++];
    int nargs = argc - optind;
    if (!strcmp(sub, "add")) {
        if (nargs != 2)
            return cli_usage_error("replica", "add takes NAME FOLDER");
    } else if (!strcmp(sub, "rm")) {
        if (nargs != 1)
            return cli_usage_error("replica", "rm takes NAME");
    } else if (!strcmp(sub, "ls")) {
        if (nargs != 0)
            return cli_usage_error("replica", "unexpected argument '%s'",
                                   argv[optind]);
    } else {
        return cli_usage_error("replica", "unknown subcommand '%s' (add, ls, rm)",
                               sub);
    }
    if ((rc = cli_open_repo_mode(&c, strcmp(sub, "ls") ? VL_OPEN_WRITE : VL_OPEN_READ,
                                 &repo)) != CLI_EXIT_OK)
        return rc;
    if (!strcmp(sub, "add")) {
        if (vl_replica_add(repo, argv[optind], argv[optind + 1], &err) != VL_OK)
            rc = cli_fail(&err);
        else if (c.json)
            cli_print_json(json_pack("{s:s,s:s}", "name", argv[optind], "location",
                                     vl_copy_root(repo, argv[optind])));
        else if (!c.quiet)
            printf("replica %s added at %s; run 'vellum replicate --all' to copy "
                   "the objects\n", cli_text(argv[optind]),
                   cli_text(vl_copy_root(repo, argv[optind])));
    } else if (!strcmp(sub, "rm")) {
        if (vl_replica_remove(repo, argv[optind], &err) != VL_OK)
            rc = cli_fail(&err);
        else if (c.json)
            cli_print_json(json_pack("{s:s,s:b}", "name", argv[optind],
                                     "forgotten", 1));
        else if (!c.quiet)
            printf("replica %s forgotten; its folder was left as it is\n",
                   cli_text(argv[optind]));
    } else {
        struct ls_ctx lc = {repo, c.json ? json_array() : NULL, CLI_EXIT_OK};
        if (vl_replica_list(repo, print_replica, &lc, &err) != VL_OK)
            rc = cli_fail(&err);
        else
            rc = lc.rc;
        if (c.json && rc == CLI_EXIT_OK)
            cli_print_json(lc.list);
        else
            json_decref(lc.list);
        if (!c.json && rc == CLI_EXIT_OK && vl_replica_count(repo) == 0 && !c.quiet)
            fprintf(stderr, "vellum: no replicas; add one with 'vellum replica add "
                    "NAME FOLDER'\n");
    }
    vl_repo_close(repo);
    return rc;
}
