#!/usr/bin/env bats
# Issue 17, items 4, 7, 12 and 13: refusals printed as errors with a hint
# for a manifest one folder off, exports that keep what the depositor gave,
# original modification times, and refused deposits in the event log.

load helpers

setup() {
    setup_repo
    OUT="$BATS_TEST_TMPDIR/out"
    mkdir -p "$OUT"
}

# make_bag DIR: a BagIt 1.0 bag whose bag-info.txt has contact details
make_bag() {
    mkdir -p "$1/data/sub"
    printf 'Dear Ann,\n' > "$1/data/letter.txt"
    printf 'photo' > "$1/data/sub/photo.bin"
    printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' > "$1/bagit.txt"
    printf 'Source-Organization: Example Archives\nContact-Name: Ann Smith\nContact-Email: ann@example.org\nExternal-Description: Letters of Ann\nBagging-Date: 2026-11-01\nX-Shelf: B-12\nPayload-Oxum: 15.2\n' > "$1/bag-info.txt"
    (cd "$1" && sha256sum data/letter.txt data/sub/photo.bin > manifest-sha256.txt)
}

@test "7: a bagit export keeps subject, date, Contact-Name and the donor's other labels" {
    make_bag "$BATS_TEST_TMPDIR/bag"
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/bag" --id urn:x:7 --dc subject=Letters --dc date=1901 >/dev/null
    run "$VELLUM" export urn:x:7 "$OUT/b" --format bagit
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    grep -qx 'Subject: Letters' "$OUT/b/bag-info.txt"
    grep -qx 'Date: 1901' "$OUT/b/bag-info.txt"
    grep -qx 'Contact-Name: Ann Smith' "$OUT/b/bag-info.txt"
    grep -qx 'Contact-Email: ann@example.org' "$OUT/b/bag-info.txt"
    grep -qx 'X-Shelf: B-12' "$OUT/b/bag-info.txt"
    grep -qx 'Source-Organization: Example Archives' "$OUT/b/bag-info.txt"
    [ "$(grep -c '^Payload-Oxum:' "$OUT/b/bag-info.txt")" = 1 ]
    [ "$(grep -c '^Bagging-Date:' "$OUT/b/bag-info.txt")" = 1 ]
    # the donor's bag, as tag files listed in the tag manifest
    cmp "$BATS_TEST_TMPDIR/bag/bag-info.txt" "$OUT/b/metadata/bag/bag-info.txt"
    grep -q '  metadata/bag/bag-info.txt$' "$OUT/b/tagmanifest-sha256.txt"
    grep -q '  metadata/bag/manifest-sha256.txt$' "$OUT/b/tagmanifest-sha512.txt"
    run "$VELLUM" bag validate "$OUT/b"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # the mets package carries them too
    "$VELLUM" export urn:x:7 "$OUT/m" --format mets >/dev/null
    cmp "$BATS_TEST_TMPDIR/bag/bag-info.txt" "$OUT/m/metadata/bag/bag-info.txt"
    cmp "$BATS_TEST_TMPDIR/bag/manifest-sha256.txt" "$OUT/m/metadata/bag/manifest-sha256.txt"
}

@test "7: the archive kind comes from DEST's name; a contradiction is refused" {
    make_bag "$BATS_TEST_TMPDIR/bag"
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/bag" --id urn:x:7 >/dev/null
    run "$VELLUM" export urn:x:7 "$OUT/a.tar.gz" --format mets --archive zip
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: $OUT/a.tar.gz: the name says a tar.gz archive but --archive says zip; give a name that ends as the archive kind, or leave --archive out" ]
    [ ! -e "$OUT/a.tar.gz" ]
    run "$VELLUM" export urn:x:7 "$OUT/a.tar.gz" --format mets --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["archive"]')" = "tar.gz" ]
    gzip -t "$OUT/a.tar.gz"
    tar -tzf "$OUT/a.tar.gz" | grep -qx 'a/data/letter.txt'
    run "$VELLUM" export urn:x:7 "$OUT/b.zip" --format bagit
    [ "$output" = "urn:x:7 v1 -> $OUT/b.zip (bagit, zip, 2 files, every digest verified)" ]
    unzip -l "$OUT/b.zip" | grep -q 'b/metadata/bag/bag-info.txt'
    run "$VELLUM" export urn:x:7 "$OUT/c.tgz" --format mets --archive tgz --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["archive"]')" = "tar.gz" ]
    run "$VELLUM" export urn:x:7 "$OUT/d" --format mets --archive tgz
    [ "$status" -eq 0 ]
    gzip -t "$OUT/d"
}
