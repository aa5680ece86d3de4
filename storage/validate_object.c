/* OCFL validator: one object root (specification section 3): conformance
 * declaration, root and version inventories with their sidecars, version
 * folders, content files against the manifest, and the content and fixity
 * digests (recomputed in parallel, one streamed read per file). */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "validate_private.h"

#define ROOT_INV "inventory.json"

typedef struct octx {
    vv_ctx *v;
    vv_list root;            /* object root listing */
    vv_inv inv;              /* root inventory */
    vl_buf inv_data;         /* its bytes */
    int have_inv;
    int declared;            /* a valid 0=ocfl_object_1.x was found */
    unsigned char *seen;     /* per manifest entry: found on disk */
    size_t walked;           /* files found by the current content walk */
    size_t *ver_files;       /* per inventory version: manifest entries */
    vl_error *err;
} octx;

static int oom(vl_error *err)
{
    return vl_error_set(err, VL_ESYS, "out of memory");
}

static const vv_entry *find_entry(const vv_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->e[i].name, name))
            return &l->e[i];
    return NULL;
}

/* ---- conformance declaration ------------------------------------------- */

static int check_namaste_file(octx *o, const char *name)
{
    vv_ctx *v = o->v;
    const char *dvalue = name + 2;
    int spec = VV_SPEC_UNKNOWN;
    if (!strcmp(dvalue, "ocfl_object_1.0"))
        spec = VV_SPEC_1_0;
    else if (!strcmp(dvalue, "ocfl_object_1.1"))
        spec = VV_SPEC_1_1;
    else
        vv_report(v, "E006", name,
                  "declaration is not ocfl_object_ and a known OCFL version");
    vl_buf b;
    vl_buf_init(&b, 0);
    vl_error e = {0};
    int rc = vv_read(v, name, 4096, &b, &e);
    if (rc == VL_ESYS && e.sys_errno == ENOMEM) {
        vl_buf_release(&b);
        return oom(o->err);
    }
    if (rc != VL_OK)
        vv_report(v, "E007", name, "cannot read the declaration: %s", e.msg);
    else if (b.len != strlen(dvalue) + 1 || memcmp(b.data, dvalue, b.len - 1)
             || b.data[b.len - 1] != '\n')
        vv_report(v, "E007", name, "content is not '%s' and a newline",
                  dvalue);
    vl_buf_release(&b);
    if (spec != VV_SPEC_UNKNOWN)
        v->spec = spec;
    return VL_OK;
}

static int check_namaste(octx *o)
{
    size_t count = 0;
    int rc;
    for (size_t i = 0; i < o->root.n; i++) {
        const char *n = o->root.e[i].name;
        if (strncmp(n, "0=", 2))
            continue;
        count++;
        if (o->root.e[i].kind != VL_WALK_FILE)
            vv_report(o->v, "E002", n, "the declaration is not a file");
        else if ((rc = check_namaste_file(o, n)) != VL_OK)
            return rc;
    }
    if (count == 0)
        vv_report(o->v, "E003", "",
                  "no 0=ocfl_object_1.x conformance declaration");
    else if (count > 1)
        vv_report(o->v, "E003", "",
                  "%zu conformance declarations; there must be exactly one",
                  count);
    return VL_OK;
}

/* ---- sidecars ------------------------------------------------------------ */

static int parse_sidecar(const char *s, size_t len, char *digest, size_t cap)
{
    size_t i = 0;
    while (i < len && isxdigit((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= cap || i == len || (s[i] != ' ' && s[i] != '\t'))
        return -1;
    memcpy(digest, s, i);
    digest[i] = '\0';
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    const char *rest = s + i;
    size_t rlen = len - i;
    if (rlen && rest[rlen - 1] == '\n')
        rlen--;
    return rlen == 14 && !memcmp(rest, "inventory.json", 14) ? 0 : -1;
}

/* Check dir/inventory.json.ALG against the inventory bytes. */
static int check_sidecar(octx *o, const char *dir, const vv_list *entries,
                         const vv_inv *inv, const vl_buf *data)
{
    vv_ctx *v = o->v;
    int alg = inv->alg;
    const char *alg_name = inv->alg_name;
    if (alg < 0 || !alg_name)
        return VL_OK;   /* E025/E036 already said why */
    char name[64], *rel = NULL;
    snprintf(name, sizeof name, "inventory.json.%s", alg_name);
    const vv_entry *e = find_entry(entries, name);
    if (!(rel = vv_join(dir, name)))
        return oom(o->err);
    if (!e) {
        const char *other = NULL;
        for (size_t i = 0; i < entries->n && !other; i++)
            if (!strncmp(entries->e[i].name, "inventory.json.", 15))
                other = entries->e[i].name;
        if (other)
            vv_report(v, "E059", rel,
                      "missing; the sidecar %s does not match "
                      "digestAlgorithm %s", other, alg_name);
        else
            vv_report(v, "E058", rel, "inventory sidecar is missing");
        free(rel);
        return VL_OK;
    }
    vl_buf b;
    vl_buf_init(&b, 0);
    vl_error err = {0};
    char want[VL_DIGEST_HEX_MAX], have[VL_DIGEST_HEX_MAX];
    if (vv_read(v, rel, 4096, &b, &err) != VL_OK)
        vv_report(v, "E061", rel, "cannot read the sidecar: %s", err.msg);
    else if (parse_sidecar(b.data, b.len, have, sizeof have))
        vv_report(v, "E061", rel, "not of the form 'DIGEST inventory.json'");
    else {
        if (vl_digest_buffer((vl_digest_alg)alg, data->data, data->len,
                             want) != 0)
            vl_alloc_failed();  /* ends the run: see vv_finish */
        else if (strcasecmp(want, have)) {
            vv_facts f = {VL_PROBLEM_MISMATCH, rel, alg_name, have, want};
            vv_report_facts(v, "E060", rel, &f,
                            "digest %.16s... does not match the inventory "
                            "(computed %.16s...)", have, want);
        }
    }
    vl_buf_release(&b);
    free(rel);
    return VL_OK;
}

/* ---- object root entries ------------------------------------------------- */

static void check_extensions(octx *o, int kind)
{
    vv_ctx *v = o->v;
    if (kind != VL_WALK_DIR) {
        vv_report(v, "E001", "extensions", "extensions is not a folder");
        return;
    }
    vv_list l = {0};
    vl_error e = {0};
    char *p = vv_join(v->base, "extensions");
    if (!p || vv_list_dir(v->b, p, &l, &e) != VL_OK) {
        vv_report(v, "E067", "extensions", "cannot list: %s", e.msg);
        free(p);
        vv_list_free(&l);
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        char *rel = vv_join("extensions", l.e[i].name);
        if (l.e[i].kind != VL_WALK_DIR)
            vv_report(v, "E067", rel, "not an extension folder");
        else if (!vv_registered_extension(l.e[i].name))
            vv_report(v, "W013", rel, "not a registered extension name");
        free(rel);
    }
    vv_list_free(&l);
    free(p);
}

static int is_version_name(const char *n)
{
    long num;
    int pad;
    return vv_version_parse(n, &num, &pad) == 0;
}

/* 1 when the folder holds an object declaration (a nested object). */
static int holds_object(octx *o, const char *name)
{
    vv_list l = {0};
    vl_error e = {0};
    char *p = vv_join(o->v->base, name);
    int found = 0;
    if (p && vv_list_dir(o->v->b, p, &l, &e) == VL_OK)
        for (size_t i = 0; i < l.n && !found; i++)
            found = !strncmp(l.e[i].name, "0=ocfl_object_", 14);
    vv_list_free(&l);
    free(p);
    return found;
}

static void check_root_entries(octx *o)
{
    vv_ctx *v = o->v;
    for (size_t i = 0; i < o->root.n; i++) {
        const char *n = o->root.e[i].name;
        int k = o->root.e[i].kind;
        if (!strncmp(n, "0=", 2) || !strcmp(n, ROOT_INV) ||
            !strncmp(n, "inventory.json.", 15))
            continue;
        if (k == VL_WALK_SYMLINK) {
            vv_report(v, "E090", n, "symbolic link in an object");
        } else if (!strcmp(n, "extensions")) {
            check_extensions(o, k);
        } else if (!strcmp(n, "logs")) {
            if (k != VL_WALK_DIR)
                vv_report(v, "E001", n, "logs is not a folder");
        } else if (k == VL_WALK_DIR && is_version_name(n)) {
            continue;   /* matched against the inventory later */
        } else if (strstr(n, "ocfl_object_")) {
            vv_report(v, isdigit((unsigned char)n[0]) ? "E005" : "E004", n,
                      "declaration name is not 0=ocfl_object_VERSION");
        } else if (k == VL_WALK_DIR && holds_object(o, n)) {
            vv_report(v, "E082", n, "an OCFL object inside another object");
        } else {
            vv_facts f = {.problem = VL_PROBLEM_UNEXPECTED, .content_path = n};
            vv_report_facts(v, "E001", n, &f, "unexpected %s in the object "
                            "root", k == VL_WALK_DIR ? "folder" : "file");
        }
    }
}

/* ---- content folders ----------------------------------------------------- */

static void mark_seen(octx *o, const char *path)
{
    const vv_pair *p = vv_manifest_find(&o->inv, path);
    if (!p) {
        vv_facts f = {.problem = VL_PROBLEM_UNEXPECTED, .content_path = path};
        vv_report_facts(o->v, "E023", path, &f, "file is not in the manifest");
        return;
    }
    size_t i = (size_t)(p - o->inv.manifest);
    while (i > 0 && !strcmp(o->inv.manifest[i - 1].path, path))
        i--;
    for (; i < o->inv.nmanifest && !strcmp(o->inv.manifest[i].path, path); i++)
        o->seen[i] = 1;
}

static int walk_content(octx *o, const char *rel, int top)
{
    vv_ctx *v = o->v;
    vv_list l;
    vl_error e = {0};
    int rc = VL_OK;
    char *p = vv_join(v->base, rel);
    if (!p)
        return oom(o->err);
    if (vv_list_dir(v->b, p, &l, &e) != VL_OK) {
        vv_report(v, "E023", rel, "cannot list the folder: %s", e.msg);
        goto done;
    }
    if (l.n == 0 && !top)
        vv_report(v, "E024", rel, "empty folder in a content directory");
    for (size_t i = 0; i < l.n && rc == VL_OK; i++) {
        char *child = vv_join(rel, l.e[i].name);
        if (!child) {
            rc = oom(o->err);
            break;
        }
        if (l.e[i].kind == VL_WALK_DIR)
            rc = walk_content(o, child, 0);
        else if (l.e[i].kind == VL_WALK_FILE && ++o->walked)
            mark_seen(o, child);
        else
            vv_report(v, "E090", child,
                      "not a regular file (symbolic link or special file)");
        free(child);
    }
done:
    vv_list_free(&l);
    free(p);
    return rc;
}

/* ---- version inventories ------------------------------------------------- */

static int same_state(const vv_inv *a, const vv_version *va,
                      const vv_inv *b, const vv_version *vb)
{
    if (va->nstate != vb->nstate)
        return 0;
    int digests = a->alg == b->alg;
    for (size_t i = 0; i < va->nstate; i++) {
        if (strcmp(va->state[i].path, vb->state[i].path))
            return 0;
        if (digests && strcasecmp(va->state[i].digest, vb->state[i].digest))
            return 0;
    }
    return 1;
}

static void compare_blocks(octx *o, const char *file, const vv_inv *vi)
{
    for (size_t i = 0; i < vi->nversions; i++) {
        const vv_version *pv = &vi->versions[i];
        const vv_version *cv = vv_inventory_version(&o->inv, pv->num);
        if (!cv)
            continue;
        if (!same_state(vi, pv, &o->inv, cv))
            vv_report(o->v, "E066", file,
                      "version %s state differs from the root inventory",
                      pv->name);
        static const char *const keys[] = {"created", "message", "user"};
        for (size_t k = 0; k < 3; k++)
            if (!json_equal(json_object_get(pv->obj, keys[k]),
                            json_object_get(cv->obj, keys[k])) &&
                (json_object_get(pv->obj, keys[k]) ||
                 json_object_get(cv->obj, keys[k])))
                vv_report(o->v, "W011", file,
                          "version %s %s differs from the root inventory",
                          pv->name, keys[k]);
    }
}

static void compare_inventory(octx *o, const char *file, const vv_version *ver,
                              const vv_inv *vi, int *prev_spec)
{
    vv_ctx *v = o->v;
    const vv_inv *ri = &o->inv;
    if (vi->head_num && vi->head_num != ver->num)
        vv_report(v, "E040", file, "head is '%s' in the inventory of %s",
                  vi->head, ver->name);
    if (vi->id && ri->id && strcmp(vi->id, ri->id))
        vv_report(v, "E110|E037", file,
                  "id '%s' differs from the root inventory id '%s'", vi->id,
                  ri->id);
    json_t *rcd = json_object_get(ri->root, "contentDirectory");
    json_t *vcd = json_object_get(vi->root, "contentDirectory");
    if (rcd && !vcd && ver->num == 1)
        vv_report(v, "E019", file,
                  "contentDirectory is set later but not in version 1");
    else if ((rcd || vcd) && !json_equal(rcd, vcd))
        vv_report(v, "E020", file,
                  "contentDirectory differs from the root inventory");
    if (vi->pad >= 0 && ri->pad >= 0 && vi->pad != ri->pad)
        vv_report(v, "E013", file,
                  "version naming (%s) differs from the root inventory (%s)",
                  vi->nversions ? vi->versions[0].name : "?",
                  ri->nversions ? ri->versions[0].name : "?");
    if (vi->spec != VV_SPEC_UNKNOWN) {
        if (vi->spec < *prev_spec)
            vv_report(v, "E103|-", file,
                      "declares OCFL %s after an earlier version declared %s",
                      vv_spec_name(vi->spec), vv_spec_name(*prev_spec));
        else
            *prev_spec = vi->spec;
    }
    compare_blocks(o, file, vi);
}

static int check_version_inventory(octx *o, const vv_version *ver,
                                   const vv_list *entries, int *prev_spec)
{
    vv_ctx *v = o->v;
    int rc = VL_OK;
    char *file = vv_join(ver->name, ROOT_INV);
    vl_buf b;
    vl_buf_init(&b, 0);
    vv_inv vi;
    vv_inventory_init(&vi);
    vl_error e = {0};
    if (!file)
        return oom(o->err);
    if (!find_entry(entries, ROOT_INV)) {
        vv_report(v, "W010", ver->name, "version has no inventory.json");
        goto done;
    }
    if (vv_read(v, file, VV_INVENTORY_MAX, &b, &e) != VL_OK) {
        vv_report(v, "E033", file, "cannot read: %s", e.msg);
        goto done;
    }
    int is_head = ver->num == o->inv.head_num;
    if (is_head && (b.len != o->inv_data.len ||
                    memcmp(b.data, o->inv_data.data, b.len)))
        vv_report(v, "E064", file,
                  "differs from the root inventory.json of the head version");
    if (is_head && !(b.len == o->inv_data.len &&
                     !memcmp(b.data, o->inv_data.data, b.len))) {
        /* fall through: check it on its own too */
    } else if (is_head) {
        rc = check_sidecar(o, ver->name, entries, &o->inv, &b);
        goto done;
    }
    v->quiet_warnings = 1;
    rc = vv_inventory_check(v, file, b.data, b.len, VV_SPEC_UNKNOWN, &vi,
                            o->err);
    v->quiet_warnings = 0;
    if (rc || vi.fatal)
        goto done;
    if ((rc = check_sidecar(o, ver->name, entries, &vi, &b)))
        goto done;
    compare_inventory(o, file, ver, &vi, prev_spec);
done:
    vv_inventory_free(&vi);
    vl_buf_release(&b);
    free(file);
    return rc;
}

/* ---- version folders ----------------------------------------------------- */

static void count_version_files(octx *o)
{
    for (size_t i = 0; i < o->inv.nmanifest; i++) {
        const char *p = o->inv.manifest[i].path;
        size_t n = strcspn(p, "/");
        char name[32];
        long num;
        int pad;
        if (!p[n] || n >= sizeof name)
            continue;
        memcpy(name, p, n);
        name[n] = '\0';
        const vv_version *ver = vv_version_parse(name, &num, &pad) ? NULL
                                : vv_inventory_version(&o->inv, num);
        if (ver && !strcmp(ver->name, name))
            o->ver_files[ver - o->inv.versions]++;
    }
}

/* The content folder of a version is missing (E016): its files are not
 * reported one by one. */
static void mark_version_absent(octx *o, const char *vname)
{
    size_t n = strlen(vname);
    for (size_t i = 0; i < o->inv.nmanifest; i++) {
        const char *p = o->inv.manifest[i].path;
        if (!strncmp(p, vname, n) && p[n] == '/' && !o->seen[i])
            o->seen[i] = 2;
    }
}

static int check_version_dir(octx *o, size_t idx, int *prev_spec)
{
    vv_ctx *v = o->v;
    const vv_version *ver = &o->inv.versions[idx];
    const char *cd = o->inv.content_dir;
    vv_list l;
    vl_error e = {0};
    int rc = VL_OK, has_content = 0;
    char *p = vv_join(v->base, ver->name);
    if (!p)
        return oom(o->err);
    if (vv_list_dir(v->b, p, &l, &e) != VL_OK) {
        vv_report(v, "E010", ver->name, "cannot list the version: %s", e.msg);
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) {
        const char *n = l.e[i].name;
        char *rel = vv_join(ver->name, n);
        if (!rel) {
            rc = oom(o->err);
            goto done;
        }
        if (l.e[i].kind == VL_WALK_DIR && !strcmp(n, cd))
            has_content = 1;
        else if (l.e[i].kind == VL_WALK_DIR)
            vv_report(v, "W002", rel, "folder other than the content "
                      "directory '%s' in a version", cd);
        else if (l.e[i].kind != VL_WALK_FILE)
            vv_report(v, "E090", rel, "not a regular file");
        else if (strcmp(n, ROOT_INV) && strncmp(n, "inventory.json.", 15))
            vv_report_facts(v, "E015", rel,
                            &(vv_facts){.problem = VL_PROBLEM_UNEXPECTED,
                                        .content_path = rel},
                            "unexpected file in a version folder");
        free(rel);
    }
    char *crel = vv_join(ver->name, cd);
    if (!crel) {
        rc = oom(o->err);
        goto done;
    }
    if (!has_content && o->ver_files[idx]) {
        vv_report_facts(v, "E016", crel,
                        &(vv_facts){.problem = VL_PROBLEM_MISSING,
                                    .content_path = crel},
                        "missing, but the manifest lists %zu "
                  "file%s in it", o->ver_files[idx],
                  o->ver_files[idx] == 1 ? "" : "s");
        mark_version_absent(o, ver->name);
    }
    o->walked = 0;
    if (has_content)
        rc = walk_content(o, crel, 1);
    if (rc == VL_OK && has_content && !o->ver_files[idx] && !o->walked)
        vv_report(v, "W003", crel,
                  "content directory of a version that adds no files");
    free(crel);
    if (rc == VL_OK)
        rc = check_version_inventory(o, ver, &l, prev_spec);
done:
    vv_list_free(&l);
    free(p);
    return rc;
}

static int check_versions(octx *o)
{
    vv_ctx *v = o->v;
    int rc = VL_OK, prev_spec = VV_SPEC_1_0;
    if (!o->inv.nversions)
        return VL_OK;
    o->ver_files = calloc(o->inv.nversions, sizeof *o->ver_files);
    if (!o->ver_files)
        return oom(o->err);
    count_version_files(o);
    for (size_t i = 0; i < o->inv.nversions && rc == VL_OK; i++) {
        const vv_entry *e = find_entry(&o->root, o->inv.versions[i].name);
        if (!e || e->kind != VL_WALK_DIR)
            vv_report(v, "E046", o->inv.versions[i].name,
                      "version folder of the inventory is missing");
        else
            rc = check_version_dir(o, i, &prev_spec);
    }
    for (size_t i = 0; i < o->root.n; i++) {
        long num;
        int pad;
        const char *n = o->root.e[i].name;
        if (o->root.e[i].kind != VL_WALK_DIR ||
            vv_version_parse(n, &num, &pad))
            continue;
        const vv_version *ver = vv_inventory_version(&o->inv, num);
        if (!ver || strcmp(ver->name, n))
            vv_report_facts(v, "E046", n,
                            &(vv_facts){.problem = VL_PROBLEM_UNEXPECTED,
                                        .content_path = n},
                            "version folder is not in the inventory");
    }
    return rc;
}

/* ---- manifest files on disk ---------------------------------------------- */

static int check_missing(octx *o)
{
    vv_ctx *v = o->v;
    for (size_t i = 0; i < o->inv.nmanifest; i++) {
        const vv_pair *p = &o->inv.manifest[i];
        if (o->seen[i] || (i > 0 && !strcmp(p->path, o->inv.manifest[i - 1].path)))
            continue;
        if (vv_path_shape(p->path) ||
            (o->inv.misplaced && o->inv.misplaced[i]))
            continue;
        int kind = 0;
        vl_error e = {0};
        if (vv_stat(v, p->path, &kind, &e) != VL_OK)
            vv_report_facts(v, "E092", p->path,
                            &(vv_facts){.problem = VL_PROBLEM_UNREADABLE,
                                        .content_path = p->path},
                            "cannot stat: %s", e.msg);
        else if (kind == 0 || kind == VL_WALK_DIR)
            vv_report_facts(v, "E092", ROOT_INV,
                            &(vv_facts){.problem = VL_PROBLEM_MISSING,
                                        .content_path = p->path},
                            "manifest content path %s does not exist", p->path);
    }
    return VL_OK;
}

/* ---- digests --------------------------------------------------------------- */

/* One problem found by a worker, reported later in manifest order (workers
 * run in any order; the output must not).  expected and algorithm point
 * into the inventory; actual is the worker's own result. */
typedef struct dproblem {
    const char *code;        /* static */
    int problem;             /* vl_problem */
    const char *algorithm;
    const char *expected;
    char actual[VL_DIGEST_HEX_MAX];
    char *msg;
} dproblem;

typedef struct djob {
    const vv_pair *m;        /* manifest entry */
    size_t fix_lo, fix_hi;   /* its fixity entries */
    dproblem *problems;
    size_t nproblems;
    int oom;
} djob;

typedef struct dctx {
    vv_ctx *v;
    const vv_inv *inv;
    djob *jobs;
} dctx;

/* Takes msg (malloc'd, may be NULL: then the job is out of memory). */
static void add_problem(djob *j, const char *code, int problem,
                        const char *alg, const char *expected,
                        const char *actual, char *msg)
{
    dproblem *n = msg ? realloc(j->problems,
                                (j->nproblems + 1) * sizeof *n) : NULL;
    if (!n) {
        free(msg);
        j->oom = 1;
        return;
    }
    j->problems = n;
    n[j->nproblems++] = (dproblem){.code = code, .problem = problem,
                                   .algorithm = alg, .expected = expected,
                                   .msg = msg};
    snprintf(n[j->nproblems - 1].actual, VL_DIGEST_HEX_MAX, "%s",
             actual ? actual : "");
}

static void compare_fixity(const dctx *d, djob *j, const vl_digest_result *r,
                           uint64_t size)
{
    for (size_t f = j->fix_lo; f < j->fix_hi; f++) {
        const vv_fix *fx = &d->inv->fixity[f];
        vl_digest_alg a;
        if (!strcmp(fx->alg, "size")) {
            char have[32];
            snprintf(have, sizeof have, "%llu", (unsigned long long)size);
            if (strcmp(have, fx->digest))
                add_problem(j, "E093", VL_PROBLEM_MISMATCH, fx->alg,
                            fx->digest, have,
                            vl_asprintf("fixity size %s for %s does not "
                                        "match the file (%s bytes)",
                                        fx->digest, j->m->path, have));
            continue;
        }
        if (vl_digest_from_name(fx->alg, &a) != 0 ||
            strcasecmp(r->hex[a], fx->digest) == 0)
            continue;
        add_problem(j, "E093", VL_PROBLEM_MISMATCH, fx->alg, fx->digest,
                    r->hex[a],
                    vl_asprintf("fixity %s digest %.16s... for %s does not "
                                "match the file (computed %.16s...)", fx->alg,
                                fx->digest, j->m->path, r->hex[a]));
    }
}

static int digest_one(void *arg, size_t index, int worker, vl_error *err)
{
    dctx *d = arg;
    djob *j = &d->jobs[index];
    unsigned mask = VL_DIGEST_BIT(d->inv->alg);
    for (size_t f = j->fix_lo; f < j->fix_hi; f++) {
        vl_digest_alg a;
        if (vl_digest_from_name(d->inv->fixity[f].alg, &a) == 0)
            mask |= VL_DIGEST_BIT(a);
    }
    char *rel = vv_join(d->v->base, j->m->path);
    vl_reader *r = NULL;
    vl_error e = {0};
    vl_digest_result res;
    uint64_t size = 0;
    if (!rel)
        return oom(err);
    if (vl_backend_open(d->v->b, rel, &r, &e) != VL_OK ||
        vl_digest_pump(vl_reader_read, r, -1, mask, NULL, NULL, &res, &size,
                       &e) != VL_OK) {
        if (vv_note(&e))
            j->oom = 1;     /* this process's failure, not the file's */
        else
            add_problem(j, "E092", VL_PROBLEM_UNREADABLE, NULL, NULL, NULL,
                        vl_asprintf("cannot read %s: %s", j->m->path, e.msg));
    } else {
        const char *have = res.hex[d->inv->alg];
        if (strcasecmp(have, j->m->digest))
            /* The algorithm by its canonical name: the inventory's
             * spelling may differ in case. */
            add_problem(j, "E092", VL_PROBLEM_MISMATCH,
                        vl_digest_name((vl_digest_alg)d->inv->alg),
                        j->m->digest, have,
                        vl_asprintf("manifest digest %.16s... for %s does "
                                    "not match the file (computed %.16s...)",
                                    j->m->digest, j->m->path, have));
        compare_fixity(d, j, &res, size);
    }
    vl_reader_close(r);
    free(rel);
    return VL_OK;
}

static size_t build_jobs(octx *o, djob *jobs)
{
    const vv_inv *inv = &o->inv;
    size_t n = 0, f = 0;
    for (size_t i = 0; i < inv->nmanifest; i++) {
        const vv_pair *m = &inv->manifest[i];
        if (o->seen[i] != 1 ||
            (i > 0 && !strcmp(m->path, inv->manifest[i - 1].path)))
            continue;
        while (f < inv->nfixity && strcmp(inv->fixity[f].path, m->path) < 0)
            f++;
        size_t hi = f;
        while (hi < inv->nfixity && !strcmp(inv->fixity[hi].path, m->path))
            hi++;
        jobs[n++] = (djob){.m = m, .fix_lo = f, .fix_hi = hi};
        f = hi;
    }
    return n;
}

static void report_problems(vv_ctx *v, const djob *j)
{
    for (size_t i = 0; i < j->nproblems; i++) {
        const dproblem *p = &j->problems[i];
        vv_facts f = {p->problem, j->m->path, p->algorithm, p->expected,
                      p->actual[0] ? p->actual : NULL};
        /* Reported against the inventory that lists the file (its
         * message names the file); content_path names it as data. */
        vv_report_facts(v, p->code, ROOT_INV, &f, "%s", p->msg);
    }
}

static void djob_free(djob *j)
{
    for (size_t i = 0; i < j->nproblems; i++)
        free(j->problems[i].msg);
    free(j->problems);
}

static int check_digests(octx *o)
{
    if (!o->v->o || !o->v->o->check_digests || o->inv.alg < 0 ||
        !o->inv.nmanifest)
        return VL_OK;
    djob *jobs = calloc(o->inv.nmanifest, sizeof *jobs);
    if (!jobs)
        return oom(o->err);
    size_t n = build_jobs(o, jobs);
    dctx d = {o->v, &o->inv, jobs};
    int rc = vl_pool_run(n, o->v->o->nthreads, digest_one, &d, o->err);
    for (size_t i = 0; i < n && rc == VL_OK; i++)
        if (jobs[i].oom)
            rc = oom(o->err);   /* a finding lost: the run cannot stand */
    for (size_t i = 0; i < n; i++) {
        if (rc == VL_OK)
            report_problems(o->v, &jobs[i]);
        djob_free(&jobs[i]);
    }
    free(jobs);
    return rc;
}

/* ---- entry --------------------------------------------------------------- */

static int load_root_inventory(octx *o)
{
    vv_ctx *v = o->v;
    const vv_entry *e = find_entry(&o->root, ROOT_INV);
    vl_error err = {0};
    if (!e || e->kind != VL_WALK_FILE)
        return VL_OK;
    if (vv_read(v, ROOT_INV, VV_INVENTORY_MAX, &o->inv_data, &err) != VL_OK) {
        if (err.status == VL_ESYS && err.sys_errno == ENOMEM)
            return oom(o->err);
        vv_report(v, "E063", ROOT_INV, "cannot read: %s", err.msg);
        return VL_OK;
    }
    o->have_inv = 1;
    vv_inventory_load(&o->inv, o->inv_data.data, o->inv_data.len);
    json_t *id = json_object_get(o->inv.root, "id");
    if (json_is_string(id) && *json_string_value(id)) {
        free(v->label);
        v->label = vl_strdup(json_string_value(id));
    }
    return VL_OK;
}

static int check_root_inventory(octx *o)
{
    vv_ctx *v = o->v;
    int rc;
    if (!o->have_inv) {
        const vv_entry *e = find_entry(&o->root, ROOT_INV);
        if (!e)
            vv_report(v, "E063", ROOT_INV, "the object has no inventory");
        else if (e->kind != VL_WALK_FILE)
            vv_report(v, "E063", ROOT_INV, "not a regular file");
        return VL_OK;
    }
    int declared = o->declared ? v->spec : VV_SPEC_UNKNOWN;
    rc = vv_inventory_check(v, ROOT_INV, o->inv_data.data, o->inv_data.len,
                            declared, &o->inv, o->err);
    if (rc || o->inv.fatal)
        return rc;
    return check_sidecar(o, "", &o->root, &o->inv, &o->inv_data);
}

int vv_object_run(vv_ctx *v, vl_error *err)
{
    octx o = {.v = v, .err = err};
    int rc;
    vv_inventory_init(&o.inv);
    vl_buf_init(&o.inv_data, 0);
    if ((rc = vv_list_dir(v->b, v->base, &o.root, err)) != VL_OK)
        goto done;
    if ((rc = load_root_inventory(&o)) || (rc = check_namaste(&o)))
        goto done;
    o.declared = find_entry(&o.root, "0=ocfl_object_1.0") ||
                 find_entry(&o.root, "0=ocfl_object_1.1");
    if (!o.declared && o.inv.root) {
        int s = vv_spec_from_type(
            json_string_value(json_object_get(o.inv.root, "type")));
        v->spec = s == VV_SPEC_UNKNOWN ? VV_SPEC_1_1 : s;
    }
    if ((rc = check_root_inventory(&o)))
        goto done;
    check_root_entries(&o);
    if (!o.have_inv || o.inv.fatal)
        goto done;
    if (!(o.seen = calloc(o.inv.nmanifest + 1, 1))) {
        rc = oom(err);
        goto done;
    }
    if ((rc = check_versions(&o)) || (rc = check_missing(&o)))
        goto done;
    rc = check_digests(&o);
done:
    free(o.seen);
    free(o.ver_files);
    vv_inventory_free(&o.inv);
    vl_buf_release(&o.inv_data);
    vv_list_free(&o.root);
    return rc;
}
