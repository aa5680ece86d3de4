/* Private to storage/txn.c: what a deposit has said so far (its new state,
 * the content it staged, the folders it made, extra fixity values), kept in
 * a private SQLite database so that memory does not grow with the number of
 * files.  Not thread-safe: the transaction serializes calls under its lock. */
#ifndef VL_TXN_INDEX_PRIVATE_H
#define VL_TXN_INDEX_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "txn_index_private.h is private to storage/"
#endif

#include "vl_storage.h"

typedef struct vl_txn_index vl_txn_index;

/* id names the object in error messages; it must outlive the index. */
int vl_txn_index_open(const char *id, vl_txn_index **out, vl_error *err);
void vl_txn_index_free(vl_txn_index *x);

/* Record logical -> digest in the new state.  given: a path of the deposit
 * (VL_EINPUT if the deposit gave it already; replaces one kept from the
 * head); otherwise kept from the head (left alone if the deposit gave it). */
int vl_txn_index_put(vl_txn_index *x, const char *logical, const char *digest,
                     int given, vl_error *err);
/* Note that logical's staged copy holds digest's content: *is_new is 0 when
 * some other path's copy holds it already. */
int vl_txn_index_stage(vl_txn_index *x, const char *digest, const char *logical,
                       int *is_new, vl_error *err);
int vl_txn_index_staged(vl_txn_index *x, const char *digest, int *found,
                        vl_error *err);
/* Staging folders made: *known tells whether dir was noted before. */
int vl_txn_index_dir_known(vl_txn_index *x, const char *dir, int *known,
                           vl_error *err);
int vl_txn_index_dir_add(vl_txn_index *x, const char *dir, vl_error *err);
int vl_txn_index_fixity_add(vl_txn_index *x, vl_digest_alg alg, const char *hex,
                            const char *logical, vl_error *err);
/* Paths in the new state, not counting except (may be NULL). */
int vl_txn_index_count(vl_txn_index *x, const char *except, size_t *n,
                       vl_error *err);
/* A pair of paths where file is also the folder of inner (E095), both
 * malloc'd, or both NULL when there is none. */
int vl_txn_index_conflict(vl_txn_index *x, char **file, char **inner,
                          vl_error *err);

/* Iterations, in a fixed order.  fn returns 0 to go on; anything else stops
 * the iteration and is returned as it is. */
typedef int (*vl_txn_index_fn)(void *arg, const char *a, const char *b);
/* (logical, digest) of the new state, by path. */
int vl_txn_index_state_foreach(vl_txn_index *x, vl_txn_index_fn fn, void *arg,
                               vl_error *err);
/* (digest, logical) of the content staged, by digest. */
int vl_txn_index_staged_foreach(vl_txn_index *x, vl_txn_index_fn fn, void *arg,
                                vl_error *err);
/* Extra fixity values of paths still in the new state, as they were added:
 * (algorithm, hex, digest of the path in the new state). */
typedef int (*vl_txn_index_fixity_fn)(void *arg, vl_digest_alg alg,
                                      const char *hex, const char *digest);
int vl_txn_index_fixity_foreach(vl_txn_index *x, vl_txn_index_fixity_fn fn,
                                void *arg, vl_error *err);

#endif
