// The custodian's rules (protocol.md §5 step 2-4, 6): one test per rule and per reason code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, NETWORK, secret } from './harness.ts';
import { toHex, ZERO32 } from '../../protocol/bytes.ts';
import { Reason } from '../../protocol/errors.ts';
import type { Message } from '../../protocol/messages.ts';
import {
  AlertCodec, NoticeCodec, bindNetwork, VoteCodec, doubleSpendEvidence, equivocationEvidence, sign, transferId, verify,
  type Certificate, type Evidence, type Transfer,
} from '../../protocol/objects.ts';
import { ed25519 } from '../../protocol/signature.ts';

function setup(opts: { supplyCap?: bigint; real?: boolean } = {}) {
  const h = new Harness({ nodes: 8, wire: true, supplyCap: opts.supplyCap ?? null, ...(opts.real ? { scheme: ed25519 } : {}) });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const custodians = h.custodiansOf(alice.publicKey);
  const outsider = h.outside(custodians);
  return { h, alice, bob, c: custodians[0]!, custodians, outsider };
}

function only(msgs: { msg: Message }[]): Message {
  assert.is(msgs.length, 1, 'exactly one answer');
  return msgs[0]!.msg;
}

function rejectCode(m: Message): string {
  assert.is(m.type, 'reject');
  return (m as { code: string }).code;
}

test('a valid transfer is locked durably and voted for (real ed25519)', () => {
  const { h, alice, bob, c } = setup({ real: true });
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const out = h.ask(c, { type: 'vote-request', transfer: t });
  const m = only(out.send);
  assert.is(m.type, 'vote');
  const vote = (m as Extract<Message, { type: 'vote' }>).vote;
  assert.ok(verify(VoteCodec, NETWORK, ed25519, vote.voter, vote));
  assert.equal(vote.transferId, transferId(t));
  assert.is(vote.seq, 1);
  assert.ok(out.persist.some((r) => r.key.startsWith('l/')), 'the lock is a persist record of the same step');
  assert.is(h.nodes.get(c)!.account(alice.publicKey)!.balance, 90n);
});

test('the same vote-request is answered with the same vote, locked once', () => {
  const { h, alice, bob, c } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const a = only(h.ask(c, { type: 'vote-request', transfer: t }).send);
  const out2 = h.ask(c, { type: 'vote-request', transfer: t });
  const b = only(out2.send);
  assert.equal(a, b);
  assert.is(out2.persist.length, 0, 'no second lock');
  assert.is(h.nodes.get(c)!.account(alice.publicKey)!.balance, 90n);
});

test('BAD_SIGNATURE: a transfer whose signature does not verify', () => {
  const { h, alice, bob, c } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const forged: Transfer = bindNetwork({ ...t, amount: 99n }, NETWORK);
  const m = only(h.ask(c, { type: 'vote-request', transfer: forged }).send);
  assert.is(rejectCode(m), Reason.BAD_SIGNATURE);
});

test('SEQ_GAP: seq must be the next one', () => {
  const { h, alice, bob, c } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 2);
  assert.is(rejectCode(only(h.ask(c, { type: 'vote-request', transfer: t }).send)), Reason.SEQ_GAP);
});

test('BAD_PREV: prev must be the id of the previous transfer', () => {
  const { h, alice, bob, c } = setup();
  const t1 = h.transfer(alice, bob.publicKey, 10n, 1);
  h.ask(c, { type: 'vote-request', transfer: t1 });
  const t2 = h.transfer(alice, bob.publicKey, 10n, 2, ZERO32);
  assert.is(rejectCode(only(h.ask(c, { type: 'vote-request', transfer: t2 }).send)), Reason.BAD_PREV);
  const ok = h.transfer(alice, bob.publicKey, 10n, 2, transferId(t1));
  assert.is(only(h.ask(c, { type: 'vote-request', transfer: ok }).send).type, 'vote');
});

test('INSUFFICIENT_FUNDS: the balance must cover the amount, counting locked debits', () => {
  const { h, alice, bob, c } = setup();
  const t1 = h.transfer(alice, bob.publicKey, 70n, 1);
  assert.is(only(h.ask(c, { type: 'vote-request', transfer: t1 }).send).type, 'vote');
  const t2 = h.transfer(alice, bob.publicKey, 31n, 2, transferId(t1));
  assert.is(rejectCode(only(h.ask(c, { type: 'vote-request', transfer: t2 }).send)), Reason.INSUFFICIENT_FUNDS);
});

test('CONFLICT: (from, seq) locked to another transfer: conflict answer with the locked one, and a notice', () => {
  const { h, alice, bob, c } = setup();
  const t1 = h.transfer(alice, bob.publicKey, 10n, 1);
  const t2 = h.transfer(alice, bob.publicKey, 11n, 1);
  h.ask(c, { type: 'vote-request', transfer: t1 });
  const out = h.ask(c, { type: 'vote-request', transfer: t2 });
  const conflict = out.send.find((o) => o.msg.type === 'conflict')!.msg as Extract<Message, { type: 'conflict' }>;
  assert.equal(transferId(conflict.locked), transferId(t1));
  const notice = out.send.find((o) => 'mint' in o.to)!.msg as Extract<Message, { type: 'notice' }>;
  assert.is(notice.type, 'notice');
  assert.ok(verify(NoticeCodec, NETWORK, h.scheme, notice.notice.reporter, notice.notice));
  assert.equal(notice.notice.evidence, doubleSpendEvidence(t1, t2));
});

test('NOT_CUSTODIAN: a node that does not hold the sender refuses', () => {
  const { h, alice, bob, outsider } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  assert.is(rejectCode(only(h.ask(outsider, { type: 'vote-request', transfer: t }).send)), Reason.NOT_CUSTODIAN);
});

test('SELF_TRANSFER: sender and recipient must differ', () => {
  const { h, alice, c } = setup();
  const t = h.transfer(alice, alice.publicKey, 10n, 1);
  assert.is(rejectCode(only(h.ask(c, { type: 'vote-request', transfer: t }).send)), Reason.SELF_TRANSFER);
});

test('SUPPLY_CAP: the mint account may not issue past the cap', () => {
  const { h, alice } = setup({ supplyCap: 150n });
  const t = h.signIssuance(alice.publicKey, 60n, 2);
  h.run();
  const v = h.node(2).transfer(transferId(t))!;
  assert.is(v.status, 'rejected');
  assert.is(v.reason, Reason.SUPPLY_CAP);
});

test('SUPPLY_CAP: an issuance within the cap is certified', () => {
  const { h, alice } = setup({ supplyCap: 150n });
  const t = h.issue(alice.publicKey, 50n, 2);
  h.run();
  assert.is(h.node(2).transfer(transferId(t))!.status, 'stored');
});

function certificateOf(h: Harness, t: Transfer, voters: string[], epoch = 0): Certificate {
  const votes = voters.map((hex) => {
    const s = h.signers[h.indexOf(hex)]!;
    return sign(VoteCodec, NETWORK, s, { transferId: transferId(t), from: t.from, seq: t.seq, epoch, voter: s.publicKey });
  });
  return { transfer: t, votes };
}

test('exactly-once credit: a repeated credit-request applies once and answers the receipt again', () => {
  const { h, alice, bob, custodians } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const cert = certificateOf(h, t, custodians.slice(0, 3));
  const to = h.custodiansOf(bob.publicKey)[0]!;
  const o1 = h.ask(to, { type: 'credit-request', certificate: cert });
  const o2 = h.ask(to, { type: 'credit-request', certificate: cert });
  assert.is(only(o1.send).type, 'receipt');
  assert.equal(only(o1.send), only(o2.send));
  assert.is(o1.persist.filter((r) => r.key.startsWith('c/')).length, 1);
  assert.is(o2.persist.length, 0);
  assert.is(h.nodes.get(to)!.account(bob.publicKey)!.balance, 10n);
});

test('BAD_CERTIFICATE: fewer than q votes from custodians of the sender', () => {
  const { h, alice, bob, custodians, outsider } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const to = h.custodiansOf(bob.publicKey)[0]!;
  const short = certificateOf(h, t, custodians.slice(0, 2));
  assert.is(rejectCode(only(h.ask(to, { type: 'credit-request', certificate: short }).send)), Reason.BAD_CERTIFICATE);
  const outsiders = certificateOf(h, t, [...custodians.slice(0, 2), outsider]);
  assert.is(rejectCode(only(h.ask(to, { type: 'credit-request', certificate: outsiders }).send)), Reason.BAD_CERTIFICATE);
  assert.is(h.nodes.get(to)!.account(bob.publicKey)?.balance ?? 0n, 0n);
});

test('UNKNOWN_EPOCH: a certificate naming an epoch this node does not know', () => {
  const { h, alice, bob, custodians } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const to = h.custodiansOf(bob.publicKey)[0]!;
  const cert = certificateOf(h, t, custodians.slice(0, 3), 7);
  assert.is(rejectCode(only(h.ask(to, { type: 'credit-request', certificate: cert }).send)), Reason.UNKNOWN_EPOCH);
});

test('NOT_CUSTODIAN: a credit-request to a node that does not hold the recipient', () => {
  const { h, alice, bob, custodians } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const cert = certificateOf(h, t, custodians.slice(0, 3));
  const toSet = h.custodiansOf(bob.publicKey);
  const other = h.outside(toSet);
  assert.is(rejectCode(only(h.ask(other, { type: 'credit-request', certificate: cert }).send)), Reason.NOT_CUSTODIAN);
});

function alertFor(h: Harness, evidence: Evidence, seq = 1) {
  const reporter = h.signers[0]!;
  const notice = sign(NoticeCodec, NETWORK, reporter, { evidence, reporter: reporter.publicKey });
  return sign(AlertCodec, NETWORK, h.mint, { notice, alertSeq: seq });
}

test('FROZEN: after a verified double-spend alert no new debits; credits still apply', () => {
  const { h, alice, bob, c, custodians } = setup();
  const a = h.transfer(alice, bob.publicKey, 1n, 1);
  const b = h.transfer(alice, bob.publicKey, 2n, 1);
  const out = h.ask(c, { type: 'alert', alert: alertFor(h, doubleSpendEvidence(a, b)) }, { mint: true });
  assert.ok(out.events.some((e) => e.type === 'frozen'));
  assert.ok(out.persist.some((r) => r.key.startsWith('f/')));
  assert.is(rejectCode(only(h.ask(c, { type: 'vote-request', transfer: a }).send)), Reason.FROZEN);
  // a credit to the frozen account still applies
  const carol = h.scheme.signer(secret('carol'));
  h.issue(carol.publicKey, 5n);
  h.run();
  const t = h.transfer(carol, alice.publicKey, 5n, 1);
  const cc = h.custodiansOf(carol.publicKey);
  const cert = { transfer: t, votes: cc.slice(0, 3).map((hex) => {
    const s = h.signers[h.indexOf(hex)]!;
    return sign(VoteCodec, NETWORK, s, { transferId: transferId(t), from: t.from, seq: 1, epoch: 0, voter: s.publicKey });
  }) };
  assert.ok(custodians.includes(c));
  assert.is(only(h.ask(c, { type: 'credit-request', certificate: cert }).send).type, 'receipt');
  const view = h.nodes.get(c)!.account(alice.publicKey)!;
  assert.ok(view.frozen);
  assert.is(view.balance, 105n);
});

test('an alert whose evidence does not hold freezes nothing', () => {
  const { h, alice, bob, c } = setup();
  const a = h.transfer(alice, bob.publicKey, 1n, 1);
  const b = h.transfer(alice, bob.publicKey, 2n, 2); // different seq: no double spend
  const bogus = { kind: 'double-spend' as const, t1: a, t2: b };
  const out = h.ask(c, { type: 'alert', alert: alertFor(h, bogus) }, { mint: true });
  assert.is(out.events.length, 0);
  assert.not.ok(h.nodes.get(c)!.account(alice.publicKey)!.frozen);
  assert.is(h.nodes.get(c)!.alerts().length, 0);
});

test('equivocation alert: the voter no longer counts toward new certificates; formed ones stay valid', () => {
  const { h, alice, bob, custodians, outsider } = setup();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const u = h.transfer(alice, bob.publicKey, 11n, 1);
  const bad = h.signers[h.indexOf(custodians[0]!)]!;
  const v1 = sign(VoteCodec, NETWORK, bad, { transferId: transferId(t), from: alice.publicKey, seq: 1, epoch: 0, voter: bad.publicKey });
  const v2 = sign(VoteCodec, NETWORK, bad, { transferId: transferId(u), from: alice.publicKey, seq: 1, epoch: 0, voter: bad.publicKey });
  const alert = alertFor(h, equivocationEvidence(v1, v2));
  for (const n of h.nodes.keys()) h.ask(n, { type: 'alert', alert }, { mint: true });
  // protocol.md §7: certificates stay valid forever, even one carrying the equivocator's vote.
  // A custodian of bob only: one of alice's would also take the request as `certified` (locking t at seq 1).
  const to = h.custodiansOf(bob.publicKey).find((x) => !custodians.includes(x))!;
  assert.ok(to !== undefined, 'bob has a custodian outside alice\'s group');
  const cert = certificateOf(h, t, custodians.slice(0, 3));
  assert.is(only(h.ask(to, { type: 'credit-request', certificate: cert }).send).type, 'receipt');
  // A certificate gathered after the alert leaves the void voter's vote out.
  const gateway = h.indexOf(outsider);
  const w = h.transfer(alice, bob.publicKey, 12n, 1);
  h.submit(gateway, w);
  h.settle(5);
  const view = h.node(gateway).transfer(transferId(w))!;
  assert.is(view.status, 'stored');
  assert.not.ok(view.certificate!.votes.some((v) => toHex(v.voter) === custodians[0]), 'the void vote is not counted');
  assert.is(view.certificate!.votes.length, 3);
});

test('an alert not signed by the mint is ignored', () => {
  const { h, alice, bob, c } = setup();
  const a = h.transfer(alice, bob.publicKey, 1n, 1);
  const b = h.transfer(alice, bob.publicKey, 2n, 1);
  const reporter = h.signers[0]!;
  const notice = sign(NoticeCodec, NETWORK, reporter, { evidence: doubleSpendEvidence(a, b), reporter: reporter.publicKey });
  const fake = sign(AlertCodec, NETWORK, reporter, { notice, alertSeq: 1 });
  h.ask(c, { type: 'alert', alert: fake }, { mint: true });
  assert.not.ok(h.nodes.get(c)!.account(alice.publicKey)!.frozen);
});

test.run();
