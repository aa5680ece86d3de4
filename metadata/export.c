/* Exports of an object version, and the METS regenerated for them.
 *
 *   mets   METS.xml (regenerated now) + data/
 *   bagit  a BagIt 1.0 bag: data/, manifest-sha512.txt, manifest-sha256.txt,
 *          bagit.txt, bag-info.txt, METS.xml as a tag file,
 *          tagmanifest-sha512.txt, tagmanifest-sha256.txt
 *   ocfl   the OCFL object folder, byte for byte (for an older version:
 *          v1..vN, with vN's inventory as the root inventory)
 *
 * Everything is built in DEST.vellum-export-<pid> beside DEST; an archive
 * (zip, tar, tar.gz; one top folder named after DEST) is written to
 * DEST.vellum-export-<pid>.part from it.  Only a finished, checked export
 * is renamed to DEST (never over anything), and a failure removes both
 * temporary names; both are registered in staging first (vl_outside_begin)
 * so that recover removes them after a kill.  The payload is materialised by vl_repo_get, so every
 * digest is checked on the way out.
 *
 * Layering: metadata/ may not use ingest/, where the BagIt validator
 * lives; the caller hands it in as o->check_bag and a bag export without
 * it is refused. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "descriptive_internal.h"
#include "mets_private.h"
#include "vl_metadata.h"

#define OCFL_LOCK_WAIT 60   /* seconds to wait for a deposit to finish */

static int oom(vl_error *err)
{
    return vl_error_set(err, VL_ESYS, "out of memory");
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *np = realloc(*p, ncap * size);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

/* ======================================================================
 * METS regenerated from the catalog and the store
 * ==================================================================== */

typedef struct rfile {
    char *logical, *content, *digest;
    uint64_t size;
    const char *fixity[VL_DIGEST_COUNT];   /* into the inventory */
    char *mime, *name, *version, *puid, *original, *encoding, *description;
    char *pronom[4];   /* basis, warning, others, signatures */
} rfile;

typedef struct revent {
    char *id, *type, *datetime, *outcome, *detail, *outcome_detail;
    char *object_id, *files_json, *agents_json;
    int version;
    long seq;
} revent;

/* What the stored METS says about a file (original name; format when the
 * catalog has none). */
typedef struct sfile {
    char *logical, *mime, *name, *version, *puid, *original, *encoding,
        *description;
    char *pronom[4];   /* basis, warning, others, signatures */
} sfile;

typedef struct regen {
    vl_repo *r;
    const vl_inventory *inv;
    const char *id;
    int num;
    rfile *files;
    size_t n, cap, pos;
    revent *events;
    size_t ne, ce, epos;
    sfile *stored;
    size_t ns, cs;
    char **people;
    size_t npeople;
    vl_mets_agent *agents;
    size_t data_files;   /* data/ files in the inventory state */
} regen;

static char *dup_or_null(const char *s)
{
    return s ? vl_strdup(s) : NULL;
}

/* PRONOM's four notes, copied; 1 when out of memory. */
static int copy_pronom(char *dst[4], const char *const src[4])
{
    int failed = 0;
    for (int i = 0; i < 4; i++) {
        dst[i] = dup_or_null(src[i]);
        failed |= src[i] && !dst[i];
    }
    return failed;
}

static int stored_file(void *arg, const vl_mets_file_info *f, vl_error *err)
{
    regen *g = arg;
    sfile *s;
    const char *const notes[4] = {f->basis, f->warning, f->others, f->signatures};
    if (grow((void **)&g->stored, &g->cs, g->ns, sizeof *g->stored) != 0)
        return oom(err);
    s = &g->stored[g->ns];
    memset(s, 0, sizeof *s);
    s->logical = vl_strdup(f->logical);
    s->mime = dup_or_null(f->mime);
    s->name = dup_or_null(f->format_name);
    s->version = dup_or_null(f->format_version);
    s->puid = dup_or_null(f->puid);
    s->original = dup_or_null(f->original_name);
    s->encoding = dup_or_null(f->encoding);
    s->description = dup_or_null(f->description);
    g->ns++;
    if (copy_pronom(s->pronom, notes) || !s->logical || (f->mime && !s->mime) || (f->format_name && !s->name) ||
        (f->format_version && !s->version) || (f->puid && !s->puid) ||
        (f->original_name && !s->original) || (f->encoding && !s->encoding) ||
        (f->description && !s->description))
        return oom(err);
    return VL_OK;
}

static int cmp_sfile(const void *a, const void *b)
{
    return strcmp(((const sfile *)a)->logical, ((const sfile *)b)->logical);
}

static const sfile *stored_lookup(const regen *g, const char *logical)
{
    sfile key;
    key.logical = (char *)logical;
    return g->ns ? bsearch(&key, g->stored, g->ns, sizeof key, cmp_sfile) : NULL;
}

static int catalog_file(void *arg, const vl_catalog_file *f)
{
    regen *g = arg;
    rfile *x;
    /* The METS describes the deposit (data/); METS.xml and metadata/ are
     * about it, not part of it. */
    if (strncmp(f->logical, "data/", 5) != 0)
        return 0;
    if (grow((void **)&g->files, &g->cap, g->n, sizeof *g->files) != 0)
        return VL_ESYS;
    x = &g->files[g->n];
    memset(x, 0, sizeof *x);
    x->logical = vl_strdup(f->logical);
    x->content = vl_strdup(f->content);
    x->digest = vl_strdup(f->digest);
    x->size = f->size;
    g->n++;
    return x->logical && x->content && x->digest ? 0 : VL_ESYS;
}

struct fmt_copy {
    rfile *f;
    int failed;
};

static int catalog_format(void *arg, const vl_catalog_format *cf)
{
    struct fmt_copy *c = arg;
    c->f->mime = dup_or_null(cf->mime);
    c->f->name = dup_or_null(cf->format_name);
    c->f->version = dup_or_null(cf->format_version);
    c->f->puid = dup_or_null(cf->puid);
    c->f->encoding = dup_or_null(cf->encoding);
    c->f->description = dup_or_null(cf->description);
    const char *const notes[4] = {cf->basis, cf->warning, cf->others, cf->signatures};
    c->failed = copy_pronom(c->f->pronom, notes) || (cf->mime && !c->f->mime) || (cf->format_name && !c->f->name) ||
                (cf->format_version && !c->f->version) ||
                (cf->puid && !c->f->puid) || (cf->encoding && !c->f->encoding) ||
                (cf->description && !c->f->description);
    return 0;
}

static int event_row(void *arg, const vl_event_row *e)
{
    regen *g = arg;
    revent *x;
    /* Events about later versions are not about this one. */
    if (e->version > g->num)
        return 0;
    if (grow((void **)&g->events, &g->ce, g->ne, sizeof *g->events) != 0)
        return VL_ESYS;
    x = &g->events[g->ne++];
    memset(x, 0, sizeof *x);
    x->seq = e->seq;
    x->version = e->version;
    x->id = dup_or_null(e->id);
    x->type = dup_or_null(e->type);
    x->datetime = dup_or_null(e->datetime);
    x->outcome = dup_or_null(e->outcome);
    x->detail = dup_or_null(e->detail);
    x->outcome_detail = dup_or_null(e->outcome_detail);
    x->object_id = dup_or_null(e->object_id);
    x->files_json = dup_or_null(e->files_json);
    x->agents_json = dup_or_null(e->agents_json);
    if ((e->id && !x->id) || (e->type && !x->type) ||
        (e->datetime && !x->datetime) || (e->outcome && !x->outcome) ||
        (e->detail && !x->detail) || (e->outcome_detail && !x->outcome_detail) ||
        (e->object_id && !x->object_id) || (e->files_json && !x->files_json) ||
        (e->agents_json && !x->agents_json))
        return VL_ESYS;
    return 0;
}

static int count_data(void *arg, const char *logical, const char *digest)
{
    regen *g = arg;
    g->data_files += strncmp(logical, "data/", 5) == 0;
    return 0;
}

static void g_rewind(void *arg) { ((regen *)arg)->pos = 0; }

static int g_next(void *arg, vl_mets_file *out)
{
    regen *g = arg;
    const rfile *f;
    if (g->pos >= g->n)
        return 0;
    f = &g->files[g->pos++];
    memset(out, 0, sizeof *out);
    out->logical = f->logical;
    out->size = f->size;
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        out->digests[a] = f->fixity[a];
    out->sha512 = f->fixity[VL_SHA512];
    out->mime = f->mime;
    out->format_name = f->name;
    out->format_version = f->version;
    out->puid = f->puid;
    out->original_name = f->original;
    out->encoding = f->encoding;
    out->description = f->description;
    out->basis = f->pronom[0];
    out->warning = f->pronom[1];
    out->others = f->pronom[2];
    out->signatures = f->pronom[3];
    return 1;
}

static void g_rewind_events(void *arg) { ((regen *)arg)->epos = 0; }

static int g_next_event(void *arg, vl_event_row *out)
{
    regen *g = arg;
    const revent *e;
    if (g->epos >= g->ne)
        return 0;
    e = &g->events[g->epos++];
    memset(out, 0, sizeof *out);
    out->seq = e->seq;
    out->id = e->id;
    out->type = e->type;
    out->datetime = e->datetime;
    out->outcome = e->outcome;
    out->detail = e->detail;
    out->outcome_detail = e->outcome_detail;
    out->object_id = e->object_id;
    out->version = e->version;
    out->files_json = e->files_json ? e->files_json : "[]";
    out->agents_json = e->agents_json ? e->agents_json : "[]";
    return 1;
}

/* Depositors of versions 1..num, written as ingest names them in its
 * events ("Name <address>"), so that they are described as people rather
 * than as the software an unknown agent name is taken for. */
static int collect_people(regen *g, vl_error *err)
{
    for (int v = 1; v <= g->num; v++) {
        vl_version_info vi;
        char *name;
        int seen = 0;
        if (vl_inventory_version_info(g->inv, v, &vi) != 0 || !vi.user_name)
            continue;
        name = vi.user_address
                   ? vl_asprintf("%s <%s>", vi.user_name, vi.user_address)
                   : vl_strdup(vi.user_name);
        if (!name)
            return oom(err);
        for (size_t i = 0; i < g->npeople && !seen; i++)
            seen = !strcmp(g->people[i], name);
        if (seen) {
            free(name);
            continue;
        }
        char **np = realloc(g->people, (g->npeople + 1) * sizeof *np);
        if (!np) {
            free(name);
            return oom(err);
        }
        g->people = np;
        g->people[g->npeople++] = name;
    }
    if (g->npeople && !(g->agents = calloc(g->npeople, sizeof *g->agents)))
        return oom(err);
    for (size_t i = 0; i < g->npeople; i++) {
        g->agents[i].name = g->people[i];
        g->agents[i].type = "person";
        g->agents[i].role = "OTHER";   /* as ingest lists the depositor */
    }
    return VL_OK;
}

static void regen_free(regen *g)
{
    for (size_t i = 0; i < g->n; i++) {
        rfile *f = &g->files[i];
        free(f->logical); free(f->content); free(f->digest); free(f->mime);
        free(f->name); free(f->version); free(f->puid); free(f->original);
        free(f->encoding); free(f->description);
        for (int j = 0; j < 4; j++)
            free(f->pronom[j]);
    }
    free(g->files);
    for (size_t i = 0; i < g->ne; i++) {
        revent *e = &g->events[i];
        free(e->id); free(e->type); free(e->datetime); free(e->outcome);
        free(e->detail); free(e->outcome_detail); free(e->object_id);
        free(e->files_json); free(e->agents_json);
    }
    free(g->events);
    for (size_t i = 0; i < g->ns; i++) {
        sfile *s = &g->stored[i];
        free(s->logical); free(s->mime); free(s->name); free(s->version);
        free(s->puid); free(s->original); free(s->encoding);
        free(s->description);
        for (int j = 0; j < 4; j++)
            free(s->pronom[j]);
    }
    free(g->stored);
    for (size_t i = 0; i < g->npeople; i++)
        free(g->people[i]);
    free(g->people);
    free(g->agents);
}

static int desc_empty(vl_descriptive *d)
{
    return vl_dc_is_empty(vl_descriptive_deposit_dc(d)) &&
           !vl_descriptive_mods_xml(d) && vl_descriptive_file_count(d) == 0;
}

/* Write the METS of version num to path; desc receives the descriptive
 * metadata of the stored METS (it is written back from there). */
static int regenerate(vl_repo *r, const vl_inventory *inv, int num,
                      const char *path, vl_descriptive *desc, vl_error *err)
{
    regen g;
    vl_catalog *cat = vl_repo_catalog(r);
    vl_event_filter ef;
    vl_mets_source src;
    vl_digest_alg alg = vl_inventory_digest_alg(inv);
    char now[32];
    int rc, found = 0;

    memset(&g, 0, sizeof g);
    g.r = r;
    g.inv = inv;
    g.id = vl_inventory_id(inv);
    g.num = num;
    /* Descriptive metadata and original names live only in the METS
     * stored with the version. */
    if ((rc = vl_mets_read_stored_inv(r, inv, num, desc, stored_file, &g,
                                      &found, err)) != VL_OK)
        goto done;
    /* A version deposited without descriptive metadata is still described
     * by the latest one given before it. */
    for (int v = num - 1; v >= 1 && desc_empty(desc); v--)
        if ((rc = vl_mets_read_stored_inv(r, inv, v, desc, NULL, NULL, &found,
                                          err)) != VL_OK)
            goto done;
    if (g.ns > 1)
        qsort(g.stored, g.ns, sizeof *g.stored, cmp_sfile);
    rc = vl_catalog_files(cat, g.id, num, catalog_file, &g, err);
    if (rc != VL_OK) {
        if (err && !err->msg[0])
            oom(err);
        goto done;
    }
    /* The catalog is an index: if it does not list what the store holds,
     * a METS made from it would be wrong. */
    vl_inventory_state_foreach(inv, num, count_data, &g);
    if (g.data_files != g.n) {
        rc = vl_error_set(err, VL_ESYS, "the catalog lists %zu files under "
                          "data/ in \"%s\" v%d but the store has %zu; run "
                          "vellum reindex", g.n, g.id, num, g.data_files);
        goto done;
    }
    for (size_t i = 0; i < g.n; i++) {
        rfile *f = &g.files[i];
        struct fmt_copy fc = {f, 0};
        const sfile *s = stored_lookup(&g, f->logical);
        f->fixity[alg] = f->digest;   /* the catalog's copy: lasts */
        for (int a = 0; a < VL_DIGEST_COUNT; a++)
            if (a != (int)alg)
                f->fixity[a] = vl_inventory_fixity(inv, (vl_digest_alg)a,
                                                   f->content);
        if ((rc = vl_catalog_format_get(cat, g.id, f->digest, catalog_format,
                                        &fc, err)) != VL_OK)
            goto done;
        if (!fc.failed && s && !f->mime && !f->name && !f->puid) {
            f->mime = dup_or_null(s->mime);
            f->name = dup_or_null(s->name);
            f->version = dup_or_null(s->version);
            f->puid = dup_or_null(s->puid);
            f->encoding = dup_or_null(s->encoding);
            f->description = dup_or_null(s->description);
            fc.failed = copy_pronom(f->pronom, (const char *const *)s->pronom) ||
                        (s->mime && !f->mime) || (s->name && !f->name) ||
                        (s->version && !f->version) || (s->puid && !f->puid) ||
                        (s->encoding && !f->encoding) ||
                        (s->description && !f->description);
        }
        if (!fc.failed && s && s->original && !(f->original = vl_strdup(s->original)))
            fc.failed = 1;
        if (fc.failed) {
            rc = oom(err);
            goto done;
        }
    }
    memset(&ef, 0, sizeof ef);
    ef.object_id = g.id;
    rc = vl_events_list(r, &ef, event_row, &g, err);
    if (rc != VL_OK) {
        if (err && !err->msg[0])
            oom(err);
        goto done;
    }
    if ((rc = collect_people(&g, err)) != VL_OK)
        goto done;
    vl_time_rfc3339(vl_time_now(), now);
    memset(&src, 0, sizeof src);
    src.object_id = g.id;
    src.create_date = now;
    src.vellum_version = VL_VERSION;
    src.desc = desc;
    src.rewind = g_rewind;
    src.next = g_next;
    src.arg = &g;
    src.rewind_events = g_rewind_events;
    src.next_event = g_next_event;
    src.event_arg = &g;
    src.agents = g.agents;
    src.nagents = g.npeople;
    rc = vl_mets_write(&src, path, err);
done:
    regen_free(&g);
    return rc;
}

static int load_version(vl_repo *r, const char *id, int *num,
                        vl_inventory **inv, vl_error *err)
{
    int rc = vl_repo_load_inventory(r, id, inv, err), head;
    if (rc != VL_OK)
        return rc;
    head = vl_inventory_head(*inv);
    if (*num == 0)
        *num = head;
    if (*num < 1 || *num > head)
        return vl_error_set(err, VL_EINPUT, "object \"%s\" has no version v%d "
                            "(head is v%d)", id, *num, head);
    return VL_OK;
}

int vl_mets_regenerate(vl_repo *r, const char *id, int num, const char *path,
                       vl_error *err)
{
    vl_inventory *inv = NULL;
    vl_descriptive *desc = vl_descriptive_new();
    int rc;
    if (!desc)
        return oom(err);
    if ((rc = load_version(r, id, &num, &inv, err)) == VL_OK)
        rc = regenerate(r, inv, num, path, desc, err);
    vl_inventory_free(inv);
    vl_descriptive_free(desc);
    return rc;
}

/* ======================================================================
 * Payload: the version's data/ folder, every digest checked
 * ==================================================================== */

static int materialise_data(vl_repo *r, const char *id, int num,
                            const char *tmp, vl_error *err)
{
    char *state = vl_path_join(tmp, ".state");
    char *from = state ? vl_path_join(state, "data") : NULL;
    char *to = vl_path_join(tmp, "data");
    int rc;
    if (!state || !from || !to) {
        rc = oom(err);
        goto done;
    }
    if ((rc = vl_repo_get(r, id, num, state, err)) != VL_OK)
        goto done;
    if (vl_fs_is_dir(from)) {
        if (rename(from, to) != 0) {
            rc = vl_error_sys(err, "cannot move %s to %s", from, to);
            goto done;
        }
    } else if ((rc = vl_fs_mkdirs(to, err)) != VL_OK) {
        goto done;
    }
    rc = vl_fs_rmtree(state, err);
done:
    free(state);
    free(from);
    free(to);
    return rc;
}

/* ======================================================================
 * BagIt 1.0
 * ==================================================================== */

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
    if (grow((void **)&b->f, &b->cap, b->n, sizeof *b->f) != 0)
        return oom(err);
    memset(&b->f[b->n], 0, sizeof b->f[b->n]);
    if (!(b->f[b->n].rel = vl_asprintf("data/%s", rel)))
        return oom(err);
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
        return oom(err);
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
        return oom(err);
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
        rc = oom(err);
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
            rc = oom(err);
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

/* ======================================================================
 * OCFL: the object folder copied through the backend
 * ==================================================================== */

typedef struct ocfl_copy {
    vl_backend *b;
    const char *object_rel;
    const char *tmp;
    char **skip;          /* top-level names left out (later versions, root
                             inventory and sidecar when they are replaced) */
    size_t nskip;
    char *buf;
    size_t files;
    uint64_t bytes;
    const char *dir_rel;  /* folder being listed, relative to the object */
} ocfl_copy;

static int copy_file(ocfl_copy *c, const char *rel, const char *dst_rel,
                     vl_error *err)
{
    char *src = vl_path_join(c->object_rel, rel);
    char *dst = vl_path_join(c->tmp, dst_rel);
    vl_reader *rd = NULL;
    int fd = -1, rc;
    ssize_t n;
    if (!src || !dst) {
        rc = oom(err);
        goto done;
    }
    if ((rc = vl_backend_open(c->b, src, &rd, err)) != VL_OK)
        goto done;
    fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot create %s", dst);
        goto done;
    }
    /* A copy of the object keeps the store's read-only files (its folders
     * stay writable, so the user can still remove it). */
    struct stat st;
    if (fstat(fd, &st) != 0 || fchmod(fd, st.st_mode & 0555) != 0) {
        rc = vl_error_sys(err, "cannot make %s read-only", dst);
        goto done;
    }
    while ((n = vl_reader_read(rd, c->buf, VL_IO_BUFSIZE, err)) > 0) {
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(fd, c->buf + w, (size_t)(n - w));
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                rc = vl_error_sys(err, "cannot write %s", dst);
                goto done;
            }
            w += k;
        }
        c->bytes += (uint64_t)n;
    }
    if (n < 0) {
        rc = err && err->status ? err->status : VL_ESYS;
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = vl_error_sys(err, "cannot write %s", dst);
        goto done;
    }
    fd = -1;
    c->files++;
done:
    if (fd >= 0)
        close(fd);
    vl_reader_close(rd);
    free(src);
    free(dst);
    return rc;
}

static int copy_dir(ocfl_copy *c, const char *rel, vl_error *err);

static int copy_entry(void *arg, const char *name, int kind, vl_error *err)
{
    ocfl_copy *c = arg;
    const char *parent = c->dir_rel;
    char *rel;
    int rc;
    if (!*parent)
        for (size_t i = 0; i < c->nskip; i++)
            if (!strcmp(c->skip[i], name))
                return VL_OK;
    rel = *parent ? vl_path_join(parent, name) : vl_strdup(name);
    if (!rel)
        return oom(err);
    if (kind == VL_WALK_DIR) {
        char *dst = vl_path_join(c->tmp, rel);
        rc = dst ? vl_fs_mkdirs(dst, err) : oom(err);
        free(dst);
        if (rc == VL_OK)
            rc = copy_dir(c, rel, err);
        c->dir_rel = parent;
    } else if (kind == VL_WALK_FILE) {
        rc = copy_file(c, rel, rel, err);
    } else {
        rc = vl_error_set(err, VL_FINDING, "%s/%s/%s: not a file or folder; "
                          "an OCFL object holds only those",
                          vl_backend_root(c->b), c->object_rel, rel);
    }
    free(rel);
    return rc;
}

static int copy_dir(ocfl_copy *c, const char *rel, vl_error *err)
{
    char *full = *rel ? vl_path_join(c->object_rel, rel) : vl_strdup(c->object_rel);
    int rc;
    if (!full)
        return oom(err);
    c->dir_rel = rel;
    rc = vl_backend_list(c->b, full, copy_entry, c, err);
    free(full);
    return rc;
}

struct finding_note {
    char first[512];
    size_t errors;
};

static void on_finding(void *arg, const vl_finding *f)
{
    struct finding_note *n = arg;
    if (f->severity != VL_SEV_ERROR)
        return;
    if (!n->errors++)
        snprintf(n->first, sizeof n->first, "%s %s: %s", f->code,
                 f->path ? f->path : "", f->message ? f->message : "");
}

static int add_skip(ocfl_copy *c, const char *name, vl_error *err)
{
    char **ns = realloc(c->skip, (c->nskip + 1) * sizeof *ns);
    if (!ns)
        return oom(err);
    c->skip = ns;
    if (!(c->skip[c->nskip] = vl_strdup(name)))
        return oom(err);
    c->nskip++;
    return VL_OK;
}

static int export_ocfl(vl_repo *r, const vl_inventory *inv, int num,
                       const char *tmp, size_t *files, uint64_t *bytes,
                       vl_error *err)
{
    ocfl_copy c;
    vl_lock *lock = NULL;
    vl_validate_options vo;
    vl_validate_counts counts;
    struct finding_note note;
    const char *id = vl_inventory_id(inv);
    int head = vl_inventory_head(inv), rc;
    char sidecar[64], vname[16];

    memset(&c, 0, sizeof c);
    c.b = vl_repo_backend(r);
    c.tmp = tmp;
    snprintf(sidecar, sizeof sidecar, "inventory.json.%s",
             vl_digest_name(vl_inventory_digest_alg(inv)));
    if (!(c.object_rel = vl_repo_object_path(r, id)) ||
        !(c.buf = malloc(VL_IO_BUFSIZE))) {
        rc = oom(err);
        goto done;
    }
    /* A deposit committing while the folder is read would give a copy of
     * neither version. */
    if ((rc = vl_lock_object(r, id, OCFL_LOCK_WAIT, &lock, err)) != VL_OK)
        goto done;
    for (int v = num + 1; v <= head; v++) {
        vl_inventory_version_name(inv, v, vname);
        if ((rc = add_skip(&c, vname, err)) != VL_OK)
            goto done;
    }
    if (num < head && ((rc = add_skip(&c, "inventory.json", err)) != VL_OK ||
                       (rc = add_skip(&c, sidecar, err)) != VL_OK))
        goto done;
    if ((rc = copy_dir(&c, "", err)) != VL_OK)
        goto done;
    /* An older version: its own inventory is what the root inventory was
     * when it was the head (OCFL keeps them identical). */
    if (num < head) {
        char src[128];
        vl_inventory_version_name(inv, num, vname);
        snprintf(src, sizeof src, "%s/inventory.json", vname);
        if ((rc = copy_file(&c, src, "inventory.json", err)) != VL_OK)
            goto done;
        snprintf(src, sizeof src, "%s/%s", vname, sidecar);
        if ((rc = copy_file(&c, src, sidecar, err)) != VL_OK)
            goto done;
    }
    vl_lock_release(lock);
    lock = NULL;
    memset(&vo, 0, sizeof vo);
    memset(&counts, 0, sizeof counts);
    memset(&note, 0, sizeof note);
    vo.check_digests = 1;
    vo.on_finding = on_finding;
    vo.arg = &note;
    rc = vl_validate_path(tmp, &vo, &counts, err);
    if (rc != VL_OK && rc != VL_FINDING)
        goto done;
    if (counts.errors || note.errors || rc == VL_FINDING) {
        rc = vl_error_set(err, VL_FINDING, "the OCFL copy of \"%s\" v%d does "
                          "not validate (%zu errors; first: %s)", id, num,
                          counts.errors ? counts.errors : note.errors,
                          note.first[0] ? note.first : "?");
        goto done;
    }
    *files = c.files;
    *bytes = c.bytes;
    rc = VL_OK;
done:
    vl_lock_release(lock);
    for (size_t i = 0; i < c.nskip; i++)
        free(c.skip[i]);
    free(c.skip);
    free(c.buf);
    free((char *)c.object_rel);
    return rc;
}

/* ======================================================================
 * Archives (libarchive's writer), streamed from the built folder
 * ==================================================================== */

typedef struct arc_ctx {
    struct archive *a;
    const char *dir;
    const char *top;
    const char *out;      /* for messages */
    char *buf;
    time_t mtime;
} arc_ctx;

static int arc_fail(arc_ctx *c, const char *what, vl_error *err)
{
    return vl_error_set(err, VL_ESYS, "cannot write archive %s: %s: %s",
                        c->out, what, archive_error_string(c->a)
                        ? archive_error_string(c->a) : "unknown error");
}

static int arc_header(arc_ctx *c, const char *name, int is_dir, uint64_t size,
                      vl_error *err)
{
    struct archive_entry *e = archive_entry_new();
    int rc = VL_OK;
    if (!e)
        return oom(err);
    /* Names are UTF-8 and are handed over as they are; under the UTF-8
     * locale write_archive sets, libarchive takes them as such. */
    archive_entry_copy_pathname(e, name);
    archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, is_dir ? 0755 : 0644);
    archive_entry_set_size(e, is_dir ? 0 : (la_int64_t)size);
    archive_entry_set_mtime(e, c->mtime, 0);
    /* ARCHIVE_WARN: a name that could not be marked as UTF-8 was written
     * as its bytes (pax hdrcharset=BINARY), which keeps it exact. */
    if (archive_write_header(c->a, e) < ARCHIVE_WARN)
        rc = arc_fail(c, name, err);
    archive_entry_free(e);
    return rc;
}

static int arc_entry(void *arg, const char *rel, int kind,
                     const struct stat *st, vl_error *err)
{
    arc_ctx *c = arg;
    char *name = NULL, *path = NULL;
    int fd = -1, rc;
    ssize_t n;
    if (kind != VL_WALK_FILE && kind != VL_WALK_DIR)
        return vl_error_set(err, VL_ESYS, "%s/%s: not a file or folder",
                            c->dir, rel);
    if (!(name = vl_asprintf("%s/%s%s", c->top, rel,
                             kind == VL_WALK_DIR ? "/" : "")) ||
        !(path = vl_path_join(c->dir, rel))) {
        rc = oom(err);
        goto done;
    }
    if ((rc = arc_header(c, name, kind == VL_WALK_DIR, (uint64_t)st->st_size,
                         err)) != VL_OK || kind == VL_WALK_DIR)
        goto done;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = vl_error_sys(err, "cannot open %s", path);
        goto done;
    }
    while ((n = read(fd, c->buf, VL_IO_BUFSIZE)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = vl_error_sys(err, "cannot read %s", path);
            goto done;
        }
        if (archive_write_data(c->a, c->buf, (size_t)n) != n) {
            rc = arc_fail(c, name, err);
            goto done;
        }
    }
done:
    if (fd >= 0)
        close(fd);
    free(name);
    free(path);
    return rc;
}

/* The top folder inside the archive: DEST's name without its extension
 * ("letters.tar.gz" -> "letters"), as people expect from `zip -r`. */
static char *archive_top(const char *dest)
{
    static const char *const ext[] = {".tar.gz", ".tgz", ".zip", ".tar"};
    const char *base = vl_path_basename(dest);
    size_t n = strlen(base);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t e = strlen(ext[i]);
        if (n > e && !strcasecmp(base + n - e, ext[i])) {
            n -= e;
            break;
        }
    }
    return n && strncmp(base, ".", n) && strncmp(base, "..", n)
               ? vl_strndup(base, n) : vl_strdup("export");
}

static int write_archive(const char *dir, const char *out, const char *dest,
                         const char *kind, vl_error *err)
{
    arc_ctx c;
    int fd = -1, rc = VL_OK, opened = 0;
    /* libarchive converts names through the locale's character set; the
     * program runs in the C locale, where a UTF-8 name cannot be converted
     * (and libarchive 3.6 crashes reporting it).  A UTF-8 locale for this
     * thread only, put back before returning. */
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t prev = utf8 ? uselocale(utf8) : (locale_t)0;

    memset(&c, 0, sizeof c);
    c.dir = dir;
    c.out = dest;
    c.mtime = (time_t)vl_time_now();
    if (!(c.top = archive_top(dest)) || !(c.buf = malloc(VL_IO_BUFSIZE)) ||
        !(c.a = archive_write_new())) {
        rc = oom(err);
        goto done;
    }
    if (!strcmp(kind, "zip")) {
        if (archive_write_set_format_zip(c.a) != ARCHIVE_OK ||
            archive_write_set_options(c.a, "zip:hdrcharset=UTF-8") != ARCHIVE_OK)
            rc = arc_fail(&c, "zip format", err);
    } else {
        /* pax: long names and UTF-8 names kept exactly. */
        if (archive_write_set_format_pax_restricted(c.a) != ARCHIVE_OK ||
            (!strcmp(kind, "tar.gz") &&
             archive_write_add_filter_gzip(c.a) != ARCHIVE_OK))
            rc = arc_fail(&c, "tar format", err);
    }
    if (rc != VL_OK)
        goto done;
    fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = vl_error_sys(err, "cannot create %s", out);
        goto done;
    }
    if (archive_write_open_fd(c.a, fd) != ARCHIVE_OK) {
        rc = arc_fail(&c, "open", err);
        goto done;
    }
    opened = 1;
    if ((rc = arc_header(&c, c.top, 1, 0, err)) != VL_OK ||
        (rc = vl_fs_walk(dir, 1, arc_entry, &c, err)) != VL_OK)
        goto done;
    opened = 0;
    if (archive_write_close(c.a) != ARCHIVE_OK) {
        rc = arc_fail(&c, "close", err);
        goto done;
    }
    if (fsync(fd) != 0) {
        rc = vl_error_sys(err, "cannot write %s", out);
        goto done;
    }
done:
    if (opened)
        archive_write_close(c.a);
    if (c.a)
        archive_write_free(c.a);
    if (fd >= 0 && close(fd) != 0 && rc == VL_OK)
        rc = vl_error_sys(err, "cannot write %s", out);
    free(c.buf);
    free((char *)c.top);
    if (utf8) {
        uselocale(prev);
        freelocale(utf8);
    }
    return rc;
}

/* ======================================================================
 * vl_export
 * ==================================================================== */

/* rename that never replaces: DEST may have appeared since it was checked. */
static int move_new(const char *from, const char *to, vl_error *err)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return VL_OK;
    if (errno == EEXIST)
        return vl_error_set(err, VL_EINPUT, "%s already exists; give a new "
                            "name", to);
    if (errno != EINVAL && errno != ENOSYS)
        return vl_error_sys(err, "cannot move %s to %s", from, to);
    /* A filesystem without RENAME_NOREPLACE: check, then rename. */
    if (vl_fs_exists(to))
        return vl_error_set(err, VL_EINPUT, "%s already exists; give a new "
                            "name", to);
    if (rename(from, to) != 0)
        return vl_error_sys(err, "cannot move %s to %s", from, to);
    return VL_OK;
}

static int data_count(void *arg, const char *rel, int kind,
                      const struct stat *st, vl_error *err)
{
    uint64_t *c = arg;
    if (kind == VL_WALK_FILE) {
        c[0]++;
        c[1] += (uint64_t)st->st_size;
    }
    return VL_OK;
}

static const char *format_label(const char *format)
{
    return !strcmp(format, "bagit") ? "a BagIt 1.0 bag"
         : !strcmp(format, "ocfl") ? "an OCFL object copy"
                                   : "a METS package";
}

typedef struct export_event {
    vl_event ev;
    char detail[4400], arc[64];
    const char *agents[3];
} export_event;

static void export_event_init(export_event *x, const char *id, int num,
                              const vl_export_options *o, const char *where,
                              int ok, const char *outcome_detail)
{
    size_t na = 0;
    vl_event_init(&x->ev, VL_EV_DISSEMINATION, id);
    x->agents[na++] = vl_agent_vellum();
    x->agents[na++] = vl_agent_openssl();
    if (o->archive)
        x->agents[na++] = archive_version_string();
    snprintf(x->arc, sizeof x->arc, " (%s archive)",
             o->archive ? o->archive : "");
    snprintf(x->detail, sizeof x->detail,
             "Exported v%d as %s, format %s%s, to %s", num,
             format_label(o->format), o->format, o->archive ? x->arc : "",
             where);
    x->ev.outcome = ok ? "success" : "fail";
    x->ev.detail = x->detail;
    x->ev.outcome_detail = outcome_detail;
    x->ev.version = num;
    x->ev.agents = x->agents;
    x->ev.nagents = na;
}

static int record_event(vl_repo *r, const export_event *x,
                        vl_export_result *res, vl_error *err)
{
    if (res)
        snprintf(res->event_id, sizeof res->event_id, "%s", x->ev.id);
    return vl_events_append(r, &x->ev, err);
}

int vl_export(vl_repo *r, const char *id, const char *dest,
              const vl_export_options *o, vl_export_result *res,
              vl_error *err)
{
    vl_inventory *inv = NULL;
    vl_descriptive *desc = NULL;
    char *tmp = NULL, *part = NULL, *mets = NULL, *where = NULL, *parent = NULL;
    vl_outside *outside = NULL;
    export_event done_event;
    char note[512] = "";
    const char *format = o ? o->format : NULL, *archive = o ? o->archive : NULL;
    size_t files = 0;
    uint64_t bytes = 0, counts[2] = {0, 0};
    int rc, num = o ? o->version : 0, placed = 0, worked = 0;

    if (res)
        memset(res, 0, sizeof *res);
    if (!format || (strcmp(format, "mets") && strcmp(format, "bagit") &&
                    strcmp(format, "ocfl")))
        return vl_error_set(err, VL_EINPUT, "export format \"%s\": give mets, "
                            "bagit or ocfl", format ? format : "");
    if (archive && strcmp(archive, "zip") && strcmp(archive, "tar") &&
        strcmp(archive, "tar.gz"))
        return vl_error_set(err, VL_EINPUT, "archive \"%s\": give zip, tar or "
                            "tar.gz", archive);
    if (!strcmp(format, "bagit") && !o->check_bag)
        return vl_error_set(err, VL_EINPUT, "a bag export needs a bag checker "
                            "(vl_export_options.check_bag)");
    if (!*dest || vl_fs_exists(dest))
        return vl_error_set(err, VL_EINPUT, "%s already exists; give a new "
                            "name", *dest ? dest : "\"\"");
    if (!(parent = vl_path_dirname(dest)))
        return oom(err);
    if (!vl_fs_is_dir(parent)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: the folder %s does not exist",
                          dest, parent);
        goto done;
    }
    if ((rc = load_version(r, id, &num, &inv, err)) != VL_OK)
        goto done;
    if (!(tmp = vl_asprintf("%s.vellum-export-%ld", dest, (long)getpid())) ||
        !(part = vl_asprintf("%s.part", tmp)) ||
        !(mets = vl_path_join(tmp, "METS.xml")) ||
        !(desc = vl_descriptive_new()) || !(where = vl_path_absolute(dest))) {
        rc = oom(err);
        goto done;
    }
    /* What a killed export or get to the same destination left. */
    size_t stale;
    if ((rc = vl_outside_clear_for(r, dest, &stale, err)) != VL_OK)
        goto done;
    /* Registered before they exist, so recover can clear them after a
     * kill; tmp and part live outside the repository. */
    const char *tmps[] = {tmp, part};
    if ((rc = vl_outside_begin(r, tmps, 2, &outside, err)) != VL_OK)
        goto done;
    /* Leftovers of an earlier run of this same pid: ours to clear. */
    vl_fs_rmtree(tmp, NULL);
    unlink(part);
    if ((rc = vl_fs_mkdirs(tmp, err)) != VL_OK)
        goto done;
    worked = 1;
    if (!strcmp(format, "ocfl")) {
        if ((rc = export_ocfl(r, inv, num, tmp, &files, &bytes, err)) != VL_OK)
            goto done;
        snprintf(note, sizeof note, "%zu files, %llu bytes copied; the copy "
                 "validates as OCFL with every digest checked", files,
                 (unsigned long long)bytes);
    } else {
        if ((rc = materialise_data(r, id, num, tmp, err)) != VL_OK ||
            (rc = regenerate(r, inv, num, mets, desc, err)) != VL_OK)
            goto done;
        if (!strcmp(format, "bagit")) {
            if ((rc = write_bag(tmp, desc, id, &files, &bytes, err)) != VL_OK)
                goto done;
            if ((rc = o->check_bag(o->check_arg, tmp, err)) != VL_OK) {
                if (rc == VL_EINPUT)   /* our bag, not the user's input */
                    rc = vl_error_set(err, VL_ESYS, "the bag written for "
                                      "\"%s\" does not validate: %s", id,
                                      err ? err->msg : "");
                goto done;
            }
            snprintf(note, sizeof note, "%zu payload files, %llu bytes; every "
                     "digest checked on the way out; the bag validates", files,
                     (unsigned long long)bytes);
        } else {
            char *data = vl_path_join(tmp, "data");
            if (!data) {
                rc = oom(err);
                goto done;
            }
            rc = vl_fs_walk(data, 0, data_count, counts, err);
            free(data);
            if (rc != VL_OK)
                goto done;
            files = (size_t)counts[0];
            bytes = counts[1];
            snprintf(note, sizeof note, "%zu files, %llu bytes; every digest "
                     "checked on the way out", files, (unsigned long long)bytes);
        }
    }
    /* Promised before the move, so a kill between the move and the event
     * still gets the event recorded by recover. */
    export_event_init(&done_event, id, num, o, where, 1, note);
    if (archive) {
        if ((rc = write_archive(tmp, part, dest, archive, err)) != VL_OK ||
            (rc = vl_outside_promise(outside, dest, &done_event.ev, err)) ||
            (rc = move_new(part, dest, err)) != VL_OK)
            goto done;
        placed = 1;
        vl_fs_rmtree(tmp, NULL);
    } else {
        if ((rc = vl_fs_syncfs(tmp, err)) != VL_OK ||
            (rc = vl_outside_promise(outside, dest, &done_event.ev, err)) ||
            (rc = move_new(tmp, dest, err)) != VL_OK)
            goto done;
        placed = 1;
    }
    if ((rc = vl_fs_fsync_parent(dest, err)) != VL_OK)
        goto done;
    /* An export nobody can account for must not stay: without its event
     * it is removed again. */
    if ((rc = record_event(r, &done_event, res, err)) != VL_OK)
        goto done;
    if (res) {
        res->version = num;
        res->files = files;
        res->bytes = bytes;
    }
done:
    /* A failed check of the repository's own content is a preservation
     * finding: it gets its event too. */
    if (rc == VL_FINDING && worked && !placed) {
        vl_error keep = err ? *err : (vl_error){0};
        export_event failed;
        export_event_init(&failed, id, num, o, where ? where : dest, 0,
                          keep.msg);
        record_event(r, &failed, res, NULL);
        if (err)
            *err = keep;
    }
    if (rc != VL_OK && placed)
        vl_fs_rmtree(dest, NULL);
    if (tmp && worked)
        vl_fs_rmtree(tmp, NULL);
    if (part && worked)
        unlink(part);
    vl_outside_end(outside);
    vl_descriptive_free(desc);
    vl_inventory_free(inv);
    free(tmp);
    free(part);
    free(mets);
    free(where);
    free(parent);
    return rc;
}
