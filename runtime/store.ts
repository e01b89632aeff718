// Durable records of one machine (node or mint) in LevelDB under the data dir
// (protocol.md §8). Writes use group commit: the records of every step that arrives while a
// synced batch is in flight are gathered into the next batch, so one fsync covers
// many votes. A step's promise resolves only when its records are on disk; the
// driver waits for it before it sends anything that step produced.
import { ClassicLevel } from 'classic-level';
import type { Bytes } from '../protocol/bytes.ts';
import type { PersistRecord, RecordReader, RecordSource } from '../protocol/ports.ts';

/** Records gathered into one batch at most; past it a new batch starts (bounds one write's memory and latency). */
const MAX_BATCH_RECORDS = 50_000;

type Pending = { ops: PersistRecord[]; steps: number; promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void };

export type CommitStats = { batches: number; records: number; steps: number; lastBatchSteps: number };

/** A read-only snapshot of the records loaded at start, in key order. */
export class LoadedRecords implements RecordSource {
  private readonly keys: string[];
  private readonly map: Map<string, Bytes>;
  constructor(map: Map<string, Bytes>) {
    this.map = map;
    this.keys = [...map.keys()].sort();
  }
  get size(): number {
    return this.keys.length;
  }
  get(key: string): Bytes | undefined {
    return this.map.get(key);
  }
  *entries(prefix: string): Iterable<[string, Bytes]> {
    // keys are sorted: binary search the first key >= prefix
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.keys.length && this.keys[i]!.startsWith(prefix); i++) yield [this.keys[i]!, this.map.get(this.keys[i]!)!];
  }
}

export class Store implements RecordReader {
  private readonly db: ClassicLevel<string, Uint8Array>;
  /** The ops of the batch being written (reads see them until it is done). */
  private inflightOps: readonly PersistRecord[] = [];
  /**
   * Records handed to commit and not yet written, by key (null: a delete), so reads
   * see them at once, as the machine that wrote them expects. Built on the first read
   * after a change, not on every commit: reads are rare (the machines' id filters
   * answer most questions), commits are not.
   */
  private unsynced: Map<string, Bytes | null> | null = null;
  private inflight: Promise<void> | null = null;
  /** The in-flight batch's own promise (rejects if its write fails). */
  private inflightPromise: Promise<void> | null = null;
  private queue: Pending[] = [];
  private closed = false;
  readonly stats: CommitStats = { batches: 0, records: 0, steps: 0, lastBatchSteps: 0 };
  /** Called after each synced batch with its size and duration (metrics). */
  onBatch: ((records: number, steps: number, seconds: number) => void) | null = null;

  private constructor(db: ClassicLevel<string, Uint8Array>) {
    this.db = db;
  }

  static async open(dir: string): Promise<Store> {
    const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new Store(db);
  }

  /** Every record, for a machine's restore (the mint's; a node streams them, see scan). */
  async load(): Promise<LoadedRecords> {
    const map = new Map<string, Bytes>();
    for await (const [k, v] of this.db.iterator()) map.set(k, Uint8Array.from(v));
    return new LoadedRecords(map);
  }

  /** Keys and values under `prefix`, in key order, streamed from disk (a node's restore, the upgrade). */
  async *scan(prefix: string, values = true): AsyncIterable<[string, Bytes]> {
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const empty = new Uint8Array(0);
    for await (const [k, v] of this.db.iterator({ gte: prefix, lt: end, values })) yield [k, values ? Uint8Array.from(v) : empty];
  }

  /**
   * Every durable record, in key order, read from one LevelDB snapshot (an iterator
   * sees the database as it was when it was made): a consistent backup of a running
   * machine. Records still in a batch are not in it; none of them was acknowledged yet.
   */
  async *snapshot(): AsyncIterable<[string, Bytes]> {
    for await (const [k, v] of this.db.iterator()) yield [k, Uint8Array.from(v)];
  }

  /** A record as last committed (written or still in a batch), read synchronously: the machine's history reads. */
  get(key: string): Bytes | undefined {
    if (this.unsynced === null) {
      this.unsynced = new Map();
      for (const r of this.inflightOps) this.unsynced.set(r.key, r.value);
      for (const b of this.queue) for (const r of b.ops) this.unsynced.set(r.key, r.value);
    }
    const pending = this.unsynced.get(key);
    if (pending !== undefined) return pending ?? undefined;
    return this.db.getSync(key);
  }

  /**
   * Makes `records` durable. Resolves once a synced batch holding them (and every
   * record committed before them) is written. An empty step still waits for the
   * batches before it, so its messages never overtake an earlier step's writes.
   */
  commit(records: readonly PersistRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store closed'));
    if (records.length === 0) {
      // Nothing to write: wait only for the writes already asked for (the last
      // batch holding any), not for a batch yet to be formed, so an answer that
      // writes nothing (a gateway counting votes) waits at most one fsync.
      const tail = this.queue[this.queue.length - 1];
      if (tail !== undefined) {
        tail.steps++;
        return tail.promise;
      }
      return this.inflightPromise ?? Promise.resolve();
    }
    let last = this.queue[this.queue.length - 1];
    if (last === undefined || last.ops.length + records.length > MAX_BATCH_RECORDS) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      last = { ops: [], steps: 0, promise, resolve, reject };
      this.queue.push(last);
    }
    for (const r of records) last.ops.push(r);
    this.unsynced = null;
    last.steps++;
    this.kick();
    return last.promise;
  }

  private kick(): void {
    if (this.inflight !== null) return;
    const batch = this.queue.shift();
    if (batch === undefined) return;
    const started = performance.now();
    const write =
      batch.ops.length === 0
        ? Promise.resolve()
        : this.db.batch(
            batch.ops.map((r) => (r.value === null ? { type: 'del' as const, key: r.key } : { type: 'put' as const, key: r.key, value: r.value })),
            { sync: true },
          );
    this.inflightPromise = batch.promise;
    this.inflightOps = batch.ops;
    this.inflight = write.then(
      () => {
        // Written: reads of its records go to disk now.
        this.inflightOps = [];
        this.unsynced = null;
        this.stats.batches++;
        this.stats.records += batch.ops.length;
        this.stats.steps += batch.steps;
        this.stats.lastBatchSteps = batch.steps;
        this.onBatch?.(batch.ops.length, batch.steps, (performance.now() - started) / 1000);
        this.inflight = null;
        this.inflightPromise = null;
        batch.resolve();
        this.kick();
      },
      (e: unknown) => {
        this.inflightOps = [];
        this.unsynced = null;
        this.inflight = null;
        this.inflightPromise = null;
        batch.reject(e);
        this.kick();
      },
    );
  }

  /** Waits for every queued write, then closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.inflight !== null || this.queue.length > 0) {
      this.kick();
      await this.inflight;
    }
    this.closed = true;
    await this.db.close();
  }
}
