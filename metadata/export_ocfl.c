/* The ocfl export kind: the OCFL object folder, byte for byte, copied
 * through the backend (for an older version: v1..vN, with vN's inventory
 * as the root inventory), then validated with every digest.  The folders
 * are made as the object is listed; its files are then copied on every
 * core (by the kernel, from a folder store). */
#define VL_METADATA_INTERNAL
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_private.h"

#define OCFL_LOCK_WAIT 60   /* seconds to wait for a deposit to finish */

typedef struct ocfl_file {
    char *rel;            /* in the object */
    char *dst_rel;        /* in the copy */
    uint64_t bytes;       /* copied */
} ocfl_file;

typedef struct ocfl_copy {
    vl_backend *b;
    const char *object_rel;
    const char *tmp;
    char **skip;          /* top-level names left out (later versions, root
                             inventory and sidecar when they are replaced) */
    size_t nskip, cskip;
    ocfl_file *files;     /* the batch to copy (its folders are made) */
    size_t nfiles, cfiles;
    size_t copied;        /* files copied so far */
    uint64_t bytes;
    char **bufs;          /* one per worker, for a store read through a
                             reader (S3); made when first needed */
    int nbufs;
    const char *dir_rel;  /* folder being listed, relative to the object */
} ocfl_copy;

/* Files are copied in batches of this many through the pool as the
 * object's folders are listed: what is held does not grow with them. */
#define OCFL_BATCH 1024

static int copy_batch(ocfl_copy *c, vl_error *err);

static int add_file(ocfl_copy *c, const char *rel, const char *dst_rel,
                    vl_error *err)
{
    if (VL_GROW(c->files, c->cfiles, c->nfiles + 1, err) != VL_OK)
        return VL_ESYS;
    ocfl_file *f = &c->files[c->nfiles];
    f->bytes = 0;
    f->rel = vl_strdup(rel);
    f->dst_rel = vl_strdup(dst_rel);
    if (!f->rel || !f->dst_rel) {
        free(f->rel);
        free(f->dst_rel);
        return vl_error_oom(err);
    }
    c->nfiles++;
    return c->nfiles == OCFL_BATCH ? copy_batch(c, err) : VL_OK;
}

static int copy_file(ocfl_copy *c, ocfl_file *f, int worker, vl_error *err)
{
    const char *rel = f->rel, *dst_rel = f->dst_rel;
    char *src = vl_path_join(c->object_rel, rel);
    char *dst = vl_path_join(c->tmp, dst_rel);
    vl_reader *rd = NULL;
    int fd = -1, rc;
    ssize_t n;
    if (!src || !dst) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_open(c->b, src, &rd, err)) != VL_OK)
        goto done;
    fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot create %s", dst);
        goto done;
    }
    /* A copy of the object keeps the store's read-only files (its folders
     * stay writable, so the user can still remove it). */
    struct stat st;
    if (fstat(fd, &st) != 0 || fchmod(fd, st.st_mode & 0555) != 0) {
        rc = vl_error_sys(err, "cannot make %s read-only", dst);
        goto done;
    }
    /* From a folder store the kernel copies (a reflink where it can);
     * nothing is digested here, the copy is validated afterwards. */
    const char *path;
    int in_fd = vl_reader_file(rd, &path);
    if (in_fd >= 0) {
        vl_copy_result cr;
        vl_copy_spec cs = {in_fd, path, fd, dst, 0, NULL, NULL, VL_COPY_WRITEBACK};
        if ((rc = vl_digest_copy_fd(&cs, &cr, err)) != VL_OK)
            goto done;
        f->bytes = cr.size;
    } else {
        char **buf = &c->bufs[worker];   /* this worker's alone */
        if (!*buf && !(*buf = malloc(VL_IO_BUFSIZE))) {
            rc = vl_error_oom(err);
            goto done;
        }
        while ((n = vl_reader_read(rd, *buf, VL_IO_BUFSIZE, err)) > 0) {
            if (vl_fs_write_all(fd, *buf, (size_t)n) != 0) {
                rc = vl_error_sys(err, "cannot write %s", dst);
                goto done;
            }
            f->bytes += (uint64_t)n;
        }
        if (n < 0) {
            rc = err && err->status ? err->status : VL_ESYS;
            goto done;
        }
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = vl_error_sys(err, "cannot write %s", dst);
        goto done;
    }
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    vl_reader_close(rd);
    free(src);
    free(dst);
    return rc;
}

static int copy_one(void *arg, size_t i, int worker, vl_error *err)
{
    ocfl_copy *c = arg;
    return copy_file(c, &c->files[i], worker, err);
}

static void free_batch(ocfl_copy *c)
{
    for (size_t i = 0; i < c->nfiles; i++) {
        free(c->files[i].rel);
        free(c->files[i].dst_rel);
    }
    c->nfiles = 0;
}

static int copy_batch(ocfl_copy *c, vl_error *err)
{
    int rc = vl_pool_run(c->nfiles, c->nbufs, copy_one, c, err);
    for (size_t i = 0; rc == VL_OK && i < c->nfiles; i++)
        c->bytes += c->files[i].bytes;
    c->copied += c->nfiles;
    free_batch(c);
    return rc;
}

static int copy_dir(ocfl_copy *c, const char *rel, vl_error *err);

static int copy_entry(void *arg, const char *name, int kind, vl_error *err)
{
    ocfl_copy *c = arg;
    const char *parent = c->dir_rel;
    char *rel;
    int rc;
    if (!*parent)
        for (size_t i = 0; i < c->nskip; i++)
            if (!strcmp(c->skip[i], name))
                return VL_OK;
    rel = *parent ? vl_path_join(parent, name) : vl_strdup(name);
    if (!rel)
        return vl_error_oom(err);
    if (kind == VL_WALK_DIR) {
        char *dst = vl_path_join(c->tmp, rel);
        rc = dst ? vl_fs_mkdirs(dst, err) : vl_error_oom(err);
        free(dst);
        if (rc == VL_OK)
            rc = copy_dir(c, rel, err);
        c->dir_rel = parent;
    } else if (kind == VL_WALK_FILE) {
        rc = add_file(c, rel, rel, err);
    } else {
        rc = vl_error_set(err, VL_FINDING, "%s/%s/%s: not a file or folder; "
                          "an OCFL object holds only those",
                          vl_backend_root(c->b), c->object_rel, rel);
    }
    free(rel);
    return rc;
}

static int copy_dir(ocfl_copy *c, const char *rel, vl_error *err)
{
    char *full = *rel ? vl_path_join(c->object_rel, rel) : vl_strdup(c->object_rel);
    int rc;
    if (!full)
        return vl_error_oom(err);
    c->dir_rel = rel;
    rc = vl_backend_list(c->b, full, copy_entry, c, err);
    free(full);
    return rc;
}

struct finding_note {
    char first[512];
    size_t errors;
};

static void on_finding(void *arg, const vl_finding *f)
{
    struct finding_note *n = arg;
    if (f->severity != VL_SEV_ERROR)
        return;
    if (!n->errors++)
        snprintf(n->first, sizeof n->first, "%s %s: %s", f->code,
                 f->path ? f->path : "", f->message ? f->message : "");
}

static int add_skip(ocfl_copy *c, const char *name, vl_error *err)
{
    if (VL_GROW(c->skip, c->cskip, c->nskip + 1, err) != VL_OK)
        return VL_ESYS;
    if (!(c->skip[c->nskip] = vl_strdup(name)))
        return vl_error_oom(err);
    c->nskip++;
    return VL_OK;
}

int vl_export_ocfl(vl_repo *r, const vl_inventory *inv, int num,
                   const char *tmp, size_t *files, uint64_t *bytes,
                   vl_error *err)
{
    ocfl_copy c;
    vl_lock *lock = NULL;
    vl_validate_options vo;
    vl_validate_counts counts;
    struct finding_note note;
    const char *id = vl_inventory_id(inv);
    int head = vl_inventory_head(inv), rc;
    char sidecar[64], vname[16];

    memset(&c, 0, sizeof c);
    c.b = vl_repo_backend(r);
    c.tmp = tmp;
    snprintf(sidecar, sizeof sidecar, "inventory.json.%s",
             vl_digest_name(vl_inventory_digest_alg(inv)));
    c.nbufs = vl_ncpu();
    if (!(c.object_rel = vl_repo_object_path(r, id)) ||
        !(c.bufs = calloc((size_t)c.nbufs, sizeof *c.bufs))) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* A deposit committing while the folder is read would give a copy of
     * neither version. */
    if ((rc = vl_lock_object(r, id, OCFL_LOCK_WAIT, &lock, err)) != VL_OK)
        goto done;
    for (int v = num + 1; v <= head; v++) {
        vl_inventory_version_name(inv, v, vname);
        if ((rc = add_skip(&c, vname, err)) != VL_OK)
            goto done;
    }
    if (num < head && ((rc = add_skip(&c, "inventory.json", err)) != VL_OK ||
                       (rc = add_skip(&c, sidecar, err)) != VL_OK))
        goto done;
    if ((rc = copy_dir(&c, "", err)) != VL_OK)
        goto done;
    /* An older version: its own inventory is what the root inventory was
     * when it was the head (OCFL keeps them identical). */
    if (num < head) {
        char src[128];
        vl_inventory_version_name(inv, num, vname);
        snprintf(src, sizeof src, "%s/inventory.json", vname);
        if ((rc = add_file(&c, src, "inventory.json", err)) != VL_OK)
            goto done;
        snprintf(src, sizeof src, "%s/%s", vname, sidecar);
        if ((rc = add_file(&c, src, sidecar, err)) != VL_OK)
            goto done;
    }
    if ((rc = copy_batch(&c, err)) != VL_OK)
        goto done;
    vl_lock_release(lock);
    lock = NULL;
    memset(&vo, 0, sizeof vo);
    memset(&counts, 0, sizeof counts);
    memset(&note, 0, sizeof note);
    vo.check_digests = 1;
    vo.on_finding = on_finding;
    vo.arg = &note;
    rc = vl_validate_path(tmp, &vo, &counts, err);
    if (rc != VL_OK && rc != VL_FINDING)
        goto done;
    if (counts.errors || note.errors || rc == VL_FINDING) {
        rc = vl_error_set(err, VL_FINDING, "the OCFL copy of \"%s\" v%d does "
                          "not validate (%zu errors; first: %s)", id, num,
                          counts.errors ? counts.errors : note.errors,
                          note.first[0] ? note.first : "?");
        goto done;
    }
    *files = c.copied;
    *bytes = c.bytes;
    rc = VL_OK;
done:
    vl_lock_release(lock);
    for (size_t i = 0; i < c.nskip; i++)
        free(c.skip[i]);
    free(c.skip);
    free_batch(&c);
    free(c.files);
    for (int i = 0; c.bufs && i < c.nbufs; i++)
        free(c.bufs[i]);
    free(c.bufs);
    free((char *)c.object_rel);
    return rc;
}
