/* Exports of an object version: the checks, the temporary folder, the
 * move into place and the dissemination event shared by every kind; the
 * kinds themselves are in export_mets.c, export_bagit.c and export_ocfl.c,
 * the archive forms in export_archive.c.
 *
 *   mets   METS.xml (regenerated now) + data/ (+ metadata/bag/, the donor's
 *          bag, when the deposit was one)
 *   bagit  a BagIt 1.0 bag: data/, manifest-sha512.txt, manifest-sha256.txt,
 *          bagit.txt, bag-info.txt, METS.xml and metadata/bag/ as tag
 *          files, tagmanifest-sha512.txt, tagmanifest-sha256.txt
 *   ocfl   the OCFL object folder, byte for byte (for an older version:
 *          v1..vN, with vN's inventory as the root inventory)
 *
 * Everything is built in DEST.vellum-export-<pid> beside DEST; an archive
 * (zip, tar, tar.gz, tar.xz, tar.bz2: --archive, or DEST's extension; one
 * top folder named after DEST) is written to
 * DEST.vellum-export-<pid>.part from it.  Only a finished, checked export
 * is renamed to DEST (never over anything), and a failure removes both
 * temporary names; both are registered in staging first (vl_outside_begin)
 * so that recover removes them after a kill.  The payload is materialised
 * by vl_repo_get, so every digest is checked on the way out.
 *
 * Layering: metadata/ may not use ingest/, where the BagIt validator
 * lives; the caller hands it in as o->check_bag and a bag export without
 * it is refused. */
#define VL_METADATA_INTERNAL
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>

#include "export_private.h"

/* ======================================================================
 * The version and its payload, for every kind
 * ==================================================================== */

int vl_export_load_version(vl_repo *r, const char *id, int *num,
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

int vl_export_payload(vl_repo *r, const char *id, int num, const char *tmp,
                      vl_error *err)
{
    char *state = vl_path_join(tmp, ".state");
    char *from = state ? vl_path_join(state, "data") : NULL;
    char *to = vl_path_join(tmp, "data");
    char *bag_from = NULL, *bag_to = NULL;
    int rc;
    if (!state || !from || !to) {
        rc = vl_error_oom(err);
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
    /* The donor's bag (bag-info.txt, manifests...) as deposited, kept in
     * the object under metadata/bag/: the export carries it too. */
    if (!(bag_from = vl_path_join(state, VL_EXPORT_BAG_DIR)) ||
        !(bag_to = vl_path_join(tmp, VL_EXPORT_BAG_DIR))) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (vl_fs_is_dir(bag_from)) {
        if ((rc = vl_fs_mkdirs_parent(bag_to, err)) != VL_OK)
            goto done;
        if (rename(bag_from, bag_to) != 0) {
            rc = vl_error_sys(err, "cannot move %s to %s", bag_from, bag_to);
            goto done;
        }
    }
    rc = vl_fs_rmtree(state, err);
done:
    free(state);
    free(from);
    free(to);
    free(bag_from);
    free(bag_to);
    return rc;
}

/* ======================================================================
 * vl_export
 * ==================================================================== */

/* ======================================================================
 * The archive kind: --archive, DEST's extension, or both when they agree
 * ==================================================================== */

static const struct {
    const char *ext, *kind;
} archive_ext[] = {
    {".tar.gz", "tar.gz"}, {".tgz", "tar.gz"}, {".tar.xz", "tar.xz"},
    {".txz", "tar.xz"}, {".tar.bz2", "tar.bz2"}, {".tbz2", "tar.bz2"},
    {".zip", "zip"}, {".tar", "tar"},
};

static const char *const archive_kinds[] = {"zip", "tar", "tar.gz", "tar.xz",
                                            "tar.bz2"};

/* The kind given (a kind name or "tgz"), else the one DEST's extension
 * names, else NULL (a folder); a contradiction is VL_EINPUT. */
static int archive_kind(const char *given, const char *dest, const char **kind,
                        vl_error *err)
{
    const char *base = vl_path_basename(dest), *by_ext = NULL, *by_opt = NULL;
    size_t n = strlen(base);
    *kind = NULL;
    for (size_t i = 0; i < sizeof archive_ext / sizeof archive_ext[0]; i++) {
        size_t e = strlen(archive_ext[i].ext);
        if (n > e && !strcasecmp(base + n - e, archive_ext[i].ext)) {
            by_ext = archive_ext[i].kind;
            break;
        }
    }
    if (given) {
        by_opt = !strcasecmp(given, "tgz") ? "tar.gz" : NULL;
        for (size_t i = 0; !by_opt && i < sizeof archive_kinds /
                                              sizeof archive_kinds[0]; i++)
            if (!strcmp(given, archive_kinds[i]))
                by_opt = archive_kinds[i];
        if (!by_opt)
            return vl_error_set(err, VL_EINPUT, "archive \"%s\": give zip, "
                                "tar, tar.gz (or tgz), tar.xz or tar.bz2",
                                given);
        if (by_ext && strcmp(by_ext, by_opt))
            return vl_error_set(err, VL_EINPUT, "%s: the name says a %s "
                                "archive but --archive says %s; give a "
                                "name that ends as the archive kind, or "
                                "leave --archive out", dest, by_ext, by_opt);
    }
    *kind = by_opt ? by_opt : by_ext;
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

/* Deposited files and vellum's metadata files, apart. */
static int count_file(void *arg, const vl_catalog_file *f)
{
    vl_export_result *res = arg;
    if (vl_logical_is_metadata(f->logical)) {
        res->metadata_files++;
    } else {
        res->object_files++;
        res->object_bytes += f->size;
    }
    return 0;
}

int vl_export(vl_repo *r, const char *id, const char *dest,
              const vl_export_options *o, vl_export_result *res,
              vl_error *err)
{
    vl_inventory *inv = NULL;
    char *tmp = NULL, *part = NULL, *where = NULL, *parent = NULL;
    vl_outside *outside = NULL;
    export_event done_event;
    vl_export_options kind_opts;
    char note[512] = "";
    const char *format = o ? o->format : NULL, *archive = o ? o->archive : NULL;
    size_t files = 0;
    uint64_t bytes = 0;
    int rc, num = o ? o->version : 0, placed = 0, worked = 0;

    if (res)
        memset(res, 0, sizeof *res);
    if (!format || (strcmp(format, "mets") && strcmp(format, "bagit") &&
                    strcmp(format, "ocfl")))
        return vl_error_set(err, VL_EINPUT, "export format \"%s\": give mets, "
                            "bagit or ocfl", format ? format : "");
    if ((rc = archive_kind(archive, dest, &archive, err)) != VL_OK)
        return rc;
    if (o && archive != o->archive) {
        kind_opts = *o;
        kind_opts.archive = archive;
        o = &kind_opts;
    }
    if (!strcmp(format, "bagit") && !o->check_bag)
        return vl_error_set(err, VL_EINPUT, "a bag export needs a bag checker "
                            "(vl_export_options.check_bag)");
    if (!*dest || vl_fs_exists(dest))
        return vl_error_set(err, VL_EINPUT, "%s already exists; give a new "
                            "name", *dest ? dest : "\"\"");
    if (!(parent = vl_path_dirname(dest)))
        return vl_error_oom(err);
    if (!vl_fs_is_dir(parent)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: the folder %s does not exist",
                          dest, parent);
        goto done;
    }
    if ((rc = vl_export_load_version(r, id, &num, &inv, err)) != VL_OK)
        goto done;
    if (!(tmp = vl_asprintf("%s.vellum-export-%ld", dest, (long)getpid())) ||
        !(part = vl_asprintf("%s.part", tmp)) ||
        !(where = vl_path_absolute(dest))) {
        rc = vl_error_oom(err);
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
        if ((rc = vl_export_ocfl(r, inv, num, tmp, &files, &bytes, err)) != VL_OK)
            goto done;
        snprintf(note, sizeof note, "%zu files, %llu bytes copied; the copy "
                 "validates as OCFL with every digest checked", files,
                 (unsigned long long)bytes);
    } else if (!strcmp(format, "bagit")) {
        if ((rc = vl_export_bagit(r, id, inv, num, tmp, o, &files, &bytes,
                                  err)) != VL_OK)
            goto done;
        snprintf(note, sizeof note, "%zu payload files, %llu bytes; every "
                 "digest checked on the way out; the bag validates", files,
                 (unsigned long long)bytes);
    } else {
        if ((rc = vl_export_mets(r, id, inv, num, tmp, &files, &bytes, err)) != VL_OK)
            goto done;
        snprintf(note, sizeof note, "%zu files, %llu bytes; every digest "
                 "checked on the way out", files, (unsigned long long)bytes);
    }
    /* Promised before the move, so a kill between the move and the event
     * still gets the event recorded by recover. */
    export_event_init(&done_event, id, num, o, where, 1, note);
    if (archive) {
        if ((rc = vl_export_archive(tmp, part, dest, archive, err)) != VL_OK ||
            (rc = vl_outside_promise(outside, dest, &done_event.ev, err)) ||
            (rc = vl_fs_rename_new(part, dest, err)) != VL_OK)
            goto done;
        placed = 1;
        vl_fs_rmtree(tmp, NULL);
    } else {
        if ((rc = vl_fs_syncfs(tmp, err)) != VL_OK ||
            (rc = vl_outside_promise(outside, dest, &done_event.ev, err)) ||
            (rc = vl_fs_rename_new(tmp, dest, err)) != VL_OK)
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
        res->archive = archive;
        res->version = num;
        res->files = files;
        res->bytes = bytes;
        vl_catalog_files(vl_repo_catalog(r), id, num, count_file, res, NULL);
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
    vl_inventory_free(inv);
    free(tmp);
    free(part);
    free(where);
    free(parent);
    return rc;
}
