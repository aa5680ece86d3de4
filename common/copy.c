/* A file copied while its digests are computed: the copy stays in the
 * kernel (copy_file_range, a reflink where the filesystem can) and the
 * digests read each chunk back from the copy's pages while they are still
 * in the page cache, so what is digested is what was stored.  Where the
 * kernel cannot copy (another filesystem, a pipe, a descriptor opened
 * write-only, an old kernel), the bytes go through user space, one read
 * feeding the digests and the write, as vl_digest_pump does. */
#include "vl_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The kernel copies files from one buffer (1 MiB) on.  A smaller file is
 * one read and one write through user space; a kernel copy cannot beat
 * that (it needs the same write, a read back for the digests, and an
 * fstat and fcntl more), and most files of a deposit are small. */
#define KERNEL_MIN ((off_t)VL_IO_BUFSIZE)

/* What the kernel copies at a time before the digests read it back: small
 * enough that the chunk just written is still in the CPU's cache when it
 * is read back (8 MiB chunks cost about 15% more CPU time here than 1 or 2
 * MiB), large enough that the calls cost nothing to speak of; memory
 * stays one buffer whatever the file's size. */
#define CHUNK ((size_t)2 << 20)

/* With VL_COPY_WRITEBACK, writeback of what was written starts every
 * 8 MiB, so the disk writes while the next chunks are hashed and the
 * caller's later sync has little left to wait for.  Smaller files are
 * left to that sync. */
#define WRITEBACK_EVERY ((off_t)8 << 20)

struct copy_state {
    const vl_copy_spec *s;
    vl_copy_result *r;
    vl_error *err;
    vl_digest_ctx *ctx;
    char *buf;
    off_t out_pos;      /* offset in out_fd of the next byte written */
    off_t wb_from;      /* writeback not yet started from here; -1: none */
};

static const char *in_name(const struct copy_state *c, char *tmp, size_t cap)
{
    if (c->s->in_name)
        return c->s->in_name;
    snprintf(tmp, cap, "descriptor %d", c->s->in_fd);
    return tmp;
}

static const char *out_name(const struct copy_state *c, char *tmp, size_t cap)
{
    if (c->s->out_name)
        return c->s->out_name;
    snprintf(tmp, cap, "descriptor %d", c->s->out_fd);
    return tmp;
}

/* The test builds can turn the kernel copy off (VELLUM_NO_COPY_FILE_RANGE
 * set and not "0"), so the tests cover the read and write path on any
 * filesystem. */
static int kernel_copy_off(void)
{
#ifdef VELLUM_TEST_HOOKS
    const char *v = getenv("VELLUM_NO_COPY_FILE_RANGE");
    return v && *v && strcmp(v, "0") != 0;
#else
    return 0;
#endif
}

/* Every byte, in order, to the digests and the observer. */
static int feed(struct copy_state *c, const char *data, size_t len)
{
    vl_digest_update(c->ctx, data, len);
    if (c->s->observer)
        return c->s->observer(c->s->observer_arg, data, len, c->err);
    return VL_OK;
}

static void writeback(struct copy_state *c, int last)
{
    off_t len;

    if (c->wb_from < 0)
        return;
    len = c->out_pos - c->wb_from;
    if (len >= WRITEBACK_EVERY || (last && len > 0 && c->out_pos >= WRITEBACK_EVERY)) {
        /* Only a hint: a failure here shows up at the caller's sync. */
        (void)sync_file_range(c->s->out_fd, c->wb_from, len, SYNC_FILE_RANGE_WRITE);
        c->wb_from = c->out_pos;
    }
}

/* The kernel copies CHUNK bytes, then they are read back from the copy.
 * VL_OK when the kernel reached the end or stopped copying: whatever is
 * left (nothing, usually) goes through user space, which reads to the
 * source's real end (some filesystems' copy_file_range stops short) and
 * names the cause of a failure precisely (reading the source or writing
 * the copy: a full disk stays ENOSPC).  Else the failure, in err. */
static int kernel_copy(struct copy_state *c, int read_back)
{
    /* Nothing to read back: larger steps, each started on its way to the
     * disk when the caller asks (and fewer, larger reflinks). */
    size_t step = read_back ? CHUNK : (size_t)WRITEBACK_EVERY;
    char tmp[32];

    for (;;) {
        ssize_t n = copy_file_range(c->s->in_fd, NULL, c->s->out_fd, NULL, step, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return VL_OK;
        for (ssize_t got = 0; read_back && got < n;) {
            size_t want = (size_t)(n - got) < VL_IO_BUFSIZE ? (size_t)(n - got)
                                                            : VL_IO_BUFSIZE;
            ssize_t k = pread(c->s->out_fd, c->buf, want, c->out_pos + got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                if (k == 0)
                    errno = EIO;   /* the copy got shorter under us */
                return vl_error_sys(c->err, "cannot read back %s",
                                    out_name(c, tmp, sizeof tmp));
            }
            int rc = feed(c, c->buf, (size_t)k);
            if (rc != VL_OK)
                return rc;
            got += k;
        }
        c->out_pos += n;
        c->r->size += (uint64_t)n;
        c->r->kernel_bytes += (uint64_t)n;
        writeback(c, 0);
    }
}

/* Through user space: one read feeds the digests, the observer and the
 * write.  VL_OK at the source's end, else the failure in err. */
static int user_copy(struct copy_state *c)
{
    char tmp[32];

    for (;;) {
        ssize_t n = read(c->s->in_fd, c->buf, VL_IO_BUFSIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            c->r->read_failed = 1;
            return vl_error_sys(c->err, "cannot read %s", in_name(c, tmp, sizeof tmp));
        }
        if (n == 0)
            return VL_OK;
        int rc = feed(c, c->buf, (size_t)n);
        if (rc != VL_OK)
            return rc;
        if (c->s->out_fd >= 0) {
            if (vl_fs_write_all(c->s->out_fd, c->buf, (size_t)n) != 0)
                return vl_error_sys(c->err, "cannot write %s",
                                    out_name(c, tmp, sizeof tmp));
            c->out_pos += n;
            writeback(c, 0);
        }
        c->r->size += (uint64_t)n;
    }
}

/* Whether the kernel can copy: two regular files, at least KERNEL_MIN
 * bytes left in the source, and a copy that can be read back when the
 * bytes are to be digested or observed. */
static int kernel_copy_fits(const vl_copy_spec *s, int read_back)
{
    struct stat in, out;
    off_t at;

    if (s->out_fd < 0 || kernel_copy_off())
        return 0;
    if (fstat(s->in_fd, &in) != 0 || !S_ISREG(in.st_mode) ||
        fstat(s->out_fd, &out) != 0 || !S_ISREG(out.st_mode))
        return 0;
    at = lseek(s->in_fd, 0, SEEK_CUR);
    if (at < 0 || in.st_size - at < KERNEL_MIN)
        return 0;
    return !read_back || (fcntl(s->out_fd, F_GETFL) & O_ACCMODE) == O_RDWR;
}

int vl_digest_copy_fd(const vl_copy_spec *s, vl_copy_result *out, vl_error *err)
{
    vl_error local;
    vl_copy_result mine;
    vl_copy_result *r = out ? out : &mine;
    struct copy_state c = {s, r, err ? err : &local, NULL, NULL, 0, -1};
    int read_back = s->mask != 0 || s->observer != NULL, rc = VL_OK;

    memset(r, 0, sizeof *r);
    vl_error_clear(c.err);
    c.buf = malloc(VL_IO_BUFSIZE);
    c.ctx = vl_digest_new(s->mask);
    if (!c.buf || !c.ctx) {
        rc = vl_error_oom(c.err);
        goto done;
    }
    if (s->out_fd >= 0 && (c.out_pos = lseek(s->out_fd, 0, SEEK_CUR)) < 0)
        c.out_pos = 0;   /* a pipe: no offsets, and no writeback to start */
    else if (s->out_fd >= 0 && (s->flags & VL_COPY_WRITEBACK))
        c.wb_from = c.out_pos;
    if (kernel_copy_fits(s, read_back) && (rc = kernel_copy(&c, read_back)) != VL_OK)
        goto done;
    if ((rc = user_copy(&c)) != VL_OK)
        goto done;
    writeback(&c, 1);
    rc = vl_digest_final(c.ctx, &r->digests, c.err);
done:
    vl_digest_free(c.ctx);
    free(c.buf);
    return rc;
}
