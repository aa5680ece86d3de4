/* Free space for deposits.  Staging and the store share one filesystem; a
 * deposit may fill it up to a reserve, which is left for what a commit
 * writes besides the content (METS, inventories, the catalog, the event
 * log) and for whatever else lives on that filesystem.  The reserve is a
 * fraction of the filesystem, so it grows with big disks and stays small on
 * small ones, with a floor below which a commit could not finish. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "repo_internal.h"

int vl_reserve_parse(const char *text, uint64_t fs_size, uint64_t *out)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0)
        return -1;
    if (text[n - 1] != '%')
        return vl_size_parse(text, out);
    /* "N%" or "N.N%": digits only, no sign, spaces or exponent */
    int dots = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (text[i] == '.' && i > 0 && i + 2 < n && !dots++)
            continue;
        if (text[i] < '0' || text[i] > '9')
            return -1;
    }
    if (n < 2)
        return -1;
    double pct = strtod(text, NULL);
    if (!(pct >= 0 && pct <= 100))
        return -1;
    *out = (uint64_t)floor((double)fs_size * pct / 100.0);
    return 0;
}

int vl_repo_space(vl_repo *r, vl_space *out, vl_error *err)
{
    struct statvfs sv;
    const char *set = vl_kv_get(r->config, VL_RESERVE_KEY);
    uint64_t reserve = 0;
    memset(out, 0, sizeof *out);
    out->is_default = !set || !*set;
    snprintf(out->setting, sizeof out->setting, "%s",
             out->is_default ? VL_RESERVE_DEFAULT : set);
    if (statvfs(r->staging_dir, &sv) != 0)
        return vl_error_sys(err, "cannot measure the free space of %s",
                            r->staging_dir);
    out->size = (uint64_t)sv.f_blocks * (uint64_t)sv.f_frsize;
    out->free = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    if (vl_reserve_parse(out->setting, out->size, &reserve) != 0)
        return vl_error_set(err, VL_EINPUT, "%s/" VL_CONFIG_FILE ": "
                            VL_RESERVE_KEY " \"%s\" is neither a percentage of "
                            "the filesystem (\"1%%\") nor a size (\"64M\")",
                            r->dir, out->setting);
    out->reserve = reserve > VL_RESERVE_FLOOR ? reserve : VL_RESERVE_FLOOR;
    out->usable = out->free > out->reserve ? out->free - out->reserve : 0;
    return VL_OK;
}

void vl_space_describe(const vl_space *s, char *buf, size_t n)
{
    char free_h[32], res_h[32], use_h[32], fs_h[32], floor_h[32], how[128];
    vl_size_format(s->free, free_h);
    vl_size_format(s->reserve, res_h);
    vl_size_format(s->usable, use_h);
    vl_size_format(s->size, fs_h);
    vl_size_format(VL_RESERVE_FLOOR, floor_h);
    if (s->is_default)
        snprintf(how, sizeof how, "%s of the %s filesystem by default",
                 s->setting, fs_h);
    else
        snprintf(how, sizeof how, "set to %s", s->setting);
    snprintf(buf, n,
             "staging has %llu bytes (%s) of free space and keeps a "
             "reserve of %llu bytes (%s), which leaves %llu bytes (%s); the "
             "reserve is " VL_RESERVE_KEY " (%s, at least %s): change it with "
             "'vellum config " VL_RESERVE_KEY " SIZE|PERCENT'",
             (unsigned long long)s->free, free_h,
             (unsigned long long)s->reserve, res_h,
             (unsigned long long)s->usable, use_h, how, floor_h);
}

int vl_space_error(vl_repo *r, const char *what, uint64_t need,
                   vl_error *err)
{
    vl_space s;
    vl_error why = *err;
    char tail[700], need_h[32], more_h[32];
    /* Keep what failed, without the repeated strerror text. */
    char *cut = strstr(why.msg, ": No space left on device");
    if (cut)
        *cut = '\0';
    if (vl_repo_space(r, &s, NULL) != VL_OK) {
        vl_error_set(err, VL_ESYS, "no space left on device in %s: %s (%s)",
                     r->staging_dir, what, why.msg);
        err->sys_errno = ENOSPC;
        return VL_ESYS;
    }
    vl_space_describe(&s, tail, sizeof tail);
    uint64_t want = need + s.reserve;
    uint64_t more = want > s.free ? want - s.free : 0;
    char needs[160];
    vl_size_format(need, need_h);
    vl_size_format(more, more_h);
    if (need)
        snprintf(needs, sizeof needs, "%s needs %llu bytes (%s) and the reserve",
                 what, (unsigned long long)need, need_h);
    else
        snprintf(needs, sizeof needs, "%s needs the reserve", what);
    if (more)
        vl_error_set(err, VL_ESYS, "no space left on device in %s: %s, %llu "
                     "bytes (%s) more than are free: %s (%s)", r->staging_dir,
                     needs, (unsigned long long)more, more_h, tail, why.msg);
    else
        /* The space came back meanwhile, or what a commit writes besides
         * the content did not fit in the reserve. */
        vl_error_set(err, VL_ESYS, "no space left on device in %s: %s, which "
                     "are free now, so the filesystem filled up meanwhile or "
                     "the reserve is too small for the metadata: %s (%s)",
                     r->staging_dir, needs, tail, why.msg);
    err->sys_errno = ENOSPC;
    return VL_ESYS;
}
