// Seq safety (protocol.md §5): a wallet never signs two different transfers for one seq
// of one network. A transfer that has not settled keeps its seq and is resubmitted
// exactly as it was signed, only to the network it was signed for; only an explicit
// --seq signs over a used seq, with a warning, because if both transfers reach
// custodians the account is frozen as a double spender.
//
// Seqs are per network (chains by genesis id): the same key on a fresh devnet starts
// at seq 1 there. A transfer that can never verify on a network (signed for another
// one) holds no seq there, so the wallet may give that seq back (releaseSeq).
import type { TransferJson } from '../protocol/json.ts';
import { CliError } from '../runtime/cli-output.ts';
import type { Chain, WalletState, WalletTransfer } from './keystore.ts';
import { holdsSeq, isSettled, type Stage } from './submission.ts';

const ZERO_HEAD = '0'.repeat(64);

/** What the network says about the account (GET /accounts/:address), when a node was asked. */
export type AccountHead = { seq: number; head: string | null };

export type SeqPlan = {
  seq: number;
  prev: string;
  /** Warnings for people (stderr): a reused seq, or a ledger the network had moved past. */
  warnings: string[];
};

/** The seq chain of network `genesis`. Before any binding, the first network used takes the old single chain. */
export function chainOf(state: WalletState, genesis: string): Chain {
  const c = state.chains?.[genesis];
  if (c) return c;
  if (state.chains === undefined || Object.keys(state.chains).length === 0) return { nextSeq: state.nextSeq, head: state.head };
  return { nextSeq: 1, head: ZERO_HEAD };
}

/**
 * The first network to get a chain takes the ledger from before binding: its chain
 * and its unbound transfers (one that does not verify there is released, never
 * resubmitted elsewhere: wallet/settle.ts).
 */
function adoptLegacy(state: WalletState, genesis: string): WalletState {
  if (state.chains !== undefined && Object.keys(state.chains).length > 0) return state;
  return {
    ...state,
    transfers: state.transfers.map((x) => (x.genesis === undefined ? { ...x, genesis } : x)),
    chains: { [genesis]: { nextSeq: state.nextSeq, head: state.head } },
  };
}

/** Is `t` a transfer of network `genesis`? Unbound ones (from before binding) count for every network until checked. */
export function onNetwork(t: WalletTransfer, genesis: string): boolean {
  return t.genesis === undefined || t.genesis === genesis;
}

/** Transfers that hold a seq but have not settled, oldest first: these are resubmitted as they are. */
export function unsettled(state: WalletState, genesis?: string): WalletTransfer[] {
  return state.transfers
    .filter((t) => holdsSeq(t.status as Stage) && !isSettled(t.status as Stage) && (genesis === undefined || onNetwork(t, genesis)))
    .sort((a, b) => a.transfer.seq - b.transfer.seq);
}

/** Transfers the wallet still works on (not stored, not ended for good), oldest first. */
export function openTransfers(state: WalletState, genesis?: string): WalletTransfer[] {
  return state.transfers
    .filter((t) => ['signed', 'pending', 'rejected', 'final', 'credited'].includes(t.status) && (genesis === undefined || onNetwork(t, genesis)))
    .sort((a, b) => a.transfer.seq - b.transfer.seq);
}

/**
 * Chooses seq and prev for a new transfer on network `genesis`. `seq`/`prev` are the
 * user's explicit --seq/--prev; `account` is a head the caller verified (wallet/trust.ts).
 */
export function planSeq(state: WalletState, opts: { seq?: number; prev?: string; account?: AccountHead; genesis?: string }): SeqPlan {
  const warnings: string[] = [];
  const chain = opts.genesis !== undefined ? chainOf(state, opts.genesis) : { nextSeq: state.nextSeq, head: state.head };
  const mine = state.transfers.filter((t) => holdsSeq(t.status as Stage) && (opts.genesis === undefined || onNetwork(t, opts.genesis)));
  if (opts.seq === undefined) {
    let seq = chain.nextSeq;
    let prev = chain.head;
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
  for (const used of mine.filter((t) => t.transfer.seq === seq)) {
    warnings.push(
      `seq ${seq} was already used by transfer ${used.transfer.id} (${used.status}); if both reach custodians, the account is frozen as a double spender`,
    );
  }
  if (seq > chain.nextSeq) warnings.push(`seq ${seq} skips ahead of this wallet's next seq ${chain.nextSeq}; custodians accept it only after seq ${seq - 1}`);
  let prev = opts.prev;
  if (prev === undefined) {
    if (seq === 1) prev = ZERO_HEAD;
    else {
      const before = mine.filter((t) => t.transfer.seq === seq - 1);
      if (before.length === 1) prev = before[0]!.transfer.id;
      else if (opts.account && opts.account.seq === seq - 1 && opts.account.head) prev = opts.account.head;
    }
  }
  if (prev === undefined) throw new CliError('BAD_REQUEST', `the id of this account's transfer at seq ${seq - 1} is unknown here; give it with --prev ID`);
  if (!/^[0-9a-f]{64}$/.test(prev)) throw new CliError('BAD_REQUEST', '--prev must be a transfer id: 64 lowercase hex digits');
  return { seq, prev, warnings };
}

/** The ledger after signing `t` for network `genesis`: it holds its seq there, and becomes the head if it is the newest. */
export function recordSigned(state: WalletState, t: TransferJson, signedAt: string, genesis?: string): WalletState {
  if (genesis !== undefined) state = adoptLegacy(state, genesis);
  const transfers = state.transfers.map((x) =>
    // an explicit --seq over a used seq: the older transfer is no longer resubmitted
    x.transfer.seq === t.seq && x.transfer.id !== t.id && holdsSeq(x.status as Stage) && !isSettled(x.status as Stage) && (genesis === undefined || onNetwork(x, genesis))
      ? { ...x, status: 'replaced' }
      : x,
  );
  if (!transfers.some((x) => x.transfer.id === t.id)) transfers.push({ transfer: t, status: 'signed', signedAt, ...(genesis !== undefined ? { genesis } : {}) });
  if (genesis === undefined) {
    const newest = t.seq + 1 >= state.nextSeq;
    return { ...state, nextSeq: newest ? t.seq + 1 : state.nextSeq, head: newest ? t.id : state.head, transfers };
  }
  const chain = chainOf(state, genesis);
  const newest = t.seq + 1 >= chain.nextSeq;
  const next = newest ? { nextSeq: t.seq + 1, head: t.id } : chain;
  return { ...state, transfers, chains: { ...(state.chains ?? {}), [genesis]: next } };
}

/**
 * Gives back the seq of transfer `id` on network `genesis`, which it can never hold
 * there (its signature does not verify under that network: no custodian can vote
 * for it, so it can never be certified). It is kept as 'released' and never
 * resubmitted; when it was the chain's head, the chain steps back to its seq.
 */
export function releaseSeq(state: WalletState, id: string, genesis: string, reason: string): WalletState {
  state = adoptLegacy(state, genesis);
  const t = state.transfers.find((x) => x.transfer.id === id);
  if (!t) return state;
  const transfers = state.transfers.map((x) => (x.transfer.id === id ? { ...x, status: 'released', reason } : x));
  const chain = chainOf(state, genesis);
  const next = chain.head === id ? { nextSeq: t.transfer.seq, head: t.transfer.prev } : chain;
  return { ...state, transfers, chains: { ...(state.chains ?? {}), [genesis]: next } };
}
