// Completion without the gateway (protocol.md §5a): a gateway that dies after the
// certificate forms, or after the credits, leaves the transfer to the custodians that
// persisted its lock or credit; they finish it, credited once and stored at >= q
// replicas, with no resubmission. A healthy run takes nothing over.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import type { Address } from '../../protocol/ports.ts';
import type { Message } from '../../protocol/messages.ts';
import type { Signer } from '../../protocol/signature.ts';
import { toHex, ZERO32, type Bytes } from '../../protocol/bytes.ts';
import { Ring } from '../../protocol/ring.ts';

type World = { h: Harness; alice: Signer; bob: Signer; gateway: string };

/** Alice funded; a gateway outside alice's and bob's custodians (so its death takes no replica with it). */
function world(seed = 1): World {
  const h = new Harness({ nodes: 10, seed, wire: true });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(5);
  const gateway = h.outside([...h.custodiansOf(alice.publicKey), ...h.custodiansOf(bob.publicKey)]);
  return { h, alice, bob, gateway };
}

/** The gateway dies just before it sends messages of these types: they are lost, and so is its memory. */
function killBefore(h: Harness, gateway: string, types: readonly Message['type'][]): void {
  h.holdIf = (from: Address, _to: string, msg: Message) => 'node' in from && from.node === gateway && types.includes(msg.type);
}

function crash(h: Harness, gateway: string): void {
  h.release(() => true, true);
  h.holdIf = undefined;
  h.down.add(gateway);
}

function storedAt(h: Harness, id: Uint8Array): number {
  return [...h.nodes.values()].filter((n) => n.bundle(id) !== undefined).length;
}

function credits(h: Harness, id: Uint8Array): Map<string, number> {
  const per = new Map<string, number>();
  for (const e of h.events) {
    if (e.event.type === 'credited' && Buffer.from(e.event.transferId).equals(Buffer.from(id))) per.set(e.node, (per.get(e.node) ?? 0) + 1);
  }
  return per;
}

function takeovers(h: Harness): number {
  return h.events.filter((e) => e.event.type === 'takeover').length;
}

function assertFinished(w: World, t: Transfer): void {
  const { h, bob } = w;
  const id = transferId(t);
  assert.ok(storedAt(h, id) >= 3, `stored at ${storedAt(h, id)} nodes`);
  for (const c of h.custodiansOf(bob.publicKey)) assert.is(h.nodes.get(c)!.account(bob.publicKey)?.balance, t.amount, 'credited exactly once at every custodian of bob');
  for (const [node, n] of credits(h, id)) assert.is(n, 1, `node ${node.slice(0, 8)} credited once`);
  for (const c of h.custodiansOf(w.alice.publicKey)) assert.is(h.nodes.get(c)!.account(w.alice.publicKey)?.balance, 100n - t.amount);
}

test('a gateway that dies once the certificate forms, before its credit requests leave: the custodians finish the transfer', () => {
  const w = world();
  const { h, alice, bob, gateway } = w;
  killBefore(h, gateway, ['certified', 'credit-request']);
  const t = h.transfer(alice, bob.publicKey, 30n, 1);
  h.submit(gateway, t);
  h.run();
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t))?.status, 'final', 'the wallet was told final');
  crash(h, gateway);
  h.restart(gateway);
  h.down.delete(gateway);
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t)), undefined, 'the restarted gateway has no memory of it');
  h.settle(3);
  assert.is(storedAt(h, transferId(t)), 0, 'stranded before the take-over');
  h.settle(80, 600);
  assertFinished(w, t);
  assert.ok(takeovers(h) >= 1);
  assert.ok(h.events.some((e) => e.event.type === 'takeover' && e.event.phase === 'voting'), 'no custodian held the certificate: the take-over gathers it again');
});

test('a gateway that dies after the credits, before the store: the transfer is stored without a resubmission', () => {
  const w = world(2);
  const { h, alice, bob, gateway } = w;
  killBefore(h, gateway, ['store']);
  // A transfer the gateway does not store itself (one among the storage nodes keeps its own copy: the next test).
  let t = h.transfer(alice, bob.publicKey, 40n, 1);
  for (let amount = 41n; new Ring(h.genesis.epoch0).storage(transferId(t)).map(toHex).includes(gateway); amount++) t = h.transfer(alice, bob.publicKey, amount, 1);
  h.submit(gateway, t);
  h.run();
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t))?.status, 'credited');
  crash(h, gateway);
  h.restart(gateway);
  h.down.delete(gateway);
  h.settle(80, 600);
  assertFinished(w, t);
  assert.ok(h.events.some((e) => e.event.type === 'takeover' && e.event.phase === 'crediting'), 'a watcher held the certificate and started from it');
});

test('gateway and keepers die before the store while the account moves on past the old rewatch depth: the restarted keeper still stores it', () => {
  // Every custodian of alice restarts (watches are soft state) after alice certified 8 more
  // transfers: the stranded one sits 8 certified locks back (4 were looked at again before).
  const w = world(3);
  const { h, alice, bob, gateway } = w;
  killBefore(h, gateway, ['store']);
  const t1 = h.transfer(alice, bob.publicKey, 5n, 1);
  h.submit(gateway, t1);
  h.run();
  assert.is(h.nodes.get(gateway)!.transfer(transferId(t1))?.status, 'credited');
  crash(h, gateway);
  const other = h.outside([gateway, ...h.custodiansOf(alice.publicKey), ...h.custodiansOf(bob.publicKey)]);
  let prev = transferId(t1);
  for (let seq = 2; seq <= 9; seq++) {
    const t = h.transfer(alice, bob.publicKey, 1n, seq, prev);
    prev = transferId(t);
    h.submit(other, t);
    h.settle(2, 300); // a retry, well inside the take-over delay
    assert.is(h.nodes.get(other)!.transfer(prev)?.status, 'stored', `seq ${seq} stored`);
  }
  for (const c of h.custodiansOf(alice.publicKey)) h.restart(c);
  h.settle(80, 600);
  assert.ok(storedAt(h, transferId(t1)) >= 3, `stored at ${storedAt(h, transferId(t1))} nodes`);
  for (const [node, n] of credits(h, transferId(t1))) assert.is(n, 1, `node ${node.slice(0, 8)} credited once`);
});

test('a live gateway does not drop a certified transfer when its retries run out: it finishes once the fault heals', () => {
  // k = q: one recipient custodian down holds the credit. No watcher acts here (takeoverMs
  // far off), as when the keeper restarted and lost its watch: the gateway alone finishes.
  const h = new Harness({ nodes: 8, k: 3, q: 3, options: { maxRetries: 4, takeoverMs: 1e9 } });
  const alice = h.scheme.signer(secret('alice'));
  h.issue(alice.publicKey, 100n);
  h.settle(5);
  const from = h.custodiansOf(alice.publicKey);
  let bob: Signer | undefined;
  let down: string | undefined;
  for (let i = 0; down === undefined; i++) {
    bob = h.scheme.signer(secret(`bob-${i}`));
    down = h.custodiansOf(bob.publicKey).find((c) => !from.includes(c));
  }
  const gateway = h.outside([...from, ...h.custodiansOf(bob!.publicKey)]);
  h.down.add(down);
  const t = h.transfer(alice, bob!.publicKey, 30n, 1);
  h.submit(gateway, t);
  h.settle(20, 600); // 12 s: every retry of the gateway's maxRetries long spent
  const view = () => h.nodes.get(gateway)!.transfer(transferId(t));
  assert.is(view()?.status, 'final', 'no q receipts while a recipient custodian is down');
  h.down.delete(down);
  h.settle(40, 600);
  assert.is(view()?.status, 'stored');
  assert.ok(storedAt(h, transferId(t)) >= 3);
  assert.is(takeovers(h), 0);
});

test('a gateway among the storage nodes keeps its own copy and dies before the store leaves: the copy is found and spread to >= q nodes', () => {
  // No anti-entropy round in this test: the spreading is the watcher's doing.
  const h = new Harness({ nodes: 16, seed: 6, wire: true, options: { antiEntropyMs: 10_000_000 } });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(5);
  // A transfer whose second storage node is not a custodian of alice (its gateway), and
  // whose first is the one storage node among alice's custodians (the keeper, which asks the
  // first other storage node: the gateway, holding the one copy).
  const fromCustodians = h.custodiansOf(alice.publicKey);
  let t = h.transfer(alice, bob.publicKey, 1n, 1);
  let gateway: string | undefined;
  for (let amount = 1n; gateway === undefined && amount < 10_000n; amount++) {
    t = h.transfer(alice, bob.publicKey, amount, 1);
    const storage = new Ring(h.genesis.epoch0).storage(transferId(t)).map(toHex);
    if (!fromCustodians.includes(storage[1]!) && storage.filter((n) => fromCustodians.includes(n)).join() === storage[0]) gateway = storage[1];
  }
  assert.ok(gateway !== undefined, 'found such a transfer');
  killBefore(h, gateway, ['store']);
  h.submit(gateway, t);
  h.run();
  assert.is(storedAt(h, transferId(t)), 1, 'only the gateway\'s own copy');
  crash(h, gateway);
  h.restart(gateway);
  h.down.delete(gateway);
  h.settle(80, 600);
  assertFinished({ h, alice, bob, gateway }, t);
});

test('a take-over by several watchers at once stays exactly once (every watcher is forced to act)', () => {
  const w = world(3);
  const { h, alice, bob, gateway } = w;
  killBefore(h, gateway, ['certified', 'credit-request']);
  const t = h.transfer(alice, bob.publicKey, 25n, 1);
  h.submit(gateway, t);
  h.run();
  crash(h, gateway);
  // Every watcher's turn comes before any `done` can reach it: messages are held meanwhile.
  h.holdIf = () => true;
  for (let i = 0; i < 100; i++) h.tick(500);
  h.holdIf = undefined;
  h.release();
  h.settle(40, 600);
  assertFinished(w, t);
  assert.ok(takeovers(h) >= 2, `take-overs: ${takeovers(h)}`);
});

test('a healthy run takes nothing over, and every watch ends', () => {
  const h = new Harness({ nodes: 8, seed: 4, faults: { reorder: true } });
  const users = Array.from({ length: 6 }, (_, i) => h.scheme.signer(secret(`user${i}`)));
  for (const u of users) h.issue(u.publicKey, 1_000n);
  h.settle(5);
  const seqs = users.map(() => 0);
  const prev: Bytes[] = users.map(() => ZERO32);
  for (let round = 0; round < 4; round++) {
    for (const [i, u] of users.entries()) {
      const t = h.transfer(u, users[(i + 1 + round) % users.length]!.publicKey, 10n, ++seqs[i]!, prev[i]);
      prev[i] = transferId(t);
      h.submit((i + round) % 8, t);
    }
    h.settle(3);
  }
  h.settle(60, 600);
  assert.is(takeovers(h), 0);
  let watching = 0;
  let queued = 0;
  for (const n of h.nodes.values()) {
    watching += n.completionStats().watching;
    n.nextWakeupAt?.();
    queued += n.completionStats().queued;
  }
  assert.is(watching, 0, 'every watch was ended by a `done` or a local store');
  // A node with few transfers in flight drops the starts it has passed, not only a busy one.
  assert.is(queued, 0, 'no ended watch is still held by the start-order queue');
});

test('a lock that never gathers q votes is retried a bounded number of times, then left to the wallet', () => {
  const w = world(5);
  const { h, alice, bob, gateway } = w;
  const custodians = h.custodiansOf(alice.publicKey);
  // Two of alice's four custodians are down: a lock at the other two cannot become a certificate.
  h.down.add(custodians[0]!);
  h.down.add(custodians[1]!);
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  h.submit(gateway, t);
  h.run();
  crash(h, gateway);
  const sent = () => h.delivered;
  const before = sent();
  h.settle(400, 1_000);
  const stats = [...h.nodes.values()].map((n) => n.completionStats());
  const abandoned = stats.reduce((s, x) => s + x.abandoned, 0);
  assert.ok(abandoned >= 1, 'the watchers gave up');
  assert.is(stats.reduce((s, x) => s + x.watching, 0), 0);
  assert.ok(sent() - before < 5_000, `bounded traffic: ${sent() - before} messages`);
  assert.is(storedAt(h, transferId(t)), 0);
});


/** The custodian of alice that keeps `t` when no custodian is its gateway: first in take-over order, a storage node if any is. */
function firstKeeper(h: Harness, t: Transfer): string {
  const id = transferId(t);
  const ring = new Ring(h.genesis.epoch0);
  const from = ring.custodians(t.from).map(toHex);
  const turn = id[0]! % from.length;
  const order = [...from.slice(turn), ...from.slice(0, turn)];
  const storage = ring.storage(id).map(toHex);
  return order.find((c) => storage.includes(c)) ?? order[0]!;
}

test('a certificate replayed by a node that never asked for the vote does not end the keeper\'s watch', () => {
  const h = new Harness({ nodes: 10, seed: 3, wire: true });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(5);
  const t = h.transfer(alice, bob.publicKey, 40n, 1);
  // The gateway is the custodian that would keep the transfer for any other gateway: the
  // keeper for it is another one, which a stranger's `certified` must not talk out of its watch.
  const gateway = firstKeeper(h, t);
  killBefore(h, gateway, ['store']);
  h.submit(gateway, t);
  h.run();
  const cert = h.nodes.get(gateway)!.transfer(transferId(t))?.certificate;
  assert.ok(cert !== undefined, 'certified');
  crash(h, gateway);
  const stranger = h.outside([gateway, ...h.custodiansOf(alice.publicKey)]);
  for (const c of h.custodiansOf(alice.publicKey)) if (c !== gateway) h.ask(c, { type: 'certified', certificate: cert! }, { node: stranger });
  h.settle(80, 600);
  const id = transferId(t);
  assert.ok(storedAt(h, id) >= 3, `stored at ${storedAt(h, id)} nodes`);
  for (const [node, n] of credits(h, id)) assert.is(n, 1, `node ${node.slice(0, 8)} credited once`);
});

test('a `stored` from a node that is not a storage node of the bundle does not end the storing phase', () => {
  const w = world(2);
  const { h, alice, bob, gateway } = w;
  killBefore(h, gateway, ['store']);
  // A transfer the gateway does not store itself (one among the storage nodes keeps its own copy: the next test).
  let t = h.transfer(alice, bob.publicKey, 40n, 1);
  for (let amount = 41n; new Ring(h.genesis.epoch0).storage(transferId(t)).map(toHex).includes(gateway); amount++) t = h.transfer(alice, bob.publicKey, amount, 1);
  h.submit(gateway, t);
  h.run();
  const id = transferId(t);
  const liar = h.outside([gateway, ...new Ring(h.genesis.epoch0).storage(id).map(toHex)]);
  h.ask(gateway, { type: 'stored', transferId: id }, { node: liar });
  assert.is(h.nodes.get(gateway)!.transfer(id)?.status, 'credited', 'still storing');
});

test('a gateway among the sender\'s custodians dies before the store and its keepers are gone: restarted with its records, it finishes the transfer', () => {
  // The gateway is never its own keeper; with the keepers gone (lost disks), only its own
  // restart can finish the transfer, whichever custodian of alice it was.
  let tried = 0;
  for (let i = 0; i < 4; i++) {
    const { h, alice, bob } = world(4);
    const t = h.transfer(alice, bob.publicKey, 20n, 1);
    const id = transferId(t);
    const storage = new Ring(h.genesis.epoch0).storage(id).map(toHex);
    const gateway = h.custodiansOf(alice.publicKey)[i]!;
    if (storage.includes(gateway)) continue; // it would hold its own copy
    tried++;
    killBefore(h, gateway, ['store']);
    h.submit(gateway, t);
    h.run();
    assert.is(h.nodes.get(gateway)!.transfer(id)?.status, 'credited');
    crash(h, gateway);
    for (const c of h.custodiansOf(alice.publicKey)) if (c !== gateway) h.down.add(c);
    h.restart(gateway);
    h.down.delete(gateway);
    h.settle(80, 600);
    assert.ok(storedAt(h, id) >= 1, `gateway ${i}: stored at ${storedAt(h, id)} nodes`);
  }
  assert.ok(tried >= 2, 'enough gateways outside the storage group');
});

test.run();
