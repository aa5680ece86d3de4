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
    uint64_t bytes_to_audit;              /* overdue + never audited */
    int64_t cycle_complete_at;            /* estimate, 0 = unknown */
} rp_coverage;

typedef struct rp_due {
    char *id;
    char *last;                           /* NULL = never audited */
} rp_due;

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
} rp_model;

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
