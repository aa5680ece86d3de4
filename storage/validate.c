/* OCFL 1.0/1.1 validator: findings, helpers and the public entry points.
 * The checks live in validate_inventory.c (inventory documents),
 * validate_object.c (object roots) and validate_root.c (storage roots). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_private.h"
#include "inventory_private.h"
#include "validate_private.h"

/* ---- findings ---------------------------------------------------------- */

static const char *pick_code(const char *codes, int spec, char out[8])
{
    const char *bar = strchr(codes, '|');
    if (!bar)
        return codes;
    if (spec != VV_SPEC_1_0) {
        size_t n = (size_t)(bar - codes);
        if (n > 7)
            n = 7;
        memcpy(out, codes, n);
        out[n] = '\0';
        return out;
    }
    return strcmp(bar + 1, "-") ? bar + 1 : NULL;
}

static void report(vv_ctx *v, const char *codes, const char *rel,
                   const vv_facts *facts, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void report(vv_ctx *v, const char *codes, const char *rel,
                   const vv_facts *facts, const char *fmt, va_list ap)
{
    char cbuf[8];
    const char *code = pick_code(codes, v->spec, cbuf);
    if (!code || (code[0] == 'W' && v->quiet_warnings) || vv_short(v))
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char *path = vv_join(v->base ? v->base : "", rel ? rel : "");
    char *text = (rel && *rel) ? vl_asprintf("%s: %s", rel, msg) : NULL;
    vl_finding f = {
        .code = code,
        .severity = code[0] == 'W' ? VL_SEV_WARNING : VL_SEV_ERROR,
        .object = v->label ? v->label
                  : (v->base && *v->base ? v->base : "."),
        .path = path ? path : "",
        .message = text ? text : msg,
        .object_root = v->base ? v->base : "",
    };
    if (facts) {
        f.problem = facts->problem;
        f.content_path = facts->content_path;
        f.algorithm = facts->algorithm;
        f.expected = facts->expected;
        f.actual = facts->actual;
    }
    if (f.severity == VL_SEV_ERROR) {
        v->errors++;
        if (v->c)
            v->c->errors++;
    } else if (v->c) {
        v->c->warnings++;
    }
    /* a finding whose path or message could not be made is not given */
    if (v->o && v->o->on_finding && !vv_short(v))
        v->o->on_finding(v->o->arg, &f);
    free(path);
    free(text);
}

int vv_note(const vl_error *e)
{
    if (e->status != VL_ESYS || (e->sys_errno && e->sys_errno != ENOMEM))
        return 0;
    vl_alloc_failed();
    return 1;
}

int vv_short(const vv_ctx *v)
{
    return vl_alloc_failures() != v->alloc_mark;
}

int vv_finish(const vv_ctx *v, int rc, vl_error *err)
{
    if (rc == VL_ESYS || !vv_short(v))
        return rc;
    return vl_error_set(err, VL_ESYS, "validation: out of memory");
}

void vv_object_done(vv_ctx *v)
{
    if (!v->o || !v->o->on_object || vv_short(v))
        return;
    vl_validated_object vo = {
        .object = v->label ? v->label : (v->base && *v->base ? v->base : "."),
        .object_root = v->base ? v->base : "",
    };
    int kind = 0;
    vl_error e = {0};
    char *rel = vv_join(v->base ? v->base : "", VL_INVENTORY_FILE);
    int rc = rel ? vl_backend_stat(v->b, rel, &kind, &vo.inventory_bytes, &e)
                 : vl_error_oom(&e);
    vo.inventory_known = rc == VL_OK && kind == VL_WALK_FILE;
    if (!vo.inventory_known) {
        vo.inventory_bytes = 0;
        vo.unknown_why = rc == VL_OK ? "not there" : e.msg;
    }
    free(rel);
    v->o->on_object(v->o->arg, &vo);
}

void vv_report(vv_ctx *v, const char *codes, const char *rel,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(v, codes, rel, NULL, fmt, ap);
    va_end(ap);
}

void vv_report_facts(vv_ctx *v, const char *codes, const char *rel,
                     const vv_facts *facts, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(v, codes, rel, facts, fmt, ap);
    va_end(ap);
}

/* ---- helpers ------------------------------------------------------------ */

int vv_spec_from_type(const char *type)
{
    if (!type)
        return VV_SPEC_UNKNOWN;
    if (!strcmp(type, VL_OCFL_INVENTORY_TYPE_1_0))
        return VV_SPEC_1_0;
    if (!strcmp(type, VL_OCFL_INVENTORY_TYPE_1_1))
        return VV_SPEC_1_1;
    return VV_SPEC_UNKNOWN;
}

const char *vv_spec_name(int spec)
{
    return spec == VV_SPEC_1_0 ? "1.0" : "1.1";
}

int vv_hex_ok(const char *s, size_t want_len)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]))
            return 0;
    return n > 0 && (want_len == 0 || n == want_len);
}

int vv_uri_ok(const char *s)
{
    if (!isalpha((unsigned char)*s))
        return 0;
    const char *p = s + 1;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p != ':' || !p[1])
        return 0;
    for (p++; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

static int digits(const char *s, int n, int *val)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *val = v;
    return 1;
}

/* RFC 3339 date-time: full-date "T" full-time, seconds required. */
int vv_rfc3339_ok(const char *s)
{
    int y, mo, d, h, mi, se, oh, om;
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
        !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &se))
        return 0;
    (void)y;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return 0;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if ((*p == 'Z' || *p == 'z') && !p[1])
        return 1;
    if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
        digits(p + 4, 2, &om) && !p[6])
        return oh <= 23 && om <= 59;
    return 0;
}

int vv_version_parse(const char *name, long *num, int *pad)
{
    if (name[0] != 'v')
        return -1;
    const char *d = name + 1;
    size_t n = strlen(d);
    if (n == 0 || n > 18)
        return -2;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)d[i]))
            return -2;
    long v = strtol(d, NULL, 10);
    if (v <= 0)
        return -2;
    *num = v;
    *pad = d[0] == '0' ? (int)n : 0;
    return 0;
}

long vv_revision_parse(const char *s, size_t len)
{
    long n = 0;
    if (len < 2 || len > 10 || s[0] != 'r' || s[1] < '1' || s[1] > '9')
        return 0;
    for (size_t i = 1; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        n = n * 10 + (s[i] - '0');
    }
    return n;
}

int vv_registered_extension(const char *name)
{
    static const char *const known[] = {
        "0001-digest-algorithms",
        "0002-flat-direct-storage-layout",
        "0003-hash-and-id-n-tuple-storage-layout",
        "0004-hashed-n-tuple-storage-layout",
        "0005-mutable-head",
        "0006-flat-omit-prefix-storage-layout",
        "0007-n-tuple-omit-prefix-storage-layout",
        "0008-schema-registry",
        "0009-digest-algorithms",
        "0010-differential-n-tuple-omit-prefix-storage-layout",
        "0011-direct-clean-path-layout",
        "0012-hash-and-no-prefix-id-n-tuple-storage-layout",
        "initial",
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i]))
            return 1;
    return 0;
}

int vv_path_shape(const char *p)
{
    size_t n = strlen(p);
    if (n == 0)
        return 2;
    if (p[0] == '/' || p[n - 1] == '/')
        return 1;
    const char *s = p;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || (len == 1 && s[0] == '.') ||
            (len == 2 && s[0] == '.' && s[1] == '.'))
            return 2;
        if (!e)
            return 0;
        s = e + 1;
    }
}

char *vv_join(const char *a, const char *b)
{
    if (!a || !*a)
        return vl_strdup(b ? b : "");
    if (!b || !*b)
        return vl_strdup(a);
    return vl_asprintf("%s/%s", a, b);
}

int vv_read(vv_ctx *v, const char *rel, size_t max, vl_buf *out,
            vl_error *err)
{
    char *p = vv_join(v->base, rel);
    if (!p)
        return vl_error_oom(err);
    int rc = vl_backend_read_all(v->b, p, max, out, err);
    if (rc != VL_OK)
        vv_note(err);
    free(p);
    return rc;
}

int vv_stat(vv_ctx *v, const char *rel, int *kind, vl_error *err)
{
    char *p = vv_join(v->base, rel);
    if (!p)
        return vl_error_oom(err);
    int rc = vl_backend_stat(v->b, p, kind, NULL, err);
    if (rc != VL_OK)
        vv_note(err);
    free(p);
    return rc;
}

static int list_add(void *arg, const char *name, int kind, vl_error *err)
{
    vv_list *l = arg;
    if (VL_GROW(l->e, l->cap, l->n + 1, err) != VL_OK)
        return VL_ESYS;
    if (!(l->e[l->n].name = vl_strdup(name)))
        return vl_error_oom(err);
    l->e[l->n++].kind = kind;
    return VL_OK;
}

int vv_list_dir(vl_backend *b, const char *rel, vv_list *out, vl_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = vl_backend_list(b, rel, list_add, out, err);
    if (rc != VL_OK)
        vv_note(err);
    return rc;
}

void vv_list_free(vv_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->e[i].name);
    free(l->e);
    memset(l, 0, sizeof *l);
}

/* ---- public entry points ------------------------------------------------ */

int vl_validate_object(vl_backend *b, const char *object_rel,
                       const vl_validate_options *o, vl_validate_counts *c,
                       vl_error *err)
{
    vv_ctx v = {.b = b, .o = o, .c = c, .base = object_rel ? object_rel : "",
                .spec = VV_SPEC_1_1, .alloc_mark = vl_alloc_failures()};
    if (c)
        c->objects++;
    int rc = vv_object_run(&v, err);
    if (rc == VL_OK)
        vv_object_done(&v);
    rc = vv_finish(&v, rc, err);
    free(v.label);
    return rc;
}

int vl_validate_storage_root(vl_backend *b, const vl_validate_options *o,
                             vl_validate_counts *c, vl_error *err)
{
    return vv_root_run(b, o, c, err);
}

int vl_validate_inventory_buffer(const char *json, size_t len,
                                 const vl_validate_options *o,
                                 vl_validate_counts *c, vl_error *err)
{
    vv_ctx v = {.o = o, .c = c, .base = "", .spec = VV_SPEC_1_1,
                .alloc_mark = vl_alloc_failures()};
    vv_db db;
    vv_inv inv;
    vv_inventory_init(&inv);
    int rc = vv_db_open(&db, err);
    if (rc)
        return vv_finish(&v, rc, err);
    v.db = &db;
    if ((rc = vv_inventory_load(&v, &inv, json, len, err)) == VL_OK) {
        int spec = vv_spec_from_type(
            json_string_value(json_object_get(inv.root, "type")));
        if (spec != VV_SPEC_UNKNOWN)
            v.spec = spec;
        rc = vv_inventory_check(&v, VL_INVENTORY_FILE, VV_SPEC_UNKNOWN, &inv,
                                err);
    }
    vv_db_close(&db);   /* its rows go with it */
    vv_inventory_free(&inv);
    return vv_finish(&v, rc, err);
}

/* What a folder given by path holds: 1 an object, 2 a storage root.
 * Declarations decide (0=ocfl_object_ an object; 0=ocfl_ or
 * ocfl_layout.json a storage root); without one, an inventory, a sidecar
 * or a version folder makes it an object missing its declaration, objects
 * somewhere below make it a storage root missing its declaration, and
 * anything else (an empty folder too) is an object missing its
 * declaration and its inventory. */
static int path_kind(vl_backend *b, const vv_list *l)
{
    int root = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *n = l->e[i].name;
        if (!strncmp(n, "0=ocfl_object_", 14))
            return 1;
        if (!strncmp(n, "0=ocfl_", 7) || !strcmp(n, "ocfl_layout.json"))
            root = 1;
    }
    if (root)
        return 2;
    for (size_t i = 0; i < l->n; i++) {
        const char *n = l->e[i].name;
        long num;
        int pad;
        if (!strcmp(n, "inventory.json") ||
            !strncmp(n, "inventory.json.", 15) ||
            (l->e[i].kind == VL_WALK_DIR && !vv_version_parse(n, &num, &pad)))
            return 1;
    }
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].kind == VL_WALK_DIR && vv_tree_has_object(b, l->e[i].name))
            return 2;
    return 1;
}

int vl_validate_path(const char *dir, const vl_validate_options *o,
                     vl_validate_counts *c, vl_error *err)
{
    int rc = VL_OK, kind = 0;
    vv_list l = {0};
    vl_backend *b = NULL;
    if (vl_backend_is_s3_url(dir)) {
        /* endpoint and credentials from the environment */
        if ((rc = vl_backend_s3_open(dir, NULL, NULL, &b, err)) != VL_OK)
            return rc;
    } else if (!(b = vl_backend_fs_new(dir))) {
        return vl_error_oom(err);
    }
    if ((rc = vl_backend_stat(b, "", &kind, NULL, err)) != VL_OK)
        goto done;
    if (kind == 0) {
        rc = vl_error_set(err, VL_EINPUT, "%s does not exist", dir);
        goto done;
    }
    if (kind != VL_WALK_DIR) {
        rc = vl_error_set(err, VL_EINPUT, "%s is not a folder, so not an "
                          "OCFL storage root or object", dir);
        goto done;
    }
    if ((rc = vv_list_dir(b, "", &l, err)) != VL_OK)
        goto done;
    if (!l.n && !b->atomic_put) {
        rc = vl_error_set(err, VL_EINPUT, "%s holds nothing, so no OCFL storage "
                          "root or object", dir);
        goto done;
    }
    if (path_kind(b, &l) == 2)
        rc = vl_validate_storage_root(b, o, c, err);
    else
        rc = vl_validate_object(b, "", o, c, err);
done:
    vv_list_free(&l);
    vl_backend_free(b);
    return rc;
}
