// A transfer's statuses in the order it reaches them, and the levels a caller may
// wait for. One ranking for node, mint and wallet.

export type TransferStatus = 'pending' | 'final' | 'credited' | 'stored' | 'rejected' | 'conflict';

/** Levels an HTTP caller may wait for (`?wait=`). */
export const WAIT_LEVELS = ['final', 'credited', 'stored'] as const;
export type WaitLevel = (typeof WAIT_LEVELS)[number];

/** Progress order; `rejected` and `conflict` are ends, not steps, and have no rank. */
export const STATUS_RANK = { pending: 0, final: 1, credited: 2, stored: 3 } as const;
export type RankedStatus = keyof typeof STATUS_RANK;

/** The rank of a status, or undefined for an end (`rejected`, `conflict`) or an unknown word. */
export function rankOf(status: string): number | undefined {
  return Object.hasOwn(STATUS_RANK, status) ? STATUS_RANK[status as RankedStatus] : undefined;
}

/** Whether `status` is at or past `level`. */
export function reached(status: string, level: RankedStatus): boolean {
  const r = rankOf(status);
  return r !== undefined && r >= STATUS_RANK[level];
}

/** A transfer that will move no further on its own. */
export function isEnd(status: string): boolean {
  return status === 'rejected' || status === 'conflict';
}
