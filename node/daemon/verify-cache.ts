// A signature scheme that remembers signatures it has verified. One node checks the
// same signature several times per transfer (a vote when it arrives, again inside
// the certificate at certify, credit and store time), and Ed25519 verification is
// the largest CPU cost of a node (see docs/benchmarks.md). Only successes are kept,
// with copies of the signature, key and message they verified, so a hit means exactly
// this key made exactly this signature over exactly these bytes. (Comparing ~200
// bytes costs far less than hashing them: a SHA-256 key per check was ~1.3 % of a
// node's CPU.) Entries are found by 48 bits of the signature; two signatures sharing
// them take turns in one slot, which costs a verification, never a wrong answer.
import type { SignatureScheme } from '../core/signature.ts';

/**
 * Verified signatures remembered; past it the oldest are dropped (a cache, never
 * a source of truth). A transfer needs its signatures for the seconds it takes to
 * store; 65,536 is ~9,000 transfers (7 signatures each), ~10 s at 1,000 transfers/s,
 * and ~30 MB with the copies.
 */
export const VERIFY_CACHE_ENTRIES = 65_536;

/**
 * One copy per entry, signature ‖ key ‖ message in one Buffer: Buffer#compare checks
 * each range natively (a JS byte loop over ~300 bytes per hit was ~1.5 % of CPU), and
 * one object per entry instead of three keeps the cache light for the GC.
 */
type Verified = Buffer;
const SIG = 64;
const KEY = 32;

function holds(v: Verified, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return (
    signature.length === SIG && publicKey.length === KEY && v.length === SIG + KEY + message.length &&
    v.compare(signature, 0, SIG, 0, SIG) === 0 &&
    v.compare(publicKey, 0, KEY, SIG, SIG + KEY) === 0 &&
    v.compare(message, 0, message.length, SIG + KEY) === 0
  );
}

/** 32 bits of R and 16 of S, as one number (a Map keyed by numbers allocates nothing per lookup). */
function slotOf(signature: Uint8Array): number {
  if (signature.length < 34) return -1;
  const r = (signature[0]! | (signature[1]! << 8) | (signature[2]! << 16) | (signature[3]! << 24)) >>> 0;
  return r * 65_536 + (signature[32]! | (signature[33]! << 8));
}

export function cachingScheme(inner: SignatureScheme, limit = VERIFY_CACHE_ENTRIES): SignatureScheme & { hits: () => number; checks: () => number } {
  const seen = new Map<number, Verified>();
  let hits = 0;
  let checks = 0;
  // Slots in insertion order, a ring: one out per one in, oldest first. (Dropping half
  // at once stalled a step ~9 ms at each wrap; Map#keys().next() after deletes scans
  // the holes V8 leaves, ~20 µs per insert at this size.)
  const order = new Float64Array(limit);
  let head = 0;
  let filled = 0;
  const remember = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void => {
    if (signature.length !== SIG || publicKey.length !== KEY) return;
    const v = Buffer.allocUnsafe(SIG + KEY + message.length);
    v.set(signature, 0);
    v.set(publicKey, SIG);
    v.set(message, SIG + KEY);
    const slot = slotOf(signature);
    if (!seen.has(slot)) {
      if (filled === limit) seen.delete(order[head]!);
      else filled++;
      order[head] = slot;
      head = (head + 1) % limit;
    }
    seen.set(slot, v);
  };
  return {
    name: inner.name,
    // What this node signs is remembered as verified: its own vote comes back inside
    // the certificate (certify, credit) and its own receipt inside the bundle (store),
    // and in a small ring a node checks its own signature at each of those. An
    // Ed25519 signature made here with this key over these bytes is valid by construction.
    signer: (secretKey) => {
      const s = inner.signer(secretKey);
      return {
        publicKey: s.publicKey,
        sign(message) {
          const signature = s.sign(message);
          remember(s.publicKey, message, signature);
          return signature;
        },
      };
    },
    hits: () => hits,
    checks: () => checks,
    keepsMessage: inner.keepsMessage,
    verify(publicKey, message, signature) {
      const known = seen.get(slotOf(signature));
      if (known !== undefined && holds(known, publicKey, message, signature)) {
        hits++;
        return true;
      }
      checks++;
      if (!inner.verify(publicKey, message, signature)) return false;
      remember(publicKey, message, signature);
      return true;
    },
  };
}
