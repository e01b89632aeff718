// A gateway's views of the transfers it drives (protocol.md §5), for GET
// /transfers/:id and for resubmits: every one in hand, the stored ones as a queue of
// the latest MAX_FINISHED_VIEWS, and those that ended without a certificate as an LRU
// of MAX_PARKED_VIEWS. Anyone can submit for free, so every view is bounded here.
import type { Bytes } from '../../protocol/bytes.ts';
import type { ReasonCode } from '../../protocol/errors.ts';
import type { TransferStatus, TransferView } from './api.ts';
import { decodeWith, encodeWith, readBundle, writeBundle, type Bundle, type Certificate, type Receipt, type Transfer, type Vote } from '../../protocol/objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import { recentEncoding } from './storage.ts';

export type Phase = 'voting' | 'crediting' | 'storing' | 'done';

export type Pending = {
  readonly transfer: Transfer;
  readonly id: Bytes;
  readonly idHex: string;
  status: TransferStatus;
  phase: Phase;
  reason?: ReasonCode;
  detail?: string;
  /** Votes by epoch, then by voter hex. */
  votes: Map<number, Map<string, Vote>>;
  /** Rejections by custodian hex: a reject counts once per custodian. */
  rejects: Map<string, ReasonCode>;
  certificate?: Certificate;
  receipts: Map<string, Receipt>;
  bundle?: Bundle;
  /**
   * A stored transfer's bundle, encoded: a finished view keeps these ~1.6 KB instead of
   * the certificate and bundle objects (~9 KB with their memos), and decodes on view().
   */
  storedBundle?: Bytes;
  /**
   * Storing: the storage nodes (hex) sent the bundle with `ack`, and those of them that
   * answered `stored` (this node too, when it stores its own copy). Dropped once stored.
   */
  asked?: Set<string>;
  acked?: Set<string>;
  times: Partial<Record<TransferStatus, number>>;
  tries: number;
  nextTry: number;
  conflictReported: boolean;
  /**
   * Crediting with a certificate whose epoch no longer counts toward a new one here
   * (protocol.md §7, Vote freshness): the current custodians of the sender, which hold
   * the lock by handoff, are asked to vote the same transfer again in their epoch.
   */
  refreshing?: boolean;
};

/** Where the gateway finds a rival transfer's stored bundle (the node's storage role). */
export type BundleSource = {
  get(id: Bytes): Bundle | undefined;
  /** Whether this node stores the bundle itself. */
  has(id: Bytes): boolean;
  lookup(id: Bytes): void;
  /** Checks and stores a bundle durably (this node as one of its storage nodes). */
  store(bundle: Bundle, replyTo: string | undefined): boolean;
};

/**
 * Finished transfers whose views a gateway keeps for GET /transfers/:id; past
 * this the oldest are forgotten (a storage node still answers for stored ones,
 * without the gateway's times). A finished view holds its transfer and its bundle
 * encoded (~3 KB; it held ~9 KB of objects before), so 16,384 of them are ~50 MB:
 * minutes of a busy gateway's transfers, far longer than a wallet polls one.
 */
export const MAX_FINISHED_VIEWS = 1 << 14;

/**
 * Views of transfers that ended without a certificate (rejected, conflict, or given up
 * while voting) that a gateway keeps, least recently touched first out. Anyone can
 * submit a forged or unfunded transfer for free, so these are bounded: a wallet reads
 * its rejection within seconds, and one evicted is answered again on resubmit.
 */
export const MAX_PARKED_VIEWS = 1 << 12;

export class GatewayViews {
  private readonly ctx: NodeContext;
  private readonly bundles: BundleSource;
  /** Every view held, by transfer id hex. */
  readonly byId = new Map<string, Pending>();
  /** Ids of stored transfers in the order they finished (a queue with a moving head). */
  private readonly finished: string[] = [];
  private finishedHead = 0;
  /** Views that ended without a certificate, oldest first (an LRU of MAX_PARKED_VIEWS). */
  private readonly parked = new Map<string, Pending>();

  constructor(ctx: NodeContext, bundles: BundleSource) {
    this.ctx = ctx;
    this.bundles = bundles;
  }

  get(idHex: string): Pending | undefined {
    return this.byId.get(idHex);
  }

  add(p: Pending): void {
    this.byId.set(p.idHex, p);
  }

  /** Forgets a view (a forged copy that shadowed the genuine transfer). */
  forget(idHex: string): void {
    this.byId.delete(idHex);
    this.parked.delete(idHex);
  }

  /** A parked view is in hand again (resubmitted, resumed or certified). */
  unpark(idHex: string): void {
    this.parked.delete(idHex);
  }

  view(id: Bytes): TransferView | undefined {
    const p = this.byId.get(hexOf(id));
    if (!p) return undefined;
    const bundle =
      p.storedBundle !== undefined ? decodeWith(this.ctx.network, p.storedBundle, readBundle)
      // Finished, and stored by this node: read back from its records (see onStored).
      : p.phase === 'done' && p.bundle === undefined ? this.bundles.get(p.id)
      : p.bundle;
    const certificate = bundle?.certificate ?? p.certificate;
    return {
      transferId: p.id,
      status: p.status,
      ...(p.reason !== undefined ? { reason: p.reason, detail: p.detail ?? '' } : {}),
      transfer: p.transfer,
      ...(certificate ? { certificate } : {}),
      ...(bundle ? { bundle } : {}),
      times: { ...p.times },
    };
  }

  /** A view that ended without a certificate joins the bounded LRU; past its limit the oldest is forgotten. */
  park(p: Pending, active: ReadonlySet<Pending>): void {
    this.parked.delete(p.idHex);
    this.parked.set(p.idHex, p);
    const max = this.ctx.options.maxParkedViews ?? MAX_PARKED_VIEWS;
    while (this.parked.size > max) {
      const [oldHex, old] = this.parked.entries().next().value!;
      this.parked.delete(oldHex);
      if (this.byId.get(oldHex) === old && old.phase === 'voting' && !active.has(old)) this.byId.delete(oldHex);
    }
  }

  /** A stored transfer's view joins the finished queue, kept encoded; past MAX_FINISHED_VIEWS the oldest go. */
  finish(p: Pending): void {
    const max = this.ctx.options.maxFinishedViews ?? MAX_FINISHED_VIEWS;
    if (max === 0) {
      this.byId.delete(p.idHex);
      return;
    }
    const b = p.bundle!;
    // A node that reads its records back and stores this bundle itself keeps no copy here.
    if (this.ctx.reader === null || !this.bundles.has(p.id)) p.storedBundle = recentEncoding(b, this.ctx.network, () => encodeWith(b, writeBundle));
    p.bundle = undefined;
    p.certificate = undefined;
    this.finished.push(p.idHex);
    while (this.finished.length - this.finishedHead > max) {
      const old = this.finished[this.finishedHead++]!;
      const q = this.byId.get(old);
      if (q && q.phase === 'done') this.byId.delete(old);
    }
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finished.length) {
      this.finished.splice(0, this.finishedHead);
      this.finishedHead = 0;
    }
  }

  /** Views held (active, finished and parked). */
  get size(): number {
    return this.byId.size;
  }
}
