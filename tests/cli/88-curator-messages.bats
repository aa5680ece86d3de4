#!/usr/bin/env bats
# What a curator reads (issue 17, items 3, 5, 6, 8 and 9): the default
# depositor from the repository's settings, no silent empty answers from
# `events`, --json everywhere, one-line messages that suggest what was
# meant, and event details that name their files and line up.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC"
    printf 'one\n' > "$SRC/a.txt"
    printf 'two\n' > "$SRC/b.txt"
}

@test "3: the depositor comes from init's --user-name/--user-address; without an address ingest says once how to set it" {
    # setup_repo gave init --user-name and --user-address
    run "$VELLUM" config user.address
    [ "$output" = "mailto:depositor@example.org" ]
    run --separate-stderr "$VELLUM" ingest "$SRC" --id urn:m:set
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    run "$VELLUM" show urn:m:set --json
    [ "$(echo "$output" | jfield 'd["versions"][0]["user"], d["versions"][0]["address"]')" = \
      "Test Depositor mailto:depositor@example.org" ]
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "validated 1 object: 0 errors, 0 warnings" ]

    # a repository without them: one note, and the W008 it warns of
    R2="$BATS_TEST_TMPDIR/bare"
    "$VELLUM" init --repo "$R2" >/dev/null
    run --separate-stderr "$VELLUM" ingest "$SRC" --id urn:m:bare --repo "$R2"
    [ "$status" -eq 0 ]
    [ "$stderr" = "vellum: note: no depositor address: this version names '$(id -un)' with no address (validate warns W008); set them with 'vellum config user.name NAME' and 'vellum config user.address mailto:...'" ]
    run "$VELLUM" validate --all --repo "$R2"
    [[ "$output" == *"W008"* ]]
    "$VELLUM" config user.name "Ann Archivist" --repo "$R2"
    "$VELLUM" config user.address mailto:ann@example.org --repo "$R2"
    run --separate-stderr "$VELLUM" ingest "$SRC" --id urn:m:after --repo "$R2"
    [ -z "$stderr" ]
    run "$VELLUM" validate urn:m:after --repo "$R2"
    [ "${lines[-1]}" = "validated 1 object: 0 errors, 0 warnings" ]
}

@test "5: events refuses unknown ids, outcomes and types, and takes a type's beginning" {
    "$VELLUM" ingest "$SRC" --id urn:m:abc >/dev/null
    "$VELLUM" audit urn:m:abc >/dev/null
    run --separate-stderr "$VELLUM" events urn:example:nope
    [ "$status" -eq 2 ]
    [ "$stderr" = 'vellum: no object with id "urn:example:nope"' ]
    run --separate-stderr "$VELLUM" events --outcome failed
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = 'vellum events: --outcome: unknown event outcome "failed"; the outcomes are: success, fail, warning' ]
    run "$VELLUM" events --type fixity --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'sorted(set(e["type"] for e in d)), len(d)')" = "['fixity check'] 1" ]
    run --separate-stderr "$VELLUM" events --type re
    [ "$status" -eq 2 ]
    [ "${stderr_lines[0]}" = 'vellum events: --type: event type "re" is ambiguous (replication, recovery); the types are: ingestion, message digest calculation, format identification, fixity check, unpacking, validation, metadata extraction, dissemination, creation, replication, recovery, quarantine, deletion' ]
    run --separate-stderr "$VELLUM" events --type nonsense
    [ "$status" -eq 2 ]
    [[ "${stderr_lines[0]}" == 'vellum events: --type: unknown event type "nonsense"; the types are: ingestion, '*', quarantine, deletion' ]]
    run "$VELLUM" events --type quar
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "6: config --json prints every setting as one object, a key as {key, value}; every command documents --json" {
    run "$VELLUM" config --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["digest"], d["user.name"], d["audit.interval_days"], d["replicate.after_ingest"]')" = \
      "sha512 Test Depositor 90 false" ]
    run "$VELLUM" config user.name --json
    [ "$(echo "$output" | jfield 'd["key"], d["value"]')" = "user.name Test Depositor" ]
    run "$VELLUM" config pronom.signatures --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield 'd["value"]')" = "None" ]
    run "$VELLUM" config audit.interval_days 30 --json
    [ "$(echo "$output" | jfield 'd["key"], d["value"]')" = "audit.interval_days 30" ]
    mkdir "$BATS_TEST_TMPDIR/rep"
    "$VELLUM" replica add far "$BATS_TEST_TMPDIR/rep" >/dev/null
    run "$VELLUM" replica rm far --json
    [ "$(echo "$output" | jfield 'd["name"], d["forgotten"]')" = "far True" ]
    for c in init ingest ls show get cat export bag validate replica replicate repair \
             reindex recover events identify audit report config; do
        run "$VELLUM" "$c" --help
        [[ "$output" == *"--json"* ]] || { echo "$c --help lacks --json"; return 1; }
    done
    run "$VELLUM" cat --help
    [[ "$output" == *"--json has no effect: stdout carries the file's bytes."* ]]
}

@test "8: one line per bad option, did you mean, the repository named both ways, init twice" {
    run --separate-stderr "$VELLUM" ls --bogus
    [ "$status" -eq 2 ]
    [ "$stderr" = "vellum ls: unknown option '--bogus'
(see 'vellum ls --help')" ]
    run --separate-stderr "$VELLUM" events --type
    [ "${stderr_lines[0]}" = "vellum events: option '--type' needs a value" ]
    run --separate-stderr "$VELLUM" ingset
    [ "$status" -eq 2 ]
    [ "$stderr" = "vellum: 'ingset' is not a vellum command; did you mean 'ingest'?" ]
    "$VELLUM" ingest "$SRC" --id urn:x:abc >/dev/null
    for cmd in show events; do
        run --separate-stderr "$VELLUM" $cmd urn:x:abd
        [ "$status" -eq 2 ]
        [ "$stderr" = 'vellum: no object with id "urn:x:abd"; did you mean urn:x:abc?' ]
    done
    run --separate-stderr "$VELLUM" get urn:x:ab "$BATS_TEST_TMPDIR/out"
    [ "$stderr" = 'vellum: no object with id "urn:x:ab"; did you mean urn:x:abc?' ]
    run --separate-stderr "$VELLUM" ls --repo "$BATS_TEST_TMPDIR/nothing"
    [ "$status" -eq 2 ]
    [ "$stderr" = "vellum: $BATS_TEST_TMPDIR/nothing is not a vellum repository (run 'vellum init', or name one with --repo DIR or the VELLUM_REPO environment variable)" ]
    run --separate-stderr "$VELLUM" init --repo "$REPO"
    [ "$status" -eq 2 ]
    [ "$stderr" = "vellum: $REPO is already a vellum repository" ]
}

@test "8: reindex says what it did; config shows defaults; ingest --help lists --dc and --metadata; one file" {
    run "$VELLUM" ingest "$SRC/a.txt" --id urn:m:one
    [[ "$output" == "urn:m:one v1 (1 file, "* ]]
    run "$VELLUM" reindex
    [ "$output" = "reindexed 1 object: catalog rebuilt from the store; no file format needed restoring from the stored METS" ]
    rm -f "$REPO/catalog.sqlite" "$REPO/catalog.sqlite-wal" "$REPO/catalog.sqlite-shm"
    run "$VELLUM" reindex
    [ "$output" = "reindexed 1 object: catalog rebuilt from the store; the formats of 2 files restored from the stored METS" ]
    run "$VELLUM" config
    [[ "$output" == *$'\naudit.interval_days = 90 (default)\n'* ]]
    [[ "$output" == *$'\ningest.reserve = 1% (default)\n'* ]]
    [[ "$output" == *$'\nuser.name = Test Depositor\n'* ]]
    run "$VELLUM" ingest --help
    [[ "${lines[4]}" == *"[--dc ELEMENT=VALUE]... [--metadata FILE]"* ]]
}

@test "8: show lines up the table when a path is long" {
    long="$SRC/a-folder-with-a-rather-long-name/and-another-one-below-it/and-a-third"
    mkdir -p "$long"
    printf 'deep\n' > "$long/deep file.txt"
    "$VELLUM" ingest "$SRC" --id urn:m:long >/dev/null
    run "$VELLUM" show urn:m:long
    [ "$status" -eq 0 ]
    # size, digest, format and PUID columns first, the same on every line;
    # the logical path, then where it is stored, last
    printf '%s\n' "$output" | grep ' sha512:' | python3 -c "
import sys
starts = set()
for line in sys.stdin:
    f = line.split()
    starts.add((line.index('sha512:'), len(line.split('  data/')[0]) if '  data/' in line else None))
    assert f[-1].startswith('v1/content/') or f[-2].startswith('v1/content/'), line
cols = set(s[0] for s in starts)
assert len(cols) == 1, cols
"
    [[ "$output" == *"data/a.txt"*"v1/content/data/a.txt"* ]]
}

@test "9: format identification warnings name their files; multi-line details line up" {
    head -c 64 /dev/urandom > "$SRC/blob.unknownext"
    "$VELLUM" ingest "$SRC" --id urn:m:fmt >/dev/null
    run "$VELLUM" events urn:m:fmt --type format --outcome warning
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "    1 file not identified: data/blob.unknownext" ]
    # two damaged files: the audit's problems one per line, indented alike
    d=$(object_dir urn:m:fmt)
    chmod u+w "$d/v1/content/data/a.txt" "$d/v1/content/data/b.txt"
    printf 'X' > "$d/v1/content/data/a.txt"
    printf 'Y' > "$d/v1/content/data/b.txt"
    run "$VELLUM" audit urn:m:fmt
    [ "$status" -eq 1 ]
    run "$VELLUM" events urn:m:fmt --type fixity
    [[ "${lines[0]}" == *"fixity check"*"fail"* ]]
    [ "${#lines[@]}" -ge 3 ]
    for l in "${lines[@]:1}"; do
        [[ "$l" == "    "[!\ ]* ]] || { echo "not indented: $l"; return 1; }
    done
    [[ "${lines[1]}" == "    E092 digest v1/content/data/a.txt: "* ]]
    [[ "${lines[2]}" == "    E092 digest v1/content/data/b.txt: "* ]]
}
