/* Dublin Core: the 15 elements of the DCMI Metadata Element Set 1.1, each
 * repeatable, kept in the order given; and the bag-info.txt -> DC table. */
#include "descriptive_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const dc_elements[] = {
    "title",      "creator", "subject",  "description", "publisher",
    "contributor", "date",   "type",     "format",      "identifier",
    "source",     "language", "relation", "coverage",   "rights",
    NULL,
};

struct dc_entry {
    int element;   /* index into dc_elements */
    char *value;
};

struct vl_dc {
    struct dc_entry *e;
    size_t n, cap;
};

vl_dc *vl_dc_new(void)
{
    return calloc(1, sizeof(vl_dc));
}

void vl_dc_free(vl_dc *dc)
{
    size_t i;

    if (!dc)
        return;
    for (i = 0; i < dc->n; i++)
        free(dc->e[i].value);
    free(dc->e);
    free(dc);
}

const char *const *vl_dc_elements(void)
{
    return dc_elements;
}

int vl_dc_element_index(const char *element)
{
    int i;

    for (i = 0; dc_elements[i]; i++)
        if (strcasecmp(element, dc_elements[i]) == 0)
            return i;
    return -1;
}

/* A value must be writable as XML 1.0 character data later (METS, MODS, DC
 * exports): valid UTF-8, no C0 controls other than tab/LF/CR, no DEL, no
 * U+FFFE/U+FFFF.  Refusing here means no writer has to. */
static const char *value_problem(const char *v, size_t len)
{
    size_t i;

    if (len > VL_DC_VALUE_MAX)
        return "value longer than 1 MiB";
    if (!vl_utf8_valid(v, len))
        return "value is not valid UTF-8";
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
            return "value contains a control character";
        if (c == 0xEF && i + 2 < len && (unsigned char)v[i + 1] == 0xBF &&
            ((unsigned char)v[i + 2] == 0xBE || (unsigned char)v[i + 2] == 0xBF))
            return "value contains U+FFFE or U+FFFF";
    }
    for (i = 0; i < len; i++)
        if (v[i] != ' ' && v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
            return NULL;
    return "value is empty";
}

static int dc_push(vl_dc *dc, int element, const char *value, vl_error *err)
{
    char *v;

    if (VL_GROW(dc->e, dc->cap, dc->n + 1, err) != VL_OK)
        return VL_ESYS;
    v = vl_strdup(value);
    if (!v)
        return vl_error_oom(err);
    dc->e[dc->n].element = element;
    dc->e[dc->n].value = v;
    dc->n++;
    return VL_OK;
}

int vl_dc_add(vl_dc *dc, const char *element, const char *value, vl_error *err)
{
    int idx = vl_dc_element_index(element);
    const char *problem;
    char *esc;

    if (idx < 0) {
        esc = vl_name_escape(element);
        vl_error_set(err, VL_EINPUT,
                     "'%s' is not a Dublin Core element (title, creator, "
                     "subject, description, publisher, contributor, date, "
                     "type, format, identifier, source, language, relation, "
                     "coverage, rights)",
                     esc ? esc : "?");
        free(esc);
        return VL_EINPUT;
    }
    problem = value_problem(value, strlen(value));
    if (problem)
        return vl_error_set(err, VL_EINPUT, "dc.%s: %s", dc_elements[idx],
                            problem);
    return dc_push(dc, idx, value, err);
}

int vl_dc_add_assignment(vl_dc *dc, const char *assignment, vl_error *err)
{
    const char *eq = strchr(assignment, '=');
    char *name = NULL, *esc;
    size_t a, b;
    int rc;

    if (!eq) {
        esc = vl_name_escape(assignment);
        vl_error_set(err, VL_EINPUT,
                     "--dc '%s': expected ELEMENT=VALUE, e.g. title=Letters",
                     esc ? esc : "?");
        free(esc);
        return VL_EINPUT;
    }
    /* Blanks around the element name are forgiven; the value is kept as
     * given after the first '=' (so "title=A=B" is "A=B"). */
    a = 0;
    b = (size_t)(eq - assignment);
    while (a < b && (assignment[a] == ' ' || assignment[a] == '\t'))
        a++;
    while (b > a && (assignment[b - 1] == ' ' || assignment[b - 1] == '\t'))
        b--;
    name = vl_strndup(assignment + a, b - a);
    if (!name)
        return vl_error_oom(err);
    rc = vl_dc_add(dc, name, eq + 1, err);
    if (rc != VL_OK)
        vl_error_set(err, rc, "--dc: %s", err ? err->msg : "");
    free(name);
    return rc;
}

size_t vl_dc_count(const vl_dc *dc)
{
    return dc ? dc->n : 0;
}

void vl_dc_entry(const vl_dc *dc, size_t i, const char **element,
                 const char **value)
{
    if (element)
        *element = dc_elements[dc->e[i].element];
    if (value)
        *value = dc->e[i].value;
}

int vl_dc_is_empty(const vl_dc *dc)
{
    return !dc || dc->n == 0;
}

int vl_dc_merge(vl_dc *dst, const vl_dc *src, vl_error *err)
{
    size_t i;
    int rc;

    for (i = 0; src && i < src->n; i++)
        if ((rc = dc_push(dst, src->e[i].element, src->e[i].value, err)) !=
            VL_OK)
            return rc;
    return VL_OK;
}

/* ---- bag-info.txt -> Dublin Core ------------------------------------------
 *
 * BagIt (RFC 8493 section 2.2.2) reserves bag-info labels that describe the
 * content and the sender.  vellum adds those that describe the deposit to
 * its Dublin Core, by this table (labels compared case-insensitively):
 *
 *   bag-info label               Dublin Core
 *   ---------------------------  -----------------------------------------
 *   Source-Organization          publisher
 *   Contact-Name                 contributor
 *   External-Description         description
 *   External-Identifier          identifier
 *   Internal-Sender-Identifier   identifier
 *   Internal-Sender-Description  description
 *   Bagging-Date                 date
 *   Bag-Group-Identifier         relation
 *   Title                        title      (not in RFC 8493, but common)
 *   Creator, Author              creator    (not in RFC 8493, but common)
 *   Organization-Address         - (an address, not about the content)
 *   Contact-Phone, Contact-Email - (contact details, not about the content)
 *   Payload-Oxum, Bag-Size,      - (describe the bag, not the content)
 *     Bag-Count,
 *     BagIt-Profile-Identifier
 *   any other label              - ignored
 *
 * Empty values are skipped.  The table is repeated in the README. */
static const struct {
    const char *label;
    const char *element;  /* NULL: skipped on purpose */
} bag_info_map[] = {
    {"Source-Organization", "publisher"},
    {"Contact-Name", "contributor"},
    {"External-Description", "description"},
    {"External-Identifier", "identifier"},
    {"Internal-Sender-Identifier", "identifier"},
    {"Internal-Sender-Description", "description"},
    {"Bagging-Date", "date"},
    {"Bag-Group-Identifier", "relation"},
    {"Title", "title"},
    {"Creator", "creator"},
    {"Author", "creator"},
    {"Organization-Address", NULL},
    {"Contact-Phone", NULL},
    {"Contact-Email", NULL},
    {"Payload-Oxum", NULL},
    {"Bag-Size", NULL},
    {"Bag-Count", NULL},
    {"BagIt-Profile-Identifier", NULL},
};

int vl_descriptive_add_bag_info(vl_descriptive *d, const char *label,
                                const char *value, vl_error *err)
{
    const char *element = NULL;
    const char *p;
    vl_dc *dc;
    size_t i;
    int rc;

    for (i = 0; i < sizeof bag_info_map / sizeof bag_info_map[0]; i++) {
        if (strcasecmp(label, bag_info_map[i].label) == 0) {
            element = bag_info_map[i].element;
            break;
        }
    }
    if (!element)
        return VL_OK;
    for (p = value; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
        ;
    if (!*p)
        return VL_OK;
    dc = vl_descriptive_deposit_dc(d);
    if (!dc)
        return vl_error_oom(err);
    rc = vl_dc_add(dc, element, value, err);
    if (rc != VL_OK)
        vl_error_set(err, rc, "bag-info.txt: %s: %s", label, err ? err->msg : "");
    return rc;
}
