#!/usr/bin/env bats
# suite: sanitized (make check runs this file in the ASan+UBSan suite only: every
# ingest in the plain suite copies through the same helper)
# Big files (1 MiB and more): ingest of a folder, get and export --format
# ocfl copy them in the kernel (copy_file_range) and digest the copy from
# the page cache; with VELLUM_NO_COPY_FILE_RANGE=1 (test builds) they go
# through read and write instead.  Either way every digest is right and
# the copies are byte-exact.  Archive entries are always read and written.

load helpers
load hooks
bats_require_minimum_version 1.5.0

BIG_BYTES=$(( (9 << 20) + 12345 ))   # 2 MiB chunks and a part; writeback every 8 MiB

setup() {
    # Every digest vellum knows: the inventory's sha512 and the fixity block.
    setup_repo --fixity md5,sha1,sha256,blake2b-512
    T="$BATS_TEST_TMPDIR"
    SRC="$T/src"
    mkdir -p "$SRC"
    head -c "$BIG_BYTES" /dev/urandom > "$SRC/big.bin"
    printf 'small\n' > "$SRC/small.txt"
}

# The stored object of $1 holds data/big.bin with the digests of the
# source, in the manifest (sha512) and in the fixity block.
digests_right() {
    local inv d
    inv="$(object_dir "$1")/inventory.json"
    d=$(python3 - "$inv" <<'PY'
import json, sys
inv = json.load(open(sys.argv[1]))
path = "v1/content/data/big.bin"
def find(block):
    return [k for k, ps in block.items() if path in ps][0]
print(find(inv["manifest"]))
for alg in ("md5", "sha1", "sha256", "blake2b-512"):
    print(find(inv["fixity"][alg]))
PY
    ) || return 1
    expect=$(printf '%s\n' "$(sha512sum < "$SRC/big.bin" | cut -d' ' -f1)" \
        "$(md5sum < "$SRC/big.bin" | cut -d' ' -f1)" \
        "$(sha1sum < "$SRC/big.bin" | cut -d' ' -f1)" \
        "$(sha256sum < "$SRC/big.bin" | cut -d' ' -f1)" \
        "$(b2sum -l 512 < "$SRC/big.bin" | cut -d' ' -f1)")
    [ "$d" = "$expect" ] || { echo "stored digests:"; echo "$d"; echo "expected:"; echo "$expect"; return 1; }
}

# Ingest, validate (every digest recomputed), get and export --format ocfl
# of the folder; the copies byte-exact.
round_trip() {
    local id=$1
    run "$VELLUM" ingest "$SRC" --id "$id" --quiet
    [ "$status" -eq 0 ] || { echo "ingest: $output"; return 1; }
    cmp "$SRC/big.bin" "$(object_dir "$id")/v1/content/data/big.bin"
    digests_right "$id"
    run "$VELLUM" validate "$id"
    [ "$status" -eq 0 ] && [[ "$output" == *" 0 errors"* ]] || { echo "validate: $output"; return 1; }
    run "$VELLUM" get "$id" "$T/get-$id"
    [ "$status" -eq 0 ] || { echo "get: $output"; return 1; }
    cmp "$SRC/big.bin" "$T/get-$id/data/big.bin"
    cmp "$SRC/small.txt" "$T/get-$id/data/small.txt"
    run "$VELLUM" get "$id" "$T/one-$id.bin" --file data/big.bin
    [ "$status" -eq 0 ] || { echo "get --file: $output"; return 1; }
    cmp "$SRC/big.bin" "$T/one-$id.bin"
    run "$VELLUM" export "$id" "$T/ocfl-$id" --format ocfl
    [ "$status" -eq 0 ] || { echo "export: $output"; return 1; }
    diff -r "$(object_dir "$id")" "$T/ocfl-$id"
    run "$VELLUM" validate --path "$T/ocfl-$id"
    [ "$status" -eq 0 ] && [[ "$output" == *" 0 errors"* ]] || { echo "validate export: $output"; return 1; }
    staging_clean
}

@test "a big file: the kernel's copy, every digest right, get and export ocfl byte-exact" {
    round_trip urn:big:kernel
}

@test "a big file with the kernel copy turned off (read and write): the same" {
    export VELLUM_NO_COPY_FILE_RANGE=1
    round_trip urn:big:rw
}

# What strace sees: copy_file_range copies the big file in ingest and get
# (2 MiB at a time, each read back for its digests, then the rest) and in
# export (8 MiB at a time: nothing is read back there, the copy is
# validated after), and is never called with the switch on.
@test "copy_file_range does the copying of big files, and only without the switch" {
    command -v strace >/dev/null || { echo "strace is missing (tools/install-deps installs it)"; return 1; }
    # LeakSanitizer cannot work under ptrace (the sanitizer build).
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    strace -f -qq -o "$T/ingest.trace" -e trace=copy_file_range \
        "$VELLUM" ingest "$SRC" --id urn:big:s --quiet > /dev/null
    grep -q "= 2097152$" "$T/ingest.trace" || { cat "$T/ingest.trace"; return 1; }
    grep -q "= $((BIG_BYTES % (2 << 20)))$" "$T/ingest.trace" || { cat "$T/ingest.trace"; return 1; }
    strace -f -qq -o "$T/get.trace" -e trace=copy_file_range \
        "$VELLUM" get urn:big:s "$T/got" > /dev/null
    grep -q "= 2097152$" "$T/get.trace" || { cat "$T/get.trace"; return 1; }
    cmp "$SRC/big.bin" "$T/got/data/big.bin"
    strace -f -qq -o "$T/export.trace" -e trace=copy_file_range \
        "$VELLUM" export urn:big:s "$T/exp" --format ocfl > /dev/null
    grep -q "= 8388608$" "$T/export.trace" || { cat "$T/export.trace"; return 1; }
    diff -r "$(object_dir urn:big:s)" "$T/exp"

    VELLUM_NO_COPY_FILE_RANGE=1 strace -f -qq -o "$T/ingest-rw.trace" -e trace=copy_file_range \
        "$VELLUM" ingest "$SRC" --id urn:big:s2 --quiet > /dev/null
    VELLUM_NO_COPY_FILE_RANGE=1 strace -f -qq -o "$T/get-rw.trace" -e trace=copy_file_range \
        "$VELLUM" get urn:big:s2 "$T/got-rw" > /dev/null
    [ ! -s "$T/ingest-rw.trace" ] || { cat "$T/ingest-rw.trace"; return 1; }
    [ ! -s "$T/get-rw.trace" ] || { cat "$T/get-rw.trace"; return 1; }
    cmp "$SRC/big.bin" "$T/got-rw/data/big.bin"
    digests_right urn:big:s
    digests_right urn:big:s2
}

# A .tar's entries come out of libarchive: read and written, never
# copy_file_range, with the same digests and content.
@test "a big file inside a .tar archive is read and written, and stored right" {
    command -v strace >/dev/null || { echo "strace is missing (tools/install-deps installs it)"; return 1; }
    # LeakSanitizer cannot work under ptrace (the sanitizer build).
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    tar -cf "$T/big.tar" -C "$SRC" big.bin small.txt
    strace -f -qq -o "$T/tar.trace" -e trace=copy_file_range \
        "$VELLUM" ingest "$T/big.tar" --id urn:big:tar --quiet > /dev/null
    [ -z "$(grep -v '^+++\|^---' "$T/tar.trace" | grep '= [1-9]')" ] || { cat "$T/tar.trace"; return 1; }
    digests_right urn:big:tar
    run "$VELLUM" validate urn:big:tar
    [ "$status" -eq 0 ] && [[ "$output" == *" 0 errors"* ]] || { echo "validate: $output"; return 1; }
    run "$VELLUM" get urn:big:tar "$T/tar-out"
    [ "$status" -eq 0 ]
    cmp "$SRC/big.bin" "$T/tar-out/data/big.bin"
}

# A big file that changes while it is copied is refused, as a small one is
# (the size after the copy differs from the size listed before it).
@test "a big file that grows between listing and copying is refused" {
    hooks_env
    # Stopped when its staged copy is created: the source then grows.
    env "${HOOKS_ENV[@]}" VELLUM_HOOK_AT="stop:open:1:$REPO/staging/*/content/data/big.bin" \
        "$VELLUM" ingest "$SRC" --id urn:big:grow --quiet > "$T/out" 2> "$T/err" 3>&- &
    pid=$!
    wait_stopped "$pid"
    head -c 4096 /dev/urandom >> "$SRC/big.bin"
    kill -CONT "$pid"
    rc=0; wait "$pid" || rc=$?
    [ "$rc" -eq 2 ] || { echo "exit $rc: $(cat "$T/err")"; return 1; }
    grep -q "big.bin changed while it was being deposited" "$T/err"
    [ "$(object_count)" -eq 0 ]
    staging_clean
}
