/* vellum validate: OCFL 1.0/1.1 conformance and digest check of objects in
 * the repository, of its whole storage root, or of any folder (--path). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vellum validate [ID... | --all] [options]\n"
            "       vellum validate --path DIR [options]\n\n"
            "Check OCFL 1.0/1.1 conformance (codes from the OCFL validation "
            "table)\nand recompute every content and fixity digest.\n\n"
            "  --all           the whole storage root (the default without "
            "IDs)\n"
            "  --path DIR      any OCFL storage root or object folder\n"
            "  --no-digests    check structure only\n"
            "  --json          findings as a JSON array\n"
            "  --repo DIR      repository (default $VELLUM_REPO or "
            "./vellum-repo)\n\n"
            "Exit: 0 valid (warnings allowed), 1 errors found, 2 not OCFL or "
            "bad usage, 3 system error.\n");
}

typedef struct out_state {
    int json;
    size_t printed;
} out_state;

static void print_finding(void *arg, const vl_finding *f)
{
    out_state *s = arg;
    if (!s->json) {
        printf("%s %s: %s\n", f->code, f->object, f->message);
        s->printed++;
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", f->code,
                          "severity",
                          f->severity == VL_SEV_ERROR ? "error" : "warning",
                          "object", f->object, "path", f->path, "message",
                          f->message);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (text)
        printf("%s\n  %s", s->printed ? "," : "", text);
    s->printed++;
    free(text);
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

static int validate_ids(vl_repo *repo, char **ids, int n,
                        const vl_validate_options *o, vl_validate_counts *c,
                        int *missing, vl_error *err)
{
    vl_backend *b = vl_repo_backend(repo);
    for (int i = 0; i < n; i++) {
        char *rel = vl_repo_object_path(repo, ids[i]);
        int kind = 0, rc;
        if (!rel)
            return vl_error_set(err, VL_ESYS, "out of memory");
        rc = vl_backend_stat(b, rel, &kind, NULL, err);
        if (rc == VL_OK && kind != VL_WALK_DIR) {
            fprintf(stderr, "vellum: no object with id %s\n", ids[i]);
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
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    cli_common com = {0};
    const char *path = NULL;
    int all = 0, digests = 1, opt, missing = 0, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&com, opt, optarg))
            continue;
        switch (opt) {
        case 'p': path = optarg; break;
        case 'a': all = 1; break;
        case 'n': digests = 0; break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: return cli_usage_error("validate", "unknown option");
        }
    }
    int nids = argc - optind;
    if (path && (all || nids))
        return cli_usage_error("validate", "--path takes no IDs or --all");
    if (all && nids)
        return cli_usage_error("validate", "give IDs or --all, not both");
    out_state st = {.json = com.json};
    vl_validate_options o = {.check_digests = digests, .nthreads = 0,
                             .on_finding = print_finding, .arg = &st};
    vl_validate_counts c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    if (!path && (rc = cli_open_repo(&com, &repo)) != CLI_EXIT_OK)
        return rc;
    if (com.json)
        printf("[");
    if (path)
        rc = vl_validate_path(path, &o, &c, &err);
    else if (nids)
        rc = validate_ids(repo, argv + optind, nids, &o, &c, &missing, &err);
    else
        rc = vl_validate_storage_root(vl_repo_backend(repo), &o, &c, &err);
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
