// State that input from strangers can create is bounded (docs/security.md): each test
// floods or spoofs one message kind at a node machine and checks what the node holds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, NETWORK, secret } from './harness.ts';
import { toHex, ZERO32 } from '../../protocol/bytes.ts';
import type { Message } from '../../protocol/messages.ts';
import { EpochCodec, bindNetwork, epochHash, sign, transferId, type EpochRecord, type Transfer } from '../../protocol/objects.ts';
import { MAX_PARKED_VIEWS } from '../../node/core/gateway-views.ts';
import { sortMembers } from '../../mint/core/genesis-create.ts';
import { MAX_CREDITS_PER_STATE } from '../../protocol/handoff-codec.ts';
import { MemoryStore } from '../../protocol/ports.ts';
import { restoredMarkRecords } from '../../node/core/record-keys.ts';
import { MAX_LONE_CREDITS_PER_REPORTER } from '../../node/core/lone-credits.ts';

/** A transfer with a signature that does not verify, distinct per `i`. */
function forged(h: Harness, i: number): Transfer {
  const alice = h.scheme.signer(secret('alice'));
  const t = h.transfer(alice, h.scheme.signer(secret('bob')).publicKey, 1n, 1, ZERO32, new TextEncoder().encode(`forged ${i}`));
  return bindNetwork({ ...t, sig: new Uint8Array(64).fill(7) as Transfer['sig'] }, NETWORK);
}

test('10,000 forged submits leave at most MAX_PARKED_VIEWS gateway views; a fresh rejection is still readable', () => {
  const h = new Harness({ nodes: 5 });
  const gw = h.node(0);
  for (let i = 0; i < 10_000; i++) h.submit(0, forged(h, i));
  h.run();
  const views = gw.sizes().views;
  assert.ok(views <= MAX_PARKED_VIEWS, `views ${views} > ${MAX_PARKED_VIEWS}`);
  const last = forged(h, 9_999);
  assert.is(gw.transfer(transferId(last))?.status, 'rejected', 'the newest rejection is kept');
  // Honest work is untouched: a funded transfer still goes through.
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 10n);
  h.settle(5);
  const t = h.transfer(alice, bob.publicKey, 3n, 1);
  h.submit(0, t);
  h.settle(5);
  assert.is(h.status(0, t), 'stored');
});

test('10,000 zero-balance vote requests from fresh keys leave no custodian accounts', () => {
  const h = new Harness({ nodes: 5, k: 3, q: 2 });
  const before = [...h.nodes.values()].map((n) => n.sizes().accounts);
  const bob = h.scheme.signer(secret('bob')).publicKey;
  for (let i = 0; i < 10_000; i++) {
    const key = h.scheme.signer(secret(`fresh-${i}`));
    const t = h.transfer(key, bob, 1n, 1);
    for (const c of h.custodiansOf(key.publicKey)) h.ask(c, { type: 'vote-request', transfer: t });
  }
  const after = [...h.nodes.values()].map((n) => n.sizes().accounts);
  assert.equal(after, before, 'no account entry for a key whose funds check failed');
});

test('a lone co-custodian\'s account states of 1,000 fresh keys (signed heads, made-up credits) leave no custodian accounts', () => {
  // Any key can be signed for; a state that no second reporter backs and nothing proves makes no entry.
  const h = new Harness({ nodes: 5, k: 3, q: 2 });
  const before = [...h.nodes.values()].map((n) => n.sizes().accounts);
  const bob = h.scheme.signer(secret('bob')).publicKey;
  for (let i = 0; i < 1_000; i++) {
    const key = h.scheme.signer(secret(`lone-${i}`));
    const head = h.transfer(key, bob, 1n, 1 + (i % 4));
    const [target, liar] = h.custodiansOf(key.publicKey);
    const state = {
      account: key.publicKey, frozen: false, seq: head.seq, head, certificate: null, recent: [], debited: 1n, credited: 1_000n,
      credits: [{ transferId: new Uint8Array(32).fill(i % 251), amount: 1_000n }], more: false,
    };
    h.ask(target!, { type: 'account-state', state, epoch: 0 }, { node: liar! });
  }
  const after = [...h.nodes.values()].map((n) => n.sizes().accounts);
  assert.equal(after, before, 'no account entry for an unbacked state');
});

test('a lone co-custodian\'s pages of made-up credits cost its own budget only: reported credits stay bounded, honest ones still merge', () => {
  const h = new Harness({ nodes: 5, k: 3, q: 2 });
  const alice = h.scheme.signer(secret('alice'));
  const [target, liar, honest] = h.custodiansOf(alice.publicKey);
  let n = 0;
  const page = (count: number, more: boolean) => {
    const credits = Array.from({ length: count }, () => {
      const id = new Uint8Array(32);
      new DataView(id.buffer).setUint32(0, ++n);
      return { transferId: id, amount: 1n };
    });
    return { account: alice.publicKey, frozen: false, seq: 0, head: null, certificate: null, recent: [], debited: 0n, credited: BigInt(count), credits, more };
  };
  const pages = Math.ceil((2 * MAX_LONE_CREDITS_PER_REPORTER) / MAX_CREDITS_PER_STATE) + 1;
  for (let p = 0; p < pages; p++) h.ask(target!, { type: 'account-state', state: page(MAX_CREDITS_PER_STATE, true), epoch: 0 }, { node: liar! });
  const held = h.nodes.get(target!)!.held!().reportedCredits;
  assert.ok(n > 2 * MAX_LONE_CREDITS_PER_REPORTER, `sent ${n}`);
  assert.ok(held <= MAX_LONE_CREDITS_PER_REPORTER, `held ${held} > ${MAX_LONE_CREDITS_PER_REPORTER}`);
  // The liar's budget is its own: a credit two reporters list is still applied.
  const real = page(1, false);
  h.ask(target!, { type: 'account-state', state: real, epoch: 0 }, { node: liar! });
  h.ask(target!, { type: 'account-state', state: real, epoch: 0 }, { node: honest! });
  assert.is(h.nodes.get(target!)!.account(alice.publicKey)?.balance, 1n, 'the credit two reporters list is applied');
});

test('fresh keys at a new custodian (epoch 1): empty accounts are synced without entries, pulls stay bounded', () => {
  const h = new Harness({ nodes: 4, k: 3, q: 2, spare: 1 });
  h.newEpoch([0, 1, 2, 3, 4]);
  h.settle(3);
  const spare = h.nodeHex(4);
  const node = h.nodes.get(spare)!;
  const accounts0 = node.sizes().accounts;
  const bob = h.scheme.signer(secret('bob')).publicKey;
  const asked: Transfer[] = [];
  for (let i = 0; asked.length < 300; i++) {
    const key = h.scheme.signer(secret(`epoch1-${i}`));
    if (!h.custodiansOf(key.publicKey).includes(spare)) continue;
    const t = h.transfer(key, bob, 1n, 1);
    asked.push(t);
    // Through the queue, so the pulls it makes go out and are answered.
    h.held.push({ from: { node: h.nodeHex(0) }, to: spare, msg: { type: 'vote-request', transfer: t } });
  }
  h.release();
  h.settle(3);
  const s = node.sizes();
  assert.is(s.accounts, accounts0, 'no entries for empty accounts');
  assert.ok(s.emptySynced > 0 && s.emptySynced <= 300, `empty synced ${s.emptySynced}`);
  // Synced now: the next request is refused for funds, not for sync, and still makes no entry.
  const out = h.ask(spare, { type: 'vote-request', transfer: asked[0]! });
  const m = out.send[0]?.msg as Extract<Message, { type: 'reject' }> | undefined;
  assert.is(m?.code, 'INSUFFICIENT_FUNDS');
  assert.is(node.sizes().accounts, accounts0);
});

test('64 unsigned future epoch records do not block the genuine next epochs', () => {
  const h = new Harness({ nodes: 5, spare: 2 });
  const n0 = h.node(0);
  for (let e = 2; e < 2 + 64; e++) {
    const junk: EpochRecord = bindNetwork({
      network: NETWORK, epoch: e, members: sortMembers([h.signers[0]!.publicKey]), k: 1, q: 1, prev: ZERO32, issuedAt: 0, sig: new Uint8Array(64),
    }, NETWORK);
    h.ask(0, { type: 'epoch', record: junk }, { mint: true });
  }
  assert.is(n0.sizes().futureEpochs, 0, 'none kept: their signatures do not hold');
  // A forged record that is signed by someone else is refused too.
  const other = sign(EpochCodec, NETWORK, h.signers[1]!, { network: NETWORK, epoch: 3, members: sortMembers([h.signers[1]!.publicKey]), k: 1, q: 1, prev: ZERO32, issuedAt: 0 });
  h.ask(0, { type: 'epoch', record: other }, { mint: true });
  assert.is(n0.sizes().futureEpochs, 0);
  // The genuine ones, out of order: 2 before 1.
  const e1 = h.newEpoch([0, 1, 2, 3, 4, 5], false);
  const e2 = h.newEpoch([0, 1, 2, 3, 4, 5, 6], false);
  h.ask(0, { type: 'epoch', record: e2 }, { mint: true });
  assert.is(n0.sizes().futureEpochs, 1);
  h.ask(0, { type: 'epoch', record: e1 }, { mint: true });
  assert.is(n0.currentEpoch().epoch, 2);
  assert.equal(epochHash(n0.currentEpoch()), epochHash(e2));
  assert.is(n0.sizes().futureEpochs, 0);
});

test('a spoofed `stored` does not end the storing phase; a spoofed `conflict` is dropped', () => {
  const h = new Harness({ nodes: 8, k: 4, q: 3 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(3);
  const t = h.transfer(alice, bob.publicKey, 5n, 1);
  const id = transferId(t);
  // Hold the stores: the gateway waits in its storing phase.
  h.holdIf = (_from, _to, msg) => msg.type === 'store';
  h.submit(0, t);
  h.run();
  assert.is(h.status(0, t), 'credited');
  const storage = new Set(h.node(0).currentEpoch() && [...storageOf(h, id)]);
  const stranger = [...h.nodes.keys()].find((n) => !storage.has(n) && n !== h.nodeHex(0))!;
  h.ask(0, { type: 'stored', transferId: id }, { node: stranger });
  assert.is(h.status(0, t), 'credited', 'a node outside the storage set cannot end the phase');
  h.holdIf = undefined;
  h.release();
  h.settle(3);
  assert.is(h.status(0, t), 'stored');

  // `conflict` from a node that is not a custodian of the sender: no conflict status, no notice.
  const t2 = h.transfer(alice, bob.publicKey, 5n, 2, id);
  const rival = h.transfer(alice, bob.publicKey, 6n, 2, id);
  h.holdIf = (_from, _to, msg) => msg.type === 'vote-request';
  h.submit(0, t2);
  const outsider = h.outside(h.custodiansOf(alice.publicKey).concat(h.nodeHex(0)));
  const notices = h.notices.length;
  h.ask(0, { type: 'conflict', transferId: transferId(t2), locked: rival }, { node: outsider });
  assert.is(h.status(0, t2), 'pending');
  h.run();
  assert.is(h.notices.length, notices, 'no notice on a stranger\'s word');
  // From a custodian it counts.
  h.ask(0, { type: 'conflict', transferId: transferId(t2), locked: rival }, { node: h.custodiansOf(alice.publicKey)[0]! });
  assert.is(h.status(0, t2), 'conflict');
  h.holdIf = undefined;
});

function storageOf(h: Harness, id: Uint8Array): string[] {
  // The storage set is the ring's successors of the id, as Ring.storage computes.
  const n = h.node(0) as unknown as { ctx: { ring: { storage(id: Uint8Array): Uint8Array[] } } };
  return n.ctx.ring.storage(id).map(toHex);
}

test('a lookup reply with another transfer\'s bundle, or a forged one, is not stored', () => {
  const h = new Harness({ nodes: 8, k: 4, q: 3 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(3);
  const t1 = h.transfer(alice, bob.publicKey, 5n, 1);
  h.submit(0, t1);
  h.settle(3);
  const real = h.node(0).transfer(transferId(t1))!.bundle!;
  // A node that does not hold t1's bundle asks for some other id and gets t1's bundle as the answer.
  const asker = [...h.nodes.keys()].find((n) => !storageOf(h, transferId(t1)).includes(n))!;
  const other = transferId(h.transfer(alice, bob.publicKey, 9n, 2, transferId(t1)));
  h.nodes.get(asker)!.lookup(other);
  h.ask(asker, { type: 'lookup-reply', transferId: other, bundle: real }, { node: storageOf(h, other)[0]! });
  assert.is(h.nodes.get(asker)!.bundle(other), undefined, 'not stored under another id');
  // A forged bundle (receipts dropped) for the id it names is refused as well.
  h.nodes.get(asker)!.lookup(transferId(t1));
  const forgedBundle = { ...real, receipts: real.receipts.slice(0, 1) };
  h.ask(asker, { type: 'lookup-reply', transferId: transferId(t1), bundle: forgedBundle }, { node: storageOf(h, transferId(t1))[0]! });
  assert.is(h.nodes.get(asker)!.bundle(transferId(t1)), undefined);
  assert.not.ok(h.nodes.get(asker)!.checkBundle(forgedBundle));
  assert.ok(h.nodes.get(asker)!.checkBundle(real));
});

test('account pulls: all pages to custodians only, one page to another member, nothing to a stranger', () => {
  const h = new Harness({ nodes: 6, k: 3, q: 2, historyInMemory: true });
  const alice = h.scheme.signer(secret('alice'));
  const n = MAX_CREDITS_PER_STATE + 20;
  for (let i = 0; i < n; i++) h.issue(alice.publicKey, 1n, i % 6);
  h.settle(3);
  const custodians = h.custodiansOf(alice.publicKey);
  const c = custodians[0]!;
  const pull: Message = { type: 'account-pull', account: alice.publicKey, epoch: 0 };
  const states = (from: string) => h.ask(c, pull, { node: from }).send.filter((s) => s.msg.type === 'account-state');
  assert.is(states(custodians[1]!).length, 2, 'a co-custodian gets every page');
  const member = h.outside(custodians);
  const one = states(member);
  assert.is(one.length, 1, 'another member gets the first page only');
  const stranger = toHex(h.scheme.signer(secret('stranger')).publicKey);
  assert.is(states(stranger).length, 0, 'a stranger gets nothing');
  // A pull naming the next epoch is held, and answered only if its asker is then a custodian.
  assert.is(h.ask(c, { ...pull, epoch: 1 } as Message, { node: stranger }).send.length, 0);
});

test('a custodian restored from a backup syncs a fresh key as empty, with no entry, and then refuses it for funds', () => {
  const h = new Harness({ nodes: 6, k: 3, q: 2 });
  const c = h.nodeHex(0);
  const marked = new MemoryStore();
  marked.apply([...h.stores.get(c)!.entries('')].map(([key, value]) => ({ key, value })));
  marked.apply(restoredMarkRecords([], 1));
  h.stores.set(c, marked);
  const m = h.restart(c);
  assert.ok(m.restored);
  const bob = h.scheme.signer(secret('bob')).publicKey;
  let key = h.scheme.signer(secret('restored-0'));
  for (let i = 1; !h.custodiansOf(key.publicKey).includes(c); i++) key = h.scheme.signer(secret(`restored-${i}`));
  const t = h.transfer(key, bob, 1n, 1);
  const accounts0 = m.sizes().accounts;
  h.held.push({ from: { node: h.nodeHex(1) }, to: c, msg: { type: 'vote-request', transfer: t } });
  h.release();
  h.settle(3);
  const out = h.ask(c, { type: 'vote-request', transfer: t });
  assert.is((out.send[0]?.msg as Extract<Message, { type: 'reject' }> | undefined)?.code, 'INSUFFICIENT_FUNDS');
  assert.is(m.sizes().accounts, accounts0);
});

test.run();
