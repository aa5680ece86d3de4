/* Names that differ only in Unicode normalization (NFC vs NFD) or in case
 * are distinct in OCFL and on Linux, but collide on macOS and Windows
 * filesystems and confuse people: each such pair gets a warning.  ICU does
 * the normalization and case folding (it is already present as a libxml2
 * dependency; hand-written Unicode tables would be wrong). */
#include <stdlib.h>
#include <string.h>
#include <unicode/ucasemap.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <jansson.h>

#include "ingest_internal.h"

/* NFC, then (cm not NULL) full case folding, as UTF-8; malloc'd or NULL. */
static char *fold_key(const UNormalizer2 *nfc, UCaseMap *cm, const char *s)
{
    UErrorCode ec = U_ZERO_ERROR;
    int32_t ulen = 0;
    u_strFromUTF8(NULL, 0, &ulen, s, -1, &ec);
    if (ec != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(ec))
        return NULL;
    ec = U_ZERO_ERROR;
    UChar *u = malloc(((size_t)ulen + 1) * sizeof *u);
    UChar *n = malloc(((size_t)ulen * 4 + 16) * sizeof *n);
    char *out = NULL, *folded = NULL;
    if (!u || !n)
        goto done;
    u_strFromUTF8(u, ulen + 1, NULL, s, -1, &ec);
    int32_t nlen = unorm2_normalize(nfc, u, ulen, n, ulen * 4 + 16, &ec);
    if (U_FAILURE(ec))
        goto done;
    int32_t blen = 0;
    u_strToUTF8(NULL, 0, &blen, n, nlen, &ec);
    ec = U_ZERO_ERROR;
    if (!(out = malloc((size_t)blen + 1)))
        goto done;
    u_strToUTF8(out, blen + 1, NULL, n, nlen, &ec);
    if (U_FAILURE(ec))
        goto done;
    if (!cm) {
        folded = out;
        out = NULL;
        goto done;
    }
    int32_t flen = ucasemap_utf8FoldCase(cm, NULL, 0, out, blen, &ec);
    ec = U_ZERO_ERROR;
    if (!(folded = malloc((size_t)flen + 1)))
        goto done;
    ucasemap_utf8FoldCase(cm, folded, flen + 1, out, blen, &ec);
    if (U_FAILURE(ec)) {
        free(folded);
        folded = NULL;
    }
done:
    free(u);
    free(n);
    free(out);
    return folded;
}

void vl_names_check_collisions(vl_ingest_run *run)
{
    UErrorCode ec = U_ZERO_ERROR;
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&ec);
    UCaseMap *cm = ucasemap_open(NULL, 0, &ec);
    json_t *seen = json_object();
    if (U_FAILURE(ec) || !seen)
        goto done;
    for (size_t i = 0; i < run->dep.n; i++) {
        const char *name = run->dep.recs[i].logical;
        char *key = fold_key(nfc, cm, name);
        if (!key)
            continue;
        json_t *prev = json_object_get(seen, key);
        if (prev) {
            char *a = vl_name_escape(json_string_value(prev));
            char *b = vl_name_escape(name);
            vl_run_warn(run, "\"%s\" and \"%s\" differ only in Unicode normalization "
                        "or case; they would collide on macOS or Windows filesystems",
                        a ? a : "?", b ? b : "?");
            free(a);
            free(b);
        } else {
            json_object_set_new(seen, key, json_string(name));
        }
        free(key);
    }
done:
    json_decref(seen);
    if (cm)
        ucasemap_close(cm);
}

char *vl_name_key(const char *s, int fold)
{
    UErrorCode ec = U_ZERO_ERROR;
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&ec);
    UCaseMap *cm = fold ? ucasemap_open(NULL, 0, &ec) : NULL;
    char *key = NULL;

    if (!U_FAILURE(ec) && vl_utf8_valid(s, strlen(s)))
        key = fold_key(nfc, cm, s);
    if (cm)
        ucasemap_close(cm);
    return key;
}
