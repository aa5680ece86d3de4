/* Private to storage/: the repository handle's fields, and helpers shared
 * by the files that implement repositories, transactions, events, locks,
 * outside records and recovery. */
#ifndef VL_REPO_INTERNAL_H
#define VL_REPO_INTERNAL_H

#ifndef VL_STORAGE_INTERNAL
#error "repo_internal.h is private to storage/"
#endif

#include "layout_private.h"
#include "vl_storage.h"

#define VL_STORE_DIR "store"
#define VL_STAGING_DIR "staging"
#define VL_CATALOG_FILE "catalog.sqlite"
#define VL_CONFIG_FILE "vellum.conf"
#define VL_EVENTS_DIR "events"
#define VL_LOCKS_DIR ".locks"        /* inside staging/, kept by recover */
#define VL_OUTSIDE_DIR ".outside"    /* inside staging/, see outside.c */
#define VL_INTENT_FILE "intent.json" /* inside each staging/txn-* folder */
#define VL_ROOT_NAMASTE "0=ocfl_1.1"
#define VL_LAYOUT_EXT "0004-hashed-n-tuple-storage-layout"
#define VL_LAYOUT_CONFIG "extensions/" VL_LAYOUT_EXT "/config.json"

struct vl_repo {
    char *dir;
    char *store_dir;
    char *staging_dir;
    vl_backend *backend;
    vl_catalog *catalog;
    vl_kv *config;
    vl_layout layout;
    vl_digest_alg digest;
    unsigned fixity_mask;
    vl_shared shared;
    mode_t saved_umask;       /* the caller's, given back on close */
    struct vl_copy_slot *copies;  /* replica backends opened so far */
    size_t ncopies, copies_cap;
    int umask_entered;
};

/* Read and check an object's root inventory at object_rel: parse, sidecar
 * digest, and (when the sidecar lags behind a crashed commit) the head
 * version's own sidecar.  VL_EINPUT when there is no object there. */
int vl_repo_read_inventory_at(vl_repo *r, const char *object_rel,
                              vl_inventory **out, vl_error *err);
/* Object locks are keyed by the sha256 of the id; transaction folders are
 * named staging/txn-<key>-<uuid> so recover can tell a live one (locked). */
int vl_lock_key(const char *id, char out[VL_DIGEST_HEX_MAX]); /* -1: no memory */
/* A new transaction folder's path, PARENT/PREFIX<lock key>-<uuid>
 * (malloc'd; NULL: no memory): recover takes the lock the key names.  The
 * repo's own are staging/txn-<key>-<uuid>. */
char *vl_txn_dir_new(const char *parent, const char *prefix, const char *id);
char *vl_repo_txn_dir_new(const vl_repo *r, const char *id);
int vl_lock_by_key(vl_repo *r, const char *key, int wait_seconds,
                   vl_lock **out, vl_error *err);

/* Narrow the process umask by s; returns the umask to give back to
 * vl_shared_leave.  The umask is per process: vl_repo_open enters and
 * vl_repo_close leaves, so repositories must be closed in reverse order. */
mode_t vl_shared_enter(vl_shared s);
void vl_shared_leave(mode_t saved);

/* Replicas (replica.c): the open backends are freed by vl_repo_close. */
void vl_copies_free(vl_repo *r);
/* A transaction folder on a copy's own filesystem, for building what is
 * renamed into that copy: staging/txn-<key>-<uuid> in the repository for
 * the primary (recover settles it like a deposit's), and
 * .vellum-txn-<key>-<uuid> at a replica's root.  The caller holds the
 * object's lock, which is what tells recover the folder is alive.  When
 * intent is not NULL it is written there (JSON: the object's id, path and
 * version), so recover can settle the object after a kill. */
int vl_copy_txn_dir(vl_repo *r, const char *copy, const char *id,
                    const char *intent, char **out, vl_error *err);
/* 1 when b's storage-root files (declaration, ocfl_layout.json, the
 * layout's config) equal ours byte for byte, 0 when not (why says how),
 * -1 when memory ran short (in err).  Replicas and --join use it. */
int vl_root_files_same(vl_backend *ours, vl_backend *b, char *why, size_t whylen,
                       vl_error *err);
/* Recover's part for replicas: every .vellum-txn-* folder nobody holds is
 * settled (the object's root inventory made to agree with its newest whole
 * version, temp files removed) and removed.  *settled counts them. */
int vl_replicas_recover(vl_repo *r, size_t *settled, vl_error *err);
/* Recover's settling of one object on any backend (recover.c). */
int vl_recover_settle(vl_backend *b, const char *object_rel, int num,
                      int *changed, char **unhealed, vl_removed_fn fn,
                      void *arg, vl_error *err);
int vl_recover_clean_temps(const char *object_dir, vl_error *err);

/* The repository's sharing mode (an accessor only storage uses). */
vl_shared vl_repo_shared(const vl_repo *r);

/* Clear every outside record nobody holds (recover); *cleared counts paths
 * removed. */
int vl_outside_recover(vl_repo *r, size_t *cleared, vl_error *err);

/* Rebuild the catalog's events from the log (reindex). */
int vl_events_reindex(vl_repo *r, size_t *count, vl_error *err);


/* Events as JSON (intent files keep pending events this way). */
#include <jansson.h>
json_t *vl_event_to_json(const vl_event *ev);
int vl_events_append_json(vl_repo *r, json_t *ev, vl_error *err);
/* Each event of a JSON array, in order (vl_events_append_json); stops at
 * the first failure.  A NULL or non-array events appends nothing. */
int vl_events_append_all(vl_repo *r, json_t *events, vl_error *err);
/* Copy log lines the catalog lacks (a crash between the two writes). */
int vl_events_catch_up(vl_repo *r, vl_error *err);

#endif
