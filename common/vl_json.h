/* jansson, with a parse that ran out of memory told apart from one that
 * met bad input.  jansson reports an allocation that failed while it
 * parsed as a syntax error ("invalid token near ...") or with no text at
 * all, so on its own a caller would call a good inventory or event line
 * "not valid JSON" when memory ran short.  Private to the library. */
#ifndef VL_JSON_H
#define VL_JSON_H

#include <jansson.h>

/* json_loadb; when it returns NULL, *oom (may be NULL) is 1 when an
 * allocation failed during the parse (the error text then means nothing:
 * report a system error), 0 when the input is at fault.  A parse during
 * which an allocation failed returns NULL even if jansson made a document. */
json_t *vl_json_loadb(const char *buf, size_t len, size_t flags,
                      json_error_t *je, int *oom);

/* json_dumps and json_dump_callback, failing (NULL, -1) when an allocation
 * failed on the way: jansson can carry on past one and write something
 * else (keys unsorted) rather than fail. */
char *vl_json_dumps(const json_t *j, size_t flags);
int vl_json_dump_callback(const json_t *j, json_dump_callback_t fn, void *arg,
                          size_t flags);

#endif
