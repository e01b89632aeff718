// HTTP error mapping of the node API, against a stand-in machine: every refusal is
// a 4xx (or 503) with {error: CODE, message}; bodies over 64 KiB are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { buildNodeHttp } from '../../node/daemon/http.ts';
import { createHttp, errorReply, requireToken, statusOf } from '../../runtime/http-common.ts';
import { encodeAddress } from '../../protocol/address.ts';
import { ZERO32 } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import { transferToJson } from '../../protocol/json.ts';
import { sign, transferId, TransferCodec, type Transfer } from '../../protocol/objects.ts';
import { ed25519, generateKeyPair } from '../../protocol/signature.ts';
import type { TransferView } from '../../node/core/api.ts';
import { emptyOutput } from '../../protocol/ports.ts';
import { stubDeps, stubMachine } from './stub-node.ts';
import { z } from 'zod';

const network = 'test-net';
const kp = generateKeyPair();
const signer = ed25519.signer(kp.secretKey);
const mk = (memo: string) =>
  sign(TransferCodec, network, signer, { from: kp.publicKey, to: generateKeyPair().publicKey, amount: 5n, seq: 1, prev: ZERO32, memo: new TextEncoder().encode(memo) });

/** What the stand-in gateway answers, by memo. */
const outcomes: Record<string, Partial<TransferView>> = {
  funds: { status: 'rejected', reason: Reason.INSUFFICIENT_FUNDS, detail: 'balance 0 < 5' },
  conflict: { status: 'conflict' },
  ok: { status: 'pending' },
};
const views = new Map<string, TransferView>();

const machine = stubMachine(network, kp.publicKey, () => ({ k: 1, q: 1 }), {
  submit(t: Transfer) {
    const memo = new TextDecoder().decode(t.memo);
    views.set(transferToJson(t).id, { transferId: transferId(t), times: {}, status: 'pending', ...outcomes[memo] } as TransferView);
    return emptyOutput();
  },
  transfer: (id: Uint8Array) => views.get(Buffer.from(id).toString('hex')),
});
const deps = stubDeps(network, machine);
const app = buildNodeHttp(deps);

async function call(method: 'GET' | 'POST', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  const r = await app.inject({ method, url, payload: payload as string, headers: { 'content-type': 'application/json', ...headers } });
  return { status: r.statusCode, body: r.json() as { error?: string; message?: string; status?: string } };
}

test('malformed requests are 400 BAD_REQUEST with a message', async () => {
  for (const body of ['{not json', JSON.stringify({}), JSON.stringify({ transfer: 'x' })]) {
    const r = await call('POST', '/transfers', body);
    assert.is(r.status, 400, body);
    assert.is(r.body.error, 'BAD_REQUEST');
    assert.type(r.body.message, 'string');
  }
  const bad = await call('POST', '/transfers?wait=soon', JSON.stringify({ transfer: transferToJson(mk('ok')) }));
  assert.is(bad.status, 400);
  const badId = await call('GET', '/transfers/xyz');
  assert.is(badId.status, 400);
});

test('bodies over 64 KiB are 413 OVERSIZED', async () => {
  const r = await call('POST', '/transfers', JSON.stringify({ transfer: { memo: 'x'.repeat(70_000) } }));
  assert.is(r.status, 413);
  assert.is(r.body.error, 'OVERSIZED');
});

test('protocol rejections keep their reason code', async () => {
  const amount = await call('POST', '/transfers', JSON.stringify({ transfer: { ...transferToJson(mk('ok')), amount: '0', id: undefined } }));
  assert.is(amount.status, 400);
  assert.is(amount.body.error, 'BAD_AMOUNT');
  const funds = await call('POST', '/transfers?wait=final', JSON.stringify({ transfer: transferToJson(mk('funds')) }));
  assert.is(funds.status, 422);
  assert.is(funds.body.error, 'INSUFFICIENT_FUNDS');
  const conflict = await call('POST', '/transfers', JSON.stringify({ transfer: transferToJson(mk('conflict')) }));
  assert.is(conflict.status, 409);
  assert.is(conflict.body.error, 'CONFLICT');
  const ok = await call('POST', '/transfers', JSON.stringify({ transfer: transferToJson(mk('ok')) }));
  assert.is(ok.status, 202);
  assert.is(ok.body.status, 'pending');
});

test('unknown things are 404 NOT_FOUND; no custodian answer is 503', async () => {
  assert.is((await call('GET', '/nope')).body.error, 'NOT_FOUND');
  const t = await call('GET', `/transfers/${'00'.repeat(32)}`);
  assert.is(t.status, 404);
  assert.is(t.body.error, 'NOT_FOUND');
  const rc = await call('GET', `/receipts/${'00'.repeat(32)}`);
  assert.is(rc.status, 404);
  const acct = await call('GET', `/accounts/${encodeAddress(kp.publicKey)}`);
  assert.is(acct.status, 503);
  assert.is(acct.body.error, 'UNAVAILABLE');
  const badAddr = await call('GET', '/accounts/rm1nope');
  assert.ok(badAddr.status >= 400 && badAddr.status < 500);
});

test('status and ring answer', async () => {
  const s = await call('GET', '/status');
  assert.is(s.status, 200);
  assert.is((s.body as { network?: string }).network, network);
  assert.ok(['libsodium', 'openssl'].includes((s.body as { ed25519?: string }).ed25519 ?? ''), 'names its Ed25519 library');
  assert.is((await call('GET', '/ring')).status, 200);
});

test('bearer token: missing or wrong is 401 UNAUTHORIZED', async () => {
  const a = createHttp(pino({ level: 'silent' }), null);
  a.post('/admin', { preHandler: requireToken('sekrit') }, async () => ({ ok: true }));
  const no = await a.inject({ method: 'POST', url: '/admin' });
  assert.is(no.statusCode, 401);
  assert.is(no.json().error, 'UNAUTHORIZED');
  const wrong = await a.inject({ method: 'POST', url: '/admin', headers: { authorization: 'Bearer nope' } });
  assert.is(wrong.statusCode, 401);
  const right = await a.inject({ method: 'POST', url: '/admin', headers: { authorization: 'Bearer sekrit' } });
  assert.is(right.statusCode, 200);
});

test('error mapping table', () => {
  assert.is(statusOf(Reason.NOT_FOUND), 404);
  assert.is(statusOf(Reason.BAD_SIGNATURE), 400);
  assert.is(statusOf(Reason.UNAVAILABLE), 503);
  assert.equal(errorReply(new Rejection(Reason.FROZEN, 'frozen')).body, { error: 'FROZEN', message: 'frozen' });
  assert.is(errorReply(new Error('boom')).status, 500);
  assert.is(errorReply(new Error('boom')).body.message, 'internal error');
  const ze = (() => { try { z.object({ a: z.string() }).parse({}); } catch (e) { return e; } })();
  assert.is(errorReply(ze).body.error, 'BAD_REQUEST');
});

test.run();
