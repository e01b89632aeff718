// The daemons' noise cipher (libsodium) against the noise package's default: each
// opens what the other seals, at sizes on both sides of the default's 1,200-byte
// switch, and a changed byte, tag or associated data is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { Uint8ArrayList } from 'uint8arraylist';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import { noiseCrypto, noiseCipher } from '../../runtime/noise-crypto.ts';

const k = randomBytes(32);
const nonce = randomBytes(12);
const ad = randomBytes(32);
const bytes = (x: Uint8Array | Uint8ArrayList): Uint8Array => Uint8Array.from(x instanceof Uint8Array ? x : x.subarray());

test('libsodium is in use here (the addon ships prebuilt for this platform)', () => {
  assert.is(noiseCipher, 'libsodium');
});

for (const size of [0, 1, 100, 1199, 1200, 5000, 65_519]) {
  test(`${size} bytes: sealed by one, opened by the other, both ways, same ciphertext`, () => {
    const m = randomBytes(size);
    const ours = bytes(noiseCrypto.chaCha20Poly1305Encrypt(m, nonce, ad, k));
    const theirs = bytes(defaultCrypto.chaCha20Poly1305Encrypt(m, nonce, ad, k));
    assert.equal(ours, theirs);
    assert.equal(bytes(defaultCrypto.chaCha20Poly1305Decrypt(ours, nonce, ad, k)), Uint8Array.from(m));
    assert.equal(bytes(noiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce, ad, k)), Uint8Array.from(m));
  });
}

test('a message in pieces (Uint8ArrayList) seals as the joined bytes', () => {
  const a = randomBytes(700);
  const b = randomBytes(900);
  const list = new Uint8ArrayList(a, b);
  const whole = bytes(noiseCrypto.chaCha20Poly1305Encrypt(Buffer.concat([a, b]), nonce, ad, k));
  assert.equal(bytes(noiseCrypto.chaCha20Poly1305Encrypt(list, nonce, ad, k)), whole);
  assert.equal(bytes(noiseCrypto.chaCha20Poly1305Decrypt(new Uint8ArrayList(whole.subarray(0, 10), whole.subarray(10)), nonce, ad, k)), Uint8Array.from(Buffer.concat([a, b])));
});

test('a changed ciphertext byte, tag byte, nonce or associated data is refused', () => {
  const m = randomBytes(2000);
  const c = bytes(noiseCrypto.chaCha20Poly1305Encrypt(m, nonce, ad, k));
  const flip = (x: Uint8Array, i: number): Uint8Array => {
    const y = Uint8Array.from(x);
    y[i]! ^= 1;
    return y;
  };
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(flip(c, 5), nonce, ad, k));
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(flip(c, c.length - 1), nonce, ad, k));
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(c, flip(nonce, 0), ad, k));
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(c, nonce, flip(ad, 3), k));
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(c.subarray(0, 10), nonce, ad, k));
});

test.run();
