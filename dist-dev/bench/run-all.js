// `npm run bench`: runs every bench script (each top-level dist/bench/*.js but this one)
// in turn, each in its own process so one script's sockets and heap cannot skew the next.
// Each runs with its defaults; run a script directly to pass it options. Exits non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const dir = fileURLToPath(new URL('.', import.meta.url));
const scripts = readdirSync(dir)
    .filter((name) => name.endsWith('.js') && name !== 'run-all.js')
    .sort();
let failures = 0;
for (const script of scripts) {
    console.log(`\n=== bench/${script.replace(/\.js$/, '.ts')} ===`);
    const started = Date.now();
    const run = spawnSync(process.execPath, [`${dir}${script}`], { stdio: 'inherit' });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (run.status === 0)
        console.log(`=== ${script}: done in ${seconds} s ===`);
    else {
        failures++;
        console.log(`=== ${script}: FAILED (${run.error?.message ?? run.signal ?? `exit ${run.status}`}) after ${seconds} s ===`);
    }
}
process.exit(failures === 0 ? 0 : 1);
//# sourceMappingURL=run-all.js.map