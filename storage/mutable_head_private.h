/* Private to storage/: the mutable head of OCFL Community Extension 0005
 * (mutable_head.c), shared by the transaction that stages a revision
 * (txn.c) and by recover. */
#ifndef VL_MUTABLE_HEAD_PRIVATE_H
#define VL_MUTABLE_HEAD_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "mutable_head_private.h is private to storage/"
#endif

#include <jansson.h>

#include "vl_storage.h"

#define VL_MHEAD_EXT "0005-mutable-head"
#define VL_MHEAD_DIR "extensions/" VL_MHEAD_EXT
#define VL_MHEAD_HEAD VL_MHEAD_DIR "/head"
#define VL_MHEAD_REVISIONS "revisions"
/* + "." and the digest algorithm: the copy of the root sidecar */
#define VL_MHEAD_ROOT_SIDECAR "root-inventory.json"

/* What an object root holds of a mutable head, read through the backend:
 * dir: the extension folder exists; active: head/inventory.json exists;
 * revisions: the highest revision marker (0: none). */
typedef struct vl_mhead_probe {
    int dir, active, revisions;
} vl_mhead_probe;
int vl_mhead_probe_at(vl_backend *b, const char *object_rel, vl_mhead_probe *out,
                      vl_error *err);
/* *conflict = 1 when root-inventory.json.ALG differs from (or lacks) the
 * root sidecar it copies: the root changed after the head was staged. */
int vl_mhead_conflict_at(vl_backend *b, const char *object_rel, vl_digest_alg alg,
                         int *conflict, vl_error *err);
/* Load head/inventory.json, checked against its sidecar (VL_FINDING when
 * they differ); digest (may be NULL) gets its digest. */
int vl_mhead_load_at(vl_backend *b, const char *object_rel, vl_inventory **out,
                     char digest[VL_DIGEST_HEX_MAX], vl_error *err);
/* "rN" into dir/rN, created exclusively (VL_EINPUT when it exists: another
 * revision took the number). */
int vl_mhead_write_marker(const char *dir, int rev, vl_error *err);
/* Install a revision built (synced, read-only) at built_head, a version
 * folder with inventory.json, its sidecar and maybe CONTENT/rN, into the
 * object at object_dir, in the extension's order: marker, (first revision:
 * the root sidecar's copy) content, inventory, sidecar, then the content
 * the new inventory no longer names is deleted.  *touched = 1 once the
 * store was changed (then a failure leaves work for recover). */
int vl_mhead_install(const char *object_dir, const char *built_head, int rev,
                     const vl_inventory *inv, int *touched, vl_error *err);
/* Recover's part for an interrupted staged revision or commit (intent
 * "mhead" is "revision" or "commit"; nothing for other intents): called
 * before (after = 0) and after (after = 1) the common settling of the
 * object.  Before: a commit whose head became vN gets vN's rewritten
 * inventory, so settling rolls it forward.  After: a committed head's
 * extension folder goes; a revision is rolled forward when its inventory
 * was installed (sidecar, sweep, events), else back (marker, content). */
int vl_mhead_recover_txn(vl_repo *r, const char *txn_dir, json_t *intent,
                         int after, vl_error *err);

/* txn.c: write dir/inventory.json (temp, fsync, rename) and its sidecar;
 * *sidecar gets the sidecar's text (malloc'd). */
int vl_txn_write_inventory_pair(const char *dir, const vl_inventory *inv,
                                char **sidecar, vl_error *err);

#endif
