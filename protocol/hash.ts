// SHA-256, the one hash of the protocol (protocol.md §2). node:crypto's native digest is
// deterministic and several times faster than a JS implementation on short inputs;
// its one-shot form skips the Hash object, which dominates the cost on short inputs.
import { createHash, hash } from 'node:crypto';
import type { Bytes } from './bytes.ts';

export function sha256(...parts: Bytes[]): Bytes {
  if (parts.length === 1) {
    const d = hash('sha256', parts[0]!, 'buffer') as unknown as Buffer;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
