/* An RFC 4180 CSV reader for metadata.csv files.  Hand-written because no
 * library in our dependency set (OpenSSL, jansson, libarchive, libmagic,
 * libxml2, SQLite) reads CSV, and the format is small.
 *
 * Accepted: quoted fields with "" for a quote, commas and line breaks inside
 * quotes, CRLF, LF or CR line ends, a UTF-8 byte order mark at the start, a
 * last line without a line end.  Leniency: a quote inside an unquoted field
 * is kept as a character (5" disk).  Refused: text after a closing quote, an
 * unterminated quote, NUL bytes, invalid UTF-8, files over 64 MiB, fields
 * over 1 MiB and records with more than 4096 fields. */
#include "descriptive_internal.h"

#include <stdlib.h>
#include <string.h>

struct csv_state {
    const char *name;
    vl_buf field;          /* field being read, capped at VL_CSV_FIELD_MAX */
    char **fields;
    size_t nfields, cap;
};

static void fields_clear(struct csv_state *s)
{
    size_t i;

    for (i = 0; i < s->nfields; i++)
        free(s->fields[i]);
    s->nfields = 0;
}

/* Move the current field into the record. */
static int end_field(struct csv_state *s, size_t line, vl_error *err)
{
    char *f;

    if (s->nfields == VL_CSV_FIELDS_MAX)
        return vl_error_set(err, VL_EINPUT,
                            "%s:%zu: more than %d fields in one record",
                            s->name, line, VL_CSV_FIELDS_MAX);
    if (!vl_utf8_valid(s->field.data ? s->field.data : "", s->field.len))
        return vl_error_set(err, VL_EINPUT, "%s:%zu: not valid UTF-8",
                            s->name, line);
    if (VL_GROW(s->fields, s->cap, s->nfields + 1, err) != VL_OK)
        return VL_ESYS;
    f = vl_strndup(s->field.data ? s->field.data : "", s->field.len);
    if (!f)
        return vl_error_oom(err);
    s->fields[s->nfields++] = f;
    vl_buf_reset(&s->field);
    return VL_OK;
}

static int add_char(struct csv_state *s, char c, size_t line, vl_error *err)
{
    if (vl_buf_append(&s->field, &c, 1, err) != VL_OK)
        return vl_error_set(err, VL_EINPUT, "%s:%zu: field longer than 1 MiB",
                            s->name, line);
    return VL_OK;
}

int vl_csv_parse(const char *data, size_t len, const char *name,
                 vl_csv_row_fn fn, void *arg, vl_error *err)
{
    struct csv_state s;
    size_t i = 0, line = 1, rec_line = 1, row = 0, quote_line = 0;
    int in_quotes = 0, after_quote = 0, rc = VL_OK;

    memset(&s, 0, sizeof s);
    s.name = name;
    vl_buf_init(&s.field, VL_CSV_FIELD_MAX);
    if (len > VL_META_FILE_MAX) {
        rc = vl_error_set(err, VL_EINPUT, "%s: larger than 64 MiB", name);
        goto done;
    }
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    if (memchr(data, '\0', len)) {
        rc = vl_error_set(err, VL_EINPUT, "%s: contains a NUL byte", name);
        goto done;
    }
    while (i < len) {
        char c = data[i];

        if (in_quotes) {
            if (c == '"') {
                if (i + 1 < len && data[i + 1] == '"') {
                    if ((rc = add_char(&s, '"', line, err)) != VL_OK)
                        goto done;
                    i += 2;
                    continue;
                }
                in_quotes = 0;
                after_quote = 1;
            } else {
                if (c == '\n' || (c == '\r' && !(i + 1 < len && data[i + 1] == '\n')))
                    line++;
                if ((rc = add_char(&s, c, line, err)) != VL_OK)
                    goto done;
            }
            i++;
            continue;
        }
        if (c == ',') {
            if ((rc = end_field(&s, line, err)) != VL_OK)
                goto done;
            after_quote = 0;
            i++;
            continue;
        }
        if (c == '\r' || c == '\n') {
            /* End of a record: CRLF, LF or a lone CR. */
            if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
                i++;
            i++;
            if ((rc = end_field(&s, line, err)) != VL_OK)
                goto done;
            row++;
            rc = fn(arg, row, rec_line, s.fields, s.nfields, err);
            fields_clear(&s);
            if (rc != VL_OK)
                goto done;
            after_quote = 0;
            line++;
            rec_line = line;
            continue;
        }
        if (after_quote) {
            rc = vl_error_set(err, VL_EINPUT,
                              "%s:%zu: text after a closing quote (a quote "
                              "inside a quoted field is written \"\")",
                              name, line);
            goto done;
        }
        if (c == '"' && s.field.len == 0) {
            in_quotes = 1;
            quote_line = line;
            i++;
            continue;
        }
        if ((rc = add_char(&s, c, line, err)) != VL_OK)
            goto done;
        i++;
    }
    if (in_quotes) {
        rc = vl_error_set(err, VL_EINPUT,
                          "%s:%zu: a quoted field starts here and is never "
                          "closed",
                          name, quote_line);
        goto done;
    }
    /* A last record without a line end (but not an empty last line). */
    if (s.field.len > 0 || s.nfields > 0 || after_quote) {
        if ((rc = end_field(&s, line, err)) != VL_OK)
            goto done;
        row++;
        rc = fn(arg, row, rec_line, s.fields, s.nfields, err);
    }
done:
    fields_clear(&s);
    free(s.fields);
    vl_buf_release(&s.field);
    return rc;
}
