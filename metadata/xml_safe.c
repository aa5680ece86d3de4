/* Safe reading of user XML (--metadata files): no network, no DTD loading,
 * no entity substitution, and no entity declarations at all.
 *
 * Descriptive records (DC, MODS) never need entities, so the simplest rule
 * that stops both "billion laughs" (nested internal entities) and external
 * entities (file:///etc/passwd, http://...) is to refuse the first
 * <!ENTITY ...> declaration before libxml2 records it: the SAX entityDecl
 * hook stops the parser, so nothing is ever expanded or fetched.  A DOCTYPE
 * naming an external subset is refused the same way.  Errors go to a
 * per-parse structured handler (never stderr) and the first one becomes the
 * message: "file:line: what". */
#include "descriptive_internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/xmlsave.h>
#include <libxml/xmlerror.h>

struct xs_state {
    const char *name;
    int failed;         /* a message is in msg */
    int refused;        /* our own refusal (wins over later parser errors) */
    char msg[sizeof(((vl_error *)0)->msg)];
};

static struct xs_state *state_of(void *ctx)
{
    xmlParserCtxtPtr ctxt = ctx;
    return ctxt ? ctxt->_private : NULL;
}

static void refuse(xmlParserCtxtPtr ctxt, const char *what)
{
    struct xs_state *st = state_of(ctxt);

    if (st && !st->refused) {
        snprintf(st->msg, sizeof st->msg, "%s:%d: %s", st->name,
                 xmlSAX2GetLineNumber(ctxt), what);
        st->failed = st->refused = 1;
    }
    xmlStopParser(ctxt);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type,
                           const xmlChar *public_id, const xmlChar *system_id,
                           xmlChar *content)
{
    refuse(ctx, "entity declarations are not accepted in metadata "
                "(billion laughs / external entity protection)");
}

static void on_unparsed_entity_decl(void *ctx, const xmlChar *name,
                                    const xmlChar *public_id,
                                    const xmlChar *system_id,
                                    const xmlChar *notation)
{
    on_entity_decl(ctx, name, 0, public_id, system_id, NULL);
}

static void on_internal_subset(void *ctx, const xmlChar *name,
                               const xmlChar *external_id,
                               const xmlChar *system_id)
{
    if (external_id || system_id) {
        refuse(ctx, "a DOCTYPE with an external DTD is not accepted in "
                    "metadata (external entity protection)");
        return;
    }
    xmlSAX2InternalSubset(ctx, name, external_id, system_id);
}

/* Never load an external subset, whatever the options say. */
static void on_external_subset(void *ctx, const xmlChar *name,
                               const xmlChar *external_id,
                               const xmlChar *system_id)
{
}

#if LIBXML_VERSION >= 21200
static void on_error(void *data, const xmlError *e)
#else
static void on_error(void *data, xmlErrorPtr e)
#endif
{
    struct xs_state *st = state_of(data);
    size_t n;

    if (!st || !e || e->level < XML_ERR_ERROR || st->failed)
        return;
    snprintf(st->msg, sizeof st->msg, "%s:%d: %s", st->name, e->line,
             e->message ? e->message : "XML error");
    n = strlen(st->msg);
    while (n > 0 && (st->msg[n - 1] == '\n' || st->msg[n - 1] == ' '))
        st->msg[--n] = '\0';
    st->failed = 1;
}

static int to_buf(void *ctx, const char *data, int len)
{
    return vl_buf_append(ctx, data, (size_t)len, NULL) == VL_OK ? len : -1;
}

char *vl_xml_node_text(void *doc, void *node, int format)
{
    /* Not xmlNodeDump into an xmlBuffer: when libxml2 (2.9) runs out of
     * memory half way through that, the xmlBuffer is left pointing at a
     * block it has already freed, which xmlBufferFree frees again. */
    unsigned long failures = vl_alloc_failures();
    vl_buf b;
    vl_buf_init(&b, 0);
    xmlOutputBufferPtr out = xmlOutputBufferCreateIO(to_buf, NULL, &b, NULL);
    if (!out)
        return NULL;
    xmlNodeDumpOutput(out, doc, node, 0, format, NULL);
    int failed = out->error != 0;
    if (xmlOutputBufferClose(out) < 0 || failed ||
        vl_alloc_failures() != failures) {
        vl_buf_release(&b);
        return NULL;
    }
    return vl_buf_detach(&b);
}

int vl_xml_read_safe(const char *data, size_t len, const char *name,
                     void **doc, vl_error *err)
{
    /* NONET: no network.  Deliberately absent: NOENT (substitute entities),
     * DTDLOAD, DTDATTR, DTDVALID, XINCLUDE and HUGE (which lifts libxml2's
     * depth and size limits). */
    const int options = XML_PARSE_NONET;
    struct xs_state st;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr d = NULL;
    xmlStructuredErrorFunc saved_fn;
    void *saved_ctx;
    int rc = VL_OK;
    unsigned long failures = vl_alloc_failures();

    *doc = NULL;
    memset(&st, 0, sizeof st);
    st.name = name;
    if (len > VL_META_FILE_MAX || len > INT_MAX)
        return vl_error_set(err, VL_EINPUT, "%s: larger than 64 MiB", name);
    xmlInitParser();
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return vl_error_oom(err);
    ctxt->_private = &st;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
    ctxt->sax->internalSubset = on_internal_subset;
    ctxt->sax->externalSubset = on_external_subset;
    ctxt->sax->serror = on_error;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    ctxt->vctxt.error = NULL;
    ctxt->vctxt.warning = NULL;
    /* Errors raised without the context (I/O, encoding) reach the
     * thread's structured handler: point it here for this parse only. */
    saved_fn = xmlStructuredError;
    saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(ctxt, on_error);
    d = xmlCtxtReadMemory(ctxt, data, (int)len, name, NULL, options);
    xmlSetStructuredErrorFunc(saved_ctx, saved_fn);
    /* libxml2 reports a shortage of memory as a parse error, and may carry
     * on past one with a document short of a node */
    if (vl_alloc_failures() != failures) {
        rc = vl_error_set(err, VL_ESYS, "%s: out of memory", name);
        goto done;
    }
    if (st.failed || !d || !ctxt->wellFormed) {
        rc = vl_error_set(err, VL_EINPUT, "%s",
                          st.failed ? st.msg : "not well-formed XML");
        if (!st.failed)
            vl_error_set(err, VL_EINPUT, "%s: not well-formed XML", name);
        goto done;
    }
    if (!xmlDocGetRootElement(d)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: no root element", name);
        goto done;
    }
    *doc = d;
    d = NULL;
done:
    xmlFreeDoc(d);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

void vl_xml_free(void *doc)
{
    xmlFreeDoc(doc);
}
