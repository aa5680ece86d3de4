/* Private to storage/: making and editing OCFL inventories (transactions
 * build each new version's inventory; other modules only read them, through
 * vl_storage.h). */
#ifndef VL_INVENTORY_PRIVATE_H
#define VL_INVENTORY_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "inventory_private.h is private to storage/"
/* The mutable head (mutable_head.c).  Drop manifest entries whose content
 * path begins with prefix and whose digest version num's state no longer
 * has, and the fixity entries of the paths dropped. */
int vl_inventory_prune_under(vl_inventory *inv, const char *prefix, int num);
/* Content paths (manifest and fixity) beginning with from get to instead,
 * as content of version num. */
int vl_inventory_rewrite_prefix(vl_inventory *inv, const char *from, int num,
                                const char *to);
/* Replace a version's created and (when not NULL) message. */
int vl_inventory_version_describe(vl_inventory *inv, int num, const char *created,
                                  const char *message);

#endif

#include "vl_storage.h"

#define VL_OCFL_INVENTORY_TYPE_1_1 "https://ocfl.io/1.1/spec/#inventory"
#define VL_OCFL_INVENTORY_TYPE_1_0 "https://ocfl.io/1.0/spec/#inventory"

vl_inventory *vl_inventory_new(const char *id, vl_digest_alg alg);
/* Deep copy (a transaction edits a copy of the head inventory). */
vl_inventory *vl_inventory_copy(const vl_inventory *inv);
/* Pretty JSON with sorted keys and a trailing newline; malloc'd. */
char *vl_inventory_serialize(const vl_inventory *inv, size_t *len);
/* The same text handed to sink piece by piece, never held whole (a
 * 200,000-file inventory is tens of MiB).  sink returns 0, or -1 to stop;
 * so does vl_inventory_dump. */
typedef int (*vl_inventory_sink)(const char *data, size_t len, void *arg);
int vl_inventory_dump(const vl_inventory *inv, vl_inventory_sink sink,
                      void *arg);

const char *vl_inventory_content_dir(const vl_inventory *inv); /* "content" default */
/* Iterate the fixity block: (algorithm name, digest, content path). */
typedef int (*vl_fixity_fn)(void *arg, const char *alg, const char *digest,
                            const char *content_path);
int vl_inventory_fixity_foreach(const vl_inventory *inv, vl_fixity_fn fn,
                                void *arg);

/* Building (used by transactions). */
int vl_inventory_manifest_add(vl_inventory *inv, const char *digest,
                              const char *content_path);
int vl_inventory_fixity_add(vl_inventory *inv, vl_digest_alg alg,
                            const char *digest, const char *content_path);
/* Append version head+1 with an empty state; returns its number or -1. */
int vl_inventory_version_add(vl_inventory *inv, const char *created,
                             const char *message, const char *user_name,
                             const char *user_address);
int vl_inventory_state_add(vl_inventory *inv, int num, const char *digest,
                           const char *logical);
/* 1 when versions a and b have the same logical state. */
int vl_inventory_states_equal(const vl_inventory *inv, int a, int b);
/* Drop every version after num and manifest/fixity entries under them
 * (used to roll back an uncommitted in-memory version). */
int vl_inventory_truncate(vl_inventory *inv, int num);

/* The mutable head (mutable_head.c).  Drop manifest entries whose content
 * path begins with prefix and whose digest version num's state no longer
 * has, and the fixity entries of the paths dropped. */
int vl_inventory_prune_under(vl_inventory *inv, const char *prefix, int num);
/* Content paths (manifest and fixity) beginning with from get to instead,
 * as content of version num. */
int vl_inventory_rewrite_prefix(vl_inventory *inv, const char *from, int num,
                                const char *to);
/* Replace a version's created and (when not NULL) message. */
int vl_inventory_version_describe(vl_inventory *inv, int num, const char *created,
                                  const char *message);

#endif
