/* A set of paths on disk (pathset_private.h). */
#include <sqlite3.h>
#include <stdlib.h>

#include "pathset_private.h"

struct vl_pathset {
    sqlite3 *db;
    sqlite3_stmt *add, *has;
};

static int failed(vl_pathset *s, int code, vl_error *err)
{
    if (code == SQLITE_NOMEM)
        return vl_error_set(err, VL_ESYS, "a set of paths: out of memory");
    return vl_error_set(err, VL_ESYS, "a set of paths: %s",
                        s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(code));
}

void vl_pathset_free(vl_pathset *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->add);
    sqlite3_finalize(s->has);
    sqlite3_close(s->db);
    free(s);
}

int vl_pathset_new(vl_pathset **out, vl_error *err)
{
    vl_pathset *s = calloc(1, sizeof *s);
    int code;
    *out = NULL;
    if (!s)
        return vl_error_oom(err);
    code = vl_scratch_db_open(&s->db, 2048, "CREATE TABLE p(path TEXT PRIMARY KEY) "
                                            "WITHOUT ROWID; BEGIN;");
    if (code == SQLITE_OK)
        code = sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO p VALUES (?1)", -1,
                                  &s->add, NULL);
    if (code == SQLITE_OK)
        code = sqlite3_prepare_v2(s->db, "SELECT 1 FROM p WHERE path = ?1", -1,
                                  &s->has, NULL);
    if (code != SQLITE_OK) {
        int rc = failed(s, code, err);
        vl_pathset_free(s);
        return rc;
    }
    *out = s;
    return VL_OK;
}

int vl_pathset_add(vl_pathset *s, const char *path, vl_error *err)
{
    sqlite3_reset(s->add);
    int code = sqlite3_bind_text(s->add, 1, path, -1, SQLITE_STATIC);
    if (code == SQLITE_OK && (code = sqlite3_step(s->add)) == SQLITE_DONE)
        code = SQLITE_OK;
    sqlite3_reset(s->add);
    return code == SQLITE_OK ? VL_OK : failed(s, code, err);
}

int vl_pathset_has(vl_pathset *s, const char *path, int *found, vl_error *err)
{
    sqlite3_reset(s->has);
    int code = sqlite3_bind_text(s->has, 1, path, -1, SQLITE_STATIC);
    *found = 0;
    if (code == SQLITE_OK) {
        code = sqlite3_step(s->has);
        *found = code == SQLITE_ROW;
        if (code == SQLITE_ROW || code == SQLITE_DONE)
            code = SQLITE_OK;
    }
    sqlite3_reset(s->has);
    return code == SQLITE_OK ? VL_OK : failed(s, code, err);
}
