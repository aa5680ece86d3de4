#!/usr/bin/env bats
# Getting things back from a damaged object: get and cat read a file whose
# copy in the repository is flipped, truncated or deleted from a replica
# whose copy verifies (and say so, byte-exact); with no good copy get
# refuses (nothing at DEST), --skip-damaged writes the rest and lists the
# damaged; --file and cat retrieve one file, and cat writes nothing when no
# copy is good.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC/d"
    printf 'alpha\n' > "$SRC/a.txt"
    printf 'charlie\n' > "$SRC/d/c.txt"
    head -c 300000 /dev/urandom > "$SRC/d/blob.bin"
    "$VELLUM" ingest "$SRC" --id urn:t:rep --message first --quiet > /dev/null
    D=$(object_dir urn:t:rep)
    BLOB=v1/content/data/d/blob.bin
    R1="$BATS_TEST_TMPDIR/replica1"
    add_replica r1 "$R1"
    OUT="$BATS_TEST_TMPDIR/out"
}

# A replica in a new folder, brought to the primary's head.
add_replica() {
    "$VELLUM" replica add "$1" "$2" > /dev/null
    "$VELLUM" replicate --all --quiet > /dev/null
}

# The same object's folder in a copy (a replica's storage root).
copy_object_dir() {
    echo "$1/${D#$REPO/store/}"
}

# Damage a stored file: flip (every bit of byte 1000, or the last byte of a
# short file), truncate (to 100 bytes) or delete.  Store files are
# read-only.
damage() {
    local how=$1 f=$2
    chmod u+w "$f" "$(dirname "$f")"
    case $how in
    flip) python3 -c 'import os, sys; f = open(sys.argv[1], "r+b")
n = os.path.getsize(sys.argv[1]); at = 1000 if n > 1000 else n - 1
f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0xff]))' "$f" ;;
    truncate) truncate -s 100 "$f" ;;
    delete) rm -f "$f" ;;
    esac
}

no_temporaries() {
    [ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep vellum-get)" ]
}

# get and cat of the whole object and of the blob after damaging the
# primary's blob one way.
read_from_replica() {
    damage "$1" "$D/$BLOB"
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT"
    [ "$status" -eq 0 ]
    [[ "$stderr" == "vellum: note: data/d/blob.bin: primary copy damaged ("*"$BLOB"*"); read from replica r1" ]]
    [ "$(grep -c 'vellum: note:' <<< "$stderr")" -eq 1 ]
    [[ "$output" == *"1 file read from replicas"* ]]
    diff -r "$SRC" "$OUT/data"
    cmp "$SRC/d/blob.bin" "$OUT/data/d/blob.bin"
    "$VELLUM" cat urn:t:rep data/d/blob.bin > "$BATS_TEST_TMPDIR/cat.out" 2> "$BATS_TEST_TMPDIR/cat.err"
    cmp "$SRC/d/blob.bin" "$BATS_TEST_TMPDIR/cat.out"
    grep -q "^vellum: note: data/d/blob.bin: primary copy damaged (.*); read from replica r1$" "$BATS_TEST_TMPDIR/cat.err"
    # the primary is left as it is: repair's business, not get's
    if cmp -s "$SRC/d/blob.bin" "$D/$BLOB"; then
        echo "get changed the primary's copy"; return 1
    fi
    no_temporaries
}

@test "a flipped byte in the primary: get and cat read the file from the replica" {
    read_from_replica flip
    [[ "$stderr" == *"fails its sha512 check: expected "* ]]
}

@test "a truncated file in the primary: get and cat read it from the replica" {
    read_from_replica truncate
}

@test "a deleted file in the primary: get and cat read it from the replica" {
    read_from_replica delete
    [[ "$stderr" == *"$BLOB is missing"* ]]
}

@test "an intact object is read from the primary alone, with no note" {
    rm -rf "$R1"   # an unreachable replica is never even looked at
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$output" = "urn:t:rep -> $OUT (every digest verified)" ]
    diff -r "$SRC" "$OUT/data"
    run --separate-stderr "$VELLUM" cat urn:t:rep data/a.txt
    [ "$status" -eq 0 ]
    [ "$output" = "alpha" ]
    [ -z "$stderr" ]
}

@test "get --json lists the files read from replicas" {
    damage flip "$D/$BLOB"
    damage delete "$D/v1/content/data/a.txt"
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT" --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'sorted((f["path"], f["replica"]) for f in d["from_replicas"])')" = "[('data/a.txt', 'r1'), ('data/d/blob.bin', 'r1')]" ]
    [ "$(echo "$output" | jfield 'd["damaged"], d["verified"]')" = "[] True" ]
    [ "$(echo "$output" | jfield '[f["problem"] for f in d["from_replicas"] if f["path"] == "data/a.txt"][0]')" = "v1/content/data/a.txt is missing" ]
    diff -r "$SRC" "$OUT/data"
}

@test "the first replica whose copy verifies is used; the others are named when none is" {
    R2="$BATS_TEST_TMPDIR/replica2"
    add_replica r2 "$R2"
    damage flip "$D/$BLOB"
    damage truncate "$(copy_object_dir "$R1")/$BLOB"
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"read from replica r2" ]]
    cmp "$SRC/d/blob.bin" "$OUT/data/d/blob.bin"
    # r2 unreachable as well: the message says what was wrong with each copy
    rm -rf "$R2"
    run --separate-stderr "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/out2"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"data/d/blob.bin: $BLOB fails its sha512 check"*"; replica r1: $BLOB fails its sha512 check too: got "*"; replica r2 cannot be used: "*"$R2"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/out2" ]
}

@test "damaged in every copy: get exits 1 and leaves nothing at DEST; cat writes nothing" {
    damage flip "$D/$BLOB"
    damage delete "$(copy_object_dir "$R1")/$BLOB"
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "vellum: urn:t:rep: data/d/blob.bin: $BLOB fails its sha512 check"*"; replica r1: $BLOB is missing" ]]
    [ ! -e "$OUT" ]
    no_temporaries
    rc=0
    "$VELLUM" cat urn:t:rep data/d/blob.bin > "$BATS_TEST_TMPDIR/cat.out" 2> "$BATS_TEST_TMPDIR/cat.err" || rc=$?
    [ "$rc" -eq 1 ]
    [ ! -s "$BATS_TEST_TMPDIR/cat.out" ]
    grep -q "data/d/blob.bin: $BLOB fails its sha512 check.*; replica r1: $BLOB is missing" "$BATS_TEST_TMPDIR/cat.err"
}

@test "get --skip-damaged writes every intact file, lists the damaged and exits 1" {
    damage truncate "$D/$BLOB"
    damage flip "$(copy_object_dir "$R1")/$BLOB"
    damage delete "$D/v1/content/data/a.txt"    # this one the replica has
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT" --skip-damaged
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"vellum: note: data/a.txt: primary copy damaged (v1/content/data/a.txt is missing); read from replica r1"* ]]
    [[ "$stderr" == *"vellum: note: data/d/blob.bin: no copy is good ($BLOB fails its sha512 check"*"; replica r1: $BLOB fails its sha512 check too: got "*"); left out"* ]]
    [[ "$stderr" == *"vellum: urn:t:rep: 1 of 4 files has no good copy and was left out of $OUT" ]]
    [[ "$output" == "urn:t:rep -> $OUT (every digest verified; 1 file read from replicas; 1 damaged file left out)" ]]
    [ ! -e "$OUT/data/d/blob.bin" ]
    cmp "$SRC/a.txt" "$OUT/data/a.txt"
    cmp "$SRC/d/c.txt" "$OUT/data/d/c.txt"
    no_temporaries
    run --separate-stderr "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/j" --skip-damaged --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield '[f["path"] for f in d["damaged"]], [f["path"] for f in d["from_replicas"]]')" = "['data/d/blob.bin'] ['data/a.txt']" ]
}

@test "get --skip-damaged without any replica" {
    "$VELLUM" replica rm r1 > /dev/null
    damage flip "$D/v1/content/data/d/c.txt"
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT" --skip-damaged
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"vellum: note: data/d/c.txt: no copy is good (v1/content/data/d/c.txt fails its sha512 check"*"there is no replica to read it from); left out"* ]]
    [ ! -e "$OUT/data/d/c.txt" ]
    [ ! -e "$OUT/data/d/blob.bin" ] || cmp "$SRC/d/blob.bin" "$OUT/data/d/blob.bin"
    # without it: as before, the file named, nothing at DEST
    run "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/out2"
    [ "$status" -eq 1 ]
    [[ "$output" == "vellum: urn:t:rep: data/d/c.txt: v1/content/data/d/c.txt fails its sha512 check: expected "* ]]
    [ ! -e "$BATS_TEST_TMPDIR/out2" ]
}

@test "get --file writes one file, from the replica when the primary's is damaged" {
    run "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/a.txt" --file data/a.txt
    [ "$status" -eq 0 ]
    cmp "$SRC/a.txt" "$BATS_TEST_TMPDIR/a.txt"
    # an existing DEST is refused
    run "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/a.txt" --file data/a.txt
    [ "$status" -eq 2 ]
    [[ "$output" == *"already exists"* ]]
    # a path the version does not have
    run "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/x" --file data/nope.txt
    [ "$status" -eq 2 ]
    [[ "$output" == *'object "urn:t:rep" version v1 has no file data/nope.txt'* ]]
    [ ! -e "$BATS_TEST_TMPDIR/x" ]
    damage flip "$D/$BLOB"
    run --separate-stderr "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/blob" --file data/d/blob.bin --json
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"read from replica r1" ]]
    [ "$(echo "$output" | jfield 'd["file"], d["from_replicas"][0]["replica"]')" = "data/d/blob.bin r1" ]
    cmp "$SRC/d/blob.bin" "$BATS_TEST_TMPDIR/blob"
    no_temporaries
}

@test "get --file of a file damaged in every copy writes nothing, with or without --skip-damaged" {
    damage flip "$D/$BLOB"
    damage flip "$(copy_object_dir "$R1")/$BLOB"
    run "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/blob" --file data/d/blob.bin
    [ "$status" -eq 1 ]
    [ ! -e "$BATS_TEST_TMPDIR/blob" ]
    run --separate-stderr "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/blob" --file data/d/blob.bin --skip-damaged
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"data/d/blob.bin: no copy is good"*"nothing written to $BATS_TEST_TMPDIR/blob"* ]]
    [ -z "$output" ]
    [ ! -e "$BATS_TEST_TMPDIR/blob" ]
    no_temporaries
    # an intact file of the same object is still had
    run "$VELLUM" get urn:t:rep "$BATS_TEST_TMPDIR/c" --file data/d/c.txt
    [ "$status" -eq 0 ]
    cmp "$SRC/d/c.txt" "$BATS_TEST_TMPDIR/c"
}

@test "cat: versions, unknown ids and paths, usage" {
    printf 'alpha two\n' > "$SRC/a.txt"
    "$VELLUM" ingest "$SRC" --id urn:t:rep --message second --quiet > /dev/null
    [ "$("$VELLUM" cat urn:t:rep data/a.txt)" = "alpha two" ]
    [ "$("$VELLUM" cat urn:t:rep data/a.txt --version v1)" = "alpha" ]
    rc=0
    "$VELLUM" cat urn:t:nope data/a.txt > "$BATS_TEST_TMPDIR/o" 2> "$BATS_TEST_TMPDIR/e" || rc=$?
    [ "$rc" -eq 2 ]
    [ ! -s "$BATS_TEST_TMPDIR/o" ]
    grep -q 'no object with id "urn:t:nope"' "$BATS_TEST_TMPDIR/e"
    rc=0
    "$VELLUM" cat urn:t:rep data/nope.txt > "$BATS_TEST_TMPDIR/o" 2> "$BATS_TEST_TMPDIR/e" || rc=$?
    [ "$rc" -eq 2 ]
    [ ! -s "$BATS_TEST_TMPDIR/o" ]
    grep -q 'object "urn:t:rep" version v2 has no file data/nope.txt' "$BATS_TEST_TMPDIR/e"
    run "$VELLUM" cat urn:t:rep data/a.txt --version v7
    [ "$status" -eq 2 ]
    run "$VELLUM" cat urn:t:rep
    [ "$status" -eq 2 ]
    run "$VELLUM" cat --help
    [ "$status" -eq 0 ]
    [[ "$output" == "usage: vellum cat ID PATH"* ]]
    run "$VELLUM" --help
    [[ "$output" == *"cat "*"write one file of an object to stdout"* ]]
}

@test "a root inventory that does not verify: get says so and names repair" {
    chmod u+w "$D/inventory.json"
    sed -i 's/"first"/"FIRST"/' "$D/inventory.json"
    run "$VELLUM" get urn:t:rep "$OUT"
    [ "$status" -eq 1 ]
    [[ "$output" == *"root inventory does not verify"*"vellum repair"* ]]
    [ ! -e "$OUT" ]
    run "$VELLUM" cat urn:t:rep data/a.txt
    [ "$status" -eq 1 ]
    [[ "$output" == *"root inventory does not verify"* ]]
}

@test "a replica behind the primary has no copy of a newer file: named as missing there" {
    printf 'delta\n' > "$SRC/d.txt"
    "$VELLUM" ingest "$SRC" --id urn:t:rep --message second --quiet > /dev/null
    damage flip "$D/v2/content/data/d.txt"
    damage flip "$D/$BLOB"     # this one the replica has (from v1)
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"data/d.txt: v2/content/data/d.txt fails its sha512 check"*"; replica r1: v2/content/data/d.txt is missing" ]]
    [ ! -e "$OUT" ]
    run --separate-stderr "$VELLUM" get urn:t:rep "$OUT" --skip-damaged
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"data/d/blob.bin: primary copy damaged"*"read from replica r1"* ]]
    [[ "$stderr" == *"data/d.txt: no copy is good"*"left out"* ]]
    cmp "$SRC/d/blob.bin" "$OUT/data/d/blob.bin"
    [ ! -e "$OUT/data/d.txt" ]
}
