#!/usr/bin/env bats
# Folders are listed in byte order whatever their size: past a few thousand
# names a folder's names are sorted on disk, not in memory (name_sort.c),
# so a flat folder of a million files stays within the memory bound.
# VELLUM_LIST_MEMORY=1 makes every folder of two or more names take that
# path here; each command must then give exactly what it gives without.
# (The memory itself, at a million files in one folder, is measured by
# tests/long/56-flat-million.bats.)

load helpers

setup() {
    setup_repo
    T="$BATS_TEST_TMPDIR"
    mkdir -p "$T/src/flat" "$T/src/deep/a/b"
    # names whose byte order differs from a locale's: capitals, '-', digits,
    # UTF-8, and more than one page of them
    for i in $(seq 1 300); do printf 'f%d\n' "$i" > "$T/src/flat/f$i.txt"; done
    for n in B a a- a0 Zed "é" "~tilde" "10" "9"; do printf '%s\n' "$n" > "$T/src/flat/$n"; done
    printf 'deep\n' > "$T/src/deep/a/b/c.txt"
    printf 'top\n' > "$T/src/top.txt"
    export VELLUM_NOW=2026-12-04T10:00:00Z
}

# The state of an object's head: "path digest" lines in the inventory's order.
state_lines() {
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for dg, ps in sorted(d["versions"][d["head"]]["state"].items()):
    for p in sorted(ps):
        if p != "METS.xml": print(p, dg)' "$(object_dir "$1")/inventory.json"
}

@test "ingest: a folder sorted on disk deposits the same files in the same order" {
    run "$VELLUM" ingest "$T/src" --id urn:flat:mem --no-identify --json
    [ "$status" -eq 0 ]
    VELLUM_LIST_MEMORY=1 run "$VELLUM" ingest "$T/src" --id urn:flat:disk --no-identify --json
    [ "$status" -eq 0 ]
    [ "$(state_lines urn:flat:mem | wc -l)" -eq 311 ]
    diff <(state_lines urn:flat:mem) <(state_lines urn:flat:disk)
    # the METS lists the files in the same order both ways
    diff <("$VELLUM" show urn:flat:mem --mets | grep -o 'xlink:href="[^"]*"') \
         <("$VELLUM" show urn:flat:disk --mets | grep -o 'xlink:href="[^"]*"')
    # and in byte order, "é" (a URI: %C3%A9) after "~tilde"
    order=$("$VELLUM" show urn:flat:disk --mets | grep -o 'xlink:href="data/flat/[^"]*"' |
        sed 's/.*flat\///; s/"$//' | grep -v '^f' | tr '\n' ' ')
    [ "$order" = "10 9 B Zed a a- a0 ~tilde %C3%A9 " ] || { echo "order: $order"; false; }
}

@test "validate and audit: findings in a large content folder are the same, listed from disk" {
    "$VELLUM" ingest "$T/src" --id urn:flat:v --no-identify --quiet
    d=$(object_dir urn:flat:v)
    chmod -R u+w "$d/v1/content"
    printf 'stray\n' > "$d/v1/content/data/flat/stray.txt"
    mkdir "$d/v1/content/data/flat/emptydir"
    rm "$d/v1/content/data/flat/f17.txt"
    printf 'changed\n' > "$d/v1/content/data/flat/f18.txt"
    run "$VELLUM" validate urn:flat:v --json
    [ "$status" -eq 1 ]
    mem=$output
    VELLUM_LIST_MEMORY=1 run "$VELLUM" validate urn:flat:v --json
    [ "$status" -eq 1 ]
    [ "$output" = "$mem" ]
    codes=$(echo "$output" | jfield '" ".join(sorted(f["code"] for f in d))')
    # stray.txt E023, emptydir E024, f17.txt missing and f18.txt changed E092
    [ "$codes" = "E023 E024 E092 E092" ] || { echo "codes: $codes"; false; }
    # each planted problem is named
    [[ "$output" == *"stray.txt"* ]] && [[ "$output" == *"emptydir"* ]]
    [[ "$output" == *"f17.txt"* ]] && [[ "$output" == *"f18.txt"* ]]
    # audit sees the same: exit 1, the same files named
    VELLUM_LIST_MEMORY=1 run "$VELLUM" audit urn:flat:v --json
    [ "$status" -eq 1 ]
    [[ "$output" == *"f17.txt"* ]] && [[ "$output" == *"f18.txt"* ]] && [[ "$output" == *"stray.txt"* ]]
}

@test "export ocfl, get and bagit: the same bytes whether folders are sorted in memory or on disk" {
    "$VELLUM" ingest "$T/src" --id urn:flat:x --no-identify --quiet
    "$VELLUM" export urn:flat:x "$T/ocfl-mem" --format ocfl --quiet
    VELLUM_LIST_MEMORY=1 "$VELLUM" export urn:flat:x "$T/ocfl-disk" --format ocfl --quiet
    diff -r "$T/ocfl-mem" "$T/ocfl-disk"
    VELLUM_LIST_MEMORY=1 "$VELLUM" get urn:flat:x "$T/got" --quiet
    diff -r "$T/src" "$T/got/data" 2>/dev/null || diff -r "$T/src" "$T/got"
    "$VELLUM" export urn:flat:x "$T/bag-mem" --format bagit --quiet
    VELLUM_LIST_MEMORY=1 "$VELLUM" export urn:flat:x "$T/bag-disk" --format bagit --quiet
    diff "$T/bag-mem/manifest-sha512.txt" "$T/bag-disk/manifest-sha512.txt"
    diff -r "$T/bag-mem/data" "$T/bag-disk/data"
    VELLUM_LIST_MEMORY=1 run "$VELLUM" bag validate "$T/bag-disk"
    [ "$status" -eq 0 ]
}

@test "a symbolic link in a folder listed from disk is E090, the walk goes on" {
    "$VELLUM" ingest "$T/src" --id urn:flat:u --no-identify --quiet
    d=$(object_dir urn:flat:u)
    chmod -R u+w "$d/v1/content"
    ln -s /nonexistent "$d/v1/content/data/flat/link"
    rm "$d/v1/content/data/top.txt"
    VELLUM_LIST_MEMORY=1 run "$VELLUM" validate urn:flat:u --no-digests --json
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield '" ".join(f["code"] + ":" + (f["content_path"] or f["path"]).split("/content/")[-1] for f in d)')" = \
      "E090:data/flat/link E092:data/top.txt" ] || { echo "$output"; false; }
}
