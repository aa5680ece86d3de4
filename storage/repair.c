/* Repair: every copy of an object (the primary and each replica) is put
 * back to the inventory of its version from the other copies, in the
 * order a commit writes: content files, version inventories, then the
 * root inventory and its sidecar.  A file is restored only from a copy
 * whose bytes match the digest the reference inventory records; it is
 * written beside the object on the same filesystem (the copy's
 * transaction folder), synced, renamed over the damaged file and read back.
 * The reference inventory is one that verifies against its own sidecar
 * and is of the version the copy should hold (the catalog's head for the
 * primary, the version replication recorded for a replica).  Files an
 * inventory does not list are moved to REPO/quarantine, never deleted.
 * Each action is a PREMIS event: "recovery" (success or fail) or
 * "quarantine". */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_private.h"
#include "catalog_private.h"
#include "pathset_private.h"
#include "replica_private.h"
#include "repo_internal.h"
#include "vl_json.h"

struct copy {
    char *name;
    vl_backend *b;          /* NULL when unreachable */
    char *why;              /* why unreachable */
};

typedef struct robj {
    vl_repo *r;
    const char *id;
    char *rel;
    struct copy *copies;    /* [0] is the primary */
    size_t ncopies;
    const vl_repair_options *o;
    vl_repair_summary *s;
    /* the target copy being repaired */
    struct copy *t;
    int version;
    /* The reference inventory of that version: where it is (its bytes are
     * streamed from there when a copy needs them), its digest and sidecar. */
    vl_backend *ref_b;
    char *ref_rel;
    char ref_digest[VL_DIGEST_HEX_MAX];
    vl_buf ref_side;
    vl_inventory *ref;
    char *ref_source;
    char *txn;                    /* target's transaction folder */
    unsigned ntmp;
    int changed, failed;
    vl_pathset *expected;         /* paths the reference accounts for */
} robj;

/* ---- actions: events and the caller's callback ------------------------ */

static int act(robj *o, const char *path, const char *problem,
               const char *source, const char *alg, const char *expected,
               const char *actual, int repaired, const char *message,
               vl_error *err)
{
    const char *agents[2] = {vl_agent_vellum(), vl_agent_openssl()};
    const char *loc = vl_copy_root(o->r, o->t->name);
    char *detail = NULL, *odetail = NULL;
    vl_event ev;
    int rc;
    int quarantine = !strcmp(problem, "unexpected");
    if (quarantine)
        detail = vl_asprintf("%s of copy %s (%s): not listed in the inventory; "
                             "moved to %s", path, o->t->name, loc, message);
    else if (!strcmp(problem, "diverged"))
        detail = vl_asprintf("copy %s (%s) was not repaired: %s", o->t->name, loc,
                             message);
    else if (repaired && !expected)
        detail = vl_asprintf("%s of copy %s (%s) was %s; restored from copy %s (%s), "
                             "whose copy verifies (%s)", path, o->t->name, loc,
                             problem, source, vl_copy_root(o->r, source),
                             strncmp(path, "0=", 2)
                                 ? "it matches its sidecar and is of the same version"
                                 : "the declaration every OCFL object carries");
    else if (repaired)
        detail = vl_asprintf("%s of copy %s (%s) was %s; restored from copy %s "
                             "(%s), whose bytes match the inventory's %s %s; the "
                             "damaged copy's %s was %s; the restored file was read "
                             "back and verified", path, o->t->name, loc, problem,
                             source, vl_copy_root(o->r, source), alg ? alg : "",
                             expected ? expected : "", alg ? alg : "digest",
                             actual ? actual : "(none: missing)");
    else
        detail = vl_asprintf("%s of copy %s (%s) is %s and no other copy matches "
                             "the inventory's %s %s; left as it is", path,
                             o->t->name, loc, problem, alg ? alg : "digest",
                             expected ? expected : "");
    odetail = message && !quarantine ? vl_strdup(message) : NULL;
    if (!detail) {
        free(odetail);
        return vl_error_oom(err);
    }
    vl_event_init(&ev, quarantine ? VL_EV_QUARANTINE : VL_EV_RECOVERY, o->id);
    ev.outcome = repaired || quarantine ? "success" : "fail";
    ev.detail = detail;
    ev.outcome_detail = odetail;
    ev.version = o->version;
    ev.agents = agents;
    ev.nagents = 2;
    rc = vl_events_append(o->r, &ev, err);
    if (rc == VL_OK) {
        if (quarantine)
            o->s->quarantined++;
        else if (repaired)
            o->s->repaired++;
        else
            o->s->failed++;
        if (!repaired && !quarantine)
            o->failed = 1;
        if (o->o && o->o->on_action) {
            vl_repair_action a = {o->id, o->t->name, path, problem,
                                  repaired ? source : NULL, alg, expected, actual,
                                  repaired || quarantine, message};
            o->o->on_action(o->o->arg, &a);
        }
    }
    free(detail);
    free(odetail);
    return rc;
}

/* ---- the reference inventory ----------------------------------------- */

/* The first copy (primary first) holding a verified inventory of version
 * num, at its root or in its vN folder. */
static int take_reference(robj *o, struct copy *c, const char *prefix,
                          vl_inventory **parsed, const char *digest, vl_buf *side)
{
    o->ref = *parsed;
    *parsed = NULL;
    o->ref_b = c->b;
    memcpy(o->ref_digest, digest, VL_DIGEST_HEX_MAX);
    o->ref_side = *side;
    vl_buf_init(side, 0);
    o->ref_rel = *prefix ? vl_asprintf("%s/%s/" VL_INVENTORY_FILE, o->rel, prefix)
                         : vl_path_join(o->rel, VL_INVENTORY_FILE);
    o->ref_source = vl_strdup(c->name);
    return o->ref_rel && o->ref_source ? 0 : -1;
}

static int find_reference(robj *o, int num, vl_error *err)
{
    vl_buf side;
    char digest[VL_DIGEST_HEX_MAX];
    vl_inventory *parsed = NULL;
    int rc = VL_OK;
    vl_buf_init(&side, 4096);
    /* The primary is the authority: its own root inventory, when it
     * verifies, is its reference.  Otherwise other copies first (for a
     * replica the primary comes first of them): a copy's own version
     * folder vouches for its root only when no other copy can. */
    size_t first = o->t == &o->copies[0] ? o->ncopies + 1 : 0;
    if (first) {
        vl_error e = {0};
        if (vl_copy_read_inventory(o->t->b, o->rel, "", digest, &side, &parsed, &e) == VL_OK &&
            vl_inventory_head(parsed) == num && !strcmp(vl_inventory_id(parsed), o->id)) {
            if (take_reference(o, o->t, "", &parsed, digest, &side) != 0)
                rc = vl_error_oom(err);
            goto done;
        }
        if (e.status == VL_ESYS && e.sys_errno == ENOMEM) {
            rc = vl_error_set(err, VL_ESYS, "%s", e.msg);
            if (err)
                err->sys_errno = ENOMEM;
            goto done;
        }
        vl_inventory_free(parsed);
        parsed = NULL;
    }
    for (size_t k = 0; k <= o->ncopies && !o->ref; k++) {
        size_t i = k < o->ncopies ? k : (size_t)(o->t - o->copies);
        if (!o->copies[i].b || (k < o->ncopies && &o->copies[i] == o->t))
            continue;
        for (int where = 0; where < 2 && !o->ref; where++) {
            char vname[16];
            vl_error e = {0};
            snprintf(vname, sizeof vname, "v%d", num);
            const char *prefix = where ? vname : "";
            if (where && parsed) {
                /* zero-padded version names: ask the inventory we found */
                vl_inventory_version_name(parsed, num, vname);
            }
            vl_inventory_free(parsed);
            parsed = NULL;
            int prc = vl_copy_read_inventory(o->copies[i].b, o->rel, prefix, digest,
                                             &side, &parsed, &e);
            if (prc == VL_ESYS && e.sys_errno != ENOENT && e.sys_errno != ENOTDIR &&
                (e.sys_errno == 0 || e.sys_errno == ENOMEM)) {
                rc = vl_error_set(err, VL_ESYS, "%s", e.msg);
                goto done;
            }
            if (prc != VL_OK || vl_inventory_head(parsed) != num ||
                strcmp(vl_inventory_id(parsed), o->id) != 0)
                continue;
            if (take_reference(o, &o->copies[i], prefix, &parsed, digest, &side) != 0)
                rc = vl_error_oom(err);
        }
    }
done:
    vl_inventory_free(parsed);
    vl_buf_release(&side);
    return rc;
}

static void reference_free(robj *o)
{
    vl_inventory_free(o->ref);
    o->ref = NULL;
    vl_buf_release(&o->ref_side);
    free(o->ref_rel);
    o->ref_rel = NULL;
    o->ref_b = NULL;
    free(o->ref_source);
    o->ref_source = NULL;
    vl_pathset_free(o->expected);
    o->expected = NULL;
}

/* ---- restoring one file ----------------------------------------------- */

/* Move a verified copy (tmp, synced) over dst in the target and read it
 * back from the disk. */
static int install(robj *o, const char *tmp, const char *dst, vl_digest_alg alg,
                   const char *expected, vl_error *err)
{
    char again[VL_DIGEST_HEX_MAX];
    int rc;
    if ((rc = vl_fs_mkdirs_parent(dst, err)) != VL_OK)
        return rc;
    if (rename(tmp, dst) != 0)
        return vl_error_sys(err, "cannot move %s to %s", tmp, dst);
    if ((rc = vl_fs_fsync_parent(dst, err)) != VL_OK ||
        (rc = vl_copy_digest_from_disk(dst, alg, again, err)) != VL_OK)
        return rc;
    o->changed = 1;
    if (strcasecmp(again, expected) != 0)
        return vl_error_set(err, VL_ESYS, "%s: restored, but read back as %s instead "
                            "of %s", dst, again, expected);
    return VL_OK;
}

/* Put src's verified bytes of rel (relative to the object root) into the
 * target: copy into the target's transaction folder (verified), rename
 * over the damaged file, read back.  *from gets the source's name;
 * VL_FINDING when no copy is good. */
static int restore(robj *o, const char *path, vl_digest_alg alg,
                   const char *expected, const char **from, vl_error *err)
{
    char *src = vl_path_join(o->rel, path), *dst = NULL, *tmp = NULL;
    const char *root = vl_copy_root(o->r, o->t->name);
    int rc = VL_FINDING;
    *from = NULL;
    if (!src || !(dst = vl_asprintf("%s/%s/%s", root, o->rel, path))) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < o->ncopies && rc == VL_FINDING; i++) {
        struct copy *c = &o->copies[i];
        vl_error e = {0};
        if (c == o->t || !c->b)
            continue;
        free(tmp);
        if (!(tmp = vl_asprintf("%s/tmp-%u", o->txn, o->ntmp++))) {
            rc = vl_error_oom(err);
            goto done;
        }
        int crc = vl_copy_verified(c->b, src, tmp, alg, expected, NULL, NULL, 1, &e);
        if (crc == VL_OK) {
            *from = c->name;
            rc = VL_OK;
        } else if (crc == VL_ESYS && (e.sys_errno == 0 || e.sys_errno == ENOMEM ||
                                      e.sys_errno == ENOSPC)) {
            rc = vl_error_set(err, VL_ESYS, "%s", e.msg);
            if (err)
                err->sys_errno = e.sys_errno;
            goto done;
        }
    }
    if (rc == VL_OK)
        rc = install(o, tmp, dst, alg, expected, err);
done:
    if (tmp)
        unlink(tmp);
    free(src);
    free(dst);
    free(tmp);
    return rc;
}

/* ---- content ------------------------------------------------------------ */

struct content_ctx {
    robj *o;
    vl_error *err;
    int rc;
};

static int check_content(void *arg, const char *digest, const char *path)
{
    struct content_ctx *c = arg;
    robj *o = c->o;
    vl_digest_alg alg = vl_inventory_digest_alg(o->ref);
    char actual[VL_DIGEST_HEX_MAX] = "";
    char *rel = vl_path_join(o->rel, path);
    const char *problem = NULL, *from = NULL;
    vl_error e = {0};
    if (!rel) {
        c->rc = vl_error_oom(c->err);
        return 1;
    }
    if ((c->rc = vl_pathset_add(o->expected, path, c->err)) != VL_OK) {
        free(rel);
        return 1;
    }
    int drc = vl_copy_digest(o->t->b, rel, alg, actual, NULL, &e);
    free(rel);
    if (drc == VL_OK) {
        if (!strcasecmp(actual, digest))
            return 0;
        problem = "damaged";
    } else if (drc == VL_ESYS && (e.sys_errno == ENOENT || e.sys_errno == ENOTDIR)) {
        problem = "missing";
        actual[0] = '\0';
    } else if (drc == VL_ESYS && (e.sys_errno == 0 || e.sys_errno == ENOMEM)) {
        c->rc = vl_error_set(c->err, VL_ESYS, "%s", e.msg);
        return 1;
    } else {
        problem = "unreadable";
        actual[0] = '\0';
    }
    int rrc = restore(o, path, alg, digest, &from, &e);
    if (rrc != VL_OK && rrc != VL_FINDING) {
        if (c->err)
            *c->err = e;
        c->rc = rrc;
        return 1;
    }
    c->rc = act(o, path, problem, from, vl_digest_name(alg), digest,
                *actual ? actual : NULL, rrc == VL_OK,
                rrc == VL_OK ? NULL : "no copy holds the right bytes", c->err);
    return c->rc != VL_OK;
}

/* ---- inventories -------------------------------------------------------- */

/* The target's inventory pair at prefix ("" root, "v3") verifies and has
 * head num; otherwise it is rewritten from a copy whose pair does. */
static int fix_inventory(robj *o, const char *prefix, int num, vl_error *err)
{
    vl_buf side;
    vl_inventory *parsed = NULL;
    vl_error e = {0};
    char sname[40], digest[VL_DIGEST_HEX_MAX];
    char *inv_rel = NULL, *side_rel = NULL, *tmp = NULL, *dst = NULL;
    const char *from = NULL;
    vl_backend *src_b = NULL;
    int rc = VL_OK;
    vl_digest_alg alg = vl_inventory_digest_alg(o->ref);
    vl_buf_init(&side, 4096);
    snprintf(sname, sizeof sname, VL_INVENTORY_FILE ".%s", vl_digest_name(alg));
    char *dir = *prefix ? vl_path_join(o->rel, prefix) : vl_strdup(o->rel);
    if (!dir || !(inv_rel = vl_path_join(dir, VL_INVENTORY_FILE)) ||
        !(side_rel = vl_path_join(dir, sname))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_pathset_add(o->expected, inv_rel + strlen(o->rel) + 1, err)) != VL_OK ||
        (rc = vl_pathset_add(o->expected, side_rel + strlen(o->rel) + 1, err)) != VL_OK)
        goto done;
    int prc = vl_copy_read_inventory(o->t->b, o->rel, prefix, digest, &side, &parsed, &e);
    if (prc == VL_OK && vl_inventory_head(parsed) == num &&
        !strcmp(vl_inventory_id(parsed), o->id))
        goto done;
    if (prc == VL_ESYS && (e.sys_errno == 0 || e.sys_errno == ENOMEM)) {
        rc = vl_error_set(err, VL_ESYS, "%s", e.msg);
        goto done;
    }
    const char *problem = prc == VL_ESYS ? "missing" : "inventory";
    char *why = prc != VL_OK ? vl_strdup(e.msg)
                             : vl_asprintf("it is an inventory of v%d, not v%d",
                                           vl_inventory_head(parsed), num);
    /* A verified pair of the same version from another copy. */
    vl_inventory_free(parsed);
    parsed = NULL;
    for (size_t i = 0; i < o->ncopies && !from; i++) {
        struct copy *c = &o->copies[i];
        if (c == o->t || !c->b)
            continue;
        vl_error ce = {0};
        if (vl_copy_read_inventory(c->b, o->rel, prefix, digest, &side, &parsed,
                                   &ce) == VL_OK &&
            vl_inventory_head(parsed) == num && !strcmp(vl_inventory_id(parsed), o->id)) {
            from = c->name;
            src_b = c->b;
        }
        vl_inventory_free(parsed);
        parsed = NULL;
    }
    /* Otherwise the reference: a verified pair of this version found at a
     * root or in a version folder of any copy (this one's own vN too). */
    const char *src_rel = inv_rel, *src_digest = digest;
    const vl_buf *src_side = &side;
    if (!from && vl_inventory_head(o->ref) == num) {
        from = o->ref_source;
        src_b = o->ref_b;
        src_rel = o->ref_rel;
        src_digest = o->ref_digest;
        src_side = &o->ref_side;
    }
    /* The inventory is streamed into the target's transaction folder,
     * held to the digest its sidecar vouched for, and moved into place;
     * then its sidecar. */
    if (from) {
        if (!(tmp = vl_asprintf("%s/tmp-%u", o->txn, o->ntmp++)) ||
            !(dst = vl_asprintf("%s/%s", vl_copy_root(o->r, o->t->name), inv_rel))) {
            rc = vl_error_oom(err);
        } else if ((rc = vl_copy_verified(src_b, src_rel, tmp, alg, src_digest, NULL,
                                          NULL, 1, err)) == VL_OK &&
                   (rc = install(o, tmp, dst, alg, src_digest, err)) == VL_OK &&
                   (rc = vl_backend_write(o->t->b, side_rel, src_side->data,
                                          src_side->len, err)) == VL_OK) {
            o->changed = 1;
        }
        if (rc == VL_FINDING)   /* it changed since it was read: not ours to guess */
            rc = vl_error_set(err, VL_ESYS, "%s: %s", from, err->msg);
    }
    if (rc == VL_OK)
        rc = act(o, inv_rel + strlen(o->rel) + 1, problem, from, vl_digest_name(alg),
                 NULL, NULL, from != NULL, why ? why : "", err);
    free(why);
done:
    if (tmp)
        unlink(tmp);
    vl_inventory_free(parsed);
    vl_buf_release(&side);
    free(dir);
    free(inv_rel);
    free(side_rel);
    free(tmp);
    free(dst);
    return rc;
}

/* ---- the object's declaration ("0=ocfl_object_1.1") ------------------- */

struct decl_ctx {
    char *name;
};

static int find_decl(void *arg, const char *name, int kind, vl_error *err)
{
    struct decl_ctx *d = arg;
    (void)err;
    if (kind == VL_WALK_FILE && !strncmp(name, "0=", 2) && !d->name)
        d->name = vl_strdup(name);
    return 0;
}

/* The declaration the other copies agree on (the reference's copy first)
 * must be in the target byte for byte. */
static int fix_declaration(robj *o, vl_error *err)
{
    struct decl_ctx d = {NULL};
    vl_buf want, have;
    const char *from = NULL;
    char *rel = NULL;
    int rc = VL_OK;
    vl_buf_init(&want, 4096);
    vl_buf_init(&have, 4096);
    for (size_t i = 0; i < o->ncopies && !from; i++) {
        struct copy *c = &o->copies[i];
        vl_error e = {0};
        if (c == o->t || !c->b)
            continue;
        free(d.name);
        d.name = NULL;
        vl_buf_release(&want);
        if (vl_backend_list(c->b, o->rel, find_decl, &d, &e) != VL_OK || !d.name)
            continue;
        free(rel);
        if (!(rel = vl_path_join(o->rel, d.name))) {
            rc = vl_error_oom(err);
            goto done;
        }
        /* "0=ocfl_object_1.1" holds "ocfl_object_1.1\n" */
        if (vl_backend_read_all(c->b, rel, 4096, &want, &e) == VL_OK &&
            want.len == strlen(d.name) - 1 && !memcmp(want.data, d.name + 2, want.len - 1) &&
            want.data[want.len - 1] == '\n')
            from = c->name;
    }
    if (!from)
        goto done;
    if ((rc = vl_pathset_add(o->expected, d.name, err)) != VL_OK)
        goto done;
    vl_error e = {0};
    int hrc = vl_backend_read_all(o->t->b, rel, 4096, &have, &e);
    if (hrc == VL_OK && have.len == want.len && !memcmp(have.data, want.data, want.len))
        goto done;
    if (hrc == VL_ESYS && (e.sys_errno == 0 || e.sys_errno == ENOMEM)) {
        rc = vl_error_set(err, VL_ESYS, "%s", e.msg);
        goto done;
    }
    if ((rc = vl_backend_write(o->t->b, rel, want.data, want.len, err)) != VL_OK)
        goto done;
    o->changed = 1;
    rc = act(o, d.name, hrc == VL_OK ? "damaged" : "missing", from, NULL, NULL, NULL,
             1, NULL, err);
done:
    free(d.name);
    free(rel);
    vl_buf_release(&want);
    vl_buf_release(&have);
    return rc;
}

/* ---- files nobody listed ------------------------------------------------ */

struct extra_ctx {
    robj *o;
    char **paths;
    size_t n, cap;
    int oom;
};

static int note_file(void *arg, const char *rel, int kind,
                     const struct stat *st, vl_error *err)
{
    struct extra_ctx *x = arg;
    int known = 0, rc;
    (void)st;
    if (kind == VL_WALK_DIR)
        return 0;
    if ((rc = vl_pathset_has(x->o->expected, rel, &known, err)) != VL_OK)
        return rc;
    if (known || (!strncmp(rel, "0=", 2) && !strchr(rel, '/')) ||
        !strncmp(rel, "extensions/", 11))
        return 0;
    if (VL_GROW(x->paths, x->cap, x->n + 1, NULL) != VL_OK ||
        !(x->paths[x->n] = vl_strdup(rel))) {
        x->oom = 1;
        return 1;
    }
    x->n++;
    return 0;
}

/* Move one file into REPO/quarantine/COPY/OBJECT/PATH[.N]. */
static int quarantine(robj *o, const char *path, char **where, vl_error *err)
{
    const char *root = vl_copy_root(o->r, o->t->name);
    char *from = vl_asprintf("%s/%s/%s", root, o->rel, path);
    char *to = NULL;
    int rc = VL_OK;
    for (int n = 0; from && n < 1000 && !to; n++) {
        to = n ? vl_asprintf("%s/" VL_QUARANTINE_DIR "/%s/%s/%s.%d", o->r->dir,
                             o->t->name, o->rel, path, n)
               : vl_asprintf("%s/" VL_QUARANTINE_DIR "/%s/%s/%s", o->r->dir,
                             o->t->name, o->rel, path);
        if (to && vl_fs_exists(to)) {
            free(to);
            to = NULL;
        }
    }
    if (!from || !to) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs_parent(to, err)) != VL_OK)
        goto done;
    if (rename(from, to) != 0) {
        if (errno != EXDEV) {
            rc = vl_error_sys(err, "cannot move %s to %s", from, to);
            goto done;
        }
        /* another filesystem: copy, sync, then remove */
        if ((rc = vl_fs_copy_file(from, to, err)) != VL_OK)
            goto done;
        if (unlink(from) != 0) {
            rc = vl_error_sys(err, "cannot remove %s", from);
            goto done;
        }
    }
    if ((rc = vl_fs_fsync_parent(to, err)) == VL_OK &&
        (rc = vl_fs_fsync_parent(from, err)) == VL_OK) {
        /* no empty folders left in the object */
        char *parent = vl_path_dirname(path);
        if (parent && strcmp(parent, ".") && *parent) {
            char *prel = vl_path_join(o->rel, parent);
            if (prel) {
                char *p = prel;
                size_t keep = strlen(o->rel);
                while (strlen(p) > keep) {
                    char *abs = vl_path_join(root, p);
                    int gone = abs && rmdir(abs) == 0;
                    free(abs);
                    if (!gone)
                        break;
                    char *slash = strrchr(p, '/');
                    if (!slash)
                        break;
                    *slash = '\0';
                }
                free(prel);
            }
        }
        free(parent);
        o->changed = 1;
        *where = to;
        to = NULL;
    }
done:
    free(from);
    free(to);
    return rc;
}

static int fix_extras(robj *o, vl_error *err)
{
    struct extra_ctx x = {o, NULL, 0, 0, 0};
    char *dir = vl_asprintf("%s/%s", vl_copy_root(o->r, o->t->name), o->rel);
    int rc = VL_OK;
    if (!dir)
        return vl_error_oom(err);
    if ((rc = vl_tree_walk(dir, 0, note_file, &x, err)) != VL_OK)
        goto done;
    if (x.oom) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < x.n && rc == VL_OK; i++) {
        char *where = NULL;
        if ((rc = quarantine(o, x.paths[i], &where, err)) == VL_OK)
            rc = act(o, x.paths[i], "unexpected", NULL, NULL, NULL, NULL, 0, where, err);
        free(where);
    }
done:
    for (size_t i = 0; i < x.n; i++)
        free(x.paths[i]);
    free(x.paths);
    free(dir);
    return rc;
}

/* ---- one copy of one object ------------------------------------------- */

struct version_of {
    const char *copy;
    int version;
};

static int take_version(void *arg, const vl_copy_row *row)
{
    struct version_of *vo = arg;
    if (!strcmp(row->copy, vo->copy))
        vo->version = row->version;
    return 0;
}

static int repair_copy(robj *o, struct copy *c, int head, vl_error *err)
{
    int rc = VL_OK, kind = 0;
    char vname[16];
    if (!c->b->atomic_put)
        return VL_OK;   /* an object store: read from, never repaired (vl_repair) */
    o->t = c;
    o->changed = o->failed = 0;
    o->version = head;
    if (c != &o->copies[0]) {
        /* A replica holds the version replication gave it. */
        struct version_of vo = {c->name, 0};
        if ((rc = vl_catalog_copies(vl_repo_catalog(o->r), o->id, take_version, &vo,
                                    err)) != VL_OK)
            return rc;
        if ((rc = vl_backend_stat(c->b, o->rel, &kind, NULL, err)) != VL_OK)
            return rc;
        if (kind == 0)
            return VL_OK;   /* no copy there yet: replicate's work */
        vl_buf side;
        vl_inventory *parsed = NULL;
        vl_error e = {0};
        vl_buf_init(&side, 4096);
        if (vl_copy_read_inventory(c->b, o->rel, "", NULL, &side, &parsed, &e) == VL_OK)
            o->version = vl_inventory_head(parsed);
        else if (vo.version > 0)
            o->version = vo.version;
        vl_inventory_free(parsed);
        vl_buf_release(&side);
        if (o->version > head)
            o->version = head;
    }
    if ((rc = find_reference(o, o->version, err)) != VL_OK)
        goto done;
    if (!o->ref) {
        rc = act(o, VL_INVENTORY_FILE, "inventory", NULL, NULL, NULL, NULL, 0,
                 "no copy holds an inventory of this version that verifies", err);
        goto done;
    }
    if (c != &o->copies[0] && strcmp(o->ref_source, c->name)) {
        /* A replica whose own inventory of that version verifies but is
         * not the reference's has diverged: repair never writes over it. */
        vl_buf side;
        char digest[VL_DIGEST_HEX_MAX];
        vl_inventory *parsed = NULL;
        vl_error e = {0};
        int diverged = 0;
        vl_buf_init(&side, 4096);
        if (vl_copy_read_inventory(c->b, o->rel, "", digest, &side, &parsed, &e) == VL_OK &&
            strcasecmp(digest, o->ref_digest) != 0)
            diverged = 1;
        vl_inventory_free(parsed);
        vl_buf_release(&side);
        if (diverged) {
            rc = act(o, VL_INVENTORY_FILE, "diverged", NULL, NULL, NULL, NULL, 0,
                     "this copy's inventory verifies but differs from the primary's "
                     "of the same version; it was left as it is", err);
            goto done;
        }
    }
    if ((rc = vl_pathset_new(&o->expected, err)) != VL_OK)
        goto done;
    json_t *ij = json_pack("{s:s,s:s,s:i}", "id", o->id, "object", o->rel,
                           "version", o->version);
    char *intent = ij ? vl_json_dumps(ij, JSON_COMPACT) : NULL;
    json_decref(ij);
    if (!intent) {
        rc = vl_error_oom(err);
        goto done;
    }
    rc = vl_copy_txn_dir(o->r, c->name, o->id, intent, &o->txn, err);
    free(intent);
    if (rc != VL_OK)
        goto done;
    struct content_ctx cc = {o, err, VL_OK};
    if (vl_inventory_manifest_foreach(o->ref, check_content, &cc) != 0 && cc.rc == VL_OK)
        cc.rc = vl_error_set(err, VL_ESYS, "%s: cannot read its inventory's index", o->id);
    if ((rc = cc.rc) != VL_OK)
        goto done;
    if ((rc = fix_declaration(o, err)) != VL_OK)
        goto done;
    for (int v = 1; v <= o->version && rc == VL_OK; v++) {
        vl_inventory_version_name(o->ref, v, vname);
        rc = fix_inventory(o, vname, v, err);
    }
    if (rc == VL_OK)
        rc = fix_inventory(o, "", o->version, err);
    if (rc == VL_OK)
        rc = fix_extras(o, err);
    if (rc == VL_OK && o->changed && c == &o->copies[0])
        rc = vl_catalog_sync_object(vl_repo_catalog(o->r), c->b, o->rel, o->ref, err);
done:
    if (o->txn) {
        vl_fs_rmtree(o->txn, NULL);
        free(o->txn);
        o->txn = NULL;
    }
    reference_free(o);
    return rc;
}

static int take_head(void *arg, const vl_catalog_object *co)
{
    *(int *)arg = co->head;
    return 0;
}

static int repair_object(vl_repo *r, const char *id, struct copy *copies,
                         size_t ncopies, const vl_repair_options *opt,
                         vl_repair_summary *s, vl_error *err)
{
    robj o = {.r = r, .id = id, .copies = copies, .ncopies = ncopies, .o = opt,
              .s = s};
    vl_lock *lock = NULL;
    vl_error lerr = {0};
    int rc = VL_OK, head = 0;
    vl_buf_init(&o.ref_side, 0);
    if (vl_lock_object(r, id, VL_COPY_LOCK_WAIT, &lock, &lerr) != VL_OK) {
        if (lerr.reason != VL_REASON_LOCKED) {
            if (err)
                *err = lerr;
            return lerr.status;
        }
        s->skipped++;
        return VL_OK;
    }
    if (!(o.rel = vl_repo_object_path(r, id))) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* The head the primary should be at: the catalog's (it was committed
     * there with the version), or when the catalog does not know the
     * object, the highest that verifies in any copy. */
    int cat_head = 0;
    rc = vl_catalog_get_object(vl_repo_catalog(r), id, take_head, &cat_head, err);
    if (rc != VL_OK && rc != VL_EINPUT)
        goto done;
    vl_error_clear(err);
    {
        vl_buf side;
        vl_inventory *parsed = NULL;
        vl_error e = {0};
        vl_buf_init(&side, 4096);
        /* the highest verified head among the copies, but never past the
         * catalog's, which is what the primary committed */
        for (size_t i = 0; i < ncopies; i++) {
            if (!copies[i].b)
                continue;
            if (vl_copy_read_inventory(copies[i].b, o.rel, "", NULL, &side, &parsed,
                                       &e) == VL_OK &&
                !strcmp(vl_inventory_id(parsed), id) && vl_inventory_head(parsed) > head)
                head = vl_inventory_head(parsed);
            vl_inventory_free(parsed);
            parsed = NULL;
        }
        vl_buf_release(&side);
    }
    if (cat_head > 0 && (head == 0 || head > cat_head))
        head = cat_head;
    if (head == 0) {
        o.t = &copies[0];
        rc = act(&o, VL_INVENTORY_FILE, "inventory", NULL, NULL, NULL, NULL, 0,
                 "no copy holds an inventory of this object that verifies", err);
        goto done;
    }
    rc = VL_OK;
    s->objects++;
    for (size_t i = 0; i < ncopies && rc == VL_OK; i++) {
        if (!copies[i].b)
            continue;
        if (opt && opt->copy && strcmp(opt->copy, copies[i].name))
            continue;
        rc = repair_copy(&o, &copies[i], head, err);
    }
done:
    vl_lock_release(lock);
    free(o.rel);
    return rc;
}

static int add_copy(void *arg, const vl_replica_info *ri)
{
    struct {
        struct copy *v;
        size_t n, cap;
        int oom;
    } *cl = arg;
    if (VL_GROW(cl->v, cl->cap, cl->n + 1, NULL) != VL_OK ||
        !(cl->v[cl->n].name = vl_strdup(ri->name))) {
        cl->oom = 1;
        return 1;
    }
    cl->v[cl->n].b = NULL;
    cl->v[cl->n].why = NULL;
    cl->n++;
    return 0;
}

struct idlist {
    char **v;
    size_t n, cap;
    int oom;
};

static int add_id(void *arg, const vl_catalog_object *co)
{
    struct idlist *l = arg;
    if (VL_GROW(l->v, l->cap, l->n + 1, NULL) != VL_OK ||
        !(l->v[l->n] = vl_strdup(co->id))) {
        l->oom = 1;
        return 1;
    }
    l->n++;
    return 0;
}

int vl_repair(vl_repo *r, const char *const *ids, size_t n,
              const vl_repair_options *o, vl_repair_summary *s, vl_error *err)
{
    struct {
        struct copy *v;
        size_t n, cap;
        int oom;
    } cl = {0};
    struct idlist idl = {0};
    vl_repair_summary local = {0};
    int rc = VL_OK;
    if (!s)
        s = &local;
    memset(s, 0, sizeof *s);
    vl_replica_info prim = {VL_PRIMARY_COPY, NULL};
    if (add_copy(&cl, &prim) != 0 || vl_replica_list(r, add_copy, &cl, err) != VL_OK ||
        cl.oom) {
        rc = err && err->msg[0] ? VL_ESYS : vl_error_oom(err);
        goto done;
    }
    if (cl.n < 2) {
        rc = vl_error_set(err, VL_EINPUT, "the repository has no replicas to repair "
                          "from; add one with 'vellum replica add NAME FOLDER'");
        goto done;
    }
    if (o && o->copy && !vl_copy_root(r, o->copy)) {
        rc = vl_error_set(err, VL_EINPUT, "no replica named \"%s\"", o->copy);
        goto done;
    }
    for (size_t i = 0; i < cl.n; i++) {
        vl_error e = {0};
        if (vl_copy_backend(r, cl.v[i].name, &cl.v[i].b, &e) != VL_OK) {
            cl.v[i].b = NULL;
            if (e.status != VL_ESYS || e.sys_errno == ENOMEM) {
                rc = e.status;
                if (err)
                    *err = e;
                goto done;
            }
            cl.v[i].why = vl_strdup(e.msg);
            s->unreachable++;
            if (o && o->on_unreachable)
                o->on_unreachable(o->arg, cl.v[i].name, e.msg);
        } else if (!cl.v[i].b->atomic_put && o && o->on_source_only) {
            /* Repairs are written through a transaction folder on the
             * copy's own filesystem; an S3 copy is a source only. */
            char why[512];
            snprintf(why, sizeof why, "%s is on S3: repair restores folder copies "
                     "only", 
                     vl_backend_root(cl.v[i].b));
            o->on_source_only(o->arg, cl.v[i].name, why);
        }
    }
    /* What a killed replicate or repair left on a replica goes first (a
     * live one's folder is locked and left alone). */
    size_t settled = 0;
    if ((rc = vl_replicas_recover(r, &settled, err)) != VL_OK)
        goto done;
    if (n == 0) {
        rc = vl_catalog_objects(vl_repo_catalog(r), add_id, &idl, err);
        if (idl.oom)
            rc = vl_error_oom(err);
        if (rc != VL_OK)
            goto done;
        for (size_t i = 0; i < idl.n && rc == VL_OK; i++)
            rc = repair_object(r, idl.v[i], cl.v, cl.n, o, s, err);
    } else {
        for (size_t i = 0; i < n && rc == VL_OK; i++)
            rc = repair_object(r, ids[i], cl.v, cl.n, o, s, err);
    }
    if (rc == VL_OK && s->failed)
        rc = VL_FINDING;
done:
    for (size_t i = 0; i < cl.n; i++) {
        free(cl.v[i].name);
        free(cl.v[i].why);
    }
    free(cl.v);
    for (size_t i = 0; i < idl.n; i++)
        free(idl.v[i]);
    free(idl.v);
    return rc;
}
