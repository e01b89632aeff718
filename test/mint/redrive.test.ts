// The mint re-drives every issuance it has not seen stored (protocol.md §5a), waited on
// or not: on a timer, each time to the next gateway, and all of them at once after a
// restart; a checked bundle settles one for good (durably, in the mint log).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../protocol/bytes.ts';
import { MemoryStore } from '../../protocol/ports.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import { MintMachine } from '../../mint/core/mint-machine.ts';
import { Redrive } from '../../mint/core/redrive.ts';
import { Harness, secret } from '../core/harness.ts';

function mintOver(h: Harness, store: MemoryStore, redriveMs = 3_000) {
  return new MintMachine({ genesis: h.genesis, signer: h.mint, scheme: h.scheme, clock: { now: () => h.now }, restore: store, options: { redriveMs } });
}

function submits(out: { send: readonly { to: unknown; msg: { type: string } }[] }): number {
  return out.send.filter((s) => s.msg.type === 'submit').length;
}

test('pending issuances are handed to the next gateway on a timer, backing off, until settled', () => {
  const h = new Harness({ nodes: 6 });
  const store = new MemoryStore();
  const mint = mintOver(h, store);
  const alice = h.scheme.signer(secret('alice'));
  const issued: Transfer[] = [];
  for (let i = 0; i < 3; i++) {
    const { transfer, output } = mint.issue(alice.publicKey, 10n);
    store.apply(output.persist);
    issued.push(transfer);
  }
  assert.is(mint.pendingIssuanceCount(), 3);
  assert.is(submits(mint.tick()), 0, 'not before the interval');
  h.now += 3_000;
  const first = mint.tick();
  assert.is(submits(first), 3, 'every pending one, not only a waited one');
  const gateways = first.send.map((s) => ('node' in s.to ? s.to.node : ''));
  h.now += 3_000;
  assert.is(submits(mint.tick()), 0, 'the second re-drive waits twice as long');
  h.now += 3_000;
  const second = mint.tick();
  assert.is(submits(second), 3);
  assert.not.equal(second.send.map((s) => ('node' in s.to ? s.to.node : '')), gateways, 'each try goes to the next gateway');
});

test('a bundle settles its issuance durably; a restart re-drives at once only those still pending', () => {
  const h = new Harness({ nodes: 6 });
  const store = new MemoryStore();
  const mint = mintOver(h, store);
  const alice = h.scheme.signer(secret('alice'));
  const issued: Transfer[] = [];
  for (let i = 0; i < 4; i++) {
    const { transfer, output } = mint.issue(alice.publicKey, 10n);
    store.apply(output.persist);
    issued.push(transfer);
  }
  // Issuances 1 and 2 reach the ring; 3 and 4 were lost with their gateway.
  for (const t of issued.slice(0, 2)) h.submit(0, t);
  h.settle(3);
  for (const t of issued.slice(0, 2)) {
    const bundle = h.node(1).bundle(transferId(t)) ?? h.node(2).bundle(transferId(t)) ?? [...h.nodes.values()].map((n) => n.bundle(transferId(t))).find((b) => b);
    assert.ok(bundle, 'stored');
    const out = mint.settle(bundle!);
    store.apply(out.persist);
  }
  assert.is(mint.pendingIssuanceCount(), 2);
  assert.equal(mint.pendingIssuances(10).map((t) => t.seq), [3, 4]);
  // A bundle that does not check settles nothing.
  const bad = h.node(1).bundle(transferId(issued[0]!)) ?? [...h.nodes.values()].map((n) => n.bundle(transferId(issued[0]!))).find((b) => b)!;
  assert.is(mint.settle({ ...bad, receipts: bad.receipts.slice(0, 1) }).persist.length, 0);

  const restarted = mintOver(h, store);
  assert.is(restarted.pendingIssuanceCount(), 2, 'the watermark survived the restart');
  const out = restarted.tick();
  assert.equal(out.send.filter((s) => s.msg.type === 'submit').map((s) => (s.msg as { transfer: Transfer }).transfer.seq).sort(), [3, 4], 'at once, without a caller waiting');
  for (const s of out.send) if (s.msg.type === 'submit' && 'node' in s.to) h.submit(s.to.node, (s.msg as { transfer: Transfer }).transfer);
  h.settle(5);
  for (const t of issued) assert.ok([...h.nodes.values()].some((n) => n.bundle(transferId(t))), `issuance ${t.seq} stored`);
  for (const c of h.custodiansOf(alice.publicKey)) assert.is(h.nodes.get(c)!.account(alice.publicKey)?.balance, 40n);
  void toHex;
});

test('the watermark moves only over contiguous settled seqs; a backlog goes out in slices', () => {
  const r = new Redrive();
  assert.is(r.settle(2, 5), null);
  assert.is(r.settle(1, 5), 2);
  assert.equal(r.pending(5, 10), [3, 4, 5]);
  r.applySettled(4);
  assert.equal(r.pending(5, 10), [5]);
  const big = new Redrive();
  const due = big.due(0, 10_000, 1_000);
  assert.is(due.length, 256);
  assert.is(big.due(0, 10_000, 1_000)[0]!.seq, 257, 'the next tick continues where the last stopped');
});

test.run();
