#!/usr/bin/env bats
# make check-long: scale.  SCALE_OBJECTS objects of SCALE_FILES small files
# (default 10,000 x 100 = 1,000,000 files), then ls, show, report and
# audit --due --max-seconds 60 stay responsive and memory stays bounded.
# (One object of a million files: 55-million.bats.)  Timings go to stdout
# of bats (fd 3).

load ../cli/helpers

OBJECTS=${SCALE_OBJECTS:-10000}
FILES=${SCALE_FILES:-100}

timed() {   # timed LABEL CMD... : prints seconds and peak RSS, fails on error
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$BATS_TEST_TMPDIR/t" "$@" >/dev/null 2>"$BATS_TEST_TMPDIR/err" \
        || { cat "$BATS_TEST_TMPDIR/err"; return 1; }
    read -r secs kb < "$BATS_TEST_TMPDIR/t"
    printf '# %-40s %8.2f s  %7.1f MiB\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" >&3
    echo "$kb" > "$BATS_TEST_TMPDIR/rss"
}

@test "$OBJECTS objects of $FILES files: ingest rate, ls, show, report, audit --due" {
    setup_repo
    src="$BATS_TEST_TMPDIR/src"
    python3 - "$src" "$FILES" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    sub = os.path.join(d, "d%02d" % (i % 10))
    os.makedirs(sub, exist_ok=True)
    open(os.path.join(sub, "f%04d.txt" % i), "w").write("file %d\n" % i)
PY
    start=$(date +%s.%N)
    for i in $(seq 1 "$OBJECTS"); do
        # each object differs in one file so content is not all shared
        printf 'object %d\n' "$i" > "$src/unique.txt"
        "$VELLUM" ingest "$src" --id "urn:scale:$i" --quiet --no-identify >/dev/null || return 1
    done
    end=$(date +%s.%N)
    rate=$(echo "$OBJECTS * ($FILES + 1) / ($end - $start)" | bc -l)
    printf '# ingest: %d objects, %.0f files/s\n' "$OBJECTS" "$rate" >&3
    # Bounded memory: none of these may grow with the number of files.
    timed "ls ($OBJECTS objects)" "$VELLUM" ls
    [ "$(cat "$BATS_TEST_TMPDIR/rss")" -lt 65536 ]
    timed "show one object" "$VELLUM" show "urn:scale:$((OBJECTS / 2))"
    [ "$(cat "$BATS_TEST_TMPDIR/rss")" -lt 65536 ]
    timed "report (json)" "$VELLUM" report --format json --out "$BATS_TEST_TMPDIR/r.json"
    [ "$(cat "$BATS_TEST_TMPDIR/rss")" -lt 65536 ]
    timed "report (html)" "$VELLUM" report --out "$BATS_TEST_TMPDIR/r.html"
    [ "$(cat "$BATS_TEST_TMPDIR/rss")" -lt 65536 ]
    timed "audit --due --max-seconds 60" "$VELLUM" audit --due --max-seconds 60 --quiet
    [ "$(cat "$BATS_TEST_TMPDIR/rss")" -lt 131072 ]
}
