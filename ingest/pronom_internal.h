/* Private to the PRONOM engine (ingest/pronom*.c): the pieces pronom.h
 * names, seen from inside.  Not for the rest of ingest/: use pronom.h. */
#ifndef VL_PRONOM_INTERNAL_H
#define VL_PRONOM_INTERNAL_H

#ifndef VL_INGEST_INTERNAL
#error "pronom_internal.h is private to ingest/"
#endif

#include <stddef.h>
#include <stdint.h>

#include "pronom.h"

/* ---- compiled sequences (pronom_seq.c) --------------------------------- */
enum { VL_PRONOM_EL_SET = 1, VL_PRONOM_EL_GAP, VL_PRONOM_EL_ALT };

typedef struct vl_pronom_el {
    int kind;
    uint8_t set[32];             /* SET: bit b set when byte b matches */
    uint32_t min, max;           /* GAP: bytes skipped; max UINT32_MAX = any */
    vl_pronom_seq **alt;         /* ALT: alternatives (each its own seq) */
    size_t nalt;
} vl_pronom_el;

#define VL_PRONOM_UNBOUNDED SIZE_MAX

struct vl_pronom_seq {
    vl_pronom_el *e;
    size_t n;
    size_t minlen, maxlen;       /* maxlen VL_PRONOM_UNBOUNDED with '*' */
    int fixed;                   /* only single-byte sets: one length */
    uint8_t *lit;                /* leading bytes that are one value each */
    size_t litlen;
};

/* Every end position of s matched from pos in direction dir (+1: s's bytes
 * at pos, pos+1...; -1: s's last byte at pos-1, going down), distinct, at
 * most cap of them (the first found).  Returns how many; 0 = no match. */
size_t vl_pronom_seq_ends(const vl_pronom_seq *s, const uint8_t *buf,
                          size_t len, size_t pos, int dir, size_t *ends,
                          size_t cap);
/* The first start in [from, last_start] where s matches (forwards);
 * 1 with *start and *end, else 0.  Uses the leading literal with memmem. */
int vl_pronom_seq_find(const vl_pronom_seq *s, const uint8_t *buf,
                       size_t len, size_t from, size_t last_start,
                       size_t *start, size_t *end);

/* ---- signatures (pronom_sig.c) ----------------------------------------- */
/* The id of an InternalSignature, the bytes it needs from each end (for
 * window sizes: SIZE_MAX when unbounded), and its BOF-anchored leading
 * bytes at offset 0 when it has some (for the first-bytes index). */
int vl_pronom_sig_id(const vl_pronom_sig *s);
void vl_pronom_sig_needs(const vl_pronom_sig *s, size_t *bof, size_t *eof);
size_t vl_pronom_sig_bof_prefix(const vl_pronom_sig *s, uint8_t *out,
                                size_t cap);
/* For the prefilter: what every match of s contains.  A requirement is
 * one of a few strings (the leading fixed bytes of a Sequence, or of each
 * alternative of a fragment), each with its place: from 0 = in the first
 * reach bytes, 1 = in the last reach bytes, 2 = anywhere in either window
 * (reach SIZE_MAX).  Up to cap requirements into out, the most selective
 * first (tmp is scratch); with skip_prefix, none from the Sequence that
 * vl_pronom_sig_bof_prefix names (the first-bytes index checked it). */
#define VL_PRONOM_REQ_ALTS 64
typedef struct vl_pronom_req_lit {
    const uint8_t *lit;
    size_t litlen;
    int from;
    size_t reach;
} vl_pronom_req_lit;
typedef struct vl_pronom_req {
    vl_pronom_req_lit alt[VL_PRONOM_REQ_ALTS];
    size_t nalt;
} vl_pronom_req;
size_t vl_pronom_sig_requirements(const vl_pronom_sig *s, int skip_prefix,
                                  vl_pronom_req *out, size_t cap,
                                  vl_pronom_req *tmp);

/* Serialisation for the cache (pronom_cache.c): a flat byte form. */
int vl_pronom_sig_save(const vl_pronom_sig *s, vl_buf *out, vl_error *err);
/* A bump allocator (pronom_cache.c): what a cache load builds lives in a
 * few large blocks, freed together with the signature file, instead of in
 * tens of thousands of small allocations.  alloc returns zeroed memory
 * aligned for any object, or NULL past the arena's bound. */
typedef struct vl_pronom_arena vl_pronom_arena;
void *vl_pronom_arena_alloc(vl_pronom_arena *a, size_t n);
void vl_pronom_arena_free(vl_pronom_arena *a);
/* Reads one signature at *pos in data[0..len), every piece from arena;
 * 0 ok, -1 corrupt or arena exhausted (nothing to free: the arena goes). */
int vl_pronom_sig_load(const uint8_t *data, size_t len, size_t *pos,
                       vl_pronom_arena *arena, vl_pronom_sig **out);
int vl_pronom_seq_save(const vl_pronom_seq *s, vl_buf *out, vl_error *err);
int vl_pronom_seq_load(const uint8_t *data, size_t len, size_t *pos,
                       int depth, vl_pronom_arena *arena,
                       vl_pronom_seq **out);

/* ---- the signature file (pronom_sigfile.c) ----------------------------- */
typedef struct vl_pronom_format {
    int id;
    char *puid, *name, *version, *mime;
    char **ext;          /* lower case, no dot */
    size_t next;
    int *sig;            /* InternalSignatureIDs */
    size_t nsig;
    int *prio;           /* HasPriorityOverFileFormatIDs */
    size_t nprio;
} vl_pronom_format;

typedef struct vl_pronom_sigfile {
    char *version;               /* "V122" */
    vl_pronom_sig **sigs;        /* InternalSignatures, file order */
    size_t nsig;
    vl_pronom_format *fmts;      /* FileFormats, file order */
    size_t nfmt;
    vl_pronom_arena *arena;      /* set: everything above lives in it */
} vl_pronom_sigfile;

int vl_pronom_sigfile_load(const char *path, vl_pronom_sigfile **out,
                           vl_error *err);
/* The same from memory; name is used in messages. */
int vl_pronom_sigfile_load_memory(const char *name, const char *data,
                                  size_t len, vl_pronom_sigfile **out,
                                  vl_error *err);
void vl_pronom_sigfile_free(vl_pronom_sigfile *f);

/* ---- many signatures at once (pronom_match.c) -------------------------- */
typedef struct vl_pronom_matcher vl_pronom_matcher;
/* Takes nothing from f: it must outlive the matcher. */
int vl_pronom_matcher_new(const vl_pronom_sigfile *f, vl_pronom_matcher **out,
                          vl_error *err);
void vl_pronom_matcher_free(vl_pronom_matcher *m);
size_t vl_pronom_matcher_bof_bytes(const vl_pronom_matcher *m);
size_t vl_pronom_matcher_eof_bytes(const vl_pronom_matcher *m);
/* Indexes (into f->fmts) of the formats whose signatures match, after
 * DROID's priorities; basis[i] says which signature and where. */
int vl_pronom_matcher_run(const vl_pronom_matcher *m, const uint8_t *bof,
                          size_t boflen, const uint8_t *eof, size_t eoflen,
                          uint64_t size, size_t *fmt, char (*basis)[256],
                          size_t cap, size_t *n);
/* Among formats fmt[0..n), drop those another one has priority over
 * (transitively); n updated. */
void vl_pronom_matcher_prioritise(const vl_pronom_matcher *m, size_t *fmt,
                                  char (*basis)[256], size_t *n);
/* Formats listing extension ext (lower case); index list into out. */
size_t vl_pronom_matcher_by_ext(const vl_pronom_matcher *m, const char *ext,
                                size_t *out, size_t cap);
/* Index of the format with this PUID, or SIZE_MAX. */
size_t vl_pronom_matcher_by_puid(const vl_pronom_matcher *m,
                                 const char *puid);

/* Aho-Corasick over many byte strings (pronom_match.c): the matcher's
 * prefilter, here so that tests can drive it directly.  Built once,
 * read-only afterwards (shared by threads); a scan keeps its state on the
 * caller's stack.  Empty patterns never match. */
typedef struct vl_pronom_ac vl_pronom_ac;
int vl_pronom_ac_new(const uint8_t *const *pat, const size_t *len, size_t n,
                     vl_pronom_ac **out, vl_error *err);
void vl_pronom_ac_free(vl_pronom_ac *a);
/* Every occurrence of every pattern lying wholly in buf[from, to): hit
 * gets the pattern's index and the occurrence's end (exclusive, a buf
 * offset), in order of end; a nonzero return from hit stops the scan. */
void vl_pronom_ac_scan(const vl_pronom_ac *a, const uint8_t *buf, size_t from,
                       size_t to, int (*hit)(void *ctx, size_t pat,
                                             size_t end),
                       void *ctx);

/* ---- the compiled form on disk (pronom_cache.c) ------------------------ */
/* Key: SHA-256 over both files' bytes (hex into key, 65 bytes). */
int vl_pronom_cache_key(const char *sigpath, const char *contpath,
                        char key[65], vl_error *err);
/* The same key, remembered in dir (pronom-keys) against the files'
 * (device, inode, size, mtime, ctime): hashed again only when one of
 * those changed. */
int vl_pronom_cache_key_remembered(const char *dir, const char *sigpath,
                                   const char *contpath, char key[65],
                                   vl_error *err);
/* VL_OK and *out when a valid cache file for key is there; VL_EINPUT
 * (err says why) when absent or unusable: the caller recompiles. */
int vl_pronom_cache_read(const char *dir, const char *key,
                         vl_pronom_sigfile **out, vl_error *err);
/* Writes *f (compiled from the XML) to dir's cache and replaces it with
 * the form a cache read would give (one arena, loaded back from the bytes
 * written), so that the compiled form and its copy are never both held.
 * Whatever the result, *f is then that form, or untouched (the payload
 * could not be built), or NULL (it did not read back: compile again). */
int vl_pronom_cache_write(const char *dir, const char *key,
                          vl_pronom_sigfile **f, vl_error *err);

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
