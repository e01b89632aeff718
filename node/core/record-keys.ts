// Every record key of a node machine (its persist namespace), defined once: the
// prefixes, the key builders, the parser restore uses and the order restore reads
// them in, with the layouts of the credit records. docs/protocol.md §8 lists them.
import type { Bytes } from '../../protocol/bytes.ts';

/** Fixed-width hex of a non-negative integer, so record keys sort numerically. */
export function pad(n: number): string {
  return n.toString(16).padStart(12, '0');
}

/** Every record prefix. Each ends in '/', so no prefix is a prefix of another's keys. */
export const Prefix = {
  /** e/<epoch>: an epoch record. */
  epoch: 'e/',
  /** v/<node>: a node whose votes are void (an equivocator). */
  voided: 'v/',
  /** f/<account>: a frozen account. */
  frozen: 'f/',
  /** a/<account>: an account's handed-off snapshot. */
  snapshot: 'a/',
  /** l/<account>/<seq>: a lock. */
  lock: 'l/',
  /** x/<account>: the highest seq known certified, with its certificate. */
  certified: 'x/',
  /** p/<account>/<transfer id>: a pin (a transfer reported above the head). */
  pin: 'p/',
  /** c/<transfer id>: a credit applied (recipient ‖ u64 amount). */
  credit: 'c/',
  /** k/<account>/<n>: the account's n-th credit applied (transfer id ‖ u64 amount). */
  creditOrder: 'k/',
  /** b/<transfer id>: a stored bundle. */
  bundle: 'b/',
  /** o/<n>: the n-th bundle stored (its transfer id). */
  bundleOrder: 'o/',
  /** al/<alert seq>: an alert. */
  alert: 'al/',
  /** m/<name>: the store's own markers (format upgrades). */
  meta: 'm/',
  /** r/<account>: an account re-synced since the store was restored from a backup; r/!restored: the mark of such a store. */
  resync: 'r/',
} as const;
export type RecordKind = keyof typeof Prefix;

/** Record keys, built from the prefixes above. */
export const Keys = {
  epoch: (n: number) => `${Prefix.epoch}${pad(n)}`,
  voided: (node: string) => `${Prefix.voided}${node}`,
  frozen: (from: string) => `${Prefix.frozen}${from}`,
  snapshot: (from: string) => `${Prefix.snapshot}${from}`,
  lock: (from: string, seq: number) => `${Prefix.lock}${from}/${pad(seq)}`,
  certified: (from: string) => `${Prefix.certified}${from}`,
  /** A pin: a transfer reported above the head (see Account.pins). */
  pin: (from: string, id: string) => `${Prefix.pin}${from}/${id}`,
  credit: (id: string) => `${Prefix.credit}${id}`,
  /** The n-th credit applied to an account (application order): its transfer id ‖ u64 amount. */
  creditOrder: (to: string, n: number) => `${Prefix.creditOrder}${to}/${pad(n)}`,
  bundle: (id: string) => `${Prefix.bundle}${id}`,
  bundleOrder: (n: number) => `${Prefix.bundleOrder}${pad(n)}`,
  alert: (seq: number) => `${Prefix.alert}${pad(seq)}`,
  /** Present once a store holds the history index records (value: the index format, 1). */
  historyIndex: `${Prefix.meta}history-index`,
  /** An account re-synced from its co-custodians since this store was restored from a backup. */
  resynced: (from: string) => `${Prefix.resync}${from}`,
} as const;

const KIND_OF = new Map<string, RecordKind>(Object.entries(Prefix).map(([kind, p]) => [p, kind as RecordKind]));

/** Whether `key` starts with a prefix of the table (a cheap check for every persist). */
export function isRecordKey(key: string): boolean {
  return KIND_OF.has(key.slice(0, key.indexOf('/') + 1));
}

/** A record key split into its kind and its fields (the parts after the prefix, between '/'). */
export type ParsedKey = { readonly kind: RecordKind; readonly fields: readonly string[] };

/** Parses a key built by Keys; undefined for a key of no known kind. */
export function parseKey(key: string): ParsedKey | undefined {
  const slash = key.indexOf('/');
  if (slash < 0) return undefined;
  const kind = KIND_OF.get(key.slice(0, slash + 1));
  if (kind === undefined) return undefined;
  return { kind, fields: key.slice(slash + 1).split('/') };
}

/**
 * The kinds a restart reads, in the order it needs them: epochs before the rings they
 * define, snapshots before the locks above them, credits before their order. With a
 * records reader, stored bundles stay on disk (their index, `o/`, is read instead of
 * `b/`) and each account's credit order (`k/`) brings its newest credits back.
 */
export function restoreOrder(withReader: boolean): readonly RecordKind[] {
  return ['epoch', 'voided', 'frozen', 'snapshot', 'lock', 'certified', 'pin', 'credit', ...(withReader ? (['creditOrder', 'bundleOrder'] as const) : (['bundle'] as const)), 'alert', 'resync'];
}

/**
 * Present in a store restored from a backup (`ringmint node restore` writes it): the
 * node may have voted after the backup was taken, so it votes on no account until it
 * has re-synced that account from its co-custodians (protocol.md §8, Backup and restore).
 * Sorts before every `r/<account>` key.
 */
export const RESTORED_KEY = `${Prefix.resync}!restored`;

/**
 * The records that mark a store as restored from a backup: the marker, and the removal
 * of every re-sync record the backup carried (the node must re-sync again: it may have
 * voted after the backup). `resynced` lists the `r/` keys present in the store.
 */
export function restoredMarkRecords(resynced: Iterable<string>, at: number): { key: string; value: Bytes | null }[] {
  const out: { key: string; value: Bytes | null }[] = [];
  for (const k of resynced) if (k.startsWith(Prefix.resync) && k !== RESTORED_KEY) out.push({ key: k, value: null });
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(at))));
  out.push({ key: RESTORED_KEY, value: v });
  return out;
}

/** A `c/` record (recipient ‖ u64 amount) or a `k/` one (transfer id ‖ u64 amount). */
export function creditRecord(head: Bytes, amount: bigint): Bytes {
  const v = new Uint8Array(40);
  v.set(head, 0);
  new DataView(v.buffer).setBigUint64(32, amount);
  return v;
}

/** The amount of a `c/` or `k/` record. */
export function creditAmount(v: Bytes): bigint {
  return new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(32);
}
