/* libFuzzer target: bytes as an inventory.json through the validator's
 * inventory checks (vl_validate_inventory_buffer).  Every finding must be a
 * well-formed code; nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A white-box test: it uses storage/'s private validate_private.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_STORAGE_INTERNAL
#include "validate_private.h"
#include "vl_storage.h"

static void check_finding(void *arg, const vl_finding *f)
{
    size_t *n = arg;
    if (strlen(f->code) != 4 || (f->code[0] != 'E' && f->code[0] != 'W') ||
        !f->message || !f->object || !f->path)
        abort();
    (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = 0;
    vl_validate_options o = {.on_finding = check_finding, .arg = &n};
    vl_validate_counts c = {0};
    vl_error err = {0};
    int rc = vl_validate_inventory_buffer((const char *)data, size, &o, &c,
                                          &err);
    if (rc != VL_OK && rc != VL_ESYS)
        abort();
    if (rc == VL_OK && n != c.errors + c.warnings)
        abort();
    return 0;
}
