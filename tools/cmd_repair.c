/* vellum repair: restore damaged copies from a verified copy. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum repair (ID... | --all) [--copy NAME] [--repo DIR] [--json]\n"
    "\n"
    "Reads every copy of each object (the primary and each replica) and puts\n"
    "back each file that is damaged, truncated or missing: content files,\n"
    "version inventories, the root inventory and its sidecar.  The bytes come\n"
    "from another copy whose file matches the digest an inventory that\n"
    "verifies records, are written beside the object, synced, renamed into\n"
    "place and read back.  Bytes that do not match are never written.  Files\n"
    "the inventory does not list are moved to REPO/quarantine, never deleted.\n"
    "Each action is a PREMIS recovery (or quarantine) event.  A file with no\n"
    "good copy anywhere is reported and left as it is.\n"
    "\n"
    "  --all         every object\n"
    "  --copy NAME   repair only this copy ('primary' or a replica's name)\n"
    "\n"
    "Exit: 0 every copy whole, 1 a file had no good copy, 2 usage, 3 system.\n";

struct out_ctx {
    cli_common *c;
    json_t *list;
};

static void on_action(void *arg, const vl_repair_action *a)
{
    cli_repair_action(a, ((struct out_ctx *)arg)->list, "");
}

static void on_unreachable(void *arg, const char *copy, const char *why)
{
    (void)arg;
    fprintf(stderr, "vellum: warning: replica %s cannot be reached, so it is neither "
            "repaired nor used: %s\n", cli_text(copy), cli_text(why));
}

static void on_source_only(void *arg, const char *copy, const char *why)
{
    (void)arg;
    fprintf(stderr, "vellum: warning: %s is used as a source but not repaired: "
            "%s\n", !strcmp(copy, VL_PRIMARY_COPY) ? "the primary" : cli_text(copy),
            cli_text(why));
}

CLI_COMMAND(repair)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                         {"copy", required_argument, NULL, 'c'},
                                         CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    int opt, rc, all = 0;
    vl_repair_options ro = {0};
    vl_repair_summary s = {0};
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'a': all = 1; break;
        case 'c': ro.copy = optarg; break;
        case 'h': fputs(usage, stdout); return CLI_EXIT_OK;
        default: return cli_option_error("repair", argv);
        }
    }
    int nids = argc - optind;
    if ((rc = cli_ids_or_all("repair", all, argc, argv, optind)) != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    struct out_ctx oc = {&c, c.json ? json_array() : NULL};
    ro.on_action = on_action;
    ro.on_unreachable = on_unreachable;
    ro.on_source_only = on_source_only;
    ro.arg = &oc;
    int lrc = vl_repair(repo, (const char *const *)argv + optind, (size_t)nids, &ro,
                        &s, &err);
    if (lrc != VL_OK && lrc != VL_FINDING) {
        rc = cli_fail_object(repo, NULL, &err);
        json_decref(oc.list);
        vl_repo_close(repo);
        return rc;
    }
    if (c.json)
        cli_print_json(json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I}", "actions", oc.list,
                                 "unreachable", (json_int_t)s.unreachable,
                                 "objects", (json_int_t)s.objects, "repaired",
                                 (json_int_t)s.repaired, "failed",
                                 (json_int_t)s.failed, "quarantined",
                                 (json_int_t)s.quarantined, "skipped",
                                 (json_int_t)s.skipped));
    else if (!c.quiet)
        printf("repair: %zu object%s checked in every copy; %zu file%s restored, %zu "
               "moved to quarantine, %zu with no good copy%s\n", s.objects,
               s.objects == 1 ? "" : "s", s.repaired, s.repaired == 1 ? "" : "s",
               s.quarantined, s.failed,
               s.skipped ? "; some objects were locked and left for the next run" : "");
    vl_repo_close(repo);
    return lrc == VL_FINDING ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
}
