/* Shared by fixity/audit.c (running audits) and fixity/schedule.c (--due,
 * --status).  Not a public API. */
#ifndef VL_AUDIT_PRIVATE_H
#define VL_AUDIT_PRIVATE_H

#ifndef VL_FIXITY_INTERNAL
#error "audit_private.h is private to fixity/"
#endif

#include "vl_fixity.h"

/* An object (or one copy of it) to audit, with its stored bytes (for the
 * byte budget) and its last audit's start (NULL = never). */
typedef struct vl_audit_target {
    char *id;
    char *last;
    uint64_t bytes;
    const char *copy;   /* NULL: the primary, as before copies existed;
                           else a name of the run's vl_copy_names */
    size_t rank;        /* the copy's place in those names (primary 0) */
    int failed;         /* its latest audit failed (vl_audit_targets_load) */
} vl_audit_target;

typedef struct vl_audit_targets {
    vl_audit_target *v;
    size_t n, cap;
} vl_audit_targets;

/* VL_ESYS (no message) when out of memory. */
int vl_audit_targets_add(vl_audit_targets *ts, const char *id, uint64_t bytes,
                         const char *last);
/* Every catalog object in due order: never audited (by id), then oldest. */
int vl_audit_targets_load(vl_repo *r, vl_audit_targets *ts, vl_error *err);
void vl_audit_targets_free(vl_audit_targets *ts);
int vl_audit_target_cmp_id(const void *a, const void *b);

/* Audit t[0..n) in order within the budgets (0 = none); fills s (counts
 * add up, seconds is this run's).  VL_FINDING when any object failed. */
int vl_audit_run(vl_repo *r, const vl_audit_target *t, size_t n,
                 const vl_audit_options *o, uint64_t max_bytes,
                 double max_seconds, vl_audit_summary *s, vl_error *err);

/* Copy names with their folders (malloc'd), the primary first. */
typedef struct vl_copy_names {
    char **v;
    char **loc;
    size_t n;
} vl_copy_names;
void vl_copy_names_free(vl_copy_names *c);
/* The primary and every replica, replicas by name. */
int vl_copy_names_all(vl_repo *r, vl_copy_names *out, vl_error *err);
/* The copies o asks for, in that order; none (n 0) when it asks for none
 * (the primary only, as before).  VL_EINPUT naming an unknown copy. */
int vl_audit_copy_names(vl_repo *r, const vl_audit_options *o,
                        vl_copy_names *out, vl_error *err);
/* vl_audit_copies for the given names (primary first). */
int vl_audit_copies_of(vl_repo *r, const vl_copy_names *names,
                       vl_object_copies_fn fn, void *arg, vl_error *err);
/* Each object of objs with each copy of names, in that order (object by
 * object); the primary's last audit is the object's, the others' NULL. */
int vl_audit_targets_expand(const vl_audit_targets *objs,
                            const vl_copy_names *names, vl_audit_targets *out,
                            vl_error *err);
/* Order of --due with copies: never audited first, then oldest, then by
 * object id and copy. */
int vl_audit_target_cmp_due(const void *a, const void *b);


#endif
