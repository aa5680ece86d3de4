#!/usr/bin/env bats
# suite: plain (make check runs this file in the plain suite only)
# A PostgreSQL catalog (init --catalog postgresql://...): the same commands
# as with the embedded SQLite catalog, object locks as advisory locks, the
# event log in the database with several writers, and secrets kept secret.
# Needs VELLUM_TEST_PG, a libpq URI of a server where the user may create
# databases (tools/test-postgres start DIR writes one); each test gets a
# database of its own.

load helpers

setup() {
    if [ -z "${VELLUM_TEST_PG:-}" ]; then
        echo "VELLUM_TEST_PG is not set: start a server with tools/test-postgres start DIR and source DIR/env" >&2
        return 1
    fi
    PGDB="vellum_t_$$_${BATS_TEST_NUMBER}_$RANDOM"
    psql -X -q -v ON_ERROR_STOP=1 "$VELLUM_TEST_PG" -c "CREATE DATABASE $PGDB" ||
        return 1
    PGURL=$(pg_url "$PGDB")
    export PGDB PGURL
    setup_repo --catalog "$PGURL"
}

teardown() {
    [ -n "${PGDB:-}" ] && psql -X -q "$VELLUM_TEST_PG" \
        -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1
    return 0
}

# VELLUM_TEST_PG with its database replaced by $1.
pg_url() {
    printf '%s\n' "$VELLUM_TEST_PG" |
        sed -E 's|^(postgres(ql)?://[^/?]*)(/[^?]*)?|\1/'"$1"'|'
}

# Point vellum.conf at another catalog URL.
set_catalog() {
    grep -v '^catalog = ' "$REPO/vellum.conf" > "$REPO/vellum.conf.new"
    printf 'catalog = %s\n' "$1" >> "$REPO/vellum.conf.new"
    mv "$REPO/vellum.conf.new" "$REPO/vellum.conf"
}

q() { psql -X -q -t -A "$PGURL" -c "$1"; }

deposit_dir() {   # deposit_dir DIR TEXT: a folder of one file
    mkdir -p "$1"
    printf '%s\n' "$2" > "$1/file.txt"
}

@test "init --catalog: vellum.conf names the database, no catalog file; ingest, ls, show, audit, report, reindex" {
    grep -q "^catalog = $PGURL\$" "$REPO/vellum.conf"
    [ ! -e "$REPO/catalog.sqlite" ]
    [ "$(q "SELECT value FROM vellum_meta WHERE name = 'schema_version'")" = 2 ]
    deposit_dir "$BATS_TEST_TMPDIR/in" "hello"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/in" --id obj-1 --message first
    [ "$status" -eq 0 ]
    [ ! -e "$REPO/catalog.sqlite" ]
    [ "$(q "SELECT head FROM objects WHERE id = 'obj-1'")" = 1 ]
    run "$VELLUM" ls
    [ "$status" -eq 0 ]
    [[ "$output" == *"obj-1"*"v1"*"1 file"* ]]
    run "$VELLUM" show obj-1
    [ "$status" -eq 0 ]
    [[ "$output" == *"data/file.txt"* ]]
    [[ "$output" == *"first"* ]]
    run "$VELLUM" audit --all
    [ "$status" -eq 0 ]
    [[ "$output" == *"pass obj-1"* ]]
    run "$VELLUM" report
    [ "$status" -eq 0 ]
    [[ "$output" == *"<html"* ]]
    run "$VELLUM" reindex
    [ "$status" -eq 0 ]
    run "$VELLUM" ls
    [[ "$output" == *"obj-1"*"pass"* ]]
    run "$VELLUM" validate
    [ "$status" -eq 0 ]
}

# The catalog's own rows of one object, in key order.
catalog_rows() {
    q "SELECT 'o', id, path, head, digest_alg, created, updated, head_files, head_bytes
         FROM objects WHERE id = '$1'" &&
    q "SELECT 'v', num, created, message, user_name, user_address FROM versions
         WHERE object_id = '$1' ORDER BY num" &&
    q "SELECT 'c', content_path, digest, size FROM content
         WHERE object_id = '$1' ORDER BY content_path" &&
    q "SELECT 'f', version, logical_path, digest FROM files
         WHERE object_id = '$1' ORDER BY version, logical_path" &&
    q "SELECT 'x', content_path, algorithm, value FROM fixity
         WHERE object_id = '$1' ORDER BY 2, 3, 4"
}

@test "merge deposits add each version's rows; reindex writes the same; show gives the inventory's size" {
    for i in 1 2 3 4 5; do
        mkdir -p "$BATS_TEST_TMPDIR/g$i"
        printf 'file %s\n' "$i" > "$BATS_TEST_TMPDIR/g$i/f$i.txt"
        [ "$i" -ne 3 ] || printf 'replaced\n' > "$BATS_TEST_TMPDIR/g$i/f1.txt"
        run "$VELLUM" ingest "$BATS_TEST_TMPDIR/g$i" --id grow --merge --no-identify
        [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    done
    run "$VELLUM" audit grow
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    before_ls=$("$VELLUM" ls --json)
    before_show=$("$VELLUM" show grow --json)
    before_rows=$(catalog_rows grow)
    [ "$(echo "$before_rows" | grep -c '^v|')" = 5 ]
    run "$VELLUM" reindex
    [ "$status" -eq 0 ]
    [ "$("$VELLUM" ls --json)" = "$before_ls" ]
    [ "$("$VELLUM" show grow --json)" = "$before_show" ]
    [ "$(catalog_rows grow)" = "$before_rows" ]
    bytes=$(stat -c %s "$(object_dir grow)/inventory.json")
    [ "$(echo "$before_show" | jfield 'd["inventory_bytes"]')" = "$bytes" ]
    run "$VELLUM" validate grow --sizes   # W005 first: the id is no URI
    [[ "$output" == *$'\n'"size grow: inventory.json "*" ($bytes bytes)"$'\n'* ]]
}

@test "events verify and export: the database is the log; export verifies; a changed row or line is found" {
    deposit_dir "$BATS_TEST_TMPDIR/in" "hello"
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/in" --id obj-1
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
    [[ "$output" == *"intact"* ]]
    run "$VELLUM" events export "$BATS_TEST_TMPDIR/log.jsonl"
    [ "$status" -eq 0 ]
    n=$(q "SELECT count(*) FROM events")
    [ "$n" -gt 0 ]
    [ "$(wc -l < "$BATS_TEST_TMPDIR/log.jsonl")" -eq "$n" ]
    # the same lines on standard output
    run "$VELLUM" events export
    [ "$output" = "$(cat "$BATS_TEST_TMPDIR/log.jsonl")" ]
    run "$VELLUM" events verify --file "$BATS_TEST_TMPDIR/log.jsonl"
    [ "$status" -eq 0 ]
    # an exported line changed breaks the chain at the next line
    sed -i '1s/"seq":1/"seq":1 /' "$BATS_TEST_TMPDIR/log.jsonl"
    run "$VELLUM" events verify --file "$BATS_TEST_TMPDIR/log.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"line 1"* ]]
    # a row changed in the database
    q "UPDATE events SET line = replace(line, 'success', 'fail') WHERE seq = 1"
    run "$VELLUM" events verify
    [ "$status" -eq 1 ]
    [[ "$output" == *"event 1"* ]]
}

@test "a password in the catalog URL is refused (exit 2) and never echoed; nothing is made" {
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/r2" --catalog "postgresql://u:hunter2@localhost/x"
    [ "$status" -eq 2 ]
    [[ "$output" == *"PGPASSWORD"* ]]
    [[ "$output" != *hunter2* ]]
    [ ! -e "$BATS_TEST_TMPDIR/r2" ]
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/r2" --catalog "$PGURL&password=hunter2"
    [ "$status" -eq 2 ]
    [[ "$output" != *hunter2* ]]
    [ ! -e "$BATS_TEST_TMPDIR/r2" ]
}

@test "config shows the catalog URL; a password set in vellum.conf is masked everywhere" {
    run "$VELLUM" config
    [ "$status" -eq 0 ]
    [[ "$output" == *"catalog = $PGURL"* ]]
    run "$VELLUM" config catalog
    [ "$output" = "$PGURL" ]
    echo "catalog.password = hunter2" >> "$REPO/vellum.conf"
    run "$VELLUM" config
    [ "$status" -eq 0 ]
    [[ "$output" == *"catalog.password = ***"* ]]
    [[ "$output" != *hunter2* ]]
    run "$VELLUM" config catalog.password
    [ "$output" = "***" ]
    deposit_dir "$BATS_TEST_TMPDIR/in" "hello"
    run "$VELLUM" ingest "$BATS_TEST_TMPDIR/in" --id obj-1
    [ "$status" -eq 0 ]
    [[ "$output" != *hunter2* ]]
    # nowhere in the store, the event log or the catalog
    ! grep -rq hunter2 "$REPO/store" "$REPO/events"
    [ -z "$(q "SELECT seq FROM events WHERE line LIKE '%hunter2%'")" ]
    # nor in an error message: a database that is not there
    set_catalog "$(pg_url "${PGDB}_missing")"
    run "$VELLUM" ls
    [ "$status" -eq 3 ]
    [[ "$output" != *hunter2* ]]
    [[ "$output" == *"password=***"* ]]
}

@test "a database that does not exist: one line naming the catalog, exit 3" {
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/r2" --catalog "$(pg_url "${PGDB}_missing")"
    [ "$status" -eq 3 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"catalog postgresql:"*"${PGDB}_missing"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/r2" ]
    set_catalog "$(pg_url "${PGDB}_missing")"
    run "$VELLUM" ls
    [ "$status" -eq 3 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"${PGDB}_missing"*"does not exist"* ]]
}

@test "two processes depositing into one object at once: versions 1 and 2, nothing lost; other objects in parallel" {
    deposit_dir "$BATS_TEST_TMPDIR/a" "from a"
    deposit_dir "$BATS_TEST_TMPDIR/b" "from b"
    deposit_dir "$BATS_TEST_TMPDIR/c" "from c"
    deposit_dir "$BATS_TEST_TMPDIR/d" "from d"
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/a" --id same --message A > "$BATS_TEST_TMPDIR/oa" 2>&1 &
    pa=$!
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/b" --id same --message B > "$BATS_TEST_TMPDIR/ob" 2>&1 &
    pb=$!
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/c" --id other-c > "$BATS_TEST_TMPDIR/oc" 2>&1 &
    pc=$!
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/d" --id other-d > "$BATS_TEST_TMPDIR/od" 2>&1 &
    pd=$!
    wait $pa
    wait $pb
    wait $pc
    wait $pd
    [ "$(q "SELECT head FROM objects WHERE id = 'same'")" = 2 ]
    [ "$(q "SELECT string_agg(message, ',' ORDER BY message) FROM versions WHERE object_id = 'same'")" = "A,B" ]
    [ "$(q "SELECT count(*) FROM objects")" = 3 ]
    run "$VELLUM" show same
    [[ "$output" == *"v1 "* ]]
    [[ "$output" == *"v2 "* ]]
    run "$VELLUM" validate
    [ "$status" -eq 0 ]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
    # every deposit's ingestion event is in the one chain
    [ "$(q "SELECT count(*) FROM events WHERE type = 'ingestion'")" = 4 ]
}

@test "object locks are advisory locks in the database: one held elsewhere makes a deposit wait for it" {
    deposit_dir "$BATS_TEST_TMPDIR/a" "from a"
    key=$(printf '%s' held | sha256sum | cut -c1-16)
    # a session holding the object's lock until told to stop
    mkfifo "$BATS_TEST_TMPDIR/ctl"
    { psql -X -q "$PGURL" < "$BATS_TEST_TMPDIR/ctl" > "$BATS_TEST_TMPDIR/psql.out" 2>&1 & }
    exec 7> "$BATS_TEST_TMPDIR/ctl"
    echo "SELECT pg_advisory_lock(x'$key'::bigint); \\o $BATS_TEST_TMPDIR/locked" >&7
    echo "SELECT 1;" >&7
    until [ -s "$BATS_TEST_TMPDIR/locked" ]; do sleep 0.1; done
    # (not handing it psql's input, which must close when we close it)
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/a" --id held > "$BATS_TEST_TMPDIR/oa" 2>&1 7>&- &
    pa=$!
    # the deposit is waiting (it asks for the lock, over and over): it has
    # taken no version
    until [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE 'SELECT pg_try_advisory_lock%'")" -ge 1 ]; do sleep 0.1; done
    [ -z "$(q "SELECT head FROM objects WHERE id = 'held'")" ]
    exec 7>&-   # psql ends, and its session's lock with it
    wait $pa || { cat "$BATS_TEST_TMPDIR/oa"; false; }
    [ "$(q "SELECT head FROM objects WHERE id = 'held'")" = 1 ]
}

@test "one catalog per database: a second repository on a database in use is refused (exit 2), the first untouched" {
    deposit_dir "$BATS_TEST_TMPDIR/in" "hello"
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/in" --id obj-1
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/r2" --catalog "$PGURL"
    [ "$status" -eq 2 ]
    [[ "$output" == *"another repository's catalog"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/r2" ]
    run "$VELLUM" ls
    [[ "$output" == *"obj-1"* ]]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
}
