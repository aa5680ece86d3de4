/* The DROID signature file (DROID_SignatureFile_V*.xml): its
 * InternalSignatures, compiled, and its FileFormats.
 *
 * Read with libxml2 from memory: no network, no entity substitution, and
 * a DOCTYPE declaring entities is refused outright (the real files have no
 * DOCTYPE).  Elements and attributes the engine does not know are skipped,
 * so that later versions of the file load. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "pronom_internal.h"

#define SIGFILE_MAX ((size_t)256 * 1024 * 1024)

typedef struct sf_state {
    int failed;
    char msg[512];
} sf_state;

static void on_entity_decl(void *ctx, const xmlChar *name, int type,
                           const xmlChar *pub, const xmlChar *sys,
                           xmlChar *content)
{
    xmlParserCtxtPtr c = ctx;
    sf_state *st = c->_private;
    if (!st->failed)
        snprintf(st->msg, sizeof st->msg, "entity declarations are refused");
    st->failed = 1;
    xmlStopParser(c);
}

#if LIBXML_VERSION >= 21200
static void on_error(void *data, const xmlError *e)
#else
static void on_error(void *data, xmlErrorPtr e)
#endif
{
    xmlParserCtxtPtr c = data;
    sf_state *st = c ? c->_private : NULL;
    size_t n;
    if (!st || !e || e->level < XML_ERR_ERROR || st->failed)
        return;
    snprintf(st->msg, sizeof st->msg, "line %d: %s", e->line,
             e->message ? e->message : "XML error");
    n = strlen(st->msg);
    while (n > 0 && (st->msg[n - 1] == '\n' || st->msg[n - 1] == ' '))
        st->msg[--n] = '\0';
    st->failed = 1;
}

static void format_clear(vl_pronom_format *f)
{
    free(f->puid);
    free(f->name);
    free(f->version);
    free(f->mime);
    for (size_t i = 0; i < f->next; i++)
        free(f->ext[i]);
    free(f->ext);
    free(f->sig);
    free(f->prio);
}

void vl_pronom_sigfile_free(vl_pronom_sigfile *f)
{
    if (!f)
        return;
    if (f->arena) {   /* loaded from the cache: one arena holds it all */
        vl_pronom_arena_free(f->arena);
        free(f);
        return;
    }
    for (size_t i = 0; i < f->nsig; i++)
        vl_pronom_sig_free(f->sigs[i]);
    free(f->sigs);
    for (size_t i = 0; i < f->nfmt; i++)
        format_clear(&f->fmts[i]);
    free(f->fmts);
    free(f->version);
    free(f);
}

static int is_el(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name &&
           strcmp((const char *)n->name, name) == 0;
}

/* A malloc'd copy of an attribute, "" when absent; NULL on no memory. */
static char *attr_dup(const xmlNode *n, const char *name)
{
    xmlChar *a = xmlGetProp(n, (const xmlChar *)name);
    char *s = vl_strdup(a ? (const char *)a : "");
    xmlFree(a);
    return s;
}

/* Text content as an int; -1 when not a plain non-negative number. */
static int content_int(const xmlNode *n)
{
    xmlChar *t = xmlNodeGetContent(n);
    long v = -1;
    if (t) {
        char *end;
        const char *p = (const char *)t;
        while (isspace((unsigned char)*p))
            p++;
        if (*p >= '0' && *p <= '9') {
            v = strtol(p, &end, 10);
            while (isspace((unsigned char)*end))
                end++;
            if (*end || v > INT_MAX)
                v = -1;
        }
    }
    xmlFree(t);
    return (int)v;
}

static int push_int(int **list, size_t *n, int v)
{
    int *x = realloc(*list, (*n + 1) * sizeof *x);
    if (!x)
        return -1;
    x[(*n)++] = v;
    *list = x;
    return 0;
}

static int read_format(const xmlNode *n, vl_pronom_format *f,
                       const char *name, vl_error *err)
{
    char *id = NULL, *mime = NULL;
    int rc = VL_ESYS;

    memset(f, 0, sizeof *f);
    if (!(id = attr_dup(n, "ID")) || !(f->puid = attr_dup(n, "PUID")) ||
        !(f->name = attr_dup(n, "Name")) ||
        !(f->version = attr_dup(n, "Version")) ||
        !(mime = attr_dup(n, "MIMEType")))
        goto nomem;
    {
        char *end;
        long v = strtol(id, &end, 10);
        if (!*id || *end || v < 0 || v > INT_MAX) {
            rc = vl_error_set(err, VL_EINPUT, "%s: FileFormat without a "
                              "valid ID (PUID \"%.40s\")", name, f->puid);
            goto done;
        }
        f->id = (int)v;
    }
    /* PRONOM lists several MIME types as "a, b": the first is kept. */
    mime[strcspn(mime, ",")] = '\0';
    for (size_t k = strlen(mime); k > 0 && mime[k - 1] == ' '; k--)
        mime[k - 1] = '\0';
    f->mime = mime;
    mime = NULL;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (is_el(c, "InternalSignatureID") ||
            is_el(c, "HasPriorityOverFileFormatID")) {
            int v = content_int(c);
            int sig = is_el(c, "InternalSignatureID");
            if (v < 0) {
                rc = vl_error_set(err, VL_EINPUT, "%s: FileFormat %d: bad "
                                  "%s", name, f->id, (const char *)c->name);
                goto done;
            }
            if (push_int(sig ? &f->sig : &f->prio, sig ? &f->nsig : &f->nprio,
                         v) != 0)
                goto nomem;
        } else if (is_el(c, "Extension")) {
            xmlChar *t = xmlNodeGetContent(c);
            char **x = realloc(f->ext, (f->next + 1) * sizeof *x);
            char *e;
            if (!x) {
                xmlFree(t);
                goto nomem;
            }
            f->ext = x;
            e = vl_strdup(t ? (const char *)t : "");
            xmlFree(t);
            if (!e)
                goto nomem;
            for (char *p = e; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            f->ext[f->next++] = e;
        }
    }
    rc = VL_OK;
    goto done;
nomem:
    rc = vl_error_sys(err, "%s", name);
done:
    free(id);
    free(mime);
    return rc;
}

static int read_doc(xmlDocPtr doc, const char *name, vl_pronom_sigfile *f,
                    vl_error *err)
{
    const xmlNode *root = xmlDocGetRootElement(doc);
    char *v;
    int rc;

    if (!root || !is_el(root, "FFSignatureFile"))
        return vl_error_set(err, VL_EINPUT, "%s: not a DROID signature file "
                            "(no FFSignatureFile element)", name);
    if (!(v = attr_dup(root, "Version")))
        return vl_error_sys(err, "%s", name);
    f->version = vl_asprintf("%s%s", *v ? "V" : "", v);
    free(v);
    if (!f->version)
        return vl_error_sys(err, "%s", name);
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (is_el(c, "InternalSignatureCollection")) {
            for (const xmlNode *s = c->children; s; s = s->next) {
                vl_pronom_sig *sig;
                vl_pronom_sig **x;
                vl_error e2 = {0};
                if (!is_el(s, "InternalSignature"))
                    continue;
                if ((rc = vl_pronom_sig_from_xml(s, &sig, &e2)) != VL_OK)
                    return vl_error_set(err, rc, "%s: %s", name, e2.msg);
                if (!(x = realloc(f->sigs, (f->nsig + 1) * sizeof *x))) {
                    vl_pronom_sig_free(sig);
                    return vl_error_sys(err, "%s", name);
                }
                f->sigs = x;
                f->sigs[f->nsig++] = sig;
            }
        } else if (is_el(c, "FileFormatCollection")) {
            for (const xmlNode *s = c->children; s; s = s->next) {
                vl_pronom_format *x;
                if (!is_el(s, "FileFormat"))
                    continue;
                if (!(x = realloc(f->fmts, (f->nfmt + 1) * sizeof *x)))
                    return vl_error_sys(err, "%s", name);
                f->fmts = x;
                if ((rc = read_format(s, &f->fmts[f->nfmt], name, err))
                    != VL_OK) {
                    format_clear(&f->fmts[f->nfmt]);
                    return rc;
                }
                f->nfmt++;
            }
        }
    }
    return VL_OK;
}

int vl_pronom_sigfile_load_memory(const char *name, const char *data,
                                  size_t len, vl_pronom_sigfile **out,
                                  vl_error *err)
{
    sf_state st = {0};
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    vl_pronom_sigfile *f = NULL;
    xmlStructuredErrorFunc saved_fn;
    void *saved_ctx;
    int rc = VL_ESYS;

    *out = NULL;
    if (len > INT_MAX) {
        rc = vl_error_set(err, VL_EINPUT, "%s: too large", name);
        goto done;
    }
    xmlInitParser();
    if (!(ctxt = xmlNewParserCtxt()) || !(f = calloc(1, sizeof *f))) {
        rc = vl_error_sys(err, "%s", name);
        goto done;
    }
    ctxt->_private = &st;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->serror = on_error;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    saved_fn = xmlStructuredError;
    saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(ctxt, on_error);
    doc = xmlCtxtReadMemory(ctxt, data, (int)len, name, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
    xmlSetStructuredErrorFunc(saved_ctx, saved_fn);
    if (st.failed || !doc || !ctxt->wellFormed) {
        rc = vl_error_set(err, VL_EINPUT, "%s: %s", name,
                          st.failed ? st.msg : "not well-formed XML");
        goto done;
    }
    if ((rc = read_doc(doc, name, f, err)) != VL_OK)
        goto done;
    *out = f;
    f = NULL;
    rc = VL_OK;
done:
    vl_pronom_sigfile_free(f);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

int vl_pronom_sigfile_load(const char *path, vl_pronom_sigfile **out,
                           vl_error *err)
{
    vl_buf b;
    char *shown = vl_name_shorten(path, VL_NAME_SHOWN_MAX);
    int rc;

    *out = NULL;
    vl_buf_init(&b, SIGFILE_MAX);
    if ((rc = vl_fs_read_file(path, SIGFILE_MAX, &b, err)) != VL_OK)
        goto done;
    rc = vl_pronom_sigfile_load_memory(shown ? shown : path,
                                       b.data ? b.data : "", b.len, out, err);
done:
    vl_buf_release(&b);
    free(shown);
    return rc;
}
