/* killstep: an LD_PRELOAD shim for the kill-at-every-step tests.
 *
 * Every call that makes a durable step (rename, unlink, remove, rmdir, fsync,
 * fdatasync, syncfs, and a SQLite COMMIT/RELEASE) is counted across all
 * threads of the process.
 *   VL_STEP_LOG=FILE   append "N call argument" for each step (enumeration)
 *   VL_STEP_KILL=N     SIGKILL the process just before step N runs
 * A kill before step N is a kill after step N-1: together the trials stop
 * the process between every pair of steps.  strace's inject=...:signal=KILL
 * does the same per syscall, but counts per thread, which makes the
 * numbering of a multi-threaded ingest unstable. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static atomic_long steps;

static void step(const char *call, const char *arg)
{
    long n = atomic_fetch_add(&steps, 1) + 1;
    const char *log = getenv("VL_STEP_LOG");
    const char *kill_at = getenv("VL_STEP_KILL");
    if (log && *log) {
        char line[4200];
        int len = snprintf(line, sizeof line, "%ld %s %s\n", n, call, arg ? arg : "");
        if (len > (int)sizeof line - 1)
            len = (int)sizeof line - 1;
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (write(fd, line, (size_t)len) < 0) { /* nothing to do */ }
            close(fd);
        }
    }
    if (kill_at && atol(kill_at) == n)
        raise(SIGKILL);
}

static const char *fd_name(int fd, char *buf, size_t size)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

#define REAL(name) \
    static __typeof__(name) *real; \
    if (!real) \
        real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

int rename(const char *from, const char *to)
{
    REAL(rename);
    step("rename", to);
    return real(from, to);
}

int renameat(int fd1, const char *from, int fd2, const char *to)
{
    REAL(renameat);
    step("renameat", to);
    return real(fd1, from, fd2, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
    REAL(renameat2);
    step("renameat2", to);
    return real(fd1, from, fd2, to, flags);
}

int unlink(const char *path)
{
    REAL(unlink);
    step("unlink", path);
    return real(path);
}

int unlinkat(int fd, const char *path, int flags)
{
    REAL(unlinkat);
    step("unlinkat", path);
    return real(fd, path, flags);
}

/* vl_fs_rmtree removes through remove(), whose own unlink is internal to libc. */
int remove(const char *path)
{
    REAL(remove);
    step("remove", path);
    return real(path);
}

int rmdir(const char *path)
{
    REAL(rmdir);
    step("rmdir", path);
    return real(path);
}

int fsync(int fd)
{
    char buf[4096];
    REAL(fsync);
    step("fsync", fd_name(fd, buf, sizeof buf));
    return real(fd);
}

int fdatasync(int fd)
{
    char buf[4096];
    REAL(fdatasync);
    step("fdatasync", fd_name(fd, buf, sizeof buf));
    return real(fd);
}

int syncfs(int fd)
{
    char buf[4096];
    REAL(syncfs);
    step("syncfs", fd_name(fd, buf, sizeof buf));
    return real(fd);
}

/* The catalog runs in WAL mode with synchronous=NORMAL, so a commit makes
 * no fsync of its own: count the statement itself. */
int sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **),
                 void *arg, char **errmsg)
{
    static int (*real)(sqlite3 *, const char *, int (*)(void *, int, char **, char **),
                       void *, char **);
    if (!real)
        real = (int (*)(sqlite3 *, const char *, int (*)(void *, int, char **, char **),
                        void *, char **))dlsym(RTLD_NEXT, "sqlite3_exec");
    if (sql && (!strncasecmp(sql, "COMMIT", 6) || !strncasecmp(sql, "RELEASE", 7) ||
                !strncasecmp(sql, "END", 3)))
        step("sqlite-commit", sql);
    return real(db, sql, cb, arg, errmsg);
}
