#!/usr/bin/env bats
# suite: plain (make check runs this file in the plain suite only: peak
# memory means nothing under the sanitizers' shadow memory)
# One object of 50,000 small files: every command round-trips it, and the
# commands whose memory no longer grows with the file count stay under
# 64 MiB (peak RSS from /usr/bin/time).  make check-long does the same with
# 1,000,000 files (tests/long/).

load helpers

N=${VELLUM_LARGE_FILES:-50000}

setup_file() {
    # in memory when there is a tmpfs: the test is about vellum's memory
    # and its answers, not about how fast a disk makes 150,000 files
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        LARGE=$(mktemp -d /dev/shm/vellum-large.XXXXXX)
    else
        LARGE="$BATS_FILE_TMPDIR/large"
    fi
    export LARGE
    mkdir -p "$LARGE/src"
    python3 - "$LARGE/src" "$N" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = 1000
for i in range(n):
    d = os.path.join(root, "d%04d" % (i // per))
    if i % per == 0:
        os.mkdir(d)
    with open(os.path.join(d, "f%07d.txt" % i), "w") as f:
        f.write("file %d\n" % i)
EOF
    export VELLUM_REPO="$LARGE/repo"
    "$VELLUM" init --repo "$VELLUM_REPO" --user-name "Test Depositor" \
        --user-address mailto:depositor@example.org >/dev/null
    /usr/bin/time -f '%M' -o "$LARGE/ingest.rss" \
        "$VELLUM" ingest --no-identify --id urn:t:large "$LARGE/src" >/dev/null 2>"$LARGE/ingest.err"
}

teardown_file() {
    rm -rf "$LARGE"
}

# Peak RSS of a command, in KiB, into $rss; its exit status into $status.
peak() {
    local out="$LARGE/peak.$$"
    set +e
    /usr/bin/time -f '%M' -o "$out" "$@" >"$LARGE/peak.stdout" 2>"$LARGE/peak.stderr"
    status=$?
    set -e
    rss=$(tail -1 "$out")
    echo "# $* -> exit $status, peak $((rss / 1024)) MiB" >&3
}

@test "a 50,000-file object is deposited whole and validates" {
    [ -s "$LARGE/ingest.rss" ]
    echo "# ingest: peak $(( $(tail -1 "$LARGE/ingest.rss") / 1024 )) MiB" >&3
    run "$VELLUM" ls --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd[0]["files"]')" = "$N" ]
    peak "$VELLUM" validate urn:t:large
    [ "$status" -eq 0 ]
    # the validator streams each inventory into a scratch index: about
    # 110 MiB at 50,000 files when it held the inventory as a JSON tree
    [ "$rss" -lt $((64 * 1024)) ]
}

@test "validate --no-digests of the 50,000-file object stays in bounded memory" {
    peak "$VELLUM" validate --no-digests urn:t:large
    [ "$status" -eq 0 ]
    [ "$rss" -lt $((64 * 1024)) ]
}

@test "a deposit's memory does not grow with its file count" {
    # A deposit of 500 files against the 50,000: the records, the folder
    # listing, the METS's file list and the transaction's new state are
    # rows of temporary indexes, so what differs is only their page caches
    # filling up (2 + 4 + 8 MiB at the most).  Held in memory, records and
    # state added about 90 MiB at 50,000 files.
    mkdir -p "$LARGE/small"
    cp -r "$LARGE/src/d0000" "$LARGE/small/"
    rm "$LARGE/small/d0000"/f0000[5-9]*
    [ "$(find "$LARGE/small" -type f | wc -l)" -eq 500 ]
    export VELLUM_REPO="$LARGE/repo-small"
    "$VELLUM" init --repo "$VELLUM_REPO" --user-name "Test Depositor" \
        --user-address mailto:depositor@example.org >/dev/null
    peak "$VELLUM" ingest --no-identify --id urn:t:small "$LARGE/small"
    [ "$status" -eq 0 ]
    large=$(tail -1 "$LARGE/ingest.rss")
    echo "# ingest of $N files: peak $((large / 1024)) MiB; of 500: $((rss / 1024)) MiB" >&3
    [ "$large" -lt $((64 * 1024)) ]
    [ $((large - rss)) -lt $((24 * 1024)) ]
    rm -rf "$LARGE/small" "$VELLUM_REPO"
}

@test "get gives the 50,000 files back byte for byte, in bounded memory" {
    peak "$VELLUM" get urn:t:large "$LARGE/out"
    [ "$status" -eq 0 ]
    diff -r "$LARGE/src" "$LARGE/out/data"
    [ "$rss" -lt $((64 * 1024)) ]
    rm -rf "$LARGE/out"
}

@test "show and cat of one file stay in bounded memory" {
    peak "$VELLUM" show urn:t:large
    [ "$status" -eq 0 ]
    [ "$rss" -lt $((64 * 1024)) ]
    [ "$(grep -c 'data/d0' "$LARGE/peak.stdout")" -eq "$N" ]
    peak "$VELLUM" cat urn:t:large data/d0012/f0012345.txt
    [ "$status" -eq 0 ]
    [ "$(cat "$LARGE/peak.stdout")" = "file 12345" ]
    [ "$rss" -lt $((64 * 1024)) ]
}

@test "show --json streams the 50,000 files in bounded memory" {
    peak "$VELLUM" show urn:t:large --json
    [ "$status" -eq 0 ]
    [ "$rss" -lt $((64 * 1024)) ]
    [ "$(jfield 'd["head"], len([f for f in d["files"] if f["path"].startswith("data/")]), d["files"][-1]["path"]' < "$LARGE/peak.stdout")" = "1 $N data/d0049/f0049999.txt" ]
}

# audit and the ocfl export run the OCFL validator over the whole object,
# which streams each inventory into a scratch index (134 and 127 MiB at
# 50,000 files when it held them as JSON trees).
@test "audit of the 50,000-file object reads every file and passes" {
    peak "$VELLUM" audit urn:t:large --json
    [ "$status" -eq 0 ]
    [ "$rss" -lt $((64 * 1024)) ]
    [ "$(jfield 'd["summary"]["passed"], d["summary"]["failed"], d["objects"][0]["object_files"]' < "$LARGE/peak.stdout")" = "1 0 $N" ]
}

@test "export mets of the 50,000-file object stays in bounded memory" {
    peak "$VELLUM" export urn:t:large "$LARGE/mets" --format mets
    [ "$status" -eq 0 ]
    [ "$rss" -lt $((64 * 1024)) ]
    [ "$(grep -c '<mets:file ' "$LARGE/mets/METS.xml")" -eq "$N" ]
    [ "$(find "$LARGE/mets/data" -type f | wc -l)" -eq "$N" ]
    rm -rf "$LARGE/mets"
}

@test "export ocfl of the 50,000-file object copies it whole" {
    peak "$VELLUM" export urn:t:large "$LARGE/ocfl" --format ocfl --json
    [ "$status" -eq 0 ]
    [ "$rss" -lt $((64 * 1024)) ]
    inv=$(find "$VELLUM_REPO/store" -maxdepth 5 -name inventory.json | head -1)
    cmp "$inv" "$LARGE/ocfl/inventory.json"
    [ "$(find "$LARGE/ocfl/v1/content/data" -type f | wc -l)" -eq "$N" ]
    rm -rf "$LARGE/ocfl"
}

@test "export bagit of the 50,000-file object: its METS.xml tag file, over 16 MiB, is checked streamed" {
    peak "$VELLUM" export urn:t:large "$LARGE/bag" --format bagit
    [ "$status" -eq 0 ] || { cat "$LARGE/peak.stderr"; return 1; }
    [ "$(stat -c %s "$LARGE/bag/METS.xml")" -gt $((16 * 1024 * 1024)) ]
    [ "$(wc -l < "$LARGE/bag/manifest-sha512.txt")" -eq "$N" ]
    grep -q ' METS.xml$' "$LARGE/bag/tagmanifest-sha512.txt"
    # the bag check that ends the export streams the manifests and keeps
    # its per file state in a scratch index (held in memory: 83 MiB)
    [ "$rss" -lt $((64 * 1024)) ]
    rm -rf "$LARGE/bag"
}

@test "a bag of 50,000 files is checked and deposited in bounded memory" {
    "$VELLUM" bag create "$LARGE/src" "$LARGE/bag50k" >/dev/null
    [ "$(wc -l < "$LARGE/bag50k/manifest-sha512.txt")" -eq "$N" ]
    peak "$VELLUM" bag validate "$LARGE/bag50k"
    [ "$status" -eq 0 ]
    [ "$rss" -lt $((64 * 1024)) ]
    # a repository of its own: the others' tests count the first one's objects
    export VELLUM_REPO="$LARGE/repo-bag"
    "$VELLUM" init --repo "$VELLUM_REPO" --user-name "Test Depositor" \
        --user-address mailto:depositor@example.org >/dev/null
    peak "$VELLUM" ingest --no-identify --id urn:t:bag "$LARGE/bag50k"
    [ "$status" -eq 0 ] || { cat "$LARGE/peak.stderr"; return 1; }
    [ "$rss" -lt $((64 * 1024)) ]
    run "$VELLUM" ls --json
    [ "$(echo "$output" | jfield 'd[0]["files"]')" -eq "$N" ]
    rm -rf "$LARGE/bag50k" "$VELLUM_REPO"
}

@test "a new version of the 50,000-file object reads and writes its inventory streamed" {
    mkdir -p "$LARGE/more"
    printf 'late\n' > "$LARGE/more/late.txt"
    peak "$VELLUM" ingest --no-identify --merge --id urn:t:large "$LARGE/more"
    [ "$status" -eq 0 ]
    run "$VELLUM" ls --json
    [ "$(echo "$output" | jfield 'd[0]["head"], d[0]["files"]')" = "2 $((N + 1))" ]
    [ "$rss" -lt $((64 * 1024)) ]
    # both versions' states are in the root inventory, read back whole
    inv=$(find "$VELLUM_REPO/store" -maxdepth 5 -name inventory.json | head -1)
    [ "$(jfield 'len(d["versions"]["v1"]["state"]), sum(len(p) for p in d["versions"]["v2"]["state"].values())' < "$inv")" = "$((N + 1)) $((N + 2))" ]
    run "$VELLUM" cat urn:t:large data/late.txt
    [ "$output" = "late" ]
    run "$VELLUM" validate urn:t:large
    [ "$status" -eq 0 ]
}
