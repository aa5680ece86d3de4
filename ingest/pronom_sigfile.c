/* The DROID signature file (DROID_SignatureFile_V*.xml): its
 * InternalSignatures, compiled, and its FileFormats.
 *
 * Read with libxml2 as a stream: no network, no entity substitution, and
 * a DOCTYPE declaring entities is refused outright (the real files have no
 * DOCTYPE).  Only one InternalSignature or FileFormat is ever in memory as
 * a tree: each is compiled at its end tag and freed (see on_end_element),
 * so a first run (no cache yet) stays within vellum's memory budget; the
 * whole document as a DOM took some 40 MB for the 3.6 MB V122 file.  Elements and attributes the engine does not know are skipped,
 * so that later versions of the file load. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "pronom_internal.h"

#define SIGFILE_MAX ((size_t)256 * 1024 * 1024)

typedef struct sf_state {
    const char *name;       /* the file, as messages show it */
    int failed;             /* an XML error or refusal: msg says which */
    char msg[512];
    /* The input: fd (when >= 0) or data[pos..len). */
    int fd;
    const char *data;
    size_t len, pos;
    int io_failed;          /* fd could not be read: io_err says why */
    vl_error io_err;
    /* What is being built, and the first error in building it. */
    vl_pronom_sigfile *f;
    size_t sig_cap, fmt_cap;
    int build_rc;
    vl_error build_err;
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

/* <!ENTITY x SYSTEM "..." NDATA n> is a declaration too. */
static void on_unparsed_entity_decl(void *ctx, const xmlChar *name,
                                    const xmlChar *pub, const xmlChar *sys,
                                    const xmlChar *notation)
{
    on_entity_decl(ctx, name, 0, pub, sys, NULL);
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
    rc = vl_error_oom(err);
done:
    free(id);
    free(mime);
    return rc;
}

/* Appends one compiled InternalSignature; arrays grow by doubling so
 * that thousands of them cost few reallocations. */
static int add_sig(const xmlNode *n, sf_state *st, vl_error *err)
{
    vl_pronom_sigfile *f = st->f;
    vl_pronom_sig *sig;
    vl_error e2 = {0};
    int rc;

    if (VL_GROW(f->sigs, st->sig_cap, f->nsig + 1, err) != VL_OK)
        return VL_ESYS;
    if ((rc = vl_pronom_sig_from_xml(n, &sig, &e2)) != VL_OK)
        return vl_error_set(err, rc, "%s: %s", st->name, e2.msg);
    f->sigs[f->nsig++] = sig;
    return VL_OK;
}

static int add_format(const xmlNode *n, sf_state *st, vl_error *err)
{
    vl_pronom_sigfile *f = st->f;
    int rc;

    if (VL_GROW(f->fmts, st->fmt_cap, f->nfmt + 1, err) != VL_OK)
        return VL_ESYS;
    if ((rc = read_format(n, &f->fmts[f->nfmt], st->name, err)) != VL_OK) {
        format_clear(&f->fmts[f->nfmt]);
        return rc;
    }
    f->nfmt++;
    return VL_OK;
}

/* Frees every child of n: the subtrees already compiled, and the blank
 * text between them. */
static void drop_children(xmlNodePtr n)
{
    while (n->children) {
        xmlNodePtr c = n->children;
        xmlUnlinkNode(c);
        xmlFreeNode(c);
    }
}

/* libxml2's own tree building (xmlSAX2EndElementNs), then: an element two
 * levels under the root is complete, so it is compiled now (when it is an
 * InternalSignature or a FileFormat in its collection under an
 * FFSignatureFile root) and freed with its blank siblings, as
 * xmlTextReader does.  (The reader itself cannot be used: it keeps its
 * parser context private, and the entity refusal above needs the SAX
 * hooks.)  The parser no longer refers to the element: it was popped, and
 * the end tag stopped text from being merged into a previous node. */
static void on_end_element(void *ctx, const xmlChar *local,
                           const xmlChar *prefix, const xmlChar *uri)
{
    xmlParserCtxtPtr c = ctx;
    sf_state *st = c->_private;
    xmlNodePtr n = c->node, coll, root;

    xmlSAX2EndElementNs(ctx, local, prefix, uri);
    if (!n || n->type != XML_ELEMENT_NODE || !(coll = n->parent) ||
        coll->type != XML_ELEMENT_NODE || !(root = coll->parent) ||
        root->type != XML_ELEMENT_NODE || !root->parent ||
        root->parent->type != XML_DOCUMENT_NODE || n == c->node)
        return;
    if (!st->failed && st->build_rc == VL_OK && is_el(root, "FFSignatureFile")) {
        int rc = VL_OK;
        if (is_el(coll, "InternalSignatureCollection") &&
            is_el(n, "InternalSignature"))
            rc = add_sig(n, st, &st->build_err);
        else if (is_el(coll, "FileFormatCollection") &&
                 is_el(n, "FileFormat"))
            rc = add_format(n, st, &st->build_err);
        if (rc != VL_OK) {
            st->build_rc = rc;
            xmlStopParser(c);
        }
    }
    drop_children(coll);
}

/* The parser's input, in chunks (libxml2 drops what it has consumed): from
 * the file up to SIGFILE_MAX, or from memory without a copy. */
static int input_read(void *ctx, char *buf, int cap)
{
    sf_state *st = ctx;
    ssize_t n;

    if (cap <= 0 || st->io_failed)
        return st->io_failed ? -1 : 0;
    if (st->fd < 0) {
        size_t k = st->len - st->pos;
        if (k > (size_t)cap)
            k = (size_t)cap;
        memcpy(buf, st->data + st->pos, k);
        st->pos += k;
        return (int)k;
    }
    do
        n = read(st->fd, buf, (size_t)cap);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        vl_error_sys(&st->io_err, "read %s", st->name);
        st->io_failed = 1;
        return -1;
    }
    st->pos += (size_t)n;
    if (st->pos > SIGFILE_MAX) {
        vl_error_set(&st->io_err, VL_EINPUT, "%s: larger than %zu bytes",
                     st->name, SIGFILE_MAX);
        st->io_failed = 1;
        return -1;
    }
    return (int)n;
}

/* Parses the input st describes into a new signature file. */
static int parse(sf_state *st, vl_pronom_sigfile **out, vl_error *err)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    const xmlNode *root;
    xmlStructuredErrorFunc saved_fn;
    void *saved_ctx;
    char *v;
    int rc = VL_ESYS;
    unsigned long failures = vl_alloc_failures();

    xmlInitParser();
    if (!(ctxt = xmlNewParserCtxt()) || !(st->f = calloc(1, sizeof *st->f))) {
        rc = vl_error_sys(err, "%s", st->name);
        goto done;
    }
    ctxt->_private = st;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
    ctxt->sax->endElementNs = on_end_element;
    ctxt->sax->serror = on_error;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    saved_fn = xmlStructuredError;
    saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(ctxt, on_error);
    /* No ioclose: the caller owns the file. */
    doc = xmlCtxtReadIO(ctxt, input_read, NULL, st, st->name, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR |
                        XML_PARSE_NOWARNING);
    xmlSetStructuredErrorFunc(saved_ctx, saved_fn);
    /* Order: the file unreadable, then XML errors and refusals (the
     * parser was stopped for them), then what compiling found. */
    if (st->io_failed) {
        rc = st->io_err.status;
        if (err)
            *err = st->io_err;
        goto done;
    }
    /* libxml2 reports a shortage of memory as a parse error, and reads an
     * attribute it could not copy as absent (a signature would be
     * dropped, or called malformed) */
    if (vl_alloc_failures() != failures) {
        rc = vl_error_set(err, VL_ESYS, "%s: out of memory", st->name);
        goto done;
    }
    if (st->failed || (st->build_rc == VL_OK &&
                       (!doc || !ctxt->wellFormed))) {
        rc = vl_error_set(err, VL_EINPUT, "%s: %s", st->name,
                          st->failed ? st->msg : "not well-formed XML");
        goto done;
    }
    if (st->build_rc != VL_OK) {
        rc = st->build_rc;
        if (err)
            *err = st->build_err;
        goto done;
    }
    root = xmlDocGetRootElement(doc);
    if (!root || !is_el(root, "FFSignatureFile")) {
        rc = vl_error_set(err, VL_EINPUT, "%s: not a DROID signature file "
                          "(no FFSignatureFile element)", st->name);
        goto done;
    }
    if (!(v = attr_dup(root, "Version"))) {
        rc = vl_error_sys(err, "%s", st->name);
        goto done;
    }
    st->f->version = vl_asprintf("%s%s", *v ? "V" : "", v);
    free(v);
    if (!st->f->version) {
        rc = vl_error_sys(err, "%s", st->name);
        goto done;
    }
    if (vl_alloc_failures() != failures) {  /* the Version read as absent */
        rc = vl_error_set(err, VL_ESYS, "%s: out of memory", st->name);
        goto done;
    }
    *out = st->f;
    st->f = NULL;
    rc = VL_OK;
done:
    vl_pronom_sigfile_free(st->f);
    st->f = NULL;
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

int vl_pronom_sigfile_load_memory(const char *name, const char *data,
                                  size_t len, vl_pronom_sigfile **out,
                                  vl_error *err)
{
    sf_state st = {.name = name, .fd = -1, .data = data, .len = len};

    *out = NULL;
    if (len > INT_MAX)
        return vl_error_set(err, VL_EINPUT, "%s: too large", name);
    return parse(&st, out, err);
}

int vl_pronom_sigfile_load(const char *path, vl_pronom_sigfile **out,
                           vl_error *err)
{
    char *shown = vl_name_shorten(path, VL_NAME_SHOWN_MAX);
    sf_state st = {.name = shown ? shown : path, .fd = -1};
    int rc;

    *out = NULL;
    /* Read as the parser goes, never whole. */
    if ((st.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = vl_error_sys(err, "open %s", st.name);
        goto done;
    }
    rc = parse(&st, out, err);
done:
    if (st.fd >= 0)
        close(st.fd);
    free(shown);
    return rc;
}
