// Deterministic keys and builders shared by the foundation's tests. Keys come
// from labelled seeds, so every run (and every pinned hex below) is the same.
import { compare, utf8, ZERO32, type Bytes } from '../../../protocol/bytes.ts';
import { sha256 } from '../../../protocol/hash.ts';
import { ed25519, type Signer } from '../../../protocol/signature.ts';
import { EpochCodec, TransferCodec, VoteCodec, ReceiptCodec, sign, transferId, type EpochRecord, type Receipt, type Transfer, type Vote } from '../../../protocol/objects.ts';

export const NET = 'testnet';

export function secretOf(label: string): Bytes {
  return sha256(utf8(label));
}

export function keyOf(label: string): Signer {
  return ed25519.signer(secretOf(label));
}

export function transfer(from: Signer, to: Bytes, amount: bigint, seq = 1, prev: Bytes = ZERO32, memo: Bytes = new Uint8Array(0), network = NET): Transfer {
  return sign(TransferCodec, network, from, { from: from.publicKey, to, amount, seq, prev, memo });
}

export function vote(voter: Signer, t: Transfer, epoch = 0, network = NET): Vote {
  return sign(VoteCodec, network, voter, { transferId: transferId(t), from: t.from, seq: t.seq, epoch, voter: voter.publicKey });
}

export function receipt(custodian: Signer, t: Transfer, epoch = 0, network = NET): Receipt {
  return sign(ReceiptCodec, network, custodian, { transferId: transferId(t), to: t.to, amount: t.amount, epoch, custodian: custodian.publicKey });
}

export function sortedKeys(keys: readonly Bytes[]): Bytes[] {
  return [...keys].sort(compare);
}

export function epochRecord(
  mint: Signer,
  members: readonly Bytes[],
  opts: { epoch?: number; k?: number; q?: number; prev?: Bytes; issuedAt?: number; network?: string } = {},
): EpochRecord {
  const network = opts.network ?? NET;
  return sign(EpochCodec, network, mint, {
    network,
    epoch: opts.epoch ?? 0,
    members: sortedKeys(members),
    k: opts.k ?? 4,
    q: opts.q ?? 3,
    prev: opts.prev ?? ZERO32,
    issuedAt: opts.issuedAt ?? 1_700_000_000_000,
  });
}

/** A thrown value's reason code, or 'NO THROW' / 'NOT A REJECTION: ...'. */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if ((e as Error).name === 'Rejection' && typeof code === 'string') return code;
    return `NOT A REJECTION: ${String(e)}`;
  }
  return 'NO THROW';
}

/** The thrown message, for tests that check which field an error names. */
export function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'NO THROW';
}
