// The LevelDB store: group commit (many steps, one synced batch), ordering of
// deletes and puts, and restore of every record after a reopen.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../runtime/store.ts';
import { pino } from 'pino';
import { toHex, utf8 } from '../../protocol/bytes.ts';
import { upgradeStore } from '../../node/daemon/store-upgrade.ts';
import { creditRecord, Keys } from '../../node/core/record-keys.ts';
import { HISTORY_INDEX_KEY } from '../../node/core/history-index.ts';

const dir = () => join(mkdtempSync(join(tmpdir(), 'ringmint-store-')), 'db');

test('records survive a reopen and are listed by prefix in key order', async () => {
  const d = dir();
  const s = await Store.open(d);
  await s.commit([{ key: 'lock/b', value: utf8('2') }, { key: 'lock/a', value: utf8('1') }, { key: 'credit/x', value: utf8('c') }]);
  await s.commit([{ key: 'lock/c', value: utf8('3') }, { key: 'credit/x', value: null }]);
  await s.close();
  const s2 = await Store.open(d);
  const r = await s2.load();
  assert.equal([...r.entries('lock/')].map(([k, v]) => [k, new TextDecoder().decode(v)]), [['lock/a', '1'], ['lock/b', '2'], ['lock/c', '3']]);
  assert.equal([...r.entries('credit/')], []);
  assert.is(r.size, 3);
  await s2.close();
});

test('steps arriving while a batch is in flight share the next batch (group commit)', async () => {
  const s = await Store.open(dir());
  const done: number[] = [];
  const all: Promise<void>[] = [];
  for (let i = 0; i < 100; i++) all.push(s.commit([{ key: `k/${String(i).padStart(3, '0')}`, value: utf8(String(i)) }]).then(() => void done.push(i)));
  await Promise.all(all);
  // All 100 steps durable, in order, in far fewer than 100 synced batches.
  assert.equal(done, [...Array(100).keys()]);
  assert.is(s.stats.steps, 100);
  assert.ok(s.stats.batches < 100, `batches ${s.stats.batches}`);
  assert.ok(s.stats.batches >= 2);
  const r = await s.load();
  assert.is(r.size, 100);
  await s.close();
});

test('get reads a record at once, while its batch is queued or being written, and after; a delete reads as absent', async () => {
  const s = await Store.open(dir());
  await s.commit([{ key: 'x/old', value: utf8('o') }]);
  const first = s.commit([{ key: 'x/a', value: utf8('1') }]);
  const second = s.commit([{ key: 'x/a', value: utf8('2') }, { key: 'x/old', value: null }]);
  // Both still unsynced: the later write wins, the delete hides the old record.
  assert.is(new TextDecoder().decode(s.get('x/a')!), '2');
  assert.is(s.get('x/old'), undefined);
  await first;
  assert.is(new TextDecoder().decode(s.get('x/a')!), '2', 'the first batch written does not bring back its older value');
  await second;
  assert.is(new TextDecoder().decode(s.get('x/a')!), '2');
  assert.is(s.get('x/old'), undefined);
  assert.is(s.get('x/none'), undefined);
  await s.close();
});

test('scan lists one prefix in key order, with or without values', async () => {
  const s = await Store.open(dir());
  await s.commit([{ key: 'a/1', value: utf8('a') }, { key: 'b/2', value: utf8('b2') }, { key: 'b/1', value: utf8('b1') }, { key: 'b0', value: utf8('after') }, { key: 'c/1', value: utf8('c') }]);
  const scanned: [string, number][] = [];
  for await (const [k, v] of s.scan('b/')) scanned.push([k, v.length]);
  assert.equal(scanned, [['b/1', 2], ['b/2', 2]]);
  const keys: [string, number][] = [];
  for await (const [k, v] of s.scan('b/', false)) keys.push([k, v.length]);
  assert.equal(keys, [['b/1', 0], ['b/2', 0]]);
  await s.close();
});

test('a store from before the history index is upgraded once: the credits of each account and the bundles get their index records', async () => {
  const s = await Store.open(dir());
  const id = (n: number) => new Uint8Array(32).fill(n);
  const credit = (to: number, amount: bigint) => creditRecord(id(to), amount);
  await s.commit([
    { key: `c/${toHex(id(2))}`, value: credit(9, 5n) },
    { key: `c/${toHex(id(1))}`, value: credit(9, 7n) },
    { key: `c/${toHex(id(3))}`, value: credit(8, 1n) },
    { key: `b/${toHex(id(1))}`, value: utf8('bundle') },
  ]);
  const log = pino({ level: 'silent' });
  await upgradeStore(s, log);
  const keys = async (prefix: string) => { const out: string[] = []; for await (const [k] of s.scan(prefix, false)) out.push(k); return out; };
  // Account 9's two credits, in id order (the order applied was never recorded), and account 8's one.
  assert.equal(await keys('k/'), [Keys.creditOrder(toHex(id(8)), 0), Keys.creditOrder(toHex(id(9)), 0), Keys.creditOrder(toHex(id(9)), 1)]);
  assert.equal([...s.get(Keys.creditOrder(toHex(id(9)), 0))!.subarray(0, 32)], [...id(1)]);
  assert.equal(await keys('o/'), [Keys.bundleOrder(0)]);
  assert.ok(s.get(HISTORY_INDEX_KEY) !== undefined);
  // Once: a second start writes nothing more.
  await s.commit([{ key: `c/${toHex(id(4))}`, value: credit(9, 2n) }]);
  await upgradeStore(s, log);
  assert.is((await keys('k/')).length, 3);
  await s.close();
});

test('an empty step waits for the writes committed before it', async () => {
  const s = await Store.open(dir());
  const order: string[] = [];
  const a = s.commit([{ key: 'a', value: utf8('1') }]).then(() => void order.push('a'));
  const b = s.commit([]).then(() => void order.push('empty'));
  await Promise.all([a, b]);
  assert.equal(order, ['a', 'empty']);
  await s.close();
});

test('close waits for queued writes; a commit after close is refused', async () => {
  const d = dir();
  const s = await Store.open(d);
  void s.commit([{ key: 'x', value: utf8('1') }]);
  void s.commit([{ key: 'y', value: utf8('2') }]);
  await s.close();
  await s.close(); // idempotent
  let refused = false;
  await s.commit([{ key: 'z', value: utf8('3') }]).catch(() => (refused = true));
  assert.ok(refused);
  const s2 = await Store.open(d);
  assert.is((await s2.load()).size, 2);
  await s2.close();
});

test.run();
