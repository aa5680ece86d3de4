/* Shared helpers of the vellum command-line program.  Commands live one per
 * file (tools/cmd_*.c); they parse arguments, call libvellum and print.
 * Exit codes: 0 ok, 1 findings, 2 usage or rejected input, 3 system error. */
#ifndef VL_CLI_H
#define VL_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "vl_common.h"
#include "vl_storage.h"
#include "vl_ingest.h"
#include <jansson.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FINDINGS 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_SYSTEM 3

/* Long options every command accepts; append to a command's own table. */
#define CLI_COMMON_OPTIONS                                  \
    {"repo", required_argument, NULL, 'R'},                 \
    {"json", no_argument, NULL, 'J'},                       \
    {"quiet", no_argument, NULL, 'Q'},                      \
    {"help", no_argument, NULL, 'h'}

typedef struct cli_common {
    const char *repo;   /* --repo, else $VELLUM_REPO, else ./vellum-repo */
    int json;
    int quiet;
} cli_common;

/* Handle R/J/Q in a getopt switch: returns 1 when the option was common. */
int cli_common_option(cli_common *c, int opt, const char *arg);
/* The whole option loop of a command with no options of its own: returns
 * CLI_CONTINUE, or the exit code once --help or an option error is
 * printed. */
#define CLI_CONTINUE (-1)
int cli_common_options_only(const char *cmd, const char *usage, int argc,
                            char **argv, cli_common *c);
const char *cli_repo_dir(const cli_common *c);
/* Open the repository; on failure print the error and return its exit code.
 * cli_open_repo is for commands that write (refused while a crash's work is
 * unfinished); VL_OPEN_READ commands write nothing and warn about it. */
int cli_open_repo(const cli_common *c, vl_repo **out);
int cli_open_repo_mode(const cli_common *c, vl_open_mode mode, vl_repo **out);
/* Text that came from a depositor or from the store (ids, file names,
 * titles, messages), made safe for a terminal or a text stream: control
 * characters, bidirectional overrides and bytes that are not UTF-8 are
 * hex-escaped (vl_name_escape).  NULL gives "".  The copy is kept until
 * CLI_TEXT_SLOTS more calls: enough for the arguments of one printf. */
#define CLI_TEXT_SLOTS 16
const char *cli_text(const char *s);
/* An object id given on the command line (vl_object_id_check): on a bad one
 * prints the error and returns 2, else 0. */
int cli_check_id(const char *id);
/* Object ids (argv[first..argc), each checked) or --all, exactly one of
 * them: 0, or the exit code once the error is printed. */
int cli_ids_or_all(const char *cmd, int all, int argc, char **argv, int first);
/* One repair action: appended to list (--json) when not NULL, else one
 * line (repairs on stdout, prefixed; failures on stderr). */
void cli_repair_action(const vl_repair_action *a, json_t *list, const char *prefix);
/* "vellum: <message>" on stderr; returns err->status as an exit code. */
int cli_fail(const vl_error *err);
/* "vellum <cmd>: <message>" + usage hint on stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* After getopt_long returned '?' (opterr is 0): "vellum <cmd>: unknown
 * option '--x'" (or "option '--x' needs a value") + usage hint; returns 2. */
int cli_option_error(const char *cmd, char **argv);
/* cli_fail for an error about object id: when it is "no object with id",
 * adds "; did you mean ID?" from the catalog's ids.  id NULL: the id the
 * message names. */
int cli_fail_object(vl_repo *repo, const char *id, const vl_error *err);
/* Progress goes to stderr only when it is a terminal and not --quiet. */
int cli_progress_enabled(const cli_common *c);
/* Parse "v3" or "3" into 3; -1 when malformed. */
int cli_parse_version(const char *s);

/* Print a JSON value on stdout (pretty, sorted keys) and free it. */
void cli_print_json(json_t *v);
/* One element of a JSON array that is printed as it goes: v dumped as
 * cli_print_json lays it out, each of its lines indented by indent (a
 * newline inside a JSON string is always escaped).  Takes v; -1 when it
 * cannot be made (memory). */
int cli_print_json_element(json_t *v, const char *indent);
/* "1.2 MiB" style sizes for people. */
void cli_format_size(uint64_t bytes, char out[32]);
/* The one way to count an object (see vl_catalog_object): its deposited
 * files and their bytes, vellum's metadata files labelled apart:
 * "181 files, 467.4 KiB (+ METS.xml)". */
#define CLI_COUNTS_MAX 160
void cli_format_counts(uint64_t files, uint64_t bytes, uint64_t metadata_files,
                       char out[CLI_COUNTS_MAX]);
/* Print s (through cli_text), then spaces up to width terminal columns:
 * columns, not bytes, so names in any script line up. */
void cli_print_padded(const char *s, int width);
/* The terminal columns s takes as cli_print_padded prints it. */
int cli_text_width(const char *s);

/* An object's latest audit for people: "pass TIME", "FAIL TIME" or "never
 * audited" (ls, search). */
void cli_audit_result(const char *outcome, const char *started, char *out,
                      size_t size);
/* An ls/search row as JSON (id, head, files, bytes, title, last_audit,
 * last_audit_result...). */
json_t *cli_listing_json(const vl_catalog_listing *l);

/* Each command: int cmd_NAME(int argc, char **argv), argv[0] = NAME. */
#define CLI_COMMAND(name) int cmd_##name(int argc, char **argv)
CLI_COMMAND(init);
CLI_COMMAND(ingest);
CLI_COMMAND(commit);
CLI_COMMAND(discard);
CLI_COMMAND(ls);
CLI_COMMAND(show);
CLI_COMMAND(get);
CLI_COMMAND(cat);
CLI_COMMAND(reindex);
CLI_COMMAND(recover);
CLI_COMMAND(validate);
CLI_COMMAND(config);
CLI_COMMAND(diff);
CLI_COMMAND(search);
CLI_COMMAND(identify);
CLI_COMMAND(replica);
CLI_COMMAND(replicate);
CLI_COMMAND(repair);
CLI_COMMAND(events);
CLI_COMMAND(export);
CLI_COMMAND(report);
CLI_COMMAND(audit);
CLI_COMMAND(bag);

#endif
