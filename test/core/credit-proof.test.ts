// Credits repaired on proof (protocol.md §7, credit-proof.ts): a credit fewer than f + 1
// reporters list is applied only on its bundle, never on the report; a lone liar's
// made-up credits neither credit nor build up in the pools.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { transferId } from '../../protocol/objects.ts';
import { MAX_PROOF_LOOKUPS } from '../../node/core/credit-proof.ts';
import type { AccountState } from '../../protocol/handoff-codec.ts';

function idOf(n: number): Uint8Array {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(0, n + 1);
  b[31] = 0xcc;
  return b;
}

function stateOf(account: Uint8Array, credits: { transferId: Uint8Array; amount: bigint }[], more = false): AccountState {
  let credited = 0n;
  for (const c of credits) credited += c.amount;
  return { account, frozen: false, seq: 0, head: null, certificate: null, recent: [], debited: 0n, credited, credits, more };
}

test('a credit only one live co-custodian still holds is applied on its bundle (the others dead)', () => {
  // k = 4, q = 3: f + 1 = 2 reporters. The target missed the issuance (down); of the three
  // that applied it, two die. The one left lists it alone, round after round.
  const h = new Harness({ nodes: 10, k: 4, q: 3 });
  const alice = h.scheme.signer(secret('proof-alice'));
  const [target, live, dead1, dead2] = h.custodiansOf(alice.publicKey);
  const gw = h.indexOf(h.outside([target!, live!, dead1!, dead2!]));
  h.down.add(target!);
  const t = h.issue(alice.publicKey, 50n, gw);
  h.settle(10);
  assert.is(h.status(gw, t), 'stored', 'stored with three receipts');
  h.down.delete(target!);
  h.down.add(dead1!);
  h.down.add(dead2!);
  assert.is(h.nodes.get(target!)!.account(alice.publicKey)?.balance ?? 0n, 0n, 'the credit was missed');
  h.settle(60);
  assert.is(h.nodes.get(target!)!.account(alice.publicKey)?.balance, 50n, 'repaired on the bundle\'s proof');
  // Exactly once: the proof and any later report do not apply it again.
  h.settle(20);
  assert.is(h.nodes.get(target!)!.account(alice.publicKey)?.balance, 50n);
  assert.is(h.events.filter((e) => e.node === target && e.event.type === 'credited').length, 1);
});

test('a lone liar naming a real transfer as a credit of another account credits nothing', () => {
  const h = new Harness({ nodes: 8, k: 3, q: 3 });
  const [alice, bob] = ['proof-a2', 'proof-b2'].map((n) => h.scheme.signer(secret(n)));
  h.issue(alice!.publicKey, 50n);
  const paidBob = h.issue(bob!.publicKey, 70n);
  h.settle(10);
  const [target, liar] = h.custodiansOf(alice!.publicKey);
  const node = h.nodes.get(target!)!;
  assert.is(node.account(alice!.publicKey)?.balance, 50n);
  // bob's issuance has a bundle that checks, but it pays bob, not alice; and a made-up id has none.
  const claims = [{ transferId: transferId(paidBob), amount: 70n }, { transferId: idOf(1), amount: 1_000n }];
  for (let round = 0; round < 6; round++) {
    h.ask(target!, { type: 'account-state', state: stateOf(alice!.publicKey, claims), epoch: 0 }, { node: liar! });
    h.settle(2);
  }
  assert.is(node.account(alice!.publicKey)?.balance, 50n, 'nothing credited on one word, whatever bundle the id has');
  assert.is(node.account(alice!.publicKey)?.credited, 50n);
});

test('a liar\'s flood of credits it lists twice: a lookup each, the open ones bounded, nothing credited', () => {
  const h = new Harness({ nodes: 6, k: 3, q: 3 });
  const alice = h.scheme.signer(secret('proof-flood'));
  h.issue(alice.publicKey, 50n);
  h.settle(5);
  const [target, liar] = h.custodiansOf(alice.publicKey);
  const node = h.nodes.get(target!)!;
  // States (more pages to come) that name each made-up credit twice: a lookup each.
  for (let i = 0; i < MAX_PROOF_LOOKUPS + 1_000; i++) {
    const state = stateOf(alice.publicKey, [{ transferId: idOf(10_000 + i), amount: 5n }], true);
    h.ask(target!, { type: 'account-state', state, epoch: 0 }, { node: liar! });
    h.ask(target!, { type: 'account-state', state, epoch: 0 }, { node: liar! });
  }
  assert.ok(node.sizes().proofs <= MAX_PROOF_LOOKUPS, `open proof lookups ${node.sizes().proofs}`);
  assert.ok(node.sizes().proofs > 0, 'the second listing does look the credit up');
  h.settle(5);
  assert.is(node.account(alice.publicKey)?.balance, 50n, 'nothing credited');
});

test.run();
