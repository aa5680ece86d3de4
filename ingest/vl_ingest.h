/* vellum ingest: sources (folders and files today), the pipeline that reads
 * each byte once to stage, hash and identify it, and the commit of the
 * deposit as a new OCFL object version.  Uses storage/ and common/. */
#ifndef VL_INGEST_H
#define VL_INGEST_H

#include "vl_common.h"
#include "vl_storage.h"

typedef struct vl_ingest_progress {
    size_t files_done;
    size_t files_total;
    uint64_t bytes_done;
    uint64_t bytes_total;
} vl_ingest_progress;

typedef struct vl_ingest_options {
    const char *id;             /* NULL: mint urn:uuid:<uuid4> */
    const char *message;
    const char *user_name;
    const char *user_address;
    int merge;                  /* add/replace on top of the head state */
    int nthreads;               /* 0: one per core */
    /* Called now and then from worker threads (serialised). */
    void (*progress)(void *arg, const vl_ingest_progress *p);
    /* One line per warning (e.g. an empty folder that OCFL cannot keep). */
    void (*warn)(void *arg, const char *message);
    void *cb_arg;
} vl_ingest_options;

typedef struct vl_ingest_result {
    char id[1024];
    int version;                /* 0: nothing changed, no version written */
    size_t files;               /* files in the deposit */
    uint64_t bytes;
    size_t stored;              /* files whose content was new to the object */
} vl_ingest_result;

/* Deposit the sources (folders or single files) as one new version.  Folder
 * contents and files land under data/ in the logical state.  Refused input
 * (bad names, symlinks, special files) is VL_EINPUT naming the entry, and
 * nothing is stored. */
int vl_ingest(vl_repo *r, const char *const *sources, size_t nsources,
              const vl_ingest_options *o, vl_ingest_result *res, vl_error *err);

#endif
