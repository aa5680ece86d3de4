#!/usr/bin/env bats
# Control characters in what vellum prints.  An object id holding one is
# refused by every command that takes an id (exit 2, the id shown
# hex-escaped).  Depositor text that can still hold them (version messages,
# user names, source names, file names with C1 controls or bidirectional
# overrides, ids of objects stored before ids were checked) is printed
# escaped: no raw escape sequence reaches the terminal, and one object or
# event is one line of text output and one row of the CSV report.

load helpers

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC"
    printf 'kept\n' > "$SRC/a.txt"
    OUT="$BATS_TEST_TMPDIR/out"
    mkdir -p "$OUT"
    ESC_ID=$'urn:t:a\e[31mRED'
    NL_ID=$'urn:t:a\nb'
}

# Fail, naming it, when stdin holds a character a terminal would act on or
# that disguises text: C0 controls but tab, LF and CR; DEL; C1 controls;
# bidirectional embeddings, overrides and isolates; U+2028/U+2029.  With
# "json", only C0 controls count: JSON output is exact and escapes those
# (the others are valid JSON text, kept as they are for the reader).
no_raw() {
    python3 -c '
import re, sys
data = sys.stdin.buffer.read()
json = sys.argv[1:] == ["json"]
bad = re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]" if json else
                rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data)
text = data.decode("utf-8", "replace")
odd = None if json else \
    re.search("[\u0080-\u009f\u2028-\u202e\u2066-\u2069]", text)
if bad or odd:
    at = bad.start() if bad else odd.start()
    print("raw control character in:", repr(data[max(0, at - 30):at + 30]))
    sys.exit(1)
' "$@"
}

# Exactly one line on stderr, escaped, saying why ($output of `run`).
one_escaped_line() {
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ] || { echo "not one line: $output"; return 1; }
    printf '%s' "$output" | no_raw
    [[ "$output" == *"$1"* ]] || { echo "no '$1' in: $output"; return 1; }
}

@test "ingest refuses ids with control characters: exit 2, one hex-escaped line, nothing stored" {
    for id in "$ESC_ID" "$NL_ID" $'urn:t:a\tb' $'urn:t:a\x7f' \
              "urn:t:a$(printf '\xc2\x9b')1m" "urn:t:a$(printf '\xe2\x80\xae')gnp.exe"; do
        run "$VELLUM" ingest "$SRC" --id "$id"
        [ "$status" -eq 2 ] || { echo "accepted: $id"; return 1; }
        one_escaped_line "holds a control character"
    done
    run "$VELLUM" ingest "$SRC" --id "$ESC_ID"
    [ "$output" = 'vellum: object id "urn:t:a\x1b[31mRED" holds a control character; an id must be printable text' ]
    [ "$(object_count)" -eq 0 ]
    [ "$("$VELLUM" ls --json | jfield 'len(d)')" = 0 ]
    staging_clean
}

@test "every command that takes an id refuses one with a control character, the same way" {
    "$VELLUM" ingest "$SRC" --id urn:t:ok >/dev/null
    for id in "$ESC_ID" "$NL_ID"; do
        for cmd in "show" "get" "export" "events" "audit" "validate"; do
            case $cmd in
                get) run "$VELLUM" get "$id" "$OUT/copy" ;;
                export) run "$VELLUM" export "$id" "$OUT/pkg" --format mets ;;
                *) run "$VELLUM" "$cmd" "$id" ;;
            esac
            [ "$status" -eq 2 ] || { echo "$cmd: exit $status: $output"; return 1; }
            one_escaped_line 'holds a control character'
        done
    done
    [ -z "$(ls -A "$OUT")" ]
    [ "$("$VELLUM" events --json | jfield 'len(d)')" = 3 ]   # the ingest's only
}

@test "show, events and ingest print depositor text escaped, one line each; --json keeps it exact" {
    dir=$'gift \e]0;owned\a\nfrom Ann'
    mkdir -p "$BATS_TEST_TMPDIR/$dir"
    name="scan$(printf '\xc2\x9b')2J$(printf '\xe2\x80\xae')fdp.exe"
    printf 'x\n' > "$BATS_TEST_TMPDIR/$dir/$name"
    msg=$'Accession\e[2J\nsecond line'
    user=$'Ann\e[5m'
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/$dir" --id urn:t:gift --message "$msg" \
        --user-name "$user" --user-address $'mailto:a@b\e[0m'
    [ "$status" -eq 0 ]
    printf '%s' "$output" | no_raw
    "$VELLUM" show urn:t:gift > "$OUT/show" 2>&1
    no_raw < "$OUT/show"
    # object, stored, digest, head, inventory, blank, "versions:", v1,
    # blank, "files in v1:", METS.xml, the file
    [ "$(wc -l < "$OUT/show")" -eq 12 ] || { cat "$OUT/show"; return 1; }
    grep -qF 'Ann\x1b[5m <mailto:a@b\x1b[0m>  Accession\x1b[2J\x0asecond line' "$OUT/show"
    grep -qF 'data/scan\xc2\x9b2J\xe2\x80\xaefdp.exe' "$OUT/show"
    "$VELLUM" events urn:t:gift > "$OUT/events" 2>&1
    no_raw < "$OUT/events"
    [ "$(wc -l < "$OUT/events")" -eq 3 ]
    grep -qF '/gift \x1b]0;owned\x07\x0afrom Ann' "$OUT/events"
    # JSON is exact (and jansson escapes what JSON must)
    "$VELLUM" show urn:t:gift --json > "$OUT/show.json"
    OUT="$OUT" MSG="$msg" USER_NAME="$user" NAME="$name" python3 -c '
import json, os
d = json.load(open(os.environ["OUT"] + "/show.json"))
v = d["versions"][0]
assert v["message"] == os.environ["MSG"], v
assert v["user"] == os.environ["USER_NAME"], v
assert "data/" + os.environ["NAME"] in [f["path"] for f in d["files"]]
'
    no_raw json < "$OUT/show.json"
}

# Give object OLD the id NEW in the store, as a repository written before
# ids were checked (or another OCFL tool) could hold it: both inventories
# and sidecars rewritten, the folder moved to NEW's 0004 path.  Then reindex.
legacy_id() {
    python3 - "$REPO" "$1" "$2" <<'PY'
import hashlib, json, os, sys
repo, old, new = sys.argv[1:4]
def where(i):
    h = hashlib.sha256(i.encode()).hexdigest()
    return os.path.join(repo, "store", h[0:3], h[3:6], h[6:9], h)
src, dst = where(old), where(new)
inv = json.load(open(os.path.join(src, "inventory.json")))
inv["id"] = new
alg = inv["digestAlgorithm"]
text = json.dumps(inv, indent=2, sort_keys=True).encode()
for d in (src, os.path.join(src, inv["head"])):
    open(os.path.join(d, "inventory.json"), "wb").write(text)
    with open(os.path.join(d, "inventory.json." + alg), "w") as f:
        f.write(hashlib.new(alg, text).hexdigest() + "  inventory.json\n")
os.makedirs(os.path.dirname(dst), exist_ok=True)
os.rename(src, dst)
os.removedirs(os.path.dirname(src))   # the empty 0004 folders left
PY
    "$VELLUM" reindex >/dev/null
}

@test "an old object whose id holds control characters: ls, audit, validate and the reports print it escaped, one line or row" {
    old=$'urn:t:old\e[31m\nRED'
    "$VELLUM" ingest "$SRC" --id urn:t:ok >/dev/null
    "$VELLUM" ingest "$SRC" --id urn:t:tmp >/dev/null
    legacy_id urn:t:tmp "$old"
    [ "$("$VELLUM" ls --json | OLD="$old" jfield 'sorted(o["id"] for o in d) == sorted([__import__("os").environ["OLD"], "urn:t:ok"])')" = True ]
    "$VELLUM" ls > "$OUT/ls"
    no_raw < "$OUT/ls"
    [ "$(wc -l < "$OUT/ls")" -eq 2 ]
    grep -qF 'urn:t:old\x1b[31m\x0aRED' "$OUT/ls"
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
    printf '%s' "$output" | no_raw
    # A damaged file of that object: the audit, its alert and the reports.
    dir=$(object_dir "$old")
    printf 'rot' >> "$dir/v1/content/data/a.txt"
    "$VELLUM" audit --all > "$OUT/audit" 2> "$OUT/audit.err" && return 1
    no_raw < "$OUT/audit"
    no_raw < "$OUT/audit.err"
    grep -q '^FAIL urn:t:old\\x1b\[31m\\x0aRED ' "$OUT/audit"
    [ "$(grep -c ALERT "$OUT/audit.err")" -eq 1 ]
    [ "$(wc -l < "$OUT/audit.err")" -eq 1 ]
    "$VELLUM" report --format csv --table failures > "$OUT/r.csv"
    no_raw < "$OUT/r.csv"
    # the failures table: each row one line, the id escaped
    python3 - "$OUT/r.csv" <<'PY'
import csv, sys
lines = open(sys.argv[1], newline="").read().split("\r\n")
rows = [l for l in lines[1:] if l]
assert rows, lines
for line in rows:
    row = next(csv.reader([line]))
    assert len(row) == 12, row
    assert row[0] == "urn:t:old\\x1b[31m\\x0aRED", row
PY
    "$VELLUM" report > "$OUT/r.html"
    no_raw < "$OUT/r.html"
    grep -qF 'urn:t:old\x1B[31m\x0ARED' "$OUT/r.html"
    "$VELLUM" report --format json > "$OUT/r.json"
    OLD="$old" python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
assert {f["object"] for f in d["failures"]} == {os.environ["OLD"]}, d["failures"]
' "$OUT/r.json"
    # Such an id cannot be given on the command line any more.
    run "$VELLUM" show "$old"
    [ "$status" -eq 2 ]
}

@test "the CSV report keeps a spreadsheet from running a value as a formula" {
    id='=HYPERLINK("http://example.org/x","ok")'
    "$VELLUM" ingest "$SRC" --id "$id" >/dev/null
    "$VELLUM" ingest "$SRC" --id '@SUM(1)' >/dev/null
    for i in "$id" '@SUM(1)'; do printf 'rot' >> "$(object_dir "$i")/v1/content/data/a.txt"; done
    run "$VELLUM" audit --all
    [ "$status" -eq 1 ]
    "$VELLUM" report --format csv --table failures > "$OUT/r.csv"
    python3 - "$OUT/r.csv" "$id" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))[1:]
firsts = {r[0] for r in rows if r}
assert firsts == {"'" + sys.argv[2], "'@SUM(1)"}, firsts
PY
    # the JSON report keeps the id exact
    "$VELLUM" report --format json | ID="$id" python3 -c '
import json, os, sys
d = json.load(sys.stdin)
assert os.environ["ID"] in {f["object"] for f in d["failures"]}
'
}

@test "ingest --manifest: a donor manifest line with control characters is quoted escaped" {
    (cd "$SRC" && sha256sum a.txt) > "$BATS_TEST_TMPDIR/m.sha256"
    printf '%064d  gone\033[31m.txt\n' 0 >> "$BATS_TEST_TMPDIR/m.sha256"
    run "$VELLUM" ingest "$SRC" --id urn:t:m --manifest "$BATS_TEST_TMPDIR/m.sha256"
    [ "$status" -eq 2 ]
    printf '%s' "$output" | no_raw
    [[ "$output" == *'gone\x1b[31m.txt: listed in the manifest but missing'* ]]
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
}

@test "identify and config print names and values escaped" {
    f="$BATS_TEST_TMPDIR/note"$'\e[31m'".txt"
    printf 'plain text\n' > "$f"
    run "$VELLUM" identify "$f"
    [ "$status" -eq 0 ]
    printf '%s' "$output" | no_raw
    [[ "$output" == *'note\x1b[31m.txt'* ]]
    "$VELLUM" config user.name $'Ann\e[2J'
    run "$VELLUM" config
    printf '%s' "$output" | no_raw
    [[ "$output" == *'user.name = Ann\x1b[2J'* ]]
    run "$VELLUM" config user.name
    [ "$output" = 'Ann\x1b[2J' ]
}
