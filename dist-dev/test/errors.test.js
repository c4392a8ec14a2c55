import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ERRORS } from '../server/errors.js';
import { REPO_ROOT } from './helpers/server.js';
test('every error code is snake_case and listed in the README', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const code of Object.keys(ERRORS)) {
        assert.match(code, /^[a-z]+(_[a-z]+)*$/);
        assert.ok(readme.includes(`\`${code}\``), `${code} is in the README`);
    }
});
//# sourceMappingURL=errors.test.js.map