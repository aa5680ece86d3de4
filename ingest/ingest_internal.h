/* Private to ingest/: the per-file records of a deposit and the sources
 * that fill them. */
#ifndef VL_INGEST_INTERNAL_H
#define VL_INGEST_INTERNAL_H

#ifndef VL_INGEST_INTERNAL
#error "ingest_internal.h is private to ingest/"
#endif

#include <pthread.h>
#include <stdint.h>

#include "bagit_private.h"
#include "manifest_private.h"
#include "vl_ingest.h"
#include "vl_metadata.h"   /* the object's layout: VL_PAYLOAD_DIR... */

/* A file listed from a folder source, not yet read. */
typedef struct vl_entry {
    char *src;          /* path to read */
    char *logical;      /* logical path in the object */
    uint64_t size;      /* size seen when listed */
    int is_tag;         /* a bag tag file (its bytes also go to the bag) */
} vl_entry;

typedef struct vl_entry_list {
    vl_entry *items;
    size_t n, cap;
    uint64_t bytes;
} vl_entry_list;

/* What the deposit holds, one record per file, kept compact because a
 * deposit may hold 100,000 files. */
typedef struct vl_record {
    char *logical;
    char *staged;       /* where its bytes are in staging */
    char *shown;        /* source name for messages */
    uint64_t size;
    char *hex[VL_DIGEST_COUNT];   /* only the algorithms computed */
    /* Interned in the deposit's strings: never freed one by one. */
    const char *mime, *encoding, *description, *puid, *format_name,
               *format_version;
    const char *basis, *warning, *others, *signatures;   /* PRONOM's, or NULL */
    int from_archive;   /* unpacked from an archive */
    int64_t mtime_ns;   /* modification time as deposited (ns since the
                           epoch), VL_MTIME_UNKNOWN when there was none */
} vl_record;

#define VL_MTIME_UNKNOWN INT64_MIN

typedef struct vl_deposit {
    vl_record *recs;
    size_t n, cap;
    uint64_t bytes;
    pthread_mutex_t mu;
    /* One copy of each format string (names, MIME types, signature
     * versions): thousands of files share a handful. */
    char **strings;             /* open addressing; NULL = free slot */
    size_t nstrings, capstrings;
} vl_deposit;

/* The state of one ingest run, shared by the sources. */
typedef struct vl_ingest_run {
    vl_repo *repo;
    vl_txn *txn;
    const vl_ingest_options *o;
    unsigned mask;              /* digests every file gets */
    vl_deposit dep;
    vl_bag *bag;                /* when the deposit is a bag */
    vl_signatures *sigs;        /* PRONOM signatures, or NULL (libmagic only) */
    uint64_t limit;             /* max bytes: option or free space */
    int limit_is_option;        /* limit is --max-bytes, not the space */
    vl_space space;             /* staging's free space and reserve */
    size_t archives;            /* archives unpacked */
    char *archive_names;        /* for the unpacking event, comma separated */
    vl_ingest_progress prog;
    pthread_mutex_t prog_mu;
    long long last_report_ms;
    size_t warnings;
    vl_buf refusal;             /* the problems that refuse the deposit */
    size_t problems;
    const char *const *sources;
    size_t nsources;
    int nthreads;
    char mets_digest[VL_DIGEST_COUNT][VL_DIGEST_HEX_MAX]; /* of METS.xml written */
} vl_ingest_run;

void vl_run_warn(vl_ingest_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A problem that refuses the deposit: to o->problem (else o->warn), and
 * kept for the refusal's event. */
void vl_run_problem(vl_ingest_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vl_run_progress(vl_ingest_run *run, size_t files, uint64_t bytes, int force);
/* Refuse (VL_EINPUT) a deposit that would pass run->limit: the message is
 * fmt ("refusing the deposit: it needs"), the bytes needed, and which limit
 * applies: --max-bytes, or the free space and the reserve. */
int vl_run_refuse_size(vl_ingest_run *run, uint64_t need, vl_error *err,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records: add one (thread-safe), fill it from a digest result and format. */
int vl_deposit_add(vl_deposit *d, const char *logical, const char *staged,
                   const char *shown, uint64_t size, const vl_digest_result *res,
                   const vl_format *fmt, int from_archive, int64_t mtime_ns,
                   vl_error *err);
void vl_deposit_release(vl_deposit *d);

/* Folder and single-file sources. */
int vl_source_collect(const char *path, const vl_ingest_options *o,
                      int as_bag, vl_entry_list *list, vl_error *err);
void vl_entry_list_release(vl_entry_list *l);
/* Read, stage, hash and identify listed files on every core. */
int vl_source_stage_list(vl_ingest_run *run, vl_entry_list *list, vl_error *err);
/* 1 when path is a folder holding bagit.txt. */
int vl_source_is_bag_dir(const char *path);
/* 1 when path is a folder with data/ and a manifest-*.txt but no bagit.txt
 * (a bag that lost its declaration); *manifest gets the first manifest's
 * name (malloc'd, may be NULL on out of memory). */
int vl_source_is_broken_bag_dir(const char *path, char **manifest);

/* Archive sources (libarchive): 1 when path is an archive libarchive reads. */
int vl_archive_detect(const char *path);
/* 1 when path is an archive to unpack: libarchive reads it and its format is
 * a plain container (ZIP, tar, 7z...), not a document that is a ZIP inside
 * (DOCX, ODF, EPUB), which is kept whole. */
int vl_archive_is_container_file(const char *path);
/* Stream every entry of an archive into staging; entries go under prefix
 * (e.g. "data") unless the archive is a bag (then its payload goes to data/
 * and its tag files to metadata/bag/). */
int vl_archive_ingest(vl_ingest_run *run, const char *path, vl_error *err);
const char *vl_archive_library_version(void);

/* Leading bytes kept for identification while a file streams past. */
typedef struct vl_prefix {
    unsigned char *buf;
    size_t len, cap;
} vl_prefix;
int vl_prefix_observe(void *arg, const void *data, size_t len, vl_error *err);

/* Name collisions after Unicode normalization (NFC) or case folding: one
 * warning per pair. */
void vl_names_check_collisions(vl_ingest_run *run);
/* s in Unicode NFC, then (fold) with full case folding, as UTF-8;
 * malloc'd, or NULL (not UTF-8, or out of memory). */
char *vl_name_key(const char *s, int fold);

/* ---- manifests as BagIt reads them (manifest.c, for bagit.c) ----------- */
#define VL_MF_BAGIT 1     /* BagIt line syntax and path rules */
#define VL_MF_LEGACY 2    /* BagIt 0.9x: only %0D/%0A decoded, '*' dropped */
#define VL_MF_PAYLOAD 4   /* every path under data/ (payload manifest) */
#define VL_MF_TAG 8       /* no path under data/ (tag manifest) */
typedef struct vl_manifest_opts {
    int flags;             /* VL_MF_* */
    int alg;               /* a vl_digest_alg, or -1: any digest of hex_len */
    size_t hex_len;        /* hex digits of every checksum when alg is -1 */
    const char *alg_name;  /* the algorithm as messages name it (alg -1) */
    vl_report_fn warn;     /* a line read with a warning (may be NULL) */
    void *warn_arg;
} vl_manifest_opts;
int vl_manifest_parse_opts(const char *data, size_t len,
                           const vl_manifest_opts *o, const char *source_name,
                           vl_manifest **out, vl_error *err);
/* A path as a BagIt manifest or fetch.txt writes it ([raw, raw+rawlen)),
 * decoded and in normal form as manifest.c describes, into *out (malloc'd);
 * warnings and refusals name source_name and line. */
int vl_bag_path_read(const char *raw, size_t rawlen, int flags,
                     const char *source_name, size_t line, vl_report_fn warn,
                     void *warn_arg, char **out, vl_error *err);
/* Line of the manifest entry i came from. */
size_t vl_manifest_entry_line(const vl_manifest *m, size_t i);

/* Write METS.xml for the version being built and add it to the txn. */
typedef struct vl_descriptive vl_descriptive;
int vl_ingest_write_mets(vl_ingest_run *run, const vl_descriptive *desc,
                         vl_error *err);

#endif
