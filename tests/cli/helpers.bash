# Shared setup for the CLI tests: a fresh repository per test, and helpers.
# $VELLUM is the binary under test, $VELLUM_TESTS the tests/ folder.

setup_repo() {
    export REPO="$BATS_TEST_TMPDIR/repo"
    export VELLUM_REPO="$REPO"
    # a default depositor with an address, as a curator sets up a repository
    # (without one every deposit notes how to set it, and validate warns W008)
    run "$VELLUM" init --repo "$REPO" --user-name "Test Depositor" \
        --user-address mailto:depositor@example.org "$@"
    [ "$status" -eq 0 ] || { echo "init failed: $output"; return 1; }
}

# Root folder of an object in the store (0004 layout: sha256 of the id).
object_dir() {
    local h
    h=$(printf '%s' "$1" | sha256sum | cut -c1-64)
    echo "$REPO/store/${h:0:3}/${h:3:3}/${h:6:3}/$h"
}

# Nothing left behind in staging but the lock folder and an empty record
# folder for temporaries outside the repository.
staging_clean() {
    [ -z "$(ls -A "$REPO/staging" | grep -v -e '^\.locks$' -e '^\.outside$')" ] &&
        [ -z "$(ls -A "$REPO/staging/.outside" 2>/dev/null)" ]
}

# Number of objects in the store (folders with an object namaste).
object_count() {
    find "$REPO/store" -name '0=ocfl_object_1.1' | wc -l
}

# JSON field from stdin: jfield 'expr' (python3 expression over `d`).
jfield() {
    python3 -I -S -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
