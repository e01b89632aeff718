// Vote freshness (protocol.md §7, Vote freshness) and catch-up: votes count toward a new
// certificate only from the current epoch, or the previous one within the handoff
// window; a node that knows it is behind votes for nothing; certificates already
// formed still check offline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, NETWORK, secret } from './harness.ts';
import { toHex } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { Message } from '../../protocol/messages.ts';
import { VoteCodec, sign, transferId, type Certificate, type Transfer } from '../../protocol/objects.ts';
import { checkCertificate } from '../../protocol/certificate.ts';
import { Ring } from '../../protocol/ring.ts';
import { DEFAULT_NODE_OPTIONS } from '../../node/core/api.ts';

const WINDOW = DEFAULT_NODE_OPTIONS.handoffWindowMs;

function setup() {
  const h = new Harness({ nodes: 8, wire: true });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(5);
  return { h, alice, bob, custodians: h.custodiansOf(alice.publicKey) };
}

function certificateOf(h: Harness, t: Transfer, voters: string[], epoch: number): Certificate {
  const votes = voters.map((hex) => {
    const s = h.signers[h.indexOf(hex)]!;
    return sign(VoteCodec, NETWORK, s, { transferId: transferId(t), from: t.from, seq: t.seq, epoch, voter: s.publicKey });
  });
  return { transfer: t, votes };
}

function answer(msgs: { msg: Message }[]): Message {
  assert.is(msgs.length, 1, 'exactly one answer');
  return msgs[0]!.msg;
}

const all = (h: Harness) => h.signers.map((_, i) => i);

test('checkCertificate: stale votes do not count with `fresh`, and a formed certificate still checks without it', () => {
  const { h, alice, bob, custodians } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const cert = certificateOf(h, t, custodians.slice(0, 3), 0);
  const rings = new Map([[0, new Ring(h.epochs[0]!)]]);
  const ctx = { network: NETWORK, verifier: h.scheme, ringOf: (n: number) => rings.get(n) };
  checkCertificate(cert, ctx); // formed: judged by the epoch its votes name
  try {
    checkCertificate(cert, { ...ctx, fresh: (e: number) => e >= 1 });
    assert.unreachable('a stale certificate passed as new');
  } catch (e) {
    assert.ok(e instanceof Rejection);
    assert.is(e.code, Reason.STALE_EPOCH, 'the pass remembered without freshness is not reused with it');
  }
  checkCertificate(cert, { ...ctx, fresh: (e: number) => e === 0 });
});

test('a credit-request whose votes name an epoch two back is refused STALE_EPOCH; the previous one counts within the window only', () => {
  const { h, alice, bob, custodians } = setup();
  h.newEpoch(all(h));
  h.settle(2);
  h.newEpoch(all(h));
  h.settle(2);
  const to = h.custodiansOf(bob.publicKey)[0]!;
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const old = certificateOf(h, t, custodians.slice(0, 3), 0);
  const reply = answer(h.ask(to, { type: 'credit-request', certificate: old }).send);
  assert.is(reply.type === 'reject' && reply.code, Reason.STALE_EPOCH);
  assert.is(h.nodes.get(to)!.account(bob.publicKey)?.balance ?? 0n, 0n, 'no credit from a stale certificate');

  const prev = certificateOf(h, h.transfer(alice, bob.publicKey, 10n, 1), custodians.slice(0, 3), 1);
  assert.is(answer(h.ask(to, { type: 'credit-request', certificate: prev }).send).type, 'receipt', 'the previous epoch, inside the window');
  h.now += WINDOW + 1;
  const t2 = h.transfer(alice, bob.publicKey, 11n, 1);
  const late = certificateOf(h, t2, custodians.slice(0, 3), 1);
  const r2 = answer(h.ask(to, { type: 'credit-request', certificate: late }).send);
  assert.is(r2.type === 'reject' && r2.code, Reason.STALE_EPOCH, 'the previous epoch, after the window');
  const cur = certificateOf(h, t2, custodians.slice(0, 3), 2);
  assert.ok(h.ask(to, { type: 'credit-request', certificate: cur }).send.some((s) => s.msg.type === 'receipt'), 'the current epoch counts');
});

test('stale custodians cannot certify: their votes are ignored until they catch up', () => {
  const { h, alice, bob, custodians } = setup();
  const stale = new Set(custodians);
  // Epochs 1 and 2 reach everyone except alice's custodians.
  h.holdIf = (_from, to, msg) => msg.type === 'epoch' && stale.has(to);
  h.newEpoch(all(h));
  h.newEpoch(all(h));
  h.settle(2);
  const gateway = [...h.nodes.keys()].find((n) => !stale.has(n))!;
  assert.is(h.nodes.get(gateway)!.currentEpoch().epoch, 2);
  for (const c of stale) assert.is(h.nodes.get(c)!.currentEpoch().epoch, 0);
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  h.submit(gateway, t);
  h.settle(5);
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t))!.status, 'pending', 'votes of epoch 0 certify nothing at epoch 2');
  // The held records arrive: the custodians catch up, vote in epoch 2, and the transfer goes through.
  h.holdIf = undefined;
  h.release();
  h.settle(20);
  for (const c of stale) assert.is(h.nodes.get(c)!.currentEpoch().epoch, 2);
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t))!.status, 'stored');
});

test('a node that sees a later epoch than the next is behind: it refuses to vote and asks for the gap', () => {
  const { h, alice, bob, custodians } = setup();
  const c = custodians[0]!;
  h.holdIf = () => true;
  const e1 = h.newEpoch(all(h));
  const e2 = h.newEpoch(all(h));
  h.holdIf = undefined;
  h.held.length = 0;
  const out = h.ask(c, { type: 'epoch', record: e2 }, { mint: true });
  assert.ok(out.send.some((s) => s.msg.type === 'epoch-request' && s.msg.from === 1), 'asks for the records it lacks');
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const r = answer(h.ask(c, { type: 'vote-request', transfer: t }).send);
  assert.is(r.type === 'reject' && r.code, Reason.STALE_EPOCH);
  h.ask(c, { type: 'epoch', record: e1 }, { mint: true });
  assert.is(h.nodes.get(c)!.currentEpoch().epoch, 2, 'the held record is applied once the gap fills');
  assert.is(answer(h.ask(c, { type: 'vote-request', transfer: t }).send).type, 'vote');
});

test('a node that missed 100 epochs fetches them all from the mint, in batches, and votes again only then', () => {
  const { h, alice, bob, custodians } = setup();
  const c = custodians[0]!;
  h.holdIf = (_from, to, msg) => msg.type === 'epoch' && to === c;
  let last = h.epochs[0]!;
  for (let i = 0; i < 100; i++) last = h.newEpoch(all(h));
  h.settle(2);
  h.holdIf = undefined;
  h.held.length = 0;
  assert.is(h.nodes.get(c)!.currentEpoch().epoch, 0);
  // One record of the newest epoch reaches it (the mint republishes its last ones).
  h.ask(c, { type: 'epoch', record: last }, { mint: true });
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const r = answer(h.ask(c, { type: 'vote-request', transfer: t }).send);
  assert.is(r.type === 'reject' && r.code, Reason.STALE_EPOCH, 'no vote while 99 epochs are missing');
  for (let i = 0; i < 20 && h.nodes.get(c)!.currentEpoch().epoch < 100; i++) {
    h.run();
    h.tick(1_000);
  }
  assert.is(h.nodes.get(c)!.currentEpoch().epoch, 100, 'every record fetched and checked as a chain');
  assert.is(answer(h.ask(c, { type: 'vote-request', transfer: t }).send).type, 'vote');
});

test('a gateway whose certificate went stale before its credits re-certifies the same transfer and finishes', () => {
  const { h, alice, bob } = setup();
  const gateway = h.nodeHex(0);
  h.holdIf = (_from, _to, msg) => msg.type === 'credit-request';
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  h.submit(gateway, t);
  h.run();
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t))!.status, 'final');
  h.newEpoch(all(h));
  h.newEpoch(all(h));
  h.run();
  h.holdIf = undefined;
  h.release(() => true, true); // the credit requests of epoch 0 are lost
  h.settle(10, 1_000);
  const v = h.nodes.get(gateway)!.transfer(transferId(t))!;
  assert.is(v.status, 'stored');
  assert.ok(v.certificate!.votes.every((x) => x.epoch === 2), 'the stored certificate names the epoch it was refreshed in');
  assert.is(h.nodes.get(h.custodiansOf(bob.publicKey)[0]!)!.account(bob.publicKey)!.balance, 10n);
});

test('a forged future epoch does not stop a node from voting', () => {
  const { h, alice, bob, custodians } = setup();
  const c = custodians[0]!;
  const e1 = h.newEpoch(all(h), false);
  const forged = { ...e1, epoch: 5 };
  h.ask(c, { type: 'epoch', record: forged }, { mint: true });
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  assert.is(answer(h.ask(c, { type: 'vote-request', transfer: t }).send).type, 'vote');
});

test('a node answers an epoch-request with the records it holds, a bounded batch', () => {
  const { h } = setup();
  for (let i = 0; i < 20; i++) h.newEpoch(all(h));
  h.settle(2);
  const n = h.nodeHex(0);
  assert.is(h.nodes.get(n)!.currentEpoch().epoch, 20);
  const out = h.ask(n, { type: 'epoch-request', from: 3 });
  const got = out.send.filter((s) => s.msg.type === 'epoch').map((s) => (s.msg as Extract<Message, { type: 'epoch' }>).record.epoch);
  assert.equal(got, Array.from({ length: 16 }, (_, i) => 3 + i));
  assert.ok(out.send.every((s) => 'node' in s.to && s.to.node === h.nodeHex(h.signers.length - 1)));
  void toHex;
});

test('a node that missed the epoch broadcasts learns of them from a peer naming a later epoch, and catches up', () => {
  const { h, custodians } = setup();
  const c = custodians[0]!;
  // c is cut off from the mint's broadcasts: the records never reach it.
  h.holdIf = (_from, to, msg) => to === c && msg.type === 'epoch';
  h.newEpoch(all(h));
  h.newEpoch(all(h));
  h.run();
  h.holdIf = undefined;
  h.held.length = 0;
  assert.is(h.nodes.get(c)!.currentEpoch().epoch, 0);
  const peer = h.outside([c]);
  h.ask(c, { type: 'digest', digest: { kind: 'accounts', epoch: 2, entries: [] } }, { node: peer });
  h.settle(5, 1_100);
  assert.is(h.nodes.get(c)!.currentEpoch().epoch, 2);
});

test.run();
