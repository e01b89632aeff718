// The small interfaces through which protocol machines meet the world (time,
// randomness, persistence) and the shape of what they return. Drivers (the daemon
// over libp2p and LevelDB, the simulator over a virtual network and clock)
// implement these; protocol code never touches sockets, timers or the OS clock.
import type { Bytes } from './bytes.ts';
import type { Message } from './messages.ts';

/** Milliseconds; the daemon reads the OS clock, the simulator its virtual one. */
export interface Clock {
  now(): number;
}

/** Seeded in the simulator, OS-backed in the daemon. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

/**
 * Where a message goes: one node (its 32-byte id in hex), the mint, or every node
 * (the mint's gossip topics: epochs, alerts, repudiations).
 */
export type Address = { readonly node: string } | { readonly mint: true } | { readonly broadcast: true };

export type Outbound = { readonly to: Address; readonly msg: Message };

/**
 * A durable write. Keys are strings in a per-machine namespace; a null value
 * deletes. The driver writes all records of one step as one synced batch.
 */
export type PersistRecord = { readonly key: string; readonly value: Bytes | null };

/**
 * What one step of a machine produced. The driver MUST make `persist` durable
 * before it sends any of `send`: that is how "durable before acknowledged"
 * (protocol.md §8) holds in every driver. Events are for observers (metrics, the
 * simulator's invariant checker, the HTTP API); they carry no protocol meaning.
 */
export type Output<E = unknown> = {
  send: Outbound[];
  persist: PersistRecord[];
  events: E[];
};

export function emptyOutput<E = unknown>(): Output<E> {
  return { send: [], persist: [], events: [] };
}

/** Read side of durable storage, used once at start to rebuild a machine's memory. */
export interface RecordSource {
  /** All records whose key starts with `prefix`, in key order. */
  entries(prefix: string): Iterable<[string, Bytes]>;
}

/**
 * Read side of durable storage while a machine runs: one record by key, answering
 * every record the driver was handed so far (synced or still in a batch). With it a
 * machine keeps its history (old locks, credits, stored bundles) out of memory and
 * reads it back when asked; the driver owns any caching.
 */
export interface RecordReader {
  get(key: string): Bytes | undefined;
}

/** An in-memory store: the simulator's disk and the tests' (a crash keeps it; a disk loss drops it). */
export class MemoryStore implements RecordSource, RecordReader {
  private readonly map = new Map<string, Bytes>();

  apply(records: readonly PersistRecord[]): void {
    for (const r of records) {
      if (r.value === null) this.map.delete(r.key);
      else this.map.set(r.key, r.value);
    }
  }

  get(key: string): Bytes | undefined {
    return this.map.get(key);
  }

  *entries(prefix: string): Iterable<[string, Bytes]> {
    const keys = [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of keys) yield [k, this.map.get(k)!];
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * The one way a machine emits what a step produced. A step begins a fresh Output;
 * every part of the machine writes into the current one (sends, durable records,
 * events); the step returns it to its driver. Node and mint machines both use it.
 */
export class StepOutput<E> {
  private current: Output<E> = emptyOutput<E>();

  /** A fresh output for a new step; the last one belongs to its driver now. */
  begin(): Output<E> {
    this.current = emptyOutput<E>();
    return this.current;
  }

  /** The current step's output. */
  get out(): Output<E> {
    return this.current;
  }

  send(to: Address, msg: Message): void {
    this.current.send.push({ to, msg });
  }

  persist(key: string, value: Bytes | null): void {
    this.current.persist.push({ key, value });
  }

  event(e: E): void {
    this.current.events.push(e);
  }
}
