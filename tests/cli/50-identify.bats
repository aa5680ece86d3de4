#!/usr/bin/env bats
# vellum identify: libmagic's answer and the PRONOM identifier per file,
# on small real-format files written by tests/fixtures/formats/make-formats.

load helpers
load hooks

setup() {
    F="$BATS_TEST_TMPDIR/formats"
    python3 "$VELLUM_TESTS/fixtures/formats/make-formats" "$F"
}

# Fields of the line for one file: mime+charset, PUID, description.
line_of() {
    "$VELLUM" identify "$F/$1" | cut -f2-
}

@test "identify: MIME type, charset and PUID per format" {
    run "$VELLUM" identify "$F/image.png" "$F/doc14.pdf" "$F/pdfa1b.pdf" \
        "$F/notes.txt" "$F/table.csv" "$F/letter.docx" "$F/book.epub"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 7 ]
    [ "${lines[0]}" = "$F/image.png	image/png; charset=binary	fmt/11	PNG image data, 4 x 4, 8-bit/color RGB, non-interlaced" ]
    [[ "${lines[1]}" == "$F/doc14.pdf	application/pdf; charset="*"	fmt/18	PDF document, version 1.4"* ]]
    [[ "${lines[2]}" == *"	fmt/354	"* ]]
    [ "${lines[3]}" = "$F/notes.txt	text/plain; charset=utf-8	x-fmt/111	Unicode text, UTF-8 text" ]
    [[ "${lines[4]}" == *"	text/csv; charset=us-ascii	x-fmt/18	"* ]]
    [[ "${lines[5]}" == *"wordprocessingml.document; charset=binary	fmt/412	Microsoft Word 2007+" ]]
    [[ "${lines[6]}" == *"application/epub+zip; charset=binary	fmt/483	EPUB document" ]]
}

@test "identify: every sample format gets its PRONOM identifier" {
    check() {
        local got
        got=$(line_of "$1" | cut -f2)
        [ "$got" = "$2" ] || { echo "$1: got '$got', want '$2'"; return 1; }
    }
    check image-srgb.png fmt/12
    check image87.gif fmt/3
    check image89.gif fmt/4
    check jfif101.jpg fmt/43
    check jfif102.jpg fmt/44
    check exif.jpg x-fmt/391
    check image.tif fmt/353
    check image.jp2 x-fmt/392
    check doc17.pdf fmt/276
    check doc20.pdf fmt/1129
    check pdfa2u.pdf fmt/478
    check sound.wav fmt/141
    check broadcast.wav fmt/704
    check sound.flac fmt/279
    check sound.mp3 fmt/134
    check video.mp4 fmt/199
    check drawing.svg fmt/92
    check data.xml fmt/101
    check page.html fmt/471
    check page401.html fmt/100
    check ascii.txt x-fmt/111
    check archive.zip x-fmt/263
    check sheet.xlsx fmt/214
    check slides.pptx fmt/215
    check text.odt fmt/291
    check calc.ods fmt/295
    check show.odp fmt/293
    check random.bin -
    check empty.dat -
}

@test "identify --json: fields and values" {
    run "$VELLUM" identify --json "$F/pdfa1b.pdf" "$F/broadcast.wav" "$F/random.bin"
    [ "$status" -eq 0 ]
    echo "$output" > "$BATS_TEST_TMPDIR/out.json"
    [ "$(jfield 'len(d)' < "$BATS_TEST_TMPDIR/out.json")" = 3 ]
    [ "$(jfield 'sorted(d[0])' < "$BATS_TEST_TMPDIR/out.json")" = \
      "['description', 'encoding', 'format_name', 'format_version', 'mime', 'path', 'puid', 'size']" ]
    [ "$(jfield 'd[0]["puid"], d[0]["format_version"], d[0]["mime"]' < "$BATS_TEST_TMPDIR/out.json")" = \
      "fmt/354 1b application/pdf" ]
    [ "$(jfield 'd[0]["format_name"]' < "$BATS_TEST_TMPDIR/out.json")" = \
      "Acrobat PDF/A - Portable Document Format" ]
    [ "$(jfield 'd[0]["size"] == '"$(stat -c %s "$F/pdfa1b.pdf")" < "$BATS_TEST_TMPDIR/out.json")" = True ]
    [ "$(jfield 'd[1]["puid"], d[1]["format_name"], d[1]["format_version"]' < "$BATS_TEST_TMPDIR/out.json")" = \
      "fmt/704 Broadcast WAVE 1 PCM Encoding" ]
    [ "$(jfield 'd[2]["puid"], d[2]["mime"], d[2]["encoding"], d[2]["description"]' < "$BATS_TEST_TMPDIR/out.json")" = \
      " application/octet-stream binary data" ]
}

@test "identify: a large file is read only up to the prefix" {
    python3 -c "import sys; sys.stdout.write('x' * (8 << 20) + '\n')" > "$BATS_TEST_TMPDIR/big.txt"
    run "$VELLUM" identify "$BATS_TEST_TMPDIR/big.txt"
    [ "$status" -eq 0 ]
    [[ "$output" == *"	text/plain; charset=us-ascii	x-fmt/111	"* ]]
    run "$VELLUM" identify --json "$BATS_TEST_TMPDIR/big.txt"
    [ "$(echo "$output" | jfield 'd[0]["size"]')" = $(( (8 << 20) + 1 )) ]
    # Only the prefix was read: the hooks count the bytes read from it.
    run with_hooks VELLUM_HOOK_READS="$BATS_TEST_TMPDIR/reads" \
        VELLUM_HOOK_READ_GLOB="*/big.txt" "$VELLUM" identify "$BATS_TEST_TMPDIR/big.txt"
    [ "$status" -eq 0 ]
    read -r n < "$BATS_TEST_TMPDIR/reads"
    [ "$n" -gt 0 ] && [ "$n" -lt $((1 << 20)) ] || { echo "read $n bytes"; return 1; }
}

@test "identify: a missing file is exit 2 naming it; the others still print" {
    run "$VELLUM" identify "$F/image.png" "$F/nope.pdf" "$F/image89.gif"
    [ "$status" -eq 2 ]
    [[ "$output" == *"nope.pdf"* ]]
    [[ "$output" == *"image.png	image/png"* ]]
    [[ "$output" == *"image89.gif	image/gif"* ]]
    # a folder is walked: each file in it, in name order
    run "$VELLUM" identify "$F"
    [ "$status" -eq 0 ]
    [[ "$output" == *"$F/image.png	image/png"* ]]
    [ "$(printf '%s\n' "$output" | cut -f1)" = "$(find "$F" -type f | LC_ALL=C sort)" ]
}

@test "identify: usage errors" {
    run "$VELLUM" identify
    [ "$status" -eq 2 ]
    [[ "$output" == *"vellum identify"* ]]
    run "$VELLUM" identify --bogus "$F/image.png"
    [ "$status" -eq 2 ]
    run "$VELLUM" identify --help
    [ "$status" -eq 0 ]
    [[ "$output" == "usage: vellum identify"* ]]
}
