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

/* The METS's files come from a cursor over the deposit's records, the
 * kept ones (--merge) added to them, in logical path order. */
struct pkg {
    vl_deposit_cursor files;
    char modified[40];   /* RFC 3339 of the file last given */
    vl_txn *txn;
    size_t ev_pos;
    json_t *carried;     /* events recorded against the head since it was
                            committed (replication, recovery, quarantine) */
};

static void rewind_files(void *arg) { vl_deposit_rewind(&((struct pkg *)arg)->files); }

static int next_file(void *arg, vl_mets_file *out)
{
    struct pkg *p = arg;
    const vl_record *r;
    vl_error err = {0};
    /* the METS writer reports a failure as the list of files unreadable */
    if (vl_deposit_next(&p->files, &r, &err) != VL_OK)
        return -1;
    if (!r)
        return 0;
    memset(out, 0, sizeof *out);
    out->logical = r->logical;
    out->size = r->size;
    for (int a = 0; a < VL_DIGEST_COUNT; a++)
        out->digests[a] = r->hex[a];
    out->sha512 = r->hex[VL_SHA512];
    out->mime = r->mime;
    out->format_name = r->format_name;
    out->format_version = r->format_version;
    out->puid = r->puid;
    out->encoding = r->encoding;
    out->description = r->description;
    out->basis = r->basis;
    out->warning = r->warning;
    out->others = r->others;
    out->signatures = r->signatures;
    out->original_name = r->from_archive ? r->shown : NULL;
    if (r->mtime_ns != VL_MTIME_UNKNOWN) {
        vl_time_rfc3339_ns(r->mtime_ns, p->modified);
        out->modified = p->modified;
    }
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
    /* a discarded staged head of this number: what came before is its */
    if (row->version == c->head && vl_event_is_discard(row))
        return json_array_clear(c->list) != 0;
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
    vl_deposit *dep;
    vl_catalog *cat;
    const char *id;
    const vl_inventory *head;
    int rc;
    vl_error *err;
};

/* Each file of the head version, with its format and date from the same
 * catalog query (a lookup per file cost a statement each). */
static int add_kept(void *arg, const vl_catalog_file_detail *d)
{
    struct kept_ctx *k = arg;
    const vl_catalog_file *cf = &d->file;
    static const vl_catalog_format none;
    int given;
    if (strncmp(cf->logical, VL_PAYLOAD_PREFIX, VL_PAYLOAD_PREFIX_LEN) != 0)
        return 0;
    if ((k->rc = vl_deposit_has(k->dep, cf->logical, &given, k->err)) != VL_OK)
        return 1;
    if (given)
        return 0;
    k->rc = vl_deposit_add_kept(k->dep, cf->logical, cf->size,
                                vl_inventory_digest_alg(k->head), cf->digest,
                                d->format ? d->format : &none,
                                d->has_modified ? d->modified_ns : VL_MTIME_UNKNOWN,
                                k->err);
    return k->rc != VL_OK;
}

/* The catalog must know the head version whose files are kept. */
static int head_known(void *arg, const vl_catalog_object *o)
{
    struct kept_ctx *k = arg;
    if (o->head < vl_inventory_head(k->head))
        k->rc = vl_error_set(k->err, VL_EINPUT, "object \"%s\" has no "
                             "version %d in the catalog", k->id,
                             vl_inventory_head(k->head));
    return 0;
}

/* A staged head's state is not in the catalog (only committed versions
 * are): its kept files come from its inventory, sizes from the store, and
 * formats (by digest) and dates (of the staged version) from the catalog,
 * where each staged deposit put them. */
struct staged_kept {
    struct kept_ctx *k;
    vl_backend *b;
    const char *object_rel;
    vl_catalog_facts *fx;
    vl_catalog_file_detail d;
    int added;
};

static int staged_format(void *arg, const vl_catalog_format *f)
{
    struct staged_kept *s = arg;
    s->d.format = f;   /* lives only in this call: used in it */
    s->added = 1;
    return add_kept(s->k, &s->d);
}

static int add_staged_kept(void *arg, const char *logical, const char *digest)
{
    struct staged_kept *s = arg;
    const char *cpath = vl_inventory_content_path(s->k->head, digest);
    char *rel = cpath ? vl_path_join(s->object_rel, cpath) : NULL;
    vl_error ignored = {0};
    uint64_t size = 0;
    int kind = 0;
    if (!rel) {
        s->k->rc = cpath ? vl_error_oom(s->k->err)
                         : vl_error_set(s->k->err, VL_ESYS, "the staged head of \"%s\" "
                                        "lists no content for %s", s->k->id, logical);
        return 1;
    }
    s->k->rc = vl_backend_stat(s->b, rel, &kind, &size, s->k->err);
    free(rel);
    if (s->k->rc != VL_OK)
        return 1;
    memset(&s->d, 0, sizeof s->d);
    s->d.file = (vl_catalog_file){logical, cpath, digest, size};
    s->d.has_modified = vl_catalog_facts_date(s->fx, vl_inventory_head(s->k->head),
                                              logical, &s->d.modified_ns,
                                              &ignored) == VL_OK;
    s->added = 0;
    vl_catalog_facts_format(s->fx, digest, staged_format, s, &ignored);
    if (s->added)
        return s->k->rc != VL_OK;
    return add_kept(s->k, &s->d);
}

int vl_ingest_write_mets(vl_ingest_run *run, const vl_descriptive *desc,
                         vl_error *err)
{
    struct pkg p = {0};
    char *path = NULL, created[32];
    int rc = VL_OK;
    p.txn = run->txn;
    const vl_inventory *head = vl_txn_head_inventory(run->txn);
    vl_digest_alg inv_alg = head ? vl_inventory_digest_alg(head) : vl_repo_digest(run->repo);
    if (run->o->merge && head) {
        struct kept_ctx k = {&run->dep, vl_repo_catalog(run->repo),
                             vl_txn_object_id(run->txn), head, VL_OK, err};
        if (vl_txn_base_version(run->txn) == vl_txn_version(run->txn)) {
            char *rel = vl_repo_object_path(run->repo, vl_txn_object_id(run->txn));
            struct staged_kept sk = {.k = &k, .b = vl_repo_backend(run->repo),
                                     .object_rel = rel};
            rc = !rel ? vl_error_oom(err) : vl_catalog_facts_open(k.cat, k.id, &sk.fx, err);
            if (rc == VL_OK &&
                vl_inventory_state_foreach(head, vl_txn_base_version(run->txn),
                                           add_staged_kept, &sk) != 0 && k.rc == VL_OK)
                rc = vl_error_set(err, VL_ESYS, "cannot read the staged head of \"%s\"",
                                  k.id);
            vl_catalog_facts_close(sk.fx);
            free(rel);
        } else {
            rc = vl_catalog_get_object(k.cat, k.id, head_known, &k, err);
            if (rc == VL_OK && (rc = k.rc) == VL_OK)
                rc = vl_catalog_files_detail(k.cat, k.id, vl_inventory_head(head),
                                             NULL, 0, add_kept, &k, err);
        }
        if (k.rc != VL_OK)
            rc = k.rc;
        if (rc != VL_OK)
            goto done;
    }
    if ((rc = vl_deposit_open(&run->dep, VL_DEP_PAYLOAD | VL_DEP_KEPT, &p.files,
                              err)) != VL_OK)
        goto done;
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
    vl_deposit_close(&p.files);
    json_decref(p.carried);
    free(path);
    return rc;
}
