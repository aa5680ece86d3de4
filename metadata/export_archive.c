/* Exports as archives (zip, tar, tar.gz, tar.xz, tar.bz2): libarchive's
 * writer, streamed from the folder an export kind built, one top folder
 * named after DEST. */
#define VL_METADATA_INTERNAL
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "export_private.h"

typedef struct arc_ctx {
    struct archive *a;
    const char *dir;
    const char *top;
    const char *out;      /* for messages */
    char *buf;
    time_t mtime;
} arc_ctx;

static int arc_fail(arc_ctx *c, const char *what, vl_error *err)
{
    return vl_error_set(err, VL_ESYS, "cannot write archive %s: %s: %s",
                        c->out, what, archive_error_string(c->a)
                        ? archive_error_string(c->a) : "unknown error");
}

static int arc_header(arc_ctx *c, const char *name, int is_dir, uint64_t size,
                      const struct stat *st, vl_error *err)
{
    struct archive_entry *e = archive_entry_new();
    int rc = VL_OK;
    if (!e)
        return vl_error_oom(err);
    /* Names are UTF-8 and are handed over as they are; under the UTF-8
     * locale write_archive sets, libarchive takes them as such. */
    archive_entry_copy_pathname(e, name);
    archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, is_dir ? 0755 : 0644);
    archive_entry_set_size(e, is_dir ? 0 : (la_int64_t)size);
    /* A file keeps its modification time (get gave back the deposited
     * one); folders get the time of the export. */
    if (st && !is_dir)
        archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    else
        archive_entry_set_mtime(e, c->mtime, 0);
    /* ARCHIVE_WARN: a name that could not be marked as UTF-8 was written
     * as its bytes (pax hdrcharset=BINARY), which keeps it exact. */
    if (archive_write_header(c->a, e) < ARCHIVE_WARN)
        rc = arc_fail(c, name, err);
    archive_entry_free(e);
    return rc;
}

static int arc_entry(void *arg, const char *rel, int kind,
                     const struct stat *st, vl_error *err)
{
    arc_ctx *c = arg;
    char *name = NULL, *path = NULL;
    int fd = -1, rc;
    ssize_t n;
    if (kind != VL_WALK_FILE && kind != VL_WALK_DIR)
        return vl_error_set(err, VL_ESYS, "%s/%s: not a file or folder",
                            c->dir, rel);
    if (!(name = vl_asprintf("%s/%s%s", c->top, rel,
                             kind == VL_WALK_DIR ? "/" : "")) ||
        !(path = vl_path_join(c->dir, rel))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = arc_header(c, name, kind == VL_WALK_DIR, (uint64_t)st->st_size,
                         st, err)) != VL_OK || kind == VL_WALK_DIR)
        goto done;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = vl_error_sys(err, "cannot open %s", path);
        goto done;
    }
    while ((n = read(fd, c->buf, VL_IO_BUFSIZE)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = vl_error_sys(err, "cannot read %s", path);
            goto done;
        }
        if (archive_write_data(c->a, c->buf, (size_t)n) != n) {
            rc = arc_fail(c, name, err);
            goto done;
        }
    }
done:
    if (fd >= 0)
        close(fd);
    free(name);
    free(path);
    return rc;
}

/* The top folder inside the archive: DEST's name without its extension
 * ("letters.tar.gz" -> "letters"), as people expect from `zip -r`. */
static char *archive_top(const char *dest)
{
    static const char *const ext[] = {".tar.gz", ".tgz", ".tar.xz", ".txz",
                                      ".tar.bz2", ".tbz2", ".zip", ".tar"};
    const char *base = vl_path_basename(dest);
    size_t n = strlen(base);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && !strcasecmp(base + n - e, ext[i])) {
            n -= e;
            break;
        }
    }
    return n && strncmp(base, ".", n) && strncmp(base, "..", n)
               ? vl_strndup(base, n) : vl_strdup("export");
}

int vl_export_archive(const char *dir, const char *out, const char *dest,
                      const char *kind, vl_error *err)
{
    arc_ctx c;
    int fd = -1, rc = VL_OK, opened = 0;
    /* libarchive converts names through the locale's character set; the
     * program runs in the C locale, where a UTF-8 name cannot be converted
     * (and libarchive 3.6 crashes reporting it).  A UTF-8 locale for this
     * thread only, put back before returning. */
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t prev = utf8 ? uselocale(utf8) : (locale_t)0;

    memset(&c, 0, sizeof c);
    c.dir = dir;
    c.out = dest;
    c.mtime = (time_t)vl_time_now();
    if (!(c.top = archive_top(dest)) || !(c.buf = malloc(VL_IO_BUFSIZE)) ||
        !(c.a = archive_write_new())) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!strcmp(kind, "zip")) {
        if (archive_write_set_format_zip(c.a) != ARCHIVE_OK ||
            archive_write_set_options(c.a, "zip:hdrcharset=UTF-8") != ARCHIVE_OK)
            rc = arc_fail(&c, "zip format", err);
    } else {
        /* pax: long names and UTF-8 names kept exactly. */
        if (archive_write_set_format_pax_restricted(c.a) != ARCHIVE_OK ||
            (!strcmp(kind, "tar.gz") &&
             archive_write_add_filter_gzip(c.a) != ARCHIVE_OK) ||
            (!strcmp(kind, "tar.xz") &&
             archive_write_add_filter_xz(c.a) != ARCHIVE_OK) ||
            (!strcmp(kind, "tar.bz2") &&
             archive_write_add_filter_bzip2(c.a) != ARCHIVE_OK))
            rc = arc_fail(&c, "tar format", err);
    }
    if (rc != VL_OK)
        goto done;
    fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot create %s", out);
        goto done;
    }
    if (archive_write_open_fd(c.a, fd) != ARCHIVE_OK) {
        rc = arc_fail(&c, "open", err);
        goto done;
    }
    opened = 1;
    if ((rc = arc_header(&c, c.top, 1, 0, NULL, err)) != VL_OK ||
        (rc = vl_tree_walk(dir, 1, arc_entry, &c, err)) != VL_OK)
        goto done;
    opened = 0;
    if (archive_write_close(c.a) != ARCHIVE_OK) {
        rc = arc_fail(&c, "close", err);
        goto done;
    }
    if (fsync(fd) != 0) {
        rc = vl_error_sys(err, "cannot write %s", out);
        goto done;
    }
done:
    if (opened)
        archive_write_close(c.a);
    if (c.a)
        archive_write_free(c.a);
    if (fd >= 0 && close(fd) != 0 && rc == VL_OK)
        rc = vl_error_sys(err, "cannot write %s", out);
    free(c.buf);
    free((char *)c.top);
    if (utf8) {
        uselocale(prev);
        freelocale(utf8);
    }
    return rc;
}
