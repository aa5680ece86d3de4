/* The mutable head of OCFL Community Extension 0005: a version N+1 that
 * deposits change in place until it is committed.  On disk:
 *   OBJECT/extensions/0005-mutable-head/
 *       root-inventory.json.ALG   copy of the root sidecar when staged
 *       revisions/rK              "rK", one per revision
 *       head/                     a version folder: inventory.json, its
 *                                 sidecar, content/rK/... (content paths
 *                                 relative to the object root)
 * The transaction that stages a revision is txn.c's (a different install
 * target and content-path prefix); this file reads the head, installs a
 * revision, commits the head as vN and recovers both.  Writes need a
 * filesystem store: the extension's steps are renames. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_private.h"
#include "catalog_private.h"
#include "inventory_private.h"
#include "mutable_head_private.h"
#include "pathset_private.h"
#include "repo_internal.h"
#include "vl_json.h"

#define LOCK_WAIT_SECONDS 120

/* ---- reading ------------------------------------------------------------ */

static int max_revision(void *arg, const char *name, int kind, vl_error *err)
{
    int *max = arg;
    char *end;
    (void)err;
    if (kind != VL_WALK_FILE || name[0] != 'r' || !name[1])
        return 0;
    long n = strtol(name + 1, &end, 10);
    if (*end == '\0' && n > 0 && n < 1000000000 && n > *max)
        *max = (int)n;
    return 0;
}

int vl_mhead_probe_at(vl_backend *b, const char *object_rel, vl_mhead_probe *out,
                      vl_error *err)
{
    char *dir = vl_path_join(object_rel, VL_MHEAD_DIR);
    char *inv = vl_path_join(object_rel, VL_MHEAD_HEAD "/" VL_INVENTORY_FILE);
    char *revs = dir ? vl_path_join(dir, VL_MHEAD_REVISIONS) : NULL;
    int rc, kind = 0;
    memset(out, 0, sizeof *out);
    if (!dir || !inv || !revs) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_stat(b, dir, &kind, NULL, err)) != VL_OK || !kind)
        goto done;
    out->dir = 1;
    if ((rc = vl_backend_stat(b, inv, &kind, NULL, err)) != VL_OK)
        goto done;
    out->active = kind == VL_WALK_FILE;
    if ((rc = vl_backend_stat(b, revs, &kind, NULL, err)) == VL_OK && kind == VL_WALK_DIR)
        rc = vl_backend_list(b, revs, max_revision, &out->revisions, err);
done:
    free(dir);
    free(inv);
    free(revs);
    return rc;
}

int vl_mhead_conflict_at(vl_backend *b, const char *object_rel, vl_digest_alg alg,
                         int *conflict, vl_error *err)
{
    char *root = vl_asprintf("%s/inventory.json.%s", object_rel, vl_digest_name(alg));
    char *copy = vl_asprintf("%s/" VL_MHEAD_DIR "/" VL_MHEAD_ROOT_SIDECAR ".%s",
                             object_rel, vl_digest_name(alg));
    vl_buf a, c;
    int rc, kind = 0;
    vl_buf_init(&a, 4096);
    vl_buf_init(&c, 4096);
    *conflict = 1;
    if (!root || !copy) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_stat(b, copy, &kind, NULL, err)) != VL_OK || kind != VL_WALK_FILE)
        goto done;
    if ((rc = vl_backend_read_all(b, root, 4096, &a, err)) != VL_OK ||
        (rc = vl_backend_read_all(b, copy, 4096, &c, err)) != VL_OK)
        goto done;
    *conflict = a.len != c.len || memcmp(a.data, c.data, a.len) != 0;
done:
    vl_buf_release(&a);
    vl_buf_release(&c);
    free(root);
    free(copy);
    return rc;
}

int vl_mhead_load_at(vl_backend *b, const char *object_rel, vl_inventory **out,
                     char digest[VL_DIGEST_HEX_MAX], vl_error *err)
{
    char hex[VL_DIGEST_HEX_MAX];
    char *rel = vl_path_join(object_rel, VL_MHEAD_HEAD "/" VL_INVENTORY_FILE);
    char *side = NULL;
    vl_buf s;
    int rc;
    vl_buf_init(&s, 4096);
    *out = NULL;
    if (!rel) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_inventory_load(b, rel, out, hex, err)) != VL_OK)
        goto done;
    if (!(side = vl_asprintf("%s.%s", rel, vl_digest_name(vl_inventory_digest_alg(*out))))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_read_all(b, side, 4096, &s, err)) != VL_OK)
        goto done;
    if (s.len < strlen(hex) || strncasecmp(s.data, hex, strlen(hex)) != 0) {
        rc = vl_error_set(err, VL_FINDING, "%s does not match its sidecar; run "
                          "'vellum recover'", rel);
        goto done;
    }
    if (digest)
        memcpy(digest, hex, sizeof hex);
done:
    if (rc != VL_OK) {
        vl_inventory_free(*out);
        *out = NULL;
    }
    vl_buf_release(&s);
    free(rel);
    free(side);
    return rc;
}

int vl_mhead_get(vl_repo *r, const char *id, vl_mhead_info *info,
                 vl_inventory **inv, vl_error *err)
{
    char *rel = vl_repo_object_path(r, id);
    vl_inventory *root = NULL;
    vl_mhead_probe p;
    int rc;
    memset(info, 0, sizeof *info);
    if (inv)
        *inv = NULL;
    if (!rel)
        return vl_error_oom(err);
    if ((rc = vl_mhead_probe_at(r->backend, rel, &p, err)) != VL_OK || !p.active)
        goto done;
    info->active = 1;
    info->revisions = p.revisions;
    if ((rc = vl_repo_read_inventory_at(r, rel, &root, err)) != VL_OK ||
        (rc = vl_mhead_conflict_at(r->backend, rel, vl_inventory_digest_alg(root),
                                   &info->conflict, err)) != VL_OK)
        goto done;
    if (inv) {
        if ((rc = vl_mhead_load_at(r->backend, rel, inv, NULL, err)) != VL_OK)
            goto done;
        info->version = vl_inventory_head(*inv);
        if (info->version != vl_inventory_head(root) + 1)
            info->conflict = 1;
    } else {
        info->version = vl_inventory_head(root) + 1;
    }
done:
    vl_inventory_free(root);
    free(rel);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

int vl_mhead_write_marker(const char *dir, int rev, vl_error *err)
{
    char name[24], text[24];
    snprintf(name, sizeof name, "r%d", rev);
    int len = snprintf(text, sizeof text, "r%d", rev);   /* no newline: the spec */
    char *p = vl_path_join(dir, name);
    int rc = VL_OK, fd = -1;
    if (!p)
        return vl_error_oom(err);
    if ((rc = vl_fs_mkdirs(dir, err)) != VL_OK)
        goto done;
    /* Exclusive: the marker is what stops two revisions taking one number. */
    if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0) {
        rc = errno == EEXIST
            ? vl_error_set(err, VL_EINPUT, "revision marker %s exists: another "
                           "process is updating the staged head", p)
            : vl_error_sys(err, "create %s", p);
        goto done;
    }
    if (vl_fs_write_all(fd, text, (size_t)len) != 0 || fsync(fd) != 0) {
        rc = vl_error_sys(err, "write %s", p);
        goto done;
    }
    rc = vl_fs_fsync_path(dir, err);
done:
    if (fd >= 0)
        close(fd);
    free(p);
    return rc;
}

struct sweep_ctx {
    vl_pathset *keep;
    const char *base;     /* the folder walked */
    const char *prefix;   /* its content-path prefix */
    int rc;
    vl_error *err;
};

static int keep_head_path(void *arg, const char *digest, const char *path)
{
    struct sweep_ctx *c = arg;
    (void)digest;
    if (strncmp(path, VL_MHEAD_HEAD "/", sizeof VL_MHEAD_HEAD) != 0)
        return 0;
    c->rc = vl_pathset_add(c->keep, path, c->err);
    return c->rc != VL_OK;
}

static int sweep_one(void *arg, const char *rel, int kind, const struct stat *st,
                     vl_error *err)
{
    struct sweep_ctx *c = arg;
    int found = 0, rc;
    (void)st;
    if (kind == VL_WALK_DIR)
        return VL_OK;
    char *cpath = vl_asprintf("%s/%s", c->prefix, rel);
    char *p = vl_path_join(c->base, rel);
    if (!cpath || !p)
        rc = vl_error_oom(err);
    else if ((rc = vl_pathset_has(c->keep, cpath, &found, err)) == VL_OK && !found &&
             unlink(p) != 0 && errno != ENOENT)
        rc = vl_error_sys(err, "cannot remove %s", p);
    free(cpath);
    free(p);
    return rc;
}

/* Remove empty folders under dir, and dir itself when it ends up empty. */
static void prune_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
            continue;
        if (e->d_type == DT_DIR) {
            char *sub = vl_path_join(dir, e->d_name);
            if (sub)
                prune_empty(sub);
            free(sub);
        }
    }
    closedir(d);
    rmdir(dir);   /* fails, as it should, when something is left */
}

/* The extension's last step: delete what head/CONTENT holds that the head
 * inventory does not name (the content of earlier revisions no longer in
 * the state, or of a revision that was rolled back). */
static int sweep_head(const char *object_dir, const vl_inventory *inv, vl_error *err)
{
    char *prefix = vl_asprintf(VL_MHEAD_HEAD "/%s", vl_inventory_content_dir(inv));
    char *base = prefix ? vl_path_join(object_dir, prefix) : NULL;
    struct sweep_ctx c = {NULL, base, prefix, VL_OK, err};
    int rc;
    if (!prefix || !base) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!vl_fs_is_dir(base)) {
        rc = VL_OK;
        goto done;
    }
    if ((rc = vl_pathset_new(&c.keep, err)) != VL_OK)
        goto done;
    if (vl_inventory_manifest_foreach(inv, keep_head_path, &c) != 0) {
        rc = c.rc != VL_OK ? c.rc
                           : vl_error_set(err, VL_ESYS, "cannot read the manifest of "
                                          "the staged head of \"%s\"",
                                          vl_inventory_id(inv));
        goto done;
    }
    if ((rc = vl_tree_walk(base, 0, sweep_one, &c, err)) != VL_OK)
        goto done;
    prune_empty(base);
    rc = vl_fs_fsync_parent(base, err);
done:
    vl_pathset_free(c.keep);
    free(prefix);
    free(base);
    return rc;
}

/* rename, then make it durable in the folder it landed in */
static int move_synced(const char *from, const char *to, int replace, vl_error *err)
{
    int rc = VL_OK;
    if (replace) {
        if (rename(from, to) != 0)
            rc = vl_error_sys(err, "cannot move %s to %s", from, to);
    } else {
        rc = vl_fs_rename_new(from, to, err);
    }
    return rc == VL_OK ? vl_fs_fsync_parent(to, err) : rc;
}

int vl_mhead_install(const char *object_dir, const char *built_head, int rev,
                     const vl_inventory *inv, int *touched, vl_error *err)
{
    const char *alg = vl_digest_name(vl_inventory_digest_alg(inv));
    const char *cdir = vl_inventory_content_dir(inv);
    char *ext = vl_path_join(object_dir, VL_MHEAD_DIR);
    char *revs = ext ? vl_path_join(ext, VL_MHEAD_REVISIONS) : NULL;
    char *head = vl_path_join(object_dir, VL_MHEAD_HEAD);
    char *root_side = vl_asprintf("%s/inventory.json.%s", object_dir, alg);
    char *copy = ext ? vl_asprintf("%s/" VL_MHEAD_ROOT_SIDECAR ".%s", ext, alg) : NULL;
    char *from_c = vl_asprintf("%s/%s/r%d", built_head, cdir, rev);
    char *to_cdir = head ? vl_path_join(head, cdir) : NULL;
    char *to_c = head ? vl_asprintf("%s/%s/r%d", head, cdir, rev) : NULL;
    char *from_i = vl_path_join(built_head, VL_INVENTORY_FILE);
    char *to_i = head ? vl_path_join(head, VL_INVENTORY_FILE) : NULL;
    char *from_s = vl_asprintf("%s/inventory.json.%s", built_head, alg);
    char *to_s = head ? vl_asprintf("%s/inventory.json.%s", head, alg) : NULL;
    vl_buf side;
    int rc;
    vl_buf_init(&side, 4096);
    *touched = 0;
    if (!ext || !revs || !head || !root_side || !copy || !from_c || !to_cdir ||
        !to_c || !from_i || !to_i || !from_s || !to_s) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (rev == 1) {
        /* Creation.  The spec's order is marker, head, copy; the copy goes
         * before the head here, so that an active head (head/inventory.json
         * present) always has it: the rename of head/ is the commit point. */
        if ((rc = vl_fs_read_file(root_side, 4096, &side, err)) != VL_OK)
            goto done;
        *touched = 1;
        if ((rc = vl_mhead_write_marker(revs, rev, err)) != VL_OK ||
            /* the folders just made (extensions/, the extension's) */
            (rc = vl_fs_fsync_path(ext, err)) != VL_OK ||
            (rc = vl_fs_fsync_parent(ext, err)) != VL_OK ||
            (rc = vl_fs_fsync_path(object_dir, err)) != VL_OK ||
            (rc = vl_fs_write_atomic_readonly(copy, side.data, side.len, err)) != VL_OK ||
            (rc = move_synced(built_head, head, 0, err)) != VL_OK)
            goto done;
        goto done;
    }
    /* A further revision: marker first (a concurrent update fails here),
     * then the revision's new content, then inventory and sidecar. */
    if ((rc = vl_mhead_write_marker(revs, rev, err)) != VL_OK)
        goto done;
    *touched = 1;
    if (vl_fs_is_dir(from_c) &&
        ((rc = vl_fs_mkdirs(to_cdir, err)) != VL_OK ||
         (rc = move_synced(from_c, to_c, 0, err)) != VL_OK))
        goto done;
    if ((rc = move_synced(from_i, to_i, 1, err)) != VL_OK ||
        (rc = move_synced(from_s, to_s, 1, err)) != VL_OK)
        goto done;
    rc = sweep_head(object_dir, inv, err);
done:
    vl_buf_release(&side);
    free(ext);
    free(revs);
    free(head);
    free(root_side);
    free(copy);
    free(from_c);
    free(to_cdir);
    free(to_c);
    free(from_i);
    free(to_i);
    free(from_s);
    free(to_s);
    return rc;
}

/* The extension folder goes, and extensions/ with it when it is left
 * empty (an object has none unless an extension needs it). */
static int remove_extension(const char *object_dir, vl_error *err)
{
    char *ext = vl_path_join(object_dir, VL_MHEAD_DIR);
    char *exts = vl_path_join(object_dir, "extensions");
    int rc = (!ext || !exts) ? vl_error_oom(err) : vl_fs_rmtree(ext, err);
    if (rc == VL_OK && vl_fs_dir_empty(exts) == 1 && rmdir(exts) != 0)
        rc = vl_error_sys(err, "cannot remove %s", exts);
    if (rc == VL_OK)
        rc = vl_fs_fsync_path(object_dir, err);
    free(ext);
    free(exts);
    return rc;
}

/* ---- commit and discard -------------------------------------------------- */

/* What commit and discard start from: the object locked, its root
 * inventory and what it holds of a mutable head. */
static int open_head(vl_repo *r, const char *id, char **rel, vl_lock **lock,
                     vl_inventory **root, vl_mhead_probe *p, vl_error *err)
{
    int rc;
    if ((rc = vl_object_id_check(id, err)) != VL_OK)
        return rc;
    if (!(*rel = vl_repo_object_path(r, id)))
        return vl_error_oom(err);
    if ((rc = vl_lock_object(r, id, LOCK_WAIT_SECONDS, lock, err)) != VL_OK ||
        (rc = vl_repo_load_inventory(r, id, root, err)) != VL_OK)
        return rc;
    return vl_mhead_probe_at(r->backend, *rel, p, err);
}

/* The extension's steps are renames: an object store has none. */
static int refuse_object_store(vl_repo *r, vl_error *err)
{
    return r->backend->atomic_put ? VL_OK
        : vl_error_set(err, VL_EINPUT, "staged heads need a store on a filesystem; "
                       "%s is not", vl_repo_store(r));
}

/* The intent of a commit or a discard (kind), read back by recover;
 * sidecar may be NULL. */
static int write_intent(const char *txn_dir, const char *kind, const char *id,
                        const char *rel, int num, json_t *events, const char *sidecar,
                        vl_error *err)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:b, s:O, s:s?, s:s}", "id", id, "object",
                          rel, "version", num, "new", 0, "events", events,
                          "sidecar", sidecar, "mhead", kind);
    char *s = o ? vl_json_dumps(o, JSON_SORT_KEYS) : NULL;
    char *p = vl_path_join(txn_dir, VL_INTENT_FILE);
    int rc = (!s || !p) ? vl_error_oom(err) : vl_fs_write_atomic(p, s, strlen(s), err);
    json_decref(o);
    free(s);
    free(p);
    return rc;
}

/* A successful event of vellum's about version num of id. */
static json_t *head_event(const char *type, const char *id, int num, const char *detail)
{
    vl_event ev;
    const char *agents[1] = {vl_agent_vellum()};
    vl_event_init(&ev, type, id);
    ev.outcome = "success";
    ev.detail = detail;
    ev.version = num;
    ev.agents = agents;
    ev.nagents = 1;
    return vl_event_to_json(&ev);
}

static json_t *commit_event(const char *id, int num, int revisions, const char *vname)
{
    char detail[256];
    snprintf(detail, sizeof detail, "Staged head committed as version %s "
             "(%d revision%s; OCFL extension 0005-mutable-head)", vname, revisions,
             revisions == 1 ? "" : "s");
    return head_event(VL_EV_CREATION, id, num, detail);
}

/* replicate.after_ingest = true: the committed version goes to every
 * replica now, as a deposit's does; it is committed whatever happens here
 * ('vellum replicate' tries again). */
static void note_replica(void *arg, const vl_replicate_result *rr)
{
    vl_mhead_commit_result *res = arg;
    if (rr->state == VL_REPL_UPDATED || rr->state == VL_REPL_CURRENT) {
        res->replicas_updated++;
        return;
    }
    res->replicas_refused++;
    if (!res->replica_problem[0])
        snprintf(res->replica_problem, sizeof res->replica_problem, "%.64s: %.400s",
                 rr->replica, rr->message ? rr->message : vl_repl_state_name(rr->state));
}

static void replicate_after(vl_repo *r, const char *id, vl_mhead_commit_result *res)
{
    const char *v = vl_repo_config_get(r, "replicate.after_ingest");
    const char *ids[1] = {id};
    vl_replicate_options ro = {.on_result = note_replica, .arg = res};
    vl_error e = {0};
    if (!v || (strcasecmp(v, "true") && strcmp(v, "1") && strcasecmp(v, "yes")) ||
        vl_replica_count(r) == 0)
        return;
    int rc = vl_replicate(r, ids, 1, &ro, NULL, &e);
    if (rc != VL_OK && rc != VL_FINDING && !res->replica_problem[0])
        snprintf(res->replica_problem, sizeof res->replica_problem, "%.400s", e.msg);
}

int vl_mhead_commit(vl_repo *r, const char *id, const char *message,
                    vl_mhead_commit_result *res, vl_error *err)
{
    vl_lock *lock = NULL;
    vl_inventory *root = NULL, *inv = NULL;
    vl_mhead_probe p;
    json_t *events = NULL;
    char vname[16], sname[32], from[40], created[32];
    char *rel = NULL, *objdir = NULL, *head = NULL, *vdir = NULL, *txn = NULL;
    char *fin = NULL, *side = NULL, *prefix_to = NULL;
    char *fin_i = NULL, *fin_s = NULL, *to_i = NULL, *to_s = NULL;
    int rc, conflict = 0, moved = 0, kind = 0;
    memset(res, 0, sizeof *res);
    if ((rc = open_head(r, id, &rel, &lock, &root, &p, err)) != VL_OK)
        goto done;
    if (!p.active) {
        rc = p.dir ? vl_error_set(err, VL_ESYS, "\"%s\" has an unfinished staged head "
                                  "(%s without head/inventory.json); run 'vellum "
                                  "recover'", id, VL_MHEAD_DIR)
                   : vl_error_set(err, VL_EINPUT, "\"%s\" has no staged head: nothing "
                                  "to commit", id);
        goto done;
    }
    if ((rc = refuse_object_store(r, err)) != VL_OK)
        goto done;
    if ((rc = vl_mhead_conflict_at(r->backend, rel, vl_inventory_digest_alg(root),
                                   &conflict, err)) != VL_OK ||
        (rc = vl_mhead_load_at(r->backend, rel, &inv, NULL, err)) != VL_OK)
        goto done;
    int num = vl_inventory_head(inv);
    vl_inventory_version_name(inv, num, vname);
    if (!(vdir = vl_path_join(rel, vname))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!conflict && (rc = vl_backend_stat(r->backend, vdir, &kind, NULL, err)) != VL_OK)
        goto done;
    if (conflict || kind || num != vl_inventory_head(root) + 1) {
        rc = vl_error_set(err, VL_EINPUT, "version conflict: \"%s\" got a new version "
                          "after its head was staged (%s/%s.%s no longer matches "
                          "inventory.json.%s, or %s exists); nothing committed: 'vellum "
                          "discard %s' drops the staged head",
                          id, VL_MHEAD_DIR, VL_MHEAD_ROOT_SIDECAR,
                          vl_digest_name(vl_inventory_digest_alg(root)),
                          vl_digest_name(vl_inventory_digest_alg(root)), vname, id);
        goto done;
    }
    free(vdir);
    vdir = NULL;
    /* The committed inventory: content paths under vN, created now. */
    vl_time_rfc3339(vl_time_now(), created);
    if (!(prefix_to = vl_asprintf("%s/", vname))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (vl_inventory_rewrite_prefix(inv, VL_MHEAD_HEAD "/", num, prefix_to) != 0 ||
        vl_inventory_version_describe(inv, num, created, message) != 0) {
        rc = vl_error_set(err, VL_ESYS, "cannot rewrite the inventory of \"%s\": out "
                          "of memory or temporary space", id);
        goto done;
    }
    snprintf(sname, sizeof sname, "inventory.json.%s",
             vl_digest_name(vl_inventory_digest_alg(inv)));
    snprintf(from, sizeof from, "%s/inventory.json", vname);
    if (!(txn = vl_repo_txn_dir_new(r, id)) ||
        !(fin = vl_path_join(txn, "final")) ||
        !(objdir = vl_path_join(r->store_dir, rel)) ||
        !(head = vl_path_join(objdir, VL_MHEAD_HEAD)) ||
        !(vdir = vl_path_join(objdir, vname)) ||
        !(fin_i = vl_path_join(fin, VL_INVENTORY_FILE)) ||
        !(fin_s = vl_path_join(fin, sname)) || !(to_i = vl_path_join(vdir, VL_INVENTORY_FILE)) ||
        !(to_s = vl_path_join(vdir, sname)) ||
        !(events = json_array())) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (json_array_append_new(events, commit_event(id, num, p.revisions, vname)) != 0) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs(fin, err)) != VL_OK ||
        (rc = vl_txn_write_inventory_pair(fin, inv, &side, err)) != VL_OK ||
        (rc = vl_fs_make_files_readonly(fin, err)) != VL_OK ||
        (rc = write_intent(txn, "commit", id, rel, num, events, side, err)) != VL_OK)
        goto done;
    /* The spec's order: head becomes vN, vN gets the rewritten inventory,
     * the root inventory is written last.  From the first rename on, a
     * failure leaves the intent for recover, which rolls forward. */
    if ((rc = move_synced(head, vdir, 0, err)) != VL_OK)
        goto done;
    moved = 1;
    if ((rc = move_synced(fin_i, to_i, 1, err)) != VL_OK ||
        (rc = move_synced(fin_s, to_s, 1, err)) != VL_OK ||
        (rc = vl_backend_commit_inventory_copy(r->backend, rel, from, sname, side,
                                               err)) != VL_OK)
        goto done;
    res->version = num;
    res->revisions = p.revisions;
    snprintf(res->vname, sizeof res->vname, "%s", vname);
    if ((rc = remove_extension(objdir, err)) != VL_OK)
        goto done;
    if ((rc = vl_catalog_sync_new_version(r->catalog, r->backend, rel, inv, err)) != VL_OK)
        goto done;
    if ((rc = vl_events_append_all(r, events, err)) != VL_OK)
        goto done;
    moved = 0;   /* all done: staging goes */
    vl_fs_rmtree(txn, NULL);
    vl_lock_release(lock);   /* replication takes the object's lock itself */
    lock = NULL;
    replicate_after(r, id, res);
done:
    if (rc != VL_OK && moved) {
        rc = vl_error_set(err, rc, "%s (the commit of \"%s\" as %s is half done); run "
                          "'vellum recover'", err->msg, id, vname);
    } else if (txn) {
        vl_fs_rmtree(txn, NULL);
    }
    vl_lock_release(lock);
    vl_inventory_free(root);
    vl_inventory_free(inv);
    json_decref(events);
    free(rel);
    free(objdir);
    free(head);
    free(vdir);
    free(txn);
    free(fin);
    free(side);
    free(prefix_to);
    free(fin_i);
    free(fin_s);
    free(to_i);
    free(to_s);
    return rc;
}

/* ---- discard ------------------------------------------------------------ */

int vl_event_is_discard(const vl_event_row *row)
{
    return row->version > 0 && row->type && !strcmp(row->type, VL_EV_DELETION);
}

static json_t *discard_event(const char *id, const vl_mhead_discard_result *d)
{
    char detail[384];
    if (d->event_version)
        snprintf(detail, sizeof detail, "Staged head of version %d discarded (%d "
                 "revision%s; OCFL extension 0005-mutable-head): never committed, "
                 "so the events of version %d before this one describe no version",
                 d->version, d->revisions, d->revisions == 1 ? "" : "s", d->version);
    else
        snprintf(detail, sizeof detail, "Staged head of version %d discarded (%d "
                 "revision%s; OCFL extension 0005-mutable-head): never committed; the "
                 "object got a version %d of its own after the head was staged",
                 d->version, d->revisions, d->revisions == 1 ? "" : "s", d->version);
    return head_event(VL_EV_DELETION, id, d->event_version, detail);
}

int vl_mhead_discard(vl_repo *r, const char *id, vl_mhead_discard_result *res,
                     vl_error *err)
{
    vl_lock *lock = NULL;
    vl_inventory *root = NULL, *head = NULL;
    vl_mhead_probe p;
    json_t *events = NULL;
    char *rel = NULL, *objdir = NULL, *ext = NULL, *exts = NULL, *txn = NULL;
    char *gone = NULL;
    int rc, conflict = 0, decided = 0;
    memset(res, 0, sizeof *res);
    if ((rc = open_head(r, id, &rel, &lock, &root, &p, err)) != VL_OK)
        goto done;
    if (!p.dir) {
        rc = vl_error_set(err, VL_EINPUT, "\"%s\" has no staged head: nothing to "
                          "discard", id);
        goto done;
    }
    if ((rc = refuse_object_store(r, err)) != VL_OK)
        goto done;
    if ((rc = vl_mhead_conflict_at(r->backend, rel, vl_inventory_digest_alg(root),
                                   &conflict, err)) != VL_OK)
        goto done;
    /* A head that cannot be read is discarded all the same: its number is
     * then the one a staged head has, the root's head + 1. */
    res->version = vl_inventory_head(root) + 1;
    if (p.active && vl_mhead_load_at(r->backend, rel, &head, NULL, NULL) == VL_OK)
        res->version = vl_inventory_head(head);
    res->revisions = p.revisions;
    res->conflict = conflict || res->version != vl_inventory_head(root) + 1;
    /* When the object has a vN of its own, version N's events are partly
     * that version's: the event then names no version, hiding nothing. */
    res->event_version = res->version > vl_inventory_head(root) ? res->version : 0;
    if (!(txn = vl_repo_txn_dir_new(r, id)) ||
        !(gone = vl_path_join(txn, "discarded")) ||
        !(objdir = vl_path_join(r->store_dir, rel)) ||
        !(ext = vl_path_join(objdir, VL_MHEAD_DIR)) ||
        !(exts = vl_path_join(objdir, "extensions")) || !(events = json_array()) ||
        json_array_append_new(events, discard_event(id, res)) != 0) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* The intent first: from then on recover finishes the discard.  It
     * names the root's head, which a discard leaves as it is, so that
     * recover's common settling finds nothing to do and then logs the
     * event (the version is committed and there is no sidecar to match). */
    if ((rc = vl_fs_mkdirs(txn, err)) != VL_OK ||
        (rc = write_intent(txn, "discard", id, rel, vl_inventory_head(root), events,
                           NULL, err)) != VL_OK)
        goto done;
    decided = 1;
    /* One rename takes the whole head out of the object (staging is on the
     * same filesystem); then the folder it left is made durable. */
    if ((rc = move_synced(ext, gone, 0, err)) != VL_OK ||
        (rc = vl_fs_fsync_path(exts, err)) != VL_OK)
        goto done;
    if (vl_fs_dir_empty(exts) == 1 && rmdir(exts) != 0) {
        rc = vl_error_sys(err, "cannot remove %s", exts);
        goto done;
    }
    if ((rc = vl_fs_fsync_path(objdir, err)) != VL_OK)
        goto done;
    if ((rc = vl_events_append_all(r, events, err)) != VL_OK)
        goto done;
    decided = 0;   /* all done: staging goes */
done:
    if (rc != VL_OK && decided)
        rc = vl_error_set(err, rc, "%s (the discard of the staged head of \"%s\" is "
                          "half done); run 'vellum recover'", err->msg, id);
    else if (txn)
        vl_fs_rmtree(txn, NULL);
    vl_lock_release(lock);
    vl_inventory_free(root);
    vl_inventory_free(head);
    json_decref(events);
    free(rel);
    free(objdir);
    free(ext);
    free(exts);
    free(txn);
    free(gone);
    return rc;
}

/* ---- recover ------------------------------------------------------------ */

/* A staged revision that stopped part way: installed (the head inventory
 * is the transaction's) means roll forward (the sidecar, the sweep, its
 * events); not installed means roll back (its marker and content go). */
static int recover_revision(vl_repo *r, const char *objdir, const char *rel,
                            json_t *intent, vl_error *err)
{
    const char *sidecar = json_string_value(json_object_get(intent, "sidecar"));
    int rev = (int)json_integer_value(json_object_get(intent, "revision"));
    char *root_inv = vl_path_join(objdir, VL_INVENTORY_FILE);
    char *head_rel = vl_path_join(rel, VL_MHEAD_HEAD "/" VL_INVENTORY_FILE);
    char *head_inv = vl_path_join(objdir, VL_MHEAD_HEAD "/" VL_INVENTORY_FILE);
    char *revs = vl_path_join(objdir, VL_MHEAD_DIR "/" VL_MHEAD_REVISIONS);
    char *marker = revs ? vl_asprintf("%s/r%d", revs, rev) : NULL;
    char *side_path = NULL;
    char hex[VL_DIGEST_HEX_MAX];
    vl_inventory *inv = NULL;
    int rc = VL_OK;
    if (!root_inv || !head_rel || !head_inv || !revs || !marker) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!vl_fs_exists(root_inv))
        goto done;   /* a new object that never landed: settle prunes it */
    if (!vl_fs_exists(head_inv)) {
        /* no active head: a creation that never reached its commit point */
        rc = remove_extension(objdir, err);
        goto done;
    }
    if ((rc = vl_inventory_load(r->backend, head_rel, &inv, hex, err)) != VL_OK)
        goto done;
    int installed = sidecar && !strncasecmp(sidecar, hex, strlen(hex)) &&
                    sidecar[strlen(hex)] == ' ';
    if (installed) {
        if (!(side_path = vl_asprintf("%s.%s", head_inv,
                                      vl_digest_name(vl_inventory_digest_alg(inv))))) {
            rc = vl_error_oom(err);
            goto done;
        }
        vl_buf have;
        vl_buf_init(&have, 4096);
        int same = vl_fs_read_file(side_path, 4096, &have, NULL) == VL_OK &&
                   have.len == strlen(sidecar) && !memcmp(have.data, sidecar, have.len);
        vl_buf_release(&have);
        if (!same && (rc = vl_fs_write_atomic_readonly(side_path, sidecar,
                                                       strlen(sidecar), err)) != VL_OK)
            goto done;
    } else if (rev > 1 && unlink(marker) != 0 && errno != ENOENT) {
        rc = vl_error_sys(err, "cannot remove %s", marker);
        goto done;
    }
    if ((rc = sweep_head(objdir, inv, err)) != VL_OK)
        goto done;
    if (installed)
        rc = vl_events_append_all(r, json_object_get(intent, "events"), err);
done:
    vl_inventory_free(inv);
    free(root_inv);
    free(head_rel);
    free(head_inv);
    free(revs);
    free(marker);
    free(side_path);
    return rc;
}

/* A commit that stopped after head became vN: vN gets the rewritten
 * inventory kept in staging (if it does not have it yet), so that the
 * common settling copies it to the root. */
static int recover_commit_before(vl_repo *r, const char *txn_dir, const char *objdir,
                                 const char *rel, json_t *intent, vl_error *err)
{
    int num = (int)json_integer_value(json_object_get(intent, "version"));
    vl_inventory *root = NULL;
    char vname[16], sname[32];
    char *vdir = NULL, *fin = NULL;
    int rc = VL_OK;
    if (vl_repo_read_inventory_at(r, rel, &root, NULL) != VL_OK ||
        vl_inventory_head(root) >= num)
        goto done;   /* committed already, or no object to speak of */
    vl_inventory_version_name(root, num, vname);
    snprintf(sname, sizeof sname, "inventory.json.%s",
             vl_digest_name(vl_inventory_digest_alg(root)));
    if (!(vdir = vl_path_join(objdir, vname)) || !(fin = vl_path_join(txn_dir, "final"))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!vl_fs_is_dir(vdir))
        goto done;   /* head was never moved: the staged head stays */
    /* inventory, then sidecar: the order of the commit */
    const char *names[2] = {VL_INVENTORY_FILE, sname};
    for (int i = 0; i < 2 && rc == VL_OK; i++) {
        char *src = vl_path_join(fin, names[i]);
        char *dst = vl_path_join(vdir, names[i]);
        if (!src || !dst)
            rc = vl_error_oom(err);
        else if (vl_fs_exists(src))
            rc = move_synced(src, dst, 1, err);
        free(src);
        free(dst);
    }
done:
    vl_inventory_free(root);
    free(vdir);
    free(fin);
    return rc;
}

int vl_mhead_recover_txn(vl_repo *r, const char *txn_dir, json_t *intent, int after,
                         vl_error *err)
{
    const char *kind = json_string_value(json_object_get(intent, "mhead"));
    const char *rel = json_string_value(json_object_get(intent, "object"));
    int num = (int)json_integer_value(json_object_get(intent, "version"));
    char *objdir = NULL;
    vl_inventory *root = NULL;
    int rc = VL_OK;
    if (!kind || !rel || !r->backend->atomic_put)
        return VL_OK;
    if (!(objdir = vl_path_join(r->store_dir, rel)))
        return vl_error_oom(err);
    if (!strcmp(kind, "revision")) {
        if (after)
            rc = recover_revision(r, objdir, rel, intent, err);
    } else if (!strcmp(kind, "commit")) {
        if (!after)
            rc = recover_commit_before(r, txn_dir, objdir, rel, intent, err);
        else if (vl_repo_read_inventory_at(r, rel, &root, NULL) == VL_OK &&
                 vl_inventory_head(root) >= num)
            rc = remove_extension(objdir, err);   /* committed: the head is vN */
    } else if (!strcmp(kind, "discard")) {
        if (after)
            rc = remove_extension(objdir, err);   /* the intent was the decision */
    }
    vl_inventory_free(root);
    free(objdir);
    return rc;
}
