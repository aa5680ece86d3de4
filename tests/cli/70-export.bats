#!/usr/bin/env bats
# vellum export (mets, bagit, ocfl; folders and zip/tar/tar.gz), show --mets,
# and formats restored by reindex from the stored METS.

load helpers
load hooks

teardown() {
    stopped_cleanup
}

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/letters"
    mkdir -p "$SRC/box one" "$SRC/box two"
    printf 'Dear Joseph,\n' > "$SRC/box one/one.txt"
    printf 'Dear Ann,\n' > "$SRC/box one/two 50%.txt"
    printf '%%PDF-1.4\n%%%%EOF\n' > "$SRC/box two/scan.pdf"
    printf '\x89PNG\r\n\x1a\n0000000000000' > "$SRC/emblem.png"
    "$VELLUM" ingest "$SRC" --id urn:t:exp --dc title="Letters of Ann" \
        --dc creator="Ann Archivist" --dc publisher="Example Archive" \
        --user-name "Ann" --user-address mailto:ann@example.org >/dev/null
    printf 'Dear all,\n' > "$SRC/box one/three.txt"
    "$VELLUM" ingest "$SRC" --id urn:t:exp --message second >/dev/null
    OUT="$BATS_TEST_TMPDIR/out"
    mkdir -p "$OUT"
    XSD="$VELLUM_SHARED/schemas/mets-bundle.xsd"
    export XML_CATALOG_FILES="$VELLUM_SHARED/schemas/catalog.xml"
}

schema_valid() {
    xmllint --noout --nonet --schema "$XSD" "$1" 2>&1 | grep -q "validates$"
}

# digests ID [vN]: "path digest" of each data/ file, sorted
digests() {
    "$VELLUM" show "$1" ${2:+--version $2} --json |
        jfield '"\n".join(sorted(f["path"]+" "+f["digest"] for f in d["files"] if f["path"].startswith("data/")))'
}

# unpack ARCHIVE DIR
unpack() {
    mkdir -p "$2"
    case "$1" in
        *.zip) (cd "$2" && unzip -q "$1") ;;
        *) tar -xf "$1" -C "$2" ;;
    esac
}

# nothing left beside DEST (temporary names)
nothing_beside() {
    [ -z "$(ls -A "$OUT" | grep vellum-export)" ]
}

@test "export mets to a folder: METS.xml plus data/, byte-exact, schema-valid" {
    run "$VELLUM" export urn:t:exp "$OUT/pkg" --format mets
    [ "$status" -eq 0 ]
    [ "$(ls "$OUT/pkg")" = "$(printf 'METS.xml\ndata')" ]
    "$VELLUM" get urn:t:exp "$OUT/got" >/dev/null
    diff -r "$OUT/got/data" "$OUT/pkg/data"
    schema_valid "$OUT/pkg/METS.xml" || { xmllint --noout --nonet --schema "$XSD" "$OUT/pkg/METS.xml"; return 1; }
    grep -q '<dc:title>Letters of Ann</dc:title>' "$OUT/pkg/METS.xml"
    grep -q 'FLocat LOCTYPE="URL" xlink:type="simple" xlink:href="data/box%20one/two%2050%25.txt"' "$OUT/pkg/METS.xml"
    nothing_beside
}

@test "the exported METS carries every event up to now, including earlier exports" {
    "$VELLUM" export urn:t:exp "$OUT/first" --format mets >/dev/null
    "$VELLUM" export urn:t:exp "$OUT/second" --format mets >/dev/null
    # the stored METS has only the version's own events; the export has
    # the events of v1 and v2 and the first export's dissemination event
    [ "$(grep -c '<eventType>dissemination</eventType>' "$OUT/second/METS.xml")" -eq 1 ]
    [ "$(grep -c '<eventType>ingestion</eventType>' "$OUT/second/METS.xml")" -eq 2 ]
    n_events=$("$VELLUM" events urn:t:exp --json | jfield 'len(d)')
    [ "$(grep -c '<event version=' "$OUT/second/METS.xml")" -eq $((n_events - 1)) ]
}

@test "export mets as zip unpacks to the same bytes as vellum get" {
    run "$VELLUM" export urn:t:exp "$OUT/pkg.zip" --format mets --archive zip
    [ "$status" -eq 0 ]
    [ -f "$OUT/pkg.zip" ]
    unpack "$OUT/pkg.zip" "$OUT/unz"
    [ "$(ls "$OUT/unz")" = "pkg" ]
    "$VELLUM" get urn:t:exp "$OUT/got" >/dev/null
    diff -r "$OUT/got/data" "$OUT/unz/pkg/data"
    schema_valid "$OUT/unz/pkg/METS.xml"
    nothing_beside
}

@test "every format to every archive type" {
    for f in mets bagit ocfl; do
        for a in zip tar tar.gz; do
            run "$VELLUM" export urn:t:exp "$OUT/$f.$a" --format $f --archive $a
            [ "$status" -eq 0 ] || { echo "$f $a: $output"; return 1; }
            unpack "$OUT/$f.$a" "$OUT/x-$f-$a"
            [ "$(ls "$OUT/x-$f-$a")" = "$f" ] || { echo "$f $a: top folder"; return 1; }
        done
        # the archives hold the same files as the folder export
        "$VELLUM" export urn:t:exp "$OUT/$f" --format $f >/dev/null
        for a in zip tar tar.gz; do
            diff -r -x METS.xml -x 'bag-info.txt' -x 'tagmanifest-*' \
                "$OUT/$f" "$OUT/x-$f-$a/$f" || { echo "$f $a differs"; return 1; }
        done
    done
    case "$(file -b "$OUT/mets.tar.gz")" in gzip*) ;; *) return 1 ;; esac
    nothing_beside
}

@test "an existing destination is refused with exit 2 and left untouched" {
    mkdir "$OUT/taken"
    echo mine > "$OUT/taken/keep"
    echo mine > "$OUT/taken.zip"
    for f in mets bagit ocfl; do
        run "$VELLUM" export urn:t:exp "$OUT/taken" --format $f
        [ "$status" -eq 2 ]
        [[ "$output" == *"already exists"* ]]
        run "$VELLUM" export urn:t:exp "$OUT/taken.zip" --format $f --archive zip
        [ "$status" -eq 2 ]
    done
    [ "$(ls "$OUT/taken")" = "keep" ]
    [ "$(cat "$OUT/taken.zip")" = "mine" ]
    nothing_beside
    [ "$("$VELLUM" events urn:t:exp --type dissemination --json | jfield 'len(d)')" = "0" ]
}

@test "usage errors exit 2" {
    run "$VELLUM" export urn:t:exp "$OUT/a"
    [ "$status" -eq 2 ]
    run "$VELLUM" export urn:t:exp "$OUT/a" --format pdf
    [ "$status" -eq 2 ]
    run "$VELLUM" export urn:t:exp "$OUT/a" --format mets --archive rar
    [ "$status" -eq 2 ]
    run "$VELLUM" export urn:t:exp "$OUT/a" --format mets --version v9
    [ "$status" -eq 2 ]
    run "$VELLUM" export urn:t:nope "$OUT/a" --format mets
    [ "$status" -eq 2 ]
    run "$VELLUM" export urn:t:exp "$OUT/no/such/folder" --format mets
    [ "$status" -eq 2 ]
    [ ! -e "$OUT/a" ]
    run "$VELLUM" export --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: vellum export"* ]]
}

@test "--version exports an older version" {
    run "$VELLUM" export urn:t:exp "$OUT/v1" --format mets --version v1 --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["version"], d["files"]')" = "1 4" ]
    [ ! -e "$OUT/v1/data/box one/three.txt" ]
    "$VELLUM" get urn:t:exp "$OUT/got1" --version v1 >/dev/null
    diff -r "$OUT/got1/data" "$OUT/v1/data"
    # no event about v2 in a METS of v1
    ! grep -q 'Deposited 5 files' "$OUT/v1/METS.xml"
    grep -q 'Deposited 4 files' "$OUT/v1/METS.xml"
}

@test "each export records one PREMIS dissemination event" {
    "$VELLUM" export urn:t:exp "$OUT/b.tar" --format bagit --archive tar >/dev/null
    run "$VELLUM" events urn:t:exp --type dissemination --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'len(d)')" = "1" ]
    [ "$(echo "$output" | jfield 'd[0]["outcome"], d[0]["version"]')" = "success 2" ]
    echo "$output" | jfield 'd[0]["detail"]' | grep -q "bagit.*tar archive.*$OUT/b.tar"
    "$VELLUM" export urn:t:exp "$OUT/o" --format ocfl --version v1 >/dev/null
    [ "$("$VELLUM" events urn:t:exp --type dissemination --json | jfield 'len(d)')" = "2" ]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
}

@test "bagit export validates and round-trips through ingest" {
    run "$VELLUM" export urn:t:exp "$OUT/bag" --format bagit
    [ "$status" -eq 0 ]
    for f in bagit.txt bag-info.txt manifest-sha512.txt manifest-sha256.txt \
             tagmanifest-sha512.txt tagmanifest-sha256.txt METS.xml; do
        [ -f "$OUT/bag/$f" ] || { echo "no $f"; return 1; }
    done
    [ "$(head -1 "$OUT/bag/bagit.txt")" = "BagIt-Version: 1.0" ]
    grep -q '^Title: Letters of Ann$' "$OUT/bag/bag-info.txt"
    grep -q '^Source-Organization: Example Archive$' "$OUT/bag/bag-info.txt"
    grep -q '^Payload-Oxum: [0-9]*\.5$' "$OUT/bag/bag-info.txt"
    grep -q '^Bagging-Date: [0-9-]*$' "$OUT/bag/bag-info.txt"
    grep -q '^Bag-Software-Agent: vellum ' "$OUT/bag/bag-info.txt"
    grep -q ' data/box one/two 50%25.txt$' "$OUT/bag/manifest-sha256.txt"
    (cd "$OUT/bag" && sed 's/%25/%/' manifest-sha256.txt | sha256sum -c --quiet)
    (cd "$OUT/bag" && sha512sum -c --quiet tagmanifest-sha512.txt)
    run "$VELLUM" ingest "$OUT/bag" --id urn:t:new
    [ "$status" -eq 0 ]
    [ "$(digests urn:t:new)" = "$(digests urn:t:exp)" ]
    "$VELLUM" show urn:t:new --mets > "$OUT/new-mets.xml"
    grep -q '<dc:title>Letters of Ann</dc:title>' "$OUT/new-mets.xml"
    grep -q '<dc:creator>Ann Archivist</dc:creator>' "$OUT/new-mets.xml"
    grep -q '<dc:publisher>Example Archive</dc:publisher>' "$OUT/new-mets.xml"
}

@test "bagit export as tar.gz ingests back with the same digests" {
    "$VELLUM" export urn:t:exp "$OUT/bag.tar.gz" --format bagit --archive tar.gz >/dev/null
    run "$VELLUM" ingest "$OUT/bag.tar.gz" --id urn:t:fromtgz
    [ "$status" -eq 0 ]
    [ "$(digests urn:t:fromtgz)" = "$(digests urn:t:exp)" ]
}

@test "ocfl export equals the stored object and validates" {
    run "$VELLUM" export urn:t:exp "$OUT/obj" --format ocfl
    [ "$status" -eq 0 ]
    diff -r "$(object_dir urn:t:exp)" "$OUT/obj"
    run "$VELLUM" validate --path "$OUT/obj"
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 errors"* ]]
}

@test "ocfl export of an older version is v1 with v1's inventory at the root" {
    run "$VELLUM" export urn:t:exp "$OUT/obj1" --format ocfl --version v1
    [ "$status" -eq 0 ]
    d=$(object_dir urn:t:exp)
    [ ! -e "$OUT/obj1/v2" ]
    diff -r "$d/v1" "$OUT/obj1/v1"
    cmp "$d/v1/inventory.json" "$OUT/obj1/inventory.json"
    run "$VELLUM" validate --path "$OUT/obj1"
    [ "$status" -eq 0 ]
}

@test "a corrupted stored file fails every export (exit 1), leaves nothing, records a failure" {
    f="$(object_dir urn:t:exp)/v1/content/data/box one/one.txt"
    chmod u+w "$f"
    echo tampered > "$f"
    for fmt in mets bagit ocfl; do
        run "$VELLUM" export urn:t:exp "$OUT/bad-$fmt" --format $fmt
        [ "$status" -eq 1 ] || { echo "$fmt: $status $output"; return 1; }
        [ ! -e "$OUT/bad-$fmt" ]
        run "$VELLUM" export urn:t:exp "$OUT/bad-$fmt.zip" --format $fmt --archive zip
        [ "$status" -eq 1 ]
        [ ! -e "$OUT/bad-$fmt.zip" ]
    done
    nothing_beside
    [ "$("$VELLUM" events urn:t:exp --type dissemination --outcome fail --json | jfield 'len(d)')" = "6" ]
    staging_clean
}

# Run CMD killed (SIGKILL, as kill -9) right after it created its second
# file under a path matching GLOB.
kill_at() {
    local glob=$1; shift
    run with_hooks VELLUM_HOOK_AT="kill:open:2:$glob" "$@"
    [ "$status" -eq 137 ] || { echo "not killed at $glob: $status $output"; return 1; }
}

@test "a killed export or get leaves temporaries that recover removes; a live one is left alone" {
    start_stopped "$OUT/bag.vellum-export-*/*" "$VELLUM" export urn:t:exp "$OUT/bag" --format bagit
    # Its owner is alive (stopped): recover must not touch its work.
    run "$VELLUM" recover
    [ "$status" -eq 0 ]
    [[ "$output" == *", 0 abandoned temporaries removed" ]]
    compgen -G "$OUT/bag.vellum-export-*" >/dev/null
    [ "$(ls "$REPO/staging/.outside" | wc -l)" -ge 1 ]
    kill -9 "$STOPPED"; wait "$STOPPED" || true
    run "$VELLUM" recover --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["temporaries_removed"] >= 1')" = True ]
    [ -z "$(ls -A "$OUT")" ]
    [ -z "$(ls -A "$REPO/staging/.outside")" ]
    # The same for vellum get.
    kill_at "$OUT/copy.vellum-get-*/*" "$VELLUM" get urn:t:exp "$OUT/copy"
    compgen -G "$OUT/copy.vellum-get-*" >/dev/null
    run "$VELLUM" recover
    [ "$status" -eq 0 ]
    [[ "$output" == *", 1 abandoned temporaries removed" ]]
    [ -z "$(ls -A "$OUT")" ]
    # And a stopped-then-resumed export still finishes, whole.
    start_stopped "$OUT/bag.vellum-export-*/*" "$VELLUM" export urn:t:exp "$OUT/bag" --format bagit
    "$VELLUM" recover >/dev/null
    kill -CONT "$STOPPED"; wait "$STOPPED"
    [ -f "$OUT/bag/bagit.txt" ]
    cmp "$SRC/box one/three.txt" "$OUT/bag/data/box one/three.txt"
    nothing_beside
    [ -z "$(ls -A "$REPO/staging/.outside")" ]
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
}

@test "export and get first remove what killed runs to the same destination left, and only that" {
    # A running export to bag (stopped), then a killed one to bag and a
    # killed one to another destination.
    start_stopped "$OUT/bag.vellum-export-*/*" "$VELLUM" export urn:t:exp "$OUT/bag" --format mets
    live="$OUT/bag.vellum-export-$STOPPED"
    [ -d "$live" ]
    kill_at "$OUT/bag.vellum-export-*/*" "$VELLUM" export urn:t:exp "$OUT/bag" --format bagit
    kill_at "$OUT/other.vellum-export-*/*" "$VELLUM" export urn:t:exp "$OUT/other" --format mets
    [ "$(compgen -G "$OUT/bag.vellum-*" | wc -l)" -eq 2 ]
    dead=$(compgen -G "$OUT/bag.vellum-export-*" | grep -vxF "$live")
    # Given by another path to the same folder: the same destination.
    cd "$BATS_TEST_TMPDIR"
    run "$VELLUM" export urn:t:exp out/../out/bag --format bagit
    [ "$status" -eq 0 ]
    [ -f "$OUT/bag/bagit.txt" ]
    # the dead run's temporary is gone, the live one's kept, and another
    # destination's waits for recover
    [ "$(compgen -G "$OUT/bag.vellum-*")" = "$live" ]
    compgen -G "$OUT/other.vellum-export-*" >/dev/null
    ! grep -rqaF "$dead" "$REPO/staging/.outside"
    grep -rqaF "$live" "$REPO/staging/.outside"
    # get does the same, whatever kind of run left the temporary
    kill_at "$OUT/copy.vellum-export-*/*" "$VELLUM" export urn:t:exp "$OUT/copy" --format mets
    kill_at "$OUT/copy.vellum-get-*/*" "$VELLUM" get urn:t:exp "$OUT/copy"
    [ -z "$(compgen -G "$OUT/copy.vellum-export-*")" ]
    compgen -G "$OUT/copy.vellum-get-*" >/dev/null
    run "$VELLUM" get urn:t:exp "$OUT/copy"
    [ "$status" -eq 0 ]
    [ -z "$(compgen -G "$OUT/copy.vellum-*")" ]
    cmp "$SRC/box one/three.txt" "$OUT/copy/data/box one/three.txt"
    # The live export, killed now, and the other destination are recover's.
    kill -9 "$STOPPED"; wait "$STOPPED" || true
    run "$VELLUM" recover --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["temporaries_removed"] >= 2')" = True ]
    [ "$(ls -A "$OUT" | sort | tr '\n' ' ')" = "bag copy " ]
    [ -z "$(ls -A "$REPO/staging/.outside")" ]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
}

@test "recover removes only what a record names, and only temporaries" {
    mkdir -p "$REPO/staging/.outside"
    keep="$BATS_TEST_TMPDIR/precious"
    mkdir -p "$keep" "$OUT/x.vellum-export-1"
    printf 'mine\n' > "$keep/file"
    # A tampered record naming a folder that is not a vellum temporary.
    printf '%s\0%s\0%s' "$keep" "$OUT/x.vellum-export-1" "$OUT/cut-short.vellum-export-2" > "$REPO/staging/.outside/forged"
    mkdir -p "$OUT/cut-short.vellum-export-2"
    run "$VELLUM" recover
    [ "$status" -eq 0 ]
    [ -f "$keep/file" ]
    [ ! -e "$OUT/x.vellum-export-1" ]
    [ -d "$OUT/cut-short.vellum-export-2" ]   # no final NUL: not trusted
    [ ! -e "$REPO/staging/.outside/forged" ]
}

@test "a promised export event is recorded by recover once the export is in place, and only then" {
    "$VELLUM" export urn:t:exp "$OUT/first" --format mets >/dev/null
    mkdir -p "$OUT/placed"
    # Two abandoned records, as a kill between the final rename and the event
    # leaves them: one export reached its destination, one did not.
    for n in placed missing; do
        "$VELLUM" events urn:t:exp --type dissemination --json | python3 -c "
import json, sys, uuid
e = json.load(sys.stdin)[-1]
e.pop('seq', None); e.pop('prev', None)
e['id'] = 'urn:uuid:' + str(uuid.uuid4())
e['detail'] = 'Exported to $OUT/$n'
json.dump({'dest': '$OUT/$n', 'event': e}, open('$REPO/staging/.outside/.event-rec-$n', 'w'))
"
        printf '%s\0' "$OUT/$n.vellum-export-1" > "$REPO/staging/.outside/rec-$n"
    done
    run "$VELLUM" recover
    [ "$status" -eq 0 ]
    run "$VELLUM" events urn:t:exp --type dissemination --json
    [ "$(echo "$output" | jfield 'sum(1 for e in d if e["detail"] == "Exported to '"$OUT"'/placed")')" = 1 ]
    [ "$(echo "$output" | jfield 'sum(1 for e in d if "/missing" in e["detail"])')" = 0 ]
    [ -z "$(ls -A "$REPO/staging/.outside")" ]
    run "$VELLUM" recover
    [ "$("$VELLUM" events urn:t:exp --type dissemination --json | jfield 'len(d)')" = 2 ]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
}

@test "show --mets prints the stored METS, which validates" {
    run "$VELLUM" show urn:t:exp --mets
    [ "$status" -eq 0 ]
    "$VELLUM" show urn:t:exp --mets > "$OUT/m.xml"
    schema_valid "$OUT/m.xml"
    "$VELLUM" get urn:t:exp "$OUT/got" >/dev/null
    cmp "$OUT/m.xml" "$OUT/got/METS.xml"
    "$VELLUM" show urn:t:exp --mets --version v1 > "$OUT/m1.xml"
    "$VELLUM" get urn:t:exp "$OUT/got1" --version v1 >/dev/null
    cmp "$OUT/m1.xml" "$OUT/got1/METS.xml"
}

@test "show --mets names a METS that fails its digest" {
    m="$(object_dir urn:t:exp)/v2/content/METS.xml"
    chmod u+w "$m"
    echo '<!-- changed -->' >> "$m"
    run "$VELLUM" show urn:t:exp --mets
    [ "$status" -eq 1 ]
    [[ "$output" == *"METS.xml of v2 fails its sha512 check"* ]]
}

# formats ID [vN]: each file's identification as the METS carries it
# (libmagic's encoding and description are not in the METS yet)
formats() {
    "$VELLUM" show "$1" ${2:+--version $2} --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
keep = ("mime", "puid", "name", "version")
print(json.dumps([(f["path"], f.get("format") and {k: f["format"][k] for k in keep})
                  for f in d["files"]], sort_keys=True))'
}

@test "reindex after losing the catalog restores formats from the METS" {
    before=$(formats urn:t:exp)
    before1=$(formats urn:t:exp v1)
    [[ "$before" == *"fmt/"* ]]
    rm -f "$REPO/catalog.sqlite" "$REPO/catalog.sqlite-wal" "$REPO/catalog.sqlite-shm"
    run "$VELLUM" reindex --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(echo "$output" | jfield 'd["formats"] > 0')" = "True" ]
    [ "$(formats urn:t:exp)" = "$before" ]
    [ "$(formats urn:t:exp v1)" = "$before1" ]
}

@test "reindex with the catalog in place keeps every format field" {
    before=$("$VELLUM" show urn:t:exp --json)
    [[ "$before" == *'"encoding": "us-ascii"'* ]]
    run "$VELLUM" reindex
    [ "$status" -eq 0 ]
    [ "$("$VELLUM" show urn:t:exp --json)" = "$before" ]
}
