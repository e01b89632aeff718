// A signature scheme that remembers signatures it has verified. One node checks the
// same signature several times per transfer (a vote when it arrives, again inside
// the certificate at certify, credit and store time), and Ed25519 verification is
// the largest CPU cost of a node (see docs/benchmarks.md). Only successes are kept,
// keyed by SHA-256(publicKey ‖ signature ‖ message), so a cache hit means exactly
// this key signed exactly these bytes.
import { createHash } from 'node:crypto';
import type { SignatureScheme } from '../core/signature.ts';

/** Verified signatures remembered; past it the oldest half is dropped (a cache, never a source of truth). */
export const VERIFY_CACHE_ENTRIES = 262_144;

function keyOf(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string {
  return createHash('sha256').update(publicKey).update(signature).update(message).digest('base64');
}

export function cachingScheme(inner: SignatureScheme, limit = VERIFY_CACHE_ENTRIES): SignatureScheme & { hits: () => number; checks: () => number } {
  const seen = new Set<string>();
  let hits = 0;
  let checks = 0;
  const remember = (key: string): void => {
    if (seen.size >= limit) {
      let drop = limit / 2;
      for (const k of seen) {
        seen.delete(k);
        if (--drop === 0) break;
      }
    }
    seen.add(key);
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
          remember(keyOf(s.publicKey, message, signature));
          return signature;
        },
      };
    },
    hits: () => hits,
    checks: () => checks,
    verify(publicKey, message, signature) {
      const key = keyOf(publicKey, message, signature);
      if (seen.has(key)) {
        hits++;
        return true;
      }
      checks++;
      if (!inner.verify(publicKey, message, signature)) return false;
      remember(key);
      return true;
    },
  };
}
