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

#define ROOT_INV VL_INVENTORY_FILE

/* A digest that a version inventory (not the root one) gives for a content
 * path, where the root inventory does not give the same: checked against
 * the file with that inventory's own algorithm (E092 manifest, E093
 * fixity). */
typedef struct vclaim {
    char *path;              /* content path */
    char *digest;
    int alg;                 /* vl_digest_alg, or -1 for fixity "size" */
    const char *code;        /* "E092" or "E093" */
    const char *file;        /* the inventory, e.g. "v1/inventory.json"
                                (owned by octx.files) */
    size_t order;            /* found order: inventories oldest first */
    int exists;              /* the file is there (not in the root
                                manifest: a job of its own) */
} vclaim;

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
    char **walked_paths;     /* content files found so far, in walk order */
    size_t nwalked_paths, cap_walked;
    vclaim *claims;          /* from version inventories */
    size_t nclaims, cap_claims;
    json_t *claim_keys;      /* claims already recorded */
    char **files;            /* version inventory names the claims cite */
    size_t nfiles;
    vl_error *err;
} octx;

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
        return vl_error_oom(o->err);
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
    return rlen == VL_INVENTORY_FILE_LEN &&
           !memcmp(rest, VL_INVENTORY_FILE, VL_INVENTORY_FILE_LEN) ? 0 : -1;
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
        return vl_error_oom(o->err);
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
    /* Beside the right sidecar, another is a stray file of the object
     * root (E001) or the version folder (E015). */
    for (size_t i = 0; i < entries->n; i++) {
        const char *n = entries->e[i].name;
        if (strncmp(n, "inventory.json.", 15) || !strcmp(n, name))
            continue;
        char *srel = vv_join(dir, n);
        if (!srel) {
            free(rel);
            return vl_error_oom(o->err);
        }
        vv_report_facts(v, *dir ? "E015" : "E001", srel,
                        &(vv_facts){.problem = VL_PROBLEM_UNEXPECTED,
                                    .content_path = srel},
                        "a second sidecar; the inventory's digestAlgorithm "
                        "is %s", alg_name);
        free(srel);
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

/* Remember a content file found on disk: every version inventory must
 * list the files of its own and earlier versions (E023). */
static int record_walked(octx *o, const char *path)
{
    if (o->nwalked_paths == o->cap_walked) {
        size_t ncap = o->cap_walked ? o->cap_walked * 2 : 64;
        char **n = realloc(o->walked_paths, ncap * sizeof *n);
        if (!n)
            return vl_error_oom(o->err);
        o->walked_paths = n;
        o->cap_walked = ncap;
    }
    if (!(o->walked_paths[o->nwalked_paths] = vl_strdup(path)))
        return vl_error_oom(o->err);
    o->nwalked_paths++;
    return VL_OK;
}

static int walk_content(octx *o, const char *rel, int top)
{
    vv_ctx *v = o->v;
    vv_list l;
    vl_error e = {0};
    int rc = VL_OK;
    char *p = vv_join(v->base, rel);
    if (!p)
        return vl_error_oom(o->err);
    if (vv_list_dir(v->b, p, &l, &e) != VL_OK) {
        vv_report(v, "E023", rel, "cannot list the folder: %s", e.msg);
        goto done;
    }
    if (l.n == 0 && !top)
        vv_report(v, "E024", rel, "empty folder in a content directory");
    for (size_t i = 0; i < l.n && rc == VL_OK; i++) {
        char *child = vv_join(rel, l.e[i].name);
        if (!child) {
            rc = vl_error_oom(o->err);
            break;
        }
        if (l.e[i].kind == VL_WALK_DIR) {
            rc = walk_content(o, child, 0);
        } else if (l.e[i].kind == VL_WALK_FILE) {
            o->walked++;
            mark_seen(o, child);
            rc = record_walked(o, child);
        } else
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

/* 1 when every content path the manifest of a gives for digest da is among
 * those the manifest of b gives for db (a later inventory may add copies).
 * An unknown digest (E050, reported already) compares equal. */
static int same_content(const vv_inv *a, const char *da, const vv_inv *b,
                        const char *db)
{
    json_t *pa = json_object_get(json_object_get(a->root, "manifest"), da);
    json_t *pb = json_object_get(json_object_get(b->root, "manifest"), db);
    size_t i, j;
    json_t *x, *y;
    if (!json_is_array(pa) || !json_is_array(pb))
        return 1;
    json_array_foreach(pa, i, x) {
        int found = 0;
        json_array_foreach(pb, j, y)
            if (json_equal(x, y))
                found = 1;
        if (!found)
            return 0;
    }
    return 1;
}

/* The same logical state: the same logical paths, each with the same
 * digest, or (the digest algorithm changed between the two inventories)
 * each naming the same content files. */
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
        if (!digests && !same_content(a, va->state[i].digest, b,
                                      vb->state[i].digest))
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

/* contentDirectory as usable: NULL when not set, "" when set but invalid
 * (E017/E018/E108 said why). */
static const char *content_dir_key(const vv_inv *inv)
{
    json_t *cd = json_object_get(inv->root, "contentDirectory");
    if (!cd)
        return NULL;
    const char *s = json_string_value(cd);
    return s && !strcmp(s, inv->content_dir) ? s : "";
}

/* contentDirectory must be set in the first version (E019) and not change
 * between versions (E020).  Each version inventory is held against the
 * root one: the first version's disagreeing means the first version did not
 * set what the object uses (set later, changed or dropped: E019); a later
 * version's disagreeing is a change between versions (E020). */
static void compare_content_dir(octx *o, const char *file,
                                const vv_version *ver, const vv_inv *vi)
{
    const char *rcd = content_dir_key(&o->inv), *vcd = content_dir_key(vi);
    if ((rcd && !*rcd) || (vcd && !*vcd))
        return;   /* an invalid value was reported on its own */
    if (rcd && vcd ? !strcmp(rcd, vcd) : rcd == vcd)
        return;
    char have[300], want[300];
    snprintf(have, sizeof have, vcd ? "'%s'" : "not set", vcd);
    snprintf(want, sizeof want, rcd ? "'%s'" : "not set", rcd);
    if (ver == &o->inv.versions[0])
        vv_report(o->v, "E019", file,
                  "contentDirectory is %s in the first version but %s in the "
                  "root inventory: the first version must set the value the "
                  "object keeps", have, want);
    else
        vv_report(o->v, "E020", file,
                  "contentDirectory is %s in version %s but %s in the root "
                  "inventory: it must not change between versions", have,
                  ver->name, want);
}

/* Returns 1 when the inventory's content paths can be held against the
 * folders on disk: its version names and content directory agree with the
 * root inventory's (else E013/E019/E020 said why they cannot). */
static int compare_inventory(octx *o, const char *file, const vv_version *ver,
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
    /* Its other warnings repeat the root inventory's; not this one. */
    if (vi->alg == VL_SHA256 && ri->alg != VL_SHA256)
        vv_report(v, "W004", file, "digestAlgorithm is sha256 (the root "
                  "inventory uses %s); sha512 is recommended",
                  ri->alg_name ? ri->alg_name : "another");
    compare_content_dir(o, file, ver, vi);
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
    return (vi->pad < 0 || ri->pad < 0 || vi->pad == ri->pad) &&
           !strcmp(vi->content_dir, ri->content_dir);
}

/* Every content file of this version and the earlier ones must be in this
 * version's inventory too (E023): the files walked so far are exactly
 * those.  A file the root inventory does not list either was reported once
 * by it, not again by each version inventory. */
static void check_prior_files(octx *o, const char *file, const vv_inv *vi)
{
    for (size_t i = 0; i < o->nwalked_paths; i++) {
        const char *p = o->walked_paths[i];
        if (vv_manifest_find(vi, p) || !vv_manifest_find(&o->inv, p))
            continue;
        vv_facts f = {.problem = VL_PROBLEM_UNEXPECTED, .content_path = p};
        vv_report_facts(o->v, "E023", file, &f,
                        "content file %s is not in the manifest of this "
                        "version's inventory", p);
    }
}

/* 1 when the root manifest (code E092) or root fixity (E093) gives the
 * same digest for the path with the same algorithm. */
static int root_says_same(const octx *o, const char *code, int alg,
                          const char *path, const char *digest)
{
    const vv_inv *ri = &o->inv;
    if (!strcmp(code, "E092")) {
        const vv_pair *p = vv_manifest_find(ri, path);
        if (!p || ri->alg != alg)
            return 0;
        size_t i = (size_t)(p - ri->manifest);
        while (i > 0 && !strcmp(ri->manifest[i - 1].path, path))
            i--;
        for (; i < ri->nmanifest && !strcmp(ri->manifest[i].path, path); i++)
            if (!strcasecmp(ri->manifest[i].digest, digest))
                return 1;
        return 0;
    }
    size_t lo = 0, hi = ri->nfixity;
    while (lo < hi) {      /* the fixity entries are sorted by path */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ri->fixity[mid].path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < ri->nfixity && !strcmp(ri->fixity[lo].path, path); lo++) {
        const vv_fix *f = &ri->fixity[lo];
        vl_digest_alg a;
        int fa = !strcmp(f->alg, "size") ? -1
                 : vl_digest_from_name(f->alg, &a) == 0 ? (int)a : -2;
        if (fa == alg && !strcasecmp(f->digest, digest))
            return 1;
    }
    return 0;
}

static int add_claim(octx *o, const char *code, int alg, const char *path,
                     const char *digest, const char *file)
{
    if (root_says_same(o, code, alg, path, digest))
        return VL_OK;
    /* One claim per code, algorithm, digest and path (inventories of
     * successive versions repeat each other). */
    char lower[VL_DIGEST_HEX_MAX + 32];
    size_t len = 0;
    for (; digest[len] && len < sizeof lower - 1; len++)
        lower[len] = (char)tolower((unsigned char)digest[len]);
    lower[len] = '\0';
    char *key = vl_asprintf("%s %d %s %s", code, alg, lower, path);
    if (!key)
        return vl_error_oom(o->err);
    int seen = json_object_get(o->claim_keys, key) != NULL;
    int rc = seen ? 0 : json_object_set_new(o->claim_keys, key, json_null());
    free(key);
    if (rc)
        return vl_error_oom(o->err);
    if (seen)
        return VL_OK;
    if (o->nclaims == o->cap_claims) {
        size_t ncap = o->cap_claims ? o->cap_claims * 2 : 16;
        vclaim *n = realloc(o->claims, ncap * sizeof *n);
        if (!n)
            return vl_error_oom(o->err);
        o->claims = n;
        o->cap_claims = ncap;
    }
    vclaim *c = &o->claims[o->nclaims];
    *c = (vclaim){.path = vl_strdup(path), .digest = vl_strdup(digest),
                  .alg = alg, .code = code, .file = file,
                  .order = o->nclaims};
    if (!c->path || !c->digest) {
        free(c->path);
        free(c->digest);
        return vl_error_oom(o->err);
    }
    o->nclaims++;
    return VL_OK;
}

/* Keep the digests of a version inventory that the root one does not
 * give, to check them against the files with their own algorithm. */
static int collect_claims(octx *o, const char *file, const vv_inv *vi)
{
    int rc = VL_OK;
    if (!o->claim_keys && !(o->claim_keys = json_object()))
        return vl_error_oom(o->err);
    char **nf = realloc(o->files, (o->nfiles + 1) * sizeof *nf);
    if (!nf)
        return vl_error_oom(o->err);
    o->files = nf;
    char *owned = vl_strdup(file);
    if (!owned)
        return vl_error_oom(o->err);
    o->files[o->nfiles++] = owned;
    for (size_t i = 0; i < vi->nmanifest && rc == VL_OK && vi->alg >= 0; i++) {
        const vv_pair *m = &vi->manifest[i];
        if ((vi->misplaced && vi->misplaced[i]) || vv_path_shape(m->path) ||
            !vv_hex_ok(m->digest, vl_digest_hex_len((vl_digest_alg)vi->alg)))
            continue;
        rc = add_claim(o, "E092", vi->alg, m->path, m->digest, owned);
    }
    for (size_t i = 0; i < vi->nfixity && rc == VL_OK; i++) {
        const vv_fix *f = &vi->fixity[i];
        vl_digest_alg a;
        int alg = -2;
        if (vl_digest_from_name(f->alg, &a) == 0)
            alg = (int)a;
        else if (!strcmp(f->alg, "size"))
            alg = -1;
        const vv_pair *m = vv_manifest_find(vi, f->path);
        if (alg == -2 || !m || vv_path_shape(f->path) ||
            (vi->misplaced && vi->misplaced[m - vi->manifest]))
            continue;   /* an algorithm we cannot compute is ignored */
        rc = add_claim(o, "E093", alg, f->path, f->digest, owned);
    }
    return rc;
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
        return vl_error_oom(o->err);
    if (!find_entry(entries, ROOT_INV)) {
        vv_report(v, "W010", ver->name, "version has no inventory.json");
        goto done;
    }
    if (vv_read(v, file, VV_INVENTORY_MAX, &b, &e) != VL_OK) {
        vv_report(v, "E033", file, "cannot read: %s", e.msg);
        goto done;
    }
    int is_head = ver->num == o->inv.head_num;
    int same = b.len == o->inv_data.len &&
               !memcmp(b.data, o->inv_data.data, b.len);
    if (is_head && !same)
        vv_report(v, "E064", file,
                  "differs from the root inventory.json of the head version");
    if (is_head && same) {
        /* The root inventory, checked already; only its place in the
         * sequence of specification versions is new. */
        if (o->inv.spec != VV_SPEC_UNKNOWN && o->inv.spec < *prev_spec)
            vv_report(v, "E103|-", file,
                      "declares OCFL %s after an earlier version declared %s",
                      vv_spec_name(o->inv.spec), vv_spec_name(*prev_spec));
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
    if (compare_inventory(o, file, ver, &vi, prev_spec)) {
        check_prior_files(o, file, &vi);
        rc = collect_claims(o, file, &vi);
    }
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
        return vl_error_oom(o->err);
    if (vv_list_dir(v->b, p, &l, &e) != VL_OK) {
        vv_report(v, "E010", ver->name, "cannot list the version: %s", e.msg);
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) {
        const char *n = l.e[i].name;
        char *rel = vv_join(ver->name, n);
        if (!rel) {
            rc = vl_error_oom(o->err);
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
        rc = vl_error_oom(o->err);
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
        return vl_error_oom(o->err);
    count_version_files(o);
    size_t last_present = 0;   /* 1 + index of the last version folder */
    for (size_t i = 0; i < o->inv.nversions; i++) {
        const vv_entry *e = find_entry(&o->root, o->inv.versions[i].name);
        if (e && e->kind == VL_WALK_DIR)
            last_present = i + 1;
    }
    for (size_t i = 0; i < o->inv.nversions && rc == VL_OK; i++) {
        const vv_version *ver = &o->inv.versions[i];
        const vv_entry *e = find_entry(&o->root, ver->name);
        if (e && e->kind == VL_WALK_DIR) {
            rc = check_version_dir(o, i, &prev_spec);
            continue;
        }
        /* The version folders on disk are a sequence too: a missing one
         * before a present one is a gap in it (E009 at its start, E010
         * inside); a missing last one only leaves the inventory's version
         * without its folder (E046).  Its files are not reported one by
         * one. */
        if (i + 1 < last_present && i == 0)
            vv_report(v, "E009", ver->name, "version folder is missing, so "
                      "the version folders do not start at version 1");
        else if (i + 1 < last_present)
            vv_report(v, "E010", ver->name, "version folder is missing "
                      "after %s, though %s is there",
                      o->inv.versions[i - 1].name,
                      o->inv.versions[last_present - 1].name);
        else
            vv_report(v, "E046", ver->name,
                      "version folder of the inventory is missing");
        mark_version_absent(o, ver->name);
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

static int claim_cmp(const void *a, const void *b)
{
    const vclaim *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* 1 when the root fixity block gives a digest for the path (its entries
 * are sorted by path). */
static int root_fixity_lists(const vv_inv *inv, const char *path)
{
    size_t lo = 0, hi = inv->nfixity;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(inv->fixity[mid].path, path);
        if (!c)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* A content path that a version inventory lists but the root one does
 * not: a file to digest, or missing (E092 for its manifest, E093 for its
 * fixity block, once per inventory). */
static void check_claim_path(octx *o, size_t lo, size_t hi)
{
    vv_ctx *v = o->v;
    const char *path = o->claims[lo].path;
    int kind = 0;
    vl_error e = {0};
    if (vv_stat(v, path, &kind, &e) != VL_OK)
        kind = -1;
    for (size_t k = lo; k < hi; k++) {
        vclaim *c = &o->claims[k];
        c->exists = kind == VL_WALK_FILE;
        if (kind != 0 && kind != VL_WALK_DIR && kind != -1)
            continue;   /* a file, or a link the walk reported */
        size_t prev = lo;
        while (prev < k && (strcmp(o->claims[prev].code, c->code) ||
                            o->claims[prev].file != c->file))
            prev++;
        if (prev < k)
            continue;   /* said once for this inventory */
        vv_facts f = {.problem = kind == -1 ? VL_PROBLEM_UNREADABLE
                                            : VL_PROBLEM_MISSING,
                      .content_path = path};
        if (kind == -1)
            vv_report_facts(v, c->code, c->file, &f, "cannot stat %s: %s",
                            path, e.msg);
        else
            vv_report_facts(v, c->code, c->file, &f,
                            "%s content path %s does not exist",
                            strcmp(c->code, "E092") ? "fixity" : "manifest",
                            path);
    }
}

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
        if (vv_stat(v, p->path, &kind, &e) != VL_OK) {
            vv_report_facts(v, "E092", p->path,
                            &(vv_facts){.problem = VL_PROBLEM_UNREADABLE,
                                        .content_path = p->path},
                            "cannot stat: %s", e.msg);
        } else if (kind == 0 || kind == VL_WALK_DIR) {
            vv_report_facts(v, "E092", ROOT_INV,
                            &(vv_facts){.problem = VL_PROBLEM_MISSING,
                                        .content_path = p->path},
                            "manifest content path %s does not exist", p->path);
            /* Its fixity digests cannot match a file that is not there. */
            if (root_fixity_lists(&o->inv, p->path))
                vv_report_facts(v, "E093", ROOT_INV,
                                &(vv_facts){.problem = VL_PROBLEM_MISSING,
                                            .content_path = p->path},
                                "fixity content path %s does not exist",
                                p->path);
        }
    }
    if (o->nclaims > 1)
        qsort(o->claims, o->nclaims, sizeof *o->claims, claim_cmp);
    for (size_t i = 0, j; i < o->nclaims; i = j) {
        for (j = i + 1; j < o->nclaims &&
                        !strcmp(o->claims[j].path, o->claims[i].path); j++)
            ;
        /* A path of the root manifest: present, digested with the root's
         * digests; or missing, said once by the root inventory. */
        if (!vv_manifest_find(&o->inv, o->claims[i].path))
            check_claim_path(o, i, j);
    }
    return VL_OK;
}

/* ---- digests --------------------------------------------------------------- */

/* One problem found by a worker, reported later in manifest order (workers
 * run in any order; the output must not).  expected, algorithm and file
 * point into the inventories; actual is the worker's own result. */
typedef struct dproblem {
    const char *code;        /* static */
    int problem;             /* vl_problem */
    const char *algorithm;
    const char *expected;
    const char *file;        /* the inventory giving the digest */
    char actual[VL_DIGEST_HEX_MAX];
    char *msg;
} dproblem;

/* One content file, read once for every digest given for it. */
typedef struct djob {
    const char *path;
    const char *digest;      /* the root manifest's; NULL when it has none */
    size_t fix_lo, fix_hi;   /* its root fixity entries */
    size_t claim_lo, claim_hi; /* its version inventories' digests */
    dproblem *problems;
    size_t nproblems, cproblems;
    int oom;
} djob;

typedef struct dctx {
    vv_ctx *v;
    const vv_inv *inv;
    const vclaim *claims;
    djob *jobs;
} dctx;

/* Takes msg (malloc'd, may be NULL: then the job is out of memory). */
static void add_problem(djob *j, const char *code, int problem,
                        const char *alg, const char *expected,
                        const char *actual, const char *file, char *msg)
{
    if (!msg || VL_GROW(j->problems, j->cproblems, j->nproblems + 1,
                        NULL) != VL_OK) {
        free(msg);
        j->oom = 1;
        return;
    }
    dproblem *n = j->problems;
    n[j->nproblems++] = (dproblem){.code = code, .problem = problem,
                                   .algorithm = alg, .expected = expected,
                                   .file = file, .msg = msg};
    snprintf(n[j->nproblems - 1].actual, VL_DIGEST_HEX_MAX, "%s",
             actual ? actual : "");
}

static void compare_fixity(const dctx *d, djob *j, const vl_digest_result *r,
                           const char *size)
{
    for (size_t f = j->fix_lo; f < j->fix_hi; f++) {
        const vv_fix *fx = &d->inv->fixity[f];
        vl_digest_alg a;
        if (!strcmp(fx->alg, "size")) {
            if (strcmp(size, fx->digest))
                add_problem(j, "E093", VL_PROBLEM_MISMATCH, fx->alg,
                            fx->digest, size, NULL,
                            vl_asprintf("fixity size %s for %s does not "
                                        "match the file (%s bytes)",
                                        fx->digest, j->path, size));
            continue;
        }
        if (vl_digest_from_name(fx->alg, &a) != 0 ||
            strcasecmp(r->hex[a], fx->digest) == 0)
            continue;
        add_problem(j, "E093", VL_PROBLEM_MISMATCH, fx->alg, fx->digest,
                    r->hex[a], NULL,
                    vl_asprintf("fixity %s digest %.16s... for %s does not "
                                "match the file (computed %.16s...)", fx->alg,
                                fx->digest, j->path, r->hex[a]));
    }
}

/* The digests a version inventory gives, each with its own algorithm. */
static void compare_claims(const dctx *d, djob *j, const vl_digest_result *r,
                           const char *size)
{
    for (size_t k = j->claim_lo; k < j->claim_hi; k++) {
        const vclaim *c = &d->claims[k];
        const char *alg = c->alg < 0 ? "size"
                                     : vl_digest_name((vl_digest_alg)c->alg);
        const char *have = c->alg < 0 ? size : r->hex[c->alg];
        if (!strcasecmp(have, c->digest))
            continue;
        add_problem(j, c->code, VL_PROBLEM_MISMATCH, alg, c->digest, have,
                    c->file,
                    vl_asprintf("%s %s digest %.16s... for %s does not match "
                                "the file (computed %.16s...)",
                                strcmp(c->code, "E092") ? "fixity"
                                                        : "manifest", alg,
                                c->digest, j->path, have));
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
    for (size_t k = j->claim_lo; k < j->claim_hi; k++)
        if (d->claims[k].alg >= 0)
            mask |= VL_DIGEST_BIT(d->claims[k].alg);
    char *rel = vv_join(d->v->base, j->path);
    vl_reader *r = NULL;
    vl_error e = {0};
    vl_digest_result res;
    uint64_t size = 0;
    if (!rel)
        return vl_error_oom(err);
    if (vl_backend_open(d->v->b, rel, &r, &e) != VL_OK ||
        vl_digest_pump(vl_reader_read, r, -1, mask, NULL, NULL, &res, &size,
                       &e) != VL_OK) {
        if (vv_note(&e))
            j->oom = 1;     /* this process's failure, not the file's */
        else
            add_problem(j, "E092", VL_PROBLEM_UNREADABLE, NULL, NULL, NULL,
                        j->digest ? NULL : d->claims[j->claim_lo].file,
                        vl_asprintf("cannot read %s: %s", j->path, e.msg));
    } else {
        char sz[32];
        snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
        const char *have = res.hex[d->inv->alg];
        int corrupt = j->digest && strcasecmp(have, j->digest);
        if (corrupt)
            /* The algorithm by its canonical name: the inventory's
             * spelling may differ in case. */
            add_problem(j, "E092", VL_PROBLEM_MISMATCH,
                        vl_digest_name((vl_digest_alg)d->inv->alg),
                        j->digest, have, NULL,
                        vl_asprintf("manifest digest %.16s... for %s does "
                                    "not match the file (computed %.16s...)",
                                    j->digest, j->path, have));
        compare_fixity(d, j, &res, sz);
        /* A file unlike the root manifest's digest is said to be so once;
         * older inventories' digests of it add nothing. */
        if (!corrupt)
            compare_claims(d, j, &res, sz);
    }
    vl_reader_close(r);
    free(rel);
    return VL_OK;
}

/* Version inventory claims for paths before `before` (NULL = all), whose
 * files the root manifest does not list: jobs of their own when the file
 * is there. */
static size_t claim_jobs(const octx *o, djob *jobs, size_t *n, size_t c,
                         const char *before)
{
    while (c < o->nclaims &&
           (!before || strcmp(o->claims[c].path, before) < 0)) {
        size_t e = c + 1;
        while (e < o->nclaims && !strcmp(o->claims[e].path, o->claims[c].path))
            e++;
        if (o->claims[c].exists)
            jobs[(*n)++] = (djob){.path = o->claims[c].path, .claim_lo = c,
                                  .claim_hi = e};
        c = e;
    }
    return c;
}

static size_t build_jobs(octx *o, djob *jobs)
{
    const vv_inv *inv = &o->inv;
    size_t n = 0, f = 0, c = 0;
    for (size_t i = 0; i < inv->nmanifest; i++) {
        const vv_pair *m = &inv->manifest[i];
        if (i > 0 && !strcmp(m->path, inv->manifest[i - 1].path))
            continue;
        c = claim_jobs(o, jobs, &n, c, m->path);
        size_t clo = c;
        while (c < o->nclaims && !strcmp(o->claims[c].path, m->path))
            c++;
        if (o->seen[i] != 1)
            continue;
        while (f < inv->nfixity && strcmp(inv->fixity[f].path, m->path) < 0)
            f++;
        size_t hi = f;
        while (hi < inv->nfixity && !strcmp(inv->fixity[hi].path, m->path))
            hi++;
        jobs[n++] = (djob){.path = m->path, .digest = m->digest, .fix_lo = f,
                           .fix_hi = hi, .claim_lo = clo, .claim_hi = c};
        f = hi;
    }
    claim_jobs(o, jobs, &n, c, NULL);
    return n;
}

static void report_problems(vv_ctx *v, const djob *j)
{
    for (size_t i = 0; i < j->nproblems; i++) {
        const dproblem *p = &j->problems[i];
        vv_facts f = {p->problem, j->path, p->algorithm, p->expected,
                      p->actual[0] ? p->actual : NULL};
        /* Reported against the inventory that gives the digest (its
         * message names the file); content_path names it as data. */
        vv_report_facts(v, p->code, p->file ? p->file : ROOT_INV, &f, "%s",
                        p->msg);
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
        (!o->inv.nmanifest && !o->nclaims))
        return VL_OK;
    djob *jobs = calloc(o->inv.nmanifest + o->nclaims + 1, sizeof *jobs);
    if (!jobs)
        return vl_error_oom(o->err);
    size_t n = build_jobs(o, jobs);
    dctx d = {o->v, &o->inv, o->claims, jobs};
    int rc = vl_pool_run(n, o->v->o->nthreads, digest_one, &d, o->err);
    for (size_t i = 0; i < n && rc == VL_OK; i++)
        if (jobs[i].oom)
            rc = vl_error_oom(o->err);   /* a finding lost: the run cannot stand */
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
            return vl_error_oom(o->err);
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
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = check_versions(&o)) || (rc = check_missing(&o)))
        goto done;
    rc = check_digests(&o);
done:
    for (size_t i = 0; i < o.nwalked_paths; i++)
        free(o.walked_paths[i]);
    free(o.walked_paths);
    for (size_t i = 0; i < o.nclaims; i++) {
        free(o.claims[i].path);
        free(o.claims[i].digest);
    }
    free(o.claims);
    json_decref(o.claim_keys);
    for (size_t i = 0; i < o.nfiles; i++)
        free(o.files[i]);
    free(o.files);
    free(o.seen);
    free(o.ver_files);
    vv_inventory_free(&o.inv);
    vl_buf_release(&o.inv_data);
    vv_list_free(&o.root);
    return rc;
}
