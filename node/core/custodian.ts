// The custodian's rules (protocol.md §5 steps 2-4): lock (from, seq) to one transfer and
// vote, apply credits exactly once and answer receipts, freeze accounts proven to
// double-spend. Every lock and credit is a persist record of the same step, so the
// driver makes it durable before the vote or receipt leaves (protocol.md §8).
import { equal, fromHex, toHex, ZERO32, type Bytes } from '../../protocol/bytes.ts';
import { checkCertificate } from '../../protocol/certificate.ts';
import { Reason, Rejection, type ReasonCode } from '../../protocol/errors.ts';
import type { Address } from '../../protocol/ports.ts';
import {
  ReceiptCodec, TransferCodec, VoteCodec, bindNetwork, cachePayload, decodedEncoding, decodeWith, doubleSpendEvidence, encodeWith, payload, payloadBuffer, readCertificate, readTransfer, sign, slabCopy,
  transferId, verify, writeCertificate, NoticeCodec,
  type Certificate, type Transfer,
} from '../../protocol/objects.ts';
import { hexOf, type NodeContext } from './node-context.ts';
import { recentEncoding } from './storage.ts';
import { CustodyHistory } from './custody-history.ts';
import { creditAmount, creditRecord, Keys } from './record-keys.ts';
import type { AccountView } from './api.ts';
import { newAccount, type Account } from './account.ts';


/** Big-endian u64 of a safe integer at `o`, without a DataView or a BigInt (the vote hot path). */
function writeU64(b: Bytes, o: number, n: number): void {
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  b[o] = hi >>> 24; b[o + 1] = (hi >>> 16) & 0xff; b[o + 2] = (hi >>> 8) & 0xff; b[o + 3] = hi & 0xff;
  b[o + 4] = lo >>> 24; b[o + 5] = (lo >>> 16) & 0xff; b[o + 6] = (lo >>> 8) & 0xff; b[o + 7] = lo & 0xff;
}

export class Custodian {
  readonly accounts = new Map<string, Account>();
  /** The accounts' locks and credits: in memory, or windows of them with the rest read back. */
  readonly history: CustodyHistory;
  /** (from, seq) pairs already reported, so a conflict yields one notice per node. */
  private readonly noticed = new Set<string>();
  private readonly ctx: NodeContext;
  private readonly mintHex: string;
  private readonly supplyCap: bigint | null;
  /** Bytes before the body in a transfer payload (var tag ‖ var network): the lock record reuses the payload. */
  private readonly bodyOffset: number;
  /** var(tag) ‖ var(network) of every vote payload. */
  private readonly votePrefix: Bytes;
  /** Called when an account is needed but this replica is not synced for it (handoff pulls). */
  needSync: (account: Bytes, hex: string) => void = () => {};
  /** A vote for `t` leaves for the gateway `asker`: this replica holds its lock (completion.ts watches it). */
  onVoted: (t: Transfer, id: Bytes, asker: string) => void = () => {};
  /** A new entry in `accounts` (handoff merges the reports it holds for it). */
  onEntry: (hex: string) => void = () => {};
  /** Whether this replica holds `account`'s whole state at the current epoch (handoff decides). */
  isSynced: (acct: Account | undefined, account: Bytes, hex: string) => boolean = () => true;

  constructor(ctx: NodeContext) {
    this.ctx = ctx;
    this.history = new CustodyHistory(ctx);
    this.mintHex = ctx.mintHex;
    this.supplyCap = ctx.genesis.supplyCap;
    this.bodyOffset = 2 + 'ringmint/1/transfer'.length + 2 + new TextEncoder().encode(ctx.network).length;
    const sample = { transferId: ZERO32, from: ZERO32, seq: 0, epoch: 0, voter: ZERO32 };
    const p = payload(VoteCodec, ctx.network, sample);
    this.votePrefix = p.slice(0, p.length - 112);
  }

  account(hex: string): Account {
    let a = this.accounts.get(hex);
    if (!a) {
      this.accounts.set(hex, (a = newAccount()));
      this.onEntry(hex);
    }
    return a;
  }

  view(account: Bytes): AccountView | undefined {
    const hex = toHex(account);
    const a = this.accounts.get(hex);
    if (!a) return undefined;
    return {
      account,
      balance: a.credited - a.debited,
      seq: a.seq,
      head: a.headId,
      frozen: a.frozen,
      synced: this.isSynced(a, account, hex),
      credited: a.credited,
    };
  }

  /** The canonical transfer encoding, cut from its cached signing payload (no re-encoding). */
  transferBytes(t: Transfer): Bytes {
    return recentEncoding(t, this.ctx.network, () => {
      const body = payload(TransferCodec, this.ctx.network, t).subarray(this.bodyOffset);
      const out = new Uint8Array(body.length + 64);
      out.set(body, 0);
      out.set(t.sig, body.length);
      return out;
    });
  }

  /** Writes the lock record of `t` (skipped, encoding included, by a machine that is not durable). */
  persistLock(hex: string, t: Transfer): void {
    if (this.ctx.durable) this.ctx.persist(Keys.lock(hex, t.seq), this.transferBytes(t));
  }


  /** protocol.md §5 step 2: check, lock durably, vote. Answers go to `from` (the gateway). The hot path: no closures, one hex. */
  onVoteRequest(from: Address, t: Transfer): void {
    const ctx = this.ctx;
    const replyTo = 'node' in from ? from.node : undefined;
    if (!verify(TransferCodec, ctx.network, ctx.scheme, t.from, t)) return this.refuse(replyTo, transferId(t), Reason.BAD_SIGNATURE, 'transfer signature does not verify');
    const id = transferId(t);
    // A node that knows of a later epoch votes for nothing until it has caught up (protocol.md §7, Vote freshness).
    if (ctx.behind) return this.refuse(replyTo, id, Reason.STALE_EPOCH, `this node is catching up from epoch ${ctx.epoch}`);
    const ring = ctx.ring;
    if (!ring.isCustodian(ctx.id, t.from)) return this.refuse(replyTo, id, Reason.NOT_CUSTODIAN, `not a custodian of the sender in epoch ${ctx.epoch}`);
    if (equal(t.from, t.to)) return this.refuse(replyTo, id, Reason.SELF_TRANSFER, 'sender and recipient are the same account');
    const hex = hexOf(t.from);
    const held = this.accounts.get(hex);
    if (!this.isSynced(held, t.from, hex)) {
      this.needSync(t.from, hex);
      return this.refuse(replyTo, id, Reason.NOT_SYNCED, 'this custodian is still pulling the account (epoch change)');
    }
    // A key this replica holds nothing of gets an entry only once its transfer locks:
    // a vote request is free to sign, and refused ones must leave no state behind.
    const fresh = held === undefined;
    const a = held ?? newAccount();
    const locked = this.history.lockAt(a, hex, t.seq);
    if (locked !== undefined) {
      if (equal(transferId(locked), id)) return this.vote(replyTo, t, id);
      return this.conflict(replyTo, t, id, locked);
    }
    if (t.seq <= a.seq) {
      // A pipelined transfer below a head adopted by handoff: the lock above names it as
      // its prev, so it is in this account's chain and its debit is in the totals.
      const above = this.history.lockAt(a, hex, t.seq + 1);
      if (above !== undefined && equal(above.prev, id)) {
        this.history.setLock(a, t);
        this.persistLock(hex, t);
        return this.vote(replyTo, t, id);
      }
      return this.refuse(replyTo, id, Reason.SEQ_USED, `seq ${t.seq} already used (head is ${a.seq})`);
    }
    if (t.seq > a.seq + 1) return this.refuse(replyTo, id, Reason.SEQ_GAP, `seq ${t.seq} does not follow ${a.seq}`);
    if (!equal(t.prev, a.headId ?? ZERO32)) return this.refuse(replyTo, id, Reason.BAD_PREV, 'prev is not the id of the previous transfer');
    if (a.pins !== undefined) {
      const rival = a.pins.find((p) => p.seq === t.seq && !equal(transferId(p), id));
      if (rival !== undefined) return this.conflict(replyTo, t, id, rival);
    }
    if (a.frozen) return this.refuse(replyTo, id, Reason.FROZEN, 'account frozen after a proven double spend');
    if (hex === this.mintHex) {
      if (this.supplyCap !== null && a.debited + t.amount > this.supplyCap) return this.refuse(replyTo, id, Reason.SUPPLY_CAP, `issuance would exceed the supply cap ${this.supplyCap}`);
    } else if (a.credited - a.debited < t.amount) {
      return this.refuse(replyTo, id, Reason.INSUFFICIENT_FUNDS, `balance ${a.credited - a.debited} < ${t.amount}`);
    }
    if (fresh) this.accounts.set(hex, a);
    this.history.setLock(a, t);
    a.seq = t.seq;
    a.head = t;
    a.headId = id;
    a.debited += t.amount;
    if (a.pins !== undefined) this.unpin(a, t.seq, hex);
    this.persistLock(hex, t);
    ctx.emit({ type: 'locked', transfer: t });
    this.vote(replyTo, t, id);
  }

  private refuse(replyTo: string | undefined, id: Bytes, code: ReasonCode, detail: string): void {
    if (replyTo !== undefined) this.ctx.sendHex(replyTo, { type: 'reject', transferId: id, code, detail });
  }

  private vote(replyTo: string | undefined, t: Transfer, id: Bytes): void {
    if (replyTo === undefined) return;
    const ctx = this.ctx;
    // The vote payload is written straight into one buffer (the hot path of a
    // custodian); tests check it equals payload(VoteCodec, ...) byte for byte.
    const prefix = this.votePrefix;
    const buf = payloadBuffer(prefix.length + 112);
    buf.set(prefix, 0);
    const o = prefix.length;
    buf.set(id, o);
    buf.set(t.from, o + 32);
    writeU64(buf, o + 64, t.seq);
    writeU64(buf, o + 72, ctx.epoch);
    buf.set(ctx.id, o + 80);
    const vote = bindNetwork({ transferId: id, from: t.from, seq: t.seq, epoch: ctx.epoch, voter: ctx.id, sig: slabCopy(ctx.signer.sign(buf)) }, ctx.network);
    // Recorded, so the gateway's verify and the vote's encoding reuse this payload.
    cachePayload(vote, ctx.network, buf, o);
    ctx.sendHex(replyTo, { type: 'vote', vote });
    this.onVoted(t, id, replyTo);
  }

  /** (from, seq) is locked to another transfer: answer `conflict` and report both to the mint (protocol.md §5 step 2). */
  private conflict(replyTo: string | undefined, t: Transfer, id: Bytes, locked: Transfer): void {
    const ctx = this.ctx;
    if (replyTo !== undefined) ctx.sendHex(replyTo, { type: 'conflict', transferId: id, locked });
    this.report(t, locked);
  }

  /** Sends one double-spend notice per (from, seq) from this node. */
  report(a: Transfer, b: Transfer, proof?: Certificate): void {
    const key = `${toHex(a.from)}/${a.seq}`;
    if (this.noticed.has(key)) return;
    this.noticed.add(key);
    const ctx = this.ctx;
    const notice = sign(NoticeCodec, ctx.network, ctx.signer, { evidence: doubleSpendEvidence(a, b), reporter: ctx.id });
    // A certificate from the account shows the mint it had funds at stake (protocol.md §6, Rewards).
    const cert = proof ?? this.accounts.get(hexOf(a.from))?.cert ?? undefined;
    ctx.sendMint(cert ? { type: 'notice', notice, proof: cert } : { type: 'notice', notice });
    ctx.emit({ type: 'notice-sent', notice });
  }

  /**
   * protocol.md §5 step 3: the debit is certified. Marks it; if this replica locked another
   * transfer at that seq (it was outvoted), the certified one replaces it (protocol.md §7 merge rule).
   */
  onCertified(cert: Certificate): void {
    const t = cert.transfer;
    const ctx = this.ctx;
    const hex = hexOf(t.from);
    const a = this.accounts.get(hex);
    const id = transferId(t);
    if (a && a.certifiedSeq >= t.seq && this.history.holds(a, hex, t.seq, id)) return;
    try {
      // New to this replica: its votes must be fresh here, or a stale group could overwrite a lock (merge rule).
      checkCertificate(cert, ctx.freshCheck);
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      return; // a bad certificate changes nothing; the sender gets no answer
    }
    this.adoptCertified(hex, cert);
  }

  private freshHere(cert: Certificate): boolean {
    try {
      checkCertificate(cert, this.ctx.freshCheck);
      return true;
    } catch (e) {
      if (!(e instanceof Rejection)) throw e;
      return false;
    }
  }

  /** Drops pins at or below `seq` (that seq is now locked here), durably. */
  unpin(a: Account, seq: number, hex: string): void {
    const left: Transfer[] = [];
    for (const p of a.pins!) {
      if (p.seq > seq) left.push(p);
      else this.ctx.persist(Keys.pin(hex, toHex(transferId(p))), null);
    }
    if (left.length > 0) a.pins = left;
    else delete a.pins;
  }

  /** Pins a transfer reported above this replica's head, durably: a restart must still refuse its rivals. */
  pin(a: Account, hex: string, t: Transfer): void {
    (a.pins ??= []).push(t);
    this.ctx.persist(Keys.pin(hex, toHex(transferId(t))), this.transferBytes(t));
  }

  /** A checked certificate for (from, seq): record it, replacing a different lock (protocol.md §7 merge rule). */
  adoptCertified(hex: string, cert: Certificate): void {
    const ctx = this.ctx;
    const t = cert.transfer;
    const id = transferId(t);
    const a = this.account(hex);
    let locked = this.history.lockAt(a, hex, t.seq);
    if (locked !== undefined && !equal(transferId(locked), id)) {
      this.report(t, locked, cert);
      // Replacing a lock needs a certificate fresh here (protocol.md §7, Vote freshness): one
      // formed by a stale group and handed on in an account state must not undo a lock.
      if (!this.freshHere(cert)) return;
      a.debited += t.amount - locked.amount;
      this.history.setLock(a, t);
      if (a.seq === t.seq) {
        a.head = t;
        a.headId = id;
      }
      this.persistLock(hex, t);
      locked = t;
    } else if (locked === undefined && t.seq === a.seq + 1 && equal(t.prev, a.headId ?? ZERO32)) {
      // Certified without our vote (we were slow or down): the debit is final, so follow it.
      this.history.setLock(a, t);
      a.seq = t.seq;
      a.head = t;
      a.headId = id;
      a.debited += t.amount;
      this.persistLock(hex, t);
      locked = t;
    }
    if (a.pins !== undefined && locked !== undefined) this.unpin(a, t.seq, hex);
    if (t.seq > a.certifiedSeq && locked !== undefined) {
      a.certifiedSeq = t.seq;
      a.cert = cert;
      if (ctx.durable) ctx.persist(Keys.certified(hex), decodedEncoding(cert) ?? recentEncoding(cert, ctx.network, () => encodeWith(cert, writeCertificate)));
    }
  }

  /**
   * protocol.md §5 step 4: check the certificate, apply the credit once by transfer id, answer a
   * receipt. A custodian of the sender too takes the request as protocol.md §5 step 3's `certified`
   * (the gateway sends it no separate one).
   */
  onCreditRequest(from: Address, cert: Certificate): void {
    const ctx = this.ctx;
    const replyTo = 'node' in from ? from.node : undefined;
    const t = cert.transfer;
    if (ctx.ring.isCustodian(ctx.id, t.from)) this.onCertified(cert);
    const id = transferId(t);
    // hexOf: one string per id object (the k custodians of a simulated run share it).
    const idHex = hexOf(id);
    if (!this.history.hasCredit(idHex, id)) {
      if (!ctx.ring.isCustodian(ctx.id, t.to)) return this.refuse(replyTo, id, Reason.NOT_CUSTODIAN, `not a custodian of the recipient in epoch ${ctx.epoch}`);
      try {
        checkCertificate(cert, ctx.freshCheck);
      } catch (e) {
        if (e instanceof Rejection) return this.refuse(replyTo, id, e.code === Reason.BAD_SIGNATURE ? Reason.BAD_CERTIFICATE : e.code, e.message);
        throw e;
      }
      this.addCredit(idHex, hexOf(t.to), t.amount, true, t.to, id);
    }
    if (replyTo === undefined) return;
    const receipt = sign(ReceiptCodec, ctx.network, ctx.signer, { transferId: id, to: t.to, amount: t.amount, epoch: ctx.epoch, custodian: ctx.id });
    ctx.sendHex(replyTo, { type: 'receipt', receipt });
  }

  /**
   * Applies a credit if not yet applied (by transfer id); returns whether it was new. Restores
   * pass persist=false. Callers holding the recipient's and the transfer's bytes pass them
   * (`to`, `id`) to spare the hex round trips.
   */
  applyCredit(idHex: string, toHex_: string, amount: bigint, persist: boolean, to?: Bytes, id?: Bytes): boolean {
    if (this.history.hasCredit(idHex, id ?? fromHex(idHex))) return false;
    this.addCredit(idHex, toHex_, amount, persist, to, id);
    return true;
  }

  /** Applies a credit known not to be applied yet. */
  private addCredit(idHex: string, toHex_: string, amount: bigint, persist: boolean, to?: Bytes, id?: Bytes): void {
    const a = this.account(toHex_);
    a.credited += amount;
    const n = this.history.add(a, idHex, toHex_, amount, id);
    if (persist) {
      const toBytes = to ?? fromHex(toHex_);
      const idBytes = id ?? fromHex(idHex);
      if (this.ctx.durable) {
        this.ctx.persist(Keys.credit(idHex), creditRecord(toBytes, amount));
        this.ctx.persist(Keys.creditOrder(toHex_, n), creditRecord(idBytes, amount));
      }
      this.ctx.emit({ type: 'credited', transferId: idBytes, to: toBytes, amount });
    }
  }

  /** protocol.md §6: a proven double spender's account takes no new debits; credits still apply. */
  freeze(account: Bytes): void {
    const hex = toHex(account);
    const a = this.account(hex);
    if (a.frozen) return;
    a.frozen = true;
    this.ctx.persist(Keys.frozen(hex), new Uint8Array([1]));
    this.ctx.emit({ type: 'frozen', account });
  }

  // ------------------------------------------------------------ restore

  restoreLock(hex: string, value: Bytes): void {
    const t = decodeWith(this.ctx.network, value, readTransfer);
    const a = this.account(hex);
    // Memory only: the record being restored is on disk, so lockAt would find it.
    const old = t.seq >= a.lockBase ? a.locks[t.seq - a.lockBase] : undefined;
    this.history.setLock(a, t);
    if (old !== undefined) a.debited -= old.amount;
    else if (t.seq <= a.seq) return; // below a handed-off snapshot: its debit is in the snapshot's total
    a.debited += t.amount;
    if (t.seq >= a.seq) {
      a.seq = t.seq;
      a.head = t;
      a.headId = transferId(t);
    }
  }

  /** After locks and snapshots: a pin at or below the head is stale (its delete may not have been written). */
  restorePin(hex: string, value: Bytes): void {
    const t = decodeWith(this.ctx.network, value, readTransfer);
    const a = this.account(hex);
    if (t.seq <= a.seq || a.pins?.some((p) => equal(transferId(p), transferId(t)))) return;
    (a.pins ??= []).push(t);
  }

  /** A `c/` record. With a reader only its amount is counted here: restoreCreditOrder builds the window. */
  restoreCredit(idHex: string, value: Bytes): void {
    if (this.ctx.reader === null) this.applyCredit(idHex, toHex(value.subarray(0, 32)), creditAmount(value), false);
    else {
      this.account(toHex(value.subarray(0, 32))).credited += creditAmount(value);
      this.history.restoredCredit(idHex);
    }
  }

  /** With a reader, after the `c/` records: one account's `k/` records (CustodyHistory.restoreCreditOrder). */
  restoreCreditOrder(hex: string, count: number, newest: readonly Bytes[]): void {
    if (this.ctx.reader !== null) this.history.restoreCreditOrder(this.account(hex), hex, count, newest);
  }

  /** The record holds the certificate (older stores: the bare seq, 8 bytes). */
  restoreCertified(hex: string, value: Bytes): void {
    const a = this.account(hex);
    if (value.length === 8) {
      const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
      a.certifiedSeq = Math.max(a.certifiedSeq, Number(dv.getBigUint64(0)));
      return;
    }
    const cert = decodeWith(this.ctx.network, value, readCertificate);
    if (cert.transfer.seq >= a.certifiedSeq) {
      a.certifiedSeq = cert.transfer.seq;
      a.cert = cert;
    }
  }
}
