/* Format identification: libmagic's MIME type, encoding and description of
 * the leading bytes of a file, then a PRONOM identifier from puid.c.
 *
 * One magic handle per vl_identifier, switched between description and MIME
 * mode with magic_setflags: measured as fast as two handles, and it loads the
 * magic database once instead of twice per worker.
 *
 * Built-in tests left out (MAGIC_NO_CHECK_*), each checked to leave every
 * answer unchanged on a corpus of real files (see the identify report):
 *   COMPRESS  no MAGIC_COMPRESS here, so only the "is it compressed" probe;
 *             gzip, xz, bzip2 are still named by the soft magic
 *   APPTYPE   OS/2 application types
 *   ELF       ELF details need a file descriptor; nothing for a buffer
 *   TOKENS    kept by libmagic for compatibility, a no-op in 5.4x
 * Kept on purpose: TAR (tar archives), CDF (MS Office 97-2003), CSV and
 * JSON (change MIME types), TEXT and ENCODING (text and its charset). */
#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vl_ingest.h"
#include "puid.h"

/* 256 KiB: the whole of most small files; JPEG's APP1 (Exif) segment is
 * at most 64 KiB; PNG and WAV put the chunks that fix a version before the
 * image or sound data; the XMP packet of a PDF/A written linearised or by
 * common producers sits near the start.  It is a quarter of the ingest read
 * buffer (VL_IO_BUFSIZE), so the first read already holds it. */
#define PREFIX_BYTES ((size_t)256 * 1024)

#define BASE_FLAGS (MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_APPTYPE | \
                    MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_TOKENS)
#define MIME_FLAGS (BASE_FLAGS | MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING)

struct vl_identifier {
    magic_t magic;
};

size_t vl_identify_prefix_bytes(void)
{
    return PREFIX_BYTES;
}

static char version_text[32];

static void version_once(void)
{
    int v = magic_version();   /* the library loaded, not the header */
    snprintf(version_text, sizeof version_text, "libmagic %d.%02d", v / 100,
             v % 100);
}

const char *vl_identify_library_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, version_once);
    return version_text;
}

int vl_identifier_open(vl_identifier **out, vl_error *err)
{
    vl_identifier *id = NULL;
    size_t bytes = PREFIX_BYTES;
    int rc = VL_ESYS;

    *out = NULL;
    if (!(id = calloc(1, sizeof *id))) {
        rc = vl_error_sys(err, "format identification");
        goto done;
    }
    if (!(id->magic = magic_open(BASE_FLAGS))) {
        rc = vl_error_sys(err, "libmagic: cannot open a handle");
        goto done;
    }
    if (magic_load(id->magic, NULL) != 0) {
        rc = vl_error_set(err, VL_ESYS, "libmagic: cannot load the magic "
                          "database: %s", magic_error(id->magic));
        goto done;
    }
    if (magic_setparam(id->magic, MAGIC_PARAM_BYTES_MAX, &bytes) != 0) {
        rc = vl_error_set(err, VL_ESYS, "libmagic: cannot set the byte limit");
        goto done;
    }
    *out = id;
    id = NULL;
    rc = VL_OK;
done:
    vl_identifier_close(id);
    return rc;
}

void vl_identifier_close(vl_identifier *id)
{
    if (!id)
        return;
    if (id->magic)
        magic_close(id->magic);
    free(id);
}

static void copy_text(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int magic_fail(vl_identifier *id, vl_error *err)
{
    const char *m = magic_error(id->magic);
    return vl_error_set(err, VL_ESYS, "libmagic: %s", m ? m : "failed");
}

int vl_identify_buffer(vl_identifier *id, const void *data, size_t len,
                       uint64_t total_size, const char *name, vl_format *out,
                       vl_error *err)
{
    static const char nothing[1];
    const char *r, *semi;
    int rc = VL_ESYS;

    memset(out, 0, sizeof *out);
    if (len > PREFIX_BYTES)
        len = PREFIX_BYTES;
    if (!data || !len) {
        data = nothing;
        len = 0;
    }
    /* Description first: "data" is libmagic's answer when no test printed
     * anything, and then the MIME pass can only fall back the same way, so
     * the second pass is skipped for unrecognised binary files. */
    if (magic_setflags(id->magic, BASE_FLAGS) != 0 ||
        !(r = magic_buffer(id->magic, data, len))) {
        rc = magic_fail(id, err);
        goto done;
    }
    copy_text(out->description, sizeof out->description, r, strlen(r));
    if (!strcmp(out->description, "data")) {
        strcpy(out->mime, "application/octet-stream");
        strcpy(out->encoding, "binary");
    } else {
        if (magic_setflags(id->magic, MIME_FLAGS) != 0 ||
            !(r = magic_buffer(id->magic, data, len))) {
            rc = magic_fail(id, err);
            goto done;
        }
        /* "type; charset=enc" */
        semi = strchr(r, ';');
        copy_text(out->mime, sizeof out->mime, r, semi ? (size_t)(semi - r)
                                                       : strlen(r));
        if (semi && (semi = strstr(semi, "charset=")))
            copy_text(out->encoding, sizeof out->encoding, semi + 8,
                      strlen(semi + 8));
    }
    vl_puid_classify(data, len, total_size, name, out);
    rc = VL_OK;
done:
    return rc;
}
