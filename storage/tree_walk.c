/* A local folder tree walked in byte order (vl_storage.h), each folder's
 * names sorted in bounded memory (name_sort.c): a flat folder of a million
 * files costs a temporary file, not a hundred MiB of names. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "name_sort_private.h"
#include "vl_storage.h"

struct walk {
    const char *root, *rel, *dir;
    int with_dirs;
    vl_walk_fn fn;
    void *arg;
};

static int walk_dir(const char *root, const char *rel, int with_dirs,
                    vl_walk_fn fn, void *arg, vl_error *err);

static int walk_entry(void *arg, const char *name, int unused, vl_error *err)
{
    struct walk *w = arg;
    struct stat st;
    int kind, rc = VL_OK;
    char *full = vl_path_join(w->dir, name);
    char *child = w->rel[0] ? vl_path_join(w->rel, name) : vl_strdup(name);
    (void)unused;
    if (!full || !child) {
        rc = vl_error_sys(err, "%s", w->dir);
        goto done;
    }
    /* by path, not from an open folder: a deep tree would hold a
     * descriptor for each level */
    if (lstat(full, &st) != 0) {
        rc = vl_error_sys(err, "stat %s", full);
        goto done;
    }
    kind = S_ISREG(st.st_mode)   ? VL_WALK_FILE
           : S_ISDIR(st.st_mode) ? VL_WALK_DIR
           : S_ISLNK(st.st_mode) ? VL_WALK_SYMLINK
                                 : VL_WALK_OTHER;
    if (kind != VL_WALK_DIR || w->with_dirs)
        rc = w->fn(w->arg, child, kind, &st, err);
    if (rc == VL_OK && kind == VL_WALK_DIR)
        rc = walk_dir(w->root, child, w->with_dirs, w->fn, w->arg, err);
done:
    free(full);
    free(child);
    return rc;
}

static int walk_dir(const char *root, const char *rel, int with_dirs,
                    vl_walk_fn fn, void *arg, vl_error *err)
{
    vl_name_sort *names = NULL;
    DIR *d = NULL;
    int rc = VL_OK;
    char *dir = rel[0] ? vl_path_join(root, rel) : vl_strdup(root);
    if (!dir) {
        rc = vl_error_sys(err, "%s", root);
        goto done;
    }
    if (!(d = opendir(dir))) {
        rc = vl_error_sys(err, "read directory %s", dir);
        goto done;
    }
    if ((rc = vl_name_sort_new(&names, err)) != VL_OK ||
        (rc = vl_name_sort_read_dir(names, d, dir, err)) != VL_OK)
        goto done;
    closedir(d);
    d = NULL;
    struct walk w = {root, rel, dir, with_dirs, fn, arg};
    rc = vl_name_sort_each(names, walk_entry, &w, err);
done:
    if (d)
        closedir(d);
    vl_name_sort_free(names);
    free(dir);
    return rc;
}

int vl_tree_walk(const char *root, int with_dirs, vl_walk_fn fn, void *arg,
                 vl_error *err)
{
    return walk_dir(root, "", with_dirs, fn, arg, err);
}
