// Signing payloads, signatures and ids of ledger objects (protocol.md §2).
//
// Every signed payload is  var(domain tag) ‖ var(network id) ‖ body,  with the
// domain tag `ringmint/1/<type>`, so a signature never replays as another type or
// on another network. An object's id is SHA-256 of that payload: the signature is
// not part of the id, so signature malleability can never change an id.
import { equal, type Bytes } from './bytes.ts';
import { sha256 } from './hash.ts';
import { Writer, type BodyCodec } from './codec.ts';
import { Memo } from './memo.ts';
import { finalSignature, leafOf, SIGNATURE_BYTES, verifyBatchSignature } from './batch-signature.ts';
import type { Signer, Verifier } from './signature.ts';


/**
 * Payloads and ids are computed once per object: hashing and encoding are on the hot path.
 * `body` is where the body starts in the payload, so the wire encoding can copy it.
 */
const payloadCache = new Memo<{ network: string; payload: Bytes; body: number }>('payload');

/**
 * Scratch writers, one per nesting level (writing a notice computes transfer ids,
 * which write payloads): an encode reuses a grown buffer and allocates only its result.
 */
const scratch: Writer[] = [];
let scratchDepth = 0;
export function takeScratch(): Writer {
  const w = scratch[scratchDepth] ?? (scratch[scratchDepth] = new Writer(4096));
  scratchDepth++;
  return w.reset();
}
/** Largest buffer a scratch writer keeps between encodes (an epoch record can be 33 MB). */
const SCRATCH_KEEP_BYTES = 1 << 20;
export function giveScratch(w: Writer): void {
  scratchDepth--;
  if (w.capacity > SCRATCH_KEEP_BYTES) scratch[scratchDepth] = new Writer(4096);
}
const tagCache = new Map<string, Bytes>();

const networkCache = new Map<string, Bytes>();
function networkBytes(network: string): Bytes {
  let b = networkCache.get(network);
  if (!b) networkCache.set(network, (b = new TextEncoder().encode(network)));
  return b;
}

function tagBytes(tag: string): Bytes {
  let b = tagCache.get(tag);
  if (!b) tagCache.set(tag, (b = new TextEncoder().encode(`ringmint/1/${tag}`)));
  return b;
}

/**
 * Whether signing payloads are views into shared slabs (Writer.finishShared) rather
 * than one ArrayBuffer each. Off by default: in a daemon a long-lived lock's payload
 * would pin a slab of short-lived ones. The simulator, which keeps nearly every
 * object to the end, turns it on (fewer allocations, less GC).
 */
let slabPayloads = false;
export function usePayloadSlabs(on: boolean): void {
  slabPayloads = on;
}

/** Room for a payload a caller writes itself (a custodian's vote): a slab view when slabs are on. */
const OWN_SLAB_BYTES = 16 * 1024;
let ownSlab = new Uint8Array(0);
let ownSlabOff = 0;
export function payloadBuffer(n: number): Bytes {
  if (!slabPayloads || n > 1024) return new Uint8Array(n);
  if (ownSlabOff + n > ownSlab.length) {
    ownSlab = new Uint8Array(OWN_SLAB_BYTES);
    ownSlabOff = 0;
  }
  const out = ownSlab.subarray(ownSlabOff, ownSlabOff + n);
  ownSlabOff = (ownSlabOff + n + 7) & ~7;
  return out;
}

/**
 * A signature moved into the slab when slabs are on: a 64-byte Uint8Array of its own
 * costs ~290 bytes of heap, a slab view ~110 (a simulated run keeps millions). The
 * scheme's verified-signature cache keys by the object, so the copy pays one hash at
 * its first check.
 */
export function slabCopy(b: Bytes): Bytes {
  // An empty signature is a batch placeholder: its identity is what resolves it.
  if (!slabPayloads || b.length === 0) return b;
  const out = payloadBuffer(b.length);
  out.set(b);
  return out;
}

/** The exact bytes a signature covers: var(tag) ‖ var(network) ‖ body. */
export function payload<B>(codec: BodyCodec<B>, network: string, body: B): Bytes {
  const cached = payloadCache.get(body as object);
  if (cached && cached.network === network) return cached.payload;
  const w = takeScratch();
  try {
    w.var(tagBytes(codec.tag)).var(networkBytes(network)); // = .string(network), without a TextEncoder per payload
    const start = w.length;
    codec.write(w, body);
    const p = slabPayloads ? w.finishShared() : w.finish();
    payloadCache.set(body as object, { network, payload: p, body: start });
    return p;
  } finally {
    giveScratch(w);
  }
}

/**
 * Records a payload a caller wrote itself (e.g. a custodian's hand-built vote payload),
 * so verifying or encoding that object later does not write it again. `payload` must
 * be exactly payload(codec, network, obj) and `bodyStart` where its body begins.
 */
export function cachePayload(obj: object, network: string, p: Bytes, bodyStart: number): void {
  payloadCache.set(obj, { network, payload: p, body: bodyStart });
}

/** The network an object was decoded or signed under, so ids need no network argument. */
const networkOf = new Memo<string>('network');
const idCache = new Memo<{ network: string; id: Bytes }>('id');

/** Binds an object's network; an id cached under another network is dropped, so ids can skip the network lookup. */
export function setNetwork(obj: object, network: string): void {
  networkOf.set(obj, network);
  const cached = idCache.get(obj);
  if (cached !== undefined && cached.network !== network) idCache.delete(obj);
}

/** The id of an object whose network is bound: a cached id is always under the bound network (see setNetwork). */
export function boundId<B>(codec: BodyCodec<B>, obj: B & object): Bytes {
  const cached = idCache.get(obj);
  if (cached !== undefined) return cached.id;
  return objectId(codec, netOf(obj), obj);
}

function objectId<B>(codec: BodyCodec<B>, network: string, body: B): Bytes {
  const cached = idCache.get(body as object);
  if (cached && cached.network === network) return cached.id; // a rebound network must not reuse a stale id
  const id = sha256(payload(codec, network, body));
  idCache.set(body as object, { network, id });
  return id;
}

export function sign<B>(codec: BodyCodec<B>, network: string, signer: Signer, body: B): B & { sig: Bytes } {
  const p = payload(codec, network, body);
  const signed = { ...body, sig: slabCopy(signer.sign(p)) };
  payloadCache.set(signed, { network, payload: p, body: payloadCache.get(body as object)!.body });
  setNetwork(signed, network);
  return signed;
}

export function verify<B>(codec: BodyCodec<B>, network: string, verifier: Verifier, signerKey: Bytes, obj: B & { sig: Bytes }): boolean {
  const sig = finalSignature(obj.sig);
  if (sig.length !== SIGNATURE_BYTES) {
    // A batch signature (votes and receipts only): the object's payload is its leaf.
    if (codec.batchable !== true) return false;
    // An object is checked at several steps (a vote alone, then in its certificate at
    // certify, credit and store time): its path to the root is hashed once.
    const seen = batchChecked.get(obj);
    if (seen !== undefined && seen.network === network && seen.verifier === verifier && equal(seen.key, signerKey)) return true;
    const ok = verifyBatch(codec, network, verifier, signerKey, obj, sig);
    if (ok) batchChecked.set(obj, { network, verifier, key: signerKey });
    return ok;
  }
  const cached = payloadCache.get(obj);
  // A transfer's payload is kept (its id is needed next); a vote's or receipt's is
  // written into scratch when the verifier keeps no reference to it: most are
  // checked and never encoded again, and an ArrayBuffer each was ~4 % of a node's CPU.
  if ((cached !== undefined && cached.network === network) || codec.keepsPayload === true || verifier.keepsMessage === true) {
    return verifier.verify(signerKey, payload(codec, network, obj), sig);
  }
  return withScratchPayload(codec, network, obj, (p) => verifier.verify(signerKey, p, sig));
}

/** Hands `use` the object's signing payload written into a scratch writer, valid only during the call. */
function withScratchPayload<B, R>(codec: BodyCodec<B>, network: string, obj: B, use: (payload: Bytes) => R): R {
  const w = takeScratch();
  try {
    w.var(tagBytes(codec.tag)).var(networkBytes(network));
    codec.write(w, obj);
    return use(w.written());
  } finally {
    giveScratch(w);
  }
}

/** Objects whose batch signature held, with what it was checked against. */
const batchChecked = new Memo<{ network: string; verifier: Verifier; key: Bytes }>('batchChecked');

function verifyBatch<B>(codec: BodyCodec<B>, network: string, verifier: Verifier, signerKey: Bytes, obj: B & { sig: Bytes }, sig: Bytes): boolean {
  const cachedId = idCache.get(obj);
  if (cachedId !== undefined && cachedId.network === network) return verifyBatchSignature(verifier, network, signerKey, cachedId.id, sig);
  const known = payloadCache.get(obj);
  if (known !== undefined && known.network === network) return verifyBatchSignature(verifier, network, signerKey, leafOf(known.payload), sig);
  return withScratchPayload(codec, network, obj, (p) => verifyBatchSignature(verifier, network, signerKey, leafOf(p), sig));
}

function netOf(obj: object): string {
  const n = networkOf.get(obj);
  if (n === undefined) throw new Error('object has no network: create it with sign() or a decoder');
  return n;
}

/** Marks an object built in code (not signed or decoded here) as belonging to `network`. */
export function bindNetwork<T extends object>(obj: T, network: string): T {
  setNetwork(obj, network);
  return obj;
}

/** The cached payload of an object and where its body starts, if it was signed, verified or decoded here. */
export function cachedPayload(obj: object): { readonly payload: Bytes; readonly body: number } | undefined {
  return payloadCache.get(obj);
}
