/* Private to storage/: making a backend and writing to the store.  Other
 * modules read the store through the repository's backend (vl_storage.h);
 * only storage/ writes to it, and only through these calls.
 *
 * A backend is a table of operations (struct vl_backend_ops) and the
 * struct vl_backend each implementation puts first in its own: a folder
 * (backend_fs.c) or an S3 bucket (backend_s3.c). */
#ifndef VL_BACKEND_PRIVATE_H
#define VL_BACKEND_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "backend_private.h is private to storage/"
#endif

#include "vl_storage.h"

struct vl_backend_ops {
    void (*free)(vl_backend *b);
    int (*open)(vl_backend *b, const char *rel, vl_reader **out, vl_error *err);
    int (*read_all)(vl_backend *b, const char *rel, size_t max, vl_buf *out,
                    vl_error *err);
    int (*stat)(vl_backend *b, const char *rel, int *kind, uint64_t *size,
                vl_error *err);
    int (*list)(vl_backend *b, const char *rel_dir, vl_list_fn fn, void *arg,
                vl_error *err);
    int (*write)(vl_backend *b, const char *rel, const void *data, size_t len,
                 vl_error *err);
    int (*put)(vl_backend *b, const char *local_path, const char *rel,
               vl_error *err);
    int (*prune)(vl_backend *b, const char *rel, vl_error *err);
    int (*remove_tree)(vl_backend *b, const char *rel, vl_removed_fn fn,
                       void *arg, vl_error *err);
    int (*commit_inventory_copy)(vl_backend *b, const char *object_rel,
                                 const char *from_rel, const char *sidecar_name,
                                 const char *sidecar, vl_error *err);
};

struct vl_backend {
    const struct vl_backend_ops *ops;
    char *root;          /* for messages: a folder, or s3://BUCKET/PREFIX */
    /* 1 when vl_backend_put lands a whole folder at once (a rename); 0 on
     * object stores, where its files appear one by one (inventories last). */
    int atomic_put;
};

struct vl_reader {
    ssize_t (*read)(vl_reader *r, void *buf, size_t cap, vl_error *err);
    void (*close)(vl_reader *r);
    /* The open file behind the reader and its path, for copies the kernel
     * makes (vl_reader_file); NULL where there is none (S3). */
    int (*file)(vl_reader *r, const char **path);
};

vl_backend *vl_backend_fs_new(const char *root_dir);    /* NULL on OOM */
void vl_backend_free(vl_backend *b);
/* 1 when url names an S3 store (s3://...). */
int vl_backend_is_s3_url(const char *url);
/* The S3 backend on s3://BUCKET/PREFIX (backend_s3.c); config is the
 * repository's (NULL: none), whose s3.* keys and then the environment
 * name the endpoint, region and credentials (s3_config.c).  The bucket is
 * checked (HEAD) before it returns. */
int vl_backend_s3_open(const char *url, const vl_kv *config,
                       const char *config_path, vl_backend **out,
                       vl_error *err);

/* Atomic create-or-replace of a small file (temp, fsync, rename; one PUT
 * on S3); the file is read-only, as everything committed to the store. */
int vl_backend_write(vl_backend *b, const char *rel, const void *data,
                     size_t len, vl_error *err);
/* Move a finished local file or folder (built in staging, already synced,
 * its files already read-only) into place; rel must not exist.  A rename
 * on a filesystem.  On S3 the files are uploaded, every inventory.json
 * after the rest of its folder and deeper ones first (so a version's
 * inventory present means the version is whole), then the local copy is
 * removed. */
int vl_backend_put(vl_backend *b, const char *local_path, const char *rel,
                   vl_error *err);
/* Remove rel and then each parent folder while it is empty, stopping at the
 * first that holds something else (or at the root); absent is fine.  What a
 * dropped new object leaves of its path.  (No folders on object stores.) */
int vl_backend_prune(vl_backend *b, const char *rel, vl_error *err);
/* Remove rel and everything under it; absent is fine.  Only for what no
 * inventory references (the leftovers of an interrupted upload).  fn (may
 * be NULL) is told each thing removed, as ROOT/REL. */
int vl_backend_remove_tree(vl_backend *b, const char *rel, vl_removed_fn fn,
                           void *arg, vl_error *err);
/* Commit point of a version: write an object's root inventory and then its
 * sidecar, each atomically; the root inventory is the last thing written. */
int vl_backend_commit_inventory(vl_backend *b, const char *object_rel,
                                const char *inventory, size_t len,
                                const char *sidecar_name, const char *sidecar,
                                vl_error *err);
/* The same, with the root inventory copied from the object's own
 * from_rel (the new version's inventory, "v3/inventory.json"). */
int vl_backend_commit_inventory_copy(vl_backend *b, const char *object_rel,
                                     const char *from_rel,
                                     const char *sidecar_name,
                                     const char *sidecar, vl_error *err);

#endif
