/* Per-object locks: flock on a file named by the hash of the object id, so a
 * killed process can never leave a stale lock behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "repo_internal.h"

struct vl_lock {
    int fd;
};

int vl_lock_key(const char *id, char out[VL_DIGEST_HEX_MAX])
{
    return vl_digest_buffer(VL_SHA256, id, strlen(id), out);
}

int vl_lock_object(vl_repo *r, const char *id, int wait_seconds,
                   vl_lock **out, vl_error *err)
{
    char hex[VL_DIGEST_HEX_MAX];
    if (vl_lock_key(id, hex) != 0)
        return vl_error_set(err, VL_ESYS, "lock: digest: out of memory");
    int rc = vl_lock_by_key(r, hex, wait_seconds, out, err);
    /* Name the object rather than its lock file; other failures keep the
     * lock file's path, which is what someone fixing them needs. */
    if (rc != VL_OK && wait_seconds > 0 && err &&
        err->reason == VL_REASON_LOCKED) {
        vl_error_set(err, rc, "object \"%s\" is locked by another vellum process; "
                     "try again later", id);
        err->reason = VL_REASON_LOCKED;
    }
    return rc;
}

int vl_lock_by_key(vl_repo *r, const char *hex, int wait_seconds,
                   vl_lock **out, vl_error *err)
{
    int rc = VL_OK, fd = -1;
    char *dir = vl_path_join(r->staging_dir, VL_LOCKS_DIR);
    char *path = NULL;
    if (!dir || !(path = vl_path_join(dir, hex))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs(dir, err)) != VL_OK)
        goto done;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot open lock file %s", path);
        goto done;
    }
    for (int waited_ms = 0;; waited_ms += 100) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            rc = vl_error_sys(err, "cannot lock %s", path);
            goto done;
        }
        if (waited_ms >= wait_seconds * 1000) {
            rc = vl_error_set(err, VL_ESYS, "%s is locked by another vellum "
                              "process", path);
            if (err)
                err->reason = VL_REASON_LOCKED;
            goto done;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    vl_lock *l = malloc(sizeof *l);
    if (!l) {
        rc = vl_error_oom(err);
        goto done;
    }
    l->fd = fd;
    fd = -1;
    *out = l;
done:
    if (fd >= 0)
        close(fd);
    free(dir);
    free(path);
    return rc;
}

void vl_lock_release(vl_lock *l)
{
    if (!l)
        return;
    close(l->fd); /* closing drops the flock */
    free(l);
}
