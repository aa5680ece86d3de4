/* vellum storage: the backend interface, OCFL inventories, the repository
 * (storage root + catalog + staging), transactions that add object versions,
 * reading objects back, the validator, locks and recovery.
 * Uses only common/. */
#ifndef VL_STORAGE_H
#define VL_STORAGE_H

#include "vl_common.h"

/* ======================================================================
 * Backend: every byte of the OCFL store is reached through this interface,
 * so the store can later live on S3-compatible storage.  Paths are relative
 * to the backend root, '/'-separated, never starting with '/'.  "" is the root.
 * ==================================================================== */
typedef struct vl_backend vl_backend;
typedef struct vl_reader vl_reader;

/* The repository's backend is vl_repo_backend; writing to the store is
 * storage's own business (backend_private.h). */
const char *vl_backend_root(const vl_backend *b);       /* for messages */

/* Streams.  Open of a missing file: VL_ESYS with sys_errno == ENOENT. */
int vl_backend_open(vl_backend *b, const char *rel, vl_reader **out,
                    vl_error *err);
/* Same shape as vl_read_fn (pass the reader as the arg). */
ssize_t vl_reader_read(void *reader, void *buf, size_t cap, vl_error *err);
void vl_reader_close(vl_reader *r);
/* The descriptor of the local file a reader reads (at its current
 * offset), and its path in *path, for a copy the kernel can make
 * (vl_digest_copy_fd); -1 when there is none (an S3 object). */
int vl_reader_file(vl_reader *r, const char **path);
/* Whole small file (inventories, sidecars, namaste); VL_EINPUT when > max. */
int vl_backend_read_all(vl_backend *b, const char *rel, size_t max,
                        vl_buf *out, vl_error *err);
/* *kind = 0 when absent, else VL_WALK_FILE/DIR/SYMLINK/OTHER. */
int vl_backend_stat(vl_backend *b, const char *rel, int *kind, uint64_t *size,
                    vl_error *err);
/* One level, entries in byte order, "." and ".." left out. */
typedef int (*vl_list_fn)(void *arg, const char *name, int kind,
                          vl_error *err);
int vl_backend_list(vl_backend *b, const char *rel_dir, vl_list_fn fn,
                    void *arg, vl_error *err);

/* A local folder tree in byte-sorted order, relative paths with '/'.  The
 * callback gets each entry (files, symlinks, others; folders too when
 * with_dirs); returning non-zero stops the walk with that status.  Memory
 * does not grow with the number of names in a folder (tree_walk.c). */
int vl_tree_walk(const char *root, int with_dirs, vl_walk_fn fn, void *arg,
                 vl_error *err);

/* ======================================================================
 * Inventory: an OCFL inventory.json, parsed into an on-disk index.
 * vl_inventory_parse checks only what vellum needs to use it; the validator
 * does the full conformance check.
 * ==================================================================== */
typedef struct vl_inventory vl_inventory;
/* Its name, in an object's root and in each version folder; the sidecar
 * beside it is inventory.json.<digest algorithm>. */
#define VL_INVENTORY_FILE "inventory.json"
#define VL_INVENTORY_FILE_LEN (sizeof VL_INVENTORY_FILE - 1)

int vl_inventory_parse(const char *json, size_t len, vl_inventory **out,
                       vl_error *err);
/* The same, fed piece by piece as the text is read: the inventory is held
 * in an on-disk index, never whole in memory.  VL_EINPUT for text that is
 * not a usable inventory, VL_ESYS when memory or temporary space runs out. */
typedef struct vl_inventory_parser vl_inventory_parser;
int vl_inventory_parser_new(vl_inventory_parser **out, vl_error *err);
int vl_inventory_parser_feed(vl_inventory_parser *p, const void *data,
                             size_t len, vl_error *err);
int vl_inventory_parser_finish(vl_inventory_parser *p, vl_inventory **out,
                               vl_error *err);
void vl_inventory_parser_free(vl_inventory_parser *p);
/* Stream rel of a store into an inventory; digest (may be NULL) gets the
 * hex digest of the bytes read, in the inventory's own algorithm, for its
 * sidecar. */
int vl_inventory_load(vl_backend *b, const char *rel, vl_inventory **out,
                      char digest[VL_DIGEST_HEX_MAX], vl_error *err);
void vl_inventory_free(vl_inventory *inv);

const char *vl_inventory_id(const vl_inventory *inv);
vl_digest_alg vl_inventory_digest_alg(const vl_inventory *inv);
int vl_inventory_head(const vl_inventory *inv);         /* 0 when no versions */
/* Version directory name as used by this object ("v3" or "v003"). */
void vl_inventory_version_name(const vl_inventory *inv, int num, char out[16]);

/* A logical path of vellum's own metadata (METS.xml, metadata/...) rather
 * than a deposited file (data/...): counted apart everywhere. */
int vl_logical_is_metadata(const char *logical);

typedef struct vl_version_info {
    const char *created;
    const char *message;        /* NULL when absent */
    const char *user_name;      /* NULL when absent */
    const char *user_address;   /* NULL when absent */
    size_t file_count;          /* every path of the state */
    size_t metadata_count;      /* of them, vellum's (vl_logical_is_metadata):
                                   deposited files are the difference */
} vl_version_info;
int vl_inventory_version_info(const vl_inventory *inv, int num,
                              vl_version_info *out);

/* Iterate a version's logical state, in path order; stops on non-zero
 * return.  The strings handed to callbacks last only for that call: copy
 * what you keep. */
typedef int (*vl_state_fn)(void *arg, const char *logical, const char *digest);
int vl_inventory_state_foreach(const vl_inventory *inv, int num,
                               vl_state_fn fn, void *arg);
/* Iterate the manifest: each (digest, content path). */
int vl_inventory_manifest_foreach(const vl_inventory *inv, vl_state_fn fn,
                                  void *arg);
/* 1 once a read of the inventory's index failed (memory or temporary space
 * ran out): a NULL from a lookup, or -1 from a foreach, may then mean that
 * rather than absence.  Callers report a system error. */
int vl_inventory_failed(const vl_inventory *inv);
/* First content path stored for a digest, or NULL.  The answers of these
 * lookups belong to the calling thread and last while it makes 15 more. */
const char *vl_inventory_content_path(const vl_inventory *inv,
                                      const char *digest);
/* Digest of a logical path in a version, or NULL. */
const char *vl_inventory_lookup(const vl_inventory *inv, int num,
                                const char *logical);
/* Fixity value of a content path for an algorithm, or NULL. */
const char *vl_inventory_fixity(const vl_inventory *inv, vl_digest_alg alg,
                                const char *content_path);

/* Differences between versions from and to of an inventory: each file added,
 * removed (D), changed (M: same path, other digest) or renamed (R: a path
 * only in `to` whose digest a path only in `from` had), in path order (the
 * new path for R).  Strings last for the call to fn.  VL_EINPUT when a
 * version does not exist. */
typedef enum vl_diff_kind {
    VL_DIFF_ADDED = 'A',
    VL_DIFF_REMOVED = 'D',
    VL_DIFF_CHANGED = 'M',
    VL_DIFF_RENAMED = 'R'
} vl_diff_kind;
typedef struct vl_diff_entry {
    vl_diff_kind kind;
    const char *path;         /* the path in `to` (in `from` for D) */
    const char *old_path;     /* R: the path in `from`; else NULL */
    const char *digest;       /* in `to`; NULL for D */
    const char *old_digest;   /* in `from`; NULL for A */
} vl_diff_entry;
typedef int (*vl_diff_fn)(void *arg, const vl_diff_entry *e);
int vl_inventory_diff(const vl_inventory *inv, int from, int to,
                      vl_diff_fn fn, void *arg, vl_error *err);

/* Scratch database: a private SQLite database with no file (kept in a
 * page cache of cache_kib, spilled to a temporary file beyond), set up
 * for speed over durability, then schema (may be NULL) run in it.  The
 * SQLite result code; *db is to be closed whatever it is. */
struct sqlite3;
int vl_scratch_db_open(struct sqlite3 **db, int cache_kib, const char *schema);

/* ======================================================================
 * Catalog: an index of objects, versions, files and events, rebuilt from the
 * store at will.  SQLite today, behind this interface so a shared database
 * can replace it.
 * ==================================================================== */
typedef struct vl_catalog vl_catalog;

/* A transaction around several writes (the repository opens the catalog:
 * vl_repo_catalog). */
int vl_catalog_begin(vl_catalog *cat, vl_error *err);
int vl_catalog_commit(vl_catalog *cat, vl_error *err);
void vl_catalog_rollback(vl_catalog *cat);

typedef struct vl_catalog_object {
    const char *id;
    const char *path;         /* object root relative to the storage root */
    int head;
    const char *created;      /* v1 created */
    const char *updated;      /* head created */
    /* The words every command uses:
     *   files, bytes  the deposited files of the head version: its data/
     *                 payload, what the depositor gave;
     *   metadata files  vellum's own files in the head version (METS.xml,
     *                 metadata/...: vl_logical_is_metadata), counted apart
     *                 and labelled ("181 files, 467.4 KiB (+ METS.xml)");
     *   stored files  content kept on storage for every version (what an
     *                 audit reads), said as such. */
    uint64_t files;
    uint64_t bytes;
    uint64_t metadata_files;
    uint64_t metadata_bytes;
} vl_catalog_object;
/* Fill files/bytes and metadata_* from head-state totals and the part of
 * them outside data/. */
void vl_catalog_object_counts(vl_catalog_object *o, uint64_t all_files,
                              uint64_t all_bytes, uint64_t meta_files,
                              uint64_t meta_bytes);
typedef int (*vl_catalog_object_fn)(void *arg, const vl_catalog_object *o);
int vl_catalog_objects(vl_catalog *cat, vl_catalog_object_fn fn, void *arg,
                       vl_error *err);
/* One object (its strings last only during fn); VL_EINPUT when unknown. */
int vl_catalog_get_object(vl_catalog *cat, const char *id, vl_catalog_object_fn fn,
                          void *arg, vl_error *err);

/* Descriptive metadata: an object's deposit Dublin Core (MODS crosswalked),
 * element and value pairs in order.  vl_catalog_desc_set replaces what the
 * catalog had for the object with entry(arg, i, ...) for i < n (a NULL
 * element or value is skipped); ingest calls it, reindex fills gaps from
 * METS. */
typedef void (*vl_desc_entry_fn)(const void *arg, size_t i, const char **element,
                                 const char **value);
int vl_catalog_desc_set(vl_catalog *cat, const char *object_id, size_t n,
                        vl_desc_entry_fn entry, const void *arg, vl_error *err);
int vl_catalog_desc_count(vl_catalog *cat, const char *object_id, size_t *n,
                          vl_error *err);

/* Objects for ls and search, by id, with their title (first dc:title) and
 * latest audit.  Filters: text, a case-insensitive (ASCII) substring of a
 * title, creator, subject, date or identifier (the first matching one is
 * given back); failed, objects whose latest audit failed; due_cutoff
 * (epoch seconds, 0 = none), objects never audited or last audited at or
 * before it. */
typedef struct vl_catalog_list_filter {
    const char *text;
    int failed;
    int64_t due_cutoff;
} vl_catalog_list_filter;
typedef struct vl_catalog_listing {
    vl_catalog_object object;
    const char *title;            /* NULL when none */
    const char *last_audit;       /* its start, NULL = never audited */
    const char *last_outcome;     /* "pass", "fail" or NULL */
    const char *match_element;    /* text: the DC element that matched */
    const char *match_value;
} vl_catalog_listing;
typedef int (*vl_catalog_listing_fn)(void *arg, const vl_catalog_listing *l);
int vl_catalog_list(vl_catalog *cat, const vl_catalog_list_filter *f,
                    vl_catalog_listing_fn fn, void *arg, vl_error *err);

typedef struct vl_catalog_file {
    const char *logical;
    const char *content;      /* content path relative to the object root */
    const char *digest;       /* inventory digest */
    uint64_t size;
} vl_catalog_file;
typedef int (*vl_catalog_file_fn)(void *arg, const vl_catalog_file *f);
int vl_catalog_files(vl_catalog *cat, const char *id, int version,
                     vl_catalog_file_fn fn, void *arg, vl_error *err);
/* Compare the catalog rows of an object with its inventory and content sizes;
 * each disagreement is passed to fn as one line.  Returns VL_OK when they
 * agree, VL_FINDING when not. */
typedef void (*vl_message_fn)(void *arg, const char *message);
int vl_catalog_check_object(vl_catalog *cat, vl_backend *b,
                            const char *object_rel, const vl_inventory *inv,
                            vl_message_fn fn, void *arg, vl_error *err);
/* The same, each disagreement with the content file it is about, for
 * callers that act on it (the audit): they read content_path, never the
 * message, whose wording is for people. */
typedef struct vl_catalog_problem {
    const char *content_path; /* relative to the object root, as stored
                                 (unescaped); NULL when the disagreement is
                                 about the object, a version or a logical
                                 file */
    const char *message;
} vl_catalog_problem;
typedef void (*vl_catalog_problem_fn)(void *arg, const vl_catalog_problem *p);
int vl_catalog_check_object_problems(vl_catalog *cat, vl_backend *b,
                                     const char *object_rel,
                                     const vl_inventory *inv,
                                     vl_catalog_problem_fn fn, void *arg,
                                     vl_error *err);
/* Format identification results, per object and content digest. */
typedef struct vl_catalog_format {
    const char *mime, *encoding, *description, *puid, *format_name,
        *format_version;
    /* PRONOM's basis and warning, the other matching PUIDs and the
     * signature files that identified it ("DROID V122; containers 40"),
     * or NULL */
    const char *basis, *warning, *others, *signatures;
} vl_catalog_format;
int vl_catalog_format_put(vl_catalog *cat, const char *object_id,
                          const char *digest, const vl_catalog_format *f,
                          vl_error *err);
/* fn is not called when nothing is recorded for the digest. */
typedef int (*vl_catalog_format_fn)(void *arg, const vl_catalog_format *f);
/* A version's files (version >= 1) with what the catalog records about
 * each, one query for them all: its format (NULL when none is recorded)
 * and its deposited modification time.  A page at a time: the first limit
 * (0: every) files whose logical path sorts after after (NULL: from the
 * first), in logical path order, so a reader can pull them in bounded
 * memory. */
typedef struct vl_catalog_file_detail {
    vl_catalog_file file;
    const vl_catalog_format *format;
    int has_modified;
    int64_t modified_ns;
} vl_catalog_file_detail;
typedef int (*vl_catalog_file_detail_fn)(void *arg,
                                         const vl_catalog_file_detail *d);
int vl_catalog_files_detail(vl_catalog *cat, const char *id, int version,
                            const char *after, size_t limit,
                            vl_catalog_file_detail_fn fn, void *arg,
                            vl_error *err);
int vl_catalog_format_get(vl_catalog *cat, const char *object_id,
                          const char *digest, vl_catalog_format_fn fn,
                          void *arg, vl_error *err);

/* Each deposited file's modification time as deposited (nanoseconds since
 * the epoch), per version and logical path.  get returns VL_FINDING when
 * none is recorded.  carry copies version from's dates to version to for
 * the paths to has none for (files kept by a merge). */
int vl_catalog_date_put(vl_catalog *cat, const char *object_id, int version,
                        const char *logical, int64_t modified_ns,
                        vl_error *err);
int vl_catalog_dates_carry(vl_catalog *cat, const char *object_id, int from,
                           int to, vl_error *err);
int vl_catalog_date_get(vl_catalog *cat, const char *object_id, int version,
                        const char *logical, int64_t *modified_ns,
                        vl_error *err);
/* The lookups and records above for many files of one object, one at a
 * time: the statements are prepared once for all of them (a deposit's
 * formats and dates, a staged head's kept files, a METS read back), where
 * each call of the functions above prepares its own.  facts_date returns
 * VL_FINDING when there is none. */
typedef struct vl_catalog_facts vl_catalog_facts;
int vl_catalog_facts_open(vl_catalog *cat, const char *object_id,
                          vl_catalog_facts **out, vl_error *err);
int vl_catalog_facts_format(vl_catalog_facts *fx, const char *digest,
                            vl_catalog_format_fn fn, void *arg, vl_error *err);
int vl_catalog_facts_date(vl_catalog_facts *fx, int version, const char *logical,
                          int64_t *modified_ns, vl_error *err);
int vl_catalog_facts_put_format(vl_catalog_facts *fx, const char *digest,
                                const vl_catalog_format *f, vl_error *err);
int vl_catalog_facts_put_date(vl_catalog_facts *fx, int version, const char *logical,
                              int64_t modified_ns, vl_error *err);
void vl_catalog_facts_close(vl_catalog_facts *fx);
/* Every date recorded for a version; fn's non-VL_OK stops and is returned. */
typedef int (*vl_catalog_date_fn)(void *arg, const char *logical,
                                  int64_t modified_ns, vl_error *err);
int vl_catalog_dates(vl_catalog *cat, const char *object_id, int version,
                     vl_catalog_date_fn fn, void *arg, vl_error *err);

/* ======================================================================
 * Repository: REPO/{vellum.conf, store/, catalog.sqlite, events/, staging/}
 * ==================================================================== */
typedef struct vl_repo vl_repo;

/* Who may read the repository (vellum.conf "shared", see shared.c):
 * private (folders 0750, files 0640), group (2770, 0660) or world (0755,
 * 0644); committed files are read-only (0440, 0440, 0444).  The caller's
 * umask can only narrow these. */
typedef enum {
    VL_SHARED_PRIVATE = 0,
    VL_SHARED_GROUP,
    VL_SHARED_WORLD,
} vl_shared;
int vl_shared_parse(const char *name, vl_shared *out);    /* 0, or -1 unknown */
const char *vl_shared_name(vl_shared s);
typedef struct vl_shared_modes {
    mode_t folders, files, committed;
} vl_shared_modes;
/* The modes new repository files get under s: as the setting gives them,
 * or as they come out under the process's current umask. */
void vl_shared_mode_bits(vl_shared s, int under_caller_umask, vl_shared_modes *out);

typedef struct vl_repo_options {
    vl_digest_alg digest;     /* VL_SHA512 or VL_SHA256 */
    unsigned fixity_mask;     /* extra algorithms always recorded */
    vl_shared shared;         /* default (0) private */
    /* NULL: the storage root is REPO/store.  "s3://BUCKET/PREFIX": it is
     * there (the bucket must exist and the prefix hold nothing), and
     * store_settings (NULL or s3.endpoint, s3.region, s3.credentials,
     * s3.tls_verify, s3.parallel) go to vellum.conf; the endpoint and
     * region found in the environment are recorded too.  Secrets never. */
    const char *store_url;
    const vl_kv *store_settings;
    /* With store_url: use the storage root already there (made by another
     * vellum, with the same layout) rather than make one.  The caller
     * then fills the catalog (vl_repo_reindex) unless it is shared. */
    int join;
} vl_repo_options;

/* Refuses (VL_EINPUT) a non-empty folder. */
int vl_repo_init(const char *dir, const vl_repo_options *opts, vl_error *err);
/* The same with a PostgreSQL catalog when catalog is a postgresql:// URL
 * (NULL: the embedded SQLite catalog).  The URL is kept in vellum.conf as
 * "catalog = URL"; one with a password in it is refused (VL_EINPUT): the
 * password comes from PGPASSWORD or ~/.pgpass. */
int vl_repo_init_catalog(const char *dir, const vl_repo_options *opts,
                         const char *catalog, vl_error *err);
/* VL_EINPUT (saying why) unless url is a postgresql:// or postgres:// URL
 * without a password. */
int vl_catalog_url_check(const char *url, vl_error *err);
/* A copy of a catalog location fit to show: any password in it masked
 * ("***"); NULL when out of memory. */
char *vl_catalog_url_mask(const char *url);
/* url with a password=... query parameter added (%-escaped); NULL when out
 * of memory. */
char *vl_catalog_url_with_password(const char *url, const char *password);
/* VL_EINPUT when dir is not a vellum repository. */
int vl_repo_open(const char *dir, vl_repo **out, vl_error *err);
/* How a command uses the repository:
 *  - VL_OPEN_READ: reads only.  Nothing is written at all (no staging
 *    folder, no catalog schema or upgrade, no SQLite files where there is
 *    no room or no write access), so it works on a full or read-only
 *    filesystem; catalog writes fail.  Callers should warn about
 *    vl_repo_pending work, since what they show may be out of date.
 *  - VL_OPEN_WRITE (vl_repo_open): refused, VL_ESYS naming 'vellum
 *    recover', while a crash's unfinished transaction is pending (abandoned
 *    export or get temporaries lie outside and do not stop a writer).
 *  - VL_OPEN_RECOVER: writes, whatever is pending (for recover itself). */
typedef enum { VL_OPEN_WRITE = 0, VL_OPEN_READ, VL_OPEN_RECOVER } vl_open_mode;
int vl_repo_open_mode(const char *dir, vl_open_mode mode, vl_repo **out,
                      vl_error *err);
void vl_repo_close(vl_repo *r);

const char *vl_repo_dir(const vl_repo *r);
vl_backend *vl_repo_backend(vl_repo *r);
/* The storage root for messages: REPO/store or s3://BUCKET/PREFIX. */
const char *vl_repo_store(const vl_repo *r);
/* 1 when the store is on S3 with TLS checks turned off (s3.tls_verify =
 * false): the CLI warns. */
int vl_repo_tls_unverified(const vl_repo *r);
vl_catalog *vl_repo_catalog(vl_repo *r);
vl_digest_alg vl_repo_digest(const vl_repo *r);
const char *vl_repo_config_get(const vl_repo *r, const char *key);
int vl_repo_config_set(vl_repo *r, const char *key, const char *value,
                       vl_error *err);
/* Object root relative to the storage root (malloc'd). */
char *vl_repo_object_path(const vl_repo *r, const char *id);

/* *present = 1 when the store holds a folder at the object's path
 * (whatever state it is in), else 0. */
int vl_repo_object_stored(vl_repo *r, const char *id, int *present,
                          vl_error *err);
/* Load an object's root inventory (sidecar checked); VL_EINPUT "no object
 * with id ..." when absent. */
int vl_repo_load_inventory(vl_repo *r, const char *id, vl_inventory **out,
                           vl_error *err);
/* Rebuild the catalog from the storage root alone. */
int vl_repo_reindex(vl_repo *r, size_t *objects, vl_error *err);
/* Finish or undo interrupted transactions, clear staging leftovers and
 * the temporaries killed exports and gets left beside their destination. */
/* Objects recover could not bring to a valid state are named through
 * on_unhealed (set by the caller, may be NULL) and counted. */
typedef void (*vl_unhealed_fn)(void *arg, const char *object_id,
                               const char *reason);
/* Something recover removed from a store: "s3://BUCKET/KEY" or a path. */
typedef void (*vl_removed_fn)(void *arg, const char *where);
typedef struct vl_recover_counts {
    size_t repaired;     /* interrupted deposits settled (finished or undone) */
    size_t unhealed;     /* objects left invalid: named through on_unhealed */
    size_t temporaries;  /* abandoned temporaries removed outside the repo */
    size_t replica_txns; /* interrupted replicate/repair work on replicas
                            settled */
    vl_unhealed_fn on_unhealed;
    vl_removed_fn on_removed;   /* each leftover of a cut-short upload */
    void *arg;
} vl_recover_counts;
int vl_repo_recover(vl_repo *r, vl_recover_counts *out, vl_error *err);

/* Work a crash or a kill left unfinished, which 'vellum recover' settles:
 * transactions in staging whose object lock nobody holds, and records of
 * export or get temporaries whose owner is gone.  Work that a live process
 * is doing is not counted.  Writes nothing. */
typedef struct vl_pending {
    size_t txns;          /* staging/txn-* folders nobody is working on */
    size_t outside;       /* staging/.outside records nobody holds */
    char first[300];      /* one of them, relative to the repository */
} vl_pending;
int vl_repo_pending(vl_repo *r, vl_pending *out, vl_error *err);
/* "a crash or kill left 1 unfinished transaction (staging/txn-...)" */
void vl_pending_describe(const vl_pending *p, char *buf, size_t n);

/* Free space for deposits (storage/space.c).  A deposit may fill the
 * staging filesystem up to a reserve kept for what a commit writes besides
 * the content and for everything else on that filesystem.  The reserve is
 * the setting ingest.reserve, a percentage of the filesystem's size ("1%",
 * the default) or a size ("64M"), and never less than VL_RESERVE_FLOOR. */
#define VL_RESERVE_KEY "ingest.reserve"
#define VL_RESERVE_DEFAULT "1%"
#define VL_RESERVE_FLOOR (4u << 20)
typedef struct vl_space {
    uint64_t size;        /* size of the staging filesystem */
    uint64_t free;        /* bytes free there (to an unprivileged user) */
    uint64_t reserve;     /* kept free */
    uint64_t usable;      /* free - reserve, or 0 */
    char setting[64];     /* ingest.reserve, or the default */
    int is_default;
} vl_space;
/* 0 when text is a valid ingest.reserve ("N%" or "N.N%" up to 100, or a
 * size with K/M/G/T); *out is then the bytes it means on a filesystem of
 * fs_size bytes, before the floor. */
int vl_reserve_parse(const char *text, uint64_t fs_size, uint64_t *out);
int vl_repo_space(vl_repo *r, vl_space *out, vl_error *err);
/* "staging has F bytes (..) of free space and keeps a reserve of R bytes
 * (..), which leaves U bytes (..); the reserve is ingest.reserve (...):
 * change it with 'vellum config ingest.reserve SIZE|PERCENT'" */
void vl_space_describe(const vl_space *s, char *buf, size_t n);
/* Turn err (a write that failed with ENOSPC) into one line: no space left
 * on device in staging, what needs how many bytes, how many more than
 * there is room for, the free space and the reserve, then what failed.
 * Returns VL_ESYS; err->sys_errno stays ENOSPC. */
int vl_space_error(vl_repo *r, const char *what, uint64_t need,
                   vl_error *err);

/* Temporaries outside the repository (DEST.vellum-export-<pid> built beside
 * DEST): registered in staging while the work runs, under a lock, so that
 * recover can remove what a killed process left.  Register absolute or
 * relative paths, whose last component contains ".vellum-", before making
 * them; end once they are renamed into place or removed. */
typedef struct vl_outside vl_outside;
int vl_outside_begin(vl_repo *r, const char *const *paths, size_t n,
                     vl_outside **out, vl_error *err);
/* Just before moving the result to dest: the event to record once it is
 * there.  If the process dies in between, recover records it. */
struct vl_event;
int vl_outside_promise(vl_outside *w, const char *dest,
                       const struct vl_event *ev, vl_error *err);
void vl_outside_end(vl_outside *w);
/* The same for the records naming a temporary of dest (dest.vellum-...,
 * in dest's folder): what killed exports and gets to that destination left
 * behind.  A running one's (its record locked) is left alone. */
int vl_outside_clear_for(vl_repo *r, const char *dest, size_t *cleared,
                         vl_error *err);

/* Write version num (0 = head) of an object's logical state under dest,
 * verifying every digest while copying.  Built beside dest and renamed into
 * place; dest must not exist.  A file whose copy is missing or fails its
 * digest (and no replica has a good one: vl_repo_get_opts) is VL_FINDING
 * naming the file and what was wrong with each copy, and nothing is left at
 * dest.  A root inventory that does not verify is VL_FINDING too: no file
 * is read through it. */
int vl_repo_get(vl_repo *r, const char *id, int num, const char *dest,
                vl_error *err);

/* Get with options: one file (a logical path) or the whole state, damaged
 * files read from a replica whose copy verifies (and said so through
 * on_file), and with skip_damaged the intact files written when no copy of
 * some file is good (each named through on_file; the result is VL_FINDING).
 * o may be NULL (vl_repo_get). */
typedef struct vl_get_file_note {
    const char *logical;
    const char *source;      /* copy the bytes came from: a replica's name;
                                NULL when no copy was good (left out) */
    const char *problem;     /* what was wrong with the primary's copy */
} vl_get_file_note;
typedef struct vl_get_options {
    const char *file;        /* one logical path, NULL = every file */
    int skip_damaged;
    void (*on_file)(void *arg, const vl_get_file_note *n);
    void *arg;
} vl_get_options;
int vl_repo_get_opts(vl_repo *r, const char *id, int num, const char *dest,
                     const vl_get_options *o, vl_error *err);
/* Write one file of version num (0 = head) to fd, verified: from the
 * primary, or from a replica whose copy verifies when the primary's does
 * not (on_file says so; may be NULL).  Nothing that fails its digest is
 * written past what was already streamed: the primary's copy is read and
 * checked before a byte goes to fd. */
int vl_repo_cat(vl_repo *r, const char *id, int num, const char *logical,
                int fd, void (*on_file)(void *arg, const vl_get_file_note *n),
                void *arg, vl_error *err);

/* ======================================================================
 * Replicas (storage/replica.c, replicate.c, repair.c, catalog_copies.c):
 * complete OCFL storage roots, each in a folder (another disk or mount),
 * holding copies of the primary's objects under the same layout, so the
 * same object paths.  Named in vellum.conf (replica.NAME = FOLDER) and in
 * the catalog, which keeps per object and copy the version held and when
 * its bytes were last verified.  The repository's own store is the copy
 * named VL_PRIMARY_COPY.
 * ==================================================================== */
#define VL_PRIMARY_COPY "primary"
#define VL_REPLICA_KEY_PREFIX "replica."
#define VL_EV_REPLICATION "replication"
#define VL_EV_RECOVERY "recovery"
#define VL_EV_QUARANTINE "quarantine"
/* Where repair moves files found in an object that its inventory does not
 * list (never deleted): REPO/quarantine/COPY/OBJECT-PATH/... */
#define VL_QUARANTINE_DIR "quarantine"

typedef struct vl_replica_info {
    const char *name;
    const char *location;     /* the folder, absolute */
} vl_replica_info;
typedef int (*vl_replica_fn)(void *arg, const vl_replica_info *ri);
/* Names: letters, digits, '-', '_' and '.', starting with a letter or
 * digit, at most 64 bytes, not "primary".  location: a new or empty folder
 * (made an OCFL storage root with the primary's layout) or an existing
 * storage root with the same layout (an earlier replica). */
int vl_replica_add(vl_repo *r, const char *name, const char *location,
                   vl_error *err);
/* Forgets the replica (config and catalog rows); its folder is left as it
 * is. */
int vl_replica_remove(vl_repo *r, const char *name, vl_error *err);
/* In name order. */
int vl_replica_list(vl_repo *r, vl_replica_fn fn, void *arg, vl_error *err);
size_t vl_replica_count(const vl_repo *r);
/* The named copy's backend (VL_PRIMARY_COPY: the repository's), owned by
 * the repository.  VL_EINPUT for an unknown name; VL_ESYS when the folder
 * cannot be reached or is not a storage root with the repository's layout. */
int vl_copy_backend(vl_repo *r, const char *name, vl_backend **out,
                    vl_error *err);

/* The folder of a copy's storage root (absolute for replicas); NULL for an
 * unknown name. */
const char *vl_copy_root(vl_repo *r, const char *name);

/* Per object and copy (catalog, table "copies"; reindex leaves it alone). */
typedef struct vl_copy_row {
    const char *copy;         /* VL_PRIMARY_COPY or a replica name */
    const char *object_id;
    int version;              /* version the copy holds (0 = none known) */
    const char *state;        /* of the last replicate: "current", "ahead",
                                 "diverged", "damaged", "missing" or NULL */
    const char *replicated;   /* when replicate last wrote or confirmed it */
    const char *verified;     /* start of the last audit of this copy */
    const char *outcome;      /* that audit's: "pass" or "fail" */
    const char *failures_json;/* that audit's failures (JSON array) */
} vl_copy_row;
typedef int (*vl_copy_fn)(void *arg, const vl_copy_row *c);
/* object_id NULL = every object; by object then copy. */
int vl_catalog_copies(vl_catalog *cat, const char *object_id, vl_copy_fn fn,
                      void *arg, vl_error *err);
/* The result of a replicate (state, version, when). */
int vl_catalog_copy_replicated(vl_catalog *cat, const char *copy,
                               const char *object_id, int version,
                               const char *state, const char *when,
                               vl_error *err);
/* The result of an audit of one copy. */
int vl_catalog_copy_verified(vl_catalog *cat, const char *copy,
                             const char *object_id, int version,
                             const char *outcome, const char *started,
                             const char *failures_json, vl_error *err);
int vl_catalog_copies_forget(vl_catalog *cat, const char *copy,
                             vl_error *err);

/* Replication: bring replicas to the primary's head, version by version in
 * the OCFL commit order (the version folder with its content and inventory,
 * each file verified by digest on the replica, then the root inventory and
 * sidecar), under the object's lock.  A replica that is ahead, diverged or
 * damaged is reported and left as it is. */
typedef enum {
    VL_REPL_CURRENT = 0,      /* already at the head */
    VL_REPL_UPDATED,          /* versions added */
    VL_REPL_AHEAD,            /* holds a version the primary does not */
    VL_REPL_DIVERGED,         /* a version differs from the primary's */
    VL_REPL_DAMAGED,          /* its inventory does not verify: repair */
    VL_REPL_SKIPPED,          /* object locked by a deposit: next run */
} vl_repl_state;
const char *vl_repl_state_name(vl_repl_state s);
typedef struct vl_replicate_result {
    const char *object_id, *replica;
    int from_version, to_version;   /* replica head before and after */
    vl_repl_state state;
    const char *message;      /* why, for refusals; NULL otherwise */
    uint64_t files, bytes;    /* content copied */
} vl_replicate_result;
typedef struct vl_replicate_options {
    const char *replica;      /* NULL = every replica */
    void (*on_result)(void *arg, const vl_replicate_result *res);
    void *arg;
} vl_replicate_options;
typedef struct vl_replicate_summary {
    size_t pairs, updated, current, refused, skipped;
    uint64_t files, bytes;
    double seconds;
} vl_replicate_summary;
/* ids NULL/n 0 = every object.  VL_FINDING when a replica was refused. */
int vl_replicate(vl_repo *r, const char *const *ids, size_t n,
                 const vl_replicate_options *o, vl_replicate_summary *s,
                 vl_error *err);

/* Repair: each copy's damaged, truncated or missing files (content, version
 * inventories, the root inventory and sidecar) are put back, atomically,
 * from a copy whose bytes verify; files the inventory does not list are
 * moved to quarantine.  A PREMIS "recovery" (or "quarantine") event per
 * file names it, both copies and both digests.  Bytes that do not verify
 * are never written. */
typedef struct vl_repair_action {
    const char *object_id;
    const char *copy;         /* the damaged copy */
    const char *path;         /* relative to the object root */
    const char *problem;      /* "damaged", "missing", "unreadable",
                                 "unexpected" (quarantined), "inventory",
                                 "diverged" (a replica whose inventory
                                 verifies but is not the primary's: left
                                 as it is) */
    const char *source;       /* copy the good bytes came from, or NULL */
    const char *algorithm, *expected, *actual;  /* may be NULL */
    int repaired;             /* 1 done, 0 left as it is */
    const char *message;
} vl_repair_action;
typedef struct vl_repair_options {
    const char *copy;         /* repair only this copy; NULL = every copy */
    void (*on_action)(void *arg, const vl_repair_action *a);
    /* A replica that cannot be reached (neither repaired nor used as a
     * source); may be NULL. */
    void (*on_unreachable)(void *arg, const char *copy, const char *why);
    /* A copy read from but never written: one on S3 (repairs are made
     * through a folder on the copy's own filesystem). */
    void (*on_source_only)(void *arg, const char *copy, const char *why);
    void *arg;
} vl_repair_options;
typedef struct vl_repair_summary {
    size_t objects, repaired, failed, quarantined, skipped, unreachable;
} vl_repair_summary;
/* VL_FINDING when a file had no good copy (left as it was). */
int vl_repair(vl_repo *r, const char *const *ids, size_t n,
              const vl_repair_options *o, vl_repair_summary *s,
              vl_error *err);

/* ======================================================================
 * Preservation events (PREMIS).  Each goes to the append-only, hash-chained
 * log REPO/events/events.jsonl (one canonical JSON object per line carrying
 * the SHA-256 of the line before it) and to the catalog.  Event types are
 * terms of the Library of Congress PREMIS eventType vocabulary.
 * ==================================================================== */
#define VL_EV_INGESTION "ingestion"
#define VL_EV_DIGEST "message digest calculation"
#define VL_EV_FORMAT_ID "format identification"
#define VL_EV_FIXITY "fixity check"
#define VL_EV_UNPACKING "unpacking"
#define VL_EV_VALIDATION "validation"
#define VL_EV_METADATA "metadata extraction"
#define VL_EV_DISSEMINATION "dissemination"
#define VL_EV_CREATION "creation"
#define VL_EV_DELETION "deletion"

typedef struct vl_event {
    char id[64];                 /* urn:uuid:..., set by vl_event_init */
    char datetime[32];           /* RFC 3339, set by vl_event_init */
    const char *type;            /* VL_EV_* */
    const char *outcome;         /* "success", "fail" or "warning" */
    const char *detail;          /* what was done, for people */
    const char *outcome_detail;  /* what was found (failing files...) or NULL */
    const char *object_id;
    int version;                 /* object version concerned, 0 = none */
    const char *const *files;    /* logical paths; none = the whole version */
    size_t nfiles;
    const char *const *agents;   /* "vellum 0.1.0", "OpenSSL 3.0.x", ... */
    size_t nagents;
} vl_event;

void vl_event_init(vl_event *ev, const char *type, const char *object_id);
/* Append to the log (flock + fsync) and then to the catalog.  An event whose
 * id is already in the log is not written again. */
int vl_events_append(vl_repo *r, const vl_event *ev, vl_error *err);

typedef struct vl_event_row {
    long seq;
    const char *id, *type, *datetime, *outcome, *detail, *outcome_detail;
    const char *object_id;
    int version;
    const char *files_json;      /* JSON array text, "[]" for the whole version */
    const char *agents_json;     /* JSON array text */
} vl_event_row;
typedef struct vl_event_filter {
    const char *object_id;       /* NULL = all */
    const char *type;
    const char *since;           /* RFC 3339 or date; NULL = all */
    const char *outcome;
} vl_event_filter;
typedef int (*vl_event_fn)(void *arg, const vl_event_row *row);
int vl_events_list(vl_repo *r, const vl_event_filter *f, vl_event_fn fn,
                   void *arg, vl_error *err);
/* Check the chain line by line and that catalog and log agree; each problem
 * to fn naming the line.  VL_OK intact, VL_FINDING when not. */
int vl_events_verify(vl_repo *r, vl_message_fn fn, void *arg, vl_error *err);
/* The same checks of the chain on a log file alone (an exported one, say):
 * VL_FINDING with the problems given to fn. */
int vl_events_verify_file(const char *path, vl_message_fn fn, void *arg,
                          vl_error *err);
/* Write the log, one JSON line each as events.jsonl holds them, to out
 * (name is what errors call it).  With a PostgreSQL catalog the log is its
 * events table, written out here. */
int vl_events_export(vl_repo *r, FILE *out, const char *name, vl_error *err);
/* The agent strings vellum uses (static storage). */
const char *vl_agent_vellum(void);
const char *vl_agent_openssl(void);

/* The PREMIS event types vellum writes (VL_EV_*), NULL-terminated. */
extern const char *const vl_event_types[];
/* The type given names: one of vl_event_types, or the only one it begins
 * (case-insensitive: "fixity" is "fixity check").  VL_EINPUT listing the
 * types when it names none or several. */
int vl_event_type_resolve(const char *given, const char **type, vl_error *err);
/* VL_OK for success, fail and warning; VL_EINPUT listing them otherwise. */
int vl_event_outcome_check(const char *outcome, vl_error *err);

/* "Did you mean": the ids in the catalog close to id (vl_similarity), best
 * first, at most three, escaped and joined as "a, b or c" into buf.
 * Returns how many (0 when none, or the catalog could not be read). */
#define VL_SUGGEST_ID_MAX 512
/* *known = 1 when the catalog or the store has an object with this id. */
int vl_repo_object_known(vl_repo *r, const char *id, int *known, vl_error *err);
size_t vl_repo_similar_ids(vl_repo *r, const char *id, char *buf, size_t n);

/* ======================================================================
 * Locks: one per object, held for a whole transaction (flock, so a killed
 * process releases it).
 * ==================================================================== */
typedef struct vl_lock vl_lock;
/* Waits up to wait_seconds (0 = do not wait); VL_ESYS "object ... is locked
 * by another process" with err->reason VL_REASON_LOCKED after that. */
int vl_lock_object(vl_repo *r, const char *id, int wait_seconds,
                   vl_lock **out, vl_error *err);
void vl_lock_release(vl_lock *l);

/* ======================================================================
 * Transactions: build one new version (or a new object) in staging, then
 * commit it atomically.
 * ==================================================================== */
typedef struct vl_txn vl_txn;

/* id NULL mints urn:uuid:<uuid4>.  Takes the object lock.  Refused
 * (VL_EINPUT) for an object with a staged head (vl_mhead_get): no root
 * version may be made until it is committed. */
int vl_txn_begin(vl_repo *r, const char *id, vl_txn **out, vl_error *err);
/* The same for a revision of the object's mutable head (OCFL extension
 * 0005): the new state is the staged version N (its inventory and content
 * under OBJECT/extensions/0005-mutable-head/head), not vN.  Starts from
 * the mutable head if there is one, else from the root head (the head's
 * version is then root head + 1); a new object gets an empty v1 first.
 * Refused (VL_EINPUT) on a version conflict and on a store that is not a
 * filesystem. */
int vl_txn_begin_staged(vl_repo *r, const char *id, vl_txn **out,
                        vl_error *err);
/* The version being built (staged: the mutable head's), the version whose
 * state a merge starts from (the head's own for a staged head that exists
 * already), and the revision being staged (0 when not staged). */
int vl_txn_version(const vl_txn *t);
int vl_txn_base_version(const vl_txn *t);
int vl_txn_revision(const vl_txn *t);
const char *vl_txn_object_id(const vl_txn *t);
/* Algorithms every added file must carry (inventory digest + fixity). */
unsigned vl_txn_digest_mask(const vl_txn *t);
/* Head inventory of an existing object (NULL for a new one). */
const vl_inventory *vl_txn_head_inventory(const vl_txn *t);

/* A private scratch folder inside the transaction's staging area, on the
 * same filesystem as the store (for unpacking before names are final). */
const char *vl_txn_scratch_dir(const vl_txn *t);
/* Staging path where the content for a logical path is written; parent
 * folders are made.  malloc'd; thread-safe. */
int vl_txn_stage_path(vl_txn *t, const char *logical, char **out,
                      vl_error *err);
/* Add a file to the new state.  staged = 1 when its bytes were written to
 * vl_txn_stage_path(logical); when the content is already stored the staged
 * copy is removed (deduplication).  Thread-safe. */
int vl_txn_add(vl_txn *t, const char *logical, const vl_digest_result *d,
               uint64_t size, int staged, vl_error *err);
/* An event to record when this version commits (object id and version are
 * filled in); kept in the intent file so recover records it if the process
 * dies after the store commit. */
int vl_txn_add_event(vl_txn *t, const vl_event *ev, vl_error *err);
/* Events added so far, as rows (strings owned by t; valid until commit). */
size_t vl_txn_event_count(const vl_txn *t);
int vl_txn_event_row(vl_txn *t, size_t i, vl_event_row *out);
/* 1 when the new state, leaving out the logical path ignore (e.g. the
 * METS.xml that describes it), equals the head state leaving it out too. */
int vl_txn_unchanged_except(vl_txn *t, const char *ignore);
/* Carry every head file into the new state unless the new state already has
 * that logical path (for --merge, after adding the new files). */
int vl_txn_keep_all(vl_txn *t, vl_error *err);
/* An extra fixity value for a logical path of the new state (e.g. from a
 * donor manifest). */
int vl_txn_add_fixity(vl_txn *t, const char *logical, vl_digest_alg alg,
                      const char *hex, vl_error *err);

typedef struct vl_txn_info {
    const char *message;
    const char *user_name;
    const char *user_address;
} vl_txn_info;
/* Commit; *version = the new version number, or 0 when the new state equals
 * the head state (nothing written).  Frees t either way. */
int vl_txn_commit(vl_txn *t, const vl_txn_info *info, int *version,
                  vl_error *err);
/* Abandon: staging removed, lock released, t freed. */
void vl_txn_abort(vl_txn *t);

/* ======================================================================
 * Mutable head (OCFL Community Extension 0005): deposits staged with
 * vl_txn_begin_staged accumulate in one version, N = root head + 1, kept
 * in OBJECT/extensions/0005-mutable-head until committed as vN.  Readers
 * other than vl_mhead_get see the committed versions only.
 * ==================================================================== */
typedef struct vl_mhead_info {
    int active;      /* 1: the object has a staged head */
    int version;     /* its version number */
    int revisions;   /* the highest revision marker (r1, r2, ...) */
    int conflict;    /* the root changed after the head was staged */
} vl_mhead_info;
/* info->active = 0 when the object has no staged head; inv (may be NULL)
 * gets the head's inventory (sidecar checked) when it has one. */
int vl_mhead_get(vl_repo *r, const char *id, vl_mhead_info *info,
                 vl_inventory **inv, vl_error *err);
typedef struct vl_mhead_commit_result {
    int version;     /* the version made */
    int revisions;   /* revisions it batched */
    char vname[16];  /* "v3" (or "v003", as the object names them) */
    /* replicate.after_ingest = true: replicas brought to the new version,
     * as after a deposit, and the first problem when one was not */
    size_t replicas_updated, replicas_refused;
    char replica_problem[512];
} vl_mhead_commit_result;
/* Commit the staged head as vN: content paths rewritten to vN/..., head/
 * moved to vN, its inventory then the root inventory written, the
 * extension folder removed; then the catalog and a "creation" event, and
 * with replicate.after_ingest = true the replicas, as after a deposit.
 * message (may be NULL) replaces the version's message.  VL_EINPUT when
 * there is no staged head, and on a version conflict (root-inventory
 * sidecar copy differs from the root sidecar, or vN exists): nothing is
 * changed then. */
int vl_mhead_commit(vl_repo *r, const char *id, const char *message,
                    vl_mhead_commit_result *res, vl_error *err);
typedef struct vl_mhead_discard_result {
    int version;     /* the staged version number (N), as its head said */
    int revisions;   /* the highest revision marker discarded */
    int conflict;    /* the root had changed after the head was staged */
    int event_version; /* the version the "deletion" event names: N, or 0
                          when the object has a vN of its own (conflict) */
} vl_mhead_discard_result;
/* Discard the staged head: the extension folder leaves the object in one
 * rename (into staging, then removed) and a "deletion" event naming
 * version N is logged.  Works on a conflicting or damaged head too (that
 * is what it is for); the committed versions are not touched.  An intent
 * written first lets recover finish a discard that was killed part way.
 * Events of version N logged before a discard are about content never
 * committed: vl_event_is_discard() tells a METS writer to leave them out.
 * VL_EINPUT when there is no staged head. */
int vl_mhead_discard(vl_repo *r, const char *id, vl_mhead_discard_result *res,
                     vl_error *err);
/* For a reader going through an object's events in log order: 1 when row
 * is a staged head's discard (a "deletion" event naming a version), after
 * which the events of that version seen so far, and this one, describe
 * no committed version. */
int vl_event_is_discard(const vl_event_row *row);

/* ======================================================================
 * Validator (OCFL 1.0 and 1.1, codes from the spec's validation table).
 * ==================================================================== */
enum { VL_SEV_ERROR = 0, VL_SEV_WARNING = 1 };

/* What happened to a file, for callers that act on findings (the audit,
 * repair, replication): they read these and the fields below, never the
 * message, whose wording is for people and may change. */
typedef enum vl_problem {
    VL_PROBLEM_OTHER = 0,    /* see code and message */
    VL_PROBLEM_MISMATCH,     /* content, fixity or sidecar digest (or fixity
                                size) differs: algorithm, expected, actual */
    VL_PROBLEM_MISSING,      /* listed in the inventory, absent on storage */
    VL_PROBLEM_UNREADABLE,   /* on storage but cannot be stat'ed or read */
    VL_PROBLEM_UNEXPECTED,   /* on storage but not in the inventory */
} vl_problem;

typedef struct vl_finding {
    const char *code;        /* "E040", "W004" */
    int severity;
    const char *object;      /* object id, or object path when no id known */
    const char *path;        /* file or folder the finding is about (for
                                digest findings: the inventory that lists
                                the file), relative to the backend root */
    const char *message;
    /* Facts; 0 or NULL when they do not apply or are not known.  Valid only
     * during the callback. */
    int problem;             /* vl_problem */
    const char *object_root; /* the object's (or storage root's) folder,
                                relative to the backend root ("" = it) */
    const char *content_path;/* the file or folder, relative to object_root */
    const char *algorithm;   /* "sha512", "md5", ... or "size" (bytes) */
    const char *expected;    /* full hex digest (or size) the inventory,
                                fixity block or sidecar records */
    const char *actual;      /* full hex digest (or size) of what is stored */
} vl_finding;
typedef void (*vl_finding_fn)(void *arg, const vl_finding *f);

/* Each object validated, after its findings: what a curator watches grow. */
typedef struct vl_validated_object {
    const char *object;      /* its id, else its folder (as findings say) */
    const char *object_root; /* relative to the backend root */
    int inventory_known;     /* 0: no root inventory.json could be measured */
    uint64_t inventory_bytes;/* size of the root inventory.json (backend stat) */
    const char *unknown_why; /* !inventory_known: "not there", or the
                                backend's error */
} vl_validated_object;
typedef void (*vl_validated_fn)(void *arg, const vl_validated_object *o);

typedef struct vl_validate_options {
    int check_digests;       /* recompute content and fixity digests */
    int nthreads;            /* 0 = every core */
    vl_finding_fn on_finding;
    void *arg;               /* for on_finding and on_object */
    vl_validated_fn on_object;   /* NULL: not called */
} vl_validate_options;

typedef struct vl_validate_counts {
    size_t objects;
    size_t errors;
    size_t warnings;
} vl_validate_counts;

/* A whole storage root at the backend root. */
int vl_validate_storage_root(vl_backend *b, const vl_validate_options *o,
                             vl_validate_counts *c, vl_error *err);
/* One object whose root is object_rel within the backend. */
int vl_validate_object(vl_backend *b, const char *object_rel,
                       const vl_validate_options *o, vl_validate_counts *c,
                       vl_error *err);
/* Any folder: a storage root or a single object, told apart by its namaste
 * file (or ocfl_layout.json).  A folder without a declaration is an object
 * missing it (E003) unless it holds no inventory or version folder but has
 * objects below it (then a storage root missing its E069).  VL_EINPUT when
 * dir does not exist or is not a folder. */
int vl_validate_path(const char *dir, const vl_validate_options *o,
                     vl_validate_counts *c, vl_error *err);

/* ======================================================================
 * Report queries (storage/catalog_report.c): read-only summaries for
 * curators' reports, beside the audit history queries below.  Audit figures
 * are empty when no audit has run.  since is RFC 3339 UTC, NULL = all.
 * ==================================================================== */
typedef struct vl_report_totals {
    uint64_t objects, versions;
    uint64_t files, bytes;               /* deposited files of head states */
    uint64_t metadata_files, metadata_bytes;  /* METS.xml etc. of them */
    uint64_t stored_files, stored_bytes; /* content kept, every version */
} vl_report_totals;
int vl_catalog_report_totals(vl_catalog *cat, vl_report_totals *out,
                             vl_error *err);

typedef struct vl_report_format_row {
    const char *puid, *mime, *format_name, *format_version; /* NULL unknown */
    uint64_t files, bytes;
} vl_report_format_row;
typedef int (*vl_report_format_fn)(void *arg, const vl_report_format_row *f);
/* Head-state files grouped by (PUID, MIME type), most files first. */
int vl_catalog_report_formats(vl_catalog *cat, vl_report_format_fn fn,
                              void *arg, vl_error *err);

/* Outcome of each object's latest audit (highest audits row id). */
int vl_catalog_report_last_outcomes(vl_catalog *cat, uint64_t *passed,
                                    uint64_t *failed, vl_error *err);

typedef struct vl_report_failure {
    const char *object_id;
    const char *kind, *code, *path, *algorithm, *expected, *actual,
        *message;                        /* each may be NULL */
    const char *logical;                 /* logical path of the content path
                                            in the latest version having it */
    const char *first_seen, *last_seen;  /* start of the first/last audit
                                            that found it */
    int current;                         /* found by the object's last audit */
} vl_report_failure;
typedef int (*vl_report_failure_fn)(void *arg, const vl_report_failure *f);
/* Failures of audits started since, one row per (object, kind, code, path,
 * expected, actual) however many audits found it (vl_catalog_audit_failures_
 * since gives one per audit), plus every failure of each object's latest
 * audit whenever it was; by object and path. */
int vl_catalog_report_failures(vl_catalog *cat, const char *since,
                               vl_report_failure_fn fn, void *arg,
                               vl_error *err);

/* Copies for reports and audit scheduling: one row per object (by id) and
 * copy name (in the order of copies_json, a JSON array of names), whether
 * or not the catalog knows anything of that copy.  For VL_PRIMARY_COPY the
 * latest of its audit history row and its "copies" row; for a replica its
 * "copies" row. */
typedef struct vl_report_copy_row {
    const char *object_id;
    int head;                            /* the primary's head version */
    const char *copy;
    int version;                         /* held (primary: head), 0 unknown */
    const char *verified;                /* last audit's start, or NULL */
    const char *outcome;                 /* "pass", "fail" or NULL */
    const char *state;                   /* last replicate's, or NULL */
    const char *failures_json;           /* that audit's failures, or NULL */
} vl_report_copy_row;
typedef int (*vl_report_copy_fn)(void *arg, const vl_report_copy_row *c);
int vl_catalog_report_copies(vl_catalog *cat, const char *copies_json,
                             vl_report_copy_fn fn, void *arg, vl_error *err);

/* ======================================================================
 * Audit history (storage/catalog_audits.c): one row per object audit in the
 * catalog's "audits" table.  Reindex leaves it alone: the store cannot
 * rebuild it (the fixity events in the log carry the same outcomes).
 * Times are RFC 3339 UTC, so they sort as text.
 * ==================================================================== */
typedef struct vl_audit_row {
    long id;                    /* set by the catalog; ignored on insert */
    const char *object_id;
    const char *started, *finished;
    const char *outcome;        /* "pass" or "fail" */
    uint64_t bytes, files;
    double seconds;
    const char *failures_json;  /* JSON array of {kind, code, path, algorithm,
                                   expected, actual, message}; "[]" if none */
} vl_audit_row;
int vl_catalog_audit_insert(vl_catalog *cat, const vl_audit_row *row,
                            vl_error *err);
/* Every object in the catalog with its stored content bytes (all versions)
 * and its last audit: never audited first (by id), then oldest audit first. */
typedef struct vl_audit_object {
    const char *id;
    uint64_t bytes;
    const char *last_started;   /* NULL = never audited */
    const char *last_outcome;
} vl_audit_object;
typedef int (*vl_audit_object_fn)(void *arg, const vl_audit_object *o);
int vl_catalog_audit_objects(vl_catalog *cat, vl_audit_object_fn fn, void *arg,
                             vl_error *err);
/* Totals per UTC day (of started), oldest first. */
typedef struct vl_audit_day {
    const char *day;            /* "YYYY-MM-DD" */
    uint64_t objects, passed, failed, bytes, files;
    double seconds;
} vl_audit_day;
typedef int (*vl_audit_day_fn)(void *arg, const vl_audit_day *d);
int vl_catalog_audit_days(vl_catalog *cat, const char *since,
                          vl_audit_day_fn fn, void *arg, vl_error *err);

#endif
