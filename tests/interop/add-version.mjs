// add-version.mjs ROOT ID SRCDIR
// Open an existing OCFL storage root with ocfl-js (layout from the root) and
// add a new version to object ID whose state is exactly SRCDIR (replace mode).
// ocfl-js stages the version in WORKSPACE (default: a temp folder outside the
// root, so nothing foreign is left inside the storage root).
// Files are imported one at a time (see write-ocfl.mjs for why).
// Prints the new head. Exit 0 ok, 1 error, 2 usage.
import ocfl from '@ocfl/ocfl-fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [root, id, src] = process.argv.slice(2);
if (!root || !id || !src) {
    console.error('usage: add-version.mjs ROOT ID SRCDIR');
    process.exit(2);
}

async function walk(dir, rel = '', out = []) {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
        const abs = path.join(dir, e.name);
        const logical = rel ? rel + '/' + e.name : e.name;
        if (e.isDirectory()) await walk(abs, logical, out);
        else if (e.isFile()) out.push([abs, logical]);
        else throw new Error(`not a regular file or folder: ${abs}`);
    }
    return out;
}

let ws;
try {
    ws = await mkdtemp(path.join(tmpdir(), 'ocfljs-ws-'));
    const storage = await ocfl.loadStorage({ root, workspace: ws });
    const object = storage.object(id);
    if (!(await object.exists())) throw new Error(`no object ${id} at ${object.root}`);
    const files = await walk(src);
    await object.update(async (t) => {
        for (const [abs, logical] of files) await t.import(abs, logical);
    }, 'REPLACE');
    const inv = await object.getInventory();
    console.log(inv.head);
} catch (err) {
    console.error(`add-version: ${err && err.stack ? err.stack : String(err)}`);
    process.exitCode = 1;
} finally {
    if (ws) await rm(ws, { recursive: true, force: true });
}
