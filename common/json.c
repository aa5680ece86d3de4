/* jansson calls that tell a shortage of memory from bad input (see
 * vl_json.h): jansson's allocations are counted by common/alloc.c. */
#include "vl_json.h"

#include <stdlib.h>

#include "vl_common.h"

json_t *vl_json_loadb(const char *buf, size_t len, size_t flags,
                      json_error_t *je, int *oom)
{
    unsigned long before = vl_alloc_failures();
    json_t *j = json_loadb(buf, len, flags, je);
    int short_of_memory = vl_alloc_failures() != before;
    if (short_of_memory) {
        /* not even a document that parsed is trusted then: jansson may
         * have carried on past the failure */
        json_decref(j);
        j = NULL;
    }
    if (oom)
        *oom = short_of_memory;
    return j;
}

char *vl_json_dumps(const json_t *j, size_t flags)
{
    unsigned long before = vl_alloc_failures();
    char *s = json_dumps(j, flags);
    if (vl_alloc_failures() != before) {
        free(s);
        s = NULL;
    }
    return s;
}

int vl_json_dump_callback(const json_t *j, json_dump_callback_t fn, void *arg,
                          size_t flags)
{
    unsigned long before = vl_alloc_failures();
    int rc = json_dump_callback(j, fn, arg, flags);
    return vl_alloc_failures() != before ? -1 : rc;
}
