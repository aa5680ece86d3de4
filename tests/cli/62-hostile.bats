#!/usr/bin/env bats
# Hostile and broken archives: each refused with one clear error naming the
# entry, exit 2, nothing stored, the repository still valid.

load helpers

setup() {
    setup_repo
    H="$BATS_TEST_TMPDIR/h"
    mkdir -p "$H"
}

# The deposit was refused: exit 2, message matches, nothing stored.
refused() {
    local pattern=$1 saved=$output
    [ "$status" -eq 2 ] || { echo "status $status: $output"; return 1; }
    [[ "$output" == *"$pattern"* ]] || { echo "message: $output"; return 1; }
    [ "$(echo "$output" | wc -l)" -le 2 ] || { echo "not one line: $output"; return 1; }
    [ "$(object_count)" -eq 0 ] || { echo "something was stored"; return 1; }
    staging_clean || { echo "staging not clean"; return 1; }
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "repository invalid: $output"; return 1; }
    output=$saved
}

mktar() {   # mktar FILE python-body (tarfile t open for writing)
    python3 -c "
import io, tarfile, sys
t = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT)
def add(name, data=b'x', **kw):
    i = tarfile.TarInfo(name); i.size = len(data)
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i, io.BytesIO(data) if i.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else None)
$2
t.close()" "$1"
}

@test "an entry with .. is refused" {
    mktar "$H/a.tar" "add('ok.txt'); add('../../etc/evil')"
    run "$VELLUM" ingest "$H/a.tar" --id urn:h:1
    refused '../../etc/evil'
    [[ "$output" == *traversal* ]]
}

@test "an absolute entry path is refused" {
    mktar "$H/a.tar" "add('/etc/passwd')"
    run "$VELLUM" ingest "$H/a.tar" --id urn:h:2
    refused 'absolute path'
}

@test "symlink and hardlink entries are refused, or skipped with --symlinks skip" {
    mktar "$H/s.tar" "add('f.txt'); add('link', type=tarfile.SYMTYPE, linkname='/etc/passwd')"
    run "$VELLUM" ingest "$H/s.tar" --id urn:h:3
    refused 'symbolic link'
    mktar "$H/l.tar" "add('f.txt'); add('hard', type=tarfile.LNKTYPE, linkname='f.txt')"
    run "$VELLUM" ingest "$H/l.tar" --id urn:h:4
    refused 'hard link'
    run "$VELLUM" ingest "$H/s.tar" --id urn:h:5 --symlinks skip --json
    [ "$status" -eq 0 ]
    [[ "$output" == *"left out"* ]]
    # Left out indeed: only f.txt is in the object.
    "$VELLUM" get urn:h:5 "$H/got" >/dev/null
    [ "$(cd "$H/got/data" && find . -mindepth 1)" = "./f.txt" ]
}

@test "duplicate entry names are refused" {
    mktar "$H/d.tar" "add('same.txt', b'one'); add('same.txt', b'two')"
    run "$VELLUM" ingest "$H/d.tar" --id urn:h:6
    refused 'same.txt'
    [[ "$output" == *twice* ]]
}

@test "an entry name that is not UTF-8 is refused and shown hex-escaped" {
    python3 - "$H/u.tar" <<'PY'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape")
i = tarfile.TarInfo(b"caf\xe9.txt".decode("utf-8", "surrogateescape")); i.size = 1
t.addfile(i, io.BytesIO(b"x")); t.close()
PY
    run "$VELLUM" ingest "$H/u.tar" --id urn:h:7
    refused 'caf\xe9.txt'
}

@test "device files and FIFOs are refused" {
    mktar "$H/dev.tar" "add('null', type=tarfile.CHRTYPE, devmajor=1, devminor=3)"
    run "$VELLUM" ingest "$H/dev.tar" --id urn:h:8
    refused 'device'
    mktar "$H/fifo.tar" "add('pipe', type=tarfile.FIFOTYPE)"
    run "$VELLUM" ingest "$H/fifo.tar" --id urn:h:9
    refused 'FIFO'
}

@test "an encrypted zip entry is refused" {
    printf 'secret\n' > "$H/secret.txt"
    (cd "$H" && zip -q -P hunter2 enc.zip secret.txt)
    run "$VELLUM" ingest "$H/enc.zip" --id urn:h:10
    refused 'encrypted'
}

@test "a truncated tar.gz is refused" {
    head -c 3000000 /dev/urandom > "$H/big.bin"
    (cd "$H" && tar -czf t.tgz big.bin)
    head -c 1500000 "$H/t.tgz" > "$H/cut.tgz"
    run "$VELLUM" ingest "$H/cut.tgz" --id urn:h:11
    refused 'truncated'
}

@test "a zip with a CRC error is refused naming the entry" {
    head -c 100000 /dev/urandom > "$H/data.bin"
    (cd "$H" && zip -q -0 crc.zip data.bin)
    # flip one byte inside the stored (uncompressed) data
    python3 -c "
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[5000]^=0xff; open(p,'wb').write(b)" "$H/crc.zip"
    run "$VELLUM" ingest "$H/crc.zip" --id urn:h:12
    refused 'data.bin'
}

@test "a decompression bomb is refused by ratio, and by --max-bytes" {
    head -c 60000000 /dev/zero > "$H/zeros"
    (cd "$H" && tar -cjf bomb.tar.bz2 zeros && rm zeros)
    run "$VELLUM" ingest "$H/bomb.tar.bz2" --id urn:h:13
    refused 'bomb'
    head -c 3000000 /dev/urandom > "$H/r.bin"
    (cd "$H" && tar -cf r.tar r.bin)
    run "$VELLUM" ingest "$H/r.tar" --id urn:h:14 --max-bytes 1M
    refused 'max-bytes'
}

@test "names that collide after normalization or case folding get a warning" {
    mkdir -p "$H/n"
    printf 'a' > "$H/n/$(printf 'caf\xc3\xa9')"
    printf 'b' > "$H/n/$(printf 'cafe\xcc\x81')"
    printf 'c' > "$H/n/Readme.txt"
    printf 'd' > "$H/n/README.TXT"
    run "$VELLUM" ingest "$H/n" --id urn:h:15
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | grep -c 'normalization or case')" -eq 2 ]
    # A warning, not a loss: all four files are kept, each with its bytes.
    "$VELLUM" get urn:h:15 "$H/got" >/dev/null
    diff -r "$H/n" "$H/got/data"
}
