/* libFuzzer target: bytes as a donor checksum file (md5sum/sha*sum, BSD
 * tagged) or a BagIt manifest: the first byte picks the algorithm hint and
 * the mode.  An accepted manifest must give back every entry by lookup,
 * with lower-case hex of the algorithm's length; a refusal must be
 * VL_EINPUT naming the source. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A white-box test: it uses ingest/'s private manifest_private.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "manifest_private.h"
#include "vl_ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vl_manifest *m = NULL;
    vl_error err = {0};
    int hint, bagit, rc;
    size_t i;

    if (size < 1)
        return 0;
    hint = (data[0] & 7) >= VL_DIGEST_COUNT ? -1 : (data[0] & 7);
    bagit = (data[0] >> 3) & 15; /* 0 donor, else BagIt flag bits */
    rc = vl_manifest_parse((const char *)data + 1, size - 1, hint, bagit,
                           "fuzz.txt", &m, &err);
    if (rc != VL_OK) {
        if (rc != VL_EINPUT || m || strncmp(err.msg, "fuzz.txt", 8) != 0)
            abort();
        return 0;
    }
    if (hint >= 0 && vl_manifest_alg(m) != (vl_digest_alg)hint)
        abort();
    for (i = 0; i < vl_manifest_count(m); i++) {
        const char *p, *h, *q;
        vl_manifest_entry(m, i, &p, &h);
        if (!p || !h || !p[0] ||
            strlen(h) != vl_digest_hex_len(vl_manifest_alg(m)))
            abort();
        for (q = h; *q; q++)
            if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
                abort();
        if (vl_manifest_lookup(m, p) != h)
            abort();
    }
    vl_manifest_free(m);
    return 0;
}
