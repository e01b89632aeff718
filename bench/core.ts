// `ringmint bench core`: how close one custodian comes to the cost of the Ed25519
// check it cannot avoid. Measures, in one run, (a) native Ed25519 verifications/s
// of transfer payloads and (b) transfers/s through ONE custodian machine: decode the
// vote-request bytes, verify, lock, vote, apply the persist records to an in-memory
// store. ratio = custodianTps / verifyPerSec.
import type { Command } from 'commander';
import { performance } from 'node:perf_hooks';
import { toHex, ZERO32, type Bytes } from '../protocol/bytes.ts';
import { createGenesis } from '../mint/core/genesis-create.ts';
import { decodeMessage, encodeMessage } from '../protocol/messages.ts';
import { NodeMachine } from '../node/core/node-machine.ts';
import { TransferCodec, payload, sign, transferId, type Transfer } from '../protocol/objects.ts';
import { MemoryStore } from '../protocol/ports.ts';
import { ed25519, generateKeyPair, nativeSigner, nativeVerify } from '../protocol/signature.ts';

const NETWORK = 'bench';

export type CoreBenchResult = { verifyPerSec: number; custodianTps: number; ratio: number; transfers: number };

/** Builds `accounts` funded accounts with `perAccount` pre-signed transfers each, and a custodian of all of them. */
function setup(accounts: number, perAccount: number): { machine: NodeMachine; store: MemoryStore; transfers: Transfer[]; wire: Bytes[]; gateway: string } {
  const nodes = Array.from({ length: 4 }, () => nativeSigner(generateKeyPair().secretKey));
  const mint = nativeSigner(generateKeyPair().secretKey);
  // k = 4 members: the custodian under test holds every account.
  const genesis = createGenesis({ network: NETWORK, mint, members: nodes.map((n) => n.publicKey), k: 4, q: 3, issuedAt: 0 });
  const store = new MemoryStore();
  const sink = nodes[1]!.publicKey;
  const transfers: Transfer[] = [];
  // Funding: credit records as a custodian would have written them (the restore path).
  const funding: { key: string; value: Bytes | null }[] = [];
  for (let a = 0; a < accounts; a++) {
    const s = nativeSigner(generateKeyPair().secretKey);
    const fundId = new Uint8Array(32);
    new DataView(fundId.buffer).setUint32(0, a);
    const v = new Uint8Array(40);
    v.set(s.publicKey, 0);
    new DataView(v.buffer).setBigUint64(32, 1_000_000n);
    funding.push({ key: `c/${toHex(fundId)}`, value: v });
    let prev = ZERO32;
    for (let seq = 1; seq <= perAccount; seq++) {
      const t = sign(TransferCodec, NETWORK, s, { from: s.publicKey, to: sink, amount: 1n, seq, prev, memo: new Uint8Array(0) });
      prev = transferId(t);
      transfers.push(t);
    }
  }
  store.apply(funding);
  // Interleave accounts so consecutive requests touch different accounts, as under load.
  const order: Transfer[] = [];
  for (let seq = 0; seq < perAccount; seq++) for (let a = 0; a < accounts; a++) order.push(transfers[a * perAccount + seq]!);
  const wire = order.map((t) => encodeMessage({ type: 'vote-request', transfer: t }));
  const machine = new NodeMachine({
    genesis, signer: nodes[0]!, scheme: ed25519, clock: { now: () => 0 }, random: { next: () => 0.5 }, restore: store,
  });
  return { machine, store, transfers: order, wire, gateway: toHex(nodes[2]!.publicKey) };
}

export function runCoreBench(seconds: number, accounts = 2_000, perAccount = 10): CoreBenchResult {
  const { machine, store, transfers, wire, gateway } = setup(accounts, perAccount);
  const budgetMs = seconds * 1000;

  // (a) and (b) are measured in alternating batches, so both see the same machine
  // load (other processes, CPU frequency) and the ratio stays meaningful.
  const payloads = transfers.map((t) => payload(TransferCodec, NETWORK, t));
  for (let i = 0; i < Math.min(500, transfers.length); i++) nativeVerify(transfers[i]!.from, payloads[i]!, transfers[i]!.sig); // warm-up
  const from = { node: gateway };
  const BATCH = 128;
  let verified = 0;
  let verifyMs = 0;
  let done = 0;
  let votes = 0;
  let custodianMs = 0;
  const start = performance.now();
  while (done < wire.length && performance.now() - start < 2 * budgetMs) {
    let t0 = performance.now();
    for (let j = 0; j < BATCH; j++, verified++) {
      const i = verified % transfers.length;
      if (!nativeVerify(transfers[i]!.from, payloads[i]!, transfers[i]!.sig)) throw new Error('a pre-signed transfer failed to verify');
    }
    verifyMs += performance.now() - t0;
    t0 = performance.now();
    const end = Math.min(done + BATCH, wire.length);
    for (; done < end; done++) {
      const msg = decodeMessage(NETWORK, wire[done]!);
      const out = machine.receive(from, msg);
      store.apply(out.persist);
      if (out.send.length === 1 && out.send[0]!.msg.type === 'vote') votes++;
    }
    custodianMs += performance.now() - t0;
  }
  if (votes !== done) throw new Error(`custodian voted for ${votes} of ${done} transfers`);
  const verifyPerSec = verified / (verifyMs / 1000);
  const custodianTps = done / (custodianMs / 1000);
  return { verifyPerSec, custodianTps, ratio: custodianTps / verifyPerSec, transfers: done };
}

export function registerBenchCore(bench: Command): void {
  bench
    .command('core')
    .description('Ed25519 verifications/s vs transfers/s through one custodian machine')
    .option('--json', 'print the result as JSON on the last line')
    .option('--seconds <s>', 'time budget per measurement', '2')
    .option('--accounts <n>', 'funded accounts', '2000')
    .action((opts: { json?: boolean; seconds: string; accounts: string }) => {
      const seconds = Number(opts.seconds);
      const accounts = Number(opts.accounts);
      if (!(seconds > 0) || !Number.isInteger(accounts) || accounts < 1) {
        console.error('bench core: --seconds must be > 0 and --accounts a positive integer');
        process.exitCode = 2;
        return;
      }
      // Enough distinct transfers for the time budget at ~10k/s, capped to keep setup short.
      const perAccount = Math.max(1, Math.min(50, Math.ceil((seconds * 10_000) / accounts)));
      const r = runCoreBench(seconds, accounts, perAccount);
      console.log(`ed25519 verify:      ${Math.round(r.verifyPerSec).toLocaleString('en')} /s`);
      console.log(`custodian transfers: ${Math.round(r.custodianTps).toLocaleString('en')} /s (${r.transfers.toLocaleString('en')} distinct transfers)`);
      console.log(`ratio:               ${r.ratio.toFixed(3)}`);
      if (opts.json) console.log(JSON.stringify({ verifyPerSec: Math.round(r.verifyPerSec), custodianTps: Math.round(r.custodianTps), ratio: Number(r.ratio.toFixed(3)) }));
    });
}
