/* Transactions: one new object version built in staging and committed in
 * an order that leaves the object at its old or its new head whenever the
 * process stops:
 *   staging/txn-X/intent.json     names the object (for vellum recover)
 *   staging/txn-X/object/...      the new object, or just its new vN/
 *   files made read-only; syncfs; rename into the store; root inventory,
 *   then sidecar (both read-only); catalog. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_private.h"
#include "catalog_private.h"
#include "inventory_private.h"
#include "mutable_head_private.h"
#include "vl_json.h"
#include "repo_internal.h"
#include "txn_index_private.h"

#define LOCK_WAIT_SECONDS 120

struct vl_txn {
    vl_repo *repo;
    vl_lock *lock;
    char *id;
    char *object_rel;
    vl_inventory *inv;        /* head inventory copy, or a new one */
    int is_new;
    int num;                  /* version being built */
    int base;                 /* version whose state a merge starts from */
    char vname[16];
    /* Staged (OCFL extension 0005): the deposit is revision rev of the
     * mutable head, version num, built in head_dir; had_head when the
     * object has one already (num is then its version, base == num). */
    int staged, rev, had_head;
    char *head_dir;
    char *cprefix;            /* content paths: "v3/content" or
                                 "extensions/.../head/content/r2" */
    char *txn_dir;
    char *build_dir;          /* txn_dir/object */
    char *content_root;       /* build_dir/vN/<contentDirectory> */
    char *scratch;            /* txn_dir/scratch */
    unsigned mask;
    pthread_mutex_t mu;
    /* the new state, staged content, staging folders made and extra fixity
     * values: on disk, since they grow with the number of files */
    vl_txn_index *ix;
    json_t *events;           /* events to record once committed */
    json_t *event_text;       /* [files_json, agents_json] per event, for rows */
};

const char *vl_txn_object_id(const vl_txn *t) { return t->id; }
unsigned vl_txn_digest_mask(const vl_txn *t) { return t->mask; }
const char *vl_txn_scratch_dir(const vl_txn *t) { return t->scratch; }
int vl_txn_version(const vl_txn *t) { return t->num; }
int vl_txn_base_version(const vl_txn *t) { return t->base; }
int vl_txn_revision(const vl_txn *t) { return t->staged ? t->rev : 0; }
const vl_inventory *vl_txn_head_inventory(const vl_txn *t)
{
    return t->is_new ? NULL : t->inv;
}

static void txn_free(vl_txn *t)
{
    if (!t)
        return;
    vl_lock_release(t->lock);
    vl_inventory_free(t->inv);
    vl_txn_index_free(t->ix);
    json_decref(t->events);
    json_decref(t->event_text);
    pthread_mutex_destroy(&t->mu);
    free(t->id);
    free(t->object_rel);
    free(t->txn_dir);
    free(t->build_dir);
    free(t->content_root);
    free(t->scratch);
    free(t->head_dir);
    free(t->cprefix);
    free(t);
}

/* sidecar (NULL until the version's inventory is built) tells recover
 * whether a version N in the store is this transaction's or another
 * writer's (several workers share an object store). */
static int write_intent(vl_txn *t, const char *sidecar, vl_error *err)
{
    /* recover settles a staged new object as the v1 it lands with */
    json_t *o = json_pack("{s:s, s:s, s:i, s:b, s:O, s:s?}", "id", t->id, "object",
                          t->object_rel, "version", t->staged && t->is_new ? 1 : t->num,
                          "new", t->is_new, "events", t->events, "sidecar", sidecar);
    if (o && t->staged &&
        (json_object_set_new(o, "mhead", json_string("revision")) != 0 ||
         json_object_set_new(o, "revision", json_integer(t->rev)) != 0)) {
        json_decref(o);
        o = NULL;
    }
    char *s = o ? vl_json_dumps(o, JSON_SORT_KEYS) : NULL;
    char *p = vl_path_join(t->txn_dir, VL_INTENT_FILE);
    int rc = (!s || !p) ? vl_error_oom(err)
                        : vl_fs_write_atomic(p, s, strlen(s), err);
    json_decref(o);
    free(s);
    free(p);
    return rc;
}

/* No new root version while a staged head is active (extension 0005). */
static int refuse_staged(vl_txn *t, vl_error *err)
{
    vl_mhead_probe p = {0, 0, 0};
    int rc = VL_OK;
    if (t->is_new)
        return VL_OK;
    if ((rc = vl_mhead_probe_at(t->repo->backend, t->object_rel, &p, err)) != VL_OK ||
        !p.active)
        return rc;
    return vl_error_set(err, VL_EINPUT, "\"%s\" has a staged head (%s, not yet "
                        "committed): commit it with 'vellum commit %s', or add to it "
                        "with 'vellum ingest --stage'", t->id, VL_MHEAD_DIR, t->id);
}

/* Staged: start from the mutable head when the object has one (its
 * version and state), else from the root head; a new object starts from
 * an empty v1, which lands with it. */
static int begin_staged(vl_txn *t, vl_error *err)
{
    vl_repo *r = t->repo;
    vl_mhead_probe p;
    vl_inventory *head = NULL;
    int rc, conflict = 0;
    char created[32];
    t->staged = 1;
    t->rev = 1;
    if (!r->backend->atomic_put)
        return vl_error_set(err, VL_EINPUT, "staged heads need a store on a "
                            "filesystem; %s is not", vl_repo_store(r));
    if (t->is_new) {
        vl_time_rfc3339(vl_time_now(), created);
        if (vl_inventory_version_add(t->inv, created, "Empty first version: the "
                                     "object was created with a staged head",
                                     NULL, NULL) != 1)
            return vl_error_oom(err);
        t->num = 2;
        t->base = 1;
        return VL_OK;
    }
    if ((rc = vl_mhead_probe_at(r->backend, t->object_rel, &p, err)) != VL_OK)
        return rc;
    if (p.dir && !p.active)
        return vl_error_set(err, VL_ESYS, "\"%s\" has an unfinished staged head (%s "
                            "without head/inventory.json); run 'vellum recover'",
                            t->id, VL_MHEAD_DIR);
    if (!p.active)
        return VL_OK;
    if ((rc = vl_mhead_conflict_at(r->backend, t->object_rel,
                                   vl_inventory_digest_alg(t->inv), &conflict, err)) != VL_OK)
        return rc;
    if (!conflict && (rc = vl_mhead_load_at(r->backend, t->object_rel, &head, NULL,
                                            err)) != VL_OK)
        return rc;
    if (conflict || vl_inventory_head(head) != t->num) {
        vl_inventory_free(head);
        return vl_error_set(err, VL_EINPUT, "version conflict: \"%s\" got a new version "
                            "after its head was staged; nothing staged: 'vellum discard "
                            "%s' drops the staged head (%s)", t->id, t->id, VL_MHEAD_DIR);
    }
    vl_inventory_free(t->inv);
    t->inv = head;
    t->had_head = 1;
    t->base = t->num;
    t->rev = p.revisions + 1;
    return VL_OK;
}

static int txn_begin(vl_repo *r, const char *id, int staged, vl_txn **out,
                     vl_error *err)
{
    int rc = VL_OK;
    char uuid[37], minted[64];
    vl_txn *t = calloc(1, sizeof *t);
    if (!t)
        return vl_error_oom(err);
    pthread_mutex_init(&t->mu, NULL);
    if (!id) {
        vl_uuid4(uuid);
        snprintf(minted, sizeof minted, "urn:uuid:%s", uuid);
        id = minted;
    }
    if ((rc = vl_object_id_check(id, err)) != VL_OK)
        goto done;
    t->repo = r;
    t->id = vl_strdup(id);
    t->object_rel = vl_repo_object_path(r, id);
    t->events = json_array();
    if (!t->id || !t->object_rel || !t->events) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_txn_index_open(t->id, &t->ix, err)) != VL_OK)
        goto done;
    if ((rc = vl_lock_object(r, id, LOCK_WAIT_SECONDS, &t->lock, err)) != VL_OK)
        goto done;
    rc = vl_repo_load_inventory(r, id, &t->inv, err);
    if (rc == VL_EINPUT) { /* no such object yet */
        t->is_new = 1;
        t->inv = vl_inventory_new(id, r->digest);
        if (!t->inv) {
            rc = vl_error_oom(err);
            goto done;
        }
        vl_error_clear(err);
        rc = VL_OK;
    } else if (rc != VL_OK) {
        goto done;
    }
    t->num = vl_inventory_head(t->inv) + 1;
    t->base = t->num - 1;
    if ((rc = staged ? begin_staged(t, err) : refuse_staged(t, err)) != VL_OK)
        goto done;
    vl_inventory_version_name(t->inv, t->num, t->vname);
    t->mask = VL_DIGEST_BIT(vl_inventory_digest_alg(t->inv)) | r->fixity_mask;
    t->txn_dir = vl_repo_txn_dir_new(r, id);
    t->build_dir = t->txn_dir ? vl_path_join(t->txn_dir, "object") : NULL;
    if (!t->staged) {
        t->cprefix = vl_asprintf("%s/%s", t->vname, vl_inventory_content_dir(t->inv));
    } else {
        /* a new object lands whole, its head inside it; else only head/ */
        t->cprefix = vl_asprintf(VL_MHEAD_HEAD "/%s/r%d",
                                 vl_inventory_content_dir(t->inv), t->rev);
        t->head_dir = !t->build_dir ? NULL
            : t->is_new ? vl_path_join(t->build_dir, VL_MHEAD_HEAD)
                        : vl_path_join(t->build_dir, "head");
    }
    t->content_root = !t->build_dir || !t->cprefix ? NULL
        : !t->staged ? vl_path_join(t->build_dir, t->cprefix)
        : !t->head_dir ? NULL
        : vl_asprintf("%s/%s/r%d", t->head_dir, vl_inventory_content_dir(t->inv), t->rev);
    t->scratch = t->txn_dir ? vl_path_join(t->txn_dir, "scratch") : NULL;
    if (!t->txn_dir || !t->build_dir || !t->content_root || !t->scratch ||
        (t->staged && !t->head_dir)) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs(t->content_root, err)) != VL_OK ||
        (rc = vl_fs_mkdirs(t->scratch, err)) != VL_OK)
        goto done;
    if ((rc = write_intent(t, NULL, err)) != VL_OK)
        goto done;
    *out = t;
    t = NULL;
done:
    if (t && t->txn_dir)
        vl_fs_rmtree(t->txn_dir, NULL);
    txn_free(t);
    return rc;
}

int vl_txn_begin(vl_repo *r, const char *id, vl_txn **out, vl_error *err)
{
    return txn_begin(r, id, 0, out, err);
}

int vl_txn_begin_staged(vl_repo *r, const char *id, vl_txn **out, vl_error *err)
{
    return txn_begin(r, id, 1, out, err);
}

int vl_txn_stage_path(vl_txn *t, const char *logical, char **out, vl_error *err)
{
    int rc = vl_logical_path_check(logical, err);
    if (rc != VL_OK)
        return rc;
    char *p = vl_path_join(t->content_root, logical);
    if (!p)
        return vl_error_oom(err);
    /* Many files share a folder: make each folder once, not once per file. */
    const char *slash = strrchr(logical, '/');
    char *dir = slash ? vl_strndup(logical, (size_t)(slash - logical)) : vl_strdup("");
    int known = 0;
    if (!dir) {
        rc = vl_error_oom(err);
        goto done;
    }
    pthread_mutex_lock(&t->mu);
    rc = vl_txn_index_dir_known(t->ix, dir, &known, err);
    pthread_mutex_unlock(&t->mu);
    if (rc != VL_OK || known || (rc = vl_fs_mkdirs_parent(p, err)) != VL_OK)
        goto done;
    pthread_mutex_lock(&t->mu);
    rc = vl_txn_index_dir_add(t->ix, dir, err);
    pthread_mutex_unlock(&t->mu);
done:
    free(dir);
    if (rc != VL_OK)
        free(p);
    else
        *out = p;
    return rc;
}

static int content_path_of(vl_txn *t, const char *logical, char **out)
{
    *out = vl_asprintf("%s/%s", t->cprefix, logical);
    return *out ? 0 : -1;
}

int vl_txn_add(vl_txn *t, const char *logical, const vl_digest_result *d,
               uint64_t size, int staged, vl_error *err)
{
    int rc = VL_OK;
    vl_digest_alg alg = vl_inventory_digest_alg(t->inv);
    const char *hex = d->hex[alg];
    char *stage = NULL;
    (void)size;
    if ((rc = vl_logical_path_check(logical, err)) != VL_OK)
        return rc;
    if (!(d->mask & VL_DIGEST_BIT(alg)))
        return vl_error_set(err, VL_ESYS, "internal: %s digest missing for %s",
                            vl_digest_name(alg), logical);
    pthread_mutex_lock(&t->mu);
    /* A path kept from the head (merge) may be replaced; one given twice
     * by the deposit itself may not. */
    if ((rc = vl_txn_index_put(t->ix, logical, hex, 1, err)) != VL_OK)
        goto done;
    int known = vl_inventory_content_path(t->inv, hex) != NULL, is_new = 0;
    if (!known && staged) {
        if ((rc = vl_txn_index_stage(t->ix, hex, logical, &is_new, err)) != VL_OK)
            goto done;
        known = !is_new;
    } else if (!known) {
        rc = vl_txn_index_staged(t->ix, hex, &known, err);
    }
    if (rc != VL_OK) {
        goto done;
    } else if (is_new) {
        /* Record the extra fixity algorithms for the new content. */
        for (int a = 0; a < VL_DIGEST_COUNT && rc == VL_OK; a++)
            if (a != (int)alg && (t->repo->fixity_mask & VL_DIGEST_BIT(a)) &&
                (d->mask & VL_DIGEST_BIT(a)))
                rc = vl_txn_index_fixity_add(t->ix, (vl_digest_alg)a, d->hex[a],
                                             logical, err);
    } else if (staged) {
        /* Deduplication: the content is stored already. */
        pthread_mutex_unlock(&t->mu);
        stage = vl_path_join(t->content_root, logical);
        if (!stage)
            rc = vl_error_oom(err);
        else if (unlink(stage) != 0 && errno != ENOENT)
            rc = vl_error_sys(err, "cannot remove staged %s", stage);
        free(stage);
        return rc;
    } else if (!known) {
        rc = vl_error_set(err, VL_ESYS, "internal: content of %s is neither "
                          "staged nor stored", logical);
    }
done:
    pthread_mutex_unlock(&t->mu);
    return rc;
}

struct keep_ctx {
    vl_txn *t;
    vl_error *err;
    int rc;
};

static int keep_one(void *arg, const char *logical, const char *digest)
{
    struct keep_ctx *k = arg;
    k->rc = vl_txn_index_put(k->t->ix, logical, digest, 0, k->err);
    return k->rc == VL_OK ? 0 : -1;
}

int vl_txn_keep_all(vl_txn *t, vl_error *err)
{
    struct keep_ctx k = {t, err, VL_OK};
    if (t->is_new)
        return VL_OK;
    pthread_mutex_lock(&t->mu);
    /* a merge that kept only part of the head would drop files */
    int failed = vl_inventory_state_foreach(t->inv, t->base, keep_one, &k) != 0;
    pthread_mutex_unlock(&t->mu);
    if (k.rc != VL_OK)
        return k.rc;
    if (failed)
        return vl_error_set(err, VL_ESYS, "cannot read the head state of %s: out of "
                            "memory or temporary space", vl_inventory_id(t->inv));
    return VL_OK;
}

int vl_txn_add_fixity(vl_txn *t, const char *logical, vl_digest_alg alg,
                      const char *hex, vl_error *err)
{
    pthread_mutex_lock(&t->mu);
    int rc = vl_txn_index_fixity_add(t->ix, alg, hex, logical, err);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int vl_txn_add_event(vl_txn *t, const vl_event *ev, vl_error *err)
{
    vl_event copy = *ev;
    copy.object_id = t->id;
    copy.version = t->num;
    json_t *j = vl_event_to_json(&copy);
    pthread_mutex_lock(&t->mu);
    int rc = j ? json_array_append_new(t->events, j) : -1;
    pthread_mutex_unlock(&t->mu);
    return rc ? vl_error_oom(err) : VL_OK;
}

size_t vl_txn_event_count(const vl_txn *t) { return json_array_size(t->events); }

int vl_txn_event_row(vl_txn *t, size_t i, vl_event_row *out)
{
    json_t *ev = json_array_get(t->events, i);
    if (!ev)
        return -1;
    if (!t->event_text && !(t->event_text = json_array()))
        return -1;
    while (json_array_size(t->event_text) <= i) {
        json_t *e = json_array_get(t->events, json_array_size(t->event_text));
        char *f = vl_json_dumps(json_object_get(e, "files"), JSON_COMPACT);
        char *a = vl_json_dumps(json_object_get(e, "agents"), JSON_COMPACT);
        json_array_append_new(t->event_text, json_pack("[s?, s?]", f, a));
        free(f);
        free(a);
    }
    json_t *txt = json_array_get(t->event_text, i);
    memset(out, 0, sizeof *out);
    out->seq = (long)i + 1;
    out->id = json_string_value(json_object_get(ev, "id"));
    out->type = json_string_value(json_object_get(ev, "type"));
    out->datetime = json_string_value(json_object_get(ev, "datetime"));
    out->outcome = json_string_value(json_object_get(ev, "outcome"));
    out->detail = json_string_value(json_object_get(ev, "detail"));
    out->outcome_detail = json_string_value(json_object_get(ev, "outcome_detail"));
    out->object_id = json_string_value(json_object_get(ev, "object"));
    out->version = (int)json_integer_value(json_object_get(ev, "version"));
    out->files_json = json_string_value(json_array_get(txt, 0));
    out->agents_json = json_string_value(json_array_get(txt, 1));
    return 0;
}

struct same_ctx {
    vl_txn *t;
    const char *ignore;
};

static int same_as_head(void *arg, const char *logical, const char *digest)
{
    struct same_ctx *c = arg;
    if (c->ignore && !strcmp(logical, c->ignore))
        return 0;
    const char *d = vl_inventory_lookup(c->t->inv, c->t->base, logical);
    return d && !strcmp(d, digest) ? 0 : -1;
}

/* *same: 1 when the new state equals the head state, both without the
 * path ignore (may be NULL). */
static int state_is_head(vl_txn *t, const char *ignore, int *same, vl_error *err)
{
    struct same_ctx c = {t, ignore};
    vl_version_info vi;
    size_t n;
    int rc;
    *same = 0;
    if (t->is_new || vl_inventory_version_info(t->inv, t->base, &vi) != 0)
        return VL_OK;
    size_t head_n = vi.file_count -
        (ignore && vl_inventory_lookup(t->inv, t->base, ignore) ? 1 : 0);
    if ((rc = vl_txn_index_count(t->ix, ignore, &n, err)) != VL_OK || n != head_n)
        return rc;
    rc = vl_txn_index_state_foreach(t->ix, same_as_head, &c, err);
    *same = rc == VL_OK;
    return rc == -1 ? VL_OK : rc;
}

int vl_txn_unchanged_except(vl_txn *t, const char *ignore)
{
    vl_error err;
    int same;
    /* A failure here leaves the index broken, and the commit reports it. */
    return state_is_head(t, ignore, &same, &err) == VL_OK && same;
}

/* No logical path may also be a folder of another (E095). */
static int check_conflicts(vl_txn *t, vl_error *err)
{
    char *file, *inner;
    int rc = vl_txn_index_conflict(t->ix, &file, &inner, err);
    if (rc == VL_OK && file)
        rc = vl_error_set(err, VL_EINPUT, "\"%s\" is both a file and the folder of "
                          "\"%s\"", file, inner);
    free(file);
    free(inner);
    return rc;
}

/* Staged copies removed by deduplication can leave empty folders, which
 * OCFL forbids in content directories (E024).  Returns 1 if dir was removed. */
static int prune_empty_dirs(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int left = 0;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        left++;
        if (e->d_type == DT_DIR) {
            char *sub = vl_path_join(dir, e->d_name);
            if (sub && prune_empty_dirs(sub))
                left--;
            free(sub);
        }
    }
    closedir(d);
    return left == 0 && rmdir(dir) == 0;
}

struct fixity_ctx {
    vl_txn *t;
    vl_error *err;
};

static int apply_one_fixity(void *arg, vl_digest_alg alg, const char *hex,
                            const char *digest)
{
    struct fixity_ctx *c = arg;
    const char *cpath = vl_inventory_content_path(c->t->inv, digest);
    if (cpath && vl_inventory_fixity_add(c->t->inv, alg, hex, cpath) != 0)
        return vl_error_oom(c->err);
    return VL_OK;
}

static int apply_fixity(vl_txn *t, vl_error *err)
{
    struct fixity_ctx c = {t, err};
    return vl_txn_index_fixity_foreach(t->ix, apply_one_fixity, &c, err);
}

/* The inventory goes to its file through a buffer that also feeds the
 * digest for the sidecar: the serialized text is never held whole. */
typedef struct inv_writer {
    int fd;
    vl_digest_ctx *dc;
    size_t n;
    int failed;            /* errno of a failed write, or -1 out of memory */
    char buf[1 << 16];
} inv_writer;

static int inv_flush(inv_writer *w)
{
    if (!w->failed && vl_fs_write_all(w->fd, w->buf, w->n) != 0)
        w->failed = errno;
    w->n = 0;
    return w->failed ? -1 : 0;
}

static int inv_sink(const char *data, size_t len, void *arg)
{
    inv_writer *w = arg;
    vl_digest_update(w->dc, data, len);
    while (len) {
        if (w->n == sizeof w->buf && inv_flush(w) != 0)
            return -1;
        size_t take = sizeof w->buf - w->n < len ? sizeof w->buf - w->n : len;
        memcpy(w->buf + w->n, data, take);
        w->n += take;
        data += take;
        len -= take;
    }
    return 0;
}

/* Write dir/inventory.json (temp, fsync, rename) and its sidecar; *sidecar
 * gets the sidecar's text (malloc'd) for the root inventory's copy. */
int vl_txn_write_inventory_pair(const char *dir, const vl_inventory *inv,
                                char **sidecar, vl_error *err)
{
    vl_digest_alg alg = vl_inventory_digest_alg(inv);
    char *path = vl_path_join(dir, VL_INVENTORY_FILE);
    char *tmp = path ? vl_asprintf("%s.tmp-%ld", path, (long)getpid()) : NULL;
    char *side = vl_asprintf("%s/inventory.json.%s", dir, vl_digest_name(alg));
    inv_writer *w = calloc(1, sizeof *w);
    vl_digest_result res;
    int rc = VL_OK;
    *sidecar = NULL;
    if (w)
        w->fd = -1;
    if (!path || !tmp || !side || !w ||
        !(w->dc = vl_digest_new(VL_DIGEST_BIT(alg)))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((w->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
        rc = vl_error_sys(err, "create %s", tmp);
        goto done;
    }
    if (vl_inventory_dump(inv, inv_sink, w) != 0 || inv_flush(w) != 0) {
        errno = w->failed > 0 ? w->failed : ENOMEM;
        rc = vl_error_sys(err, "write %s", tmp);
        goto done;
    }
    if (fsync(w->fd) != 0) {
        rc = vl_error_sys(err, "fsync %s", tmp);
        goto done;
    }
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0) {
        rc = vl_error_sys(err, "close %s", tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        rc = vl_error_sys(err, "rename %s to %s", tmp, path);
        goto done;
    }
    if ((rc = vl_digest_final(w->dc, &res, err)) != VL_OK)
        goto done;
    if (!(*sidecar = vl_asprintf("%s inventory.json\n", res.hex[alg]))) {
        rc = vl_error_oom(err);
        goto done;
    }
    rc = vl_fs_write_atomic(side, *sidecar, strlen(*sidecar), err);
done:
    if (w && w->fd >= 0)
        close(w->fd);
    if (rc != VL_OK) {
        if (tmp)
            unlink(tmp);
        free(*sidecar);
        *sidecar = NULL;
    }
    if (w)
        vl_digest_free(w->dc);
    free(w);
    free(path);
    free(tmp);
    free(side);
    return rc;
}

static int manifest_one(void *arg, const char *digest, const char *logical)
{
    struct fixity_ctx *c = arg;
    char *cpath;
    if (content_path_of(c->t, logical, &cpath) != 0)
        return vl_error_oom(c->err);
    int bad = vl_inventory_manifest_add(c->t->inv, digest, cpath);
    free(cpath);
    return bad ? vl_error_oom(c->err) : VL_OK;
}

static int state_one(void *arg, const char *logical, const char *digest)
{
    struct fixity_ctx *c = arg;
    return vl_inventory_state_add(c->t->inv, c->t->num, digest, logical)
        ? vl_error_oom(c->err) : VL_OK;
}

/* Build the new version's inventory from the collected state. */
static int build_inventory(vl_txn *t, const vl_txn_info *info, vl_error *err)
{
    struct fixity_ctx c = {t, err};
    char created[32];
    int rc;
    vl_time_rfc3339(vl_time_now(), created);
    /* A staged head's version is rewritten whole, created and message too:
     * content paths under the extension folder (none under vN) stay. */
    if (t->had_head && vl_inventory_truncate(t->inv, t->num - 1) != 0)
        return vl_error_set(err, VL_ESYS, "cannot edit the inventory of \"%s\": out of "
                            "memory or temporary space", t->id);
    if (vl_inventory_version_add(t->inv, created, info ? info->message : NULL,
                                 info ? info->user_name : NULL,
                                 info ? info->user_address : NULL) != t->num)
        return vl_error_set(err, VL_ESYS, "internal: cannot add version %s", t->vname);
    if ((rc = vl_txn_index_staged_foreach(t->ix, manifest_one, &c, err)) != VL_OK ||
        (rc = vl_txn_index_state_foreach(t->ix, state_one, &c, err)) != VL_OK ||
        (rc = apply_fixity(t, err)) != VL_OK)
        return rc;
    /* content of earlier revisions that the state no longer has */
    if (t->had_head && vl_inventory_prune_under(t->inv, VL_MHEAD_HEAD "/", t->num) != 0)
        return vl_error_set(err, VL_ESYS, "cannot edit the inventory of \"%s\": out of "
                            "memory or temporary space", t->id);
    return VL_OK;
}

/* On an object store, what a writer that died mid-upload left where this
 * version (or new object) goes: keys without the inventory that would make
 * them a version.  We hold the object's lock, so no live writer is behind
 * them; its own 'vellum recover' would remove them too.  Removed, so that
 * another worker need not wait for that one. */
static int clear_leftovers(vl_backend *b, const char *rel, const char *id,
                           vl_error *err)
{
    int kind = 0, ikind = 0, rc;
    char *inv = vl_path_join(rel, VL_INVENTORY_FILE);
    if (!inv)
        return vl_error_oom(err);
    if ((rc = vl_backend_stat(b, rel, &kind, NULL, err)) == VL_OK && kind &&
        (rc = vl_backend_stat(b, inv, &ikind, NULL, err)) == VL_OK) {
        if (!ikind)
            rc = vl_backend_remove_tree(b, rel, NULL, NULL, err);
        else   /* whole, but not committed: its writer's recover finishes it */
            rc = vl_error_set(err, VL_ESYS, "%s/%s of \"%s\" was uploaded whole by a "
                              "writer that stopped before committing it; run 'vellum "
                              "recover' in the repository folder that made it",
                              vl_backend_root(b), rel, id);
    }
    free(inv);
    return rc;
}

/* After a failed put: whether any of it is in the store.  A rename is
 * all or nothing (the staged folder tells); an upload may stop halfway,
 * and when the store cannot even be asked, assume it did. */
static int reached_store(vl_backend *b, const char *rel)
{
    int kind = 0;
    if (b->atomic_put)
        return 0;
    return vl_backend_stat(b, rel, &kind, NULL, NULL) != VL_OK || kind != 0;
}

/* Commit a staged revision (OCFL extension 0005): the head version folder
 * is built in staging as a normal version would be, then installed in the
 * extension folder (vl_mhead_install), or, for a new object, lands inside
 * the object with its empty v1 in one rename.  Frees t. */
static int commit_staged(vl_txn *t, const vl_txn_info *info, int *version,
                         vl_error *err)
{
    vl_repo *r = t->repo;
    vl_digest_alg alg = vl_inventory_digest_alg(t->inv);
    char *side = NULL, *side1 = NULL, *v1 = NULL, *v1_inv = NULL, *namaste = NULL;
    char *root_inv = NULL, *root_side = NULL, *copy = NULL, *revs = NULL;
    char *cdir = NULL, *objdir = NULL;
    vl_inventory *root = NULL;
    int rc = VL_OK, touched = 0, keep = 0;
    if (t->is_new) {
        /* The empty v1 the extension asks for, as root and version
         * inventory, serialized before the head's version is added. */
        if (!(v1 = vl_path_join(t->build_dir, "v1")) ||
            !(v1_inv = vl_path_join(v1, VL_INVENTORY_FILE)) ||
            !(namaste = vl_path_join(t->build_dir, "0=ocfl_object_1.1")) ||
            !(root_inv = vl_path_join(t->build_dir, VL_INVENTORY_FILE)) ||
            !(root_side = vl_asprintf("%s/inventory.json.%s", t->build_dir,
                                      vl_digest_name(alg))) ||
            !(copy = vl_asprintf("%s/" VL_MHEAD_DIR "/" VL_MHEAD_ROOT_SIDECAR ".%s",
                                 t->build_dir, vl_digest_name(alg))) ||
            !(revs = vl_path_join(t->build_dir, VL_MHEAD_DIR "/" VL_MHEAD_REVISIONS))) {
            rc = vl_error_oom(err);
            goto done;
        }
        /* v1 names the depositor of the head it was made for (an OCFL
         * version should have a user) */
        char created[32];
        vl_version_info vi;
        if (vl_inventory_version_info(t->inv, 1, &vi) != 0 ||
            snprintf(created, sizeof created, "%s", vi.created) < 0 ||
            vl_inventory_truncate(t->inv, 0) != 0 ||
            vl_inventory_version_add(t->inv, created, "Empty first version: the object "
                                     "was created with a staged head",
                                     info ? info->user_name : NULL,
                                     info ? info->user_address : NULL) != 1) {
            rc = vl_error_oom(err);
            goto done;
        }
        if ((rc = vl_fs_mkdirs(v1, err)) != VL_OK ||
            (rc = vl_txn_write_inventory_pair(v1, t->inv, &side1, err)) != VL_OK ||
            (rc = vl_fs_write_atomic(namaste, "ocfl_object_1.1\n", 16, err)) != VL_OK ||
            (rc = vl_fs_copy_file(v1_inv, root_inv, err)) != VL_OK ||
            (rc = vl_fs_write_atomic(root_side, side1, strlen(side1), err)) != VL_OK ||
            (rc = vl_fs_write_atomic(copy, side1, strlen(side1), err)) != VL_OK ||
            (rc = vl_mhead_write_marker(revs, 1, err)) != VL_OK)
            goto done;
    }
    if ((rc = build_inventory(t, info, err)) != VL_OK)
        goto done;
    vl_txn_index_free(t->ix);
    t->ix = NULL;
    /* a revision with no new digests has no content/rN (nor content/) */
    prune_empty_dirs(t->content_root);
    if (!(cdir = vl_path_join(t->head_dir, vl_inventory_content_dir(t->inv))) ||
        !(objdir = vl_path_join(r->store_dir, t->object_rel))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!t->had_head)
        rmdir(cdir);   /* only when empty */
    if ((rc = vl_txn_write_inventory_pair(t->head_dir, t->inv, &side, err)) != VL_OK ||
        (rc = write_intent(t, side, err)) != VL_OK ||
        (rc = vl_fs_make_files_readonly(t->build_dir, err)) != VL_OK ||
        (rc = vl_fs_syncfs(t->build_dir, err)) != VL_OK)
        goto done;
    if (t->is_new) {
        rc = vl_backend_put(r->backend, t->build_dir, t->object_rel, err);
        touched = rc != VL_OK && !vl_fs_exists(t->build_dir);
    } else {
        rc = vl_mhead_install(objdir, t->head_dir, t->rev, t->inv, &touched, err);
    }
    if (rc != VL_OK) {
        if (touched) {
            keep = 1;
            rc = vl_error_set(err, rc, "%s; run 'vellum recover'", err->msg);
        }
        goto done;
    }
    *version = t->num;
    if (t->is_new &&
        ((rc = vl_repo_read_inventory_at(r, t->object_rel, &root, err)) != VL_OK ||
         (rc = vl_catalog_sync_new_version(r->catalog, r->backend, t->object_rel, root,
                                           err)) != VL_OK)) {
        keep = 1;
        rc = vl_error_set(err, rc, "\"%s\" is stored with its staged head, but the "
                          "catalog could not be updated (%s); run 'vellum recover'",
                          t->id, err->msg);
        goto done;
    }
    if ((rc = vl_events_append_all(r, t->events, err)) != VL_OK) {
        keep = 1;
        rc = vl_error_set(err, rc, "revision r%d of \"%s\" is staged, but its events "
                          "could not be recorded (%s); run 'vellum recover'", t->rev,
                          t->id, err->msg);
    }
done:
    if (!keep)
        vl_fs_rmtree(t->txn_dir, NULL);
    txn_free(t);
    vl_inventory_free(root);
    free(side);
    free(side1);
    free(v1);
    free(v1_inv);
    free(namaste);
    free(root_inv);
    free(root_side);
    free(copy);
    free(revs);
    free(cdir);
    free(objdir);
    return rc;
}

int vl_txn_commit(vl_txn *t, const vl_txn_info *info, int *version,
                  vl_error *err)
{
    int rc = VL_OK;
    char *vdir = NULL, *side = NULL, *namaste = NULL, *obj_vdir = NULL;
    char *root_inv = NULL, *root_side = NULL, *ver_inv = NULL;
    vl_repo *r = t->repo;
    vl_digest_alg alg = vl_inventory_digest_alg(t->inv);
    int same;
    size_t nfiles;
    *version = 0;
    if ((rc = state_is_head(t, NULL, &same, err)) != VL_OK || same)
        goto done; /* nothing to write: the deposit equals the head state */
    if ((rc = vl_txn_index_count(t->ix, NULL, &nfiles, err)) != VL_OK)
        goto done;
    if (nfiles == 0) {
        rc = vl_error_set(err, VL_EINPUT, "nothing to deposit: no files");
        goto done;
    }
    if ((rc = check_conflicts(t, err)) != VL_OK)
        goto done;
    if (t->staged) {
        rc = commit_staged(t, info, version, err);
        t = NULL;
        goto done;
    }
    if ((rc = build_inventory(t, info, err)) != VL_OK)
        goto done;
    /* The inventory now holds the new state: drop the deposit's own index
     * (and its page cache) before serializing. */
    vl_txn_index_free(t->ix);
    t->ix = NULL;
    vdir = vl_path_join(t->build_dir, t->vname);
    obj_vdir = vl_path_join(t->object_rel, t->vname);
    if (!vdir || !obj_vdir) {
        rc = vl_error_oom(err);
        goto done;
    }
    prune_empty_dirs(t->content_root);
    if ((rc = vl_txn_write_inventory_pair(vdir, t->inv, &side, err)) != VL_OK)
        goto done;
    if (t->is_new) {
        namaste = vl_path_join(t->build_dir, "0=ocfl_object_1.1");
        root_inv = vl_path_join(t->build_dir, VL_INVENTORY_FILE);
        root_side = vl_asprintf("%s/inventory.json.%s", t->build_dir,
                                vl_digest_name(alg));
        ver_inv = vl_path_join(vdir, VL_INVENTORY_FILE);
        if (!namaste || !root_inv || !root_side || !ver_inv) {
            rc = vl_error_oom(err);
            goto done;
        }
        /* The root inventory is a copy of v1's: copied, not serialized again. */
        if ((rc = vl_fs_write_atomic(namaste, "ocfl_object_1.1\n", 16, err)) ||
            (rc = vl_fs_copy_file(ver_inv, root_inv, err)) ||
            (rc = vl_fs_write_atomic(root_side, side, strlen(side), err)))
            goto done;
    }
    /* The intent now carries the events, for recover to record them if we
     * stop after the store commit. */
    if ((rc = write_intent(t, side, err)) != VL_OK)
        goto done;
    /* Everything in the new version (or object) is read-only before it
     * is flushed and renamed into the store, never after: a stop in
     * between must not leave writable committed files. */
    if ((rc = vl_fs_make_files_readonly(t->build_dir, err)) != VL_OK)
        goto done;
    /* One flush for every staged file instead of an fsync per file. */
    if ((rc = vl_fs_syncfs(t->build_dir, err)) != VL_OK)
        goto done;
    if (!r->backend->atomic_put &&
        (rc = clear_leftovers(r->backend, t->is_new ? t->object_rel : obj_vdir,
                              t->id, err)) != VL_OK)
        goto done;
    if (t->is_new) {
        rc = vl_backend_put(r->backend, t->build_dir, t->object_rel, err);
    } else {
        char sname[32], from[32];
        snprintf(sname, sizeof sname, "inventory.json.%s", vl_digest_name(alg));
        snprintf(from, sizeof from, "%s/inventory.json", t->vname);
        if ((rc = vl_backend_put(r->backend, vdir, obj_vdir, err)) == VL_OK)
            rc = vl_backend_commit_inventory_copy(r->backend, t->object_rel,
                                                  from, sname, side, err);
    }
    if (rc != VL_OK) {
        if (vl_fs_exists(vdir) && !reached_store(r->backend, t->is_new ? t->object_rel
                                                                       : obj_vdir))
            goto done;   /* nothing reached the store */
        /* Part of the version reached the store: leave the intent for
         * 'vellum recover', which finishes or undoes it. */
        rc = vl_error_set(err, rc, "%s; run 'vellum recover'", err->msg);
        txn_free(t);
        t = NULL;
        goto done;
    }
    *version = t->num;
    /* The store is committed; the catalog follows.  If this fails, vellum
     * recover (the intent file is still there) brings it in line. */
    if ((rc = vl_catalog_sync_new_version(r->catalog, r->backend, t->object_rel, t->inv,
                                          err)) != VL_OK) {
        rc = vl_error_set(err, rc, "version %s of \"%s\" is stored, but the catalog "
                          "could not be updated (%s); run 'vellum recover'",
                          t->vname, t->id, err->msg);
        txn_free(t);   /* keep staging/txn-X for recover */
        t = NULL;
        goto done;
    }
    if ((rc = vl_events_append_all(r, t->events, err)) != VL_OK) {
        rc = vl_error_set(err, rc, "version %s of \"%s\" is stored, but its events "
                          "could not be recorded (%s); run 'vellum recover'",
                          t->vname, t->id, err->msg);
        txn_free(t);
        t = NULL;
        goto done;
    }
done:
    free(vdir);
    free(obj_vdir);
    free(side);
    free(namaste);
    free(root_inv);
    free(root_side);
    free(ver_inv);
    if (t) {
        vl_fs_rmtree(t->txn_dir, NULL);
        txn_free(t);
    }
    return rc;
}

void vl_txn_abort(vl_txn *t)
{
    if (!t)
        return;
    vl_fs_rmtree(t->txn_dir, NULL);
    txn_free(t);
}
