/* The preservation event log: REPO/events/events.jsonl, append-only, one
 * canonical JSON event per line (compact, sorted keys).  Each line carries
 * "prev", the SHA-256 of the line before it, so that changing, removing or
 * reordering any past line breaks the chain; the catalog keeps every line's
 * own hash, so removing the last line is caught by comparing the two. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_private.h"
#include "vl_json.h"
#include "repo_internal.h"

#define LOG_NAME "events.jsonl"
#define LOCK_NAME "events.lock"
#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define MAX_LINE (64u * 1024u * 1024u)

const char *vl_agent_vellum(void) { return "vellum " VL_VERSION; }

const char *vl_agent_openssl(void) { return vl_digest_library_version(); }

void vl_event_init(vl_event *ev, const char *type, const char *object_id)
{
    char uuid[37];
    memset(ev, 0, sizeof *ev);
    vl_uuid4(uuid);
    snprintf(ev->id, sizeof ev->id, "urn:uuid:%s", uuid);
    vl_time_rfc3339(vl_time_now(), ev->datetime);
    ev->type = type;
    ev->outcome = "success";
    ev->object_id = object_id;
}

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* The event without seq/prev, as stored in intent files. */
json_t *vl_event_to_json(const vl_event *ev)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:i, s:o, s:o}",
                          "id", ev->id, "datetime", ev->datetime, "type", ev->type,
                          "outcome", ev->outcome ? ev->outcome : "success", "detail",
                          ev->detail, "outcome_detail", ev->outcome_detail, "object",
                          ev->object_id, "version", ev->version, "files",
                          str_array(ev->files, ev->nfiles), "agents",
                          str_array(ev->agents, ev->nagents));
    return o;
}

static char *paths(vl_repo *r, const char *name)
{
    return vl_asprintf("%s/%s/%s", r->dir, VL_EVENTS_DIR, name);
}

/* The last line of the log (without its newline), or "" when empty. */
static int read_last_line(int fd, vl_buf *line, vl_error *err)
{
    struct stat st;
    char chunk[4096];
    vl_buf_reset(line);
    if (fstat(fd, &st) != 0)
        return vl_error_sys(err, "cannot stat the event log");
    off_t end = st.st_size;
    if (end == 0)
        return vl_buf_append(line, "", 0, err);
    off_t pos = end - 1;   /* skip the final newline */
    off_t start = 0;
    while (pos > 0) {
        size_t n = pos > (off_t)sizeof chunk ? sizeof chunk : (size_t)pos;
        if (pread(fd, chunk, n, pos - (off_t)n) != (ssize_t)n)
            return vl_error_sys(err, "cannot read the event log");
        char *nl = memrchr(chunk, '\n', n);
        if (nl) {
            start = pos - (off_t)n + (nl - chunk) + 1;
            break;
        }
        pos -= (off_t)n;
        if (end - pos > (off_t)MAX_LINE)
            return vl_error_set(err, VL_FINDING, "the event log's last line is "
                                "longer than %u bytes", MAX_LINE);
    }
    size_t len = (size_t)(end - 1 - start);
    char *buf = malloc(len + 1);
    if (!buf)
        return vl_error_oom(err);
    int rc = VL_OK;
    if (pread(fd, buf, len, start) != (ssize_t)len)
        rc = vl_error_sys(err, "cannot read the event log");
    else
        rc = vl_buf_append(line, buf, len, err);
    free(buf);
    return rc;
}

/* A log that does not end in a newline ends in a line whose write was cut
 * short (a crash or a full disk): it was never recorded in the catalog
 * (that happens after the line is synced), so it is cut back to the last
 * complete line.  *size is the log's size afterwards. */
static int drop_unfinished_line(int fd, const char *path, off_t *size,
                                vl_error *err)
{
    struct stat st;
    char c;
    if (fstat(fd, &st) != 0)
        return vl_error_sys(err, "cannot stat %s", path);
    *size = st.st_size;
    if (st.st_size == 0 || (pread(fd, &c, 1, st.st_size - 1) == 1 && c == '\n'))
        return VL_OK;
    off_t pos = st.st_size;
    char chunk[4096];
    while (pos > 0) {
        size_t n = pos > (off_t)sizeof chunk ? sizeof chunk : (size_t)pos;
        if (pread(fd, chunk, n, pos - (off_t)n) != (ssize_t)n)
            return vl_error_sys(err, "cannot read %s", path);
        char *nl = memrchr(chunk, '\n', n);
        if (nl) {
            pos = pos - (off_t)n + (nl - chunk) + 1;
            break;
        }
        pos -= (off_t)n;
    }
    if (ftruncate(fd, pos) != 0 || fdatasync(fd) != 0)
        return vl_error_sys(err, "cannot repair the unfinished last line of %s", path);
    *size = pos;
    return VL_OK;
}

/* The line of event seq with prev, as the log holds it (malloc'd). */
static char *event_line(json_t *ev, long seq, const char *prev)
{
    json_t *copy = json_deep_copy(ev);
    char *text = NULL;
    if (copy && json_object_set_new(copy, "seq", json_integer(seq)) == 0 &&
        json_object_set_new(copy, "prev", json_string(prev)) == 0)
        text = vl_json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    return text;
}

/* With a PostgreSQL catalog the events table is the log: several
 * processes on several machines append to it, each under the chain's lock
 * in the database (held to the end of the transaction), reading the last
 * line there.  `vellum events export` writes it out as events.jsonl. */
static int append_db(vl_repo *r, json_t *ev, const char *id, vl_error *err)
{
    vl_catalog *cat = r->catalog;
    int rc, outer = 0, exists = 0;
    long seq = 0;
    char *last = NULL, *text = NULL;
    char prev[VL_DIGEST_HEX_MAX], hash[VL_DIGEST_HEX_MAX];
    if ((rc = vl_catalog_events_lock(cat, &outer, err)) != VL_OK)
        return rc;
    if ((rc = vl_catalog_event_exists(cat, id, &exists, err)) != VL_OK ||
        exists || (rc = vl_catalog_event_last(cat, &seq, &last, err)) != VL_OK)
        goto done;
    if (!last)
        strcpy(prev, ZERO_HASH);
    else if (vl_digest_buffer(VL_SHA256, last, strlen(last), prev) != 0) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!(text = event_line(ev, seq + 1, prev)) ||
        vl_digest_buffer(VL_SHA256, text, strlen(text), hash) != 0) {
        rc = vl_error_oom(err);
        goto done;
    }
    rc = vl_catalog_event_insert(cat, seq + 1, text, hash, err);
done:
    if (vl_catalog_scope_end(cat, outer, rc == VL_OK, err) != VL_OK &&
        rc == VL_OK)
        rc = VL_ESYS;
    free(last);
    free(text);
    return rc;
}

/* Append one event (given as JSON without seq/prev) under the log lock. */
int vl_events_append_json(vl_repo *r, json_t *ev, vl_error *err)
{
    int rc = VL_OK, lockfd = -1, fd = -1, exists = 0;
    off_t size_before = 0;
    char *lock_path = paths(r, LOCK_NAME), *log_path = paths(r, LOG_NAME);
    char *text = NULL, *line = NULL;
    vl_buf last;
    json_t *copy = NULL;
    vl_buf_init(&last, MAX_LINE);
    if (!lock_path || !log_path) {
        rc = vl_error_oom(err);
        goto done;
    }
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (!id) {
        rc = vl_error_set(err, VL_ESYS, "internal: event without id");
        goto done;
    }
    if (vl_catalog_events_are_log(r->catalog)) {
        rc = append_db(r, ev, id, err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs_parent(log_path, err)) != VL_OK)
        goto done;
    lockfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
        rc = vl_error_sys(err, "cannot lock %s", lock_path);
        goto done;
    }
    if ((rc = vl_catalog_event_exists(r->catalog, id, &exists, err)) != VL_OK || exists)
        goto done;
    fd = open(log_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot open %s", log_path);
        goto done;
    }
    if ((rc = drop_unfinished_line(fd, log_path, &size_before, err)) != VL_OK ||
        (rc = read_last_line(fd, &last, err)) != VL_OK)
        goto done;
    char prev[VL_DIGEST_HEX_MAX];
    long seq = 1;
    if (last.len) {
        int oom = 0;
        json_t *lj = vl_json_loadb(last.data, last.len, 0, NULL, &oom);
        seq = (long)json_integer_value(json_object_get(lj, "seq")) + 1;
        json_decref(lj);
        if (oom || vl_digest_buffer(VL_SHA256, last.data, last.len, prev) != 0) {
            rc = vl_error_set(err, VL_ESYS, "%s: out of memory", log_path);
            goto done;
        }
    } else {
        strcpy(prev, ZERO_HASH);
    }
    copy = json_deep_copy(ev);
    if (!copy || json_object_set_new(copy, "seq", json_integer(seq)) != 0 ||
        json_object_set_new(copy, "prev", json_string(prev)) != 0 ||
        !(text = vl_json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = vl_error_oom(err);
        goto done;
    }
    char hash[VL_DIGEST_HEX_MAX];
    size_t len = strlen(text);
    if (vl_digest_buffer(VL_SHA256, text, len, hash) != 0) {
        rc = vl_error_set(err, VL_ESYS, "event digest: out of memory");
        goto done;
    }
    line = malloc(len + 2);
    if (!line) {
        rc = vl_error_oom(err);
        goto done;
    }
    memcpy(line, text, len);
    line[len] = '\n';
    line[len + 1] = '\0';
    if (vl_fs_write_all(fd, line, len + 1) != 0) {
        rc = vl_error_sys(err, "cannot append to %s", log_path);
        goto cut_back;
    }
    if (fdatasync(fd) != 0) {
        rc = vl_error_sys(err, "cannot flush %s", log_path);
        goto cut_back;
    }
    rc = vl_catalog_event_insert(r->catalog, seq, text, hash, err);
    goto done;
cut_back:
    /* A half-written line (disk full) must not stay: later lines would be
     * glued to it.  The event was never recorded, so cutting is safe. */
    if (ftruncate(fd, size_before) == 0)
        fdatasync(fd);
done:
    if (fd >= 0)
        close(fd);
    if (lockfd >= 0)
        close(lockfd);
    json_decref(copy);
    vl_buf_release(&last);
    free(text);
    free(line);
    free(lock_path);
    free(log_path);
    return rc;
}

int vl_events_append_all(vl_repo *r, json_t *events, vl_error *err)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        int rc = vl_events_append_json(r, ev, err);
        if (rc != VL_OK)
            return rc;
    }
    return VL_OK;
}

int vl_events_append(vl_repo *r, const vl_event *ev, vl_error *err)
{
    json_t *j = vl_event_to_json(ev);
    if (!j)
        return vl_error_oom(err);
    int rc = vl_events_append_json(r, j, err);
    json_decref(j);
    return rc;
}

int vl_events_list(vl_repo *r, const vl_event_filter *f, vl_event_fn fn,
                   void *arg, vl_error *err)
{
    return vl_catalog_events_query(r->catalog, f, fn, arg, err);
}

/* ---- verification and rebuilding ------------------------------------- */

typedef int (*line_fn)(void *arg, long lineno, const char *line, size_t len,
                       vl_error *err);

static int each_line_path(const char *log_path, line_fn fn, void *arg,
                          vl_error *err);

/* Stream the log line by line (lines can be long; bounded by MAX_LINE). */
static int each_line(vl_repo *r, line_fn fn, void *arg, vl_error *err)
{
    char *log_path = paths(r, LOG_NAME);
    int rc = log_path ? each_line_path(log_path, fn, arg, err)
                      : vl_error_oom(err);
    free(log_path);
    return rc;
}

/* The same for the log at log_path (a missing file is an empty log). */
static int each_line_path(const char *log_path, line_fn fn, void *arg,
                          vl_error *err)
{
    FILE *f = fopen(log_path, "r");
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = VL_OK;
    if (!f)
        return errno == ENOENT ? VL_OK
                               : vl_error_sys(err, "cannot open %s", log_path);
    while ((n = getline(&buf, &cap, f)) > 0 && rc == VL_OK) {
        lineno++;
        size_t len = (size_t)n;
        if (buf[len - 1] == '\n')
            len--;
        rc = fn(arg, lineno, buf, len, err);
    }
    free(buf);
    fclose(f);
    return rc;
}

struct verify_ctx {
    vl_message_fn fn;
    void *arg;
    char prev[VL_DIGEST_HEX_MAX];
    long expect_seq;
    size_t problems;
    long first_bad;
    /* hashes of the log lines, by seq, to compare with the catalog */
    json_t *hashes;
    const char *where;   /* how problems name a line: "events.jsonl line" */
};

static void problem(struct verify_ctx *c, long lineno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(struct verify_ctx *c, long lineno, const char *fmt, ...)
{
    char msg[900], line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lineno > 0) {
        snprintf(line, sizeof line, "%s %ld: %s", c->where, lineno, msg);
        if (!c->first_bad)
            c->first_bad = lineno;
    } else {
        snprintf(line, sizeof line, "%s", msg);
    }
    c->problems++;
    if (c->fn)
        c->fn(c->arg, line);
}

static int verify_line(void *arg, long lineno, const char *line, size_t len,
                       vl_error *err)
{
    struct verify_ctx *c = arg;
    char hash[VL_DIGEST_HEX_MAX];
    int oom = 0;
    json_t *j = vl_json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL, &oom);
    if (oom || vl_digest_buffer(VL_SHA256, line, len, hash) != 0) {
        json_decref(j);
        return vl_error_set(err, VL_ESYS, "events.jsonl line %ld: out of memory",
                            lineno);
    }
    if (!j) {
        problem(c, lineno, "not valid JSON");
    } else {
        const char *prev = json_string_value(json_object_get(j, "prev"));
        long seq = (long)json_integer_value(json_object_get(j, "seq"));
        if (!prev || strcmp(prev, c->prev) != 0)
            problem(c, lineno, "chain broken: prev does not match the SHA-256 of "
                    "line %ld (an earlier line was changed, removed or reordered)",
                    lineno - 1);
        if (seq != c->expect_seq)
            problem(c, lineno, "sequence %ld where %ld was expected", seq, c->expect_seq);
        /* canonical form: the line must be exactly what we would write */
        char *canon = vl_json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        char key[32];
        snprintf(key, sizeof key, "%ld", seq);
        if (!canon || json_object_set_new(c->hashes, key, json_string(hash)) != 0) {
            free(canon);
            json_decref(j);
            return vl_error_set(err, VL_ESYS, "events.jsonl line %ld: out of "
                                "memory", lineno);
        }
        if (strlen(canon) != len || memcmp(canon, line, len) != 0)
            problem(c, lineno, "not in canonical form (edited by hand?)");
        free(canon);
    }
    json_decref(j);
    memcpy(c->prev, hash, sizeof hash);
    c->expect_seq++;
    return VL_OK;
}

static int verify_catalog_row(void *arg, long seq, const char *hash)
{
    struct verify_ctx *c = arg;
    char key[32];
    snprintf(key, sizeof key, "%ld", seq);
    const char *h = json_string_value(json_object_get(c->hashes, key));
    if (!h)
        problem(c, 0, "catalog event %ld is missing from the log (the log was "
                "cut short or a line was removed)", seq);
    else if (strcmp(h, hash) != 0)
        problem(c, 0, "catalog event %ld differs from log line with that "
                "sequence (the line was changed)", seq);
    json_object_del(c->hashes, key);
    return 0;
}

/* A row of a PostgreSQL log: its line checked as a log line is, and the
 * hash stored beside it against the line. */
static int verify_db_line(void *arg, long seq, const char *line,
                          const char *hash, vl_error *err)
{
    struct verify_ctx *c = arg;
    int rc = verify_line(c, seq, line, strlen(line), err);
    if (rc == VL_OK && (!hash || strcmp(hash, c->prev) != 0))
        problem(c, seq, "the catalog's hash of this event differs from its "
                "line (the row was changed)");
    return rc;
}

static int verify_db(vl_repo *r, struct verify_ctx *c, vl_error *err)
{
    int rc;
    c->where = "event";
    if ((rc = vl_catalog_events_lines(r->catalog, verify_db_line, c, err)) ==
        VL_OK)
        rc = c->problems ? VL_FINDING : VL_OK;
    return rc;
}

int vl_events_verify_file(const char *path, vl_message_fn fn, void *arg,
                          vl_error *err)
{
    struct verify_ctx c = {.fn = fn, .arg = arg, .prev = ZERO_HASH,
                           .expect_seq = 1, .hashes = json_object(),
                           .where = "line"};
    int rc;
    if (!c.hashes)
        return vl_error_oom(err);
    rc = each_line_path(path, verify_line, &c, err);
    if (rc == VL_OK)
        rc = c.problems ? VL_FINDING : VL_OK;
    json_decref(c.hashes);
    return rc;
}

struct export_ctx {
    FILE *out;
    const char *name;
};

static int export_write(struct export_ctx *x, const char *line, size_t len,
                        vl_error *err)
{
    if (fwrite(line, 1, len, x->out) != len || putc('\n', x->out) == EOF)
        return vl_error_sys(err, "cannot write %s", x->name);
    return VL_OK;
}

static int export_db_line(void *arg, long seq, const char *line,
                          const char *hash, vl_error *err)
{
    (void)seq;
    (void)hash;
    return export_write(arg, line, strlen(line), err);
}

static int export_file_line(void *arg, long lineno, const char *line,
                            size_t len, vl_error *err)
{
    (void)lineno;
    return export_write(arg, line, len, err);
}

int vl_events_export(vl_repo *r, FILE *out, const char *name, vl_error *err)
{
    struct export_ctx x = {out, name};
    if (vl_catalog_events_are_log(r->catalog))
        return vl_catalog_events_lines(r->catalog, export_db_line, &x, err);
    return each_line(r, export_file_line, &x, err);
}

int vl_events_verify(vl_repo *r, vl_message_fn fn, void *arg, vl_error *err)
{
    struct verify_ctx c = {.fn = fn, .arg = arg, .prev = ZERO_HASH,
                           .expect_seq = 1, .hashes = json_object(),
                           .where = "events.jsonl line"};
    int rc;
    if (!c.hashes)
        return vl_error_oom(err);
    if (vl_catalog_events_are_log(r->catalog)) {
        rc = verify_db(r, &c, err);
        goto done;
    }
    if ((rc = each_line(r, verify_line, &c, err)) != VL_OK)
        goto done;
    if ((rc = vl_catalog_events_hashes(r->catalog, verify_catalog_row, &c, err)) != VL_OK)
        goto done;
    const char *k;
    json_t *v;
    json_object_foreach(c.hashes, k, v)
        problem(&c, 0, "log event %s is not in the catalog (run 'vellum reindex')", k);
    rc = c.problems ? VL_FINDING : VL_OK;
done:
    json_decref(c.hashes);
    return rc;
}

struct reindex_ctx {
    vl_repo *r;
    size_t n;
};

static int reindex_line(void *arg, long lineno, const char *line, size_t len,
                        vl_error *err)
{
    struct reindex_ctx *c = arg;
    char hash[VL_DIGEST_HEX_MAX];
    int oom = 0;
    json_t *j = vl_json_loadb(line, len, 0, NULL, &oom);
    if (oom)
        return vl_error_set(err, VL_ESYS, "events.jsonl line %ld: out of memory",
                            lineno);
    if (!j)
        return vl_error_set(err, VL_FINDING, "events.jsonl line %ld is not valid "
                            "JSON; run 'vellum events verify'", lineno);
    long seq = (long)json_integer_value(json_object_get(j, "seq"));
    json_decref(j);
    if (vl_digest_buffer(VL_SHA256, line, len, hash) != 0)
        return vl_error_set(err, VL_ESYS, "events.jsonl line %ld: out of memory",
                            lineno);
    char *text = vl_strndup(line, len);
    if (!text)
        return vl_error_oom(err);
    int rc = vl_catalog_event_insert(c->r->catalog, seq, text, hash, err);
    free(text);
    c->n++;
    return rc;
}

int vl_events_reindex(vl_repo *r, size_t *count, vl_error *err)
{
    struct reindex_ctx c = {r, 0};
    int rc;
    /* A PostgreSQL catalog's events are the log: nothing to rebuild. */
    if (vl_catalog_events_are_log(r->catalog)) {
        if (count)
            *count = 0;
        return VL_OK;
    }
    if ((rc = vl_catalog_begin(r->catalog, err)) != VL_OK)
        return rc;
    if ((rc = vl_catalog_events_clear(r->catalog, err)) == VL_OK)
        rc = each_line(r, reindex_line, &c, err);
    if (rc == VL_OK)
        rc = vl_catalog_commit(r->catalog, err);
    else
        vl_catalog_rollback(r->catalog);
    if (count)
        *count = c.n;
    return rc;
}

/* After a crash between a log append and its catalog insert, the log is
 * ahead of the catalog: copy the missing tail across. */
struct catch_up_ctx {
    vl_repo *r;
    long have;
};

static int max_seq(void *arg, long seq, const char *hash)
{
    (void)hash;
    struct catch_up_ctx *c = arg;
    if (seq > c->have)
        c->have = seq;
    return 0;
}

static int catch_up_line(void *arg, long lineno, const char *line, size_t len,
                         vl_error *err)
{
    struct catch_up_ctx *c = arg;
    struct reindex_ctx rc = {c->r, 0};
    int oom = 0;
    json_t *j = vl_json_loadb(line, len, 0, NULL, &oom);
    if (oom)
        return vl_error_set(err, VL_ESYS, "events.jsonl line %ld: out of memory",
                            lineno);
    long seq = (long)json_integer_value(json_object_get(j, "seq"));
    json_decref(j);
    if (!j || seq <= c->have)
        return VL_OK;
    return reindex_line(&rc, lineno, line, len, err);
}

int vl_events_catch_up(vl_repo *r, vl_error *err)
{
    struct catch_up_ctx c = {r, 0};
    if (vl_catalog_events_are_log(r->catalog))
        return VL_OK; /* no second copy to catch up with */
    int rc = vl_catalog_events_hashes(r->catalog, max_seq, &c, err);
    if (rc == VL_OK)
        rc = each_line(r, catch_up_line, &c, err);
    return rc;
}
