/* vellum recover: finish or undo interrupted work, clear staging. */
#include "cli.h"
#include "vl_metadata.h"

static const char usage[] =
    "usage: vellum recover [--repo DIR] [--json]\n"
    "\n"
    "After a crash or a kill: every interrupted deposit is either completed\n"
    "(its version had reached the store) or dropped (it had not), the catalog\n"
    "is brought in line with the store, and staging is emptied.  Temporaries\n"
    "that a killed export or get left beside its destination are removed.\n"
    "Work still running in other processes is left alone.\n"
    "\n"
    "Afterwards every object an interrupted deposit touched validates; one\n"
    "that cannot be brought to a valid state is named, and the exit code is 1.\n";

struct recover_out {
    json_t *unhealed, *removed;   /* --json; NULL otherwise */
};

/* What no inventory named, left by an upload cut short, now gone. */
static void print_removed(void *arg, const char *where)
{
    struct recover_out *o = arg;
    if (o->removed)
        json_array_append_new(o->removed, json_string(where));
    else
        printf("removed %s (no inventory names it)\n", cli_text(where));
}

static void print_unhealed(void *arg, const char *object_id, const char *reason)
{
    json_t *list = ((struct recover_out *)arg)->unhealed;
    if (list)
        json_array_append_new(list, json_pack("{s:s,s:s}", "id", object_id,
                                              "reason", reason));
    else
        fprintf(stderr, "vellum: error: could not heal \"%s\": %s; left for a "
                "curator ('vellum validate' shows it)\n", object_id, reason);
}

CLI_COMMAND(recover)
{
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_recover_counts n = {0};
    int rc;
    if ((rc = cli_common_options_only("recover", usage, argc, argv, &c)) != CLI_CONTINUE)
        return rc;
    if (optind < argc)
        return cli_usage_error("recover", "unexpected argument '%s'", argv[optind]);
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_RECOVER, &repo)) != CLI_EXIT_OK)
        return rc;
    json_t *unhealed = c.json ? json_array() : NULL;
    struct recover_out out = {unhealed, c.json ? json_array() : NULL};
    n.on_unhealed = print_unhealed;
    n.on_removed = print_removed;
    n.arg = &out;
    if (vl_metadata_recover(repo, &n, &err) != VL_OK)
        rc = cli_fail(&err);
    else if (c.json)
        cli_print_json(json_pack("{s:I,s:I,s:I,s:O,s:O}", "objects_repaired",
                                 (json_int_t)n.repaired, "replica_work_settled",
                                 (json_int_t)n.replica_txns,
                                 "temporaries_removed",
                                 (json_int_t)n.temporaries, "unhealed", unhealed,
                                 "removed", out.removed));
    else
        printf("recovered: %zu interrupted deposits settled, staging cleared, "
               "%zu abandoned temporaries removed%s%s\n", n.repaired,
               n.temporaries, n.replica_txns ? "; interrupted replica work settled" : "", n.unhealed ? "; some objects could not be healed" : "");
    if (rc == CLI_EXIT_OK && n.unhealed)
        rc = CLI_EXIT_FINDINGS;
    json_decref(unhealed);
    json_decref(out.removed);
    vl_repo_close(repo);
    return rc;
}
