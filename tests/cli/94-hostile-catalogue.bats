#!/usr/bin/env bats
# The catalogue of refused inputs (tests/hostile/catalogue.tsv): each must
# be refused with its exit code and message, store nothing but its event,
# leave staging empty and the repository valid.

load helpers

setup_file() {
    export INPUTS="$BATS_FILE_TMPDIR/inputs"
    python3 "$VELLUM_TESTS/hostile/make-inputs" "$INPUTS"
}

@test "every catalogued hostile input is refused as described" {
    setup_repo
    n=0
    while IFS=$'\t' read -r name input args code message; do
        case "$name" in ''|'#'*) continue ;; esac
        n=$((n + 1))
        src="$INPUTS/$input"
        case "$input" in fixtures/*) src="$VELLUM_TESTS/$input" ;; esac
        extra=()
        [ "$args" = "-" ] && args=""
        for a in $args; do
            case "$a" in
                @*) extra+=("$INPUTS/${a#@}") ;;
                fixtures/*) extra+=("$VELLUM_TESTS/$a") ;;
                *) extra+=("$a") ;;
            esac
        done
        run "$VELLUM" ingest "$src" --id "urn:hostile:$name" "${extra[@]}"
        [ "$status" -eq "$code" ] || { echo "$name: exit $status, want $code: $output"; return 1; }
        [[ "$output" == *"$message"* ]] || { echo "$name: message lacks '$message': $output"; return 1; }
        # the refusal itself is the last line, and it names what was wrong
        [[ "$(echo "$output" | tail -1)" == vellum:* ]] || { echo "$name: last line: $output"; return 1; }
        [ "$(object_count)" -eq 0 ] || { echo "$name: something was stored"; return 1; }
        staging_clean || { echo "$name: staging not clean"; return 1; }
    done < "$VELLUM_TESTS/hostile/catalogue.tsv"
    [ "$n" -ge 38 ]
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ]
    # each refusal leaves one ingestion event with outcome fail and its
    # reason, and nothing else (issue 17, item 13)
    run "$VELLUM" events --json
    [ "$(echo "$output" | jfield 'len(d)')" -eq "$n" ]
    [ "$(echo "$output" | jfield 'sorted(set((e["type"], e["outcome"]) for e in d))')" = "[('ingestion', 'fail')]" ]
    [ "$(echo "$output" | jfield 'all(e["object"].startswith("urn:hostile:") and e["outcome_detail"] for e in d)')" = "True" ]
    run "$VELLUM" events verify
    [ "$status" -eq 0 ]
}
