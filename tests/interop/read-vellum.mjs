// read-vellum.mjs ROOT ID OUTDIR [VERSION]
// Open an OCFL storage root with ocfl-js (the layout comes from the root's own
// ocfl_layout.json and extension config), find object ID through that layout,
// and write every file of VERSION (default: head) under OUTDIR, byte-exact.
// Each file's bytes are also hashed here and compared with the inventory's
// digest, and the version's own inventory is read (ocfl-js checks its sidecar).
// Exit 0 ok, 1 mismatch or read error, 2 usage.
import ocfl from '@ocfl/ocfl-fs';
import { createHash } from 'node:crypto';
import { mkdir, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';

const [root, id, outdir, version] = process.argv.slice(2);
if (!root || !id || !outdir) {
    console.error('usage: read-vellum.mjs ROOT ID OUTDIR [VERSION]');
    process.exit(2);
}

function fail(msg) {
    console.error(`read-vellum: ${msg}`);
    process.exit(1);
}

try {
    const storage = await ocfl.loadStorage({ root });
    const object = storage.object(id);
    if (!(await object.exists())) fail(`no object ${id} at ${object.root}`);
    await object.load();                      // root inventory + sidecar check
    const inv = await object.getInventory();
    if (inv.id !== id) fail(`inventory id ${inv.id} is not ${id}`);
    const ver = version || inv.head;
    if (!inv.versions[ver]) fail(`object ${id} has no version ${ver}`);
    const vinv = await object.getInventory(ver);  // version inventory + sidecar
    if (!vinv || vinv.head !== ver) fail(`version inventory of ${ver} missing or head is not ${ver}`);
    const algo = inv.digestAlgorithm;
    let n = 0;
    const outAbs = path.resolve(outdir);
    await mkdir(outAbs, { recursive: true });
    for (const f of await object.files(ver)) {
        const dest = path.resolve(outAbs, f.logicalPath);
        if (!dest.startsWith(outAbs + path.sep)) fail(`unsafe logical path ${f.logicalPath}`);
        const buf = await f.buffer();
        const got = createHash(algo).update(buf).digest('hex');
        if (got !== f.digest.toLowerCase())
            fail(`${ver}/${f.logicalPath}: ${algo} ${got} is not the inventory's ${f.digest}`);
        await mkdir(path.dirname(dest), { recursive: true });
        await writeFile(dest, buf, { flag: 'wx' });   // a duplicate logical path fails
        n++;
    }
    console.log(`${id} ${ver}: ${n} files (${algo}) at ${object.root}`);
} catch (err) {
    fail(err && err.stack ? err.stack : String(err));
}
