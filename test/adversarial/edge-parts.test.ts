// The network edge's parts on their own: the membership gate's verdicts, peer scores and
// bans (bounded when flooded with keys), handshake slots (the oldest pushed out), gossip
// validation (mint signature and epoch chain), and a frame decoder that splits any
// chunking of any frames the same way.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import type { MultiaddrConnection } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { TopicValidatorResult } from '@libp2p/gossipsub';
import { toHex } from '../../protocol/bytes.ts';
import { encodeMessage, MessageTag } from '../../protocol/messages.ts';
import { EpochCodec, epochHash, sign, type EpochRecord } from '../../protocol/objects.ts';
import { ed25519, generateKeyPair } from '../../protocol/signature.ts';
import { encodeFrame, FrameDecoder } from '../../runtime/framing.ts';
import { PeerGate } from '../../runtime/peer-gate.ts';
import { Ban, PEERS_TRACKED, PeerBook, Score } from '../../runtime/peer-score.ts';
import { PendingHandshakes } from '../../runtime/connection-limits.ts';
import { checkGossip, GossipTopics } from '../../runtime/gossip-validator.ts';
import { peerIdOfNode } from '../../runtime/keys.ts';
import { fixedEpoch, network } from './hosts.ts';

const mint = generateKeyPair();
const member = toHex(generateKeyPair().publicKey);
const stranger = toHex(generateKeyPair().publicKey);

test('the gate: a node takes node-to-node messages from members, everything from the mint, nothing from others', () => {
  const g = new PeerGate('node', mint.publicKey, fixedEpoch(() => [Uint8Array.from(Buffer.from(member, 'hex'))]));
  const mintHex = toHex(mint.publicKey);
  for (const t of ['vote-request', 'vote', 'store', 'stored', 'lookup', 'account-pull', 'digest', 'epoch-request', 'epoch'] as const) assert.ok(g.check(member, MessageTag[t]).ok, t);
  for (const t of ['submit', 'join', 'notice', 'alert', 'repudiation', 'reachability'] as const) {
    const v = g.check(member, MessageTag[t]);
    assert.ok(!v.ok && v.reason === 'wrong-type', t);
    assert.ok(g.check(mintHex, MessageTag[t]).ok, `${t} from the mint`);
  }
  for (const t of Object.values(MessageTag)) {
    const v = g.check(stranger, t);
    assert.ok(!v.ok && v.reason === 'non-member');
  }
  assert.ok(g.check(member, 250).ok, 'an unknown tag is left to the decoder (malformed)');
});

test('the gate: the mint takes joins from anyone, the rest from members only; the previous epoch counts', () => {
  const a = generateKeyPair().publicKey;
  const b = generateKeyPair().publicKey;
  const e0 = { network, epoch: 0, members: [a], k: 4, q: 3, prev: new Uint8Array(32), issuedAt: 0, sig: new Uint8Array(64) } as EpochRecord;
  const e1 = { ...e0, epoch: 1, members: [b] } as EpochRecord;
  let cur = e0;
  const g = new PeerGate('mint', mint.publicKey, { current: () => cur, byNumber: (n) => (n === 0 ? e0 : n === 1 ? e1 : undefined) });
  assert.equal(g.check(stranger, MessageTag.join), { ok: true, member: false });
  assert.equal(g.check(stranger, MessageTag['epoch-request']), { ok: true, member: false }, 'an evicted node catches up from the mint');
  assert.ok(!g.check(stranger, MessageTag.reachability).ok);
  assert.ok(!g.check(stranger, MessageTag.notice).ok);
  assert.ok(g.check(toHex(a), MessageTag.notice).ok);
  assert.ok(!g.check(toHex(b), MessageTag.notice).ok);
  cur = e1;
  assert.ok(g.check(toHex(a), MessageTag.notice).ok, 'a member of the previous epoch');
  assert.ok(g.check(toHex(b), MessageTag.notice).ok);
});

test('scores: penalties add up to a ban whose back-off doubles; time restores the score', () => {
  let now = 1_000_000;
  const banned: [string, number][] = [];
  const book = new PeerBook({ exempt: [toHex(mint.publicKey)], onBan: (h, ms) => banned.push([h, ms]), now: () => now });
  for (let i = 0; i < 9; i++) assert.not.ok(book.penalize(stranger, 'malformed'));
  assert.ok(book.score(stranger) > 0);
  now += 10_000; // +20 points
  assert.is(book.score(stranger), 30);
  assert.not.ok(book.penalize(stranger, 'malformed'));
  assert.not.ok(book.penalize(stranger, 'malformed'));
  assert.ok(book.penalize(stranger, 'malformed'));
  assert.equal(banned, [[stranger, Ban.firstMs]]);
  assert.ok(book.isBanned(stranger));
  now += Ban.firstMs;
  assert.not.ok(book.isBanned(stranger), 'the ban ends');
  assert.is(book.score(stranger), Score.start, 'back with a fresh score');
  for (let i = 0; i < 2; i++) book.penalize(stranger, 'oversized');
  assert.equal(banned[1], [stranger, 2 * Ban.firstMs], 'the second ban lasts twice as long');
  for (let i = 0; i < 100; i++) assert.not.ok(book.penalize(toHex(mint.publicKey), 'oversized'), 'the mint is never scored');
});

test('scores: 20,000 fresh keys flooding the book leave at most PEERS_TRACKED entries and bans', () => {
  const book = new PeerBook({ exempt: [], onBan: () => {} });
  for (let i = 0; i < 20_000; i++) {
    const hex = i.toString(16).padStart(64, '0');
    book.nonMemberFrame(hex);
    if (i % 2 === 0) book.penalize(hex, 'oversized', 2);
  }
  assert.ok(book.tracked <= PEERS_TRACKED, `tracked ${book.tracked}`);
  assert.ok(book.bannedCount <= PEERS_TRACKED, `banned ${book.bannedCount}`);
});

test('scores: a non-member\'s allowance, then a point a frame; join budgets per peer and in all', () => {
  const now = 5_000_000; // a clock that stands still: no refill, no recovery
  const book = new PeerBook({ exempt: [], onBan: () => {}, now: () => now });
  for (let i = 0; i < 1_000; i++) book.nonMemberFrame(stranger);
  assert.is(book.score(stranger), 100, 'the allowance costs nothing');
  for (let i = 0; i < 50; i++) book.nonMemberFrame(stranger);
  assert.is(book.score(stranger), 50, 'then a point a frame');
  let ok = 0;
  for (let i = 0; i < 100; i++) if (book.joinAllowed(member)) ok++;
  assert.is(ok, 10, 'ten joins in a burst from one peer');
  let total = 0;
  for (let i = 0; i < 2_000; i++) if (book.joinAllowed(i.toString(16).padStart(64, '0'))) total++;
  assert.is(total, 1_000 - 10, 'joins from all non-members bounded by the total budget');
});

function fakeConn(ip: string) {
  let closed = false;
  const listeners: (() => void)[] = [];
  const c = {
    remoteAddr: multiaddr(`/ip4/${ip}/tcp/1234`),
    addEventListener: (_: string, fn: () => void) => listeners.push(fn),
    abort: () => {
      closed = true;
      for (const l of listeners) l();
    },
    get closed() {
      return closed;
    },
  };
  return c as unknown as MultiaddrConnection & { closed: boolean };
}

test('handshake slots: full, the oldest is pushed out (per IP first, then in all)', () => {
  let evicted = 0;
  const p = new PendingHandshakes(() => evicted++, { pendingTotal: 10, pendingPerIp: 4 });
  const a = Array.from({ length: 6 }, () => fakeConn('10.0.0.1'));
  for (const c of a) p.admit(c);
  assert.is(p.size, 4);
  assert.equal(a.map((c) => c.closed), [true, true, false, false, false, false], 'the oldest two of that IP');
  const others = Array.from({ length: 8 }, (_, i) => fakeConn(`10.0.1.${i}`));
  for (const c of others) p.admit(c);
  assert.is(p.size, 10);
  assert.is(evicted, 4);
  assert.ok(a[2]!.closed && a[3]!.closed, 'then the oldest in all');
  p.done(others[7]!);
  assert.is(p.size, 9, 'a finished handshake frees its slot');
});

test('gossip: only mint-signed objects of the topic\'s type that fit the epoch chain are accepted', () => {
  const signer = ed25519.signer(mint.secretKey);
  const e0 = sign(EpochCodec, network, signer, { network, epoch: 0, members: [], k: 4, q: 3, prev: new Uint8Array(32), issuedAt: 0 });
  const e1 = sign(EpochCodec, network, signer, { network, epoch: 1, members: [], k: 4, q: 3, prev: epochHash(e0), issuedAt: 1 });
  const bad = sign(EpochCodec, network, signer, { network, epoch: 1, members: [], k: 4, q: 3, prev: new Uint8Array(32).fill(9), issuedAt: 1 });
  const forged = sign(EpochCodec, network, ed25519.signer(generateKeyPair().secretKey), { network, epoch: 1, members: [], k: 4, q: 3, prev: epochHash(e0), issuedAt: 1 });
  const mintPeer = peerIdOfNode(mint.publicKey);
  const other = peerIdOfNode(generateKeyPair().publicKey);
  const init = { network, mintKey: mint.publicKey, mintPeer, epochs: { current: () => e0, byNumber: (n: number) => (n === 0 ? e0 : undefined) } };
  const msg = (from: typeof mintPeer, data: Uint8Array, topic: string = GossipTopics.epochs) => ({ type: 'signed' as const, from, data, topic, sequenceNumber: 1n, signature: new Uint8Array(64), key: null as never });
  const check = (m: ReturnType<typeof msg>, topic: string = GossipTopics.epochs) => checkGossip(init, topic, m).result;
  assert.is(check(msg(mintPeer, encodeMessage({ type: 'epoch', record: e1 }))), TopicValidatorResult.Accept);
  assert.is(check(msg(mintPeer, encodeMessage({ type: 'epoch', record: e0 }))), TopicValidatorResult.Accept, 'republished');
  assert.is(check(msg(mintPeer, encodeMessage({ type: 'epoch', record: bad }))), TopicValidatorResult.Reject, 'does not link');
  assert.is(check(msg(mintPeer, encodeMessage({ type: 'epoch', record: forged }))), TopicValidatorResult.Reject, 'not the mint key');
  assert.is(check(msg(other, encodeMessage({ type: 'epoch', record: e1 }))), TopicValidatorResult.Reject, 'not the mint peer');
  assert.is(check(msg(mintPeer, new Uint8Array([24, 1, 2])),), TopicValidatorResult.Reject, 'malformed');
  assert.is(check(msg(mintPeer, encodeMessage({ type: 'epoch', record: e1 }), GossipTopics.alerts), GossipTopics.alerts), TopicValidatorResult.Reject, 'wrong type for the topic');
});

test('frames: any chunking of any frames decodes to the same frames (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }), (payloads, cuts) => {
      const all = Buffer.concat(payloads.map((p) => encodeFrame(p)));
      const d = new FrameDecoder();
      const out: Uint8Array[] = [];
      let off = 0;
      for (let i = 0; off < all.length; i++) {
        const n = cuts[i % cuts.length]!;
        out.push(...d.push(all.subarray(off, off + n)));
        off += n;
      }
      assert.equal(out.map((f) => [...f]), payloads.map((p) => [...p]));
      assert.is(d.buffered, 0);
    }),
    { numRuns: 300 },
  );
});

test.run();
