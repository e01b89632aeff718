// What an operator relies on, against a real devnet (a mint and 4 nodes on loopback):
// devnet.json appears only once every API answers and follows restarts; GET /healthz
// and GET /readyz on node and mint; every metric the dashboard and the alert rules
// query exists in the daemons' /metrics; a backup of a running node restores into a
// store that is marked restored and brings the node back ready.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Devnet } from '../../localnet/devnet.ts';
import { devnetPath, type DevnetFile } from '../../runtime/devnet-file.ts';
import { callJson } from '../../runtime/http-client.ts';
import { Store } from '../../runtime/store.ts';
import { RESTORED_KEY } from '../../node/core/record-keys.ts';
import { loudly, tempDevnet } from './helpers.ts';

const ROOT = process.cwd();
const CLI = join(ROOT, 'cli', 'ringmint.ts');
/** Polls here are bounded by these; no timing is asserted. */
const READY_MS = 90_000;

/**
 * Metrics the dashboard or the rules may query before the daemons export them (none
 * now). Once such a metric exists, it comes off this list (the test says so).
 */
const EXPECTED_LATER = new Set<string>();

/** Polls `probe` (errors count as not yet) until it gives a value, or fails after `ms`. */
async function waitFor<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms ${last}`);
    await sleep(250);
  }
}

let devnet: Devnet;
/** Whether devnet.json existed at any moment before start() resolved. */
let fileBeforeReady = false;

test.before(loudly(async () => {
  devnet = tempDevnet(4, { restartDead: true });
  let starting = true;
  const watch = (async () => {
    while (starting) {
      if (existsSync(devnetPath(devnet.dir))) fileBeforeReady = true;
      await sleep(20);
    }
  })();
  try {
    await devnet.start();
  } finally {
    starting = false;
    await watch;
  }
}, () => devnet?.dir));

test.after(async () => {
  await devnet?.stop();
});

function readFile(): DevnetFile {
  return JSON.parse(readFileSync(devnetPath(devnet.dir), 'utf8')) as DevnetFile;
}

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.json() };
}

function ringmint(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 120_000 }, (err, stdout, stderr) => res({ code: err ? 1 : 0, stdout, stderr }));
  });
}

test('devnet.json is written only once every API answers, with ready: true', async () => {
  assert.not.ok(fileBeforeReady, 'devnet.json existed before the APIs answered');
  const f = readFile();
  assert.is(f.ready, true);
  for (const api of [f.mint.api, ...f.nodes.map((n) => n.api)]) assert.is((await get(`${api}/healthz`)).status, 200);
});

test('/healthz and /readyz on node and mint; /readyz turns 200 once the ring is connected', async () => {
  const f = readFile();
  const m = await get(`${f.mint.api}/healthz`);
  assert.equal([m.status, m.body.status, m.body.role], [200, 'ok', 'mint']);
  for (const api of [f.mint.api, ...f.nodes.map((n) => n.api)]) {
    const r = await waitFor(async () => {
      const x = await get(`${api}/readyz`);
      return x.status === 200 ? x : undefined;
    }, READY_MS, `${api}/readyz`);
    assert.is(r.body.ready, true);
    assert.ok(Array.isArray(r.body.checks) && r.body.checks.every((c: { ok: boolean }) => c.ok));
  }
});

/** Metric families a /metrics exposition declares, with the series names each yields. */
function families(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [name, type] = [m[1]!, m[2]!];
    out.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) out.add(name + s);
  }
  return out;
}

test('every metric the Grafana dashboard and the alert rules query exists in /metrics (peer scoring: expected later)', async () => {
  const f = readFile();
  const exported = new Set<string>();
  for (const api of [f.mint.api, ...f.nodes.map((n) => n.api)]) {
    const res = await fetch(`${api}/metrics`);
    for (const n of families(await res.text())) exported.add(n);
  }
  const dir = join(ROOT, 'docker', 'monitoring');
  const queried = new Set<string>();
  for (const file of ['grafana-dashboard.json', 'alerts.yml']) {
    for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/\bringmint_[a-zA-Z0-9_]+/g)) queried.add(m[0]);
  }
  assert.ok(queried.size >= 15, `only ${queried.size} metrics queried`);
  const missing = [...queried].filter((n) => !exported.has(n) && !EXPECTED_LATER.has(n)).sort();
  assert.equal(missing, [], `queried but not exported: ${missing.join(', ')}`);
  const arrived = [...EXPECTED_LATER].filter((n) => exported.has(n));
  assert.equal(arrived, [], `now exported, take them off EXPECTED_LATER: ${arrived.join(', ')}`);
  for (const n of EXPECTED_LATER) assert.ok(queried.has(n), `${n} is on EXPECTED_LATER but nothing queries it`);
});

test('a node killed by a signal is restarted: devnet.json follows its new pid and says ready again', async () => {
  const before = readFile().nodes[1]!.pid;
  process.kill(before, 'SIGKILL');
  const after = await waitFor(async () => {
    const f = readFile();
    return f.nodes[1]!.pid !== before && f.ready === true ? f : undefined;
  }, READY_MS, 'devnet.json with the restarted node');
  assert.is((await get(`${after.nodes[1]!.api}/healthz`)).status, 200);
});

test('backup of a running node, restore after it stops: the store is marked restored and the node comes back ready', async () => {
  const f = readFile();
  const n = f.nodes[2]!;
  const out = join(devnet.dir, 'node-2.backup');
  const unauth = await ringmint(['node', 'backup', '--node', n.api, '--token', 'wrong', '--out', out]);
  assert.is(unauth.code, 1);
  assert.match(unauth.stderr, /UNAUTHORIZED/);
  const b = await ringmint(['node', 'backup', '--node', n.api, '--data', n.data, '--out', out, '--json']);
  assert.is(b.code, 0, b.stderr);
  const info = JSON.parse(b.stdout.trim());
  assert.is(info.nodeId, n.nodeId);
  assert.ok(info.records > 0 && statSync(out).size === info.bytes);
  const running = await ringmint(['node', 'restore', '--data', n.data, '--from', out]);
  assert.is(running.code, 1, 'restore under a running node is refused');
  assert.match(running.stderr, /stop the node first/);
  await devnet.killNode(2, 'SIGTERM');
  const r = await ringmint(['node', 'restore', '--data', n.data, '--from', out, '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(JSON.parse(r.stdout.trim()).records, info.records);
  const store = await Store.open(join(n.data, 'db'));
  try {
    assert.ok(store.get(RESTORED_KEY) !== undefined, 'the restored store carries the restored mark');
  } finally {
    await store.close();
  }
  await devnet.restartNode(2);
  const ready = await waitFor(async () => {
    const x = await get(`${n.api}/readyz`);
    return x.status === 200 ? x : undefined;
  }, READY_MS, 'restored node ready');
  assert.is(ready.body.ready, true);
  const st = await callJson<{ nodeId: string }>('GET', `${n.api}/status`);
  assert.is(st.body.nodeId, n.nodeId);
});

test.run();
