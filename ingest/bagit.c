/* BagIt checker (RFC 8493 / BagIt 1.0, and the 0.93-0.97 drafts still met
 * in the wild).  Tag files arrive as bytes, so a bag in a folder and a bag
 * in an archive are checked the same way; payload files arrive as
 * (path, size, digests) from the ingest pipeline, which hashes each byte
 * once.  Every discrepancy is collected and reported, not just the first.
 *
 * Decisions where the texts leave room (see also manifest.c for paths):
 * - bagit.txt must be exactly the two lines, in order, label, ':' and one
 *   space or tab, no other whitespace, and no byte-order mark in any
 *   version (both the draft and the RFC say so for the declaration).
 * - Tag-File-Character-Encoding may name another encoding than UTF-8 in
 *   every version (RFC 8493 2.1.1 and 2.3: UTF-8 is strongly recommended,
 *   not required; a 1.0 bag that uses another gets a warning).  Manifests,
 *   fetch.txt and bag-info.txt are converted with iconv before parsing;
 *   digests are still taken over the raw bytes.
 * - UTF-8 tag files must not start with a BOM (RFC 8493 2.3: a BOM only
 *   where the encoding needs one, and UTF-8 does not).
 * - Manifests may use any fixed-length digest OpenSSL provides (2.4 asks
 *   only that the name be the algorithm's, lower case, non-alphanumerics
 *   removed; a name not in that form, such as bagit-python's "sha3_256",
 *   is read with a warning).
 * - The same path twice in one manifest with the same checksum is a
 *   warning, with another checksum a refusal; two entries of one manifest
 *   that differ only in Unicode normalization or case get a warning (6.1.1.3
 *   of the RFC, "Recommendations").
 * - A payload file listed in one Unicode normalization and present in the
 *   other (NFC/NFD) matches when it is the only such file, with a warning
 *   (6.1.1.3: tolerate differences in normalization form).
 * - fetch.txt (2.2.3): "URL LENGTH PATH" lines, LENGTH a number of octets or
 *   "-", PATH encoded and normalised as in manifests.  In a 1.0 bag every
 *   path must be a payload file listed in every payload manifest (a tag
 *   file or an unlisted path is refused); a 0.9x bag gets a warning.  A bag
 *   whose fetched files are all present and match is complete; a missing
 *   one is reported with the URL it would come from (vellum downloads
 *   nothing).
 * - Blank lines in manifests, fetch.txt and bag-info.txt are skipped.
 * - Payload-Oxum may appear once. */
#include "bagit_private.h"
#include "ingest_internal.h"
#include "manifest_private.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define TAG_FILE_MAX (16u << 20)
/* Manifests grow with the payload (~200 bytes a file for sha512), so they
 * get a larger cap than the other tag files. */
#define MANIFEST_FILE_MAX (256u << 20)
/* One manifest per algorithm, and OpenSSL has fewer than 32. */
#define BAG_MAX_MANIFESTS 32

typedef struct tag_file {
    char *rel;
    char *data;
    size_t len;
    char *path;      /* a tag file only digested: read from here, not held */
} tag_file;

typedef struct bag_manifest {
    char *name;                      /* "manifest-sha256.txt" */
    char evp[VL_DIGEST_NAME_MAX];    /* OpenSSL's name of the algorithm */
    char shown[VL_DIGEST_NAME_MAX];  /* as messages name it: "sha256" */
    int known;                       /* a vl_digest_alg, or -1 */
    int extra;                       /* payload, known -1: index in extra[] */
    vl_manifest *m;
} bag_manifest;

typedef struct fetch_entry {
    char *url;
    char *path;                      /* decoded, normal form */
    size_t line;
} fetch_entry;

typedef struct seen_file {
    char *rel;
    uint64_t size;
    uint32_t listed;                 /* bit i: payload manifest i lists rel */
    char **hex;                      /* [npay], kept where not listed */
} seen_file;

typedef struct bag_msg {
    int cls;             /* 0 tag file, 1 payload file, 2 whole bag */
    char *key;           /* path the message is about */
    size_t seq;
    char *text;
} bag_msg;

typedef struct msg_list {
    bag_msg *v;
    size_t n, cap;
} msg_list;

struct vl_bag {
    tag_file *tags;
    size_t ntags, tcap;
    json_t *tagmap;      /* rel -> index into tags */
    int parsed;
    int limit;           /* the refusal is about what vellum reads */
    char version[16];
    int legacy;          /* before 1.0 */
    char encoding[64];
    bag_manifest pay[BAG_MAX_MANIFESTS];     /* in name order */
    size_t npay;
    bag_manifest tagm[BAG_MAX_MANIFESTS];
    size_t ntagm;
    unsigned payload_mask;
    const char *extra[BAG_MAX_MANIFESTS];    /* evp names of known -1 */
    size_t nextra;
    char **labels, **values;
    size_t ninfo, lcap, vcap;   /* labels[] and values[] grow apart */
    char info_name[32];  /* "bag-info.txt" or "package-info.txt" */
    int has_oxum;
    uint64_t oxum_octets, oxum_streams;
    fetch_entry *fetch;
    size_t nfetch;
    json_t *fetchmap;    /* path -> index into fetch */
    seen_file *seen;
    size_t nseen, scap;
    json_t *seenmap;     /* rel -> index into seen */
    uint64_t seen_bytes;
    int seen_overflow;
    int data_dir;        /* -1 not known, 0 absent, 1 present */
    msg_list msgs;       /* discrepancies found as payload arrives */
    size_t seq;
    vl_report_fn warn;
    void *warn_arg;
    int complete;        /* from the last verify */
    size_t to_fetch;
};

vl_bag *vl_bag_new(void)
{
    vl_bag *b = calloc(1, sizeof *b);

    if (!b)
        return NULL;
    b->data_dir = -1;
    b->tagmap = json_object();
    b->seenmap = json_object();
    b->fetchmap = json_object();
    if (!b->tagmap || !b->seenmap || !b->fetchmap) {
        vl_bag_free(b);
        return NULL;
    }
    return b;
}

void vl_bag_set_warn(vl_bag *b, vl_report_fn fn, void *arg)
{
    b->warn = fn;
    b->warn_arg = arg;
}

void vl_bag_set_payload_dir(vl_bag *b, int present)
{
    b->data_dir = present ? 1 : 0;
}

static void bag_warn(vl_bag *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bag_warn(vl_bag *b, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!b->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->warn(b->warn_arg, msg);
}

static void msgs_release(msg_list *l, size_t from)
{
    size_t i;

    for (i = from; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].text);
    }
    l->n = from;
}

static void manifest_release(bag_manifest *m)
{
    free(m->name);
    vl_manifest_free(m->m);
}

void vl_bag_free(vl_bag *b)
{
    size_t i, k;

    if (!b)
        return;
    for (i = 0; i < b->ntags; i++) {
        free(b->tags[i].rel);
        free(b->tags[i].data);
        free(b->tags[i].path);
    }
    free(b->tags);
    json_decref(b->tagmap);
    json_decref(b->seenmap);
    json_decref(b->fetchmap);
    for (i = 0; i < b->npay; i++)
        manifest_release(&b->pay[i]);
    for (i = 0; i < b->ntagm; i++)
        manifest_release(&b->tagm[i]);
    for (i = 0; i < b->ninfo; i++) {
        free(b->labels[i]);
        free(b->values[i]);
    }
    free(b->labels);
    free(b->values);
    for (i = 0; i < b->nfetch; i++) {
        free(b->fetch[i].url);
        free(b->fetch[i].path);
    }
    free(b->fetch);
    for (i = 0; i < b->nseen; i++) {
        free(b->seen[i].rel);
        for (k = 0; b->seen[i].hex && k < b->npay; k++)
            free(b->seen[i].hex[k]);
        free(b->seen[i].hex);
    }
    free(b->seen);
    msgs_release(&b->msgs, 0);
    free(b->msgs.v);
    free(b);
}

/* Add one discrepancy line; key is the path it concerns (sort order). */
static int msg_add(vl_bag *b, msg_list *l, int cls, const char *key,
                   vl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int msg_add(vl_bag *b, msg_list *l, int cls, const char *key,
                   vl_error *err, const char *fmt, ...)
{
    va_list ap;
    char *text = NULL, *k = NULL;
    int n, rc = VL_OK;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        rc = vl_error_sys(err, "bag report");
        goto done;
    }
    text = malloc((size_t)n + 1);
    k = vl_strdup(key);
    if (!text || !k) {
        rc = vl_error_sys(err, "bag report");
        goto done;
    }
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if ((rc = VL_GROW(l->v, l->cap, l->n + 1, err)) != VL_OK)
        goto done;
    l->v[l->n].cls = cls;
    l->v[l->n].key = k;
    l->v[l->n].seq = b->seq++;
    l->v[l->n].text = text;
    l->n++;
    text = k = NULL;
done:
    free(text);
    free(k);
    return rc;
}

static int msg_cmp(const void *pa, const void *pb)
{
    const bag_msg *a = *(const bag_msg *const *)pa;
    const bag_msg *b = *(const bag_msg *const *)pb;
    int c;

    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    c = strcmp(a->key, b->key);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int is_manifest_name(const char *rel, const char *prefix)
{
    size_t pl = strlen(prefix), n = strlen(rel);

    return n > pl + 4 && strncmp(rel, prefix, pl) == 0 &&
           strcmp(rel + n - 4, ".txt") == 0 && !strchr(rel, '/');
}

int vl_bag_tag_is_read(const char *rel)
{
    return !strcmp(rel, "bagit.txt") || !strcmp(rel, "bag-info.txt") ||
           !strcmp(rel, "package-info.txt") || !strcmp(rel, "fetch.txt") ||
           is_manifest_name(rel, "manifest-") || is_manifest_name(rel, "tagmanifest-");
}

/* A new entry for tag file rel (checked: a path in normal form, not
 * payload, not given before, at most cap bytes when len is known); the
 * caller fills in its bytes or path. */
static int tag_new(vl_bag *b, const char *rel, size_t len, size_t cap, tag_file **out,
                   vl_error *err)
{
    tag_file *t;
    int rc;

    if (b->parsed)
        return vl_error_set(err, VL_EINPUT, "tag file %s added after the bag "
                            "was parsed", rel);
    /* A relative path to a file in the bag, in normal form; any other byte
     * may be in a name (a tag manifest encodes CR and LF). */
    {
        const char *seg = rel;
        int bad = !*rel || !vl_utf8_valid(rel, strlen(rel));
        while (!bad) {
            const char *slash = strchr(seg, '/');
            size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
            bad = sl == 0 || (sl == 1 && seg[0] == '.') ||
                  (sl == 2 && seg[0] == '.' && seg[1] == '.');
            if (!slash)
                break;
            seg = slash + 1;
        }
        if (bad) {
            char *esc = vl_name_escape(rel);
            rc = vl_error_set(err, VL_EINPUT, "tag file \"%s\": not a "
                              "relative path in normal form",
                              esc ? esc : "?");
            free(esc);
            return rc;
        }
    }
    if (strcmp(rel, "data") == 0 || strncmp(rel, "data/", 5) == 0) {
        char *esc = vl_name_escape(rel);
        rc = vl_error_set(err, VL_EINPUT, "%s: payload, not a tag file",
                          esc ? esc : "?");
        free(esc);
        return rc;
    }
    if (cap && len > cap)
        return vl_error_set(err, VL_EINPUT, "%s: tag file of %zu bytes; "
                            "vellum reads tag files up to %zu MiB", rel, len,
                            (size_t)(cap >> 20));
    if (json_object_get(b->tagmap, rel))
        return vl_error_set(err, VL_EINPUT, "%s: tag file given twice", rel);
    if (VL_GROW(b->tags, b->tcap, b->ntags + 1, err) != VL_OK)
        return VL_ESYS;
    t = &b->tags[b->ntags];
    memset(t, 0, sizeof *t);
    if (!(t->rel = vl_strdup(rel)) ||
        json_object_set_new_nocheck(b->tagmap, rel,
                                    json_integer((json_int_t)b->ntags)) != 0) {
        free(t->rel);
        errno = ENOMEM;
        return vl_error_sys(err, "%s", rel);
    }
    b->ntags++;
    *out = t;
    return VL_OK;
}

int vl_bag_add_tag_file(vl_bag *b, const char *rel, const void *data,
                        size_t len, vl_error *err)
{
    tag_file *t;
    size_t cap = is_manifest_name(rel, "manifest-") ||
                         is_manifest_name(rel, "tagmanifest-")
                     ? MANIFEST_FILE_MAX : TAG_FILE_MAX;
    int rc = tag_new(b, rel, len, cap, &t, err);
    if (rc != VL_OK)
        return rc;
    if (!(t->data = malloc(len ? len : 1))) {
        errno = ENOMEM;
        return vl_error_sys(err, "%s", rel);
    }
    t->len = len;
    if (len)
        memcpy(t->data, data, len);
    return VL_OK;
}

int vl_bag_add_tag_path(vl_bag *b, const char *rel, const char *path, vl_error *err)
{
    tag_file *t;
    int rc;
    if (vl_bag_tag_is_read(rel))
        return vl_error_set(err, VL_ESYS, "internal: %s is read, not only digested", rel);
    if ((rc = tag_new(b, rel, 0, 0, &t, err)) != VL_OK)
        return rc;
    if (!(t->path = vl_strdup(path))) {
        errno = ENOMEM;
        return vl_error_sys(err, "%s", rel);
    }
    return VL_OK;
}

static const tag_file *tag_get(const vl_bag *b, const char *rel)
{
    json_t *v = json_object_get(b->tagmap, rel);

    return v ? &b->tags[json_integer_value(v)] : NULL;
}

/* Split the next line (LF, CRLF or CR) off [*pos, len). */
static int next_line(const char *d, size_t len, size_t *pos, const char **s,
                     size_t *n)
{
    size_t start = *pos, p = *pos;

    if (p >= len)
        return 0;
    while (p < len && d[p] != '\n' && d[p] != '\r')
        p++;
    *s = d + start;
    *n = p - start;
    if (p < len && d[p] == '\r') {
        p++;
        if (p < len && d[p] == '\n')
            p++;
    } else if (p < len) {
        p++;
    }
    *pos = p;
    return 1;
}

static int is_blank(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

/* One declaration line: exactly "<label>: <value>" (one space or tab). */
static int decl_line(const char *s, size_t n, const char *label, char *out,
                     size_t outsz)
{
    size_t ll = strlen(label), vl;

    if (n < ll + 3 || memcmp(s, label, ll) != 0 || s[ll] != ':' ||
        (s[ll + 1] != ' ' && s[ll + 1] != '\t'))
        return -1;
    s += ll + 2;
    vl = n - ll - 2;
    if (vl == 0 || vl >= outsz || s[0] == ' ' || s[0] == '\t' ||
        s[vl - 1] == ' ' || s[vl - 1] == '\t' || memchr(s, '\0', vl))
        return -1;
    memcpy(out, s, vl);
    out[vl] = '\0';
    return 0;
}

/* "UTF-8", in any case, with or without the '-' (IANA lists "UTF-8";
 * writers also say "utf8"). */
static int is_utf8_name(const char *e)
{
    return !strcasecmp(e, "UTF-8") || !strcasecmp(e, "UTF8");
}

static int parse_declaration(vl_bag *b, vl_error *err)
{
    static const char *const versions[] = {"1.0", "0.97", "0.96", "0.95",
                                           "0.94", "0.93"};
    const tag_file *t = tag_get(b, "bagit.txt");
    const char *s[3];
    size_t n[3], pos = 0, nl = 0, i;
    int ok = 0;

    if (!t)
        return vl_error_set(err, VL_EINPUT, "bagit.txt is missing: a bag "
                            "declares itself there (RFC 8493 section 2.1.1)");
    if (t->len >= 3 && memcmp(t->data, "\xEF\xBB\xBF", 3) == 0)
        return vl_error_set(err, VL_EINPUT, "bagit.txt: starts with a "
                            "byte-order mark, which BagIt forbids in the bag "
                            "declaration");
    if (!vl_utf8_valid(t->data, t->len))
        return vl_error_set(err, VL_EINPUT, "bagit.txt: not valid UTF-8");
    while (nl < 3 && next_line(t->data, t->len, &pos, &s[nl], &n[nl]))
        nl++;
    if (nl != 2)
        return vl_error_set(err, VL_EINPUT, "bagit.txt: must be exactly two "
                            "lines (BagIt-Version: M.N, "
                            "Tag-File-Character-Encoding: UTF-8), found %s",
                            nl < 2 ? (nl ? "one" : "none") : "more");
    if (decl_line(s[0], n[0], "BagIt-Version", b->version,
                  sizeof b->version) != 0)
        return vl_error_set(err, VL_EINPUT, "bagit.txt line 1: not "
                            "\"BagIt-Version: M.N\"");
    if (decl_line(s[1], n[1], "Tag-File-Character-Encoding", b->encoding,
                  sizeof b->encoding) != 0)
        return vl_error_set(err, VL_EINPUT, "bagit.txt line 2: not "
                            "\"Tag-File-Character-Encoding: ENCODING\"");
    for (i = 0; i < sizeof versions / sizeof versions[0]; i++)
        if (strcmp(b->version, versions[i]) == 0)
            ok = 1;
    if (!ok) {
        char *esc = vl_name_escape(b->version);
        int rc = vl_error_set(err, VL_EINPUT, "bagit.txt: BagIt-Version %s is "
                              "not supported (1.0 and 0.93-0.97 are)",
                              esc ? esc : "?");
        free(esc);
        b->limit = 1;
        return rc;
    }
    b->legacy = strcmp(b->version, "1.0") != 0;
    if (!is_utf8_name(b->encoding)) {
        char *esc = vl_name_escape(b->encoding);
        iconv_t cd = iconv_open("UTF-8", b->encoding);
        int rc = VL_OK;
        if (cd == (iconv_t)-1) {
            rc = vl_error_set(err, VL_EINPUT, "bagit.txt: "
                              "Tag-File-Character-Encoding %s is not one "
                              "vellum can read", esc ? esc : "?");
            b->limit = 1;
        } else {
            iconv_close(cd);
            if (!b->legacy)
                bag_warn(b, "bagit.txt: tag files are in %s; BagIt 1.0 "
                         "strongly recommends UTF-8 (RFC 8493 section 2.3)",
                         esc ? esc : "?");
        }
        free(esc);
        return rc;
    }
    return VL_OK;
}

/* The text of a tag file as UTF-8: the bytes themselves, or (another
 * declared encoding) a converted copy in *owned. */
static int tag_text(const vl_bag *b, const tag_file *t, const char **out,
                    size_t *outlen, char **owned, vl_error *err)
{
    iconv_t cd = (iconv_t)-1;
    char *buf = NULL, *in, *o;
    size_t cap, inleft, oleft;
    int rc = VL_OK;

    *owned = NULL;
    if (is_utf8_name(b->encoding)) {
        if (t->len >= 3 && memcmp(t->data, "\xEF\xBB\xBF", 3) == 0) {
            rc = vl_error_set(err, VL_EINPUT, "%s: starts with a byte-order "
                              "mark, which BagIt does not allow in UTF-8 tag "
                              "files", t->rel);
            goto done;
        }
        *out = t->data;
        *outlen = t->len;
        goto done;
    }
    cd = iconv_open("UTF-8", b->encoding);
    if (cd == (iconv_t)-1) {
        rc = vl_error_set(err, VL_EINPUT, "%s: cannot convert from %s",
                          t->rel, b->encoding);
        goto done;
    }
    /* UTF-8 takes at most 4 bytes for any input character of >= 1 byte. */
    cap = t->len * 4 + 4;
    buf = malloc(cap);
    if (!buf) {
        rc = vl_error_sys(err, "%s", t->rel);
        goto done;
    }
    in = t->data;
    inleft = t->len;
    o = buf;
    oleft = cap;
    if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 ||
        iconv(cd, NULL, NULL, &o, &oleft) == (size_t)-1) {
        rc = vl_error_set(err, VL_EINPUT, "%s: not valid %s at byte %zu",
                          t->rel, b->encoding, (size_t)(in - t->data));
        goto done;
    }
    *outlen = (size_t)(o - buf);
    /* The encoding may need a BOM (UTF-16BE/LE keep it as U+FEFF). */
    if (*outlen >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        memmove(buf, buf + 3, *outlen - 3);
        *outlen -= 3;
    }
    *out = buf;
    *owned = buf;
    buf = NULL;
done:
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    free(buf);
    return rc;
}

static void warn_fwd(void *arg, const char *msg)
{
    vl_bag *b = arg;

    if (b->warn)
        b->warn(b->warn_arg, msg);
}

/* Entries of one manifest that name the same file on a filesystem that
 * normalises Unicode or ignores case (RFC 8493 6.1.1.3 asks for a
 * warning). */
static int warn_lookalikes(vl_bag *b, const bag_manifest *bm, vl_error *err)
{
    json_t *keys = json_object();
    size_t i, n = vl_manifest_count(bm->m);
    int rc = VL_OK;

    if (!keys)
        return vl_error_sys(err, "%s", bm->name);
    for (i = 0; i < n; i++) {
        const char *path;
        char *key, *nfc;
        json_t *prev;
        vl_manifest_entry(bm->m, i, &path, NULL);
        if (!(key = vl_name_key(path, 1)))
            continue;   /* not UTF-8: the manifest parser refused those */
        prev = json_object_get(keys, key);
        if (prev) {
            size_t j = (size_t)json_integer_value(prev);
            const char *other;
            char *a, *c, *nfc_other;
            vl_manifest_entry(bm->m, j, &other, NULL);
            nfc = vl_name_key(path, 0);
            nfc_other = vl_name_key(other, 0);
            a = vl_name_escape(other);
            c = vl_name_escape(path);
            if (nfc && nfc_other && strcmp(nfc, nfc_other) == 0)
                bag_warn(b, "%s lines %zu and %zu: \"%s\" and \"%s\" are the "
                         "same name in two Unicode normalizations (%s, %s)",
                         bm->name, vl_manifest_entry_line(bm->m, j),
                         vl_manifest_entry_line(bm->m, i), a ? a : "?",
                         c ? c : "?", strcmp(other, nfc_other) ? "NFD" : "NFC",
                         strcmp(path, nfc) ? "NFD" : "NFC");
            else
                bag_warn(b, "%s lines %zu and %zu: \"%s\" and \"%s\" differ "
                         "only in case", bm->name,
                         vl_manifest_entry_line(bm->m, j),
                         vl_manifest_entry_line(bm->m, i), a ? a : "?",
                         c ? c : "?");
            free(a);
            free(c);
            free(nfc);
            free(nfc_other);
        } else if (json_object_set_new(keys, key,
                                       json_integer((json_int_t)i)) != 0) {
            errno = ENOMEM;
            rc = vl_error_sys(err, "%s", bm->name);
        }
        free(key);
        if (rc != VL_OK)
            break;
    }
    json_decref(keys);
    return rc;
}

static int load_manifest(vl_bag *b, const tag_file *t, int is_tag,
                         vl_error *err)
{
    const char *prefix = is_tag ? "tagmanifest-" : "manifest-";
    size_t pl = strlen(prefix), n = strlen(t->rel), i, hex_len;
    bag_manifest *set = is_tag ? b->tagm : b->pay;
    size_t *count = is_tag ? &b->ntagm : &b->npay;
    char *name = vl_strndup(t->rel + pl, n - pl - 4), *owned = NULL, *esc;
    char evp[VL_DIGEST_NAME_MAX];
    const char *text;
    vl_manifest_opts o = {0};
    bag_manifest *bm = NULL;
    int rc = VL_OK, known, normal = 1;

    if (!name) {
        rc = vl_error_sys(err, "%s", t->rel);
        goto done;
    }
    if (vl_digest_lookup(name, evp, &hex_len, &known) != 0) {
        esc = vl_name_escape(name);
        rc = vl_error_set(err, VL_EINPUT, "%s: algorithm \"%s\" is not one "
                          "vellum can compute (it reads every fixed-length "
                          "digest OpenSSL provides: md5, sha1, sha224, "
                          "sha256, sha384, sha512, sha3256, blake2b512...)",
                          t->rel, esc ? esc : "?");
        free(esc);
        b->limit = 1;
        goto done;
    }
    for (i = 0; name[i]; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= '0' && name[i] <= '9')))
            normal = 0;
    if (!normal) {
        esc = vl_name_escape(name);
        bag_warn(b, "%s: \"%s\" is not a BagIt algorithm name (lower case "
                 "letters and digits only, RFC 8493 section 2.4); read as %s",
                 t->rel, esc ? esc : "?", evp);
        free(esc);
    }
    for (i = 0; i < *count; i++)
        if (strcmp(set[i].evp, evp) == 0) {
            rc = vl_error_set(err, VL_EINPUT, "%s and %s both give %s "
                              "checksums", set[i].name, t->rel, set[i].shown);
            goto done;
        }
    if (*count >= BAG_MAX_MANIFESTS) {
        rc = vl_error_set(err, VL_EINPUT, "%s: more than %d %smanifests",
                          t->rel, BAG_MAX_MANIFESTS, is_tag ? "tag " : "");
        goto done;
    }
    rc = tag_text(b, t, &text, &n, &owned, err);
    if (rc != VL_OK)
        goto done;
    bm = &set[*count];
    memset(bm, 0, sizeof *bm);
    snprintf(bm->evp, sizeof bm->evp, "%s", evp);
    snprintf(bm->shown, sizeof bm->shown, "%s",
             known >= 0 ? vl_digest_name((vl_digest_alg)known) : name);
    bm->known = known;
    bm->extra = -1;
    o.flags = VL_MF_BAGIT | (b->legacy ? VL_MF_LEGACY : 0) |
              (is_tag ? VL_MF_TAG : VL_MF_PAYLOAD);
    o.alg = known;
    o.hex_len = known >= 0 ? 0 : hex_len;
    o.alg_name = bm->shown;
    o.warn = warn_fwd;
    o.warn_arg = b;
    rc = vl_manifest_parse_opts(text, n, &o, t->rel, &bm->m, err);
    if (rc != VL_OK)
        goto done;
    if (!(bm->name = vl_strdup(t->rel))) {
        vl_manifest_free(bm->m);
        rc = vl_error_sys(err, "%s", t->rel);
        goto done;
    }
    (*count)++;
    if (!is_tag) {
        if (known >= 0) {
            b->payload_mask |= VL_DIGEST_BIT(known);
        } else {
            bm->extra = (int)b->nextra;
            b->extra[b->nextra++] = bm->evp;
        }
    }
    rc = warn_lookalikes(b, bm, err);
done:
    free(owned);
    free(name);
    return rc;
}

/* "scheme:..." with an RFC 3986 scheme: an absolute URI. */
static int absolute_uri(const char *s, size_t n)
{
    size_t i;

    if (n < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' &&
                                                       s[0] <= 'Z')))
        return 0;
    for (i = 1; i < n && s[i] != ':'; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
              s[i] == '.'))
            return 0;
    return i < n - 1;
}

static int fetch_err(size_t line, vl_error *err, const char *what,
                     const char *value)
{
    char *esc = vl_name_escape(value ? value : "");
    int rc = vl_error_set(err, VL_EINPUT, "fetch.txt line %zu: %s%s%s%s",
                          line, what, value ? " \"" : "", value ? esc : "",
                          value ? "\"" : "");
    free(esc);
    return rc;
}

/* fetch.txt (RFC 8493 2.2.3): "URL LENGTH PATH" lines. */
static int parse_fetch(vl_bag *b, vl_error *err)
{
    const tag_file *t = tag_get(b, "fetch.txt");
    const char *text, *s;
    char *owned = NULL, *url = NULL, *path = NULL;
    size_t len, pos = 0, n, line = 0, cap = 0;
    int rc = VL_OK;

    if (!t)
        return VL_OK;
    rc = tag_text(b, t, &text, &len, &owned, err);
    while (rc == VL_OK && next_line(text, len, &pos, &s, &n)) {
        size_t i = 0, us, ul, ls, ll, k;
        json_t *prev;
        line++;
        if (is_blank(s, n))
            continue;
        if (memchr(s, '\0', n) || !vl_utf8_valid(s, n)) {
            rc = fetch_err(line, err, "not valid text", NULL);
            break;
        }
        /* URL, whitespace, LENGTH, whitespace, PATH (the rest). */
        for (us = i; i < n && s[i] != ' ' && s[i] != '\t'; i++)
            ;
        ul = i - us;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        for (ls = i; i < n && s[i] != ' ' && s[i] != '\t'; i++)
            ;
        ll = i - ls;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (!ul || !ll || i >= n) {
            rc = fetch_err(line, err, "not \"URL LENGTH PATH\"", NULL);
            break;
        }
        if (!absolute_uri(s + us, ul)) {
            char *u = vl_strndup(s + us, ul);
            rc = fetch_err(line, err, "not an absolute URL", u ? u : "?");
            free(u);
            break;
        }
        if (!(ll == 1 && s[ls] == '-')) {
            for (k = 0; k < ll && s[ls + k] >= '0' && s[ls + k] <= '9'; k++)
                ;
            if (k != ll || ll > 19) {
                char *l = vl_strndup(s + ls, ll);
                rc = fetch_err(line, err, "LENGTH is not a number of bytes or "
                               "\"-\":", l ? l : "?");
                free(l);
                break;
            }
        }
        rc = vl_bag_path_read(s + i, n - i, b->legacy ? VL_MF_LEGACY : 0,
                              "fetch.txt", line, warn_fwd, b, &path, err);
        if (rc != VL_OK)
            break;
        if ((prev = json_object_get(b->fetchmap, path)) != NULL) {
            char *esc = vl_name_escape(path);
            bag_warn(b, "fetch.txt line %zu: \"%s\" listed again (first on "
                     "line %zu); the first is used", line, esc ? esc : "?",
                     b->fetch[json_integer_value(prev)].line);
            free(esc);
            free(path);
            path = NULL;
            continue;
        }
        if (strncmp(path, "data/", 5) != 0) {
            char *esc = vl_name_escape(path);
            if (!b->legacy) {
                rc = vl_error_set(err, VL_EINPUT, "fetch.txt line %zu: \"%s\" "
                                  "is not a payload file: fetch.txt lists "
                                  "files under data/ only (RFC 8493 section "
                                  "2.2.3)", line, esc ? esc : "?");
                free(esc);
                break;
            }
            bag_warn(b, "fetch.txt line %zu: \"%s\" is not under data/; "
                     "ignored (BagIt 1.0 fetches payload files only)", line,
                     esc ? esc : "?");
            free(esc);
            free(path);
            path = NULL;
            continue;
        }
        for (k = 0; k < b->npay; k++) {
            if (vl_manifest_lookup(b->pay[k].m, path))
                continue;
            char *esc = vl_name_escape(path);
            if (!b->legacy) {
                rc = vl_error_set(err, VL_EINPUT, "fetch.txt line %zu: \"%s\" "
                                  "is not listed in %s (every file fetch.txt "
                                  "lists is in every payload manifest, RFC "
                                  "8493 section 2.2.3)", line, esc ? esc : "?",
                                  b->pay[k].name);
                free(esc);
                break;
            }
            bag_warn(b, "fetch.txt line %zu: \"%s\" is not listed in %s",
                     line, esc ? esc : "?", b->pay[k].name);
            free(esc);
        }
        if (rc != VL_OK)
            break;
        if (!(url = vl_strndup(s + us, ul))) {
            rc = vl_error_sys(err, "fetch.txt");
            break;
        }
        if ((rc = VL_GROW(b->fetch, cap, b->nfetch + 1, err)) != VL_OK)
            break;
        if (json_object_set_new(b->fetchmap, path,
                                json_integer((json_int_t)b->nfetch)) != 0) {
            errno = ENOMEM;
            rc = vl_error_sys(err, "fetch.txt");
            break;
        }
        b->fetch[b->nfetch].url = url;
        b->fetch[b->nfetch].path = path;
        b->fetch[b->nfetch].line = line;
        b->nfetch++;
        url = path = NULL;
    }
    free(url);
    free(path);
    free(owned);
    return rc;
}

static int info_add(vl_bag *b, const char *label, size_t ll, vl_error *err)
{
    if (VL_GROW(b->labels, b->lcap, b->ninfo + 1, err) != VL_OK ||
        VL_GROW(b->values, b->vcap, b->ninfo + 1, err) != VL_OK)
        return VL_ESYS;
    b->labels[b->ninfo] = vl_strndup(label, ll);
    b->values[b->ninfo] = vl_strdup("");
    if (!b->labels[b->ninfo] || !b->values[b->ninfo]) {
        free(b->labels[b->ninfo]);
        free(b->values[b->ninfo]);
        return vl_error_sys(err, "%s", b->info_name);
    }
    b->ninfo++;
    return VL_OK;
}

/* Append [s, s+n) (already trimmed) to the last value, joined by sep. */
static int info_append(vl_bag *b, const char *s, size_t n, int sep,
                       vl_error *err)
{
    char **v = &b->values[b->ninfo - 1];
    size_t cur = strlen(*v);
    char *nv = realloc(*v, cur + n + 2);

    if (!nv)
        return vl_error_sys(err, "%s", b->info_name);
    if (sep && cur > 0 && n > 0)
        nv[cur++] = ' ';
    memcpy(nv + cur, s, n);
    nv[cur + n] = '\0';
    *v = nv;
    return VL_OK;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Payload-Oxum: OCTETCOUNT.STREAMCOUNT, both decimal. */
static int parse_oxum(const char *v, uint64_t *oct, uint64_t *str)
{
    uint64_t *dst = oct;
    int digits = 0;

    *oct = *str = 0;
    for (; *v; v++) {
        if (*v == '.' && dst == oct && digits) {
            dst = str;
            digits = 0;
            continue;
        }
        if (*v < '0' || *v > '9')
            return -1;
        if (*dst > (UINT64_MAX - (uint64_t)(*v - '0')) / 10)
            return -1;
        *dst = *dst * 10 + (uint64_t)(*v - '0');
        digits++;
    }
    return dst == str && digits ? 0 : -1;
}

static int bag_info_err(vl_bag *b, size_t line, const char *what,
                        vl_error *err)
{
    return vl_error_set(err, VL_EINPUT, "%s line %zu: %s", b->info_name, line,
                        what);
}

static int parse_bag_info(vl_bag *b, vl_error *err)
{
    const tag_file *t = tag_get(b, "bag-info.txt");
    const char *text, *s;
    char *owned = NULL;
    size_t len, pos = 0, n, line = 0, start_line = 0, oxum_line = 0;
    int rc = VL_OK, open_el = 0;

    snprintf(b->info_name, sizeof b->info_name, "bag-info.txt");
    /* 0.95 and earlier called it package-info.txt. */
    if (!t && b->legacy && strcmp(b->version, "0.96") < 0 &&
        (t = tag_get(b, "package-info.txt")) != NULL)
        snprintf(b->info_name, sizeof b->info_name, "package-info.txt");
    if (!t)
        goto done;
    rc = tag_text(b, t, &text, &len, &owned, err);
    if (rc != VL_OK)
        goto done;
    /* Read one line past the end so the last element gets checked. */
    for (;;) {
        int more = next_line(text, len, &pos, &s, &n);
        const char *colon, *v;
        size_t ll, vl;

        if (more)
            line++;
        if (open_el && (!more || !(n > 0 && (s[0] == ' ' || s[0] == '\t') &&
                                   !is_blank(s, n)))) {
            /* The element that started on start_line is complete. */
            size_t i = b->ninfo - 1;
            open_el = 0;
            if (strcasecmp(b->labels[i], "Payload-Oxum") == 0) {
                char *esc;
                if (b->has_oxum) {
                    char msg[96];
                    snprintf(msg, sizeof msg, "Payload-Oxum given again "
                             "(first on line %zu)", oxum_line);
                    rc = bag_info_err(b, start_line, msg, err);
                    goto done;
                }
                if (parse_oxum(b->values[i], &b->oxum_octets,
                               &b->oxum_streams) != 0) {
                    esc = vl_name_escape(b->values[i]);
                    rc = vl_error_set(err, VL_EINPUT, "%s line %zu: "
                                      "Payload-Oxum \"%s\" is not "
                                      "OCTETCOUNT.STREAMCOUNT", b->info_name,
                                      start_line, esc ? esc : "?");
                    free(esc);
                    goto done;
                }
                b->has_oxum = 1;
                oxum_line = start_line;
            }
        }
        if (!more)
            break;
        if (memchr(s, '\0', n)) {
            rc = bag_info_err(b, line, "NUL byte", err);
            goto done;
        }
        if (!vl_utf8_valid(s, n)) {
            rc = bag_info_err(b, line, "not valid UTF-8", err);
            goto done;
        }
        if (is_blank(s, n))
            continue;
        if (s[0] == ' ' || s[0] == '\t') {
            /* Continuation of the previous value. */
            if (!open_el) {
                rc = bag_info_err(b, line, "indented continuation line with "
                                  "no \"Label: value\" line before it", err);
                goto done;
            }
            trim(&s, &n);
            rc = info_append(b, s, n, 1, err);
            if (rc != VL_OK)
                goto done;
            continue;
        }
        colon = memchr(s, ':', n);
        if (!colon) {
            rc = bag_info_err(b, line, "no ':' (expected \"Label: value\")",
                              err);
            goto done;
        }
        ll = (size_t)(colon - s);
        if (b->legacy) {
            /* 0.97: "label, colon, value, each separated by optional
             * whitespace". */
            while (ll > 0 && (s[ll - 1] == ' ' || s[ll - 1] == '\t'))
                ll--;
        } else if (ll > 0 && (s[ll - 1] == ' ' || s[ll - 1] == '\t')) {
            rc = bag_info_err(b, line, "label ends with whitespace before "
                              "the ':'", err);
            goto done;
        }
        if (ll == 0) {
            rc = bag_info_err(b, line, "empty label before the ':'", err);
            goto done;
        }
        {
            size_t k;
            for (k = 0; k < ll; k++)
                if ((unsigned char)s[k] < 0x20 || s[k] == 0x7F) {
                    rc = bag_info_err(b, line, "control character in label",
                                      err);
                    goto done;
                }
        }
        rc = info_add(b, s, ll, err);
        if (rc != VL_OK)
            goto done;
        v = colon + 1;
        vl = (size_t)(s + n - v);
        trim(&v, &vl);
        rc = info_append(b, v, vl, 0, err);
        if (rc != VL_OK)
            goto done;
        open_el = 1;
        start_line = line;
    }
done:
    free(owned);
    return rc;
}

static int tag_cmp(const void *pa, const void *pb)
{
    return strcmp(((const tag_file *)pa)->rel, ((const tag_file *)pb)->rel);
}

static int bag_parse(vl_bag *b, vl_error *err);

int vl_bag_parse(vl_bag *b, vl_error *err)
{
    unsigned long failures = vl_alloc_failures();
    int rc = bag_parse(b, err);
    /* a manifest or bag-info line that could not be kept is memory's
     * fault, not the bag's */
    if (rc != VL_OK && rc != VL_ESYS && vl_alloc_failures() != failures)
        rc = vl_error_set(err, VL_ESYS, "reading the bag's tag files: out of "
                          "memory");
    return rc;
}

static int bag_parse(vl_bag *b, vl_error *err)
{
    size_t i;
    int rc = VL_OK;

    if (b->parsed)
        return vl_error_set(err, VL_EINPUT, "bag parsed twice");
    /* Check in name order so the first refusal does not depend on the
     * order tag files were found in. */
    if (b->ntags)
        qsort(b->tags, b->ntags, sizeof *b->tags, tag_cmp);
    json_object_clear(b->tagmap);
    for (i = 0; i < b->ntags; i++)
        if (json_object_set_new_nocheck(b->tagmap, b->tags[i].rel,
                                        json_integer((json_int_t)i)) != 0) {
            errno = ENOMEM;
            rc = vl_error_sys(err, "bag tag files");
            goto done;
        }
    rc = parse_declaration(b, err);
    if (rc != VL_OK)
        goto done;
    for (i = 0; i < b->ntags; i++) {
        const tag_file *t = &b->tags[i];
        if (is_manifest_name(t->rel, "manifest-"))
            rc = load_manifest(b, t, 0, err);
        else if (is_manifest_name(t->rel, "tagmanifest-"))
            rc = load_manifest(b, t, 1, err);
        if (rc != VL_OK)
            goto done;
    }
    if (b->npay == 0) {
        rc = vl_error_set(err, VL_EINPUT, "bag has no payload manifest "
                          "(manifest-<algorithm>.txt)");
        goto done;
    }
    rc = parse_fetch(b, err);
    if (rc != VL_OK)
        goto done;
    rc = parse_bag_info(b, err);
    if (rc != VL_OK)
        goto done;
    b->parsed = 1;
done:
    return rc;
}

int vl_bag_refused_for_limit(const vl_bag *b)
{
    return b->limit;
}

const char *vl_bag_version(const vl_bag *b)
{
    return b->version;
}

unsigned vl_bag_payload_mask(const vl_bag *b)
{
    return b->payload_mask;
}

size_t vl_bag_payload_extra_count(const vl_bag *b)
{
    return b->nextra;
}

const char *vl_bag_payload_extra_name(const vl_bag *b, size_t i)
{
    return i < b->nextra ? b->extra[i] : NULL;
}

size_t vl_bag_info_count(const vl_bag *b)
{
    return b->ninfo;
}

void vl_bag_info_entry(const vl_bag *b, size_t i, const char **label,
                       const char **value)
{
    *label = i < b->ninfo ? b->labels[i] : NULL;
    *value = i < b->ninfo ? b->values[i] : NULL;
}

int vl_bag_has_oxum(const vl_bag *b)
{
    return b->has_oxum;
}

size_t vl_bag_fetch_count(const vl_bag *b)
{
    return b->nfetch;
}

int vl_bag_complete(const vl_bag *b)
{
    return b->complete;
}

size_t vl_bag_to_fetch(const vl_bag *b)
{
    return b->to_fetch;
}

void vl_bag_foreach_digest(const vl_bag *b, vl_bag_digest_fn fn, void *arg)
{
    size_t k, i;

    for (k = 0; k < b->npay; k++) {
        const vl_manifest *m = b->pay[k].m;
        if (b->pay[k].known < 0)
            continue;   /* not an algorithm the fixity block names */
        for (i = 0; i < vl_manifest_count(m); i++) {
            const char *path, *hex;
            vl_manifest_entry(m, i, &path, &hex);
            fn(arg, path, (vl_digest_alg)b->pay[k].known, hex);
        }
    }
}

/* The digest computed for payload manifest k, or NULL. */
static const char *computed(const vl_bag *b, size_t k,
                            const vl_digest_result *d,
                            const char *const *extra)
{
    const bag_manifest *bm = &b->pay[k];

    if (bm->known >= 0)
        return d && (d->mask & VL_DIGEST_BIT(bm->known)) ? d->hex[bm->known]
                                                        : NULL;
    return extra ? extra[bm->extra] : NULL;
}

int vl_bag_payload_seen(vl_bag *b, const char *rel, uint64_t size,
                        const vl_digest_result *d, const char *const *extra,
                        vl_error *err)
{
    char *esc = NULL;
    seen_file *sf;
    size_t k;
    int rc = VL_OK, sizes_only = !d && !extra;

    if (!b->parsed) {
        rc = vl_error_set(err, VL_EINPUT, "bag payload recorded before "
                          "vl_bag_parse");
        goto done;
    }
    esc = vl_name_escape(rel);
    if (!esc) {
        rc = vl_error_sys(err, "bag payload");
        goto done;
    }
    if (strncmp(rel, "data/", 5) != 0 || rel[5] == '\0') {
        rc = vl_error_set(err, VL_EINPUT, "%s: payload files are under data/",
                          esc);
        goto done;
    }
    if (json_object_get(b->seenmap, rel)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: payload file recorded twice",
                          esc);
        goto done;
    }
    for (k = 0; !sizes_only && k < b->npay; k++)
        if (vl_manifest_lookup(b->pay[k].m, rel) &&
            !computed(b, k, d, extra)) {
            rc = vl_error_set(err, VL_EINPUT, "%s: no %s digest computed "
                              "(hash payload with vl_bag_payload_mask and "
                              "vl_bag_payload_extra_name)", esc,
                              b->pay[k].shown);
            goto done;
        }
    if ((rc = VL_GROW(b->seen, b->scap, b->nseen + 1, err)) != VL_OK)
        goto done;
    sf = &b->seen[b->nseen];
    memset(sf, 0, sizeof *sf);
    sf->size = size;
    if (!(sf->rel = vl_strdup(rel)) ||
        json_object_set_new_nocheck(b->seenmap, rel,
                                    json_integer((json_int_t)b->nseen)) != 0) {
        free(sf->rel);
        errno = ENOMEM;
        rc = vl_error_sys(err, "%s", esc);
        goto done;
    }
    b->nseen++;
    if (b->seen_bytes > UINT64_MAX - size)
        b->seen_overflow = 1;
    b->seen_bytes += size;
    for (k = 0; k < b->npay && rc == VL_OK; k++) {
        const char *want = vl_manifest_lookup(b->pay[k].m, rel);
        const char *got = computed(b, k, d, extra);
        if (want) {
            sf->listed |= (uint32_t)1 << k;
            if (got && strcmp(want, got) != 0)
                rc = msg_add(b, &b->msgs, 1, rel, err, "%s: %s expected %s "
                             "got %s", esc, b->pay[k].shown, want, got);
        } else if (got) {
            /* Kept in case the file is listed under another Unicode
             * normalization of its name. */
            if (!sf->hex && !(sf->hex = calloc(b->npay, sizeof *sf->hex))) {
                rc = vl_error_sys(err, "%s", esc);
                break;
            }
            if (!(sf->hex[k] = vl_strdup(got)))
                rc = vl_error_sys(err, "%s", esc);
        }
    }
done:
    free(esc);
    return rc;
}

/* A manifest path missing from the bag, with the manifests (bits) that
 * list it and still miss it. */
typedef struct missing {
    const char *path;
    uint32_t in;
} missing;

/* NFC key -> the one seen file (not listed in manifest k) with that key,
 * -1 when several. */
static int nfc_index(const vl_bag *b, size_t k, json_t **out, vl_error *err)
{
    json_t *keys = json_object();
    size_t i;

    if (!keys)
        return vl_error_sys(err, "bag report");
    for (i = 0; i < b->nseen; i++) {
        char *key;
        json_t *prev;
        if (b->seen[i].listed & ((uint32_t)1 << k))
            continue;
        if (!(key = vl_name_key(b->seen[i].rel, 0)))
            continue;
        prev = json_object_get(keys, key);
        if (json_object_set_new(keys, key, json_integer(prev ? -1
                                                  : (json_int_t)i)) != 0) {
            free(key);
            json_decref(keys);
            errno = ENOMEM;
            return vl_error_sys(err, "bag report");
        }
        free(key);
    }
    *out = keys;
    return VL_OK;
}

/* Payload manifests against the payload seen: each entry found by its
 * exact name, or else by its Unicode normalization when exactly one
 * unlisted file has it (with a warning); the rest are missing.  Then each
 * file in no manifest, or (1.0) not in all. */
static int check_payload(vl_bag *b, vl_error *err)
{
    uint32_t *eff = calloc(b->nseen ? b->nseen : 1, sizeof *eff);
    unsigned char *warned = calloc(b->nseen ? b->nseen : 1, 1);
    missing *miss = NULL;
    json_t *missmap = json_object();
    size_t nmiss = 0, k, i;
    uint32_t all = 0;
    int rc = VL_OK;

    if (!eff || !warned || !missmap) {
        rc = vl_error_sys(err, "bag report");
        goto done;
    }
    for (i = 0; i < b->nseen; i++)
        eff[i] = b->seen[i].listed;
    for (k = 0; k < b->npay && rc == VL_OK; k++) {
        const vl_manifest *m = b->pay[k].m;
        json_t *keys = NULL;
        all |= (uint32_t)1 << k;
        for (i = 0; i < vl_manifest_count(m) && rc == VL_OK; i++) {
            const char *path, *hex;
            char *key;
            json_t *hit, *mi;
            json_int_t c = -1;
            vl_manifest_entry(m, i, &path, &hex);
            if (json_object_get(b->seenmap, path))
                continue;
            if (!keys && (rc = nfc_index(b, k, &keys, err)) != VL_OK)
                break;
            if ((key = vl_name_key(path, 0)) != NULL &&
                (hit = json_object_get(keys, key)) != NULL &&
                (c = json_integer_value(hit)) >= 0) {
                /* Claimed: a second entry with this key finds none. */
                json_integer_set(hit, -1);
                seen_file *sf = &b->seen[c];
                char *disk = vl_name_escape(sf->rel);
                char *listed = vl_name_escape(path);
                const char *got = sf->hex ? sf->hex[k] : NULL;
                eff[c] |= (uint32_t)1 << k;
                if (!warned[c]) {
                    warned[c] = 1;
                    bag_warn(b, "%s: listed in %s as \"%s\", the same name in "
                             "another Unicode normalization (%s here, %s "
                             "there); matched", disk ? disk : "?",
                             b->pay[k].name, listed ? listed : "?",
                             strcmp(sf->rel, key) ? "NFD" : "NFC",
                             strcmp(path, key) ? "NFD" : "NFC");
                }
                if (!got)
                    rc = vl_error_set(err, VL_EINPUT, "%s: no %s digest "
                                      "computed", disk ? disk : "?",
                                      b->pay[k].shown);
                else if (strcmp(got, hex) != 0)
                    rc = msg_add(b, &b->msgs, 1, sf->rel, err, "%s: %s "
                                 "expected %s got %s", disk ? disk : "?",
                                 b->pay[k].shown, hex, got);
                free(disk);
                free(listed);
                free(key);
                continue;
            }
            free(key);
            if ((mi = json_object_get(missmap, path)) != NULL) {
                miss[json_integer_value(mi)].in |= (uint32_t)1 << k;
                continue;
            }
            if (nmiss % 64 == 0) {
                missing *nm = realloc(miss, (nmiss + 64) * sizeof *nm);
                if (!nm) {
                    rc = vl_error_sys(err, "bag report");
                    break;
                }
                miss = nm;
            }
            miss[nmiss].path = path;
            miss[nmiss].in = (uint32_t)1 << k;
            if (json_object_set_new_nocheck(missmap, path,
                                            json_integer((json_int_t)nmiss))) {
                errno = ENOMEM;
                rc = vl_error_sys(err, "bag report");
                break;
            }
            nmiss++;
        }
        json_decref(keys);
    }
    /* Missing files, once each, naming every manifest that lists them and
     * where fetch.txt would have them come from. */
    for (i = 0; i < nmiss && rc == VL_OK; i++) {
        vl_buf names;
        char *esc = vl_name_escape(miss[i].path);
        json_t *f = json_object_get(b->fetchmap, miss[i].path);
        vl_buf_init(&names, 0);
        for (k = 0; k < b->npay && rc == VL_OK; k++)
            if (miss[i].in & ((uint32_t)1 << k))
                rc = vl_buf_printf(&names, err, "%s%s", names.len ? ", " : "",
                                   b->pay[k].name);
        if (rc == VL_OK && !esc)
            rc = vl_error_sys(err, "bag report");
        b->complete = 0;
        if (rc == VL_OK && f) {
            const fetch_entry *fe = &b->fetch[json_integer_value(f)];
            char *url = vl_name_escape(fe->url);
            b->to_fetch++;
            rc = msg_add(b, &b->msgs, 1, miss[i].path, err, "%s: listed in %s "
                         "but missing: still to be fetched from %s (fetch.txt "
                         "line %zu; vellum does not download)", esc,
                         names.data, url ? url : "?", fe->line);
            free(url);
        } else if (rc == VL_OK) {
            rc = msg_add(b, &b->msgs, 1, miss[i].path, err, "%s: listed in %s "
                         "but missing", esc, names.data);
        }
        free(esc);
        vl_buf_release(&names);
    }
    for (i = 0; i < b->nseen && rc == VL_OK; i++) {
        char *esc;
        if (eff[i] == all || (eff[i] && b->legacy))
            continue;   /* 0.97 asked for each file in at least one */
        b->complete = 0;
        if (!(esc = vl_name_escape(b->seen[i].rel))) {
            rc = vl_error_sys(err, "bag report");
            break;
        }
        if (!eff[i])
            rc = msg_add(b, &b->msgs, 1, b->seen[i].rel, err,
                         "%s: present but in no payload manifest", esc);
        /* RFC 8493: every payload file is in every payload manifest. */
        for (k = 0; eff[i] && k < b->npay && rc == VL_OK; k++)
            if (!(eff[i] & ((uint32_t)1 << k)))
                rc = msg_add(b, &b->msgs, 1, b->seen[i].rel, err,
                             "%s: present but not listed in %s", esc,
                             b->pay[k].name);
        free(esc);
    }
done:
    free(eff);
    free(warned);
    free(miss);
    json_decref(missmap);
    return rc;
}

/* Tag manifests: the tag files they list are present and match. */
static int check_tags(vl_bag *b, vl_error *err)
{
    size_t k, i, j;
    int rc = VL_OK;

    for (k = 0; k < b->ntagm && rc == VL_OK; k++) {
        const vl_manifest *m = b->tagm[k].m;
        for (i = 0; i < vl_manifest_count(m) && rc == VL_OK; i++) {
            const char *path, *want;
            const tag_file *t;
            char got[VL_DIGEST_HEX_MAX], *esc;
            vl_manifest_entry(m, i, &path, &want);
            esc = vl_name_escape(path);
            if (!esc) {
                rc = vl_error_sys(err, "bag report");
                break;
            }
            if (!(t = tag_get(b, path))) {
                vl_buf names;
                int earlier = 0;
                for (j = 0; j < k; j++)
                    if (vl_manifest_lookup(b->tagm[j].m, path))
                        earlier = 1;
                if (!earlier) {  /* else reported with the earlier one */
                    b->complete = 0;
                    vl_buf_init(&names, 0);
                    for (j = k; j < b->ntagm && rc == VL_OK; j++)
                        if (vl_manifest_lookup(b->tagm[j].m, path))
                            rc = vl_buf_printf(&names, err, "%s%s",
                                               names.len ? ", " : "",
                                               b->tagm[j].name);
                    if (rc == VL_OK)
                        rc = msg_add(b, &b->msgs, 0, path, err, "%s: listed "
                                     "in %s but missing", esc, names.data);
                    vl_buf_release(&names);
                }
                free(esc);
                continue;
            }
            if (t->path) {
                /* streamed from the bag: a tag file of any size */
                const char *names[1] = {b->tagm[k].evp};
                char hex[1][VL_DIGEST_HEX_MAX];
                vl_error fe = {0};
                int frc = vl_digest_file_named(t->path, names, 1, hex, NULL, &fe);
                if (frc != VL_OK && (fe.sys_errno == 0 || fe.sys_errno == ENOMEM)) {
                    free(esc);
                    return vl_error_set(err, VL_ESYS, "%s", fe.msg);
                }
                if (frc != VL_OK)
                    rc = msg_add(b, &b->msgs, 0, path, err, "%s: cannot be read (%s)",
                                 esc, fe.msg);
                else if (strcmp(hex[0], want) != 0)
                    rc = msg_add(b, &b->msgs, 0, path, err, "%s: %s expected %s "
                                 "got %s (%s)", esc, b->tagm[k].shown, want, hex[0],
                                 b->tagm[k].name);
                free(esc);
                continue;
            }
            /* a digest that failed (memory) is not the tag file's fault */
            if ((b->tagm[k].known >= 0
                     ? vl_digest_buffer((vl_digest_alg)b->tagm[k].known,
                                        t->data, t->len, got)
                     : vl_digest_buffer_named(b->tagm[k].evp, t->data, t->len,
                                              got)) != 0) {
                free(esc);
                return vl_error_oom(err);
            }
            if (strcmp(got, want) != 0)
                rc = msg_add(b, &b->msgs, 0, path, err, "%s: %s expected %s "
                             "got %s (%s)", esc, b->tagm[k].shown, want, got,
                             b->tagm[k].name);
            free(esc);
        }
    }
    return rc;
}

static int oxum_check(vl_bag *b, vl_error *err)
{
    if (!b->has_oxum || (!b->seen_overflow && b->oxum_octets == b->seen_bytes &&
                         b->oxum_streams == b->nseen))
        return VL_OK;
    return msg_add(b, &b->msgs, 2, "", err, "Payload-Oxum in %s is %llu.%llu "
                   "but the payload has %llu bytes in %llu file%s",
                   b->info_name, (unsigned long long)b->oxum_octets,
                   (unsigned long long)b->oxum_streams,
                   (unsigned long long)b->seen_bytes,
                   (unsigned long long)b->nseen, b->nseen == 1 ? "" : "s");
}

/* Report the messages from keep on, sorted, and drop them again so that a
 * check can run twice. */
static int report(vl_bag *b, size_t keep, vl_report_fn fn, void *arg,
                  vl_error *err)
{
    msg_list *l = &b->msgs;
    const bag_msg **order = NULL;
    size_t i, nmsg = l->n;
    int rc = VL_OK;

    if (nmsg) {
        order = malloc(nmsg * sizeof *order);
        if (!order) {
            rc = vl_error_sys(err, "bag report");
            goto done;
        }
        for (i = 0; i < nmsg; i++)
            order[i] = &l->v[i];
        qsort(order, nmsg, sizeof *order, msg_cmp);
        for (i = 0; i < nmsg; i++)
            if (fn)
                fn(arg, order[i]->text);
        rc = vl_error_set(err, VL_EINPUT, "bag is not valid: %zu problem%s",
                          nmsg, nmsg == 1 ? "" : "s");
    }
done:
    free(order);
    msgs_release(l, keep);
    return rc;
}

int vl_bag_verify(vl_bag *b, vl_report_fn fn, void *arg, vl_error *err)
{
    size_t keep = b->msgs.n;
    int rc = VL_OK;

    if (!b->parsed)
        return vl_error_set(err, VL_EINPUT, "bag verified before "
                            "vl_bag_parse");
    b->complete = 1;
    b->to_fetch = 0;
    if (b->data_dir == 0) {
        b->complete = 0;
        rc = msg_add(b, &b->msgs, 2, "", err, "data/: the payload folder is "
                     "missing (RFC 8493 section 2.1.2)");
    }
    if (rc == VL_OK)
        rc = check_payload(b, err);
    if (rc == VL_OK)
        rc = check_tags(b, err);
    if (rc == VL_OK)
        rc = oxum_check(b, err);
    if (rc != VL_OK) {
        msgs_release(&b->msgs, keep);
        return rc;
    }
    return report(b, keep, fn, arg, err);
}

int vl_bag_verify_oxum(vl_bag *b, vl_report_fn fn, void *arg, vl_error *err)
{
    size_t keep = b->msgs.n;
    int rc;

    if (!b->parsed)
        return vl_error_set(err, VL_EINPUT, "bag verified before "
                            "vl_bag_parse");
    if (!b->has_oxum)
        return vl_error_set(err, VL_EINPUT, "%s has no Payload-Oxum to check "
                            "the payload against", b->info_name);
    /* Only what Payload-Oxum says: whatever payload_seen found is for a
     * full check. */
    msgs_release(&b->msgs, 0);
    keep = 0;
    rc = oxum_check(b, err);
    if (rc != VL_OK) {
        msgs_release(&b->msgs, keep);
        return rc;
    }
    return report(b, keep, fn, arg, err);
}
