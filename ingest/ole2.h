/* A small reader of OLE2 compound files (MS-CFB, "Compound File Binary"),
 * private to ingest/: enough to list the storages and streams of a Word 97
 * document or an Excel workbook and to read the first (or last) bytes of
 * a stream, for the container signatures of pronom_container.c.
 *
 * The file is untrusted: every sector index is checked against the file,
 * every chain is bounded by the file's sector count (so a loop is found,
 * not followed), the directory tree is walked without recursion, each
 * entry at most once.  A corrupt file is VL_EINPUT naming the file and the
 * problem.  Bytes are read with pread as they are needed; the FAT, the
 * mini FAT and the directory are held in memory (together never larger
 * than the file). */
#ifndef VL_OLE2_H
#define VL_OLE2_H

#ifndef VL_INGEST_INTERNAL
#error "ole2.h is private to ingest/"
#endif

#include <stddef.h>
#include <stdint.h>

#include "vl_common.h"

typedef struct vl_ole2 vl_ole2;

/* Open path and read its header, FAT, mini FAT and directory.  shown (may
 * be NULL: path) names the file in messages. */
int vl_ole2_open(const char *path, const char *shown, vl_ole2 **out,
                 vl_error *err);
void vl_ole2_close(vl_ole2 *h);

/* The storages and streams under the root, the root itself not counted,
 * each storage before what it holds. */
size_t vl_ole2_count(const vl_ole2 *h);
/* Entry i: its path from the root ("CompObj", "ObjectPool/_1234/Ole"),
 * names as written (UTF-8, control characters such as the 0x05 that starts
 * "\x05SummaryInformation" kept), whether it is a stream, and its size in
 * bytes (0 for a storage).  Pointers stay valid until vl_ole2_close. */
void vl_ole2_entry(const vl_ole2 *h, size_t i, const char **name,
                   int *is_stream, uint64_t *size);

/* Read at most cap bytes of stream i from its offset off into buf; *len is
 * how many were read (less than cap only at the end of the stream).  A
 * storage reads as empty. */
int vl_ole2_read_at(vl_ole2 *h, size_t i, uint64_t off, void *buf,
                    size_t cap, size_t *len, vl_error *err);
/* The same from the start of the stream. */
int vl_ole2_read(vl_ole2 *h, size_t i, void *buf, size_t cap, size_t *len,
                 vl_error *err);

#endif
