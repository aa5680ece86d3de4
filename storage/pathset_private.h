/* Private to storage/: a set of paths kept in a private SQLite database,
 * so that a set as large as an object's file list costs no more memory
 * than the database's small page cache.  Not thread-safe. */
#ifndef VL_PATHSET_PRIVATE_H
#define VL_PATHSET_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "pathset_private.h is private to storage/"
#endif

#include "vl_storage.h"

typedef struct vl_pathset vl_pathset;

int vl_pathset_new(vl_pathset **out, vl_error *err);
void vl_pathset_free(vl_pathset *s);
/* Adding a path twice is not an error. */
int vl_pathset_add(vl_pathset *s, const char *path, vl_error *err);
/* *found = 1 when path was added. */
int vl_pathset_has(vl_pathset *s, const char *path, int *found, vl_error *err);

#endif
