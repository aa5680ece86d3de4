/* Helpers shared by the vellum commands. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "cli.h"

int cli_common_option(cli_common *c, int opt, const char *arg)
{
    switch (opt) {
    case 'R':
        c->repo = arg;
        return 1;
    case 'J':
        c->json = 1;
        return 1;
    case 'Q':
        c->quiet = 1;
        return 1;
    default:
        return 0;
    }
}

int cli_common_options_only(const char *cmd, const char *usage, int argc,
                            char **argv, cli_common *c)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(c, opt, optarg))
            continue;
        if (opt == 'h') {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        return cli_option_error(cmd, argv);
    }
    return CLI_CONTINUE;
}

const char *cli_repo_dir(const cli_common *c)
{
    if (c->repo && *c->repo)
        return c->repo;
    const char *env = getenv("VELLUM_REPO");
    if (env && *env)
        return env;
    return "vellum-repo";
}

const char *cli_text(const char *s)
{
    static char *slots[CLI_TEXT_SLOTS];
    static unsigned next;
    if (!s)
        return "";
    if (vl_text_printable(s))
        return s;
    char **slot = &slots[next++ % CLI_TEXT_SLOTS];
    free(*slot);
    *slot = vl_name_escape(s);
    return *slot ? *slot : "?";
}

int cli_check_id(const char *id)
{
    vl_error err = {0};
    return vl_object_id_check(id, &err) == VL_OK ? CLI_EXIT_OK : cli_fail(&err);
}

int cli_ids_or_all(const char *cmd, int all, int argc, char **argv, int first)
{
    int rc;
    if (all == (argc > first))
        return cli_usage_error(cmd, all ? "give object ids or --all, not both"
                                        : "give object ids or --all");
    for (int i = first; i < argc; i++)
        if ((rc = cli_check_id(argv[i])) != CLI_EXIT_OK)
            return rc;
    return CLI_EXIT_OK;
}

void cli_repair_action(const vl_repair_action *a, json_t *list, const char *prefix)
{
    if (list) {
        json_array_append_new(
            list, json_pack("{s:s,s:s,s:s,s:s,s:s?,s:b,s:s?,s:s?,s:s?,s:s?}", "id",
                            a->object_id, "copy", a->copy, "path", a->path, "problem",
                            a->problem, "source", a->source, "repaired", a->repaired,
                            "algorithm", a->algorithm, "expected", a->expected,
                            "actual", a->actual, "message", a->message));
        return;
    }
    if (!strcmp(a->problem, "unexpected"))
        printf("%s%s [%s] %s: not in the inventory; moved to %s\n", prefix,
               cli_text(a->object_id), cli_text(a->copy), cli_text(a->path),
               cli_text(a->message));
    else if (!strcmp(a->problem, "diverged"))
        fprintf(stderr, "vellum: error: %s [%s]: diverged: %s\n", cli_text(a->object_id),
                cli_text(a->copy), cli_text(a->message));
    else if (a->repaired)
        printf("%s%s [%s] %s: %s; restored from %s\n", prefix, cli_text(a->object_id),
               cli_text(a->copy), cli_text(a->path), a->problem, cli_text(a->source));
    else
        fprintf(stderr, "vellum: error: %s [%s] %s: %s, and no copy is good (%s); "
                "left as it is\n", cli_text(a->object_id), cli_text(a->copy),
                cli_text(a->path), a->problem, cli_text(a->message));
}

int cli_fail(const vl_error *err)
{
    /* Library messages are escaped already; this catches any that are not. */
    fprintf(stderr, "vellum: %s\n", err->msg[0] ? cli_text(err->msg) : "failed");
    return err->status ? err->status : CLI_EXIT_SYSTEM;
}

int cli_open_repo(const cli_common *c, vl_repo **out)
{
    return cli_open_repo_mode(c, VL_OPEN_WRITE, out);
}

int cli_open_repo_mode(const cli_common *c, vl_open_mode mode, vl_repo **out)
{
    vl_error err = {0};
    vl_pending p;
    char what[512];
    if (vl_repo_open_mode(cli_repo_dir(c), mode, out, &err) != VL_OK)
        return cli_fail(&err);
    if (vl_repo_tls_unverified(*out))
        fprintf(stderr, "vellum: warning: s3.tls_verify = false: the certificate "
                "of %s is not checked\n", vl_repo_store(*out));
    /* Writers were refused above for unfinished transactions; readers go
     * on, but say so once, and so do writers for temporaries left outside. */
    if (mode != VL_OPEN_RECOVER && vl_repo_pending(*out, &p, &err) == VL_OK &&
        (p.txns || p.outside)) {
        vl_pending_describe(&p, what, sizeof what);
        if (mode == VL_OPEN_READ)
            fprintf(stderr, "vellum: warning: %s; what is shown may be out "
                    "of date until you run 'vellum recover'\n", what);
        else
            fprintf(stderr, "vellum: warning: %s; 'vellum recover' removes "
                    "%s\n", what, p.outside == 1 ? "it" : "them");
    }
    return CLI_EXIT_OK;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);   /* may quote an argument */
    va_end(ap);
    fprintf(stderr, "vellum %s: %s\n(see 'vellum %s --help')\n", cmd,
            cli_text(msg), cmd);
    return CLI_EXIT_USAGE;
}

int cli_option_error(const char *cmd, char **argv)
{
    /* opterr is 0 (main): getopt printed nothing.  A long option left in
     * argv[optind - 1]; a short one is optopt. */
    const char *arg = optind > 0 ? argv[optind - 1] : NULL;
    if (arg && !strncmp(arg, "--", 2)) {
        int len = (int)strcspn(arg, "=");
        if (optopt && !strchr(arg, '='))
            return cli_usage_error(cmd, "option '%.*s' needs a value", len, arg);
        if (optopt)
            return cli_usage_error(cmd, "option '%.*s' takes no value", len, arg);
        return cli_usage_error(cmd, "unknown option '%.*s'", len, arg);
    }
    if (optopt)
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", arg ? arg : "?");
}

int cli_fail_object(vl_repo *repo, const char *id, const vl_error *err)
{
    char near[3 * VL_SUGGEST_ID_MAX + 16], named[VL_SUGGEST_ID_MAX];
    static const char lead[] = "no object with id ";
    /* without an id, the one the message names (commands of many ids) */
    if (!id && !strncmp(err->msg, lead, sizeof lead - 1)) {
        const char *p = err->msg + sizeof lead - 1;
        size_t len = strlen(p);
        if (*p == '"' && len >= 2 && p[len - 1] == '"') {
            p++;
            len -= 2;
        }
        if (len < sizeof named) {
            memcpy(named, p, len);
            named[len] = '\0';
            id = named;
        }
    }
    if (err->status != VL_EINPUT || !id || !strstr(err->msg, "no object") ||
        vl_repo_similar_ids(repo, id, near, sizeof near) == 0)
        return cli_fail(err);
    fprintf(stderr, "vellum: %s; did you mean %s?\n", cli_text(err->msg), near);
    return CLI_EXIT_USAGE;
}

int cli_progress_enabled(const cli_common *c)
{
    return !c->quiet && !c->json && isatty(STDERR_FILENO);
}

int cli_parse_version(const char *s)
{
    if (!s)
        return -1;
    if (*s == 'v')
        s++;
    if (!*s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 1 || v > 1000000)
        return -1;
    return (int)v;
}

void cli_print_json(json_t *v)
{
    char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    if (s)
        printf("%s\n", s);
    free(s);
    json_decref(v);
}

int cli_print_json_element(json_t *v, const char *indent)
{
    char *one = v ? json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(v);
    if (!one)
        return -1;
    for (const char *p = one, *nl; *p; p = nl + 1) {
        if (!(nl = strchr(p, '\n'))) {
            fputs(p, stdout);
            break;
        }
        fwrite(p, 1, (size_t)(nl + 1 - p), stdout);
        fputs(indent, stdout);
    }
    free(one);
    return 0;
}

void cli_format_size(uint64_t bytes, char out[32])
{
    vl_size_format(bytes, out);
}

void cli_format_counts(uint64_t files, uint64_t bytes, uint64_t metadata_files,
                       char out[CLI_COUNTS_MAX])
{
    char sz[32];
    vl_size_format(bytes, sz);
    if (metadata_files == 0)
        snprintf(out, CLI_COUNTS_MAX, "%llu file%s, %s", (unsigned long long)files,
                 files == 1 ? "" : "s", sz);
    else if (metadata_files == 1)
        snprintf(out, CLI_COUNTS_MAX, "%llu file%s, %s (+ METS.xml)",
                 (unsigned long long)files, files == 1 ? "" : "s", sz);
    else
        snprintf(out, CLI_COUNTS_MAX, "%llu file%s, %s (+ METS.xml and %llu more "
                 "metadata file%s)", (unsigned long long)files, files == 1 ? "" : "s",
                 sz, (unsigned long long)(metadata_files - 1),
                 metadata_files == 2 ? "" : "s");
}

static int columns_of(const char *s)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int cols = 0;
    size_t left = strlen(s);
    for (const char *p = s; left;) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, p, left, &st);
        if (n == (size_t)-1 || n == (size_t)-2) {
            cols++;   /* not UTF-8: one column per byte, as printed */
            p++;
            left--;
            memset(&st, 0, sizeof st);
            continue;
        }
        if (n == 0)
            break;
        int w = wcwidth(wc);
        cols += w > 0 ? w : 0;
        p += n;
        left -= n;
    }
    return cols;
}

int cli_text_width(const char *text)
{
    return columns_of(cli_text(text));
}

void cli_print_padded(const char *text, int width)
{
    const char *s = cli_text(text);
    fputs(s, stdout);
    for (int cols = columns_of(s); cols < width; cols++)
        putchar(' ');
}

/* "pass 2026-03-04T09:00:00Z", "FAIL ...", "never audited". */
void cli_audit_result(const char *outcome, const char *started, char *out,
                      size_t size)
{
    if (!started)
        snprintf(out, size, "never audited");
    else
        snprintf(out, size, "%s %s",
                 outcome && !strcmp(outcome, "pass") ? "pass" : "FAIL",
                 cli_text(started));
}

json_t *cli_listing_json(const vl_catalog_listing *l)
{
    const vl_catalog_object *o = &l->object;
    return json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:s?, s:s?, s:s?, s:s?, "
                     "s:s?}",
                     "id", o->id, "path", o->path, "head", o->head, "files",
                     (json_int_t)o->files, "bytes", (json_int_t)o->bytes,
                     "metadata_files", (json_int_t)o->metadata_files,
                     "metadata_bytes", (json_int_t)o->metadata_bytes,
                     "created", o->created, "updated", o->updated, "title",
                     l->title, "last_audit", l->last_audit, "last_audit_result",
                     l->last_audit ? (l->last_outcome && !strcmp(l->last_outcome, "pass")
                                          ? "pass" : "fail")
                                   : NULL);
}
