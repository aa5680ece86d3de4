/* vellum: the command-line front end.  Dispatches to one function per
 * command (tools/cmd_*.c); all behaviour lives in libvellum. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"init", cmd_init, "create a repository"},
    {"ingest", cmd_ingest, "deposit files as a new object or version"},
    {"commit", cmd_commit, "make an object's staged head (ingest --stage) a version"},
    {"discard", cmd_discard, "drop an object's staged head uncommitted"},
    {"ls", cmd_ls, "list objects"},
    {"show", cmd_show, "show an object's versions and files"},
    {"search", cmd_search, "find objects by title, creator, subject, date, identifier"},
    {"diff", cmd_diff, "files added, removed, changed, renamed between versions"},
    {"get", cmd_get, "write an object's files out, verifying digests"},
    {"cat", cmd_cat, "write one file of an object to stdout, verified"},
    {"export", cmd_export, "export as a METS package, BagIt bag or OCFL copy"},
    {"bag", cmd_bag, "check or make BagIt bags (validate, create)"},
    {"validate", cmd_validate, "check OCFL conformance and digests"},
    {"replica", cmd_replica, "add, list or forget replicas (copies elsewhere)"},
    {"replicate", cmd_replicate, "bring replicas to each object's head version"},
    {"repair", cmd_repair, "restore damaged files from a verified copy"},
    {"reindex", cmd_reindex, "rebuild the catalog from the store"},
    {"recover", cmd_recover, "finish or undo interrupted work"},
    {"events", cmd_events, "list preservation events; verify the event log"},
    {"identify", cmd_identify, "identify file formats (MIME type, PUID)"},
    {"audit", cmd_audit, "fixity audits: --due nightly, --status"},
    {"report", cmd_report, "report for curators: holdings, formats, audits"},
    {"config", cmd_config, "show or change repository settings"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: vellum <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'vellum <command> --help' describes a command.\n"
                 "Exit: 0 ok, 1 findings, 2 usage or rejected input, "
                 "3 system error.\n");
}

int main(int argc, char **argv)
{
    /* Names are UTF-8 bytes whatever the user's locale: libarchive converts
     * entry names through the C library's locale, which must be UTF-8. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "");
    opterr = 0;   /* each command names a bad option once (cli_option_error) */
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vellum %s\n", VL_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    /* the closest command, as git does */
    const char *best = NULL;
    int best_d = -1;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        int d = vl_similarity(argv[1], commands[i].name);
        if (d >= 0 && (best_d < 0 || d < best_d)) {
            best = commands[i].name;
            best_d = d;
        }
    }
    if (best)
        fprintf(stderr, "vellum: '%s' is not a vellum command; did you mean "
                "'%s'?\n", cli_text(argv[1]), best);
    else
        fprintf(stderr, "vellum: '%s' is not a vellum command; see 'vellum "
                "--help'\n", cli_text(argv[1]));
    return CLI_EXIT_USAGE;
}
