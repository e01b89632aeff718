// GET /healthz and GET /readyz (runtime/health.ts) and the node's and the mint's
// readiness rules (node/daemon/health.ts, mint/daemon/health.ts), on stand-ins.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import { createGenesis } from '../../mint/core/genesis-create.ts';
import { toHex } from '../../protocol/bytes.ts';
import { fastScheme } from '../../protocol/signature.ts';
import type { EpochRecord } from '../../protocol/objects.ts';
import type { NodeMachineApi } from '../../node/core/api.ts';
import { createHttp } from '../../runtime/http-common.ts';
import { healthRoutes, readiness, type Readiness } from '../../runtime/health.ts';
import { nodeReadiness } from '../../node/daemon/health.ts';
import { mintReadiness } from '../../mint/daemon/health.ts';

const signers = Array.from({ length: 5 }, (_, i) => fastScheme.signer(new Uint8Array(32).fill(i + 1)));
const outsider = fastScheme.signer(new Uint8Array(32).fill(99));
const epoch: EpochRecord = createGenesis({ network: 'health', mint: fastScheme.signer(new Uint8Array(32).fill(200)), members: signers.map((s) => s.publicKey), k: 4, q: 3, supplyCap: null, issuedAt: 0 }).epoch0;
const ids = signers.map((s) => toHex(s.publicKey));

function machine(id: Uint8Array, syncing = 0): NodeMachineApi {
  return { id, currentEpoch: () => epoch, syncing: () => syncing } as unknown as NodeMachineApi;
}

test('readiness: ready when every check holds; otherwise the first failing check is the reason', () => {
  assert.equal(readiness([]), { ready: true, reason: null, checks: [] });
  const r = readiness([{ name: 'a', ok: true, detail: 'fine' }, { name: 'b', ok: false, detail: 'broken' }, { name: 'c', ok: false, detail: 'also' }]);
  assert.is(r.ready, false);
  assert.is(r.reason, 'b: broken');
});

test('node: a member connected to q - 1 other members and pulling nothing is ready', () => {
  const r = nodeReadiness({ machine: machine(signers[0]!.publicKey), connectedNodes: () => [ids[1]!, ids[2]!] });
  assert.ok(r.ready, JSON.stringify(r));
});

test('node: too few ring members connected (outsiders and duplicates do not count)', () => {
  const r = nodeReadiness({ machine: machine(signers[0]!.publicKey), connectedNodes: () => [ids[1]!, ids[1]!, toHex(outsider.publicKey), ids[0]!] });
  assert.is(r.ready, false);
  assert.match(r.reason!, /^peers: 1 ring members connected \(needs 2\)/);
});

test('node: not a member of the current epoch, or still pulling accounts, is not ready', () => {
  const out = nodeReadiness({ machine: machine(outsider.publicKey), connectedNodes: () => ids });
  assert.match(out.reason!, /^epoch: not a member of epoch 0/);
  const pulling = nodeReadiness({ machine: machine(signers[0]!.publicKey, 3), connectedNodes: () => ids });
  assert.is(pulling.reason, 'synced: 3 accounts being pulled from their custodians');
});

test('mint: ready once connected to a member of its epoch', () => {
  assert.is(mintReadiness({ currentEpoch: () => epoch, connectedNodes: () => [] }).reason, 'peers: 0 ring members connected (needs 1)');
  assert.ok(mintReadiness({ currentEpoch: () => epoch, connectedNodes: () => [ids[3]!] }).ready);
});

test('GET /healthz is 200; GET /readyz is 200 when ready, else 503 with a JSON reason (a throwing probe too)', async () => {
  let probe: () => Readiness = () => readiness([{ name: 'peers', ok: false, detail: '0 ring members connected (needs 2)' }]);
  const app = createHttp(pino({ level: 'silent' }), null);
  healthRoutes(app, 'node', () => probe());
  const live = await app.inject({ method: 'GET', url: '/healthz' });
  assert.is(live.statusCode, 200);
  assert.is(live.json().status, 'ok');
  const no = await app.inject({ method: 'GET', url: '/readyz' });
  assert.is(no.statusCode, 503);
  assert.is(no.headers['content-type']?.toString().startsWith('application/json'), true);
  assert.equal({ ready: no.json().ready, error: no.json().error, reason: no.json().reason }, { ready: false, error: 'NOT_READY', reason: 'peers: 0 ring members connected (needs 2)' });
  probe = () => readiness([{ name: 'peers', ok: true, detail: '2 ring members connected (needs 2)' }]);
  const yes = await app.inject({ method: 'GET', url: '/readyz' });
  assert.is(yes.statusCode, 200);
  assert.is(yes.json().ready, true);
  probe = () => {
    throw new Error('machine not started');
  };
  const thrown = await app.inject({ method: 'GET', url: '/readyz' });
  assert.is(thrown.statusCode, 503);
  assert.is(thrown.json().reason, 'probe: machine not started');
  await app.close();
});

test.run();
