/* Time: RFC 3339 in UTC for output, a strict RFC 3339 / date parser for
 * input, and, in test builds, an overridable clock (VELLUM_NOW) for
 * reproducible tests. */
#include "vl_common.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t vl_time_now(void)
{
#ifdef VELLUM_TEST_HOOKS
    /* Only the test builds (make build, make check) read VELLUM_NOW: the
     * clock of PREMIS events and audits is not something a user of the
     * installed program can set. */
    const char *env = getenv("VELLUM_NOW");

    if (env && *env) {
        int64_t t;
        char *end;
        long long v;

        errno = 0;
        v = strtoll(env, &end, 10);
        if (errno == 0 && end != env && *end == '\0')
            return (int64_t)v;
        if (vl_time_parse(env, &t) == 0)
            return t;
        /* An unusable override falls back to the real clock. */
    }
#endif
    return (int64_t)time(NULL);
}

double vl_time_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vl_time_rfc3339(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!gmtime_r(&tt, &tm) ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

void vl_time_rfc3339_ns(int64_t ns, char out[40])
{
    /* Called once per file and METS pass, mostly within the same second:
     * the seconds part is remembered rather than formatted each time. */
    static _Thread_local int64_t last_sec = INT64_MIN;
    static _Thread_local char last_whole[32];
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    if (sec != last_sec) {
        vl_time_rfc3339(sec, last_whole);
        last_sec = sec;
    }
    size_t len = strlen(last_whole);   /* ends in Z */
    memcpy(out, last_whole, len + 1);
    if (!frac)
        return;
    char digits9[9];
    for (int i = 8; i >= 0; i--, frac /= 10)
        digits9[i] = (char)('0' + frac % 10);
    size_t n = 9;
    while (digits9[n - 1] == '0')   /* frac != 0: one digit is not */
        n--;
    size_t base = len - 1 < 28 ? len - 1 : 28;   /* fits 40 for any year */
    out[base] = '.';
    memcpy(out + base + 1, digits9, n);
    out[base + 1 + n] = 'Z';
    out[base + 2 + n] = '\0';
}

/* Exactly n decimal digits at *p; advances *p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int expect(const char **p, char c)
{
    if (**p != c)
        return -1;
    (*p)++;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

int vl_time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
    const char *p = s;
    struct tm tm;
    time_t t;

    if (digits(&p, 4, &y) || expect(&p, '-') || digits(&p, 2, &mo) ||
        expect(&p, '-') || digits(&p, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    if (*p != '\0') {
        /* RFC 3339 allows a lower-case 't' and 'z' too. */
        if (*p != 'T' && *p != 't')
            return -1;
        p++;
        if (digits(&p, 2, &h) || expect(&p, ':') || digits(&p, 2, &mi) ||
            expect(&p, ':') || digits(&p, 2, &sec))
            return -1;
        if (h > 23 || mi > 59 || sec > 60) /* 60: leap second */
            return -1;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -1;
            while (isdigit((unsigned char)*p))
                p++; /* fractions are dropped: we keep whole seconds */
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p == '+' ? 1 : -1;
            p++;
            if (digits(&p, 2, &oh) || expect(&p, ':') || digits(&p, 2, &om))
                return -1;
            if (oh > 23 || om > 59)
                return -1;
        } else {
            return -1;
        }
        if (*p != '\0')
            return -1;
    }
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
        return -1;
    /* Local time = UTC + offset, so UTC = local - offset. */
    *out = (int64_t)t - (int64_t)sign * (oh * 3600 + om * 60);
    return 0;
}

int vl_time_parse_ns(const char *s, int64_t *out)
{
    int64_t sec, frac = 0;
    int n = 0;
    const char *dot = strchr(s, '.');
    if (vl_time_parse(s, &sec) != 0)
        return -1;
    if (dot)
        for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 9)
                frac = frac * 10 + (*p - '0');
    for (; n < 9; n++)
        frac *= 10;
    *out = sec * 1000000000 + frac;
    return 0;
}
