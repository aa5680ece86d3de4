# Shared by the million-file tests: peak RSS and speed of one command,
# with $M the test's folder and $N its file count.

# Peak RSS (KiB) into $rss, exit status into $status, seconds into $secs;
# files/s over PEAK_FILES (default N).
peak() {
    local label=$1; shift
    set +e
    /usr/bin/time -f '%e %M' -o "$M/time" "$@" >"$M/stdout" 2>"$M/stderr"
    status=$?
    set -e
    read -r secs rss < <(tail -1 "$M/time")
    printf '# %-34s exit %d  %8.1f s  %7.1f MiB  %8.0f files/s\n' "$label" "$status" \
        "$secs" "$(echo "$rss / 1024" | bc -l)" "$(echo "${PEAK_FILES:-$N} / ($secs + 0.01)" | bc -l)" >&3
    [ "$status" -eq 0 ] || cat "$M/stderr"
}
