/* One CSV field as vellum writes it (RFC 4180, CRLF line ends).
 *
 * Values can be a depositor's (object ids, file names), and CSV is read on
 * terminals and by line-based tools as well as by spreadsheets: control
 * characters (newlines included) are hex-escaped like everywhere else that
 * prints text, so one row is one line, and a value a spreadsheet would run
 * as a formula (= + - @ first) gets a leading ' (OWASP's advice). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vl_common.h"

void vl_csv_field(FILE *f, const char *value, int last)
{
    int plain = !value || vl_text_printable(value);
    char *esc = plain ? NULL : vl_name_escape(value);
    const char *s = plain ? value : esc ? esc : "?";
    int formula = s && s[0] && strchr("=+-@", s[0]);
    if (s && strpbrk(s, ",\"\r\n")) {
        fputs(formula ? "\"'" : "\"", f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else if (s) {
        if (formula)
            fputc('\'', f);
        fputs(s, f);
    }
    fputs(last ? "\r\n" : ",", f);
    free(esc);
}
