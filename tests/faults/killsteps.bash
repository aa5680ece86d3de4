# Kill at every step: shared by tests/cli/42-kill-steps.bats (short form, in
# make check) and tests/long/42-kill-steps.bats (long form).
#
# A step is every rename, unlink, remove, rmdir, fsync, fdatasync, syncfs and
# SQLite COMMIT the operation makes (tests/faults/killstep.c counts them).
# For an operation of T steps the test runs it T times from the same saved
# repository, killing it with SIGKILL just before step 1, 2, ... T, and after
# each kill checks the invariants:
#   recover exits 0, staging is empty, validate --all (every digest) finds
#   nothing, events verify is clean, the catalog equals one rebuilt from the
#   store, and the operation's own promise holds (ks_after_<op>).
# Needs helpers.bash loaded first.

KS_SHIM="$(dirname "$VELLUM")/tests/killstep.so"
# The sanitizer build must accept a preloaded library ahead of its runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# ks_count CMD...: run CMD undisturbed through the shim; echo its step count.
ks_count() {
    local log="$BATS_TEST_TMPDIR/steps.log"
    rm -f "$log"
    LD_PRELOAD="$KS_SHIM" VL_STEP_LOG="$log" "$@" >/dev/null 2>"$BATS_TEST_TMPDIR/count.err" ||
        { echo "undisturbed run failed: $(cat "$BATS_TEST_TMPDIR/count.err")" >&2; return 1; }
    cp "$log" "$BATS_TEST_TMPDIR/steps-$KS_OP.log"
    wc -l < "$log"
}

# ks_kill N CMD...: run CMD, SIGKILLed just before step N; 0 if it was killed.
ks_kill() {
    local n=$1; shift
    local rc=0
    # (the braces keep bash's own "Killed" notice out of the test output)
    { LD_PRELOAD="$KS_SHIM" VL_STEP_KILL="$n" "$@" >/dev/null 2>&1; } 2>/dev/null || rc=$?
    [ "$rc" -eq 137 ] || { echo "step $n: exit $rc, not killed (the steps changed between runs?)"; return 1; }
}

ks_step_name() {   # the call at step N of the undisturbed run, for messages
    sed -n "${1}p" "$BATS_TEST_TMPDIR/steps-$KS_OP.log" | sed "s|$BATS_TEST_TMPDIR/||g"
}

# The catalog equals a catalog rebuilt from the store and the event log.
ks_catalog_agrees() {
    local copy="$BATS_TEST_TMPDIR/rebuilt"
    rm -rf "$copy"
    cp -a "$REPO" "$copy"
    "$VELLUM" reindex --repo "$copy" --quiet >/dev/null || { echo "reindex of a copy failed"; return 1; }
    diff <("$VELLUM" ls --json) <("$VELLUM" ls --repo "$copy" --json) || return 1
    local id
    for id in $("$VELLUM" ls --repo "$copy" --json | jq -r '.[].id'); do
        diff <("$VELLUM" show "$id" --json) <("$VELLUM" show "$id" --repo "$copy" --json) || return 1
    done
    diff <("$VELLUM" events --json) <("$VELLUM" events --repo "$copy" --json) || return 1
}

# The invariants every kill must leave.
ks_settle() {
    run "$VELLUM" recover
    [ "$status" -eq 0 ] || { echo "recover: exit $status: $output"; return 1; }
    staging_clean || { echo "staging not clean: $(ls -A "$REPO/staging")"; return 1; }
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "validate: $output"; return 1; }
    [[ "$output" == *" 0 errors, 0 warnings"* ]] || { echo "validate: $output"; return 1; }
    run "$VELLUM" events verify
    [ "$status" -eq 0 ] || { echo "events verify: $output"; return 1; }
    ks_catalog_agrees || { echo "the catalog disagrees with the store"; return 1; }
}

# ks_every_step OP CMD...: the loop.  $KS_SNAP is the saved repository;
# ks_after_OP N is called after each settle for the operation's promise.
# Prints one figure line to fd 3 and leaves "steps kills failures" in KS_FIGURES.
ks_every_step() {
    KS_OP=$1; shift
    local total n failures=0 kills=0
    # VELLUM_KILL_STRIDE=K kills before every K-th step only (the sanitizer
    # suite uses it to stay within make check's time; the plain suite and
    # the long form kill before every step).
    local stride=${VELLUM_KILL_STRIDE:-1}
    rm -rf "$REPO" && cp -a "$KS_SNAP" "$REPO"
    total=$(ks_count "$@") || return 1
    [ "$total" -gt 0 ] || { echo "$KS_OP: no steps counted"; return 1; }
    for n in $(seq 1 "$stride" "$total"); do
        kills=$((kills + 1))
        rm -rf "$REPO" && cp -a "$KS_SNAP" "$REPO"
        ks_before "$KS_OP"
        if ! ks_kill "$n" "$@" || ! ks_settle || ! "ks_after_$KS_OP" "$n"; then
            echo "$KS_OP: kill before step $n of $total ($(ks_step_name "$n")) broke an invariant"
            failures=$((failures + 1))
            [ "${KS_KEEP_GOING:-0}" = 1 ] || return 1
        fi
    done
    echo "# $KS_OP: $total steps, $kills kills, $failures failures" >&3
    KS_FIGURES="$total $kills $failures"
    [ "$failures" -eq 0 ]
}

# Called before each killed run; operations override pieces they need.
ks_before() { :; }

# ingestion events per version of ID are exactly one each
ks_one_ingestion_each() {
    local id=$1 head counts c
    head=$("$VELLUM" show "$id" --json | jq -r .head)
    counts=$("$VELLUM" events "$id" --type ingestion --json |
             jq -r --argjson h "$head" '[range(1; $h + 1) as $v | [.[] | select(.version == $v)] | length] | map(tostring) | join(" ")')
    for c in $counts; do
        [ "$c" -eq 1 ] || { echo "$id has ingestion events per version: $counts"; return 1; }
    done
}

# ks_reads_back ID DIR: the head of ID is byte-equal to DIR
ks_reads_back() {
    local out="$BATS_TEST_TMPDIR/readback"
    rm -rf "$out"
    "$VELLUM" get "$1" "$out" >/dev/null || return 1
    diff -r -q "$2" "$out/data" >/dev/null
}
