// Ed25519: RFC 8032 vectors through every path (pure-JS noble, the reference;
// libsodium and node:crypto, the native ones the protocol uses), and all paths agree
// on every kind of corrupted signature and on small-order keys. The simulator's
// stand-in still fails wrong keys and messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { concat, fromHex, toHex, type Bytes } from '../../protocol/bytes.ts';
import {
  ed25519, fastScheme, generateKeyPair, nativeBackend, nobleSign, nobleVerify, opensslSigner, opensslVerify, publicKeyOf,
  sodiumSigner, sodiumVerify, hasSmallOrder, type Signer,
} from '../../protocol/signature.ts';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

type Verify = (publicKey: Bytes, message: Bytes, signature: Bytes) => boolean;
/** The native paths: node:crypto always, libsodium where its addon loads. */
const NATIVE: { name: string; verify: Verify; signer: (secret: Bytes) => Signer }[] = [
  { name: 'openssl', verify: opensslVerify, signer: opensslSigner },
  ...(sodiumVerify && sodiumSigner ? [{ name: 'libsodium', verify: sodiumVerify, signer: sodiumSigner }] : []),
];

test('libsodium loads where prebuilds exist (linux x64), and is then the protocol path', () => {
  if (process.platform === 'linux' && process.arch === 'x64') {
    assert.is(NATIVE.length, 2);
    assert.is(nativeBackend, 'libsodium');
  }
  assert.ok(NATIVE.length >= 1);
});

/** RFC 8032 section 7.1: TEST 1, 2, 3 and TEST SHA(abc). */
const RFC8032 = [
  {
    name: 'TEST 1',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST SHA(abc)',
    secret: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    public: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    message:
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    signature: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

/** The order of the Ed25519 base point. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function leToBig(b: Bytes): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}
function bigToLe(x: bigint, n: number): Bytes {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

for (const v of RFC8032) {
  test(`RFC 8032 ${v.name}: public key, signature and verification on both paths`, () => {
    const secret = fromHex(v.secret);
    const message = fromHex(v.message);
    const sig = fromHex(v.signature);
    assert.is(toHex(publicKeyOf(secret)), v.public);
    assert.is(toHex(nobleSign(secret, message)), v.signature);
    for (const n of NATIVE) {
      assert.is(toHex(n.signer(secret).publicKey), v.public, n.name);
      assert.is(toHex(n.signer(secret).sign(message)), v.signature, n.name);
      assert.ok(n.verify(fromHex(v.public), message, sig), n.name);
    }
    assert.is(toHex(ed25519.signer(secret).sign(message)), v.signature);
    assert.ok(nobleVerify(fromHex(v.public), message, sig));
    assert.ok(ed25519.verify(fromHex(v.public), message, sig));
  });
}

type Corruption =
  | { kind: 'none' }
  | { kind: 'flip-r'; bit: number }
  | { kind: 'flip-s'; bit: number }
  | { kind: 's-plus-l' }
  | { kind: 's-max' }
  | { kind: 'wrong-key'; secret: Bytes }
  | { kind: 'random-key'; key: Bytes }
  | { kind: 'wrong-message'; bit: number }
  | { kind: 'longer-message'; byte: number }
  | { kind: 'short-signature'; length: number }
  | { kind: 'long-signature' };

function corrupt(pub: Bytes, msg: Bytes, sig: Bytes, c: Corruption): { pub: Bytes; msg: Bytes; sig: Bytes } {
  const s = sig.slice();
  switch (c.kind) {
    case 'none':
      return { pub, msg, sig };
    case 'flip-r':
      s[c.bit >> 3]! ^= 1 << (c.bit & 7);
      return { pub, msg, sig: s };
    case 'flip-s':
      s[32 + (c.bit >> 3)]! ^= 1 << (c.bit & 7);
      return { pub, msg, sig: s };
    case 's-plus-l': // the same S modulo L, but not canonical (S >= L)
      s.set(bigToLe(leToBig(sig.subarray(32)) + L, 32), 32);
      return { pub, msg, sig: s };
    case 's-max':
      s.fill(0xff, 32);
      return { pub, msg, sig: s };
    case 'wrong-key':
      return { pub: publicKeyOf(c.secret), msg, sig };
    case 'random-key':
      return { pub: c.key, msg, sig };
    case 'wrong-message': {
      if (msg.length === 0) return { pub, msg: Uint8Array.of(c.bit & 0xff), sig };
      const m = msg.slice();
      const bit = c.bit % (m.length * 8);
      m[bit >> 3]! ^= 1 << (bit & 7);
      return { pub, msg: m, sig };
    }
    case 'longer-message':
      return { pub, msg: concat(msg, Uint8Array.of(c.byte)), sig };
    case 'short-signature':
      return { pub, msg, sig: sig.subarray(0, c.length) };
    case 'long-signature':
      return { pub, msg, sig: concat(sig, Uint8Array.of(0)) };
  }
}

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const corruptionArb: fc.Arbitrary<Corruption> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.integer({ min: 0, max: 255 }).map((bit) => ({ kind: 'flip-r' as const, bit })),
  fc.integer({ min: 0, max: 255 }).map((bit) => ({ kind: 'flip-s' as const, bit })),
  fc.constant({ kind: 's-plus-l' as const }),
  fc.constant({ kind: 's-max' as const }),
  bytes32.map((secret) => ({ kind: 'wrong-key' as const, secret })),
  bytes32.map((key) => ({ kind: 'random-key' as const, key })),
  fc.nat().map((bit) => ({ kind: 'wrong-message' as const, bit })),
  fc.integer({ min: 0, max: 255 }).map((byte) => ({ kind: 'longer-message' as const, byte })),
  fc.integer({ min: 0, max: 63 }).map((length) => ({ kind: 'short-signature' as const, length })),
  fc.constant({ kind: 'long-signature' as const }),
);

test('fast-check: noble and every native path give the same verdict on every corruption, and only "none" verifies', () => {
  const seen = new Set<string>();
  fc.assert(
    fc.property(bytes32, fc.uint8Array({ maxLength: 200 }), corruptionArb, (secret, message, c) => {
      const sig = nobleSign(secret, message);
      for (const n of NATIVE) assert.is(toHex(n.signer(secret).sign(message)), toHex(sig), n.name); // deterministic: same bytes
      const x = corrupt(publicKeyOf(secret), message, sig, c);
      const noble = nobleVerify(x.pub, x.msg, x.sig);
      for (const n of NATIVE) {
        const native = n.verify(x.pub, x.msg, x.sig);
        assert.is(native, noble, `${c.kind}: noble ${noble}, ${n.name} ${native}`);
      }
      if (c.kind === 'none') assert.ok(noble);
      else if (c.kind !== 'wrong-key' || toHex(publicKeyOf(c.secret)) !== toHex(publicKeyOf(secret))) assert.not.ok(noble, c.kind);
      seen.add(c.kind);
    }),
    { seed: 42, numRuns: 600 },
  );
  assert.is(seen.size, 11, 'every corruption kind was tried');
});

test('S >= L (the same S plus the group order) is refused by both paths', () => {
  const secret = fromHex(RFC8032[0]!.secret);
  const msg = Uint8Array.of(1, 2, 3);
  const sig = nobleSign(secret, msg);
  const x = corrupt(publicKeyOf(secret), msg, sig, { kind: 's-plus-l' });
  assert.ok(leToBig(x.sig.subarray(32)) >= L);
  assert.not.ok(nobleVerify(x.pub, x.msg, x.sig));
  for (const n of NATIVE) assert.not.ok(n.verify(x.pub, x.msg, x.sig), n.name);
});

test('small-order public keys never verify (the identity key would otherwise accept R=identity, S=0 for any message)', () => {
  const smallOrder = [
    '0100000000000000000000000000000000000000000000000000000000000000',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0000000000000000000000000000000000000000000000000000000000000080',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  ];
  const sig = new Uint8Array(64);
  sig[0] = 1; // R = identity, S = 0
  for (const k of smallOrder) {
    for (const msg of [new Uint8Array(0), Uint8Array.of(7)]) {
      assert.not.ok(nobleVerify(fromHex(k), msg, sig), k);
      for (const n of NATIVE) assert.not.ok(n.verify(fromHex(k), msg, sig), `${n.name} ${k}`);
    }
  }
});

test('a small-order R made by the key holder (valid without the check: S·B = R + k·A) is refused by every path', () => {
  // R = identity and S = k·a: the cofactorless equation holds, so plain OpenSSL and
  // noble would accept it while libsodium refuses; nodes must give one verdict.
  const secret = fromHex(RFC8032[1]!.secret);
  const { scalar, pointBytes } = ed.utils.getExtendedPublicKey(secret);
  const R = new Uint8Array(32);
  R[0] = 1;
  for (const msg of [new Uint8Array(0), Uint8Array.of(9, 9)]) {
    const k = leToBig(sha512(concat(R, pointBytes, msg))) % L;
    const sig = concat(R, bigToLe((k * scalar) % L, 32));
    assert.ok(hasSmallOrder(sig.subarray(0, 32)));
    assert.not.ok(nobleVerify(pointBytes, msg, sig));
    for (const n of NATIVE) assert.not.ok(n.verify(pointBytes, msg, sig), n.name);
    // The same forgery on the raw library: what the check is there for.
    assert.ok(ed.verify(sig, msg, pointBytes, { zip215: false }));
  }
});

test('malformed inputs give false, never a throw', () => {
  const kp = generateKeyPair();
  const msg = Uint8Array.of(5);
  const sig = nobleSign(kp.secretKey, msg);
  for (const [pub, s] of [
    [kp.publicKey.subarray(0, 31), sig],
    [concat(kp.publicKey, Uint8Array.of(0)), sig],
    [kp.publicKey, new Uint8Array(0)],
    [new Uint8Array(0), new Uint8Array(0)],
  ] as const) {
    for (const n of NATIVE) assert.not.ok(n.verify(pub, msg, s), n.name);
    assert.not.ok(nobleVerify(pub, msg, s));
  }
});

test('generateKeyPair gives working, distinct keys', () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  assert.is.not(toHex(a.secretKey), toHex(b.secretKey));
  assert.is(toHex(publicKeyOf(a.secretKey)), toHex(a.publicKey));
  const msg = Uint8Array.of(1);
  assert.ok(ed25519.verify(a.publicKey, msg, ed25519.signer(a.secretKey).sign(msg)));
  assert.not.ok(ed25519.verify(b.publicKey, msg, ed25519.signer(a.secretKey).sign(msg)));
});

test('fastScheme: deterministic, and a wrong key, message or signature fails', () => {
  const a = fastScheme.signer(fromHex('11'.repeat(32)));
  const b = fastScheme.signer(fromHex('22'.repeat(32)));
  const msg = Uint8Array.of(1, 2, 3);
  const sig = a.sign(msg);
  assert.is(sig.length, 64);
  assert.is(a.publicKey.length, 32);
  assert.is(toHex(fastScheme.signer(fromHex('11'.repeat(32))).sign(msg)), toHex(sig));
  assert.ok(fastScheme.verify(a.publicKey, msg, sig));
  assert.not.ok(fastScheme.verify(b.publicKey, msg, sig));
  assert.not.ok(fastScheme.verify(a.publicKey, Uint8Array.of(1, 2, 4), sig));
  assert.not.ok(fastScheme.verify(a.publicKey, msg, b.sign(msg)));
  const flipped = sig.slice();
  flipped[0]! ^= 1;
  assert.not.ok(fastScheme.verify(a.publicKey, msg, flipped));
  assert.not.ok(fastScheme.verify(a.publicKey, msg, sig.subarray(0, 63)));
  assert.is(fastScheme.name, 'fast');
  assert.is(ed25519.name, 'ed25519');
});

test.run();
