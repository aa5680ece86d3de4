/* Helping a user who typed something vellum does not know: the object ids
 * in the catalog close to an unknown one, and the PREMIS event types and
 * outcomes a filter may name. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "catalog_private.h"
#include "vl_storage.h"

#define SUGGEST_MAX 3

struct near_ids {
    const char *given;
    char ids[SUGGEST_MAX][VL_SUGGEST_ID_MAX];
    int dist[SUGGEST_MAX];
    size_t n;
};

static int near_id(void *arg, const vl_catalog_object *o)
{
    struct near_ids *s = arg;
    int d = vl_similarity(s->given, o->id);
    if (d < 0 || strlen(o->id) >= VL_SUGGEST_ID_MAX)
        return 0;
    /* kept best first (the catalog gives ids in order, so ties stay sorted) */
    size_t at = s->n;
    while (at > 0 && s->dist[at - 1] > d)
        at--;
    if (at >= SUGGEST_MAX)
        return 0;
    size_t last = s->n < SUGGEST_MAX ? s->n : SUGGEST_MAX - 1;
    for (size_t i = last; i > at; i--) {
        memcpy(s->ids[i], s->ids[i - 1], sizeof s->ids[i]);
        s->dist[i] = s->dist[i - 1];
    }
    snprintf(s->ids[at], sizeof s->ids[at], "%s", o->id);
    s->dist[at] = d;
    if (s->n < SUGGEST_MAX)
        s->n++;
    return 0;
}

size_t vl_repo_similar_ids(vl_repo *r, const char *id, char *buf, size_t n)
{
    struct near_ids s = {.given = id};
    vl_error err = {0};
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    if (!r || !id || !n ||
        vl_catalog_objects(vl_repo_catalog(r), near_id, &s, &err) != VL_OK)
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        char *esc = vl_name_escape(s.ids[i]);   /* never raw: ids may hold
                                                    control characters */
        int w = esc ? snprintf(buf + used, n - used, "%s%s",
                               i == 0 ? "" : i + 1 == s.n ? " or " : ", ", esc)
                    : -1;
        free(esc);
        if (w < 0 || (size_t)w >= n - used) {
            buf[used] = '\0';
            return i;
        }
        used += (size_t)w;
    }
    return s.n;
}

static int seen_object(void *arg, const vl_catalog_object *o)
{
    (void)o;
    *(int *)arg = 1;
    return 0;
}

int vl_repo_object_known(vl_repo *r, const char *id, int *known, vl_error *err)
{
    vl_error miss = {0};
    int rc;
    *known = 0;
    rc = vl_catalog_get_object(vl_repo_catalog(r), id, seen_object, known, &miss);
    if (rc != VL_OK && rc != VL_EINPUT) {
        *err = miss;
        return rc;
    }
    if (*known)
        return VL_OK;
    return vl_repo_object_stored(r, id, known, err);
}

const char *const vl_event_types[] = {
    VL_EV_INGESTION, VL_EV_DIGEST, VL_EV_FORMAT_ID, VL_EV_FIXITY,
    VL_EV_UNPACKING, VL_EV_VALIDATION, VL_EV_METADATA, VL_EV_DISSEMINATION,
    VL_EV_CREATION, VL_EV_REPLICATION, VL_EV_RECOVERY, VL_EV_QUARANTINE,
    VL_EV_DELETION, NULL};

static void list_types(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; vl_event_types[i] && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "",
                         vl_event_types[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int vl_event_type_resolve(const char *given, const char **type, vl_error *err)
{
    char all[512], matches[512] = "";
    size_t len = strlen(given), found = 0, used = 0;
    *type = NULL;
    for (size_t i = 0; vl_event_types[i]; i++) {
        if (!strcasecmp(given, vl_event_types[i])) {   /* exact wins */
            *type = vl_event_types[i];
            return VL_OK;
        }
        if (len && !strncasecmp(given, vl_event_types[i], len)) {
            *type = vl_event_types[i];
            int w = snprintf(matches + used, sizeof matches - used, "%s%s",
                             found ? ", " : "", vl_event_types[i]);
            if (w > 0 && (size_t)w < sizeof matches - used)
                used += (size_t)w;
            found++;
        }
    }
    if (found == 1)
        return VL_OK;
    *type = NULL;
    list_types(all, sizeof all);
    char *esc = vl_name_escape(given);
    int rc = found ? vl_error_set(err, VL_EINPUT, "event type \"%s\" is ambiguous "
                                  "(%s); the types are: %s", esc ? esc : "?",
                                  matches, all)
                   : vl_error_set(err, VL_EINPUT, "unknown event type \"%s\"; the "
                                  "types are: %s", esc ? esc : "?", all);
    free(esc);
    return rc;
}

int vl_event_outcome_check(const char *outcome, vl_error *err)
{
    if (!strcmp(outcome, "success") || !strcmp(outcome, "fail") ||
        !strcmp(outcome, "warning"))
        return VL_OK;
    char *esc = vl_name_escape(outcome);
    int rc = vl_error_set(err, VL_EINPUT, "unknown event outcome \"%s\"; the "
                          "outcomes are: success, fail, warning", esc ? esc : "?");
    free(esc);
    return rc;
}
