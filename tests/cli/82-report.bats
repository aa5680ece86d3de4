#!/usr/bin/env bats
# vellum report: JSON numbers checked exactly, CSV read back with python3's
# csv module, and the HTML opened in headless Chromium (Debian's chromium
# package): screenshots at desktop and phone width must be real, non-blank
# PNGs, and the page's elements are checked in the DOM Chromium built.

load helpers

setup() {
    setup_repo
    export VELLUM_NOW=2026-03-01T10:00:00Z
    F="$BATS_TEST_TMPDIR/formats"
    python3 "$VELLUM_TESTS/fixtures/formats/make-formats" "$F" >/dev/null
    A="$BATS_TEST_TMPDIR/a" B="$BATS_TEST_TMPDIR/b" C="$BATS_TEST_TMPDIR/c"
    mkdir -p "$A" "$B" "$C"
    cp "$F/image.png" "$F/doc14.pdf" "$F/notes.txt" "$A/"
    cp "$F/table.csv" "$F/letter.docx" "$B/"
    printf 'hello\n' > "$B/hello.txt"
    cp "$F/book.epub" "$F/image.png" "$C/"
    "$VELLUM" ingest "$A" --id urn:t:a --message first >/dev/null
    "$VELLUM" ingest "$B" --id urn:t:b >/dev/null
    # user data that must be escaped in HTML
    ODD='urn:t:<b>&"x"</b><script>alert(1)</script>'
    "$VELLUM" ingest "$C" --id "$ODD" >/dev/null
    printf 'more\n' > "$A/more.txt"
    "$VELLUM" ingest "$A" --id urn:t:a --message second >/dev/null
    H="$BATS_TEST_TMPDIR/report.html"
}

# Headless Chromium; a missing browser is a failure, never a skip.
chrome() {
    command -v chromium >/dev/null || {
        echo "chromium is not installed: run tools/install-deps (Debian package 'chromium')" >&2
        return 1
    }
    local prof
    prof=$(mktemp -d "$BATS_TEST_TMPDIR/chrome.XXXXXX")
    # The bound only stops a hung browser; a loaded machine stays well inside.
    timeout 600 chromium --headless --no-sandbox --disable-gpu \
        --disable-dev-shm-usage --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --user-data-dir="$prof" "$@" \
        2>"$prof.log"
}

# "WIDTH HEIGHT DARK RED" of a PNG, decoded with zlib alone (no PIL):
# chunks (CRCs checked), IDAT inflated, rows unfiltered (filters 0-4);
# DARK counts colour bytes that are not near-white, RED samples pixels of
# the report's failure red.
png_stats() {
    python3 - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, ihdr = 8, b"", None
while pos < len(data):
    n, t = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    assert zlib.crc32(t + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0], "bad CRC"
    if t == b"IHDR":
        ihdr = struct.unpack(">IIBBBBB", body)
    elif t == b"IDAT":
        idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = ihdr
assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
assert len(raw) == h * (stride + 1), "short image data"
prev = bytes(stride)
light = bytes(range(245, 256))
dark = red = 0
for y in range(h):
    f = raw[y * (stride + 1)]
    cur = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
    if f == 2:
        line = bytes([(a + b) & 255 for a, b in zip(cur, prev)])
    elif f != 0:
        line = bytearray(cur)
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
                continue
            b = prev[i]
            if f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
                continue
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        line = bytes(line)
    else:
        line = cur
    dark += len(line.translate(None, light))   # at C speed
    if y % 2 == 0:                             # every other row and pixel
        for x in range(0, stride, bpp * 2):
            if line[x] > 140 and line[x + 1] < 50 and line[x + 2] < 70:
                red += 1
    prev = line
print(w, h, dark, red)
EOF
}

# The DOM Chromium built, summarised as JSON: ids present, for each svg the
# id of the nearest ancestor with one, the text of each section, and the
# data-value of each card in #totals and #coverage.
dom_summary() {
    chrome --dump-dom "file://$1" | python3 -c '
import json, sys
from html.parser import HTMLParser
VOID = {"meta", "link", "br", "img", "input", "hr", "col", "wbr", "source"}
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.ids = []; s.svg = []; s.text = {}
        s.cards = {}; s.tags = []
    def handle_starttag(s, tag, attrs):
        a = dict(attrs); s.tags.append(tag)
        if tag == "svg":
            s.svg.append(next((i for t, i, c in reversed(s.stack) if i), None))
        if a.get("id"): s.ids.append(a["id"])
        sec = next((i for t, i, c in reversed(s.stack) if i in ("totals", "coverage")), None)
        if tag == "dd" and sec and "data-value" in a:
            cls = next((c for t, i, c in reversed(s.stack) if "card" in c.split()), "")
            s.cards[sec + "." + cls.split()[-1]] = int(a["data-value"])
        if tag not in VOID:
            s.stack.append((tag, a.get("id"), a.get("class") or ""))
    def handle_endtag(s, tag):
        while s.stack:
            if s.stack.pop()[0] == tag: break
    def handle_data(s, d):
        for t, i, c in s.stack:
            if i: s.text[i] = s.text.get(i, "") + d
p = P(); p.feed(sys.stdin.read())
print(json.dumps({"ids": p.ids, "svg": p.svg, "text": p.text, "cards": p.cards,
                  "scripts": p.tags.count("script"), "imgs": p.tags.count("img")}))'
}

# Audit everything once (pass), damage one stored file, audit twice more.
audit_and_damage() {
    VELLUM_NOW=2026-03-02T09:00:00Z run "$VELLUM" audit --all
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    local d
    d=$(object_dir urn:t:a)
    DAMAGED="$d/v1/content/data/notes.txt"
    GOOD_SUM=$(sha512sum "$DAMAGED" | cut -d' ' -f1)
    chmod u+w "$DAMAGED"
    printf 'bit rot\n' >> "$DAMAGED"
    BAD_SUM=$(sha512sum "$DAMAGED" | cut -d' ' -f1)
    VELLUM_NOW=2026-03-04T09:00:00Z run "$VELLUM" audit --all
    [ "$status" -eq 1 ] || { echo "$output"; return 1; }
    VELLUM_NOW=2026-03-05T09:00:00Z run "$VELLUM" audit --all
    [ "$status" -eq 1 ]
}

@test "report --format json: totals and format counts exact" {
    run "$VELLUM" report --format json
    [ "$status" -eq 0 ]
    J="$output"
    ls_json=$("$VELLUM" ls --json)
    files=$(echo "$ls_json" | jfield 'sum(o["files"] for o in d)')
    bytes=$(echo "$ls_json" | jfield 'sum(o["bytes"] for o in d)')
    [ "$(echo "$J" | jfield 'd["totals"]["objects"], d["totals"]["versions"]')" = "3 4" ]
    [ "$(echo "$J" | jfield 'd["totals"]["files"]')" = "$files" ]
    [ "$(echo "$J" | jfield 'd["totals"]["bytes"]')" = "$bytes" ]
    # deposited files: 4 + 3 + 2; each object's METS.xml counted apart
    [ "$files" -eq 9 ]
    [ "$(echo "$J" | jfield 'd["totals"]["metadata_files"]')" = 3 ]
    png=$(stat -c %s "$F/image.png")
    fmt() { echo "$J" | jfield "[(f['files'], f['bytes']) for f in d['formats'] if f['puid'] == '$1']"; }
    [ "$(fmt fmt/11)" = "[(2, $((2 * png)))]" ]
    [ "$(fmt fmt/18)" = "[(1, $(stat -c %s "$F/doc14.pdf"))]" ]
    [ "$(fmt x-fmt/111)" = "[(3, $(( $(stat -c %s "$F/notes.txt") + 6 + 5 )))]" ]
    [ "$(fmt x-fmt/18)" = "[(1, $(stat -c %s "$F/table.csv"))]" ]
    [ "$(fmt fmt/412)" = "[(1, $(stat -c %s "$F/letter.docx"))]" ]
    [ "$(fmt fmt/483)" = "[(1, $(stat -c %s "$F/book.epub"))]" ]
    # every head file is in exactly one format row
    [ "$(echo "$J" | jfield 'sum(f["files"] for f in d["formats"]), sum(f["bytes"] for f in d["formats"])')" = "$files $bytes" ]
    [ "$(echo "$J" | jfield 'd["formats"][0]["files"] >= d["formats"][-1]["files"]')" = "True" ]
    # no audits yet
    [ "$(echo "$J" | jfield 'd["coverage"]["never"], d["coverage"]["within"], d["coverage"]["interval_days"], len(d["failures"]), d["history"]')" = "3 0 90 0 []" ]
    [ "$(echo "$J" | jfield 'd["status"]["level"], d["status"]["headline"]')" = "attention None of the 3 objects has been audited yet" ]
    [ "$(echo "$J" | jfield 'len(d["due"]), d["due"][0]["last_audit"]')" = "3 None" ]
    # copies: no replica, so one copy each, never verified; the advice
    # names the command that adds one
    [ "$(echo "$J" | jfield 'd["copies"]["copies_per_object"], d["copies"]["min_copies"], d["copies"]["short"], d["copies"]["all_verified"]')" = "1 1 3 0" ]
    [ "$(echo "$J" | jfield '[o["summary"] for o in d["object_copies"]]')" = \
      "['0 of 1 copy verified in the last 90 days', '0 of 1 copy verified in the last 90 days', '0 of 1 copy verified in the last 90 days']" ]
    [ "$(echo "$J" | jfield '[a["command"] for a in d["advice"]]')" = "['vellum replica add NAME DIR']" ]
    [ "$(echo "$J" | jfield 'd["repairs"]["made"], d["repairs"]["failed"]')" = "0 0" ]
}

@test "report: audit coverage, history and each failure with both digests" {
    audit_and_damage
    export VELLUM_NOW=2026-03-06T09:00:00Z
    run "$VELLUM" report --json
    [ "$status" -eq 0 ]
    J="$output"
    [ "$(echo "$J" | jfield 'd["coverage"]["within"], d["coverage"]["never"], d["coverage"]["last_failed"], d["coverage"]["last_passed"]')" = "3 0 1 2" ]
    [ "$(echo "$J" | jfield 'd["status"]["headline"]')" = "1 object FAILED fixity" ]
    # per day: objects audited and failed audits
    [ "$(echo "$J" | jfield '[(h["date"], h["objects"], h["failures"]) for h in d["history"]]')" = "[('2026-03-02', 3, 0), ('2026-03-04', 3, 1), ('2026-03-05', 3, 1)]" ]
    [ "$(echo "$J" | jfield 'all(h["bytes"] > 0 for h in d["history"])')" = "True" ]
    # the digest failure: listed once, first seen at the first failing audit
    dig=$(echo "$J" | jfield '[(f["object"], f["logical_path"], f["path"], f["expected"], f["actual"], f["first_seen"], f["last_seen"], f["current"]) for f in d["failures"] if f["kind"] == "digest"]')
    [ "$dig" = "[('urn:t:a', 'data/notes.txt', 'v1/content/data/notes.txt', '$GOOD_SUM', '$BAD_SUM', '2026-03-04T09:00:00Z', '2026-03-05T09:00:00Z', True)]" ]
    # --since after the failures began: history shrinks, failures stay
    run "$VELLUM" report --json --since 2026-03-05
    [ "$(echo "$output" | jfield '[h["date"] for h in d["history"]], d["since"]')" = "['2026-03-05'] 2026-03-05T00:00:00Z" ]
    [ "$(echo "$output" | jfield '[f["first_seen"] for f in d["failures"] if f["kind"] == "digest"]')" = "['2026-03-04T09:00:00Z']" ]
}

@test "report --format csv: one RFC 4180 table a file that python's csv reads" {
    audit_and_damage
    out="$BATS_TEST_TMPDIR/csv/"
    run "$VELLUM" report --format csv --out "$out"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    J=$("$VELLUM" report --format json)
    echo "$J" > "$BATS_TEST_TMPDIR/r.json"
    run python3 - "$out" "$BATS_TEST_TMPDIR/r.json" <<'EOF'
import csv, json, os, sys
names = ["totals", "formats", "coverage", "history", "failures",
         "copies", "object_copies", "replication", "advice"]
assert sorted(os.listdir(sys.argv[1])) == sorted(n + ".csv" for n in names), os.listdir(sys.argv[1])
sections = {}
for n in names:
    p = os.path.join(sys.argv[1], n + ".csv")
    raw = open(p, newline="").read()
    assert "\r\n" in raw and "\n" not in raw.replace("\r\n", ""), "lines must end CRLF"
    sections[n] = list(csv.reader(open(p, newline="")))
    assert all(sections[n]), n   # no blank rows: one table
j = json.load(open(sys.argv[2]))
for name, body in sections.items():
    head = body[0]
    assert all(len(r) == len(head) for r in body), name
tot = {k: int(v) for k, v in sections["totals"][1:]}
assert tot == j["totals"], (tot, j["totals"])
fm = sections["formats"]
assert len(fm) - 1 == len(j["formats"])
by = {r[0]: (int(r[4]), int(r[5])) for r in fm[1:] if r[0]}
assert by["fmt/11"] == [(f["files"], f["bytes"]) for f in j["formats"] if f["puid"] == "fmt/11"][0]
cov = dict(sections["coverage"][1:])
assert int(cov["last_failed"]) == 1 and int(cov["within"]) == 3
hist = sections["history"]
assert [r[0] for r in hist[1:]] == [h["date"] for h in j["history"]]
fails = sections["failures"]
h = fails[0]
assert h[:4] == ["object", "kind", "code", "path"], h
dig = [dict(zip(h, r)) for r in fails[1:] if r[1] == "digest"]
assert len(dig) == 1 and dig[0]["object"] == "urn:t:a", dig
assert dig[0]["expected"] and dig[0]["actual"] and dig[0]["expected"] != dig[0]["actual"]
# the message holds commas: quoted and read back whole
assert "," in dig[0]["message"] and dig[0]["current"] == "yes"
# copies: the primary alone, one row per object, as in the JSON
cp = sections["copies"]
assert [r[0] for r in cp[1:]] == [c["copy"] for c in j["copies"]["per_copy"]] == ["primary"]
oc = [dict(zip(sections["object_copies"][0], r)) for r in sections["object_copies"][1:]]
assert [r["object"] for r in oc] == [o["object"] for o in j["object_copies"]], oc
a = [r for r in oc if r["object"] == "urn:t:a"][0]
assert (a["copies"], a["min_copies"], a["failed_copies"]) == ("1", "1", "primary"), a
assert a["summary"] == "0 of 1 copy verified in the last 90 days", a
rep = dict(sections["replication"][1:])
assert rep["copies_per_object"] == "1" and rep["objects_failed_copy"] == "1", rep
assert int(rep["objects_short"]) == j["copies"]["short"]
assert [r[0] for r in sections["advice"][1:]] == [x["command"] for x in j["advice"]]
assert "vellum replica add NAME DIR" in [r[0] for r in sections["advice"][1:]]
print("ok")
EOF
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "ok" ]
}

@test "report HTML: self-contained, escaped, and rendered by Chromium" {
    run "$VELLUM" report --out "$H"
    [ "$status" -eq 0 ]
    [ -s "$H" ]
    [ -z "$(ls "$BATS_TEST_TMPDIR" | grep 'report.html.tmp')" ]
    # one file: no scripts, nothing fetched, inline style and charts
    ! grep -Eqi '<script|<link|src=|@import|url\(' "$H"
    grep -q '<meta name="viewport"' "$H"
    grep -q '@media print' "$H"
    # the odd object id is shown as text, never as markup
    grep -qF 'urn:t:&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;&lt;script&gt;' "$H"
    S=$(dom_summary "$H")
    echo "$S" | jfield 'd["ids"]'
    for id in status advice totals formats coverage copies failures history-chart format-chart; do
        [ "$(echo "$S" | jfield "'$id' in d['ids']")" = "True" ]
    done
    [ "$(echo "$S" | jfield '"history-chart" in d["svg"], "format-chart" in d["svg"]')" = "True True" ]
    [ "$(echo "$S" | jfield 'd["scripts"], d["imgs"]')" = "0 0" ]
    [ "$(echo "$S" | jfield 'd["cards"]["totals.objects"], d["cards"]["totals.versions"], d["cards"]["totals.files"]')" = "3 4 9" ]
    bytes=$("$VELLUM" ls --json | jfield 'sum(o["bytes"] for o in d)')
    [ "$(echo "$S" | jfield 'd["cards"]["totals.bytes"]')" = "$bytes" ]
    [ "$(echo "$S" | jfield 'd["cards"]["coverage.never"]')" = "3" ]
    [[ "$(echo "$S" | jfield 'd["text"]["status"]')" == *"None of the 3 objects has been audited yet"* ]]
    [[ "$(echo "$S" | jfield 'd["text"]["formats"]')" == *"fmt/11"*"Portable Network Graphics"* ]]
    [[ "$(echo "$S" | jfield 'd["text"]["failures"]')" == *"No fixity failures"* ]]
    [[ "$(echo "$S" | jfield 'd["text"]["copies"]')" == *"Each object has one copy"*"3 objects: 0 of 1 copy verified in the last 90 days"* ]]
    [[ "$(echo "$S" | jfield 'd["text"]["advice"]')" == *"vellum replica add NAME DIR"* ]]
    [[ "$(echo "$S" | jfield 'd["text"]["coverage"]')" == *'urn:t:<b>&"x"</b><script>alert(1)</script>'* ]]
    # desktop and phone screenshots: real PNGs of the window size, not blank
    chrome --screenshot="$BATS_TEST_TMPDIR/desk.png" --window-size=1280,2000 "file://$H"
    read -r w h dark red < <(png_stats "$BATS_TEST_TMPDIR/desk.png")
    [ "$w $h" = "1280 2000" ]
    [ "$dark" -gt 100000 ]
    [ "$red" -eq 0 ]          # nothing failed: no alarm colour anywhere
    chrome --screenshot="$BATS_TEST_TMPDIR/phone.png" --window-size=390,844 "file://$H"
    read -r w h dark red < <(png_stats "$BATS_TEST_TMPDIR/phone.png")
    [ "$w $h" = "390 844" ]
    [ "$dark" -gt 30000 ]
}

@test "report HTML: a failure shows object, file, expected and actual digest" {
    audit_and_damage
    export VELLUM_NOW=2026-03-06T09:00:00Z
    run "$VELLUM" report --out "$H"
    [ "$status" -eq 0 ]
    S=$(dom_summary "$H")
    st=$(echo "$S" | jfield 'd["text"]["status"]')
    [[ "$st" == *"1 object FAILED fixity"* ]]
    fl=$(echo "$S" | jfield 'd["text"]["failures"]')
    [[ "$fl" == *"urn:t:a"*"data/notes.txt"*"$GOOD_SUM"*"$BAD_SUM"*"2026-03-04"*"still failing"* ]]
    [ "$(echo "$S" | jfield 'd["cards"]["coverage.failed"]')" = "1" ]
    # failure days are marked in the history chart
    [ "$(grep -c 'class="day fail"' "$H")" -eq 2 ]
    [ "$(grep -c 'class="day"' "$H")" -eq 1 ]
    chrome --screenshot="$BATS_TEST_TMPDIR/fail.png" --window-size=1280,2000 "file://$H"
    read -r w h dark red < <(png_stats "$BATS_TEST_TMPDIR/fail.png")
    [ "$w $h" = "1280 2000" ]
    [ "$red" -gt 500 ]        # the red headline and failure marks show
    chrome --screenshot="$BATS_TEST_TMPDIR/fail-phone.png" --window-size=390,844 "file://$H"
    read -r w h dark red < <(png_stats "$BATS_TEST_TMPDIR/fail-phone.png")
    [ "$w $h" = "390 844" ]
    [ "$red" -gt 200 ]        # the alarm is visible on the first phone screen
}

@test "report --out replaces the file atomically; usage errors exit 2" {
    echo old > "$H"
    run "$VELLUM" report --out "$H" --format json
    [ "$status" -eq 0 ]
    [ "$(jfield 'd["totals"]["objects"]' < "$H")" = "3" ]
    [ -z "$(ls "$BATS_TEST_TMPDIR" | grep 'tmp-')" ]
    run "$VELLUM" report --format pdf
    [ "$status" -eq 2 ]
    [[ "$output" == *"html, json or csv"* ]]
    run "$VELLUM" report --since yesterday
    [ "$status" -eq 2 ]
    run "$VELLUM" report extra
    [ "$status" -eq 2 ]
    run "$VELLUM" report --json --format csv
    [ "$status" -eq 2 ]
    run "$VELLUM" report --format csv
    [ "$status" -eq 2 ]
    [[ "$output" == *"CSV is one table a file: give --table NAME (totals, formats, "* ]]
    run "$VELLUM" report --format csv --table nope
    [ "$status" -eq 2 ]
    run "$VELLUM" report --table totals
    [ "$status" -eq 2 ]
    run "$VELLUM" report --out "$BATS_TEST_TMPDIR/no/such/dir/r.html"
    [ "$status" -eq 3 ]
    run "$VELLUM" report --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--since DATE"* ]]
}
