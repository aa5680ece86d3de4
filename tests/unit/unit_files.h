/* Scratch folders and files for the unit tests (after cmocka.h). */
#ifndef VL_UNIT_FILES_H
#define VL_UNIT_FILES_H

#include <stdlib.h>
#include <string.h>

#include "vl_common.h"

/* A new folder under /tmp; malloc'd path. */
static inline char *tmpdir(void)
{
    char tmpl[] = "/tmp/vl-unit-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return vl_strdup(tmpl);
}

/* Write text to dir/rel, making the folders on the way. */
static inline void put(const char *dir, const char *rel, const char *text)
{
    char *p = vl_path_join(dir, rel);
    vl_error err = {0};
    assert_int_equal(vl_fs_mkdirs_parent(p, &err), VL_OK);
    assert_int_equal(vl_fs_write_atomic(p, text, strlen(text), &err), VL_OK);
    free(p);
}

#endif
