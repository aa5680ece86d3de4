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
    vl_error *err;
} ictx;

static int version_cmp(const void *a, const void *b)
{
    const vv_version *x = a, *y = b;
    return (x->num > y->num) - (x->num < y->num);
}

static const char Q_MANIFEST_HAS[] =
    "SELECT 1 FROM e WHERE inv = ?1 AND sect = 0 AND blk = 0 AND path = ?2"
    " LIMIT 1";

int vv_manifest_has(const vv_inv *inv, const char *path, vl_error *err)
{
    sqlite3_stmt *st;
    if (!inv->db || !inv->db->db || vv_q(inv->db, Q_MANIFEST_HAS, &st, err))
        return -1;
    sqlite3_bind_int(st, 1, inv->id);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    int code = sqlite3_step(st);
    sqlite3_reset(st);
    if (code == SQLITE_ROW)
        return 1;
    if (code == SQLITE_DONE)
        return 0;
    vv_db_fail(inv->db, code, err);
    return -1;
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

static const char D_K[] = "DELETE FROM k WHERE inv = ?1";
static const char D_E[] = "DELETE FROM e WHERE inv = ?1";
static const char D_VOK[] = "DELETE FROM vok WHERE inv = ?1";
static const char D_KUP[] = "DELETE FROM kup WHERE inv = ?1";
static const char D_FOK[] = "DELETE FROM fok WHERE inv = ?1";

void vv_inventory_free(vv_inv *inv)
{
    if (inv->db && inv->db->db && inv->id) {
        /* a failure leaves rows no query will ask for */
        vl_error e = {0};
        if (vv_exec_inv(inv->db, D_K, inv->id, &e) == VL_OK &&
            vv_exec_inv(inv->db, D_E, inv->id, &e) == VL_OK &&
            vv_exec_inv(inv->db, D_VOK, inv->id, &e) == VL_OK &&
            vv_exec_inv(inv->db, D_KUP, inv->id, &e) == VL_OK)
            vv_exec_inv(inv->db, D_FOK, inv->id, &e);
    }
    free(inv->versions);
    json_decref(inv->root);
    memset(inv, 0, sizeof *inv);
}

/* ---- the streamed maps ---------------------------------------------------- */

/* Every key of a streamed map in document order, then the elements of its
 * array in order: key() for each key (lower_dup: an earlier key is the
 * same ignoring case), elem() for each element of a key whose value is a
 * non-empty array (path NULL: not a string). */
typedef struct map_walk {
    int (*key)(ictx *x, void *arg, const char *d, int bad, int lower_dup);
    int (*elem)(ictx *x, void *arg, const char *d, const char *path);
    void *arg;
} map_walk;

/* The keys and the elements are read side by side, each in the order of
 * its primary key (a join would look each key's elements up). */
static const char Q_WALK_KEYS[] =
    "SELECT a.k, a.digest, a.bad,"
    /* an earlier key alike but for case: one with an upper-case letter
     * (kup), or a lower-case one when this key has one */
    " EXISTS (SELECT 1 FROM kup u WHERE u.inv = a.inv AND u.sect = a.sect"
    "  AND u.blk = a.blk AND u.lh = a.lh AND u.k < a.k"
    "  AND u.ld = coalesce(a.ld, a.digest))"
    " OR (a.ld IS NOT NULL AND EXISTS (SELECT 1 FROM k b INDEXED BY k_h"
    "  WHERE b.inv = a.inv AND b.sect = a.sect AND b.dh = a.lh"
    "  AND b.blk = a.blk AND b.k < a.k AND b.digest = a.ld))"
    " FROM k a WHERE a.inv = ?1 AND a.sect = ?2 AND a.blk = ?3 ORDER BY a.k";
/* Without a key that has an upper-case letter, no two keys are alike but
 * for case: the lookup for each key is left out. */
static const char Q_WALK_KEYS_PLAIN[] =
    "SELECT k, digest, bad, 0 FROM k WHERE inv = ?1 AND sect = ?2"
    " AND blk = ?3 ORDER BY k";
static const char Q_WALK_ELEMS[] =
    "SELECT k, path FROM e WHERE inv = ?1 AND sect = ?2 AND blk = ?3"
    " ORDER BY k, e";
static const char Q_ANY_UPPER[] =
    "SELECT EXISTS (SELECT 1 FROM kup WHERE inv = ?1 AND sect = ?2"
    " AND blk = ?3)";

static void bind_map(sqlite3_stmt *st, int inv, int sect, long blk)
{
    sqlite3_bind_int(st, 1, inv);
    sqlite3_bind_int(st, 2, sect);
    sqlite3_bind_int64(st, 3, blk);
}

static int walk_map(ictx *x, int sect, long blk, const map_walk *w)
{
    vv_db *db = x->inv->db;
    sqlite3_stmt *st, *el;
    int rc = vv_q(db, Q_ANY_UPPER, &st, x->err), code, ecode, upper;
    if (rc)
        return rc;
    bind_map(st, x->inv->id, sect, blk);
    code = sqlite3_step(st);
    upper = code == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (code != SQLITE_ROW)
        return vv_db_fail(db, code, x->err);
    if ((rc = vv_q(db, upper ? Q_WALK_KEYS : Q_WALK_KEYS_PLAIN, &st,
                   x->err)) ||
        (rc = vv_q(db, Q_WALK_ELEMS, &el, x->err)))
        return rc;
    bind_map(st, x->inv->id, sect, blk);
    bind_map(el, x->inv->id, sect, blk);
    ecode = sqlite3_step(el);
    while (rc == VL_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 k = sqlite3_column_int64(st, 0);
        const char *d = (const char *)sqlite3_column_text(st, 1);
        int bad = sqlite3_column_int(st, 2);
        if (!d) {
            rc = vl_error_oom(x->err);
            break;
        }
        rc = w->key(x, w->arg, d, bad, sqlite3_column_int(st, 3));
        for (; rc == VL_OK && ecode == SQLITE_ROW &&
               sqlite3_column_int64(el, 0) <= k;
             ecode = sqlite3_step(el))
            if (sqlite3_column_int64(el, 0) == k && !bad)
                rc = w->elem(x, w->arg, d,
                             (const char *)sqlite3_column_text(el, 1));
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = vv_db_fail(db, code, x->err);
    if (rc == VL_OK && ecode != SQLITE_DONE && ecode != SQLITE_ROW)
        rc = vv_db_fail(db, ecode, x->err);
    sqlite3_reset(st);
    sqlite3_reset(el);
    return rc;
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

/* The paths of one streamed map, in order: report duplicates and a path
 * that is a prefix folder of another (E101 / E095).  In path order, a path
 * F that is a folder of P comes before P, and every path between them
 * begins with F too; so the earlier paths that are prefixes of the current
 * one, a chain kept on a stack, are all the candidates (the longest that
 * is a folder of it is reported, as before).  Its depth is bounded by how
 * deep one path nests, not by the file count. */
static const char Q_PATHS_GROUPED[] =
    "SELECT path, COUNT(*) FROM e WHERE inv = ?1 AND sect = ?2 AND blk = ?3"
    " AND path IS NOT NULL GROUP BY path ORDER BY path";

typedef struct prefix_stack {
    char **p;
    size_t n, cap;
} prefix_stack;

static int check_conflicts(ictx *x, int sect, long blk, const char *code,
                           const char *what)
{
    vv_db *db = x->inv->db;
    sqlite3_stmt *st;
    prefix_stack ps = {0};
    int rc, step = SQLITE_DONE;
    if ((rc = vv_q(db, Q_PATHS_GROUPED, &st, x->err)))
        return rc;
    sqlite3_bind_int(st, 1, x->inv->id);
    sqlite3_bind_int(st, 2, sect);
    sqlite3_bind_int64(st, 3, blk);
    while (rc == VL_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        sqlite3_int64 n = sqlite3_column_int64(st, 1);
        if (!path) {
            rc = vl_error_oom(x->err);
            break;
        }
        for (sqlite3_int64 i = 1; i < n; i++) {
            char *e = vl_name_escape(path);
            vv_report(x->v, code, x->file, "%s '%s' appears more than once",
                      what, e ? e : "?");
            free(e);
        }
        while (ps.n && strncmp(path, ps.p[ps.n - 1], strlen(ps.p[ps.n - 1])))
            free(ps.p[--ps.n]);
        for (size_t i = ps.n; i-- > 0;) {
            if (path[strlen(ps.p[i])] != '/')
                continue;
            char *e1 = vl_name_escape(ps.p[i]), *e2 = vl_name_escape(path);
            vv_report(x->v, code, x->file,
                      "%s '%s' is both a file and a folder of '%s'",
                      what, e1 ? e1 : "?", e2 ? e2 : "?");
            free(e1);
            free(e2);
            break;
        }
        if ((rc = VL_GROW(ps.p, ps.cap, ps.n + 1, x->err)))
            break;
        if (!(ps.p[ps.n] = vl_strdup(path)))
            rc = vl_error_oom(x->err);
        else
            ps.n++;
    }
    if (rc == VL_OK && step != SQLITE_DONE)
        rc = vv_db_fail(db, step, x->err);
    sqlite3_reset(st);
    while (ps.n)
        free(ps.p[--ps.n]);
    free(ps.p);
    return rc;
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
    if ((inv->id_str = req_string(x, "id", "E037")) &&
        !vv_uri_ok(inv->id_str)) {
        char *e = vl_name_escape(inv->id_str);
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

static int manifest_key(ictx *x, void *arg, const char *d, int bad,
                        int lower_dup)
{
    (void)arg;
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
    if (lower_dup)
        vv_report(x->v, "E096", x->file,
                  "manifest digest '%s' occurs more than once (ignoring case)",
                  sd);
    if (bad)
        vv_report(x->v, "E092", x->file,
                  "manifest value for '%s' is not a non-empty array of "
                  "content paths", sd);
    return VL_OK;
}

static int manifest_elem(ictx *x, void *arg, const char *d, const char *p)
{
    (void)arg;
    (void)d;
    if (!p)
        vv_report(x->v, "E092", x->file,
                  "manifest has a content path that is not a string");
    else
        check_content_path(x, "manifest", p);
    return VL_OK;
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
    inv->have_manifest = 1;
    map_walk w = {manifest_key, manifest_elem, NULL};
    int rc = walk_map(x, VV_MANIFEST, 0, &w);
    if (rc == VL_OK)
        rc = check_conflicts(x, VV_MANIFEST, 0, "E101", "content path");
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

static const char Q_MANIFEST_KEY[] =
    "SELECT 1 FROM k INDEXED BY k_h WHERE inv = ?1 AND sect = 0 AND dh = ?3"
    " AND blk = 0"
    " AND digest = ?2";

static int state_key(ictx *x, void *arg, const char *d, int bad,
                     int lower_dup)
{
    const vv_version *ver = arg;
    (void)lower_dup;
    if (x->inv->have_manifest) {
        sqlite3_stmt *st;
        int rc = vv_q(x->inv->db, Q_MANIFEST_KEY, &st, x->err);
        if (rc)
            return rc;
        sqlite3_bind_int(st, 1, x->inv->id);
        sqlite3_bind_text(st, 2, d, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, vv_hash(d, 0));
        int code = sqlite3_step(st);
        sqlite3_reset(st);
        if (code != SQLITE_ROW && code != SQLITE_DONE)
            return vv_db_fail(x->inv->db, code, x->err);
        if (code == SQLITE_DONE) {
            char sd[20];
            short_digest(d, sd);
            vv_report(x->v, "E050", x->file,
                      "version %s: state digest '%s' is not in the manifest",
                      ver->name, sd);
        }
    }
    if (bad)
        vv_report(x->v, "E051", x->file,
                  "version %s: state value is not a non-empty array of "
                  "logical paths", ver->name);
    return VL_OK;
}

static int state_elem(ictx *x, void *arg, const char *d, const char *p)
{
    const vv_version *ver = arg;
    (void)d;
    if (!p)
        vv_report(x->v, "E051", x->file,
                  "version %s: logical path is not a string", ver->name);
    else
        check_logical(x, ver->name, p);
    return VL_OK;
}

static const char INS_VOK[] = "INSERT OR IGNORE INTO vok(inv, blk) VALUES (?1, ?2)";

static int check_state(ictx *x, vv_version *ver)
{
    map_walk w = {state_key, state_elem, ver};
    sqlite3_stmt *st;
    int rc = walk_map(x, VV_STATE, ver->blk, &w);
    if (rc || (rc = vv_q(x->inv->db, INS_VOK, &st, x->err)))
        return rc;
    /* its digests are used (E107) */
    sqlite3_bind_int(st, 1, x->inv->id);
    sqlite3_bind_int64(st, 2, ver->blk);
    int code = sqlite3_step(st);
    sqlite3_reset(st);
    if (code != SQLITE_DONE)
        return vv_db_fail(x->inv->db, code, x->err);
    char what[64];
    snprintf(what, sizeof what, "version %s: logical path", ver->name);
    return check_conflicts(x, VV_STATE, ver->blk, "E095", what);
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
    return check_state(x, ver);
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
    long blk = -1;
    json_object_foreach(vs, k, o) {
        long num;
        blk++;   /* the streamed state's rows are the version's ordinal */
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
        inv->versions[inv->nversions++] = (vv_version){k, num, blk, o};
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

/* A staged head's content path under its head folder must be
 * HEAD_DIR/CONTENTDIR/rN/... (extension 0005 files each revision's content
 * in a folder of its own); 1 when not. */
static int head_content_misplaced(vv_ctx *v, const char *file,
                                  const vv_inv *inv, const char *p)
{
    const char *rest = p + strlen(inv->head_dir) + 1;
    size_t cl = strlen(inv->content_dir);
    const char *rev = !strncmp(rest, inv->content_dir, cl) && rest[cl] == '/'
                          ? rest + cl + 1 : NULL;
    const char *slash = rev ? strchr(rev, '/') : NULL;
    if (slash && vv_revision_parse(rev, (size_t)(slash - rev)))
        return 0;
    if (v) {
        char *e = vl_name_escape(p);
        vv_report(v, "E042", file,
                  "content path '%s' is not inside a revision folder %s/%s/rN/ "
                  "of the staged head", e ? e : "?", inv->head_dir,
                  inv->content_dir);
        free(e);
    }
    return 1;
}

/* Content paths must be VERSION/CONTENTDIR/... with a real version name
 * (a staged head's own version: inside its head folder); 1 when not. */
int vv_content_misplaced(vv_ctx *v, const char *file, const vv_inv *inv,
                         const char *p)
{
    if (!inv->have_manifest || !inv->nversions || vv_path_shape(p))
        return 0;   /* not checked (E099/E100 said why for a shape) */
    size_t hl = inv->head_dir ? strlen(inv->head_dir) : 0;
    if (hl && !strncmp(p, inv->head_dir, hl) && p[hl] == '/')
        return head_content_misplaced(v, file, inv, p);
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
    enum { PLACED, OTHER_NAME, GAP, NO_VERSION, NO_CONTENT, STAGED } why =
        PLACED;
    if (ver && (vlen != strlen(ver->name) || strncmp(p, ver->name, vlen)))
        why = OTHER_NAME;
    else if (!ver && num > 0 && inv->nversions &&
             num < inv->versions[inv->nversions - 1].num)
        why = GAP;   /* a version missing from the sequence: E009/E010 */
    else if (!ver)
        why = NO_VERSION;
    else if (hl && ver == &inv->versions[inv->nversions - 1])
        why = STAGED;   /* the staged version has no folder of its own */
    else if (!s2 || (size_t)(s2 - s1 - 1) != strlen(inv->content_dir) ||
             strncmp(s1 + 1, inv->content_dir, strlen(inv->content_dir)))
        why = NO_CONTENT;
    if (!v || why == PLACED || why == GAP)
        return why != PLACED;
    char *e = vl_name_escape(p);
    if (why == STAGED)
        vv_report(v, "E042", file,
                  "content path '%s' is in a folder of the staged head "
                  "version %s, whose content is under %s/%s/", e ? e : "?",
                  ver->name, inv->head_dir, inv->content_dir);
    else if (why == OTHER_NAME)
        vv_report(v, "E014", file,
                  "content path '%s' does not use the version folder name %s",
                  e ? e : "?", ver->name);
    else if (why == NO_VERSION)
        vv_report(v, "E042", file,
                  "content path '%s' is not inside a version folder of this "
                  "inventory", e ? e : "?");
    else
        vv_report(v, "E042", file,
                  "content path '%s' is not inside %s/%s/", e ? e : "?",
                  ver->name, inv->content_dir);
    free(e);
    return 1;
}

static const char Q_MANIFEST_PATHS[] =
    "SELECT path FROM e WHERE inv = ?1 AND sect = 0 AND blk = 0"
    " AND path IS NOT NULL ORDER BY path";
static const char Q_UNUSED[] =
    "SELECT a.digest FROM k a WHERE a.inv = ?1 AND a.sect = 0 AND a.blk = 0"
    " AND NOT EXISTS (SELECT 1 FROM k s INDEXED BY k_h JOIN vok o ON o.inv = s.inv"
    "  AND o.blk = s.blk WHERE s.inv = a.inv AND s.sect = 1"
    "  AND s.dh = a.dh AND s.digest = a.digest)"
    " ORDER BY a.k";

static int check_manifest_usage(ictx *x)
{
    vv_inv *inv = x->inv;
    sqlite3_stmt *st;
    int rc, code;
    if (!inv->have_manifest || !inv->nversions)
        return VL_OK;
    if ((rc = vv_q(inv->db, Q_MANIFEST_PATHS, &st, x->err)))
        return rc;
    sqlite3_bind_int(st, 1, inv->id);
    while ((code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        if (p)
            vv_content_misplaced(x->v, x->file, inv, p);
    }
    sqlite3_reset(st);
    if (code != SQLITE_DONE)
        return vv_db_fail(inv->db, code, x->err);
    if ((rc = vv_q(inv->db, Q_UNUSED, &st, x->err)))
        return rc;
    sqlite3_bind_int(st, 1, inv->id);
    while ((code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 0);
        char sd[20];
        short_digest(d ? d : "", sd);
        vv_report(x->v, "E107|-", x->file,
                  "manifest digest '%s' is not used in any version state", sd);
    }
    sqlite3_reset(st);
    return code == SQLITE_DONE ? VL_OK : vv_db_fail(inv->db, code, x->err);
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

int vv_fixity_digest_ok(const char *a, int alg, const char *d)
{
    int ok = 1;
    if (alg >= 0)
        ok = vv_hex_ok(d, vl_digest_hex_len(alg));
    else if (!strcmp(a, "size"))
        for (const char *c = d; ok && (*c || c == d); c++)
            ok = isdigit((unsigned char)*c);
    return ok;
}

typedef struct fix_walk {
    const char *alg_name;
    int alg;
} fix_walk;

static int fixity_key(ictx *x, void *arg, const char *d, int bad,
                      int lower_dup)
{
    const fix_walk *f = arg;
    const char *a = f->alg_name;
    char sd[20];
    short_digest(d, sd);
    if (!vv_fixity_digest_ok(a, f->alg, d))
        vv_report(x->v, f->alg >= 0 ? hex_code(f->alg) : "E057", x->file,
                  "fixity %s digest '%s' is not a %s hex digest", a, sd, a);
    if (lower_dup)
        vv_report(x->v, "E097", x->file,
                  "fixity %s digest '%s' occurs more than once (ignoring "
                  "case)", a, sd);
    if (bad)
        vv_report(x->v, "E057", x->file,
                  "fixity %s value is not a non-empty array of content paths",
                  a);
    return VL_OK;
}

static int fixity_elem(ictx *x, void *arg, const char *d, const char *s)
{
    const fix_walk *f = arg;
    (void)d;
    if (!s) {
        vv_report(x->v, "E057", x->file,
                  "fixity %s content path is not a string", f->alg_name);
        return VL_OK;
    }
    check_content_path(x, "fixity", s);
    int has = vv_manifest_has(x->inv, s, x->err);
    if (has < 0)
        return VL_ESYS;
    if (!has) {
        char *e = vl_name_escape(s);
        vv_report(x->v, "E057", x->file,
                  "fixity %s content path '%s' is not in the manifest",
                  f->alg_name, e ? e : "?");
        free(e);
    }
    return VL_OK;
}

static const char INS_FOK[] =
    "INSERT OR IGNORE INTO fok(inv, blk, alg) VALUES (?1, ?2, ?3)";

static int check_fixity(ictx *x)
{
    json_t *f = json_object_get(x->inv->root, "fixity");
    if (!f)
        return VL_OK;
    if (!json_is_object(f)) {
        vv_report(x->v, "E111|E056", x->file, "fixity is not a JSON object");
        return VL_OK;
    }
    const char *a;
    json_t *block;
    long blk = -1;
    json_object_foreach(f, a, block) {
        int alg, rc;
        blk++;   /* the streamed block's rows are its ordinal */
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
        /* its entries are the inventory's fixity (with a well-formed
         * digest and a path of the manifest) */
        sqlite3_stmt *st;
        if ((rc = vv_q(x->inv->db, INS_FOK, &st, x->err)))
            return rc;
        sqlite3_bind_int(st, 1, x->inv->id);
        sqlite3_bind_int64(st, 2, blk);
        sqlite3_bind_text(st, 3, a, -1, SQLITE_STATIC);
        int code = sqlite3_step(st);
        sqlite3_reset(st);
        if (code != SQLITE_DONE)
            return vv_db_fail(x->inv->db, code, x->err);
        fix_walk fw = {a, alg};
        map_walk w = {fixity_key, fixity_elem, &fw};
        if ((rc = walk_map(x, VV_FIXITY, blk, &w)))
            return rc;
    }
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

int vv_inventory_check(vv_ctx *v, const char *file, int expect_spec,
                       vv_inv *inv, vl_error *err)
{
    static const char *const keys[] = {"id", "type", "digestAlgorithm",
                                       "head", "contentDirectory", "manifest",
                                       "versions", "fixity", NULL};
    ictx x = {.v = v, .file = file, .inv = inv, .err = err};
    if (!inv->root) {
        if (inv->pline)
            vv_report(v, "E033", file, "not valid JSON: %s (line %ld)",
                      inv->perr, inv->pline);
        else
            vv_report(v, "E033", file, "not valid JSON: %s", inv->perr);
        inv->fatal = 1;
        return VL_OK;
    }
    if (!json_is_object(inv->root)) {
        vv_report(v, "E033", file, "not a JSON object");
        inv->fatal = 1;
        return VL_OK;
    }
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
    return rc;
}
