// write-ocfl.mjs ROOT ID SRCDIR [SRCDIR2]
// Create a fresh OCFL storage root at ROOT with ocfl-js (its default layout,
// 0004-hashed-n-tuple with sha256 3/3), and create object ID from SRCDIR as
// v1. With SRCDIR2, v2's state is exactly SRCDIR2 (replace mode).
// Set OCFL_DIGEST=sha256 for a sha256 inventory (default sha512).
// Prints the object root path. Exit 0 ok, 1 error, 2 usage.
//
// Files are imported one at a time (awaiting each transaction.import) rather
// than with object.import(): in ocfl-js 0.2.2 object.import() copies files in parallel,
// and two files with the same content then both land in content/ while the
// manifest lists only one of them, which is an invalid object (E023).
import ocfl from '@ocfl/ocfl-fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

const [root, id, src1, src2] = process.argv.slice(2);
if (!root || !id || !src1) {
    console.error('usage: write-ocfl.mjs ROOT ID SRCDIR [SRCDIR2]');
    process.exit(2);
}

// Every regular file under dir, as [absolute path, logical path], sorted.
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

async function addVersion(object, src, mode) {
    const files = await walk(src);
    await object.update(async (t) => {
        for (const [abs, logical] of files) await t.import(abs, logical);
    }, mode);
}

try {
    const storage = await ocfl.createStorage({
        root,
        digestAlgorithm: process.env.OCFL_DIGEST || 'sha512',
    });
    const object = storage.object(id);
    await addVersion(object, src1, 'MERGE');
    if (src2) await addVersion(object, src2, 'REPLACE');
    console.log(object.root);
} catch (err) {
    console.error(`write-ocfl: ${err && err.stack ? err.stack : String(err)}`);
    process.exit(1);
}
