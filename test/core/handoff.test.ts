// Handoff at an epoch change (protocol.md §7) and anti-entropy repair (protocol.md §7, Anti-entropy).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, NETWORK, secret, ringCustodians } from './harness.ts';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason } from '../../protocol/errors.ts';
import type { Message } from '../../protocol/messages.ts';
import { VoteCodec, sign, transferId, type Certificate, type Transfer } from '../../protocol/objects.ts';
import type { Signer } from '../../protocol/signature.ts';
import { Ring } from '../../protocol/ring.ts';
import { ANTI_ENTROPY_PAGES } from '../../node/core/account-states.ts';
import { MAX_CREDITS_PER_STATE } from '../../protocol/handoff-codec.ts';

function fundMany(h: Harness, n: number, amount: bigint): Signer[] {
  return h.fund(amount, ...Array.from({ length: n }, (_, i) => `w${i}`));
}

function balanceAt(h: Harness, account: Bytes): bigint[] {
  return h.custodiansOf(account).map((c) => h.nodes.get(c)!.account(account)?.balance ?? 0n);
}

test('an epoch that adds and removes members moves every account with no funds lost; transfers go on', () => {
  const h = new Harness({ nodes: 8, spare: 4, seed: 3 });
  const ws = fundMany(h, 12, 50n);
  // some activity before the change
  const heads = new Map<string, Transfer>();
  for (let i = 0; i < ws.length; i += 2) {
    const t = h.transfer(ws[i]!, ws[i + 1]!.publicKey, 20n, 1);
    heads.set(toHex(ws[i]!.publicKey), t);
    h.submit(i % 8, t);
  }
  h.settle(3);
  const expected = ws.map((_, i) => (i % 2 === 0 ? 30n : 70n));
  // epoch 1: drop nodes 0 and 1, add the 4 spares
  h.newEpoch([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  h.settle(5);
  for (const n of h.nodes.values()) assert.is(n.currentEpoch().epoch, 1);
  ws.forEach((w, i) => assert.equal(balanceAt(h, w.publicKey), [expected[i], expected[i], expected[i], expected[i]], `account ${i}`));
  // every account can still send, through the new custodians
  const after: Transfer[] = [];
  ws.forEach((w, i) => {
    const prev = heads.get(toHex(w.publicKey));
    const t = h.transfer(w, ws[(i + 1) % ws.length]!.publicKey, 10n, prev ? 2 : 1, prev ? transferId(prev) : undefined);
    after.push(t);
    h.submit(2 + (i % 10), t);
  });
  h.settle(10);
  after.forEach((t, i) => assert.is(h.status(2 + (i % 10), t), 'stored', `transfer ${i}`));
  let total = 0n;
  for (const w of ws) total += balanceAt(h, w.publicKey)[0]!;
  assert.is(total, 50n * 12n, 'conservation across the handoff');
});

test('NOT_SYNCED: a new custodian that lacks an account pulls it from the old custodians, then votes', () => {
  const h = new Harness({ nodes: 8, spare: 4 });
  const ws = fundMany(h, 16, 50n);
  const e1 = h.newEpoch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], false);
  const old = new Ring(h.genesis.epoch0);
  // an account with a brand-new custodian
  let target: Signer | undefined;
  let fresh: string | undefined;
  for (const w of ws) {
    const now = ringCustodians(e1, w.publicKey);
    const before = old.custodians(w.publicKey).map(toHex);
    fresh = now.find((c) => !before.includes(c));
    if (fresh) {
      target = w;
      break;
    }
  }
  assert.ok(target && fresh, 'some account gains a new custodian');
  // only the new custodian hears of the epoch (the old ones' pushes are not delivered)
  h.ask(fresh!, { type: 'epoch', record: e1 }, { mint: true });
  const t = h.transfer(target!, ws[0] === target ? ws[1]!.publicKey : ws[0]!.publicKey, 5n, 1);
  const out = h.ask(fresh!, { type: 'vote-request', transfer: t });
  const reject = out.send.find((o) => o.msg.type === 'reject')!.msg as Extract<Message, { type: 'reject' }>;
  assert.is(reject.code, Reason.NOT_SYNCED);
  const pulls = out.send.filter((o) => o.msg.type === 'account-pull');
  assert.ok(pulls.length >= 3);
  assert.is(h.nodes.get(fresh!)!.account(target!.publicKey)?.synced ?? false, false);
  // the old custodians answer once they are in epoch 1 themselves (before, they could still vote in epoch 0)
  for (const p of pulls) {
    const to = 'node' in p.to ? p.to.node : '';
    assert.is(h.nodes.get(to)!.receive({ node: fresh! }, p.msg).send.length, 0, 'a pull for a later epoch waits');
    h.ask(to, { type: 'epoch', record: e1 }, { mint: true });
    for (const r of h.nodes.get(to)!.receive({ node: fresh! }, p.msg).send) h.ask(fresh!, r.msg, { node: to });
  }
  const view = h.nodes.get(fresh!)!.account(target!.publicKey)!;
  assert.ok(view.synced);
  assert.is(view.balance, 50n);
  const again = h.ask(fresh!, { type: 'vote-request', transfer: t });
  assert.is(again.send[0]!.msg.type, 'vote');
});

/** A certificate for `t` with votes of `voters` (hex) at `epoch`. */
export function certify(h: Harness, t: Transfer, voters: readonly string[], epoch = 0): Certificate {
  const votes = voters.map((hex) => {
    const s = h.signers[h.indexOf(hex)]!;
    return sign(VoteCodec, NETWORK, s, { transferId: transferId(t), from: t.from, seq: t.seq, epoch, voter: s.publicKey });
  });
  return { transfer: t, votes };
}

test('merge: a conflicting lock at one seq keeps the certified transfer; a certified chain brings its locks for re-votes', () => {
  const h = new Harness({ nodes: 8, spare: 4 });
  const [a, b] = fundMany(h, 2, 50n);
  const e1 = h.newEpoch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], false);
  const now = ringCustodians(e1, a!.publicKey);
  const before = new Ring(h.genesis.epoch0).custodians(a!.publicKey).map(toHex);
  const target = now.find((x) => !before.includes(x)) ?? now[0]!;
  h.ask(target, { type: 'epoch', record: e1 }, { mint: true });
  const t1 = h.transfer(a!, b!.publicKey, 5n, 1);
  const t2 = h.transfer(a!, b!.publicKey, 6n, 1);
  const base = { account: a!.publicKey, frozen: false, seq: 1, credited: 50n, credits: [], recent: [], more: false };
  const [sender0, sender1, sender2] = before.filter((x) => x !== target) as [string, string, string];
  h.ask(target, { type: 'account-state', state: { ...base, head: t1, certificate: null, debited: 5n }, epoch: 1 }, { node: sender0 });
  h.ask(target, { type: 'account-state', state: { ...base, head: t2, certificate: certify(h, t2, before.slice(0, 3)), debited: 6n }, epoch: 1 }, { node: sender1 });
  const view = h.nodes.get(target)!.account(a!.publicKey)!;
  assert.equal(view.head, transferId(t2));
  assert.is(view.seq, 1);
  const t3 = h.transfer(a!, b!.publicKey, 1n, 2, transferId(t2));
  const t4 = h.transfer(a!, b!.publicKey, 1n, 3, transferId(t3));
  h.ask(target, { type: 'account-state', state: { ...base, seq: 3, head: t4, recent: [t3, t2], certificate: certify(h, t4, before.slice(1, 4)), debited: 8n }, epoch: 1 }, { node: sender0 });
  assert.is(h.nodes.get(target)!.account(a!.publicKey)!.seq, 3);
  // a third old custodian answers: q reports, agreeing on the head, make the replica synced
  h.ask(target, { type: 'account-state', state: { ...base, seq: 3, head: t4, recent: [t3, t2], certificate: null, debited: 8n }, epoch: 1 }, { node: sender2 });
  assert.ok(h.nodes.get(target)!.account(a!.publicKey)!.synced);
  // the pipelined transfer below the head is answered with a vote, not SEQ_USED
  const out = h.ask(target, { type: 'vote-request', transfer: t3 });
  assert.is(out.send[0]!.msg.type, 'vote');
});

test('pins: a transfer one old custodian reports above the agreed head blocks a rival, also after a restart', () => {
  const h = new Harness({ nodes: 8, spare: 4 });
  const [a, b] = fundMany(h, 2, 50n);
  const e1 = h.newEpoch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], false);
  const before = new Ring(h.genesis.epoch0).custodians(a!.publicKey).map(toHex);
  const now = ringCustodians(e1, a!.publicKey);
  const target = now.find((x) => !before.includes(x)) ?? now[0]!;
  h.ask(target, { type: 'epoch', record: e1 }, { mint: true });
  const t1 = h.transfer(a!, b!.publicKey, 5n, 1);
  const t2 = h.transfer(a!, b!.publicKey, 6n, 1);
  const funding = h.events.find((e) => e.event.type === 'certified' && toHex(e.event.certificate.transfer.to) === toHex(a!.publicKey))!;
  const credits = [{ transferId: transferId((funding.event as { certificate: Certificate }).certificate.transfer), amount: 50n }];
  const base = { account: a!.publicKey, frozen: false, credited: 50n, credits, recent: [], more: false, certificate: null };
  const [s0, s1, s2] = before.filter((x) => x !== target) as [string, string, string];
  // One old custodian locked t1 (it may be certified); two had not heard of it: the agreed head is seq 0.
  h.ask(target, { type: 'account-state', state: { ...base, seq: 1, head: t1, debited: 5n }, epoch: 1 }, { node: s0 });
  h.ask(target, { type: 'account-state', state: { ...base, seq: 0, head: null, debited: 0n }, epoch: 1 }, { node: s1 });
  h.ask(target, { type: 'account-state', state: { ...base, seq: 0, head: null, debited: 0n }, epoch: 1 }, { node: s2 });
  const view = h.nodes.get(target)!.account(a!.publicKey)!;
  assert.ok(view.synced);
  assert.is(view.seq, 0);
  const rival = (): string => h.ask(target, { type: 'vote-request', transfer: t2 }).send.map((o) => o.msg.type).join(',');
  assert.ok(rival().startsWith('conflict'), 'a rival of the pinned transfer is not voted for');
  h.restart(target);
  assert.ok(h.nodes.get(target)!.account(a!.publicKey)!.synced, 'synced survives the restart');
  assert.ok(rival().startsWith('conflict'), 'the pin survives the restart');
  // The pinned transfer itself is voted for; then its pin is dropped, durably.
  assert.is(h.ask(target, { type: 'vote-request', transfer: t1 }).send[0]!.msg.type, 'vote');
  assert.not.ok([...h.stores.get(target)!.entries('p/')].length, 'no pin record left once the seq is locked');
  h.restart(target);
  assert.is(h.nodes.get(target)!.account(a!.publicKey)!.seq, 1);
  assert.ok(rival().startsWith('conflict'), 'now locked: the rival still gets conflict');
});

test('bundles are handed off to new storage nodes', () => {
  const h = new Harness({ nodes: 8, spare: 4 });
  const ws = fundMany(h, 10, 5n);
  void ws;
  h.settle(2);
  const ids = h.events.filter((e) => e.event.type === 'stored').map((e) => (e.event as { transferId: Bytes }).transferId);
  const e1 = h.newEpoch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  h.settle(3);
  const ring = new Ring(e1);
  for (const id of ids) for (const s of ring.storage(id)) assert.ok(h.nodes.get(toHex(s))!.bundle(id), 'held by each storage node of the new epoch');
});

test('anti-entropy: a custodian that missed a credit and a storage node that missed a bundle are repaired', () => {
  const h = new Harness({ nodes: 8, options: { antiEntropyMs: 2_000 } });
  const alice = h.scheme.signer(secret('alice'));
  const custodians = h.custodiansOf(alice.publicKey);
  const down = custodians[3]!;
  h.down.add(down);
  const t = h.issue(alice.publicKey, 100n, h.indexOf(h.outside(custodians)));
  h.settle(3);
  assert.is(h.nodes.get(down)!.account(alice.publicKey), undefined);
  const storage = new Ring(h.genesis.epoch0).storage(transferId(t)).map(toHex);
  const missing = storage.find((s) => s !== down && h.nodes.get(s)!.bundle(transferId(t)) !== undefined)!;
  // drop the bundle from one storage replica by rebuilding it from an emptied store
  const store = h.stores.get(missing)!;
  store.apply([{ key: `b/${toHex(transferId(t))}`, value: null }]);
  h.restart(missing);
  assert.is(h.nodes.get(missing)!.bundle(transferId(t)), undefined);
  h.down.delete(down);
  h.settle(10, 500);
  assert.is(h.nodes.get(down)!.account(alice.publicKey)!.balance, 100n, 'credit repaired');
  assert.ok(h.nodes.get(missing)!.bundle(transferId(t)), 'bundle repaired');
});

test('anti-entropy sweeps a store larger than a round: each round names its new bundles and a slice of the rest; a lost one is found', () => {
  const SWEEP = 3;
  const h = new Harness({ nodes: 6, options: { antiEntropyMs: 2_000, sweptBundlesPerRound: SWEEP } });
  const alice = h.scheme.signer(secret('alice'));
  const ids: Bytes[] = [];
  for (let i = 0; i < 12; i++) ids.push(transferId(h.issue(alice.publicKey, 10n, i % 6)));
  h.settle(3);
  const ring = new Ring(h.genesis.epoch0);
  const holders = (id: Bytes) => ring.storage(id).map(toHex);
  // The node holding the most bundles, and one bundle it shares with a replica that loses it.
  const counts = [...h.nodes.keys()].map((hex) => ({ hex, n: ids.filter((id) => holders(id).includes(hex)).length }));
  const big = counts.sort((a, b) => b.n - a.n)[0]!;
  assert.ok(big.n > 2 * SWEEP, `a store over two sweeps (${big.n})`);
  const lost = ids.find((id) => holders(id).includes(big.hex))!;
  const loser = holders(lost).find((x) => x !== big.hex)!;
  h.stores.get(loser)!.apply([{ key: `b/${toHex(lost)}`, value: null }]);
  h.restart(loser);
  assert.is(h.nodes.get(loser)!.bundle(lost), undefined);
  // With no new bundles, each digest names at most SWEEP bundles; in turn they name all of them.
  const named = new Set<string>();
  let digests = 0;
  h.holdIf = (from, _to, msg: Message) => {
    if ('node' in from && from.node === big.hex && msg.type === 'digest' && msg.digest.kind === 'bundles') {
      digests++;
      assert.ok(msg.digest.entries.length <= SWEEP, `a digest of ${msg.digest.entries.length} bundles`);
      for (const e of msg.digest.entries) named.add(toHex(e.key));
    }
    return false;
  };
  h.settle(Math.ceil(big.n / SWEEP) * 4 + 4, 500);
  assert.ok(digests > 0);
  assert.is(named.size, big.n, 'every bundle it holds was named within the cycle');
  assert.ok(h.nodes.get(loser)!.bundle(lost), 'the lost bundle was repaired');
});

test('anti-entropy sends a long credit history in part, the latest and a rotating older page, and still repairs an old credit', () => {
  const h = new Harness({ nodes: 5, options: { antiEntropyMs: 2_000, retryMs: 60_000 } });
  const bob = h.scheme.signer(secret('bob'));
  const custodians = h.custodiansOf(bob.publicKey);
  const behind = custodians[3]!;
  const n = ANTI_ENTROPY_PAGES * MAX_CREDITS_PER_STATE + 300;
  // One credit in the second page of the older ones misses a replica (down); the rest reach all.
  const missedAt = MAX_CREDITS_PER_STATE + 100;
  for (let i = 0; i < n; i++) {
    if (i === missedAt) h.down.add(behind);
    h.issue(bob.publicKey, 1n, h.indexOf(h.outside([behind])));
    h.run();
    h.down.delete(behind);
  }
  assert.is(h.nodes.get(behind)!.account(bob.publicKey)!.balance, BigInt(n - 1), 'one old credit missing');
  let states = 0;
  h.holdIf = (from, to, msg: Message) => {
    if (to === behind && msg.type === 'account-state' && toHex(msg.state.account) === toHex(bob.publicKey)) {
      states++;
      assert.ok(msg.state.more, 'never a finished (whole) state');
      assert.ok(msg.state.credits.length <= MAX_CREDITS_PER_STATE);
    }
    if (msg.type === 'account-pull' && 'node' in from && from.node === behind && toHex(msg.account) === toHex(bob.publicKey)) assert.unreachable('no pull of a long history');
    return false;
  };
  h.settle(30, 500);
  assert.ok(states > 0);
  for (const c of custodians) assert.is(h.nodes.get(c)!.account(bob.publicKey)!.balance, BigInt(n), `balance at ${c.slice(0, 8)}`);
  // The rotating pages named every credit in turn; a replica keeps none of those it
  // had applied, so what the reports hold stays below one page, not the whole history.
  for (const c of custodians) {
    const reported = h.nodes.get(c)!.held().reportedCredits;
    assert.ok(reported < MAX_CREDITS_PER_STATE, `${reported} reported credits held at ${c.slice(0, 8)}`);
  }
});

test('anti-entropy sweeps many quiet accounts a slice per round, and still repairs a credit a replica missed', () => {
  const SWEEP = 2;
  const h = new Harness({ nodes: 5, options: { antiEntropyMs: 2_000, retryMs: 60_000, sweptAccountsPerRound: SWEEP } });
  const owners = Array.from({ length: 10 }, (_, i) => h.scheme.signer(secret(`owner-${i}`)));
  const lagging = h.custodiansOf(owners[0]!.publicKey)[3]!;
  // Every account is funded with lagging up, except owners[0]'s, which lagging misses.
  for (const [i, o] of owners.entries()) {
    if (i === 0) h.down.add(lagging);
    h.issue(o.publicKey, 7n, h.indexOf(h.outside([lagging])));
    h.run();
    h.down.delete(lagging);
  }
  assert.is(h.nodes.get(lagging)!.account(owners[0]!.publicKey), undefined, 'the credit was missed');
  const held = owners.filter((o) => h.custodiansOf(o.publicKey).includes(lagging)).length;
  assert.ok(held > 2 * SWEEP, `a node holding more accounts than two sweeps (${held})`);
  // Quiet from here on: past its first round, each of lagging's account digests names
  // SWEEP accounts, plus the one account the repair changes there.
  let digests = 0;
  let firstRoundAt = -1;
  h.holdIf = (from, _to, msg: Message) => {
    if ('node' in from && from.node === lagging && msg.type === 'digest' && msg.digest.kind === 'accounts') {
      digests++;
      if (firstRoundAt < 0) firstRoundAt = h.now;
      if (h.now > firstRoundAt) assert.ok(msg.digest.entries.length <= SWEEP + 1, `a digest of ${msg.digest.entries.length} accounts`);
    }
    return false;
  };
  h.settle(40, 500);
  assert.ok(digests > 1);
  for (const c of h.custodiansOf(owners[0]!.publicKey)) assert.is(h.nodes.get(c)!.account(owners[0]!.publicKey)?.balance, 7n, `balance at ${c.slice(0, 8)}`);
});

test.run();
