/* Private to storage/: the storage layout, extension
 * 0004-hashed-n-tuple-storage-layout (where an object's root lies below the
 * storage root; other modules ask vl_repo_object_path). */
#ifndef VL_LAYOUT_PRIVATE_H
#define VL_LAYOUT_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "layout_private.h is private to storage/"
#endif

#include "vl_storage.h"

typedef struct vl_layout {
    vl_digest_alg alg;        /* sha256 by default */
    int tuple_size;           /* 3 */
    int number_of_tuples;     /* 3 */
    int short_object_root;    /* 0 */
} vl_layout;

void vl_layout_default(vl_layout *l);
/* Parse/produce extensions/0004-hashed-n-tuple-storage-layout/config.json */
int vl_layout_parse(const char *json, size_t len, vl_layout *out,
                    vl_error *err);
char *vl_layout_config_json(const vl_layout *l);
/* Object root path relative to the storage root; malloc'd. */
char *vl_layout_object_path(const vl_layout *l, const char *id);

#endif
