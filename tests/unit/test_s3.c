/* The S3 client (storage/s3.c) against a real S3 server, and its retries
 * against a fake one that fails on purpose (tests/faults/s3-faulty.py).
 * The server comes from the environment: AWS_ENDPOINT_URL,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (tools/test-ceph
 * writes them); without AWS_ENDPOINT_URL the tests fail.  Each run makes
 * its own bucket with a random name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* A white-box test of storage/'s private s3_private.h. */
#define VL_STORAGE_INTERNAL
#include "s3_private.h"

#include "unit_files.h"

#define MIB (1024u * 1024u)

static vl_s3_config g_cfg;
static char g_bucket[64];

/* ---- helpers ---------------------------------------------------------------- */

static int server_env(void)
{
    const char *ep = getenv("AWS_ENDPOINT_URL");

    if (!ep || !*ep) {
        print_error("AWS_ENDPOINT_URL is not set: these tests need an S3 "
                    "server (tools/test-ceph start DIR, then source "
                    "DIR/env)\n");
        return -1;
    }
    memset(&g_cfg, 0, sizeof g_cfg);
    g_cfg.endpoint = ep;
    g_cfg.region = getenv("AWS_REGION");
    g_cfg.access_key = getenv("AWS_ACCESS_KEY_ID");
    g_cfg.secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    g_cfg.tls_verify = 1;
    g_cfg.timeout_seconds = 30;
    if (!g_cfg.access_key || !g_cfg.secret_key) {
        print_error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be "
                    "set with AWS_ENDPOINT_URL\n");
        return -1;
    }
    return 0;
}

static vl_s3 *open_s3(void)
{
    vl_s3 *s = NULL;
    vl_error err = {0};

    if (vl_s3_open(&g_cfg, g_bucket, &s, &err) != VL_OK)
        fail_msg("vl_s3_open: %s", err.msg);
    return s;
}

static int setup_bucket(void **state)
{
    vl_s3 *s;
    vl_error err = {0};
    char uuid[37];

    if (server_env() != 0)
        return -1;
    vl_uuid4(uuid);
    snprintf(g_bucket, sizeof g_bucket, "vl-test-%.8s%.4s", uuid, uuid + 9);
    s = open_s3();
    if (vl_s3_create_bucket(s, &err) != VL_OK) {
        print_error("create bucket %s: %s\n", g_bucket, err.msg);
        vl_s3_close(s);
        return -1;
    }
    /* creating it again is fine */
    if (vl_s3_create_bucket(s, &err) != VL_OK) {
        print_error("create bucket again %s: %s\n", g_bucket, err.msg);
        vl_s3_close(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int del_fn(void *arg, const char *name, int is_prefix, uint64_t size,
                  vl_error *err)
{
    (void)is_prefix;
    (void)size;
    return vl_s3_delete(arg, name, err);
}

static int teardown_bucket(void **state)
{
    vl_s3 *s = *state;
    vl_error err = {0};

    if (s && vl_s3_list(s, "", 1, del_fn, s, &err) != VL_OK)
        print_error("cleaning bucket %s: %s\n", g_bucket, err.msg);
    vl_s3_close(s);
    return 0;
}

/* A file of size bytes of a pattern that differs from offset to offset. */
static char *make_file(const char *dir, const char *name, size_t size,
                       unsigned seed)
{
    char *p = vl_path_join(dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *buf = malloc(MIB);
    size_t done = 0, i;
    uint32_t x = seed * 2654435761u + 1;

    assert_true(fd >= 0);
    assert_non_null(buf);
    while (done < size) {
        size_t n = size - done < MIB ? size - done : MIB;
        for (i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
        }
        assert_int_equal(vl_fs_write_all(fd, buf, n), 0);
        done += n;
    }
    close(fd);
    free(buf);
    return p;
}

/* Read key through a reader in odd-sized reads, compare with the file. */
static void check_reader(vl_s3 *s, const char *key, const char *path,
                         size_t read_size)
{
    vl_s3_reader *r = NULL;
    vl_error err = {0};
    char *got = malloc(read_size), *want = malloc(read_size);
    int fd = open(path, O_RDONLY);
    struct stat st;
    uint64_t total = 0;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    if (vl_s3_reader_open(s, key, &r, &err) != VL_OK)
        fail_msg("reader_open %s: %s", key, err.msg);
    assert_int_equal(vl_s3_reader_size(r), (uint64_t)st.st_size);
    for (;;) {
        ssize_t n = vl_s3_reader_read(r, got, read_size, &err);
        if (n < 0)
            fail_msg("reader_read %s: %s", key, err.msg);
        if (n == 0)
            break;
        assert_int_equal(pread(fd, want, (size_t)n, (off_t)total), n);
        if (memcmp(got, want, (size_t)n) != 0)
            fail_msg("%s differs in the %zd bytes at %llu", key, n,
                     (unsigned long long)total);
        total += (uint64_t)n;
    }
    assert_int_equal(total, (uint64_t)st.st_size);
    vl_s3_reader_close(r);
    close(fd);
    free(got);
    free(want);
}

/* ---- against the server ------------------------------------------------------- */

static void test_mem_round_trip(void **state)
{
    vl_s3 *s = *state;
    vl_error err = {0};
    vl_buf b;
    int exists = -1;
    uint64_t size = 0;

    assert_int_equal(vl_s3_put_mem(s, "mem/hello.txt", "hello, S3\n", 10,
                                   &err), VL_OK);
    assert_int_equal(vl_s3_get_mem(s, "mem/hello.txt", 100, &b, &err),
                     VL_OK);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "hello, S3\n", 10);
    vl_buf_release(&b);
    /* larger than max */
    assert_int_equal(vl_s3_get_mem(s, "mem/hello.txt", 5, &b, &err),
                     VL_EINPUT);
    assert_non_null(strstr(err.msg, "mem/hello.txt"));
    /* empty object */
    assert_int_equal(vl_s3_put_mem(s, "mem/empty", "", 0, &err), VL_OK);
    assert_int_equal(vl_s3_get_mem(s, "mem/empty", 100, &b, &err), VL_OK);
    assert_int_equal(b.len, 0);
    vl_buf_release(&b);
    vl_s3_reader *r = NULL;
    char c;
    assert_int_equal(vl_s3_reader_open(s, "mem/empty", &r, &err), VL_OK);
    assert_int_equal(vl_s3_reader_size(r), 0);
    assert_int_equal(vl_s3_reader_read(r, &c, 1, &err), 0);
    vl_s3_reader_close(r);
    /* head */
    assert_int_equal(vl_s3_head(s, "mem/hello.txt", &exists, &size, &err),
                     VL_OK);
    assert_int_equal(exists, 1);
    assert_int_equal(size, 10);
    assert_int_equal(vl_s3_head(s, "mem/missing", &exists, &size, &err),
                     VL_OK);
    assert_int_equal(exists, 0);
    /* a missing key: ENOENT, as open(2) */
    assert_int_equal(vl_s3_get_mem(s, "mem/missing", 100, &b, &err),
                     VL_ESYS);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_non_null(strstr(err.msg, "mem/missing"));
    memset(&err, 0, sizeof err);
    assert_int_equal(vl_s3_reader_open(s, "mem/missing", &r, &err), VL_ESYS);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_null(r);
    /* delete, and again */
    assert_int_equal(vl_s3_delete(s, "mem/hello.txt", &err), VL_OK);
    assert_int_equal(vl_s3_head(s, "mem/hello.txt", &exists, &size, &err),
                     VL_OK);
    assert_int_equal(exists, 0);
    assert_int_equal(vl_s3_delete(s, "mem/hello.txt", &err), VL_OK);
    assert_int_equal(vl_s3_delete(s, "mem/empty", &err), VL_OK);
}

static void test_file_and_reader(void **state)
{
    vl_s3 *s = *state;
    vl_error err = {0};
    char *dir = tmpdir();
    /* not a multiple of the reader's range, nor of the read size */
    char *p = make_file(dir, "f.bin", 9 * MIB + 12345, 1);
    int exists;
    uint64_t size;

    assert_int_equal(vl_s3_put_file(s, "file/f.bin", p, &err), VL_OK);
    assert_int_equal(vl_s3_head(s, "file/f.bin", &exists, &size, &err),
                     VL_OK);
    assert_int_equal(exists, 1);
    assert_int_equal(size, 9 * MIB + 12345);
    check_reader(s, "file/f.bin", p, 1000003);
    check_reader(s, "file/f.bin", p, 5 * MIB);
    /* a missing local file */
    assert_int_equal(vl_s3_put_file(s, "file/none", "/nonexistent/x", &err),
                     VL_ESYS);
    assert_int_equal(err.sys_errno, ENOENT);
    vl_fs_rmtree(dir, NULL);
    free(p);
    free(dir);
}

static void test_multipart(void **state)
{
    vl_s3 *s = *state;
    vl_error err = {0};
    char *dir = tmpdir();
    char *p = make_file(dir, "big.bin", 70 * MIB + 7, 2);
    int exists;
    uint64_t size;

    if (vl_s3_put_file(s, "big/big.bin", p, &err) != VL_OK)
        fail_msg("multipart put: %s", err.msg);
    assert_int_equal(vl_s3_head(s, "big/big.bin", &exists, &size, &err),
                     VL_OK);
    assert_int_equal(exists, 1);
    assert_int_equal(size, 70 * MIB + 7);
    check_reader(s, "big/big.bin", p, 3 * MIB + 1);
    assert_int_equal(vl_s3_delete(s, "big/big.bin", &err), VL_OK);
    vl_fs_rmtree(dir, NULL);
    free(p);
    free(dir);
}

static void test_put_files(void **state)
{
    vl_s3 *s = *state;
    vl_error err = {0};
    char *dir = tmpdir();
    char *paths[10], *keys[10];
    size_t i;

    for (i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%zu.bin", i);
        paths[i] = make_file(dir, name, 100000 * i + 1, (unsigned)i + 10);
        keys[i] = vl_asprintf("many/%s", name);
    }
    if (vl_s3_put_files(s, 10, (const char *const *)keys,
                        (const char *const *)paths, &err) != VL_OK)
        fail_msg("put_files: %s", err.msg);
    for (i = 0; i < 10; i++)
        check_reader(s, keys[i], paths[i], 65536);
    /* one missing file: the error names it */
    free(paths[3]);
    paths[3] = vl_strdup("/nonexistent/p3");
    assert_int_equal(vl_s3_put_files(s, 10, (const char *const *)keys,
                                     (const char *const *)paths, &err),
                     VL_ESYS);
    assert_non_null(strstr(err.msg, "/nonexistent/p3"));
    for (i = 0; i < 10; i++) {
        free(paths[i]);
        free(keys[i]);
    }
    vl_fs_rmtree(dir, NULL);
    free(dir);
}

static void test_odd_keys(void **state)
{
    vl_s3 *s = *state;
    vl_error err = {0};
    static const char *const keys[] = {
        "odd/a b/\xc3\xbc%+=&?#.txt",
        "odd/tilde~_-.x",
        "odd/\xe6\x97\xa5\xe6\x9c\xac/(1)!'*;:@,$.txt",
    };
    size_t i;
    vl_buf b;

    for (i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (vl_s3_put_mem(s, keys[i], keys[i], strlen(keys[i]), &err) !=
            VL_OK)
            fail_msg("put %s: %s", keys[i], err.msg);
        if (vl_s3_get_mem(s, keys[i], 1000, &b, &err) != VL_OK)
            fail_msg("get %s: %s", keys[i], err.msg);
        assert_string_equal(b.data, keys[i]);
        vl_buf_release(&b);
    }
}

struct seen {
    char names[64][128];
    int is_prefix[64];
    uint64_t sizes[64];
    size_t n;
};

static int seen_fn(void *arg, const char *name, int is_prefix, uint64_t size,
                   vl_error *err)
{
    struct seen *sn = arg;
    (void)err;
    assert_true(sn->n < 64);
    snprintf(sn->names[sn->n], sizeof sn->names[sn->n], "%s", name);
    sn->is_prefix[sn->n] = is_prefix;
    sn->sizes[sn->n] = size;
    sn->n++;
    return 0;
}

static int stop_fn(void *arg, const char *name, int is_prefix, uint64_t size,
                   vl_error *err)
{
    (void)arg;
    (void)name;
    (void)is_prefix;
    (void)size;
    return vl_error_set(err, 42, "stopped");
}

static void list_checks(vl_s3 *s)
{
    vl_error err = {0};
    struct seen sn;

    /* one level: files and folders in S3's byte order, a folder's name
     * with its '/' ("a.txt" < "a/") */
    memset(&sn, 0, sizeof sn);
    assert_int_equal(vl_s3_list(s, "ls", 0, seen_fn, &sn, &err), VL_OK);
    assert_int_equal(sn.n, 5);
    assert_string_equal(sn.names[0], "B");
    assert_int_equal(sn.is_prefix[0], 0);
    assert_string_equal(sn.names[1], "a.txt");
    assert_int_equal(sn.is_prefix[1], 0);
    assert_int_equal(sn.sizes[1], 3);
    assert_string_equal(sn.names[2], "a");
    assert_int_equal(sn.is_prefix[2], 1);
    assert_string_equal(sn.names[3], "b");
    assert_int_equal(sn.is_prefix[3], 1);
    assert_string_equal(sn.names[4], "\xc3\xa9");
    /* the same with a trailing slash, and a level down */
    memset(&sn, 0, sizeof sn);
    assert_int_equal(vl_s3_list(s, "ls/", 0, seen_fn, &sn, &err), VL_OK);
    assert_int_equal(sn.n, 5);
    memset(&sn, 0, sizeof sn);
    assert_int_equal(vl_s3_list(s, "ls/a", 0, seen_fn, &sn, &err), VL_OK);
    assert_int_equal(sn.n, 2);
    assert_string_equal(sn.names[0], "1");
    assert_string_equal(sn.names[1], "deep");
    assert_int_equal(sn.is_prefix[1], 1);
    /* recursive: every key, in byte order */
    memset(&sn, 0, sizeof sn);
    assert_int_equal(vl_s3_list(s, "ls", 1, seen_fn, &sn, &err), VL_OK);
    assert_int_equal(sn.n, 6);
    assert_string_equal(sn.names[0], "B");
    assert_string_equal(sn.names[1], "a.txt");
    assert_string_equal(sn.names[2], "a/1");
    assert_string_equal(sn.names[3], "a/deep/x");
    assert_string_equal(sn.names[4], "b/2");
    assert_string_equal(sn.names[5], "\xc3\xa9");
    /* an empty prefix */
    memset(&sn, 0, sizeof sn);
    assert_int_equal(vl_s3_list(s, "nothing-here", 0, seen_fn, &sn, &err),
                     VL_OK);
    assert_int_equal(sn.n, 0);
    /* the callback stops the listing */
    assert_int_equal(vl_s3_list(s, "ls", 1, stop_fn, NULL, &err), 42);
}

static void test_list(void **state)
{
    vl_s3 *s = *state, *small = NULL;
    vl_error err = {0};
    static const char *const keys[] = {
        "ls/a.txt", "ls/a/1", "ls/a/deep/x", "ls/b/2", "ls/B",
        "ls/\xc3\xa9",
    };
    size_t i;

    for (i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_int_equal(vl_s3_put_mem(s, keys[i], "abc", 3, &err), VL_OK);
    list_checks(s);
    /* pages of 2: the continuation is followed, and keys and prefixes
     * spread over pages keep their order */
    setenv("VELLUM_S3_MAX_KEYS", "2", 1);
    small = open_s3();
    unsetenv("VELLUM_S3_MAX_KEYS");
    list_checks(small);
    vl_s3_close(small);
}

static int count_fn(void *arg, const char *name, int is_prefix,
                    uint64_t size, vl_error *err)
{
    size_t *n = arg;
    (void)name;
    (void)is_prefix;
    (void)size;
    (void)err;
    (*n)++;
    return 0;
}

/* More keys than one page of S3's default 1000. */
static void test_list_many(void **state)
{
    vl_s3 *s = *state;
    vl_error err = {0};
    char *dir = tmpdir();
    enum { N = 1030 };
    char **keys = calloc(N, sizeof *keys), **paths = calloc(N, sizeof *paths);
    char *p = make_file(dir, "one", 1, 5);
    size_t i, n = 0;
    vl_s3_config cfg = g_cfg;
    vl_s3 *fast = NULL;

    cfg.parallel = 16;
    assert_int_equal(vl_s3_open(&cfg, g_bucket, &fast, &err), VL_OK);
    for (i = 0; i < N; i++) {
        keys[i] = vl_asprintf("many-keys/k%05zu", i);
        paths[i] = p;
    }
    if (vl_s3_put_files(fast, N, (const char *const *)keys,
                        (const char *const *)paths, &err) != VL_OK)
        fail_msg("put_files: %s", err.msg);
    assert_int_equal(vl_s3_list(s, "many-keys", 0, count_fn, &n, &err),
                     VL_OK);
    assert_int_equal(n, N);
    n = 0;
    assert_int_equal(vl_s3_list(s, "", 0, count_fn, &n, &err), VL_OK);
    assert_true(n >= 1 && n < 20);
    for (i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
    free(paths);
    vl_s3_close(fast);
    vl_fs_rmtree(dir, NULL);
    free(p);
    free(dir);
}

static void test_wrong_secret(void **state)
{
    vl_s3_config cfg = g_cfg;
    vl_s3 *s = NULL;
    vl_error err = {0};
    vl_buf b;
    static const char secret[] = "NotTheSecretAtAll0123456789";

    (void)state;
    cfg.secret_key = secret;
    assert_int_equal(vl_s3_open(&cfg, g_bucket, &s, &err), VL_OK);
    assert_int_equal(vl_s3_put_mem(s, "x", "x", 1, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "SignatureDoesNotMatch"));
    assert_non_null(strstr(err.msg, "check the access key and secret"));
    assert_non_null(strstr(err.msg, "403"));
    assert_null(strstr(err.msg, secret));
    assert_int_equal(vl_s3_get_mem(s, "x", 10, &b, &err), VL_ESYS);
    assert_null(strstr(err.msg, secret));
    assert_int_equal(vl_s3_check_bucket(s, &err), VL_ESYS);
    assert_null(strstr(err.msg, secret));
    vl_s3_close(s);
    /* an unknown access key */
    cfg.secret_key = g_cfg.secret_key;
    cfg.access_key = "NOSUCHACCESSKEY";
    assert_int_equal(vl_s3_open(&cfg, g_bucket, &s, &err), VL_OK);
    assert_int_equal(vl_s3_put_mem(s, "x", "x", 1, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "InvalidAccessKeyId"));
    assert_null(strstr(err.msg, g_cfg.secret_key));
    vl_s3_close(s);
}

static void test_buckets(void **state)
{
    vl_s3 *s = *state, *none = NULL;
    vl_error err = {0};
    struct seen sn;

    assert_int_equal(vl_s3_check_bucket(s, &err), VL_OK);
    assert_int_equal(vl_s3_open(&g_cfg, "vl-no-such-bucket-here", &none,
                                &err), VL_OK);
    assert_int_equal(vl_s3_check_bucket(none, &err), VL_ESYS);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_non_null(strstr(err.msg, "bucket vl-no-such-bucket-here does "
                                    "not exist"));
    memset(&sn, 0, sizeof sn);
    assert_int_equal(vl_s3_list(none, "", 0, seen_fn, &sn, &err), VL_ESYS);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_int_equal(vl_s3_put_mem(none, "k", "k", 1, &err), VL_ESYS);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_non_null(strstr(err.msg, "NoSuchBucket"));
    vl_s3_close(none);
}

/* ---- without a server ----------------------------------------------------- */

/* A port nothing listens on: bind one, then close it. */
static int closed_port(void);

#include <netinet/in.h>
#include <sys/socket.h>

static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void test_unreachable(void **state)
{
    vl_s3_config cfg;
    vl_s3 *s = NULL;
    vl_error err = {0};
    char ep[64];
    double t0;

    (void)state;
    snprintf(ep, sizeof ep, "http://127.0.0.1:%d", closed_port());
    memset(&cfg, 0, sizeof cfg);
    cfg.endpoint = ep;
    cfg.access_key = "AK";
    cfg.secret_key = "SECRETSECRET";
    cfg.max_retries = 1;
    cfg.timeout_seconds = 2;
    assert_int_equal(vl_s3_open(&cfg, "somebucket", &s, &err), VL_OK);
    t0 = vl_time_mono();
    assert_int_equal(vl_s3_put_mem(s, "k", "v", 1, &err), VL_ESYS);
    assert_true(vl_time_mono() - t0 < 5);
    assert_non_null(strstr(err.msg, "cannot reach"));
    assert_non_null(strstr(err.msg, ep));
    assert_non_null(strstr(err.msg, "s3://somebucket/k"));
    assert_null(strstr(err.msg, "SECRETSECRET"));
    assert_int_equal(vl_s3_check_bucket(s, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "cannot reach"));
    vl_s3_close(s);
}

static void test_parse_url(void **state)
{
    char *b = NULL, *p = NULL;
    vl_error err = {0};
    static const struct {
        const char *url, *bucket, *prefix;
    } good[] = {
        {"s3://bucket", "bucket", ""},
        {"s3://bucket/", "bucket", ""},
        {"s3://my.bucket-1/a/b", "my.bucket-1", "a/b"},
        {"s3://bkt//a/b//", "bkt", "a/b"},
        {"s3://bkt/repo", "bkt", "repo"},
    };
    static const char *const bad[] = {
        "", "bucket/x", "s3:/bucket", "http://bucket/x", "s3://",
        "s3:///x", "s3://ab/x", "s3://bu cket/x", "s3://bkt/a//b",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof good / sizeof *good; i++) {
        if (vl_s3_parse_url(good[i].url, &b, &p, &err) != VL_OK)
            fail_msg("%s: %s", good[i].url, err.msg);
        assert_string_equal(b, good[i].bucket);
        assert_string_equal(p, good[i].prefix);
        free(b);
        free(p);
    }
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (vl_s3_parse_url(bad[i], &b, &p, &err) != VL_EINPUT)
            fail_msg("%s was accepted", bad[i]);
        assert_null(b);
        assert_null(p);
        assert_non_null(strstr(err.msg, "not an S3 URL"));
    }
}

/* ---- the failing fake server ------------------------------------------------- */

struct fake {
    pid_t pid;
    char endpoint[64];
};

static void fake_start(struct fake *f, const char *mode, const char *n)
{
    const char *tests = getenv("VELLUM_TESTS");
    char script[4096], line[64];
    int pfd[2];
    FILE *in;

    snprintf(script, sizeof script, "%s/faults/s3-faulty.py",
             tests && *tests ? tests : "tests");
    assert_int_equal(pipe(pfd), 0);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        /* gone with this process, also when a failed test skips
         * fake_stop */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execlp("python3", "python3", script, mode, n, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    in = fdopen(pfd[0], "r");
    assert_non_null(in);
    if (!fgets(line, sizeof line, in))
        fail_msg("%s did not start (python3 missing?)", script);
    fclose(in);
    snprintf(f->endpoint, sizeof f->endpoint, "http://127.0.0.1:%d",
             atoi(line));
}

static void fake_stop(struct fake *f)
{
    int st;

    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, &st, 0);
        f->pid = 0;
    }
}

static vl_s3 *fake_s3(const struct fake *f)
{
    vl_s3_config cfg;
    vl_s3 *s = NULL;
    vl_error err = {0};

    memset(&cfg, 0, sizeof cfg);
    cfg.endpoint = f->endpoint;
    cfg.access_key = "AK";
    cfg.secret_key = "FAKESECRET";
    cfg.max_retries = 3;
    cfg.timeout_seconds = 5;
    /* the retries are what is tested, not how long they wait */
    cfg.backoff_first_seconds = 0.001;
    assert_int_equal(vl_s3_open(&cfg, "fakebucket", &s, &err), VL_OK);
    return s;
}

static void retried_put(const char *mode)
{
    struct fake f;
    vl_s3 *s;
    vl_error err = {0};
    vl_buf b;
    char *dir = tmpdir();
    char *p = make_file(dir, "r.bin", 3 * MIB + 5, 7);
    vl_buf want;

    fake_start(&f, mode, "2");
    s = fake_s3(&f);
    /* a file body is sent again from its start on each attempt */
    if (vl_s3_put_file(s, "r/file", p, &err) != VL_OK)
        fail_msg("%s: %s", mode, err.msg);
    assert_int_equal(vl_s3_get_mem(s, "r/file", 8 * MIB, &b, &err), VL_OK);
    assert_int_equal(vl_fs_read_file(p, 0, &want, &err), VL_OK);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.data, want.data, want.len);
    vl_buf_release(&b);
    vl_buf_release(&want);
    vl_s3_close(s);
    fake_stop(&f);
    vl_fs_rmtree(dir, NULL);
    free(p);
    free(dir);
}

static void test_retry_500(void **state)
{
    (void)state;
    retried_put("500-then-ok");
}

static void test_retry_slowdown(void **state)
{
    (void)state;
    retried_put("slowdown-then-ok");
}

static void test_always_500(void **state)
{
    struct fake f;
    vl_s3 *s;
    vl_error err = {0};

    (void)state;
    fake_start(&f, "always-500", "0");
    s = fake_s3(&f);
    assert_int_equal(vl_s3_put_mem(s, "k", "v", 1, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "500"));
    assert_non_null(strstr(err.msg, "InternalError"));
    assert_non_null(strstr(err.msg, "s3://fakebucket/k"));
    assert_non_null(strstr(err.msg, "after 4 attempts"));
    vl_s3_close(s);
    fake_stop(&f);
}

static void test_drop(void **state)
{
    struct fake f;
    vl_s3 *s;
    vl_error err = {0};
    char *dir = tmpdir();
    char *p = make_file(dir, "d.bin", 2 * MIB, 9);

    (void)state;
    fake_start(&f, "drop", "0");
    s = fake_s3(&f);
    assert_int_equal(vl_s3_put_file(s, "d/file", p, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "s3://fakebucket/d/file"));
    assert_int_equal(vl_s3_put_mem(s, "d/mem", "v", 1, &err), VL_ESYS);
    vl_s3_reader *r = NULL;
    assert_int_equal(vl_s3_reader_open(s, "d/mem", &r, &err), VL_ESYS);
    assert_null(r);
    vl_s3_close(s);
    fake_stop(&f);
    vl_fs_rmtree(dir, NULL);
    free(p);
    free(dir);
}

static void fake_stats(vl_s3 *s, int *aborts)
{
    vl_buf b;
    vl_error err = {0};
    const char *a;

    assert_int_equal(vl_s3_get_mem(s, "__stats", 100, &b, &err), VL_OK);
    a = strstr(b.data, "aborts=");
    assert_non_null(a);
    *aborts = atoi(a + 7);
    vl_buf_release(&b);
}

/* Multipart through the fake: retried requests, a part that fails (the
 * upload is aborted), a Complete that answers 200 with an <Error>. */
static void test_fake_multipart(void **state)
{
    struct fake f;
    vl_s3 *s;
    vl_error err = {0};
    vl_buf b, want;
    char *dir = tmpdir();
    char *p = make_file(dir, "m.bin", 65 * MIB + 3, 11);
    int aborts = -1;

    (void)state;
    assert_int_equal(vl_fs_read_file(p, 0, &want, &err), VL_OK);
    fake_start(&f, "500-then-ok", "3");
    s = fake_s3(&f);
    if (vl_s3_put_file(s, "m/file", p, &err) != VL_OK)
        fail_msg("multipart with retries: %s", err.msg);
    assert_int_equal(vl_s3_get_mem(s, "m/file", 80 * MIB, &b, &err), VL_OK);
    assert_int_equal(b.len, want.len);
    assert_memory_equal(b.data, want.data, want.len);
    vl_buf_release(&b);
    check_reader(s, "m/file", p, 1 << 20);
    fake_stats(s, &aborts);
    assert_int_equal(aborts, 0);
    vl_s3_close(s);
    fake_stop(&f);

    fake_start(&f, "part-fails", "0");
    s = fake_s3(&f);
    assert_int_equal(vl_s3_put_file(s, "m/file", p, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "s3://fakebucket/m/file"));
    assert_non_null(strstr(err.msg, "upload part 2 of 5"));
    assert_non_null(strstr(err.msg, "403 AccessDenied"));
    fake_stats(s, &aborts);
    assert_int_equal(aborts, 1);
    vl_s3_close(s);
    fake_stop(&f);

    fake_start(&f, "complete-error", "0");
    s = fake_s3(&f);
    assert_int_equal(vl_s3_put_file(s, "m/file", p, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "complete multipart upload"));
    assert_non_null(strstr(err.msg, "InternalError"));
    assert_non_null(strstr(err.msg, "after 4 attempts"));
    fake_stats(s, &aborts);
    assert_int_equal(aborts, 1);
    vl_s3_close(s);
    fake_stop(&f);
    vl_buf_release(&want);
    vl_fs_rmtree(dir, NULL);
    free(p);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest server[] = {
        cmocka_unit_test(test_mem_round_trip),
        cmocka_unit_test(test_file_and_reader),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_put_files),
        cmocka_unit_test(test_odd_keys),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_list_many),
        cmocka_unit_test(test_wrong_secret),
        cmocka_unit_test(test_buckets),
    };
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(test_parse_url),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_retry_500),
        cmocka_unit_test(test_retry_slowdown),
        cmocka_unit_test(test_always_500),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_fake_multipart),
    };
    int failed = cmocka_run_group_tests_name("s3-offline", offline, NULL,
                                             NULL);

    failed += cmocka_run_group_tests_name("s3-server", server, setup_bucket,
                                          teardown_bucket);
    return failed;
}
