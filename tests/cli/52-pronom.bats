#!/usr/bin/env bats
# PRONOM identification end to end: vellum identify with the DROID and
# container signature files, the settings that give them to a repository,
# and what a deposit records (catalog, METS, events).

load helpers

SIGS="$VELLUM_SHARED/pronom/DROID_SignatureFile_V122.xml"
CONT="$VELLUM_SHARED/pronom/container-signature-20260119.xml"

setup() {
    setup_repo
    export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache"
    S="$BATS_TEST_TMPDIR/src"
    mkdir -p "$S/sub/deeper"
    printf '%%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%%%EOF\n' > "$S/report.pdf"
    { printf 'GIF89a\x01\x00\x01\x00\x00\x00\x00'; head -c 100 /dev/zero; printf ';'; } > "$S/sub/dot.gif"
    printf 'Dear Ann,\nthank you.\n' > "$S/sub/notes.txt"
    cp "$S/report.pdf" "$S/sub/deeper/really-a-pdf.png"
    # fixed bytes that match no signature (random ones might, now and then)
    python3 -c 'import sys; sys.stdout.buffer.write(bytes(((i * 7 + 3) % 251) ^ 0x5a for i in range(3000)))' > "$S/sub/deeper/noise"
    python3 - "$S/letter.docx" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("[Content_Types].xml",
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr("_rels/.rels", "<Relationships/>")
    z.writestr("word/document.xml", "<w:document/>")
PY
}

# csv_row FILE: the CSV row of FILE from $output
csv_row() {
    printf '%s\n' "$output" | tr -d '\r' | grep -F "$1,"
}

@test "identify --format csv walks folders and names each file's PUID, basis and warning" {
    run --separate-stderr "$VELLUM" identify --signatures "$SIGS" --containers "$CONT" \
        --format csv "$S"
    [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
    [ "$(printf '%s\n' "$output" | head -1 | tr -d '\r')" = "path,size,puid,format,version,mime,basis,warning" ]
    # every file once, in name order, folders walked
    [ "${#lines[@]}" -eq 7 ]
    [[ "$(csv_row "$S/report.pdf")" == "$S/report.pdf,"*",fmt/18,Acrobat PDF 1.4 - Portable Document Format,1.4,application/pdf,"*BOF*"," ]]
    [[ "$(csv_row "$S/sub/dot.gif")" == *",fmt/4,Graphics Interchange Format,89a,image/gif,"* ]]
    # a container signature: the Word OOXML inside the ZIP
    [[ "$(csv_row "$S/letter.docx")" == *",fmt/412,Microsoft Word for Windows,2007 onwards,"*"[Content_Types].xml"* ]]
    # no signature: the extension alone, said so
    # (DROID lists every format with that extension)
    [[ "$(csv_row "$S/sub/notes.txt")" == *",x-fmt/111 fmt/1085 fmt/1591,Plain Text File,,text/plain,extension match txt,3 formats match" ]]
    # a PDF named .png: identified by its bytes, with DROID's warning
    [[ "$(csv_row "$S/sub/deeper/really-a-pdf.png")" == *",fmt/18,"*"extension mismatch"* ]]
    # nothing known: no PUID, libmagic's MIME type
    [ "$(csv_row "$S/sub/deeper/noise")" = "$S/sub/deeper/noise,3000,,,,application/octet-stream,," ]
}

@test "identify --json gives the basis and the signature versions; text names the PUID" {
    run "$VELLUM" identify --signatures "$SIGS" --containers "$CONT" --json "$S/report.pdf" "$S/sub/notes.txt"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd[0]["puid"]')" = fmt/18 ]
    [ "$(echo "$output" | jfield 'd[0]["signatures"]')" = "DROID V122; containers 40" ]
    [[ "$(echo "$output" | jfield 'd[0]["basis"]')" == *BOF* ]]
    [ "$(echo "$output" | jfield 'd[1]["encoding"]')" = us-ascii ]
    run "$VELLUM" identify --signatures "$SIGS" "$S/sub/dot.gif"
    [ "$status" -eq 0 ]
    [[ "$output" == "$S/sub/dot.gif"$'\t'"image/gif; charset=binary"$'\t'"fmt/4"$'\t'* ]]
}

@test "identify --pronom-only answers as the signatures alone: same PUIDs, no libmagic" {
    run --separate-stderr "$VELLUM" identify --signatures "$SIGS" --containers "$CONT" \
        --pronom-only --format csv "$S"
    [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
    [ "${#lines[@]}" -eq 7 ]
    [[ "$(csv_row "$S/report.pdf")" == *",fmt/18,Acrobat PDF 1.4 - Portable Document Format,1.4,application/pdf,"*BOF*"," ]]
    [[ "$(csv_row "$S/letter.docx")" == *",fmt/412,Microsoft Word for Windows,2007 onwards,"* ]]
    # nothing known: no libmagic to give a MIME type either
    [ "$(csv_row "$S/sub/deeper/noise")" = "$S/sub/deeper/noise,3000,,,,,," ]
    # text output: no charset (libmagic gives encodings), "-" for no MIME type
    run "$VELLUM" identify --signatures "$SIGS" --pronom-only "$S/sub/dot.gif" "$S/sub/deeper/noise"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "$S/sub/dot.gif"$'\t'"image/gif"$'\t'"fmt/4"$'\t'* ]]
    [[ "${lines[1]}" == "$S/sub/deeper/noise"$'\t'"-"$'\t'"-"$'\t'* ]]
    # without signatures there is nothing to answer with
    XDG_CACHE_HOME="$BATS_TEST_TMPDIR/c2" VELLUM_PRONOM_SIGNATURES= run "$VELLUM" identify --pronom-only "$S/report.pdf"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--pronom-only needs a signature file"* ]]
}

@test "identify reads the signatures from the environment, and caches them compiled" {
    export VELLUM_PRONOM_SIGNATURES="$SIGS" VELLUM_PRONOM_CONTAINERS="$CONT"
    run "$VELLUM" identify --format csv "$S"
    [ "$status" -eq 0 ]
    first=$output
    ls "$XDG_CACHE_HOME"/vellum/ | grep -q . || { echo "nothing cached"; return 1; }
    run "$VELLUM" identify --format csv "$S"
    [ "$output" = "$first" ]
    # a damaged cache is ignored, never trusted
    for f in "$XDG_CACHE_HOME"/vellum/*; do
        printf 'garbage' | dd of="$f" bs=1 seek=40 conv=notrunc 2>/dev/null
    done
    run "$VELLUM" identify --format csv "$S"
    [ "$status" -eq 0 ]
    [ "$output" = "$first" ]
    for f in "$XDG_CACHE_HOME"/vellum/*; do truncate -s 10 "$f"; done
    run "$VELLUM" identify --format csv "$S"
    [ "$output" = "$first" ]
}

@test "identify: bad options and unreadable signature files are usage errors" {
    run "$VELLUM" identify --format xml "$S"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--format takes text, csv or json"* ]]
    run "$VELLUM" identify --containers "$CONT" "$S"
    [ "$status" -eq 2 ]
    run "$VELLUM" identify --signatures "$BATS_TEST_TMPDIR/none.xml" "$S"
    [ "$status" -ne 0 ]
    [[ "$output" == *none.xml* ]]
    printf '<FFSignatureFile><InternalSignatureCollection><InternalSignature ID="1"><ByteSequence><SubSequence Position="1"><Sequence>4G</Sequence>' > "$BATS_TEST_TMPDIR/broken.xml"
    run "$VELLUM" identify --signatures "$BATS_TEST_TMPDIR/broken.xml" "$S"
    [ "$status" -ne 0 ]
    [[ "$output" == *broken.xml* ]]
    # a missing file among good ones: exit 2, the others identified
    run "$VELLUM" identify --signatures "$SIGS" "$S/report.pdf" "$S/gone.pdf" "$S/sub/dot.gif"
    [ "$status" -eq 2 ]
    [[ "$output" == *"gone.pdf"* ]]
    [[ "$output" == *fmt/18* ]] && [[ "$output" == *fmt/4* ]]
}

@test "config pronom.* checks the files, keeps absolute paths, and lists them" {
    cd "$VELLUM_SHARED/pronom"
    run "$VELLUM" config pronom.signatures DROID_SignatureFile_V122.xml
    [ "$status" -eq 0 ]
    [ "$("$VELLUM" config pronom.signatures)" = "$(realpath DROID_SignatureFile_V122.xml)" ]
    cd "$BATS_TEST_TMPDIR"
    printf 'not xml' > bad.xml
    run "$VELLUM" config pronom.signatures bad.xml
    [ "$status" -eq 2 ]
    [[ "$output" == *bad.xml* ]]
    run "$VELLUM" config pronom.containers "$BATS_TEST_TMPDIR/missing.xml"
    [ "$status" -eq 2 ]
    run "$VELLUM" config pronom.containers "$CONT"
    [ "$status" -eq 0 ]
    # setting them compiled both into the repository's cache already
    ls "$REPO/cache" | grep -q '^pronom-'
    # a refused file leaves the setting as it was
    run "$VELLUM" config pronom.containers "$BATS_TEST_TMPDIR/bad.xml"
    [ "$status" -eq 2 ]
    [[ "$output" == *bad.xml* ]]
    [ "$("$VELLUM" config pronom.containers)" = "$(realpath "$CONT")" ]
    run "$VELLUM" config
    [[ "$output" == *"pronom.signatures = $(realpath "$SIGS")"* ]]
    [[ "$output" == *"pronom.containers = $(realpath "$CONT")"* ]]
    # identify borrows a repository's settings when --repo names one (not
    # from $VELLUM_REPO: identify needs no repository)
    run "$VELLUM" identify --format csv "$S/letter.docx"
    [[ "$output" != *"container signature"* ]]
    run "$VELLUM" identify --repo "$REPO" --format csv "$S/letter.docx"
    [[ "$output" == *",fmt/412,"*"container signature 1030"* ]]
}

@test "a deposit records PUID, basis and signature versions in the catalog, METS and events" {
    "$VELLUM" config pronom.signatures "$SIGS"
    "$VELLUM" config pronom.containers "$CONT"
    run "$VELLUM" ingest "$S" --id urn:p:one --quiet
    [ "$status" -eq 0 ]
    run "$VELLUM" show urn:p:one --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield '[f["format"]["puid"] for f in d["files"] if f["path"].endswith("letter.docx")][0]')" = fmt/412 ]
    [ "$(echo "$output" | jfield '[f["format"]["puid"] for f in d["files"] if f["path"].endswith("report.pdf")][0]')" = fmt/18 ]
    mets=$(find "$(object_dir urn:p:one)/v1/content" -name METS.xml)
    grep -q '<formatRegistryKey>fmt/412</formatRegistryKey>' "$mets"
    grep -q '<formatNote>PRONOM basis: .*Content_Types' "$mets"
    grep -q '<formatNote>PRONOM warning: extension mismatch' "$mets"
    grep -q '<formatNote>identified with: DROID V122; containers 40</formatNote>' "$mets"
    # one file stayed unidentified: the identification event says warning
    run "$VELLUM" events urn:p:one --json
    [ "$(echo "$output" | jfield '[e["outcome"] for e in d if e["type"] == "format identification" and "DROID V122" in e["detail"]][0]')" = warning ]
    [[ "$(echo "$output" | jfield '[e["detail"] for e in d if e["type"] == "format identification"][0]')" == *"6 files"*"5 have a PRONOM identifier, 1 has none"* ]]
    # the METS alone brings the basis back after the catalog is lost
    rm -f "$REPO/catalog.sqlite"*
    run "$VELLUM" reindex
    [ "$status" -eq 0 ]
    run "$VELLUM" show urn:p:one --json
    [ "$(echo "$output" | jfield '[f["format"]["puid"] for f in d["files"] if f["path"].endswith("letter.docx")][0]')" = fmt/412 ]
    # a METS export carries the same notes
    run "$VELLUM" export urn:p:one "$BATS_TEST_TMPDIR/out" --format mets
    [ "$status" -eq 0 ]
    grep -q '<formatNote>identified with: DROID V122; containers 40</formatNote>' "$BATS_TEST_TMPDIR/out/METS.xml"
    # the compiled signatures were kept in the repository
    ls "$REPO/cache" | grep -q .
}

@test "a deposit names the setting when its signature file has gone" {
    cp "$SIGS" "$BATS_TEST_TMPDIR/sigs.xml"
    "$VELLUM" config pronom.signatures "$BATS_TEST_TMPDIR/sigs.xml"
    rm "$BATS_TEST_TMPDIR/sigs.xml"
    run "$VELLUM" ingest "$S" --id urn:p:two --quiet
    [ "$status" -ne 0 ]
    [[ "$output" == *sigs.xml*pronom.signatures* ]]
    [ "$(object_count)" -eq 0 ]
}
