/* Crosswalks between simple Dublin Core and MODS, after the Library of
 * Congress mappings (both dated August 1, 2012, www.loc.gov/standards/mods/):
 * "Dublin Core Metadata Element Set Mapping to MODS Version 3"
 * (dcsimple-mods.html) and "MODS to Dublin Core Metadata Element Set Mapping
 * Version 3" (mods-dcsimple.html).  Where LoC lists several MODS elements
 * for one DC element, the choice made is noted at each rule below.
 *
 * DC -> MODS (output valid against MODS 3.8):
 *   title        titleInfo/title
 *   creator      name/namePart + role/roleTerm[@type=text] "creator"
 *   contributor  name/namePart + role/roleTerm[@type=text] "contributor"
 *                (LoC: name/namePart; the role keeps the distinction, as
 *                LoC's note 1 under Creator suggests)
 *   subject      subject/topic (LoC's default)
 *   description  abstract (LoC lists abstract, note, tableOfContents and
 *                suggests note; we use abstract because a DC description is
 *                usually a summary, and abstract maps back to description)
 *   publisher    originInfo/publisher
 *   date         originInfo/dateOther (LoC's default)
 *   type         a DCMI Type term: genre[@authority=dct] plus the matching
 *                typeOfResource where one exists (LoC's rule); a MODS
 *                typeOfResource term: typeOfResource; anything else: genre
 *   format       physicalDescription/internetMediaType for a media type
 *                ("image/tiff"), else physicalDescription/form
 *   identifier   identifier (type="uri" for http:, https:, urn: values)
 *   source       relatedItem[@type=original] (LoC) holding identifier for a
 *                URI, else titleInfo/title
 *   language     language/languageTerm: type="code" authority="iso639-2b"
 *                for three lower-case letters, type="code"
 *                authority="rfc5646" for a language tag ("en", "en-GB"),
 *                else type="text"
 *   relation     relatedItem (no type), holding identifier or titleInfo/title
 *   coverage     subject/temporal when the value starts with a digit (a date
 *                or period), else subject/geographic (LoC lists temporal,
 *                geographic, hierarchicalGeographic, cartographics and leaves
 *                the choice to the application)
 *   rights       accessCondition (no type, as LoC's MODS list advised)
 *
 * MODS -> DC:
 *   titleInfo             title: nonSort title ": " subTitle ". "
 *                         partNumber ", " partName
 *   name                  creator when a roleTerm is creator/author (cre,
 *                         aut), when usage="primary", or when there is no
 *                         role; contributor otherwise (LoC leaves this to the
 *                         application).  Value: the nameParts joined ", ",
 *                         or displayForm
 *   subject/topic, name, occupation, titleInfo, genre    subject
 *   subject/geographic, temporal, hierarchicalGeographic,
 *     cartographics/coordinates                          coverage
 *   classification        subject
 *   abstract, note, tableOfContents                      description
 *   originInfo/publisher  publisher
 *   originInfo/dateIssued, dateCreated, dateCaptured, dateOther   date
 *   typeOfResource, genre type
 *   physicalDescription/form, internetMediaType, extent  format
 *   identifier, location/url                             identifier
 *   language/languageTerm language
 *   relatedItem[@type=original]   source; other relatedItem   relation
 *                         (its title, else identifier, else location/url)
 *   accessCondition       rights
 *   anything else (recordInfo, part, extension, ...) is not mapped. */
#include "descriptive_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* ---- DC -> MODS ------------------------------------------------------------ */

struct mods_out {
    xmlDocPtr doc;
    xmlNodePtr root;
    xmlNsPtr ns;
    xmlNodePtr origin_info;   /* shared by publisher and date values */
    xmlNodePtr phys_desc;     /* shared by format values */
    int oom;                  /* an allocation failed: give up at the end */
};

/* Node builders: on failure they note it in m->oom and return NULL, and
 * accept a NULL parent, so each rule reads straight through. */
static xmlNodePtr add(struct mods_out *m, xmlNodePtr parent, const char *name,
                      const char *text)
{
    xmlNodePtr n = NULL;

    if (parent)
        n = xmlNewTextChild(parent, m->ns, BAD_CAST name, BAD_CAST text);
    if (!n)
        m->oom = 1;
    return n;
}

static xmlNodePtr child(struct mods_out *m, xmlNodePtr parent,
                        const char *name)
{
    return add(m, parent, name, NULL);
}

static void prop(struct mods_out *m, xmlNodePtr n, const char *name,
                 const char *value)
{
    if (!n || !xmlNewProp(n, BAD_CAST name, BAD_CAST value))
        m->oom = 1;
}

static int starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int is_uri(const char *v)
{
    return (starts_with_ci(v, "http://") || starts_with_ci(v, "https://") ||
            starts_with_ci(v, "urn:")) &&
           !strpbrk(v, " \t\r\n");
}

/* RFC 6838 media type, loosely: token "/" token, optional parameters. */
static int is_media_type(const char *v)
{
    static const char tok[] = "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&-^_.+";
    size_t a = strspn(v, tok), b;

    if (a == 0 || v[a] != '/')
        return 0;
    b = strspn(v + a + 1, tok);
    if (b == 0)
        return 0;
    v += a + 1 + b;
    return *v == '\0' || *v == ';';
}

/* An ISO 639-2 code: exactly three lower-case ASCII letters. */
static int is_iso639_2(const char *v)
{
    size_t i;

    for (i = 0; i < 3; i++)
        if (v[i] < 'a' || v[i] > 'z')
            return 0;
    return v[3] == '\0';
}

/* "en", "en-GB", "zh-Hant-TW": a BCP 47 tag with a two-letter primary. */
static int is_language_tag(const char *v)
{
    size_t i, seg = 0;

    if (!(v[0] >= 'a' && v[0] <= 'z' && v[1] >= 'a' && v[1] <= 'z'))
        return 0;
    if (v[2] == '\0')
        return 1;
    if (v[2] != '-')
        return 0;
    for (i = 3; v[i]; i++) {
        if (v[i] == '-') {
            if (seg == 0)
                return 0;
            seg = 0;
        } else if (isalnum((unsigned char)v[i]) && seg < 8) {
            seg++;
        } else {
            return 0;
        }
    }
    return seg > 0;
}

/* DCMI Type vocabulary -> MODS typeOfResource (NULL: none fits). */
static const struct {
    const char *dcmi;
    const char *mods;
} dcmi_types[] = {
    {"Collection", "mixed material"},   /* with collection="yes" */
    {"Dataset", "software, multimedia"},
    {"Event", NULL},
    {"Image", "still image"},
    {"InteractiveResource", "software, multimedia"},
    {"MovingImage", "moving image"},
    {"PhysicalObject", "three dimensional object"},
    {"Service", NULL},
    {"Software", "software, multimedia"},
    {"Sound", "sound recording"},
    {"StillImage", "still image"},
    {"Text", "text"},
};

/* The MODS typeOfResource vocabulary. */
static const char *const mods_types[] = {
    "text",           "cartographic",         "notated music",
    "sound recording-musical", "sound recording-nonmusical",
    "sound recording", "still image",         "moving image",
    "three dimensional object", "software, multimedia", "mixed material",
    NULL,
};

static void add_type(struct mods_out *m, const char *v)
{
    xmlNodePtr n;
    size_t i;

    for (i = 0; i < sizeof dcmi_types / sizeof dcmi_types[0]; i++) {
        if (strcasecmp(v, dcmi_types[i].dcmi) != 0)
            continue;
        if (dcmi_types[i].mods) {
            n = add(m, m->root, "typeOfResource", dcmi_types[i].mods);
            if (i == 0)
                prop(m, n, "collection", "yes");
        }
        n = add(m, m->root, "genre", dcmi_types[i].dcmi);
        prop(m, n, "authority", "dct");
        return;
    }
    for (i = 0; mods_types[i]; i++) {
        if (strcasecmp(v, mods_types[i]) == 0) {
            add(m, m->root, "typeOfResource", mods_types[i]);
            return;
        }
    }
    add(m, m->root, "genre", v);
}

static void add_name(struct mods_out *m, const char *v, const char *role)
{
    xmlNodePtr name = child(m, m->root, "name");

    add(m, name, "namePart", v);
    prop(m, add(m, child(m, name, "role"), "roleTerm", role), "type", "text");
}

static void add_related(struct mods_out *m, const char *v, const char *type)
{
    xmlNodePtr ri = child(m, m->root, "relatedItem");

    if (type)
        prop(m, ri, "type", type);
    if (is_uri(v))
        prop(m, add(m, ri, "identifier", v), "type", "uri");
    else
        add(m, child(m, ri, "titleInfo"), "title", v);
}

static xmlNodePtr shared(struct mods_out *m, xmlNodePtr *slot,
                         const char *name)
{
    if (!*slot)
        *slot = child(m, m->root, name);
    return *slot;
}

static void add_language(struct mods_out *m, const char *v)
{
    xmlNodePtr n = add(m, child(m, m->root, "language"), "languageTerm", v);

    if (is_iso639_2(v)) {
        prop(m, n, "type", "code");
        prop(m, n, "authority", "iso639-2b");
    } else if (is_language_tag(v)) {
        prop(m, n, "type", "code");
        prop(m, n, "authority", "rfc5646");
    } else {
        prop(m, n, "type", "text");
    }
}

static void add_value(struct mods_out *m, const char *el, const char *v)
{
    xmlNodePtr n;

    if (strcmp(el, "title") == 0) {
        add(m, child(m, m->root, "titleInfo"), "title", v);
    } else if (strcmp(el, "creator") == 0) {
        add_name(m, v, "creator");
    } else if (strcmp(el, "contributor") == 0) {
        add_name(m, v, "contributor");
    } else if (strcmp(el, "subject") == 0) {
        add(m, child(m, m->root, "subject"), "topic", v);
    } else if (strcmp(el, "description") == 0) {
        add(m, m->root, "abstract", v);
    } else if (strcmp(el, "publisher") == 0) {
        add(m, shared(m, &m->origin_info, "originInfo"), "publisher", v);
    } else if (strcmp(el, "date") == 0) {
        add(m, shared(m, &m->origin_info, "originInfo"), "dateOther", v);
    } else if (strcmp(el, "type") == 0) {
        add_type(m, v);
    } else if (strcmp(el, "format") == 0) {
        add(m, shared(m, &m->phys_desc, "physicalDescription"),
            is_media_type(v) ? "internetMediaType" : "form", v);
    } else if (strcmp(el, "identifier") == 0) {
        n = add(m, m->root, "identifier", v);
        if (is_uri(v))
            prop(m, n, "type", "uri");
    } else if (strcmp(el, "source") == 0) {
        add_related(m, v, "original");
    } else if (strcmp(el, "language") == 0) {
        add_language(m, v);
    } else if (strcmp(el, "relation") == 0) {
        add_related(m, v, NULL);
    } else if (strcmp(el, "coverage") == 0) {
        add(m, child(m, m->root, "subject"),
            isdigit((unsigned char)v[0]) ? "temporal" : "geographic", v);
    } else if (strcmp(el, "rights") == 0) {
        add(m, m->root, "accessCondition", v);
    }
}

char *vl_dc_to_mods(const vl_dc *dc)
{
    struct mods_out m;
    char *out = NULL;
    size_t i;
    unsigned long failures = vl_alloc_failures();

    memset(&m, 0, sizeof m);
    /* An empty mods:mods is not valid MODS: nothing to write. */
    if (vl_dc_is_empty(dc))
        return NULL;
    m.doc = xmlNewDoc(BAD_CAST "1.0");
    if (!m.doc)
        goto done;
    m.root = xmlNewNode(NULL, BAD_CAST "mods");
    if (!m.root)
        goto done;
    xmlDocSetRootElement(m.doc, m.root);
    m.ns = xmlNewNs(m.root, BAD_CAST VL_NS_MODS, BAD_CAST "mods");
    if (!m.ns)
        goto done;
    xmlSetNs(m.root, m.ns);
    prop(&m, m.root, "version", "3.8");
    for (i = 0; i < vl_dc_count(dc); i++) {
        const char *el, *v;
        vl_dc_entry(dc, i, &el, &v);
        add_value(&m, el, v);
    }
    /* A value silently left out would be worse than no record. */
    if (m.oom)
        goto done;
    out = vl_xml_node_text(m.doc, m.root, 1);
done:
    xmlFreeDoc(m.doc);
    /* libxml2 can build a tree short of a namespace or node it could not
     * allocate, and say nothing */
    if (out && vl_alloc_failures() != failures) {
        free(out);
        out = NULL;
    }
    return out;
}

/* ---- MODS -> DC ------------------------------------------------------------ */

static int is_mods(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, VL_NS_MODS) == 0 &&
           (!name || strcmp((const char *)n->name, name) == 0);
}

static xmlNodePtr first_child(const xmlNode *n, const char *name)
{
    xmlNodePtr c;

    for (c = n->children; c; c = c->next)
        if (is_mods(c, name))
            return c;
    return NULL;
}

/* Text content with runs of white space collapsed and ends trimmed (MODS
 * files are usually indented); malloc'd, "" when none. */
static char *text_of(const xmlNode *n)
{
    xmlChar *raw = xmlNodeGetContent(n);
    char *out, *w;
    const char *r;
    int space = 0;

    if (!raw)
        return vl_strdup("");
    out = malloc(strlen((const char *)raw) + 1);
    if (out) {
        w = out;
        for (r = (const char *)raw; *r; r++) {
            if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
                space = w != out;
                continue;
            }
            if (space)
                *w++ = ' ';
            space = 0;
            *w++ = *r;
        }
        *w = '\0';
    }
    xmlFree(raw);
    return out;
}

struct mods_in {
    vl_dc *dc;
    const char *name;
    vl_error *err;
    vl_buf b;   /* scratch for joined values */
};

static int put(struct mods_in *in, const xmlNode *at, const char *el,
               const char *v)
{
    int rc;

    if (!v)
        return vl_error_oom(in->err);
    if (!*v)
        return VL_OK;
    rc = vl_dc_add(in->dc, el, v, in->err);
    if (rc != VL_OK)
        vl_error_set(in->err, rc, "%s:%ld: %s", in->name,
                     at ? xmlGetLineNo(at) : 0L, in->err ? in->err->msg : "");
    return rc;
}

static int put_text(struct mods_in *in, const xmlNode *n, const char *el)
{
    char *v = text_of(n);
    int rc = put(in, n, el, v);

    free(v);
    return rc;
}

/* Append a child's text to in->b with a separator when both are non-empty. */
static int join(struct mods_in *in, const xmlNode *n, const char *sep)
{
    char *v;
    int rc = VL_OK;

    if (!n)
        return VL_OK;
    v = text_of(n);
    if (!v)
        return vl_error_oom(in->err);
    if (*v) {
        if (in->b.len && sep)
            rc = vl_buf_append(&in->b, sep, strlen(sep), in->err);
        if (rc == VL_OK)
            rc = vl_buf_append(&in->b, v, strlen(v), in->err);
        if (rc == VL_EINPUT)
            vl_error_set(in->err, rc, "%s:%ld: value longer than 1 MiB",
                         in->name, xmlGetLineNo(n));
    }
    free(v);
    return rc;
}

static int title_of(struct mods_in *in, const xmlNode *ti)
{
    int rc;

    vl_buf_reset(&in->b);
    if ((rc = join(in, first_child(ti, "nonSort"), NULL)) != VL_OK)
        return rc;
    if ((rc = join(in, first_child(ti, "title"), " ")) != VL_OK ||
        (rc = join(in, first_child(ti, "subTitle"), ": ")) != VL_OK ||
        (rc = join(in, first_child(ti, "partNumber"), ". ")) != VL_OK ||
        (rc = join(in, first_child(ti, "partName"), ", ")) != VL_OK)
        return rc;
    return VL_OK;
}

static int name_value(struct mods_in *in, const xmlNode *name)
{
    xmlNodePtr c;
    int rc;

    vl_buf_reset(&in->b);
    for (c = name->children; c; c = c->next)
        if (is_mods(c, "namePart") && (rc = join(in, c, ", ")) != VL_OK)
            return rc;
    if (in->b.len == 0)
        return join(in, first_child(name, "displayForm"), NULL);
    return VL_OK;
}

static int is_creator_role(const xmlNode *name)
{
    static const char *const creators[] = {"creator", "author", "cre", "aut",
                                           NULL};
    xmlNodePtr role, term;
    xmlChar *usage = xmlGetProp(name, BAD_CAST "usage");
    int any = 0, creator = 0, i;

    if (usage) {
        creator = strcmp((const char *)usage, "primary") == 0;
        xmlFree(usage);
        if (creator)
            return 1;
    }
    for (role = name->children; role; role = role->next) {
        if (!is_mods(role, "role"))
            continue;
        for (term = role->children; term; term = term->next) {
            char *v;
            if (!is_mods(term, "roleTerm"))
                continue;
            any = 1;
            v = text_of(term);
            for (i = 0; v && creators[i]; i++)
                if (strcasecmp(v, creators[i]) == 0)
                    creator = 1;
            free(v);
        }
    }
    return creator || !any;
}

static int map_subject(struct mods_in *in, const xmlNode *subj)
{
    xmlNodePtr c, h;
    int rc = VL_OK;

    for (c = subj->children; c && rc == VL_OK; c = c->next) {
        if (!is_mods(c, NULL))
            continue;
        if (is_mods(c, "topic") || is_mods(c, "occupation") ||
            is_mods(c, "genre")) {
            rc = put_text(in, c, "subject");
        } else if (is_mods(c, "name")) {
            if ((rc = name_value(in, c)) == VL_OK)
                rc = put(in, c, "subject", in->b.data ? in->b.data : "");
        } else if (is_mods(c, "titleInfo")) {
            if ((rc = title_of(in, c)) == VL_OK)
                rc = put(in, c, "subject", in->b.data ? in->b.data : "");
        } else if (is_mods(c, "geographic") || is_mods(c, "temporal")) {
            rc = put_text(in, c, "coverage");
        } else if (is_mods(c, "hierarchicalGeographic")) {
            vl_buf_reset(&in->b);
            for (h = c->children; h && rc == VL_OK; h = h->next)
                if (is_mods(h, NULL))
                    rc = join(in, h, " -- ");
            if (rc == VL_OK)
                rc = put(in, c, "coverage", in->b.data ? in->b.data : "");
        } else if (is_mods(c, "cartographics")) {
            for (h = c->children; h && rc == VL_OK; h = h->next)
                if (is_mods(h, "coordinates"))
                    rc = put_text(in, h, "coverage");
        }
    }
    return rc;
}

static int map_related(struct mods_in *in, const xmlNode *ri)
{
    xmlChar *type = xmlGetProp(ri, BAD_CAST "type");
    const char *el = type && strcmp((const char *)type, "original") == 0
                         ? "source"
                         : "relation";
    xmlNodePtr ti = first_child(ri, "titleInfo"), n;
    int rc = VL_OK;

    xmlFree(type);
    vl_buf_reset(&in->b);
    if (ti)
        rc = title_of(in, ti);
    if (rc == VL_OK && in->b.len == 0)
        rc = join(in, first_child(ri, "identifier"), NULL);
    if (rc == VL_OK && in->b.len == 0 && (n = first_child(ri, "location")))
        rc = join(in, first_child(n, "url"), NULL);
    if (rc == VL_OK)
        rc = put(in, ri, el, in->b.data ? in->b.data : "");
    return rc;
}

static int map_top(struct mods_in *in, const xmlNode *n)
{
    static const char *const dates[] = {"dateIssued", "dateCreated",
                                        "dateCaptured", "dateOther", NULL};
    xmlNodePtr c;
    int rc = VL_OK, i;

    if (is_mods(n, "titleInfo")) {
        if ((rc = title_of(in, n)) == VL_OK)
            rc = put(in, n, "title", in->b.data ? in->b.data : "");
    } else if (is_mods(n, "name")) {
        if ((rc = name_value(in, n)) == VL_OK)
            rc = put(in, n, is_creator_role(n) ? "creator" : "contributor",
                     in->b.data ? in->b.data : "");
    } else if (is_mods(n, "subject")) {
        rc = map_subject(in, n);
    } else if (is_mods(n, "classification")) {
        rc = put_text(in, n, "subject");
    } else if (is_mods(n, "abstract") || is_mods(n, "note") ||
               is_mods(n, "tableOfContents")) {
        rc = put_text(in, n, "description");
    } else if (is_mods(n, "originInfo")) {
        for (c = n->children; c && rc == VL_OK; c = c->next) {
            if (is_mods(c, "publisher"))
                rc = put_text(in, c, "publisher");
            for (i = 0; dates[i] && rc == VL_OK; i++)
                if (is_mods(c, dates[i]))
                    rc = put_text(in, c, "date");
        }
    } else if (is_mods(n, "typeOfResource") || is_mods(n, "genre")) {
        rc = put_text(in, n, "type");
    } else if (is_mods(n, "physicalDescription")) {
        for (c = n->children; c && rc == VL_OK; c = c->next)
            if (is_mods(c, "form") || is_mods(c, "internetMediaType") ||
                is_mods(c, "extent"))
                rc = put_text(in, c, "format");
    } else if (is_mods(n, "identifier")) {
        rc = put_text(in, n, "identifier");
    } else if (is_mods(n, "location")) {
        for (c = n->children; c && rc == VL_OK; c = c->next)
            if (is_mods(c, "url"))
                rc = put_text(in, c, "identifier");
    } else if (is_mods(n, "language")) {
        for (c = n->children; c && rc == VL_OK; c = c->next)
            if (is_mods(c, "languageTerm"))
                rc = put_text(in, c, "language");
    } else if (is_mods(n, "relatedItem")) {
        rc = map_related(in, n);
    } else if (is_mods(n, "accessCondition")) {
        rc = put_text(in, n, "rights");
    }
    return rc;
}

int vl_mods_node_to_dc(const void *mods_node, vl_dc *out, const char *name,
                       vl_error *err)
{
    const xmlNode *root = mods_node;
    struct mods_in in;
    xmlNodePtr c;
    int rc = VL_OK;

    memset(&in, 0, sizeof in);
    in.dc = out;
    in.name = name;
    in.err = err;
    vl_buf_init(&in.b, VL_DC_VALUE_MAX);
    if (!is_mods(root, "mods")) {
        rc = vl_error_set(err, VL_EINPUT,
                          "%s: root element is not mods:mods (%s)", name,
                          VL_NS_MODS);
        goto done;
    }
    for (c = root->children; c && rc == VL_OK; c = c->next)
        rc = map_top(&in, c);
done:
    vl_buf_release(&in.b);
    return rc;
}

int vl_mods_to_dc(const char *mods_xml, size_t len, vl_dc *out, vl_error *err)
{
    void *doc = NULL;
    vl_dc *tmp = NULL;
    int rc;

    rc = vl_xml_read_safe(mods_xml, len, "MODS record", &doc, err);
    if (rc != VL_OK)
        goto done;
    tmp = vl_dc_new();
    if (!tmp) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* Into a scratch record first so a refusal adds nothing to out. */
    rc = vl_mods_node_to_dc(xmlDocGetRootElement(doc), tmp, "MODS record",
                            err);
    if (rc == VL_OK)
        rc = vl_dc_merge(out, tmp, err);
done:
    vl_dc_free(tmp);
    vl_xml_free(doc);
    return rc;
}
