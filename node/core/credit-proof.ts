// Credits repaired on proof (protocol.md §7): a credit that fewer than f + 1 reporters
// of a pool list (at k = q a co-custodian down leaves one live peer that holds it) is
// applied only on its bundle, from this node's store or a `lookup` at one of the
// transfer's storage nodes. A bundle that checks (q votes of the sender's custodians,
// q receipts of the recipient's) proves the credit whoever named it: the transfer,
// its recipient and amount are read from the bundle, never from the report, so a lone
// liar can name credits but make none, and its made-up ids cost it a message each.
import { equal, toHex, type Bytes } from '../../protocol/bytes.ts';
import { checkBundle } from '../../protocol/certificate.ts';
import { Rejection } from '../../protocol/errors.ts';
import { transferId, type Bundle } from '../../protocol/objects.ts';
import type { NodeContext } from './node-context.ts';

/** Credits whose proof is being looked up; past this the oldest is forgotten (the next report asks again). */
export const MAX_PROOF_LOOKUPS = 1 << 12;
/** Proof lookups one account state may start: a page of made-up credits buys a few small messages. */
export const MAX_PROOFS_PER_STATE = 4;

type Asked = { readonly to: string; readonly at: number; readonly tries: number };

/** A credit a bundle proved: its transfer id, recipient and amount, read from the bundle. */
export type Proved = { readonly id: Bytes; readonly idHex: string; readonly to: Bytes; readonly toHex: string; readonly amount: bigint };

export class CreditProofs {
  private readonly ctx: NodeContext;
  /** Transfer id hex -> the account whose reported credit it would prove, when it was last asked, and how often. */
  private readonly asked = new Map<string, Asked>();
  /** The bundle of a transfer if stored here (the node machine sets it). */
  bundleOf: (id: Bytes) => Bundle | undefined = () => undefined;

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
  }

  get size(): number {
    return this.asked.size;
  }

  /**
   * Looks for the proof of a credit of `toHex_` (at most once per retry interval, one
   * storage node at a time, the next on each try). Returns what a bundle stored here
   * proves at once; else 'asked' (a lookup's answer comes to onReply), or 'recent'
   * (asked within the retry interval, or nothing to ask).
   */
  ask(id: Bytes, idHex: string, toHex_: string): Proved | 'asked' | 'recent' {
    const ctx = this.ctx;
    const now = ctx.now();
    const before = this.asked.get(idHex);
    if (before !== undefined && now < before.at + ctx.options.retryMs) return 'recent';
    const local = this.bundleOf(id);
    if (local !== undefined) {
      const proved = this.proves(id, toHex_, local);
      if (proved !== null) return proved;
    }
    const others = ctx.ring.storage(id).filter((n) => !ctx.isMe(n));
    if (others.length === 0) return 'recent';
    const tries = (before?.tries ?? 0) + 1;
    this.asked.delete(idHex);
    this.asked.set(idHex, { to: toHex_, at: now, tries });
    if (this.asked.size > MAX_PROOF_LOOKUPS) this.asked.delete(this.asked.keys().next().value!);
    ctx.sendTo(others[(tries - 1) % others.length]!, { type: 'lookup', transferId: id });
    return 'asked';
  }

  /** A lookup's answer: what it proves, if its credit was asked for here and its bundle checks. */
  onReply(id: Bytes, bundle: Bundle | null): Proved | null {
    if (bundle === null) return null;
    const idHex = toHex(id);
    const asked = this.asked.get(idHex);
    if (asked === undefined) return null;
    const proved = this.proves(id, asked.to, bundle);
    if (proved !== null) this.asked.delete(idHex);
    return proved;
  }

  /** The bundle is of transfer `id`, pays `toHex_`, this node is its custodian, and it checks (votes and receipts; no freshness, protocol.md §7 Vote freshness rule 6). */
  private proves(id: Bytes, toHex_: string, bundle: Bundle): Proved | null {
    const ctx = this.ctx;
    const t = bundle.certificate.transfer;
    if (!equal(transferId(t), id) || toHex(t.to) !== toHex_ || !ctx.ring.isCustodian(ctx.id, t.to)) return null;
    try {
      checkBundle(bundle, ctx.check);
    } catch (e) {
      if (e instanceof Rejection) return null;
      throw e;
    }
    return { id, idHex: toHex(id), to: t.to, toHex: toHex_, amount: t.amount };
  }
}
