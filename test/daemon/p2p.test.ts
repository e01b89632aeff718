// The libp2p host: messages between two peers by node id over one reused framed
// stream; malformed frames are dropped and counted, and the host keeps working.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { toHex } from '../../protocol/bytes.ts';
import type { Message } from '../../protocol/messages.ts';
import type { Address } from '../../protocol/ports.ts';
import { generateKeyPair } from '../../protocol/signature.ts';
import { encodeFrame } from '../../runtime/framing.ts';
import { nodeIdOfPeer, parseNodeRef, peerIdOfNode } from '../../runtime/keys.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { MSG_PROTOCOL, P2PHost } from '../../runtime/p2p.ts';

const network = 'p2p-test';
const mintKey = generateKeyPair().publicKey;
const log = pino({ level: 'silent' });

async function host(got: { from: Address; msg: Message }[], bootstrap: string[] = []) {
  const kp = generateKeyPair();
  const metrics = createMetrics('node');
  const h = await P2PHost.start({
    secretKey: kp.secretKey, network, mintKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, role: 'node', log, metrics,
    onMessage: (from, msg) => void got.push({ from, msg }),
  });
  return { h, kp, metrics };
}

const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('node id, PeerId and key are one', () => {
  const kp = generateKeyPair();
  const peer = peerIdOfNode(kp.publicKey);
  assert.equal(nodeIdOfPeer(peer), kp.publicKey);
  assert.equal(parseNodeRef(peer.toString()), kp.publicKey);
  assert.equal(parseNodeRef(toHex(kp.publicKey)), kp.publicKey);
  assert.throws(() => parseNodeRef('nope'));
});

test('messages by node id over one reused stream; garbage is dropped and counted', async () => {
  const gotA: { from: Address; msg: Message }[] = [];
  const gotB: { from: Address; msg: Message }[] = [];
  const b = await host(gotB);
  const a = await host(gotA, b.h.addrs());
  try {
    assert.equal(a.h.peerId.toString(), peerIdOfNode(a.kp.publicKey).toString());
    for (let i = 0; i < 50; i++) a.h.send({ node: toHex(b.kp.publicKey) }, { type: 'lookup', transferId: new Uint8Array(32).fill(i) });
    await until('50 messages at b', () => gotB.length === 50);
    assert.equal(gotB[0]!.from, { node: toHex(a.kp.publicKey) });
    assert.equal(gotB.map((m) => (m.msg.type === 'lookup' ? m.msg.transferId[0] : -1)), [...Array(50).keys()]);
    const streams = a.h.node.getConnections(b.h.peerId).flatMap((c) => c.streams).filter((s) => s.protocol === MSG_PROTOCOL);
    assert.is(streams.length, 1, 'one stream per peer and direction');
    // b answers over its own stream
    b.h.send({ node: toHex(a.kp.publicKey) }, { type: 'stored', transferId: new Uint8Array(32) });
    await until('answer at a', () => gotA.length === 1);
    // a raw stream with a malformed frame (unknown tag) and then a good one
    const raw = await a.h.node.dialProtocol(b.h.peerId, MSG_PROTOCOL);
    raw.send(encodeFrame(new Uint8Array([250, 1, 2, 3])));
    raw.send(encodeFrame(new Uint8Array([10, ...new Uint8Array(32).fill(7)])));
    await until('good frame after garbage', () => gotB.length === 51);
    const dropped = await b.metrics.messagesDropped.get();
    assert.ok(dropped.values.some((v) => v.labels.why === 'malformed' && v.value === 1));
    // an oversized frame header aborts that stream only
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 1 << 20);
    raw.send(header);
    let oversized = 0;
    const end = Date.now() + 10_000;
    while (oversized === 0 && Date.now() < end) {
      oversized = (await b.metrics.messagesDropped.get()).values.find((v) => v.labels.why === 'oversized')?.value ?? 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.is(oversized, 1);
    a.h.send({ node: toHex(b.kp.publicKey) }, { type: 'lookup', transferId: new Uint8Array(32).fill(99) });
    await until('b still receives', () => gotB.length === 52);
  } finally {
    await a.h.stop();
    await b.h.stop();
  }
});

test('a message over 64 KiB, or one that fails to encode, is not sent; the frames around it arrive whole', async () => {
  const gotB: { from: Address; msg: Message }[] = [];
  const b = await host(gotB);
  const a = await host([], b.h.addrs());
  try {
    const to = { node: toHex(b.kp.publicKey) };
    const lookup = (i: number): Message => ({ type: 'lookup', transferId: new Uint8Array(32).fill(i) });
    // 2,100 sorted members: a 67 KB epoch record, over the frame limit
    const members = Array.from({ length: 2_100 }, (_, i) => {
      const m = new Uint8Array(32);
      new DataView(m.buffer).setUint32(0, i + 1);
      return m;
    });
    const record = { network, epoch: 1, members, k: 4, q: 3, prev: new Uint8Array(32), issuedAt: 0, sig: new Uint8Array(64) };
    a.h.send(to, lookup(1));
    a.h.send(to, { type: 'epoch', record });
    a.h.send(to, lookup(2));
    assert.throws(() => a.h.send(to, { type: 'epoch', record: { ...record, members: [members[1]!, members[0]!] } }), /sorted/);
    a.h.send(to, lookup(3));
    await until('3 lookups at b', () => gotB.length === 3);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(gotB.map((m) => (m.msg.type === 'lookup' ? m.msg.transferId[0] : -1)), [1, 2, 3]);
    const dropped = await a.metrics.messagesDropped.get();
    assert.ok(dropped.values.some((v) => v.labels.why === 'oversized-out' && v.value === 1));
  } finally {
    await a.h.stop();
    await b.h.stop();
  }
});

test.run();
