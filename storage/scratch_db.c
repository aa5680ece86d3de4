/* Scratch databases (vl_storage.h): the on-disk indexes that keep what
 * grows with an object's file count out of memory. */
#include <sqlite3.h>
#include <stdio.h>

#include "vl_storage.h"

int vl_scratch_db_open(struct sqlite3 **db, int cache_kib, const char *schema)
{
    char pragma[192];
    /* no file name: a temporary database, written to $TMPDIR only beyond
     * its page cache; nothing in it outlives the process, so no journal,
     * no syncs, no locking with others */
    snprintf(pragma, sizeof pragma,
             "PRAGMA cache_size=-%d;PRAGMA journal_mode=OFF;PRAGMA synchronous=OFF;"
             "PRAGMA locking_mode=EXCLUSIVE;PRAGMA temp_store=FILE;", cache_kib);
    int code = sqlite3_open_v2("", db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                           SQLITE_OPEN_NOMUTEX, NULL);
    if (code == SQLITE_OK)
        code = sqlite3_exec(*db, pragma, NULL, NULL, NULL);
    if (code == SQLITE_OK && schema)
        code = sqlite3_exec(*db, schema, NULL, NULL, NULL);
    return code;
}
