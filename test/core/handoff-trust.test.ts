// Handoff trusts no single old custodian (protocol.md §7): invented credits and heads from one
// reporter are not merged; a restarted gateway completes a resubmitted transfer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret, ringCustodians } from './harness.ts';
import { toHex } from '../../protocol/bytes.ts';
import { transferId } from '../../protocol/objects.ts';
import { Ring } from '../../protocol/ring.ts';

test('one Byzantine old custodian cannot hand off invented credits, a fake head or a freeze', () => {
  const h = new Harness({ nodes: 8, spare: 4 });
  const a = h.scheme.signer(secret('trust-a'));
  const b = h.scheme.signer(secret('trust-b'));
  h.issue(a.publicKey, 50n);
  h.run();
  const e1 = h.newEpoch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], false);
  const before = new Ring(h.genesis.epoch0).custodians(a.publicKey).map(toHex);
  const target = ringCustodians(e1, a.publicKey).find((x) => !before.includes(x)) ?? ringCustodians(e1, a.publicKey)[0]!;
  h.ask(target, { type: 'epoch', record: e1 }, { mint: true });
  const liar = before.find((x) => x !== target)!;
  const fake = h.transfer(a, b.publicKey, 1n, 1); // signed by the owner, never voted
  const state = {
    account: a.publicKey, frozen: true, seq: 1, head: fake, certificate: null, recent: [], debited: 0n, credited: 1_000_000n,
    credits: [{ transferId: new Uint8Array(32).fill(7), amount: 1_000_000n }], more: false,
  };
  h.ask(target, { type: 'account-state', state, epoch: 1 }, { node: liar });
  const v = h.nodes.get(target)!.account(a.publicKey);
  assert.is(v?.credited ?? 0n, 0n, 'no invented credit');
  assert.is(v?.seq ?? 0, 0, 'no unproven head');
  assert.not.ok(v?.frozen ?? false, 'no freeze on one word');
  assert.not.ok(v?.synced ?? false, 'one reporter does not sync');
});

test('with k = q, one Byzantine co-custodian\'s forged account-state neither credits nor freezes', () => {
  // f = k - q = 0 here, yet one liar among the co-custodians must still not be enough.
  const h = new Harness({ nodes: 6, k: 3, q: 3 });
  const a = h.scheme.signer(secret('kq-a'));
  const b = h.scheme.signer(secret('kq-b'));
  h.issue(a.publicKey, 50n);
  h.run();
  const [target, liar] = h.custodiansOf(a.publicKey);
  const before = h.nodes.get(target!)!.account(a.publicKey)!;
  assert.is(before.balance, 50n);
  const fake = h.transfer(a, b.publicKey, 1n, 1); // signed by the owner, never voted
  const state = {
    account: a.publicKey, frozen: true, seq: 1, head: fake, certificate: null, recent: [], debited: 1n, credited: 1_000_000n,
    credits: [{ transferId: new Uint8Array(32).fill(9), amount: 1_000_000n }], more: false,
  };
  h.ask(target!, { type: 'account-state', state, epoch: 0 }, { node: liar! });
  h.ask(target!, { type: 'account-state', state, epoch: 0 }, { node: liar! }); // said twice, still one reporter
  const v = h.nodes.get(target!)!.account(a.publicKey)!;
  assert.is(v.credited, 50n, 'no invented credit');
  assert.is(v.balance, 50n, 'balance unchanged');
  assert.is(v.seq, 0, 'no unproven head');
  assert.not.ok(v.frozen, 'no freeze on one word');
});

test('a lone report\'s lock, kept while the account has no entry here, is pinned once a credit makes the entry', () => {
  const h = new Harness({ nodes: 6, k: 3, q: 2 });
  const [alice, bob, carol] = ['pin-a', 'pin-b', 'pin-c'].map((n) => h.scheme.signer(secret(n)));
  const [target, peer] = h.custodiansOf(alice!.publicKey);
  const gw = h.indexOf(h.outside([target!]));
  h.down.add(target!);
  const issuance = h.issue(alice!.publicKey, 50n, gw);
  h.run();
  h.down.delete(target!);
  const node = h.nodes.get(target!)!;
  assert.is(node.account(alice!.publicKey), undefined, 'the credit was missed');
  // One co-custodian reports a lock of alice's: not merged (one word), no entry made.
  const t1 = h.transfer(alice!, bob!.publicKey, 10n, 1);
  const state = { account: alice!.publicKey, frozen: false, seq: 1, head: t1, certificate: null, recent: [], debited: 10n, credited: 50n, credits: [], more: false };
  h.ask(target!, { type: 'account-state', state, epoch: 0 }, { node: peer! });
  assert.is(node.account(alice!.publicKey), undefined, 'no entry on one word');
  // The credit arrives on its certificate: the entry is made, and the reported lock pinned.
  const certificate = h.nodes.get(h.nodeHex(gw))!.transfer(transferId(issuance))?.certificate;
  assert.ok(certificate !== undefined, 'the gateway holds the issuance certificate');
  h.ask(target!, { type: 'credit-request', certificate: certificate! });
  assert.is(node.account(alice!.publicKey)?.balance, 50n);
  const rival = h.transfer(alice!, carol!.publicKey, 10n, 1);
  const out = h.ask(target!, { type: 'vote-request', transfer: rival });
  assert.equal(out.send.map((s) => s.msg.type).filter((t) => t === 'vote' || t === 'conflict'), ['conflict'], 'the rival of the pinned lock is not voted for');
});

test('a restarted gateway completes a resubmitted transfer it had certified before the crash', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const custodians = [...h.custodiansOf(alice.publicKey), ...h.custodiansOf(bob.publicKey)];
  const gwHex = h.outside(custodians);
  const gw = h.indexOf(gwHex);
  h.submit(gw, t);
  // run until the gateway holds the certificate, then crash it
  for (let i = 0; i < 200 && h.status(gw, t) !== 'final'; i++) h.run(1);
  assert.is(h.status(gw, t), 'final');
  h.restart(gwHex);
  h.down.add(gwHex);
  h.run();
  h.down.delete(gwHex);
  assert.is(h.status(gw, t), undefined, 'gateway state is soft');
  h.submit(gw, t);
  h.settle(5);
  assert.is(h.status(gw, t), 'stored');
  for (const c of h.custodiansOf(bob.publicKey)) assert.is(h.nodes.get(c)!.account(bob.publicKey)!.balance, 10n);
  void transferId;
});

test.run();
