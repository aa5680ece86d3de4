/* Paths and files: durable writes (fsync + rename + fsync of the folder),
 * small-file reads with a cap, and a deterministic recursive walk. */
#include "vl_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- paths ---------------------------------------------------------------- */

char *vl_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);

    if (la == 0)
        return vl_strdup(b);
    if (a[la - 1] == '/')
        return vl_asprintf("%s%s", a, b);
    return vl_asprintf("%s/%s", a, b);
}

const char *vl_path_basename(const char *p)
{
    const char *slash = strrchr(p, '/');

    return slash ? slash + 1 : p;
}

char *vl_path_dirname(const char *p)
{
    const char *slash = strrchr(p, '/');

    if (!slash)
        return vl_strdup(".");
    /* Collapse repeated slashes before the last component ("a//b" -> "a"). */
    while (slash > p && slash[-1] == '/')
        slash--;
    if (slash == p)
        return vl_strdup("/");
    return vl_strndup(p, (size_t)(slash - p));
}

/* ---- helpers -------------------------------------------------------------- */

int vl_fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;   /* no progress: do not spin */
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

char *vl_path_absolute(const char *p)
{
    char *dir = vl_path_dirname(p), *real = NULL, *out = NULL;
    if (dir && (real = realpath(dir, NULL)) != NULL)
        out = vl_path_join(real, vl_path_basename(p));
    else if (p[0] == '/')
        out = vl_strdup(p);
    else {
        char *cwd = getcwd(NULL, 0);
        out = cwd ? vl_path_join(cwd, p) : NULL;
        free(cwd);
    }
    free(dir);
    free(real);
    return out;
}

static ssize_t read_retry(int fd, void *buf, size_t cap)
{
    ssize_t n;

    do
        n = read(fd, buf, cap);
    while (n < 0 && errno == EINTR);
    return n;
}

/* ---- directories ---------------------------------------------------------- */

int vl_fs_mkdirs(const char *path, vl_error *err)
{
    struct stat st;
    char *tmp = NULL;
    char *p;
    int rc = VL_OK;

    if (path[0] == '\0') {
        rc = vl_error_set(err, VL_EINPUT, "mkdir: empty path");
        goto done;
    }
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            rc = vl_error_set(err, VL_ESYS, "%s: exists and is not a directory",
                              path);
        goto done;
    }
    tmp = vl_strdup(path);
    if (!tmp) {
        rc = vl_error_sys(err, "%s", path);
        goto done;
    }
    /* Create each prefix in turn; an existing prefix is fine. */
    for (p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        /* 0777: the umask decides, and a repository narrows it. */
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST) {
            rc = vl_error_sys(err, "mkdir %s", tmp);
            goto done;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    if (stat(path, &st) != 0) {
        rc = vl_error_sys(err, "mkdir %s", path);
        goto done;
    }
    if (!S_ISDIR(st.st_mode))
        rc = vl_error_set(err, VL_ESYS, "%s: exists and is not a directory",
                          path);
done:
    free(tmp);
    return rc;
}

int vl_fs_mkdirs_parent(const char *file_path, vl_error *err)
{
    char *dir = vl_path_dirname(file_path);
    int rc;

    if (!dir)
        return vl_error_sys(err, "%s", file_path);
    rc = vl_fs_mkdirs(dir, err);
    free(dir);
    return rc;
}

/* nftw has no user pointer, so the first failure is kept per thread (the
 * worker pool may remove trees concurrently). */
static _Thread_local int rm_errno;
static _Thread_local char rm_failed[512];

static int rm_one(const char *fpath, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DNR || flag == FTW_NS) {
        rm_errno = errno ? errno : EACCES;
        snprintf(rm_failed, sizeof rm_failed, "%s", fpath);
        return 1;
    }
    if (remove(fpath) != 0 && errno != ENOENT) {
        rm_errno = errno;
        snprintf(rm_failed, sizeof rm_failed, "%s", fpath);
        return 1;
    }
    return 0;
}

int vl_fs_rmtree(const char *path, vl_error *err)
{
    struct stat st;
    int rc = VL_OK;

    if (lstat(path, &st) != 0) {
        if (errno != ENOENT)
            rc = vl_error_sys(err, "%s", path);
        goto done;
    }
    rm_errno = 0;
    rm_failed[0] = '\0';
    if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0) {
        if (rm_errno) {
            errno = rm_errno;
            rc = vl_error_sys(err, "remove %s", rm_failed);
        } else {
            rc = vl_error_sys(err, "remove %s", path);
        }
    }
done:
    return rc;
}

int vl_fs_fsync_path(const char *path, vl_error *err)
{
    int fd, rc = VL_OK;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vl_error_sys(err, "open %s", path);
    if (fsync(fd) != 0)
        rc = vl_error_sys(err, "fsync %s", path);
    close(fd);
    return rc;
}

int vl_fs_fsync_parent(const char *path, vl_error *err)
{
    char *dir = vl_path_dirname(path);
    int rc;

    if (!dir)
        return vl_error_sys(err, "%s", path);
    rc = vl_fs_fsync_path(dir, err);
    free(dir);
    return rc;
}

/* ---- files ---------------------------------------------------------------- */

/* Drop every write bit of an open file.  Committed files are read-only (as
 * git keeps its objects), so a stray write fails instead of changing
 * preserved bytes; done before the fsync, so the mode is as durable as the
 * bytes. */
static int drop_write_bits(int fd, const char *path, vl_error *err)
{
    struct stat st;

    if (fstat(fd, &st) != 0)
        return vl_error_sys(err, "stat %s", path);
    if ((st.st_mode & 0222) && fchmod(fd, st.st_mode & 0555) != 0)
        return vl_error_sys(err, "chmod %s", path);
    return VL_OK;
}

static int write_atomic(const char *path, const void *data, size_t len,
                        int readonly, vl_error *err)
{
    char *tmp = vl_asprintf("%s.tmp-%ld", path, (long)getpid());
    int fd = -1, rc = VL_OK, created = 0;

    if (!tmp) {
        rc = vl_error_sys(err, "%s", path);
        goto done;
    }
    /* A temp file of a dead process with our pid may be read-only. */
    unlink(tmp);
    /* 0666: the umask decides, and a repository narrows it. */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = vl_error_sys(err, "create %s", tmp);
        goto done;
    }
    created = 1;
    if (vl_fs_write_all(fd, data, len) != 0) {
        rc = vl_error_sys(err, "write %s", tmp);
        goto done;
    }
    if (readonly && (rc = drop_write_bits(fd, tmp, err)) != VL_OK)
        goto done;
    if (fsync(fd) != 0) {
        rc = vl_error_sys(err, "fsync %s", tmp);
        goto done;
    }
    /* close can report deferred write errors (NFS), so check it. */
    if (close(fd) != 0) {
        fd = -1;
        rc = vl_error_sys(err, "close %s", tmp);
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = vl_error_sys(err, "rename %s to %s", tmp, path);
        goto done;
    }
    created = 0;
    rc = vl_fs_fsync_parent(path, err);
done:
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp);
    free(tmp);
    return rc;
}

int vl_fs_write_atomic(const char *path, const void *data, size_t len,
                       vl_error *err)
{
    return write_atomic(path, data, len, 0, err);
}

int vl_fs_write_atomic_readonly(const char *path, const void *data, size_t len,
                                vl_error *err)
{
    return write_atomic(path, data, len, 1, err);
}

int vl_fs_read_file(const char *path, size_t max, vl_buf *out, vl_error *err)
{
    char chunk[65536];
    size_t total = 0;
    int fd, rc = VL_OK;

    vl_buf_init(out, 0);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = vl_error_sys(err, "open %s", path);
        goto done;
    }
    for (;;) {
        ssize_t n = read_retry(fd, chunk, sizeof chunk);
        if (n < 0) {
            rc = vl_error_sys(err, "read %s", path);
            goto done;
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (max > 0 && total > max) {
            rc = vl_error_set(err, VL_EINPUT, "%s: larger than %zu bytes",
                              path, max);
            goto done;
        }
        rc = vl_buf_append(out, chunk, (size_t)n, err);
        if (rc != VL_OK)
            goto done;
    }
    /* An empty file still yields a (empty) string. */
    if (!out->data)
        rc = vl_buf_append(out, "", 0, err);
done:
    if (fd >= 0)
        close(fd);
    if (rc != VL_OK)
        vl_buf_release(out);
    return rc;
}

int vl_fs_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

int vl_fs_is_dir(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int vl_fs_dir_empty(const char *path)
{
    struct dirent *de;
    DIR *d;
    int fd, result = 1;

    /* O_NOFOLLOW|O_DIRECTORY: a symlink or a file is "not a directory". */
    fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            result = 0;
            break;
        }
    }
    closedir(d);
    return result;
}

static int copy_file(const char *src, const char *dst, int readonly,
                     vl_error *err)
{
    int in = -1, out = -1, rc = VL_OK, created = 0;

    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = vl_error_sys(err, "open %s", src);
        goto done;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out < 0) {
        rc = vl_error_sys(err, "create %s", dst);
        goto done;
    }
    created = 1;
    /* The kernel copies where it can (a reflink on filesystems that share
     * blocks), else read and write. */
    vl_copy_spec cs = {in, src, out, dst, 0, NULL, NULL, 0};
    if ((rc = vl_digest_copy_fd(&cs, NULL, err)) != VL_OK)
        goto done;
    if (readonly && (rc = drop_write_bits(out, dst, err)) != VL_OK)
        goto done;
    if (fsync(out) != 0) {
        rc = vl_error_sys(err, "fsync %s", dst);
        goto done;
    }
    if (close(out) != 0) {
        out = -1;
        rc = vl_error_sys(err, "close %s", dst);
        goto done;
    }
    out = -1;
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    /* Never leave a partial copy behind that could pass for the real file. */
    if (rc != VL_OK && created)
        unlink(dst);
    return rc;
}

int vl_fs_copy_file(const char *src, const char *dst, vl_error *err)
{
    return copy_file(src, dst, 0, err);
}

int vl_fs_copy_file_readonly(const char *src, const char *dst, vl_error *err)
{
    return copy_file(src, dst, 1, err);
}

/* nftw has no user pointer: the first failure is kept per thread. */
static _Thread_local int ro_errno;
static _Thread_local char ro_failed[512];

static int ro_one(const char *fpath, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_DNR || flag == FTW_NS) {
        ro_errno = errno ? errno : EACCES;
        snprintf(ro_failed, sizeof ro_failed, "%s", fpath);
        return 1;
    }
    if (flag == FTW_F && S_ISREG(sb->st_mode) && (sb->st_mode & 0222) &&
        chmod(fpath, sb->st_mode & 0555) != 0) {
        ro_errno = errno;
        snprintf(ro_failed, sizeof ro_failed, "%s", fpath);
        return 1;
    }
    return 0;
}

int vl_fs_make_files_readonly(const char *root, vl_error *err)
{
    ro_errno = 0;
    ro_failed[0] = '\0';
    if (nftw(root, ro_one, 32, FTW_PHYS) == 0)
        return VL_OK;
    errno = ro_errno ? ro_errno : errno;
    return vl_error_sys(err, "chmod %s", ro_failed[0] ? ro_failed : root);
}

int vl_fs_syncfs(const char *path, vl_error *err)
{
    int fd, rc = VL_OK;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vl_error_sys(err, "open %s", path);
    if (syncfs(fd) != 0)
        rc = vl_error_sys(err, "syncfs %s", path);
    close(fd);
    return rc;
}

int vl_fs_free_bytes(const char *path, uint64_t *out, vl_error *err)
{
    struct statvfs sv;

    if (statvfs(path, &sv) != 0)
        return vl_error_sys(err, "statvfs %s", path);
    *out = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    return VL_OK;
}

/* ---- walk ----------------------------------------------------------------- */

int vl_fs_rename_new(const char *from, const char *to, vl_error *err)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return VL_OK;
    if (errno == EEXIST)
        return vl_error_set(err, VL_EINPUT, "%s already exists; give a new "
                            "name", to);
    if (errno != EINVAL && errno != ENOSYS)
        return vl_error_sys(err, "cannot move %s to %s", from, to);
    /* A filesystem without RENAME_NOREPLACE: check, then rename. */
    if (vl_fs_exists(to))
        return vl_error_set(err, VL_EINPUT, "%s already exists; give a new "
                            "name", to);
    if (rename(from, to) != 0)
        return vl_error_sys(err, "cannot move %s to %s", from, to);
    return VL_OK;
}
