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

export function cachingScheme(inner: SignatureScheme, limit = VERIFY_CACHE_ENTRIES): SignatureScheme & { hits: () => number } {
  const seen = new Set<string>();
  let hits = 0;
  return {
    name: inner.name,
    signer: (secretKey) => inner.signer(secretKey),
    hits: () => hits,
    verify(publicKey, message, signature) {
      const key = createHash('sha256').update(publicKey).update(signature).update(message).digest('base64');
      if (seen.has(key)) {
        hits++;
        return true;
      }
      if (!inner.verify(publicKey, message, signature)) return false;
      if (seen.size >= limit) {
        let drop = limit / 2;
        for (const k of seen) {
          seen.delete(k);
          if (--drop === 0) break;
        }
      }
      seen.add(key);
      return true;
    },
  };
}
