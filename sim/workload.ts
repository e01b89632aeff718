// Wallets and their traffic (protocol.md §5 from the wallet's side): accounts funded by
// issuance, Poisson arrivals, uniform or Zipf senders and recipients. A wallet
// keeps one transfer in flight per account (the next seq must follow a locked one),
// and never signs a different transfer for a seq it used, except the double-spending
// wallets, which do exactly that.
//
// When to resubmit is the real wallet's own code (wallet/submission.ts), run as the
// CLI runs it: while a `send` waits (until final, at most its timeout), and at the
// start of each later command of that wallet (its next arrival), for every transfer
// of it not yet stored. Between commands nothing is resubmitted: a transfer the
// network strands after `final` stays stranded until the sender's next command.
import { ZERO32, hexOf, toHex, type Bytes } from '../protocol/bytes.ts';
import { TransferCodec, sign, transferId, type Transfer } from '../protocol/objects.ts';
import type { SignatureScheme, Signer } from '../protocol/signature.ts';
import type { TransferStatus } from '../node/core/api.ts';
import type { ReasonCode } from '../protocol/errors.ts';
import { decide, DEFAULT_COMMAND_TIMEOUT_MS, type Answer, type Proof, type Stage } from '../wallet/submission.ts';
import { Prng, Zipf } from './prng.ts';
import type { SimParams } from './params.ts';

export type TxKind = 'transfer' | 'issue' | 'fund' | 'double-spend';

export type TxRecord = {
  readonly idHex: string;
  readonly transfer: Transfer;
  readonly kind: TxKind;
  readonly from: number;
  readonly to: number;
  readonly amount: number;
  readonly submittedAt: number;
  status: TransferStatus;
  reason?: ReasonCode;
  finalAt?: number;
  creditedAt?: number;
  storedAt?: number;
  submissions: number;
  /** Virtual time of the last submission (the wallet's lastSubmitAt). */
  lastSubmitAt?: number;
  /** When the `send` command that follows it began (a later command of the wallet restarts it). */
  commandAt?: number;
  /** A poll timer is pending (the `send` following it is waiting). */
  polling?: boolean;
};

export type Wallet = {
  readonly index: number;
  readonly signer: Signer;
  readonly id: Bytes;
  readonly idHex: string;
  readonly doubleSpender: boolean;
  seq: number;
  head: Bytes;
  /** Funds the wallet knows are credited and not yet spent (base units). */
  spendable: number;
  busy: TxRecord | null;
  /** Recipients of transfers waiting for the one in flight. */
  readonly queue: number[];
  /** Funding transfers to pass on to child accounts (funding tree), before any other. */
  readonly fundQueue: number[];
  /** Counted in `funded` once its initial balance is credited. */
  funded: boolean;
  /** Set after a rejection or a conflict: the wallet stops using this account. */
  retired: boolean;
  dsPending: boolean;
  /** Its transfers not yet stored (nor rejected or in conflict), oldest first: what each command finishes. */
  readonly open: TxRecord[];
};

export type DoubleSpendAttempt = {
  readonly account: number;
  readonly seq: number;
  readonly ids: [string, string];
  readonly at: number;
  alertAt?: number;
  detectedAt?: number;
};

/** What the workload needs from the world. */
export interface WalletPort {
  now(): number;
  /** Hands a signed transfer to a random gateway (the wallet's HTTP POST). */
  submit(t: Transfer, avoid?: number, first?: boolean): number;
  /** The mint hands a pending issuance to another gateway. */
  resubmitIssue(rec: TxRecord): void;
  /** Calls workload.check(rec) after `delay` ms. */
  checkLater(rec: TxRecord, delay: number): void;
}

/** One empty memo for every transfer (an empty Uint8Array of its own costs ~200 bytes of heap). */
const NO_MEMO: Bytes = new Uint8Array(0);

export class Workload {
  readonly wallets: Wallet[];
  readonly byId = new Map<string, TxRecord>();
  readonly attempts: DoubleSpendAttempt[] = [];
  /** attempts by account index */
  readonly attemptOf = new Map<number, DoubleSpendAttempt>();
  private readonly params: SimParams;
  private readonly network: string;
  private readonly rng: Prng;
  private readonly senderZipf: Zipf | null;
  private readonly recipientZipf: Zipf | null;
  private readonly port: WalletPort;
  arrivals = 0;
  submitted = 0;
  skipped = 0;
  resubmits = 0;
  /** Transfers (not issuances) that reached stored, rejected or conflict. */
  terminal = 0;
  terminalIssues = 0;
  /** Issuances credited so far; transfers start when all are. */
  funded = 0;

  constructor(params: SimParams, network: string, scheme: SignatureScheme, rng: Prng, port: WalletPort) {
    this.params = params;
    this.network = network;
    this.rng = rng;
    this.port = port;
    const keys = rng.fork('wallet-keys');
    const ds = new Set<number>();
    const pick = rng.fork('double-spenders');
    while (ds.size < params.adversaries.doubleSpenders) ds.add(pick.int(params.accounts));
    this.wallets = [];
    for (let i = 0; i < params.accounts; i++) {
      const signer = scheme.signer(keys.bytes(32));
      this.wallets.push({
        index: i, signer, id: signer.publicKey, idHex: toHex(signer.publicKey), doubleSpender: ds.has(i),
        seq: 0, head: ZERO32, spendable: 0, busy: null, queue: [], fundQueue: [], funded: false, retired: false, dsPending: false, open: [],
      });
    }
    const w = params.workload;
    this.senderZipf = w.senders === 'zipf' ? new Zipf(params.accounts, w.zipfS) : null;
    this.recipientZipf = w.recipients === 'zipf' ? new Zipf(params.accounts, w.zipfS) : null;
  }

  /**
   * Funding tree: the mint's account is one chain of seqs, each locked after the
   * one before, so issuing to every account would take A round trips in a row.
   * The mint issues to ceil(sqrt(A)) root accounts instead, each carrying its
   * children's balances, and every root pays its children in turn: about
   * 2 sqrt(A) round trips, all with the ordinary protocol.
   */
  get roots(): number {
    return Math.ceil(Math.sqrt(this.params.accounts));
  }

  /** Issuance amount for root `i`: its own balance plus its children's. */
  rootAmount(i: number): bigint {
    const r = this.roots;
    let children = 0;
    for (let j = r + i; j < this.params.accounts; j += r) children++;
    return BigInt(this.params.workload.initialBalance) * BigInt(1 + children);
  }

  /** Records an issuance the mint made to wallet `to`. */
  trackIssue(t: Transfer, to: number): void {
    const rec = this.record(t, 'issue', -1, to, Number(t.amount));
    rec.submissions++;
    this.port.checkLater(rec, this.params.workload.resubmitMs);
  }

  private record(t: Transfer, kind: TxKind, from: number, to: number, amount: number): TxRecord {
    const rec: TxRecord = { idHex: hexOf(transferId(t)), transfer: t, kind, from, to, amount, submittedAt: this.port.now(), status: 'pending', submissions: 0 };
    this.byId.set(rec.idHex, rec);
    return rec;
  }

  /** One Poisson arrival: a transfer intent from a chosen sender to a chosen recipient. */
  arrival(): void {
    this.arrivals++;
    const n = this.params.accounts;
    const from = this.senderZipf ? this.senderZipf.sample(this.rng) : this.rng.int(n);
    let to = this.recipientZipf ? this.recipientZipf.sample(this.rng) : this.rng.int(n);
    if (to === from) to = (to + 1 + this.rng.int(n - 1)) % n;
    const w = this.wallets[from]!;
    if (w.retired) {
      this.skipped++;
      return;
    }
    w.queue.push(to);
    // A command of this wallet: the real `send` first finishes the wallet's earlier transfers.
    this.command(w);
    if (w.busy === null) this.next(w);
  }

  /**
   * The start of one wallet command: every open transfer gets what wallet/submission.ts
   * says at a command's start. The transfer in flight is followed again, as a new
   * `send` follows it until final or its timeout.
   */
  private command(w: Wallet): void {
    const now = this.port.now();
    for (const rec of w.open) {
      if (isTerminal(rec.status)) continue;
      // resubmitUntil 'final': no repair by later commands, the network alone must finish it (I9).
      if (this.params.workload.resubmitUntil === 'final' && rec.status !== 'pending') continue;
      const d = decide(entryOf(rec), { kind: 'start' }, now, this.policy);
      if (d.action !== 'resubmit') continue;
      this.resubmits++;
      if (w.busy === rec) rec.commandAt = now;
      this.send(rec);
    }
  }

  /** Schedules wallet `i`'s one double-spend attempt (made as soon as it is idle). */
  doubleSpend(i: number): void {
    const w = this.wallets[i]!;
    if (w.retired) return;
    w.dsPending = true;
    if (w.busy === null) this.next(w);
  }

  private get policy(): { resubmitAfterMs: number } {
    return { resubmitAfterMs: this.params.workload.resubmitMs };
  }

  get nextIntervalMs(): number {
    return this.rng.exp(1000 / this.params.rate);
  }

  /** Starts the wallet's next transfer, if it has one and the funds. */
  private next(w: Wallet): void {
    if (w.retired || w.busy !== null) return;
    if (w.fundQueue.length > 0) {
      const to = w.fundQueue.shift()!;
      const amount = this.params.workload.initialBalance;
      const t = this.sign(w, to, amount);
      w.spendable -= amount;
      const rec = this.record(t, 'fund', w.index, to, amount);
      w.busy = rec;
      w.open.push(rec);
      rec.commandAt = this.port.now();
      this.send(rec);
      return;
    }
    if (w.dsPending) return this.attemptDoubleSpend(w);
    while (w.queue.length > 0) {
      const to = w.queue.shift()!;
      if (w.spendable < 1) {
        this.skipped++;
        continue;
      }
      const amount = 1 + this.rng.int(Math.min(this.params.workload.maxAmount, w.spendable));
      const t = this.sign(w, to, amount);
      w.spendable -= amount;
      const rec = this.record(t, 'transfer', w.index, to, amount);
      w.busy = rec;
      w.open.push(rec);
      rec.commandAt = this.port.now();
      this.submitted++;
      this.send(rec);
      return;
    }
  }

  private sign(w: Wallet, to: number, amount: number, memo: Bytes = NO_MEMO): Transfer {
    const t = sign(TransferCodec, this.network, w.signer, {
      from: w.id, to: this.wallets[to]!.id, amount: BigInt(amount), seq: w.seq + 1, prev: w.head, memo,
    });
    return t;
  }

  /** Two transfers with one seq, to two recipients, handed to two gateways at once. */
  private attemptDoubleSpend(w: Wallet): void {
    w.dsPending = false;
    if (w.spendable < 2) return;
    const n = this.params.accounts;
    const a = (w.index + 1 + this.rng.int(n - 1)) % n;
    let b = (w.index + 1 + this.rng.int(n - 1)) % n;
    if (b === a) b = (a + 1) % n === w.index ? (a + 2) % n : (a + 1) % n;
    const amount = Math.max(1, Math.floor(w.spendable * 0.9));
    const t1 = this.sign(w, a, amount, new Uint8Array([1]));
    const t2 = this.sign(w, b, amount, new Uint8Array([2]));
    const r1 = this.record(t1, 'double-spend', w.index, a, amount);
    const r2 = this.record(t2, 'double-spend', w.index, b, amount);
    const attempt: DoubleSpendAttempt = { account: w.index, seq: t1.seq, ids: [r1.idHex, r2.idHex], at: this.port.now() };
    this.attempts.push(attempt);
    this.attemptOf.set(w.index, attempt);
    w.retired = true;
    this.submitted += 2;
    r1.submissions++;
    r2.submissions++;
    const g = this.port.submit(t1, -1, true);
    this.port.submit(t2, g, true);
  }

  private send(rec: TxRecord): void {
    rec.submissions++;
    rec.lastSubmitAt = this.port.now();
    this.port.submit(rec.transfer, -1, rec.submissions === 1 && rec.kind !== 'fund');
    if (this.wallets[rec.from]?.busy === rec) this.poll(rec);
  }

  /** One poll timer per transfer while its `send` waits. */
  private poll(rec: TxRecord): void {
    if (rec.polling) return;
    rec.polling = true;
    this.port.checkLater(rec, this.params.workload.resubmitMs);
  }

  /**
   * The poll timer of a `send` still waiting: wallet/submission.ts decides on what the
   * wallet has seen. The command ends at final (its default --wait) or its timeout;
   * after that, only the wallet's next command touches the transfer.
   */
  check(rec: TxRecord): void {
    if (isTerminal(rec.status)) return;
    if (rec.kind === 'issue') {
      // The mint re-drives its own issuances (not a wallet).
      this.resubmits++;
      rec.submissions++;
      this.port.resubmitIssue(rec);
      this.port.checkLater(rec, this.params.workload.resubmitMs);
      return;
    }
    rec.polling = false;
    const w = this.wallets[rec.from]!;
    const now = this.port.now();
    const live = w.busy === rec && rec.finalAt === undefined && now - (rec.commandAt ?? rec.submittedAt) < DEFAULT_COMMAND_TIMEOUT_MS;
    if (!live) return;
    const d = decide(entryOf(rec), answerOf(rec), now, this.policy);
    if (d.action === 'resubmit') {
      this.resubmits++;
      this.send(rec);
    }
    this.poll(rec);
  }

  /** A gateway reported a status (the wallet polls GET /transfers/:id). */
  onStatus(idHex: string, status: TransferStatus, reason: ReasonCode | undefined, now: number): TxRecord | undefined {
    const rec = this.byId.get(idHex);
    if (rec === undefined) return undefined;
    if (isTerminal(rec.status)) return undefined;
    // A status only moves forward; a second gateway may still report an earlier one.
    if (rank(status) <= rank(rec.status)) return undefined;
    const firstFinal = rec.finalAt === undefined && rank(status) >= rank('final') && status !== 'rejected' && status !== 'conflict';
    if (firstFinal) rec.finalAt = now;
    if ((status === 'credited' || status === 'stored') && rec.creditedAt === undefined) {
      rec.creditedAt = now;
      const r = this.wallets[rec.to]!;
      r.spendable += rec.amount;
      if ((rec.kind === 'issue' || rec.kind === 'fund') && !r.funded) {
        r.funded = true;
        this.funded++;
        if (rec.kind === 'issue') {
          for (let j = this.roots + r.index; j < this.params.accounts; j += this.roots) r.fundQueue.push(j);
          this.next(r);
        }
      }
    }
    if (status === 'stored') rec.storedAt = now;
    rec.status = status;
    if (reason !== undefined) rec.reason = reason;
    if ((rec.kind === 'transfer' || rec.kind === 'fund') && rec.from >= 0) {
      const w = this.wallets[rec.from]!;
      if (firstFinal && w.busy === rec) {
        // The debit is locked by q custodians: the next seq may follow it.
        w.seq = rec.transfer.seq;
        w.head = transferId(rec.transfer);
        w.busy = null;
        this.next(w);
      } else if ((status === 'rejected' || status === 'conflict') && w.busy === rec) {
        // The seq may be locked at some custodians: never sign another transfer for it.
        w.busy = null;
        w.retired = true;
      }
    }
    if (isTerminal(status)) {
      if (rec.kind === 'issue' || rec.kind === 'fund') this.terminalIssues++;
      else this.terminal++;
      if (rec.from >= 0) {
        const open = this.wallets[rec.from]!.open;
        const i = open.indexOf(rec);
        if (i >= 0) open.splice(i, 1);
      }
    }
    return rec;
  }

  /** Transfers (not issuances) still in flight. */
  get inFlight(): number {
    return this.submitted - this.terminal;
  }
}

/**
 * What the wallet has seen of `rec`, as wallet/submission.ts takes it. Node events
 * here stand for answers the wallet checked: a gateway reports final only holding
 * the certificate, credited only holding the bundle (the simulator's gateways run
 * the real machine code).
 */
function entryOf(rec: TxRecord): { stage: Stage; lastSubmitAt?: number } {
  const stage: Stage = rec.submissions === 0 ? 'signed' : rec.status;
  return rec.lastSubmitAt !== undefined ? { stage, lastSubmitAt: rec.lastSubmitAt } : { stage };
}

const PROOF: Record<TransferStatus, Proof> = { pending: 'none', final: 'certificate', credited: 'bundle', stored: 'stored', rejected: 'none', conflict: 'none' };

function answerOf(rec: TxRecord): Answer {
  if (rec.status === 'rejected') return { kind: 'rejected', reason: rec.reason ?? 'REJECTED', verifiesOnNetwork: true };
  if (rec.status === 'conflict') return { kind: 'conflict' };
  return { kind: 'status', claim: rec.status, proof: PROOF[rec.status] };
}

export function isTerminal(s: TransferStatus): boolean {
  return s === 'stored' || s === 'rejected' || s === 'conflict';
}

function rank(s: TransferStatus): number {
  switch (s) {
    case 'pending': return 0;
    case 'final': return 1;
    case 'credited': return 2;
    case 'stored': return 3;
    case 'rejected': return 4;
    case 'conflict': return 4;
  }
}
