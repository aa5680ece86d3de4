/* The records of one deposit: each file's logical path, where it is staged,
 * its digests and its format; and the folder listing before that.  Both
 * are rows of a private index, a temporary SQLite database (as the
 * inventory's, storage/inventory.c): it keeps DEP_CACHE_KIB in memory and
 * spills to a temporary file beyond, so a deposit of a million files costs
 * no more memory than one of ten. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ingest_internal.h"

#define DEP_CACHE_KIB 2048

/* The format strings of a record: a row keeps one id for all ten, the
 * id of their joined form in the deposit's strings (see format_id). */
#define NFMT 10

enum {
    ST_ADD,
    ST_ENTRY_ADD,
    ST_MOVE,
    ST_SET_HEX,          /* one per algorithm, from ST_SET_HEX */
    ST_PREFIX = ST_SET_HEX + VL_DIGEST_COUNT,
    ST_HAS,
    ST_NAME_GET,
    ST_NAME_ADD,
    ST_COUNT
};

struct vl_deposit_db {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

/* Then the digest columns h0 ... */
#define REC_COLS "logical, staged, shown, size, from_archive, mtime, kept, fmt"

static const char *const schema_head =
    /* No index while rows go in (keeping one up to date costs more than
     * sorting once): the listing is sorted by the cursors that read it,
     * the records come in order or are sorted by vl_deposit_sort, and are
     * indexed when a lookup first needs it. */
    "CREATE TABLE entry (src TEXT NOT NULL, logical TEXT NOT NULL,"
    " size INTEGER NOT NULL, is_tag INTEGER NOT NULL);"
    /* the collision check's first name for each key (vl_deposit_first_name) */
    "CREATE TABLE name (key TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;";

static int db_fail(vl_deposit *d, int src, vl_error *err)
{
    const char *why = d->db && d->db->db ? sqlite3_errmsg(d->db->db) : "out of memory";
    d->broken = 1;
    if (src == SQLITE_NOMEM)
        vl_alloc_failed();
    return vl_error_set(err, VL_ESYS, "the deposit's file index (a temporary "
                        "database) failed: %s", src == SQLITE_NOMEM ? "out of memory"
                        : why);
}

static int broken(vl_error *err)
{
    return vl_error_set(err, VL_ESYS, "the deposit's file index (a temporary "
                        "database) failed earlier: its records are not sure");
}

/* "col0, col1, ..." of n columns named prefix0 ... into b. */
static int columns(vl_buf *b, const char *prefix, int n, const char *type)
{
    for (int i = 0; i < n; i++)
        if (vl_buf_printf(b, NULL, ", %s%d%s", prefix, i, type) != VL_OK)
            return -1;
    return 0;
}

static int db_open(vl_deposit *d, vl_error *err)
{
    vl_buf b;
    int rc = SQLITE_NOMEM;
    if (d->broken)
        return broken(err);
    if (d->db)
        return VL_OK;
    if (!(d->db = calloc(1, sizeof *d->db)))
        return vl_error_oom(err);
    vl_buf_init(&b, 0);
    /* staged and shown only for archive entries: a listed file's copy is
     * where vl_txn_stage_path puts it, and messages name it otherwise */
    if (vl_buf_printf(&b, NULL, "%sCREATE TABLE rec (logical TEXT NOT NULL, "
                      "staged TEXT, shown TEXT, size INTEGER NOT NULL, "
                      "from_archive INTEGER NOT NULL, mtime INTEGER, "
                      "kept INTEGER NOT NULL, fmt INTEGER", schema_head) != VL_OK ||
        columns(&b, "h", VL_DIGEST_COUNT, " TEXT") ||
        vl_buf_printf(&b, NULL, ");BEGIN;") != VL_OK)
        goto fail;
    if ((rc = vl_scratch_db_open(&d->db->db, DEP_CACHE_KIB, b.data)) != SQLITE_OK)
        goto fail;
    vl_buf_release(&b);
    return VL_OK;
fail:
    vl_buf_release(&b);
    rc = db_fail(d, rc, err);
    sqlite3_close(d->db->db);
    free(d->db);
    d->db = NULL;
    return rc;
}

/* The statement that, once prepared, is kept (NULL on failure, err set). */
static sqlite3_stmt *stmt(vl_deposit *d, int which, vl_error *err)
{
    sqlite3_stmt **st = &d->db->st[which];
    vl_buf b;
    int rc = SQLITE_NOMEM;
    if (*st)
        return *st;
    vl_buf_init(&b, 0);
    switch (which) {
    case ST_ADD:
        if (vl_buf_printf(&b, NULL, "INSERT INTO rec (" REC_COLS) == VL_OK &&
            !columns(&b, "h", VL_DIGEST_COUNT, "") &&
            vl_buf_printf(&b, NULL, ", rowid) VALUES (?1") == VL_OK) {
            /* rowid NULL: the next one */
            for (int i = 2; i <= 9 + VL_DIGEST_COUNT; i++)
                if (vl_buf_printf(&b, NULL, ", ?%d", i) != VL_OK)
                    goto done;
            vl_buf_printf(&b, NULL, ")");
        }
        break;
    case ST_ENTRY_ADD:
        vl_buf_printf(&b, NULL, "INSERT INTO entry VALUES (?1, ?2, ?3, ?4)");
        break;
    case ST_MOVE:
        vl_buf_printf(&b, NULL, "UPDATE rec SET logical = ?2, staged = NULL WHERE rowid = ?1");
        break;
    case ST_PREFIX:
        /* logical >= prefix and < the prefix with its last byte raised: the
         * index's range, where substr() would read every row */
        vl_buf_printf(&b, NULL, "SELECT count(*) FROM (SELECT 1 FROM rec "
                      "WHERE kept = 0 AND logical >= ?1 AND (?2 IS NULL OR "
                      "logical < ?2) LIMIT ?3)");
        break;
    case ST_HAS:
        vl_buf_printf(&b, NULL, "SELECT 1 FROM rec WHERE logical = ?1 AND kept = 0 LIMIT 1");
        break;
    case ST_NAME_GET:
        vl_buf_printf(&b, NULL, "SELECT name FROM name WHERE key = ?1");
        break;
    case ST_NAME_ADD:
        vl_buf_printf(&b, NULL, "INSERT INTO name VALUES (?1, ?2)");
        break;
    default:
        vl_buf_printf(&b, NULL, "UPDATE rec SET h%d = ?2 WHERE rowid = ?1",
                      which - ST_SET_HEX);
        break;
    }
done:
    if (b.data && (rc = sqlite3_prepare_v2(d->db->db, b.data, -1, st, NULL)) != SQLITE_OK)
        *st = NULL;
    vl_buf_release(&b);
    if (!*st)
        db_fail(d, rc, err);
    return *st;
}

/* Run a statement that returns no row; reset it whatever happens. */
static int run(vl_deposit *d, sqlite3_stmt *st, vl_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return db_fail(d, rc, err);
    return VL_OK;
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The id of the deposit's one copy of s (0 for NULL, and for "" unless
 * keep_empty); caller holds d->mu.  Returns -1 when out of memory. */
static int intern(vl_deposit *d, const char *s, int keep_empty, size_t *out)
{
    size_t i;
    *out = 0;
    if (!s || (!*s && !keep_empty))
        return 0;
    if (2 * (d->nstrings + 1) > d->capslots) {
        size_t ncap = d->capslots ? d->capslots * 2 : 256;
        size_t *t = calloc(ncap, sizeof *t);
        if (!t)
            return -1;
        for (size_t k = 0; k < d->capslots; k++)
            if (d->slots[k]) {
                for (i = hash_str(d->strings[d->slots[k] - 1]) & (ncap - 1); t[i];
                     i = (i + 1) & (ncap - 1))
                    ;
                t[i] = d->slots[k];
            }
        free(d->slots);
        d->slots = t;
        d->capslots = ncap;
    }
    for (i = hash_str(s) & (d->capslots - 1); d->slots[i];
         i = (i + 1) & (d->capslots - 1))
        if (strcmp(d->strings[d->slots[i] - 1], s) == 0) {
            *out = d->slots[i];
            return 0;
        }
    if (VL_GROW(d->strings, d->capstrings, d->nstrings + 1, NULL) != VL_OK ||
        !(d->strings[d->nstrings] = vl_strdup(s)))
        return -1;
    d->slots[i] = *out = ++d->nstrings;
    return 0;
}

/* The id of a record's ten format strings together: their joined form is
 * interned, and d->tuples keeps each part by that id. */
static int format_id(vl_deposit *d, const char *const fs[NFMT], int keep_empty,
                     size_t *out)
{
    vl_buf key;
    size_t ids[NFMT], id;
    int any = 0, rc = -1;
    *out = 0;
    for (int i = 0; i < NFMT; i++) {
        if (intern(d, fs[i], keep_empty, &ids[i]) != 0)
            return -1;
        any |= ids[i] != 0;
    }
    if (!any)
        return 0;
    vl_buf_init(&key, 0);
    for (int i = 0; i < NFMT; i++)
        if (vl_buf_printf(&key, NULL, "%zu,", ids[i]) != VL_OK)
            goto done;
    /* "\001" keeps keys apart from format strings */
    if (vl_buf_printf(&key, NULL, "\001") != VL_OK || intern(d, key.data, 1, &id) != 0)
        goto done;
    if (id > d->ntuples) {
        if (VL_GROW(d->tuples, d->captuples, id, NULL) != VL_OK)
            goto done;
        for (size_t k = d->ntuples; k < id; k++)
            memset(d->tuples[k], 0, sizeof d->tuples[k]);
        d->ntuples = id;
    }
    for (int i = 0; i < NFMT; i++)
        d->tuples[id - 1][i] = ids[i] ? d->strings[ids[i] - 1] : NULL;
    *out = id;
    rc = 0;
done:
    vl_buf_release(&key);
    return rc;
}

/* Format strings in order (fmt column's parts). */
static void format_strings(const vl_catalog_format *f, const char *s[NFMT])
{
    s[0] = f->mime;
    s[1] = f->encoding;
    s[2] = f->description;
    s[3] = f->puid;
    s[4] = f->format_name;
    s[5] = f->format_version;
    s[6] = f->basis;
    s[7] = f->warning;
    s[8] = f->others;
    s[9] = f->signatures;
}

/* Insert one record; caller holds d->mu. */
static int insert(vl_deposit *d, const char *logical, const char *staged,
                  const char *shown, uint64_t size, const char *const *hex,
                  const vl_catalog_format *fmt, int keep_empty, int from_archive,
                  int64_t mtime_ns, int kept, int64_t rank, vl_error *err)
{
    const char *fs[NFMT] = {0};
    size_t fid = 0;
    sqlite3_stmt *st;
    int rc;
    if ((rc = db_open(d, err)) != VL_OK)
        return rc;
    if (!(st = stmt(d, ST_ADD, err)))
        return VL_ESYS;
    if (fmt)
        format_strings(fmt, fs);
    if (format_id(d, fs, keep_empty, &fid) != 0)
        return vl_error_oom(err);
    bind_text(st, 1, logical);
    bind_text(st, 2, from_archive ? staged : NULL);
    bind_text(st, 3, from_archive ? shown : NULL);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)size);
    sqlite3_bind_int(st, 5, from_archive);
    if (mtime_ns != VL_MTIME_UNKNOWN)
        sqlite3_bind_int64(st, 6, mtime_ns);
    sqlite3_bind_int(st, 7, kept);
    if (fid)
        sqlite3_bind_int64(st, 8, (sqlite3_int64)fid);
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        bind_text(st, 9 + a, hex[a]);
    if (rank > 0)
        sqlite3_bind_int64(st, 9 + VL_DIGEST_COUNT, rank);
    return run(d, st, err);
}

int vl_deposit_add(vl_deposit *d, const char *logical, const char *staged,
                   const char *shown, uint64_t size, const vl_digest_result *res,
                   const vl_format *fmt, int from_archive, int64_t mtime_ns,
                   int64_t rank, vl_error *err)
{
    const char *hex[VL_DIGEST_COUNT] = {0};
    vl_catalog_format f;
    int rc;
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        if (res->mask & VL_DIGEST_BIT(a))
            hex[a] = res->hex[a];
    if (fmt)
        f = (vl_catalog_format){fmt->mime, fmt->encoding, fmt->description,
                                fmt->puid, fmt->format_name, fmt->format_version,
                                fmt->basis, fmt->warning, fmt->others,
                                fmt->signatures};
    pthread_mutex_lock(&d->mu);
    rc = insert(d, logical, staged, shown, size, hex, fmt ? &f : NULL, 0,
                from_archive, mtime_ns, 0, rank, err);
    if (rc == VL_OK) {
        d->n++;
        d->bytes += size;
        if (rank <= 0)
            d->unranked = 1;
        d->sorted = 0;   /* it comes last in the table */
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int vl_deposit_add_kept(vl_deposit *d, const char *logical, uint64_t size,
                        vl_digest_alg alg, const char *hex,
                        const vl_catalog_format *fmt, int64_t mtime_ns,
                        vl_error *err)
{
    const char *hexes[VL_DIGEST_COUNT] = {0};
    int rc;
    hexes[alg] = hex;
    pthread_mutex_lock(&d->mu);
    /* The catalog's strings as they are: "" stays "" in the METS. */
    rc = insert(d, logical, "", "", size, hexes, fmt, 1, 0, mtime_ns, 1, 0, err);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

int vl_deposit_move(vl_deposit *d, int64_t id, const char *logical, vl_error *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = db_open(d, err)) != VL_OK)
        return rc;
    if (!(st = stmt(d, ST_MOVE, err)))
        return VL_ESYS;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, logical);
    return run(d, st, err);
}

int vl_deposit_set_digest(vl_deposit *d, int64_t id, vl_digest_alg alg,
                          const char *hex, vl_error *err)
{
    sqlite3_stmt *st;
    int rc;
    if ((rc = db_open(d, err)) != VL_OK)
        return rc;
    if (!(st = stmt(d, ST_SET_HEX + (int)alg, err)))
        return VL_ESYS;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, hex);
    return run(d, st, err);
}

/* The records indexed by path, for lookups and for cursors in logical
 * path order before the rows are: built when first needed (most deposits
 * never look a path up). */
static int ensure_index(vl_deposit *d, vl_error *err)
{
    int rc;
    if (d->indexed)
        return VL_OK;
    if ((rc = sqlite3_exec(d->db->db, "CREATE INDEX IF NOT EXISTS rec_l ON rec (logical)",
                           NULL, NULL, NULL)) != SQLITE_OK)
        return db_fail(d, rc, err);
    d->indexed = 1;
    return VL_OK;
}

/* One row of a query of one value: *row = 1 and *value, or *row = 0. */
static int query_one(vl_deposit *d, sqlite3_stmt *st, int *row,
                     sqlite3_int64 *value, char **text, vl_error *err)
{
    int rc = sqlite3_step(st), status = VL_OK;
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW && value)
        *value = sqlite3_column_int64(st, 0);
    if (rc == SQLITE_ROW && text) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (!t || !(*text = vl_strdup(t)))
            status = vl_error_oom(err);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = db_fail(d, rc, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return status;
}

int vl_deposit_count_prefix(vl_deposit *d, const char *prefix, size_t max,
                            size_t *count, vl_error *err)
{
    sqlite3_stmt *st;
    char *upper = NULL;
    sqlite3_int64 v = 0;
    int rc, row;
    size_t n = strlen(prefix);
    *count = 0;
    if (!d->db && !d->broken)
        return VL_OK;
    if ((rc = db_open(d, err)) != VL_OK || (rc = ensure_index(d, err)) != VL_OK)
        return rc;
    if (!(st = stmt(d, ST_PREFIX, err)))
        return VL_ESYS;
    /* the first string after every one starting with prefix (none when
     * the prefix is empty or ends in 0xff) */
    if (n && (unsigned char)prefix[n - 1] != 0xff) {
        if (!(upper = vl_strdup(prefix)))
            return vl_error_oom(err);
        upper[n - 1]++;
    }
    bind_text(st, 1, prefix);
    bind_text(st, 2, upper);
    sqlite3_bind_int64(st, 3, max ? (sqlite3_int64)max : -1);
    rc = query_one(d, st, &row, &v, NULL, err);
    free(upper);
    if (rc == VL_OK)
        *count = (size_t)v;
    return rc;
}

int vl_deposit_has(vl_deposit *d, const char *logical, int *found, vl_error *err)
{
    sqlite3_stmt *st;
    int rc;
    *found = 0;
    if (!d->db && !d->broken)
        return VL_OK;
    if ((rc = db_open(d, err)) != VL_OK || (rc = ensure_index(d, err)) != VL_OK)
        return rc;
    if (!(st = stmt(d, ST_HAS, err)))
        return VL_ESYS;
    bind_text(st, 1, logical);
    return query_one(d, st, found, NULL, NULL, err);
}

int vl_deposit_first_name(vl_deposit *d, const char *key, const char *name,
                          char **first, vl_error *err)
{
    sqlite3_stmt *st;
    int rc, row;
    *first = NULL;
    if ((rc = db_open(d, err)) != VL_OK)
        return rc;
    if (!(st = stmt(d, ST_NAME_GET, err)))
        return VL_ESYS;
    bind_text(st, 1, key);
    if ((rc = query_one(d, st, &row, NULL, first, err)) != VL_OK || row || !name)
        return rc;
    if (!(st = stmt(d, ST_NAME_ADD, err)))
        return VL_ESYS;
    bind_text(st, 1, key);
    bind_text(st, 2, name);
    return run(d, st, err);
}

/* ---- cursors ----------------------------------------------------------- */

int vl_deposit_sort(vl_deposit *d, vl_error *err)
{
    int rc;
    if (!d->db && !d->broken)
        return VL_OK;
    if ((rc = db_open(d, err)) != VL_OK)
        return rc;
    /* Every record ranked: rowid order is the listing's, logical path
     * order already. */
    if (!d->unranked) {
        d->sorted = 1;
        return VL_OK;
    }
    /* the kept statements name the old table: made again when next used */
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(d->db->st[i]);
        d->db->st[i] = NULL;
    }
    rc = sqlite3_exec(d->db->db,
                      "CREATE TABLE sorted AS SELECT * FROM rec ORDER BY logical, rowid;"
                      "DROP TABLE rec;"
                      "ALTER TABLE sorted RENAME TO rec;", NULL, NULL, NULL);
    d->indexed = 0;   /* dropped with the table */
    if (rc != SQLITE_OK)
        return db_fail(d, rc, err);
    d->sorted = 1;
    return VL_OK;
}

int vl_deposit_open(vl_deposit *d, int flags, vl_deposit_cursor *c, vl_error *err)
{
    vl_buf b;
    int rc;
    memset(c, 0, sizeof *c);
    c->d = d;
    if (!d->db && !d->broken)
        return VL_OK;   /* nothing added: no rows */
    if ((rc = db_open(d, err)) != VL_OK)
        return rc;
    vl_buf_init(&b, 0);
    /* Sorted, the table is read straight through, not looked up row by
     * row from the index; NOT INDEXED, or SQLite would take the payload's
     * range from the index and sort it back into rowid order every time. */
    int by_rowid = flags & VL_DEP_AS_ADDED || (d->sorted && !(flags & VL_DEP_KEPT));
    if (!by_rowid && (rc = ensure_index(d, err)) != VL_OK)
        return rc;
    if (vl_buf_printf(&b, NULL, "SELECT rowid, " REC_COLS) != VL_OK ||
        columns(&b, "h", VL_DIGEST_COUNT, "") ||
        vl_buf_printf(&b, NULL, " FROM rec%s WHERE %s%s ORDER BY %s",
                      by_rowid ? " NOT INDEXED" : "",
                      flags & VL_DEP_KEPT ? "1" : "kept = 0",
                      /* the index's range (see ST_PREFIX) */
                      flags & VL_DEP_PAYLOAD ? " AND logical >= '" VL_PAYLOAD_PREFIX
                      "' AND logical < '" VL_PAYLOAD_DIR "0'" : "",
                      by_rowid ? "rowid" : "logical, rowid") != VL_OK) {
        vl_buf_release(&b);
        return vl_error_oom(err);
    }
    rc = sqlite3_prepare_v2(d->db->db, b.data, -1, &c->st, NULL);
    vl_buf_release(&b);
    if (rc != SQLITE_OK) {
        c->st = NULL;
        return db_fail(d, rc, err);
    }
    return VL_OK;
}

/* Column i's text, which a NOT NULL column must have (NULL from SQLite
 * there means it ran out of memory). */
static int text_col(sqlite3_stmt *st, int i, const char **out)
{
    *out = (const char *)sqlite3_column_text(st, i);
    return *out || sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : -1;
}

/* The next row of a cursor's statement: *row 1 when there is one, 0 at the
 * end (or for a cursor that never opened on an empty deposit). */
static int cursor_step(vl_deposit *d, sqlite3_stmt *st, int *row, vl_error *err)
{
    int rc;
    *row = 0;
    if (d->broken)
        return broken(err);
    if (!st || (rc = sqlite3_step(st)) == SQLITE_DONE)
        return VL_OK;
    if (rc != SQLITE_ROW)
        return db_fail(d, rc, err);
    *row = 1;
    return VL_OK;
}

int vl_deposit_next(vl_deposit_cursor *c, const vl_record **out, vl_error *err)
{
    vl_record *r = &c->r;
    const char **fmt[NFMT] = {&r->mime, &r->encoding, &r->description, &r->puid,
                              &r->format_name, &r->format_version, &r->basis,
                              &r->warning, &r->others, &r->signatures};
    int rc, row;
    *out = NULL;
    if ((rc = cursor_step(c->d, c->st, &row, err)) != VL_OK || !row)
        return rc;
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(c->st, 0);
    if (text_col(c->st, 1, &r->logical) || text_col(c->st, 2, &r->staged) ||
        text_col(c->st, 3, &r->shown) || !r->logical)
        return db_fail(c->d, SQLITE_NOMEM, err);
    r->size = (uint64_t)sqlite3_column_int64(c->st, 4);
    r->from_archive = sqlite3_column_int(c->st, 5);
    r->mtime_ns = sqlite3_column_type(c->st, 6) == SQLITE_NULL
                      ? VL_MTIME_UNKNOWN : sqlite3_column_int64(c->st, 6);
    sqlite3_int64 fid = sqlite3_column_int64(c->st, 8);
    if (fid > 0 && (size_t)fid <= c->d->ntuples)
        for (int i = 0; i < NFMT; i++)
            *fmt[i] = c->d->tuples[fid - 1][i];
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        if (text_col(c->st, 9 + a, &r->hex[a]))
            return db_fail(c->d, SQLITE_NOMEM, err);
    *out = r;
    return VL_OK;
}

void vl_deposit_rewind(vl_deposit_cursor *c)
{
    if (c->st)
        sqlite3_reset(c->st);
}

void vl_deposit_close(vl_deposit_cursor *c)
{
    sqlite3_finalize(c->st);
    c->st = NULL;
}

int vl_deposit_foreach(vl_deposit *d, int flags,
                       int (*fn)(void *arg, const vl_record *r, vl_error *err),
                       void *arg, vl_error *err)
{
    vl_deposit_cursor c;
    const vl_record *r;
    int rc = vl_deposit_open(d, flags, &c, err);
    while (rc == VL_OK && (rc = vl_deposit_next(&c, &r, err)) == VL_OK && r)
        rc = fn(arg, r, err);
    vl_deposit_close(&c);
    return rc;
}

/* ---- the folder listing ------------------------------------------------ */

int vl_entry_list_add(vl_entry_list *l, const char *src, const char *logical,
                      uint64_t size, int is_tag, vl_error *err)
{
    vl_deposit *d = l->dep;
    sqlite3_stmt *st;
    int rc;
    if ((rc = db_open(d, err)) != VL_OK)
        return rc;
    if (!(st = stmt(d, ST_ENTRY_ADD, err)))
        return VL_ESYS;
    bind_text(st, 1, src);
    bind_text(st, 2, logical);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
    sqlite3_bind_int(st, 4, is_tag);
    if ((rc = run(d, st, err)) != VL_OK)
        return rc;
    l->n++;
    l->bytes += size;
    return VL_OK;
}

int vl_entry_open(vl_entry_list *l, int tags_only, vl_entry_cursor *c, vl_error *err)
{
    int rc;
    memset(c, 0, sizeof *c);
    c->d = l->dep;
    if (!l->n)
        return VL_OK;
    if ((rc = db_open(l->dep, err)) != VL_OK)
        return rc;
    rc = sqlite3_prepare_v2(l->dep->db->db, tags_only
                            ? "SELECT src, logical, size, is_tag FROM entry WHERE "
                              "is_tag ORDER BY logical, rowid"
                            : "SELECT src, logical, size, is_tag FROM entry "
                              "ORDER BY logical, rowid", -1, &c->st, NULL);
    if (rc != SQLITE_OK) {
        c->st = NULL;
        return db_fail(l->dep, rc, err);
    }
    return VL_OK;
}

int vl_entry_next(vl_entry_cursor *c, const vl_entry **out, vl_error *err)
{
    int rc, row;
    *out = NULL;
    if ((rc = cursor_step(c->d, c->st, &row, err)) != VL_OK || !row)
        return rc;
    c->e.src = (const char *)sqlite3_column_text(c->st, 0);
    c->e.logical = (const char *)sqlite3_column_text(c->st, 1);
    c->e.size = (uint64_t)sqlite3_column_int64(c->st, 2);
    c->e.is_tag = sqlite3_column_int(c->st, 3);
    if (!c->e.src || !c->e.logical)
        return db_fail(c->d, SQLITE_NOMEM, err);
    *out = &c->e;
    return VL_OK;
}

void vl_entry_close(vl_entry_cursor *c)
{
    sqlite3_finalize(c->st);
    c->st = NULL;
}

void vl_deposit_release(vl_deposit *d)
{
    if (d->db) {
        for (int i = 0; i < ST_COUNT; i++)
            sqlite3_finalize(d->db->st[i]);
        sqlite3_close(d->db->db);
        free(d->db);
        d->db = NULL;
    }
    d->n = 0;
    for (size_t i = 0; i < d->nstrings; i++)
        free(d->strings[i]);
    free(d->strings);
    free(d->slots);
    free(d->tuples);
    d->tuples = NULL;
    d->ntuples = d->captuples = 0;
    d->strings = NULL;
    d->slots = NULL;
    d->nstrings = d->capstrings = d->capslots = 0;
}

int vl_prefix_observe(void *arg, const void *data, size_t len, vl_error *err)
{
    vl_prefix *p = arg;
    (void)err;
    if (p->len < p->cap) {
        size_t n = p->cap - p->len < len ? p->cap - p->len : len;
        memcpy(p->buf + p->len, data, n);
        p->len += n;
    }
    return VL_OK;
}
