/* Error reporting: one status plus a one-line message naming the subject. */
#include "common_private.h"
#include "vl_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Messages end up in single-line logs and on terminals, and often quote
 * what a depositor wrote: fold newlines, and escape every other control
 * character (vl_name_escape's rules) so none reaches a terminal. */
static void one_line(char *msg, size_t cap, char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    vl_text_escape_into(msg, cap, s);
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
    one_line(err->msg, sizeof err->msg, tmp);
    err->status = status;
    err->sys_errno = 0;
    err->reason = VL_REASON_NONE;
    return status;
}

int vl_error_sys(vl_error *err, const char *fmt, ...)
{
    int saved = errno; /* formatting may clobber errno */
    char tmp[sizeof err->msg];
    va_list ap;
    size_t n;

    if (saved == ENOMEM)
        vl_alloc_failed();   /* the shortage count operations check */
    if (!err)
        return VL_ESYS;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    n = strlen(tmp);
    snprintf(tmp + n, sizeof tmp - n, ": %s", strerror(saved));
    one_line(err->msg, sizeof err->msg, tmp);
    err->status = VL_ESYS;
    err->sys_errno = saved;
    err->reason = VL_REASON_NONE;
    errno = saved;
    return VL_ESYS;
}

int vl_error_oom(vl_error *err)
{
    vl_alloc_failed();
    vl_error_set(err, VL_ESYS, "out of memory");
    if (err)
        err->sys_errno = ENOMEM;
    return VL_ESYS;
}

void vl_error_clear(vl_error *err)
{
    if (!err)
        return;
    err->status = VL_OK;
    err->sys_errno = 0;
    err->reason = VL_REASON_NONE;
    err->msg[0] = '\0';
}
