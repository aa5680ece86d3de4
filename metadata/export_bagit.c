/* The bagit export kind: a BagIt 1.0 bag of a version, data/ with
 * manifest-sha512.txt and manifest-sha256.txt, bagit.txt, bag-info.txt
 * from the deposit's DC and the donor's own bag-info.txt, METS.xml and
 * the donor's bag (metadata/bag/) as tag files, and tag manifests.
 *
 * Layering: metadata/ may not use ingest/, where the BagIt validator
 * lives; the caller hands it in as o->check_bag (vl_export refuses a bag
 * export without it). */
#define VL_METADATA_INTERNAL
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

#include "export_private.h"

typedef struct bag_file {
    char *rel;          /* "data/..." */
    uint64_t size;
    char sha512[129], sha256[65];
} bag_file;

/* The payload is digested in batches of this many files through the pool
 * as data/ is walked, each batch's manifest lines appended to the
 * manifests as it is done: what is held does not grow with the payload. */
#define BAG_BATCH 1024

typedef struct bag_build {
    const char *dir;
    bag_file *f;          /* the batch */
    size_t n, cap;
    size_t files;         /* payload files so far */
    uint64_t bytes;
    int fd512, fd256;     /* manifest-sha512.txt, manifest-sha256.txt */
    vl_buf m512, m256;    /* the batch's lines */
} bag_build;

static int flush_batch(bag_build *b, vl_error *err);

static int bag_collect(void *arg, const char *rel, int kind,
                       const struct stat *st, vl_error *err)
{
    bag_build *b = arg;
    if (kind != VL_WALK_FILE)
        return vl_error_set(err, VL_ESYS, "%s/data/%s: not a regular file",
                            b->dir, rel);
    if (VL_GROW(b->f, b->cap, b->n + 1, err) != VL_OK)
        return VL_ESYS;
    memset(&b->f[b->n], 0, sizeof b->f[b->n]);
    if (!(b->f[b->n].rel = vl_asprintf("data/%s", rel)))
        return vl_error_oom(err);
    b->n++;
    return b->n == BAG_BATCH ? flush_batch(b, err) : VL_OK;
}

/* RFC 8493 2.1.3: in manifests, CR, LF and '%' in a path are
 * percent-encoded. */
static int manifest_line(vl_buf *b, const char *hex, const char *path,
                         vl_error *err)
{
    int rc = vl_buf_printf(b, err, "%s  ", hex);
    for (const char *p = path; rc == VL_OK && *p; p++) {
        if (*p == '%')
            rc = vl_buf_append(b, "%25", 3, err);
        else if (*p == '\n')
            rc = vl_buf_append(b, "%0A", 3, err);
        else if (*p == '\r')
            rc = vl_buf_append(b, "%0D", 3, err);
        else
            rc = vl_buf_append(b, p, 1, err);
    }
    return rc == VL_OK ? vl_buf_append(b, "\n", 1, err) : rc;
}

static int bag_digest(void *ctx, size_t i, int worker, vl_error *err)
{
    bag_build *b = ctx;
    bag_file *f = &b->f[i];
    vl_digest_result d;
    char *path = vl_path_join(b->dir, f->rel);
    int rc;
    (void)worker;
    if (!path)
        return vl_error_oom(err);
    rc = vl_digest_file(path, VL_DIGEST_BIT(VL_SHA512) | VL_DIGEST_BIT(VL_SHA256),
                        &d, &f->size, err);
    if (rc == VL_OK) {
        memcpy(f->sha512, d.hex[VL_SHA512], sizeof f->sha512);
        memcpy(f->sha256, d.hex[VL_SHA256], sizeof f->sha256);
    }
    free(path);
    return rc;
}

/* The batch's digests (the pool), then its lines of both manifests. */
static int flush_batch(bag_build *b, vl_error *err)
{
    int rc = vl_pool_run(b->n, 0, bag_digest, b, err);
    vl_buf_reset(&b->m512);
    vl_buf_reset(&b->m256);
    for (size_t i = 0; i < b->n && rc == VL_OK; i++) {
        b->bytes += b->f[i].size;
        rc = manifest_line(&b->m512, b->f[i].sha512, b->f[i].rel, err);
        if (rc == VL_OK)
            rc = manifest_line(&b->m256, b->f[i].sha256, b->f[i].rel, err);
    }
    if (rc == VL_OK &&
        (vl_fs_write_all(b->fd512, b->m512.data, b->m512.len) != 0 ||
         vl_fs_write_all(b->fd256, b->m256.data, b->m256.len) != 0))
        rc = vl_error_sys(err, "cannot write the manifests in %s", b->dir);
    for (size_t i = 0; i < b->n; i++)
        free(b->f[i].rel);
    b->files += b->n;
    b->n = 0;
    return rc;
}

/* A new manifest in dir, written as the payload is walked. */
static int open_in(const char *dir, const char *name, int *fd, vl_error *err)
{
    char *path = vl_path_join(dir, name);
    int rc = VL_OK;
    if (!path)
        return vl_error_oom(err);
    if ((*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
        rc = vl_error_sys(err, "cannot create %s", path);
    free(path);
    return rc;
}

/* Closed after an fsync, as vl_fs_write_atomic leaves a file. */
static int close_in(int *fd, const char *dir, vl_error *err)
{
    int rc = VL_OK;
    if (*fd >= 0 && (fsync(*fd) != 0 || close(*fd) != 0))
        rc = vl_error_sys(err, "cannot write the manifests in %s", dir);
    *fd = -1;
    return rc;
}

static int write_in(const char *dir, const char *name, const vl_buf *b,
                    vl_error *err)
{
    char *path = vl_path_join(dir, name);
    int rc;
    if (!path)
        return vl_error_oom(err);
    rc = vl_fs_write_atomic(path, b->data ? b->data : "", b->len, err);
    free(path);
    return rc;
}

/* "Label: value", a value of several lines continued on indented lines
 * (blank lines dropped: a blank line would end the element). */
static int info_line(vl_buf *b, const char *label, const char *value,
                     vl_error *err)
{
    int rc = vl_buf_printf(b, err, "%s:", label), first = 1;
    const char *p = value;
    while (rc == VL_OK && *p) {
        size_t n = strcspn(p, "\r\n");
        size_t s = 0;
        while (s < n && (p[s] == ' ' || p[s] == '\t'))
            s++;
        if (n > s)
            rc = vl_buf_printf(b, err, "%s%.*s", first ? " " : "\n  ",
                               (int)(n - s), p + s);
        if (n > s)
            first = 0;
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    return rc == VL_OK ? vl_buf_append(b, "\n", 1, err) : rc;
}

/* The donor's bag-info.txt (kept under metadata/bag/ when the deposit was
 * a bag), read element by element: label and value, continuation lines
 * joined with "\n".  Read a line at a time; a file that is not UTF-8 is
 * left out (its elements are still in the DC the deposit made of it). */
typedef struct donor_el {
    char *label, *value;
} donor_el;

typedef struct donor_info {
    donor_el *e;
    size_t n, cap;
} donor_info;

static void donor_free(donor_info *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->e[i].label);
        free(d->e[i].value);
    }
    free(d->e);
}

static int donor_read(const char *dir, donor_info *d, vl_error *err)
{
    char *path = vl_path_join(dir, VL_EXPORT_BAG_DIR "/bag-info.txt");
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = VL_OK;
    if (!path)
        return vl_error_oom(err);
    if (!(f = fopen(path, "r")))
        goto done;   /* not a bag deposit */
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (!vl_utf8_valid(line, (size_t)n)) {
            donor_free(d);
            memset(d, 0, sizeof *d);
            goto done;
        }
        if ((line[0] == ' ' || line[0] == '\t') && d->n) {
            donor_el *e = &d->e[d->n - 1];
            const char *p = line;
            char *v;
            while (*p == ' ' || *p == '\t')
                p++;
            if (!(v = vl_asprintf("%s\n%s", e->value, p))) {
                rc = vl_error_oom(err);
                goto done;
            }
            free(e->value);
            e->value = v;
            continue;
        }
        char *colon = strchr(line, ':');
        if (!colon || colon == line)
            continue;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (VL_GROW(d->e, d->cap, d->n + 1, err) != VL_OK) {
            rc = VL_ESYS;
            goto done;
        }
        d->e[d->n].label = vl_strndup(line, (size_t)(colon - line));
        d->e[d->n].value = vl_strdup(v);
        if (!d->e[d->n].label || !d->e[d->n].value) {
            free(d->e[d->n].label);
            free(d->e[d->n].value);
            rc = vl_error_oom(err);
            goto done;
        }
        for (size_t k = strlen(d->e[d->n].label); k > 0 &&
             (d->e[d->n].label[k - 1] == ' ' || d->e[d->n].label[k - 1] == '\t');
             k--)
            d->e[d->n].label[k - 1] = '\0';
        d->n++;
    }
    if (ferror(f))
        rc = vl_error_sys(err, "cannot read %s", path);
done:
    if (f)
        fclose(f);
    free(line);
    free(path);
    return rc;
}

/* Labels this export computes itself: never copied from the donor's. */
static int computed_label(const char *label)
{
    static const char *const own[] = {
        "Bagging-Date", "Bag-Software-Agent", "Payload-Oxum", "Bag-Size",
        "Bag-Count", "Internal-Sender-Identifier",
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (!strcasecmp(label, own[i]))
            return 1;
    return 0;
}

/* The donor's labels that ingest maps to a DC element (dc.c's table). */
static const char *donor_label_element(const char *label)
{
    static const char *const map[][2] = {
        {"Source-Organization", "publisher"}, {"Contact-Name", "contributor"},
        {"External-Description", "description"},
        {"External-Identifier", "identifier"},
        {"Internal-Sender-Description", "description"},
        {"Bag-Group-Identifier", "relation"}, {"Title", "title"},
        {"Creator", "creator"}, {"Author", "creator"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(label, map[i][0]))
            return map[i][1];
    return NULL;
}

static int same_value(const char *a, const char *b)
{
    /* Compared without surrounding blanks; continuation lines as "\n". */
    while (*a == ' ' || *a == '\t' || *a == '\n')
        a++;
    while (*b == ' ' || *b == '\t' || *b == '\n')
        b++;
    size_t na = strlen(a), nb = strlen(b);
    while (na && (a[na - 1] == ' ' || a[na - 1] == '\n' || a[na - 1] == '\r'))
        na--;
    while (nb && (b[nb - 1] == ' ' || b[nb - 1] == '\n' || b[nb - 1] == '\r'))
        nb--;
    if (na == nb && !memcmp(a, b, na))
        return 1;
    /* Continuation lines joined with a space in the DC, with "\n" here:
     * compared without any white space. */
    while (na && nb) {
        while (na && (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n'))
            a++, na--;
        while (nb && (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n'))
            b++, nb--;
        if (!na || !nb || *a != *b)
            break;
        a++, na--, b++, nb--;
    }
    return !na && !nb;
}

/* bag-info.txt: every DC element of the deposit under its bag-info label
 * (the reverse of dc.c's table; the others under a label named after the
 * element: Subject, Date, Type...); a value that came from the donor's
 * bag-info.txt keeps the donor's label (Contact-Name, Internal-Sender-
 * Description...); then the donor's elements that are not Dublin Core
 * (Contact-Email, Contact-Phone, Organization-Address, Bag-Group-
 * Identifier, profile and custom labels), as given; then what this export
 * computes.  Internal-Sender-Identifier names the object the bag was made
 * from. */
static int bag_info(bag_build *bb, vl_descriptive *desc, const char *id,
                    uint64_t bytes, vl_buf *b, vl_error *err)
{
    static const char *const map[][2] = {
        {"title", "Title"}, {"creator", "Creator"}, {"subject", "Subject"},
        {"description", "External-Description"},
        {"publisher", "Source-Organization"}, {"contributor", "Contributor"},
        {"date", "Date"}, {"type", "Type"}, {"format", "Format"},
        {"identifier", "External-Identifier"}, {"source", "Source"},
        {"language", "Language"}, {"relation", "Relation"},
        {"coverage", "Coverage"}, {"rights", "Rights"},
    };
    const vl_dc *dc = vl_descriptive_deposit_dc(desc);
    donor_info donor = {0};
    unsigned char *used = NULL;
    char now[32];
    int rc;

    if ((rc = donor_read(bb->dir, &donor, err)) != VL_OK)
        goto done;
    if (donor.n && !(used = calloc(donor.n, 1))) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t k = 0; k < sizeof map / sizeof map[0] && rc == VL_OK; k++)
        for (size_t i = 0; dc && i < vl_dc_count(dc) && rc == VL_OK; i++) {
            const char *el, *val, *label = map[k][1];
            vl_dc_entry(dc, i, &el, &val);
            if (strcmp(el, map[k][0]))
                continue;
            for (size_t j = 0; j < donor.n; j++) {
                const char *de = donor_label_element(donor.e[j].label);
                if (!used[j] && de && !strcmp(de, el) &&
                    same_value(donor.e[j].value, val)) {
                    used[j] = 1;
                    label = donor.e[j].label;
                    break;
                }
            }
            rc = info_line(b, label, val, err);
        }
    for (size_t j = 0; j < donor.n && rc == VL_OK; j++)
        if (!used[j] && !computed_label(donor.e[j].label) &&
            !donor_label_element(donor.e[j].label))
            rc = info_line(b, donor.e[j].label, donor.e[j].value, err);
    if (rc != VL_OK)
        goto done;
    vl_time_rfc3339(vl_time_now(), now);
    now[10] = '\0';   /* YYYY-MM-DD */
    if ((rc = info_line(b, "Internal-Sender-Identifier", id, err)) == VL_OK)
        rc = vl_buf_printf(b, err, "Bagging-Date: %s\nBag-Software-Agent: "
                           "vellum %s\nPayload-Oxum: %llu.%zu\n", now,
                           VL_VERSION, (unsigned long long)bytes, bb->files);
done:
    donor_free(&donor);
    free(used);
    return rc;
}

/* The tag files under metadata/bag/ (the donor's bag), for the tag
 * manifests. */
typedef struct tag_list {
    char **rel;
    size_t n, cap;
} tag_list;

static int tag_collect(void *arg, const char *rel, int kind,
                       const struct stat *st, vl_error *err)
{
    tag_list *t = arg;
    (void)st;
    if (kind != VL_WALK_FILE)
        return VL_OK;
    if (VL_GROW(t->rel, t->cap, t->n + 1, err) != VL_OK)
        return VL_ESYS;
    if (!(t->rel[t->n] = vl_asprintf(VL_EXPORT_BAG_DIR "/%s", rel)))
        return vl_error_oom(err);
    t->n++;
    return VL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int write_bag(const char *dir, vl_descriptive *desc, const char *id,
                     size_t *files, uint64_t *bytes, vl_error *err)
{
    static const char *const tags[] = {
        "bag-info.txt", "bagit.txt", "manifest-sha256.txt",
        "manifest-sha512.txt", "METS.xml",
    };
    bag_build bb = {.dir = dir, .fd512 = -1, .fd256 = -1};
    tag_list tl = {NULL, 0, 0};
    char *bagdir = NULL;
    vl_buf m512, m256, info;
    char *data = vl_path_join(dir, "data");
    int rc;

    vl_buf_init(&m512, 0);
    vl_buf_init(&m256, 0);
    vl_buf_init(&info, 0);
    vl_buf_init(&bb.m512, 0);
    vl_buf_init(&bb.m256, 0);
    if (!data) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = open_in(dir, "manifest-sha512.txt", &bb.fd512, err)) != VL_OK ||
        (rc = open_in(dir, "manifest-sha256.txt", &bb.fd256, err)) != VL_OK ||
        (rc = vl_tree_walk(data, 0, bag_collect, &bb, err)) != VL_OK ||
        (rc = flush_batch(&bb, err)) != VL_OK ||
        (rc = close_in(&bb.fd512, dir, err)) != VL_OK ||
        (rc = close_in(&bb.fd256, dir, err)) != VL_OK ||
        (rc = bag_info(&bb, desc, id, bb.bytes, &info, err)) != VL_OK ||
        (rc = write_in(dir, "bag-info.txt", &info, err)) != VL_OK)
        goto done;
    vl_buf_reset(&info);
    if ((rc = vl_buf_printf(&info, err, "BagIt-Version: 1.0\n"
                            "Tag-File-Character-Encoding: UTF-8\n")) != VL_OK ||
        (rc = write_in(dir, "bagit.txt", &info, err)) != VL_OK)
        goto done;
    /* Tag manifests: every tag file but the tag manifests themselves,
     * the donor's bag under metadata/bag/ included. */
    if (!(bagdir = vl_path_join(dir, VL_EXPORT_BAG_DIR))) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        if (VL_GROW(tl.rel, tl.cap, tl.n + 1, err) != VL_OK) {
            rc = VL_ESYS;
            goto done;
        }
        if (!(tl.rel[tl.n] = vl_strdup(tags[i]))) {
            rc = vl_error_oom(err);
            goto done;
        }
        tl.n++;
    }
    if (vl_fs_is_dir(bagdir) &&
        (rc = vl_tree_walk(bagdir, 0, tag_collect, &tl, err)) != VL_OK)
        goto done;
    qsort(tl.rel, tl.n, sizeof *tl.rel, cmp_str);
    vl_buf_reset(&m512);
    vl_buf_reset(&m256);
    for (size_t i = 0; i < tl.n && rc == VL_OK; i++) {
        vl_digest_result d;
        char *path = vl_path_join(dir, tl.rel[i]);
        if (!path) {
            rc = vl_error_oom(err);
            break;
        }
        rc = vl_digest_file(path, VL_DIGEST_BIT(VL_SHA512) |
                            VL_DIGEST_BIT(VL_SHA256), &d, NULL, err);
        free(path);
        if (rc == VL_OK)
            rc = manifest_line(&m512, d.hex[VL_SHA512], tl.rel[i], err);
        if (rc == VL_OK)
            rc = manifest_line(&m256, d.hex[VL_SHA256], tl.rel[i], err);
    }
    if (rc != VL_OK ||
        (rc = write_in(dir, "tagmanifest-sha512.txt", &m512, err)) != VL_OK ||
        (rc = write_in(dir, "tagmanifest-sha256.txt", &m256, err)) != VL_OK)
        goto done;
    *files = bb.files;
    *bytes = bb.bytes;
done:
    for (size_t i = 0; i < bb.n; i++)
        free(bb.f[i].rel);
    free(bb.f);
    if (bb.fd512 >= 0)
        close(bb.fd512);
    if (bb.fd256 >= 0)
        close(bb.fd256);
    vl_buf_release(&bb.m512);
    vl_buf_release(&bb.m256);
    for (size_t i = 0; i < tl.n; i++)
        free(tl.rel[i]);
    free(tl.rel);
    free(bagdir);
    free(data);
    vl_buf_release(&m512);
    vl_buf_release(&m256);
    vl_buf_release(&info);
    return rc;
}

int vl_export_bagit(vl_repo *r, const char *id, const vl_inventory *inv,
                    int num, const char *tmp, const vl_export_options *o,
                    size_t *files, uint64_t *bytes, vl_error *err)
{
    vl_descriptive *desc = vl_descriptive_new();
    char *mets = vl_path_join(tmp, VL_METS_FILE);
    int rc;
    if (!desc || !mets) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_export_payload(r, id, num, tmp, err)) != VL_OK ||
        (rc = vl_export_regenerate(r, inv, num, mets, desc, err)) != VL_OK ||
        (rc = write_bag(tmp, desc, id, files, bytes, err)) != VL_OK)
        goto done;
    if ((rc = o->check_bag(o->check_arg, tmp, err)) == VL_EINPUT)
        rc = vl_error_set(err, VL_ESYS, "the bag written for \"%s\" does not "
                          "validate: %s", id, err ? err->msg : "");
done:
    vl_descriptive_free(desc);
    free(mets);
    return rc;
}
