/* Private to ingest/: checksum manifests, a donor's (ingest --manifest) or
 * a bag's (manifest.c). */
#ifndef VL_MANIFEST_PRIVATE_H
#define VL_MANIFEST_PRIVATE_H

#ifndef VL_INGEST_INTERNAL
#error "manifest_private.h is private to ingest/"
#endif

#include "vl_ingest.h"

/* ======================================================================
 * Checksum manifests: a donor's md5sum/sha1sum/sha256sum/sha512sum output
 * (also "hex *path" binary mode and BSD "SHA256 (path) = hex"), or a BagIt
 * manifest ("hex path" with %0A/%0D/%25 escapes).
 * ==================================================================== */
typedef struct vl_manifest vl_manifest;
/* alg_hint: the algorithm if known (from a BagIt file name), else -1 to
 * infer from the digest length (32 md5, 40 sha1, 64 sha256, 128 sha512). */
int vl_manifest_parse(const char *data, size_t len, int alg_hint, int bagit,
                      const char *source_name, vl_manifest **out, vl_error *err);
void vl_manifest_free(vl_manifest *m);
vl_digest_alg vl_manifest_alg(const vl_manifest *m);
size_t vl_manifest_count(const vl_manifest *m);
/* Entry i: path as written (after unescaping) and lower-case hex. */
void vl_manifest_entry(const vl_manifest *m, size_t i, const char **path,
                       const char **hex);
/* Expected digest for a path, or NULL. */
const char *vl_manifest_lookup(const vl_manifest *m, const char *path);

#endif
