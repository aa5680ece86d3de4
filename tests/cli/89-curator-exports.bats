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
    # the donor's bag-info and manifests are metadata files beside METS.xml
    [[ "$output" == "urn:x:7 v1 -> $OUT/b.zip (bagit, zip, 2 files, "*" (+ METS.xml and "*" more metadata files), every digest verified)" ]]
    unzip -l "$OUT/b.zip" | grep -q 'b/metadata/bag/bag-info.txt'
    run "$VELLUM" export urn:x:7 "$OUT/c.tgz" --format mets --archive tgz --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["archive"]')" = "tar.gz" ]
    run "$VELLUM" export urn:x:7 "$OUT/d" --format mets --archive tgz
    [ "$status" -eq 0 ]
    gzip -t "$OUT/d"
}

@test "4: refusing problems print as errors; a manifest one folder up gets one hint" {
    P="$BATS_TEST_TMPDIR/p"
    mkdir -p "$P/dpkg/sub"
    printf 'a\n' > "$P/dpkg/a.txt"
    printf 'b\n' > "$P/dpkg/sub/b.txt"
    (cd "$P" && sha256sum dpkg/a.txt dpkg/sub/b.txt > "$BATS_TEST_TMPDIR/m.txt")
    run "$VELLUM" ingest "$P/dpkg" --id urn:x:4 --manifest "$BATS_TEST_TMPDIR/m.txt"
    [ "$status" -eq 2 ]
    [[ "$output" == *"vellum: error: a.txt: not listed in the manifest"* ]]
    [[ "$output" == *"vellum: error: dpkg/sub/b.txt: listed in the manifest but missing from the deposit"* ]]
    [[ "$output" != *"warning:"* ]]
    [[ "$output" == *"vellum: error: the manifest's paths all start with 'dpkg/'; the deposit's files do not: 2 of 2 paths match without it, so the manifest was made in the folder above the deposit; give the parent folder, or a manifest relative to the deposit"* ]]
    [ "$(object_count)" = 0 ]
    # a manifest written data/... (read as the deposit's own data/) with one
    # bad line gets no hint
    printf '%064d  data/a.txt\n' 0 > "$BATS_TEST_TMPDIR/d.txt"
    (cd "$P/dpkg" && sha256sum sub/b.txt | sed 's,  ,  data/,') >> "$BATS_TEST_TMPDIR/d.txt"
    run "$VELLUM" ingest "$P/dpkg" --id urn:x:4d --manifest "$BATS_TEST_TMPDIR/d.txt"
    [ "$status" -eq 2 ]
    [[ "$output" == *"vellum: error: a.txt: sha256 mismatch"* ]]
    [[ "$output" != *"all start with"* ]]
    # the parent folder with the same manifest is taken
    run "$VELLUM" ingest "$P" --id urn:x:4 --manifest "$BATS_TEST_TMPDIR/m.txt"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # a deposit that is stored keeps its warnings as warnings
    mkdir -p "$BATS_TEST_TMPDIR/w/empty"
    printf 'x\n' > "$BATS_TEST_TMPDIR/w/x.txt"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/w" --id urn:x:4w
    [ "$status" -eq 0 ]
    [[ "$output" == *"vellum: warning: empty folder"* ]]
}

@test "13: a refused deposit leaves an ingestion event with outcome fail and the reason" {
    P="$BATS_TEST_TMPDIR/p"
    mkdir -p "$P"
    printf 'a\n' > "$P/a.txt"
    printf '%064d  a.txt\n' 0 > "$BATS_TEST_TMPDIR/m.txt"
    run "$VELLUM" ingest "$P" --id urn:x:13 --manifest "$BATS_TEST_TMPDIR/m.txt"
    [ "$status" -eq 2 ]
    [ "$(object_count)" = 0 ]
    run "$VELLUM" events --type ingestion --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd[-1]["outcome"], d[-1]["object"]')" = "fail urn:x:13" ]
    [ "$(echo "$output" | jfield 'd[-1]["detail"]')" = "Deposit refused, nothing stored; sources: $P" ]
    want=$(sha256sum "$P/a.txt" | cut -d' ' -f1)
    [ "$(echo "$output" | jfield 'd[-1]["outcome_detail"]')" = "refusing the deposit: 1 discrepancy with the manifest; nothing was stored: a.txt: sha256 mismatch: manifest says $(printf '%064d' 0), file has $want" ]
    # without --id: no object named
    run "$VELLUM" ingest "$P" --manifest "$BATS_TEST_TMPDIR/m.txt"
    [ "$status" -eq 2 ]
    run "$VELLUM" events --json
    [ "$(echo "$output" | jfield 'd[-1]["outcome"], d[-1]["object"]')" = "fail None" ]
    run "$VELLUM" events
    [[ "$output" == *"ingestion                   fail    urn:x:13  Deposit refused, nothing stored; sources: $P"* ]]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
    [ "$output" = "event log intact: chain and catalog agree" ]
    # the report points at them
    run "$VELLUM" report --format json
    [ "$status" -eq 0 ]
    echo "$output" | jfield '[a["reason"] for a in d["advice"] if a["command"] == "vellum events --type ingestion --outcome fail"][0]' |
        grep -qx '2 deposits were refused: nothing of them was stored; the events say why'
}

@test "12: each file's modification time is kept in the METS and given back by get; --merge keeps theirs" {
    S="$BATS_TEST_TMPDIR/s"
    mkdir -p "$S/sub"
    printf 'one\n' > "$S/a.txt"
    printf 'two\n' > "$S/sub/b.txt"
    touch -d '2001-02-03 04:05:06.25 UTC' "$S/a.txt"
    touch -d '1999-12-31 23:59:59 UTC' "$S/sub/b.txt"
    "$VELLUM" ingest "$S" --id urn:x:12 >/dev/null
    "$VELLUM" get urn:x:12 "$OUT/g1"
    [ "$(TZ=UTC stat -c '%y' "$OUT/g1/data/a.txt")" = "2001-02-03 04:05:06.250000000 +0000" ]
    [ "$(TZ=UTC stat -c '%y' "$OUT/g1/data/sub/b.txt")" = "1999-12-31 23:59:59.000000000 +0000" ]
    run "$VELLUM" show urn:x:12 --mets
    [[ "$output" == *"<objectIdentifierValue>data/a.txt</objectIdentifierValue>"*"<creatingApplication><dateCreatedByApplication>2001-02-03T04:05:06.25Z</dateCreatedByApplication></creatingApplication>"* ]]
    # --merge: the kept files keep theirs, the new one has its own
    mkdir -p "$BATS_TEST_TMPDIR/s2"
    printf 'three\n' > "$BATS_TEST_TMPDIR/s2/c.txt"
    touch -d '2010-01-01 00:00:00 UTC' "$BATS_TEST_TMPDIR/s2/c.txt"
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/s2" --id urn:x:12 --merge >/dev/null
    "$VELLUM" get urn:x:12 "$OUT/g2"
    [ "$(TZ=UTC stat -c '%y' "$OUT/g2/data/a.txt")" = "2001-02-03 04:05:06.250000000 +0000" ]
    [ "$(TZ=UTC stat -c '%y' "$OUT/g2/data/c.txt")" = "2010-01-01 00:00:00.000000000 +0000" ]
    "$VELLUM" get urn:x:12 "$OUT/one" --file data/sub/b.txt
    [ "$(TZ=UTC stat -c '%y' "$OUT/one")" = "1999-12-31 23:59:59.000000000 +0000" ]
    run "$VELLUM" show urn:x:12 --mets
    [[ "$output" == *"<dateCreatedByApplication>1999-12-31T23:59:59Z</dateCreatedByApplication>"* ]]
    # an archive entry's time; exports carry the times too
    (cd "$S" && zip -qr "$BATS_TEST_TMPDIR/s.zip" .)
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/s.zip" --id urn:x:12z >/dev/null
    "$VELLUM" get urn:x:12z "$OUT/g3"
    [ "$(TZ=UTC stat -c '%y' "$OUT/g3/data/sub/b.txt")" = "1999-12-31 23:59:59.000000000 +0000" ]
    "$VELLUM" export urn:x:12 "$OUT/e" --format mets >/dev/null
    [ "$(TZ=UTC stat -c '%y' "$OUT/e/data/c.txt")" = "2010-01-01 00:00:00.000000000 +0000" ]
    grep -q '<dateCreatedByApplication>2010-01-01T00:00:00Z</dateCreatedByApplication>' "$OUT/e/METS.xml"
    "$VELLUM" export urn:x:12 "$OUT/e.tar" --format bagit >/dev/null
    TZ=UTC tar -tvf "$OUT/e.tar" | grep -q ' 2010-01-01 00:00 e/data/c.txt$'
    # the METS still validates against the schemas
    export VELLUM_SCHEMAS="$VELLUM_SHARED/schemas"
    run "$VELLUM" validate --all --mets
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    export XML_CATALOG_FILES="$VELLUM_SHARED/schemas/catalog.xml"
    xmllint --noout --nonet --schema "$VELLUM_SHARED/schemas/mets-bundle.xsd" "$OUT/e/METS.xml" 2>&1 | grep -q 'validates$'
}

@test "12: reindex after losing the catalog takes the modification times back from the METS" {
    S="$BATS_TEST_TMPDIR/s"
    mkdir -p "$S"
    printf 'one\n' > "$S/a.txt"
    touch -d '2001-02-03 04:05:06.25 UTC' "$S/a.txt"
    "$VELLUM" ingest "$S" --id urn:x:12r >/dev/null
    printf 'two\n' > "$BATS_TEST_TMPDIR/b.txt"
    touch -d '1999-12-31 23:59:59 UTC' "$BATS_TEST_TMPDIR/b.txt"
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/b.txt" --id urn:x:12r --merge >/dev/null
    rm -f "$REPO/catalog.sqlite" "$REPO/catalog.sqlite-wal" "$REPO/catalog.sqlite-shm"
    run "$VELLUM" reindex
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    "$VELLUM" get urn:x:12r "$OUT/g"
    [ "$(TZ=UTC stat -c '%y' "$OUT/g/data/a.txt")" = "2001-02-03 04:05:06.250000000 +0000" ]
    [ "$(TZ=UTC stat -c '%y' "$OUT/g/data/b.txt")" = "1999-12-31 23:59:59.000000000 +0000" ]
    "$VELLUM" get urn:x:12r "$OUT/g1" --version v1
    [ "$(TZ=UTC stat -c '%y' "$OUT/g1/data/a.txt")" = "2001-02-03 04:05:06.250000000 +0000" ]
}
