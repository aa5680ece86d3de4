/* Private to metadata/: reading a vellum METS back (metadata/mets_read.c)
 * and writing it again as of now (metadata/export.c), for reindex, recover
 * and exports inside this module.  Other modules and tools/ copy the stored
 * METS out (vl_mets_stored_to_fd) or ask for formats back
 * (vl_metadata_reindex_formats) through vl_metadata.h. */
#ifndef VL_METS_PRIVATE_H
#define VL_METS_PRIVATE_H

#ifndef VL_METADATA_INTERNAL
#error "mets_private.h is private to metadata/"
#endif

#include "vl_metadata.h"

/* ======================================================================
 * Reading a vellum METS back: streaming (xmlTextReader), no network, no
 * entity expansion, a DOCTYPE refused.  Files are joined to their PREMIS
 * objects by ADMID, and dmdSecs to files and to the deposit by the
 * structMap's DMDID/FILEID links.
 * ==================================================================== */
typedef struct vl_mets_file_info {
    const char *logical;        /* PREMIS objectIdentifier of type "local" */
    uint64_t size;
    const char *mime;           /* fileSec MIMETYPE, or NULL */
    /* formatName, or NULL when it only repeats the MIME type or is the
     * "unknown" vl_mets_write puts when nothing was identified */
    const char *format_name;
    const char *format_version; /* or NULL */
    const char *puid;           /* formatRegistryKey of PRONOM, or NULL */
    /* formatNote "encoding: X" / "description: X" when written, or NULL */
    const char *encoding;
    const char *description;
    const char *original_name;  /* or NULL */
    const char *modified;       /* dateCreatedByApplication, or NULL */
    /* formatNote "PRONOM basis: X", "PRONOM warning: X", "PRONOM also
     * matches: X", "identified with: X" when written, or NULL */
    const char *basis, *warning, *others, *signatures;
} vl_mets_file_info;
/* Called once per PREMIS object, files in fileSec order; non-VL_OK stops. */
typedef int (*vl_mets_file_fn)(void *arg, const vl_mets_file_info *f,
                               vl_error *err);

/* Read a METS from a stream.  desc (may be NULL) receives the deposit DC,
 * the MODS record (serialized mods:mods) and per-file DC; fn (may be NULL)
 * each file.  Nothing is handed out before the whole input parsed.
 * VL_EINPUT "name:line: ..." when malformed; name is used in messages. */
int vl_mets_read(vl_read_fn rd, void *rd_arg, const char *name,
                 vl_descriptive *desc, vl_mets_file_fn fn, void *arg,
                 vl_error *err);
int vl_mets_read_file(const char *path, vl_descriptive *desc,
                      vl_mets_file_fn fn, void *arg, vl_error *err);
/* The METS.xml of version num (0 = head) of the object whose inventory is
 * inv, read through the backend while its digest is checked against the
 * inventory (VL_FINDING on a mismatch, before anything is handed out).  A
 * version without METS.xml: *found = 0 and VL_OK, or VL_EINPUT when found
 * is NULL. */
int vl_mets_read_stored_inv(vl_repo *r, const vl_inventory *inv, int num,
                            vl_descriptive *desc, vl_mets_file_fn fn,
                            void *arg, int *found, vl_error *err);
/* Put back an object's format identification results that the catalog
 * lacks from the METS stored in its versions (newest first, so the newest
 * wins for a digest); results the catalog has are left as they are.
 * *files (may be NULL) is increased by the number restored.  For reindex,
 * and for recover after it rebuilt an object's rows. */
int vl_metadata_restore_formats(vl_repo *r, const char *id, size_t *files,
                                vl_error *err);
/* What a METS.xml vellum wrote is, as the catalog records it (static). */
const vl_catalog_format *vl_mets_catalog_format(void);

/* ======================================================================
 * Writing it again (metadata/export.c)
 * ==================================================================== */
/* Write the METS of version num (0 = head) to path as of now: files from
 * the catalog (which must agree with the store), every digest the
 * inventory has (manifest and fixity), formats from the catalog, every
 * event of the object up to now that is not about a later version,
 * descriptive metadata and original names from the stored METS, and the
 * versions' depositors as people.  A version deposited without descriptive
 * metadata takes the latest given before it. */
int vl_mets_regenerate(vl_repo *r, const char *id, int num, const char *path,
                       vl_error *err);

#endif
