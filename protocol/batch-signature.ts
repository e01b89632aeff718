// Batch signatures for votes and receipts (a documented deviation from protocol.md §4: see
// docs/protocol.md, "Batch signatures").
//
// A busy custodian signs many votes and receipts between two synced writes. Instead of
// one Ed25519 signature each, it may sign them as one batch: the leaves are the objects'
// ids (SHA-256 of each signed payload, domain tag included), the batch signature covers
// var("ringmint/1/batch") ‖ var(network) ‖ Merkle root, and each object carries that
// signature with its index and the sibling hashes up to the root. An object so signed
// is still verifiable offline, alone, with the signer's key; a peer checks the batch
// signature once (its verified-signature cache answers the rest of the batch).
//
// Encoded signature of a batchable object:  64-byte signature  (a batch of one: plain),
// or  64-byte signature ‖ u16 index ‖ depth x 32-byte siblings  (1 <= depth <= 12).
// Interior nodes are SHA-256(0x01 ‖ left ‖ right); a leaf is an id, SHA-256 of a payload
// that starts with a u16 tag length (first byte 0x00), so no leaf is an interior preimage.
import { type Bytes } from './bytes.ts';
import { Writer } from './codec.ts';
import { sha256 } from './hash.ts';
import { Memo } from './memo.ts';
import { sodium, type Signer, type Verifier } from './signature.ts';

export const SIGNATURE_BYTES = 64;
/** Deepest proof: 4,096 objects per batch, a proof of at most 386 bytes; a fuller batch is sealed early. */
export const MAX_BATCH_DEPTH = 12;
export const MAX_BATCH_OBJECTS = 1 << MAX_BATCH_DEPTH;
/** The longest encoded batchable signature. */
export const MAX_BATCH_SIGNATURE_BYTES = SIGNATURE_BYTES + 2 + 32 * MAX_BATCH_DEPTH;

const INTERIOR = Uint8Array.of(1);
const BATCH_TAG = new TextEncoder().encode('ringmint/1/batch');
/** Signed payloads of the batchable types start with var(tag): these exact prefixes. */
const BATCHABLE_PREFIXES = ['vote', 'receipt'].map((t) => {
  const tag = new TextEncoder().encode(`ringmint/1/${t}`);
  const p = new Uint8Array(2 + tag.length);
  new DataView(p.buffer).setUint16(0, tag.length);
  p.set(tag, 2);
  return p;
});

function startsWith(b: Bytes, prefix: Bytes): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false;
  return true;
}

/** Whether a signing payload is a vote's or a receipt's (the types that may be batch-signed). */
export function isBatchablePayload(payload: Bytes): boolean {
  return BATCHABLE_PREFIXES.some((p) => startsWith(payload, p));
}

/** The depth of an encoded batchable signature, or -1 when its length is no valid form. */
export function batchDepth(sig: Bytes): number {
  if (sig.length === SIGNATURE_BYTES) return 0;
  const rest = sig.length - SIGNATURE_BYTES - 2;
  if (rest < 32 || rest % 32 !== 0) return -1;
  const depth = rest / 32;
  return depth <= MAX_BATCH_DEPTH ? depth : -1;
}

/** The index a batch signature names (its u16 after the signature). */
function batchIndex(sig: Bytes): number {
  return (sig[SIGNATURE_BYTES]! << 8) | sig[SIGNATURE_BYTES + 1]!;
}

/** Whether an encoded batchable signature is canonical: a known length and an index within 2^depth. */
export function canonicalBatchSignature(sig: Bytes): boolean {
  const depth = batchDepth(sig);
  return depth === 0 || (depth > 0 && batchIndex(sig) < 1 << depth);
}

/** 0x01 ‖ left ‖ right, hashed in one call (a multi-part Hash object costs ~4 µs a node). */
const interiorInput = new Uint8Array(65);
interiorInput[0] = INTERIOR[0]!;
function interior(left: Bytes, right: Bytes): Bytes {
  interiorInput.set(left, 1);
  interiorInput.set(right, 33);
  const out = new Uint8Array(32);
  hashInto(out, interiorInput);
  return out;
}

/**
 * The leaf of a payload (its object's id), hashed into a scratch buffer: valid until the
 * next call. A node computes one per vote or receipt it checks (~40 per transfer).
 */
const leafScratch = new Uint8Array(32);
export function leafOf(payload: Bytes): Bytes {
  hashInto(leafScratch, payload);
  return leafScratch;
}

/**
 * A proof is walked with no allocation: each step hashes into one scratch node (libsodium's
 * SHA-256 where the addon loads, ~0.5 µs; node:crypto's otherwise). A node checks ~40
 * proofs per transfer (every vote and receipt in every certificate and bundle it gets).
 */
const pathNode = new Uint8Array(32);
const hashInto: (out: Uint8Array, input: Uint8Array) => void =
  sodium !== null ? (out, input) => sodium!.crypto_hash_sha256(out, input) : (out, input) => out.set(sha256(input));

/** Per network: var(tag) ‖ var(network), then room for the root. */
const rootScratch = new Map<string, Uint8Array>();
function rootBuffer(network: string): Uint8Array {
  let b = rootScratch.get(network);
  if (b === undefined) {
    const prefix = new Writer(64).var(BATCH_TAG).string(network).finish();
    b = new Uint8Array(prefix.length + 32);
    b.set(prefix, 0);
    rootScratch.set(network, b);
  }
  return b;
}

/** The bytes a batch signature covers. */
export function batchPayload(network: string, root: Bytes): Bytes {
  const b = rootBuffer(network).slice();
  b.set(root, b.length - 32);
  return b;
}

/**
 * Proofs that held, per verifier: one slot per 13 bits of the leaf, holding the leaf, key,
 * network and the whole encoded signature. A node gets each vote and receipt again and
 * again, inside every certificate and bundle that carries it, each time a fresh decode:
 * an exact match skips the walk to the root and the root's check (~5 µs a proof).
 */
const PROOF_SLOTS = 8192;
const PROOF_SLOT_BYTES = 32 + 32 + 2 + MAX_BATCH_SIGNATURE_BYTES;
type ProofCache = { readonly bytes: Uint8Array; readonly networks: (string | undefined)[] };
const proofCaches = new WeakMap<Verifier, ProofCache>();

function sameBytes(a: Uint8Array, at: number, b: Bytes): boolean {
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}

function proofSlot(leaf: Bytes): number {
  return ((leaf[0]! << 8) | leaf[1]!) & (PROOF_SLOTS - 1);
}

function provenBefore(verifier: Verifier, network: string, key: Bytes, leaf: Bytes, sig: Bytes): boolean {
  const cache = proofCaches.get(verifier);
  if (cache === undefined) return false;
  const slot = proofSlot(leaf);
  if (cache.networks[slot] !== network) return false;
  const o = slot * PROOF_SLOT_BYTES;
  const b = cache.bytes;
  return ((b[o + 64]! << 8) | b[o + 65]!) === sig.length && sameBytes(b, o, leaf) && sameBytes(b, o + 32, key) && sameBytes(b, o + 66, sig);
}

function rememberProof(verifier: Verifier, network: string, key: Bytes, leaf: Bytes, sig: Bytes): void {
  if (key.length !== 32 || sig.length > MAX_BATCH_SIGNATURE_BYTES) return;
  let cache = proofCaches.get(verifier);
  if (cache === undefined) proofCaches.set(verifier, (cache = { bytes: new Uint8Array(PROOF_SLOTS * PROOF_SLOT_BYTES), networks: new Array(PROOF_SLOTS) }));
  const slot = proofSlot(leaf);
  const o = slot * PROOF_SLOT_BYTES;
  cache.bytes.set(leaf, o);
  cache.bytes.set(key, o + 32);
  cache.bytes[o + 64] = sig.length >>> 8;
  cache.bytes[o + 65] = sig.length & 0xff;
  cache.bytes.set(sig, o + 66);
  cache.networks[slot] = network;
}

/** Checks a batch signature (depth > 0) on an object whose id (SHA-256 of its signed payload) is `leaf`. */
export function verifyBatchSignature(verifier: Verifier, network: string, key: Bytes, leaf: Bytes, sig: Bytes): boolean {
  const depth = batchDepth(sig);
  if (depth <= 0 || !canonicalBatchSignature(sig)) return false;
  if (provenBefore(verifier, network, key, leaf, sig)) return true;
  if (!walkAndCheck(verifier, network, key, leaf, sig, depth)) return false;
  rememberProof(verifier, network, key, leaf, sig);
  return true;
}

function walkAndCheck(verifier: Verifier, network: string, key: Bytes, leaf: Bytes, sig: Bytes, depth: number): boolean {
  pathNode.set(leaf);
  let index = batchIndex(sig);
  for (let i = 0; i < depth; i++) {
    const sibling = sig.subarray(SIGNATURE_BYTES + 2 + 32 * i, SIGNATURE_BYTES + 2 + 32 * (i + 1));
    interiorInput.set((index & 1) === 0 ? pathNode : sibling, 1);
    interiorInput.set((index & 1) === 0 ? sibling : pathNode, 33);
    hashInto(pathNode, interiorInput);
    index >>>= 1;
  }
  const node = pathNode;
  // Into a scratch buffer when the verifier keeps no reference to the message.
  let message: Bytes;
  if (verifier.keepsMessage === true) message = batchPayload(network, node);
  else {
    message = rootBuffer(network);
    message.set(node, message.length - 32);
  }
  return verifier.verify(key, message, sig.subarray(0, SIGNATURE_BYTES));
}

/**
 * What a pending signature resolves through: the batch it waits in. A placeholder is an
 * empty Bytes object; every reader of a signature (encoding, verifying) passes it through
 * finalSignature, which seals the batch on first use.
 */
const pendingIn = new Memo<BatchSigner>('pendingBatch');
const resolved = new Memo<Bytes>('batchSignature');

/** The signature to encode or check: a pending one is resolved (its batch sealed) first. */
export function finalSignature(sig: Bytes): Bytes {
  if (sig.length !== 0) return sig;
  const done = resolved.get(sig);
  if (done !== undefined) return done;
  const signer = pendingIn.get(sig);
  if (signer === undefined) return sig;
  signer.resolve(sig);
  return resolved.get(sig)!;
}

type Pending = { readonly payload: Bytes; readonly placeholder: Bytes; readonly n: number };

/**
 * A signer that batches the votes and receipts it signs: each gets a placeholder, and
 * a batch is signed once, when the first of it is encoded or checked (in a daemon: when
 * the synced write that held its answers back is done and they go out). A batch of one
 * is a plain signature. Other payloads are signed at once. Protocol code sees a Signer
 * as before; only the timing of the Ed25519 work changes.
 *
 * Gated (a daemon's driver calls gate(), mark() after each step and release() once that
 * step's writes are durable), a batch holds only released objects. It must: an object's
 * proof carries the hashes of its neighbours, and a vote's payload is predictable, so
 * whoever gets one object of a batch can rebuild a neighbour's signed vote. Were that
 * vote's lock not yet durable, a crash could make an honest custodian vote twice (I5,
 * I7). An unreleased object that must be resolved early gets a plain signature alone.
 */
export class BatchSigner implements Signer {
  readonly publicKey: Bytes;
  private readonly inner: Signer;
  private readonly network: string;
  private pending: Pending[] = [];
  /** Objects signed so far (their running number). */
  private signed = 0;
  /** Objects numbered below this may be sealed together (ungated: all). */
  private released = Number.POSITIVE_INFINITY;
  /** Batches sealed and objects signed in them, for metrics. */
  batches = 0;
  objects = 0;

  constructor(inner: Signer, network: string) {
    this.inner = inner;
    this.publicKey = inner.publicKey;
    this.network = network;
  }

  sign(payload: Bytes): Bytes {
    if (!isBatchablePayload(payload)) return this.inner.sign(payload);
    const placeholder = new Uint8Array(0);
    pendingIn.set(placeholder, this);
    this.pending.push({ payload, placeholder, n: this.signed++ });
    if (this.pending.length >= MAX_BATCH_OBJECTS) this.seal();
    return placeholder;
  }

  /** From now on, objects wait for release() before they share a batch. */
  gate(): void {
    this.released = this.signed;
  }

  /** The running number to release once the writes of everything signed so far are durable. */
  mark(): number {
    return this.signed;
  }

  /** Objects signed before `mark` may now share a batch. */
  release(mark: number): void {
    if (mark > this.released) this.released = mark;
  }

  /** Resolves one placeholder: with its released peers in a batch, or alone if it is not released. */
  resolve(placeholder: Bytes): void {
    const i = this.pending.findIndex((p) => p.placeholder === placeholder);
    if (i < 0) return;
    const p = this.pending[i]!;
    if (p.n < this.released) {
      this.seal();
      return;
    }
    this.pending.splice(i, 1);
    this.signBatch([p]);
  }

  /** Signs every released pending object, in batches of at most MAX_BATCH_OBJECTS (idempotent). */
  seal(): void {
    let cut = 0;
    while (cut < this.pending.length && this.pending[cut]!.n < this.released) cut++;
    if (cut === 0) return;
    const ready = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    for (let i = 0; i < ready.length; i += MAX_BATCH_OBJECTS) this.signBatch(ready.slice(i, i + MAX_BATCH_OBJECTS));
  }

  private signBatch(batch: readonly Pending[]): void {
    this.batches++;
    this.objects += batch.length;
    if (batch.length === 1) {
      resolved.set(batch[0]!.placeholder, this.inner.sign(batch[0]!.payload));
      return;
    }
    let depth = 0;
    while (1 << depth < batch.length) depth++;
    // levels[0] = leaves, padded with the last leaf to a power of two (a duplicate leaf
    // proves nothing new: its payload is one this signer signed anyway).
    const levels: Bytes[][] = [];
    let level: Bytes[] = batch.map((b) => leafOf(b.payload).slice());
    while (level.length < 1 << depth) level.push(level[level.length - 1]!);
    levels.push(level);
    while (level.length > 1) {
      const up: Bytes[] = [];
      for (let i = 0; i < level.length; i += 2) up.push(interior(level[i]!, level[i + 1]!));
      levels.push((level = up));
    }
    const sig = this.inner.sign(batchPayload(this.network, level[0]!));
    for (let i = 0; i < batch.length; i++) {
      const out = new Uint8Array(SIGNATURE_BYTES + 2 + 32 * depth);
      out.set(sig, 0);
      out[SIGNATURE_BYTES] = i >>> 8;
      out[SIGNATURE_BYTES + 1] = i & 0xff;
      let index = i;
      for (let d = 0; d < depth; d++) {
        out.set(levels[d]![index ^ 1]!, SIGNATURE_BYTES + 2 + 32 * d);
        index >>>= 1;
      }
      resolved.set(batch[i]!.placeholder, out);
    }
  }
}
