/* Read an object version back out: every file copied from the store while
 * its digest is recomputed.  A file whose primary copy is missing,
 * unreadable or fails its digest is read from the first replica (in name
 * order) whose copy verifies; with skip_damaged, a file no copy of which is
 * good is left out and named.  A whole state is built in a folder beside
 * the destination, one file in a temporary file beside it, and either is
 * renamed into place only when everything written verified.  cat writes one
 * file to a descriptor, checked before its first byte goes out. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "repo_internal.h"

/* What a reader is told about one copy when it is not good: its content
 * path, what is wrong, and what replicas were tried. */
#define PROBLEM_MAX 2048

/* ---- one stored copy ---------------------------------------------------- */

/* The outcome of reading one copy of a file. */
typedef struct copy_check {
    int bad;                  /* missing, unreadable or fails its digest */
    int status;               /* what that is: VL_FINDING or VL_ESYS */
    char problem[PROBLEM_MAX];
    char got[VL_DIGEST_HEX_MAX];  /* its digest, when it was read whole */
} copy_check;

/* A reader that remembers whether it was the one that failed, so a failure
 * to read the copy (its fault) is told from one to write the output. */
struct src_reader {
    vl_reader *rd;
    int failed;
};

static ssize_t src_read(void *arg, void *buf, size_t cap, vl_error *err)
{
    struct src_reader *s = arg;
    ssize_t n = vl_reader_read(s->rd, buf, cap, err);
    if (n < 0)
        s->failed = 1;
    return n;
}

/* A copy that cannot be opened or read for these reasons is damaged (a
 * finding); others (permissions, descriptors) are the system's. */
static int damage_errno(int e)
{
    return e == ENOENT || e == ENOTDIR || e == EISDIR || e == ELOOP || e == EIO;
}

static void copy_unreadable(copy_check *cc, const char *cpath, int e)
{
    cc->bad = 1;
    cc->status = damage_errno(e) ? VL_FINDING : VL_ESYS;
    if (e == ENOENT || e == ENOTDIR)
        snprintf(cc->problem, sizeof cc->problem, "%s is missing", cpath);
    else
        snprintf(cc->problem, sizeof cc->problem, "%s cannot be read: %s", cpath,
                 strerror(e));
}

static int pass_error(vl_error *err, const vl_error *e)
{
    if (err)
        *err = *e;
    return e->status != VL_OK ? e->status : VL_ESYS;
}

/* Stream the copy object_rel/cpath on backend b through the digest (to
 * out_fd when >= 0: a file get writes, named out_name, or cat's descriptor
 * with out_name NULL).  VL_OK with cc->bad 0: its bytes match digest;
 * VL_OK with cc->bad 1: the copy is not good, cc says why.  Any other
 * status is a failure that is not the copy's (writing out_fd, memory), in
 * err. */
static int check_copy(vl_backend *b, const char *object_rel, const char *cpath,
                      vl_digest_alg alg, const char *digest, int out_fd,
                      const char *out_name, copy_check *cc, vl_error *err)
{
    char *src = vl_path_join(object_rel, cpath);
    struct src_reader s = {0};
    vl_digest_result res;
    vl_error e = {0};
    int rc = VL_OK;
    cc->bad = 0;
    cc->status = VL_OK;
    cc->problem[0] = cc->got[0] = '\0';
    if (!src)
        return vl_error_oom(err);
    if (vl_backend_open(b, src, &s.rd, &e) != VL_OK) {
        if (e.status == VL_ESYS && e.sys_errno != ENOMEM && e.sys_errno != 0)
            copy_unreadable(cc, cpath, e.sys_errno);
        else
            rc = pass_error(err, &e);
        goto done;
    }
    /* A copy in a folder store is copied by the kernel where it can
     * (vl_digest_copy_fd), else through the reader (S3).  A file get
     * writes is synced before it is moved into place: its writeback
     * starts as it is copied. */
    const char *path;
    int in_fd = vl_reader_file(s.rd, &path), copy_rc;
    if (in_fd >= 0) {
        vl_copy_result cr;
        vl_copy_spec cs = {in_fd, path, out_fd, out_name, VL_DIGEST_BIT(alg), NULL,
                           NULL, out_name ? VL_COPY_WRITEBACK : 0};
        copy_rc = vl_digest_copy_fd(&cs, &cr, &e);
        s.failed = cr.read_failed;
        res = cr.digests;
    } else {
        copy_rc = vl_digest_pump(src_read, &s, out_fd, VL_DIGEST_BIT(alg), NULL, NULL,
                                 &res, NULL, &e);
    }
    if (copy_rc != VL_OK) {
        if (s.failed && e.sys_errno != ENOMEM && e.sys_errno != 0)
            copy_unreadable(cc, cpath, e.sys_errno);
        else
            rc = pass_error(err, &e);
        goto done;
    }
    if (strcasecmp(res.hex[alg], digest) != 0) {
        cc->bad = 1;
        snprintf(cc->got, sizeof cc->got, "%s", res.hex[alg]);
        cc->status = VL_FINDING;
        snprintf(cc->problem, sizeof cc->problem, "%s fails its %s check: expected "
                 "%s, got %s", cpath, vl_digest_name(alg), digest, res.hex[alg]);
    }
done:
    vl_reader_close(s.rd);
    free(src);
    return rc;
}

/* The same into a new file dst; dst is removed unless its bytes verified. */
static int write_copy(vl_backend *b, const char *object_rel, const char *cpath,
                      vl_digest_alg alg, const char *digest, const char *dst,
                      copy_check *cc, vl_error *err)
{
    /* Readable too: the kernel's copy is digested from its cached pages. */
    int rc, fd = open(dst, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return vl_error_sys(err, "cannot create %s", dst);
    rc = check_copy(b, object_rel, cpath, alg, digest, fd, dst, cc, err);
    if (close(fd) != 0 && rc == VL_OK && !cc->bad)
        rc = vl_error_sys(err, "cannot write %s", dst);
    if (rc != VL_OK || cc->bad)
        unlink(dst);
    return rc;
}

static void problem_add(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem_add(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    if (len + 1 >= cap)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* ---- the replicas, opened when a primary copy was not good ------------- */

struct replica_set {
    size_t n;
    char **names;
    vl_backend **b;           /* NULL when it cannot be reached */
    char **why;               /* then: why */
};

static int collect_replica(void *arg, const vl_replica_info *ri)
{
    struct replica_set *s = arg;
    char *name = vl_strdup(ri->name);
    char **grown = realloc(s->names, (s->n + 1) * sizeof *grown);
    if (!name || !grown) {
        free(name);
        if (grown)
            s->names = grown;
        return -1;
    }
    s->names = grown;
    s->names[s->n++] = name;
    return 0;
}

static void replicas_free(struct replica_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        if (s->why)
            free(s->why[i]);
    }
    free(s->names);
    free(s->b);
    free(s->why);
    memset(s, 0, sizeof *s);
}

/* Every replica's backend, in name order; one that cannot be reached (or
 * is not a storage root with the repository's layout) is kept with why. */
static int replicas_open(vl_repo *r, struct replica_set *s, vl_error *err)
{
    int rc = VL_OK;
    size_t want = vl_replica_count(r);
    if ((rc = vl_replica_list(r, collect_replica, s, err)) != VL_OK)
        return rc;
    if (s->n != want)
        return vl_error_oom(err);
    if (s->n == 0)
        return VL_OK;
    s->b = calloc(s->n, sizeof *s->b);
    s->why = calloc(s->n, sizeof *s->why);
    if (!s->b || !s->why)
        return vl_error_oom(err);
    for (size_t i = 0; i < s->n; i++) {
        vl_error e = {0};
        if (vl_copy_backend(r, s->names[i], &s->b[i], &e) == VL_OK)
            continue;
        s->b[i] = NULL;
        if (e.status == VL_ESYS && e.sys_errno == ENOMEM)
            return pass_error(err, &e);
        if (!(s->why[i] = vl_strdup(e.msg)))
            return vl_error_oom(err);
    }
    return VL_OK;
}

/* Try each replica's copy in turn, through write_copy (dst != NULL) or a
 * check alone.  *good is the index of the first whose bytes verified, or
 * -1; problem gets a note for each replica that was not good. */
static int from_replicas(struct replica_set *s, const char *object_rel,
                         const char *cpath, vl_digest_alg alg, const char *digest,
                         const char *dst, int *good, char *problem, size_t cap,
                         vl_error *err)
{
    copy_check *cc = malloc(sizeof *cc);
    int rc = VL_OK;
    *good = -1;
    if (!cc)
        return vl_error_oom(err);
    for (size_t i = 0; i < s->n && *good < 0; i++) {
        if (!s->b[i]) {
            problem_add(problem, cap, "; replica %s cannot be used: %s", s->names[i],
                        s->why[i]);
            continue;
        }
        rc = dst ? write_copy(s->b[i], object_rel, cpath, alg, digest, dst, cc, err)
                 : check_copy(s->b[i], object_rel, cpath, alg, digest, -1, NULL, cc,
                              err);
        if (rc != VL_OK)
            break;
        if (cc->bad && cc->got[0])   /* the expected digest is said already */
            problem_add(problem, cap, "; replica %s: %s fails its %s check too: got "
                        "%s", s->names[i], cpath, vl_digest_name(alg), cc->got);
        else if (cc->bad)
            problem_add(problem, cap, "; replica %s: %s", s->names[i], cc->problem);
        else
            *good = (int)i;
    }
    if (rc == VL_OK && *good < 0 && s->n == 0)
        problem_add(problem, cap, "; there is no replica to read it from");
    free(cc);
    return rc;
}

/* ---- the object's inventory and version -------------------------------- */

/* The primary's root inventory, verified against its sidecar, and the
 * version asked for (0 = head). */
static int load_version(vl_repo *r, const char *id, int *num, vl_inventory **inv,
                        vl_error *err)
{
    char why[700];
    int rc = vl_repo_load_inventory(r, id, inv, err);
    if (rc == VL_FINDING) {
        snprintf(why, sizeof why, "%.600s", err ? err->msg : "");
        return vl_error_set(err, VL_FINDING, "object \"%s\": %s; the primary's "
                            "root inventory does not verify, so get reads none of "
                            "its files (replicas are read only for the files a "
                            "verified inventory names): 'vellum repair' restores "
                            "the inventory from a replica", id, why);
    }
    if (rc != VL_OK)
        return rc;
    int head = vl_inventory_head(*inv);
    if (*num == 0)
        *num = head;
    if (*num < 1 || *num > head)
        return vl_error_set(err, VL_EINPUT, "object \"%s\" has no version v%d "
                            "(head is v%d)", id, *num, head);
    return VL_OK;
}

/* ---- get ---------------------------------------------------------------- */

/* The version's files are copied in batches of this many through the
 * pool as its state is read, so what get holds does not grow with the
 * version; only the files whose primary copy was not good are kept (for
 * the replicas, afterwards). */
#define GET_BATCH 1024

struct get_item {
    const char *logical;      /* these three in one block, owned */
    const char *digest;
    const char *cpath;        /* its content path in the object */
    char *problem;            /* the primary's copy was not good: why */
    int status;               /* and as what (VL_FINDING or VL_ESYS) */
};

struct get_ctx {
    vl_repo *r;
    vl_inventory *inv;
    vl_digest_alg alg;
    const char *object_rel;
    const char *id;
    char *tmp;                /* the folder being built, or the one file */
    int single;               /* tmp is the file itself */
    int num;                  /* the version */
    int set_aside;            /* a bad primary copy is kept for later, not fatal */
    struct get_item *items;   /* the batch */
    size_t n, cap;
    struct get_item *bad;     /* set aside, in path order */
    size_t nbad, cbad;
    size_t total;             /* files of the version so far */
    vl_error *err;            /* why collect stopped the state's listing */
    int rc;
};

static void item_free(struct get_item *it)
{
    free(it->problem);
    free((char *)it->logical);
}

static int copy_one(void *arg, size_t i, int worker, vl_error *err);

/* Copy the batch (the pool), then keep what was set aside. */
static int flush_batch(struct get_ctx *c)
{
    int rc = vl_pool_run(c->n, 0, copy_one, c, c->err);
    size_t i = 0;
    for (; rc == VL_OK && i < c->n; i++) {
        if (!c->items[i].problem) {
            item_free(&c->items[i]);
            continue;
        }
        if (VL_GROW(c->bad, c->cbad, c->nbad + 1, NULL) != VL_OK) {
            rc = vl_error_oom(c->err);
            break;
        }
        c->bad[c->nbad++] = c->items[i];
    }
    for (; i < c->n; i++)
        item_free(&c->items[i]);
    c->n = 0;
    return rc;
}

/* One file of the state: its content path looked up here, in the thread
 * that reads the state (the workers never touch the inventory). */
static int collect(void *arg, const char *logical, const char *digest)
{
    struct get_ctx *c = arg;
    struct get_item *it;
    const char *cpath = vl_inventory_content_path(c->inv, digest);
    if (!cpath && vl_inventory_failed(c->inv)) {
        c->rc = vl_error_set(c->err, VL_ESYS, "%s: cannot read its inventory's "
                             "index", c->id);
        return c->rc;
    }
    if (!cpath) {
        c->rc = vl_error_set(c->err, VL_FINDING, "%s: %s has digest %s that is "
                             "not in the manifest", c->id, logical, digest);
        return c->rc;
    }
    if (VL_GROW(c->items, c->cap, c->n + 1, NULL) != VL_OK)
        return c->rc = vl_error_oom(c->err);
    it = &c->items[c->n];
    memset(it, 0, sizeof *it);
    /* the inventory's strings last only for the call: one block holds them */
    size_t ll = strlen(logical) + 1, dl = strlen(digest) + 1, cl = strlen(cpath) + 1;
    char *mem = malloc(ll + dl + cl);
    if (!mem)
        return c->rc = vl_error_oom(c->err);
    memcpy(mem, logical, ll);
    memcpy(mem + ll, digest, dl);
    memcpy(mem + ll + dl, cpath, cl);
    it->logical = mem;
    it->digest = mem + ll;
    it->cpath = mem + ll + dl;
    c->n++;
    c->total++;
    if (c->n == GET_BATCH && (c->rc = flush_batch(c)) != VL_OK)
        return c->rc;
    return 0;
}

static char *item_dest(const struct get_ctx *c, const struct get_item *it)
{
    return c->single ? vl_strdup(c->tmp) : vl_path_join(c->tmp, it->logical);
}

/* From the primary (a worker of the pool). */
static int copy_one(void *arg, size_t i, int worker, vl_error *err)
{
    struct get_ctx *c = arg;
    struct get_item *it = &c->items[i];
    const char *cpath;
    char *dst = NULL;
    copy_check *cc = NULL;
    int rc;
    (void)worker;
    cpath = it->cpath;
    if ((rc = vl_logical_path_check(it->logical, err)) != VL_OK)
        return rc;
    dst = item_dest(c, it);
    cc = malloc(sizeof *cc);
    if (!dst || !cc) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs_parent(dst, err)) != VL_OK ||
        (rc = write_copy(c->r->backend, c->object_rel, cpath, c->alg, it->digest,
                         dst, cc, err)) != VL_OK || !cc->bad)
        goto done;
    if (!c->set_aside) {
        rc = vl_error_set(err, cc->status, "%s: %s: %s", c->id, it->logical,
                          cc->problem);
        goto done;
    }
    it->status = cc->status;
    if (!(it->problem = vl_strdup(cc->problem)))
        rc = vl_error_oom(err);
done:
    free(cc);
    free(dst);
    return rc;
}

/* Empty folders a left-out file leaves, up to (not including) top. */
static void prune_parents(const char *top, const char *path)
{
    char *d = vl_path_dirname(path);
    size_t tl = strlen(top);
    while (d && strlen(d) > tl && !strncmp(d, top, tl) && d[tl] == '/' &&
           rmdir(d) == 0) {
        char *up = vl_path_dirname(d);
        free(d);
        d = up;
    }
    free(d);
}

/* After the pool: each file whose primary copy was not good, from a
 * replica, or left out (skip_damaged), or the end of the get. */
static int damaged_files(struct get_ctx *c, const vl_get_options *o,
                         size_t *left_out, vl_error *err)
{
    struct replica_set s = {0};
    char *problem = NULL, *dst = NULL;
    int rc = VL_OK;
    if ((rc = replicas_open(c->r, &s, err)) != VL_OK)
        goto done;
    if (!(problem = malloc(PROBLEM_MAX))) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < c->nbad && rc == VL_OK; i++) {
        struct get_item *it = &c->bad[i];
        int good;
        free(dst);
        if (!(dst = item_dest(c, it))) {
            rc = vl_error_oom(err);
            break;
        }
        snprintf(problem, PROBLEM_MAX, "%s", it->problem);
        if ((rc = from_replicas(&s, c->object_rel, it->cpath,
                                c->alg, it->digest, dst, &good, problem,
                                PROBLEM_MAX, err)) != VL_OK)
            break;
        vl_get_file_note note = {it->logical, good >= 0 ? s.names[good] : NULL,
                                 good >= 0 ? it->problem : problem};
        if (good < 0 && !o->skip_damaged) {
            rc = vl_error_set(err, it->status, "%s: %s: %s", c->id, it->logical,
                              problem);
            break;
        }
        if (good < 0) {
            (*left_out)++;
            if (!c->single)
                prune_parents(c->tmp, dst);
        }
        if (o->on_file)
            o->on_file(o->arg, &note);
    }
done:
    free(dst);
    free(problem);
    replicas_free(&s);
    return rc;
}

/* A failure that only says this user may not write to the repository. */
static int may_not_write(const vl_error *e)
{
    return e->status == VL_ESYS && (e->sys_errno == EACCES ||
                                    e->sys_errno == EROFS ||
                                    e->sys_errno == EPERM ||
                                    e->sys_errno == ENOSPC);
}

/* Each file written gets back the modification time it had when it was
 * deposited (the catalog's file_dates), when one was recorded. */
struct dates_ctx {
    const struct get_ctx *c;
    const char *file;         /* get --file: only this one */
};

static int give_date(void *arg, const char *logical, int64_t ns, vl_error *err)
{
    struct dates_ctx *d = arg;
    struct timespec ts[2];
    char *path;
    if (vl_logical_path_check(logical, NULL) != VL_OK)
        return VL_OK;
    if (d->file ? strcmp(d->file, logical) != 0
                : vl_inventory_lookup(d->c->inv, d->c->num, logical) == NULL)
        return VL_OK;
    if (!(path = d->file ? vl_strdup(d->c->tmp) : vl_path_join(d->c->tmp, logical)))
        return vl_error_oom(err);
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = (time_t)(ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000);
    ts[1].tv_nsec = (long)(ns - (int64_t)ts[1].tv_sec * 1000000000);
    int rc = VL_OK;
    /* A file left out (no good copy) is not there to date. */
    if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT)
        rc = vl_error_sys(err, "cannot set the modification time of %s", path);
    free(path);
    return rc;
}

int vl_repo_get_opts(vl_repo *r, const char *id, int num, const char *dest,
                     const vl_get_options *o, vl_error *err)
{
    static const vl_get_options every = {0};
    struct get_ctx c = {0};
    char *rel = NULL;
    vl_outside *outside = NULL;
    size_t left_out = 0;
    char *single_digest = NULL;   /* get --file: its digest */
    int rc, placed = 0;
    if (!o)
        o = &every;
    if (vl_fs_exists(dest))
        return vl_error_set(err, VL_EINPUT, "%s already exists; give a new %s", dest,
                            o->file ? "file name" : "folder");
    if ((rc = load_version(r, id, &num, &c.inv, err)) != VL_OK)
        goto done;
    rel = vl_repo_object_path(r, id);
    c.r = r;
    c.alg = vl_inventory_digest_alg(c.inv);
    c.object_rel = rel;
    c.id = id;
    c.single = o->file != NULL;
    c.num = num;
    c.set_aside = o->skip_damaged || vl_replica_count(r) > 0;
    c.tmp = vl_asprintf("%s.vellum-get-%ld", dest, (long)getpid());
    if (!rel || !c.tmp) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (o->file) {
        const char *digest = vl_inventory_lookup(c.inv, num, o->file);
        if (!digest && vl_inventory_failed(c.inv)) {
            rc = vl_error_set(err, VL_ESYS, "%s: cannot read its inventory's index", id);
            goto done;
        }
        if (!digest) {
            rc = vl_error_set(err, VL_EINPUT, "object \"%s\" version v%d has no "
                              "file %s", id, num, o->file);
            goto done;
        }
        /* a lookup's answer lasts while this thread makes 15 more */
        if (!(single_digest = vl_strdup(digest))) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    /* What a killed get or export to the same destination left goes
     * first; then ours is registered so recover can clear it after a kill.
     * A reader who may not write to staging (or finds its disk full) still gets the copy,
     * unregistered (and leaves stale temporaries to someone who may). */
    const char *tmps[] = {c.tmp};
    vl_error oerr = {0};
    size_t stale;
    if ((vl_outside_clear_for(r, dest, &stale, &oerr) != VL_OK &&
         !may_not_write(&oerr)) ||
        (vl_outside_begin(r, tmps, 1, &outside, &oerr) != VL_OK &&
         !may_not_write(&oerr))) {
        rc = oerr.status;
        if (err)
            *err = oerr;
        goto done;
    }
    vl_fs_rmtree(c.tmp, NULL);
    if (!c.single && (rc = vl_fs_mkdirs(c.tmp, err)) != VL_OK)
        goto done;
    c.err = err;
    if (single_digest) {
        if ((rc = collect(&c, o->file, single_digest)) != VL_OK)
            goto done;
    } else if (vl_inventory_state_foreach(c.inv, num, collect, &c) != 0) {
        rc = c.rc != VL_OK ? c.rc
                           : vl_error_set(err, VL_ESYS, "%s: cannot read its "
                                          "inventory's index", id);
        goto done;
    }
    if ((rc = flush_batch(&c)) != VL_OK)
        goto done;
    if (c.nbad && (rc = damaged_files(&c, o, &left_out, err)) != VL_OK)
        goto done;
    if (c.single && left_out) {
        rc = vl_error_set(err, VL_FINDING, "%s: %s: no copy is good; nothing "
                          "written to %s", id, o->file, dest);
        goto done;
    }
    struct dates_ctx dc = {&c, o->file};
    if (vl_repo_catalog(r) &&
        (rc = vl_catalog_dates(vl_repo_catalog(r), id, num, give_date, &dc,
                               err)) != VL_OK)
        goto done;
    if ((rc = c.single ? vl_fs_fsync_path(c.tmp, err) : vl_fs_syncfs(c.tmp, err)) != VL_OK)
        goto done;
    if (c.single)
        rc = vl_fs_rename_new(c.tmp, dest, err);
    else if (rename(c.tmp, dest) != 0)
        rc = vl_error_sys(err, "cannot move %s to %s", c.tmp, dest);
    if (rc != VL_OK)
        goto done;
    placed = 1;
    if ((rc = vl_fs_fsync_parent(dest, err)) != VL_OK)
        goto done;
    if (left_out)
        rc = vl_error_set(err, VL_FINDING, "%s: %zu of %zu files %s no good copy and "
                          "%s left out of %s", id, left_out, c.total,
                          left_out == 1 ? "has" : "have",
                          left_out == 1 ? "was" : "were", dest);
done:
    if (!placed && c.tmp)
        vl_fs_rmtree(c.tmp, NULL);
    vl_outside_end(outside);
    for (size_t i = 0; i < c.n; i++)
        item_free(&c.items[i]);
    for (size_t i = 0; i < c.nbad; i++)
        item_free(&c.bad[i]);
    free(c.items);
    free(c.bad);
    free(single_digest);
    free(c.tmp);
    free(rel);
    vl_inventory_free(c.inv);
    return rc;
}

int vl_repo_get(vl_repo *r, const char *id, int num, const char *dest,
                vl_error *err)
{
    return vl_repo_get_opts(r, id, num, dest, NULL, err);
}

/* ---- cat ---------------------------------------------------------------- */

/* The copy is checked (a pass that writes nothing) before a byte goes to
 * fd; the second pass, which writes, checks again in case the bytes
 * changed in between. */
int vl_repo_cat(vl_repo *r, const char *id, int num, const char *logical,
                int fd, void (*on_file)(void *arg, const vl_get_file_note *n),
                void *arg, vl_error *err)
{
    vl_inventory *inv = NULL;
    struct replica_set s = {0};
    copy_check *cc = NULL;
    char *rel = NULL, *problem = NULL;
    vl_backend *b;
    int rc, good = -1;
    if ((rc = load_version(r, id, &num, &inv, err)) != VL_OK)
        goto done;
    const char *digest = vl_inventory_lookup(inv, num, logical);
    const char *cpath = digest ? vl_inventory_content_path(inv, digest) : NULL;
    if (!cpath && vl_inventory_failed(inv)) {
        rc = vl_error_set(err, VL_ESYS, "%s: cannot read its inventory's index", id);
        goto done;
    }
    if (!digest) {
        rc = vl_error_set(err, VL_EINPUT, "object \"%s\" version v%d has no file %s",
                          id, num, logical);
        goto done;
    }
    if (!cpath) {
        rc = vl_error_set(err, VL_FINDING, "%s: %s has digest %s that is not in the "
                          "manifest", id, logical, digest);
        goto done;
    }
    vl_digest_alg alg = vl_inventory_digest_alg(inv);
    rel = vl_repo_object_path(r, id);
    cc = malloc(sizeof *cc);
    if (!rel || !cc) {
        rc = vl_error_oom(err);
        goto done;
    }
    b = r->backend;
    if ((rc = check_copy(b, rel, cpath, alg, digest, -1, NULL, cc, err)) != VL_OK)
        goto done;
    if (cc->bad) {
        int status = cc->status;
        if (!(problem = vl_strdup(cc->problem)) ||
            (rc = replicas_open(r, &s, err)) != VL_OK ||
            (rc = from_replicas(&s, rel, cpath, alg, digest, NULL, &good, cc->problem,
                                sizeof cc->problem, err)) != VL_OK) {
            if (!problem)
                rc = vl_error_oom(err);
            goto done;
        }
        if (good < 0) {
            rc = vl_error_set(err, status, "%s: %s: %s", id, logical, cc->problem);
            goto done;
        }
        b = s.b[good];
    }
    if ((rc = check_copy(b, rel, cpath, alg, digest, fd, NULL, cc, err)) != VL_OK)
        goto done;
    if (cc->bad) {
        rc = vl_error_set(err, cc->status, "%s: %s: the copy changed while it was "
                          "being written out, which is left incomplete: %s", id,
                          logical, cc->problem);
        goto done;
    }
    if (good >= 0 && on_file) {
        vl_get_file_note note = {logical, s.names[good], problem};
        on_file(arg, &note);
    }
done:
    free(cc);
    free(problem);
    free(rel);
    replicas_free(&s);
    vl_inventory_free(inv);
    return rc;
}
