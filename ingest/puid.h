/* PRONOM identifiers for a libmagic answer (private to ingest/identify.c). */
#ifndef VL_PUID_H
#define VL_PUID_H

#ifndef VL_INGEST_INTERNAL
#error "puid.h is private to ingest/"
#endif

#include "vl_ingest.h"

/* From out->mime and out->description (libmagic's), the leading bytes of
 * the file and its name (may be NULL), fill out->puid, format_name and
 * format_version.  puid stays "" when the evidence does not fix one. */
void vl_puid_classify(const void *data, size_t len, uint64_t total_size,
                      const char *name, vl_format *out);

#endif
