// Running the wallet CLI as people do: a spawned `node cli/ringmint.ts wallet ...`.
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NODE = process.execPath;
const CLI = join(process.cwd(), 'cli', 'ringmint.ts');
/** A spawned CLI run's limit: generous for a loaded 2-core machine; runs take well under a second. */
const RUN_TIMEOUT_MS = 30_000;

export type Run = { code: number; stdout: string; stderr: string; json: any };

export function run(args: string[], env: Record<string, string> = {}, input?: string, cwd: string = tmpdir()): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      NODE,
      [CLI, 'wallet', ...args],
      { env: { ...process.env, RINGMINT_NODE: '', RINGMINT_GENESIS: '', ...env }, timeout: RUN_TIMEOUT_MS, cwd },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        let json: unknown;
        try {
          json = JSON.parse(last);
        } catch {
          json = undefined;
        }
        if (process.env.RM_TIME_RUNS) process.stderr.write(`${Date.now() - started} ms: wallet ${args.slice(0, 2).join(' ')}\n`);
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, json });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

export function oneErrorLine(r: Run, pattern: RegExp): void {
  assert.is(r.code, 1, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
}

