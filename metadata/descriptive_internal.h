/* Private to metadata/: Dublin Core records, the crosswalks, the CSV
 * reader and the in-memory entry points of descriptive metadata, for the
 * descriptive-metadata files (dc.c, csv.c, xml_safe.c, descriptive.c,
 * crosswalk.c), the METS writer and reader (mets.c, mets_read.c), exports
 * and their tests and fuzz targets. */
#ifndef VL_DESCRIPTIVE_INTERNAL_H
#define VL_DESCRIPTIVE_INTERNAL_H

#ifndef VL_METADATA_INTERNAL
#error "descriptive_internal.h is private to metadata/"
#endif

#include "vl_metadata.h"

/* Bounds for untrusted metadata files. */
#define VL_META_FILE_MAX ((size_t)64 << 20)   /* a --metadata file */
#define VL_CSV_FIELD_MAX ((size_t)1 << 20)    /* one CSV field */
#define VL_CSV_FIELDS_MAX 4096                /* fields in one CSV record */
#define VL_DC_VALUE_MAX ((size_t)1 << 20)     /* one DC value */

/* ---- Dublin Core (dc.c) -------------------------------------------------- */
vl_dc *vl_dc_new(void);
void vl_dc_free(vl_dc *dc);
/* The 15 element names, NULL-terminated: title, creator, subject,
 * description, publisher, contributor, date, type, format, identifier,
 * source, language, relation, coverage, rights. */
const char *const *vl_dc_elements(void);
/* Add a value; VL_EINPUT when element is not one of the 15. */
int vl_dc_add(vl_dc *dc, const char *element, const char *value, vl_error *err);
int vl_dc_is_empty(const vl_dc *dc);

/* ---- descriptive metadata, read side (descriptive.c) -------------------- */
/* Per-file DC for a logical path ("data/x"), or NULL. */
const vl_dc *vl_descriptive_file_dc(const vl_descriptive *d,
                                    const char *logical);
/* The MODS record given by the user (serialized XML of the mods:mods
 * element) or NULL when only DC was given. */
const char *vl_descriptive_mods_xml(const vl_descriptive *d);

/* ---- crosswalks, Library of Congress mappings (crosswalk.c) ------------- */
/* DC -> MODS (LoC "Dublin Core to MODS" mapping): a serialized mods:mods
 * element (malloc'd), valid against MODS 3.8. */
char *vl_dc_to_mods(const vl_dc *dc);
/* MODS -> DC (LoC "MODS to Dublin Core" mapping) from MODS XML. */
int vl_mods_to_dc(const char *mods_xml, size_t len, vl_dc *out, vl_error *err);

/* ---- CSV (csv.c) ---------------------------------------------------------
 * One call per record.  row counts records from 1 (the header is row 1);
 * line is the physical line the record starts on.  fields[i] are
 * NUL-terminated UTF-8; returning non-zero stops with that status. */
typedef int (*vl_csv_row_fn)(void *arg, size_t row, size_t line,
                             char **fields, size_t nfields, vl_error *err);
/* RFC 4180 with the usual leniencies (LF or CR alone end a line, a quote
 * inside an unquoted field is kept).  name is used in messages. */
int vl_csv_parse(const char *data, size_t len, const char *name,
                 vl_csv_row_fn fn, void *arg, vl_error *err);

/* ---- xml_safe.c --------------------------------------------------------- */
/* A node (xmlNodePtr of doc, an xmlDocPtr) serialised, formatted (indented)
 * when format; malloc'd, NULL when out of memory. */
char *vl_xml_node_text(void *doc, void *node, int format);

/* ---- descriptive.c ------------------------------------------------------ */
/* vl_descriptive_load on bytes already read; name is used in messages. */
int vl_descriptive_load_memory(vl_descriptive *d, const char *name,
                               const char *data, size_t len, vl_error *err);

/* Setters used when reading a stored METS back (mets_read.c): replace the
 * MODS record; add a copy of a file's DC under a logical path ("data/x"),
 * merged with any record the path already has. */
int vl_descriptive_set_mods_xml(vl_descriptive *d, const char *xml,
                                vl_error *err);
int vl_descriptive_add_file_dc(vl_descriptive *d, const char *logical,
                               const vl_dc *dc, vl_error *err);

/* ---- crosswalk.c -------------------------------------------------------- */
/* MODS -> DC from a parsed mods:mods element (an xmlNodePtr). */
int vl_mods_node_to_dc(const void *mods_node, vl_dc *out, const char *name,
                       vl_error *err);

/* ---- dc.c --------------------------------------------------------------- */
/* Index of an element name (case-insensitive) in vl_dc_elements(), or -1. */
int vl_dc_element_index(const char *element);
/* Append all of src's values to dst. */
int vl_dc_merge(vl_dc *dst, const vl_dc *src, vl_error *err);

#endif
