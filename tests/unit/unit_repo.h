/* A scratch repository for the unit tests (after cmocka.h). */
#ifndef VL_UNIT_REPO_H
#define VL_UNIT_REPO_H

#include "unit_files.h"
#include "vl_storage.h"

/* A new repository BASE/name, opened; *base_out gets BASE (malloc'd). */
static inline vl_repo *unit_repo_new(char **base_out, const char *name,
                                     vl_digest_alg alg, unsigned fixity)
{
    char *base = tmpdir();
    char *dir = vl_path_join(base, name);
    vl_repo_options o = {alg, fixity, VL_SHARED_PRIVATE, NULL, NULL, 0};
    vl_error err = {0};
    vl_repo *r = NULL;
    assert_int_equal(vl_repo_init(dir, &o, &err), VL_OK);
    assert_int_equal(vl_repo_open(dir, &r, &err), VL_OK);
    free(dir);
    *base_out = base;
    return r;
}

#endif
