/* Private to storage/: the catalog's database seam.  An sqlite3-like
 * statement API with two drivers, SQLite (db_sqlite.c) and PostgreSQL
 * through libpq (db_pg.c), so that catalog*.c holds one copy of its SQL.
 *
 * SQL given here is written for both engines: '?' and '?N' placeholders
 * (rewritten to $N for PostgreSQL), upserts with ON CONFLICT, IS DISTINCT
 * FROM.  Schema text (vl_db_exec_ddl) is written in SQLite's words and
 * translated for PostgreSQL (INTEGER -> BIGINT, TEXT -> TEXT COLLATE "C" so
 * text sorts by bytes as in SQLite, WITHOUT ROWID dropped, temp.x ->
 * pg_temp.x). */
#ifndef VL_DB_PRIVATE_H
#define VL_DB_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "db_private.h is private to storage/"
#endif

#include <stdint.h>

#include "vl_storage.h"

typedef struct vl_db vl_db;
typedef struct vl_db_stmt vl_db_stmt;

enum { VL_DB_OK = 0, VL_DB_ERROR = 1, VL_DB_NOMEM = 7, VL_DB_ROW = 100,
       VL_DB_DONE = 101 };
enum { VL_DB_SQLITE = 1, VL_DB_PG = 2 };

/* SQLite open modes. */
enum {
    VL_DB_OPEN_CREATE = 1,   /* read-write, created when missing */
    VL_DB_OPEN_RO_URI = 2,   /* a read-only "file:" URI */
};

/* Open an SQLite database; on failure *out may still be set (then
 * vl_db_errmsg says why; NULL means out of memory). */
int vl_db_open_sqlite(const char *path, int mode, vl_db **out);
/* Connect to PostgreSQL (a libpq URI or conninfo).  On failure a one-line
 * message naming name (the URL without secrets) is in err. */
int vl_db_open_pg(const char *conninfo, const char *name, vl_db **out,
                  vl_error *err);
void vl_db_close(vl_db *db);
/* The engine's own handle: a sqlite3 *, or a PGconn *. */
void *vl_db_native(vl_db *db);

int vl_db_kind(const vl_db *db);
/* What messages call the catalog: the SQLite file's path, or the
 * PostgreSQL URL given at open (which holds no password). */
const char *vl_db_name(vl_db *db);
const char *vl_db_errmsg(vl_db *db);
/* 1 when the last failure was the driver running out of memory (report it
 * with vl_error_oom). */
int vl_db_nomem(vl_db *db);
/* A full disk (SQLite only; always 0 for PostgreSQL). */
int vl_db_no_space(vl_db *db);
/* 1 when the database was opened read-only (SQLite). */
int vl_db_readonly(vl_db *db);
/* 1 outside any transaction. */
int vl_db_autocommit(vl_db *db);
/* Rows changed by the last INSERT/UPDATE/DELETE. */
int64_t vl_db_changes(vl_db *db);

int vl_db_exec(vl_db *db, const char *sql);
/* Schema text, translated for PostgreSQL (see above). */
int vl_db_exec_ddl(vl_db *db, const char *sql);
/* The schema version (SQLite's user_version; a vellum_meta row in
 * PostgreSQL, whose table the PostgreSQL driver makes when missing). */
int vl_db_user_version(vl_db *db, int *out);
int vl_db_set_user_version(vl_db *db, int v);
/* Inside a transaction: wait until no other connection is creating or
 * upgrading the schema (PostgreSQL: a transaction-scoped advisory lock;
 * SQLite's BEGIN IMMEDIATE already serializes). */
int vl_db_schema_lock(vl_db *db);
/* 1 once the side tables were made at open, so that later "ensure" calls
 * need not run DDL: PostgreSQL's concurrent CREATE TABLE IF NOT EXISTS can
 * collide, and in SQLite a statement of DDL per lookup made each file of
 * a new version's METS cost a schema parse. */
int vl_db_schema_ready(vl_db *db);
void vl_db_set_schema_ready(vl_db *db);

int vl_db_prepare(vl_db *db, const char *sql, vl_db_stmt **out);
/* Text is not copied: the caller keeps it alive until the next step. */
void vl_db_bind_text(vl_db_stmt *st, int i, const char *s);
void vl_db_bind_int64(vl_db_stmt *st, int i, int64_t v);
void vl_db_bind_int(vl_db_stmt *st, int i, int v);
void vl_db_bind_double(vl_db_stmt *st, int i, double v);
void vl_db_bind_null(vl_db_stmt *st, int i);
/* VL_DB_ROW, VL_DB_DONE or an error code. */
int vl_db_step(vl_db_stmt *st);
const char *vl_db_column_text(vl_db_stmt *st, int i);
int64_t vl_db_column_int64(vl_db_stmt *st, int i);
int vl_db_column_int(vl_db_stmt *st, int i);
double vl_db_column_double(vl_db_stmt *st, int i);
int vl_db_column_is_null(vl_db_stmt *st, int i);
/* Back to before the first step, bindings cleared. */
void vl_db_reset(vl_db_stmt *st);
void vl_db_finalize(vl_db_stmt *st);

#endif
