// protocol.md §8: every lock, credit and stored bundle is a persist record of the step that
// answers it; a machine rebuilt from those records answers exactly as before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import type { NodeMachine } from '../../node/core/node-machine.ts';
import { encodeMessage, type Message } from '../../protocol/messages.ts';

test('after every step, a machine rebuilt from its store shows the same accounts, bundles and alerts', () => {
  const accounts: Bytes[] = [];
  const ids: Bytes[] = [];
  let checks = 0;
  const h = new Harness({
    nodes: 8, wire: true,
    checkRestore: (_hex: string, live: NodeMachine, rebuilt: NodeMachine) => {
      checks++;
      for (const a of accounts) assert.equal(rebuilt.account(a), live.account(a));
      for (const id of ids) assert.equal(rebuilt.bundle(id), live.bundle(id));
      assert.is(rebuilt.alerts().length, live.alerts().length);
    },
  });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  const carol = h.scheme.signer(secret('carol'));
  accounts.push(alice.publicKey, bob.publicKey, carol.publicKey, h.mint.publicKey);
  ids.push(transferId(h.issue(alice.publicKey, 100n)));
  h.run();
  const t1 = h.transfer(alice, bob.publicKey, 30n, 1);
  const t2 = h.transfer(alice, carol.publicKey, 30n, 2, transferId(t1));
  const bad = h.transfer(alice, carol.publicKey, 31n, 2, transferId(t1));
  ids.push(transferId(t1), transferId(t2));
  h.submit(1, t1);
  h.run();
  h.submit(2, t2);
  h.submit(3, bad);
  h.settle(3);
  assert.ok(checks > 50);
  assert.ok(h.alerts.length === 1, 'the double spend was alerted');
});

function answer(m: NodeMachine, msg: Message): Message[] {
  return m.receive({ node: 'ab'.repeat(32) }, msg).send.map((o) => o.msg);
}

test('a custodian that crashes after locking votes the same again and still refuses the other transfer', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const c = h.custodiansOf(alice.publicKey)[0]!;
  const t: Transfer = h.transfer(alice, bob.publicKey, 10n, 1);
  const u: Transfer = h.transfer(alice, bob.publicKey, 11n, 1);
  const before = h.ask(c, { type: 'vote-request', transfer: t }).send[0]!.msg;
  const rebuilt = h.restart(c);
  assert.equal(answer(rebuilt, { type: 'vote-request', transfer: t }), [before]);
  const second = answer(rebuilt, { type: 'vote-request', transfer: u });
  assert.ok(second.some((m) => m.type === 'conflict'));
  assert.is(rebuilt.account(alice.publicKey)!.balance, 90n);
});

test('credits survive a crash: the rebuilt custodian answers the same receipt and does not credit twice', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const t = h.issue(alice.publicKey, 100n, 1);
  h.run();
  const cert = h.node(1).transfer(transferId(t))!.certificate!;
  for (const c of h.custodiansOf(alice.publicKey)) {
    const live = answer(h.nodes.get(c)!, { type: 'credit-request', certificate: cert });
    const rebuilt = h.restart(c);
    const out = rebuilt.receive({ node: 'ab'.repeat(32) }, { type: 'credit-request', certificate: cert });
    assert.equal(out.send.map((o) => o.msg), live);
    assert.is(out.persist.length, 0);
    assert.is(rebuilt.account(alice.publicKey)!.balance, 100n);
  }
});

test('transfers complete although every custodian of the sender crashes mid-flight', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const t = h.transfer(alice, bob.publicKey, 10n, 1);
  const custodians = h.custodiansOf(alice.publicKey);
  const gw = h.indexOf(h.outside(custodians));
  h.submit(gw, t);
  h.run(4); // some vote-requests delivered
  for (const c of custodians) h.restart(c);
  h.settle(5);
  assert.is(h.status(gw, t), 'stored');
  for (const c of h.custodiansOf(bob.publicKey)) assert.is(h.nodes.get(c)!.account(bob.publicKey)!.balance, 10n);
  void toHex;
});


test('bundles kept compact (encoded) or as objects: the same bundles and the same messages', () => {
  const run = (compactBundles: boolean) => {
    const h = new Harness({ nodes: 8, wire: true, options: { compactBundles } });
    const alice = h.scheme.signer(secret('alice'));
    const bob = h.scheme.signer(secret('bob'));
    const ids = [transferId(h.issue(alice.publicKey, 100n))];
    h.run();
    const t1 = h.transfer(alice, bob.publicKey, 10n, 1);
    const t2 = h.transfer(alice, bob.publicKey, 20n, 2, transferId(t1));
    h.submit(1, t1);
    h.run();
    h.submit(2, t2);
    h.settle(3);
    ids.push(transferId(t1), transferId(t2));
    const bundles = [...h.nodes.values()].flatMap((m) => ids.map((id) => m.bundle(id)));
    // lookups answered from each node's shelf: the same reply bytes either way
    const sent = [...h.nodes.entries()].flatMap(([hex, m]) =>
      ids.flatMap((id) => m.receive({ node: hex }, { type: 'lookup', transferId: id }).send.map((o) => toHex(encodeMessage(o.msg)))));
    return { bundles, sent };
  };
  const compact = run(true);
  const objects = run(false);
  assert.ok(compact.bundles.filter((b) => b !== undefined).length >= 3 * 4, 'every bundle held by its k storage nodes');
  assert.equal(compact.bundles, objects.bundles);
  assert.equal(compact.sent, objects.sent);
});

test.run();
