/* The database seam's SQLite driver (db_private.h): a thin skin over the
 * sqlite3 API, so the SQLite catalog behaves exactly as before the seam.
 * The PostgreSQL driver (db_pg.c) has the same entry points; each call
 * dispatches on the handle's kind. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db_private.h"

/* Both drivers' handles start with their kind. */
struct vl_db {
    int kind;
};
struct vl_db_stmt {
    int kind;
};

typedef struct lite_db {
    int kind;
    int nomem;   /* the last prepare ran out of memory (vl_db_nomem) */
    int tables_ready;   /* vl_db_set_schema_ready */
    sqlite3 *h;
} lite_db;

typedef struct lite_stmt {
    int kind;
    sqlite3_stmt *h;
} lite_stmt;

/* The PostgreSQL driver's halves (db_pg.c). */
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

#define LITE(db) (((lite_db *)(db))->h)
#define LST(st) (((lite_stmt *)(st))->h)
#define IS_PG(x) ((x)->kind == VL_DB_PG)

int vl_db_open_sqlite(const char *path, int mode, vl_db **out)
{
    lite_db *d = calloc(1, sizeof *d);
    int flags = mode == VL_DB_OPEN_RO_URI
                    ? SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
                    : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc;
    *out = NULL;
    if (!d)
        return VL_DB_NOMEM;
    d->kind = VL_DB_SQLITE;
    rc = sqlite3_open_v2(path, &d->h, flags, NULL);
    if (!d->h) {
        free(d);
        return VL_DB_NOMEM;
    }
    /* Concurrent vellum processes share the catalog: wait for locks. */
    sqlite3_busy_timeout(d->h, 60000);
    sqlite3_extended_result_codes(d->h, 1);
    *out = (vl_db *)d;
    return rc == SQLITE_OK ? VL_DB_OK : VL_DB_ERROR;
}

void vl_db_close(vl_db *db)
{
    if (!db)
        return;
    if (IS_PG(db)) {
        vl_pg_close(db);
        return;
    }
    sqlite3_close_v2(LITE(db));
    free(db);
}

int vl_db_kind(const vl_db *db) { return db->kind; }

void *vl_db_native(vl_db *db)
{
    return IS_PG(db) ? vl_pg_native(db) : (void *)LITE(db);
}

const char *vl_db_name(vl_db *db)
{
    return IS_PG(db) ? vl_pg_name(db) : sqlite3_db_filename(LITE(db), "main");
}

int vl_db_nomem(vl_db *db)
{
    return IS_PG(db) ? vl_pg_nomem(db) : ((lite_db *)db)->nomem;
}

const char *vl_db_errmsg(vl_db *db)
{
    return IS_PG(db) ? vl_pg_errmsg(db) : sqlite3_errmsg(LITE(db));
}

/* A full disk reaches SQLite as SQLITE_FULL, or as an I/O error (growing
 * the -shm file) whose errno says so. */
int vl_db_no_space(vl_db *db)
{
    if (IS_PG(db))
        return 0;
    int code = sqlite3_extended_errcode(LITE(db)) & 0xff;
    return code == SQLITE_FULL ||
           ((code == SQLITE_IOERR || code == SQLITE_CANTOPEN) &&
            sqlite3_system_errno(LITE(db)) == ENOSPC);
}

int vl_db_readonly(vl_db *db)
{
    return IS_PG(db) ? 0 : sqlite3_db_readonly(LITE(db), "main") == 1;
}

int vl_db_autocommit(vl_db *db)
{
    return IS_PG(db) ? vl_pg_autocommit(db) : sqlite3_get_autocommit(LITE(db));
}

int64_t vl_db_changes(vl_db *db)
{
    return IS_PG(db) ? vl_pg_changes(db) : sqlite3_changes(LITE(db));
}

int vl_db_exec(vl_db *db, const char *sql)
{
    if (IS_PG(db))
        return vl_pg_exec(db, sql);
    return sqlite3_exec(LITE(db), sql, NULL, NULL, NULL) == SQLITE_OK
               ? VL_DB_OK : VL_DB_ERROR;
}

int vl_db_exec_ddl(vl_db *db, const char *sql)
{
    return IS_PG(db) ? vl_pg_exec_ddl(db, sql) : vl_db_exec(db, sql);
}

int vl_db_user_version(vl_db *db, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = VL_DB_ERROR;
    if (IS_PG(db))
        return vl_pg_user_version(db, out);
    if (sqlite3_prepare_v2(LITE(db), "PRAGMA user_version", -1, &st, NULL) !=
        SQLITE_OK)
        return VL_DB_ERROR;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = VL_DB_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int vl_db_set_user_version(vl_db *db, int v)
{
    char sql[48];
    if (IS_PG(db))
        return vl_pg_set_user_version(db, v);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    return vl_db_exec(db, sql);
}

int vl_db_schema_lock(vl_db *db)
{
    return IS_PG(db) ? vl_pg_schema_lock(db) : VL_DB_OK;
}

int vl_db_schema_ready(vl_db *db)
{
    return IS_PG(db) ? vl_pg_schema_ready(db) : ((lite_db *)db)->tables_ready;
}

void vl_db_set_schema_ready(vl_db *db)
{
    if (IS_PG(db))
        vl_pg_set_schema_ready(db);
    else
        ((lite_db *)db)->tables_ready = 1;
}

int vl_db_prepare(vl_db *db, const char *sql, vl_db_stmt **out)
{
    lite_stmt *s;
    *out = NULL;
    if (IS_PG(db))
        return vl_pg_prepare(db, sql, out);
    ((lite_db *)db)->nomem = 0;
    if (!(s = calloc(1, sizeof *s))) {
        ((lite_db *)db)->nomem = 1;
        return VL_DB_NOMEM;
    }
    s->kind = VL_DB_SQLITE;
    if (sqlite3_prepare_v2(LITE(db), sql, -1, &s->h, NULL) != SQLITE_OK) {
        sqlite3_finalize(s->h);
        free(s);
        return VL_DB_ERROR;
    }
    *out = (vl_db_stmt *)s;
    return VL_DB_OK;
}

/* Type codes of vl_pg_bind. */
enum { B_NULL, B_TEXT, B_INT, B_DOUBLE, B_TEXT_NULL };

void vl_db_bind_text(vl_db_stmt *st, int i, const char *s)
{
    if (IS_PG(st))
        vl_pg_bind(st, i, s, 0, 0, s ? B_TEXT : B_TEXT_NULL);
    else if (s)
        sqlite3_bind_text(LST(st), i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(LST(st), i);
}

void vl_db_bind_int64(vl_db_stmt *st, int i, int64_t v)
{
    if (IS_PG(st))
        vl_pg_bind(st, i, NULL, v, 0, B_INT);
    else
        sqlite3_bind_int64(LST(st), i, (sqlite3_int64)v);
}

void vl_db_bind_int(vl_db_stmt *st, int i, int v)
{
    if (IS_PG(st))
        vl_pg_bind(st, i, NULL, v, 0, B_INT);
    else
        sqlite3_bind_int(LST(st), i, v);
}

void vl_db_bind_double(vl_db_stmt *st, int i, double v)
{
    if (IS_PG(st))
        vl_pg_bind(st, i, NULL, 0, v, B_DOUBLE);
    else
        sqlite3_bind_double(LST(st), i, v);
}

void vl_db_bind_null(vl_db_stmt *st, int i)
{
    if (IS_PG(st))
        vl_pg_bind(st, i, NULL, 0, 0, B_NULL);
    else
        sqlite3_bind_null(LST(st), i);
}

int vl_db_step(vl_db_stmt *st)
{
    if (IS_PG(st))
        return vl_pg_step(st);
    int rc = sqlite3_step(LST(st));
    return rc == SQLITE_ROW ? VL_DB_ROW : rc == SQLITE_DONE ? VL_DB_DONE
                                                            : rc;
}

const char *vl_db_column_text(vl_db_stmt *st, int i)
{
    if (IS_PG(st))
        return vl_pg_column_text(st, i);
    return (const char *)sqlite3_column_text(LST(st), i);
}

int64_t vl_db_column_int64(vl_db_stmt *st, int i)
{
    if (!IS_PG(st))
        return sqlite3_column_int64(LST(st), i);
    const char *s = vl_pg_column_text(st, i);
    /* Booleans come back as t/f in text results. */
    if (!s || *s == 'f')
        return 0;
    if (*s == 't')
        return 1;
    return strtoll(s, NULL, 10);
}

int vl_db_column_int(vl_db_stmt *st, int i)
{
    return IS_PG(st) ? (int)vl_db_column_int64(st, i)
                     : sqlite3_column_int(LST(st), i);
}

double vl_db_column_double(vl_db_stmt *st, int i)
{
    if (!IS_PG(st))
        return sqlite3_column_double(LST(st), i);
    const char *s = vl_pg_column_text(st, i);
    return s ? strtod(s, NULL) : 0.0;
}

int vl_db_column_is_null(vl_db_stmt *st, int i)
{
    if (IS_PG(st))
        return vl_pg_column_text(st, i) == NULL;
    return sqlite3_column_type(LST(st), i) == SQLITE_NULL;
}

void vl_db_reset(vl_db_stmt *st)
{
    if (IS_PG(st)) {
        vl_pg_reset(st);
        return;
    }
    sqlite3_reset(LST(st));
    sqlite3_clear_bindings(LST(st));
}

void vl_db_finalize(vl_db_stmt *st)
{
    if (!st)
        return;
    if (IS_PG(st)) {
        vl_pg_finalize(st);
        return;
    }
    sqlite3_finalize(LST(st));
    free(st);
}
