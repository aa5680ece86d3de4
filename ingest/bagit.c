/* BagIt checker (RFC 8493 / BagIt 1.0, and the 0.93-0.97 drafts still met
 * in the wild).  Tag files arrive by local path or as bytes, so a bag in a
 * folder and a bag in an archive are checked the same way; payload files
 * arrive as (path, size, digests) from the ingest pipeline, which hashes
 * each byte once.  Every discrepancy is collected and reported, not just
 * the first.
 *
 * Memory does not grow with the bag's file count: manifests and fetch.txt
 * are read line by line (from their path, or from the bytes handed in,
 * spooled), and what is kept per file (manifest entries, payload seen,
 * fetch entries, discrepancies) goes to a private scratch SQLite database
 * with a small page cache (vl_scratch_db_open), whose checks are indexed
 * look-ups and ordered scans.  Only bagit.txt and bag-info.txt (capped,
 * small) are held whole.
 *
 * Decisions where the texts leave room (see also manifest.c for paths):
 * - bagit.txt must be exactly the two lines, in order, label, ':' and one
 *   space or tab, no other whitespace, and no byte-order mark in any
 *   version (both the draft and the RFC say so for the declaration).
 * - Tag-File-Character-Encoding may name another encoding than UTF-8 in
 *   every version (RFC 8493 2.1.1 and 2.3: UTF-8 is strongly recommended,
 *   not required; a 1.0 bag that uses another gets a warning).  Manifests,
 *   fetch.txt and bag-info.txt are converted with iconv before parsing;
 *   digests are still taken over the raw bytes.
 * - UTF-8 tag files must not start with a BOM (RFC 8493 2.3: a BOM only
 *   where the encoding needs one, and UTF-8 does not).
 * - Manifests may use any fixed-length digest OpenSSL provides (2.4 asks
 *   only that the name be the algorithm's, lower case, non-alphanumerics
 *   removed; a name not in that form, such as bagit-python's "sha3_256",
 *   is read with a warning).
 * - The same path twice in one manifest with the same checksum is a
 *   warning, with another checksum a refusal; two entries of one manifest
 *   that differ only in Unicode normalization or case get a warning (6.1.1.3
 *   of the RFC, "Recommendations").
 * - A payload file listed in one Unicode normalization and present in the
 *   other (NFC/NFD) matches when it is the only such file, with a warning
 *   (6.1.1.3: tolerate differences in normalization form).
 * - fetch.txt (2.2.3): "URL LENGTH PATH" lines, LENGTH a number of octets or
 *   "-", PATH encoded and normalised as in manifests.  In a 1.0 bag every
 *   path must be a payload file listed in every payload manifest (a tag
 *   file or an unlisted path is refused); a 0.9x bag gets a warning.  A bag
 *   whose fetched files are all present and match is complete; a missing
 *   one is reported with the URL it would come from (vellum downloads
 *   nothing).
 * - Blank lines in manifests, fetch.txt and bag-info.txt are skipped.
 * - Payload-Oxum may appear once. */
#include "bagit_private.h"
#include "ingest_internal.h"
#include "manifest_private.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "vl_storage.h"

#define TAG_FILE_MAX (16u << 20)
/* Manifests grow with the payload (~200 bytes a file for sha512), so those
 * handed in as bytes get a larger cap than the other tag files; given by
 * path they are streamed and have none. */
#define MANIFEST_FILE_MAX (256u << 20)
/* One manifest per algorithm, and OpenSSL has fewer than 32. */
#define BAG_MAX_MANIFESTS 32
/* Tag manifests' entries are kept under m = TAG_M + k. */
#define TAG_M 64
/* Manifests and fetch.txt are read this many bytes at a time. */
#define READ_CHUNK (64u << 10)
/* The scratch index's page cache: what the bag holds in memory whatever
 * its file count. */
#define BAG_CACHE_KIB 2048

typedef struct tag_file {
    char *rel;
    char *data;      /* held: bagit.txt, bag-info.txt, package-info.txt */
    size_t len;
    char *path;      /* read from here, streamed, never held */
    sqlite3_int64 spool;   /* > 0: bytes handed in, kept in the scratch index */
} tag_file;

typedef struct bag_manifest {
    char *name;                      /* "manifest-sha256.txt" */
    char evp[VL_DIGEST_NAME_MAX];    /* OpenSSL's name of the algorithm */
    char shown[VL_DIGEST_NAME_MAX];  /* as messages name it: "sha256" */
    int known;                       /* a vl_digest_alg, or -1 */
    int extra;                       /* payload, known -1: index in extra[] */
    int id;                          /* entry.m in the scratch index */
} bag_manifest;

/* Statements used per line or per payload file, prepared once. */
enum {
    Q_ENTRY_ADD, Q_ENTRY_GET, Q_ENTRY_ALL, Q_SEEN_GET, Q_SEEN_ADD,
    Q_SEEN_HEX_ADD, Q_FETCH_GET, Q_FETCH_ADD, Q_MSG_ADD, Q_SPOOL_ADD, Q_COUNT
};

static const char *const queries[Q_COUNT] = {
    "INSERT INTO entry(m, path, hex, line, fold) VALUES (?1, ?2, ?3, ?4, ?5)",
    "SELECT hex, line FROM entry WHERE path = ?1 AND m = ?2",
    "SELECT m, hex FROM entry WHERE path = ?1 AND m < ?2",
    "SELECT 1 FROM seen WHERE path = ?1",
    "INSERT INTO seen(path, listed, nfc) VALUES (?1, ?2, ?3)",
    "INSERT INTO seen_hex(id, k, hex) VALUES (?1, ?2, ?3)",
    "SELECT url, line FROM fetch WHERE path = ?1",
    "INSERT INTO fetch(path, url, line) VALUES (?1, ?2, ?3)",
    "INSERT INTO msg(cls, key, text) VALUES (?1, ?2, ?3)",
    "INSERT INTO spool(id, part, data) VALUES (?1, ?2, ?3)",
};

/* Per file state, on disk beyond the page cache (RFC 8493 checks become
 * indexed look-ups and ordered scans):
 * entry    each manifest's entries (m: payload k, or TAG_M + k), with the
 *          name's NFC case-folded key for the lookalike warnings
 * seen     payload files recorded, with the manifests that list them
 *          (bits) and the name's NFC key; seen_hex the digests computed
 *          for manifests that do not list a file under its own name
 * fetch    fetch.txt's entries kept
 * msg      discrepancies, reported ordered by (cls, key, seq)
 * miss, effx, claim: vl_bag_verify's working tables; look the lookalike
 *          pairs of the manifest just read
 * spool    tag files handed in as bytes that are not kept whole, in parts
 *          of at most READ_CHUNK bytes */
static const char schema[] =
    "CREATE TABLE entry(m INTEGER NOT NULL, path TEXT NOT NULL, hex TEXT NOT NULL,"
    " line INTEGER NOT NULL, fold TEXT, PRIMARY KEY(path, m)) WITHOUT ROWID;"
    "CREATE INDEX entry_line ON entry(m, line);"
    "CREATE INDEX entry_fold ON entry(m, fold, line) WHERE fold IS NOT NULL;"
    "CREATE TABLE seen(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
    " listed INTEGER NOT NULL, nfc TEXT);"
    "CREATE INDEX seen_nfc ON seen(nfc) WHERE nfc IS NOT NULL;"
    "CREATE TABLE seen_hex(id INTEGER NOT NULL, k INTEGER NOT NULL, hex TEXT NOT NULL,"
    " PRIMARY KEY(id, k)) WITHOUT ROWID;"
    "CREATE TABLE fetch(path TEXT PRIMARY KEY, url TEXT NOT NULL,"
    " line INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE msg(seq INTEGER PRIMARY KEY, cls INTEGER NOT NULL,"
    " key TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE TABLE miss(ord INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,"
    " bits INTEGER NOT NULL);"
    "CREATE TABLE effx(id INTEGER PRIMARY KEY, bits INTEGER NOT NULL,"
    " warned INTEGER NOT NULL);"
    "CREATE TABLE claim(nfc TEXT PRIMARY KEY) WITHOUT ROWID;"
    "CREATE TABLE look(line INTEGER PRIMARY KEY, path TEXT NOT NULL,"
    " first_line INTEGER NOT NULL, first TEXT NOT NULL);"
    "CREATE TABLE spool(id INTEGER NOT NULL, part INTEGER NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY(id, part));"
    "BEGIN;";

struct vl_bag {
    tag_file *tags;
    size_t ntags, tcap;
    json_t *tagmap;      /* rel -> index into tags */
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    size_t chunk;        /* bytes read at a time from a manifest */
    int parsed;
    int limit;           /* the refusal is about what vellum reads */
    char version[16];
    int legacy;          /* before 1.0 */
    char encoding[64];
    bag_manifest pay[BAG_MAX_MANIFESTS];     /* in name order */
    size_t npay;
    bag_manifest tagm[BAG_MAX_MANIFESTS];
    size_t ntagm;
    unsigned payload_mask;
    const char *extra[BAG_MAX_MANIFESTS];    /* evp names of known -1 */
    size_t nextra;
    char **labels, **values;
    size_t ninfo, lcap, vcap;   /* labels[] and values[] grow apart */
    char info_name[32];  /* "bag-info.txt" or "package-info.txt" */
    int has_oxum;
    uint64_t oxum_octets, oxum_streams;
    size_t nfetch;
    uint64_t nseen;
    uint64_t seen_bytes;
    int seen_overflow;
    int data_dir;        /* -1 not known, 0 absent, 1 present */
    vl_report_fn warn;
    void *warn_arg;
    int complete;        /* from the last verify */
    size_t to_fetch;
    /* the manifest being read: its id, for the sink */
    int cur_m;
    sqlite3_int64 nspool;   /* tag files spooled so far */
};

/* A failure of the scratch index: the machine's (memory, temporary
 * space), never the bag's. */
static int db_fail(vl_bag *b, vl_error *err, const char *what)
{
    if (b->db && sqlite3_errcode(b->db) == SQLITE_NOMEM)
        return vl_error_oom(err);
    return vl_error_set(err, VL_ESYS, "%s: the bag's scratch index failed: %s",
                        what, b->db ? sqlite3_errmsg(b->db) : "cannot open");
}

/* q reset and ready for new bindings. */
static sqlite3_stmt *stmt(vl_bag *b, int q)
{
    sqlite3_reset(b->q[q]);
    sqlite3_clear_bindings(b->q[q]);
    return b->q[q];
}

static int bind_text(sqlite3_stmt *s, int i, const char *t)
{
    return t ? sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT)
             : sqlite3_bind_null(s, i);
}

/* Run a statement that returns no rows. */
static int step_done(vl_bag *b, sqlite3_stmt *s, const char *what, vl_error *err)
{
    int code = sqlite3_step(s);

    sqlite3_reset(s);
    return code == SQLITE_DONE ? VL_OK : db_fail(b, err, what);
}

static int exec_sql(vl_bag *b, const char *sql, const char *what, vl_error *err)
{
    return sqlite3_exec(b->db, sql, NULL, NULL, NULL) == SQLITE_OK
               ? VL_OK : db_fail(b, err, what);
}

vl_bag *vl_bag_new(void)
{
    vl_bag *b = calloc(1, sizeof *b);
    int i;

    if (!b)
        return NULL;
    b->data_dir = -1;
    b->chunk = READ_CHUNK;
    b->tagmap = json_object();
    if (!b->tagmap || vl_scratch_db_open(&b->db, BAG_CACHE_KIB, schema) != SQLITE_OK)
        goto fail;
    for (i = 0; i < Q_COUNT; i++)
        if (sqlite3_prepare_v2(b->db, queries[i], -1, &b->q[i], NULL) != SQLITE_OK)
            goto fail;
    return b;
fail:
    vl_bag_free(b);
    return NULL;
}

void vl_bag_set_read_chunk(vl_bag *b, size_t bytes)
{
    b->chunk = bytes ? bytes : READ_CHUNK;
}

void vl_bag_set_warn(vl_bag *b, vl_report_fn fn, void *arg)
{
    b->warn = fn;
    b->warn_arg = arg;
}

void vl_bag_set_payload_dir(vl_bag *b, int present)
{
    b->data_dir = present ? 1 : 0;
}

static void bag_warn(vl_bag *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bag_warn(vl_bag *b, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!b->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->warn(b->warn_arg, msg);
}

static void manifest_release(bag_manifest *m)
{
    free(m->name);
}

void vl_bag_free(vl_bag *b)
{
    size_t i;

    if (!b)
        return;
    for (i = 0; i < b->ntags; i++) {
        free(b->tags[i].rel);
        free(b->tags[i].data);
        free(b->tags[i].path);
    }
    free(b->tags);
    json_decref(b->tagmap);
    for (i = 0; i < b->npay; i++)
        manifest_release(&b->pay[i]);
    for (i = 0; i < b->ntagm; i++)
        manifest_release(&b->tagm[i]);
    for (i = 0; i < b->ninfo; i++) {
        free(b->labels[i]);
        free(b->values[i]);
    }
    free(b->labels);
    free(b->values);
    for (i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(b->q[i]);
    /* a temporary database: closing drops it and its file */
    sqlite3_close(b->db);
    free(b);
}

/* Add one discrepancy line; key is the path it concerns (sort order). */
static int msg_add(vl_bag *b, int cls, const char *key, vl_error *err,
                   const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int msg_add(vl_bag *b, int cls, const char *key, vl_error *err,
                   const char *fmt, ...)
{
    va_list ap;
    char *text = NULL;
    int n, rc = VL_OK;
    sqlite3_stmt *s;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(text = malloc((size_t)n + 1))) {
        rc = vl_error_sys(err, "bag report");
        goto done;
    }
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s = stmt(b, Q_MSG_ADD);
    if (sqlite3_bind_int(s, 1, cls) != SQLITE_OK || bind_text(s, 2, key) != SQLITE_OK ||
        sqlite3_bind_text(s, 3, text, n, SQLITE_STATIC) != SQLITE_OK) {
        rc = db_fail(b, err, "bag report");
        goto done;
    }
    rc = step_done(b, s, "bag report", err);
done:
    free(text);
    return rc;
}

static int is_manifest_name(const char *rel, const char *prefix)
{
    size_t pl = strlen(prefix), n = strlen(rel);

    return n > pl + 4 && strncmp(rel, prefix, pl) == 0 &&
           strcmp(rel + n - 4, ".txt") == 0 && !strchr(rel, '/');
}

int vl_bag_tag_is_read(const char *rel)
{
    return !strcmp(rel, "bagit.txt") || !strcmp(rel, "bag-info.txt") ||
           !strcmp(rel, "package-info.txt") || !strcmp(rel, "fetch.txt") ||
           is_manifest_name(rel, "manifest-") || is_manifest_name(rel, "tagmanifest-");
}

/* The tag files read whole and kept: small, capped, and needed whole. */
static int tag_is_held(const char *rel)
{
    return !strcmp(rel, "bagit.txt") || !strcmp(rel, "bag-info.txt") ||
           !strcmp(rel, "package-info.txt");
}

/* A new entry for tag file rel (checked: a path in normal form, not
 * payload, not given before, at most cap bytes when len is known); the
 * caller fills in its bytes or path. */
static int tag_new(vl_bag *b, const char *rel, size_t len, size_t cap, tag_file **out,
                   vl_error *err)
{
    tag_file *t;
    int rc;

    if (b->parsed)
        return vl_error_set(err, VL_EINPUT, "tag file %s added after the bag "
                            "was parsed", rel);
    /* A relative path to a file in the bag, in normal form; any other byte
     * may be in a name (a tag manifest encodes CR and LF). */
    {
        const char *seg = rel;
        int bad = !*rel || !vl_utf8_valid(rel, strlen(rel));
        while (!bad) {
            const char *slash = strchr(seg, '/');
            size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
            bad = sl == 0 || (sl == 1 && seg[0] == '.') ||
                  (sl == 2 && seg[0] == '.' && seg[1] == '.');
            if (!slash)
                break;
            seg = slash + 1;
        }
        if (bad) {
            char *esc = vl_name_escape(rel);
            rc = vl_error_set(err, VL_EINPUT, "tag file \"%s\": not a "
                              "relative path in normal form",
                              esc ? esc : "?");
            free(esc);
            return rc;
        }
    }
    if (strcmp(rel, "data") == 0 || strncmp(rel, "data/", 5) == 0) {
        char *esc = vl_name_escape(rel);
        rc = vl_error_set(err, VL_EINPUT, "%s: payload, not a tag file",
                          esc ? esc : "?");
        free(esc);
        return rc;
    }
    if (cap && len > cap)
        return vl_error_set(err, VL_EINPUT, "%s: tag file of %zu bytes; "
                            "vellum reads tag files up to %zu MiB", rel, len,
                            (size_t)(cap >> 20));
    if (json_object_get(b->tagmap, rel))
        return vl_error_set(err, VL_EINPUT, "%s: tag file given twice", rel);
    if (VL_GROW(b->tags, b->tcap, b->ntags + 1, err) != VL_OK)
        return VL_ESYS;
    t = &b->tags[b->ntags];
    memset(t, 0, sizeof *t);
    if (!(t->rel = vl_strdup(rel)) ||
        json_object_set_new_nocheck(b->tagmap, rel,
                                    json_integer((json_int_t)b->ntags)) != 0) {
        free(t->rel);
        errno = ENOMEM;
        return vl_error_sys(err, "%s", rel);
    }
    b->ntags++;
    *out = t;
    return VL_OK;
}

/* The cap of tag file rel when handed in as bytes. */
static size_t tag_cap(const char *rel)
{
    return is_manifest_name(rel, "manifest-") || is_manifest_name(rel, "tagmanifest-")
               ? MANIFEST_FILE_MAX : TAG_FILE_MAX;
}

int vl_bag_add_tag_stream(vl_bag *b, const char *rel, vl_bag_read_fn fn, void *arg,
                          vl_error *err)
{
    size_t cap = tag_cap(rel), len = 0, got;
    sqlite3_int64 id = b->nspool + 1, part = 0;
    char *chunk = malloc(READ_CHUNK);
    int rc = VL_OK, held = tag_is_held(rel);
    vl_buf data;
    tag_file *t;

    vl_buf_init(&data, 0);
    if (!chunk) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* Past the cap, bytes are only counted: the refusal gives the size. */
    while ((rc = fn(arg, chunk, READ_CHUNK, &got, err)) == VL_OK && got) {
        if (len + got <= cap) {
            if (held) {
                rc = vl_buf_append(&data, chunk, got, err);
            } else {
                /* spooled into the scratch index (beyond its page cache, to
                 * its temporary file) and read back streamed */
                sqlite3_stmt *s = stmt(b, Q_SPOOL_ADD);
                if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
                    sqlite3_bind_int64(s, 2, part++) != SQLITE_OK ||
                    sqlite3_bind_blob(s, 3, chunk, (int)got, SQLITE_STATIC) != SQLITE_OK)
                    rc = db_fail(b, err, rel);
                else
                    rc = step_done(b, s, rel, err);
                sqlite3_clear_bindings(s);
            }
            if (rc != VL_OK)
                goto done;
        }
        len += got;
    }
    if (rc != VL_OK || (rc = tag_new(b, rel, len, cap, &t, err)) != VL_OK)
        goto done;
    t->len = len;
    if (held) {
        t->data = vl_buf_detach(&data);
    } else {
        t->spool = id;
        b->nspool = id;
    }
done:
    if (rc != VL_OK && !held && part) {
        /* refused: its parts go, what else was spooled stays */
        char sql[96];
        snprintf(sql, sizeof sql, "DELETE FROM spool WHERE id = %lld", (long long)id);
        sqlite3_exec(b->db, sql, NULL, NULL, NULL);
    }
    vl_buf_release(&data);
    free(chunk);
    return rc;
}

typedef struct mem_reader {
    const char *data;
    size_t len, off;
} mem_reader;

static int mem_read(void *arg, void *buf, size_t cap, size_t *got, vl_error *err)
{
    mem_reader *m = arg;

    *got = m->len - m->off < cap ? m->len - m->off : cap;
    if (*got)
        memcpy(buf, m->data + m->off, *got);
    m->off += *got;
    return VL_OK;
}

int vl_bag_add_tag_file(vl_bag *b, const char *rel, const void *data,
                        size_t len, vl_error *err)
{
    mem_reader m = {data, len, 0};

    /* refused before a byte is copied when too large */
    if (len > tag_cap(rel)) {
        tag_file *t;
        return tag_new(b, rel, len, tag_cap(rel), &t, err);
    }
    return vl_bag_add_tag_stream(b, rel, mem_read, &m, err);
}

int vl_bag_add_tag_path(vl_bag *b, const char *rel, const char *path, vl_error *err)
{
    tag_file *t;
    struct stat st;
    vl_buf buf;
    int rc, held = tag_is_held(rel);

    /* Only the small tag files are read now (and checked against their
     * cap); the others are streamed from path when the bag reads them. */
    if (held && stat(path, &st) != 0)
        return vl_error_sys(err, "cannot read %s", path);
    if ((rc = tag_new(b, rel, held ? (size_t)st.st_size : 0, held ? TAG_FILE_MAX : 0,
                      &t, err)) != VL_OK)
        return rc;
    if (held) {
        if ((rc = vl_fs_read_file(path, TAG_FILE_MAX, &buf, err)) != VL_OK)
            return rc;
        t->data = buf.data ? buf.data : malloc(1);
        t->len = buf.len;
        if (!t->data)
            return vl_error_oom(err);
        return VL_OK;
    }
    if (!(t->path = vl_strdup(path))) {
        errno = ENOMEM;
        return vl_error_sys(err, "%s", rel);
    }
    return VL_OK;
}

static const tag_file *tag_get(const vl_bag *b, const char *rel)
{
    json_t *v = json_object_get(b->tagmap, rel);

    return v ? &b->tags[json_integer_value(v)] : NULL;
}

/* Split the next line (LF, CRLF or CR) off [*pos, len). */
static int next_line(const char *d, size_t len, size_t *pos, const char **s,
                     size_t *n)
{
    size_t start = *pos, p = *pos;

    if (p >= len)
        return 0;
    while (p < len && d[p] != '\n' && d[p] != '\r')
        p++;
    *s = d + start;
    *n = p - start;
    if (p < len && d[p] == '\r') {
        p++;
        if (p < len && d[p] == '\n')
            p++;
    } else if (p < len) {
        p++;
    }
    *pos = p;
    return 1;
}

/* ---- a tag file's bytes, streamed -------------------------------------- */

typedef struct byte_src {
    const tag_file *t;
    FILE *f;                 /* t->path */
    sqlite3_stmt *parts;     /* t->spool: its parts in order */
    const char *part;        /* the current one, until the next step */
    size_t part_len, part_off;
    int parts_done;          /* stepped past the last (a step more restarts) */
    uint64_t off;            /* t->data */
} byte_src;

static int src_open(vl_bag *b, const tag_file *t, byte_src *s, vl_error *err)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    if (t->path) {
        if (!(s->f = fopen(t->path, "rb")))
            return vl_error_sys(err, "cannot read %s", t->path);
        return VL_OK;
    }
    if (t->spool > 0) {
        if (sqlite3_prepare_v2(b->db, "SELECT data FROM spool WHERE id = ?1 ORDER BY part",
                               -1, &s->parts, NULL) != SQLITE_OK ||
            sqlite3_bind_int64(s->parts, 1, t->spool) != SQLITE_OK)
            return db_fail(b, err, t->rel);
    }
    return VL_OK;   /* held: read from t->data */
}

/* Up to cap bytes into buf; *got 0 at the end. */
static int src_read(vl_bag *b, byte_src *s, char *buf, size_t cap, size_t *got,
                    vl_error *err)
{
    size_t n;

    if (s->f) {
        n = fread(buf, 1, cap, s->f);
        if (n == 0 && ferror(s->f))
            return vl_error_sys(err, "cannot read %s", s->t->path);
    } else if (s->parts) {
        if (s->part_off == s->part_len && !s->parts_done) {
            int code = sqlite3_step(s->parts);
            s->part_off = s->part_len = 0;
            if (code == SQLITE_ROW) {
                s->part = sqlite3_column_blob(s->parts, 0);
                s->part_len = (size_t)sqlite3_column_bytes(s->parts, 0);
            } else if (code == SQLITE_DONE) {
                s->parts_done = 1;
            } else {
                return db_fail(b, err, s->t->rel);
            }
        }
        n = s->part_len - s->part_off < cap ? s->part_len - s->part_off : cap;
        if (n)
            memcpy(buf, s->part + s->part_off, n);
        s->part_off += n;
    } else {
        n = s->t->len - s->off < cap ? (size_t)(s->t->len - s->off) : cap;
        if (n)
            memcpy(buf, s->t->data + s->off, n);
    }
    s->off += n;
    *got = n;
    return VL_OK;
}

static void src_close(byte_src *s)
{
    if (s->f)
        fclose(s->f);
    sqlite3_finalize(s->parts);
    s->f = NULL;
    s->parts = NULL;
}

/* The lines of a manifest or fetch.txt as UTF-8 text, one at a time: the
 * bytes as read, or converted from the declared encoding chunk by chunk (a
 * character cut at a chunk's end waits for the next).  What the whole-file
 * reading decided stays: a UTF-8 file must not start with a byte-order
 * mark; a converted one loses its leading U+FEFF; LF, CRLF and a lone CR
 * end a line, also when cut between chunks. */
typedef struct line_reader {
    vl_bag *b;
    const tag_file *t;
    byte_src src;
    iconv_t cd;              /* (iconv_t)-1: UTF-8, as is */
    char *raw;               /* read, not yet converted */
    size_t raw_len, raw_cap;
    uint64_t raw_off;        /* offset in the file of raw[0] */
    char *text;              /* converted, not yet split */
    size_t text_len, text_pos, text_cap;
    int started;             /* the first bytes were checked */
    int eof, flushed;
    int cr;                  /* the last line ended in CR: skip one LF */
    vl_buf line;
} line_reader;

static int reader_open(vl_bag *b, const tag_file *t, line_reader *r, vl_error *err)
{
    int utf8 = !strcasecmp(b->encoding, "UTF-8") || !strcasecmp(b->encoding, "UTF8");
    int rc;

    memset(r, 0, sizeof *r);
    r->b = b;
    r->t = t;
    r->cd = (iconv_t)-1;
    vl_buf_init(&r->line, 0);
    if (!utf8 && (r->cd = iconv_open("UTF-8", b->encoding)) == (iconv_t)-1)
        return vl_error_set(err, VL_EINPUT, "%s: cannot convert from %s",
                            t->rel, b->encoding);
    /* carried bytes of a cut character (at most a few) plus one chunk; UTF-8
     * takes at most 4 bytes for any input character of >= 1 byte */
    r->raw_cap = b->chunk + 16;
    r->text_cap = utf8 ? b->chunk + 16 : r->raw_cap * 4 + 4;
    r->raw = malloc(r->raw_cap);
    r->text = malloc(r->text_cap);
    if (!r->raw || !r->text)
        return vl_error_sys(err, "%s", t->rel);
    if ((rc = src_open(b, t, &r->src, err)) != VL_OK)
        return rc;
    return VL_OK;
}

static void reader_close(line_reader *r)
{
    src_close(&r->src);
    if (r->cd != (iconv_t)-1)
        iconv_close(r->cd);
    r->cd = (iconv_t)-1;
    free(r->raw);
    free(r->text);
    r->raw = r->text = NULL;
    vl_buf_release(&r->line);
}

/* The next piece of text into r->text; r->text_len 0 at the end. */
static int reader_fill(line_reader *r, vl_error *err)
{
    const tag_file *t = r->t;
    size_t got;
    int rc;

    r->text_len = r->text_pos = 0;
    if (r->cd == (iconv_t)-1) {
        if (!r->started) {
            /* the first three bytes, even from one-byte chunks: a BOM? */
            size_t have = 0;
            char bom[3];
            r->started = 1;
            while (have < 3) {
                if ((rc = src_read(r->b, &r->src, bom + have, 3 - have, &got,
                                   err)) != VL_OK)
                    return rc;
                if (!got)
                    break;
                have += got;
            }
            if (have == 3 && memcmp(bom, "\xEF\xBB\xBF", 3) == 0)
                return vl_error_set(err, VL_EINPUT, "%s: starts with a "
                                    "byte-order mark, which BagIt does not "
                                    "allow in UTF-8 tag files", t->rel);
            memcpy(r->text, bom, have);
            r->text_len = have;
            if (have)
                return VL_OK;
        }
        return src_read(r->b, &r->src, r->text, r->b->chunk, &r->text_len, err);
    }
    while (r->text_len == 0 && !r->flushed) {
        char *in, *o;
        size_t inleft, oleft;
        if (!r->eof && r->raw_len < r->raw_cap) {
            if ((rc = src_read(r->b, &r->src, r->raw + r->raw_len,
                               r->raw_cap - r->raw_len, &got, err)) != VL_OK)
                return rc;
            r->raw_len += got;
            r->eof = got == 0;
        }
        in = r->raw;
        inleft = r->raw_len;
        o = r->text;
        oleft = r->text_cap;
        if (inleft && iconv(r->cd, &in, &inleft, &o, &oleft) == (size_t)-1 &&
            (errno == EILSEQ || (errno == EINVAL && r->eof)))
            return vl_error_set(err, VL_EINPUT, "%s: not valid %s at byte %zu",
                                t->rel, r->b->encoding,
                                (size_t)(r->raw_off + (uint64_t)(in - r->raw)));
        /* E2BIG or a character cut at the chunk's end: the rest waits */
        memmove(r->raw, in, inleft);
        r->raw_off += (uint64_t)(r->raw_len - inleft);
        r->raw_len = inleft;
        if (r->eof && !inleft) {
            if (iconv(r->cd, NULL, NULL, &o, &oleft) == (size_t)-1)
                return vl_error_set(err, VL_EINPUT, "%s: not valid %s at byte %zu",
                                    t->rel, r->b->encoding, (size_t)r->raw_off);
            r->flushed = 1;
        }
        r->text_len = (size_t)(o - r->text);
        /* The encoding may need a BOM (UTF-16BE/LE keep it as U+FEFF). */
        if (!r->started && r->text_len) {
            r->started = 1;
            if (r->text_len >= 3 && memcmp(r->text, "\xEF\xBB\xBF", 3) == 0)
                r->text_pos = 3;
        }
    }
    return VL_OK;
}

/* The next line (terminator removed) into *s, *n (valid until the next
 * call), *more 1; *more 0 at the end. */
static int reader_line(line_reader *r, const char **s, size_t *n, int *more,
                       vl_error *err)
{
    int any = 0, rc;

    vl_buf_reset(&r->line);
    for (;;) {
        const char *p, *end;
        if (r->text_pos >= r->text_len) {
            if ((rc = reader_fill(r, err)) != VL_OK)
                return rc;
            if (r->text_pos >= r->text_len)
                break;
        }
        if (r->cr) {
            r->cr = 0;
            if (r->text[r->text_pos] == '\n') {
                r->text_pos++;
                continue;
            }
        }
        any = 1;
        p = r->text + r->text_pos;
        end = r->text + r->text_len;
        while (p < end && *p != '\n' && *p != '\r')
            p++;
        if ((rc = vl_buf_append(&r->line, r->text + r->text_pos,
                                (size_t)(p - (r->text + r->text_pos)), err)) != VL_OK)
            return rc;
        if (p < end) {
            r->cr = *p == '\r';
            r->text_pos = (size_t)(p - r->text) + 1;
            goto line;
        }
        r->text_pos = r->text_len;
    }
    if (!any) {
        *more = 0;
        return VL_OK;
    }
line:
    if ((rc = vl_buf_append(&r->line, "", 0, err)) != VL_OK)
        return rc;
    *s = r->line.data ? r->line.data : "";
    *n = r->line.len;
    *more = 1;
    return VL_OK;
}
static int is_blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* One declaration line: exactly "<label>: <value>" (one space or tab). */
static int decl_line(const char *s, size_t n, const char *label, char *out,
                     size_t outsz)
{
    size_t ll = strlen(label), vl;

    if (n < ll + 3 || memcmp(s, label, ll) != 0 || s[ll] != ':' ||
        (s[ll + 1] != ' ' && s[ll + 1] != '\t'))
        return -1;
    s += ll + 2;
    vl = n - ll - 2;
    if (vl == 0 || vl >= outsz || s[0] == ' ' || s[0] == '\t' ||
        s[vl - 1] == ' ' || s[vl - 1] == '\t' || memchr(s, '\0', vl))
        return -1;
    memcpy(out, s, vl);
    out[vl] = '\0';
    return 0;
}

/* "UTF-8", in any case, with or without the '-' (IANA lists "UTF-8";
 * writers also say "utf8"). */
static int is_utf8_name(const char *e)
{
    return !strcasecmp(e, "UTF-8") || !strcasecmp(e, "UTF8");
}

static int parse_declaration(vl_bag *b, vl_error *err)
{
    static const char *const versions[] = {"1.0", "0.97", "0.96", "0.95",
                                           "0.94", "0.93"};
    const tag_file *t = tag_get(b, "bagit.txt");
    const char *s[3];
    size_t n[3], pos = 0, nl = 0, i;
    int ok = 0;

    if (!t)
        return vl_error_set(err, VL_EINPUT, "bagit.txt is missing: a bag "
                            "declares itself there (RFC 8493 section 2.1.1)");
    if (t->len >= 3 && memcmp(t->data, "\xEF\xBB\xBF", 3) == 0)
        return vl_error_set(err, VL_EINPUT, "bagit.txt: starts with a "
                            "byte-order mark, which BagIt forbids in the bag "
                            "declaration");
    if (!vl_utf8_valid(t->data, t->len))
        return vl_error_set(err, VL_EINPUT, "bagit.txt: not valid UTF-8");
    while (nl < 3 && next_line(t->data, t->len, &pos, &s[nl], &n[nl]))
        nl++;
    if (nl != 2)
        return vl_error_set(err, VL_EINPUT, "bagit.txt: must be exactly two "
                            "lines (BagIt-Version: M.N, "
                            "Tag-File-Character-Encoding: UTF-8), found %s",
                            nl < 2 ? (nl ? "one" : "none") : "more");
    if (decl_line(s[0], n[0], "BagIt-Version", b->version,
                  sizeof b->version) != 0)
        return vl_error_set(err, VL_EINPUT, "bagit.txt line 1: not "
                            "\"BagIt-Version: M.N\"");
    if (decl_line(s[1], n[1], "Tag-File-Character-Encoding", b->encoding,
                  sizeof b->encoding) != 0)
        return vl_error_set(err, VL_EINPUT, "bagit.txt line 2: not "
                            "\"Tag-File-Character-Encoding: ENCODING\"");
    for (i = 0; i < sizeof versions / sizeof versions[0]; i++)
        if (strcmp(b->version, versions[i]) == 0)
            ok = 1;
    if (!ok) {
        char *esc = vl_name_escape(b->version);
        int rc = vl_error_set(err, VL_EINPUT, "bagit.txt: BagIt-Version %s is "
                              "not supported (1.0 and 0.93-0.97 are)",
                              esc ? esc : "?");
        free(esc);
        b->limit = 1;
        return rc;
    }
    b->legacy = strcmp(b->version, "1.0") != 0;
    if (!is_utf8_name(b->encoding)) {
        char *esc = vl_name_escape(b->encoding);
        iconv_t cd = iconv_open("UTF-8", b->encoding);
        int rc = VL_OK;
        if (cd == (iconv_t)-1) {
            rc = vl_error_set(err, VL_EINPUT, "bagit.txt: "
                              "Tag-File-Character-Encoding %s is not one "
                              "vellum can read", esc ? esc : "?");
            b->limit = 1;
        } else {
            iconv_close(cd);
            if (!b->legacy)
                bag_warn(b, "bagit.txt: tag files are in %s; BagIt 1.0 "
                         "strongly recommends UTF-8 (RFC 8493 section 2.3)",
                         esc ? esc : "?");
        }
        free(esc);
        return rc;
    }
    return VL_OK;
}


/* The text of a held tag file as UTF-8: the bytes themselves, or (another
 * declared encoding) a converted copy in *owned. */
static int tag_text(const vl_bag *b, const tag_file *t, const char **out,
                    size_t *outlen, char **owned, vl_error *err)
{
    iconv_t cd = (iconv_t)-1;
    char *buf = NULL, *in, *o;
    size_t cap, inleft, oleft;
    int rc = VL_OK;

    *owned = NULL;
    if (is_utf8_name(b->encoding)) {
        if (t->len >= 3 && memcmp(t->data, "\xEF\xBB\xBF", 3) == 0) {
            rc = vl_error_set(err, VL_EINPUT, "%s: starts with a byte-order "
                              "mark, which BagIt does not allow in UTF-8 tag "
                              "files", t->rel);
            goto done;
        }
        *out = t->data;
        *outlen = t->len;
        goto done;
    }
    cd = iconv_open("UTF-8", b->encoding);
    if (cd == (iconv_t)-1) {
        rc = vl_error_set(err, VL_EINPUT, "%s: cannot convert from %s",
                          t->rel, b->encoding);
        goto done;
    }
    /* UTF-8 takes at most 4 bytes for any input character of >= 1 byte. */
    cap = t->len * 4 + 4;
    buf = malloc(cap);
    if (!buf) {
        rc = vl_error_sys(err, "%s", t->rel);
        goto done;
    }
    in = t->data;
    inleft = t->len;
    o = buf;
    oleft = cap;
    if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 ||
        iconv(cd, NULL, NULL, &o, &oleft) == (size_t)-1) {
        rc = vl_error_set(err, VL_EINPUT, "%s: not valid %s at byte %zu",
                          t->rel, b->encoding, (size_t)(in - t->data));
        goto done;
    }
    *outlen = (size_t)(o - buf);
    /* The encoding may need a BOM (UTF-16BE/LE keep it as U+FEFF). */
    if (*outlen >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        memmove(buf, buf + 3, *outlen - 3);
        *outlen -= 3;
    }
    *out = buf;
    *owned = buf;
    buf = NULL;
done:
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    free(buf);
    return rc;
}

static void warn_fwd(void *arg, const char *msg)
{
    vl_bag *b = arg;

    if (b->warn)
        b->warn(b->warn_arg, msg);
}

/* vl_name_key, without ICU for the usual all-ASCII name: NFC leaves ASCII
 * as it is, and full case folding maps only A-Z there. */
static char *name_key(const char *s, int fold)
{
    const unsigned char *p;
    char *key;

    for (p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80)
            return vl_name_key(s, fold);
    if (!(key = vl_strdup(s)) || !fold)
        return key;
    for (p = (unsigned char *)key; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *(unsigned char *)p = (unsigned char)(*p + ('a' - 'A'));
    return key;
}

/* The entry manifest m has for path: *found, and its checksum and line. */
static int entry_get(vl_bag *b, int m, const char *path, int *found, char *hex,
                     size_t *line, vl_error *err)
{
    sqlite3_stmt *s = stmt(b, Q_ENTRY_GET);
    int code;

    *found = 0;
    if (bind_text(s, 1, path) != SQLITE_OK || sqlite3_bind_int(s, 2, m) != SQLITE_OK)
        return db_fail(b, err, "bag manifest");
    code = sqlite3_step(s);
    if (code == SQLITE_ROW) {
        *found = 1;
        if (hex)
            snprintf(hex, VL_DIGEST_HEX_MAX, "%s", (const char *)sqlite3_column_text(s, 0));
        if (line)
            *line = (size_t)sqlite3_column_int64(s, 1);
        code = SQLITE_DONE;
    }
    sqlite3_reset(s);
    return code == SQLITE_DONE ? VL_OK : db_fail(b, err, "bag manifest");
}

static int sink_find(void *arg, const char *path, int *found, char *hex,
                     size_t *line, vl_error *err)
{
    vl_bag *b = arg;

    return entry_get(b, b->cur_m, path, found, hex, line, err);
}

static int sink_add(void *arg, const char *path, const char *hex, size_t line,
                    vl_error *err)
{
    vl_bag *b = arg;
    sqlite3_stmt *s = stmt(b, Q_ENTRY_ADD);
    /* the lookalike key; NULL when not UTF-8 (refused before) or out of
     * memory, as the in-memory check skipped those */
    char *fold = name_key(path, 1);
    int rc;

    if (sqlite3_bind_int(s, 1, b->cur_m) != SQLITE_OK || bind_text(s, 2, path) != SQLITE_OK ||
        bind_text(s, 3, hex) != SQLITE_OK ||
        sqlite3_bind_int64(s, 4, (sqlite3_int64)line) != SQLITE_OK ||
        bind_text(s, 5, fold) != SQLITE_OK)
        rc = db_fail(b, err, "bag manifest");
    else
        rc = step_done(b, s, "bag manifest", err);
    free(fold);
    return rc;
}

/* Entries of one manifest that name the same file on a filesystem that
 * normalises Unicode or ignores case (RFC 8493 6.1.1.3 asks for a
 * warning): each entry after the first with its key, against that first,
 * in line order.  One scan in key order finds the pairs (usually none),
 * then they are warned about in line order. */
static int warn_lookalikes(vl_bag *b, const bag_manifest *bm, vl_error *err)
{
    sqlite3_stmt *s = NULL, *put = NULL;
    char *key = NULL, *first = NULL;
    sqlite3_int64 first_line = 0;
    int code, rc = VL_OK;

    if ((rc = exec_sql(b, "DELETE FROM look", bm->name, err)) != VL_OK)
        goto done;
    if (sqlite3_prepare_v2(b->db, "SELECT fold, line, path FROM entry WHERE m = ?1 AND "
                           "fold IS NOT NULL ORDER BY fold, line", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(b->db, "INSERT INTO look(line, path, first_line, first) "
                           "VALUES (?1, ?2, ?3, ?4)", -1, &put, NULL) != SQLITE_OK ||
        sqlite3_bind_int(s, 1, bm->id) != SQLITE_OK) {
        rc = db_fail(b, err, bm->name);
        goto done;
    }
    while ((code = sqlite3_step(s)) == SQLITE_ROW) {
        const char *fold = (const char *)sqlite3_column_text(s, 0);
        const char *path = (const char *)sqlite3_column_text(s, 2);
        if (key && strcmp(key, fold) == 0) {
            sqlite3_reset(put);
            if (sqlite3_bind_int64(put, 1, sqlite3_column_int64(s, 1)) != SQLITE_OK ||
                bind_text(put, 2, path) != SQLITE_OK ||
                sqlite3_bind_int64(put, 3, first_line) != SQLITE_OK ||
                bind_text(put, 4, first) != SQLITE_OK) {
                rc = db_fail(b, err, bm->name);
                goto done;
            }
            if ((rc = step_done(b, put, bm->name, err)) != VL_OK)
                goto done;
            continue;
        }
        free(key);
        free(first);
        key = vl_strdup(fold);
        first = vl_strdup(path);
        first_line = sqlite3_column_int64(s, 1);
        if (!key || !first) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    if (code != SQLITE_DONE) {
        rc = db_fail(b, err, bm->name);
        goto done;
    }
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(b->db, "SELECT line, path, first_line, first FROM look "
                           "ORDER BY line", -1, &s, NULL) != SQLITE_OK) {
        s = NULL;
        rc = db_fail(b, err, bm->name);
        goto done;
    }
    while ((code = sqlite3_step(s)) == SQLITE_ROW) {
        size_t li = (size_t)sqlite3_column_int64(s, 0), lj = (size_t)sqlite3_column_int64(s, 2);
        const char *path = (const char *)sqlite3_column_text(s, 1);
        const char *other = (const char *)sqlite3_column_text(s, 3);
        char *nfc = name_key(path, 0), *nfc_other = name_key(other, 0);
        char *a = vl_name_escape(other), *c = vl_name_escape(path);
        if (nfc && nfc_other && strcmp(nfc, nfc_other) == 0)
            bag_warn(b, "%s lines %zu and %zu: \"%s\" and \"%s\" are the "
                     "same name in two Unicode normalizations (%s, %s)",
                     bm->name, lj, li, a ? a : "?", c ? c : "?",
                     strcmp(other, nfc_other) ? "NFD" : "NFC",
                     strcmp(path, nfc) ? "NFD" : "NFC");
        else
            bag_warn(b, "%s lines %zu and %zu: \"%s\" and \"%s\" differ "
                     "only in case", bm->name, lj, li, a ? a : "?", c ? c : "?");
        free(a);
        free(c);
        free(nfc);
        free(nfc_other);
    }
    if (code != SQLITE_DONE)
        rc = db_fail(b, err, bm->name);
done:
    sqlite3_finalize(s);
    sqlite3_finalize(put);
    free(key);
    free(first);
    return rc;
}

/* The lines of tag file t, streamed to the manifest parser. */
static int read_manifest_lines(vl_bag *b, const tag_file *t, const vl_manifest_opts *o,
                               vl_error *err)
{
    vl_manifest_sink sink = {sink_find, sink_add, b};
    vl_manifest_stream *st = NULL;
    line_reader r;
    size_t line = 0, n;
    const char *s;
    int rc, more = 1;

    if ((rc = reader_open(b, t, &r, err)) != VL_OK)
        goto done;
    if ((rc = vl_manifest_stream_open(o, &sink, t->rel, &st, err)) != VL_OK)
        goto done;
    while ((rc = reader_line(&r, &s, &n, &more, err)) == VL_OK && more)
        if ((rc = vl_manifest_stream_line(st, ++line, s, n, err)) != VL_OK)
            break;
done:
    vl_manifest_stream_close(st);
    reader_close(&r);
    return rc;
}

static int load_manifest(vl_bag *b, const tag_file *t, int is_tag,
                         vl_error *err)
{
    const char *prefix = is_tag ? "tagmanifest-" : "manifest-";
    size_t pl = strlen(prefix), n = strlen(t->rel), i, hex_len;
    bag_manifest *set = is_tag ? b->tagm : b->pay;
    size_t *count = is_tag ? &b->ntagm : &b->npay;
    char *name = vl_strndup(t->rel + pl, n - pl - 4), *esc;
    char evp[VL_DIGEST_NAME_MAX];
    vl_manifest_opts o = {0};
    bag_manifest *bm = NULL;
    int rc = VL_OK, known, normal = 1;

    if (!name) {
        rc = vl_error_sys(err, "%s", t->rel);
        goto done;
    }
    if (vl_digest_lookup(name, evp, &hex_len, &known) != 0) {
        esc = vl_name_escape(name);
        rc = vl_error_set(err, VL_EINPUT, "%s: algorithm \"%s\" is not one "
                          "vellum can compute (it reads every fixed-length "
                          "digest OpenSSL provides: md5, sha1, sha224, "
                          "sha256, sha384, sha512, sha3256, blake2b512...)",
                          t->rel, esc ? esc : "?");
        free(esc);
        b->limit = 1;
        goto done;
    }
    for (i = 0; name[i]; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= '0' && name[i] <= '9')))
            normal = 0;
    if (!normal) {
        esc = vl_name_escape(name);
        bag_warn(b, "%s: \"%s\" is not a BagIt algorithm name (lower case "
                 "letters and digits only, RFC 8493 section 2.4); read as %s",
                 t->rel, esc ? esc : "?", evp);
        free(esc);
    }
    for (i = 0; i < *count; i++)
        if (strcmp(set[i].evp, evp) == 0) {
            rc = vl_error_set(err, VL_EINPUT, "%s and %s both give %s "
                              "checksums", set[i].name, t->rel, set[i].shown);
            goto done;
        }
    if (*count >= BAG_MAX_MANIFESTS) {
        rc = vl_error_set(err, VL_EINPUT, "%s: more than %d %smanifests",
                          t->rel, BAG_MAX_MANIFESTS, is_tag ? "tag " : "");
        goto done;
    }
    bm = &set[*count];
    memset(bm, 0, sizeof *bm);
    snprintf(bm->evp, sizeof bm->evp, "%s", evp);
    snprintf(bm->shown, sizeof bm->shown, "%s",
             known >= 0 ? vl_digest_name((vl_digest_alg)known) : name);
    bm->known = known;
    bm->extra = -1;
    bm->id = (int)*count + (is_tag ? TAG_M : 0);
    o.flags = VL_MF_BAGIT | (b->legacy ? VL_MF_LEGACY : 0) |
              (is_tag ? VL_MF_TAG : VL_MF_PAYLOAD);
    o.alg = known;
    o.hex_len = known >= 0 ? 0 : hex_len;
    o.alg_name = bm->shown;
    o.warn = warn_fwd;
    o.warn_arg = b;
    b->cur_m = bm->id;
    rc = read_manifest_lines(b, t, &o, err);
    if (rc != VL_OK)
        goto done;
    if (!(bm->name = vl_strdup(t->rel))) {
        rc = vl_error_sys(err, "%s", t->rel);
        goto done;
    }
    (*count)++;
    if (!is_tag) {
        if (known >= 0) {
            b->payload_mask |= VL_DIGEST_BIT(known);
        } else {
            bm->extra = (int)b->nextra;
            b->extra[b->nextra++] = bm->evp;
        }
    }
    rc = warn_lookalikes(b, bm, err);
done:
    free(name);
    return rc;
}

/* "scheme:..." with an RFC 3986 scheme: an absolute URI. */
static int absolute_uri(const char *s, size_t n)
{
    size_t i;

    if (n < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' &&
                                                       s[0] <= 'Z')))
        return 0;
    for (i = 1; i < n && s[i] != ':'; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
              s[i] == '.'))
            return 0;
    return i < n - 1;
}

static int fetch_err(size_t line, vl_error *err, const char *what,
                     const char *value)
{
    char *esc = vl_name_escape(value ? value : "");
    int rc = vl_error_set(err, VL_EINPUT, "fetch.txt line %zu: %s%s%s%s",
                          line, what, value ? " \"" : "", value ? esc : "",
                          value ? "\"" : "");
    free(esc);
    return rc;
}

/* fetch.txt's entry for path: *found, its URL (malloc'd, may be NULL) and
 * line. */
static int fetch_get(vl_bag *b, const char *path, int *found, char **url,
                     size_t *line, vl_error *err)
{
    sqlite3_stmt *s = stmt(b, Q_FETCH_GET);
    int code, rc = VL_OK;

    *found = 0;
    if (url)
        *url = NULL;
    if (bind_text(s, 1, path) != SQLITE_OK)
        return db_fail(b, err, "fetch.txt");
    code = sqlite3_step(s);
    if (code == SQLITE_ROW) {
        *found = 1;
        if (url && !(*url = vl_strdup((const char *)sqlite3_column_text(s, 0))))
            rc = vl_error_oom(err);
        if (line)
            *line = (size_t)sqlite3_column_int64(s, 1);
        code = SQLITE_DONE;
    }
    sqlite3_reset(s);
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = db_fail(b, err, "fetch.txt");
    return rc;
}

/* fetch.txt (RFC 8493 2.2.3): "URL LENGTH PATH" lines, streamed. */
static int parse_fetch(vl_bag *b, vl_error *err)
{
    const tag_file *t = tag_get(b, "fetch.txt");
    const char *s;
    char *path = NULL;
    size_t n, line = 0;
    line_reader r;
    int rc = VL_OK, more = 1, opened = 0;

    if (!t)
        return VL_OK;
    opened = 1;
    if ((rc = reader_open(b, t, &r, err)) != VL_OK)
        goto done;
    while ((rc = reader_line(&r, &s, &n, &more, err)) == VL_OK && more) {
        size_t i = 0, us, ul, ls, ll, k, prev_line;
        int found;
        sqlite3_stmt *q;
        line++;
        if (is_blank(s, n))
            continue;
        if (memchr(s, '\0', n) || !vl_utf8_valid(s, n)) {
            rc = fetch_err(line, err, "not valid text", NULL);
            break;
        }
        /* URL, whitespace, LENGTH, whitespace, PATH (the rest). */
        for (us = i; i < n && s[i] != ' ' && s[i] != '\t'; i++)
            ;
        ul = i - us;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        for (ls = i; i < n && s[i] != ' ' && s[i] != '\t'; i++)
            ;
        ll = i - ls;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (!ul || !ll || i >= n) {
            rc = fetch_err(line, err, "not \"URL LENGTH PATH\"", NULL);
            break;
        }
        if (!absolute_uri(s + us, ul)) {
            char *u = vl_strndup(s + us, ul);
            rc = fetch_err(line, err, "not an absolute URL", u ? u : "?");
            free(u);
            break;
        }
        if (!(ll == 1 && s[ls] == '-')) {
            for (k = 0; k < ll && s[ls + k] >= '0' && s[ls + k] <= '9'; k++)
                ;
            if (k != ll || ll > 19) {
                char *l = vl_strndup(s + ls, ll);
                rc = fetch_err(line, err, "LENGTH is not a number of bytes or "
                               "\"-\":", l ? l : "?");
                free(l);
                break;
            }
        }
        rc = vl_bag_path_read(s + i, n - i, b->legacy ? VL_MF_LEGACY : 0,
                              "fetch.txt", line, warn_fwd, b, &path, err);
        if (rc != VL_OK)
            break;
        if ((rc = fetch_get(b, path, &found, NULL, &prev_line, err)) != VL_OK)
            break;
        if (found) {
            char *esc = vl_name_escape(path);
            bag_warn(b, "fetch.txt line %zu: \"%s\" listed again (first on "
                     "line %zu); the first is used", line, esc ? esc : "?",
                     prev_line);
            free(esc);
            free(path);
            path = NULL;
            continue;
        }
        if (strncmp(path, "data/", 5) != 0) {
            char *esc = vl_name_escape(path);
            if (!b->legacy) {
                rc = vl_error_set(err, VL_EINPUT, "fetch.txt line %zu: \"%s\" "
                                  "is not a payload file: fetch.txt lists "
                                  "files under data/ only (RFC 8493 section "
                                  "2.2.3)", line, esc ? esc : "?");
                free(esc);
                break;
            }
            bag_warn(b, "fetch.txt line %zu: \"%s\" is not under data/; "
                     "ignored (BagIt 1.0 fetches payload files only)", line,
                     esc ? esc : "?");
            free(esc);
            free(path);
            path = NULL;
            continue;
        }
        for (k = 0; k < b->npay; k++) {
            char *esc;
            if ((rc = entry_get(b, b->pay[k].id, path, &found, NULL, NULL, err)) != VL_OK)
                break;
            if (found)
                continue;
            esc = vl_name_escape(path);
            if (!b->legacy) {
                rc = vl_error_set(err, VL_EINPUT, "fetch.txt line %zu: \"%s\" "
                                  "is not listed in %s (every file fetch.txt "
                                  "lists is in every payload manifest, RFC "
                                  "8493 section 2.2.3)", line, esc ? esc : "?",
                                  b->pay[k].name);
                free(esc);
                break;
            }
            bag_warn(b, "fetch.txt line %zu: \"%s\" is not listed in %s",
                     line, esc ? esc : "?", b->pay[k].name);
            free(esc);
        }
        if (rc != VL_OK)
            break;
        q = stmt(b, Q_FETCH_ADD);
        if (bind_text(q, 1, path) != SQLITE_OK ||
            sqlite3_bind_text(q, 2, s + us, (int)ul, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_bind_int64(q, 3, (sqlite3_int64)line) != SQLITE_OK) {
            rc = db_fail(b, err, "fetch.txt");
            break;
        }
        if ((rc = step_done(b, q, "fetch.txt", err)) != VL_OK)
            break;
        b->nfetch++;
        free(path);
        path = NULL;
    }
done:
    free(path);
    if (opened)
        reader_close(&r);
    return rc;
}

static int info_add(vl_bag *b, const char *label, size_t ll, vl_error *err)
{
    if (VL_GROW(b->labels, b->lcap, b->ninfo + 1, err) != VL_OK ||
        VL_GROW(b->values, b->vcap, b->ninfo + 1, err) != VL_OK)
        return VL_ESYS;
    b->labels[b->ninfo] = vl_strndup(label, ll);
    b->values[b->ninfo] = vl_strdup("");
    if (!b->labels[b->ninfo] || !b->values[b->ninfo]) {
        free(b->labels[b->ninfo]);
        free(b->values[b->ninfo]);
        return vl_error_sys(err, "%s", b->info_name);
    }
    b->ninfo++;
    return VL_OK;
}

/* Append [s, s+n) (already trimmed) to the last value, joined by sep. */
static int info_append(vl_bag *b, const char *s, size_t n, int sep,
                       vl_error *err)
{
    char **v = &b->values[b->ninfo - 1];
    size_t cur = strlen(*v);
    char *nv = realloc(*v, cur + n + 2);

    if (!nv)
        return vl_error_sys(err, "%s", b->info_name);
    if (sep && cur > 0 && n > 0)
        nv[cur++] = ' ';
    memcpy(nv + cur, s, n);
    nv[cur + n] = '\0';
    *v = nv;
    return VL_OK;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Payload-Oxum: OCTETCOUNT.STREAMCOUNT, both decimal. */
static int parse_oxum(const char *v, uint64_t *oct, uint64_t *str)
{
    uint64_t *dst = oct;
    int digits = 0;

    *oct = *str = 0;
    for (; *v; v++) {
        if (*v == '.' && dst == oct && digits) {
            dst = str;
            digits = 0;
            continue;
        }
        if (*v < '0' || *v > '9')
            return -1;
        if (*dst > (UINT64_MAX - (uint64_t)(*v - '0')) / 10)
            return -1;
        *dst = *dst * 10 + (uint64_t)(*v - '0');
        digits++;
    }
    return dst == str && digits ? 0 : -1;
}

static int bag_info_err(vl_bag *b, size_t line, const char *what,
                        vl_error *err)
{
    return vl_error_set(err, VL_EINPUT, "%s line %zu: %s", b->info_name, line,
                        what);
}

static int parse_bag_info(vl_bag *b, vl_error *err)
{
    const tag_file *t = tag_get(b, "bag-info.txt");
    const char *text = NULL, *s;
    char *owned = NULL;
    size_t len = 0, pos = 0, n, line = 0, start_line = 0, oxum_line = 0;
    int rc = VL_OK, open_el = 0;

    snprintf(b->info_name, sizeof b->info_name, "bag-info.txt");
    /* 0.95 and earlier called it package-info.txt. */
    if (!t && b->legacy && strcmp(b->version, "0.96") < 0 &&
        (t = tag_get(b, "package-info.txt")) != NULL)
        snprintf(b->info_name, sizeof b->info_name, "package-info.txt");
    if (!t)
        goto done;
    rc = tag_text(b, t, &text, &len, &owned, err);
    if (rc != VL_OK)
        goto done;
    /* Read one line past the end so the last element gets checked. */
    for (;;) {
        int more = next_line(text, len, &pos, &s, &n);
        const char *colon, *v;
        size_t ll, vl;

        if (more)
            line++;
        if (open_el && (!more || !(n > 0 && (s[0] == ' ' || s[0] == '\t') &&
                                   !is_blank(s, n)))) {
            /* The element that started on start_line is complete. */
            size_t i = b->ninfo - 1;
            open_el = 0;
            if (strcasecmp(b->labels[i], "Payload-Oxum") == 0) {
                char *esc;
                if (b->has_oxum) {
                    char msg[96];
                    snprintf(msg, sizeof msg, "Payload-Oxum given again "
                             "(first on line %zu)", oxum_line);
                    rc = bag_info_err(b, start_line, msg, err);
                    goto done;
                }
                if (parse_oxum(b->values[i], &b->oxum_octets,
                               &b->oxum_streams) != 0) {
                    esc = vl_name_escape(b->values[i]);
                    rc = vl_error_set(err, VL_EINPUT, "%s line %zu: "
                                      "Payload-Oxum \"%s\" is not "
                                      "OCTETCOUNT.STREAMCOUNT", b->info_name,
                                      start_line, esc ? esc : "?");
                    free(esc);
                    goto done;
                }
                b->has_oxum = 1;
                oxum_line = start_line;
            }
        }
        if (!more)
            break;
        if (memchr(s, '\0', n)) {
            rc = bag_info_err(b, line, "NUL byte", err);
            goto done;
        }
        if (!vl_utf8_valid(s, n)) {
            rc = bag_info_err(b, line, "not valid UTF-8", err);
            goto done;
        }
        if (is_blank(s, n))
            continue;
        if (s[0] == ' ' || s[0] == '\t') {
            /* Continuation of the previous value. */
            if (!open_el) {
                rc = bag_info_err(b, line, "indented continuation line with "
                                  "no \"Label: value\" line before it", err);
                goto done;
            }
            trim(&s, &n);
            rc = info_append(b, s, n, 1, err);
            if (rc != VL_OK)
                goto done;
            continue;
        }
        colon = memchr(s, ':', n);
        if (!colon) {
            rc = bag_info_err(b, line, "no ':' (expected \"Label: value\")",
                              err);
            goto done;
        }
        ll = (size_t)(colon - s);
        if (b->legacy) {
            /* 0.97: "label, colon, value, each separated by optional
             * whitespace". */
            while (ll > 0 && (s[ll - 1] == ' ' || s[ll - 1] == '\t'))
                ll--;
        } else if (ll > 0 && (s[ll - 1] == ' ' || s[ll - 1] == '\t')) {
            rc = bag_info_err(b, line, "label ends with whitespace before "
                              "the ':'", err);
            goto done;
        }
        if (ll == 0) {
            rc = bag_info_err(b, line, "empty label before the ':'", err);
            goto done;
        }
        {
            size_t k;
            for (k = 0; k < ll; k++)
                if ((unsigned char)s[k] < 0x20 || s[k] == 0x7F) {
                    rc = bag_info_err(b, line, "control character in label",
                                      err);
                    goto done;
                }
        }
        rc = info_add(b, s, ll, err);
        if (rc != VL_OK)
            goto done;
        v = colon + 1;
        vl = (size_t)(s + n - v);
        trim(&v, &vl);
        rc = info_append(b, v, vl, 0, err);
        if (rc != VL_OK)
            goto done;
        open_el = 1;
        start_line = line;
    }
done:
    free(owned);
    return rc;
}

static int tag_cmp(const void *pa, const void *pb)
{
    return strcmp(((const tag_file *)pa)->rel, ((const tag_file *)pb)->rel);
}

static int bag_parse(vl_bag *b, vl_error *err);

int vl_bag_parse(vl_bag *b, vl_error *err)
{
    unsigned long failures = vl_alloc_failures();
    int rc = bag_parse(b, err);
    /* a manifest or bag-info line that could not be kept is memory's
     * fault, not the bag's */
    if (rc != VL_OK && rc != VL_ESYS && vl_alloc_failures() != failures)
        rc = vl_error_set(err, VL_ESYS, "reading the bag's tag files: out of "
                          "memory");
    return rc;
}

static int bag_parse(vl_bag *b, vl_error *err)
{
    size_t i;
    int rc = VL_OK;

    if (b->parsed)
        return vl_error_set(err, VL_EINPUT, "bag parsed twice");
    /* Check in name order so the first refusal does not depend on the
     * order tag files were found in. */
    if (b->ntags)
        qsort(b->tags, b->ntags, sizeof *b->tags, tag_cmp);
    json_object_clear(b->tagmap);
    for (i = 0; i < b->ntags; i++)
        if (json_object_set_new_nocheck(b->tagmap, b->tags[i].rel,
                                        json_integer((json_int_t)i)) != 0) {
            errno = ENOMEM;
            rc = vl_error_sys(err, "bag tag files");
            goto done;
        }
    rc = parse_declaration(b, err);
    if (rc != VL_OK)
        goto done;
    for (i = 0; i < b->ntags; i++) {
        const tag_file *t = &b->tags[i];
        if (is_manifest_name(t->rel, "manifest-"))
            rc = load_manifest(b, t, 0, err);
        else if (is_manifest_name(t->rel, "tagmanifest-"))
            rc = load_manifest(b, t, 1, err);
        if (rc != VL_OK)
            goto done;
    }
    if (b->npay == 0) {
        rc = vl_error_set(err, VL_EINPUT, "bag has no payload manifest "
                          "(manifest-<algorithm>.txt)");
        goto done;
    }
    rc = parse_fetch(b, err);
    if (rc != VL_OK)
        goto done;
    rc = parse_bag_info(b, err);
    if (rc != VL_OK)
        goto done;
    b->parsed = 1;
done:
    return rc;
}

int vl_bag_refused_for_limit(const vl_bag *b)
{
    return b->limit;
}

const char *vl_bag_version(const vl_bag *b)
{
    return b->version;
}

unsigned vl_bag_payload_mask(const vl_bag *b)
{
    return b->payload_mask;
}

size_t vl_bag_payload_extra_count(const vl_bag *b)
{
    return b->nextra;
}

const char *vl_bag_payload_extra_name(const vl_bag *b, size_t i)
{
    return i < b->nextra ? b->extra[i] : NULL;
}

size_t vl_bag_info_count(const vl_bag *b)
{
    return b->ninfo;
}

void vl_bag_info_entry(const vl_bag *b, size_t i, const char **label,
                       const char **value)
{
    *label = i < b->ninfo ? b->labels[i] : NULL;
    *value = i < b->ninfo ? b->values[i] : NULL;
}

int vl_bag_has_oxum(const vl_bag *b)
{
    return b->has_oxum;
}

size_t vl_bag_fetch_count(const vl_bag *b)
{
    return b->nfetch;
}

int vl_bag_complete(const vl_bag *b)
{
    return b->complete;
}

size_t vl_bag_to_fetch(const vl_bag *b)
{
    return b->to_fetch;
}

int vl_bag_foreach_digest(const vl_bag *cb, vl_bag_digest_fn fn, void *arg,
                          vl_error *err)
{
    vl_bag *b = (vl_bag *)cb;
    sqlite3_stmt *s = NULL;
    int code = SQLITE_DONE;

    /* A read-only scan: it fails only for lack of memory or temporary
     * space, and then says so (fixity values would be missing). */
    if (sqlite3_prepare_v2(b->db, "SELECT path, hex FROM entry WHERE m = ?1 "
                           "ORDER BY line", -1, &s, NULL) != SQLITE_OK)
        return db_fail(b, err, "reading the payload manifests' digests");
    for (size_t k = 0; k < b->npay && code == SQLITE_DONE; k++) {
        if (b->pay[k].known < 0)
            continue;   /* not an algorithm the fixity block names */
        sqlite3_reset(s);
        if ((code = sqlite3_bind_int(s, 1, b->pay[k].id)) != SQLITE_OK)
            break;
        while ((code = sqlite3_step(s)) == SQLITE_ROW) {
            const char *path = (const char *)sqlite3_column_text(s, 0);
            const char *hex = (const char *)sqlite3_column_text(s, 1);
            if (!path || !hex) {
                code = SQLITE_NOMEM;
                break;
            }
            fn(arg, path, (vl_digest_alg)b->pay[k].known, hex);
        }
    }
    int rc = code == SQLITE_DONE
                 ? VL_OK
                 : code == SQLITE_NOMEM ? vl_error_oom(err)
                                        : db_fail(b, err, "reading the payload "
                                                  "manifests' digests");
    sqlite3_finalize(s);
    return rc;
}

/* The digest computed for payload manifest k, or NULL. */
static const char *computed(const vl_bag *b, size_t k,
                            const vl_digest_result *d,
                            const char *const *extra)
{
    const bag_manifest *bm = &b->pay[k];

    if (bm->known >= 0)
        return d && (d->mask & VL_DIGEST_BIT(bm->known)) ? d->hex[bm->known]
                                                        : NULL;
    return extra ? extra[bm->extra] : NULL;
}

int vl_bag_payload_seen(vl_bag *b, const char *rel, uint64_t size,
                        const vl_digest_result *d, const char *const *extra,
                        vl_error *err)
{
    char *esc = NULL, *nfc = NULL;
    char want[BAG_MAX_MANIFESTS][VL_DIGEST_HEX_MAX];
    uint32_t listed = 0;
    sqlite3_stmt *s;
    sqlite3_int64 id;
    size_t k;
    int rc = VL_OK, sizes_only = !d && !extra, code;

    if (!b->parsed) {
        rc = vl_error_set(err, VL_EINPUT, "bag payload recorded before "
                          "vl_bag_parse");
        goto done;
    }
    esc = vl_name_escape(rel);
    if (!esc) {
        rc = vl_error_sys(err, "bag payload");
        goto done;
    }
    if (strncmp(rel, "data/", 5) != 0 || rel[5] == '\0') {
        rc = vl_error_set(err, VL_EINPUT, "%s: payload files are under data/",
                          esc);
        goto done;
    }
    s = stmt(b, Q_SEEN_GET);
    if (bind_text(s, 1, rel) != SQLITE_OK) {
        rc = db_fail(b, err, esc);
        goto done;
    }
    code = sqlite3_step(s);
    sqlite3_reset(s);
    if (code == SQLITE_ROW) {
        rc = vl_error_set(err, VL_EINPUT, "%s: payload file recorded twice",
                          esc);
        goto done;
    }
    if (code != SQLITE_DONE) {
        rc = db_fail(b, err, esc);
        goto done;
    }
    /* what each payload manifest lists for rel, in one look-up */
    s = stmt(b, Q_ENTRY_ALL);
    if (bind_text(s, 1, rel) != SQLITE_OK || sqlite3_bind_int(s, 2, TAG_M) != SQLITE_OK) {
        rc = db_fail(b, err, esc);
        goto done;
    }
    while ((code = sqlite3_step(s)) == SQLITE_ROW) {
        int m = sqlite3_column_int(s, 0);
        if (m < 0 || (size_t)m >= b->npay)
            continue;
        listed |= (uint32_t)1 << m;
        snprintf(want[m], sizeof want[m], "%s", (const char *)sqlite3_column_text(s, 1));
    }
    sqlite3_reset(s);
    if (code != SQLITE_DONE) {
        rc = db_fail(b, err, esc);
        goto done;
    }
    for (k = 0; !sizes_only && k < b->npay; k++)
        if ((listed & ((uint32_t)1 << k)) && !computed(b, k, d, extra)) {
            rc = vl_error_set(err, VL_EINPUT, "%s: no %s digest computed "
                              "(hash payload with vl_bag_payload_mask and "
                              "vl_bag_payload_extra_name)", esc,
                              b->pay[k].shown);
            goto done;
        }
    /* its NFC key, for an entry that lists it in another normalization */
    nfc = name_key(rel, 0);
    s = stmt(b, Q_SEEN_ADD);
    if (bind_text(s, 1, rel) != SQLITE_OK ||
        sqlite3_bind_int64(s, 2, (sqlite3_int64)listed) != SQLITE_OK ||
        bind_text(s, 3, nfc) != SQLITE_OK) {
        rc = db_fail(b, err, esc);
        goto done;
    }
    if ((rc = step_done(b, s, esc, err)) != VL_OK)
        goto done;
    id = sqlite3_last_insert_rowid(b->db);
    b->nseen++;
    if (b->seen_bytes > UINT64_MAX - size)
        b->seen_overflow = 1;
    b->seen_bytes += size;
    for (k = 0; k < b->npay && rc == VL_OK; k++) {
        const char *got = computed(b, k, d, extra);
        if (listed & ((uint32_t)1 << k)) {
            if (got && strcmp(want[k], got) != 0)
                rc = msg_add(b, 1, rel, err, "%s: %s expected %s got %s", esc,
                             b->pay[k].shown, want[k], got);
        } else if (got) {
            /* Kept in case the file is listed under another Unicode
             * normalization of its name. */
            s = stmt(b, Q_SEEN_HEX_ADD);
            if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
                sqlite3_bind_int(s, 2, (int)k) != SQLITE_OK || bind_text(s, 3, got) != SQLITE_OK)
                rc = db_fail(b, err, esc);
            else
                rc = step_done(b, s, esc, err);
        }
    }
done:
    free(nfc);
    free(esc);
    return rc;
}

/* The statement for sql, prepared, or NULL with err set. */
static sqlite3_stmt *prep(vl_bag *b, const char *sql, vl_error *err)
{
    sqlite3_stmt *s = NULL;

    if (sqlite3_prepare_v2(b->db, sql, -1, &s, NULL) != SQLITE_OK) {
        db_fail(b, err, "bag report");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

/* A manifest entry (manifest k, path, hex) whose path is not a payload
 * file: matched to the one unlisted file with its NFC name (with a warning)
 * when there is exactly one and no earlier entry of k claimed it, else
 * recorded missing. */
static int entry_absent(vl_bag *b, size_t k, const char *path, const char *hex,
                        sqlite3_stmt **q, vl_error *err)
{
    uint32_t bit = (uint32_t)1 << k;
    char *key = name_key(path, 0);
    char *disk = NULL, *listed = NULL, *seen_rel = NULL, *got = NULL;
    sqlite3_int64 id = 0;
    int rc = VL_OK, code, hits = 0, claimed = 0, warned = 0;
    uint32_t bits = 0;

    if (key) {
        /* q: 0 candidates, 1 claimed?, 2 effx, 3 effx put, 4 claim put,
         * 5 seen_hex, 6 miss get, 7 miss add, 8 miss update */
        sqlite3_reset(q[0]);
        sqlite3_bind_text(q[0], 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q[0], 2, (sqlite3_int64)bit);
        while ((code = sqlite3_step(q[0])) == SQLITE_ROW && ++hits == 1) {
            id = sqlite3_column_int64(q[0], 0);
            if (!(seen_rel = vl_strdup((const char *)sqlite3_column_text(q[0], 1)))) {
                rc = vl_error_oom(err);
                goto done;
            }
        }
        sqlite3_reset(q[0]);
        if (code != SQLITE_ROW && code != SQLITE_DONE) {
            rc = db_fail(b, err, "bag report");
            goto done;
        }
        if (hits == 1) {
            sqlite3_reset(q[1]);
            sqlite3_bind_text(q[1], 1, key, -1, SQLITE_TRANSIENT);
            code = sqlite3_step(q[1]);
            sqlite3_reset(q[1]);
            if (code != SQLITE_ROW && code != SQLITE_DONE) {
                rc = db_fail(b, err, "bag report");
                goto done;
            }
            claimed = code == SQLITE_ROW;
        }
    }
    if (key && hits == 1 && !claimed) {
        /* Claimed: a second entry with this key finds none. */
        sqlite3_reset(q[4]);
        sqlite3_bind_text(q[4], 1, key, -1, SQLITE_TRANSIENT);
        if ((rc = step_done(b, q[4], "bag report", err)) != VL_OK)
            goto done;
        sqlite3_reset(q[2]);
        sqlite3_bind_int64(q[2], 1, id);
        if ((code = sqlite3_step(q[2])) == SQLITE_ROW) {
            bits = (uint32_t)sqlite3_column_int64(q[2], 0);
            warned = sqlite3_column_int(q[2], 1);
        }
        sqlite3_reset(q[2]);
        if (code != SQLITE_ROW && code != SQLITE_DONE) {
            rc = db_fail(b, err, "bag report");
            goto done;
        }
        disk = vl_name_escape(seen_rel);
        listed = vl_name_escape(path);
        if (!warned)
            bag_warn(b, "%s: listed in %s as \"%s\", the same name in "
                     "another Unicode normalization (%s here, %s "
                     "there); matched", disk ? disk : "?",
                     b->pay[k].name, listed ? listed : "?",
                     strcmp(seen_rel, key) ? "NFD" : "NFC",
                     strcmp(path, key) ? "NFD" : "NFC");
        sqlite3_reset(q[3]);
        sqlite3_bind_int64(q[3], 1, id);
        sqlite3_bind_int64(q[3], 2, (sqlite3_int64)(bits | bit));
        if ((rc = step_done(b, q[3], "bag report", err)) != VL_OK)
            goto done;
        sqlite3_reset(q[5]);
        sqlite3_bind_int64(q[5], 1, id);
        sqlite3_bind_int(q[5], 2, (int)k);
        if ((code = sqlite3_step(q[5])) == SQLITE_ROW &&
            !(got = vl_strdup((const char *)sqlite3_column_text(q[5], 0))))
            rc = vl_error_oom(err);
        sqlite3_reset(q[5]);
        if (rc != VL_OK)
            goto done;
        if (code != SQLITE_ROW && code != SQLITE_DONE) {
            rc = db_fail(b, err, "bag report");
            goto done;
        }
        if (!got)
            rc = vl_error_set(err, VL_EINPUT, "%s: no %s digest "
                              "computed", disk ? disk : "?",
                              b->pay[k].shown);
        else if (strcmp(got, hex) != 0)
            rc = msg_add(b, 1, seen_rel, err, "%s: %s "
                         "expected %s got %s", disk ? disk : "?",
                         b->pay[k].shown, hex, got);
        goto done;
    }
    /* missing: once each, with the manifests that list it */
    sqlite3_reset(q[6]);
    sqlite3_bind_text(q[6], 1, path, -1, SQLITE_TRANSIENT);
    code = sqlite3_step(q[6]);
    sqlite3_reset(q[6]);
    if (code == SQLITE_ROW) {
        sqlite3_reset(q[8]);
        sqlite3_bind_text(q[8], 1, path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q[8], 2, (sqlite3_int64)bit);
        rc = step_done(b, q[8], "bag report", err);
    } else if (code == SQLITE_DONE) {
        sqlite3_reset(q[7]);
        sqlite3_bind_text(q[7], 1, path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q[7], 2, (sqlite3_int64)bit);
        rc = step_done(b, q[7], "bag report", err);
    } else {
        rc = db_fail(b, err, "bag report");
    }
done:
    free(key);
    free(disk);
    free(listed);
    free(seen_rel);
    free(got);
    return rc;
}

/* Payload manifests against the payload seen: each entry found by its
 * exact name, or else by its Unicode normalization when exactly one
 * unlisted file has it (with a warning); the rest are missing.  Then each
 * file in no manifest, or (1.0) not in all. */
static int check_payload(vl_bag *b, vl_error *err)
{
    static const char *const sql[] = {
        "SELECT id, path FROM seen WHERE nfc = ?1 AND (listed & ?2) = 0 LIMIT 2",
        "SELECT 1 FROM claim WHERE nfc = ?1",
        "SELECT bits, warned FROM effx WHERE id = ?1",
        "INSERT OR REPLACE INTO effx(id, bits, warned) VALUES (?1, ?2, 1)",
        "INSERT INTO claim(nfc) VALUES (?1)",
        "SELECT hex FROM seen_hex WHERE id = ?1 AND k = ?2",
        "SELECT 1 FROM miss WHERE path = ?1",
        "INSERT INTO miss(path, bits) VALUES (?1, ?2)",
        "UPDATE miss SET bits = bits | ?2 WHERE path = ?1",
    };
    enum { NQ = sizeof sql / sizeof sql[0] };
    sqlite3_stmt *q[NQ] = {0}, *cur = NULL;
    size_t k, i;
    uint32_t all = 0;
    int rc = VL_OK, code;

    if ((rc = exec_sql(b, "DELETE FROM miss; DELETE FROM effx;", "bag report",
                       err)) != VL_OK)
        goto done;
    for (i = 0; i < NQ; i++)
        if (!(q[i] = prep(b, sql[i], err))) {
            rc = VL_ESYS;
            goto done;
        }
    if (!(cur = prep(b, "SELECT e.path, e.hex FROM entry e WHERE e.m = ?1 AND NOT EXISTS "
                     "(SELECT 1 FROM seen s WHERE s.path = e.path) ORDER BY e.line", err))) {
        rc = VL_ESYS;
        goto done;
    }
    for (k = 0; k < b->npay && rc == VL_OK; k++) {
        all |= (uint32_t)1 << k;
        if ((rc = exec_sql(b, "DELETE FROM claim", "bag report", err)) != VL_OK)
            break;
        sqlite3_reset(cur);
        sqlite3_bind_int(cur, 1, b->pay[k].id);
        while (rc == VL_OK && (code = sqlite3_step(cur)) == SQLITE_ROW)
            rc = entry_absent(b, k, (const char *)sqlite3_column_text(cur, 0),
                              (const char *)sqlite3_column_text(cur, 1), q, err);
        if (rc == VL_OK && code != SQLITE_DONE)
            rc = db_fail(b, err, "bag report");
    }
    sqlite3_finalize(cur);
    cur = NULL;
    /* Missing files, once each, naming every manifest that lists them and
     * where fetch.txt would have them come from. */
    if (rc == VL_OK && !(cur = prep(b, "SELECT path, bits FROM miss ORDER BY ord", err)))
        rc = VL_ESYS;
    while (rc == VL_OK && (code = sqlite3_step(cur)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(cur, 0);
        uint32_t in = (uint32_t)sqlite3_column_int64(cur, 1);
        vl_buf names;
        char *esc = vl_name_escape(path), *url = NULL;
        size_t fline = 0;
        int found = 0;
        vl_buf_init(&names, 0);
        for (k = 0; k < b->npay && rc == VL_OK; k++)
            if (in & ((uint32_t)1 << k))
                rc = vl_buf_printf(&names, err, "%s%s", names.len ? ", " : "",
                                   b->pay[k].name);
        if (rc == VL_OK && !esc)
            rc = vl_error_sys(err, "bag report");
        if (rc == VL_OK)
            rc = fetch_get(b, path, &found, &url, &fline, err);
        b->complete = 0;
        if (rc == VL_OK && found) {
            char *u = vl_name_escape(url);
            b->to_fetch++;
            rc = msg_add(b, 1, path, err, "%s: listed in %s "
                         "but missing: still to be fetched from %s (fetch.txt "
                         "line %zu; vellum does not download)", esc,
                         names.data, u ? u : "?", fline);
            free(u);
        } else if (rc == VL_OK) {
            rc = msg_add(b, 1, path, err, "%s: listed in %s "
                         "but missing", esc, names.data);
        }
        free(url);
        free(esc);
        vl_buf_release(&names);
        if (rc != VL_OK)
            goto done;
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = db_fail(b, err, "bag report");
    sqlite3_finalize(cur);
    cur = NULL;
    if (rc == VL_OK && !(cur = prep(b, "SELECT s.path, s.listed | coalesce(x.bits, 0) "
                                    "FROM seen s LEFT JOIN effx x ON x.id = s.id "
                                    "ORDER BY s.id", err)))
        rc = VL_ESYS;
    while (rc == VL_OK && (code = sqlite3_step(cur)) == SQLITE_ROW) {
        const char *rel = (const char *)sqlite3_column_text(cur, 0);
        uint32_t eff = (uint32_t)sqlite3_column_int64(cur, 1);
        char *esc;
        if (eff == all || (eff && b->legacy))
            continue;   /* 0.97 asked for each file in at least one */
        b->complete = 0;
        if (!(esc = vl_name_escape(rel))) {
            rc = vl_error_sys(err, "bag report");
            break;
        }
        if (!eff)
            rc = msg_add(b, 1, rel, err,
                         "%s: present but in no payload manifest", esc);
        /* RFC 8493: every payload file is in every payload manifest. */
        for (k = 0; eff && k < b->npay && rc == VL_OK; k++)
            if (!(eff & ((uint32_t)1 << k)))
                rc = msg_add(b, 1, rel, err,
                             "%s: present but not listed in %s", esc,
                             b->pay[k].name);
        free(esc);
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = db_fail(b, err, "bag report");
done:
    sqlite3_finalize(cur);
    for (i = 0; i < NQ; i++)
        sqlite3_finalize(q[i]);
    return rc;
}

/* The digest of a tag file given as bytes and spooled, streamed. */
static int spool_digest(vl_bag *b, const tag_file *t, const char *evp,
                        char *hex, vl_error *err)
{
    const char *names[1] = {evp};
    char out[1][VL_DIGEST_HEX_MAX];
    vl_digest_set *ds = vl_digest_set_new(names, 1);
    byte_src src;
    char *buf = malloc(READ_CHUNK);
    size_t got;
    int rc;

    memset(&src, 0, sizeof src);
    if (!ds || !buf) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = src_open(b, t, &src, err)) != VL_OK)
        goto done;
    while ((rc = src_read(b, &src, buf, READ_CHUNK, &got, err)) == VL_OK && got)
        vl_digest_set_update(ds, buf, got);
    if (rc == VL_OK && (rc = vl_digest_set_final(ds, out, err)) == VL_OK)
        snprintf(hex, VL_DIGEST_HEX_MAX, "%s", out[0]);
done:
    src_close(&src);
    vl_digest_set_free(ds);
    free(buf);
    return rc;
}

/* Tag manifests: the tag files they list are present and match. */
static int check_tags(vl_bag *b, vl_error *err)
{
    sqlite3_stmt *cur = NULL;
    size_t k, j;
    int rc = VL_OK, code = SQLITE_DONE;

    if (b->ntagm && !(cur = prep(b, "SELECT path, hex FROM entry WHERE m = ?1 "
                                 "ORDER BY line", err)))
        return VL_ESYS;
    for (k = 0; k < b->ntagm && rc == VL_OK; k++) {
        sqlite3_reset(cur);
        sqlite3_bind_int(cur, 1, b->tagm[k].id);
        while (rc == VL_OK && (code = sqlite3_step(cur)) == SQLITE_ROW) {
            const char *path = (const char *)sqlite3_column_text(cur, 0);
            const char *want = (const char *)sqlite3_column_text(cur, 1);
            const tag_file *t;
            char got[VL_DIGEST_HEX_MAX], *esc;
            int found;
            esc = vl_name_escape(path);
            if (!esc) {
                rc = vl_error_sys(err, "bag report");
                break;
            }
            if (!(t = tag_get(b, path))) {
                vl_buf names;
                int earlier = 0;
                for (j = 0; j < k && rc == VL_OK; j++) {
                    rc = entry_get(b, b->tagm[j].id, path, &found, NULL, NULL, err);
                    earlier |= found;
                }
                if (rc == VL_OK && !earlier) {  /* else reported with the earlier one */
                    b->complete = 0;
                    vl_buf_init(&names, 0);
                    for (j = k; j < b->ntagm && rc == VL_OK; j++)
                        if ((rc = entry_get(b, b->tagm[j].id, path, &found, NULL,
                                            NULL, err)) == VL_OK && found)
                            rc = vl_buf_printf(&names, err, "%s%s",
                                               names.len ? ", " : "",
                                               b->tagm[j].name);
                    if (rc == VL_OK)
                        rc = msg_add(b, 0, path, err, "%s: listed "
                                     "in %s but missing", esc, names.data);
                    vl_buf_release(&names);
                }
                free(esc);
                continue;
            }
            if (t->path) {
                /* streamed from the bag: a tag file of any size */
                const char *names[1] = {b->tagm[k].evp};
                char hex[1][VL_DIGEST_HEX_MAX];
                vl_error fe = {0};
                int frc = vl_digest_file_named(t->path, names, 1, hex, NULL, &fe);
                if (frc != VL_OK && (fe.sys_errno == 0 || fe.sys_errno == ENOMEM)) {
                    free(esc);
                    rc = vl_error_set(err, VL_ESYS, "%s", fe.msg);
                    break;
                }
                if (frc != VL_OK)
                    rc = msg_add(b, 0, path, err, "%s: cannot be read (%s)",
                                 esc, fe.msg);
                else if (strcmp(hex[0], want) != 0)
                    rc = msg_add(b, 0, path, err, "%s: %s expected %s "
                                 "got %s (%s)", esc, b->tagm[k].shown, want, hex[0],
                                 b->tagm[k].name);
                free(esc);
                continue;
            }
            if (t->spool > 0) {
                if ((rc = spool_digest(b, t, b->tagm[k].evp, got, err)) != VL_OK) {
                    free(esc);
                    break;
                }
            } else if ((b->tagm[k].known >= 0
                            ? vl_digest_buffer((vl_digest_alg)b->tagm[k].known,
                                               t->data, t->len, got)
                            : vl_digest_buffer_named(b->tagm[k].evp, t->data, t->len,
                                                     got)) != 0) {
                /* a digest that failed (memory) is not the tag file's fault */
                free(esc);
                rc = vl_error_oom(err);
                break;
            }
            if (strcmp(got, want) != 0)
                rc = msg_add(b, 0, path, err, "%s: %s expected %s "
                             "got %s (%s)", esc, b->tagm[k].shown, want, got,
                             b->tagm[k].name);
            free(esc);
        }
        if (rc == VL_OK && code != SQLITE_DONE)
            rc = db_fail(b, err, "bag report");
    }
    sqlite3_finalize(cur);
    return rc;
}

static int oxum_check(vl_bag *b, vl_error *err)
{
    if (!b->has_oxum || (!b->seen_overflow && b->oxum_octets == b->seen_bytes &&
                         b->oxum_streams == b->nseen))
        return VL_OK;
    return msg_add(b, 2, "", err, "Payload-Oxum in %s is %llu.%llu "
                   "but the payload has %llu bytes in %llu file%s",
                   b->info_name, (unsigned long long)b->oxum_octets,
                   (unsigned long long)b->oxum_streams,
                   (unsigned long long)b->seen_bytes,
                   (unsigned long long)b->nseen, b->nseen == 1 ? "" : "s");
}

/* The last message kept (0: none). */
static int msg_mark(vl_bag *b, sqlite3_int64 *mark, vl_error *err)
{
    sqlite3_stmt *s = prep(b, "SELECT coalesce(max(seq), 0) FROM msg", err);
    int code;

    if (!s)
        return VL_ESYS;
    code = sqlite3_step(s);
    if (code == SQLITE_ROW)
        *mark = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return code == SQLITE_ROW ? VL_OK : db_fail(b, err, "bag report");
}

/* Drop the messages after mark, so that a check can run twice. */
static int msgs_release(vl_bag *b, sqlite3_int64 mark, vl_error *err)
{
    sqlite3_stmt *s = prep(b, "DELETE FROM msg WHERE seq > ?1", err);
    int rc;

    if (!s)
        return VL_ESYS;
    sqlite3_bind_int64(s, 1, mark);
    rc = step_done(b, s, "bag report", err);
    sqlite3_finalize(s);
    return rc;
}

/* Report every message, sorted: tag files, then payload by path, then the
 * whole bag; each path's in the order found. */
static int report(vl_bag *b, vl_report_fn fn, void *arg, vl_error *err)
{
    sqlite3_stmt *s = prep(b, "SELECT text FROM msg ORDER BY cls, key, seq", err);
    uint64_t nmsg = 0;
    int code, rc = VL_OK;

    if (!s)
        return VL_ESYS;
    while ((code = sqlite3_step(s)) == SQLITE_ROW) {
        nmsg++;
        if (fn)
            fn(arg, (const char *)sqlite3_column_text(s, 0));
    }
    if (code != SQLITE_DONE)
        rc = db_fail(b, err, "bag report");
    else if (nmsg)
        rc = vl_error_set(err, VL_EINPUT, "bag is not valid: %zu problem%s",
                          (size_t)nmsg, nmsg == 1 ? "" : "s");
    sqlite3_finalize(s);
    return rc;
}

/* report, then the messages after mark dropped; a failure to drop them
 * wins over the report's status only when that was VL_OK or VL_EINPUT. */
static int report_release(vl_bag *b, sqlite3_int64 mark, vl_report_fn fn,
                          void *arg, vl_error *err)
{
    int rc = report(b, fn, arg, err);
    vl_error e2 = {0};

    if (msgs_release(b, mark, &e2) != VL_OK && rc != VL_ESYS) {
        *err = e2;
        rc = VL_ESYS;
    }
    return rc;
}

int vl_bag_verify(vl_bag *b, vl_report_fn fn, void *arg, vl_error *err)
{
    sqlite3_int64 keep = 0;
    int rc = VL_OK;

    if (!b->parsed)
        return vl_error_set(err, VL_EINPUT, "bag verified before "
                            "vl_bag_parse");
    if ((rc = msg_mark(b, &keep, err)) != VL_OK)
        return rc;
    b->complete = 1;
    b->to_fetch = 0;
    if (b->data_dir == 0) {
        b->complete = 0;
        rc = msg_add(b, 2, "", err, "data/: the payload folder is "
                     "missing (RFC 8493 section 2.1.2)");
    }
    if (rc == VL_OK)
        rc = check_payload(b, err);
    if (rc == VL_OK)
        rc = check_tags(b, err);
    if (rc == VL_OK)
        rc = oxum_check(b, err);
    if (rc != VL_OK) {
        vl_error e2 = {0};
        msgs_release(b, keep, &e2);
        return rc;
    }
    return report_release(b, keep, fn, arg, err);
}

int vl_bag_verify_oxum(vl_bag *b, vl_report_fn fn, void *arg, vl_error *err)
{
    int rc;

    if (!b->parsed)
        return vl_error_set(err, VL_EINPUT, "bag verified before "
                            "vl_bag_parse");
    if (!b->has_oxum)
        return vl_error_set(err, VL_EINPUT, "%s has no Payload-Oxum to check "
                            "the payload against", b->info_name);
    /* Only what Payload-Oxum says: whatever payload_seen found is for a
     * full check. */
    if ((rc = msgs_release(b, 0, err)) != VL_OK)
        return rc;
    rc = oxum_check(b, err);
    if (rc != VL_OK) {
        vl_error e2 = {0};
        msgs_release(b, 0, &e2);
        return rc;
    }
    return report_release(b, 0, fn, arg, err);
}
