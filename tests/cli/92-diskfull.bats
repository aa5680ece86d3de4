#!/usr/bin/env bats
# Disk full: the repository lives on a 24 MiB tmpfs.  Deposits too big for
# the free space are refused up front (or while an archive streams), and
# when the filesystem fills up during an ingest (a ballast file written while
# the ingest is paused mid-staging) the ingest fails with one clear line,
# nothing is half-visible, `vellum recover` leaves the repository valid, and
# the space is given back.  Needs root (mount); skipped otherwise.

load helpers
load hooks
bats_require_minimum_version 1.5.0

MANY_FILES=1500        # 4 KiB each: one tmpfs page per file

setup_file() {
    # Sources live outside the small filesystem, shared read-only by tests.
    export SRCS="$BATS_FILE_TMPDIR/src"
    mkdir -p "$SRCS/small/sub" "$SRCS/big" "$SRCS/t30" "$SRCS/t4"
    printf 'kept safe\n' > "$SRCS/small/a.txt"
    head -c 200000 /dev/urandom > "$SRCS/small/sub/b.bin"
    head -c 40M /dev/urandom > "$SRCS/big/big.bin"
    # Random data does not compress: the archives stay about as big as their
    # contents, on the roomy filesystem, while expanding them would overflow.
    head -c 30M /dev/urandom > "$SRCS/t30/r30.bin"
    tar -I "gzip -1" -cf "$SRCS/r30.tar.gz" -C "$SRCS/t30" r30.bin
    for i in 1 2 3 4; do head -c 5M /dev/urandom > "$SRCS/t4/part$i.bin"; done
    tar -I "gzip -1" -cf "$SRCS/t4.tar.gz" -C "$SRCS/t4" .
    python3 - "$SRCS/many" "$MANY_FILES" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
r = random.Random(92)
for i in range(n):
    sub = os.path.join(d, "d%02d" % (i % 30))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%04d.bin" % i), "wb") as f:
        f.write(r.randbytes(4096))
PY
}

setup() {
    T="$BATS_TEST_TMPDIR"
    [ "$(id -u)" = 0 ] || skip "not root: cannot mount a small tmpfs, disk full not tested"
    FS="$T/fs"
    mkdir -p "$FS"
    if ! mount -t tmpfs -o size=24m tmpfs "$FS" 2> "$T/mount.err"; then
        skip "mount -t tmpfs not permitted ($(head -1 "$T/mount.err")): disk full not tested"
    fi
    MOUNTED=1
    export REPO="$FS/repo" VELLUM_REPO="$FS/repo"
    fresh_repo
}

teardown() {
    if [ -n "${INGEST_PID:-}" ] && kill -0 "$INGEST_PID" 2>/dev/null; then
        kill -CONT "$INGEST_PID" 2>/dev/null || true
        kill -KILL "$INGEST_PID" 2>/dev/null || true
        wait "$INGEST_PID" 2>/dev/null || true
    fi
    if [ -n "${MOUNTED:-}" ]; then
        umount "$FS" 2>/dev/null || umount -l "$FS"
    fi
}

# A new repository on the small filesystem holding one object, urn:df:small.
fresh_repo() {
    rm -rf "$REPO"
    "$VELLUM" init --repo "$REPO" > /dev/null
    "$VELLUM" ingest "$SRCS/small" --id urn:df:small --quiet > /dev/null
}

avail() {
    df -B1 --output=avail "$FS" | tail -1 | tr -d ' '
}

# Leave exactly N bytes free on the small filesystem (N >= 0).
fill_leaving() {
    local n=$1 a
    a=$(avail)
    [ "$a" -gt "$n" ] || return 0
    fallocate -l $((a - n)) "$FS/ballast" 2>/dev/null ||
        { rm -f "$FS/ballast"; head -c $((a - n)) /dev/zero > "$FS/ballast" 2>/dev/null || true; }
}

# Start ingesting the many-files folder in the background, paused (SIGSTOP,
# by the test hooks) right after it created its first file of deposited
# content in staging, that is after the up-front free-space check.  Sets
# INGEST_PID and STAGED (files staged).
start_and_pause() {
    local id=$1
    hooks_env
    env "${HOOKS_ENV[@]}" VELLUM_HOOK_AT="stop:open:1:$REPO/staging/*/content/data/*" \
        "$VELLUM" ingest "$SRCS/many" --id "$id" --quiet > "$T/ingest.out" 2> "$T/ingest.err" &
    INGEST_PID=$!
    wait_stopped "$INGEST_PID" || { echo "$(cat "$T/ingest.err")"; return 1; }
    STAGED=$(find "$REPO/staging" -path '*/content/data/*' -type f | wc -l)
}

# Let the paused ingest run on; sets ING_RC.
resume_and_wait() {
    kill -CONT "$INGEST_PID"
    ING_RC=0
    wait "$INGEST_PID" || ING_RC=$?
    INGEST_PID=
}

# Exit 2 or 3 (per $1), and stderr ($2) is exactly one line matching $3.
one_clear_line() {
    local rc=$1 errfile=$2 pattern=$3
    [ "$(wc -l < "$errfile")" -eq 1 ] ||
        { echo "expected one line on stderr, got:"; cat "$errfile"; return 1; }
    grep -Eq "$pattern" "$errfile" ||
        { echo "stderr does not match /$pattern/:"; cat "$errfile"; return 1; }
    [[ "$(cat "$errfile")" == vellum:* ]] ||
        { echo "stderr is not vellum's own message:"; cat "$errfile"; return 1; }
}

# After `vellum recover`: staging empty, the store valid, the event log
# intact, and urn:df:small still byte-exact.
repository_sound() {
    run "$VELLUM" recover
    [ "$status" -eq 0 ] || { echo "recover: $output"; return 1; }
    staging_clean || { echo "staging not clean:"; ls -A "$REPO/staging"; return 1; }
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "validate --all: $output"; return 1; }
    [[ "$output" == *" 0 errors"* ]] || { echo "validate --all: $output"; return 1; }
    run "$VELLUM" events verify
    [ "$status" -eq 0 ] || { echo "events verify: $output"; return 1; }
    rm -rf "$T/small-out"
    run "$VELLUM" get urn:df:small "$T/small-out"
    [ "$status" -eq 0 ] || { echo "get urn:df:small: $output"; return 1; }
    diff -r "$SRCS/small" "$T/small-out/data"
}

# ID is nowhere: not in the store, not in the catalog.
absent() {
    [ ! -e "$(object_dir "$1")" ] || { echo "$1 has a folder in the store"; return 1; }
    "$VELLUM" ls --json | jfield "'$1' not in [o['id'] for o in d]" | grep -qx True ||
        { echo "$1 is listed by vellum ls"; return 1; }
}

# The free space now is within 1 MiB of $1.
space_back() {
    local before=$1 now
    now=$(avail)
    echo "free before $before, after $now"
    [ $((before - now)) -le 1048576 ] && [ $((now - before)) -le 1048576 ]
}

@test "a file and a folder larger than the free space are refused up front" {
    before=$(avail)
    run --separate-stderr "$VELLUM" ingest "$SRCS/big/big.bin" --id urn:df:big
    [ "$status" -eq 2 ]
    echo "$stderr" > "$T/err"
    one_clear_line 2 "$T/err" "free space"
    run --separate-stderr "$VELLUM" ingest "$SRCS/big" --id urn:df:big
    [ "$status" -eq 2 ]
    echo "$stderr" > "$T/err"
    one_clear_line 2 "$T/err" "free space"
    absent urn:df:big
    staging_clean
    space_back "$before"
    repository_sound
}

@test "archives that would expand past the free space are refused while streaming" {
    before=$(avail)
    # One 30 MiB entry: refused at its header, before anything is written.
    run --separate-stderr "$VELLUM" ingest "$SRCS/r30.tar.gz" --id urn:df:tgz
    [ "$status" -eq 2 ]
    echo "$stderr" > "$T/err"
    one_clear_line 2 "$T/err" "free space"
    # Four 5 MiB entries: the first is staged, then the deposit is refused.
    run --separate-stderr "$VELLUM" ingest "$SRCS/t4.tar.gz" --id urn:df:tgz
    [ "$status" -eq 2 ]
    echo "$stderr" > "$T/err"
    one_clear_line 2 "$T/err" "free space"
    absent urn:df:tgz
    staging_clean
    space_back "$before"
    repository_sound
}

@test "the filesystem fills up while content is staged: one clear error, nothing left" {
    before=$(avail)
    start_and_pause urn:df:many
    fill_leaving 0
    [ "$(avail)" -lt 65536 ]
    resume_and_wait
    echo "ingest exit $ING_RC: $(cat "$T/ingest.err")"
    [ "$ING_RC" -eq 3 ]
    one_clear_line 3 "$T/ingest.err" "No space left on device"
    [ ! -s "$T/ingest.out" ]
    absent urn:df:many
    rm -f "$FS/ballast"
    repository_sound
    absent urn:df:many
    space_back "$before"
    # The repository still takes deposits.
    run "$VELLUM" ingest "$SRCS/many" --id urn:df:many --quiet
    [ "$status" -eq 0 ]
    "$VELLUM" get urn:df:many "$T/many-out"
    diff -r "$SRCS/many" "$T/many-out/data"
}

# Leave X bytes beyond what the rest of the content needs, so that the
# filesystem fills while METS.xml, the version inventory, the root inventory,
# the catalog or the event log is written (for 1500 files METS.xml is about
# 2 MB and each inventory about 0.55 MB).  Whatever the phase: exit 0, or
# exit 3 with one line that says the disk is full; after recover the
# deposit is either wholly there or wholly absent with its space given back.
@test "the filesystem fills up in each later phase of a deposit: all or nothing" {
    failed=0; stored=0; phases=""
    for x in 1000000 2450000 2900000 3500000 4200000; do
        fresh_repo
        before=$(avail)
        start_and_pause urn:df:many
        fill_leaving $(( (MANY_FILES - STAGED) * 4096 + x ))
        resume_and_wait
        msg=$(cat "$T/ingest.err")
        echo "x=$x staged=$STAGED exit=$ING_RC: $msg"
        rm -f "$FS/ballast"
        if [ "$ING_RC" -eq 0 ]; then
            phases+="ok "
        else
            [ "$ING_RC" -eq 3 ]
            one_clear_line 3 "$T/ingest.err" "No space left on device|disk is full"
            failed=$((failed + 1))
        fi
        repository_sound
        if [ "$ING_RC" -eq 0 ] || [[ "$msg" == *"is stored, but"* ]]; then
            # The version was committed: after recover it is whole.
            [[ "$msg" != *"is stored, but"* ]] || phases+="stored-catalog-behind "
            stored=$((stored + 1))
            rm -rf "$T/many-out"
            "$VELLUM" get urn:df:many "$T/many-out"
            diff -r "$SRCS/many" "$T/many-out/data"
            [ "$(object_count)" -eq 2 ]
        else
            phases+="refused "
            absent urn:df:many
            [ "$(object_count)" -eq 1 ]
            space_back "$before"
        fi
    done
    echo "phases: $phases"
    # The sweep really did run out of space before the commit at least once.
    [ "$failed" -ge 2 ]
}
