#!/usr/bin/env bats
# suite: plain (make check runs this file in the plain suite only)
# Killed at every write to the bucket in turn (VELLUM_S3_KILL_AT=N, a hook
# of the test build), a deposit into an S3 storage root leaves the object
# as it was or as it is meant to be: after `vellum recover` it validates,
# `get` gives one of the two states byte for byte, and the object holds no
# key its inventory does not name.  Needs the S3 test server tests/run starts.

load helpers

setup_file() {
    [ -n "${AWS_ENDPOINT_URL:-}" ] && [ -n "${VELLUM_TEST_S3CFG:-}" ] || {
        echo "no S3 test server: run through tests/run, which starts one" >&2
        return 1
    }
}

s3() { s3cmd -c "$VELLUM_TEST_S3CFG" "$@"; }

setup() {
    BUCKET="vk-$$-$RANDOM$RANDOM"
    s3 mb "s3://$BUCKET" >/dev/null
    export REPO="$BATS_TEST_TMPDIR/repo" VELLUM_REPO="$BATS_TEST_TMPDIR/repo"
    "$VELLUM" init --repo "$REPO" --store "s3://$BUCKET/r" --user-name T \
        --user-address mailto:t@example.org >/dev/null
    mkdir -p "$BATS_TEST_TMPDIR/v1/sub" "$BATS_TEST_TMPDIR/v2/sub"
    printf 'one\n' > "$BATS_TEST_TMPDIR/v1/a.txt"
    printf 'two\n' > "$BATS_TEST_TMPDIR/v1/sub/b.txt"
    printf 'ONE\n' > "$BATS_TEST_TMPDIR/v2/a.txt"
    printf 'three\n' > "$BATS_TEST_TMPDIR/v2/sub/c.txt"
}

teardown() {
    s3 rb --recursive --force "s3://$BUCKET" >/dev/null 2>&1 || true
}

object_key() {
    local h
    h=$(printf '%s' "$1" | sha256sum | cut -c1-64)
    echo "r/${h:0:3}/${h:3:3}/${h:6:3}/$h"
}

# Every key under the object is one its root inventory names (content,
# inventories, sidecars, the declaration), and every one it names is there.
keys_match_inventory() {
    local key
    key=$(object_key "$1")
    s3 ls -r "s3://$BUCKET/$key/" | awk '{print $4}' | sed "s|^s3://$BUCKET/$key/||" | sort > "$BATS_TEST_TMPDIR/keys"
    if [ ! -s "$BATS_TEST_TMPDIR/keys" ]; then
        return 0    # no object at all: nothing left over either
    fi
    s3 get --force "s3://$BUCKET/$key/inventory.json" "$BATS_TEST_TMPDIR/inv.json" >/dev/null
    python3 - "$BATS_TEST_TMPDIR/inv.json" > "$BATS_TEST_TMPDIR/want" <<'PY'
import json, sys
inv = json.load(open(sys.argv[1]))
alg = inv["digestAlgorithm"]
names = {"0=ocfl_object_1.1", "inventory.json", "inventory.json." + alg}
for paths in inv["manifest"].values():
    names.update(paths)
for v in inv["versions"]:
    names.update({v + "/inventory.json", v + "/inventory.json." + alg})
print("\n".join(sorted(names)))
PY
    diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/keys"
}

same_tree() { diff -r "$1" "$2/data" >/dev/null; }

@test "a new object killed at every write: absent or whole after recover" {
    n=1
    while :; do
        VELLUM_S3_KILL_AT=$n run "$VELLUM" ingest --id k1 "$BATS_TEST_TMPDIR/v1"
        [ "$status" -eq 0 ] && break
        [ "$status" -eq 137 ] || { echo "step $n: exit $status: $output"; false; }
        run "$VELLUM" recover
        [ "$status" -eq 0 ] || { echo "step $n: recover: $output"; false; }
        run "$VELLUM" validate --path "s3://$BUCKET/r"
        [ "$status" -eq 0 ] || { echo "step $n: validate: $output"; false; }
        keys_match_inventory k1 || { echo "step $n: stray keys"; false; }
        rm -rf "$BATS_TEST_TMPDIR/out"
        if "$VELLUM" get k1 "$BATS_TEST_TMPDIR/out" >/dev/null 2>&1; then
            same_tree "$BATS_TEST_TMPDIR/v1" "$BATS_TEST_TMPDIR/out" ||
                { echo "step $n: object present but not whole"; false; }
            # a whole object: the deposit is done; start over from nothing
            break
        fi
        n=$((n + 1))
        [ "$n" -lt 60 ] || { echo "never finished"; false; }
    done
    [ "$n" -gt 3 ]    # it was killed at several steps before it got through
}

@test "a new version killed at every write: old or new version after recover, nothing stray" {
    "$VELLUM" ingest --id k2 "$BATS_TEST_TMPDIR/v1" >/dev/null
    n=1 listed=0
    while :; do
        VELLUM_S3_KILL_AT=$n run "$VELLUM" ingest --id k2 "$BATS_TEST_TMPDIR/v2"
        [ "$status" -eq 0 ] && break
        [ "$status" -eq 137 ] || { echo "step $n: exit $status: $output"; false; }
        # a writer refuses to build on an interrupted deposit
        run "$VELLUM" ingest --id other "$BATS_TEST_TMPDIR/v1"
        [ "$status" -eq 3 ]
        [[ "$output" == *recover* ]]
        run "$VELLUM" recover
        [ "$status" -eq 0 ] || { echo "step $n: recover: $output"; false; }
        # the leftovers of the upload are listed as they are removed
        [[ "$output" == *"removed s3://$BUCKET/"* ]] && listed=$((listed + 1))
        run "$VELLUM" validate --all
        [ "$status" -eq 0 ] || { echo "step $n: validate: $output"; false; }
        keys_match_inventory k2 || { echo "step $n: stray keys"; false; }
        rm -rf "$BATS_TEST_TMPDIR/out"
        run "$VELLUM" get k2 "$BATS_TEST_TMPDIR/out"
        [ "$status" -eq 0 ] || { echo "step $n: get: $output"; false; }
        if same_tree "$BATS_TEST_TMPDIR/v2" "$BATS_TEST_TMPDIR/out"; then
            break     # rolled forward: the new version is whole
        fi
        same_tree "$BATS_TEST_TMPDIR/v1" "$BATS_TEST_TMPDIR/out" ||
            { echo "step $n: neither version"; false; }
        n=$((n + 1))
        [ "$n" -lt 60 ] || { echo "never finished"; false; }
    done
    [ "$n" -gt 3 ]
    [ "$listed" -gt 0 ]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ] || { echo "$output"; false; }
}
