/* Private to the PRONOM engine (ingest/pronom*.c): the pieces pronom.h
 * names, seen from inside.  Not for the rest of ingest/: use pronom.h. */
#ifndef VL_PRONOM_INTERNAL_H
#define VL_PRONOM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pronom.h"

/* ==== container signatures (pronom_container.c) ==== BEGIN ==============
 * The container signature file (container-signature-*.xml), loaded once,
 * immutable after, shared by threads; matched against a ZIP or an OLE2
 * file as DROID does: a ContainerSignature matches when every <File> it
 * lists is in the container (ZIP entry names and OLE2 paths compared
 * exactly, OLE2 names trimmed of leading and trailing characters up to
 * U+0020 as DROID's Java trim() does, which drops the 0x01 of "\x01CompObj"
 * and the 0x05 of "\x05SummaryInformation"), and, for a File with
 * BinarySignatures, at least one of them matches that entry's bytes. */
typedef struct vl_pronom_containers vl_pronom_containers;

#define VL_CONTAINER_ZIP 1
#define VL_CONTAINER_OLE2 2

/* Load path: VL_EINPUT naming the file when it is not a container
 * signature file.  A ContainerSignature whose byte signature does not
 * compile is kept but never matches (DROID too skips invalid ones):
 * vl_pronom_containers_warning tells. */
int vl_pronom_containers_load(const char *path, vl_pronom_containers **out,
                              vl_error *err);
void vl_pronom_containers_free(vl_pronom_containers *c);
/* The signatureVersion attribute ("40"), or "". */
const char *vl_pronom_containers_version(const vl_pronom_containers *c);
/* How many ContainerSignatures could not be compiled (*nbroken, may be
 * NULL) and the first one's message, or "". */
const char *vl_pronom_containers_warning(const vl_pronom_containers *c,
                                         size_t *nbroken);
/* How many ContainerSignatures of a type (0: of every type) were read;
 * signatures of other container types are kept but never matched. */
size_t vl_pronom_containers_count(const vl_pronom_containers *c, int type);
/* The ContainerType (VL_CONTAINER_*) TriggerPuids gives puid, else 0. */
int vl_pronom_containers_trigger(const vl_pronom_containers *c,
                                 const char *puid);
/* Look inside the file at path as a container of type: the PUIDs of every
 * matching signature (in signature file order, each PUID once) in
 * puids[0..*n), with what matched in basis[i] ("container signature 1020:
 * WordDocument, CompObj"), at most cap of them.  A corrupt or hostile
 * container is VL_EINPUT naming path; reads are bounded (entries listed,
 * bytes read from each entry). */
int vl_pronom_containers_match(const vl_pronom_containers *c, int type,
                               const char *path, char (*puids)[32],
                               char (*basis)[256], size_t cap, size_t *n,
                               vl_error *err);
/* ==== container signatures (pronom_container.c) ==== END ================ */

#endif
