// The network attacks against a real devnet (mint + 4 node processes on loopback): a
// hostile peer built on the project's own libp2p stack, never admitted, floods a node
// with forged vote requests and submits, sends malformed and oversized frames,
// publishes junk gossip and holds 300 idle sockets. Each offender is dropped before
// decoding and banned; the node creates no state for it; honest transfers still reach
// `stored`; the node's RSS grows by less than 64 MiB. Timing is printed, not asserted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { encodeMessage, type Message } from '../../protocol/messages.ts';
import { sign, TransferCodec } from '../../protocol/objects.ts';
import { ed25519, generateKeyPair } from '../../protocol/signature.ts';
import { encodeFrame, MAX_FRAME_BYTES } from '../../runtime/framing.ts';
import { readGenesisFile } from '../../runtime/genesis-file.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { MSG_PROTOCOL, P2PHost, Topics } from '../../runtime/p2p.ts';
import type { Devnet } from '../../localnet/devnet.ts';
import type { DevnetFile } from '../../runtime/devnet-file.ts';
import { Account, get, loudly, post, tempDevnet, until } from '../e2e/helpers.ts';
import { idleSockets, log } from './hosts.ts';

const MiB = 1024 * 1024;
let devnet: Devnet;
let f: DevnetFile;
let network = '';
let mintKey: Bytes = new Uint8Array(32);
let target = '';
let alice: Account, bob: Account;
let rssBefore = 0;
const hostiles: P2PHost[] = [];

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** A sample of node 0's Prometheus text: `name{labels}` -> value. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${f.nodes[0]!.api}/metrics`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#') || line.length === 0) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i).replace(/,?role="node"/, '').replace('{}', ''), Number(line.slice(i + 1)));
  }
  return out;
}
const val = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

async function hostile(): Promise<P2PHost> {
  const kp = generateKeyPair();
  const h = await P2PHost.start({
    secretKey: kp.secretKey, network, mintKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [target], role: 'node', log, metrics: createMetrics('node'), onMessage: () => {},
  });
  hostiles.push(h);
  await until('the hostile peer connects', async () => h.node.getConnections().some((c) => c.remotePeer.toString() === f.nodes[0]!.peerId), 15_000, 50);
  return h;
}
const connectedToTarget = (h: P2PHost) => h.node.getConnections().some((c) => c.remotePeer.toString() === f.nodes[0]!.peerId);

/** Honest transfers alice -> bob through node 0, each waited on to `stored`; returns their latencies. */
async function honestTransfers(n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = alice.transfer(bob.address, 10n);
    const t0 = Date.now();
    const r = await post(`${f.nodes[0]!.api}/transfers?wait=stored&timeoutMs=20000`, { transfer: t });
    assert.is(r.body.status, 'stored', `honest transfer ${i}`);
    ms.push(Date.now() - t0);
  }
  return ms;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
let quiet: number[] = [];

test.before(loudly(async () => {
  devnet = tempDevnet(4);
  f = await devnet.start();
  const g = readGenesisFile(f.genesis).genesis;
  network = g.network;
  mintKey = g.mintKey;
  target = (devnet as unknown as { nodeAddrs: string[] }).nodeAddrs[0]!;
  alice = new Account(network);
  bob = new Account(network);
  const r = await post(`${f.mint.api}/issue?wait=stored&timeoutMs=20000`, { to: alice.address, amount: '1000000' }, f.mint.token);
  assert.is(r.body.status, 'stored');
  await until('alice funded at node 0', async () => BigInt((await get(`${f.nodes[0]!.api}/accounts/${alice.address}`)).balance) === 1_000_000n);
  quiet = await honestTransfers(5);
  rssBefore = rssOf(f.nodes[0]!.pid);
}, () => devnet?.dir));

test.after(async () => {
  for (const h of hostiles) await h.stop().catch(() => {});
  await devnet?.stop();
});

/** n forged transfers from 250 fresh keys (distinct seqs), as vote requests and submits. */
function forged(n: number): Message[] {
  const out: Message[] = [];
  const keys = Array.from({ length: 250 }, () => {
    const kp = generateKeyPair();
    return { publicKey: kp.publicKey, signer: ed25519.signer(kp.secretKey) };
  });
  for (let i = 0; i < n; i++) {
    const kp = keys[i % keys.length]!;
    const transfer = sign(TransferCodec, network, kp.signer, {
      from: kp.publicKey, to: bob.publicKey, amount: 1n, seq: 1 + Math.floor(i / keys.length), prev: new Uint8Array(32), memo: new Uint8Array(0),
    });
    out.push(i % 2 === 0 ? { type: 'vote-request', transfer } : { type: 'submit', transfer });
  }
  return out;
}

test('10,000 forged vote requests and submits from a non-member: dropped before decoding, no state, banned', async () => {
  const msgs = forged(10_000);
  const before = await scrape();
  const h = await hostile();
  const to = { node: toHex(readGenesisFile(f.genesis).genesis.epoch0.members.find((m) => toHex(m) === f.nodes[0]!.nodeId)!) };
  for (let i = 0; i < msgs.length && connectedToTarget(h); i++) {
    h.send(to, msgs[i]!);
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  await until('the node bans the hostile peer', async () => val(await scrape(), 'ringmint_peer_bans_total') >= 1);
  await until('and drops its connection', async () => !connectedToTarget(h), 10_000);
  const after = await scrape();
  const dropped = val(after, 'ringmint_peer_rejected_total{reason="non-member"}') - val(before, 'ringmint_peer_rejected_total{reason="non-member"}');
  assert.ok(dropped >= 1_000, `non-member frames dropped: ${dropped}`);
  assert.is(val(after, 'ringmint_history_held{kind="accounts"}'), val(before, 'ringmint_history_held{kind="accounts"}'), 'no account state for the forged senders');
  assert.is(val(after, 'ringmint_messages_received_total{type="vote-request"}'), val(before, 'ringmint_messages_received_total{type="vote-request"}'), 'none reached the machine');
  assert.is(val(after, 'ringmint_messages_received_total{type="submit"}'), val(before, 'ringmint_messages_received_total{type="submit"}'));
});

test('malformed and oversized frames: dropped, the stream aborted, the sender banned', async () => {
  const before = await scrape();
  const h = await hostile();
  const peer = h.node.getConnections().find((c) => c.remotePeer.toString() === f.nodes[0]!.peerId)!.remotePeer;
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
  for (let i = 0; i < 50 && connectedToTarget(h); i++) {
    const raw = await h.node.dialProtocol(peer, MSG_PROTOCOL).catch(() => null);
    if (raw === null) break;
    const junk = new Uint8Array(2_000);
    for (let j = 0; j < 20; j++) raw.send(encodeFrame(crypto.getRandomValues(junk)));
    raw.send(header);
    await new Promise((r) => setTimeout(r, 20));
  }
  await until('banned', async () => val(await scrape(), 'ringmint_peer_bans_total') > val(before, 'ringmint_peer_bans_total'));
  const after = await scrape();
  assert.ok(val(after, 'ringmint_peer_rejected_total{reason="oversized"}') > val(before, 'ringmint_peer_rejected_total{reason="oversized"}'));
});

test('junk gossip: rejected by the topic validator before delivery or forwarding', async () => {
  const before = await scrape();
  const h = await hostile();
  type Pubsub = { getSubscribers(t: string): { toString(): string }[]; publish(t: string, d: Uint8Array): Promise<unknown> };
  const ps = (h.node.services as unknown as { pubsub: Pubsub }).pubsub;
  await until('the node\'s subscription is seen', async () => ps.getSubscribers(Topics.epochs).some((p) => p.toString() === f.nodes[0]!.peerId), 15_000, 50);
  const record = { network, epoch: 99, members: [], k: 4, q: 3, prev: new Uint8Array(32), issuedAt: 0, sig: new Uint8Array(64) };
  for (let i = 0; i < 20 && connectedToTarget(h); i++) {
    await ps.publish(i % 2 ? Topics.alerts : Topics.epochs, i % 2 ? crypto.getRandomValues(new Uint8Array(64)) : encodeMessage({ type: 'epoch', record: { ...record, issuedAt: i } })).catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
  }
  await until('gossip rejected', async () => val(await scrape(), 'ringmint_peer_rejected_total{reason="gossip"}') > val(before, 'ringmint_peer_rejected_total{reason="gossip"}'));
  const status = await get(`${f.nodes[0]!.api}/status`);
  assert.is(status.epoch, 0, 'no junk epoch taken');
});

test('300 idle sockets on the node\'s p2p port: a fresh peer still connects; honest transfers still reach stored; RSS bounded', async () => {
  const port = Number(target.split('/')[4]);
  const sockets = await idleSockets(port, 300);
  try {
    const fresh = await hostile(); // connects (a non-member may connect; it may not speak)
    assert.ok(connectedToTarget(fresh));
    const under = await honestTransfers(5);
    console.log(`  honest transfer to stored: quiet median ${median(quiet)} ms, under attack median ${median(under)} ms`);
    assert.ok(median(under) < 3 * median(quiet) + 5_000, 'generous bound');
  } finally {
    for (const s of sockets) s.destroy();
  }
  const grown = rssOf(f.nodes[0]!.pid) - rssBefore;
  console.log(`  node 0 RSS grew ${(grown / MiB).toFixed(1)} MiB over the attacks`);
  assert.ok(grown < 64 * MiB, `RSS grew ${(grown / MiB).toFixed(1)} MiB`);
  const m = await scrape();
  assert.ok(val(m, 'ringmint_peer_bans_total') >= 2);
});

test.run();
