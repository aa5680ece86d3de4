/* Private to storage/: opening, filling and emptying the catalog, its
 * events table, and the SQLite handle under it.  Other modules query the
 * catalog of an open repository (vl_repo_catalog) through vl_storage.h;
 * only storage/ decides what rows it holds. */
#ifndef VL_CATALOG_PRIVATE_H
#define VL_CATALOG_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "catalog_private.h is private to storage/"
#endif

#include "vl_storage.h"

/* path: an SQLite file, or a postgresql:// (postgres://) URL, which holds
 * no password (libpq finds it in PGPASSWORD or ~/.pgpass). */
int vl_catalog_open(const char *path, vl_catalog **out, vl_error *err);
/* 1 when path names a PostgreSQL catalog. */
int vl_catalog_is_url(const char *path);
/* For commands that only read: writes nothing, on a full or read-only
 * filesystem too (see catalog.c); a missing catalog reads as empty, and
 * every write fails. */
int vl_catalog_open_readonly(const char *path, vl_catalog **out,
                             vl_error *err);
void vl_catalog_close(vl_catalog *cat);
/* Replace every row of one object with what its inventory says; content
 * sizes come from the backend. */
int vl_catalog_sync_object(vl_catalog *cat, vl_backend *b,
                           const char *object_rel, const vl_inventory *inv,
                           vl_error *err);
/* The same after a commit of a new version.  When the catalog holds the
 * object at head-1 (objects row, that version's row, row counts), only the
 * new version's rows are added: its versions and files rows, the content
 * and fixity rows under its folder, the objects row and head totals.
 * Otherwise every row is replaced, keeping the content sizes the catalog
 * already records (stored content never changes), so only new content is
 * read from storage. */
int vl_catalog_sync_new_version(vl_catalog *cat, vl_backend *b,
                                const char *object_rel, const vl_inventory *inv,
                                vl_error *err);
/* How many syncs since open added only the new version's rows (the
 * catalog held the object at head-1); for tests. */
unsigned long vl_catalog_incremental_syncs(const vl_catalog *cat);
int vl_catalog_remove_object(vl_catalog *cat, const char *id, vl_error *err);
int vl_catalog_clear(vl_catalog *cat, vl_error *err);
/* A version's files (f) with their content (c): the first content path,
 * in byte order, holding the file's digest.  For vl_catalog_files and
 * vl_catalog_files_detail. */
#define VL_SQL_FILES_CONTENT \
    " FROM files f LEFT JOIN content c" \
    "  ON c.object_id = f.object_id AND c.content_path =" \
    "   (SELECT min(c2.content_path) FROM content c2" \
    "     WHERE c2.object_id = f.object_id" \
    "     AND c2.digest = f.digest)"
/* One object's row; VL_EINPUT "no object" when absent. */
int vl_catalog_get_object(vl_catalog *cat, const char *id, vl_catalog_object_fn fn,
                      void *arg, vl_error *err);

/* The underlying SQLite handle (a sqlite3 *), for the files of storage/
 * that keep their own tables in the catalog database (formats, events,
 * audits, reports; see catalog_sql.h).  void * so that this header does not
 * pull in sqlite3.h. */
void *vl_catalog_db(vl_catalog *cat);
/* The seam's handle under the catalog (db_private.h), whichever engine. */
struct vl_db *vl_catalog_vdb(vl_catalog *cat);
/* A PostgreSQL catalog's connection string (password included: never
 * show it), for the object locks' own connections; NULL for SQLite. */
const char *vl_catalog_conninfo(vl_catalog *cat);
/* VL_EINPUT when the catalog already holds objects or events: a new
 * repository is given a PostgreSQL database of its own (one catalog per
 * database; the URL's options=-csearch_path=... can pick a schema). */
int vl_catalog_check_unused(vl_catalog *cat, vl_error *err);
/* What messages call the catalog (no password in it). */
const char *vl_catalog_name(vl_catalog *cat);

/* Catalog side of events (used by storage/events.c). */
int vl_catalog_event_insert(vl_catalog *cat, long seq, const char *line,
                            const char *hash, vl_error *err);
int vl_catalog_event_exists(vl_catalog *cat, const char *id, int *exists,
                            vl_error *err);
int vl_catalog_events_clear(vl_catalog *cat, vl_error *err);
int vl_catalog_events_query(vl_catalog *cat, const vl_event_filter *f,
                            vl_event_fn fn, void *arg, vl_error *err);
/* Every (seq, hash) in seq order, to compare with the log. */
typedef int (*vl_event_hash_fn)(void *arg, long seq, const char *hash);
int vl_catalog_events_hashes(vl_catalog *cat, vl_event_hash_fn fn, void *arg,
                             vl_error *err);

/* PostgreSQL catalogs: the events table is the log (events.c), each row
 * holding its JSON line.  1 when that is so. */
int vl_catalog_events_are_log(vl_catalog *cat);
/* Open a transaction (a savepoint inside one) holding the chain's lock
 * until it ends: appends from every process and machine serialize.
 * *outer is for vl_catalog_scope_end. */
int vl_catalog_events_lock(vl_catalog *cat, int *outer, vl_error *err);
/* The newest event's seq and line (*line malloc'd; 0 and NULL: none). */
int vl_catalog_event_last(vl_catalog *cat, long *seq, char **line,
                          vl_error *err);
typedef int (*vl_event_line_fn)(void *arg, long seq, const char *line,
                                const char *hash, vl_error *err);
/* Every event's line and stored hash, in seq order. */
int vl_catalog_events_lines(vl_catalog *cat, vl_event_line_fn fn, void *arg,
                            vl_error *err);
/* A write scope: a transaction, or a savepoint inside the caller's. */
int vl_catalog_scope_begin(vl_catalog *cat, int *outer, vl_error *err);
int vl_catalog_scope_end(vl_catalog *cat, int outer, int ok, vl_error *err);

/* The catalog's list of replicas (catalog_copies.c). */
int vl_catalog_replica_put(vl_catalog *cat, const char *name,
                           const char *location, const char *added,
                           vl_error *err);
/* The replica's row and its copies' rows. */
int vl_catalog_replica_forget(vl_catalog *cat, const char *name,
                              vl_error *err);

#endif
