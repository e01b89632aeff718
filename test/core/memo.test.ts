// Per-object memos (protocol/memo.ts) behave like WeakMap entries: a copy of an
// object starts without its memo, and no equality, key listing or JSON sees one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deepStrictEqual } from 'node:assert';
import { Memo } from '../../protocol/memo.ts';
import { hexOf } from '../../protocol/bytes.ts';

test('get, set, overwrite and delete', () => {
  const m = new Memo<number>('n');
  const o = { a: 1 };
  assert.is(m.get(o), undefined);
  m.set(o, 5);
  assert.is(m.get(o), 5);
  m.set(o, 6);
  assert.is(m.get(o), 6);
  m.delete(o);
  assert.is(m.get(o), undefined);
});

test('two memos never share a slot', () => {
  const a = new Memo<string>('same-name');
  const b = new Memo<string>('same-name');
  const o = {};
  a.set(o, 'a');
  assert.is(b.get(o), undefined);
});

test('invisible to spread copies, keys, JSON and deep equality', () => {
  const m = new Memo<string>('x');
  const o = { a: 1, b: 'two' };
  m.set(o, 'memo');
  const copy = { ...o };
  assert.is(m.get(copy), undefined);
  assert.equal(Object.keys(o), ['a', 'b']);
  assert.is(JSON.stringify(o), '{"a":1,"b":"two"}');
  deepStrictEqual(o, { a: 1, b: 'two' });
  assert.equal(o, { a: 1, b: 'two' });
});

test('on byte arrays: hexOf memo does not change the bytes or their equality', () => {
  const b = new Uint8Array([1, 2, 255]);
  assert.is(hexOf(b), '0102ff');
  assert.is(hexOf(b), '0102ff');
  deepStrictEqual(b, new Uint8Array([1, 2, 255]));
  assert.equal(Buffer.from(b), Buffer.from([1, 2, 255]));
  assert.is(Object.keys(b).length, 3);
});

test('hidden from Reflect.ownKeys too; set after delete; Buffers and slices', () => {
  const m = new Memo<string>('y');
  const o = { a: 1 };
  m.set(o, 'v');
  assert.equal(Reflect.ownKeys(o), ['a']);
  m.delete(o);
  m.set(o, 'w');
  assert.is(m.get(o), 'w');
  const buf = Buffer.from([4, 5]);
  m.set(buf, 'z');
  assert.is(m.get(buf), 'z');
  assert.is(m.get(buf.subarray(0)), undefined, 'a view is another object');
});

test.run();
