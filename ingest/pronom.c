/* The PRONOM engine: the signature file (compiled, or from the cache),
 * the container signatures, and identification of one file by DROID's
 * rules: byte signatures, containers for trigger formats, priorities,
 * then the extension (alone when no signature matched, as a check when
 * one did). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pronom_internal.h"

#define CAND_MAX 64

struct vl_pronom {
    vl_pronom_sigfile *f;
    vl_pronom_matcher *m;
    vl_pronom_containers *c;
};

void vl_pronom_close(vl_pronom *p)
{
    if (!p)
        return;
    vl_pronom_matcher_free(p->m);
    vl_pronom_sigfile_free(p->f);
    if (p->c)
        vl_pronom_containers_free(p->c);
    free(p);
}

int vl_pronom_open(const vl_pronom_options *o, vl_pronom **out,
                   vl_error *err)
{
    vl_pronom *p = NULL;
    char key[65] = "";
    int rc = VL_ESYS;

    *out = NULL;
    if (!o || !o->signatures) {
        rc = vl_error_set(err, VL_EINPUT, "PRONOM: no signature file given");
        goto done;
    }
    if (!(p = calloc(1, sizeof *p))) {
        rc = vl_error_sys(err, "PRONOM");
        goto done;
    }
    if (o->cache_dir) {
        vl_error ignored = {0};
        if ((rc = vl_pronom_cache_key_remembered(o->cache_dir, o->signatures,
                                                 o->containers, key, err))
            != VL_OK)
            goto done;
        /* Any cache problem means: compile from the XML again. */
        if (vl_pronom_cache_read(o->cache_dir, key, &p->f, &ignored) != VL_OK)
            p->f = NULL;
    }
    if (!p->f) {
        if ((rc = vl_pronom_sigfile_load(o->signatures, &p->f, err)) != VL_OK)
            goto done;
        if (o->cache_dir) {
            vl_error ignored = {0};
            /* A cache that cannot be written only costs time later. */
            (void)vl_pronom_cache_write(o->cache_dir, key, &p->f, &ignored);
        }
        /* The cache's copy did not read back (a bug, or no memory): what
         * the XML gives is still right. */
        if (!p->f &&
            (rc = vl_pronom_sigfile_load(o->signatures, &p->f, err)) != VL_OK)
            goto done;
    }
    if ((rc = vl_pronom_matcher_new(p->f, &p->m, err)) != VL_OK)
        goto done;
    if (o->containers &&
        (rc = vl_pronom_containers_load(o->containers, &p->c, err)) != VL_OK)
        goto done;
    *out = p;
    p = NULL;
    rc = VL_OK;
done:
    vl_pronom_close(p);
    return rc;
}

const char *vl_pronom_signature_version(const vl_pronom *p)
{
    return p && p->f && p->f->version ? p->f->version : "";
}

const char *vl_pronom_container_version(const vl_pronom *p)
{
    const char *v = p && p->c ? vl_pronom_containers_version(p->c) : NULL;
    return v ? v : "";
}

size_t vl_pronom_bof_bytes(const vl_pronom *p)
{
    return vl_pronom_matcher_bof_bytes(p->m);
}

size_t vl_pronom_eof_bytes(const vl_pronom *p)
{
    return vl_pronom_matcher_eof_bytes(p->m);
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void fill(const vl_pronom *p, vl_pronom_match *m, size_t fmt,
                 const char *puid, int kind, const char *basis)
{
    memset(m, 0, sizeof *m);
    if (fmt != SIZE_MAX) {
        const vl_pronom_format *f = &p->f->fmts[fmt];
        copy_text(m->puid, sizeof m->puid, f->puid);
        copy_text(m->name, sizeof m->name, f->name);
        copy_text(m->version, sizeof m->version, f->version);
        copy_text(m->mime, sizeof m->mime, f->mime);
    } else {
        copy_text(m->puid, sizeof m->puid, puid);
    }
    m->basis_kind = kind;
    copy_text(m->basis, sizeof m->basis, basis);
}

/* The extension of name, lower case, into out ("" when none). */
static void name_ext(const char *name, char *out, size_t cap)
{
    const char *base, *dot;
    size_t n = 0;
    out[0] = '\0';
    if (!name)
        return;
    base = strrchr(name, '/');
    base = base ? base + 1 : name;
    dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1])
        return;
    for (dot++; *dot && n + 1 < cap; dot++)
        out[n++] = (char)(*dot >= 'A' && *dot <= 'Z' ? *dot + 32 : *dot);
    out[n] = '\0';
}

static void add_warning(vl_pronom_result *res, const char *w)
{
    size_t used = strlen(res->warning);
    snprintf(res->warning + used, sizeof res->warning - used, "%s%s",
             used ? "; " : "", w);
}

int vl_pronom_identify(const vl_pronom *p, const uint8_t *bof, size_t boflen,
                       const uint8_t *eof, size_t eoflen, uint64_t size,
                       const char *name, const char *path,
                       vl_pronom_result *res, vl_error *err)
{
    size_t fmt[CAND_MAX], n = 0;
    int kind[CAND_MAX];
    char (*basis)[256] = NULL;
    char ext[64];
    int rc = VL_ESYS;

    memset(res, 0, sizeof *res);
    /* Uninitialised on purpose: only the first n entries are read. */
    if (!(basis = malloc(CAND_MAX * sizeof *basis))) {
        rc = vl_error_sys(err, "PRONOM identification");
        goto done;
    }
    if ((rc = vl_pronom_matcher_run(p->m, bof, boflen, eof, eoflen, size,
                                    fmt, basis, CAND_MAX, &n)) != VL_OK) {
        rc = vl_error_sys(err, "PRONOM identification");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        kind[i] = VL_PRONOM_BASIS_SIGNATURE;

    /* Containers: a trigger format's match is replaced by what the
     * container signatures find inside the file, when they find anything. */
    if (p->c && path) {
        size_t n0 = n;
        for (size_t i = 0; i < n0; i++) {
            char puids[CAND_MAX][32], cb[CAND_MAX][256];
            size_t nc = 0;
            vl_error e2 = {0};
            int type = vl_pronom_containers_trigger(p->c,
                                                    p->f->fmts[fmt[i]].puid);
            if (!type || kind[i] != VL_PRONOM_BASIS_SIGNATURE)
                continue;
            rc = vl_pronom_containers_match(p->c, type, path, puids, cb,
                                            CAND_MAX, &nc, &e2);
            if (rc != VL_OK) {
                char w[200];
                snprintf(w, sizeof w, "container not readable: %.150s",
                         e2.msg);
                add_warning(res, w);
                continue;
            }
            for (size_t k = 0; k < nc; k++) {
                size_t f = vl_pronom_matcher_by_puid(p->m, puids[k]);
                size_t slot = k == 0 ? i : n;
                if (f == SIZE_MAX || (k > 0 && n == CAND_MAX))
                    continue;
                fmt[slot] = f;
                kind[slot] = VL_PRONOM_BASIS_CONTAINER;
                memcpy(basis[slot], cb[k], sizeof basis[0]);
                if (slot == n)
                    n++;
            }
        }
        rc = VL_OK;
        {
            /* Priorities again, now among the container formats too; the
             * basis kind travels with its format. */
            size_t idx[CAND_MAX];
            char (*b2)[256] = basis;
            size_t m = n;
            for (size_t i = 0; i < n; i++)
                idx[i] = fmt[i];
            vl_pronom_matcher_prioritise(p->m, idx, NULL, &m);
            for (size_t i = 0, w = 0; i < n && w < m; i++) {
                if (fmt[i] != idx[w])
                    continue;
                fmt[w] = fmt[i];
                kind[w] = kind[i];
                if (w != i)
                    memcpy(b2[w], b2[i], sizeof b2[0]);
                w++;
            }
            n = m;
        }
    }

    name_ext(name, ext, sizeof ext);
    if (n == 0 && ext[0]) {
        size_t e[CAND_MAX];
        size_t ne = vl_pronom_matcher_by_ext(p->m, ext, e, CAND_MAX);
        for (size_t i = 0; i < ne; i++) {
            fmt[n] = e[i];
            kind[n] = VL_PRONOM_BASIS_EXTENSION;
            snprintf(basis[n], sizeof basis[0], "extension match %s", ext);
            n++;
        }
    } else if (n > 0 && name) {
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++) {
            const vl_pronom_format *f = &p->f->fmts[fmt[i]];
            for (size_t k = 0; k < f->next && !seen; k++)
                seen = strcmp(f->ext[k], ext) == 0;
        }
        if (!seen)
            add_warning(res, "extension mismatch");
    }
    if (n > 1) {
        char w[64];
        snprintf(w, sizeof w, "%zu formats match", n);
        add_warning(res, w);
    }
    res->n = n < VL_PRONOM_MAX_MATCHES ? n : VL_PRONOM_MAX_MATCHES;
    for (size_t i = 0; i < res->n; i++)
        fill(p, &res->m[i], fmt[i], NULL, kind[i], basis[i]);
    rc = VL_OK;
done:
    free(basis);
    return rc;
}
