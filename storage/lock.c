/* Per-object locks: flock on a file named by the hash of the object id, so a
 * killed process can never leave a stale lock behind.  With a PostgreSQL
 * catalog, a session-level advisory lock on the first 64 bits of that hash
 * is taken first, on a connection of the lock's own held for its life, so
 * that processes on other machines sharing the store and the database
 * serialize too (a killed process's session ends, and its lock with it).
 * The flock is still taken after it: recover and the pending-work scan on
 * this machine test the lock files.  Always advisory lock first, then the
 * file: one order, so no deadlock. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "catalog_private.h"
#include "db_private.h"
#include "repo_internal.h"

struct vl_lock {
    int fd;
    vl_db *pg;   /* the advisory lock's connection, or NULL */
};

/* Wait up to wait_seconds for the advisory lock on key (hex digest) on a
 * new connection to the catalog's database; *out keeps it. */
static int advisory_lock(vl_repo *r, const char *hex, int wait_seconds,
                         vl_db **out, vl_error *err)
{
    const char *conninfo = vl_catalog_conninfo(r->catalog);
    char key16[17];
    vl_db *db = NULL;
    vl_db_stmt *st = NULL;
    int rc;
    *out = NULL;
    if (!conninfo)
        return VL_OK;
    snprintf(key16, sizeof key16, "%.16s", hex);
    int64_t key = (int64_t)strtoull(key16, NULL, 16);
    rc = vl_db_open_pg(conninfo, vl_catalog_name(r->catalog), &db, err);
    if (rc != VL_OK)
        goto done;
    if (vl_db_prepare(db, "SELECT pg_try_advisory_lock(?)", &st) != VL_DB_OK) {
        rc = vl_db_nomem(db) ? vl_error_oom(err)
                             : vl_error_set(err, VL_ESYS, "catalog %s: object lock: %s",
                                            vl_catalog_name(r->catalog),
                                            vl_db_errmsg(db));
        goto done;
    }
    for (int waited_ms = 0;; waited_ms += 100) {
        vl_db_bind_int64(st, 1, key);
        if (vl_db_step(st) != VL_DB_ROW) {
            rc = vl_error_set(err, VL_ESYS, "catalog %s: object lock: %s",
                              vl_catalog_name(r->catalog), vl_db_errmsg(db));
            goto done;
        }
        int got = vl_db_column_int(st, 0);
        vl_db_reset(st);
        if (got)
            break;
        if (waited_ms >= wait_seconds * 1000) {
            rc = vl_error_set(err, VL_ESYS, "lock %s is held by another vellum "
                              "process", hex);
            if (err)
                err->reason = VL_REASON_LOCKED;
            goto done;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    *out = db;
    db = NULL;
done:
    vl_db_finalize(st);
    vl_db_close(db);
    return rc;
}

int vl_lock_key(const char *id, char out[VL_DIGEST_HEX_MAX])
{
    return vl_digest_buffer(VL_SHA256, id, strlen(id), out);
}

char *vl_txn_dir_new(const char *parent, const char *prefix, const char *id)
{
    char key[VL_DIGEST_HEX_MAX], u[37];
    if (vl_lock_key(id, key) != 0)
        return NULL;
    vl_uuid4(u);
    return vl_asprintf("%s/%s%s-%s", parent, prefix, key, u);
}

char *vl_repo_txn_dir_new(const vl_repo *r, const char *id)
{
    return vl_txn_dir_new(r->staging_dir, "txn-", id);
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
    vl_db *pg = NULL;
    if (!dir || !(path = vl_path_join(dir, hex))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = advisory_lock(r, hex, wait_seconds, &pg, err)) != VL_OK)
        goto done;
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
    l->pg = pg;
    fd = -1;
    pg = NULL;
    *out = l;
done:
    if (fd >= 0)
        close(fd);
    vl_db_close(pg);
    free(dir);
    free(path);
    return rc;
}

void vl_lock_release(vl_lock *l)
{
    if (!l)
        return;
    close(l->fd); /* closing drops the flock */
    vl_db_close(l->pg); /* ending the session drops the advisory lock */
    free(l);
}
