/* Unit tests for common/: errors, buffers, files, UTF-8 and logical paths,
 * time, UUIDs, the digest engine, the worker pool and kv files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A white-box test: it uses common/'s private common_private.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_COMMON_INTERNAL
#include "common_private.h"
#include "vl_common.h"
#include "vl_storage.h"

#define BIG_LEN ((size_t)(1u << 20) + 1)

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/vl-test-XXXXXX";
    char *d = mkdtemp(tmpl);

    assert_non_null(d);
    return vl_strdup(d);
}

static void write_file(const char *dir, const char *rel, const char *content)
{
    char *p = vl_path_join(dir, rel);
    vl_error err;

    assert_non_null(p);
    assert_int_equal(vl_fs_mkdirs_parent(p, &err), VL_OK);
    assert_int_equal(vl_fs_write_atomic(p, content, strlen(content), &err),
                     VL_OK);
    free(p);
}

static unsigned char *big_pattern(void)
{
    unsigned char *d = malloc(BIG_LEN);
    size_t i;

    assert_non_null(d);
    for (i = 0; i < BIG_LEN; i++)
        d[i] = (unsigned char)((i * 31 + 7) & 0xff);
    return d;
}

/* ---- errors --------------------------------------------------------------- */

static void test_error(void **state)
{
    vl_error err;
    (void)state;

    assert_int_equal(vl_error_set(NULL, VL_EINPUT, "x"), VL_EINPUT);
    assert_int_equal(vl_error_set(&err, VL_FINDING, "a\nb %d", 7), VL_FINDING);
    assert_int_equal(err.status, VL_FINDING);
    assert_string_equal(err.msg, "a b 7");

    errno = ENOENT;
    assert_int_equal(vl_error_sys(&err, "open %s", "f"), VL_ESYS);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_string_equal(err.msg, "open f: No such file or directory");

    /* Prefixing onto the previous message must not corrupt it. */
    vl_error_set(&err, VL_EINPUT, "ctx: %s", err.msg);
    assert_string_equal(err.msg, "ctx: open f: No such file or directory");
    assert_int_equal(err.sys_errno, 0);

    vl_error_clear(&err);
    assert_int_equal(err.status, VL_OK);
    assert_string_equal(err.msg, "");
}

static void test_error_oom(void **state)
{
    vl_error err;
    (void)state;

    assert_int_equal(vl_error_oom(NULL), VL_ESYS);
    err.reason = VL_REASON_LOCKED;
    assert_int_equal(vl_error_oom(&err), VL_ESYS);
    assert_int_equal(err.status, VL_ESYS);
    assert_int_equal(err.sys_errno, ENOMEM);
    assert_int_equal(err.reason, VL_REASON_NONE);
    assert_string_equal(err.msg, "out of memory");
}

/* ---- array growth ----------------------------------------------------------- */

static void test_grow(void **state)
{
    vl_error err;
    int *v = NULL;
    size_t cap = 0, n;
    (void)state;

    /* One at a time: the capacity doubles, the contents survive. */
    for (n = 0; n < 1000; n++) {
        assert_int_equal(VL_GROW(v, cap, n + 1, &err), VL_OK);
        assert_true(cap >= n + 1);
        v[n] = (int)n;
    }
    for (n = 0; n < 1000; n++)
        assert_int_equal(v[n], (int)n);
    assert_int_equal(cap, 1024);
    /* Room already there: nothing moves. */
    int *before = v;
    assert_int_equal(VL_GROW(v, cap, 10, &err), VL_OK);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 1024);
    /* A jump past the next doubling is met at once. */
    assert_int_equal(VL_GROW(v, cap, 5000, &err), VL_OK);
    assert_int_equal(cap, 8192);

    /* A byte count that would wrap is refused and changes nothing. */
    before = v;
    memset(&err, 0, sizeof err);
    assert_int_equal(VL_GROW(v, cap, SIZE_MAX / sizeof *v + 1, &err), VL_ESYS);
    assert_int_equal(err.status, VL_ESYS);
    assert_int_equal(err.sys_errno, ENOMEM);
    assert_string_equal(err.msg, "out of memory");
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 8192);
    assert_int_equal(VL_GROW(v, cap, SIZE_MAX, NULL), VL_ESYS);
    assert_int_equal(cap, 8192);
    free(v);

    /* Large elements: the count times the size is what must fit. */
    struct big { char b[1 << 12]; } *bv = NULL;
    size_t bcap = 0;
    assert_int_equal(VL_GROW(bv, bcap, SIZE_MAX / 4096 + 1, &err), VL_ESYS);
    assert_null(bv);
    assert_int_equal(bcap, 0);
    assert_int_equal(VL_GROW(bv, bcap, 3, &err), VL_OK);
    assert_int_equal(bcap, 8);
    free(bv);
}

/* ---- buffers and strings -------------------------------------------------- */

static void test_buf(void **state)
{
    vl_buf b;
    vl_error err;
    char *s;
    (void)state;

    vl_buf_init(&b, 10);
    assert_int_equal(vl_buf_append(&b, "0123456789", 10, &err), VL_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    assert_int_equal(vl_buf_append(&b, "x", 1, &err), VL_EINPUT);
    assert_string_equal(err.msg, "input larger than 10 bytes");
    assert_int_equal(b.len, 10);
    vl_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(vl_buf_printf(&b, &err, "%d-%s", 42, "ab"), VL_OK);
    assert_string_equal(b.data, "42-ab");
    assert_int_equal(vl_buf_printf(&b, &err, "%s", "too long"), VL_EINPUT);
    assert_string_equal(b.data, "42-ab");
    s = vl_buf_detach(&b);
    assert_string_equal(s, "42-ab");
    assert_null(b.data);
    free(s);

    /* Unlimited, growing past the initial capacity. */
    vl_buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(vl_buf_printf(&b, &err, "%04d", i), VL_OK);
    assert_int_equal(b.len, 4000);
    assert_memory_equal(b.data + 3996, "0999", 5);
    vl_buf_release(&b);
    assert_null(b.data);

    vl_buf_init(&b, 0);
    s = vl_buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);

    s = vl_strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    s = vl_strdup("xyz");
    assert_string_equal(s, "xyz");
    free(s);
    s = vl_asprintf("%s=%u", "k", 5u);
    assert_string_equal(s, "k=5");
    free(s);
}

/* ---- paths and files ------------------------------------------------------ */

static void test_paths(void **state)
{
    char *s;
    (void)state;

    s = vl_path_join("a", "b");
    assert_string_equal(s, "a/b");
    free(s);
    s = vl_path_join("a/", "b");
    assert_string_equal(s, "a/b");
    free(s);
    assert_string_equal(vl_path_basename("x/y/z.txt"), "z.txt");
    assert_string_equal(vl_path_basename("z.txt"), "z.txt");
    s = vl_path_dirname("x/y/z.txt");
    assert_string_equal(s, "x/y");
    free(s);
    s = vl_path_dirname("z.txt");
    assert_string_equal(s, ".");
    free(s);
    s = vl_path_dirname("/z");
    assert_string_equal(s, "/");
    free(s);
}

static void test_fs_basic(void **state)
{
    char *dir = make_tmpdir();
    char *deep = vl_path_join(dir, "a/b/c");
    char *f = vl_path_join(dir, "a/file");
    char *g = vl_path_join(dir, "a/copy");
    vl_error err;
    vl_buf b;
    uint64_t freeb = 0;
    (void)state;

    assert_int_equal(vl_fs_mkdirs(deep, &err), VL_OK);
    assert_int_equal(vl_fs_mkdirs(deep, &err), VL_OK); /* idempotent */
    assert_int_equal(vl_fs_is_dir(deep), 1);
    assert_int_equal(vl_fs_dir_empty(deep), 1);
    assert_int_equal(vl_fs_write_atomic(f, "hello", 5, &err), VL_OK);
    assert_int_equal(vl_fs_exists(f), 1);
    assert_int_equal(vl_fs_is_dir(f), 0);
    assert_int_equal(vl_fs_dir_empty(f), -1);
    assert_int_equal(vl_fs_dir_empty("/nonexistent/vl"), -1);

    char *a = vl_path_join(dir, "a");
    assert_int_equal(vl_fs_dir_empty(a), 0);
    free(a);

    /* Creating a directory where a file exists fails and names it. */
    assert_int_equal(vl_fs_mkdirs(f, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "a/file"));

    assert_int_equal(vl_fs_read_file(f, 100, &b, &err), VL_OK);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "hello");
    vl_buf_release(&b);
    assert_int_equal(vl_fs_read_file(f, 4, &b, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "a/file"));
    assert_int_equal(vl_fs_read_file("/nonexistent/vl", 4, &b, &err), VL_ESYS);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_non_null(strstr(err.msg, "/nonexistent/vl"));

    assert_int_equal(vl_fs_copy_file(f, g, &err), VL_OK);
    assert_int_equal(vl_fs_read_file(g, 0, &b, &err), VL_OK);
    assert_string_equal(b.data, "hello");
    vl_buf_release(&b);

    assert_int_equal(vl_fs_fsync_path(g, &err), VL_OK);
    assert_int_equal(vl_fs_fsync_parent(g, &err), VL_OK);
    assert_int_equal(vl_fs_syncfs(dir, &err), VL_OK);
    assert_int_equal(vl_fs_free_bytes(dir, &freeb, &err), VL_OK);
    assert_true(freeb > 0);
    assert_int_equal(vl_fs_syncfs("/nonexistent/vl", &err), VL_ESYS);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    assert_int_equal(vl_fs_exists(dir), 0);
    free(f);
    free(g);
    free(deep);
    free(dir);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* New files and folders are left to the umask; the read-only writers drop
 * every write bit before the file has its name, and a read-only temp left
 * by a dead process does not stop the next write. */
static void test_fs_modes(void **state)
{
    char *dir = make_tmpdir();
    char *sub = vl_path_join(dir, "a/b");
    char *f = vl_path_join(dir, "a/f");
    char *ro = vl_path_join(dir, "a/ro");
    char *cp = vl_path_join(dir, "a/cp");
    char *cpro = vl_path_join(dir, "a/b/cpro");
    char *stale = vl_asprintf("%s.tmp-%ld", ro, (long)getpid());
    vl_error err;
    vl_buf b;
    mode_t before = umask(027);
    (void)state;

    assert_int_equal(vl_fs_mkdirs(sub, &err), VL_OK);
    assert_int_equal(mode_of(sub), 0750);
    assert_int_equal(vl_fs_write_atomic(f, "x", 1, &err), VL_OK);
    assert_int_equal(mode_of(f), 0640);
    assert_int_equal(vl_fs_copy_file(f, cp, &err), VL_OK);
    assert_int_equal(mode_of(cp), 0640);
    assert_int_equal(vl_fs_write_atomic_readonly(ro, "one", 3, &err), VL_OK);
    assert_int_equal(mode_of(ro), 0440);
    int fd = open(stale, O_WRONLY | O_CREAT | O_EXCL, 0400);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(vl_fs_write_atomic_readonly(ro, "two", 3, &err), VL_OK);
    assert_int_equal(mode_of(ro), 0440);
    assert_int_equal(vl_fs_exists(stale), 0);
    assert_int_equal(vl_fs_read_file(ro, 0, &b, &err), VL_OK);
    assert_string_equal(b.data, "two");
    vl_buf_release(&b);
    assert_int_equal(vl_fs_copy_file_readonly(f, cpro, &err), VL_OK);
    assert_int_equal(mode_of(cpro), 0440);
    /* The whole tree: files lose their write bits, folders keep theirs. */
    assert_int_equal(vl_fs_make_files_readonly(dir, &err), VL_OK);
    assert_int_equal(mode_of(f), 0440);
    assert_int_equal(mode_of(cp), 0440);
    assert_int_equal(mode_of(sub), 0750);
    assert_int_equal(vl_fs_make_files_readonly("/nonexistent/vl", &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "/nonexistent/vl"));
    /* Never wider than the umask. */
    umask(077);
    assert_int_equal(vl_fs_write_atomic(f, "x", 1, &err), VL_OK);
    assert_int_equal(mode_of(f), 0600);
    umask(before);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    assert_int_equal(vl_fs_exists(dir), 0);
    free(sub);
    free(f);
    free(ro);
    free(cp);
    free(cpro);
    free(stale);
    free(dir);
}

static void test_write_atomic(void **state)
{
    char *dir = make_tmpdir();
    char *f = vl_path_join(dir, "conf");
    char *bad = vl_path_join(dir, "missing/conf");
    vl_error err;
    vl_buf b;
    (void)state;

    assert_int_equal(vl_fs_write_atomic(f, "one", 3, &err), VL_OK);
    assert_int_equal(vl_fs_write_atomic(f, "second", 6, &err), VL_OK);
    assert_int_equal(vl_fs_read_file(f, 0, &b, &err), VL_OK);
    assert_string_equal(b.data, "second");
    vl_buf_release(&b);
    /* Empty content is a valid file. */
    assert_int_equal(vl_fs_write_atomic(f, "", 0, &err), VL_OK);
    assert_int_equal(vl_fs_read_file(f, 0, &b, &err), VL_OK);
    assert_int_equal(b.len, 0);
    assert_non_null(b.data);
    vl_buf_release(&b);
    /* Only the target remains: no temporary file left behind. */
    assert_int_equal(vl_fs_dir_empty(dir), 0);
    char *tmp = vl_asprintf("%s.tmp-%ld", f, (long)getpid());
    assert_int_equal(vl_fs_exists(tmp), 0);
    free(tmp);

    assert_int_equal(vl_fs_write_atomic(bad, "x", 1, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "missing/conf"));
    assert_int_equal(err.sys_errno, ENOENT);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    free(bad);
    free(f);
    free(dir);
}

static void test_rmtree(void **state)
{
    char *dir = make_tmpdir();
    char *outside = make_tmpdir();
    char *keep = vl_path_join(outside, "keep.txt");
    char *link = vl_path_join(dir, "sub/link");
    vl_error err;
    (void)state;

    write_file(dir, "sub/deeper/f.txt", "data");
    write_file(dir, "top.txt", "data");
    write_file(outside, "keep.txt", "keep me");
    assert_int_equal(symlink(outside, link), 0);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    assert_int_equal(vl_fs_exists(dir), 0);
    /* The symlink was removed, not followed. */
    assert_int_equal(vl_fs_exists(keep), 1);
    /* Absent is fine. */
    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);

    /* A plain file and a dangling symlink are removed too. */
    assert_int_equal(vl_fs_rmtree(keep, &err), VL_OK);
    assert_int_equal(vl_fs_exists(keep), 0);
    assert_int_equal(symlink("/nonexistent/vl", keep), 0);
    assert_int_equal(vl_fs_rmtree(keep, &err), VL_OK);
    assert_int_equal(vl_fs_exists(keep), 0);

    assert_int_equal(vl_fs_rmtree(outside, &err), VL_OK);
    free(link);
    free(keep);
    free(outside);
    free(dir);
}

struct walk_log {
    vl_buf out;
    int stop_at; /* stop with VL_FINDING on this entry number, or -1 */
    int count;
};

static int walk_rec(void *arg, const char *rel, int kind, const struct stat *st,
                    vl_error *err)
{
    struct walk_log *log = arg;
    static const char kinds[] = "?FDLO";

    assert_non_null(st);
    if (kind == VL_WALK_FILE)
        assert_true(S_ISREG(st->st_mode));
    if (kind == VL_WALK_SYMLINK)
        assert_true(S_ISLNK(st->st_mode));
    if (log->count++ == log->stop_at)
        return vl_error_set(err, VL_FINDING, "stopped at %s", rel);
    return vl_buf_printf(&log->out, err, "%c:%s\n", kinds[kind], rel);
}

static void walk_checks(void)
{
    char *dir = make_tmpdir();
    char *p;
    struct walk_log log;
    vl_error err;

    write_file(dir, "b/x.txt", "1");
    write_file(dir, "b/c/d.txt", "2");
    write_file(dir, "a", "3");
    write_file(dir, "B", "4");
    write_file(dir, "a2/z", "5");
    write_file(dir, "a-", "6");
    p = vl_path_join(dir, "empty");
    assert_int_equal(vl_fs_mkdirs(p, &err), VL_OK);
    free(p);
    p = vl_path_join(dir, "l");
    assert_int_equal(symlink("b", p), 0); /* a symlinked directory */
    free(p);
    p = vl_path_join(dir, "fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    free(p);

    vl_buf_init(&log.out, 0);
    log.stop_at = -1;
    log.count = 0;
    assert_int_equal(vl_tree_walk(dir, 0, walk_rec, &log, &err), VL_OK);
    /* Byte order ('B' < 'a', "a-" < "a2"), symlink not followed. */
    assert_string_equal(log.out.data,
                        "F:B\n"
                        "F:a\n"
                        "F:a-\n"
                        "F:a2/z\n"
                        "F:b/c/d.txt\n"
                        "F:b/x.txt\n"
                        "O:fifo\n"
                        "L:l\n");
    vl_buf_reset(&log.out);
    log.count = 0;
    assert_int_equal(vl_tree_walk(dir, 1, walk_rec, &log, &err), VL_OK);
    assert_string_equal(log.out.data,
                        "F:B\n"
                        "F:a\n"
                        "F:a-\n"
                        "D:a2\n"
                        "F:a2/z\n"
                        "D:b\n"
                        "D:b/c\n"
                        "F:b/c/d.txt\n"
                        "F:b/x.txt\n"
                        "D:empty\n"
                        "O:fifo\n"
                        "L:l\n");

    /* A callback's status stops the walk and is returned. */
    vl_buf_reset(&log.out);
    log.count = 0;
    log.stop_at = 2;
    assert_int_equal(vl_tree_walk(dir, 0, walk_rec, &log, &err), VL_FINDING);
    assert_string_equal(err.msg, "stopped at a-");
    assert_string_equal(log.out.data, "F:B\nF:a\n");
    vl_buf_release(&log.out);

    /* A missing root is an error naming it. */
    p = vl_path_join(dir, "nope");
    log.stop_at = -1;
    vl_buf_init(&log.out, 0);
    assert_int_equal(vl_tree_walk(p, 0, walk_rec, &log, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "nope"));
    free(p);
    vl_buf_release(&log.out);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    free(dir);
}

static void test_walk(void **state)
{
    (void)state;
    walk_checks();
}

/* The same walk with every folder of more than one name sorted on disk
 * (a flat folder of a million files takes that path). */
static void test_walk_spilled(void **state)
{
    (void)state;
    assert_int_equal(setenv("VELLUM_LIST_MEMORY", "1", 1), 0);
    walk_checks();
    unsetenv("VELLUM_LIST_MEMORY");
}

/* ---- UTF-8 and logical paths ---------------------------------------------- */

static void test_utf8(void **state)
{
    (void)state;
#define V(s) vl_utf8_valid(s, sizeof(s) - 1)
    assert_int_equal(V(""), 1);
    assert_int_equal(V("plain ascii"), 1);
    assert_int_equal(V("caf\xc3\xa9"), 1);
    assert_int_equal(V("\xe2\x82\xac"), 1);          /* euro sign */
    assert_int_equal(V("\xf0\x9f\x98\x80"), 1);      /* emoji */
    assert_int_equal(V("\xf4\x8f\xbf\xbf"), 1);      /* U+10FFFF */
    assert_int_equal(V("\xc0\x80"), 0);              /* overlong NUL */
    assert_int_equal(V("\xc1\xbf"), 0);              /* overlong */
    assert_int_equal(V("\xe0\x80\xaf"), 0);          /* overlong '/' */
    assert_int_equal(V("\xf0\x80\x80\xaf"), 0);      /* overlong */
    assert_int_equal(V("\xed\xa0\x80"), 0);          /* surrogate D800 */
    assert_int_equal(V("\xed\xbf\xbf"), 0);          /* surrogate DFFF */
    assert_int_equal(V("\xf4\x90\x80\x80"), 0);      /* > U+10FFFF */
    assert_int_equal(V("\xf5\x80\x80\x80"), 0);
    assert_int_equal(V("\x80"), 0);                  /* lone continuation */
    assert_int_equal(V("\xc3"), 0);                  /* truncated */
    assert_int_equal(V("\xe2\x82"), 0);
    assert_int_equal(V("\xc3\x28"), 0);              /* bad continuation */
    assert_int_equal(V("\xff"), 0);
#undef V
    /* Length is honoured, not the NUL. */
    assert_int_equal(vl_utf8_valid("\xc3\xa9", 1), 0);
}

static void test_name_escape(void **state)
{
    char *s;
    (void)state;

    s = vl_name_escape("a\nb\x7f" "c\\d");
    assert_string_equal(s, "a\\x0ab\\x7fc\\d");
    free(s);
    s = vl_name_escape("caf\xc3\xa9 \xff\xc3");
    assert_string_equal(s, "caf\xc3\xa9 \\xff\\xc3");
    free(s);
    s = vl_name_escape("");
    assert_string_equal(s, "");
    free(s);
    /* C1 controls (U+009B is a CSI), bidirectional overrides and isolates,
     * line and paragraph separators: every byte escaped. */
    s = vl_name_escape("a\xc2\x9b" "1m\xe2\x80\xae" "b\xe2\x81\xa6" "c\xe2\x80\xa8");
    assert_string_equal(s, "a\\xc2\\x9b1m\\xe2\\x80\\xaeb\\xe2\\x81\\xa6c\\xe2\\x80\\xa8");
    /* Escaping twice changes nothing. */
    char *twice = vl_name_escape(s);
    assert_string_equal(twice, s);
    free(twice);
    free(s);
    /* Printable neighbours are kept: U+00A0, U+200F (RLM), U+202F. */
    s = vl_name_escape("\xc2\xa0\xe2\x80\x8f\xe2\x80\xaf");
    assert_string_equal(s, "\xc2\xa0\xe2\x80\x8f\xe2\x80\xaf");
    free(s);
    assert_int_equal(vl_text_printable("caf\xc3\xa9 \xe2\x82\xac"), 1);
    assert_int_equal(vl_text_printable("a\x1b[31m"), 0);
    assert_int_equal(vl_text_printable("\xc2\x85"), 0);
    assert_int_equal(vl_text_printable("\xff"), 0);
    /* Cut short at a whole escape, never in the middle of one. */
    char small[8];
    vl_text_escape_into(small, sizeof small, "ab\x1b\x1b");
    assert_string_equal(small, "ab\\x1b");
    vl_text_escape_into(small, sizeof small, "abcd\x1b");
    assert_string_equal(small, "abcd");
}

static void expect_bad_id(const char *id, const char *msg)
{
    vl_error err;

    vl_error_clear(&err);
    assert_int_equal(vl_object_id_check(id, &err), VL_EINPUT);
    assert_string_equal(err.msg, msg);
}

static void test_object_id(void **state)
{
    vl_error err;
    (void)state;

    assert_int_equal(vl_object_id_check("urn:example:acc-2026-04", &err), VL_OK);
    assert_int_equal(vl_object_id_check("info:fedora/x y/\xc3\xa9\\z", &err),
                     VL_OK);
    expect_bad_id("", "an object id must not be empty");
    expect_bad_id("urn:a\x1b[31mRED",
                  "object id \"urn:a\\x1b[31mRED\" holds a control character; "
                  "an id must be printable text");
    expect_bad_id("urn:a\nb", "object id \"urn:a\\x0ab\" holds a control "
                  "character; an id must be printable text");
    expect_bad_id("a\tb", "object id \"a\\x09b\" holds a control character; "
                  "an id must be printable text");
    expect_bad_id("a\x7f", "object id \"a\\x7f\" holds a control character; "
                  "an id must be printable text");
    expect_bad_id("a\xc2\x9b", "object id \"a\\xc2\\x9b\" holds a control "
                  "character; an id must be printable text");
    expect_bad_id("a\xe2\x80\xae", "object id \"a\\xe2\\x80\\xae\" holds a "
                  "control character; an id must be printable text");
    expect_bad_id("a\xff", "object id \"a\\xff\" is not UTF-8");
    /* A long one is shown cut short. */
    char id[600];
    memset(id, 'x', sizeof id - 2);
    id[sizeof id - 2] = '\x01';
    id[sizeof id - 1] = '\0';
    vl_error_clear(&err);
    assert_int_equal(vl_object_id_check(id, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "...\" holds a control character"));
}

/* Messages quote depositors' text: no control character gets through. */
static void test_error_escapes(void **state)
{
    vl_error err;
    (void)state;

    vl_error_set(&err, VL_EINPUT, "title \"%s\" refused", "T\x1b[2J\nline\xc2\x9b");
    assert_string_equal(err.msg, "title \"T\\x1b[2J line\\xc2\\x9b\" refused");
    errno = ENOENT;
    vl_error_sys(&err, "cannot open %s", "a\x1b]0;x\x07");
    assert_string_equal(err.msg, "cannot open a\\x1b]0;x\\x07: No such file or "
                        "directory");
}

static void expect_reject(const char *path, const char *msg)
{
    vl_error err;

    vl_error_clear(&err);
    assert_int_equal(vl_logical_path_check(path, &err), VL_EINPUT);
    assert_int_equal(err.status, VL_EINPUT);
    assert_string_equal(err.msg, msg);
}

static void test_logical_path(void **state)
{
    char seg[300];
    vl_error err;
    (void)state;

    assert_int_equal(vl_logical_path_check("a", &err), VL_OK);
    assert_int_equal(vl_logical_path_check("dir/sub/file.txt", &err), VL_OK);
    assert_int_equal(vl_logical_path_check("..a/b..c/.hidden", &err), VL_OK);
    assert_int_equal(vl_logical_path_check("with space/and\\backslash", &err),
                     VL_OK);
    /* NFC and NFD spellings are both valid and are not normalised. */
    assert_int_equal(vl_logical_path_check("caf\xc3\xa9", &err), VL_OK);
    assert_int_equal(vl_logical_path_check("cafe\xcc\x81", &err), VL_OK);

    expect_reject("", "invalid path \"\": empty path");
    expect_reject("a//b", "invalid path \"a//b\": empty segment");
    expect_reject("/a", "invalid path \"/a\": begins with /");
    expect_reject("a/", "invalid path \"a/\": ends with /");
    expect_reject("a/./b", "invalid path \"a/./b\": \".\" segment");
    expect_reject(".", "invalid path \".\": \".\" segment");
    expect_reject("a/../b", "invalid path \"a/../b\": \"..\" segment");
    expect_reject("..", "invalid path \"..\": \"..\" segment");
    expect_reject("a/\xff", "invalid path \"a/\\xff\": invalid UTF-8");
    expect_reject("a\tb", "invalid path \"a\\x09b\": control character");
    expect_reject("a\x7f", "invalid path \"a\\x7f\": control character");

    memset(seg, 'x', 255);
    seg[255] = '\0';
    assert_int_equal(vl_logical_path_check(seg, &err), VL_OK);
    char *two = vl_asprintf("d/%s/e", seg);
    assert_int_equal(vl_logical_path_check(two, &err), VL_OK);
    free(two);
    seg[255] = 'x';
    seg[256] = '\0';
    assert_int_equal(vl_logical_path_check(seg, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "segment longer than 255 bytes"));
    two = vl_asprintf("d/%s", seg);
    assert_int_equal(vl_logical_path_check(two, &err), VL_EINPUT);
    free(two);
    /* 255 bytes counted in bytes: 127 two-byte chars + 1 = 255 ok. */
    char multi[600] = "";
    for (int i = 0; i < 127; i++)
        strcat(multi, "\xc3\xa9");
    strcat(multi, "x");
    assert_int_equal(vl_logical_path_check(multi, &err), VL_OK);
    strcat(multi, "y");
    assert_int_equal(vl_logical_path_check(multi, &err), VL_EINPUT);
}

/* Long paths in messages keep their head and tail, cut between
 * characters, never inside a UTF-8 sequence or a \xNN escape. */
static void test_name_shorten(void **state)
{
    char *s, *in;
    (void)state;

    s = vl_name_shorten("short/path", 300);
    assert_string_equal(s, "short/path");
    free(s);
    s = vl_name_shorten("a\tb", 300);          /* escaped like vl_name_escape */
    assert_string_equal(s, "a\\x09b");
    free(s);

    /* 2000 levels of "d/": head and tail kept, the whole within max. */
    in = calloc(1, 4100);
    assert_non_null(in);
    strcpy(in, "/srv/deposit");
    for (int i = 0; i < 2000; i++)
        strcat(in, "/d");
    strcat(in, "/leaf.txt");
    s = vl_name_shorten(in, 100);
    assert_true(strlen(s) <= 100);
    assert_non_null(strstr(s, "..."));
    assert_memory_equal(s, "/srv/deposit/d/d", 16);
    assert_string_equal(s + strlen(s) - 11, "/d/leaf.txt");
    free(s);

    /* Three-byte characters: every cut lands between two of them. */
    in[0] = '\0';
    for (int i = 0; i < 400; i++)
        strcat(in, "\xe6\x97\xa5");              /* U+65E5 */
    for (size_t max = 8; max < 60; max++) {
        s = vl_name_shorten(in, max);
        assert_true(strlen(s) <= max);
        assert_true(vl_utf8_valid(s, strlen(s)));
        char *dots = strstr(s, "...");
        assert_non_null(dots);
        assert_int_equal((size_t)(dots - s) % 3, 0);
        assert_int_equal(strlen(dots + 3) % 3, 0);
        free(s);
    }

    /* Escapes (\xff becomes four bytes) are never split. */
    in[0] = '\0';
    for (int i = 0; i < 300; i++)
        strcat(in, "\xff");
    for (size_t max = 16; max < 40; max++) {
        s = vl_name_shorten(in, max);
        assert_true(strlen(s) <= max);
        char *dots = strstr(s, "...");
        assert_non_null(dots);
        assert_int_equal((size_t)(dots - s) % 4, 0);
        assert_int_equal(strlen(dots + 3) % 4, 0);
        assert_memory_equal(s, "\\xff", 4);
        free(s);
    }
    free(in);
}

/* The limits are exact: at the limit accepted, one past refused, and the
 * message names the limit. */
static void test_logical_path_limits(void **state)
{
    char *p = calloc(1, 3 * VL_PATH_MAX_BYTES);
    vl_error err;
    (void)state;

    assert_non_null(p);
    strcpy(p, "data");
    for (int i = 2; i < VL_PATH_MAX_DEPTH; i++)
        strcat(p, "/d");
    strcat(p, "/f");                              /* VL_PATH_MAX_DEPTH names */
    assert_int_equal(vl_logical_path_limits(p, &err), VL_OK);
    assert_int_equal(vl_logical_path_check(p, &err), VL_OK);
    strcat(p, "/g");
    vl_error_clear(&err);
    assert_int_equal(vl_logical_path_limits(p, &err), VL_EINPUT);
    assert_string_equal(err.msg, "path too deep: 251 levels in the object "
                                 "(the limit is 250)");

    /* bytes: data/ + 255-byte names + a last name making 2048 in all */
    strcpy(p, "data");
    while (strlen(p) + 1 + 255 < VL_PATH_MAX_BYTES) {
        strcat(p, "/");
        memset(p + strlen(p), 'n', 255);
    }
    strcat(p, "/");
    memset(p + strlen(p), 'f', VL_PATH_MAX_BYTES - strlen(p));
    assert_int_equal(strlen(p), VL_PATH_MAX_BYTES);
    assert_int_equal(vl_logical_path_check(p, &err), VL_OK);
    assert_int_equal(vl_logical_path_limits(p, &err), VL_OK);
    strcat(p, "x");
    assert_int_equal(vl_logical_path_check(p, &err), VL_OK);
    assert_int_equal(vl_logical_path_limits(p, &err), VL_EINPUT);
    assert_string_equal(err.msg, "path too long: 2049 bytes in the object "
                                 "(the limit is 2048)");
    /* a long invalid path is named shortened, on one line under 1 KiB */
    memset(p, 'x', 2 * VL_PATH_MAX_BYTES);
    p[2 * VL_PATH_MAX_BYTES] = '\0';
    p[100] = '\t';
    assert_int_equal(vl_logical_path_check(p, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "x\\x09x"));       /* the head shows it */
    assert_non_null(strstr(err.msg, "xxx...xxx"));
    assert_non_null(strstr(err.msg, "x\": control character"));
    assert_true(strlen(err.msg) < 400);
    free(p);
}

/* ---- time and identifiers ------------------------------------------------- */

/* Nanosecond times: the modification times ingest records and get gives
 * back, written into and read from the METS. */
static void test_time_ns(void **state)
{
    char buf[40];
    int64_t t;
    (void)state;
    vl_time_rfc3339_ns(981173106250000000LL, buf);
    assert_string_equal(buf, "2001-02-03T04:05:06.25Z");
    vl_time_rfc3339_ns(946684799000000000LL, buf);
    assert_string_equal(buf, "1999-12-31T23:59:59Z");
    vl_time_rfc3339_ns(-500000000LL, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.5Z");
    vl_time_rfc3339_ns(1000000001LL, buf);
    assert_string_equal(buf, "1970-01-01T00:00:01.000000001Z");
    /* The same second again (its text is reused), then a whole second
     * and the one before it: each is written in full. */
    vl_time_rfc3339_ns(1999999999LL, buf);
    assert_string_equal(buf, "1970-01-01T00:00:01.999999999Z");
    vl_time_rfc3339_ns(1000000000LL, buf);
    assert_string_equal(buf, "1970-01-01T00:00:01Z");
    vl_time_rfc3339_ns(999999999LL, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.999999999Z");
    vl_time_rfc3339_ns(INT64_MAX, buf);
    assert_string_equal(buf, "2262-04-11T23:47:16.854775807Z");
    assert_int_equal(vl_time_parse_ns("2001-02-03T04:05:06.25Z", &t), 0);
    assert_true(t == 981173106250000000LL);
    assert_int_equal(vl_time_parse_ns("1969-12-31T23:59:59.5Z", &t), 0);
    assert_true(t == -500000000LL);
    assert_int_equal(vl_time_parse_ns("1970-01-01T00:00:01.000000001Z", &t), 0);
    assert_true(t == 1000000001LL);
    assert_int_equal(vl_time_parse_ns("1999-12-31T23:59:59Z", &t), 0);
    assert_true(t == 946684799000000000LL);
    assert_int_equal(vl_time_parse_ns("not a date", &t), -1);
}

static void test_time(void **state)
{
    char buf[32];
    int64_t t;
    (void)state;

    vl_time_rfc3339(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    vl_time_rfc3339(1795754745, buf);
    assert_string_equal(buf, "2026-11-27T04:45:45Z");

    assert_int_equal(vl_time_parse("2026-11-27T04:45:45Z", &t), 0);
    assert_int_equal(t, 1795754745);
    assert_int_equal(vl_time_parse("2026-11-27T04:45:45.123456Z", &t), 0);
    assert_int_equal(t, 1795754745);
    assert_int_equal(vl_time_parse("2026-11-27T10:15:45+05:30", &t), 0);
    assert_int_equal(t, 1795754745);
    assert_int_equal(vl_time_parse("2026-11-26T20:45:45-08:00", &t), 0);
    assert_int_equal(t, 1795754745);
    assert_int_equal(vl_time_parse("2026-11-27T04:45:45.5+00:00", &t), 0);
    assert_int_equal(t, 1795754745);
    assert_int_equal(vl_time_parse("2026-11-27", &t), 0);
    assert_int_equal(t, 1795754745 - (4 * 3600 + 45 * 60 + 45));
    assert_int_equal(vl_time_parse("1970-01-01", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(vl_time_parse("1969-12-31T23:59:59Z", &t), 0);
    assert_int_equal(t, -1);
    assert_int_equal(vl_time_parse("2024-02-29", &t), 0);

    /* Round trip through the formatter. */
    for (int64_t v = -86400; v < 4102444800LL; v += 123456789) {
        vl_time_rfc3339(v, buf);
        assert_int_equal(vl_time_parse(buf, &t), 0);
        assert_int_equal(t, v);
    }

    static const char *bad[] = {
        "", "2026", "2026-1-01", "2026-13-01", "2026-00-10", "2023-02-29",
        "2026-04-31", "2026-11-27T", "2026-11-27T04:45:45",
        "2026-11-27T24:00:00Z", "2026-11-27T04:60:00Z", "2026-11-27T04:45:45.Z",
        "2026-11-27T04:45:45+0530", "2026-11-27T04:45:45Zjunk",
        "2026-11-27 junk", "abcd-ef-gh", "2026-11-27T04:45:45+24:00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 12345;
        if (vl_time_parse(bad[i], &t) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(t, 12345);
    }

    setenv("VELLUM_NOW", "1000000000", 1);
    assert_int_equal(vl_time_now(), 1000000000);
    setenv("VELLUM_NOW", "2026-11-27T04:45:45Z", 1);
    assert_int_equal(vl_time_now(), 1795754745);
    setenv("VELLUM_NOW", "2026-11-27T05:45:45+01:00", 1);
    assert_int_equal(vl_time_now(), 1795754745);
    unsetenv("VELLUM_NOW");
    int64_t now = vl_time_now();
    assert_true(now > 1700000000);
}

/* The monotonic clock: readings in sequence never go back, and
 * VELLUM_NOW (the wall clock tests set) does not move it.  No assertion on
 * how much time passes: the machine may be slow or busy. */
static void test_time_mono(void **state)
{
    const char *was = getenv("VELLUM_NOW");
    char *saved = was ? vl_strdup(was) : NULL;
    double prev, t;
    (void)state;

    prev = vl_time_mono();
    assert_true(prev >= 0.0);
    setenv("VELLUM_NOW", "1970-01-01T00:00:00Z", 1);
    for (int i = 0; i < 1000; i++) {
        t = vl_time_mono();
        assert_true(t >= prev);
        prev = t;
    }
    if (saved)
        setenv("VELLUM_NOW", saved, 1);
    else
        unsetenv("VELLUM_NOW");
    free(saved);
}

static void test_uuid(void **state)
{
    char a[37], b[37];
    (void)state;

    vl_uuid4(a);
    vl_uuid4(b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(a[14], '4');
    assert_non_null(strchr("89ab", a[19]));

    /* The test builds' sequence (VELLUM_UUID_SEED): distinct, still
     * version 4, and the same from the same point of a forked child. */
    char c[37], d[37];
    assert_int_equal(setenv("VELLUM_UUID_SEED", "7", 1), 0);
    vl_uuid4(a);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        vl_uuid4(c);
        _exit(strcmp(c, "08000000-0000-4000-9a5a-5a5a5a5a5a5a") != 0);
    }
    vl_uuid4(b);
    vl_uuid4(d);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    unsetenv("VELLUM_UUID_SEED");
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_string_equal(a, "07000000-0000-4000-9a5a-5a5a5a5a5a5a");
    assert_string_equal(b, "08000000-0000-4000-9a5a-5a5a5a5a5a5a");
    assert_string_not_equal(b, d);
    assert_int_equal(b[14], '4');
    assert_non_null(strchr("89ab", b[19]));
    vl_uuid4(c);   /* the unseeded generator again */
    assert_string_not_equal(c, d);
    assert_int_equal(c[14], '4');
}

/* ---- digests -------------------------------------------------------------- */

static const char *const kat_empty[VL_DIGEST_COUNT] = {
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
    "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce",
};
static const char *const kat_abc[VL_DIGEST_COUNT] = {
    "900150983cd24fb0d6963f7d28e17f72",
    "a9993e364706816aba3e25717850c26c9cd0d89d",
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
    "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
};

static void test_digest_names(void **state)
{
    static const char *names[] = {"md5", "sha1", "sha256", "sha512",
                                  "blake2b-512"};
    static const size_t lens[] = {32, 40, 64, 128, 128};
    vl_digest_alg alg;
    unsigned mask;
    vl_error err;
    (void)state;

    for (int i = 0; i < VL_DIGEST_COUNT; i++) {
        assert_string_equal(vl_digest_name((vl_digest_alg)i), names[i]);
        assert_int_equal(vl_digest_from_name(names[i], &alg), 0);
        assert_int_equal(alg, i);
        assert_int_equal(vl_digest_hex_len((vl_digest_alg)i), lens[i]);
    }
    assert_int_equal(vl_digest_from_name("sha-256", &alg), -1);
    assert_int_equal(vl_digest_from_name("SHA256", &alg), -1);

    assert_int_equal(vl_digest_mask_parse("md5,sha1", &mask, &err), VL_OK);
    assert_int_equal(mask, VL_DIGEST_BIT(VL_MD5) | VL_DIGEST_BIT(VL_SHA1));
    assert_int_equal(vl_digest_mask_parse(" sha512 , blake2b-512 ", &mask, &err),
                     VL_OK);
    assert_int_equal(mask,
                     VL_DIGEST_BIT(VL_SHA512) | VL_DIGEST_BIT(VL_BLAKE2B512));
    mask = 99;
    assert_int_equal(vl_digest_mask_parse("", &mask, &err), VL_OK);
    assert_int_equal(mask, 0);
    mask = 99;
    assert_int_equal(vl_digest_mask_parse("none", &mask, &err), VL_OK);
    assert_int_equal(mask, 0);
    mask = 99;
    assert_int_equal(vl_digest_mask_parse("sha256,crc32", &mask, &err),
                     VL_EINPUT);
    assert_non_null(strstr(err.msg, "crc32"));
    assert_int_equal(mask, 99);

    assert_non_null(strstr(vl_digest_library_version(), "OpenSSL"));
}

static void test_digest_kat(void **state)
{
    char hex[VL_DIGEST_HEX_MAX];
    vl_digest_result res;
    vl_error err;
    (void)state;

    for (int i = 0; i < VL_DIGEST_COUNT; i++) {
        vl_digest_buffer((vl_digest_alg)i, "", 0, hex);
        assert_string_equal(hex, kat_empty[i]);
        vl_digest_buffer((vl_digest_alg)i, "abc", 3, hex);
        assert_string_equal(hex, kat_abc[i]);

        vl_digest_ctx *ctx = vl_digest_new(VL_DIGEST_BIT(i));
        assert_non_null(ctx);
        vl_digest_update(ctx, "a", 1);
        vl_digest_update(ctx, "", 0);
        vl_digest_update(ctx, "bc", 2);
        assert_int_equal(vl_digest_final(ctx, &res, &err), VL_OK);
        vl_digest_free(ctx);
        assert_int_equal(res.mask, VL_DIGEST_BIT(i));
        assert_string_equal(res.hex[i], kat_abc[i]);
        assert_int_equal(strlen(res.hex[i]), vl_digest_hex_len((vl_digest_alg)i));
    }
}

/* Any OpenSSL digest by name: BagIt's normalised names, hashlib's, and
 * OpenSSL's own all find the same digest; known answers for "abc" (FIPS
 * 180-4 and 202 examples). */
static void test_digest_named(void **state)
{
    static const struct {
        const char *name, *evp;
        size_t hex;
        int known;
        const char *abc;
    } c[] = {
        {"sha224", "SHA2-224", 56, -1,
         "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
        {"sha384", "SHA2-384", 96, -1,
         "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
         "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
        {"sha3-256", "SHA3-256", 64, -1,
         "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
        {"sha3_256", "SHA3-256", 64, -1,
         "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
        {"sha3224", "SHA3-224", 56, -1,
         "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf"},
        {"SHA-256", "SHA2-256", 64, VL_SHA256,
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"blake2b", "BLAKE2B-512", 128, VL_BLAKE2B512, NULL},
        {"blake2b-512", "BLAKE2B-512", 128, VL_BLAKE2B512, NULL},
        {"blake2s256", "BLAKE2S-256", 64, -1,
         "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"},
        {"sha512256", "SHA2-512/256", 64, -1,
         "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"},
        {"md5", "MD5", 32, VL_MD5, "900150983cd24fb0d6963f7d28e17f72"},
    };
    char evp[VL_DIGEST_NAME_MAX], hex[VL_DIGEST_HEX_MAX];
    char two[2][VL_DIGEST_HEX_MAX];
    size_t len;
    int known;
    vl_error err = {0};
    (void)state;

    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        if (vl_digest_lookup(c[i].name, evp, &len, &known) != 0)
            fail_msg("%s not found", c[i].name);
        assert_string_equal(evp, c[i].evp);
        assert_int_equal(len, c[i].hex);
        assert_int_equal(known, c[i].known);
        vl_digest_buffer_named(evp, "abc", 3, hex);
        if (c[i].abc)
            assert_string_equal(hex, c[i].abc);
        else
            assert_string_equal(hex, kat_abc[known]);
    }
    /* SHAKE has no fixed length; MD4 is not in the default provider. */
    assert_int_equal(vl_digest_lookup("shake256", evp, &len, &known), -1);
    assert_int_equal(vl_digest_lookup("sha3", evp, &len, &known), -1);
    assert_int_equal(vl_digest_lookup("", evp, &len, &known), -1);
    assert_int_equal(vl_digest_lookup("crc32", evp, &len, &known), -1);

    /* A set fed in pieces gives each digest. */
    const char *names[] = {"SHA2-384", "SHA3-256"};
    vl_digest_set *s = vl_digest_set_new(names, 2);
    assert_non_null(s);
    vl_digest_set_update(s, "a", 1);
    vl_digest_set_update(s, "bc", 2);
    assert_int_equal(vl_digest_set_final(s, two, &err), VL_OK);
    vl_digest_set_free(s);
    assert_string_equal(two[0], c[1].abc);
    assert_string_equal(two[1], c[2].abc);
    const char *bad[] = {"SHA2-256", "NO-SUCH"};
    assert_null(vl_digest_set_new(bad, 2));

    char *dir = make_tmpdir();
    char *path = vl_path_join(dir, "abc");
    uint64_t size = 0;
    assert_int_equal(vl_fs_write_atomic(path, "abc", 3, &err), VL_OK);
    assert_int_equal(vl_digest_file_named(path, names, 2, two, &size, &err),
                     VL_OK);
    assert_int_equal(size, 3);
    assert_string_equal(two[1], c[2].abc);
    free(path);
    path = vl_path_join(dir, "absent");
    assert_int_equal(vl_digest_file_named(path, names, 2, two, NULL, &err),
                     VL_ESYS);
    free(path);
    vl_fs_rmtree(dir, NULL);
    free(dir);
}

static void test_digest_chunks(void **state)
{
    static const size_t sizes[] = {1, 7, 4093, 65537, 3};
    unsigned char *data = big_pattern();
    char oneshot[VL_DIGEST_HEX_MAX];
    vl_digest_result res;
    vl_error err;
    (void)state;

    /* Independent anchor (Python hashlib) for the pattern itself. */
    vl_digest_buffer(VL_SHA256, data, BIG_LEN, oneshot);
    assert_string_equal(oneshot, "0d09f3eabb5c78e5d435c41e3b3755f1"
                                 "c4d038657f739d0be0083c24e71235df");
    vl_digest_buffer(VL_MD5, data, BIG_LEN, oneshot);
    assert_string_equal(oneshot, "b68260e9a33f6d74165da80734481246");

    for (int a = 0; a < VL_DIGEST_COUNT; a++) {
        vl_digest_ctx *ctx = vl_digest_new(VL_DIGEST_BIT(a));
        size_t off = 0, k = 0;

        assert_non_null(ctx);
        while (off < BIG_LEN) {
            size_t n = sizes[k++ % 5];
            if (n > BIG_LEN - off)
                n = BIG_LEN - off;
            vl_digest_update(ctx, data + off, n);
            off += n;
        }
        assert_int_equal(vl_digest_final(ctx, &res, &err), VL_OK);
        vl_digest_free(ctx);
        vl_digest_buffer((vl_digest_alg)a, data, BIG_LEN, oneshot);
        assert_string_equal(res.hex[a], oneshot);
        assert_string_not_equal(res.hex[a], kat_empty[a]);
    }
    free(data);
}

static void test_digest_multi(void **state)
{
    unsigned char *data = big_pattern();
    char *dir = make_tmpdir();
    char *f = vl_path_join(dir, "big.bin");
    unsigned all = (1u << VL_DIGEST_COUNT) - 1;
    vl_digest_result multi, single;
    uint64_t size = 0;
    vl_error err;
    (void)state;

    assert_int_equal(vl_fs_write_atomic(f, data, BIG_LEN, &err), VL_OK);
    assert_int_equal(vl_digest_file(f, all, &multi, &size, &err), VL_OK);
    assert_int_equal(size, BIG_LEN);
    assert_int_equal(multi.mask, all);
    for (int a = 0; a < VL_DIGEST_COUNT; a++) {
        memset(&single, 0, sizeof single);
        assert_int_equal(vl_digest_file(f, VL_DIGEST_BIT(a), &single, NULL,
                                        &err), VL_OK);
        assert_int_equal(single.mask, VL_DIGEST_BIT(a));
        assert_string_equal(single.hex[a], multi.hex[a]);
        /* Algorithms outside the mask stay empty. */
        assert_string_equal(single.hex[(a + 1) % VL_DIGEST_COUNT], "");
    }

    /* vl_digest_fd gives the same answer. */
    int fd = open(f, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(vl_digest_fd(fd, -1, all, &single, &size, &err), VL_OK);
    close(fd);
    assert_memory_equal(&single, &multi, sizeof single);

    char *missing = vl_path_join(dir, "missing.bin");
    assert_int_equal(vl_digest_file(missing, all, &single, &size, &err),
                     VL_ESYS);
    assert_non_null(strstr(err.msg, "missing.bin"));
    assert_int_equal(err.sys_errno, ENOENT);
    free(missing);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    free(f);
    free(dir);
    free(data);
}

struct mem_src {
    const unsigned char *data;
    size_t len, off, step;
    int fail_after; /* fail on this call number, or -1 */
    int calls;
};

/* Hands out odd-sized chunks, never filling the buffer. */
static ssize_t mem_read(void *arg, void *buf, size_t cap, vl_error *err)
{
    struct mem_src *s = arg;
    size_t n;

    assert_int_equal(cap, VL_IO_BUFSIZE);
    if (s->calls++ == s->fail_after) {
        vl_error_set(err, VL_ESYS, "source broke");
        return -1;
    }
    n = s->len - s->off;
    if (n > s->step)
        n = s->step;
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    s->step = s->step * 3 + 1;
    if (s->step > cap)
        s->step = 1;
    return (ssize_t)n;
}

struct observed {
    vl_digest_ctx *ctx;
    uint64_t bytes;
    int chunks;
    int fail_at; /* fail on this chunk number, or -1 */
};

static int observe(void *arg, const void *data, size_t len, vl_error *err)
{
    struct observed *o = arg;

    if (o->chunks++ == o->fail_at)
        return vl_error_set(err, VL_FINDING, "observer says no");
    o->bytes += len;
    vl_digest_update(o->ctx, data, len);
    return VL_OK;
}

static void test_digest_pump(void **state)
{
    unsigned char *data = big_pattern();
    char *dir = make_tmpdir();
    char *f = vl_path_join(dir, "copy.bin");
    struct mem_src src = {data, BIG_LEN, 0, 1, -1, 0};
    struct observed obs = {NULL, 0, 0, -1};
    vl_digest_result res, seen;
    char oneshot[VL_DIGEST_HEX_MAX];
    uint64_t size = 0;
    vl_error err;
    vl_buf copy;
    unsigned mask = VL_DIGEST_BIT(VL_SHA512) | VL_DIGEST_BIT(VL_MD5);
    (void)state;

    obs.ctx = vl_digest_new(VL_DIGEST_BIT(VL_SHA256));
    int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(vl_digest_pump(mem_read, &src, fd, mask, observe, &obs,
                                    &res, &size, &err), VL_OK);
    close(fd);
    assert_int_equal(size, BIG_LEN);
    assert_true(src.calls > 10); /* really was fed in many pieces */
    assert_int_equal(obs.bytes, BIG_LEN);
    assert_int_equal(obs.chunks, src.calls - 1); /* every non-empty read */
    assert_int_equal(vl_digest_final(obs.ctx, &seen, &err), VL_OK);
    vl_digest_free(obs.ctx);
    vl_digest_buffer(VL_SHA256, data, BIG_LEN, oneshot);
    assert_string_equal(seen.hex[VL_SHA256], oneshot);
    vl_digest_buffer(VL_SHA512, data, BIG_LEN, oneshot);
    assert_string_equal(res.hex[VL_SHA512], oneshot);
    vl_digest_buffer(VL_MD5, data, BIG_LEN, oneshot);
    assert_string_equal(res.hex[VL_MD5], oneshot);
    assert_string_equal(res.hex[VL_SHA256], "");

    assert_int_equal(vl_fs_read_file(f, 0, &copy, &err), VL_OK);
    assert_int_equal(copy.len, BIG_LEN);
    assert_memory_equal(copy.data, data, BIG_LEN);
    vl_buf_release(&copy);

    /* A read failure stops the pump with the source's message. */
    struct mem_src bad = {data, BIG_LEN, 0, 100, 3, 0};
    assert_int_equal(vl_digest_pump(mem_read, &bad, -1, mask, NULL, NULL, &res,
                                    &size, &err), VL_ESYS);
    assert_string_equal(err.msg, "source broke");
    assert_int_equal(bad.calls, 4);

    /* An observer failure stops it too, with the observer's status. */
    struct mem_src ok2 = {data, BIG_LEN, 0, 100, -1, 0};
    struct observed obs2 = {vl_digest_new(0), 0, 0, 1};
    assert_int_equal(vl_digest_pump(mem_read, &ok2, -1, mask, observe, &obs2,
                                    &res, &size, &err), VL_FINDING);
    assert_string_equal(err.msg, "observer says no");
    assert_int_equal(ok2.calls, 2);
    vl_digest_free(obs2.ctx);

    /* Writing to a bad descriptor is a system error. */
    struct mem_src ok3 = {data, 10, 0, 100, -1, 0};
    assert_int_equal(vl_digest_pump(mem_read, &ok3, 9999, mask, NULL, NULL,
                                    &res, &size, &err), VL_ESYS);
    assert_int_equal(err.sys_errno, EBADF);

    /* Empty input, no digests requested, NULL err: still fine. */
    struct mem_src empty = {data, 0, 0, 100, -1, 0};
    assert_int_equal(vl_digest_pump(mem_read, &empty, -1, 0, NULL, NULL, &res,
                                    &size, NULL), VL_OK);
    assert_int_equal(size, 0);
    assert_int_equal(res.mask, 0);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    free(f);
    free(dir);
    free(data);
}

/* ---- vl_digest_copy_fd ---------------------------------------------------- */

#define COPY_LEN ((size_t)(17u << 20) + 4099)   /* many chunks, and a part */

static unsigned char *copy_pattern(size_t len)
{
    unsigned char *d = malloc(len);
    uint64_t x = 0x9E3779B97F4A7C15ull;

    assert_non_null(d);
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d[i] = (unsigned char)x;
    }
    return d;
}

/* Copy src to a new dst opened with flags; check the copy byte for byte,
 * every digest against a one-shot digest of data, and the observer's
 * view; return how many bytes the kernel copied. */
static uint64_t copy_and_check(const char *src, const char *dst, int flags,
                               const unsigned char *data, size_t len)
{
    unsigned all = (1u << VL_DIGEST_COUNT) - 1;
    struct observed obs = {vl_digest_new(VL_DIGEST_BIT(VL_SHA256)), 0, 0, -1};
    vl_digest_result seen;
    vl_copy_result r;
    char oneshot[VL_DIGEST_HEX_MAX];
    vl_error err;
    vl_buf copy;
    int in = open(src, O_RDONLY), out = open(dst, flags | O_CREAT | O_EXCL, 0644);

    assert_true(in >= 0 && out >= 0);
    vl_copy_spec cs = {in, src, out, dst, all, observe, &obs, VL_COPY_WRITEBACK};
    assert_int_equal(vl_digest_copy_fd(&cs, &r, &err), VL_OK);
    close(in);
    close(out);
    assert_int_equal(r.size, len);
    assert_int_equal(obs.bytes, len);
    for (int a = 0; a < VL_DIGEST_COUNT; a++) {
        vl_digest_buffer((vl_digest_alg)a, data, len, oneshot);
        assert_string_equal(r.digests.hex[a], oneshot);
    }
    assert_int_equal(vl_digest_final(obs.ctx, &seen, &err), VL_OK);
    vl_digest_free(obs.ctx);
    vl_digest_buffer(VL_SHA256, data, len, oneshot);
    assert_string_equal(seen.hex[VL_SHA256], oneshot);
    assert_int_equal(vl_fs_read_file(dst, 0, &copy, &err), VL_OK);
    assert_int_equal(copy.len, len);
    assert_memory_equal(copy.data, data, len);
    vl_buf_release(&copy);
    return r.kernel_bytes;
}

static void test_digest_copy(void **state)
{
    unsigned char *data = copy_pattern(COPY_LEN);
    char *dir = make_tmpdir();
    char *src = vl_path_join(dir, "src.bin"), *small = vl_path_join(dir, "small.bin");
    char dst[512];
    vl_error err;
    (void)state;

    assert_int_equal(vl_fs_write_atomic(src, data, COPY_LEN, &err), VL_OK);
    assert_int_equal(vl_fs_write_atomic(small, data, 100000, &err), VL_OK);

    /* A big file into a readable copy: the kernel copies all of it. */
    snprintf(dst, sizeof dst, "%s/kernel.bin", dir);
    assert_int_equal(copy_and_check(src, dst, O_RDWR, data, COPY_LEN), COPY_LEN);
    /* The copy cannot be read back: through user space, same result. */
    snprintf(dst, sizeof dst, "%s/wronly.bin", dir);
    assert_int_equal(copy_and_check(src, dst, O_WRONLY, data, COPY_LEN), 0);
    /* A small file: through user space. */
    snprintf(dst, sizeof dst, "%s/small-copy.bin", dir);
    assert_int_equal(copy_and_check(small, dst, O_RDWR, data, 100000), 0);
    /* The test builds' switch forces user space. */
    setenv("VELLUM_NO_COPY_FILE_RANGE", "1", 1);
    snprintf(dst, sizeof dst, "%s/forced.bin", dir);
    assert_int_equal(copy_and_check(src, dst, O_RDWR, data, COPY_LEN), 0);
    setenv("VELLUM_NO_COPY_FILE_RANGE", "0", 1);
    snprintf(dst, sizeof dst, "%s/not-forced.bin", dir);
    assert_int_equal(copy_and_check(src, dst, O_RDWR, data, COPY_LEN), COPY_LEN);
    unsetenv("VELLUM_NO_COPY_FILE_RANGE");

    /* Nothing to digest: the kernel copies into a write-only file, and
     * from the source's current offset on. */
    int in = open(src, O_RDONLY);
    snprintf(dst, sizeof dst, "%s/plain.bin", dir);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0644);
    vl_copy_result r;
    vl_buf copy;
    assert_true(in >= 0 && out >= 0);
    assert_int_equal(lseek(in, 5, SEEK_SET), 5);
    vl_copy_spec plain = {in, src, out, dst, 0, NULL, NULL, 0};
    assert_int_equal(vl_digest_copy_fd(&plain, &r, &err), VL_OK);
    close(in);
    close(out);
    assert_int_equal(r.size, COPY_LEN - 5);
    assert_int_equal(r.kernel_bytes, COPY_LEN - 5);
    assert_string_equal(r.digests.hex[VL_SHA512], "");
    assert_int_equal(vl_fs_read_file(dst, 0, &copy, &err), VL_OK);
    assert_int_equal(copy.len, COPY_LEN - 5);
    assert_memory_equal(copy.data, data + 5, COPY_LEN - 5);
    vl_buf_release(&copy);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    free(src);
    free(small);
    free(dir);
    free(data);
}

/* A pipe as the source (an archive entry, stdin): user space. */
static void test_digest_copy_pipe(void **state)
{
    unsigned char *data = copy_pattern(COPY_LEN);
    char *dir = make_tmpdir();
    char *dst = vl_path_join(dir, "from-pipe.bin");
    unsigned mask = VL_DIGEST_BIT(VL_SHA512) | VL_DIGEST_BIT(VL_BLAKE2B512);
    char oneshot[VL_DIGEST_HEX_MAX];
    vl_copy_result r;
    vl_error err;
    vl_buf copy;
    int p[2];
    (void)state;

    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        _exit(vl_fs_write_all(p[1], data, COPY_LEN) == 0 ? 0 : 1);
    }
    close(p[1]);
    int out = open(dst, O_RDWR | O_CREAT | O_EXCL, 0644);
    assert_true(out >= 0);
    vl_copy_spec cs = {p[0], "the pipe", out, dst, mask, NULL, NULL, 0};
    assert_int_equal(vl_digest_copy_fd(&cs, &r, &err), VL_OK);
    close(p[0]);
    close(out);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(r.size, COPY_LEN);
    assert_int_equal(r.kernel_bytes, 0);
    vl_digest_buffer(VL_SHA512, data, COPY_LEN, oneshot);
    assert_string_equal(r.digests.hex[VL_SHA512], oneshot);
    vl_digest_buffer(VL_BLAKE2B512, data, COPY_LEN, oneshot);
    assert_string_equal(r.digests.hex[VL_BLAKE2B512], oneshot);
    assert_int_equal(vl_fs_read_file(dst, 0, &copy, &err), VL_OK);
    assert_int_equal(copy.len, COPY_LEN);
    assert_memory_equal(copy.data, data, COPY_LEN);
    vl_buf_release(&copy);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    free(dst);
    free(dir);
    free(data);
}

/* Failures keep their errno and say which side failed: a full disk
 * (/dev/full), a file-size limit reached while the kernel copies (its
 * copy_file_range fails, the rest goes through write, which names the
 * cause), and a source that cannot be read. */
static void test_digest_copy_failures(void **state)
{
    unsigned char *data = copy_pattern(COPY_LEN);
    char *dir = make_tmpdir();
    char *src = vl_path_join(dir, "src.bin"), *dst = vl_path_join(dir, "dst.bin");
    unsigned mask = VL_DIGEST_BIT(VL_SHA512);
    vl_copy_result r;
    vl_error err;
    (void)state;

    assert_int_equal(vl_fs_write_atomic(src, data, COPY_LEN, &err), VL_OK);

    int in = open(src, O_RDONLY), out = open("/dev/full", O_RDWR);
    assert_true(in >= 0 && out >= 0);
    vl_copy_spec full = {in, src, out, "/dev/full", mask, NULL, NULL, 0};
    assert_int_equal(vl_digest_copy_fd(&full, &r, &err), VL_ESYS);
    assert_int_equal(err.sys_errno, ENOSPC);
    assert_int_equal(r.read_failed, 0);
    assert_non_null(strstr(err.msg, "cannot write /dev/full"));
    close(in);
    close(out);

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)9 << 20;   /* a chunk past 8 MiB fails */
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    in = open(src, O_RDONLY);
    out = open(dst, O_RDWR | O_CREAT | O_EXCL, 0644);
    assert_true(in >= 0 && out >= 0);
    vl_copy_spec big = {in, src, out, dst, mask, NULL, NULL, VL_COPY_WRITEBACK};
    int rc = vl_digest_copy_fd(&big, &r, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    close(in);
    close(out);
    assert_int_equal(rc, VL_ESYS);
    assert_int_equal(err.sys_errno, EFBIG);
    assert_int_equal(r.read_failed, 0);
    assert_true(r.kernel_bytes >= (8u << 20));
    assert_non_null(strstr(err.msg, "dst.bin"));

    in = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(in >= 0);
    vl_copy_spec unreadable = {in, dir, -1, NULL, mask, NULL, NULL, 0};
    assert_int_equal(vl_digest_copy_fd(&unreadable, &r, &err), VL_ESYS);
    assert_int_equal(err.sys_errno, EISDIR);
    assert_int_equal(r.read_failed, 1);
    assert_non_null(strstr(err.msg, "cannot read"));
    close(in);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    free(src);
    free(dst);
    free(dir);
    free(data);
}

/* ---- worker pool ---------------------------------------------------------- */

struct sum_ctx {
    atomic_ullong sum;
    atomic_int *seen;
    int nthreads_max;
    atomic_int bad_worker;
    size_t fail_at;   /* SIZE_MAX = never */
    int fail_rest;    /* every item from fail_at on fails, not just that one */
    atomic_int done;
    atomic_int calls;
};

static int sum_fn(void *ctx, size_t index, int worker, vl_error *err)
{
    struct sum_ctx *c = ctx;

    atomic_fetch_add(&c->calls, 1);
    if (worker < 0 || worker >= c->nthreads_max)
        atomic_store(&c->bad_worker, 1);
    if (index == c->fail_at || (c->fail_rest && index > c->fail_at))
        return vl_error_set(err, VL_FINDING, "item %zu is bad", index);
    atomic_fetch_add(&c->seen[index], 1);
    atomic_fetch_add(&c->sum, (unsigned long long)index);
    atomic_fetch_add(&c->done, 1);
    return VL_OK;
}

/* Only results and ordering guarantees are asserted, never how far the
 * other workers got by some moment: that depends on scheduling.  The pool
 * hands indexes out in order and a worker finishes the item it holds, so
 * after a failure at item k every item before k was done, exactly once. */
static void run_sum_rest(int nthreads, size_t fail_at, int fail_rest,
                         int expect_rc)
{
    struct sum_ctx c;
    vl_error err;
    size_t n = 10000;
    int rc;

    c.seen = calloc(n, sizeof *c.seen);
    assert_non_null(c.seen);
    atomic_init(&c.sum, 0);
    atomic_init(&c.bad_worker, 0);
    atomic_init(&c.done, 0);
    atomic_init(&c.calls, 0);
    c.nthreads_max = nthreads > 0 ? nthreads : vl_ncpu();
    c.fail_at = fail_at;
    c.fail_rest = fail_rest;
    vl_error_clear(&err);
    rc = vl_pool_run(n, nthreads, sum_fn, &c, &err);
    assert_int_equal(rc, expect_rc);
    assert_int_equal(atomic_load(&c.bad_worker), 0);
    if (expect_rc == VL_OK) {
        assert_int_equal(atomic_load(&c.sum), (unsigned long long)n * (n - 1) / 2);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(atomic_load(&c.seen[i]), 1);
    } else {
        assert_int_equal(err.status, expect_rc);
        for (size_t i = 0; i < n; i++)
            assert_true(atomic_load(&c.seen[i]) <= 1);
        for (size_t i = 0; i < fail_at; i++)
            assert_int_equal(atomic_load(&c.seen[i]), 1);
        assert_int_equal(atomic_load(&c.seen[fail_at]), 0);
        if (nthreads == 1) {
            /* one worker: it stops at the failure, nothing after it runs */
            assert_string_equal(err.msg, "item 500 is bad");
            assert_int_equal(atomic_load(&c.done), 500);
            assert_int_equal(atomic_load(&c.calls), 501);
        } else if (!fail_rest) {
            assert_string_equal(err.msg, "item 500 is bad");
        } else {
            /* Every item from fail_at on fails: each worker stops at its
             * first failure, so the run ends after at most one item per
             * worker past fail_at, whatever the scheduling, and the error
             * reported is one of those. */
            int workers = nthreads > 0 ? nthreads : vl_ncpu();
            unsigned long first = strtoul(err.msg + strlen("item "), NULL, 10);
            assert_int_equal(atomic_load(&c.done), (int)fail_at);
            assert_true(atomic_load(&c.calls) <= (int)fail_at + workers);
            assert_true(first >= fail_at && first < fail_at + (size_t)workers);
        }
    }
    free(c.seen);
}

static void run_sum(int nthreads, size_t fail_at, int expect_rc)
{
    run_sum_rest(nthreads, fail_at, 0, expect_rc);
}

static void test_pool(void **state)
{
    (void)state;
    assert_true(vl_ncpu() >= 1);
    run_sum(2, SIZE_MAX, VL_OK);
    run_sum(0, SIZE_MAX, VL_OK);
    run_sum(1, SIZE_MAX, VL_OK);
    run_sum(64, SIZE_MAX, VL_OK);
    run_sum(2, 500, VL_FINDING);
    run_sum(1, 500, VL_FINDING);
    run_sum(0, 500, VL_FINDING);
    run_sum_rest(2, 500, 1, VL_FINDING);
    run_sum_rest(8, 500, 1, VL_FINDING);
    run_sum_rest(1, 500, 1, VL_FINDING);
    /* Nothing to do is success. */
    assert_int_equal(vl_pool_run(0, 4, sum_fn, NULL, NULL), VL_OK);
}

static int cap_fn(void *ctx, size_t index, int worker, vl_error *err)
{
    atomic_int *maxw = ctx;
    (void)index;
    (void)err;
    if (worker > atomic_load(maxw))
        atomic_store(maxw, worker);
    return VL_OK;
}

static void test_pool_cap(void **state)
{
    atomic_int maxw;
    (void)state;

    /* More threads than items: no worker id beyond the item count. */
    atomic_init(&maxw, -1);
    assert_int_equal(vl_pool_run(3, 16, cap_fn, &maxw, NULL), VL_OK);
    assert_true(atomic_load(&maxw) >= 0 && atomic_load(&maxw) < 3);
}

/* ---- kv ------------------------------------------------------------------- */

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v = 0;
    char out[32];
    assert_int_equal(vl_size_parse("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(vl_size_parse("512", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(vl_size_parse("64M", &v), 0);
    assert_int_equal(v, 64u << 20);
    assert_int_equal(vl_size_parse("2GiB", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(vl_size_parse("1kb", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(vl_size_parse("512B", &v), 0);
    assert_int_equal(v, 512);
    const char *bad[] = {"", "M", "-1", "1X", "1 M", "1MM", "16777216T", "5BB",
                         "5iB", "1KBB", "99999999999999999999", "18446744073709551616",
                         NULL};
    for (int i = 0; bad[i]; i++)
        if (vl_size_parse(bad[i], &v) == 0)
            fail_msg("\"%s\" taken as a size", bad[i]);
    vl_size_format(0, out);
    assert_string_equal(out, "0 B");
    vl_size_format(1023, out);
    assert_string_equal(out, "1023 B");
    vl_size_format(4194304, out);
    assert_string_equal(out, "4.0 MiB");
    vl_size_format(25079808, out);
    assert_string_equal(out, "23.9 MiB");
}

static void test_kv(void **state)
{
    char *dir = make_tmpdir();
    char *f = vl_path_join(dir, "vellum.conf");
    char *g = vl_path_join(dir, "saved.conf");
    vl_kv *kv = NULL, *kv2 = NULL;
    vl_error err;
    vl_buf b;
    (void)state;

    write_file(dir, "vellum.conf",
               "# comment\n"
               "\n"
               "  digest_algorithm   =   sha512  \n"
               "\t# indented comment\n"
               "fixity = md5, sha1\r\n"
               "empty =\n"
               "url = http://x/?a=b#frag\n"
               "digest_algorithm = sha256\n");
    assert_int_equal(vl_kv_load(f, &kv, &err), VL_OK);
    assert_non_null(kv);
    assert_string_equal(vl_kv_get(kv, "digest_algorithm"), "sha256");
    assert_string_equal(vl_kv_get(kv, "fixity"), "md5, sha1");
    assert_string_equal(vl_kv_get(kv, "empty"), "");
    assert_string_equal(vl_kv_get(kv, "url"), "http://x/?a=b#frag");
    assert_null(vl_kv_get(kv, "missing"));

    assert_int_equal(vl_kv_set(kv, "new_key", "v1"), VL_OK);
    assert_int_equal(vl_kv_set(kv, "fixity", "none"), VL_OK);
    assert_int_not_equal(vl_kv_set(kv, "bad key", "v"), VL_OK);
    assert_int_not_equal(vl_kv_set(kv, "k", "line\nbreak"), VL_OK);
    assert_int_equal(vl_kv_save(kv, g, &err), VL_OK);

    assert_int_equal(vl_fs_read_file(g, 0, &b, &err), VL_OK);
    assert_string_equal(b.data,
                        "# vellum repository configuration\n"
                        "digest_algorithm = sha256\n"
                        "fixity = none\n"
                        "empty = \n"
                        "url = http://x/?a=b#frag\n"
                        "new_key = v1\n");
    vl_buf_release(&b);

    assert_int_equal(vl_kv_load(g, &kv2, &err), VL_OK);
    assert_string_equal(vl_kv_get(kv2, "new_key"), "v1");
    assert_string_equal(vl_kv_get(kv2, "fixity"), "none");
    assert_string_equal(vl_kv_get(kv2, "empty"), "");
    vl_kv_free(kv2);
    vl_kv_free(kv);

    /* A fresh one saves just the header. */
    kv = vl_kv_new();
    assert_int_equal(vl_kv_save(kv, g, &err), VL_OK);
    vl_kv_free(kv);
    assert_int_equal(vl_fs_read_file(g, 0, &b, &err), VL_OK);
    assert_string_equal(b.data, "# vellum repository configuration\n");
    vl_buf_release(&b);

    write_file(dir, "bad.conf", "# ok\na = 1\nthis line is wrong\n");
    char *bad = vl_path_join(dir, "bad.conf");
    kv = (vl_kv *)1;
    assert_int_equal(vl_kv_load(bad, &kv, &err), VL_EINPUT);
    assert_null(kv);
    assert_non_null(strstr(err.msg, "bad.conf:3"));
    write_file(dir, "bad.conf", "= value\n");
    assert_int_equal(vl_kv_load(bad, &kv, &err), VL_EINPUT);
    assert_non_null(strstr(err.msg, "bad.conf:1"));
    free(bad);

    char *missing = vl_path_join(dir, "missing.conf");
    assert_int_equal(vl_kv_load(missing, &kv, &err), VL_ESYS);
    assert_non_null(strstr(err.msg, "missing.conf"));
    free(missing);

    assert_int_equal(vl_fs_rmtree(dir, &err), VL_OK);
    free(g);
    free(f);
    free(dir);
}

/* "Did you mean": optimal string alignment distance and what is close
 * enough to suggest. */
static void test_similarity(void **state)
{
    (void)state;
    assert_int_equal(vl_edit_distance("", ""), 0);
    assert_int_equal(vl_edit_distance("abc", ""), 3);
    assert_int_equal(vl_edit_distance("ingset", "ingest"), 1);   /* a swap */
    assert_int_equal(vl_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(vl_edit_distance("urn:x:abd", "urn:x:abc"), 1);
    assert_int_equal(vl_similarity("ingset", "ingest"), 1);
    assert_int_equal(vl_similarity("urn:x:ab", "urn:x:abc"), 1);   /* beginning */
    assert_int_equal(vl_similarity("lss", "ls"), 1);
    assert_int_equal(vl_similarity("x", "ls"), -1);
    assert_int_equal(vl_similarity("ls", "ls"), -1);               /* the same */
    assert_int_equal(vl_similarity("cat", "get"), -1);   /* 2 is too far for short */
    assert_int_equal(vl_similarity("validat", "validate"), 1);
    assert_int_equal(vl_similarity("urn:x:long", "urn:y:lung"), 2);
    assert_int_equal(vl_similarity("reindex", "recover"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_error_oom),
        cmocka_unit_test(test_grow),
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_fs_basic),
        cmocka_unit_test(test_write_atomic),
        cmocka_unit_test(test_fs_modes),
        cmocka_unit_test(test_rmtree),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_walk_spilled),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_name_escape),
        cmocka_unit_test(test_object_id),
        cmocka_unit_test(test_error_escapes),
        cmocka_unit_test(test_logical_path),
        cmocka_unit_test(test_name_shorten),
        cmocka_unit_test(test_logical_path_limits),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_time_ns),
        cmocka_unit_test(test_time_mono),
        cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_digest_names),
        cmocka_unit_test(test_digest_kat),
        cmocka_unit_test(test_digest_named),
        cmocka_unit_test(test_digest_chunks),
        cmocka_unit_test(test_digest_multi),
        cmocka_unit_test(test_digest_pump),
        cmocka_unit_test(test_digest_copy),
        cmocka_unit_test(test_digest_copy_pipe),
        cmocka_unit_test(test_digest_copy_failures),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_pool_cap),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_kv),
        cmocka_unit_test(test_similarity),
    };

    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
