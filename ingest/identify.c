/* Format identification.  With PRONOM signatures: the PRONOM engine
 * (pronom.h) first; libmagic only for what PRONOM lacks (the encoding of
 * text formats, the MIME type of files no signature identified).  Without
 * them: libmagic's MIME type, encoding and description of the leading
 * bytes, then a PRONOM identifier from puid.c's small table.
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

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "identify_private.h"
#include "pronom.h"
#include "puid.h"
#include "vl_ingest.h"

/* 256 KiB: the whole of most small files; JPEG's APP1 (Exif) segment is
 * at most 64 KiB; PNG and WAV put the chunks that fix a version before the
 * image or sound data; the XMP packet of a PDF/A written linearised or by
 * common producers sits near the start.  It is a quarter of the ingest read
 * buffer (VL_IO_BUFSIZE), so the first read already holds it. */
#define PREFIX_BYTES ((size_t)256 * 1024)

#define BASE_FLAGS (MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_APPTYPE | \
                    MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_TOKENS)
#define MIME_FLAGS (BASE_FLAGS | MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING)
/* The encoding of a file PRONOM called text: no magic tests at all. */
/* Text's MIME type and charset without the magic tests. */
#define TEXT_MIME_FLAGS (BASE_FLAGS | MAGIC_MIME_TYPE | MAGIC_MIME_ENCODING | \
                         MAGIC_NO_CHECK_SOFT | MAGIC_NO_CHECK_TAR | \
                         MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_JSON)
#define ENCODING_FLAGS (BASE_FLAGS | MAGIC_MIME_ENCODING | MAGIC_NO_CHECK_SOFT | \
                        MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CDF | \
                        MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_JSON)

struct vl_signatures {
    vl_pronom *engine;
    char describe[64];
};

struct vl_identifier {
    magic_t magic;
    const vl_signatures *sigs;
    unsigned char *tail;     /* the last bytes of a file, read back */
    int pronom_only;
};

int vl_signatures_open(const char *signatures, const char *containers,
                       const char *cache_dir, vl_signatures **out,
                       vl_error *err)
{
    vl_pronom_options o = {signatures, containers, cache_dir};
    vl_signatures *s = calloc(1, sizeof *s);
    int rc = VL_OK;
    *out = NULL;
    if (!s) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_pronom_open(&o, &s->engine, err)) != VL_OK)
        goto done;
    const char *v = vl_pronom_signature_version(s->engine);
    const char *cv = vl_pronom_container_version(s->engine);
    snprintf(s->describe, sizeof s->describe, "DROID %s%s%s%s",
             (*v == 'V' || *v == 'v') ? "" : "V", v, *cv ? "; containers " : "",
             cv);
    *out = s;
    s = NULL;
done:
    vl_signatures_close(s);
    return rc;
}

void vl_signatures_close(vl_signatures *s)
{
    if (!s)
        return;
    vl_pronom_close(s->engine);
    free(s);
}

const char *vl_signatures_describe(const vl_signatures *s)
{
    return s ? s->describe : "";
}

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

int vl_identifier_open(const vl_signatures *sigs, vl_identifier **out,
                       vl_error *err)
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
    id->sigs = sigs;
    if (sigs && vl_pronom_eof_bytes(sigs->engine) &&
        !(id->tail = malloc(vl_pronom_eof_bytes(sigs->engine)))) {
        rc = vl_error_oom(err);
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
    free(id->tail);
    free(id);
}

int vl_identifier_pronom_only(vl_identifier *id, vl_error *err)
{
    if (!id->sigs)
        return vl_error_set(err, VL_EINPUT, "identification by PRONOM alone "
                            "needs a signature file");
    id->pronom_only = 1;
    return VL_OK;
}

size_t vl_identify_eof_bytes(const vl_identifier *id)
{
    return id && id->sigs ? vl_pronom_eof_bytes(id->sigs->engine) : 0;
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

/* libmagic's answer, and the built-in table's PUID when puid is set. */
static int magic_identify(vl_identifier *id, const void *data, size_t len,
                          uint64_t total_size, const char *name, int puid,
                          vl_format *out, vl_error *err)
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
    if (puid)
        vl_puid_classify(data, len, total_size, name, out);
    rc = VL_OK;
done:
    return rc;
}

/* libmagic's MIME type and encoding alone, in one pass with flags. */
static int magic_mime_flags(vl_identifier *id, const void *data, size_t len,
                            int flags, vl_format *out, vl_error *err)
{
    static const char nothing[1];
    const char *r, *semi;
    memset(out, 0, sizeof *out);
    if (!data || !len) {
        data = nothing;
        len = 0;
    }
    if (magic_setflags(id->magic, flags) != 0 ||
        !(r = magic_buffer(id->magic, data, len > PREFIX_BYTES ? PREFIX_BYTES : len)))
        return magic_fail(id, err);
    semi = strchr(r, ';');
    copy_text(out->mime, sizeof out->mime, r, semi ? (size_t)(semi - r) : strlen(r));
    if (semi && (semi = strstr(semi, "charset=")))
        copy_text(out->encoding, sizeof out->encoding, semi + 8, strlen(semi + 8));
    return VL_OK;
}

static int magic_mime(vl_identifier *id, const void *data, size_t len,
                      vl_format *out, vl_error *err)
{
    return magic_mime_flags(id, data, len, MIME_FLAGS, out, err);
}

/* The encoding of a text format, from libmagic's encoding check alone. */
static int magic_encoding(vl_identifier *id, const void *data, size_t len,
                          vl_format *out, vl_error *err)
{
    const char *r;
    if (!len)
        return VL_OK;   /* an empty file has no encoding to tell */
    if (magic_setflags(id->magic, ENCODING_FLAGS) != 0 ||
        !(r = magic_buffer(id->magic, data, len > PREFIX_BYTES ? PREFIX_BYTES : len)))
        return magic_fail(id, err);
    copy_text(out->encoding, sizeof out->encoding, r, strlen(r));
    return VL_OK;
}

/* A format whose bytes are text, so that its encoding is worth telling:
 * PRONOM gives no encodings, only MIME types. */
static int is_text_mime(const char *mime)
{
    size_t n = strlen(mime);
    return !strncmp(mime, "text/", 5) || strstr(mime, "xml") ||
           strstr(mime, "json") || (n > 4 && !strcmp(mime + n - 4, "+xml")) ||
           !strcmp(mime, "application/javascript") ||
           !strcmp(mime, "application/x-sh") || !strcmp(mime, "application/rtf");
}

/* Append sep and b to the text in dst (cut at cap). */
static void append_text(char *dst, size_t cap, const char *sep, const char *b)
{
    size_t n = strlen(dst);
    if (!*b)
        return;
    if (n && n < cap)
        n += (size_t)snprintf(dst + n, cap - n, "%s", sep);
    if (n < cap)
        snprintf(dst + n, cap - n, "%s", b);
}

int vl_identify_file(vl_identifier *id, const void *bof, size_t boflen,
                     const void *eof, size_t eoflen, uint64_t size,
                     const char *name, const char *path, vl_format *out,
                     vl_error *err)
{
    vl_pronom_result *res = NULL;
    int rc = VL_OK;
    memset(out, 0, sizeof *out);
    if (!bof)
        boflen = 0;
    if (!id->sigs)
        return magic_identify(id, bof, boflen, size, name, 1, out, err);
    /* a file that fits in the leading bytes is its own end; without its
     * end, signatures on it cannot match */
    if ((uint64_t)boflen >= size) {
        eof = bof;
        eoflen = boflen;
    } else if (!eof) {
        eof = "";
        eoflen = 0;
    }
    if (!(res = malloc(sizeof *res))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_pronom_identify(id->sigs->engine, bof, boflen, eof, eoflen,
                                 size, name, path, res, err)) != VL_OK)
        goto done;
    snprintf(out->signatures, sizeof out->signatures, "%s", id->sigs->describe);
    snprintf(out->warning, sizeof out->warning, "%s", res->warning);
    if (res->n) {
        const vl_pronom_match *m = &res->m[0];
        snprintf(out->puid, sizeof out->puid, "%s", m->puid);
        snprintf(out->format_name, sizeof out->format_name, "%s", m->name);
        snprintf(out->format_version, sizeof out->format_version, "%s", m->version);
        snprintf(out->basis, sizeof out->basis, "%s", m->basis);
        for (size_t i = 1; i < res->n; i++)
            append_text(out->others, sizeof out->others, " ", res->m[i].puid);
    }
    const vl_pronom_match *m = res->n ? &res->m[0] : NULL;
    if (m) {
        copy_text(out->description, sizeof out->description, m->name, strlen(m->name));
        append_text(out->description, sizeof out->description, " ", m->version);
    }
    if (id->pronom_only) {
        if (m)
            snprintf(out->mime, sizeof out->mime, "%s", m->mime);
        goto done;
    }
    if (m && m->basis_kind != VL_PRONOM_BASIS_EXTENSION) {
        /* A byte or container signature: PRONOM's MIME type; libmagic only
         * for the encoding of a text format. */
        snprintf(out->mime, sizeof out->mime, "%s",
                 m->mime[0] ? m->mime : "application/octet-stream");
        if (m->mime[0] && is_text_mime(m->mime))
            rc = magic_encoding(id, bof, boflen, out, err);
        else
            snprintf(out->encoding, sizeof out->encoding, "binary");
        goto done;
    }
    if (m && m->mime[0] && is_text_mime(m->mime)) {
        /* The extension of a text format (most text has no signature): its
         * encoding says whether it is text at all; only bytes that are not
         * go on to libmagic's tests. */
        if ((rc = magic_encoding(id, bof, boflen, out, err)) != VL_OK)
            goto done;
        if (strcmp(out->encoding, "binary") != 0 || !boflen) {
            snprintf(out->mime, sizeof out->mime, "%s", m->mime);
            goto done;
        }
    }
    /* Nothing, or only an extension: libmagic's MIME type and encoding.
     * Text first, from libmagic without its magic tests (text/plain and the
     * charset; its regex tests for script and source subtypes cost as much
     * as everything else together); anything else gets the full tests, in
     * one pass (a description would be a second pass of the same tests; the
     * PRONOM name stands in when there is one). */
    vl_format magic;
    if ((rc = magic_mime_flags(id, bof, boflen, TEXT_MIME_FLAGS, &magic, err)) != VL_OK)
        goto done;
    if (!boflen || !strcmp(magic.encoding, "binary") ||
        strncmp(magic.mime, "text/", 5) != 0) {
        if ((rc = magic_mime(id, bof, boflen, &magic, err)) != VL_OK)
            goto done;
    }
    memcpy(out->mime, magic.mime, sizeof out->mime);
    memcpy(out->encoding, magic.encoding, sizeof out->encoding);
done:
    free(res);
    return rc;
}

int vl_identify_path(vl_identifier *id, const void *bof, size_t boflen,
                     uint64_t size, const char *name, const char *path,
                     vl_format *out, vl_error *err)
{
    size_t want = vl_identify_eof_bytes(id), got = 0;
    int fd = -1, rc;
    if (!want || (uint64_t)boflen >= size || !path)
        return vl_identify_file(id, bof, boflen, NULL, 0, size, name, path, out, err);
    if ((uint64_t)want > size)
        want = (size_t)size;
    /* The end of a file just written is in the page cache: one pread. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = vl_error_sys(err, "cannot read %s", path);
        goto done;
    }
    while (got < want) {
        ssize_t n = pread(fd, id->tail + got, want - got,
                          (off_t)(size - want + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? vl_error_sys(err, "cannot read %s", path)
                       : vl_error_set(err, VL_ESYS, "%s is shorter than it was", path);
            goto done;
        }
        got += (size_t)n;
    }
    rc = vl_identify_file(id, bof, boflen, id->tail, got, size, name, path, out, err);
done:
    if (fd >= 0)
        close(fd);
    return rc;
}

int vl_identify_buffer(vl_identifier *id, const void *data, size_t len,
                       uint64_t total_size, const char *name, vl_format *out,
                       vl_error *err)
{
    return vl_identify_file(id, data, len, NULL, 0, total_size, name, NULL, out,
                            err);
}
