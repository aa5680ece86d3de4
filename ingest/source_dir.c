/* Folder and single-file sources: a sorted list of the regular files to
 * deposit, each with its logical path under data/.  Everything is checked
 * before a byte is copied, so a refusal stores nothing. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ingest_internal.h"

static int add_entry(vl_entry_list *l, const char *src, const char *logical,
                     uint64_t size, vl_error *err)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 256;
        vl_entry *ne = realloc(l->items, ncap * sizeof *ne);
        if (!ne)
            return vl_error_set(err, VL_ESYS, "out of memory");
        l->items = ne;
        l->cap = ncap;
    }
    vl_entry *e = &l->items[l->n];
    e->src = vl_strdup(src);
    e->logical = vl_strdup(logical);
    e->size = size;
    if (!e->src || !e->logical) {
        free(e->src);
        free(e->logical);
        return vl_error_set(err, VL_ESYS, "out of memory");
    }
    l->n++;
    l->bytes += size;
    return VL_OK;
}

void vl_entry_list_release(vl_entry_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].src);
        free(l->items[i].logical);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

struct walk_ctx {
    const char *root;
    vl_entry_list *list;
    const vl_ingest_options *o;
};

static int check_name(const char *root, const char *rel, const char *logical,
                      vl_error *err)
{
    vl_error why = {0};
    if (vl_logical_path_check(logical, &why) == VL_OK)
        return VL_OK;
    char *shown = vl_name_escape(rel);
    int rc = vl_error_set(err, VL_EINPUT, "refusing %s/%s: %s", root,
                          shown ? shown : "?", why.msg);
    free(shown);
    return rc;
}

static int walk_one(void *arg, const char *rel, int kind, const struct stat *st,
                    vl_error *err)
{
    struct walk_ctx *c = arg;
    char *logical = vl_path_join(VL_PAYLOAD_DIR, rel);
    char *src = vl_path_join(c->root, rel);
    int rc = VL_OK;
    if (!logical || !src) {
        rc = vl_error_set(err, VL_ESYS, "out of memory");
        goto done;
    }
    if ((rc = check_name(c->root, rel, logical, err)) != VL_OK)
        goto done;
    switch (kind) {
    case VL_WALK_FILE:
        rc = add_entry(c->list, src, logical, (uint64_t)st->st_size, err);
        break;
    case VL_WALK_DIR:
        if (vl_fs_dir_empty(src) == 1 && c->o->warn) {
            char *shown = vl_name_escape(src);
            char *msg = vl_asprintf("empty folder %s is not kept: OCFL stores "
                                    "files, not folders", shown ? shown : "?");
            if (msg)
                c->o->warn(c->o->cb_arg, msg);
            free(msg);
            free(shown);
        }
        break;
    case VL_WALK_SYMLINK: {
        char *shown = vl_name_escape(src);
        rc = vl_error_set(err, VL_EINPUT, "refusing %s: symbolic links are not "
                          "deposited (copy the target in instead)", shown ? shown : "?");
        free(shown);
        break;
    }
    default: {
        char *shown = vl_name_escape(src);
        rc = vl_error_set(err, VL_EINPUT, "refusing %s: not a regular file "
                          "(device, FIFO or socket)", shown ? shown : "?");
        free(shown);
        break;
    }
    }
done:
    free(logical);
    free(src);
    return rc;
}

int vl_source_collect(const char *path, const vl_ingest_options *o,
                      vl_entry_list *list, vl_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return vl_error_sys(err, "cannot read source %s", path);
    if (S_ISDIR(st.st_mode)) {
        struct walk_ctx c = {path, list, o};
        return vl_fs_walk(path, 1, walk_one, &c, err);
    }
    if (S_ISREG(st.st_mode)) {
        const char *base = vl_path_basename(path);
        struct walk_ctx c = {NULL, list, o};
        char *dir = vl_path_dirname(path);
        if (!dir)
            return vl_error_set(err, VL_ESYS, "out of memory");
        c.root = dir;
        int rc = walk_one(&c, base, VL_WALK_FILE, &st, err);
        free(dir);
        return rc;
    }
    if (S_ISLNK(st.st_mode))
        return vl_error_set(err, VL_EINPUT, "refusing %s: a symbolic link", path);
    return vl_error_set(err, VL_EINPUT, "refusing %s: not a file or folder", path);
}
