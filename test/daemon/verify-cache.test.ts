// The daemon's verified-signature cache: a hit only for the exact key, message and
// signature verified before; failures are never remembered; the bound holds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ed25519, generateKeyPair, type SignatureScheme } from '../../protocol/signature.ts';
import { cachingScheme, daemonScheme, MAX_CACHED_MESSAGE_BYTES, SKIP_SIGNATURE_CHECKS_ENV, skipsSignatureChecks, UNVERIFIED_NETWORK_PREFIX } from '../../runtime/verify-cache.ts';

/** ed25519 that counts the verifications that reach it. */
function counting(): SignatureScheme & { calls: number } {
  const s = {
    name: ed25519.name,
    calls: 0,
    signer: ed25519.signer,
    verify(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) {
      s.calls++;
      return ed25519.verify(pk, msg, sig);
    },
  };
  return s;
}

const kp = generateKeyPair();
const other = generateKeyPair();
const msg = new TextEncoder().encode('vote for transfer 1');
const sig = ed25519.signer(kp.secretKey).sign(msg);

test('a repeated verification is a hit; the inner scheme runs once', () => {
  const inner = counting();
  const c = cachingScheme(inner);
  assert.ok(c.verify(kp.publicKey, msg, sig));
  assert.ok(c.verify(kp.publicKey, Uint8Array.from(msg), Uint8Array.from(sig)));
  assert.is(inner.calls, 1);
  assert.is(c.hits(), 1);
});

test('the same signature with another key or message is checked again and refused', () => {
  const inner = counting();
  const c = cachingScheme(inner);
  assert.ok(c.verify(kp.publicKey, msg, sig));
  assert.not.ok(c.verify(other.publicKey, msg, sig));
  const altered = Uint8Array.from(msg);
  altered[altered.length - 1]! ^= 1;
  assert.not.ok(c.verify(kp.publicKey, altered, sig));
  assert.not.ok(c.verify(kp.publicKey, msg.subarray(1), sig));
  assert.is(inner.calls, 4);
  assert.is(c.hits(), 0);
  // the original still hits
  assert.ok(c.verify(kp.publicKey, msg, sig));
  assert.is(c.hits(), 1);
});

test("a caller's buffer changed after a check does not change what the cache answers", () => {
  const inner = counting();
  const c = cachingScheme(inner);
  const m = Uint8Array.from(msg);
  assert.ok(c.verify(kp.publicKey, m, sig));
  m[0]! ^= 1; // e.g. a receive buffer reused for the next frame
  assert.not.ok(c.verify(kp.publicKey, m, sig));
  assert.ok(c.verify(kp.publicKey, msg, sig));
  assert.is(inner.calls, 2);
});

test('signatures that share a cache slot are told apart by their full bytes', () => {
  let calls = 0;
  const acceptAll: SignatureScheme = { name: 'ed25519', signer: ed25519.signer, verify: () => (calls++, true) };
  const c = cachingScheme(acceptAll);
  const a = new Uint8Array(64).fill(7);
  const b = Uint8Array.from(a);
  b[63] = 8; // same R prefix and S prefix, another signature
  assert.ok(c.verify(kp.publicKey, msg, a));
  assert.ok(c.verify(kp.publicKey, msg, b));
  assert.is(calls, 2);
  assert.ok(c.verify(kp.publicKey, msg, b));
  assert.is(calls, 2);
  assert.ok(c.verify(kp.publicKey, msg, a)); // b took the slot: a is checked again
  assert.is(calls, 3);
});

test('over many inserts exactly the last `limit` signatures stay', () => {
  let calls = 0;
  const acceptAll: SignatureScheme = { name: 'ed25519', signer: ed25519.signer, verify: () => (calls++, true) };
  const c = cachingScheme(acceptAll, 8);
  const sigs = Array.from({ length: 50 }, (_, i) => new Uint8Array(64).fill(i + 1));
  for (const g of sigs) c.verify(kp.publicKey, msg, g);
  assert.is(calls, 50);
  for (let i = 42; i < 50; i++) assert.ok(c.verify(kp.publicKey, msg, sigs[i]!));
  assert.is(calls, 50, 'the last 8 are hits');
  assert.ok(c.verify(kp.publicKey, msg, sigs[41]!));
  assert.is(calls, 51, 'the 9th from last was dropped');
});

test('failures are not remembered', () => {
  const inner = counting();
  const c = cachingScheme(inner);
  const bad = Uint8Array.from(sig);
  bad[0]! ^= 1;
  assert.not.ok(c.verify(kp.publicKey, msg, bad));
  assert.not.ok(c.verify(kp.publicKey, msg, bad));
  assert.is(inner.calls, 2);
});

test('past the bound the oldest are dropped', () => {
  const inner = counting();
  const c = cachingScheme(inner, 4);
  const s = ed25519.signer(kp.secretKey);
  const msgs = Array.from({ length: 5 }, (_, i) => new Uint8Array([i]));
  const sigs = msgs.map((m) => s.sign(m));
  for (let i = 0; i < 5; i++) assert.ok(c.verify(kp.publicKey, msgs[i]!, sigs[i]!));
  assert.is(inner.calls, 5);
  assert.ok(c.verify(kp.publicKey, msgs[4]!, sigs[4]!)); // kept
  assert.is(inner.calls, 5);
  assert.ok(c.verify(kp.publicKey, msgs[0]!, sigs[0]!)); // dropped: checked again
  assert.is(inner.calls, 6);
});

test("the node's own signatures count as verified; others' still reach the inner scheme", () => {
  const inner = counting();
  const c = cachingScheme(inner);
  const own = c.signer(kp.secretKey);
  assert.equal(own.publicKey, kp.publicKey);
  const m = new TextEncoder().encode('my own vote');
  const mine = own.sign(m);
  assert.equal(mine, ed25519.signer(kp.secretKey).sign(m)); // same bytes as the plain signer
  assert.ok(c.verify(kp.publicKey, m, mine));
  assert.is(inner.calls, 0);
  // a forgery claiming my key over other bytes is still checked (and refused)
  assert.not.ok(c.verify(kp.publicKey, msg, mine));
  assert.is(inner.calls, 1);
});

test.run();

test('a message longer than an entry holds is checked every time, and answered right', () => {
  const inner = counting();
  const c = cachingScheme(inner);
  const s = ed25519.signer(kp.secretKey);
  const long = new Uint8Array(MAX_CACHED_MESSAGE_BYTES + 1).fill(3);
  const longSig = s.sign(long);
  assert.ok(c.verify(kp.publicKey, long, longSig));
  assert.ok(c.verify(kp.publicKey, long, longSig));
  assert.is(inner.calls, 2);
  const exact = long.subarray(1);
  const exactSig = s.sign(exact);
  assert.ok(c.verify(kp.publicKey, exact, exactSig));
  assert.ok(c.verify(kp.publicKey, exact, exactSig));
  assert.is(inner.calls, 3, 'a message of exactly the largest size is kept');
});

test('under churn with colliding keys the cache answers exactly as a model of it does', () => {
  // The model: the last `limit` inserts, each key naming its newest entry while that entry is kept.
  for (const limit of [1, 3, 16, 64]) {
    let calls = 0;
    const acceptAll: SignatureScheme = { name: 'ed25519', signer: ed25519.signer, verify: () => (calls++, true) };
    const c = cachingScheme(acceptAll, limit);
    const entries: { key: number; sig: string }[] = [];
    const newest = new Map<number, number>(); // key -> absolute insert number
    let inserted = 0;
    let seed = 12345 + limit;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    for (let op = 0; op < 20_000; op++) {
      // Few distinct keys (first 4 bytes) and few tails: long probe chains, collisions and repeats.
      const sig = new Uint8Array(64);
      const key = rand(limit * 3 + 2);
      new DataView(sig.buffer).setUint32(0, key * 2654435761 >>> 0, true);
      sig[63] = rand(3);
      const k = new DataView(sig.buffer).getUint32(0, true);
      const hex = Buffer.from(sig).toString('hex');
      const e = newest.get(k);
      const modelHit = e !== undefined && e >= inserted - limit && entries[e]!.sig === hex;
      const before = calls;
      assert.ok(c.verify(kp.publicKey, msg, sig));
      assert.is(calls === before, modelHit, `op ${op}, limit ${limit}`);
      if (!modelHit) {
        entries.push({ key: k, sig: hex });
        newest.set(k, inserted++);
      }
    }
  }
});

test('signature checks are skipped only on an unverified-bench- network with the benchmark variable set', () => {
  const bad = Uint8Array.from(sig);
  bad[0]! ^= 1;
  const on = { [SKIP_SIGNATURE_CHECKS_ENV]: '1' };
  const cases: [string, Record<string, string>, boolean][] = [
    ['ringmint-devnet', on, false],
    ['ringmint-devnet', {}, false],
    [`${UNVERIFIED_NETWORK_PREFIX}devnet`, {}, false],
    [`${UNVERIFIED_NETWORK_PREFIX}devnet`, { [SKIP_SIGNATURE_CHECKS_ENV]: 'yes' }, false],
    [`x-${UNVERIFIED_NETWORK_PREFIX}devnet`, on, false],
    [`${UNVERIFIED_NETWORK_PREFIX}devnet`, on, true],
  ];
  for (const [network, env, skips] of cases) {
    assert.is(skipsSignatureChecks(network, env), skips, `${network} ${JSON.stringify(env)}`);
    const scheme = daemonScheme(ed25519, network, env);
    assert.is(scheme.verify(kp.publicKey, msg, bad), skips, `a bad signature on ${network}`);
    assert.ok(scheme.verify(kp.publicKey, msg, sig));
    // Signing stays real either way.
    assert.ok(ed25519.verify(kp.publicKey, msg, scheme.signer(kp.secretKey).sign(msg)));
  }
});
