#!/usr/bin/env bats
# vellum bag validate PATH... and vellum bag create SRC DEST, without a
# repository: exit codes, exact problem, warning and refusal lines, and the
# RFC 8493 cases of issue items 6-11 as the LoC conformance suite's runner
# sees them (exit 0 valid, 1 invalid, warnings on stderr).

load helpers

# make_bag DIR VERSION ALG... : a bag with three payload files (5016 bytes)
make_bag() {
    python3 - "$@" <<'PY'
import hashlib, os, sys
d, version, algs = sys.argv[1], sys.argv[2], sys.argv[3:]
payload = {"data/letter.txt": b"Dear Ann,\n", "data/sub/photo.bin": bytes(range(256)) * 19 + bytes(136),
           "data/name with space.txt": b"space\n"}
for p, b in payload.items():
    os.makedirs(os.path.join(d, os.path.dirname(p)), exist_ok=True)
    open(os.path.join(d, p), "wb").write(b)
open(os.path.join(d, "bagit.txt"), "w").write(
    "BagIt-Version: %s\nTag-File-Character-Encoding: UTF-8\n" % version)
octets = sum(len(b) for b in payload.values())
open(os.path.join(d, "bag-info.txt"), "w").write(
    "Source-Organization: Example Archives\nPayload-Oxum: %d.%d\n" % (octets, len(payload)))
for a in algs:
    with open(os.path.join(d, "manifest-%s.txt" % a), "w") as f:
        for p, b in sorted(payload.items()):
            f.write("%s  %s\n" % (hashlib.new(a, b).hexdigest(), p))
for a in algs:
    with open(os.path.join(d, "tagmanifest-%s.txt" % a), "w") as f:
        for t in ["bagit.txt", "bag-info.txt"] + ["manifest-%s.txt" % x for x in algs]:
            f.write("%s %s\n" % (hashlib.new(a, open(os.path.join(d, t), "rb").read()).hexdigest(), t))
PY
}

# hexdigest ALG FILE: the file's digest (Python's hashlib names).
hexdigest() {
    python3 -c 'import hashlib, sys; print(hashlib.new(sys.argv[1], open(sys.argv[2], "rb").read()).hexdigest())' "$1" "$2"
}

# retag DIR ALG: the tag manifest again, after a test changed a tag file.
retag() {
    (cd "$1" && rm -f tagmanifest-*.txt &&
     for f in bagit.txt bag-info.txt manifest-*.txt; do
         printf '%s %s\n' "$(hexdigest "$2" "$f")" "$f"
     done > "tagmanifest-$2.txt")
}

setup() {
    cd "$BATS_TEST_TMPDIR"
    B=bag
}

# ---- validate ----------------------------------------------------------------

@test "bag validate: a valid bag folder, and the same bag in zip and tar.gz archives" {
    make_bag "$B" 1.0 sha256 sha512
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = "bag: valid (BagIt 1.0, 3 files, 4.9 KiB)" ]
    zip -qr bag.zip bag && tar -czf bag.tgz bag && (cd bag && zip -qr ../flat.zip .)
    run "$VELLUM" bag validate bag.zip bag.tgz flat.zip
    [ "$status" -eq 0 ]
    [ "$output" = "bag.zip: valid (BagIt 1.0, 3 files, 4.9 KiB)
bag.tgz: valid (BagIt 1.0, 3 files, 4.9 KiB)
flat.zip: valid (BagIt 1.0, 3 files, 4.9 KiB)" ]
}

@test "bag validate: every problem on stdout, exit 1; the worst exit of several paths" {
    make_bag "$B" 1.0 sha256
    printf 'tampered\n' > "$B/data/letter.txt"
    printf 'stowaway\n' > "$B/data/extra.txt"
    rm "$B/data/sub/photo.bin"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    was=$(printf 'Dear Ann,\n' | sha256sum | cut -d' ' -f1)
    now=$(sha256sum "$B/data/letter.txt" | cut -d' ' -f1)
    [ "$output" = "bag: data/extra.txt: present but in no payload manifest
bag: data/letter.txt: sha256 expected $was got $now
bag: data/sub/photo.bin: listed in manifest-sha256.txt but missing
bag: Payload-Oxum in bag-info.txt is 5016.3 but the payload has 24 bytes in 3 files
bag: invalid: bag is not valid: 4 problems" ]
    make_bag good 1.0 sha256
    run "$VELLUM" bag validate good "$B" missing-path
    [ "$status" -eq 2 ]
    [[ "$output" == "good: valid"*"bag: invalid: bag is not valid: 4 problems"*"vellum: no such file or folder: missing-path" ]]
}

@test "bag validate: a tag file only digested (not read) is checked streamed, in a folder and in a zip" {
    make_bag "$B" 1.0 sha256 sha512
    mkdir -p "$B/meta"
    head -c 3000000 /dev/urandom > "$B/meta/big.bin"
    printf 'notes\n' > "$B/notes.xml"
    for a in sha256 sha512; do
        printf '%s meta/big.bin\n%s notes.xml\n' "$(hexdigest $a "$B/meta/big.bin")" \
            "$(hexdigest $a "$B/notes.xml")" >> "$B/tagmanifest-$a.txt"
    done
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    zip -qr bag.zip bag
    run "$VELLUM" bag validate bag.zip
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    was=$(hexdigest sha256 "$B/notes.xml")
    printf 'edited\n' > "$B/notes.xml"
    now=$(hexdigest sha256 "$B/notes.xml")
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [[ "$output" == *"bag: notes.xml: sha256 expected $was got $now (tagmanifest-sha256.txt)"* ]]
    [[ "$output" == *"bag: notes.xml: sha512 expected "* ]]
}

@test "bag validate --fast: Payload-Oxum only" {
    make_bag "$B" 1.0 sha256
    printf 'Dear Bob,\n' > "$B/data/letter.txt"     # same size, other bytes
    run "$VELLUM" bag validate --fast "$B"
    [ "$status" -eq 0 ]
    [ "$output" = "bag: Payload-Oxum matches (BagIt 1.0, 3 files, 4.9 KiB; digests not checked)" ]
    printf 'x' >> "$B/data/letter.txt"
    run "$VELLUM" bag validate --fast "$B"
    [ "$status" -eq 1 ]
    [ "$output" = "bag: Payload-Oxum in bag-info.txt is 5016.3 but the payload has 5017 bytes in 3 files
bag: invalid: bag is not valid: 1 problem" ]
    sed -i '/Payload-Oxum/d' "$B/bag-info.txt"
    run "$VELLUM" bag validate --fast "$B"
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: bag-info.txt has no Payload-Oxum to check the payload against" ]
}

@test "bag validate --json: one object per path" {
    make_bag "$B" 1.0 sha256
    printf 'https://example.org/p.bin 5000 data/sub/photo.bin\n' > "$B/fetch.txt"
    rm "$B/data/sub/photo.bin"
    run "$VELLUM" bag validate --json "$B"
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | jfield 'len(d), d[0]["status"], d[0]["valid"], d[0]["complete"], d[0]["to_fetch"], d[0]["version"], len(d[0]["problems"])')" = "1 invalid False False 1 1.0 2" ]
    [ "$(echo "$output" | jfield 'd[0]["problems"][0]')" = "data/sub/photo.bin: listed in manifest-sha256.txt but missing: still to be fetched from https://example.org/p.bin (fetch.txt line 1; vellum does not download)" ]
}

@test "bag validate: what vellum cannot judge exits 2" {
    printf 'x' > plain.txt
    run "$VELLUM" bag validate plain.txt
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: plain.txt is neither a folder nor an archive vellum reads" ]
    make_bag "$B" 1.0 sha256
    ln -s /etc/passwd "$B/data/link"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: bag: data/link is a symbolic link (vellum checks regular files only)" ]
    rm "$B/data/link"
    python3 - <<'PY'
import zipfile
with zipfile.ZipFile("evil.zip", "w") as z:
    z.writestr("bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    z.writestr("../outside.txt", "x")
PY
    run "$VELLUM" bag validate evil.zip
    [ "$status" -eq 2 ]
    [ "$output" = 'vellum: evil.zip: entry ../outside.txt: path with ".." (path traversal)' ]
    cp -r "$B" md4 && mv md4/manifest-sha256.txt md4/manifest-md4.txt
    run "$VELLUM" bag validate md4
    [ "$status" -eq 2 ]
    [[ "$output" == 'vellum: manifest-md4.txt: algorithm "md4" is not one vellum can compute'* ]]
}

@test "bag validate: usage" {
    run "$VELLUM" bag validate --help
    [ "$status" -eq 0 ]
    [[ "$output" == "usage: vellum bag validate PATH..."* ]]
    run "$VELLUM" bag validate
    [ "$status" -eq 2 ]
    run "$VELLUM" bag
    [ "$status" -eq 2 ]
    run "$VELLUM" bag frobnicate
    [ "$status" -eq 2 ]
    [[ "$output" == "vellum bag: 'frobnicate' is not a bag command (validate, create)"* ]]
}

# Item 6 and its siblings (RFC 8493 2.1.3, 2.3, 5.1).
@test "bag validate, item 6: ./data/ paths are valid, with a warning on stderr" {
    make_bag "$B" 1.0 sha256
    sed -i 's#  data/#  ./data/#' "$B/manifest-sha256.txt"
    retag "$B" sha256
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = 'vellum: warning: bag: manifest-sha256.txt line 1: path "./data/letter.txt" is relative ("./"); read as "data/letter.txt"
vellum: warning: bag: manifest-sha256.txt line 2: path "./data/name with space.txt" is relative ("./"); read as "data/name with space.txt"
vellum: warning: bag: manifest-sha256.txt line 3: path "./data/sub/photo.bin" is relative ("./"); read as "data/sub/photo.bin"
bag: valid (BagIt 1.0, 3 files, 4.9 KiB)' ]
}

@test "bag validate, item 6: .. out of the bag, absolute paths and backslashes" {
    make_bag "$B" 1.0 md5
    printf '3e6ffc4a8a1f38a7094e15d2356d7252  ../../../README.md\n' >> "$B/manifest-md5.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$output" = 'bag: invalid: manifest-md5.txt line 4: path leaves the bag (".." above its top folder) "../../../README.md"' ]
    sed -i '$d' "$B/manifest-md5.txt"
    printf '3e6ffc4a8a1f38a7094e15d2356d7252  /data/letter.txt\n' >> "$B/manifest-md5.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$output" = 'bag: invalid: manifest-md5.txt line 4: absolute path "/data/letter.txt"' ]
    sed -i '$d' "$B/manifest-md5.txt"
    sed -i 's#data/sub/photo.bin#data\\sub\\photo.bin#' "$B/manifest-md5.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$output" = 'vellum: warning: bag: manifest-md5.txt line 3: path "data\sub\photo.bin" has a backslash, read as part of a name: BagIt separates folders with '"'/'"' only
bag: invalid: manifest-md5.txt line 3: payload manifest lists a file outside data/ "data\sub\photo.bin"' ]
}

@test "bag validate, item 6: %0A %0D %25 decoded, CR and CRLF line ends, BOM refused, ISO-8859-1 read" {
    make_bag "$B" 1.0 sha256
    printf 'one' > "$B/data/a"$'\n'"b" && printf 'two' > "$B/data/c"$'\r'"d" && printf 'three' > "$B/data/100%"
    {
        printf '%s  data/a%%0Ab\r\n' "$(printf one | sha256sum | cut -c1-64)"
        printf '%s  data/c%%0dd\r' "$(printf two | sha256sum | cut -c1-64)"
        printf '%s  data/100%%25\n' "$(printf three | sha256sum | cut -c1-64)"
    } >> "$B/manifest-sha256.txt"
    sed -i 's/^Payload-Oxum: .*/Payload-Oxum: 5027.6/' "$B/bag-info.txt"
    retag "$B" sha256
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = "bag: valid (BagIt 1.0, 6 files, 4.9 KiB)" ]
    cp -r "$B" bom && { printf '\xef\xbb\xbf'; cat "$B/bag-info.txt"; } > bom/bag-info.txt
    run "$VELLUM" bag validate bom
    [ "$status" -eq 1 ]
    [ "$output" = "bom: invalid: bag-info.txt: starts with a byte-order mark, which BagIt does not allow in UTF-8 tag files" ]
    printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n' > "$B/bagit.txt"
    printf 'Contact-Name: Jos\xe9\n' >> "$B/bag-info.txt"
    retag "$B" sha256
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = "vellum: warning: bag: bagit.txt: tag files are in ISO-8859-1; BagIt 1.0 strongly recommends UTF-8 (RFC 8493 section 2.3)
bag: valid (BagIt 1.0, 6 files, 4.9 KiB)" ]
}

# Item 7 (RFC 8493 2.2.3).
@test "bag validate, item 7: a complete holey bag is valid; an incomplete one names what is still to fetch" {
    make_bag "$B" 1.0 sha256
    printf 'https://example.org/photo.bin 5000 data/sub/photo.bin\nhttps://example.org/l - data/letter.txt\n' > "$B/fetch.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = "bag: valid (BagIt 1.0, 3 files, 4.9 KiB)" ]
    rm "$B/data/sub/photo.bin" "$B/data/letter.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$output" = "bag: data/letter.txt: listed in manifest-sha256.txt but missing: still to be fetched from https://example.org/l (fetch.txt line 2; vellum does not download)
bag: data/sub/photo.bin: listed in manifest-sha256.txt but missing: still to be fetched from https://example.org/photo.bin (fetch.txt line 1; vellum does not download)
bag: Payload-Oxum in bag-info.txt is 5016.3 but the payload has 6 bytes in 1 file
bag: incomplete: 2 files that fetch.txt lists are still to be fetched" ]
}

@test "bag validate, item 7: fetch.txt outside data/ is invalid in 1.0, a warning in 0.97" {
    make_bag "$B" 1.0 sha256
    printf 'https://example.org/x 3 ../x\n' > "$B/fetch.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$output" = 'bag: invalid: fetch.txt line 1: path leaves the bag (".." above its top folder) "../x"' ]
    printf 'https://example.org/x 3 tags/x.txt\n' > "$B/fetch.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$output" = 'bag: invalid: fetch.txt line 1: "tags/x.txt" is not a payload file: fetch.txt lists files under data/ only (RFC 8493 section 2.2.3)' ]
    make_bag old 0.97 md5
    printf 'file:///home/x/sachiel.png 42000 sachiel.png\n' > old/fetch.txt
    run "$VELLUM" bag validate old
    [ "$status" -eq 0 ]
    [ "$output" = 'vellum: warning: old: fetch.txt line 1: "sachiel.png" is not under data/; ignored (BagIt 1.0 fetches payload files only)
old: valid (BagIt 0.97, 3 files, 4.9 KiB)' ]
}

# Item 8 (RFC 8493 2.4).
@test "bag validate, item 8: sha224, sha384, sha3-256 and blake2s manifests" {
    make_bag "$B" 1.0 sha224 sha384 sha3_256 blake2s
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = 'vellum: warning: bag: manifest-sha3_256.txt: "sha3_256" is not a BagIt algorithm name (lower case letters and digits only, RFC 8493 section 2.4); read as SHA3-256
vellum: warning: bag: tagmanifest-sha3_256.txt: "sha3_256" is not a BagIt algorithm name (lower case letters and digits only, RFC 8493 section 2.4); read as SHA3-256
bag: valid (BagIt 1.0, 3 files, 4.9 KiB)' ]
    printf 'Dear Bob,\n' > "$B/data/letter.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$(echo "$output" | grep -c 'data/letter.txt: .* expected')" -eq 4 ]
    [[ "$output" == *"data/letter.txt: sha384 expected "* ]]
}

# Item 9 (RFC 8493 6.1.1.3).
@test "bag validate, item 9: the LoC suite's normalization cases warn and pass" {
    make_bag "$B" 0.97 sha512
    nfc=$(printf 'N\xc3\xba\xc3\xb1ez') nfd=$(printf 'Nu\xcc\x81n\xcc\x83ez')
    e=$(sha512sum /dev/null | cut -d' ' -f1)
    : > "$B/data/$nfc" && : > "$B/data/$nfd"
    printf '%s  data/%s\n%s  data/%s\n' "$e" "$nfc" "$e" "$nfd" >> "$B/manifest-sha512.txt"
    sed -i 's/^Payload-Oxum: .*/Payload-Oxum: 5016.5/' "$B/bag-info.txt"
    retag "$B" sha512
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = "vellum: warning: bag: manifest-sha512.txt lines 4 and 5: \"data/$nfc\" and \"data/$nfd\" are the same name in two Unicode normalizations (NFC, NFD)
bag: valid (BagIt 0.97, 5 files, 4.9 KiB)" ]
    # filename-normalization: listed NFC, present NFD only
    rm "$B/data/$nfc"
    sed -i '$d' "$B/manifest-sha512.txt"
    sed -i 's/^Payload-Oxum: .*/Payload-Oxum: 5016.4/' "$B/bag-info.txt"
    retag "$B" sha512
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = "vellum: warning: bag: data/$nfd: listed in manifest-sha512.txt as \"data/$nfc\", the same name in another Unicode normalization (NFD here, NFC there); matched
bag: valid (BagIt 0.97, 4 files, 4.9 KiB)" ]
}

@test "bag validate, item 9: a duplicate entry warns with the same digest, fails with another" {
    make_bag "$B" 1.0 sha256
    line=$(grep letter "$B/manifest-sha256.txt")
    printf '%s\n' "$line" >> "$B/manifest-sha256.txt"
    retag "$B" sha256
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 0 ]
    [ "$output" = 'vellum: warning: bag: manifest-sha256.txt line 4: "data/letter.txt" listed again with the same checksum (first on line 1)
bag: valid (BagIt 1.0, 3 files, 4.9 KiB)' ]
    sed -i '$d' "$B/manifest-sha256.txt"
    printf '%064d  data/letter.txt\n' 0 >> "$B/manifest-sha256.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$output" = 'bag: invalid: manifest-sha256.txt line 4: path listed again with a different checksum (first on line 1) "data/letter.txt"' ]
}

# Item 10 (RFC 8493 2.1.1, 2.1.2).
@test "bag validate, item 10: no bagit.txt, no data/" {
    make_bag "$B" 1.0 sha256
    rm "$B/bagit.txt"
    run "$VELLUM" bag validate "$B"
    [ "$status" -eq 1 ]
    [ "$output" = "bag: invalid: bagit.txt is missing: a bag declares itself there (RFC 8493 section 2.1.1)" ]
    mkdir empty && printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' > empty/bagit.txt && : > empty/manifest-sha512.txt
    run "$VELLUM" bag validate empty
    [ "$status" -eq 1 ]
    [ "$output" = "empty: data/: the payload folder is missing (RFC 8493 section 2.1.2)
empty: invalid: bag is not valid: 1 problem" ]
    mkdir empty/data
    run "$VELLUM" bag validate empty
    [ "$status" -eq 0 ]
}

# ---- create ------------------------------------------------------------------

@test "bag create: more files than one batch (2,048), every one copied and listed in path order, two algorithms" {
    mkdir -p src/a src/a-b
    # "a-b/..." sorts before "a/..." by bytes ('-' < '/'), though a walk
    # meets folder a first: the manifest is in path order
    for i in $(seq 1 2000); do printf '%d\n' "$i" > "src/a/f$i"; done
    for i in $(seq 1 100); do printf 'b%d\n' "$i" > "src/a-b/g$i"; done
    run "$VELLUM" bag create src out --algorithm sha256 --algorithm md5
    [ "$status" -eq 0 ]
    [[ "$output" == *"(2100 files, "* ]]
    for alg in sha256 md5; do
        [ "$(wc -l < out/manifest-$alg.txt)" -eq 2100 ]
        cut -d' ' -f3- out/manifest-$alg.txt > "$BATS_TEST_TMPDIR/paths"
        LC_ALL=C sort -c "$BATS_TEST_TMPDIR/paths"
    done
    [ "$(head -1 out/manifest-sha256.txt)" = "$(sha256sum src/a-b/g1 | cut -c1-64)  data/a-b/g1" ]
    [ "$(grep ' data/a/f2000$' out/manifest-md5.txt)" = "$(md5sum src/a/f2000 | cut -c1-32)  data/a/f2000" ]
    diff -r src out/data
    run "$VELLUM" bag validate out
    [ "$status" -eq 0 ]
}

@test "bag create: a valid RFC 8493 bag, sha512 by default, names percent-encoded" {
    mkdir -p src/sub src/empty
    printf 'hello\n' > src/a.txt
    printf 'x' > "src/sub/100%"
    printf 'y' > "src/sub/two"$'\n'"lines"
    export VELLUM_NOW=2026-11-01T10:00:00Z
    run "$VELLUM" bag create src out
    [ "$status" -eq 0 ]
    [ "$output" = "vellum: warning: empty folder src/empty is not kept: BagIt manifests list files only
out: BagIt 1.0 bag created (3 files, 8 B)" ]
    [ "$(cat out/bagit.txt)" = "BagIt-Version: 1.0
Tag-File-Character-Encoding: UTF-8" ]
    [ "$(cat out/bag-info.txt)" = "Bagging-Date: 2026-11-01
Bag-Software-Agent: vellum 0.1.0
Payload-Oxum: 8.3" ]
    [ "$(ls out)" = "bag-info.txt
bagit.txt
data
manifest-sha512.txt
tagmanifest-sha512.txt" ]
    [ "$(cat out/manifest-sha512.txt)" = "$(sha512sum src/a.txt | cut -c1-128)  data/a.txt
$(sha512sum src/sub/100% | cut -c1-128)  data/sub/100%25
$(printf y | sha512sum | cut -c1-128)  data/sub/two%0Alines" ]
    [ "$(cut -d' ' -f3 out/tagmanifest-sha512.txt | tr '\n' ' ')" = "bag-info.txt bagit.txt manifest-sha512.txt " ]
    (cd out && sha512sum -c --quiet <(sed 's/  / /' tagmanifest-sha512.txt | awk '{print $1"  "$2}'))
    ! ls -d out.vellum-bag-* 2>/dev/null
    run "$VELLUM" bag validate out
    [ "$status" -eq 0 ]
}

@test "bag create: --algorithm, --info and --dc make the manifests and bag-info.txt; ingest takes the bag" {
    mkdir src && printf 'hello\n' > src/a.txt
    cat > dc.xml <<'EOF'
<?xml version="1.0"?>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title>Letters of Ann</dc:title>
  <dc:creator>Ann Archer</dc:creator>
  <dc:publisher>Example Archives</dc:publisher>
  <dc:description>Letters and one photograph</dc:description>
  <dc:identifier>acc-2026-04</dc:identifier>
  <dc:subject>letters</dc:subject>
</oai_dc:dc>
EOF
    run "$VELLUM" bag create src out --algorithm md5 --algorithm sha3-256 \
        --info Contact-Name="Ann Archivist" --info Bagging-Date=2026-01-02 --dc dc.xml --json
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jfield 'd["files"], d["bytes"], d["algorithms"]')" = "1 6 ['md5', 'sha3-256']" ]
    [ "$(cat out/bag-info.txt)" = "Title: Letters of Ann
Creator: Ann Archer
Source-Organization: Example Archives
External-Description: Letters and one photograph
External-Identifier: acc-2026-04
Contact-Name: Ann Archivist
Bagging-Date: 2026-01-02
Bag-Software-Agent: vellum 0.1.0
Payload-Oxum: 6.1" ]
    [ "$(cat out/manifest-md5.txt)" = "$(md5sum src/a.txt | cut -c1-32)  data/a.txt" ]
    [ "$(cat out/manifest-sha3256.txt)" = "$(hexdigest sha3_256 src/a.txt)  data/a.txt" ]
    [ -f out/tagmanifest-md5.txt ] && [ -f out/tagmanifest-sha3256.txt ]
    run "$VELLUM" bag validate out
    [ "$status" -eq 0 ]
    setup_repo
    run "$VELLUM" ingest out --id urn:made --json
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    [ "$(echo "$output" | jfield 'd["bag_version"]')" = "1.0" ]
}

@test "bag create: refusals exit 2 and write nothing" {
    mkdir src && printf 'hello\n' > src/a.txt
    mkdir taken
    run "$VELLUM" bag create src taken
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: taken already exists; give a new name" ]
    run "$VELLUM" bag create src/a.txt out
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: src/a.txt is not a folder" ]
    run "$VELLUM" bag create src out --algorithm crc32
    [ "$status" -eq 2 ]
    [ "$output" = 'vellum: algorithm "crc32" is not a fixed-length digest OpenSSL provides (md5, sha1, sha224, sha256, sha384, sha512, sha3-256, blake2b512...)' ]
    run "$VELLUM" bag create src out --algorithm sha512 --algorithm SHA-512
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: algorithm SHA2-512 given twice (as sha512 and SHA-512)" ]
    run "$VELLUM" bag create src out --info Payload-Oxum=1.1
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: Payload-Oxum is computed from the payload; it cannot be given" ]
    run "$VELLUM" bag create src out --info "Bad: label=x"
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: bag-info label \"Bad: label\" has a ':'" ]
    run "$VELLUM" bag create src out --info Bagging-Date=yesterday
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: Bagging-Date must be YYYY-MM-DD (RFC 8493 section 2.2.2)" ]
    run "$VELLUM" bag create src out --info nolabel
    [ "$status" -eq 2 ]
    [[ "$output" == 'vellum bag create: --info takes LABEL=VALUE, not "nolabel"'* ]]
    run "$VELLUM" bag create src src/inner
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: src/inner is inside src, the folder being bagged" ]
    ln -s /etc/passwd src/link
    run "$VELLUM" bag create src out
    [ "$status" -eq 2 ]
    [ "$output" = "vellum: refusing src/link: a symbolic link (copy the target in)" ]
    [ "$(ls)" = "src
taken" ]
    run "$VELLUM" bag create src
    [ "$status" -eq 2 ]
}
