/* BagIt checker (RFC 8493 / BagIt 1.0, and the 0.93-0.97 drafts still met
 * in the wild).  Tag files arrive as bytes, so a bag in a folder and a bag
 * in an archive are checked the same way; payload files arrive as
 * (path, size, digests) from the ingest pipeline, which hashes each byte
 * once.  Every discrepancy is collected and reported, not just the first.
 *
 * Decisions where the texts leave room (see also manifest.c):
 * - bagit.txt must be exactly the two lines, in order, label, ':' and one
 *   space or tab, no other whitespace, and no byte-order mark in any
 *   version (both the draft and the RFC say so for the declaration).
 * - UTF-8 tag files must not start with a BOM (the texts allow a BOM only
 *   where the encoding needs one, and UTF-8 does not).
 * - 0.9x bags may declare another Tag-File-Character-Encoding (the
 *   conformance suite has a UTF-16 0.97 bag); tag files are converted with
 *   iconv before parsing, and digests are still taken over the raw bytes.
 *   1.0 bags must be UTF-8.
 * - Blank lines in manifests and bag-info.txt are skipped.
 * - Payload-Oxum may appear once. */
#include "vl_common.h"
#include "vl_ingest.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

/* Private flags of vl_manifest_parse's bagit argument (see manifest.c). */
#define VL_MF_BAGIT 1
#define VL_MF_LEGACY 2
#define VL_MF_PAYLOAD 4
#define VL_MF_TAG 8

#define TAG_FILE_MAX (16u << 20)
/* Manifests grow with the payload (~200 bytes a file for sha512), so they
 * get a larger cap than the other tag files. */
#define MANIFEST_FILE_MAX (256u << 20)

typedef struct tag_file {
    char *rel;
    char *data;
    size_t len;
} tag_file;

typedef struct bag_manifest {
    char *name;          /* "manifest-sha256.txt" */
    vl_manifest *m;
} bag_manifest;

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
    char version[16];
    int legacy;          /* before 1.0 */
    char encoding[64];
    bag_manifest payload[VL_DIGEST_COUNT];   /* indexed by algorithm */
    bag_manifest tagman[VL_DIGEST_COUNT];
    unsigned payload_mask, tag_mask;
    size_t npayload;
    char **labels, **values;
    size_t ninfo, icap;
    char info_name[32];  /* "bag-info.txt" or "package-info.txt" */
    int has_oxum;
    uint64_t oxum_octets, oxum_streams;
    json_t *seen;        /* payload paths recorded */
    uint64_t seen_bytes, seen_files;
    int seen_overflow;
    msg_list msgs;       /* discrepancies found as payload arrives */
    size_t seq;
};

vl_bag *vl_bag_new(void)
{
    vl_bag *b = calloc(1, sizeof *b);

    if (!b)
        return NULL;
    b->tagmap = json_object();
    b->seen = json_object();
    if (!b->tagmap || !b->seen) {
        vl_bag_free(b);
        return NULL;
    }
    return b;
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

void vl_bag_free(vl_bag *b)
{
    size_t i;

    if (!b)
        return;
    for (i = 0; i < b->ntags; i++) {
        free(b->tags[i].rel);
        free(b->tags[i].data);
    }
    free(b->tags);
    json_decref(b->tagmap);
    json_decref(b->seen);
    for (i = 0; i < VL_DIGEST_COUNT; i++) {
        free(b->payload[i].name);
        vl_manifest_free(b->payload[i].m);
        free(b->tagman[i].name);
        vl_manifest_free(b->tagman[i].m);
    }
    for (i = 0; i < b->ninfo; i++) {
        free(b->labels[i]);
        free(b->values[i]);
    }
    free(b->labels);
    free(b->values);
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
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        bag_msg *nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv) {
            rc = vl_error_sys(err, "bag report");
            goto done;
        }
        l->v = nv;
        l->cap = ncap;
    }
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

int vl_bag_add_tag_file(vl_bag *b, const char *rel, const void *data,
                        size_t len, vl_error *err)
{
    tag_file *t;
    size_t cap;
    int rc;

    if (b->parsed)
        return vl_error_set(err, VL_EINPUT, "tag file %s added after the bag "
                            "was parsed", rel);
    rc = vl_logical_path_check(rel, err);
    if (rc != VL_OK)
        return rc;
    if (strcmp(rel, "data") == 0 || strncmp(rel, "data/", 5) == 0) {
        char *esc = vl_name_escape(rel);
        rc = vl_error_set(err, VL_EINPUT, "%s: payload, not a tag file",
                          esc ? esc : "?");
        free(esc);
        return rc;
    }
    cap = is_manifest_name(rel, "manifest-") ||
                  is_manifest_name(rel, "tagmanifest-")
              ? MANIFEST_FILE_MAX : TAG_FILE_MAX;
    if (len > cap)
        return vl_error_set(err, VL_EINPUT, "%s: tag file of %zu bytes; "
                            "vellum reads tag files up to %zu MiB", rel, len,
                            (size_t)(cap >> 20));
    if (json_object_get(b->tagmap, rel))
        return vl_error_set(err, VL_EINPUT, "%s: tag file given twice", rel);
    if (b->ntags == b->tcap) {
        size_t ncap = b->tcap ? b->tcap * 2 : 16;
        tag_file *nt = realloc(b->tags, ncap * sizeof *nt);
        if (!nt)
            return vl_error_sys(err, "%s", rel);
        b->tags = nt;
        b->tcap = ncap;
    }
    t = &b->tags[b->ntags];
    t->rel = vl_strdup(rel);
    t->data = malloc(len ? len : 1);
    t->len = len;
    if (!t->rel || !t->data) {
        free(t->rel);
        free(t->data);
        return vl_error_sys(err, "%s", rel);
    }
    if (len)
        memcpy(t->data, data, len);
    if (json_object_set_new_nocheck(b->tagmap, rel,
                                    json_integer((json_int_t)b->ntags)) != 0) {
        free(t->rel);
        free(t->data);
        errno = ENOMEM;
        return vl_error_sys(err, "%s", rel);
    }
    b->ntags++;
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

static int parse_declaration(vl_bag *b, vl_error *err)
{
    static const char *const versions[] = {"1.0", "0.97", "0.96", "0.95",
                                           "0.94", "0.93"};
    const tag_file *t = tag_get(b, "bagit.txt");
    const char *s[3];
    size_t n[3], pos = 0, nl = 0, i;
    int ok = 0;

    if (!t)
        return vl_error_set(err, VL_EINPUT, "not a bag: no bagit.txt (bag "
                            "declaration)");
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
        return rc;
    }
    b->legacy = strcmp(b->version, "1.0") != 0;
    if (strcasecmp(b->encoding, "UTF-8") != 0) {
        char *esc = vl_name_escape(b->encoding);
        iconv_t cd = (iconv_t)-1;
        int rc = VL_OK;
        if (!b->legacy)
            rc = vl_error_set(err, VL_EINPUT, "bagit.txt: BagIt 1.0 tag files "
                              "must be UTF-8, not %s", esc ? esc : "?");
        else if ((cd = iconv_open("UTF-8", b->encoding)) == (iconv_t)-1)
            rc = vl_error_set(err, VL_EINPUT, "bagit.txt: "
                              "Tag-File-Character-Encoding %s is not one "
                              "vellum can read", esc ? esc : "?");
        if (cd != (iconv_t)-1)
            iconv_close(cd);
        free(esc);
        return rc;
    }
    return VL_OK;
}

/* The text of a tag file as UTF-8: the bytes themselves, or (0.9x with
 * another declared encoding) a converted copy in *owned. */
static int tag_text(const vl_bag *b, const tag_file *t, const char **out,
                    size_t *outlen, char **owned, vl_error *err)
{
    iconv_t cd = (iconv_t)-1;
    char *buf = NULL, *in, *o;
    size_t cap, inleft, oleft;
    int rc = VL_OK;

    *owned = NULL;
    if (strcasecmp(b->encoding, "UTF-8") == 0) {
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

static int check_fetch(vl_bag *b, vl_error *err)
{
    const tag_file *t = tag_get(b, "fetch.txt");
    const char *text, *s;
    char *owned = NULL;
    size_t len, pos = 0, n, count = 0;
    int rc;

    if (!t)
        return VL_OK;
    rc = tag_text(b, t, &text, &len, &owned, err);
    if (rc != VL_OK)
        goto done;
    while (next_line(text, len, &pos, &s, &n))
        if (!is_blank(s, n))
            count++;
    if (count)
        rc = vl_error_set(err, VL_EINPUT, "fetch.txt lists %zu file%s to "
                          "download; vellum does not fetch over the network",
                          count, count == 1 ? "" : "s");
done:
    free(owned);
    return rc;
}

/* BagIt algorithm names: lower case, non-alphanumerics removed. */
static int bag_alg(const char *name, vl_digest_alg *out)
{
    static const struct {
        const char *name;
        vl_digest_alg alg;
    } names[] = {
        {"md5", VL_MD5},
        {"sha1", VL_SHA1},
        {"sha256", VL_SHA256},
        {"sha512", VL_SHA512},
        /* RFC normalisation of BLAKE2b-512, and bagit-python's hashlib
         * name for the same (512-bit) function; the digest length is
         * checked either way. */
        {"blake2b512", VL_BLAKE2B512},
        {"blake2b", VL_BLAKE2B512},
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].alg;
            return 0;
        }
    return -1;
}

static int load_manifest(vl_bag *b, const tag_file *t, int is_tag,
                         vl_error *err)
{
    const char *prefix = is_tag ? "tagmanifest-" : "manifest-";
    size_t pl = strlen(prefix), n = strlen(t->rel);
    bag_manifest *set = is_tag ? b->tagman : b->payload;
    char *name = vl_strndup(t->rel + pl, n - pl - 4), *owned = NULL;
    const char *text;
    size_t len;
    vl_manifest *m = NULL;
    vl_digest_alg alg;
    int rc = VL_OK, flags;

    if (!name) {
        rc = vl_error_sys(err, "%s", t->rel);
        goto done;
    }
    if (bag_alg(name, &alg) != 0) {
        char *esc = vl_name_escape(name);
        rc = vl_error_set(err, VL_EINPUT, "%s: algorithm \"%s\" is not one "
                          "vellum can compute (md5, sha1, sha256, sha512, "
                          "blake2b512)", t->rel, esc ? esc : "?");
        free(esc);
        goto done;
    }
    if (set[alg].m) {
        rc = vl_error_set(err, VL_EINPUT, "%s and %s both give %s checksums",
                          set[alg].name, t->rel, vl_digest_name(alg));
        goto done;
    }
    rc = tag_text(b, t, &text, &len, &owned, err);
    if (rc != VL_OK)
        goto done;
    flags = VL_MF_BAGIT | (b->legacy ? VL_MF_LEGACY : 0) |
            (is_tag ? VL_MF_TAG : VL_MF_PAYLOAD);
    rc = vl_manifest_parse(text, len, (int)alg, flags, t->rel, &m, err);
    if (rc != VL_OK)
        goto done;
    set[alg].name = vl_strdup(t->rel);
    if (!set[alg].name) {
        rc = vl_error_sys(err, "%s", t->rel);
        goto done;
    }
    set[alg].m = m;
    m = NULL;
    if (is_tag) {
        b->tag_mask |= VL_DIGEST_BIT(alg);
    } else {
        b->payload_mask |= VL_DIGEST_BIT(alg);
        b->npayload++;
    }
done:
    vl_manifest_free(m);
    free(owned);
    free(name);
    return rc;
}

static int info_add(vl_bag *b, const char *label, size_t ll, vl_error *err)
{
    if (b->ninfo == b->icap) {
        size_t ncap = b->icap ? b->icap * 2 : 16;
        char **nl = realloc(b->labels, ncap * sizeof *nl);
        if (!nl)
            return vl_error_sys(err, "%s", b->info_name);
        b->labels = nl;
        nl = realloc(b->values, ncap * sizeof *nl);
        if (!nl)
            return vl_error_sys(err, "%s", b->info_name);
        b->values = nl;
        b->icap = ncap;
    }
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
    if (!owned && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        rc = vl_error_set(err, VL_EINPUT, "%s: starts with a byte-order mark, "
                          "which BagIt does not allow in UTF-8 tag files",
                          b->info_name);
        goto done;
    }
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

int vl_bag_parse(vl_bag *b, vl_error *err)
{
    size_t i;
    int rc = VL_OK;

    if (b->parsed)
        return vl_error_set(err, VL_EINPUT, "bag parsed twice");
    /* Check in name order so the first refusal does not depend on the
     * order tag files were found in. */
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
    rc = check_fetch(b, err);
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
    if (b->npayload == 0) {
        rc = vl_error_set(err, VL_EINPUT, "bag has no payload manifest "
                          "(manifest-<algorithm>.txt)");
        goto done;
    }
    rc = parse_bag_info(b, err);
    if (rc != VL_OK)
        goto done;
    b->parsed = 1;
done:
    return rc;
}

const char *vl_bag_version(const vl_bag *b)
{
    return b->version;
}

unsigned vl_bag_payload_mask(const vl_bag *b)
{
    return b->payload_mask;
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

void vl_bag_foreach_digest(const vl_bag *b, vl_bag_digest_fn fn, void *arg)
{
    int a;
    size_t i;

    for (a = 0; a < VL_DIGEST_COUNT; a++) {
        const vl_manifest *m = b->payload[a].m;
        if (!m)
            continue;
        for (i = 0; i < vl_manifest_count(m); i++) {
            const char *path, *hex;
            vl_manifest_entry(m, i, &path, &hex);
            fn(arg, path, (vl_digest_alg)a, hex);
        }
    }
}

int vl_bag_payload_seen(vl_bag *b, const char *rel, uint64_t size,
                        const vl_digest_result *d, vl_error *err)
{
    char *esc = NULL;
    size_t listed = 0;
    int rc = VL_OK, a;

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
    if (json_object_get(b->seen, rel)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: payload file recorded twice",
                          esc);
        goto done;
    }
    if (json_object_set_new_nocheck(b->seen, rel, json_true()) != 0) {
        errno = ENOMEM;
        rc = vl_error_sys(err, "%s", esc);
        goto done;
    }
    if (b->seen_bytes > UINT64_MAX - size)
        b->seen_overflow = 1;
    b->seen_bytes += size;
    b->seen_files++;
    for (a = 0; a < VL_DIGEST_COUNT; a++) {
        const char *want;
        if (!b->payload[a].m ||
            !(want = vl_manifest_lookup(b->payload[a].m, rel)))
            continue;
        listed++;
        if (!d || !(d->mask & VL_DIGEST_BIT(a))) {
            rc = vl_error_set(err, VL_EINPUT, "%s: no %s digest computed "
                              "(hash payload with vl_bag_payload_mask)", esc,
                              vl_digest_name((vl_digest_alg)a));
            goto done;
        }
        if (strcmp(want, d->hex[a]) != 0) {
            rc = msg_add(b, &b->msgs, 1, rel, err, "%s: %s expected %s got %s",
                         esc, vl_digest_name((vl_digest_alg)a), want,
                         d->hex[a]);
            if (rc != VL_OK)
                goto done;
        }
    }
    if (listed == 0) {
        rc = msg_add(b, &b->msgs, 1, rel, err,
                     "%s: present but in no payload manifest", esc);
    } else if (!b->legacy && listed < b->npayload) {
        /* RFC 8493: every payload file is listed in every payload
         * manifest (0.97 asked for at least one). */
        for (a = 0; a < VL_DIGEST_COUNT && rc == VL_OK; a++)
            if (b->payload[a].m && !vl_manifest_lookup(b->payload[a].m, rel))
                rc = msg_add(b, &b->msgs, 1, rel, err,
                             "%s: present but not listed in %s", esc,
                             b->payload[a].name);
    }
done:
    free(esc);
    return rc;
}

/* Report each path of set[first] that is_missing says is absent, once,
 * naming every manifest of the set that lists it. */
static int report_missing(vl_bag *b, msg_list *out, bag_manifest *set,
                          int first, int cls, vl_error *err)
{
    const vl_manifest *m = set[first].m;
    size_t i;
    int rc = VL_OK, a;

    for (i = 0; i < vl_manifest_count(m) && rc == VL_OK; i++) {
        const char *path;
        char *esc = NULL;
        vl_buf names;
        int earlier = 0;

        vl_manifest_entry(m, i, &path, NULL);
        if (cls == 1 ? json_object_get(b->seen, path) != NULL
                     : tag_get(b, path) != NULL)
            continue;
        for (a = 0; a < first; a++)
            if (set[a].m && vl_manifest_lookup(set[a].m, path))
                earlier = 1;
        if (earlier)
            continue; /* reported with the earlier manifest */
        vl_buf_init(&names, 0);
        for (a = first; a < VL_DIGEST_COUNT && rc == VL_OK; a++)
            if (set[a].m && vl_manifest_lookup(set[a].m, path))
                rc = vl_buf_printf(&names, err, "%s%s", names.len ? ", " : "",
                                   set[a].name);
        esc = vl_name_escape(path);
        if (rc == VL_OK && !esc)
            rc = vl_error_sys(err, "bag report");
        if (rc == VL_OK)
            rc = msg_add(b, out, cls, path, err, "%s: listed in %s but missing",
                         esc, names.data);
        free(esc);
        vl_buf_release(&names);
    }
    return rc;
}

int vl_bag_verify(vl_bag *b, vl_report_fn fn, void *arg, vl_error *err)
{
    msg_list *l = &b->msgs;
    size_t keep = l->n, i, nmsg;
    const bag_msg **order = NULL;
    int rc = VL_OK, a;

    if (!b->parsed) {
        rc = vl_error_set(err, VL_EINPUT, "bag verified before vl_bag_parse");
        goto done;
    }
    /* Payload listed but never seen. */
    for (a = 0; a < VL_DIGEST_COUNT && rc == VL_OK; a++)
        if (b->payload[a].m)
            rc = report_missing(b, l, b->payload, a, 1, err);
    /* Tag manifests: absent tag files, then digests of the bytes given. */
    for (a = 0; a < VL_DIGEST_COUNT && rc == VL_OK; a++)
        if (b->tagman[a].m)
            rc = report_missing(b, l, b->tagman, a, 0, err);
    for (a = 0; a < VL_DIGEST_COUNT && rc == VL_OK; a++) {
        const vl_manifest *m = b->tagman[a].m;
        if (!m)
            continue;
        for (i = 0; i < vl_manifest_count(m) && rc == VL_OK; i++) {
            const char *path, *want;
            const tag_file *t;
            char got[VL_DIGEST_HEX_MAX];
            vl_manifest_entry(m, i, &path, &want);
            if (!(t = tag_get(b, path)))
                continue;
            if (vl_digest_buffer((vl_digest_alg)a, t->data, t->len, got) != 0) {
                rc = vl_error_set(err, VL_ESYS, "%s: digest: out of memory",
                                  b->tagman[a].name);
                break;
            }
            if (strcmp(got, want) != 0) {
                char *esc = vl_name_escape(path);
                rc = msg_add(b, l, 0, path, err, "%s: %s expected %s got %s "
                             "(%s)", esc ? esc : "?",
                             vl_digest_name((vl_digest_alg)a), want, got,
                             b->tagman[a].name);
                free(esc);
            }
        }
    }
    if (rc == VL_OK && b->has_oxum &&
        (b->seen_overflow || b->oxum_octets != b->seen_bytes ||
         b->oxum_streams != b->seen_files))
        rc = msg_add(b, l, 2, "", err, "Payload-Oxum in %s is %llu.%llu but "
                     "the payload has %llu bytes in %llu file%s", b->info_name,
                     (unsigned long long)b->oxum_octets,
                     (unsigned long long)b->oxum_streams,
                     (unsigned long long)b->seen_bytes,
                     (unsigned long long)b->seen_files,
                     b->seen_files == 1 ? "" : "s");
    if (rc != VL_OK)
        goto done;
    nmsg = l->n;
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
    /* Keep only what payload_seen found, so verify can run again. */
    msgs_release(l, keep);
    return rc;
}
