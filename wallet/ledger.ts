// Seq safety (protocol.md §5): a wallet never signs two different transfers for one seq.
// A transfer that has not settled keeps its seq and is resubmitted exactly as it
// was signed; only an explicit --seq signs over a used seq, with a warning, because
// if both transfers reach custodians the account is frozen as a double spender.
import type { TransferJson } from '../protocol/json.ts';
import { CliError } from '../runtime/cli-output.ts';
import { SETTLED, type WalletState, type WalletTransfer } from './keystore.ts';

const ZERO_HEAD = '0'.repeat(64);

/** What the network says about the account (GET /accounts/:address), when a node was asked. */
export type AccountHead = { seq: number; head: string | null };

export type SeqPlan = {
  seq: number;
  prev: string;
  /** Warnings for people (stderr): a reused seq, or a ledger the network had moved past. */
  warnings: string[];
};

/** Transfers that hold a seq but have not settled, oldest first: these are resubmitted as they are. */
export function unsettled(state: WalletState): WalletTransfer[] {
  return state.transfers
    .filter((t) => !SETTLED.has(t.status) && t.status !== 'replaced')
    .sort((a, b) => a.transfer.seq - b.transfer.seq);
}

/** Chooses seq and prev for a new transfer. `seq`/`prev` are the user's explicit --seq/--prev. */
export function planSeq(state: WalletState, opts: { seq?: number; prev?: string; account?: AccountHead }): SeqPlan {
  const warnings: string[] = [];
  if (opts.seq === undefined) {
    let seq = state.nextSeq;
    let prev = state.head;
    // The network is ahead of this ledger (a restored key, another copy of the wallet):
    // its certified head is the only prev a custodian will accept.
    if (opts.account && opts.account.seq >= seq && opts.account.head) {
      warnings.push(`the network has seq ${opts.account.seq} for this account, beyond this wallet's ledger; continuing from it`);
      seq = opts.account.seq + 1;
      prev = opts.account.head;
    }
    return { seq, prev: opts.prev ?? prev, warnings };
  }
  const seq = opts.seq;
  if (!Number.isSafeInteger(seq) || seq < 1) throw new CliError('BAD_REQUEST', `--seq must be a positive integer, got ${seq}`);
  for (const used of state.transfers.filter((t) => t.transfer.seq === seq && t.status !== 'replaced')) {
    warnings.push(
      `seq ${seq} was already used by transfer ${used.transfer.id} (${used.status}); if both reach custodians, the account is frozen as a double spender`,
    );
  }
  if (seq > state.nextSeq) warnings.push(`seq ${seq} skips ahead of this wallet's next seq ${state.nextSeq}; custodians accept it only after seq ${seq - 1}`);
  let prev = opts.prev;
  if (prev === undefined) {
    if (seq === 1) prev = ZERO_HEAD;
    else {
      const before = state.transfers.filter((t) => t.transfer.seq === seq - 1 && t.status !== 'replaced');
      if (before.length === 1) prev = before[0]!.transfer.id;
      else if (opts.account && opts.account.seq === seq - 1 && opts.account.head) prev = opts.account.head;
    }
  }
  if (prev === undefined) throw new CliError('BAD_REQUEST', `the id of this account's transfer at seq ${seq - 1} is unknown here; give it with --prev ID`);
  if (!/^[0-9a-f]{64}$/.test(prev)) throw new CliError('BAD_REQUEST', '--prev must be a transfer id: 64 lowercase hex digits');
  return { seq, prev, warnings };
}

/** The ledger after signing `t`: it holds its seq, and becomes the head if it is the newest. */
export function recordSigned(state: WalletState, t: TransferJson, signedAt: string): WalletState {
  const transfers = state.transfers.map((x) =>
    // an explicit --seq over a used seq: the older transfer is no longer resubmitted
    x.transfer.seq === t.seq && x.transfer.id !== t.id && !SETTLED.has(x.status) ? { ...x, status: 'replaced' } : x,
  );
  if (!transfers.some((x) => x.transfer.id === t.id)) transfers.push({ transfer: t, status: 'signed', signedAt });
  const newest = t.seq + 1 >= state.nextSeq;
  return { nextSeq: newest ? t.seq + 1 : state.nextSeq, head: newest ? t.id : state.head, transfers };
}
