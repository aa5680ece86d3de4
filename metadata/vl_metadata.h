/* vellum metadata: Dublin Core and MODS records, their crosswalks, CSV
 * metadata in Archivematica's shape, safe reading of user XML, the METS
 * writer (PREMIS inside), schema validation with an XML catalog, and
 * exports.  Uses storage/ and common/. */
#ifndef VL_METADATA_H
#define VL_METADATA_H

#include "vl_common.h"
#include "vl_storage.h"

/* ======================================================================
 * A vellum object version, as logical paths: the deposited files under
 * data/, a bag's tag files under metadata/bag/, and METS.xml at the root
 * describing them.  Written by ingest, read back here, checked by tools/.
 * ==================================================================== */
#define VL_PAYLOAD_DIR "data"
#define VL_PAYLOAD_PREFIX VL_PAYLOAD_DIR "/"                 /* "data/" */
#define VL_PAYLOAD_PREFIX_LEN (sizeof VL_PAYLOAD_PREFIX - 1)
#define VL_BAG_TAG_DIR "metadata/bag"
#define VL_METS_FILE "METS.xml"

/* ======================================================================
 * XML namespaces vellum reads and writes, spelled once (macros, so that
 * they join other literals, as in a schemaLocation).
 * ==================================================================== */
#define VL_NS_METS "http://www.loc.gov/METS/"
#define VL_NS_MODS "http://www.loc.gov/mods/v3"
#define VL_NS_PREMIS "http://www.loc.gov/premis/v3"
#define VL_NS_DC "http://purl.org/dc/elements/1.1/"
#define VL_NS_OAI_DC "http://www.openarchives.org/OAI/2.0/oai_dc/"
#define VL_NS_XLINK "http://www.w3.org/1999/xlink"
#define VL_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define VL_NS_XML "http://www.w3.org/XML/1998/namespace"

/* ======================================================================
 * Dublin Core: the 15 elements of the DCMI element set, each repeatable.
 * ==================================================================== */
typedef struct vl_dc vl_dc;
/* Add to a record (vl_descriptive_deposit_dc) the value of an assignment
 * "title=Letters of Ann", as given to --dc.  (Making and reading records is
 * metadata's own business.) */
int vl_dc_add_assignment(vl_dc *dc, const char *assignment, vl_error *err);
/* Its values in the order given: element name and value of entry i
 * (ingest maps them to bag-info.txt labels). */
size_t vl_dc_count(const vl_dc *dc);
void vl_dc_entry(const vl_dc *dc, size_t i, const char **element,
                 const char **value);

/* ======================================================================
 * Safe XML: user XML is parsed with no network, no external entities, no
 * DTD loading and bounded entity expansion; a billion-laughs file, an
 * external-entity file and malformed XML are refused (VL_EINPUT) with a
 * clear error naming the file and line.
 * ==================================================================== */
/* Returns an xmlDocPtr (as void *) to be freed with vl_xml_free. */
int vl_xml_read_safe(const char *data, size_t len, const char *name,
                     void **doc, vl_error *err);
void vl_xml_free(void *doc);

/* ======================================================================
 * Descriptive metadata given at ingest: --dc, --metadata FILE (DC XML,
 * MODS XML, or metadata.csv), bag-info.txt.  Kept as DC per target plus the
 * original MODS XML when MODS was given.
 * ==================================================================== */
typedef struct vl_descriptive vl_descriptive;

vl_descriptive *vl_descriptive_new(void);
void vl_descriptive_free(vl_descriptive *d);
/* Whole-deposit DC (created on demand; owned by d). */
vl_dc *vl_descriptive_deposit_dc(vl_descriptive *d);
/* Load --metadata FILE: DC XML (oai_dc:dc or a record of dc:* elements),
 * MODS XML (mods:mods), or CSV (a "filename" column plus dc.* columns; a
 * row for "objects/" or "data/" (or "objects", "data") describes the whole
 * deposit, other rows describe files, given relative to the deposit as
 * "objects/x", "data/x" or "x").  VL_EINPUT on anything else. */
int vl_descriptive_load(vl_descriptive *d, const char *path, vl_error *err);
/* Map bag-info.txt labels to DC by the documented table (see metadata/dc.c)
 * and add them to the deposit DC. */
int vl_descriptive_add_bag_info(vl_descriptive *d, const char *label,
                                const char *value, vl_error *err);
/* Logical paths that have per-file metadata, for checking they exist. */
size_t vl_descriptive_file_count(const vl_descriptive *d);
const char *vl_descriptive_file_path(const vl_descriptive *d, size_t i);

/* ======================================================================
 * METS writer (libxml2 xmlTextWriter: streams, never builds a DOM).
 * ==================================================================== */
typedef struct vl_mets_file {
    const char *logical;          /* "data/letters/one.txt" */
    uint64_t size;
    const char *sha512;           /* the inventory digest when sha512 */
    const char *digests[VL_DIGEST_COUNT]; /* every algorithm computed, or NULL */
    const char *mime;             /* or NULL */
    const char *format_name;      /* or NULL */
    const char *format_version;   /* or NULL */
    const char *puid;             /* PRONOM registry key, or NULL */
    const char *encoding;         /* libmagic's encoding ("us-ascii"), or NULL */
    const char *description;      /* libmagic's description, or NULL */
    const char *original_name;    /* name as deposited (archive entry...), or NULL */
    /* PRONOM's basis and warning, the other matching PUIDs, the signature
     * files used ("DROID V122; containers 40"); each NULL when none */
    const char *basis, *warning, *others, *signatures;
    /* The file's modification time as deposited (RFC 3339), written as
     * PREMIS creatingApplication/dateCreatedByApplication; or NULL */
    const char *modified;
} vl_mets_file;

typedef struct vl_mets_agent {
    const char *name;             /* "vellum 0.1.0", "Ann <mailto:...>" */
    const char *type;             /* PREMIS agentType: "software", "person", "organization" */
    const char *role;             /* METS agent ROLE for metsHdr, or NULL */
} vl_mets_agent;

typedef struct vl_mets_source {
    const char *object_id;
    const char *create_date;      /* RFC 3339 */
    const char *vellum_version;   /* "0.1.0" */
    const vl_descriptive *desc;   /* may be NULL */
    /* Files in logical path byte order, data/ only; called repeatedly:
     * rewind() then next() until it returns 0 (1 = a file, <0 = error). */
    void (*rewind)(void *arg);
    int (*next)(void *arg, vl_mets_file *out);
    void *arg;
    /* Events to write in digiprovMD: rewind_events then next_event. */
    void (*rewind_events)(void *arg);
    int (*next_event)(void *arg, vl_event_row *out);
    void *event_arg;
    const vl_mets_agent *agents;
    size_t nagents;
} vl_mets_source;

/* Write METS to path (atomically: temp + fsync + rename).  Files are walked
 * once per section (3 passes, 4 with per-file DC) and must come in byte
 * order of logical path (VL_EINPUT otherwise); IDs are generated
 * ("file-000001", "techMD-000001", "dmd-file-000001", "dmd-dc", "dmd-mods",
 * "digiprov-events", "digiprov-agents", "agent-1"); PREMIS 3 is written in
 * the default namespace of the one amdSec.  An event with files "[]" links
 * the object id, one listing files links each ("local", logical path); an
 * agent named by an event but not in agents is added as software.  See the
 * top of mets.c for the whole layout. */
int vl_mets_write(const vl_mets_source *src, const char *path, vl_error *err);

/* ======================================================================
 * Schema validation, offline, with an XML catalog mapping schema URLs to
 * local files (../shared/schemas/catalog.xml in the tests).
 * ==================================================================== */
/* Validate an XML file against METS (and, through it, the PREMIS, MODS and
 * DC schemas it embeds).  schemas_dir holds mets-bundle.xsd (or mets.xsd
 * alone, which skips embedded records) and catalog.xml; nothing is fetched
 * from the network.  The compiled schema is cached per folder; the document
 * is validated streaming (no DOM; so xsd:ID uniqueness is not checked).
 * Each problem to fn as one line "file:line: message" (file = base name of
 * xml_path; at most 1000 lines, then a count); VL_OK valid, VL_FINDING
 * invalid or not well-formed, VL_EINPUT when the schemas cannot be loaded,
 * VL_ESYS when xml_path cannot be read. */
int vl_schema_validate_mets(const char *schemas_dir, const char *xml_path,
                            vl_message_fn fn, void *arg, vl_error *err);

/* ======================================================================
 * The METS stored with each version (metadata/mets_read.c).
 * ==================================================================== */
/* Copy the stored METS.xml of version num (0 = head) to fd, streaming,
 * digest checked (VL_FINDING after the bytes when it does not match);
 * VL_EINPUT when the version has none. */
int vl_mets_stored_to_fd(vl_repo *r, const char *id, int num, int fd,
                         vl_error *err);
/* Put back the format identification results the catalog lacks, for every
 * object in it, from the METS stored in their versions (after
 * vl_repo_reindex; newest version first, so the newest wins for a digest;
 * results the catalog has are left as they are).  *files (may be NULL) is
 * increased by the number restored. */
int vl_metadata_reindex_formats(vl_repo *r, size_t *files, vl_error *err);

/* ======================================================================
 * Whole-repository maintenance (metadata/maintain.c): what 'vellum
 * recover' and 'vellum reindex' do, for any caller.
 * ==================================================================== */
/* vl_repo_recover, then the format results of the objects it settled put
 * back from their stored METS (vl_metadata_reindex_formats).  counts as
 * vl_repo_recover's; counts->unhealed > 0 is not an error. */
int vl_metadata_recover(vl_repo *r, vl_recover_counts *counts, vl_error *err);
/* vl_repo_reindex (the catalog rebuilt from the storage root alone), then
 * every object's format results from its stored METS.  *objects and
 * *formats (either may be NULL) count what was indexed and restored. */
int vl_metadata_reindex(vl_repo *r, size_t *objects, size_t *formats,
                        vl_error *err);

/* ======================================================================
 * Exports (metadata/export.c)
 * ==================================================================== */
/* Checks a bag folder written by an export (vellum's BagIt validator lives
 * in ingest/, above this module: vl_bag_check_dir in vl_ingest.h).  VL_OK
 * when valid. */
typedef int (*vl_export_check_fn)(void *arg, const char *bag_dir,
                                  vl_error *err);

typedef struct vl_export_options {
    int version;                /* 0 = head */
    const char *format;         /* "mets", "bagit" or "ocfl" */
    const char *archive;        /* NULL: from dest's extension (.zip, .tar,
                                   .tar.gz/.tgz, .tar.xz/.txz, .tar.bz2/.tbz2)
                                   or a folder; else "zip", "tar", "tar.gz"
                                   ("tgz"), "tar.xz" or "tar.bz2", which must
                                   agree with dest's extension if it has one */
    vl_export_check_fn check_bag;   /* required for "bagit" */
    void *check_arg;
} vl_export_options;

typedef struct vl_export_result {
    int version;                /* the version exported */
    const char *archive;        /* the archive kind written, NULL: a folder */
    size_t files;               /* payload files (ocfl: files copied) */
    uint64_t bytes;
    /* The exported version counted as every command counts an object
     * (vl_catalog_object): deposited files (data/), and vellum's metadata
     * files (METS.xml) apart. */
    uint64_t object_files, object_bytes, metadata_files;
    char event_id[64];          /* the dissemination event recorded */
} vl_export_result;

/* Export version o->version of an object to dest, which must not exist
 * (VL_EINPUT; nothing is written).  mets: METS.xml regenerated now plus
 * data/; bagit: a BagIt 1.0 bag (sha512 and sha256 payload and tag
 * manifests, bag-info.txt from the deposit DC, METS.xml as a tag file),
 * checked by o->check_bag; ocfl: the object folder byte for byte (for an
 * older version, v1..vN with vN's inventory at the root), validated with
 * every digest.  With o->archive, dest is that archive (one top folder
 * named after dest).  Built beside dest, renamed into place at the end;
 * a failure leaves nothing at dest or beside it.  Records one PREMIS
 * "dissemination" event (also, outcome "fail", when a check of the stored
 * content fails: VL_FINDING). */
int vl_export(vl_repo *r, const char *id, const char *dest,
              const vl_export_options *o, vl_export_result *res,
              vl_error *err);

#endif
