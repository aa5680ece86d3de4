#!/usr/bin/env bats
# make check-long: many versions.  One object gets MANY_VERSIONS versions
# (default 1,000), each `vellum ingest DIR --id ID --merge` of a folder
# holding one new file, so version v lists v files and the inventory lists
# every version's state (about 92 MB of JSON at v1000).  Adding a version
# must cost O(size of the new inventory) at streaming speed: each of the
# last 10 versions at most 20 ms + its inventory's size at 100 MB/s.
#
# To be robust on a loaded machine the assertion is on the median of the
# last 10 versions' time / allowance (every one is printed to fd 3): a
# burst of other work slows a few of them, not most.
#
# Space: OCFL keeps each version's own inventory, about 31 GB for the whole
# object, so the inventory of every version but the last two is removed as
# the test goes (vellum reads only the root one when it adds a version; a
# version folder without one is warning W010, which validate checks).  The
# repository is on /dev/shm (1 GB at the end) when it has 2 GiB free: on a
# disk, fsync of the two copies of a 92 MB inventory is measured as well
# as vellum (156 MB/s durable here), and the test may then fail for the
# disk's sake; it is not skipped.
# About 10 minutes on a quiet 2-core machine (the sum of all versions).

load ../cli/helpers

VERSIONS=${MANY_VERSIONS:-1000}
LAST=10

teardown() {
    [ -n "${SHM_DIR:-}" ] && rm -rf "$SHM_DIR"
    return 0
}

@test "$VERSIONS versions: each of the last $LAST costs <= 20 ms + its inventory at 100 MB/s" {
    [ "$VERSIONS" -gt "$LAST" ]
    free_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
    if [ "${free_kib:-0}" -ge $((2 * 1024 * 1024)) ]; then
        SHM_DIR=$(mktemp -d /dev/shm/vellum-versions.XXXXXX)
        base=$SHM_DIR
    else
        echo "# /dev/shm has under 2 GiB free: on disk, fsync is measured too" >&3
        base=$BATS_TEST_TMPDIR
    fi
    export REPO="$base/repo" VELLUM_REPO="$base/repo"
    "$VELLUM" init --repo "$REPO" --user-name "Test Depositor" \
        --user-address mailto:depositor@example.org >/dev/null
    obj=$(object_dir urn:many)
    src=$base/src
    : > "$BATS_TEST_TMPDIR/last"
    for i in $(seq 1 "$VERSIONS"); do
        rm -rf "$src" && mkdir "$src" && printf 'file %d\n' "$i" > "$src/f$i.txt"
        t0=$(date +%s%N)
        "$VELLUM" ingest "$src" --id urn:many --merge --quiet --no-identify >/dev/null ||
            { echo "version $i failed"; return 1; }
        t1=$(date +%s%N)
        if [ "$i" -gt $((VERSIONS - LAST)) ]; then
            echo "$i $(( (t1 - t0) / 1000 )) $(stat -c %s "$obj/inventory.json")" \
                >> "$BATS_TEST_TMPDIR/last"
        fi
        [ "$i" -gt 2 ] && rm -f "$obj/v$((i - 2))/inventory.json" \
            "$obj/v$((i - 2))/inventory.json.sha512"
    done
    # version, microseconds, inventory bytes -> time / allowance, each and
    # their median
    awk '{
        allow = 20000 + $3 / 100e6 * 1e6
        printf "# v%d: %7.1f ms, inventory %6.1f MB (%5.0f MB/s), allowed %6.1f ms: %.2f\n",
            $1, $2 / 1000, $3 / 1e6, $3 / $2, allow / 1000, $2 / allow
    }' "$BATS_TEST_TMPDIR/last" >&3
    median=$(awk '{ print $2 / (20000 + $3 / 100e6 * 1e6) }' "$BATS_TEST_TMPDIR/last" |
        sort -g | awk '{ r[NR] = $1 } END {
            printf "%.3f", (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }')
    echo "# median time / allowance of the last $LAST: $median" >&3
    awk -v m="$median" 'BEGIN { exit !(m <= 1.0) }'
    # the head holds every file, and the object is valid (W010 only)
    files=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
s = d["versions"][d["head"]]["state"]
print(sum(p.startswith("data/f") for v in s.values() for p in v))' "$obj/inventory.json")
    [ "$files" -eq "$VERSIONS" ]
    run "$VELLUM" validate urn:many --no-digests
    [ "$status" -eq 0 ]
    [[ "$output" != *" E0"* ]]
}
