/* Folder names in byte order, in bounded memory (name_sort_private.h). */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "name_sort_private.h"

#define IN_MEMORY_NAMES 4096
/* Page cache of a spilled folder's database, KiB. */
#define SPILL_CACHE_KIB 1024

struct entry {
    char *name;
    int kind;
};

struct vl_name_sort {
    struct entry *v;          /* the first names, until they spill */
    size_t n, cap, limit;
    size_t count;             /* every name added */
    sqlite3 *db;              /* once spilled: every name is here */
    sqlite3_stmt *ins;
};

static size_t memory_limit(void)
{
    const char *env = getenv("VELLUM_LIST_MEMORY");
    char *end;
    if (env && *env) {
        unsigned long v = strtoul(env, &end, 10);
        if (!*end)
            return v;
    }
    return IN_MEMORY_NAMES;
}

int vl_name_sort_new(vl_name_sort **out, vl_error *err)
{
    if (!(*out = calloc(1, sizeof **out)))
        return vl_error_oom(err);
    (*out)->limit = memory_limit();
    return VL_OK;
}

static void drop_memory(vl_name_sort *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].name);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

void vl_name_sort_free(vl_name_sort *s)
{
    if (!s)
        return;
    drop_memory(s);
    sqlite3_finalize(s->ins);
    sqlite3_close(s->db);
    free(s);
}

size_t vl_name_sort_count(const vl_name_sort *s) { return s->count; }

static int db_failed(vl_name_sort *s, int code, vl_error *err)
{
    if (code == SQLITE_NOMEM)
        vl_alloc_failed();
    return vl_error_set(err, VL_ESYS, "cannot sort a folder's names: out of memory "
                        "or temporary space (%s)",
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(code));
}

static int db_insert(vl_name_sort *s, const char *name, int kind, vl_error *err)
{
    sqlite3_bind_text(s->ins, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s->ins, 2, kind);
    int code = sqlite3_step(s->ins);
    sqlite3_reset(s->ins);
    return code == SQLITE_DONE ? VL_OK : db_failed(s, code, err);
}

/* Move the names held so far into a new database; every later one goes
 * there too.  One transaction: nothing in it outlives the process. */
static int spill(vl_name_sort *s, vl_error *err)
{
    int code = vl_scratch_db_open(&s->db, SPILL_CACHE_KIB,
                                  "CREATE TABLE n (name TEXT NOT NULL,"
                                  " kind INTEGER NOT NULL); BEGIN;");
    if (code == SQLITE_OK)
        code = sqlite3_prepare_v2(s->db, "INSERT INTO n VALUES (?1, ?2)", -1,
                                  &s->ins, NULL);
    if (code != SQLITE_OK)
        return db_failed(s, code, err);
    for (size_t i = 0; i < s->n; i++) {
        int rc = db_insert(s, s->v[i].name, s->v[i].kind, err);
        if (rc != VL_OK)
            return rc;
    }
    drop_memory(s);
    return VL_OK;
}

int vl_name_sort_add(vl_name_sort *s, const char *name, int kind, vl_error *err)
{
    int rc;
    if (!s->db && s->n >= s->limit && (rc = spill(s, err)) != VL_OK)
        return rc;
    if (s->db) {
        if ((rc = db_insert(s, name, kind, err)) == VL_OK)
            s->count++;
        return rc;
    }
    if ((rc = VL_GROW(s->v, s->cap, s->n + 1, err)) != VL_OK)
        return rc;
    if (!(s->v[s->n].name = vl_strdup(name)))
        return vl_error_oom(err);
    s->v[s->n++].kind = kind;
    s->count++;
    return VL_OK;
}

int vl_name_sort_read_dir(vl_name_sort *s, DIR *d, const char *path, vl_error *err)
{
    struct dirent *e;
    int rc;
    errno = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            (rc = vl_name_sort_add(s, e->d_name, 0, err)) != VL_OK)
            return rc;
        errno = 0;
    }
    return errno ? vl_error_sys(err, "cannot list %s", path) : VL_OK;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

int vl_name_sort_each(vl_name_sort *s, vl_list_fn fn, void *arg, vl_error *err)
{
    int rc = VL_OK, code;
    sqlite3_stmt *st = NULL;
    if (!s->db) {
        if (s->n > 1)
            qsort(s->v, s->n, sizeof *s->v, entry_cmp);
        for (size_t i = 0; i < s->n && rc == VL_OK; i++)
            rc = fn(arg, s->v[i].name, s->v[i].kind, err);
        return rc;
    }
    /* TEXT compares with memcmp (BINARY collation): strcmp's order for
     * names, which hold no NUL.  SQLite sorts the spilled rows with its
     * external merge sort, in its page cache and temporary files. */
    code = sqlite3_prepare_v2(s->db, "SELECT name, kind FROM n ORDER BY name", -1,
                              &st, NULL);
    if (code != SQLITE_OK)
        return db_failed(s, code, err);
    while ((code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (!name) {
            code = SQLITE_NOMEM;
            break;
        }
        if ((rc = fn(arg, name, sqlite3_column_int(st, 1), err)) != VL_OK)
            break;
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = db_failed(s, code, err);
    sqlite3_finalize(st);
    return rc;
}
