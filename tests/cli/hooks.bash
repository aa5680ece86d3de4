# The test hooks of tests/cli/hooks.c (built as BUILD/tests/hooks.so by
# `make build`): stop or kill vellum at a chosen filesystem call, or make
# its clock run fast, so that tests never wait on timing.

hooks_so() {
    local so="${VELLUM_BUILD:-$(dirname "$VELLUM")}/tests/hooks.so"
    [ -f "$so" ] || { echo "no $so: run make build" >&2; return 1; }
    echo "$so"
}

# The environment that preloads the hooks, in HOOKS_ENV (for env).  A
# sanitizer build must be told that its runtime is not first in the list.
hooks_env() {
    local so
    so=$(hooks_so) || return 1
    HOOKS_ENV=(LD_PRELOAD="$so"
               ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
}

# with_hooks VAR=VALUE... CMD ARGS...: run CMD with the hooks preloaded and
# the VELLUM_HOOK_* settings given.
with_hooks() {
    hooks_env || return 1
    env "${HOOKS_ENV[@]}" "$@"
}

# start_stopped GLOB CMD ARGS...: start CMD in the background with the hooks
# stopping it (SIGSTOP) right after it created its second file under a path
# matching GLOB, and wait until it is stopped there; its pid is left in
# $STOPPED.  (A plain command, not a function, is put in the background so
# that $! is CMD itself.)
start_stopped() {
    local glob=$1; shift
    hooks_env || return 1
    # fd 3 is bats' own output: a process left stopped must not hold it,
    # or bats would wait for it forever.
    env "${HOOKS_ENV[@]}" VELLUM_HOOK_AT="stop:open:2:$glob" "$@" >/dev/null 2>&1 3>&- &
    STOPPED=$!
    echo "$STOPPED" >> "$BATS_TEST_TMPDIR/.stopped-pids"
    wait_stopped "$STOPPED"
}

# stopped_cleanup: kill whatever start_stopped left (for teardown, so that
# a failed test leaves no stopped process behind).
stopped_cleanup() {
    local pid
    [ -f "$BATS_TEST_TMPDIR/.stopped-pids" ] || return 0
    while read -r pid; do
        kill -9 "$pid" 2>/dev/null || true
    done < "$BATS_TEST_TMPDIR/.stopped-pids"
    rm -f "$BATS_TEST_TMPDIR/.stopped-pids"
}

# wait_stopped PID: wait until the process is stopped (state T), as the
# hook stops it.  Fails if it ends instead.  The bound only guards against
# a hang (a stopped process stays stopped, so when it is seen is no matter).
wait_stopped() {
    local pid=$1 state i
    for ((i = 0; i < 60000; i++)); do
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || state=gone
        case "$state" in
            T|t) return 0 ;;
            Z|gone) echo "process $pid ended before its hook stopped it"; return 1 ;;
        esac
        sleep 0.01
    done
    echo "process $pid was never stopped by its hook"; return 1
}
