#!/usr/bin/env bats
# Kill at every step (long form, make check-long): a 100-file deposit as a
# new object and as a new version, exports in every format, reindex and the
# first audit of a 100-file object, each killed before each of its steps in
# turn.  The short form is tests/cli/42-kill-steps.bats.

load ../cli/helpers
load ../faults/killsteps

USER_OPTS=(--user-name "Kim Killer" --user-address mailto:kim@example.org --quiet)
export KS_KEEP_GOING=1

make_deposit() {   # make_deposit DIR SEED: 100 files in 10 folders
    python3 - "$1" "$2" <<'PY'
import os, random, sys
d, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
for i in range(100):
    sub = os.path.join(d, "box%02d" % (i % 10))
    os.makedirs(sub, exist_ok=True)
    # a few files keep the same bytes across seeds, so versions share content
    data = b"constant %d\n" % i if i % 7 == 0 else r.randbytes(r.randint(1, 5000))
    open(os.path.join(sub, "item%03d.bin" % i), "wb").write(data)
PY
}

setup() {
    setup_repo
    T="$BATS_TEST_TMPDIR"
    make_deposit "$T/a" 1
    make_deposit "$T/b" 2
}

save_snapshot() {
    KS_SNAP="$T/snapshot"
    rm -rf "$KS_SNAP" && cp -a "$REPO" "$KS_SNAP"
}

@test "long: kill at every step of a 100-file new object" {
    save_snapshot
    ks_after_new() {
        if "$VELLUM" show urn:k:new >/dev/null 2>&1; then
            ks_reads_back urn:k:new "$T/a" && ks_one_ingestion_each urn:k:new
        else
            [ -z "$(find "$REPO/store" -mindepth 1 -maxdepth 1 ! -name extensions ! -name '0=*' ! -name 'ocfl_*')" ]
        fi
    }
    ks_every_step new "$VELLUM" ingest "$T/a" --id urn:k:new "${USER_OPTS[@]}"
}

@test "long: kill at every step of a 100-file new version" {
    "$VELLUM" ingest "$T/a" --id urn:k:v "${USER_OPTS[@]}" >/dev/null
    save_snapshot
    ks_after_version() {
        local head
        head=$("$VELLUM" show urn:k:v --json | jfield 'd["head"]')
        case $head in
            1) ks_reads_back urn:k:v "$T/a" || return 1 ;;
            2) ks_reads_back urn:k:v "$T/b" || return 1 ;;
            *) return 1 ;;
        esac
        ks_one_ingestion_each urn:k:v
    }
    ks_every_step version "$VELLUM" ingest "$T/b" --id urn:k:v "${USER_OPTS[@]}"
}

@test "long: kill at every step of exports (mets, bagit, ocfl), reindex and the first audit" {
    "$VELLUM" ingest "$T/a" --id urn:k:v "${USER_OPTS[@]}" >/dev/null
    "$VELLUM" ingest "$T/b" --id urn:k:v "${USER_OPTS[@]}" >/dev/null
    save_snapshot
    ks_before() { rm -rf "$T/exp" "$T"/exp.vellum-*; }
    for fmt in mets bagit ocfl; do
        eval "ks_after_export_$fmt() {
            local want=0 n
            [ -z \"\$(compgen -G \"\$T/exp.vellum-*\")\" ] || return 1
            [ -e \"\$T/exp\" ] && want=1
            n=\$(\"\$VELLUM\" events urn:k:v --type dissemination --json | jfield 'len(d)')
            [ \"\$n\" -eq \"\$want\" ]
        }"
        ks_before
        ks_every_step "export_$fmt" "$VELLUM" export urn:k:v "$T/exp" --format "$fmt" || return 1
    done
    ks_before() { :; }
    ks_after_reindex() { ks_reads_back urn:k:v "$T/b"; }
    ks_every_step reindex "$VELLUM" reindex --quiet || return 1
    ks_after_audit() {
        [ "$("$VELLUM" events urn:k:v --type "fixity check" --json | jfield 'len(d)')" -le 1 ]
    }
    ks_every_step audit "$VELLUM" audit --all --quiet
}
