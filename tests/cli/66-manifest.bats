#!/usr/bin/env bats
# Transfer fixity against a donor's checksum manifest.

load helpers

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/gift"
    mkdir -p "$SRC/box1"
    printf 'one\n' > "$SRC/box1/one.txt"
    printf 'two\n' > "$SRC/two.txt"
    head -c 10000 /dev/urandom > "$SRC/box1/blob.bin"
}

@test "sha256sum, md5sum and sha512sum manifests that match are accepted and kept as fixity" {
    (cd "$SRC" && find . -type f | sort | sed 's|^\./||' | xargs sha256sum) > "$BATS_TEST_TMPDIR/m256"
    run "$VELLUM" ingest "$SRC" --id urn:m:1 --manifest "$BATS_TEST_TMPDIR/m256"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    d=$(object_dir urn:m:1)
    want=$(sha256sum "$SRC/two.txt" | cut -d' ' -f1)
    run jfield 'd["fixity"]["sha256"]["'$want'"][0]' < "$d/inventory.json"
    [ "$output" = "v1/content/data/two.txt" ]
    (cd "$SRC" && md5sum box1/one.txt box1/blob.bin two.txt) > "$BATS_TEST_TMPDIR/mmd5"
    run "$VELLUM" ingest "$SRC" --id urn:m:2 --manifest "$BATS_TEST_TMPDIR/mmd5"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    want=$(md5sum "$SRC/box1/blob.bin" | cut -d' ' -f1)
    run jfield 'd["fixity"]["md5"]["'$want'"][0]' < "$(object_dir urn:m:2)/inventory.json"
    [ "$output" = "v1/content/data/box1/blob.bin" ]
    (cd "$SRC" && sha512sum -b box1/one.txt box1/blob.bin two.txt) > "$BATS_TEST_TMPDIR/m512"
    run "$VELLUM" ingest "$SRC" --id urn:m:3 --manifest "$BATS_TEST_TMPDIR/m512"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run "$VELLUM" events urn:m:3 --type "fixity check" --json
    [ "$(echo "$output" | jfield 'd[0]["outcome"]')" = "success" ]
}

@test "a mismatch, a missing and an unlisted file each refuse the deposit and are all listed" {
    (cd "$SRC" && sha256sum box1/one.txt box1/blob.bin two.txt) > "$BATS_TEST_TMPDIR/m"
    printf 'changed\n' > "$SRC/two.txt"
    rm "$SRC/box1/blob.bin"
    printf 'new\n' > "$SRC/unlisted.txt"
    run "$VELLUM" ingest "$SRC" --id urn:m:4 --manifest "$BATS_TEST_TMPDIR/m"
    [ "$status" -eq 2 ]
    [[ "$output" == *"two.txt: sha256 mismatch"* ]]
    [[ "$output" == *"box1/blob.bin: listed in the manifest but missing"* ]]
    [[ "$output" == *"unlisted.txt: not listed in the manifest"* ]]
    [ "$(object_count)" -eq 0 ]
    staging_clean
}

@test "a BagIt-style manifest works as a donor manifest" {
    (cd "$SRC" && sha512sum box1/one.txt box1/blob.bin two.txt | sed 's|  |  data/|') > "$BATS_TEST_TMPDIR/manifest-sha512.txt"
    run "$VELLUM" ingest "$SRC" --id urn:m:5 --manifest "$BATS_TEST_TMPDIR/manifest-sha512.txt"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # The check ran, against the manifest's own algorithm and every entry.
    run "$VELLUM" events urn:m:5 --type "fixity check" --json
    [ "$(echo "$output" | jfield 'len(d)')" -eq 1 ]
    [ "$(echo "$output" | jfield 'd[0]["outcome"]')" = "success" ]
    [[ "$(echo "$output" | jfield 'd[0]["detail"]')" == *"sha512 manifest "*"manifest-sha512.txt (3 entries)" ]]
    # And it can refuse: the same manifest with one digest altered.
    sed -i '/data\/two.txt$/{s/^0/1/;t;s/^./0/}' "$BATS_TEST_TMPDIR/manifest-sha512.txt"
    run "$VELLUM" ingest "$SRC" --id urn:m:7 --manifest "$BATS_TEST_TMPDIR/manifest-sha512.txt"
    [ "$status" -eq 2 ]
    [[ "$output" == *"two.txt: sha512 mismatch"* ]]
    [ "$(object_count)" -eq 1 ]
}

@test "a malformed manifest is refused naming the line" {
    printf 'not a checksum line\n' > "$BATS_TEST_TMPDIR/bad"
    run "$VELLUM" ingest "$SRC" --id urn:m:6 --manifest "$BATS_TEST_TMPDIR/bad"
    [ "$status" -eq 2 ]
    [[ "$output" == *"line 1"* ]]
    [ "$(object_count)" -eq 0 ]
}
