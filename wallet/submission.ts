// What the wallet does next with one of its own transfers (protocol.md §5, wallet side),
// decided from the ledger entry and node answers the caller has already checked.
// No I/O, no clock, no randomness: the CLI wallet (wallet/settle.ts) and the
// simulator's clients (sim/workload.ts) run this same code.
//
// Trust: a stage moves forward only on evidence the wallet verified itself: a
// certificate (q valid votes) for `final`, a bundle (certificate + q valid receipts)
// for `credited`, a bundle served from storage for `stored`. A node's bare word
// ("final", "stored") moves nothing; it only makes the caller fetch the proof.

/** How far the wallet knows its transfer got, by its own checks. */
export type Stage = 'signed' | 'pending' | 'final' | 'credited' | 'stored' | 'rejected' | 'conflict' | 'released' | 'replaced';

/** Statuses a node may claim (docs/api.md). */
export type Claim = 'pending' | 'final' | 'credited' | 'stored';

/** What the caller verified of a node's answer. */
export type Proof = 'none' | 'certificate' | 'bundle' | 'stored';

export type Answer =
  /** The start of a command: nothing asked yet. */
  | { readonly kind: 'start' }
  /** No node answered (down, hung, 503). */
  | { readonly kind: 'unreachable' }
  /** The node does not know the transfer (not its gateway, or its gateway restarted). */
  | { readonly kind: 'unknown' }
  | { readonly kind: 'status'; readonly claim: Claim; readonly proof: Proof }
  /**
   * A rejection. `verifiesOnNetwork` is the wallet's own check, never the node's:
   * does the transfer's signature verify under the network of the node's genesis?
   */
  | { readonly kind: 'rejected'; readonly reason: string; readonly verifiesOnNetwork: boolean }
  | { readonly kind: 'conflict' };

export type Entry = {
  readonly stage: Stage;
  /** When the wallet last handed it to a node (caller's clock, ms); undefined if never. */
  readonly lastSubmitAt?: number;
};

export type Action =
  /** POST it again, as signed (idempotent by id). */
  | 'resubmit'
  /** Ask again later. */
  | 'wait'
  /** Nothing more to do: stored. */
  | 'done'
  /** Never resubmit: a conflict, a replaced or released transfer, or a rejection (until the next command). */
  | 'stop'
  /** Give the seq back: the transfer can never be certified on this network. */
  | 'release';

export type Decision = { readonly stage: Stage; readonly action: Action; readonly why: string };

export type Policy = {
  /** A transfer not yet stored goes again after this long without progress (ms). */
  readonly resubmitAfterMs: number;
};

/** How long a `send` follows its transfer by default (--timeout 60). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

/** The CLI's default: a gateway that has not moved a transfer in 5 s gets it again (as the simulator's default). */
export const DEFAULT_POLICY: Policy = { resubmitAfterMs: 5_000 };

const RANK: Record<Stage, number> = { signed: 0, pending: 1, rejected: 1, final: 2, credited: 3, stored: 4, conflict: 9, released: 9, replaced: 9 };
const PROVEN: Record<Proof, Stage | null> = { none: null, certificate: 'final', bundle: 'credited', stored: 'stored' };

export function stageRank(s: Stage): number {
  return RANK[s];
}

/** Certified: the debit is irrevocable and the next seq may follow. */
export function isSettled(s: Stage): boolean {
  return s === 'final' || s === 'credited' || s === 'stored';
}

/** The transfer still needs the wallet: not stored, and not ended for good. */
export function isOpen(s: Stage): boolean {
  return s === 'signed' || s === 'pending' || s === 'rejected' || s === 'final' || s === 'credited';
}

/** Holds its seq: the wallet signs no other transfer for that seq on that network. */
export function holdsSeq(s: Stage): boolean {
  return s !== 'released' && s !== 'replaced';
}

/** Has the command's goal been met? `goal` is a stage the user waits for. */
export function reached(s: Stage, goal: 'pending' | 'final' | 'credited' | 'stored'): boolean {
  if (s === 'rejected' || s === 'conflict' || s === 'released' || s === 'replaced') return false;
  return RANK[s] >= RANK[goal];
}

function forward(from: Stage, to: Stage): Stage {
  return RANK[to] > RANK[from] ? to : from;
}

/** The next step for `e` given one checked answer `a`, at time `now` (ms, the caller's clock). */
export function decide(e: Entry, a: Answer, now: number, policy: Policy = DEFAULT_POLICY): Decision {
  const s = e.stage;
  if (s === 'stored') return { stage: s, action: 'done', why: 'stored with a verified bundle' };
  if (s === 'replaced') return { stage: s, action: 'stop', why: 'signed over with an explicit --seq' };
  if (s === 'released') return { stage: s, action: 'stop', why: 'its seq was released' };
  if (s === 'conflict') return { stage: s, action: 'stop', why: 'another transfer holds its seq: the account is reported as a double spender' };
  const quiet = e.lastSubmitAt === undefined || now - e.lastSubmitAt >= policy.resubmitAfterMs;
  switch (a.kind) {
    case 'start':
      // Every command finishes what it left: what holds its seq unsettled goes again at
      // once; a certified one not yet stored, once the network had its time to finish it alone.
      if (!isSettled(s)) return { stage: s, action: 'resubmit', why: s === 'signed' ? 'never handed to a node' : `${s}, not yet certified` };
      if (quiet) return { stage: s, action: 'resubmit', why: `${s}, not yet stored` };
      return { stage: s, action: 'wait', why: `${s}, submitted moments ago` };
    case 'unreachable':
      return { stage: s, action: quiet ? 'resubmit' : 'wait', why: 'no node answered' };
    case 'unknown':
      // Its gateway forgot it (restarted) or never had it: hand it over again.
      return { stage: s, action: 'resubmit', why: 'the node does not know it' };
    case 'conflict':
      // A settled transfer cannot meet a conflict that wins: keep what was proven.
      if (isSettled(s)) return { stage: s, action: quiet ? 'resubmit' : 'wait', why: 'certified; a conflict report cannot undo a verified certificate' };
      return { stage: 'conflict', action: 'stop', why: 'another transfer holds its seq' };
    case 'rejected': {
      if (isSettled(s)) return { stage: s, action: 'wait', why: `certified; a rejection (${a.reason}) cannot undo a verified certificate` };
      // Safe to release only when no custodian of this network could ever lock it:
      // its signature does not verify under this network's id, so no vote, no certificate.
      if (!a.verifiesOnNetwork) return { stage: 'released', action: 'release', why: `it can never verify on this network (${a.reason})` };
      // It verifies here, so some custodian may hold its lock: it keeps the seq; the next command tries again.
      return { stage: 'rejected', action: 'stop', why: `rejected (${a.reason}); it keeps its seq and goes again on the next command` };
    }
    case 'status': {
      const proven = PROVEN[a.proof];
      let stage: Stage = proven === null ? s : forward(s, proven);
      if (stage === 'signed' || stage === 'rejected') stage = 'pending';
      if (stage === 'stored') return { stage, action: 'done', why: 'stored with a verified bundle' };
      // A claim beyond the proof (a lying or half-restarted node) changes nothing: the wallet keeps pushing.
      const unproven = RANK[a.claim as Stage] > RANK[stage] ? ` (the node claims ${a.claim}, unproven)` : '';
      return { stage, action: quiet ? 'resubmit' : 'wait', why: `${stage}${unproven}` };
    }
  }
}
