/* Private to ingest/: vellum's BagIt validator (bagit.c), used by deposits
 * of bags and by vl_bag_check_dir (bag_check.c), the one call other modules
 * and tools/ make (vl_ingest.h). */
#ifndef VL_BAGIT_PRIVATE_H
#define VL_BAGIT_PRIVATE_H

#ifndef VL_INGEST_INTERNAL
#error "bagit_private.h is private to ingest/"
#endif

#include "vl_ingest.h"

/* ======================================================================
 * BagIt (RFC 8493, and 0.97): tag files are handed in as bytes so that a
 * bag in a folder and a bag in an archive are checked the same way.
 * ==================================================================== */
typedef struct vl_bag vl_bag;

vl_bag *vl_bag_new(void);
void vl_bag_free(vl_bag *bag);
/* A file in the bag's top folder or a tag folder (rel to the bag root, not
 * under data/): bagit.txt, bag-info.txt, manifest-*.txt, tagmanifest-*.txt,
 * fetch.txt, or any other tag file (its digest is checked by the tag
 * manifests).  Copies the bytes; capped at 256 MiB for manifests, 16 MiB for other tag files. */
int vl_bag_add_tag_file(vl_bag *bag, const char *rel, const void *data,
                        size_t len, vl_error *err);
/* Parse and check the declaration, manifests and bag-info.txt once every
 * tag file is added.  Refuses (VL_EINPUT): no or bad bagit.txt, unsupported
 * version or encoding, no payload manifest, a manifest line that does not
 * parse, an algorithm vellum cannot compute, a fetch.txt with entries,
 * malformed bag-info.txt. */
int vl_bag_parse(vl_bag *bag, vl_error *err);
const char *vl_bag_version(const vl_bag *bag);      /* "1.0", "0.97" */
/* Digest algorithms the payload must be hashed with. */
unsigned vl_bag_payload_mask(const vl_bag *bag);
/* Record a payload file (path relative to the bag root, "data/...") and
 * what vellum computed for it. */
int vl_bag_payload_seen(vl_bag *bag, const char *rel, uint64_t size,
                        const vl_digest_result *d, vl_error *err);
/* After every payload file: each discrepancy (digest mismatch with expected
 * and actual, file in a manifest but missing, file present but in no
 * manifest, Payload-Oxum, tag manifest mismatch) goes to fn as one line.
 * VL_OK when the bag is complete and valid, VL_EINPUT when not. */
int vl_bag_verify(vl_bag *bag, vl_report_fn fn, void *arg, vl_error *err);
/* bag-info.txt labels and values in file order (continuation lines joined). */
size_t vl_bag_info_count(const vl_bag *bag);
void vl_bag_info_entry(const vl_bag *bag, size_t i, const char **label,
                       const char **value);
/* Each (algorithm, hex) the payload manifests give for a path, so ingest can
 * keep them in the OCFL fixity block. */
typedef void (*vl_bag_digest_fn)(void *arg, const char *rel, vl_digest_alg alg,
                                 const char *hex);
void vl_bag_foreach_digest(const vl_bag *bag, vl_bag_digest_fn fn, void *arg);

#endif
