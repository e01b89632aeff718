// The gateway's flow (protocol.md §5): statuses, retries, idempotency, conflicts, storage and lookups.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, NETWORK, secret } from './harness.ts';
import { Reason } from '../../protocol/errors.ts';
import { bindNetwork, transferId } from '../../protocol/objects.ts';
import { checkBundle } from '../../protocol/certificate.ts';
import { Ring } from '../../protocol/ring.ts';
import { toHex } from '../../protocol/bytes.ts';
import { ed25519 } from '../../protocol/signature.ts';

function storedAt(h: Harness, id: Uint8Array): number {
  return [...h.nodes.values()].filter((n) => n.bundle(id) !== undefined).length;
}

test('a transfer goes pending -> final -> credited -> stored, with k bundle replicas (real ed25519)', () => {
  const h = new Harness({ nodes: 8, wire: true, scheme: ed25519 });
  const [alice] = h.fund(100n, 'alice');
  const bob = h.scheme.signer(secret('bob'));
  const t = h.transfer(alice, bob.publicKey, 40n, 1);
  h.submit(5, t);
  h.run();
  const v = h.node(5).transfer(transferId(t))!;
  assert.is(v.status, 'stored');
  for (const s of ['pending', 'final', 'credited', 'stored'] as const) assert.type(v.times[s], 'number');
  const statuses = h.events.filter((e) => e.event.type === 'status' && e.node === h.nodeHex(5)).map((e) => (e.event as { status: string }).status);
  assert.equal(statuses.slice(-4), ['pending', 'final', 'credited', 'stored']);
  const ring = new Ring(h.genesis.epoch0);
  checkBundle(v.bundle!, { network: NETWORK, verifier: ed25519, ringOf: (n) => (n === 0 ? ring : undefined) });
  assert.is(storedAt(h, transferId(t)), 4);
  for (const c of h.custodiansOf(bob.publicKey)) assert.is(h.nodes.get(c)!.account(bob.publicKey)!.balance, 40n);
});

test('a custodian of both accounts gets one credit request (no separate `certified`) and records the certificate; only the primary acknowledges a store', () => {
  const h = new Harness({ nodes: 8, wire: true });
  const [alice] = h.fund(100n, 'alice');
  const from = h.custodiansOf(alice.publicKey);
  // A recipient whose group shares some, not all, custodians with alice's.
  let bob = h.scheme.signer(secret('bob0'));
  for (let i = 1; i < 200; i++) {
    const shared = h.custodiansOf(bob.publicKey).filter((c) => from.includes(c)).length;
    if (shared > 0 && shared < from.length) break;
    bob = h.scheme.signer(secret(`bob${i}`));
  }
  const to = h.custodiansOf(bob.publicKey);
  const both = from.filter((c) => to.includes(c));
  assert.ok(both.length > 0 && both.length < from.length, 'found a partly shared group');
  const got = new Map<string, string[]>();
  for (const [hex, node] of h.nodes) {
    const receive = node.receive.bind(node);
    node.receive = (f, m) => {
      got.set(hex, [...(got.get(hex) ?? []), m.type]);
      return receive(f, m);
    };
  }
  const t = h.transfer(alice, bob.publicKey, 30n, 1);
  h.submit(h.indexOf(h.outside([...from, ...to])), t);
  h.run();
  const id = transferId(t);
  const count = (hex: string, type: string): number => (got.get(hex) ?? []).filter((x) => x === type).length;
  for (const c of from) {
    assert.is(count(c, 'certified') + count(c, 'credit-request'), 1, 'one message carries the certificate');
    assert.is(count(c, 'certified'), both.includes(c) ? 0 : 1);
    // Every custodian of alice holds the certificate (the handoff proof), however it came.
    assert.ok(h.stores.get(c)!.get(`x/${toHex(alice.publicKey)}`) !== undefined, 'certificate recorded');
  }
  const storage = new Ring(h.genesis.epoch0).storage(id).map((b) => toHex(b));
  const stored = [...got.entries()].filter(([, types]) => types.includes('stored')).map(([hex]) => hex);
  assert.is(stored.length, 1, 'only the gateway hears `stored`');
  assert.is(storedAt(h, id), storage.length);
  assert.is(h.node(h.indexOf(h.outside([...from, ...to]))).transfer(id)!.status, 'stored');
});

test('a gateway among the storage nodes stores its own copy, and the primary does not send the bundle back to it', () => {
  const h = new Harness({ nodes: 8, wire: true });
  const [alice] = h.fund(100n, 'alice');
  const bob = h.scheme.signer(secret('bob'));
  const ring = new Ring(h.genesis.epoch0);
  const t = h.transfer(alice, bob.publicKey, 1n, 1);
  // The gateway: a storage node of the bundle other than its primary.
  const storage = ring.storage(transferId(t)).map((b) => toHex(b));
  const gateway = storage[1]!;
  const stores = new Map<string, number>();
  for (const [hex, node] of h.nodes) {
    const receive = node.receive.bind(node);
    node.receive = (f, m) => {
      if (m.type === 'store') stores.set(hex, (stores.get(hex) ?? 0) + 1);
      return receive(f, m);
    };
  }
  h.submit(h.indexOf(gateway), t);
  h.run();
  const id = transferId(t);
  assert.is(h.node(h.indexOf(gateway)).transfer(id)!.status, 'stored');
  assert.is(stores.get(gateway) ?? 0, 0, 'the gateway is not sent its own bundle');
  assert.is(stores.get(storage[0]!), 1, 'the primary gets it once, from the gateway');
  for (const n of storage.slice(2)) assert.is(stores.get(n), 1, 'the other storage nodes get it from the primary');
  assert.is(storedAt(h, id), storage.length, 'every storage node holds it, the gateway included');
  assert.ok(h.stores.get(gateway)!.get(`b/${toHex(id)}`) !== undefined, "the gateway's copy is durable");
});

test('rejected with the reason when more than k - q custodians refuse for a lasting reason', () => {
  const h = new Harness({ nodes: 8 });
  const [alice] = h.fund(10n, 'alice');
  const bob = h.scheme.signer(secret('bob'));
  const t = h.transfer(alice, bob.publicKey, 11n, 1);
  h.submit(1, t);
  h.run();
  const v = h.node(1).transfer(transferId(t))!;
  assert.is(v.status, 'rejected');
  assert.is(v.reason, Reason.INSUFFICIENT_FUNDS);
  assert.ok(h.events.some((e) => e.event.type === 'rejected'));
});

test('BAD_SIGNATURE at the gateway: rejected before anything is sent', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const mallory = h.scheme.signer(secret('mallory'));
  const t = h.transfer(alice, mallory.publicKey, 1n, 1);
  const forged = { ...t, from: mallory.publicKey };
  h.submit(0, bindNetwork(forged, NETWORK));
  assert.is(h.pending(), 0);
  assert.is(h.node(0).transfer(transferId(forged))!.reason, Reason.BAD_SIGNATURE);
});

test('a forged copy (same id, bad signature) submitted first does not shadow the genuine transfer', () => {
  const h = new Harness({ nodes: 8 });
  const [alice] = h.fund(100n, 'alice');
  const bob = h.scheme.signer(secret('bob'));
  const t = h.transfer(alice, bob.publicKey, 5n, 1);
  const forged = bindNetwork({ ...t, sig: new Uint8Array(64).fill(7) }, NETWORK);
  h.submit(3, forged);
  assert.is(h.node(3).transfer(transferId(t))!.reason, Reason.BAD_SIGNATURE);
  h.submit(3, t);
  h.settle(5);
  assert.is(h.status(3, t), 'stored');
  // And a forged copy after the genuine one changes nothing.
  h.submit(3, forged);
  assert.is(h.status(3, t), 'stored');
});

test('SEQ_GAP is transient: a transfer ahead of its predecessor stays pending, then completes', () => {
  const h = new Harness({ nodes: 8 });
  const [alice] = h.fund(100n, 'alice');
  const bob = h.scheme.signer(secret('bob'));
  const t1 = h.transfer(alice, bob.publicKey, 1n, 1);
  const t2 = h.transfer(alice, bob.publicKey, 2n, 2, transferId(t1));
  h.submit(2, t2);
  h.run();
  assert.is(h.status(2, t2), 'pending');
  h.submit(3, t1);
  h.settle(5);
  assert.is(h.status(3, t1), 'stored');
  assert.is(h.status(2, t2), 'stored');
});

test('resubmitting is idempotent: one lock, one credit, same result', () => {
  const h = new Harness({ nodes: 8 });
  const [alice] = h.fund(100n, 'alice');
  const bob = h.scheme.signer(secret('bob'));
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  h.submit(2, t);
  h.submit(2, t);
  h.submit(4, t); // another gateway too
  h.settle(3);
  assert.is(h.status(2, t), 'stored');
  assert.is(h.status(4, t), 'stored');
  for (const c of h.custodiansOf(bob.publicKey)) assert.is(h.nodes.get(c)!.account(bob.publicKey)!.balance, 10n);
  for (const c of h.custodiansOf(alice.publicKey)) assert.is(h.nodes.get(c)!.account(alice.publicKey)!.balance, 90n);
  assert.is(h.events.filter((e) => e.event.type === 'credited' && e.event.amount === 10n).length, 4, 'each recipient custodian credits once');
});

test('a double spend: the second transfer gets status conflict, a notice goes out, the account is frozen at its custodians', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  const carol = h.scheme.signer(secret('carol'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const t1 = h.transfer(alice, bob.publicKey, 60n, 1);
  const t2 = h.transfer(alice, carol.publicKey, 60n, 1);
  h.submit(1, t1);
  h.run();
  h.submit(2, t2);
  h.run();
  assert.is(h.status(1, t1), 'stored');
  const v2 = h.node(2).transfer(transferId(t2))!;
  assert.is(v2.status, 'conflict');
  assert.is(v2.reason, Reason.CONFLICT);
  assert.ok(h.notices.length >= 1);
  assert.is(h.alerts.length, 1, 'one alert per (from, seq)');
  for (const c of h.custodiansOf(alice.publicKey)) assert.ok(h.nodes.get(c)!.account(alice.publicKey)!.frozen);
  for (const n of h.nodes.values()) assert.is(n.alerts().length, 1);
});

test('lost and duplicated messages: retries on tick still reach stored', () => {
  const h = new Harness({ nodes: 8, seed: 5, faults: { drop: 0.3, duplicate: 0.2, reorder: true } });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(30);
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  h.submit(3, t);
  h.settle(30);
  assert.is(h.status(3, t), 'stored');
  for (const c of h.custodiansOf(bob.publicKey)) {
    const a = h.nodes.get(c)!.account(bob.publicKey);
    assert.ok(a === undefined || a.balance === 0n || a.balance === 10n);
  }
});

test('lookup: a node without the bundle asks the storage nodes, then serves it', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const t = h.issue(alice.publicKey, 7n);
  h.run();
  const id = transferId(t);
  const storage = new Ring(h.genesis.epoch0).storage(id).map(toHex);
  const other = [...h.nodes.keys()].find((n) => !storage.includes(n) && h.nodes.get(n)!.bundle(id) === undefined)!;
  const node = h.nodes.get(other)!;
  assert.is(node.bundle(id), undefined);
  const out = node.lookup(id);
  assert.ok(out.send.every((o) => o.msg.type === 'lookup'));
  // deliver the lookups and their replies by hand
  for (const s of storage) {
    const reply = h.nodes.get(s)!.receive({ node: other }, { type: 'lookup', transferId: id }).send[0]!.msg;
    h.ask(other, reply, { node: s });
  }
  assert.ok(node.bundle(id) !== undefined);
  assert.is(node.transfer(id)!.status, 'stored');
});

test('a storage node refuses a bundle that does not check', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const t = h.issue(alice.publicKey, 7n, 1);
  h.run();
  const b = h.node(1).transfer(transferId(t))!.bundle!;
  const thin = { certificate: b.certificate, receipts: b.receipts.slice(0, 1) };
  const out = h.ask(6, { type: 'store', bundle: thin, ack: true });
  assert.is(out.send.length, 1);
  assert.is((out.send[0]!.msg as { code: string }).code, Reason.BAD_BUNDLE);
  assert.is(out.persist.length, 0);
});

test.run();
