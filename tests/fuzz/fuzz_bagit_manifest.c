/* libFuzzer target: bytes as a BagIt bag's manifest-sha256.txt (and, after a
 * NUL byte, tagmanifest-md5.txt) of a 1.0 or 0.97 bag (the first byte's low
 * bit picks; its next three the bytes read at a time, 1 to 7 or the
 * default, so lines cut between reads are exercised),
 * through vl_bag_parse, vl_bag_payload_seen of every listed path (with a
 * wrong digest for some) and vl_bag_verify.  Nothing may crash, leak or
 * read out of bounds; every listed path must be found by lookup. */
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

typedef struct walk {
    vl_bag *b;
    size_t n;
} walk;

static void see(void *arg, const char *rel, vl_digest_alg alg, const char *hex)
{
    walk *w = arg;
    vl_digest_result d = {0};
    vl_error err = {0};

    if (alg != VL_SHA256 || strlen(hex) != 64 || strncmp(rel, "data/", 5))
        abort();
    d.mask = VL_DIGEST_BIT(VL_SHA256);
    memcpy(d.hex[VL_SHA256], hex, 65);
    if (w->n++ % 2)
        d.hex[VL_SHA256][0] = d.hex[VL_SHA256][0] == '0' ? '1' : '0';
    /* The manifest has no duplicates, so each path is new. */
    if (vl_bag_payload_seen(w->b, rel, 1, &d, NULL, &err) != VL_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char d10[] = "BagIt-Version: 1.0\n"
                              "Tag-File-Character-Encoding: UTF-8\n";
    static const char d97[] = "BagIt-Version: 0.97\n"
                              "Tag-File-Character-Encoding: UTF-8\n";
    const uint8_t *nul;
    size_t mlen, lines = 0, chunk;
    vl_error err = {0};
    walk w = {0};
    int legacy, rc;

    if (size < 1)
        return 0;
    legacy = data[0] & 1;
    chunk = (size_t)(data[0] >> 1) & 7;
    data++;
    size--;
    nul = memchr(data, '\0', size);
    mlen = nul ? (size_t)(nul - data) : size;
    w.b = vl_bag_new();
    if (!w.b)
        return 0;
    vl_bag_set_read_chunk(w.b, chunk);
    if (vl_bag_add_tag_file(w.b, "bagit.txt", legacy ? d97 : d10,
                            legacy ? sizeof d97 - 1 : sizeof d10 - 1,
                            &err) != VL_OK ||
        vl_bag_add_tag_file(w.b, "manifest-sha256.txt", data, mlen, &err) !=
            VL_OK)
        abort();
    if (nul && vl_bag_add_tag_file(w.b, "tagmanifest-md5.txt", nul + 1,
                                   size - mlen - 1, &err) != VL_OK)
        abort();
    rc = vl_bag_parse(w.b, &err);
    if (rc == VL_EINPUT) {
        if (!strstr(err.msg, "manifest"))
            abort();
    } else if (rc != VL_OK) {
        abort();
    } else {
        if (vl_bag_foreach_digest(w.b, see, &w, &err) != VL_OK)
            abort();
        rc = vl_bag_verify(w.b, check_line, &lines, &err);
        if (rc == VL_OK ? lines != 0 : (rc != VL_EINPUT || lines == 0))
            abort();
    }
    vl_bag_free(w.b);
    return 0;
}
