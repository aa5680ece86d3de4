/* Private to storage/: a small S3 client on libcurl (SigV4 through
 * CURLOPT_AWS_SIGV4) and libxml2 (for the XML answers), what the S3
 * backend (backend_s3.c) is built on.  Path-style URLs:
 * ENDPOINT/BUCKET/KEY.  Keys are given unescaped; the client escapes them.
 *
 * Every upload carries x-amz-content-sha256 (the body's SHA-256, signed)
 * and Content-MD5, so the server checks the bytes it stores.  Transient
 * failures (connection errors, timeouts, 500/502/503/504, SlowDown) are
 * retried with exponential backoff; a file body is re-read from its start.
 * Errors are VL_ESYS with a one-line message naming s3://BUCKET/KEY, the
 * HTTP status and the S3 error code ("403 SignatureDoesNotMatch: check the
 * secret key"); never a credential.  A missing key is VL_ESYS with
 * sys_errno ENOENT (as open(2) on a folder backend). */
#ifndef VL_S3_PRIVATE_H
#define VL_S3_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "s3_private.h is private to storage/"
#endif

#include <stdint.h>
#include <sys/types.h>

#include "vl_common.h"

typedef struct vl_s3 vl_s3;
typedef struct vl_s3_reader vl_s3_reader;

typedef struct vl_s3_config {
    const char *endpoint;      /* "http://127.0.0.1:7480"; no trailing '/' */
    const char *region;        /* NULL: "us-east-1" */
    const char *access_key;
    const char *secret_key;
    const char *session_token; /* NULL unless temporary credentials */
    int tls_verify;            /* 1 unless explicitly turned off */
    int max_retries;           /* 0: the default (5) */
    long timeout_seconds;      /* per request without progress; 0: 60 */
    int parallel;              /* uploads in flight; 0: 4 */
    double backoff_first_seconds; /* wait before the first retry, doubled
                                     each retry up to 5 s; 0: 0.2 */
} vl_s3_config;

/* The strings are copied.  Nothing is sent yet. */
int vl_s3_open(const vl_s3_config *c, const char *bucket, vl_s3 **out,
               vl_error *err);
void vl_s3_close(vl_s3 *s);
const char *vl_s3_bucket(const vl_s3 *s);

/* HEAD bucket: VL_OK when it exists and the credentials may use it;
 * "bucket NAME does not exist" (VL_ESYS, sys_errno ENOENT), 403s and
 * unreachable endpoints as one-line VL_ESYS errors. */
int vl_s3_check_bucket(vl_s3 *s, vl_error *err);
/* PUT bucket; an existing bucket of ours is fine. */
int vl_s3_create_bucket(vl_s3 *s, vl_error *err);

/* Uploads.  A file is read twice (once to hash, once to send), never held
 * in memory; files above 64 MiB go as a multipart upload (parts of 16 MiB,
 * each hashed and checked on its own; an upload that fails is aborted). */
int vl_s3_put_mem(vl_s3 *s, const char *key, const void *data, size_t len,
                  vl_error *err);
int vl_s3_put_file(vl_s3 *s, const char *key, const char *local_path,
                   vl_error *err);
/* Several files at once, up to config.parallel in flight over reused
 * connections; returns when all are done.  On the first failure the rest
 * are not started (those in flight finish) and that error is returned. */
int vl_s3_put_files(vl_s3 *s, size_t n, const char *const *keys,
                    const char *const *local_paths, vl_error *err);

/* HEAD: *exists = 0 for a missing key (not an error). */
int vl_s3_head(vl_s3 *s, const char *key, int *exists, uint64_t *size,
               vl_error *err);
/* DELETE; a missing key is fine. */
int vl_s3_delete(vl_s3 *s, const char *key, vl_error *err);
/* Copy from_key to to_key inside the bucket, on the server (CopyObject). */
int vl_s3_copy(vl_s3 *s, const char *from_key, const char *to_key, vl_error *err);

/* ListObjectsV2 under prefix (continuation followed).  recursive = 0: one
 * level with delimiter '/', fn gets each key's name after the prefix
 * (is_prefix = 0, with its size) and each common prefix's name without its
 * trailing '/' (is_prefix = 1).  recursive = 1: every key under the prefix,
 * name after the prefix.  Names come in byte order (S3's).  A non-zero
 * return from fn stops the listing and is returned. */
typedef int (*vl_s3_list_fn)(void *arg, const char *name, int is_prefix,
                             uint64_t size, vl_error *err);
int vl_s3_list(vl_s3 *s, const char *prefix, int recursive, vl_s3_list_fn fn,
               void *arg, vl_error *err);

/* Reading: GET with ranges, so memory stays constant; a reader fetches
 * the object in ranges of a few MiB as it is read. */
int vl_s3_reader_open(vl_s3 *s, const char *key, vl_s3_reader **out,
                      vl_error *err);
ssize_t vl_s3_reader_read(vl_s3_reader *r, void *buf, size_t cap,
                          vl_error *err);
uint64_t vl_s3_reader_size(const vl_s3_reader *r);
void vl_s3_reader_close(vl_s3_reader *r);
/* Whole small object; VL_EINPUT when larger than max. */
int vl_s3_get_mem(vl_s3 *s, const char *key, size_t max, vl_buf *out,
                  vl_error *err);

/* s3://BUCKET/PREFIX -> bucket and prefix ("" or "a/b", no slashes at its
 * ends); VL_EINPUT naming the URL when it is not one. */
int vl_s3_parse_url(const char *url, char **bucket, char **prefix,
                    vl_error *err);

#endif
