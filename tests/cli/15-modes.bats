#!/usr/bin/env bats
# File modes: a repository is private unless made shared (init --shared,
# vellum.conf "shared"), committed files are read-only, and the user's umask
# can only narrow the modes.  Root may write anything, so what only
# permissions stop is tried as "nobody" (setpriv, from util-linux), in a
# folder nobody owns.

load helpers
bats_require_minimum_version 1.5.0

mode() { stat -c %a "$1"; }

# Entries under $1 of type $2 (f or d) whose mode is not exactly $3, one
# "mode path" per line; empty when all match.
other_modes() {
    find "$1" -type "$2" ! -perm "$3" -printf '%m %p\n'
}

# Every folder $1, every file of the store $3 (committed), every other file
# $2 (configuration, catalog, event log, locks).
repo_modes_are() {
    local bad
    bad=$(other_modes "$REPO" d "$1"
          find "$REPO" -path "$REPO/store" -prune -o -type f ! -perm "$2" -printf '%m %p\n'
          other_modes "$REPO/store" f "$3")
    [ -z "$bad" ] || { echo "unexpected modes:"; echo "$bad"; return 1; }
}

# A deposit with a private (0600) file, then a second version (--merge).
make_src() {
    S="$1"
    mkdir -p "$S/sub"
    printf 'personal data\n' > "$S/private.txt"
    chmod 600 "$S/private.txt"
    printf 'open\n' > "$S/open.txt"
    head -c 5000 /dev/urandom > "$S/sub/x.bin"
    mkdir -p "$S.2"
    printf 'added later\n' > "$S.2/new.txt"
}

deposit_two_versions() {
    run "$VELLUM" ingest "$S" --id urn:t:m --quiet
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run "$VELLUM" ingest "$S.2" --id urn:t:m --merge --quiet
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    D=$(object_dir urn:t:m)
    for f in 0=ocfl_object_1.1 inventory.json inventory.json.sha512 \
             v1/inventory.json v1/inventory.json.sha512 v1/content/METS.xml \
             v1/content/data/private.txt v1/content/data/sub/x.bin \
             v2/inventory.json v2/inventory.json.sha512 v2/content/data/new.txt; do
        [ -f "$D/$f" ] || { echo "missing $f"; return 1; }
    done
}

# As root, run as nobody; as anyone else, as oneself.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
    else
        "$@"
    fi
}

# A folder the owner (nobody) has for its own: the repository and the
# deposit live there.
owner_base() {
    BASE=$(mktemp -d /tmp/vellum-modes.XXXXXX)
    chmod 755 "$BASE"
    export REPO="$BASE/repo" VELLUM_REPO="$BASE/repo"
    make_src "$BASE/src"
    [ "$(id -u)" -ne 0 ] || chown -R nobody:nogroup "$BASE"
}

teardown() {
    [ -z "${BASE:-}" ] || rm -rf "$BASE"
}

@test "init makes a private repository (folders 0750, files 0640, storage root files 0440) and says so" {
    umask 022
    setup_repo
    [ "${lines[1]}" = "shared = private: folders 0750, files 0640, committed files 0440" ]
    grep -qx 'shared = private' "$REPO/vellum.conf"
    for d in "" events staging store store/extensions \
             store/extensions/0004-hashed-n-tuple-storage-layout; do
        [ "$(mode "$REPO/$d")" = 750 ] || { echo "$d: $(mode "$REPO/$d")"; return 1; }
    done
    for f in vellum.conf catalog.sqlite events/events.jsonl; do
        [ "$(mode "$REPO/$f")" = 640 ] || { echo "$f: $(mode "$REPO/$f")"; return 1; }
    done
    for f in 0=ocfl_1.1 ocfl_layout.json \
             extensions/0004-hashed-n-tuple-storage-layout/config.json; do
        [ "$(mode "$REPO/store/$f")" = 440 ] || { echo "$f: $(mode "$REPO/store/$f")"; return 1; }
    done
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/j" --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["shared"], d["modes"]["folders"], d["modes"]["files"], d["modes"]["committed"]')" = \
      "private 0750 0640 0440" ]
}

@test "a private deposit: a 0600 file is not world-readable; content, inventories, sidecars and METS are 0440" {
    umask 022
    setup_repo
    make_src "$BATS_TEST_TMPDIR/src"
    deposit_two_versions
    [ "$(mode "$D/v1/content/data/private.txt")" = 440 ]
    [ "$(mode "$D")" = 750 ]
    repo_modes_are 0750 0640 0440
    [ -z "$(find "$REPO" -perm /007)" ]
    [ -z "$(find "$REPO/store" -type f -perm /222)" ]
    # get writes ordinary, writable files for the user, no more open than
    # the repository they came from.
    run "$VELLUM" get urn:t:m "$BATS_TEST_TMPDIR/out"
    [ "$status" -eq 0 ]
    [ -z "$(other_modes "$BATS_TEST_TMPDIR/out" f 0640)" ]
    [ -z "$(other_modes "$BATS_TEST_TMPDIR/out" d 0750)" ]
    cmp "$S/private.txt" "$BATS_TEST_TMPDIR/out/data/private.txt"
}

@test "shared = group: folders 2770 (setgid), files 0660, committed files 0440" {
    umask 002
    setup_repo --shared group
    [ "${lines[1]}" = "shared = group: folders 2770, files 0660, committed files 0440" ]
    grep -qx 'shared = group' "$REPO/vellum.conf"
    make_src "$BATS_TEST_TMPDIR/src"
    deposit_two_versions
    repo_modes_are 2770 0660 0440
    [ -z "$(find "$REPO" -perm /007)" ]
}

@test "shared = group under umask 0022: the umask narrows it, and init warns" {
    umask 022
    run --separate-stderr "$VELLUM" init --repo "$BATS_TEST_TMPDIR/repo" --shared group
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "shared = group: folders 2750, files 0640, committed files 0440" ]
    [ "$stderr" = "vellum: warning: your umask narrows shared = group to folders 2750 and files 0640 (not 2770 and 0660); give everyone who uses this repository a umask of 0007 or 0002" ]
    export REPO="$BATS_TEST_TMPDIR/repo" VELLUM_REPO="$BATS_TEST_TMPDIR/repo"
    make_src "$BATS_TEST_TMPDIR/src"
    deposit_two_versions
    repo_modes_are 2750 0640 0440
}

@test "shared = world: folders 0755, files 0644, committed files 0444" {
    umask 022
    setup_repo --shared world
    [ "${lines[1]}" = "shared = world: folders 0755, files 0644, committed files 0444" ]
    make_src "$BATS_TEST_TMPDIR/src"
    deposit_two_versions
    repo_modes_are 0755 0644 0444
    [ -z "$(find "$REPO/store" -type f -perm /222)" ]
}

@test "a stricter umask stays stricter: 0077 gives 0700, 0600 and 0400, get output too" {
    umask 077
    setup_repo
    [ "${lines[1]}" = "shared = private: folders 0700, files 0600, committed files 0400" ]
    make_src "$BATS_TEST_TMPDIR/src"
    deposit_two_versions
    repo_modes_are 0700 0600 0400
    run "$VELLUM" get urn:t:m "$BATS_TEST_TMPDIR/out"
    [ "$status" -eq 0 ]
    [ -z "$(other_modes "$BATS_TEST_TMPDIR/out" f 0600)" ]
    [ -z "$(other_modes "$BATS_TEST_TMPDIR/out" d 0700)" ]
}

@test "vellum config shared: new files follow it, existing ones keep their modes; bad values refused" {
    umask 022
    setup_repo
    make_src "$BATS_TEST_TMPDIR/src"
    deposit_two_versions
    run --separate-stderr "$VELLUM" config shared world
    [ "$status" -eq 0 ]
    [ "$stderr" = "vellum: note: shared = world applies to files and folders made from now on; existing ones keep their modes" ]
    run "$VELLUM" config shared
    [ "$output" = world ]
    run "$VELLUM" ingest "$S" --id urn:t:other --quiet
    [ "$status" -eq 0 ]
    O=$(object_dir urn:t:other)
    [ "$(mode "$O")" = 755 ]
    [ -z "$(other_modes "$O" f 0444)" ]
    [ "$(mode "$D/v1/content/data/private.txt")" = 440 ]
    [ "$(mode "$D")" = 750 ]
    run "$VELLUM" config shared everyone
    [ "$status" -eq 2 ]
    [[ "$output" == *"'everyone' is not a valid shared"* ]]
    sed -i 's/^shared = .*/shared = everyone/' "$REPO/vellum.conf"
    run "$VELLUM" ls
    [ "$status" -eq 2 ]
    [[ "$output" == *"vellum.conf: shared \"everyone\" must be private, group or world"* ]]
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/r2" --shared everyone
    [ "$status" -eq 2 ]
    [ ! -e "$BATS_TEST_TMPDIR/r2" ]
}

@test "as the repository's non-root owner: committed files refuse writes, every operation still works" {
    owner_base
    run as_owner "$VELLUM" init --repo "$REPO"
    [ "$status" -eq 0 ]
    run as_owner "$VELLUM" ingest "$BASE/src" --id urn:t:m --quiet
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    D=$(object_dir urn:t:m)
    # A stray write fails, even the owner's.
    for f in v1/content/data/private.txt v1/content/METS.xml inventory.json \
             inventory.json.sha512 v1/inventory.json 0=ocfl_object_1.1; do
        run as_owner sh -c "printf x >> '$D/$f'"
        [ "$status" -ne 0 ] || { echo "$f could be written"; return 1; }
    done
    run as_owner sh -c "printf x >> '$REPO/store/ocfl_layout.json'"
    [ "$status" -ne 0 ]
    # New versions: merged, then a state that replaces a file, drops one
    # and brings back v1 content (deduplicated).
    run as_owner "$VELLUM" ingest "$BASE/src.2" --id urn:t:m --merge --quiet
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    as_owner sh -c "mkdir '$BASE/v3' && printf 'changed\n' > '$BASE/v3/open.txt' &&
                    cp '$BASE/src/sub/x.bin' '$BASE/v3/again.bin'"
    run as_owner "$VELLUM" ingest "$BASE/v3" --id urn:t:m --quiet
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(mode "$D/inventory.json")" = 440 ]
    [ "$(mode "$D/v3/content/data/open.txt")" = 440 ]
    run as_owner "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run as_owner "$VELLUM" reindex
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run as_owner "$VELLUM" audit --all
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run as_owner "$VELLUM" events verify
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run as_owner "$VELLUM" recover
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # get: ordinary writable files.
    run as_owner "$VELLUM" get urn:t:m "$BASE/out" --version v2
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ -z "$(other_modes "$BASE/out" f 0640)" ]
    as_owner test -w "$BASE/out/data/private.txt"
    # An OCFL copy keeps the read-only files and is still the user's to
    # remove; the other exports are ordinary files.
    run as_owner "$VELLUM" export urn:t:m "$BASE/ocfl" --format ocfl
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ -z "$(other_modes "$BASE/ocfl" f 0440)" ]
    [ -z "$(other_modes "$BASE/ocfl" d 0750)" ]
    run as_owner sh -c "printf x >> '$BASE/ocfl/v1/content/data/open.txt'"
    [ "$status" -ne 0 ]
    run as_owner rm -rf "$BASE/ocfl"
    [ "$status" -eq 0 ]
    [ ! -e "$BASE/ocfl" ]
    for fmt in bagit mets; do
        run as_owner "$VELLUM" export urn:t:m "$BASE/$fmt" --format "$fmt"
        [ "$status" -eq 0 ] || { echo "$output"; return 1; }
        [ -z "$(other_modes "$BASE/$fmt" f 0640)" ]
    done
    run as_owner "$VELLUM" export urn:t:m "$BASE/o.tar" --format ocfl --archive tar
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(mode "$BASE/o.tar")" = 640 ]
    run as_owner "$VELLUM" validate --all
    [ "$status" -eq 0 ]
    staging_clean
}

@test "recover rolls a version forward over the read-only root inventory, as a non-root owner" {
    owner_base
    run as_owner "$VELLUM" init --repo "$REPO"
    [ "$status" -eq 0 ]
    run as_owner "$VELLUM" ingest "$BASE/src" --id urn:t:rf --quiet
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # The state a crash leaves between the rename of v2 into the object
    # and the root inventory: v2 made in a copy, moved in with its modes,
    # a read-only temp beside the root inventory and the intent in staging.
    as_owner cp -a "$REPO" "$BASE/copy"
    run as_owner "$VELLUM" ingest "$BASE/src.2" --id urn:t:rf --merge --repo "$BASE/copy" --quiet
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    D=$(object_dir urn:t:rf)
    rel=${D#"$REPO/store/"}
    key=$(printf '%s' urn:t:rf | sha256sum | cut -c1-64)
    as_owner cp -a "$BASE/copy/store/$rel/v2" "$D/v2"
    as_owner sh -c "printf torn > '$D/inventory.json.tmp-99999' && chmod 440 '$D/inventory.json.tmp-99999'"
    T="$REPO/staging/txn-$key-00000000-0000-4000-8000-000000000000"
    as_owner mkdir "$T"
    as_owner sh -c "printf '%s' '{\"events\": [], \"id\": \"urn:t:rf\", \"new\": false, \"object\": \"$rel\", \"version\": 2}' > '$T/intent.json'"
    [ "$(mode "$D/inventory.json")" = 440 ]
    run as_owner "$VELLUM" recover
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    cmp "$D/inventory.json" "$D/v2/inventory.json"
    [ ! -e "$D/inventory.json.tmp-99999" ]
    [ "$(mode "$D/inventory.json")" = 440 ]
    [ "$(mode "$D/inventory.json.sha512")" = 440 ]
    run as_owner "$VELLUM" show urn:t:rf --json
    [ "$(echo "$output" | jfield 'd["head"], len(d["files"])')" = "2 5" ]
    run as_owner "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    staging_clean
}
