/* Check a BagIt bag without depositing it: a bag in a folder, or in an
 * archive libarchive reads (the bag at its top or in its one top folder),
 * with the validator ingest uses.  `vellum bag validate` runs it, and an
 * export checks the bag it wrote with it.
 *
 * Tag files (everything outside data/) are given to the validator by path
 * (a folder) or streamed to it (an archive entry, within the caps
 * vl_bag_add_tag_stream applies), never held whole; the payload list of a
 * folder is a scratch index; payload files are hashed with exactly the
 * algorithms the bag's manifests name, each byte read once (a folder on
 * every core; an archive as it streams).  An archive is read three times:
 * names (where the bag's top folder is), tag files (which algorithms the
 * payload needs; manifests may come after the payload), then the payload.
 * --fast reads no payload bytes: sizes against Payload-Oxum only.
 *
 * What is the bag's fault is a finding (VL_FINDING); what keeps vellum from
 * judging it (no such path, not a folder or archive, a link or device in
 * the bag, an archive entry that climbs out, a tag file past vellum's caps,
 * an algorithm or encoding vellum cannot read) is VL_EINPUT. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "bagit_private.h"
#include "ingest_internal.h"
#include "vl_storage.h"

#define TAG_FILE_MAX ((size_t)256 << 20)

typedef struct check {
    const char *path;                 /* as given, for messages */
    const vl_bag_check_options *o;
    vl_bag_check_result *res;
    vl_bag *bag;
    /* folder: payload paths ("data/...") and sizes, rows 1..n of a scratch
     * index (its memory does not grow with the file count) */
    sqlite3 *db;
    sqlite3_stmt *put, *get;
    size_t n;
    unsigned mask;
    const char *extra[32];
    size_t nextra;
    pthread_mutex_t mu;               /* the bag, from the workers */
} check;

static void count_problem(void *arg, const char *msg)
{
    check *c = arg;
    c->res->problems++;
    if (c->o->problem)
        c->o->problem(c->o->arg, msg);
}

static void count_warning(void *arg, const char *msg)
{
    check *c = arg;
    c->res->warnings++;
    if (c->o->warn)
        c->o->warn(c->o->arg, msg);
}


/* Hash one payload stream with the bag's algorithms and record it. */
static int hash_record(check *c, const char *rel, vl_read_fn rd, void *rd_arg,
                       vl_error *err)
{
    char (*hex)[VL_DIGEST_HEX_MAX] = NULL;
    const char *extra[32];
    vl_digest_set *set = NULL;
    vl_digest_result d;
    uint64_t size = 0;
    size_t i;
    int rc;

    if (c->nextra) {
        if (!(hex = calloc(c->nextra, sizeof *hex)) ||
            !(set = vl_digest_set_new(c->extra, c->nextra))) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    rc = vl_digest_pump(rd, rd_arg, -1, c->mask,
                        set ? vl_digest_set_observe : NULL, set, &d, &size,
                        err);
    if (rc == VL_OK && set)
        rc = vl_digest_set_final(set, hex, err);
    if (rc != VL_OK)
        goto done;
    for (i = 0; i < c->nextra; i++)
        extra[i] = hex[i];
    pthread_mutex_lock(&c->mu);
    rc = vl_bag_payload_seen(c->bag, rel, size, &d, c->nextra ? extra : NULL,
                             err);
    c->res->files++;
    c->res->bytes += size;
    pthread_mutex_unlock(&c->mu);
done:
    vl_digest_set_free(set);
    free(hex);
    return rc;
}

static void take_algorithms(check *c)
{
    c->mask = vl_bag_payload_mask(c->bag);
    c->nextra = vl_bag_payload_extra_count(c->bag);
    for (size_t i = 0; i < c->nextra && i < 32; i++)
        c->extra[i] = vl_bag_payload_extra_name(c->bag, i);
}

/* ---- a bag in a folder ---------------------------------------------------- */

static int refuse_entry(check *c, const char *rel, const char *why,
                        vl_error *err)
{
    char *shown = vl_name_shorten(rel, VL_NAME_SHOWN_MAX);
    int rc = vl_error_set(err, VL_EINPUT, "%s: %s %s (vellum checks regular "
                          "files only)", c->path, shown ? shown : "?", why);
    free(shown);
    return rc;
}

/* The payload list's index failed: memory or temporary space, never the
 * bag's fault. */
static int pay_failed(check *c, vl_error *err)
{
    if (sqlite3_errcode(c->db) == SQLITE_NOMEM)
        return vl_error_oom(err);
    return vl_error_set(err, VL_ESYS, "%s: the payload list's scratch index "
                        "failed: %s", c->path, sqlite3_errmsg(c->db));
}

static int pay_open(check *c, vl_error *err)
{
    if (vl_scratch_db_open(&c->db, 1024, "CREATE TABLE pay(i INTEGER PRIMARY KEY, "
                           "path TEXT NOT NULL, size INTEGER NOT NULL); BEGIN;")
            != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "INSERT INTO pay(path, size) VALUES (?1, ?2)", -1,
                           &c->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "SELECT path, size FROM pay WHERE i = ?1", -1,
                           &c->get, NULL) != SQLITE_OK)
        return c->db ? pay_failed(c, err) : vl_error_oom(err);
    return VL_OK;
}

/* Payload file i (0-based) of the list: its path (malloc'd) and size. */
static int pay_get(check *c, size_t i, char **rel, uint64_t *size, vl_error *err)
{
    int rc = VL_OK;

    *rel = NULL;
    sqlite3_reset(c->get);
    if (sqlite3_bind_int64(c->get, 1, (sqlite3_int64)i + 1) != SQLITE_OK ||
        sqlite3_step(c->get) != SQLITE_ROW)
        rc = pay_failed(c, err);
    else if (!(*rel = vl_strdup((const char *)sqlite3_column_text(c->get, 0))))
        rc = vl_error_oom(err);
    else
        *size = (uint64_t)sqlite3_column_int64(c->get, 1);
    sqlite3_reset(c->get);
    return rc;
}

static int collect(void *arg, const char *rel, int kind, const struct stat *st,
                   vl_error *err)
{
    check *c = arg;
    char *path = NULL;
    int rc = VL_OK;

    if (kind == VL_WALK_SYMLINK)
        return refuse_entry(c, rel, "is a symbolic link", err);
    if (kind != VL_WALK_FILE)
        return refuse_entry(c, rel, "is not a regular file", err);
    if (!strncmp(rel, "data/", 5)) {
        sqlite3_reset(c->put);
        if (sqlite3_bind_text(c->put, 1, rel, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_bind_int64(c->put, 2, (sqlite3_int64)st->st_size) != SQLITE_OK ||
            sqlite3_step(c->put) != SQLITE_DONE)
            return pay_failed(c, err);
        c->n++;
        return VL_OK;
    }
    if (!(path = vl_path_join(c->path, rel))) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* by path: manifests and other tag files are streamed, not held */
    if ((rc = vl_bag_add_tag_path(c->bag, rel, path, err)) != VL_OK)
        rc = vl_error_set(err, rc, "%s: %s", c->path, err->msg);
done:
    free(path);
    return rc;
}

static int hash_file(void *ctx, size_t i, int worker, vl_error *err)
{
    check *c = ctx;
    char *rel = NULL, *path = NULL;
    uint64_t size;
    vl_fd_source src = {-1, NULL};
    int rc;

    /* the list's connection is one, the workers many */
    pthread_mutex_lock(&c->mu);
    rc = pay_get(c, i, &rel, &size, err);
    pthread_mutex_unlock(&c->mu);
    if (rc != VL_OK)
        goto done;
    if (!(path = vl_path_join(c->path, rel))) {
        rc = vl_error_oom(err);
        goto done;
    }
    src.name = path;
    src.fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (src.fd < 0) {
        rc = vl_error_sys(err, "cannot read %s", path);
        goto done;
    }
    rc = hash_record(c, rel, vl_fd_read, &src, err);
done:
    if (src.fd >= 0)
        close(src.fd);
    free(path);
    free(rel);
    return rc;
}

static int check_folder(check *c, vl_error *err)
{
    char *data = vl_path_join(c->path, "data");
    int rc;

    if (!data)
        return vl_error_oom(err);
    vl_bag_set_payload_dir(c->bag, vl_fs_is_dir(data));
    free(data);
    if ((rc = pay_open(c, err)) != VL_OK ||
        (rc = vl_tree_walk(c->path, 0, collect, c, err)) != VL_OK)
        return rc;
    /* a manifest that cannot be read, a scratch index that fails: the
     * machine's, not the bag's */
    if ((rc = vl_bag_parse(c->bag, err)) == VL_ESYS)
        return rc;
    if (rc != VL_OK)
        return vl_bag_refused_for_limit(c->bag) ? VL_EINPUT : VL_FINDING;
    take_algorithms(c);
    if (c->o->fast) {
        for (size_t i = 0; i < c->n && rc == VL_OK; i++) {
            char *rel;
            uint64_t size;
            if ((rc = pay_get(c, i, &rel, &size, err)) != VL_OK)
                break;
            rc = vl_bag_payload_seen(c->bag, rel, size, NULL, NULL, err);
            c->res->files++;
            c->res->bytes += size;
            free(rel);
        }
        return rc;
    }
    return vl_pool_run(c->n, c->o->nthreads, hash_file, c, err);
}

/* ---- a bag in an archive -------------------------------------------------- */

static struct archive *reader_open(check *c, vl_error *err)
{
    struct archive *a = archive_read_new();

    if (!a) {
        vl_error_oom(err);
        return NULL;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    if (archive_read_open_filename(a, c->path, 1 << 20) != ARCHIVE_OK) {
        vl_error_set(err, VL_EINPUT, "cannot read archive %s: %s", c->path,
                     archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    return a;
}

static int bad_entry(check *c, const char *name, const char *why,
                     vl_error *err)
{
    char *shown = vl_name_shorten(name ? name : "", VL_NAME_SHOWN_MAX);
    int rc = vl_error_set(err, VL_EINPUT, "%s: entry %s: %s", c->path,
                          shown ? shown : "?", why);
    free(shown);
    return rc;
}

/* The next entry (*more 0 at the end): its name without "./" and a
 * trailing '/', checked; *name is "" for the archive's own top folder. */
static int next_entry(check *c, struct archive *a, struct archive_entry **e,
                      char **name, int *more, vl_error *err)
{
    const char *raw;
    size_t len;
    int r = archive_read_next_header(a, e);

    free(*name);
    *name = NULL;
    *more = 0;
    if (r == ARCHIVE_EOF)
        return VL_OK;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return vl_error_set(err, VL_EINPUT, "corrupt or truncated archive "
                            "%s: %s", c->path, archive_error_string(a));
    raw = archive_entry_pathname_utf8(*e);
    if (!raw)
        raw = archive_entry_pathname(*e);
    if (!raw)
        return bad_entry(c, "(no name)", "an entry without a name", err);
    if (raw[0] == '/')
        return bad_entry(c, raw, "absolute path", err);
    while (raw[0] == '.' && raw[1] == '/')
        raw += 2;
    if (!strcmp(raw, "."))
        raw = "";
    if (!(*name = vl_strdup(raw)))
        return vl_error_oom(err);
    len = strlen(*name);
    while (len > 0 && (*name)[len - 1] == '/')
        (*name)[--len] = '\0';
    for (const char *seg = *name; *seg;) {
        const char *slash = strchr(seg, '/');
        size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
        if (sl == 2 && seg[0] == '.' && seg[1] == '.')
            return bad_entry(c, raw, "path with \"..\" (path traversal)",
                             err);
        if (!slash)
            break;
        seg = slash + 1;
    }
    if (archive_entry_is_encrypted(*e))
        return bad_entry(c, raw, "encrypted (vellum cannot check what it "
                         "cannot read)", err);
    *more = 1;
    return VL_OK;
}

/* The entry's kind in *kind: 'd' folder, 'f' regular file; anything else
 * is refused. */
static int entry_kind(check *c, struct archive_entry *e, const char *name,
                      int *kind, vl_error *err)
{
    int type = archive_entry_filetype(e);

    *kind = type == AE_IFDIR ? 'd' : 'f';
    if (type == AE_IFDIR)
        return VL_OK;
    if (type == AE_IFLNK)
        return bad_entry(c, name, "a symbolic link (vellum checks regular "
                         "files only)", err);
    if (archive_entry_hardlink(e) ||
        (type == AE_IFREG && archive_entry_nlink(e) > 1))
        return bad_entry(c, name, "a hard link (vellum checks regular files "
                         "only)", err);
    if (type != AE_IFREG)
        return bad_entry(c, name, "a device, FIFO or socket, not a file", err);
    return VL_OK;
}

static ssize_t archive_pull(void *arg, void *buf, size_t cap, vl_error *err)
{
    struct archive *a = arg;
    la_ssize_t n = archive_read_data(a, buf, cap);

    if (n < 0) {
        vl_error_set(err, VL_EINPUT, "corrupt or truncated archive: %s",
                     archive_error_string(a));
        return -1;
    }
    return (ssize_t)n;
}

/* Where the bag is: "" (bagit.txt at the top), or "X/" when every entry is
 * under one top folder X (with or without its bagit.txt). */
static int find_root(check *c, char **root, vl_error *err)
{
    struct archive *a = reader_open(c, err);
    struct archive_entry *e;
    json_t *names = json_object();
    char *name = NULL, *top = NULL;
    int more = 1, rc = VL_OK, one_top = 1, at_top = 0, any = 0;

    if (!a)
        return err->status;
    if (!names) {
        rc = vl_error_oom(err);
        goto done;
    }
    while ((rc = next_entry(c, a, &e, &name, &more, err)) == VL_OK && more) {
        const char *slash;
        size_t tl;
        int dir = archive_entry_filetype(e) == AE_IFDIR;
        if (!*name)
            continue;
        if (json_object_get(names, name) && !dir) {
            rc = bad_entry(c, name, "the same name appears twice", err);
            goto done;
        }
        json_object_set_new(names, name, json_true());
        any = 1;
        if (!strcmp(name, "bagit.txt"))
            at_top = 1;
        slash = strchr(name, '/');
        if (!slash && !dir) {
            one_top = 0;   /* a file at the top */
            continue;
        }
        tl = slash ? (size_t)(slash - name) : strlen(name);
        if (!top) {
            if (!(top = vl_strndup(name, tl))) {
                rc = vl_error_oom(err);
                goto done;
            }
        } else if (strlen(top) != tl || strncmp(top, name, tl) != 0) {
            one_top = 0;
        }
    }
    if (rc != VL_OK)
        goto done;
    if (!any) {
        rc = vl_error_set(err, VL_EINPUT, "%s: the archive is empty", c->path);
        goto done;
    }
    if (!at_top && one_top && top)
        *root = vl_asprintf("%s/", top);
    else
        *root = vl_strdup("");
    if (!*root)
        rc = vl_error_oom(err);
done:
    free(name);
    free(top);
    json_decref(names);
    archive_read_free(a);
    return rc;
}

enum { PASS_TAGS, PASS_SIZES, PASS_HASH };

/* Bytes of the entry being read, read through when the archive does not
 * say. */
static int entry_size(struct archive *a, struct archive_entry *e,
                      uint64_t *size, vl_error *err)
{
    char chunk[65536];
    la_ssize_t n;

    *size = 0;
    if (archive_entry_size_is_set(e)) {
        *size = (uint64_t)archive_entry_size(e);
        return VL_OK;
    }
    while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0)
        *size += (uint64_t)n;
    if (n < 0)
        return vl_error_set(err, VL_EINPUT, "corrupt or truncated archive: %s",
                            archive_error_string(a));
    return VL_OK;
}

/* A tag file's bytes from the archive, for vl_bag_add_tag_stream; its own
 * failures (the archive's, or past vellum's cap) name the entry. */
typedef struct tag_pull {
    check *c;
    struct archive *a;
    const char *name;
    uint64_t total;
    int failed;
} tag_pull;

static int pull_tag(void *arg, void *buf, size_t cap, size_t *got, vl_error *err)
{
    tag_pull *tp = arg;
    la_ssize_t n = archive_read_data(tp->a, buf, cap);

    *got = 0;
    if (n < 0) {
        tp->failed = 1;
        return bad_entry(tp->c, tp->name, archive_error_string(tp->a), err);
    }
    tp->total += (uint64_t)n;
    if (tp->total > TAG_FILE_MAX) {
        tp->failed = 1;
        return bad_entry(tp->c, tp->name, "tag file larger than vellum reads "
                         "(256 MiB)", err);
    }
    *got = (size_t)n;
    return VL_OK;
}

/* One reading of the archive: the tag files (and whether data/ is there),
 * the payload's sizes (--fast), or the payload's digests. */
static int archive_pass(check *c, const char *root, int pass, vl_error *err)
{
    struct archive *a = reader_open(c, err);
    struct archive_entry *e;
    size_t rl = strlen(root);
    char *name = NULL;
    int more = 1, rc = VL_OK, has_data = 0;

    if (!a)
        return err->status;
    while ((rc = next_entry(c, a, &e, &name, &more, err)) == VL_OK && more) {
        const char *rel;
        uint64_t size;
        int kind;
        if (strncmp(name, root, rl) != 0 || !name[rl])
            continue;   /* the top folder itself */
        rel = name + rl;
        if ((rc = entry_kind(c, e, name, &kind, err)) != VL_OK)
            goto done;
        if (!strcmp(rel, "data") || !strncmp(rel, "data/", 5))
            has_data = 1;
        if (kind == 'd')
            continue;
        if (!strncmp(rel, "data/", 5)) {
            if (pass == PASS_HASH) {
                rc = hash_record(c, rel, archive_pull, a, err);
            } else if (pass == PASS_SIZES &&
                       (rc = entry_size(a, e, &size, err)) == VL_OK) {
                rc = vl_bag_payload_seen(c->bag, rel, size, NULL, NULL, err);
                c->res->files++;
                c->res->bytes += size;
            }
            if (rc != VL_OK)
                goto done;
            continue;
        }
        if (pass != PASS_TAGS)
            continue;
        {
            /* streamed into the bag, which spools it: never held whole */
            tag_pull tp = {c, a, name, 0, 0};
            if ((rc = vl_bag_add_tag_stream(c->bag, rel, pull_tag, &tp, err)) != VL_OK) {
                if (!tp.failed)
                    rc = vl_error_set(err, rc, "%s: %s", c->path, err->msg);
                goto done;
            }
        }
    }
    if (rc == VL_OK && pass == PASS_TAGS)
        vl_bag_set_payload_dir(c->bag, has_data);
done:
    free(name);
    archive_read_free(a);
    return rc;
}

static int check_archive(check *c, vl_error *err)
{
    char *root = NULL;
    int rc;

    if ((rc = find_root(c, &root, err)) != VL_OK ||
        (rc = archive_pass(c, root, PASS_TAGS, err)) != VL_OK)
        goto done;
    if ((rc = vl_bag_parse(c->bag, err)) != VL_OK) {
        if (rc != VL_ESYS)
            rc = vl_bag_refused_for_limit(c->bag) ? VL_EINPUT : VL_FINDING;
        goto done;
    }
    take_algorithms(c);
    rc = archive_pass(c, root, c->o->fast ? PASS_SIZES : PASS_HASH, err);
done:
    free(root);
    return rc;
}

int vl_bag_check_path(const char *path, const vl_bag_check_options *o,
                      vl_bag_check_result *res, vl_error *err)
{
    check c;
    struct stat st;
    int rc;

    memset(res, 0, sizeof *res);
    memset(&c, 0, sizeof c);
    c.path = path;
    c.o = o;
    c.res = res;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return vl_error_set(err, VL_EINPUT, "no such file or folder: %s",
                                path);
        return vl_error_sys(err, "cannot read %s", path);
    }
    if (!S_ISDIR(st.st_mode) && !(S_ISREG(st.st_mode) &&
                                  vl_archive_detect(path)))
        return vl_error_set(err, VL_EINPUT, "%s is neither a folder nor an "
                            "archive vellum reads", path);
    if (!(c.bag = vl_bag_new()))
        return vl_error_oom(err);
    pthread_mutex_init(&c.mu, NULL);
    vl_bag_set_warn(c.bag, count_warning, &c);
    rc = S_ISDIR(st.st_mode) ? check_folder(&c, err) : check_archive(&c, err);
    snprintf(res->version, sizeof res->version, "%s", vl_bag_version(c.bag));
    if (rc == VL_OK) {
        rc = o->fast ? vl_bag_verify_oxum(c.bag, count_problem, &c, err)
                     : vl_bag_verify(c.bag, count_problem, &c, err);
        if (rc == VL_EINPUT && o->fast && !vl_bag_has_oxum(c.bag))
            rc = VL_EINPUT;  /* nothing to check quickly: not the bag's fault */
        else if (rc == VL_EINPUT)
            rc = VL_FINDING;
        res->complete = o->fast ? -1 : vl_bag_complete(c.bag);
        res->to_fetch = vl_bag_to_fetch(c.bag);
        res->valid = rc == VL_OK;
    }
    sqlite3_finalize(c.put);
    sqlite3_finalize(c.get);
    sqlite3_close(c.db);
    pthread_mutex_destroy(&c.mu);
    vl_bag_free(c.bag);
    return rc;
}

int vl_bag_check_dir(const char *dir, vl_report_fn fn, void *arg,
                     vl_error *err)
{
    vl_bag_check_options o = {0};
    vl_bag_check_result res;
    int rc;
    unsigned long failures = vl_alloc_failures();

    o.problem = fn;
    o.arg = arg;
    rc = vl_bag_check_path(dir, &o, &res, err);
    if (rc == VL_FINDING) {
        rc = VL_EINPUT;
        if (!err->msg[0])
            vl_error_set(err, VL_EINPUT, "bag %s does not match its "
                         "manifests", dir);
    }
    /* a problem line whose name could not be escaped, a manifest line read
     * short: what ran short of memory is not the bag's fault */
    if (rc != VL_ESYS && vl_alloc_failures() != failures)
        rc = vl_error_set(err, VL_ESYS, "bag %s: out of memory", dir);
    return rc;
}
