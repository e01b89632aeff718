// `ringmint bench devnet`: starts a devnet, funds many accounts through the mint,
// pre-signs chains of transfers, then runs closed-loop load through the nodes' HTTP
// APIs (POST /transfers?wait=final) for a fixed time. Prints figures measured in
// this run; the last line is JSON {tps, p50Ms, p99Ms, cpuMsPerTransfer, verifyPerSec}.
import type { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAddress, encodeAddress } from '../node/core/address.ts';
import { ZERO32, type Bytes } from '../node/core/bytes.ts';
import { transferToJson, type TransferJson } from '../node/core/json.ts';
import { sign, transferId, TransferCodec } from '../node/core/objects.ts';
import { ed25519, generateKeyPair } from '../node/core/signature.ts';
import { printJson } from '../cli/output.ts';
import { Devnet } from '../node/daemon/devnet.ts';
import { callJson } from '../node/daemon/http-client.ts';

/**
 * Funding requests in flight at once. Issuances are one chain of mint seqs: sent
 * together they reach custodians out of order (SEQ_GAP, retried a second later), so
 * they go one at a time, each waiting until stored.
 */
const FUNDING_CONCURRENCY = 1;
/** Transfers signed per account: enough for the run at well above the target rate. */
const HEADROOM = 3;

type Sender = { address: string; chain: TransferJson[]; next: number; gateway: string };

/** CPU ms (user + system) of a process so far, from /proc (Linux); 0 where unreadable. */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100; // clock ticks: USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/** Native Ed25519 verifications per second on this machine, measured for `ms`. */
export function measureVerify(ms = 1_000): number {
  const kp = generateKeyPair();
  const s = ed25519.signer(kp.secretKey);
  const msg = new Uint8Array(120).fill(7);
  const sig = s.sign(msg);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 200; i++) if (ed25519.verify(kp.publicKey, msg, sig)) n++;
  }
  return Math.round(n / ((performance.now() - start) / 1000));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

export function registerBenchDevnet(bench: Command): void {
  bench
    .command('devnet')
    .description('closed-loop transfers through a local devnet (real processes, HTTP, libp2p, LevelDB)')
    .option('--nodes <n>', 'nodes in the devnet', '4')
    .option('--seconds <s>', 'measured load time', '30')
    .option('--accounts <n>', 'funded sending accounts = concurrent clients', '64')
    .option('--target-tps <n>', 'pre-signs enough transfers for this rate (x3 headroom)', '1000')
    .option('--keep', 'keep the devnet dir')
    .option('--json', 'only the JSON line')
    .action(async (o: { nodes: string; seconds: string; accounts: string; targetTps: string; keep?: boolean; json?: boolean }) => {
      const say = (s: string) => (o.json ? process.stderr.write(s + '\n') : console.log(s));
      const seconds = Number(o.seconds);
      const accounts = Number(o.accounts);
      const verifyPerSec = measureVerify();
      say(`ed25519 verify: ${verifyPerSec}/s on one core`);
      const root = mkdtempSync(join(tmpdir(), 'ringmint-bench-'));
      const devnet = new Devnet({ dir: join(root, 'devnet'), nodes: Number(o.nodes), fresh: true, logLevel: 'warn', onLine: say });
      const stop = () => void devnet.stop().finally(() => process.exit(130));
      process.once('SIGINT', stop);
      try {
        const f = await devnet.start();
        const network = (await callJson<{ network: string }>('GET', `${f.mint.api}/status`)).body.network;
        say(`devnet of ${f.nodes.length} nodes up; funding ${accounts} accounts`);
        const perAccount = Math.max(4, Math.ceil((Number(o.targetTps) * seconds * HEADROOM) / accounts));
        const keys = Array.from({ length: accounts }, () => generateKeyPair());
        const sink = encodeAddress(generateKeyPair().publicKey);
        await pool(keys, FUNDING_CONCURRENCY, async (k) => {
          const r = await callJson<{ status: string }>('POST', `${f.mint.api}/issue?wait=stored&timeoutMs=30000`, {
            token: f.mint.token,
            body: { to: encodeAddress(k.publicKey), amount: String(perAccount) },
            timeoutMs: 40_000,
          });
          if (r.body.status !== 'stored') throw new Error(`funding not stored: ${r.body.status}`);
        });
        say(`pre-signing ${perAccount} transfers for each of ${accounts} accounts`);
        const senders: Sender[] = keys.map((k, i) => {
          const signer = ed25519.signer(k.secretKey);
          const chain: TransferJson[] = [];
          let prev: Bytes = ZERO32;
          const to = decodeAddress(sink);
          for (let seq = 1; seq <= perAccount; seq++) {
            const t = sign(TransferCodec, network, signer, { from: k.publicKey, to, amount: 1n, seq, prev, memo: new Uint8Array(0) });
            prev = transferId(t);
            chain.push(transferToJson(t));
          }
          return { address: encodeAddress(k.publicKey), chain, next: 0, gateway: f.nodes[i % f.nodes.length]!.api };
        });
        const pids = [f.mint.pid, ...f.nodes.map((n) => n.pid)];
        say(`load: ${accounts} closed-loop clients for ${seconds} s`);
        const latencies: number[] = [];
        let failed = 0;
        const failures = new Map<string, number>();
        const cpu0 = pids.reduce((a, p) => a + cpuMs(p), 0);
        const started = performance.now();
        const end = started + seconds * 1000;
        await Promise.all(
          senders.map(async (s) => {
            while (performance.now() < end && s.next < s.chain.length) {
              const t = s.chain[s.next]!;
              const t0 = performance.now();
              try {
                const r = await callJson<{ status: string }>('POST', `${s.gateway}/transfers?wait=final&timeoutMs=10000`, { body: { transfer: t }, timeoutMs: 15_000 });
                if (r.body.status === 'pending') {
                  failed++;
                  failures.set('pending', (failures.get('pending') ?? 0) + 1);
                  continue; // resubmit the same transfer: idempotent by id
                }
                latencies.push(performance.now() - t0);
                s.next++;
              } catch (e) {
                failed++;
                const code = (e as { code?: string }).code ?? 'ERROR';
                failures.set(code, (failures.get(code) ?? 0) + 1);
                if (code !== 'TIMEOUT' && code !== 'UNAVAILABLE') s.next++;
              }
            }
          }),
        );
        const elapsed = (performance.now() - started) / 1000;
        const cpu1 = pids.reduce((a, p) => a + cpuMs(p), 0);
        latencies.sort((a, b) => a - b);
        const done = latencies.length;
        const result = {
          tps: Math.round(done / elapsed),
          p50Ms: Number(percentile(latencies, 50).toFixed(2)),
          p99Ms: Number(percentile(latencies, 99).toFixed(2)),
          cpuMsPerTransfer: done > 0 ? Number(((cpu1 - cpu0) / done).toFixed(3)) : null,
          verifyPerSec,
          transfers: done,
          failed,
          failures: Object.fromEntries(failures),
          seconds: Number(elapsed.toFixed(1)),
          nodes: f.nodes.length,
          clients: accounts,
          wait: 'final',
        };
        say(`${done} final transfers in ${elapsed.toFixed(1)} s: ${result.tps}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.cpuMsPerTransfer} CPU ms per transfer (all daemons), ${failed} failed/retried`);
        printJson(result);
      } finally {
        await devnet.stop();
        if (!o.keep) rmSync(root, { recursive: true, force: true });
      }
    });
}
