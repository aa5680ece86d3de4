/* libFuzzer target: bytes as a user --metadata XML file through the safe
 * reader, the DC/MODS record loader and both crosswalks.  A refusal must be
 * VL_EINPUT with a one-line message naming the file, with nothing stored;
 * an accepted record's DC must crosswalk to MODS that the safe reader reads
 * back and maps to DC again.  Entity declarations must never be accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

/* A white-box test: it uses metadata/'s private descriptive_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_METADATA_INTERNAL
#include "descriptive_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vl_descriptive *d;
    vl_error err = {0};
    void *doc = NULL;
    int rc;

    rc = vl_xml_read_safe((const char *)data, size, "fuzz.xml", &doc, &err);
    if (rc == VL_OK) {
        xmlDtdPtr dtd = doc ? ((xmlDocPtr)doc)->intSubset : NULL;
        if (!doc || (dtd && (dtd->entities || dtd->pentities ||
                             dtd->ExternalID || dtd->SystemID)))
            abort();
        vl_xml_free(doc);
    } else if (rc != VL_EINPUT || doc || !strstr(err.msg, "fuzz.xml") ||
               strchr(err.msg, '\n')) {
        abort();
    }

    d = vl_descriptive_new();
    if (!d)
        return 0;
    rc = vl_descriptive_load_memory(d, "fuzz.xml", (const char *)data, size,
                                    &err);
    if (rc == VL_EINPUT) {
        if (!strstr(err.msg, "fuzz.xml") || strchr(err.msg, '\n') ||
            vl_descriptive_mods_xml(d) ||
            !vl_dc_is_empty(vl_descriptive_deposit_dc(d)))
            abort();
    } else if (rc != VL_OK) {
        abort();
    } else if (!vl_dc_is_empty(vl_descriptive_deposit_dc(d))) {
        const vl_dc *dc = vl_descriptive_deposit_dc(d);
        vl_dc *back = vl_dc_new();
        char *m = vl_dc_to_mods(dc);
        if (!m || !back)
            abort();
        if (vl_mods_to_dc(m, strlen(m), back, &err) != VL_OK ||
            vl_dc_is_empty(back))
            abort();
        free(m);
        vl_dc_free(back);
    }
    if (vl_descriptive_mods_xml(d)) {
        const char *mx = vl_descriptive_mods_xml(d);
        vl_dc *again = vl_dc_new();
        /* The kept record must read back as MODS. */
        if (!again || vl_mods_to_dc(mx, strlen(mx), again, &err) != VL_OK)
            abort();
        vl_dc_free(again);
    }
    vl_descriptive_free(d);
    return 0;
}
