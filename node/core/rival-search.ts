// Equivocation hunting (protocol.md §6): a gateway whose transfer ended in `conflict`
// looks up the winning rival's stored bundle and compares the votes in its certificate
// with the votes it holds for its own transfer; a custodian that voted for both is an
// equivocator, and its two votes are the evidence it sends the mint.
import { equal, type Bytes } from '../../protocol/bytes.ts';
import { NoticeCodec, equivocationEvidence, sign, type Evidence, type Vote } from '../../protocol/objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import type { BundleSource, Pending } from './gateway-views.ts';

/**
 * A conflicted transfer whose rival's certificate is still sought: a custodian
 * that voted for both is an equivocator, and its two votes are the evidence (protocol.md §6).
 */
type RivalSearch = { readonly rivalId: Bytes; tries: number; nextTry: number };

/** Rival searches at once; past this a new conflict is not searched (its double spend is still reported). */
export const MAX_RIVAL_SEARCHES = 4096;

export class RivalSearches {
  private readonly ctx: NodeContext;
  private readonly bundles: BundleSource;
  private readonly rivals = new Map<Pending, RivalSearch>();

  constructor(ctx: NodeContext, bundles: BundleSource) {
    this.ctx = ctx;
    this.bundles = bundles;
  }

  /** Starts looking for the bundle of the transfer that beat `p` (once per transfer, within the bound). */
  start(p: Pending, rivalId: Bytes): void {
    if (!this.rivals.has(p) && this.rivals.size < MAX_RIVAL_SEARCHES) this.rivals.set(p, { rivalId, tries: 0, nextTry: this.ctx.now() });
  }

  /**
   * Looks up each rival's bundle until it is stored (or tries run out) and compares
   * its certificate's votes with the votes this gateway holds for its own transfer.
   */
  tick(now: number): void {
    const ctx = this.ctx;
    for (const [p, r] of this.rivals) {
      const bundle = this.bundles.get(r.rivalId);
      if (bundle) {
        for (const ev of equivocations(bundle.certificate.votes, p.votes)) {
          const notice = sign(NoticeCodec, ctx.network, ctx.signer, { evidence: ev, reporter: ctx.id });
          ctx.sendMint({ type: 'notice', notice });
          ctx.emit({ type: 'notice-sent', notice });
        }
        this.rivals.delete(p);
        continue;
      }
      if (r.nextTry > now) continue;
      if (r.tries >= ctx.options.maxRetries) {
        this.rivals.delete(p);
        continue;
      }
      r.tries++;
      r.nextTry = now + ctx.options.retryMs;
      this.bundles.lookup(r.rivalId);
    }
  }

  /** A rival whose bundle has arrived is compared at once; otherwise the earliest retry. */
  nextWakeupAt(): number {
    let at = Infinity;
    for (const r of this.rivals.values()) {
      if (this.bundles.get(r.rivalId)) return this.ctx.now();
      if (r.nextTry < at) at = r.nextTry;
    }
    return at;
  }

  /** Conflicts whose rival certificate is still sought. */
  get size(): number {
    return this.rivals.size;
  }
}

/** Pairs of votes by one voter for the same (from, seq, epoch) and different transfers. */
export function equivocations(rivalVotes: readonly Vote[], ownVotes: ReadonlyMap<number, ReadonlyMap<string, Vote>>): Evidence[] {
  const found: Evidence[] = [];
  for (const v of rivalVotes) {
    const mine = ownVotes.get(v.epoch)?.get(hexOf(v.voter));
    if (mine && mine.seq === v.seq && equal(mine.from, v.from) && !equal(mine.transferId, v.transferId)) {
      found.push(equivocationEvidence(mine, v));
    }
  }
  return found;
}
