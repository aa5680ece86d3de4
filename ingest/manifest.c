/* Checksum manifests: a donor's md5sum/sha*sum output (GNU "hex  path",
 * "hex *path", "\"-escaped lines, BSD/--tag "SHA256 (path) = hex") and
 * BagIt manifests ("hex path" with percent-encoded CR, LF and %).
 *
 * The bagit argument of vl_manifest_parse is 0 for a donor file and
 * non-zero for BagIt (RFC 8493 rules); bagit.c calls vl_manifest_parse_opts
 * with the VL_MF_* bits of ingest_internal.h:
 *   VL_MF_BAGIT    BagIt line syntax and paths (below)
 *   VL_MF_LEGACY   BagIt 0.9x: only %0D/%0A are decoded (0.97 did not
 *                  encode '%'), a leading '*' before the path is dropped
 *   VL_MF_PAYLOAD  every path must be under data/ (payload manifest)
 *   VL_MF_TAG      no path may be under data/ (tag manifest)
 * and an algorithm given either as a vl_digest_alg or (any other OpenSSL
 * digest) as the length of its checksums.
 *
 * BagIt paths (RFC 8493 sections 2.1.3 and 5.1), as decided here:
 * - %0A, %0D and %25 (either case) are decoded, and nothing else: any other
 *   '%' is part of the name (with a warning in a 1.0 bag, whose writers
 *   encode '%' as %25).
 * - A path is relative to the bag's top folder.  "./data/a", "data/./a",
 *   "data//a" and "data/x/../a" name data/a: they are read so, with a
 *   warning.  A path that climbs above the top folder ("../x",
 *   "data/../../x") and an absolute path ("/data/a") are refused, and so is
 *   a path ending in '/' (manifests list files, not folders).
 * - '/' is the only separator: a backslash is part of a name (with a
 *   warning, as a Windows writer may have meant it as a separator).
 * - The same path listed twice with the same checksum is a warning; with
 *   another checksum it is refused.
 * The parsed text must be UTF-8 (bagit.c converts other encodings). */
#include "ingest_internal.h"
#include "manifest_private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A donor manifest for a few million files is fine; beyond this the input
 * is more likely garbage than a real deposit. */
#define MANIFEST_MAX_ENTRIES 20000000u

typedef struct mf_entry {
    size_t path_off;   /* into arena */
    size_t hex_off;
    size_t line;
} mf_entry;

struct vl_manifest {
    vl_digest_alg alg;
    int alg_known;
    vl_buf arena;      /* NUL-separated paths and hex strings */
    mf_entry *e;
    size_t n, cap;
    size_t *slot;      /* open addressing: entry index + 1, 0 = empty */
    size_t nslot;      /* power of two */
};

static uint64_t hash_path(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static const char *entry_path(const vl_manifest *m, size_t i)
{
    return m->arena.data + m->e[i].path_off;
}

/* Index of path, or (size_t)-1. */
static size_t find(const vl_manifest *m, const char *path)
{
    size_t mask, i;

    if (m->nslot == 0)
        return (size_t)-1;
    mask = m->nslot - 1;
    for (i = (size_t)hash_path(path) & mask; m->slot[i]; i = (i + 1) & mask)
        if (strcmp(entry_path(m, m->slot[i] - 1), path) == 0)
            return m->slot[i] - 1;
    return (size_t)-1;
}

static void slot_put(size_t *slot, size_t nslot, uint64_t h, size_t idx)
{
    size_t mask = nslot - 1, i;

    for (i = (size_t)h & mask; slot[i]; i = (i + 1) & mask)
        ;
    slot[i] = idx + 1;
}

/* Keep the table at most half full so probes stay short. */
static int table_grow(vl_manifest *m, vl_error *err)
{
    size_t nslot = m->nslot ? m->nslot * 2 : 64, i;
    size_t *slot;

    if (m->n + 1 <= m->nslot / 2)
        return VL_OK;
    slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return vl_error_oom(err);
    for (i = 0; i < m->n; i++)
        slot_put(slot, nslot, hash_path(entry_path(m, i)), i);
    free(m->slot);
    m->slot = slot;
    m->nslot = nslot;
    return VL_OK;
}

static int add_entry(vl_manifest *m, const char *path, size_t plen,
                     const char *hex, size_t hlen, size_t line, vl_error *err)
{
    mf_entry *ne;
    int rc;

    if (VL_GROW(m->e, m->cap, m->n + 1, err) != VL_OK)
        return VL_ESYS;
    rc = table_grow(m, err);
    if (rc != VL_OK)
        return rc;
    ne = &m->e[m->n];
    ne->line = line;
    ne->path_off = m->arena.len;
    if ((rc = vl_buf_append(&m->arena, path, plen, err)) != VL_OK ||
        (rc = vl_buf_append(&m->arena, "", 1, err)) != VL_OK)
        return rc;
    ne->hex_off = m->arena.len;
    if ((rc = vl_buf_append(&m->arena, hex, hlen, err)) != VL_OK ||
        (rc = vl_buf_append(&m->arena, "", 1, err)) != VL_OK)
        return rc;
    slot_put(m->slot, m->nslot, hash_path(path), m->n);
    m->n++;
    return VL_OK;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static int alg_from_len(size_t n, vl_digest_alg *out)
{
    switch (n) {
    case 32: *out = VL_MD5; return 0;
    case 40: *out = VL_SHA1; return 0;
    case 64: *out = VL_SHA256; return 0;
    case 128: *out = VL_SHA512; return 0;
    default: return -1;
    }
}

/* BSD / --tag names: "MD5", "SHA1", "SHA256", "SHA512", OpenSSL 3's
 * "SHA2-256", b2sum's "BLAKE2b" (512 bits).  1: known but not computable
 * by vellum, -1: not a tag at all. */
static int alg_from_tag(const char *t, size_t n, vl_digest_alg *out)
{
    static const struct {
        const char *tag;
        int alg; /* -1: recognised, not computable */
    } tags[] = {
        {"MD5", VL_MD5},         {"SHA1", VL_SHA1},
        {"SHA256", VL_SHA256},   {"SHA2-256", VL_SHA256},
        {"SHA512", VL_SHA512},   {"SHA2-512", VL_SHA512},
        {"BLAKE2b", VL_BLAKE2B512}, {"BLAKE2b-512", VL_BLAKE2B512},
        {"SHA224", -1},          {"SHA384", -1},
        {"SHA2-224", -1},        {"SHA2-384", -1},
        {"SHA3-224", -1},        {"SHA3-256", -1},
        {"SHA3-384", -1},        {"SHA3-512", -1},
        {"BLAKE2b-256", -1},     {"BLAKE2b-384", -1},
        {"SM3", -1},             {"CRC32", -1},
    };
    size_t i;

    for (i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        if (strlen(tags[i].tag) == n && memcmp(tags[i].tag, t, n) == 0) {
            if (tags[i].alg < 0)
                return 1;
            *out = (vl_digest_alg)tags[i].alg;
            return 0;
        }
    }
    return -1;
}

typedef struct parse_ctx {
    vl_manifest *m;
    const char *src;
    int flags;          /* VL_MF_* */
    int hint;           /* alg_hint */
    size_t hex_len;     /* any-digest manifests: the checksum length */
    const char *alg_name;
    size_t first_line;  /* line that fixed the algorithm when inferred */
    vl_buf path;        /* scratch: decoded path */
    vl_buf norm;        /* scratch: normalised BagIt path */
    int stray_percent;  /* decode_path kept a '%' as written */
    vl_report_fn warn;
    void *warn_arg;
    vl_error *err;
    const vl_manifest_sink *sink;  /* entries go here, not into m */
    size_t kept;        /* entries handed to sink */
} parse_ctx;

static void line_warn(parse_ctx *c, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void line_warn(parse_ctx *c, size_t line, const char *fmt, ...)
{
    char msg[1024], *full;
    va_list ap;

    if (!c->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    full = vl_asprintf("%s line %zu: %s", c->src, line, msg);
    if (full)
        c->warn(c->warn_arg, full);
    free(full);
}

static int line_err(parse_ctx *c, size_t line, const char *what,
                    const char *path)
{
    char *esc = path ? vl_name_escape(path) : NULL;
    int rc;

    if (path)
        rc = vl_error_set(c->err, VL_EINPUT, "%s line %zu: %s \"%s\"", c->src,
                          line, what, esc ? esc : "?");
    else
        rc = vl_error_set(c->err, VL_EINPUT, "%s line %zu: %s", c->src, line,
                          what);
    free(esc);
    return rc;
}

/* Relative path rules for both kinds: not empty, not absolute, no empty,
 * "." or ".." segment, UTF-8.  CR and LF are allowed here (BagIt can encode
 * them); ingest refuses such names later on its own terms. */
static const char *path_problem(const char *p, size_t len)
{
    size_t i, seg = 0;

    if (len == 0)
        return "empty path";
    if (p[0] == '/')
        return "absolute path";
    if (p[len - 1] == '/')
        return "path ends with /";
    if (!vl_utf8_valid(p, len))
        return "path is not valid UTF-8";
    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != '/')
            continue;
        if (i == seg)
            return "empty path segment";
        if (i - seg == 1 && p[seg] == '.')
            return "\".\" segment in path";
        if (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.')
            return "\"..\" segment in path";
        seg = i + 1;
    }
    return NULL;
}

/* Decode the path [p, p+n) into c->path by the rules in force: GNU
 * backslash escapes on "\"-lines, BagIt percent-encoding otherwise.  In
 * BagIt only %0D, %0A and (1.0) %25 are encodings; any other '%' is kept as
 * written, which is what a 0.9x writer that never encoded '%' meant. */
static int decode_path(parse_ctx *c, size_t line, const char *p, size_t n,
                       int gnu_escaped)
{
    size_t i;
    int rc;

    vl_buf_reset(&c->path);
    for (i = 0; i < n; i++) {
        char ch = p[i];
        if (gnu_escaped && ch == '\\') {
            if (i + 1 >= n)
                return line_err(c, line, "path ends in a lone backslash", NULL);
            switch (p[++i]) {
            case '\\': ch = '\\'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            default:
                return line_err(c, line, "unknown backslash escape in path "
                                "(only \\\\, \\n and \\r are defined)", NULL);
            }
        } else if ((c->flags & VL_MF_BAGIT) && ch == '%' && n - i >= 3 &&
                   is_hex(p[i + 1]) && is_hex(p[i + 2])) {
            int v = hexval(p[i + 1]) * 16 + hexval(p[i + 2]);
            if (v == '\r' || v == '\n' ||
                (v == '%' && !(c->flags & VL_MF_LEGACY))) {
                ch = (char)v;
                i += 2;
            } else {
                c->stray_percent = 1;
            }
        } else if ((c->flags & VL_MF_BAGIT) && ch == '%') {
            c->stray_percent = 1;
        }
        rc = vl_buf_append(&c->path, &ch, 1, c->err);
        if (rc != VL_OK)
            return rc;
    }
    return VL_OK;
}

/* Fix or check the algorithm for a digest of hlen hex digits; tag_alg is
 * the algorithm a BSD tag named, or -1. */
static int settle_alg(parse_ctx *c, size_t line, size_t hlen, int tag_alg)
{
    vl_manifest *m = c->m;
    vl_digest_alg a;
    char msg[160];

    if (c->hex_len) {
        if (hlen != c->hex_len) {
            snprintf(msg, sizeof msg, "%s checksum has %zu hex digits, not "
                     "%zu", c->alg_name, hlen, c->hex_len);
            return line_err(c, line, msg, NULL);
        }
        return VL_OK;
    }
    if (tag_alg >= 0) {
        a = (vl_digest_alg)tag_alg;
    } else if (m->alg_known) {
        a = m->alg;
    } else if (alg_from_len(hlen, &a) != 0) {
        snprintf(msg, sizeof msg, "a checksum of %zu hex digits is not md5 "
                 "(32), sha1 (40), sha256 (64) or sha512 (128)", hlen);
        return line_err(c, line, msg, NULL);
    }
    if (m->alg_known && a != m->alg) {
        if (c->hint >= 0)
            snprintf(msg, sizeof msg, "%s checksum in a %s manifest",
                     vl_digest_name(a), vl_digest_name(m->alg));
        else
            snprintf(msg, sizeof msg, "%s checksum, but line %zu has %s "
                     "(mixed algorithms)", vl_digest_name(a), c->first_line,
                     vl_digest_name(m->alg));
        return line_err(c, line, msg, NULL);
    }
    if (hlen != vl_digest_hex_len(a)) {
        snprintf(msg, sizeof msg, "%s checksum has %zu hex digits, not %zu%s",
                 vl_digest_name(a), hlen, vl_digest_hex_len(a),
                 c->hint < 0 && m->alg_known && tag_alg < 0
                     ? " (mixed checksum lengths)" : "");
        return line_err(c, line, msg, NULL);
    }
    if (!m->alg_known) {
        m->alg = a;
        m->alg_known = 1;
        c->first_line = line;
    }
    return VL_OK;
}

/* A BagIt path relative to the bag's top folder, in normal form: ".",
 * empty and ".." segments resolved (with a warning naming what was there);
 * refused when absolute, when it climbs above the top folder, or when it
 * names a folder.  *path and *plen are replaced by the normal form. */
static int bag_normalise(parse_ctx *c, size_t line, const char **path,
                         size_t *plen)
{
    const char *p = *path, *why = NULL;
    size_t n = *plen, i, seg = 0;
    int rc;

    if (n > 0 && p[0] == '/')
        return line_err(c, line, "absolute path", p);
    if (n > 0 && p[n - 1] == '/')
        return line_err(c, line, "path ends with / (manifests list files, "
                        "not folders)", p);
    if (n >= 2 && p[0] == '.' && p[1] == '/')
        why = "is relative (\"./\")";
    vl_buf_reset(&c->norm);
    if ((rc = vl_buf_append(&c->norm, "", 0, c->err)) != VL_OK)
        return rc;
    for (i = 0; i <= n; i++) {
        size_t len;
        if (i < n && p[i] != '/')
            continue;
        len = i - seg;
        if (len == 0 || (len == 1 && p[seg] == '.')) {
            if (!why)
                why = len ? "has a \".\" segment" : "has an empty segment "
                                                     "(\"//\")";
        } else if (len == 2 && p[seg] == '.' && p[seg + 1] == '.') {
            char *slash;
            if (c->norm.len == 0)
                return line_err(c, line, "path leaves the bag (\"..\" above "
                                "its top folder)", p);
            slash = strrchr(c->norm.data, '/');
            c->norm.len = slash ? (size_t)(slash - c->norm.data) : 0;
            c->norm.data[c->norm.len] = '\0';
            if (!why)
                why = "has a \"..\" segment";
        } else {
            if ((c->norm.len &&
                 (rc = vl_buf_append(&c->norm, "/", 1, c->err)) != VL_OK) ||
                (rc = vl_buf_append(&c->norm, p + seg, len, c->err)) != VL_OK)
                return rc;
        }
        seg = i + 1;
    }
    if (c->norm.len == 0)
        return line_err(c, line, "path names the bag's top folder, not a "
                        "file", p);
    if (why) {
        char *was = vl_name_escape(p), *now = vl_name_escape(c->norm.data);
        line_warn(c, line, "path \"%s\" %s; read as \"%s\"", was ? was : "?",
                  why, now ? now : "?");
        free(was);
        free(now);
    }
    *path = c->norm.data;
    *plen = c->norm.len;
    return VL_OK;
}

/* The path [raw, raw+rawlen) of a line, decoded by the rules in force, in
 * normal form (BagIt) and checked: into *path (c's scratch) and *plen. */
static int read_path(parse_ctx *c, size_t line, const char *raw,
                     size_t rawlen, int gnu_escaped, const char **out,
                     size_t *outlen)
{
    const char *path, *why;
    size_t plen;
    int rc;

    c->stray_percent = 0;
    rc = decode_path(c, line, raw, rawlen, gnu_escaped);
    if (rc != VL_OK)
        return rc;
    path = c->path.data ? c->path.data : "";
    plen = c->path.len;
    if ((c->flags & VL_MF_BAGIT) && plen > 0 && !memchr(path, '\0', plen)) {
        char *esc = NULL;
        if (c->stray_percent && !(c->flags & VL_MF_LEGACY) &&
            (esc = vl_name_escape(path)) != NULL)
            line_warn(c, line, "path \"%s\" has a '%%' that is not %%0A, "
                      "%%0D or %%25; read as written (BagIt 1.0 writes '%%' "
                      "as %%25)", esc);
        free(esc);
        esc = NULL;
        if (memchr(path, '\\', plen) && (esc = vl_name_escape(path)) != NULL)
            line_warn(c, line, "path \"%s\" has a backslash, read as part "
                      "of a name: BagIt separates folders with '/' only",
                      esc);
        free(esc);
        if ((rc = bag_normalise(c, line, &path, &plen)) != VL_OK)
            return rc;
    }
    /* A donor's "find . -type f | xargs sha256sum" writes "./dir/file". */
    if (!(c->flags & VL_MF_BAGIT))
        while (plen > 2 && path[0] == '.' && path[1] == '/') {
            path += 2;
            plen -= 2;
        }
    if (plen == 0)
        return line_err(c, line, "no file path", NULL);
    if (memchr(path, '\0', plen))
        return line_err(c, line, "NUL byte in path", NULL);
    why = path_problem(path, plen);
    if (why)
        return line_err(c, line, why, path);
    *out = path;
    *outlen = plen;
    return VL_OK;
}

/* An entry parsed: refused or warned about when its path was listed
 * before, else kept (in the manifest, or handed to the sink). */
static int keep_entry(parse_ctx *c, size_t line, const char *path,
                      size_t plen, const char *hexbuf, size_t hlen)
{
    vl_manifest *m = c->m;
    char prev_hex[VL_DIGEST_HEX_MAX];
    size_t prev_line = 0, n;
    int found = 0, rc;

    if (c->sink) {
        rc = c->sink->find(c->sink->arg, path, &found, prev_hex, &prev_line,
                           c->err);
        if (rc != VL_OK)
            return rc;
        n = c->kept;
    } else {
        size_t prev = find(m, path);
        if (prev != (size_t)-1) {
            found = 1;
            snprintf(prev_hex, sizeof prev_hex, "%s",
                     m->arena.data + m->e[prev].hex_off);
            prev_line = m->e[prev].line;
        }
        n = m->n;
    }
    if (found) {
        char msg[120];
        if (strcmp(prev_hex, hexbuf) == 0) {
            /* The same line twice says nothing new. */
            char *esc;
            if ((c->flags & VL_MF_BAGIT) && (esc = vl_name_escape(path))) {
                line_warn(c, line, "\"%s\" listed again with the same "
                          "checksum (first on line %zu)", esc, prev_line);
                free(esc);
            }
            return VL_OK;
        }
        snprintf(msg, sizeof msg, "path listed again with a different "
                 "checksum (first on line %zu)", prev_line);
        return line_err(c, line, msg, path);
    }
    if (n >= MANIFEST_MAX_ENTRIES)
        return line_err(c, line, "more than 20000000 entries; vellum refuses "
                        "manifests this large", NULL);
    if (!c->sink)
        return add_entry(m, path, plen, hexbuf, hlen, line, c->err);
    if ((rc = c->sink->add(c->sink->arg, path, hexbuf, line, c->err)) != VL_OK)
        return rc;
    c->kept++;
    return VL_OK;
}

/* Parse one line (terminator removed, non-empty). */
static int parse_line(parse_ctx *c, size_t line, const char *s, size_t n)
{
    const char *hex, *path;
    size_t hlen, plen, i;
    int gnu_escaped = 0, tag_alg = -1, rc;
    char hexbuf[VL_DIGEST_HEX_MAX];

    if (memchr(s, '\0', n))
        return line_err(c, line, "NUL byte in line", NULL);
    if (!vl_utf8_valid(s, n))
        return line_err(c, line, "not valid UTF-8", NULL);
    if (!(c->flags & VL_MF_BAGIT) && s[0] == '\\') {
        gnu_escaped = 1;
        s++;
        n--;
    }
    for (i = 0; i < n && is_hex(s[i]); i++)
        ;
    if (i > 0 && i < n && (s[i] == ' ' || s[i] == '\t')) {
        /* "HEX<ws>PATH" */
        hex = s;
        hlen = i;
        if (c->flags & VL_MF_BAGIT) {
            /* One or more linear whitespace characters, then an optional
             * '*' (0.9x only: 1.0 dropped it). */
            while (i < n && (s[i] == ' ' || s[i] == '\t'))
                i++;
            if ((c->flags & VL_MF_LEGACY) && i < n && s[i] == '*')
                i++;
        } else if (i + 1 < n && s[i] == ' ' && (s[i + 1] == ' ' ||
                                                s[i + 1] == '*')) {
            i += 2;    /* GNU: " " then the mode character ' ' or '*' */
        } else {
            i += 1;    /* BSD "md5 -r" and the like: one separator */
        }
        path = s + i;
        plen = n - i;
    } else {
        /* BSD / --tag: "ALG (PATH) = HEX"; the path may itself hold ") = ",
         * so take the hex from the end. */
        const char *open, *close, *eq;
        size_t tlen;
        vl_digest_alg a;
        int t;

        if (c->flags & VL_MF_BAGIT)
            return line_err(c, line, "not \"CHECKSUM FILEPATH\"", NULL);
        open = memchr(s, '(', n);
        eq = NULL;
        for (i = n; i > 0; i--)
            if (s[i - 1] == '=') {
                eq = s + i - 1;
                break;
            }
        if (!open || !eq || eq < open)
            return line_err(c, line, "not a checksum line (expected \"HEX  "
                            "PATH\" or \"ALG (PATH) = HEX\")", NULL);
        hex = eq + 1;
        while (hex < s + n && *hex == ' ')
            hex++;
        hlen = (size_t)(s + n - hex);
        while (hlen > 0 && (hex[hlen - 1] == ' ' || hex[hlen - 1] == '\t'))
            hlen--;
        close = eq;
        while (close > open && close[-1] == ' ')
            close--;
        if (close == open || close[-1] != ')')
            return line_err(c, line, "not a checksum line (expected \"HEX  "
                            "PATH\" or \"ALG (PATH) = HEX\")", NULL);
        close--;
        tlen = (size_t)(open - s);
        while (tlen > 0 && s[tlen - 1] == ' ')
            tlen--;
        t = alg_from_tag(s, tlen, &a);
        if (t != 0) {
            char msg[200];
            char *tag = vl_strndup(s, tlen > 40 ? 40 : tlen);
            char *esc = tag ? vl_name_escape(tag) : NULL;
            snprintf(msg, sizeof msg, t > 0 ? "algorithm %s is not one vellum "
                     "can compute (md5, sha1, sha256, sha512, blake2b-512)"
                     : "unknown algorithm tag \"%s\"", esc ? esc : "?");
            free(esc);
            free(tag);
            return line_err(c, line, msg, NULL);
        }
        tag_alg = (int)a;
        path = open + 1;
        plen = (size_t)(close - path);
        for (i = 0; i < hlen; i++)
            if (!is_hex(hex[i]))
                return line_err(c, line, "checksum is not hexadecimal", NULL);
    }
    if (hlen == 0)
        return line_err(c, line, "no checksum", NULL);
    if (hlen >= VL_DIGEST_HEX_MAX)
        return line_err(c, line, "checksum longer than 128 hex digits", NULL);
    rc = settle_alg(c, line, hlen, tag_alg);
    if (rc != VL_OK)
        return rc;
    for (i = 0; i < hlen; i++)
        hexbuf[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] + 32
                                                          : hex[i]);
    hexbuf[hlen] = '\0';

    rc = read_path(c, line, path, plen, gnu_escaped, &path, &plen);
    if (rc != VL_OK)
        return rc;
    if ((c->flags & VL_MF_PAYLOAD) && strncmp(path, "data/", 5) != 0)
        return line_err(c, line, "payload manifest lists a file outside data/",
                        path);
    if ((c->flags & VL_MF_TAG) && strncmp(path, "data/", 5) == 0)
        return line_err(c, line, "tag manifest lists a payload file", path);

    return keep_entry(c, line, path, plen, hexbuf, hlen);
}

int vl_manifest_parse(const char *data, size_t len, int alg_hint, int bagit,
                      const char *source_name, vl_manifest **out, vl_error *err)
{
    vl_manifest_opts o = {0};

    o.flags = bagit ? (bagit & (VL_MF_BAGIT | VL_MF_LEGACY | VL_MF_PAYLOAD |
                                VL_MF_TAG)) | VL_MF_BAGIT : 0;
    o.alg = alg_hint;
    return vl_manifest_parse_opts(data, len, &o, source_name, out, err);
}

/* c and its manifest set up for the options o (the algorithm fixed or
 * inferred); *mp is the manifest, to free whatever happens. */
static int ctx_open(parse_ctx *c, const vl_manifest_opts *o,
                    const char *source_name, vl_manifest **mp, vl_error *err)
{
    vl_manifest *m;
    int alg_hint = o->alg;

    memset(c, 0, sizeof *c);
    vl_buf_init(&c->path, 0);
    vl_buf_init(&c->norm, 0);
    *mp = m = calloc(1, sizeof *m);
    if (!m)
        return vl_error_sys(err, "%s", source_name);
    vl_buf_init(&m->arena, 0);
    c->m = m;
    c->src = source_name;
    c->flags = o->flags;
    c->hint = alg_hint;
    c->err = err;
    c->warn = o->warn;
    c->warn_arg = o->warn_arg;
    if (alg_hint < 0 && o->hex_len) {
        if (o->hex_len >= VL_DIGEST_HEX_MAX)
            return vl_error_set(err, VL_EINPUT, "%s: checksums of %zu hex "
                                "digits are longer than vellum reads",
                                source_name, o->hex_len);
        c->hex_len = o->hex_len;
        c->alg_name = o->alg_name ? o->alg_name : "the";
        m->alg_known = 1;   /* no vl_digest_alg: vl_manifest_alg means nothing */
    } else if (alg_hint >= 0) {
        if (alg_hint >= VL_DIGEST_COUNT)
            return vl_error_set(err, VL_EINPUT, "%s: unknown algorithm %d",
                                source_name, alg_hint);
        m->alg = (vl_digest_alg)alg_hint;
        m->alg_known = 1;
    }
    return VL_OK;
}

static void ctx_release(parse_ctx *c)
{
    vl_buf_release(&c->path);
    vl_buf_release(&c->norm);
}

/* One line as read (terminator removed): blank lines and (donor files)
 * '#' comments are skipped. */
static int ctx_line(parse_ctx *c, size_t line, const char *s, size_t n)
{
    size_t k = 0;

    /* Blank lines separate nothing; '#' comments only in donor files. */
    while (k < n && (s[k] == ' ' || s[k] == '\t'))
        k++;
    if (k == n)
        return VL_OK;
    if (!(c->flags & VL_MF_BAGIT) && s[0] == '#')
        return VL_OK;
    return parse_line(c, line, s, n);
}

int vl_manifest_parse_opts(const char *data, size_t len,
                           const vl_manifest_opts *o, const char *source_name,
                           vl_manifest **out, vl_error *err)
{
    parse_ctx c;
    vl_manifest *m = NULL;
    size_t pos = 0, line = 0;
    int rc;

    *out = NULL;
    if (!source_name)
        source_name = "manifest";
    if ((rc = ctx_open(&c, o, source_name, &m, err)) != VL_OK)
        goto done;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        /* BagIt forbids a UTF-8 byte-order mark; Windows tools writing
         * donor checksum files often add one. */
        if (c.flags & VL_MF_BAGIT) {
            rc = vl_error_set(err, VL_EINPUT, "%s: starts with a byte-order "
                              "mark, which BagIt does not allow in UTF-8 tag "
                              "files", source_name);
            goto done;
        }
        pos = 3;
    }
    while (pos < len) {
        size_t start = pos, end;

        while (pos < len && data[pos] != '\n' && data[pos] != '\r')
            pos++;
        end = pos;
        /* LF, CRLF or a lone CR ends a line. */
        if (pos < len && data[pos] == '\r') {
            pos++;
            if (pos < len && data[pos] == '\n')
                pos++;
        } else if (pos < len) {
            pos++;
        }
        line++;
        rc = ctx_line(&c, line, data + start, end - start);
        if (rc != VL_OK)
            goto done;
    }
    if (!m->alg_known) {
        rc = vl_error_set(err, VL_EINPUT, "%s: no checksum lines",
                          source_name);
        goto done;
    }
    *out = m;
    m = NULL;
done:
    ctx_release(&c);
    vl_manifest_free(m);
    return rc;
}

struct vl_manifest_stream {
    parse_ctx c;
    vl_manifest *m;     /* holds the algorithm only: entries go to the sink */
    vl_manifest_sink sink;
    char *src;
};

int vl_manifest_stream_open(const vl_manifest_opts *o,
                            const vl_manifest_sink *sink,
                            const char *source_name, vl_manifest_stream **out,
                            vl_error *err)
{
    vl_manifest_stream *st = calloc(1, sizeof *st);
    int rc;

    *out = NULL;
    if (!st || !(st->src = vl_strdup(source_name ? source_name : "manifest"))) {
        free(st);
        return vl_error_sys(err, "%s", source_name ? source_name : "manifest");
    }
    rc = ctx_open(&st->c, o, st->src, &st->m, err);
    st->sink = *sink;
    st->c.sink = &st->sink;
    if (rc != VL_OK) {
        vl_manifest_stream_close(st);
        return rc;
    }
    *out = st;
    return VL_OK;
}

int vl_manifest_stream_line(vl_manifest_stream *st, size_t line,
                            const char *s, size_t n, vl_error *err)
{
    st->c.err = err;
    return ctx_line(&st->c, line, s, n);
}

void vl_manifest_stream_close(vl_manifest_stream *st)
{
    if (!st)
        return;
    ctx_release(&st->c);
    vl_manifest_free(st->m);
    free(st->src);
    free(st);
}

size_t vl_manifest_entry_line(const vl_manifest *m, size_t i)
{
    return i < m->n ? m->e[i].line : 0;
}

void vl_manifest_free(vl_manifest *m)
{
    if (!m)
        return;
    vl_buf_release(&m->arena);
    free(m->e);
    free(m->slot);
    free(m);
}

vl_digest_alg vl_manifest_alg(const vl_manifest *m)
{
    return m->alg;
}

size_t vl_manifest_count(const vl_manifest *m)
{
    return m->n;
}

void vl_manifest_entry(const vl_manifest *m, size_t i, const char **path,
                       const char **hex)
{
    if (i >= m->n) {
        if (path)
            *path = NULL;
        if (hex)
            *hex = NULL;
        return;
    }
    if (path)
        *path = m->arena.data + m->e[i].path_off;
    if (hex)
        *hex = m->arena.data + m->e[i].hex_off;
}

const char *vl_manifest_lookup(const vl_manifest *m, const char *path)
{
    size_t i = find(m, path);

    return i == (size_t)-1 ? NULL : m->arena.data + m->e[i].hex_off;
}

int vl_bag_path_read(const char *raw, size_t rawlen, int flags,
                     const char *source_name, size_t line, vl_report_fn warn,
                     void *warn_arg, char **out, vl_error *err)
{
    parse_ctx c = {0};
    const char *path;
    size_t plen;
    int rc;

    *out = NULL;
    c.src = source_name;
    c.flags = flags | VL_MF_BAGIT;
    c.warn = warn;
    c.warn_arg = warn_arg;
    c.err = err;
    vl_buf_init(&c.path, 0);
    vl_buf_init(&c.norm, 0);
    rc = read_path(&c, line, raw, rawlen, 0, &path, &plen);
    if (rc == VL_OK && !(*out = vl_strndup(path, plen)))
        rc = vl_error_sys(err, "%s", source_name);
    vl_buf_release(&c.path);
    vl_buf_release(&c.norm);
    return rc;
}
