// Offline checks of certificates and receipt bundles (protocol.md §4): everything needed is
// the transfer, the votes or receipts, and the epoch records they name. Custodians
// of the recipient, storage nodes and wallets all use these same checks.
import { equal, hexOf } from './bytes.ts';
import { Reason, Rejection } from './errors.ts';
import { Memo } from './memo.ts';
import { ReceiptCodec, TransferCodec, VoteCodec, decodedEncoding, transferId, verify, type Bundle, type Certificate } from './objects.ts';
import type { Ring } from './ring.ts';
import type { Verifier } from './signature.ts';

export type RingLookup = (epoch: number) => Ring | undefined;

export type CheckContext = {
  readonly network: string;
  readonly verifier: Verifier;
  readonly ringOf: RingLookup;
  /** Nodes whose votes are void (proven equivocators, protocol.md §6). */
  readonly isVoid?: (node: string) => boolean;
  /**
   * Present for a certificate the checker has not accepted before: only votes of the
   * epochs it answers true for count (protocol.md §7, Vote freshness). Absent for one
   * already formed and checked offline (a stored bundle, a handed-off state).
   */
  readonly fresh?: (epoch: number) => boolean;
};

function fail(code: typeof Reason.BAD_CERTIFICATE | typeof Reason.BAD_RECEIPT | typeof Reason.UNKNOWN_EPOCH | typeof Reason.STALE_EPOCH, why: string): never {
  throw new Rejection(code, why);
}

/**
 * Certificates and bundles that passed, by object (one process checks the same
 * object at many nodes: the simulator, a wallet and its node). A pass is reused only
 * under the same network, verifier and Ring objects for the epochs it counted, and
 * while none of its counted voters is void here: then the full check would pass too.
 * Failures are never cached. Objects are immutable once built (ids are cached the same way).
 */
type Passed = {
  readonly network: string;
  readonly verifier: object;
  /** The epoch counted and its Ring; a bundle whose receipts span epochs lists them all in `more`. */
  readonly epoch: number;
  readonly ring: Ring;
  readonly more: readonly { readonly epoch: number; readonly ring: Ring }[] | null;
  readonly voters: readonly string[];
};
const passedCertificates = new Memo<Passed>('passed-certificate');
const passedBundles = new Memo<Passed>('passed-bundle');
/** Kept once per certificate and bundle for the whole run in the simulator: one shared empty list. */
const NO_VOTERS: readonly string[] = [];

function stillPasses(p: Passed | undefined, ctx: CheckContext): boolean {
  if (p === undefined || p.network !== ctx.network || p.verifier !== ctx.verifier) return false;
  if (ctx.ringOf(p.epoch) !== p.ring) return false;
  if (ctx.fresh !== undefined && !ctx.fresh(p.epoch)) return false;
  if (p.more !== null) for (const x of p.more) if (ctx.ringOf(x.epoch) !== x.ring) return false;
  if (ctx.isVoid !== undefined) for (const v of p.voters) if (ctx.isVoid(v)) return false;
  return true;
}

/**
 * Certificates that passed, by their bytes, per verifier: a node decodes the same
 * certificate afresh in every message that carries it (a credit request, then the
 * bundle to store), and each fresh object would be checked in full again. The same
 * bytes are the same certificate (the codec is canonical), so under a context that
 * still passes it, it passes. Bounded, first in first out: a certificate comes back
 * within a transfer's lifetime (tens of milliseconds), and 2,048 cover seconds of load.
 */
const MAX_REMEMBERED_CERTIFICATES = 2048;
type Remembered = { readonly bytes: Uint8Array; readonly passed: Passed };
type PassedByBytes = { readonly byId: Map<string, Remembered>; readonly order: (string | undefined)[]; head: number };
const passedByBytes = new WeakMap<object, PassedByBytes>();

function passedBefore(cert: Certificate, ctx: CheckContext): boolean {
  const bytes = decodedEncoding(cert);
  if (bytes === undefined) return false;
  const seen = passedByBytes.get(ctx.verifier)?.byId.get(hexOf(transferId(cert.transfer)));
  if (seen === undefined || !equal(seen.bytes, bytes) || !stillPasses(seen.passed, ctx)) return false;
  passedCertificates.set(cert, seen.passed);
  return true;
}

function rememberPassed(cert: Certificate, ctx: CheckContext, passed: Passed): void {
  const bytes = decodedEncoding(cert);
  if (bytes === undefined) return;
  let r = passedByBytes.get(ctx.verifier);
  if (r === undefined) passedByBytes.set(ctx.verifier, (r = { byId: new Map(), order: new Array(MAX_REMEMBERED_CERTIFICATES), head: 0 }));
  const idHex = hexOf(transferId(cert.transfer));
  if (!r.byId.has(idHex)) {
    const oldest = r.order[r.head];
    if (oldest !== undefined) r.byId.delete(oldest);
    r.order[r.head] = idHex;
    r.head = (r.head + 1) % MAX_REMEMBERED_CERTIFICATES;
  }
  r.byId.set(idHex, { bytes, passed });
}

/** Throws Rejection(BAD_CERTIFICATE | UNKNOWN_EPOCH | BAD_SIGNATURE) unless `cert` holds. */
export function checkCertificate(cert: Certificate, ctx: CheckContext): void {
  if (stillPasses(passedCertificates.get(cert), ctx)) return;
  if (passedBefore(cert, ctx)) return;
  const t = cert.transfer;
  if (!verify(TransferCodec, ctx.network, ctx.verifier, t.from, t)) throw new Rejection(Reason.BAD_SIGNATURE, 'transfer signature does not verify');
  const id = transferId(t);
  const perEpoch = new Map<number, Set<string>>();
  let unknownEpoch: number | undefined;
  let staleEpoch: number | undefined;
  for (const v of cert.votes) {
    if (!equal(v.transferId, id) || !equal(v.from, t.from) || v.seq !== t.seq) continue;
    const ring = ctx.ringOf(v.epoch);
    if (!ring) {
      unknownEpoch = v.epoch;
      continue;
    }
    if (ctx.fresh !== undefined && !ctx.fresh(v.epoch)) {
      staleEpoch = v.epoch;
      continue;
    }
    const voter = hexOf(v.voter);
    if (ctx.isVoid?.(voter)) continue;
    if (!ring.isCustodian(v.voter, t.from)) continue;
    if (!verify(VoteCodec, ctx.network, ctx.verifier, v.voter, v)) continue;
    let set = perEpoch.get(v.epoch);
    if (!set) perEpoch.set(v.epoch, (set = new Set()));
    set.add(voter);
    if (set.size >= ring.q) {
      const passed: Passed = { network: ctx.network, verifier: ctx.verifier, epoch: v.epoch, ring, more: null, voters: [...set] };
      passedCertificates.set(cert, passed);
      rememberPassed(cert, ctx, passed);
      return;
    }
  }
  if (unknownEpoch !== undefined) fail(Reason.UNKNOWN_EPOCH, `certificate names epoch ${unknownEpoch}, not known here`);
  if (staleEpoch !== undefined) fail(Reason.STALE_EPOCH, `certificate names epoch ${staleEpoch}, no longer counted toward a new certificate here`);
  fail(Reason.BAD_CERTIFICATE, 'fewer than q valid votes from custodians of the sender in one epoch');
}

/** Throws unless `bundle` is a valid certificate plus q valid receipts from distinct custodians of the recipient. */
export function checkBundle(bundle: Bundle, ctx: CheckContext): void {
  checkCertificate(bundle.certificate, ctx);
  if (stillPasses(passedBundles.get(bundle), ctx)) return;
  const epochs: number[] = [];
  const rings: Ring[] = [];
  const t = bundle.certificate.transfer;
  const id = transferId(t);
  const custodians = new Set<string>();
  let need = Infinity;
  for (const x of bundle.receipts) {
    if (!equal(x.transferId, id) || !equal(x.to, t.to) || x.amount !== t.amount) continue;
    const ring = ctx.ringOf(x.epoch);
    if (!ring || !ring.isCustodian(x.custodian, t.to)) continue;
    if (!verify(ReceiptCodec, ctx.network, ctx.verifier, x.custodian, x)) continue;
    custodians.add(hexOf(x.custodian));
    need = Math.min(need, ring.q);
    epochs.push(x.epoch);
    rings.push(ring);
  }
  if (custodians.size < need || custodians.size === 0) {
    throw new Rejection(Reason.BAD_BUNDLE, `${custodians.size} valid receipts from custodians of the recipient; q are needed`);
  }
  let more: { epoch: number; ring: Ring }[] | null = null;
  for (let i = 1; i < epochs.length; i++) if (epochs[i] !== epochs[0]) more = epochs.map((epoch, j) => ({ epoch, ring: rings[j]! }));
  passedBundles.set(bundle, { network: ctx.network, verifier: ctx.verifier, epoch: epochs[0]!, ring: rings[0]!, more, voters: NO_VOTERS });
}
