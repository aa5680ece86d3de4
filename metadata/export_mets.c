/* METS regenerated for an export or for vl_mets_regenerate: files from the
 * catalog (which must agree with the store), formats from the catalog or
 * else the stored METS, every event up to now that is not about a later
 * version, descriptive metadata and original names from the METS stored
 * with the version; and the mets export kind, that METS beside data/. */
#define VL_METADATA_INTERNAL
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "export_private.h"

/* ======================================================================
 * METS regenerated from the catalog and the store
 * ==================================================================== */

typedef struct rfile {
    char *logical, *content, *digest;
    uint64_t size;
    char *fixity[VL_DIGEST_COUNT];   /* copies; the inventory's digest too */
    char *mime, *name, *version, *puid, *original, *encoding, *description;
    char *pronom[4];   /* basis, warning, others, signatures */
    int has_modified;  /* the modification time as deposited */
    int64_t modified_ns;
} rfile;

typedef struct revent {
    char *id, *type, *datetime, *outcome, *detail, *outcome_detail;
    char *object_id, *files_json, *agents_json;
    int version;
    long seq;
} revent;

/* What the stored METS says about a file (original name; format when the
 * catalog has none): a row of the scratch table "stored", whose strings
 * last until the next lookup. */
typedef struct sfile {
    const char *mime, *name, *version, *puid, *original, *encoding,
        *description;
    const char *pronom[4];   /* basis, warning, others, signatures */
} sfile;

/* The stored METS's files, on disk: an object may hold a million. */
static const char stored_schema[] =
    "CREATE TABLE stored(logical TEXT PRIMARY KEY, mime TEXT, name TEXT,"
    " version TEXT, puid TEXT, original TEXT, encoding TEXT,"
    " description TEXT, basis TEXT, warning TEXT, others TEXT,"
    " signatures TEXT) WITHOUT ROWID;";

/* The files are read from the catalog a page at a time as the METS writer
 * asks for them (it makes several passes), so what is held does not grow
 * with the version. */
#define REGEN_PAGE 512

typedef struct regen {
    vl_repo *r;
    const vl_inventory *inv;
    const char *id;
    int num;
    vl_digest_alg alg;
    rfile *files;        /* the page */
    size_t n, cap, pos;
    size_t rows;         /* catalog rows of the page, data/ or not */
    char *after;         /* the page's last logical path */
    int last_page;       /* no page after this one */
    size_t data_rows;    /* catalog files under data/ (count_catalog) */
    vl_error err;        /* why a page could not be read */
    revent *events;
    size_t ne, ce, epos;
    struct sqlite3 *sdb;          /* table "stored" */
    sqlite3_stmt *s_ins, *s_get;
    sfile found;                 /* the last lookup's row */
    char **people;
    size_t npeople, cpeople;
    vl_mets_agent *agents;
    size_t data_files;   /* data/ files in the inventory state */
    char modified[40];   /* the current file's, for g_next */
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

static int stored_fail(regen *g, vl_error *err)
{
    return vl_error_set(err, VL_ESYS, "\"%s\" v%d: scratch index of its "
                        "METS.xml: %s", g->id, g->num,
                        g->sdb ? sqlite3_errmsg(g->sdb) : "out of memory");
}

static int stored_file(void *arg, const vl_mets_file_info *f, vl_error *err)
{
    regen *g = arg;
    const char *const v[] = {f->logical, f->mime, f->format_name,
                             f->format_version, f->puid, f->original_name,
                             f->encoding, f->description, f->basis,
                             f->warning, f->others, f->signatures};
    /* the first description of a path wins, as a lookup found it before */
    if (!g->s_ins &&
        sqlite3_prepare_v2(g->sdb, "INSERT OR IGNORE INTO stored VALUES"
                           " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                           -1, &g->s_ins, NULL) != SQLITE_OK)
        return stored_fail(g, err);
    for (int i = 0; i < (int)(sizeof v / sizeof *v); i++)
        if ((v[i] ? sqlite3_bind_text(g->s_ins, i + 1, v[i], -1, SQLITE_STATIC)
                  : sqlite3_bind_null(g->s_ins, i + 1)) != SQLITE_OK)
            return stored_fail(g, err);
    int code = sqlite3_step(g->s_ins);
    sqlite3_reset(g->s_ins);
    return code == SQLITE_DONE ? VL_OK : stored_fail(g, err);
}

/* NULL when the stored METS does not describe the path; a failing lookup
 * is said in *rc. */
static const sfile *stored_lookup(regen *g, const char *logical, int *rc,
                                  vl_error *err)
{
    sfile *s = &g->found;
    *rc = VL_OK;
    if (!g->s_get &&
        sqlite3_prepare_v2(g->sdb, "SELECT mime, name, version, puid, original,"
                           " encoding, description, basis, warning, others,"
                           " signatures FROM stored WHERE logical = ?1", -1,
                           &g->s_get, NULL) != SQLITE_OK) {
        *rc = stored_fail(g, err);
        return NULL;
    }
    sqlite3_reset(g->s_get);
    sqlite3_bind_text(g->s_get, 1, logical, -1, SQLITE_STATIC);
    int code = sqlite3_step(g->s_get);
    if (code != SQLITE_ROW) {
        if (code != SQLITE_DONE)
            *rc = stored_fail(g, err);
        return NULL;
    }
    const char **col[] = {&s->mime, &s->name, &s->version, &s->puid,
                          &s->original, &s->encoding, &s->description,
                          &s->pronom[0], &s->pronom[1], &s->pronom[2],
                          &s->pronom[3]};
    for (int i = 0; i < (int)(sizeof col / sizeof *col); i++)
        *col[i] = (const char *)sqlite3_column_text(g->s_get, i);
    return s;
}

static void rfile_free(rfile *f)
{
    free(f->logical); free(f->content); free(f->digest); free(f->mime);
    free(f->name); free(f->version); free(f->puid); free(f->original);
    free(f->encoding); free(f->description);
    for (int j = 0; j < 4; j++)
        free(f->pronom[j]);
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        free(f->fixity[a]);
}

static void page_free(regen *g)
{
    for (size_t i = 0; i < g->n; i++)
        rfile_free(&g->files[i]);
    g->n = g->pos = 0;
}

static int catalog_format(void *arg, const vl_catalog_format *cf)
{
    rfile *f = arg;
    f->mime = dup_or_null(cf->mime);
    f->name = dup_or_null(cf->format_name);
    f->version = dup_or_null(cf->format_version);
    f->puid = dup_or_null(cf->puid);
    f->encoding = dup_or_null(cf->encoding);
    f->description = dup_or_null(cf->description);
    const char *const notes[4] = {cf->basis, cf->warning, cf->others, cf->signatures};
    return copy_pronom(f->pronom, notes) || (cf->mime && !f->mime) ||
           (cf->format_name && !f->name) || (cf->format_version && !f->version) ||
           (cf->puid && !f->puid) || (cf->encoding && !f->encoding) ||
           (cf->description && !f->description);
}

static int catalog_file(void *arg, const vl_catalog_file_detail *d)
{
    regen *g = arg;
    const vl_catalog_file *f = &d->file;
    rfile *x;
    char *after = vl_strdup(f->logical);
    if (!after)
        return vl_error_oom(&g->err);
    free(g->after);
    g->after = after;
    g->rows++;
    /* The METS describes the deposit (data/); METS.xml and metadata/ are
     * about it, not part of it. */
    if (strncmp(f->logical, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN) != 0)
        return 0;
    if (VL_GROW(g->files, g->cap, g->n + 1, &g->err) != VL_OK)
        return VL_ESYS;
    x = &g->files[g->n];
    memset(x, 0, sizeof *x);
    g->n++;   /* page_free frees what was copied */
    x->logical = vl_strdup(f->logical);
    x->content = vl_strdup(f->content);
    x->digest = vl_strdup(f->digest);
    x->size = f->size;
    x->has_modified = d->has_modified;
    x->modified_ns = d->modified_ns;
    if (!x->logical || !x->content || !x->digest ||
        (d->format && catalog_format(x, d->format)))
        return vl_error_oom(&g->err);
    return 0;
}

static int count_catalog(void *arg, const vl_catalog_file *f)
{
    regen *g = arg;
    g->data_rows += strncmp(f->logical, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN) == 0;
    return 0;
}

static void revent_free(revent *e)
{
    free(e->id); free(e->type); free(e->datetime); free(e->outcome);
    free(e->detail); free(e->outcome_detail); free(e->object_id);
    free(e->files_json); free(e->agents_json);
}

static int event_row(void *arg, const vl_event_row *e)
{
    regen *g = arg;
    revent *x;
    /* Events about later versions are not about this one. */
    if (e->version > g->num)
        return 0;
    /* A staged head of this version number was discarded: its events so
     * far (given in log order), and the discard's, describe no version. */
    if (vl_event_is_discard(e)) {
        size_t kept = 0;
        for (size_t i = 0; i < g->ne; i++) {
            if (g->events[i].version == e->version)
                revent_free(&g->events[i]);
            else
                g->events[kept++] = g->events[i];
        }
        g->ne = kept;
        return 0;
    }
    if (VL_GROW(g->events, g->ce, g->ne + 1, NULL) != VL_OK)
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
    g->data_files += strncmp(logical, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN) == 0;
    return 0;
}

static int resolve_file(regen *g, rfile *f, vl_error *err);

/* The next page of files, each with its fixity and format. */
static int next_page(regen *g)
{
    page_free(g);
    g->rows = 0;
    int rc = vl_catalog_files_detail(vl_repo_catalog(g->r), g->id, g->num,
                                     g->after, REGEN_PAGE, catalog_file, g,
                                     &g->err);
    if (rc != VL_OK) {
        if (!g->err.msg[0])
            vl_error_set(&g->err, VL_ESYS, "\"%s\" v%d: cannot list its files "
                         "in the catalog", g->id, g->num);
        return -1;
    }
    g->last_page = g->rows < REGEN_PAGE;
    for (size_t i = 0; i < g->n; i++)
        if (resolve_file(g, &g->files[i], &g->err) != VL_OK)
            return -1;
    return 0;
}

static void g_rewind(void *arg)
{
    regen *g = arg;
    page_free(g);
    free(g->after);
    g->after = NULL;
    g->last_page = 0;
}

static int g_next(void *arg, vl_mets_file *out)
{
    regen *g = arg;
    const rfile *f;
    while (g->pos >= g->n) {
        if (g->last_page)
            return 0;
        if (next_page(g) != 0)
            return -1;
    }
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
    /* The modification time as deposited, when the catalog has it. */
    if (f->has_modified) {
        vl_time_rfc3339_ns(f->modified_ns, g->modified);
        out->modified = g->modified;
    }
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
            return vl_error_oom(err);
        for (size_t i = 0; i < g->npeople && !seen; i++)
            seen = !strcmp(g->people[i], name);
        if (seen) {
            free(name);
            continue;
        }
        if (VL_GROW(g->people, g->cpeople, g->npeople + 1, err) != VL_OK) {
            free(name);
            return VL_ESYS;
        }
        g->people[g->npeople++] = name;
    }
    if (g->npeople && !(g->agents = calloc(g->npeople, sizeof *g->agents)))
        return vl_error_oom(err);
    for (size_t i = 0; i < g->npeople; i++) {
        g->agents[i].name = g->people[i];
        g->agents[i].type = "person";
        g->agents[i].role = "OTHER";   /* as ingest lists the depositor */
    }
    return VL_OK;
}

static void regen_free(regen *g)
{
    page_free(g);
    free(g->files);
    free(g->after);
    for (size_t i = 0; i < g->ne; i++)
        revent_free(&g->events[i]);
    free(g->events);
    sqlite3_finalize(g->s_ins);
    sqlite3_finalize(g->s_get);
    sqlite3_close(g->sdb);
    for (size_t i = 0; i < g->npeople; i++)
        free(g->people[i]);
    free(g->people);
    free(g->agents);
}

/* A file's other digests (fixity) from the inventory, its format from the
 * catalog or else the stored METS, and its original name. */
static int resolve_file(regen *g, rfile *f, vl_error *err)
{
    int failed = 0, rc;
    const sfile *s = stored_lookup(g, f->logical, &rc, err);
    if (rc != VL_OK)
        return rc;
    if (!(f->fixity[g->alg] = vl_strdup(f->digest)))
        return vl_error_oom(err);
    for (int a = 0; a < VL_DIGEST_COUNT; a++) {
        if (a == (int)g->alg)
            continue;
        const char *v = vl_inventory_fixity(g->inv, (vl_digest_alg)a, f->content);
        if (!v && vl_inventory_failed(g->inv))
            return vl_error_set(err, VL_ESYS, "\"%s\" v%d: cannot read its "
                                "inventory's index", g->id, g->num);
        if (v && !(f->fixity[a] = vl_strdup(v)))
            return vl_error_oom(err);
    }
    if (s && !f->mime && !f->name && !f->puid) {
        for (int j = 0; j < 4; j++) {   /* an empty catalog row's, if any */
            free(f->pronom[j]);
            f->pronom[j] = NULL;
        }
        free(f->version);
        free(f->encoding);
        free(f->description);
        f->mime = dup_or_null(s->mime);
        f->name = dup_or_null(s->name);
        f->version = dup_or_null(s->version);
        f->puid = dup_or_null(s->puid);
        f->encoding = dup_or_null(s->encoding);
        f->description = dup_or_null(s->description);
        failed = copy_pronom(f->pronom, (const char *const *)s->pronom) ||
                 (s->mime && !f->mime) || (s->name && !f->name) ||
                 (s->version && !f->version) || (s->puid && !f->puid) ||
                 (s->encoding && !f->encoding) ||
                 (s->description && !f->description);
    }
    if (!failed && s && s->original && !(f->original = vl_strdup(s->original)))
        failed = 1;
    return failed ? vl_error_oom(err) : VL_OK;
}

static int desc_empty(vl_descriptive *d)
{
    return vl_dc_is_empty(vl_descriptive_deposit_dc(d)) &&
           !vl_descriptive_mods_xml(d) && vl_descriptive_file_count(d) == 0;
}

/* Written back from desc, which receives the stored METS's descriptive
 * metadata (export_private.h). */
int vl_export_regenerate(vl_repo *r, const vl_inventory *inv, int num,
                         const char *path, vl_descriptive *desc,
                         vl_error *err)
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
    g.alg = alg;
    /* Descriptive metadata and original names live only in the METS
     * stored with the version. */
    if (vl_scratch_db_open(&g.sdb, 2048, stored_schema) != SQLITE_OK) {
        rc = stored_fail(&g, err);
        goto done;
    }
    if ((rc = vl_mets_read_stored_inv(r, inv, num, desc, stored_file, &g,
                                      &found, err)) != VL_OK)
        goto done;
    /* A version deposited without descriptive metadata is still described
     * by the latest one given before it. */
    for (int v = num - 1; v >= 1 && desc_empty(desc); v--)
        if ((rc = vl_mets_read_stored_inv(r, inv, v, desc, NULL, NULL, &found,
                                          err)) != VL_OK)
            goto done;
    rc = vl_catalog_files(cat, g.id, num, count_catalog, &g, err);
    if (rc != VL_OK) {
        if (err && !err->msg[0])
            vl_error_oom(err);
        goto done;
    }
    /* The catalog is an index: if it does not list what the store holds,
     * a METS made from it would be wrong. */
    if (vl_inventory_state_foreach(inv, num, count_data, &g) != 0) {
        rc = vl_error_set(err, VL_ESYS, "\"%s\" v%d: cannot read its inventory's index",
                          g.id, num);
        goto done;
    }
    if (g.data_files != g.data_rows) {
        rc = vl_error_set(err, VL_ESYS, "the catalog lists %zu files under "
                          "data/ in \"%s\" v%d but the store has %zu; run "
                          "vellum reindex", g.data_rows, g.id, num, g.data_files);
        goto done;
    }
    memset(&ef, 0, sizeof ef);
    ef.object_id = g.id;
    rc = vl_events_list(r, &ef, event_row, &g, err);
    if (rc != VL_OK) {
        if (err && !err->msg[0])
            vl_error_oom(err);
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
    if (rc != VL_OK && g.err.msg[0] && err)
        *err = g.err;   /* the page that could not be read, not "the list" */
done:
    regen_free(&g);
    return rc;
}

int vl_mets_regenerate(vl_repo *r, const char *id, int num, const char *path,
                       vl_error *err)
{
    vl_inventory *inv = NULL;
    vl_descriptive *desc = vl_descriptive_new();
    int rc;
    if (!desc)
        return vl_error_oom(err);
    if ((rc = vl_export_load_version(r, id, &num, &inv, err)) == VL_OK)
        rc = vl_export_regenerate(r, inv, num, path, desc, err);
    vl_inventory_free(inv);
    vl_descriptive_free(desc);
    return rc;
}

/* ======================================================================
 * The mets export kind: METS.xml (regenerated now) + data/
 * ==================================================================== */

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

int vl_export_mets(vl_repo *r, const char *id, const vl_inventory *inv,
                   int num, const char *tmp, size_t *files, uint64_t *bytes,
                   vl_error *err)
{
    vl_descriptive *desc = vl_descriptive_new();
    char *mets = vl_path_join(tmp, VL_METS_FILE);
    char *data = vl_path_join(tmp, "data");
    uint64_t counts[2] = {0, 0};
    int rc;
    if (!desc || !mets || !data) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_export_payload(r, id, num, tmp, err)) != VL_OK ||
        (rc = vl_export_regenerate(r, inv, num, mets, desc, err)) != VL_OK ||
        (rc = vl_tree_walk(data, 0, data_count, counts, err)) != VL_OK)
        goto done;
    *files = (size_t)counts[0];
    *bytes = counts[1];
done:
    vl_descriptive_free(desc);
    free(mets);
    free(data);
    return rc;
}
