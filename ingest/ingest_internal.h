/* Private to ingest/. */
#ifndef VL_INGEST_INTERNAL_H
#define VL_INGEST_INTERNAL_H

#include "vl_ingest.h"

#define VL_PAYLOAD_DIR "data"

typedef struct vl_entry {
    char *src;          /* path to read */
    char *logical;      /* logical path in the object (data/...) */
    uint64_t size;      /* size seen when listed */
} vl_entry;

typedef struct vl_entry_list {
    vl_entry *items;
    size_t n, cap;
    uint64_t bytes;
} vl_entry_list;

int vl_source_collect(const char *path, const vl_ingest_options *o,
                      vl_entry_list *list, vl_error *err);
void vl_entry_list_release(vl_entry_list *l);

#endif
