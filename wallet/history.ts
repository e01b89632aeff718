// `wallet history`: the wallet's own ledger (what it signed) merged with what the
// account's custodians hold (GET /accounts/:address/history): incoming credits and
// any debit this wallet file did not sign. Newest first. Credits carry no time (the
// custodians keep ids and amounts only), so they lead the list, newest applied first.
import { showCoins } from './amount.ts';
import type { WalletTransfer } from './keystore.ts';

/** The node's answer, as docs/api.md gives it. */
export type NodeHistory = {
  readonly credits: readonly { readonly transferId: string; readonly amount: string; readonly from?: string }[];
  readonly debits: readonly { readonly seq: number; readonly transferId: string; readonly to: string; readonly amount: string; readonly status: string }[];
};

export type HistoryEntry = {
  direction: 'in' | 'out';
  transferId: string;
  /** The sender's seq (outgoing only). */
  seq?: number;
  /** The other account: recipient of an outgoing, sender of an incoming transfer (when known). */
  counterparty?: string;
  /** Base units, decimal. */
  amount: string;
  status: string;
  reason?: string;
  memo?: string;
  signedAt?: string;
};

/** Custodian debit statuses in the wallet's words. */
const DEBIT_STATUS: Record<string, string> = { certified: 'final', locked: 'pending' };

export function mergeHistory(ledger: readonly WalletTransfer[], node: NodeHistory | undefined): HistoryEntry[] {
  const out: HistoryEntry[] = ledger.map((t) => ({
    direction: 'out', transferId: t.transfer.id, seq: t.transfer.seq, counterparty: t.transfer.to, amount: t.transfer.amount, status: t.status,
    ...(t.reason ? { reason: t.reason } : {}), ...(t.transfer.memo ? { memo: t.transfer.memo } : {}), signedAt: t.signedAt,
  }));
  const known = new Set(ledger.map((t) => t.transfer.id));
  for (const d of node?.debits ?? []) {
    if (!known.has(d.transferId)) out.push({ direction: 'out', transferId: d.transferId, seq: d.seq, counterparty: d.to, amount: d.amount, status: DEBIT_STATUS[d.status] ?? d.status });
  }
  // Outgoing: highest seq first; at one seq, the latest signed first (a replaced one below).
  out.sort((a, b) => b.seq! - a.seq! || (b.signedAt ?? '').localeCompare(a.signedAt ?? ''));
  const incoming: HistoryEntry[] = [...(node?.credits ?? [])].reverse().map((c) => ({
    direction: 'in', transferId: c.transferId, ...(c.from ? { counterparty: c.from } : {}), amount: c.amount, status: 'credited',
  }));
  return [...incoming, ...out];
}

/** Aligned rows (header first), amounts in coin units with the symbol, or base units without a genesis. */
export function formatHistory(entries: readonly HistoryEntry[], coin?: { decimals: number; symbol: string }): string[] {
  const amount = (s: string) => (coin ? showCoins(BigInt(s), coin.decimals, coin.symbol) : `${s} base units`);
  const head = ['seq', 'status', 'amount', 'dir', 'counterparty', 'transfer'];
  const rows = entries.map((e) => [
    e.seq !== undefined ? String(e.seq) : '-',
    e.status + (e.reason ? ` (${e.reason})` : ''),
    amount(e.amount),
    e.direction === 'in' ? 'in from' : 'out to',
    e.counterparty ?? '(unknown)',
    e.transferId.slice(0, 16),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
