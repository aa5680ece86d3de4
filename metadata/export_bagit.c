/* The bagit export kind: a BagIt 1.0 bag of a version, data/ with
 * manifest-sha512.txt and manifest-sha256.txt, bagit.txt, bag-info.txt
 * from the deposit's DC, METS.xml as a tag file, and tag manifests.
 *
 * Layering: metadata/ may not use ingest/, where the BagIt validator
 * lives; the caller hands it in as o->check_bag (vl_export refuses a bag
 * export without it). */
#define VL_METADATA_INTERNAL
#include <stdlib.h>
#include <string.h>

#include "export_private.h"

typedef struct bag_file {
    char *rel;          /* "data/..." */
    uint64_t size;
    char sha512[129], sha256[65];
} bag_file;

typedef struct bag_build {
    const char *dir;
    bag_file *f;
    size_t n, cap;
} bag_build;

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
    return VL_OK;
}

static int bag_digest(void *ctx, size_t i, int worker, vl_error *err)
{
    bag_build *b = ctx;
    bag_file *f = &b->f[i];
    vl_digest_result d;
    char *path = vl_path_join(b->dir, f->rel);
    int rc;
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

/* bag-info.txt from the deposit's DC: the reverse of the bag-info -> DC
 * table in dc.c, for the labels that mean the same thing both ways
 * (Contact-Name and Bag-Group-Identifier do not: a contributor is not a
 * contact, a relation is not a bag group).  Internal-Sender-Identifier
 * names the object the bag was made from. */
static int bag_info(bag_build *bb, vl_descriptive *desc, const char *id,
                    uint64_t bytes, vl_buf *b, vl_error *err)
{
    static const char *const map[][2] = {
        {"title", "Title"}, {"creator", "Creator"},
        {"publisher", "Source-Organization"},
        {"description", "External-Description"},
        {"identifier", "External-Identifier"},
    };
    const vl_dc *dc = vl_descriptive_deposit_dc(desc);
    char now[32];
    int rc = VL_OK;

    for (size_t k = 0; k < sizeof map / sizeof map[0] && rc == VL_OK; k++)
        for (size_t i = 0; dc && i < vl_dc_count(dc) && rc == VL_OK; i++) {
            const char *el, *val;
            vl_dc_entry(dc, i, &el, &val);
            if (!strcmp(el, map[k][0]))
                rc = info_line(b, map[k][1], val, err);
        }
    vl_time_rfc3339(vl_time_now(), now);
    now[10] = '\0';   /* YYYY-MM-DD */
    if (rc == VL_OK)
        rc = info_line(b, "Internal-Sender-Identifier", id, err);
    if (rc == VL_OK)
        rc = vl_buf_printf(b, err, "Bagging-Date: %s\nBag-Software-Agent: "
                           "vellum %s\nPayload-Oxum: %llu.%zu\n", now,
                           VL_VERSION, (unsigned long long)bytes, bb->n);
    return rc;
}

static int write_bag(const char *dir, vl_descriptive *desc, const char *id,
                     size_t *files, uint64_t *bytes, vl_error *err)
{
    static const char *const tags[] = {
        "bag-info.txt", "bagit.txt", "manifest-sha256.txt",
        "manifest-sha512.txt", "METS.xml",
    };
    bag_build bb = {dir, NULL, 0, 0};
    vl_buf m512, m256, info;
    char *data = vl_path_join(dir, "data");
    uint64_t total = 0;
    int rc;

    vl_buf_init(&m512, 0);
    vl_buf_init(&m256, 0);
    vl_buf_init(&info, 0);
    if (!data) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_walk(data, 0, bag_collect, &bb, err)) != VL_OK ||
        (rc = vl_pool_run(bb.n, 0, bag_digest, &bb, err)) != VL_OK)
        goto done;
    for (size_t i = 0; i < bb.n && rc == VL_OK; i++) {
        total += bb.f[i].size;
        rc = manifest_line(&m512, bb.f[i].sha512, bb.f[i].rel, err);
        if (rc == VL_OK)
            rc = manifest_line(&m256, bb.f[i].sha256, bb.f[i].rel, err);
    }
    if (rc != VL_OK ||
        (rc = write_in(dir, "manifest-sha512.txt", &m512, err)) != VL_OK ||
        (rc = write_in(dir, "manifest-sha256.txt", &m256, err)) != VL_OK ||
        (rc = bag_info(&bb, desc, id, total, &info, err)) != VL_OK ||
        (rc = write_in(dir, "bag-info.txt", &info, err)) != VL_OK)
        goto done;
    vl_buf_reset(&info);
    if ((rc = vl_buf_printf(&info, err, "BagIt-Version: 1.0\n"
                            "Tag-File-Character-Encoding: UTF-8\n")) != VL_OK ||
        (rc = write_in(dir, "bagit.txt", &info, err)) != VL_OK)
        goto done;
    /* Tag manifests: every tag file but the tag manifests themselves. */
    vl_buf_reset(&m512);
    vl_buf_reset(&m256);
    for (size_t i = 0; i < sizeof tags / sizeof tags[0] && rc == VL_OK; i++) {
        vl_digest_result d;
        char *path = vl_path_join(dir, tags[i]);
        if (!path) {
            rc = vl_error_oom(err);
            break;
        }
        rc = vl_digest_file(path, VL_DIGEST_BIT(VL_SHA512) |
                            VL_DIGEST_BIT(VL_SHA256), &d, NULL, err);
        free(path);
        if (rc == VL_OK)
            rc = manifest_line(&m512, d.hex[VL_SHA512], tags[i], err);
        if (rc == VL_OK)
            rc = manifest_line(&m256, d.hex[VL_SHA256], tags[i], err);
    }
    if (rc != VL_OK ||
        (rc = write_in(dir, "tagmanifest-sha512.txt", &m512, err)) != VL_OK ||
        (rc = write_in(dir, "tagmanifest-sha256.txt", &m256, err)) != VL_OK)
        goto done;
    *files = bb.n;
    *bytes = total;
done:
    for (size_t i = 0; i < bb.n; i++)
        free(bb.f[i].rel);
    free(bb.f);
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
