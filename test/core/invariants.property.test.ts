// protocol.md §9 invariants under random schedules: many accounts, honest and
// double-spending wallets, lost / duplicated / reordered messages, and one
// Byzantine custodian that votes for anything, and (in most runs) an epoch change
// mid-run that removes a member and adds two. Checks I1, I2, I3, I4 and I7.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Harness, Rng, secret } from './harness.ts';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { transferId, type Certificate, type Transfer } from '../../protocol/objects.ts';
import type { Signer } from '../../protocol/signature.ts';

type Wallet = {
  readonly signer: Signer;
  readonly hex: string;
  readonly honest: boolean;
  seq: number;
  prev: Bytes | undefined;
  /** Last transfer sent and the gateway it went to. */
  last?: { t: Transfer; gw: number };
  sent: bigint;
};

type Scenario = { seed: number; honest: number; cheaters: number; drop: number; dup: number; byz: number; rounds: number; epochAt?: number; leaver?: number; historyInMemory?: boolean };

type Stats = { certified: number; alerts: number; frozen: number; conflicts: number; epochs: number };

function run(s: Scenario): Stats {
  const h = new Harness({
    nodes: 8, spare: 2, seed: s.seed, byzantine: [s.byz], faults: { reorder: true, drop: s.drop, duplicate: s.dup },
    options: { retryMs: 300, maxRetries: 200, antiEntropyMs: 3_000 },
    // Both ways a machine keeps its history: read back from its records (a daemon) or in memory (the simulator).
    historyInMemory: s.historyInMemory ?? false,
  });
  const rng = new Rng(s.seed ^ 0x5bd1e995);
  const wallets: Wallet[] = [];
  for (let i = 0; i < s.honest + s.cheaters; i++) {
    const signer = h.scheme.signer(secret(`p${s.seed}-${i}`));
    wallets.push({ signer, hex: toHex(signer.publicKey), honest: i < s.honest, seq: 0, prev: undefined, sent: 0n });
  }
  const issued: { t: Transfer; gw: number }[] = [];
  for (const w of wallets) {
    const gw = rng.int(8);
    issued.push({ t: h.issue(w.signer.publicKey, BigInt(20 + rng.int(100)), gw), gw });
  }
  h.settle(8, 400);

  // What a wallet may spend: credits it saw reach q receipts, minus all it has sent.
  const received = (w: Wallet): bigint => {
    let sum = 0n;
    for (const x of [...issued, ...wallets.filter((v) => v.last).flatMap((v) => history.get(v.hex) ?? [])]) {
      if (toHex(x.t.to) !== w.hex) continue;
      const st = h.node(x.gw).transfer(transferId(x.t))?.status;
      if (st === 'credited' || st === 'stored') sum += x.t.amount;
    }
    return sum;
  };
  const history = new Map<string, { t: Transfer; gw: number }[]>();
  const record = (w: Wallet, t: Transfer, gw: number): void => {
    let l = history.get(w.hex);
    if (!l) history.set(w.hex, (l = []));
    l.push({ t, gw });
  };
  const sendNext = (w: Wallet, amount: bigint, to: Bytes, gw: number): Transfer => {
    const t = h.transfer(w.signer, to, amount, w.seq + 1, w.prev);
    w.seq++;
    w.prev = transferId(t);
    w.sent += amount;
    w.last = { t, gw };
    record(w, t, gw);
    h.submit(gw, t);
    return t;
  };

  for (let round = 0; round < s.rounds; round++) {
    // Membership changes mid-run: one member leaves, the two spares join (protocol.md §7 handoff).
    if (round === s.epochAt) h.newEpoch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((i) => i !== s.leaver));
    for (const w of wallets) {
      const other = wallets[(wallets.indexOf(w) + 1 + rng.int(wallets.length - 1)) % wallets.length]!;
      const gw = rng.int(8);
      if (w.honest) {
        const st = w.last ? h.node(w.last.gw).transfer(transferId(w.last.t))?.status : 'stored';
        if (st === 'rejected' || st === 'pending') {
          h.submit(w.last!.gw, w.last!.t); // resubmitted as is, never re-signed (protocol.md §5)
          continue;
        }
        const spendable = received(w) - w.sent;
        if (spendable <= 0n) continue;
        sendNext(w, 1n + BigInt(rng.int(Number(spendable))), other.signer.publicKey, gw);
      } else if (rng.next() < 0.5) {
        // A double spend: two transfers for one seq, to two recipients, at two gateways.
        const seq = w.seq + 1;
        const third = wallets.find((v) => v !== w && v !== other)!;
        const a = h.transfer(w.signer, other.signer.publicKey, 1n + BigInt(rng.int(10)), seq, w.prev);
        const b = h.transfer(w.signer, third.signer.publicKey, 1n + BigInt(rng.int(10)), seq, w.prev);
        const gw2 = (gw + 1 + rng.int(7)) % 8;
        record(w, a, gw);
        record(w, b, gw2);
        h.submit(gw, a);
        h.submit(gw2, b);
        w.seq = seq;
        w.prev = transferId(rng.next() < 0.5 ? a : b); // it may build on either
      } else {
        // An overdraft attempt; refused, so the cheater's next transfer reuses the seq.
        const t = h.transfer(w.signer, other.signer.publicKey, 10_000n, w.seq + 1, w.prev);
        record(w, t, gw);
        h.submit(gw, t);
      }
    }
    h.run(50 + rng.int(400));
    h.tick(300);
  }
  h.settle(60, 400);
  return { ...check(h, wallets, history), epochs: h.epochs.length - 1 };
}

function check(h: Harness, wallets: Wallet[], history: Map<string, { t: Transfer; gw: number }[]>): Omit<Stats, 'epochs'> {
  void history;
  const honestNodes = [...h.nodes.keys()].filter((n) => !h.byzantine.has(n));
  // Certified transfers: every certificate any gateway assembled.
  const certified = new Map<string, Certificate>();
  for (const { event } of h.events) if (event.type === 'certified') certified.set(toHex(transferId(event.certificate.transfer)), event.certificate);

  // I3: at most one certified transfer per (account, seq).
  const bySeq = new Map<string, string>();
  for (const [id, c] of certified) {
    const key = `${toHex(c.transfer.from)}/${c.transfer.seq}`;
    const seen = bySeq.get(key);
    assert.ok(seen === undefined || seen === id, `I3: two certified transfers for ${key}`);
    bySeq.set(key, id);
  }

  // I4 (at most once): no replica credits one transfer twice.
  const creditedAt = new Map<string, Set<string>>();
  for (const { node, event } of h.events) {
    if (event.type !== 'credited') continue;
    const id = toHex(event.transferId);
    let set = creditedAt.get(id);
    if (!set) creditedAt.set(id, (set = new Set()));
    assert.not.ok(set.has(node), `I4: ${node} credited ${id} twice`);
    set.add(node);
    assert.ok(certified.has(id), `I1: ${node.slice(0, 8)} credited ${id}, which no gateway certified`);
  }
  // I4 (exactly once, eventually): every certified transfer is credited at every honest custodian of the recipient.
  const mintHex = toHex(h.mint.publicKey);
  const certIn = new Map<string, bigint>();
  const certOut = new Map<string, bigint>();
  let issued = 0n;
  for (const [id, c] of certified) {
    const t = c.transfer;
    for (const n of h.custodiansOf(t.to)) {
      if (h.byzantine.has(n)) continue;
      assert.ok(creditedAt.get(id)?.has(n), `I4: certified ${id} not credited at custodian ${n.slice(0, 8)}`);
    }
    certIn.set(toHex(t.to), (certIn.get(toHex(t.to)) ?? 0n) + t.amount);
    certOut.set(toHex(t.from), (certOut.get(toHex(t.from)) ?? 0n) + t.amount);
    if (toHex(t.from) === mintHex) issued += t.amount;
  }

  // I2: no account's certified debits exceed its credits; no honest replica shows a negative balance.
  let total = 0n;
  for (const w of wallets) {
    const out = certOut.get(w.hex) ?? 0n;
    const inn = certIn.get(w.hex) ?? 0n;
    assert.ok(out <= inn, `I2: ${w.hex.slice(0, 8)} debited ${out} > credited ${inn}`);
    // Replicas that custody the account now (one that left at the epoch change keeps a stale view).
    for (const n of h.custodiansOf(w.signer.publicKey)) {
      if (h.byzantine.has(n)) continue;
      const v = h.nodes.get(n)!.account(w.signer.publicKey);
      if (v) assert.ok(v.balance >= 0n, `I2: negative balance at a replica`);
    }
    // I1: every honest custodian's applied credits equal the certified credits; totals conserve.
    for (const n of h.custodiansOf(w.signer.publicKey)) {
      if (h.byzantine.has(n)) continue;
      assert.is(h.nodes.get(n)!.account(w.signer.publicKey)?.credited ?? 0n, inn, `I1: credits applied at ${n.slice(0, 8)} for ${w.hex.slice(0, 8)}`);
    }
    total += inn - out;
  }
  assert.is(total, issued, 'I1: balances plus in-flight equal the total issued');

  // I7: an honest account is never frozen, at any node, and never named in an alert.
  for (const w of wallets) {
    if (!w.honest) continue;
    for (const n of h.nodes.values()) assert.not.ok(n.account(w.signer.publicKey)?.frozen, `I7: honest ${w.hex.slice(0, 8)} frozen`);
    for (const a of h.alerts) {
      const ev = a.notice.evidence;
      if (ev.kind === 'double-spend') assert.not.ok(toHex(ev.t1.from) === w.hex, 'I7: alert against an honest account');
    }
  }
  // A double spender whose alert went out is frozen at every honest custodian (protocol.md §6).
  let frozen = 0;
  for (const a of h.alerts) {
    const ev = a.notice.evidence;
    if (ev.kind !== 'double-spend') continue;
    for (const n of h.custodiansOf(ev.t1.from)) {
      if (h.byzantine.has(n)) continue;
      assert.ok(h.nodes.get(n)!.account(ev.t1.from)?.frozen, 'alerted account frozen at its custodians');
    }
    frozen++;
  }
  const conflicts = h.events.filter((e) => e.event.type === 'status' && e.event.status === 'conflict').length;
  return { certified: certified.size, alerts: h.alerts.length, frozen, conflicts };
}

const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  honest: fc.integer({ min: 2, max: 5 }),
  cheaters: fc.integer({ min: 0, max: 2 }),
  drop: fc.constantFrom(0, 0.05, 0.15),
  dup: fc.constantFrom(0, 0.1, 0.3),
  byz: fc.integer({ min: 0, max: 7 }),
  rounds: fc.integer({ min: 2, max: 6 }),
  epochAt: fc.integer({ min: -1, max: 4 }),
  leaver: fc.integer({ min: 0, max: 7 }),
  historyInMemory: fc.boolean(),
});


test('I1 I2 I3 I4 I7 hold under random interleavings, faults, a Byzantine voter and an epoch change', () => {
  const total: Stats = { certified: 0, alerts: 0, frozen: 0, conflicts: 0, epochs: 0 };
  fc.assert(
    fc.property(scenario, (s) => {
      const st = run(s);
      total.certified += st.certified;
      total.alerts += st.alerts;
      total.frozen += st.frozen;
      total.conflicts += st.conflicts;
      total.epochs += st.epochs;
    }),
    { numRuns: 150, seed: 424242 },
  );
  // The runs must have exercised what they claim to check.
  assert.ok(total.certified > 200, `certified ${total.certified}`);
  assert.ok(total.alerts > 5 && total.frozen > 5 && total.conflicts > 5 && total.epochs > 50, JSON.stringify(total));
});

test('double spends with a Byzantine voter: at most one certified per seq, the cheaters frozen', () => {
  const st = run({ seed: 11, honest: 2, cheaters: 2, drop: 0, dup: 0, byz: 3, rounds: 6 });
  assert.ok(st.alerts >= 1 && st.frozen >= 1, JSON.stringify(st));
});

test.run();
