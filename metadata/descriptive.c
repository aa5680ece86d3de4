/* Descriptive metadata given at ingest: the whole deposit's Dublin Core,
 * per-file Dublin Core (from metadata.csv), and the user's MODS record.
 *
 * --metadata FILE is recognised by content: XML (after an optional BOM and
 * white space, '<') is a MODS record (mods:mods) or Dublin Core (the first
 * element, depth first, with dc:* children in the DC 1.1 namespace, such as
 * oai_dc:dc); anything else is read as metadata.csv.  A file is loaded into
 * a scratch record and merged only when all of it was accepted, so a
 * refused file stores nothing.
 *
 * metadata.csv, in Archivematica's shape:
 *   - the header must have one "filename" column (case-insensitive);
 *   - "dc.ELEMENT" columns (ELEMENT one of the 15, case-insensitive) give
 *     values; repeated columns give repeated values; empty cells are skipped;
 *   - "dc.<anything else>" is refused, naming the column (a typo would
 *     otherwise lose metadata silently);
 *   - other columns (dcterms.*, custom fields) are ignored: Archivematica
 *     allows them and they have no place in simple DC;
 *   - filename "objects", "objects/", "data", "data/" is the whole deposit;
 *     "objects/x", "data/x" and "x" all mean the logical path "data/x";
 *     absolute names and ".." are refused. */
#include "descriptive_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define DC_SEARCH_DEPTH 8   /* how deep to look for the DC record */

struct file_md {
    char *logical;
    vl_dc *dc;
    size_t order;   /* load order, to keep merges stable */
};

struct vl_descriptive {
    vl_dc *deposit;
    struct file_md *files;   /* sorted by logical, unique after each load */
    size_t nfiles, cap;
    char *mods_xml;
};

vl_descriptive *vl_descriptive_new(void)
{
    return calloc(1, sizeof(vl_descriptive));
}

void vl_descriptive_free(vl_descriptive *d)
{
    size_t i;

    if (!d)
        return;
    vl_dc_free(d->deposit);
    for (i = 0; i < d->nfiles; i++) {
        free(d->files[i].logical);
        vl_dc_free(d->files[i].dc);
    }
    free(d->files);
    free(d->mods_xml);
    free(d);
}

vl_dc *vl_descriptive_deposit_dc(vl_descriptive *d)
{
    if (!d->deposit)
        d->deposit = vl_dc_new();
    return d->deposit;
}

static int file_cmp(const void *a, const void *b)
{
    const struct file_md *x = a, *y = b;
    int c = strcmp(x->logical, y->logical);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int key_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct file_md *)elem)->logical);
}

const vl_dc *vl_descriptive_file_dc(const vl_descriptive *d,
                                    const char *logical)
{
    const struct file_md *f;

    if (!d->nfiles)
        return NULL;
    f = bsearch(logical, d->files, d->nfiles, sizeof *f, key_cmp);
    return f ? f->dc : NULL;
}

size_t vl_descriptive_file_count(const vl_descriptive *d)
{
    return d->nfiles;
}

const char *vl_descriptive_file_path(const vl_descriptive *d, size_t i)
{
    return i < d->nfiles ? d->files[i].logical : NULL;
}

const char *vl_descriptive_mods_xml(const vl_descriptive *d)
{
    return d->mods_xml;
}

/* Append an entry (taking ownership of logical and dc on success). */
static int file_push(vl_descriptive *d, char *logical, vl_dc *dc,
                     vl_error *err)
{
    if (VL_GROW(d->files, d->cap, d->nfiles + 1, err) != VL_OK)
        return VL_ESYS;
    d->files[d->nfiles].logical = logical;
    d->files[d->nfiles].dc = dc;
    d->files[d->nfiles].order = d->nfiles;
    d->nfiles++;
    return VL_OK;
}

/* Sort by path and fold rows for the same file into one record, values in
 * the order given. */
static int files_normalize(vl_descriptive *d, vl_error *err)
{
    size_t i, w = 0;
    int rc = VL_OK;

    if (d->nfiles < 2)
        return VL_OK;
    for (i = 0; i < d->nfiles; i++)
        d->files[i].order = i;
    qsort(d->files, d->nfiles, sizeof *d->files, file_cmp);
    for (i = 0; i < d->nfiles; i++) {
        if (w > 0 && strcmp(d->files[w - 1].logical, d->files[i].logical) == 0) {
            if (rc == VL_OK)
                rc = vl_dc_merge(d->files[w - 1].dc, d->files[i].dc, err);
            free(d->files[i].logical);
            vl_dc_free(d->files[i].dc);
            continue;
        }
        d->files[w++] = d->files[i];
    }
    d->nfiles = w;
    return rc;
}

/* Move everything from src (a freshly loaded file) into d. */
static int absorb(vl_descriptive *d, vl_descriptive *src, vl_error *err)
{
    vl_dc *dep;
    size_t i;
    int rc;

    if (src->deposit && !vl_dc_is_empty(src->deposit)) {
        if (!(dep = vl_descriptive_deposit_dc(d)))
            return vl_error_oom(err);
        if ((rc = vl_dc_merge(dep, src->deposit, err)) != VL_OK)
            return rc;
    }
    for (i = 0; i < src->nfiles; i++) {
        if ((rc = file_push(d, src->files[i].logical, src->files[i].dc,
                            err)) != VL_OK)
            return rc;
        src->files[i].logical = NULL;
        src->files[i].dc = NULL;
    }
    if (src->mods_xml) {
        d->mods_xml = src->mods_xml;
        src->mods_xml = NULL;
    }
    return files_normalize(d, err);
}

/* ---- filling from a stored METS (mets_read.c) ----------------------------- */

int vl_descriptive_set_mods_xml(vl_descriptive *d, const char *xml,
                                vl_error *err)
{
    char *copy = vl_strdup(xml);

    if (!copy)
        return vl_error_oom(err);
    free(d->mods_xml);
    d->mods_xml = copy;
    return VL_OK;
}

int vl_descriptive_add_file_dc(vl_descriptive *d, const char *logical,
                               const vl_dc *dc, vl_error *err)
{
    char *path = vl_strdup(logical);
    vl_dc *copy = vl_dc_new();
    int rc;

    if (!path || !copy) {
        rc = vl_error_oom(err);
        goto fail;
    }
    if ((rc = vl_dc_merge(copy, dc, err)) != VL_OK ||
        (rc = file_push(d, path, copy, err)) != VL_OK)
        goto fail;
    /* A METS lists files in path order, so sorting is rarely needed; when
     * it is, it also folds two records for one file into one. */
    if (d->nfiles > 1 &&
        strcmp(d->files[d->nfiles - 2].logical, logical) >= 0)
        return files_normalize(d, err);
    return VL_OK;
fail:
    free(path);
    vl_dc_free(copy);
    return rc;
}

/* ---- XML ------------------------------------------------------------------ */

static int in_ns(const xmlNode *n, const char *ns)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0;
}

static int has_dc_child(const xmlNode *n)
{
    const xmlNode *c;

    for (c = n->children; c; c = c->next)
        if (in_ns(c, VL_NS_DC))
            return 1;
    return 0;
}

static const xmlNode *find_dc_record(const xmlNode *n, int depth)
{
    const xmlNode *c, *r;

    if (has_dc_child(n))
        return n;
    if (depth >= DC_SEARCH_DEPTH)
        return NULL;
    for (c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && (r = find_dc_record(c, depth + 1)))
            return r;
    return NULL;
}

/* Text with the ends trimmed (inner line breaks are kept: a description
 * may have paragraphs); malloc'd. */
static char *trimmed_content(const xmlNode *n)
{
    xmlChar *raw = xmlNodeGetContent(n);
    const char *s, *e;
    char *out;

    if (!raw)
        return vl_strdup("");
    s = (const char *)raw;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                     e[-1] == '\r'))
        e--;
    out = vl_strndup(s, (size_t)(e - s));
    xmlFree(raw);
    return out;
}

static int load_dc_xml(vl_descriptive *t, const xmlNode *rec, const char *name,
                       vl_error *err)
{
    const xmlNode *c;
    vl_dc *dc = vl_descriptive_deposit_dc(t);
    char *v = NULL;
    int rc = VL_OK;

    if (!dc)
        return vl_error_oom(err);
    for (c = rec->children; c && rc == VL_OK; c = c->next) {
        if (!in_ns(c, VL_NS_DC))
            continue;
        /* Element names in XML are case-sensitive: dc:Title is not DC. */
        if (vl_dc_element_index((const char *)c->name) < 0 ||
            strcmp((const char *)c->name,
                   vl_dc_elements()[vl_dc_element_index(
                       (const char *)c->name)]) != 0) {
            char *esc = vl_name_escape((const char *)c->name);
            rc = vl_error_set(err, VL_EINPUT,
                              "%s:%ld: <dc:%s> is not a Dublin Core element",
                              name, xmlGetLineNo(c), esc ? esc : "?");
            free(esc);
            break;
        }
        if (!(v = trimmed_content(c))) {
            rc = vl_error_oom(err);
            break;
        }
        if (*v && (rc = vl_dc_add(dc, (const char *)c->name, v, err)) != VL_OK)
            vl_error_set(err, rc, "%s:%ld: %s", name, xmlGetLineNo(c),
                         err ? err->msg : "");
        free(v);
    }
    return rc;
}

static int load_xml(vl_descriptive *t, const char *name, const char *data,
                    size_t len, vl_error *err)
{
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    const xmlNode *rec;
    void *vdoc = NULL;
    int rc;

    rc = vl_xml_read_safe(data, len, name, &vdoc, err);
    doc = vdoc;
    if (rc != VL_OK)
        goto done;
    root = xmlDocGetRootElement(doc);
    if (in_ns(root, VL_NS_MODS) && strcmp((const char *)root->name, "mods") == 0) {
        vl_dc *dc = vl_descriptive_deposit_dc(t);
        if (!dc) {
            rc = vl_error_oom(err);
            goto done;
        }
        if ((rc = vl_mods_node_to_dc(root, dc, name, err)) != VL_OK)
            goto done;
        /* Keep the record as given for the METS dmdSec. */
        if (!(t->mods_xml = vl_xml_node_text(doc, root, 0))) {
            rc = vl_error_oom(err);
            goto done;
        }
        goto done;
    }
    if (in_ns(root, VL_NS_MODS)) {
        rc = vl_error_set(err, VL_EINPUT,
                          "%s:%ld: <%s> is not accepted: give one mods:mods "
                          "record",
                          name, xmlGetLineNo(root), (const char *)root->name);
        goto done;
    }
    rec = find_dc_record(root, 0);
    if (!rec) {
        rc = vl_error_set(err, VL_EINPUT,
                          "%s: neither a MODS record (mods:mods in " VL_NS_MODS
                          ") nor Dublin Core (dc:* elements in " VL_NS_DC ")",
                          name);
        goto done;
    }
    rc = load_dc_xml(t, rec, name, err);
done:
    xmlFreeDoc(doc);
    return rc;
}

/* ---- CSV ------------------------------------------------------------------ */

enum { COL_IGNORE = -1, COL_FILENAME = -2 };

struct csv_load {
    vl_descriptive *t;
    const char *name;
    int *cols;      /* per header column: COL_* or a DC element index */
    size_t ncols;
    int have_header;
};

static void trim_in_place(char **s)
{
    char *p = *s, *e;

    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    e = p + strlen(p);
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
                     e[-1] == '\n'))
        *--e = '\0';
    *s = p;
}

static int csv_header(struct csv_load *L, char **fields, size_t n,
                      vl_error *err)
{
    size_t i;
    int have_filename = 0, idx;

    L->cols = calloc(n, sizeof *L->cols);
    if (!L->cols)
        return vl_error_oom(err);
    L->ncols = n;
    for (i = 0; i < n; i++) {
        char *h = fields[i];
        trim_in_place(&h);
        L->cols[i] = COL_IGNORE;
        if (strcasecmp(h, "filename") == 0) {
            if (have_filename)
                return vl_error_set(err, VL_EINPUT,
                                    "%s: row 1: two 'filename' columns",
                                    L->name);
            have_filename = 1;
            L->cols[i] = COL_FILENAME;
        } else if (strncasecmp(h, "dc.", 3) == 0) {
            idx = vl_dc_element_index(h + 3);
            if (idx < 0) {
                char *esc = vl_name_escape(h);
                vl_error_set(err, VL_EINPUT,
                             "%s: row 1: column '%s' is not a Dublin Core "
                             "element (dc.title, dc.creator, ...)",
                             L->name, esc ? esc : "?");
                free(esc);
                return VL_EINPUT;
            }
            L->cols[i] = idx;
        }
    }
    if (!have_filename)
        return vl_error_set(err, VL_EINPUT,
                            "%s: not XML, and as CSV its header has no "
                            "'filename' column (expected DC XML, MODS XML or "
                            "metadata.csv with filename and dc.* columns)",
                            L->name);
    L->have_header = 1;
    return VL_OK;
}

/* The filename cell -> NULL (whole deposit) or a malloc'd "data/x" in
 * *logical.  Returns a status. */
static int csv_target(struct csv_load *L, size_t row, const char *fn,
                      char **logical, vl_error *err)
{
    const char *rest = fn, *p;
    char *esc = NULL;
    int rc = VL_OK;
    vl_error perr;

    *logical = NULL;
    if (!*fn)
        return vl_error_set(err, VL_EINPUT, "%s: row %zu: empty filename",
                            L->name, row);
    if (strcmp(fn, "objects") == 0 || strcmp(fn, "objects/") == 0 ||
        strcmp(fn, VL_PAYLOAD_DIR) == 0 || strcmp(fn, VL_PAYLOAD_PREFIX) == 0)
        return VL_OK;
    esc = vl_name_escape(fn);
    if (fn[0] == '/') {
        rc = vl_error_set(err, VL_EINPUT,
                          "%s: row %zu: filename '%s' is absolute; give it "
                          "relative to the deposit",
                          L->name, row, esc ? esc : "?");
        goto done;
    }
    for (p = fn; p; p = strchr(p, '/')) {
        if (*p == '/')
            p++;
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0')) {
            rc = vl_error_set(err, VL_EINPUT,
                              "%s: row %zu: filename '%s' contains '..'",
                              L->name, row, esc ? esc : "?");
            goto done;
        }
    }
    if (strncmp(fn, "objects/", 8) == 0)
        rest = fn + 8;
    else if (strncmp(fn, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN) == 0)
        rest = fn + VL_PAYLOAD_PREFIX_LEN;
    *logical = vl_asprintf(VL_PAYLOAD_PREFIX "%s", rest);
    if (!*logical) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (vl_logical_path_check(*logical, &perr) != VL_OK) {
        rc = vl_error_set(err, VL_EINPUT, "%s: row %zu: filename '%s': %s",
                          L->name, row, esc ? esc : "?", perr.msg);
        free(*logical);
        *logical = NULL;
        goto done;
    }
done:
    free(esc);
    return rc;
}

static int csv_row(void *arg, size_t row, size_t line, char **fields,
                   size_t n, vl_error *err)
{
    struct csv_load *L = arg;
    char *logical = NULL, *fn = NULL;
    vl_dc *dc = NULL, *target;
    size_t i;
    int rc = VL_OK;

    if (!L->have_header)
        return csv_header(L, fields, n, err);
    if (n == 1 && fields[0][0] == '\0')
        return VL_OK;   /* a blank line */
    if (n > L->ncols)
        return vl_error_set(err, VL_EINPUT,
                            "%s: row %zu (line %zu): %zu fields but the "
                            "header has %zu",
                            L->name, row, line, n, L->ncols);
    for (i = 0; i < n; i++)
        if (L->cols[i] == COL_FILENAME)
            fn = fields[i];
    if ((rc = csv_target(L, row, fn ? fn : "", &logical, err)) != VL_OK)
        goto done;
    if (logical) {
        if (!(dc = vl_dc_new())) {
            rc = vl_error_oom(err);
            goto done;
        }
        target = dc;
    } else if (!(target = vl_descriptive_deposit_dc(L->t))) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (i = 0; i < n; i++) {
        char *v = fields[i];
        if (L->cols[i] < 0)
            continue;
        trim_in_place(&v);
        if (!*v)
            continue;
        rc = vl_dc_add(target, vl_dc_elements()[L->cols[i]], v, err);
        if (rc != VL_OK) {
            vl_error_set(err, rc, "%s: row %zu: %s", L->name, row,
                         err ? err->msg : "");
            goto done;
        }
    }
    if (dc && !vl_dc_is_empty(dc)) {
        if ((rc = file_push(L->t, logical, dc, err)) != VL_OK)
            goto done;
        logical = NULL;
        dc = NULL;
    }
done:
    free(logical);
    vl_dc_free(dc);
    return rc;
}

static int load_csv(vl_descriptive *t, const char *name, const char *data,
                    size_t len, vl_error *err)
{
    struct csv_load L;
    int rc;

    memset(&L, 0, sizeof L);
    L.t = t;
    L.name = name;
    rc = vl_csv_parse(data, len, name, csv_row, &L, err);
    if (rc == VL_OK && !L.have_header)
        rc = vl_error_set(err, VL_EINPUT, "%s: empty file", name);
    free(L.cols);
    return rc;
}

/* ---- loading ---------------------------------------------------------------- */

int vl_descriptive_load_memory(vl_descriptive *d, const char *name,
                               const char *data, size_t len, vl_error *err)
{
    vl_descriptive *t = NULL;
    size_t i = 0;
    int rc;

    if (len > VL_META_FILE_MAX)
        return vl_error_set(err, VL_EINPUT, "%s: larger than 64 MiB", name);
    t = vl_descriptive_new();
    if (!t)
        return vl_error_oom(err);
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
                       data[i] == '\n'))
        i++;
    if (i == len) {
        rc = vl_error_set(err, VL_EINPUT, "%s: empty file", name);
        goto done;
    }
    if (data[i] == '<')
        rc = load_xml(t, name, data, len, err);
    else
        rc = load_csv(t, name, data, len, err);
    if (rc != VL_OK)
        goto done;
    if (t->mods_xml && d->mods_xml) {
        rc = vl_error_set(err, VL_EINPUT,
                          "%s: a MODS record was already given; only one is "
                          "accepted",
                          name);
        goto done;
    }
    rc = absorb(d, t, err);
done:
    vl_descriptive_free(t);
    return rc;
}

int vl_descriptive_load(vl_descriptive *d, const char *path, vl_error *err)
{
    vl_buf buf;
    int rc;

    vl_buf_init(&buf, 0);
    rc = vl_fs_read_file(path, VL_META_FILE_MAX, &buf, err);
    if (rc == VL_OK)
        rc = vl_descriptive_load_memory(d, path, buf.data ? buf.data : "",
                                        buf.len, err);
    vl_buf_release(&buf);
    return rc;
}
