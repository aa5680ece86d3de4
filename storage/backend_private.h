/* Private to storage/: making a backend and writing to the store.  Other
 * modules read the store through the repository's backend (vl_storage.h);
 * only storage/ writes to it, and only through these calls. */
#ifndef VL_BACKEND_PRIVATE_H
#define VL_BACKEND_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "backend_private.h is private to storage/"
#endif

#include "vl_storage.h"

vl_backend *vl_backend_fs_new(const char *root_dir);    /* NULL on OOM */
void vl_backend_free(vl_backend *b);

/* Atomic create-or-replace of a small file (temp, fsync, rename); the
 * file is read-only, as everything committed to the store. */
int vl_backend_write(vl_backend *b, const char *rel, const void *data,
                     size_t len, vl_error *err);
/* Move a finished local file or folder (built in staging, already synced,
 * its files already read-only) into place; rel must not exist.  A rename
 * on a filesystem. */
int vl_backend_put(vl_backend *b, const char *local_path, const char *rel,
                   vl_error *err);
/* Remove rel and then each parent folder while it is empty, stopping at the
 * first that holds something else (or at the root); absent is fine.  What a
 * dropped new object leaves of its path.  (No folders on object stores.) */
int vl_backend_prune(vl_backend *b, const char *rel, vl_error *err);
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
