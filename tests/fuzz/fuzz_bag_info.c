/* libFuzzer target: bytes as bag-info.txt of a 1.0 or 0.97 bag (first byte
 * picks) through vl_bag_parse and vl_bag_verify.  Every label and value must
 * be a NUL-terminated string, refusals must be VL_EINPUT with a message, and
 * nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A white-box test: it uses ingest/'s private bagit_private.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "bagit_private.h"
#include "vl_ingest.h"

static void check_line(void *arg, const char *message)
{
    if (!message[0] || strchr(message, '\n'))
        abort();
    (*(size_t *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char d10[] = "BagIt-Version: 1.0\n"
                              "Tag-File-Character-Encoding: UTF-8\n";
    static const char d97[] = "BagIt-Version: 0.97\n"
                              "Tag-File-Character-Encoding: UTF-8\n";
    vl_bag *b;
    vl_error err = {0};
    size_t i, lines = 0;
    int legacy, rc;

    if (size < 1)
        return 0;
    legacy = data[0] & 1;
    b = vl_bag_new();
    if (!b)
        return 0;
    if (vl_bag_add_tag_file(b, "bagit.txt", legacy ? d97 : d10,
                            legacy ? sizeof d97 - 1 : sizeof d10 - 1,
                            &err) != VL_OK ||
        vl_bag_add_tag_file(b, "manifest-md5.txt", "", 0, &err) != VL_OK ||
        vl_bag_add_tag_file(b, "bag-info.txt", data + 1, size - 1, &err) !=
            VL_OK)
        abort();
    rc = vl_bag_parse(b, &err);
    if (rc == VL_EINPUT) {
        if (!err.msg[0] || !strstr(err.msg, "bag-info.txt"))
            abort();
    } else if (rc != VL_OK) {
        abort();
    } else {
        for (i = 0; i < vl_bag_info_count(b); i++) {
            const char *l, *v;
            vl_bag_info_entry(b, i, &l, &v);
            if (!l || !v || !l[0] || strchr(l, ':') || strchr(l, '\n') ||
                strchr(v, '\n'))
                abort();
        }
        rc = vl_bag_verify(b, check_line, &lines, &err);
        /* Without payload only a Payload-Oxum other than 0.0 can fail. */
        if (rc != VL_OK && (rc != VL_EINPUT || lines != 1))
            abort();
    }
    vl_bag_free(b);
    return 0;
}
