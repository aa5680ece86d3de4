#!/usr/bin/env bats
# BagIt bags as folders and archives: validated first, payload to data/,
# tag files kept under metadata/bag/, and refused when anything is off.

load helpers

# make_bag DIR VERSION ALG... : a bag with three payload files
make_bag() {
    python3 - "$@" <<'PY'
import hashlib, os, sys
d, version, algs = sys.argv[1], sys.argv[2], sys.argv[3:]
payload = {"data/letter.txt": b"Dear Ann,\n", "data/sub/photo.bin": os.urandom(5000),
           "data/name with space.txt": b"space\n"}
for p, b in payload.items():
    os.makedirs(os.path.join(d, os.path.dirname(p)), exist_ok=True)
    open(os.path.join(d, p), "wb").write(b)
open(os.path.join(d, "bagit.txt"), "w").write(
    "BagIt-Version: %s\nTag-File-Character-Encoding: UTF-8\n" % version)
octets = sum(len(b) for b in payload.values())
open(os.path.join(d, "bag-info.txt"), "w").write(
    "Source-Organization: Example Archives\nExternal-Description: Letters of Ann,\n"
    "  with one photograph\nBagging-Date: 2026-11-01\nPayload-Oxum: %d.%d\n" % (octets, len(payload)))
for a in algs:
    with open(os.path.join(d, "manifest-%s.txt" % a), "w") as f:
        for p, b in sorted(payload.items()):
            f.write("%s  %s\n" % (hashlib.new(a, b).hexdigest(), p))
for a in algs:
    with open(os.path.join(d, "tagmanifest-%s.txt" % a), "w") as f:
        for t in ["bagit.txt", "bag-info.txt"] + ["manifest-%s.txt" % x for x in algs]:
            f.write("%s %s\n" % (hashlib.new(a, open(os.path.join(d, t), "rb").read()).hexdigest(), t))
PY
}

setup() {
    setup_repo
    B="$BATS_TEST_TMPDIR/bag"
}

@test "a BagIt 1.0 bag folder ingests: payload in data/, tag files in metadata/bag/" {
    make_bag "$B" 1.0 sha256 sha512
    run "$VELLUM" ingest "$B" --id urn:b:1 --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(echo "$output" | jfield 'd["bag_version"], d["files"]')" = "1.0 9" ]
    "$VELLUM" get urn:b:1 "$BATS_TEST_TMPDIR/o"
    diff -r "$B/data" "$BATS_TEST_TMPDIR/o/data"
    cmp "$B/bag-info.txt" "$BATS_TEST_TMPDIR/o/metadata/bag/bag-info.txt"
    # the bag's sha256 digests are kept in the OCFL fixity block
    d=$(object_dir urn:b:1)
    want=$(sha256sum "$B/data/letter.txt" | cut -d' ' -f1)
    run jfield 'd["fixity"]["sha256"]["'$want'"][0]' < "$d/inventory.json"
    [ "$output" = "v1/content/data/letter.txt" ]
    run "$VELLUM" events urn:b:1 --type validation --json
    [ "$(echo "$output" | jfield 'len(d)')" = "1" ]
}

@test "a BagIt 0.97 bag with md5 ingests" {
    make_bag "$B" 0.97 md5
    run "$VELLUM" ingest "$B" --id urn:b:2 --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(echo "$output" | jfield 'd["bag_version"]')" = "0.97" ]
    # The bag's md5 manifest was read: its digests are kept as fixity...
    want=$(md5sum "$B/data/letter.txt" | cut -d' ' -f1)
    run jfield 'd["fixity"]["md5"]["'$want'"][0]' < "$(object_dir urn:b:2)/inventory.json"
    [ "$output" = "v1/content/data/letter.txt" ]
    # ...and checked: the same bag with one md5 line altered is refused.
    sed -i '/data\/letter.txt$/{s/^0/1/;t;s/^./0/}' "$B/manifest-md5.txt"
    run "$VELLUM" ingest "$B" --id urn:b:2b
    [ "$status" -eq 2 ]
    [[ "$output" == *"letter.txt"* ]]
    [ "$(object_count)" -eq 1 ]
}

@test "a bag inside a zip and a tar.gz ingests the same way" {
    make_bag "$B" 1.0 sha512
    (cd "$BATS_TEST_TMPDIR" && zip -qr bag.zip bag && tar -czf bag.tgz bag)
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/bag.zip" --id urn:b:3 --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(echo "$output" | jfield 'd["bag_version"]')" = "1.0" ]
    "$VELLUM" get urn:b:3 "$BATS_TEST_TMPDIR/o"
    diff -r "$B/data" "$BATS_TEST_TMPDIR/o/data"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/bag.tgz" --id urn:b:4 --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # The same way: read as a bag (not as a plain archive of files), with
    # the payload back under data/ and the tag files under metadata/bag/.
    [ "$(echo "$output" | jfield 'd["bag_version"]')" = "1.0" ]
    "$VELLUM" get urn:b:4 "$BATS_TEST_TMPDIR/o4"
    diff -r "$B/data" "$BATS_TEST_TMPDIR/o4/data"
    cmp "$B/bag-info.txt" "$BATS_TEST_TMPDIR/o4/metadata/bag/bag-info.txt"
}

@test "a bag with a bad checksum is refused naming the file, nothing stored" {
    make_bag "$B" 1.0 sha256
    printf 'tampered\n' > "$B/data/letter.txt"
    run "$VELLUM" ingest "$B" --id urn:b:5
    [ "$status" -eq 2 ]
    [[ "$output" == *"data/letter.txt"*"sha256"* ]]
    [ "$(object_count)" -eq 0 ]
    staging_clean
}

@test "a bag with a missing or an extra payload file is refused" {
    make_bag "$B" 1.0 sha256
    rm "$B/data/sub/photo.bin"
    run "$VELLUM" ingest "$B" --id urn:b:6
    [ "$status" -eq 2 ]
    [[ "$output" == *"data/sub/photo.bin"*"missing"* ]]
    rm -rf "$B" && make_bag "$B" 1.0 sha256
    printf 'stowaway\n' > "$B/data/extra.txt"
    run "$VELLUM" ingest "$B" --id urn:b:7
    [ "$status" -eq 2 ]
    [[ "$output" == *"data/extra.txt"* ]]
    [ "$(object_count)" -eq 0 ]
}

@test "a fetch.txt with entries is refused" {
    make_bag "$B" 1.0 sha256
    printf 'https://example.org/x 10 data/x\n' > "$B/fetch.txt"
    run "$VELLUM" ingest "$B" --id urn:b:8
    [ "$status" -eq 2 ]
    [[ "$output" == *fetch* ]]
    [ "$(object_count)" -eq 0 ]
}

@test "a bad Payload-Oxum and a broken bagit.txt are refused" {
    make_bag "$B" 1.0 sha256
    sed -i 's/^Payload-Oxum: .*/Payload-Oxum: 1.1/' "$B/bag-info.txt"
    # keep the tag manifest honest so only the Oxum is wrong
    (cd "$B" && sha256sum bagit.txt bag-info.txt manifest-sha256.txt > tagmanifest-sha256.txt)
    run "$VELLUM" ingest "$B" --id urn:b:9
    [ "$status" -eq 2 ]
    [[ "$output" == *Payload-Oxum* ]]
    rm -rf "$B" && make_bag "$B" 1.0 sha256
    printf 'BagIt-Version: 9.9\n' > "$B/bagit.txt"
    run "$VELLUM" ingest "$B" --id urn:b:10
    [ "$status" -eq 2 ]
    [[ "$output" == *bagit.txt* ]]
}
