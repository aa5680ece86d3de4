/* OCFL validator: one inventory.json document, checked strictly against
 * sections 3.4-3.5 of the specification, and turned into a model
 * (manifest, versions, fixity) for the object checks. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "validate_private.h"

typedef struct ictx {
    vv_ctx *v;
    const char *file;
    vv_inv *inv;
    json_t *state_digests;   /* set of every state digest */
    vl_error *err;
} ictx;

static int pair_cmp(const void *a, const void *b)
{
    const vv_pair *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : strcmp(x->digest, y->digest);
}

static int fix_cmp(const void *a, const void *b)
{
    const vv_fix *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : strcmp(x->alg, y->alg);
}

static int version_cmp(const void *a, const void *b)
{
    const vv_version *x = a, *y = b;
    return (x->num > y->num) - (x->num < y->num);
}

static int path_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const vv_pair *)elem)->path);
}

const vv_pair *vv_manifest_find(const vv_inv *inv, const char *path)
{
    if (!inv->nmanifest)
        return NULL;
    return bsearch(path, inv->manifest, inv->nmanifest, sizeof(vv_pair),
                   path_cmp);
}

const vv_version *vv_inventory_version(const vv_inv *inv, long num)
{
    size_t lo = 0, hi = inv->nversions;
    while (lo < hi) {      /* versions are sorted by number */
        size_t mid = lo + (hi - lo) / 2;
        if (inv->versions[mid].num < num)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < inv->nversions && inv->versions[lo].num == num
               ? &inv->versions[lo] : NULL;
}

void vv_inventory_free(vv_inv *inv)
{
    for (size_t i = 0; i < inv->nversions; i++)
        free(inv->versions[i].state);
    free(inv->versions);
    free(inv->manifest);
    free(inv->misplaced);
    free(inv->fixity);
    json_decref(inv->root);
    memset(inv, 0, sizeof *inv);
}

/* ---- small checks -------------------------------------------------------- */

static void check_keys(ictx *x, json_t *obj, const char *const *allowed,
                       const char *where)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = !strcmp(key, allowed[i]);
        if (!ok) {
            char *e = vl_name_escape(key);
            vv_report(x->v, "E102", x->file, "unknown key '%s' in %s",
                      e ? e : "?", where);
            free(e);
        }
    }
}

/* Lower-case copy into a set; 1 when it was already there, -1 on OOM. */
static int seen_lower(json_t *set, const char *s)
{
    size_t n = strlen(s);
    char *lc = malloc(n + 1);
    if (!lc)
        return -1;
    for (size_t i = 0; i <= n; i++)
        lc[i] = (char)tolower((unsigned char)s[i]);
    int dup = json_object_get(set, lc) != NULL;
    int rc = dup ? 1 : (json_object_set_new(set, lc, json_null()) ? -1 : 0);
    free(lc);
    return rc;
}

static const char *hex_code(int alg)
{
    switch (alg) {
    case VL_SHA1: return "E029";
    case VL_SHA256: return "E030";
    case VL_SHA512: return "E031";
    case VL_BLAKE2B512: return "E032";
    default: return "E057";
    }
}

/* Messages show digests shortened. */
static void short_digest(const char *d, char out[20])
{
    size_t n = strlen(d);
    if (n <= 16)
        snprintf(out, 20, "%s", d);
    else
        snprintf(out, 20, "%.12s...", d);
}

static void check_content_path(ictx *x, const char *block, const char *p)
{
    int shape = vv_path_shape(p);
    if (!shape)
        return;
    char *e = vl_name_escape(p);
    if (shape == 1)
        vv_report(x->v, "E100", x->file,
                  "%s content path '%s' begins or ends with '/'", block,
                  e ? e : "?");
    else
        vv_report(x->v, "E099", x->file,
                  "%s content path '%s' has an empty, '.' or '..' element",
                  block, e ? e : "?");
    free(e);
}

/* Sorted paths: report duplicates and a path that is a prefix folder of
 * another (E101 / E095). */
static int check_conflicts(ictx *x, const vv_pair *p, size_t n,
                           const char *code, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && !strcmp(p[i].path, p[i + 1].path)) {
            char *e = vl_name_escape(p[i].path);
            vv_report(x->v, code, x->file, "%s '%s' appears more than once",
                      what, e ? e : "?");
            free(e);
            continue;
        }
        char *dup = vl_strdup(p[i].path);
        if (!dup)
            return vl_error_oom(x->err);
        for (char *s = strrchr(dup, '/'); s; s = strrchr(dup, '/')) {
            *s = '\0';
            if (bsearch(dup, p, n, sizeof *p, path_cmp)) {
                char *e1 = vl_name_escape(dup), *e2 = vl_name_escape(p[i].path);
                vv_report(x->v, code, x->file,
                          "%s '%s' is both a file and a folder of '%s'",
                          what, e1 ? e1 : "?", e2 ? e2 : "?");
                free(e1);
                free(e2);
                break;
            }
        }
        free(dup);
    }
    return VL_OK;
}

/* ---- top-level keys ------------------------------------------------------ */

static const char *req_string(ictx *x, const char *key, const char *bad_code)
{
    json_t *j = json_object_get(x->inv->root, key);
    if (!j) {
        vv_report(x->v, "E036", x->file, "required key '%s' is missing", key);
        return NULL;
    }
    if (!json_is_string(j) || !*json_string_value(j)) {
        vv_report(x->v, bad_code, x->file,
                  "'%s' must be a non-empty string", key);
        return NULL;
    }
    return json_string_value(j);
}

static void check_header(ictx *x, int expect_spec)
{
    vv_inv *inv = x->inv;
    if ((inv->id = req_string(x, "id", "E037")) && !vv_uri_ok(inv->id)) {
        char *e = vl_name_escape(inv->id);
        vv_report(x->v, "W005", x->file, "id '%s' is not a URI", e ? e : "?");
        free(e);
    }
    if ((inv->type = req_string(x, "type", "E038"))) {
        inv->spec = vv_spec_from_type(inv->type);
        char *e = vl_name_escape(inv->type);
        if (inv->spec == VV_SPEC_UNKNOWN)
            vv_report(x->v, "E038", x->file,
                      "type '%s' is not an OCFL inventory type", e ? e : "?");
        else if (expect_spec != VV_SPEC_UNKNOWN && inv->spec != expect_spec)
            vv_report(x->v, "E038", x->file,
                      "type '%s' does not match the declaration "
                      "0=ocfl_object_%s", e ? e : "?",
                      vv_spec_name(expect_spec));
        free(e);
    }
    if ((inv->alg_name = req_string(x, "digestAlgorithm", "E025"))) {
        vl_digest_alg a;
        if (!strcmp(inv->alg_name, "sha512")) {
            inv->alg = VL_SHA512;
        } else if (!strcmp(inv->alg_name, "sha256")) {
            inv->alg = VL_SHA256;
            vv_report(x->v, "W004", x->file,
                      "digestAlgorithm is sha256; sha512 is recommended");
        } else {
            char *e = vl_name_escape(inv->alg_name);
            vv_report(x->v, "E025", x->file,
                      "digestAlgorithm '%s' is not sha512 or sha256%s",
                      e ? e : "?",
                      vl_digest_from_name(inv->alg_name, &a) == 0 ?
                          " (allowed only for fixity)" : "");
            free(e);
        }
    }
    inv->head = req_string(x, "head", "E040");
    inv->content_dir = "content";
    json_t *cd = json_object_get(inv->root, "contentDirectory");
    if (!cd)
        return;
    const char *s = json_is_string(cd) ? json_string_value(cd) : NULL;
    if (!s)
        vv_report(x->v, "E033", x->file, "contentDirectory must be a string");
    else if (strchr(s, '/'))
        vv_report(x->v, "E017", x->file,
                  "contentDirectory '%s' contains '/'", s);
    else if (!strcmp(s, ".") || !strcmp(s, ".."))
        vv_report(x->v, "E018", x->file, "contentDirectory is '%s'", s);
    else if (!*s)
        vv_report(x->v, "E108|E017", x->file,
                  "contentDirectory is empty, not a child folder");
    else
        inv->content_dir = s;
}

/* ---- manifest ------------------------------------------------------------ */

static void check_manifest_digest(ictx *x, const char *d, json_t *lower)
{
    char sd[20];
    short_digest(d, sd);
    int alg = x->inv->alg;
    if (alg >= 0) {
        if (!vv_hex_ok(d, 0))
            vv_report(x->v, hex_code(alg), x->file,
                      "manifest digest '%s' is not hex", sd);
        else if (strlen(d) != vl_digest_hex_len(alg))
            vv_report(x->v, "E039", x->file,
                      "manifest digest '%s' is not a %s digest (%zu hex "
                      "digits)", sd, x->inv->alg_name, strlen(d));
    }
    int dup = seen_lower(lower, d);
    if (dup == 1)
        vv_report(x->v, "E096", x->file,
                  "manifest digest '%s' occurs more than once (ignoring case)",
                  sd);
}

static int check_manifest(ictx *x)
{
    vv_inv *inv = x->inv;
    json_t *m = json_object_get(inv->root, "manifest");
    if (!m) {
        vv_report(x->v, "E041", x->file, "required key 'manifest' is missing");
        return VL_OK;
    }
    if (!json_is_object(m)) {
        vv_report(x->v, "E106|E041", x->file, "manifest is not a JSON object");
        return VL_OK;
    }
    size_t cap = 0;
    json_t *lower = json_object();
    if (!lower)
        return vl_error_oom(x->err);
    const char *d;
    json_t *arr;
    int rc = VL_OK;
    json_object_foreach(m, d, arr) {
        check_manifest_digest(x, d, lower);
        if (!json_is_array(arr) || json_array_size(arr) == 0) {
            char sd[20];
            short_digest(d, sd);
            vv_report(x->v, "E092", x->file,
                      "manifest value for '%s' is not a non-empty array of "
                      "content paths", sd);
            continue;
        }
        size_t i;
        json_t *p;
        json_array_foreach(arr, i, p) {
            if (!json_is_string(p)) {
                vv_report(x->v, "E092", x->file,
                          "manifest has a content path that is not a string");
                continue;
            }
            check_content_path(x, "manifest", json_string_value(p));
            if ((rc = VL_GROW(inv->manifest, cap, inv->nmanifest + 1,
                              x->err)) != VL_OK)
                goto done;
            inv->manifest[inv->nmanifest++] =
                (vv_pair){d, json_string_value(p)};
        }
    }
    if (inv->nmanifest)
        qsort(inv->manifest, inv->nmanifest, sizeof(vv_pair), pair_cmp);
    rc = check_conflicts(x, inv->manifest, inv->nmanifest, "E101",
                         "content path");
done:
    json_decref(lower);
    return rc;
}

/* ---- versions ------------------------------------------------------------ */

static void check_user(ictx *x, const char *vname, json_t *u)
{
    static const char *const keys[] = {"name", "address", NULL};
    if (!json_is_object(u)) {
        vv_report(x->v, "E054", x->file, "version %s: user is not an object",
                  vname);
        return;
    }
    char where[64];
    snprintf(where, sizeof where, "version %s user", vname);
    check_keys(x, u, keys, where);
    json_t *name = json_object_get(u, "name");
    if (!json_is_string(name) || !*json_string_value(name))
        vv_report(x->v, "E054", x->file,
                  "version %s: user has no name string", vname);
    json_t *addr = json_object_get(u, "address");
    if (!addr)
        vv_report(x->v, "W008", x->file, "version %s: user has no address",
                  vname);
    else if (!json_is_string(addr))
        vv_report(x->v, "E054", x->file,
                  "version %s: user address is not a string", vname);
    else if (!vv_uri_ok(json_string_value(addr)))
        vv_report(x->v, "W009", x->file,
                  "version %s: user address '%s' is not a URI", vname,
                  json_string_value(addr));
}

static int add_state(ictx *x, vv_version *ver, size_t *cap, const char *d,
                     const char *p)
{
    if (VL_GROW(ver->state, *cap, ver->nstate + 1, x->err) != VL_OK)
        return VL_ESYS;
    ver->state[ver->nstate++] = (vv_pair){d, p};
    return VL_OK;
}

static void check_logical(ictx *x, const char *vname, const char *p)
{
    int shape = vv_path_shape(p);
    if (!shape)
        return;
    char *e = vl_name_escape(p);
    if (shape == 1)
        vv_report(x->v, "E053", x->file,
                  "version %s: logical path '%s' begins or ends with '/'",
                  vname, e ? e : "?");
    else
        vv_report(x->v, "E052", x->file,
                  "version %s: logical path '%s' has an empty, '.' or '..' "
                  "element", vname, e ? e : "?");
    free(e);
}

static int check_state_digest(ictx *x, const char *vname, const char *d)
{
    json_t *m = json_object_get(x->inv->root, "manifest");
    if (json_is_object(m) && !json_object_get(m, d)) {
        char sd[20];
        short_digest(d, sd);
        vv_report(x->v, "E050", x->file,
                  "version %s: state digest '%s' is not in the manifest",
                  vname, sd);
    }
    if (!json_object_get(x->state_digests, d) &&
        json_object_set_new(x->state_digests, d, json_null()))
        return vl_error_oom(x->err);
    return VL_OK;
}

static int check_state(ictx *x, vv_version *ver, json_t *st)
{
    size_t cap = 0;
    const char *d;
    json_t *arr;
    int rc;
    json_object_foreach(st, d, arr) {
        if ((rc = check_state_digest(x, ver->name, d)) != VL_OK)
            return rc;
        if (!json_is_array(arr) || json_array_size(arr) == 0) {
            vv_report(x->v, "E051", x->file,
                      "version %s: state value is not a non-empty array of "
                      "logical paths", ver->name);
            continue;
        }
        size_t i;
        json_t *p;
        json_array_foreach(arr, i, p) {
            if (!json_is_string(p)) {
                vv_report(x->v, "E051", x->file,
                          "version %s: logical path is not a string",
                          ver->name);
                continue;
            }
            check_logical(x, ver->name, json_string_value(p));
            if ((rc = add_state(x, ver, &cap, d, json_string_value(p))))
                return rc;
        }
    }
    if (ver->nstate)
        qsort(ver->state, ver->nstate, sizeof(vv_pair), pair_cmp);
    char what[64];
    snprintf(what, sizeof what, "version %s: logical path", ver->name);
    return check_conflicts(x, ver->state, ver->nstate, "E095", what);
}

static int check_version(ictx *x, vv_version *ver)
{
    static const char *const keys[] = {"created", "state", "message", "user",
                                       NULL};
    json_t *o = ver->obj;
    char where[64];
    snprintf(where, sizeof where, "version %s", ver->name);
    check_keys(x, o, keys, where);
    json_t *cr = json_object_get(o, "created");
    if (!cr)
        vv_report(x->v, "E048", x->file, "version %s has no 'created'",
                  ver->name);
    else if (!json_is_string(cr) || !vv_rfc3339_ok(json_string_value(cr)))
        vv_report(x->v, "E049", x->file,
                  "version %s: created is not an RFC 3339 date-time",
                  ver->name);
    json_t *msg = json_object_get(o, "message");
    json_t *user = json_object_get(o, "user");
    if (msg && !json_is_string(msg))
        vv_report(x->v, "E094", x->file,
                  "version %s: message is not a string", ver->name);
    if (user)
        check_user(x, ver->name, user);
    if (!msg || !user)
        vv_report(x->v, "W007", x->file, "version %s has no %s", ver->name,
                  !msg && !user ? "message or user" : !msg ? "message"
                                                           : "user");
    json_t *st = json_object_get(o, "state");
    if (!st) {
        vv_report(x->v, "E048", x->file, "version %s has no 'state'",
                  ver->name);
        return VL_OK;
    }
    if (!json_is_object(st)) {
        vv_report(x->v, "E048", x->file,
                  "version %s: state is not a JSON object", ver->name);
        return VL_OK;
    }
    return check_state(x, ver, st);
}

static void check_sequence(ictx *x)
{
    vv_inv *inv = x->inv;
    if (!inv->nversions)
        return;
    const vv_version *first = &inv->versions[0];
    long n0;
    vv_version_parse(first->name, &n0, &inv->pad);
    if (first->num != 1)
        vv_report(x->v, "E009", x->file,
                  "versions start at %s, not at version 1", first->name);
    for (size_t i = 1; i < inv->nversions; i++) {
        const vv_version *a = &inv->versions[i - 1], *b = &inv->versions[i];
        if (b->num == a->num)
            vv_report(x->v, "E012", x->file,
                      "versions %s and %s have the same number", a->name,
                      b->name);
        else if (b->num != a->num + 1)
            vv_report(x->v, "E010", x->file,
                      "versions jump from %s to %s", a->name, b->name);
    }
    if (inv->pad > 0)
        vv_report(x->v, "W001", x->file,
                  "version names are zero-padded (%s)", first->name);
    for (size_t i = 1; i < inv->nversions; i++) {
        const char *nm = inv->versions[i].name;
        size_t nd = strlen(nm) - 1;
        if (inv->pad == 0 && nm[1] == '0')
            vv_report(x->v, "E012", x->file,
                      "version %s is zero-padded but %s is not", nm,
                      first->name);
        else if (inv->pad > 0 && nd != (size_t)inv->pad)
            vv_report(x->v, "E012", x->file,
                      "version %s does not have the %d digits of %s", nm,
                      inv->pad, first->name);
        else if (inv->pad > 0 && nm[1] != '0')
            vv_report(x->v, "E011", x->file,
                      "zero-padded version %s does not start with v0", nm);
    }
}

static int check_versions(ictx *x)
{
    vv_inv *inv = x->inv;
    json_t *vs = json_object_get(inv->root, "versions");
    if (!vs) {
        vv_report(x->v, "E043", x->file, "required key 'versions' is missing");
        return VL_OK;
    }
    if (!json_is_object(vs)) {
        vv_report(x->v, "E045|E044", x->file, "versions is not a JSON object");
        return VL_OK;
    }
    if (json_object_size(vs) == 0) {
        vv_report(x->v, "E008", x->file, "versions is empty");
        return VL_OK;
    }
    inv->versions = calloc(json_object_size(vs), sizeof(vv_version));
    if (!inv->versions)
        return vl_error_oom(x->err);
    const char *k;
    json_t *o;
    json_object_foreach(vs, k, o) {
        long num;
        int pad, r = vv_version_parse(k, &num, &pad);
        char *e = r ? vl_name_escape(k) : NULL;
        if (r == -1)
            vv_report(x->v, "E104|E046", x->file,
                      "version name '%s' does not start with 'v'", e ? e : "?");
        else if (r == -2)
            vv_report(x->v, "E105|E046", x->file,
                      "version name '%s' is not v and a positive integer",
                      e ? e : "?");
        free(e);
        if (r)
            continue;
        if (!json_is_object(o)) {
            vv_report(x->v, "E047", x->file, "version %s is not a JSON object",
                      k);
            continue;
        }
        inv->versions[inv->nversions++] = (vv_version){k, num, o, NULL, 0};
    }
    if (inv->nversions)
        qsort(inv->versions, inv->nversions, sizeof(vv_version), version_cmp);
    check_sequence(x);
    for (size_t i = 0; i < inv->nversions; i++) {
        int rc = check_version(x, &inv->versions[i]);
        if (rc)
            return rc;
    }
    return VL_OK;
}

static void check_head(ictx *x)
{
    vv_inv *inv = x->inv;
    if (!inv->head || !inv->nversions)
        return;
    const vv_version *last = &inv->versions[inv->nversions - 1];
    if (strcmp(inv->head, last->name)) {
        char *e = vl_name_escape(inv->head);
        vv_report(x->v, "E040", x->file,
                  "head is '%s' but the highest version is %s", e ? e : "?",
                  last->name);
        free(e);
        return;
    }
    inv->head_num = last->num;
}

/* ---- manifest against versions ------------------------------------------ */

/* Content paths must be VERSION/CONTENTDIR/... with a real version name;
 * 1 when not. */
static int check_content_place(ictx *x, const char *p)
{
    vv_inv *inv = x->inv;
    const char *s1 = strchr(p, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    char vname[32];
    size_t vlen = s1 ? (size_t)(s1 - p) : strlen(p);
    snprintf(vname, sizeof vname, "%.*s", (int)(vlen < 31 ? vlen : 31), p);
    long num = 0;
    int pad;
    const vv_version *ver = NULL;
    if (vv_version_parse(vname, &num, &pad) == 0)
        ver = vv_inventory_version(inv, num);
    char *e = vl_name_escape(p);
    int bad = 1;
    if (ver && (vlen != strlen(ver->name) || strncmp(p, ver->name, vlen)))
        vv_report(x->v, "E014", x->file,
                  "content path '%s' does not use the version folder name %s",
                  e ? e : "?", ver->name);
    else if (!ver && num > 0 && inv->nversions &&
             num < inv->versions[inv->nversions - 1].num)
        ;   /* a version missing from the sequence: E009/E010 said so */
    else if (!ver)
        vv_report(x->v, "E042", x->file,
                  "content path '%s' is not inside a version folder of this "
                  "inventory", e ? e : "?");
    else if (!s2 || (size_t)(s2 - s1 - 1) != strlen(inv->content_dir) ||
             strncmp(s1 + 1, inv->content_dir, strlen(inv->content_dir)))
        vv_report(x->v, "E042", x->file,
                  "content path '%s' is not inside %s/%s/", e ? e : "?",
                  ver->name, inv->content_dir);
    else
        bad = 0;
    free(e);
    return bad;
}

static int check_manifest_usage(ictx *x)
{
    vv_inv *inv = x->inv;
    json_t *m = json_object_get(inv->root, "manifest");
    if (!json_is_object(m) || !inv->nversions)
        return VL_OK;
    if (!(inv->misplaced = calloc(inv->nmanifest + 1, 1)))
        return vl_error_oom(x->err);
    for (size_t i = 0; i < inv->nmanifest; i++)
        if (!vv_path_shape(inv->manifest[i].path))
            inv->misplaced[i] =
                (unsigned char)check_content_place(x, inv->manifest[i].path);
    const char *d;
    json_t *arr;
    json_object_foreach(m, d, arr) {
        if (!json_object_get(x->state_digests, d)) {
            char sd[20];
            short_digest(d, sd);
            vv_report(x->v, "E107|-", x->file,
                      "manifest digest '%s' is not used in any version state",
                      sd);
        }
    }
    return VL_OK;
}

/* ---- fixity -------------------------------------------------------------- */

static int fixity_alg_known(const char *a, int *alg)
{
    static const char *const ext[] = {"blake2b-160", "blake2b-256",
                                      "blake2b-384", "sha512/256", "size",
                                      NULL};
    vl_digest_alg da;
    *alg = -1;
    if (vl_digest_from_name(a, &da) == 0) {
        *alg = (int)da;
        return 1;
    }
    for (size_t i = 0; ext[i]; i++)
        if (!strcmp(a, ext[i]))
            return 1;
    return 0;
}

static int fixity_add(ictx *x, size_t *cap, const char *a, const char *d,
                      const char *p)
{
    vv_inv *inv = x->inv;
    if (VL_GROW(inv->fixity, *cap, inv->nfixity + 1, x->err) != VL_OK)
        return VL_ESYS;
    inv->fixity[inv->nfixity++] = (vv_fix){a, d, p};
    return VL_OK;
}

/* 1 when the digest is well formed for its algorithm. */
static int check_fixity_digest(ictx *x, const char *a, int alg,
                               const char *d, json_t *lower)
{
    char sd[20];
    short_digest(d, sd);
    int ok = 1;
    if (alg >= 0)
        ok = vv_hex_ok(d, vl_digest_hex_len(alg));
    else if (!strcmp(a, "size"))
        for (const char *c = d; ok && (*c || c == d); c++)
            ok = isdigit((unsigned char)*c);
    if (!ok)
        vv_report(x->v, alg >= 0 ? hex_code(alg) : "E057", x->file,
                  "fixity %s digest '%s' is not a %s hex digest", a, sd, a);
    if (seen_lower(lower, d) == 1)
        vv_report(x->v, "E097", x->file,
                  "fixity %s digest '%s' occurs more than once (ignoring "
                  "case)", a, sd);
    return ok;
}

static int check_fixity_paths(ictx *x, size_t *cap, const char *a,
                              const char *d, int well_formed, json_t *arr)
{
    size_t i;
    json_t *p;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        vv_report(x->v, "E057", x->file,
                  "fixity %s value is not a non-empty array of content paths",
                  a);
        return VL_OK;
    }
    json_array_foreach(arr, i, p) {
        if (!json_is_string(p)) {
            vv_report(x->v, "E057", x->file,
                      "fixity %s content path is not a string", a);
            continue;
        }
        const char *s = json_string_value(p);
        check_content_path(x, "fixity", s);
        if (!vv_manifest_find(x->inv, s)) {
            char *e = vl_name_escape(s);
            vv_report(x->v, "E057", x->file,
                      "fixity %s content path '%s' is not in the manifest", a,
                      e ? e : "?");
            free(e);
            continue;
        }
        int rc = well_formed ? fixity_add(x, cap, a, d, s) : VL_OK;
        if (rc)
            return rc;
    }
    return VL_OK;
}

static int check_fixity(ictx *x)
{
    json_t *f = json_object_get(x->inv->root, "fixity");
    if (!f)
        return VL_OK;
    if (!json_is_object(f)) {
        vv_report(x->v, "E111|E056", x->file, "fixity is not a JSON object");
        return VL_OK;
    }
    size_t cap = 0;
    const char *a;
    json_t *block;
    json_object_foreach(f, a, block) {
        int alg;
        if (!fixity_alg_known(a, &alg)) {
            char *e = vl_name_escape(a);
            vv_report(x->v, "E056", x->file,
                      "fixity algorithm '%s' is not a known digest algorithm",
                      e ? e : "?");
            free(e);
            continue;
        }
        if (!json_is_object(block)) {
            vv_report(x->v, "E057", x->file,
                      "fixity %s block is not a JSON object", a);
            continue;
        }
        json_t *lower = json_object();
        if (!lower)
            return vl_error_oom(x->err);
        const char *d;
        json_t *arr;
        int rc = VL_OK;
        json_object_foreach(block, d, arr) {
            int ok = check_fixity_digest(x, a, alg, d, lower);
            if ((rc = check_fixity_paths(x, &cap, a, d, ok, arr)))
                break;
        }
        json_decref(lower);
        if (rc)
            return rc;
    }
    if (x->inv->nfixity)
        qsort(x->inv->fixity, x->inv->nfixity, sizeof(vv_fix), fix_cmp);
    return VL_OK;
}

/* ---- entry --------------------------------------------------------------- */

void vv_inventory_init(vv_inv *inv)
{
    memset(inv, 0, sizeof *inv);
    inv->alg = -1;
    inv->pad = -1;
    inv->spec = VV_SPEC_UNKNOWN;
}

void vv_inventory_load(vv_inv *inv, const char *data, size_t len)
{
    inv->loaded = 1;
    inv->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &inv->jerr);
}

int vv_inventory_check(vv_ctx *v, const char *file, const char *data,
                       size_t len, int expect_spec, vv_inv *inv,
                       vl_error *err)
{
    static const char *const keys[] = {"id", "type", "digestAlgorithm",
                                       "head", "contentDirectory", "manifest",
                                       "versions", "fixity", NULL};
    ictx x = {.v = v, .file = file, .inv = inv, .err = err};
    if (!inv->loaded)
        vv_inventory_load(inv, data, len);
    if (!inv->root) {
        vv_report(v, "E033", file, "not valid JSON: %s (line %d)",
                  inv->jerr.text, inv->jerr.line);
        inv->fatal = 1;
        return VL_OK;
    }
    if (!json_is_object(inv->root)) {
        vv_report(v, "E033", file, "not a JSON object");
        inv->fatal = 1;
        return VL_OK;
    }
    if (!(x.state_digests = json_object()))
        return vl_error_oom(err);
    int rc;
    check_keys(&x, inv->root, keys, "the inventory");
    check_header(&x, expect_spec);
    if ((rc = check_manifest(&x)) || (rc = check_versions(&x)))
        goto done;
    check_head(&x);
    if ((rc = check_manifest_usage(&x)))
        goto done;
    rc = check_fixity(&x);
done:
    json_decref(x.state_digests);
    return rc;
}
