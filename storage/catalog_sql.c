/* The catalog's SQLite parameter binding, shared by catalog.c and the side
 * tables, so that NULL and "" mean the same everywhere (catalog_sql.h). */
#include "catalog_sql.h"

void vl_sql_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void vl_sql_bind_text_known(sqlite3_stmt *st, int i, const char *s)
{
    vl_sql_bind_text(st, i, s && *s ? s : NULL);
}

void vl_sql_bind_size(sqlite3_stmt *st, int i, uint64_t size, int known)
{
    if (known)
        sqlite3_bind_int64(st, i, (sqlite3_int64)size);
    else
        sqlite3_bind_null(st, i);
}
