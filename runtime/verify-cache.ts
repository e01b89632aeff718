// A signature scheme that remembers signatures it has verified. One node checks the
// same signature several times per transfer (a vote when it arrives, again inside
// the certificate at certify, credit and store time), and Ed25519 verification is
// the largest CPU cost of a node (see docs/benchmarks.md). Only successes are kept,
// with copies of the signature, key and message they verified, so a hit means exactly
// this key made exactly this signature over exactly these bytes. (Comparing ~200
// bytes costs far less than hashing them: a SHA-256 key per check was ~1.3 % of a
// node's CPU.) Entries are found by 32 bits of the signature; two signatures sharing
// them take turns in one slot, which costs a verification, never a wrong answer.
import type { SignatureScheme } from '../protocol/signature.ts';

/**
 * Verified signatures remembered; past it the oldest are dropped (a cache, never
 * a source of truth). A transfer needs its signatures for the seconds it takes to
 * store; 65,536 is ~9,000 transfers (7 signatures each), ~10 s at 1,000 transfers/s,
 * and 27 MB of entries (418 bytes each).
 */
export const VERIFY_CACHE_ENTRIES = 65_536;

/**
 * Largest message an entry holds. The hot ones are far smaller (a vote's payload is
 * ~150 bytes, a transfer's at most ~250 with a 64-byte memo); notices and epoch records
 * are rare and larger, and are checked without the cache.
 */
export const MAX_CACHED_MESSAGE_BYTES = 320;
const SIG = 64;
const KEY = 32;
/** An entry: u16 message length ‖ signature ‖ key ‖ message, in fixed-size slots of one Buffer. */
const ENTRY_BYTES = 2 + SIG + KEY + MAX_CACHED_MESSAGE_BYTES;

/** 32 bits of R: signatures are uniform, and a small integer key allocates nothing. */
function keyOf(signature: Uint8Array): number {
  return (signature[0]! | (signature[1]! << 8) | (signature[2]! << 16) | (signature[3]! << 24)) >>> 0;
}

/**
 * Entries live in a ring of fixed slots in one Buffer, found through an open-addressing
 * table of typed arrays: no allocation per check or insert. (A Map of one Buffer per
 * entry allocated a Buffer and a heap-number key per insert and rehashed itself every
 * ~65,000 inserts: about a third of all the bytes a node allocated, and its GC.) Each
 * hit compares the full signature, key and message natively; two signatures sharing a
 * key take turns in the table, which costs a verification, never a wrong answer.
 */
export function cachingScheme(inner: SignatureScheme, limit = VERIFY_CACHE_ENTRIES): SignatureScheme & { hits: () => number; checks: () => number } {
  let hits = 0;
  let checks = 0;
  const ring = Buffer.alloc(limit * ENTRY_BYTES);
  const entryKey = new Uint32Array(limit);
  // Entries in insertion order, a ring: one out per one in, oldest first.
  let head = 0;
  let filled = 0;
  // Linear probing at load <= 1/2, with backward-shift deletion (no tombstones to sweep).
  let size = 2;
  while (size < limit * 2) size *= 2;
  const mask = size - 1;
  const tableKey = new Uint32Array(size);
  const tableEntry = new Int32Array(size).fill(-1);
  const home = (k: number): number => (Math.imul(k, 0x9e3779b1) >>> 0) & mask;

  const find = (k: number): number => {
    for (let i = home(k); tableEntry[i]! >= 0; i = (i + 1) & mask) if (tableKey[i] === k) return i;
    return -1;
  };
  const put = (k: number, e: number): void => {
    let i = home(k);
    while (tableEntry[i]! >= 0 && tableKey[i] !== k) i = (i + 1) & mask;
    tableKey[i] = k;
    tableEntry[i] = e;
  };
  const remove = (slot: number): void => {
    let i = slot;
    tableEntry[i] = -1;
    for (let j = (i + 1) & mask; tableEntry[j]! >= 0; j = (j + 1) & mask) {
      const h = home(tableKey[j]!);
      // The entry at j may move back to the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? h > i && h <= j : h > i || h <= j;
      if (stays) continue;
      tableKey[i] = tableKey[j]!;
      tableEntry[i] = tableEntry[j]!;
      tableEntry[j] = -1;
      i = j;
    }
  };

  const holds = (e: number, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
    const o = e * ENTRY_BYTES;
    return (
      signature.length === SIG && publicKey.length === KEY && ring.readUInt16LE(o) === message.length &&
      ring.compare(signature, 0, SIG, o + 2, o + 2 + SIG) === 0 &&
      ring.compare(publicKey, 0, KEY, o + 2 + SIG, o + 2 + SIG + KEY) === 0 &&
      ring.compare(message, 0, message.length, o + 2 + SIG + KEY, o + 2 + SIG + KEY + message.length) === 0
    );
  };

  const remember = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void => {
    if (signature.length !== SIG || publicKey.length !== KEY || message.length > MAX_CACHED_MESSAGE_BYTES) return;
    const e = head;
    if (filled === limit) {
      // The oldest entry goes, unless a newer signature with its key took its place.
      const slot = find(entryKey[e]!);
      if (slot >= 0 && tableEntry[slot] === e) remove(slot);
    } else filled++;
    const o = e * ENTRY_BYTES;
    ring.writeUInt16LE(message.length, o);
    ring.set(signature, o + 2);
    ring.set(publicKey, o + 2 + SIG);
    ring.set(message, o + 2 + SIG + KEY);
    const k = keyOf(signature);
    entryKey[e] = k;
    put(k, e);
    head = head + 1 === limit ? 0 : head + 1;
  };
  return {
    name: inner.name,
    // What this node signs is remembered as verified: its own vote comes back inside
    // the certificate (certify, credit) and its own receipt inside the bundle (store),
    // and in a small ring a node checks its own signature at each of those. An
    // Ed25519 signature made here with this key over these bytes is valid by construction.
    signer: (secretKey) => {
      const s = inner.signer(secretKey);
      return {
        publicKey: s.publicKey,
        sign(message) {
          const signature = s.sign(message);
          remember(s.publicKey, message, signature);
          return signature;
        },
      };
    },
    hits: () => hits,
    checks: () => checks,
    keepsMessage: inner.keepsMessage,
    verify(publicKey, message, signature) {
      const slot = signature.length === SIG ? find(keyOf(signature)) : -1;
      if (slot >= 0 && holds(tableEntry[slot]!, publicKey, message, signature)) {
        hits++;
        return true;
      }
      checks++;
      if (!inner.verify(publicKey, message, signature)) return false;
      remember(publicKey, message, signature);
      return true;
    },
  };
}

/**
 * A benchmark knob, for measuring what a node costs besides its signature checks (see
 * `bench devnet --skip-signature-checks`). Checks are skipped only on a network whose id
 * starts with UNVERIFIED_NETWORK_PREFIX *and* with SKIP_SIGNATURE_CHECKS_ENV=1: every
 * signed payload carries the network id, so nothing signed there is valid on a real
 * network, and a real network's daemons never skip, whatever their environment says.
 */
export const UNVERIFIED_NETWORK_PREFIX = 'unverified-bench-';
export const SKIP_SIGNATURE_CHECKS_ENV = 'RINGMINT_BENCH_SKIP_SIGNATURE_CHECKS';

export function skipsSignatureChecks(network: string, env: Readonly<Record<string, string | undefined>>): boolean {
  return network.startsWith(UNVERIFIED_NETWORK_PREFIX) && env[SKIP_SIGNATURE_CHECKS_ENV] === '1';
}

/** The daemon's scheme: real Ed25519 behind the cache, or (the benchmark knob above) checks that always pass. */
export function daemonScheme(inner: SignatureScheme, network: string, env: Readonly<Record<string, string | undefined>>): ReturnType<typeof cachingScheme> {
  if (!skipsSignatureChecks(network, env)) return cachingScheme(inner);
  return cachingScheme({ name: inner.name, signer: inner.signer, verify: () => true });
}
