/* The container signature file and its matching against ZIP and OLE2
 * files, as DROID applies it (droid-container: ContainerSignatureMatch,
 * ZipIdentifierEngine, Ole2IdentifierEngine):
 *  - a ContainerSignature lists Files by Path; it matches when each of
 *    them is in the container and, for a File with BinarySignatures, at
 *    least one of its InternalSignatures matches that entry's bytes;
 *  - Paths are compared exactly (DROID looks them up in a hash set); ZIP
 *    entries by their stored names ("dir/" for a folder entry); OLE2
 *    entries by their path from the root, "Storage/Stream", each name
 *    trimmed as Java's String.trim() does (characters up to U+0020 off
 *    both ends), which is why "CompObj" finds "\x01CompObj";
 *  - storages count as present for Files without BinarySignatures (DROID
 *    walks them too); only streams are read;
 *  - each matching signature gives every PUID its FileFormatMappings list;
 *    sorting out priorities is the engine's business.
 * Bytes: the first WINDOW bytes of an entry, and its last WINDOW bytes
 * when one of its signatures is anchored at the end; the largest offset
 * in the files to date is 40000, so WINDOW covers every signature DROID's
 * whole-entry reading would match, without reading a big entry whole. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ole2.h"
#include "pronom_internal.h"
#include "vl_metadata.h"

#define WINDOW (64 * 1024)
/* The container signature file: a few hundred KiB today. */
#define SIGFILE_MAX (64u * 1024 * 1024)
/* ZIP entries looked at before giving up on the rest of a container. */
#define ZIP_MAX_ENTRIES 100000
/* Decompressed bytes read through to reach the tail of a ZIP entry (only
 * for signatures anchored at its end); past this the tail is not known. */
#define ZIP_EOF_READ_MAX (64u * 1024 * 1024)

typedef struct cfile {
    char *path;
    vl_pronom_sig **sig;     /* nsig 0: being there is enough */
    size_t nsig;
    int needs_eof;
} cfile;

typedef struct csig {
    int id, type;
    int broken;              /* a byte signature did not compile: never matches */
    cfile *f;
    size_t nf;
    size_t first;            /* its first file's index over all files */
    char (*puid)[32];
    size_t npuid;
} csig;

/* One (signature, file) pair, sorted by path for lookups per type. */
typedef struct cref {
    const char *path;
    size_t sig, file;
} cref;

typedef struct trigger {
    char puid[32];
    int type;
} trigger;

struct vl_pronom_containers {
    char version[32];
    csig *s;
    size_t n, nfiles;
    trigger *t;
    size_t nt;
    size_t nbroken;
    char warning[sizeof ((vl_error *)0)->msg];   /* the first broken one */
    cref *ref[3];            /* by VL_CONTAINER_* */
    size_t nref[3];
    size_t npaths[3];        /* distinct paths */
};

/* ---- loading ------------------------------------------------------------ */

static int is_el(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNode *child(const xmlNode *n, const char *name)
{
    xmlNode *c;
    for (c = n ? n->children : NULL; c; c = c->next)
        if (is_el(c, name))
            return c;
    return NULL;
}

/* An attribute or an element's text, surrounding whitespace trimmed;
 * malloc'd (NULL when absent or out of memory: *oom tells). */
static char *trimmed(xmlChar *v)
{
    char *s, *e, *r;

    if (!v)
        return NULL;
    s = (char *)v;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    r = vl_strndup(s, (size_t)(e - s));
    xmlFree(v);
    return r;
}

static char *attr(const xmlNode *n, const char *name)
{
    return trimmed(xmlGetProp(n, (const xmlChar *)name));
}

static int type_of(const char *s)
{
    if (s && !strcmp(s, "ZIP"))
        return VL_CONTAINER_ZIP;
    if (s && !strcmp(s, "OLE2"))
        return VL_CONTAINER_OLE2;
    return 0;
}

/* A whole number in [0, INT_MAX], else -1. */
static int number(const char *s)
{
    long v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s) || (v = v * 10 + (*s - '0')) > 0x7FFFFFFF)
            return -1;
    }
    return (int)v;
}

static void free_sig(csig *s)
{
    size_t i, k;
    for (i = 0; i < s->nf; i++) {
        for (k = 0; k < s->f[i].nsig; k++)
            vl_pronom_sig_free(s->f[i].sig[k]);
        free(s->f[i].sig);
        free(s->f[i].path);
    }
    free(s->f);
    free(s->puid);
}

void vl_pronom_containers_free(vl_pronom_containers *c)
{
    size_t i;
    if (!c)
        return;
    for (i = 0; i < c->n; i++)
        free_sig(&c->s[i]);
    free(c->s);
    free(c->t);
    for (i = 0; i < 3; i++)
        free(c->ref[i]);
    free(c);
}

/* Whether an InternalSignature has a ByteSequence anchored at the end. */
static int anchored_at_eof(const xmlNode *isig)
{
    const xmlNode *b;
    for (b = isig->children; b; b = b->next) {
        if (is_el(b, "ByteSequence")) {
            xmlChar *r = xmlGetProp(b, (const xmlChar *)"Reference");
            int eof = r && !strcmp((const char *)r, "EOFoffset");
            xmlFree(r);
            if (eof)
                return 1;
        }
    }
    return 0;
}

static int load_file(const char *shown, int sigid, xmlNode *fn, cfile *f,
                     vl_error *err)
{
    xmlNode *isc, *is;
    int rc;

    f->path = trimmed(xmlNodeGetContent(child(fn, "Path")));
    if (!f->path || !f->path[0])
        return vl_error_set(err, VL_EINPUT, "%s: container signature %d has "
                            "a File without a Path", shown, sigid);
    isc = child(child(fn, "BinarySignatures"), "InternalSignatureCollection");
    for (is = isc ? isc->children : NULL; is; is = is->next) {
        vl_pronom_sig **v;
        if (!is_el(is, "InternalSignature"))
            continue;
        if (!(v = realloc(f->sig, (f->nsig + 1) * sizeof *v)))
            return vl_error_sys(err, "%s: loading", shown);
        f->sig = v;
        if ((rc = vl_pronom_sig_from_xml(is, &f->sig[f->nsig], err)) !=
            VL_OK) {
            char why[sizeof err->msg];
            memcpy(why, err->msg, sizeof why);
            vl_error_set(err, rc, "%s: container signature %d, file %s: %s",
                         shown, sigid, f->path, why);
            /* VL_EINPUT: this signature is unusable, the caller decides. */
            return rc;
        }
        f->nsig++;
        if (anchored_at_eof(is))
            f->needs_eof = 1;
    }
    return VL_OK;
}

/* A byte signature that does not compile makes its ContainerSignature
 * unusable, not the file: DROID, too, marks such a subsequence invalid
 * and goes on (its SubSequence.setSequence).  *bad gets the message. */
static int load_sig(const char *shown, xmlNode *sn, csig *s, vl_error *err,
                    vl_error *bad)
{
    char *v;
    xmlNode *fn, *files;
    int rc;

    v = attr(sn, "Id");
    s->id = number(v);
    free(v);
    v = attr(sn, "ContainerType");
    s->type = type_of(v);
    free(v);
    if (s->id < 0)
        return vl_error_set(err, VL_EINPUT, "%s: a ContainerSignature without "
                            "a numeric Id", shown);
    files = child(sn, "Files");
    for (fn = files ? files->children : NULL; fn; fn = fn->next) {
        cfile *nf, f = {0};
        size_t k;
        if (!is_el(fn, "File"))
            continue;
        rc = load_file(shown, s->id, fn, &f, err);
        if (rc == VL_EINPUT && f.path && f.path[0]) {
            if (!s->broken)
                *bad = *err;
            s->broken = 1;
            rc = VL_OK;
        }
        /* DROID keeps a signature's Files in a map by Path: a Path given
         * twice is the later File (signature 1100 lists WordDocument
         * bare, then with a byte signature). */
        for (k = 0; k < s->nf && rc == VL_OK; k++) {
            if (!strcmp(s->f[k].path, f.path)) {
                cfile old = s->f[k];
                s->f[k] = f;
                f = old;
                break;
            }
        }
        if (rc == VL_OK && k == s->nf) {
            if (!(nf = realloc(s->f, (s->nf + 1) * sizeof *nf))) {
                rc = vl_error_sys(err, "%s: loading", shown);
            } else {
                s->f = nf;
                s->f[s->nf++] = f;
                continue;
            }
        }
        /* f is now what was replaced, or what failed: freed either way. */
        for (k = 0; k < f.nsig; k++)
            vl_pronom_sig_free(f.sig[k]);
        free(f.sig);
        free(f.path);
        if (rc != VL_OK)
            return rc;
    }
    if (!s->nf)
        return vl_error_set(err, VL_EINPUT, "%s: container signature %d "
                            "lists no File", shown, s->id);
    return VL_OK;
}

static int add_puid(const char *shown, vl_pronom_containers *c, int id,
                    const char *puid, vl_error *err)
{
    size_t i;

    if (!puid || !puid[0] || strlen(puid) >= 32)
        return vl_error_set(err, VL_EINPUT, "%s: FileFormatMapping of "
                            "signature %d has no usable Puid", shown, id);
    /* A mapping for a signature the file does not define (or one of a
     * container type not read) is ignored, as DROID does. */
    for (i = 0; i < c->n; i++) {
        csig *s = &c->s[i];
        char(*p)[32];
        if (s->id != id)
            continue;
        if (!(p = realloc(s->puid, (s->npuid + 1) * sizeof *p)))
            return vl_error_sys(err, "%s: loading", shown);
        s->puid = p;
        memcpy(s->puid[s->npuid++], puid, strlen(puid) + 1);
    }
    return VL_OK;
}

static int cmp_ref(const void *a, const void *b)
{
    const cref *x = a, *y = b;
    int r = strcmp(x->path, y->path);
    if (r)
        return r;
    return x->sig < y->sig ? -1 : x->sig > y->sig;
}

static int build_index(vl_pronom_containers *c, vl_error *err)
{
    size_t i, k, t;

    for (t = 1; t <= 2; t++) {
        size_t n = 0;
        for (i = 0; i < c->n; i++)
            if (c->s[i].type == (int)t)
                n += c->s[i].nf;
        if (!(c->ref[t] = malloc((n ? n : 1) * sizeof *c->ref[t])))
            return vl_error_sys(err, "loading container signatures");
        for (i = 0; i < c->n; i++)
            if (c->s[i].type == (int)t)
                for (k = 0; k < c->s[i].nf; k++)
                    c->ref[t][c->nref[t]++] =
                        (cref){c->s[i].f[k].path, i, k};
        qsort(c->ref[t], c->nref[t], sizeof *c->ref[t], cmp_ref);
        for (i = 0; i < c->nref[t]; i++)
            if (i == 0 || strcmp(c->ref[t][i].path, c->ref[t][i - 1].path))
                c->npaths[t]++;
    }
    return VL_OK;
}

int vl_pronom_containers_load(const char *path, vl_pronom_containers **out,
                              vl_error *err)
{
    vl_pronom_containers *c = NULL;
    char *shown = vl_name_shorten(path, VL_NAME_SHOWN_MAX);
    void *doc = NULL;
    xmlNode *root, *n, *list;
    vl_buf raw;
    char *v = NULL;
    int rc;
    unsigned long failures = vl_alloc_failures();

    *out = NULL;
    vl_buf_init(&raw, 0);
    if (!shown || !(c = calloc(1, sizeof *c))) {
        rc = vl_error_sys(err, "loading container signatures");
        goto done;
    }
    if ((rc = vl_fs_read_file(path, SIGFILE_MAX, &raw, err)) != VL_OK)
        goto done;
    /* The house parser: no network, no entities, no DTD loading; the
     * file is data, however it came. */
    if ((rc = vl_xml_read_safe(raw.data, raw.len, shown, &doc, err)) !=
        VL_OK)
        goto done;
    root = xmlDocGetRootElement(doc);
    if (!root || !is_el(root, "ContainerSignatureMapping")) {
        rc = vl_error_set(err, VL_EINPUT, "%s: not a container signature "
                          "file (no ContainerSignatureMapping)", shown);
        goto done;
    }
    v = attr(root, "signatureVersion");
    if (v && strlen(v) < sizeof c->version)
        memcpy(c->version, v, strlen(v) + 1);
    free(v);
    v = NULL;
    list = child(root, "ContainerSignatures");
    for (n = list ? list->children : NULL; n; n = n->next) {
        csig *ns;
        if (!is_el(n, "ContainerSignature"))
            continue;
        if (!(ns = realloc(c->s, (c->n + 1) * sizeof *ns))) {
            rc = vl_error_sys(err, "%s: loading", shown);
            goto done;
        }
        c->s = ns;
        memset(&c->s[c->n], 0, sizeof *c->s);
        c->n++;
        {
            vl_error bad = {0};
            csig *cs = &c->s[c->n - 1];
            if ((rc = load_sig(shown, n, cs, err, &bad)) != VL_OK)
                goto done;
            if (cs->broken && !c->nbroken++)
                snprintf(c->warning, sizeof c->warning, "%s", bad.msg);
        }
        c->s[c->n - 1].first = c->nfiles;
        c->nfiles += c->s[c->n - 1].nf;
    }
    if (!c->n) {
        rc = vl_error_set(err, VL_EINPUT, "%s: no ContainerSignature",
                          shown);
        goto done;
    }
    list = child(root, "FileFormatMappings");
    for (n = list ? list->children : NULL; n; n = n->next) {
        char *puid;
        int id;
        if (!is_el(n, "FileFormatMapping"))
            continue;
        v = attr(n, "signatureId");
        id = number(v);
        free(v);
        v = NULL;
        puid = attr(n, "Puid");
        rc = id < 0 ? vl_error_set(err, VL_EINPUT, "%s: FileFormatMapping "
                                   "without a numeric signatureId", shown)
                    : add_puid(shown, c, id, puid, err);
        free(puid);
        if (rc != VL_OK)
            goto done;
    }
    list = child(root, "TriggerPuids");
    for (n = list ? list->children : NULL; n; n = n->next) {
        char *puid, *type;
        trigger *nt;
        if (!is_el(n, "TriggerPuid"))
            continue;
        puid = attr(n, "Puid");
        type = attr(n, "ContainerType");
        if (puid && strlen(puid) > 0 && strlen(puid) < 32 && type_of(type)) {
            if (!(nt = realloc(c->t, (c->nt + 1) * sizeof *nt))) {
                free(puid);
                free(type);
                rc = vl_error_sys(err, "%s: loading", shown);
                goto done;
            }
            c->t = nt;
            memcpy(c->t[c->nt].puid, puid, strlen(puid) + 1);
            c->t[c->nt++].type = type_of(type);
        }
        free(puid);
        free(type);
    }
    if ((rc = build_index(c, err)) != VL_OK)
        goto done;
    /* An attribute libxml2 could not copy reads as absent: a signature
     * would be called malformed, or dropped. */
    if (vl_alloc_failures() != failures) {
        rc = vl_error_set(err, VL_ESYS, "%s: out of memory", shown);
        goto done;
    }
    *out = c;
    c = NULL;
    rc = VL_OK;
done:
    /* what a shortage made look malformed is not the file's fault */
    if (rc != VL_OK && rc != VL_ESYS && shown &&
        vl_alloc_failures() != failures)
        rc = vl_error_set(err, VL_ESYS, "%s: out of memory", shown);
    if (doc)
        vl_xml_free(doc);
    vl_buf_release(&raw);
    vl_pronom_containers_free(c);
    free(shown);
    return rc;
}

const char *vl_pronom_containers_version(const vl_pronom_containers *c)
{
    return c->version;
}

size_t vl_pronom_containers_count(const vl_pronom_containers *c, int type)
{
    size_t i, n = 0;
    for (i = 0; i < c->n; i++)
        if (!type || c->s[i].type == type)
            n++;
    return n;
}

const char *vl_pronom_containers_warning(const vl_pronom_containers *c,
                                         size_t *nbroken)
{
    if (nbroken)
        *nbroken = c->nbroken;
    return c->warning;
}

int vl_pronom_containers_trigger(const vl_pronom_containers *c,
                                 const char *puid)
{
    size_t i;
    for (i = 0; i < c->nt; i++)
        if (!strcmp(c->t[i].puid, puid))
            return c->t[i].type;
    return 0;
}

/* ---- matching ----------------------------------------------------------- */

/* One call's state: which (signature, file) pairs are satisfied. */
typedef struct run {
    const vl_pronom_containers *c;
    int type;
    uint8_t *hit;            /* by file index over all signatures */
    uint8_t *seen;           /* by ref index: its path met already */
    size_t paths_seen;
    uint8_t *bof, *eof;      /* WINDOW bytes each */
} run;

/* How an entry's bytes are got: the first WINDOW, and the last when
 * want_eof; *size its whole size.  VL_FINDING: this entry cannot be read
 * (encrypted, say), the others still count. */
typedef int (*read_fn)(void *arg, int want_eof, size_t *boflen,
                       size_t *eoflen, uint64_t *size, vl_error *err);

static int entry_seen(run *r, const char *name, int readable, read_fn rd,
                      void *arg, vl_error *err)
{
    const cref *v = r->c->ref[r->type];
    size_t nv = r->c->nref[r->type], lo = 0, hi = nv, i, boflen = 0,
           eoflen = 0;
    int want_bytes = 0, want_eof = 0, rc;
    uint64_t size = 0;

    while (lo < hi) {                 /* the first ref with this path */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid].path, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* A name met twice (a hostile ZIP may repeat one): the first counts,
     * as a lookup by name would give. */
    if (lo == nv || strcmp(v[lo].path, name) || r->seen[lo])
        return VL_OK;
    r->paths_seen++;
    for (i = lo; i < nv && !strcmp(v[i].path, name); i++) {
        const cfile *f = &r->c->s[v[i].sig].f[v[i].file];
        r->seen[i] = 1;
        if (!f->nsig) {
            r->hit[r->c->s[v[i].sig].first + v[i].file] = 1;
        } else if (readable) {
            want_bytes = 1;
            want_eof |= f->needs_eof;
        }
    }
    if (!want_bytes)
        return VL_OK;
    rc = rd(arg, want_eof, &boflen, &eoflen, &size, err);
    if (rc == VL_FINDING)
        return VL_OK;                 /* unreadable entry: no byte match */
    if (rc != VL_OK)
        return rc;
    for (i = lo; i < nv && !strcmp(v[i].path, name); i++) {
        const cfile *f = &r->c->s[v[i].sig].f[v[i].file];
        size_t k;
        for (k = 0; k < f->nsig; k++) {
            if (vl_pronom_sig_match(f->sig[k], r->bof, boflen, r->eof, eoflen,
                                    size, NULL, 0)) {
                r->hit[r->c->s[v[i].sig].first + v[i].file] = 1;
                break;
            }
        }
    }
    return VL_OK;
}

/* ---- OLE2 ---- */

typedef struct ole2_arg {
    vl_ole2 *h;
    size_t i;
    run *r;
} ole2_arg;

static int ole2_read(void *arg, int want_eof, size_t *boflen, size_t *eoflen,
                     uint64_t *size, vl_error *err)
{
    ole2_arg *a = arg;
    uint64_t sz;
    int rc;

    vl_ole2_entry(a->h, a->i, NULL, NULL, &sz);
    *size = sz;
    *eoflen = 0;
    if ((rc = vl_ole2_read(a->h, a->i, a->r->bof, WINDOW, boflen, err)) !=
        VL_OK)
        return rc;
    if (sz <= WINDOW) {
        memcpy(a->r->eof, a->r->bof, *boflen);
        *eoflen = *boflen;
    } else if (want_eof) {
        rc = vl_ole2_read_at(a->h, a->i, sz - WINDOW, a->r->eof, WINDOW,
                             eoflen, err);
    }
    return rc;
}

/* name with each '/'-separated segment trimmed as Java's trim() does. */
static void droid_trim(const char *name, char *out)
{
    const char *seg = name;
    size_t o = 0;

    for (;;) {
        const char *end = strchr(seg, '/'), *s = seg, *e;
        if (!end)
            end = seg + strlen(seg);
        e = end;
        while (s < e && (unsigned char)*s <= 0x20)
            s++;
        while (e > s && (unsigned char)e[-1] <= 0x20)
            e--;
        memcpy(out + o, s, (size_t)(e - s));
        o += (size_t)(e - s);
        if (!*end)
            break;
        out[o++] = '/';
        seg = end + 1;
    }
    out[o] = 0;
}

static int match_ole2(run *r, const char *path, const char *shown,
                      vl_error *err)
{
    vl_ole2 *h = NULL;
    size_t i;
    int rc;

    if ((rc = vl_ole2_open(path, shown, &h, err)) != VL_OK)
        return rc;
    for (i = 0; i < vl_ole2_count(h) && r->paths_seen < r->c->npaths[r->type];
         i++) {
        const char *name;
        char *t;
        int is_stream;
        ole2_arg a = {h, i, r};

        vl_ole2_entry(h, i, &name, &is_stream, NULL);
        if (!(t = malloc(strlen(name) + 1))) {
            rc = vl_error_sys(err, "%s: matching", shown);
            break;
        }
        droid_trim(name, t);
        rc = entry_seen(r, t, is_stream, ole2_read, &a, err);
        free(t);
        if (rc != VL_OK)
            break;
    }
    vl_ole2_close(h);
    return rc;
}

/* ---- ZIP ---- */

typedef struct zip_arg {
    struct archive *a;
    struct archive_entry *e;
    run *r;
    const char *shown;
} zip_arg;

static int zip_fatal(const zip_arg *z, vl_error *err)
{
    const char *why = archive_error_string(z->a);
    return vl_error_set(err, VL_EINPUT, "%s: corrupt ZIP container: %s",
                        z->shown, why ? why : "unreadable");
}

static int zip_read(void *arg, int want_eof, size_t *boflen, size_t *eoflen,
                    uint64_t *size, vl_error *err)
{
    zip_arg *z = arg;
    size_t got = 0, total;
    la_ssize_t k;

    *eoflen = 0;
    while (got < WINDOW) {
        k = archive_read_data(z->a, z->r->bof + got, WINDOW - got);
        if (k == 0)
            break;
        if (k < 0)
            goto bad;
        got += (size_t)k;
    }
    *boflen = got;
    total = got;
    if (got < WINDOW) {              /* the whole entry */
        memcpy(z->r->eof, z->r->bof, got);
        *eoflen = got;
        *size = got;
        return VL_OK;
    }
    *size = archive_entry_size_is_set(z->e)
                ? (uint64_t)archive_entry_size(z->e)
                : (uint64_t)got + 1;
    if (!want_eof)
        return VL_OK;
    /* Through to the end, keeping the last WINDOW bytes (eof holds the
     * latest, bof's copy seeds it). */
    memcpy(z->r->eof, z->r->bof, WINDOW);
    for (;;) {
        uint8_t chunk[16384];
        if (total > ZIP_EOF_READ_MAX)
            return VL_OK;            /* the tail stays unknown */
        k = archive_read_data(z->a, chunk, sizeof chunk);
        if (k == 0)
            break;
        if (k < 0)
            goto bad;
        memmove(z->r->eof, z->r->eof + k, WINDOW - (size_t)k);
        memcpy(z->r->eof + WINDOW - (size_t)k, chunk, (size_t)k);
        total += (size_t)k;
    }
    *eoflen = WINDOW;
    *size = total;
    return VL_OK;
bad:
    if (k == ARCHIVE_FATAL)
        return zip_fatal(z, err);
    /* One entry that cannot be read (encrypted, an unknown method): no
     * byte match for it, the rest of the container still counts. */
    return VL_FINDING;
}

static uint64_t rd16(const uint8_t *p) { return (uint64_t)p[0] | (uint64_t)p[1] << 8; }
static uint64_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | rd32(p + 4) << 32; }

/* The entry count the end of central directory record declares (ZIP64's
 * when there is one), or 0 when none is found (libarchive then decides).
 * libarchive's seekable reader loads that many entries before giving the
 * first, so a hostile count must be refused before it gets there. */
static int zip_declared_entries(const char *path, const char *shown,
                                uint64_t *count, vl_error *err)
{
    enum { TAIL = 65535 + 22 + 20 };
    uint8_t *buf = malloc(TAIL);
    struct stat st;
    size_t len, i;
    int fd = -1, rc = VL_OK;

    *count = 0;
    if (!buf)
        return vl_error_sys(err, "%s: matching", shown);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
        rc = vl_error_sys(err, "%s: cannot open", shown);
        goto done;
    }
    len = (uint64_t)st.st_size < TAIL ? (size_t)st.st_size : TAIL;
    if (pread(fd, buf, len, st.st_size - (off_t)len) != (ssize_t)len) {
        rc = vl_error_sys(err, "%s: cannot read", shown);
        goto done;
    }
    for (i = len >= 22 ? len - 22 + 1 : 0; i-- > 0;) {
        if (memcmp(buf + i, "PK\5\6", 4))
            continue;
        *count = rd16(buf + i + 10);
        /* ZIP64: the locator just before, pointing at the ZIP64 record. */
        if (i >= 20 && !memcmp(buf + i - 20, "PK\6\7", 4)) {
            uint8_t z[56];
            if (pread(fd, z, sizeof z, (off_t)rd64(buf + i - 20 + 8)) ==
                    (ssize_t)sizeof z &&
                !memcmp(z, "PK\6\6", 4))
                *count = rd64(z + 32);
        }
        break;
    }
done:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

static int match_zip(run *r, const char *path, const char *shown,
                     vl_error *err)
{
    zip_arg z = {archive_read_new(), NULL, r, shown};
    size_t count = 0;
    int rc = VL_OK, ar;

    uint64_t declared;

    if (!z.a)
        return vl_error_sys(err, "%s: matching", shown);
    if ((rc = zip_declared_entries(path, shown, &declared, err)) != VL_OK)
        goto done;
    if (declared > ZIP_MAX_ENTRIES) {
        rc = vl_error_set(err, VL_EINPUT, "%s: ZIP container declares %llu "
                          "entries, more than the %d looked inside", shown,
                          (unsigned long long)declared, ZIP_MAX_ENTRIES);
        goto done;
    }
    archive_read_support_format_zip(z.a);
    if (archive_read_open_filename(z.a, path, 65536) != ARCHIVE_OK) {
        rc = archive_errno(z.a) == ENOENT || archive_errno(z.a) == EACCES
                 ? vl_error_set(err, VL_ESYS, "%s: cannot open: %s", shown,
                                archive_error_string(z.a))
                 : zip_fatal(&z, err);
        goto done;
    }
    while (r->paths_seen < r->c->npaths[r->type]) {
        const char *name;
        ar = archive_read_next_header(z.a, &z.e);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar == ARCHIVE_FATAL || ar == ARCHIVE_RETRY) {
            rc = zip_fatal(&z, err);
            goto done;
        }
        /* Beyond this many entries the rest are not looked at: bounded
         * time on a hostile archive, and no real container comes close
         * with its signature files this far in. */
        if (++count > ZIP_MAX_ENTRIES)
            break;
        name = archive_entry_pathname_utf8(z.e);
        if (!name)
            name = archive_entry_pathname(z.e);
        if (!name)
            continue;
        if ((rc = entry_seen(r, name, ar != ARCHIVE_FAILED, zip_read, &z,
                             err)) != VL_OK)
            goto done;
    }
done:
    archive_read_free(z.a);
    return rc;
}

int vl_pronom_containers_match(const vl_pronom_containers *c, int type,
                               const char *path, char (*puids)[32],
                               char (*basis)[256], size_t cap, size_t *n,
                               vl_error *err)
{
    char *shown = vl_name_shorten(path, VL_NAME_SHOWN_MAX);
    run r = {c, type, NULL, NULL, 0, NULL, NULL};
    size_t i, k, j;
    int rc;

    *n = 0;
    if (type != VL_CONTAINER_ZIP && type != VL_CONTAINER_OLE2) {
        free(shown);
        return vl_error_set(err, VL_EINPUT, "container type %d", type);
    }
    r.hit = calloc(c->nfiles ? c->nfiles : 1, 1);
    r.seen = calloc(c->nref[type] ? c->nref[type] : 1, 1);
    r.bof = malloc(WINDOW);
    r.eof = malloc(WINDOW);
    if (!shown || !r.hit || !r.seen || !r.bof || !r.eof) {
        rc = vl_error_sys(err, "matching container signatures");
        goto done;
    }
    rc = type == VL_CONTAINER_ZIP ? match_zip(&r, path, shown, err)
                                  : match_ole2(&r, path, shown, err);
    if (rc != VL_OK)
        goto done;
    for (i = 0; i < c->n; i++) {
        const csig *s = &c->s[i];
        if (s->type != type || s->broken)
            continue;
        for (k = 0; k < s->nf && r.hit[s->first + k]; k++)
            ;
        if (k < s->nf)
            continue;
        for (k = 0; k < s->npuid && *n < cap; k++) {
            for (j = 0; j < *n && strcmp(puids[j], s->puid[k]); j++)
                ;
            if (j < *n)
                continue;            /* each PUID once, its first basis */
            memcpy(puids[*n], s->puid[k], sizeof puids[*n]);
            if (basis) {
                size_t used, f;
                used = (size_t)snprintf(basis[*n], sizeof basis[*n],
                                        "container signature %d:", s->id);
                for (f = 0; f < s->nf && used < sizeof basis[*n]; f++)
                    used += (size_t)snprintf(basis[*n] + used,
                                             sizeof basis[*n] - used, "%s %s",
                                             f ? "," : "", s->f[f].path);
            }
            (*n)++;
        }
    }
done:
    free(r.hit);
    free(r.seen);
    free(r.bof);
    free(r.eof);
    free(shown);
    return rc;
}
