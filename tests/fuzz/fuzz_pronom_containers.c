/* libFuzzer target for the container signatures.  The first byte picks:
 *   0: the rest is a container signature file, loaded and queried;
 *   1: the rest is a ZIP, matched against a fixed small signature file;
 *   2: the rest is an OLE2 file, matched the same way.
 * Refusals must be VL_EINPUT naming the file; nothing may crash, leak,
 * hang or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A white-box test: it uses ingest/'s private pronom_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "pronom_internal.h"

static const char fixed[] =
    "<ContainerSignatureMapping signatureVersion=\"1\"><ContainerSignatures>"
    "<ContainerSignature Id=\"1\" ContainerType=\"ZIP\"><Files><File>"
    "<Path>[Content_Types].xml</Path><BinarySignatures>"
    "<InternalSignatureCollection><InternalSignature ID=\"1\">"
    "<ByteSequence Reference=\"BOFoffset\"><SubSequence Position=\"1\" "
    "SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"4096\"><Sequence>'ContentType="
    "' 22</Sequence></SubSequence></ByteSequence></InternalSignature>"
    "</InternalSignatureCollection></BinarySignatures></File>"
    "<File><Path>word/</Path></File></Files></ContainerSignature>"
    "<ContainerSignature Id=\"2\" ContainerType=\"ZIP\"><Files><File>"
    "<Path>mimetype</Path><BinarySignatures><InternalSignatureCollection>"
    "<InternalSignature ID=\"2\"><ByteSequence Reference=\"EOFoffset\">"
    "<SubSequence Position=\"1\" SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"8\">"
    "<Sequence>'zip'</Sequence></SubSequence></ByteSequence>"
    "</InternalSignature></InternalSignatureCollection></BinarySignatures>"
    "</File></Files></ContainerSignature>"
    "<ContainerSignature Id=\"3\" ContainerType=\"OLE2\"><Files>"
    "<File><Path>WordDocument</Path></File><File><Path>CompObj</Path>"
    "<BinarySignatures><InternalSignatureCollection><InternalSignature "
    "ID=\"3\"><ByteSequence Reference=\"BOFoffset\"><SubSequence "
    "Position=\"1\" SubSeqMinOffset=\"40\" SubSeqMaxOffset=\"1024\">"
    "<Sequence>10 00 00 00 'Word.Document.' ['6'-'8'] 00</Sequence>"
    "</SubSequence></ByteSequence></InternalSignature>"
    "</InternalSignatureCollection></BinarySignatures></File>"
    "<File><Path>Storage/Stream</Path><BinarySignatures>"
    "<InternalSignatureCollection><InternalSignature ID=\"4\">"
    "<ByteSequence Reference=\"EOFoffset\"><SubSequence Position=\"1\" "
    "SubSeqMinOffset=\"0\" SubSeqMaxOffset=\"0\"><Sequence>FF</Sequence>"
    "</SubSequence></ByteSequence></InternalSignature>"
    "</InternalSignatureCollection></BinarySignatures></File>"
    "</Files></ContainerSignature></ContainerSignatures><FileFormatMappings>"
    "<FileFormatMapping signatureId=\"1\" Puid=\"fmt/1\"/>"
    "<FileFormatMapping signatureId=\"2\" Puid=\"fmt/2\"/>"
    "<FileFormatMapping signatureId=\"3\" Puid=\"fmt/3\"/>"
    "</FileFormatMappings><TriggerPuids><TriggerPuid ContainerType=\"ZIP\" "
    "Puid=\"x-fmt/263\"/></TriggerPuids></ContainerSignatureMapping>";

/* Bytes into a memfd; its /proc path in path.  The fd, or -1. */
static int memfile(const void *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz-containers", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

static void check_refusal(int rc, const vl_error *err)
{
    if (rc != VL_EINPUT || !strstr(err->msg, "/proc/self/fd/") ||
        strchr(err->msg, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vl_pronom_containers *known;
    vl_pronom_containers *c = NULL;
    char path[64], puids[4][32], basis[4][256];
    vl_error err = {0};
    size_t n, i;
    int fd, rc;

    if (!known) {
        fd = memfile(fixed, sizeof fixed - 1, path, sizeof path);
        if (vl_pronom_containers_load(path, &known, &err) != VL_OK)
            abort();
        close(fd);
    }
    if (size < 1 || data[0] > 2)
        return 0;
    fd = memfile(data + 1, size - 1, path, sizeof path);
    if (data[0] == 0) {
        rc = vl_pronom_containers_load(path, &c, &err);
        if (rc != VL_OK) {
            check_refusal(rc, &err);
        } else {
            if (strlen(vl_pronom_containers_version(c)) >= 32 ||
                vl_pronom_containers_count(c, VL_CONTAINER_ZIP) +
                        vl_pronom_containers_count(c, VL_CONTAINER_OLE2) >
                    vl_pronom_containers_count(c, 0))
                abort();
            (void)vl_pronom_containers_trigger(c, "x-fmt/263");
            vl_pronom_containers_free(c);
        }
    } else {
        rc = vl_pronom_containers_match(known, data[0], path, puids, basis, 4,
                                        &n, &err);
        if (rc != VL_OK) {
            check_refusal(rc, &err);
        } else {
            if (n > 4)
                abort();
            for (i = 0; i < n; i++)
                if (strncmp(puids[i], "fmt/", 4) ||
                    !memchr(basis[i], 0, sizeof basis[i]))
                    abort();
        }
    }
    close(fd);
    return 0;
}
