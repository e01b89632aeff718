// A node given its records reader (NodeInit.records, as every daemon is) keeps only a
// window of each account's locks and credits in memory, and no stored bundles; what
// is older is read back from its records and answers exactly as when held in memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import { MAX_CREDITS_PER_STATE, MAX_RECENT_LOCKS } from '../../protocol/handoff-codec.ts';
import type { Signer } from '../../protocol/signature.ts';
import { HISTORY_INDEX_KEY, historyIndexRecords } from '../../node/core/history-index.ts';
import { Keys } from '../../node/core/record-keys.ts';

/** Locks of one account a reader-backed node holds at most (custodian.ts LOCK_WINDOW, twice before a cut). */
const MAX_HELD_LOCKS = 4 * MAX_RECENT_LOCKS;
/** Credits likewise (CREDIT_WINDOW = MAX_CREDITS_PER_STATE). */
const MAX_HELD_CREDITS = 2 * MAX_CREDITS_PER_STATE;

/** `n` transfers of 1 from `from` to `to`, each finished before the next. */
function chain(h: Harness, from: Signer, to: Bytes, n: number): Transfer[] {
  const out: Transfer[] = [];
  let prev: Bytes | undefined;
  for (let seq = 1; seq <= n; seq++) {
    const t = h.transfer(from, to, 1n, seq, prev);
    h.submit(seq % 4, t);
    h.run();
    out.push(t);
    prev = transferId(t);
  }
  return out;
}

/** `n` issuances of 1 to `to`, each finished before the next, through rotating gateways. */
function issueOneByOne(h: Harness, to: Bytes, n: number): Transfer[] {
  const out: Transfer[] = [];
  for (let i = 0; i < n; i++) {
    out.push(h.issue(to, 1n, i % 4));
    h.run();
  }
  return out;
}

function replyTypes(h: Harness, node: string, t: Transfer): { types: string[]; locked?: Transfer } {
  const out = h.ask(node, { type: 'vote-request', transfer: t });
  // Answers to the asker (a conflict also sends the mint a notice).
  const types = out.send.filter((s) => 'node' in s.to).map((s) => s.msg.type);
  const c = out.send.find((s) => s.msg.type === 'conflict');
  return { types, locked: c?.msg.type === 'conflict' ? c.msg.locked : undefined };
}

for (const historyInMemory of [false, true]) {
  const mode = historyInMemory ? 'history in memory' : 'with a records reader';

  test(`${mode}: old locks answer re-votes and conflicts, old bundles and history are served, before and after a restart`, () => {
    const h = new Harness({ nodes: 4, historyInMemory });
    const alice = h.scheme.signer(secret('alice'));
    const bob = h.scheme.signer(secret('bob'));
    h.issue(alice.publicKey, 1_000n);
    h.run();
    const n = MAX_HELD_LOCKS + 40;
    const ts = chain(h, alice, bob.publicKey, n);
    const node = h.nodeHex(1);
    const check = (label: string): void => {
      const m = h.nodes.get(node)!;
      assert.is(m.account(alice.publicKey)!.balance, 1_000n - BigInt(n), label);
      assert.is(m.account(alice.publicKey)!.seq, n, label);
      assert.is(m.account(bob.publicKey)!.balance, BigInt(n), label);
      const held = m.held!();
      if (historyInMemory) assert.ok(held.locks > n && held.bundles > n, `${label}: all held`);
      else {
        assert.ok(held.locks <= 3 * MAX_HELD_LOCKS, `${label}: ${held.locks} locks held`);
        assert.is(held.bundles, 0, `${label}: no bundle held`);
      }
      // An old lock: the same transfer is voted for again, a rival at its seq is a conflict naming it.
      assert.equal(replyTypes(h, node, ts[4]!).types, ['vote'], label);
      const rival = h.transfer(alice, h.scheme.signer(secret('carol')).publicKey, 1n, 5, transferId(ts[3]!));
      const r = replyTypes(h, node, rival);
      assert.equal(r.types, ['conflict'], label);
      assert.is(toHex(transferId(r.locked!)), toHex(transferId(ts[4]!)), label);
      // The oldest bundle, and the whole debit history.
      const b = m.bundle(transferId(ts[0]!));
      assert.ok(b !== undefined, `${label}: oldest bundle`);
      assert.is(toHex(transferId(b.certificate.transfer)), toHex(transferId(ts[0]!)));
      // Its gateway's view (node 1 was the gateway of seq 1), whose bundle comes from the store with a reader.
      const view = m.transfer(transferId(ts[0]!))!;
      assert.is(view.status, 'stored');
      assert.ok(view.bundle !== undefined && view.certificate !== undefined, `${label}: the view has its bundle`);
      if (label === 'live') assert.type(view.times.final, 'number', 'the gateway view, with its times');
      const hist = m.history!(alice.publicKey)!;
      assert.is(hist.debits.length, n, label);
      assert.is(toHex(hist.debits[0]!.transferId), toHex(transferId(ts[0]!)), label);
      assert.ok(hist.debits.every((d, i) => d.seq === i + 1 && d.certified), label);
    };
    check('live');
    h.restart(node);
    check('restarted');
    // And the account goes on from its head.
    const next = h.transfer(alice, bob.publicKey, 1n, n + 1, transferId(ts[n - 1]!));
    h.submit(0, next);
    h.run();
    assert.is(h.status(0, next), 'stored');
  });

  test(`${mode}: a credit below the window is not applied twice, before and after a restart`, () => {
    const h = new Harness({ nodes: 4, historyInMemory });
    const bob = h.scheme.signer(secret('bob'));
    const n = MAX_HELD_CREDITS + 20;
    const issued = issueOneByOne(h, bob.publicKey, n);
    const node = h.nodeHex(2);
    const cert = h.nodes.get(node)!.bundle(transferId(issued[0]!))!.certificate;
    const check = (label: string): void => {
      const m = h.nodes.get(node)!;
      const out = h.ask(node, { type: 'credit-request', certificate: cert });
      assert.equal(out.send.map((s) => s.msg.type), ['receipt'], `${label}: answered with a receipt`);
      assert.is(out.events.filter((e) => e.type === 'credited').length, 0, `${label}: not credited again`);
      assert.is(m.account(bob.publicKey)!.balance, BigInt(n), label);
      const held = m.held!();
      if (historyInMemory) assert.ok(held.credits >= n, label);
      else assert.ok(held.credits <= MAX_HELD_CREDITS, `${label}: ${held.credits} credits held`);
      // The credit history lists the oldest page in the order applied (kept across a
      // restart by the `k/` index; without a reader, restored credits come in id order).
      const hist = m.history!(bob.publicKey)!;
      assert.is(hist.credits.length, MAX_CREDITS_PER_STATE, label);
      if (!historyInMemory || label === 'live') assert.is(toHex(hist.credits[0]!.transferId), toHex(transferId(issued[0]!)), label);
    };
    check('live');
    h.restart(node);
    check('restarted');
  });
}

test('with a records reader, only the 256 most recently used accounts keep windows; an evicted account still answers from the records', () => {
  for (const historyInMemory of [false, true]) {
    const h = new Harness({ nodes: 4, historyInMemory });
    const bob = h.scheme.signer(secret('bob'));
    const wallets = Array.from({ length: 300 }, (_, i) => h.scheme.signer(secret(`w${i}`)));
    const funds = wallets.map((w, i) => h.issue(w.publicKey, 10n, i % 4));
    h.run();
    const sent = wallets.map((w, i) => {
      const t = h.transfer(w, bob.publicKey, 1n, 1);
      h.submit(i % 4, t);
      return t;
    });
    h.run();
    const node = h.nodeHex(2);
    const check = (label: string): void => {
      const m = h.nodes.get(node)!;
      const held = m.held!();
      // In memory: the mint's 300 locks and each wallet's 1, bob's 300 credits and each wallet's 1.
      if (historyInMemory) assert.ok(held.locks >= 600 && held.credits >= 600, `${label}: ${JSON.stringify(held)}`);
      else assert.ok(held.locks <= 2 * (MAX_RECENT_LOCKS + 1) + 256 && held.credits <= 300 + 256, `${label}: ${JSON.stringify(held)}`);
      const w0 = wallets[0]!;
      assert.is(m.account(w0.publicKey)!.balance, 9n, label);
      assert.is(m.account(bob.publicKey)!.balance, 300n, label);
      assert.equal(replyTypes(h, node, sent[0]!).types, ['vote'], `${label}: re-vote`);
      const rival = h.transfer(w0, h.scheme.signer(secret('carol')).publicKey, 1n, 1);
      const r = replyTypes(h, node, rival);
      assert.equal(r.types, ['conflict'], label);
      assert.is(toHex(transferId(r.locked!)), toHex(transferId(sent[0]!)), label);
      const cert = m.bundle(transferId(funds[0]!))!.certificate;
      const out = h.ask(node, { type: 'credit-request', certificate: cert });
      assert.is(out.events.filter((e) => e.type === 'credited').length, 0, `${label}: not credited twice`);
      const hist = m.history!(w0.publicKey)!;
      assert.equal(hist.credits.map((c) => toHex(c.transferId)), [toHex(transferId(funds[0]!))], label);
      assert.equal(hist.debits.map((d) => toHex(d.transferId)), [toHex(transferId(sent[0]!))], label);
    };
    check(historyInMemory ? 'in memory' : 'reader');
    h.restart(node);
    check(historyInMemory ? 'in memory, restarted' : 'reader, restarted');
  }
});

test('a custodian that takes an account over at an epoch change writes every lock it adopts, the head included', () => {
  const h = new Harness({ nodes: 4, spare: 1 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const ts = chain(h, alice, bob.publicKey, 3);
  h.newEpoch([1, 2, 3, 4]);
  h.settle(5);
  const newcomer = h.nodeHex(4);
  assert.is(h.nodes.get(newcomer)!.account(alice.publicKey)?.seq, 3, 'the account moved');
  const store = h.stores.get(newcomer)!;
  for (const t of ts) assert.ok(store.get(Keys.lock(toHex(alice.publicKey), t.seq)) !== undefined, `lock ${t.seq} written`);
  // So a restart, which reads locks below the head back from there, answers a re-vote the same.
  h.restart(newcomer);
  assert.equal(replyTypes(h, newcomer, ts[1]!).types, ['vote']);
});

test('a store written before the history index gets one (historyIndexRecords), and a node restarted on it reads its history back', () => {
  const h = new Harness({ nodes: 4 });
  const bob = h.scheme.signer(secret('bob'));
  const n = MAX_HELD_CREDITS + 20;
  const issued = issueOneByOne(h, bob.publicKey, n);
  const node = h.nodeHex(3);
  const store = h.stores.get(node)!;
  // As an older node wrote it: no `k/` or `o/` records.
  const index = [...store.entries('k/'), ...store.entries('o/')];
  assert.is(index.length, 2 * n);
  store.apply(index.map(([key]) => ({ key, value: null })));
  store.apply(historyIndexRecords(store.entries('c/'), [...store.entries('b/')].map(([k]) => k)));
  assert.ok(store.get(HISTORY_INDEX_KEY) !== undefined);
  assert.is([...store.entries('k/')].length + [...store.entries('o/')].length, 2 * n);
  const m = h.restart(node);
  assert.is(m.account(bob.publicKey)!.balance, BigInt(n));
  assert.ok(m.held!().credits <= MAX_HELD_CREDITS);
  const out = h.ask(node, { type: 'credit-request', certificate: m.bundle(transferId(issued[0]!))!.certificate });
  assert.is(out.events.filter((e) => e.type === 'credited').length, 0, 'the oldest credit is known');
  assert.is(m.history!(bob.publicKey)!.credits.length, MAX_CREDITS_PER_STATE);
  // New credits and bundles go on from the index's ends.
  const t = h.issue(bob.publicKey, 1n, 0);
  h.run();
  assert.is(m.account(bob.publicKey)!.balance, BigInt(n + 1));
  assert.ok(store.get(`o/${(n).toString(16).padStart(12, '0')}`) !== undefined, 'the next bundle index');
  assert.ok(m.bundle(transferId(t)) !== undefined);
});

test.run();
