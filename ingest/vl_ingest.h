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
/* PRONOM alone, as Siegfried answers: no libmagic at all, so a file the
 * signatures do not identify gets no MIME type and no file gets an
 * encoding.  Only with signatures (VL_EINPUT without). */
int vl_identifier_pronom_only(vl_identifier *id, vl_error *err);
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
 * BagIt (RFC 8493, and 0.97): tag files are handed in as bytes so that a
 * bag in a folder and a bag in an archive are checked the same way.
 * ==================================================================== */
typedef struct vl_bag vl_bag;
typedef void (*vl_report_fn)(void *arg, const char *message);

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

/* Check a bag in a folder (tag files outside data/, payload under data/)
 * with this validator, without depositing it (an export checks the bag it
 * wrote).  Discrepancies to fn one per line; VL_OK valid, VL_EINPUT not. */
int vl_bag_check_dir(const char *dir, vl_report_fn fn, void *arg,
                     vl_error *err);

#endif
