/* Private to the OCFL validator (storage/validate*.c). */
#ifndef VL_VALIDATE_PRIVATE_H
#define VL_VALIDATE_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "validate_private.h is private to storage/"
#endif

#include <jansson.h>

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

/* (digest, path) pairs point into the inventory's JSON document. */
typedef struct vv_pair {
    const char *digest;
    const char *path;
} vv_pair;

typedef struct vv_fix {
    const char *alg;
    const char *digest;
    const char *path;
} vv_fix;

typedef struct vv_version {
    const char *name;
    long num;
    json_t *obj;         /* the version block */
    vv_pair *state;      /* sorted by logical path */
    size_t nstate;
} vv_version;

typedef struct vv_inv {
    json_t *root;
    const char *id, *type, *alg_name, *head, *content_dir;
    int spec;            /* from type; VV_SPEC_UNKNOWN when not an OCFL type */
    int alg;             /* vl_digest_alg, -1 when unusable */
    long head_num;       /* 0 when unusable */
    int pad;             /* version name digits when zero-padded, 0 if not,
                            -1 unknown */
    vv_pair *manifest;   /* sorted by content path */
    size_t nmanifest;
    vv_version *versions; /* sorted by number */
    size_t nversions;
    unsigned char *misplaced; /* per manifest entry: E014/E042 reported */
    vv_fix *fixity;      /* sorted by content path */
    size_t nfixity;
    int fatal;           /* not JSON or not an object: nothing usable */
    int loaded;          /* vv_inventory_load ran */
    json_error_t jerr;   /* why root is NULL */
} vv_inv;

/* Reset; then parse a document (no findings yet: the object check wants
 * the id before it reports anything). */
void vv_inventory_init(vv_inv *inv);
void vv_inventory_load(vv_inv *inv, const char *data, size_t len);
/* Check an inventory document and build its model (loads it first unless
 * vv_inventory_load already ran).  file names it for
 * messages (relative to ctx->base).  expect_spec: the declared spec version
 * the type must match (E038), or VV_SPEC_UNKNOWN to accept either.  Returns
 * VL_OK (findings reported) or VL_ESYS on out-of-memory. */
int vv_inventory_check(vv_ctx *v, const char *file, const char *data,
                       size_t len, int expect_spec, vv_inv *inv,
                       vl_error *err);
void vv_inventory_free(vv_inv *inv);
const vv_version *vv_inventory_version(const vv_inv *inv, long num);
const vv_pair *vv_manifest_find(const vv_inv *inv, const char *content_path);

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
