/* Private to ingest/: format identification calls that only ingest's own
 * pipeline and sources make (identify.c); other modules and tools/ identify
 * through vl_identify_path (vl_ingest.h). */
#ifndef VL_IDENTIFY_PRIVATE_H
#define VL_IDENTIFY_PRIVATE_H

#ifndef VL_INGEST_INTERNAL
#error "identify_private.h is private to ingest/"
#endif

#include "vl_ingest.h"

/* "DROID V122; containers 40", as vl_format.signatures holds it */
const char *vl_signatures_describe(const vl_signatures *s);

/* How many trailing bytes the signatures look at (0 without signatures). */
size_t vl_identify_eof_bytes(const vl_identifier *id);
/* Identify a file from its first bytes (bof) and its last (eof, may be
 * NULL when the file is no longer than boflen); name (may be NULL) is the
 * file name, for its extension; path (may be NULL) is where the whole file
 * can be read, for container signatures.  size is the file's size. */
int vl_identify_file(vl_identifier *id, const void *bof, size_t boflen,
                     const void *eof, size_t eoflen, uint64_t size,
                     const char *name, const char *path, vl_format *out,
                     vl_error *err);
/* Leading bytes only (no container look, no end of file beyond them). */
int vl_identify_buffer(vl_identifier *id, const void *data, size_t len,
                       uint64_t total_size, const char *name, vl_format *out,
                       vl_error *err);
/* "libmagic 5.44" for PREMIS agents. */
const char *vl_identify_library_version(void);

#endif
