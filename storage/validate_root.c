/* OCFL validator: a storage root (specification section 4): its
 * conformance declaration, ocfl_layout.json, extensions, and the storage
 * hierarchy down to every object, each validated in turn. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "validate_private.h"

#define LAYOUT_0004 "0004-hashed-n-tuple-storage-layout"
#define LAYOUT_0002 "0002-flat-direct-storage-layout"

typedef struct layout {
    int kind;                /* 0 unknown, 2 flat direct, 4 hashed n-tuple */
    vl_digest_alg alg;
    int tuple_size, tuples, short_root;
} layout;

typedef struct rctx {
    vv_ctx v;                /* root findings */
    layout lay;
    int depth_min, depth_max; /* of object roots */
    int top_level;           /* objects directly under the root */
    vl_error *err;
} rctx;

/* ---- declaration ---------------------------------------------------------- */

static void check_declaration_file(rctx *r, const char *name)
{
    vv_ctx *v = &r->v;
    const char *dvalue = name + 2;
    if (!strcmp(dvalue, "ocfl_1.0"))
        v->spec = VV_SPEC_1_0;
    else if (!strcmp(dvalue, "ocfl_1.1"))
        v->spec = VV_SPEC_1_1;
    else
        vv_report(v, "E079", name,
                  "declaration is not ocfl_ and a known OCFL version");
    vl_buf b;
    vl_buf_init(&b, 0);
    vl_error e = {0};
    if (vl_backend_read_all(v->b, name, 4096, &b, &e) != VL_OK) {
        vv_note(&e);
        vv_report(v, "E080", name, "cannot read the declaration: %s", e.msg);
    } else if (b.len != strlen(dvalue) + 1 || memcmp(b.data, dvalue, b.len - 1)
             || b.data[b.len - 1] != '\n')
        vv_report(v, "E080", name, "content is not '%s' and a newline",
                  dvalue);
    vl_buf_release(&b);
}

static void check_declaration(rctx *r, const vv_list *l)
{
    size_t count = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *n = l->e[i].name;
        if (!strncmp(n, "0=ocfl_", 7) && strncmp(n, "0=ocfl_object_", 14)) {
            count++;
            if (l->e[i].kind != VL_WALK_FILE)
                vv_report(&r->v, "E075", n, "the declaration is not a file");
            else
                check_declaration_file(r, n);
        } else if (isdigit((unsigned char)n[0]) && strstr(n, "=ocfl_") &&
                   strncmp(n, "0=", 2)) {
            vv_report(&r->v, "E078", n, "declaration name must start '0='");
        }
    }
    if (count == 0)
        vv_report(&r->v, "E069", "", "no 0=ocfl_1.x conformance declaration");
    else if (count > 1)
        vv_report(&r->v, "E076", "",
                  "%zu conformance declarations; there must be exactly one",
                  count);
}

/* ---- layout --------------------------------------------------------------- */

static void read_layout_config(rctx *r)
{
    vv_ctx *v = &r->v;
    const char *rel = "extensions/" LAYOUT_0004 "/config.json";
    vl_buf b;
    vl_buf_init(&b, 0);
    vl_error e = {0};
    json_error_t je;
    json_t *j = NULL;
    r->lay = (layout){4, VL_SHA256, 3, 3, 0};
    int kind = 0;
    if (vl_backend_stat(v->b, rel, &kind, NULL, &e) != VL_OK || !kind) {
        vv_note(&e);
        goto done;
    }
    if ((vl_backend_read_all(v->b, rel, VV_SMALL_MAX, &b, &e) != VL_OK &&
         (vv_note(&e) || 1)) ||
        !(j = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &je))) {
        vv_report(v, "E070", rel, "layout configuration is not readable JSON");
        r->lay.kind = 0;
        goto done;
    }
    json_t *a = json_object_get(j, "digestAlgorithm");
    json_t *ts = json_object_get(j, "tupleSize");
    json_t *nt = json_object_get(j, "numberOfTuples");
    json_t *sr = json_object_get(j, "shortObjectRoot");
    vl_digest_alg alg;
    if (a && (!json_is_string(a) ||
              vl_digest_from_name(json_string_value(a), &alg) != 0)) {
        r->lay.kind = 0;   /* an algorithm we cannot compute: skip E083 */
        goto done;
    }
    if (a)
        r->lay.alg = alg;
    if (json_is_integer(ts))
        r->lay.tuple_size = (int)json_integer_value(ts);
    if (json_is_integer(nt))
        r->lay.tuples = (int)json_integer_value(nt);
    if (json_is_boolean(sr))
        r->lay.short_root = json_is_true(sr);
    size_t hex = vl_digest_hex_len(r->lay.alg);
    if (r->lay.tuple_size < 0 || r->lay.tuples < 0 ||
        r->lay.tuple_size > 32 || r->lay.tuples > 32 ||
        (size_t)(r->lay.tuple_size * r->lay.tuples) > hex) {
        vv_report(v, "E070", rel, "layout configuration has bad tuple values");
        r->lay.kind = 0;
    }
done:
    json_decref(j);
    vl_buf_release(&b);
}

static void check_layout_file(rctx *r)
{
    vv_ctx *v = &r->v;
    const char *rel = "ocfl_layout.json";
    vl_buf b;
    vl_buf_init(&b, 0);
    vl_error e = {0};
    json_error_t je;
    json_t *j = NULL;
    if (vl_backend_read_all(v->b, rel, VV_SMALL_MAX, &b, &e) != VL_OK) {
        vv_note(&e);
        vv_report(v, "E070", rel, "cannot read: %s", e.msg);
        goto done;
    }
    if (!(j = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &je)) ||
        !json_is_object(j)) {
        vv_report(v, "E070", rel, "not a JSON object");
        goto done;
    }
    json_t *ext = json_object_get(j, "extension");
    json_t *desc = json_object_get(j, "description");
    if (!json_is_string(ext) || !json_is_string(desc)) {
        vv_report(v, "E070", rel, "must have string keys %s and description",
                  "extension");
        goto done;
    }
    const char *name = json_string_value(ext);
    if (!vv_registered_extension(name))
        vv_report(v, "E071", rel, "extension '%s' is not a registered "
                  "extension name", name);
    else if (!strcmp(name, LAYOUT_0004))
        read_layout_config(r);
    else if (!strcmp(name, LAYOUT_0002))
        r->lay.kind = 2;
done:
    json_decref(j);
    vl_buf_release(&b);
}

static char *layout_path(const layout *l, const char *id)
{
    char hex[VL_DIGEST_HEX_MAX];
    if (l->kind == 2)
        return vl_strdup(id);
    if (vl_digest_buffer(l->alg, id, strlen(id), hex) != 0)
        return NULL;
    vl_buf b;
    vl_buf_init(&b, 0);
    size_t off = 0;
    for (int t = 0; t < l->tuples; t++, off += (size_t)l->tuple_size)
        vl_buf_printf(&b, NULL, "%.*s/", l->tuple_size, hex + off);
    vl_buf_printf(&b, NULL, "%s", l->short_root ? hex + off : hex);
    return vl_buf_detach(&b);
}

/* ---- extensions ------------------------------------------------------------ */

static void check_extensions(rctx *r, int kind)
{
    vv_ctx *v = &r->v;
    vv_list l = {0};
    vl_error e = {0};
    if (kind != VL_WALK_DIR) {
        vv_report(v, "E112|E086", "extensions", "extensions is not a folder");
        return;
    }
    if (vv_list_dir(v->b, "extensions", &l, &e) != VL_OK) {
        vv_report(v, "E112|E086", "extensions", "cannot list: %s", e.msg);
        vv_list_free(&l);
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        char *rel = vv_join("extensions", l.e[i].name);
        if (l.e[i].kind != VL_WALK_DIR)
            vv_report(v, "E112|E086", rel, "not an extension folder");
        else if (!vv_registered_extension(l.e[i].name))
            vv_report(v, "W016|-", rel, "not a registered extension name");
        free(rel);
    }
    vv_list_free(&l);
}

/* ---- hierarchy ------------------------------------------------------------- */

static int is_object_dir(const vv_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strncmp(l->e[i].name, "0=ocfl_object_", 14) &&
            l->e[i].kind == VL_WALK_FILE)
            return 1;
    return 0;
}

/* 1 when an object root is somewhere below rel (stops at the first). */
int vv_tree_has_object(vl_backend *b, const char *rel)
{
    vv_list l;
    vl_error e = {0};
    int found = 0;
    if (vv_list_dir(b, rel, &l, &e) == VL_OK) {
        found = is_object_dir(&l);
        for (size_t i = 0; i < l.n && !found; i++) {
            if (l.e[i].kind != VL_WALK_DIR)
                continue;
            char *c = vv_join(rel, l.e[i].name);
            found = c && vv_tree_has_object(b, c);
            free(c);
        }
    }
    vv_list_free(&l);
    return found;
}

static int run_object(rctx *r, const char *rel, int depth)
{
    vv_ctx ov = {.b = r->v.b, .o = r->v.o, .c = r->v.c, .base = rel,
                 .spec = VV_SPEC_1_1, .alloc_mark = r->v.alloc_mark};
    if (ov.c)
        ov.c->objects++;
    int rc = vv_object_run(&ov, r->err);
    if (rc == VL_OK && ov.spec > r->v.spec)
        vv_report(&ov, "E081", "", "object at %s declares OCFL %s inside a "
                  "%s storage root", rel, vv_spec_name(ov.spec),
                  vv_spec_name(r->v.spec));
    if (rc == VL_OK && r->lay.kind && ov.label) {
        char *want = layout_path(&r->lay, ov.label);
        if (want && strcmp(want, rel))
            vv_report(&ov, "E083", "", "object is at %s but the storage "
                      "layout maps its id to %s", rel, want);
        free(want);
    }
    if (rc == VL_OK)
        vv_object_done(&ov);
    if (depth == 1)
        r->top_level++;
    if (!r->depth_min || depth < r->depth_min)
        r->depth_min = depth;
    if (depth > r->depth_max)
        r->depth_max = depth;
    free(ov.label);
    return rc;
}

static int walk(rctx *r, const char *rel, int depth)
{
    vv_ctx *v = &r->v;
    vv_list l;
    vl_error e = {0};
    int rc = VL_OK, dirs = 0;
    if (vv_list_dir(v->b, rel, &l, &e) != VL_OK) {
        vv_report(v, "E072", rel, "cannot list the folder: %s", e.msg);
        goto done;
    }
    if (is_object_dir(&l)) {
        rc = run_object(r, rel, depth);
        goto done;
    }
    if (l.n == 0) {
        vv_report(v, "E073", rel, "empty folder under the storage root");
        goto done;
    }
    for (size_t i = 0; i < l.n; i++)
        dirs += l.e[i].kind == VL_WALK_DIR;
    for (size_t i = 0; i < l.n && rc == VL_OK; i++) {
        char *c = vv_join(rel, l.e[i].name);
        if (!c) {
            rc = vl_error_oom(r->err);
            break;
        }
        if (l.e[i].kind == VL_WALK_DIR)
            rc = walk(r, c, depth + 1);
        else if (l.e[i].kind == VL_WALK_SYMLINK)
            vv_report(v, "E090", c, "symbolic link in the storage hierarchy");
        else if (dirs)
            vv_report(v, "E084", c, "file in an intermediate folder of the "
                      "storage hierarchy");
        free(c);
    }
    if (rc == VL_OK && !dirs)
        vv_report(v, "E085", rel, "folder holds files but is not an object "
                  "root (no 0=ocfl_object_ declaration)");
done:
    vv_list_free(&l);
    return rc;
}

static int walk_top(rctx *r, const vv_list *l)
{
    vv_ctx *v = &r->v;
    int rc = VL_OK;
    for (size_t i = 0; i < l->n && rc == VL_OK; i++) {
        const char *n = l->e[i].name;
        if (l->e[i].kind == VL_WALK_SYMLINK)
            vv_report(v, "E090", n, "symbolic link in the storage root");
        if (l->e[i].kind != VL_WALK_DIR || !strcmp(n, "extensions"))
            continue;   /* other files are ignored (E087) */
        if (!vv_tree_has_object(v->b, n))
            vv_report(v, "E088", n, "folder in the storage root that holds "
                      "no OCFL object and is not the extensions folder");
        else
            rc = walk(r, n, 1);
    }
    return rc;
}

int vv_root_run(vl_backend *b, const vl_validate_options *o,
                vl_validate_counts *c, vl_error *err)
{
    rctx r = {.v = {.b = b, .o = o, .c = c, .base = "", .spec = VV_SPEC_1_1,
                    .alloc_mark = vl_alloc_failures()},
              .err = err};
    vv_list l;
    int rc = vv_list_dir(b, "", &l, err);
    if (rc != VL_OK)
        goto done;
    check_declaration(&r, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (!strcmp(l.e[i].name, "ocfl_layout.json") &&
            l.e[i].kind == VL_WALK_FILE)
            check_layout_file(&r);
        if (!strcmp(l.e[i].name, "extensions"))
            check_extensions(&r, l.e[i].kind);
    }
    if ((rc = walk_top(&r, &l)) != VL_OK)
        goto done;
    if (r.top_level && r.depth_max > 1)
        vv_report(&r.v, "W015", "", "objects both at the top level and "
                  "deeper in a storage hierarchy");
    else if (r.depth_min > 1 && r.depth_min != r.depth_max)
        vv_report(&r.v, "W014", "", "object roots at depths %d to %d: more "
                  "than one layout pattern", r.depth_min, r.depth_max);
done:
    vv_list_free(&l);
    return vv_finish(&r.v, rc, err);
}
