/* The incremental catalog sync after a commit, shared by test_catalog.c
 * (SQLite) and test_catalog_pg.c (PostgreSQL): an object grows through
 * versions that add, remove and rename files and add fixity, each synced
 * with vl_catalog_sync_new_version; its rows must equal those a full
 * vl_catalog_sync_object writes, and the incremental path must have been
 * taken where the catalog held version head-1.
 *
 * The including file defines fx (with cat, b), add_content(), check(),
 * msgs, and includes db_private.h. */
#ifndef CATALOG_INCREMENTAL_H
#define CATALOG_INCREMENTAL_H

#define OBJ_INC "info:obj-inc"
#define REL_INC "ef/obj-inc"

/* Every row of the object's five tables (and its dates and formats), one
 * line each, in key order: what two syncs must agree on. */
static char *dump_object(fx *f, const char *id)
{
    static const int ncols[] = {9, 6, 4, 4, 4, 4, 3};
    static const char *const sql[] = {
        "SELECT 'objects', id, path, head, digest_alg, created, updated,"
        " head_files, head_bytes FROM objects WHERE id = ?1",
        "SELECT 'versions', num, created, message, user_name, user_address"
        " FROM versions WHERE object_id = ?1 ORDER BY num",
        "SELECT 'content', content_path, digest, size FROM content"
        " WHERE object_id = ?1 ORDER BY content_path",
        "SELECT 'files', version, logical_path, digest FROM files"
        " WHERE object_id = ?1 ORDER BY version, logical_path",
        "SELECT 'fixity', content_path, algorithm, value FROM fixity"
        " WHERE object_id = ?1 ORDER BY content_path, algorithm, value",
        "SELECT 'dates', version, logical_path, modified_ns FROM file_dates"
        " WHERE object_id = ?1 ORDER BY version, logical_path",
        "SELECT 'formats', digest, mime FROM formats"
        " WHERE object_id = ?1 ORDER BY digest",
    };
    vl_db *d = vl_catalog_vdb(f->cat);
    vl_buf out;
    vl_buf_init(&out, 0);
    for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
        vl_db_stmt *st = NULL;
        if (vl_db_prepare(d, sql[i], &st) != VL_DB_OK)
            fail_msg("%s: %s", sql[i], vl_db_errmsg(d));
        vl_db_bind_text(st, 1, id);
        int rc;
        while ((rc = vl_db_step(st)) == VL_DB_ROW) {
            for (int c = 0; c < ncols[i]; c++) {
                const char *t = vl_db_column_text(st, c);
                if (c > 0)
                    assert_int_equal(vl_buf_append(&out, "|", 1, NULL), 0);
                if (!t)
                    t = "NULL";
                assert_int_equal(vl_buf_append(&out, t, strlen(t), NULL), 0);
            }
            assert_int_equal(vl_buf_append(&out, "\n", 1, NULL), 0);
        }
        assert_int_equal(rc, VL_DB_DONE);
        vl_db_finalize(st);
    }
    return vl_buf_detach(&out);
}

/* Sync after "committing" version head and check the catalog agrees with
 * the inventory; incremental says whether the short path is expected. */
static void commit_sync(fx *f, const vl_inventory *inv, int incremental)
{
    vl_error err = {0};
    msgs m;
    unsigned long before = vl_catalog_incremental_syncs(f->cat);
    if (vl_catalog_sync_new_version(f->cat, f->b, REL_INC, inv, &err) != VL_OK)
        fail_msg("sync of v%d: %s", vl_inventory_head(inv), err.msg);
    assert_int_equal(vl_catalog_incremental_syncs(f->cat) - before,
                     incremental ? 1 : 0);
    if (check(f, REL_INC, inv, &m) != VL_OK) {
        for (int i = 0; i < m.n && i < 16; i++)
            print_message("  v%d: %s\n", vl_inventory_head(inv), m.lines[i]);
        fail_msg("catalog disagrees after syncing v%d", vl_inventory_head(inv));
    }
}

/* Each version keeps the named paths of the previous state and adds
 * new ones (logical path, content path under the version, data). */
static int next_version(vl_inventory *inv, const char *created,
                        const char *message)
{
    int n = vl_inventory_version_add(inv, created, message, "Ann",
                                     "mailto:ann@example.org");
    assert_true(n > 0);
    return n;
}

static void keep(vl_inventory *inv, int n, const char *logical,
                 const char *as)
{
    const char *d = vl_inventory_lookup(inv, n - 1, logical);
    assert_non_null(d);
    assert_int_equal(vl_inventory_state_add(inv, n, d, as ? as : logical), 0);
}

static void add_new(fx *f, vl_inventory *inv, int n, const char *logical,
                    const char *data)
{
    char cpath[128], d[VL_DIGEST_HEX_MAX];
    snprintf(cpath, sizeof cpath, "v%d/content/%s", n, logical);
    add_content(f, inv, REL_INC, cpath, data, d);
    assert_int_equal(vl_inventory_state_add(inv, n, d, logical), 0);
}

static void test_incremental_sync_equals_full(void **state)
{
    fx *f = *state;
    vl_error err = {0};
    vl_inventory *inv = vl_inventory_new(OBJ_INC, VL_SHA512);
    assert_non_null(inv);

    /* v1: the first version is a full sync (nothing in the catalog). */
    int n = next_version(inv, "2026-01-01T00:00:00Z", "first");
    add_new(f, inv, n, "data/a.txt", "alpha");
    add_new(f, inv, n, "data/b.txt", "beta");
    add_new(f, inv, n, "data/c.txt", "gamma");
    assert_int_equal(vl_inventory_fixity_add(inv, VL_MD5,
                     "2c1743a391305fbf367df8e4f069f9f9", "v1/content/data/a.txt"), 0);
    commit_sync(f, inv, 0);
    /* Other modules' rows for the object, which no sync may touch. */
    assert_int_equal(vl_catalog_date_put(f->cat, OBJ_INC, 1, "data/a.txt",
                                         1000, &err), VL_OK);
    vl_catalog_format fmt = {.mime = "text/plain"};
    assert_int_equal(vl_catalog_format_put(f->cat, OBJ_INC,
                     vl_inventory_lookup(inv, 1, "data/a.txt"), &fmt, &err),
                     VL_OK);

    /* v2 adds a file. */
    n = next_version(inv, "2026-01-02T00:00:00Z", "second");
    keep(inv, n, "data/a.txt", NULL);
    keep(inv, n, "data/b.txt", NULL);
    keep(inv, n, "data/c.txt", NULL);
    add_new(f, inv, n, "data/d.txt", "delta");
    commit_sync(f, inv, 1);
    assert_int_equal(vl_catalog_dates_carry(f->cat, OBJ_INC, 1, 2, &err),
                     VL_OK);

    /* v3 removes b and renames c: no new content at all. */
    n = next_version(inv, "2026-01-03T00:00:00Z", NULL);
    keep(inv, n, "data/a.txt", NULL);
    keep(inv, n, "data/c.txt", "data/c-renamed.txt");
    keep(inv, n, "data/d.txt", NULL);
    commit_sync(f, inv, 1);

    /* v4 adds a file with fixity, and one already stored (deduplicated). */
    n = next_version(inv, "2026-01-04T00:00:00Z", "fourth");
    keep(inv, n, "data/a.txt", NULL);
    keep(inv, n, "data/c-renamed.txt", NULL);
    keep(inv, n, "data/d.txt", NULL);
    add_new(f, inv, n, "data/e.txt", "epsilon");
    assert_int_equal(vl_inventory_state_add(inv, n,
                     vl_inventory_lookup(inv, 1, "data/b.txt"),
                     "data/b-again.txt"), 0);
    assert_int_equal(vl_inventory_fixity_add(inv, VL_MD5,
                     "0123456789abcdef0123456789abcdef", "v4/content/data/e.txt"), 0);
    assert_int_equal(vl_inventory_fixity_add(inv, VL_SHA1,
                     "0123456789abcdef0123456789abcdef01234567",
                     "v4/content/data/e.txt"), 0);
    commit_sync(f, inv, 1);

    /* v5 adds fixity for old content: those rows are not the new
     * version's, so the catalog is synced in full. */
    n = next_version(inv, "2026-01-05T00:00:00Z", "fifth");
    keep(inv, n, "data/a.txt", NULL);
    keep(inv, n, "data/d.txt", NULL);
    keep(inv, n, "data/e.txt", NULL);
    add_new(f, inv, n, "data/f.txt", "phi");
    assert_int_equal(vl_inventory_fixity_add(inv, VL_MD5,
                     "fedcba9876543210fedcba9876543210", "v2/content/data/d.txt"), 0);
    commit_sync(f, inv, 0);

    /* v6: incremental again. */
    n = next_version(inv, "2026-01-06T00:00:00Z", "sixth");
    keep(inv, n, "data/a.txt", NULL);
    keep(inv, n, "data/f.txt", "data/f-moved.txt");
    add_new(f, inv, n, "data/g.txt", "gee");
    commit_sync(f, inv, 1);
    char *incremental = dump_object(f, OBJ_INC);

    /* The same rows as a full sync of the same inventory. */
    if (vl_catalog_sync_object(f->cat, f->b, REL_INC, inv, &err) != VL_OK)
        fail_msg("full sync: %s", err.msg);
    char *full = dump_object(f, OBJ_INC);
    assert_string_equal(incremental, full);
    assert_non_null(strstr(full, "dates|2|data/a.txt|1000"));
    assert_non_null(strstr(full, "formats|"));
    free(incremental);
    free(full);

    /* ... and as a catalog rebuilt from nothing (reindex); the dates and
     * formats are no rows of the catalog's, so they stay. */
    incremental = dump_object(f, OBJ_INC);
    assert_int_equal(vl_catalog_remove_object(f->cat, OBJ_INC, &err), VL_OK);
    if (vl_catalog_sync_object(f->cat, f->b, REL_INC, inv, &err) != VL_OK)
        fail_msg("full sync: %s", err.msg);
    full = dump_object(f, OBJ_INC);
    assert_string_equal(incremental, full);
    free(incremental);
    free(full);

    /* A catalog behind by a version (a stop between commit and sync) is
     * synced in full. */
    vl_inventory *behind = vl_inventory_copy(inv);
    assert_non_null(behind);
    n = next_version(behind, "2026-01-07T00:00:00Z", "seventh");
    keep(behind, n, "data/a.txt", NULL);
    n = next_version(behind, "2026-01-08T00:00:00Z", "eighth");
    keep(behind, n, "data/a.txt", NULL);
    add_new(f, behind, n, "data/h.txt", "aitch");
    commit_sync(f, behind, 0);
    vl_inventory_free(behind);
    vl_inventory_free(inv);
}

#endif
