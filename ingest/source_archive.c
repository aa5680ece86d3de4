/* Archive sources, read with libarchive and streamed: each entry goes
 * straight into staging while it is hashed and identified, never extracted
 * anywhere else first.  Hostile entries are refused by name before their
 * bytes are written; a refusal aborts the whole deposit (staging is dropped,
 * nothing reaches the store). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identify_private.h"
#include "ingest_internal.h"

#define MAX_NESTING 8
#define BOMB_RATIO 1000
#define BOMB_MIN_BYTES (1u << 20)   /* judge the ratio only past 1 MiB */

const char *vl_archive_library_version(void) { return archive_version_string(); }

static struct archive *reader_new(void)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    return a;
}

int vl_archive_detect(const char *path)
{
    struct archive *a = reader_new();
    struct archive_entry *e;
    int yes = 0;
    if (!a)
        return 0;
    if (archive_read_open_filename(a, path, 65536) == ARCHIVE_OK) {
        int r = archive_read_next_header(a, &e);
        yes = (r == ARCHIVE_OK || r == ARCHIVE_WARN || r == ARCHIVE_EOF) &&
              archive_format(a) != ARCHIVE_FORMAT_EMPTY &&
              archive_format(a) != ARCHIVE_FORMAT_RAW;
    }
    archive_read_free(a);
    return yes;
}

/* MIME types of containers we unpack; documents that happen to be ZIP files
 * (DOCX, ODF, EPUB, JAR) are kept whole. */
static int is_archive_mime(const char *mime)
{
    static const char *const types[] = {
        "application/zip", "application/x-tar", "application/gzip",
        "application/x-gzip", "application/x-bzip2", "application/x-xz",
        "application/zstd", "application/x-zstd", "application/x-7z-compressed",
        "application/x-iso9660-image", "application/x-cpio", "application/x-lzma",
        "application/x-rar", "application/vnd.rar", NULL};
    for (int i = 0; mime && types[i]; i++)
        if (!strcmp(mime, types[i]))
            return 1;
    return 0;
}

int vl_archive_is_container_file(const char *path)
{
    vl_identifier *idf = NULL;
    vl_format fmt;
    unsigned char *buf = NULL;
    int yes = 0, fd = -1;
    size_t cap = vl_identify_prefix_bytes();
    if (!vl_archive_detect(path))
        return 0;
    if (!(buf = malloc(cap)) || vl_identifier_open(NULL, &idf, NULL) != VL_OK)
        goto done;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto done;
    ssize_t n = read(fd, buf, cap);
    if (n > 0 && vl_identify_buffer(idf, buf, (size_t)n, (uint64_t)n,
                                    vl_path_basename(path), &fmt, NULL) == VL_OK)
        yes = is_archive_mime(fmt.mime);
done:
    if (fd >= 0)
        close(fd);
    vl_identifier_close(idf);
    free(buf);
    return yes;
}

struct entry_read {
    struct archive *a;
    const char *name;
};

static ssize_t archive_pull(void *arg, void *buf, size_t cap, vl_error *err)
{
    struct entry_read *er = arg;
    la_ssize_t n = archive_read_data(er->a, buf, cap);
    if (n < 0) {
        char *shown = vl_name_shorten(er->name, VL_NAME_SHOWN_MAX);
        vl_error_set(err, VL_EINPUT, "corrupt or truncated archive at entry %s: %s",
                     shown ? shown : "?", archive_error_string(er->a));
        free(shown);
        return -1;
    }
    return (ssize_t)n;
}

/* Watches an entry's bytes as they pass: keeps the prefix for identification
 * and stops decompression bombs early. */
struct watch {
    vl_prefix *prefix;
    struct archive *a;
    const char *name;
    uint64_t out;           /* bytes of this entry so far */
    int64_t raw_start;      /* compressed bytes consumed when the entry began */
    uint64_t total_before;  /* deposit bytes before this entry */
    vl_ingest_run *run;     /* for its limit */
};

static int watch_chunk(void *arg, const void *data, size_t len, vl_error *err)
{
    struct watch *w = arg;
    w->out += len;
    if (w->prefix)
        vl_prefix_observe(w->prefix, data, len, err);
    if (w->total_before + w->out > w->run->limit) {
        char *shown = vl_name_shorten(w->name, VL_NAME_SHOWN_MAX);
        int rc = vl_run_refuse_size(w->run, w->total_before + w->out, err,
                                    "refusing the archive at entry %s (a "
                                    "decompression bomb?): the deposit passes",
                                    shown ? shown : "?");
        free(shown);
        return rc;
    }
    if (w->out >= BOMB_MIN_BYTES) {
        int64_t raw = archive_filter_bytes(w->a, -1) - w->raw_start;
        if (raw < 1)
            raw = 1;
        if (w->out / (uint64_t)raw > BOMB_RATIO) {
            char *shown = vl_name_shorten(w->name, VL_NAME_SHOWN_MAX);
            int rc = vl_error_set(err, VL_EINPUT, "refusing entry %s: it expands more "
                                  "than %d:1 (a decompression bomb?)", shown ? shown : "?",
                                  BOMB_RATIO);
            free(shown);
            return rc;
        }
    }
    return VL_OK;
}

static int refuse_entry(vl_error *err, const char *archive_path, const char *name,
                        const char *why)
{
    char *shown = vl_name_shorten(name ? name : "", VL_NAME_SHOWN_MAX);
    char *arc = vl_name_shorten(archive_path, VL_NAME_SHOWN_MAX);
    int rc = vl_error_set(err, VL_EINPUT, "refusing %s: entry %s: %s",
                          arc ? arc : "?", shown ? shown : "?", why);
    free(shown);
    free(arc);
    return rc;
}

/* Entry names: strip "./" prefixes and a trailing '/', refuse absolute paths,
 * ".." and what OCFL cannot name. */
static int clean_name(const char *archive_path, const char *raw, char **out,
                      vl_error *err)
{
    vl_error why = {0};
    if (!raw)
        return refuse_entry(err, archive_path, "(no name)", "an entry without a name");
    if (raw[0] == '/')
        return refuse_entry(err, archive_path, raw, "absolute path");
    while (raw[0] == '.' && raw[1] == '/')
        raw += 2;
    if (!strcmp(raw, "."))
        raw = "";   /* the archive's own top folder (ISO images list it) */
    char *n = vl_strdup(raw);
    if (!n)
        return vl_error_oom(err);
    size_t len = strlen(n);
    while (len > 0 && n[len - 1] == '/')
        n[--len] = '\0';
    for (char *seg = n; seg && *seg;) {
        char *slash = strchr(seg, '/');
        size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            free(n);
            return refuse_entry(err, archive_path, raw, "path with \"..\" (path traversal)");
        }
        seg = slash ? slash + 1 : NULL;
    }
    if (*n && vl_logical_path_check(n, &why) != VL_OK) {
        int rc = refuse_entry(err, archive_path, raw, why.msg);
        free(n);
        return rc;
    }
    *out = n;
    return VL_OK;
}

static int ingest_archive(vl_ingest_run *run, const char *path, const char *prefix,
                          int depth, json_t *seen, vl_error *err);

/* Stage one regular entry's bytes to scratch and record it. */
static int stage_entry(vl_ingest_run *run, struct archive *a, const char *path,
                       const char *name, const char *prefix, int depth, json_t *seen,
                       vl_prefix *pre, vl_identifier *idf, int64_t mtime_ns,
                       vl_error *err)
{
    static unsigned long counter;
    char *staged = NULL, *logical = NULL;
    int fd = -1, rc;
    vl_digest_result res;
    vl_format fmt, *fmtp = NULL;
    uint64_t size = 0;
    logical = *prefix ? vl_asprintf("%s/%s", prefix, name) : vl_strdup(name);
    staged = vl_asprintf("%s/a%lu", vl_txn_scratch_dir(run->txn), ++counter);
    if (!logical || !staged) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (json_object_get(seen, logical)) {
        rc = refuse_entry(err, path, name, "the same name appears twice");
        goto done;
    }
    json_object_set_new(seen, logical, json_true());
    fd = open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot create %s", staged);
        goto done;
    }
    struct entry_read er = {a, name};
    struct watch w = {run->o->no_identify ? NULL : pre, a, name, 0,
                      archive_filter_bytes(a, -1), run->dep.bytes, run};
    if (pre)
        pre->len = 0;
    if ((rc = vl_digest_pump(archive_pull, &er, fd, run->mask, watch_chunk, &w, &res,
                             &size, err)) != VL_OK)
        goto done;
    if (close(fd) != 0) {
        fd = -1;
        rc = vl_error_sys(err, "cannot write %s", staged);
        goto done;
    }
    fd = -1;
    if (!run->o->no_identify) {
        if ((rc = vl_identify_path(idf, pre->buf, pre->len, size,
                                   vl_path_basename(name), staged, &fmt, err)) != VL_OK)
            goto done;
        fmtp = &fmt;
    }
    if ((rc = vl_deposit_add(&run->dep, logical, staged, name, size, &res, fmtp, 1,
                             mtime_ns, 0, err)) != VL_OK)
        goto done;
    vl_run_progress(run, 1, size, 0);
    if (run->o->expand_nested && fmtp && is_archive_mime(fmt.mime) &&
        vl_archive_detect(staged)) {
        if (depth >= MAX_NESTING) {
            rc = refuse_entry(err, path, name, "archives nested too deep");
            goto done;
        }
        char *inner = vl_asprintf("%s.unpacked", logical);
        if (!inner) {
            rc = vl_error_oom(err);
            goto done;
        }
        rc = ingest_archive(run, staged, inner, depth + 1, seen, err);
        free(inner);
    }
done:
    if (fd >= 0)
        close(fd);
    free(staged);
    free(logical);
    return rc;
}

static int ingest_archive(vl_ingest_run *run, const char *path, const char *prefix,
                          int depth, json_t *seen, vl_error *err)
{
    struct archive *a = reader_new();
    struct archive_entry *e;
    vl_prefix pre = {0};
    vl_identifier *idf = NULL;
    int rc = VL_OK, r;
    char *name = NULL;
    if (!a)
        return vl_error_oom(err);
    pre.cap = vl_identify_prefix_bytes();
    if (!(pre.buf = malloc(pre.cap))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!run->o->no_identify && (rc = vl_identifier_open(run->sigs, &idf, err)) != VL_OK)
        goto done;
    if (archive_read_open_filename(a, path, 1 << 20) != ARCHIVE_OK) {
        rc = vl_error_set(err, VL_EINPUT, "cannot read archive %s: %s", path,
                          archive_error_string(a));
        goto done;
    }
    run->archives++;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        free(name);
        name = NULL;
        /* The UTF-8 name when the archive says what its names are (zip's
         * UTF-8 flag, pax); else the bytes as stored, which the name check
         * then judges (and refuses when they are not UTF-8). */
        const char *raw = archive_entry_pathname_utf8(e);
        if (!raw)
            raw = archive_entry_pathname(e);
        if ((rc = clean_name(path, raw, &name, err)) != VL_OK)
            goto done;
        if (archive_entry_is_encrypted(e)) {
            rc = refuse_entry(err, path, raw, "encrypted (vellum cannot check what "
                              "it cannot read)");
            goto done;
        }
        int type = archive_entry_filetype(e);
        if (type == AE_IFDIR)
            continue;
        /* A hard link is a link entry (tar), or any name of a file with
         * several (cpio, ISO): cpio's first names carry no bytes, so keeping
         * one would store an empty file.  The same rule as for folders. */
        if (type == AE_IFLNK || archive_entry_hardlink(e) ||
            (type == AE_IFREG && archive_entry_nlink(e) > 1)) {
            if (run->o->symlinks_skip) {
                char *shown = vl_name_shorten(raw, VL_NAME_SHOWN_MAX);
                vl_run_warn(run, "%s: %s %s left out (--symlinks skip)", path,
                            type == AE_IFLNK ? "symbolic link" : "hard link",
                            shown ? shown : "?");
                free(shown);
                continue;
            }
            rc = refuse_entry(err, path, raw, type == AE_IFLNK
                              ? "a symbolic link (give --symlinks skip to leave it out)"
                              : "a hard link (give --symlinks skip to leave it out)");
            goto done;
        }
        if (type != AE_IFREG) {
            rc = refuse_entry(err, path, raw, "a device, FIFO or socket, not a file");
            goto done;
        }
        if (!*name) {
            rc = refuse_entry(err, path, raw, "an entry without a name");
            goto done;
        }
        if (archive_entry_size_is_set(e) &&
            run->dep.bytes + (uint64_t)archive_entry_size(e) > run->limit) {
            char *shown = vl_name_escape(raw ? raw : "");
            rc = vl_run_refuse_size(run, run->dep.bytes + (uint64_t)archive_entry_size(e),
                                    err, "refusing %s: entry %s would take the "
                                    "deposit to", path, shown ? shown : "?");
            free(shown);
            goto done;
        }
        /* The entry's modification time, kept to be given back by get. */
        int64_t mtime_ns = archive_entry_mtime_is_set(e)
            ? (int64_t)archive_entry_mtime(e) * 1000000000 +
                  archive_entry_mtime_nsec(e)
            : VL_MTIME_UNKNOWN;
        if ((rc = stage_entry(run, a, path, name, prefix, depth, seen, &pre, idf,
                              mtime_ns, err)) != VL_OK)
            goto done;
    }
    if (r != ARCHIVE_EOF)
        rc = vl_error_set(err, VL_EINPUT, "corrupt or truncated archive %s: %s", path,
                          archive_error_string(a));
done:
    free(name);
    free(pre.buf);
    vl_identifier_close(idf);
    archive_read_free(a);
    return rc;
}

int vl_archive_ingest(vl_ingest_run *run, const char *path, vl_error *err)
{
    json_t *seen = json_object();
    if (!seen)
        return vl_error_oom(err);
    int rc = ingest_archive(run, path, "", 0, seen, err);
    json_decref(seen);
    return rc;
}
