/* Private to storage/: the names of one folder handed out in byte order,
 * however many there are.  A folder of a few thousand names is sorted in
 * memory; beyond that the names go to a private SQLite database (its
 * small page cache, then a temporary file), so that a flat folder of a
 * million files costs disk, not memory.  Not thread-safe. */
#ifndef VL_NAME_SORT_PRIVATE_H
#define VL_NAME_SORT_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "name_sort_private.h is private to storage/"
#endif

#include <dirent.h>
#include <stddef.h>

#include "vl_storage.h"

typedef struct vl_name_sort vl_name_sort;

int vl_name_sort_new(vl_name_sort **out, vl_error *err);
void vl_name_sort_free(vl_name_sort *s);
/* kind as vl_list_fn gives it (the caller's to choose). */
int vl_name_sort_add(vl_name_sort *s, const char *name, int kind, vl_error *err);
size_t vl_name_sort_count(const vl_name_sort *s);
/* Every name of the open folder d but "." and "..", as kind 0; path names
 * d in the message when reading it fails. */
int vl_name_sort_read_dir(vl_name_sort *s, DIR *d, const char *path, vl_error *err);
/* Every name added, in strcmp order, to fn; stops at fn's first non-zero
 * return and returns it.  fn may start other sorts (a recursive walk). */
int vl_name_sort_each(vl_name_sort *s, vl_list_fn fn, void *arg, vl_error *err);
/* Names kept in memory before they spill: 4096, or VELLUM_LIST_MEMORY
 * (tests set it low to take the spilled path on small folders). */

#endif
