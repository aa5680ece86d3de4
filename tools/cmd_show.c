/* vellum show: an object's versions and the files of one version. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "vl_metadata.h"

static const char usage[] =
    "usage: vellum show ID [--version vN] [--limit N [--after PATH]] [--mets]\n"
    "                   [--repo DIR] [--json]\n"
    "\n"
    "Show an object's versions (created, user, message) and the files of the\n"
    "head version, or of vN: size, digest, format (MIME type, PUID), logical\n"
    "path and where it is stored.  The size of the object's root\n"
    "inventory.json is given too (--json: inventory_bytes): it grows with\n"
    "every version and every file any version held.\n"
    "--limit N lists at most N files, in path order; --after PATH starts after\n"
    "that logical path.  When more files follow, the last line names the path\n"
    "to give --after next (--json: next_after, null after the last page).\n"
    "--mets prints the METS.xml stored with the version instead (its digest\n"
    "checked as it is read); --json does not apply to it.\n"
    "A staged head (deposits made with 'vellum ingest --stage', not yet\n"
    "committed) is shown apart: its version, revisions and files (--json:\n"
    "staged, null when there is none).  --version, --limit and --mets, and\n"
    "the other read commands, see the committed versions only.\n";

struct show_ctx {
    int json;
    vl_digest_alg alg;
    const char *id;
    /* text: the files are listed twice, first for the widths of the
     * columns (measuring), then printed */
    int measuring;
    int mime_w, path_w;
    /* --json: the document as jansson prints it with an empty files array,
     * cut where that array opens; each file is printed as it comes. */
    char *doc;
    const char *tail;   /* from the array's "]" to the end */
    int started;        /* doc up to the "[" printed */
    size_t nfiles;
    /* a page: at most limit files (0: all) after `after`; one more is
     * asked for, to tell whether another page follows */
    const char *after;
    size_t limit, seen;
    char *last;         /* the page's last path, when more follow */
    int more;
    vl_error *err;      /* why a callback stopped the listing */
};

struct fmt_copy {
    char mime[128], puid[32], name[160];
    json_t *json;
    int want_json;
};

static int got_format(void *arg, const vl_catalog_format *f)
{
    struct fmt_copy *c = arg;
    snprintf(c->mime, sizeof c->mime, "%s", f->mime ? f->mime : "");
    snprintf(c->puid, sizeof c->puid, "%s", f->puid ? f->puid : "");
    snprintf(c->name, sizeof c->name, "%s%s%s", f->format_name ? f->format_name : "",
             f->format_version ? " " : "", f->format_version ? f->format_version : "");
    if (!c->want_json)
        return 0;
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
    if (!file)
        return vl_error_oom(s->err);
    json_start(s);
    fputs(s->nfiles++ ? ",\n    " : "\n    ", stdout);
    return cli_print_json_element(file, "    ") == 0 ? VL_OK : vl_error_oom(s->err);
}

static int print_file(void *arg, const vl_catalog_file_detail *d)
{
    struct show_ctx *s = arg;
    const vl_catalog_file *f = &d->file;
    struct fmt_copy fc = {"", "", "", NULL, s->json};
    if (s->limit && ++s->seen > s->limit) {
        s->more = 1;
        return 0;
    }
    if (s->limit && s->seen == s->limit && !s->measuring) {
        free(s->last);
        if (!(s->last = vl_strdup(f->logical)))
            return vl_error_oom(s->err);
    }
    if (d->format)
        got_format(&fc, d->format);
    if (s->json) {
        if (d->format && !fc.json)   /* not copied: never left out */
            return vl_error_oom(s->err);
        return json_file(s, json_pack("{s:s, s:s, s:s, s:I, s:o*}", "path",
                                      f->logical, "content", f->content, "digest",
                                      f->digest, "size", (json_int_t)f->size,
                                      "format", fc.json));
    }
    const char *mime = fc.mime[0] ? fc.mime : "-";
    if (s->measuring) {
        int w = cli_text_width(mime);
        if (w > s->mime_w)
            s->mime_w = w > 40 ? 40 : w;
        w = cli_text_width(f->logical);
        if (w > s->path_w)
            s->path_w = w > 60 ? 60 : w;
        return 0;
    }
    /* The table: fixed columns first, then the logical path padded to the
     * longest one (up to 60 columns: a longer path pushes only its own
     * line's last column out), then where the file is stored. */
    printf("  %12llu  %s:%.16s...  ", (unsigned long long)f->size,
           vl_digest_name(s->alg), f->digest);
    cli_print_padded(mime, s->mime_w);
    printf("  %-10s  ", fc.puid[0] ? fc.puid : "-");
    cli_print_padded(f->logical, s->path_w);
    printf("  %s\n", cli_text(f->content));
    return 0;
}

/* A staged head (OCFL extension 0005), which the catalog does not hold:
 * its version, revisions and files from its own inventory.  Text is
 * printed; --json gets *out (NULL when there is none). */
struct staged_ctx {
    json_t *state;    /* --json */
    vl_digest_alg alg;
    const vl_inventory *inv;
};

static int staged_file(void *arg, const char *logical, const char *digest)
{
    struct staged_ctx *c = arg;
    const char *content = vl_inventory_content_path(c->inv, digest);
    if (c->state)
        return json_array_append_new(c->state, json_pack("{s:s, s:s, s:s?}", "path",
                                                         logical, "digest", digest,
                                                         "content", content));
    printf("  %s:%.16s...  %s  %s\n", vl_digest_name(c->alg), digest, cli_text(logical),
           cli_text(content));
    return 0;
}

static int show_staged(vl_repo *repo, const char *id, int json, json_t **out,
                       vl_error *err)
{
    vl_mhead_info mi;
    vl_inventory *inv = NULL;
    vl_version_info vi;
    char vname[16];
    struct staged_ctx c = {NULL, 0, NULL};
    int rc = vl_mhead_get(repo, id, &mi, &inv, err);
    *out = NULL;
    if (rc != VL_OK || !mi.active)
        goto done;
    vl_inventory_version_name(inv, mi.version, vname);
    if (vl_inventory_version_info(inv, mi.version, &vi) != 0) {
        rc = vl_error_set(err, VL_ESYS, "object \"%s\": its staged head has no "
                          "version %s", id, vname);
        goto done;
    }
    c.alg = vl_inventory_digest_alg(inv);
    c.inv = inv;
    if (json) {
        c.state = json_array();
        *out = json_pack("{s:s, s:i, s:b, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:O*}",
                         "version", vname, "revisions", mi.revisions, "conflict",
                         mi.conflict, "created", vi.created, "message", vi.message,
                         "user", vi.user_name, "address", vi.user_address, "files",
                         (json_int_t)(vi.file_count - vi.metadata_count),
                         "metadata_files", (json_int_t)vi.metadata_count, "state",
                         c.state);
        if (!*out) {
            rc = vl_error_oom(err);
            goto done;
        }
    } else {
        printf("\nstaged head %s (not committed: 'vellum %s %s'), %d revision%s%s:\n"
               "  %-5s %s  %zu file%s%s  %s  %s\n", vname,
               mi.conflict ? "discard" : "commit", cli_text(id), mi.revisions,
               mi.revisions == 1 ? "" : "s",
               mi.conflict ? "; VERSION CONFLICT: the root changed since, so it "
                             "cannot be committed" : "", vname,
               cli_text(vi.created), vi.file_count - vi.metadata_count,
               vi.file_count - vi.metadata_count == 1 ? "" : "s",
               vi.metadata_count ? " (+ METS.xml)" : "",
               vi.user_name ? cli_text(vi.user_name) : "-", cli_text(vi.message));
    }
    if (vl_inventory_state_foreach(inv, mi.version, staged_file, &c) != 0)
        rc = vl_error_set(err, VL_ESYS, "object \"%s\": cannot list its staged head", id);
done:
    json_decref(c.state);
    if (rc != VL_OK) {
        json_decref(*out);
        *out = NULL;
    }
    vl_inventory_free(inv);
    return rc;
}

static int got_head(void *arg, const vl_catalog_object *o)
{
    *(int *)arg = o->head;
    return 0;
}

/* The version's files from the catalog, printed (text: measured first). */
static int list_files(vl_repo *repo, struct show_ctx *s, int num, vl_error *err)
{
    vl_catalog *cat = vl_repo_catalog(repo);
    int head = 0, rc = vl_catalog_get_object(cat, s->id, got_head, &head, err);
    if (rc == VL_OK && (num < 1 || num > head))
        rc = vl_error_set(err, VL_EINPUT, "object \"%s\" has no version %d",
                          s->id, num);
    size_t ask = s->limit ? s->limit + 1 : 0;
    s->measuring = !s->json;
    s->mime_w = 10;
    if (rc == VL_OK && s->measuring)
        rc = vl_catalog_files_detail(cat, s->id, num, s->after, ask, print_file, s, err);
    s->measuring = 0;
    s->seen = 0;
    s->more = 0;
    if (rc == VL_OK)
        rc = vl_catalog_files_detail(cat, s->id, num, s->after, ask, print_file, s, err);
    return rc;
}

CLI_COMMAND(show)
{
    static const struct option opts[] = {
        {"version", required_argument, NULL, 'v'}, {"mets", no_argument, NULL, 'm'},
        {"limit", required_argument, NULL, 'l'}, {"after", required_argument, NULL, 'a'},
        CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_inventory *inv = NULL;
    int opt, rc, num = 0, mets = 0;
    const char *after = NULL;
    size_t limit = 0;
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
        case 'l': {
            char *end;
            unsigned long long n = strtoull(optarg, &end, 10);
            if (!*optarg || *end || n == 0 || optarg[0] == '-' || n > (1ull << 40))
                return cli_usage_error("show", "--limit takes a number of files, "
                                       "1 or more");
            limit = (size_t)n;
            break;
        }
        case 'a':
            after = optarg;
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
    if (after && !limit)
        return cli_usage_error("show", "--after goes with --limit");
    if (mets && limit)
        return cli_usage_error("show", "--limit lists files; --mets prints the METS");
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
    struct show_ctx s = {.json = c.json, .alg = vl_inventory_digest_alg(inv),
                         .id = id, .after = after, .limit = limit, .err = &err};
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
    json_t *staged = NULL;
    if (show_staged(repo, id, c.json, &staged, &err) != VL_OK) {
        json_decref(versions);
        free(path);
        rc = cli_fail_object(repo, id, &err);
        goto done;
    }
    if (c.json) {
        /* Everything but the files, as cli_print_json prints it; the files
         * array is cut out of it and written one file at a time. */
        static const char marker[] = "\n  \"files\": []";
        json_t *top = json_pack("{s:s, s:s?, s:s, s:i, s:I, s:o, s:i, s:o, s:o?}", "id",
                                id, "path", path, "digestAlgorithm",
                                vl_digest_name(s.alg), "head", head,
                                "inventory_bytes", (json_int_t)inv_bytes,
                                "versions", versions, "version", num, "files",
                                json_array(), "staged", staged);
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
    rc = list_files(repo, &s, num, &err);
    if (rc != VL_OK) {
        if (!err.msg[0])
            vl_error_set(&err, VL_ESYS, "object \"%s\": cannot list its files", id);
        if (s.started)   /* end the cut-short document's line; stderr says why */
            fputs("\n", stdout);
        fflush(stdout);
        rc = cli_fail_object(repo, id, &err);
    } else if (c.json) {
        json_start(&s);
        if (limit) {   /* the page's continuation, after the files array */
            json_t *next = s.more ? json_string(s.last) : json_null();
            char *one = next ? json_dumps(next, JSON_ENCODE_ANY) : NULL;
            json_decref(next);
            if (!one) {
                vl_error_oom(&err);
                rc = cli_fail(&err);
                goto listed;
            }
            printf("%s],\n  \"next_after\": %s%s\n", s.nfiles ? "\n  " : "", one,
                   s.tail + 1);
            free(one);
        } else {
            printf("%s%s\n", s.nfiles ? "\n  " : "", s.tail);
        }
    } else if (s.more) {
        printf("\nmore files follow: vellum show %s --limit %zu --after %s\n",
               cli_text(id), limit, cli_text(s.last));
    }
listed:
    free(s.last);
    free(s.doc);
    free(path);
done:
    vl_inventory_free(inv);
    vl_repo_close(repo);
    return rc;
}
