// The face the mint machine shows its drivers (the mint daemon and the simulator);
// mint/core/mint-machine.ts implements it.
import type { Bytes } from '../../protocol/bytes.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import type { Message } from '../../protocol/messages.ts';
import type { Alert, EpochRecord, Evidence, Notice, Repudiation, Transfer } from '../../protocol/objects.ts';
import type { Address, Clock, Output, RecordSource } from '../../protocol/ports.ts';
import type { SignatureScheme, Signer } from '../../protocol/signature.ts';

export type ReputationEvent = {
  readonly seq: number;
  readonly node: Bytes;
  readonly delta: number;
  readonly score: number;
  readonly reason: 'valid-notice' | 'duplicate-notice' | 'invalid-notice' | 'equivocation' | 'decay';
  readonly epoch: number;
  readonly at: number;
  /** Mint signature over the event's canonical bytes. */
  readonly sig: Bytes;
};

export type MintEvent =
  | { readonly type: 'issued'; readonly transfer: Transfer }
  /** An issuance not yet seen stored was handed to another gateway (attempt n). */
  | { readonly type: 'redriven'; readonly transfer: Transfer; readonly attempt: number }
  | { readonly type: 'alert'; readonly alert: Alert; readonly evidence: Evidence }
  | { readonly type: 'repudiation'; readonly repudiation: Repudiation }
  | { readonly type: 'reputation'; readonly event: ReputationEvent }
  | { readonly type: 'epoch'; readonly record: EpochRecord }
  | { readonly type: 'admitted'; readonly node: Bytes }
  | { readonly type: 'evicted'; readonly node: Bytes; readonly why: string };

export type MintOptions = {
  /** A new epoch is made at most this often, and only when membership changed. */
  readonly epochIntervalMs: number;
  /** Open admission: at most this many new members per epoch (default: admission.ts joinCapFor(q)). */
  readonly maxJoinsPerEpoch: number;
  /**
   * An issuance not seen stored this long after it went to a gateway goes to the next
   * one (then 2×, 4×, 8× as long); after a restart every pending one goes at once.
   * 0: off (a driver that resubmits itself, as the simulator's wallet model does).
   */
  readonly redriveMs: number;
  /**
   * A member that has sent no reachability report for this long, and that minReporters
   * others report unreachable, is evicted at the next epoch (protocol.md §7, Failure
   * detection). Infinity: never.
   */
  readonly evictAfterMs: number;
  readonly minReporters: number;
  /** Evictions for silence per epoch (default max(1, k - q): every group keeps q old custodians to hand off from). */
  readonly maxEvictionsPerEpoch: number;
};

/** maxJoinsPerEpoch here is only a placeholder: the machine derives it from the genesis q unless given. */
export const DEFAULT_MINT_OPTIONS: MintOptions = { epochIntervalMs: 5_000, maxJoinsPerEpoch: 1, redriveMs: 0, evictAfterMs: Infinity, minReporters: 1, maxEvictionsPerEpoch: 1 };

export type MintInit = {
  readonly genesis: Genesis;
  /** The mint key (its public key is genesis.mintKey). */
  readonly signer: Signer;
  readonly scheme: SignatureScheme;
  readonly clock: Clock;
  readonly restore?: RecordSource;
  readonly options?: Partial<MintOptions>;
};

export interface MintMachineApi {
  /** Signs an issuance transfer to `to` (next mint seq) and hands it to a gateway node via a 'submit' message. */
  issue(to: Bytes, amount: bigint, memo?: Bytes): { transfer: Transfer; output: Output<MintEvent> };
  /** Notices and join requests from nodes. */
  receive(from: Address, msg: Message): Output<MintEvent>;
  /** Operator admission (allowlist policy), effective next epoch. */
  admit(node: Bytes): Output<MintEvent>;
  /** Epoch creation and decay timers. */
  tick(): Output<MintEvent>;
  currentEpoch(): EpochRecord;
  epoch(n: number): EpochRecord | undefined;
  reputation(): ReadonlyMap<string, number>;
  reputationEvents(): readonly ReputationEvent[];
  notices(): readonly { readonly notice: Notice; readonly verdict: 'alert' | 'duplicate' | 'repudiated' | 'graylisted'; readonly at: number }[];
  issuedTotal(): bigint;
}
