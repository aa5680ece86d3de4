/* The HTML report: one self-contained file (inline CSS and SVG, no scripts,
 * no fonts or images fetched) that opens offline, reads on a phone (tables
 * scroll sideways inside their own box) and prints cleanly.  Elements tests
 * and tools rely on have stable ids and classes: #status, #advice, #totals,
 * #formats, #coverage, #copies, #failures, #history-chart, #format-chart;
 * numbers carry their exact value in data-value. */
#include <string.h>

#include "report_private.h"

static const char css[] =
    ":root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;"
    "--ok:#116329;--ok-bg:#dafbe1;--warn:#7a4900;--warn-bg:#fff8c5;"
    "--bad:#a40e26;--bad-bg:#ffebe9;--bar:#0969da;--never:#8c959f}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
    "body{margin:0;color:var(--fg);background:#fff;font:16px/1.5 system-ui,"
    "-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"DejaVu Sans\","
    "Helvetica,Arial,sans-serif}\n"
    ".page{max-width:66rem;margin:0 auto;padding:1.5rem 1rem 2.5rem}\n"
    "header{border-bottom:3px solid var(--fg);padding-bottom:.75rem}\n"
    ".kicker{margin:0;font-size:.8rem;font-weight:600;letter-spacing:.08em;"
    "text-transform:uppercase;color:var(--muted)}\n"
    "h1{margin:.15rem 0 .25rem;font-size:1.8rem;line-height:1.2;"
    "overflow-wrap:anywhere}\n"
    ".meta{margin:0;color:var(--muted);font-size:.9rem}\n"
    ".meta span{white-space:nowrap}\n"
    "h2{margin:0 0 .75rem;font-size:1.3rem;line-height:1.3}\n"
    "h2 .count{color:var(--muted);font-weight:400}\n"
    "h3{margin:1.25rem 0 .5rem;font-size:1rem}\n"
    "section{margin:2.25rem 0}\n"
    "p{margin:.5rem 0}\n"
    ".note{color:var(--muted);font-size:.9rem}\n"
    ".status{margin:1.5rem 0;padding:1rem 1.25rem;border:2px solid;"
    "border-left-width:.5rem;border-radius:.5rem}\n"
    ".status .headline{margin:0;font-size:1.45rem;font-weight:700;"
    "line-height:1.3}\n"
    ".status p{margin:.35rem 0 0}\n"
    ".status.ok{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}\n"
    ".status.attention{color:var(--warn);background:var(--warn-bg);"
    "border-color:#bf8700}\n"
    ".status.failed{color:var(--bad);background:var(--bad-bg);"
    "border-color:var(--bad)}\n"
    ".status .detail{color:var(--fg)}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,"
    "minmax(9.5rem,1fr));gap:.75rem;margin:0}\n"
    ".card{margin:0;padding:.75rem 1rem;border:1px solid var(--line);"
    "border-radius:.5rem;background:var(--soft)}\n"
    ".card dt{color:var(--muted);font-size:.85rem}\n"
    ".card dd{margin:0;font-size:1.6rem;font-weight:700;line-height:1.25;"
    "font-variant-numeric:tabular-nums}\n"
    ".card dd small{display:block;font-size:.8rem;font-weight:400;"
    "color:var(--muted)}\n"
    ".card.within dd{color:var(--ok)}.card.overdue dd{color:var(--warn)}"
    ".card.failed dd{color:var(--bad)}\n"
    ".table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;"
    "border:1px solid var(--line);border-radius:.5rem;margin:.75rem 0}\n"
    "table{width:100%;border-collapse:collapse;font-size:.9rem}\n"
    "caption{text-align:left;padding:.5rem .6rem;font-weight:600}\n"
    "th,td{padding:.45rem .6rem;text-align:left;vertical-align:top;"
    "border-top:1px solid var(--line)}\n"
    "thead th{background:var(--soft);font-weight:600;white-space:nowrap}\n"
    ".num{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}\n"
    "td.id{min-width:8rem;overflow-wrap:anywhere}td.path{min-width:10rem;overflow-wrap:anywhere}\n"
    "td.puid{white-space:nowrap}\n"
    ".chart .narrow{display:none}\n"
    "code{font-family:ui-monospace,SFMono-Regular,\"DejaVu Sans Mono\","
    "Menlo,Consolas,monospace;font-size:.85em}\n"
    "code.digest{display:block;width:12.5rem;word-break:break-all;"
    "line-height:1.35}\n"
    "td.first-seen{min-width:7.5rem}\n"
    "td.first-seen time{display:block}\n"
    ".file{display:block;font-weight:600}\n"
    "tr.fail td{background:#fff5f5}\n"
    "tr.fail td:first-child{box-shadow:inset 4px 0 0 var(--bad)}\n"
    ".tag{display:inline-block;margin-top:.2rem;padding:0 .4rem;border-radius:1rem;"
    "font-size:.78rem;font-weight:600;white-space:nowrap}\n"
    ".tag.current{color:#fff;background:var(--bad)}\n"
    ".tag.past{color:var(--muted);border:1px solid var(--line)}\n"
    ".msg{display:block;color:var(--muted);font-size:.82rem}\n"
    ".advice ul{margin:.25rem 0;padding-left:1.25rem}"
    ".advice li{margin:.35rem 0}"
    "code.command{font-weight:600;white-space:nowrap;padding:0 .25rem;"
    "border-radius:.25rem;background:var(--soft)}\n"
    ".card.short dd,.card.behind dd{color:var(--warn)}\n"
    "ul.verified-counts{margin:.75rem 0;padding-left:1.25rem}\n"
    "figure{margin:1rem 0}\n"
    "figcaption{color:var(--muted);font-size:.85rem}\n"
    "svg.chart{display:block;width:100%;overflow:visible;font-size:12px}\n"
    ".chart text{fill:var(--muted)}\n"
    ".chart .grid{stroke:var(--line);stroke-width:1}\n"
    ".chart .axis{font-variant-numeric:tabular-nums;paint-order:stroke;"
    "stroke:#fff;stroke-width:3px}\n"
    ".chart .empty{font-size:14px}\n"
    ".history .bar{fill:var(--bar)}\n"
    ".history .fail .bar,.history .rug{fill:var(--bad)}\n"
    ".history .dot{fill:var(--fg);stroke:#fff;stroke-width:1.5}\n"
    ".formats{font-size:13px}\n"
    ".formats .label{fill:var(--fg);font-weight:600}\n"
    ".formats .track,.coverage .track{fill:var(--soft)}\n"
    ".formats .bar{fill:var(--bar)}\n"
    ".formats .other .bar,.formats .nopuid .bar{fill:var(--never)}\n"
    ".coverage .within{fill:var(--ok)}.coverage .overdue{fill:#d4a72c}"
    ".coverage .never{fill:var(--never)}.coverage .failed{fill:var(--bad)}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:.35rem 1.25rem;margin:.5rem 0 0;"
    "padding:0;list-style:none;color:var(--muted);font-size:.85rem}\n"
    ".swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.35rem;"
    "border-radius:2px;vertical-align:-.05rem}\n"
    ".swatch.bytes{background:var(--bar)}.swatch.fail{background:var(--bad)}"
    ".swatch.within{background:var(--ok)}.swatch.overdue{background:#d4a72c}"
    ".swatch.never{background:var(--never)}\n"
    ".swatch.dot{width:.6rem;height:.6rem;border-radius:50%;"
    "background:var(--fg)}\n"
    "details{margin:.75rem 0}summary{cursor:pointer;color:var(--bar)}\n"
    "footer{margin-top:3rem;padding-top:.75rem;border-top:1px solid "
    "var(--line);color:var(--muted);font-size:.82rem}\n"
    "@media (max-width:40rem){body{font-size:15px}.page{padding:1rem .75rem 2rem}"
    "h1{font-size:1.45rem}.status .headline{font-size:1.2rem}"
    ".card dd{font-size:1.3rem}.chart .wide{display:none}"
    ".chart .narrow{display:inline}"
    "code.digest{width:12rem}}\n"
    "@media print{body{font-size:10.5pt;background:none}"
    ".page{max-width:none;padding:0}"
    ".status,.card,thead th,tr.fail td{background:none!important}"
    ".table-wrap{overflow:visible;border:0}"
    "table,figure,.card,.status,tr{page-break-inside:avoid;break-inside:avoid}"
    "h2,h3{page-break-after:avoid;break-after:avoid}"
    "code.digest{width:auto;max-width:14rem}"
    "details>*{display:block}summary{display:none}"
    "svg.chart{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/* ---- escaping ------------------------------------------------------------------ */

/* Code point of the valid 2- or 3-byte UTF-8 sequence at s, or 0. */
static unsigned utf8_cp(const unsigned char *s, size_t left)
{
    if (left >= 2 && s[0] >= 0xC2 && s[0] <= 0xDF && (s[1] & 0xC0) == 0x80)
        return ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
    if (left >= 3 && s[0] >= 0xE0 && s[0] <= 0xEF &&
        vl_utf8_valid((const char *)s, 3))
        return ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    return 0;
}

/* Object ids and file names are whatever depositors gave: escape markup,
 * and show what is not text (control characters, bytes that are not UTF-8,
 * and bidirectional overrides, which could make one name look like
 * another: vl_utf8_printable's list) as visible \xNN / \uXXXX escapes. */
void rp_html_text(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p);
    while (*p) {
        size_t n = vl_utf8_printable((const char *)p, left);
        if (n == 0) {
            unsigned cp = utf8_cp(p, left);
            if (cp) {
                fprintf(f, "\\u%04X", cp);
                n = cp < 0x800 ? 2 : 3;
            } else {
                fprintf(f, "\\x%02X", *p);
                n = 1;
            }
            p += n;
            left -= n;
            continue;
        }
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fwrite(p, 1, n, f);
        }
        p += n;
        left -= n;
    }
}

/* ---- pieces ---------------------------------------------------------------------- */

static void card(FILE *f, const char *cls, const char *label, uint64_t v,
                 const char *sub)
{
    char n[32];
    rp_count(v, n);
    fprintf(f, "<div class=\"card %s\"><dt>%s</dt><dd data-value=\"%llu\">%s",
            cls, label, (unsigned long long)v, n);
    if (sub)
        fprintf(f, "<small>%s</small>", sub);
    fputs("</dd></div>\n", f);
}

static void size_card(FILE *f, const char *cls, const char *label, uint64_t v)
{
    char s[32], n[32], sub[64];
    rp_size(v, s);
    rp_count(v, n);
    snprintf(sub, sizeof sub, "%s bytes", n);
    fprintf(f, "<div class=\"card %s\"><dt>%s</dt><dd data-value=\"%llu\">%s"
               "<small>%s</small></dd></div>\n",
            cls, label, (unsigned long long)v, s, sub);
}

static void num_cell(FILE *f, uint64_t v)
{
    char n[32];
    rp_count(v, n);
    fprintf(f, "<td class=\"num\" data-value=\"%llu\">%s</td>",
            (unsigned long long)v, n);
}

static void size_cell(FILE *f, uint64_t v)
{
    char s[32];
    rp_size(v, s);
    fprintf(f, "<td class=\"num\" data-value=\"%llu\">%s</td>",
            (unsigned long long)v, s);
}

static void text_cell(FILE *f, const char *cls, const char *s,
                      const char *none)
{
    fprintf(f, "<td class=\"%s\">", cls);
    if (s && *s)
        rp_html_text(f, s);
    else
        fprintf(f, "<span class=\"note\">%s</span>", none);
    fputs("</td>", f);
}

static void digest_cell(FILE *f, const char *cls, const char *d)
{
    fprintf(f, "<td class=\"%s\">", cls);
    if (d && *d) {
        fputs("<code class=\"digest\">", f);
        rp_html_text(f, d);
        fputs("</code>", f);
    } else {
        fputs("<span class=\"note\">\xe2\x80\x94</span>", f);
    }
    fputs("</td>", f);
}

/* "2026-04-03T10:00:00Z" -> "2026-04-03 10:00 UTC" for people. */
static void when(FILE *f, const char *t)
{
    if (!t || strlen(t) < 16) {
        rp_html_text(f, t ? t : "");
        return;
    }
    fprintf(f, "<time datetime=\"");
    rp_html_text(f, t);
    fprintf(f, "\">%.10s %.5s UTC</time>", t, t + 11);
}

/* ---- sections -------------------------------------------------------------------- */

static void write_head(const rp_model *m, FILE *f)
{
    const char *name = vl_path_basename(m->repo_dir);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, "
          "initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"vellum " VL_VERSION "\">\n"
          "<meta name=\"color-scheme\" content=\"light\">\n<title>", f);
    fputs("Preservation report \xe2\x80\x94 ", f);
    rp_html_text(f, name && *name ? name : m->repo_dir);
    fprintf(f, " \xe2\x80\x94 %.10s</title>\n<style>\n%s</style>\n</head>\n"
               "<body>\n<div class=\"page\">\n<header>\n"
               "<p class=\"kicker\">vellum preservation report</p>\n<h1>",
            m->generated, css);
    rp_html_text(f, name && *name ? name : m->repo_dir);
    fputs("</h1>\n<p class=\"meta\"><span>Repository <code>", f);
    rp_html_text(f, m->repo_dir);
    fputs("</code></span> \xc2\xb7 <span>generated ", f);
    when(f, m->generated);
    fputs("</span> \xc2\xb7 <span>", f);
    if (m->since[0]) {
        fputs("audits since ", f);
        when(f, m->since);
    } else {
        fputs("all audits", f);
    }
    fputs("</span></p>\n</header>\n<main>\n", f);
}

static void write_status(const rp_model *m, FILE *f)
{
    char headline[256], a[32], b[32];
    int kind = rp_headline(m, headline, sizeof headline);
    const rp_coverage *c = &m->cov;
    fprintf(f, "<section id=\"status\" class=\"status %s\" "
               "data-failed-objects=\"%llu\">\n<p class=\"headline\">%s</p>\n",
            kind == 2 ? "failed" : kind == 1 ? "attention" : "ok",
            (unsigned long long)c->last_failed, headline);
    fputs("<p class=\"detail\">", f);
    if (c->last_failed) {
        rp_count(m->failure_current, a);
        fprintf(f, "%s problem%s found by the latest audits %s listed under "
                   "<a href=\"#failures\">Fixity failures</a>: %s ",
                a, m->failure_current == 1 ? "" : "s",
                m->failure_current == 1 ? "is" : "are",
                m->ncopies > 1
                    ? "repair them from a verified replica (<a href=\"#advice\">"
                      "What to do</a>) and audit again."
                    : "restore the files from a backup and audit again; with "
                      "a replica, vellum repairs them itself (<a "
                      "href=\"#advice\">What to do</a>).");
    }
    rp_count(c->within, a);
    rp_count(c->objects, b);
    fprintf(f, "%s of %s object%s audited in the last %d days", a, b,
            c->objects == 1 ? "" : "s", m->interval_days);
    if (c->overdue || c->never) {
        char o[32], n[32];
        rp_count(c->overdue, o);
        rp_count(c->never, n);
        fprintf(f, "; %s overdue, %s never audited", o, n);
    }
    fputs(".</p>\n</section>\n", f);
}

static void write_totals(const rp_model *m, FILE *f)
{
    const vl_report_totals *t = &m->totals;
    char sub[96], n[32];
    fputs("<section id=\"totals\">\n<h2>Holdings</h2>\n<dl class=\"cards\">\n",
          f);
    card(f, "objects", "Objects", t->objects, NULL);
    card(f, "versions", "Versions", t->versions, NULL);
    rp_count(t->metadata_files, n);
    snprintf(sub, sizeof sub, "deposited, in the current versions (+ %s METS.xml)", n);
    card(f, "files", "Files", t->files, sub);
    size_card(f, "bytes", "Size", t->bytes);
    rp_count(t->stored_files, n);
    snprintf(sub, sizeof sub, "%s content files, all versions", n);
    char s[32];
    rp_size(t->stored_bytes, s);
    fprintf(f, "<div class=\"card stored\"><dt>Stored</dt><dd data-value=\"%llu\">"
               "%s<small>%s</small></dd></div>\n",
            (unsigned long long)t->stored_bytes, s, sub);
    fputs("</dl>\n<p class=\"note\">Files and size count the current (head) "
          "version of each object. Stored counts each distinct content file "
          "once per object, across every version.</p>\n</section>\n", f);
}

typedef struct html_fail {
    FILE *f;
} html_fail;

static int on_failure_row(void *arg, const vl_report_failure *x)
{
    FILE *f = ((html_fail *)arg)->f;
    int digests = (x->expected && *x->expected) || (x->actual && *x->actual);
    fprintf(f, "<tr class=\"%s\">", x->current ? "fail current" : "past");
    text_cell(f, "id", x->object_id, "");
    /* The file by its logical name, with the stored path underneath. */
    fputs("<td class=\"path\">", f);
    if (x->logical && *x->logical) {
        fputs("<span class=\"file\">", f);
        rp_html_text(f, x->logical);
        fputs("</span><span class=\"msg\">stored as <code>", f);
        rp_html_text(f, x->path);
        fputs("</code></span>", f);
    } else if (x->path && *x->path) {
        fputs("<span class=\"file\">", f);
        rp_html_text(f, x->path);
        fputs("</span>", f);
    } else {
        fputs("<span class=\"note\">(whole object)</span>", f);
    }
    fputs("</td><td class=\"kind\">", f);
    rp_html_text(f, x->kind ? x->kind : "failed");
    if (x->code && *x->code) {
        fputs(" <code>", f);
        rp_html_text(f, x->code);
        fputs("</code>", f);
    }
    if (x->algorithm && *x->algorithm) {
        fputs("<span class=\"msg\">", f);
        rp_html_text(f, x->algorithm);
        fputs("</span>", f);
    }
    /* The digests speak for themselves; other problems need the words. */
    if (!digests && x->message && *x->message) {
        fputs("<span class=\"msg\">", f);
        rp_html_text(f, x->message);
        fputs("</span>", f);
    }
    fputs("</td>", f);
    digest_cell(f, "expected", x->expected);
    digest_cell(f, "actual", x->actual);
    fputs("<td class=\"first-seen\">", f);
    when(f, x->first_seen);
    if (x->current) {
        fputs("<span class=\"tag current\">still failing</span>", f);
    } else {
        fputs("<span class=\"tag past\">last seen</span> ", f);
        when(f, x->last_seen);
    }
    fputs("</td></tr>\n", f);
    return ferror(f) ? VL_ESYS : 0;
}

static int write_failures(const rp_model *m, FILE *f, vl_error *err)
{
    html_fail hf = {f};
    char n[32], o[32];
    rp_count(m->failure_rows, n);
    rp_count(m->failure_objects, o);
    fprintf(f, "<section id=\"failures\" data-count=\"%llu\">\n"
               "<h2>Fixity failures <span class=\"count\">(%s)</span></h2>\n",
            (unsigned long long)m->failure_rows, n);
    if (m->failure_rows == 0) {
        fputs("<p class=\"none\">No fixity failures were found", f);
        if (m->since[0]) {
            fputs(" since ", f);
            when(f, m->since);
        }
        fputs(".</p>\n</section>\n", f);
        return VL_OK;
    }
    fprintf(f, "<p>%s problem%s in %s object%s. <em>Expected</em> is the "
               "digest recorded in the object's inventory; <em>actual</em> is "
               "what the audit computed from the stored file.</p>\n",
            n, m->failure_rows == 1 ? "" : "s", o,
            m->failure_objects == 1 ? "" : "s");
    fputs("<div class=\"table-wrap\"><table>\n<thead><tr><th>Object</th>"
          "<th>File</th><th>Problem</th><th>Expected digest</th>"
          "<th>Actual digest</th><th>First seen</th></tr>"
          "</thead>\n<tbody>\n", f);
    int rc = rp_failures(m, on_failure_row, &hf, err);
    fputs("</tbody></table></div>\n</section>\n", f);
    return rc;
}

static void write_coverage(const rp_model *m, FILE *f)
{
    const rp_coverage *c = &m->cov;
    fprintf(f, "<section id=\"coverage\">\n<h2>Audit coverage</h2>\n"
               "<p>An object is due for audit when its last audit is more than "
               "%d days old (<code>audit.interval_days</code>).</p>\n",
            m->interval_days);
    fputs("<figure id=\"coverage-chart\">\n", f);
    rp_svg_coverage(m, f);
    /* Red only when something failed: a report with no failure has no
     * alarm colour anywhere. */
    fputs("<ul class=\"legend\">", f);
    if (c->last_failed)
        fputs("<li><span class=\"swatch fail\"></span>failed last audit</li>", f);
    fputs("<li><span class=\"swatch within\"></span>"
          "within interval</li><li><span class=\"swatch overdue\"></span>"
          "overdue</li><li><span class=\"swatch never\"></span>never audited"
          "</li></ul>\n</figure>\n<dl class=\"cards\">\n", f);
    card(f, "within", "Audited within interval", c->within, NULL);
    card(f, "overdue", "Overdue", c->overdue, NULL);
    card(f, "never", "Never audited", c->never, NULL);
    card(f, c->last_failed ? "failed" : "passed", "Failed last audit",
         c->last_failed, NULL);
    fputs("</dl>\n", f);
    if (m->ndue) {
        fprintf(f, "<h3>Due for audit%s</h3>\n<div class=\"table-wrap\"><table "
                   "class=\"due\">\n<thead><tr><th>Object</th><th>Last audit</th>"
                   "</tr></thead>\n<tbody>\n",
                c->overdue + c->never > m->ndue ? " (longest waiting first)"
                                                : "");
        for (size_t i = 0; i < m->ndue; i++) {
            fputs("<tr>", f);
            text_cell(f, "id", m->due[i].id, "");
            fputs("<td>", f);
            if (m->due[i].last)
                when(f, m->due[i].last);
            else
                fputs("never", f);
            fputs("</td></tr>\n", f);
        }
        fputs("</tbody></table></div>\n", f);
        if (c->overdue + c->never > m->ndue)
            fprintf(f, "<p class=\"note\">%llu more not shown; "
                       "<code>vellum audit --due</code> works through all of "
                       "them.</p>\n",
                    (unsigned long long)(c->overdue + c->never - m->ndue));
    }
    fputs("</section>\n", f);
}

/* What to do: each line names the command to run. */
static void write_advice(const rp_model *m, FILE *f)
{
    if (!m->nadvice)
        return;
    fprintf(f, "<section id=\"advice\" class=\"advice\" data-count=\"%zu\">\n"
               "<h2>What to do</h2>\n<ul>\n", m->nadvice);
    for (size_t i = 0; i < m->nadvice; i++) {
        fputs("<li><code class=\"command\">", f);
        rp_html_text(f, m->advice[i].command);
        fputs("</code> \xe2\x80\x94 ", f);
        rp_html_text(f, m->advice[i].reason);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n</section>\n", f);
}

static void names_cell(FILE *f, const char *names)
{
    text_cell(f, "copies", names, "\xe2\x80\x94");
}

static void write_copies(const rp_model *m, FILE *f)
{
    size_t replicas = m->ncopies ? m->ncopies - 1 : 0;
    char text[96], k[32], sub[64];
    fprintf(f, "<section id=\"copies\" data-copies=\"%zu\" "
               "data-min-copies=\"%d\" data-short=\"%llu\" "
               "data-failed=\"%llu\" data-behind=\"%llu\">\n"
               "<h2>Copies</h2>\n",
            m->ncopies, m->min_copies, (unsigned long long)m->short_copies,
            (unsigned long long)m->failed_copy,
            (unsigned long long)m->behind_copy);
    if (!replicas)
        fputs("<p>Each object has one copy, in the repository's store: no "
              "replica holds another, so nothing can repair a damaged "
              "file.</p>\n", f);
    else
        fprintf(f, "<p>Each object has %zu copies: the primary store and %zu "
                   "replica%s.</p>\n", m->ncopies, replicas,
                replicas == 1 ? "" : "s");
    fprintf(f, "<p class=\"note\">A copy is verified when its last audit "
               "passed within the last %d days and it holds the object's "
               "current version. Each object should have %d verified "
               "cop%s (<code>replicate.min_copies</code>).</p>\n",
            m->interval_days, m->min_copies, m->min_copies == 1 ? "y" : "ies");
    fputs("<dl class=\"cards\">\n", f);
    card(f, "all", "All copies verified", m->all_verified, NULL);
    snprintf(sub, sizeof sub, "fewer than %d verified", m->min_copies);
    card(f, "short", "Short of copies", m->short_copies, sub);
    card(f, m->failed_copy ? "failed" : "passed", "A copy failed its audit",
         m->failed_copy, NULL);
    card(f, "behind", "A replica missing or behind", m->behind_copy, NULL);
    card(f, "repairs", "Repairs made", m->repairs_made,
         m->since[0] ? "since the report's start" : "all time");
    card(f, m->repairs_failed ? "failed" : "passed", "Repairs failed",
         m->repairs_failed, NULL);
    fputs("</dl>\n<ul class=\"verified-counts\">\n", f);
    for (size_t v = m->ncopies + 1; v-- > 0;) {
        if (!m->by_verified[v])
            continue;
        rp_count(m->by_verified[v], k);
        rp_copies_text(m, v, m->ncopies, text, sizeof text);
        fprintf(f, "<li data-verified=\"%zu\" data-objects=\"%llu\">%s "
                   "object%s: %s</li>\n", v,
                (unsigned long long)m->by_verified[v], k,
                m->by_verified[v] == 1 ? "" : "s", text);
    }
    fputs("</ul>\n", f);
    fputs("<div class=\"table-wrap\"><table class=\"copy-list\">\n<thead><tr>"
          "<th>Copy</th><th>Location</th><th class=\"num\">Verified</th>"
          "<th class=\"num\">Audited in interval</th><th class=\"num\">Failed"
          "</th><th class=\"num\">Never audited</th><th class=\"num\">Missing "
          "or behind</th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < m->ncopies; i++) {
        const rp_copy *p = &m->copies[i];
        fprintf(f, "<tr class=\"%s\">", i ? "replica" : "primary");
        text_cell(f, "copy", p->name, "");
        text_cell(f, "path", p->location, "");
        num_cell(f, p->verified);
        num_cell(f, p->within);
        num_cell(f, p->failed);
        num_cell(f, p->never);
        num_cell(f, p->behind);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table></div>\n", f);
    if (m->nattention) {
        fputs("<h3>Objects short of verified copies</h3>\n<div "
              "class=\"table-wrap\"><table class=\"copy-attention\">\n"
              "<thead><tr><th>Object</th><th>Copies</th><th>Failed audit</th>"
              "<th>Missing or behind</th><th>Not verified lately</th></tr>"
              "</thead>\n<tbody>\n", f);
        for (size_t i = 0; i < m->nattention; i++) {
            const rp_attention *a = &m->attention[i];
            rp_copies_text(m, a->verified, a->ncopies, text, sizeof text);
            fprintf(f, "<tr%s>", a->failed ? " class=\"fail\"" : "");
            text_cell(f, "id", a->id, "");
            fprintf(f, "<td class=\"verified\" data-value=\"%zu\">%s</td>",
                    a->verified, text);
            names_cell(f, a->failed);
            names_cell(f, a->behind);
            names_cell(f, a->unverified);
            fputs("</tr>\n", f);
        }
        fputs("</tbody></table></div>\n", f);
        if (m->attention_total > m->nattention)
            fprintf(f, "<p class=\"note\">%llu more not shown (the report's "
                       "JSON and CSV list every object's copies).</p>\n",
                    (unsigned long long)(m->attention_total - m->nattention));
    }
    fputs("</section>\n", f);
}

static void write_history(const rp_model *m, FILE *f)
{
    uint64_t audits = 0, bytes = 0, fails = 0, fail_days = 0;
    char a[32], b[32];
    for (size_t i = 0; i < m->ndays; i++) {
        audits += m->days[i].objects;
        bytes += m->days[i].bytes;
        fails += m->days[i].failures;
        fail_days += m->days[i].failures > 0;
    }
    fputs("<section id=\"history\">\n<h2>Audit history</h2>\n", f);
    rp_count(audits, a);
    rp_size(bytes, b);
    if (m->ndays == 0) {
        fputs("<p>No audits recorded", f);
        if (m->since[0]) {
            fputs(" since ", f);
            when(f, m->since);
        }
        fputs(".", f);
    } else {
        fprintf(f, "<p>%s object audit%s read %s on %zu day%s", a,
                audits == 1 ? "" : "s", b, m->ndays, m->ndays == 1 ? "" : "s");
        if (fails)
            fprintf(f, "; %llu failed, on %llu day%s (in red)",
                    (unsigned long long)fails, (unsigned long long)fail_days,
                    fail_days == 1 ? "" : "s");
        fputs(".", f);
    }
    fputs("</p>\n<figure id=\"history-chart\">\n", f);
    rp_svg_history(m, f);
    /* Red appears only when something failed, in the legend too. */
    fprintf(f, "<ul class=\"legend\"><li><span class=\"swatch bytes\"></span>"
               "bytes audited</li><li><span class=\"swatch dot\"></span>"
               "objects audited</li>%s</ul>\n</figure>\n",
            fails ? "<li><span class=\"swatch fail\"></span>day with a "
                    "failure</li>"
                  : "");
    if (m->ndays) {
        fputs("<details><summary>Audits per day</summary>\n<div "
              "class=\"table-wrap\"><table class=\"days\">\n<thead><tr><th>Date"
              "</th><th class=\"num\">Objects</th><th class=\"num\">Files</th>"
              "<th class=\"num\">Bytes</th><th class=\"num\">Failed</th></tr>"
              "</thead>\n<tbody>\n", f);
        /* Newest first: that is what a curator looks for. */
        for (size_t i = m->ndays; i-- > 0;) {
            const rp_day *d = &m->days[i];
            fprintf(f, "<tr%s><td>%s</td>", d->failures ? " class=\"fail\"" : "",
                    d->date);
            num_cell(f, d->objects);
            num_cell(f, d->files);
            size_cell(f, d->bytes);
            num_cell(f, d->failures);
            fputs("</tr>\n", f);
        }
        fputs("</tbody></table></div>\n</details>\n", f);
    }
    fputs("</section>\n", f);
}

static void write_formats(const rp_model *m, FILE *f)
{
    fprintf(f, "<section id=\"formats\" data-kinds=\"%zu\">\n<h2>Formats "
               "<span class=\"count\">(%zu)</span></h2>\n"
               "<p>Files in the current versions by PRONOM format (PUID) and "
               "MIME type%s.</p>\n<figure id=\"format-chart\">\n",
            m->format_kinds, m->format_kinds,
            m->format_kinds > RP_MAX_FORMATS ? "; the least common are summed "
                                               "as other"
                                             : "");
    rp_svg_formats(m, f);
    fputs("</figure>\n", f);
    if (m->nformats == 0) {
        fputs("</section>\n", f);
        return;
    }
    fputs("<div class=\"table-wrap\"><table>\n<thead><tr><th>PUID</th>"
          "<th>Format</th><th>MIME type</th><th class=\"num\">Files</th>"
          "<th class=\"num\">Bytes</th><th class=\"num\">Share</th></tr>"
          "</thead>\n<tbody>\n", f);
    for (size_t i = 0; i < m->nformats; i++) {
        const rp_format *p = &m->formats[i];
        double share = m->totals.files ? 100.0 * (double)p->files /
                                             (double)m->totals.files
                                       : 0;
        fprintf(f, "<tr class=\"%s\">", p->other_kinds ? "other" : "format");
        if (p->other_kinds) {
            fprintf(f, "<td></td><td>Other (%zu formats)</td><td></td>",
                    p->other_kinds);
        } else {
            text_cell(f, "puid", p->puid, "\xe2\x80\x94");
            fputs("<td class=\"name\">", f);
            if (p->name) {
                rp_html_text(f, p->name);
                if (p->version) {
                    fputc(' ', f);
                    rp_html_text(f, p->version);
                }
            } else {
                fputs("<span class=\"note\">not identified</span>", f);
            }
            fputs("</td>", f);
            text_cell(f, "mime", p->mime, "unknown");
        }
        num_cell(f, p->files);
        size_cell(f, p->bytes);
        fprintf(f, "<td class=\"num\">%.1f%%</td></tr>\n", share);
    }
    fputs("</tbody></table></div>\n</section>\n", f);
}

int rp_write_html(const rp_model *m, FILE *f, vl_error *err)
{
    int rc;
    write_head(m, f);
    write_status(m, f);
    write_advice(m, f);
    write_totals(m, f);
    rc = write_failures(m, f, err);
    if (rc != VL_OK)
        goto done;
    write_coverage(m, f);
    write_copies(m, f);
    write_history(m, f);
    write_formats(m, f);
    fprintf(f, "</main>\n<footer>\n<p>Written by vellum " VL_VERSION " from "
               "the repository catalog. The store is OCFL 1.1; every figure "
               "can be rebuilt from it with <code>vellum reindex</code>. "
               "Audits recompute every digest of every stored file "
               "(<code>vellum audit</code>).</p>\n</footer>\n</div>\n</body>\n"
               "</html>\n");
done:
    return rc;
}
