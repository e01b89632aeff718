// The face the node machine shows its drivers. The daemon and the
// simulator are written against it; node/core/node-machine.ts implements it.
import type { Bytes } from '../../protocol/bytes.ts';
import type { ReasonCode } from '../../protocol/errors.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import type { Message } from '../../protocol/messages.ts';
import type { Alert, Bundle, Certificate, EpochRecord, Evidence, Notice, Repudiation, Transfer } from '../../protocol/objects.ts';
import type { Address, Clock, Output, Random, RecordReader, RecordSource } from '../../protocol/ports.ts';
import type { SignatureScheme, Signer } from '../../protocol/signature.ts';

import type { TransferStatus } from '../../protocol/wait-levels.ts';
export type { TransferStatus };

/** What a gateway knows of a transfer it handled (or a storage node of a stored one). */
export type TransferView = {
  readonly transferId: Bytes;
  readonly status: TransferStatus;
  readonly reason?: ReasonCode;
  readonly detail?: string;
  readonly transfer?: Transfer;
  readonly certificate?: Certificate;
  readonly bundle?: Bundle;
  /** Gateway-clock times of each status reached, ms. */
  readonly times: Partial<Record<TransferStatus, number>>;
};

/** One replica's view of an account. */
export type AccountView = {
  readonly account: Bytes;
  /** Credits applied minus debits locked. */
  readonly balance: bigint;
  readonly seq: number;
  /** Id of the transfer at `seq` (the `prev` of the next one), or null. */
  readonly head: Bytes | null;
  readonly frozen: boolean;
  /** False while a new custodian is still pulling this account (protocol.md §7). */
  readonly synced: boolean;
  /** Sum of credits applied at this replica (optional: for checkers of protocol.md §9 I1/I4). */
  readonly credited?: bigint;
};

/** Observable facts, for metrics, the simulator's checker and the API. No protocol meaning. */
export type NodeEvent =
  | { readonly type: 'status'; readonly transferId: Bytes; readonly status: TransferStatus; readonly reason?: ReasonCode }
  | { readonly type: 'locked'; readonly transfer: Transfer }
  | { readonly type: 'certified'; readonly certificate: Certificate }
  | { readonly type: 'credited'; readonly transferId: Bytes; readonly to: Bytes; readonly amount: bigint }
  | { readonly type: 'stored'; readonly transferId: Bytes }
  | { readonly type: 'rejected'; readonly transferId: Bytes; readonly reason: ReasonCode; readonly detail: string }
  | { readonly type: 'notice-sent'; readonly notice: Notice }
  | { readonly type: 'frozen'; readonly account: Bytes }
  | { readonly type: 'alert'; readonly alert: Alert }
  | { readonly type: 'epoch'; readonly epoch: number }
  /** This node took over a transfer whose gateway went quiet (protocol.md §5a), starting in `phase`. */
  | { readonly type: 'takeover'; readonly transferId: Bytes; readonly phase: 'voting' | 'crediting' };

export type NodeOptions = {
  /** Resend a vote, credit or store request not answered within this long. */
  readonly retryMs: number;
  /** Give up re-sending (the transfer stays pending) after this many tries. */
  readonly maxRetries: number;
  /** Anti-entropy: one digest round per this long. */
  readonly antiEntropyMs: number;
  /**
   * Take-over (protocol.md §5a): a watched transfer not finished this long after its
   * gateway's last sign of life is checked, and the watcher of rank r takes it over
   * r × takeoverMs / 2 later (default 10 s).
   */
  readonly takeoverMs?: number;
  /**
   * Votes of the previous epoch still count toward a new certificate for this long after
   * a node learns a new epoch (protocol.md §7, Vote freshness): in-flight transfers finish
   * across an epoch change. Longer than the gateway's retry horizon (retryMs · maxRetries).
   */
  readonly handoffWindowMs: number;
  /** Stored transfers whose views the gateway keeps (default MAX_FINISHED_VIEWS); the simulator, which never reads them, keeps none. */
  readonly maxFinishedViews?: number;
  /** Views that ended without a certificate (rejected, conflict, given up) the gateway keeps (default MAX_PARKED_VIEWS). */
  readonly maxParkedViews?: number;
  /**
   * False: the machine writes no durable records (Output.persist stays empty) and skips
   * encoding them. Only for a driver that will never restart it from a store (the
   * simulator's runs without restarts); a daemon is always durable (protocol.md §8).
   */
  readonly durable?: boolean;
  /**
   * Stored bundles kept in memory as their encoded bytes (~1.6 KB), decoded when read,
   * rather than as objects (~9 KB with their signatures' payloads and ids): a node holds
   * every bundle it stores for good. Default true. The simulator turns it off: there the
   * k replicas of a bundle share one object, and encoding it would be extra work.
   */
  readonly compactBundles?: boolean;
  /** Bundles stored before the last anti-entropy round that one round names again (default MAX_SWEPT_BUNDLES_PER_ROUND). */
  readonly sweptBundlesPerRound?: number;
  /** Accounts unchanged since the last anti-entropy round that one round names again (default MAX_SWEPT_ACCOUNTS_PER_ROUND). */
  readonly sweptAccountsPerRound?: number;
};

export const DEFAULT_NODE_OPTIONS: NodeOptions = { retryMs: 1_000, maxRetries: 30, antiEntropyMs: 30_000, handoffWindowMs: 60_000 };

export type NodeInit = {
  readonly genesis: Genesis;
  /** The node's own key: node id = its public key. */
  readonly signer: Signer;
  readonly scheme: SignatureScheme;
  readonly clock: Clock;
  readonly random: Random;
  /** Durable records from an earlier run, replayed at construction. */
  readonly restore?: RecordSource;
  /**
   * The node's records, read while it runs. Given to a durable machine, it keeps only
   * its working set in memory (recent locks and credits of each account, ids of
   * nothing stored) and reads older history back from here, so its memory no longer
   * grows with every transfer. Absent: history stays in memory (the simulator's runs).
   */
  readonly records?: RecordReader;
  readonly options?: Partial<NodeOptions>;
};

/**
 * One replica's record of an account's movements: the credits it applied (exactly
 * once, by transfer id; the custodian keeps ids and amounts only) and the debits it
 * locked, as far as this replica holds them (a handoff carries only recent locks).
 */
export type AccountHistory = {
  readonly account: Bytes;
  readonly credits: readonly { readonly transferId: Bytes; readonly amount: bigint }[];
  /** By seq, ascending. `certified`: at or below the highest seq this replica knows certified. */
  readonly debits: readonly { readonly seq: number; readonly transferId: Bytes; readonly to: Bytes; readonly amount: bigint; readonly certified: boolean }[];
  /** False while a new custodian is still pulling this account (protocol.md §7). */
  readonly synced: boolean;
};

export interface NodeMachineApi {
  readonly id: Bytes;
  /** A wallet's signed transfer arrives at this node acting as its gateway. */
  submit(transfer: Transfer): Output<NodeEvent>;
  /** A message from a peer or the mint. Bad input gives a reject message or nothing, never a throw. */
  receive(from: Address, msg: Message): Output<NodeEvent>;
  /** Timers: retries, handoff, anti-entropy. Call every ~100 ms of (virtual) time. */
  tick(): Output<NodeEvent>;
  /**
   * Optional: the earliest (virtual) time at which tick() could do anything; +Infinity when
   * nothing is scheduled. Any submit or receive may make it earlier, so a driver that skips
   * idle ticks re-reads it after every step of the machine.
   */
  nextWakeupAt?(): number;
  transfer(transferId: Bytes): TransferView | undefined;
  account(account: Bytes): AccountView | undefined;
  bundle(transferId: Bytes): Bundle | undefined;
  /** Optional: whether a bundle from outside holds against this node's epochs (its votes and receipts). */
  checkBundle?(bundle: Bundle): boolean;
  alerts(): readonly Alert[];
  currentEpoch(): EpochRecord;
  /** Optional: ask the storage nodes for a bundle this node lacks; when it arrives, bundle() returns it. */
  lookup?(transferId: Bytes): Output<NodeEvent>;
  /** Optional: this replica's credits and debits of `account`; undefined when it holds nothing of it. Read-only. */
  history?(account: Bytes): AccountHistory | undefined;
  /** Optional: how much history the machine holds in memory (metrics; with a records reader it stays bounded). */
  held?(): HeldHistory;
  /** Optional: accounts being pulled from their custodians now (handoff, or re-sync after a restore); readiness reads it. */
  syncing?(): number;
  /** Optional: watches and take-overs so far (metrics, protocol.md §5a). */
  completionStats?(): CompletionStats;
  /** The newest epoch this node knows exists; above currentEpoch() while it catches up. */
  knownEpochHead?(): number;
  /** Epoch record n, when this node holds it. */
  epochRecord?(n: number): EpochRecord | undefined;
}

/**
 * A node machine a driver restores by streaming its records (a daemon: a restart's
 * memory stays bounded however long the node's history), instead of NodeInit.restore.
 */
export interface RestorableNodeMachine extends NodeMachineApi {
  /** The record prefixes to stream, in this order. */
  restorePrefixes(): readonly string[];
  /** One record, in prefix order and key order within a prefix. */
  restoreRecord(key: string, value: Bytes): void;
  /** After the last record. */
  finishRestore(): void;
}

/** Counts of what a node machine holds in memory: accounts, their locks and credits, and stored bundles. */
export type HeldHistory = {
  readonly accounts: number;
  readonly locks: number;
  readonly credits: number;
  readonly bundles: number;
  /** Credits peers reported (handoff, anti-entropy) that are not applied here yet. */
  readonly reportedCredits: number;
};


/** A node's watches and take-overs so far (protocol.md §5a; node/core/completion.ts). */
export type CompletionStats = {
  /** Transfers watched now. */
  readonly watching: number;
  /** Take-overs started, by the phase they started in. */
  readonly takeovers: { readonly voting: number; readonly crediting: number };
  /** Watches given up after MAX_TAKEOVERS tries (left to the wallet). */
  readonly abandoned: number;
  /** Watches ended by a gateway's `done`. */
  readonly clearedByDone: number;
  /** Watches ended by what this node saw itself (its gateway finished it, or it stores the bundle). */
  readonly clearedHere: number;
  /** Watches not started because MAX_WATCHES were held. */
  readonly dropped: number;
  /** Entries of the start-order queue held (live watches' starts, and passed ones not compacted yet). */
  readonly queued: number;
};
