// The record keys of a node machine (its persist namespace), with the layouts of the
// credit records. docs/protocol.md, section 8, lists them all.
import type { Bytes } from '../../protocol/bytes.ts';
import { pad } from './node-context.ts';

/** Record keys (the node's persist namespace). */
export const Keys = {
  lock: (from: string, seq: number) => `l/${from}/${pad(seq)}`,
  certified: (from: string) => `x/${from}`,
  credit: (id: string) => `c/${id}`,
  /** The n-th credit applied to an account (application order): its transfer id ‖ u64 amount. */
  creditOrder: (to: string, n: number) => `k/${to}/${pad(n)}`,
  frozen: (from: string) => `f/${from}`,
  voided: (node: string) => `v/${node}`,
  snapshot: (from: string) => `a/${from}`,
  /** A pin: a transfer reported above the head (see Account.pins). */
  pin: (from: string, id: string) => `p/${from}/${id}`,
} as const;

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
