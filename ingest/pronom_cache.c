/* The compiled signature file on disk (placeholder until the real one). */
#include <stdlib.h>
#include "pronom_internal.h"

int vl_pronom_cache_key(const char *sigpath, const char *contpath,
                        char key[65], vl_error *err)
{
    key[0] = '\0';
    return VL_OK;
}

int vl_pronom_cache_read(const char *dir, const char *key,
                         vl_pronom_sigfile **out, vl_error *err)
{
    *out = NULL;
    return vl_error_set(err, VL_EINPUT, "no cache");
}

int vl_pronom_cache_write(const char *dir, const char *key,
                          const vl_pronom_sigfile *f, vl_error *err)
{
    return VL_OK;
}
