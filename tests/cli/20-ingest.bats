#!/usr/bin/env bats
# vellum ingest of folders and files; versions, merge, deduplication, names.

load helpers

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC/sub"
    printf 'alpha\n' > "$SRC/a.txt"
    printf 'alpha\n' > "$SRC/sub/same-as-a.txt"
    head -c 70000 /dev/urandom > "$SRC/sub/random.bin"
}

@test "ingest without --id mints a urn:uuid and makes v1" {
    run "$VELLUM" ingest "$SRC" --json
    [ "$status" -eq 0 ]
    id=$(echo "$output" | jfield 'd["id"]')
    [[ "$id" =~ ^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
    [ "$(echo "$output" | jfield 'd["version"]')" = "1" ]
    [ "$(echo "$output" | jfield 'd["files"]')" = "3" ]
    d=$(object_dir "$id")
    [ "$(cat "$d/0=ocfl_object_1.1")" = "ocfl_object_1.1" ]
    cmp "$d/inventory.json" "$d/v1/inventory.json"
    [ "$(cut -d' ' -f1 "$d/inventory.json.sha512")" = "$(sha512sum "$d/inventory.json" | cut -d' ' -f1)" ]
    staging_clean
}

@test "deposited files live under data/ and identical content is stored once" {
    run "$VELLUM" ingest "$SRC" --id urn:t:dedup
    [ "$status" -eq 0 ]
    d=$(object_dir urn:t:dedup)
    [ -f "$d/v1/content/data/a.txt" ]
    [ ! -e "$d/v1/content/data/sub/same-as-a.txt" ]
    [ -f "$d/v1/content/data/sub/random.bin" ]
    run jfield 'sorted(p for ps in d["versions"]["v1"]["state"].values() for p in ps)' < "$d/inventory.json"
    [ "$output" = "['METS.xml', 'data/a.txt', 'data/sub/random.bin', 'data/sub/same-as-a.txt']" ]
    # no empty folders are left in content (OCFL E024)
    [ -z "$(find "$d" -type d -empty)" ]
}

@test "ingesting the same folder twice writes no version" {
    run "$VELLUM" ingest "$SRC" --id urn:t:twice
    [ "$status" -eq 0 ]
    d=$(object_dir urn:t:twice)
    before=$(sha512sum "$d/inventory.json")
    run "$VELLUM" ingest "$SRC" --id urn:t:twice
    [ "$status" -eq 0 ]
    [[ "$output" == *"no changes"* ]]
    [ ! -e "$d/v2" ]
    [ "$before" = "$(sha512sum "$d/inventory.json")" ]
    run "$VELLUM" ingest "$SRC" --id urn:t:twice --json
    [ "$(echo "$output" | jfield 'd["changed"], d["version"]')" = "False 0" ]
    staging_clean
}

@test "a changed folder makes v2 whose state is the folder; unchanged content is not re-stored" {
    "$VELLUM" ingest "$SRC" --id urn:t:v2 --message first
    printf 'beta\n' > "$SRC/b.txt"
    rm "$SRC/a.txt"
    run "$VELLUM" ingest "$SRC" --id urn:t:v2 --message second --user-name "Ann" --user-address mailto:ann@example.org
    [ "$status" -eq 0 ]
    [[ "$output" == *"v2"* ]]
    d=$(object_dir urn:t:v2)
    [ -f "$d/v2/content/data/b.txt" ]
    [ ! -e "$d/v2/content/data/sub/random.bin" ]
    run jfield 'sorted(p for ps in d["versions"]["v2"]["state"].values() for p in ps), d["versions"]["v2"]["message"], d["versions"]["v2"]["user"]["name"], d["versions"]["v2"]["user"]["address"], d["head"]' < "$d/inventory.json"
    [ "$output" = "['METS.xml', 'data/b.txt', 'data/sub/random.bin', 'data/sub/same-as-a.txt'] second Ann mailto:ann@example.org v2" ]
    cmp "$d/inventory.json" "$d/v2/inventory.json"
    # created is RFC 3339 with a zone
    run jfield 'd["versions"]["v2"]["created"]' < "$d/inventory.json"
    [[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
}

@test "--merge adds and replaces files on top of the head state" {
    "$VELLUM" ingest "$SRC" --id urn:t:merge
    mkdir -p "$BATS_TEST_TMPDIR/more/sub"
    printf 'new\n' > "$BATS_TEST_TMPDIR/more/new.txt"
    printf 'replaced\n' > "$BATS_TEST_TMPDIR/more/a.txt"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/more" --id urn:t:merge --merge
    [ "$status" -eq 0 ]
    run "$VELLUM" get urn:t:merge "$BATS_TEST_TMPDIR/out"
    [ "$status" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/out/data/a.txt")" = "replaced" ]
    [ "$(cat "$BATS_TEST_TMPDIR/out/data/new.txt")" = "new" ]
    cmp "$SRC/sub/random.bin" "$BATS_TEST_TMPDIR/out/data/sub/random.bin"
}

@test "a single file is a source too, and several sources form one deposit" {
    mkdir -p "$BATS_TEST_TMPDIR/other"
    printf 'o\n' > "$BATS_TEST_TMPDIR/other/o.txt"
    printf 'lonely\n' > "$BATS_TEST_TMPDIR/single.txt"
    run "$VELLUM" ingest "$SRC" "$BATS_TEST_TMPDIR/other" "$BATS_TEST_TMPDIR/single.txt" --id urn:t:multi --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["files"]')" = "5" ]
    run "$VELLUM" get urn:t:multi "$BATS_TEST_TMPDIR/out"
    [ -f "$BATS_TEST_TMPDIR/out/data/o.txt" ]
    [ -f "$BATS_TEST_TMPDIR/out/data/single.txt" ]
    [ -f "$BATS_TEST_TMPDIR/out/data/sub/random.bin" ]
}

@test "two sources that give the same path are refused" {
    mkdir -p "$BATS_TEST_TMPDIR/clash"
    printf 'other\n' > "$BATS_TEST_TMPDIR/clash/a.txt"
    run "$VELLUM" ingest "$SRC" "$BATS_TEST_TMPDIR/clash" --id urn:t:clash
    [ "$status" -eq 2 ]
    [[ "$output" == *"data/a.txt"* ]]
    [ "$(object_count)" -eq 0 ]
}

@test "names round-trip byte-exact: spaces, NFC and NFD, punctuation, depth, 255 bytes" {
    N="$BATS_TEST_TMPDIR/names"
    mkdir -p "$N"
    printf 'space\n' > "$N/with space.txt"
    printf 'nfc\n' > "$N/$(printf 'caf\xc3\xa9').txt"
    printf 'nfd\n' > "$N/$(printf 'cafe\xcc\x81').txt"
    printf 'punct\n' > "$N/!#\$%&'()+,;=@[]^_\`{}~-.txt"
    deep="$N/$(printf 'd%d/' $(seq 1 40))"
    mkdir -p "$deep" && printf 'deep\n' > "$deep/leaf"
    long=$(printf 'x%.0s' $(seq 1 251)).txt
    printf 'long\n' > "$N/$long"
    printf '日本語\n' > "$N/日本語 ファイル.txt"
    run "$VELLUM" ingest "$N" --id urn:t:names
    [ "$status" -eq 0 ]
    run "$VELLUM" get urn:t:names "$BATS_TEST_TMPDIR/out"
    [ "$status" -eq 0 ]
    diff -r "$N" "$BATS_TEST_TMPDIR/out/data"
    # NFC and NFD names stay two different files with their own bytes
    [ "$(ls "$BATS_TEST_TMPDIR/out/data" | grep -c '^caf')" -eq 2 ]
    [ "$(cat "$BATS_TEST_TMPDIR/out/data/$(printf 'cafe\xcc\x81').txt")" = nfd ]
    # the logical paths in the inventory are the same bytes
    d=$(object_dir urn:t:names)
    grep -q "$(printf 'data/cafe\xcc\x81.txt')" "$d/inventory.json"
    grep -q "$(printf 'data/caf\xc3\xa9.txt')" "$d/inventory.json"
}

@test "a name that is not UTF-8 is refused, named hex-escaped, and nothing is stored" {
    mkdir -p "$SRC/bad"
    printf 'x\n' > "$SRC/bad/$(printf 'caf\xe9').txt"
    run "$VELLUM" ingest "$SRC" --id urn:t:badname
    [ "$status" -eq 2 ]
    [[ "$output" == *'caf\xe9.txt'* ]]
    [[ "$output" == *"invalid UTF-8"* ]]
    [ "$(object_count)" -eq 0 ]
    staging_clean
    run "$VELLUM" ls --json
    [ "$output" = "[]" ]
}

@test "a name with a control character is refused" {
    printf 'x\n' > "$SRC/$(printf 'tab\there')"
    run "$VELLUM" ingest "$SRC" --id urn:t:ctl
    [ "$status" -eq 2 ]
    [[ "$output" == *'tab\x09here'* ]]
    [ "$(object_count)" -eq 0 ]
}

@test "symlinks and FIFOs are refused with the entry named" {
    ln -s a.txt "$SRC/link"
    run "$VELLUM" ingest "$SRC" --id urn:t:link
    [ "$status" -eq 2 ]
    [[ "$output" == *"$SRC/link"*"symbolic link"* ]]
    rm "$SRC/link"
    mkfifo "$SRC/fifo"
    run "$VELLUM" ingest "$SRC" --id urn:t:fifo
    [ "$status" -eq 2 ]
    [[ "$output" == *"fifo"*"not a regular file"* ]]
    [ "$(object_count)" -eq 0 ]
    staging_clean
}

@test "empty folders are not kept and say so" {
    mkdir -p "$SRC/empty"
    run "$VELLUM" ingest "$SRC" --id urn:t:empty
    [ "$status" -eq 0 ]
    [[ "$output" == *"empty folder"*"not kept"* ]]
    # Not kept indeed: no such folder in the stored version or read back,
    # while the files beside it are.
    [ ! -e "$(object_dir urn:t:empty)/v1/content/data/empty" ]
    "$VELLUM" get urn:t:empty "$BATS_TEST_TMPDIR/got" >/dev/null
    [ ! -e "$BATS_TEST_TMPDIR/got/data/empty" ]
    rmdir "$SRC/empty"
    diff -r "$SRC" "$BATS_TEST_TMPDIR/got/data"
}

@test "an empty source is refused" {
    mkdir -p "$BATS_TEST_TMPDIR/nothing"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/nothing" --id urn:t:none
    [ "$status" -eq 2 ]
    [[ "$output" == *"no files"* ]]
}

@test "an ingest records PREMIS events with their agents" {
    "$VELLUM" ingest "$SRC" --id urn:t:events --user-name Ann --user-address mailto:ann@example.org >/dev/null
    run "$VELLUM" events urn:t:events --json
    [ "$status" -eq 0 ]
    types=$(echo "$output" | jfield '",".join(e["type"] for e in d)')
    [[ "$types" == *"ingestion"*"message digest calculation"*"format identification"* ]]
    [ "$(echo "$output" | jfield 'all(e["version"] == 1 and e["object"] == "urn:t:events" for e in d)')" = "True" ]
    [[ "$(echo "$output" | jfield '[e["agents"] for e in d if e["type"]=="ingestion"][0]')" == *"Ann <mailto:ann@example.org>"* ]]
    [[ "$(echo "$output" | jfield '[e["agents"] for e in d if e["type"]=="message digest calculation"][0]')" == *OpenSSL* ]]
    [[ "$(echo "$output" | jfield '[e["agents"] for e in d if e["type"]=="format identification"][0]')" == *libmagic* ]]
    # a no-change ingest records nothing
    n=$(echo "$output" | jfield 'len(d)')
    "$VELLUM" ingest "$SRC" --id urn:t:events >/dev/null
    [ "$("$VELLUM" events urn:t:events --json | jfield 'len(d)')" = "$n" ]
}

@test "formats are identified while ingesting and shown by show" {
    python3 "$VELLUM_TESTS/fixtures/formats/make-formats" "$BATS_TEST_TMPDIR/fmt" >/dev/null
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/fmt" --id urn:t:formats
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run "$VELLUM" show urn:t:formats --json
    puids=$(echo "$output" | jfield '" ".join(sorted(set(f["format"]["puid"] for f in d["files"] if f.get("format") and f["format"].get("puid"))))')
    for p in fmt/11 fmt/4 fmt/101 x-fmt/111; do
        [[ " $puids " == *" $p "* ]] || { echo "missing $p in $puids"; return 1; }
    done
    [ "$(echo "$output" | jfield '[f["format"]["mime"] for f in d["files"] if f["path"].endswith(".png")][0]')" = "image/png" ]
}

@test "--max-bytes takes the sizes audit takes, and refuses what is not one" {
    mkdir -p "$BATS_TEST_TMPDIR/mb" && printf 'hello\n' > "$BATS_TEST_TMPDIR/mb/a.txt"
    for bad in 5BB 5iB 1KBB 16777216T 99999999999999999999 lots; do
        run "$VELLUM" ingest "$BATS_TEST_TMPDIR/mb" --id urn:mb:x --max-bytes "$bad"
        [ "$status" -eq 2 ] || { echo "--max-bytes $bad: exit $status"; return 1; }
        [[ "$output" == *"--max-bytes takes a size like 500M"* ]]
    done
    [ "$(object_count)" -eq 0 ]
    # a size that fits is a limit that holds: 6 bytes go in under 6B, not under 5B
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/mb" --id urn:mb:x --max-bytes 5B
    [ "$status" -eq 2 ]
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/mb" --id urn:mb:x --max-bytes 6B --quiet
    [ "$status" -eq 0 ]
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/mb" --id urn:mb:y --max-bytes 1KiB --quiet
    [ "$status" -eq 0 ]
}
