/* Make a BagIt 1.0 bag (RFC 8493) from a folder: `vellum bag create SRC
 * DEST`.  The bag is built under a temporary name beside DEST
 * (DEST.vellum-bag-PID), every file copied and hashed in one read on every
 * core and fsynced, then checked with vellum's own bag checker, flushed
 * (syncfs) and renamed to DEST, which is never written over.  A failure
 * removes the temporary folder; a kill leaves it for the user to remove.
 *
 * The bag: data/ (SRC's files; empty folders are not kept, as manifests
 * list files only, with a warning), bagit.txt (BagIt-Version: 1.0, UTF-8),
 * a payload manifest and a tag manifest per algorithm (sha512 unless
 * others are asked for: RFC 8493 2.4 recommends it), and bag-info.txt:
 * the elements a Dublin Core record maps to (as the bagit export maps them:
 * title Title, creator Creator, publisher Source-Organization, description
 * External-Description, identifier External-Identifier), then the
 * elements given, then Bagging-Date (today, unless given), Bag-Software-
 * Agent and Payload-Oxum. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest_internal.h"
#include "vl_metadata.h"

#define MAX_ALGS 16

/* Files are copied and hashed a batch at a time; what is known of every
 * file (its size, then its digests) waits in a scratch index, so memory
 * does not grow with the number of files bagged. */
#define BATCH 2048
/* Page cache of that index, KiB. */
#define INDEX_CACHE_KIB 4096

typedef struct src_file {
    char *rel;                      /* under SRC, "/"-separated */
    uint64_t size;
    char (*hex)[VL_DIGEST_HEX_MAX]; /* per algorithm */
} src_file;

typedef struct build {
    const char *src, *tmp;
    const vl_bag_create_options *o;
    char names[MAX_ALGS][VL_DIGEST_NAME_MAX];   /* "sha512" in file names */
    const char *evp[MAX_ALGS];
    char evp_buf[MAX_ALGS][VL_DIGEST_NAME_MAX];
    size_t nalg;
    sqlite3 *db;                    /* files (rel, size, hex), dirs (rel) */
    sqlite3_stmt *add_file, *add_dir;
    size_t n;                       /* files */
    uint64_t bytes;
    src_file batch[BATCH];          /* the files being copied */
    size_t nb;
} build;

static const char INDEX_SCHEMA[] =
    /* hex: every algorithm's digest, in order, separated by spaces */
    "CREATE TABLE files (rel TEXT PRIMARY KEY, size INTEGER NOT NULL, hex TEXT)"
    " WITHOUT ROWID;"
    "CREATE TABLE dirs (rel TEXT PRIMARY KEY) WITHOUT ROWID;"
    "BEGIN;";

static int index_failed(const build *b, int code, vl_error *err)
{
    if (code == SQLITE_NOMEM)
        vl_alloc_failed();
    return vl_error_set(err, VL_ESYS, "cannot list the files of %s: out of memory "
                        "or temporary space (%s)", b->src,
                        b->db ? sqlite3_errmsg(b->db) : sqlite3_errstr(code));
}

static int index_add(const build *b, sqlite3_stmt *st, const char *rel, int with_size,
                     uint64_t size, vl_error *err)
{
    sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
    if (with_size)
        sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
    int code = sqlite3_step(st);
    sqlite3_reset(st);
    return code == SQLITE_DONE ? VL_OK : index_failed(b, code, err);
}

static void warn(const build *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warn(const build *b, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!b->o->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->o->warn(b->o->arg, msg);
}

static int refuse(const build *b, const char *rel, const char *why,
                  vl_error *err)
{
    char *shown = vl_name_shorten(rel, VL_NAME_SHOWN_MAX);
    int rc = vl_error_set(err, VL_EINPUT, "refusing %s/%s: %s", b->src,
                          shown ? shown : "?", why);
    free(shown);
    return rc;
}

static int collect(void *arg, const char *rel, int kind, const struct stat *st,
                   vl_error *err)
{
    build *b = arg;

    if (!vl_utf8_valid(rel, strlen(rel)))
        return refuse(b, rel, "the name is not UTF-8, which BagIt manifests "
                      "are written in", err);
    switch (kind) {
    case VL_WALK_SYMLINK:
        return refuse(b, rel, "a symbolic link (copy the target in)", err);
    case VL_WALK_OTHER:
        return refuse(b, rel, "not a regular file (device, FIFO or socket)",
                      err);
    case VL_WALK_DIR: {
        char *full = vl_path_join(b->src, rel);
        int empty = full ? vl_fs_dir_empty(full) : -1;
        free(full);
        if (empty == 1) {
            char *shown = vl_name_escape(rel);
            warn(b, "empty folder %s/%s is not kept: BagIt manifests list "
                 "files only", b->src, shown ? shown : "?");
            free(shown);
            return VL_OK;
        }
        return index_add(b, b->add_dir, rel, 0, 0, err);
    }
    default:
        break;
    }
    int rc = index_add(b, b->add_file, rel, 1, (uint64_t)st->st_size, err);
    if (rc == VL_OK) {
        b->n++;
        b->bytes += (uint64_t)st->st_size;
    }
    return rc;
}

/* Copy one file into data/, hashing it on the way, and fsync it. */
static int copy_one(void *ctx, size_t i, int worker, vl_error *err)
{
    build *b = ctx;
    src_file *f = &b->batch[i];
    char *from = vl_path_join(b->src, f->rel);
    char *to = vl_asprintf("%s/data/%s", b->tmp, f->rel);
    vl_digest_set *set = vl_digest_set_new(b->evp, b->nalg);
    uint64_t size = 0;
    int in = -1, out = -1, rc = VL_OK;

    if (!from || !to || !set ||
        !(f->hex = calloc(b->nalg, sizeof *f->hex))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        rc = vl_error_sys(err, "cannot read %s", from);
        goto done;
    }
    if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0) {
        rc = vl_error_sys(err, "cannot create %s", to);
        goto done;
    }
    vl_fd_source src = {in, from};
    rc = vl_digest_pump(vl_fd_read, &src, out, 0, vl_digest_set_observe, set,
                        NULL, &size, err);
    if (rc != VL_OK) {
        rc = vl_error_set(err, rc, "%s: %s", from, err->msg);
        goto done;
    }
    if (size != f->size) {
        rc = vl_error_set(err, VL_EINPUT, "%s changed while it was being "
                          "bagged; try again when it is stable", from);
        goto done;
    }
    if (fsync(out) != 0) {
        rc = vl_error_sys(err, "cannot write %s", to);
        goto done;
    }
    rc = vl_digest_set_final(set, f->hex, err);
done:
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && rc == VL_OK)
        rc = vl_error_sys(err, "cannot write %s", to);
    vl_digest_set_free(set);
    free(from);
    free(to);
    return rc;
}

/* RFC 8493 2.1.3: CR, LF and '%' in a path are percent-encoded. */
static int manifest_line(vl_buf *m, const char *hex, const char *path,
                         vl_error *err)
{
    int rc = vl_buf_printf(m, err, "%s  ", hex);

    for (const char *p = path; rc == VL_OK && *p; p++) {
        if (*p == '%')
            rc = vl_buf_append(m, "%25", 3, err);
        else if (*p == '\n')
            rc = vl_buf_append(m, "%0A", 3, err);
        else if (*p == '\r')
            rc = vl_buf_append(m, "%0D", 3, err);
        else
            rc = vl_buf_append(m, p, 1, err);
    }
    return rc == VL_OK ? vl_buf_append(m, "\n", 1, err) : rc;
}

static int write_tag(const build *b, const char *name, const vl_buf *data,
                     vl_error *err)
{
    char *path = vl_path_join(b->tmp, name);
    int rc;

    if (!path)
        return vl_error_oom(err);
    rc = vl_fs_write_atomic(path, data->data ? data->data : "", data->len,
                            err);
    free(path);
    return rc;
}

/* A label as bag-info.txt takes it (RFC 8493 2.2.2): no ':', no line
 * break or other control character, no whitespace at either end. */
static const char *label_problem(const char *l)
{
    size_t n = strlen(l);

    if (!n)
        return "is empty";
    if (l[0] == ' ' || l[0] == '\t' || l[n - 1] == ' ' || l[n - 1] == '\t')
        return "starts or ends with whitespace";
    for (const char *p = l; *p; p++) {
        if (*p == ':')
            return "has a ':'";
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            return "has a control character";
    }
    return vl_utf8_valid(l, n) ? NULL : "is not UTF-8";
}

/* "Label: value", a value of several lines continued on indented lines
 * (blank lines dropped: a blank line would end the element). */
static int info_line(vl_buf *b, const char *label, const char *value,
                     vl_error *err)
{
    int rc = vl_buf_printf(b, err, "%s:", label), first = 1;
    const char *p = value;

    while (rc == VL_OK && *p) {
        size_t n = strcspn(p, "\r\n"), s = 0;
        while (s < n && (p[s] == ' ' || p[s] == '\t'))
            s++;
        if (n > s) {
            rc = vl_buf_printf(b, err, "%s%.*s", first ? " " : "\n  ",
                               (int)(n - s), p + s);
            first = 0;
        }
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    return rc == VL_OK ? vl_buf_append(b, "\n", 1, err) : rc;
}

static int value_ok(const char *label, const char *v, vl_error *err)
{
    if (!vl_utf8_valid(v, strlen(v)))
        return vl_error_set(err, VL_EINPUT, "bag-info value of %s is not "
                            "UTF-8", label);
    for (const char *p = v; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\r' &&
             *p != '\t') || *p == 0x7F)
            return vl_error_set(err, VL_EINPUT, "bag-info value of %s has a "
                                "control character", label);
    return VL_OK;
}

static int bag_info(const build *b, uint64_t bytes, vl_buf *out, vl_error *err)
{
    static const char *const map[][2] = {
        {"title", "Title"}, {"creator", "Creator"},
        {"publisher", "Source-Organization"},
        {"description", "External-Description"},
        {"identifier", "External-Identifier"},
    };
    const vl_bag_create_options *o = b->o;
    vl_descriptive *desc = NULL;
    const char *date = NULL;
    char now[32];
    int rc = VL_OK;

    if (o->dc_path) {
        const vl_dc *dc;
        if (!(desc = vl_descriptive_new()))
            return vl_error_oom(err);
        if ((rc = vl_descriptive_load(desc, o->dc_path, err)) != VL_OK)
            goto done;
        dc = vl_descriptive_deposit_dc(desc);
        for (size_t k = 0; k < sizeof map / sizeof map[0] && rc == VL_OK; k++)
            for (size_t i = 0; dc && i < vl_dc_count(dc) && rc == VL_OK; i++) {
                const char *el, *val;
                vl_dc_entry(dc, i, &el, &val);
                if (!strcmp(el, map[k][0]))
                    rc = info_line(out, map[k][1], val, err);
            }
    }
    for (size_t i = 0; i < o->ninfo && rc == VL_OK; i++) {
        if (!strcasecmp(o->info_labels[i], "Bagging-Date")) {
            date = o->info_values[i];
            continue;
        }
        rc = info_line(out, o->info_labels[i], o->info_values[i], err);
    }
    if (rc != VL_OK)
        goto done;
    if (!date) {
        vl_time_rfc3339(vl_time_now(), now);
        now[10] = '\0';   /* YYYY-MM-DD */
        date = now;
    }
    rc = vl_buf_printf(out, err, "Bagging-Date: %s\nBag-Software-Agent: "
                       "vellum %s\nPayload-Oxum: %llu.%zu\n", date, VL_VERSION,
                       (unsigned long long)bytes, b->n);
done:
    vl_descriptive_free(desc);
    return rc;
}

/* Every option checked before anything is written. */
static int check_options(build *b, vl_error *err)
{
    const vl_bag_create_options *o = b->o;
    static const char *const dflt[] = {"sha512"};
    const char *const *algs = o->nalgorithms ? o->algorithms : dflt;
    size_t nalg = o->nalgorithms ? o->nalgorithms : 1;

    if (nalg > MAX_ALGS)
        return vl_error_set(err, VL_EINPUT, "at most %d algorithms",
                            MAX_ALGS);
    for (size_t i = 0; i < nalg; i++) {
        size_t hex_len, n = 0;
        int known;
        char *esc;
        if (vl_digest_lookup(algs[i], b->evp_buf[i], &hex_len, &known) != 0) {
            esc = vl_name_escape(algs[i]);
            int rc = vl_error_set(err, VL_EINPUT, "algorithm \"%s\" is not a "
                                  "fixed-length digest OpenSSL provides (md5, "
                                  "sha1, sha224, sha256, sha384, sha512, "
                                  "sha3-256, blake2b512...)", esc ? esc : "?");
            free(esc);
            return rc;
        }
        /* The file name's form: lower case, alphanumerics only (2.4). */
        for (const char *p = algs[i]; *p && n + 1 < VL_DIGEST_NAME_MAX; p++) {
            char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                b->names[i][n++] = c;
        }
        b->names[i][n] = '\0';
        for (size_t j = 0; j < i; j++)
            if (!strcmp(b->evp_buf[j], b->evp_buf[i]))
                return vl_error_set(err, VL_EINPUT, "algorithm %s given "
                                    "twice (as %s and %s)", b->evp_buf[i],
                                    algs[j], algs[i]);
        b->evp[i] = b->evp_buf[i];
    }
    b->nalg = nalg;
    for (size_t i = 0; i < o->ninfo; i++) {
        const char *why = label_problem(o->info_labels[i]);
        int rc;
        if (why) {
            char *esc = vl_name_escape(o->info_labels[i]);
            rc = vl_error_set(err, VL_EINPUT, "bag-info label \"%s\" %s",
                              esc ? esc : "?", why);
            free(esc);
            return rc;
        }
        if (!strcasecmp(o->info_labels[i], "Payload-Oxum"))
            return vl_error_set(err, VL_EINPUT, "Payload-Oxum is computed "
                                "from the payload; it cannot be given");
        if ((rc = value_ok(o->info_labels[i], o->info_values[i], err)) !=
            VL_OK)
            return rc;
        if (!strcasecmp(o->info_labels[i], "Bagging-Date")) {
            const char *d = o->info_values[i];
            int64_t t;
            if (strlen(d) != 10 || vl_time_parse(d, &t) != 0)
                return vl_error_set(err, VL_EINPUT, "Bagging-Date must be "
                                    "YYYY-MM-DD (RFC 8493 section 2.2.2)");
        }
    }
    return VL_OK;
}

/* Folders under data/ that hold files (in path order: parents first). */
static int make_dirs(build *b, const char *data, vl_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = VL_OK, code = sqlite3_prepare_v2(b->db, "SELECT rel FROM dirs ORDER BY rel",
                                              -1, &st, NULL);
    while (code == SQLITE_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rel = (const char *)sqlite3_column_text(st, 0);
        char *d = rel ? vl_path_join(data, rel) : NULL;
        rc = d ? vl_fs_mkdirs(d, err) : vl_error_oom(err);
        free(d);
        if (rc != VL_OK)
            break;
        code = SQLITE_OK;
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = index_failed(b, code, err);
    sqlite3_finalize(st);
    return rc;
}

static void batch_clear(build *b)
{
    for (size_t i = 0; i < b->nb; i++) {
        free(b->batch[i].rel);
        free(b->batch[i].hex);
    }
    memset(b->batch, 0, b->nb * sizeof *b->batch);
    b->nb = 0;
}

/* The batch's digests into the index, every algorithm's in one column. */
static int batch_record(build *b, vl_error *err)
{
    sqlite3_stmt *st = NULL;
    vl_buf hex;
    int rc = VL_OK, code = sqlite3_prepare_v2(b->db, "UPDATE files SET hex = ?2"
                                              " WHERE rel = ?1", -1, &st, NULL);
    vl_buf_init(&hex, 0);
    if (code != SQLITE_OK)
        rc = index_failed(b, code, err);
    for (size_t i = 0; i < b->nb && rc == VL_OK; i++) {
        vl_buf_reset(&hex);
        for (size_t a = 0; a < b->nalg && rc == VL_OK; a++)
            rc = vl_buf_printf(&hex, err, "%s%s", a ? " " : "", b->batch[i].hex[a]);
        if (rc != VL_OK)
            break;
        sqlite3_bind_text(st, 1, b->batch[i].rel, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hex.data, (int)hex.len, SQLITE_STATIC);
        code = sqlite3_step(st);
        sqlite3_reset(st);
        if (code != SQLITE_DONE)
            rc = index_failed(b, code, err);
    }
    vl_buf_release(&hex);
    sqlite3_finalize(st);
    return rc;
}

/* Every file copied and hashed, BATCH at a time on every core. */
static int copy_all(build *b, vl_error *err)
{
    sqlite3_stmt *st = NULL;
    char *last = NULL;
    int rc = VL_OK, code = sqlite3_prepare_v2(b->db, "SELECT rel, size FROM files"
                                              " WHERE rel > ?1"
                                              " ORDER BY rel LIMIT ?2",
                                              -1, &st, NULL);
    if (code != SQLITE_OK)
        return index_failed(b, code, err);
    for (;;) {
        /* keyset paging on the primary key ("" sorts before every name) */
        sqlite3_bind_text(st, 1, last ? last : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, BATCH);
        while ((code = sqlite3_step(st)) == SQLITE_ROW) {
            const char *rel = (const char *)sqlite3_column_text(st, 0);
            src_file *f = &b->batch[b->nb];
            if (!rel || !(f->rel = vl_strdup(rel))) {
                code = SQLITE_NOMEM;
                break;
            }
            f->size = (uint64_t)sqlite3_column_int64(st, 1);
            b->nb++;
        }
        sqlite3_reset(st);
        if (code != SQLITE_DONE) {
            rc = index_failed(b, code, err);
            break;
        }
        if (b->nb == 0)
            break;
        free(last);
        if (!(last = vl_strdup(b->batch[b->nb - 1].rel))) {
            rc = vl_error_oom(err);
            break;
        }
        if ((rc = vl_pool_run(b->nb, b->o->nthreads, copy_one, b, err)) != VL_OK ||
            (rc = batch_record(b, err)) != VL_OK)
            break;
        batch_clear(b);
    }
    batch_clear(b);
    free(last);
    sqlite3_finalize(st);
    return rc;
}

/* manifest-ALG.txt, written a line at a time from the index (the whole
 * bag folder is flushed before it is renamed into place). */
static int write_manifest(build *b, size_t a, const char *name, vl_error *err)
{
    sqlite3_stmt *st = NULL;
    vl_buf line;
    char *path = vl_path_join(b->tmp, name);
    FILE *out = NULL;
    int rc = VL_OK, code;
    vl_buf_init(&line, 0);
    if (!path) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!(out = fopen(path, "wbx"))) {
        rc = vl_error_sys(err, "cannot create %s", path);
        goto done;
    }
    code = sqlite3_prepare_v2(b->db, "SELECT rel, hex FROM files ORDER BY rel", -1,
                              &st, NULL);
    while (code == SQLITE_OK && (code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rel = (const char *)sqlite3_column_text(st, 0);
        const char *hex = (const char *)sqlite3_column_text(st, 1);
        char *file = rel ? vl_path_join("data", rel) : NULL;
        /* the a-th of the space-separated digests */
        for (size_t k = 0; hex && k < a; k++)
            hex = (hex = strchr(hex, ' ')) ? hex + 1 : NULL;
        size_t hlen = hex ? strcspn(hex, " ") : 0;
        char one[VL_DIGEST_HEX_MAX];
        if (!file || !hex || hlen == 0 || hlen >= sizeof one) {
            free(file);
            rc = file ? vl_error_set(err, VL_ESYS, "internal: no %s digest of %s",
                                     b->names[a], rel)
                      : vl_error_oom(err);
            break;
        }
        memcpy(one, hex, hlen);
        one[hlen] = '\0';
        vl_buf_reset(&line);
        rc = manifest_line(&line, one, file, err);
        free(file);
        if (rc != VL_OK)
            break;
        if (fwrite(line.data, 1, line.len, out) != line.len) {
            rc = vl_error_sys(err, "cannot write %s", path);
            break;
        }
        code = SQLITE_OK;
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = index_failed(b, code, err);
    if (rc == VL_OK && (fflush(out) != 0 || fsync(fileno(out)) != 0))
        rc = vl_error_sys(err, "cannot write %s", path);
done:
    if (out && fclose(out) != 0 && rc == VL_OK)
        rc = vl_error_sys(err, "cannot write %s", path);
    sqlite3_finalize(st);
    vl_buf_release(&line);
    free(path);
    return rc;
}

static void written_problem(void *arg, const char *msg)
{
    vl_error *first = arg;
    if (!first->msg[0])
        vl_error_set(first, VL_ESYS, "%s", msg);
}

/* DEST inside SRC would be walked while it is written. */
static int inside(const char *src, const char *dest)
{
    char *rs = realpath(src, NULL), *parent = vl_path_dirname(dest);
    char *rp = parent ? realpath(parent, NULL) : NULL;
    size_t n = rs ? strlen(rs) : 0;
    int yes = rs && rp && !strncmp(rp, rs, n) && (rp[n] == '/' || !rp[n]);

    free(rs);
    free(rp);
    free(parent);
    return yes;
}

int vl_bag_create(const char *src, const char *dest,
                  const vl_bag_create_options *o, vl_bag_create_result *res,
                  vl_error *err)
{
    build b;
    struct stat st;
    char *tmp = NULL, *data = NULL, *parent = NULL;
    vl_buf buf;
    uint64_t bytes = 0;
    int rc = VL_OK, made = 0;

    memset(&b, 0, sizeof b);
    memset(res, 0, sizeof *res);
    vl_buf_init(&buf, 0);
    b.src = src;
    b.o = o;
    if ((rc = check_options(&b, err)) != VL_OK)
        goto done;
    if (stat(src, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = vl_error_set(err, VL_EINPUT, "%s is not a folder", src);
        goto done;
    }
    if (vl_fs_exists(dest)) {
        rc = vl_error_set(err, VL_EINPUT, "%s already exists; give a new "
                          "name", dest);
        goto done;
    }
    if (!(parent = vl_path_dirname(dest))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!vl_fs_is_dir(parent)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: no such folder to create the "
                          "bag in", parent);
        goto done;
    }
    if (inside(src, dest)) {
        rc = vl_error_set(err, VL_EINPUT, "%s is inside %s, the folder being "
                          "bagged", dest, src);
        goto done;
    }
    /* Read and check every name before anything is written. */
    int code = vl_scratch_db_open(&b.db, INDEX_CACHE_KIB, INDEX_SCHEMA);
    if (code == SQLITE_OK)
        code = sqlite3_prepare_v2(b.db, "INSERT INTO files (rel, size) VALUES (?1, ?2)",
                                  -1, &b.add_file, NULL);
    if (code == SQLITE_OK)
        code = sqlite3_prepare_v2(b.db, "INSERT OR IGNORE INTO dirs VALUES (?1)", -1,
                                  &b.add_dir, NULL);
    if (code != SQLITE_OK) {
        rc = index_failed(&b, code, err);
        goto done;
    }
    if ((rc = vl_tree_walk(src, 1, collect, &b, err)) != VL_OK)
        goto done;
    if (!(tmp = vl_asprintf("%s.vellum-bag-%ld", dest, (long)getpid())) ||
        !(data = vl_path_join(tmp, "data"))) {
        rc = vl_error_oom(err);
        goto done;
    }
    vl_fs_rmtree(tmp, NULL);   /* a previous run's, with this pid */
    if ((rc = vl_fs_mkdirs(data, err)) != VL_OK)
        goto done;
    made = 1;
    b.tmp = tmp;
    if ((rc = make_dirs(&b, data, err)) != VL_OK ||
        (rc = copy_all(&b, err)) != VL_OK)
        goto done;
    bytes = b.bytes;
    /* Payload manifests, bagit.txt, bag-info.txt, then the tag manifests
     * over those. */
    for (size_t a = 0; a < b.nalg && rc == VL_OK; a++) {
        char name[VL_DIGEST_NAME_MAX + 16];
        snprintf(name, sizeof name, "manifest-%s.txt", b.names[a]);
        rc = write_manifest(&b, a, name, err);
    }
    vl_buf_reset(&buf);
    if (rc != VL_OK ||
        (rc = vl_buf_printf(&buf, err, "BagIt-Version: 1.0\n"
                            "Tag-File-Character-Encoding: UTF-8\n")) != VL_OK ||
        (rc = write_tag(&b, "bagit.txt", &buf, err)) != VL_OK)
        goto done;
    vl_buf_reset(&buf);
    if ((rc = bag_info(&b, bytes, &buf, err)) != VL_OK ||
        (rc = write_tag(&b, "bag-info.txt", &buf, err)) != VL_OK)
        goto done;
    for (size_t a = 0; a < b.nalg && rc == VL_OK; a++) {
        char name[VL_DIGEST_NAME_MAX + 16];
        const char *tags[MAX_ALGS + 2];
        size_t nt = 0;
        char mnames[MAX_ALGS][VL_DIGEST_NAME_MAX + 16];
        tags[nt++] = "bag-info.txt";
        tags[nt++] = "bagit.txt";
        for (size_t k = 0; k < b.nalg; k++) {
            snprintf(mnames[k], sizeof mnames[k], "manifest-%s.txt",
                     b.names[k]);
            tags[nt++] = mnames[k];
        }
        vl_buf_reset(&buf);
        for (size_t t = 0; t < nt && rc == VL_OK; t++) {
            char hex[1][VL_DIGEST_HEX_MAX];
            char *path = vl_path_join(tmp, tags[t]);
            rc = path ? vl_digest_file_named(path, &b.evp[a], 1, hex, NULL,
                                             err)
                      : vl_error_oom(err);
            if (rc == VL_OK)
                rc = manifest_line(&buf, hex[0], tags[t], err);
            free(path);
        }
        snprintf(name, sizeof name, "tagmanifest-%s.txt", b.names[a]);
        if (rc == VL_OK)
            rc = write_tag(&b, name, &buf, err);
    }
    if (rc != VL_OK)
        goto done;
    /* vellum's own checker reads the bag back before it gets its name. */
    {
        vl_bag_check_options co = {0};
        vl_bag_check_result cr;
        vl_error first = {0};
        co.nthreads = o->nthreads;
        co.problem = written_problem;
        co.arg = &first;
        rc = vl_bag_check_path(tmp, &co, &cr, err);
        if (rc != VL_OK && rc != VL_ESYS) {
            rc = vl_error_set(err, VL_ESYS, "the bag written in %s does not "
                              "validate (%s%s%s); nothing was put at %s", tmp,
                              err->msg, first.msg[0] ? ": " : "", first.msg,
                              dest);
            goto done;
        }
        if (rc != VL_OK)
            goto done;
    }
    if ((rc = vl_fs_syncfs(tmp, err)) != VL_OK ||
        (rc = vl_fs_rename_new(tmp, dest, err)) != VL_OK)
        goto done;
    made = 0;
    rc = vl_fs_fsync_parent(dest, err);
    res->files = b.n;
    res->bytes = bytes;
done:
    if (made)
        vl_fs_rmtree(tmp, NULL);
    batch_clear(&b);
    sqlite3_finalize(b.add_file);
    sqlite3_finalize(b.add_dir);
    sqlite3_close(b.db);
    vl_buf_release(&buf);
    free(tmp);
    free(data);
    free(parent);
    return rc;
}
