// JSON views of ledger objects for the HTTP API and the wallet: amounts as decimal
// strings of base units, keys as `rm` addresses, hashes and signatures as hex.
// Composite objects (certificates, bundles, epoch records) travel as the hex of
// their canonical encoding, so whoever checks them checks the exact signed bytes.
import { encodeAddress, decodeAddress } from './address.ts';
import { fromHex, toHex, utf8 } from './bytes.ts';
import { Reason, Rejection } from './errors.ts';
import { U64_MAX } from './codec.ts';
import {
  bindNetwork, decodeWith, encodeWith, readBundle, readEpoch, transferIdHex, Limits, writeBundle, writeEpoch,
  type Bundle, type EpochRecord, type Transfer,
} from './objects.ts';

export type TransferJson = {
  id: string;
  from: string;
  to: string;
  amount: string;
  seq: number;
  prev: string;
  /** UTF-8 text of the memo. */
  memo: string;
  sig: string;
};

export function transferToJson(t: Transfer): TransferJson {
  return {
    id: transferIdHex(t),
    from: encodeAddress(t.from),
    to: encodeAddress(t.to),
    amount: t.amount.toString(),
    seq: t.seq,
    prev: toHex(t.prev),
    memo: new TextDecoder().decode(t.memo),
    sig: toHex(t.sig),
  };
}

/** An address field: String() of an object from outside may throw (its toString is the sender's). */
function stringField(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new Rejection(Reason.MALFORMED, `${field} must be an address string`);
  return v;
}

function hexField(v: unknown, bytes: number, field: string): Uint8Array {
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-f]*$/.test(v)) {
    throw new Rejection(Reason.BAD_REQUEST, `${field} must be ${bytes} bytes of lowercase hex`);
  }
  return fromHex(v);
}

/** Parses a base-unit amount string: a positive integer within u64. */
export function parseBaseUnits(v: unknown, field = 'amount'): bigint {
  if (typeof v !== 'string' || !/^[0-9]{1,20}$/.test(v)) throw new Rejection(Reason.BAD_AMOUNT, `${field} must be a decimal string of base units`);
  const n = BigInt(v);
  if (n === 0n || n > U64_MAX) throw new Rejection(Reason.BAD_AMOUNT, `${field} must be between 1 and ${U64_MAX}`);
  return n;
}

/** Parses a transfer's JSON form; the id, if given, must match the content. */
export function transferFromJson(j: unknown, network: string): Transfer {
  const o = j as Partial<TransferJson>;
  if (!o || typeof o !== 'object') throw new Rejection(Reason.BAD_REQUEST, 'transfer must be an object');
  if (!Number.isSafeInteger(o.seq) || o.seq! < 1) throw new Rejection(Reason.BAD_REQUEST, 'seq must be a positive integer');
  if (typeof o.memo !== 'string') throw new Rejection(Reason.BAD_REQUEST, 'memo must be a string');
  const memo = utf8(o.memo);
  if (memo.length > Limits.MEMO_BYTES) throw new Rejection(Reason.BAD_MEMO, `memo exceeds ${Limits.MEMO_BYTES} bytes`);
  const t: Transfer = bindNetwork(
    {
      from: decodeAddress(stringField(o.from, 'from')),
      to: decodeAddress(stringField(o.to, 'to')),
      amount: parseBaseUnits(o.amount),
      seq: o.seq!,
      prev: hexField(o.prev, 32, 'prev'),
      memo,
      sig: hexField(o.sig, 64, 'sig'),
    },
    network,
  );
  if (o.id !== undefined && o.id !== transferIdHex(t)) throw new Rejection(Reason.BAD_REQUEST, 'id does not match the transfer');
  return t;
}

/** Hex of an encoding from outside: bad hex is a MALFORMED rejection, not a TypeError. */
function encodedHex(hex: unknown, what: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new Rejection(Reason.MALFORMED, `${what} must be hex`);
  return fromHex(hex);
}

export function bundleToHex(b: Bundle): string {
  return toHex(encodeWith(b, writeBundle));
}
export function bundleFromHex(hex: string, network: string): Bundle {
  return decodeWith(network, encodedHex(hex, 'bundle'), readBundle);
}
export function epochToHex(e: EpochRecord): string {
  return toHex(encodeWith(e, writeEpoch));
}
export function epochFromHex(hex: string, network: string): EpochRecord {
  return decodeWith(network, encodedHex(hex, 'epoch record'), readEpoch, Limits.EPOCH_RECORD_BYTES);
}
