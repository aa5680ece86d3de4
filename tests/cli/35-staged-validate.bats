#!/usr/bin/env bats
# validate and audit check a staged head (OCFL Community Extension 0005) as
# the version it is: its inventory and sidecar, its versions against the
# root's, its content against its manifest with every digest, its revision
# markers and the root sidecar's copy.  One damage per test.

load helpers
bats_require_minimum_version 1.5.0

EXT=extensions/0005-mutable-head
USER_OPTS=(--user-name "Kim Killer" --user-address mailto:kim@example.org --quiet)

setup() {
    setup_repo
    T="$BATS_TEST_TMPDIR"
    mkdir -p "$T/a/sub" "$T/b"
    printf 'alpha\n' > "$T/a/a.txt"
    printf 'shared\n' > "$T/a/sub/s.txt"
    printf 'beta\n' > "$T/b/b.txt"
    "$VELLUM" ingest "$T/a" --id urn:v:s "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:v:s --stage --merge "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/a" --id urn:v:ok "${USER_OPTS[@]}"
    D=$(object_dir urn:v:s)
    H="$D/$EXT/head"
    chmod -R u+w "$D/$EXT"
}

# The codes of a validate --json run, sorted and unique.
codes_of() {
    jfield '" ".join(sorted(set(f["code"] for f in d)))'
}

# Rewrite the head inventory with a python expression over d, then its
# sidecar, so that only the edit is a finding.
edit_head() {
    python3 - "$H/inventory.json" "$1" <<'EOF'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
exec(sys.argv[2])
open(p, "w").write(json.dumps(d, indent=2, sort_keys=True) + "\n")
EOF
    printf '%s inventory.json\n' "$(sha512sum "$H/inventory.json" | cut -d' ' -f1)" > "$H/inventory.json.sha512"
}

# validate urn:v:s fails with exactly the codes given, and audit too.
fails_with() {
    run "$VELLUM" validate urn:v:s --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | codes_of)" = "$1" ] || { echo "codes: $(echo "$output" | codes_of)"; return 1; }
    run --separate-stderr "$VELLUM" audit urn:v:s
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"ALERT fixity failure in urn:v:s"* ]]
}

@test "a clean staged head validates and audits with no finding" {
    [ -f "$H/content/r1/data/b.txt" ]
    run "$VELLUM" validate urn:v:s
    [ "$status" -eq 0 ]
    [[ "$output" == *"validated 1 object: 0 errors, 0 warnings"* ]]
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
    [[ "$output" == *"validated 2 objects: 0 errors, 0 warnings"* ]]
    run --separate-stderr "$VELLUM" audit urn:v:s
    [ "$status" -eq 0 ]
    # a second revision, and a commit, stay clean
    "$VELLUM" ingest "$T/a" --id urn:v:s --stage "${USER_OPTS[@]}"
    run "$VELLUM" validate urn:v:s
    [ "$status" -eq 0 ]
    [[ "$output" == *" 0 errors, 0 warnings"* ]]
    "$VELLUM" commit urn:v:s --quiet
    run "$VELLUM" validate urn:v:s
    [ "$status" -eq 0 ]
    [[ "$output" == *" 0 errors, 0 warnings"* ]]
}

@test "a corrupted staged file: E092 naming it in validate and audit; --no-digests does not read it" {
    printf 'BETA\n' > "$H/content/r1/data/b.txt"
    fails_with E092
    run "$VELLUM" validate urn:v:s --json
    [ "$(echo "$output" | jfield '[(f["problem"], f["content_path"], f["path"].endswith("'"$EXT"'/head/inventory.json")) for f in d]')" = \
      "[('mismatch', '$EXT/head/content/r1/data/b.txt', True)]" ]
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E092 urn:v:s: $EXT/head/inventory.json: manifest sha512 digest "*" for $EXT/head/content/r1/data/b.txt does not match the file"* ]]
    run --separate-stderr "$VELLUM" audit urn:v:s --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield '[(f["code"], f["kind"], f["path"]) for f in d["objects"][0]["failures"] if f["code"]]')" = \
      "[('E092', 'digest', '$EXT/head/content/r1/data/b.txt')]" ]
    run "$VELLUM" validate urn:v:s --no-digests
    [ "$status" -eq 0 ]
    [[ "$output" == *" 0 errors, 0 warnings"* ]]
}

@test "a deleted staged file: E092 missing, with or without digests" {
    rm "$H/content/r1/METS.xml"
    fails_with E092
    run "$VELLUM" validate urn:v:s --no-digests --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield '[(f["code"], f["problem"], f["content_path"]) for f in d]')" = \
      "[('E092', 'missing', '$EXT/head/content/r1/METS.xml')]" ]
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"manifest content path $EXT/head/content/r1/METS.xml does not exist"* ]]
    run --separate-stderr "$VELLUM" audit urn:v:s --json
    [ "$(echo "$output" | jfield '[(f["code"], f["kind"], f["path"]) for f in d["objects"][0]["failures"] if f["code"]]')" = \
      "[('E092', 'missing', '$EXT/head/content/r1/METS.xml')]" ]
    # the last file of a folder gone leaves it empty: E024 as in a version
    rm "$H/content/r1/data/b.txt"
    run "$VELLUM" validate urn:v:s --json
    [ "$(echo "$output" | codes_of)" = "E024 E092" ]
}

@test "an extra file in head/content: E023 naming it" {
    printf 'stowaway\n' > "$H/content/r1/data/extra.txt"
    fails_with E023
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E023 urn:v:s: $EXT/head/content/r1/data/extra.txt: file is not in the manifest of the staged head's inventory"* ]]
}

@test "a wrong head sidecar: E060 naming the staged sidecar" {
    printf '%0128d inventory.json\n' 0 > "$H/inventory.json.sha512"
    fails_with E060
    run "$VELLUM" validate urn:v:s --json
    [[ "$(echo "$output" | jfield 'd[0]["path"]')" == *"/$EXT/head/inventory.json.sha512" ]]
    rm "$H/inventory.json.sha512"
    fails_with E058
}

@test "the head inventory's earlier versions differ from the root's: E066" {
    edit_head 'd["versions"]["v1"]["state"] = {k: [p.replace("a.txt", "z.txt") for p in v] for k, v in d["versions"]["v1"]["state"].items()}'
    fails_with E066
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E066 urn:v:s: $EXT/head/inventory.json: version v1 state differs from the root inventory"* ]]
}

@test "a head version that is not the root's head + 1: E040" {
    edit_head 'd["versions"]["v3"] = d["versions"].pop("v2"); d["versions"]["v2"] = dict(d["versions"]["v1"]); d["head"] = "v3"'
    fails_with E040
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E040 urn:v:s: $EXT/head/inventory.json: head is 'v3' in the staged head's inventory, but the root inventory's head is v1"* ]]
}

@test "an id unlike the root's: E110" {
    edit_head 'd["id"] = "urn:v:other"'
    fails_with E110
}

@test "root-inventory.json.sha512 unlike the root sidecar: a W0005 version conflict, exit 0" {
    printf '%0128d inventory.json\n' 0 > "$D/$EXT/root-inventory.json.sha512"
    run "$VELLUM" validate urn:v:s --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield '[(f["code"], f["severity"]) for f in d]')" = "[('W0005', 'warning')]" ]
    run "$VELLUM" validate urn:v:s
    [ "$status" -eq 0 ]
    [[ "$output" == *"W0005 urn:v:s: $EXT/root-inventory.json.sha512: differs from inventory.json.sha512: version conflict"* ]]
    [[ "$output" == *" 0 errors, 1 warning"* ]]
    run --separate-stderr "$VELLUM" audit urn:v:s
    [ "$status" -eq 0 ]
    # with another finding, that one decides
    printf 'BETA\n' > "$H/content/r1/data/b.txt"
    run "$VELLUM" validate urn:v:s --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | codes_of)" = "E092 W0005" ]
    # a missing copy is an error
    rm "$D/$EXT/root-inventory.json.sha512"
    printf 'beta\n' > "$H/content/r1/data/b.txt"
    fails_with E0005
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E0005 urn:v:s: $EXT/root-inventory.json.sha512: missing"* ]]
}

@test "a missing revision marker: E0005 naming the revision folder" {
    rm "$D/$EXT/revisions/r1"
    fails_with E0005
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E0005 urn:v:s: $EXT/head/content/r1: revision folder has no revision marker $EXT/revisions/r1"* ]]
}

@test "a malformed revision marker or a stray file among them: E0005" {
    printf 'r1\n' > "$D/$EXT/revisions/r1"
    fails_with E0005
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E0005 urn:v:s: $EXT/revisions/r1: revision marker does not hold exactly 'r1'"* ]]
    printf 'r1' > "$D/$EXT/revisions/r1"
    printf 'x' > "$D/$EXT/revisions/notes"
    fails_with E0005
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E0005 urn:v:s: $EXT/revisions/notes: unexpected file among the revision markers"* ]]
}

@test "an extension folder without head/inventory.json: E0005, recover may settle it" {
    rm -r "$H"
    run "$VELLUM" validate urn:v:s --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield '[(f["code"], f["severity"]) for f in d]')" = "[('E0005', 'error')]" ]
    run "$VELLUM" validate urn:v:s
    [[ "$output" == *"E0005 urn:v:s: $EXT: extension folder without an active staged head (no head/inventory.json)"*"vellum recover"* ]]
    # the other object is not affected
    run "$VELLUM" validate urn:v:ok
    [ "$status" -eq 0 ]
}

@test "a root inventory naming a file under extensions/: E042" {
    chmod u+w "$D/inventory.json" "$D/inventory.json.sha512" "$D/v1/inventory.json" "$D/v1/inventory.json.sha512" "$D" "$D/v1"
    python3 - "$D/inventory.json" "$EXT" <<'EOF'
import json, sys
p, ext = sys.argv[1], sys.argv[2]
d = json.load(open(p))
k = next(iter(d["manifest"]))
d["manifest"][k].append(ext + "/head/content/r1/data/b.txt")
open(p, "w").write(json.dumps(d, indent=2) + "\n")
EOF
    printf '%s inventory.json\n' "$(sha512sum "$D/inventory.json" | cut -d' ' -f1)" > "$D/inventory.json.sha512"
    cp "$D/inventory.json" "$D/inventory.json.sha512" "$D/v1/"
    cp "$D/inventory.json.sha512" "$D/$EXT/root-inventory.json.sha512"
    run "$VELLUM" validate urn:v:s --no-digests
    [ "$status" -eq 1 ]
    [[ "$output" == *"E042 urn:v:s: inventory.json: content path '$EXT/head/content/r1/data/b.txt' is not inside a version folder"* ]]
}
