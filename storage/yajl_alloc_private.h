/* Private to storage/: the allocator both streaming JSON readers
 * (inventory.c, validate_parse.c) give yajl. */
#ifndef VL_YAJL_ALLOC_PRIVATE_H
#define VL_YAJL_ALLOC_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "yajl_alloc_private.h is private to storage/"
#endif

#include <stddef.h>
#include <yajl/yajl_common.h>

#include "vl_common.h"

/* yajl 2.1 uses what its allocator returns without a check: when an
 * allocation fails it gets a block from the reserve instead, *failed is
 * set (and the failure counted, vl_alloc_failed), and the reader's next
 * callback must stop the parse. */
typedef struct vl_yajl_alloc {
    int *failed;
    size_t used;
    _Alignas(16) char reserve[65536];
} vl_yajl_alloc;

/* Fill funcs for yajl_alloc, whose context is a (which must outlive the
 * handle). */
void vl_yajl_alloc_init(vl_yajl_alloc *a, int *failed, yajl_alloc_funcs *funcs);

#endif
