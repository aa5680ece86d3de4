#!/usr/bin/env bats
# Interoperability with an independent OCFL implementation: ocfl-js
# (@ocfl/ocfl + @ocfl/ocfl-fs from the npm registry, versions pinned in
# tests/interop/package.json).
#
#   vellum -> ocfl-js   ocfl-js opens vellum's storage root through its own
#                       0004 layout code and reads every version byte-exact.
#   ocfl-js -> vellum   vellum validates what ocfl-js writes (root and bare
#                       object), reads every version of it byte-exact, adds a
#                       version to it, and ingests its files as a new object.
#
# The packages are installed once per run into a temporary folder (never into
# the source tree), from a persistent npm cache so later runs work offline.
# When npm is missing or the registry cannot be reached, every test is skipped
# with a message saying so.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
    export OCFLJS="$BATS_FILE_TMPDIR/ocfljs" FIX="$BATS_FILE_TMPDIR/fix"
    local cache="${VELLUM_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vellum/npm}"
    local log="$BATS_FILE_TMPDIR/npm-install.log"
    mkdir -p "$OCFLJS" "$cache"
    cp "$VELLUM_TESTS"/interop/package.json "$VELLUM_TESTS"/interop/*.mjs "$OCFLJS"/
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "npm not installed (no node/npm on PATH): interop not tested" \
            > "$OCFLJS/.skip"
        return 0
    fi
    # Sources shared by every test (read-only): v1, v2 and v3 states.
    tricky_tree "$FIX/s1"
    tricky_tree_v2 "$FIX/s1" "$FIX/s2"
    mkdir -p "$FIX/s3/sub"
    printf 'third\n' > "$FIX/s3/sub/third \xe2\x82\xac.txt"
    cp "$FIX/s1/bin/blob.bin" "$FIX/s3/"
    # Online: install, preferring what the cache already holds.  Offline: a
    # warm cache still does; only with neither are the tests skipped.
    local npmopts=(--prefix "$OCFLJS" --cache "$cache" --no-audit --no-fund
                   --no-package-lock --loglevel=error --fetch-retries=1
                   --fetch-timeout=30000)
    local online=1
    timeout 30 npm ping --cache "$cache" --fetch-retries=0 --fetch-timeout=15000 \
        > "$log" 2>&1 || online=0
    if [ $online = 1 ]; then
        timeout 240 npm install "${npmopts[@]}" --prefer-offline >> "$log" 2>&1 || true
    else
        timeout 60 npm install "${npmopts[@]}" --offline >> "$log" 2>&1 || true
    fi
    if [ -f "$OCFLJS/node_modules/@ocfl/ocfl-fs/package.json" ]; then
        # One ocfl-js object (v1 = s1, v2 = s2), shared read-only.
        js write-ocfl "$FIX/jsroot" "urn:interop:js" "$FIX/s1" "$FIX/s2" > "$FIX/objroot" \
            2> "$FIX/write.err" || rm -f "$FIX/objroot"
    elif [ $online = 0 ]; then
        echo "npm registry not reachable: interop not tested" > "$OCFLJS/.skip"
    else
        echo "npm install failed although the registry answers: $(tail -3 "$log")" \
            > "$OCFLJS/.fail"
    fi
}

setup() {
    if [ -f "$OCFLJS/.skip" ]; then skip "$(cat "$OCFLJS/.skip")"; fi
    if [ -f "$OCFLJS/.fail" ]; then cat "$OCFLJS/.fail"; return 1; fi
    setup_repo
    T="$BATS_TEST_TMPDIR"
}

# The shared ocfl-js object: check it was written, and set $objroot.
js_object() {
    [ -s "$FIX/objroot" ] || { echo "write-ocfl failed: $(cat "$FIX/write.err")"; return 1; }
    objroot=$(cat "$FIX/objroot")
}

# ocfl-js scripts (run from the install folder so that ES module imports of
# @ocfl/ocfl-fs resolve to its node_modules).
js() {
    local script=$1; shift
    node "$OCFLJS/$script.mjs" "$@"
}

# A folder of awkward names: spaces, punctuation, Unicode in NFC and in NFD
# side by side, deep nesting, a 255-byte name, an empty file, a binary blob,
# and two files with the same content.
tricky_tree() {
    local d=$1
    python3 - "$d" <<'PY'
import os, sys, random
d = sys.argv[1]
r = random.Random(90)
def put(rel, data):
    p = os.path.join(d, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
put("read me.txt", b"spaces in the name\n")
put("caf\u00e9.txt", b"NFC\n")                 # e-acute, precomposed
put("cafe\u0301.txt", b"NFD\n")                # e + combining acute
put("\u00c5ngstr\u00f6m/\u6587\u66f8 #1 (draft) & 'quotes'.md", b"# nested unicode\n")
put("a/b/c/d/e/f/g/deep.txt", b"deep\n")
put("punct/-leading dash, comma; semi=eq+plus%25~tilde!.txt", b"punct\n")
put("long/" + "n" * 251 + ".txt", b"255-byte name\n")
put("empty.dat", b"")
put("bin/blob.bin", r.randbytes(1536 * 1024))
put("dup/one.txt", b"same content\n")
put("dup/two.txt", b"same content\n")
PY
}

# The changed state for v2: one file changed, one removed, one added, one
# renamed, the rest unchanged.
tricky_tree_v2() {
    local src=$1 d=$2
    cp -a "$src" "$d"
    printf 'changed in v2\n' > "$d/read me.txt"
    rm "$d/empty.dat"
    mv "$d/dup/two.txt" "$d/dup/zwei.txt"
    mkdir -p "$d/new folder"
    printf 'added in v2 \xe2\x9c\x93\n' > "$d/new folder/neu \xc3\xbc.txt"
}

# ocfl-js reads version VER (empty: head) of ID from storage root ROOT into
# OUT (the script also checks each file against the inventory digest).
js_read() {
    local root=$1 id=$2 ver=$3 out=$4
    run js read-vellum "$root" "$id" "$out" $ver
    [ "$status" -eq 0 ] || { echo "ocfl-js read $id ${ver:-head} failed: $output"; return 1; }
}

# As js_read, and OUT equals DIR byte-exact, names included (diff -r compares
# names byte by byte, so NFC and NFD are told apart).
js_reads_equal() {
    local root=$1 id=$2 ver=$3 out=$4 dir=$5
    js_read "$root" "$id" "$ver" "$out" || return 1
    diff -r "$dir" "$out" || { echo "ocfl-js read of $id ${ver:-head} differs from $dir"; return 1; }
}

@test "ocfl-js reads vellum-written v1 and v2 byte-exact (tricky names)" {
    run "$VELLUM" ingest "$FIX/s1" --id "urn:interop:vellum" --message "v1"
    [ "$status" -eq 0 ]
    run "$VELLUM" ingest "$FIX/s2" --id "urn:interop:vellum" --message "v2"
    [ "$status" -eq 0 ]
    for v in v1 v2; do
        n=${v#v}
        # The deposit as given sits under data/, METS.xml beside it.
        js_read "$REPO/store" urn:interop:vellum "$v" "$T/js-$v"
        diff -r "$FIX/s$n" "$T/js-$v/data"
        [ -s "$T/js-$v/METS.xml" ]
        # ocfl-js and vellum agree on the whole logical state of the version.
        "$VELLUM" get urn:interop:vellum "$T/get-$v" --version "$v"
        diff -r "$T/get-$v" "$T/js-$v"
    done
    # Without a version ocfl-js reads the head, which is v2.
    js_reads_equal "$REPO/store" urn:interop:vellum "" "$T/js-head" "$T/js-v2"
    # Both Unicode forms arrived as two distinct files.
    [ "$(cat "$T/js-v1/data/caf"$'\xc3\xa9'".txt")" = "NFC" ]
    [ "$(cat "$T/js-v1/data/cafe"$'\xcc\x81'".txt")" = "NFD" ]
}

@test "ocfl-js reads a sha256-inventory vellum repository" {
    REPO="$T/repo256"; VELLUM_REPO="$REPO"
    "$VELLUM" init --repo "$REPO" --digest sha256
    "$VELLUM" ingest "$FIX/s1" --id "urn:interop:sha256"
    run js read-vellum "$REPO/store" urn:interop:sha256 "$T/out"
    [ "$status" -eq 0 ]
    [[ "$output" == *"(sha256)"* ]]
    diff -r "$FIX/s1" "$T/out/data"
}

@test "vellum validates an ocfl-js storage root and its bare object folder" {
    js_object
    [ -f "$objroot/v2/inventory.json" ]
    run "$VELLUM" validate --path "$FIX/jsroot"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"validated 1 object: 0 errors"* ]]
    run "$VELLUM" validate --path "$objroot"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 errors"* ]]
    # Only warnings (ocfl-js writes no message/user), never an error.
    run "$VELLUM" validate --path "$FIX/jsroot" --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'sum(1 for f in d if f["severity"] != "warning")')" = "0" ]
    # A sha256 inventory from ocfl-js validates too.
    OCFL_DIGEST=sha256 run js write-ocfl "$T/jsroot256" "urn:interop:js256" "$FIX/s1"
    [ "$status" -eq 0 ]
    run "$VELLUM" validate --path "$T/jsroot256"
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 errors"* ]]
}

@test "vellum reads every version of an ocfl-js object byte-exact" {
    js_object
    # ocfl-js's default layout is the same 0004 sha256 3/3 as vellum's, so the
    # object goes to the same relative path in vellum's store.
    dest=$(object_dir "urn:interop:js")
    [ "${objroot#"$FIX/jsroot/"}" = "${dest#"$REPO/store/"}" ]
    mkdir -p "$(dirname "$dest")"
    cp -a "$objroot" "$dest"
    run "$VELLUM" reindex
    [ "$status" -eq 0 ]
    run "$VELLUM" show urn:interop:js --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["head"], len(d["versions"])')" = "2 2" ]
    for v in v1 v2; do
        run "$VELLUM" get urn:interop:js "$T/get-$v" --version "$v"
        [ "$status" -eq 0 ]
        diff -r "$FIX/s${v#v}" "$T/get-$v"
    done
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 errors"* ]]
}

@test "vellum adds a version to an ocfl-js object and ocfl-js reads all three" {
    js_object
    dest=$(object_dir "urn:interop:js")
    mkdir -p "$(dirname "$dest")"
    cp -a "$objroot" "$dest"
    "$VELLUM" reindex
    run "$VELLUM" ingest "$FIX/s3" --id urn:interop:js --message "v3 by vellum"
    [ "$status" -eq 0 ]
    [ "$(echo "$("$VELLUM" show urn:interop:js --json)" | jfield 'd["head"]')" = "3" ]
    js_reads_equal "$REPO/store" urn:interop:js v1 "$T/r1" "$FIX/s1"
    js_reads_equal "$REPO/store" urn:interop:js v2 "$T/r2" "$FIX/s2"
    js_read "$REPO/store" urn:interop:js v3 "$T/r3"
    diff -r "$FIX/s3" "$T/r3/data"
    [ -s "$T/r3/METS.xml" ]
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 errors"* ]]
}

@test "ocfl-js adds a version to a vellum object; vellum validates and reads it" {
    "$VELLUM" ingest "$FIX/s1" --id urn:interop:mixed
    run js add-version "$REPO/store" urn:interop:mixed "$FIX/s2"
    [ "$status" -eq 0 ]
    [ "${lines[-1]}" = "v2" ]
    # Nothing of ocfl-js's work area is left inside the storage root.
    [ ! -e "$REPO/store/extensions/workspace" ]
    run "$VELLUM" validate --all
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"0 errors"* ]]
    run "$VELLUM" reindex
    [ "$status" -eq 0 ]
    run "$VELLUM" get urn:interop:mixed "$T/get2" --version v2
    [ "$status" -eq 0 ]
    diff -r "$FIX/s2" "$T/get2"
    run "$VELLUM" get urn:interop:mixed "$T/get1" --version v1
    [ "$status" -eq 0 ]
    diff -r "$FIX/s1" "$T/get1/data"
}

@test "vellum ingests the files ocfl-js wrote as a new object, and ocfl-js reads it back" {
    js_object
    # Read each version back through ocfl-js, then deposit it with vellum.
    js_reads_equal "$FIX/jsroot" urn:interop:js v1 "$T/x1" "$FIX/s1"
    js_reads_equal "$FIX/jsroot" urn:interop:js v2 "$T/x2" "$FIX/s2"
    run --separate-stderr "$VELLUM" ingest "$T/x1" --id urn:interop:copy --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["version"], d["files"]')" = "1 $(find "$FIX/s1" -type f | wc -l)" ]
    run --separate-stderr "$VELLUM" ingest "$T/x2" --id urn:interop:copy --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["version"]')" = "2" ]
    for v in v1 v2; do
        "$VELLUM" get urn:interop:copy "$T/g-$v" --version "$v"
        diff -r "$FIX/s${v#v}" "$T/g-$v/data"
        js_reads_equal "$REPO/store" urn:interop:copy "$v" "$T/back-$v" "$T/g-$v"
    done
    run "$VELLUM" validate urn:interop:copy
    [ "$status" -eq 0 ]
}
