// Protocol code must be deterministic: no sockets, timers, OS clock or OS
// randomness inside node/core or mint/core (time and randomness come in through
// ports). This test fails if any appear there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const FORBIDDEN: [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now'],
  [/\bnew Date\s*\(/, 'new Date'],
  [/\bMath\.random\s*\(/, 'Math.random'],
  [/\bperformance\.now\s*\(/, 'performance.now'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'timers'],
  [/\bprocess\.hrtime/, 'process.hrtime'],
  [/from ['"]node:(net|dgram|http|https|fs|fs\/promises|child_process|timers)['"]/, 'I/O modules'],
  [/\brandomBytes\s*\(/, 'randomBytes'],
];

/** Files allowed one exception, with why. */
const ALLOWED: Record<string, string[]> = {
  // Key generation for wallets and daemons is I/O by nature; protocol code never calls it.
  'protocol/signature.ts': ['randomBytes'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const roots = ['protocol', 'node/core', 'mint/core'];

test('protocol code has no clock, randomness, timers or sockets', () => {
  const found: string[] = [];
  for (const root of roots) {
    for (const f of files(root)) {
      const src = readFileSync(f, 'utf8').replace(/^\s*\/\/.*$/gm, '');
      for (const [re, what] of FORBIDDEN) {
        if (re.test(src) && !(ALLOWED[f] ?? []).includes(what)) found.push(`${f}: ${what}`);
      }
    }
  }
  assert.equal(found, []);
});

test('the purity check itself catches a forbidden call', () => {
  assert.ok(FORBIDDEN.some(([re]) => re.test('const t = Date.now();')));
  assert.ok(FORBIDDEN.some(([re]) => re.test("import net from 'node:net'")));
  assert.not.ok(FORBIDDEN.some(([re]) => re.test('clock.now()')));
});

test.run();
