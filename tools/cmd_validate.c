/* vellum validate: OCFL 1.0/1.1 conformance and digest check of objects in
 * the repository, of its whole storage root, or of any folder (--path). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vl_metadata.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vellum validate [ID... | --all] [options]\n"
            "       vellum validate --path DIR [options]\n\n"
            "Check OCFL 1.0/1.1 conformance (codes from the OCFL validation "
            "table)\nand recompute every content and fixity digest.  A staged "
            "head (extension\n0005-mutable-head) is checked as a version too: "
            "its inventory, sidecar,\nversions against the root's, content "
            "and digests; its own rules (revision\nmarkers, "
            "root-inventory.json.ALG) are E0005, a version conflict W0005.\n\n"
            "  --all           the whole storage root (the default without "
            "IDs)\n"
            "  --path DIR      any OCFL storage root or object folder (a folder "
            "without\n"
            "                  a declaration is checked as an object missing it)\n"
            "  --no-digests    check structure only\n"
            "  --sizes         also one line per object with the size of its "
            "root\n"
            "                  inventory.json (`size <object>: inventory.json "
            "N KiB\n"
            "                  (N bytes)`; --json: an entry with code SIZE, "
            "severity\n"
            "                  info and inventory_bytes), which every version "
            "rewrites\n"
            "  --mets          also validate each object's METS.xml against the "
            "METS,\n"
            "                  PREMIS, MODS and DC schemas (needs `vellum config "
            "schemas PATH`\n"
            "                  or $VELLUM_SCHEMAS)\n"
            "  --json          findings as a JSON array (code, severity, object,\n"
            "                  path, message, and the facts: problem, object_root,\n"
            "                  content_path, algorithm, expected, actual)\n"
            "  --repo DIR      repository (default $VELLUM_REPO or "
            "./vellum-repo)\n\n"
            "Exit: 0 valid (warnings allowed), 1 errors found, 2 no such folder "
            "or bad\nusage, 3 system error.\n");
}

typedef struct out_state {
    int json;
    size_t printed;
} out_state;

/* The finding's problem, as the JSON output names it. */
static const char *problem_name(int problem)
{
    switch (problem) {
    case VL_PROBLEM_MISMATCH: return "mismatch";
    case VL_PROBLEM_MISSING: return "missing";
    case VL_PROBLEM_UNREADABLE: return "unreadable";
    case VL_PROBLEM_UNEXPECTED: return "unexpected";
    default: return "other";
    }
}

static void print_finding(void *arg, const vl_finding *f)
{
    out_state *s = arg;
    if (!s->json) {
        printf("%s %s: %s\n", cli_text(f->code), cli_text(f->object),
               cli_text(f->message));
        s->printed++;
        return;
    }
    /* The facts too, for programs that act on findings: null where they
     * do not apply. */
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?,"
                          " s:s?, s:s?}",
                          "code", f->code, "severity",
                          f->severity == VL_SEV_ERROR ? "error" : "warning",
                          "object", f->object, "path", f->path, "message",
                          f->message, "problem", problem_name(f->problem),
                          "object_root", f->object_root, "content_path",
                          f->content_path, "algorithm", f->algorithm,
                          "expected", f->expected, "actual", f->actual);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (text)
        printf("%s\n  %s", s->printed ? "," : "", text);
    s->printed++;
    free(text);
    json_decref(o);
}

/* --sizes: after each object's findings, its root inventory's size. */
static void print_object(void *arg, const vl_validated_object *vo)
{
    out_state *s = arg;
    char human[32], msg[1200];
    if (vo->inventory_known) {
        vl_size_format(vo->inventory_bytes, human);
        snprintf(msg, sizeof msg, "inventory.json %s (%llu bytes)", human,
                 (unsigned long long)vo->inventory_bytes);
    } else {
        snprintf(msg, sizeof msg, "inventory.json: no size (%s)",
                 vo->unknown_why ? vo->unknown_why : "?");
    }
    if (!s->json) {
        printf("size %s: %s\n", cli_text(vo->object), cli_text(msg));
        return;
    }
    char *path = vl_path_join(vo->object_root, VL_INVENTORY_FILE);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "code", "SIZE",
                          "severity", "info", "object", vo->object, "path",
                          path ? path : VL_INVENTORY_FILE, "message", msg,
                          "object_root", vo->object_root, "inventory_bytes",
                          vo->inventory_known
                              ? json_integer((json_int_t)vo->inventory_bytes)
                              : json_null());
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (text)
        printf("%s\n  %s", s->printed ? "," : "", text);
    s->printed++;
    free(text);
    free(path);
    json_decref(o);
}

static void print_summary(const out_state *s, const vl_validate_counts *c)
{
    if (s->json) {
        printf("%s]\n", s->printed ? "\n" : "");
        return;
    }
    printf("validated %zu object%s: %zu error%s, %zu warning%s\n", c->objects,
           c->objects == 1 ? "" : "s", c->errors, c->errors == 1 ? "" : "s",
           c->warnings, c->warnings == 1 ? "" : "s");
}

/* --mets: the head version's METS.xml of each object, against the schemas
 * (offline).  Each problem is an error finding "METS <id>: METS.xml:L: msg". */
typedef struct mets_run {
    vl_repo *repo;
    const char *schemas;
    out_state *out;
    vl_validate_counts *c;
    const char *id;
    vl_error *err;
    int rc;                   /* a failure that stops the command */
} mets_run;

static void mets_finding(mets_run *m, int severity, const char *message)
{
    vl_finding f = {.code = "METS", .severity = severity, .object = m->id,
                    .path = VL_METS_FILE, .message = message};
    print_finding(m->out, &f);
    if (severity == VL_SEV_ERROR)
        m->c->errors++;
    else
        m->c->warnings++;
}

static void mets_message(void *arg, const char *message)
{
    mets_finding(arg, VL_SEV_ERROR, message);
}

static int mets_check(mets_run *m, const char *id)
{
    vl_inventory *inv = NULL;
    vl_error lerr = {0};
    char *rel = NULL, *full = NULL;
    const char *digest, *content;
    int rc = VL_OK;

    m->id = id;
    /* An object whose inventory cannot be read was reported above. */
    if (vl_repo_load_inventory(m->repo, id, &inv, &lerr) != VL_OK)
        goto done;
    digest = vl_inventory_lookup(inv, vl_inventory_head(inv), VL_METS_FILE);
    content = digest ? vl_inventory_content_path(inv, digest) : NULL;
    if (!content) {
        mets_finding(m, VL_SEV_WARNING, "no METS.xml in the head version");
        goto done;
    }
    if (!(rel = vl_repo_object_path(m->repo, id)) ||
        !(full = vl_asprintf("%s/%s/%s", vl_backend_root(vl_repo_backend(m->repo)),
                             rel, content))) {
        rc = vl_error_oom(m->err);
        goto done;
    }
    rc = vl_schema_validate_mets(m->schemas, full, mets_message, m, &lerr);
    if (rc == VL_ESYS) {   /* unreadable: a finding, go on with the rest */
        mets_finding(m, VL_SEV_ERROR, lerr.msg);
        rc = VL_OK;
    } else if (rc == VL_FINDING) {
        rc = VL_OK;
    } else if (rc != VL_OK) {
        *m->err = lerr;
    }
done:
    vl_inventory_free(inv);
    free(rel);
    free(full);
    return rc;
}

static int mets_each(void *arg, const vl_catalog_object *o)
{
    mets_run *m = arg;
    return (m->rc = mets_check(m, o->id)) != VL_OK;
}

static int mets_all(mets_run *m, char **ids, int n)
{
    if (n) {
        for (int i = 0; i < n; i++)
            if ((m->rc = mets_check(m, ids[i])) != VL_OK)
                return m->rc;
        return VL_OK;
    }
    int rc = vl_catalog_objects(vl_repo_catalog(m->repo), mets_each, m, m->err);
    return m->rc != VL_OK ? m->rc : rc;
}

static int validate_ids(vl_repo *repo, char **ids, int n,
                        const vl_validate_options *o, vl_validate_counts *c,
                        int *missing, vl_error *err)
{
    vl_backend *b = vl_repo_backend(repo);
    for (int i = 0; i < n; i++) {
        char *rel = vl_repo_object_path(repo, ids[i]);
        int kind = 0, rc;
        if (!rel)
            return vl_error_oom(err);
        rc = vl_backend_stat(b, rel, &kind, NULL, err);
        if (rc == VL_OK && kind != VL_WALK_DIR) {
            vl_error miss = {0};
            vl_error_set(&miss, VL_EINPUT, "no object with id %s", ids[i]);
            cli_fail_object(repo, ids[i], &miss);
            *missing = 1;
        } else if (rc == VL_OK) {
            rc = vl_validate_object(b, rel, o, c, err);
        }
        free(rel);
        if (rc != VL_OK)
            return rc;
    }
    return VL_OK;
}

int cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"path", required_argument, NULL, 'p'},
        {"all", no_argument, NULL, 'a'},
        {"no-digests", no_argument, NULL, 'n'},
        {"mets", no_argument, NULL, 'm'},
        {"sizes", no_argument, NULL, 's'},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cli_common com = {0};
    const char *path = NULL;
    const char *schemas = NULL;
    int all = 0, digests = 1, mets = 0, sizes = 0, opt, missing = 0, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&com, opt, optarg))
            continue;
        switch (opt) {
        case 'p': path = optarg; break;
        case 'a': all = 1; break;
        case 'n': digests = 0; break;
        case 'm': mets = 1; break;
        case 's': sizes = 1; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_option_error("validate", argv);
        }
    }
    int nids = argc - optind;
    for (int i = optind; i < argc; i++)
        if ((rc = cli_check_id(argv[i])) != CLI_EXIT_OK)
            return rc;
    if (path && (all || nids))
        return cli_usage_error("validate", "--path takes no IDs or --all");
    if (all && nids)
        return cli_usage_error("validate", "give IDs or --all, not both");
    if (mets && path)
        return cli_usage_error("validate", "--mets works on the repository's "
                               "objects, not --path");
    out_state st = {.json = com.json};
    vl_validate_options o = {.check_digests = digests, .nthreads = 0,
                             .on_finding = print_finding, .arg = &st,
                             .on_object = sizes ? print_object : NULL};
    vl_validate_counts c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    if (!path && (rc = cli_open_repo_mode(&com, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        return rc;
    if (mets) {
        schemas = getenv("VELLUM_SCHEMAS");
        if (!schemas || !*schemas)
            schemas = vl_repo_config_get(repo, "schemas");
        if (!schemas || !*schemas) {
            vl_repo_close(repo);
            return cli_usage_error("validate", "--mets needs the schemas: run "
                                   "`vellum config schemas PATH` (or set "
                                   "VELLUM_SCHEMAS)");
        }
    }
    if (com.json)
        printf("[");
    if (path)
        rc = vl_validate_path(path, &o, &c, &err);
    else if (nids)
        rc = validate_ids(repo, argv + optind, nids, &o, &c, &missing, &err);
    else
        rc = vl_validate_storage_root(vl_repo_backend(repo), &o, &c, &err);
    if (rc == VL_OK && mets) {
        mets_run m = {.repo = repo, .schemas = schemas, .out = &st, .c = &c,
                      .err = &err};
        rc = mets_all(&m, argv + optind, nids);
    }
    if (rc == VL_OK)
        print_summary(&st, &c);
    else if (com.json)
        printf("%s]\n", st.printed ? "\n" : "");
    fflush(stdout);
    if (repo)
        vl_repo_close(repo);
    if (rc != VL_OK)
        return cli_fail(&err);
    if (missing)
        return CLI_EXIT_USAGE;
    return c.errors ? CLI_EXIT_FINDINGS : CLI_EXIT_OK;
}
