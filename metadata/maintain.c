/* Whole-repository maintenance as the commands run it: the store's part
 * (storage/) then the metadata's (format identification results put back
 * from the METS stored in each version), so that a library caller gets
 * what 'vellum recover' and 'vellum reindex' do. */
#include "vl_metadata.h"

int vl_metadata_recover(vl_repo *r, vl_recover_counts *counts, vl_error *err)
{
    int rc = vl_repo_recover(r, counts, err);
    if (rc != VL_OK)
        return rc;
    /* recover rebuilds the catalog rows of the objects it settles; their
     * formats live only in their METS */
    return vl_metadata_reindex_formats(r, NULL, err);
}

int vl_metadata_reindex(vl_repo *r, size_t *objects, size_t *formats,
                        vl_error *err)
{
    int rc = vl_repo_reindex(r, objects, err);
    if (rc != VL_OK)
        return rc;
    return vl_metadata_reindex_formats(r, formats, err);
}
