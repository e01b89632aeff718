// Reason codes: every rejection in the protocol names one. The HTTP API returns them
// as `{error: CODE, message}` and the CLI prints them as one line.

export const Reason = {
  // decoding
  MALFORMED: 'MALFORMED',
  TRUNCATED: 'TRUNCATED',
  OVERSIZED: 'OVERSIZED',
  NON_CANONICAL: 'NON_CANONICAL',
  // signatures and identity
  BAD_SIGNATURE: 'BAD_SIGNATURE',
  WRONG_NETWORK: 'WRONG_NETWORK',
  BAD_AMOUNT: 'BAD_AMOUNT',
  BAD_MEMO: 'BAD_MEMO',
  SELF_TRANSFER: 'SELF_TRANSFER',
  // custodian checks (protocol.md §5)
  SEQ_GAP: 'SEQ_GAP',
  SEQ_USED: 'SEQ_USED',
  BAD_PREV: 'BAD_PREV',
  INSUFFICIENT_FUNDS: 'INSUFFICIENT_FUNDS',
  FROZEN: 'FROZEN',
  CONFLICT: 'CONFLICT',
  NOT_CUSTODIAN: 'NOT_CUSTODIAN',
  NOT_SYNCED: 'NOT_SYNCED',
  UNKNOWN_EPOCH: 'UNKNOWN_EPOCH',
  /** Votes of an epoch that no longer counts toward a new certificate (protocol.md §7, Vote freshness). */
  STALE_EPOCH: 'STALE_EPOCH',
  // certificates, receipts, bundles
  BAD_CERTIFICATE: 'BAD_CERTIFICATE',
  BAD_RECEIPT: 'BAD_RECEIPT',
  BAD_BUNDLE: 'BAD_BUNDLE',
  NOT_FOUND: 'NOT_FOUND',
  // mint
  SUPPLY_CAP: 'SUPPLY_CAP',
  NOT_MINT: 'NOT_MINT',
  BAD_EPOCH: 'BAD_EPOCH',
  BAD_EVIDENCE: 'BAD_EVIDENCE',
  GRAYLISTED: 'GRAYLISTED',
  NOT_ADMITTED: 'NOT_ADMITTED',
  RATE_LIMITED: 'RATE_LIMITED',
  BANNED: 'BANNED',
  // transport and service
  TIMEOUT: 'TIMEOUT',
  UNAVAILABLE: 'UNAVAILABLE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  BAD_REQUEST: 'BAD_REQUEST',
} as const;

export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** A typed rejection: a reason code plus a human message. */
export class Rejection extends Error {
  readonly code: ReasonCode;
  constructor(code: ReasonCode, message?: string) {
    super(message ?? code);
    this.code = code;
    this.name = 'Rejection';
  }
}

export function reject(code: ReasonCode, message?: string): never {
  throw new Rejection(code, message);
}
