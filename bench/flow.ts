// `ringmint bench flow`: what the protocol itself costs per transfer, as the daemons
// run it, with no network, HTTP or disk. Four node machines (k = 4, q = 3, the
// 4-node devnet's genesis) in this process, each with the daemon's own signature
// scheme (native Ed25519 behind its verified-signature cache), so every node checks
// what it receives itself; every message is encoded and decoded as on the wire, and
// every persist record is encoded and counted, then dropped (a daemon hands it to
// LevelDB, off the JS heap). `window` transfers from
// distinct accounts run at once, through rotating gateways, until stored. The
// difference to `bench devnet`'s cpuMsPerTransfer is what the daemon layer adds.
import type { Command } from 'commander';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { toHex, ZERO32 } from '../protocol/bytes.ts';
import { createGenesis } from '../mint/core/genesis-create.ts';
import { decodeMessage, encodeMessage } from '../protocol/messages.ts';
import { NodeMachine } from '../node/core/node-machine.ts';
import { TransferCodec, sign, transferId, type Transfer } from '../protocol/objects.ts';
import { MemoryStore, type Address, type Output } from '../protocol/ports.ts';
import type { NodeEvent } from '../node/core/api.ts';
import { ed25519, generateKeyPair, nativeSigner } from '../protocol/signature.ts';
import { cachingScheme } from '../runtime/verify-cache.ts';

const NETWORK = 'bench';

export type FlowBenchResult = {
  transfers: number; cpuMsPerTransfer: number; messagesPerTransfer: number; recordsPerTransfer: number; verificationsPerTransfer: number; signatureMsPerTransfer: number;
  /**
   * Heap (JS objects and array buffers) a node still holds per transfer it took part in, after a full GC:
   * machines that keep their history in memory (no records reader: the records are dropped here), as the
   * simulator runs them. A daemon's machine reads its history back from LevelDB instead (ringmint_history_held).
   */
  heapKBPerTransferPerNode: number;
};

/** A full GC on demand, to read what the machines retain (not what is merely not yet collected). */
function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
const heapBytes = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

export function runFlowBench(transfers: number, window: number): FlowBenchResult {
  // The signature share, priced at this machine's native verify rate (measured first, before the heap fills).
  const probe = nativeSigner(generateKeyPair().secretKey);
  const msg = new Uint8Array(200);
  const sig = probe.sign(msg);
  // Wall time of a busy loop: process CPU time would also count the GC's helper threads.
  const t0 = performance.now();
  const N = 2_000;
  for (let i = 0; i < N; i++) ed25519.verify(probe.publicKey, msg, sig);
  const verifyMs = (performance.now() - t0) / N;
  const gc = fullGc();
  gc();
  const heap0 = heapBytes();
  const nodeKeys = Array.from({ length: 4 }, () => generateKeyPair());
  const schemes = nodeKeys.map(() => cachingScheme(ed25519));
  const signers = nodeKeys.map((kp, i) => schemes[i]!.signer(kp.secretKey));
  const mint = nativeSigner(generateKeyPair().secretKey);
  const genesis = createGenesis({ network: NETWORK, mint, members: signers.map((s) => s.publicKey), k: 4, q: 3, issuedAt: 0 });
  // Funded accounts: credit records as a custodian writes them (every node holds every account at k = 4).
  const wallets = Array.from({ length: window }, () => nativeSigner(generateKeyPair().secretKey));
  const funding = wallets.map((w, a) => {
    const fundId = new Uint8Array(32);
    new DataView(fundId.buffer).setUint32(0, a + 1);
    const v = new Uint8Array(40);
    v.set(w.publicKey, 0);
    new DataView(v.buffer).setBigUint64(32, 1_000_000_000n);
    return { key: `c/${toHex(fundId)}`, value: v };
  });
  let now = 1;
  const stores = nodeKeys.map(() => {
    const s = new MemoryStore();
    s.apply(funding);
    return s;
  });
  const machines = nodeKeys.map((_, i) => new NodeMachine({
    genesis, signer: signers[i]!, scheme: schemes[i]!, clock: { now: () => now }, random: { next: () => 0.5 }, restore: stores[i]!,
  }));
  const index = new Map(signers.map((s, i) => [toHex(s.publicKey), i]));
  // Pre-signed chains, one per wallet (signing is the wallet's cost, not the network's).
  const perWallet = Math.ceil(transfers / window);
  const chains = wallets.map((w) => {
    let prev = ZERO32;
    return Array.from({ length: perWallet }, (_, i) => {
      const t = sign(TransferCodec, NETWORK, w, { from: w.publicKey, to: signers[0]!.publicKey, amount: 1n, seq: i + 1, prev, memo: new Uint8Array(0) });
      prev = transferId(t);
      return t;
    });
  });

  let messages = 0;
  let records = 0;
  let stored = 0;
  const queue: { from: number; to: Address; bytes: Uint8Array }[] = [];
  const take = (i: number, out: Output<NodeEvent>): void => {
    records += out.persist.length;
    for (const s of out.send) {
      if (!('node' in s.to)) continue; // mint and gossip traffic: none in a clean run
      messages++;
      queue.push({ from: i, to: s.to, bytes: encodeMessage(s.msg) });
    }
    for (const e of out.events) if (e.type === 'stored') stored++;
  };
  const checks0 = schemes.reduce((n, s) => n + s.checks(), 0);
  const cpu0 = process.cpuUsage();
  let done = 0;
  for (let round = 0; round < perWallet && done < transfers; round++) {
    const batch: Transfer[] = [];
    for (let a = 0; a < window && done + batch.length < transfers; a++) batch.push(chains[a]![round]!);
    const storedBefore = stored;
    batch.forEach((t, j) => take(j % 4, machines[j % 4]!.submit(t)));
    for (let q = 0; q < queue.length; q++) {
      const m = queue[q]!;
      const to = index.get((m.to as { node: string }).node)!;
      now++;
      take(to, machines[to]!.receive({ node: toHex(signers[m.from]!.publicKey) }, decodeMessage(NETWORK, m.bytes)));
    }
    queue.length = 0;
    if (stored - storedBefore < batch.length) throw new Error(`only ${stored - storedBefore} of ${batch.length} transfers stored in round ${round}`);
    done += batch.length;
  }
  const cpu = process.cpuUsage(cpu0);
  // What stays: the machines.
  gc();
  const heapPerNode = (heapBytes() - heap0) / machines.length;
  const checks = schemes.reduce((n, s) => n + s.checks(), 0) - checks0;
  return {
    transfers: done,
    cpuMsPerTransfer: (cpu.user + cpu.system) / 1000 / done,
    messagesPerTransfer: messages / done,
    recordsPerTransfer: records / done,
    verificationsPerTransfer: checks / done,
    signatureMsPerTransfer: (checks / done) * verifyMs,
    heapKBPerTransferPerNode: heapPerNode / done / 1024,
  };
}

export function registerBenchFlow(bench: Command): void {
  bench
    .command('flow')
    .description('CPU per transfer of the protocol alone: 4 node machines in one process, wire encoding, daemon signature checks')
    .option('--json', 'print the result as JSON on the last line')
    .option('--transfers <n>', 'transfers to run', '20000')
    .option('--window <n>', 'transfers in flight (distinct accounts)', '64')
    .action((opts: { json?: boolean; transfers: string; window: string }) => {
      const transfers = Number(opts.transfers);
      const window = Number(opts.window);
      if (!Number.isInteger(transfers) || transfers < 1 || !Number.isInteger(window) || window < 1) {
        console.error('bench flow: --transfers and --window must be positive integers');
        process.exitCode = 2;
        return;
      }
      runFlowBench(Math.min(2_000, transfers), window); // warm-up: JIT and caches
      const r = runFlowBench(transfers, window);
      console.log(`${r.transfers.toLocaleString('en')} transfers stored: ${r.cpuMsPerTransfer.toFixed(3)} CPU ms each, ${r.messagesPerTransfer.toFixed(1)} messages, ${r.recordsPerTransfer.toFixed(1)} durable records, ${r.verificationsPerTransfer.toFixed(1)} signature checks (~${r.signatureMsPerTransfer.toFixed(3)} ms); each node retains ${r.heapKBPerTransferPerNode.toFixed(1)} KB per transfer`);
      if (opts.json) console.log(JSON.stringify({ cpuMsPerTransfer: Number(r.cpuMsPerTransfer.toFixed(3)), signatureMsPerTransfer: Number(r.signatureMsPerTransfer.toFixed(3)), messagesPerTransfer: Number(r.messagesPerTransfer.toFixed(1)), recordsPerTransfer: Number(r.recordsPerTransfer.toFixed(1)), verificationsPerTransfer: Number(r.verificationsPerTransfer.toFixed(1)), heapKBPerTransferPerNode: Number(r.heapKBPerTransferPerNode.toFixed(2)), transfers: r.transfers }));
    });
}
