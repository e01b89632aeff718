// The wallet CLI as people run it: spawned processes, a temp wallet dir, and a
// small stand-in node (loopback HTTP, real signature checks) for the online commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAddress } from '../../protocol/address.ts';
import { toHex } from '../../protocol/bytes.ts';
import { bundleFromHex, bundleToHex, epochToHex, transferFromJson } from '../../protocol/json.ts';
import { genesisToJson as g2j } from '../../protocol/genesis.ts';
import { encodeWith, sign, transferIdHex, TransferCodec, verify, writeCertificate } from '../../protocol/objects.ts';
import { ed25519, nativeSigner } from '../../protocol/signature.ts';
import { transferToJson } from '../../protocol/json.ts';
import { Keystore } from '../../wallet/keystore.ts';
import { recordSigned } from '../../wallet/ledger.ts';
import { makeBundle, makeNet, NETWORK, type Net } from './fixture.ts';
import { oneErrorLine, run } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'rm-cli-'));
const env = { RINGMINT_WALLET_DIR: join(dir, 'wallets'), RINGMINT_PASSPHRASE: 'test pass' };
const net: Net = makeNet();
const addr: Record<string, string> = {};

/** The stand-in node: balances, an account's seq chain, and transfers it certifies at once (unless told to hold them). */
type Fake = { server: Server; url: string; balances: Map<string, bigint>; seqs: Map<string, { seq: number; head: string | null }>; posts: string[]; hold: boolean; lie: boolean };
let fake: Fake;

function startFake(): Promise<Fake> {
  const f: Fake = { server: undefined as unknown as Server, url: '', balances: new Map(), seqs: new Map(), posts: [], hold: false, lie: false };
  const known = new Map<string, { status: string; bundle?: string }>();
  f.server = createServer((req, res) => {
    const send = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const parts = url.pathname.split('/').filter(Boolean);
      if (url.pathname === '/genesis') return send(200, g2j(net.genesis));
      if (parts[0] === 'epochs') return send(200, { epoch: Number(parts[1]), record: epochToHex(net.epochs[Number(parts[1])]!) });
      if (parts[0] === 'accounts') {
        const s = f.seqs.get(parts[1]!) ?? { seq: 0, head: null };
        return send(200, { address: parts[1], balance: (f.balances.get(parts[1]!) ?? 0n).toString(), seq: s.seq, head: s.head, frozen: false });
      }
      if (parts[0] === 'transfers' && req.method === 'POST') {
        let t;
        try {
          t = transferFromJson(JSON.parse(data).transfer, NETWORK);
        } catch (e) {
          return send(400, { error: 'BAD_REQUEST', message: (e as Error).message });
        }
        const id = transferIdHex(t);
        f.posts.push(id);
        if (!verify(TransferCodec, NETWORK, ed25519, t.from, t)) return send(400, { error: 'BAD_SIGNATURE', message: 'bad signature' });
        const from = JSON.parse(data).transfer.from as string;
        const to = JSON.parse(data).transfer.to as string;
        if (known.has(id) && known.get(id)!.status !== 'pending') return send(200, { transferId: id, status: known.get(id)!.status });
        if (f.lie) {
          // a lying node: "stored" at once, and nothing to show for it
          known.set(id, { status: 'pending' });
          return send(200, { transferId: id, status: 'stored' });
        }
        const s = f.seqs.get(from) ?? { seq: 0, head: null };
        if (t.seq !== s.seq + 1) return send(409, { error: 'SEQ_GAP', message: `expected seq ${s.seq + 1}` });
        if (f.hold) {
          known.set(id, { status: 'pending' });
          return send(202, { transferId: id, status: 'pending' });
        }
        const bal = f.balances.get(from) ?? 0n;
        if (bal < t.amount) return send(422, { error: 'INSUFFICIENT_FUNDS', message: 'balance does not cover the amount' });
        f.balances.set(from, bal - t.amount);
        f.balances.set(to, (f.balances.get(to) ?? 0n) + t.amount);
        f.seqs.set(from, { seq: t.seq, head: id });
        known.set(id, { status: 'stored', bundle: bundleToHex(makeBundle(net, t)) });
        return send(200, { transferId: id, status: 'stored' });
      }
      if (parts[0] === 'transfers') {
        const k = known.get(parts[1]!);
        if (!k) return send(404, { error: 'NOT_FOUND', message: 'unknown transfer' });
        const proof = k.bundle && !f.lie ? { certificate: toHex(encodeWith(bundleFromHex(k.bundle, NETWORK).certificate, writeCertificate)), bundle: k.bundle } : {};
        return send(200, { transferId: parts[1], status: f.lie ? 'stored' : k.status, ...proof, times: {} });
      }
      if (parts[0] === 'receipts') {
        const k = f.lie ? undefined : known.get(parts[1]!);
        return k?.bundle ? send(200, { transferId: parts[1], bundle: k.bundle }) : send(404, { error: 'NOT_FOUND', message: 'not stored' });
      }
      send(404, { error: 'NOT_FOUND', message: 'no route' });
    });
  });
  return new Promise((resolve) =>
    f.server.listen(0, '127.0.0.1', () => {
      f.url = `http://127.0.0.1:${(f.server.address() as { port: number }).port}`;
      resolve(f);
    }),
  );
}

test.before(async () => {
  fake = await startFake();
});
test.after(() => {
  fake.server.close();
});

test('new, list, address', async () => {
  const a = await run(['new', 'alice', '--json'], env);
  assert.is(a.code, 0, a.stderr);
  assert.is(a.json.name, 'alice');
  addr.alice = a.json.address;
  assert.ok(decodeAddress(addr.alice!));
  const b = await run(['new', 'bob'], env);
  assert.is(b.code, 0, b.stderr);
  assert.match(b.stdout, /^created +bob\naddress +rm1/);
  addr.bob = (await run(['address', 'bob'], env)).stdout.trim();
  const l = await run(['list', '--json'], env);
  assert.equal(l.json.wallets.map((w: { name: string }) => w.name), ['alice', 'bob']);
  oneErrorLine(await run(['new', 'alice'], env), /already exists/);
});

test('offline sign prints a transfer that verifies, and chains seq and prev', async () => {
  const r1 = await run(['sign', 'alice', '--to', addr.bob!, '--amount', '2.5', '--memo', 'rent', '--genesis', net.genesisPath], env);
  assert.is(r1.code, 0, r1.stderr);
  const t1 = transferFromJson(r1.json, NETWORK);
  assert.ok(verify(TransferCodec, NETWORK, ed25519, t1.from, t1));
  assert.is(r1.json.amount, '2500000');
  assert.is(r1.json.seq, 1);
  assert.is(r1.json.memo, 'rent');
  const r2 = await run(['sign', 'alice', '--to', addr.bob!, '--amount', '1', '--genesis', net.genesisPath], env);
  assert.is(r2.json.seq, 2);
  assert.is(r2.json.prev, r1.json.id);
  // explicit --seq over a used seq: signed, with a warning
  const r3 = await run(['sign', 'alice', '--to', addr.bob!, '--amount', '3', '--seq', '1', '--genesis', net.genesisPath], env);
  assert.is(r3.code, 0, r3.stderr);
  assert.is(r3.json.seq, 1);
  assert.match(r3.stderr, /warning: seq 1 was already used by transfer/);
  writeFileSync(join(dir, 't1.json'), r1.stdout);
});

test('submit a file; the wallet that signed it learns its status; history shows it', async () => {
  fake.balances.set(addr.alice!, 10_000_000n);
  // the ledger now holds seq 1 twice (the first replaced) and seq 2: submit the replacement
  const hist = await run(['history', 'alice', '--offline', '--json'], env);
  const seq1 = hist.json.transfers.find((t: { seq: number; status: string }) => t.seq === 1 && t.status === 'signed');
  writeFileSync(join(dir, 'seq1.json'), JSON.stringify({ transfer: (await readTransfer(seq1.transferId)) }));
  const s = await run(['submit', join(dir, 'seq1.json'), '--node', fake.url, '--json'], env);
  assert.is(s.code, 0, s.stderr);
  assert.equal(s.json, { transferId: seq1.transferId, status: 'stored' });
  const h = await run(['history', 'alice', '--node', fake.url, '--genesis', net.genesisPath], env);
  assert.is(h.code, 0, h.stderr);
  assert.match(h.stdout, /^seq +status +amount/);
  assert.match(h.stdout, /1 +replaced +2\.5 RMT/);
  assert.match(h.stdout, /1 +stored +3 RMT/);
  // history finishes the wallet's open transfers too: seq 2, signed offline, went to the node
  assert.match(h.stdout, /2 +stored +1 RMT/);
  oneErrorLine(await run(['submit', join(dir, 'nope.json'), '--node', fake.url], env), /cannot read/);
});

async function readTransfer(id: string): Promise<unknown> {
  const f = JSON.parse(readFileSync(join(env.RINGMINT_WALLET_DIR, 'alice.json'), 'utf8'));
  return f.state.transfers.find((t: { transfer: { id: string } }) => t.transfer.id === id).transfer;
}

test('send: signs seq 3 after the stored seq 2; balance and receipt verify', async () => {
  const before = fake.posts.length;
  const s = await run(['send', 'alice', '--to', addr.bob!, '--amount', '1.5', '--node', fake.url, '--genesis', net.genesisPath, '--json'], env);
  assert.is(s.code, 0, s.stderr);
  assert.is(s.json.status, 'stored');
  assert.is(s.json.seq, 3);
  assert.is(s.json.amount, '1500000');
  const posted = fake.posts.slice(before);
  assert.equal(posted, [s.json.transferId], 'only the new one: seq 2 was stored already');
  const b = await run(['balance', 'bob', '--node', fake.url, '--json'], env);
  assert.equal(b.json, { address: addr.bob, balance: '5500000', seq: 0, frozen: false });
  const human = await run(['balance', 'alice', '--node', fake.url, '--genesis', net.genesisPath], env);
  assert.match(human.stdout, /^address +rm1.*\nbalance +4\.5 RMT\nseq +3\n$/);

  const v = await run(['receipt', s.json.transferId, '--verify', '--node', fake.url, '--genesis', net.genesisPath, '--json'], env);
  assert.is(v.code, 0, v.stderr);
  assert.is(v.json.valid, true);
  assert.is(v.json.transferId, s.json.transferId);
  assert.is(v.json.amount, '1500000');
});

test('send refuses to sign what the balance cannot cover; a held transfer times out and stays pending', async () => {
  const r = await run(['send', 'alice', '--to', addr.bob!, '--amount', '100', '--node', fake.url, '--genesis', net.genesisPath], env);
  oneErrorLine(r, /balance 4\.5 RMT does not cover 100 RMT; nothing was signed \(INSUFFICIENT_FUNDS\)/);
  fake.hold = true;
  const held = await run(['send', 'alice', '--to', addr.bob!, '--amount', '1', '--node', fake.url, '--genesis', net.genesisPath, '--timeout', '1', '--json'], env);
  assert.is(held.code, 1);
  assert.is(held.json.error, 'TIMEOUT');
  assert.is(held.json.status, 'pending');
  const heldId = held.json.transferId;
  // the next send resubmits the same transfer first, and signs nothing new while it is unsettled
  const again = await run(['send', 'alice', '--to', addr.bob!, '--amount', '2', '--node', fake.url, '--genesis', net.genesisPath, '--timeout', '1'], env);
  oneErrorLine(again, new RegExp(`earlier transfer ${heldId} \\(seq 4\\) is pending`));
  assert.is(fake.posts[fake.posts.length - 1], heldId);
  const f = JSON.parse(readFileSync(join(env.RINGMINT_WALLET_DIR, 'alice.json'), 'utf8'));
  assert.equal(Object.values(f.state.chains).map((c: any) => c.nextSeq), [5], 'no new seq was taken');
  fake.hold = false;
});

test('receipt --verify works offline from a bundle file, and refuses a forged one', async () => {
  const t1 = transferFromJson(JSON.parse(readFileSync(join(dir, 't1.json'), 'utf8')), NETWORK);
  const hex = bundleToHex(makeBundle(net, t1));
  writeFileSync(join(dir, 'bundle.hex'), hex);
  const id = transferIdHex(t1);
  const ok = await run(['receipt', id, '--verify', '--bundle', join(dir, 'bundle.hex'), '--genesis', net.genesisPath], env);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^valid +yes: certified by 3 votes and credited by 3 receipts/);
  writeFileSync(join(dir, 'short.hex'), bundleToHex(makeBundle(net, t1, 0, 2)));
  const bad = await run(['receipt', id, '--verify', '--bundle', join(dir, 'short.hex'), '--genesis', net.genesisPath, '--json'], env);
  assert.is(bad.code, 1);
  assert.is(bad.json.valid, false);
  assert.is(bad.json.error, 'BAD_CERTIFICATE');
  oneErrorLine(await run(['receipt', 'abc', '--verify'], env), /not a transfer id/);
});

test('import from stdin and export give back the same key', async () => {
  const ex = await run(['export', 'alice', '--json'], env);
  assert.is(ex.code, 0, ex.stderr);
  assert.match(ex.stderr, /secret key/);
  assert.match(ex.json.secretKey, /^[0-9a-f]{64}$/);
  const im = await run(['import', 'alice2', '--json'], env, ex.json.secretKey + '\n');
  assert.is(im.code, 0, im.stderr);
  assert.equal(im.json, { name: 'alice2', address: addr.alice });
  oneErrorLine(await run(['import', 'junk'], env, 'xyz'), /64 hex digits/);
});

test('a lying node\'s "stored" without votes is not believed; sync repairs it once a node shows the proof', async () => {
  // the transfer held above is finished first
  const first = await run(['sync', 'alice', '--node', fake.url, '--genesis', net.genesisPath, '--json'], env);
  assert.is(first.code, 0, first.stderr);
  assert.equal(first.json.open, []);
  fake.lie = true;
  const s = await run(['send', 'alice', '--to', addr.bob!, '--amount', '0.5', '--node', fake.url, '--genesis', net.genesisPath, '--timeout', '1', '--json'], env);
  fake.lie = false;
  assert.is(s.code, 1, s.stderr);
  assert.is(s.json.error, 'TIMEOUT');
  assert.is(s.json.status, 'pending', 'the node said stored; the wallet holds no certificate');
  fake.lie = false;
  const id = s.json.transferId;
  const sync = await run(['sync', 'alice', '--node', fake.url, '--genesis', net.genesisPath, '--json'], env);
  assert.is(sync.code, 0, sync.stderr);
  const r = sync.json.repaired.find((x: { transferId: string }) => x.transferId === id);
  assert.equal([r.from, r.to], ['pending', 'stored']);
  assert.ok(r.submissions >= 1, 'resubmitted as is');
  assert.equal(sync.json.open, []);
  const again = await run(['sync', 'alice', '--node', fake.url, '--genesis', net.genesisPath], env);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /nothing to repair/);
});

test('--node takes that node\'s genesis even next to a stale ./devnet; a pinned genesis of another network is refused', async () => {
  const other = makeNet(6, 6, 'old-devnet');
  const cwd = mkdtempSync(join(tmpdir(), 'rm-stale-'));
  mkdirSync(join(cwd, 'devnet'));
  writeFileSync(join(cwd, 'devnet', 'devnet.json'), JSON.stringify({ genesis: other.genesisPath, nodes: [{ api: 'http://127.0.0.1:1' }] }));
  const s = await run(['send', 'alice', '--to', addr.bob!, '--amount', '0.25', '--node', fake.url, '--json'], env, undefined, cwd);
  assert.is(s.code, 0, s.stderr);
  assert.is(s.json.status, 'stored');
  assert.match(s.stderr, /using the genesis served by/);
  const wrong = await run(['send', 'alice', '--to', addr.bob!, '--amount', '0.25', '--node', fake.url, '--genesis', other.genesisPath], env);
  oneErrorLine(wrong, /serves network "wallet-test" .* not the pinned "old-devnet" .*nothing was sent \(WRONG_NETWORK\)/);
});

test('a transfer signed for another network does not hold the seq: the next send releases it and takes that seq', async () => {
  const other = makeNet(6, 6, 'old-devnet');
  const ks = new Keystore(env.RINGMINT_WALLET_DIR);
  await run(['new', 'carol'], env);
  const u = ks.unlock('carol', env.RINGMINT_PASSPHRASE);
  fake.balances.set(u.address, 5_000_000n);
  // a ledger from before binding: seq 1 signed with an old devnet's genesis, rejected by this network's node
  const signer = nativeSigner(u.secretKey);
  const stale = transferToJson(sign(TransferCodec, other.genesis.network, signer, { from: signer.publicKey, to: decodeAddress(addr.bob!), amount: 1n, seq: 1, prev: new Uint8Array(32), memo: new Uint8Array() }));
  const st = recordSigned(u.state, stale, 'then');
  st.transfers[0]!.status = 'rejected';
  st.transfers[0]!.reason = 'BAD_REQUEST';
  ks.saveLedger(u, st);
  const s = await run(['send', 'carol', '--to', addr.bob!, '--amount', '1', '--node', fake.url, '--genesis', net.genesisPath, '--json'], env);
  assert.is(s.code, 0, s.stderr);
  assert.is(s.json.seq, 1, 'seq 1 was free on this network');
  assert.is(s.json.status, 'stored');
  const h = await run(['history', 'carol', '--offline', '--json'], env);
  assert.is(h.json.transfers.find((t: { transferId: string }) => t.transferId === stale.id).status, 'released');
  assert.not.ok(fake.posts.includes(stale.id), 'never sent to a network it cannot verify on');
});

test.run();
