// GET /accounts/:address/history (docs/api.md): the credits and debits an account's
// custodians hold. Any node answers: it asks the custodians with the account-pull
// message that handoff already uses (its account-state answer carries the credit ids
// and the head with its recent locks), and reads its own replica when it is one. One
// custodian may lie, so an entry is shown when enough of the answers list it.
import type { FastifyInstance } from 'fastify';
import { decodeAddress, encodeAddress } from '../../protocol/address.ts';
import { equal, fromHex, toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { AccountHistory } from '../core/api.ts';
import type { Bundle } from '../../protocol/objects.ts';

/** Newest credits whose sender is looked up in their stored bundle: each may cost a ring lookup. */
export const MAX_CREDITS_WITH_SENDER = 16;

export type HistoryDeps = {
  /** The account's histories by custodian (this node's own replica included), with how many were asked. */
  askHistory(account: Bytes): Promise<{ asked: number; answers: AccountHistory[] }>;
  /** The stored bundle of a transfer (here or on its storage nodes), for a credit's sender. */
  findBundle(transferId: Bytes): Promise<Bundle | null>;
  /** f + 1 at the current epoch (node/core honestReporters: k - q + 1, and 2 at k = q): answers needed so that one is honest. */
  honest(): number;
};

export type HistoryJson = {
  address: string;
  credits: { transferId: string; amount: string; from?: string }[];
  debits: { seq: number; transferId: string; to: string; amount: string; status: 'certified' | 'locked' }[];
  custodians: { asked: number; answered: number };
};

/**
 * Entries listed by at least `need` answers (capped at the number of answers, so a
 * lone answer still shows). Credits keep the order the custodians applied them,
 * oldest first; debits go by seq. A debit is certified when any lister says so.
 */
export function mergeHistories(answers: readonly AccountHistory[], need: number): Pick<HistoryJson, 'credits' | 'debits'> {
  const n = Math.max(1, Math.min(need, answers.length));
  const credits = new Map<string, { amount: bigint; count: number; rank: number }>();
  const debits = new Map<string, { d: AccountHistory['debits'][number]; count: number; certified: boolean }>();
  for (const a of answers) {
    a.credits.forEach((c, i) => {
      const key = `${toHex(c.transferId)}/${c.amount}`;
      const e = credits.get(key);
      if (e) {
        e.count++;
        e.rank = Math.max(e.rank, i);
      } else credits.set(key, { amount: c.amount, count: 1, rank: i });
    });
    for (const d of a.debits) {
      const key = `${toHex(d.transferId)}/${d.seq}`;
      const e = debits.get(key);
      if (e) {
        e.count++;
        e.certified ||= d.certified;
      } else debits.set(key, { d, count: 1, certified: d.certified });
    }
  }
  return {
    credits: [...credits.entries()]
      .filter(([, e]) => e.count >= n)
      .sort((x, y) => x[1].rank - y[1].rank)
      .map(([key, e]) => ({ transferId: key.slice(0, 64), amount: e.amount.toString() })),
    debits: [...debits.values()]
      .filter((e) => e.count >= n)
      .sort((x, y) => x.d.seq - y.d.seq)
      .map(({ d, certified }) => ({ seq: d.seq, transferId: toHex(d.transferId), to: encodeAddress(d.to), amount: d.amount.toString(), status: certified ? 'certified' : 'locked' })),
  };
}

export function registerHistory(app: FastifyInstance, d: HistoryDeps): void {
  app.get<{ Params: { address: string } }>('/accounts/:address/history', async (req): Promise<HistoryJson> => {
    const account = decodeAddress(req.params.address);
    const { asked, answers } = await d.askHistory(account);
    if (answers.length === 0) throw new Rejection(Reason.UNAVAILABLE, `none of ${asked} custodians answered`);
    const { credits, debits } = mergeHistories(answers, d.honest());
    // The sender is in the credit's certificate, which custodians do not keep: the stored bundle has it.
    await Promise.all(credits.slice(-MAX_CREDITS_WITH_SENDER).map(async (c) => {
      const b = await d.findBundle(fromHex(c.transferId)).catch(() => null);
      const t = b?.certificate.transfer;
      if (t && equal(t.to, account) && t.amount.toString() === c.amount) c.from = encodeAddress(t.from);
    }));
    return { address: encodeAddress(account), credits, debits, custodians: { asked, answered: answers.length } };
  });
}
