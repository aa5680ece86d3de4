/* Temporaries outside the repository.  An export or a get builds its
 * result beside DEST (DEST.vellum-export-<pid>, DEST.vellum-get-<pid>) and
 * renames it into place; a process killed before that leaves the temporary
 * behind, out of staging's reach.  So the temporary is registered first:
 * a record staging/.outside/<uuid> lists its absolute paths (each ending in
 * NUL, since a path may hold any byte but NUL) and is flock'd for as long
 * as the work runs.  recover clears every record nobody holds: the paths
 * it names, then the record.  An export or a get first clears, the same
 * way, the abandoned records naming a temporary of its own destination, so
 * a killed run's leftovers do not wait for recover.
 *
 * The record is written under a dot name, locked, synced and only then
 * renamed to its final name, so recover never sees a record it could take
 * before its owner has locked it.  recover removes only paths whose last
 * component carries ".vellum-", so an edited record cannot turn it on
 * arbitrary files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "vl_json.h"
#include "repo_internal.h"

#define OUTSIDE_MARK ".vellum-"
#define OUTSIDE_RECORD_MAX (1024u * 1024u)

struct vl_outside {
    int fd;
    char *record;
    char *promise;     /* .event-<uuid> */
};

/* staging/.outside/.event-<uuid> for a record staging/.outside/<uuid> */
static char *promise_path(const char *record)
{
    char *dir = vl_path_dirname(record);
    char *p = dir ? vl_asprintf("%s/.event-%s", dir, vl_path_basename(record))
                  : NULL;
    free(dir);
    return p;
}

int vl_outside_begin(vl_repo *r, const char *const *paths, size_t n,
                     vl_outside **out, vl_error *err)
{
    char uuid[37], *dir = NULL, *tmp = NULL, *name = NULL, *fin = NULL;
    int rc = VL_OK, fd = -1;
    vl_outside *w = NULL;
    *out = NULL;
    vl_uuid4(uuid);
    if (!(dir = vl_path_join(r->staging_dir, VL_OUTSIDE_DIR)) ||
        !(name = vl_asprintf(".new-%s", uuid)) ||
        !(tmp = vl_path_join(dir, name)) || !(fin = vl_path_join(dir, uuid)) ||
        !(w = calloc(1, sizeof *w))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs(dir, err)) != VL_OK)
        goto done;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        rc = vl_error_sys(err, "cannot create %s", tmp);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        char *abs = vl_path_absolute(paths[i]);
        int bad = !abs || vl_fs_write_all(fd, abs, strlen(abs) + 1) != 0;
        free(abs);
        if (bad) {
            rc = vl_error_sys(err, "cannot write %s", tmp);
            goto done;
        }
    }
    if (fsync(fd) != 0 || rename(tmp, fin) != 0) {
        rc = vl_error_sys(err, "cannot write %s", fin);
        goto done;
    }
    if ((rc = vl_fs_fsync_parent(fin, err)) != VL_OK)
        goto done;
    if (!(w->promise = promise_path(fin))) {
        rc = vl_error_oom(err);
        unlink(fin);
        goto done;
    }
    w->fd = fd;
    w->record = fin;
    fd = -1;
    fin = NULL;
    *out = w;
    w = NULL;
done:
    if (fd >= 0) {
        unlink(tmp);
        close(fd);
    }
    free(w);
    free(dir);
    free(name);
    free(tmp);
    free(fin);
    return rc;
}

int vl_outside_promise(vl_outside *w, const char *dest, const vl_event *ev,
                       vl_error *err)
{
    json_t *j = json_object(), *e = vl_event_to_json(ev);
    char *abs = vl_path_absolute(dest), *text = NULL;
    int rc = VL_OK;
    if (!j || !e || !abs ||
        json_object_set_new(j, "dest", json_string(abs)) != 0 ||
        json_object_set(j, "event", e) != 0 ||
        !(text = vl_json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)))
        rc = vl_error_oom(err);
    else
        rc = vl_fs_write_atomic(w->promise, text, strlen(text), err);
    json_decref(j);
    json_decref(e);
    free(abs);
    free(text);
    return rc;
}

void vl_outside_end(vl_outside *w)
{
    if (!w)
        return;
    unlink(w->promise);
    unlink(w->record);
    close(w->fd);   /* drops the flock */
    free(w->record);
    free(w->promise);
    free(w);
}

/* A promised event whose destination is in place is recorded (once). */
static int keep_promise(vl_repo *r, const char *record, vl_error *err)
{
    char *path = promise_path(record);
    json_t *j = NULL;
    int rc = VL_OK;
    if (!path)
        return vl_error_oom(err);
    if (!vl_fs_exists(path))
        goto done;
    j = json_load_file(path, 0, NULL);
    const char *dest = json_string_value(json_object_get(j, "dest"));
    json_t *ev = json_object_get(j, "event");
    /* An unreadable promise was cut short by the crash: the rename it
     * announces had not happened yet. */
    if (dest && json_is_object(ev) && vl_fs_exists(dest) &&
        (rc = vl_events_append_json(r, ev, err)) != VL_OK)
        goto done;
    if (unlink(path) != 0 && errno != ENOENT)
        rc = vl_error_sys(err, "cannot remove %s", path);
done:
    json_decref(j);
    free(path);
    return rc;
}

/* Temporaries of promise writes (".event-<uuid>.tmp-<pid>") that a kill
 * cut short; only called once the record's owner is known to be gone. */
static int remove_promise_temps(const char *record, vl_error *err)
{
    char *dir = vl_path_dirname(record);
    char *prefix = vl_asprintf(".event-%s.tmp-", vl_path_basename(record));
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    int rc = VL_OK;
    if (!dir || !prefix) {
        rc = vl_error_oom(err);
        goto done;
    }
    while (d && rc == VL_OK && (e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char *p = vl_path_join(dir, e->d_name);
        if (!p)
            rc = vl_error_oom(err);
        else if (unlink(p) != 0 && errno != ENOENT)
            rc = vl_error_sys(err, "cannot remove %s", p);
        free(p);
    }
done:
    if (d)
        closedir(d);
    free(dir);
    free(prefix);
    return rc;
}

/* The whole record behind fd into buf. */
static int read_record(const char *record, int fd, vl_buf *buf, vl_error *err)
{
    for (;;) {
        char chunk[4096];
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return vl_error_sys(err, "cannot read %s", record);
        if (got == 0)
            return VL_OK;
        if (buf->len + (size_t)got > OUTSIDE_RECORD_MAX ||
            vl_buf_append(buf, chunk, (size_t)got, err) != VL_OK)
            return vl_error_set(err, VL_ESYS, "%s is too large", record);
    }
}

/* The next trusted path of a record at *at, or NULL at its end: absolute,
 * no "..", a last component carrying the mark, and ended by its NUL (a
 * final path without it was cut short). */
static const char *next_path(const vl_buf *buf, size_t *at)
{
    while (*at < buf->len) {
        const char *p = (const char *)buf->data + *at;
        size_t len = strnlen(p, buf->len - *at);
        if (*at + len == buf->len)
            break;
        *at += len + 1;
        const char *base = strrchr(p, '/');
        if (p[0] == '/' && base && strstr(base, OUTSIDE_MARK) &&
            !strstr(p, "/../"))
            return p;
    }
    *at = buf->len;
    return NULL;
}

/* Keep its promise, remove what one abandoned record names, then the
 * record. */
static int clear_record(vl_repo *r, const char *record, const vl_buf *buf,
                        size_t *cleared, vl_error *err)
{
    const char *p;
    size_t at = 0;
    int rc;
    if ((rc = keep_promise(r, record, err)) != VL_OK ||
        (rc = remove_promise_temps(record, err)) != VL_OK)
        return rc;
    while ((p = next_path(buf, &at))) {
        if (vl_fs_exists(p)) {
            if ((rc = vl_fs_rmtree(p, err)) != VL_OK)
                return rc;
            (*cleared)++;
        }
    }
    /* ENOENT: its owner ended it between our open and our lock. */
    if (unlink(record) != 0 && errno != ENOENT)
        return vl_error_sys(err, "cannot remove %s", record);
    return VL_OK;
}

/* Where the temporaries of one destination are: its folder (by device and
 * inode, so any spelling of the path matches) and "NAME.vellum-". */
typedef struct dest_key {
    dev_t dev;
    ino_t ino;
    char *prefix;
} dest_key;

/* 1 when some path of the record is a temporary of that destination, or
 * lies inside one (an export's own get registers its work there). */
static int names_dest(const vl_buf *buf, const dest_key *k)
{
    const char *p;
    size_t at = 0, plen = strlen(k->prefix);
    while ((p = next_path(buf, &at))) {
        for (const char *c = strchr(p, '/'); c; c = strchr(c + 1, '/')) {
            struct stat st;
            char *dir;
            if (strncmp(c + 1, k->prefix, plen) != 0 ||
                !(dir = vl_strndup(p, c > p ? (size_t)(c - p) : 1)))
                continue;
            int same = stat(dir, &st) == 0 && st.st_dev == k->dev &&
                       st.st_ino == k->ino;
            free(dir);
            if (same)
                return 1;
        }
    }
    return 0;
}

/* Every record nobody holds (or, with k, only those naming a temporary of
 * k's destination) is cleared. */
static int clear_abandoned(vl_repo *r, const dest_key *k, size_t *cleared,
                           vl_error *err)
{
    char *dir = vl_path_join(r->staging_dir, VL_OUTSIDE_DIR);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *e;
    vl_buf buf;
    int rc = VL_OK;
    vl_buf_init(&buf, 0);
    if (!dir) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!d) {
        if (errno != ENOENT)
            rc = vl_error_sys(err, "cannot list %s", dir);
        goto done;
    }
    while (rc == VL_OK && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            !strncmp(e->d_name, ".event-", 7))
            continue;   /* promises (and their temporaries) go with their record */
        /* A ".new-" record was never completed, so its owner had not yet
         * made anything outside: unlocked, it only needs removing (by
         * recover; one destination's clearing cannot tell whose it is). */
        int unfinished = !strncmp(e->d_name, ".new-", 5);
        if (unfinished && k)
            continue;
        char *p = vl_path_join(dir, e->d_name);
        int fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
        vl_buf_reset(&buf);
        if (!p)
            rc = vl_error_oom(err);
        else if (fd < 0 && errno != ENOENT)
            rc = vl_error_sys(err, "cannot open %s", p);
        else if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
            if (unfinished) {
                if (unlink(p) != 0 && errno != ENOENT)
                    rc = vl_error_sys(err, "cannot remove %s", p);
            } else if ((rc = read_record(p, fd, &buf, err)) == VL_OK &&
                       (!k || names_dest(&buf, k))) {
                rc = clear_record(r, p, &buf, cleared, err);
            }
        }
        /* else: its owner is still at work, or it is gone already */
        if (fd >= 0)
            close(fd);
        free(p);
    }
done:
    if (d)
        closedir(d);
    vl_buf_release(&buf);
    free(dir);
    return rc;
}

int vl_outside_recover(vl_repo *r, size_t *cleared, vl_error *err)
{
    *cleared = 0;
    return clear_abandoned(r, NULL, cleared, err);
}

int vl_outside_clear_for(vl_repo *r, const char *dest, size_t *cleared,
                         vl_error *err)
{
    char *parent = vl_path_dirname(dest);
    const char *base = strrchr(dest, '/');
    dest_key k = {0};
    struct stat st;
    int rc = VL_OK;
    *cleared = 0;
    base = base ? base + 1 : dest;
    if (!parent || !(k.prefix = vl_asprintf("%s" OUTSIDE_MARK, base))) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* No folder, no temporaries in it: the caller names the problem. */
    if (!*base || stat(parent, &st) != 0)
        goto done;
    k.dev = st.st_dev;
    k.ino = st.st_ino;
    rc = clear_abandoned(r, &k, cleared, err);
done:
    free(k.prefix);
    free(parent);
    return rc;
}
