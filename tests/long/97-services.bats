#!/usr/bin/env bats
# The throw-away servers other tests use: tools/test-ceph (radosgw S3 on a
# one-node Ceph) and tools/test-postgres.  Both are started once for the
# file; the tests check that what their env files say works, that radosgw
# really checks signatures, and that stop leaves nothing running.

TOOLS="${VELLUM_TESTS:-$BATS_TEST_DIRNAME/..}/../tools"
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

setup_file() {
    export CEPH_DIR="$BATS_FILE_TMPDIR/ceph" PG_DIR="$BATS_FILE_TMPDIR/pg"
    if ! "$TOOLS/test-ceph" start "$CEPH_DIR"; then
        "$TOOLS/test-ceph" stop "$CEPH_DIR"
        echo "tools/test-ceph start failed" >&2; return 1
    fi
    if ! "$TOOLS/test-postgres" start "$PG_DIR"; then
        "$TOOLS/test-ceph" stop "$CEPH_DIR"; "$TOOLS/test-postgres" stop "$PG_DIR"
        echo "tools/test-postgres start failed" >&2; return 1
    fi
}

# Also after a failed test: no daemon may outlive the file.
teardown_file() {
    "$TOOLS/test-ceph" stop "$CEPH_DIR" --rm
    "$TOOLS/test-postgres" stop "$PG_DIR" --rm
}

# Pids of the running daemons, from their pid files.
ceph_pids() { cat "$CEPH_DIR"/run/*.pid; }
pg_pid() { head -n 1 "$PG_DIR/data/postmaster.pid"; }

# Is PID still the daemon named COMM (and not a reused pid)?
alive_as() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }
# PID is none of the daemons (a function, so that a live one fails the test).
gone() {
    ! alive_as "$1" ceph-mon && ! alive_as "$1" ceph-osd &&
        ! alive_as "$1" radosgw && ! alive_as "$1" postgres
}

# HTTP status of a SigV4-signed GET of the bucket list with SECRET.
# (curl 7.88 does not send x-amz-content-sha256 itself; radosgw needs it.)
signed_get() {
    ( . "$CEPH_DIR/env"
      curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
          --user "$AWS_ACCESS_KEY_ID:$1" -H "x-amz-content-sha256: $EMPTY_SHA256" \
          "$AWS_ENDPOINT_URL/" )
}

@test "the env files name the servers, and they and s3cfg are private" {
    run cat "$CEPH_DIR/env"
    [ "${#lines[@]}" -eq 4 ]
    [[ "${lines[0]}" =~ ^export\ AWS_ENDPOINT_URL=http://127\.0\.0\.1:[0-9]+$ ]]
    [[ "${lines[1]}" =~ ^export\ AWS_ACCESS_KEY_ID=[A-Z0-9]{20}$ ]]
    [[ "${lines[2]}" =~ ^export\ AWS_SECRET_ACCESS_KEY=[A-Za-z0-9]{40}$ ]]
    [ "${lines[3]}" = "export AWS_REGION=us-east-1" ]
    run cat "$PG_DIR/env"
    [[ "${lines[0]}" =~ ^export\ VELLUM_TEST_PG=\'postgresql:///vellum\?host=/.+/sock\&user=vellum\'$ ]]
    [[ "${lines[1]}" =~ ^export\ PGHOST=/.+/sock$ ]]
    [ "${lines[2]}" = "export PGUSER=vellum" ]
    [ "${lines[3]}" = "export PGDATABASE=vellum" ]
    [ "$(stat -c %a "$CEPH_DIR/env" "$CEPH_DIR/s3cfg" "$PG_DIR/env")" = "$(printf '600\n600\n600')" ]
}

@test "status says both answer" {
    "$TOOLS/test-ceph" status "$CEPH_DIR"
    "$TOOLS/test-postgres" status "$PG_DIR"
}

@test "s3cmd puts and gets an object back byte for byte" {
    head -c 1234567 /dev/urandom > "$BATS_TEST_TMPDIR/in"
    s3cmd -c "$CEPH_DIR/s3cfg" mb s3://roundtrip
    s3cmd -c "$CEPH_DIR/s3cfg" put "$BATS_TEST_TMPDIR/in" s3://roundtrip/a/b.bin
    s3cmd -c "$CEPH_DIR/s3cfg" get s3://roundtrip/a/b.bin "$BATS_TEST_TMPDIR/out"
    cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
    run s3cmd -c "$CEPH_DIR/s3cfg" ls s3://roundtrip/a/
    [[ "$output" == *" 1234567 "*"s3://roundtrip/a/b.bin"* ]]
}

@test "the keys in env are accepted and a wrong secret is refused with 403" {
    secret=$(. "$CEPH_DIR/env" && echo "$AWS_SECRET_ACCESS_KEY")
    [ "$(signed_get "$secret")" = 200 ]
    [ "$(signed_get "${secret%?}x")" = 403 ]
    sed 's/^secret_key = .*/secret_key = wrongwrongwrongwrongwrongwrongwrongwrong/' \
        "$CEPH_DIR/s3cfg" > "$BATS_TEST_TMPDIR/bad.s3cfg"
    run s3cmd -c "$BATS_TEST_TMPDIR/bad.s3cfg" ls
    [ "$status" -ne 0 ]
    [[ "$output" == *"403"*"SignatureDoesNotMatch"* ]]
}

@test "psql connects with VELLUM_TEST_PG over the unix socket only" {
    . "$PG_DIR/env"
    run psql -X -At "$VELLUM_TEST_PG" -c 'select current_database(), current_user, inet_server_addr() is null'
    [ "$status" -eq 0 ]
    [ "$output" = "vellum|vellum|t" ]
    run psql -X -At "$VELLUM_TEST_PG" -c 'show listen_addresses'
    [ "$output" = "" ]
    run psql -X -q -At -c 'create table t (x int); insert into t values (41), (1); select sum(x) from t'
    [ "$output" = 42 ]
}

@test "stop leaves no daemon of theirs running, and is safe twice" {
    cpids=$(ceph_pids)
    [ "$(echo "$cpids" | wc -w)" -eq 3 ]
    for p in $cpids; do
        run cat "/proc/$p/comm"
        [[ "$output" =~ ^(ceph-mon|ceph-osd|radosgw)$ ]]
    done
    ppid=$(pg_pid)
    pgroot=$(cat "$PG_DIR/root" 2>/dev/null || echo "$PG_DIR")   # see test-postgres
    alive_as "$ppid" postgres
    # the postmaster's children (checkpointer, walwriter...) must go too
    kids=$(ps -o pid= --ppid "$ppid")
    [ -n "$kids" ]

    "$TOOLS/test-ceph" stop "$CEPH_DIR"
    "$TOOLS/test-postgres" stop "$PG_DIR"
    for p in $cpids $ppid $kids; do gone "$p"; done
    run "$TOOLS/test-ceph" status "$CEPH_DIR"
    [ "$status" -ne 0 ]
    run "$TOOLS/test-postgres" status "$PG_DIR"
    [ "$status" -ne 0 ]

    "$TOOLS/test-ceph" stop "$CEPH_DIR"
    "$TOOLS/test-postgres" stop "$PG_DIR"
    "$TOOLS/test-ceph" stop "$CEPH_DIR" --rm
    "$TOOLS/test-postgres" stop "$PG_DIR" --rm
    [ ! -e "$CEPH_DIR" ]
    [ ! -e "$PG_DIR" ]
    [ ! -e "$pgroot" ]
}
