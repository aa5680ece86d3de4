/* vellum show: an object's versions and the files of one version. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vl_metadata.h"

static const char usage[] =
    "usage: vellum show ID [--version vN] [--mets] [--repo DIR] [--json]\n"
    "\n"
    "Show an object's versions (created, user, message) and the files of the\n"
    "head version, or of vN: size, digest, format (MIME type, PUID), logical\n"
    "path and where it is stored.  The size of the object's root\n"
    "inventory.json is given too (--json: inventory_bytes): it grows with\n"
    "every version and every file any version held.\n"
    "--mets prints the METS.xml stored with the version instead (its digest\n"
    "checked as it is read); --json does not apply to it.\n";

/* A file's line of the text table, kept until every width is known. */
struct row {
    uint64_t size;
    char *logical, *content, *digest, *mime, *puid;
};

struct show_ctx {
    int json;
    vl_digest_alg alg;
    vl_catalog *cat;
    const char *id;
    struct row *rows;   /* text: the table, printed at the end */
    size_t n, cap;
    int oom;
    /* --json: the document as jansson prints it with an empty files array,
     * cut where that array opens; each file is printed as it comes. */
    char *doc;
    const char *tail;   /* from the array's "]" to the end */
    int started;        /* doc up to the "[" printed */
    size_t nfiles;
    vl_error *err;      /* why a callback stopped the listing */
};

struct fmt_copy {
    char mime[128], puid[32], name[160];
    json_t *json;
    int found;          /* the catalog has the file's format */
};

static int got_format(void *arg, const vl_catalog_format *f)
{
    struct fmt_copy *c = arg;
    c->found = 1;
    snprintf(c->mime, sizeof c->mime, "%s", f->mime ? f->mime : "");
    snprintf(c->puid, sizeof c->puid, "%s", f->puid ? f->puid : "");
    snprintf(c->name, sizeof c->name, "%s%s%s", f->format_name ? f->format_name : "",
             f->format_version ? " " : "", f->format_version ? f->format_version : "");
    c->json = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
                        "mime", f->mime, "encoding", f->encoding, "description",
                        f->description, "puid", f->puid, "name", f->format_name,
                        "version", f->format_version, "basis", f->basis, "warning",
                        f->warning, "also_matches", f->others, "signatures",
                        f->signatures);
    return 0;
}

/* Bytes of the object's root inventory.json, asked of the backend (a
 * bucket too): every version rewrites it whole, so its size is what each
 * new version costs to write and to read. */
static int inventory_bytes(vl_repo *repo, const char *path, const char *id,
                           uint64_t *size, vl_error *err)
{
    int kind = 0;
    char *rel = path ? vl_path_join(path, VL_INVENTORY_FILE) : NULL;
    if (!rel)
        return vl_error_oom(err);
    int rc = vl_backend_stat(vl_repo_backend(repo), rel, &kind, size, err);
    if (rc == VL_OK && kind != VL_WALK_FILE)
        rc = vl_error_set(err, VL_ESYS, "object \"%s\": %s is not there",
                          id, rel);
    free(rel);
    return rc;
}

/* The --json document up to its files array's "[", once. */
static void json_start(struct show_ctx *s)
{
    if (!s->started)
        fwrite(s->doc, 1, (size_t)(s->tail - s->doc), stdout);
    s->started = 1;
}

/* One element of the files array, laid out as jansson lays it out two
 * levels down (a newline inside a JSON string is always escaped, so each
 * newline of the dump starts a line to indent). */
static int json_file(struct show_ctx *s, json_t *file)
{
    char *one = file ? json_dumps(file, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(file);
    if (!one)
        return vl_error_oom(s->err);
    json_start(s);
    fputs(s->nfiles++ ? ",\n    " : "\n    ", stdout);
    for (const char *p = one, *nl; *p; p = nl + 1) {
        if (!(nl = strchr(p, '\n'))) {
            fputs(p, stdout);
            break;
        }
        fwrite(p, 1, (size_t)(nl + 1 - p), stdout);
        fputs("    ", stdout);
    }
    free(one);
    return VL_OK;
}

static int print_file(void *arg, const vl_catalog_file *f)
{
    struct show_ctx *s = arg;
    struct fmt_copy fc = {"", "", "", NULL, 0};
    int rc = vl_catalog_format_get(s->cat, s->id, f->digest, got_format, &fc, s->err);
    if (rc != VL_OK) {
        json_decref(fc.json);
        return rc;
    }
    if (s->json) {
        if (fc.found && !fc.json)   /* not copied: never left out */
            return vl_error_oom(s->err);
        return json_file(s, json_pack("{s:s, s:s, s:s, s:I, s:o*}", "path",
                                      f->logical, "content", f->content, "digest",
                                      f->digest, "size", (json_int_t)f->size,
                                      "format", fc.json));
    } else {
        json_decref(fc.json);   /* only the --json listing takes it */
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            struct row *nr = realloc(s->rows, cap * sizeof *nr);
            if (!nr) {
                s->oom = 1;
                return 0;
            }
            s->rows = nr;
            s->cap = cap;
        }
        struct row *r = &s->rows[s->n];
        r->size = f->size;
        r->logical = strdup(f->logical);
        r->content = strdup(f->content);
        r->digest = strdup(f->digest);
        r->mime = strdup(fc.mime[0] ? fc.mime : "-");
        r->puid = strdup(fc.puid[0] ? fc.puid : "-");
        s->n++;
        if (!r->logical || !r->content || !r->digest || !r->mime || !r->puid)
            s->oom = 1;
    }
    return 0;
}

/* The table: fixed columns first, then the logical path padded to the
 * longest one (up to 60 columns: a longer path pushes only its own line's
 * last column out), then where the file is stored. */
static void print_rows(const struct show_ctx *s)
{
    int mime_w = 10, path_w = 0;
    for (size_t i = 0; i < s->n; i++) {
        int w = cli_text_width(s->rows[i].mime);
        if (w > mime_w)
            mime_w = w > 40 ? 40 : w;
        w = cli_text_width(s->rows[i].logical);
        if (w > path_w)
            path_w = w > 60 ? 60 : w;
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct row *r = &s->rows[i];
        printf("  %12llu  %s:%.16s...  ", (unsigned long long)r->size,
               vl_digest_name(s->alg), r->digest);
        cli_print_padded(r->mime, mime_w);
        printf("  %-10s  ", r->puid);
        cli_print_padded(r->logical, path_w);
        printf("  %s\n", cli_text(r->content));
    }
}

static void free_rows(struct show_ctx *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].logical);
        free(s->rows[i].content);
        free(s->rows[i].digest);
        free(s->rows[i].mime);
        free(s->rows[i].puid);
    }
    free(s->rows);
}

CLI_COMMAND(show)
{
    static const struct option opts[] = {
        {"version", required_argument, NULL, 'v'}, {"mets", no_argument, NULL, 'm'},
        CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_inventory *inv = NULL;
    int opt, rc, num = 0, mets = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'v':
            if ((num = cli_parse_version(optarg)) < 0)
                return cli_usage_error("show", "--version takes vN, e.g. v2");
            break;
        case 'm':
            mets = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            return cli_option_error("show", argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("show", "give one object id");
    if ((rc = cli_check_id(argv[optind])) != CLI_EXIT_OK)
        return rc;
    const char *id = argv[optind];
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    if (mets) {   /* the XML itself, streamed: --json does not apply */
        fflush(stdout);
        if (vl_mets_stored_to_fd(repo, id, num, STDOUT_FILENO, &err) != VL_OK)
            rc = cli_fail_object(repo, id, &err);
        goto done;
    }
    if (vl_repo_load_inventory(repo, id, &inv, &err) != VL_OK) {
        rc = cli_fail_object(repo, id, &err);
        goto done;
    }
    int head = vl_inventory_head(inv);
    if (num == 0)
        num = head;
    if (num > head) {
        rc = cli_usage_error("show", "\"%s\" has no version v%d (head is v%d)", id,
                             num, head);
        goto done;
    }
    struct show_ctx s = {c.json, vl_inventory_digest_alg(inv), vl_repo_catalog(repo), id,
                         NULL, 0, 0, 0, NULL, NULL, 0, 0, &err};
    json_t *versions = c.json ? json_array() : NULL;
    int versions_ok = !c.json || versions;
    char *path = vl_repo_object_path(repo, id);
    uint64_t inv_bytes = 0;
    if (inventory_bytes(repo, path, id, &inv_bytes, &err) != VL_OK) {
        json_decref(versions);
        free(path);
        rc = cli_fail_object(repo, id, &err);
        goto done;
    }
    char inv_human[32];
    vl_size_format(inv_bytes, inv_human);
    if (!c.json)
        printf("object    %s\nstored    store/%s\ndigest    %s\nhead      v%d\n"
               "inventory %s (%llu bytes)\n\nversions:\n",
               cli_text(id), path ? path : "?", vl_digest_name(s.alg), head,
               inv_human, (unsigned long long)inv_bytes);
    for (int v = 1; v <= head; v++) {
        vl_version_info vi;
        char vname[16];
        vl_inventory_version_name(inv, v, vname);
        if (vl_inventory_version_info(inv, v, &vi) != 0)
            continue;
        if (versions)
            versions_ok &= json_array_append_new(versions, json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:I}",
                                  "version", vname, "created", vi.created, "message",
                                  vi.message, "user", vi.user_name, "address",
                                  vi.user_address, "files", (json_int_t)(vi.file_count - vi.metadata_count),
                                  "metadata_files", (json_int_t)vi.metadata_count)) == 0;
        else
            printf("  %-5s %s  %zu file%s%s  %s%s%s%s  %s\n", vname, cli_text(vi.created),
                   vi.file_count - vi.metadata_count,
                   vi.file_count - vi.metadata_count == 1 ? "" : "s",
                   vi.metadata_count ? " (+ METS.xml)" : "", vi.user_name ? cli_text(vi.user_name) : "-",
                   vi.user_address ? " <" : "", cli_text(vi.user_address),
                   vi.user_address ? ">" : "", cli_text(vi.message));
    }
    if (c.json) {
        /* Everything but the files, as cli_print_json prints it; the files
         * array is cut out of it and written one file at a time. */
        static const char marker[] = "\n  \"files\": []";
        json_t *top = json_pack("{s:s, s:s?, s:s, s:i, s:I, s:o, s:i, s:o}", "id",
                                id, "path", path, "digestAlgorithm",
                                vl_digest_name(s.alg), "head", head,
                                "inventory_bytes", (json_int_t)inv_bytes,
                                "versions", versions, "version", num, "files",
                                json_array());
        char *cut;
        s.doc = top ? json_dumps(top, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        json_decref(top);
        if (!versions_ok || !s.doc || !(cut = strstr(s.doc, marker))) {
            vl_error_oom(&err);   /* the marker is always there */
            free(s.doc);
            free(path);
            rc = cli_fail(&err);
            goto done;
        }
        s.tail = cut + sizeof marker - 2;   /* at its "]" */
    } else {
        printf("\nfiles in v%d:\n", num);
    }
    rc = vl_catalog_files(vl_repo_catalog(repo), id, num, print_file, &s, &err);
    if (rc != VL_OK) {
        if (!err.msg[0])
            vl_error_set(&err, VL_ESYS, "object \"%s\": cannot list its files", id);
        if (s.started)   /* what was printed is cut short: say so */
            fputs("\n", stdout);
        fflush(stdout);
        rc = cli_fail_object(repo, id, &err);
    } else if (c.json) {
        json_start(&s);
        printf("%s%s\n", s.nfiles ? "\n  " : "", s.tail);
    } else if (s.oom) {
        fputs("vellum: out of memory\n", stderr);
        rc = CLI_EXIT_SYSTEM;
    } else {
        print_rows(&s);
    }
    free(s.doc);
    free_rows(&s);
    free(path);
done:
    vl_inventory_free(inv);
    vl_repo_close(repo);
    return rc;
}
