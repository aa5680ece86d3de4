/* The database seam's PostgreSQL driver (db_private.h), over libpq.
 * Statements run with PQexecParams when first stepped, results in text
 * format, buffered whole: callers run other statements on the same
 * connection while they walk a result, which a row-by-row mode would not
 * allow.  Integers are bound as int8 and text as text, so that comparisons
 * in SQL are like with like (PostgreSQL is strict about types). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_private.h"

#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701

/* One key for "someone is creating the schema" (an arbitrary constant). */
#define SCHEMA_LOCK_KEY "7661656c6c756d01"

typedef struct pg_db {
    int kind;
    int nomem;
    PGconn *c;
    char *errmsg;
    int64_t changes;
    int schema_ready;
    char *name;
} pg_db;

typedef struct pg_stmt {
    int kind;
    pg_db *db;
    char *sql;
    int nparams;
    const char **vals;
    Oid *types;
    char (*buf)[32];   /* text of bound numbers */
    PGresult *res;
    int row, nrows;
} pg_stmt;

void vl_pg_close(vl_db *db);
int vl_pg_nomem(vl_db *db);
void *vl_pg_native(vl_db *db);
const char *vl_pg_name(vl_db *db);
const char *vl_pg_errmsg(vl_db *db);
int vl_pg_autocommit(vl_db *db);
int64_t vl_pg_changes(vl_db *db);
int vl_pg_exec(vl_db *db, const char *sql);
int vl_pg_exec_ddl(vl_db *db, const char *sql);
int vl_pg_user_version(vl_db *db, int *out);
int vl_pg_set_user_version(vl_db *db, int v);
int vl_pg_schema_lock(vl_db *db);
int vl_pg_schema_ready(vl_db *db);
void vl_pg_set_schema_ready(vl_db *db);
int vl_pg_prepare(vl_db *db, const char *sql, vl_db_stmt **out);
void vl_pg_bind(vl_db_stmt *st, int i, const char *text, int64_t iv,
                double dv, int type);
int vl_pg_step(vl_db_stmt *st);
const char *vl_pg_column_text(vl_db_stmt *st, int i);
void vl_pg_reset(vl_db_stmt *st);
void vl_pg_finalize(vl_db_stmt *st);

enum { B_NULL, B_TEXT, B_INT, B_DOUBLE, B_TEXT_NULL };

static int raw_exec(pg_db *d, const char *sql);

#define PG(db) ((pg_db *)(db))
#define PST(st) ((pg_stmt *)(st))

/* Keep the first line of a libpq message, without its "ERROR:  " label:
 * error text stays one line. */
static void set_error(pg_db *d, const char *msg)
{
    const char *s = msg && *msg ? msg : "unknown error";
    size_t n;
    if (strncmp(s, "ERROR:  ", 8) == 0)
        s += 8;
    else if (strncmp(s, "FATAL:  ", 8) == 0)
        s += 8;
    n = strcspn(s, "\n");
    free(d->errmsg);
    d->errmsg = malloc(n + 1);
    if (d->errmsg) {
        memcpy(d->errmsg, s, n);
        d->errmsg[n] = '\0';
    }
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* NOTICEs ("relation already exists, skipping") are noise */
}

int vl_db_open_pg(const char *conninfo, const char *name, vl_db **out,
                  vl_error *err)
{
    pg_db *d = calloc(1, sizeof *d);
    int rc = VL_OK;
    *out = NULL;
    if (!d)
        return vl_error_oom(err);
    d->kind = VL_DB_PG;
    d->c = PQconnectdb(conninfo);
    if (!d->c || !(d->name = vl_strdup(name))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (PQstatus(d->c) != CONNECTION_OK) {
        /* libpq's text ("connection to server ... failed: FATAL: database
         * "x" does not exist") never holds the password; make it one line. */
        const char *m = PQerrorMessage(d->c);
        char line[512];
        size_t n = strcspn(m, "\n");
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, m, n);
        line[n] = '\0';
        rc = vl_error_set(err, VL_ESYS, "catalog %s: cannot connect: %s", name,
                          *line ? line : "unknown error");
        goto done;
    }
    PQsetNoticeProcessor(d->c, quiet, NULL);
    if (raw_exec(d, "SET client_min_messages = warning") !=
        VL_DB_OK) {
        rc = vl_error_set(err, VL_ESYS, "catalog %s: %s", name,
                          vl_pg_errmsg((vl_db *)d));
        goto done;
    }
    *out = (vl_db *)d;
    d = NULL;
done:
    if (d)
        vl_pg_close((vl_db *)d);
    return rc;
}

void vl_pg_close(vl_db *db)
{
    pg_db *d = PG(db);
    if (d->c)
        PQfinish(d->c);
    free(d->errmsg);
    free(d->name);
    free(d);
}

const char *vl_pg_name(vl_db *db) { return PG(db)->name; }

int vl_pg_nomem(vl_db *db) { return PG(db)->nomem; }
void *vl_pg_native(vl_db *db) { return PG(db)->c; }

const char *vl_pg_errmsg(vl_db *db)
{
    return PG(db)->errmsg ? PG(db)->errmsg : "out of memory";
}

int vl_pg_autocommit(vl_db *db)
{
    return PQtransactionStatus(PG(db)->c) == PQTRANS_IDLE;
}

int64_t vl_pg_changes(vl_db *db) { return PG(db)->changes; }

/* Result of a command: VL_DB_OK, or the error recorded. */
static int result_ok(pg_db *d, PGresult *res)
{
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        d->changes = strtoll(PQcmdTuples(res), NULL, 10);
        return VL_DB_OK;
    }
    set_error(d, res ? PQresultErrorMessage(res) : PQerrorMessage(d->c));
    return VL_DB_ERROR;
}

static int raw_exec(pg_db *d, const char *sql)
{
    PGresult *res = PQexec(d->c, sql);
    int rc = result_ok(d, res);
    PQclear(res);
    return rc;
}

static char *rewrite(const char *sql, int ddl, int *nparams);

/* sql (no parameters), or schema text with ddl; temp.x -> pg_temp.x. */
static int exec_rewritten(vl_db *db, const char *sql, int ddl)
{
    char *pg = rewrite(sql, ddl, NULL);
    int rc;
    if (!pg) {
        PG(db)->nomem = 1;
        set_error(PG(db), "out of memory");
        return VL_DB_NOMEM;
    }
    rc = raw_exec(PG(db), pg);
    free(pg);
    return rc;
}

int vl_pg_exec(vl_db *db, const char *sql)
{
    return exec_rewritten(db, sql, 0);
}

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* A growing string. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

/* Words replaced in schema text (whole words, outside quotes). */
static const struct {
    const char *from, *to;
} ddl_words[] = {
    {"INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"},
    {"INTEGER", "BIGINT"},
    {"TEXT", "TEXT COLLATE \"C\""},
    {"REAL", "DOUBLE PRECISION"},
    {"WITHOUT ROWID", ""},
    /* an index is made in its table's schema; naming one is refused */
    {"INDEX IF NOT EXISTS temp.", "INDEX IF NOT EXISTS "},
};

/* Rewrite SQL for PostgreSQL: ?, ?N -> $N (*nparams = the highest), and
 * temp.x -> pg_temp.x; with ddl, the schema words above too.  Quoted text
 * is copied as it is.  NULL when out of memory. */
static char *rewrite(const char *sql, int ddl, int *nparams)
{
    sbuf b = {0};
    int next = 0, max = 0;
    const char *s = sql;
    puts_(&b, "");
    while (*s) {
        if (*s == '\'' || *s == '"') {
            char q = *s;
            const char *e = s + 1;
            while (*e && *e != q)
                e++;
            if (*e)
                e++;
            put(&b, s, (size_t)(e - s));
            s = e;
            continue;
        }
        if (*s == '?') {
            char num[16];
            int n;
            s++;
            if (*s >= '0' && *s <= '9') {
                n = (int)strtol(s, (char **)&s, 10);
            } else {
                n = ++next;
            }
            if (n > max)
                max = n;
            snprintf(num, sizeof num, "$%d", n);
            puts_(&b, num);
            continue;
        }
        int word_start = s == sql || !ident_char(s[-1]);
        if (word_start && ddl) {
            size_t i;
            for (i = 0; i < sizeof ddl_words / sizeof *ddl_words; i++) {
                size_t n = strlen(ddl_words[i].from);
                if (strncmp(s, ddl_words[i].from, n) == 0 &&
                    (s[n - 1] == '.' || !ident_char(s[n])))
                    break;
            }
            if (i < sizeof ddl_words / sizeof *ddl_words) {
                puts_(&b, ddl_words[i].to);
                s += strlen(ddl_words[i].from);
                continue;
            }
        }
        if (word_start && strncmp(s, "temp.", 5) == 0) {
            puts_(&b, "pg_temp.");
            s += 5;
            continue;
        }
        put(&b, s, 1);
        s++;
    }
    if (nparams)
        *nparams = max;
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

int vl_pg_exec_ddl(vl_db *db, const char *sql)
{
    return exec_rewritten(db, sql, 1);
}

int vl_pg_schema_lock(vl_db *db)
{
    return raw_exec(PG(db), "SELECT pg_advisory_xact_lock(x'" SCHEMA_LOCK_KEY
                          "'::bigint);"
                          "CREATE TABLE IF NOT EXISTS vellum_meta ("
                          " name TEXT COLLATE \"C\" PRIMARY KEY,"
                          " value BIGINT NOT NULL)");
}

int vl_pg_user_version(vl_db *db, int *out)
{
    PGresult *res = PQexec(PG(db)->c,
                           "SELECT value FROM vellum_meta"
                           " WHERE name = 'schema_version'");
    int rc;
    *out = 0;
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
        if (PQntuples(res) > 0)
            *out = atoi(PQgetvalue(res, 0, 0));
        rc = VL_DB_OK;
    } else if (res && PQresultStatus(res) == PGRES_FATAL_ERROR &&
               strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
                          PQresultErrorField(res, PG_DIAG_SQLSTATE) : "",
                      "42P01") == 0 &&
               vl_pg_autocommit(db)) {
        rc = VL_DB_OK; /* no vellum_meta yet: an empty database */
    } else {
        rc = result_ok(PG(db), res);
        if (rc == VL_DB_OK)
            rc = VL_DB_ERROR;
    }
    PQclear(res);
    return rc;
}

int vl_pg_set_user_version(vl_db *db, int v)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "INSERT INTO vellum_meta (name, value) VALUES"
             " ('schema_version', %d) ON CONFLICT (name) DO UPDATE"
             " SET value = excluded.value", v);
    return raw_exec(PG(db), sql);
}

int vl_pg_schema_ready(vl_db *db) { return PG(db)->schema_ready; }
void vl_pg_set_schema_ready(vl_db *db) { PG(db)->schema_ready = 1; }

int vl_pg_prepare(vl_db *db, const char *sql, vl_db_stmt **out)
{
    pg_db *d = PG(db);
    pg_stmt *s = calloc(1, sizeof *s);
    int n = 0;
    d->nomem = 0;
    *out = NULL;
    if (!s || !(s->sql = rewrite(sql, 0, &n)))
        goto oom;
    s->kind = VL_DB_PG;
    s->db = d;
    s->nparams = n;
    s->row = -1;
    if (n > 0 && (!(s->vals = calloc((size_t)n, sizeof *s->vals)) ||
                  !(s->types = calloc((size_t)n, sizeof *s->types)) ||
                  !(s->buf = calloc((size_t)n, sizeof *s->buf))))
        goto oom;
    *out = (vl_db_stmt *)s;
    return VL_DB_OK;
oom:
    vl_pg_finalize((vl_db_stmt *)s);
    d->nomem = 1;
    set_error(d, "out of memory");
    return VL_DB_NOMEM;
}

void vl_pg_bind(vl_db_stmt *st, int i, const char *text, int64_t iv,
                double dv, int type)
{
    pg_stmt *s = PST(st);
    if (i < 1 || i > s->nparams)
        return;
    i--;
    switch (type) {
    case B_TEXT:
    case B_TEXT_NULL:   /* typed, for "? IS NULL OR col = ?" */
        s->vals[i] = text;
        s->types[i] = OID_TEXT;
        break;
    case B_INT:
        snprintf(s->buf[i], sizeof s->buf[i], "%lld", (long long)iv);
        s->vals[i] = s->buf[i];
        s->types[i] = OID_INT8;
        break;
    case B_DOUBLE:
        snprintf(s->buf[i], sizeof s->buf[i], "%.17g", dv);
        s->vals[i] = s->buf[i];
        s->types[i] = OID_FLOAT8;
        break;
    default:
        s->vals[i] = NULL;
        s->types[i] = 0; /* unknown: the server infers it from the SQL */
        break;
    }
}

int vl_pg_step(vl_db_stmt *st)
{
    pg_stmt *s = PST(st);
    if (!s->res) {
        s->res = PQexecParams(s->db->c, s->sql, s->nparams, s->types,
                              s->vals, NULL, NULL, 0);
        if (result_ok(s->db, s->res) != VL_DB_OK) {
            PQclear(s->res);
            s->res = NULL;
            return VL_DB_ERROR;
        }
        s->nrows = PQresultStatus(s->res) == PGRES_TUPLES_OK
                       ? PQntuples(s->res) : 0;
        s->row = 0;
    } else if (s->row < s->nrows) {
        s->row++;
    }
    return s->row < s->nrows ? VL_DB_ROW : VL_DB_DONE;
}

const char *vl_pg_column_text(vl_db_stmt *st, int i)
{
    pg_stmt *s = PST(st);
    if (!s->res || s->row < 0 || s->row >= s->nrows || i < 0 ||
        i >= PQnfields(s->res) || PQgetisnull(s->res, s->row, i))
        return NULL;
    return PQgetvalue(s->res, s->row, i);
}

void vl_pg_reset(vl_db_stmt *st)
{
    pg_stmt *s = PST(st);
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
    s->nrows = 0;
    for (int i = 0; i < s->nparams; i++) {
        s->vals[i] = NULL;
        s->types[i] = 0;
    }
}

void vl_pg_finalize(vl_db_stmt *st)
{
    pg_stmt *s = PST(st);
    if (!s)
        return;
    PQclear(s->res);
    free(s->sql);
    free(s->vals);
    free(s->types);
    free(s->buf);
    free(s);
}
