#!/usr/bin/env bats
# Audits of every copy (issue 16): `audit --replicas` and `--replica NAME`
# verify replica copies with every digest on their own storage; damage in a
# replica fails that copy only; an unreachable replica fails as such and
# the others are audited; --due schedules (object, copy) pairs within the
# byte budget; --status and the report count verified copies per object
# and name the command to run.  A replica here is a `cp -a` of the store.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC/d"
    printf 'alpha\n' > "$SRC/a.txt"
    printf 'bravo bravo\n' > "$SRC/d/b.txt"
    for o in a b c; do
        "$VELLUM" ingest "$SRC" --id "urn:t:$o" --quiet > /dev/null
    done
}

# add_replica NAME: a copy of the store at $BATS_TEST_TMPDIR/NAME, taken
# by `vellum replica add` as the storage root it is.
add_replica() {
    local dir="$BATS_TEST_TMPDIR/$1"
    cp -a "$REPO/store" "$dir"
    "$VELLUM" replica add "$1" "$dir" > /dev/null
}

# Object root of id inside a copy's folder (the store's layout).
copy_object_dir() {
    local h
    h=$(printf '%s' "$2" | sha256sum | cut -c1-64)
    echo "$1/${h:0:3}/${h:3:3}/${h:6:3}/$h"
}

# Flip the first byte of a stored file (store files are read-only).
flip() {
    chmod u+w "$1"
    printf 'X' | dd of="$1" bs=1 seek=0 conv=notrunc 2> /dev/null
}

fixity_events() {
    "$VELLUM" events "$1" --type "fixity check" --json
}

# Text of the element with id $2 in the HTML file $1.
html_text() {
    python3 - "$1" "$2" <<'EOF'
import sys
from html.parser import HTMLParser
VOID = {"meta", "link", "br", "img", "input", "hr", "col", "wbr", "source"}
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.out = []
    def handle_starttag(s, tag, attrs):
        if tag not in VOID:
            s.stack.append(dict(attrs).get("id"))
    def handle_endtag(s, tag):
        if s.stack: s.stack.pop()
    def handle_data(s, d):
        if sys.argv[2] in s.stack: s.out.append(d)
p = P(); p.feed(open(sys.argv[1]).read())
print(" ".join(" ".join(p.out).split()))
EOF
}

@test "damage only in a replica: --replicas fails naming the replica and the file; the primary passes" {
    add_replica r1
    R1=$(realpath "$BATS_TEST_TMPDIR/r1")
    f="$(copy_object_dir "$R1" urn:t:b)/v1/content/data/a.txt"
    want=$(sha512sum "$f" | cut -d' ' -f1)
    flip "$f"
    have=$(sha512sum "$f" | cut -d' ' -f1)
    run --separate-stderr "$VELLUM" audit --all --replicas
    [ "$status" -eq 1 ]
    [ "$(grep -c 'ALERT' <<< "$stderr")" -eq 1 ]
    [[ "$stderr" == "vellum: ALERT fixity failure in urn:t:b on replica r1: 1 problem (first: E092 v1/content/data/a.txt: "* ]]
    [[ "$output" == *"pass urn:t:a (primary, 2 files, "* ]]
    [[ "$output" == *"pass urn:t:a (replica r1, 2 files, "* ]]
    [[ "$output" == *"pass urn:t:b (primary, 2 files, "* ]]
    [[ "$output" == *"FAIL urn:t:b (replica r1, 2 files, "*"  E092 v1/content/data/a.txt: sha512 digest does not match: expected $want, actual $have"* ]]
    [[ "${lines[-1]}" == "audited 6 copies: 5 passed, 1 failed;"* ]]
    # one event per copy, each naming it
    run fixity_events urn:t:b
    [ "$(echo "$output" | jfield '[(e["outcome"], e["detail"].split(":")[0]) for e in d]')" = \
      "[('success', 'audit of the primary copy'), ('fail', 'audit of replica r1 at $R1')]" ]
    [[ "$(echo "$output" | jfield 'd[-1]["outcome_detail"]')" == "E092 digest v1/content/data/a.txt: "*"expected $want, actual $have" ]]
    # the primary alone passes, in the output it always had
    run --separate-stderr "$VELLUM" audit --all
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [[ "${lines[0]}" == "pass urn:t:a (2 files, "* ]]
    # that replica alone: exit 1, the copy in --json
    run --separate-stderr "$VELLUM" audit urn:t:b --replica r1 --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield '[(o["id"], o["copy"], o["passed"]) for o in d["objects"]]')" = "[('urn:t:b', 'r1', False)]" ]
    [ "$(echo "$output" | jfield '[(f["kind"], f["path"], f["expected"], f["actual"]) for f in d["objects"][0]["failures"]]')" = \
      "[('digest', 'v1/content/data/a.txt', '$want', '$have')]" ]
    # the catalog keeps the result per copy
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield '[(c["copy"], c["verified"], c["failed"]) for c in d["copies"]]')" = "[('primary', 3, 0), ('r1', 2, 1)]" ]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
}

@test "--replica NAME: only that replica; an unknown name is exit 2 and audits nothing" {
    # no replica yet: --replicas audits the primary and says why
    run --separate-stderr "$VELLUM" audit urn:t:a --replicas
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"no replica"*"vellum replica add NAME DIR"* ]]
    [ "${lines[0]%% (*}" = "pass urn:t:a" ]
    add_replica r1
    add_replica r2
    before=$("$VELLUM" events --type "fixity check" --json | jfield 'len(d)')
    run --separate-stderr "$VELLUM" audit --all --replica nope
    [ "$status" -eq 2 ]
    [[ "$stderr" == *'no replica named "nope" (replicas: r1, r2)'* ]]
    [ "$("$VELLUM" events --type "fixity check" --json | jfield 'len(d)')" = "$before" ]
    run "$VELLUM" audit --all --replicas --replica r1
    [ "$status" -eq 2 ]
    run "$VELLUM" audit --status --replicas
    [ "$status" -eq 2 ]
    run "$VELLUM" audit --all --replica r2 --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield '[(o["id"], o["copy"]) for o in d["objects"]]')" = \
      "[('urn:t:a', 'r2'), ('urn:t:b', 'r2'), ('urn:t:c', 'r2')]" ]
    # repeated: each copy once, the primary never
    run "$VELLUM" audit urn:t:c --replica r2 --replica r1 --replica r2 --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield '[o["copy"] for o in d["objects"]]')" = "['r1', 'r2']" ]
    run "$VELLUM" audit --help
    [[ "$output" == *"--replica NAME"*"not the primary"* ]]
}

@test "an unreachable replica fails that copy with a clear message; the other copies are audited" {
    add_replica r1
    add_replica r2
    R1=$(realpath "$BATS_TEST_TMPDIR/r1")
    mv "$R1" "$BATS_TEST_TMPDIR/r1-away"
    run --separate-stderr "$VELLUM" audit --all --replicas
    [ "$status" -eq 1 ]
    [ "$(grep -c "ALERT fixity failure in urn:t:.* on replica r1: 1 problem (first: unreachable: replica \"r1\": cannot reach $R1: No such file or directory)" <<< "$stderr")" -eq 3 ]
    [[ "$output" == *"FAIL urn:t:a (replica r1, 2 files, 18 B (+ METS.xml); read 0 stored files, 0 B)"*"  unreachable: replica \"r1\": cannot reach $R1: No such file or directory"* ]]
    [[ "$output" == *"pass urn:t:a (replica r2, 2 files, "* ]]
    [[ "$output" == *"pass urn:t:c (primary, 2 files, "* ]]
    [[ "${lines[-1]}" == "audited 9 copies: 6 passed, 3 failed;"* ]]
    [ "$(fixity_events urn:t:a | jfield '[e["outcome"] for e in d]')" = "['success', 'fail', 'success']" ]
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield '[(c["copy"], c["verified"], c["failed"]) for c in d["copies"]]')" = \
      "[('primary', 3, 0), ('r1', 0, 3), ('r2', 3, 0)]" ]
    # back in place: it passes again
    mv "$BATS_TEST_TMPDIR/r1-away" "$R1"
    run "$VELLUM" audit --all --replica r1
    [ "$status" -eq 0 ]
}

@test "an object the replica never received fails there as missing" {
    add_replica r1
    "$VELLUM" ingest "$SRC" --id urn:t:new --quiet > /dev/null
    run --separate-stderr "$VELLUM" audit urn:t:new --replicas
    [ "$status" -eq 1 ]
    [[ "$output" == *"pass urn:t:new (primary, "* ]]
    [[ "$output" == *"FAIL urn:t:new (replica r1, 2 files, 18 B (+ METS.xml); read 0 stored files, 0 B)"*"  missing: the object folder "*" is missing from replica r1"* ]]
}

# Three objects of the same size; a budget of two and a half of them
# audits two copies a run.  Interval one day, fake clock (VELLUM_NOW).
@test "--due --replicas: never verified first, then oldest, object by object, within --max-bytes" {
    add_replica r1
    "$VELLUM" config audit.interval_days 1
    T0=1800000000
    per=$("$VELLUM" audit --status --json | jfield 'd["bytes_to_audit"] // 3')
    budget=$((per * 5 / 2))
    due() {
        VELLUM_NOW=$1 run --separate-stderr "$VELLUM" audit --due --replicas --max-bytes "$budget" --json
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | jfield 'd["summary"]["bytes"] <= '"$budget")" = True ]
        echo "$output" | jfield '" ".join("%s/%s" % (o["id"][6:], o["copy"]) for o in d["objects"]) + " " + str(d["summary"]["budget_reached"])'
    }
    # the primary of b is audited first, on its own (the audit history)
    VELLUM_NOW=$T0 run "$VELLUM" audit urn:t:b
    [ "$status" -eq 0 ]
    [ "$(due $((T0 + 3600)))" = "a/primary a/r1 True" ]
    [ "$(due $((T0 + 7200)))" = "b/r1 c/primary True" ]
    # b's primary is not due yet (audited within the interval)
    [ "$(due $((T0 + 10800)))" = "c/r1 False" ]
    [ "$(due $((T0 + 14400)))" = " False" ]
    # two days on, everything is due again: the oldest first
    [ "$(due $((T0 + 2 * 86400)))" = "b/primary a/primary True" ]
    [ "$(due $((T0 + 2 * 86400 + 60)))" = "a/r1 b/r1 True" ]
    [ "$(due $((T0 + 2 * 86400 + 120)))" = "c/primary c/r1 False" ]
    [ "$(due $((T0 + 2 * 86400 + 180)))" = " False" ]
    # each copy audited twice, every one passed
    run "$VELLUM" events --type "fixity check" --json
    [ "$(echo "$output" | jfield 'sorted(__import__("collections").Counter(e["object"] for e in d).items())')" = \
      "[('urn:t:a', 4), ('urn:t:b', 4), ('urn:t:c', 4)]" ]
    [ "$(echo "$output" | jfield 'set(e["outcome"] for e in d)')" = "{'success'}" ]
}

@test "--status: per replica, the objects verified within the interval" {
    add_replica r1
    R1=$(realpath "$BATS_TEST_TMPDIR/r1")
    "$VELLUM" audit --all > /dev/null
    run "$VELLUM" audit --status
    [ "$status" -eq 0 ]
    [[ "$output" == *"copy primary: 3 of 3 objects verified within 90 days (failed 0, never audited 0)"* ]]
    [[ "$output" == *"copy replica r1 at $R1: 0 of 3 objects verified within 90 days (failed 0, never audited 3, missing or behind 3)"* ]]
    "$VELLUM" audit urn:t:a --replica r1 > /dev/null
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield '[(c["copy"], c["objects"], c["verified"], c["within_interval"], c["never"], c["behind"]) for c in d["copies"]]')" = \
      "[('primary', 3, 3, 3, 0, 0), ('r1', 3, 1, 1, 2, 2)]" ]
    [ "$(echo "$output" | jfield 'd["copies"][1]["location"]')" = "$R1" ]
}

# Three copies (the primary, r1, r2): a all verified; b's copy on r2
# damaged; c given a second version the replicas do not have.
report_setup() {
    export VELLUM_NOW=2026-03-01T10:00:00Z
    add_replica r1
    add_replica r2
    VELLUM_NOW=2026-03-02T10:00:00Z "$VELLUM" audit --all --replicas > /dev/null
    flip "$(copy_object_dir "$BATS_TEST_TMPDIR/r2" urn:t:b)/v1/content/data/a.txt"
    VELLUM_NOW=2026-03-03T10:00:00Z run "$VELLUM" audit urn:t:b --replica r2
    [ "$status" -eq 1 ]
    printf 'more\n' > "$SRC/more.txt"
    "$VELLUM" ingest "$SRC" --id urn:t:c --quiet > /dev/null
    VELLUM_NOW=2026-03-03T11:00:00Z "$VELLUM" audit urn:t:c > /dev/null
}

@test "report --json: N of M copies verified, min_copies shortfall, repairs and the advice" {
    report_setup
    run "$VELLUM" report --json
    [ "$status" -eq 0 ]
    J="$output"
    [ "$(echo "$J" | jfield 'd["copies"]["copies_per_object"], d["copies"]["min_copies"], d["copies"]["objects"]')" = "3 2 3" ]
    [ "$(echo "$J" | jfield 'd["copies"]["all_verified"], d["copies"]["short"], d["copies"]["failed"], d["copies"]["behind"], d["copies"]["unverified"]')" = "1 1 1 1 0" ]
    [ "$(echo "$J" | jfield '[(o["object"], o["summary"], o["short"]) for o in d["object_copies"]]')" = \
      "[('urn:t:a', '3 of 3 copies verified in the last 90 days', False), ('urn:t:b', '2 of 3 copies verified in the last 90 days', False), ('urn:t:c', '1 of 3 copies verified in the last 90 days', True)]" ]
    # each copy's state: c's replicas hold v1 of v2
    [ "$(echo "$J" | jfield '[(s["copy"], s["version"], s["good"], s["behind"]) for s in d["object_copies"][2]["states"]]')" = \
      "[('primary', 2, True, False), ('r1', 1, False, True), ('r2', 1, False, True)]" ]
    [ "$(echo "$J" | jfield '[(s["copy"], s["outcome"], [f["path"] for f in s["failures"]]) for s in d["object_copies"][1]["states"]]')" = \
      "[('primary', 'pass', []), ('r1', 'pass', []), ('r2', 'fail', ['v1/content/data/a.txt'])]" ]
    [ "$(echo "$J" | jfield '[(c["copy"], c["verified"], c["failed"], c["behind"]) for c in d["copies"]["per_copy"]]')" = \
      "[('primary', 3, 0, 0), ('r1', 2, 0, 1), ('r2', 1, 1, 1)]" ]
    [ "$(echo "$J" | jfield '[(b["verified"], b["objects"]) for b in d["copies"]["by_verified"]]')" = "[(0, 0), (1, 1), (2, 1), (3, 1)]" ]
    [ "$(echo "$J" | jfield '[a["command"] for a in d["advice"]]')" = "['vellum repair urn:t:b', 'vellum replicate --all']" ]
    [ "$(echo "$J" | jfield 'd["status"]["level"], d["status"]["headline"]')" = "failed 1 object FAILED fixity on a replica" ]
    [ "$(echo "$J" | jfield 'd["repairs"]["made"], d["repairs"]["failed"]')" = "0 0" ]
    # asking for three verified copies: b is short too; four: add a replica
    "$VELLUM" config replicate.min_copies 3
    run "$VELLUM" report --json
    [ "$(echo "$output" | jfield 'd["copies"]["min_copies"], d["copies"]["short"]')" = "3 2" ]
    "$VELLUM" config replicate.min_copies 4
    run "$VELLUM" report --json
    [ "$(echo "$output" | jfield '[a["command"] for a in d["advice"]][-1]')" = "vellum replica add NAME DIR" ]
    [[ "$(echo "$output" | jfield 'd["advice"][-1]["reason"]')" == "replicate.min_copies is 4 but each object has 3 copies"* ]]
    run "$VELLUM" config replicate.min_copies none
    [ "$status" -eq 2 ]
}

@test "report HTML and CSV: the Copies section and the commands to run" {
    report_setup
    H="$BATS_TEST_TMPDIR/r.html"
    run "$VELLUM" report --out "$H"
    [ "$status" -eq 0 ]
    grep -q 'id="copies" data-copies="3" data-min-copies="2" data-short="1" data-failed="1" data-behind="1"' "$H"
    C=$(html_text "$H" copies)
    [[ "$C" == *"Each object has 3 copies: the primary store and 2 replicas."* ]]
    [[ "$C" == *"1 object: 3 of 3 copies verified in the last 90 days"*"1 object: 2 of 3 copies verified in the last 90 days"*"1 object: 1 of 3 copies verified in the last 90 days"* ]]
    [[ "$C" == *"urn:t:b 2 of 3 copies verified in the last 90 days r2: E092 v1/content/data/a.txt"* ]]
    [[ "$C" == *"urn:t:c 1 of 3 copies verified in the last 90 days — r1, r2"* ]]
    A=$(html_text "$H" advice)
    [[ "$A" == *"vellum repair urn:t:b"*"vellum replicate --all"* ]]
    [[ "$(html_text "$H" status)" == *"1 object FAILED fixity on a replica"* ]]
    run "$VELLUM" report --format csv --out "$BATS_TEST_TMPDIR/csv/"
    [ "$status" -eq 0 ]
    run python3 - "$BATS_TEST_TMPDIR/csv" <<'EOF'
import csv, os, sys
sections = {n: list(csv.reader(open(os.path.join(sys.argv[1], n + ".csv"), newline="")))
            for n in ("object_copies", "replication", "advice")}
oc = [dict(zip(sections["object_copies"][0], r)) for r in sections["object_copies"][1:]]
print([(r["object"], r["verified"], r["short"], r["failed_copies"], r["behind_copies"]) for r in oc])
print(dict(sections["replication"][1:])["objects_short"], [r[0] for r in sections["advice"][1:]])
EOF
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "[('urn:t:a', '3', 'no', '', ''), ('urn:t:b', '2', 'no', 'r2', ''), ('urn:t:c', '1', 'yes', '', 'r1, r2')]" ]
    [ "${lines[1]}" = "1 ['vellum repair urn:t:b', 'vellum replicate --all']" ]
}

@test "after replicate, repair and an audit of every copy the report is clean, the repair counted" {
    report_setup
    export VELLUM_NOW=2026-03-04T10:00:00Z
    run "$VELLUM" replicate --all
    run "$VELLUM" repair urn:t:b
    [ "$status" -eq 0 ]
    run "$VELLUM" audit --all --replicas
    [ "$status" -eq 0 ]
    run "$VELLUM" report --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["copies"]["all_verified"], d["copies"]["short"], d["copies"]["failed"], d["copies"]["behind"]')" = "3 0 0 0" ]
    [ "$(echo "$output" | jfield 'd["repairs"]["made"] >= 1, d["repairs"]["failed"]')" = "True 0" ]
    [ "$(echo "$output" | jfield 'd["advice"], d["status"]["level"]')" = "[] ok" ]
    # --since after the repair: none made since
    run "$VELLUM" report --json --since 2026-03-05
    [ "$(echo "$output" | jfield 'd["repairs"]["made"]')" = 0 ]
}
