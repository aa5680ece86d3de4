/* jansson's allocations are routed through here so that a parse that ran
 * out of memory can be told from one that met bad input (see vl_json.h). */
#include "vl_json.h"

#include <stdlib.h>

/* Allocations jansson asked for and did not get, in this thread. */
static __thread unsigned long failures;

static void *json_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        failures++;
    return p;
}

/* Before main (and so before any thread): json_set_alloc_funcs is not
 * safe against other threads using jansson at the same time.  Blocks
 * jansson allocated before this are freed with the same free(). */
__attribute__((constructor)) static void json_alloc_init(void)
{
    json_set_alloc_funcs(json_malloc, free);
}

json_t *vl_json_loadb(const char *buf, size_t len, size_t flags,
                      json_error_t *je, int *oom)
{
    unsigned long before = failures;
    json_t *j = json_loadb(buf, len, flags, je);
    int short_of_memory = failures != before;
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
    unsigned long before = failures;
    char *s = json_dumps(j, flags);
    if (failures != before) {
        free(s);
        s = NULL;
    }
    return s;
}

int vl_json_dump_callback(const json_t *j, json_dump_callback_t fn, void *arg,
                          size_t flags)
{
    unsigned long before = failures;
    int rc = json_dump_callback(j, fn, arg, flags);
    return failures != before ? -1 : rc;
}
