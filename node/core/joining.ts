// Joining (docs/protocol.md §7): a node that is not a member of the current epoch
// asks the mint to admit it with a join request signed by its own key. The daemon
// sends one every JOIN_INTERVAL_MS while outside; the simulator's joining nodes send
// the same request.
import type { Bytes } from '../../protocol/bytes.ts';
import type { Message } from '../../protocol/messages.ts';
import { JoinCodec, sign, type EpochRecord } from '../../protocol/objects.ts';
import { Ring } from '../../protocol/ring.ts';
import type { Signer } from '../../protocol/signature.ts';

/** How often a node outside the ring asks again (the mint rate-limits and de-duplicates). */
export const JOIN_INTERVAL_MS = 3_000;
/** Addresses a join request names at most. */
export const JOIN_ADDRS = 8;

export function isOutside(epoch: EpochRecord, self: Bytes): boolean {
  return !Ring.of(epoch).isMember(self);
}

/** The signed join request of `signer`'s node, reachable at `addrs`, made at `issuedAt` (ms). */
export function joinRequest(network: string, signer: Signer, addrs: readonly string[], issuedAt: number): Message {
  const join = sign(JoinCodec, network, signer, { node: signer.publicKey, addrs: addrs.slice(0, JOIN_ADDRS), issuedAt });
  return { type: 'join', join };
}
