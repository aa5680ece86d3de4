/* Replication: bring each replica's copy of an object to the primary's
 * head, one version at a time, in the order a deposit commits:
 *   .vellum-txn-<key>-<uuid>/intent.json   names the object (for recover)
 *   .vellum-txn-.../object/vN/...          the version, built on the
 *                                          replica's filesystem, each file
 *                                          verified against the inventory
 *                                          as it is copied and again once
 *                                          it is on the replica's disk
 *   rename into the replica's object; root inventory, then sidecar.
 * The replica is at a real version whenever the process stops.  A replica
 * that is ahead, has diverged or does not verify is reported and left as
 * it is: only repair writes over a copy, and only with verified bytes. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backend_private.h"
#include "catalog_private.h"
#include "replica_private.h"
#include "repo_internal.h"
#include "vl_json.h"

/* ---- shared with repair ------------------------------------------------ */

int vl_copy_verified(vl_backend *b, const char *src_rel, const char *dst,
                     vl_digest_alg alg, const char *expected,
                     char actual[VL_DIGEST_HEX_MAX], uint64_t *size,
                     int do_sync, vl_error *err)
{
    vl_reader *rd = NULL;
    vl_digest_result res;
    int fd = -1, rc;
    if ((rc = vl_fs_mkdirs_parent(dst, err)) != VL_OK ||
        (rc = vl_backend_open(b, src_rel, &rd, err)) != VL_OK)
        goto done;
    fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0 && errno == EEXIST && unlink(dst) == 0)   /* a killed run's */
        fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot create %s", dst);
        goto done;
    }
    if ((rc = vl_digest_pump(vl_reader_read, rd, fd, VL_DIGEST_BIT(alg), NULL,
                             NULL, &res, size, err)) != VL_OK)
        goto done;
    if (do_sync && fsync(fd) != 0) {
        rc = vl_error_sys(err, "cannot sync %s", dst);
        goto done;
    }
    if (actual)
        memcpy(actual, res.hex[alg], VL_DIGEST_HEX_MAX);
    if (expected && strcasecmp(res.hex[alg], expected) != 0)
        rc = vl_error_set(err, VL_FINDING, "%s/%s does not match its %s digest: "
                          "expected %s, got %s", vl_backend_root(b), src_rel,
                          vl_digest_name(alg), expected, res.hex[alg]);
done:
    if (fd >= 0)
        close(fd);
    if (rc != VL_OK && fd >= 0)
        unlink(dst);
    vl_reader_close(rd);
    return rc;
}

int vl_copy_digest_from_disk(const char *path, vl_digest_alg alg,
                             char actual[VL_DIGEST_HEX_MAX], vl_error *err)
{
    vl_digest_result res;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0)
        return vl_error_sys(err, "cannot open %s", path);
    /* Clean pages only: the file was synced, so they all go. */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    rc = vl_digest_fd(fd, -1, VL_DIGEST_BIT(alg), &res, NULL, err);
    close(fd);
    if (rc == VL_OK)
        memcpy(actual, res.hex[alg], VL_DIGEST_HEX_MAX);
    return rc;
}

int vl_copy_digest(vl_backend *b, const char *rel, vl_digest_alg alg,
                   char actual[VL_DIGEST_HEX_MAX], uint64_t *size,
                   vl_error *err)
{
    vl_reader *rd = NULL;
    vl_digest_result res;
    int rc = vl_backend_open(b, rel, &rd, err);
    if (rc == VL_OK)
        rc = vl_digest_pump(vl_reader_read, rd, -1, VL_DIGEST_BIT(alg), NULL,
                            NULL, &res, size, err);
    if (rc == VL_OK)
        memcpy(actual, res.hex[alg], VL_DIGEST_HEX_MAX);
    vl_reader_close(rd);
    return rc;
}

int vl_copy_read_inventory(vl_backend *b, const char *object_rel,
                           const char *prefix, char inv_digest[VL_DIGEST_HEX_MAX],
                           vl_buf *side_bytes, vl_inventory **inv_out,
                           vl_error *err)
{
    char *dir = *prefix ? vl_path_join(object_rel, prefix) : vl_strdup(object_rel);
    char *inv_rel = dir ? vl_path_join(dir, VL_INVENTORY_FILE) : NULL;
    char *side_rel = NULL;
    vl_inventory *inv = NULL;
    char hex[VL_DIGEST_HEX_MAX];
    int rc;
    /* the read below starts the buffer afresh */
    vl_buf_release(side_bytes);
    if (!inv_rel) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_inventory_load(b, inv_rel, &inv, hex, err)) != VL_OK) {
        /* damaged bytes are a finding; running short of memory is not */
        if (rc != VL_ESYS)
            rc = vl_error_set(err, VL_FINDING, "%s cannot be read as an inventory (%s)",
                              inv_rel, err->msg);
        goto done;
    }
    vl_digest_alg alg = vl_inventory_digest_alg(inv);
    if (!(side_rel = vl_asprintf("%s.%s", inv_rel, vl_digest_name(alg)))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_read_all(b, side_rel, 4096, side_bytes, err)) != VL_OK) {
        if (rc == VL_ESYS && err->sys_errno == ENOENT)
            rc = vl_error_set(err, VL_FINDING, "%s is missing", side_rel);
        goto done;
    }
    size_t hl = strlen(hex);
    if (side_bytes->len < hl || strncasecmp(side_bytes->data, hex, hl) != 0 ||
        (side_bytes->len > hl && side_bytes->data[hl] != ' ' &&
         side_bytes->data[hl] != '\t'))
        rc = vl_error_set(err, VL_FINDING, "%s does not match its sidecar %s",
                          inv_rel, vl_path_basename(side_rel));
    else if (inv_digest)
        memcpy(inv_digest, hex, VL_DIGEST_HEX_MAX);
done:
    if (rc == VL_OK && inv_out)
        *inv_out = inv;
    else
        vl_inventory_free(inv);
    free(dir);
    free(inv_rel);
    free(side_rel);
    return rc;
}

/* ---- one version onto one replica ------------------------------------- */

struct item {
    char *src;      /* relative to the primary's storage root */
    char *dst;      /* local path in the replica's transaction folder */
    const char *digest;
};

/* Files are copied (and later read back) a batch at a time, so that
 * memory does not grow with the version's file count. */
#define COPY_BATCH 4096

struct version_copy {
    vl_repo *r;
    vl_backend *primary;
    vl_digest_alg alg;
    struct item *items;    /* the batch in hand */
    size_t n, cap;
    size_t files;          /* every batch's */
    uint64_t bytes;
    pthread_mutex_t mu;
};

static void items_clear(struct version_copy *vc)
{
    for (size_t i = 0; i < vc->n; i++) {
        free(vc->items[i].src);
        free(vc->items[i].dst);
        free((char *)vc->items[i].digest);
    }
    vc->n = 0;
}

static int copy_item(void *arg, size_t i, int worker, vl_error *err)
{
    struct version_copy *vc = arg;
    struct item *it = &vc->items[i];
    uint64_t size = 0;
    (void)worker;
    int rc = vl_copy_verified(vc->primary, it->src, it->dst, vc->alg, it->digest,
                              NULL, &size, 0, err);
    if (rc == VL_FINDING) {
        return vl_error_set(err, VL_FINDING, "the primary's copy of %s does not "
                            "verify (%s); run 'vellum repair'", it->src, err->msg);
    }
    if (rc != VL_OK)
        return rc;
    pthread_mutex_lock(&vc->mu);
    vc->bytes += size;
    pthread_mutex_unlock(&vc->mu);
    return VL_OK;
}

/* Once synced, each file is read back from the replica's disk: what the
 * inventory will vouch for is what is there, not what was sent. */
static int verify_item(void *arg, size_t i, int worker, vl_error *err)
{
    struct version_copy *vc = arg;
    struct item *it = &vc->items[i];
    char again[VL_DIGEST_HEX_MAX];
    (void)worker;
    int rc = vl_copy_digest_from_disk(it->dst, vc->alg, again, err);
    if (rc == VL_OK && strcasecmp(again, it->digest) != 0)
        rc = vl_error_set(err, VL_ESYS, "%s: written to the replica, read back "
                          "as %s instead of %s", it->dst, again, it->digest);
    return rc;
}

struct collect_ctx {
    struct version_copy *vc;
    const char *object_rel;
    const char *prefix;      /* "v3/" */
    const char *build;       /* local folder standing for the object root */
    vl_pool_fn work;         /* copy_item or verify_item, run on each batch */
    int oom;
    int rc;
    vl_error *err;
};

static int run_batch(struct collect_ctx *c)
{
    struct version_copy *vc = c->vc;
    int rc = vc->n ? vl_pool_run(vc->n, 0, c->work, vc, c->err) : VL_OK;
    vc->files += vc->n;
    items_clear(vc);
    c->rc = rc;
    return rc != VL_OK;
}

static int collect_content(void *arg, const char *digest, const char *path)
{
    struct collect_ctx *c = arg;
    struct version_copy *vc = c->vc;
    if (strncmp(path, c->prefix, strlen(c->prefix)))
        return 0;
    if (VL_GROW(vc->items, vc->cap, vc->n + 1, NULL) != VL_OK) {
        c->oom = 1;
        return 1;
    }
    struct item *it = &vc->items[vc->n];
    it->src = vl_path_join(c->object_rel, path);
    it->dst = vl_path_join(c->build, path);
    it->digest = vl_strdup(digest); /* the inventory's lasts only for the call */
    if (!it->src || !it->dst || !it->digest) {
        free(it->src);
        free(it->dst);
        free((char *)it->digest);
        c->oom = 1;
        return 1;
    }
    vc->n++;
    return vc->n == COPY_BATCH ? run_batch(c) : 0;
}

/* Every content file of the version, through c->work in batches. */
static int each_content(struct collect_ctx *c, vl_inventory *vinv)
{
    c->oom = 0;
    c->rc = VL_OK;
    c->vc->files = 0;
    if (vl_inventory_manifest_foreach(vinv, collect_content, c) != 0 && c->rc == VL_OK)
        c->oom = 1;
    if (!c->oom && c->rc == VL_OK)
        run_batch(c);
    items_clear(c->vc);
    if (c->oom)
        return vl_error_oom(c->err);
    return c->rc;
}

/* The object's declaration file ("0=ocfl_object_1.1"). */
struct namaste_ctx {
    char *name;
};

static int find_namaste(void *arg, const char *name, int kind, vl_error *err)
{
    struct namaste_ctx *c = arg;
    (void)err;
    if (kind == VL_WALK_FILE && !strncmp(name, "0=", 2) && !c->name)
        c->name = vl_strdup(name);
    return 0;
}

typedef struct pair {
    vl_repo *r;
    const char *id;
    const char *object_rel;
    const vl_inventory *pinv;   /* primary's head */
    const char *replica;
    vl_backend *b;
    uint64_t files, bytes;
} pair;

static int copy_small(vl_backend *from, const char *rel, const char *dst,
                      vl_error *err)
{
    vl_buf buf;
    vl_buf_init(&buf, 4096);   /* a declaration file */
    int rc = vl_backend_read_all(from, rel, 4096, &buf, err);
    if (rc == VL_OK)
        rc = vl_fs_mkdirs_parent(dst, err);
    if (rc == VL_OK)
        rc = vl_fs_write_atomic_readonly(dst, buf.data, buf.len, err);
    vl_buf_release(&buf);
    return rc;
}

/* Version num of the object onto the replica (which is at num - 1). */
static int replicate_version(pair *p, int num, vl_error *err)
{
    struct version_copy vc = {.r = p->r, .primary = vl_repo_backend(p->r),
                              .alg = vl_inventory_digest_alg(p->pinv)};
    struct namaste_ctx nc = {NULL};
    char vname[16], prefix[20], sname[40];
    char *txn = NULL, *build = NULL, *intent = NULL, *vsrc = NULL, *vdst = NULL;
    char *from = NULL, *to = NULL, *side_text = NULL;
    char inv_hex[VL_DIGEST_HEX_MAX];
    vl_buf side;
    vl_inventory *vinv = NULL;
    int rc;
    pthread_mutex_init(&vc.mu, NULL);
    vl_buf_init(&side, 4096);
    vl_inventory_version_name(p->pinv, num, vname);
    snprintf(prefix, sizeof prefix, "%s/", vname);
    snprintf(sname, sizeof sname, VL_INVENTORY_FILE ".%s", vl_digest_name(vc.alg));
    /* The version's own inventory on the primary must verify: it is what
     * becomes the replica's root inventory. */
    rc = vl_copy_read_inventory(vc.primary, p->object_rel, vname, inv_hex, &side,
                                &vinv, err);
    if (rc != VL_OK) {
        if (rc == VL_FINDING || (rc == VL_ESYS && err->sys_errno == ENOENT))
            rc = vl_error_set(err, VL_FINDING, "the primary's %s inventory does not "
                              "verify (%s); run 'vellum repair %s'", vname, err->msg,
                              p->id);
        goto done;
    }
    json_t *ij = json_pack("{s:s,s:s,s:i,s:s}", "id", p->id, "object",
                           p->object_rel, "version", num, "replica", p->replica);
    intent = ij ? vl_json_dumps(ij, JSON_COMPACT) : NULL;
    json_decref(ij);
    if (!intent) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_copy_txn_dir(p->r, p->replica, p->id, intent, &txn, err)) != VL_OK)
        goto done;
    if (!(build = vl_path_join(txn, "object"))) {
        rc = vl_error_oom(err);
        goto done;
    }
    struct collect_ctx cc = {&vc, p->object_rel, prefix, build, copy_item, 0,
                             VL_OK, err};
    if ((rc = each_content(&cc, vinv)) != VL_OK)
        goto done;
    /* The version's inventory and sidecar, byte for byte: the inventory
     * streamed again and held to the digest its sidecar vouched for. */
    if (!(vsrc = vl_asprintf("%s/%s/" VL_INVENTORY_FILE, p->object_rel, vname)) ||
        !(vdst = vl_path_join(build, vname)) ||
        !(from = vl_asprintf("%s/" VL_INVENTORY_FILE, vdst)) ||
        !(to = vl_asprintf("%s/%s", vdst, sname))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs(vdst, err)) != VL_OK)
        goto done;
    if ((rc = vl_copy_verified(vc.primary, vsrc, from, vl_inventory_digest_alg(vinv),
                               inv_hex, NULL, NULL, 0, err)) != VL_OK) {
        if (rc == VL_FINDING)
            rc = vl_error_set(err, VL_FINDING, "the primary's %s inventory changed "
                              "while it was copied (%s)", vname, err->msg);
        goto done;
    }
    if ((rc = vl_fs_write_atomic_readonly(to, side.data, side.len, err)) != VL_OK)
        goto done;
    if (num == 1) {
        /* A new object moves in whole, with its declaration. */
        if ((rc = vl_backend_list(vc.primary, p->object_rel, find_namaste, &nc,
                                  err)) != VL_OK)
            goto done;
        if (!nc.name) {
            rc = vl_error_set(err, VL_FINDING, "the primary's object %s has no "
                              "declaration file; run 'vellum repair %s'",
                              p->object_rel, p->id);
            goto done;
        }
        char *nsrc = vl_path_join(p->object_rel, nc.name);
        char *ndst = vl_path_join(build, nc.name);
        rc = nsrc && ndst ? copy_small(vc.primary, nsrc, ndst, err) : vl_error_oom(err);
        free(nsrc);
        free(ndst);
        if (rc != VL_OK)
            goto done;
        /* ... and its root inventory: one rename makes it whole. */
        char *rinv = vl_path_join(build, VL_INVENTORY_FILE);
        char *rside = vl_path_join(build, sname);
        if (!rinv || !rside)
            rc = vl_error_oom(err);
        else if ((rc = vl_fs_copy_file_readonly(from, rinv, err)) == VL_OK)
            rc = vl_fs_write_atomic_readonly(rside, side.data, side.len, err);
        free(rinv);
        free(rside);
        if (rc != VL_OK)
            goto done;
    }
    cc.work = verify_item;
    if ((rc = vl_fs_syncfs(build, err)) != VL_OK || (rc = each_content(&cc, vinv)) != VL_OK)
        goto done;
    if (num == 1) {
        if ((rc = vl_backend_put(p->b, build, p->object_rel, err)) != VL_OK)
            goto done;
    } else {
        char *rel = vl_path_join(p->object_rel, vname);
        rc = rel ? vl_backend_put(p->b, vdst, rel, err) : vl_error_oom(err);
        free(rel);
        if (rc != VL_OK)
            goto done;
    }
    if (num == 1)
        goto copied;
    char *vinv_rel = vl_path_join(vname, VL_INVENTORY_FILE);
    if (!(side_text = vl_strndup(side.data, side.len)) || !vinv_rel) {
        free(vinv_rel);
        rc = vl_error_oom(err);
        goto done;
    }
    rc = vl_backend_commit_inventory_copy(p->b, p->object_rel, vinv_rel, sname,
                                          side_text, err);
    free(vinv_rel);
    if (rc != VL_OK)
        goto done;
copied:
    p->files += vc.files;
    p->bytes += vc.bytes;
done:
    if (txn)
        vl_fs_rmtree(txn, NULL);
    items_clear(&vc);
    free(vc.items);
    pthread_mutex_destroy(&vc.mu);
    vl_inventory_free(vinv);
    vl_buf_release(&side);
    free(nc.name);
    free(txn);
    free(build);
    free(intent);
    free(vsrc);
    free(vdst);
    free(from);
    free(to);
    free(side_text);
    return rc;
}

/* ---- one object onto one replica -------------------------------------- */

const char *vl_repl_state_name(vl_repl_state s)
{
    switch (s) {
    case VL_REPL_CURRENT: return "current";
    case VL_REPL_UPDATED: return "current";
    case VL_REPL_AHEAD: return "ahead";
    case VL_REPL_DIVERGED: return "diverged";
    case VL_REPL_DAMAGED: return "damaged";
    case VL_REPL_SKIPPED: return "skipped";
    }
    return "?";
}

/* Where the replica stands: its head (0 = no copy), or a refusal. */
static int replica_state(pair *p, int *head, vl_repl_state *state, char **why,
                         vl_error *err)
{
    char rinv[VL_DIGEST_HEX_MAX], pinv[VL_DIGEST_HEX_MAX];
    vl_buf rside, pside;
    vl_inventory *inv = NULL;
    int rc, kind = 0;
    char vname[16];
    vl_buf_init(&rside, 4096);
    vl_buf_init(&pside, 4096);
    *head = 0;
    *why = NULL;
    if ((rc = vl_backend_stat(p->b, p->object_rel, &kind, NULL, err)) != VL_OK)
        goto done;
    if (kind == 0)
        goto done;
    rc = vl_copy_read_inventory(p->b, p->object_rel, "", rinv, &rside, &inv, err);
    if (rc == VL_FINDING || (rc == VL_ESYS && err->sys_errno == ENOENT)) {
        *state = VL_REPL_DAMAGED;
        *why = vl_asprintf("its copy's inventory does not verify (%s); run "
                           "'vellum repair %s'", err->msg, p->id);
        vl_error_clear(err);
        rc = VL_OK;
        goto done;
    }
    if (rc != VL_OK)
        goto done;
    *head = vl_inventory_head(inv);
    if (strcmp(vl_inventory_id(inv), p->id) != 0) {
        *state = VL_REPL_DIVERGED;
        *why = vl_asprintf("%s holds object \"%s\", not this one", p->object_rel,
                           vl_inventory_id(inv));
        goto done;
    }
    if (*head > vl_inventory_head(p->pinv)) {
        *state = VL_REPL_AHEAD;
        *why = vl_asprintf("its copy is at v%d, ahead of the primary's v%d; it was "
                           "left as it is", *head, vl_inventory_head(p->pinv));
        goto done;
    }
    /* Every version inventory is the root inventory of its day: the
     * replica's root must equal the primary's copy of that version's. */
    vl_inventory_version_name(p->pinv, *head, vname);
    rc = vl_copy_read_inventory(vl_repo_backend(p->r), p->object_rel, vname, pinv,
                                &pside, NULL, err);
    if (rc == VL_FINDING || (rc == VL_ESYS && err->sys_errno == ENOENT)) {
        *state = VL_REPL_DAMAGED;
        *why = vl_asprintf("the primary's %s inventory does not verify (%s); run "
                           "'vellum repair %s'", vname, err->msg, p->id);
        vl_error_clear(err);
        rc = VL_OK;
        goto done;
    }
    if (rc != VL_OK)
        goto done;
    if (strcasecmp(pinv, rinv) != 0) {
        *state = VL_REPL_DIVERGED;
        *why = vl_asprintf("its copy's v%d differs from the primary's v%d; it was "
                           "left as it is", *head, *head);
    }
done:
    if (rc == VL_OK && !*why)
        *state = *head == vl_inventory_head(p->pinv) ? VL_REPL_CURRENT : VL_REPL_UPDATED;
    if (rc == VL_OK && !*why && (*state == VL_REPL_DAMAGED || *state == VL_REPL_DIVERGED ||
                                 *state == VL_REPL_AHEAD))
        rc = vl_error_oom(err);
    vl_inventory_free(inv);
    vl_buf_release(&rside);
    vl_buf_release(&pside);
    return rc;
}

static int record_event(pair *p, const vl_replicate_result *res, vl_error *err)
{
    const char *agents[2] = {vl_agent_vellum(), vl_agent_openssl()};
    const char *loc = vl_copy_root(p->r, p->replica);
    char *detail;
    vl_event ev;
    int rc;
    if (res->state == VL_REPL_UPDATED)
        detail = vl_asprintf("replicated v%d..v%d to replica %s at %s: %llu files, "
                             "%llu bytes copied, each verified by its %s digest on "
                             "the replica before its inventory was written",
                             res->from_version + 1, res->to_version, p->replica, loc,
                             (unsigned long long)res->files,
                             (unsigned long long)res->bytes,
                             vl_digest_name(vl_inventory_digest_alg(p->pinv)));
    else
        detail = vl_asprintf("replication to replica %s at %s refused: %s",
                             p->replica, loc, res->message);
    if (!detail)
        return vl_error_oom(err);
    vl_event_init(&ev, VL_EV_REPLICATION, p->id);
    ev.outcome = res->state == VL_REPL_UPDATED ? "success" : "fail";
    ev.detail = detail;
    ev.version = vl_inventory_head(p->pinv);
    ev.agents = agents;
    ev.nagents = 2;
    rc = vl_events_append(p->r, &ev, err);
    free(detail);
    return rc;
}

struct known {
    const char *copy;
    int version;          /* -1: no row */
};

static int known_version(void *arg, const vl_copy_row *row)
{
    struct known *k = arg;
    if (!strcmp(row->copy, k->copy))
        k->version = row->version;
    return 0;
}

static int record_settled(pair *p, int from, int to, vl_error *err)
{
    const char *agents[1] = {vl_agent_vellum()};
    char *detail = from >= 0
        ? vl_asprintf("replica %s at %s found at v%d: v%d..v%d were copied by a "
                      "replication that stopped before it recorded them (each "
                      "file verified on the replica before its inventory was "
                      "written) and settled since", p->replica,
                      vl_copy_root(p->r, p->replica), to, from + 1, to)
        : vl_asprintf("replica %s at %s found holding v%d, which no replication "
                      "had recorded (one that stopped before recording it, or a "
                      "copy made before the replica was added); its inventory "
                      "is byte for byte the primary's v%d", p->replica,
                      vl_copy_root(p->r, p->replica), to, to);
    vl_event ev;
    int rc;
    if (!detail)
        return vl_error_oom(err);
    vl_event_init(&ev, VL_EV_REPLICATION, p->id);
    ev.outcome = "success";
    ev.detail = detail;
    ev.version = to;
    ev.agents = agents;
    ev.nagents = 1;
    rc = vl_events_append(p->r, &ev, err);
    free(detail);
    return rc;
}

static int replicate_pair(pair *p, vl_replicate_result *res, char **why,
                          vl_error *err)
{
    int head = 0, rc;
    vl_repl_state state = VL_REPL_CURRENT;
    char when[32];
    rc = replica_state(p, &head, &state, why, err);
    if (rc != VL_OK)
        return rc;
    res->from_version = res->to_version = head;
    res->state = state;
    if (state == VL_REPL_UPDATED) {
        for (int v = head + 1; v <= vl_inventory_head(p->pinv); v++) {
            if ((rc = replicate_version(p, v, err)) != VL_OK) {
                if (rc != VL_FINDING)
                    return rc;
                /* The primary's bytes do not verify: nothing of this
                 * version was committed to the replica. */
                res->state = VL_REPL_DAMAGED;
                *why = vl_strdup(err->msg);
                vl_error_clear(err);
                if (!*why)
                    return vl_error_oom(err);
                break;
            }
            res->to_version = v;
        }
        res->files = p->files;
        res->bytes = p->bytes;
    }
    res->message = *why;
    vl_time_rfc3339(vl_time_now(), when);
    if (res->state != VL_REPL_CURRENT &&
        (rc = record_event(p, res, err)) != VL_OK)
        return rc;
    if (res->state == VL_REPL_CURRENT) {
        /* A replication killed after its last version reached the replica
         * (and settled by recover) left no event: the catalog still has
         * the version before.  Say what is there now. */
        struct known k = {p->replica, -1};
        if ((rc = vl_catalog_copies(vl_repo_catalog(p->r), p->id, known_version, &k,
                                    err)) != VL_OK)
            return rc;
        if (k.version < res->to_version &&
            (rc = record_settled(p, k.version, res->to_version, err)) != VL_OK)
            return rc;
    }
    return vl_catalog_copy_replicated(vl_repo_catalog(p->r), p->replica, p->id,
                                      res->to_version,
                                      vl_repl_state_name(res->state), when, err);
}

/* ---- every pair ---------------------------------------------------------- */

struct names {
    char **v;
    size_t n, cap;
    int oom;
};

static int add_name(void *arg, const vl_replica_info *ri)
{
    struct names *nm = arg;
    if (VL_GROW(nm->v, nm->cap, nm->n + 1, NULL) != VL_OK ||
        !(nm->v[nm->n] = vl_strdup(ri->name))) {
        nm->oom = 1;
        return 1;
    }
    nm->n++;
    return 0;
}

static int add_object(void *arg, const vl_catalog_object *o)
{
    struct names *nm = arg;
    if (VL_GROW(nm->v, nm->cap, nm->n + 1, NULL) != VL_OK ||
        !(nm->v[nm->n] = vl_strdup(o->id))) {
        nm->oom = 1;
        return 1;
    }
    nm->n++;
    return 0;
}

static void names_free(struct names *nm)
{
    for (size_t i = 0; i < nm->n; i++)
        free(nm->v[i]);
    free(nm->v);
}

static int replicate_object(vl_repo *r, const char *id, struct names *replicas,
                            const vl_replicate_options *o,
                            vl_replicate_summary *s, vl_error *err)
{
    vl_lock *lock = NULL;
    vl_inventory *pinv = NULL;
    char *rel = NULL;
    vl_error lerr = {0};
    int rc = VL_OK;
    vl_replicate_result res = {.object_id = id};
    if (vl_lock_object(r, id, VL_COPY_LOCK_WAIT, &lock, &lerr) != VL_OK) {
        if (lerr.reason != VL_REASON_LOCKED) {
            if (err)
                *err = lerr;
            return lerr.status;
        }
        for (size_t i = 0; i < replicas->n; i++) {
            res.replica = replicas->v[i];
            res.state = VL_REPL_SKIPPED;
            res.message = lerr.msg;
            s->pairs++;
            s->skipped++;
            if (o && o->on_result)
                o->on_result(o->arg, &res);
        }
        return VL_OK;
    }
    if (!(rel = vl_repo_object_path(r, id))) {
        rc = vl_error_oom(err);
        goto done;
    }
    rc = vl_repo_read_inventory_at(r, rel, &pinv, err);
    /* A primary whose inventory is gone or does not verify is reported for
     * every replica (repair restores it); one that cannot be read at all
     * is the run's error. */
    int primary_bad = rc == VL_FINDING || rc == VL_EINPUT;
    for (size_t i = 0; i < replicas->n; i++) {
        vl_backend *b = NULL;
        char *why = NULL;
        vl_error berr = {0};
        memset(&res, 0, sizeof res);
        res.object_id = id;
        res.replica = replicas->v[i];
        s->pairs++;
        if (primary_bad) {
            res.state = VL_REPL_DAMAGED;
            why = vl_asprintf("the primary's inventory does not verify (%s); run "
                              "'vellum repair %s'", err->msg, id);
            res.message = why;
        } else if (rc != VL_OK) {
            goto done;   /* the primary cannot be read at all */
        } else if (vl_copy_backend(r, replicas->v[i], &b, &berr) != VL_OK) {
            /* an unreachable replica is that copy's problem; running
             * short of memory is the run's */
            if (berr.status != VL_ESYS || berr.sys_errno == ENOMEM) {
                rc = berr.status;
                if (err)
                    *err = berr;
                goto done;
            }
            res.state = VL_REPL_DAMAGED;
            why = vl_strdup(berr.msg);
            res.message = why;
        } else {
            pair p = {.r = r, .id = id, .object_rel = rel, .pinv = pinv,
                      .replica = replicas->v[i], .b = b};
            int prc = replicate_pair(&p, &res, &why, err);
            if (prc != VL_OK) {
                free(why);
                rc = prc;
                goto done;
            }
        }
        switch (res.state) {
        case VL_REPL_CURRENT: s->current++; break;
        case VL_REPL_UPDATED: s->updated++; break;
        case VL_REPL_SKIPPED: s->skipped++; break;
        default: s->refused++; break;
        }
        s->files += res.files;
        s->bytes += res.bytes;
        if (o && o->on_result)
            o->on_result(o->arg, &res);
        free(why);
    }
    if (primary_bad) {
        vl_error_clear(err);
        rc = VL_OK;
    }
done:
    vl_lock_release(lock);
    vl_inventory_free(pinv);
    free(rel);
    return rc;
}

int vl_replicate(vl_repo *r, const char *const *ids, size_t n,
                 const vl_replicate_options *o, vl_replicate_summary *s,
                 vl_error *err)
{
    struct names replicas = {0}, objects = {0};
    vl_replicate_summary local = {0};
    double t0 = vl_time_mono();
    int rc = VL_OK;
    if (!s)
        s = &local;
    memset(s, 0, sizeof *s);
    if (o && o->replica) {
        if (!vl_copy_root(r, o->replica) || !strcmp(o->replica, VL_PRIMARY_COPY)) {
            rc = vl_error_set(err, VL_EINPUT, "no replica named \"%s\"", o->replica);
            goto done;
        }
        vl_replica_info ri = {o->replica, NULL};
        if (add_name(&replicas, &ri) != 0) {
            rc = vl_error_oom(err);
            goto done;
        }
    } else {
        rc = vl_replica_list(r, add_name, &replicas, err);
        if (replicas.oom)
            rc = vl_error_oom(err);
        if (rc != VL_OK)
            goto done;
    }
    if (replicas.n == 0) {
        rc = vl_error_set(err, VL_EINPUT, "the repository has no replicas; add one "
                          "with 'vellum replica add NAME FOLDER'");
        goto done;
    }
    /* What a killed replicate or repair left on a replica goes first (a
     * live one's folder is locked and left alone). */
    size_t settled = 0;
    if ((rc = vl_replicas_recover(r, &settled, err)) != VL_OK)
        goto done;
    if (n == 0) {
        rc = vl_catalog_objects(vl_repo_catalog(r), add_object, &objects, err);
        if (objects.oom)
            rc = vl_error_oom(err);
        if (rc != VL_OK)
            goto done;
    } else {
        for (size_t i = 0; i < n; i++) {
            int present = 0;
            if ((rc = vl_repo_object_stored(r, ids[i], &present, err)) != VL_OK)
                goto done;
            if (!present) {
                rc = vl_error_set(err, VL_EINPUT, "no object with id %s", ids[i]);
                goto done;
            }
            vl_catalog_object co = {.id = ids[i]};
            if (add_object(&objects, &co) != 0) {
                rc = vl_error_oom(err);
                goto done;
            }
        }
    }
    for (size_t i = 0; i < objects.n && rc == VL_OK; i++)
        rc = replicate_object(r, objects.v[i], &replicas, o, s, err);
    if (rc == VL_OK && s->refused)
        rc = VL_FINDING;
done:
    s->seconds = vl_time_mono() - t0;
    names_free(&replicas);
    names_free(&objects);
    return rc;
}
