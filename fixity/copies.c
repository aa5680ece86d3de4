/* Copies of every object: the primary's store and each replica.  Which
 * copies an audit covers, and, from the catalog, each object's copies with
 * whether each is verified (its last audit passed within the interval and
 * it holds the primary's head), for `audit --status` and reports. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit_private.h"
#include "vl_json.h"

#define DAY 86400
#define MAX_MIN_COPIES 100

void vl_copy_names_free(vl_copy_names *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i]);
        free(c->loc[i]);
    }
    free(c->v);
    free(c->loc);
    memset(c, 0, sizeof *c);
}

static int names_add(vl_copy_names *c, const char *name, const char *loc)
{
    char **v = realloc(c->v, (c->n + 1) * sizeof *v);
    if (!v)
        return VL_ESYS;
    c->v = v;
    char **l = realloc(c->loc, (c->n + 1) * sizeof *l);
    if (!l)
        return VL_ESYS;
    c->loc = l;
    c->v[c->n] = vl_strdup(name);
    c->loc[c->n] = loc ? vl_strdup(loc) : NULL;
    if (!c->v[c->n] || (loc && !c->loc[c->n])) {
        free(c->v[c->n]);
        free(c->loc[c->n]);
        return VL_ESYS;
    }
    c->n++;
    return VL_OK;
}

typedef struct list_ctx {
    vl_copy_names *out;
    int failed;
} list_ctx;

static int on_replica(void *arg, const vl_replica_info *ri)
{
    list_ctx *c = arg;
    if (names_add(c->out, ri->name, ri->location) != VL_OK) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

int vl_copy_names_all(vl_repo *r, vl_copy_names *out, vl_error *err)
{
    list_ctx c = {out, 0};
    char *store = vl_path_join(vl_repo_dir(r), "store");
    int rc = VL_OK;
    memset(out, 0, sizeof *out);
    if (!store || names_add(out, VL_PRIMARY_COPY, store) != VL_OK) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_replica_list(r, on_replica, &c, err)) == VL_OK && c.failed)
        rc = vl_error_oom(err);
done:
    free(store);
    if (rc != VL_OK)
        vl_copy_names_free(out);
    return rc;
}

int vl_audit_copy_names(vl_repo *r, const vl_audit_options *o,
                        vl_copy_names *out, vl_error *err)
{
    vl_copy_names all = {0};
    int rc;
    memset(out, 0, sizeof *out);
    if (!o || (!o->all_copies && !o->ncopies))
        return VL_OK;
    if ((rc = vl_copy_names_all(r, &all, err)) != VL_OK)
        return rc;
    for (size_t i = 0; i < o->ncopies; i++) {
        size_t j = 0;
        while (j < all.n && strcmp(all.v[j], o->copies[i]))
            j++;
        if (j == all.n) {
            vl_buf names;
            vl_buf_init(&names, 0);
            for (size_t k = 1; k < all.n; k++)
                vl_buf_printf(&names, NULL, "%s%s", k > 1 ? ", " : "",
                              all.v[k]);
            rc = vl_error_set(err, VL_EINPUT, "no replica named \"%s\" (%s%s)",
                              o->copies[i],
                              all.n > 1 ? "replicas: " : "the repository has "
                                                         "no replica",
                              all.n > 1 && names.data ? names.data : "");
            vl_buf_release(&names);
            goto done;
        }
    }
    /* In the canonical order (primary, then replicas by name), each once. */
    for (size_t j = 0; j < all.n; j++) {
        int want = o->all_copies;
        for (size_t i = 0; i < o->ncopies && !want; i++)
            want = !strcmp(all.v[j], o->copies[i]);
        if (want && names_add(out, all.v[j], all.loc[j]) != VL_OK) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
done:
    vl_copy_names_free(&all);
    if (rc != VL_OK)
        vl_copy_names_free(out);
    return rc;
}

/* ---- settings ---------------------------------------------------------- */

int vl_copies_min_parse(const char *s, int *out)
{
    char *end;
    long v;
    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 1 || v > MAX_MIN_COPIES)
        return -1;
    *out = (int)v;
    return 0;
}

int vl_copies_min(vl_repo *r, int *out, vl_error *err)
{
    const char *v = vl_repo_config_get(r, "replicate.min_copies");
    *out = vl_replica_count(r) > 0 ? 2 : 1;
    if (v && *v && vl_copies_min_parse(v, out) != 0)
        return vl_error_set(err, VL_EINPUT, "replicate.min_copies '%s' is not "
                            "a number of copies (1-%d)", v, MAX_MIN_COPIES);
    return VL_OK;
}

/* ---- each object's copies ------------------------------------------------ */

typedef struct oc_ctx {
    const vl_copy_names *names;
    vl_object_copies_fn fn;
    void *arg;
    int64_t cutoff;
    vl_copy_state *st;             /* [names->n]; strings owned */
    char *object_id;
    int head;
    size_t got;
    int oom;
} oc_ctx;

static void states_clear(oc_ctx *c)
{
    for (size_t i = 0; i < c->got; i++) {
        free((char *)c->st[i].verified);
        free((char *)c->st[i].outcome);
        free((char *)c->st[i].state);
        free((char *)c->st[i].failures_json);
    }
    memset(c->st, 0, c->names->n * sizeof *c->st);
    free(c->object_id);
    c->object_id = NULL;
    c->got = 0;
}

static char *dup_opt(const char *s, int *oom)
{
    char *d = s ? vl_strdup(s) : NULL;
    if (s && !d)
        *oom = 1;
    return d;
}

/* Rows come object by object, one per copy name in order. */
static int on_copy_row(void *arg, const vl_report_copy_row *row)
{
    oc_ctx *c = arg;
    const char *id = row->object_id ? row->object_id : "";
    int64_t t;
    if (c->got && strcmp(c->object_id, id))
        states_clear(c);   /* never expected: a short group is dropped */
    if (!c->got) {
        if (!(c->object_id = vl_strdup(id))) {
            c->oom = 1;
            return VL_ESYS;
        }
        c->head = row->head;
    }
    vl_copy_state *s = &c->st[c->got++];
    int primary = c->got == 1;
    s->copy = c->names->v[c->got - 1];
    s->version = row->version;
    s->verified = dup_opt(row->verified, &c->oom);
    s->outcome = dup_opt(row->outcome, &c->oom);
    s->state = dup_opt(row->state, &c->oom);
    s->failures_json = dup_opt(row->failures_json, &c->oom);
    if (c->oom)
        return VL_ESYS;
    s->recent = row->verified && vl_time_parse(row->verified, &t) == 0 &&
                t > c->cutoff;
    s->behind = !primary && (row->version <= 0 || row->version < row->head);
    s->good = s->recent && row->outcome && !strcmp(row->outcome, "pass") &&
              !s->behind;
    if (c->got < c->names->n)
        return 0;
    vl_object_copies oc = {.object_id = c->object_id, .head = c->head,
                           .ncopies = c->names->n, .copies = c->st};
    for (size_t i = 0; i < oc.ncopies; i++) {
        oc.verified += c->st[i].good;
        oc.failed += c->st[i].outcome && strcmp(c->st[i].outcome, "pass");
        oc.behind += c->st[i].behind;
    }
    int rc = c->fn(c->arg, &oc);
    states_clear(c);
    return rc;
}

/* The same, for names already listed (primary first). */
int vl_audit_copies_of(vl_repo *r, const vl_copy_names *names,
                       vl_object_copies_fn fn, void *arg, vl_error *err)
{
    oc_ctx c = {.names = names, .fn = fn, .arg = arg};
    json_t *a = json_array();
    char *js = NULL;
    int days, rc;
    uint64_t mb;
    double ms;
    if ((rc = vl_audit_config(r, &days, &mb, &ms, err)) != VL_OK)
        goto done;
    c.cutoff = vl_time_now() - (int64_t)days * DAY;
    if (!a || !(c.st = calloc(names->n ? names->n : 1, sizeof *c.st))) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < names->n; i++)
        if (json_array_append_new(a, json_string(names->v[i])) != 0) {
            rc = vl_error_oom(err);
            goto done;
        }
    if (!(js = vl_json_dumps(a, JSON_COMPACT))) {
        rc = vl_error_oom(err);
        goto done;
    }
    rc = vl_catalog_report_copies(vl_repo_catalog(r), js, on_copy_row, &c, err);
    if (rc != VL_OK && c.oom)
        rc = vl_error_oom(err);
done:
    if (c.st)
        states_clear(&c);
    free(c.st);
    free(js);
    json_decref(a);
    return rc;
}

int vl_audit_copies(vl_repo *r, vl_object_copies_fn fn, void *arg,
                    vl_error *err)
{
    vl_copy_names names;
    int rc = vl_copy_names_all(r, &names, err);
    if (rc != VL_OK)
        return rc;
    rc = vl_audit_copies_of(r, &names, fn, arg, err);
    vl_copy_names_free(&names);
    return rc;
}

/* ---- totals per copy ----------------------------------------------------- */

typedef struct totals_ctx {
    vl_copy_status *t;            /* [ncopies] */
} totals_ctx;

static int add_totals(void *arg, const vl_object_copies *oc)
{
    totals_ctx *c = arg;
    for (size_t i = 0; i < oc->ncopies; i++) {
        const vl_copy_state *s = &oc->copies[i];
        vl_copy_status *t = &c->t[i];
        t->objects++;
        t->verified += s->good;
        t->within_interval += s->recent;
        t->failed += s->outcome && strcmp(s->outcome, "pass");
        t->never += !s->verified;
        t->behind += s->behind;
    }
    return 0;
}

int vl_audit_copy_status(vl_repo *r, vl_copy_status_fn fn, void *arg,
                         vl_error *err)
{
    vl_copy_names names;
    totals_ctx c = {NULL};
    int rc = vl_copy_names_all(r, &names, err);
    if (rc != VL_OK)
        return rc;
    if (!(c.t = calloc(names.n, sizeof *c.t))) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < names.n; i++) {
        c.t[i].name = names.v[i];
        c.t[i].location = names.loc[i];
    }
    if ((rc = vl_audit_copies_of(r, &names, add_totals, &c, err)) != VL_OK)
        goto done;
    for (size_t i = 0; i < names.n; i++)
        fn(arg, &c.t[i]);
done:
    free(c.t);
    vl_copy_names_free(&names);
    return rc;
}
