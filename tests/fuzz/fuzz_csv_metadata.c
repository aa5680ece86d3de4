/* libFuzzer target: bytes as a metadata.csv through vl_csv_parse and
 * vl_descriptive_load_memory.  A refusal must be VL_EINPUT with a one-line
 * message naming the file and must store nothing; an accepted file must give
 * per-file records with valid "data/..." logical paths, sorted and unique,
 * and DC values that are non-empty UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A white-box test: it uses metadata/'s private descriptive_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_METADATA_INTERNAL
#include "descriptive_internal.h"

static int count_row(void *arg, size_t row, size_t line, char **fields,
                     size_t n, vl_error *err)
{
    size_t i;

    if (n == 0 || row == 0 || line == 0 || line < row)
        abort();
    for (i = 0; i < n; i++)
        if (!fields[i] || !vl_utf8_valid(fields[i], strlen(fields[i])))
            abort();
    (*(size_t *)arg)++;
    return VL_OK;
}

static void check_dc(const vl_dc *dc)
{
    size_t i;

    for (i = 0; i < vl_dc_count(dc); i++) {
        const char *el, *v;
        vl_dc_entry(dc, i, &el, &v);
        if (vl_dc_element_index(el) < 0 || !v[0] ||
            !vl_utf8_valid(v, strlen(v)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vl_descriptive *d;
    vl_error err = {0};
    size_t rows = 0, i;
    int rc;

    rc = vl_csv_parse((const char *)data, size, "fuzz.csv", count_row, &rows,
                      &err);
    if (rc != VL_OK && (rc != VL_EINPUT || !strstr(err.msg, "fuzz.csv")))
        abort();
    d = vl_descriptive_new();
    if (!d)
        return 0;
    /* Force the CSV reader even when the bytes start with '<'. */
    if (size > 0 && data[0] == '<') {
        vl_descriptive_free(d);
        return 0;
    }
    rc = vl_descriptive_load_memory(d, "fuzz.csv", (const char *)data, size,
                                    &err);
    if (rc == VL_EINPUT) {
        if (!strstr(err.msg, "fuzz.csv") || strchr(err.msg, '\n') ||
            vl_descriptive_file_count(d) != 0 ||
            !vl_dc_is_empty(vl_descriptive_deposit_dc(d)))
            abort();
    } else if (rc != VL_OK) {
        abort();
    } else {
        check_dc(vl_descriptive_deposit_dc(d));
        for (i = 0; i < vl_descriptive_file_count(d); i++) {
            const char *p = vl_descriptive_file_path(d, i);
            vl_error perr;
            if (strncmp(p, "data/", 5) != 0 ||
                vl_logical_path_check(p, &perr) != VL_OK ||
                (i > 0 && strcmp(vl_descriptive_file_path(d, i - 1), p) >= 0))
                abort();
            if (vl_descriptive_file_dc(d, p) == NULL)
                abort();
            check_dc(vl_descriptive_file_dc(d, p));
        }
        /* Whatever was accepted must also crosswalk to MODS. */
        if (!vl_dc_is_empty(vl_descriptive_deposit_dc(d))) {
            char *m = vl_dc_to_mods(vl_descriptive_deposit_dc(d));
            if (!m)
                abort();
            free(m);
        }
    }
    vl_descriptive_free(d);
    return 0;
}
