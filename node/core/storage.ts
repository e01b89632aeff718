// Storage of receipt bundles (protocol.md §5 step 5): a checked bundle is stored durably and,
// when the gateway asks (`ack`), acknowledged; the gateway sends every storage node its
// copy. Any node answers a lookup, from its own store or by asking the
// bundle's storage nodes.
import { fromHex, type Bytes } from '../../protocol/bytes.ts';
import { checkBundle } from '../../protocol/certificate.ts';
import { Rejection } from '../../protocol/errors.ts';
import { IdFilter } from './id-filter.ts';
import { decodedEncoding, decodeWith, encodeWith, readBundle, transferId, writeBundle, type Bundle } from '../../protocol/objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import { Keys } from './record-keys.ts';


/** Lookups this node has asked peers about and not yet heard back on; bounded so lookups cannot grow memory. */
const MAX_OPEN_LOOKUPS = 4096;

/**
 * Record encodings of recent objects (bundles, locked transfers, certificates), by
 * object: in the simulator the k storage nodes of a bundle, or the k custodians of an
 * account, get the same object within milliseconds and write the same bytes. Bounded,
 * first in first out, not weak: these objects live as long as their nodes, and an
 * encoding kept as long costs ~1.2 KB per bundle for nothing. A daemon keeps far
 * fewer (DAEMON_RECENT_KEEP). Values are read-only.
 */
const recent = new Map<object, { readonly network: string; readonly bytes: Bytes }>();
export const RECENT_KEEP = 8192;
/**
 * The cached objects in insertion order, a ring: evicting through `recent.keys().next()`
 * scans the holes V8 leaves at the front of a Map after deletes, ~2.8 µs per insert
 * at 8,192 entries against ~0.13 µs here.
 */
let recentKeep = RECENT_KEEP;
let recentOrder: (object | undefined)[] = new Array(RECENT_KEEP);
let recentHead = 0;

/**
 * How many recent encodings a daemon keeps. In a daemon only a gateway's own bundle
 * and certificate are encoded twice (stored and kept in its view), within the same
 * few milliseconds; everything else is decoded from its messages and never hits. The
 * simulator's 8,192 kept the last 8,192 bundles and certificates alive in a daemon,
 * each with every view of its decoding: ~30 MB a node, old enough to be copied by
 * every scavenge.
 */
export const DAEMON_RECENT_KEEP = 512;

/** Sets how many recent encodings are kept (process-tuning.ts); forgets those kept so far. */
export function keepRecentEncodings(n: number): void {
  recentKeep = Math.max(1, n);
  recent.clear();
  recentOrder = new Array(recentKeep);
  recentHead = 0;
}

export function recentEncoding(obj: object, network: string, encode: () => Bytes): Bytes {
  const seen = recent.get(obj);
  if (seen !== undefined && seen.network === network) return seen.bytes;
  const bytes = encode();
  if (seen === undefined) {
    const oldest = recentOrder[recentHead];
    if (oldest !== undefined) recent.delete(oldest);
    recentOrder[recentHead] = obj;
    recentHead = (recentHead + 1) % recentKeep;
  }
  recent.set(obj, { network, bytes });
  return bytes;
}

/** A stored bundle: the object, or (NodeOptions.compactBundles) its id and encoding. */
type Shelved = Bundle | { readonly id: Bytes; readonly bytes: Bytes };

/**
 * Ids of the newest bundles a node with a reader keeps at hand: anti-entropy names
 * every bundle stored since the last round (~30 s, tens of thousands at full load),
 * to peers that mostly hold them too, and each one would otherwise be a store read.
 * About 7 MB.
 */
const RECENT_BUNDLE_IDS = 1 << 15;

/** Record key of the n-th bundle this node stored (store order, for anti-entropy): its transfer id. */

export class Storage {
  private readonly ctx: NodeContext;
  /** Stored bundles by transfer id hex; empty when the node's records hold them (ctx.reader). */
  private readonly bundles = new Map<string, Shelved>();
  /** Ids in store order (bundles are never removed): anti-entropy names recent ones and sweeps the rest. Empty with a reader (`o/` records). */
  private readonly order: Bytes[] = [];
  /** Bundles stored so far (with a reader: the next `o/` index). */
  private stored = 0;
  private readonly compact: boolean;
  /** With a reader: every bundle stored here, so a new one is known new without a store read. */
  private readonly filter = new IdFilter();
  /** With a reader: the ids of the newest RECENT_BUNDLE_IDS bundles, by store index modulo, and as hex. */
  private readonly recentIds: (Bytes | undefined)[] = [];
  private readonly recentHex = new Set<string>();
  /** Transfer id hex -> peers (hex) that asked us and wait for a lookup-reply. */
  private readonly waiting = new Map<string, Set<string>>();

  /** A bundle was stored here: the transfer is finished (completion.ts stops watching it). */
  onStored: (id: Bytes) => void = () => {};

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
    this.compact = ctx.options.compactBundles !== false;
  }

  /** The stored bundle (a fresh object each call when bundles are kept compact or on disk). */
  get(id: Bytes): Bundle | undefined {
    const idHex = hexOf(id);
    if (this.ctx.reader !== null) {
      const bytes = this.ctx.read(Keys.bundle(idHex));
      return bytes === undefined ? undefined : decodeWith(this.ctx.network, bytes, readBundle);
    }
    const s = this.bundles.get(idHex);
    return s === undefined ? undefined : this.unshelve(s);
  }

  /** Whether the bundle of transfer `id` is stored here (with a reader: the filter, then the store). */
  has(id: Bytes): boolean {
    if (this.ctx.reader === null) return this.bundles.has(hexOf(id));
    const idHex = hexOf(id);
    return this.recentHex.has(idHex) || (this.filter.mayHave(id) && this.ctx.read(Keys.bundle(idHex)) !== undefined);
  }

  /** How many bundles are held in memory (none with a reader). */
  get held(): number {
    return this.bundles.size;
  }

  /** How many bundles are stored. */
  get count(): number {
    return this.stored;
  }

  /** The transfer ids of the bundles stored `from`-th to `to`-th (0-based, `to` excluded), in store order. */
  idsBetween(from: number, to: number): Bytes[] {
    if (this.ctx.reader === null) return this.order.slice(from, to);
    const out: Bytes[] = [];
    const recentFrom = this.stored - RECENT_BUNDLE_IDS;
    for (let i = from; i < Math.min(to, this.stored); i++) {
      const id = i >= recentFrom ? this.recentIds[i % RECENT_BUNDLE_IDS] : this.ctx.read(Keys.bundleOrder(i));
      if (id !== undefined) out.push(id);
    }
    return out;
  }

  private unshelve(s: Shelved): Bundle {
    return 'bytes' in s ? decodeWith(this.ctx.network, s.bytes, readBundle) : s;
  }

  private shelve(idHex: string, id: Bytes, bundle: Bundle, encoding: Bytes | null): void {
    // The store-order index (a durable machine's): anti-entropy reads it back when bundles live on disk only.
    if (encoding !== null) this.ctx.persist(Keys.bundleOrder(this.stored), id);
    if (this.ctx.reader !== null) {
      // The bundle record is the copy; memory keeps its id, for a while, and a filter bit.
      this.remember(this.stored++, id, idHex);
      return;
    }
    this.stored++;
    this.order.push(id);
    if (!this.compact) this.bundles.set(idHex, bundle);
    else this.bundles.set(idHex, { id, bytes: encoding ?? encodeWith(bundle, writeBundle) });
  }

  /**
   * With a reader: the n-th bundle stored, into the filter and the recent ids. Its hex
   * (which answers `has` from memory) only when stored by this run (`idHex`): one
   * restored is looked up on disk, so a record lost there is found lost and repaired.
   */
  private remember(n: number, id: Bytes, idHex: string | null): void {
    this.filter.add(id);
    const slot = n % RECENT_BUNDLE_IDS;
    const old = this.recentIds[slot];
    if (old !== undefined) this.recentHex.delete(hexOf(old));
    this.recentIds[slot] = id;
    if (idHex !== null) this.recentHex.add(idHex);
  }

  /** Checks and stores; returns false (with a reject to `replyTo`) when the bundle does not hold. */
  store(bundle: Bundle, replyTo: string | undefined): boolean {
    const ctx = this.ctx;
    const id = transferId(bundle.certificate.transfer);
    // hexOf: one string per id object, shared by the maps of every node that holds the bundle.
    const idHex = hexOf(id);
    if (this.has(id)) return true;
    try {
      checkBundle(bundle, ctx.check);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      if (replyTo !== undefined) ctx.sendHex(replyTo, { type: 'reject', transferId: id, code: e.code, detail: e.message });
      return false;
    }
    // A bundle decoded from a message is stored as the bytes it came in (a view into its frame).
    const encoding = ctx.durable ? (decodedEncoding(bundle) ?? recentEncoding(bundle, ctx.network, () => encodeWith(bundle, writeBundle))) : null;
    if (encoding !== null) ctx.persist(Keys.bundle(idHex), encoding);
    this.shelve(idHex, id, bundle, encoding);
    ctx.emit({ type: 'stored', transferId: id });
    this.onStored(id);
    // Anyone who asked us for it while we lacked it gets it now.
    const w = this.waiting.get(idHex);
    if (w) {
      this.waiting.delete(idHex);
      for (const peer of w) if (peer !== ctx.idHex) ctx.sendHex(peer, { type: 'lookup-reply', transferId: id, bundle });
    }
    return true;
  }

  onStore(fromHex: string | undefined, bundle: Bundle, ack: boolean): void {
    if (!this.store(bundle, fromHex)) return;
    // Answered when asked (the gateway counts f + 1 answers), again for a copy already held:
    // a lost answer is asked for again. Other copies (the rest of the storage nodes,
    // handoff, repair) are answered by nobody; anti-entropy repairs a lost one.
    if (fromHex !== undefined && ack) this.ctx.sendHex(fromHex, { type: 'stored', transferId: transferId(bundle.certificate.transfer) });
  }

  onLookup(fromHex: string, id: Bytes): void {
    this.ctx.sendHex(fromHex, { type: 'lookup-reply', transferId: id, bundle: this.get(id) ?? null });
  }

  onLookupReply(fromHex: string, id: Bytes, bundle: Bundle | null): void {
    void fromHex;
    if (bundle === null) return;
    const ctx = this.ctx;
    if (hexOf(transferId(bundle.certificate.transfer)) !== hexOf(id)) return;
    // Only bundles we asked for, or that we should hold (anti-entropy repair), are kept.
    const idHex = hexOf(id);
    const mine = ctx.ring.storage(id).some((n) => ctx.isMe(n));
    if (!mine && !this.waiting.has(idHex)) return;
    this.store(bundle, undefined);
  }

  /** Asks the storage nodes of `id` for its bundle; the answer lands in this store. */
  lookup(id: Bytes): void {
    const ctx = this.ctx;
    const idHex = hexOf(id);
    if (this.has(id)) return;
    if (!this.waiting.has(idHex)) {
      if (this.waiting.size >= MAX_OPEN_LOOKUPS) this.waiting.clear();
      this.waiting.set(idHex, new Set([ctx.idHex]));
    }
    for (const n of ctx.ring.storage(id)) if (!ctx.isMe(n)) ctx.sendTo(n, { type: 'lookup', transferId: id });
  }

  /** protocol.md §7: bundles whose storage set gained members at an epoch change go to the new members. */
  handoff(prevEpoch: number): void {
    const ctx = this.ctx;
    const prev = ctx.ringOf(prevEpoch);
    if (!prev) return;
    const ring = ctx.ring;
    const send = (id: Bytes, bundle: () => Bundle | undefined): void => {
      const before = new Set(prev.storage(id).map(hexOf));
      let b: Bundle | undefined; // decoded (or read) only if some new member needs it
      for (const n of ring.storage(id)) {
        const h = hexOf(n);
        if (h !== ctx.idHex && !before.has(h) && (b ??= bundle()) !== undefined) ctx.sendHex(h, { type: 'store', bundle: b, ack: false });
      }
    };
    if (ctx.reader !== null) {
      for (let i = 0; i < this.stored; i++) {
        const id = ctx.read(Keys.bundleOrder(i));
        if (id !== undefined) send(id, () => this.get(id));
      }
      return;
    }
    for (const s of this.bundles.values()) send('bytes' in s ? s.id : transferId(s.certificate.transfer), () => this.unshelve(s));
  }

  /** A `b/` record at start (without a reader: with a reader the bundle stays on disk). */
  restore(idHex: string, value: Bytes): void {
    if (this.ctx.reader !== null) return;
    if (!this.bundles.has(idHex)) {
      this.order.push(fromHex(idHex));
      this.stored++;
    }
    // Compact: kept as read, undecoded (this node's own encoding, written when it stored the bundle).
    if (this.compact) this.bundles.set(idHex, { id: fromHex(idHex), bytes: value });
    else this.bundles.set(idHex, decodeWith(this.ctx.network, value, readBundle));
  }

  /** An `o/` record at start (the n-th bundle stored, its id): with a reader, the count and the filter. */
  restoreOrder(n: number, id: Bytes): void {
    if (this.ctx.reader === null) return;
    this.stored = Math.max(this.stored, n + 1);
    this.remember(n, id, null);
  }
}
