/* Private to common/: helpers its files share that other modules have no
 * use for. */
#ifndef VL_COMMON_PRIVATE_H
#define VL_COMMON_PRIVATE_H

#ifndef VL_COMMON_INTERNAL
#error "common_private.h is private to common/"
#endif

#include "vl_common.h"

/* vl_name_escape into out (cap bytes), cut short at a whole character (or
 * escape): how vl_error_set keeps user-supplied text in messages printable. */
void vl_text_escape_into(char *out, size_t cap, const char *s);

#endif
