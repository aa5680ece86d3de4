#!/usr/bin/env bats
# suite: plain (make check runs this file in the plain suite only)
# The distributed setup: the storage root in S3 (Ceph radosgw) and the
# catalog in PostgreSQL, with two workers, each with a repository folder of
# its own (as on two machines: its own staging, its own lock files), made
# with init --join.  Needs both test servers (tests/run starts them).

load helpers

setup_file() {
    [ -n "${AWS_ENDPOINT_URL:-}" ] && [ -n "${VELLUM_TEST_S3CFG:-}" ] &&
        [ -n "${VELLUM_TEST_PG:-}" ] || {
        echo "needs the S3 and PostgreSQL test servers: run through tests/run" >&2
        return 1
    }
}

s3() { s3cmd -c "$VELLUM_TEST_S3CFG" "$@"; }

pg_url() {
    printf '%s\n' "$VELLUM_TEST_PG" |
        sed -E 's|^(postgres(ql)?://[^/?]*)(/[^?]*)?|\1/'"$1"'|'
}

setup() {
    BUCKET="vd-$$-$RANDOM$RANDOM"
    s3 mb "s3://$BUCKET" >/dev/null
    PGDB="vellum_d_$$_${BATS_TEST_NUMBER}_$RANDOM"
    psql -X -q -v ON_ERROR_STOP=1 "$VELLUM_TEST_PG" -c "CREATE DATABASE $PGDB" >/dev/null
    PGURL=$(pg_url "$PGDB")
    W1="$BATS_TEST_TMPDIR/worker1"
    W2="$BATS_TEST_TMPDIR/worker2"
    run "$VELLUM" init --repo "$W1" --store "s3://$BUCKET/ocfl" --catalog "$PGURL" \
        --user-name W1 --user-address mailto:w1@example.org
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run "$VELLUM" init --repo "$W2" --store "s3://$BUCKET/ocfl" --catalog "$PGURL" --join \
        --user-name W2 --user-address mailto:w2@example.org
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
}

teardown() {
    s3 rb --recursive --force "s3://$BUCKET" >/dev/null 2>&1 || true
    psql -X -q "$VELLUM_TEST_PG" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" \
        >/dev/null 2>&1
    return 0
}

q() { psql -X -q -t -A "$PGURL" -c "$1"; }

deposit_dir() {   # deposit_dir DIR TEXT N: a folder of N files
    mkdir -p "$1"
    for i in $(seq 1 "${3:-3}"); do printf '%s %s\n' "$2" "$i" > "$1/file$i.txt"; done
    head -c 200000 /dev/urandom > "$1/blob.bin"
}

@test "four deposits at once from two workers, two into the same object: nothing lost, valid, one event chain" {
    for d in a b c d; do deposit_dir "$BATS_TEST_TMPDIR/$d" "from $d" 5; done
    "$VELLUM" ingest --repo "$W1" "$BATS_TEST_TMPDIR/a" --id shared --message A > "$BATS_TEST_TMPDIR/oa" 2>&1 &
    pa=$!
    "$VELLUM" ingest --repo "$W2" "$BATS_TEST_TMPDIR/b" --id shared --message B > "$BATS_TEST_TMPDIR/ob" 2>&1 &
    pb=$!
    "$VELLUM" ingest --repo "$W1" "$BATS_TEST_TMPDIR/c" --id only-c > "$BATS_TEST_TMPDIR/oc" 2>&1 &
    pc=$!
    "$VELLUM" ingest --repo "$W2" "$BATS_TEST_TMPDIR/d" --id only-d > "$BATS_TEST_TMPDIR/od" 2>&1 &
    pd=$!
    for p in $pa $pb $pc $pd; do
        wait "$p" || { cat "$BATS_TEST_TMPDIR"/o?; false; }
    done
    # the two deposits into one object became versions 1 and 2, in some order
    [ "$(q "SELECT head FROM objects WHERE id = 'shared'")" = 2 ]
    [ "$(q "SELECT string_agg(message, ',' ORDER BY message) FROM versions WHERE object_id = 'shared'")" = "A,B" ]
    [ "$(q "SELECT count(*) FROM objects")" = 3 ]
    # both workers see all of it, and the store itself is a valid OCFL root
    for w in "$W1" "$W2"; do
        run "$VELLUM" validate --all --repo "$w"
        [ "$status" -eq 0 ] || { echo "$output"; false; }
        run "$VELLUM" ls --repo "$w"
        [[ "$output" == *only-c* && "$output" == *only-d* && "$output" == *shared* ]]
    done
    run "$VELLUM" validate --path "s3://$BUCKET/ocfl"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [[ "$output" == *"validated 3 objects"* ]]
    # the head of the shared object is the later deposit, byte for byte
    last=$(q "SELECT message FROM versions WHERE object_id = 'shared' AND num = 2")
    run "$VELLUM" get shared "$BATS_TEST_TMPDIR/out" --repo "$W2"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    diff -r "$BATS_TEST_TMPDIR/$(echo "$last" | tr AB ab)" "$BATS_TEST_TMPDIR/out/data"
    # one hash chain holds every deposit's events, whoever wrote them
    [ "$(q "SELECT count(*) FROM events WHERE type = 'ingestion'")" = 4 ]
    run "$VELLUM" events verify --repo "$W1"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" events export "$BATS_TEST_TMPDIR/events.jsonl" --repo "$W2"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" events verify --file "$BATS_TEST_TMPDIR/events.jsonl" --repo "$W1"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # audits from either worker pass
    run "$VELLUM" audit --all --repo "$W2"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" report --repo "$W1"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # no secret anywhere: not in the database, the folders or what was printed
    pg_dump "$PGURL" > "$BATS_TEST_TMPDIR/dump.sql"
    [ -s "$BATS_TEST_TMPDIR/dump.sql" ]
    ! grep -q -- "$AWS_SECRET_ACCESS_KEY" "$BATS_TEST_TMPDIR/dump.sql"
    ! grep -rq -- "$AWS_SECRET_ACCESS_KEY" "$W1" "$W2" "$BATS_TEST_TMPDIR"/o? "$BATS_TEST_TMPDIR/events.jsonl"
    # nor in the bucket's METS files
    mkdir "$BATS_TEST_TMPDIR/bucket"
    s3 sync "s3://$BUCKET/ocfl/" "$BATS_TEST_TMPDIR/bucket/" >/dev/null
    [ -n "$(find "$BATS_TEST_TMPDIR/bucket" -name METS.xml)" ]
    ! grep -rq -- "$AWS_SECRET_ACCESS_KEY" "$BATS_TEST_TMPDIR/bucket"
}

@test "a worker killed mid-upload: the other takes the object over at once; recover on the first records nothing of its own" {
    deposit_dir "$BATS_TEST_TMPDIR/a" "one" 4
    deposit_dir "$BATS_TEST_TMPDIR/b" "two" 4
    deposit_dir "$BATS_TEST_TMPDIR/c" "three" 4
    "$VELLUM" ingest --repo "$W1" "$BATS_TEST_TMPDIR/a" --id obj >/dev/null
    # worker 1 dies after two writes of its next version reached the bucket
    VELLUM_S3_KILL_AT=3 run "$VELLUM" ingest --repo "$W1" "$BATS_TEST_TMPDIR/b" --id obj --message W1
    [ "$status" -eq 137 ]
    # its lock died with it: worker 2 deposits into the object at once, the
    # dead upload's keys cleared away first
    run "$VELLUM" ingest --repo "$W2" "$BATS_TEST_TMPDIR/c" --id obj --message W2
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [ "$(q "SELECT head FROM objects WHERE id = 'obj'")" = 2 ]
    run "$VELLUM" validate --path "s3://$BUCKET/ocfl"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # worker 1's recover finds version 2 is not its own: nothing recorded
    run "$VELLUM" recover --repo "$W1"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [ "$(q "SELECT message FROM versions WHERE object_id = 'obj' AND num = 2")" = W2 ]
    [ "$(q "SELECT count(*) FROM events WHERE type = 'ingestion'")" = 2 ]
    run "$VELLUM" get obj "$BATS_TEST_TMPDIR/out" --repo "$W1"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    diff -r "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/out/data"
    run "$VELLUM" validate --all --repo "$W1"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" events verify --repo "$W2"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "a worker killed at every write in turn: the other worker goes on, or is told to wait for the first's recover" {
    deposit_dir "$BATS_TEST_TMPDIR/a" "one" 3
    "$VELLUM" ingest --repo "$W1" "$BATS_TEST_TMPDIR/a" --id obj >/dev/null
    n=1 told=0
    while :; do
        deposit_dir "$BATS_TEST_TMPDIR/w1-$n" "w1 $n" 3
        deposit_dir "$BATS_TEST_TMPDIR/w2-$n" "w2 $n" 3
        VELLUM_S3_KILL_AT=$n run "$VELLUM" ingest --repo "$W1" "$BATS_TEST_TMPDIR/w1-$n" --id obj
        [ "$status" -eq 0 ] && break
        [ "$status" -eq 137 ] || { echo "step $n: $output"; false; }
        run "$VELLUM" ingest --repo "$W2" "$BATS_TEST_TMPDIR/w2-$n" --id obj
        if [ "$status" -ne 0 ]; then
            # the dead worker's version is whole but not committed: only
            # its own recover may finish it, and the message says so
            [ "$status" -eq 3 ] || { echo "step $n: $output"; false; }
            [[ "$output" == *"run 'vellum recover' in the repository folder that made it"* ]]
            told=$((told + 1))
        fi
        run "$VELLUM" recover --repo "$W1"
        [ "$status" -eq 0 ] || { echo "step $n: $output"; false; }
        run "$VELLUM" validate --path "s3://$BUCKET/ocfl"
        [ "$status" -eq 0 ] || { echo "step $n: $output"; false; }
        run "$VELLUM" ingest --repo "$W2" "$BATS_TEST_TMPDIR/w2-$n" --id obj
        [ "$status" -eq 0 ] || { echo "step $n: after recover: $output"; false; }
        n=$((n + 1))
        [ "$n" -lt 40 ] || { echo "never finished"; false; }
    done
    [ "$n" -gt 3 ]
    [ "$told" -gt 0 ]
    run "$VELLUM" validate --all --repo "$W2"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" events verify --repo "$W1"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # one ingestion event per version in the store, none for a dead deposit
    [ "$(q "SELECT count(*) FROM events WHERE type = 'ingestion'")" = "$(q "SELECT head FROM objects WHERE id = 'obj'")" ]
}
