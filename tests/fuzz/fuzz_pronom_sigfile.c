/* libFuzzer target: bytes as a DROID signature file (from memory) and as a
 * PRONOM byte sequence.  A refusal must be VL_EINPUT with a one-line
 * message naming the file; an accepted file must build a matcher that can
 * identify the input itself, and an accepted sequence must be searchable
 * in the input without running past it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A white-box test: it uses ingest/'s private pronom_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "pronom_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vl_pronom_sigfile *f = NULL;
    vl_pronom_matcher *m = NULL;
    vl_pronom_seq *s = NULL;
    vl_error err = {0};
    char *text;
    int rc;

    rc = vl_pronom_sigfile_load_memory("fuzz.xml", (const char *)data, size,
                                       &f, &err);
    if (rc == VL_OK) {
        size_t fmt[8], n = 0;
        char basis[8][256];
        if (vl_pronom_matcher_new(f, &m, &err) != VL_OK)
            abort();
        vl_pronom_matcher_run(m, data, size, data, size, size, fmt, basis, 8,
                              &n);
        for (size_t i = 0; i < n; i++)
            if (fmt[i] >= f->nfmt)
                abort();
        vl_pronom_matcher_free(m);
        vl_pronom_sigfile_free(f);
    } else if (rc != VL_EINPUT || f || !strstr(err.msg, "fuzz.xml") ||
               strchr(err.msg, '\n')) {
        abort();
    }

    if (!(text = malloc(size + 1)))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    rc = vl_pronom_seq_compile(text, &s, &err);
    if (rc == VL_OK) {
        size_t st, en, ends[4];
        if (vl_pronom_seq_find(s, data, size, 0, size, &st, &en) &&
            (st > size || en > size || en < st))
            abort();
        if (vl_pronom_seq_ends(s, data, size, size, -1, ends, 4) > 4)
            abort();
        vl_pronom_seq_free(s);
    } else if (rc != VL_EINPUT || s || !strstr(err.msg, "offset")) {
        abort();
    }
    free(text);
    return 0;
}
