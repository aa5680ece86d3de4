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

@test "a fetch.txt line naming a file in no manifest is refused" {
    make_bag "$B" 1.0 sha256
    printf 'https://example.org/x 10 data/x\n' > "$B/fetch.txt"
    run "$VELLUM" ingest "$B" --id urn:b:8
    [ "$status" -eq 2 ]
    [ "$output" = 'vellum: fetch.txt line 1: "data/x" is not listed in manifest-sha256.txt (every file fetch.txt lists is in every payload manifest, RFC 8493 section 2.2.3)' ]
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

# ---- RFC 8493 conformance (issue items 6-10), at ingest ----------------------

# hexdigest ALG FILE: the file's digest (Python's hashlib names).
hexdigest() {
    python3 -c 'import hashlib, sys; print(hashlib.new(sys.argv[1], open(sys.argv[2], "rb").read()).hexdigest())' "$1" "$2"
}

# rewrite_tagmanifest DIR ALG: tag manifest over bagit.txt, bag-info.txt and
# the payload manifests, after a test changed one of them.
rewrite_tagmanifest() {
    (cd "$1" && rm -f tagmanifest-*.txt &&
     for f in bagit.txt bag-info.txt manifest-*.txt; do
         printf '%s %s\n' "$(hexdigest "$2" "$f")" "$f"
     done > "tagmanifest-$2.txt")
}

@test "item 6: manifest paths written ./data/... ingest, with a warning that they are relative" {
    make_bag "$B" 1.0 sha256
    sed -i 's#  data/#  ./data/#' "$B/manifest-sha256.txt"
    rewrite_tagmanifest "$B" sha256
    run "$VELLUM" ingest "$B" --id urn:b:rel --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [[ "$output" == *'vellum: warning: manifest-sha256.txt line 1: path "./data/letter.txt" is relative ("./"); read as "data/letter.txt"'* ]]
    [ "$(echo "$output" | grep -c 'is relative')" -eq 3 ]
    [ "$(echo "$output" | grep -v "^vellum:" | jfield "d[\"files\"], d[\"warnings\"]")" = "7 3" ]
}

@test "item 6: a manifest path climbing out of the bag is refused" {
    make_bag "$B" 1.0 sha256
    printf '%s  ../../../etc/passwd\n' "$(sha256sum /dev/null | cut -d' ' -f1)" >> "$B/manifest-sha256.txt"
    run "$VELLUM" ingest "$B" --id urn:b:out
    [ "$status" -eq 2 ]
    [ "$output" = 'vellum: manifest-sha256.txt line 4: path leaves the bag (".." above its top folder) "../../../etc/passwd"' ]
    [ "$(object_count)" -eq 0 ]
}

@test "item 6: a bag whose tag files are ISO-8859-1 ingests, with a warning" {
    make_bag "$B" 1.0 sha256
    printf 'caf\xe9' > "$B/data/caf$(printf '\xc3\xa9')"
    printf '%s  data/caf\xe9\n' "$(printf 'caf\xe9' | sha256sum | cut -d' ' -f1)" >> "$B/manifest-sha256.txt"
    sed -i 's/^Payload-Oxum: .*/Payload-Oxum: 5020.4/' "$B/bag-info.txt"
    printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n' > "$B/bagit.txt"
    rewrite_tagmanifest "$B" sha256
    run "$VELLUM" ingest "$B" --id urn:b:latin1
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [[ "$output" == *'vellum: warning: bagit.txt: tag files are in ISO-8859-1; BagIt 1.0 strongly recommends UTF-8 (RFC 8493 section 2.3)'* ]]
}

@test "item 6: a UTF-8 byte-order mark in a manifest is refused" {
    make_bag "$B" 1.0 sha256
    { printf '\xef\xbb\xbf'; cat "$B/manifest-sha256.txt"; } > "$B/m" && mv "$B/m" "$B/manifest-sha256.txt"
    run "$VELLUM" ingest "$B" --id urn:b:bom
    [ "$status" -eq 2 ]
    [ "$output" = 'vellum: manifest-sha256.txt: starts with a byte-order mark, which BagIt does not allow in UTF-8 tag files' ]
}

@test "item 7: a complete holey bag ingests and keeps fetch.txt with its tag files" {
    make_bag "$B" 1.0 sha256
    printf 'https://example.org/photo.bin 5000 data/sub/photo.bin\nhttps://example.org/l - data/letter.txt\n' > "$B/fetch.txt"
    run "$VELLUM" ingest "$B" --id urn:b:holey --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    "$VELLUM" get urn:b:holey "$BATS_TEST_TMPDIR/o"
    cmp "$B/fetch.txt" "$BATS_TEST_TMPDIR/o/metadata/bag/fetch.txt"
    run "$VELLUM" events urn:b:holey --type validation --json
    [[ "$output" == *"every file fetch.txt lists was present"* ]]
}

@test "item 7: an incomplete holey bag is refused, naming each file still to fetch" {
    make_bag "$B" 1.0 sha256
    printf 'https://example.org/photo.bin 5000 data/sub/photo.bin\n' > "$B/fetch.txt"
    rm "$B/data/sub/photo.bin"
    run "$VELLUM" ingest "$B" --id urn:b:hole
    [ "$status" -eq 2 ]
    [[ "$output" == *'vellum: error: data/sub/photo.bin: listed in manifest-sha256.txt but missing: still to be fetched from https://example.org/photo.bin (fetch.txt line 1; vellum does not download)'* ]]
    [[ "$output" == *'vellum: refusing the bag: it is incomplete: 1 file that fetch.txt lists is still to be fetched (each problem is listed above); vellum does not download' ]]
    [ "$(object_count)" -eq 0 ]
}

@test "item 7: fetch.txt lines: a bad LENGTH, a relative URL and a tag file are refused" {
    make_bag "$B" 1.0 sha256
    printf 'https://example.org/l ten data/letter.txt\n' > "$B/fetch.txt"
    run "$VELLUM" ingest "$B" --id urn:b:f1
    [ "$output" = 'vellum: fetch.txt line 1: LENGTH is not a number of bytes or "-": "ten"' ]
    printf 'letter.txt 10 data/letter.txt\n' > "$B/fetch.txt"
    run "$VELLUM" ingest "$B" --id urn:b:f2
    [ "$output" = 'vellum: fetch.txt line 1: not an absolute URL "letter.txt"' ]
    printf 'https://example.org/i 10 bag-info.txt\n' > "$B/fetch.txt"
    run "$VELLUM" ingest "$B" --id urn:b:f3
    [ "$status" -eq 2 ]
    [ "$output" = 'vellum: fetch.txt line 1: "bag-info.txt" is not a payload file: fetch.txt lists files under data/ only (RFC 8493 section 2.2.3)' ]
    [ "$(object_count)" -eq 0 ]
}

@test "item 8: manifests in sha384, sha3-256 and sha224 ingest and are checked" {
    make_bag "$B" 1.0 sha384 sha3_256 sha224
    run "$VELLUM" ingest "$B" --id urn:b:algs
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [[ "$output" == *'vellum: warning: manifest-sha3_256.txt: "sha3_256" is not a BagIt algorithm name (lower case letters and digits only, RFC 8493 section 2.4); read as SHA3-256'* ]]
    printf 'tampered\n' > "$B/data/letter.txt"
    run "$VELLUM" ingest "$B" --id urn:b:algs2
    [ "$status" -eq 2 ]
    want=$(hexdigest sha384 "$B/data/letter.txt")
    [[ "$output" == *"data/letter.txt: sha384 expected "*" got $want"* ]]
    [[ "$output" == *"data/letter.txt: sha3_256 expected "* ]]
}

@test "item 9: a path listed twice with the same digest warns; with another digest it is refused" {
    make_bag "$B" 1.0 sha256
    line=$(grep 'data/letter.txt' "$B/manifest-sha256.txt")
    printf '%s\n' "$line" >> "$B/manifest-sha256.txt"
    rewrite_tagmanifest "$B" sha256
    run "$VELLUM" ingest "$B" --id urn:b:dup
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [[ "$output" == *'vellum: warning: manifest-sha256.txt line 4: "data/letter.txt" listed again with the same checksum (first on line 1)'* ]]
    sed -i '$d' "$B/manifest-sha256.txt"
    printf '%064d  data/letter.txt\n' 0 >> "$B/manifest-sha256.txt"
    run "$VELLUM" ingest "$B" --id urn:b:dup2
    [ "$status" -eq 2 ]
    [ "$output" = 'vellum: manifest-sha256.txt line 4: path listed again with a different checksum (first on line 1) "data/letter.txt"' ]
}

@test "item 9: a name listed in NFC and present in NFD matches, with a warning" {
    make_bag "$B" 1.0 sha256
    nfc=$(printf 'N\xc3\xba\xc3\xb1ez.txt') nfd=$(printf 'Nu\xcc\x81n\xcc\x83ez.txt')
    printf 'hi\n' > "$B/data/$nfd"
    printf '%s  data/%s\n' "$(printf 'hi\n' | sha256sum | cut -d' ' -f1)" "$nfc" >> "$B/manifest-sha256.txt"
    sed -i 's/^Payload-Oxum: .*/Payload-Oxum: 5019.4/' "$B/bag-info.txt"
    rewrite_tagmanifest "$B" sha256
    run "$VELLUM" ingest "$B" --id urn:b:nfd
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [[ "$output" == *"vellum: warning: data/$nfd: listed in manifest-sha256.txt as \"data/$nfc\", the same name in another Unicode normalization (NFD here, NFC there); matched"* ]]
    # stored under the name it has on disk
    "$VELLUM" get urn:b:nfd "$BATS_TEST_TMPDIR/o"
    [ -f "$BATS_TEST_TMPDIR/o/data/$nfd" ]
}

@test "item 10: data/ and manifests without bagit.txt are refused as a broken bag, unless --not-a-bag" {
    make_bag "$B" 1.0 sha256
    rm "$B/bagit.txt"
    run "$VELLUM" ingest "$B" --id urn:b:broken
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: refusing $B: a broken BagIt bag: it has data/ and manifest-sha256.txt, but bagit.txt is missing; give --not-a-bag to deposit it as an ordinary folder" ]
    [ "$(object_count)" -eq 0 ]
    (cd "$BATS_TEST_TMPDIR" && zip -qr broken.zip bag)
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/broken.zip" --id urn:b:broken
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: refusing $BATS_TEST_TMPDIR/broken.zip: a broken BagIt bag: it has data/ and manifest-sha256.txt, but bagit.txt is missing; give --not-a-bag to deposit it as an ordinary folder" ]
    [ "$(object_count)" -eq 0 ]
    run "$VELLUM" ingest "$B" --id urn:b:folder --not-a-bag --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(echo "$output" | jfield 'd.get("bag_version")')" = "None" ]
    "$VELLUM" get urn:b:folder "$BATS_TEST_TMPDIR/o"
    [ -f "$BATS_TEST_TMPDIR/o/data/manifest-sha256.txt" ]
    [ -f "$BATS_TEST_TMPDIR/o/data/data/letter.txt" ]
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/broken.zip" --id urn:b:zip --not-a-bag
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
}

@test "item 10: --not-a-bag keeps even a declared bag as an ordinary folder" {
    make_bag "$B" 1.0 sha256
    run "$VELLUM" ingest "$B" --id urn:b:plain --not-a-bag --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    "$VELLUM" get urn:b:plain "$BATS_TEST_TMPDIR/o"
    [ -f "$BATS_TEST_TMPDIR/o/data/bagit.txt" ]
}
