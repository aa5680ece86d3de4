/* METS writer.  Streams METS.xml through libxml2's xmlTextWriter so that an
 * object of 100,000 files never has a DOM (or any per-file array) in memory:
 * the file list is walked once per section (dmdSec, amdSec, fileSec,
 * structMap) through the source's rewind/next callbacks.
 *
 * Layout (IDs are generated, never derived from file names, so they are
 * always valid xsd:ID values):
 *   metsHdr          CREATEDATE; vellum as CREATOR; agents that have a ROLE
 *   dmdSec dmd-dc    oai_dc:dc of the deposit
 *   dmdSec dmd-mods  mods:mods of the deposit
 *   dmdSec dmd-file-NNNNNN   oai_dc:dc of file NNNNNN, where given
 *   amdSec amdSec-1 (PREMIS 3 as its default namespace)
 *     techMD techMD-NNNNNN        PREMIS object of file NNNNNN, one line
 *     digiprovMD digiprov-events  every PREMIS event of the version, once
 *     digiprovMD digiprov-agents  every PREMIS agent, once (xmlID agent-N)
 *   fileSec / fileGrp USE="original" / file file-NNNNNN (ADMID techMD-NNNNNN)
 *   structMap TYPE="physical": div Object > div Directory... > div Item
 * An event with no files links the object (linkingObjectIdentifier "local"
 * = object id); an event naming files links each by the identifier its
 * PREMIS object carries ("local" = logical path). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlwriter.h>

#include "descriptive_internal.h"
#include "vl_metadata.h"

#define SCHEMA_LOCATIONS                                                   \
    VL_NS_METS " http://www.loc.gov/standards/mets/mets.xsd "              \
    VL_NS_PREMIS " http://www.loc.gov/standards/premis/v3/premis.xsd "     \
    VL_NS_MODS " http://www.loc.gov/standards/mods/v3/mods-3-8.xsd "       \
    VL_NS_OAI_DC " http://www.openarchives.org/OAI/2.0/oai_dc.xsd"

/* The agents written once in digiprov-agents: the source's, vellum's, and
 * any other name an event gives.  A handful, so a plain array. */
typedef struct agent {
    char *name;
    const char *type;
} agent;

/* structMap state: the previous logical path; the folders of its path
 * are the open Directory divs. */
typedef struct tree {
    char *prev;        /* previous logical path */
    size_t open;       /* Directory divs open */
} tree;

typedef struct mw {
    xmlTextWriterPtr w;
    int fd;
    int io_errno;          /* first write(2) failure */
    int failed;            /* a writer call failed */
    vl_buf scratch;        /* cleaned text, one value at a time */
    agent *agents;
    size_t nagents, cagents;
    int has_dc, has_mods;  /* deposit dmdSecs written */
    int has_events;
    char vellum[64];       /* "vellum 0.1.0" */
    tree t;
} mw;

/* ---- output ------------------------------------------------------------- */

static int io_write(void *ctx, const char *buf, int len)
{
    mw *m = ctx;
    int done = 0;
    while (done < len) {
        ssize_t n = write(m->fd, buf + done, (size_t)(len - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (!m->io_errno)
                m->io_errno = errno;
            return -1;
        }
        done += (int)n;
    }
    return len;
}

static int io_close(void *ctx)
{
    return 0;   /* the fd is fsync'd and closed by vl_mets_write */
}

/* ---- text that is safe in XML 1.0 --------------------------------------- */

/* Length of the UTF-8 sequence at p holding an XML 1.0 Char, or 0. */
static size_t xml_char_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return (c >= 0x20 || c == 0x09 || c == 0x0A || c == 0x0D) ? 1 : 0;
    if (c >= 0xC2 && c <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        unsigned cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
            cp == 0xFFFF)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        unsigned cp = ((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) |
                      ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
        return (cp >= 0x10000 && cp <= 0x10FFFF) ? 4 : 0;
    }
    return 0;
}

/* Names from archives and metadata values may hold bytes XML cannot carry
 * (invalid UTF-8, control characters); those become "\xNN" so the METS stays
 * well-formed and still says what the bytes were.  Returns s itself when it
 * is clean (the common case), else the scratch buffer. */
static const char *clean(mw *m, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;
    while (p[i] && (n = xml_char_len(p + i)) != 0)
        i += n;
    if (!p[i])
        return s;
    vl_buf_reset(&m->scratch);
    if (vl_buf_append(&m->scratch, s, i, NULL) != VL_OK)
        goto oom;
    while (p[i]) {
        n = xml_char_len(p + i);
        if (n) {
            if (vl_buf_append(&m->scratch, p + i, n, NULL) != VL_OK)
                goto oom;
            i += n;
        } else {
            if (vl_buf_printf(&m->scratch, NULL, "\\x%02x", p[i]) != VL_OK)
                goto oom;
            i++;
        }
    }
    return m->scratch.data;
oom:
    m->failed = 1;
    return "";
}

/* ---- writer wrappers: each is a no-op once something failed ------------- */

/* PREMIS records are written in the default namespace, declared once on
 * the amdSec (every METS element is prefixed, so nothing else is affected):
 * a prefix on every PREMIS tag would cost a sixth of a file's bytes. */
static const char *local(const char *name)
{
    return strncmp(name, "premis:", 7) ? name : name + 7;
}

static void start(mw *m, const char *name)
{
    if (!m->failed && xmlTextWriterStartElement(m->w, BAD_CAST local(name)) < 0)
        m->failed = 1;
}

static void end(mw *m)
{
    if (!m->failed && xmlTextWriterEndElement(m->w) < 0)
        m->failed = 1;
}

static void attr(mw *m, const char *name, const char *value)
{
    if (m->failed || !value)
        return;
    if (xmlTextWriterWriteAttribute(m->w, BAD_CAST name,
                                    BAD_CAST clean(m, value)) < 0)
        m->failed = 1;
}

static void attr_id(mw *m, const char *name, const char *prefix, size_t n)
{
    char id[48];
    snprintf(id, sizeof id, "%s%06zu", prefix, n);
    attr(m, name, id);
}

static void text(mw *m, const char *s)
{
    if (!m->failed && xmlTextWriterWriteString(m->w, BAD_CAST clean(m, s)) < 0)
        m->failed = 1;
}

static void elem(mw *m, const char *name, const char *value)
{
    if (m->failed || !value)
        return;
    if (xmlTextWriterWriteElement(m->w, BAD_CAST local(name),
                                  BAD_CAST clean(m, value)) < 0)
        m->failed = 1;
}

/* <mets:mdWrap MDTYPE=...><mets:xmlData> ... closed by end_wrap. */
static void start_wrap(mw *m, const char *sec, const char *id,
                       const char *mdtype, const char *version)
{
    start(m, sec);
    attr(m, "ID", id);
    start(m, "mets:mdWrap");
    attr(m, "MDTYPE", mdtype);
    attr(m, "MDTYPEVERSION", version);
    start(m, "mets:xmlData");
}

static void end_wrap(mw *m)
{
    end(m);   /* xmlData */
    end(m);   /* mdWrap */
    end(m);   /* the section */
}

static int write_failed(mw *m, const char *path, vl_error *err)
{
    if (m->io_errno) {
        errno = m->io_errno;
        return vl_error_sys(err, "cannot write METS %s", path);
    }
    return vl_error_set(err, VL_ESYS, "cannot write METS %s: XML writer "
                        "failed (out of memory?)", path);
}

/* ---- files -------------------------------------------------------------- */

/* Walk the files once: fn per file with its 1-based ordinal. */
typedef int (*file_fn)(mw *m, const vl_mets_source *src, size_t n,
                       const vl_mets_file *f, vl_error *err);

static int each_file(mw *m, const vl_mets_source *src, file_fn fn,
                     size_t *count, vl_error *err)
{
    size_t n = 0;
    int rc = VL_OK, got;
    src->rewind(src->arg);
    for (;;) {
        vl_mets_file f;
        memset(&f, 0, sizeof f);
        got = src->next(src->arg, &f);
        if (got == 0)
            break;
        if (got < 0 || !f.logical) {
            rc = vl_error_set(err, VL_ESYS, "METS of %s: cannot read the "
                              "list of files", src->object_id);
            goto done;
        }
        n++;
        if ((rc = fn(m, src, n, &f, err)) != VL_OK)
            goto done;
        if (m->failed)
            break;
    }
    /* A failed write (disk full) stops the pass; vl_mets_write reports it
     * with its errno, so do not mistake the short pass for a changed list. */
    if (m->failed)
        goto done;
    /* Every pass must see the same files, or IDs would point nowhere. */
    if (count && *count != (size_t)-1 && *count != n)
        rc = vl_error_set(err, VL_ESYS, "METS of %s: the file list changed "
                          "between passes (%zu then %zu files)",
                          src->object_id, *count, n);
    else if (count)
        *count = n;
done:
    return rc;
}

static const char *premis_alg(vl_digest_alg a)
{
    static const char *const names[VL_DIGEST_COUNT] = {
        [VL_MD5] = "MD5", [VL_SHA1] = "SHA-1", [VL_SHA256] = "SHA-256",
        [VL_SHA512] = "SHA-512", [VL_BLAKE2B512] = "BLAKE2b-512",
    };
    return names[a];
}

static const char *file_sha512(const vl_mets_file *f)
{
    return f->sha512 ? f->sha512 : f->digests[VL_SHA512];
}

/* ---- descriptive metadata ----------------------------------------------- */

static const vl_dc *file_dc(const vl_mets_source *src, const char *logical)
{
    const vl_dc *dc;
    if (!src->desc)
        return NULL;
    dc = vl_descriptive_file_dc(src->desc, logical);
    return dc && !vl_dc_is_empty(dc) ? dc : NULL;
}

static void write_dc(mw *m, const vl_dc *dc)
{
    char name[32];
    start(m, "oai_dc:dc");
    for (size_t i = 0; i < vl_dc_count(dc); i++) {
        const char *el = NULL, *val = NULL;
        vl_dc_entry(dc, i, &el, &val);
        if (!el || !val || strlen(el) > 20)
            continue;
        snprintf(name, sizeof name, "dc:%s", el);
        elem(m, name, val);
    }
    end(m);
}

/* Namespaces keep the prefixes declared on mets:mets; any other is
 * declared on the element that uses it (prefix vlnsN). */
static const char *known_prefix(const xmlNs *ns)
{
    static const char *const map[][2] = {
        {VL_NS_MODS, "mods"}, {VL_NS_XLINK, "xlink"}, {VL_NS_XSI, "xsi"},
        {VL_NS_XML, "xml"}, {VL_NS_DC, "dc"}, {VL_NS_OAI_DC, "oai_dc"},
        {VL_NS_METS, "mets"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp((const char *)ns->href, map[i][0]))
            return map[i][1];
    return NULL;
}

/* Qualified name into out; an unknown namespace takes prefix vlns<*k>,
 * which the caller declares, and *k moves on. */
static void qualified(const xmlNs *ns, const xmlChar *name, char *out,
                      size_t cap, int *k)
{
    const char *p;
    if (!ns)
        snprintf(out, cap, "%s", (const char *)name);
    else if ((p = known_prefix(ns)) != NULL)
        snprintf(out, cap, "%s:%s", p, (const char *)name);
    else
        snprintf(out, cap, "vlns%d:%s", (*k)++, (const char *)name);
}

/* Re-emit a parsed record (the MODS given or crosswalked) through the
 * writer: this keeps the output well-formed whatever the record's own
 * serialization was, and maps its namespaces onto ours. */
static void copy_node(mw *m, xmlNode *node)
{
    char name[512];
    for (; node && !m->failed; node = node->next) {
        if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) {
            if (!xmlIsBlankNode(node) && node->content)
                text(m, (const char *)node->content);
            continue;
        }
        if (node->type != XML_ELEMENT_NODE)
            continue;   /* comments, PIs: not part of the record */
        int k = 0;
        qualified(node->ns, node->name, name, sizeof name, &k);
        start(m, name);
        if (k)   /* the element's own namespace, declared after start */
            attr(m, "xmlns:vlns0", (const char *)node->ns->href);
        for (xmlAttr *a = node->properties; a; a = a->next) {
            xmlChar *v = xmlNodeGetContent((xmlNode *)a);
            if (a->ns && !known_prefix(a->ns)) {
                char decl[32];
                snprintf(decl, sizeof decl, "xmlns:vlns%d", k);
                attr(m, decl, (const char *)a->ns->href);
            }
            qualified(a->ns, a->name, name, sizeof name, &k);
            attr(m, name, v ? (const char *)v : "");
            xmlFree(v);
        }
        copy_node(m, node->children);
        end(m);
    }
}

static int write_mods_xml(mw *m, const char *xml, vl_error *err)
{
    void *doc = NULL;
    int rc = vl_xml_read_safe(xml, strlen(xml), "MODS record", &doc, err);
    if (rc != VL_OK)
        goto done;
    copy_node(m, xmlDocGetRootElement((xmlDoc *)doc));
done:
    vl_xml_free(doc);
    return rc;
}

/* Deposit DC and MODS: each given one is written, and the other is made by
 * the LoC crosswalk so that both are always there when either is. */
static int write_deposit_dmd(mw *m, const vl_mets_source *src, vl_error *err)
{
    vl_dc *derived = NULL;
    char *mods = NULL;
    const vl_dc *dc = NULL;
    const char *given_mods;
    int rc = VL_OK;

    if (!src->desc)
        return VL_OK;
    /* The accessor creates the record on demand, hence non-const; the
     * descriptive object is the caller's and not const in itself. */
    dc = vl_descriptive_deposit_dc((vl_descriptive *)src->desc);
    if (dc && vl_dc_is_empty(dc))
        dc = NULL;
    given_mods = vl_descriptive_mods_xml(src->desc);
    if (!dc && given_mods) {
        if (!(derived = vl_dc_new())) {
            rc = vl_error_oom(err);
            goto done;
        }
        rc = vl_mods_to_dc(given_mods, strlen(given_mods), derived, err);
        if (rc != VL_OK)
            goto done;
        if (!vl_dc_is_empty(derived))
            dc = derived;
    }
    if (dc) {
        start_wrap(m, "mets:dmdSec", "dmd-dc", "DC", NULL);
        write_dc(m, dc);
        end_wrap(m);
        m->has_dc = 1;
    }
    if (!given_mods && dc) {
        if (!(mods = vl_dc_to_mods(dc))) {
            rc = vl_error_set(err, VL_ESYS, "METS of %s: cannot crosswalk "
                              "DC to MODS", src->object_id);
            goto done;
        }
        given_mods = mods;
    }
    if (given_mods) {
        start_wrap(m, "mets:dmdSec", "dmd-mods", "MODS", NULL);
        if ((rc = write_mods_xml(m, given_mods, err)) != VL_OK)
            goto done;
        end_wrap(m);
        m->has_mods = 1;
    }
done:
    free(mods);
    vl_dc_free(derived);
    return rc;
}

static int file_dmd(mw *m, const vl_mets_source *src, size_t n,
                    const vl_mets_file *f, vl_error *err)
{
    const vl_dc *dc = file_dc(src, f->logical);
    char id[48];
    if (!dc)
        return VL_OK;
    snprintf(id, sizeof id, "dmd-file-%06zu", n);
    start_wrap(m, "mets:dmdSec", id, "DC", NULL);
    write_dc(m, dc);
    end_wrap(m);
    return VL_OK;
}

/* ---- agents and events -------------------------------------------------- */

static int agent_add(mw *m, const char *name, const char *type)
{
    for (size_t i = 0; i < m->nagents; i++)
        if (!strcmp(m->agents[i].name, name))
            return VL_OK;
    if (VL_GROW(m->agents, m->cagents, m->nagents + 1, NULL) != VL_OK)
        return VL_ESYS;
    agent *a = m->agents;
    if (!(a[m->nagents].name = vl_strdup(name)))
        return VL_ESYS;
    a[m->nagents].type = type ? type : "software";
    m->nagents++;
    return VL_OK;
}

static size_t agent_index(const mw *m, const char *name)
{
    for (size_t i = 0; i < m->nagents; i++)
        if (!strcmp(m->agents[i].name, name))
            return i + 1;
    return 0;
}

/* The agents: the source's, vellum itself, then any an event names (the
 * event log keeps agents as names only; those are software). */
static int collect_agents(mw *m, const vl_mets_source *src, vl_error *err)
{
    int rc = VL_OK, got;
    for (size_t i = 0; i < src->nagents; i++)
        if (src->agents[i].name && agent_add(m, src->agents[i].name,
                                             src->agents[i].type) != VL_OK)
            goto oom;
    snprintf(m->vellum, sizeof m->vellum, "vellum %s",
             src->vellum_version ? src->vellum_version : VL_VERSION);
    if (agent_add(m, m->vellum, "software") != VL_OK)
        goto oom;
    if (!src->next_event)
        return VL_OK;
    src->rewind_events(src->event_arg);
    for (;;) {
        vl_event_row ev;
        memset(&ev, 0, sizeof ev);
        got = src->next_event(src->event_arg, &ev);
        if (got == 0)
            break;
        if (got < 0) {
            rc = vl_error_set(err, VL_ESYS, "METS of %s: cannot read the "
                              "events", src->object_id);
            goto done;
        }
        m->has_events = 1;
        json_t *a = ev.agents_json ? json_loads(ev.agents_json, 0, NULL) : NULL;
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) {
            if (json_is_string(v) && agent_add(m, json_string_value(v), NULL) != VL_OK) {
                json_decref(a);
                goto oom;
            }
        }
        json_decref(a);
    }
done:
    return rc;
oom:
    return vl_error_oom(err);
}

static void link_object(mw *m, const char *value)
{
    start(m, "premis:linkingObjectIdentifier");
    elem(m, "premis:linkingObjectIdentifierType", "local");
    elem(m, "premis:linkingObjectIdentifierValue", value);
    end(m);
}

static void write_event(mw *m, const vl_mets_source *src, const vl_event_row *ev)
{
    json_t *agents = ev->agents_json ? json_loads(ev->agents_json, 0, NULL) : NULL;
    json_t *files = ev->files_json ? json_loads(ev->files_json, 0, NULL) : NULL;
    json_t *v;
    size_t i, linked = 0;

    start(m, "premis:event");
    attr(m, "version", "3.0");
    start(m, "premis:eventIdentifier");
    elem(m, "premis:eventIdentifierType", "URI");
    elem(m, "premis:eventIdentifierValue", ev->id ? ev->id : "");
    end(m);
    elem(m, "premis:eventType", ev->type ? ev->type : "");
    elem(m, "premis:eventDateTime", ev->datetime ? ev->datetime : "");
    if (ev->detail) {
        start(m, "premis:eventDetailInformation");
        elem(m, "premis:eventDetail", ev->detail);
        end(m);
    }
    if (ev->outcome || ev->outcome_detail) {
        start(m, "premis:eventOutcomeInformation");
        elem(m, "premis:eventOutcome", ev->outcome);
        if (ev->outcome_detail) {
            start(m, "premis:eventOutcomeDetail");
            elem(m, "premis:eventOutcomeDetailNote", ev->outcome_detail);
            end(m);
        }
        end(m);
    }
    json_array_foreach(agents, i, v) {
        size_t n = json_is_string(v) ? agent_index(m, json_string_value(v)) : 0;
        char ref[32];
        if (!n)
            continue;
        snprintf(ref, sizeof ref, "agent-%zu", n);
        start(m, "premis:linkingAgentIdentifier");
        attr(m, "LinkAgentXmlID", ref);
        elem(m, "premis:linkingAgentIdentifierType", "local");
        elem(m, "premis:linkingAgentIdentifierValue", json_string_value(v));
        end(m);
    }
    /* One event for many files: the files it names (those whose outcome
     * differs), or else the whole object version. */
    json_array_foreach(files, i, v) {
        if (json_is_string(v)) {
            link_object(m, json_string_value(v));
            linked++;
        }
    }
    if (!linked)
        link_object(m, ev->object_id ? ev->object_id : src->object_id);
    end(m);
    json_decref(agents);
    json_decref(files);
}

static int write_provenance(mw *m, const vl_mets_source *src, vl_error *err)
{
    int rc = VL_OK, got;
    if (m->has_events) {
        start_wrap(m, "mets:digiprovMD", "digiprov-events", "PREMIS:EVENT", "3.0");
        src->rewind_events(src->event_arg);
        for (;;) {
            vl_event_row ev;
            memset(&ev, 0, sizeof ev);
            got = src->next_event(src->event_arg, &ev);
            if (got == 0)
                break;
            if (got < 0) {
                rc = vl_error_set(err, VL_ESYS, "METS of %s: cannot read the "
                                  "events", src->object_id);
                goto done;
            }
            write_event(m, src, &ev);
        }
        end_wrap(m);
    }
    start_wrap(m, "mets:digiprovMD", "digiprov-agents", "PREMIS:AGENT", "3.0");
    for (size_t i = 0; i < m->nagents; i++) {
        char id[32];
        snprintf(id, sizeof id, "agent-%zu", i + 1);
        start(m, "premis:agent");
        attr(m, "xmlID", id);
        attr(m, "version", "3.0");
        start(m, "premis:agentIdentifier");
        elem(m, "premis:agentIdentifierType", "local");
        elem(m, "premis:agentIdentifierValue", m->agents[i].name);
        end(m);
        elem(m, "premis:agentName", m->agents[i].name);
        elem(m, "premis:agentType", m->agents[i].type);
        end(m);
    }
    end_wrap(m);
done:
    return rc;
}

/* ---- per-file sections -------------------------------------------------- */

static int file_amd(mw *m, const vl_mets_source *src, size_t n,
                    const vl_mets_file *f, vl_error *err)
{
    char id[48], size[32];
    const char *name;

    snprintf(id, sizeof id, "techMD-%06zu", n);
    start_wrap(m, "mets:techMD", id, "PREMIS:OBJECT", "3.0");
    /* One line per PREMIS object: indenting its 20-odd elements would cost
     * a sixth of the file's bytes. */
    start(m, "premis:object");
    xmlTextWriterSetIndent(m->w, 0);
    attr(m, "xsi:type", "file");   /* resolved in the default namespace */
    start(m, "premis:objectIdentifier");
    elem(m, "premis:objectIdentifierType", "local");
    elem(m, "premis:objectIdentifierValue", f->logical);
    end(m);
    start(m, "premis:objectCharacteristics");
    for (int a = 0; a < VL_DIGEST_COUNT; a++) {
        const char *d = a == VL_SHA512 ? file_sha512(f) : f->digests[a];
        if (!d)
            continue;
        start(m, "premis:fixity");
        elem(m, "premis:messageDigestAlgorithm", premis_alg((vl_digest_alg)a));
        elem(m, "premis:messageDigest", d);
        end(m);
    }
    snprintf(size, sizeof size, "%llu", (unsigned long long)f->size);
    elem(m, "premis:size", size);
    /* PREMIS requires a format: a name (the MIME type when no better one),
     * the PRONOM key when known, "unknown" when nothing was identified. */
    start(m, "premis:format");
    name = f->format_name ? f->format_name : f->mime;
    if (name || !f->puid) {
        start(m, "premis:formatDesignation");
        elem(m, "premis:formatName", name ? name : "unknown");
        elem(m, "premis:formatVersion", f->format_version);
        end(m);
    }
    if (f->puid) {
        start(m, "premis:formatRegistry");
        elem(m, "premis:formatRegistryName", "PRONOM");
        elem(m, "premis:formatRegistryKey", f->puid);
        end(m);
    }
    /* libmagic's encoding and description, so that the store alone says
     * everything the catalog does (read back by mets_read.c). */
    if (f->encoding) {
        char note[160];
        snprintf(note, sizeof note, "encoding: %s", f->encoding);
        elem(m, "premis:formatNote", note);
    }
    if (f->description) {
        char *note = vl_asprintf("description: %s", f->description);
        if (!note)
            m->failed = 1;
        else
            elem(m, "premis:formatNote", note);
        free(note);
    }
    /* How PRONOM identified it, so that the basis travels with the object. */
    const char *const prefixes[] = {"PRONOM basis: ", "PRONOM warning: ",
                                    "PRONOM also matches: ", "identified with: "};
    const char *const values[] = {f->basis, f->warning, f->others, f->signatures};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        if (!values[i])
            continue;
        char *note = vl_asprintf("%s%s", prefixes[i], values[i]);
        if (!note)
            m->failed = 1;
        else
            elem(m, "premis:formatNote", note);
        free(note);
    }
    end(m);   /* format */
    /* The modification time the depositor's copy had: the closest PREMIS
     * has to when the application that made the file last wrote it. */
    if (f->modified) {
        start(m, "premis:creatingApplication");
        elem(m, "premis:dateCreatedByApplication", f->modified);
        end(m);
    }
    end(m);   /* objectCharacteristics */
    elem(m, "premis:originalName", f->original_name);
    end(m);   /* object */
    if (!m->failed && xmlTextWriterWriteRaw(m->w, BAD_CAST "\n") < 0)
        m->failed = 1;
    xmlTextWriterSetIndent(m->w, 1);
    end_wrap(m);
    return VL_OK;
}

/* Relative URI of a logical path: every byte outside the unreserved set
 * (spaces, '%', '&', non-ASCII...) percent-encoded, '/' kept. */
static int href(mw *m, const char *logical)
{
    xmlChar *u = xmlURIEscapeStr(BAD_CAST logical, BAD_CAST "/");
    if (!u)
        return VL_ESYS;
    attr(m, "xlink:href", (const char *)u);
    xmlFree(u);
    return VL_OK;
}

static int file_sec(mw *m, const vl_mets_source *src, size_t n,
                    const vl_mets_file *f, vl_error *err)
{
    char size[32];
    const char *sum = file_sha512(f), *type = "SHA-512";
    if (!sum && f->digests[VL_SHA256]) {
        sum = f->digests[VL_SHA256];
        type = "SHA-256";
    }
    start(m, "mets:file");
    attr_id(m, "ID", "file-", n);
    snprintf(size, sizeof size, "%llu", (unsigned long long)f->size);
    attr(m, "SIZE", size);
    attr(m, "MIMETYPE", f->mime);
    if (sum) {
        attr(m, "CHECKSUM", sum);
        attr(m, "CHECKSUMTYPE", type);
    }
    attr_id(m, "ADMID", "techMD-", n);
    start(m, "mets:FLocat");
    attr(m, "LOCTYPE", "URL");
    attr(m, "xlink:type", "simple");
    if (href(m, f->logical) != VL_OK)
        return vl_error_oom(err);
    end(m);
    end(m);
    return VL_OK;
}

static size_t dir_len(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? (size_t)(s - p) + 1 : 0;
}

static size_t count_dirs(const char *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += p[i] == '/';
    return n;
}

static int struct_file(mw *m, const vl_mets_source *src, size_t n,
                       const vl_mets_file *f, vl_error *err)
{
    tree *t = &m->t;
    const char *p = f->logical;
    size_t plen = dir_len(p), common = 0, qlen = 0;
    char label[1024];

    if (t->prev) {
        if (strcmp(t->prev, p) >= 0)
            return vl_error_set(err, VL_EINPUT, "METS of %s: files not in "
                                "logical path order (%s after %s)",
                                src->object_id, p, t->prev);
        qlen = dir_len(t->prev);
        /* Longest shared run of whole folder components. */
        for (size_t i = 0; i < qlen && i < plen && t->prev[i] == p[i]; i++)
            if (p[i] == '/')
                common = i + 1;
    }
    for (size_t k = count_dirs(t->prev ? t->prev + common : "", qlen - common);
         k > 0; k--) {
        end(m);
        t->open--;
    }
    for (size_t i = common, s = common; i < plen; i++) {
        if (p[i] != '/')
            continue;
        size_t l = i - s < sizeof label - 1 ? i - s : sizeof label - 1;
        memcpy(label, p + s, l);
        label[l] = '\0';
        start(m, "mets:div");
        attr(m, "TYPE", "Directory");
        attr(m, "LABEL", label);
        t->open++;
        s = i + 1;
    }
    start(m, "mets:div");
    attr(m, "TYPE", "Item");
    attr(m, "LABEL", p + plen);
    if (file_dc(src, p))
        attr_id(m, "DMDID", "dmd-file-", n);
    start(m, "mets:fptr");
    attr_id(m, "FILEID", "file-", n);
    end(m);
    end(m);
    free(t->prev);
    if (!(t->prev = vl_strdup(p)))
        return vl_error_oom(err);
    return VL_OK;
}


/* ---- the document ------------------------------------------------------- */

static const char *mets_role(const char *role)
{
    static const char *const roles[] = {"CREATOR", "EDITOR", "ARCHIVIST",
        "PRESERVATION", "DISSEMINATOR", "CUSTODIAN", "IPOWNER", "OTHER", NULL};
    for (int i = 0; roles[i]; i++)
        if (!strcmp(roles[i], role))
            return roles[i];
    return NULL;
}

static void header_agent(mw *m, const char *role, const char *type,
                         const char *name)
{
    const char *r = mets_role(role);
    start(m, "mets:agent");
    attr(m, "ROLE", r ? r : "OTHER");
    if (!r)
        attr(m, "OTHERROLE", role);
    if (type && !strcmp(type, "person")) {
        attr(m, "TYPE", "INDIVIDUAL");
    } else if (type && !strcmp(type, "organization")) {
        attr(m, "TYPE", "ORGANIZATION");
    } else {
        attr(m, "TYPE", "OTHER");
        attr(m, "OTHERTYPE", "SOFTWARE");
    }
    elem(m, "mets:name", name);
    end(m);
}

static void write_header(mw *m, const vl_mets_source *src)
{
    if (xmlTextWriterStartDocument(m->w, "1.0", "UTF-8", NULL) < 0)
        m->failed = 1;
    start(m, "mets:mets");
    attr(m, "xmlns:mets", VL_NS_METS);
    attr(m, "xmlns:xlink", VL_NS_XLINK);
    attr(m, "xmlns:xsi", VL_NS_XSI);
    attr(m, "xmlns:mods", VL_NS_MODS);
    attr(m, "xmlns:oai_dc", VL_NS_OAI_DC);
    attr(m, "xmlns:dc", VL_NS_DC);
    attr(m, "xsi:schemaLocation", SCHEMA_LOCATIONS);
    attr(m, "OBJID", src->object_id);
    start(m, "mets:metsHdr");
    attr(m, "CREATEDATE", src->create_date);
    const char *vellum = m->vellum;
    header_agent(m, "CREATOR", "software", vellum);
    for (size_t i = 0; i < src->nagents; i++)
        if (src->agents[i].role && src->agents[i].name &&
            strcmp(src->agents[i].name, vellum))
            header_agent(m, src->agents[i].role, src->agents[i].type,
                         src->agents[i].name);
    end(m);
}

static int write_all(mw *m, const vl_mets_source *src, vl_error *err)
{
    size_t count = (size_t)-1;
    int rc;

    if ((rc = collect_agents(m, src, err)) != VL_OK)
        goto done;
    write_header(m, src);
    if ((rc = write_deposit_dmd(m, src, err)) != VL_OK)
        goto done;
    if (src->desc && vl_descriptive_file_count(src->desc) > 0 &&
        (rc = each_file(m, src, file_dmd, &count, err)) != VL_OK)
        goto done;
    /* One amdSec: techMD of every file, then the version's provenance
     * (METS orders techMD before digiprovMD). */
    start(m, "mets:amdSec");
    attr(m, "ID", "amdSec-1");
    attr(m, "xmlns", VL_NS_PREMIS);   /* see local() */
    if ((rc = each_file(m, src, file_amd, &count, err)) != VL_OK)
        goto done;
    if ((rc = write_provenance(m, src, err)) != VL_OK)
        goto done;
    end(m);
    if (count > 0) {   /* fileSec needs at least one file */
        start(m, "mets:fileSec");
        start(m, "mets:fileGrp");
        attr(m, "USE", "original");
        if ((rc = each_file(m, src, file_sec, &count, err)) != VL_OK)
            goto done;
        end(m);
        end(m);
    }
    start(m, "mets:structMap");
    attr(m, "TYPE", "physical");
    start(m, "mets:div");
    attr(m, "TYPE", "Object");
    attr(m, "LABEL", src->object_id);
    if (m->has_dc || m->has_mods)
        attr(m, "DMDID", m->has_dc && m->has_mods ? "dmd-dc dmd-mods"
                         : m->has_dc ? "dmd-dc" : "dmd-mods");
    attr(m, "ADMID", m->has_events ? "digiprov-events digiprov-agents"
                                   : "digiprov-agents");
    if ((rc = each_file(m, src, struct_file, &count, err)) != VL_OK)
        goto done;
    for (; m->t.open > 0; m->t.open--)
        end(m);
    end(m);   /* root div */
    end(m);   /* structMap */
    end(m);   /* mets */
    if (!m->failed && xmlTextWriterEndDocument(m->w) < 0)
        m->failed = 1;
    if (!m->failed && xmlTextWriterFlush(m->w) < 0)
        m->failed = 1;
done:
    return rc;
}

static void silent_error(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int vl_mets_write(const vl_mets_source *src, const char *path, vl_error *err)
{
    mw mt;
    mw *m = &mt;
    xmlOutputBufferPtr out = NULL;
    char *tmp = NULL;
    int rc = VL_OK;
    unsigned long failures = vl_alloc_failures();

    memset(&mt, 0, sizeof mt);
    m->fd = -1;
    vl_buf_init(&m->scratch, 0);
    /* Write errors are reported once, by us, with their errno; libxml2's own
     * "I/O error" line on stderr would only repeat it. */
    xmlGenericErrorFunc saved_generic = xmlGenericError;
    void *saved_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, silent_error);
    if (!src || !src->object_id || !src->rewind || !src->next || !path ||
        (src->next_event && !src->rewind_events)) {
        rc = vl_error_set(err, VL_EINPUT, "METS: incomplete source");
        goto done;
    }
    if (!(tmp = vl_asprintf("%s.tmp-%ld", path, (long)getpid()))) {
        rc = vl_error_oom(err);
        goto done;
    }
    m->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (m->fd < 0) {
        rc = vl_error_sys(err, "cannot create %s", tmp);
        goto done;
    }
    out = xmlOutputBufferCreateIO(io_write, io_close, m, NULL);
    if (!out || !(m->w = xmlNewTextWriter(out))) {
        if (out && !m->w)
            xmlOutputBufferClose(out);
        rc = vl_error_oom(err);
        goto done;
    }
    /* One-space indentation: readable, and a few bytes per line at most. */
    xmlTextWriterSetIndent(m->w, 1);
    xmlTextWriterSetIndentString(m->w, BAD_CAST " ");
    if ((rc = write_all(m, src, err)) != VL_OK)
        goto done;
    if (m->failed || m->io_errno) {
        rc = write_failed(m, path, err);
        goto done;
    }
    xmlFreeTextWriter(m->w);   /* flushes and closes the output buffer */
    m->w = NULL;
    if (m->io_errno) {
        rc = write_failed(m, path, err);
        goto done;
    }
    /* The writer can carry on past a failed allocation (an element it
     * could not escape, a namespace it could not record): such a file is
     * not put in place. */
    if (vl_alloc_failures() != failures) {
        rc = vl_error_set(err, VL_ESYS, "cannot write METS %s: out of memory",
                          path);
        goto done;
    }
    if (fsync(m->fd) != 0) {
        rc = vl_error_sys(err, "cannot write METS %s", path);
        goto done;
    }
    if (close(m->fd) != 0) {
        m->fd = -1;
        rc = vl_error_sys(err, "cannot write METS %s", path);
        goto done;
    }
    m->fd = -1;
    if (rename(tmp, path) != 0) {
        rc = vl_error_sys(err, "cannot rename %s to %s", tmp, path);
        goto done;
    }
    free(tmp);
    tmp = NULL;
    rc = vl_fs_fsync_parent(path, err);
done:
    if (m->w)
        xmlFreeTextWriter(m->w);
    if (m->fd >= 0)
        close(m->fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(m->t.prev);
    for (size_t i = 0; i < m->nagents; i++)
        free(m->agents[i].name);
    free(m->agents);
    vl_buf_release(&m->scratch);
    xmlSetGenericErrorFunc(saved_ctx, saved_generic);
    return rc;
}
