// What the wallet believes of a node (wallet/trust.ts, wallet/settle.ts): certificates
// and bundles checked against the genesis and epoch records, and an account's seq and
// head only with a certificate for that head.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { encodeAddress } from '../../protocol/address.ts';
import { toHex } from '../../protocol/bytes.ts';
import { bundleToHex, epochToHex, transferToJson } from '../../protocol/json.ts';
import { encodeWith, transferIdHex, writeCertificate } from '../../protocol/objects.ts';
import { NodeClient } from '../../wallet/client.ts';
import { genesisId } from '../../wallet/network.ts';
import { checkedAccount, netContext } from '../../wallet/settle.ts';
import { TrustedEpochs, verifiesOn } from '../../wallet/trust.ts';
import { makeBundle, makeNet, makeTransfer, nextEpoch, seeded } from './fixture.ts';

const net = makeNet();
nextEpoch(net);
const alice = seeded('alice', 0);
const bob = seeded('bob', 0);
const t1 = makeTransfer(alice, bob.publicKey, 5n, 1);
const id1 = transferIdHex(t1);
const source = async (n: number) => epochToHex(net.epochs[n]!);
const certHex = (count: number, epoch = 0) => toHex(encodeWith(makeBundle(net, t1, epoch, count).certificate, writeCertificate));

test('a certificate counts only with q valid votes of the sender\'s custodians, for that transfer', async () => {
  const e = new TrustedEpochs(net.genesis, source);
  assert.ok(await e.certificate(certHex(3), id1));
  assert.ok(await e.certificate(certHex(3, 1), id1), 'epoch 1 fetched and checked against the genesis');
  assert.is(await e.certificate(certHex(2), id1), null, 'two votes of three');
  assert.is(await e.certificate(certHex(3), '00'.repeat(32)), null, 'another transfer\'s certificate');
  assert.is(await e.certificate('zz', id1), null);
  assert.ok(await e.bundle(bundleToHex(makeBundle(net, t1)), id1));
  assert.is(await e.bundle(bundleToHex(makeBundle(net, t1, 0, 2)), id1), null);
});

test('a forged epoch record is refused: votes it would bless do not count', async () => {
  const forger = seeded('forger', 0);
  const other = makeNet();
  const bad = nextEpoch(other, forger);
  const e = new TrustedEpochs(net.genesis, async (n) => (n === 1 ? epochToHex(bad) : source(n)));
  assert.is(await e.certificate(certHex(3, 1), id1), null);
});

test('a transfer verifies only on the network it was signed for', () => {
  const j = transferToJson(t1);
  assert.ok(verifiesOn(j, net.genesis.network));
  assert.not.ok(verifiesOn(j, 'another-network'));
  assert.not.ok(verifiesOn({ ...j, amount: '6' }, net.genesis.network), 'altered after signing');
});

/** A node answering GET /accounts with `seq`/`head`, and GET /transfers/:id with `cert` when given. */
function node(seq: number, head: string | null, cert?: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const send = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const parts = new URL(req.url!, 'http://x').pathname.split('/').filter(Boolean);
    if (parts[0] === 'epochs') return send(200, { epoch: Number(parts[1]), record: epochToHex(net.epochs[Number(parts[1])]!) });
    if (parts[0] === 'accounts') return send(200, { address: parts[1], balance: '10', seq, head, frozen: false });
    if (parts[0] === 'transfers' && cert) return send(200, { transferId: parts[1], status: 'final', certificate: cert, times: {} });
    send(404, { error: 'NOT_FOUND', message: 'no' });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

test('a node\'s seq and head count only with a certificate for that head; a wrong seq is caught', async () => {
  const address = encodeAddress(alice.publicKey);
  const ctxOf = (url: string) => netContext(new NodeClient([url], 5_000), net.genesis, genesisId(net.genesis));
  const honest = await node(1, id1, certHex(3));
  const liar = await node(7, 'ab'.repeat(32));
  const wrongSeq = await node(4, id1, certHex(3));
  try {
    const ok = await checkedAccount(ctxOf(honest.url), address, []);
    assert.equal(ok.head, { seq: 1, head: id1 });
    assert.equal(ok.unchecked, []);
    const lie = await checkedAccount(ctxOf(liar.url), address, []);
    assert.is(lie.head, undefined, 'seq 7 without a certificate is not believed');
    assert.match(lie.unchecked[0]!, /says seq 7 .* no valid certificate/);
    const wrong = await checkedAccount(ctxOf(wrongSeq.url), address, []);
    assert.is(wrong.head, undefined, 'the certificate is for seq 1, not the claimed 4');
    // k - q + 1 = 2 nodes asked: the liar first, an honest one second; the checked claim wins
    const both = await checkedAccount(ctxOf(liar.url), address, [new NodeClient([honest.url], 5_000)]);
    assert.equal(both.head, { seq: 1, head: id1 });
  } finally {
    for (const s of [honest, liar, wrongSeq]) s.server.close();
  }
});

test.run();
