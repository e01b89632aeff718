// Account history (docs/api.md GET /accounts/:address/history): the credits a
// replica applied and the debits it locked, read from its custody state or from an
// account-state message a custodian sent. Read-only: nothing here changes a replica.
import { fromHex, toHex, type Bytes } from './bytes.ts';
import { transferId } from './objects.ts';
import type { AccountHistory } from './api.ts';
import type { Custodian } from './custodian.ts';
import type { AccountState } from './handoff-codec.ts';

/** This replica's history of `account`, or undefined when it holds nothing of it. */
export function replicaHistory(custodian: Custodian, account: Bytes, synced: boolean): AccountHistory | undefined {
  const a = custodian.accounts.get(toHex(account));
  if (a === undefined) return undefined;
  const credits = a.credits.map((id) => ({ transferId: fromHex(id), amount: custodian.credits.get(id)?.amount ?? 0n }));
  const debits: AccountHistory['debits'][number][] = [];
  a.locks.forEach((t, seq) => {
    if (t !== undefined) debits.push({ seq, transferId: transferId(t), to: t.to, amount: t.amount, certified: seq <= a.certifiedSeq });
  });
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
