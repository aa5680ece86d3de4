/* vellum recover: every staging/txn-* folder is a transaction that did not
 * finish.  Its intent file names the object; the store decides what happened:
 *  - the new version (or object) never reached the store: drop the staging;
 *  - the version folder reached the store but the root inventory did not
 *    (or only half): roll forward, copying that version's checked inventory;
 * then bring the object's catalog rows in line with the store. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backend_private.h"
#include "catalog_private.h"
#include "mutable_head_private.h"
#include "repo_internal.h"

/* Remove temp files a crashed atomic write left in an object root. */
int vl_recover_clean_temps(const char *object_dir, vl_error *err)
{
    char *dir = vl_strdup(object_dir);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    int rc = VL_OK;
    if (!d) {
        free(dir);
        return VL_OK;
    }
    while ((e = readdir(d))) {
        if (!strncmp(e->d_name, VL_INVENTORY_FILE, VL_INVENTORY_FILE_LEN) && strstr(e->d_name, ".tmp-")) {
            char *p = vl_path_join(dir, e->d_name);
            if (p && unlink(p) != 0)
                rc = vl_error_sys(err, "cannot remove %s", p);
            free(p);
        }
    }
    closedir(d);
    free(dir);
    return rc;
}

/* Read vN/inventory.json (streamed) and check it against its own
 * sidecar; digest gets its digest in its own algorithm. */
static int read_version_inventory(vl_backend *b, const char *vrel,
                                  char digest[VL_DIGEST_HEX_MAX],
                                  vl_inventory **out, vl_error *err)
{
    char *inv_rel = vl_path_join(vrel, VL_INVENTORY_FILE);
    char *side_rel = NULL;
    vl_buf side;
    int rc;
    vl_buf_init(&side, 4096);
    if (!inv_rel)
        return vl_error_oom(err);
    if ((rc = vl_inventory_load(b, inv_rel, out, digest, err)) != VL_OK)
        goto done;
    side_rel = vl_asprintf("%s/inventory.json.%s", vrel,
                           vl_digest_name(vl_inventory_digest_alg(*out)));
    if (!side_rel) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_read_all(b, side_rel, 4096, &side, err)) != VL_OK)
        goto done;
    if (side.len < strlen(digest) || strncasecmp(side.data, digest, strlen(digest)) != 0)
        rc = vl_error_set(err, VL_FINDING, "%s does not match its sidecar", inv_rel);
done:
    if (rc != VL_OK && *out) {
        vl_inventory_free(*out);
        *out = NULL;
    }
    vl_buf_release(&side);
    free(inv_rel);
    free(side_rel);
    return rc;
}

/* Bytes of a small store file, or an empty buffer when it is absent. */
static int read_if_present(vl_backend *b, const char *rel, size_t max, vl_buf *out,
                           int *present, vl_error *err)
{
    int kind = 0, rc = vl_backend_stat(b, rel, &kind, NULL, err);
    *present = 0;
    if (rc != VL_OK || kind != VL_WALK_FILE)
        return rc;
    *present = 1;
    return vl_backend_read_all(b, rel, max, out, err);
}

/* Make the object's root inventory and its sidecar byte-equal to the
 * newest version inventory that reached the store: vN when the
 * transaction's version folder is there (roll forward), otherwise the head
 * the root names.  A version folder's inventory was written and synced
 * before the folder was renamed into the store, so it is the copy to trust;
 * this also heals a root inventory whose sidecar was not yet replaced.
 * A new object that never reached the store leaves only the folders of its
 * path, which are removed up to the first that holds something else.
 * *unhealed gets a reason (malloc'd) when the object cannot be settled. */
int vl_recover_settle(vl_backend *b, const char *object_rel, int num,
                      int *changed, char **unhealed, vl_removed_fn fn,
                      void *arg, vl_error *err)
{
    vl_inventory *cur = NULL, *vinv = NULL;
    vl_buf side;
    char vname[16], sname[32], root_hex[VL_DIGEST_HEX_MAX], vhex[VL_DIGEST_HEX_MAX];
    char *root_rel = vl_path_join(object_rel, VL_INVENTORY_FILE);
    char *vrel = NULL, *side_rel = NULL, *want_side = NULL;
    int rc = VL_OK, kind = 0, present = 0, side_present = 0;
    vl_buf_init(&side, 4096);
    *changed = 0;
    *unhealed = NULL;
    if (!root_rel) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_stat(b, root_rel, &kind, NULL, err)) != VL_OK)
        goto done;
    present = kind == VL_WALK_FILE;
    if (!present) {
        if ((rc = vl_backend_stat(b, object_rel, &kind, NULL, err)) != VL_OK)
            goto done;
        if (num == 1) {
            /* A whole object moves in by one rename: it is absent or whole.
             * What can be left is the empty path that led to it.  On an
             * object store it comes in file by file, the root inventory
             * last: without that, what came is no object's. */
            rc = b->atomic_put ? vl_backend_prune(b, object_rel, err)
                               : vl_backend_remove_tree(b, object_rel, fn, arg, err);
            if (rc == VL_OK && kind)
                *changed = 1;
        } else {
            *unhealed = vl_asprintf("%s has no root inventory", object_rel);
        }
        goto done;
    }
    if ((rc = vl_inventory_load(b, root_rel, &cur, root_hex, err)) != VL_OK) {
        if (rc == VL_ESYS && err->sys_errno != ENOENT)
            goto done;   /* out of memory or a failing disk: not the object's */
        rc = VL_OK;
        vl_error_clear(err);
        *unhealed = vl_asprintf("%s/inventory.json cannot be read as an inventory",
                                object_rel);
        goto done;
    }
    if (vl_inventory_head(cur) > num)
        goto done;   /* another writer committed after this one: long settled */
    vl_inventory_version_name(cur, num, vname);
    if (!(vrel = vl_path_join(object_rel, vname))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_stat(b, vrel, &kind, NULL, err)) != VL_OK)
        goto done;
    if (kind == VL_WALK_DIR && !b->atomic_put && num > vl_inventory_head(cur)) {
        /* Uploaded file by file, its inventory last: a version folder
         * without one is the rest of an upload cut short. */
        char *vinv_rel = vl_path_join(vrel, VL_INVENTORY_FILE);
        int ikind = 0;
        if (!vinv_rel) {
            rc = vl_error_oom(err);
            goto done;
        }
        rc = vl_backend_stat(b, vinv_rel, &ikind, NULL, err);
        free(vinv_rel);
        if (rc != VL_OK)
            goto done;
        if (ikind != VL_WALK_FILE) {
            if ((rc = vl_backend_remove_tree(b, vrel, fn, arg, err)) != VL_OK)
                goto done;
            *changed = 1;
            kind = 0;
        }
    }
    if (kind != VL_WALK_DIR) {
        /* The version never reached the store: the head stays. */
        free(vrel);
        vl_inventory_version_name(cur, vl_inventory_head(cur), vname);
        if (!(vrel = vl_path_join(object_rel, vname))) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    if (read_version_inventory(b, vrel, vhex, &vinv, err) != VL_OK) {
        *unhealed = vl_asprintf("%s/inventory.json is not sound (%s)", vrel, err->msg);
        vl_error_clear(err);
        goto done;
    }
    snprintf(sname, sizeof sname, "inventory.json.%s",
             vl_digest_name(vl_inventory_digest_alg(vinv)));
    if (!(side_rel = vl_path_join(object_rel, sname)) ||
        !(want_side = vl_asprintf("%s inventory.json\n", vhex))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = read_if_present(b, side_rel, 4096, &side, &side_present, err)) != VL_OK)
        goto done;
    if (!strcmp(root_hex, vhex) &&
        side_present && side.len == strlen(want_side) &&
        !memcmp(side.data, want_side, side.len))
        goto done;   /* root, sidecar and version copy agree */
    char *from = vl_path_join(vl_path_basename(vrel), VL_INVENTORY_FILE);
    rc = from ? vl_backend_commit_inventory_copy(b, object_rel, from, sname, want_side,
                                                 err)
              : vl_error_oom(err);
    free(from);
    if (rc == VL_OK)
        *changed = 1;
done:
    vl_inventory_free(cur);
    vl_inventory_free(vinv);
    vl_buf_release(&side);
    free(root_rel);
    free(vrel);
    free(side_rel);
    free(want_side);
    return rc;
}

/* Rule: after recover, every object a transaction touched validates (the
 * structure and every inventory's sidecar; digests are the audit's work),
 * or recover names it.  *reason gets the first error found. */
struct first_error {
    char *reason;
};

static void keep_first_error(void *arg, const vl_finding *f)
{
    struct first_error *fe = arg;
    if (f->severity == VL_SEV_ERROR && !fe->reason)
        fe->reason = vl_asprintf("%s %s: %s", f->code, f->path ? f->path : "",
                                 f->message);
}

static int check_healed(vl_repo *r, const char *object_rel, char **reason,
                        vl_error *err)
{
    struct first_error fe = {NULL};
    vl_validate_options o = {0};
    vl_validate_counts c = {0};
    int kind = 0, rc = vl_backend_stat(r->backend, object_rel, &kind, NULL, err);
    *reason = NULL;
    if (rc != VL_OK || kind == 0)
        return rc;   /* a dropped new object: nothing left to check */
    o.check_digests = 0;
    o.nthreads = 1;
    o.on_finding = keep_first_error;
    o.arg = &fe;
    rc = vl_validate_object(r->backend, object_rel, &o, &c, err);
    if (rc == VL_FINDING) {
        vl_error_clear(err);
        rc = VL_OK;
    }
    if (rc == VL_OK && c.errors)
        *reason = fe.reason ? fe.reason : vl_strdup("it does not validate");
    else
        free(fe.reason);
    return rc;
}

static int resync_catalog(vl_repo *r, const char *id, const char *object_rel,
                          vl_error *err)
{
    vl_inventory *inv = NULL;
    int rc = vl_repo_read_inventory_at(r, object_rel, &inv, err);
    if (rc == VL_EINPUT) {
        vl_error_clear(err);
        return vl_catalog_remove_object(r->catalog, id, err);
    }
    if (rc == VL_OK)
        rc = vl_catalog_sync_object(r->catalog, r->backend, object_rel, inv, err);
    vl_inventory_free(inv);
    return rc;
}

/* Events of a version that did reach the store are recorded (once: the
 * append skips ids already logged); those of a dropped one are not. */
static int record_pending_events(vl_repo *r, const char *object_rel, int num,
                                 json_t *events, const char *sidecar,
                                 vl_error *err)
{
    vl_inventory *inv = NULL;
    char vname[16];
    if (json_array_size(events) == 0)
        return VL_OK;
    if (vl_repo_read_inventory_at(r, object_rel, &inv, NULL) != VL_OK)
        return VL_OK;   /* the object never reached the store */
    int committed = vl_inventory_head(inv) >= num;
    vl_inventory_version_name(inv, num, vname);
    vl_inventory_free(inv);
    if (!committed)
        return VL_OK;
    if (sidecar) {
        /* Version N may be another writer's, who took the object after
         * this one died: only ours has our inventory's sidecar. */
        vl_buf side;
        char *rel = vl_asprintf("%s/%s/" VL_INVENTORY_FILE ".%s", object_rel, vname,
                                vl_digest_name(vl_repo_digest(r)));
        int ours = 0;
        vl_buf_init(&side, 4096);
        if (!rel)
            return vl_error_oom(err);
        if (vl_backend_read_all(r->backend, rel, 4096, &side, NULL) == VL_OK)
            ours = side.len == strlen(sidecar) && !memcmp(side.data, sidecar, side.len);
        vl_buf_release(&side);
        free(rel);
        if (!ours)
            return VL_OK;
    }
    return vl_events_append_all(r, events, err);
}

/* One interrupted transaction.  *busy = 1 when its object is locked by a
 * live process (then it is not interrupted, just running). */
static int recover_txn(vl_repo *r, const char *txn_dir, int *busy,
                       vl_recover_counts *out, vl_error *err)
{
    vl_buf buf;
    json_t *intent = NULL;
    vl_lock *lock = NULL;
    char *ipath = vl_path_join(txn_dir, VL_INTENT_FILE);
    char *unhealed = NULL;
    int rc = VL_OK, changed = 0;
    vl_buf_init(&buf, 1 << 20);
    *busy = 0;
    if (!ipath)
        return vl_error_oom(err);
    /* staging/txn-<key>-<uuid>: a live transaction holds the key's lock. */
    const char *base = vl_path_basename(txn_dir) + 4;
    char key[VL_DIGEST_HEX_MAX];
    size_t klen = strcspn(base, "-");
    if (klen >= sizeof key)
        klen = sizeof key - 1;
    memcpy(key, base, klen);
    key[klen] = '\0';
    if (vl_lock_by_key(r, key, 0, &lock, NULL) != VL_OK) {
        *busy = 1;
        goto done;
    }
    if (!vl_fs_exists(ipath))
        goto done;   /* stopped before it named its object: nothing stored */
    if ((rc = vl_fs_read_file(ipath, 1 << 20, &buf, err)) != VL_OK)
        goto done;
    intent = json_loadb(buf.data, buf.len, 0, NULL);
    const char *id = json_string_value(json_object_get(intent, "id"));
    const char *obj = json_string_value(json_object_get(intent, "object"));
    int num = (int)json_integer_value(json_object_get(intent, "version"));
    if (!id || !obj || num < 1)
        goto done;   /* a torn intent is never written (atomic), but be safe */
    const char *replica = json_string_value(json_object_get(intent, "replica"));
    if (replica) {
        /* A replication to a copy on S3, built here: settle that copy's
         * object; the primary and the catalog were not touched.  A copy
         * that cannot be reached now keeps the folder for the next run. */
        vl_backend *rb = NULL;
        vl_error e = {0};
        if (vl_copy_backend(r, replica, &rb, &e) != VL_OK) {
            *busy = e.status == VL_ESYS;
            goto done;
        }
        rc = vl_recover_settle(rb, obj, num, &changed, &unhealed, out->on_removed,
                               out->arg, err);
        if (rc == VL_OK)
            out->replica_txns++;
        goto done;
    }
    if (r->backend->atomic_put) {
        /* temp files of an atomic write; an object store has none */
        char *objdir = vl_path_join(r->store_dir, obj);
        if (!objdir) {
            rc = vl_error_oom(err);
            goto done;
        }
        rc = vl_recover_clean_temps(objdir, err);
        free(objdir);
    }
    /* A staged head's revision or commit (extension 0005) has steps of its
     * own on either side of the common settling. */
    if (rc != VL_OK ||
        (rc = vl_mhead_recover_txn(r, txn_dir, intent, 0, err)) != VL_OK ||
        (rc = vl_recover_settle(r->backend, obj, num, &changed, &unhealed,
                                out->on_removed, out->arg, err)) != VL_OK)
        goto done;
    if (!unhealed &&
        ((rc = vl_mhead_recover_txn(r, txn_dir, intent, 1, err)) != VL_OK ||
         (rc = resync_catalog(r, id, obj, err)) != VL_OK ||
         (rc = record_pending_events(r, obj, num, json_object_get(intent, "events"),
                                     json_string_value(json_object_get(intent,
                                                                       "sidecar")),
                                     err)) != VL_OK ||
         (rc = check_healed(r, obj, &unhealed, err)) != VL_OK))
        goto done;
    if (unhealed) {
        out->unhealed++;
        if (out->on_unhealed)
            out->on_unhealed(out->arg, id, unhealed);
    } else {
        out->repaired++;
    }
done:
    vl_lock_release(lock);
    json_decref(intent);
    vl_buf_release(&buf);
    free(ipath);
    free(unhealed);
    return rc;
}

int vl_repo_recover(vl_repo *r, vl_recover_counts *out, vl_error *err)
{
    DIR *d = opendir(r->staging_dir);
    struct dirent *e;
    int rc = VL_OK;
    vl_recover_counts local = {0};
    if (!out)
        out = &local;
    out->repaired = out->temporaries = out->unhealed = out->replica_txns = 0;
    if (!d)
        return vl_error_sys(err, "cannot list %s", r->staging_dir);
    if ((rc = vl_events_catch_up(r, err)) != VL_OK) {
        closedir(d);
        return rc;
    }
    while ((e = readdir(d)) && rc == VL_OK) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            !strcmp(e->d_name, VL_LOCKS_DIR) ||
            !strcmp(e->d_name, VL_OUTSIDE_DIR))
            continue;
        char *p = vl_path_join(r->staging_dir, e->d_name);
        int busy = 0;
        if (!p) {
            rc = vl_error_oom(err);
            break;
        }
        if (!strncmp(e->d_name, "txn-", 4))
            rc = recover_txn(r, p, &busy, out, err);
        if (rc == VL_OK && !busy)
            rc = vl_fs_rmtree(p, err);
        free(p);
    }
    closedir(d);
    if (rc == VL_OK)
        rc = vl_outside_recover(r, &out->temporaries, err);
    if (rc == VL_OK)
        rc = vl_replicas_recover(r, &out->replica_txns, err);
    return rc;
}
