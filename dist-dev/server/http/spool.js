// The spool: where uploaded files and processor outputs live, one folder per job
// (`<root>/<id>/in-<index>`, `<root>/<id>/out-<index>`). Paths are built only from
// checked job ids and integer indexes, never from anything a client named, so nothing
// can be written or removed outside the root.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
// nanoid ids are 21 URL-safe characters; the wider pattern leaves room for other id
// schemes while still excluding `.`, `..`, separators and anything else path-like.
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Files of jobs under one root folder. */
export class Spool {
    /** Absolute path of the root folder. */
    root;
    /** `root`: the spool folder (`--spool-dir`, default `./data/spool`); made absolute here. */
    constructor(root) {
        this.root = resolve(root);
    }
    /** `<root>/<id>`. Throws for an id that is not 1..64 of `A-Za-z0-9_-`. */
    jobDir(id) {
        if (typeof id !== 'string' || !JOB_ID.test(id)) {
            throw new Error(`spool: job id must be 1..64 characters of A-Za-z0-9_-, got ${JSON.stringify(id)}`);
        }
        return join(this.root, id);
    }
    /** `<root>/<id>/in-<index>`: the uploaded file number `index` of the job. */
    inputPath(id, index) {
        return join(this.jobDir(id), `in-${checkIndex(index)}`);
    }
    /** `<root>/<id>/out-<index>`: what the processor produced for file `index`, if anything. */
    outputPath(id, index) {
        return join(this.jobDir(id), `out-${checkIndex(index)}`);
    }
    /** Creates the root folder and its parents if missing. */
    async init() {
        await mkdir(this.root, { recursive: true });
    }
    /** Creates the job's folder (and the root if missing); resolves to its path. */
    async createJobDir(id) {
        const dir = this.jobDir(id);
        await mkdir(dir, { recursive: true });
        return dir;
    }
    /** Removes the job's folder and everything in it; a missing folder is not an error. */
    async removeJob(id) {
        // jobDir throws for a bad id; inside this async function that becomes a rejection.
        await rm(this.jobDir(id), { recursive: true, force: true });
    }
    /**
     * Removes every entry of the root that is not the folder of a job `isKnown` accepts
     * (left by a crash mid-upload, or by a job the store no longer has). Resolves to the
     * number of entries removed. Symbolic links are removed, never followed.
     */
    async sweepOrphans(isKnown) {
        let entries;
        try {
            entries = await readdir(this.root, { withFileTypes: true });
        }
        catch (error) {
            if (error.code === 'ENOENT')
                return 0;
            throw error;
        }
        let removed = 0;
        for (const entry of entries) {
            const isJobDir = entry.isDirectory() && JOB_ID.test(entry.name) && (await isKnown(entry.name));
            if (isJobDir)
                continue;
            await rm(join(this.root, entry.name), { recursive: true, force: true });
            removed += 1;
        }
        return removed;
    }
    /** True when a file can be created, written and removed in the root (for `/readyz`). */
    async isWritable() {
        return this.probeWritable().then(() => true, () => false);
    }
    /**
     * Creates a one-byte file in the root and removes it; rejects with the file system's
     * error (ENOSPC for a full disk, EACCES, EROFS, ENOENT...) when that fails. One byte
     * rather than none: an empty file needs no data block, so it can still be created on a
     * disk that has no room left for an upload.
     */
    async probeWritable() {
        const probe = join(this.root, `.probe-${randomBytes(6).toString('hex')}`);
        try {
            await writeFile(probe, '.');
        }
        finally {
            // force: a concurrent sweepOrphans may already have removed the probe.
            await rm(probe, { force: true }).catch(() => undefined);
        }
    }
}
function checkIndex(index) {
    if (!Number.isSafeInteger(index) || index < 0) {
        throw new Error(`spool: file index must be a non-negative integer, got ${String(index)}`);
    }
    return index;
}
//# sourceMappingURL=spool.js.map