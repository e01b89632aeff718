// The ring: successors against a brute-force model, tagged custody and storage
// keys, and the rules of epoch records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { concat, toHex, utf8, ZERO32, type Bytes } from '../../protocol/bytes.ts';
import { sha256 } from '../../protocol/hash.ts';
import { bindNetwork, epochHash, type EpochRecord } from '../../protocol/objects.ts';
import { position, Ring, validateEpoch } from '../../protocol/ring.ts';
import { ed25519 } from '../../protocol/signature.ts';
import { codeOf, epochRecord, keyOf, NET } from './vectors/fixtures.ts';

const mint = keyOf('mint');
const nodes = Array.from({ length: 12 }, (_, i) => keyOf(`node-${i}`).publicKey);

/** An unsigned record for the ring alone (Ring never checks signatures). */
function plainEpoch(members: Bytes[], k = 4, q = 3): EpochRecord {
  const sorted = [...members].sort((a, b) => (toHex(a) < toHex(b) ? -1 : 1));
  return bindNetwork({ network: NET, epoch: 0, members: sorted, k, q, prev: ZERO32, issuedAt: 0, sig: new Uint8Array(64) }, NET);
}

/** The model: sort members by position as big integers; first m at or after the key, wrapping. */
function modelSuccessors(members: Bytes[], key: Bytes, m: number): string[] {
  const pos = (b: Bytes) => BigInt('0x' + toHex(sha256(b)));
  const ring = members.map((id) => ({ id: toHex(id), p: pos(id) })).sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  const kp = pos(key);
  let start = ring.findIndex((x) => x.p >= kp);
  if (start < 0) start = 0; // past the last member: wrap to the first
  const out: string[] = [];
  for (let i = 0; i < Math.min(m, ring.length); i++) out.push(ring[(start + i) % ring.length]!.id);
  return out;
}

test('position is SHA-256 of the id', () => {
  assert.is(toHex(position(utf8('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('fast-check: successors match the brute-force model (distinct, clockwise, wrapping)', () => {
  const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
  fc.assert(
    fc.property(fc.uniqueArray(b32, { minLength: 1, maxLength: 30, selector: toHex }), fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 40 }), (members, key, m) => {
      const ring = new Ring(plainEpoch(members));
      const got = ring.successors(key, m).map(toHex);
      assert.equal(got, modelSuccessors(members, key, m));
      assert.is(new Set(got).size, got.length);
    }),
    { seed: 11, numRuns: 400 },
  );
});

test('a key exactly at a member position starts at that member', () => {
  const ring = new Ring(plainEpoch(nodes));
  for (const n of nodes) assert.is(toHex(ring.successors(n, 1)[0]!), toHex(n));
});

test('custodians use the "acct" tag and storage the "rcpt" tag', () => {
  const ring = new Ring(plainEpoch(nodes, 4, 3));
  let differs = 0;
  for (let i = 0; i < 20; i++) {
    const account = keyOf(`acct-${i}`).publicKey;
    const cust = ring.custodians(account).map(toHex);
    assert.equal(cust, modelSuccessors(nodes, concat(utf8('acct'), account), 4));
    assert.equal(ring.custodians(account).map(toHex), cust); // memoised answer is the same
    for (const c of ring.custodians(account)) assert.ok(ring.isCustodian(c, account));
    const id = sha256(account);
    const store = ring.storage(id).map(toHex);
    assert.equal(store, modelSuccessors(nodes, concat(utf8('rcpt'), id), 4));
    if (cust.join() !== modelSuccessors(nodes, account, 4).join()) differs++;
  }
  assert.ok(differs > 0, 'the tag changes placement');
  const outsider = keyOf('outsider').publicKey;
  assert.not.ok(ring.isMember(outsider));
  assert.ok(ring.isMember(nodes[3]!));
  assert.is(ring.size, 12);
});

test('a ring smaller than k gives every member once', () => {
  const ring = new Ring(plainEpoch(nodes.slice(0, 2), 4, 3));
  const c = ring.custodians(keyOf('a').publicKey);
  assert.is(c.length, 2);
  assert.is(new Set(c.map(toHex)).size, 2);
});

test('validateEpoch accepts a good chain', () => {
  const e0 = epochRecord(mint, nodes.slice(0, 5));
  validateEpoch(e0, mint.publicKey, ed25519);
  const e1 = epochRecord(mint, nodes.slice(0, 6), { epoch: 1, prev: epochHash(e0) });
  validateEpoch(e1, mint.publicKey, ed25519, e0);
  const e2 = epochRecord(mint, nodes.slice(1, 6), { epoch: 2, prev: epochHash(e1), k: 3, q: 2 });
  validateEpoch(e2, mint.publicKey, ed25519, e1);
});

test('validateEpoch rejects 2q <= k, q > k and q = 0 (BAD_EPOCH)', () => {
  for (const [k, q] of [[4, 2], [2, 1], [6, 3], [3, 4], [1, 0], [0, 0]] as const) {
    const e = epochRecord(mint, nodes.slice(0, 6), { k, q });
    assert.is(codeOf(() => validateEpoch(e, mint.publicKey, ed25519)), 'BAD_EPOCH', `k=${k} q=${q}`);
  }
  for (const [k, q] of [[1, 1], [3, 2], [4, 3], [5, 3]] as const) {
    const e = epochRecord(mint, nodes.slice(0, 6), { k, q });
    assert.is(codeOf(() => validateEpoch(e, mint.publicKey, ed25519)), 'NO THROW', `k=${k} q=${q}`);
  }
});

test('validateEpoch rejects a record not signed by the mint (BAD_SIGNATURE)', () => {
  const e = epochRecord(keyOf('impostor'), nodes.slice(0, 5));
  assert.is(codeOf(() => validateEpoch(e, mint.publicKey, ed25519)), 'BAD_SIGNATURE');
  const good = epochRecord(mint, nodes.slice(0, 5));
  const altered = bindNetwork({ ...good, issuedAt: good.issuedAt + 1 }, NET);
  assert.is(codeOf(() => validateEpoch(altered, mint.publicKey, ed25519)), 'BAD_SIGNATURE');
});

test('validateEpoch rejects a broken prev chain or a skipped number (BAD_EPOCH)', () => {
  const e0 = epochRecord(mint, nodes.slice(0, 5));
  const wrongPrev = epochRecord(mint, nodes.slice(0, 6), { epoch: 1, prev: sha256(utf8('nope')) });
  assert.is(codeOf(() => validateEpoch(wrongPrev, mint.publicKey, ed25519, e0)), 'BAD_EPOCH');
  const skipped = epochRecord(mint, nodes.slice(0, 6), { epoch: 2, prev: epochHash(e0) });
  assert.is(codeOf(() => validateEpoch(skipped, mint.publicKey, ed25519, e0)), 'BAD_EPOCH');
  const nonZeroPrev = epochRecord(mint, nodes.slice(0, 5), { prev: sha256(utf8('x')) });
  assert.is(codeOf(() => validateEpoch(nonZeroPrev, mint.publicKey, ed25519)), 'BAD_EPOCH');
});

test('validateEpoch rejects unsorted, repeated or no members (BAD_EPOCH, never a crash)', () => {
  const good = epochRecord(mint, nodes.slice(0, 5));
  const unsorted = bindNetwork({ ...good, members: [...good.members].reverse() }, NET);
  assert.is(codeOf(() => validateEpoch(unsorted, mint.publicKey, ed25519)), 'BAD_EPOCH');
  const repeated = bindNetwork({ ...good, members: [good.members[0]!, ...good.members] }, NET);
  assert.is(codeOf(() => validateEpoch(repeated, mint.publicKey, ed25519)), 'BAD_EPOCH');
  const empty = epochRecord(mint, [], { k: 1, q: 1 });
  assert.is(codeOf(() => validateEpoch(empty, mint.publicKey, ed25519)), 'BAD_EPOCH');
});

test.run();
