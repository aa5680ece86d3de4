/* Replicas: other OCFL storage roots, each in its own folder, that hold
 * copies of the primary's objects under the same layout.  Named in
 * vellum.conf (replica.NAME = FOLDER) and in the catalog's "replicas"
 * table; their backends are opened once per repository handle. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend_private.h"
#include "catalog_private.h"
#include "repo_internal.h"
#include "vl_json.h"

#define REPLICA_TXN_PREFIX ".vellum-txn-"

struct vl_copy_slot {
    char *name;
    char *root;
    vl_backend *b;
};

void vl_copies_free(vl_repo *r)
{
    for (size_t i = 0; i < r->ncopies; i++) {
        free(r->copies[i].name);
        free(r->copies[i].root);
        vl_backend_free(r->copies[i].b);
    }
    free(r->copies);
    r->copies = NULL;
    r->ncopies = 0;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || !strcmp(name, VL_PRIMARY_COPY))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
            return 0;
    }
    return 1;
}

static char *config_key(const char *name)
{
    return vl_asprintf(VL_REPLICA_KEY_PREFIX "%s", name);
}

/* No allocation, so a shortage of memory never reads as "no such
 * replica": a name too long for the buffer is one no replica can have. */
static const char *location_of(const vl_repo *r, const char *name)
{
    char key[sizeof VL_REPLICA_KEY_PREFIX + 64];
    if (strlen(name) > 64)
        return NULL;
    snprintf(key, sizeof key, VL_REPLICA_KEY_PREFIX "%s", name);
    return vl_repo_config_get(r, key);
}

size_t vl_replica_count(const vl_repo *r)
{
    size_t n = 0;
    const char *key;
    for (size_t i = 0; (key = vl_kv_key_at(r->config, i, NULL)); i++)
        if (!strncmp(key, VL_REPLICA_KEY_PREFIX, strlen(VL_REPLICA_KEY_PREFIX)))
            n++;
    return n;
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const vl_replica_info *)a)->name,
                  ((const vl_replica_info *)b)->name);
}

int vl_replica_list(vl_repo *r, vl_replica_fn fn, void *arg, vl_error *err)
{
    size_t n = 0, plen = strlen(VL_REPLICA_KEY_PREFIX);
    vl_replica_info *v = calloc(vl_replica_count(r) + 1, sizeof *v);
    const char *key, *value;
    int rc = VL_OK;
    if (!v)
        return vl_error_oom(err);
    for (size_t i = 0; (key = vl_kv_key_at(r->config, i, &value)); i++)
        if (!strncmp(key, VL_REPLICA_KEY_PREFIX, plen)) {
            v[n].name = key + plen;
            v[n].location = value;
            n++;
        }
    qsort(v, n, sizeof *v, cmp_info);
    for (size_t i = 0; i < n && rc == VL_OK; i++)
        if (fn(arg, &v[i]) != 0)
            break;
    free(v);
    return rc;
}

/* The primary's root files a replica must carry byte for byte. */
static const char *const root_files[] = {VL_ROOT_NAMASTE, "ocfl_layout.json",
                                         VL_LAYOUT_CONFIG};

int vl_root_files_same(vl_backend *ours, vl_backend *b, char *why, size_t whylen,
                       vl_error *err)
{
    vl_buf mine, theirs;
    int same = 1;
    vl_buf_init(&mine, 1 << 16);
    vl_buf_init(&theirs, 1 << 16);
    for (size_t i = 0; i < sizeof root_files / sizeof *root_files && same == 1; i++) {
        vl_error e = {0};
        vl_buf_release(&mine);     /* each read starts a new buffer */
        vl_buf_release(&theirs);
        if (vl_backend_read_all(ours, root_files[i], 1 << 16, &mine, &e) != VL_OK ||
            vl_backend_read_all(b, root_files[i], 1 << 16, &theirs, &e) != VL_OK) {
            snprintf(why, whylen, "%.400s", e.msg);
            same = 0;
            if (e.status == VL_ESYS && e.sys_errno == ENOMEM) {
                same = -1;
                if (err)
                    *err = e;
            }
        } else if (mine.len != theirs.len || memcmp(mine.data, theirs.data, mine.len)) {
            snprintf(why, whylen, "its %s differs from the repository's",
                     root_files[i]);
            same = 0;
        }
    }
    vl_buf_release(&mine);
    vl_buf_release(&theirs);
    return same;
}

/* A new storage root in an empty folder: the layout first, the
 * declaration last, so a folder with the declaration is whole. */
static int make_root(vl_repo *r, vl_backend *b, vl_error *err)
{
    vl_buf buf;
    int rc = VL_OK;
    vl_buf_init(&buf, 1 << 16);
    for (size_t i = sizeof root_files / sizeof *root_files; i-- > 0 && rc == VL_OK;) {
        vl_buf_release(&buf);      /* each read starts a new buffer */
        if ((rc = vl_backend_read_all(r->backend, root_files[i], 1 << 16, &buf,
                                      err)) == VL_OK)
            rc = vl_backend_write(b, root_files[i], buf.data, buf.len, err);
    }
    vl_buf_release(&buf);
    return rc;
}

/* One path inside the other (either way), after resolving both. */
static int nested(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;
    return !strncmp(a, b, n) && (a[n] == '/' || !a[n]) && (b[n] == '/' || !b[n]);
}

static int note_any(void *arg, const char *name, int kind, vl_error *err);

/* A replica's location, checked and ready for b: made a storage root when
 * empty, else it must be one with the primary's layout; then named in the
 * catalog and in vellum.conf (key).  fresh says what to give instead. */
static int take_root(vl_repo *r, const char *name, const char *key,
                     const char *location, vl_backend *b, int empty,
                     const char *fresh, vl_error *err)
{
    char why[512] = "", when[32];
    int rc, same;
    if (empty) {
        if ((rc = make_root(r, b, err)) != VL_OK)
            return rc;
    } else if ((same = vl_root_files_same(r->backend, b, why, sizeof why, err)) < 0) {
        return VL_ESYS;
    } else if (!same) {
        return vl_error_set(err, VL_EINPUT, "%s is not empty and is not an OCFL "
                            "storage root with this repository's layout (%s); give "
                            "a new %s", location, why, fresh);
    }
    vl_time_rfc3339(vl_time_now(), when);
    if ((rc = vl_catalog_replica_put(r->catalog, name, location, when, err)) != VL_OK)
        return rc;
    return vl_repo_config_set(r, key, location, err);
}

/* s3://BUCKET/PREFIX as a name to compare: "s3://b/p/" (one trailing '/'),
 * so that nesting is a prefix test. */
static char *s3_key_of(const char *url)
{
    size_t n = strlen(url);
    while (n > 5 && url[n - 1] == '/')
        n--;
    return vl_asprintf("%.*s/", (int)n, url);
}

static int s3_nested(const char *a, const char *b)
{
    char *x = s3_key_of(a), *y = s3_key_of(b);
    int yes = x && y && (!strncmp(x, y, strlen(x)) || !strncmp(y, x, strlen(y)));
    free(x);
    free(y);
    return yes;
}

/* A replica in an S3 bucket, reached with the repository's S3 settings
 * (s3.endpoint, credentials...).  It must not overlap the primary's store
 * or another replica; the prefix must be empty or a storage root with the
 * primary's layout. */
static int add_s3(vl_repo *r, const char *name, const char *url, vl_error *err)
{
    char *key = config_key(name), *conf = vl_path_join(r->dir, VL_CONFIG_FILE);
    vl_backend *b = NULL;
    int rc = VL_OK, any = 0;
    const char *k, *v;
    if (!key || !conf) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (vl_backend_is_s3_url(r->store_dir) && s3_nested(r->store_dir, url)) {
        rc = vl_error_set(err, VL_EINPUT, "%s overlaps the repository's own store %s; "
                          "a replica belongs in another bucket or prefix", url,
                          r->store_dir);
        goto done;
    }
    for (size_t i = 0; (k = vl_kv_key_at(r->config, i, &v)); i++)
        if (!strncmp(k, VL_REPLICA_KEY_PREFIX, strlen(VL_REPLICA_KEY_PREFIX)) &&
            vl_backend_is_s3_url(v) && s3_nested(v, url)) {
            rc = vl_error_set(err, VL_EINPUT, "%s overlaps replica \"%s\" (%s)", url,
                              k + strlen(VL_REPLICA_KEY_PREFIX), v);
            goto done;
        }
    if ((rc = vl_backend_s3_open(url, r->config, conf, &b, err)) != VL_OK ||
        (rc = vl_backend_list(b, "", note_any, &any, err)) != VL_OK)
        goto done;
    rc = take_root(r, name, key, url, b, !any, "bucket or an empty prefix", err);
done:
    vl_backend_free(b);
    free(key);
    free(conf);
    return rc;
}

static int note_any(void *arg, const char *name, int kind, vl_error *err)
{
    *(int *)arg = 1;
    return VL_OK;
}

int vl_replica_add(vl_repo *r, const char *name, const char *location,
                   vl_error *err)
{
    char *key = NULL, *abs = NULL, *real_repo = NULL, *real_loc = NULL;
    vl_backend *b = NULL;
    int rc = VL_OK;
    if (!name_ok(name))
        return vl_error_set(err, VL_EINPUT, "\"%s\" is not a usable replica name: "
                            "use letters, digits, '-', '_' and '.', start with a "
                            "letter or digit, at most 64 characters, not \"%s\"",
                            name, VL_PRIMARY_COPY);
    if (location_of(r, name))
        return vl_error_set(err, VL_EINPUT, "a replica named \"%s\" already exists "
                            "(at %s)", name, location_of(r, name));
    if (vl_backend_is_s3_url(location)) {
        rc = add_s3(r, name, location, err);
        goto done;
    }
    if (!(key = config_key(name)) || !(abs = vl_path_absolute(location))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs(abs, err)) != VL_OK)
        goto done;
    real_repo = realpath(r->dir, NULL);
    real_loc = realpath(abs, NULL);
    if (!real_repo || !real_loc) {
        rc = vl_error_sys(err, "cannot resolve %s", real_repo ? abs : r->dir);
        goto done;
    }
    if (nested(real_repo, real_loc)) {
        rc = vl_error_set(err, VL_EINPUT, "%s is %s the repository %s; a replica "
                          "belongs on another folder, ideally another disk", abs,
                          strlen(real_loc) >= strlen(real_repo) ? "inside" : "around",
                          r->dir);
        goto done;
    }
    const char *k, *v;
    for (size_t i = 0; (k = vl_kv_key_at(r->config, i, &v)); i++) {
        char *rv;
        if (strncmp(k, VL_REPLICA_KEY_PREFIX, strlen(VL_REPLICA_KEY_PREFIX)))
            continue;
        rv = realpath(v, NULL);
        int clash = rv && nested(rv, real_loc);
        free(rv);
        if (clash) {
            rc = vl_error_set(err, VL_EINPUT, "%s overlaps replica \"%s\" (%s)", abs,
                              k + strlen(VL_REPLICA_KEY_PREFIX), v);
            goto done;
        }
    }
    if (!(b = vl_backend_fs_new(abs))) {
        rc = vl_error_oom(err);
        goto done;
    }
    int empty = vl_fs_dir_empty(abs);
    if (empty < 0) {
        rc = vl_error_set(err, VL_EINPUT, "%s is not a folder", abs);
        goto done;
    }
    rc = take_root(r, name, key, abs, b, empty, "or empty folder", err);
done:
    vl_backend_free(b);
    free(key);
    free(abs);
    free(real_repo);
    free(real_loc);
    return rc;
}

int vl_replica_remove(vl_repo *r, const char *name, vl_error *err)
{
    char *key = config_key(name), *conf = vl_path_join(r->dir, VL_CONFIG_FILE);
    int rc = VL_OK;
    if (!key || !conf) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!vl_kv_get(r->config, key)) {
        rc = vl_error_set(err, VL_EINPUT, "no replica named \"%s\"", name);
        goto done;
    }
    for (size_t i = 0; i < r->ncopies; i++)
        if (!strcmp(r->copies[i].name, name)) {
            free(r->copies[i].name);
            free(r->copies[i].root);
            vl_backend_free(r->copies[i].b);
            r->copies[i] = r->copies[--r->ncopies];
            break;
        }
    vl_kv_unset(r->config, key);
    if ((rc = vl_kv_save(r->config, conf, err)) != VL_OK)
        goto done;
    rc = vl_catalog_replica_forget(r->catalog, name, err);
done:
    free(key);
    free(conf);
    return rc;
}

const char *vl_copy_root(vl_repo *r, const char *name)
{
    if (!strcmp(name, VL_PRIMARY_COPY))
        return r->store_dir;
    return location_of(r, name);
}

int vl_copy_backend(vl_repo *r, const char *name, vl_backend **out,
                    vl_error *err)
{
    const char *loc;
    char *ns = NULL;
    char why[512] = "";
    vl_backend *b = NULL;
    int rc = VL_OK, same;
    if (!strcmp(name, VL_PRIMARY_COPY)) {
        *out = r->backend;
        return VL_OK;
    }
    for (size_t i = 0; i < r->ncopies; i++)
        if (!strcmp(r->copies[i].name, name)) {
            *out = r->copies[i].b;
            return VL_OK;
        }
    if (!(loc = location_of(r, name)))
        return vl_error_set(err, VL_EINPUT, "no replica named \"%s\"", name);
    if (vl_backend_is_s3_url(loc)) {
        char *conf = vl_path_join(r->dir, VL_CONFIG_FILE);
        rc = conf ? vl_backend_s3_open(loc, r->config, conf, &b, err) : vl_error_oom(err);
        free(conf);
        if (rc != VL_OK) {
            /* an S3 replica that cannot be used now is unreachable (ESYS) */
            if (rc == VL_EINPUT)
                rc = vl_error_set(err, VL_ESYS, "replica \"%s\": %s", name, err->msg);
            return rc;
        }
        if (!(ns = vl_strdup(loc))) {
            rc = vl_error_oom(err);
            goto done;
        }
    } else if (!vl_fs_is_dir(loc)) {
        errno = ENOENT;
        return vl_error_sys(err, "replica \"%s\": cannot reach %s", name, loc);
    }
    if (!b && (!(b = vl_backend_fs_new(loc)) || !(ns = vl_path_join(loc, VL_ROOT_NAMASTE)))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((same = vl_root_files_same(r->backend, b, why, sizeof why, err)) < 0) {
        rc = VL_ESYS;
        goto done;
    }
    if (!same) {
        rc = vl_error_set(err, VL_ESYS, "replica \"%s\" (%s) is not a storage root "
                          "with this repository's layout: %s", name, loc, why);
        goto done;
    }
    if (VL_GROW(r->copies, r->copies_cap, r->ncopies + 1, err) != VL_OK) {
        rc = VL_ESYS;
        goto done;
    }
    struct vl_copy_slot *s = &r->copies[r->ncopies];
    if (!(s->name = vl_strdup(name)) || !(s->root = vl_strdup(loc))) {
        free(s->name);
        rc = vl_error_oom(err);
        goto done;
    }
    s->b = b;
    r->ncopies++;
    *out = b;
done:
    free(ns);
    if (rc != VL_OK)
        vl_backend_free(b);
    return rc;
}

/* ---- transaction folders on a copy's filesystem ----------------------- */

int vl_copy_txn_dir(vl_repo *r, const char *copy, const char *id,
                    const char *intent, char **out, vl_error *err)
{
    char *dir = NULL, *ipath = NULL;
    int rc = VL_OK;
    const char *root = vl_copy_root(r, copy);
    *out = NULL;
    if (!root)
        return vl_error_set(err, VL_EINPUT, "no replica named \"%s\"", copy);
    /* A copy on S3 has no filesystem of its own: it is built in staging,
     * and recover settles it by the intent's "replica". */
    if (!strcmp(copy, VL_PRIMARY_COPY) || vl_backend_is_s3_url(root))
        dir = vl_repo_txn_dir_new(r, id);
    else
        dir = vl_txn_dir_new(root, REPLICA_TXN_PREFIX, id);
    if (!dir) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs(dir, err)) != VL_OK)
        goto done;
    if (intent) {
        if (!(ipath = vl_path_join(dir, VL_INTENT_FILE))) {
            rc = vl_error_oom(err);
            goto done;
        }
        if ((rc = vl_fs_write_atomic(ipath, intent, strlen(intent), err)) != VL_OK)
            goto done;
    }
    *out = dir;
    dir = NULL;
done:
    if (dir)
        vl_fs_rmtree(dir, NULL);
    free(dir);
    free(ipath);
    return rc;
}

/* One .vellum-txn-<key>-<uuid> folder at a replica's root: left alone while
 * its object's lock is held; otherwise the object it names is settled. */
static int settle_replica_txn(vl_repo *r, vl_backend *b, const char *root,
                              const char *entry, size_t *settled, vl_error *err)
{
    char key[VL_DIGEST_HEX_MAX];
    const char *base = entry + strlen(REPLICA_TXN_PREFIX);
    size_t klen = strcspn(base, "-");
    char *dir = vl_path_join(root, entry), *ipath = NULL, *unhealed = NULL;
    char *objdir = NULL;
    vl_lock *lock = NULL;
    vl_buf buf;
    json_t *intent = NULL;
    int rc = VL_OK, changed = 0;
    vl_buf_init(&buf, 1 << 16);
    if (!dir || !(ipath = vl_path_join(dir, VL_INTENT_FILE))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (klen == 0 || klen >= sizeof key)
        goto remove;
    memcpy(key, base, klen);
    key[klen] = '\0';
    if (vl_lock_by_key(r, key, 0, &lock, NULL) != VL_OK)
        goto done;   /* a live replicate or repair */
    if (vl_fs_exists(ipath)) {
        if ((rc = vl_fs_read_file(ipath, 1 << 16, &buf, err)) != VL_OK)
            goto done;
        intent = json_loadb(buf.data, buf.len, 0, NULL);
        const char *obj = json_string_value(json_object_get(intent, "object"));
        int num = (int)json_integer_value(json_object_get(intent, "version"));
        if (obj && num >= 1) {
            if (!(objdir = vl_path_join(root, obj))) {
                rc = vl_error_oom(err);
                goto done;
            }
            if ((rc = vl_recover_clean_temps(objdir, err)) != VL_OK ||
                (rc = vl_recover_settle(b, obj, num, &changed, &unhealed, NULL, NULL,
                                        err)) != VL_OK)
                goto done;
            /* An object recover cannot settle is left for repair, which
             * restores it from another copy. */
        }
    }
remove:
    if ((rc = vl_fs_rmtree(dir, err)) == VL_OK)
        (*settled)++;
done:
    vl_lock_release(lock);
    json_decref(intent);
    vl_buf_release(&buf);
    free(dir);
    free(ipath);
    free(objdir);
    free(unhealed);
    return rc;
}

struct recover_ctx {
    vl_repo *r;
    size_t *settled;
    vl_error *err;
    int rc;
};

static int recover_one(void *arg, const vl_replica_info *ri)
{
    struct recover_ctx *c = arg;
    vl_backend *b = NULL;
    vl_error e = {0};
    DIR *d;
    struct dirent *ent;
    if (vl_copy_backend(c->r, ri->name, &b, &e) != VL_OK)
        return 0;   /* unreachable now: its leftovers wait for the next run */
    if (!(d = opendir(ri->location)))
        return 0;
    while ((ent = readdir(d)) && c->rc == VL_OK)
        if (!strncmp(ent->d_name, REPLICA_TXN_PREFIX, strlen(REPLICA_TXN_PREFIX)))
            c->rc = settle_replica_txn(c->r, b, ri->location, ent->d_name,
                                       c->settled, c->err);
    closedir(d);
    return c->rc != VL_OK;
}

int vl_replicas_recover(vl_repo *r, size_t *settled, vl_error *err)
{
    struct recover_ctx c = {r, settled, err, VL_OK};
    int rc = vl_replica_list(r, recover_one, &c, err);
    return rc != VL_OK ? rc : c.rc;
}
