/* Shared by fixity/audit.c (running audits) and fixity/schedule.c (--due,
 * --status).  Not a public API. */
#ifndef VL_AUDIT_PRIVATE_H
#define VL_AUDIT_PRIVATE_H

#ifndef VL_FIXITY_INTERNAL
#error "audit_private.h is private to fixity/"
#endif

#include "vl_fixity.h"

/* An object to audit, with its stored bytes (for the byte budget) and its
 * last audit's start (NULL = never). */
typedef struct vl_audit_target {
    char *id;
    char *last;
    uint64_t bytes;
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

/* Repository settings with their defaults; VL_EINPUT naming the key when a
 * value is malformed. */
int vl_audit_config(vl_repo *r, int *interval_days, uint64_t *max_bytes,
                    double *max_seconds, vl_error *err);

#endif
