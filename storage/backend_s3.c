/* The S3 backend: an OCFL storage root under s3://BUCKET/PREFIX, the keys
 * being the OCFL paths, so other OCFL tools can read the bucket.  There
 * are no folders: a "folder" is a key prefix, there while a key is under
 * it.  Nothing can be renamed either, so a folder is put file by file,
 * each inventory after everything beside and below it; a version whose
 * inventory.json is there is whole, and what an interrupted upload left
 * is what no inventory names (recover removes it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_private.h"
#include "name_sort_private.h"
#include "s3_config_private.h"
#include "s3_private.h"
#include "vl_storage.h"

struct s3_backend {
    vl_backend base;
    vl_s3 *s3;
    char *prefix;        /* "" or "a/b" */
};

struct s3_reader {
    vl_reader base;
    vl_s3_reader *r;
};

#define S3(b) ((struct s3_backend *)(b))

#ifdef VELLUM_TEST_HOOKS
#include <signal.h>
/* The crash tests kill the process before its N-th write to the bucket
 * (VELLUM_S3_KILL_AT=N), as the folder's tests do before each rename or
 * fsync; uploads then go one at a time, so each is a step. */
static long kill_at(void)
{
    const char *at = getenv("VELLUM_S3_KILL_AT");
    return at ? atol(at) : 0;
}

static void step(void)
{
    static long n;
    long at = kill_at();
    if (at && ++n == at)
        raise(SIGKILL);
}
#else
static long kill_at(void) { return 0; }
static void step(void) {}
#endif
#define FOUND_ONE 0x7f10    /* stops a listing at its first entry */

static char *key_of(vl_backend *b, const char *rel)
{
    const char *prefix = S3(b)->prefix;
    if (!rel || !*rel)
        return vl_strdup(prefix);
    if (!*prefix)
        return vl_strdup(rel);
    return vl_asprintf("%s/%s", prefix, rel);
}

/* "a/b" -> "PREFIX/a/b/"; "" -> "PREFIX/" (or "" for the bucket's root). */
static char *dir_prefix_of(vl_backend *b, const char *rel)
{
    char *k = key_of(b, rel);
    if (!k || !*k)
        return k;
    char *p = vl_asprintf("%s/", k);
    free(k);
    return p;
}

static void s3_free(vl_backend *b)
{
    vl_s3_close(S3(b)->s3);
    free(S3(b)->prefix);
    free(b->root);
    free(b);
}

static ssize_t s3_read(vl_reader *reader, void *buf, size_t cap, vl_error *err)
{
    return vl_s3_reader_read(((struct s3_reader *)reader)->r, buf, cap, err);
}

static void s3_reader_close(vl_reader *reader)
{
    vl_s3_reader_close(((struct s3_reader *)reader)->r);
    free(reader);
}

static int s3_open(vl_backend *b, const char *rel, vl_reader **out, vl_error *err)
{
    struct s3_reader *r = calloc(1, sizeof *r);
    char *key = key_of(b, rel);
    int rc = VL_OK;
    if (!r || !key) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_s3_reader_open(S3(b)->s3, key, &r->r, err)) != VL_OK)
        goto done;
    r->base.read = s3_read;
    r->base.close = s3_reader_close;
    *out = &r->base;
    r = NULL;
done:
    free(r);
    free(key);
    return rc;
}

static int s3_read_all(vl_backend *b, const char *rel, size_t max, vl_buf *out,
                       vl_error *err)
{
    char *key = key_of(b, rel);
    if (!key)
        return vl_error_oom(err);
    int rc = vl_s3_get_mem(S3(b)->s3, key, max, out, err);
    free(key);
    return rc;
}

static int found_one(void *arg, const char *name, int is_prefix, uint64_t size,
                     vl_error *err)
{
    return FOUND_ONE;
}

static int s3_stat(vl_backend *b, const char *rel, int *kind, uint64_t *size,
                   vl_error *err)
{
    int rc = VL_OK, exists = 0;
    uint64_t sz = 0;
    char *key = NULL, *dir = NULL;
    *kind = 0;
    if (size)
        *size = 0;
    if (!rel || !*rel) {
        *kind = VL_WALK_DIR;
        return VL_OK;
    }
    if (!(key = key_of(b, rel)) || !(dir = dir_prefix_of(b, rel))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_s3_head(S3(b)->s3, key, &exists, &sz, err)) != VL_OK)
        goto done;
    if (exists) {
        *kind = VL_WALK_FILE;
        if (size)
            *size = sz;
        goto done;
    }
    rc = vl_s3_list(S3(b)->s3, dir, 0, found_one, NULL, err);
    if (rc == FOUND_ONE) {
        *kind = VL_WALK_DIR;
        rc = VL_OK;
    }
done:
    free(key);
    free(dir);
    return rc;
}

struct entry {
    char *name;
    int kind;
};

struct entries {
    struct entry *v;
    size_t n, cap;
};

static int collect(void *arg, const char *name, int is_prefix, uint64_t size,
                   vl_error *err)
{
    struct entries *e = arg;
    int rc;
    if (!*name)
        return VL_OK;    /* the "folder" key some tools write */
    if ((rc = VL_GROW(e->v, e->cap, e->n + 1, err)) != VL_OK)
        return rc;
    if (!(e->v[e->n].name = vl_strdup(name)))
        return vl_error_oom(err);
    e->v[e->n++].kind = is_prefix ? VL_WALK_DIR : VL_WALK_FILE;
    return VL_OK;
}

static void entries_free(struct entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].name);
    free(e->v);
}

static int collect_sorted(void *arg, const char *name, int is_prefix,
                          uint64_t size, vl_error *err)
{
    (void)size;
    if (!*name)
        return VL_OK;    /* the "folder" key some tools write */
    return vl_name_sort_add(arg, name, is_prefix ? VL_WALK_DIR : VL_WALK_FILE, err);
}

static int s3_list(vl_backend *b, const char *rel_dir, vl_list_fn fn, void *arg,
                   vl_error *err)
{
    vl_name_sort *names = NULL;
    char *dir = dir_prefix_of(b, rel_dir);
    int rc = VL_OK;
    if (!dir)
        return vl_error_oom(err);
    /* S3 pages keys and common prefixes apart: sorted here, in bounded
     * memory (name_sort.c) */
    if ((rc = vl_name_sort_new(&names, err)) != VL_OK ||
        (rc = vl_s3_list(S3(b)->s3, dir, 0, collect_sorted, names, err)) != VL_OK)
        goto done;
    if (!vl_name_sort_count(names) && rel_dir && *rel_dir) {
        /* No key under it: on S3 that is no folder at all. */
        rc = vl_error_set(err, VL_ESYS, "cannot list %s/%s: no such folder",
                          b->root, rel_dir);
        if (err)
            err->sys_errno = ENOENT;
        goto done;
    }
    rc = vl_name_sort_each(names, fn, arg, err);
done:
    vl_name_sort_free(names);
    free(dir);
    return rc;
}

static int s3_write(vl_backend *b, const char *rel, const void *data, size_t len,
                    vl_error *err)
{
    char *key = key_of(b, rel);
    if (!key)
        return vl_error_oom(err);
    step();
    int rc = vl_s3_put_mem(S3(b)->s3, key, data, len, err);
    free(key);
    return rc;
}

/* A folder's files in upload order: first every file that is not an
 * inventory (in parallel), then inventories and their sidecars deepest
 * first, each sidecar before its inventory.json, so that the inventory of
 * a version (and last the object's root inventory) appears only after
 * everything it names. */
struct put_walk {
    struct entries bulk, inv;
};

static int is_inventory_name(const char *rel)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    return !strncmp(base, VL_INVENTORY_FILE, VL_INVENTORY_FILE_LEN);
}

static int put_walk_fn(void *arg, const char *rel, int kind, const struct stat *st,
                       vl_error *err)
{
    struct put_walk *w = arg;
    if (kind != VL_WALK_FILE)
        return kind == VL_WALK_DIR ? VL_OK
                                   : vl_error_set(err, VL_EINPUT, "%s is not a "
                                                  "regular file", rel);
    return collect(is_inventory_name(rel) ? &w->inv : &w->bulk, rel, 0, 0, err);
}

static int depth(const char *rel)
{
    int d = 0;
    for (; *rel; rel++)
        d += *rel == '/';
    return d;
}

static int inventory_order(const void *a, const void *b)
{
    const char *x = ((const struct entry *)a)->name;
    const char *y = ((const struct entry *)b)->name;
    int dx = depth(x), dy = depth(y);
    if (dx != dy)
        return dy - dx;                     /* deeper first */
    int ix = !strcmp(strrchr(x, '/') ? strrchr(x, '/') + 1 : x, VL_INVENTORY_FILE);
    int iy = !strcmp(strrchr(y, '/') ? strrchr(y, '/') + 1 : y, VL_INVENTORY_FILE);
    if (ix != iy)
        return ix - iy;                     /* sidecar before inventory */
    return strcmp(x, y);
}

static int upload(vl_backend *b, const char *local_root, const char *rel,
                  struct entries *e, int in_parallel, vl_error *err)
{
    int rc = VL_OK;
    char **keys = calloc(e->n ? e->n : 1, sizeof *keys);
    char **paths = calloc(e->n ? e->n : 1, sizeof *paths);
    if (!keys || !paths) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < e->n; i++) {
        char *r = vl_path_join(rel, e->v[i].name);
        keys[i] = r ? key_of(b, r) : NULL;
        paths[i] = vl_path_join(local_root, e->v[i].name);
        free(r);
        if (!keys[i] || !paths[i]) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    if (in_parallel && !kill_at()) {
        rc = vl_s3_put_files(S3(b)->s3, e->n, (const char *const *)keys,
                             (const char *const *)paths, err);
    } else {
        for (size_t i = 0; i < e->n && rc == VL_OK; i++) {
            step();
            rc = vl_s3_put_file(S3(b)->s3, keys[i], paths[i], err);
        }
    }
done:
    for (size_t i = 0; keys && paths && i < e->n; i++) {
        free(keys[i]);
        free(paths[i]);
    }
    free(keys);
    free(paths);
    return rc;
}

static int s3_remove_tree(vl_backend *b, const char *rel, vl_removed_fn fn,
                          void *arg, vl_error *err);

static int s3_put(vl_backend *b, const char *local_path, const char *rel,
                  vl_error *err)
{
    struct put_walk w = {{0}, {0}};
    int rc = VL_OK, kind = 0;
    if ((rc = s3_stat(b, rel, &kind, NULL, err)) != VL_OK)
        goto done;
    if (kind) {
        rc = vl_error_set(err, VL_ESYS, "cannot put %s at %s/%s: it is already "
                          "there", local_path, b->root, rel);
        if (err)
            err->sys_errno = EEXIST;
        goto done;
    }
    if (!vl_fs_is_dir(local_path)) {
        char *key = key_of(b, rel);
        step();
        rc = key ? vl_s3_put_file(S3(b)->s3, key, local_path, err) : vl_error_oom(err);
        free(key);
        if (rc == VL_OK && unlink(local_path) != 0)
            rc = vl_error_sys(err, "cannot remove %s", local_path);
        goto done;
    }
    if ((rc = vl_tree_walk(local_path, 0, put_walk_fn, &w, err)) != VL_OK)
        goto done;
    if (w.inv.n > 1)
        qsort(w.inv.v, w.inv.n, sizeof *w.inv.v, inventory_order);
    if ((rc = upload(b, local_path, rel, &w.bulk, 1, err)) != VL_OK ||
        (rc = upload(b, local_path, rel, &w.inv, 0, err)) != VL_OK) {
        /* Take back what went up (it was not there before); if the store
         * cannot be reached now, recover does it later. */
        s3_remove_tree(b, rel, NULL, NULL, NULL);
        goto done;
    }
    /* As after a rename, the staged copy is gone. */
    rc = vl_fs_rmtree(local_path, err);
done:
    entries_free(&w.bulk);
    entries_free(&w.inv);
    return rc;
}

static int s3_prune(vl_backend *b, const char *rel, vl_error *err)
{
    return VL_OK;    /* no folders to remove */
}

static void told(vl_backend *b, vl_removed_fn fn, void *arg, const char *key)
{
    char *where = fn ? vl_asprintf("s3://%s/%s", vl_s3_bucket(S3(b)->s3), key) : NULL;
    if (where)
        fn(arg, where);
    free(where);
}

static int s3_remove_tree(vl_backend *b, const char *rel, vl_removed_fn fn,
                          void *arg, vl_error *err)
{
    struct entries e = {0};
    char *dir = dir_prefix_of(b, rel), *key = key_of(b, rel), *k = NULL;
    int rc = VL_OK;
    if (!dir || !key) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_s3_list(S3(b)->s3, dir, 1, collect, &e, err)) != VL_OK)
        goto done;
    for (size_t i = 0; i < e.n && rc == VL_OK; i++) {
        if (!(k = vl_asprintf("%s%s", dir, e.v[i].name))) {
            rc = vl_error_oom(err);
            break;
        }
        step();
        if ((rc = vl_s3_delete(S3(b)->s3, k, err)) == VL_OK)
            told(b, fn, arg, k);
        free(k);
    }
    if (rc == VL_OK && *rel) {
        int exists = 0;
        uint64_t size;
        step();
        if ((rc = vl_s3_head(S3(b)->s3, key, &exists, &size, err)) == VL_OK && exists &&
            (rc = vl_s3_delete(S3(b)->s3, key, err)) == VL_OK)
            told(b, fn, arg, key);
    }
done:
    entries_free(&e);
    free(dir);
    free(key);
    return rc;
}

static int s3_commit_inventory_copy(vl_backend *b, const char *object_rel,
                                    const char *from_rel, const char *sidecar_name,
                                    const char *sidecar, vl_error *err)
{
    /* Copied on the server: an inventory of any size costs no memory here.
     * The root inventory first, then its sidecar, as a commit writes them. */
    char *from = vl_path_join(object_rel, from_rel);
    char *to = vl_path_join(object_rel, VL_INVENTORY_FILE);
    char *from_key = from ? key_of(b, from) : NULL;
    char *to_key = to ? key_of(b, to) : NULL;
    char *side_rel = vl_path_join(object_rel, sidecar_name);
    int rc;
    if (!from_key || !to_key || !side_rel) {
        rc = vl_error_oom(err);
        goto done;
    }
    step();
    if ((rc = vl_s3_copy(S3(b)->s3, from_key, to_key, err)) == VL_OK)
        rc = s3_write(b, side_rel, sidecar, strlen(sidecar), err);
done:
    free(from);
    free(to);
    free(from_key);
    free(to_key);
    free(side_rel);
    return rc;
}

static const struct vl_backend_ops s3_ops = {
    .free = s3_free,
    .open = s3_open,
    .read_all = s3_read_all,
    .stat = s3_stat,
    .list = s3_list,
    .write = s3_write,
    .put = s3_put,
    .prune = s3_prune,
    .remove_tree = s3_remove_tree,
    .commit_inventory_copy = s3_commit_inventory_copy,
};

int vl_backend_s3_open(const char *url, const vl_kv *config,
                       const char *config_path, vl_backend **out, vl_error *err)
{
    vl_s3_settings set;
    vl_s3_config c;
    char *bucket = NULL, *prefix = NULL;
    struct s3_backend *b = NULL;
    int rc, have_settings = 0;
    if ((rc = vl_s3_parse_url(url, &bucket, &prefix, err)) != VL_OK)
        goto done;
    if ((rc = vl_s3_settings_resolve(config, config_path, &set, err)) != VL_OK)
        goto done;
    have_settings = 1;
    vl_s3_settings_config(&set, &c);
    if (!(b = calloc(1, sizeof *b)) ||
        !(b->base.root = *prefix ? vl_asprintf("s3://%s/%s", bucket, prefix)
                                 : vl_asprintf("s3://%s", bucket))) {
        rc = vl_error_oom(err);
        goto done;
    }
    b->base.ops = &s3_ops;
    b->base.atomic_put = 0;
    b->prefix = prefix;
    prefix = NULL;
    if ((rc = vl_s3_open(&c, bucket, &b->s3, err)) != VL_OK ||
        (rc = vl_s3_check_bucket(b->s3, err)) != VL_OK)
        goto done;
    *out = &b->base;
    b = NULL;
done:
    if (b) {
        vl_s3_close(b->s3);
        free(b->prefix);
        free(b->base.root);
        free(b);
    }
    if (have_settings)
        vl_s3_settings_release(&set);
    free(bucket);
    free(prefix);
    return rc;
}
