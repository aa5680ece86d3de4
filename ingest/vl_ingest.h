/* vellum ingest: sources (folders and files today), the pipeline that reads
 * each byte once to stage, hash and identify it, and the commit of the
 * deposit as a new OCFL object version.  Uses storage/ and common/. */
#ifndef VL_INGEST_H
#define VL_INGEST_H

#include "vl_common.h"
#include "vl_storage.h"

typedef struct vl_ingest_progress {
    size_t files_done;
    size_t files_total;
    uint64_t bytes_done;
    uint64_t bytes_total;
} vl_ingest_progress;

typedef struct vl_ingest_options {
    const char *id;             /* NULL: mint urn:uuid:<uuid4> */
    const char *message;
    const char *user_name;
    const char *user_address;
    int merge;                  /* add/replace on top of the head state */
    int nthreads;               /* 0: one per core */
    const char *manifest_path;  /* donor checksum manifest to check against */
    int symlinks_skip;          /* leave symbolic and hard links out with a
                                   warning (else refuse) */
    int expand_nested;          /* unpack archives found inside archives */
    int no_unpack;              /* keep archive sources as files */
    int no_identify;            /* skip format identification */
    int not_a_bag;              /* the depositor says the source is no BagIt
                                   bag: store it as an ordinary folder or
                                   archive, bagit.txt or not (else a folder
                                   with data/ and manifest-*.txt but no
                                   bagit.txt is refused as a broken bag) */
    uint64_t max_bytes;         /* refuse deposits larger than this (0 = no cap
                                   beyond the free space in staging) */
    const char *const *dc;      /* "element=value" descriptive assignments */
    size_t ndc;
    const char *metadata_path;  /* DC XML, MODS XML or metadata.csv */
    /* Called now and then from worker threads (serialised). */
    void (*progress)(void *arg, const vl_ingest_progress *p);
    /* One line per warning (e.g. an empty folder that OCFL cannot keep). */
    void (*warn)(void *arg, const char *message);
    void *cb_arg;
} vl_ingest_options;

typedef struct vl_ingest_result {
    char id[1024];
    int version;                /* 0: nothing changed, no version written */
    size_t files;               /* files in the deposit */
    uint64_t bytes;
    size_t stored;              /* files whose content was new to the object */
    size_t warnings;
    char bag_version[16];       /* "1.0" when the deposit was a BagIt bag */
} vl_ingest_result;

/* Problems found in the deposit (manifest or bag discrepancies) are passed
 * to o->warn one per line before vl_ingest returns VL_EINPUT. */

/* Deposit the sources (folders or single files) as one new version.  Folder
 * contents and files land under data/ in the logical state.  Refused input
 * (bad names, symbolic and hard links, special files, paths past
 * VL_PATH_MAX_DEPTH or VL_PATH_MAX_BYTES) is VL_EINPUT naming the entry, and
 * nothing is stored. */
int vl_ingest(vl_repo *r, const char *const *sources, size_t nsources,
              const vl_ingest_options *o, vl_ingest_result *res, vl_error *err);

/* ======================================================================
 * Format identification.  With PRONOM signatures (a DROID signature file
 * and a container signature file, see vl_signatures_open) a file's format
 * is its PRONOM identifier (PUID), found as DROID finds it: byte
 * signatures on the first and last bytes, container signatures inside ZIP
 * and OLE2 files, extensions only when no signature matched.  libmagic
 * gives the text encoding of text formats and the MIME type of what PRONOM
 * cannot identify.  Without signatures: libmagic, then vellum's small
 * built-in table of PUIDs.
 * ==================================================================== */
typedef struct vl_format {
    char mime[128];          /* "application/pdf" */
    char encoding[64];       /* "binary", "us-ascii", "utf-8" */
    char description[512];   /* libmagic's text, or PRONOM's format name */
    char puid[32];           /* "fmt/276", or "" when not known */
    char format_name[160];   /* PRONOM format name, or libmagic's */
    char format_version[64]; /* "1.7", or "" */
    /* PRONOM only (else ""): how the first match was made ("byte match
     * BOF 0-7", "container entry WordDocument", "extension match pdf"),
     * DROID's warning ("extension mismatch", "2 formats match"), the other
     * matching PUIDs ("fmt/19 fmt/20"), and the signature files used. */
    char basis[256];
    char warning[256];
    char others[256];
    char signatures[64];     /* "DROID V122; containers 40" */
} vl_format;

/* PRONOM signatures, compiled once (a binary cache in cache_dir, keyed by
 * the files' digests, when cache_dir is not NULL) and shared read-only by
 * every worker.  containers may be NULL. */
typedef struct vl_signatures vl_signatures;
/* The settings that name a repository's signature files, and the folder
 * (in the repository) where their compiled form is kept. */
#define VL_CONF_PRONOM_SIGNATURES "pronom.signatures"
#define VL_CONF_PRONOM_CONTAINERS "pronom.containers"
#define VL_CACHE_DIR "cache"
int vl_signatures_open(const char *signatures, const char *containers,
                       const char *cache_dir, vl_signatures **out,
                       vl_error *err);
void vl_signatures_close(vl_signatures *s);
/* "DROID V122; containers 40", as vl_format.signatures holds it */
const char *vl_signatures_describe(const vl_signatures *s);

/* One identifier per worker (libmagic handles are not thread-safe); sigs
 * (may be NULL) must outlive it. */
typedef struct vl_identifier vl_identifier;
int vl_identifier_open(const vl_signatures *sigs, vl_identifier **out,
                       vl_error *err);
void vl_identifier_close(vl_identifier *id);
/* How many leading bytes identification looks at (keep this many). */
size_t vl_identify_prefix_bytes(void);
/* How many trailing bytes the signatures look at (0 without signatures). */
size_t vl_identify_eof_bytes(const vl_identifier *id);
/* Identify a file from its first bytes (bof) and its last (eof, may be
 * NULL when the file is no longer than boflen); name (may be NULL) is the
 * file name, for its extension; path (may be NULL) is where the whole file
 * can be read, for container signatures.  size is the file's size. */
int vl_identify_file(vl_identifier *id, const void *bof, size_t boflen,
                     const void *eof, size_t eoflen, uint64_t size,
                     const char *name, const char *path, vl_format *out,
                     vl_error *err);
/* The same for a file whose leading bytes were kept while it streamed to
 * path: the last bytes are read back from path when needed. */
int vl_identify_path(vl_identifier *id, const void *bof, size_t boflen,
                     uint64_t size, const char *name, const char *path,
                     vl_format *out, vl_error *err);
/* Leading bytes only (no container look, no end of file beyond them). */
int vl_identify_buffer(vl_identifier *id, const void *data, size_t len,
                       uint64_t total_size, const char *name, vl_format *out,
                       vl_error *err);
/* "libmagic 5.44" for PREMIS agents. */
const char *vl_identify_library_version(void);

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

/* ======================================================================
 * BagIt (RFC 8493, and 0.93-0.97): tag files are handed in as bytes so that
 * a bag in a folder and a bag in an archive are checked the same way.
 * ==================================================================== */
typedef struct vl_bag vl_bag;
typedef void (*vl_report_fn)(void *arg, const char *message);

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
 * manifests).  Copies the bytes; capped at 256 MiB for manifests, 16 MiB for
 * other tag files. */
int vl_bag_add_tag_file(vl_bag *bag, const char *rel, const void *data,
                        size_t len, vl_error *err);
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
void vl_bag_foreach_digest(const vl_bag *bag, vl_bag_digest_fn fn, void *arg);

/* Check a bag without a repository: a folder, or an archive libarchive
 * reads with the bag at its top or in its one top folder. */
typedef struct vl_bag_check_options {
    int fast;               /* Payload-Oxum only: sizes, no digests */
    int nthreads;           /* hashing a folder: 0 = one per core */
    vl_report_fn problem;   /* each discrepancy, one line (may be NULL) */
    vl_report_fn warn;      /* each warning, one line (may be NULL) */
    void *arg;
} vl_bag_check_options;

typedef struct vl_bag_check_result {
    char version[16];       /* "1.0"; "" when bagit.txt was not read */
    int valid;
    int complete;           /* 1, 0, or -1 not judged (fast) */
    size_t files;           /* payload files */
    uint64_t bytes;
    size_t to_fetch;        /* missing files that fetch.txt lists */
    size_t problems;
    size_t warnings;
} vl_bag_check_result;

/* VL_OK: a valid bag (fast: its payload matches Payload-Oxum).
 * VL_FINDING: not valid or not complete; err says why in one line (a
 * refusal of vl_bag_parse, or "bag is not valid: N problems" after each
 * problem went to o->problem).
 * VL_EINPUT: nothing vellum can judge: no such path, neither a folder nor
 * an archive, a link or special file in the bag, an archive entry that is
 * absolute or climbs out, an unreadable archive, a tag file past vellum's
 * caps, a BagIt version, encoding or algorithm vellum does not read, or
 * (fast) no Payload-Oxum.  VL_ESYS: I/O or memory. */
int vl_bag_check_path(const char *path, const vl_bag_check_options *o,
                      vl_bag_check_result *res, vl_error *err);

/* Make a BagIt 1.0 bag at dest (which must not exist) from the files of the
 * folder src: see ingest/bag_create.c for what goes in it.  Atomic: built
 * beside dest, checked, fsynced, renamed.  VL_EINPUT for bad options or
 * input (a link or special file in src, a name that is not UTF-8, dest
 * existing or inside src), nothing written. */
typedef struct vl_bag_create_options {
    const char *const *algorithms;  /* "sha512", "sha3-256"...; none: sha512 */
    size_t nalgorithms;
    const char *const *info_labels; /* bag-info.txt elements, in order */
    const char *const *info_values;
    size_t ninfo;
    const char *dc_path;        /* Dublin Core for bag-info.txt (what ingest
                                   --metadata reads: DC XML, MODS, CSV) */
    int nthreads;               /* 0: one per core */
    vl_report_fn warn;          /* each warning, one line (may be NULL) */
    void *arg;
} vl_bag_create_options;

typedef struct vl_bag_create_result {
    size_t files;
    uint64_t bytes;
} vl_bag_create_result;

int vl_bag_create(const char *src, const char *dest,
                  const vl_bag_create_options *o, vl_bag_create_result *res,
                  vl_error *err);

/* Check a bag in a folder (tag files outside data/, payload under data/)
 * with this validator, without depositing it (an export checks the bag it
 * wrote).  Discrepancies to fn one per line; VL_OK valid, VL_EINPUT not. */
int vl_bag_check_dir(const char *dir, vl_report_fn fn, void *arg,
                     vl_error *err);

#endif
