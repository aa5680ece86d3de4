/* The METS.xml of a deposit's version: every data/ file of the new state
 * (new ones from the deposit's records, kept ones from the catalog when
 * merging), this version's PREMIS events, the agents and the descriptive
 * metadata, written into staging and added to the version like any file. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "identify_private.h"
#include "ingest_internal.h"
#include "vl_metadata.h"

struct pkg_file {
    vl_mets_file f;
    char *owned[12];     /* strings copied for kept files */
    char modified[40];   /* RFC 3339, "" when not known */
};

struct pkg {
    struct pkg_file *files;
    size_t n, cap, pos;
    vl_txn *txn;
    size_t ev_pos;
    json_t *carried;     /* events recorded against the head since it was
                            committed (replication, recovery, quarantine) */
};

static int push(struct pkg *p, struct pkg_file *pf)
{
    if (VL_GROW(p->files, p->cap, p->n + 1, NULL) != VL_OK)
        return -1;
    p->files[p->n++] = *pf;
    return 0;
}

static int file_cmp(const void *a, const void *b)
{
    return strcmp(((const struct pkg_file *)a)->f.logical,
                  ((const struct pkg_file *)b)->f.logical);
}

static void rewind_files(void *arg) { ((struct pkg *)arg)->pos = 0; }

static int next_file(void *arg, vl_mets_file *out)
{
    struct pkg *p = arg;
    if (p->pos >= p->n)
        return 0;
    *out = p->files[p->pos].f;
    out->modified = p->files[p->pos].modified[0] ? p->files[p->pos].modified
                                                  : NULL;
    p->pos++;
    return 1;
}

static void rewind_events(void *arg) { ((struct pkg *)arg)->ev_pos = 0; }

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int next_event(void *arg, vl_event_row *out)
{
    struct pkg *p = arg;
    size_t own = vl_txn_event_count(p->txn);
    if (p->ev_pos < own)
        return vl_txn_event_row(p->txn, p->ev_pos++, out) == 0 ? 1 : -1;
    json_t *e = json_array_get(p->carried, p->ev_pos - own);
    if (!e)
        return 0;
    p->ev_pos++;
    memset(out, 0, sizeof *out);
    out->seq = (long)json_integer_value(json_object_get(e, "seq"));
    out->id = jstr(e, "id");
    out->type = jstr(e, "type");
    out->datetime = jstr(e, "datetime");
    out->outcome = jstr(e, "outcome");
    out->detail = jstr(e, "detail");
    out->outcome_detail = jstr(e, "outcome_detail");
    out->object_id = jstr(e, "object_id");
    out->version = (int)json_integer_value(json_object_get(e, "version"));
    out->files_json = jstr(e, "files");
    out->agents_json = jstr(e, "agents");
    return 1;
}

/* What happened to the copies of the head version since it was committed
 * (replicas made, files restored or quarantined) goes into the next
 * version's METS, so the package carries its own history. */
struct carry_ctx {
    json_t *list;
    int head;
};

static int carry_event(void *arg, const vl_event_row *row)
{
    struct carry_ctx *c = arg;
    if (row->version != c->head ||
        (strcmp(row->type, VL_EV_REPLICATION) && strcmp(row->type, VL_EV_RECOVERY) &&
         strcmp(row->type, VL_EV_QUARANTINE)))
        return 0;
    json_t *e = json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:i,s:s?,s:s?}",
                          "seq", (json_int_t)row->seq, "id", row->id, "type",
                          row->type, "datetime", row->datetime, "outcome",
                          row->outcome, "detail", row->detail, "outcome_detail",
                          row->outcome_detail, "object_id", row->object_id,
                          "version", row->version, "files", row->files_json,
                          "agents", row->agents_json);
    return !e || json_array_append_new(c->list, e) != 0;
}

/* Kept files (merge): what the catalog knows of the head version. */
struct kept_ctx {
    struct pkg *p;
    json_t *given;
    vl_catalog *cat;
    const char *id;
    const vl_inventory *head;
    int failed;
};

static int got_kept_format(void *arg, const vl_catalog_format *f)
{
    struct pkg_file *pf = arg;
    pf->f.mime = pf->owned[1] = f->mime ? vl_strdup(f->mime) : NULL;
    pf->f.format_name = pf->owned[2] = f->format_name ? vl_strdup(f->format_name) : NULL;
    pf->f.format_version = pf->owned[3] = f->format_version ? vl_strdup(f->format_version) : NULL;
    pf->f.puid = pf->owned[4] = f->puid ? vl_strdup(f->puid) : NULL;
    pf->f.encoding = pf->owned[6] = f->encoding ? vl_strdup(f->encoding) : NULL;
    pf->f.description = pf->owned[7] = f->description ? vl_strdup(f->description) : NULL;
    pf->f.basis = pf->owned[8] = f->basis ? vl_strdup(f->basis) : NULL;
    pf->f.warning = pf->owned[9] = f->warning ? vl_strdup(f->warning) : NULL;
    pf->f.others = pf->owned[10] = f->others ? vl_strdup(f->others) : NULL;
    pf->f.signatures = pf->owned[11] = f->signatures ? vl_strdup(f->signatures) : NULL;
    return 0;
}

static int add_kept(void *arg, const vl_catalog_file *cf)
{
    struct kept_ctx *k = arg;
    struct pkg_file pf;
    vl_error err = {0};
    if (strncmp(cf->logical, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN) != 0 || json_object_get(k->given, cf->logical))
        return 0;
    memset(&pf, 0, sizeof pf);
    pf.f.logical = pf.owned[0] = vl_strdup(cf->logical);
    pf.f.size = cf->size;
    vl_digest_alg alg = vl_inventory_digest_alg(k->head);
    pf.f.digests[alg] = pf.owned[5] = vl_strdup(cf->digest);
    if (alg == VL_SHA512)
        pf.f.sha512 = pf.f.digests[alg];
    vl_catalog_format_get(k->cat, k->id, cf->digest, got_kept_format, &pf, &err);
    int64_t ns;
    if (vl_catalog_date_get(k->cat, k->id, vl_inventory_head(k->head),
                            cf->logical, &ns, &err) == VL_OK)
        vl_time_rfc3339_ns(ns, pf.modified);
    if (!pf.f.logical || push(k->p, &pf) != 0) {
        k->failed = 1;
        return 1;
    }
    return 0;
}

int vl_ingest_write_mets(vl_ingest_run *run, const vl_descriptive *desc,
                         vl_error *err)
{
    struct pkg p = {0};
    json_t *given = json_object();
    char *path = NULL, created[32];
    int rc = VL_OK;
    p.txn = run->txn;
    const vl_inventory *head = vl_txn_head_inventory(run->txn);
    vl_digest_alg inv_alg = head ? vl_inventory_digest_alg(head) : vl_repo_digest(run->repo);
    if (!given) {
        rc = vl_error_oom(err);
        goto done;
    }
    for (size_t i = 0; i < run->dep.n; i++) {
        vl_record *r = &run->dep.recs[i];
        struct pkg_file pf;
        if (strncmp(r->logical, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN) != 0)
            continue;
        memset(&pf, 0, sizeof pf);
        pf.f.logical = r->logical;
        pf.f.size = r->size;
        for (int a = 0; a < VL_DIGEST_COUNT; a++)
            pf.f.digests[a] = r->hex[a];
        pf.f.sha512 = r->hex[VL_SHA512];
        pf.f.mime = r->mime;
        pf.f.format_name = r->format_name;
        pf.f.format_version = r->format_version;
        pf.f.puid = r->puid;
        pf.f.encoding = r->encoding;
        pf.f.description = r->description;
        pf.f.basis = r->basis;
        pf.f.warning = r->warning;
        pf.f.others = r->others;
        pf.f.signatures = r->signatures;
        pf.f.original_name = r->from_archive ? r->shown : NULL;
        if (r->mtime_ns != VL_MTIME_UNKNOWN)
            vl_time_rfc3339_ns(r->mtime_ns, pf.modified);
        json_object_set_new(given, r->logical, json_true());
        if (push(&p, &pf) != 0) {
            rc = vl_error_oom(err);
            goto done;
        }
    }
    if (run->o->merge && head) {
        struct kept_ctx k = {&p, given, vl_repo_catalog(run->repo),
                             vl_txn_object_id(run->txn), head, 0};
        rc = vl_catalog_files(vl_repo_catalog(run->repo), vl_txn_object_id(run->txn),
                              vl_inventory_head(head), add_kept, &k, err);
        if (rc == VL_OK && k.failed)
            rc = vl_error_oom(err);
        if (rc != VL_OK)
            goto done;
    }
    if (p.n)
        qsort(p.files, p.n, sizeof *p.files, file_cmp);
    if (!(p.carried = json_array())) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (head) {
        struct carry_ctx cc = {p.carried, vl_inventory_head(head)};
        vl_event_filter ef = {.object_id = vl_txn_object_id(run->txn)};
        if ((rc = vl_events_list(run->repo, &ef, carry_event, &cc, err)) != VL_OK)
            goto done;
    }
    (void)inv_alg;

    char depositor[512];
    snprintf(depositor, sizeof depositor, "%s%s%s%s",
             run->o->user_name ? run->o->user_name : "unknown depositor",
             run->o->user_address ? " <" : "", run->o->user_address ? run->o->user_address : "",
             run->o->user_address ? ">" : "");
    vl_mets_agent agents[6];
    size_t na = 0;
    char sigs[96];
    agents[na++] = (vl_mets_agent){vl_agent_vellum(), "software", "CREATOR"};
    agents[na++] = (vl_mets_agent){vl_agent_openssl(), "software", NULL};
    if (!run->o->no_identify)
        agents[na++] = (vl_mets_agent){vl_identify_library_version(), "software", NULL};
    if (!run->o->no_identify && run->sigs) {
        snprintf(sigs, sizeof sigs, "PRONOM signatures: %s",
                 vl_signatures_describe(run->sigs));
        agents[na++] = (vl_mets_agent){sigs, "software", NULL};
    }
    if (run->archives)
        agents[na++] = (vl_mets_agent){vl_archive_library_version(), "software", NULL};
    agents[na++] = (vl_mets_agent){depositor, "person", "OTHER"};

    vl_time_rfc3339(vl_time_now(), created);
    vl_mets_source src = {0};
    src.object_id = vl_txn_object_id(run->txn);
    src.create_date = created;
    src.vellum_version = VL_VERSION;
    src.desc = desc;
    src.rewind = rewind_files;
    src.next = next_file;
    src.arg = &p;
    src.rewind_events = rewind_events;
    src.next_event = next_event;
    src.event_arg = &p;
    src.agents = agents;
    src.nagents = na;
    if ((rc = vl_txn_stage_path(run->txn, VL_METS_FILE, &path, err)) != VL_OK)
        goto done;
    if ((rc = vl_mets_write(&src, path, err)) != VL_OK)
        goto done;
    vl_digest_result d;
    uint64_t size = 0;
    if ((rc = vl_digest_file(path, run->mask, &d, &size, err)) != VL_OK)
        goto done;
    memcpy(run->mets_digest, d.hex, sizeof run->mets_digest);
    rc = vl_txn_add(run->txn, VL_METS_FILE, &d, size, 1, err);
done:
    for (size_t i = 0; i < p.n; i++)
        for (size_t j = 0; j < sizeof p.files[i].owned / sizeof *p.files[i].owned; j++)
            free(p.files[i].owned[j]);
    free(p.files);
    json_decref(p.carried);
    json_decref(given);
    free(path);
    return rc;
}
