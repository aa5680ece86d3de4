/* Byte counts as people write and read them: "64M", "2G", "4.0 MiB". */
#include "vl_common.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>

int vl_size_parse(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    int shift = 0;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno == ERANGE)   /* strtoull's "too big" is ULLONG_MAX, not a size */
        return -1;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if ((*end == 'i' || *end == 'I') && shift)
        end++;
    if ((*end == 'b' || *end == 'B') && (shift || end[-1] != 'i'))
        end++;   /* "512B", "1KB", "1KiB"; never "5BB" or "5iB" */
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

void vl_size_format(uint64_t bytes, char out[32])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, 32, "%llu B", (unsigned long long)bytes);
    else
        snprintf(out, 32, "%.1f %s", v, units[u]);
}
