/* vellum common primitives: errors, buffers, paths and files, UTF-8, time,
 * the digest engine and the worker pool.  Every other module may use these;
 * this module uses nothing above it. */
#ifndef VL_COMMON_H
#define VL_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define VL_VERSION "0.1.0"

/* ---- status codes -------------------------------------------------------
 * A status doubles as the CLI exit code, so the library and the program agree
 * on what each failure means. */
enum {
    VL_OK = 0,
    VL_FINDING = 1,   /* the command worked and found a problem (invalid, fixity) */
    VL_EINPUT = 2,    /* usage error or rejected input; nothing was changed */
    VL_ESYS = 3,      /* system error (I/O, memory, database) */
};

/* Why, when a caller must act on the kind of failure rather than show it:
 * decisions never read msg (its wording is for people). */
enum {
    VL_REASON_NONE = 0,
    VL_REASON_LOCKED = 1, /* another process holds the lock (status VL_ESYS) */
};

typedef struct vl_error {
    int status;          /* one of the codes above */
    int sys_errno;       /* errno when status is VL_ESYS, else 0 */
    char msg[1024];      /* one line naming the file or object */
    int reason;          /* VL_REASON_*; reset by vl_error_set/_sys/_clear
                            (last, so positional initialisers still fit) */
} vl_error;

/* Fill err (may be NULL) and return status.  Formats like printf. */
int vl_error_set(vl_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* VL_ESYS with ": strerror(errno)" appended; returns VL_ESYS. */
int vl_error_sys(vl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vl_error_clear(vl_error *err);
/* The one out-of-memory error: VL_ESYS, "out of memory", sys_errno ENOMEM
 * (so callers that act on the kind of failure see it); returns VL_ESYS. */
int vl_error_oom(vl_error *err);

/* ---- growable buffer with a size cap (for untrusted input) ------------- */
typedef struct vl_buf {
    char *data;       /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max;       /* 0 = unlimited */
} vl_buf;

void vl_buf_init(vl_buf *b, size_t max);
int vl_buf_append(vl_buf *b, const void *data, size_t len, vl_error *err);
int vl_buf_printf(vl_buf *b, vl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vl_buf_reset(vl_buf *b);     /* len = 0, keeps memory */
void vl_buf_release(vl_buf *b);   /* frees memory */
char *vl_buf_detach(vl_buf *b);   /* caller owns data (never NULL) */

/* ---- memory ------------------------------------------------------------ */
/* Abort-free helpers: return NULL on failure like malloc. */
char *vl_strdup(const char *s);
char *vl_strndup(const char *s, size_t n);
char *vl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Make room for need elements of elem_size bytes in the array *ptr of
 * capacity *cap (in elements): the capacity doubles (from 8) until need
 * fits, so appending one at a time costs few reallocations.  On failure,
 * including a byte count that would overflow size_t, the array and *cap are
 * left as they were and vl_error_oom's error is returned. */
int vl_grow(void **ptr, size_t *cap, size_t need, size_t elem_size,
            vl_error *err);
/* vl_grow for an array variable of any element type: VL_GROW(l->v, l->cap,
 * l->n + 1, err). */
#define VL_GROW(arr, cap, need, err)                                        \
    vl_grow((void **)&(arr), &(cap), (need), sizeof *(arr), (err))
/* Allocations that failed in this thread so far: those of the helpers here
 * (strings, buffers, paths, escapes) and of jansson and libxml2.  An
 * operation that must not carry on quietly past a failure (a validation,
 * reading a METS back) compares the count before and after. */
unsigned long vl_alloc_failures(void);
void vl_alloc_failed(void);                 /* count one */

/* ---- paths and files ---------------------------------------------------- */
char *vl_path_join(const char *a, const char *b);      /* malloc'd "a/b" */
const char *vl_path_basename(const char *p);           /* pointer into p */
char *vl_path_dirname(const char *p);                  /* malloc'd */
/* Absolute form of p, its folder resolved (realpath) when it exists, for
 * paths recorded to be used later from anywhere; malloc'd. */
char *vl_path_absolute(const char *p);

int vl_fs_mkdirs(const char *path, vl_error *err);     /* mkdir -p, 0777 & ~umask */
int vl_fs_mkdirs_parent(const char *file_path, vl_error *err);
int vl_fs_rmtree(const char *path, vl_error *err);     /* rm -rf; ok if absent */
int vl_fs_fsync_path(const char *path, vl_error *err); /* file or directory */
int vl_fs_fsync_parent(const char *path, vl_error *err);
/* write() until all of data is out (short writes, EINTR); -1 with errno. */
int vl_fs_write_all(int fd, const void *data, size_t len);
/* Write data to path.tmp-<pid>, fsync, rename over path, fsync the folder.
 * New files and folders are made 0666/0777 and left to the umask. */
int vl_fs_write_atomic(const char *path, const void *data, size_t len,
                       vl_error *err);
/* The same, the file read-only (write bits dropped before the fsync) by the
 * time it has its name: for committed files. */
int vl_fs_write_atomic_readonly(const char *path, const void *data,
                                size_t len, vl_error *err);
/* Read a whole small file; fails with VL_EINPUT when larger than max. */
int vl_fs_read_file(const char *path, size_t max, vl_buf *out, vl_error *err);
int vl_fs_exists(const char *path);                    /* 1 if lstat succeeds */
/* rename from to to, never replacing: VL_EINPUT "TO already exists" when
 * to exists (also where RENAME_NOREPLACE is not supported). */
int vl_fs_rename_new(const char *from, const char *to, vl_error *err);
int vl_fs_is_dir(const char *path);                    /* 1 if a directory (no symlink follow) */
/* 1 if path is a directory with no entries, 0 if it has entries, -1 if absent
 * or not a directory. */
int vl_fs_dir_empty(const char *path);
/* Copy a file (read/write loop), fsyncing the destination. */
int vl_fs_copy_file(const char *src, const char *dst, vl_error *err);
int vl_fs_copy_file_readonly(const char *src, const char *dst, vl_error *err);
/* Drop the write bits of every regular file under root (folders keep
 * theirs, so the tree can still be renamed and removed). */
int vl_fs_make_files_readonly(const char *root, vl_error *err);
/* Flush the whole filesystem holding path (syncfs) - one call instead of an
 * fsync per file when committing many files. */
int vl_fs_syncfs(const char *path, vl_error *err);
/* Bytes free to an unprivileged user on the filesystem holding path. */
int vl_fs_free_bytes(const char *path, uint64_t *out, vl_error *err);

/* Kinds of folder entries, and the callback of vl_tree_walk (vl_storage.h:
 * a walk sorts names in bounded memory, which needs the storage layer's
 * scratch databases). */
enum { VL_WALK_FILE = 1, VL_WALK_DIR, VL_WALK_SYMLINK, VL_WALK_OTHER };
typedef int (*vl_walk_fn)(void *arg, const char *rel, int kind,
                          const struct stat *st, vl_error *err);

/* ---- sizes ---------------------------------------------------------------
 * Bytes, or with K, M, G, T (powers of 1024; "KiB", "MB" accepted too). */
int vl_size_parse(const char *s, uint64_t *out);       /* 0 ok, -1 not a size */
void vl_size_format(uint64_t bytes, char out[32]);     /* "4.0 MiB", "512 B" */

/* ---- UTF-8 and names ---------------------------------------------------- */
int vl_utf8_valid(const char *s, size_t len);          /* 1 if valid UTF-8 */
/* Length of the printable UTF-8 sequence at s (at most n bytes), or 0 when
 * the bytes there are not UTF-8 or are what a terminal acts on or what
 * disguises text: C0 and C1 controls, DEL, the bidirectional embeddings,
 * overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the line and
 * paragraph separators (U+2028, U+2029). */
size_t vl_utf8_printable(const char *s, size_t n);
/* 1 when all of s is printable UTF-8 (vl_name_escape would not change it). */
int vl_text_printable(const char *s);
/* Write value (NULL: empty) as one CSV field, then "," or, when last, CRLF:
 * quoted as RFC 4180 asks, control characters hex-escaped, and a value
 * that starts like a spreadsheet formula led by '. */
void vl_csv_field(FILE *f, const char *value, int last);
/* Printable copy for messages and text output: every byte of invalid UTF-8
 * and of the characters above becomes \xNN ('\\' is kept, so escaping twice
 * changes nothing).  malloc'd. */
char *vl_name_escape(const char *s);
/* Printable copy like vl_name_escape; when that is longer than max bytes,
 * its head and tail joined by "...", cut between characters (never inside a
 * UTF-8 sequence or a \xNN escape), so a message naming a very long or deep
 * path stays one readable line.  malloc'd. */
char *vl_name_shorten(const char *s, size_t max);
/* Paths in messages are shortened to this many bytes: two fit in a message. */
#define VL_NAME_SHOWN_MAX 300
/* An object id: non-empty, UTF-8, and printable as above (no control
 * characters).  VL_OK, or VL_EINPUT naming the (escaped) id. */
int vl_object_id_check(const char *id, vl_error *err);
/* Check a relative path for use as an OCFL logical path: non-empty, no
 * leading or trailing '/', no empty, "." or ".." segment, valid UTF-8, no
 * control characters (U+0000-U+001F, U+007F), each segment at most 255 bytes.
 * Returns VL_OK or VL_EINPUT with a message naming the (escaped) path. */
int vl_logical_path_check(const char *path, vl_error *err);

/* vellum's limits on a logical path (as stored: "data/letters/a.pdf"), the
 * same at ingest and for every command after it.
 * Depth counts the names in the path, "data" and the file name included.
 * The METS structMap nests one div per folder inside four more levels, so
 * 250 keeps every METS.xml vellum writes within the 256 levels that libxml2
 * (and xmllint, lxml...) read by default.
 * Bytes: Linux refuses a whole path of 4096 bytes or more (PATH_MAX), and a
 * stored file sits below the repository, its staging folder (about 140
 * bytes) or an export's temporary name: 2048 leaves the other half for
 * those. */
#define VL_PATH_MAX_DEPTH 250
#define VL_PATH_MAX_BYTES 2048
/* VL_OK when path is within both limits, else VL_EINPUT with the reason
 * only (the caller names the path): "path too deep: 251 levels in the
 * object (the limit is 250)" or "path too long: 2049 bytes in the object
 * (the limit is 2048)". */
int vl_logical_path_limits(const char *path, vl_error *err);

/* ---- time ----------------------------------------------------------------
 * In a test build (compiled with -DVELLUM_TEST_HOOKS, as `make build` and
 * `make check` do) vl_time_now honours VELLUM_NOW (RFC 3339 or seconds since
 * the epoch) so that tests can set the clock; otherwise it ignores it. */
int64_t vl_time_now(void);
void vl_time_rfc3339(int64_t t, char out[32]);         /* "2026-11-27T04:45:45Z" */
/* Nanoseconds since the epoch: "2026-11-27T04:45:45.25Z" (no fraction
 * when whole seconds). */
void vl_time_rfc3339_ns(int64_t ns, char out[40]);
/* Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)". */
int vl_time_parse(const char *s, int64_t *out);
/* As vl_time_parse, in nanoseconds, the fraction of a second kept. */
int vl_time_parse_ns(const char *s, int64_t *out);
/* Seconds on the monotonic clock (CLOCK_MONOTONIC), for measuring how long
 * something took: never goes back, unlike the wall clock, and is not
 * touched by VELLUM_NOW. */
double vl_time_mono(void);

/* ---- identifiers -------------------------------------------------------- */
void vl_uuid4(char out[37]);                            /* random, lower-case */

/* ---- digest engine -------------------------------------------------------
 * One read of a stream feeds every requested algorithm.  Algorithm names are
 * the OCFL ones; hex output is lower case. */
typedef enum {
    VL_MD5 = 0,
    VL_SHA1,
    VL_SHA256,
    VL_SHA512,
    VL_BLAKE2B512,
    VL_DIGEST_COUNT
} vl_digest_alg;

#define VL_DIGEST_BIT(a) (1u << (a))
#define VL_DIGEST_HEX_MAX 129   /* 128 hex chars + NUL */
#define VL_IO_BUFSIZE (1u << 20)

const char *vl_digest_name(vl_digest_alg alg);          /* "sha512", "blake2b-512" */
int vl_digest_from_name(const char *name, vl_digest_alg *out); /* 0 ok, -1 unknown */
size_t vl_digest_hex_len(vl_digest_alg alg);            /* 32, 40, 64, 128, 128 */
/* Parse "md5,sha1" into a bit mask; "" or "none" gives 0. */
int vl_digest_mask_parse(const char *list, unsigned *mask, vl_error *err);

typedef struct vl_digest_result {
    unsigned mask;
    char hex[VL_DIGEST_COUNT][VL_DIGEST_HEX_MAX];
} vl_digest_result;

typedef struct vl_digest_ctx vl_digest_ctx;
vl_digest_ctx *vl_digest_new(unsigned mask);            /* NULL on failure */
void vl_digest_update(vl_digest_ctx *ctx, const void *data, size_t len);
int vl_digest_final(vl_digest_ctx *ctx, vl_digest_result *out, vl_error *err);
void vl_digest_free(vl_digest_ctx *ctx);

/* A pull source of bytes: returns bytes read, 0 at end, -1 on error (with err
 * filled). */
typedef ssize_t (*vl_read_fn)(void *arg, void *buf, size_t cap, vl_error *err);
/* The vl_read_fn of an open descriptor: arg is a vl_fd_source; a failed
 * read says "cannot read NAME" (or the descriptor's number). */
typedef struct vl_fd_source {
    int fd;
    const char *name;   /* for messages; may be NULL */
} vl_fd_source;
ssize_t vl_fd_read(void *arg, void *buf, size_t cap, vl_error *err);
/* Sees every chunk as it passes (e.g. the first block for libmagic). */
typedef int (*vl_chunk_fn)(void *arg, const void *data, size_t len, vl_error *err);

/* Pump a source to completion: each buffer read once feeds every digest in
 * mask, is written to out_fd when out_fd >= 0, and is shown to observer when
 * not NULL.  Constant memory (one VL_IO_BUFSIZE buffer). */
int vl_digest_pump(vl_read_fn rd, void *rd_arg, int out_fd, unsigned mask,
                   vl_chunk_fn observer, void *observer_arg,
                   vl_digest_result *out, uint64_t *size, vl_error *err);
/* Convenience: pump from a file descriptor / a path. */
int vl_digest_fd(int in_fd, int out_fd, unsigned mask, vl_digest_result *out,
                 uint64_t *size, vl_error *err);
int vl_digest_file(const char *path, unsigned mask, vl_digest_result *out,
                   uint64_t *size, vl_error *err);
/* A file copied while it is digested (common/copy.c).  Between two
 * regular files, from 1 MiB on, the kernel copies (copy_file_range: a
 * reflink where the filesystem can) and each chunk is read back from the
 * copy's cached pages for the digests and the observer, so they see what
 * was stored; out_fd must then be open for reading too (O_RDWR), or the
 * bytes go through user space.  They also do when the kernel cannot copy
 * (a pipe, another filesystem, EXDEV, EINVAL, ENOSYS, EOPNOTSUPP) or
 * stops copying part way (the rest is then read and written, which also
 * names the cause: a full disk is a failed write with sys_errno ENOSPC).
 * Both descriptors are used from their current offsets, to the source's
 * end.  Constant memory (one VL_IO_BUFSIZE buffer).  Test builds take the
 * user-space path when VELLUM_NO_COPY_FILE_RANGE is set (not "0"). */
#define VL_COPY_WRITEBACK 1u   /* start writing back every 8 MiB as it is
                                  copied (files of 8 MiB and more): the
                                  caller syncs later, with less to wait for */
typedef struct vl_copy_spec {
    int in_fd;                 /* the source */
    const char *in_name;       /* for messages; NULL: its descriptor number */
    int out_fd;                /* the copy; -1: digest only */
    const char *out_name;      /* for messages; NULL: its descriptor number */
    unsigned mask;             /* digests to compute (0: none) */
    vl_chunk_fn observer;      /* sees every byte in order; may be NULL */
    void *observer_arg;
    unsigned flags;            /* VL_COPY_* */
} vl_copy_spec;
typedef struct vl_copy_result {
    vl_digest_result digests;
    uint64_t size;             /* bytes copied */
    uint64_t kernel_bytes;     /* of those, copied by the kernel */
    int read_failed;           /* the failure was reading the source (not
                                  writing, or reading back, the copy) */
} vl_copy_result;
/* VL_OK, or a failure in err naming the file (in_name or out_name);
 * out (may be NULL) is filled either way (digests only on VL_OK). */
int vl_digest_copy_fd(const vl_copy_spec *s, vl_copy_result *out, vl_error *err);
/* Digest of a memory block, hex into out (VL_DIGEST_HEX_MAX bytes): 0, or
 * -1 and out "" when OpenSSL failed (out of memory). */
int vl_digest_buffer(vl_digest_alg alg, const void *data, size_t len,
                     char *out);
/* The OpenSSL version string, for PREMIS agents. */
const char *vl_digest_library_version(void);

/* Any digest OpenSSL provides, by name: for checking checksums others wrote
 * (a BagIt manifest in sha384 or sha3-256).  The algorithms above are the
 * ones vellum itself stores and audits with.
 * vl_digest_lookup finds the digest a name stands for among every digest
 * the OpenSSL default provider offers, comparing names without case and
 * without non-alphanumerics ("sha3-256", "SHA3_256" and "sha3256" are one
 * name); "blake2b" is BLAKE2b-512 and "blake2s" BLAKE2s-256, as Python's
 * hashlib names them.  Fills evp_name (OpenSSL's name, "SHA3-256"), the
 * number of hex digits of its digests, and *known: the vl_digest_alg when
 * it is one of those above, else -1.  0 found; -1 not provided, or an
 * extendable-output function (SHAKE), whose digests have no fixed length. */
#define VL_DIGEST_NAME_MAX 64
int vl_digest_lookup(const char *name, char evp_name[VL_DIGEST_NAME_MAX],
                     size_t *hex_len, int *known);
/* Several digests by OpenSSL name, fed together.  NULL when a name is not
 * provided or memory runs out. */
typedef struct vl_digest_set vl_digest_set;
vl_digest_set *vl_digest_set_new(const char *const *evp_names, size_t n);
void vl_digest_set_update(vl_digest_set *s, const void *data, size_t len);
/* hex[i] for evp_names[i]; the set is then spent (free it). */
int vl_digest_set_final(vl_digest_set *s, char (*hex)[VL_DIGEST_HEX_MAX],
                        vl_error *err);
void vl_digest_set_free(vl_digest_set *s);
/* A vl_chunk_fn feeding the set given as arg (for vl_digest_pump). */
int vl_digest_set_observe(void *arg, const void *data, size_t len,
                          vl_error *err);
/* A whole file through such digests; size (may be NULL) gets its length. */
int vl_digest_file_named(const char *path, const char *const *evp_names,
                         size_t n, char (*hex)[VL_DIGEST_HEX_MAX],
                         uint64_t *size, vl_error *err);
/* Digest of a memory block by OpenSSL name, hex into out ("" on failure). */
int vl_digest_buffer_named(const char *evp_name, const void *data, size_t len,
                           char *out);   /* 0, or -1 (out "") on failure */

/* ---- worker pool ---------------------------------------------------------
 * Parallel for: nthreads workers (0 = one per online core) call fn for each
 * index in [0, nitems), pulling the next index as they finish.  The first
 * failure stops new work; its status and message are returned. */
typedef int (*vl_pool_fn)(void *ctx, size_t index, int worker, vl_error *err);
int vl_pool_run(size_t nitems, int nthreads, vl_pool_fn fn, void *ctx,
                vl_error *err);
int vl_ncpu(void);

/* ---- key = value files (vellum.conf) -----------------------------------
 * Lines "key = value"; '#' starts a comment line.  Small and hand-written:
 * no library in our dependency set reads this format, and it has five keys. */
typedef struct vl_kv vl_kv;
int vl_kv_load(const char *path, vl_kv **out, vl_error *err);
vl_kv *vl_kv_new(void);
const char *vl_kv_get(const vl_kv *kv, const char *key);  /* NULL if unset */
int vl_kv_set(vl_kv *kv, const char *key, const char *value);
int vl_kv_save(const vl_kv *kv, const char *path, vl_error *err); /* atomic */
void vl_kv_free(vl_kv *kv);
int vl_kv_unset(vl_kv *kv, const char *key);      /* 1 removed, 0 absent */
/* Entries in file order: key i (NULL past the end) and its value. */
size_t vl_kv_count(const vl_kv *kv);
const char *vl_kv_key_at(const vl_kv *kv, size_t i, const char **value);

/* ---- "did you mean" ------------------------------------------------------
 * Optimal string alignment distance between a and b (insert, delete,
 * substitute, swap neighbours: 1 each); SIZE_MAX when out of memory. */
size_t vl_edit_distance(const char *a, const char *b);
/* How close candidate is to what the user typed: 1 or 2 (a typo or two,
 * or given is candidate's beginning, at least 3 bytes long), or -1 when
 * it is not worth suggesting (or is the same string). */
int vl_similarity(const char *given, const char *candidate);

#endif
