/* Private to storage/: what replication and repair share. */
#ifndef VL_REPLICA_PRIVATE_H
#define VL_REPLICA_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "replica_private.h is private to storage/"
#endif

#include "vl_storage.h"

/* How long replicate and repair wait for an object a deposit holds. */
#define VL_COPY_LOCK_WAIT 120

/* Copy src_rel of backend b into a new local file dst while its alg digest
 * is computed; the file is read-only, and fsynced when do_sync (callers
 * that copy many files sync the filesystem once instead).  When expected is
 * not NULL and the digest differs: VL_FINDING and dst removed.  actual
 * (may be NULL) gets the digest.  A missing source: VL_ESYS, ENOENT. */
int vl_copy_verified(vl_backend *b, const char *src_rel, const char *dst,
                     vl_digest_alg alg, const char *expected,
                     char actual[VL_DIGEST_HEX_MAX], uint64_t *size,
                     int do_sync, vl_error *err);
/* Digest of a local file as its disk holds it: its cached pages are
 * dropped first (it must have been synced), so the bytes are read from
 * the device rather than from memory. */
int vl_copy_digest_from_disk(const char *path, vl_digest_alg alg,
                             char actual[VL_DIGEST_HEX_MAX], vl_error *err);
/* Digest of a stored file (alg), hex into actual. */
int vl_copy_digest(vl_backend *b, const char *rel, vl_digest_alg alg,
                   char actual[VL_DIGEST_HEX_MAX], uint64_t *size,
                   vl_error *err);
/* An inventory (at object_rel/prefix, prefix "" for the root or "v3") and
 * its sidecar, read (streamed, never whole in memory) and checked against
 * each other: VL_OK with the inventory's digest (in its own algorithm) in
 * inv_digest and the sidecar's text in *side_bytes; VL_FINDING with a
 * reason in err when they do not agree or cannot be parsed; VL_ESYS with
 * ENOENT when the inventory is absent.  Two inventories are the same
 * bytes when their digests are equal (different algorithms give digests
 * of different lengths, and such inventories differ anyway). */
int vl_copy_read_inventory(vl_backend *b, const char *object_rel,
                           const char *prefix, char inv_digest[VL_DIGEST_HEX_MAX],
                           vl_buf *side_bytes, vl_inventory **inv_out,
                           vl_error *err);

#endif
