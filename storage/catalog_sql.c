/* The catalog's parameter binding, shared by catalog.c and the side
 * tables, so that NULL and "" mean the same everywhere (catalog_sql.h). */
#include "catalog_sql.h"

void vl_sql_bind_text(vl_db_stmt *st, int i, const char *s)
{
    vl_db_bind_text(st, i, s);
}

void vl_sql_bind_text_known(vl_db_stmt *st, int i, const char *s)
{
    vl_sql_bind_text(st, i, s && *s ? s : NULL);
}

void vl_sql_bind_size(vl_db_stmt *st, int i, uint64_t size, int known)
{
    if (known)
        vl_db_bind_int64(st, i, (int64_t)size);
    else
        vl_db_bind_null(st, i);
}
