/* vellum ingest: sources (folders, single files, archives and BagIt bags),
 * the pipeline that reads each byte once to stage, hash and identify it,
 * format identification (PRONOM and libmagic), checksum manifests and
 * BagIt checks, and the commit of the deposit as a new OCFL object version
 * with its METS.xml.  Uses metadata/, storage/ and common/. */
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
    int stage;                  /* a revision of the object's staged head
                                   (OCFL extension 0005), not a new root
                                   version: see vl_txn_begin_staged */
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
    /* One line per problem that refuses the deposit (a manifest or bag
     * discrepancy), before vl_ingest returns VL_EINPUT; NULL: given to
     * warn instead. */
    void (*problem)(void *arg, const char *message);
    void *cb_arg;
} vl_ingest_options;

typedef struct vl_ingest_result {
    char id[1024];
    int version;                /* 0: nothing changed, no version written;
                                   staged: the staged head's version */
    int revision;               /* staged: the revision written (r1, r2...) */
    size_t files;               /* files in the deposit */
    uint64_t bytes;
    size_t stored;              /* files whose content was new to the object */
    size_t warnings;
    char bag_version[16];       /* "1.0" when the deposit was a BagIt bag */
    /* With replicate.after_ingest = true: replicas brought to the new
     * version, and the first problem when one was not (the deposit is
     * stored either way; 'vellum replicate' tries again). */
    size_t replicas_updated, replicas_refused;
    char replica_problem[512];
} vl_ingest_result;

/* Problems found in the deposit (manifest or bag discrepancies) are passed
 * to o->problem (o->warn when NULL) one per line before vl_ingest returns
 * VL_EINPUT.  A refused deposit (VL_EINPUT) stores nothing but leaves an
 * "ingestion" event with outcome "fail" in the event log: the object id
 * asked for (none when it was to be minted), the sources, and the reason
 * with the problems listed. */

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
/* Identify a file whose first boflen bytes (bof) were kept while it
 * streamed to path: its last bytes are read back from path when needed,
 * and container signatures look inside it there.  name (may be NULL) is
 * the file name, for its extension; size is the file's size. */
int vl_identify_path(vl_identifier *id, const void *bof, size_t boflen,
                     uint64_t size, const char *name, const char *path,
                     vl_format *out, vl_error *err);

/* ======================================================================
 * BagIt (RFC 8493, and 0.97).
 * ==================================================================== */
typedef void (*vl_report_fn)(void *arg, const char *message);

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
 * with vellum's BagIt validator, without depositing it (an export checks the bag it
 * wrote).  Discrepancies to fn one per line; VL_OK valid, VL_EINPUT not. */
int vl_bag_check_dir(const char *dir, vl_report_fn fn, void *arg,
                     vl_error *err);

#endif
