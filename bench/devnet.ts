// `ringmint bench devnet`: starts a devnet, funds many accounts through the mint,
// pre-signs chains of transfers, then runs closed-loop load through the nodes' HTTP
// APIs (POST /transfers?wait=final) for a fixed time. Prints figures measured in
// this run; the last line is JSON {tps, p50Ms, p99Ms, cpuMsPerTransfer, verifyPerSec}.
import type { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAddress, encodeAddress } from '../protocol/address.ts';
import { ZERO32, type Bytes } from '../protocol/bytes.ts';
import { transferToJson, type TransferJson } from '../protocol/json.ts';
import { sign, transferId, TransferCodec } from '../protocol/objects.ts';
import { ed25519, generateKeyPair } from '../protocol/signature.ts';
import { SKIP_SIGNATURE_CHECKS_ENV, UNVERIFIED_NETWORK_PREFIX } from '../runtime/verify-cache.ts';
import { printJson } from '../runtime/cli-output.ts';
import { Devnet } from '../localnet/devnet.ts';
import { callJson } from '../runtime/http-client.ts';
import { envName } from '../runtime/config.ts';
import { ANTI_ENTROPY_KINDS, growth, sumByLabel } from './scrape.ts';

/**
 * Funding requests in flight at once. Issuances are one chain of mint seqs: sent
 * together they reach custodians out of order (SEQ_GAP, retried a second later), so
 * they go one at a time, each waiting until stored.
 */
const FUNDING_CONCURRENCY = 1;
/** Transfers signed per account: enough for the run at well above the target rate. */
const HEADROOM = 3;

type Sender = { address: string; chain: string[]; next: number; url: URL };

/** CPU ms (user, system) of a process so far, from /proc (Linux); 0 where unreadable. */
function cpuMs(pid: number): { user: number; system: number } {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // clock ticks: USER_HZ is 100 on Linux
    return { user: Number(rest[11]) * 10, system: Number(rest[12]) * 10 };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** Peak resident memory (VmHWM) of a process in MB, from /proc (Linux); 0 where unreadable. */
function peakRssMB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function cpuOf(pids: readonly number[]): { user: number; system: number } {
  const sum = { user: 0, system: 0 };
  for (const p of pids) {
    const c = cpuMs(p);
    sum.user += c.user;
    sum.system += c.system;
  }
  return sum;
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

/**
 * POSTs JSON over a keep-alive connection and parses the answer. The load loop's
 * client: fetch costs several times the CPU per request, and the client shares the
 * machine with the daemons it measures.
 */
function postJson(agent: Agent, url: URL, body: string, timeoutMs: number): Promise<{ status: number; body: { status?: string; error?: string } }> {
  return new Promise((res, rej) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          try {
            res({ status: r.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status?: string; error?: string } });
          } catch (e) {
            rej(e);
          }
        });
        r.on('error', rej);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
    req.on('error', (e: Error & { code?: string }) => rej(Object.assign(e, { code: e.code === 'TIMEOUT' ? 'TIMEOUT' : 'UNAVAILABLE' })));
    req.end(body);
  });
}

/** Counters summed over every daemon: what one transfer costs in messages, steps and synced batches. */
const COUNTERS = {
  messages: 'ringmint_messages_sent_total',
  steps: 'ringmint_machine_steps_total',
  batches: 'ringmint_store_batch_steps_count',
  verifications: 'ringmint_signature_verifications_total{result="checked"',
  // where a transfer's latency goes: the gateway's submit-to-final time, and synced batches
  finalSeconds: 'ringmint_vote_latency_seconds_sum',
  finals: 'ringmint_vote_latency_seconds_count',
  commitSeconds: 'ringmint_store_commit_seconds_sum',
  dropped: 'ringmint_messages_dropped_total',
  writes: 'ringmint_stream_writes_total',
  signatures: 'ringmint_batch_signatures_total',
  batchSigned: 'ringmint_batch_signed_objects_total',
  records: 'ringmint_store_records_total',
  // libp2p's byte counter is a delta since the last scrape: the first scrape resets it
  bytes: 'libp2p_data_transfer_bytes_total{protocol="global sent"',
} as const;
type Counters = Record<keyof typeof COUNTERS, number>;

async function counters(apis: readonly string[]): Promise<Counters> {
  const sum: Counters = { messages: 0, steps: 0, batches: 0, verifications: 0, finalSeconds: 0, finals: 0, commitSeconds: 0, dropped: 0, writes: 0, signatures: 0, batchSigned: 0, records: 0, bytes: 0 };
  for (const api of apis) {
    const text = (await callJson<string>('GET', `${api}/metrics`)).body;
    for (const line of String(text).split('\n')) {
      for (const [k, name] of Object.entries(COUNTERS) as [keyof Counters, string][]) {
        if (line.startsWith(name) && (name.endsWith('"') || line[name.length] === '{' || line[name.length] === ' ')) sum[k] += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
      }
    }
  }
  return sum;
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
    .option('--pause-ms <ms>', 'each client pauses this long after each final transfer (open-loop-like low load: latency without queueing)', '0')
    .option('--anti-entropy-ms <ms>', 'the nodes\' anti-entropy interval (their default unless given)')
    .option('--skip-signature-checks', 'measure the daemons without their signature checks (a network named unverified-bench-*: never valid elsewhere)')
    .option('--keep', 'keep the devnet dir')
    .option('--json', 'only the JSON line')
    .action(async (o: { nodes: string; seconds: string; accounts: string; targetTps: string; pauseMs: string; antiEntropyMs?: string; skipSignatureChecks?: boolean; keep?: boolean; json?: boolean }) => {
      const say = (s: string) => (o.json ? process.stderr.write(s + '\n') : console.log(s));
      const seconds = Number(o.seconds);
      const accounts = Number(o.accounts);
      const pauseMs = Number(o.pauseMs);
      const verifyPerSec = measureVerify();
      say(`ed25519 verify: ${verifyPerSec}/s on one core`);
      const root = mkdtempSync(join(tmpdir(), 'ringmint-bench-'));
      // The daemons inherit this environment; they skip checks only on the unverified-bench- network as well.
      if (o.skipSignatureChecks) process.env[SKIP_SIGNATURE_CHECKS_ENV] = '1';
      if (o.antiEntropyMs !== undefined) process.env[envName('antiEntropyMs')] = o.antiEntropyMs;
      const network = o.skipSignatureChecks ? `${UNVERIFIED_NETWORK_PREFIX}devnet` : undefined;
      const devnet = new Devnet({ dir: join(root, 'devnet'), nodes: Number(o.nodes), fresh: true, logLevel: 'warn', onLine: say, ...(network ? { network } : {}) });
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
          const chain: string[] = [];
          let prev: Bytes = ZERO32;
          const to = decodeAddress(sink);
          for (let seq = 1; seq <= perAccount; seq++) {
            const t = sign(TransferCodec, network, signer, { from: k.publicKey, to, amount: 1n, seq, prev, memo: new Uint8Array(0) });
            prev = transferId(t);
            // the request body, serialised now so the load loop only sends bytes
            chain.push(JSON.stringify({ transfer: transferToJson(t) satisfies TransferJson }));
          }
          const url = new URL(`${f.nodes[i % f.nodes.length]!.api}/transfers?wait=final&timeoutMs=10000`);
          return { address: encodeAddress(k.publicKey), chain, next: 0, url };
        });
        const pids = [f.mint.pid, ...f.nodes.map((n) => n.pid)];
        say(`load: ${accounts} closed-loop clients for ${seconds} s`);
        const latencies: number[] = [];
        let failed = 0;
        const failures = new Map<string, number>();
        const apis = [f.mint.api, ...f.nodes.map((n) => n.api)];
        const nodeApis = f.nodes.map((n) => n.api);
        const STEP_SECONDS = 'ringmint_machine_step_seconds_total';
        const GC_SECONDS = 'ringmint_process_nodejs_gc_duration_seconds_sum';
        const [steps0, gc0] = [await sumByLabel(nodeApis, STEP_SECONDS, 'kind'), await sumByLabel(nodeApis, GC_SECONDS, 'kind')];
        const counted0 = await counters(apis);
        const agent = new Agent({ keepAlive: true, maxSockets: accounts });
        const cpu0 = cpuOf(pids);
        const client0 = process.cpuUsage();
        const started = performance.now();
        const end = started + seconds * 1000;
        await Promise.all(
          senders.map(async (s) => {
            // Latency runs from the first submission of a transfer: a resubmit after a timeout does not restart it.
            let first = -1;
            while (performance.now() < end && s.next < s.chain.length) {
              const t = s.chain[s.next]!;
              const t0 = first >= 0 ? first : (first = performance.now());
              try {
                const r = await postJson(agent, s.url, t, 15_000);
                if (r.status >= 400) throw Object.assign(new Error(r.body.error ?? `HTTP ${r.status}`), { code: r.body.error ?? `HTTP_${r.status}` });
                if (r.body.status === 'pending') {
                  failed++;
                  failures.set('pending', (failures.get('pending') ?? 0) + 1);
                  continue; // resubmit the same transfer: idempotent by id
                }
                latencies.push(performance.now() - t0);
                s.next++;
                first = -1;
                if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
              } catch (e) {
                failed++;
                const code = (e as { code?: string }).code ?? 'ERROR';
                failures.set(code, (failures.get(code) ?? 0) + 1);
                if (code !== 'TIMEOUT' && code !== 'UNAVAILABLE') {
                  s.next++;
                  first = -1;
                }
              }
            }
          }),
        );
        const elapsed = (performance.now() - started) / 1000;
        const cpu1 = cpuOf(pids);
        const client = process.cpuUsage(client0);
        agent.destroy();
        latencies.sort((a, b) => a - b);
        const done = latencies.length;
        const counted1 = await counters(apis);
        const steps = growth(steps0, await sumByLabel(nodeApis, STEP_SECONDS, 'kind'));
        const gc = growth(gc0, await sumByLabel(nodeApis, GC_SECONDS, 'kind'));
        const stepTotal = [...steps.values()].reduce((a, b) => a + b, 0);
        const gcTotal = [...gc.values()].reduce((a, b) => a + b, 0);
        const msPer = (seconds: number) => (done > 0 ? Number(((seconds * 1000) / done).toFixed(3)) : null);
        // Counted after the load stopped: transfers in flight then still add their crediting and storing.
        const per = (k: keyof Counters) => (done > 0 ? Number(((counted1[k] - counted0[k]) / done).toFixed(1)) : null);
        const result = {
          tps: Math.round(done / elapsed),
          p50Ms: Number(percentile(latencies, 50).toFixed(2)),
          p99Ms: Number(percentile(latencies, 99).toFixed(2)),
          cpuMsPerTransfer: done > 0 ? Number(((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / done).toFixed(3)) : null,
          // the kernel's share (socket writes and reads, fsync) of cpuMsPerTransfer
          systemCpuMsPerTransfer: done > 0 ? Number(((cpu1.system - cpu0.system) / done).toFixed(3)) : null,
          verifyPerSec,
          messagesPerTransfer: per('messages'),
          // peer-stream writes per transfer: messages / writes is how well a turn of the event loop coalesces frames
          streamWritesPerTransfer: per('writes'),
          stepsPerTransfer: per('steps'),
          syncedBatchesPerTransfer: per('batches'),
          // LevelDB records written, and peer-to-peer bytes sent (after noise and yamux framing)
          storeRecordsPerTransfer: per('records'),
          p2pBytesPerTransfer: done > 0 ? Math.round(counted1.bytes / done) : null,
          verificationsPerTransfer: per('verifications'),
          // Ed25519 signatures the nodes made over batches of votes and receipts, and the mean batch
          batchSignaturesPerTransfer: per('signatures'),
          meanSignatureBatch: counted1.signatures > counted0.signatures ? Number(((counted1.batchSigned - counted0.batchSigned) / (counted1.signatures - counted0.signatures)).toFixed(1)) : null,
          // mean gateway time from submit to final (the rest of p50 is HTTP and the client), and of one synced batch
          gatewayFinalMeanMs: counted1.finals > counted0.finals ? Number((((counted1.finalSeconds - counted0.finalSeconds) / (counted1.finals - counted0.finals)) * 1000).toFixed(2)) : null,
          syncedBatchMeanMs: counted1.batches > counted0.batches ? Number((((counted1.commitSeconds - counted0.commitSeconds) / (counted1.batches - counted0.batches)) * 1000).toFixed(3)) : null,
          // the nodes' machine steps (protocol work, no I/O; wall time, so on a saturated
          // machine it includes time waiting for a core) per transfer; the share of them
          // that anti-entropy took (digests and the account states and pulls they caused);
          // the kinds of step that took the most
          machineMsPerTransfer: msPer(stepTotal),
          antiEntropyMachineShare: stepTotal > 0 ? Number((ANTI_ENTROPY_KINDS.reduce((a, k) => a + (steps.get(k) ?? 0), 0) / stepTotal).toFixed(3)) : null,
          antiEntropyShareByKind: Object.fromEntries(ANTI_ENTROPY_KINDS.map((k) => [k, stepTotal > 0 ? Number(((steps.get(k) ?? 0) / stepTotal).toFixed(4)) : null])),
          topStepKinds: Object.fromEntries([...steps].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => [k, Number((v / stepTotal).toFixed(3))])),
          // the nodes' garbage-collection pauses per transfer, in all and by kind (minor: scavenges)
          gcPauseMsPerTransfer: msPer(gcTotal),
          gcPauseMsByKind: Object.fromEntries([...gc].filter(([, v]) => v > 0).map(([k, v]) => [k, msPer(v)])),
          // protocol messages dropped by the daemons during the load (queue full, unreachable peer, malformed)
          droppedMessages: counted1.dropped - counted0.dropped,
          // the largest node's peak resident memory over the whole run (start, funding, load)
          nodePeakRssMB: Math.max(...f.nodes.map((n) => peakRssMB(n.pid))),
          clientCpuMsPerTransfer: done > 0 ? Number(((client.user + client.system) / 1000 / done).toFixed(3)) : null,
          transfers: done,
          failed,
          failures: Object.fromEntries(failures),
          seconds: Number(elapsed.toFixed(1)),
          nodes: f.nodes.length,
          clients: accounts,
          wait: 'final',
          signatureChecks: o.skipSignatureChecks ? 'skipped' : 'on',
        };
        say(`${done} final transfers in ${elapsed.toFixed(1)} s: ${result.tps}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.cpuMsPerTransfer} CPU ms per transfer (all daemons), ${failed} failed/retried`);
        printJson(result);
      } finally {
        await devnet.stop();
        if (!o.keep) rmSync(root, { recursive: true, force: true });
      }
    });
}
