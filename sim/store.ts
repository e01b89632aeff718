// A simulated node's disk. Most nodes are never read back (only a restart or an
// end-state sample reads a store), so writes are appended to a log and folded into
// the MemoryStore's map on the first read: a write costs a push, not a string hash.
// Stored bundles are the same bytes at every storage replica, so equal values under
// one bundle key share one buffer (the run's memory is mostly stores).
import { equal, type Bytes } from '../protocol/bytes.ts';
import { MemoryStore, type PersistRecord } from '../protocol/ports.ts';

/** One copy of each stored bundle's bytes, by record key, shared by every store of the run. */
export class BundleInterner {
  private readonly byKey = new Map<string, Bytes>();

  intern(key: string, value: Bytes): Bytes {
    const seen = this.byKey.get(key);
    if (seen !== undefined && (seen === value || equal(seen, value))) return seen;
    this.byKey.set(key, value);
    return value;
  }
}

/** Keys of stored bundles (node/core/storage.ts writes `b/<transfer id hex>`). */
const BUNDLE_PREFIX = 'b/';

/** Log length at which a store folds even unread (the log holds overwritten values too). */
const LOG_FOLD_RECORDS = 1 << 16;

export class SimStore extends MemoryStore {
  private log: PersistRecord[] = [];
  private readonly interner: BundleInterner | null;

  constructor(interner: BundleInterner | null = null) {
    super();
    this.interner = interner;
  }

  override apply(records: readonly PersistRecord[]): void {
    // Bounds a store that is written long and never read (overwritten keys stay in the log).
    if (this.log.length > LOG_FOLD_RECORDS) this.fold();
    const interner = this.interner;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (interner !== null && r.value !== null && r.key.startsWith(BUNDLE_PREFIX)) {
        const v = interner.intern(r.key, r.value);
        this.log.push(v === r.value ? r : { key: r.key, value: v });
      } else this.log.push(r);
    }
  }

  private fold(): void {
    if (this.log.length === 0) return;
    super.apply(this.log);
    this.log = [];
  }

  override get(key: string): Bytes | undefined {
    this.fold();
    return super.get(key);
  }

  override *entries(prefix: string): Iterable<[string, Bytes]> {
    this.fold();
    yield* super.entries(prefix);
  }

  override get size(): number {
    this.fold();
    return super.size;
  }
}
