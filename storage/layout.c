/* Storage layout extension 0004-hashed-n-tuple-storage-layout: an object id
 * is hashed and the hex digest cut into tuples that name nested folders. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "layout_private.h"
#include "vl_json.h"
#include "vl_storage.h"

#define LAYOUT_NAME "0004-hashed-n-tuple-storage-layout"

void vl_layout_default(vl_layout *l)
{
    l->alg = VL_SHA256;
    l->tuple_size = 3;
    l->number_of_tuples = 3;
    l->short_object_root = 0;
}

int vl_layout_parse(const char *text, size_t len, vl_layout *out,
                    vl_error *err)
{
    json_error_t je;
    int rc = VL_OK;
    int oom = 0;
    json_t *root = vl_json_loadb(text, len, JSON_REJECT_DUPLICATES, &je, &oom);
    vl_layout_default(out);
    if (!root && oom)
        return vl_error_set(err, VL_ESYS, "layout config: out of memory");
    if (!root)
        return vl_error_set(err, VL_EINPUT, "layout config is not valid JSON: %s",
                            je.text);
    const char *name = json_string_value(json_object_get(root, "extensionName"));
    json_t *alg = json_object_get(root, "digestAlgorithm");
    json_t *ts = json_object_get(root, "tupleSize");
    json_t *nt = json_object_get(root, "numberOfTuples");
    json_t *sr = json_object_get(root, "shortObjectRoot");
    if (!name || strcmp(name, LAYOUT_NAME) != 0) {
        rc = vl_error_set(err, VL_EINPUT, "layout config extensionName is not %s",
                          LAYOUT_NAME);
        goto done;
    }
    if (alg && (!json_is_string(alg) ||
                vl_digest_from_name(json_string_value(alg), &out->alg) != 0)) {
        rc = vl_error_set(err, VL_EINPUT, "layout config digestAlgorithm is unknown");
        goto done;
    }
    if ((ts && !json_is_integer(ts)) || (nt && !json_is_integer(nt)) ||
        (sr && !json_is_boolean(sr))) {
        rc = vl_error_set(err, VL_EINPUT, "layout config has a value of the wrong type");
        goto done;
    }
    if (ts)
        out->tuple_size = (int)json_integer_value(ts);
    if (nt)
        out->number_of_tuples = (int)json_integer_value(nt);
    if (sr)
        out->short_object_root = json_is_true(sr);
    size_t hexlen = vl_digest_hex_len(out->alg);
    if (out->tuple_size < 0 || out->tuple_size > 32 || out->number_of_tuples < 0 ||
        out->number_of_tuples > 32 ||
        (out->tuple_size == 0) != (out->number_of_tuples == 0) ||
        (size_t)(out->tuple_size * out->number_of_tuples) > hexlen ||
        ((size_t)(out->tuple_size * out->number_of_tuples) == hexlen &&
         out->short_object_root)) {
        rc = vl_error_set(err, VL_EINPUT, "layout config tupleSize/numberOfTuples/"
                          "shortObjectRoot break the extension's constraints");
        goto done;
    }
done:
    json_decref(root);
    return rc;
}

char *vl_layout_config_json(const vl_layout *l)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:b}", "extensionName", LAYOUT_NAME,
                          "digestAlgorithm", vl_digest_name(l->alg), "tupleSize",
                          l->tuple_size, "numberOfTuples", l->number_of_tuples,
                          "shortObjectRoot", l->short_object_root);
    if (!o)
        return NULL;
    char *s = vl_json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

char *vl_layout_object_path(const vl_layout *l, const char *id)
{
    char hex[VL_DIGEST_HEX_MAX];
    if (vl_digest_buffer(l->alg, id, strlen(id), hex) != 0)
        return NULL;
    size_t hexlen = strlen(hex);
    size_t used = (size_t)(l->tuple_size * l->number_of_tuples);
    char *out = malloc(used + (size_t)l->number_of_tuples + hexlen + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (int t = 0; t < l->number_of_tuples; t++) {
        memcpy(p, hex + (size_t)(t * l->tuple_size), (size_t)l->tuple_size);
        p += l->tuple_size;
        *p++ = '/';
    }
    const char *tail = l->short_object_root ? hex + used : hex;
    strcpy(p, tail);
    return out;
}
