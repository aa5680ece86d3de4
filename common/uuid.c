/* Random (version 4) UUIDs for PREMIS event and agent identifiers. */
#include "vl_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include <openssl/rand.h>

void vl_uuid4(char out[37])
{
    unsigned char b[16];
    size_t got = 0;

#ifdef VELLUM_TEST_HOOKS
    /* Only the test builds: VELLUM_UUID_SEED makes the identifiers a
     * sequence, so that an operation's METS.xml (and so its digest, and
     * the order of the inventory's rows) is the same every run; the
     * allocation-failure torture counts on it. */
    static unsigned long long next_id;
    const char *seed = getenv("VELLUM_UUID_SEED");
    if (seed && *seed) {
        unsigned long long v = strtoull(seed, NULL, 10) + next_id++;
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)(i < 8 ? v >> (8 * i) : 0x5a);
        got = sizeof b;
    }
#endif
    /* OpenSSL's CSPRNG first; the kernel directly if it cannot seed. */
    if (got < sizeof b && RAND_bytes(b, sizeof b) != 1) {
        while (got < sizeof b) {
            ssize_t n = getrandom(b + got, sizeof b - got, 0);
            if (n > 0)
                got += (size_t)n;
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
}
