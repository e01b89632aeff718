// Admission (protocol.md §7). A node asks to join with a request signed by its own key.
// Under `open` it is admitted automatically, at most maxJoinsPerEpoch per epoch so
// a burst of new identities cannot reshape the ring at once; under `allowlist` only
// the operator admits. Either way the node becomes a member at the next epoch.
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

export class Admission {
  private readonly policy: AdmissionPolicy;
  private readonly maxJoinsPerEpoch: number;
  /** Admitted, not yet in an epoch; in admission order (hex ids). */
  private readonly pendingSet = new Set<string>();

  constructor(policy: AdmissionPolicy, maxJoinsPerEpoch: number) {
    this.policy = policy;
    this.maxJoinsPerEpoch = maxJoinsPerEpoch;
  }

  /**
   * Judges a join request. `isMember` is for the current epoch; `barred` says why
   * a node may not come (or stay) in, e.g. banned or below the eviction line.
   */
  decideJoin(network: string, verifier: Verifier, join: JoinRequest, isMember: (node: string) => boolean, barred: (node: string) => ReasonCode | undefined): JoinDecision {
    if (!verify(JoinCodec, network, verifier, join.node, join)) return { kind: 'refuse', code: Reason.BAD_SIGNATURE, why: 'join request not signed by the node' };
    const id = toHex(join.node);
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

  /** Live and on restore. */
  apply(node: Bytes): void {
    this.pendingSet.add(toHex(node));
  }
  /** An epoch was made: every pending admission was taken in or dropped. */
  clear(): void {
    this.pendingSet.clear();
  }
}
