/* The local-filesystem backend: relative paths under a root folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_private.h"
#include "name_sort_private.h"
#include "vl_storage.h"

struct fs_reader {
    vl_reader base;
    int fd;
    char *path;
};

static void fs_free(vl_backend *b)
{
    free(b->root);
    free(b);
}

static char *abs_path(const vl_backend *b, const char *rel)
{
    if (!rel || !*rel)
        return vl_strdup(b->root);
    return vl_path_join(b->root, rel);
}

static ssize_t fs_read(vl_reader *reader, void *buf, size_t cap, vl_error *err)
{
    struct fs_reader *r = (struct fs_reader *)reader;
    for (;;) {
        ssize_t n = read(r->fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        vl_error_sys(err, "cannot read %s", r->path);
        return -1;
    }
}

static int fs_file(vl_reader *reader, const char **path)
{
    struct fs_reader *r = (struct fs_reader *)reader;
    *path = r->path;
    return r->fd;
}

static void fs_reader_close(vl_reader *reader)
{
    struct fs_reader *r = (struct fs_reader *)reader;
    close(r->fd);
    free(r->path);
    free(r);
}

static int fs_open(vl_backend *b, const char *rel, vl_reader **out,
                   vl_error *err)
{
    int rc = VL_OK;
    char *p = abs_path(b, rel);
    struct fs_reader *r = NULL;
    if (!p)
        return vl_error_oom(err);
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot open %s", p);
        goto done;
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        close(fd);
        rc = vl_error_oom(err);
        goto done;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    r->base.read = fs_read;
    r->base.close = fs_reader_close;
    r->base.file = fs_file;
    r->fd = fd;
    r->path = p;
    p = NULL;
    *out = &r->base;
done:
    free(p);
    return rc;
}

static int fs_read_all(vl_backend *b, const char *rel, size_t max,
                        vl_buf *out, vl_error *err)
{
    char *p = abs_path(b, rel);
    if (!p)
        return vl_error_oom(err);
    int rc = vl_fs_read_file(p, max, out, err);
    free(p);
    return rc;
}

static int kind_of(mode_t m)
{
    if (S_ISREG(m))
        return VL_WALK_FILE;
    if (S_ISDIR(m))
        return VL_WALK_DIR;
    if (S_ISLNK(m))
        return VL_WALK_SYMLINK;
    return VL_WALK_OTHER;
}

static int fs_stat(vl_backend *b, const char *rel, int *kind, uint64_t *size,
                    vl_error *err)
{
    int rc = VL_OK;
    struct stat st;
    char *p = abs_path(b, rel);
    if (!p)
        return vl_error_oom(err);
    if (lstat(p, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *kind = 0;
            if (size)
                *size = 0;
        } else {
            rc = vl_error_sys(err, "cannot stat %s", p);
        }
        goto done;
    }
    *kind = kind_of(st.st_mode);
    if (size)
        *size = (uint64_t)st.st_size;
done:
    free(p);
    return rc;
}

/* Each name's kind, by path: the folder is closed by then, so a caller
 * that walks deeper from the callback holds no descriptor per level. */
struct list_ctx {
    const char *dir;
    vl_list_fn fn;
    void *arg;
};

static int list_one(void *arg, const char *name, int kind, vl_error *err)
{
    struct list_ctx *c = arg;
    struct stat st;
    char *full = vl_path_join(c->dir, name);
    if (!full)
        return vl_error_oom(err);
    kind = lstat(full, &st) == 0 ? kind_of(st.st_mode) : VL_WALK_OTHER;
    free(full);
    return c->fn(c->arg, name, kind, err);
}

static int fs_list(vl_backend *b, const char *rel_dir, vl_list_fn fn,
                    void *arg, vl_error *err)
{
    int rc = VL_OK;
    char *p = abs_path(b, rel_dir);
    DIR *d = NULL;
    vl_name_sort *names = NULL;
    if (!p)
        return vl_error_oom(err);
    d = opendir(p);
    if (!d) {
        rc = vl_error_sys(err, "cannot list %s", p);
        goto done;
    }
    /* In byte order, for output that does not depend on the filesystem;
     * a flat folder of a million files spills to disk (name_sort.c). */
    if ((rc = vl_name_sort_new(&names, err)) != VL_OK ||
        (rc = vl_name_sort_read_dir(names, d, p, err)) != VL_OK)
        goto done;
    closedir(d);
    d = NULL;
    struct list_ctx c = {p, fn, arg};
    rc = vl_name_sort_each(names, list_one, &c, err);
done:
    vl_name_sort_free(names);
    if (d)
        closedir(d);
    free(p);
    return rc;
}

static int fs_write(vl_backend *b, const char *rel, const void *data,
                     size_t len, vl_error *err)
{
    char *p = abs_path(b, rel);
    if (!p)
        return vl_error_oom(err);
    int rc = vl_fs_mkdirs_parent(p, err);
    /* Whatever is written into the store is committed: read-only. */
    if (rc == VL_OK)
        rc = vl_fs_write_atomic_readonly(p, data, len, err);
    free(p);
    return rc;
}

static int fs_put(vl_backend *b, const char *local_path, const char *rel,
                   vl_error *err)
{
    char *p = abs_path(b, rel);
    int rc = VL_OK, moved = -1;
    if (!p)
        return vl_error_oom(err);
    /* recover may prune an empty parent that another process just made
     * (vl_backend_prune): make the path again and retry the move. */
    for (int tries = 0; tries < 3 && moved != 0; tries++) {
        if ((rc = vl_fs_mkdirs_parent(p, err)) != VL_OK)
            goto done;
        /* RENAME_NOREPLACE: never clobber something another writer put there. */
        moved = renameat2(AT_FDCWD, local_path, AT_FDCWD, p, RENAME_NOREPLACE);
        if (moved != 0 && errno != ENOENT)
            break;
    }
    if (moved != 0) {
        rc = vl_error_sys(err, "cannot move %s to %s", local_path, p);
        /* leave no empty path behind in the store */
        char *slash = strrchr(rel, '/');
        if (slash) {
            char *parent = vl_strndup(rel, (size_t)(slash - rel));
            if (parent)
                vl_backend_prune(b, parent, NULL);
            free(parent);
        }
        goto done;
    }
    rc = vl_fs_fsync_parent(p, err);
done:
    free(p);
    return rc;
}

static int fs_prune(vl_backend *b, const char *rel, vl_error *err)
{
    char *cur = vl_strdup(rel);
    int rc = VL_OK;
    if (!cur)
        return vl_error_oom(err);
    while (*cur) {
        char *p = abs_path(b, cur);
        if (!p) {
            rc = vl_error_oom(err);
            break;
        }
        int gone = rmdir(p);
        if (gone != 0 && errno != ENOENT) {
            if (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR)
                rc = vl_error_sys(err, "cannot remove %s", p);
            free(p);
            break;
        }
        if (gone == 0 && (rc = vl_fs_fsync_parent(p, err)) != VL_OK) {
            free(p);
            break;
        }
        free(p);
        char *slash = strrchr(cur, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    free(cur);
    return rc;
}

static int fs_commit_inventory_copy(vl_backend *b, const char *object_rel,
                                     const char *from_rel,
                                     const char *sidecar_name,
                                     const char *sidecar, vl_error *err)
{
    int rc = VL_OK;
    char *from = NULL, *inv = NULL, *tmp = NULL, *side_rel = NULL;
    char *obj_from = vl_path_join(object_rel, from_rel);
    char *inv_rel = vl_path_join(object_rel, VL_INVENTORY_FILE);
    if (!obj_from || !inv_rel || !(from = abs_path(b, obj_from)) ||
        !(inv = abs_path(b, inv_rel)) ||
        !(tmp = vl_asprintf("%s.tmp-%ld", inv, (long)getpid())) ||
        !(side_rel = vl_path_join(object_rel, sidecar_name))) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* temp, fsync (in the copy), rename, fsync the folder: as
     * vl_fs_write_atomic, without holding the text in memory.  A temp of
     * a dead process with our pid may be read-only: removed first. */
    unlink(tmp);
    if ((rc = vl_fs_copy_file_readonly(from, tmp, err)) != VL_OK)
        goto done;
    if (rename(tmp, inv) != 0) {
        rc = vl_error_sys(err, "rename %s to %s", tmp, inv);
        unlink(tmp);
        goto done;
    }
    if ((rc = vl_fs_fsync_parent(inv, err)) != VL_OK)
        goto done;
    rc = vl_backend_write(b, side_rel, sidecar, strlen(sidecar), err);
done:
    free(obj_from);
    free(inv_rel);
    free(from);
    free(inv);
    free(tmp);
    free(side_rel);
    return rc;
}

static int fs_remove_tree(vl_backend *b, const char *rel, vl_removed_fn fn,
                          void *arg, vl_error *err)
{
    char *p = abs_path(b, rel);
    if (!p)
        return vl_error_oom(err);
    int rc = VL_OK;
    if (vl_fs_exists(p) && (rc = vl_fs_rmtree(p, err)) == VL_OK && fn)
        fn(arg, p);
    free(p);
    return rc;
}

static const struct vl_backend_ops fs_ops = {
    .free = fs_free,
    .open = fs_open,
    .read_all = fs_read_all,
    .stat = fs_stat,
    .list = fs_list,
    .write = fs_write,
    .put = fs_put,
    .prune = fs_prune,
    .remove_tree = fs_remove_tree,
    .commit_inventory_copy = fs_commit_inventory_copy,
};

vl_backend *vl_backend_fs_new(const char *root_dir)
{
    vl_backend *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->ops = &fs_ops;
    b->atomic_put = 1;
    b->root = vl_strdup(root_dir);
    if (!b->root) {
        free(b);
        return NULL;
    }
    size_t n = strlen(b->root);
    while (n > 1 && b->root[n - 1] == '/')
        b->root[--n] = '\0';
    return b;
}
