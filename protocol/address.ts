// Account addresses: a 32-byte Ed25519 public key in bech32m with the `rm` prefix
// (protocol.md §2). bech32m's checksum catches typos before a transfer is ever signed.
import { bech32m } from '@scure/base';
import { Reason, Rejection } from './errors.ts';
import type { Bytes } from './bytes.ts';

export const ADDRESS_PREFIX = 'rm';

export function encodeAddress(publicKey: Bytes): string {
  if (publicKey.length !== 32) throw new RangeError('an account id is 32 bytes');
  return bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(publicKey));
}

/** Parses an `rm1...` address; throws Rejection(MALFORMED) with the reason on bad input. */
export function decodeAddress(address: string): Bytes {
  let decoded;
  try {
    decoded = bech32m.decode(address as `${string}1${string}`);
  } catch (e) {
    throw new Rejection(Reason.MALFORMED, `not a valid address: ${(e as Error).message}`);
  }
  if (decoded.prefix !== ADDRESS_PREFIX) throw new Rejection(Reason.MALFORMED, `address prefix must be "${ADDRESS_PREFIX}", got "${decoded.prefix}"`);
  let bytes;
  try {
    bytes = bech32m.fromWords(decoded.words); // throws on non-zero or excess padding bits
  } catch (e) {
    throw new Rejection(Reason.MALFORMED, `not a valid address: ${(e as Error).message}`);
  }
  if (bytes.length !== 32) throw new Rejection(Reason.MALFORMED, `address holds ${bytes.length} bytes, expected 32`);
  return Uint8Array.from(bytes);
}

export function isAddress(s: string): boolean {
  try {
    decodeAddress(s);
    return true;
  } catch {
    return false;
  }
}
