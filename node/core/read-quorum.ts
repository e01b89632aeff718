// Reads that trust no single replica (docs/protocol.md §5): an account's state is
// asked of all its custodians and the answer is the one most of them agree on.
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import type { AccountState } from '../../protocol/handoff-codec.ts';
import { transferIdHex, type EpochRecord } from '../../protocol/objects.ts';
import { Ring } from '../../protocol/ring.ts';
import type { AccountView } from './api.ts';

/** One custodian's answer about an account, whether from a peer or this node's own replica. */
export type ReplicaView = { readonly balance: bigint; readonly seq: number; readonly head: string | null; readonly frozen: boolean };

export function replicaOfState(s: AccountState): ReplicaView {
  return { balance: s.credited - s.debited, seq: s.seq, head: s.head ? transferIdHex(s.head) : null, frozen: s.frozen };
}

/** This node's own replica as an answer, when it holds the account whole (synced). */
export function replicaOfView(v: AccountView | undefined): ReplicaView | undefined {
  if (v === undefined || !v.synced) return undefined;
  return { balance: v.balance, seq: v.seq, head: v.head ? toHex(v.head) : null, frozen: v.frozen };
}

/** Agreeing answers: the largest group with equal balance, seq, head and frozen flag (ties: the higher seq). */
export function agree(answers: readonly ReplicaView[]): ReplicaView | null {
  return agreement(answers)?.view ?? null;
}

/** The agreeing group `agree` picks, with how many answers it holds. */
export function agreement(answers: readonly ReplicaView[]): { readonly view: ReplicaView; readonly count: number } | null {
  const groups = new Map<string, { s: ReplicaView; n: number }>();
  for (const s of answers) {
    const key = `${s.balance}|${s.seq}|${s.head ?? ''}|${s.frozen}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { s, n: 1 });
  }
  let best: { s: ReplicaView; n: number } | null = null;
  for (const g of groups.values()) if (best === null || g.n > best.n || (g.n === best.n && g.s.seq > best.s.seq)) best = g;
  return best === null ? null : { view: best.s, count: best.n };
}

/** Whom a read of `account` asks: its custodians in `epoch` (hex ids), split into peers and this node. */
export function readPlan(epoch: EpochRecord, self: Bytes, account: Bytes): { readonly epoch: number; readonly custodians: readonly string[]; readonly peers: string[]; readonly includesSelf: boolean } {
  const custodians = Ring.of(epoch).custodians(account).map(toHex);
  const me = toHex(self);
  const peers = custodians.filter((c) => c !== me);
  return { epoch: epoch.epoch, custodians, peers, includesSelf: peers.length < custodians.length };
}

/** Storage nodes of a bundle other than this node (hex ids), to ask for it. */
export function lookupPlan(epoch: EpochRecord, self: Bytes, transferId: Bytes): string[] {
  const me = toHex(self);
  return Ring.of(epoch).storage(transferId).map(toHex).filter((n) => n !== me);
}
