/* vellum fixity: audits (full OCFL validation with every digest recomputed,
 * plus catalog-against-store agreement), their scheduling within budgets,
 * and reports for curators.  Uses storage/ and common/. */
#ifndef VL_FIXITY_H
#define VL_FIXITY_H

#include "vl_common.h"
#include "vl_storage.h"

/* ======================================================================
 * Audits
 * ==================================================================== */
typedef struct vl_audit_failure {
    const char *kind;        /* "digest", "missing", "unexpected", "inventory",
                                "catalog", "unreadable", "structure" */
    const char *code;        /* OCFL validation code ("E092") or NULL */
    const char *path;        /* file or folder concerned, or NULL */
    const char *expected;    /* expected digest, or NULL */
    const char *actual;      /* computed digest, or NULL */
    const char *message;
    const char *algorithm;   /* of expected/actual ("sha512"), or NULL */
} vl_audit_failure;

typedef struct vl_audit_result {
    const char *object_id;
    const char *copy;        /* VL_PRIMARY_COPY or the replica audited */
    int passed;              /* 1 pass, 0 fail */
    uint64_t files;          /* stored content files read (every version) */
    uint64_t bytes;          /* bytes read */
    /* The object as every command counts it (vl_catalog_object): deposited
     * files of the head version and vellum's metadata files apart; from
     * the catalog, 0 when it does not know the object. */
    uint64_t object_files, object_bytes, metadata_files;
    double seconds;
    size_t nfailures;
    const vl_audit_failure *failures;
} vl_audit_result;

typedef struct vl_audit_options {
    int nthreads;                 /* 0 = every core */
    uint64_t max_bytes;           /* 0 = no budget */
    double max_seconds;           /* 0 = no budget */
    /* Called after each object (serialised). */
    void (*on_object)(void *arg, const vl_audit_result *r);
    void *arg;
    /* Optional, same arg: an object is about to be audited (for progress);
     * an object was left for a later run (locked by a deposit). */
    void (*on_start)(void *arg, const char *object_id, uint64_t bytes);
    void (*on_skip)(void *arg, const char *object_id, const char *why);
    /* Which copies (vl_storage.h, "Replicas").  Neither set: the primary
     * only.  all_copies: the primary and every replica.  copies[0..ncopies):
     * these only (replica names, or VL_PRIMARY_COPY); an unknown name is
     * VL_EINPUT before anything is audited.  The unit of work, of the
     * budgets and of --due's order, is then one copy of one object.  A
     * replica's copy gets the same validation with every digest, read from
     * its own storage (no catalog comparison: the catalog describes the
     * primary); a replica that cannot be reached fails ("unreachable"). */
    const char *const *copies;
    size_t ncopies;
    int all_copies;
    /* Optional: a copy of an object is about to be audited (with copies). */
    void (*on_start_copy)(void *arg, const char *object_id, const char *copy,
                          uint64_t bytes);
} vl_audit_options;

typedef struct vl_audit_summary {
    size_t objects;          /* audits done: one per object, or per object
                                and copy when copies were asked for */
    size_t passed;
    size_t failed;
    uint64_t bytes;
    double seconds;
    int budget_reached;      /* stopped by --max-bytes/--max-seconds */
    size_t skipped;          /* left for a later run (see on_skip) */
} vl_audit_summary;

/* Audit the given objects (ids), or every object when n == 0.
 * Each object audit records one PREMIS "fixity check" event (outcome
 * success or fail; the detail names the copy and lists each failing file
 * with expected and actual digests, missing and unexpected files), the
 * copy's row in the catalog (vl_catalog_copy_verified) and, for the
 * primary, one row in the catalog's audit history.  Nothing is repaired.
 * Returns VL_OK when every audited object passed, VL_FINDING when any
 * failed.  With copies, each object's copies in turn (primary first, then
 * replicas by name). */
int vl_audit(vl_repo *r, const char *const *ids, size_t n,
             const vl_audit_options *o, vl_audit_summary *s, vl_error *err);
/* --due: objects never audited first, then the longest since audited,
 * stopping at the budgets (repository config audit.max_bytes_per_run and
 * audit.max_seconds_per_run unless o overrides); the next run continues.
 * With copies, (object, copy) pairs in that order: the primary's last
 * audit from the audit history, a replica's from its catalog row. */
int vl_audit_due(vl_repo *r, const vl_audit_options *o, vl_audit_summary *s,
                 vl_error *err);

typedef struct vl_audit_status {
    size_t objects;
    size_t never_audited;
    size_t overdue;               /* last audit older than the interval */
    size_t within_interval;
    int interval_days;            /* audit.interval_days (default 90) */
    double bytes_per_second;      /* observed rate of past audits, 0 if none */
    uint64_t bytes_to_audit;      /* bytes of never-audited + overdue objects */
    int64_t cycle_complete_at;    /* estimated epoch seconds, 0 if unknown */
    uint64_t max_bytes_per_run;   /* budgets from the config, 0 = none */
    double max_seconds_per_run;
    size_t runs_needed;           /* --due runs (one a day) to finish, 0 if
                                     unknown */
    int64_t next_due_at;          /* when nothing is due: earliest time an
                                     object falls due, else 0 */
    size_t failed;                /* objects whose latest audit failed (they
                                     count in the above as well) */
    size_t failed_within;         /* those of them within the interval */
} vl_audit_status;
/* Status; fn (may be NULL) gets each overdue or never-audited object. */
typedef void (*vl_audit_status_fn)(void *arg, const char *object_id,
                                   const char *last_audit /* NULL = never */,
                                   uint64_t bytes);
int vl_audit_status_get(vl_repo *r, vl_audit_status *st, vl_audit_status_fn fn,
                        void *arg, vl_error *err);
/* The time at or before which a last audit makes an object due: now minus
 * audit.interval_days (vl_catalog_list_filter.due_cutoff). */
int vl_audit_due_cutoff(vl_repo *r, int64_t *cutoff, vl_error *err);
/* Each object whose latest audit failed, by id, with that audit's start. */
int vl_audit_failed_foreach(vl_repo *r, vl_audit_status_fn fn, void *arg,
                            vl_error *err);
/* ---- copies of every object ------------------------------------------
 * A copy (the primary or a replica) of an object is verified when its last
 * audit passed within audit.interval_days and, for a replica, it holds the
 * primary's head version (as far as the catalog knows). */
typedef struct vl_copy_state {
    const char *copy;             /* VL_PRIMARY_COPY or a replica name */
    int version;                  /* version held (primary: head); 0 none
                                     known */
    const char *verified;         /* start of its last audit, NULL = never */
    const char *outcome;          /* of that audit: "pass", "fail" or NULL */
    const char *state;            /* last replicate's state, or NULL */
    const char *failures_json;    /* that audit's failures (JSON array of
                                     vl_audit_failure fields), or NULL */
    int recent;                   /* audited within the interval */
    int good;                     /* verified (see above) */
    int behind;                   /* a replica not known to hold the head */
} vl_copy_state;
typedef struct vl_object_copies {
    const char *object_id;
    int head;                     /* the primary's head version */
    size_t ncopies;               /* the primary and every replica */
    size_t verified, failed, behind;   /* copies good / last audit failed /
                                          behind */
    const vl_copy_state *copies;  /* [ncopies], primary first */
} vl_object_copies;
typedef int (*vl_object_copies_fn)(void *arg, const vl_object_copies *oc);
/* Every catalog object by id, with its copies; fn returning non-zero
 * stops (and is returned). */
int vl_audit_copies(vl_repo *r, vl_object_copies_fn fn, void *arg,
                    vl_error *err);

typedef struct vl_copy_status {
    const char *name;             /* VL_PRIMARY_COPY or a replica name */
    const char *location;         /* its folder */
    size_t objects;               /* objects in the catalog */
    size_t verified;              /* verified copies (see above) */
    size_t within_interval;       /* audited within the interval */
    size_t failed;                /* last audit failed */
    size_t never;                 /* never audited */
    size_t behind;                /* not known to hold the head version */
} vl_copy_status;
typedef void (*vl_copy_status_fn)(void *arg, const vl_copy_status *cs);
/* One call per copy: the primary, then each replica by name. */
int vl_audit_copy_status(vl_repo *r, vl_copy_status_fn fn, void *arg,
                         vl_error *err);
/* The audit settings with their defaults (audit.interval_days 90, no
 * budgets: 0); VL_EINPUT naming the key when a value is malformed. */
int vl_audit_config(vl_repo *r, int *interval_days, uint64_t *max_bytes,
                    double *max_seconds, vl_error *err);
/* replicate.min_copies: copies each object should have verified; default
 * 2 when the repository has a replica, else 1.  VL_EINPUT when malformed. */
int vl_copies_min(vl_repo *r, int *out, vl_error *err);
/* Whether a replicate.min_copies value is a count (1-100); 0 when good. */
int vl_copies_min_parse(const char *s, int *out);

/* A byte count with an optional K, M, G or T suffix (powers of 1024), for
 * --max-bytes and audit.max_bytes_per_run; -1 when malformed. */
int vl_audit_parse_size(const char *s, uint64_t *out);

/* ======================================================================
 * Reports for curators
 * ==================================================================== */
typedef enum { VL_REPORT_HTML, VL_REPORT_JSON, VL_REPORT_CSV } vl_report_format;

/* Write a report to out_path (atomically), or to stdout when out_path is
 * NULL.  since (RFC 3339 or date, may be NULL) limits the audit history and
 * failures shown. */
int vl_report_write(vl_repo *r, vl_report_format fmt, const char *since,
                    const char *out_path, vl_error *err);
/* CSV is one table a file, each with its header row even when it has no
 * rows (RFC 4180, CRLF).  With a table name: that table to out (a file,
 * written atomically) or to stdout when out is NULL; VL_EINPUT for a name
 * that is no table.  With table NULL: every table, as out/NAME.csv (the
 * folder out is made when missing).  vl_report_write refuses VL_REPORT_CSV. */
int vl_report_write_csv(vl_repo *r, const char *table, const char *since,
                        const char *out, vl_error *err);
/* Name of the i-th CSV table (totals, formats, coverage, history, failures,
 * copies, object_copies, replication, advice); NULL past the last. */
const char *vl_report_csv_table_name(size_t i);

#endif
