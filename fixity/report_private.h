/* Curators' reports, shared between fixity/report.c (the model, JSON, CSV,
 * output), fixity/report_html.c and fixity/svg.c.  Not a public API. */
#ifndef VL_REPORT_PRIVATE_H
#define VL_REPORT_PRIVATE_H

#ifndef VL_FIXITY_INTERNAL
#error "report_private.h is private to fixity/"
#endif

#include <stdio.h>

#include "vl_fixity.h"

#define RP_MAX_FORMATS 50   /* formats listed; the rest are summed as "other" */
#define RP_MAX_DUE 25       /* overdue / never audited objects listed */
#define RP_MAX_BARS 92      /* history chart bars; longer spans are binned */
#define RP_MAX_ATTENTION 25 /* objects short of verified copies listed */
#define RP_MAX_REPAIR_IDS 5 /* objects named in `vellum repair ID` advice */
#define RP_MAX_ADVICE 8

typedef struct rp_format {
    char *puid, *mime, *name, *version;   /* NULL when unknown */
    uint64_t files, bytes;
    size_t other_kinds;                   /* > 0: the "other" row */
} rp_format;

typedef struct rp_day {
    char date[11];                        /* YYYY-MM-DD (UTC, audit start) */
    uint64_t objects, failures, files, bytes;  /* object audits, failed */
    double seconds;
} rp_day;

typedef struct rp_coverage {
    uint64_t objects, within, overdue, never;  /* as `vellum audit --status` */
    uint64_t last_passed, last_failed;    /* outcome of the latest audit */
    uint64_t failed_within;               /* failed and within the interval */
    uint64_t bytes_to_audit;              /* overdue + never audited */
    int64_t cycle_complete_at;            /* estimate, 0 = unknown */
} rp_coverage;

typedef struct rp_due {
    char *id;
    char *last;                           /* NULL = never audited */
} rp_due;

/* One copy of every object: the primary's store or a replica. */
typedef struct rp_copy {
    char *name, *location;
    uint64_t objects, verified, within, failed, never, behind;
} rp_copy;

/* An object with fewer verified copies than replicate.min_copies, a copy
 * that failed its last audit, or a replica missing or behind. */
typedef struct rp_attention {
    char *id;
    size_t ncopies, verified;
    char *failed;                         /* failed copies with their first
                                             problem, or NULL */
    char *behind, *unverified;            /* copy names, ", "-joined, or NULL */
} rp_attention;

/* A line of advice: the command to run and why. */
typedef struct rp_advice {
    char *command;
    char *reason;
} rp_advice;

/* Everything a report shows except the failure rows, which are streamed
 * from the catalog while writing so that memory stays small however many
 * files failed. */
typedef struct rp_model {
    vl_catalog *cat;
    const char *repo_dir;
    char generated[32];
    char since[32];                       /* "" = all time */
    int interval_days;
    vl_report_totals totals;
    rp_format *formats;
    size_t nformats;
    size_t format_kinds;                  /* distinct (PUID, MIME) groups */
    rp_coverage cov;
    rp_due *due;
    size_t ndue;
    int oom;                              /* a callback ran out of memory */
    rp_day *days;
    size_t ndays, days_cap;
    uint64_t failure_rows;                /* distinct failures listed */
    uint64_t failure_objects;             /* objects among them */
    uint64_t failure_current;             /* still failing at last audit */
    /* Copies (the primary first, then replicas by name) and what they
     * say: per-object rows are streamed again while writing JSON and CSV. */
    vl_repo *repo;
    rp_copy *copies;
    size_t ncopies;                       /* 1 + replicas */
    int min_copies;                       /* replicate.min_copies */
    uint64_t copy_objects;                /* objects seen */
    uint64_t *by_verified;                /* [ncopies + 1] objects with k */
    uint64_t all_verified, short_copies, failed_copy, behind_copy,
        unverified_copy;
    rp_attention *attention;
    size_t nattention;
    uint64_t attention_total;             /* listed or not */
    char *repair_ids[RP_MAX_REPAIR_IDS];  /* first objects with a failed copy */
    size_t nrepair_ids;
    uint64_t repairs_made, repairs_failed;   /* recovery events since */
    uint64_t deposits_refused;            /* ingestion events that failed */
    rp_advice advice[RP_MAX_ADVICE];
    size_t nadvice;
} rp_model;

/* "2 of 3 copies verified in the last 90 days". */
void rp_copies_text(const rp_model *m, size_t verified, size_t ncopies,
                    char *out, size_t cap);
/* Each object's copies, by id (vl_audit_copies). */
int rp_object_copies(const rp_model *m, vl_object_copies_fn fn, void *arg,
                     vl_error *err);
/* Copy names of an object's copies that match: 'f' failed its last audit,
 * 'b' missing or behind, 'u' not verified within the interval (and not
 * behind); ", "-joined, malloc'd, NULL when none (or out of memory: *oom). */
char *rp_copy_names(const vl_object_copies *oc, int which, int *oom);
/* fixity/report_copies.c: gather the copies part of the model (after the
 * interval and since are set), free it, and write it. */
int rp_gather_copies(vl_repo *r, rp_model *m, vl_error *err);
void rp_copies_free(rp_model *m);
int rp_json_advice(const rp_model *m, FILE *f);
int rp_json_copies(const rp_model *m, FILE *f);
int rp_json_repairs(const rp_model *m, FILE *f);
int rp_json_object_copies(const rp_model *m, FILE *f, vl_error *err);
/* CSV tables of the copies section, each with its header row. */
int rp_csv_copies(const rp_model *m, FILE *f, vl_error *err);
int rp_csv_object_copies(const rp_model *m, FILE *f, vl_error *err);
int rp_csv_replication(const rp_model *m, FILE *f, vl_error *err);
int rp_csv_advice(const rp_model *m, FILE *f, vl_error *err);

/* Stream the failure rows of the model's period. */
int rp_failures(const rp_model *m, vl_report_failure_fn fn, void *arg,
                vl_error *err);

/* Headline status in plain text ("All 3 objects passed their last audit")
 * and its kind: 0 good, 1 attention (never audited or overdue), 2 failed. */
int rp_headline(const rp_model *m, char *out, size_t cap);

/* "1.2 MiB" / "123 B" and "12,345". */
void rp_size(uint64_t bytes, char out[32]);
void rp_count(uint64_t n, char out[32]);

/* HTML escaping of user data (object ids, file names): & < > " ' and bytes
 * that are not valid UTF-8 or are control characters. */
void rp_html_text(FILE *f, const char *s);

int rp_write_html(const rp_model *m, FILE *f, vl_error *err);

/* Inline SVG charts (fixity/svg.c); they size with the page. */
void rp_svg_history(const rp_model *m, FILE *f);
void rp_svg_formats(const rp_model *m, FILE *f);
void rp_svg_coverage(const rp_model *m, FILE *f);

#endif
