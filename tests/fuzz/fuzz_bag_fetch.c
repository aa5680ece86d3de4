/* libFuzzer target: bytes as a BagIt bag's fetch.txt, in a 1.0 or 0.97 bag
 * (first byte picks) whose manifest-md5.txt lists data/a, data/b and
 * data/c d, through vl_bag_parse and, when accepted, vl_bag_verify with
 * data/a present only.  Nothing may crash, leak or read out of bounds; a
 * refusal names fetch.txt; every problem is one line; a missing file that
 * fetch.txt lists is counted as still to be fetched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A white-box target: the BagIt reader is private to ingest/, so it
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

static void ignore(void *arg, const char *message)
{
    (void)arg;
    if (!message[0] || strchr(message, '\n'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char d10[] = "BagIt-Version: 1.0\n"
                              "Tag-File-Character-Encoding: UTF-8\n";
    static const char d97[] = "BagIt-Version: 0.97\n"
                              "Tag-File-Character-Encoding: UTF-8\n";
    static const char manifest[] =
        "0cc175b9c0f1b6a831c399e269772661  data/a\n"
        "92eb5ffee6ae2fec3ad71c777531578f  data/b\n"
        "4a8a08f09d37b73795649038408b5f33  data/c d\n";
    vl_digest_result d = {0};
    size_t lines = 0;
    vl_error err = {0};
    vl_bag *b;
    int legacy, rc;

    if (size < 1)
        return 0;
    legacy = data[0] & 1;
    data++;
    size--;
    if (!(b = vl_bag_new()))
        return 0;
    vl_bag_set_warn(b, ignore, NULL);
    if (vl_bag_add_tag_file(b, "bagit.txt", legacy ? d97 : d10,
                            legacy ? sizeof d97 - 1 : sizeof d10 - 1,
                            &err) != VL_OK ||
        vl_bag_add_tag_file(b, "manifest-md5.txt", manifest,
                            sizeof manifest - 1, &err) != VL_OK ||
        vl_bag_add_tag_file(b, "fetch.txt", data, size, &err) != VL_OK)
        abort();
    rc = vl_bag_parse(b, &err);
    if (rc == VL_EINPUT) {
        if (strncmp(err.msg, "fetch.txt", 9) != 0)
            abort();
    } else if (rc != VL_OK) {
        abort();
    } else {
        d.mask = VL_DIGEST_BIT(VL_MD5);
        memcpy(d.hex[VL_MD5], "0cc175b9c0f1b6a831c399e269772661", 33);
        if (vl_bag_payload_seen(b, "data/a", 1, &d, NULL, &err) != VL_OK)
            abort();
        rc = vl_bag_verify(b, check_line, &lines, &err);
        /* data/b and data/c d are missing: never valid. */
        if (rc != VL_EINPUT || lines < 2 || vl_bag_complete(b) ||
            vl_bag_to_fetch(b) > 2 || vl_bag_to_fetch(b) > vl_bag_fetch_count(b))
            abort();
    }
    vl_bag_free(b);
    return 0;
}
