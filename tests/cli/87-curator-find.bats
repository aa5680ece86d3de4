#!/usr/bin/env bats
# Issue 17, finding and counting: one vocabulary for files (items 1), audit
# status that leads with failures (2), ls/search (10), diff (11) and
# one-table CSV reports (14).

load helpers
bats_require_minimum_version 1.5.0

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC"
    printf 'alpha\n' > "$SRC/a.txt"
    printf 'beta\n' > "$SRC/b.txt"
    printf 'gamma\n' > "$SRC/c.txt"
}

@test "11: diff lists added, removed, changed and renamed files" {
    "$VELLUM" ingest "$SRC" --id urn:t:diff --message one
    printf 'alpha 2\n' > "$SRC/a.txt"
    mv "$SRC/b.txt" "$SRC/bb.txt"
    rm "$SRC/c.txt"
    printf 'zeta\n' > "$SRC/z.txt"
    "$VELLUM" ingest "$SRC" --id urn:t:diff --message two
    run "$VELLUM" diff urn:t:diff
    [ "$status" -eq 0 ]
    [[ "$output" == *"M data/a.txt"* ]]
    [[ "$output" == *"R data/b.txt -> data/bb.txt"* ]]
    [[ "$output" == *"D data/c.txt"* ]]
    [[ "$output" == *"A data/z.txt"* ]]
    run "$VELLUM" diff urn:t:diff v1 v2 --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["from"], d["to"], d["counts"]["renamed"], d["counts"]["added"], d["counts"]["removed"]')" = "v1 v2 1 1 1" ]
    run "$VELLUM" diff urn:t:diff v2 v2
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    run "$VELLUM" diff urn:t:diff v5
    [ "$status" -eq 2 ]
    [[ "$output" == *"no version v5"* ]]
}

@test "14: report --format csv writes one table a file, headers always present" {
    "$VELLUM" ingest "$SRC" --id urn:t:csv >/dev/null
    run "$VELLUM" report --format csv --table failures
    [ "$status" -eq 0 ]
    [ "$output" = $'object,kind,code,path,logical_path,algorithm,expected,actual,first_seen,last_seen,current,message\r' ]
    run "$VELLUM" report --format csv --table formats
    [ "${lines[0]}" = $'puid,mime,format_name,format_version,files,bytes\r' ]
    run "$VELLUM" report --format csv --out "$BATS_TEST_TMPDIR/csv/"
    [ "$status" -eq 0 ]
    [ "$(ls "$BATS_TEST_TMPDIR/csv" | tr '\n' ' ')" = "advice.csv copies.csv coverage.csv failures.csv formats.csv history.csv object_copies.csv replication.csv totals.csv " ]
    python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["metric", "value"] and ["objects", "1"] in rows, rows
' "$BATS_TEST_TMPDIR/csv/totals.csv"
}

@test "2: audit --status and the report's coverage bar lead with failed objects" {
    "$VELLUM" ingest "$SRC" --id urn:t:bad1 >/dev/null
    "$VELLUM" ingest "$SRC" --id urn:t:bad2 >/dev/null
    "$VELLUM" ingest "$SRC" --id urn:t:good >/dev/null
    for i in urn:t:bad1 urn:t:bad2; do printf 'rot' >> "$(object_dir "$i")/v1/content/data/a.txt"; done
    run "$VELLUM" audit --all
    [ "$status" -eq 1 ]
    run "$VELLUM" audit --status
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "FAILED: 2 objects failed their last audit: run 'vellum repair ID', then 'vellum audit ID'" ]
    [ "${lines[1]}" = "failed   urn:t:bad1  last audited $(echo "${lines[1]}" | awk '{print $5}')" ]
    [[ "$output" == *"cycle complete (failures above)"* ]]
    run "$VELLUM" audit --status --json
    [ "$(echo "$output" | jfield 'd["failed"], d["failed_objects"]')" = "2 ['urn:t:bad1', 'urn:t:bad2']" ]
    "$VELLUM" report --out "$BATS_TEST_TMPDIR/r.html"
    grep -q '<rect class="failed" x="0.000%" y="0" width="66.667%" height="28"><title>2 failed their last audit</title>' "$BATS_TEST_TMPDIR/r.html"
    run "$VELLUM" report --format csv --table coverage
    [[ "$output" == *$'last_failed,2\r'* ]]
}

@test "10: ls shows title and latest audit; ls --failed, ls --due; search over DC" {
    "$VELLUM" ingest "$SRC" --id urn:t:ann --dc "title=Letters of Ann Smith" \
        --dc creator=Smith,Ann --dc subject=Correspondence --dc date=1921 >/dev/null
    "$VELLUM" ingest "$SRC" --id urn:t:bob --dc "title=Bob's diaries" >/dev/null
    "$VELLUM" ingest "$SRC" --id urn:t:none >/dev/null
    "$VELLUM" audit urn:t:bob urn:t:none >/dev/null
    printf 'rot' >> "$(object_dir urn:t:bob)/v1/content/data/a.txt"
    run "$VELLUM" audit urn:t:bob
    [ "$status" -eq 1 ]
    run "$VELLUM" ls
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "urn:t:ann"*$'\tnever audited\tLetters of Ann Smith' ]]
    [[ "${lines[1]}" == "urn:t:bob"*$'\tFAIL '*$'\tBob\'s diaries' ]]
    [[ "${lines[2]}" == "urn:t:none"*$'\tpass '*$'\t-' ]]
    run "$VELLUM" ls --json
    [ "$(echo "$output" | jfield '[(o["title"], o["last_audit_result"]) for o in d]')" = "[('Letters of Ann Smith', None), (\"Bob's diaries\", 'fail'), (None, 'pass')]" ]
    run "$VELLUM" ls --failed
    [ "${#lines[@]}" -eq 1 ] && [[ "${lines[0]}" == "urn:t:bob"* ]]
    run "$VELLUM" ls --due
    [ "${#lines[@]}" -eq 1 ] && [[ "${lines[0]}" == "urn:t:ann"* ]]
    run "$VELLUM" search SMITH
    [ "$status" -eq 0 ]
    [ "$output" = $'urn:t:ann\tv1\ttitle: Letters of Ann Smith\tLetters of Ann Smith' ]
    run "$VELLUM" search correspond --json
    [ "$(echo "$output" | jfield '[(o["id"], o["matched"]["element"]) for o in d]')" = "[('urn:t:ann', 'subject')]" ]
    run "$VELLUM" search 1921
    [[ "$output" == *"date: 1921"* ]]
    run --separate-stderr "$VELLUM" search nowhere
    [ "$status" -eq 0 ] && [ -z "$output" ]
    [[ "$stderr" == *'no object'*'contains "nowhere"'* ]]
    # reindex puts the titles back from METS
    sqlite3 "$REPO/catalog.sqlite" 'DELETE FROM descriptive'
    run --separate-stderr "$VELLUM" search smith
    [ -z "$output" ]
    "$VELLUM" reindex >/dev/null
    run "$VELLUM" search smith
    [[ "$output" == "urn:t:ann"* ]]
}

@test "1: one way to count: ingest, ls, show, audit, export and report agree; one problem per damaged file" {
    run "$VELLUM" ingest "$SRC" --id urn:t:count
    [ "$output" = "urn:t:count v1 (3 files, 17 B (+ METS.xml))" ]
    run "$VELLUM" ls
    [[ "$output" == "urn:t:count"$'\t'"v1"$'\t'"3 files, 17 B (+ METS.xml)"$'\t'* ]]
    run "$VELLUM" ls --json
    [ "$(echo "$output" | jfield 'd[0]["files"], d[0]["bytes"], d[0]["metadata_files"]')" = "3 17 1" ]
    run "$VELLUM" show urn:t:count
    [[ "$output" == *"  v1    "*"  3 files (+ METS.xml)  "* ]]
    run "$VELLUM" audit urn:t:count
    [[ "${lines[0]}" == "pass urn:t:count (3 files, 17 B (+ METS.xml); read 4 stored files, "* ]]
    run "$VELLUM" export urn:t:count "$BATS_TEST_TMPDIR/bag" --format bagit
    [[ "$output" == *"(bagit, 3 files, 17 B (+ METS.xml), every digest verified)" ]]
    run "$VELLUM" export urn:t:count "$BATS_TEST_TMPDIR/ocfl" --format ocfl
    [[ "$output" == *"(ocfl, 3 files, 17 B (+ METS.xml); "*" stored files copied, every digest verified)" ]]
    run "$VELLUM" report --json
    [ "$(echo "$output" | jfield 'd["totals"]["files"], d["totals"]["bytes"], d["totals"]["metadata_files"]')" = "3 17 1" ]
}

@test "1: a file damaged under two algorithms is one problem naming both" {
    rm -rf "$REPO"
    setup_repo --fixity md5
    "$VELLUM" ingest "$SRC" --id urn:t:two >/dev/null
    printf 'rot' >> "$(object_dir urn:t:two)/v1/content/data/a.txt"
    printf 'rot' >> "$(object_dir urn:t:two)/v1/content/data/b.txt"
    run --separate-stderr "$VELLUM" audit urn:t:two
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"urn:t:two: 2 problems"* ]]
    [[ "$output" == *"  E092 v1/content/data/a.txt: sha512, md5 digests do not match: sha512 expected "* ]]
    [ "$(grep -c '^  E092' <<< "$output")" -eq 2 ]
    run "$VELLUM" report --format csv --table failures
    [ "${#lines[@]}" -eq 3 ]
    [[ "${lines[1]}" == *',"sha512, md5",'* ]]
    run "$VELLUM" report --json
    [ "$(echo "$output" | jfield 'len(d["failures"])')" = 2 ]
}

@test "a curator's day: deposit, damage, audit, --status, report, search, diff, export; the counts agree" {
    "$VELLUM" ingest "$SRC" --id urn:t:day --dc "title=Gamma papers" >/dev/null
    printf 'delta\n' > "$SRC/d.txt"
    run "$VELLUM" ingest "$SRC" --id urn:t:day
    [ "$output" = "urn:t:day v2 (4 files, 23 B (+ METS.xml))" ]
    run "$VELLUM" diff urn:t:day
    [[ "$output" == *"A data/d.txt"* ]]
    run "$VELLUM" search gamma
    [[ "$output" == "urn:t:day"$'\t'"v2"$'\t'"title: Gamma papers"* ]]
    cp "$(object_dir urn:t:day)/v1/content/data/a.txt" "$BATS_TEST_TMPDIR/a.good"
    printf 'rot' >> "$(object_dir urn:t:day)/v1/content/data/a.txt"
    run --separate-stderr "$VELLUM" audit --all
    [ "$status" -eq 1 ]
    [[ "${lines[0]}" == "FAIL urn:t:day (4 files, 23 B (+ METS.xml); read "* ]]
    [ "$(grep -c '^  E092' <<< "$output")" -eq 1 ]
    run "$VELLUM" audit --status
    [ "${lines[0]}" = "FAILED: 1 object failed its last audit: run 'vellum repair urn:t:day', then 'vellum audit urn:t:day'" ]
    run "$VELLUM" ls --failed
    [[ "$output" == "urn:t:day"$'\t'"v2"$'\t'"4 files, 23 B (+ METS.xml)"$'\t'*$'\tFAIL '*$'\tGamma papers' ]]
    run "$VELLUM" report --json
    [ "$(echo "$output" | jfield 'd["totals"]["files"], d["totals"]["bytes"], len(d["failures"]), d["coverage"]["last_failed"]')" = "4 23 1 1" ]
    # put the file back (no replica to repair from) and export
    cp "$BATS_TEST_TMPDIR/a.good" "$(object_dir urn:t:day)/v1/content/data/a.txt"
    run "$VELLUM" export urn:t:day "$BATS_TEST_TMPDIR/bag" --format bagit
    [[ "$output" == *"(bagit, 4 files, 23 B (+ METS.xml), every digest verified)" ]]
    [ "$(find "$BATS_TEST_TMPDIR/bag/data" -type f | wc -l)" -eq 4 ]
}
