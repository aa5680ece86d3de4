/* Unfinished work: what a crash or a kill left for 'vellum recover'.
 *  - staging/txn-<key>-<uuid>: a transaction; it is running while its
 *    owner holds the object lock staging/.locks/<key>, and unfinished when
 *    nobody does (the owner takes the lock before making the folder and
 *    removes the folder before letting go);
 *  - staging/.outside/<uuid>: a temporary beside an export's or a get's
 *    destination, unfinished when nobody holds the record's flock.
 * Looking writes nothing: locks are tested with a shared flock on a file
 * opened read-only (a holder's exclusive lock makes that fail), and a lock
 * file that does not exist is held by nobody. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "repo_internal.h"

/* 1 when some process holds path's flock, 0 when nobody does (or the file
 * is gone), -1 with errno when it cannot be told. */
static int held(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0)
        rc = errno == EWOULDBLOCK ? 1 : -1;
    close(fd);   /* drops our shared lock at once */
    return rc;
}

static void note(vl_pending *p, const char *rel)
{
    if (!p->first[0])
        snprintf(p->first, sizeof p->first, "%s", rel);
}

static int scan_txns(vl_repo *r, vl_pending *p, vl_error *err)
{
    DIR *d = opendir(r->staging_dir);
    struct dirent *e;
    int rc = VL_OK;
    if (!d)
        return errno == ENOENT ? VL_OK
                               : vl_error_sys(err, "cannot list %s", r->staging_dir);
    while (rc == VL_OK && (e = readdir(d))) {
        if (strncmp(e->d_name, "txn-", 4) != 0)
            continue;
        /* txn-<key>-<uuid>; recover takes the key the same way */
        char key[VL_DIGEST_HEX_MAX];
        const char *base = e->d_name + 4;
        size_t klen = strcspn(base, "-");
        if (klen >= sizeof key)
            klen = sizeof key - 1;
        memcpy(key, base, klen);
        key[klen] = '\0';
        char *lock = vl_asprintf("%s/%s/%s", r->staging_dir, VL_LOCKS_DIR, key);
        char *dir = vl_path_join(r->staging_dir, e->d_name);
        if (!lock || !dir) {
            rc = vl_error_oom(err);
        } else {
            int h = held(lock);
            if (h < 0)
                rc = vl_error_sys(err, "cannot test the lock %s", lock);
            /* Looked at after the lock: a finished owner removed it first. */
            else if (h == 0 && vl_fs_exists(dir)) {
                p->txns++;
                char rel[300];
                snprintf(rel, sizeof rel, VL_STAGING_DIR "/%s", e->d_name);
                note(p, rel);
            }
        }
        free(lock);
        free(dir);
    }
    closedir(d);
    return rc;
}

static int scan_outside(vl_repo *r, vl_pending *p, vl_error *err)
{
    char *dir = vl_path_join(r->staging_dir, VL_OUTSIDE_DIR);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    int rc = VL_OK;
    if (!dir)
        return vl_error_oom(err);
    if (!d) {
        if (errno != ENOENT)
            rc = vl_error_sys(err, "cannot list %s", dir);
        free(dir);
        return rc;
    }
    while (rc == VL_OK && (e = readdir(d))) {
        /* Dot names are promises, read with their record, and records
         * still being written: their owner locks them before making
         * anything outside, so an unlocked one left nothing to clear. */
        if (e->d_name[0] == '.')
            continue;
        char *rec = vl_path_join(dir, e->d_name);
        int h = rec ? held(rec) : -1;
        if (!rec)
            rc = vl_error_oom(err);
        else if (h < 0)
            rc = vl_error_sys(err, "cannot test the lock of %s", rec);
        else if (h == 0 && vl_fs_exists(rec)) {
            p->outside++;
            char rel[300];
            snprintf(rel, sizeof rel, VL_STAGING_DIR "/" VL_OUTSIDE_DIR "/%s",
                     e->d_name);
            note(p, rel);
        }
        free(rec);
    }
    closedir(d);
    free(dir);
    return rc;
}

int vl_repo_pending(vl_repo *r, vl_pending *out, vl_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = scan_txns(r, out, err);
    if (rc == VL_OK)
        rc = scan_outside(r, out, err);
    return rc;
}

void vl_pending_describe(const vl_pending *p, char *buf, size_t n)
{
    char txns[64] = "", outs[96] = "";
    if (p->txns)
        snprintf(txns, sizeof txns, "%zu unfinished transaction%s", p->txns,
                 p->txns == 1 ? "" : "s");
    if (p->outside)
        snprintf(outs, sizeof outs, "%zu abandoned export or get temporar%s",
                 p->outside, p->outside == 1 ? "y" : "ies");
    snprintf(buf, n, "a crash or kill left %s%s%s (%s)", txns,
             *txns && *outs ? " and " : "", outs, p->first);
}
