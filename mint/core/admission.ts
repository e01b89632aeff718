// Admission (protocol.md §7, Admission). A node asks to join with a request signed by its
// own key, sent over a connection authenticated as that key: the driver names the
// sender, and a join naming any other key is refused before its signature is checked.
// Under `open` it is admitted automatically, at most maxJoinsPerEpoch per epoch
// (joinCapFor: fewer than q of any custody group can be new within one handoff window);
// under `allowlist` only the operator admits. Each source is judged at most once per
// window, so a flood from one peer costs the mint one signature check per window.
// Either way the node becomes a member at the next epoch.
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, type ReasonCode } from '../../protocol/errors.ts';
import type { AdmissionPolicy } from '../../protocol/genesis.ts';
import { JoinCodec, verify, type JoinRequest } from '../../protocol/objects.ts';
import type { Verifier } from '../../protocol/signature.ts';

export type JoinDecision =
  | { readonly kind: 'admit' }
  /** Already a member, or already admitted for the next epoch: just send it the ring. */
  | { readonly kind: 'known' }
  | { readonly kind: 'refuse'; readonly code: ReasonCode; readonly why: string };

/** Sources judged per window; past it, joins wait for the next window (bounds memory under a flood of peers). */
export const MAX_SOURCES_PER_WINDOW = 4096;

/**
 * The default cap on new members per epoch for a group of quorum q. Votes of the
 * current and the previous epoch count (the handoff window, protocol.md §7, Vote
 * freshness), so the members new in one window are those of two epochs: 2·cap ≤ q − 1
 * keeps them fewer than q in any custody group, even if every one of them ground its
 * key to land in the same group. At least 1, so a ring can grow at all (with q ≤ 2 the
 * bound cannot hold; such rings should use the allowlist).
 */
export function joinCapFor(q: number): number {
  return Math.max(1, Math.floor((q - 1) / 2));
}

export class Admission {
  private readonly policy: AdmissionPolicy;
  private readonly maxJoinsPerEpoch: number;
  private readonly windowMs: number;
  /** Admitted, not yet in an epoch; in admission order (hex ids). */
  private readonly pendingSet = new Set<string>();
  /** Sources whose join was judged in this window; cleared by a new window or epoch. */
  private readonly judged = new Set<string>();
  private windowStart = -Infinity;

  constructor(policy: AdmissionPolicy, maxJoinsPerEpoch: number, windowMs: number) {
    this.policy = policy;
    this.maxJoinsPerEpoch = maxJoinsPerEpoch;
    this.windowMs = windowMs;
  }

  /**
   * Judges a join request from `source` (the authenticated sender's hex id; undefined when
   * the driver cannot name one). `isMember` is for the current epoch; `barred` says why a
   * node may not come (or stay) in, e.g. banned or below the eviction line. Cheapest
   * checks first: sender, per-source rate, then the signature.
   */
  decideJoin(network: string, verifier: Verifier, join: JoinRequest, source: string | undefined, now: number, isMember: (node: string) => boolean, barred: (node: string) => ReasonCode | undefined): JoinDecision {
    const id = toHex(join.node);
    if (source !== id) return { kind: 'refuse', code: Reason.NOT_ADMITTED, why: 'a join must come from the joining key itself' };
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.judged.clear();
    }
    if (this.judged.has(id)) return { kind: 'refuse', code: Reason.RATE_LIMITED, why: 'one join per source per window' };
    if (this.judged.size >= MAX_SOURCES_PER_WINDOW) return { kind: 'refuse', code: Reason.RATE_LIMITED, why: 'too many joining sources this window' };
    this.judged.add(id);
    if (!verify(JoinCodec, network, verifier, join.node, join)) return { kind: 'refuse', code: Reason.BAD_SIGNATURE, why: 'join request not signed by the node' };
    const bar = barred(id);
    if (bar !== undefined) return { kind: 'refuse', code: bar, why: 'node is barred' };
    if (isMember(id) || this.pendingSet.has(id)) return { kind: 'known' };
    if (this.policy === 'allowlist') return { kind: 'refuse', code: Reason.NOT_ADMITTED, why: 'allowlist policy: the operator must admit this node' };
    if (this.pendingSet.size >= this.maxJoinsPerEpoch) return { kind: 'refuse', code: Reason.RATE_LIMITED, why: `already ${this.maxJoinsPerEpoch} joins this epoch` };
    return { kind: 'admit' };
  }

  isPending(node: string): boolean {
    return this.pendingSet.has(node);
  }
  pending(): readonly string[] {
    return [...this.pendingSet];
  }
  get cap(): number {
    return this.maxJoinsPerEpoch;
  }

  /** Live and on restore. An admitted node's next join is answered (with the ring) even in this window. */
  apply(node: Bytes): void {
    const id = toHex(node);
    this.pendingSet.add(id);
    this.judged.delete(id);
  }
  /** An epoch was made: every pending admission was taken in or dropped, and every source may ask again. */
  clear(): void {
    this.pendingSet.clear();
    this.judged.clear();
  }
}
