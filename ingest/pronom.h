/* PRONOM format identification (private to ingest/): the DROID signature
 * file (byte signatures) and the container signature file (ZIP and OLE2
 * contents), compiled once and then matched against the first and last
 * bytes of a file, as DROID and Siegfried do.
 *
 * Pieces, one file each:
 *   pronom_seq.c        PRONOM's byte-pattern syntax, compiled and matched
 *   pronom_sig.c        one InternalSignature (its ByteSequences) from XML
 *   pronom_sigfile.c    the DROID signature file: signatures and formats
 *   pronom_match.c      many signatures at once, priorities, extensions
 *   pronom_container.c  the container signature file and its matching
 *   ole2.c              a small OLE2 compound-file reader
 *   pronom_cache.c      the compiled form on disk, keyed by file digests
 *   pronom.c            the engine the rest of ingest/ calls (below)
 * Memory: a loaded engine is immutable and shared by every worker thread;
 * each call keeps its scratch state on its own. */
#ifndef VL_PRONOM_H
#define VL_PRONOM_H

#ifndef VL_INGEST_INTERNAL
#error "pronom.h is private to ingest/"
#endif

#include <stddef.h>
#include <stdint.h>

#include "vl_common.h"

/* ======================================================================
 * Byte sequences.  Both syntaxes are read:
 *  - the DROID signature file's compiled form: hex pairs, "??", ranges
 *    "[00:1F]", negation "[!00]" and "[!00:1F]", alternatives "(AB|CDEF)";
 *  - PRONOM's raw form (container files, the PRONOM site): the above plus
 *    spaces, quoted text 'abc', text ranges ['6'-'7'], gaps "{n}", "{n-m}",
 *    "{n-*}" and "*".
 * ==================================================================== */
typedef struct vl_pronom_seq vl_pronom_seq;
int vl_pronom_seq_compile(const char *text, vl_pronom_seq **out, vl_error *err);
void vl_pronom_seq_free(vl_pronom_seq *s);

/* ======================================================================
 * One InternalSignature: its ByteSequences, each anchored at BOF, EOF or
 * anywhere (Reference "BOFoffset", "EOFoffset", absent = variable), with
 * SubSequences in Position order, their SubSeqMinOffset/SubSeqMaxOffset,
 * and Left/RightFragments with MinOffset/MaxOffset.  The node is a libxml2
 * xmlNode* of an <InternalSignature> element (void* so this header does not
 * pull in libxml2).
 * ==================================================================== */
typedef struct vl_pronom_sig vl_pronom_sig;
int vl_pronom_sig_from_xml(const void *internal_signature_node,
                           vl_pronom_sig **out, vl_error *err);
void vl_pronom_sig_free(vl_pronom_sig *s);
/* 1 when every ByteSequence of s matches; bof holds the first boflen bytes
 * of a file of size bytes, eof its last eoflen bytes (they may overlap, or
 * be the same bytes when the file is small).  basis, if not NULL, receives
 * which sequences matched at which offsets ("BOF 0-3; EOF 0-0"). */
int vl_pronom_sig_match(const vl_pronom_sig *s, const uint8_t *bof,
                        size_t boflen, const uint8_t *eof, size_t eoflen,
                        uint64_t size, char *basis, size_t basis_cap);

/* ======================================================================
 * The engine.
 * ==================================================================== */
typedef struct vl_pronom vl_pronom;

typedef struct vl_pronom_options {
    const char *signatures;  /* DROID_SignatureFile_V*.xml */
    const char *containers;  /* container-signature-*.xml, or NULL for none */
    const char *cache_dir;   /* where compiled forms are kept, or NULL */
} vl_pronom_options;

int vl_pronom_open(const vl_pronom_options *o, vl_pronom **out,
                   vl_error *err);
void vl_pronom_close(vl_pronom *p);
/* "V122" and "40" (the container file's signatureVersion), or "" */
const char *vl_pronom_signature_version(const vl_pronom *p);
const char *vl_pronom_container_version(const vl_pronom *p);
/* How many bytes from the start and from the end of a file the byte
 * signatures look at (bounded, so a big file is never read whole). */
size_t vl_pronom_bof_bytes(const vl_pronom *p);
size_t vl_pronom_eof_bytes(const vl_pronom *p);

enum {
    VL_PRONOM_BASIS_SIGNATURE = 1,   /* byte signature */
    VL_PRONOM_BASIS_CONTAINER,       /* container signature */
    VL_PRONOM_BASIS_EXTENSION        /* extension only, no signature */
};

#define VL_PRONOM_MAX_MATCHES 8

typedef struct vl_pronom_match {
    char puid[32];          /* "fmt/276" */
    char name[160];         /* "Acrobat PDF 1.7 - Portable Document Format" */
    char version[64];       /* "1.7" or "" */
    char mime[128];         /* PRONOM's MIME type (first one), or "" */
    int basis_kind;         /* VL_PRONOM_BASIS_* */
    char basis[256];        /* "byte match BOF 0-7 (signature 9)",
                               "container entry [Content_Types].xml",
                               "extension match pdf" */
} vl_pronom_match;

typedef struct vl_pronom_result {
    size_t n;                               /* 0: unidentified */
    vl_pronom_match m[VL_PRONOM_MAX_MATCHES];
    char warning[256];   /* "extension mismatch", "3 matches", ... or "" */
} vl_pronom_result;

/* Identify one file from its first and last bytes (see
 * vl_pronom_sig_match); name (may be NULL) gives the extension; path (may
 * be NULL) is where the whole file can be read when a container signature
 * must look inside it (only when a trigger format matched).  Only
 * unreadable or corrupt containers are not errors: they are left as the
 * trigger format, with a warning. */
int vl_pronom_identify(const vl_pronom *p, const uint8_t *bof, size_t boflen,
                       const uint8_t *eof, size_t eoflen, uint64_t size,
                       const char *name, const char *path,
                       vl_pronom_result *res, vl_error *err);

#endif
