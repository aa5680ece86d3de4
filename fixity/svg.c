/* Inline SVG charts for the HTML report.  No viewBox: x positions and
 * widths are percentages of the chart's width and everything else is in
 * CSS pixels, so the charts stretch to any screen while their text stays
 * the page's size (a scaled viewBox would shrink labels to nothing on a
 * phone).  Colours and fonts come from the page's stylesheet. */
#include <stdlib.h>
#include <string.h>

#include "report_private.h"

#define SVG_NS "http://www.w3.org/2000/svg"
#define DAY 86400

/* Midnight UTC of a YYYY-MM-DD (or RFC 3339) string; -1 when malformed. */
static int64_t day_start(const char *s)
{
    char d[11];
    int64_t t;
    snprintf(d, sizeof d, "%s", s ? s : "");
    if (vl_time_parse(d, &t) != 0)
        return -1;
    return t - (t % DAY + DAY) % DAY;
}

static void day_text(int64_t t, char out[11])
{
    char buf[32];
    vl_time_rfc3339(t, buf);
    snprintf(out, 11, "%.10s", buf);
}

/* A round step (1, 2 or 5 times a power of ten, in the unit's scale) that
 * splits max into at most four gridlines. */
static double nice_step(double max)
{
    double raw = max / 4, p = 1;
    if (max <= 0)
        return 1;
    while (p * 10 <= raw)
        p *= 10;
    while (p > raw)
        p /= 10;
    /* now p <= raw < 10p */
    if (raw <= p)
        return p;
    if (raw <= 2 * p)
        return 2 * p;
    if (raw <= 5 * p)
        return 5 * p;
    return 10 * p;
}

typedef struct bar {
    uint64_t bytes, objects, failures;
    int64_t start;
} bar;

void rp_svg_history(const rp_model *m, FILE *f)
{
    bar bars[RP_MAX_BARS + 1];
    const int top = 22, plot = 150, rug = 5, height = 206;
    const int base = top + plot;
    int64_t end = day_start(m->generated), start = -1;
    int64_t span, bin;
    size_t nbars;
    uint64_t max_bytes = 0, max_objects = 0;
    double unit = 1, step, axis_max;
    const char *unit_name = "B";
    char a[11], b[11], s1[32];

    /* The period: from --since (or the first audit) to today. */
    if (m->since[0])
        start = day_start(m->since);
    else if (m->ndays)
        start = day_start(m->days[0].date);
    if (start < 0)
        start = end - 29 * (int64_t)DAY;
    if (start > end)
        start = end;
    span = (end - start) / DAY + 1;
    bin = (span + RP_MAX_BARS - 1) / RP_MAX_BARS;
    nbars = (size_t)((span + bin - 1) / bin);
    memset(bars, 0, sizeof bars);
    for (size_t i = 0; i < nbars; i++)
        bars[i].start = start + (int64_t)i * bin * DAY;
    for (size_t i = 0; i < m->ndays; i++) {
        int64_t t = day_start(m->days[i].date);
        if (t < start || t > end)
            continue;
        bar *x = &bars[(t - start) / DAY / bin];
        x->bytes += m->days[i].bytes;
        x->objects += m->days[i].objects;
        x->failures += m->days[i].failures;
    }
    for (size_t i = 0; i < nbars; i++) {
        if (bars[i].bytes > max_bytes)
            max_bytes = bars[i].bytes;
        if (bars[i].objects > max_objects)
            max_objects = bars[i].objects;
    }
    /* Axis in the unit that keeps its numbers below 1024. */
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    for (int u = 0; u < 5 && (double)max_bytes / unit >= 1024; u++) {
        unit *= 1024;
        unit_name = units[u + 1];
    }
    step = nice_step((double)max_bytes / unit);
    if (unit == 1 && step < 1)
        step = 1;  /* no half bytes */
    axis_max = step;
    while (axis_max < (double)max_bytes / unit)
        axis_max += step;

    day_text(start, a);
    day_text(end, b);
    fprintf(f, "<svg class=\"chart history\" width=\"100%%\" height=\"%d\" "
               "role=\"img\" aria-labelledby=\"history-title\" "
               "xmlns=\"" SVG_NS "\">\n"
               "<title id=\"history-title\">Bytes audited per %s, %s to %s"
               "</title>\n",
            height, bin == 1 ? "day" : "period", a, b);
    /* Gridlines first; their labels go on top of the bars, at the end. */
    for (double g = 0; g <= axis_max + step / 2; g += step) {
        int y = base - (int)(g / axis_max * plot + 0.5);
        fprintf(f, "<line class=\"grid\" x1=\"0\" x2=\"100%%\" y1=\"%d\" "
                   "y2=\"%d\"/>\n", y, y);
    }
    if (max_objects)
        fprintf(f, "<text class=\"axis\" x=\"100%%\" y=\"%d\" "
                   "text-anchor=\"end\">\xe2\x97\x8f objects (max %llu)</text>\n",
                top - 8, (unsigned long long)max_objects);
    double slot = 100.0 / (double)nbars;
    double w = slot * 0.78 > 6 ? 6 : slot * 0.78;
    for (size_t i = 0; i < nbars; i++) {
        const bar *x = &bars[i];
        double c = slot * ((double)i + 0.5);
        int h = max_bytes ? (int)((double)x->bytes / unit / axis_max * plot + 0.5)
                          : 0;
        if (x->bytes && h < 2)
            h = 2;  /* a small day still shows */
        day_text(x->start, a);
        day_text(x->start + (bin - 1) * DAY, b);
        rp_size(x->bytes, s1);
        if (!x->objects && !x->failures)
            continue;
        fprintf(f, "<g class=\"day%s\" data-date=\"%s\" data-bytes=\"%llu\" "
                   "data-objects=\"%llu\" data-failures=\"%llu\">"
                   "<title>%s%s%s: %s audited, %llu object%s, %llu "
                   "failed</title>",
                x->failures ? " fail" : "", a, (unsigned long long)x->bytes,
                (unsigned long long)x->objects,
                (unsigned long long)x->failures, a, bin > 1 ? " to " : "",
                bin > 1 ? b : "", s1, (unsigned long long)x->objects,
                x->objects == 1 ? "" : "s", (unsigned long long)x->failures);
        fprintf(f, "<rect class=\"bar\" x=\"%.3f%%\" y=\"%d\" width=\"%.3f%%\" "
                   "height=\"%d\"/>", c - w / 2, base - h, w, h);
        if (x->failures)
            fprintf(f, "<rect class=\"rug\" x=\"%.3f%%\" y=\"%d\" "
                       "width=\"%.3f%%\" height=\"%d\"/>",
                    c - (w < 1.2 ? 0.6 : w / 2), base + 7,
                    w < 1.2 ? 1.2 : w, rug);
        if (x->objects) {
            int cy = base - (int)((double)x->objects / (double)max_objects *
                                  (plot - 6) + 0.5);
            fprintf(f, "<circle class=\"dot\" cx=\"%.3f%%\" cy=\"%d\" r=\"3.5\"/>",
                    c, cy);
        }
        fputs("</g>\n", f);
    }
    for (double g = step; max_bytes && g <= axis_max + step / 2; g += step)
        fprintf(f, "<text class=\"axis\" x=\"0\" y=\"%d\">%g %s</text>\n",
                base - (int)(g / axis_max * plot + 0.5) - 4, g, unit_name);
    if (max_bytes == 0 && m->ndays == 0)
        fprintf(f, "<text class=\"empty\" x=\"50%%\" y=\"%d\" "
                   "text-anchor=\"middle\">No audits recorded in this period"
                   "</text>\n", top + plot / 2);
    day_text(start, a);
    day_text(end, b);
    fprintf(f, "<text class=\"axis\" x=\"0\" y=\"%d\">%s</text>\n"
               "<text class=\"axis\" x=\"100%%\" y=\"%d\" text-anchor=\"end\">"
               "%s</text>\n",
            height - 4, a, height - 4, b);
    if (bin > 1)
        fprintf(f, "<text class=\"axis\" x=\"50%%\" y=\"%d\" "
                   "text-anchor=\"middle\">%lld days per bar</text>\n",
                height - 4, (long long)bin);
    fputs("</svg>\n", f);
}

/* Up to max bytes of s, cut at a character boundary, with an ellipsis. */
static void clipped(FILE *f, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) {
        rp_html_text(f, s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    char *c = vl_strndup(s, max);
    if (c)
        rp_html_text(f, c);
    free(c);
    fputs("\xe2\x80\xa6", f);
}

#define FORMAT_ROWS 12

void rp_svg_formats(const rp_model *m, FILE *f)
{
    const int row = 44;
    size_t n = m->nformats;
    uint64_t max = 0;
    char s1[32], s2[32];
    /* The biggest formats; the "other" row closes the list when cut. */
    size_t shown = n > FORMAT_ROWS ? FORMAT_ROWS : n;
    for (size_t i = 0; i < n; i++)
        if (m->formats[i].files > max)
            max = m->formats[i].files;
    fprintf(f, "<svg class=\"chart formats\" width=\"100%%\" height=\"%d\" "
               "role=\"img\" aria-labelledby=\"format-title\" "
               "xmlns=\"" SVG_NS "\">\n"
               "<title id=\"format-title\">Files per format in the head "
               "versions</title>\n",
            shown ? (int)shown * row + 4 : 40);
    if (!shown)
        fputs("<text class=\"empty\" x=\"50%\" y=\"24\" text-anchor=\"middle\">"
              "No files yet</text>\n", f);
    for (size_t i = 0; i < shown; i++) {
        const rp_format *p = &m->formats[i];
        int y = (int)i * row;
        double w = max ? (double)p->files * 100.0 / (double)max : 0;
        char name[160];
        if (w > 0 && w < 0.5)
            w = 0.5;
        if (p->other_kinds)
            snprintf(name, sizeof name, "Other (%zu formats)", p->other_kinds);
        else if (p->puid)
            snprintf(name, sizeof name, "%s %s%s%s", p->puid,
                     p->name ? p->name : "", p->version ? " " : "",
                     p->version ? p->version : "");
        else if (p->name || p->mime)
            snprintf(name, sizeof name, "%s", p->name ? p->name : p->mime);
        else
            snprintf(name, sizeof name, "Not identified");
        rp_count(p->files, s1);
        rp_size(p->bytes, s2);
        fprintf(f, "<g class=\"format%s\"><title>", p->other_kinds ? " other"
                                                   : !p->puid ? " nopuid" : "");
        rp_html_text(f, name);
        if (p->mime) {
            fputs(" (", f);
            rp_html_text(f, p->mime);
            fputc(')', f);
        }
        fprintf(f, ": %s file%s, %s</title>", s1, p->files == 1 ? "" : "s", s2);
        /* Two labels: the page's CSS shows the short one on phones. */
        fprintf(f, "<text class=\"label narrow\" x=\"0\" y=\"%d\">", y + 15);
        clipped(f, name, 30);
        fprintf(f, "</text><text class=\"label wide\" x=\"0\" y=\"%d\">",
                y + 15);
        clipped(f, name, 64);
        if (p->mime && p->puid) {
            fputs(" \xc2\xb7 ", f);
            clipped(f, p->mime, 48);
        }
        fprintf(f, "</text><text class=\"value\" x=\"100%%\" y=\"%d\" "
                   "text-anchor=\"end\">%s file%s<tspan class=\"wide\"> "
                   "\xc2\xb7 %s</tspan></text>",
                y + 15, s1, p->files == 1 ? "" : "s", s2);
        fprintf(f, "<rect class=\"track\" x=\"0\" y=\"%d\" width=\"100%%\" "
                   "height=\"14\" rx=\"2\"/><rect class=\"bar\" x=\"0\" "
                   "y=\"%d\" width=\"%.3f%%\" height=\"14\" rx=\"2\"/></g>\n",
                y + 22, y + 22, w);
    }
    fputs("</svg>\n", f);
}

void rp_svg_coverage(const rp_model *m, FILE *f)
{
    const rp_coverage *c = &m->cov;
    /* Failures lead, in red: a failed object is not "within" or "overdue"
     * on the bar, whatever the age of its last audit. */
    uint64_t fw = c->failed_within <= c->within ? c->failed_within : c->within;
    uint64_t fo = c->last_failed >= fw ? c->last_failed - fw : 0;
    if (fo > c->overdue)
        fo = c->overdue;
    const struct {
        const char *cls, *label;
        uint64_t n;
    } parts[] = {
        {"failed", "failed their last audit", fw + fo},
        {"within", "audited within the interval and passed", c->within - fw},
        {"overdue", "overdue", c->overdue - fo},
        {"never", "never audited", c->never},
    };
    double x = 0;
    fputs("<svg class=\"chart coverage\" width=\"100%\" height=\"28\" "
          "role=\"img\" aria-labelledby=\"coverage-title\" "
          "xmlns=\"" SVG_NS "\">\n"
          "<title id=\"coverage-title\">Audit coverage</title>\n"
          "<rect class=\"track\" x=\"0\" y=\"0\" width=\"100%\" height=\"28\" "
          "rx=\"4\"/>\n", f);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && c->objects; i++) {
        double w = (double)parts[i].n * 100.0 / (double)c->objects;
        if (!parts[i].n)
            continue;
        fprintf(f, "<rect class=\"%s\" x=\"%.3f%%\" y=\"0\" width=\"%.3f%%\" "
                   "height=\"28\"><title>%llu %s</title></rect>\n",
                parts[i].cls, x, w, (unsigned long long)parts[i].n,
                parts[i].label);
        x += w;
    }
    fputs("</svg>\n", f);
}
