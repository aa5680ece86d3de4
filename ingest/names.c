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

struct collide_ctx {
    vl_ingest_run *run;
    const UNormalizer2 *nfc;
    UCaseMap *cm;
    vl_buf last;        /* the name before, in byte order */
};

static int check_one(void *arg, const vl_record *r, vl_error *err)
{
    struct collide_ctx *c = arg;
    const char *name = r->logical;
    char *prev = NULL, *key = fold_key(c->nfc, c->cm, name);
    int rc = VL_OK;
    if (!key)
        goto done;
    /* The first name in byte order with that key is the one kept.  Most
     * names are their own key and are not kept: a later name with that
     * key finds it among the records (it came earlier if it is less). */
    int own = !strcmp(key, name), found = 0;
    rc = vl_deposit_first_name(&c->run->dep, key, NULL, &prev, err);
    if (rc == VL_OK && !prev && own && c->last.data && !strcmp(c->last.data, name)) {
        /* the same path twice (a folder and an archive gave it) */
        if (!(prev = vl_strdup(name)))
            rc = vl_error_oom(err);
    } else if (rc == VL_OK && !prev && !own) {
        if (strcmp(key, name) < 0 &&
            (rc = vl_deposit_has(&c->run->dep, key, &found, err)) == VL_OK && found) {
            if (!(prev = vl_strdup(key)))
                rc = vl_error_oom(err);
        } else if (rc == VL_OK) {
            rc = vl_deposit_first_name(&c->run->dep, key, name, &prev, err);
        }
    }
    if (rc == VL_OK && prev) {
        char *a = vl_name_escape(prev);
        char *b = vl_name_escape(name);
        vl_run_warn(c->run, "\"%s\" and \"%s\" differ only in Unicode normalization "
                    "or case; they would collide on macOS or Windows filesystems",
                    a ? a : "?", b ? b : "?");
        free(a);
        free(b);
    }
    free(prev);
    free(key);
done:
    vl_buf_reset(&c->last);
    if (rc == VL_OK)
        rc = vl_buf_append(&c->last, name, strlen(name) + 1, err);
    return rc;
}

int vl_names_check_collisions(vl_ingest_run *run, vl_error *err)
{
    UErrorCode ec = U_ZERO_ERROR;
    struct collide_ctx c = {run, unorm2_getNFCInstance(&ec), NULL, {0}};
    int rc = VL_OK;
    c.cm = ucasemap_open(NULL, 0, &ec);
    vl_buf_init(&c.last, 0);
    if (!U_FAILURE(ec))
        rc = vl_deposit_foreach(&run->dep, 0, check_one, &c, err);
    if (c.cm)
        ucasemap_close(c.cm);
    vl_buf_release(&c.last);
    return rc;
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
