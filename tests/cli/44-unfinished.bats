#!/usr/bin/env bats
# Unfinished work: after a crash and before `vellum recover`, every command
# notices what was left.  Commands that read go on and print one warning
# naming `vellum recover`; commands that write refuse, change nothing, and
# name it too.  Work that a live process holds (its lock taken) is not
# unfinished.  The leftovers are made as a crash leaves them: a transaction
# folder in staging whose object lock nobody holds, and a record of an
# export's temporary whose owner is gone.

load helpers
bats_require_minimum_version 1.5.0

setup() {
    setup_repo
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC/sub"
    printf 'one\n' > "$SRC/a.txt"
    printf 'two\n' > "$SRC/sub/b.txt"
    "$VELLUM" ingest "$SRC" --id urn:u:a --quiet > /dev/null
    OUT="$BATS_TEST_TMPDIR/out"
    mkdir -p "$OUT"
}

teardown() {
    if [ -n "${HOLDER:-}" ]; then
        rm -f "$BATS_TEST_TMPDIR/hold"
        wait "$HOLDER" 2>/dev/null || true
    fi
}

key_of() {
    printf '%s' "$1" | sha256sum | cut -c1-64
}

# crashed_txn ID [UUID]: a transaction that stopped mid-way through a new
# version of ID: its staging folder with the intent file and some staged
# content (what kill -9 leaves); nobody holds its lock.  Sets TXN to its
# name.
crashed_txn() {
    local id=$1 d
    d=$(object_dir "$id")
    TXN="txn-$(key_of "$id")-${2:-0b5c1d7e-2f0a-4c8e-9d55-6a1e0c3f7b21}"
    mkdir -p "$REPO/staging/$TXN/object/v2/content/data" "$REPO/staging/$TXN/scratch"
    printf 'half\n' > "$REPO/staging/$TXN/object/v2/content/data/a.txt"
    printf '{"events":[],"id":"%s","new":false,"object":"%s","version":2}' \
        "$id" "${d#$REPO/store/}" > "$REPO/staging/$TXN/intent.json"
}

# Hold the lock file $1 (flock) in a background process, as a live vellum
# does, until release_lock.
hold_lock() {
    mkdir -p "$(dirname "$1")"
    flock "$1" -c "touch '$BATS_TEST_TMPDIR/hold'; while [ -e '$BATS_TEST_TMPDIR/hold' ]; do sleep 0.05; done" &
    HOLDER=$!
    while [ ! -e "$BATS_TEST_TMPDIR/hold" ]; do
        kill -0 "$HOLDER" || return 1
        sleep 0.05
    done
}

release_lock() {
    rm -f "$BATS_TEST_TMPDIR/hold"
    wait "$HOLDER"
    HOLDER=
}

# Each command that reads: exit 0 and, on stderr, exactly the warning $1
# (a glob); or nothing when $1 is empty.
readers_warn() {
    local want=$1 n=0
    while IFS= read -r cmd; do
        n=$((n + 1))
        rm -rf "$OUT/get$n"
        # shellcheck disable=SC2086
        eval "run --separate-stderr \"\$VELLUM\" $cmd"
        [ "$status" -eq 0 ] || { echo "vellum $cmd: exit $status: $stderr"; return 1; }
        if [ -z "$want" ]; then
            [ -z "$stderr" ] || { echo "vellum $cmd warned: $stderr"; return 1; }
        else
            [ "${#stderr_lines[@]}" -eq 1 ] && [[ "$stderr" == $want ]] ||
                { echo "vellum $cmd: stderr is not one warning: $stderr"; return 1; }
        fi
    done <<EOF
ls
ls --json
show urn:u:a
show urn:u:a --json
get urn:u:a "\$OUT/get\$n"
validate --all
validate urn:u:a
events
events urn:u:a --json
events verify
events verify --json
report --format json
report --format csv --table failures
audit --status
audit --status --json
config
config digest
EOF
    # Commands without a repository have nothing to warn about.
    run --separate-stderr "$VELLUM" identify "$SRC/a.txt"
    [ "$status" -eq 0 ] && [ -z "$stderr" ]
    run --separate-stderr "$VELLUM" validate --path "$REPO/store"
    [ "$status" -eq 0 ] && [ -z "$stderr" ]
}

# Each command that writes: exit 3 with exactly the refusal $1 (a glob), and
# nothing changed: the same objects, events, audits and settings.
writers_refused() {
    local want=$1 n=0 before after
    before=$( "$VELLUM" ls --json 2>/dev/null; "$VELLUM" events --json 2>/dev/null;
              "$VELLUM" config 2>/dev/null; ls -A "$OUT")
    while IFS= read -r cmd; do
        n=$((n + 1))
        eval "run --separate-stderr \"\$VELLUM\" $cmd"
        [ "$status" -eq 3 ] || { echo "vellum $cmd: exit $status, not refused: $output $stderr"; return 1; }
        [ "${#stderr_lines[@]}" -eq 1 ] && [[ "$stderr" == $want ]] ||
            { echo "vellum $cmd: stderr is not the refusal: $stderr"; return 1; }
        [ -z "$output" ] || { echo "vellum $cmd printed: $output"; return 1; }
    done <<EOF
ingest "$SRC" --id urn:u:a
ingest "$SRC" --id urn:u:other
export urn:u:a "$OUT/bag" --format bagit
audit --all
audit urn:u:a
audit --due
reindex
config user.name "Someone Else"
EOF
    after=$( "$VELLUM" ls --json 2>/dev/null; "$VELLUM" events --json 2>/dev/null;
             "$VELLUM" config 2>/dev/null; ls -A "$OUT")
    [ "$before" = "$after" ] || { echo "a refused command changed something"; return 1; }
}

@test "after a crashed deposit, readers warn and go on, writers refuse, until recover" {
    crashed_txn urn:u:a
    warning="vellum: warning: a crash or kill left 1 unfinished transaction (staging/$TXN); what is shown may be out of date until you run 'vellum recover'"
    readers_warn "$warning"
    # validate and events verify still report what they find, with the warning
    run --separate-stderr "$VELLUM" validate --all
    [[ "$output" == *"validated 1 object: 0 errors"* ]]
    [ "$stderr" = "$warning" ]
    run --separate-stderr "$VELLUM" events verify
    [ "$output" = "event log intact: chain and catalog agree" ]
    [ "$stderr" = "$warning" ]
    writers_refused "vellum: refusing to change $REPO: a crash or kill left 1 unfinished transaction (staging/$TXN); run 'vellum recover' first"
    [ -d "$REPO/staging/$TXN" ]
    run "$VELLUM" recover
    [ "$status" -eq 0 ]
    staging_clean
    readers_warn ""
    run "$VELLUM" ingest "$SRC" --id urn:u:other --quiet
    [ "$status" -eq 0 ]
    run "$VELLUM" audit --all --quiet
    [ "$status" -eq 0 ]
}

@test "a transaction whose owner is alive is not unfinished" {
    crashed_txn urn:u:a
    hold_lock "$REPO/staging/.locks/$(key_of urn:u:a)"
    readers_warn ""
    # a deposit into another object goes ahead beside it
    run --separate-stderr "$VELLUM" ingest "$SRC" --id urn:u:other --quiet
    [ "$status" -eq 0 ] && [ -z "$stderr" ]
    # recover leaves it alone too
    run "$VELLUM" recover
    [ "$status" -eq 0 ]
    [ -d "$REPO/staging/$TXN" ]
    # once its owner is gone, it is unfinished
    release_lock
    readers_warn "vellum: warning: a crash or kill left 1 unfinished transaction (staging/$TXN); *'vellum recover'"
    run "$VELLUM" ingest "$SRC" --id urn:u:third --quiet
    [ "$status" -eq 3 ]
    "$VELLUM" recover > /dev/null
    [ ! -e "$REPO/staging/$TXN" ]
    readers_warn ""
}

@test "a killed export's temporary counts too; several are counted" {
    # What a killed export leaves: its temporary beside DEST, and the
    # record naming it, which nobody holds any more.
    mkdir -p "$REPO/staging/.outside" "$OUT/bag.vellum-export-4242/data"
    printf '%s\0' "$OUT/bag.vellum-export-4242" > "$REPO/staging/.outside/3f2a6c1e-0d4b-4f7a-9a8e-5b1c2d3e4f50"
    warning="vellum: warning: a crash or kill left 1 abandoned export or get temporary (staging/.outside/3f2a6c1e-0d4b-4f7a-9a8e-5b1c2d3e4f50); what is shown may be out of date until you run 'vellum recover'"
    readers_warn "$warning"
    # They lie outside the repository, which stays consistent: writers go
    # on, with one warning.
    run --separate-stderr "$VELLUM" ingest "$SRC" --id urn:u:b --quiet
    [ "$status" -eq 0 ]
    [ "$stderr" = "vellum: warning: a crash or kill left 1 abandoned export or get temporary (staging/.outside/3f2a6c1e-0d4b-4f7a-9a8e-5b1c2d3e4f50); 'vellum recover' removes it" ]
    [ -d "$OUT/bag.vellum-export-4242" ]
    # A record still being written (dot name) is its owner's, not a leftover.
    : > "$REPO/staging/.outside/.new-6d7e8f90-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
    # Two transactions and the record together.
    crashed_txn urn:u:a
    crashed_txn urn:u:a 5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716
    run --separate-stderr "$VELLUM" ls
    [ "$status" -eq 0 ]
    [[ "$stderr" == "vellum: warning: a crash or kill left 2 unfinished transactions and 1 abandoned export or get temporary ("*"); what is shown may be out of date until you run 'vellum recover'" ]]
    # A record whose owner holds it is live.
    "$VELLUM" recover > /dev/null
    staging_clean
    [ ! -e "$OUT/bag.vellum-export-4242" ]
    printf '%s\0' "$OUT/live.vellum-export-4343" > "$REPO/staging/.outside/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
    hold_lock "$REPO/staging/.outside/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
    readers_warn ""
    release_lock
    run --separate-stderr "$VELLUM" ls
    [[ "$stderr" == "vellum: warning: a crash or kill left 1 abandoned export or get temporary (staging/.outside/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d);"* ]]
}
