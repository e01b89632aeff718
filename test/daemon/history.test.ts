// GET /accounts/:address/history against a stand-in machine: answers of several
// custodians are merged (an entry shows when f + 1 list it: k - q + 1, and 2 at k = q), debits carry their
// status, credits their sender when the bundle is stored; no answer is 503.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildNodeHttp } from '../../node/daemon/http.ts';
import { mergeHistories } from '../../node/daemon/history.ts';
import { encodeAddress } from '../../protocol/address.ts';
import { toHex, ZERO32 } from '../../protocol/bytes.ts';
import { sign, transferId, TransferCodec, type Bundle } from '../../protocol/objects.ts';
import { ed25519, generateKeyPair } from '../../protocol/signature.ts';
import type { AccountHistory } from '../../node/core/api.ts';
import { stubDeps, stubMachine } from './stub-node.ts';

const network = 'test-net';
const me = generateKeyPair();
const payer = generateKeyPair();
const payee = generateKeyPair().publicKey;
const incoming = sign(TransferCodec, network, ed25519.signer(payer.secretKey), { from: payer.publicKey, to: me.publicKey, amount: 70n, seq: 1, prev: ZERO32, memo: new Uint8Array(0) });
const out1 = sign(TransferCodec, network, ed25519.signer(me.secretKey), { from: me.publicKey, to: payee, amount: 20n, seq: 1, prev: ZERO32, memo: new Uint8Array(0) });
const out2 = sign(TransferCodec, network, ed25519.signer(me.secretKey), { from: me.publicKey, to: payee, amount: 5n, seq: 2, prev: transferId(out1), memo: new Uint8Array(0) });
const fake = { transferId: new Uint8Array(32).fill(9), amount: 1_000n };

const honest = (certified2: boolean): AccountHistory => ({
  account: me.publicKey,
  synced: true,
  credits: [{ transferId: transferId(incoming), amount: 70n }],
  debits: [
    { seq: 1, transferId: transferId(out1), to: payee, amount: 20n, certified: true },
    { seq: 2, transferId: transferId(out2), to: payee, amount: 5n, certified: certified2 },
  ],
});
/** A lying custodian: a credit no one else applied. */
const liar: AccountHistory = { ...honest(false), credits: [...honest(false).credits, fake] };

let answers: AccountHistory[] = [];
/** The current epoch's k and q (a test may set k = q). */
let group = { k: 4, q: 3 };
const machine = stubMachine(network, me.publicKey, () => group, {
  bundle: (id: Uint8Array) => (toHex(id) === toHex(transferId(incoming)) ? ({ certificate: { transfer: incoming, votes: [] }, receipts: [] } as unknown as Bundle) : undefined),
});
const deps = stubDeps(network, machine, { askHistory: async () => ({ asked: 4, answers }) });
const app = buildNodeHttp(deps);

async function get(url: string) {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() };
}

test('merged history: agreed credits with their sender, debits with status, a lone liar left out', async () => {
  answers = [honest(false), honest(true), liar];
  const r = await get(`/accounts/${encodeAddress(me.publicKey)}/history`);
  assert.is(r.status, 200);
  assert.equal(r.body, {
    address: encodeAddress(me.publicKey),
    credits: [{ transferId: toHex(transferId(incoming)), amount: '70', from: encodeAddress(payer.publicKey) }],
    debits: [
      { seq: 1, transferId: toHex(transferId(out1)), to: encodeAddress(payee), amount: '20', status: 'certified' },
      { seq: 2, transferId: toHex(transferId(out2)), to: encodeAddress(payee), amount: '5', status: 'certified' },
    ],
    custodians: { asked: 4, answered: 3 },
  });
});

test('at k = q a lone liar is still left out: an entry needs two custodians (f counts as at least 1)', async () => {
  group = { k: 3, q: 3 };
  try {
    answers = [honest(true), liar];
    const r = await get(`/accounts/${encodeAddress(me.publicKey)}/history`);
    assert.is(r.status, 200);
    assert.equal(r.body.credits.map((c: { transferId: string }) => c.transferId), [toHex(transferId(incoming))]);
  } finally {
    group = { k: 4, q: 3 };
  }
});

test('no custodian answer is 503 UNAVAILABLE; a bad address is 4xx', async () => {
  answers = [];
  const r = await get(`/accounts/${encodeAddress(me.publicKey)}/history`);
  assert.is(r.status, 503);
  assert.is(r.body.error, 'UNAVAILABLE');
  const bad = await get('/accounts/rm1nope/history');
  assert.ok(bad.status >= 400 && bad.status < 500);
});

test('mergeHistories: a lone answer is shown as it is; uncertified debits are locked', () => {
  const m = mergeHistories([liar], 2);
  assert.is(m.credits.length, 2);
  assert.equal(m.debits.map((d) => d.status), ['certified', 'locked']);
  assert.equal(mergeHistories([], 2), { credits: [], debits: [] });
});

test.run();
