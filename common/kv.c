/* "key = value" configuration files (vellum.conf).  Insertion order is kept
 * so a saved file reads the same as the one loaded. */
#include "vl_common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KV_MAX_FILE (1u << 20) /* a config file is tiny; refuse anything big */

struct kv_entry {
    char *key;
    char *value;
};

struct vl_kv {
    struct kv_entry *e;
    size_t n, cap;
};

vl_kv *vl_kv_new(void)
{
    return calloc(1, sizeof(vl_kv));
}

void vl_kv_free(vl_kv *kv)
{
    size_t i;

    if (!kv)
        return;
    for (i = 0; i < kv->n; i++) {
        free(kv->e[i].key);
        free(kv->e[i].value);
    }
    free(kv->e);
    free(kv);
}

const char *vl_kv_get(const vl_kv *kv, const char *key)
{
    size_t i;

    for (i = 0; i < kv->n; i++)
        if (strcmp(kv->e[i].key, key) == 0)
            return kv->e[i].value;
    return NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* A key must survive a save/load round trip: no blanks, '=', '#' first, or
 * line breaks; a value may not contain a line break. */
static int key_ok(const char *k)
{
    if (!*k || *k == '#')
        return 0;
    for (; *k; k++)
        if (is_space(*k) || *k == '=' || *k == '\n')
            return 0;
    return 1;
}

int vl_kv_set(vl_kv *kv, const char *key, const char *value)
{
    char *v;
    size_t i;

    if (!key_ok(key) || strchr(value, '\n') || strchr(value, '\r'))
        return VL_EINPUT;
    v = vl_strdup(value);
    if (!v)
        return VL_ESYS;
    for (i = 0; i < kv->n; i++) {
        if (strcmp(kv->e[i].key, key) == 0) {
            free(kv->e[i].value);
            kv->e[i].value = v;
            return VL_OK;
        }
    }
    if (VL_GROW(kv->e, kv->cap, kv->n + 1, NULL) != VL_OK) {
        free(v);
        return VL_ESYS;
    }
    kv->e[kv->n].key = vl_strdup(key);
    if (!kv->e[kv->n].key) {
        free(v);
        return VL_ESYS;
    }
    kv->e[kv->n].value = v;
    kv->n++;
    return VL_OK;
}

int vl_kv_unset(vl_kv *kv, const char *key)
{
    for (size_t i = 0; i < kv->n; i++) {
        if (strcmp(kv->e[i].key, key) == 0) {
            free(kv->e[i].key);
            free(kv->e[i].value);
            memmove(&kv->e[i], &kv->e[i + 1], (kv->n - i - 1) * sizeof *kv->e);
            kv->n--;
            return 1;
        }
    }
    return 0;
}

size_t vl_kv_count(const vl_kv *kv) { return kv->n; }

const char *vl_kv_key_at(const vl_kv *kv, size_t i, const char **value)
{
    if (i >= kv->n)
        return NULL;
    if (value)
        *value = kv->e[i].value;
    return kv->e[i].key;
}

/* Trim blanks at both ends in place. */
static char *trim(char *s)
{
    char *end;

    while (is_space(*s))
        s++;
    end = s + strlen(s);
    while (end > s && is_space(end[-1]))
        *--end = '\0';
    return s;
}

int vl_kv_load(const char *path, vl_kv **out, vl_error *err)
{
    vl_buf buf;
    vl_kv *kv = NULL;
    char *line, *next;
    unsigned lineno = 0;
    int rc;

    *out = NULL;
    rc = vl_fs_read_file(path, KV_MAX_FILE, &buf, err);
    if (rc != VL_OK)
        return rc;
    kv = vl_kv_new();
    if (!kv) {
        errno = ENOMEM;
        rc = vl_error_sys(err, "%s", path);
        goto done;
    }
    for (line = buf.data; line; line = next) {
        char *eq, *key, *value;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        line = trim(line);
        if (*line == '\0' || *line == '#')
            continue;
        eq = strchr(line, '=');
        if (!eq) {
            rc = vl_error_set(err, VL_EINPUT,
                              "%s:%u: malformed line (expected key = value)",
                              path, lineno);
            goto done;
        }
        *eq = '\0';
        key = trim(line);
        value = trim(eq + 1);
        if (!key_ok(key)) {
            rc = vl_error_set(err, VL_EINPUT, "%s:%u: malformed key", path,
                              lineno);
            goto done;
        }
        rc = vl_kv_set(kv, key, value);
        if (rc != VL_OK) {
            rc = vl_error_set(err, rc, "%s:%u: cannot store value", path,
                              lineno);
            goto done;
        }
    }
    *out = kv;
    kv = NULL;
done:
    vl_kv_free(kv);
    vl_buf_release(&buf);
    return rc;
}

int vl_kv_save(const vl_kv *kv, const char *path, vl_error *err)
{
    vl_buf buf;
    size_t i;
    int rc;

    vl_buf_init(&buf, 0);
    rc = vl_buf_printf(&buf, err, "# vellum repository configuration\n");
    for (i = 0; i < kv->n && rc == VL_OK; i++)
        rc = vl_buf_printf(&buf, err, "%s = %s\n", kv->e[i].key,
                           kv->e[i].value);
    if (rc == VL_OK)
        rc = vl_fs_write_atomic(path, buf.data, buf.len, err);
    vl_buf_release(&buf);
    return rc;
}
