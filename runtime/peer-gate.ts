// Who may say what (docs/security.md, Membership): the first check on every frame a peer
// sends on /ringmint/1/msg, made on the peer's authenticated key and the frame's
// first byte (its message tag) only, before the frame is decoded, any signature is
// checked or any state changes. A node acts on messages from the mint and from
// members of the epochs it accepts (the current one and the one before); the mint
// takes join requests from anyone and everything else from members only.
import { toHex, type Bytes } from '../protocol/bytes.ts';
import { MessageTag } from '../protocol/messages.ts';
import type { EpochRecord } from '../protocol/objects.ts';

/** Why a frame was dropped before decoding: the `reason` label of ringmint_peer_rejected_total. */
export const RejectReason = {
  /** The sender is not a member of an accepted epoch (nor the mint). */
  nonMember: 'non-member',
  /** A request a non-member may make, past its budget (the mint's join requests). */
  overBudget: 'over-budget',
  /** A message type this sender never sends to this role (e.g. a submit from a node). */
  wrongType: 'wrong-type',
  /** The frame could not be decoded. */
  malformed: 'malformed',
  /** A frame header over MAX_FRAME_BYTES: the stream is aborted. */
  oversized: 'oversized',
  /** A frame left half-sent past the partial-frame timeout: the stream is aborted. */
  partialTimeout: 'partial-timeout',
  /** The peer is banned (a frame already in flight when the ban began). */
  banned: 'banned',
  /** Gossip that failed its topic validator. */
  gossip: 'gossip',
} as const;
export type RejectReasonCode = (typeof RejectReason)[keyof typeof RejectReason];

/** Messages a node takes from a member node: the node-to-node protocol (protocol.md §5-7). */
const NODE_TO_NODE = new Set<number>([
  MessageTag['vote-request'], MessageTag.vote, MessageTag.reject, MessageTag.conflict, MessageTag.certified,
  MessageTag['credit-request'], MessageTag.receipt, MessageTag.store, MessageTag.stored, MessageTag.lookup,
  MessageTag['lookup-reply'], MessageTag['account-pull'], MessageTag['account-state'], MessageTag.digest,
  MessageTag.done,
  // Catch-up from a peer (protocol.md §7, Catch-up): the records are mint-signed and checked as a chain.
  MessageTag['epoch-request'], MessageTag.epoch,
]);
/** Every tag a message may have; a frame with another first byte is left to the decoder (malformed). */
const KNOWN = new Set<number>(Object.values(MessageTag));
/**
 * The requests the mint takes from a peer that is not a member, within the join budget:
 * asking to be admitted, and asking for the epochs it missed (an evicted node must
 * catch up to learn it is outside).
 */
const NON_MEMBER_TO_MINT = new Set<number>([MessageTag.join, MessageTag['epoch-request']]);

/** The epochs a host accepts: the current one, and the one before it when known. */
export type EpochSource = {
  readonly current: () => EpochRecord;
  readonly byNumber: (n: number) => EpochRecord | undefined;
};

export type Verdict = { readonly ok: true; readonly member: boolean } | { readonly ok: false; readonly reason: RejectReasonCode; readonly member: boolean };

const OK_MEMBER: Verdict = { ok: true, member: true };
const OK_OTHER: Verdict = { ok: true, member: false };
const NON_MEMBER: Verdict = { ok: false, reason: RejectReason.nonMember, member: false };
const WRONG_TYPE: Verdict = { ok: false, reason: RejectReason.wrongType, member: true };

export class PeerGate {
  private readonly role: 'node' | 'mint';
  private readonly mintHex: string;
  private readonly epochs: EpochSource | null;
  private forEpoch = -1;
  private members = new Set<string>();

  /** `epochs` null: every peer counts as a member (a host outside a ring, e.g. in a unit test). */
  constructor(role: 'node' | 'mint', mintKey: Bytes, epochs: EpochSource | null) {
    this.role = role;
    this.mintHex = toHex(mintKey);
    this.epochs = epochs;
  }

  /** Whether `peerHex` is a member of an accepted epoch (recomputed once per epoch change). */
  isMember(peerHex: string): boolean {
    if (this.epochs === null) return true;
    const cur = this.epochs.current();
    if (cur.epoch !== this.forEpoch) {
      const set = new Set<string>();
      for (const m of cur.members) set.add(toHex(m));
      const prev = cur.epoch > 0 ? this.epochs.byNumber(cur.epoch - 1) : undefined;
      if (prev !== undefined) for (const m of prev.members) set.add(toHex(m));
      this.members = set;
      this.forEpoch = cur.epoch;
    }
    return this.members.has(peerHex);
  }

  /** The verdict on one frame from `peerHex` whose first byte is `tag` (a frame with no byte: tag -1). */
  check(peerHex: string, tag: number): Verdict {
    if (peerHex === this.mintHex) return this.role === 'node' ? OK_MEMBER : WRONG_TYPE;
    const member = this.isMember(peerHex);
    if (this.role === 'mint') {
      if (NON_MEMBER_TO_MINT.has(tag)) return member ? OK_MEMBER : OK_OTHER;
      return member ? OK_MEMBER : NON_MEMBER;
    }
    if (!member) return NON_MEMBER;
    return NODE_TO_NODE.has(tag) || !KNOWN.has(tag) ? OK_MEMBER : WRONG_TYPE;
  }
}
