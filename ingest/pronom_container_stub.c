/* TEMPORARY - delete at merge: a stand-in for ingest/pronom_container.c
 * (written in the pronom-cont worktree) so that this branch links and its
 * tests run.  It knows no containers: load gives an empty set, nothing is
 * a trigger, nothing matches. */
#include <stdlib.h>

#include "pronom_internal.h"

struct vl_pronom_containers {
    int unused;
};

int vl_pronom_containers_load(const char *path, vl_pronom_containers **out,
                              vl_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? VL_OK : vl_error_sys(err, "%s", path);
}

void vl_pronom_containers_free(vl_pronom_containers *c)
{
    free(c);
}

const char *vl_pronom_containers_version(const vl_pronom_containers *c)
{
    return "";
}

int vl_pronom_containers_trigger(const vl_pronom_containers *c,
                                 const char *puid)
{
    return 0;
}

int vl_pronom_containers_match(const vl_pronom_containers *c, int type,
                               const char *path, char (*puids)[32],
                               char (*basis)[256], size_t cap, size_t *n,
                               vl_error *err)
{
    *n = 0;
    return VL_OK;
}
