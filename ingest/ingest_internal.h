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

/* The deposit's per-file records and the folder listing live in a private
 * index on disk (a temporary SQLite database keeping a few MiB in memory),
 * so that a deposit's memory does not grow with its file count. */
struct vl_deposit_db;

typedef struct vl_deposit {
    struct vl_deposit_db *db;   /* opened on the first row */
    size_t n;                   /* records (kept files not counted) */
    uint64_t bytes;
    int broken;                 /* a write to the index failed: nothing it
                                   holds is sure any more */
    int sorted;                 /* the records' rows are in logical path
                                   order (vl_deposit_sort) */
    int unranked;               /* a record was added without a rank */
    int indexed;                /* the records are indexed by path */
    pthread_mutex_t mu;         /* vl_deposit_add and the listing's cursor
                                   are used by every worker */
    /* One copy of each format string (names, MIME types, signature
     * versions): thousands of files share a handful. */
    char **strings;             /* by id - 1 */
    size_t nstrings, capstrings;
    size_t *slots;              /* open addressing: id, 0 = free slot */
    size_t capslots;
    const char *(*tuples)[10];  /* a record's format strings, by the id of
                                   their joined form (most ids unused) */
    size_t ntuples, captuples;
} vl_deposit;

/* A file listed from a folder source, not yet read; its strings are the
 * cursor's, valid until the next row. */
typedef struct vl_entry {
    const char *src;    /* path to read */
    const char *logical;/* logical path in the object */
    uint64_t size;      /* size seen when listed */
    int is_tag;         /* a bag tag file (its bytes also go to the bag) */
} vl_entry;

/* The folder listing: rows in the deposit's index. */
typedef struct vl_entry_list {
    vl_deposit *dep;
    size_t n;
    uint64_t bytes;
} vl_entry_list;

/* What the deposit holds, one record per file, as a cursor gives it: the
 * strings are the cursor's (valid until its next row), the format strings
 * the deposit's (valid until it is released). */
typedef struct vl_record {
    int64_t id;         /* for vl_deposit_move / vl_deposit_set_digest */
    const char *logical;
    /* Archive entries only (else NULL): where the bytes were unpacked,
     * until vl_deposit_move puts them where vl_txn_stage_path puts a
     * listed file, and the entry's name in the archive. */
    const char *staged;
    const char *shown;
    uint64_t size;
    const char *hex[VL_DIGEST_COUNT];   /* only the algorithms computed */
    const char *mime, *encoding, *description, *puid, *format_name,
               *format_version;
    const char *basis, *warning, *others, *signatures;   /* PRONOM's, or NULL */
    int from_archive;   /* unpacked from an archive */
    int64_t mtime_ns;   /* modification time as deposited (ns since the
                           epoch), VL_MTIME_UNKNOWN when there was none */
} vl_record;

#define VL_MTIME_UNKNOWN INT64_MIN

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

/* Records: add one (thread-safe), fill it from a digest result and format.
 * rank is a listed file's place in the listing's order (1, 2, ...: that
 * order is logical path order, so ranked records need no sorting), 0 for
 * an archive entry. */
int vl_deposit_add(vl_deposit *d, const char *logical, const char *staged,
                   const char *shown, uint64_t size, const vl_digest_result *res,
                   const vl_format *fmt, int from_archive, int64_t mtime_ns,
                   int64_t rank, vl_error *err);
/* A file the new version keeps from the head (--merge), for the METS:
 * seen only by cursors opened with VL_DEP_KEPT, not counted in n. */
int vl_deposit_add_kept(vl_deposit *d, const char *logical, uint64_t size,
                        vl_digest_alg alg, const char *hex,
                        const vl_catalog_format *fmt, int64_t mtime_ns,
                        vl_error *err);
/* An archive entry's final logical path, its bytes moved to where
 * vl_txn_stage_path puts it. */
int vl_deposit_move(vl_deposit *d, int64_t id, const char *logical, vl_error *err);
/* A digest computed after the record was added. */
int vl_deposit_set_digest(vl_deposit *d, int64_t id, vl_digest_alg alg,
                          const char *hex, vl_error *err);
/* *count = the records whose logical path starts with prefix ("" for
 * all), counting no further than max (0: no limit). */
int vl_deposit_count_prefix(vl_deposit *d, const char *prefix, size_t max,
                            size_t *count, vl_error *err);
/* *found = 1 when a record has exactly this logical path. */
int vl_deposit_has(vl_deposit *d, const char *logical, int *found,
                   vl_error *err);
/* The first name given for key: *first = NULL (and name, unless NULL,
 * kept as the first) when key is new, else a malloc'd copy of that first
 * name. */
int vl_deposit_first_name(vl_deposit *d, const char *key, const char *name,
                          char **first, vl_error *err);
void vl_deposit_release(vl_deposit *d);

/* Once every record is in (after staging, archive entries placed): the
 * rows in logical path order (rewritten so unless every record was
 * ranked), which cursors then read straight through until a record is
 * added.  Lookups index the records by path when first needed. */
int vl_deposit_sort(vl_deposit *d, vl_error *err);

/* Cursors over the records (not while workers add): in logical path
 * order (ties as added) or as added; only data/ files; kept files too. */
#define VL_DEP_AS_ADDED 1
#define VL_DEP_PAYLOAD 2
#define VL_DEP_KEPT 4
typedef struct vl_deposit_cursor {
    vl_deposit *d;
    struct sqlite3_stmt *st;
    vl_record r;
} vl_deposit_cursor;
int vl_deposit_open(vl_deposit *d, int flags, vl_deposit_cursor *c,
                    vl_error *err);
/* The next record in *r (NULL at the end). */
int vl_deposit_next(vl_deposit_cursor *c, const vl_record **r, vl_error *err);
/* Back to the first record. */
void vl_deposit_rewind(vl_deposit_cursor *c);
void vl_deposit_close(vl_deposit_cursor *c);
/* fn for every record: a status other than VL_OK stops the walk, and is
 * returned (VL_DEP_STOP to stop without an error). */
#define VL_DEP_STOP (-1)
int vl_deposit_foreach(vl_deposit *d, int flags,
                       int (*fn)(void *arg, const vl_record *r, vl_error *err),
                       void *arg, vl_error *err);

/* The folder listing (vl_source_collect fills it). */
int vl_entry_list_add(vl_entry_list *l, const char *src, const char *logical,
                      uint64_t size, int is_tag, vl_error *err);
/* A cursor over the listing in logical path order (ties as listed). */
typedef struct vl_entry_cursor {
    vl_deposit *d;
    struct sqlite3_stmt *st;
    vl_entry e;
} vl_entry_cursor;
int vl_entry_open(vl_entry_list *l, int tags_only, vl_entry_cursor *c,
                  vl_error *err);
int vl_entry_next(vl_entry_cursor *c, const vl_entry **e, vl_error *err);
void vl_entry_close(vl_entry_cursor *c);

/* Folder and single-file sources. */
int vl_source_collect(const char *path, const vl_ingest_options *o,
                      int as_bag, vl_entry_list *list, vl_error *err);
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
 * warning per pair; VL_ESYS when the deposit's index fails. */
int vl_names_check_collisions(vl_ingest_run *run, vl_error *err);
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
/* A manifest read a line at a time, held nowhere (bagit.c streams
 * manifests that list millions of files): each entry goes to the sink,
 * which also answers whether a path was listed before (find sets *found,
 * and then the checksum, at most VL_DIGEST_HEX_MAX bytes with its NUL,
 * and the line of that entry); the same rules and messages as
 * vl_manifest_parse_opts.  Lines are given with their terminator removed,
 * numbered from 1; a byte-order mark is the caller's to refuse. */
typedef struct vl_manifest_sink {
    int (*find)(void *arg, const char *path, int *found, char *hex,
                size_t *line, vl_error *err);
    int (*add)(void *arg, const char *path, const char *hex, size_t line,
               vl_error *err);
    void *arg;
} vl_manifest_sink;
typedef struct vl_manifest_stream vl_manifest_stream;
int vl_manifest_stream_open(const vl_manifest_opts *o,
                            const vl_manifest_sink *sink,
                            const char *source_name, vl_manifest_stream **out,
                            vl_error *err);
int vl_manifest_stream_line(vl_manifest_stream *st, size_t line,
                            const char *s, size_t n, vl_error *err);
void vl_manifest_stream_close(vl_manifest_stream *st);
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
