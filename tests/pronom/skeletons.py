#!/usr/bin/env python3
"""Skeleton files for a DROID signature file: one small file per
InternalSignature, made of bytes that satisfy each of its ByteSequences at
their smallest offsets and zeros everywhere else, as the PRONOM team's own
"skeleton suite" is made.

    skeletons.py SIGNATURE_FILE OUTDIR [CONTAINER_FILE]

writes OUTDIR/sig-<ID>.<ext> for every internal signature and
OUTDIR/manifest.tsv (file, signature id, expected PUIDs, note).  With a
container signature file it also writes OUTDIR/container-<ID>.<ext> for
each ZIP container signature, listed in the manifest as "container:<ID>".
The extension is one PRONOM gives a format using the signature, so no
extension mismatch arises.

This is a second, independent reading of the compiled signature format (it
shares nothing with vellum's C engine), following DROID 6's matcher
(droid-core .../signature/droid6/ByteSequence.java and SubSequence.java):

 * A ByteSequence with Reference="BOFoffset" is anchored at the start of
   the file, "EOFoffset" at the end, and no Reference is "Variable" (found
   anywhere).  ByteSequences are matched independently of each other.
 * A SubSequence is [left fragments] anchor [right fragments].  Forwards,
   the anchor is searched from marker + SubSeqMinOffset +
   minLeftFragmentLength, so SubSeqMinOffset is the gap before the leftmost
   fragment.  Backwards (EOF) the anchor ends at EOF - SubSeqMinOffset -
   minRightFragmentLength, so the offset is the gap after the rightmost
   fragment.  Later SubSequences count from the end of the previous match
   (DROID's file marker); an EOF ByteSequence's SubSequences are matched
   from the last one in the list backwards.
 * Fragments: each Position is one step outwards from the anchor (left:
   Position 1 is nearest the anchor's start; right: nearest its end); its
   space is MinOffset..MaxOffset gap bytes plus the fragment.  Several
   fragments with one Position are alternatives.
 * Byte syntax: hex pairs, "??", sets "[..]" (ranges "a:b", negation "!",
   byteseek's bitmask "&XX").  DROID hands a set to byteseek after only
   rewriting "!" and ":", so a set such as [!0000] or [0000:1000] is ONE
   byte drawn from the bytes listed; PRONOM meant a two-byte value.  A
   skeleton here writes as many bytes as the hex digits give, each of which
   satisfies the one-byte reading, so both readings accept it (these sets
   only ever end a SubSequence in V118..V122, so the extra bytes do not
   move anything that follows).

Where byte constraints of two ByteSequences fall on the same bytes, the
allowed sets are intersected; if they cannot agree the later sequence is
moved within its offset window, and if nothing fits the note says so.
Standard library only, on purpose.
"""
import sys
import os
import re
import zipfile
import xml.etree.ElementTree as ET

NS = ''            # namespaces are stripped on reading (strip_ns)
ALL = frozenset(range(256))
GAP = 8            # zero bytes between the BOF/variable part and the EOF part
MAX_SLIDE = 4096   # how far a clashing sequence may be moved to fit


class SkelError(Exception):
    pass


# ---- byte patterns -> a list of allowed-byte sets -------------------------

def _hexbytes(s):
    if len(s) % 2:
        raise SkelError('odd hex digits: %r' % s)
    return [int(s[i:i + 2], 16) for i in range(0, len(s), 2)]


def _set_positions(body):
    """One set "[...]" (without brackets) as a list of per-position sets.
    The one-byte reading (DROID/byteseek) is a union of every byte value and
    range listed; the PRONOM reading of [AAAA:BBBB] or [!AAAA] is a value of
    len(AAAA)/2 bytes.  We return width = the longest hex run / 2 positions,
    each allowed the one-byte set, except that ranges of several bytes are
    narrowed to their low bound's bytes so the multi-byte value is in range
    too."""
    neg = body.startswith('!')
    if neg:
        body = body[1:]
    single = set()
    width = 1
    low_bytes = None
    for part in re.findall(r'&?[0-9A-Fa-f]+(?::[0-9A-Fa-f]+)?', body):
        if part.startswith('&'):              # byteseek bitmask: all bits set
            mask = int(part[1:], 16)
            single |= {b for b in range(256) if b & mask == mask}
            continue
        if ':' in part:
            lo, hi = part.split(':')
            lob, hib = _hexbytes(lo), _hexbytes(hi)
            width = max(width, len(lob))
            single |= set(range(min(lob), max(hib) + 1)) | set(lob) | set(hib)
            if len(lob) > 1 and not neg:
                low_bytes = lob
        else:
            bs = _hexbytes(part)
            width = max(width, len(bs))
            single |= set(bs)
    if neg:
        single = set(ALL) - single
    if not single:
        raise SkelError('empty set [%s]' % body)
    if low_bytes is not None:
        return [frozenset([b]) & frozenset(single) or frozenset(single)
                for b in low_bytes]
    return [frozenset(single)] * width


def _quoted_to_hex(body):
    """'ab' inside a set -> 6162, so ['6'-'7'] reads as [36:37]."""
    return re.sub(r"'([^']*)'",
                  lambda m: ''.join('%02X' % b for b in m.group(1).encode('latin-1')),
                  body).replace('-', ':')


def parse_pattern(text):
    """Pattern -> list of frozensets (one per byte).  Reads the compiled
    form and PRONOM's raw form (container files): spaces, 'text', gaps
    {n}, {n-m}, {n-*} and * (the minimum gap is written)."""
    out = []
    s = text or ''
    i = 0
    while i < len(s):
        c = s[i]
        if c.isspace():
            i += 1
        elif c == "'":
            j = s.index("'", i + 1)
            out.extend(frozenset([b]) for b in s[i + 1:j].encode('latin-1'))
            i = j + 1
        elif c == '[':
            j = s.index(']', i)
            body = s[i + 1:j]
            if "'" in body:
                body = _quoted_to_hex(body)
            out.extend(_set_positions(body))
            i = j + 1
        elif c == '(':
            # alternatives: take the first (PRONOM's raw form; the compiled
            # form spells them as fragments with one Position instead)
            j = s.index(')', i)
            out.extend(parse_pattern(s[i + 1:j].split('|')[0]))
            i = j + 1
        elif c == '{':
            j = s.index('}', i)
            out.extend([ALL] * int(s[i + 1:j].split('-')[0]))
            i = j + 1
        elif c == '*':
            i += 1
        elif s.startswith('??', i):
            out.append(ALL)
            i += 2
        else:
            out.append(frozenset([int(s[i:i + 2], 16)]))
            i += 2
    return out


def strip_ns(root):
    """Drop the XML namespace so both files read with plain tag names."""
    for el in root.iter():
        if '}' in el.tag:
            el.tag = el.tag.split('}', 1)[1]
    return root


# ---- one SubSequence -> (relative pattern, its min offset) ---------------

def _fragments(ss, tag):
    by_pos = {}
    for f in ss.findall(NS + tag):
        by_pos.setdefault(int(f.get('Position')), []).append(f)
    return [by_pos[p] for p in sorted(by_pos)]


def subsequence_block(ss, choice):
    """The bytes of one SubSequence laid out at minimum gaps: a list of
    sets (None = free byte).  choice(i, n) picks an alternative."""
    anchor = parse_pattern(ss.find(NS + 'Sequence').text)
    left = []                                  # built outwards, reversed later
    k = 0
    for alts in _fragments(ss, 'LeftFragment'):
        f = alts[choice(k, len(alts)) % len(alts)]
        k += 1
        pat = parse_pattern(f.text)
        gap = int(f.get('MinOffset', '0'))
        left = left + [None] * gap + list(reversed(pat))
    right = []
    for alts in _fragments(ss, 'RightFragment'):
        f = alts[choice(k, len(alts)) % len(alts)]
        k += 1
        pat = parse_pattern(f.text)
        gap = int(f.get('MinOffset', '0'))
        right = right + [None] * gap + pat
    return list(reversed(left)) + anchor + right


def _alts_count(ss):
    n = 1
    for tag in ('LeftFragment', 'RightFragment'):
        for alts in _fragments(ss, tag):
            n *= len(alts)
    return n


# ---- placing constraints --------------------------------------------------

class Canvas:
    """Allowed-byte sets at positions (from the start, or from the end for
    the EOF canvas, where position 0 is the last byte)."""

    def __init__(self):
        self.c = {}

    def fits(self, pos, pat):
        for i, a in enumerate(pat):
            if a is None:
                continue
            have = self.c.get(pos + i)
            if have is not None and not (have & a):
                return False
        return True

    def put(self, pos, pat):
        for i, a in enumerate(pat):
            if a is None:
                continue
            have = self.c.get(pos + i)
            self.c[pos + i] = a if have is None else (have & a)

    def end(self):
        return max(self.c) + 1 if self.c else 0


def pick(allowed):
    """The byte written for a set: zero when allowed (the rest of the file
    is zeros), else the smallest allowed value."""
    return 0 if 0 in allowed else min(allowed)


def place_sequence(canvas, subseqs, start_floor, backwards, note):
    """Lay the SubSequences of one ByteSequence on canvas.  For EOF ones
    the canvas runs from the end, so each block is reversed.  Returns the
    position after the last block."""
    cursor = start_floor
    for idx, ss in enumerate(subseqs):
        mn = int(ss.get('SubSeqMinOffset', '0'))
        mx = ss.get('SubSeqMaxOffset')
        mx = int(mx) if mx is not None else mn + MAX_SLIDE
        mx = max(mx, mn)             # DROID: a max below the min is the min
        if idx > 0 or start_floor > 0:
            mx = mn + MAX_SLIDE      # DROID: no max for later SubSequences
        placed = False
        for alt in range(min(_alts_count(ss), 64)):
            block = subsequence_block(ss, lambda k, n, a=alt: (a >> k) if n > 1 else 0)
            if backwards:
                block = list(reversed(block))
            for off in range(mn, min(mx, mn + MAX_SLIDE) + 1):
                if canvas.fits(cursor + off, block):
                    canvas.put(cursor + off, block)
                    if off != mn or alt:
                        note.append('moved to offset %d/alternative %d to fit' % (off, alt))
                    cursor = cursor + off + len(block)
                    placed = True
                    break
            if placed:
                break
        if not placed:
            raise SkelError('no place for subsequence %d' % (idx + 1))
    return cursor


def skeleton(sig):
    """One InternalSignature element -> (bytes, notes)."""
    bof, eof = Canvas(), Canvas()
    note = []
    variable = []
    for bs in sig.findall(NS + 'ByteSequence'):
        ref = bs.get('Reference') or 'Variable'
        subs = sorted(bs.findall(NS + 'SubSequence'),
                      key=lambda s: int(s.get('Position', '1')))
        if ref == 'BOFoffset':
            place_sequence(bof, subs, 0, False, note)
        elif ref == 'EOFoffset':
            # matched from the last SubSequence backwards from EOF
            place_sequence(eof, list(reversed(subs)), 0, True, note)
        elif ref == 'Variable':
            variable.append(subs)
        else:
            raise SkelError('unknown Reference %s' % ref)
    # Variable sequences go after every BOF part, each after the previous,
    # so none of them can disturb an anchored one.
    for subs in variable:
        floor = bof.end()
        first_min = int(subs[0].get('SubSeqMinOffset', '0'))
        cur = max(floor - first_min, 0)
        end = place_sequence(bof, subs, cur, False, note)
        assert end >= floor
    head = bytearray(pick(bof.c[i]) if i in bof.c else 0
                     for i in range(bof.end()))
    tail = bytearray(pick(eof.c[i]) if i in eof.c else 0
                     for i in range(eof.end()))
    tail.reverse()
    gap = GAP if (head and tail) else 0
    if variable:
        note.append('variable sequence placed after the BOF part')
    return bytes(head) + bytes(gap) + bytes(tail), note


# ---- the signature file ---------------------------------------------------

def read_formats(root):
    """signature id -> list of (puid, extensions), in file order."""
    uses = {}
    for ff in root.iter(NS + 'FileFormat'):
        exts = [e.text.strip() for e in ff.findall(NS + 'Extension') if e.text]
        for sid in ff.findall(NS + 'InternalSignatureID'):
            uses.setdefault(sid.text.strip(), []).append((ff.get('PUID'), exts))
    return uses


def safe_ext(e):
    return re.sub(r'[^A-Za-z0-9_+-]', '_', e)


def choose_ext(users):
    """An extension every user of the signature shares if there is one, else
    the first user's first one: either way one that PRONOM lists for a
    format the signature identifies, so no extension mismatch."""
    if not users:
        return ''
    common = None
    for _, exts in users:
        s = set(x.lower() for x in exts)
        common = s if common is None else common & s
    for _, exts in users:
        for x in exts:
            if common and x.lower() in common:
                return x
    for _, exts in users:
        if exts:
            return exts[0]
    return ''


def write_internal(sigfile, outdir):
    root = strip_ns(ET.parse(sigfile).getroot())
    uses = read_formats(root)
    rows = []
    for sig in root.iter(NS + 'InternalSignature'):
        sid = sig.get('ID')
        users = uses.get(sid, [])
        ext = choose_ext(users)
        name = 'sig-%s%s' % (sid, ('.' + safe_ext(ext)) if ext else '')
        notes = []
        try:
            data, notes = skeleton(sig)
        except SkelError as e:
            data, notes = None, ['not generated: %s' % e]
        if not users:
            notes.append('no FileFormat uses this signature')
        if len(users) > 1:
            notes.append('shared by %d formats' % len(users))
        if data is not None:
            with open(os.path.join(outdir, name), 'wb') as f:
                f.write(data)
        else:
            name = '-'
        rows.append((name, sid, ' '.join(p for p, _ in users),
                     '; '.join(notes)))
    with open(os.path.join(outdir, 'manifest.tsv'), 'w') as f:
        f.write('# file\tsignature\texpected\tnote\n')
        for r in rows:
            f.write('\t'.join(r) + '\n')
    return rows


# ---- ZIP container signatures (optional third argument) -----------------

def puid_extensions(sigfile):
    root = strip_ns(ET.parse(sigfile).getroot())
    return {ff.get('PUID'): [e.text.strip() for e in ff.findall('Extension')
                             if e.text]
            for ff in root.iter('FileFormat')}


def write_containers(confile, sigfile, outdir):
    """One ZIP per ZIP ContainerSignature: each listed entry, holding a
    skeleton of the entry's first binary signature (empty when it has
    none).  Entries are deflated, as in real OOXML/ODF files, except
    "mimetype", which ODF and EPUB store first and uncompressed.  OLE2 is
    not generated (python has no writer)."""
    root = strip_ns(ET.parse(confile).getroot())
    exts = puid_extensions(sigfile)
    mapping = {}
    for m in root.iter('FileFormatMapping'):
        mapping.setdefault(m.get('signatureId'), []).append(m.get('Puid'))
    rows = []
    for cs in root.iter('ContainerSignature'):
        cid = cs.get('Id')
        if cs.get('ContainerType') != 'ZIP':
            continue
        puids = mapping.get(cid, [])
        ext = choose_ext([(p, exts.get(p, [])) for p in puids])
        name = 'container-%s%s' % (cid, ('.' + safe_ext(ext)) if ext else '')
        notes = []
        entries = []
        try:
            for f in cs.find('Files').findall('File'):
                path = f.find('Path').text.strip()
                sigs = f.findall('BinarySignatures/InternalSignatureCollection/InternalSignature')
                data = b''
                if sigs:
                    data, n = skeleton(sigs[0])
                    notes += n
                    if len(sigs) > 1:
                        notes.append('%s: first of %d signatures' % (path, len(sigs)))
                entries.append((path, data))
        except SkelError as e:
            notes.append('not generated: %s' % e)
            entries = None
        if entries is not None:
            entries.sort(key=lambda e: e[0] != 'mimetype')
            with zipfile.ZipFile(os.path.join(outdir, name), 'w') as z:
                for path, data in entries:
                    method = (zipfile.ZIP_STORED if path == 'mimetype'
                              else zipfile.ZIP_DEFLATED)
                    z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)),
                               data, compress_type=method)
        else:
            name = '-'
        if not puids:
            notes.append('no FileFormatMapping')
        rows.append((name, 'container:' + cid, ' '.join(puids),
                     '; '.join(notes)))
    return rows


def main(argv):
    if len(argv) < 3:
        sys.stderr.write('usage: skeletons.py SIGNATURE_FILE OUTDIR [CONTAINER_FILE]\n')
        return 2
    os.makedirs(argv[2], exist_ok=True)
    rows = write_internal(argv[1], argv[2])
    if len(argv) > 3:
        crows = write_containers(argv[3], argv[1], argv[2])
        with open(os.path.join(argv[2], 'manifest.tsv'), 'a') as f:
            for r in crows:
                f.write('\t'.join(r) + '\n')
        rows += crows
    made = sum(1 for r in rows if r[0] != '-')
    sys.stderr.write('%d skeletons of %d signatures in %s\n'
                     % (made, len(rows), argv[2]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
