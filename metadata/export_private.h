#ifndef VL_METADATA_INTERNAL
#error "export_private.h is private to metadata/"
#endif
/* Private to metadata/: the parts of vl_export (export.c) that live in one
 * file per export kind: export_mets.c, export_bagit.c, export_ocfl.c, and
 * export_archive.c for the zip and tar forms of any of them. */
#ifndef VL_EXPORT_PRIVATE_H
#define VL_EXPORT_PRIVATE_H

#include "descriptive_internal.h"
#include "mets_private.h"
#include "vl_metadata.h"

/* export.c ------------------------------------------------------------------ */
/* The inventory of object id and the version *num (0 = head, replaced by
 * the head's number); VL_EINPUT when the object has no such version. */
int vl_export_load_version(vl_repo *r, const char *id, int *num,
                           vl_inventory **inv, vl_error *err);
/* Where an object keeps the tag files of a deposited bag. */
#define VL_EXPORT_BAG_DIR "metadata/bag"
/* Version num's data/ folder at tmp/data, through vl_repo_get (so every
 * digest is checked on the way out); an empty folder when it has none;
 * and its metadata/bag/ (the donor's bag-info and manifests, when the
 * deposit was a bag) at tmp/metadata/bag. */
int vl_export_payload(vl_repo *r, const char *id, int num, const char *tmp,
                      vl_error *err);

/* export_mets.c: METS regenerated from the catalog and the store ----------- */
/* Write the METS of version num to path (see vl_mets_regenerate); desc
 * receives the descriptive metadata of the stored METS. */
int vl_export_regenerate(vl_repo *r, const vl_inventory *inv, int num,
                         const char *path, vl_descriptive *desc,
                         vl_error *err);
/* The mets kind of version num of object id (inv its inventory) into
 * tmp: data/ and METS.xml; *files and *bytes count the payload. */
int vl_export_mets(vl_repo *r, const char *id, const vl_inventory *inv,
                   int num, const char *tmp, size_t *files, uint64_t *bytes,
                   vl_error *err);

/* export_bagit.c ------------------------------------------------------------- */
/* The bagit kind into tmp (arguments as vl_export_mets): a BagIt 1.0 bag
 * with METS.xml as a tag file, checked by o->check_bag (a failure there is
 * VL_ESYS: the bag is ours, not the user's input). */
int vl_export_bagit(vl_repo *r, const char *id, const vl_inventory *inv,
                    int num, const char *tmp, const vl_export_options *o,
                    size_t *files, uint64_t *bytes, vl_error *err);

/* export_ocfl.c -------------------------------------------------------------- */
/* The ocfl kind into tmp: the object folder as it was at version num,
 * copied through the backend under the object lock, then validated with
 * every digest (VL_FINDING when the copy does not validate). */
int vl_export_ocfl(vl_repo *r, const vl_inventory *inv, int num,
                   const char *tmp, size_t *files, uint64_t *bytes,
                   vl_error *err);

/* export_archive.c ----------------------------------------------------------- */
/* Write the folder dir as an archive of kind "zip", "tar", "tar.gz",
 * "tar.xz" or "tar.bz2" to the new file out, under one top folder named
 * after dest; files keep their modification times. */
int vl_export_archive(const char *dir, const char *out, const char *dest,
                      const char *kind, vl_error *err);

#endif
