#!/usr/bin/env bats
# suite: sanitized (make check runs this file in the ASan+UBSan suite only)
# The storage root in an S3 bucket (a throw-away Ceph radosgw that tests/run
# starts with tools/test-ceph; its endpoint and keys come in AWS_*, and an
# s3cmd configuration in VELLUM_TEST_S3CFG).

load helpers

setup_file() {
    [ -n "${AWS_ENDPOINT_URL:-}" ] && [ -n "${VELLUM_TEST_S3CFG:-}" ] || {
        echo "no S3 test server: run through tests/run, which starts one" >&2
        return 1
    }
}

s3() { s3cmd -c "$VELLUM_TEST_S3CFG" "$@"; }

setup() {
    BUCKET="vt-$(printf '%s' "$BATS_TEST_NAME" | sha256sum | cut -c1-10)-$$-$RANDOM"
    s3 mb "s3://$BUCKET" >/dev/null
    export REPO="$BATS_TEST_TMPDIR/repo" VELLUM_REPO="$BATS_TEST_TMPDIR/repo"
    mkdir -p "$BATS_TEST_TMPDIR/dep/sub"
    printf 'hello\n' > "$BATS_TEST_TMPDIR/dep/a.txt"
    printf 'world\n' > "$BATS_TEST_TMPDIR/dep/sub/b.txt"
    head -c 300000 /dev/urandom > "$BATS_TEST_TMPDIR/dep/sub/big.bin"
}

teardown() {
    s3 rb --recursive --force "s3://$BUCKET" >/dev/null 2>&1 || true
}

s3_init() {
    run "$VELLUM" init --repo "$REPO" --store "s3://$BUCKET/root" \
        --user-name "Test Depositor" --user-address mailto:d@example.org "$@"
    [ "$status" -eq 0 ] || { echo "init failed: $output"; return 1; }
}

# Key of an object's root in the bucket (0004 layout).
object_key() {
    local h
    h=$(printf '%s' "$1" | sha256sum | cut -c1-64)
    echo "root/${h:0:3}/${h:3:3}/${h:6:3}/$h"
}

@test "init --store: the storage root is in the bucket; vellum.conf names it without a secret" {
    s3_init
    [[ "$output" == *"storage root: s3://$BUCKET/root"* ]]
    run s3 ls -r "s3://$BUCKET"
    [[ "$output" == *"root/0=ocfl_1.1"* ]]
    [[ "$output" == *"root/ocfl_layout.json"* ]]
    [[ "$output" == *"root/extensions/0004-hashed-n-tuple-storage-layout/config.json"* ]]
    [ ! -e "$REPO/store" ]
    grep -qx "store = s3://$BUCKET/root" "$REPO/vellum.conf"
    grep -qx "s3.endpoint = $AWS_ENDPOINT_URL" "$REPO/vellum.conf"
    ! grep -rq -- "$AWS_SECRET_ACCESS_KEY" "$REPO"
    ! grep -q -- "$AWS_ACCESS_KEY_ID" "$REPO/vellum.conf"
}

@test "ingest, ls, show, get on S3: byte-exact, keys are the OCFL paths" {
    s3_init
    run "$VELLUM" ingest --id obj1 "$BATS_TEST_TMPDIR/dep"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    key=$(object_key obj1)
    run s3 ls -r "s3://$BUCKET/$key/"
    [[ "$output" == *"$key/0=ocfl_object_1.1"* ]]
    [[ "$output" == *"$key/inventory.json"* ]]
    [[ "$output" == *"$key/v1/inventory.json.sha512"* ]]
    [[ "$output" == *"$key/v1/content/data/a.txt"* ]]
    [[ "$output" == *"$key/v1/content/data/sub/big.bin"* ]]
    run "$VELLUM" ls
    [ "$status" -eq 0 ]
    [[ "$output" == *obj1* ]]
    run "$VELLUM" show obj1
    [ "$status" -eq 0 ]
    [[ "$output" == *"sub/b.txt"* ]]
    run "$VELLUM" get obj1 "$BATS_TEST_TMPDIR/out"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    cmp "$BATS_TEST_TMPDIR/dep/a.txt" "$BATS_TEST_TMPDIR/out/data/a.txt"
    cmp "$BATS_TEST_TMPDIR/dep/sub/big.bin" "$BATS_TEST_TMPDIR/out/data/sub/big.bin"
    # staging is local and left clean
    staging_clean
}

@test "validate on S3: the repository, validate --path s3://..., and a downloaded copy" {
    s3_init
    "$VELLUM" ingest --id obj1 "$BATS_TEST_TMPDIR/dep" >/dev/null
    printf 'v2\n' > "$BATS_TEST_TMPDIR/dep/a.txt"
    "$VELLUM" ingest --id obj1 --merge "$BATS_TEST_TMPDIR/dep" >/dev/null
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" validate --path "s3://$BUCKET/root"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [[ "$output" == *valid* ]]
    # one object's root, as a path in the bucket
    run "$VELLUM" validate --path "s3://$BUCKET/$(object_key obj1)"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # the bucket, copied to a folder as it is, is an OCFL storage root
    mkdir "$BATS_TEST_TMPDIR/copy"
    s3 sync "s3://$BUCKET/root/" "$BATS_TEST_TMPDIR/copy/" >/dev/null
    run "$VELLUM" validate --path "$BATS_TEST_TMPDIR/copy"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # a damaged inventory in the bucket is found
    key=$(object_key obj1)
    printf '{}' > "$BATS_TEST_TMPDIR/bad.json"
    s3 put "$BATS_TEST_TMPDIR/bad.json" "s3://$BUCKET/$key/v1/inventory.json" >/dev/null
    run "$VELLUM" validate --path "s3://$BUCKET/root"
    [ "$status" -eq 1 ]
}

@test "audit on S3 finds a changed file in the bucket, exit 1, naming it" {
    s3_init
    "$VELLUM" ingest --id obj1 "$BATS_TEST_TMPDIR/dep" >/dev/null
    run "$VELLUM" audit --all
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    key=$(object_key obj1)
    printf 'HELLO\n' > "$BATS_TEST_TMPDIR/rot.txt"
    s3 put "$BATS_TEST_TMPDIR/rot.txt" "s3://$BUCKET/$key/v1/content/data/a.txt" >/dev/null
    run "$VELLUM" audit --all
    [ "$status" -eq 1 ]
    [[ "$output" == *"a.txt"* ]]
    run "$VELLUM" events --type fixity --outcome fail
    [[ "$output" == *fail* ]]
}

@test "export from S3 (bagit, ocfl), events verify, report, reindex, recover" {
    s3_init
    "$VELLUM" ingest --id obj1 "$BATS_TEST_TMPDIR/dep" >/dev/null
    run "$VELLUM" export obj1 "$BATS_TEST_TMPDIR/bag" --format bagit
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    cmp "$BATS_TEST_TMPDIR/dep/sub/big.bin" "$BATS_TEST_TMPDIR/bag/data/sub/big.bin"
    run "$VELLUM" bag validate "$BATS_TEST_TMPDIR/bag"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" export obj1 "$BATS_TEST_TMPDIR/ocfl" --format ocfl
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" validate --path "$BATS_TEST_TMPDIR/ocfl"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" events verify
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" report
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    rm "$REPO/catalog.sqlite"
    run "$VELLUM" reindex
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" show obj1
    [[ "$output" == *"sub/b.txt"* ]]
    run "$VELLUM" recover
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # cat and diff read the bucket too
    run "$VELLUM" cat obj1 data/a.txt
    [ "$status" -eq 0 ]
    [ "$output" = hello ]
    printf 'new\n' > "$BATS_TEST_TMPDIR/dep/n.txt"
    "$VELLUM" ingest --id obj1 --merge "$BATS_TEST_TMPDIR/dep" >/dev/null
    run "$VELLUM" diff obj1 v1 v2
    [ "$status" -eq 0 ]
    [[ "$output" == *"A data/n.txt"* ]]
}

@test "init --store refusals: no bucket, wrong secret, unreachable endpoint (exit 3); bad URL, non-empty prefix (exit 2)" {
    run "$VELLUM" init --repo "$REPO" --store "s3://no-such-bucket-$$/x"
    [ "$status" -eq 3 ]
    [[ "$output" == *"does not exist"* ]]
    [ "${#lines[@]}" -eq 1 ]
    [ ! -e "$REPO" ]
    AWS_SECRET_ACCESS_KEY=wrong-secret-value run "$VELLUM" init --repo "$REPO" --store "s3://$BUCKET/x"
    [ "$status" -eq 3 ]
    [[ "$output" == *403* && "$output" == *"access key and secret"* ]]
    [[ "$output" != *wrong-secret-value* ]]
    [ ! -e "$REPO" ]
    AWS_ENDPOINT_URL=http://127.0.0.1:9 run "$VELLUM" init --repo "$REPO" --store "s3://$BUCKET/x"
    [ "$status" -eq 3 ]
    [ "${#lines[@]}" -eq 1 ]
    [ ! -e "$REPO" ]
    run "$VELLUM" init --repo "$REPO" --store "http://$BUCKET/x"
    [ "$status" -eq 2 ]
    printf 'x' > "$BATS_TEST_TMPDIR/x"
    s3 put "$BATS_TEST_TMPDIR/x" "s3://$BUCKET/used/file" >/dev/null
    run "$VELLUM" init --repo "$REPO" --store "s3://$BUCKET/used"
    [ "$status" -eq 2 ]
    [[ "$output" == *"not empty"* ]]
    s3_init
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/repo2" --store "s3://$BUCKET/root"
    [ "$status" -eq 2 ]
    [[ "$output" == *"already an OCFL storage root"* ]]
}

@test "credentials: a credentials file, refused when others may read it; never printed" {
    cat > "$BATS_TEST_TMPDIR/creds" <<CREDS
[default]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
CREDS
    chmod 644 "$BATS_TEST_TMPDIR/creds"
    secret=$AWS_SECRET_ACCESS_KEY
    run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$VELLUM" init --repo "$REPO" \
        --store "s3://$BUCKET/root" --s3-credentials "$BATS_TEST_TMPDIR/creds"
    [ "$status" -eq 2 ]
    [[ "$output" == *"chmod 600"* ]]
    chmod 600 "$BATS_TEST_TMPDIR/creds"
    run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$VELLUM" init --repo "$REPO" \
        --store "s3://$BUCKET/root" --s3-credentials "$BATS_TEST_TMPDIR/creds"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$VELLUM" ingest --id c1 "$BATS_TEST_TMPDIR/dep"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$VELLUM" config
    [[ "$output" != *"$secret"* ]]
    ! grep -rq -- "$secret" "$REPO"
    # the keys in vellum.conf: taken only while others cannot read it
    {
        printf 's3.access_key_id = %s\n' "$AWS_ACCESS_KEY_ID"
        printf 's3.secret_access_key = %s\n' "$secret"
    } >> "$REPO/vellum.conf"
    sed -i '/^s3.credentials = /d' "$REPO/vellum.conf"
    chmod 644 "$REPO/vellum.conf"
    run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$VELLUM" ls
    [ "$status" -eq 2 ]
    [[ "$output" == *"chmod 600"* ]]
    [[ "$output" != *"$secret"* ]]
    chmod 600 "$REPO/vellum.conf"
    run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$VELLUM" ls
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [[ "$output" == *c1* ]]
    run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$VELLUM" config
    [[ "$output" == *"s3.secret_access_key = ******** (set)"* ]]
    [[ "$output" != *"$secret"* ]]
    # without any credentials: a clear refusal
    run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$VELLUM" init --repo "$BATS_TEST_TMPDIR/r3" \
        --store "s3://$BUCKET/other"
    [ "$status" -eq 2 ]
    [[ "$output" == *"no S3 credentials"* ]]
}

# A fault-injecting proxy in front of the server (tests/faults/s3-proxy.py);
# the repository is pointed at it through s3.endpoint.
# (Each start has its own port file: the background shell truncates it
# only when it gets to run, so a reused file could still show the last
# proxy's port.)
start_proxy() {
    local portfile
    portfile=$(mktemp "$BATS_TEST_TMPDIR/proxy.XXXXXX")
    rm -f "$portfile"
    python3 "$VELLUM_TESTS/faults/s3-proxy.py" "$AWS_ENDPOINT_URL" "$@" \
        > "$portfile.tmp" 2>/dev/null &
    PROXY_PID=$!
    while ! grep -q '^[0-9][0-9]*$' "$portfile.tmp" 2>/dev/null; do
        kill -0 "$PROXY_PID" || return 1
        sleep 0.1
    done
    PROXY="http://127.0.0.1:$(head -1 "$portfile.tmp")"
}

stop_proxy() { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null || true; }

use_endpoint() {
    sed -i "s|^s3.endpoint = .*|s3.endpoint = $1|" "$REPO/vellum.conf"
}

@test "a server answering 500 or dropping the connection mid-upload: exit 3, one line, nothing half-committed" {
    s3_init
    # two retries (not five) keep the failing cases short
    run "$VELLUM" config s3.retries 2
    [ "$status" -eq 0 ]
    "$VELLUM" ingest --id obj1 "$BATS_TEST_TMPDIR/dep" >/dev/null
    printf 'changed\n' > "$BATS_TEST_TMPDIR/dep/a.txt"
    for mode in fail500 drop; do
        for n in 1 3; do
            start_proxy "$mode" "$n" || { echo "the proxy did not start"; false; }
            use_endpoint "$PROXY"
            run "$VELLUM" ingest --id obj1 --merge "$BATS_TEST_TMPDIR/dep"
            stop_proxy
            [ "$status" -eq 3 ] || { echo "$mode $n: exit $status: $output"; false; }
            [ "${#lines[@]}" -eq 1 ] || { echo "$mode $n: $output"; false; }
            [[ "$output" == *"after 3 attempts"* ]] || { echo "$mode $n: $output"; false; }
            [[ "$output" == *"s3://$BUCKET"* ]]
            [[ "$output" != *"$AWS_SECRET_ACCESS_KEY"* ]]
            use_endpoint "$AWS_ENDPOINT_URL"
            run "$VELLUM" recover
            [ "$status" -eq 0 ] || { echo "$mode $n: recover: $output"; false; }
            run "$VELLUM" validate --all
            [ "$status" -eq 0 ] || { echo "$mode $n: validate: $output"; false; }
            run "$VELLUM" show obj1 --json
            [ "$(echo "$output" | jfield 'd["head"]')" = 1 ]
        done
    done
    # one 500 on the way is retried: the deposit goes through
    start_proxy once500 2 || { echo "the proxy did not start"; false; }
    use_endpoint "$PROXY"
    run "$VELLUM" ingest --id obj1 --merge "$BATS_TEST_TMPDIR/dep"
    stop_proxy
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    use_endpoint "$AWS_ENDPOINT_URL"
    run "$VELLUM" show obj1 --json
    [ "$(echo "$output" | jfield 'd["head"]')" = 2 ]
    run "$VELLUM" audit --all
    [ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "replicas on S3: replicate, validate, audit of every copy, get falls back to it, a killed replication settles" {
    s3_init
    "$VELLUM" ingest --id obj1 "$BATS_TEST_TMPDIR/dep" >/dev/null
    s3 mb "s3://$BUCKET-r" >/dev/null
    run "$VELLUM" replica add far "s3://$BUCKET-r/copy"
    [ "$status" -eq 0 ] || { s3 rb --recursive --force "s3://$BUCKET-r"; echo "$output"; false; }
    # overlapping the primary's store: refused
    run "$VELLUM" replica add bad "s3://$BUCKET/root/inner"
    [ "$status" -eq 2 ]
    [[ "$output" == *overlaps* ]]
    run "$VELLUM" replicate --all
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" validate --path "s3://$BUCKET-r/copy"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [[ "$output" == *"validated 1 object"* ]]
    run "$VELLUM" audit --all --replicas
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [[ "$output" == *"replica far"* ]]
    # a new version, killed at every write to the replica's bucket
    printf 'second\n' > "$BATS_TEST_TMPDIR/dep/a.txt"
    "$VELLUM" ingest --id obj1 --merge "$BATS_TEST_TMPDIR/dep" >/dev/null
    n=1
    while :; do
        VELLUM_S3_KILL_AT=$n run "$VELLUM" replicate --all
        [ "$status" -eq 0 ] && break
        [ "$status" -eq 137 ] || { echo "step $n: exit $status: $output"; false; }
        run "$VELLUM" recover
        [ "$status" -eq 0 ] || { echo "step $n: $output"; false; }
        run "$VELLUM" validate --path "s3://$BUCKET-r/copy"
        [ "$status" -eq 0 ] || { echo "step $n: $output"; false; }
        n=$((n + 1))
        [ "$n" -lt 40 ] || { echo "never finished"; false; }
    done
    [ "$n" -gt 2 ]
    run "$VELLUM" audit --all --replicas
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # the primary's copy of a file rots: get reads it from the S3 replica
    key=$(object_key obj1)
    printf 'rotten\n' > "$BATS_TEST_TMPDIR/rot"
    s3 put "$BATS_TEST_TMPDIR/rot" "s3://$BUCKET/$key/v2/content/data/a.txt" >/dev/null
    run "$VELLUM" get obj1 "$BATS_TEST_TMPDIR/out"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [[ "$output" == *far* ]]
    cmp "$BATS_TEST_TMPDIR/dep/a.txt" "$BATS_TEST_TMPDIR/out/data/a.txt"
    s3 rb --recursive --force "s3://$BUCKET-r" >/dev/null
}

@test "init --join: a second repository folder uses the same bucket; refused for an empty prefix or another layout" {
    s3_init
    "$VELLUM" ingest --id obj1 "$BATS_TEST_TMPDIR/dep" >/dev/null
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/two" --store "s3://$BUCKET/root" --join
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    [[ "$output" == *"1 object catalogued"* ]]
    run "$VELLUM" show obj1 --repo "$BATS_TEST_TMPDIR/two"
    [ "$status" -eq 0 ]
    [[ "$output" == *"sub/b.txt"* ]]
    run "$VELLUM" ingest --id obj2 "$BATS_TEST_TMPDIR/dep" --repo "$BATS_TEST_TMPDIR/two"
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    run "$VELLUM" reindex
    [ "$status" -eq 0 ]
    run "$VELLUM" ls
    [[ "$output" == *obj2* ]]
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "$output"; false; }
    # nothing to join
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/three" --store "s3://$BUCKET/nothing" --join
    [ "$status" -eq 2 ]
    [[ "$output" == *"not an OCFL storage root"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/three" ]
    # a storage root with another layout
    printf 'ocfl_1.1\n' > "$BATS_TEST_TMPDIR/n"
    printf '{"extension":"0002-flat-direct-storage-layout"}\n' > "$BATS_TEST_TMPDIR/l"
    s3 put "$BATS_TEST_TMPDIR/n" "s3://$BUCKET/flat/0=ocfl_1.1" >/dev/null
    s3 put "$BATS_TEST_TMPDIR/l" "s3://$BUCKET/flat/ocfl_layout.json" >/dev/null
    run "$VELLUM" init --repo "$BATS_TEST_TMPDIR/three" --store "s3://$BUCKET/flat" --join
    [ "$status" -eq 2 ]
    [[ "$output" == *"cannot be joined"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/three" ]
}

@test "s3.tls_verify = false: every command warns; config takes only true or false" {
    s3_init
    run "$VELLUM" config s3.tls_verify maybe
    [ "$status" -eq 2 ]
    run "$VELLUM" config s3.tls_verify false
    [ "$status" -eq 0 ]
    run "$VELLUM" ls
    [ "$status" -eq 0 ]
    [[ "$output" == *"warning: s3.tls_verify = false"* ]]
    run "$VELLUM" config s3.tls_verify true
    run "$VELLUM" ls
    [[ "$output" != *"tls_verify"* ]]
}

@test "an https endpoint whose certificate cannot be checked is refused (exit 3) unless told otherwise" {
    # a TLS server with a self-signed certificate on loopback that answers
    # every request 404 NoSuchBucket
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$BATS_TEST_TMPDIR/k.pem" \
        -out "$BATS_TEST_TMPDIR/c.pem" -days 1 -subj /CN=127.0.0.1 2>/dev/null
    python3 - "$BATS_TEST_TMPDIR" > "$BATS_TEST_TMPDIR/tls.port" 2>/dev/null <<'PY' &
import http.server, ssl, sys
d = sys.argv[1]
body = b'<?xml version="1.0"?><Error><Code>NoSuchBucket</Code></Error>'
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n: self.rfile.read(n)
        self.send_response(404)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = answer
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/c.pem", d + "/k.pem")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
    tls_pid=$!
    while ! grep -q '^[0-9][0-9]*$' "$BATS_TEST_TMPDIR/tls.port" 2>/dev/null; do
        kill -0 "$tls_pid" || { echo "no TLS server"; false; }
        sleep 0.1
    done
    port=$(head -1 "$BATS_TEST_TMPDIR/tls.port")
    run "$VELLUM" init --repo "$REPO" --store "s3://$BUCKET/x" --s3-endpoint "https://127.0.0.1:$port"
    [ "$status" -eq 3 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *certificate* || "$output" == *SSL* ]] || { echo "$output"; false; }
    [ ! -e "$REPO" ]
    # told not to check: the handshake goes through and the server's own
    # answer comes back
    run "$VELLUM" init --repo "$REPO" --store "s3://$BUCKET/x" --s3-endpoint "https://127.0.0.1:$port" \
        --s3-no-tls-verify
    kill "$tls_pid"
    [ "$status" -eq 3 ]
    [[ "$output" == *"does not exist"* ]] || { echo "$output"; false; }
    [[ "$output" != *certificate* ]]
    [ ! -e "$REPO" ]
}
