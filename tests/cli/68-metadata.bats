#!/usr/bin/env bats
# METS in every version: schema-valid offline, with DC, MODS, per-file DC,
# PREMIS objects and events; descriptive metadata in; hostile XML refused.

load helpers

setup() {
    setup_repo
    "$VELLUM" config schemas "$VELLUM_SHARED/schemas" >/dev/null
    SRC="$BATS_TEST_TMPDIR/letters-box"
    mkdir -p "$SRC/letters"
    printf 'Dear Joseph,\n' > "$SRC/letters/one.txt"
    printf 'Dear Ann,\n' > "$SRC/letters/two.txt"
    printf 'Dear all,\n' > "$SRC/letters/three.txt"
    printf '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="1" height="1"/>\n' > "$SRC/emblem.svg"
    XSD="$VELLUM_SHARED/schemas/mets-bundle.xsd"
    export XML_CATALOG_FILES="$VELLUM_SHARED/schemas/catalog.xml"
}

# mets_of ID [vN]: the object's METS.xml, read back through vellum get
mets_of() {
    local out="$BATS_TEST_TMPDIR/get-$RANDOM"
    "$VELLUM" get "$1" "$out" ${2:+--version $2} >/dev/null
    echo "$out/METS.xml"
}

schema_valid() {
    xmllint --noout --nonet --schema "$XSD" "$1" 2>&1 | grep -q "validates$"
}

xpath() {   # xpath FILE EXPR -> string value
    python3 - "$1" "$2" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"mets": "http://www.loc.gov/METS/", "premis": "http://www.loc.gov/premis/v3",
      "mods": "http://www.loc.gov/mods/v3", "dc": "http://purl.org/dc/elements/1.1/",
      "xlink": "http://www.w3.org/1999/xlink"}
root = ET.parse(sys.argv[1]).getroot()
expr = sys.argv[2]
if expr.startswith("count:"):
    print(len(root.findall(expr[6:], ns)))
else:
    print("|".join((e.text or "") for e in root.findall(expr, ns)))
PY
}

@test "every version has a schema-valid METS.xml; validate --mets agrees" {
    run "$VELLUM" ingest "$SRC" --id urn:x:mets --dc title="Letters" --dc creator="Lee, Ann"
    [ "$status" -eq 0 ]
    printf 'Dear Ann, again\n' > "$SRC/letters/four.txt"
    run "$VELLUM" ingest "$SRC" --id urn:x:mets
    [ "$status" -eq 0 ]
    for v in v1 v2; do
        m=$(mets_of urn:x:mets $v)
        schema_valid "$m" || { xmllint --noout --nonet --schema "$XSD" "$m"; return 1; }
    done
    m=$(mets_of urn:x:mets v2)
    [ "$(xpath "$m" 'count:.//mets:fileGrp[@USE="original"]/mets:file')" = "5" ]
    [ "$(xpath "$m" './/mets:dmdSec[@ID="dmd-dc"]//dc:title')" = "" ] # v2 had no --dc
    run "$VELLUM" validate --all --mets
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    # And it can disagree: v2's METS made schema-invalid, with the inventory
    # digests and sidecars updated so that only the schema check can tell.
    d=$(object_dir urn:x:mets)
    chmod -R u+w "$d"
    python3 - "$d" v2 <<'PY'
import hashlib, json, os, sys
o, v = sys.argv[1], sys.argv[2]
p = os.path.join(o, v, "content/METS.xml")
x = open(p, "rb").read().replace(b"</mets:mets>", b"<mets:bogus/></mets:mets>", 1)
open(p, "wb").write(x)
new = hashlib.sha512(x).hexdigest()
inv = json.load(open(os.path.join(o, "inventory.json")))
old = [k for k, ps in inv["manifest"].items() if v + "/content/METS.xml" in ps][0]
inv["manifest"][new] = inv["manifest"].pop(old)
st = inv["versions"][v]["state"]
st[new] = st.pop(old)
t = json.dumps(inv, indent=2).encode()
for d in ("", v):
    open(os.path.join(o, d, "inventory.json"), "wb").write(t)
    open(os.path.join(o, d, "inventory.json.sha512"), "w").write(
        hashlib.sha512(t).hexdigest() + "  inventory.json\n")
PY
    run "$VELLUM" validate --all
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    run "$VELLUM" validate --all --mets
    [ "$status" -eq 1 ]
    [[ "$output" == *"urn:x:mets: METS.xml:"*"bogus"* ]]
    [[ "${lines[-1]}" == "validated 1 object: 1 error, "* ]]
}

@test "METS carries DC, MODS from the DC, PREMIS fixity, formats and this version's events" {
    "$VELLUM" ingest "$SRC" --id urn:x:m2 --dc title="Letters of Ann" --dc subject=Shakers >/dev/null
    m=$(mets_of urn:x:m2)
    schema_valid "$m"
    [ "$(xpath "$m" './/dc:title')" = "Letters of Ann" ]
    [ "$(xpath "$m" './/mods:titleInfo/mods:title')" = "Letters of Ann" ]
    [ "$(xpath "$m" './/mods:subject/mods:topic')" = "Shakers" ]
    sum=$(sha512sum "$SRC/letters/one.txt" | cut -d' ' -f1)
    [[ "$(xpath "$m" './/premis:messageDigest')" == *"$sum"* ]]
    [[ "$(xpath "$m" './/premis:formatRegistryKey')" == *"x-fmt/111"* ]]
    [ "$(xpath "$m" 'count:.//mets:FLocat')" = "4" ]
    [ "$(xpath "$m" 'count:.//mets:file[@CHECKSUMTYPE="SHA-512"]')" = "4" ]
    grep -q 'xlink:href="data/letters/one.txt"' "$m"
    [ "$(xpath "$m" 'count:.//premis:event')" -ge 3 ]
    [[ "$(xpath "$m" './/premis:eventType')" == *ingestion*"message digest calculation"*"format identification"* ]]
    [[ "$(xpath "$m" './/premis:agentName')" == *vellum*OpenSSL*libmagic* ]]
    # nested divs: letters/ is a Directory div holding three Items
    [ "$(xpath "$m" 'count:.//mets:structMap[@TYPE="physical"]//mets:div[@LABEL="letters"]/mets:div')" = "3" ]
}

@test "MODS in, DC out (and kept as given)" {
    run "$VELLUM" ingest "$SRC" --id urn:x:mods --metadata "$VELLUM_TESTS/fixtures/xml/mods.xml"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    m=$(mets_of urn:x:mods)
    schema_valid "$m"
    [[ "$(xpath "$m" './/dc:title')" == *"letters of Ann Lee"* ]]
    [[ "$(xpath "$m" './/mods:name/mods:namePart')" == *"Meacham, Joseph"* ]]
}

@test "DC XML in" {
    run "$VELLUM" ingest "$SRC" --id urn:x:dcxml --metadata "$VELLUM_TESTS/fixtures/xml/dc.xml"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    m=$(mets_of urn:x:dcxml)
    schema_valid "$m"
    [ "$(xpath "$m" './/dc:publisher')" = "Example Historical Society" ]
    [[ "$(xpath "$m" './/mods:originInfo/mods:publisher')" == "Example Historical Society" ]]
}

@test "metadata.csv: the objects/ row describes the deposit, other rows their files" {
    run "$VELLUM" ingest "$SRC" --id urn:x:csv --metadata "$VELLUM_TESTS/fixtures/xml/metadata.csv"
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    m=$(mets_of urn:x:csv)
    schema_valid "$m"
    [[ "$(xpath "$m" './/mets:dmdSec[@ID="dmd-dc"]//dc:title')" == "Letters of Ann Lee" ]]
    [[ "$(xpath "$m" './/dc:title')" == *"First letter"* ]]
    [[ "$(xpath "$m" './/dc:title')" == *"Second letter"* ]]
    [ "$(xpath "$m" 'count:.//mets:div[@DMDID]')" -ge 4 ]
}

@test "metadata naming a file that is not in the deposit is refused" {
    rm "$SRC/letters/three.txt"
    run "$VELLUM" ingest "$SRC" --id urn:x:csv2 --metadata "$VELLUM_TESTS/fixtures/xml/metadata.csv"
    [ "$status" -eq 2 ]
    [[ "$output" == *"data/letters/three.txt"* ]]
    [ "$(object_count)" -eq 0 ]
}

@test "bag-info.txt becomes DC in the METS" {
    B="$BATS_TEST_TMPDIR/bag"
    mkdir -p "$B/data"
    printf 'hello\n' > "$B/data/h.txt"
    printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' > "$B/bagit.txt"
    printf 'Source-Organization: Example Archives\nExternal-Identifier: acc-77\nExternal-Description: A box\n' > "$B/bag-info.txt"
    (cd "$B" && sha256sum data/h.txt > manifest-sha256.txt)
    run "$VELLUM" ingest "$B" --id urn:x:bag
    [ "$status" -eq 0 ] || { echo "$output"; return 1; }
    m=$(mets_of urn:x:bag)
    schema_valid "$m"
    [ "$(xpath "$m" './/dc:publisher')" = "Example Archives" ]
    [ "$(xpath "$m" './/dc:identifier')" = "acc-77" ]
    [ "$(xpath "$m" './/dc:description')" = "A box" ]
}

@test "an archive deposit's METS is valid and names original entries" {
    (cd "$BATS_TEST_TMPDIR" && tar -czf box.tgz letters-box)
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/box.tgz" --id urn:x:arc >/dev/null
    m=$(mets_of urn:x:arc)
    schema_valid "$m"
    [[ "$(xpath "$m" './/premis:eventType')" == *unpacking* ]]
    [[ "$(xpath "$m" './/premis:originalName')" == *"letters-box/letters/one.txt"* ]]
}

@test "a merge version's METS lists kept files too" {
    "$VELLUM" ingest "$SRC" --id urn:x:merge >/dev/null
    mkdir -p "$BATS_TEST_TMPDIR/more" && printf 'p.s.\n' > "$BATS_TEST_TMPDIR/more/ps.txt"
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/more" --id urn:x:merge --merge >/dev/null
    m=$(mets_of urn:x:merge v2)
    schema_valid "$m"
    [ "$(xpath "$m" 'count:.//mets:fileGrp/mets:file')" = "5" ]
    [[ "$(xpath "$m" './/premis:formatRegistryKey')" == *"x-fmt/111"* ]]
}

@test "hostile and malformed XML metadata is refused and nothing is stored" {
    for f in billion-laughs external-entity external-dtd malformed; do
        run "$VELLUM" ingest "$SRC" --id "urn:x:$f" --metadata "$VELLUM_TESTS/fixtures/xml/$f.xml"
        [ "$status" -eq 2 ] || { echo "$f: $status $output"; return 1; }
        [[ "$output" == *"$f.xml"* ]] || { echo "$f: $output"; return 1; }
        [ "$(echo "$output" | wc -l)" -eq 1 ] || { echo "$f: $output"; return 1; }
    done
    [ "$(object_count)" -eq 0 ]
    staging_clean
}

@test "METS stays under 2 KB per file" {
    mkdir -p "$BATS_TEST_TMPDIR/many"
    for i in $(seq 1 300); do printf 'file %d\n' "$i" > "$BATS_TEST_TMPDIR/many/f$i.txt"; done
    "$VELLUM" ingest "$BATS_TEST_TMPDIR/many" --id urn:x:many >/dev/null
    m=$(mets_of urn:x:many)
    size=$(stat -c %s "$m")
    [ $((size / 300)) -lt 2048 ]
}

@test "--dc with an unknown element is refused" {
    run "$VELLUM" ingest "$SRC" --id urn:x:baddc --dc colour=blue
    [ "$status" -eq 2 ]
    [[ "$output" == *colour* ]]
}
