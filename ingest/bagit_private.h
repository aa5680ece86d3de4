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
 * BagIt (RFC 8493, and 0.97): tag files are handed in by local path or as
 * bytes so that a bag in a folder and a bag in an archive are checked the
 * same way.  Memory does not grow with the bag's file count: manifests and
 * fetch.txt are streamed, per file state is kept in a scratch database.
 * ==================================================================== */
typedef struct vl_bag vl_bag;
vl_bag *vl_bag_new(void);
void vl_bag_free(vl_bag *bag);
/* Where warnings go, one line each (paths read in normal form, duplicate
 * entries, names that differ only in Unicode normalization, a tag file
 * encoding other than UTF-8...): set before vl_bag_parse. */
void vl_bag_set_warn(vl_bag *bag, vl_report_fn fn, void *arg);
/* Whether the bag has its payload folder data/ (a required element); when
 * never said, it is not checked. */
void vl_bag_set_payload_dir(vl_bag *bag, int present);
/* A file in the bag's top folder or a tag folder (rel to the bag root, not
 * under data/): bagit.txt, bag-info.txt, manifest-*.txt, tagmanifest-*.txt,
 * fetch.txt, or any other tag file (its digest is checked by the tag
 * manifests).  bagit.txt, bag-info.txt and package-info.txt are copied and
 * held (16 MiB at most); any other is spooled to the bag's scratch database
 * and streamed from there (a manifest up to 256 MiB, another tag file up to
 * 16 MiB). */
int vl_bag_add_tag_file(vl_bag *bag, const char *rel, const void *data,
                        size_t len, vl_error *err);
/* The same, the bytes read from fn until it gives none (an archive
 * entry): spooled a chunk at a time, never held whole. */
typedef int (*vl_bag_read_fn)(void *arg, void *buf, size_t cap, size_t *got,
                              vl_error *err);
int vl_bag_add_tag_stream(vl_bag *bag, const char *rel, vl_bag_read_fn fn,
                          void *arg, vl_error *err);
/* 1 for the tag files the bag reads (bagit.txt, bag-info.txt,
 * package-info.txt, fetch.txt, the manifests); any other is only digested
 * for the tag manifests. */
int vl_bag_tag_is_read(const char *rel);
/* Any tag file by its local path: bagit.txt, bag-info.txt and
 * package-info.txt are read now (16 MiB at most); any other is streamed
 * from path when the bag reads or digests it, whatever its size, so path
 * must stay until vl_bag_verify. */
int vl_bag_add_tag_path(vl_bag *bag, const char *rel, const char *path,
                        vl_error *err);
/* For tests: read manifests and fetch.txt this many bytes at a time (0:
 * the default, 64 KiB), so that lines and characters cut between reads
 * are exercised. */
void vl_bag_set_read_chunk(vl_bag *bag, size_t bytes);
/* Parse and check the declaration, manifests, fetch.txt and bag-info.txt
 * once every tag file is added.  Refuses (VL_EINPUT): no or bad bagit.txt,
 * unsupported version or encoding, no payload manifest, a manifest line
 * that does not parse, an algorithm vellum cannot compute, a fetch.txt line
 * that does not parse or (1.0) names a file that is not a payload file in
 * every payload manifest, malformed bag-info.txt. */
int vl_bag_parse(vl_bag *bag, vl_error *err);
/* After a refusal of vl_bag_parse: 1 when it was for what vellum cannot
 * read (BagIt version, tag file encoding, digest algorithm) rather than for
 * what the bag does wrong. */
int vl_bag_refused_for_limit(const vl_bag *bag);
const char *vl_bag_version(const vl_bag *bag);      /* "1.0", "0.97" */
/* Digest algorithms the payload must be hashed with: those of the digest
 * engine as a mask, and any others (sha384, sha3-256...) by OpenSSL name. */
unsigned vl_bag_payload_mask(const vl_bag *bag);
size_t vl_bag_payload_extra_count(const vl_bag *bag);
const char *vl_bag_payload_extra_name(const vl_bag *bag, size_t i);
/* Record a payload file (path relative to the bag root, "data/...") and
 * what vellum computed for it: d for the mask, extra[i] (hex) for each
 * extra algorithm i (NULL when there are none).  d and extra both NULL
 * record the size only, for vl_bag_verify_oxum. */
int vl_bag_payload_seen(vl_bag *bag, const char *rel, uint64_t size,
                        const vl_digest_result *d, const char *const *extra,
                        vl_error *err);
/* After every payload file: each discrepancy (digest mismatch with expected
 * and actual, file in a manifest but missing (and, when fetch.txt lists it,
 * where it would be fetched from), file present but in no manifest,
 * Payload-Oxum, tag manifest mismatch, no data/ folder) goes to fn as one
 * line, tag files first, then payload by path.  VL_OK when the bag is
 * complete and valid, VL_EINPUT when not. */
int vl_bag_verify(vl_bag *bag, vl_report_fn fn, void *arg, vl_error *err);
/* After vl_bag_verify: 1 when the bag is complete (every file its manifests
 * list is present and every payload file listed as it must be), and how
 * many missing files fetch.txt lists. */
int vl_bag_complete(const vl_bag *bag);
size_t vl_bag_to_fetch(const vl_bag *bag);
/* The quick check: Payload-Oxum against the sizes recorded, nothing else.
 * VL_EINPUT also when bag-info.txt has no Payload-Oxum. */
int vl_bag_has_oxum(const vl_bag *bag);
int vl_bag_verify_oxum(vl_bag *bag, vl_report_fn fn, void *arg,
                       vl_error *err);
/* Entries of fetch.txt (those kept: see bagit.c). */
size_t vl_bag_fetch_count(const vl_bag *bag);
/* bag-info.txt labels and values in file order (continuation lines joined). */
size_t vl_bag_info_count(const vl_bag *bag);
void vl_bag_info_entry(const vl_bag *bag, size_t i, const char **label,
                       const char **value);
/* Each (algorithm, hex) the payload manifests give for a path, so ingest can
 * keep them in the OCFL fixity block (algorithms of the digest engine
 * only). */
typedef void (*vl_bag_digest_fn)(void *arg, const char *rel, vl_digest_alg alg,
                                 const char *hex);
/* VL_ESYS when the bag's scratch index cannot be read (memory, temporary
 * space). */
int vl_bag_foreach_digest(const vl_bag *bag, vl_bag_digest_fn fn, void *arg,
                          vl_error *err);

#endif
