/* vellum discard: drop a staged head (OCFL extension 0005) uncommitted. */
#include "cli.h"

static const char usage[] =
    "usage: vellum discard ID [--repo DIR] [--json]\n"
    "\n"
    "Discard the object's staged head (the deposits made with 'vellum ingest\n"
    "--stage' since the last version, kept in extensions/0005-mutable-head):\n"
    "the extension folder leaves the object in one rename and is removed (what\n"
    "the extension calls purging the mutable HEAD), and a\n"
    "'deletion' event naming the staged version is logged.  The committed\n"
    "versions are not touched.  This is how a version conflict is settled (the\n"
    "object got a version after the head was staged, so the head cannot be\n"
    "committed), and how a head that should not become a version is dropped.\n"
    "The staged deposits' events stay in the event log; a METS.xml made later\n"
    "for that version number leaves them out.  Exit 2 when the object has no\n"
    "staged head.\n";

CLI_COMMAND(discard)
{
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_mhead_discard_result res;
    int rc;
    if ((rc = cli_common_options_only("discard", usage, argc, argv, &c)) != CLI_CONTINUE)
        return rc;
    if (optind + 1 != argc)
        return cli_usage_error("discard", "give one object id");
    const char *id = argv[optind];
    if ((rc = cli_check_id(id)) != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    if (vl_mhead_discard(repo, id, &res, &err) != VL_OK) {
        rc = cli_fail_object(repo, id, &err);
    } else if (c.json) {
        cli_print_json(json_pack("{s:s, s:i, s:i, s:b}", "id", id, "version", res.version,
                                 "revisions", res.revisions, "conflict", res.conflict));
    } else if (!c.quiet) {
        printf("%s: staged head of version %d discarded (%d revision%s)\n", cli_text(id),
               res.version, res.revisions, res.revisions == 1 ? "" : "s");
    }
    vl_repo_close(repo);
    return rc;
}
