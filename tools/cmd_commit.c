/* vellum commit: a staged head (OCFL extension 0005) becomes a version. */
#include "cli.h"

static const char usage[] =
    "usage: vellum commit ID [--message TEXT] [--repo DIR] [--json]\n"
    "\n"
    "Commit the object's staged head (the deposits made with 'vellum ingest\n"
    "--stage' since the last version, kept in extensions/0005-mutable-head as\n"
    "OCFL Community Extension 0005 lays it out) as its next version vN: the\n"
    "content paths become vN/..., the head folder becomes vN, the root\n"
    "inventory is written last and the extension folder removed; the catalog\n"
    "and the event log get the version as after any deposit (and so do the\n"
    "replicas, with replicate.after_ingest = true).  The version keeps the\n"
    "message of the last staged deposit unless --message gives one.\n"
    "Exit 2 when the object has no staged head (nothing to commit), and on a\n"
    "version conflict (the object got a version after the head was staged):\n"
    "nothing is changed then ('vellum discard ID' drops the staged head).\n";

CLI_COMMAND(commit)
{
    static const struct option opts[] = {
        {"message", required_argument, NULL, 'm'}, CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_mhead_commit_result res;
    const char *message = NULL;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'm':
            message = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("commit", argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("commit", "give one object id");
    const char *id = argv[optind];
    if ((rc = cli_check_id(id)) != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    if (vl_mhead_commit(repo, id, message, &res, &err) != VL_OK) {
        rc = cli_fail_object(repo, id, &err);
    } else if (c.json) {
        cli_print_json(json_pack("{s:s, s:i, s:s, s:i, s:I, s:I, s:s?}", "id", id,
                                 "version", res.version, "version_name", res.vname,
                                 "revisions", res.revisions, "replicas_updated",
                                 (json_int_t)res.replicas_updated, "replicas_refused",
                                 (json_int_t)res.replicas_refused, "replica_problem",
                                 res.replica_problem[0] ? res.replica_problem : NULL));
    } else {
        printf("%s %s committed (%d staged revision%s)\n", cli_text(id), res.vname,
               res.revisions, res.revisions == 1 ? "" : "s");
        if (res.replicas_updated && !c.quiet)
            printf("replicated to %zu replica%s\n", res.replicas_updated,
                   res.replicas_updated == 1 ? "" : "s");
    }
    if (rc == CLI_EXIT_OK && res.replica_problem[0])
        fprintf(stderr, "vellum: warning: the version is committed, but not replicated: "
                "%s; run 'vellum replicate %s'\n", cli_text(res.replica_problem),
                cli_text(id));
    vl_repo_close(repo);
    return rc;
}
