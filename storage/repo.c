/* A vellum repository: configuration, the OCFL storage root, the catalog and
 * the staging area, all in one folder on one filesystem; or with the
 * storage root in an S3 bucket (store = s3://... in vellum.conf), the rest
 * staying in the folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_private.h"
#include "catalog_private.h"
#include "layout_private.h"
#include "repo_internal.h"




static int write_file(const char *dir, const char *name, const char *text,
                      int readonly, vl_error *err)
{
    char *p = vl_path_join(dir, name);
    if (!p)
        return vl_error_oom(err);
    int rc = vl_fs_mkdirs_parent(p, err);
    if (rc == VL_OK)
        rc = readonly ? vl_fs_write_atomic_readonly(p, text, strlen(text), err)
                      : vl_fs_write_atomic(p, text, strlen(text), err);
    free(p);
    return rc;
}

/* SQLite makes a new database 0644 & ~umask, which is not group-writable
 * under shared = group; an empty file made here is an empty database, and
 * SQLite gives its -wal and -shm files the database's mode. */
static int create_catalog_file(const char *path, vl_error *err)
{
    if (vl_catalog_is_url(path))
        return VL_OK; /* a PostgreSQL catalog: nothing on disk */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return errno == EEXIST ? VL_OK : vl_error_sys(err, "cannot create %s", path);
    close(fd);
    return VL_OK;
}

/* store = URL and the store's settings; the endpoint and region the
 * environment gives now are kept, so later commands need only the
 * credentials. */
static int set_store_settings(vl_kv *kv, const vl_repo_options *opts,
                              vl_error *err)
{
    static const char *const keys[] = {"s3.endpoint", "s3.region", "s3.credentials",
                                       "s3.tls_verify", "s3.parallel"};
    const char *env_endpoint = getenv("AWS_ENDPOINT_URL_S3");
    const char *env_region = getenv("AWS_REGION");
    if (!env_endpoint || !*env_endpoint)
        env_endpoint = getenv("AWS_ENDPOINT_URL");
    if (!env_region || !*env_region)
        env_region = getenv("AWS_DEFAULT_REGION");
    int bad = vl_kv_set(kv, "store", opts->store_url) != 0;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *v = opts->store_settings ? vl_kv_get(opts->store_settings, keys[i])
                                             : NULL;
        if (!v && i == 0 && env_endpoint && *env_endpoint)
            v = env_endpoint;
        if (!v && i == 1 && env_region && *env_region)
            v = env_region;
        if (v)
            bad |= vl_kv_set(kv, keys[i], v) != 0;
    }
    return bad ? vl_error_oom(err) : VL_OK;
}

/* The storage root's files, built in tmp/store, go to the S3 prefix, which
 * must hold nothing yet; the root's declaration goes last, so a prefix
 * holds a storage root only once it is whole. */
static int store_has_any(void *arg, const char *name, int kind, vl_error *err)
{
    *(int *)arg = 1;
    return VL_OK;
}

/* Joining a storage root another vellum made: its root files must be
 * the ones this one would write (the same layout), byte for byte. */
static int join_store(vl_backend *b, const char *local_store, const char *url,
                      vl_error *err)
{
    char why[512] = "";
    vl_backend *ours = vl_backend_fs_new(local_store);
    if (!ours)
        return vl_error_oom(err);
    int same = vl_root_files_same(ours, b, why, sizeof why, err);
    vl_backend_free(ours);
    if (same < 0)
        return VL_ESYS;
    return same ? VL_OK : vl_error_set(err, VL_EINPUT, "%s cannot be joined: %s",
                                       url, why);
}

static int store_on_s3(const char *tmp, const vl_repo_options *opts,
                       vl_error *err)
{
    static const char *const files[] = {
        "ocfl_layout.json", "extensions/" VL_LAYOUT_EXT "/config.json",
        VL_ROOT_NAMASTE};
    char *conf_path = vl_path_join(tmp, VL_CONFIG_FILE);
    char *store = vl_path_join(tmp, VL_STORE_DIR);
    vl_kv *kv = NULL;
    vl_backend *b = NULL;
    vl_buf buf;
    int rc, kind = 0;
    vl_buf_init(&buf, 1 << 20);
    if (!conf_path || !store) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_kv_load(conf_path, &kv, err)) != VL_OK ||
        (rc = vl_backend_s3_open(opts->store_url, kv, conf_path, &b, err)) != VL_OK)
        goto done;
    if ((rc = vl_backend_stat(b, VL_ROOT_NAMASTE, &kind, NULL, err)) != VL_OK)
        goto done;
    if (opts->join) {
        rc = kind ? join_store(b, store, opts->store_url, err)
                  : vl_error_set(err, VL_EINPUT, "%s is not an OCFL storage root to "
                                 "join (no %s)", opts->store_url, VL_ROOT_NAMASTE);
        if (rc == VL_OK)
            rc = vl_fs_rmtree(store, err);
        goto done;
    }
    if (kind) {
        rc = vl_error_set(err, VL_EINPUT, "%s is already an OCFL storage root "
                          "(--join uses it as it is)", opts->store_url);
        goto done;
    }
    if ((rc = vl_backend_list(b, "", store_has_any, &kind, err)) != VL_OK)
        goto done;
    if (kind) {
        rc = vl_error_set(err, VL_EINPUT, "%s is not empty; a new storage root "
                          "needs an empty prefix", opts->store_url);
        goto done;
    }
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char *p = vl_path_join(store, files[i]);
        if (!p) {
            rc = vl_error_oom(err);
            goto done;
        }
        vl_buf_release(&buf);   /* each read starts a new buffer */
        rc = vl_fs_read_file(p, 1 << 20, &buf, err);
        free(p);
        if (rc != VL_OK ||
            (rc = vl_backend_write(b, files[i], buf.data, buf.len, err)) != VL_OK)
            goto done;
    }
    rc = vl_fs_rmtree(store, err);
done:
    vl_backend_free(b);
    vl_kv_free(kv);
    vl_buf_release(&buf);
    free(conf_path);
    free(store);
    return rc;
}

/* A PostgreSQL catalog is named in vellum.conf ("catalog = URL"); the URL
 * never holds a password (vl_catalog_url_check). */
static int set_catalog_url(vl_kv *kv, const char *catalog, vl_error *err)
{
    int rc = catalog ? vl_catalog_url_check(catalog, err) : VL_OK;
    if (rc == VL_OK && catalog && vl_kv_set(kv, "catalog", catalog) != 0)
        rc = vl_error_oom(err);
    return rc;
}

/* The catalog of an open repository: vellum.conf's URL, else *path (the
 * SQLite file in the repository) stays.  A password set in vellum.conf
 * (catalog.password; PGPASSWORD and ~/.pgpass are better) joins the URL
 * here, %-escaped; the catalog masks it in every message. */
static int catalog_location(vl_repo *r, char **path, vl_error *err)
{
    const char *url = vl_kv_get(r->config, "catalog");
    const char *pw = vl_kv_get(r->config, "catalog.password");
    char *copy;
    if (!url || !*url)
        return VL_OK;
    if (!vl_catalog_is_url(url))
        return vl_error_set(err, VL_EINPUT, "vellum.conf: catalog must be a "
                            "postgresql:// URL");
    copy = pw && *pw ? vl_catalog_url_with_password(url, pw) : vl_strdup(url);
    if (!copy)
        return vl_error_oom(err);
    free(*path);
    *path = copy;
    return VL_OK;
}

/* Lay out a new repository inside tmp (an empty folder). */
static int build_repo(const char *tmp, const vl_repo_options *opts,
                      const char *catalog, vl_error *err)
{
    int rc;
    char *store = vl_path_join(tmp, VL_STORE_DIR);
    char *layout_json = NULL;
    vl_kv *kv = vl_kv_new();
    vl_layout layout;
    vl_catalog *cat = NULL;
    char *cat_path = vl_path_join(tmp, VL_CATALOG_FILE);
    char *conf_path = vl_path_join(tmp, VL_CONFIG_FILE);
    char fixity[128] = "";

    vl_layout_default(&layout);
    layout_json = vl_layout_config_json(&layout);
    if (!store || !kv || !layout_json || !cat_path || !conf_path) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* The storage root's own files never change: read-only like objects. */
    if ((rc = write_file(store, VL_ROOT_NAMASTE, "ocfl_1.1\n", 1, err)) ||
        (rc = write_file(store, "ocfl_layout.json",
                         "{\n  \"extension\": \"" VL_LAYOUT_EXT "\",\n"
                         "  \"description\": \"OCFL object identifiers are hashed "
                         "with sha256 and the digest split into three 3-character "
                         "tuples that name nested folders; the object root folder is "
                         "the full digest.\"\n}\n", 1, err)) ||
        (rc = write_file(store, "extensions/" VL_LAYOUT_EXT "/config.json",
                         layout_json, 1, err)) ||
        /* The event log exists from the start, with the repository's
         * mode rather than that of whoever deposits first. */
        (rc = write_file(tmp, VL_EVENTS_DIR "/events.jsonl", "", 0, err)))
        goto done;
    char *dirs[] = {VL_STAGING_DIR, VL_EVENTS_DIR};
    for (size_t i = 0; i < 2; i++) {
        char *d = vl_path_join(tmp, dirs[i]);
        rc = d ? vl_fs_mkdirs(d, err) : vl_error_oom(err);
        free(d);
        if (rc)
            goto done;
    }
    for (int a = 0; a < VL_DIGEST_COUNT; a++) {
        if (!(opts->fixity_mask & VL_DIGEST_BIT(a)))
            continue;
        if (*fixity)
            strcat(fixity, ",");
        strcat(fixity, vl_digest_name((vl_digest_alg)a));
    }
    vl_kv_set(kv, "digest", vl_digest_name(opts->digest));
    vl_kv_set(kv, "fixity", *fixity ? fixity : "none");
    vl_kv_set(kv, "shared", vl_shared_name(opts->shared));
    if (opts->store_url && (rc = set_store_settings(kv, opts, err)) != VL_OK)
        goto done;
    if ((rc = set_catalog_url(kv, catalog, err)) ||
        (rc = vl_kv_save(kv, conf_path, err)))
        goto done;
    if ((rc = create_catalog_file(catalog ? catalog : cat_path, err)) ||
        (rc = vl_catalog_open(catalog ? catalog : cat_path, &cat, err)) ||
        /* a worker joining a store shares that store's catalog */
        (catalog && !opts->join && (rc = vl_catalog_check_unused(cat, err))))
        goto done;
done:
    vl_catalog_close(cat);
    vl_kv_free(kv);
    free(store);
    free(layout_json);
    free(cat_path);
    free(conf_path);
    return rc;
}

/* 1 when dir holds a repository's configuration and storage root (on S3
 * the configuration naming it); -1 when memory ran short. */
static int repo_exists(const char *dir)
{
    char *conf = vl_path_join(dir, VL_CONFIG_FILE);
    char *store = vl_path_join(dir, VL_STORE_DIR);
    char *namaste = store ? vl_path_join(store, VL_ROOT_NAMASTE) : NULL;
    vl_kv *kv = NULL;
    vl_error e = {0};
    int yes = conf && namaste && vl_fs_exists(conf) && vl_fs_exists(namaste);
    if (!conf || !namaste) {
        yes = -1;   /* out of memory: not an answer */
    } else if (!yes && vl_fs_exists(conf)) {
        if (vl_kv_load(conf, &kv, &e) == VL_OK)
            yes = vl_backend_is_s3_url(vl_kv_get(kv, "store"));
        else if (e.sys_errno == ENOMEM)
            yes = -1;
    }
    vl_kv_free(kv);
    free(conf);
    free(store);
    free(namaste);
    return yes;
}

int vl_repo_init(const char *dir, const vl_repo_options *opts, vl_error *err)
{
    return vl_repo_init_catalog(dir, opts, NULL, err);
}

int vl_repo_init_catalog(const char *dir, const vl_repo_options *opts,
                         const char *catalog, vl_error *err)
{
    int rc = VL_OK, entered = 0;
    char *tmp = NULL, *parent = NULL;
    mode_t saved_umask = 0;
    struct stat st;
    if (opts->digest != VL_SHA512 && opts->digest != VL_SHA256)
        return vl_error_set(err, VL_EINPUT, "the inventory digest must be sha512 or sha256");
    if (opts->shared != VL_SHARED_PRIVATE && opts->shared != VL_SHARED_GROUP &&
        opts->shared != VL_SHARED_WORLD)
        return vl_error_set(err, VL_EINPUT, "shared must be private, group or world");
    int empty = vl_fs_dir_empty(dir);
    int exists = empty == 0 ? repo_exists(dir) : 0;
    if (exists < 0)
        return vl_error_oom(err);
    if (exists)
        return vl_error_set(err, VL_EINPUT, "%s is already a vellum repository",
                            dir);
    if (empty == 0)
        return vl_error_set(err, VL_EINPUT, "%s is not empty; a repository needs "
                            "an empty or new folder", dir);
    if (empty < 0 && vl_fs_exists(dir))
        return vl_error_set(err, VL_EINPUT, "%s exists and is not a folder", dir);
    /* Build beside the target and rename, so a failed init leaves nothing. */
    tmp = vl_asprintf("%s.vellum-init-%ld", dir, (long)getpid());
    parent = vl_path_dirname(dir);
    if (!tmp || !parent) {
        rc = vl_error_oom(err);
        goto done;
    }
    if ((rc = vl_fs_mkdirs(parent, err)) != VL_OK)
        goto done;
    /* The parent is the user's; from here on, the repository's modes. */
    saved_umask = vl_shared_enter(opts->shared);
    entered = 1;
    vl_fs_rmtree(tmp, NULL);
    if (mkdir(tmp, 0777) != 0) {
        rc = vl_error_sys(err, "cannot create %s", tmp);
        goto done;
    }
    /* setgid: every folder made inside inherits it, and with it the
     * repository's group. */
    if (opts->shared == VL_SHARED_GROUP &&
        (stat(tmp, &st) != 0 || chmod(tmp, (st.st_mode & 07777) | S_ISGID) != 0)) {
        rc = vl_error_sys(err, "cannot set the group mode of %s", tmp);
        goto done;
    }
    if ((rc = build_repo(tmp, opts, catalog, err)) != VL_OK)
        goto done;
    if (opts->store_url && (rc = store_on_s3(tmp, opts, err)) != VL_OK)
        goto done;
    if ((rc = vl_fs_syncfs(tmp, err)) != VL_OK)
        goto done;
    /* rename() replaces an empty directory, so an existing empty target works. */
    if (rename(tmp, dir) != 0) {
        rc = vl_error_sys(err, "cannot create repository %s", dir);
        goto done;
    }
    rc = vl_fs_fsync_parent(dir, err);
done:
    if (rc != VL_OK && tmp)
        vl_fs_rmtree(tmp, NULL);
    if (entered)
        vl_shared_leave(saved_umask);
    free(tmp);
    free(parent);
    return rc;
}

/* A writer must not build on what a crash left half done.  Abandoned export
 * or get temporaries lie outside the repository and leave it consistent, so
 * they do not stop a writer (export clears its own destination's first, and
 * the CLI warns of the rest). */
static int refuse_pending(vl_repo *r, vl_error *err)
{
    vl_pending p;
    char what[512];
    int rc = vl_repo_pending(r, &p, err);
    if (rc != VL_OK || !p.txns)
        return rc;
    vl_pending_describe(&p, what, sizeof what);
    return vl_error_set(err, VL_ESYS, "refusing to change %s: %s; run 'vellum "
                        "recover' first", r->dir, what);
}

int vl_repo_open(const char *dir, vl_repo **out, vl_error *err)
{
    return vl_repo_open_mode(dir, VL_OPEN_WRITE, out, err);
}

int vl_repo_open_mode(const char *dir, vl_open_mode mode, vl_repo **out,
                      vl_error *err)
{
    int rc = VL_OK;
    vl_buf buf;
    vl_repo *r = calloc(1, sizeof *r);
    char *conf = vl_path_join(dir, VL_CONFIG_FILE);
    char *cat_path = vl_path_join(dir, VL_CATALOG_FILE);
    char *namaste = NULL;
    vl_buf_init(&buf, 1 << 20);
    if (!r || !conf || !cat_path) {
        rc = vl_error_oom(err);
        goto done;
    }
    r->dir = vl_strdup(dir);
    r->store_dir = vl_path_join(dir, VL_STORE_DIR);
    r->staging_dir = vl_path_join(dir, VL_STAGING_DIR);
    if (r->store_dir)
        namaste = vl_path_join(r->store_dir, VL_ROOT_NAMASTE);
    if (!r->dir || !r->store_dir || !r->staging_dir || !namaste) {
        rc = vl_error_oom(err);
        goto done;
    }
    int exists = repo_exists(dir);
    if (exists < 0) {
        rc = vl_error_oom(err);
        goto done;
    }
    if (!exists) {
        rc = vl_error_set(err, VL_EINPUT, "%s is not a vellum repository "
                          "(run 'vellum init', or name one with --repo DIR or "
                          "the VELLUM_REPO environment variable)", dir);
        goto done;
    }
    if ((rc = vl_kv_load(conf, &r->config, err)) != VL_OK ||
        (rc = catalog_location(r, &cat_path, err)) != VL_OK)
        goto done;
    const char *d = vl_kv_get(r->config, "digest");
    r->digest = VL_SHA512;
    if (d && (vl_digest_from_name(d, &r->digest) != 0 ||
              (r->digest != VL_SHA512 && r->digest != VL_SHA256))) {
        rc = vl_error_set(err, VL_EINPUT, "%s: digest \"%s\" must be sha512 or sha256",
                          conf, d);
        goto done;
    }
    const char *f = vl_kv_get(r->config, "fixity");
    if ((rc = vl_digest_mask_parse(f ? f : "", &r->fixity_mask, err)) != VL_OK)
        goto done;
    r->fixity_mask &= ~VL_DIGEST_BIT(r->digest);
    /* Without the key (a repository from before it existed): private. */
    const char *sh = vl_kv_get(r->config, "shared");
    if (sh && vl_shared_parse(sh, &r->shared) != 0) {
        rc = vl_error_set(err, VL_EINPUT, "%s: shared \"%s\" must be private, "
                          "group or world", conf, sh);
        goto done;
    }
    /* Everything this process makes from here on gets the repository's
     * modes (files outside it too); vl_repo_close gives the umask back. */
    r->saved_umask = vl_shared_enter(r->shared);
    r->umask_entered = 1;
    const char *store_url = vl_kv_get(r->config, "store");
    if (store_url && !vl_backend_is_s3_url(store_url)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: store \"%s\" must be an "
                          "s3://BUCKET/PREFIX URL", conf, store_url);
        goto done;
    }
    if (store_url) {
        free(r->store_dir);
        if (!(r->store_dir = vl_strdup(store_url))) {
            rc = vl_error_oom(err);
            goto done;
        }
        if ((rc = vl_backend_s3_open(store_url, r->config, conf, &r->backend,
                                     err)) != VL_OK)
            goto done;
    } else if (!(r->backend = vl_backend_fs_new(r->store_dir))) {
        rc = vl_error_oom(err);
        goto done;
    }
    rc = vl_backend_read_all(r->backend, "extensions/" VL_LAYOUT_EXT "/config.json",
                             1 << 16, &buf, err);
    if (rc == VL_OK)
        rc = vl_layout_parse(buf.data, buf.len, &r->layout, err);
    if (rc != VL_OK) {
        rc = vl_error_set(err, rc, "%s: storage layout: %s", r->store_dir, err->msg);
        goto done;
    }
    if (mode == VL_OPEN_READ) {
        /* no staging folder made, no schema written */
        rc = vl_catalog_open_readonly(cat_path, &r->catalog, err);
    } else if (mode != VL_OPEN_WRITE || (rc = refuse_pending(r, err)) == VL_OK) {
        if ((rc = vl_fs_mkdirs(r->staging_dir, err)) == VL_OK &&
            (rc = create_catalog_file(cat_path, err)) == VL_OK)
            rc = vl_catalog_open(cat_path, &r->catalog, err);
        if (rc == VL_ESYS && err && err->sys_errno == ENOSPC)
            rc = vl_space_error(r, "writing", 0, err);
    }
    if (rc != VL_OK)
        goto done;
    *out = r;
    r = NULL;
done:
    vl_repo_close(r);
    vl_buf_release(&buf);
    free(conf);
    free(cat_path);
    free(namaste);
    return rc;
}

void vl_repo_close(vl_repo *r)
{
    if (!r)
        return;
    vl_catalog_close(r->catalog);
    if (r->umask_entered)
        vl_shared_leave(r->saved_umask);
    vl_backend_free(r->backend);
    vl_copies_free(r);
    vl_kv_free(r->config);
    free(r->dir);
    free(r->store_dir);
    free(r->staging_dir);
    free(r);
}

const char *vl_repo_dir(const vl_repo *r) { return r->dir; }
vl_backend *vl_repo_backend(vl_repo *r) { return r->backend; }
const char *vl_repo_store(const vl_repo *r) { return r->store_dir; }

int vl_repo_tls_unverified(const vl_repo *r)
{
    const char *v = vl_kv_get(r->config, "s3.tls_verify");
    return vl_backend_is_s3_url(vl_kv_get(r->config, "store")) && v &&
           (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"));
}
vl_catalog *vl_repo_catalog(vl_repo *r) { return r->catalog; }
vl_digest_alg vl_repo_digest(const vl_repo *r) { return r->digest; }
vl_shared vl_repo_shared(const vl_repo *r) { return r->shared; }

const char *vl_repo_config_get(const vl_repo *r, const char *key)
{
    return vl_kv_get(r->config, key);
}

int vl_repo_config_set(vl_repo *r, const char *key, const char *value,
                       vl_error *err)
{
    char *conf = vl_path_join(r->dir, VL_CONFIG_FILE);
    int rc;
    if (!conf || vl_kv_set(r->config, key, value) != 0)
        rc = vl_error_oom(err);
    else
        rc = vl_kv_save(r->config, conf, err);
    free(conf);
    return rc;
}

char *vl_repo_object_path(const vl_repo *r, const char *id)
{
    return vl_layout_object_path(&r->layout, id);
}

/* The digest in a sidecar ("DIGEST<ws>inventory.json"). */
static int sidecar_digest(vl_backend *b, const char *rel, char *out,
                          vl_error *err)
{
    vl_buf buf;
    vl_buf_init(&buf, 4096);
    int rc = vl_backend_read_all(b, rel, 4096, &buf, err);
    if (rc == VL_OK) {
        size_t n = strcspn(buf.data, " \t");
        if (n == 0 || n >= VL_DIGEST_HEX_MAX)
            rc = vl_error_set(err, VL_FINDING, "%s is not a valid sidecar", rel);
        else {
            memcpy(out, buf.data, n);
            out[n] = '\0';
        }
    }
    vl_buf_release(&buf);
    return rc;
}

int vl_repo_read_inventory_at(vl_repo *r, const char *object_rel,
                              vl_inventory **out, vl_error *err)
{
    int rc = VL_OK;
    vl_inventory *inv = NULL;
    char *inv_rel = vl_path_join(object_rel, VL_INVENTORY_FILE);
    char *side_rel = NULL, *vside_rel = NULL;
    char want[VL_DIGEST_HEX_MAX], got[VL_DIGEST_HEX_MAX], vname[16];
    int kind = 0;
    if (!inv_rel)
        return vl_error_oom(err);
    if ((rc = vl_backend_stat(r->backend, inv_rel, &kind, NULL, err)) != VL_OK)
        goto done;
    if (kind != VL_WALK_FILE) {
        rc = vl_error_set(err, VL_EINPUT, "no object at %s", object_rel);
        goto done;
    }
    /* Streamed: read once, parsed and digested on the way, never whole in
     * memory. */
    if ((rc = vl_inventory_load(r->backend, inv_rel, &inv, got, err)) != VL_OK) {
        if (rc != VL_EINPUT)
            goto done;
        /* a damaged inventory is a finding; running short of memory not */
        rc = vl_error_set(err, VL_FINDING, "%s/inventory.json: %s", object_rel,
                          err->msg);
        goto done;
    }
    vl_digest_alg alg = vl_inventory_digest_alg(inv);
    side_rel = vl_asprintf("%s/inventory.json.%s", object_rel, vl_digest_name(alg));
    vl_inventory_version_name(inv, vl_inventory_head(inv), vname);
    vside_rel = vl_asprintf("%s/%s/inventory.json.%s", object_rel, vname,
                            vl_digest_name(alg));
    if (!side_rel || !vside_rel) {
        rc = vl_error_oom(err);
        goto done;
    }
    /* A commit writes the root inventory and then its sidecar; if it stopped
     * between the two, the head version's sidecar vouches for the root. */
    if ((sidecar_digest(r->backend, side_rel, want, NULL) != VL_OK ||
         strcasecmp(want, got) != 0) &&
        (sidecar_digest(r->backend, vside_rel, want, NULL) != VL_OK ||
         strcasecmp(want, got) != 0)) {
        rc = vl_error_set(err, VL_FINDING, "%s/inventory.json does not match its "
                          "sidecar digest", object_rel);
        goto done;
    }
    *out = inv;
    inv = NULL;
done:
    vl_inventory_free(inv);
    free(inv_rel);
    free(side_rel);
    free(vside_rel);
    return rc;
}

int vl_repo_object_stored(vl_repo *r, const char *id, int *present,
                          vl_error *err)
{
    char *rel = vl_repo_object_path(r, id);
    int kind = 0, rc;
    *present = 0;
    if (!rel)
        return vl_error_oom(err);
    rc = vl_backend_stat(r->backend, rel, &kind, NULL, err);
    free(rel);
    if (rc == VL_OK)
        *present = kind == VL_WALK_DIR;
    return rc;
}

int vl_repo_load_inventory(vl_repo *r, const char *id, vl_inventory **out,
                           vl_error *err)
{
    char *rel = vl_repo_object_path(r, id);
    vl_inventory *inv = NULL;
    if (!rel)
        return vl_error_oom(err);
    int rc = vl_repo_read_inventory_at(r, rel, &inv, err);
    if (rc == VL_EINPUT)
        rc = vl_error_set(err, VL_EINPUT, "no object with id \"%s\"", id);
    else if (rc == VL_OK && strcmp(vl_inventory_id(inv), id) != 0)
        rc = vl_error_set(err, VL_FINDING, "%s holds object \"%s\", not \"%s\"",
                          rel, vl_inventory_id(inv), id);
    if (rc == VL_OK) {
        *out = inv;
        inv = NULL;
    }
    vl_inventory_free(inv);
    free(rel);
    return rc;
}
