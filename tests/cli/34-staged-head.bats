#!/usr/bin/env bats
# Staged heads: ingest --stage batches deposits into one mutable head laid
# out as OCFL Community Extension 0005 says, and vellum commit makes it the
# next version.  Kills at every step of both leave the object valid.

load helpers
load ../faults/killsteps

EXT=extensions/0005-mutable-head
USER_OPTS=(--user-name "Kim Killer" --user-address mailto:kim@example.org --quiet)

setup() {
    setup_repo
    T="$BATS_TEST_TMPDIR"
    mkdir -p "$T/a/sub" "$T/b" "$T/c" "$T/same"
    printf 'alpha\n' > "$T/a/a.txt"
    printf 'shared\n' > "$T/a/sub/s.txt"
    printf 'beta\n' > "$T/b/b.txt"
    printf 'alpha, edited\n' > "$T/c/a.txt"
    printf 'shared\n' > "$T/same/s.txt"
}

inv() {   # inv OBJECT_DIR/…/inventory.json PYTHON-EXPR
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

state_of() {   # the logical paths of version V in inventory FILE, sorted
    jq -r --arg v "$2" '[.versions[$v].state[][]] | sort | join(" ")' "$1"
}

manifest_of() {
    jq -r '[.manifest[][]] | sort | join(" ")' "$1"
}

@test "a new object staged: empty v1 first, then the head as v2 revision r1, laid out as 0005 says" {
    run "$VELLUM" ingest "$T/a" --id urn:s:new --stage --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["version"], d["revision"], d["staged"]')" = "2 1 True" ]
    d=$(object_dir urn:s:new)
    # the root: v1, empty, with its inventory; nothing of the head in it
    [ "$(inv "$d/inventory.json" 'd["head"], len(d["manifest"]), len(d["versions"]["v1"]["state"])')" = "v1 0 0" ]
    cmp "$d/inventory.json" "$d/v1/inventory.json"
    [ ! -e "$d/v2" ]
    # the extension folder: exactly its three children
    [ "$(ls "$d/$EXT" | tr '\n' ' ')" = "head revisions root-inventory.json.sha512 " ]
    cmp "$d/inventory.json.sha512" "$d/$EXT/root-inventory.json.sha512"
    [ "$(ls "$d/$EXT/revisions")" = "r1" ]
    [ "$(cat "$d/$EXT/revisions/r1")" = "r1" ]
    [ "$(wc -c < "$d/$EXT/revisions/r1")" -eq 2 ]
    h="$d/$EXT/head"
    [ "$(ls "$h" | tr '\n' ' ')" = "content inventory.json inventory.json.sha512 " ]
    [ "$(cut -d' ' -f1 "$h/inventory.json.sha512")" = "$(sha512sum "$h/inventory.json" | cut -d' ' -f1)" ]
    [ "$(inv "$h/inventory.json" 'd["head"]')" = "v2" ]
    [ "$(state_of "$h/inventory.json" v2)" = "METS.xml data/a.txt data/sub/s.txt" ]
    [ "$(manifest_of "$h/inventory.json")" = "$EXT/head/content/r1/METS.xml $EXT/head/content/r1/data/a.txt $EXT/head/content/r1/data/sub/s.txt" ]
    cmp "$T/a/a.txt" "$h/content/r1/data/a.txt"
    run "$VELLUM" validate urn:s:new
    [ "$status" -eq 0 ]
    [[ "$output" == *" 0 errors, 0 warnings"* ]]
    staging_clean
}

@test "revisions batch into one version: replace, merge, no new digests, removed content deleted" {
    "$VELLUM" ingest "$T/a" --id urn:s:o "${USER_OPTS[@]}"
    d=$(object_dir urn:s:o)
    h="$d/$EXT/head"
    root_before=$(sha512sum "$d/inventory.json")
    # r1: the state becomes b (a's files leave it)
    run "$VELLUM" ingest "$T/b" --id urn:s:o --stage --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["version"], d["revision"]')" = "2 1" ]
    [ "$(state_of "$h/inventory.json" v2)" = "METS.xml data/b.txt" ]
    # r2: a's files merged back: stored in v1 already, so only METS.xml is new
    run "$VELLUM" ingest "$T/a" --id urn:s:o --stage --merge --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["version"], d["revision"]')" = "2 2" ]
    [ "$(state_of "$h/inventory.json" v2)" = "METS.xml data/a.txt data/b.txt data/sub/s.txt" ]
    [ "$(ls "$h/content/r2")" = "METS.xml" ]
    # r1's METS.xml is no longer in the state: gone from manifest and disk
    [ ! -e "$h/content/r1/METS.xml" ]
    [ "$(manifest_of "$h/inventory.json")" = "$EXT/head/content/r1/data/b.txt $EXT/head/content/r2/METS.xml v1/content/METS.xml v1/content/data/a.txt v1/content/data/sub/s.txt" ]
    # r3: b leaves again (replace with a + c's a.txt): b.txt deleted from r1
    mkdir "$T/r3" && cp -r "$T/a/sub" "$T/r3/" && cp "$T/c/a.txt" "$T/r3/a.txt"
    run "$VELLUM" ingest "$T/r3" --id urn:s:o --stage --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["revision"]')" = "3" ]
    [ ! -e "$h/content/r1" ]
    [ ! -e "$h/content/r2" ]
    [ "$(find "$h/content" -type f | sed "s|$h/content/||" | sort | tr '\n' ' ')" = "r3/METS.xml r3/data/a.txt " ]
    [ "$(manifest_of "$h/inventory.json")" = "$EXT/head/content/r3/METS.xml $EXT/head/content/r3/data/a.txt v1/content/METS.xml v1/content/data/a.txt v1/content/data/sub/s.txt" ]
    [ "$(ls "$d/$EXT/revisions" | tr '\n' ' ')" = "r1 r2 r3 " ]
    for r in r1 r2 r3; do [ "$(cat "$d/$EXT/revisions/$r")" = "$r" ]; done
    # the root never moved while staged
    [ "$root_before" = "$(sha512sum "$d/inventory.json")" ]
    [ "$(inv "$h/inventory.json" 'd["head"]')" = "v2" ]
    run "$VELLUM" validate urn:s:o
    [ "$status" -eq 0 ]
    [[ "$output" == *" 0 errors, 0 warnings"* ]]
    # show: the staged head apart, the committed versions as before
    run "$VELLUM" show urn:s:o --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["head"], d["staged"]["version"], d["staged"]["revisions"], d["staged"]["files"]')" = "1 v2 3 2" ]
    [ "$(echo "$output" | jfield '" ".join(f["path"] for f in d["files"])')" = "METS.xml data/a.txt data/sub/s.txt" ]
    run "$VELLUM" show urn:s:o
    [[ "$output" == *"staged head v2 (not committed"*"3 revisions"* ]]
    [[ "$output" == *"$EXT/head/content/r3/data/a.txt"* ]]
    # commit: exactly one new version holding the batched state
    run "$VELLUM" commit urn:s:o --message "three deposits" --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["version"], d["revisions"]')" = "2 3" ]
    [ ! -e "$d/extensions" ]
    [ "$(inv "$d/inventory.json" 'd["head"], sorted(d["versions"])')" = "v2 ['v1', 'v2']" ]
    cmp "$d/inventory.json" "$d/v2/inventory.json"
    [ "$(state_of "$d/inventory.json" v2)" = "METS.xml data/a.txt data/sub/s.txt" ]
    [ "$(inv "$d/inventory.json" 'd["versions"]["v2"]["message"]')" = "three deposits" ]
    [ "$(manifest_of "$d/inventory.json")" = "v1/content/METS.xml v1/content/data/a.txt v1/content/data/sub/s.txt v2/content/r3/METS.xml v2/content/r3/data/a.txt" ]
    ! grep -q extensions "$d/inventory.json"
    [ "$(cut -d' ' -f1 "$d/inventory.json.sha512")" = "$(sha512sum "$d/inventory.json" | cut -d' ' -f1)" ]
    run "$VELLUM" validate urn:s:o
    [ "$status" -eq 0 ]
    [[ "$output" == *" 0 errors, 0 warnings"* ]]
    "$VELLUM" get urn:s:o "$T/out" --quiet
    diff -r "$T/r3" "$T/out/data"
    run "$VELLUM" show urn:s:o --json
    [ "$(echo "$output" | jfield 'd["head"], d["staged"]')" = "2 None" ]
    run "$VELLUM" events urn:s:o --type creation --json
    [ "$(echo "$output" | jfield 'len(d), d[0]["version"]')" = "1 2" ]
    run "$VELLUM" events urn:s:o --type ingestion --json
    [ "$(echo "$output" | jfield '" ".join(str(e["version"]) for e in d)')" = "1 2 2 2" ]
    staging_clean
}

@test "a revision whose data is stored already writes only its METS.xml; removed files leave head/content" {
    # (a revision with no new digest at all makes no content/rN: the unit
    # test of txn shows it; through ingest every revision has a new METS)
    "$VELLUM" ingest "$T/a" --id urn:s:n "${USER_OPTS[@]}"
    d=$(object_dir urn:s:n)
    h="$d/$EXT/head"
    "$VELLUM" ingest "$T/b" --id urn:s:n --stage --merge "${USER_OPTS[@]}"
    [ -f "$h/content/r1/data/b.txt" ]
    # r2: a's files again (all stored in v1), b leaves the state
    "$VELLUM" ingest "$T/a" --id urn:s:n --stage "${USER_OPTS[@]}"
    [ "$(find "$h/content" -type f | sed "s|$h/content/||" | sort | tr '\n' ' ')" = "r2/METS.xml " ]
    [ ! -e "$h/content/r1" ]
    [ "$(manifest_of "$h/inventory.json" | tr ' ' '\n' | grep -c b.txt)" -eq 0 ]
    [ "$(state_of "$h/inventory.json" v2)" = "METS.xml data/a.txt data/sub/s.txt" ]
}

@test "a staged deposit that changes nothing makes no revision" {
    "$VELLUM" ingest "$T/a" --id urn:s:z "${USER_OPTS[@]}"
    d=$(object_dir urn:s:z)
    h="$d/$EXT/head"
    "$VELLUM" ingest "$T/b" --id urn:s:z --stage "${USER_OPTS[@]}"
    # the same state again writes nothing, no revision (METS aside)
    run "$VELLUM" ingest "$T/b" --id urn:s:z --stage --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["changed"], d["revision"]')" = "False None" ]
    [ "$(ls "$d/$EXT/revisions")" = "r1" ]
}

@test "a root version is refused while a head is staged; commit with none is refused" {
    "$VELLUM" ingest "$T/a" --id urn:s:r "${USER_OPTS[@]}"
    run "$VELLUM" commit urn:s:r
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"no staged head: nothing to commit"* ]]
    "$VELLUM" ingest "$T/b" --id urn:s:r --stage "${USER_OPTS[@]}"
    d=$(object_dir urn:s:r)
    before=$(sha512sum "$d/inventory.json")
    run "$VELLUM" ingest "$T/c" --id urn:s:r --merge
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"has a staged head"*"vellum commit urn:s:r"*"--stage"* ]]
    run "$VELLUM" ingest "$T/c" --id urn:s:r
    [ "$status" -eq 2 ]
    [ "$before" = "$(sha512sum "$d/inventory.json")" ]
    [ ! -e "$d/v2" ]
    run "$VELLUM" commit --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: vellum commit ID"* ]]
    run "$VELLUM" commit
    [ "$status" -eq 2 ]
    staging_clean
}

@test "version conflict: a root that changed after staging refuses commit and stage" {
    "$VELLUM" ingest "$T/a" --id urn:s:c "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:s:c --stage "${USER_OPTS[@]}"
    d=$(object_dir urn:s:c)
    # as if another client had made a v2: the sidecar copy no longer matches
    chmod u+w "$d/$EXT/root-inventory.json.sha512"
    printf '%0128d inventory.json\n' 0 > "$d/$EXT/root-inventory.json.sha512"
    snap=$(find "$d" -type f | sort | xargs sha512sum)
    run "$VELLUM" commit urn:s:c
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"version conflict"*"nothing committed"* ]]
    [ "$snap" = "$(find "$d" -type f | sort | xargs sha512sum)" ]
    run "$VELLUM" ingest "$T/c" --id urn:s:c --stage
    [ "$status" -eq 2 ]
    [[ "$output" == *"version conflict"* ]]
    [ "$snap" = "$(find "$d" -type f | sort | xargs sha512sum)" ]
    run "$VELLUM" show urn:s:c --json
    [ "$(echo "$output" | jfield 'd["staged"]["conflict"]')" = "True" ]
    run "$VELLUM" show urn:s:c
    [[ "$output" == *"staged head v2 (not committed: 'vellum discard urn:s:c'), 1 revision; VERSION CONFLICT"* ]]
    run "$VELLUM" validate urn:s:c
    [ "$status" -eq 0 ]
    [[ "$output" == *"vellum discard"* ]]
    staging_clean
    # discard settles it: the head goes, the committed v1 is as it was
    v1=$(find "$d/v1" "$d/inventory.json" "$d/inventory.json.sha512" -type f | sort | xargs sha512sum)
    run "$VELLUM" discard urn:s:c --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -c '[.version, .revisions, .conflict]')" = "[2,1,true]" ]
    [ ! -e "$d/extensions" ]
    [ "$v1" = "$(find "$d/v1" "$d/inventory.json" "$d/inventory.json.sha512" -type f | sort | xargs sha512sum)" ]
    run "$VELLUM" validate urn:s:c
    [ "$status" -eq 0 ]
    [[ "$output" == *" 0 errors, 0 warnings"* ]]
    # and staging starts over at v2 r1, which commits
    run "$VELLUM" ingest "$T/c" --id urn:s:c --stage --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -c '[.version, .revision]')" = "[2,1]" ]
    "$VELLUM" commit urn:s:c --quiet
    ks_reads_back urn:s:c "$T/c"
    staging_clean
}

@test "discard: the staged head leaves the object, a deletion event names it, a second discard exits 2" {
    "$VELLUM" ingest "$T/a" --id urn:s:d "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:s:d --stage "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/c" --id urn:s:d --stage --merge "${USER_OPTS[@]}"
    d=$(object_dir urn:s:d)
    [ -d "$d/$EXT/head" ]
    committed=$(find "$d" -path "$d/extensions" -prune -o -type f -print | sort | xargs sha512sum)
    run "$VELLUM" discard urn:s:d
    [ "$status" -eq 0 ]
    [ "$output" = "urn:s:d: staged head of version 2 discarded (2 revisions)" ]
    # no extension folder (nor an empty extensions/), the rest byte-equal
    [ ! -e "$d/extensions" ]
    [ "$committed" = "$(find "$d" -type f | sort | xargs sha512sum)" ]
    staging_clean
    run "$VELLUM" show urn:s:d --json
    [ "$(echo "$output" | jq -c '[.head, .staged]')" = "[1,null]" ]
    ks_reads_back urn:s:d "$T/a"
    run "$VELLUM" events urn:s:d --type deletion --json
    [ "$(echo "$output" | jq -r '.[] | "\(.version) \(.outcome)"')" = "2 success" ]
    [[ "$(echo "$output" | jq -r '.[0].detail')" == *"Staged head of version 2 discarded (2 revisions"* ]]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
    [[ "$output" == *" 0 errors, 0 warnings"* ]]
    # nothing left to discard; no such object; usage
    run "$VELLUM" discard urn:s:d
    [ "$status" -eq 2 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"no staged head: nothing to discard"* ]]
    run "$VELLUM" discard urn:s:nothing
    [ "$status" -eq 2 ]
    run "$VELLUM" discard
    [ "$status" -eq 2 ]
    run "$VELLUM" discard --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"usage: vellum discard ID"* ]]
    # the catalog agrees with one rebuilt from the store and the log
    ks_catalog_agrees
}

@test "after a discard, version N's METS holds the events of the head committed as N, not the discarded one's" {
    "$VELLUM" ingest "$T/a" --id urn:s:e "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:s:e --stage "${USER_OPTS[@]}"
    "$VELLUM" discard urn:s:e --quiet
    "$VELLUM" ingest "$T/c" --id urn:s:e --stage "${USER_OPTS[@]}"
    "$VELLUM" commit urn:s:e --quiet
    # the log keeps everything: two ingestions of v2, the discard between
    run "$VELLUM" events urn:s:e --json
    [ "$(echo "$output" | jq -r '[.[] | select(.version == 2 and (.type == "ingestion" or .type == "deletion" or .type == "creation")) | .type] | join(" ")')" = "ingestion deletion ingestion creation" ]
    # the METS stored with v2 (its own deposit's events) and an exported
    # one (every event so far): c's deposit, never b's
    "$VELLUM" show urn:s:e --mets > "$T/stored.xml"
    "$VELLUM" export urn:s:e "$T/exp" --format mets >/dev/null
    [ "$(grep -c 'eventType>ingestion<' "$T/stored.xml")" -eq 1 ]
    [ "$(grep -c 'eventType>ingestion<' "$T/exp/METS.xml")" -eq 2 ]
    grep -q "from $T/a<" "$T/exp/METS.xml"
    for m in "$T/stored.xml" "$T/exp/METS.xml"; do
        ! grep -q 'eventType>deletion<' "$m"
        grep -q "from $T/c<" "$m"
        ! grep -q "from $T/b<" "$m"
    done
}

@test "discard when the object has a vN of its own: the event names no version, vN's events stay" {
    "$VELLUM" ingest "$T/a" --id urn:s:o "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:s:o --stage "${USER_OPTS[@]}"
    d=$(object_dir urn:s:o)
    # a head staged as v2 that is still there after v2 was made (as if
    # another writer had committed): the extension folder put back
    cp -a "$d/extensions" "$T/ext-copy"
    "$VELLUM" commit urn:s:o --quiet
    cp -a "$T/ext-copy" "$d/extensions"
    run "$VELLUM" discard urn:s:o --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -c '[.version, .conflict]')" = "[2,true]" ]
    [ ! -e "$d/extensions" ]
    run "$VELLUM" events urn:s:o --type deletion --json
    [ "$(echo "$output" | jq -r '.[0].version')" = "0" ]
    "$VELLUM" export urn:s:o "$T/exp" --format mets >/dev/null
    grep -q "from $T/b" "$T/exp/METS.xml"
    ks_reads_back urn:s:o "$T/b"
    run "$VELLUM" validate urn:s:o
    [ "$status" -eq 0 ]
}

@test "discard drops a damaged staged head, and a new object's head (its empty v1 stays)" {
    "$VELLUM" ingest "$T/a" --id urn:s:x "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:s:x --stage "${USER_OPTS[@]}"
    d=$(object_dir urn:s:x)
    chmod u+w "$d/$EXT/head/inventory.json"
    printf '{' > "$d/$EXT/head/inventory.json"
    run "$VELLUM" validate urn:s:x
    [ "$status" -eq 1 ]
    run "$VELLUM" discard urn:s:x
    [ "$status" -eq 0 ]
    [ ! -e "$d/extensions" ]
    run "$VELLUM" validate urn:s:x
    [ "$status" -eq 0 ]
    "$VELLUM" ingest "$T/a" --id urn:s:n --stage "${USER_OPTS[@]}"
    run "$VELLUM" discard urn:s:n
    [ "$status" -eq 0 ]
    run "$VELLUM" show urn:s:n --json
    [ "$(echo "$output" | jq -c '[.head, .staged, ([.files[] | select(.path | startswith("data/"))] | length)]')" = "[1,null,0]" ]
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
}

@test "the next revision number follows the markers (one another process took counts)" {
    "$VELLUM" ingest "$T/a" --id urn:s:m "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:s:m --stage "${USER_OPTS[@]}"
    d=$(object_dir urn:s:m)
    printf r2 > "$d/$EXT/revisions/r2"
    run "$VELLUM" ingest "$T/c" --id urn:s:m --stage --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["revision"]')" = "3" ]
    [ "$(cat "$d/$EXT/revisions/r3")" = "r3" ]
}

@test "replicate.after_ingest: a staged deposit is not replicated, its commit is" {
    R1="$T/replica"
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" config replicate.after_ingest true
    "$VELLUM" ingest "$T/a" --id urn:s:rep "${USER_OPTS[@]}"
    h=$(printf '%s' urn:s:rep | sha256sum | cut -c1-64)
    rd="$R1/${h:0:3}/${h:3:3}/${h:6:3}/$h"
    [ "$(inv "$rd/inventory.json" 'd["head"]')" = "v1" ]
    "$VELLUM" ingest "$T/b" --id urn:s:rep --stage "${USER_OPTS[@]}"
    [ ! -e "$rd/extensions" ]
    [ "$(inv "$rd/inventory.json" 'd["head"]')" = "v1" ]
    run "$VELLUM" commit urn:s:rep
    [ "$status" -eq 0 ]
    [[ "$output" == *"replicated to 1 replica"* ]]
    [ "$(inv "$rd/inventory.json" 'd["head"]')" = "v2" ]
    cmp "$(object_dir urn:s:rep)/inventory.json" "$rd/inventory.json"
    [ ! -e "$rd/extensions" ]
}

# ---- kills at every step ------------------------------------------------

save_snapshot() {
    KS_SNAP="$T/snapshot"
    rm -rf "$KS_SNAP" && cp -a "$REPO" "$KS_SNAP"
}

# The staged head of ID holds exactly the files of DIR (under data/),
# nothing else lies in its content folder, and its markers are r1..rN.
staged_is() {
    local id=$1 dir=$2 revs=$3 d h
    d=$(object_dir "$id")
    h="$d/$EXT/head"
    [ "$(ls "$d/$EXT" | tr '\n' ' ')" = "head revisions root-inventory.json.sha512 " ] || { echo "extension folder: $(ls "$d/$EXT")"; return 1; }
    [ "$(cut -d' ' -f1 "$h/inventory.json.sha512")" = "$(sha512sum "$h/inventory.json" | cut -d' ' -f1)" ] || { echo "head sidecar"; return 1; }
    cmp -s "$d/inventory.json.sha512" "$d/$EXT/root-inventory.json.sha512" || { echo "root sidecar copy"; return 1; }
    local want got
    want=$(cd "$dir" && find . -type f | sed 's|^\./|data/|' | sort | tr '\n' ' ')
    got=$(state_of "$h/inventory.json" "$(jq -r .head "$h/inventory.json")" | tr ' ' '\n' | grep -v '^METS.xml$' | tr '\n' ' ')
    [ "$want" = "$got" ] || { echo "staged state: $got, not $want"; return 1; }
    # every file under head/content is in the manifest, and the reverse
    got=$(cd "$d" && find "$EXT/head/content" -type f 2>/dev/null | sort | tr '\n' ' ')
    want=$(manifest_of "$h/inventory.json" | tr ' ' '\n' | grep "^$EXT/" | sort | tr '\n' ' ')
    [ "$want" = "$got" ] || { echo "head content: $got; manifest: $want"; return 1; }
    [ "$(ls "$d/$EXT/revisions" | tr '\n' ' ')" = "$revs" ] || { echo "markers: $(ls "$d/$EXT/revisions")"; return 1; }
    local r
    for r in $revs; do [ "$(cat "$d/$EXT/revisions/$r")" = "$r" ] || { echo "marker $r"; return 1; }; done
    [ -z "$(find "$d/$EXT" -type d -empty)" ] || { echo "empty folders: $(find "$d/$EXT" -type d -empty)"; return 1; }
}

ingestions_of() {   # ingestion events of version V of ID
    "$VELLUM" events "$1" --type ingestion --json | jq --argjson v "$2" '[.[] | select(.version == $v)] | length'
}

@test "kill at every step: staging the first revision of an existing object" {
    "$VELLUM" ingest "$T/a" --id urn:k:s "${USER_OPTS[@]}" >/dev/null
    save_snapshot
    ks_after_first() {
        local d
        d=$(object_dir urn:k:s)
        ks_reads_back urn:k:s "$T/a" || { echo "v1 changed"; return 1; }
        if [ -e "$d/extensions" ]; then
            staged_is urn:k:s "$T/b" "r1 " || return 1
            [ "$(ingestions_of urn:k:s 2)" -eq 1 ] || { echo "ingestion events of the head"; return 1; }
        else
            [ "$(ingestions_of urn:k:s 2)" -eq 0 ] || { echo "events of a head never staged"; return 1; }
        fi
    }
    ks_every_step first "$VELLUM" ingest "$T/b" --id urn:k:s --stage "${USER_OPTS[@]}"
}

@test "kill at every step: staging a further revision" {
    "$VELLUM" ingest "$T/a" --id urn:k:s "${USER_OPTS[@]}" >/dev/null
    "$VELLUM" ingest "$T/b" --id urn:k:s --stage "${USER_OPTS[@]}" >/dev/null
    save_snapshot
    ks_after_further() {
        local n
        ks_reads_back urn:k:s "$T/a" || { echo "v1 changed"; return 1; }
        n=$(ingestions_of urn:k:s 2)
        if staged_is urn:k:s "$T/b" "r1 " >/dev/null; then
            [ "$n" -eq 1 ] || { echo "$n ingestion events, r2 rolled back"; return 1; }
        else
            staged_is urn:k:s "$T/c" "r1 r2 " || return 1
            [ "$n" -eq 2 ] || { echo "$n ingestion events, r2 staged"; return 1; }
        fi
    }
    ks_every_step further "$VELLUM" ingest "$T/c" --id urn:k:s --stage "${USER_OPTS[@]}"
}

@test "kill at every step: staging a new object" {
    ks_after_newstaged() {
        local d
        d=$(object_dir urn:k:n)
        if [ -e "$d" ]; then
            [ "$(jq -r .head "$d/inventory.json")" = "v1" ] || { echo "root head"; return 1; }
            staged_is urn:k:n "$T/a" "r1 " || return 1
        else
            [ ! -e "$REPO/store/$(printf '%s' urn:k:n | sha256sum | cut -c1-3)" ] || { echo "path left behind"; return 1; }
        fi
    }
    save_snapshot
    ks_every_step newstaged "$VELLUM" ingest "$T/a" --id urn:k:n --stage "${USER_OPTS[@]}"
}

@test "kill at every step: commit" {
    "$VELLUM" ingest "$T/a" --id urn:k:c "${USER_OPTS[@]}" >/dev/null
    "$VELLUM" ingest "$T/b" --id urn:k:c --stage "${USER_OPTS[@]}" >/dev/null
    "$VELLUM" ingest "$T/c" --id urn:k:c --stage --merge "${USER_OPTS[@]}" >/dev/null
    mkdir -p "$T/bc" && cp "$T/b/b.txt" "$T/c/a.txt" "$T/bc/"
    save_snapshot
    ks_after_commit() {
        local d head n
        d=$(object_dir urn:k:c)
        head=$("$VELLUM" show urn:k:c --json | jq -r .head)
        n=$("$VELLUM" events urn:k:c --type creation --json | jq length)
        case $head in
            1) staged_is urn:k:c "$T/bc" "r1 r2 " || return 1
               [ "$n" -eq 0 ] || { echo "creation event without a commit"; return 1; } ;;
            2) [ ! -e "$d/extensions" ] || { echo "extension folder left: $(find "$d/extensions")"; return 1; }
               ks_reads_back urn:k:c "$T/bc" || { echo "v2 not the staged state"; return 1; }
               ! grep -q extensions "$d/inventory.json" || { echo "paths not rewritten"; return 1; }
               [ "$n" -eq 1 ] || { echo "$n creation events"; return 1; } ;;
            *) echo "head $head"; return 1 ;;
        esac
    }
    ks_every_step commit "$VELLUM" commit urn:k:c --quiet
}

@test "kill at every step: discard" {
    "$VELLUM" ingest "$T/a" --id urn:k:d "${USER_OPTS[@]}" >/dev/null
    "$VELLUM" ingest "$T/b" --id urn:k:d --stage "${USER_OPTS[@]}" >/dev/null
    "$VELLUM" ingest "$T/c" --id urn:k:d --stage "${USER_OPTS[@]}" >/dev/null
    save_snapshot
    ks_after_discard() {
        local d n
        d=$(object_dir urn:k:d)
        ks_reads_back urn:k:d "$T/a" || { echo "v1 changed"; return 1; }
        n=$("$VELLUM" events urn:k:d --type deletion --json | jq length)
        # before the intent: the head as it was, no event; after: no
        # extension folder and one event (recover finished the discard)
        if [ -e "$d/extensions" ]; then
            staged_is urn:k:d "$T/c" "r1 r2 " || return 1
            [ "$n" -eq 0 ] || { echo "$n deletion events, head still staged"; return 1; }
        else
            [ "$n" -eq 1 ] || { echo "$n deletion events, head discarded"; return 1; }
        fi
    }
    ks_every_step discard "$VELLUM" discard urn:k:d --quiet
}
