#!/usr/bin/env bats
# make check-long: kill -9 at CRASH_TRIALS (50) seeded random moments (the
# test hooks strike right after a random filesystem call) during
# each kind of operation (new object, new version, export, audit, reindex).  After each:
# recover, then validate --all and events verify are clean, every object
# reads back at a head it really had, and no completed version has lost or
# duplicated events.

load ../cli/helpers
load ../cli/hooks

TRIALS=${CRASH_TRIALS:-50}

make_state() {
    python3 - "$1" "$2" <<'PY'
import os, random, sys
d, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
os.makedirs(d, exist_ok=True)
for i in range(80):
    sub = os.path.join(d, "f%d" % (i % 8))
    os.makedirs(sub, exist_ok=True)
    open(os.path.join(sub, "x%03d" % i), "wb").write(r.randbytes(r.randint(1, 6000)))
open(os.path.join(d, "big.bin"), "wb").write(r.randbytes(3 * 1024 * 1024))
PY
}

# settle: recover, then the invariants
settle() {
    local what=$1
    run "$VELLUM" recover
    [ "$status" -eq 0 ] || { echo "$what: recover: $output"; return 1; }
    staging_clean || { echo "$what: staging not clean"; return 1; }
    run "$VELLUM" validate --all --no-digests
    [ "$status" -eq 0 ] || { echo "$what: validate: $output"; return 1; }
    run "$VELLUM" events verify
    [ "$status" -eq 0 ] || { echo "$what: events verify: $output"; return 1; }
    # every stored version has exactly one ingestion event
    for id in $("$VELLUM" ls --json | jfield '" ".join(o["id"] for o in d)'); do
        head=$("$VELLUM" show "$id" --json | jfield 'd["head"]')
        counts=$("$VELLUM" events "$id" --type ingestion --json | jfield '" ".join(str(sum(1 for e in d if e["version"]==v)) for v in range(1, '"$head"'+1))')
        for c in $counts; do
            [ "$c" -eq 1 ] || { echo "$what: $id has event counts $counts"; return 1; }
        done
    done
}

# kill_during CALLS CMD...: run CMD killed (SIGKILL, by the test hooks)
# right after a random one of the first 90% of the CALLS filesystem calls an
# undisturbed run makes, so that it is struck mid-way on any machine.
# Counts runs in $RUNS and runs that died by the signal in $KILLED.
kill_during() {
    local calls=$1; shift
    local at=$(( (RANDOM * 32768 + RANDOM) % (calls * 9 / 10 + 1) + 1 ))
    RUNS=$((RUNS + 1))
    run with_hooks VELLUM_HOOK_AT="kill:any:$at" "$@"
    if [ "$status" -eq 137 ]; then
        KILLED=$((KILLED + 1))
    fi
}

# calls_of CMD...: how many filesystem calls one undisturbed run makes.
calls_of() {
    with_hooks VELLUM_HOOK_AT=count:any VELLUM_HOOK_COUNT="$BATS_TEST_TMPDIR/calls" \
        "$@" >/dev/null 2>&1
    cat "$BATS_TEST_TMPDIR/calls"
}

report_kills() {   # report_kills LABEL
    echo "# $1: $KILLED of $RUNS runs killed mid-way" >&3
}

@test "kill -9 during ingest of new objects and of new versions, $TRIALS each" {
    setup_repo
    RANDOM=7
    S="$BATS_TEST_TMPDIR/s"
    make_state "$S/0" 0
    "$VELLUM" ingest "$S/0" --id urn:k:v --quiet >/dev/null
    cp -a "$S/0" "$S/head"
    make_state "$S/n" 999
    span=$(calls_of "$VELLUM" ingest "$S/n" --id urn:k:probe --quiet)
    for kind in version object; do
        SPAN=$span RUNS=0 KILLED=0
        for t in $(seq 1 "$TRIALS"); do
            make_state "$S/n" "$t"
            if [ "$kind" = object ]; then
                kill_during "$SPAN" "$VELLUM" ingest "$S/n" --id "urn:k:new$t" --quiet
            else
                kill_during "$SPAN" "$VELLUM" ingest "$S/n" --id urn:k:v --quiet
            fi
            settle "$kind trial $t" || return 1
            if [ "$kind" = version ]; then
                rm -rf "$BATS_TEST_TMPDIR/o"
                "$VELLUM" get urn:k:v "$BATS_TEST_TMPDIR/o" >/dev/null
                if diff -r -q "$S/n" "$BATS_TEST_TMPDIR/o/data" >/dev/null; then
                    rm -rf "$S/head" && cp -a "$S/n" "$S/head"
                else
                    diff -r -q "$S/head" "$BATS_TEST_TMPDIR/o/data" >/dev/null || { echo "trial $t: neither head"; return 1; }
                fi
            elif "$VELLUM" show "urn:k:new$t" >/dev/null 2>&1; then
                rm -rf "$BATS_TEST_TMPDIR/o"
                "$VELLUM" get "urn:k:new$t" "$BATS_TEST_TMPDIR/o" >/dev/null
                diff -r -q "$S/n" "$BATS_TEST_TMPDIR/o/data" >/dev/null || { echo "trial $t: partial new object"; return 1; }
            fi
        done
        report_kills "ingest, new $kind"
        [ "$KILLED" -ge $((TRIALS / 2)) ] || { echo "too few $kind ingests were interrupted"; return 1; }
    done
}

@test "kill -9 during export, audit and reindex, $TRIALS each" {
    setup_repo
    RANDOM=11
    S="$BATS_TEST_TMPDIR/s"
    for i in 1 2 3; do make_state "$S/$i" "$i"; "$VELLUM" ingest "$S/$i" --id "urn:k:$i" --quiet >/dev/null; done
    check_objects() {
        for i in 1 2 3; do
            rm -rf "$BATS_TEST_TMPDIR/o"
            "$VELLUM" get "urn:k:$i" "$BATS_TEST_TMPDIR/o" >/dev/null || { echo "$1: get urn:k:$i"; return 1; }
            diff -r -q "$S/$i" "$BATS_TEST_TMPDIR/o/data" >/dev/null || { echo "$1: urn:k:$i changed"; return 1; }
        done
    }
    SPAN=$(calls_of "$VELLUM" export urn:k:1 "$BATS_TEST_TMPDIR/probe" --format bagit) RUNS=0 KILLED=0
    for t in $(seq 1 "$TRIALS"); do
        kill_during "$SPAN" "$VELLUM" export urn:k:1 "$BATS_TEST_TMPDIR/e$t" --format bagit
        settle "export $t" || return 1
        # an export is either complete at DEST or absent
        if [ -e "$BATS_TEST_TMPDIR/e$t" ]; then
            [ -f "$BATS_TEST_TMPDIR/e$t/bagit.txt" ] || { echo "export $t: partial"; return 1; }
        fi
        # recover removed whatever temporaries the killed export left
        [ -z "$(compgen -G "$BATS_TEST_TMPDIR/e$t.vellum-*")" ] || { echo "export $t: temporaries left"; return 1; }
        # an export in place has exactly one dissemination event, one that
        # is not there has none
        n=$("$VELLUM" events urn:k:1 --type dissemination --json | jfield 'sum(1 for e in d if e["detail"].endswith("to '"$BATS_TEST_TMPDIR/e$t"'"))')
        if [ -e "$BATS_TEST_TMPDIR/e$t" ]; then want=1; else want=0; fi
        [ "$n" -eq "$want" ] || { echo "export $t: $n dissemination events, want $want"; return 1; }
    done
    report_kills "export"
    [ "$KILLED" -ge $((TRIALS / 2)) ] || { echo "too few exports were interrupted"; return 1; }
    SPAN=$(calls_of "$VELLUM" audit --all) RUNS=0 KILLED=0
    for t in $(seq 1 "$TRIALS"); do
        before=$("$VELLUM" events --type "fixity check" --json | jfield 'len(d)')
        killed_before=$KILLED
        kill_during "$SPAN" "$VELLUM" audit --all
        settle "audit $t" || return 1
        # a finished audit recorded one event per object; a killed one at
        # most that many, each object's at most once
        after=$("$VELLUM" events --type "fixity check" --json | jfield 'len(d)')
        if [ "$KILLED" -eq "$killed_before" ]; then
            [ $((after - before)) -eq 3 ] || { echo "audit $t: finished with $((after - before)) events"; return 1; }
        else
            [ $((after - before)) -le 3 ] || { echo "audit $t: killed with $((after - before)) events"; return 1; }
        fi
    done
    report_kills "audit"
    [ "$KILLED" -ge $((TRIALS / 2)) ] || { echo "too few audits were interrupted"; return 1; }
    check_objects "after the audits" || return 1
    SPAN=$(calls_of "$VELLUM" reindex) RUNS=0 KILLED=0
    for t in $(seq 1 "$TRIALS"); do
        kill_during "$SPAN" "$VELLUM" reindex
        settle "reindex $t" || return 1
        check_objects "reindex $t" || return 1
    done
    report_kills "reindex"
    [ "$KILLED" -ge $((TRIALS / 2)) ] || { echo "too few reindexes were interrupted"; return 1; }
}
