#!/usr/bin/env bats
# make check-long: FLAT_FILES (default 1,000,000) small files in ONE folder.
# Every command that lists a folder (ingest's walk of the source, the
# validator's walk of the content, export ocfl's copy, bag checks) sorts
# the names in bounded memory (storage/name_sort.c), so each keeps its
# peak RSS (/usr/bin/time) under 64 MiB however many names a folder holds.
# On disk, as 55-million.bats (a million files want GiBs of pages).

load ../cli/helpers
load peak

N=${FLAT_FILES:-1000000}
LIMIT_KB=$((64 * 1024))

setup_file() {
    export M="$BATS_FILE_TMPDIR/flat"
    mkdir -p "$M/src/all"
    python3 - "$M/src/all" "$N" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    with open(os.path.join(root, "f%07d.txt" % i), "w") as f:
        f.write("file %d\n" % i)
PY
    export VELLUM_REPO="$M/repo"
    "$VELLUM" init --repo "$VELLUM_REPO" --user-name "Test Depositor" \
        --user-address mailto:depositor@example.org >/dev/null
}

teardown_file() {
    rm -rf "$M"
}

@test "ingest of $N files in one folder: bounded memory" {
    peak "ingest (flat)" "$VELLUM" ingest "$M/src" --id urn:flat --quiet --no-identify
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    rm -rf "$M/src"
}

@test "validate --no-digests and audit of one flat folder: bounded memory" {
    peak "validate --no-digests (flat)" "$VELLUM" validate urn:flat --no-digests
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    peak "audit (flat)" "$VELLUM" audit urn:flat --quiet
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
}

@test "export ocfl and bagit, bag validate of one flat folder: bounded memory" {
    peak "export ocfl (flat)" "$VELLUM" export urn:flat "$M/exp-ocfl" --format ocfl
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    rm -rf "$M/exp-ocfl"
    peak "export bagit (flat)" "$VELLUM" export urn:flat "$M/exp-bag" --format bagit
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    peak "bag validate (flat)" "$VELLUM" bag validate "$M/exp-bag"
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    rm -rf "$M/exp-bag"
}

@test "get of one flat folder: every file back, bounded memory" {
    peak "get (flat)" "$VELLUM" get urn:flat "$M/out"
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    [ "$(find "$M/out/data/all" -type f | wc -l)" -eq "$N" ]
    [ "$(cat "$M/out/data/all/f0000017.txt")" = "file 17" ]
    [ "$(cat "$M/out/data/all/f$(printf %07d $((N - 1))).txt")" = "file $((N - 1))" ]
}
