// Storage of receipt bundles (SPEC 5.5): a checked bundle is stored durably and
// acknowledged; the node that receives it as primary forwards copies to the next
// storage nodes. Any node answers a lookup, from its own store or by asking the
// bundle's storage nodes.
import { toHex, type Bytes } from './bytes.ts';
import { checkBundle } from './certificate.ts';
import { Rejection } from './errors.ts';
import { decodeWith, encodeWith, readBundle, transferId, writeBundle, type Bundle } from './objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';

export const bundleKey = (idHex: string): string => `b/${idHex}`;

/** Lookups this node has asked peers about and not yet heard back on; bounded so lookups cannot grow memory. */
const MAX_OPEN_LOOKUPS = 4096;

/**
 * One encoding per bundle object: a bundle is stored by each of its storage nodes (in
 * the simulator, the same object at each), and its bytes never change. Read-only.
 */
const bundleBytes = new WeakMap<Bundle, Bytes>();

function encodeBundle(b: Bundle): Bytes {
  let v = bundleBytes.get(b);
  if (v === undefined) bundleBytes.set(b, (v = encodeWith(b, writeBundle)));
  return v;
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
    return this.bundles.get(toHex(id));
  }

  /** Checks and stores; returns false (with a reject to `replyTo`) when the bundle does not hold. */
  store(bundle: Bundle, replyTo: string | undefined): boolean {
    const ctx = this.ctx;
    const id = transferId(bundle.certificate.transfer);
    const idHex = toHex(id);
    if (this.bundles.has(idHex)) return true;
    try {
      checkBundle(bundle, ctx.check);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      if (replyTo !== undefined) ctx.sendHex(replyTo, { type: 'reject', transferId: id, code: e.code, detail: e.message });
      return false;
    }
    this.bundles.set(idHex, bundle);
    ctx.persist(bundleKey(idHex), encodeBundle(bundle));
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
    if (fromHex !== undefined) ctx.sendHex(fromHex, { type: 'stored', transferId: id });
  }

  onLookup(fromHex: string, id: Bytes): void {
    const b = this.bundles.get(toHex(id)) ?? null;
    this.ctx.sendHex(fromHex, { type: 'lookup-reply', transferId: id, bundle: b });
  }

  onLookupReply(fromHex: string, id: Bytes, bundle: Bundle | null): void {
    void fromHex;
    if (bundle === null) return;
    const ctx = this.ctx;
    if (toHex(transferId(bundle.certificate.transfer)) !== toHex(id)) return;
    // Only bundles we asked for, or that we should hold (anti-entropy repair), are kept.
    const idHex = toHex(id);
    const mine = ctx.ring.storage(id).some((n) => ctx.isMe(n));
    if (!mine && !this.waiting.has(idHex)) return;
    this.store(bundle, undefined);
  }

  /** Asks the storage nodes of `id` for its bundle; the answer lands in this store. */
  lookup(id: Bytes): void {
    const ctx = this.ctx;
    const idHex = toHex(id);
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
