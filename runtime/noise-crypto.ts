// Noise's transport cipher (ChaCha20-Poly1305) through libsodium. The package's
// default goes through node:crypto for messages past 1,200 bytes, which builds a
// Cipheriv and validates the key as a KeyObject for every frame: that was ~3 % of a
// node's CPU under load (docs/benchmarks.md). libsodium seals or opens a frame in one
// call. The handshake (X25519, HKDF, SHA-256) keeps the package's code: it runs once
// per connection. Same RFC 8439 construction, so peers using either interoperate
// (test/daemon/noise-crypto.test.ts).
import type { ICryptoInterface } from '@chainsafe/libp2p-noise';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import type { Uint8ArrayList } from 'uint8arraylist';
import { sodium as sodiumAddon } from '../protocol/signature.ts';

const TAG_BYTES = 16;

/** The part of sodium-native used here (the package ships no types). */
type SodiumAead = {
  crypto_aead_chacha20poly1305_ietf_encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, k: Uint8Array): number;
  crypto_aead_chacha20poly1305_ietf_decrypt(m: Uint8Array, nsec: null, c: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, k: Uint8Array): number;
};

/** The addon signature.ts loaded (one load, one fallback decision), seen through the AEAD calls used here. */
const sodium = sodiumAddon as unknown as SodiumAead | null;

const flat = (b: Uint8Array | Uint8ArrayList): Uint8Array => (b instanceof Uint8Array ? b : b.subarray());

function sodiumCrypto(s: SodiumAead): ICryptoInterface {
  return {
    ...defaultCrypto,
    chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
      const m = flat(plaintext);
      const c = Buffer.allocUnsafe(m.byteLength + TAG_BYTES);
      s.crypto_aead_chacha20poly1305_ietf_encrypt(c, m, ad, null, nonce, k);
      return c;
    },
    chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k) {
      const c = flat(ciphertext);
      if (c.byteLength < TAG_BYTES) throw new Error('Invalid chacha20poly1305 decryption');
      const m = Buffer.allocUnsafe(c.byteLength - TAG_BYTES);
      // sodium-native throws on a failed tag check; noise expects a throw either way.
      s.crypto_aead_chacha20poly1305_ietf_decrypt(m, null, c, ad, nonce, k);
      return m;
    },
  };
}

/** The noise crypto the daemons use: libsodium's AEAD where the addon loads, else the package's default. */
export const noiseCrypto: ICryptoInterface = sodium === null ? defaultCrypto : sodiumCrypto(sodium);
/** Which implementation seals noise frames (for the start log). */
export const noiseCipher: 'libsodium' | 'default' = sodium === null ? 'default' : 'libsodium';
