// protocol.md §8, Backup and restore: a custodian restored from an old backup has
// forgotten the locks it made since. It must not vote for a different transfer at an
// (account, seq) it voted on after the backup: it votes on an account only once it
// has re-synced it from its co-custodians.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Harness, secret } from './harness.ts';
import { MemoryStore } from '../../protocol/ports.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import type { Message } from '../../protocol/messages.ts';
import { RESTORED_KEY, restoredMarkRecords } from '../../node/core/record-keys.ts';

function copy(s: MemoryStore): MemoryStore {
  const c = new MemoryStore();
  c.apply([...s.entries('')].map(([key, value]) => ({ key, value })));
  return c;
}

/** What `ringmint node restore` does to the copied store. */
function markRestored(s: MemoryStore): MemoryStore {
  s.apply(restoredMarkRecords([...s.entries('r/')].map(([k]) => k), 1));
  return s;
}

function kinds(msgs: readonly { msg: Message }[]): string[] {
  return msgs.map((o) => o.msg.type);
}

/** A network where custodian `c` of alice backed up, then voted for t at seq 1, which was certified and stored. */
function scenario() {
  const h = new Harness({ nodes: 8 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(3);
  const custodians = h.custodiansOf(alice.publicKey);
  const c = custodians[0]!;
  const backup = copy(h.stores.get(c)!);
  const t: Transfer = h.transfer(alice, bob.publicKey, 10n, 1);
  const u: Transfer = h.transfer(alice, bob.publicKey, 11n, 1);
  const gw = h.indexOf(h.outside(custodians));
  h.submit(gw, t);
  h.settle(3);
  assert.is(h.status(gw, t), 'stored');
  // c voted for t after the backup
  assert.ok(h.events.some((e) => e.node === c && e.event.type === 'locked' && transferId(e.event.transfer).every((b, i) => b === transferId(t)[i])));
  return { h, c, t, u, backup };
}

test('without the restored mark, an old backup votes for a rival of its own later vote (the hazard)', () => {
  const { h, c, u, backup } = scenario();
  h.stores.set(c, backup);
  const m = h.restart(c);
  assert.is(m.restored, false);
  const out = h.ask(c, { type: 'vote-request', transfer: u });
  assert.ok(kinds(out.send).includes('vote'), 'the forgotten lock lets a rival through');
});

test('a restored custodian refuses to vote until re-synced, then refuses the rival and votes only its own transfer', () => {
  const { h, c, t, u, backup } = scenario();
  h.stores.set(c, markRestored(backup));
  const m = h.restart(c);
  assert.ok(m.restored);
  const first = h.ask(c, { type: 'vote-request', transfer: u });
  assert.not.ok(kinds(first.send).includes('vote'), 'no vote before re-sync');
  assert.ok(first.send.some((o) => o.msg.type === 'reject' && o.msg.code === 'NOT_SYNCED'));
  assert.ok(kinds(first.send).includes('account-pull'), 'it pulls the account from its co-custodians');
  assert.ok(m.syncing() > 0);
  // the pulls reach the co-custodians and their states come back
  for (const o of first.send) if (o.msg.type === 'account-pull' && 'node' in o.to) h.take(o.to.node, h.nodes.get(o.to.node)!.receive({ node: c }, o.msg));
  h.run();
  assert.is(m.syncing(), 0, 'the pull finished');
  const again = h.ask(c, { type: 'vote-request', transfer: u });
  assert.not.ok(kinds(again.send).includes('vote'), 'never a vote for the rival');
  assert.ok(kinds(again.send).includes('conflict'));
  const own = h.ask(c, { type: 'vote-request', transfer: t });
  assert.ok(kinds(own.send).includes('vote'), 'the transfer it voted before still gets its vote');
  // re-synced accounts survive a plain restart; nothing else is pulled again
  assert.ok([...h.stores.get(c)!.entries('r/')].some(([k]) => k !== RESTORED_KEY));
  const again2 = h.restart(c);
  assert.ok(again2.restored);
  assert.not.ok(kinds(h.ask(c, { type: 'vote-request', transfer: u }).send).includes('vote'));
  assert.ok(kinds(h.ask(c, { type: 'vote-request', transfer: t }).send).includes('vote'));
});

test('restoring a backup taken after a re-sync drops its re-sync records: the node re-syncs again', () => {
  const s = new MemoryStore();
  s.apply([{ key: RESTORED_KEY, value: new Uint8Array(8) }, { key: 'r/' + 'ab'.repeat(32), value: new Uint8Array([1]) }]);
  markRestored(s);
  assert.equal([...s.entries('r/')].map(([k]) => k), [RESTORED_KEY]);
});

test.run();
