#!/usr/bin/env bats
# Concurrency: four ingests (two into the same object), an audit, an export
# and a report at once, repeated.  No corruption, no lost version, catalog
# and store agree, the event log is intact, and SQLite busy states are
# waited out rather than surfacing as failures.

load helpers

make_src() {   # make_src DIR SEED
    python3 - "$1" "$2" <<'PY'
import os, random, sys
d, seed = sys.argv[1], sys.argv[2]
r = random.Random(seed)
os.makedirs(d, exist_ok=True)
for i in range(60):
    sub = os.path.join(d, "s%d" % (i % 6))
    os.makedirs(sub, exist_ok=True)
    open(os.path.join(sub, "f%02d.bin" % i), "wb").write(r.randbytes(r.randint(1, 20000)))
PY
}

@test "ingests, audit, export and report at once, five rounds" {
    setup_repo
    S="$BATS_TEST_TMPDIR/src"
    make_src "$S/base" 1
    "$VELLUM" ingest "$S/base" --id urn:c:shared --quiet >/dev/null
    "$VELLUM" ingest "$S/base" --id urn:c:other --quiet >/dev/null
    for round in 1 2 3 4 5; do
        for k in a b c d; do make_src "$S/$round$k" "$round$k"; done
        pids=()
        "$VELLUM" ingest "$S/${round}a" --id urn:c:shared --quiet > "$BATS_TEST_TMPDIR/o1" 2>&1 & pids+=($!)
        "$VELLUM" ingest "$S/${round}b" --id urn:c:shared --quiet > "$BATS_TEST_TMPDIR/o2" 2>&1 & pids+=($!)
        "$VELLUM" ingest "$S/${round}c" --id "urn:c:new$round" --quiet > "$BATS_TEST_TMPDIR/o3" 2>&1 & pids+=($!)
        "$VELLUM" ingest "$S/${round}d" --id urn:c:other --quiet > "$BATS_TEST_TMPDIR/o4" 2>&1 & pids+=($!)
        "$VELLUM" audit --all --quiet > "$BATS_TEST_TMPDIR/o5" 2>&1 & pids+=($!)
        "$VELLUM" export urn:c:other "$BATS_TEST_TMPDIR/export$round" --format bagit > "$BATS_TEST_TMPDIR/o6" 2>&1 & pids+=($!)
        "$VELLUM" report --format json --out "$BATS_TEST_TMPDIR/report$round.json" > "$BATS_TEST_TMPDIR/o7" 2>&1 & pids+=($!)
        i=0
        for p in "${pids[@]}"; do
            i=$((i + 1))
            wait "$p" || { echo "round $round: job $i failed:"; cat "$BATS_TEST_TMPDIR/o$i"; return 1; }
        done
        # no lost version: the shared object gained exactly two
        [ "$("$VELLUM" show urn:c:shared --json | jfield 'd["head"]')" -eq $((1 + 2 * round)) ] \
            || { echo "round $round: shared object lost a version"; return 1; }
        run "$VELLUM" validate --all
        [ "$status" -eq 0 ] || { echo "round $round: $output"; return 1; }
        run "$VELLUM" events verify
        [ "$status" -eq 0 ] || { echo "round $round: $output"; return 1; }
        [ -d "$BATS_TEST_TMPDIR/export$round" ]
        python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$BATS_TEST_TMPDIR/report$round.json"
    done
    # each version of the shared object is exactly one of the deposits
    for v in $(seq 2 11); do
        "$VELLUM" get urn:c:shared "$BATS_TEST_TMPDIR/v$v" --version "v$v" >/dev/null
        found=0
        for d in "$S"/*[ab]; do
            diff -r -q "$d" "$BATS_TEST_TMPDIR/v$v/data" >/dev/null && found=1
        done
        [ "$found" -eq 1 ] || { echo "v$v matches no deposit"; return 1; }
    done
    # catalog agrees with a catalog rebuilt from the store alone
    cp -a "$REPO" "$BATS_TEST_TMPDIR/copy"
    "$VELLUM" reindex --repo "$BATS_TEST_TMPDIR/copy" >/dev/null
    diff <("$VELLUM" ls --json) <("$VELLUM" ls --repo "$BATS_TEST_TMPDIR/copy" --json)
    diff <("$VELLUM" show urn:c:shared --json) <("$VELLUM" show urn:c:shared --repo "$BATS_TEST_TMPDIR/copy" --json)
}
