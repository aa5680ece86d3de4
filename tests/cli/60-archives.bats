#!/usr/bin/env bats
# Archive sources: each format libarchive reads is unpacked while it is
# hashed, and reads back byte-exact.

load helpers

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/collection"
    mkdir -p "$SRC/letters" "$SRC/images"
    printf 'Dear Ann,\n' > "$SRC/letters/one.txt"
    printf 'name,year\nAnn,1921\n' > "$SRC/letters/list.csv"
    head -c 200000 /dev/urandom > "$SRC/images/scan.bin"
    printf '\x89PNG\r\n\x1a\n' > "$SRC/images/tiny.png"
}

# ingest ARCHIVE ID, then get it back and compare with $SRC under data/TOP
roundtrip() {
    local archive=$1 id=$2 top=$3
    run "$VELLUM" ingest "$archive" --id "$id" --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(echo "$output" | jfield 'd["files"]')" = "4" ]
    run "$VELLUM" get "$id" "$BATS_TEST_TMPDIR/out-$id"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    diff -r "$SRC" "$BATS_TEST_TMPDIR/out-$id/data/$top"
    staging_clean
}

@test "zip archive" {
    (cd "$BATS_TEST_TMPDIR" && zip -qr c.zip collection)
    roundtrip "$BATS_TEST_TMPDIR/c.zip" urn:a:zip collection
}

@test "tar, tar.gz, tar.bz2, tar.xz and tar.zst archives" {
    cd "$BATS_TEST_TMPDIR"
    tar -cf c.tar collection
    tar -czf c.tar.gz collection
    tar -cjf c.tar.bz2 collection
    tar -cJf c.tar.xz collection
    tar --zstd -cf c.tar.zst collection
    for ext in tar tar.gz tar.bz2 tar.xz tar.zst; do
        roundtrip "$BATS_TEST_TMPDIR/c.$ext" "urn:a:$ext" collection || return 1
    done
}

@test "7z, cpio and iso archives (written with bsdtar)" {
    cd "$BATS_TEST_TMPDIR"
    bsdtar --format 7zip -cf c.7z collection
    bsdtar --format cpio -cf c.cpio collection
    bsdtar --format iso9660 -cf c.iso collection
    for ext in 7z cpio iso; do
        roundtrip "$BATS_TEST_TMPDIR/c.$ext" "urn:a:$ext" collection || return 1
    done
}

@test "an archive records an unpacking event with the libarchive agent" {
    (cd "$BATS_TEST_TMPDIR" && tar -czf c.tgz collection)
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/c.tgz" --id urn:a:ev >/dev/null
    run "$VELLUM" events urn:a:ev --type unpacking --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'len(d)')" = "1" ]
    [[ "$(echo "$output" | jfield 'd[0]["agents"]')" == *libarchive* ]]
}

@test "--no-unpack keeps an archive as one file" {
    (cd "$BATS_TEST_TMPDIR" && zip -qr c.zip collection)
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/c.zip" --id urn:a:keep --no-unpack --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["files"]')" = "1" ]
    "$VELLUM" get urn:a:keep "$BATS_TEST_TMPDIR/o"
    cmp "$BATS_TEST_TMPDIR/c.zip" "$BATS_TEST_TMPDIR/o/data/c.zip"
}

@test "nested archives stay files unless --expand-nested" {
    (cd "$BATS_TEST_TMPDIR" && zip -qr inner.zip collection && mkdir outer && mv inner.zip outer/ && printf 'x\n' > outer/readme.txt && tar -cf outer.tar outer)
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/outer.tar" --id urn:a:nest --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["files"]')" = "2" ]
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/outer.tar" --id urn:a:nest2 --expand-nested --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["files"]')" = "6" ]
    "$VELLUM" get urn:a:nest2 "$BATS_TEST_TMPDIR/o"
    diff -r "$SRC" "$BATS_TEST_TMPDIR/o/data/outer/inner.zip.unpacked/collection"
    cmp "$BATS_TEST_TMPDIR/outer/inner.zip" "$BATS_TEST_TMPDIR/o/data/outer/inner.zip"
}

@test "a DOCX-like ZIP document is kept whole, not unpacked" {
    python3 - "$BATS_TEST_TMPDIR/report.docx" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr("_rels/.rels", "<Relationships/>")
    z.writestr("word/document.xml", "<w:document/>")
PY
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/report.docx" --id urn:a:docx --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["files"]')" = "1" ]
}

@test "an archive and a folder together form one deposit" {
    (cd "$BATS_TEST_TMPDIR" && zip -qr c.zip collection)
    mkdir -p "$BATS_TEST_TMPDIR/extra" && printf 'e\n' > "$BATS_TEST_TMPDIR/extra/e.txt"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/c.zip" "$BATS_TEST_TMPDIR/extra" --id urn:a:mix --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["files"]')" = "5" ]
}

@test "zip and tar entries with non-ASCII UTF-8 names keep their names" {
    python3 - "$BATS_TEST_TMPDIR" <<'PY'
import io, sys, tarfile, zipfile
d = sys.argv[1]
with zipfile.ZipFile(d + "/u.zip", "w") as z:
    z.writestr("café/naïve 日本.txt", "zip\n")
with tarfile.open(d + "/u.tar", "w", format=tarfile.PAX_FORMAT) as t:
    b = b"tar\n"; i = tarfile.TarInfo("café/naïve 日本.txt"); i.size = len(b); t.addfile(i, io.BytesIO(b))
PY
    for a in u.zip u.tar; do
        run "$VELLUM" ingest "$BATS_TEST_TMPDIR/$a" --id "urn:a:utf8-$a"
        [ "$status" -eq 0 ] || { echo "$a: $output"; return 1; }
        "$VELLUM" get "urn:a:utf8-$a" "$BATS_TEST_TMPDIR/o-$a" >/dev/null
        [ -f "$BATS_TEST_TMPDIR/o-$a/data/café/naïve 日本.txt" ]
    done
}
