// JSON views for the HTTP API and the wallet: round trips and the reason code of
// each kind of bad field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex, utf8 } from '../../protocol/bytes.ts';
import { U64_MAX } from '../../protocol/codec.ts';
import { transferId, TransferCodec, verify, type Bundle } from '../../protocol/objects.ts';
import { bundleFromHex, bundleToHex, epochFromHex, epochToHex, parseBaseUnits, transferFromJson, transferToJson, type TransferJson } from '../../protocol/json.ts';
import { ed25519 } from '../../protocol/signature.ts';
import { codeOf, epochRecord, keyOf, NET, receipt, transfer, vote } from './vectors/fixtures.ts';

const alice = keyOf('alice');
const bob = keyOf('bob');
const t = transfer(alice, bob.publicKey, 123_456_789n, 3, new Uint8Array(32).fill(4), utf8('café ☕'));
const good = (): TransferJson => transferToJson(t);

test('a transfer round-trips through JSON with the same id and a valid signature', () => {
  const j = JSON.parse(JSON.stringify(good())) as TransferJson;
  assert.is(j.amount, '123456789');
  assert.is(j.memo, 'café ☕');
  assert.is(j.id, toHex(transferId(t)));
  assert.ok(j.from.startsWith('rm1') && j.to.startsWith('rm1'));
  const back = transferFromJson(j, NET);
  assert.equal({ ...back }, { ...t });
  assert.is(toHex(transferId(back)), j.id);
  assert.ok(verify(TransferCodec, NET, ed25519, back.from, back));
  // Without an id the transfer is still accepted (the id is derived).
  const { id: _id, ...noId } = j;
  assert.is(toHex(transferId(transferFromJson(noId, NET))), j.id);
});

test('a bad address is MALFORMED', () => {
  assert.is(codeOf(() => transferFromJson({ ...good(), from: 'rm1qqqq' }, NET)), 'MALFORMED');
  assert.is(codeOf(() => transferFromJson({ ...good(), to: good().to.slice(0, -1) + 'x' }, NET)), 'MALFORMED');
  const { from: _f, ...noFrom } = good();
  assert.is(codeOf(() => transferFromJson(noFrom, NET)), 'MALFORMED');
});

test('a bad amount is BAD_AMOUNT', () => {
  for (const amount of ['0', '-1', '1.5', '', 'abc', 5, null, '18446744073709551616', '1'.repeat(21)]) {
    assert.is(codeOf(() => transferFromJson({ ...good(), amount } as unknown as TransferJson, NET)), 'BAD_AMOUNT', String(amount));
  }
});

test('a memo over 64 UTF-8 bytes is BAD_MEMO; 64 bytes of multi-byte text is fine to parse', () => {
  assert.is(codeOf(() => transferFromJson({ ...good(), memo: 'x'.repeat(65), id: undefined } as unknown as TransferJson, NET)), 'BAD_MEMO');
  assert.is(codeOf(() => transferFromJson({ ...good(), memo: 'é'.repeat(33) }, NET)), 'BAD_MEMO'); // 66 bytes, 33 characters
  const j = { ...good(), memo: 'é'.repeat(32) };
  delete (j as Partial<TransferJson>).id;
  assert.is(transferFromJson(j, NET).memo.length, 64);
  assert.is(codeOf(() => transferFromJson({ ...good(), memo: 5 } as unknown as TransferJson, NET)), 'BAD_REQUEST');
});

test('an id that does not match the content is BAD_REQUEST', () => {
  assert.is(codeOf(() => transferFromJson({ ...good(), id: '00'.repeat(32) }, NET)), 'BAD_REQUEST');
  assert.is(codeOf(() => transferFromJson({ ...good(), seq: 4 }, NET)), 'BAD_REQUEST');
  // The same JSON on another network is another transfer: its id no longer matches.
  assert.is(codeOf(() => transferFromJson(good(), 'othernet')), 'BAD_REQUEST');
});

test('bad seq, prev, sig or shape are BAD_REQUEST', () => {
  for (const seq of [0, -1, 1.5, '3', 2 ** 53]) {
    assert.is(codeOf(() => transferFromJson({ ...good(), seq } as unknown as TransferJson, NET)), 'BAD_REQUEST', `seq ${seq}`);
  }
  for (const prev of ['00', 'AB'.repeat(32), 'zz'.repeat(32), 7]) {
    assert.is(codeOf(() => transferFromJson({ ...good(), prev } as unknown as TransferJson, NET)), 'BAD_REQUEST', `prev ${prev}`);
  }
  assert.is(codeOf(() => transferFromJson({ ...good(), sig: '00'.repeat(63) }, NET)), 'BAD_REQUEST');
  for (const j of [null, undefined, 'transfer', 5]) assert.is(codeOf(() => transferFromJson(j, NET)), 'BAD_REQUEST');
});

test('parseBaseUnits: 1 to 2^64-1 as canonical decimal strings', () => {
  assert.is(parseBaseUnits('1'), 1n);
  assert.is(parseBaseUnits(U64_MAX.toString()), U64_MAX);
  assert.is(parseBaseUnits('18446744073709551615'), U64_MAX);
  for (const v of ['0', '18446744073709551616', '99999999999999999999', '100000000000000000000', '', ' 1', '+1', '1e3', '0x10', '１', 1, 1n, null, undefined]) {
    assert.is(codeOf(() => parseBaseUnits(v)), 'BAD_AMOUNT', String(v));
  }
  assert.match(String((() => { try { parseBaseUnits('0', 'supply'); } catch (e) { return (e as Error).message; } })()), 'supply');
});

test('bundles and epoch records travel as hex of their exact encoding', () => {
  const custodians = ['c1', 'c2', 'c3'].map(keyOf);
  const bundle: Bundle = { certificate: { transfer: t, votes: custodians.map((c) => vote(c, t)) }, receipts: custodians.map((c) => receipt(c, t)) };
  const hex = bundleToHex(bundle);
  const back = bundleFromHex(hex, NET);
  assert.is(bundleToHex(back), hex);
  assert.is(toHex(transferId(back.certificate.transfer)), toHex(transferId(t)));
  const e = epochRecord(keyOf('mint'), custodians.map((c) => c.publicKey));
  assert.is(epochToHex(epochFromHex(epochToHex(e), NET)), epochToHex(e));
  for (const bad of ['zz', 'abc', '']) {
    const code = codeOf(() => bundleFromHex(bad, NET));
    assert.ok(['MALFORMED', 'TRUNCATED'].includes(code), `${bad}: ${code}`);
    assert.ok(['MALFORMED', 'TRUNCATED'].includes(codeOf(() => epochFromHex(bad, NET))));
  }
});

test.run();
