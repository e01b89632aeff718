// Issuance (protocol.md §4): the mint account signs ordinary transfers, seq 1, 2, ... each
// naming the previous one's id, with no balance limit but an optional supply cap.
// The mint is off the transfer path, so each issuance is handed to a gateway node.
import { ZERO32, equal, toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import { sha256 } from '../../protocol/hash.ts';
import { Limits, TransferCodec, payload, sign, type EpochRecord, type Transfer } from '../../protocol/objects.ts';
import type { Signer } from '../../protocol/signature.ts';

export class Issuer {
  private readonly network: string;
  private readonly signer: Signer;
  private readonly supplyCap: bigint | null;
  private seq = 0;
  private head: Bytes = ZERO32;
  private total = 0n;
  private readonly issued: Transfer[] = [];

  constructor(network: string, signer: Signer, supplyCap: bigint | null) {
    this.network = network;
    this.signer = signer;
    this.supplyCap = supplyCap;
  }

  /** Signs the next issuance; throws Rejection (BAD_AMOUNT, BAD_MEMO, SELF_TRANSFER, SUPPLY_CAP). Not applied yet. */
  next(to: Bytes, amount: bigint, memo: Bytes): Transfer {
    if (to.length !== 32) throw new Rejection(Reason.BAD_REQUEST, 'recipient must be a 32-byte account id');
    if (amount <= 0n) throw new Rejection(Reason.BAD_AMOUNT, 'amount must be positive');
    if (memo.length > Limits.MEMO_BYTES) throw new Rejection(Reason.BAD_MEMO, `memo exceeds ${Limits.MEMO_BYTES} bytes`);
    if (equal(to, this.signer.publicKey)) throw new Rejection(Reason.SELF_TRANSFER, 'the mint cannot issue to itself');
    if (this.supplyCap !== null && this.total + amount > this.supplyCap) {
      throw new Rejection(Reason.SUPPLY_CAP, `issuing ${amount} would exceed the supply cap ${this.supplyCap} (issued ${this.total})`);
    }
    return sign(TransferCodec, this.network, this.signer, {
      from: this.signer.publicKey,
      to: Uint8Array.from(to),
      amount,
      seq: this.seq + 1,
      prev: this.head,
      memo: Uint8Array.from(memo),
    });
  }

  /** Live and on restore: advances seq, head and the total. */
  apply(t: Transfer): void {
    this.seq = t.seq;
    this.head = sha256(payload(TransferCodec, this.network, t));
    this.total += t.amount;
    this.issued.push(t);
  }

  get lastSeq(): number {
    return this.seq;
  }
  get issuedTotal(): bigint {
    return this.total;
  }
  transfers(): readonly Transfer[] {
    return this.issued;
  }
  /** Issued transfer with this seq (1-based), for re-submission. */
  at(seq: number): Transfer | undefined {
    return this.issued[seq - 1];
  }
}

/**
 * The gateway for issuance `seq`: members taken round-robin by seq, so load spreads
 * and a retry of the same seq goes to the next member (a crashed gateway is skipped).
 */
export function gatewayFor(epoch: EpochRecord, seq: number, attempt = 0): string {
  const n = epoch.members.length;
  return toHex(epoch.members[(seq + attempt) % n]!);
}
