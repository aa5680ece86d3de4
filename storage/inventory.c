/* OCFL inventory.json held as a jansson document, with the lookups and
 * builders vellum needs.  Conformance checking lives in the validator. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory_private.h"
#include "vl_json.h"
#include "vl_storage.h"

struct vl_inventory {
    json_t *root;
    vl_digest_alg alg;
    /* Lazily built reverse map logical path -> digest for one version. */
    json_t *rev_state;
    int rev_num;
    /* Lazily built reverse map content path -> digest, per fixity algorithm. */
    json_t *rev_fixity[VL_DIGEST_COUNT];
};

static void drop_caches(vl_inventory *inv)
{
    json_decref(inv->rev_state);
    inv->rev_state = NULL;
    inv->rev_num = 0;
    for (int i = 0; i < VL_DIGEST_COUNT; i++) {
        json_decref(inv->rev_fixity[i]);
        inv->rev_fixity[i] = NULL;
    }
}

vl_inventory *vl_inventory_new(const char *id, vl_digest_alg alg)
{
    vl_inventory *inv = calloc(1, sizeof *inv);
    if (!inv)
        return NULL;
    inv->alg = alg;
    inv->root = json_pack("{s:s, s:s, s:s, s:s, s:{}, s:{}}", "id", id,
                          "type", VL_OCFL_INVENTORY_TYPE_1_1,
                          "digestAlgorithm", vl_digest_name(alg), "head", "v0",
                          "manifest", "versions");
    if (!inv->root) {
        free(inv);
        return NULL;
    }
    return inv;
}

void vl_inventory_free(vl_inventory *inv)
{
    if (!inv)
        return;
    drop_caches(inv);
    json_decref(inv->root);
    free(inv);
}

vl_inventory *vl_inventory_copy(const vl_inventory *inv)
{
    vl_inventory *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->alg = inv->alg;
    c->root = json_deep_copy(inv->root);
    if (!c->root) {
        free(c);
        return NULL;
    }
    return c;
}

static int parse_version_name(const char *s)
{
    if (!s || s[0] != 'v' || !s[1])
        return -1;
    long v = 0;
    for (const char *p = s + 1; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return (int)v;
}

static int is_string_array(json_t *a)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        return 0;
    json_array_foreach(a, i, v) if (!json_is_string(v)) return 0;
    return 1;
}

static int is_path_map(json_t *o)
{
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return 0;
    json_object_foreach(o, k, v) if (!is_string_array(v)) return 0;
    return 1;
}

int vl_inventory_parse(const char *text, size_t len, vl_inventory **out,
                       vl_error *err)
{
    json_error_t je;
    vl_inventory *inv = NULL;
    int rc = VL_OK;
    int oom = 0;
    json_t *root = vl_json_loadb(text, len, JSON_REJECT_DUPLICATES, &je, &oom);
    if (!root && oom)
        return vl_error_set(err, VL_ESYS, "inventory: out of memory");
    if (!root)
        return vl_error_set(err, VL_EINPUT, "inventory is not valid JSON: %s (line %d)",
                            je.text, je.line);
    json_t *id = json_object_get(root, "id");
    json_t *alg = json_object_get(root, "digestAlgorithm");
    json_t *head = json_object_get(root, "head");
    json_t *versions = json_object_get(root, "versions");
    json_t *cdir = json_object_get(root, "contentDirectory");
    vl_digest_alg a;
    if (!json_is_string(id) || !json_is_string(alg) || !json_is_string(head) ||
        !is_path_map(json_object_get(root, "manifest")) ||
        !json_is_object(versions) || (cdir && !json_is_string(cdir))) {
        rc = vl_error_set(err, VL_EINPUT, "inventory lacks id, digestAlgorithm, "
                          "head, manifest or versions of the right type");
        goto done;
    }
    if (vl_digest_from_name(json_string_value(alg), &a) != 0 ||
        (a != VL_SHA512 && a != VL_SHA256)) {
        rc = vl_error_set(err, VL_EINPUT, "inventory digestAlgorithm \"%s\" "
                          "is not sha512 or sha256", json_string_value(alg));
        goto done;
    }
    int h = parse_version_name(json_string_value(head));
    if (h < 1) {
        rc = vl_error_set(err, VL_EINPUT, "inventory head \"%s\" is not a version",
                          json_string_value(head));
        goto done;
    }
    for (int n = 1; n <= h; n++) {
        char name[16];
        int width = (int)strlen(json_string_value(head)) - 1;
        if (json_string_value(head)[1] == '0')
            snprintf(name, sizeof name, "v%0*d", width, n);
        else
            snprintf(name, sizeof name, "v%d", n);
        json_t *v = json_object_get(versions, name);
        if (!json_is_object(v) || !is_path_map(json_object_get(v, "state"))) {
            rc = vl_error_set(err, VL_EINPUT, "inventory version %s is missing "
                              "or has no state", name);
            goto done;
        }
    }
    inv = calloc(1, sizeof *inv);
    if (!inv) {
        rc = vl_error_oom(err);
        goto done;
    }
    inv->root = root;
    inv->alg = a;
    root = NULL;
    *out = inv;
done:
    json_decref(root);
    return rc;
}

/* Sort every path array in a {key: [paths]} map so output is deterministic
 * whatever order parallel workers added files in. */
static int str_cmp(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a),
                  json_string_value(*(json_t *const *)b));
}

/* -1 when out of memory (nothing is lost: the items are put back in place,
 * which allocates nothing). */
static int sort_path_map(json_t *map)
{
    const char *k;
    json_t *arr;
    json_object_foreach(map, k, arr)
    {
        size_t n = json_array_size(arr);
        if (n < 2)
            continue;
        json_t **items = malloc(n * sizeof *items);
        if (!items)
            return -1;
        for (size_t i = 0; i < n; i++)
            items[i] = json_incref(json_array_get(arr, i));
        qsort(items, n, sizeof *items, str_cmp);
        for (size_t i = 0; i < n; i++)
            json_array_set_new(arr, i, items[i]);
        free(items);
    }
    return 0;
}

static int sort_paths(const vl_inventory *inv)
{
    const char *k;
    json_t *v;
    if (sort_path_map(json_object_get(inv->root, "manifest")) != 0)
        return -1;
    json_object_foreach(json_object_get(inv->root, "versions"), k, v)
        if (sort_path_map(json_object_get(v, "state")) != 0)
            return -1;
    json_object_foreach(json_object_get(inv->root, "fixity"), k, v)
        if (sort_path_map(v) != 0)
            return -1;
    return 0;
}

int vl_inventory_dump(const vl_inventory *inv, vl_inventory_sink sink,
                      void *arg)
{
    if (sort_paths(inv) != 0)
        return -1;
    if (vl_json_dump_callback(inv->root, sink, arg,
                           JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
        return -1;
    return sink("\n", 1, arg);
}

char *vl_inventory_serialize(const vl_inventory *inv, size_t *len)
{
    if (sort_paths(inv) != 0)
        return NULL;
    char *s = vl_json_dumps(inv->root, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *out = realloc(s, n + 2);
    if (!out) {
        free(s);
        return NULL;
    }
    out[n] = '\n';
    out[n + 1] = '\0';
    if (len)
        *len = n + 1;
    return out;
}

const char *vl_inventory_id(const vl_inventory *inv)
{
    return json_string_value(json_object_get(inv->root, "id"));
}

vl_digest_alg vl_inventory_digest_alg(const vl_inventory *inv) { return inv->alg; }

const char *vl_inventory_content_dir(const vl_inventory *inv)
{
    const char *c = json_string_value(json_object_get(inv->root, "contentDirectory"));
    return c ? c : "content";
}

int vl_inventory_head(const vl_inventory *inv)
{
    int h = parse_version_name(json_string_value(json_object_get(inv->root, "head")));
    return h < 0 ? 0 : h;
}

void vl_inventory_version_name(const vl_inventory *inv, int num, char out[16])
{
    const char *head = json_string_value(json_object_get(inv->root, "head"));
    if (head && head[1] == '0' && head[2]) {
        int width = (int)strlen(head) - 1;
        snprintf(out, 16, "v%0*d", width, num);
    } else {
        snprintf(out, 16, "v%d", num);
    }
}

static json_t *version_obj(const vl_inventory *inv, int num)
{
    char name[16];
    vl_inventory_version_name(inv, num, name);
    return json_object_get(json_object_get(inv->root, "versions"), name);
}

int vl_logical_is_metadata(const char *logical)
{
    return !strcmp(logical, "METS.xml") || !strncmp(logical, "metadata/", 9);
}

int vl_inventory_version_info(const vl_inventory *inv, int num,
                              vl_version_info *out)
{
    json_t *v = version_obj(inv, num);
    if (!v)
        return -1;
    json_t *user = json_object_get(v, "user");
    out->created = json_string_value(json_object_get(v, "created"));
    out->message = json_string_value(json_object_get(v, "message"));
    out->user_name = json_string_value(json_object_get(user, "name"));
    out->user_address = json_string_value(json_object_get(user, "address"));
    out->file_count = 0;
    out->metadata_count = 0;
    const char *k;
    json_t *paths, *p;
    size_t i;
    json_object_foreach(json_object_get(v, "state"), k, paths)
    {
        out->file_count += json_array_size(paths);
        json_array_foreach(paths, i, p)
        {
            const char *path = json_string_value(p);
            if (!path || vl_logical_is_metadata(path))
                out->metadata_count++;
        }
    }
    return 0;
}

static int map_foreach(json_t *map, vl_state_fn fn, void *arg, int path_first)
{
    const char *digest;
    json_t *paths, *p;
    size_t i;
    json_object_foreach(map, digest, paths)
    {
        json_array_foreach(paths, i, p)
        {
            int rc = path_first ? fn(arg, json_string_value(p), digest)
                                : fn(arg, digest, json_string_value(p));
            if (rc)
                return rc;
        }
    }
    return 0;
}

int vl_inventory_state_foreach(const vl_inventory *inv, int num,
                               vl_state_fn fn, void *arg)
{
    json_t *v = version_obj(inv, num);
    if (!v)
        return -1;
    return map_foreach(json_object_get(v, "state"), fn, arg, 1);
}

int vl_inventory_manifest_foreach(const vl_inventory *inv, vl_state_fn fn,
                                  void *arg)
{
    return map_foreach(json_object_get(inv->root, "manifest"), fn, arg, 0);
}

const char *vl_inventory_content_path(const vl_inventory *inv,
                                      const char *digest)
{
    json_t *paths = json_object_get(json_object_get(inv->root, "manifest"), digest);
    return json_string_value(json_array_get(paths, 0));
}

/* Build {path: digest} from a {digest: [paths]} map; NULL when out of
 * memory (never a partial map). */
static json_t *reverse_map(json_t *map)
{
    json_t *rev = json_object();
    const char *digest;
    json_t *paths, *p;
    size_t i;
    if (!rev)
        return NULL;
    json_object_foreach(map, digest, paths)
        json_array_foreach(paths, i, p)
            if (json_object_set_new(rev, json_string_value(p),
                                    json_string(digest)) != 0) {
                json_decref(rev);
                return NULL;
            }
    return rev;
}

/* The digest a {digest: [paths]} map gives path, by a scan: for when the
 * reverse map could not be built. */
static const char *scan_map(json_t *map, const char *path)
{
    const char *digest;
    json_t *paths, *p;
    size_t i;
    json_object_foreach(map, digest, paths)
        json_array_foreach(paths, i, p)
            if (json_string_value(p) && !strcmp(json_string_value(p), path))
                return digest;
    return NULL;
}

const char *vl_inventory_lookup(const vl_inventory *inv, int num,
                                const char *logical)
{
    vl_inventory *m = (vl_inventory *)inv; /* cache only */
    if (!m->rev_state || m->rev_num != num) {
        json_t *v = version_obj(inv, num);
        if (!v)
            return NULL;
        json_decref(m->rev_state);
        m->rev_state = reverse_map(json_object_get(v, "state"));
        m->rev_num = num;
        if (!m->rev_state)
            return scan_map(json_object_get(v, "state"), logical);
    }
    return json_string_value(json_object_get(m->rev_state, logical));
}

const char *vl_inventory_fixity(const vl_inventory *inv, vl_digest_alg alg,
                                const char *content_path)
{
    vl_inventory *m = (vl_inventory *)inv; /* cache only */
    if (!m->rev_fixity[alg]) {
        json_t *block = json_object_get(json_object_get(inv->root, "fixity"),
                                        vl_digest_name(alg));
        if (!block)
            return NULL;
        m->rev_fixity[alg] = reverse_map(block);
        if (!m->rev_fixity[alg])
            return scan_map(block, content_path);
    }
    return json_string_value(json_object_get(m->rev_fixity[alg], content_path));
}

int vl_inventory_fixity_foreach(const vl_inventory *inv, vl_fixity_fn fn,
                                void *arg)
{
    const char *alg, *digest;
    json_t *block, *paths, *p;
    size_t i;
    json_object_foreach(json_object_get(inv->root, "fixity"), alg, block)
        json_object_foreach(block, digest, paths)
            json_array_foreach(paths, i, p)
            {
                int rc = fn(arg, alg, digest, json_string_value(p));
                if (rc)
                    return rc;
            }
    return 0;
}

static int map_add(json_t *map, const char *key, const char *path)
{
    json_t *arr = json_object_get(map, key);
    if (!arr) {
        arr = json_array();
        if (!arr || json_object_set_new(map, key, arr) != 0)
            return -1;
    }
    return json_array_append_new(arr, json_string(path));
}

int vl_inventory_manifest_add(vl_inventory *inv, const char *digest,
                              const char *content_path)
{
    return map_add(json_object_get(inv->root, "manifest"), digest, content_path);
}

int vl_inventory_fixity_add(vl_inventory *inv, vl_digest_alg alg,
                            const char *digest, const char *content_path)
{
    json_t *fixity = json_object_get(inv->root, "fixity");
    if (!fixity) {
        fixity = json_object();
        if (!fixity || json_object_set_new(inv->root, "fixity", fixity) != 0)
            return -1;
    }
    json_t *block = json_object_get(fixity, vl_digest_name(alg));
    if (!block) {
        block = json_object();
        if (!block || json_object_set_new(fixity, vl_digest_name(alg), block) != 0)
            return -1;
    }
    /* One entry per content path per algorithm; the reverse map keeps the
     * check O(1) when a deposit adds fixity for 100,000 files. */
    if (!inv->rev_fixity[alg] && !(inv->rev_fixity[alg] = reverse_map(block)))
        return -1;
    if (json_object_get(inv->rev_fixity[alg], content_path))
        return 0;
    if (json_object_set_new(inv->rev_fixity[alg], content_path,
                            json_string(digest)) != 0)
        return -1;
    return map_add(block, digest, content_path);
}

int vl_inventory_version_add(vl_inventory *inv, const char *created,
                             const char *message, const char *user_name,
                             const char *user_address)
{
    int num = vl_inventory_head(inv) + 1;
    char name[16];
    json_t *v = json_pack("{s:s, s:{}}", "created", created, "state");
    if (!v)
        return -1;
    if (message && json_object_set_new(v, "message", json_string(message)) != 0)
        goto fail;
    if (user_name) {
        json_t *u = json_pack("{s:s}", "name", user_name);
        if (!u || (user_address &&
                   json_object_set_new(u, "address", json_string(user_address)) != 0)) {
            json_decref(u);
            goto fail;
        }
        if (json_object_set_new(v, "user", u) != 0)
            goto fail;
    }
    /* A new version follows the naming convention of the existing ones. */
    vl_inventory_version_name(inv, num, name);
    json_t *head = json_string(name);
    if (!head)
        goto fail;
    json_t *versions = json_object_get(inv->root, "versions");
    if (json_object_set_new(versions, name, v) != 0) {
        json_decref(head);
        return -1;
    }
    if (json_object_set_new(inv->root, "head", head) != 0) {
        json_object_del(versions, name);
        return -1;
    }
    drop_caches(inv);
    return num;
fail:
    json_decref(v);
    return -1;
}

int vl_inventory_state_add(vl_inventory *inv, int num, const char *digest,
                           const char *logical)
{
    json_t *v = version_obj(inv, num);
    if (!v)
        return -1;
    if (inv->rev_state && inv->rev_num == num) {
        json_decref(inv->rev_state);
        inv->rev_state = NULL;
    }
    return map_add(json_object_get(v, "state"), digest, logical);
}

int vl_inventory_states_equal(const vl_inventory *inv, int a, int b)
{
    json_t *va = version_obj(inv, a), *vb = version_obj(inv, b);
    if (!va || !vb)
        return 0;
    json_t *ra = reverse_map(json_object_get(va, "state"));
    json_t *rb = reverse_map(json_object_get(vb, "state"));
    int eq = ra && rb && json_equal(ra, rb);
    json_decref(ra);
    json_decref(rb);
    return eq;
}

/* Remove paths under version directories after num from a {key:[paths]} map. */
static void prune_map(const vl_inventory *inv, json_t *map, int num)
{
    const char *k;
    json_t *paths;
    void *tmp;
    json_object_foreach_safe(map, tmp, k, paths)
    {
        for (size_t i = json_array_size(paths); i-- > 0;) {
            const char *p = json_string_value(json_array_get(paths, i));
            const char *slash = p ? strchr(p, '/') : NULL;
            char vname[16];
            if (!slash || (size_t)(slash - p) >= sizeof vname)
                continue;
            memcpy(vname, p, (size_t)(slash - p));
            vname[slash - p] = '\0';
            if (parse_version_name(vname) > num)
                json_array_remove(paths, i);
        }
        if (json_array_size(paths) == 0)
            json_object_del(map, k);
    }
    (void)inv;
}

int vl_inventory_truncate(vl_inventory *inv, int num)
{
    int head = vl_inventory_head(inv);
    json_t *versions = json_object_get(inv->root, "versions");
    const char *k;
    json_t *v;
    for (int n = head; n > num; n--) {
        char name[16];
        vl_inventory_version_name(inv, n, name);
        json_object_del(versions, name);
    }
    prune_map(inv, json_object_get(inv->root, "manifest"), num);
    json_object_foreach(json_object_get(inv->root, "fixity"), k, v)
        prune_map(inv, v, num);
    char name[16];
    vl_inventory_version_name(inv, num, name);
    json_object_set_new(inv->root, "head", json_string(name));
    drop_caches(inv);
    return 0;
}
