#!/usr/bin/env bats
# Links and limits.  Hard and symbolic links are refused (or left out with
# --symlinks skip), in folders and in archives.  A logical path (data/... as
# stored) may be at most 250 levels deep and 2048 bytes long: exactly at a
# limit a deposit is stored and read back by every command; one past it is
# refused with exit 2, one line naming the limit, and nothing stored.

load helpers

DEPTH_MAX=250    # VL_PATH_MAX_DEPTH
BYTES_MAX=2048   # VL_PATH_MAX_BYTES

setup() {
    setup_repo
    W="$BATS_TEST_TMPDIR/w"
    mkdir -p "$W"
}

# The deposit was refused: exit 2, message matches, one line, nothing stored.
refused() {
    local pattern=$1 saved=$output
    [ "$status" -eq 2 ] || { echo "status $status: $output"; return 1; }
    [[ "$output" == *"$pattern"* ]] || { echo "message: $output"; return 1; }
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ] || { echo "not one line: $output"; return 1; }
    [ "$(object_count)" -eq 0 ] || { echo "something was stored"; return 1; }
    staging_clean || { echo "staging not clean"; return 1; }
    output=$saved
}

# mkdeep DIR N LEAF: DIR/d/d/.../d (N folders) holding the file LEAF.  Made
# with folder descriptors, so any depth works whatever PATH_MAX says.
mkdeep() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, sys
top, n, leaf = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(top, exist_ok=True)
fd = os.open(top, os.O_RDONLY)
for _ in range(n):
    os.mkdir("d", dir_fd=fd)
    nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = nfd
f = os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
os.write(f, b"deep\n")
os.close(f)
PY
}

# mklong DIR LEN: one file whose path under DIR is LEN bytes, made of
# 255-byte names of two-byte characters (so METS and BagIt escape them).
mklong() {
    python3 - "$1" "$2" <<'PY'
import os, sys
top, want = sys.argv[1], int(sys.argv[2])
seg = "\u00e9" * 127 + "x"                    # 255 bytes
k = (want - 1) // 256                          # full names, each with its "/"
rest = want - 256 * k                          # the file name: 1..256 bytes
parts = [seg] * k
leaf = "\u00e9" * ((rest - 1) // 2) + "x" * (rest - 2 * ((rest - 1) // 2))
path = "/".join(parts + [leaf])
assert len(path.encode()) == want and len(leaf.encode()) <= 255, path
os.makedirs(os.path.join(top, *parts), exist_ok=True)
with open(os.path.join(top, path), "w") as f:
    f.write("long\n")
print(path)
PY
}

# readback ID DEPOSIT LEAF: every command reads the object back.
readback() {
    local id=$1 dep=$2 leaf=$3 out="$BATS_TEST_TMPDIR/out"
    run "$VELLUM" get "$id" "$out/got"
    [ "$status" -eq 0 ] || { echo "get: $output"; return 1; }
    diff -r "$dep" "$out/got/data" || { echo "get: not byte-exact"; return 1; }
    run "$VELLUM" export "$id" "$out/mets" --format mets
    [ "$status" -eq 0 ] || { echo "export mets: $output"; return 1; }
    diff -r "$dep" "$out/mets/data" || { echo "export mets: data differs"; return 1; }
    # libxml2's default depth limit (no --huge): any XML tool reads it
    xmllint --noout --nonet "$out/mets/METS.xml" || { echo "xmllint"; return 1; }
    run "$VELLUM" export "$id" "$out/bag" --format bagit
    [ "$status" -eq 0 ] || { echo "export bagit: $output"; return 1; }
    diff -r "$dep" "$out/bag/data" || { echo "export bagit: data differs"; return 1; }
    run "$VELLUM" export "$id" "$out/ocfl" --format ocfl
    [ "$status" -eq 0 ] || { echo "export ocfl: $output"; return 1; }
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "validate: $output"; return 1; }
    run "$VELLUM" show "$id"
    [ "$status" -eq 0 ] || { echo "show: $output"; return 1; }
    [[ "$output" == *"$leaf"* ]] || { echo "show lacks $leaf"; return 1; }
    run "$VELLUM" reindex
    [ "$status" -eq 0 ] || { echo "reindex: $output"; return 1; }
    run "$VELLUM" show "$id" --json
    [ "$status" -eq 0 ] || { echo "show after reindex: $output"; return 1; }
    [[ "$output" == *"$leaf"* ]] || { echo "show after reindex lacks $leaf"; return 1; }
}

# ---- links ----------------------------------------------------------------

@test "README's sentence holds: links are refused by default, left out with a warning under --symlinks skip" {
    # the sentence these tests check (whatever the line breaks)
    tr -s ' \n' '  ' < "$VELLUM_TESTS/../README.md" |
        grep -qF 'Symbolic and hard links** are refused by default. With `--symlinks skip` they are left out with a warning.'
    D="$W/deposit"
    mkdir -p "$D"
    printf 'kept\n' > "$D/a.txt"
    printf 'outside secret\n' > "$W/outside.txt"
    ln "$W/outside.txt" "$D/pw"          # ln /etc/passwd deposit/pw, same filesystem
    run "$VELLUM" ingest "$D" --id urn:l:hard
    refused "$D/pw"
    [[ "$output" == *"hard links are not deposited"* ]]
    ln -s a.txt "$D/sym"
    run "$VELLUM" ingest "$D" --id urn:l:hard --symlinks skip
    [ "$status" -eq 0 ]
    [[ "$output" == *"warning: hard link $D/pw left out (--symlinks skip)"* ]]
    [[ "$output" == *"warning: symbolic link $D/sym left out (--symlinks skip)"* ]]
    "$VELLUM" get urn:l:hard "$W/got" >/dev/null
    [ "$(cd "$W/got/data" && ls)" = "a.txt" ]
    [ -z "$(grep -rl 'outside secret' "$REPO/store")" ]
}

@test "a hard-linked file or archive given as the source is refused like one in a folder" {
    printf 'one\n' > "$W/one.txt"
    ln "$W/one.txt" "$W/two.txt"
    run "$VELLUM" ingest "$W/one.txt" --id urn:l:single
    refused "$W/one.txt: hard links are not deposited"
    mkdir -p "$W/c" && printf 'c\n' > "$W/c/c.txt"
    (cd "$W" && bsdtar --format pax -cf c.tar c && ln c.tar c2.tar)
    run "$VELLUM" ingest "$W/c.tar" --id urn:l:arc
    refused "$W/c.tar: hard links are not deposited"
}

@test "archives: hard-link entries (tar), every name of a multiply-linked file (cpio, ISO), symlinks (zip)" {
    S="$W/src"
    mkdir -p "$S"
    printf 'other\n' > "$S/c.txt"
    printf 'hello\n' > "$S/a.txt"
    ln "$S/a.txt" "$S/b.txt"
    (cd "$W" && bsdtar --format newc -cf x.cpio src && bsdtar --format pax -cf x.tar src &&
        bsdtar --format iso9660 -cf x.iso src)
    for a in x.cpio x.tar x.iso; do
        run "$VELLUM" ingest "$W/$a" --id "urn:l:$a"
        refused "a hard link (give --symlinks skip to leave it out)"
    done
    # zip: a symbolic link entry (the refusals first: nothing is stored yet)
    Z="$W/zsrc"
    mkdir -p "$Z"
    printf 'z\n' > "$Z/z.txt"
    ln -s z.txt "$Z/s.txt"
    (cd "$W" && zip -qry z.zip zsrc)
    run "$VELLUM" ingest "$W/z.zip" --id urn:l:zip
    refused "entry zsrc/s.txt: a symbolic link"
    # cpio (newc) keeps the bytes with the last name only: no name of the
    # linked file may be kept, or an empty b.txt would be stored
    run "$VELLUM" ingest "$W/x.cpio" --id urn:l:cpio --symlinks skip
    [ "$status" -eq 0 ]
    [[ "$output" == *"hard link src/a.txt left out"* ]]
    [[ "$output" == *"hard link src/b.txt left out"* ]]
    "$VELLUM" get urn:l:cpio "$W/cpio" >/dev/null
    [ "$(cd "$W/cpio/data" && find . -type f | sort)" = "./src/c.txt" ]
    # ISO: both names of the file carry its link count
    run "$VELLUM" ingest "$W/x.iso" --id urn:l:iso --symlinks skip
    [ "$status" -eq 0 ]
    "$VELLUM" get urn:l:iso "$W/iso" >/dev/null
    [ "$(cd "$W/iso/data" && find . -type f | sort)" = "./src/c.txt" ]
    # tar: the link entry is left out; the entry holding the bytes is a file
    run "$VELLUM" ingest "$W/x.tar" --id urn:l:tar --symlinks skip
    [ "$status" -eq 0 ]
    [[ "$output" == *"hard link src/"?".txt left out"* ]]
    "$VELLUM" get urn:l:tar "$W/tar" >/dev/null
    [ "$(cd "$W/tar/data" && find . -type f | wc -l)" -eq 2 ]
    [ -z "$(find "$W/tar/data" -type f -empty)" ]
    # zip, skipped
    run "$VELLUM" ingest "$W/z.zip" --id urn:l:zip --symlinks skip
    [ "$status" -eq 0 ]
    [[ "$output" == *"symbolic link zsrc/s.txt left out (--symlinks skip)"* ]]
}

# ---- depth ------------------------------------------------------------------

@test "at the depth limit (data + 248 folders + file = 250 levels) every command reads it back" {
    D="$W/deposit"
    mkdeep "$D" $((DEPTH_MAX - 2)) leaf.txt
    run "$VELLUM" ingest "$D" --id urn:l:depth
    [ "$status" -eq 0 ]
    readback urn:l:depth "$D" leaf.txt
}

@test "one level past the depth limit is refused: exit 2, the limit named, nothing stored" {
    D="$W/deposit"
    mkdeep "$D" $((DEPTH_MAX - 1)) leaf.txt
    run "$VELLUM" ingest "$D" --id urn:l:deeper
    refused "path too deep: 251 levels in the object (the limit is 250)"
    [[ "$output" == *"/d/leaf.txt: path too deep"* ]]
}

@test "2000 folders deep: exit 2 (not 3), one short line naming the limit, the path shortened in the middle" {
    D="$W/deposit"
    mkdeep "$D" 2000 leaf.txt
    run "$VELLUM" ingest "$D" --id urn:l:abyss
    refused "path too deep: 251 levels in the object (the limit is 250)"
    [ "${#output}" -lt 500 ]
    [[ "$output" == "vellum: refusing $D/d/d/"*"..."*"/d/d: path too deep"* ]]
}

# ---- length -----------------------------------------------------------------

@test "at the length limit (2048 bytes with data/) every command reads it back" {
    D="$W/deposit"
    rel=$(mklong "$D" $((BYTES_MAX - 5)))
    run "$VELLUM" ingest "$D" --id urn:l:long
    [ "$status" -eq 0 ]
    readback urn:l:long "$D" "${rel##*/}"
}

@test "one byte past the length limit is refused: exit 2, the limit named, nothing stored" {
    D="$W/deposit"
    mklong "$D" $((BYTES_MAX - 4)) >/dev/null
    run "$VELLUM" ingest "$D" --id urn:l:longer
    refused "path too long: 2049 bytes in the object (the limit is 2048)"
    [ "${#output}" -lt 500 ]
    [[ "$output" == *"..."* ]]
}

# ---- archives ---------------------------------------------------------------

@test "archive entries: the same limits on the path as stored" {
    python3 - "$W" <<'PY'
import io, sys, tarfile
def mk(path, names):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for n in names:
            i = tarfile.TarInfo(n); i.size = 5
            t.addfile(i, io.BytesIO(b"deep\n"))
d = "d/" * 248
mk(sys.argv[1] + "/at.tar", [d + "leaf.txt"])          # data/ + 248 + leaf = 250
mk(sys.argv[1] + "/past.tar", ["d/" + d + "leaf.txt"])
mk(sys.argv[1] + "/abyss.tar", ["d/" * 2000 + "leaf.txt"])
mk(sys.argv[1] + "/long.tar", ["n" * 200 + "/" + "\u00e9" * 1000 + ".txt"])
PY
    run "$VELLUM" ingest "$W/past.tar" --id urn:l:tar
    refused "path too deep: 251 levels in the object (the limit is 250)"
    run "$VELLUM" ingest "$W/abyss.tar" --id urn:l:tar
    refused "path too deep"
    [ "${#output}" -lt 600 ]
    [[ "$output" == *"entry d/d/"*"..."*"/d/leaf.txt: path too deep"* ]]
    run "$VELLUM" ingest "$W/long.tar" --id urn:l:tar
    refused "segment longer than 255 bytes"
    [ "${#output}" -lt 1000 ]
    run "$VELLUM" ingest "$W/at.tar" --id urn:l:tar
    [ "$status" -eq 0 ]
    "$VELLUM" get urn:l:tar "$W/got" >/dev/null
    [ "$(cat "$W/got/data/$(printf 'd/%.0s' $(seq 1 248))leaf.txt")" = deep ]
}
