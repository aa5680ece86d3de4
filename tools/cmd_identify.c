/* vellum identify: format identification of files and folders, without a
 * repository. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum identify PATH... [--signatures FILE] [--containers FILE]\n"
    "                       [--pronom-only] [--format text|csv|json] [--json]\n"
    "\n"
    "Identify the format of each file as ingest does; folders are walked\n"
    "recursively, in name order.  With PRONOM signatures (a DROID signature\n"
    "file and a container signature file) each file gets its PRONOM\n"
    "identifier as DROID finds it: byte signatures on its first and last\n"
    "bytes, container signatures inside ZIP and OLE2 files, extensions only\n"
    "when no signature matched.  libmagic gives text encodings and the MIME\n"
    "type of what PRONOM does not identify.\n"
    "\n"
    "  --signatures FILE  DROID signature file (else $VELLUM_PRONOM_SIGNATURES,\n"
    "                     else the pronom.signatures setting of the\n"
    "                     repository --repo names; without any,\n"
    "                     libmagic and vellum's small built-in PUID table)\n"
    "  --containers FILE  container signature file (else\n"
    "                     $VELLUM_PRONOM_CONTAINERS, else pronom.containers)\n"
    "  --pronom-only      PRONOM signatures alone, as Siegfried answers: no\n"
    "                     libmagic, so no encodings, and no MIME type for a\n"
    "                     file the signatures do not identify (faster)\n"
    "  --format FORMAT    text (default): path<TAB>mime; charset=encoding<TAB>\n"
    "                     PUID or -<TAB>description; csv: a header row, then\n"
    "                     path,size,puid,format,version,mime,basis,warning;\n"
    "                     json (as --json): an array of objects\n"
    "\n"
    "The compiled signatures are kept in $XDG_CACHE_HOME/vellum (or\n"
    "~/.cache/vellum), so later runs start at once.  On a terminal, progress\n"
    "and files per second go to stderr.  Exit 2 when a path cannot be read\n"
    "(the others are still identified).\n";

enum { FMT_TEXT, FMT_CSV, FMT_JSON };

typedef struct ident_run {
    vl_identifier *idf;
    unsigned char *buf;
    size_t cap;
    int format;
    int progress;
    json_t *arr;
    size_t files;
    double started;
    double last_shown;
    int rc;
} ident_run;

/* Read up to cap leading bytes of path (one pass, no more); size from fstat. */
static int read_prefix(const char *path, unsigned char *buf, size_t cap,
                       size_t *len, uint64_t *size)
{
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
    if (fd < 0)
        goto done;
    if (fstat(fd, &st) != 0)
        goto done;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto done;
    }
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto done;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    *size = (uint64_t)st.st_size;
    rc = 0;
done:
    if (fd >= 0) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return rc;
}

static void print_one(ident_run *r, const char *path, uint64_t size,
                      const vl_format *f)
{
    if (r->format == FMT_JSON) {
        /* JSON strings must be UTF-8: escape an odd file name */
        char *esc = vl_utf8_valid(path, strlen(path)) ? NULL : vl_name_escape(path);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "path",
                              esc ? esc : path, "mime", f->mime, "encoding",
                              f->encoding, "description", f->description, "puid",
                              f->puid, "format_name", f->format_name,
                              "format_version", f->format_version, "size",
                              (json_int_t)size);
        if (o && f->signatures[0]) {
            json_object_set_new(o, "basis", json_string(f->basis));
            json_object_set_new(o, "warning", json_string(f->warning));
            json_object_set_new(o, "also_matches", json_string(f->others));
            json_object_set_new(o, "signatures", json_string(f->signatures));
        }
        json_array_append_new(r->arr, o);
        free(esc);
    } else if (r->format == FMT_CSV) {
        char sz[24], puids[300];
        snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
        /* several matches: every PUID, as DROID lists them */
        snprintf(puids, sizeof puids, "%s%s%s", f->puid, f->others[0] ? " " : "",
                 f->others);
        vl_csv_field(stdout, path, 0);
        vl_csv_field(stdout, sz, 0);
        vl_csv_field(stdout, puids, 0);
        vl_csv_field(stdout, f->format_name, 0);
        vl_csv_field(stdout, f->format_version, 0);
        vl_csv_field(stdout, f->mime, 0);
        vl_csv_field(stdout, f->basis, 0);
        vl_csv_field(stdout, f->warning, 1);
    } else {
        /* libmagic's description may quote the file's own text */
        /* by PRONOM alone: no encoding, and maybe no MIME type */
        printf("%s\t%s%s%s\t%s%s%s\t%s%s%s%s\n", cli_text(path),
               f->mime[0] ? cli_text(f->mime) : "-",
               f->encoding[0] ? "; charset=" : "", cli_text(f->encoding),
               f->puid[0] ? f->puid : "-",
               f->others[0] ? " " : "", f->others, cli_text(f->description),
               f->warning[0] ? " (warning: " : "", f->warning,
               f->warning[0] ? ")" : "");
    }
}

static void show_progress(ident_run *r, int last)
{
    double t = vl_time_mono();
    if (!r->progress || (!last && t - r->last_shown < 1.0))
        return;
    r->last_shown = t;
    double el = t - r->started;
    fprintf(stderr, "\ridentified %zu file%s in %.1f s (%.0f files/s)%s", r->files,
            r->files == 1 ? "" : "s", el, el > 0 ? (double)r->files / el : 0.0, last ? "\n" : "");
}

static int identify_one(ident_run *r, const char *path)
{
    vl_error err = {0};
    vl_format f;
    size_t len = 0;
    uint64_t size = 0;
    if (read_prefix(path, r->buf, r->cap, &len, &size) != 0) {
        fprintf(stderr, "vellum identify: cannot read '%s': %s\n", cli_text(path),
                strerror(errno));
        r->rc = CLI_EXIT_USAGE;
        return 0;
    }
    if (vl_identify_path(r->idf, r->buf, len, size, vl_path_basename(path), path,
                         &f, &err) != VL_OK) {
        /* a file that vanished or shrank is that file's problem; running
         * out of memory is the run's */
        if (err.status != VL_ESYS || (err.sys_errno && err.sys_errno != ENOMEM)) {
            fprintf(stderr, "vellum identify: %s\n", cli_text(err.msg));
            r->rc = CLI_EXIT_USAGE;
            return 0;
        }
        return cli_fail(&err);
    }
    print_one(r, path, size, &f);
    r->files++;
    show_progress(r, 0);
    return 0;
}

struct walk_ctx {
    ident_run *r;
    const char *root;
    int rc;   /* a CLI exit code that stops everything */
};

/* vl_tree_walk's callback: files are identified; a folder past ingest's
 * depth limit stops the walk of that argument.  Links and special files
 * are neither followed nor identified. */
static int walk_entry(void *arg, const char *rel, int kind, const struct stat *st,
                      vl_error *err)
{
    struct walk_ctx *w = arg;
    char *full;
    (void)st;
    if (kind == VL_WALK_DIR) {
        int depth = 1;
        for (const char *c = rel; *c; c++)
            depth += *c == '/';
        return depth > VL_PATH_MAX_DEPTH
                   ? vl_error_set(err, VL_EINPUT, "%s: folders nested too deep", w->root)
                   : VL_OK;
    }
    if (kind != VL_WALK_FILE)
        return VL_OK;
    if (!(full = vl_path_join(w->root, rel)))
        return vl_error_oom(err);
    w->rc = identify_one(w->r, full);
    free(full);
    return w->rc ? VL_ESYS : VL_OK;
}

static int walk(ident_run *r, const char *path)
{
    struct stat st;
    struct walk_ctx w = {r, path, 0};
    vl_error err = {0};
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return identify_one(r, path);
    if (vl_tree_walk(path, 1, walk_entry, &w, &err) != VL_OK && !w.rc) {
        fprintf(stderr, "vellum identify: cannot read '%s': %s\n", cli_text(path),
                cli_text(err.msg));
        r->rc = CLI_EXIT_USAGE;
    }
    return w.rc;
}

/* $XDG_CACHE_HOME/vellum or ~/.cache/vellum, made if missing; NULL when
 * there is no such place (then nothing is cached). */
static char *cache_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *base = xdg && *xdg ? vl_strdup(xdg)
                 : home && *home ? vl_path_join(home, ".cache") : NULL;
    char *dir = base ? vl_path_join(base, "vellum") : NULL;
    if (base)
        mkdir(base, 0700);
    if (dir && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        free(dir);
        dir = NULL;
    }
    free(base);
    return dir;
}

CLI_COMMAND(identify)
{
    enum { OPT_SIGS = 1000, OPT_CONT, OPT_FORMAT, OPT_PRONOM_ONLY };
    static const struct option opts[] = {
        CLI_COMMON_OPTIONS,
        {"signatures", required_argument, 0, OPT_SIGS},
        {"containers", required_argument, 0, OPT_CONT},
        {"format", required_argument, 0, OPT_FORMAT},
        {"pronom-only", no_argument, 0, OPT_PRONOM_ONLY},
        {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_signatures *sigs = NULL;
    vl_repo *repo = NULL;
    const char *sig_path = NULL, *cont_path = NULL, *format = NULL;
    char *cache = NULL;
    ident_run r = {0};
    int opt, rc = CLI_EXIT_OK, pronom_only = 0;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        case OPT_PRONOM_ONLY: pronom_only = 1; break;
        case OPT_SIGS: sig_path = optarg; break;
        case OPT_CONT: cont_path = optarg; break;
        case OPT_FORMAT: format = optarg; break;
        default:
            return cli_option_error("identify", argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error("identify", "no file given");
    r.format = c.json ? FMT_JSON : FMT_TEXT;
    if (format) {
        if (!strcmp(format, "text") && !c.json)
            r.format = FMT_TEXT;
        else if (!strcmp(format, "csv") && !c.json)
            r.format = FMT_CSV;
        else if (!strcmp(format, "json"))
            r.format = FMT_JSON;
        else
            return cli_usage_error("identify", "--format takes text, csv or json%s",
                                   c.json ? " (and --json is json)" : "");
    }
    if (!sig_path && getenv("VELLUM_PRONOM_SIGNATURES") && *getenv("VELLUM_PRONOM_SIGNATURES"))
        sig_path = getenv("VELLUM_PRONOM_SIGNATURES");
    if (!cont_path && getenv("VELLUM_PRONOM_CONTAINERS") && *getenv("VELLUM_PRONOM_CONTAINERS"))
        cont_path = getenv("VELLUM_PRONOM_CONTAINERS");
    /* a repository named on purpose lends its settings */
    /* only --repo: $VELLUM_REPO is set for the other commands, and identify
     * works without a repository */
    if (!sig_path && c.repo) {
        if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
            goto done;
        sig_path = vl_repo_config_get(repo, VL_CONF_PRONOM_SIGNATURES);
        if (!cont_path)
            cont_path = vl_repo_config_get(repo, VL_CONF_PRONOM_CONTAINERS);
        if (sig_path && !*sig_path)
            sig_path = NULL;
        if (cont_path && !*cont_path)
            cont_path = NULL;
    }
    if (pronom_only && !sig_path) {
        rc = cli_usage_error("identify", "--pronom-only needs a signature file "
                             "(--signatures)");
        goto done;
    }
    if (cont_path && !sig_path) {
        rc = cli_usage_error("identify", "--containers needs a signature file "
                             "(--signatures)");
        goto done;
    }
    if (sig_path) {
        cache = cache_dir();
        if (vl_signatures_open(sig_path, cont_path, cache, &sigs, &err) != VL_OK) {
            rc = cli_fail(&err);
            goto done;
        }
    }
    r.cap = vl_identify_prefix_bytes();
    if (!(r.buf = malloc(r.cap))) {
        vl_error_oom(&err);
        rc = cli_fail(&err);
        goto done;
    }
    if (vl_identifier_open(sigs, &r.idf, &err) != VL_OK ||
        (pronom_only && vl_identifier_pronom_only(r.idf, &err) != VL_OK)) {
        rc = cli_fail(&err);
        goto done;
    }
    r.arr = r.format == FMT_JSON ? json_array() : NULL;
    r.progress = cli_progress_enabled(&c);
    r.started = r.last_shown = vl_time_mono();
    if (r.format == FMT_CSV)
        fputs("path,size,puid,format,version,mime,basis,warning\r\n", stdout);
    for (int i = optind; i < argc && rc == CLI_EXIT_OK; i++)
        rc = walk(&r, argv[i]);
    if (rc != CLI_EXIT_OK)
        goto done;
    if (r.progress && vl_time_mono() - r.started >= 1.0)
        show_progress(&r, 1);
    if (r.arr) {
        cli_print_json(r.arr);
        r.arr = NULL;
    }
    rc = r.rc;
done:
    json_decref(r.arr);
    vl_identifier_close(r.idf);
    vl_signatures_close(sigs);
    vl_repo_close(repo);
    free(r.buf);
    free(cache);
    return rc;
}
