/* vellum replicate: bring replicas to each object's head version. */
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum replicate (ID... | --all) [--replica NAME] [--repo DIR] [--json]\n"
    "\n"
    "Copies the versions each replica lacks, one version at a time in the OCFL\n"
    "commit order: the version folder with its content and inventory, each\n"
    "file verified by digest on the replica, then the replica's root inventory\n"
    "and sidecar.  A replica stopped at any moment holds a real version.\n"
    "A replica copy that is ahead of the primary, has diverged from it or does\n"
    "not verify is reported and left as it is ('vellum repair' restores damaged\n"
    "copies).  Each copy records a PREMIS replication event.\n"
    "\n"
    "  --all           every object\n"
    "  --replica NAME  only this replica (default: every replica)\n"
    "\n"
    "With replicate.after_ingest = true (vellum config), each deposit is\n"
    "replicated as soon as it is committed.\n"
    "Exit: 0 every copy current, 1 a copy was refused, 2 usage, 3 system error.\n";

struct out_ctx {
    cli_common *c;
    json_t *list;
};

static void on_result(void *arg, const vl_replicate_result *res)
{
    struct out_ctx *o = arg;
    const char *state = res->state == VL_REPL_UPDATED ? "updated"
                                                      : vl_repl_state_name(res->state);
    if (o->list) {
        json_array_append_new(
            o->list, json_pack("{s:s,s:s,s:s,s:i,s:i,s:I,s:I,s:s?}", "id",
                               res->object_id, "replica", res->replica, "state",
                               state, "from_version", res->from_version,
                               "to_version", res->to_version, "files",
                               (json_int_t)res->files, "bytes",
                               (json_int_t)res->bytes, "message", res->message));
        return;
    }
    if (res->state == VL_REPL_UPDATED) {
        char size[32];
        cli_format_size(res->bytes, size);
        if (!o->c->quiet)
            printf("%s -> %s: v%d to v%d (%llu file%s, %s)\n",
                   cli_text(res->object_id), cli_text(res->replica),
                   res->from_version, res->to_version,
                   (unsigned long long)res->files, res->files == 1 ? "" : "s", size);
    } else if (res->state == VL_REPL_CURRENT) {
        if (!o->c->quiet)
            printf("%s -> %s: current at v%d\n", cli_text(res->object_id),
                   cli_text(res->replica), res->to_version);
    } else if (res->state == VL_REPL_SKIPPED) {
        fprintf(stderr, "vellum: warning: %s -> %s: skipped: %s\n",
                cli_text(res->object_id), cli_text(res->replica),
                cli_text(res->message));
    } else {
        fprintf(stderr, "vellum: error: %s -> %s: %s: %s\n", cli_text(res->object_id),
                cli_text(res->replica), state, cli_text(res->message));
    }
}

CLI_COMMAND(replicate)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                         {"replica", required_argument, NULL, 'r'},
                                         CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    int opt, rc, all = 0;
    vl_replicate_options ro = {0};
    vl_replicate_summary s = {0};
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'a': all = 1; break;
        case 'r': ro.replica = optarg; break;
        case 'h': fputs(usage, stdout); return CLI_EXIT_OK;
        default: return cli_option_error("replicate", argv);
        }
    }
    int nids = argc - optind;
    if ((rc = cli_ids_or_all("replicate", all, argc, argv, optind)) != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_open_repo(&c, &repo)) != CLI_EXIT_OK)
        return rc;
    struct out_ctx oc = {&c, c.json ? json_array() : NULL};
    ro.on_result = on_result;
    ro.arg = &oc;
    int lrc = vl_replicate(repo, (const char *const *)argv + optind, (size_t)nids, &ro,
                           &s, &err);
    if (lrc != VL_OK && lrc != VL_FINDING) {
        rc = cli_fail_object(repo, NULL, &err);
        json_decref(oc.list);
        vl_repo_close(repo);
        return rc;
    }
    if (c.json) {
        cli_print_json(json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "copies", oc.list,
                                 "updated", (json_int_t)s.updated, "current",
                                 (json_int_t)s.current, "refused",
                                 (json_int_t)s.refused, "skipped",
                                 (json_int_t)s.skipped, "files", (json_int_t)s.files,
                                 "bytes", (json_int_t)s.bytes, "seconds", s.seconds));
    } else if (!c.quiet) {
        char size[32];
        cli_format_size(s.bytes, size);
        printf("replicated: %zu cop%s updated, %zu current, %zu refused, %zu skipped; "
               "%llu file%s, %s copied in %.1f s\n", s.updated,
               s.updated == 1 ? "y" : "ies", s.current, s.refused, s.skipped,
               (unsigned long long)s.files, s.files == 1 ? "" : "s", size, s.seconds);
    }
    vl_repo_close(repo);
    return lrc == VL_FINDING ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
}
