/* The ingest pipeline: list and check every source entry, then let one
 * worker per core copy each file into staging while every digest is
 * computed from the same buffer, then commit the version. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingest_internal.h"

struct run {
    vl_txn *txn;
    vl_entry_list list;
    const vl_ingest_options *o;
    pthread_mutex_t mu;
    vl_ingest_progress prog;
    struct timespec last_report;
    size_t stored;
};

static void report(struct run *r, uint64_t bytes, int force)
{
    if (!r->o->progress)
        return;
    pthread_mutex_lock(&r->mu);
    r->prog.files_done++;
    r->prog.bytes_done += bytes;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - r->last_report.tv_sec) * 1000 +
              (now.tv_nsec - r->last_report.tv_nsec) / 1000000;
    if (force || ms >= 200) {
        r->last_report = now;
        r->o->progress(r->o->cb_arg, &r->prog);
    }
    pthread_mutex_unlock(&r->mu);
}

static int stage_one(void *arg, size_t i, int worker, vl_error *err)
{
    struct run *r = arg;
    const vl_entry *e = &r->list.items[i];
    char *dst = NULL;
    int in = -1, out = -1, rc;
    vl_digest_result res;
    uint64_t size = 0;
    struct stat st;
    (void)worker;
    if ((rc = vl_txn_stage_path(r->txn, e->logical, &dst, err)) != VL_OK)
        return rc;
    in = open(e->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) {
        rc = vl_error_sys(err, "cannot read %s", e->src);
        goto done;
    }
    posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        rc = vl_error_sys(err, "cannot create %s", dst);
        goto done;
    }
    if ((rc = vl_digest_fd(in, out, vl_txn_digest_mask(r->txn), &res, &size, err)) != VL_OK) {
        rc = vl_error_set(err, rc, "%s: %s", e->src, err->msg);
        goto done;
    }
    /* A file that changes while we read it would be stored half old, half
     * new: refuse it rather than keep a copy nobody ever had. */
    if (fstat(in, &st) != 0 || (uint64_t)st.st_size != size || size != e->size) {
        rc = vl_error_set(err, VL_EINPUT, "%s changed while it was being deposited; "
                          "try again when it is stable", e->src);
        goto done;
    }
    if (close(out) != 0) {
        out = -1;
        rc = vl_error_sys(err, "cannot write %s", dst);
        goto done;
    }
    out = -1;
    if ((rc = vl_txn_add(r->txn, e->logical, &res, size, 1, err)) != VL_OK)
        goto done;
    report(r, size, 0);
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    free(dst);
    return rc;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const vl_entry *)a)->logical, ((const vl_entry *)b)->logical);
}

int vl_ingest(vl_repo *repo, const char *const *sources, size_t nsources,
              const vl_ingest_options *o, vl_ingest_result *res, vl_error *err)
{
    struct run r = {0};
    int rc = VL_OK;
    uint64_t free_bytes = 0;
    r.o = o;
    pthread_mutex_init(&r.mu, NULL);
    memset(res, 0, sizeof *res);
    if (nsources == 0) {
        rc = vl_error_set(err, VL_EINPUT, "nothing to ingest: give a folder or file");
        goto done;
    }
    for (size_t i = 0; i < nsources; i++)
        if ((rc = vl_source_collect(sources[i], o, &r.list, err)) != VL_OK)
            goto done;
    qsort(r.list.items, r.list.n, sizeof *r.list.items, entry_cmp);
    for (size_t i = 1; i < r.list.n; i++)
        if (!strcmp(r.list.items[i].logical, r.list.items[i - 1].logical)) {
            rc = vl_error_set(err, VL_EINPUT, "%s and %s would both be stored as %s",
                              r.list.items[i - 1].src, r.list.items[i].src,
                              r.list.items[i].logical);
            goto done;
        }
    if (r.list.n == 0) {
        rc = vl_error_set(err, VL_EINPUT, "nothing to ingest: the sources hold no files");
        goto done;
    }
    if ((rc = vl_fs_free_bytes(vl_repo_staging_dir(repo), &free_bytes, err)) != VL_OK)
        goto done;
    if (r.list.bytes > free_bytes) {
        rc = vl_error_set(err, VL_EINPUT, "the deposit needs %llu bytes but the "
                          "repository's filesystem has %llu free",
                          (unsigned long long)r.list.bytes,
                          (unsigned long long)free_bytes);
        goto done;
    }
    if ((rc = vl_txn_begin(repo, o->id, &r.txn, err)) != VL_OK)
        goto done;
    snprintf(res->id, sizeof res->id, "%s", vl_txn_object_id(r.txn));
    r.prog.files_total = r.list.n;
    r.prog.bytes_total = r.list.bytes;
    clock_gettime(CLOCK_MONOTONIC, &r.last_report);
    if ((rc = vl_pool_run(r.list.n, o->nthreads, stage_one, &r, err)) != VL_OK)
        goto done;
    if (o->progress) {
        r.prog.files_done--;   /* report() counts one more */
        report(&r, 0, 1);
    }
    if (o->merge && (rc = vl_txn_keep_all(r.txn, err)) != VL_OK)
        goto done;
    vl_txn_info info = {o->message, o->user_name, o->user_address};
    vl_txn *t = r.txn;
    r.txn = NULL;   /* commit frees it whatever happens */
    if ((rc = vl_txn_commit(t, &info, &res->version, err)) != VL_OK)
        goto done;
    res->files = r.list.n;
    res->bytes = r.list.bytes;
done:
    vl_txn_abort(r.txn);
    vl_entry_list_release(&r.list);
    pthread_mutex_destroy(&r.mu);
    return rc;
}
