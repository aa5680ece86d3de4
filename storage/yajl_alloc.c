/* The allocator vellum gives yajl (yajl_alloc_private.h). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yajl_alloc_private.h"

#define RESERVE_HEADER 16

static void *from_reserve(vl_yajl_alloc *a, size_t n)
{
    size_t need = RESERVE_HEADER + ((n + 15) & ~(size_t)15);
    vl_alloc_failed();
    *a->failed = 1;
    if (need > sizeof a->reserve - a->used) {
        /* only a token longer than the reserve, at the moment memory ran
         * out: yajl would write through NULL */
        fputs("vellum: out of memory inside the JSON parser\n", stderr);
        abort();
    }
    char *blk = a->reserve + a->used;
    a->used += need;
    memcpy(blk, &n, sizeof n);
    return blk + RESERVE_HEADER;
}

static int in_reserve(const vl_yajl_alloc *a, const void *ptr)
{
    return (const char *)ptr >= a->reserve &&
           (const char *)ptr < a->reserve + sizeof a->reserve;
}

static void *y_malloc(void *ctx, size_t n)
{
    void *q = malloc(n);
    return q ? q : from_reserve(ctx, n);
}

static void *y_realloc(void *ctx, void *old, size_t n)
{
    vl_yajl_alloc *a = ctx;
    size_t had;
    void *q;
    if (!old)
        return y_malloc(ctx, n);
    if (in_reserve(a, old)) {
        memcpy(&had, (char *)old - RESERVE_HEADER, sizeof had);
    } else {
        had = malloc_usable_size(old);
        if ((q = realloc(old, n)))
            return q;
    }
    if (!(q = malloc(n)))
        q = from_reserve(a, n);
    memcpy(q, old, had < n ? had : n);
    if (!in_reserve(a, old))
        free(old);
    return q;
}

static void y_free(void *ctx, void *ptr)
{
    if (!in_reserve(ctx, ptr))
        free(ptr);
}

void vl_yajl_alloc_init(vl_yajl_alloc *a, int *failed, yajl_alloc_funcs *funcs)
{
    a->failed = failed;
    a->used = 0;
    *funcs = (yajl_alloc_funcs){y_malloc, y_realloc, y_free, a};
}
