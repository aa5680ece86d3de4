#!/usr/bin/env bats
# Replicas, replication and repair (issue 16): replica add/ls/rm, replicate
# (byte-exact copies, refusals of copies that are ahead, diverged or
# damaged), the damage matrix repaired in the primary and in a replica,
# the same file damaged everywhere refused, and an ingest, a replicate and
# a repair at once on one object.

load helpers

USER_OPTS=(--user-name "Rita Replica" --user-address mailto:rita@example.org --quiet)

setup() {
    setup_repo
    T="$BATS_TEST_TMPDIR"
    mkdir -p "$T/a/sub" "$T/b/sub"
    printf 'first\n' > "$T/a/a.txt"
    printf 'shared\n' > "$T/a/sub/b.txt"
    head -c 70000 /dev/urandom > "$T/a/sub/c.bin"
    printf 'second\n' > "$T/b/a.txt"
    printf 'shared\n' > "$T/b/sub/b.txt"
    printf 'new\n' > "$T/b/d.txt"
    R1="$T/rep1"
    R2="$T/rep2"
}

# object_dir under another storage root
replica_object() {
    local h
    h=$(printf '%s' "$2" | sha256sum | cut -c1-64)
    echo "$1/${h:0:3}/${h:3:3}/${h:6:3}/$h"
}

two_versions() {
    "$VELLUM" ingest "$T/a" --id urn:r:one "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:r:one "${USER_OPTS[@]}"
}

# Every copy equals the primary's store, validates with every digest.
all_whole() {
    local r
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "primary: $output"; return 1; }
    [[ "$output" == *" 0 errors, 0 warnings"* ]] || { echo "primary: $output"; return 1; }
    for r in "$@"; do
        run "$VELLUM" validate --path "$r"
        [ "$status" -eq 0 ] || { echo "$r: $output"; return 1; }
        [[ "$output" == *" 0 errors, 0 warnings"* ]] || { echo "$r: $output"; return 1; }
        diff -r "$REPO/store" "$r" || { echo "$r differs from the primary"; return 1; }
    done
    run "$VELLUM" events verify
    [ "$status" -eq 0 ] || { echo "events: $output"; return 1; }
}

@test "replica add, ls and rm; names and folders checked" {
    run "$VELLUM" replica add "bad name" "$R1"
    [ "$status" -eq 2 ]
    [[ "$output" == *"not a usable replica name"* ]]
    run "$VELLUM" replica add primary "$R1"
    [ "$status" -eq 2 ]
    run "$VELLUM" replica add inside "$REPO/store/x"
    [ "$status" -eq 2 ]
    [[ "$output" == *"inside the repository"* ]]
    mkdir -p "$T/full" && echo hi > "$T/full/note.txt"
    run "$VELLUM" replica add full "$T/full"
    [ "$status" -eq 2 ]
    [[ "$output" == *"not empty and is not an OCFL storage root"* ]]
    run "$VELLUM" replica add r1 "$R1"
    [ "$status" -eq 0 ]
    [ -f "$R1/0=ocfl_1.1" ]
    cmp "$R1/ocfl_layout.json" "$REPO/store/ocfl_layout.json"
    run "$VELLUM" replica add r1 "$R2"
    [ "$status" -eq 2 ]
    [[ "$output" == *"already exists"* ]]
    run "$VELLUM" replica add r2 "$R1/sub"
    [ "$status" -eq 2 ]
    [[ "$output" == *"overlaps replica"* ]]
    grep -q "^replica.r1 = $R1\$" "$REPO/vellum.conf"
    run "$VELLUM" replica ls --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd[0]["name"]')" = r1 ]
    [ "$(echo "$output" | jfield 'd[0]["reachable"]')" = True ]
    run "$VELLUM" replica rm nope
    [ "$status" -eq 2 ]
    run "$VELLUM" replica rm r1
    [ "$status" -eq 0 ]
    ! grep -q "^replica.r1" "$REPO/vellum.conf"
    [ -f "$R1/0=ocfl_1.1" ]          # the folder is left as it is
    # an earlier replica (same layout) is taken back
    run "$VELLUM" replica add again "$R1"
    [ "$status" -eq 0 ]
    run "$VELLUM" replica bogus
    [ "$status" -eq 2 ]
}

@test "replicate copies every version byte for byte, then finds it current" {
    two_versions
    run "$VELLUM" replicate --all
    [ "$status" -eq 2 ]
    [[ "$output" == *"no replicas"* ]]
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replica add r2 "$R2" >/dev/null
    run "$VELLUM" replicate urn:r:one --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["updated"]')" = 2 ]
    [ "$(echo "$output" | jfield 'd["copies"][0]["to_version"]')" = 2 ]
    all_whole "$R1" "$R2"
    run "$VELLUM" replicate --all
    [ "$status" -eq 0 ]
    [[ "$output" == *"current at v2"* ]]
    # one replication event per object and replica, naming it
    run "$VELLUM" events urn:r:one --type replication --json
    [ "$(echo "$output" | jfield 'len(d)')" = 2 ]
    [[ "$output" == *"replica r1 at $R1"* ]]
    [[ "$output" == *"replica r2 at $R2"* ]]
    # a new version goes over as one more version
    printf 'third\n' > "$T/b/e.txt"
    "$VELLUM" ingest "$T/b" --id urn:r:one "${USER_OPTS[@]}"
    run "$VELLUM" replicate --all --replica r1
    [ "$status" -eq 0 ]
    [[ "$output" == *"v2 to v3"* ]]
    all_whole "$R1"
    run "$VELLUM" replica ls --json
    [ "$(echo "$output" | jfield '[r["objects"] for r in d]')" = "[1, 1]" ]
    run "$VELLUM" replicate --all --replica nope
    [ "$status" -eq 2 ]
    run "$VELLUM" replicate urn:r:missing
    [ "$status" -eq 2 ]
}

@test "replicate.after_ingest replicates each deposit; a refusal leaves the deposit stored" {
    "$VELLUM" replica add r1 "$R1" >/dev/null
    run "$VELLUM" config replicate.after_ingest sometimes
    [ "$status" -eq 2 ]
    "$VELLUM" config replicate.after_ingest true
    run "$VELLUM" ingest "$T/a" --id urn:r:auto --user-name Rita --user-address mailto:r@example.org
    [ "$status" -eq 0 ]
    [[ "$output" == *"replicated to 1 replica"* ]]
    all_whole "$R1"
    # the replica's folder gone: the deposit still stands
    mv "$R1" "$T/away"
    run "$VELLUM" ingest "$T/b" --id urn:r:auto --user-name Rita --user-address mailto:r@example.org
    [ "$status" -eq 0 ]
    [[ "$output" == *"not replicated"* ]]
    [[ "$output" == *"vellum replicate urn:r:auto"* ]]
    [ "$("$VELLUM" show urn:r:auto --json | jfield 'd["head"]')" = 2 ]
    mv "$T/away" "$R1"
    run "$VELLUM" replicate --all
    [ "$status" -eq 0 ]
    all_whole "$R1"
}

@test "a replica that is ahead, diverged or damaged is reported and left as it is" {
    two_versions
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    # another repository with the same object at v1 only, sharing r1: r1 is ahead
    OTHER="$T/other"
    "$VELLUM" init --repo "$OTHER" >/dev/null
    "$VELLUM" ingest --repo "$OTHER" "$T/a" --id urn:r:one "${USER_OPTS[@]}"
    "$VELLUM" replica add --repo "$OTHER" r1 "$R1" >/dev/null
    cp -a "$R1" "$T/before"
    run "$VELLUM" replicate --repo "$OTHER" --all
    [ "$status" -eq 1 ]
    [[ "$output" == *"ahead"* ]]
    diff -r "$T/before" "$R1"
    # a third repository whose v1 differs: diverged
    THIRD="$T/third"
    "$VELLUM" init --repo "$THIRD" >/dev/null
    "$VELLUM" ingest --repo "$THIRD" "$T/b" --id urn:r:one "${USER_OPTS[@]}"
    "$VELLUM" ingest --repo "$THIRD" "$T/a" --id urn:r:one "${USER_OPTS[@]}"
    "$VELLUM" ingest --repo "$THIRD" "$T/b" --id urn:r:one "${USER_OPTS[@]}"
    "$VELLUM" replica add --repo "$THIRD" r1 "$R1" >/dev/null
    run "$VELLUM" replicate --repo "$THIRD" --all --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield 'd["copies"][0]["state"]')" = diverged ]
    diff -r "$T/before" "$R1"
    # repair never writes over a diverged or ahead copy either
    run "$VELLUM" repair --repo "$THIRD" --all
    [ "$status" -eq 1 ]
    [[ "$output" == *"diverged"* ]]
    diff -r "$T/before" "$R1"
    run "$VELLUM" repair --repo "$OTHER" --all
    [ "$status" -eq 1 ]
    diff -r "$T/before" "$R1"
    # damaged: the replica's root inventory edited
    local o
    o=$(replica_object "$R1" urn:r:one)
    chmod u+w "$o/inventory.json"
    echo ' ' >> "$o/inventory.json"
    run "$VELLUM" replicate --all
    [ "$status" -eq 1 ]
    [[ "$output" == *"damaged"*"vellum repair urn:r:one"* ]]
    run "$VELLUM" events urn:r:one --type replication --outcome fail --json
    [ "$(echo "$output" | jfield 'len(d)')" -ge 1 ]
}

@test "replicate never copies bytes the primary cannot verify" {
    "$VELLUM" ingest "$T/a" --id urn:r:one "${USER_OPTS[@]}"
    "$VELLUM" replica add r1 "$R1" >/dev/null
    local o f
    o=$(object_dir urn:r:one)
    f="$o/v1/content/data/sub/c.bin"
    chmod u+w "$f"
    printf 'X' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null
    run "$VELLUM" replicate --all
    [ "$status" -eq 1 ]
    [[ "$output" == *"does not verify"* ]]
    [ ! -e "$(replica_object "$R1" urn:r:one)" ]
    [ -z "$(ls -A "$R1" | grep vellum-txn)" ]
}

# damage KIND FILE: one kind of damage to one file
damage() {
    local kind=$1 f=$2
    chmod u+w "$f" "$(dirname "$f")"
    case $kind in
        # the byte's complement: a fixed value would already be there in
        # one random file in 256
        flip) local b
              b=$(dd if="$f" bs=1 skip=3 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
              printf "\\$(printf '%03o' $((255 - b)))" |
                  dd of="$f" bs=1 seek=3 conv=notrunc 2>/dev/null ;;
        truncate) truncate -s 2 "$f" ;;
        delete) rm -f "$f" ;;
        edit) sed -i 's/"created"/"created" /' "$f" ;;
    esac
}

# repair_matrix COPYDIR COPYNAME: each kind of damage in that copy, repaired
repair_matrix() {
    local dir=$1 name=$2 o
    o=$(replica_object "$dir" urn:r:one)
    damage flip "$o/v1/content/data/sub/c.bin"
    damage truncate "$o/v2/content/data/a.txt"
    damage delete "$o/v2/content/data/d.txt"
    chmod u+w "$o/v1/content/data"
    echo stray > "$o/v1/content/data/stray.txt"
    damage edit "$o/inventory.json"
    damage delete "$o/v1/inventory.json.sha512"
    run "$VELLUM" validate --path "$dir"
    [ "$status" -eq 1 ]
    run "$VELLUM" repair urn:r:one --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    local n
    n=$(echo "$output" | jfield 'len([a for a in d["actions"] if a["repaired"] and a["copy"] == "'"$name"'"])')
    [ "$n" -eq 6 ] || { echo "$output"; return 1; }
    [ "$(echo "$output" | jfield 'd["quarantined"]')" = 1 ]
    [ "$(echo "$output" | jfield 'd["failed"]')" = 0 ]
    all_whole "$R1"
    [ -f "$REPO/quarantine/$name/${o#"$dir"/}/v1/content/data/stray.txt" ]
    # recovery events name the file, both copies and both digests
    run "$VELLUM" events urn:r:one --type recovery --json
    [ "$(echo "$output" | jfield 'len(d)')" -eq 5 ]
    [[ "$output" == *"v1/content/data/sub/c.bin of copy $name"* ]]
    [[ "$output" == *"whose bytes match the inventory's sha512"* ]]
    # and they go into the next version's METS
    printf 'later\n' > "$T/b/later.txt"
    "$VELLUM" ingest "$T/b" --id urn:r:one "${USER_OPTS[@]}"
    "$VELLUM" get urn:r:one "$T/out" >/dev/null
    grep -q 'eventType>recovery<' "$T/out/METS.xml"
    grep -q 'eventType>quarantine<' "$T/out/METS.xml"
}

@test "damage matrix in the primary: repair restores every file byte for byte" {
    two_versions
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    repair_matrix "$REPO/store" primary
    run "$VELLUM" audit --all
    [ "$status" -eq 0 ]
}

@test "damage matrix in a replica: repair restores it from the primary" {
    two_versions
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    repair_matrix "$R1" r1
}

@test "audit --repair repairs what failed and audits it again" {
    two_versions
    run "$VELLUM" audit --all --repair
    [ "$status" -eq 2 ]
    [[ "$output" == *"needs a replica"* ]]
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    local p r
    p=$(object_dir urn:r:one)/v1/content/data/sub/c.bin
    r=$(replica_object "$R1" urn:r:one)/v2/content/data/d.txt
    damage flip "$p"
    damage delete "$r"
    run "$VELLUM" audit --all --replicas --repair
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [[ "$output" == *"ALERT fixity failure in urn:r:one"* ]]
    [[ "$output" == *"v1/content/data/sub/c.bin: damaged; restored from r1"* ]]
    [[ "$output" == *"v2/content/data/d.txt: missing; restored from primary"* ]]
    [[ "$output" == *"0 failed"* ]]
    all_whole "$R1"
    # --json carries the repairs; nothing left to repair: exit 0, no repairs
    run "$VELLUM" audit --all --replicas --repair --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["summary"]["failed"]')" = 0 ]
    # the same file damaged in both copies: still failed after the repair
    damage flip "$p"
    damage truncate "$(replica_object "$R1" urn:r:one)/v1/content/data/sub/c.bin"
    local out st=0
    out=$("$VELLUM" audit urn:r:one --replicas --repair --json 2>/dev/null) || st=$?
    [ "$st" -eq 1 ]
    [ "$(echo "$out" | jfield 'len([a for a in d["repairs"] if not a["repaired"]])')" = 2 ]
    [ "$(echo "$out" | jfield 'd["summary"]["failed"]')" = 2 ]
}

@test "the same file damaged in every copy: refused, nothing overwritten" {
    two_versions
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    local p r
    p=$(object_dir urn:r:one)/v1/content/data/sub/c.bin
    r=$(replica_object "$R1" urn:r:one)/v1/content/data/sub/c.bin
    damage flip "$p"
    damage truncate "$r"
    cp "$p" "$T/p.bad"
    cp "$r" "$T/r.bad"
    run "$VELLUM" repair --all
    [ "$status" -eq 1 ]
    [[ "$output" == *"no copy is good"* ]]
    cmp "$p" "$T/p.bad"
    cmp "$r" "$T/r.bad"
    run "$VELLUM" events urn:r:one --type recovery --outcome fail --json
    [ "$(echo "$output" | jfield 'len(d)')" -eq 2 ]
    run "$VELLUM" repair --all --copy nope
    [ "$status" -eq 2 ]
}

@test "a whole object folder lost from the primary comes back from a replica" {
    two_versions
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    local o
    o=$(object_dir urn:r:one)
    chmod -R u+w "$o"
    rm -rf "$o"
    run "$VELLUM" repair urn:r:one
    [ "$status" -eq 0 ]
    [[ "$output" == *"0=ocfl_object_1.1: missing; restored from r1"* ]]
    all_whole "$R1"
    # and a replica's lost object is replication's work again
    o=$(replica_object "$R1" urn:r:one)
    chmod -R u+w "$o"
    rm -rf "$o"
    run "$VELLUM" repair urn:r:one
    [ "$status" -eq 0 ]
    run "$VELLUM" replicate urn:r:one
    [ "$status" -eq 0 ]
    all_whole "$R1"
}

@test "repair --copy limits the work to one copy" {
    two_versions
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    local p r
    p=$(object_dir urn:r:one)/v2/content/data/d.txt
    r=$(replica_object "$R1" urn:r:one)/v2/content/data/d.txt
    damage delete "$p"
    damage delete "$r"
    # each copy can be healed only from the other: r1 is left alone here
    run "$VELLUM" repair --all --copy primary
    [ "$status" -eq 1 ]
    [ ! -e "$r" ]
}

@test "an ingest, a replicate and a repair at once on one object: nothing lost" {
    two_versions
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    local p
    p=$(object_dir urn:r:one)/v1/content/data/sub/c.bin
    damage flip "$p"
    mkdir -p "$T/c"
    head -c 2000000 /dev/urandom > "$T/c/big.bin"
    "$VELLUM" ingest "$T/c" --id urn:r:one --merge "${USER_OPTS[@]}" &
    local i1=$!
    "$VELLUM" replicate --all --quiet &
    local i2=$!
    "$VELLUM" repair --all --quiet &
    local i3=$!
    # each waits for the object's lock in turn; none fails
    wait $i1
    wait $i2
    wait $i3
    # a finishing pass brings every copy to the head, then all agree
    "$VELLUM" replicate --all --quiet
    "$VELLUM" repair --all --quiet
    all_whole "$R1"
    [ "$("$VELLUM" show urn:r:one --json | jfield 'd["head"]')" = 3 ]
    "$VELLUM" get urn:r:one "$T/out" >/dev/null
    cmp "$T/c/big.bin" "$T/out/data/big.bin"
    cmp "$T/b/d.txt" "$T/out/data/d.txt"
    "$VELLUM" get urn:r:one "$T/v1" --version 1 >/dev/null
    cmp "$T/a/sub/c.bin" "$T/v1/data/sub/c.bin"
}
