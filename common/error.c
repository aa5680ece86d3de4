/* Error reporting: one status plus a one-line message naming the subject. */
#include "vl_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Messages end up in single-line logs and CLI output, so fold newlines. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

int vl_error_set(vl_error *err, int status, const char *fmt, ...)
{
    char tmp[sizeof err->msg];
    va_list ap;

    if (!err)
        return status;
    /* Format into a copy first: callers may pass err->msg as an argument to
     * prefix context onto an earlier message. */
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(err->msg, tmp, sizeof tmp);
    err->status = status;
    err->sys_errno = 0;
    one_line(err->msg);
    return status;
}

int vl_error_sys(vl_error *err, const char *fmt, ...)
{
    int saved = errno; /* formatting may clobber errno */
    char tmp[sizeof err->msg];
    va_list ap;
    size_t n;

    if (!err)
        return VL_ESYS;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    n = strlen(tmp);
    snprintf(tmp + n, sizeof tmp - n, ": %s", strerror(saved));
    memcpy(err->msg, tmp, sizeof tmp);
    err->status = VL_ESYS;
    err->sys_errno = saved;
    one_line(err->msg);
    errno = saved;
    return VL_ESYS;
}

void vl_error_clear(vl_error *err)
{
    if (!err)
        return;
    err->status = VL_OK;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}
