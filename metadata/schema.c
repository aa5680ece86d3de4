/* Offline schema validation of METS files.
 *
 * The schemas import each other by their http:// URLs; an OASIS catalog in
 * the schemas folder maps those to the local copies.  While a schema set is
 * compiled, a private entity loader resolves every URL through that catalog
 * and refuses whatever would still need the network, so nothing is ever
 * fetched (and the process-wide default catalog is left alone).
 *
 * mets-bundle.xsd (when present) is compiled rather than mets.xsd: METS's
 * xmlData is processContents="lax", so mets.xsd alone would skip embedded
 * PREMIS, MODS and DC - and fail on xsi:type="premis:file".
 *
 * The compiled schema is cached per folder for the life of the process;
 * documents are validated while streaming (SAX), so a 100,000-file METS is
 * never held as a DOM. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/catalog.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "vl_metadata.h"

#define MAX_SHOWN 1000   /* messages passed on; the rest are only counted */

typedef struct cached_schema {
    char *dir;
    xmlSchemaPtr schema;
    struct cached_schema *next;
} cached_schema;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static cached_schema *g_cache;          /* never freed: shared by callers */
/* Valid only while g_lock is held during a compile. */
static xmlCatalogPtr g_catalog;
static char g_refused[512];

static int is_remote(const char *url)
{
    return !strncasecmp(url, "http:", 5) || !strncasecmp(url, "https:", 6) ||
           !strncasecmp(url, "ftp:", 4);
}

static xmlParserInputPtr offline_loader(const char *url, const char *id,
                                        xmlParserCtxtPtr ctxt)
{
    xmlChar *res = NULL;
    xmlParserInputPtr in = NULL;
    const char *use = url;

    if (g_catalog && url) {
        res = xmlACatalogResolveSystem(g_catalog, BAD_CAST url);
        if (!res)
            res = xmlACatalogResolveURI(g_catalog, BAD_CAST url);
        if (res)
            use = (const char *)res;
    }
    if (!use || is_remote(use)) {
        if (!g_refused[0])
            snprintf(g_refused, sizeof g_refused, "%s", url ? url : "(null)");
        goto done;
    }
    in = xmlNewInputFromFile(ctxt, use);
done:
    xmlFree(res);
    return in;
}

typedef struct compile_state {
    char first[512];
} compile_state;

static void on_compile_error(void *ctx, xmlErrorPtr e)
{
    compile_state *st = ctx;
    if (!e || e->level < XML_ERR_ERROR || st->first[0])
        return;   /* warnings (a skipped duplicate import) are harmless */
    snprintf(st->first, sizeof st->first, "%s:%d: %s",
             e->file ? e->file : "schema", e->line,
             e->message ? e->message : "error");
    size_t n = strlen(st->first);
    while (n > 0 && (st->first[n - 1] == '\n' || st->first[n - 1] == ' '))
        st->first[--n] = '\0';
}

/* The compiled schema set of dir, compiling it on first use. */
static int schema_for(const char *dir, xmlSchemaPtr *out, vl_error *err)
{
    char *xsd = NULL, *cat = NULL;
    xmlSchemaParserCtxtPtr pc = NULL;
    xmlSchemaPtr schema = NULL;
    xmlExternalEntityLoader saved = NULL;
    xmlStructuredErrorFunc saved_fn = NULL;
    void *saved_ctx = NULL;
    cached_schema *c;
    compile_state st;
    int rc = VL_OK, swapped = 0;

    memset(&st, 0, sizeof st);
    pthread_mutex_lock(&g_lock);
    for (c = g_cache; c; c = c->next)
        if (!strcmp(c->dir, dir)) {
            *out = c->schema;
            goto done;
        }
    xsd = vl_path_join(dir, "mets-bundle.xsd");
    cat = vl_path_join(dir, "catalog.xml");
    if (!xsd || !cat) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!vl_fs_exists(xsd)) {
        free(xsd);
        if (!(xsd = vl_path_join(dir, "mets.xsd"))) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    if (access(xsd, R_OK) != 0) {
        rc = vl_error_set(err, VL_EINPUT, "no METS schema in %s (expected "
                          "mets-bundle.xsd or mets.xsd): %s", dir,
                          strerror(errno));
        goto done;
    }
    xmlInitParser();
    g_catalog = vl_fs_exists(cat) ? xmlLoadACatalog(cat) : NULL;
    g_refused[0] = '\0';
    saved = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(offline_loader);
    saved_fn = xmlStructuredError;
    saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(&st, on_compile_error);
    swapped = 1;
    if (!(pc = xmlSchemaNewParserCtxt(xsd))) {
        rc = vl_error_oom(err);
        goto done;
    }
    xmlSchemaSetParserStructuredErrors(pc, on_compile_error, &st);
    schema = xmlSchemaParse(pc);
    if (!schema) {
        if (g_refused[0])
            rc = vl_error_set(err, VL_EINPUT, "cannot load the schemas in "
                              "%s: %s is not in its catalog.xml (no network "
                              "access is made)", dir, g_refused);
        else
            rc = vl_error_set(err, VL_EINPUT, "cannot load the schemas in "
                              "%s: %s", dir, st.first[0] ? st.first
                              : "schema parse failed");
        goto done;
    }
    if (!(c = calloc(1, sizeof *c)) || !(c->dir = vl_strdup(dir))) {
        free(c);
        rc = vl_error_oom(err);
        goto done;
    }
    c->schema = schema;
    c->next = g_cache;
    g_cache = c;
    *out = schema;
    schema = NULL;
done:
    if (swapped) {
        xmlSetExternalEntityLoader(saved);
        xmlSetStructuredErrorFunc(saved_ctx, saved_fn);
    }
    if (g_catalog) {
        xmlFreeCatalog(g_catalog);
        g_catalog = NULL;
    }
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pc);
    pthread_mutex_unlock(&g_lock);
    free(xsd);
    free(cat);
    return rc;
}

typedef struct valid_state {
    const char *name;        /* file name shown in messages */
    vl_message_fn fn;
    void *arg;
    size_t errors;
} valid_state;

static void on_valid_error(void *ctx, xmlErrorPtr e)
{
    valid_state *st = ctx;
    char line[2048];
    size_t n;
    if (!e || e->level < XML_ERR_ERROR)
        return;
    if (++st->errors > MAX_SHOWN || !st->fn)
        return;
    snprintf(line, sizeof line, "%s:%d: %s", st->name, e->line,
             e->message ? e->message : "error");
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = '\0';
    st->fn(st->arg, line);
}

int vl_schema_validate_mets(const char *schemas_dir, const char *xml_path,
                            vl_message_fn fn, void *arg, vl_error *err)
{
    xmlSchemaPtr schema = NULL;
    xmlSchemaValidCtxtPtr vc = NULL;
    xmlStructuredErrorFunc saved_fn;
    void *saved_ctx;
    valid_state st = {.name = vl_path_basename(xml_path), .fn = fn, .arg = arg};
    FILE *probe;
    int rc, ret;

    if ((rc = schema_for(schemas_dir, &schema, err)) != VL_OK)
        goto done;
    /* libxml2 reports a missing file as an internal error; say it here. */
    if (!(probe = fopen(xml_path, "rb"))) {
        rc = vl_error_sys(err, "cannot read %s", xml_path);
        goto done;
    }
    fclose(probe);
    if (!(vc = xmlSchemaNewValidCtxt(schema))) {
        rc = vl_error_oom(err);
        goto done;
    }
    xmlSchemaSetValidStructuredErrors(vc, on_valid_error, &st);
    /* Well-formedness errors come from the parser through the thread's
     * handler, not the validation context's: catch them too. */
    saved_fn = xmlStructuredError;
    saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(&st, on_valid_error);
    ret = xmlSchemaValidateFile(vc, xml_path, XML_PARSE_NONET);
    xmlSetStructuredErrorFunc(saved_ctx, saved_fn);
    if (ret == 0 && st.errors == 0) {
        rc = VL_OK;
        goto done;
    }
    if (ret < 0 && st.errors == 0) {
        rc = vl_error_set(err, VL_ESYS, "cannot validate %s: libxml2 "
                          "internal error", xml_path);
        goto done;
    }
    if (st.errors == 0 && fn) {
        char line[1200];
        snprintf(line, sizeof line, "%s:0: not valid (libxml2 code %d)",
                 st.name, ret);
        fn(arg, line);
    } else if (st.errors > MAX_SHOWN && fn) {
        char line[1200];
        snprintf(line, sizeof line, "%s: %zu more errors not shown", st.name,
                 st.errors - MAX_SHOWN);
        fn(arg, line);
    }
    rc = VL_FINDING;
done:
    xmlSchemaFreeValidCtxt(vc);
    return rc;
}
