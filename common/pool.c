/* Worker pool: a parallel for-loop over [0, nitems).  The calling thread is
 * worker 0, so the loop completes even if no extra thread can be started. */
#include "vl_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pool {
    pthread_mutex_t lock;
    size_t next;      /* next index to hand out */
    size_t nitems;
    int stop;         /* set by the first failure */
    int status;
    vl_error first;   /* the first failure's message */
    vl_pool_fn fn;
    void *ctx;
};

struct worker {
    struct pool *pool;
    int id;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->pool;

    for (;;) {
        vl_error e;
        size_t i;
        int rc;

        pthread_mutex_lock(&p->lock);
        if (p->stop || p->next >= p->nitems) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        i = p->next++;
        pthread_mutex_unlock(&p->lock);

        vl_error_clear(&e);
        rc = p->fn(p->ctx, i, w->id, &e);
        if (rc != VL_OK) {
            pthread_mutex_lock(&p->lock);
            if (!p->stop) {
                p->stop = 1;
                p->status = rc;
                p->first = e;
                if (p->first.msg[0] == '\0')
                    vl_error_set(&p->first, rc, "work item %zu failed", i);
                p->first.status = rc;
            }
            pthread_mutex_unlock(&p->lock);
            break;
        }
    }
    return NULL;
}

/* The cores this process may run on (taskset, a container's cpuset), not
 * every core the machine has. */
int vl_ncpu(void)
{
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) == 0
             ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : (n > 4096 ? 4096 : (int)n);
}

int vl_pool_run(size_t nitems, int nthreads, vl_pool_fn fn, void *ctx,
                vl_error *err)
{
    struct pool p;
    pthread_t *tids = NULL;
    struct worker *ws = NULL;
    int i, started = 0, rc = VL_OK;

    if (nitems == 0)
        return VL_OK;
    if (nthreads <= 0)
        nthreads = vl_ncpu();
    if ((size_t)nthreads > nitems)
        nthreads = (int)nitems;

    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.lock, NULL);
    p.nitems = nitems;
    p.fn = fn;
    p.ctx = ctx;

    tids = calloc((size_t)nthreads, sizeof *tids);
    ws = calloc((size_t)nthreads, sizeof *ws);
    if (!tids || !ws) {
        nthreads = 1; /* still do the work, just inline */
    }
    for (i = 0; i < nthreads; i++) {
        if (ws) {
            ws[i].pool = &p;
            ws[i].id = i;
        }
    }
    /* Extra threads are a speed-up, not a requirement: if one cannot be
     * created, the ones already running (and this thread) finish the job. */
    for (i = 1; i < nthreads; i++) {
        if (pthread_create(&tids[i], NULL, work, &ws[i]) != 0)
            break;
        started = i;
    }
    {
        struct worker self = {&p, 0};
        work(&self);
    }
    for (i = 1; i <= started; i++)
        pthread_join(tids[i], NULL);

    if (p.stop) {
        rc = p.status;
        if (err)
            *err = p.first;
    }
    pthread_mutex_destroy(&p.lock);
    free(tids);
    free(ws);
    return rc;
}
