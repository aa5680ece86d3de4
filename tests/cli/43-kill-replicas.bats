#!/usr/bin/env bats
# Kill at every step of replicate and repair (issue 16): each run is
# SIGKILLed just before each of its durable steps in turn (every rename,
# unlink, fsync, syncfs and SQLite commit; tests/faults/killsteps.bash).
# After every kill: recover exits 0, the primary passes the usual checks,
# the replica is a valid storage root holding a real version of the object
# (no transaction folder left), and one more run of the same command
# brings every copy to the head, byte for byte.

load helpers
load ../faults/killsteps

USER_OPTS=(--user-name "Kim Killer" --user-address mailto:kim@example.org --quiet)

setup() {
    setup_repo
    T="$BATS_TEST_TMPDIR"
    R1="$T/rep1"
    mkdir -p "$T/a/sub" "$T/b"
    printf 'first\n' > "$T/a/a.txt"
    head -c 5000 /dev/urandom > "$T/a/sub/c.bin"
    printf 'second\n' > "$T/b/a.txt"
    printf 'new\n' > "$T/b/d.txt"
    [ -f "$KS_SHIM" ] || { echo "missing $KS_SHIM (make build makes it)"; return 1; }
}

replica_object() {
    local h
    h=$(printf '%s' "$1" | sha256sum | cut -c1-64)
    echo "$R1/${h:0:3}/${h:3:3}/${h:6:3}/$h"
}

save_snapshot() {
    KS_SNAP="$T/snapshot"
    rm -rf "$KS_SNAP" "$T/rep-snap" && cp -a "$REPO" "$KS_SNAP" && cp -a "$R1" "$T/rep-snap"
}

# the replica is restored with the repository before each killed run
ks_before() { rm -rf "$R1" && cp -a "$T/rep-snap" "$R1"; }

# The replica: valid, no transaction folder, the object absent or at a
# version whose inventory equals the primary's copy of that version.
replica_sound() {
    run "$VELLUM" validate --path "$R1" --no-digests
    [ "$status" -eq 0 ] || { echo "replica: $output"; return 1; }
    [ -z "$(ls -A "$R1" | grep vellum-txn)" ] || { echo "left: $(ls -A "$R1")"; return 1; }
    local o head
    o=$(replica_object urn:k:one)
    [ -e "$o" ] || return 0
    head=$(jq -r .head "$o/inventory.json")
    cmp "$o/inventory.json" "$(object_dir urn:k:one)/$head/inventory.json" ||
        { echo "replica's $head is not the primary's"; return 1; }
}

finish_and_compare() {
    "$VELLUM" "$@" >/dev/null 2>&1 || { echo "finishing run of $* failed"; return 1; }
    run "$VELLUM" validate --path "$R1"
    [[ "$output" == *" 0 errors, 0 warnings"* ]] || { echo "replica: $output"; return 1; }
    diff -r -q "$REPO/store" "$R1" >/dev/null || { echo "copies differ: $(diff -r -q "$REPO/store" "$R1")"; return 1; }
}

@test "kill at every step: replicate of two versions" {
    "$VELLUM" ingest "$T/a" --id urn:k:one "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:k:one "${USER_OPTS[@]}"
    "$VELLUM" replica add r1 "$R1" >/dev/null
    save_snapshot
    ks_after_replicate() {
        replica_sound || return 1
        finish_and_compare replicate --all
    }
    ks_every_step replicate "$VELLUM" replicate --all
}

@test "kill at every step: repair of a damaged primary and a damaged replica" {
    "$VELLUM" ingest "$T/a" --id urn:k:one "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:k:one "${USER_OPTS[@]}"
    "$VELLUM" replica add r1 "$R1" >/dev/null
    "$VELLUM" replicate --all >/dev/null
    local p r
    p=$(object_dir urn:k:one)/v1/content/data/sub/c.bin
    chmod u+w "$p"
    printf 'X' | dd of="$p" bs=1 seek=10 conv=notrunc 2>/dev/null
    r=$(replica_object urn:k:one)
    chmod u+w "$r/v2/content/data" "$r/v2"
    rm -f "$r/v2/content/data/d.txt" "$r/v2/inventory.json.sha512"
    save_snapshot
    # the usual settle checks every digest of the primary, which is
    # damaged until repair has run: settle with recover and finish here
    ks_settle() {
        run "$VELLUM" recover
        [ "$status" -eq 0 ] || { echo "recover: exit $status: $output"; return 1; }
        staging_clean || { echo "staging not clean: $(ls -A "$REPO/staging")"; return 1; }
        run "$VELLUM" validate --all --no-digests
        [ "$status" -eq 0 ] || { echo "validate: $output"; return 1; }
        run "$VELLUM" events verify
        [ "$status" -eq 0 ] || { echo "events verify: $output"; return 1; }
    }
    ks_after_repair() {
        [ -z "$(ls -A "$R1" | grep vellum-txn)" ] || { echo "left: $(ls -A "$R1")"; return 1; }
        "$VELLUM" repair --all >/dev/null 2>&1 || { echo "finishing repair failed"; return 1; }
        run "$VELLUM" validate --all
        [[ "$output" == *" 0 errors, 0 warnings"* ]] || { echo "primary: $output"; return 1; }
        run "$VELLUM" validate --path "$R1"
        [[ "$output" == *" 0 errors, 0 warnings"* ]] || { echo "replica: $output"; return 1; }
        diff -r -q "$REPO/store" "$R1" >/dev/null || { echo "copies differ"; return 1; }
        ks_catalog_agrees || { echo "the catalog disagrees with the store"; return 1; }
    }
    ks_every_step repair "$VELLUM" repair --all
}

@test "a replicate killed at any step is finished by the next replicate, without recover" {
    "$VELLUM" ingest "$T/a" --id urn:k:one "${USER_OPTS[@]}"
    "$VELLUM" ingest "$T/b" --id urn:k:one "${USER_OPTS[@]}"
    "$VELLUM" replica add r1 "$R1" >/dev/null
    save_snapshot
    KS_OP=direct
    # every third step (the tests above kill at every one, with recover)
    local total n stride=$(( ${VELLUM_KILL_STRIDE:-1} * 3 )) ev
    total=$(ks_count "$VELLUM" replicate --all)
    ks_before
    rm -rf "$REPO" && cp -a "$KS_SNAP" "$REPO"
    for n in $(seq 1 "$stride" "$total"); do
        rm -rf "$REPO" && cp -a "$KS_SNAP" "$REPO"
        ks_before
        ks_kill "$n" "$VELLUM" replicate --all
        finish_and_compare replicate --all || { echo "kill before step $n ($(ks_step_name "$n"))"; return 1; }
        [ -z "$(ls -A "$R1" | grep vellum-txn)" ] || { echo "step $n left: $(ls -A "$R1")"; return 1; }
        # every version that reached the replica is told by an event
        ev=$("$VELLUM" events urn:k:one --type replication --json | jq '[.[].version] | max')
        [ "$ev" = 2 ] || { echo "step $n: replication events end at v$ev"; return 1; }
    done
}
