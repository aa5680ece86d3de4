/* Private to the OCFL validator (storage/validate*.c). */
#ifndef VL_VALIDATE_PRIVATE_H
#define VL_VALIDATE_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "validate_private.h is private to storage/"
#endif

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "vl_storage.h"

/* Check one inventory.json document on its own (structure, keys, values,
 * digests' shape, paths; no files are read).  Findings go to o->on_finding
 * with object "." and path "inventory.json".  For tests and fuzzing. */
int vl_validate_inventory_buffer(const char *json, size_t len,
                                 const vl_validate_options *o,
                                 vl_validate_counts *c, vl_error *err);

/* Specification versions, in order. */
enum { VV_SPEC_UNKNOWN = -1, VV_SPEC_1_0 = 0, VV_SPEC_1_1 = 1 };

/* Inventory files larger than this are refused (E033); 1 GiB is far above
 * any real inventory (a 100,000-file object is ~30 MB). */
#define VV_INVENTORY_MAX ((size_t)1 << 30)
#define VV_SMALL_MAX ((size_t)1 << 20)

/* The run's scratch database (validate_parse.c has its schema): what
 * grows with an object's file count is kept in its tables, not in memory.
 * Statements are prepared once, keyed by their SQL's address. */
#define VV_DB_STMTS 96
typedef struct vv_db {
    sqlite3 *db;
    struct { const char *sql; sqlite3_stmt *st; } st[VV_DB_STMTS];
    size_t nst;
    int next_inv;            /* ids of the inventories read */
} vv_db;
int vv_db_open(vv_db *d, vl_error *err);
void vv_db_close(vv_db *d);
/* The prepared statement of sql (a static string), reset. */
int vv_q(vv_db *d, const char *sql, sqlite3_stmt **out, vl_error *err);
/* Run sql with ?1 = inv to its end. */
int vv_exec_inv(vv_db *d, const char *sql, int inv, vl_error *err);
/* FNV-1a of a string (of its ASCII lower-case form when lower): the
 * scratch index finds digests by it. */
sqlite3_int64 vv_hash(const char *s, int lower);
/* A failed SQLite call as a system error. */
int vv_db_fail(vv_db *d, int code, vl_error *err);

/* One validation run of one object or storage root. */
typedef struct vv_ctx {
    vl_backend *b;
    const vl_validate_options *o;
    vl_validate_counts *c;
    const char *base;    /* object or storage root relative to backend root */
    char *label;         /* object id, else base (owned) */
    int spec;            /* declared spec version of the object/root */
    size_t errors;       /* errors reported in this context */
    int quiet_warnings;  /* checking a prior version's inventory: its
                            warnings repeat the root inventory's */
    unsigned long alloc_mark; /* vl_alloc_failures() when the run began */
    vv_db *db;               /* the scratch database of an inventory or
                                object check */
} vv_ctx;

/* Running short of memory is never a finding about the object: once an
 * allocation has failed (vl_alloc_failures moved past alloc_mark) nothing
 * more is reported, since what follows may be its consequence, and the
 * run ends with VL_ESYS (vv_finish).  vv_note counts an operation's
 * failure as one when it is the system's own (VL_ESYS with no errno, or
 * ENOMEM) rather than the files': 1 then. */
int vv_note(const vl_error *e);
int vv_short(const vv_ctx *v);
int vv_finish(const vv_ctx *v, int rc, vl_error *err);
/* After an object's checks: tell on_object (if any) its root inventory's
 * size.  Asked of the backend, so a bucket's object is measured too; a
 * stat that fails leaves the size unknown rather than stopping the run. */
void vv_object_done(vv_ctx *v);

/* Report one finding.  codes is "E104" or "E104|E046": the code under 1.1,
 * then under 1.0 ("-" = not reported under 1.0).  rel is the file or folder
 * relative to ctx->base ("" or NULL = base itself); the message is prefixed
 * with it. */
void vv_report(vv_ctx *v, const char *codes, const char *rel,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Findings about OCFL Community Extension 0005 (a staged head) that no
 * OCFL code covers: E0005, and W0005 for a version conflict (the letter is
 * the severity, as in OCFL's codes; four digits never clash with them).
 * What the head breaks as any version would carries the OCFL code. */
#define VV_MHEAD_CODE "E0005"
#define VV_MHEAD_CONFLICT "W0005"

/* The facts of a finding (vl_finding's fields of the same names); strings
 * are borrowed for the call.  content_path is relative to ctx->base. */
typedef struct vv_facts {
    int problem;             /* vl_problem */
    const char *content_path;
    const char *algorithm;
    const char *expected;
    const char *actual;
} vv_facts;
/* vv_report with facts (NULL = none). */
void vv_report_facts(vv_ctx *v, const char *codes, const char *rel,
                     const vv_facts *facts, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Sections of the streamed maps in the scratch database (table k: their
 * keys, e: the elements of each key's array). */
enum { VV_MANIFEST = 0, VV_STATE = 1, VV_FIXITY = 2 };

typedef struct vv_version {
    const char *name;
    long num;
    long blk;            /* its ordinal in versions: its state's rows */
    json_t *obj;         /* the version block */
} vv_version;

typedef struct vv_inv {
    json_t *root;        /* the document less the streamed maps (an empty
                            object stands for each) */
    vv_db *db;
    int id;              /* its rows in db */
    const char *id_str, *type, *alg_name, *head, *content_dir;
    const char *head_dir; /* a staged head's inventory (extension 0005):
                             the folder of its head version, whose content
                             paths are HEAD_DIR/CONTENTDIR/rN/...; NULL
                             for an inventory of the object's versions */
    int spec;            /* from type; VV_SPEC_UNKNOWN when not an OCFL type */
    int alg;             /* vl_digest_alg, -1 when unusable */
    long head_num;       /* 0 when unusable */
    int pad;             /* version name digits when zero-padded, 0 if not,
                            -1 unknown */
    int have_manifest;   /* the manifest is a JSON object */
    vv_version *versions; /* sorted by number */
    size_t nversions;
    int fatal;           /* not JSON or not an object: nothing usable */
    int loaded;          /* read (vv_inventory_load/_read) */
    char perr[160];      /* why root is NULL */
    long pline;
    uint64_t size;       /* the document's bytes and digests */
    char sha512[VL_DIGEST_HEX_MAX], sha256[VL_DIGEST_HEX_MAX];
} vv_inv;

/* Reset; then read a document, in one pass, into the tree and v->db's
 * rows (no findings yet: the object check wants the id before it reports
 * anything).  A document that is not JSON is not an error here (perr
 * says why; vv_inventory_check reports it); a read that fails is
 * (vv_read's semantics). */
void vv_inventory_init(vv_inv *inv);
int vv_inventory_load(vv_ctx *v, vv_inv *inv, const char *data, size_t len,
                      vl_error *err);
int vv_inventory_read(vv_ctx *v, const char *rel, vv_inv *inv, vl_error *err);
/* Check an inventory document read by one of those.  file names it for
 * messages (relative to ctx->base).  expect_spec: the declared spec version
 * the type must match (E038), or VV_SPEC_UNKNOWN to accept either.  Returns
 * VL_OK (findings reported) or VL_ESYS on out-of-memory. */
int vv_inventory_check(vv_ctx *v, const char *file, int expect_spec,
                       vv_inv *inv, vl_error *err);
/* Drops the tree and (unless the database is closed) the rows. */
void vv_inventory_free(vv_inv *inv);
const vv_version *vv_inventory_version(const vv_inv *inv, long num);
/* 1 when the manifest lists the content path, 0 when not, -1 on a failure
 * of the scratch database (err). */
int vv_manifest_has(const vv_inv *inv, const char *content_path,
                    vl_error *err);
/* 1 when a content path is not VERSION/CONTENTDIR/... of a version of the
 * inventory (E014/E042; reported when v is not NULL). */
int vv_content_misplaced(vv_ctx *v, const char *file, const vv_inv *inv,
                         const char *p);
/* Whether a fixity digest is well formed for its algorithm (alg: the
 * vl_digest_alg, or -1 for an extension algorithm). */
int vv_fixity_digest_ok(const char *alg_name, int alg, const char *d);

/* Object and storage root checks. */
int vv_object_run(vv_ctx *v, vl_error *err);
int vv_root_run(vl_backend *b, const vl_validate_options *o,
                vl_validate_counts *c, vl_error *err);
/* 1 when an object declaration is in rel or any folder below it. */
int vv_tree_has_object(vl_backend *b, const char *rel);

/* Helpers. */
int vv_spec_from_type(const char *type);
const char *vv_spec_name(int spec);          /* "1.0", "1.1" */
int vv_hex_ok(const char *s, size_t want_len); /* want_len 0 = any length */
int vv_uri_ok(const char *s);
int vv_rfc3339_ok(const char *s);
/* Parse a version directory name: 0 ok (*num, *pad = digits when padded,
 * else 0); -1 no "v" prefix (E104); -2 not a positive integer (E105). */
int vv_version_parse(const char *name, long *num, int *pad);
int vv_registered_extension(const char *name);
/* A revision name of extension 0005 ("rN", N > 0, no leading zero) of
 * len characters: N, else 0. */
long vv_revision_parse(const char *s, size_t len);
/* Path segments: 0 ok; 1 leading or trailing '/'; 2 empty, "." or ".."
 * segment. */
int vv_path_shape(const char *p);
char *vv_join(const char *a, const char *b);  /* "" aware; malloc'd */
/* Read a small file through the backend; VL_EINPUT when too large. */
int vv_read(vv_ctx *v, const char *rel, size_t max, vl_buf *out,
            vl_error *err);
int vv_stat(vv_ctx *v, const char *rel, int *kind, vl_error *err);

/* Collected directory listing. */
typedef struct vv_entry {
    char *name;
    int kind;
} vv_entry;
typedef struct vv_list {
    vv_entry *e;
    size_t n, cap;
} vv_list;
int vv_list_dir(vl_backend *b, const char *rel, vv_list *out, vl_error *err);
void vv_list_free(vv_list *l);

#endif
