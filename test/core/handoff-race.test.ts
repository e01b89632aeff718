// Races between a transfer flow and an epoch change (protocol.md §7, I3): old custodians that
// still vote in the old epoch after a new custodian pulled the account, `certified`
// lost, and pipelined issuance across the change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret, ringCustodians } from './harness.ts';
import { toHex } from '../../protocol/bytes.ts';
import { transferId, type Certificate } from '../../protocol/objects.ts';
import type { Signer } from '../../protocol/signature.ts';
import { Ring } from '../../protocol/ring.ts';

/** Certificates that gateways assembled, by (from, seq). */
function certificates(h: Harness): Map<string, Certificate[]> {
  const out = new Map<string, Certificate[]>();
  for (const { event } of h.events) {
    if (event.type !== 'certified') continue;
    const t = event.certificate.transfer;
    const key = `${toHex(t.from)}/${t.seq}`;
    const list = out.get(key) ?? [];
    if (!list.some((c) => toHex(transferId(c.transfer)) === toHex(transferId(t)))) list.push(event.certificate);
    out.set(key, list);
  }
  return out;
}

/** A wallet whose custodians change at least `moved` members between the two rings. */
function movedWallet(h: Harness, members: readonly number[], moved: number): { w: Signer; old: string[]; now: string[] } {
  const r0 = new Ring(h.genesis.epoch0);
  const r1 = new Ring({ ...h.genesis.epoch0, epoch: 1, members: members.map((i) => h.signers[i]!.publicKey).sort((a, b) => (toHex(a) < toHex(b) ? -1 : 1)) });
  for (let i = 0; ; i++) {
    const w = h.scheme.signer(secret(`race-${i}`));
    const old = r0.custodians(w.publicKey).map(toHex);
    const now = r1.custodians(w.publicKey).map(toHex);
    if (now.filter((c) => !old.includes(c)).length >= moved) return { w, old, now };
  }
}

test('I3: a double spend across an epoch change; old custodians vote late in the old epoch, `certified` is lost', () => {
  const h = new Harness({ nodes: 8, spare: 4, seed: 5, options: { antiEntropyMs: 600_000 } });
  const members = [4, 5, 6, 7, 8, 9, 10, 11];
  const { w: a, old, now } = movedWallet(h, members, 2);
  const b = h.scheme.signer(secret('race-b'));
  const c = h.scheme.signer(secret('race-c'));
  h.issue(a.publicKey, 50n);
  h.settle(3);
  const t1 = h.transfer(a, b.publicKey, 5n, 1);
  const t2 = h.transfer(a, c.publicKey, 7n, 1);
  const id1 = toHex(transferId(t1));
  // Two gateways in both epochs that are no custodians of `a` in either.
  const gws = members.filter((i) => !old.includes(h.nodeHex(i)) && !now.includes(h.nodeHex(i)));
  assert.ok(gws.length >= 2, 'two gateways');
  const [g1, g2] = gws as [number, number];
  // t1's vote requests are delayed, the old custodians hear of the epoch late, and every `certified` for `a` is lost.
  h.holdIf = (_from, to, msg) =>
    (msg.type === 'vote-request' && toHex(transferId(msg.transfer)) === id1) ||
    (msg.type === 'epoch' && old.includes(to)) ||
    (msg.type === 'certified' && toHex(msg.certificate.transfer.from) === toHex(a.publicKey));
  h.submit(g1, t1);
  h.run();
  h.newEpoch(members);
  h.run();
  // The rival goes to the new custodians, which pull `a` from the old ones (still in epoch 0).
  h.submit(g2, t2);
  h.settle(3, 600);
  // The old custodians now get t1's requests while still in epoch 0: they lock and vote.
  h.release((_f, _t, msg) => msg.type === 'vote-request');
  h.settle(3, 600);
  // Finally the old custodians move on and hand off.
  h.release((_f, _t, msg) => msg.type === 'epoch');
  h.settle(20, 600);
  const certs = certificates(h).get(`${toHex(a.publicKey)}/1`) ?? [];
  assert.is(certs.length, 1, 'I3: one certificate for (a, 1)');
  assert.is(toHex(transferId(certs[0]!.transfer)), id1, 'the certified transfer is t1');
  assert.is(h.status(g1, t1), 'stored');
  assert.not.equal(h.status(g2, t2), 'final');
  // Every custodian new to `a` adopted t1 in the handoff.
  for (const n of now.filter((x) => !old.includes(x))) {
    const v = h.nodes.get(n)!.account(a.publicKey)!;
    assert.equal(v.head, transferId(t1), `new custodian ${n.slice(0, 8)} holds t1`);
    assert.is(v.balance, 45n, 'I2/I1: one debit');
  }
  for (const n of h.custodiansOf(b.publicKey)) assert.is(h.nodes.get(n)!.account(b.publicKey)!.balance, 5n, 'I1: b credited once');
  for (const n of h.custodiansOf(c.publicKey)) assert.is(h.nodes.get(n)!.account(c.publicKey)?.balance ?? 0n, 0n, 'I1: c never credited');
});

/**
 * Pipelined issuance across an epoch change, under loss, duplication and reordering:
 * the mint sends seq n+1 before seq n is certified, so at the change the old
 * custodians hold a chain of locks whose lower seqs still wait for votes.
 */
function pipelined(seed: number, drop: number, members: readonly number[]): { h: Harness; sent: { t: ReturnType<Harness['issue']>; gw: number }[] } {
  const h = new Harness({ nodes: 8, spare: 4, seed, faults: { reorder: true, drop, duplicate: 0.1 }, options: { maxRetries: 200 } });
  const sent: { t: ReturnType<Harness['issue']>; gw: number }[] = [];
  const issue = (i: number, gw: number): void => {
    sent.push({ t: h.issue(h.scheme.signer(secret(`p${i}`)).publicKey, 5n, gw), gw });
    h.run(5 + h.rng.int(20)); // a few messages of progress: seq n may not be certified yet
  };
  for (let i = 0; i < 12; i++) issue(i, i % 8);
  h.newEpoch(members);
  for (let i = 12; i < 24; i++) {
    issue(i, members[i % members.length]!);
    if (i === 17) h.tick(600);
  }
  h.settle(60, 600);
  return { h, sent };
}

// Schedules that got SEQ_USED when only 8 locks below the head travelled with a handoff.
const SCHEDULES = [[19, 0.1, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]], [5, 0.25, [4, 5, 6, 7, 8, 9, 10, 11]], [8, 0.1, [4, 5, 6, 7, 8, 9, 10, 11]], [21, 0, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]] as const;

for (const [seed, drop, members] of SCHEDULES) {
  test(`pipelined issuance across an epoch change (seed ${seed}, drop ${drop}): none rejected, all stored`, () => {
    const { h, sent } = pipelined(seed, drop, members);
    const rejected = h.events.filter((e) => e.event.type === 'rejected');
    assert.is(rejected.length, 0, JSON.stringify(rejected.map((e) => e.event.type === 'rejected' && e.event.reason)));
    sent.forEach(({ t, gw }, i) => assert.is(h.status(gw, t), 'stored', `issue ${i} (seq ${t.seq})`));
    const mint = h.mint.publicKey;
    for (const n of h.custodiansOf(mint)) assert.is(h.nodes.get(n)!.account(mint)!.seq, sent.length, 'every mint custodian at the last seq');
  });
}

test.run();
