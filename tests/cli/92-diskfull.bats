#!/usr/bin/env bats
# Disk full: the repository lives on a 24 MiB tmpfs.  Deposits too big for
# the free space less the reserve (4 MiB here: 1% of 24 MiB is under the
# floor) are refused up front (or while an archive streams), and when the
# filesystem fills up during an ingest (a ballast file written while the
# ingest is paused mid-staging) the ingest fails with one clear line,
# nothing is half-visible, `vellum recover` leaves the repository valid, and
# the space is given back.  While the disk is full, or the filesystem
# read-only, the commands that read still work and write nothing.  Needs
# root (mount); skipped otherwise.

load helpers
load hooks
bats_require_minimum_version 1.5.0

MANY_FILES=1500        # 4 KiB each: one tmpfs page per file
FS_BYTES=25165824      # the tmpfs: 24 MiB
RESERVE=4194304        # the reserve's floor, 4 MiB (1% of 24 MiB is less)

setup_file() {
    # Sources live outside the small filesystem, shared read-only by tests.
    export SRCS="$BATS_FILE_TMPDIR/src"
    mkdir -p "$SRCS/small/sub" "$SRCS/big" "$SRCS/t30" "$SRCS/t4"
    printf 'kept safe\n' > "$SRCS/small/a.txt"
    head -c 200000 /dev/urandom > "$SRCS/small/sub/b.bin"
    head -c 40M /dev/urandom > "$SRCS/big/big.bin"
    head -c 12M /dev/urandom > "$SRCS/12m.bin"
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
    if [ -n "${HOLDER:-}" ]; then
        rm -f "$T/held"
        wait "$HOLDER" 2>/dev/null || true
    fi
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
    grep -Eiq "$pattern" "$errfile" ||
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

# num_after FILE BEFORE AFTER: the first number standing between the words
# BEFORE and AFTER in FILE ("has 123 bytes" -> num_after f 'has ' ' bytes').
num_after() {
    grep -o "$2[0-9]*$3" "$1" | head -1 | tr -cd '0-9'
}

# A listing of everything in the repository (names, sizes, modes, times)
# and a digest of every file: equal before and after means nothing written.
repo_state() {
    (cd "$REPO" && find . -printf '%p %s %m %T@\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

# The commands that only read, each of which must succeed with nothing on
# stderr (the read-only tests run them on a full and a read-only disk).
# get, which writes its copy elsewhere, is checked by get_works.
readers_work() {
    local out="$T/reader-out"
    for cmd in "ls" "ls --json" "show urn:df:small" "show urn:df:small --json" \
               "validate --all" "validate urn:df:small" "audit --status" \
               "events" "events verify" "report --format json" "config" \
               "config digest"; do
        # shellcheck disable=SC2086
        "$VELLUM" $cmd > "$out" 2> "$T/reader-err" ||
            { echo "vellum $cmd failed: $(cat "$T/reader-err")"; return 1; }
        [ ! -s "$T/reader-err" ] ||
            { echo "vellum $cmd said: $(cat "$T/reader-err")"; return 1; }
    done
    "$VELLUM" ls | grep -q '^urn:df:small' || { echo "ls lost urn:df:small"; return 1; }
}

# get copies an object out of the repository (to a roomy filesystem); it
# registers its temporary for recover where it can, and leaves no record.
get_works() {
    rm -rf "$T/get-out"
    "$VELLUM" get urn:df:small "$T/get-out" > /dev/null 2> "$T/reader-err" ||
        { echo "get failed: $(cat "$T/reader-err")"; return 1; }
    [ ! -s "$T/reader-err" ] || { echo "get said: $(cat "$T/reader-err")"; return 1; }
    diff -r "$SRCS/small" "$T/get-out/data"
    [ -z "$(ls -A "$REPO/staging/.outside" 2>/dev/null)" ]
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
    # Four 5 MiB entries (20 MiB; about 19.4 MB fit above the reserve): the
    # first ones are staged, then the deposit is refused.
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
    one_clear_line 3 "$T/ingest.err" "^vellum: no space left on device in $REPO/staging: the deposit needs"
    # What it needs, what is free, the reserve, and how much more is needed:
    # the deposit's 1500 x 4096 bytes plus the reserve, less the free space.
    grep -q "needs $((MANY_FILES * 4096)) bytes (5.9 MiB) and the reserve, " "$T/ingest.err"
    grep -q "keeps a reserve of $RESERVE bytes (4.0 MiB)" "$T/ingest.err"
    grep -q "change it with 'vellum config ingest.reserve SIZE|PERCENT'" "$T/ingest.err"
    grep -q "; nothing was stored$" "$T/ingest.err"
    free=$(num_after "$T/ingest.err" 'has ' ' bytes')
    more=$(num_after "$T/ingest.err" 'reserve, ' ' bytes')
    echo "free $free, more $more, avail now $(avail)"
    [ "$more" -eq $((MANY_FILES * 4096 + RESERVE - free)) ]
    [ "$free" -le "$(avail)" ] && [ $(( $(avail) - free )) -le 1048576 ]
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

# A big file is copied by the kernel (copy_file_range); when the disk fills
# part way through it, the rest goes through write, which names the cause:
# the same one clear line as for small files, and nothing is left.  Then
# the same with the kernel copy turned off.
@test "the filesystem fills up while the kernel copies a big file: one clear error, nothing left" {
    mkdir -p "$T/bigsrc"
    cp "$SRCS/12m.bin" "$T/bigsrc/"
    for off in 0 1; do
        before=$(avail)
        hooks_env
        env "${HOOKS_ENV[@]}" VELLUM_NO_COPY_FILE_RANGE=$off \
            VELLUM_HOOK_AT="stop:open:1:$REPO/staging/*/content/data/*" \
            "$VELLUM" ingest "$T/bigsrc" --id urn:df:bigk --quiet > "$T/ingest.out" 2> "$T/ingest.err" &
        INGEST_PID=$!
        wait_stopped "$INGEST_PID" || { cat "$T/ingest.err"; return 1; }
        # Room for part of the 12 MiB: the copy fails part way through.
        fill_leaving $((9 << 20))
        resume_and_wait
        echo "kernel copy off=$off: ingest exit $ING_RC: $(cat "$T/ingest.err")"
        [ "$ING_RC" -eq 3 ]
        one_clear_line 3 "$T/ingest.err" "^vellum: no space left on device in $REPO/staging: the deposit needs"
        grep -q "needs 12582912 bytes (12.0 MiB) and the reserve, " "$T/ingest.err"
        grep -q "; nothing was stored$" "$T/ingest.err"
        [ ! -s "$T/ingest.out" ]
        absent urn:df:bigk
        rm -f "$FS/ballast"
        repository_sound
        absent urn:df:bigk
        space_back "$before"
    done
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
            one_clear_line 3 "$T/ingest.err" "no space left on device"
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

# The reserve is a fraction of the filesystem (1%) with a floor of 4 MiB,
# and the setting ingest.reserve changes it.  With about 15 MB free (as in
# the report) small deposits go in, and a refusal says what the deposit
# needs, the free space, the reserve and the setting.
@test "with 15 MB free the reserve is 4 MiB; a refusal names need, free space, reserve and setting" {
    fill_leaving 15728640
    run "$VELLUM" ingest "$SRCS/small" --id urn:df:fits --quiet
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    before=$(avail)
    run --separate-stderr "$VELLUM" ingest "$SRCS/12m.bin" --id urn:df:12m
    echo "$stderr" > "$T/err"
    echo "exit $status: $stderr"
    [ "$status" -eq 2 ]
    one_clear_line 2 "$T/err" "^vellum: refusing the deposit: it needs 12582912 bytes \(12\.0 MiB\); staging has [0-9]+ bytes \([0-9.]+ MiB\) of free space and keeps a reserve of $RESERVE bytes \(4\.0 MiB\), which leaves [0-9]+ bytes \([0-9.]+ MiB\); the reserve is ingest\.reserve \(1% of the 24\.0 MiB filesystem by default, at least 4\.0 MiB\): change it with 'vellum config ingest\.reserve SIZE\|PERCENT'$"
    free=$(num_after "$T/err" 'has ' ' bytes')
    left=$(num_after "$T/err" 'leaves ' ' bytes')
    [ "$left" -eq $((free - RESERVE)) ]
    # The free space is what df says, less the catalog's index files that
    # the ingest itself opened.
    [ "$free" -le "$before" ] && [ $((before - free)) -le 262144 ]
    absent urn:df:12m
    staging_clean

    # A size.
    "$VELLUM" config ingest.reserve 8M
    [ "$("$VELLUM" config ingest.reserve)" = 8M ]
    run --separate-stderr "$VELLUM" ingest "$SRCS/12m.bin" --id urn:df:12m
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"keeps a reserve of 8388608 bytes (8.0 MiB), which leaves"* ]]
    [[ "$stderr" == *"the reserve is ingest.reserve (set to 8M, at least 4.0 MiB)"* ]]
    # A percentage of the filesystem: half of 24 MiB.
    "$VELLUM" config ingest.reserve 50%
    run --separate-stderr "$VELLUM" ingest "$SRCS/12m.bin" --id urn:df:12m
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"keeps a reserve of $((FS_BYTES / 2)) bytes (12.0 MiB)"* ]]
    [[ "$stderr" == *"(set to 50%, at least 4.0 MiB)"* ]]
    # Never under the floor.
    "$VELLUM" config ingest.reserve 0
    run --separate-stderr "$VELLUM" ingest "$SRCS/12m.bin" --id urn:df:12m
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"keeps a reserve of $RESERVE bytes (4.0 MiB)"* ]]
    # --max-bytes can only lower the limit, and says so.
    run --separate-stderr "$VELLUM" ingest "$SRCS/small" --id urn:df:cap --max-bytes 1000
    [ "$status" -eq 2 ]
    [[ "$stderr" == "vellum: refusing the deposit: it needs 200010 bytes (195.3 KiB); over --max-bytes 1000 (1000 B)" ]]
    # Values that are neither are refused, and nothing is set.
    for bad in lots 5%% 101% -1% 1.5.0% "%" 12Q; do
        run "$VELLUM" config ingest.reserve "$bad"
        [ "$status" -eq 2 ] || { echo "config ingest.reserve $bad: $status"; return 1; }
    done
    [ "$("$VELLUM" config ingest.reserve)" = 0 ]
    absent urn:df:12m
    absent urn:df:cap
    rm -f "$FS/ballast"
    repository_sound
}

@test "while the disk is full, the commands that read work and write nothing" {
    fill_leaving 0
    [ "$(avail)" -lt 65536 ]
    repo_state > "$T/state-before"
    readers_work
    repo_state > "$T/state-after"
    diff "$T/state-before" "$T/state-after"
    [ ! -e "$REPO/catalog.sqlite-wal" ] && [ ! -e "$REPO/catalog.sqlite-shm" ]
    get_works
    # A deposit now: refused with the path, the reserve and what is missing.
    run --separate-stderr "$VELLUM" ingest "$SRCS/small" --id urn:df:none
    echo "exit $status: $stderr"
    [ "$status" -eq 3 ]
    echo "$stderr" > "$T/err"
    one_clear_line 3 "$T/err" "^vellum: no space left on device in $REPO/staging: writing needs the reserve, [0-9]+ bytes \([0-9.]+ [KMi]*B\) more than are free: staging has [0-9]+ bytes"
    free=$(num_after "$T/err" 'has ' ' bytes')
    more=$(num_after "$T/err" 'reserve, ' ' bytes')
    [ "$more" -eq $((RESERVE - free)) ]
    # The refused writer may leave SQLite's empty index files behind; the
    # readers still work with them there.
    readers_work
    rm -f "$FS/ballast"
    absent urn:df:none
    repository_sound
}

@test "while the disk is full and another process has the catalog open, the readers work" {
    # A live connection (as a running deposit has) keeps the WAL index.
    python3 - "$REPO/catalog.sqlite" "$T/held" <<'PY' &
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("select count(*) from objects").fetchall()
open(sys.argv[2], "w").close()
# until the test (or its teardown) removes the file; at most ten minutes
for _ in range(12000):
    if not os.path.exists(sys.argv[2]):
        break
    time.sleep(0.05)
db.close()
PY
    HOLDER=$!
    while [ ! -e "$T/held" ]; do kill -0 "$HOLDER" || return 1; sleep 0.05; done
    [ -e "$REPO/catalog.sqlite-shm" ]
    fill_leaving 0
    readers_work
    get_works
    rm -f "$T/held"
    wait "$HOLDER"
    HOLDER=
    rm -f "$FS/ballast"
    repository_sound
}

@test "on a read-only filesystem, the commands that read work" {
    mount -o remount,ro "$FS"
    readers_work
    get_works
    run "$VELLUM" ingest "$SRCS/small" --id urn:df:ro
    [ "$status" -eq 3 ]
    mount -o remount,rw "$FS"
    absent urn:df:ro
    repository_sound
}
