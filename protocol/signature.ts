// Ed25519 keys and signatures (protocol.md §2), behind a small scheme interface so the
// simulator can swap in a cheap deterministic stand-in ("fast" crypto) while the
// protocol code stays the same.
//
// Keys are made with @noble/ed25519. Verification, the custodian's hot path, goes
// native: libsodium (sodium-native, about 2x node:crypto's verify and 2.5x its
// sign on our machines) when its prebuilt addon loads, else node:crypto (OpenSSL,
// about 15x noble). Tests check that all three agree on RFC 8032 vectors,
// corrupted signatures and small-order keys. Ed25519 signatures are deterministic,
// so every path signs the same bytes.
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { createRequire } from 'node:module';
import { createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { equal, type Bytes } from './bytes.ts';
import { sha256 } from './hash.ts';
import { Memo } from './memo.ts';

ed.hashes.sha512 = sha512;

export const SIGNATURE_BYTES = 64;
export const KEY_BYTES = 32;

export interface Signer {
  readonly publicKey: Bytes;
  sign(message: Bytes): Bytes;
}

export interface Verifier {
  verify(publicKey: Bytes, message: Bytes, signature: Bytes): boolean;
  /**
   * Whether the verifier keeps a reference to `message` after verify returns (the
   * simulator's scheme remembers message objects). One that does not may be handed a
   * view into a scratch buffer, so a check of a decoded vote or receipt allocates nothing.
   */
  readonly keepsMessage?: boolean;
}

export interface SignatureScheme extends Verifier {
  readonly name: 'ed25519' | 'fast';
  signer(secretKey: Bytes): Signer;
}

export type KeyPair = { secretKey: Bytes; publicKey: Bytes };

/** A fresh Ed25519 key pair from the OS random source (wallets and daemons, never protocol code). */
export function generateKeyPair(): KeyPair {
  const secretKey = Uint8Array.from(randomBytes(32));
  return { secretKey, publicKey: ed.getPublicKey(secretKey) };
}

export function publicKeyOf(secretKey: Bytes): Bytes {
  return ed.getPublicKey(secretKey);
}

/** Pure-JS signing and verification, the reference the native path is tested against. */
export function nobleSign(secretKey: Bytes, message: Bytes): Bytes {
  return ed.sign(message, secretKey);
}
export function nobleVerify(publicKey: Bytes, message: Bytes, signature: Bytes): boolean {
  if (hasSmallOrder(publicKey) || hasSmallOrder(signature.subarray(0, 32))) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Encodings of the points of order 1, 2, 4 and 8 (and their non-canonical aliases),
 * compared with the sign bit cleared. libsodium refuses a key or an R among them;
 * OpenSSL and noble do not, and with R of small order a key holder can make a
 * signature that only some verifiers accept. Nodes must agree on every verdict,
 * so every path here refuses them.
 */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

export function hasSmallOrder(point: Bytes): boolean {
  if (point.length !== 32) return false;
  for (const bad of SMALL_ORDER) {
    let diff = (point[31]! & 0x7f) ^ bad[31]!;
    for (let i = 0; i < 31 && diff === 0; i++) diff |= point[i]! ^ bad[i]!;
    if (diff === 0) return true;
  }
  return false;
}

// DER prefixes that wrap raw 32-byte Ed25519 keys for node:crypto (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Parsed public keys, kept because parsing DER costs about as much as a verify.
 * Bounded: a node sees many accounts; past the bound the oldest half is dropped.
 */
const PUBLIC_KEY_CACHE_LIMIT = 65_536;
const publicKeys = new Map<string, KeyObject>();

function nativePublicKey(publicKey: Bytes): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64');
  let k = publicKeys.get(id);
  if (k === undefined) {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (publicKeys.size >= PUBLIC_KEY_CACHE_LIMIT) {
      let drop = PUBLIC_KEY_CACHE_LIMIT / 2;
      for (const key of publicKeys.keys()) {
        publicKeys.delete(key);
        if (--drop === 0) break;
      }
    }
    publicKeys.set(id, k);
  }
  return k;
}

export function opensslVerify(publicKey: Bytes, message: Bytes, signature: Bytes): boolean {
  if (publicKey.length !== KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  if (hasSmallOrder(publicKey) || hasSmallOrder(signature.subarray(0, 32))) return false;
  try {
    return nodeVerify(null, message, nativePublicKey(publicKey), signature);
  } catch {
    return false; // e.g. a public key that is not a curve point
  }
}

export function opensslSigner(secretKey: Bytes): Signer {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
  const publicKey = publicKeyOf(secretKey);
  return {
    publicKey,
    sign(message: Bytes): Bytes {
      return Uint8Array.from(nodeSign(null, message, key));
    },
  };
}

/** The part of sodium-native used here (the package ships no types). */
type Sodium = {
  crypto_sign_verify_detached(sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_sign_detached(sig: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
  crypto_hash_sha256(out: Uint8Array, input: Uint8Array): void;
};

/**
 * libsodium when its addon loads on this platform; null otherwise (then node:crypto
 * serves, with the same verdicts). Loaded lazily through require so a platform
 * without a prebuild still runs.
 */
export const sodium: Sodium | null = (() => {
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch {
    return null;
  }
})();

/** libsodium's verify, or null where the addon is missing. */
export const sodiumVerify: ((publicKey: Bytes, message: Bytes, signature: Bytes) => boolean) | null =
  sodium === null
    ? null
    : (publicKey, message, signature) => {
        if (publicKey.length !== KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
        return sodium.crypto_sign_verify_detached(signature, message, publicKey);
      };

/** libsodium's signer (the 64-byte secret key is seed ‖ public key), or null where the addon is missing. */
export const sodiumSigner: ((secretKey: Bytes) => Signer) | null =
  sodium === null
    ? null
    : (secretKey) => {
        const publicKey = new Uint8Array(KEY_BYTES);
        const full = new Uint8Array(64);
        sodium.crypto_sign_seed_keypair(publicKey, full, secretKey);
        return {
          publicKey,
          sign(message: Bytes): Bytes {
            const sig = new Uint8Array(SIGNATURE_BYTES);
            sodium.crypto_sign_detached(sig, message, full);
            return sig;
          },
        };
      };

/** Which native library verifies and signs in this process (reported by benchmarks and /status). */
export const nativeBackend: 'libsodium' | 'openssl' = sodium === null ? 'openssl' : 'libsodium';

export const nativeVerify: (publicKey: Bytes, message: Bytes, signature: Bytes) => boolean = sodiumVerify ?? opensslVerify;
export const nativeSigner: (secretKey: Bytes) => Signer = sodiumSigner ?? opensslSigner;

/** Real Ed25519: native signing and verification. */
export const ed25519: SignatureScheme = {
  name: 'ed25519',
  signer: nativeSigner,
  verify: nativeVerify,
};

/**
 * The simulator's stand-in: same sizes, deterministic, far cheaper than Ed25519.
 * The "public key" is SHA-256 of the secret, and a signature is a 64-byte
 * non-cryptographic hash of (publicKey ‖ message), so a wrong key, an altered
 * message or an altered signature still fails verification. It is not secure and
 * is never used outside the simulator.
 */
export const fastScheme: SignatureScheme = {
  name: 'fast',
  keepsMessage: true,
  signer(secretKey: Bytes): Signer {
    const publicKey = sha256(secretKey);
    return {
      publicKey,
      sign: (message) => {
        const sig = fastSignature(publicKey, message, new Uint8Array(SIGNATURE_BYTES));
        remember(sig, publicKey, message);
        return sig;
      },
    };
  },
  verify(publicKey, message, signature) {
    if (signature.length !== SIGNATURE_BYTES || publicKey.length !== KEY_BYTES) return false;
    // The simulator hands the same objects to many nodes: a signature object already
    // verified for this very message object and an equal key needs no second hash.
    const seen = verified.get(signature);
    if (seen !== undefined && seen.message === message && seen.length === message.length && equal(seen.publicKey, publicKey)) return true;
    // Into a scratch buffer: a check allocates nothing (a run verifies millions).
    const expect = fastSignature(publicKey, message, verifyScratch);
    for (let i = 0; i < SIGNATURE_BYTES; i++) if (expect[i] !== signature[i]) return false;
    remember(signature, publicKey, message);
    return true;
  },
};

/**
 * Signatures known good, kept on the signature object (gone with it; see memo.ts). Protocol
 * objects are immutable once signed or decoded (their payloads are cached the same way).
 */
const verified = new Memo<{ publicKey: Bytes; message: Bytes; length: number }>('verified');
function remember(signature: Bytes, publicKey: Bytes, message: Bytes): void {
  verified.set(signature, { publicKey, message, length: message.length });
}

const verifyScratch = new Uint8Array(SIGNATURE_BYTES);

/** Four independent 32-bit multiply-xor lanes over key then message, spread to the 64 bytes of `out`. */
function fastSignature(publicKey: Bytes, message: Bytes, out: Uint8Array): Bytes {
  let a = 0x811c9dc5 ^ message.length;
  let b = 0x3c6ef372;
  let c = 0x9e3779b9;
  let d = 0x85ebca6b;
  for (let i = 0; i < publicKey.length; i++) {
    const v = publicKey[i]!;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 15);
    c = Math.imul(c + v, 0xcc9e2d51) ^ (c >>> 13);
    d = (Math.imul(d ^ v, 0x1b873593) + (d >>> 16)) | 0;
  }
  for (let i = 0; i < message.length; i++) {
    const v = message[i]!;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 15);
    c = Math.imul(c + v, 0xcc9e2d51) ^ (c >>> 13);
    d = (Math.imul(d ^ v, 0x1b873593) + (d >>> 16)) | 0;
  }
  for (let w = 0; w < 16; w++) {
    // Every output word depends on all four lanes (murmur3's finaliser).
    let h = (w & 3) === 0 ? a : (w & 3) === 1 ? b : (w & 3) === 2 ? c : d;
    h ^= Math.imul(w + 1, 0x9e3779b9) ^ a ^ (b >>> 7) ^ (c << 3) ^ (d >>> 11);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    out[w * 4] = h >>> 24;
    out[w * 4 + 1] = (h >>> 16) & 0xff;
    out[w * 4 + 2] = (h >>> 8) & 0xff;
    out[w * 4 + 3] = h & 0xff;
  }
  return out;
}
