// One replica's custody state of an account: what the custodian (custodian.ts) and
// its history (custody-history.ts) both read and write.
import type { Bytes } from '../../protocol/bytes.ts';
import type { Certificate, Transfer } from '../../protocol/objects.ts';

/** One replica's custody state of an account. Kept small: the simulator holds millions. */
export type Account = {
  /** Highest seq locked here (0: none). */
  seq: number;
  head: Transfer | null;
  headId: Bytes | null;
  /** Highest seq known certified (from a `certified` message or a handoff). */
  certifiedSeq: number;
  /** The certificate at certifiedSeq, when this replica has it (handed off as proof). */
  cert: Certificate | null;
  /**
   * Transfers peers reported locked above this replica's head, not adopted for want of
   * proof. One of them may be certified, so a different transfer at their seq is
   * answered `conflict`, never voted for (protocol.md §7 merge rule). Absent on most accounts.
   */
  pins?: Transfer[];
  /** Sum of debits locked. */
  debited: bigint;
  /** Sum of credits applied. */
  credited: bigint;
  /** Ids (hex) of credits applied to this account, in that order, for handoff: credits[i] is the (creditBase + i)-th. */
  credits: string[];
  /** How many older credits are left to the node's records (`k/` index); 0 without a reader. */
  creditBase: number;
  frozen: boolean;
  /** Epoch at which this replica is known to hold the account's whole state (-1: not yet). */
  syncedEpoch: number;
  /**
   * Locks by seq: locks[i] is at seq lockBase + i; older ones answer idempotent
   * re-votes. Sparse after a handoff. With a reader, those below lockBase are read
   * back from their records (Custodian.lockAt); without, lockBase stays 0.
   */
  locks: (Transfer | undefined)[];
  lockBase: number;
};

export function newAccount(): Account {
  return { seq: 0, head: null, headId: null, certifiedSeq: 0, cert: null, debited: 0n, credited: 0n, credits: [], creditBase: 0, frozen: false, syncedEpoch: -1, locks: [], lockBase: 0 };
}
