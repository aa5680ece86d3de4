#!/usr/bin/env bats
# Crash safety at seeded-random filesystem calls (not delays: the test hooks
# kill after the Nth call, so no trial depends on timing), and concurrency of
# deposits into one object.  Every durable step is killed in turn by
# 42-kill-steps.bats.

load helpers
load hooks

teardown() {
    stopped_cleanup
}

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

catalog_agrees() {
    local copy="$BATS_TEST_TMPDIR/copy"
    rm -rf "$copy"
    cp -a "$REPO" "$copy"
    "$VELLUM" reindex --repo "$copy" >/dev/null
    diff <("$VELLUM" ls --json | grep -v '"updated"\|"created"') \
         <("$VELLUM" ls --repo "$copy" --json | grep -v '"updated"\|"created"') || return 1
    for id in $("$VELLUM" ls --repo "$copy" --json | jq -r '.[].id'); do
        diff <("$VELLUM" show "$id" --json) <("$VELLUM" show "$id" --repo "$copy" --json) || return 1
    done
}

# The sanitizer run uses fewer trials (VELLUM_CRASH_TRIALS) to keep
# make check near ten minutes; the plain run does all 20.
TRIALS=${VELLUM_CRASH_TRIALS:-20}

@test "kill -9 at $TRIALS random moments: every object at its old or new head" {
    RANDOM=20261127
    S="$BATS_TEST_TMPDIR/states"
    mkdir -p "$S"
    make_state "$S/0" 0
    # The moments are filesystem calls, not delays: the first ingest counts
    # its calls, and each trial is killed (SIGKILL, by the test hooks) right
    # after a random one of the first 90% of them, so it is struck mid-way
    # however fast or loaded the machine is.
    with_hooks VELLUM_HOOK_AT=count:any VELLUM_HOOK_COUNT="$BATS_TEST_TMPDIR/calls" \
        "$VELLUM" ingest "$S/0" --id urn:crash:a --quiet >/dev/null
    calls=$(cat "$BATS_TEST_TMPDIR/calls")
    [ "$calls" -gt 100 ]
    cp -a "$S/0" "$S/head-a"
    killed=0 trial=0
    while [ "$killed" -lt "$TRIALS" ] && [ "$trial" -lt $((3 * TRIALS)) ]; do
        trial=$((trial + 1))
        make_state "$S/new" "$trial"
        # every fifth trial creates a new object instead of a version
        if [ $((trial % 5)) -eq 0 ]; then id="urn:crash:new$trial"; else id=urn:crash:a; fi
        at=$(( (RANDOM * 32768 + RANDOM) % (calls * 9 / 10) + 1 ))
        run with_hooks VELLUM_HOOK_AT="kill:any:$at" "$VELLUM" ingest "$S/new" --id "$id" --quiet
        if [ "$status" -eq 137 ]; then
            killed=$((killed + 1))
        else
            [ "$status" -eq 0 ] || { echo "trial $trial: ingest: $status $output"; return 1; }
        fi
        run "$VELLUM" recover
        [ "$status" -eq 0 ] || { echo "trial $trial: recover: $output"; return 1; }
        staging_clean || { echo "trial $trial: staging not clean"; return 1; }
        out="$BATS_TEST_TMPDIR/out$trial"
        if [ "$id" = urn:crash:a ]; then
            "$VELLUM" get "$id" "$out" >/dev/null
            if diff -r -q "$S/new" "$out/data" >/dev/null; then
                rm -rf "$S/head-a" && cp -a "$S/new" "$S/head-a"
            else
                diff -r -q "$S/head-a" "$out/data" >/dev/null || { echo "trial $trial: neither head"; return 1; }
            fi
        else
            if "$VELLUM" show "$id" >/dev/null 2>&1; then
                "$VELLUM" get "$id" "$out" >/dev/null
                diff -r -q "$S/new" "$out/data" >/dev/null || { echo "trial $trial: new object partial"; return 1; }
            else
                left=$(find "$REPO/store" -path "*$(printf '%s' "$id" | sha256sum | cut -c1-64)*" -print -quit)
                [ -z "$left" ] || { echo "trial $trial: half-written object visible: $left"; "$VELLUM" show "$id"; ls -laR "$left" | head -30; return 1; }
            fi
        fi
        rm -rf "$out"
        catalog_agrees || { echo "trial $trial: catalog disagrees"; return 1; }
        if "$VELLUM" validate --help >/dev/null 2>&1; then
            run "$VELLUM" validate --all --no-digests
            [ "$status" -eq 0 ] || { echo "trial $trial: validate: $output"; return 1; }
        fi
    done
    echo "# killed $killed of $trial ingests mid-way" >&3
    [ "$killed" -ge "$TRIALS" ]
}

@test "two ingests into one object never interleave" {
    S="$BATS_TEST_TMPDIR/states"
    make_state "$S/a" 101
    make_state "$S/b" 102
    # No race left to chance: the first ingest is stopped mid-deposit, its
    # object lock held; the second is stopped right after it found that
    # lock taken (the "busy" hook), so the two certainly overlap.
    start_stopped "$REPO/staging/*/content/data/*" "$VELLUM" ingest "$S/a" --id urn:lock:x --quiet
    p1=$STOPPED
    hooks_env
    env "${HOOKS_ENV[@]}" VELLUM_HOOK_AT="stop:busy:1" "$VELLUM" ingest "$S/b" --id urn:lock:x --quiet >/dev/null 2>&1 3>&- &
    p2=$!
    echo "$p2" >> "$BATS_TEST_TMPDIR/.stopped-pids"
    wait_stopped "$p2"
    # The second has written nothing into the store while it waits.
    [ "$(object_count)" -eq 0 ]
    kill -CONT "$p1"
    wait "$p1"
    kill -CONT "$p2"
    wait "$p2"
    run "$VELLUM" show urn:lock:x --json
    [ "$(echo "$output" | jfield 'd["head"]')" = "2" ]
    "$VELLUM" get urn:lock:x "$BATS_TEST_TMPDIR/v1" --version v1 >/dev/null
    "$VELLUM" get urn:lock:x "$BATS_TEST_TMPDIR/v2" --version v2 >/dev/null
    # each version is exactly one deposit, in the order the lock gave
    diff -r -q "$S/a" "$BATS_TEST_TMPDIR/v1/data"
    diff -r -q "$S/b" "$BATS_TEST_TMPDIR/v2/data"
}
