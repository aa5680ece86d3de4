#!/usr/bin/env bats
# vellum audit: damage of every kind is caught with the right code, message,
# ALERT line and failed "fixity check" event, and the audit goes on to the
# other objects; --due keeps every object within the interval under budgets
# (fake clock: VELLUM_NOW); --status; the audit history survives reindex.

load helpers
load hooks
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
    B=$(object_dir urn:t:b)
}

# The last "fixity check" event of an object: its outcome, and its outcome
# detail (one line per failure).
last_outcome() {
    "$VELLUM" events "$1" --type "fixity check" --json | jfield 'd[-1]["outcome"]'
}
last_detail() {
    "$VELLUM" events "$1" --type "fixity check" --json |
        jfield 'd[-1]["outcome_detail"] or ""'
}

# Audit everything after damaging urn:t:b: exit 1, one ALERT for it on
# stderr, the other objects pass, and a failed event for it.
audit_damaged() {
    run --separate-stderr "$VELLUM" audit --all
    [ "$status" -eq 1 ]
    [ "$(grep -c 'ALERT' <<< "$stderr")" -eq 1 ]
    [[ "$stderr" == "vellum: ALERT fixity failure in urn:t:b: "* ]]
    [[ "$output" == *"pass urn:t:a ("* ]]
    [[ "$output" == *"FAIL urn:t:b ("* ]]
    [[ "$output" == *"pass urn:t:c ("* ]]
    [[ "${lines[-1]}" == "audited 3 objects: 2 passed, 1 failed;"* ]]
    [ "$(last_outcome urn:t:a)" = success ]
    [ "$(last_outcome urn:t:b)" = fail ]
}

@test "a clean repository passes: exit 0, one successful fixity event per object" {
    run --separate-stderr "$VELLUM" audit --all
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [[ "${lines[0]}" == "pass urn:t:a (2 files, 18 B (+ METS.xml); read 3 stored files, "*" KiB)" ]]
    [[ "${lines[-1]}" == "audited 3 objects: 3 passed, 0 failed;"* ]]
    run "$VELLUM" events --type "fixity check" --json
    [ "$(echo "$output" | jfield 'sorted((e["object"], e["outcome"], e["version"]) for e in d)')" = \
      "[('urn:t:a', 'success', 1), ('urn:t:b', 'success', 1), ('urn:t:c', 'success', 1)]" ]
    [ "$(echo "$output" | jfield 'all("OpenSSL" in e["agents"][1] for e in d)')" = True ]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
}

@test "a flipped byte: E092 with the full expected and actual digests" {
    f="$B/v1/content/data/a.txt"
    want=$(sha512sum "$f" | cut -d' ' -f1)
    chmod u+w "$f"
    printf 'A' | dd of="$f" bs=1 seek=0 conv=notrunc 2> /dev/null
    have=$(sha512sum "$f" | cut -d' ' -f1)
    audit_damaged
    [[ "$output" == *"  E092 v1/content/data/a.txt: sha512 digest does not match: expected $want, actual $have"* ]]
    [[ "$stderr" == *"(first: E092 v1/content/data/a.txt: "* ]]
    detail=$(last_detail urn:t:b)
    [[ "$detail" == *"E092 digest v1/content/data/a.txt: "*"expected $want, actual $have"* ]]
}

@test "a truncated file: E092 digest mismatch and the catalog's size disagreement" {
    f="$B/v1/content/data/d/b.txt"
    chmod u+w "$f"
    truncate -s 5 "$f"
    have=$(sha512sum "$f" | cut -d' ' -f1)
    audit_damaged
    [[ "$output" == *"  E092 v1/content/data/d/b.txt: sha512 digest does not match: expected "*", actual $have"* ]]
    [[ "$output" == *"catalog size 12, size on storage 5"* ]]
    [[ "$(last_detail urn:t:b)" == *"v1/content/data/d/b.txt"* ]]
    # the catalog's disagreement is the same damaged file: one problem
    run --separate-stderr "$VELLUM" audit urn:t:b --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield 'len(d["objects"][0]["failures"]), [f["path"] for f in d["objects"][0]["failures"] if "catalog: " in f["message"]]')" = \
      "1 ['v1/content/data/d/b.txt']" ]
}

@test "a deleted file: E092 missing from storage" {
    rm -f "$B/v1/content/data/d/b.txt"
    audit_damaged
    [[ "$output" == *"  E092 v1/content/data/d/b.txt: missing from storage (listed in the manifest)"* ]]
    [[ "$(last_detail urn:t:b)" == *"E092 missing v1/content/data/d/b.txt"* ]]
    run --separate-stderr "$VELLUM" audit urn:t:b --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield '[f["kind"] for f in d["objects"][0]["failures"] if f["code"]=="E092"]')" = "['missing']" ]
}

@test "an extra file in a version's content folder: E023 unexpected" {
    chmod u+w "$B/v1/content/data"
    printf 'stowaway\n' > "$B/v1/content/data/extra.txt"
    audit_damaged
    [[ "$output" == *"  E023 v1/content/data/extra.txt: file is not in the manifest"* ]]
    [[ "$(last_detail urn:t:b)" == *"E023 unexpected v1/content/data/extra.txt"* ]]
}

@test "an edited inventory: E060 with the sidecar's digest and the inventory's" {
    chmod u+w "$B/inventory.json"
    sed -i 's/"head": "v1"/"head":  "v1"/' "$B/inventory.json"
    want=$(cut -d' ' -f1 "$B/inventory.json.sha512")
    have=$(sha512sum "$B/inventory.json" | cut -d' ' -f1)
    [ "$want" != "$have" ]
    audit_damaged
    [[ "$output" == *"  E060 inventory.json.sha512: inventory.json does not match its sidecar: expected sha512 $want, actual $have"* ]]
    [[ "$(last_detail urn:t:b)" == *"E060 inventory inventory.json.sha512"* ]]
}

@test "a deleted sidecar: E058" {
    rm -f "$B/inventory.json.sha512"
    audit_damaged
    [[ "$output" == *"  E058 inventory.json.sha512: inventory sidecar is missing"* ]]
    [[ "$(last_detail urn:t:b)" == *"E058 inventory inventory.json.sha512"* ]]
}

# Read errors need a user the permissions stop; root reads anything, so as
# root the repository moves to a folder "nobody" can reach, is given to
# nobody, and vellum runs as nobody (setpriv, from util-linux).
as_reader() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
    else
        "$@"
    fi
}
readable_by_nobody() {
    [ "$(id -u)" -eq 0 ] || return 0
    local base
    base=$(mktemp -d /tmp/vellum-perm.XXXXXX)
    chmod 755 "$base"
    mv "$REPO" "$base/repo"
    export REPO="$base/repo" VELLUM_REPO="$base/repo" PERM_BASE="$base"
    chown -R nobody:nogroup "$REPO"
    B=$(object_dir urn:t:b)
}
teardown() {
    [ -z "${PERM_BASE:-}" ] || { chmod -R u+rwX "$PERM_BASE"; rm -rf "$PERM_BASE"; }
}

@test "an unreadable content file (permissions): E092 naming it, the audit goes on" {
    readable_by_nobody
    f="$B/v1/content/data/a.txt"
    chmod 000 "$f"
    run --separate-stderr as_reader "$VELLUM" audit --all
    [ "$status" -eq 1 ]
    [ "$(grep -c 'ALERT' <<< "$stderr")" -eq 1 ]
    [[ "$stderr" == "vellum: ALERT fixity failure in urn:t:b: 1 problem (first: E092 v1/content/data/a.txt: cannot read"* ]]
    [[ "$output" == *"pass urn:t:a ("* ]]
    [[ "$output" == *"  E092 v1/content/data/a.txt: cannot read v1/content/data/a.txt: "*"Permission denied"* ]]
    [[ "$output" == *"pass urn:t:c ("* ]]
    [[ "${lines[-1]}" == "audited 3 objects: 2 passed, 1 failed;"* ]]
    run as_reader "$VELLUM" events urn:t:b --type "fixity check" --json
    [ "$(echo "$output" | jfield 'd[-1]["outcome"]')" = fail ]
    [[ "$(echo "$output" | jfield 'd[-1]["outcome_detail"]')" == "E092 unreadable v1/content/data/a.txt: "* ]]
    run --separate-stderr as_reader "$VELLUM" audit urn:t:b --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield '[(f["kind"], f["path"]) for f in d["objects"][0]["failures"]]')" = \
      "[('unreadable', 'v1/content/data/a.txt')]" ]
    # Nothing was touched: readable again, the object passes.
    chmod 444 "$f"
    run as_reader "$VELLUM" audit urn:t:b
    [ "$status" -eq 0 ]
    run as_reader "$VELLUM" events verify
    [ "$status" -eq 0 ]
}

@test "an unreadable folder or object folder fails that object only, never the run" {
    readable_by_nobody
    chmod 000 "$B/v1/content"
    run --separate-stderr as_reader "$VELLUM" audit --all
    [ "$status" -eq 1 ]
    [[ "$output" == *"pass urn:t:a ("* ]]
    [[ "$output" == *"  E023 v1/content: cannot list the folder: "*"Permission denied"* ]]
    [[ "$output" == *"pass urn:t:c ("* ]]
    [[ "${lines[-1]}" == "audited 3 objects: 2 passed, 1 failed;"* ]]
    chmod 755 "$B/v1/content"
    chmod 000 "$B"
    run --separate-stderr as_reader "$VELLUM" audit --all --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield 'd["summary"]["objects"], d["summary"]["failed"]')" = "3 1" ]
    [ "$(echo "$output" | jfield '[f["kind"] for o in d["objects"] for f in o["failures"]]')" = "['unreadable']" ]
    [[ "$(echo "$output" | jfield 'd["objects"][1]["failures"][0]["message"]')" == "cannot list $B: Permission denied" ]]
    chmod 755 "$B"
    run as_reader "$VELLUM" audit --all
    [ "$status" -eq 0 ]
}

@test "a failed audit repairs nothing: the damage is still there next time" {
    rm -f "$B/inventory.json.sha512"
    run "$VELLUM" audit urn:t:b
    [ "$status" -eq 1 ]
    [ ! -e "$B/inventory.json.sha512" ]
    run "$VELLUM" audit urn:t:b
    [ "$status" -eq 1 ]
    [ "$("$VELLUM" events urn:t:b --type "fixity check" --outcome fail --json | jfield 'len(d)')" = 2 ]
}

@test "--json: summary and per-object results with every field" {
    run "$VELLUM" audit urn:t:a urn:t:c --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["summary"]["objects"], d["summary"]["passed"], d["summary"]["failed"], d["summary"]["budget_reached"]')" = "2 2 0 False" ]
    [ "$(echo "$output" | jfield '[(o["id"], o["passed"], o["files"], o["bytes"] > 12, o["failures"]) for o in d["objects"]]')" = \
      "[('urn:t:a', True, 3, True, []), ('urn:t:c', True, 3, True, [])]" ]
}

@test "usage: an unknown id is exit 2; no target is exit 2; bad budgets are exit 2" {
    run "$VELLUM" audit urn:t:nope
    [ "$status" -eq 2 ]
    [[ "$output" == *"no object with id urn:t:nope"* ]]
    run "$VELLUM" audit
    [ "$status" -eq 2 ]
    run "$VELLUM" audit --all --due
    [ "$status" -eq 2 ]
    run "$VELLUM" audit --all --max-bytes lots
    [ "$status" -eq 2 ]
    run "$VELLUM" config audit.interval_days soon
    [ "$status" -eq 2 ]
    [ "$("$VELLUM" events --type "fixity check" --json | jfield 'len(d)')" = 0 ]
}

@test "--max-seconds: a tiny budget still audits one object, then stops" {
    # The clock runs fast (the test hooks move it on 1000 s at each read),
    # so the budget is spent after the first object on any machine, and a
    # coarse clock cannot make the audit look instantaneous.
    run with_hooks VELLUM_HOOK_CLOCK_STEP=1000 "$VELLUM" audit --all --max-seconds 1 --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["summary"]["objects"], d["summary"]["budget_reached"]')" = "1 True" ]
}

@test "the audit history survives reindex" {
    run "$VELLUM" audit --all
    [ "$status" -eq 0 ]
    run "$VELLUM" reindex
    [ "$status" -eq 0 ]
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield 'd["never_audited"], d["within_interval"]')" = "0 3" ]
}

# Six objects of ~1 MiB; a 2.5 MiB budget fits two a run; interval 3 days.
@test "--due under budgets: nine nightly runs audit each object exactly once per interval" {
    export VELLUM_NOW=1800000000          # 2027-01-15T08:00:00Z
    for o in 1 2 3 4 5 6; do
        mkdir -p "$BATS_TEST_TMPDIR/due$o"
        head -c 1048576 /dev/urandom > "$BATS_TEST_TMPDIR/due$o/blob.bin"
        "$VELLUM" ingest "$BATS_TEST_TMPDIR/due$o" --id "urn:due:$o" --quiet > /dev/null
    done
    "$VELLUM" config audit.interval_days 3
    "$VELLUM" config audit.max_bytes_per_run 2560K
    # The three small objects of setup() take part too (9 in all).
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield 'd["never_audited"], d["overdue"], d["within_interval"]')" = "9 0 0" ]
    log="$BATS_TEST_TMPDIR/due.log"
    for day in 0 1 2 3 4 5 6 7 8 9 10 11; do
        export VELLUM_NOW=$((1800000000 + 3600 + day * 86400))
        run "$VELLUM" audit --due --quiet --json
        [ "$status" -eq 0 ]
        echo "$output" | jfield '"\n".join("%d %s" % ('"$day"', o["id"]) for o in d["objects"])' >> "$log"
        [ "$(echo "$output" | jfield 'd["summary"]["bytes"] <= 2560 * 1024 and len(d["objects"]) >= 2')" = True ]
    done
    # Each object's audits are exactly one interval (3 days) apart, start in
    # the first interval, and none is ever skipped (12 days = 4 intervals).
    python3 - "$log" <<'EOF'
import collections, sys
days = collections.defaultdict(list)
for line in open(sys.argv[1]):
    d, oid = line.split()
    days[oid].append(int(d))
assert len(days) == 9, days
for oid, ds in days.items():
    assert ds[0] <= 2, (oid, ds)
    assert len(ds) == 4, (oid, ds)
    assert all(b - a == 3 for a, b in zip(ds, ds[1:])), (oid, ds)
EOF
    # The event log agrees: four fixity events per object, all successful.
    run "$VELLUM" events --type "fixity check" --json
    [ "$(echo "$output" | jfield 'sorted(__import__("collections").Counter(e["object"] for e in d).values())')" = "[4, 4, 4, 4, 4, 4, 4, 4, 4]" ]
    [ "$(echo "$output" | jfield 'set(e["outcome"] for e in d)')" = "{'success'}" ]
}

@test "--status: never audited, overdue, within, bytes to audit and the runs it takes" {
    export VELLUM_NOW=1800000000
    "$VELLUM" config audit.interval_days 3
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield 'd["objects"], d["never_audited"], d["overdue"], d["bytes_per_second"], d["cycle_complete_at"]')" = "3 3 0 0.0 None" ]
    [ "$(echo "$output" | jfield '[x["id"] for x in d["due"]]')" = "['urn:t:a', 'urn:t:b', 'urn:t:c']" ]
    bytes=$(echo "$output" | jfield 'd["bytes_to_audit"]')
    # A byte budget of about one object: three runs for the three.
    "$VELLUM" config audit.max_bytes_per_run $((bytes / 3 + 10))
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield 'd["runs_needed"]')" = 3 ]
    # Timed on a clock that moves (1 s a read), so the observed rate is
    # never a division by a zero duration, however coarse the real clock.
    run with_hooks VELLUM_HOOK_CLOCK_STEP=1 "$VELLUM" audit --due --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield '[o["id"] for o in d["objects"]], d["summary"]["budget_reached"]')" = "['urn:t:a'] True" ]
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield 'd["never_audited"], d["overdue"], d["within_interval"], d["runs_needed"], d["bytes_per_second"] > 0, d["cycle_complete_at"] >= "2027-01-16"')" = "2 0 1 2 True True" ]
    run "$VELLUM" audit --status
    [ "$status" -eq 0 ]
    [[ "$output" == *"objects: 3 (never audited 2, overdue 0, within 3 days 1, failed 0)"* ]]
    [[ "$output" == *"never    urn:t:b"* ]]
    [[ "$output" == *"cycle completes: 2027-"*"(2 daily runs of audit --due)"* ]]
    # Four days later urn:t:a is overdue.
    export VELLUM_NOW=$((1800000000 + 4 * 86400))
    run "$VELLUM" audit --status
    [[ "$output" == *"objects: 3 (never audited 2, overdue 1, within 3 days 0, failed 0)"* ]]
    [[ "$output" == *"overdue  urn:t:a  last audited 2027-01-15T08:00:00Z"* ]]
}
