// Test runner: runs each test group (a folder under test/) in its own uvu process,
// so a crash or a leaked handle in one group cannot hide the results of another.
// Ends with the plain line "N passed, N failed" that CI reads.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const groups = readdirSync(root)
  .filter((d) => statSync(join(root, d)).isDirectory())
  .filter((d) => only.length === 0 || only.includes(d))
  .sort((a, b) => order(a) - order(b) || a.localeCompare(b));

/** Fast unit groups first; devnets of real processes (adversarial, end-to-end) last, so a quick failure shows quickly. */
function order(group: string): number {
  return group === 'e2e' || group === 'adversarial' ? 2 : group === 'daemon' || group === 'wallet' ? 1 : 0;
}

const uvuBin = join(root, '..', 'node_modules', 'uvu', 'bin.js');
let passed = 0;
let failed = 0;
for (const group of groups) {
  console.log(`\n== ${group} ==`);
  const result = spawnSync(process.execPath, [uvuBin, join('test', group), '\\.test\\.ts$', '-c', 'false'], {
    cwd: join(root, '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  const out = (result.stdout ?? '').replace(/\x1b\[[0-9;]*m/g, '');
  process.stdout.write(out);
  const total = /Total:\s+(\d+)/.exec(out);
  const ok = /Passed:\s+(\d+)/.exec(out);
  if (total && ok) {
    passed += Number(ok[1]);
    failed += Number(total[1]) - Number(ok[1]);
    if (result.status !== 0 && Number(total[1]) === Number(ok[1])) failed += 1; // crashed after its summary
  } else {
    console.log(`group ${group} did not finish (exit ${result.status ?? result.signal})`);
    failed += 1;
  }
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
