/* A count of the allocations that failed in this thread, for operations
 * that must not carry on quietly past one: a helper that degrades instead
 * of failing (a message without its escaped name), or a library that does
 * (libxml2 reads an attribute it could not copy as absent; jansson reports
 * a failed allocation as a syntax error), still counts it here, and the
 * operation compares the count before and after and reports a system
 * error.  libxml2's and jansson's allocations are routed through here. */
#include "vl_common.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/xmlmemory.h>

static __thread unsigned long failures;

void vl_alloc_failed(void)
{
    failures++;
}

unsigned long vl_alloc_failures(void)
{
    return failures;
}

static void *counted_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        failures++;
    return p;
}

static void *counted_realloc(void *old, size_t n)
{
    void *p = realloc(old, n);
    if (!p && n)
        failures++;
    return p;
}

static char *counted_strdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        failures++;
    return p;
}

/* Before main, and so before any thread and any use of either library
 * (neither setter is safe against other threads).  The blocks are the
 * C library's either way: one allocated before this is freed alike. */
__attribute__((constructor)) static void alloc_hooks_init(void)
{
    json_set_alloc_funcs(counted_malloc, free);
    xmlMemSetup(free, counted_malloc, counted_realloc, counted_strdup);
}
