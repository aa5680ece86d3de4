/* PRONOM conformance against the signature file itself: tests/pronom/
 * skeletons.py (an independent reading of DROID's compiled signature
 * format, in Python) writes one minimal file per InternalSignature, the
 * engine (ingest/pronom.h) identifies each, and the result is compared with
 * the FileFormats that use the signature.  Every signature must pass or be
 * listed, with its reason, in tests/pronom/known-differences*.tsv, and
 * every listed one must still differ exactly as recorded, so the list
 * cannot go stale.  Before that, each skeleton is matched against its own
 * signature alone (vl_pronom_sig_match over the whole file), where no
 * priorities or windows intervene: every one must match, so a failure
 * there is a matcher bug (or a generator bug), never a listed difference.
 *
 * Environment: VELLUM_SHARED (default /work/shared) holds pronom/;
 * VELLUM_TESTS (default "tests": suites run from the repository root) holds
 * pronom/skeletons.py; VELLUM_TEST_KEEP keeps the skeleton folder;
 * VELLUM_SKEL_DIFFS=FILE writes every difference (listed or not) there, a
 * starting point when the signature file or the engine changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A white-box test: it uses ingest/'s private pronom.h and pronom_internal.h, so it
 * defines what that folder's own sources get from the Makefile. */
#define VL_INGEST_INTERNAL
#include "pronom.h"
#include "pronom_internal.h"
#include "vl_common.h"

extern char **environ;

/* ---- paths ------------------------------------------------------------- */

static const char *shared_dir(void)
{
    const char *s = getenv("VELLUM_SHARED");
    return s && *s ? s : "/work/shared";
}

static const char *tests_dir(void)
{
    const char *s = getenv("VELLUM_TESTS");
    return s && *s ? s : "tests";
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the known-differences list ----------------------------------------- */

typedef struct {
    char sig[32];
    char expected[256];
    char got[256];
    int line;
    int present;     /* the signature file still has this signature */
} known_diff;

typedef struct {
    known_diff *v;
    size_t n, cap;
} known_list;

/* Split line in place at tabs into at most max fields; returns the count. */
static size_t split_tabs(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        f[n++] = p;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

/* A missing list is an empty one (a signature file with no differences);
 * a malformed line fails the test, since it would silently list nothing. */
static void load_known(const char *path, known_list *k)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    if (!f) {
        if (errno != ENOENT)
            fail_msg("cannot read %s: %s", path, strerror(errno));
        return;
    }
    while (getline(&line, &cap, f) >= 0) {
        char *fld[4];
        lineno++;
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\0')
            continue;
        size_t nf = split_tabs(line, fld, 4);
        if (nf < 4 || !fld[3][0])
            fail_msg("%s:%d: want signature, expected, got, reason "
                     "(tab-separated)", path, lineno);
        if (k->n == k->cap) {
            k->cap = k->cap ? k->cap * 2 : 64;
            k->v = realloc(k->v, k->cap * sizeof *k->v);
            assert_non_null(k->v);
        }
        known_diff *d = &k->v[k->n++];
        memset(d, 0, sizeof *d);
        snprintf(d->sig, sizeof d->sig, "%s", fld[0]);
        snprintf(d->expected, sizeof d->expected, "%s", fld[1]);
        snprintf(d->got, sizeof d->got, "%s", fld[2]);
        d->line = lineno;
    }
    free(line);
    fclose(f);
}

static known_diff *find_known(known_list *k, const char *sig)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->v[i].sig, sig) == 0)
            return &k->v[i];
    return NULL;
}

/* ---- scratch folders ------------------------------------------------------
 * A failing assertion leaves the test function by longjmp, so the folders
 * are removed by the group teardown rather than at the end of each test. */

static char g_dirs[8][64];
static size_t g_ndirs;

static const char *new_outdir(void)
{
    assert_true(g_ndirs < sizeof g_dirs / sizeof g_dirs[0]);
    char *d = g_dirs[g_ndirs];
    snprintf(d, sizeof g_dirs[0], "/tmp/vl-skeletons-XXXXXX");
    assert_non_null(mkdtemp(d));
    g_ndirs++;
    return d;
}

static int teardown(void **state)
{
    vl_error err = {0};
    for (size_t i = 0; i < g_ndirs; i++) {
        if (getenv("VELLUM_TEST_KEEP"))
            fprintf(stderr, "kept %s\n", g_dirs[i]);
        else
            vl_fs_rmtree(g_dirs[i], &err);
    }
    return 0;
}

/* ---- running the generator ---------------------------------------------- */

static void run_generator(const char *sigfile, const char *confile,
                          const char *outdir)
{
    char script[4096];
    char *argv[6];
    pid_t pid;
    int st, rc, i = 0;
    snprintf(script, sizeof script, "%s/pronom/skeletons.py", tests_dir());
    argv[i++] = "python3";
    argv[i++] = script;
    argv[i++] = (char *)sigfile;
    argv[i++] = (char *)outdir;
    if (confile)
        argv[i++] = (char *)confile;
    argv[i] = NULL;
    rc = posix_spawnp(&pid, "python3", NULL, NULL, argv, environ);
    if (rc != 0)
        fail_msg("cannot run python3 %s: %s", script, strerror(rc));
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("python3 %s %s %s failed (status %d)", script, sigfile,
                 outdir, st);
}

/* One generation per signature file, shared by its test cases (the
 * generator takes a few seconds; the skeletons are only read). */
static struct {
    char sigfile[4096];
    const char *outdir;
} g_gen[4];
static size_t g_ngen;

static const char *generated(const char *sigfile, const char *confile)
{
    for (size_t i = 0; i < g_ngen; i++)
        if (strcmp(g_gen[i].sigfile, sigfile) == 0)
            return g_gen[i].outdir;
    assert_true(g_ngen < sizeof g_gen / sizeof g_gen[0]);
    if (access(sigfile, R_OK) != 0)
        fail_msg("no signature file %s (VELLUM_SHARED=%s)", sigfile,
                 shared_dir());
    if (confile && access(confile, R_OK) != 0)
        fail_msg("no container file %s (VELLUM_SHARED=%s)", confile,
                 shared_dir());
    const char *d = new_outdir();
    run_generator(sigfile, confile, d);
    snprintf(g_gen[g_ngen].sigfile, sizeof g_gen[0].sigfile, "%s", sigfile);
    g_gen[g_ngen++].outdir = d;
    return d;
}

/* ---- identifying one file ----------------------------------------------- */

/* Read the first and last bytes the engine asks for, as ingest does. */
static int identify_file(const vl_pronom *p, const char *path,
                         const char *name, vl_pronom_result *res,
                         vl_error *err)
{
    size_t bofcap = vl_pronom_bof_bytes(p), eofcap = vl_pronom_eof_bytes(p);
    uint8_t *bof = NULL, *eof = NULL;
    size_t boflen, eoflen;
    struct stat st;
    int fd = -1, rc = VL_ESYS;

    fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        vl_error_set(err, VL_ESYS, "%s: %s", path, strerror(errno));
        goto done;
    }
    boflen = (uint64_t)st.st_size < bofcap ? (size_t)st.st_size : bofcap;
    eoflen = (uint64_t)st.st_size < eofcap ? (size_t)st.st_size : eofcap;
    bof = malloc(boflen + 1);
    eof = malloc(eoflen + 1);
    assert_non_null(bof);
    assert_non_null(eof);
    if (pread(fd, bof, boflen, 0) != (ssize_t)boflen ||
        pread(fd, eof, eoflen, st.st_size - (off_t)eoflen) != (ssize_t)eoflen) {
        vl_error_set(err, VL_ESYS, "%s: short read", path);
        goto done;
    }
    rc = vl_pronom_identify(p, bof, boflen, eof, eoflen, (uint64_t)st.st_size,
                            name, path, res, err);
done:
    if (fd >= 0)
        close(fd);
    free(bof);
    free(eof);
    return rc;
}

/* ---- one signature file against the engine -------------------------------- */

enum { EXACT, INCLUDED, WRONG, NONE, NKIND };
static const char *const kind_name[NKIND] = {"exact", "included", "wrong",
                                             "none"};

/* Is puid among the space-separated PUIDs in list? */
static int puid_in(const char *puid, const char *list)
{
    size_t n = strlen(puid);
    for (const char *p = list; (p = strstr(p, puid)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

typedef struct {
    const char *label;       /* "V122" */
    const char *sigfile;
    const char *confile;     /* or NULL */
    const char *known;       /* the known-differences file */
    int containers;          /* 1: the ZIP container skeletons only;
                                0: the internal signatures only */
    double min_rate;
} suite;

#define CONTAINER_PREFIX "container:"

static int is_container_row(const char *sig)
{
    return strncmp(sig, CONTAINER_PREFIX, strlen(CONTAINER_PREFIX)) == 0;
}

static void run_suite(const suite *s)
{
    const char *outdir;
    char *manifest = NULL, *line = NULL;
    size_t cap = 0, counts[NKIND] = {0}, total = 0, unused = 0;
    size_t unlisted = 0, stale = 0;
    known_list known = {0};
    vl_pronom_options o = {s->sigfile, s->confile, NULL};
    vl_pronom *p = NULL;
    vl_error err = {0};
    FILE *mf = NULL, *diffs = NULL;
    const char *diffpath = getenv("VELLUM_SKEL_DIFFS");
    double t0 = now_s(), t_gen, t_open, t_id;

    load_known(s->known, &known);
    outdir = generated(s->sigfile, s->confile);
    t_gen = now_s();
    if (vl_pronom_open(&o, &p, &err) != VL_OK)
        fail_msg("vl_pronom_open %s: %s", s->sigfile, err.msg);
    t_open = now_s();
    if (s->containers && !vl_pronom_container_version(p)[0]) {
        /* Only the temporary stub (pronom_container_stub.c, until the
         * pronom-cont branch is merged) reads a container file and knows
         * no version; the real reader fails on a file it cannot read. */
        printf("# %s: the engine has no container matching yet "
               "(container version \"\"): ZIP skeletons not checked\n",
               s->label);
        vl_pronom_close(p);
        skip();
    }
    if (diffpath && *diffpath) {
        diffs = fopen(diffpath, "a");   /* one file for every suite */
        if (!diffs)
            fail_msg("cannot write %s: %s", diffpath, strerror(errno));
        fprintf(diffs, "# %s: signature\texpected\tgot\tkind\tfile\t"
                "basis/warning\n",
                s->label);
    }

    manifest = vl_path_join(outdir, "manifest.tsv");
    mf = fopen(manifest, "r");
    if (!mf)
        fail_msg("no manifest %s", manifest);
    while (getline(&line, &cap, mf) >= 0) {
        char *fld[4], got[VL_PRONOM_MAX_MATCHES * 34 + 8] = "";
        vl_pronom_result res;
        size_t nin = 0;
        int kind;
        if (line[0] == '#')
            continue;
        if (split_tabs(line, fld, 4) < 3)
            fail_msg("bad manifest line in %s", manifest);
        const char *file = fld[0], *sig = fld[1], *expected = fld[2];
        if (is_container_row(sig) != s->containers)
            continue;
        if (!expected[0]) {       /* no format uses it: nothing to expect */
            unused++;
            continue;
        }
        total++;
        memset(&res, 0, sizeof res);
        if (strcmp(file, "-") == 0) {
            /* the generator could not satisfy it: listed or a failure */
            snprintf(got, sizeof got, "not-generated");
            kind = NONE;
        } else {
            char *path = vl_path_join(outdir, file);
            if (identify_file(p, path, file, &res, &err) != VL_OK)
                fail_msg("identify %s (signature %s): %s", file, sig, err.msg);
            free(path);
            for (size_t i = 0; i < res.n; i++) {
                size_t l = strlen(got);
                snprintf(got + l, sizeof got - l, "%s%s", l ? " " : "",
                         res.m[i].puid);
                nin += puid_in(res.m[i].puid, expected);
            }
            if (res.n == 0)
                snprintf(got, sizeof got, "none");
            kind = res.n == 0 ? NONE : nin == res.n ? EXACT
                 : nin ? INCLUDED : WRONG;
        }
        counts[kind]++;
        int pass = kind == EXACT || kind == INCLUDED;
        known_diff *k = find_known(&known, sig);
        if (k)
            k->present = 1;
        if ((kind != EXACT || strchr(expected, ' ')) && diffs)
            fprintf(diffs, "%s\t%s\t%s\t%s\t%s\t%s%s%s\n", sig, expected,
                    got, kind_name[kind], file, res.n ? res.m[0].basis : "",
                    res.warning[0] ? " / " : "", res.warning);
        if (pass && k) {
            stale++;
            fprintf(stderr, "%s:%d: signature %s is listed but now passes "
                    "(%s gives %s): remove the line\n", s->known, k->line, sig,
                    file, got);
        } else if (!pass && !k) {
            /* the first few in full; the diffs file has them all */
            if (unlisted++ < 25)
                fprintf(stderr, "# %s: signature %s (%s): expected %s, got %s (%s)"
                        " - an engine bug, or list it with the reason\n",
                        s->label, sig, file, expected, got, kind_name[kind]);
        } else if (!pass) {
            if (strcmp(k->got, got) != 0) {
                stale++;
                fprintf(stderr, "%s:%d: signature %s is listed as giving %s "
                        "but now gives %s: check the reason again\n", s->known,
                        k->line, sig, k->got, got);
            }
        }
    }
    for (size_t i = 0; i < known.n; i++)
        if (!known.v[i].present &&
            is_container_row(known.v[i].sig) == s->containers) {
            stale++;
            fprintf(stderr, "%s:%d: signature %s is not in %s: remove the "
                    "line\n", s->known, known.v[i].line, known.v[i].sig,
                    s->sigfile);
        }
    t_id = now_s();

    size_t ok = counts[EXACT] + counts[INCLUDED];
    double rate = total ? (double)ok / (double)total : 0.0;
    printf("# %s%s: %zu signatures (%zu used by no format, not counted): "
           "exact %zu, included %zu, wrong %zu, none %zu; pass rate %.2f%%\n",
           s->label, s->containers ? " ZIP containers" : "", total, unused, counts[EXACT], counts[INCLUDED],
           counts[WRONG], counts[NONE], 100.0 * rate);
    printf("# %s: %zu known differences listed, %zu unlisted, %zu stale; "
           "generate %.1fs, open %.1fs, identify %.1fs\n", s->label, known.n,
           unlisted, stale, t_gen - t0, t_open - t_gen, t_id - t_open);

    if (diffs)
        fclose(diffs);
    fclose(mf);
    free(line);
    free(manifest);
    vl_pronom_close(p);
    free(known.v);

    assert_int_equal(unlisted, 0);
    assert_int_equal(stale, 0);
    if (rate < s->min_rate)
        fail_msg("%s pass rate %.2f%% is under %.0f%%", s->label, 100 * rate,
                 100 * s->min_rate);
}

/* ---- each skeleton against its own signature ------------------------------ */

static void self_match(const char *label, const char *sigfile,
                       const char *confile)
{
    const char *outdir;
    char *manifest = NULL, *line = NULL;
    size_t cap = 0, checked = 0, failed = 0;
    vl_pronom_sigfile *sf = NULL;
    vl_error err = {0};
    FILE *mf = NULL;

    outdir = generated(sigfile, confile);
    if (vl_pronom_sigfile_load(sigfile, &sf, &err) != VL_OK)
        fail_msg("vl_pronom_sigfile_load %s: %s", sigfile, err.msg);
    manifest = vl_path_join(outdir, "manifest.tsv");
    mf = fopen(manifest, "r");
    if (!mf)
        fail_msg("no manifest %s", manifest);
    while (getline(&line, &cap, mf) >= 0) {
        char *fld[4], basis[256] = "";
        const vl_pronom_sig *sig = NULL;
        if (line[0] == '#' || split_tabs(line, fld, 4) < 3 ||
            strcmp(fld[0], "-") == 0 || is_container_row(fld[1]))
            continue;
        int id = atoi(fld[1]);
        for (size_t i = 0; i < sf->nsig && !sig; i++)
            if (vl_pronom_sig_id(sf->sigs[i]) == id)
                sig = sf->sigs[i];
        char *path = vl_path_join(outdir, fld[0]);
        vl_buf b;
        vl_buf_init(&b, 0);
        if (!sig || vl_fs_read_file(path, 0, &b, &err) != VL_OK) {
            failed++;
            fprintf(stderr, "# %s: signature %s: %s\n", label, fld[1],
                    sig ? err.msg : "not loaded by the engine");
        } else {
            const uint8_t *data = (const uint8_t *)b.data;
            size_t len = b.len;
            checked++;
            if (vl_pronom_sig_match(sig, data, len, data, len, len, basis,
                                    sizeof basis) != 1) {
                failed++;
                fprintf(stderr, "# %s: signature %s does not match its own "
                        "skeleton %s (%zu bytes)\n", label, fld[1], fld[0],
                        len);
            }
        }
        vl_buf_release(&b);
        free(path);
    }
    printf("# %s: %zu skeletons matched alone against their signature, %zu "
           "failed\n", label, checked, failed);
    fclose(mf);
    free(line);
    free(manifest);
    vl_pronom_sigfile_free(sf);
    assert_int_equal(failed, 0);
}

/* ---- the tests ------------------------------------------------------------ */

typedef struct {
    char sig[4096], con[4096], known[4096];
} files;

static void v122(files *f)
{
    snprintf(f->sig, sizeof f->sig, "%s/pronom/DROID_SignatureFile_V122.xml",
             shared_dir());
    snprintf(f->con, sizeof f->con,
             "%s/pronom/container-signature-20260119.xml", shared_dir());
    snprintf(f->known, sizeof f->known, "%s/pronom/known-differences.tsv",
             tests_dir());
}

static void v118(files *f)
{
    snprintf(f->sig, sizeof f->sig,
             "%s/pronom/older/DROID_SignatureFile_V118.xml", shared_dir());
    snprintf(f->con, sizeof f->con,
             "%s/pronom/older/container-signature-20240501.xml", shared_dir());
    snprintf(f->known, sizeof f->known,
             "%s/pronom/known-differences-V118.tsv", tests_dir());
}

static void test_v122_self(void **state)
{
    files f;
    v122(&f);
    self_match("V122", f.sig, f.con);
}

static void test_v122(void **state)
{
    files f;
    v122(&f);
    suite s = {"V122", f.sig, f.con, f.known, 0, 0.99};
    run_suite(&s);
}

static void test_v122_containers(void **state)
{
    files f;
    v122(&f);
    suite s = {"V122", f.sig, f.con, f.known, 1, 0.99};
    run_suite(&s);
}

static void test_v118_self(void **state)
{
    files f;
    v118(&f);
    self_match("V118", f.sig, f.con);
}

static void test_v118(void **state)
{
    files f;
    v118(&f);
    suite s = {"V118", f.sig, f.con, f.known, 0, 0.99};
    run_suite(&s);
}

static void test_v118_containers(void **state)
{
    files f;
    v118(&f);
    suite s = {"V118", f.sig, f.con, f.known, 1, 0.99};
    run_suite(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v122_self),
        cmocka_unit_test(test_v122),
        cmocka_unit_test(test_v122_containers),
        cmocka_unit_test(test_v118_self),
        cmocka_unit_test(test_v118),
        cmocka_unit_test(test_v118_containers),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
