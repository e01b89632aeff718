// What the parts of a node machine (custodian, gateway, storage, handoff,
// anti-entropy) share: identity, ports, the known epochs and the step's Output.
// One step = one call on NodeMachine; every part writes into the step's output (`step`, protocol/ports.ts StepOutput).
import { hexOf, toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import type { Message } from '../../protocol/messages.ts';
import { epochHash, encodeWith, writeEpoch, type EpochRecord } from '../../protocol/objects.ts';
import type { NodeEvent, NodeOptions } from './api.ts';
import type { CheckContext } from '../../protocol/certificate.ts';
import { StepOutput, type Clock, type Output, type Random, type RecordReader } from '../../protocol/ports.ts';
import { Ring, validateEpoch } from '../../protocol/ring.ts';
import type { SignatureScheme, Signer } from '../../protocol/signature.ts';
import { isRecordKey, Keys } from './record-keys.ts';
import { assert } from '../../protocol/assert.ts';

/**
 * Rings are shared by every machine of one process (the simulator runs 100k):
 * one Ring per epoch record object, and one validation per (record, prev) pair.
 */
const ringOfRecord = new WeakMap<EpochRecord, Ring>();
const validated = new WeakMap<EpochRecord, EpochRecord | null>();

/**
 * Records decoded separately (a node restored from disk) are other objects with
 * the same hash: rings are also shared by epoch hash. Bounded: only recent epochs matter.
 */
const ringByHash = new Map<string, Ring>();
const RING_BY_HASH_LIMIT = 64;

/** Forgets the rings shared by epoch hash (process-tuning.ts). */
export function clearSharedRings(): void {
  ringByHash.clear();
}

export function sharedRing(record: EpochRecord): Ring {
  let r = ringOfRecord.get(record);
  if (r) return r;
  const key = `${record.network}/${toHex(epochHash(record))}`;
  r = ringByHash.get(key);
  if (!r) {
    r = new Ring(record);
    if (ringByHash.size >= RING_BY_HASH_LIMIT) ringByHash.delete(ringByHash.keys().next().value!);
    ringByHash.set(key, r);
  }
  ringOfRecord.set(record, r);
  return r;
}

function validateOnce(record: EpochRecord, mintKey: Bytes, scheme: SignatureScheme, prev?: EpochRecord): void {
  const seen = validated.get(record);
  if (seen !== undefined && seen === (prev ?? null)) return;
  validateEpoch(record, mintKey, scheme, prev);
  validated.set(record, prev ?? null);
}

/** Hex of node ids, cached per Bytes object (ring members are the same objects every time). */
export { hexOf };

export class NodeContext {
  readonly network: string;
  readonly genesis: Genesis;
  readonly scheme: SignatureScheme;
  readonly signer: Signer;
  readonly id: Bytes;
  readonly idHex: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly options: NodeOptions;
  readonly mintHex: string;
  /** Whether persist records are written at all (NodeOptions.durable). */
  readonly durable: boolean;
  /**
   * The node's records while it runs (NodeInit.records), when durable: history is then
   * read back from them and not kept in memory. Null: every part keeps its history.
   */
  readonly reader: RecordReader | null;
  /** The current step's output; NodeMachine swaps in a fresh one per step. */
  readonly step = new StepOutput<NodeEvent>();
  get out(): Output<NodeEvent> {
    return this.step.out;
  }
  /** Known epoch records by number, contiguous from 0 to current. */
  private readonly records: EpochRecord[] = [];
  /** Nodes whose votes are void (proven equivocators). */
  readonly voids = new Set<string>();
  readonly check: CheckContext;
  /** `check` plus vote freshness: for a certificate this node has not accepted before (protocol.md §7, Vote freshness). */
  readonly freshCheck: CheckContext;
  /**
   * This node knows of a later epoch than its newest one (a signed record arrived ahead
   * of a gap): it votes for nothing and accepts no new certificate until it has caught up.
   */
  behind = false;
  /**
   * The highest epoch a peer's signed object (vote, receipt, certificate, digest) named
   * beyond this node's newest: not mint-signed, so it does not mark the node behind; it
   * only has catch-up ask the mint for records (catch-up.ts), once per request interval.
   */
  epochHint = 0;
  /** When this node learned its newest epoch, by its own clock (a restart counts as learning it anew). */
  private learnedAt: number;

  constructor(genesis: Genesis, signer: Signer, scheme: SignatureScheme, clock: Clock, random: Random, options: NodeOptions, reader?: RecordReader) {
    this.network = genesis.network;
    this.genesis = genesis;
    this.scheme = scheme;
    this.signer = signer;
    this.id = signer.publicKey;
    this.idHex = toHex(this.id);
    this.clock = clock;
    this.random = random;
    this.options = options;
    this.durable = options.durable !== false;
    this.reader = this.durable && reader !== undefined ? reader : null;
    this.mintHex = toHex(genesis.mintKey);
    this.records.push(genesis.epoch0);
    this.check = {
      network: this.network,
      verifier: scheme,
      ringOf: (n) => this.ringOf(n),
      // No isVoid here: certificates stay valid forever (protocol.md §7). An equivocator's
      // votes are void for certificates gathered after its alert (the gateway skips
      // them); one already formed keeps q >= k/2 + 1 votes, so with at most 2q - k - 1
      // equivocators per group no rival certificate can exist, and voiding it after
      // the fact would strand a final debit without its credit (I1, I4).
    };
    this.learnedAt = clock.now();
    this.freshCheck = { ...this.check, fresh: (e) => this.isFresh(e) };
  }

  get epoch(): number {
    return this.records.length - 1;
  }
  get ring(): Ring {
    return sharedRing(this.records[this.records.length - 1]!);
  }
  get record(): EpochRecord {
    return this.records[this.records.length - 1]!;
  }
  ringOf(n: number): Ring | undefined {
    const r = this.records[n];
    if (r === undefined) {
      this.noteEpoch(n);
      return undefined;
    }
    return sharedRing(r);
  }
  /** A peer named epoch `n`: a node cut off from the mint's broadcasts learns here of the epochs it missed. */
  noteEpoch(n: number): void {
    if (n > this.epoch && n > this.epochHint) this.epochHint = n;
  }
  recordOf(n: number): EpochRecord | undefined {
    return this.records[n];
  }

  /**
   * Whether votes of epoch `e` count toward a new certificate here (protocol.md §7, Vote
   * freshness): the newest epoch while not behind, or the one before it for
   * handoffWindowMs after this node learned the newest.
   */
  isFresh(e: number): boolean {
    if (this.behind) return false;
    const c = this.records.length - 1;
    if (e === c) return true;
    return e === c - 1 && this.clock.now() - this.learnedAt <= this.options.handoffWindowMs;
  }

  /** Adds the next epoch after checking its signature and chain link; throws Rejection otherwise. */
  addEpoch(record: EpochRecord, persist: boolean): void {
    if (record.epoch !== this.records.length) throw new Rejection(Reason.UNKNOWN_EPOCH, `epoch ${record.epoch} does not follow ${this.epoch}`);
    if (record.network !== this.network) throw new Rejection(Reason.WRONG_NETWORK, `epoch of network ${record.network}`);
    validateOnce(record, this.genesis.mintKey, this.scheme, this.record);
    this.records.push(record);
    this.learnedAt = this.clock.now();
    if (persist) this.persist(Keys.epoch(record.epoch), encodeWith(record, writeEpoch));
  }

  epochHashOf(n: number): Bytes | undefined {
    const r = this.records[n];
    return r ? epochHash(r) : undefined;
  }

  sendTo(node: Bytes, msg: Message): void {
    this.step.send({ node: hexOf(node) }, msg);
  }
  sendHex(node: string, msg: Message): void {
    this.step.send({ node }, msg);
  }
  sendMint(msg: Message): void {
    this.step.send({ mint: true }, msg);
  }
  persist(key: string, value: Bytes | null): void {
    assert(isRecordKey(key), `persist of a key outside the record table: ${key}`);
    if (this.durable) this.step.persist(key, value);
  }
  /**
   * A record as this node last wrote it: this step's own writes first (the driver has
   * not been handed them yet), then the reader. Only with a reader.
   */
  read(key: string): Bytes | undefined {
    // Steps write a handful of records; a handoff step writing many reads few.
    const p = this.out.persist;
    for (let i = p.length - 1; i >= 0; i--) {
      const r = p[i]!;
      if (r.key === key) return r.value ?? undefined;
    }
    return this.reader!.get(key);
  }
  emit(e: NodeEvent): void {
    this.step.event(e);
  }
  now(): number {
    return this.clock.now();
  }
  isMe(node: Bytes): boolean {
    return hexOf(node) === this.idHex;
  }
}


