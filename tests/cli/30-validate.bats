#!/usr/bin/env bats
# vellum validate: output format, --json, exit codes, --path on storage roots
# and bare objects, --no-digests.  Fixtures come from
# tests/fixtures/ocfl/make-fixtures, built once into a temporary folder.

setup_file() {
    export FX="$BATS_FILE_TMPDIR/fx"
    python3 "$VELLUM_TESTS/fixtures/ocfl/make-fixtures" "$FX"
}

# Checks a --json output: an array of {code, severity, object, path,
# message} and the finding's facts {problem, object_root, content_path,
# algorithm, expected, actual} (null where they do not apply).
json_check() {
    python3 -c '
import json, sys
a = json.load(sys.stdin)
assert isinstance(a, list), "not an array"
facts = {"problem", "object_root", "content_path", "algorithm", "expected",
         "actual"}
for f in a:
    assert set(f) == {"code", "severity", "object", "path", "message"} | facts, f
    assert all(isinstance(f[k], str) for k in
               ("code", "severity", "object", "path", "message", "problem")), f
    assert all(f[k] is None or isinstance(f[k], str) for k in facts), f
    assert f["problem"] in ("other", "mismatch", "missing", "unreadable",
                            "unexpected"), f
    assert f["severity"] == ("warning" if f["code"][0] == "W" else "error"), f
print(" ".join(sorted(f["code"] for f in a)))
'
}

@test "a valid object: exit 0 and a count line" {
    run "$VELLUM" validate --path "$FX/good/minimal"
    [ "$status" -eq 0 ]
    [ "$output" = "validated 1 object: 0 errors, 0 warnings" ]
}

@test "a 1.0 object and a zero-padded object are valid" {
    run "$VELLUM" validate --path "$FX/good/spec-1.0"
    [ "$status" -eq 0 ]
    [ "$output" = "validated 1 object: 0 errors, 0 warnings" ]
    run "$VELLUM" validate --path "$FX/good/zero-padded"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "W001 urn:example:zero-padded: inventory.json: "* ]]
    [ "${lines[-1]}" = "validated 1 object: 0 errors, 1 warning" ]
}

@test "a corrupted content file: E092 line naming the file, exit 1" {
    run "$VELLUM" validate --path "$FX/bad/E092-content-digest-mismatch"
    [ "$status" -eq 1 ]
    [[ "${lines[0]}" == "E092 urn:example:E092-content-digest-mismatch: "*"v1/content/a.txt"* ]]
    [ "${lines[-1]}" = "validated 1 object: 1 error, 0 warnings" ]
}

@test "--no-digests skips the content corruption" {
    run "$VELLUM" validate --no-digests --path "$FX/bad/E092-content-digest-mismatch"
    [ "$status" -eq 0 ]
    [ "$output" = "validated 1 object: 0 errors, 0 warnings" ]
}

@test "--no-digests still reports structure errors" {
    run "$VELLUM" validate --no-digests --path "$FX/bad/E015-extra-file-in-version"
    [ "$status" -eq 1 ]
    [[ "${lines[0]}" == "E015 "*"v1/notes.txt: "* ]]
}

@test "--json: an array of findings with every field" {
    run "$VELLUM" validate --json --path "$FX/bad/E023+E042-content-path-outside-version"
    [ "$status" -eq 1 ]
    codes=$(echo "$output" | json_check)
    [ "$codes" = "E023 E042" ]
}

@test "--json: a finding's facts, for programs that act on it" {
    d="$FX/bad/E092-content-digest-mismatch"
    run "$VELLUM" validate --json --path "$d"
    [ "$status" -eq 1 ]
    codes=$(echo "$output" | json_check)
    [ "$codes" = "E092" ]
    actual=$(sha512sum "$d/v1/content/a.txt" | cut -d' ' -f1)
    echo "$output" | ACTUAL="$actual" python3 -c '
import json, os, sys
[f] = json.load(sys.stdin)
assert f["problem"] == "mismatch", f
assert f["object_root"] == "" and f["content_path"] == "v1/content/a.txt", f
assert f["algorithm"] == "sha512", f
assert len(f["expected"]) == 128 and f["expected"] != f["actual"], f
assert f["actual"] == os.environ["ACTUAL"], f'
    run "$VELLUM" validate --json --path "$FX/bad/E092-missing-content-file"
    [ "$status" -eq 1 ]
    echo "$output" | python3 -c '
import json, sys
[f] = json.load(sys.stdin)
assert (f["problem"], f["content_path"]) == ("missing", "v2/content/b.txt"), f
assert f["algorithm"] is None and f["expected"] is None, f'
}

@test "--json on a valid object is an empty array" {
    run "$VELLUM" validate --json --path "$FX/good/fixity-all-algorithms"
    [ "$status" -eq 0 ]
    codes=$(echo "$output" | json_check)
    [ "$codes" = "" ]
}

@test "warnings only: exit 0" {
    run "$VELLUM" validate --path "$FX/bad/W004-sha256"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == W004* ]]
    [ "${lines[-1]}" = "validated 1 object: 0 errors, 1 warning" ]
}

@test "--path on a storage root validates every object" {
    run "$VELLUM" validate --path "$FX/good/storage-root-0004"
    [ "$status" -eq 0 ]
    [ "$output" = "validated 2 objects: 0 errors, 0 warnings" ]
}

@test "--path on a storage root reports hierarchy and object findings" {
    run "$VELLUM" validate --json --path "$FX/bad/E084-file-in-intermediate-folder"
    [ "$status" -eq 1 ]
    echo "$output" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [(f["code"], f["path"]) for f in a] == [("E084", "aa/stray.txt")], a'
    run "$VELLUM" validate --path "$FX/bad/E083-object-not-where-layout-puts-it"
    [ "$status" -eq 1 ]
    [[ "${lines[0]}" == "E083 urn:example:two: "* ]]
    [ "${lines[-1]}" = "validated 2 objects: 1 error, 0 warnings" ]
}

@test "a folder without a declaration is an object missing it: E003, exit 1" {
    run "$VELLUM" validate --path "$FX/bad/E003+E063-empty-folder"
    [ "$status" -eq 1 ]
    [[ "${lines[0]}" == "E003 "*"conformance declaration"* ]]
    [[ "${lines[1]}" == "E063 "*"inventory.json: the object has no inventory" ]]
    [ "${lines[-1]}" = "validated 1 object: 2 errors, 0 warnings" ]
    run "$VELLUM" validate --json --path "$FX/bad/E003-no-declaration"
    [ "$status" -eq 1 ]
    codes=$(echo "$output" | json_check)
    [ "$codes" = "E003" ]
    mkdir -p "$BATS_TEST_TMPDIR/plain/sub"
    echo x > "$BATS_TEST_TMPDIR/plain/sub/notes.txt"
    run "$VELLUM" validate --json --path "$BATS_TEST_TMPDIR/plain"
    [ "$status" -eq 1 ]
    codes=$(echo "$output" | json_check)
    [ "$codes" = "E001 E003 E063" ]
}

@test "a tree of objects without a root declaration is a storage root: E069" {
    run "$VELLUM" validate --path "$FX/bad/E069-no-root-declaration"
    [ "$status" -eq 1 ]
    [[ "${lines[0]}" == "E069 "* ]]
    [ "${lines[-1]}" = "validated 1 object: 1 error, 0 warnings" ]
}

@test "a path that does not exist or is a file: exit 2" {
    run "$VELLUM" validate --path "$FX/does-not-exist"
    [ "$status" -eq 2 ]
    [[ "$output" == *"does-not-exist does not exist"* ]]
    run "$VELLUM" validate --path "$FX/good/minimal/inventory.json"
    [ "$status" -eq 2 ]
    [[ "$output" == *"inventory.json is not a folder, so not an OCFL storage root or object"* ]]
}

@test "bad usage: exit 2" {
    run "$VELLUM" validate --path "$FX/good/minimal" --all
    [ "$status" -eq 2 ]
    run "$VELLUM" validate --path "$FX/good/minimal" some-id
    [ "$status" -eq 2 ]
    run "$VELLUM" validate --bogus
    [ "$status" -eq 2 ]
}

@test "--help describes the command" {
    run "$VELLUM" validate --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--no-digests"* ]]
}

@test "inside a repository: --all, IDs, and an unknown ID" {
    repo="$BATS_TEST_TMPDIR/repo"
    run "$VELLUM" init --repo "$repo"
    [ "$status" -eq 0 ] || skip "vellum init is not available"
    mkdir -p "$BATS_TEST_TMPDIR/src"
    echo hello > "$BATS_TEST_TMPDIR/src/a.txt"
    run "$VELLUM" ingest --repo "$repo" --id urn:example:r1 "$BATS_TEST_TMPDIR/src"
    [ "$status" -eq 0 ] || skip "vellum ingest is not available"
    run "$VELLUM" validate --repo "$repo" --all
    [ "$status" -eq 0 ]
    [[ "${lines[-1]}" == "validated 1 object: 0 errors, "* ]]
    run "$VELLUM" validate --repo "$repo" urn:example:r1
    [ "$status" -eq 0 ]
    [[ "${lines[-1]}" == "validated 1 object: 0 errors, "* ]]
    VELLUM_REPO="$repo" run "$VELLUM" validate urn:example:absent
    [ "$status" -eq 2 ]
}
