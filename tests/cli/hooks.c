/* Test hooks for the CLI tests, preloaded into vellum (LD_PRELOAD, see
 * with_hooks in tests/cli/helpers.bash) so that no test depends on timing
 * or scheduling: a process is stopped or killed at a chosen filesystem
 * call, not after a chosen delay, and a clock can be made to run fast.
 *
 *   VELLUM_HOOK_AT=ACTION:CALL:N[:GLOB]
 *       right after the N-th call of CALL (mkdir, open, rename, write,
 *       fsync, unlink, busy: a non-blocking flock that found the lock
 *       held by another process, or any: all of them) whose path matches
 *       GLOB (fnmatch; write, fsync and busy have no path and always
 *       match), the
 *       process gets ACTION: stop (SIGSTOP: the test then kills or
 *       continues it) or kill (SIGKILL: exactly what kill -9 does there).
 *       ACTION count only counts.
 *   VELLUM_HOOK_COUNT=FILE
 *       at exit, the number of matching calls is written to FILE (to pick
 *       an N that strikes mid-way).
 *   VELLUM_HOOK_READS=FILE  (with VELLUM_HOOK_READ_GLOB=GLOB)
 *       at exit, the number of bytes read (read, pread) from files whose
 *       path matches GLOB is written to FILE: a test can tell how much of
 *       a file was read without timing anything.
 *   VELLUM_HOOK_CLOCK_STEP=SECONDS
 *       every read of CLOCK_MONOTONIC moves that clock on by SECONDS, so
 *       time budgets run out after a number of reads, however fast or
 *       loaded the machine is.
 *
 * Not part of vellum: built beside the unit tests, never installed. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char action[16], call[16], glob[1024];
static long target;
static atomic_long seen;
static double clock_step;
static atomic_long clock_reads;
static int armed;
static const char *reads_glob;
static atomic_llong reads_bytes;

__attribute__((constructor)) static void hooks_init(void)
{
    const char *at = getenv("VELLUM_HOOK_AT");
    const char *step = getenv("VELLUM_HOOK_CLOCK_STEP");
    if (step)
        clock_step = strtod(step, NULL);
    if (getenv("VELLUM_HOOK_READS"))
        reads_glob = getenv("VELLUM_HOOK_READ_GLOB");
    if (!at)
        return;
    /* ACTION:CALL:N[:GLOB]; a GLOB may itself hold ':' */
    int used = 0;
    if (sscanf(at, "%15[^:]:%15[^:]%n", action, call, &used) != 2)
        return;
    const char *rest = at + used;
    if (*rest == ':')
        target = strtol(rest + 1, (char **)&rest, 10);
    if (*rest == ':')
        snprintf(glob, sizeof glob, "%s", rest + 1);
    armed = 1;
}

/* Count n bytes read from fd when its path matches VELLUM_HOOK_READ_GLOB. */
static void count_read(int fd, ssize_t n)
{
    char link[64], path[4096];
    if (!reads_glob || n <= 0)
        return;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, path, sizeof path - 1);
    if (len <= 0)
        return;
    path[len] = 0;
    if (fnmatch(reads_glob, path, 0) == 0)
        atomic_fetch_add(&reads_bytes, (long long)n);
}

__attribute__((destructor)) static void hooks_reads_done(void)
{
    const char *out = getenv("VELLUM_HOOK_READS");
    FILE *f = reads_glob && out ? fopen(out, "w") : NULL;
    if (f) {
        fprintf(f, "%lld\n", atomic_load(&reads_bytes));
        fclose(f);
    }
}

__attribute__((destructor)) static void hooks_done(void)
{
    const char *out = getenv("VELLUM_HOOK_COUNT");
    FILE *f = armed && out ? fopen(out, "w") : NULL;
    if (f) {
        fprintf(f, "%ld\n", atomic_load(&seen));
        fclose(f);
    }
}

/* After a call of name on path (NULL: none). */
static void hit(const char *name, const char *path)
{
    if (!armed || (strcmp(call, "any") && strcmp(call, name)))
        return;
    if (glob[0] && path && fnmatch(glob, path, 0) != 0)
        return;
    long n = atomic_fetch_add(&seen, 1) + 1;
    if (n != target)
        return;
    if (!strcmp(action, "stop"))
        raise(SIGSTOP);
    else if (!strcmp(action, "kill"))
        raise(SIGKILL);
}

#define REAL(type, name, args) \
    static type(*real) args;   \
    if (!real)                 \
        *(void **)&real = dlsym(RTLD_NEXT, name);

int mkdir(const char *path, mode_t mode)
{
    REAL(int, "mkdir", (const char *, mode_t))
    int rc = real(path, mode);
    hit("mkdir", path);
    return rc;
}

int open(const char *path, int flags, ...)
{
    REAL(int, "open", (const char *, int, ...))
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int rc = real(path, flags, mode);
    hit("open", path);
    return rc;
}

int rename(const char *from, const char *to)
{
    REAL(int, "rename", (const char *, const char *))
    int rc = real(from, to);
    hit("rename", to);
    return rc;
}

int renameat2(int fromfd, const char *from, int tofd, const char *to,
              unsigned flags)
{
    REAL(int, "renameat2", (int, const char *, int, const char *, unsigned))
    int rc = real(fromfd, from, tofd, to, flags);
    hit("rename", to);
    return rc;
}

int unlink(const char *path)
{
    REAL(int, "unlink", (const char *))
    int rc = real(path);
    hit("unlink", path);
    return rc;
}

ssize_t read(int fd, void *buf, size_t n)
{
    REAL(ssize_t, "read", (int, void *, size_t))
    ssize_t rc = real(fd, buf, n);
    count_read(fd, rc);
    return rc;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
    REAL(ssize_t, "pread", (int, void *, size_t, off_t))
    ssize_t rc = real(fd, buf, n, off);
    count_read(fd, rc);
    return rc;
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
    REAL(ssize_t, "pread64", (int, void *, size_t, off64_t))
    ssize_t rc = real(fd, buf, n, off);
    count_read(fd, rc);
    return rc;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(ssize_t, "write", (int, const void *, size_t))
    ssize_t rc = real(fd, buf, n);
    hit("write", NULL);
    return rc;
}

/* A lock attempt that failed because another process holds the lock: a
 * test can stop a process right there, knowing it is waiting its turn. */
int flock(int fd, int op)
{
    REAL(int, "flock", (int, int))
    int rc = real(fd, op);
    if (rc != 0 && (op & LOCK_NB) && errno == EWOULDBLOCK) {
        int saved = errno;
        hit("busy", NULL);
        errno = saved;
    }
    return rc;
}

int fsync(int fd)
{
    REAL(int, "fsync", (int))
    int rc = real(fd);
    hit("fsync", NULL);
    return rc;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    REAL(int, "clock_gettime", (clockid_t, struct timespec *))
    int rc = real(id, ts);
    if (rc == 0 && id == CLOCK_MONOTONIC && clock_step > 0) {
        double add = clock_step * (double)atomic_fetch_add(&clock_reads, 1);
        time_t whole = (time_t)add;
        long ns = ts->tv_nsec + (long)((add - (double)whole) * 1e9);
        ts->tv_sec += whole + ns / 1000000000L;
        ts->tv_nsec = ns % 1000000000L;
    }
    return rc;
}
