#!/usr/bin/env bats
# make check-long: one object of MILLION_FILES small files (default
# 1,000,000).  Every command that reads or writes it keeps its peak RSS
# (/usr/bin/time) under 64 MiB, and the files come back byte for byte.
# Each command is its own test, so a failure names the command.  Files/s
# and peak RSS go to fd 3 (the bench prints the same as ratios).
#
# The object lives on disk, not on a tmpfs: a million files take about
# 4 GiB of pages for the source, the store and the copy read back each.

load ../cli/helpers
load peak

N=${MILLION_FILES:-1000000}
LIMIT_KB=$((64 * 1024))

setup_file() {
    export M="$BATS_FILE_TMPDIR/million"
    mkdir -p "$M/src"
    # "file I\n" in d(I / 1000)/fI.txt: the expected bytes of every file
    # follow from its name, so the round trip is checked without a copy
    python3 - "$M/src" "$N" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%04d" % (i // 1000))
    if i % 1000 == 0:
        os.mkdir(d)
    with open(os.path.join(d, "f%07d.txt" % i), "w") as f:
        f.write("file %d\n" % i)
EOF
    export VELLUM_REPO="$M/repo"
    "$VELLUM" init --repo "$VELLUM_REPO" --user-name "Test Depositor" \
        --user-address mailto:depositor@example.org >/dev/null
}

teardown_file() {
    rm -rf "$M"
}

# Every file of DIR holds "file I\n" for its name fI.txt, and there are N.
round_trip() {
    python3 - "$1" "$N" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
seen = 0
for d in sorted(os.listdir(root)):
    for f in os.listdir(os.path.join(root, d)):
        i = int(f[1:-4])
        with open(os.path.join(root, d, f), "rb") as fh:
            if fh.read() != b"file %d\n" % i or d != "d%04d" % (i // 1000):
                sys.exit("wrong bytes in %s/%s" % (d, f))
        seen += 1
if seen != n:
    sys.exit("%d files, not %d" % (seen, n))
EOF
}

@test "ingest of $N files: bounded memory" {
    peak "ingest ($N files)" "$VELLUM" ingest "$M/src" --id urn:million --quiet --no-identify
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    run "$VELLUM" ls --json
    [ "$(echo "$output" | jfield 'd[0]["files"]')" = "$N" ]
}

@test "a new version (--merge of one file): bounded memory" {
    mkdir -p "$M/more"
    printf 'late\n' > "$M/more/late.txt"
    PEAK_FILES=1 peak "ingest --merge (1 file)" "$VELLUM" ingest "$M/more" --id urn:million --merge \
        --quiet --no-identify
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    run "$VELLUM" ls --json
    [ "$(echo "$output" | jfield 'd[0]["head"], d[0]["files"]')" = "2 $((N + 1))" ]
}

@test "validate without digests: bounded memory" {
    peak "validate --no-digests" "$VELLUM" validate urn:million --no-digests
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
}

@test "validate with digests: bounded memory" {
    peak "validate" "$VELLUM" validate urn:million
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
}

@test "audit: bounded memory" {
    peak "audit" "$VELLUM" audit urn:million --quiet
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
}

@test "show and show --json: bounded memory" {
    peak "show" "$VELLUM" show urn:million
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    peak "show --json" "$VELLUM" show urn:million --json
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    [ "$(jfield 'len(d["files"])' < "$M/stdout")" -ge "$N" ]
}

@test "get: the $N files byte for byte, bounded memory" {
    rm -rf "$M/src"   # the round trip needs no copy (see round_trip)
    peak "get" "$VELLUM" get urn:million "$M/out"
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    rm "$M/out/data/late.txt"
    run round_trip "$M/out/data"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    rm -rf "$M/out"
}

@test "export mets, bagit and ocfl: bounded memory" {
    for f in mets bagit ocfl; do
        peak "export $f" "$VELLUM" export urn:million "$M/exp-$f" --format $f
        [ "$status" -eq 0 ]
        [ "$rss" -lt "$LIMIT_KB" ]
        rm -rf "$M/exp-$f"
    done
}

@test "reindex and recover: bounded memory" {
    peak "reindex" "$VELLUM" reindex
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
    peak "recover" "$VELLUM" recover
    [ "$status" -eq 0 ]
    [ "$rss" -lt "$LIMIT_KB" ]
}
