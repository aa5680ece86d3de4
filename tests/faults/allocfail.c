/* allocfail: an LD_PRELOAD shim for the allocation-failure (torture) tests.
 *
 * It takes the place of malloc, calloc, realloc, reallocarray, free and the
 * aligned allocators for the whole process, so allocations made inside
 * libc (strdup, asprintf, fopen...), libxml2, SQLite, OpenSSL, jansson and
 * the rest are counted too.  While armed it counts every allocation, fails
 * the chosen one (NULL and ENOMEM, as a real shortage would), and keeps
 * each block allocated since it was armed until that block is freed, so
 * what is still live when it is disarmed is a leak (named by the number of
 * the allocation that made it).
 *
 * Two ways to use it:
 *   - tests/faults/torture.c arms and disarms it around each case, through
 *     the vl_allocfail_* functions below (looked up with dlsym);
 *   - by hand, for any program: VELLUM_ALLOC_FAIL=N arms it from the start
 *     and fails allocation N (0: only count).  At exit it prints the count
 *     and the live blocks left, when VELLUM_ALLOC_REPORT is set.
 * VELLUM_ALLOC_TRACE=N (either way) prints the stack of allocation N to
 * stderr when it is made: where a failure was injected or a leak was made.
 *
 * Allocations are counted across threads, so a case is deterministic only
 * when what it runs is (one worker thread).  The real allocator is glibc's,
 * reached through its __libc_* entry points (no dlsym, which allocates).
 * Never preload it into a sanitizer build: ASan has its own allocator. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

#define EXPORT __attribute__((visibility("default")))

/* What the torture driver finds with dlsym (its own declarations match). */
void *memalign(size_t align, size_t n);
void *pvalloc(size_t n);
void vl_allocfail_arm(long fail, const long *trace, size_t n);
long vl_allocfail_disarm(void);
long vl_allocfail_failed(void);
size_t vl_allocfail_leaks(long *seqs, size_t max);

static atomic_int armed;
static atomic_long counted;
static long fail_at;          /* allocation to fail; 0: none */
/* allocations whose stacks are printed, ascending; next_trace the next */
#define MAX_TRACE 128
static long trace_at[MAX_TRACE];
static size_t ntrace, next_trace;
static atomic_long failed;    /* the allocation failed, once it was */
static int report_at_exit;

/* Set while the shim itself runs code that may allocate (backtrace loads
 * libgcc_s the first time): those allocations pass straight through. */
static __thread int inside __attribute__((tls_model("initial-exec")));

/* ---- live blocks: an open-addressed table of pointer -> allocation number,
 * linear probing, deletion by backward shift.  Static, so no allocation;
 * small (1 MiB), since every child process touches and scans it.  When
 * more blocks than it holds are live, leaks can no longer be told:
 * vl_allocfail_leaks then says so. */
#define SLOTS (1u << 16)
static struct slot { void *p; long seq; } table[SLOTS];
static size_t live;
static int overflowed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)(h & (SLOTS - 1));
}

static void track(void *p, long seq)
{
    pthread_mutex_lock(&lock);
    if (live >= SLOTS / 4 * 3)
        overflowed = 1;
    else {
        size_t i = slot_of(p);
        while (table[i].p && table[i].p != p)
            i = (i + 1) & (SLOTS - 1);
        if (!table[i].p)
            live++;
        table[i].p = p;
        table[i].seq = seq;
    }
    pthread_mutex_unlock(&lock);
}

/* Forget p; 1 if it was tracked. */
static int untrack(void *p)
{
    int found = 0;
    pthread_mutex_lock(&lock);
    if (live) {
        size_t i = slot_of(p);
        while (table[i].p && table[i].p != p)
            i = (i + 1) & (SLOTS - 1);
        if (table[i].p) {
            found = 1;
            live--;
            table[i].p = NULL;
            /* shift back the entries of the run that follows */
            size_t j = i;
            for (;;) {
                j = (j + 1) & (SLOTS - 1);
                if (!table[j].p)
                    break;
                size_t k = slot_of(table[j].p);
                /* can the entry at j move to the hole at i? */
                if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
                    table[i] = table[j];
                    table[j].p = NULL;
                    i = j;
                }
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

static void clear_table(void)
{
    pthread_mutex_lock(&lock);
    if (live)
        memset(table, 0, sizeof table);
    live = 0;
    overflowed = 0;
    pthread_mutex_unlock(&lock);
}

/* One line per frame, "allocfail-frame OBJECT +0xOFFSET SYMBOL", OFFSET
 * from the object's load address (for addr2line on a PIE). */
__attribute__((noinline)) static void print_stack(const char *what, long seq)
{
    void *frames[64];
    char line[PATH_MAX + 256];
    inside = 1;
    int n = backtrace(frames, 64);
    int len = snprintf(line, sizeof line, "allocfail: %s %ld, made at:\n",
                       what, seq);
    if (write(2, line, (size_t)len) < 0) { /* nothing to do */ }
    /* the shim's own frames are shown too: readers skip allocfail.so */
    for (int i = 0; i < n; i++) {
        Dl_info info;
        if (!dladdr(frames[i], &info) || !info.dli_fname) {
            len = snprintf(line, sizeof line, "allocfail-frame ? +0x%lx ?\n",
                           (unsigned long)(uintptr_t)frames[i]);
        } else {
            len = snprintf(line, sizeof line, "allocfail-frame %s +0x%lx %s\n",
                           info.dli_fname[0] ? info.dli_fname : "?",
                           (unsigned long)((uintptr_t)frames[i] -
                                           (uintptr_t)info.dli_fbase),
                           info.dli_sname ? info.dli_sname : "?");
        }
        if (len > (int)sizeof line - 1)
            len = (int)sizeof line - 1;
        if (write(2, line, (size_t)len) < 0) { /* nothing to do */ }
    }
    inside = 0;
}

/* The next allocation's number, 0 when not counting; -1 to fail it. */
static long next(void)
{
    if (!atomic_load(&armed) || inside)
        return 0;
    long seq = atomic_fetch_add(&counted, 1) + 1;
    while (next_trace < ntrace && trace_at[next_trace] < seq)
        next_trace++;
    if (next_trace < ntrace && trace_at[next_trace] == seq)
        print_stack(seq == fail_at ? "failing allocation" : "allocation", seq);
    if (seq == fail_at) {
        atomic_store(&failed, seq);
        errno = ENOMEM;
        return -1;
    }
    return seq;
}

static void *made(void *p, long seq)
{
    if (p && seq > 0)
        track(p, seq);
    return p;
}

EXPORT void *malloc(size_t n)
{
    long seq = next();
    return seq < 0 ? NULL : made(__libc_malloc(n), seq);
}

EXPORT void *calloc(size_t n, size_t size)
{
    long seq = next();
    return seq < 0 ? NULL : made(__libc_calloc(n, size), seq);
}

EXPORT void free(void *p)
{
    if (!p)
        return;
    if (live)
        untrack(p);
    __libc_free(p);
}

EXPORT void *realloc(void *p, size_t n)
{
    if (p && n == 0) {
        free(p);
        return NULL;
    }
    long seq = next();
    if (seq < 0)
        return NULL;     /* p is left as it was */
    /* A block made before arming stays untracked when it moves; one made
     * after keeps being tracked under the new number. */
    int was = p && live ? untrack(p) : 0;
    void *q = __libc_realloc(p, n);
    if (!q) {
        if (was)
            track(p, seq);
        return NULL;
    }
    if (seq > 0 && (!p || was))
        track(q, seq);
    return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

EXPORT void *memalign(size_t align, size_t n)
{
    long seq = next();
    return seq < 0 ? NULL : made(__libc_memalign(align, n), seq);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    return memalign(align, n);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *valloc(size_t n)
{
    return memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

EXPORT void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return memalign(page, (n + page - 1) & ~(page - 1));
}

/* ---- control --------------------------------------------------------- */

static int by_number(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Start counting from 0, fail allocation fail (0: none), print the stacks
 * of the allocations numbered in trace (n of them, at most 128); live
 * blocks are tracked from here. */
EXPORT void vl_allocfail_arm(long fail, const long *trace, size_t n)
{
    atomic_store(&armed, 0);
    clear_table();
    atomic_store(&counted, 0);
    atomic_store(&failed, 0);
    fail_at = fail;
    ntrace = n < MAX_TRACE ? n : MAX_TRACE;
    next_trace = 0;
    if (ntrace)
        memcpy(trace_at, trace, ntrace * sizeof *trace);
    qsort(trace_at, ntrace, sizeof *trace_at, by_number);
    atomic_store(&armed, 1);
}

/* Stop counting; returns how many allocations were counted.  The blocks
 * still live are kept for vl_allocfail_leaks. */
EXPORT long vl_allocfail_disarm(void)
{
    atomic_store(&armed, 0);
    return atomic_load(&counted);
}

/* The number of the allocation that was failed, 0 when none was. */
EXPORT long vl_allocfail_failed(void)
{
    return atomic_load(&failed);
}

/* The allocation numbers of the blocks still live (at most max, lowest
 * first); returns how many are live in all, or (size_t)-1 when too many
 * were live at once to keep track of. */
EXPORT size_t vl_allocfail_leaks(long *seqs, size_t max)
{
    size_t got = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < SLOTS && live; i++) {
        if (!table[i].p)
            continue;
        long s = table[i].seq;
        /* insertion into the sorted prefix, keeping the max lowest */
        size_t j = got < max ? got++ : max;
        while (j > 0 && seqs[j - 1] > s) {
            if (j < max)
                seqs[j] = seqs[j - 1];
            j--;
        }
        if (j < max)
            seqs[j] = s;
    }
    size_t n = overflowed ? (size_t)-1 : live;
    pthread_mutex_unlock(&lock);
    return n;
}

__attribute__((constructor)) static void allocfail_init(void)
{
    void *frames[4];
    /* load libgcc_s's unwinder now, before any counting */
    inside = 1;
    backtrace(frames, 4);
    inside = 0;
    const char *f = getenv("VELLUM_ALLOC_FAIL");
    const char *t = getenv("VELLUM_ALLOC_TRACE");
    report_at_exit = getenv("VELLUM_ALLOC_REPORT") != NULL;
    long trace = t && *t ? atol(t) : 0;
    if (f && *f)
        vl_allocfail_arm(atol(f), &trace, trace ? 1 : 0);
}

__attribute__((destructor)) static void allocfail_fini(void)
{
    if (!report_at_exit || !atomic_load(&armed))
        return;
    long n = vl_allocfail_disarm();
    long seqs[8];
    size_t k = vl_allocfail_leaks(seqs, 8);
    char line[256];
    int len = snprintf(line, sizeof line,
                       "allocfail: %ld allocations, failed %ld, %zu live at exit",
                       n, vl_allocfail_failed(), k);
    for (size_t i = 0; i < k && i < 8 && len < 200; i++)
        len += snprintf(line + len, sizeof line - (size_t)len, " #%ld", seqs[i]);
    line[len++] = '\n';
    if (write(2, line, (size_t)len) < 0) { /* nothing to do */ }
}
