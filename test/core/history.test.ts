// NodeMachine.history: a custodian's record of an account's credits and debits,
// read-only, and the same view rebuilt from an account-state message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { equal, toHex } from '../../protocol/bytes.ts';
import { transferId } from '../../protocol/objects.ts';
import { stateHistory } from '../../node/core/history.ts';

test('after a transfer, the sender custodians list the debit and the recipient custodians the credit', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  const issue = h.issue(alice.publicKey, 100n);
  h.run();
  const t = h.transfer(alice, bob.publicKey, 40n, 1);
  h.submit(3, t);
  h.run();
  const id = transferId(t);
  for (const c of h.custodiansOf(alice.publicKey)) {
    const hist = h.nodes.get(c)!.history(alice.publicKey)!;
    assert.ok(hist.synced);
    assert.equal(hist.credits.map((x) => [toHex(x.transferId), x.amount]), [[toHex(transferId(issue)), 100n]]);
    assert.is(hist.debits.length, 1);
    const d = hist.debits[0]!;
    assert.is(d.seq, 1);
    assert.ok(equal(d.transferId, id));
    assert.ok(equal(d.to, bob.publicKey));
    assert.is(d.amount, 40n);
    assert.ok(d.certified, 'the gateway sent the certificate');
  }
  for (const c of h.custodiansOf(bob.publicKey)) {
    const hist = h.nodes.get(c)!.history(bob.publicKey)!;
    assert.equal(hist.credits.map((x) => [toHex(x.transferId), x.amount]), [[toHex(id), 40n]]);
    assert.is(hist.debits.length, 0);
  }
  // A node that is no custodian of bob's holds nothing of his account.
  const outsider = h.nodeHex([...Array(8).keys()].find((i) => !h.custodiansOf(bob.publicKey).includes(h.nodeHex(i)))!);
  assert.is(h.nodes.get(outsider)!.history(bob.publicKey), undefined);
});

test('history is read-only: asking twice persists and sends nothing, and answers the same', () => {
  const h = new Harness({ nodes: 6 });
  const alice = h.scheme.signer(secret('alice'));
  h.issue(alice.publicKey, 7n);
  h.run();
  const c = h.custodiansOf(alice.publicKey)[0]!;
  const node = h.nodes.get(c)!;
  const before = h.stores.get(c)!.size;
  const a = node.history(alice.publicKey);
  const b = node.history(alice.publicKey);
  assert.equal(a, b);
  assert.is(h.stores.get(c)!.size, before);
  assert.is(h.pending(), 0);
});

test('an account-state message yields the same credits and the head and recent locks as debits', () => {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.run();
  const t1 = h.transfer(alice, bob.publicKey, 10n, 1);
  h.submit(0, t1);
  h.run();
  const t2 = h.transfer(alice, bob.publicKey, 15n, 2, transferId(t1));
  h.submit(1, t2);
  h.run();
  const [c, asker] = h.custodiansOf(alice.publicKey);
  const out = h.ask(c!, { type: 'account-pull', account: alice.publicKey, epoch: 0 }, { node: asker! });
  const states = out.send.flatMap((s) => (s.msg.type === 'account-state' ? [s.msg.state] : []));
  assert.is(states.length, 1);
  const fromMsg = stateHistory(states[0]!);
  assert.is(fromMsg.debits.length, 2);
  const local = h.nodes.get(c!)!.history(alice.publicKey)!;
  assert.equal(fromMsg.credits.map((x) => toHex(x.transferId)), local.credits.map((x) => toHex(x.transferId)));
  assert.equal(fromMsg.debits.map((d) => [d.seq, toHex(d.transferId), d.amount, d.certified]), local.debits.map((d) => [d.seq, toHex(d.transferId), d.amount, d.certified]));
});

test.run();
