/* libFuzzer target: bytes as an OLE2 compound file (through a memfd, since
 * the reader opens a path), opened, listed, and every stream read from its
 * start and at its tail.  Refusals must be VL_EINPUT naming the file;
 * nothing may crash, leak, hang or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A white-box test: it uses ingest/'s private ole2.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "ole2.h"

static void check_refusal(int rc, const vl_error *err)
{
    if (rc != VL_EINPUT || !strstr(err->msg, "fuzz.doc") ||
        strchr(err->msg, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[70000];
    char path[64];
    vl_error err = {0};
    vl_ole2 *h = NULL;
    size_t i, got;
    int fd, rc;

    fd = memfd_create("fuzz-ole2", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    rc = vl_ole2_open(path, "fuzz.doc", &h, &err);
    if (rc != VL_OK) {
        check_refusal(rc, &err);
        goto done;
    }
    for (i = 0; i < vl_ole2_count(h); i++) {
        const char *name;
        int is_stream;
        uint64_t sz;
        vl_ole2_entry(h, i, &name, &is_stream, &sz);
        if (!name || (!is_stream && sz))
            abort();
        rc = vl_ole2_read(h, i, buf, sizeof buf, &got, &err);
        if (rc != VL_OK) {
            check_refusal(rc, &err);
            continue;
        }
        if (got > sizeof buf || got > sz)
            abort();
        if (sz > 100) {
            rc = vl_ole2_read_at(h, i, sz - 100, buf, 1000, &got, &err);
            if (rc != VL_OK)
                check_refusal(rc, &err);
            else if (got != 100)
                abort();
        }
    }
done:
    vl_ole2_close(h);
    close(fd);
    return 0;
}
