// Storage of receipt bundles (SPEC 5.5): a checked bundle is stored durably and
// acknowledged; the node that receives it as primary forwards copies to the next
// storage nodes. Any node answers a lookup, from its own store or by asking the
// bundle's storage nodes.
import { type Bytes } from './bytes.ts';
import { checkBundle } from './certificate.ts';
import { Rejection } from './errors.ts';
import { decodeWith, encodeWith, readBundle, transferId, writeBundle, type Bundle } from './objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';

export const bundleKey = (idHex: string): string => `b/${idHex}`;

/** Lookups this node has asked peers about and not yet heard back on; bounded so lookups cannot grow memory. */
const MAX_OPEN_LOOKUPS = 4096;

/**
 * Record encodings of recent objects (bundles, locked transfers, certificates), by
 * object: in the simulator the k storage nodes of a bundle, or the k custodians of an
 * account, get the same object within milliseconds and write the same bytes. Bounded,
 * first in first out, not weak: these objects live as long as their nodes, and an
 * encoding kept as long costs ~1.2 KB per bundle for nothing. A daemon's objects are
 * its own (it never hits). Values are read-only.
 */
const recent = new Map<object, { readonly network: string; readonly bytes: Bytes }>();
const RECENT_KEEP = 8192;

export function recentEncoding(obj: object, network: string, encode: () => Bytes): Bytes {
  const seen = recent.get(obj);
  if (seen !== undefined && seen.network === network) return seen.bytes;
  const bytes = encode();
  if (recent.size >= RECENT_KEEP) recent.delete(recent.keys().next().value!);
  recent.set(obj, { network, bytes });
  return bytes;
}

export class Storage {
  private readonly ctx: NodeContext;
  readonly bundles = new Map<string, Bundle>();
  /** Transfer id hex -> peers (hex) that asked us and wait for a lookup-reply. */
  private readonly waiting = new Map<string, Set<string>>();

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
  }

  get(id: Bytes): Bundle | undefined {
    return this.bundles.get(hexOf(id));
  }

  /** Checks and stores; returns false (with a reject to `replyTo`) when the bundle does not hold. */
  store(bundle: Bundle, replyTo: string | undefined): boolean {
    const ctx = this.ctx;
    const id = transferId(bundle.certificate.transfer);
    // hexOf: one string per id object, shared by the maps of every node that holds the bundle.
    const idHex = hexOf(id);
    if (this.bundles.has(idHex)) return true;
    try {
      checkBundle(bundle, ctx.check);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      if (replyTo !== undefined) ctx.sendHex(replyTo, { type: 'reject', transferId: id, code: e.code, detail: e.message });
      return false;
    }
    this.bundles.set(idHex, bundle);
    if (ctx.durable) ctx.persist(bundleKey(idHex), recentEncoding(bundle, ctx.network, () => encodeWith(bundle, writeBundle)));
    ctx.emit({ type: 'stored', transferId: id });
    // Anyone who asked us for it while we lacked it gets it now.
    const w = this.waiting.get(idHex);
    if (w) {
      this.waiting.delete(idHex);
      for (const peer of w) if (peer !== ctx.idHex) ctx.sendHex(peer, { type: 'lookup-reply', transferId: id, bundle });
    }
    return true;
  }

  onStore(fromHex: string | undefined, bundle: Bundle, forward: boolean): void {
    const ctx = this.ctx;
    if (!this.store(bundle, fromHex)) return;
    const id = transferId(bundle.certificate.transfer);
    if (forward) {
      for (const n of ctx.ring.storage(id)) if (!ctx.isMe(n)) ctx.sendTo(n, { type: 'store', bundle, forward: false });
    }
    // Only a primary's store is acknowledged: the gateway waits on it. Forwarded copies
    // (and handoff or repair copies) are answered by nobody; anti-entropy repairs a lost one.
    if (fromHex !== undefined && forward) ctx.sendHex(fromHex, { type: 'stored', transferId: id });
  }

  onLookup(fromHex: string, id: Bytes): void {
    const b = this.bundles.get(hexOf(id)) ?? null;
    this.ctx.sendHex(fromHex, { type: 'lookup-reply', transferId: id, bundle: b });
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
    if (this.bundles.has(idHex)) return;
    if (!this.waiting.has(idHex)) {
      if (this.waiting.size >= MAX_OPEN_LOOKUPS) this.waiting.clear();
      this.waiting.set(idHex, new Set([ctx.idHex]));
    }
    for (const n of ctx.ring.storage(id)) if (!ctx.isMe(n)) ctx.sendTo(n, { type: 'lookup', transferId: id });
  }

  /** SPEC 7: bundles whose storage set gained members at an epoch change go to the new members. */
  handoff(prevEpoch: number): void {
    const ctx = this.ctx;
    const prev = ctx.ringOf(prevEpoch);
    if (!prev) return;
    const ring = ctx.ring;
    for (const b of this.bundles.values()) {
      const id = transferId(b.certificate.transfer);
      const before = new Set(prev.storage(id).map(hexOf));
      for (const n of ring.storage(id)) {
        const h = hexOf(n);
        if (h !== ctx.idHex && !before.has(h)) ctx.sendHex(h, { type: 'store', bundle: b, forward: false });
      }
    }
  }

  restore(idHex: string, value: Bytes): void {
    this.bundles.set(idHex, decodeWith(this.ctx.network, value, readBundle));
  }
}
