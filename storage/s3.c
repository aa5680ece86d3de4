/* The S3 client (s3_private.h): libcurl signs with SigV4, libxml2 reads
 * the XML answers.  Every request goes through request(), which owns the
 * retries, the one-line errors and the reuse of easy handles (each keeps
 * its live connections between requests). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "s3_private.h"

#define MIB ((uint64_t)1 << 20)
#define MULTIPART_ABOVE (64 * MIB)  /* files larger than this go in parts */
#define PART_SIZE (16 * MIB)
#define READ_CHUNK ((size_t)(4 * MIB)) /* a reader's range */
#define XML_MAX ((size_t)(16 * MIB))   /* largest XML answer we read */
#define ERRBODY_MAX ((size_t)65536)    /* error bodies kept (rest dropped) */
#define BACKOFF_FIRST 0.2              /* seconds, doubled each retry */
#define BACKOFF_CAP 5.0
#define KEY_SHOWN 300                  /* bytes of a key in a message */

/* SHA-256 of the empty string: the payload hash of bodiless requests. */
static const char empty_sha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct vl_s3 {
    char *endpoint;
    char *bucket;
    char *access_key;
    char *secret_key;
    char *session_token;
    char *sigv4;          /* "aws:amz:REGION:s3" */
    int tls_verify;
    int max_retries;
    long timeout;
    int parallel;
    double backoff_first; /* seconds */
    long max_keys;        /* 0: the server's default (test knob) */
    pthread_mutex_t lock; /* guards idle */
    CURL **idle;          /* easy handles kept for their connections */
    size_t nidle, idle_cap;
    CURLSH *share;        /* DNS cache and TLS sessions across handles */
    pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
};

struct vl_s3_reader {
    vl_s3 *s;
    char *key;
    uint64_t size;
    uint64_t chunk_start; /* object offset of chunk.data[0] */
    size_t chunk_off;     /* next byte of chunk to hand out */
    vl_buf chunk;
    char etag[128];       /* of the first answer; later ranges must match */
};

/* ---- one-time set-up ----------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    /* libxml2 must be set up once before threads parse */
    xmlInitParser();
}

/* ---- small helpers ------------------------------------------------------- */

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Percent-encode s as SigV4 wants it (upper-case hex), '/' kept when
 * keep_slash (object paths) and encoded otherwise (query values). */
static int encode_into(vl_buf *b, const char *s, int keep_slash,
                       vl_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        char e[3];
        int rc;

        if (unreserved(*p) || (keep_slash && *p == '/')) {
            rc = vl_buf_append(b, p, 1, err);
        } else {
            e[0] = '%';
            e[1] = hex[*p >> 4];
            e[2] = hex[*p & 15];
            rc = vl_buf_append(b, e, 3, err);
        }
        if (rc != VL_OK)
            return rc;
    }
    return VL_OK;
}

static char *encode(const char *s, int keep_slash)
{
    vl_buf b;

    vl_buf_init(&b, 0);
    if (encode_into(&b, s, keep_slash, NULL) != VL_OK) {
        vl_buf_release(&b);
        return NULL;
    }
    return vl_buf_detach(&b);
}

static void sleep_seconds(double sec)
{
    struct timespec ts;

    ts.tv_sec = (time_t)sec;
    ts.tv_nsec = (long)((sec - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Hex digest to base64 of its bytes (Content-MD5 wants base64). */
static void hex_to_b64(const char *hex, char *out, size_t cap)
{
    unsigned char raw[64];
    size_t n = strlen(hex) / 2, i;

    if (n > sizeof raw || cap < 4 * ((n + 2) / 3) + 1) {
        out[0] = '\0';
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        raw[i] = (unsigned char)v;
    }
    EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
}

/* ---- XML ----------------------------------------------------------------- */

/* Answers come from the network: no network access, no entity
 * substitution (no NOENT), no DTD loading, size bounded by the caller's
 * buffer (XML_MAX). */
static xmlDocPtr xml_parse(const char *data, size_t len)
{
    if (!data || len == 0 || len > INT_MAX)
        return NULL;
    return xmlReadMemory(data, (int)len, "s3-answer.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR |
                             XML_PARSE_NOWARNING);
}

static int node_is(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *parent, const char *name)
{
    xmlNode *n;

    for (n = parent ? parent->children : NULL; n; n = n->next)
        if (node_is(n, name))
            return n;
    return NULL;
}

/* The text of parent's child name, malloc'd ("" when the child is
 * absent); NULL when out of memory. */
static char *child_text(const xmlNode *parent, const char *name)
{
    xmlNode *n = child(parent, name);
    xmlChar *t;
    char *s;

    if (!n)
        return vl_strdup("");
    t = xmlNodeGetContent(n);
    if (!t)
        return NULL;
    s = vl_strdup((const char *)t);
    xmlFree(t);
    return s;
}

/* Code and Message of an <Error> body, into fixed buffers; nothing when
 * the body is not one. */
static void parse_error_body(const char *data, size_t len, char *code,
                             size_t code_cap, char *msg, size_t msg_cap)
{
    xmlDocPtr d = xml_parse(data, len);
    xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
    char *c = NULL, *m = NULL;

    if (!node_is(root, "Error"))
        goto done;
    c = child_text(root, "Code");
    m = child_text(root, "Message");
    if (c)
        snprintf(code, code_cap, "%s", c);
    if (m)
        snprintf(msg, msg_cap, "%s", m);
done:
    free(c);
    free(m);
    xmlFreeDoc(d);
}

/* ---- easy handles -------------------------------------------------------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
                       void *arg)
{
    vl_s3 *s = arg;
    (void)h;
    (void)access;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&s->share_lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
    vl_s3 *s = arg;
    (void)h;
    if ((unsigned)data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&s->share_lock[data]);
}

static CURL *handle_get(vl_s3 *s)
{
    CURL *h = NULL;

    pthread_mutex_lock(&s->lock);
    if (s->nidle > 0)
        h = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->lock);
    return h ? h : curl_easy_init();
}

/* Keep the handle (and so its open connections) for the next request. */
static void handle_put(vl_s3 *s, CURL *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&s->lock);
    if (s->nidle < s->idle_cap) {
        s->idle[s->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (h)
        curl_easy_cleanup(h);
}

/* ---- one request, with retries ------------------------------------------ */

typedef struct s3_req {
    const char *what;      /* "PUT", "GET", "upload part 3"... for messages */
    const char *method;    /* GET HEAD PUT POST DELETE */
    const char *key;       /* NULL: the bucket itself */
    const char *query;     /* canonical and encoded, or NULL */
    const char *range;     /* "bytes=A-B" or NULL */
    const char *if_match;  /* ETag or NULL */
    const char *copy_source;   /* "/bucket/key", encoded: a CopyObject */
    /* the body (PUT, POST): from memory, or len bytes of fd at off */
    int has_body;
    const void *mem;
    int fd;
    const char *path;      /* fd's name, for messages */
    uint64_t off, len;
    char sha256[VL_DIGEST_HEX_MAX];
    char md5_b64[32];
    /* statuses that are answers rather than failures */
    int ok_404, ok_416;
    /* the answer */
    vl_buf *sink;          /* 2xx body (NULL: dropped) */
    long status;
    char code[64];
    char message[256];
    char etag[128];
    char content_range[128];
    curl_off_t content_length;
} s3_req;

struct xfer {
    s3_req *q;
    CURL *h;
    uint64_t pos;          /* body bytes sent */
    int read_errno;        /* a failed read of the file body */
    long status;           /* of the answer being received, 0 unknown */
    vl_buf errbody;
    int sink_rc;           /* the sink's failure */
    vl_error sink_err;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
    struct xfer *x = arg;
    s3_req *q = x->q;
    size_t want = size * nitems;
    uint64_t left = q->len - x->pos;

    if (want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    if (q->mem) {
        memcpy(buf, (const char *)q->mem + x->pos, want);
    } else {
        ssize_t n;
        do
            n = pread(q->fd, buf, want, (off_t)(q->off + x->pos));
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            /* a file that shrank since it was hashed is a failure too */
            x->read_errno = n < 0 ? errno : EIO;
            return CURL_READFUNC_ABORT;
        }
        want = (size_t)n;
    }
    x->pos += want;
    return want;
}

/* curl rewinds the body when it must send it again on one connection. */
static int on_seek(void *arg, curl_off_t offset, int origin)
{
    struct xfer *x = arg;

    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->q->len)
        return CURL_SEEKFUNC_FAIL;
    x->pos = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;

    if (x->status == 0)
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->status >= 200 && x->status < 300) {
        if (!x->q->sink)
            return n;
        x->sink_rc = vl_buf_append(x->q->sink, data, n, &x->sink_err);
        return x->sink_rc == VL_OK ? n : 0;
    }
    /* an error body: the first ERRBODY_MAX bytes say enough */
    if (x->errbody.len < ERRBODY_MAX) {
        size_t keep = ERRBODY_MAX - x->errbody.len;
        if (vl_buf_append(&x->errbody, data, n < keep ? n : keep, NULL) !=
            VL_OK)
            return 0;
    }
    return n;
}

static void header_value(const char *line, size_t n, size_t name_len,
                         char *out, size_t cap)
{
    const char *v = line + name_len, *end = line + n;

    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
                       end[-1] == ' ' || end[-1] == '\t'))
        end--;
    snprintf(out, cap, "%.*s", (int)(end - v), v);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nitems;

    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new answer (after a 100 Continue, say): forget the last's */
        x->q->etag[0] = '\0';
        x->q->content_range[0] = '\0';
        x->status = 0;
    } else if (n > 5 && strncasecmp(line, "etag:", 5) == 0) {
        header_value(line, n, 5, x->q->etag, sizeof x->q->etag);
    } else if (n > 14 && strncasecmp(line, "content-range:", 14) == 0) {
        header_value(line, n, 14, x->q->content_range,
                     sizeof x->q->content_range);
    }
    return n;
}

static int transient_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

/* S3 codes worth a retry whatever the status (a Complete's 200 <Error>,
 * a 400 RequestTimeout). */
static int transient_code(const char *code)
{
    return strcmp(code, "SlowDown") == 0 ||
           strcmp(code, "InternalError") == 0 ||
           strcmp(code, "ServiceUnavailable") == 0 ||
           strcmp(code, "RequestTimeout") == 0;
}

static int transient_status(long status, const char *code)
{
    return status == 500 || status == 502 || status == 503 ||
           status == 504 || transient_code(code);
}

/* Seconds to wait before attempt + 1: 0.2, 0.4, 0.8... at most 5. */
static double backoff(const vl_s3 *s, int attempt)
{
    double w = s->backoff_first;

    while (--attempt > 0 && w < BACKOFF_CAP)
        w *= 2;
    return w < BACKOFF_CAP ? w : BACKOFF_CAP;
}

static const char *hint(long status, const char *code)
{
    if (strcmp(code, "SignatureDoesNotMatch") == 0 ||
        strcmp(code, "InvalidAccessKeyId") == 0)
        return "check the access key and secret";
    if (strcmp(code, "AccessDenied") == 0)
        return "the credentials may not use this bucket";
    if (status == 403 && !*code)   /* HEAD: no body to say which */
        return "check the access key and secret, and that they may use "
               "the bucket";
    if (strcmp(code, "BadDigest") == 0 ||
        strcmp(code, "XAmzContentSHA256Mismatch") == 0)
        return "the bytes changed on the way";
    if (strcmp(code, "NoSuchKey") == 0 || (status == 404 && !*code))
        return "no such key";
    if (strcmp(code, "SlowDown") == 0)
        return "the server asks to slow down";
    if (strcmp(code, "RequestTimeTooSkewed") == 0)
        return "check this machine's clock";
    return NULL;
}

/* The one-line message of a failed request. */
static int request_error(vl_s3 *s, const s3_req *q, CURLcode cc,
                         const char *curl_msg, int attempts, vl_error *err)
{
    char tries[48] = "";
    const char *key = q->key ? q->key : "";
    int rc;

    if (attempts > 1)
        snprintf(tries, sizeof tries, " (after %d attempts)", attempts);
    if (cc == CURLE_OUT_OF_MEMORY)
        return vl_error_oom(err);
    if (cc != CURLE_OK) {
        if (cc == CURLE_ABORTED_BY_CALLBACK || cc == CURLE_READ_ERROR)
            return vl_error_set(err, VL_ESYS, "s3://%s/%.*s: %s: cannot read "
                                "the body", s->bucket, KEY_SHOWN, key,
                                q->what);
        return vl_error_set(err, VL_ESYS, "s3://%s/%.*s: %s: cannot reach "
                            "%s: %s%s", s->bucket, KEY_SHOWN, key, q->what,
                            s->endpoint, curl_msg, tries);
    }
    if (strcmp(q->code, "NoSuchBucket") == 0 ||
        (q->status == 404 && !q->key)) {
        rc = vl_error_set(err, VL_ESYS, "s3://%s/%.*s: %s: HTTP %ld%s%s: "
                          "bucket %s does not exist", s->bucket, KEY_SHOWN,
                          key, q->what, q->status, *q->code ? " " : "",
                          q->code, s->bucket);
        if (err)
            err->sys_errno = ENOENT;
        return rc;
    }
    const char *h = hint(q->status, q->code);
    char more[300] = "";
    if (h)
        snprintf(more, sizeof more, ": %s", h);
    else if (*q->message)
        snprintf(more, sizeof more, ": %s", q->message);
    rc = vl_error_set(err, VL_ESYS, "s3://%s/%.*s: %s: HTTP %ld%s%s%s%s",
                      s->bucket, KEY_SHOWN, key, q->what, q->status,
                      *q->code ? " " : "", q->code, more, tries);
    if (err && q->status == 404)
        err->sys_errno = ENOENT;
    return rc;
}

static char *request_url(vl_s3 *s, const s3_req *q)
{
    vl_buf b;
    int rc;

    vl_buf_init(&b, 0);
    rc = vl_buf_append(&b, s->endpoint, strlen(s->endpoint), NULL);
    if (rc == VL_OK)
        rc = vl_buf_append(&b, "/", 1, NULL);
    if (rc == VL_OK)
        rc = encode_into(&b, s->bucket, 0, NULL);
    if (rc == VL_OK && q->key) {
        rc = vl_buf_append(&b, "/", 1, NULL);
        if (rc == VL_OK)
            rc = encode_into(&b, q->key, 1, NULL);
    }
    if (rc == VL_OK && q->query)
        rc = vl_buf_printf(&b, NULL, "?%s", q->query);
    if (rc != VL_OK) {
        vl_buf_release(&b);
        return NULL;
    }
    return vl_buf_detach(&b);
}

/* "name: value", or "name:" (curl then drops its own such header). */
static struct curl_slist *add_header(struct curl_slist *l, int *failed,
                                     const char *name, const char *value)
{
    char line[2048];
    struct curl_slist *n;

    if (*failed)
        return l;
    if (value)
        snprintf(line, sizeof line, "%s: %s", name, value);
    else
        snprintf(line, sizeof line, "%s:", name);
    n = curl_slist_append(l, line);
    if (!n) {
        *failed = 1;
        return l;
    }
    return n;
}

/* One attempt's options; every request starts from a reset handle. */
static CURLcode setup(vl_s3 *s, CURL *h, struct xfer *x, const char *url,
                      struct curl_slist *headers, char *errbuf)
{
    s3_req *q = x->q;
    CURLcode cc = CURLE_OK;

    curl_easy_reset(h);
#define SET(opt, val)                                                      \
    do {                                                                   \
        if (cc == CURLE_OK)                                                \
            cc = curl_easy_setopt(h, opt, val);                            \
    } while (0)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_SHARE, s->share);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_AWS_SIGV4, s->sigv4);
    SET(CURLOPT_USERNAME, s->access_key);
    SET(CURLOPT_PASSWORD, s->secret_key);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
    SET(CURLOPT_CONNECTTIMEOUT, s->timeout);
    /* "no progress for timeout seconds" rather than a total time, which
     * would fail large objects on slow links */
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SET(CURLOPT_LOW_SPEED_TIME, s->timeout);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_BUFFERSIZE, 512L * 1024);
    if (strcmp(q->method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (q->has_body) {
        SET(CURLOPT_UPLOAD, 1L);
        SET(CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
        SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->len);
        SET(CURLOPT_READFUNCTION, on_read);
        SET(CURLOPT_READDATA, x);
        SET(CURLOPT_SEEKFUNCTION, on_seek);
        SET(CURLOPT_SEEKDATA, x);
        if (strcmp(q->method, "PUT") != 0)
            SET(CURLOPT_CUSTOMREQUEST, q->method);
    } else if (strcmp(q->method, "GET") == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else {
        SET(CURLOPT_CUSTOMREQUEST, q->method);
    }
#undef SET
    return cc;
}

static int request(vl_s3 *s, s3_req *q, vl_error *err)
{
    struct xfer x;
    struct curl_slist *headers = NULL;
    char *url = NULL;
    char errbuf[CURL_ERROR_SIZE];
    CURL *h = NULL;
    CURLcode cc = CURLE_OK;
    size_t sink_start = q->sink ? q->sink->len : 0;
    int rc = VL_OK, failed = 0, attempt;

    memset(&x, 0, sizeof x);
    x.q = q;
    vl_buf_init(&x.errbody, 0);
    url = request_url(s, q);
    if (!url) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* curl 7.88 neither adds nor computes the payload hash: it signs
     * this header's value */
    headers = add_header(headers, &failed, "x-amz-content-sha256",
                         q->has_body ? q->sha256 : empty_sha256);
    if (q->has_body)
        headers = add_header(headers, &failed, "Content-MD5",
                             q->md5_b64);
    /* No "Expect:" to turn 100-continue off: curl 7.88 would sign that
     * empty header and the server never sees it.  The round trip it costs
     * spares sending a large body to an answer of 403. */
    if (q->range)
        headers = add_header(headers, &failed, "Range", q->range);
    if (q->if_match && *q->if_match)
        headers = add_header(headers, &failed, "If-Match", q->if_match);
    if (q->copy_source)
        headers = add_header(headers, &failed, "x-amz-copy-source", q->copy_source);
    if (s->session_token)
        headers = add_header(headers, &failed, "x-amz-security-token",
                             s->session_token);
    if (failed) {
        rc = vl_error_oom(err);
        goto done;
    }
    h = handle_get(s);
    if (!h) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (attempt = 1;; attempt++) {
        int again;

        x.h = h;
        x.pos = 0;   /* a body is sent again from its start */
        x.status = 0;
        x.read_errno = 0;
        x.sink_rc = VL_OK;
        vl_buf_reset(&x.errbody);
        if (q->sink) {
            q->sink->len = sink_start;
            if (q->sink->data)
                q->sink->data[sink_start] = '\0';
        }
        q->status = 0;
        q->code[0] = q->message[0] = '\0';
        q->etag[0] = q->content_range[0] = '\0';
        q->content_length = -1;
        errbuf[0] = '\0';
        cc = setup(s, h, &x, url, headers, errbuf);
        if (cc == CURLE_OK)
            cc = curl_easy_perform(h);
        if (x.sink_rc != VL_OK) {
            /* the answer did not fit or memory ran out: not the server's */
            if (err)
                *err = x.sink_err;
            rc = x.sink_rc;
            goto done;
        }
        if (x.read_errno) {
            errno = x.read_errno;
            rc = vl_error_sys(err, "s3://%s/%.*s: %s: cannot read %s",
                              s->bucket, KEY_SHOWN, q->key ? q->key : "",
                              q->what, q->path ? q->path : "the body");
            goto done;
        }
        if (cc == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
            curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                              &q->content_length);
            if ((q->status >= 200 && q->status < 300) ||
                (q->ok_404 && q->status == 404) ||
                (q->ok_416 && q->status == 416))
                break;
            parse_error_body(x.errbody.data, x.errbody.len, q->code,
                             sizeof q->code, q->message, sizeof q->message);
            again = transient_status(q->status, q->code);
        } else {
            again = transient_curl(cc);
        }
        if (!again || attempt > s->max_retries) {
            rc = request_error(s, q, cc,
                               *errbuf ? errbuf : curl_easy_strerror(cc),
                               attempt, err);
            goto done;
        }
        sleep_seconds(backoff(s, attempt));
    }
done:
    /* the handle points at errbuf, headers and x: none outlive this call
     * (its connections stay) */
    if (h)
        curl_easy_reset(h);
    handle_put(s, h);
    curl_slist_free_all(headers);
    vl_buf_release(&x.errbody);
    free(url);
    return rc;
}

/* ---- hashing bodies ----------------------------------------------------- */

static int hash_mem(s3_req *q, const void *data, size_t len, vl_error *err)
{
    char md5[VL_DIGEST_HEX_MAX];

    if (vl_digest_buffer(VL_SHA256, data, len, q->sha256) != 0 ||
        vl_digest_buffer(VL_MD5, data, len, md5) != 0)
        return vl_error_oom(err);
    hex_to_b64(md5, q->md5_b64, sizeof q->md5_b64);
    return VL_OK;
}

/* SHA-256 and MD5 of len bytes of fd at off, read once. */
static int hash_fd(s3_req *q, vl_error *err)
{
    vl_digest_ctx *ctx = vl_digest_new(VL_DIGEST_BIT(VL_SHA256) |
                                       VL_DIGEST_BIT(VL_MD5));
    vl_digest_result res;
    char *buf = NULL;
    uint64_t done_bytes = 0;
    int rc = VL_OK;

    if (!ctx || !(buf = malloc(VL_IO_BUFSIZE))) {
        rc = vl_error_oom(err);
        goto done;
    }
    while (done_bytes < q->len) {
        size_t want = VL_IO_BUFSIZE;
        ssize_t n;

        if (want > q->len - done_bytes)
            want = (size_t)(q->len - done_bytes);
        do
            n = pread(q->fd, buf, want, (off_t)(q->off + done_bytes));
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            if (n == 0)
                errno = EIO;   /* shorter than its size said */
            rc = vl_error_sys(err, "cannot read %s", q->path);
            goto done;
        }
        vl_digest_update(ctx, buf, (size_t)n);
        done_bytes += (uint64_t)n;
    }
    rc = vl_digest_final(ctx, &res, err);
    if (rc != VL_OK)
        goto done;
    snprintf(q->sha256, sizeof q->sha256, "%s", res.hex[VL_SHA256]);
    hex_to_b64(res.hex[VL_MD5], q->md5_b64, sizeof q->md5_b64);
done:
    free(buf);
    vl_digest_free(ctx);
    return rc;
}

/* ---- open / close ------------------------------------------------------- */

int vl_s3_open(const vl_s3_config *c, const char *bucket, vl_s3 **out,
               vl_error *err)
{
    vl_s3 *s = NULL;
    const char *region = c->region && *c->region ? c->region : "us-east-1";
    int rc = VL_OK, i;
    size_t n;

    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return vl_error_set(err, VL_ESYS, "cannot set up libcurl: %s",
                            curl_easy_strerror(global_rc));
    if (!c->endpoint || !*c->endpoint || !bucket || !*bucket ||
        !c->access_key || !c->secret_key)
        return vl_error_set(err, VL_EINPUT, "S3: an endpoint, a bucket and "
                            "credentials are needed");
    s = calloc(1, sizeof *s);
    if (!s)
        return vl_error_oom(err);
    pthread_mutex_init(&s->lock, NULL);
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&s->share_lock[i], NULL);
    s->tls_verify = c->tls_verify != 0;
    /* 0 means the default; a negative count asks for no retries */
    s->max_retries = c->max_retries > 0 ? c->max_retries : c->max_retries < 0 ? 0 : 5;
    s->timeout = c->timeout_seconds > 0 ? c->timeout_seconds : 60;
    s->parallel = c->parallel > 0 ? c->parallel : 4;
    s->backoff_first = c->backoff_first_seconds > 0 ? c->backoff_first_seconds
                                                    : BACKOFF_FIRST;
    s->endpoint = vl_strdup(c->endpoint);
    s->bucket = vl_strdup(bucket);
    s->access_key = vl_strdup(c->access_key);
    s->secret_key = vl_strdup(c->secret_key);
    s->sigv4 = vl_asprintf("aws:amz:%s:s3", region);
    if (c->session_token && *c->session_token)
        s->session_token = vl_strdup(c->session_token);
    s->idle_cap = (size_t)s->parallel + 2;
    s->idle = calloc(s->idle_cap, sizeof *s->idle);
    if (!s->endpoint || !s->bucket || !s->access_key || !s->secret_key ||
        !s->sigv4 || (c->session_token && *c->session_token &&
                      !s->session_token) || !s->idle) {
        rc = vl_error_oom(err);
        goto done;
    }
    n = strlen(s->endpoint);
    while (n > 0 && s->endpoint[n - 1] == '/')
        s->endpoint[--n] = '\0';
    s->share = curl_share_init();
    if (!s->share ||
        curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock) ||
        curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
        curl_share_setopt(s->share, CURLSHOPT_USERDATA, s) ||
        curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
        curl_share_setopt(s->share, CURLSHOPT_SHARE,
                          CURL_LOCK_DATA_SSL_SESSION)) {
        rc = vl_error_oom(err);
        goto done;
    }
#ifdef VELLUM_TEST_HOOKS
    {
        /* lets the tests follow continuation without 1000s of keys */
        const char *mk = getenv("VELLUM_S3_MAX_KEYS");
        if (mk && *mk)
            s->max_keys = strtol(mk, NULL, 10);
    }
#endif
    *out = s;
    s = NULL;
done:
    vl_s3_close(s);
    return rc;
}

void vl_s3_close(vl_s3 *s)
{
    size_t i;
    int k;

    if (!s)
        return;
    for (i = 0; i < s->nidle; i++)
        curl_easy_cleanup(s->idle[i]);
    if (s->share)
        curl_share_cleanup(s->share);
    free(s->idle);
    free(s->endpoint);
    free(s->bucket);
    free(s->access_key);
    if (s->secret_key) {
        memset(s->secret_key, 0, strlen(s->secret_key));
        free(s->secret_key);
    }
    free(s->session_token);
    free(s->sigv4);
    pthread_mutex_destroy(&s->lock);
    for (k = 0; k < CURL_LOCK_DATA_LAST; k++)
        pthread_mutex_destroy(&s->share_lock[k]);
    free(s);
}

const char *vl_s3_bucket(const vl_s3 *s) { return s->bucket; }

/* ---- buckets ------------------------------------------------------------ */

int vl_s3_check_bucket(vl_s3 *s, vl_error *err)
{
    s3_req q;

    memset(&q, 0, sizeof q);
    q.what = "check bucket";
    q.method = "HEAD";
    return request(s, &q, err);
}

int vl_s3_create_bucket(vl_s3 *s, vl_error *err)
{
    s3_req q;
    vl_error e = {0};
    int rc;

    memset(&q, 0, sizeof q);
    q.what = "create bucket";
    q.method = "PUT";
    q.has_body = 1;
    q.mem = "";
    rc = hash_mem(&q, "", 0, err);
    if (rc == VL_OK)
        rc = request(s, &q, &e);
    if (rc != VL_OK && strcmp(q.code, "BucketAlreadyOwnedByYou") == 0)
        rc = VL_OK;
    if (rc != VL_OK && err && e.status != VL_OK)
        *err = e;
    return rc;
}

/* ---- uploads ------------------------------------------------------------ */

int vl_s3_put_mem(vl_s3 *s, const char *key, const void *data, size_t len,
                  vl_error *err)
{
    s3_req q;
    int rc;

    memset(&q, 0, sizeof q);
    q.what = "PUT";
    q.method = "PUT";
    q.key = key;
    q.has_body = 1;
    q.mem = len ? data : "";
    q.len = len;
    rc = hash_mem(&q, q.mem, len, err);
    if (rc == VL_OK)
        rc = request(s, &q, err);
    return rc;
}

int vl_s3_copy(vl_s3 *s, const char *from_key, const char *to_key, vl_error *err)
{
    s3_req q;
    vl_buf src, answer;
    int rc;

    memset(&q, 0, sizeof q);
    vl_buf_init(&src, 0);
    vl_buf_init(&answer, 64 * 1024);
    rc = vl_buf_append(&src, "/", 1, err);
    if (rc == VL_OK)
        rc = encode_into(&src, s->bucket, 0, err);
    if (rc == VL_OK)
        rc = vl_buf_append(&src, "/", 1, err);
    if (rc == VL_OK)
        rc = encode_into(&src, from_key, 1, err);
    if (rc != VL_OK)
        goto done;
    q.what = "copy";
    q.method = "PUT";
    q.key = to_key;
    q.copy_source = src.data;
    q.has_body = 1;   /* an empty one, with its length, as a PUT has */
    q.mem = "";
    q.len = 0;
    q.sink = &answer;
    if ((rc = hash_mem(&q, q.mem, 0, err)) == VL_OK)
        rc = request(s, &q, err);
    /* A copy can fail after its 200 has been sent: the error is then in
     * the body. */
    if (rc == VL_OK && (!answer.data || !strstr(answer.data, "CopyObjectResult")))
        rc = vl_error_set(err, VL_ESYS, "s3://%s/%.*s: copy from %s failed%s%.200s",
                          s->bucket, KEY_SHOWN, to_key, from_key,
                          answer.data ? ": " : "", answer.data ? answer.data : "");
done:
    vl_buf_release(&src);
    vl_buf_release(&answer);
    return rc;
}

static void abort_upload(vl_s3 *s, const char *key, const char *query)
{
    s3_req q;
    vl_error ignored = {0};

    /* best effort: the caller reports the failure that led here */
    memset(&q, 0, sizeof q);
    q.what = "abort multipart upload";
    q.method = "DELETE";
    q.key = key;
    q.query = query;
    q.ok_404 = 1;
    request(s, &q, &ignored);
}

struct parts {
    vl_s3 *s;
    const char *key, *path;
    int fd;
    uint64_t size, nparts;
    const char *id_enc;    /* the UploadId, encoded for the query */
    char (*etags)[128];
};

/* An ETag goes back in the Complete request's XML: hex and quotes only. */
static int etag_ok(const char *e)
{
    if (!*e)
        return 0;
    for (; *e; e++)
        if (!strchr("0123456789abcdefABCDEF\"-", *e))
            return 0;
    return 1;
}

static int put_part(void *ctx, size_t index, int worker, vl_error *err)
{
    struct parts *pa = ctx;
    s3_req q;
    char what[64];
    char *query = NULL;
    int rc = VL_OK;

    (void)worker;
    query = vl_asprintf("partNumber=%zu&uploadId=%s", index + 1,
                        pa->id_enc);
    if (!query) {
        rc = vl_error_oom(err);
        goto done;
    }
    snprintf(what, sizeof what, "upload part %zu of %llu", index + 1,
             (unsigned long long)pa->nparts);
    memset(&q, 0, sizeof q);
    q.what = what;
    q.method = "PUT";
    q.key = pa->key;
    q.query = query;
    q.has_body = 1;
    q.fd = pa->fd;
    q.path = pa->path;
    q.off = (uint64_t)index * PART_SIZE;
    q.len = pa->size - q.off < PART_SIZE ? pa->size - q.off : PART_SIZE;
    rc = hash_fd(&q, err);
    if (rc == VL_OK)
        rc = request(pa->s, &q, err);
    if (rc != VL_OK)
        goto done;
    if (!etag_ok(q.etag)) {
        rc = vl_error_set(err, VL_ESYS, "s3://%s/%.*s: %s: no usable ETag "
                          "in the answer", pa->s->bucket, KEY_SHOWN, pa->key,
                          what);
        goto done;
    }
    snprintf(pa->etags[index], sizeof pa->etags[index], "%s", q.etag);
done:
    free(query);
    return rc;
}

static int multipart(vl_s3 *s, const char *key, const char *path, int fd,
                     uint64_t size, int threads, vl_error *err)
{
    struct parts pa;
    s3_req q;
    vl_buf xml, body;
    xmlDocPtr d = NULL;
    xmlNode *root;
    char *upload_id = NULL, *id_enc = NULL, *abort_query = NULL;
    char (*etags)[128] = NULL;
    uint64_t nparts = (size + PART_SIZE - 1) / PART_SIZE, i;
    unsigned long failures;
    int rc = VL_OK, attempt;

    vl_buf_init(&xml, XML_MAX);
    vl_buf_init(&body, 0);
    etags = calloc((size_t)nparts, sizeof *etags);
    if (!etags) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* "uploads=", not "uploads": curl 7.88 signs a bare name wrongly */
    memset(&q, 0, sizeof q);
    q.what = "start multipart upload";
    q.method = "POST";
    q.key = key;
    q.query = "uploads=";
    q.has_body = 1;
    q.mem = "";
    q.sink = &xml;
    rc = hash_mem(&q, "", 0, err);
    if (rc == VL_OK)
        rc = request(s, &q, err);
    if (rc != VL_OK)
        goto done;
    failures = vl_alloc_failures();
    d = xml_parse(xml.data, xml.len);
    if (vl_alloc_failures() != failures) {
        rc = vl_error_oom(err);
        goto done;
    }
    root = d ? xmlDocGetRootElement(d) : NULL;
    if (node_is(root, "InitiateMultipartUploadResult")) {
        upload_id = child_text(root, "UploadId");
        if (!upload_id) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    if (!upload_id || !*upload_id) {
        rc = vl_error_set(err, VL_ESYS, "s3://%s/%.*s: start multipart "
                          "upload: no UploadId in the answer", s->bucket,
                          KEY_SHOWN, key);
        goto done;
    }
    id_enc = encode(upload_id, 0);
    abort_query = id_enc ? vl_asprintf("uploadId=%s", id_enc) : NULL;
    if (!abort_query) {
        rc = vl_error_oom(err);
        goto done;
    }
    pa.s = s;
    pa.key = key;
    pa.path = path;
    pa.fd = fd;
    pa.size = size;
    pa.nparts = nparts;
    pa.id_enc = id_enc;
    pa.etags = etags;
    /* parts go in parallel: one hashes while another is on the wire */
    rc = vl_pool_run((size_t)nparts,
                     (uint64_t)threads < nparts ? threads : (int)nparts,
                     put_part, &pa, err);
    if (rc != VL_OK)
        goto done;
    rc = vl_buf_printf(&body, err, "<CompleteMultipartUpload>");
    for (i = 0; i < nparts && rc == VL_OK; i++)
        rc = vl_buf_printf(&body, err, "<Part><PartNumber>%llu</PartNumber>"
                           "<ETag>%s</ETag></Part>",
                           (unsigned long long)(i + 1), etags[i]);
    if (rc == VL_OK)
        rc = vl_buf_printf(&body, err, "</CompleteMultipartUpload>");
    if (rc != VL_OK)
        goto done;
    xmlFreeDoc(d);
    d = NULL;
    for (attempt = 1;; attempt++) {
        vl_buf_reset(&xml);
        memset(&q, 0, sizeof q);
        q.what = "complete multipart upload";
        q.method = "POST";
        q.key = key;
        q.query = abort_query;
        q.has_body = 1;
        q.mem = body.data;
        q.len = body.len;
        q.sink = &xml;
        rc = hash_mem(&q, body.data, body.len, err);
        if (rc == VL_OK)
            rc = request(s, &q, err);
        if (rc != VL_OK)
            goto done;
        /* a Complete can fail with a 200 whose body is an <Error> (the
         * server answers early and keeps the connection alive) */
        failures = vl_alloc_failures();
        d = xml_parse(xml.data, xml.len);
        if (vl_alloc_failures() != failures) {
            rc = vl_error_oom(err);
            goto done;
        }
        root = d ? xmlDocGetRootElement(d) : NULL;
        if (node_is(root, "CompleteMultipartUploadResult"))
            break;
        if (node_is(root, "Error"))
            parse_error_body(xml.data, xml.len, q.code, sizeof q.code,
                             q.message, sizeof q.message);
        xmlFreeDoc(d);
        d = NULL;
        if (!transient_code(q.code) || attempt > s->max_retries) {
            char tries[48] = "";
            if (attempt > 1)
                snprintf(tries, sizeof tries, " (after %d attempts)",
                         attempt);
            rc = vl_error_set(err, VL_ESYS, "s3://%s/%.*s: complete "
                              "multipart upload: HTTP %ld %s%s%s%s",
                              s->bucket, KEY_SHOWN, key, q.status,
                              *q.code ? q.code : "(no result)",
                              *q.message ? ": " : "", q.message, tries);
            goto done;
        }
        sleep_seconds(backoff(s, attempt));
    }
done:
    if (rc != VL_OK && abort_query)
        abort_upload(s, key, abort_query);
    xmlFreeDoc(d);
    vl_buf_release(&xml);
    vl_buf_release(&body);
    free(etags);
    free(upload_id);
    free(id_enc);
    free(abort_query);
    return rc;
}

/* part_threads: parts of a multipart upload in flight at once. */
static int put_file(vl_s3 *s, const char *key, const char *local_path,
                    int part_threads, vl_error *err)
{
    s3_req q;
    struct stat st;
    int fd, rc = VL_OK;

    fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vl_error_sys(err, "cannot open %s", local_path);
    if (fstat(fd, &st) != 0) {
        rc = vl_error_sys(err, "cannot stat %s", local_path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: not a regular file",
                          local_path);
        goto done;
    }
    if ((uint64_t)st.st_size > MULTIPART_ABOVE) {
        rc = multipart(s, key, local_path, fd, (uint64_t)st.st_size,
                       part_threads, err);
        goto done;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    memset(&q, 0, sizeof q);
    q.what = "PUT";
    q.method = "PUT";
    q.key = key;
    q.has_body = 1;
    q.fd = fd;
    q.path = local_path;
    q.len = (uint64_t)st.st_size;
    rc = hash_fd(&q, err);
    if (rc == VL_OK)
        rc = request(s, &q, err);
done:
    close(fd);
    return rc;
}

int vl_s3_put_file(vl_s3 *s, const char *key, const char *local_path,
                   vl_error *err)
{
    return put_file(s, key, local_path, s->parallel, err);
}

struct put_many {
    vl_s3 *s;
    const char *const *keys;
    const char *const *paths;
};

static int put_one(void *ctx, size_t index, int worker, vl_error *err)
{
    struct put_many *pm = ctx;
    (void)worker;
    /* the files are what runs in parallel here: parts one at a time */
    return put_file(pm->s, pm->keys[index], pm->paths[index], 1, err);
}

int vl_s3_put_files(vl_s3 *s, size_t n, const char *const *keys,
                    const char *const *local_paths, vl_error *err)
{
    struct put_many pm = {s, keys, local_paths};

    if (n == 0)
        return VL_OK;
    /* one thread per upload in flight, each with its own easy handle
     * from the idle list (so connections are reused across files) */
    return vl_pool_run(n, (int)((size_t)s->parallel < n ? (size_t)s->parallel
                                                         : n),
                       put_one, &pm, err);
}

/* ---- head, delete ------------------------------------------------------- */

int vl_s3_head(vl_s3 *s, const char *key, int *exists, uint64_t *size,
               vl_error *err)
{
    s3_req q;
    int rc;

    memset(&q, 0, sizeof q);
    q.what = "HEAD";
    q.method = "HEAD";
    q.key = key;
    q.ok_404 = 1;
    rc = request(s, &q, err);
    if (rc != VL_OK)
        return rc;
    if (exists)
        *exists = q.status != 404;
    if (size)
        *size = q.status != 404 && q.content_length > 0
                    ? (uint64_t)q.content_length : 0;
    return VL_OK;
}

int vl_s3_delete(vl_s3 *s, const char *key, vl_error *err)
{
    s3_req q;

    memset(&q, 0, sizeof q);
    q.what = "DELETE";
    q.method = "DELETE";
    q.key = key;
    q.ok_404 = 1;
    return request(s, &q, err);
}

/* ---- listing ------------------------------------------------------------ */

struct entry {
    char *name;      /* the whole key or common prefix (with its '/') */
    uint64_t size;
    int is_prefix;
};

static void entries_free(struct entry *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name,
                  ((const struct entry *)b)->name);
}

/* One page's keys and prefixes in byte order, and its continuation. */
static int parse_page(vl_s3 *s, const vl_buf *xml, struct entry **out,
                      size_t *count, char **next, vl_error *err)
{
    unsigned long failures = vl_alloc_failures();
    xmlDocPtr d = xml_parse(xml->data, xml->len);
    xmlNode *root = d ? xmlDocGetRootElement(d) : NULL, *n;
    struct entry *v = NULL;
    size_t nv = 0, cap = 0;
    char *trunc = NULL;
    int rc = VL_OK;

    *out = NULL;
    *count = 0;
    *next = NULL;
    /* libxml2 reports a shortage of memory as a parse error, and may go on
     * past one with a node missing */
    if (vl_alloc_failures() != failures) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!node_is(root, "ListBucketResult")) {
        rc = vl_error_set(err, VL_ESYS, "s3://%s/: list: the answer is not "
                          "a ListBucketResult", s->bucket);
        goto done;
    }
    for (n = root->children; n; n = n->next) {
        int is_prefix = node_is(n, "CommonPrefixes");
        char *name, *size_s = NULL;

        if (!is_prefix && !node_is(n, "Contents"))
            continue;
        rc = VL_GROW(v, cap, nv + 1, err);
        if (rc != VL_OK)
            goto done;
        name = child_text(n, is_prefix ? "Prefix" : "Key");
        if (!is_prefix)
            size_s = child_text(n, "Size");
        if (!name || (!is_prefix && !size_s)) {
            free(name);
            free(size_s);
            rc = vl_error_oom(err);
            goto done;
        }
        v[nv].name = name;
        v[nv].is_prefix = is_prefix;
        v[nv].size = size_s ? strtoull(size_s, NULL, 10) : 0;
        nv++;
        free(size_s);
    }
    /* keys and common prefixes come as two sorted lists: merge them */
    if (nv > 1)
        qsort(v, nv, sizeof *v, cmp_entry);
    trunc = child_text(root, "IsTruncated");
    if (!trunc) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (strcmp(trunc, "true") == 0) {
        *next = child_text(root, "NextContinuationToken");
        if (!*next) {
            rc = vl_error_oom(err);
            goto done;
        }
        if (!**next) {
            rc = vl_error_set(err, VL_ESYS, "s3://%s/: list: truncated "
                              "without a continuation token", s->bucket);
            goto done;
        }
    }
    *out = v;
    *count = nv;
    v = NULL;
    nv = 0;
done:
    if (rc != VL_OK) {
        free(*next);
        *next = NULL;
    }
    entries_free(v, nv);
    free(trunc);
    xmlFreeDoc(d);
    return rc;
}

int vl_s3_list(vl_s3 *s, const char *prefix, int recursive, vl_s3_list_fn fn,
               void *arg, vl_error *err)
{
    vl_buf xml, query;
    char *pfx = NULL, *token = NULL, *next = NULL;
    struct entry *v = NULL;
    size_t nv = 0, plen, i;
    int rc = VL_OK;

    vl_buf_init(&xml, XML_MAX);
    vl_buf_init(&query, 0);
    /* "a/b" lists what is under "a/b/" */
    plen = prefix ? strlen(prefix) : 0;
    pfx = plen && prefix[plen - 1] != '/' ? vl_asprintf("%s/", prefix)
                                          : vl_strdup(plen ? prefix : "");
    if (!pfx) {
        rc = vl_error_oom(err);
        goto done;
    }
    plen = strlen(pfx);
    do {
        s3_req q;

        /* the parameters in canonical (sorted) order, as SigV4 signs
         * them */
        vl_buf_reset(&query);
        rc = VL_OK;
        if (token) {
            rc = vl_buf_printf(&query, err, "continuation-token=");
            if (rc == VL_OK)
                rc = encode_into(&query, token, 0, err);
            if (rc == VL_OK)
                rc = vl_buf_printf(&query, err, "&");
        }
        if (rc == VL_OK && !recursive)
            rc = vl_buf_printf(&query, err, "delimiter=%%2F&");
        if (rc == VL_OK)
            rc = vl_buf_printf(&query, err, "list-type=2");
        if (rc == VL_OK && s->max_keys > 0)
            rc = vl_buf_printf(&query, err, "&max-keys=%ld", s->max_keys);
        if (rc == VL_OK && plen) {
            rc = vl_buf_printf(&query, err, "&prefix=");
            if (rc == VL_OK)
                rc = encode_into(&query, pfx, 0, err);
        }
        if (rc != VL_OK)
            goto done;
        memset(&q, 0, sizeof q);
        q.what = "list";
        q.method = "GET";
        q.key = NULL;
        q.query = query.data;
        q.sink = &xml;
        vl_buf_reset(&xml);
        rc = request(s, &q, err);
        if (rc != VL_OK) {
            if (err && q.status != 404) {
                int saved = err->sys_errno;   /* ENOMEM stays ENOMEM */
                vl_error_set(err, err->status, "%s (listing %s)", err->msg,
                             plen ? pfx : "the bucket");
                err->sys_errno = saved;
            }
            goto done;
        }
        rc = parse_page(s, &xml, &v, &nv, &next, err);
        if (rc != VL_OK)
            goto done;
        for (i = 0; i < nv; i++) {
            char *name = v[i].name;
            size_t len = strlen(name);

            if (strncmp(name, pfx, plen) != 0 || len == plen)
                continue;
            if (v[i].is_prefix && name[len - 1] == '/')
                name[len - 1] = '\0';
            rc = fn(arg, name + plen, v[i].is_prefix, v[i].size, err);
            if (rc != 0)
                goto done;
        }
        entries_free(v, nv);
        v = NULL;
        nv = 0;
        free(token);
        token = next;
        next = NULL;
    } while (token);
done:
    entries_free(v, nv);
    vl_buf_release(&xml);
    vl_buf_release(&query);
    free(pfx);
    free(token);
    free(next);
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

/* "bytes A-B/TOTAL" -> A and TOTAL; 0 when it is not that. */
static int parse_content_range(const char *cr, uint64_t *start,
                               uint64_t *total)
{
    unsigned long long a, b, t;

    if (sscanf(cr, "bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
        *start = a;
        *total = t;
        return 1;
    }
    if (sscanf(cr, "bytes */%llu", &t) == 1) {
        *start = 0;
        *total = t;
        return 1;
    }
    return 0;
}

/* Fetch the range at r->chunk_start into r->chunk.  The first fetch
 * (etag still empty) also learns the size. */
static int fetch(vl_s3_reader *r, vl_error *err)
{
    s3_req q;
    char range[64];
    uint64_t start = 0, total = 0;
    int first = r->etag[0] == '\0', rc;

    snprintf(range, sizeof range, "bytes=%llu-%llu",
             (unsigned long long)r->chunk_start,
             (unsigned long long)(r->chunk_start + READ_CHUNK - 1));
    vl_buf_reset(&r->chunk);
    r->chunk_off = 0;
    memset(&q, 0, sizeof q);
    q.what = "GET";
    q.method = "GET";
    q.key = r->key;
    q.range = range;
    q.if_match = first ? NULL : r->etag;
    q.sink = &r->chunk;
    q.ok_416 = first;
    rc = request(r->s, &q, err);
    if (rc == VL_EINPUT)   /* the sink is full: more than a range came */
        return vl_error_set(err, VL_ESYS, "s3://%s/%.*s: GET: the server "
                            "sent more than the range asked for",
                            r->s->bucket, KEY_SHOWN, r->key);
    if (rc != VL_OK) {
        if (err && q.status == 412)
            vl_error_set(err, VL_ESYS, "s3://%s/%.*s: GET: the object "
                         "changed while being read", r->s->bucket, KEY_SHOWN,
                         r->key);
        return rc;
    }
    if (q.status == 416) {
        /* an empty object has no byte 0 */
        r->size = 0;
        snprintf(r->etag, sizeof r->etag, "%s", *q.etag ? q.etag : "-");
        return VL_OK;
    }
    if (q.status == 200) {
        /* the server sent the whole object */
        if (r->chunk_start != 0)
            return vl_error_set(err, VL_ESYS, "s3://%s/%.*s: GET: the "
                                "server ignored the range", r->s->bucket,
                                KEY_SHOWN, r->key);
        start = 0;
        total = r->chunk.len;
    } else if (!parse_content_range(q.content_range, &start, &total) ||
               start != r->chunk_start) {
        return vl_error_set(err, VL_ESYS, "s3://%s/%.*s: GET: unexpected "
                            "Content-Range \"%.60s\"", r->s->bucket,
                            KEY_SHOWN, r->key, q.content_range);
    }
    if (first) {
        r->size = total;
        snprintf(r->etag, sizeof r->etag, "%s", *q.etag ? q.etag : "-");
    } else if (total != r->size) {
        return vl_error_set(err, VL_ESYS, "s3://%s/%.*s: GET: the object "
                            "changed while being read", r->s->bucket,
                            KEY_SHOWN, r->key);
    }
    if (r->chunk.len == 0 && r->chunk_start < r->size)
        return vl_error_set(err, VL_ESYS, "s3://%s/%.*s: GET: empty answer "
                            "at byte %llu", r->s->bucket, KEY_SHOWN, r->key,
                            (unsigned long long)r->chunk_start);
    return VL_OK;
}

int vl_s3_reader_open(vl_s3 *s, const char *key, vl_s3_reader **out,
                      vl_error *err)
{
    vl_s3_reader *r = calloc(1, sizeof *r);
    int rc = VL_OK;

    *out = NULL;
    if (!r)
        return vl_error_oom(err);
    r->s = s;
    /* one range's room, allocated once (vl_buf would double it to 8 MiB
     * for the NUL): memory stays constant however large the object */
    vl_buf_init(&r->chunk, READ_CHUNK);
    r->chunk.data = malloc(READ_CHUNK + 1);
    r->chunk.cap = READ_CHUNK + 1;
    r->key = vl_strdup(key);
    if (!r->key || !r->chunk.data) {
        rc = vl_error_oom(err);
        goto done;
    }
    rc = fetch(r, err);
    if (rc != VL_OK)
        goto done;
    *out = r;
    r = NULL;
done:
    vl_s3_reader_close(r);
    return rc;
}

ssize_t vl_s3_reader_read(vl_s3_reader *r, void *buf, size_t cap,
                          vl_error *err)
{
    size_t n;

    if (r->chunk_off >= r->chunk.len) {
        uint64_t next = r->chunk_start + r->chunk.len;
        if (next >= r->size || cap == 0)
            return 0;
        r->chunk_start = next;
        if (fetch(r, err) != VL_OK)
            return -1;
    }
    n = r->chunk.len - r->chunk_off;
    if (n > cap)
        n = cap;
    memcpy(buf, r->chunk.data + r->chunk_off, n);
    r->chunk_off += n;
    return (ssize_t)n;
}

uint64_t vl_s3_reader_size(const vl_s3_reader *r) { return r->size; }

void vl_s3_reader_close(vl_s3_reader *r)
{
    if (!r)
        return;
    vl_buf_release(&r->chunk);
    free(r->key);
    free(r);
}

int vl_s3_get_mem(vl_s3 *s, const char *key, size_t max, vl_buf *out,
                  vl_error *err)
{
    s3_req q;
    vl_buf b;
    int rc;

    vl_buf_init(out, 0);
    vl_buf_init(&b, max);
    memset(&q, 0, sizeof q);
    q.what = "GET";
    q.method = "GET";
    q.key = key;
    q.sink = &b;
    rc = request(s, &q, err);
    if (rc == VL_EINPUT)
        rc = vl_error_set(err, VL_EINPUT, "s3://%s/%.*s: larger than %zu "
                          "bytes", s->bucket, KEY_SHOWN, key, max);
    if (rc != VL_OK) {
        vl_buf_release(&b);
        return rc;
    }
    if (!b.data && vl_buf_append(&b, "", 0, err) != VL_OK) {
        vl_buf_release(&b);
        return VL_ESYS;
    }
    *out = b;
    return VL_OK;
}

/* ---- URLs --------------------------------------------------------------- */

int vl_s3_parse_url(const char *url, char **bucket, char **prefix,
                    vl_error *err)
{
    const char *p, *slash, *end;
    char *b = NULL, *x = NULL;
    int rc = VL_OK;

    *bucket = NULL;
    *prefix = NULL;
    if (!url || strncmp(url, "s3://", 5) != 0)
        goto bad;
    p = url + 5;
    slash = strchr(p, '/');
    end = slash ? slash : p + strlen(p);
    if (end - p < 3 || end - p > 63)
        goto bad;
    for (const char *c = p; c < end; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-' || *c == '_' ||
              (*c >= 'A' && *c <= 'Z')))
            goto bad;
    b = vl_strndup(p, (size_t)(end - p));
    if (!b) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* the prefix without slashes at its ends; no empty name inside */
    p = slash ? slash : end;
    while (*p == '/')
        p++;
    end = p + strlen(p);
    while (end > p && end[-1] == '/')
        end--;
    for (const char *c = p; c + 1 < end; c++)
        if (c[0] == '/' && c[1] == '/')
            goto bad;
    x = vl_strndup(p, (size_t)(end - p));
    if (!x) {
        rc = vl_error_oom(err);
        goto done;
    }
    *bucket = b;
    *prefix = x;
    b = x = NULL;
    goto done;
bad:
    rc = vl_error_set(err, VL_EINPUT, "not an S3 URL (s3://BUCKET/PREFIX): "
                      "%.300s", url ? url : "(none)");
done:
    free(b);
    free(x);
    return rc;
}
