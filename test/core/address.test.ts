// Account addresses: bech32m with the `rm` prefix. Known answers are pinned, and
// checked against a small independent bech32m checksum (BIP-350) written here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { bech32, bech32m } from '@scure/base';
import { ADDRESS_PREFIX, decodeAddress, encodeAddress, isAddress } from '../../protocol/address.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { codeOf } from './vectors/fixtures.ts';

const KNOWN: [string, string][] = [
  ['00'.repeat(32), 'rm1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqxj5wc4'],
  ['ff'.repeat(32), 'rm1lllllllllllllllllllllllllllllllllllllllllllllllllllsyvhl3z'],
  // The RFC 8032 TEST 1 public key.
  ['d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'rm16adfsqvzky9t042tlmfujeq88g8wzuhnm2nzxfd0qgdx3ac82ydqlt8tm4'],
];

// ---- an independent bech32m check (BIP-350), so the pins do not rest on one library
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32M_CONST = 0x2bc830a3;
function polymod(values: number[]): number {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  return chk >>> 0;
}
function checksumOk(s: string): boolean {
  const at = s.lastIndexOf('1');
  const hrp = s.slice(0, at);
  const data = [...s.slice(at + 1)].map((c) => CHARSET.indexOf(c));
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  return polymod([...expanded, ...data]) === BECH32M_CONST;
}
function wordsToBytes(s: string): string {
  const data = [...s.slice(s.lastIndexOf('1') + 1, -6)].map((c) => CHARSET.indexOf(c));
  let acc = 0, bits = 0;
  const out: number[] = [];
  for (const v of data) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Buffer.from(out).toString('hex');
}

test('known answers: encode, decode, and an independent checksum agree', () => {
  for (const [hex, addr] of KNOWN) {
    assert.is(encodeAddress(fromHex(hex)), addr);
    assert.is(toHex(decodeAddress(addr)), hex);
    assert.ok(checksumOk(addr), addr);
    assert.is(wordsToBytes(addr), hex);
    assert.ok(addr.startsWith(`${ADDRESS_PREFIX}1`));
    assert.is(addr.length, 61);
  }
});

test('fast-check: every 32-byte key round-trips through an address', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
      const a = encodeAddress(key);
      assert.ok(checksumOk(a));
      assert.equal(decodeAddress(a), key);
    }),
    { seed: 3, numRuns: 200 },
  );
});

test('a bad checksum is MALFORMED (every single-character substitution)', () => {
  const addr = KNOWN[2]![1];
  for (let i = 3; i < addr.length; i++) {
    const c = addr[i] === 'q' ? 'p' : 'q';
    const bad = addr.slice(0, i) + c + addr.slice(i + 1);
    assert.is(codeOf(() => decodeAddress(bad)), 'MALFORMED', bad);
    assert.not.ok(isAddress(bad));
  }
});

test('a wrong prefix is MALFORMED, even with a valid checksum', () => {
  const words = bech32m.toWords(fromHex(KNOWN[2]![0]));
  const other = bech32m.encode('rn', words);
  assert.ok(checksumOk(other));
  assert.is(codeOf(() => decodeAddress(other)), 'MALFORMED');
});

test('bech32 (not bech32m) is MALFORMED: the checksum constant differs', () => {
  const old = bech32.encode('rm', bech32.toWords(fromHex(KNOWN[2]![0])));
  assert.is(codeOf(() => decodeAddress(old)), 'MALFORMED');
});

test('a wrong length is MALFORMED (0, 31, 33 and 40 bytes)', () => {
  for (const n of [0, 31, 33, 40]) {
    const a = bech32m.encode('rm', bech32m.toWords(new Uint8Array(n).fill(7)));
    assert.is(codeOf(() => decodeAddress(a)), 'MALFORMED', `${n} bytes`);
  }
  assert.throws(() => encodeAddress(new Uint8Array(31)), RangeError);
});

test('non-zero padding bits are MALFORMED, not a crash', () => {
  const words = [...bech32m.toWords(new Uint8Array(32))];
  words[words.length - 1] = 1; // 52 words carry 260 bits: the last 4 must be zero
  const a = bech32m.encode('rm', words);
  assert.ok(checksumOk(a));
  assert.is(codeOf(() => decodeAddress(a)), 'MALFORMED');
});

test('upper case is accepted whole; mixed case is MALFORMED (BIP-350)', () => {
  const [hex, addr] = KNOWN[2]!;
  assert.is(toHex(decodeAddress(addr.toUpperCase())), hex);
  const mixed = addr.slice(0, 10) + addr.slice(10, 11).toUpperCase() + addr.slice(11);
  assert.is.not(mixed, addr);
  assert.is(codeOf(() => decodeAddress(mixed)), 'MALFORMED');
});

test('junk never throws anything but a Rejection', () => {
  for (const s of ['', '1', 'rm1', 'rm', 'hello', 'rm1' + 'q'.repeat(200), 'rm1\u0000abc', ' rm1qqqq', 'rm1bbbbbb']) {
    assert.is(codeOf(() => decodeAddress(s)), 'MALFORMED', JSON.stringify(s));
    assert.not.ok(isAddress(s));
  }
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      const code = codeOf(() => decodeAddress('rm1' + s));
      assert.ok(code === 'MALFORMED' || code === 'NO THROW', code);
    }),
    { seed: 5, numRuns: 300 },
  );
});

test.run();
