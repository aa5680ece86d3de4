#!/usr/bin/env bats
# Concurrency of deposits into one object.  Crash safety is tested by
# killing at every step (42-kill-steps.bats); kills at random moments are in
# the long suites (tests/long/41-crash-ops.bats), because a random moment
# depends on timing.

load helpers

setup() {
    setup_repo
}

# Make a source state: many small files plus a few larger ones.
make_state() {
    local dir=$1 seed=$2
    rm -rf "$dir"
    mkdir -p "$dir"
    python3 - "$dir" "$seed" <<'PY'
import os, random, sys
d, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
for i in range(150):
    sub = os.path.join(d, "f%02d" % (i % 12))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "file%03d.txt" % i), "wb") as f:
        f.write(r.randbytes(r.randint(1, 8000)) if i % 5 else b"shared content\n")
for i in range(3):
    with open(os.path.join(d, "big%d.bin" % i), "wb") as f:
        f.write(r.randbytes(4 * 1024 * 1024))
PY
}

@test "two ingests into one object never interleave" {
    S="$BATS_TEST_TMPDIR/states"
    make_state "$S/a" 101
    make_state "$S/b" 102
    "$VELLUM" ingest "$S/a" --id urn:lock:x --quiet >/dev/null &
    p1=$!
    "$VELLUM" ingest "$S/b" --id urn:lock:x --quiet >/dev/null &
    p2=$!
    wait $p1
    wait $p2
    run "$VELLUM" show urn:lock:x --json
    [ "$(echo "$output" | jfield 'd["head"]')" = "2" ]
    "$VELLUM" get urn:lock:x "$BATS_TEST_TMPDIR/v1" --version v1 >/dev/null
    "$VELLUM" get urn:lock:x "$BATS_TEST_TMPDIR/v2" --version v2 >/dev/null
    # each version is exactly one of the two deposits
    { diff -r -q "$S/a" "$BATS_TEST_TMPDIR/v1/data" && diff -r -q "$S/b" "$BATS_TEST_TMPDIR/v2/data"; } >/dev/null ||
    { diff -r -q "$S/b" "$BATS_TEST_TMPDIR/v1/data" && diff -r -q "$S/a" "$BATS_TEST_TMPDIR/v2/data"; } >/dev/null
}
