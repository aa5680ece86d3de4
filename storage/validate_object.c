/* OCFL validator: one object root (specification section 3): conformance
 * declaration, root and version inventories with their sidecars, version
 * folders, content files against the manifest, and the content and fixity
 * digests (recomputed in parallel, one streamed read per file). */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mutable_head_private.h"
#include "validate_private.h"

#define ROOT_INV VL_INVENTORY_FILE

/* What grows with the file count is in the run's scratch database (v->db):
 * the files found on disk (walked), and the digests that version
 * inventories (not the root one) give for content paths where the root
 * inventory does not give the same (claims: checked against the file with
 * that inventory's own algorithm, E092 manifest, E093 fixity; cexists:
 * the paths of those not in the root manifest whose file is there, each a
 * digest job of its own). */
typedef struct octx {
    vv_ctx *v;
    vv_list root;            /* object root listing */
    vv_inv inv;              /* root inventory */
    int have_inv;
    int declared;            /* a valid 0=ocfl_object_1.x was found */
    size_t walked;           /* files found by the current content walk */
    size_t *ver_files;       /* per inventory version: manifest entries */
    char **absent;           /* versions whose content is missing: their
                                files are not reported one by one */
    size_t nabsent;
    char **files;            /* version inventory names the claims cite */
    size_t nfiles;
    const vv_inv *walk_inv;  /* a staged head's inventory while its content
                                is walked (else the root inventory's
                                manifest is the one files must be in) */
    int mhead_absent;        /* the staged head's content folder is
                                missing (E016): its files are not reported
                                one by one */
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

/* Check dir/inventory.json.ALG against the inventory bytes (bytes: the
 * inventory read whose digests are those of the file). */
static int check_sidecar(octx *o, const char *dir, const vv_list *entries,
                         const vv_inv *inv, const vv_inv *bytes)
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
    char have[VL_DIGEST_HEX_MAX];
    /* digestAlgorithm is sha512 or sha256 when alg is set */
    const char *want = alg == VL_SHA256 ? bytes->sha256 : bytes->sha512;
    if (vv_read(v, rel, 4096, &b, &err) != VL_OK)
        vv_report(v, "E061", rel, "cannot read the sidecar: %s", err.msg);
    else if (parse_sidecar(b.data, b.len, have, sizeof have))
        vv_report(v, "E061", rel, "not of the form 'DIGEST inventory.json'");
    else if (strcasecmp(want, have)) {
        vv_facts f = {VL_PROBLEM_MISMATCH, rel, alg_name, have, want};
        vv_report_facts(v, "E060", rel, &f,
                        "digest %.16s... does not match the inventory "
                        "(computed %.16s...)", have, want);
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

static const char INS_WALKED[] = "INSERT INTO walked(path) VALUES (?1)";

/* A content file found on disk: in the root manifest, else E023; and
 * remembered, since every version inventory must list the files of its own
 * and earlier versions (E023) and the root manifest's files found are
 * those digested. */
static int record_walked(octx *o, const char *path)
{
    int has = vv_manifest_has(o->walk_inv ? o->walk_inv : &o->inv, path,
                              o->err);
    if (has < 0)
        return VL_ESYS;
    if (!has) {
        vv_facts f = {.problem = VL_PROBLEM_UNEXPECTED, .content_path = path};
        vv_report_facts(o->v, "E023", path, &f, o->walk_inv
                            ? "file is not in the manifest of the staged "
                              "head's inventory"
                            : "file is not in the manifest");
    }
    /* A staged file is the head's, never a version's: the claims digest
     * it (collect_claims) */
    if (o->walk_inv)
        return VL_OK;
    sqlite3_stmt *st;
    int rc = vv_q(o->v->db, INS_WALKED, &st, o->err);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int code = sqlite3_step(st);
    sqlite3_reset(st);
    return code == SQLITE_DONE ? VL_OK : vv_db_fail(o->v->db, code, o->err);
}

/* A content folder is walked as it is listed (the listing is not held:
 * a flat folder of a million files would cost a hundred MiB). */
struct walk {
    octx *o;
    const char *rel;
    size_t seen;
    int rc;                   /* a failure of ours, not of the listing */
};

static int walk_content(octx *o, const char *rel, int top);

static int walk_entry(void *arg, const char *name, int kind, vl_error *err)
{
    struct walk *w = arg;
    octx *o = w->o;
    char *child = vv_join(w->rel, name);
    (void)err;
    w->seen++;
    if (!child)
        w->rc = vl_error_oom(o->err);
    else if (kind == VL_WALK_DIR)
        w->rc = walk_content(o, child, 0);
    else if (kind == VL_WALK_FILE) {
        o->walked++;
        w->rc = record_walked(o, child);
    } else
        vv_report(o->v, "E090", child,
                  "not a regular file (symbolic link or special file)");
    free(child);
    return w->rc;
}

static int walk_content(octx *o, const char *rel, int top)
{
    vv_ctx *v = o->v;
    struct walk w = {o, rel, 0, VL_OK};
    vl_error e = {0};
    char *p = vv_join(v->base, rel);
    if (!p)
        return vl_error_oom(o->err);
    if (vl_backend_list(v->b, p, walk_entry, &w, &e) != VL_OK && w.rc == VL_OK) {
        vv_note(&e);
        vv_report(v, "E023", rel, "cannot list the folder: %s", e.msg);
    } else if (w.rc == VL_OK && w.seen == 0 && !top)
        vv_report(v, "E024", rel, "empty folder in a content directory");
    free(p);
    return w.rc;
}

/* ---- version inventories ------------------------------------------------- */

static const char Q_MKEY[] =
    "SELECT k, bad FROM k INDEXED BY k_h WHERE inv = ?1 AND sect = 0"
    " AND dh = ?3"
    " AND blk = 0 AND digest = ?2";
static const char Q_SUBSET[] =
    "SELECT NOT EXISTS (SELECT 1 FROM e x WHERE x.inv = ?1 AND x.sect = 0"
    " AND x.blk = 0 AND x.k = ?2 AND NOT EXISTS (SELECT 1 FROM e y"
    "  WHERE y.inv = ?3 AND y.sect = 0 AND y.blk = 0 AND y.k = ?4"
    "  AND y.path IS x.path))";

/* The manifest key of digest d: its ordinal, or -1 when there is none or
 * its value is not an array; -2 on a failure (err). */
static long manifest_key(const vv_inv *inv, const char *d, vl_error *err)
{
    sqlite3_stmt *st;
    if (vv_q(inv->db, Q_MKEY, &st, err))
        return -2;
    sqlite3_bind_int(st, 1, inv->id);
    sqlite3_bind_text(st, 2, d, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, vv_hash(d, 0));
    int code = sqlite3_step(st);
    long k = code == SQLITE_ROW && sqlite3_column_int(st, 1) != 1
                 ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (code != SQLITE_ROW && code != SQLITE_DONE) {
        vv_db_fail(inv->db, code, err);
        return -2;
    }
    return k;
}

/* 1 when every content path the manifest of a gives for digest da is among
 * those the manifest of b gives for db (a later inventory may add copies).
 * An unknown digest (E050, reported already) compares equal.  -1 on a
 * failure. */
static int same_content(const vv_inv *a, const char *da, const vv_inv *b,
                        const char *db, vl_error *err)
{
    long ka = manifest_key(a, da, err), kb;
    if (ka == -2 || (ka >= 0 && (kb = manifest_key(b, db, err)) == -2))
        return -1;
    if (ka < 0 || kb < 0)
        return 1;
    sqlite3_stmt *st;
    if (vv_q(a->db, Q_SUBSET, &st, err))
        return -1;
    sqlite3_bind_int(st, 1, a->id);
    sqlite3_bind_int64(st, 2, ka);
    sqlite3_bind_int(st, 3, b->id);
    sqlite3_bind_int64(st, 4, kb);
    int code = sqlite3_step(st);
    int r = code == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    if (r < 0)
        vv_db_fail(a->db, code, err);
    return r;
}

/* The same SQL twice: two cursors at once. */
static const char Q_STATE_A[] =
    "SELECT e.path, k.digest FROM e JOIN k ON k.inv = e.inv AND k.sect = 1"
    " AND k.blk = e.blk AND k.k = e.k WHERE e.inv = ?1 AND e.sect = 1"
    " AND e.blk = ?2 AND e.path IS NOT NULL ORDER BY e.path, k.digest";
static const char Q_STATE_B[] =
    "SELECT e.path, k.digest FROM e JOIN k ON k.inv = e.inv AND k.sect = 1"
    " AND k.blk = e.blk AND k.k = e.k WHERE e.inv = ?1 AND e.sect = 1"
    " AND e.blk = ?2 AND e.path IS NOT NULL ORDER BY e.path, k.digest";

/* The same logical state: the same logical paths, each with the same
 * digest, or (the digest algorithm changed between the two inventories)
 * each naming the same content files.  -1 on a failure. */
static int same_state(const vv_inv *a, const vv_version *va,
                      const vv_inv *b, const vv_version *vb, vl_error *err)
{
    sqlite3_stmt *sa, *sb;
    if (vv_q(a->db, Q_STATE_A, &sa, err) || vv_q(a->db, Q_STATE_B, &sb, err))
        return -1;
    sqlite3_bind_int(sa, 1, a->id);
    sqlite3_bind_int64(sa, 2, va->blk);
    sqlite3_bind_int(sb, 1, b->id);
    sqlite3_bind_int64(sb, 2, vb->blk);
    int digests = a->alg == b->alg, same = 1, ca, cb;
    for (;;) {
        ca = sqlite3_step(sa);
        cb = sqlite3_step(sb);
        if (ca != SQLITE_ROW || cb != SQLITE_ROW)
            break;
        const char *pa = (const char *)sqlite3_column_text(sa, 0);
        const char *pb = (const char *)sqlite3_column_text(sb, 0);
        const char *da = (const char *)sqlite3_column_text(sa, 1);
        const char *db = (const char *)sqlite3_column_text(sb, 1);
        if (!pa || !pb || !da || !db) {
            same = -1;
            vl_error_oom(err);
            break;
        }
        if (strcmp(pa, pb) || (digests && strcasecmp(da, db))) {
            same = 0;
            break;
        }
        if (!digests && (same = same_content(a, da, b, db, err)) != 1)
            break;
    }
    if (same == 1 && ca != cb)
        same = ca == SQLITE_DONE || cb == SQLITE_DONE ? 0 : -1;
    if (same == 1 && ca != SQLITE_DONE && ca != SQLITE_ROW)
        same = -1;
    if (same == -1 && !err->status)
        vv_db_fail(a->db, ca != SQLITE_ROW ? ca : cb, err);
    sqlite3_reset(sa);
    sqlite3_reset(sb);
    return same;
}

static int compare_blocks(octx *o, const char *file, const vv_inv *vi)
{
    for (size_t i = 0; i < vi->nversions; i++) {
        const vv_version *pv = &vi->versions[i];
        const vv_version *cv = vv_inventory_version(&o->inv, pv->num);
        if (!cv)
            continue;
        int same = same_state(vi, pv, &o->inv, cv, o->err);
        if (same < 0)
            return VL_ESYS;
        if (!same)
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
    return VL_OK;
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

/* Sets *usable to 1 when the inventory's content paths can be held
 * against the folders on disk: its version names and content directory
 * agree with the root inventory's (else E013/E019/E020 said why they
 * cannot). */
static int compare_inventory(octx *o, const char *file, const vv_version *ver,
                             const vv_inv *vi, int *prev_spec, int *usable)
{
    vv_ctx *v = o->v;
    const vv_inv *ri = &o->inv;
    if (vi->head_num && vi->head_num != ver->num)
        vv_report(v, "E040", file, "head is '%s' in the inventory of %s",
                  vi->head, ver->name);
    if (vi->id_str && ri->id_str && strcmp(vi->id_str, ri->id_str))
        vv_report(v, "E110|E037", file,
                  "id '%s' differs from the root inventory id '%s'",
                  vi->id_str, ri->id_str);
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
    *usable = (vi->pad < 0 || ri->pad < 0 || vi->pad == ri->pad) &&
              !strcmp(vi->content_dir, ri->content_dir);
    return compare_blocks(o, file, vi);
}


/* Every content file of this version and the earlier ones must be in this
 * version's inventory too (E023): the files walked so far are exactly
 * those.  A file the root inventory does not list either was reported once
 * by it, not again by each version inventory. */
static const char Q_PRIOR[] =
    "SELECT w.path FROM walked w WHERE NOT EXISTS (SELECT 1 FROM e"
    " WHERE e.inv = ?1 AND e.sect = 0 AND e.blk = 0 AND e.path = w.path)"
    " AND EXISTS (SELECT 1 FROM e WHERE e.inv = ?2 AND e.sect = 0"
    " AND e.blk = 0 AND e.path = w.path) ORDER BY w.ord";

static int check_prior_files(octx *o, const char *file, const vv_inv *vi)
{
    sqlite3_stmt *st;
    int rc = vv_q(o->v->db, Q_PRIOR, &st, o->err), code;
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, vi->id);
    sqlite3_bind_int(st, 2, o->inv.id);
    while ((code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        vv_facts f = {.problem = VL_PROBLEM_UNEXPECTED, .content_path = p};
        vv_report_facts(o->v, "E023", file, &f,
                        "content file %s is not in the manifest of this "
                        "version's inventory", p ? p : "?");
    }
    sqlite3_reset(st);
    return code == SQLITE_DONE ? VL_OK : vv_db_fail(o->v->db, code, o->err);
}

/* One fixity entry of an inventory: a digest of a manifest path, well
 * formed for its algorithm. */
typedef struct vfix {
    char *alg_name;
    int alg;                 /* vl_digest_alg; -1 "size"; -2 another
                                extension algorithm */
    char *digest;
} vfix;

static void vfix_free(vfix *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].alg_name);
        free(f[i].digest);
    }
    free(f);
}

static int fix_alg(const char *name)
{
    vl_digest_alg a;
    if (vl_digest_from_name(name, &a) == 0)
        return (int)a;
    return strcmp(name, "size") ? -2 : -1;
}

/* CROSS JOIN: the blocks, then each one's index by path (the planner
 * would scan every fixity row for each path). */
static const char Q_FIX_PATH[] =
    "SELECT f.alg, k.digest FROM fok f CROSS JOIN e ON e.inv = f.inv"
    " AND e.sect = 2 AND e.blk = f.blk CROSS JOIN k ON k.inv = e.inv"
    " AND k.sect = 2 AND k.blk = e.blk AND k.k = e.k"
    " WHERE f.inv = ?1 AND e.path = ?2 ORDER BY f.alg, e.k";

/* The fixity entries of an inventory for a content path, by algorithm. */
static int fixity_of(const vv_inv *inv, const char *path, vfix **out,
                     size_t *n, vl_error *err)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc, code;
    *out = NULL;
    *n = 0;
    int has = vv_manifest_has(inv, path, err);
    if (has <= 0)
        return has < 0 ? VL_ESYS : VL_OK;
    if ((rc = vv_q(inv->db, Q_FIX_PATH, &st, err)))
        return rc;
    sqlite3_bind_int(st, 1, inv->id);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    while (rc == VL_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *d = (const char *)sqlite3_column_text(st, 1);
        if (!a || !d) {
            rc = vl_error_oom(err);
            break;
        }
        int alg = fix_alg(a);
        if (!vv_fixity_digest_ok(a, alg < 0 ? -1 : alg, d))
            continue;   /* E029-E032/E057 said so: not compared */
        if ((rc = VL_GROW(*out, cap, *n + 1, err)))
            break;
        vfix *f = &(*out)[*n];
        *f = (vfix){vl_strdup(a), alg, vl_strdup(d)};
        (*n)++;
        if (!f->alg_name || !f->digest)
            rc = vl_error_oom(err);
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = vv_db_fail(inv->db, code, err);
    sqlite3_reset(st);
    if (rc) {
        vfix_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static const char Q_MANIFEST_SAME[] =
    "SELECT 1 FROM e CROSS JOIN k ON k.inv = e.inv AND k.sect = 0 AND k.blk = 0"
    " AND k.k = e.k WHERE e.inv = ?1 AND e.sect = 0 AND e.blk = 0"
    " AND e.path = ?2 AND k.lh = ?4 AND coalesce(k.ld, k.digest) = ?3"
    " LIMIT 1";

static void lower_copy(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i < cap - 1; i++)
        dst[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    dst[i] = '\0';
}

/* 1 when the root manifest (code E092) or root fixity (E093) gives the
 * same digest for the path with the same algorithm; -1 on a failure. */
static int root_says_same(const octx *o, const char *code, int alg,
                          const char *path, const char *digest)
{
    const vv_inv *ri = &o->inv;
    if (!strcmp(code, "E092")) {
        char *ld = vl_strdup(digest);
        sqlite3_stmt *st;
        if (!ld) {
            vl_error_oom(o->err);
            return -1;
        }
        lower_copy(ld, strlen(ld) + 1, digest);
        if (ri->alg != alg || vv_q(ri->db, Q_MANIFEST_SAME, &st, o->err)) {
            free(ld);
            return ri->alg != alg ? 0 : -1;
        }
        sqlite3_bind_int(st, 1, ri->id);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ld, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, vv_hash(ld, 0));
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        free(ld);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            vv_db_fail(ri->db, step, o->err);
            return -1;
        }
        return step == SQLITE_ROW;
    }
    vfix *f;
    size_t n;
    if (fixity_of(ri, path, &f, &n, o->err))
        return -1;
    int same = 0;
    for (size_t i = 0; i < n && !same; i++)
        same = f[i].alg == alg && !strcasecmp(f[i].digest, digest);
    vfix_free(f, n);
    return same;
}

static const char INS_CLAIM[] =
    "INSERT OR IGNORE INTO claims(code, alg, ld, digest, path, file)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static int add_claim(octx *o, const char *code, int alg, const char *path,
                     const char *digest, size_t file)
{
    int same = root_says_same(o, code, alg, path, digest);
    if (same)
        return same < 0 ? VL_ESYS : VL_OK;
    /* One claim per code, algorithm, digest and path (inventories of
     * successive versions repeat each other). */
    char *ld = vl_strdup(digest);
    sqlite3_stmt *st;
    int rc;
    if (!ld)
        return vl_error_oom(o->err);
    lower_copy(ld, strlen(ld) + 1, digest);
    if ((rc = vv_q(o->v->db, INS_CLAIM, &st, o->err))) {
        free(ld);
        return rc;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, alg);
    sqlite3_bind_text(st, 3, ld, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, digest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)file);
    int step = sqlite3_step(st);
    sqlite3_reset(st);
    free(ld);
    return step == SQLITE_DONE ? VL_OK : vv_db_fail(o->v->db, step, o->err);
}

static const char Q_PAIRS[] =
    "SELECT e.path, k.digest FROM e JOIN k ON k.inv = e.inv AND k.sect = 0"
    " AND k.blk = 0 AND k.k = e.k WHERE e.inv = ?1 AND e.sect = 0"
    " AND e.blk = 0 AND e.path IS NOT NULL ORDER BY e.path, k.digest";
static const char Q_FIX_ALL[] =
    "SELECT e.path, f.alg, k.digest FROM fok f JOIN e ON e.inv = f.inv"
    " AND e.sect = 2 AND e.blk = f.blk JOIN k ON k.inv = e.inv"
    " AND k.sect = 2 AND k.blk = e.blk AND k.k = e.k"
    " WHERE f.inv = ?1 AND e.path IS NOT NULL ORDER BY e.path, f.alg, e.k";

/* Keep the digests of a version inventory that the root one does not
 * give, to check them against the files with their own algorithm. */
static int collect_claims(octx *o, const char *file, const vv_inv *vi)
{
    sqlite3_stmt *st;
    int rc = VL_OK, code = SQLITE_DONE;
    char **nf = realloc(o->files, (o->nfiles + 1) * sizeof *nf);
    if (!nf)
        return vl_error_oom(o->err);
    o->files = nf;
    char *owned = vl_strdup(file);
    if (!owned)
        return vl_error_oom(o->err);
    size_t fi = o->nfiles;
    o->files[o->nfiles++] = owned;
    if (vi->alg >= 0) {
        if ((rc = vv_q(o->v->db, Q_PAIRS, &st, o->err)))
            return rc;
        sqlite3_bind_int(st, 1, vi->id);
        while (rc == VL_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
            const char *p = (const char *)sqlite3_column_text(st, 0);
            const char *d = (const char *)sqlite3_column_text(st, 1);
            if (!p || !d) {
                rc = vl_error_oom(o->err);
                break;
            }
            if (vv_content_misplaced(NULL, NULL, vi, p) || vv_path_shape(p) ||
                !vv_hex_ok(d, vl_digest_hex_len((vl_digest_alg)vi->alg)))
                continue;
            rc = add_claim(o, "E092", vi->alg, p, d, fi);
        }
        if (rc == VL_OK && code != SQLITE_DONE)
            rc = vv_db_fail(o->v->db, code, o->err);
        sqlite3_reset(st);
    }
    if (rc || (rc = vv_q(o->v->db, Q_FIX_ALL, &st, o->err)))
        return rc;
    sqlite3_bind_int(st, 1, vi->id);
    while (rc == VL_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        const char *a = (const char *)sqlite3_column_text(st, 1);
        const char *d = (const char *)sqlite3_column_text(st, 2);
        if (!p || !a || !d) {
            rc = vl_error_oom(o->err);
            break;
        }
        int alg = fix_alg(a);
        if (alg == -2 || !vv_fixity_digest_ok(a, alg, d) ||
            vv_path_shape(p) || vv_content_misplaced(NULL, NULL, vi, p))
            continue;   /* an algorithm we cannot compute is ignored */
        int has = vv_manifest_has(vi, p, o->err);
        if (has < 0)
            rc = VL_ESYS;
        else if (has)
            rc = add_claim(o, "E093", alg, p, d, fi);
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = vv_db_fail(o->v->db, code, o->err);
    sqlite3_reset(st);
    return rc;
}

/* The size and digests of a file, read once (the head version's
 * inventory, compared with the root one before it is parsed). */
static int digest_file(vv_ctx *v, const char *rel, vv_inv *out, vl_error *err)
{
    char *p = vv_join(v->base, rel);
    vl_reader *r = NULL;
    vl_digest_result res;
    int rc;
    if (!p)
        return vl_error_oom(err);
    if ((rc = vl_backend_open(v->b, p, &r, err)) == VL_OK &&
        (rc = vl_digest_pump(vl_reader_read, r, -1,
                             VL_DIGEST_BIT(VL_SHA512) |
                                 VL_DIGEST_BIT(VL_SHA256),
                             NULL, NULL, &res, &out->size, err)) == VL_OK) {
        memcpy(out->sha512, res.hex[VL_SHA512], VL_DIGEST_HEX_MAX);
        memcpy(out->sha256, res.hex[VL_SHA256], VL_DIGEST_HEX_MAX);
    }
    if (rc != VL_OK)
        vv_note(err);
    vl_reader_close(r);
    free(p);
    return rc;
}

static int check_version_inventory(octx *o, const vv_version *ver,
                                   const vv_list *entries, int *prev_spec)
{
    vv_ctx *v = o->v;
    int rc = VL_OK, usable = 0;
    char *file = vv_join(ver->name, ROOT_INV);
    vv_inv vi;
    vv_inventory_init(&vi);
    vl_error e = {0};
    if (!file)
        return vl_error_oom(o->err);
    if (!find_entry(entries, ROOT_INV)) {
        vv_report(v, "W010", ver->name, "version has no inventory.json");
        goto done;
    }
    int is_head = ver->num == o->inv.head_num;
    if (is_head) {
        /* most often the root inventory's very bytes: checked already */
        if (digest_file(v, file, &vi, &e) != VL_OK) {
            vv_report(v, "E033", file, "cannot read: %s", e.msg);
            goto done;
        }
        int same = vi.size == o->inv.size && !strcmp(vi.sha512, o->inv.sha512);
        if (!same)
            vv_report(v, "E064", file,
                      "differs from the root inventory.json of the head version");
        if (same) {
            /* The root inventory, checked already; only its place in the
             * sequence of specification versions is new. */
            if (o->inv.spec != VV_SPEC_UNKNOWN && o->inv.spec < *prev_spec)
                vv_report(v, "E103|-", file,
                          "declares OCFL %s after an earlier version declared %s",
                          vv_spec_name(o->inv.spec), vv_spec_name(*prev_spec));
            rc = check_sidecar(o, ver->name, entries, &o->inv, &vi);
            goto done;
        }
    }
    if (vv_inventory_read(v, file, &vi, &e) != VL_OK) {
        vv_report(v, "E033", file, "cannot read: %s", e.msg);
        goto done;
    }
    v->quiet_warnings = 1;
    rc = vv_inventory_check(v, file, VV_SPEC_UNKNOWN, &vi, o->err);
    v->quiet_warnings = 0;
    if (rc || vi.fatal)
        goto done;
    if ((rc = check_sidecar(o, ver->name, entries, &vi, &vi)))
        goto done;
    if ((rc = compare_inventory(o, file, ver, &vi, prev_spec, &usable)))
        goto done;
    if (usable && !(rc = check_prior_files(o, file, &vi)))
        rc = collect_claims(o, file, &vi);
done:
    vv_inventory_free(&vi);
    free(file);
    return rc;
}

/* ---- version folders ----------------------------------------------------- */

static const char Q_VER_FILES[] =
    "SELECT COUNT(*) FROM e WHERE inv = ?1 AND sect = 0 AND blk = 0"
    " AND path >= ?2 AND path < ?3";

/* Manifest entries under each version's folder. */
static int count_version_files(octx *o)
{
    for (size_t i = 0; i < o->inv.nversions; i++) {
        const vv_version *ver = &o->inv.versions[i];
        char lo[40], hi[40];
        sqlite3_stmt *st;
        int rc;
        /* a name of 32 characters or more is no version folder here; of
         * two names with one number, the one found by number counts */
        if (strlen(ver->name) >= 32 ||
            vv_inventory_version(&o->inv, ver->num) != ver)
            continue;
        snprintf(lo, sizeof lo, "%s/", ver->name);
        snprintf(hi, sizeof hi, "%s0", ver->name);   /* '0' follows '/' */
        if ((rc = vv_q(o->v->db, Q_VER_FILES, &st, o->err)))
            return rc;
        sqlite3_bind_int(st, 1, o->inv.id);
        sqlite3_bind_text(st, 2, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, hi, -1, SQLITE_STATIC);
        int code = sqlite3_step(st);
        if (code == SQLITE_ROW)
            o->ver_files[i] = (size_t)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (code != SQLITE_ROW)
            return vv_db_fail(o->v->db, code, o->err);
    }
    return VL_OK;
}

/* The content folder of a version is missing (E016): its files are not
 * reported one by one. */
static int mark_version_absent(octx *o, const char *vname)
{
    char **n = realloc(o->absent, (o->nabsent + 1) * sizeof *n);
    if (!n)
        return vl_error_oom(o->err);
    o->absent = n;
    if (!(o->absent[o->nabsent] = vl_strdup(vname)))
        return vl_error_oom(o->err);
    o->nabsent++;
    return VL_OK;
}

static int in_absent_version(const octx *o, const char *p)
{
    for (size_t i = 0; i < o->nabsent; i++) {
        size_t n = strlen(o->absent[i]);
        if (!strncmp(p, o->absent[i], n) && p[n] == '/')
            return 1;
    }
    return 0;
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
        if ((rc = mark_version_absent(o, ver->name))) {
            free(crel);
            goto done;
        }
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
    if ((rc = count_version_files(o)))
        return rc;
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
        rc = mark_version_absent(o, ver->name);
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


/* ---- staged head (OCFL Community Extension 0005) ------------------------- */

/* extensions/0005-mutable-head holds a mutable head: a version N+1 that
 * "MUST be a valid OCFL version" at VL_MHEAD_HEAD.  Its inventory is
 * checked as a version inventory is (same codes), held against the root
 * inventory, its content walked against its own manifest, and its manifest
 * and fixity digests become claims (collect_claims), so check_missing and
 * check_digests find a missing or corrupt staged file with the machinery
 * and the bounded memory of the versions'.  What only the extension asks
 * (its folder's children, revision markers, N+1, the root sidecar's copy)
 * E0005 (VV_MHEAD_CODE). */

#define MH_INV VL_MHEAD_HEAD "/" VL_INVENTORY_FILE

static int mh_unexpected(octx *o, const char *rel, int kind, const char *why)
{
    if (kind == VL_WALK_SYMLINK) {
        vv_report(o->v, "E090", rel, "symbolic link in an object");
        return VL_OK;
    }
    vv_report_facts(o->v, VV_MHEAD_CODE, rel,
                    &(vv_facts){.problem = VL_PROBLEM_UNEXPECTED,
                                .content_path = rel},
                    "unexpected %s %s", kind == VL_WALK_DIR ? "folder" : "file",
                    why);
    return VL_OK;
}

/* revisions/: only marker files rN whose content is exactly "rN". */
static int mh_check_markers(octx *o)
{
    vv_ctx *v = o->v;
    static const char dir[] = VL_MHEAD_DIR "/" VL_MHEAD_REVISIONS;
    vv_list l = {0};
    vl_error e = {0};
    vl_buf b;
    int rc = VL_OK;
    char *p = vv_join(v->base, dir), *rel = NULL;
    vl_buf_init(&b, 0);
    if (!p)
        return vl_error_oom(o->err);
    if (vv_list_dir(v->b, p, &l, &e) != VL_OK) {
        if (vv_note(&e))
            rc = vl_error_oom(o->err);
        else
            vv_report(v, VV_MHEAD_CODE, dir, "cannot list the revision "
                      "markers: %s", e.msg);
        goto done;
    }
    for (size_t i = 0; i < l.n && rc == VL_OK; i++) {
        const char *n = l.e[i].name;
        free(rel);
        if (!(rel = vv_join(dir, n))) {
            rc = vl_error_oom(o->err);
            break;
        }
        if (l.e[i].kind != VL_WALK_FILE || !vv_revision_parse(n, strlen(n))) {
            rc = mh_unexpected(o, rel, l.e[i].kind, "among the revision "
                               "markers (files named rN)");
            continue;
        }
        vl_buf_release(&b);   /* a read starts its buffer afresh */
        vl_buf_init(&b, 0);
        vl_error_clear(&e);
        if (vv_read(v, rel, 64, &b, &e) != VL_OK) {
            if (vv_note(&e))
                rc = vl_error_oom(o->err);
            else
                vv_report(v, VV_MHEAD_CODE, rel, "cannot read the revision "
                          "marker: %s", e.msg);
        } else if (b.len != strlen(n) || memcmp(b.data, n, b.len)) {
            vv_report(v, VV_MHEAD_CODE, rel, "revision marker does not hold "
                      "exactly '%s' (no whitespace)", n);
        }
    }
done:
    vl_buf_release(&b);
    vv_list_free(&l);
    free(rel);
    free(p);
    return rc;
}

/* The children of head/CONTENTDIR are revision folders rN, each with its
 * marker (a revision's marker is written before its content arrives). */
static int mh_check_revision_dirs(octx *o, const char *crel)
{
    vv_ctx *v = o->v;
    vv_list l = {0};
    vl_error e = {0};
    int rc = VL_OK;
    char *p = vv_join(v->base, crel), *rel = NULL, *marker = NULL;
    if (!p)
        return vl_error_oom(o->err);
    if (vv_list_dir(v->b, p, &l, &e) != VL_OK)
        goto done;   /* walk_content says so */
    for (size_t i = 0; i < l.n && rc == VL_OK; i++) {
        const char *n = l.e[i].name;
        int kind = 0;
        if (l.e[i].kind != VL_WALK_DIR)
            continue;   /* a file: walk_content holds it to the manifest */
        free(rel);
        free(marker);
        marker = NULL;
        if (!(rel = vv_join(crel, n))) {
            rc = vl_error_oom(o->err);
            break;
        }
        if (!vv_revision_parse(n, strlen(n))) {
            vv_report(v, VV_MHEAD_CODE, rel, "not a revision folder (rN) of "
                      "the staged head");
            continue;
        }
        if (!(marker = vl_asprintf(VL_MHEAD_DIR "/" VL_MHEAD_REVISIONS "/%s",
                                   n))) {
            rc = vl_error_oom(o->err);
            break;
        }
        vl_error_clear(&e);
        if (vv_stat(v, marker, &kind, &e) != VL_OK && vv_note(&e))
            rc = vl_error_oom(o->err);
        else if (kind != VL_WALK_FILE)
            vv_report(v, VV_MHEAD_CODE, rel, "revision folder has no revision "
                      "marker %s", marker);
    }
done:
    vv_list_free(&l);
    free(rel);
    free(marker);
    free(p);
    return rc;
}

/* root-inventory.json.ALG: there, and the root sidecar it copied.  A copy
 * that differs is a version conflict (the root changed after staging):
 * a warning, since the object root is valid; vellum then refuses to commit
 * the head.  *conflict = 1 then. */
static int mh_check_root_copy(octx *o, const vv_list *ext, int *conflict)
{
    vv_ctx *v = o->v;
    char name[64], *rel = NULL, *root = NULL;
    vl_buf a, c;
    vl_error e = {0};
    int rc = VL_OK;
    vl_buf_init(&a, 0);
    vl_buf_init(&c, 0);
    *conflict = 0;
    if (!o->inv.alg_name || o->inv.alg < 0)
        return VL_OK;   /* E025: no sidecar name to expect */
    snprintf(name, sizeof name, VL_MHEAD_ROOT_SIDECAR ".%s", o->inv.alg_name);
    if (!(rel = vv_join(VL_MHEAD_DIR, name)) ||
        !(root = vl_asprintf(VL_INVENTORY_FILE ".%s", o->inv.alg_name))) {
        rc = vl_error_oom(o->err);
        goto done;
    }
    const vv_entry *en = find_entry(ext, name);
    if (!en) {
        vv_report_facts(v, VV_MHEAD_CODE, rel,
                        &(vv_facts){.problem = VL_PROBLEM_MISSING,
                                    .content_path = rel},
                        "missing: the copy of the root sidecar made when the "
                        "head was staged");
        goto done;
    }
    if (en->kind != VL_WALK_FILE) {
        rc = mh_unexpected(o, rel, en->kind, "where the copy of the root "
                           "sidecar belongs");
        goto done;
    }
    if (vv_read(v, rel, 4096, &c, &e) != VL_OK) {
        if (vv_note(&e))
            rc = vl_error_oom(o->err);
        else
            vv_report(v, VV_MHEAD_CODE, rel, "cannot read: %s", e.msg);
        goto done;
    }
    vl_error_clear(&e);
    if (vv_read(v, root, 4096, &a, &e) != VL_OK) {
        if (vv_note(&e))
            rc = vl_error_oom(o->err);
        goto done;   /* else E058/E061 said so */
    }
    /* byte for byte, as commit compares them */
    if (a.len != c.len || memcmp(a.data, c.data, a.len)) {
        *conflict = 1;
        vv_report(v, VV_MHEAD_CONFLICT, rel,
                  "differs from %s: version conflict, the root "
                  "inventory changed after the head was staged; vellum "
                  "will not commit the head ('vellum discard' drops it; "
                  "the staged head is not compared with the root's "
                  "versions)",
                  root);
    }
done:
    vl_buf_release(&a);
    vl_buf_release(&c);
    free(rel);
    free(root);
    return rc;
}

/* The staged head against the root inventory: as a version inventory is
 * (compare_inventory), but its head is the root's + 1 and it keeps the
 * root's digest algorithm.  With a version conflict the root's versions
 * are another history: the warning said so, nothing is compared. */
static int mh_compare(octx *o, const vv_inv *hi, int conflict, int *usable)
{
    vv_ctx *v = o->v;
    const vv_inv *ri = &o->inv;
    *usable = (hi->pad < 0 || ri->pad < 0 || hi->pad == ri->pad) &&
              !strcmp(hi->content_dir, ri->content_dir);
    if (hi->id_str && ri->id_str && strcmp(hi->id_str, ri->id_str))
        vv_report(v, "E110|E037", MH_INV,
                  "id '%s' differs from the root inventory id '%s'",
                  hi->id_str, ri->id_str);
    if (hi->alg >= 0 && ri->alg >= 0 && hi->alg != ri->alg)
        vv_report(v, VV_MHEAD_CODE, MH_INV,
                  "digestAlgorithm %s differs from the root inventory's %s: "
                  "a staged head keeps the object's", hi->alg_name,
                  ri->alg_name);
    if (hi->nversions)
        compare_content_dir(o, MH_INV, &hi->versions[hi->nversions - 1], hi);
    if (hi->pad >= 0 && ri->pad >= 0 && hi->pad != ri->pad)
        vv_report(v, "E013", MH_INV,
                  "version naming (%s) differs from the root inventory (%s)",
                  hi->nversions ? hi->versions[0].name : "?",
                  ri->nversions ? ri->versions[0].name : "?");
    if (hi->spec != VV_SPEC_UNKNOWN && ri->spec != VV_SPEC_UNKNOWN &&
        hi->spec < ri->spec)
        vv_report(v, "E103|-", MH_INV,
                  "declares OCFL %s after the root inventory declared %s",
                  vv_spec_name(hi->spec), vv_spec_name(ri->spec));
    if (conflict)
        return VL_OK;
    if (hi->head_num && ri->head_num && hi->head_num != ri->head_num + 1)
        vv_report(v, "E040", MH_INV,
                  "head is '%s' in the staged head's inventory, but the root "
                  "inventory's head is %s: a staged head is the next version",
                  hi->head, ri->head);
    return compare_blocks(o, MH_INV, hi);
}

/* The head folder's children, as a version folder's (check_version_dir):
 * *has_content when its content directory is there. */
static int mh_head_entries(octx *o, const vv_list *l, const char *cd,
                           int *has_content)
{
    vv_ctx *v = o->v;
    *has_content = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *n = l->e[i].name;
        char *rel = vv_join(VL_MHEAD_HEAD, n);
        if (!rel)
            return vl_error_oom(o->err);
        if (l->e[i].kind == VL_WALK_DIR && !strcmp(n, cd))
            *has_content = 1;
        else if (l->e[i].kind == VL_WALK_DIR)
            vv_report(v, "W002", rel, "folder other than the content "
                      "directory '%s' in the staged head version", cd);
        else if (l->e[i].kind != VL_WALK_FILE)
            vv_report(v, "E090", rel, "not a regular file");
        else if (strcmp(n, ROOT_INV) && strncmp(n, "inventory.json.", 15))
            vv_report_facts(v, "E015", rel,
                            &(vv_facts){.problem = VL_PROBLEM_UNEXPECTED,
                                        .content_path = rel},
                            "unexpected file in the staged head version "
                            "folder");
        free(rel);
    }
    return VL_OK;
}

/* Manifest entries of an inventory under prefix/ (Q_VER_FILES). */
static int count_under(octx *o, const vv_inv *inv, const char *prefix,
                       size_t *n)
{
    sqlite3_stmt *st;
    char *lo = vl_asprintf("%s/", prefix), *hi = vl_asprintf("%s0", prefix);
    int rc = VL_OK;
    *n = 0;
    if (!lo || !hi)
        rc = vl_error_oom(o->err);
    else if ((rc = vv_q(o->v->db, Q_VER_FILES, &st, o->err)) == VL_OK) {
        sqlite3_bind_int(st, 1, inv->id);
        sqlite3_bind_text(st, 2, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, hi, -1, SQLITE_STATIC);   /* '0' follows '/' */
        int code = sqlite3_step(st);
        if (code == SQLITE_ROW)
            *n = (size_t)sqlite3_column_int64(st, 0);
        else
            rc = vv_db_fail(o->v->db, code, o->err);
        sqlite3_reset(st);
    }
    free(lo);
    free(hi);
    return rc;
}

static int check_mhead(octx *o)
{
    vv_ctx *v = o->v;
    vv_list ext = {0}, head = {0};
    vv_inv hi;
    vl_error e = {0};
    int rc = VL_OK, kind = 0, conflict = 0, usable = 0, has_content = 0;
    size_t nfiles = 0;
    char *p = NULL, *crel = NULL;
    vv_inventory_init(&hi);
    if (vv_stat(v, VL_MHEAD_DIR, &kind, &e) != VL_OK || kind != VL_WALK_DIR)
        goto done;   /* none; or check_extensions said what it is */
    if (!(p = vv_join(v->base, VL_MHEAD_DIR))) {
        rc = vl_error_oom(o->err);
        goto done;
    }
    if (vv_list_dir(v->b, p, &ext, &e) != VL_OK)
        goto done;   /* E067 from check_extensions would be the same */
    const vv_entry *he = find_entry(&ext, "head");
    const vv_entry *re = find_entry(&ext, VL_MHEAD_REVISIONS);
    kind = 0;
    if (he && he->kind == VL_WALK_DIR &&
        vv_stat(v, MH_INV, &kind, &e) != VL_OK && vv_note(&e)) {
        rc = vl_error_oom(o->err);
        goto done;
    }
    if (kind != VL_WALK_FILE) {
        vv_report(v, VV_MHEAD_CODE, VL_MHEAD_DIR,
                  "extension folder without an active staged head (no "
                  "head/inventory.json): it must not exist then; an "
                  "interrupted staged revision leaves this, and 'vellum "
                  "recover' settles it");
        goto done;
    }
    /* Its children: head, revisions, root-inventory.json.ALG. */
    for (size_t i = 0; i < ext.n && rc == VL_OK; i++) {
        const char *n = ext.e[i].name;
        if ((!strcmp(n, "head") || !strcmp(n, VL_MHEAD_REVISIONS)) &&
            ext.e[i].kind == VL_WALK_DIR)
            continue;
        if (!strncmp(n, VL_MHEAD_ROOT_SIDECAR ".",
                     sizeof VL_MHEAD_ROOT_SIDECAR) && o->inv.alg_name &&
            !strcmp(n + sizeof VL_MHEAD_ROOT_SIDECAR, o->inv.alg_name))
            continue;   /* mh_check_root_copy */
        char *rel = vv_join(VL_MHEAD_DIR, n);
        if (!rel) {
            rc = vl_error_oom(o->err);
            break;
        }
        rc = mh_unexpected(o, rel, ext.e[i].kind, "in the extension folder "
                           "(it holds head, revisions and "
                           VL_MHEAD_ROOT_SIDECAR ".ALG)");
        free(rel);
    }
    if (rc || (rc = mh_check_root_copy(o, &ext, &conflict)))
        goto done;
    if (!re)
        vv_report(v, VV_MHEAD_CODE, VL_MHEAD_DIR "/" VL_MHEAD_REVISIONS,
                  "missing: the revision markers of the staged head");
    else if (re->kind == VL_WALK_DIR && (rc = mh_check_markers(o)))
        goto done;
    /* The head version: its inventory and sidecar, as a version's. */
    free(p);
    if (!(p = vv_join(v->base, VL_MHEAD_HEAD))) {
        rc = vl_error_oom(o->err);
        goto done;
    }
    vl_error_clear(&e);
    if (vv_list_dir(v->b, p, &head, &e) != VL_OK) {
        vv_report(v, "E010", VL_MHEAD_HEAD, "cannot list the staged head "
                  "version: %s", e.msg);
        goto done;
    }
    vl_error_clear(&e);
    if (vv_inventory_read(v, MH_INV, &hi, &e) != VL_OK) {
        if (e.status == VL_ESYS && e.sys_errno == ENOMEM)
            rc = vl_error_oom(o->err);
        else
            vv_report(v, "E033", MH_INV, "cannot read: %s", e.msg);
        goto done;
    }
    hi.head_dir = VL_MHEAD_HEAD;
    if ((rc = vv_inventory_check(v, MH_INV, VV_SPEC_UNKNOWN, &hi, o->err)) ||
        hi.fatal)
        goto done;
    if ((rc = mh_head_entries(o, &head, hi.content_dir, &has_content)) ||
        (rc = check_sidecar(o, VL_MHEAD_HEAD, &head, &hi, &hi)) ||
        (rc = mh_compare(o, &hi, conflict, &usable)))
        goto done;
    /* Its content: files against its manifest, folders against markers. */
    if (!(crel = vv_join(VL_MHEAD_HEAD, hi.content_dir))) {
        rc = vl_error_oom(o->err);
        goto done;
    }
    if ((rc = count_under(o, &hi, VL_MHEAD_HEAD, &nfiles)))
        goto done;
    if (!has_content && nfiles) {
        vv_report_facts(v, "E016", crel,
                        &(vv_facts){.problem = VL_PROBLEM_MISSING,
                                    .content_path = crel},
                        "missing, but the staged head's manifest lists %zu "
                        "file%s in it", nfiles, nfiles == 1 ? "" : "s");
        o->mhead_absent = 1;
    }
    if (has_content) {
        if ((rc = mh_check_revision_dirs(o, crel)))
            goto done;
        o->walk_inv = &hi;
        o->walked = 0;
        rc = walk_content(o, crel, 1);
        o->walk_inv = NULL;
        if (rc)
            goto done;
        if (!nfiles && !o->walked)
            vv_report(v, "W003", crel, "content directory of a staged head "
                      "that adds no files");
    }
    /* Every version's content file is in its manifest too (E023); its
     * digests are claims, checked with the versions' (E092, E093). */
    if (usable && !conflict && (rc = check_prior_files(o, MH_INV, &hi)))
        goto done;
    if (usable)
        rc = collect_claims(o, MH_INV, &hi);
done:
    vv_inventory_free(&hi);
    vv_list_free(&ext);
    vv_list_free(&head);
    free(crel);
    free(p);
    return rc;
}

/* ---- manifest files on disk ---------------------------------------------- */

/* One digest a version inventory gives for a path (a row of claims). */
typedef struct vclaim {
    const char *code;        /* "E092" or "E093" (static) */
    int alg;                 /* vl_digest_alg, or -1 for fixity "size" */
    char *digest;
    const char *file;        /* the inventory (owned by octx.files) */
} vclaim;

static void vclaim_free(vclaim *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].digest);
    free(c);
}

static const char Q_CLAIMS_PATH[] =
    "SELECT code, alg, digest, file FROM claims WHERE path = ?1 ORDER BY ord";

/* The claims for a path, in the order they were found (inventories oldest
 * first). */
static int claims_of(octx *o, const char *path, vclaim **out, size_t *n)
{
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc = vv_q(o->v->db, Q_CLAIMS_PATH, &st, o->err), code;
    *out = NULL;
    *n = 0;
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    while (rc == VL_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        const char *d = (const char *)sqlite3_column_text(st, 2);
        sqlite3_int64 fi = sqlite3_column_int64(st, 3);
        if (!c || !d || fi < 0 || (size_t)fi >= o->nfiles) {
            rc = vl_error_oom(o->err);
            break;
        }
        if ((rc = VL_GROW(*out, cap, *n + 1, o->err)))
            break;
        vclaim *k = &(*out)[(*n)++];
        *k = (vclaim){strcmp(c, "E092") ? "E093" : "E092",
                      sqlite3_column_int(st, 1), vl_strdup(d),
                      o->files[fi]};
        if (!k->digest)
            rc = vl_error_oom(o->err);
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = vv_db_fail(o->v->db, code, o->err);
    sqlite3_reset(st);
    if (rc) {
        vclaim_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

static const char INS_CEXISTS[] =
    "INSERT OR IGNORE INTO cexists(path) VALUES (?1)";

/* A content path that a version inventory lists but the root one does
 * not: a file to digest, or missing (E092 for its manifest, E093 for its
 * fixity block, once per inventory). */
static int check_claim_path(octx *o, const char *path)
{
    vv_ctx *v = o->v;
    int kind = 0, rc;
    vl_error e = {0};
    vclaim *c;
    size_t n;
    if ((rc = claims_of(o, path, &c, &n)))
        return rc;
    if (vv_stat(v, path, &kind, &e) != VL_OK)
        kind = -1;
    if (kind == VL_WALK_FILE) {
        sqlite3_stmt *st;
        if ((rc = vv_q(v->db, INS_CEXISTS, &st, o->err)) == VL_OK) {
            sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
            int code = sqlite3_step(st);
            sqlite3_reset(st);
            if (code != SQLITE_DONE)
                rc = vv_db_fail(v->db, code, o->err);
        }
    }
    int staged_absent = o->mhead_absent &&
        !strncmp(path, VL_MHEAD_HEAD "/", sizeof VL_MHEAD_HEAD);
    for (size_t k = 0; k < n && rc == VL_OK && !staged_absent; k++) {
        if (kind != 0 && kind != VL_WALK_DIR && kind != -1)
            continue;   /* a file, or a link the walk reported */
        size_t prev = 0;
        while (prev < k && (strcmp(c[prev].code, c[k].code) ||
                            c[prev].file != c[k].file))
            prev++;
        if (prev < k)
            continue;   /* said once for this inventory */
        vv_facts f = {.problem = kind == -1 ? VL_PROBLEM_UNREADABLE
                                            : VL_PROBLEM_MISSING,
                      .content_path = path};
        if (kind == -1)
            vv_report_facts(v, c[k].code, c[k].file, &f,
                            "cannot stat %s: %s", path, e.msg);
        else
            vv_report_facts(v, c[k].code, c[k].file, &f,
                            "%s content path %s does not exist",
                            strcmp(c[k].code, "E092") ? "fixity" : "manifest",
                            path);
    }
    vclaim_free(c, n);
    return rc;
}

static const char Q_NOT_WALKED[] =
    "SELECT DISTINCT path FROM e WHERE inv = ?1 AND sect = 0 AND blk = 0"
    " AND path IS NOT NULL AND NOT EXISTS (SELECT 1 FROM walked w"
    " WHERE w.path = e.path) ORDER BY path";
static const char Q_CLAIM_ONLY[] =
    "SELECT DISTINCT path FROM claims c WHERE NOT EXISTS (SELECT 1 FROM e"
    " WHERE e.inv = ?1 AND e.sect = 0 AND e.blk = 0 AND e.path = c.path)"
    " ORDER BY path";

static int check_missing(octx *o)
{
    vv_ctx *v = o->v;
    sqlite3_stmt *st;
    int rc = vv_q(v->db, Q_NOT_WALKED, &st, o->err), code = SQLITE_DONE;
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, o->inv.id);
    while (rc == VL_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        if (!path) {
            rc = vl_error_oom(o->err);
            break;
        }
        if (in_absent_version(o, path) || vv_path_shape(path) ||
            vv_content_misplaced(NULL, NULL, &o->inv, path))
            continue;
        int kind = 0;
        vl_error e = {0};
        if (vv_stat(v, path, &kind, &e) != VL_OK) {
            vv_report_facts(v, "E092", path,
                            &(vv_facts){.problem = VL_PROBLEM_UNREADABLE,
                                        .content_path = path},
                            "cannot stat: %s", e.msg);
        } else if (kind == 0 || kind == VL_WALK_DIR) {
            vv_report_facts(v, "E092", ROOT_INV,
                            &(vv_facts){.problem = VL_PROBLEM_MISSING,
                                        .content_path = path},
                            "manifest content path %s does not exist", path);
            /* Its fixity digests cannot match a file that is not there. */
            vfix *f;
            size_t n;
            if ((rc = fixity_of(&o->inv, path, &f, &n, o->err)))
                break;
            vfix_free(f, n);
            if (n)
                vv_report_facts(v, "E093", ROOT_INV,
                                &(vv_facts){.problem = VL_PROBLEM_MISSING,
                                            .content_path = path},
                                "fixity content path %s does not exist",
                                path);
        }
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = vv_db_fail(v->db, code, o->err);
    sqlite3_reset(st);
    if (rc || (rc = vv_q(v->db, Q_CLAIM_ONLY, &st, o->err)))
        return rc;
    /* A path of the root manifest: present, digested with the root's
     * digests; or missing, said once by the root inventory. */
    sqlite3_bind_int(st, 1, o->inv.id);
    while (rc == VL_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        char *p = path ? vl_strdup(path) : NULL;
        if (!p) {
            rc = vl_error_oom(o->err);
            break;
        }
        rc = check_claim_path(o, p);
        free(p);
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = vv_db_fail(v->db, code, o->err);
    sqlite3_reset(st);
    return rc;
}

/* ---- digests --------------------------------------------------------------- */

/* One problem found by a worker, reported later in manifest order (workers
 * run in any order; the output must not).  expected, algorithm and file
 * point into the job; actual is the worker's own result. */
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
    char *path;
    char *digest;            /* the root manifest's; NULL when it has none */
    vfix *fix;               /* its root fixity entries */
    size_t nfix;
    vclaim *claims;          /* its version inventories' digests */
    size_t nclaims;
    dproblem *problems;
    size_t nproblems, cproblems;
    int oom;
} djob;

typedef struct dctx {
    vv_ctx *v;
    const vv_inv *inv;
    djob *jobs;
} dctx;

/* Jobs read and run at a time: memory for them stays a small constant
 * whatever the file count. */
#define DJOB_BATCH 2048

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
    (void)d;
    for (size_t f = 0; f < j->nfix; f++) {
        const vfix *fx = &j->fix[f];
        vl_digest_alg a;
        if (!strcmp(fx->alg_name, "size")) {
            if (strcmp(size, fx->digest))
                add_problem(j, "E093", VL_PROBLEM_MISMATCH, fx->alg_name,
                            fx->digest, size, NULL,
                            vl_asprintf("fixity size %s for %s does not "
                                        "match the file (%s bytes)",
                                        fx->digest, j->path, size));
            continue;
        }
        if (vl_digest_from_name(fx->alg_name, &a) != 0 ||
            strcasecmp(r->hex[a], fx->digest) == 0)
            continue;
        add_problem(j, "E093", VL_PROBLEM_MISMATCH, fx->alg_name, fx->digest,
                    r->hex[a], NULL,
                    vl_asprintf("fixity %s digest %.16s... for %s does not "
                                "match the file (computed %.16s...)",
                                fx->alg_name,
                                fx->digest, j->path, r->hex[a]));
    }
}

/* The digests a version inventory gives, each with its own algorithm. */
static void compare_claims(const dctx *d, djob *j, const vl_digest_result *r,
                           const char *size)
{
    (void)d;
    for (size_t k = 0; k < j->nclaims; k++) {
        const vclaim *c = &j->claims[k];
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
    for (size_t f = 0; f < j->nfix; f++)
        if (j->fix[f].alg >= 0)
            mask |= VL_DIGEST_BIT(j->fix[f].alg);
    for (size_t k = 0; k < j->nclaims; k++)
        if (j->claims[k].alg >= 0)
            mask |= VL_DIGEST_BIT(j->claims[k].alg);
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
                        j->digest ? NULL : j->claims[0].file,
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
    free(j->path);
    free(j->digest);
    vfix_free(j->fix, j->nfix);
    vclaim_free(j->claims, j->nclaims);
    memset(j, 0, sizeof *j);
}

/* Every file to digest, in path order: the root manifest's paths found on
 * disk, and the paths only version inventories list whose files are
 * there. */
static const char Q_JOBS[] =
    "SELECT path, 1 FROM (SELECT DISTINCT path FROM e WHERE inv = ?1"
    " AND sect = 0 AND blk = 0 AND path IS NOT NULL) m"
    " WHERE EXISTS (SELECT 1 FROM walked w WHERE w.path = m.path)"
    " UNION ALL SELECT path, 0 FROM cexists ORDER BY 1";
/* CROSS JOIN: by path first (ordered by digest, the planner would scan
 * every key for each path). */
static const char Q_FIRST_DIGEST[] =
    "SELECT MIN(k.digest) FROM e CROSS JOIN k ON k.inv = e.inv"
    " AND k.sect = 0 AND k.blk = 0 AND k.k = e.k WHERE e.inv = ?1"
    " AND e.sect = 0 AND e.blk = 0 AND e.path = ?2";

/* A job's digests: the root manifest's (its smallest, as the old sorted
 * model had it), its root fixity entries, its claims. */
static int job_fill(octx *o, djob *j, int in_manifest)
{
    int rc;
    if (in_manifest) {
        sqlite3_stmt *st;
        if ((rc = vv_q(o->v->db, Q_FIRST_DIGEST, &st, o->err)))
            return rc;
        sqlite3_bind_int(st, 1, o->inv.id);
        sqlite3_bind_text(st, 2, j->path, -1, SQLITE_STATIC);
        int code = sqlite3_step(st);
        const char *d = code == SQLITE_ROW
                            ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (d && !(j->digest = vl_strdup(d)))
            rc = vl_error_oom(o->err);
        else if (code != SQLITE_ROW)
            rc = vv_db_fail(o->v->db, code, o->err);
        sqlite3_reset(st);
        if (rc || (rc = fixity_of(&o->inv, j->path, &j->fix, &j->nfix,
                                  o->err)))
            return rc;
    }
    return claims_of(o, j->path, &j->claims, &j->nclaims);
}

/* Run and report one batch of jobs, then free them. */
static int run_batch(octx *o, djob *jobs, size_t n)
{
    dctx d = {o->v, &o->inv, jobs};
    int rc = vl_pool_run(n, o->v->o->nthreads, digest_one, &d, o->err);
    for (size_t i = 0; i < n && rc == VL_OK; i++)
        if (jobs[i].oom)
            rc = vl_error_oom(o->err);   /* a finding lost: the run cannot stand */
    for (size_t i = 0; i < n; i++) {
        if (rc == VL_OK)
            report_problems(o->v, &jobs[i]);
        djob_free(&jobs[i]);
    }
    return rc;
}

static int check_digests(octx *o)
{
    if (!o->v->o || !o->v->o->check_digests || o->inv.alg < 0)
        return VL_OK;
    djob *jobs = calloc(DJOB_BATCH, sizeof *jobs);
    sqlite3_stmt *st;
    size_t n = 0;
    int rc, code = SQLITE_DONE;
    if (!jobs)
        return vl_error_oom(o->err);
    if ((rc = vv_q(o->v->db, Q_JOBS, &st, o->err))) {
        free(jobs);
        return rc;
    }
    sqlite3_bind_int(st, 1, o->inv.id);
    while (rc == VL_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        djob *j = &jobs[n++];
        if (!p || !(j->path = vl_strdup(p))) {
            rc = vl_error_oom(o->err);
            break;
        }
        if ((rc = job_fill(o, j, sqlite3_column_int(st, 1))))
            break;
        if (n == DJOB_BATCH) {
            rc = run_batch(o, jobs, n);
            n = 0;
        }
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = vv_db_fail(o->v->db, code, o->err);
    sqlite3_reset(st);
    if (rc == VL_OK && n)
        rc = run_batch(o, jobs, n);
    else
        for (size_t i = 0; i < n; i++)
            djob_free(&jobs[i]);
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
    if (vv_inventory_read(v, ROOT_INV, &o->inv, &err) != VL_OK) {
        if (err.status == VL_ESYS && err.sys_errno == ENOMEM)
            return vl_error_oom(o->err);
        vv_report(v, "E063", ROOT_INV, "cannot read: %s", err.msg);
        return VL_OK;
    }
    o->have_inv = 1;
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
    rc = vv_inventory_check(v, ROOT_INV, declared, &o->inv, o->err);
    if (rc || o->inv.fatal)
        return rc;
    return check_sidecar(o, "", &o->root, &o->inv, &o->inv);
}

int vv_object_run(vv_ctx *v, vl_error *err)
{
    octx o = {.v = v, .err = err};
    vv_db db;
    int rc;
    vv_inventory_init(&o.inv);
    if ((rc = vv_db_open(&db, err)) != VL_OK)
        return rc;
    v->db = &db;
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
    if ((rc = check_versions(&o)) || (rc = check_mhead(&o)) ||
        (rc = check_missing(&o)))
        goto done;
    rc = check_digests(&o);
done:
    /* the rows go with the database, not one by one */
    vv_db_close(&db);
    v->db = NULL;
    for (size_t i = 0; i < o.nfiles; i++)
        free(o.files[i]);
    free(o.files);
    for (size_t i = 0; i < o.nabsent; i++)
        free(o.absent[i]);
    free(o.absent);
    free(o.ver_files);
    vv_inventory_free(&o.inv);
    vv_list_free(&o.root);
    return rc;
}
