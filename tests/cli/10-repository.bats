#!/usr/bin/env bats
# vellum init and the shape of a new repository.

load helpers

@test "init creates an OCFL 1.1 storage root with the 0004 layout" {
    setup_repo
    [ "$(cat "$REPO/store/0=ocfl_1.1")" = "ocfl_1.1" ]
    run jfield 'd["extension"]' < "$REPO/store/ocfl_layout.json"
    [ "$output" = "0004-hashed-n-tuple-storage-layout" ]
    cfg="$REPO/store/extensions/0004-hashed-n-tuple-storage-layout/config.json"
    run jfield 'd["extensionName"], d["digestAlgorithm"], d["tupleSize"], d["numberOfTuples"], d["shortObjectRoot"]' < "$cfg"
    [ "$output" = "0004-hashed-n-tuple-storage-layout sha256 3 3 False" ]
    [ -f "$REPO/vellum.conf" ]
    [ -d "$REPO/staging" ]
    [ -f "$REPO/catalog.sqlite" ]
    run sqlite3 "$REPO/catalog.sqlite" 'PRAGMA journal_mode' 2>/dev/null || run python3 -c "import sqlite3;print(sqlite3.connect('$REPO/catalog.sqlite').execute('PRAGMA journal_mode').fetchone()[0])"
    [ "$output" = "wal" ]
}

@test "init refuses a non-empty folder and leaves it untouched" {
    mkdir -p "$BATS_TEST_TMPDIR/full"
    echo keep > "$BATS_TEST_TMPDIR/full/mine.txt"
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/full"
    [ "$status" -eq 2 ]
    [[ "$output" == *"not empty"* ]]
    [ "$(ls -A "$BATS_TEST_TMPDIR/full")" = "mine.txt" ]
}

@test "init accepts an existing empty folder" {
    mkdir -p "$BATS_TEST_TMPDIR/empty"
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/empty"
    [ "$status" -eq 0 ]
    [ -f "$BATS_TEST_TMPDIR/empty/store/0=ocfl_1.1" ]
}

@test "init takes the repository from VELLUM_REPO, else ./vellum-repo" {
    cd "$BATS_TEST_TMPDIR"
    VELLUM_REPO="$BATS_TEST_TMPDIR/fromenv" run "$VELLUM" init
    [ "$status" -eq 0 ]
    [ -f fromenv/vellum.conf ]
    unset VELLUM_REPO
    run "$VELLUM" init
    [ "$status" -eq 0 ]
    [ -f vellum-repo/vellum.conf ]
}

@test "init --digest sha256 makes sha256 inventories and sidecars" {
    setup_repo --digest sha256
    mkdir -p "$BATS_TEST_TMPDIR/src" && echo a > "$BATS_TEST_TMPDIR/src/a"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/src" --id urn:t:256
    [ "$status" -eq 0 ]
    d=$(object_dir urn:t:256)
    [ -f "$d/inventory.json.sha256" ]
    [ ! -e "$d/inventory.json.sha512" ]
    run jfield 'd["digestAlgorithm"]' < "$d/inventory.json"
    [ "$output" = "sha256" ]
    [ "$(cut -d' ' -f1 "$d/inventory.json.sha256")" = "$(sha256sum "$d/inventory.json" | cut -d' ' -f1)" ]
}

@test "init --fixity records extra digests in every inventory's fixity block" {
    setup_repo --fixity md5,sha1,blake2b-512
    mkdir -p "$BATS_TEST_TMPDIR/src" && printf 'fixity\n' > "$BATS_TEST_TMPDIR/src/f.txt"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/src" --id urn:t:fix
    [ "$status" -eq 0 ]
    d=$(object_dir urn:t:fix)
    md5=$(md5sum "$BATS_TEST_TMPDIR/src/f.txt" | cut -d' ' -f1)
    sha1=$(sha1sum "$BATS_TEST_TMPDIR/src/f.txt" | cut -d' ' -f1)
    b2=$(b2sum "$BATS_TEST_TMPDIR/src/f.txt" | cut -d' ' -f1)
    run jfield 'd["fixity"]["md5"]["'$md5'"][0], d["fixity"]["sha1"]["'$sha1'"][0], d["fixity"]["blake2b-512"]["'$b2'"][0]' < "$d/inventory.json"
    [ "$output" = "v1/content/data/f.txt v1/content/data/f.txt v1/content/data/f.txt" ]
}

@test "init rejects an unknown digest with exit 2" {
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/x" --digest md5
    [ "$status" -eq 2 ]
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/y" --fixity crc32
    [ "$status" -eq 2 ]
    [[ "$output" == *crc32* ]]
    [ ! -e "$BATS_TEST_TMPDIR/x" ] && [ ! -e "$BATS_TEST_TMPDIR/y" ]
}

@test "commands outside a repository fail with exit 2 and say so" {
    run "$VELLUM" ls --repo "$BATS_TEST_TMPDIR/nothing"
    [ "$status" -eq 2 ]
    [[ "$output" == *"not a vellum repository"* ]]
}

@test "every command has --help and unknown commands exit 2" {
    for c in init ingest ls show get validate reindex recover config; do
        run "$VELLUM" "$c" --help
        [ "$status" -eq 0 ] || { echo "$c --help failed"; return 1; }
        [[ "$output" == *"usage: vellum $c"* ]] || { echo "$c: $output"; return 1; }
    done
    run "$VELLUM" frobnicate
    [ "$status" -eq 2 ]
}

@test "config sets and reads the default depositor" {
    setup_repo
    run "$VELLUM" config user.name "Ann Archivist"
    [ "$status" -eq 0 ]
    run "$VELLUM" config user.name
    [ "$output" = "Ann Archivist" ]
    run "$VELLUM" config digest sha256
    [ "$status" -eq 2 ]
    run "$VELLUM" config
    [[ "$output" == *"digest = sha512"* ]]
}

@test "a schema-1 catalog is read as it is and upgraded in place by a command that writes" {
    setup_repo
    src="$BATS_TEST_TMPDIR/src"
    mkdir -p "$src"
    printf 'one\n' > "$src/a.txt"; head -c 5000 /dev/urandom > "$src/b.bin"
    "$VELLUM" ingest "$src" --id urn:t:one --quiet >/dev/null
    printf 'two\n' > "$src/c.txt"
    "$VELLUM" ingest "$src" --id urn:t:one --quiet >/dev/null
    "$VELLUM" ingest "$src" --id urn:t:two --quiet >/dev/null
    before=$("$VELLUM" ls --json)
    [ "$(echo "$before" | jfield '[(o["id"], o["files"]) for o in d]')" = "[('urn:t:one', 3), ('urn:t:two', 3)]" ]
    # Make it what vellum 0.1 wrote: no head totals, schema version 1.
    sqlite3 "$REPO/catalog.sqlite" "ALTER TABLE objects DROP COLUMN head_files;
        ALTER TABLE objects DROP COLUMN head_bytes; PRAGMA user_version = 1;"
    # A command that only reads writes nothing, so it reads version 1.
    run "$VELLUM" ls --json
    [ "$status" -eq 0 ]
    [ "$output" = "$before" ]
    [ "$(sqlite3 "$REPO/catalog.sqlite" 'PRAGMA user_version')" = 1 ]
    run "$VELLUM" recover
    [ "$status" -eq 0 ]
    [ "$("$VELLUM" ls --json)" = "$before" ]
    [ "$(sqlite3 "$REPO/catalog.sqlite" 'PRAGMA user_version')" = 2 ]
    [ "$(sqlite3 "$REPO/catalog.sqlite" 'SELECT count(*) FROM objects WHERE head_files IS NULL OR head_bytes IS NULL')" = 0 ]
    # A catalog from a newer vellum is refused, not rewritten.
    sqlite3 "$REPO/catalog.sqlite" "PRAGMA user_version = 9"
    run "$VELLUM" ls
    [ "$status" -eq 3 ]
    [[ "$output" == *"schema version 9 is newer than this vellum understands (2)"* ]]
}
