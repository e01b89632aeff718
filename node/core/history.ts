// Account history (docs/api.md GET /accounts/:address/history): the credits a
// replica applied and the debits it locked, read from its custody state or from an
// account-state message a custodian sent. Read-only: nothing here changes a replica.
import { fromHex, toHex, type Bytes } from '../../protocol/bytes.ts';
import { transferId } from '../../protocol/objects.ts';
import type { AccountHistory } from './api.ts';
import type { Custodian } from './custodian.ts';
import { MAX_CREDITS_PER_STATE, type AccountState } from '../../protocol/handoff-codec.ts';

/**
 * Debits this replica lists at most, the newest: older locks may be on disk only, and a
 * remote custodian's answer holds the head and MAX_RECENT_LOCKS below it anyway.
 */
export const MAX_REPLICA_DEBITS = 1024;

/**
 * This replica's history of `account`, or undefined when it holds nothing of it: its
 * first page of credits (as a remote custodian's answer) and its newest debits.
 */
export function replicaHistory(custodian: Custodian, account: Bytes, synced: boolean): AccountHistory | undefined {
  const hex = toHex(account);
  const a = custodian.accounts.get(hex);
  if (a === undefined) return undefined;
  const credits: AccountHistory['credits'][number][] = [];
  for (let n = 0; n < Math.min(custodian.history.creditCount(a), MAX_CREDITS_PER_STATE); n++) {
    const c = custodian.history.creditAt(a, hex, n);
    if (c !== undefined) credits.push({ transferId: fromHex(c.idHex), amount: c.amount });
  }
  const debits: AccountHistory['debits'][number][] = [];
  for (let seq = Math.max(1, a.seq - MAX_REPLICA_DEBITS + 1); seq <= a.seq; seq++) {
    const t = custodian.history.lockAt(a, hex, seq);
    if (t !== undefined) debits.push({ seq, transferId: transferId(t), to: t.to, amount: t.amount, certified: seq <= a.certifiedSeq });
  }
  return { account, credits, debits, synced };
}

/**
 * The history a custodian's account-state message carries: its credits page and its
 * head with the recent locks below it; a lock is certified when the state's
 * certificate (which proves the head) covers it.
 */
export function stateHistory(s: AccountState): AccountHistory {
  const certifiedSeq = s.certificate !== null ? s.certificate.transfer.seq : 0;
  const locks = s.head !== null ? [s.head, ...s.recent] : [];
  const debits = locks
    .map((t) => ({ seq: t.seq, transferId: transferId(t), to: t.to, amount: t.amount, certified: t.seq <= certifiedSeq }))
    .sort((x, y) => x.seq - y.seq);
  return { account: s.account, credits: s.credits, debits, synced: true };
}
