/* Folder and single-file sources: a list of the regular files to deposit
 * (rows of the deposit's index, handed out in logical path order), each
 * with its logical path, checked before a byte is copied so a refusal
 * stores nothing; then every core reads, stages, hashes and identifies
 * them, each byte read once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest_internal.h"

int vl_source_is_bag_dir(const char *path)
{
    char *p = vl_path_join(path, "bagit.txt");
    struct stat st;
    int yes = p && lstat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return yes;
}

int vl_source_is_broken_bag_dir(const char *path, char **manifest)
{
    char *data = vl_path_join(path, "data");
    DIR *d = NULL;
    struct dirent *de;
    int yes = 0;
    *manifest = NULL;
    if (!data || vl_source_is_bag_dir(path) || !vl_fs_is_dir(data) ||
        !(d = opendir(path)))
        goto done;
    /* The first payload manifest in byte order, for a stable message. */
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        char *p;
        struct stat st;
        if (n <= 13 || strncmp(de->d_name, "manifest-", 9) != 0 ||
            strcmp(de->d_name + n - 4, ".txt") != 0)
            continue;
        if (!(p = vl_path_join(path, de->d_name)))
            continue;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
            (!*manifest || strcmp(de->d_name, *manifest) < 0)) {
            free(*manifest);
            *manifest = vl_strdup(de->d_name);
            yes = 1;
        }
        free(p);
    }
done:
    if (d)
        closedir(d);
    free(data);
    return yes;
}

struct walk_ctx {
    const char *root;
    vl_entry_list *list;
    const vl_ingest_options *o;
    int as_bag;
};

static int refuse(vl_error *err, const char *path, const char *why)
{
    char *shown = vl_name_shorten(path, VL_NAME_SHOWN_MAX);
    int rc = vl_error_set(err, VL_EINPUT, "refusing %s: %s", shown ? shown : "?", why);
    free(shown);
    return rc;
}

/* One warning line: what, the path shown, why. */
static void warn(const struct walk_ctx *c, const char *what, const char *path,
                 const char *why)
{
    if (!c->o->warn)
        return;
    char *shown = vl_name_shorten(path, VL_NAME_SHOWN_MAX);
    char *msg = vl_asprintf("%s %s %s", what, shown ? shown : "?", why);
    if (msg)
        c->o->warn(c->o->cb_arg, msg);
    free(msg);
    free(shown);
}

/* Logical path of a file in the source: data/<rel>, or for a bag its payload
 * as data/<rel under data/> and its tag files under metadata/bag/. */
static char *logical_of(const struct walk_ctx *c, const char *rel, int *is_tag)
{
    *is_tag = 0;
    if (!c->as_bag)
        return vl_path_join(VL_PAYLOAD_DIR, rel);
    if (!strncmp(rel, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN))
        return vl_strdup(rel);
    *is_tag = 1;
    return vl_path_join(VL_BAG_TAG_DIR, rel);
}

static int walk_one(void *arg, const char *rel, int kind, const struct stat *st,
                    vl_error *err)
{
    struct walk_ctx *c = arg;
    int is_tag = 0, rc = VL_OK;
    char *logical = logical_of(c, rel, &is_tag);
    char *src = vl_path_join(c->root, rel);
    vl_error why = {0};
    if (!logical || !src) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (vl_logical_path_check(logical, &why) != VL_OK) {
        rc = refuse(err, src, why.msg);
        goto done;
    }
    switch (kind) {
    case VL_WALK_FILE:
        /* Another name for the same bytes may lie outside the deposit
         * (ln /etc/passwd deposit/pw), and no name is the original. */
        if (st->st_nlink > 1) {
            if (c->o->symlinks_skip) {
                warn(c, "hard link", src, "left out (--symlinks skip)");
                break;
            }
            rc = refuse(err, src, "hard links are not deposited (the file has "
                                  "other names, perhaps outside the deposit; "
                                  "copy it in, or give --symlinks skip)");
            break;
        }
        if (vl_logical_path_limits(logical, &why) != VL_OK) {
            rc = refuse(err, src, why.msg);
            break;
        }
        rc = vl_entry_list_add(c->list, src, logical, (uint64_t)st->st_size,
                               is_tag, err);
        break;
    case VL_WALK_DIR:
        if (vl_fs_dir_empty(src) == 1) {
            warn(c, "empty folder", src, "is not kept: OCFL stores files, not folders");
            break;
        }
        /* Refused here, the walk goes no deeper than the limits. */
        if (vl_logical_path_limits(logical, &why) != VL_OK)
            rc = refuse(err, src, why.msg);
        break;
    case VL_WALK_SYMLINK:
        if (c->o->symlinks_skip) {
            warn(c, "symbolic link", src, "left out (--symlinks skip)");
            break;
        }
        rc = refuse(err, src, "symbolic links are not deposited (copy the target "
                              "in, or give --symlinks skip)");
        break;
    default:
        rc = refuse(err, src, "not a regular file (device, FIFO or socket)");
        break;
    }
done:
    free(logical);
    free(src);
    return rc;
}

int vl_source_collect(const char *path, const vl_ingest_options *o, int as_bag,
                      vl_entry_list *list, vl_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return vl_error_set(err, VL_EINPUT, "no such file or folder: %s", path);
        return vl_error_sys(err, "cannot read source %s", path);
    }
    if (S_ISDIR(st.st_mode)) {
        struct walk_ctx c = {path, list, o, as_bag};
        return vl_tree_walk(path, 1, walk_one, &c, err);
    }
    if (S_ISREG(st.st_mode)) {
        char *dir = vl_path_dirname(path);
        if (!dir)
            return vl_error_oom(err);
        struct walk_ctx c = {dir, list, o, 0};
        int rc = walk_one(&c, vl_path_basename(path), VL_WALK_FILE, &st, err);
        free(dir);
        return rc;
    }
    if (S_ISLNK(st.st_mode))
        return refuse(err, path, "a symbolic link");
    return refuse(err, path, "not a file or folder");
}

/* ---- staging on every core -------------------------------------------- */

struct stage_ctx {
    vl_ingest_run *run;
    vl_entry_cursor cur;      /* the listing, one entry per call (dep.mu) */
    int64_t taken;            /* entries handed out (dep.mu) */
    vl_identifier **ids;      /* one per worker */
    vl_prefix *prefixes;      /* one per worker */
};

static int stage_one(void *arg, size_t i, int worker, vl_error *err)
{
    struct stage_ctx *c = arg;
    vl_ingest_run *run = c->run;
    const vl_entry *next;
    vl_entry entry = {0}, *e = &entry;
    char *src = NULL, *logical = NULL;
    char *dst = NULL;
    int64_t rank = 0;
    int in = -1, out = -1, rc;
    vl_copy_result cr;
    vl_format fmt, *fmtp = NULL;
    uint64_t size = 0;
    struct stat st;
    vl_prefix *pre = &c->prefixes[worker];
    (void)i;   /* the workers take the listing's entries in turn */
    pthread_mutex_lock(&run->dep.mu);
    if ((rc = vl_entry_next(&c->cur, &next, err)) == VL_OK && next) {
        entry = *next;
        rank = ++c->taken;
        e->src = src = vl_strdup(next->src);
        e->logical = logical = vl_strdup(next->logical);
        if (!src || !logical)
            rc = vl_error_oom(err);
    } else if (rc == VL_OK) {
        rc = vl_error_set(err, VL_ESYS, "the deposit's file list ended early");
    }
    pthread_mutex_unlock(&run->dep.mu);
    if (rc != VL_OK)
        goto done;
    if ((rc = vl_txn_stage_path(run->txn, e->logical, &dst, err)) != VL_OK)
        goto done;
    in = open(e->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) {
        rc = vl_error_sys(err, "cannot read %s", e->src);
        goto done;
    }
    posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
    /* Readable too: a big file is copied by the kernel and digested from
     * the staged copy's cached pages (vl_digest_copy_fd). */
    out = open(dst, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        rc = vl_error_sys(err, "cannot create %s", dst);
        goto done;
    }
    pre->len = 0;
    /* Writeback of a big file starts as it is copied, so the one syncfs
     * at commit has little left to wait for. */
    vl_copy_spec cs = {in, e->src, out, dst, run->mask,
                       run->o->no_identify ? NULL : vl_prefix_observe, pre,
                       VL_COPY_WRITEBACK};
    rc = vl_digest_copy_fd(&cs, &cr, err);
    size = cr.size;
    if (rc != VL_OK) {
        int sys = err->sys_errno;   /* a full disk must still read as one */
        if (!cr.read_failed)        /* (a failed read names the source) */
            rc = vl_error_set(err, rc, "%s: %s", e->src, err->msg);
        err->sys_errno = sys;
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
    if (!run->o->no_identify) {
        if (!c->ids[worker] &&
            (rc = vl_identifier_open(run->sigs, &c->ids[worker], err)) != VL_OK)
            goto done;
        if ((rc = vl_identify_path(c->ids[worker], pre->buf, pre->len, size,
                                   vl_path_basename(e->logical), dst, &fmt, err)) != VL_OK)
            goto done;
        fmtp = &fmt;
    }
    rc = vl_deposit_add(&run->dep, e->logical, dst, e->src, size, &cr.digests, fmtp, 0,
                        (int64_t)st.st_mtim.tv_sec * 1000000000 +
                            st.st_mtim.tv_nsec, rank, err);
    if (rc == VL_OK)
        vl_run_progress(run, 1, size, 0);
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    free(dst);
    free(src);
    free(logical);
    return rc;
}

int vl_source_stage_list(vl_ingest_run *run, vl_entry_list *list, vl_error *err)
{
    int n = run->nthreads > 0 ? run->nthreads : vl_ncpu();
    struct stage_ctx c = {run, {0}, 0, calloc((size_t)n, sizeof *c.ids),
                          calloc((size_t)n, sizeof *c.prefixes)};
    int rc = VL_OK;
    if (!c.ids || !c.prefixes) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_entry_open(list, 0, &c.cur, err)) != VL_OK)
        goto done;
    for (int w = 0; w < n; w++) {
        c.prefixes[w].cap = vl_identify_prefix_bytes();
        if (!(c.prefixes[w].buf = malloc(c.prefixes[w].cap))) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    rc = vl_pool_run(list->n, n, stage_one, &c, err);
done:
    vl_entry_close(&c.cur);
    for (int w = 0; c.ids && w < n; w++)
        vl_identifier_close(c.ids[w]);
    for (int w = 0; c.prefixes && w < n; w++)
        free(c.prefixes[w].buf);
    free(c.ids);
    free(c.prefixes);
    return rc;
}
