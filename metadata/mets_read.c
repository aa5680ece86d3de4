/* Reading a vellum METS back: what each file is (its PREMIS object:
 * identifier, size, format, original name, and the fileSec MIME type) and
 * the descriptive metadata (deposit DC, the MODS record, per-file DC).
 * This is what lets the store alone say what every file is when the
 * catalog is lost, and what an export regenerates its METS from.
 *
 * Streaming (xmlTextReader): what must be joined at the end (a few
 * strings per file, and an object may hold a million files) goes to a
 * private scratch database, so memory does not grow with the file count;
 * only the dmdSecs are held in memory.  Links are followed by the METS's own references,
 * never by guessing from ID spelling:
 *   file   --ADMID-->  techMD (PREMIS object: the logical path)
 *   div    --DMDID-->  dmdSec, and the div's fptr --FILEID--> file
 *   the outermost div of the structMap --DMDID--> the deposit's dmdSecs
 * (only when a METS has no structMap links are "dmd-dc"/"dmd-mods" taken
 * as the deposit's, as vl_mets_write names them).
 *
 * The input is refused if it has a DOCTYPE: a vellum METS never has one,
 * and without it there is nothing to expand or fetch (with
 * XML_PARSE_NONET and no XML_PARSE_NOENT besides). */
#include "descriptive_internal.h"
#include "mets_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/uri.h>
#include <libxml/xmlreader.h>
#include <sqlite3.h>

#define METS_NAME_MAX 4096   /* an ID list or a path; longer is not ours */

typedef struct techmd {
    char *id;
    char *logical, *name, *version, *puid, *original, *encoding, *description;
    char *modified;   /* dateCreatedByApplication */
    char *basis, *warning, *others, *signatures;   /* PRONOM's notes */
    uint64_t size;
    int used;
    char *id_type;      /* the objectIdentifierType just read */
    char *reg_name;     /* the formatRegistryName just read */
} techmd;

typedef struct mfile {
    char *id, *admid, *mime, *href;
} mfile;

typedef struct dmd {
    char *id;
    vl_dc *dc;
    char *mods;
} dmd;

enum { SEC_NONE, SEC_DMD, SEC_TECHMD, SEC_FILESEC, SEC_STRUCT };

/* The scratch tables, in the order things are met; ord keeps that order
 * for the joins (IDs may repeat: the first one met wins). */
static const char schema[] =
    "CREATE TABLE t(ord INTEGER PRIMARY KEY, id TEXT, logical TEXT,"
    " name TEXT, version TEXT, puid TEXT, original TEXT, encoding TEXT,"
    " description TEXT, modified TEXT, basis TEXT, warning TEXT,"
    " others TEXT, signatures TEXT, size INTEGER,"
    " used INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE f(ord INTEGER PRIMARY KEY, id TEXT, admid TEXT, mime TEXT,"
    " href TEXT);"
    "CREATE TABLE it(ord INTEGER PRIMARY KEY, dmdid TEXT, fileid TEXT);";

/* The PREMIS object columns, as report() reads them from column 2 on. */
#define T_COLS "logical, name, version, puid, original, encoding,"          \
               " description, modified, basis, warning, others, signatures," \
               " size"

enum { ST_INS_T, ST_INS_F, ST_INS_IT, ST_T_BY_ID, ST_T_USED, ST_F_BY_ID,
       ST_F_ALL, ST_T_UNUSED, ST_IT_ALL, ST_COUNT };

static const char *const sql[ST_COUNT] = {
    [ST_INS_T] = "INSERT INTO t(id, " T_COLS ") VALUES"
                 " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [ST_INS_F] = "INSERT INTO f(id, admid, mime, href) VALUES (?1, ?2, ?3, ?4)",
    [ST_INS_IT] = "INSERT INTO it(dmdid, fileid) VALUES (?1, ?2)",
    [ST_T_BY_ID] = "SELECT ord, used, " T_COLS " FROM t WHERE id = ?1"
                   " ORDER BY ord LIMIT 1",
    [ST_T_USED] = "UPDATE t SET used = 1 WHERE ord = ?1",
    [ST_F_BY_ID] = "SELECT admid, href FROM f WHERE id = ?1 ORDER BY ord"
                   " LIMIT 1",
    [ST_F_ALL] = "SELECT admid, mime FROM f ORDER BY ord",
    [ST_T_UNUSED] = "SELECT ord, used, " T_COLS " FROM t WHERE used = 0"
                    " ORDER BY ord",
    [ST_IT_ALL] = "SELECT dmdid, fileid FROM it ORDER BY ord",
};

typedef struct mr {
    xmlTextReaderPtr r;
    const char *name;
    /* input */
    vl_read_fn rd;
    void *rd_arg;
    vl_error io_err;
    int io_failed;
    int prolog;         /* scanning the prolog: 0 done, else scanner state */
    int refused;        /* a DOCTYPE (or non-UTF-8 start) was seen */
    /* the first parser error */
    char perr[512];
    /* what was read: PREMIS objects, files and structMap links in the
     * scratch database (tables t, f, it), dmdSecs here */
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    techmd cur_t;       /* the PREMIS object being read */
    int in_t;
    mfile cur_f;        /* the fileSec file being read (an FLocat after
                           its end tag still belongs to it) */
    int in_f;
    dmd *d;
    size_t nd, cd;
    char **divs;        /* DMDID of each open div (or NULL) */
    size_t ndivs, cdivs;
    /* where we are */
    int sec, sec_depth;
    int struct_seen;    /* only the first structMap is read */
    char *sec_id;       /* ID of the open dmdSec/techMD */
    dmd *cur_dmd;       /* the dmdSec being read */
    int dc_depth;       /* depth of its oai_dc:dc, or -1 */
    int obj_depth;
} mr;

/* ---- input -------------------------------------------------------------- */

/* Prolog scanner: refuses "<!" that is not a comment before the root
 * element (a DOCTYPE), and a NUL there (UTF-16 would hide one).  States:
 * 1 text, 2 after '<', 3 in <?...?>, 4 '?' seen in a PI, 5 after "<!",
 * 6 after "<!-", 7 in a comment, 8 '-' seen, 9 "--" seen. */
static void scan_prolog(mr *m, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n && m->prolog && !m->refused; i++) {
        unsigned char c = p[i];
        if (c == 0) {
            m->refused = 1;
            break;
        }
        switch (m->prolog) {
        case 1: if (c == '<') m->prolog = 2; break;
        case 2:
            if (c == '?')
                m->prolog = 3;
            else if (c == '!')
                m->prolog = 5;
            else
                m->prolog = 0;   /* the root element: the prolog is over */
            break;
        case 3: if (c == '?') m->prolog = 4; break;
        case 4: m->prolog = c == '>' ? 1 : c == '?' ? 4 : 3; break;
        case 5:
            if (c == '-')
                m->prolog = 6;
            else
                m->refused = 1;  /* <!DOCTYPE (or anything but a comment) */
            break;
        case 6:
            if (c == '-')
                m->prolog = 7;
            else
                m->refused = 1;
            break;
        case 7: if (c == '-') m->prolog = 8; break;
        case 8: m->prolog = c == '-' ? 9 : 7; break;
        case 9: m->prolog = c == '>' ? 1 : c == '-' ? 9 : 7; break;
        }
    }
}

static int io_read(void *ctx, char *buf, int len)
{
    mr *m = ctx;
    ssize_t n;
    if (m->refused || m->io_failed)
        return -1;
    n = m->rd(m->rd_arg, buf, (size_t)len, &m->io_err);
    if (n < 0) {
        m->io_failed = 1;
        return -1;
    }
    if (m->prolog)
        scan_prolog(m, (const unsigned char *)buf, (size_t)n);
    return m->refused ? -1 : (int)n;
}

static int io_close(void *ctx)
{
    return 0;   /* the caller owns the stream */
}

static void on_error(void *arg, xmlErrorPtr e)
{
    mr *m = arg;
    size_t l;
    if (!e || m->perr[0] || e->level < XML_ERR_ERROR)
        return;
    snprintf(m->perr, sizeof m->perr, "%s:%d: %s", m->name, e->line,
             e->message ? e->message : "malformed XML");
    l = strlen(m->perr);
    if (l && m->perr[l - 1] == '\n')
        m->perr[l - 1] = '\0';
}

/* ---- small helpers ------------------------------------------------------ */

static int is(mr *m, const char *ns, const char *local)
{
    const char *u = (const char *)xmlTextReaderConstNamespaceUri(m->r);
    const char *l = (const char *)xmlTextReaderConstLocalName(m->r);
    return u && l && !strcmp(u, ns) && !strcmp(l, local);
}

static char *attr(mr *m, const char *name)
{
    xmlChar *v = xmlTextReaderGetAttribute(m->r, BAD_CAST name);
    char *s = v ? vl_strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

/* Text content of the current element (malloc'd; "" when empty). */
static char *text(mr *m)
{
    xmlChar *v = xmlTextReaderReadString(m->r);
    char *s = vl_strdup(v ? (const char *)v : "");
    xmlFree(v);
    return s;
}

/* Set *slot to the element's text, keeping the first value seen. */
static int set_text(mr *m, char **slot)
{
    if (*slot)
        return VL_OK;
    return (*slot = text(m)) ? VL_OK : VL_ESYS;
}

/* Next space-separated token of an IDREFS list into out. */
static const char *next_token(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (!*s)
        return NULL;
    while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
        if (n + 1 < cap)
            out[n++] = *s;
        s++;
    }
    out[n] = '\0';
    return s;
}

/* ---- the scratch tables --------------------------------------------------- */

static int db_fail(mr *m, vl_error *err)
{
    return vl_error_set(err, VL_ESYS, "%s: scratch index: %s", m->name,
                        m->db ? sqlite3_errmsg(m->db) : "out of memory");
}

/* The prepared statement (prepared once), reset and unbound; NULL with
 * err set on failure. */
static sqlite3_stmt *stmt(mr *m, int which, vl_error *err)
{
    sqlite3_stmt **st = &m->st[which];
    if (!*st && sqlite3_prepare_v2(m->db, sql[which], -1, st, NULL) != SQLITE_OK) {
        db_fail(m, err);
        return NULL;
    }
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    return *st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Run a statement that returns no rows. */
static int run(mr *m, sqlite3_stmt *st, vl_error *err)
{
    int code = sqlite3_step(st);
    sqlite3_reset(st);
    return code == SQLITE_DONE ? VL_OK : db_fail(m, err);
}

static void techmd_clear(techmd *t)
{
    free(t->id); free(t->logical); free(t->name); free(t->version);
    free(t->puid); free(t->original); free(t->encoding); free(t->modified);
    free(t->description); free(t->id_type); free(t->reg_name);
    free(t->basis); free(t->warning); free(t->others); free(t->signatures);
    memset(t, 0, sizeof *t);
}

static void mfile_clear(mfile *f)
{
    free(f->id); free(f->admid); free(f->mime); free(f->href);
    memset(f, 0, sizeof *f);
}

/* The PREMIS object read so far goes to table t. */
static int flush_t(mr *m, vl_error *err)
{
    techmd *t = &m->cur_t;
    sqlite3_stmt *st;
    int rc;
    if (!m->in_t)
        return VL_OK;
    m->in_t = 0;
    if (!(st = stmt(m, ST_INS_T, err))) {
        techmd_clear(t);
        return VL_ESYS;
    }
    const char *v[] = {t->id, t->logical, t->name, t->version, t->puid,
                       t->original, t->encoding, t->description, t->modified,
                       t->basis, t->warning, t->others, t->signatures};
    for (int i = 0; i < (int)(sizeof v / sizeof *v); i++)
        bind_text(st, i + 1, v[i]);
    sqlite3_bind_int64(st, 14, (sqlite3_int64)t->size);
    rc = run(m, st, err);
    techmd_clear(t);
    return rc;
}

/* The fileSec file read so far goes to table f (an absent ID is "", as
 * an IDREF can never name it but an empty one). */
static int flush_f(mr *m, vl_error *err)
{
    mfile *f = &m->cur_f;
    sqlite3_stmt *st;
    int rc;
    if (!m->in_f)
        return VL_OK;
    m->in_f = 0;
    if (!(st = stmt(m, ST_INS_F, err))) {
        mfile_clear(f);
        return VL_ESYS;
    }
    bind_text(st, 1, f->id ? f->id : "");
    bind_text(st, 2, f->admid);
    bind_text(st, 3, f->mime);
    bind_text(st, 4, f->href);
    rc = run(m, st, err);
    mfile_clear(f);
    return rc;
}

/* ---- descriptive sections ----------------------------------------------- */

/* mods:mods as a document of its own, so that the namespaces declared on
 * mets:mets come along (xmlDocCopyNode declares them on the copy). */
static int read_mods(mr *m, vl_error *err)
{
    xmlNodePtr node = xmlTextReaderExpand(m->r), copy;
    xmlDocPtr doc = NULL;
    char *text = NULL;
    int rc = VL_OK;

    if (!node) {
        rc = VL_EINPUT;   /* the parser error says why */
        goto done;
    }
    if (m->cur_dmd->mods)
        goto done;
    if (!(doc = xmlNewDoc(BAD_CAST "1.0")) ||
        !(copy = xmlDocCopyNode(node, doc, 1))) {
        rc = vl_error_oom(err);
        goto done;
    }
    xmlDocSetRootElement(doc, copy);
    xmlReconciliateNs(doc, copy);
    if (!(text = vl_xml_node_text(doc, copy, 0))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (strlen(text) > VL_META_FILE_MAX) {
        rc = vl_error_set(err, VL_EINPUT, "%s: the MODS record is larger "
                          "than 64 MiB", m->name);
        goto done;
    }
    m->cur_dmd->mods = text;
    text = NULL;
done:
    free(text);
    xmlFreeDoc(doc);
    return rc;
}

static int dmd_element(mr *m, int depth, int *skip, vl_error *err)
{
    const char *ln = (const char *)xmlTextReaderConstLocalName(m->r);
    int rc = VL_OK;

    if (!m->cur_dmd) {
        if (VL_GROW(m->d, m->cd, m->nd + 1, err) != VL_OK)
            return VL_ESYS;
        m->cur_dmd = &m->d[m->nd++];
        memset(m->cur_dmd, 0, sizeof *m->cur_dmd);
        m->cur_dmd->id = m->sec_id;
        m->sec_id = NULL;
    }
    if (is(m, VL_NS_OAI_DC, "dc") && m->dc_depth < 0 && !m->cur_dmd->dc) {
        if (!(m->cur_dmd->dc = vl_dc_new()))
            return vl_error_oom(err);
        m->dc_depth = depth;
    } else if (m->dc_depth >= 0 && depth == m->dc_depth + 1 &&
               is(m, VL_NS_DC, ln) && vl_dc_element_index(ln) >= 0 &&
               !strcmp(ln, vl_dc_elements()[vl_dc_element_index(ln)])) {
        char *v = text(m);
        const char *p = v;
        if (!v)
            return vl_error_oom(err);
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        /* An empty element says nothing; anything else must be a value
         * vellum could have written. */
        if (*p && (rc = vl_dc_add(m->cur_dmd->dc, ln, v, err)) != VL_OK)
            vl_error_set(err, rc, "%s:%d: %s", m->name,
                         xmlTextReaderGetParserLineNumber(m->r),
                         err ? err->msg : "");
        free(v);
    } else if (is(m, VL_NS_MODS, "mods")) {
        rc = read_mods(m, err);
        *skip = 1;   /* the record is read whole */
    }
    return rc;
}

/* ---- technical metadata (PREMIS objects) -------------------------------- */

/* formatNote values written as "encoding: X" / "description: X" carry
 * libmagic's encoding and description, so that they come back too. */
static int format_note(mr *m, techmd *t)
{
    char *v = text(m);
    int rc = VL_OK;
    if (!v)
        return VL_ESYS;
    if (!strncmp(v, "encoding: ", 10) && !t->encoding)
        rc = (t->encoding = vl_strdup(v + 10)) ? VL_OK : VL_ESYS;
    else if (!strncmp(v, "description: ", 13) && !t->description)
        rc = (t->description = vl_strdup(v + 13)) ? VL_OK : VL_ESYS;
    else if (!strncmp(v, "PRONOM basis: ", 14) && !t->basis)
        rc = (t->basis = vl_strdup(v + 14)) ? VL_OK : VL_ESYS;
    else if (!strncmp(v, "PRONOM warning: ", 16) && !t->warning)
        rc = (t->warning = vl_strdup(v + 16)) ? VL_OK : VL_ESYS;
    else if (!strncmp(v, "PRONOM also matches: ", 21) && !t->others)
        rc = (t->others = vl_strdup(v + 21)) ? VL_OK : VL_ESYS;
    else if (!strncmp(v, "identified with: ", 17) && !t->signatures)
        rc = (t->signatures = vl_strdup(v + 17)) ? VL_OK : VL_ESYS;
    free(v);
    return rc;
}

static int techmd_element(mr *m, int depth, vl_error *err)
{
    techmd *t = &m->cur_t;
    int rc = VL_OK;

    if (!m->in_t) {
        /* One PREMIS object per techMD (sec_id is taken by the first). */
        if (!is(m, VL_NS_PREMIS, "object") || !m->sec_id)
            return VL_OK;
        memset(t, 0, sizeof *t);
        t->id = m->sec_id;
        m->sec_id = NULL;
        m->in_t = 1;
        m->obj_depth = depth;
        return VL_OK;
    }
    if (is(m, VL_NS_PREMIS, "objectIdentifierType")) {
        free(t->id_type);
        rc = (t->id_type = text(m)) ? VL_OK : VL_ESYS;
    } else if (is(m, VL_NS_PREMIS, "objectIdentifierValue")) {
        if (t->id_type && !strcmp(t->id_type, "local"))
            rc = set_text(m, &t->logical);
    } else if (is(m, VL_NS_PREMIS, "size")) {
        char *v = text(m), *end = NULL;
        if (!v)
            return vl_error_oom(err);
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-')
            rc = vl_error_set(err, VL_EINPUT, "%s:%d: premis:size \"%.40s\" "
                              "is not a number of bytes", m->name,
                              xmlTextReaderGetParserLineNumber(m->r), v);
        else
            t->size = n;
        free(v);
        return rc;
    } else if (is(m, VL_NS_PREMIS, "formatName")) {
        rc = set_text(m, &t->name);
    } else if (is(m, VL_NS_PREMIS, "formatVersion")) {
        rc = set_text(m, &t->version);
    } else if (is(m, VL_NS_PREMIS, "formatRegistryName")) {
        free(t->reg_name);
        rc = (t->reg_name = text(m)) ? VL_OK : VL_ESYS;
    } else if (is(m, VL_NS_PREMIS, "formatRegistryKey")) {
        if (t->reg_name && !strcasecmp(t->reg_name, "PRONOM"))
            rc = set_text(m, &t->puid);
    } else if (is(m, VL_NS_PREMIS, "formatNote")) {
        rc = format_note(m, t);
    } else if (is(m, VL_NS_PREMIS, "originalName")) {
        rc = set_text(m, &t->original);
    } else if (is(m, VL_NS_PREMIS, "dateCreatedByApplication")) {
        rc = set_text(m, &t->modified);
    }
    return rc == VL_ESYS ? vl_error_oom(err) : rc;
}

/* ---- fileSec and structMap ---------------------------------------------- */

static int file_element(mr *m, vl_error *err)
{
    if (is(m, VL_NS_METS, "file")) {
        mfile *f = &m->cur_f;
        if (flush_f(m, err) != VL_OK)
            return VL_ESYS;
        f->id = attr(m, "ID");
        f->admid = attr(m, "ADMID");
        f->mime = attr(m, "MIMETYPE");
        m->in_f = 1;
    } else if (is(m, VL_NS_METS, "FLocat") && m->in_f && !m->cur_f.href) {
        xmlChar *h = xmlTextReaderGetAttributeNs(m->r, BAD_CAST "href",
                                                 BAD_CAST VL_NS_XLINK);
        if (h && !(m->cur_f.href = vl_strdup((const char *)h))) {
            xmlFree(h);
            return vl_error_oom(err);
        }
        xmlFree(h);
    }
    return VL_OK;
}

static int add_item(mr *m, const char *dmdid, const char *fileid, vl_error *err)
{
    sqlite3_stmt *st = stmt(m, ST_INS_IT, err);
    if (!st)
        return VL_ESYS;
    bind_text(st, 1, dmdid);
    bind_text(st, 2, fileid);
    return run(m, st, err);
}

static int struct_element(mr *m, int empty, vl_error *err)
{
    int rc = VL_OK;
    if (is(m, VL_NS_METS, "div")) {
        char *dmdid = attr(m, "DMDID");
        if (m->ndivs == 0 && dmdid)   /* the outermost div: the deposit */
            rc = add_item(m, dmdid, NULL, err);
        if (rc == VL_OK && !empty) {
            if (VL_GROW(m->divs, m->cdivs, m->ndivs + 1, NULL) != VL_OK) {
                free(dmdid);
                return vl_error_oom(err);
            }
            m->divs[m->ndivs++] = dmdid;
            dmdid = NULL;
        }
        free(dmdid);
    } else if (is(m, VL_NS_METS, "fptr") && m->ndivs && m->divs[m->ndivs - 1]) {
        char *fileid = attr(m, "FILEID");
        if (fileid)
            rc = add_item(m, m->divs[m->ndivs - 1], fileid, err);
        free(fileid);
    }
    return rc;
}

/* ---- the walk ----------------------------------------------------------- */

static int end_section(mr *m, vl_error *err)
{
    free(m->sec_id);
    m->sec_id = NULL;
    m->sec = SEC_NONE;
    m->cur_dmd = NULL;
    m->dc_depth = -1;
    if (flush_t(m, err) != VL_OK || flush_f(m, err) != VL_OK)
        return VL_ESYS;
    return VL_OK;
}

static int on_start(mr *m, int depth, int empty, int *skip, vl_error *err)
{
    if (m->sec == SEC_NONE) {
        int sec = SEC_NONE;
        if (is(m, VL_NS_METS, "dmdSec"))
            sec = SEC_DMD;
        else if (is(m, VL_NS_METS, "techMD"))
            sec = SEC_TECHMD;
        else if (is(m, VL_NS_METS, "fileSec"))
            sec = SEC_FILESEC;
        else if (is(m, VL_NS_METS, "structMap") && !m->struct_seen)
            sec = SEC_STRUCT;
        else if (is(m, VL_NS_METS, "digiprovMD") || is(m, VL_NS_METS, "rightsMD") ||
                 is(m, VL_NS_METS, "sourceMD") || is(m, VL_NS_METS, "behaviorSec")) {
            *skip = 1;   /* events and agents: nothing to restore */
            return VL_OK;
        }
        if (sec == SEC_NONE || empty)
            return VL_OK;
        m->sec = sec;
        m->sec_depth = depth;
        m->struct_seen |= sec == SEC_STRUCT;
        if ((sec == SEC_DMD || sec == SEC_TECHMD) && !(m->sec_id = attr(m, "ID")))
            m->sec_id = vl_strdup("");
        return (sec == SEC_DMD || sec == SEC_TECHMD) && !m->sec_id ? vl_error_oom(err)
                                                                  : VL_OK;
    }
    switch (m->sec) {
    case SEC_DMD: return dmd_element(m, depth, skip, err);
    case SEC_TECHMD: return techmd_element(m, depth, err);
    case SEC_FILESEC: return file_element(m, err);
    case SEC_STRUCT: return struct_element(m, empty, err);
    }
    return VL_OK;
}

static int on_end(mr *m, int depth, vl_error *err)
{
    if (m->sec == SEC_NONE)
        return VL_OK;
    if (depth == m->sec_depth)
        return end_section(m, err);
    if (m->sec == SEC_DMD && depth == m->dc_depth)
        m->dc_depth = -1;
    else if (m->sec == SEC_TECHMD && m->in_t && depth == m->obj_depth)
        return flush_t(m, err);   /* one PREMIS object per techMD */
    else if (m->sec == SEC_STRUCT && is(m, VL_NS_METS, "div") && m->ndivs)
        free(m->divs[--m->ndivs]);
    return VL_OK;
}

static int walk(mr *m, vl_error *err)
{
    int rc = VL_OK, got, skip = 0;
    for (;;) {
        got = skip ? xmlTextReaderNext(m->r) : xmlTextReaderRead(m->r);
        skip = 0;
        if (got != 1)
            break;
        int type = xmlTextReaderNodeType(m->r);
        int depth = xmlTextReaderDepth(m->r);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            m->refused = 1;   /* the prolog scanner should have said so */
            got = -1;
            break;
        }
        /* Next() from an element steps over it: its end tag is not seen. */
        if (type == XML_READER_TYPE_ELEMENT) {
            int empty = xmlTextReaderIsEmptyElement(m->r);
            if ((rc = on_start(m, depth, empty, &skip, err)) != VL_OK)
                goto done;
            if (skip && m->sec != SEC_NONE && depth == m->sec_depth &&
                (rc = end_section(m, err)) != VL_OK)
                goto done;
        } else if (type == XML_READER_TYPE_END_ELEMENT &&
                   (rc = on_end(m, depth, err)) != VL_OK) {
            goto done;
        }
    }
    if (got == 0)
        goto done;
    if (m->io_failed) {
        rc = vl_error_set(err, m->io_err.status ? m->io_err.status : VL_ESYS,
                          "%s", m->io_err.msg[0] ? m->io_err.msg : "read error");
        if (m->io_err.sys_errno && err)
            err->sys_errno = m->io_err.sys_errno;
    } else if (m->refused) {
        rc = vl_error_set(err, VL_EINPUT, "%s: a DOCTYPE or a non-UTF-8 "
                          "start is not accepted in a METS (no entities are "
                          "ever expanded or fetched)", m->name);
    } else {
        rc = vl_error_set(err, VL_EINPUT, "%s", m->perr[0] ? m->perr
                          : "malformed METS");
    }
done:
    return rc;
}

/* ---- joining ------------------------------------------------------------ */

/* Sorted index of IDs for lookups in the joins (files can be many). */
typedef struct idx {
    const char **ids;   /* points at the id field; the struct follows */
    size_t n;
} idx;

static const char *key_of(const void *p) { return *(const char *const *)p; }

static int cmp_entry(const void *a, const void *b)
{
    const char *x = key_of(*(const void *const *)a);
    const char *y = key_of(*(const void *const *)b);
    return strcmp(x ? x : "", y ? y : "");
}

/* Build an index over n structs of size sz whose first member is the id. */
static int idx_build(idx *ix, void *base, size_t n, size_t sz)
{
    ix->n = n;
    ix->ids = n ? malloc(n * sizeof *ix->ids) : NULL;
    if (n && !ix->ids)
        return -1;
    for (size_t i = 0; i < n; i++)
        ix->ids[i] = (const char *)((char *)base + i * sz);
    if (n > 1)
        qsort(ix->ids, n, sizeof *ix->ids, cmp_entry);
    return 0;
}

static void *idx_find(const idx *ix, const char *id)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = key_of(ix->ids[mid]);
        int c = strcmp(k ? k : "", id);
        if (!c)
            return (void *)ix->ids[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The logical path the file with this ADMID and href stands for: its
 * PREMIS object's local identifier, else its FLocat href unescaped.
 * *out is malloc'd, or NULL when there is none. */
static int file_logical(mr *m, const char *admid, const char *href,
                        char **out, vl_error *err)
{
    char tok[METS_NAME_MAX];
    const char *s = admid;
    *out = NULL;
    while (s && (s = next_token(s, tok, sizeof tok)) != NULL) {
        sqlite3_stmt *st = stmt(m, ST_T_BY_ID, err);
        if (!st)
            return VL_ESYS;
        bind_text(st, 1, tok);
        int code = sqlite3_step(st);
        const char *logical = code == SQLITE_ROW
                                  ? (const char *)sqlite3_column_text(st, 2)
                                  : NULL;
        if (code != SQLITE_ROW && code != SQLITE_DONE)
            return db_fail(m, err);
        if (logical) {
            *out = vl_strdup(logical);
            sqlite3_reset(st);
            return *out ? VL_OK : vl_error_oom(err);
        }
        sqlite3_reset(st);
    }
    if (href && !(*out = xmlURIUnescapeString(href, 0, NULL)))
        return vl_error_oom(err);
    return VL_OK;
}

/* The logical path the structMap's FILEID stands for, or NULL (a link to
 * nothing). */
static int fileid_logical(mr *m, const char *fileid, char **out,
                          vl_error *err)
{
    sqlite3_stmt *st = stmt(m, ST_F_BY_ID, err);
    char *admid = NULL, *href = NULL;
    int rc = VL_OK, code;
    *out = NULL;
    if (!st)
        return VL_ESYS;
    bind_text(st, 1, fileid);
    if ((code = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *h = (const char *)sqlite3_column_text(st, 1);
        if ((a && !(admid = vl_strdup(a))) || (h && !(href = vl_strdup(h))))
            rc = vl_error_oom(err);
    } else if (code != SQLITE_DONE) {
        rc = db_fail(m, err);
    }
    sqlite3_reset(st);
    if (rc == VL_OK && code == SQLITE_ROW)
        rc = file_logical(m, admid, href, out, err);
    free(admid);
    free(href);
    return rc;
}

static int fill_descriptive(mr *m, vl_descriptive *desc, vl_error *err)
{
    char tok[METS_NAME_MAX];
    idx dix = {0};
    int rc = VL_OK, deposit_linked = 0, code;
    vl_dc *dep = NULL;
    sqlite3_stmt *items = NULL;

    if (idx_build(&dix, m->d, m->nd, sizeof *m->d) != 0)
        return vl_error_oom(err);
    if (!(items = stmt(m, ST_IT_ALL, err))) {
        rc = VL_ESYS;
        goto done;
    }
    while (rc == VL_OK && (code = sqlite3_step(items)) == SQLITE_ROW) {
        const char *dmdid = (const char *)sqlite3_column_text(items, 0);
        const char *fileid = (const char *)sqlite3_column_text(items, 1);
        char *logical = NULL;
        if (fileid) {
            if ((rc = fileid_logical(m, fileid, &logical, err)) != VL_OK)
                break;
            if (!logical)
                continue;   /* a link to nothing: nothing to restore */
        } else {
            deposit_linked = 1;
        }
        for (const char *s = dmdid;
             rc == VL_OK && s && (s = next_token(s, tok, sizeof tok)) != NULL;) {
            const dmd *d = idx_find(&dix, tok);
            if (!d)
                continue;
            if (logical && d->dc && !vl_dc_is_empty(d->dc)) {
                rc = vl_descriptive_add_file_dc(desc, logical, d->dc, err);
            } else if (!logical && d->dc) {
                if (!dep && !(dep = vl_descriptive_deposit_dc(desc)))
                    rc = vl_error_oom(err);
                else
                    rc = vl_dc_merge(dep, d->dc, err);
            } else if (!logical && d->mods && !vl_descriptive_mods_xml(desc)) {
                rc = vl_descriptive_set_mods_xml(desc, d->mods, err);
            }
        }
        free(logical);
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = db_fail(m, err);
    /* No structMap links: the IDs vl_mets_write gives the deposit. */
    if (rc == VL_OK && !deposit_linked) {
        const dmd *d = idx_find(&dix, "dmd-dc");
        if (d && d->dc && !vl_dc_is_empty(d->dc)) {
            if (!(dep = vl_descriptive_deposit_dc(desc)))
                rc = vl_error_oom(err);
            else
                rc = vl_dc_merge(dep, d->dc, err);
        }
        d = idx_find(&dix, "dmd-mods");
        if (rc == VL_OK && d && d->mods && !vl_descriptive_mods_xml(desc))
            rc = vl_descriptive_set_mods_xml(desc, d->mods, err);
    }
done:
    if (items)
        sqlite3_reset(items);
    free(dix.ids);
    return rc;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s && *s ? s : NULL;
}

/* Hand out the PREMIS object in the current row of st (ST_T_BY_ID or
 * ST_T_UNUSED: ord, used, then T_COLS). */
static int report(sqlite3_stmt *st, const char *mime, vl_mets_file_fn fn,
                  void *arg, vl_error *err)
{
    vl_mets_file_info fi;
    memset(&fi, 0, sizeof fi);
    if (!(fi.logical = (const char *)sqlite3_column_text(st, 2)))
        return VL_OK;
    fi.format_name = col(st, 3);
    fi.format_version = col(st, 4);
    fi.puid = col(st, 5);
    fi.original_name = col(st, 6);
    fi.encoding = col(st, 7);
    fi.description = col(st, 8);
    fi.modified = col(st, 9);
    fi.basis = col(st, 10);
    fi.warning = col(st, 11);
    fi.others = col(st, 12);
    fi.signatures = col(st, 13);
    fi.size = (uint64_t)sqlite3_column_int64(st, 14);
    fi.mime = mime && *mime ? mime : NULL;
    /* vl_mets_write puts the MIME type in formatName when there is no
     * better name, and "unknown" when nothing was identified: neither is a
     * format name of its own. */
    if (fi.format_name && ((fi.mime && !strcmp(fi.format_name, fi.mime)) ||
                           (!fi.mime && !fi.puid && !fi.format_version &&
                            !strcmp(fi.format_name, "unknown"))))
        fi.format_name = NULL;
    return fn(arg, &fi, err);
}

/* The PREMIS object with this ID, unless handed out already. */
static int report_id(mr *m, const char *id, const char *mime,
                     vl_mets_file_fn fn, void *arg, vl_error *err)
{
    sqlite3_stmt *st = stmt(m, ST_T_BY_ID, err), *used;
    sqlite3_int64 ord = 0;
    int rc = VL_OK, code, todo = 0;
    if (!st)
        return VL_ESYS;
    bind_text(st, 1, id);
    if ((code = sqlite3_step(st)) == SQLITE_ROW &&
        !sqlite3_column_int(st, 1)) {
        todo = 1;
        ord = sqlite3_column_int64(st, 0);
        rc = report(st, mime, fn, arg, err);
    } else if (code != SQLITE_ROW && code != SQLITE_DONE) {
        rc = db_fail(m, err);
    }
    sqlite3_reset(st);
    if (rc != VL_OK || !todo)
        return rc;
    if (!(used = stmt(m, ST_T_USED, err)))
        return VL_ESYS;
    sqlite3_bind_int64(used, 1, ord);
    return run(m, used, err);
}

static int report_files(mr *m, vl_mets_file_fn fn, void *arg, vl_error *err)
{
    char tok[METS_NAME_MAX];
    sqlite3_stmt *files = stmt(m, ST_F_ALL, err), *rest = NULL;
    int rc = VL_OK, code;
    if (!files)
        return VL_ESYS;
    while (rc == VL_OK && (code = sqlite3_step(files)) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(files, 0);
        const char *mime = (const char *)sqlite3_column_text(files, 1);
        while (rc == VL_OK && s && (s = next_token(s, tok, sizeof tok)) != NULL)
            rc = report_id(m, tok, mime, fn, arg, err);
    }
    if (rc == VL_OK && code != SQLITE_DONE)
        rc = db_fail(m, err);
    sqlite3_reset(files);
    /* PREMIS objects no file points at: still say what they are. */
    if (rc == VL_OK && !(rest = stmt(m, ST_T_UNUSED, err)))
        rc = VL_ESYS;
    while (rc == VL_OK && (code = sqlite3_step(rest)) == SQLITE_ROW)
        rc = report(rest, NULL, fn, arg, err);
    if (rc == VL_OK && rest && code != SQLITE_DONE)
        rc = db_fail(m, err);
    if (rest)
        sqlite3_reset(rest);
    return rc;
}

/* ---- entry points ------------------------------------------------------- */

static void mr_free(mr *m)
{
    techmd_clear(&m->cur_t);
    mfile_clear(&m->cur_f);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(m->st[i]);
    sqlite3_close(m->db);
    for (size_t i = 0; i < m->nd; i++) {
        free(m->d[i].id);
        vl_dc_free(m->d[i].dc);
        free(m->d[i].mods);
    }
    free(m->d);
    for (size_t i = 0; i < m->ndivs; i++)
        free(m->divs[i]);
    free(m->divs);
    free(m->sec_id);
}

/* check (may be NULL) runs after the whole input was parsed and before
 * anything is handed out. */
typedef int (*check_fn)(void *arg, vl_error *err);

static int read_core(vl_read_fn rd, void *rd_arg, const char *name,
                     vl_descriptive *desc, vl_mets_file_fn fn, void *arg,
                     check_fn check, void *check_arg, vl_error *err)
{
    mr mt;
    mr *m = &mt;
    int rc;
    unsigned long failures = vl_alloc_failures();

    memset(&mt, 0, sizeof mt);
    m->name = name ? name : VL_METS_FILE;
    m->rd = rd;
    m->rd_arg = rd_arg;
    m->prolog = 1;
    m->dc_depth = -1;
    /* A small page cache: the files' parts spill to a temporary file. */
    if (vl_scratch_db_open(&m->db, 2048, schema) != SQLITE_OK) {
        rc = db_fail(m, err);
        goto done;
    }
    /* NONET and no NOENT: nothing fetched, nothing expanded (and a
     * DOCTYPE is refused before the parser sees it).  UTF-8 is forced:
     * vellum writes nothing else. */
    m->r = xmlReaderForIO(io_read, io_close, m, NULL, "UTF-8",
                          XML_PARSE_NONET | XML_PARSE_NOERROR |
                          XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (!m->r) {
        rc = vl_error_oom(err);
        goto done;
    }
    xmlTextReaderSetStructuredErrorHandler(m->r, on_error, m);
    rc = walk(m, err);
    /* libxml2 reports a shortage of memory as a parse error, or reads an
     * attribute or text it could not copy as absent: nothing read while
     * an allocation failed is trusted or handed out */
    if (rc != VL_ESYS && vl_alloc_failures() != failures)
        rc = vl_error_set(err, VL_ESYS, "%s: out of memory", m->name);
    if (rc != VL_OK)
        goto done;
    if (check && (rc = check(check_arg, err)) != VL_OK)
        goto done;
    /* indexed once everything is in: faster than keeping them up to
     * date row by row */
    if (sqlite3_exec(m->db, "CREATE INDEX t_id ON t(id, ord);"
                     "CREATE INDEX f_id ON f(id, ord);", NULL, NULL,
                     NULL) != SQLITE_OK) {
        rc = db_fail(m, err);
        goto done;
    }
    if (desc && (rc = fill_descriptive(m, desc, err)) != VL_OK)
        goto done;
    if (fn)
        rc = report_files(m, fn, arg, err);
done:
    if (m->r)
        xmlFreeTextReader(m->r);
    mr_free(m);
    return rc;
}

int vl_mets_read(vl_read_fn rd, void *rd_arg, const char *name,
                 vl_descriptive *desc, vl_mets_file_fn fn, void *arg,
                 vl_error *err)
{
    return read_core(rd, rd_arg, name, desc, fn, arg, NULL, NULL, err);
}

int vl_mets_read_file(const char *path, vl_descriptive *desc,
                      vl_mets_file_fn fn, void *arg, vl_error *err)
{
    vl_fd_source s = {open(path, O_RDONLY | O_CLOEXEC), path};
    int rc;
    if (s.fd < 0)
        return vl_error_sys(err, "cannot open %s", path);
    rc = vl_mets_read(vl_fd_read, &s, path, desc, fn, arg, err);
    close(s.fd);
    return rc;
}

/* ---- the METS stored in an object version ------------------------------- */

/* Reads the stored bytes while their digest is computed, so a METS that
 * does not match its inventory digest is a finding, not a silent source of
 * wrong answers. */
struct stored {
    vl_reader *rd;
    vl_digest_ctx *dc;
    vl_digest_alg alg;
    char digest[VL_DIGEST_HEX_MAX];   /* expected (a copy: see below) */
    const char *id;
    int num;
};

static ssize_t stored_read(void *arg, void *buf, size_t cap, vl_error *err)
{
    struct stored *s = arg;
    ssize_t n = vl_reader_read(s->rd, buf, cap, err);
    if (n > 0)
        vl_digest_update(s->dc, buf, (size_t)n);
    return n;
}

/* The parser may stop before the end of the input (trailing bytes are
 * still part of the stored file), so drain it into the digest, then
 * compare. */
static int stored_check(void *arg, vl_error *err)
{
    struct stored *s = arg;
    vl_digest_result res;
    char buf[65536];
    ssize_t n;
    int rc;
    while ((n = stored_read(s, buf, sizeof buf, err)) > 0)
        ;
    if (n < 0)
        return err && err->status ? err->status : VL_ESYS;
    if ((rc = vl_digest_final(s->dc, &res, err)) != VL_OK)
        return rc;
    if (strcasecmp(res.hex[s->alg], s->digest) != 0)
        return vl_error_set(err, VL_FINDING, "%s: METS.xml of v%d fails its "
                            "%s check: expected %s, got %s", s->id, s->num,
                            vl_digest_name(s->alg), s->digest, res.hex[s->alg]);
    return VL_OK;
}

/* Where the version's METS.xml is stored.  *digest and *rel are NULL/unset
 * when the version has none. */
static int stored_locate(vl_repo *r, const vl_inventory *inv, int num,
                         const char **digest, char **rel, vl_error *err)
{
    const char *cpath;
    char *obj = NULL;
    *rel = NULL;
    *digest = vl_inventory_lookup(inv, num, VL_METS_FILE);
    if (!*digest)
        return VL_OK;
    if (!(cpath = vl_inventory_content_path(inv, *digest)))
        return vl_error_set(err, VL_FINDING, "%s: METS.xml of v%d has digest "
                            "%s that is not in the manifest",
                            vl_inventory_id(inv), num, *digest);
    obj = vl_repo_object_path(r, vl_inventory_id(inv));
    *rel = obj ? vl_path_join(obj, cpath) : NULL;
    free(obj);
    return *rel ? VL_OK : vl_error_oom(err);
}

static int resolve_version(const vl_inventory *inv, const char *id, int *num,
                           vl_error *err)
{
    int head = vl_inventory_head(inv);
    if (*num == 0)
        *num = head;
    if (*num < 1 || *num > head)
        return vl_error_set(err, VL_EINPUT, "object \"%s\" has no version v%d "
                            "(head is v%d)", id, *num, head);
    return VL_OK;
}

int vl_mets_read_stored_inv(vl_repo *r, const vl_inventory *inv, int num,
                            vl_descriptive *desc, vl_mets_file_fn fn,
                            void *arg, int *found, vl_error *err)
{
    struct stored s;
    const char *digest = NULL;
    const char *id = vl_inventory_id(inv);
    char *rel = NULL, *name = NULL;
    int rc;

    memset(&s, 0, sizeof s);
    if (found)
        *found = 0;
    if ((rc = resolve_version(inv, id, &num, err)) != VL_OK ||
        (rc = stored_locate(r, inv, num, &digest, &rel, err)) != VL_OK)
        goto done;
    if (!digest) {
        if (!found)
            rc = vl_error_set(err, VL_EINPUT, "object \"%s\" v%d has no "
                              "METS.xml", id, num);
        goto done;
    }
    if (found)
        *found = 1;
    s.alg = vl_inventory_digest_alg(inv);
    /* vl_inventory_lookup's answer lasts only until a lookup in another
     * version, which a callback may well make. */
    snprintf(s.digest, sizeof s.digest, "%s", digest);
    s.id = id;
    s.num = num;
    if (!(name = vl_asprintf("%s v%d " VL_METS_FILE, id, num)) ||
        !(s.dc = vl_digest_new(VL_DIGEST_BIT(s.alg)))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_backend_open(vl_repo_backend(r), rel, &s.rd, err)) != VL_OK)
        goto done;
    /* Nothing the file says is handed out before its digest matched. */
    rc = read_core(stored_read, &s, name, desc, fn, arg, stored_check, &s, err);
done:
    vl_reader_close(s.rd);
    vl_digest_free(s.dc);
    free(rel);
    free(name);
    return rc;
}

int vl_mets_stored_to_fd(vl_repo *r, const char *id, int num, int fd,
                         vl_error *err)
{
    vl_inventory *inv = NULL;
    vl_reader *rd = NULL;
    vl_digest_result res;
    const char *digest = NULL;
    char *rel = NULL;
    vl_digest_alg alg;
    int rc;

    if ((rc = vl_repo_load_inventory(r, id, &inv, err)) != VL_OK ||
        (rc = resolve_version(inv, id, &num, err)) != VL_OK ||
        (rc = stored_locate(r, inv, num, &digest, &rel, err)) != VL_OK)
        goto done;
    if (!digest) {
        rc = vl_error_set(err, VL_EINPUT, "object \"%s\" v%d has no METS.xml",
                          id, num);
        goto done;
    }
    alg = vl_inventory_digest_alg(inv);
    if ((rc = vl_backend_open(vl_repo_backend(r), rel, &rd, err)) != VL_OK ||
        (rc = vl_digest_pump(vl_reader_read, rd, fd, VL_DIGEST_BIT(alg), NULL,
                             NULL, &res, NULL, err)) != VL_OK)
        goto done;
    if (strcasecmp(res.hex[alg], digest) != 0)
        rc = vl_error_set(err, VL_FINDING, "%s: METS.xml of v%d fails its %s "
                          "check: expected %s, got %s", id, num,
                          vl_digest_name(alg), digest, res.hex[alg]);
done:
    vl_reader_close(rd);
    free(rel);
    vl_inventory_free(inv);
    return rc;
}

/* ---- restoring the catalog's formats ------------------------------------ */

struct restore {
    vl_catalog *cat;
    const char *id;
    const vl_inventory *inv;
    int num;
    size_t files;
    vl_catalog_facts *fx;   /* the lookups, prepared once for every file */
};

static int has_format(void *arg, const vl_catalog_format *f)
{
    *(int *)arg = 1;
    return 0;
}

/* Put a format unless the catalog already has one for the digest. */
static int fill_gap(struct restore *rs, const char *digest,
                    const vl_catalog_format *cf, vl_error *err)
{
    int rc, known = 0;
    /* Only gaps are filled: what the catalog has came from identification
     * itself and may say more than the METS does. */
    if ((rc = vl_catalog_facts_format(rs->fx, digest, has_format, &known,
                                      err)) != VL_OK || known)
        return rc;
    if ((rc = vl_catalog_facts_put_format(rs->fx, digest, cf, err)) == VL_OK)
        rs->files++;
    return rc;
}

static int restore_one(void *arg, const vl_mets_file_info *f, vl_error *err)
{
    struct restore *rs = arg;
    const char *digest = vl_inventory_lookup(rs->inv, rs->num, f->logical);
    vl_catalog_format cf = {f->mime, f->encoding, f->description, f->puid,
                            f->format_name, f->format_version, f->basis,
                            f->warning, f->others, f->signatures};
    int64_t ns, had;
    /* The modification time as deposited, when the catalog lost it. */
    if (digest && f->modified && vl_time_parse_ns(f->modified, &ns) == 0 &&
        vl_catalog_facts_date(rs->fx, rs->num, f->logical, &had, NULL) == VL_FINDING) {
        int rc = vl_catalog_facts_put_date(rs->fx, rs->num, f->logical, ns, err);
        if (rc != VL_OK)
            return rc;
    }
    /* A METS naming a file its version does not have, or saying nothing
     * about its format, has nothing to restore for it. */
    if (!digest || (!f->mime && !f->puid && !f->format_name))
        return VL_OK;
    return fill_gap(rs, digest, &cf, err);
}

const vl_catalog_format *vl_mets_catalog_format(void)
{
    static const vl_catalog_format f = {
        "application/xml", "utf-8", "METS document (XML 1.0)", "fmt/101",
        "Extensible Markup Language", "1.0", NULL, NULL, NULL, NULL};
    return &f;
}

static void dc_entry(const void *arg, size_t i, const char **element,
                     const char **value)
{
    vl_dc_entry(arg, i, element, value);
}

struct id_list {
    char **ids;
    size_t n, cap;
};

static int collect_id(void *arg, const vl_catalog_object *o)
{
    struct id_list *l = arg;
    if (VL_GROW(l->ids, l->cap, l->n + 1, NULL) != VL_OK)
        return VL_ESYS;
    if (!(l->ids[l->n] = vl_strdup(o->id)))
        return VL_ESYS;
    l->n++;
    return 0;
}

/* One object: every version's METS, newest first, so that where versions
 * disagree about a content digest the newest identification wins (the
 * first one fills the gap); a METS already read (same digest) is not read
 * again. */
int vl_metadata_restore_formats(vl_repo *r, const char *id, size_t *files,
                                vl_error *err)
{
    vl_catalog *cat = vl_repo_catalog(r);
    vl_inventory *inv = NULL;
    struct restore rs = {cat, id, NULL, 0, 0, NULL};
    /* A copy: a lookup in another version invalidates what lookup gave. */
    char prev[VL_DIGEST_HEX_MAX] = "";
    int rc, in_txn = 0;

    size_t have_desc = 0;
    vl_descriptive *desc = NULL;

    if ((rc = vl_repo_load_inventory(r, id, &inv, err)) != VL_OK)
        goto done;
    rs.inv = inv;
    if ((rc = vl_catalog_desc_count(cat, id, &have_desc, err)) != VL_OK ||
        (rc = vl_catalog_begin(cat, err)) != VL_OK)
        goto done;
    in_txn = 1;
    if ((rc = vl_catalog_facts_open(cat, id, &rs.fx, err)) != VL_OK)
        goto done;
    for (int v = vl_inventory_head(inv); v >= 1; v--) {
        const char *d = vl_inventory_lookup(inv, v, VL_METS_FILE);
        if (!d || !strcmp(prev, d))
            continue;
        snprintf(prev, sizeof prev, "%s", d);
        rs.num = v;
        /* The catalog's descriptive metadata, when it has none: the deposit
         * DC of the newest METS that carries any. */
        vl_descriptive_free(desc);
        desc = NULL;
        if (!have_desc && !(desc = vl_descriptive_new())) {
            rc = vl_error_oom(err);
            goto done;
        }
        if ((rc = vl_mets_read_stored_inv(r, inv, v, desc, restore_one, &rs,
                                          NULL, err)) != VL_OK ||
            (rc = fill_gap(&rs, prev, vl_mets_catalog_format(), err)) != VL_OK)
            goto done;   /* (it read as a METS, so that is what it is) */
        const vl_dc *dc = desc ? vl_descriptive_deposit_dc(desc) : NULL;
        if (dc && vl_dc_count(dc) > 0) {
            if ((rc = vl_catalog_desc_set(cat, id, vl_dc_count(dc), dc_entry, dc,
                                          err)) != VL_OK)
                goto done;
            have_desc = vl_dc_count(dc);
        }
    }
    vl_catalog_facts_close(rs.fx);
    rs.fx = NULL;
    if ((rc = vl_catalog_commit(cat, err)) != VL_OK)
        goto done;
    in_txn = 0;
    if (files)
        *files += rs.files;
done:
    vl_catalog_facts_close(rs.fx);
    if (in_txn)
        vl_catalog_rollback(cat);
    vl_descriptive_free(desc);
    vl_inventory_free(inv);
    return rc;
}

int vl_metadata_reindex_formats(vl_repo *r, size_t *files, vl_error *err)
{
    struct id_list l = {NULL, 0, 0};
    size_t n = 0;
    int rc = vl_catalog_objects(vl_repo_catalog(r), collect_id, &l, err);

    if (rc != VL_OK) {
        if (err && !err->msg[0])
            rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < l.n; i++)
        if ((rc = vl_metadata_restore_formats(r, l.ids[i], &n, err)) != VL_OK)
            goto done;
done:
    if (files)
        *files = n;
    for (size_t i = 0; i < l.n; i++)
        free(l.ids[i]);
    free(l.ids);
    return rc;
}
