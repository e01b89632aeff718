// End to end, membership (protocol.md §7): a join flood from one real peer, a dead member
// evicted with no funds lost, and a node down while epochs pass that catches up on restart
// (last: its admitted-but-absent stand-ins leave the ring without spare members).
// Real processes on loopback; figures are printed, pass/fail holds no timing but the
// bounds the protocol promises (30 s to stored after a flood, 60 s to catch up).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import type { Devnet } from '../../localnet/devnet.ts';
import type { DevnetFile } from '../../runtime/devnet-file.ts';
import { Account, get, loudly, post, tempDevnet, until } from './helpers.ts';
import { P2PHost } from '../../runtime/p2p.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { JoinCodec, sign } from '../../protocol/objects.ts';
import { ed25519, generateKeyPair } from '../../protocol/signature.ts';

let devnet: Devnet;
let f: DevnetFile;
let network = '';
let alice: Account, bob: Account;
const EVICT_MS = 12_000;

const mintStatus = () => get(`${f.mint.api}/status`);
const nodeStatus = (i: number) => get(`${f.nodes[i]!.api}/status`);

test.before(loudly(async () => {
  devnet = tempDevnet(5, { evictAfterMs: EVICT_MS, epochIntervalMs: 500, logLevel: process.env.RINGMINT_E2E_LOG ?? 'warn' });
  f = await devnet.start();
  network = (await mintStatus()).network;
  alice = new Account(network);
  bob = new Account(network);
}, () => devnet?.dir));

test.after(async () => {
  await devnet?.stop();
});

test('join flood: 600 joins from one peer add at most the per-epoch cap; honest transfers still reach stored', async () => {
  const before = (await mintStatus()).members as number;
  const kp = generateKeyPair();
  const peer = await P2PHost.start({
    secretKey: kp.secretKey, network, mintKey: fromHex((await mintStatus()).mintKey), listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [f.mint.multiaddr], role: 'node', log: pino({ level: 'silent' }), metrics: createMetrics('node'), onMessage: () => {},
  });
  try {
    // 599 joins naming keys this peer does not hold, and one naming its own.
    for (let i = 0; i < 599; i++) {
      const other = generateKeyPair();
      peer.send({ mint: true }, { type: 'join', join: sign(JoinCodec, network, ed25519.signer(other.secretKey), { node: other.publicKey, addrs: [], issuedAt: Date.now() }) });
    }
    peer.send({ mint: true }, { type: 'join', join: sign(JoinCodec, network, ed25519.signer(kp.secretKey), { node: kp.publicKey, addrs: peer.addrs(), issuedAt: Date.now() }) });
    await new Promise((r) => setTimeout(r, 3_000));
    const after = (await mintStatus()).members as number;
    console.log(`  join flood: members ${before} -> ${after} after 600 joins from one peer (cap 1 per epoch; devnet ${devnet.dir})`);
    assert.ok(after - before <= 1, `${after - before} new members`);
    assert.is(before, 5, 'no member of the genesis was evicted while the ring started');
  } finally {
    await peer.stop();
  }
  const t0 = Date.now();
  const r = await post(`${f.mint.api}/issue?wait=stored&timeoutMs=30000`, { to: alice.address, amount: '1000000' }, f.mint.token);
  assert.is(r.body.status, 'stored');
  const t = alice.transfer(bob.address, 250_000n);
  const s = await post(`${f.nodes[0]!.api}/transfers?wait=stored&timeoutMs=30000`, { transfer: t });
  assert.is(s.body.status, 'stored');
  console.log(`  after the flood: an issuance and a transfer stored in ${Date.now() - t0} ms`);
});

test('a dead member is evicted; custody moves with no funds lost; transfers go on', async () => {
  const dead = f.nodes[4]!.nodeId;
  await devnet.killNode(4, 'SIGKILL');
  const t0 = Date.now();
  await until('the dead member is out of the ring', async () => {
    const ring = await get(`${f.mint.api}/epochs/${(await mintStatus()).epoch}`);
    return ring && !(await get(`${f.nodes[0]!.api}/ring`)).members.some((m: { nodeId: string }) => m.nodeId === dead);
  }, EVICT_MS + 30_000, 250);
  console.log(`  eviction: node 4 out of the ring ${Date.now() - t0} ms after it died (evictAfterMs ${EVICT_MS})`);
  // Funds: both balances as before at every live node, and a new transfer goes through.
  for (const i of [0, 1, 2, 3]) {
    await until(`balances at node ${i}`, async () => {
      const [a, b] = await Promise.all([get(`${f.nodes[i]!.api}/accounts/${alice.address}`), get(`${f.nodes[i]!.api}/accounts/${bob.address}`)]);
      return BigInt(a.balance) === 750_000n && BigInt(b.balance) === 250_000n;
    }, 30_000, 250);
  }
  const t = alice.transfer(bob.address, 1_000n);
  const s = await post(`${f.nodes[1]!.api}/transfers?wait=stored&timeoutMs=20000`, { transfer: t });
  if (s.body.status !== 'stored') {
    // What each node saw, for the failure report.
    for (const i of [0, 1, 2, 3]) console.log(i, JSON.stringify(await nodeStatus(i)), JSON.stringify(await get(`${f.nodes[i]!.api}/accounts/${alice.address}`)));
    console.log(JSON.stringify(await get(`${f.nodes[1]!.api}/transfers/${t.id}`)).slice(0, 400), devnet.dir);
  }
  assert.is(s.body.status, 'stored', JSON.stringify(s.body));
});

test('long absence: a node down while 5+ epochs pass is back at the current epoch soon after restart', async () => {
  await devnet.killNode(3, 'SIGTERM');
  const start = (await mintStatus()).epoch as number;
  // The operator admits keys that never come up: each admission is one more epoch (and later an eviction).
  for (let i = 0; i < 6; i++) {
    const e = (await mintStatus()).epoch as number;
    await post(`${f.mint.api}/admit`, { nodeId: toHex(generateKeyPair().publicKey) }, f.mint.token);
    await until('the next epoch', async () => ((await mintStatus()).epoch as number) > e, 10_000, 100);
  }
  const missed = ((await mintStatus()).epoch as number) - start;
  assert.ok(missed >= 5, `${missed} epochs`);
  const t0 = Date.now();
  await devnet.restartNode(3);
  const caught = await until('the restarted node reaches the mint epoch', async () => {
    const [m, n] = await Promise.all([mintStatus(), nodeStatus(3)]);
    return n.epoch === m.epoch && n.membership?.state !== 'catching-up' ? n : false;
  }, 60_000, 100);
  console.log(`  long absence: ${missed} epochs missed, back at epoch ${caught.epoch} ${Date.now() - t0} ms after restart (${caught.membership?.state})`);
});

test.run();
