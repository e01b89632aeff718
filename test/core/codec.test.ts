// The strict binary codec: round trips, and a typed Rejection for every way bytes
// can be wrong (truncated, trailing, oversized, non-canonical, out of range).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { toHex, utf8, ZERO32 } from '../../protocol/bytes.ts';
import { MAX_MESSAGE_BYTES, Reader, U64_MAX, Writer, decodeAll } from '../../protocol/codec.ts';
import { decodeMessage, encodeMessage, MessageTag } from '../../protocol/messages.ts';
import { bindNetwork, type Certificate } from '../../protocol/objects.ts';
import { codeOf, keyOf, NET, transfer, vote } from './vectors/fixtures.ts';

const SEED = 7;

test('primitives round-trip and have a pinned big-endian layout', () => {
  const w = new Writer(4); // small on purpose: the writer must grow
  w.u8(0xfe).u16(0x0102).u32(0x03040506).u64(0x0708090a0b0c0d0en).u64n(Number.MAX_SAFE_INTEGER).bool(true).bool(false);
  w.fixed(new Uint8Array([1, 2, 3]), 3).var(new Uint8Array([9, 8])).string('hé');
  const bytes = w.finish();
  assert.is(
    toHex(bytes),
    'fe' + '0102' + '03040506' + '0708090a0b0c0d0e' + '001fffffffffffff' + '01' + '00' + '010203' + '00020908' + '000368c3a9',
  );
  const v = decodeAll(bytes, (r) => [r.u8(), r.u16(), r.u32(), r.u64(), r.u64n(), r.bool(), r.bool(), r.fixed(3), r.var(2), r.string(3)]);
  assert.equal(v, [0xfe, 0x0102, 0x03040506, 0x0708090a0b0c0d0en, Number.MAX_SAFE_INTEGER, true, false, Uint8Array.of(1, 2, 3), Uint8Array.of(9, 8), 'hé']);
});

test('fast-check: u64, var and string fields round-trip', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: U64_MAX }), fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 40 }), (n, b, s) => {
      const bytes = new Writer().u64(n).var(b).string(s).finish();
      const [n2, b2, s2] = decodeAll(bytes, (r) => [r.u64(), r.var(300), r.string(1000)] as const);
      assert.is(n2, n);
      assert.equal(b2, b);
      assert.is(s2, s);
    }),
    { seed: SEED, numRuns: 300 },
  );
});

test('truncated input is TRUNCATED at every cut point', () => {
  const t = transfer(keyOf('alice'), keyOf('bob').publicKey, 5n, 1, ZERO32, utf8('rent'));
  const bytes = encodeMessage({ type: 'vote-request', transfer: t });
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.is(codeOf(() => decodeMessage(NET, bytes.subarray(0, cut))), 'TRUNCATED', `cut at ${cut}`);
  }
  assert.is(codeOf(() => decodeAll(Uint8Array.of(0, 1), (r) => r.u32())), 'TRUNCATED');
});

test('trailing bytes are MALFORMED', () => {
  const bytes = encodeMessage({ type: 'stored', transferId: ZERO32 });
  const longer = Uint8Array.from([...bytes, 0]);
  assert.is(codeOf(() => decodeMessage(NET, longer)), 'MALFORMED');
  assert.is(codeOf(() => decodeAll(Uint8Array.of(1, 2), (r) => r.u8())), 'MALFORMED');
});

test('a message over 64 KiB is OVERSIZED before it is parsed; exactly 64 KiB is read', () => {
  const big = new Uint8Array(MAX_MESSAGE_BYTES + 1);
  big[0] = MessageTag.lookup;
  assert.is(codeOf(() => decodeMessage(NET, big)), 'OVERSIZED');
  assert.is(codeOf(() => new Reader(big)), 'OVERSIZED');
  const exact = new Uint8Array(MAX_MESSAGE_BYTES);
  exact[0] = MessageTag.lookup;
  assert.is(codeOf(() => decodeMessage(NET, exact)), 'MALFORMED'); // read, then trailing bytes
});

test('a var field or list count over its bound is OVERSIZED', () => {
  assert.is(codeOf(() => decodeAll(new Writer().var(new Uint8Array(11)).finish(), (r) => r.var(10))), 'OVERSIZED');
  assert.is(codeOf(() => decodeAll(new Writer().u16(0xffff).finish(), (r) => r.var(10))), 'OVERSIZED'); // before reading the body
  assert.is(codeOf(() => decodeAll(new Writer().u16(17).finish(), (r) => r.count(16))), 'OVERSIZED');
  // In a message: a join request lists at most 16 addresses.
  const join = bindNetwork({ node: ZERO32, addrs: Array.from({ length: 17 }, () => '/ip4/127.0.0.1/tcp/1'), issuedAt: 1, sig: new Uint8Array(64) }, NET);
  assert.is(codeOf(() => decodeMessage(NET, encodeMessage({ type: 'join', join }))), 'OVERSIZED');
  // A reason code longer than any known code.
  const rej = new Writer().u8(MessageTag.reject).fixed(ZERO32, 32).string('X'.repeat(33)).string('').finish();
  assert.is(codeOf(() => decodeMessage(NET, rej)), 'OVERSIZED');
});

test('a boolean byte other than 0 or 1 is NON_CANONICAL', () => {
  assert.is(codeOf(() => decodeAll(Uint8Array.of(2), (r) => r.bool())), 'NON_CANONICAL');
  const reply = encodeMessage({ type: 'lookup-reply', transferId: ZERO32, bundle: null });
  const bad = reply.slice();
  bad[33] = 0x80;
  assert.is(codeOf(() => decodeMessage(NET, bad)), 'NON_CANONICAL');
});

test('unsorted or repeated certificate votes are NON_CANONICAL; the writer sorts', () => {
  const alice = keyOf('alice');
  const t = transfer(alice, keyOf('bob').publicKey, 5n);
  const voters = ['c1', 'c2', 'c3'].map(keyOf);
  const votes = voters.map((v) => vote(v, t));
  const cert: Certificate = { transfer: t, votes: [votes[2]!, votes[0]!, votes[1]!] };
  const bytes = encodeMessage({ type: 'certified', certificate: cert });
  const back = decodeMessage(NET, bytes);
  assert.is(back.type, 'certified');
  const sortedVoters = (back as { certificate: Certificate }).certificate.votes.map((v) => toHex(v.voter));
  assert.equal(sortedVoters, [...sortedVoters].sort());
  // Hand-write the votes unsorted: the decoder refuses.
  const w = new Writer().u8(MessageTag.certified);
  const tb = encodeMessage({ type: 'vote-request', transfer: t }).subarray(1);
  w.raw(tb).u8(2);
  const sorted = [...votes].sort((a, b) => (toHex(a.voter) < toHex(b.voter) ? -1 : 1));
  for (const v of [sorted[1]!, sorted[0]!]) w.raw(encodeMessage({ type: 'vote', vote: v }).subarray(1));
  assert.is(codeOf(() => decodeMessage(NET, w.finish())), 'NON_CANONICAL');
  // The same voter twice.
  const w2 = new Writer().u8(MessageTag.certified).raw(tb).u8(2);
  for (const v of [sorted[0]!, sorted[0]!]) w2.raw(encodeMessage({ type: 'vote', vote: v }).subarray(1));
  assert.is(codeOf(() => decodeMessage(NET, w2.finish())), 'NON_CANONICAL');
});

test('u64 bounds: the writer refuses out-of-range values; seq/epoch above 2^53-1 are MALFORMED', () => {
  assert.throws(() => new Writer().u64(U64_MAX + 1n), RangeError);
  assert.throws(() => new Writer().u64(-1n), RangeError);
  assert.throws(() => new Writer().u64n(Number.MAX_SAFE_INTEGER + 1), RangeError);
  assert.throws(() => new Writer().u64n(-1), RangeError);
  assert.throws(() => new Writer().u64n(1.5), RangeError);
  assert.throws(() => new Writer().u8(256), RangeError);
  assert.throws(() => new Writer().u16(0x10000), RangeError);
  assert.throws(() => new Writer().u32(-1), RangeError);
  assert.throws(() => new Writer().fixed(new Uint8Array(31), 32), RangeError);
  assert.throws(() => new Writer().var(new Uint8Array(0x10000)), RangeError);
  assert.is(decodeAll(new Writer().u64(U64_MAX).finish(), (r) => r.u64()), U64_MAX);
  assert.is(codeOf(() => decodeAll(new Writer().u64(BigInt(Number.MAX_SAFE_INTEGER) + 1n).finish(), (r) => r.u64n())), 'MALFORMED');
  // In a message: an account-pull whose epoch is 2^53.
  const pull = new Writer().u8(MessageTag['account-pull']).fixed(ZERO32, 32).u64(1n << 53n).finish();
  assert.is(codeOf(() => decodeMessage(NET, pull)), 'MALFORMED');
  // The largest amount round-trips in a transfer.
  const t = transfer(keyOf('alice'), keyOf('bob').publicKey, U64_MAX);
  const back = decodeMessage(NET, encodeMessage({ type: 'submit', transfer: t }));
  assert.is((back as { transfer: { amount: bigint } }).transfer.amount, U64_MAX);
});

test('strings: invalid UTF-8 is MALFORMED; a leading BOM is kept (one encoding per string)', () => {
  assert.is(codeOf(() => decodeAll(new Writer().var(Uint8Array.of(0xc3, 0x28)).finish(), (r) => r.string(10))), 'MALFORMED');
  const withBom = new Writer().var(Uint8Array.of(0xef, 0xbb, 0xbf, 0x41)).finish();
  const s = decodeAll(withBom, (r) => r.string(10));
  assert.is(s, '\ufeffA');
  assert.is(toHex(new Writer().string(s).finish()), toHex(withBom));
});

test.run();
