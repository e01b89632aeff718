// The README quickstart, step by step, against a real devnet (mint + 4 nodes as
// child processes on loopback): two wallets, an issuance to the first, a send to
// the second, and the receipt verified offline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loudly } from './helpers.ts';

const NODE = process.execPath;
const CLI = join(process.cwd(), 'cli', 'ringmint.ts');
/** The devnet's start: four nodes and a mint on a loaded 2-core machine. */
const DEVNET_READY_MS = 120_000;
/** One CLI call, waits included. */
const CALL_MS = 90_000;

const root = mkdtempSync(join(tmpdir(), 'rm-quickstart-'));
const devnetDir = join(root, 'devnet');
const env = { ...process.env, RINGMINT_WALLET_DIR: join(root, 'wallets'), RINGMINT_PASSPHRASE: 'quickstart passphrase', RINGMINT_NODE: '', RINGMINT_GENESIS: '' };
let devnet: ChildProcess | undefined;
let devnetOut = '';

type Run = { code: number; stdout: string; stderr: string; json: any };

function ringmint(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(NODE, [CLI, ...args], { env, cwd: root, timeout: CALL_MS }, (err, stdout, stderr) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout.trim().split('\n').pop() ?? '');
      } catch {
        json = undefined;
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, json });
    });
  });
}

function ok(r: Run, what: string): Run {
  assert.is(r.code, 0, `${what} failed: ${r.stderr.trim()}`);
  return r;
}

async function statusOf(url: string): Promise<{ members?: number; epoch?: number } | undefined> {
  try {
    const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? ((await res.json()) as { members?: number; epoch?: number }) : undefined;
  } catch {
    return undefined;
  }
}

test.before(loudly(async () => {
  // npm start, in its own folder
  devnet = spawn(NODE, [CLI, 'devnet', '--nodes', '4', '--dir', devnetDir], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  devnet.stdout!.on('data', (d) => (devnetOut += d));
  devnet.stderr!.on('data', (d) => (devnetOut += d));
  const deadline = Date.now() + DEVNET_READY_MS;
  while (!/devnet ready/.test(devnetOut)) {
    if (devnet.exitCode !== null) throw new Error(`the devnet exited (${devnet.exitCode}):\n${devnetOut.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`the devnet was not ready after ${DEVNET_READY_MS} ms:\n${devnetOut.slice(-2000)}`);
    await sleep(250);
  }
  // every node answers and sees the whole ring
  const file = JSON.parse(readFileSync(join(devnetDir, 'devnet.json'), 'utf8')) as { nodes: { api: string }[] };
  for (const n of file.nodes) {
    while (((await statusOf(n.api))?.members ?? 0) < 4) {
      if (Date.now() > deadline) throw new Error(`node ${n.api} did not see 4 members`);
      await sleep(250);
    }
  }
}, () => devnetDir));

test.after(async () => {
  if (devnet && devnet.exitCode === null) {
    devnet.kill('SIGINT'); // the devnet's own handler stops the mint and the nodes
    const exited = new Promise((r) => devnet!.once('exit', r));
    if ((await Promise.race([exited, sleep(30_000).then(() => 'late')])) === 'late') {
      // it did not stop: end the processes it started, by their ids, then it
      try {
        const f = JSON.parse(readFileSync(join(devnetDir, 'devnet.json'), 'utf8')) as { mint: { pid: number }; nodes: { pid: number }[] };
        for (const pid of [f.mint.pid, ...f.nodes.map((n) => n.pid)]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      } catch {
        // no devnet file
      }
      devnet.kill('SIGKILL');
    }
  }
  if (existsSync(root)) rmSync(root, { recursive: true, force: true });
});

test('quickstart: two wallets, issue, send, verify the receipt', async () => {
  const alice = ok(await ringmint(['wallet', 'new', 'alice', '--json']), 'wallet new alice').json.address as string;
  const bob = ok(await ringmint(['wallet', 'new', 'bob', '--json']), 'wallet new bob').json.address as string;
  assert.match(alice, /^rm1/);
  assert.is(ok(await ringmint(['wallet', 'address', 'bob']), 'wallet address').stdout.trim(), bob);

  const issued = ok(await ringmint(['mint', 'issue', '--to', alice, '--amount', '100', '--wait', 'credited', '--json']), 'mint issue');
  assert.ok(['credited', 'stored'].includes(issued.json.status), JSON.stringify(issued.json));

  // the credit reaches alice's custodians after the certificate: wait for it to show
  let balance = '0';
  for (let i = 0; i < 120 && balance !== '100000000'; i++) {
    const b = await ringmint(['wallet', 'balance', 'alice', '--json']);
    if (b.code === 0) balance = b.json.balance;
    if (balance !== '100000000') await sleep(500);
  }
  assert.is(balance, '100000000', 'alice holds the 100 RMT issued');

  const sent = ok(await ringmint(['wallet', 'send', 'alice', '--to', bob, '--amount', '12.5', '--memo', 'lunch', '--wait', 'stored', '--json']), 'wallet send');
  assert.is(sent.json.status, 'stored');
  assert.match(sent.json.transferId, /^[0-9a-f]{64}$/);

  const v = ok(await ringmint(['wallet', 'receipt', sent.json.transferId, '--verify', '--json']), 'wallet receipt --verify');
  assert.is(v.json.valid, true);
  assert.is(v.json.from, alice);
  assert.is(v.json.to, bob);
  assert.is(v.json.amount, '12500000');
  assert.is(v.json.memo, 'lunch');

  const b = ok(await ringmint(['wallet', 'balance', 'bob', '--json']), 'wallet balance bob');
  assert.is(b.json.balance, '12500000');
  const a = ok(await ringmint(['wallet', 'balance', 'alice']), 'wallet balance alice');
  assert.match(a.stdout, /balance +87\.5 RMT/);
  const h = ok(await ringmint(['wallet', 'history', 'alice']), 'wallet history');
  assert.match(h.stdout, /1 +stored +12\.5 RMT/);
});

test.run();
