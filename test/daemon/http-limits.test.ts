// What one HTTP client can cost a node or the mint (runtime/http-limits.ts): a 429 with
// Retry-After past its rate, a cap on its long-polls, pages on list routes, a budget on
// the peer asks requests fan out to, and never a 5xx for bad input (a property test
// over every route of both APIs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { pino } from 'pino';
import { buildNodeHttp, type NodeApiDeps } from '../../node/daemon/http.ts';
import { buildMintHttp, type MintApiDeps } from '../../mint/daemon/http.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { ClientRates, FanOut, FANOUT_BURST, HTTP_LIMIT_DEFAULTS, LongPolls, MAX_TRACKED_CLIENTS, type HttpLimitConfig } from '../../runtime/http-limits.ts';
import { Queries, epochBundleCheck } from '../../runtime/queries.ts';
import { encodeAddress } from '../../protocol/address.ts';
import { toHex, ZERO32 } from '../../protocol/bytes.ts';
import { sign, transferId, TransferCodec, type Transfer, AlertCodec, NoticeCodec, doubleSpendEvidence, type Alert } from '../../protocol/objects.ts';
import { ed25519, fastScheme, generateKeyPair } from '../../protocol/signature.ts';
import type { TransferView } from '../../node/core/api.ts';
import { emptyOutput } from '../../protocol/ports.ts';
import { stubDeps, stubMachine } from './stub-node.ts';
import { makeNet } from '../mint/helpers.ts';
import { Harness, secret } from '../core/harness.ts';

const network = 'test-net';
const kp = generateKeyPair();
const signer = ed25519.signer(kp.secretKey);
const mk = (memo: string, seq = 1) =>
  sign(TransferCodec, network, signer, { from: kp.publicKey, to: generateKeyPair().publicKey, amount: 5n, seq, prev: ZERO32, memo: new TextEncoder().encode(memo) });

const views = new Map<string, TransferView>();
const mintSigner = ed25519.signer(generateKeyPair().secretKey);
const alerts: Alert[] = Array.from({ length: 250 }, (_, i) => {
  const a = mk(`a${i}`, i + 1);
  const b = mk(`b${i}`, i + 1);
  const notice = sign(NoticeCodec, network, signer, { evidence: doubleSpendEvidence(a, b), reporter: kp.publicKey });
  return sign(AlertCodec, network, mintSigner, { notice, alertSeq: i + 1 });
});

const machine = stubMachine(network, kp.publicKey, () => ({ k: 3, q: 2 }), {
  submit(t: Transfer) {
    views.set(toHex(transferId(t)), { transferId: transferId(t), times: {}, status: 'pending' } as TransferView);
    return emptyOutput();
  },
  transfer: (id: Uint8Array) => views.get(toHex(id)),
  alerts: () => alerts,
});

type Counts = { lookups: number; waits: number };

function nodeApp(limits?: Partial<HttpLimitConfig>, counts: Counts = { lookups: 0, waits: 0 }, wait = async (id: Uint8Array): Promise<TransferView | undefined> => machine.transfer(id)) {
  const deps: NodeApiDeps = stubDeps(network, machine, {
    waitFor: async (id) => {
      counts.waits++;
      return wait(id);
    },
    askAccount: async () => ({ asked: 3, answers: [{ balance: 5n, seq: 0, head: null, frozen: false }] }),
    askHistory: async (account) => ({ asked: 3, answers: [{ account, credits: [], debits: [], synced: true }] }),
    findBundle: async () => {
      counts.lookups += 3; // one lookup to each of the k = 3 storage nodes
      return null;
    },
    limits: { ...HTTP_LIMIT_DEFAULTS, ...limits },
  });
  return { app: buildNodeHttp(deps), deps };
}

function mintApp(limits?: Partial<HttpLimitConfig>) {
  const net = makeNet({ scheme: fastScheme });
  const deps: MintApiDeps = {
    machine: net.mint,
    genesisJson: { network: 'testnet' } as never,
    token: 'secret-token',
    metrics: createMetrics('mint'),
    log: pino({ level: 'silent' }),
    issue: async () => ({ transfer: mk('issue'), gateway: null }),
    waitStored: async () => false,
    admit: async () => {},
    limits: { ...HTTP_LIMIT_DEFAULTS, ...limits },
  };
  return { app: buildMintHttp(deps), deps };
}

test('{"from":{"toString":1}} and other objects in string fields are 4xx, not 500', async () => {
  const { app } = nodeApp();
  for (const transfer of [{ from: { toString: 1 } }, { ...JSON.parse(JSON.stringify({ seq: 1, memo: '' })), from: { toString: 1 }, to: [] }, { seq: 1, memo: '', from: { valueOf: 1, toString: 1 } }]) {
    const r = await app.inject({ method: 'POST', url: '/transfers', payload: { transfer } });
    assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${JSON.stringify(transfer)}: ${r.statusCode} ${r.body}`);
  }
  const raw = await app.inject({ method: 'POST', url: '/transfers', headers: { 'content-type': 'application/json' }, payload: '{"transfer":{"seq":1,"memo":"","from":{"toString":1}}}' });
  assert.is(raw.statusCode, 400);
});

test('a client past its rate gets 429 with Retry-After, counted in ringmint_http_rate_limited_total; loopback defaults are generous', async () => {
  const { app, deps } = nodeApp({ httpRateLimit: 5 });
  const remote = { remoteAddress: '203.0.113.9' };
  const codes: number[] = [];
  let retryAfter: string | undefined;
  for (let i = 0; i < 20; i++) {
    const r = await app.inject({ method: 'GET', url: '/status', ...remote });
    codes.push(r.statusCode);
    if (r.statusCode === 429) retryAfter = r.headers['retry-after'] as string;
  }
  assert.is(codes.filter((c) => c === 200).length, 10, 'a burst of twice the rate');
  assert.is(codes.filter((c) => c === 429).length, 10);
  assert.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
  const text = await deps.metrics.registry.getSingleMetricAsString('ringmint_http_rate_limited_total');
  assert.match(text, /ringmint_http_rate_limited_total\{route="\/status",role="node"\} 10/);
  // Loopback (inject's default address): 2,000 requests in a row, none refused.
  for (let i = 0; i < 2_000; i++) assert.is((await app.inject({ method: 'GET', url: '/status' })).statusCode, 200);
});

test('tracked clients are bounded; buckets refill', () => {
  let now = 0;
  const r = new ClientRates(() => now);
  for (let i = 0; i < MAX_TRACKED_CLIENTS + 1_000; i++) r.take(`c${i}`, 1);
  assert.is(r.size, MAX_TRACKED_CLIENTS);
  assert.is(r.take('x', 1), 0);
  assert.is(r.take('x', 1), 0);
  assert.ok(r.take('x', 1) > 0, 'burst of 2 spent');
  now += 1_000;
  assert.is(r.take('x', 1), 0, 'refilled');
});

test('long-polls per client are capped (429), and released when answered', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { app } = nodeApp({ httpLongPolls: 2 }, undefined, async (id) => {
    await gate;
    return machine.transfer(id);
  });
  const remote = { remoteAddress: '198.51.100.7' };
  const post = (i: number) => app.inject({ method: 'POST', url: '/transfers?wait=final', payload: { transfer: transferJson(mk(`lp${i}`)) }, ...remote });
  const first = [post(0), post(1)];
  await new Promise((r) => setTimeout(r, 50));
  const third = await post(2);
  assert.is(third.statusCode, 429);
  assert.ok(third.headers['retry-after']);
  release();
  for (const r of await Promise.all(first)) assert.is(r.statusCode, 202);
  assert.is((await post(3)).statusCode, 202, 'slots freed');
  const polls = new LongPolls({ ...HTTP_LIMIT_DEFAULTS, httpLongPolls: 1 });
  const rel = polls.acquire('203.0.113.1');
  assert.throws(() => polls.acquire('203.0.113.1'));
  rel();
  rel();
  polls.acquire('203.0.113.1')();
});

function transferJson(t: ReturnType<typeof mk>) {
  return {
    from: encodeAddress(t.from), to: encodeAddress(t.to), amount: t.amount.toString(), seq: t.seq, prev: toHex(t.prev), memo: new TextDecoder().decode(t.memo), sig: toHex(t.sig),
  };
}

test('200 GETs of random transfer ids cause a bounded number of peer lookups; repeats hit the miss cache', async () => {
  const counts = { lookups: 0, waits: 0 };
  const { app } = nodeApp(undefined, counts);
  const ids = Array.from({ length: 200 }, () => toHex(generateKeyPair().publicKey));
  const codes = new Map<number, number>();
  for (const id of ids) {
    const r = await app.inject({ method: 'GET', url: `/transfers/${id}` });
    codes.set(r.statusCode, (codes.get(r.statusCode) ?? 0) + 1);
  }
  assert.ok(counts.lookups <= FANOUT_BURST + 3 * 10, `lookups ${counts.lookups} (was 600 before the budget)`);
  assert.ok((codes.get(429) ?? 0) > 0, 'the rest are told to retry');
  for (const [code] of codes) assert.ok(code === 404 || code === 429, `code ${code}`);
  // The same missing id again within a second costs nothing.
  const fo = new FanOut();
  let asks = 0;
  for (let i = 0; i < 50; i++) await fo.run('b/x', 3, async () => (asks++, null));
  assert.is(asks, 1);
  assert.is(fo.asked, 3);
});

test('honest bursts of account reads are not refused: 300 balances at once', async () => {
  const { app } = nodeApp();
  const rs = await Promise.all(Array.from({ length: 300 }, () => app.inject({ method: 'GET', url: `/accounts/${encodeAddress(generateKeyPair().publicKey)}` })));
  assert.equal([...new Set(rs.map((r) => r.statusCode))], [200]);
});

test('pages: /alerts, /reputation and /notices take ?limit= and ?after=', async () => {
  const { app } = nodeApp();
  const first = (await app.inject({ method: 'GET', url: '/alerts' })).json() as { alerts: { alertSeq: number }[]; next?: number };
  assert.is(first.alerts.length, 100);
  assert.is(first.next, 100);
  const second = (await app.inject({ method: 'GET', url: `/alerts?after=${first.next}&limit=200` })).json() as { alerts: { alertSeq: number }[]; next?: number };
  assert.is(second.alerts.length, 150);
  assert.is(second.alerts[0]!.alertSeq, 101);
  assert.is(second.next, undefined);
  assert.is((await app.inject({ method: 'GET', url: '/alerts?limit=100000' })).statusCode, 400);
  const mint = mintApp().app;
  for (const url of ['/reputation?limit=10', '/notices?limit=10&after=0', '/reputation?afterNode=00&after=3']) {
    assert.is((await mint.inject({ method: 'GET', url })).statusCode, 200, url);
  }
  assert.is((await mint.inject({ method: 'GET', url: '/notices?limit=0' })).statusCode, 400);
});

test('/metrics asks for its token when one is set', async () => {
  const { app } = nodeApp({ metricsToken: 'm-token' });
  assert.is((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
  assert.is((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer m-token' } })).statusCode, 200);
  assert.is((await nodeApp().app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'open by default');
});

test('a lookup answer with another transfer\'s bundle, or a forged one, is not taken as found', async () => {
  const h = new Harness({ nodes: 6, k: 3, q: 2 });
  const alice = h.scheme.signer(secret('alice'));
  const bob = h.scheme.signer(secret('bob'));
  h.issue(alice.publicKey, 100n);
  h.settle(3);
  const t = h.transfer(alice, bob.publicKey, 5n, 1);
  h.submit(0, t);
  h.settle(3);
  const real = h.node(0).transfer(transferId(t))!.bundle!;
  const q = new Queries(epochBundleCheck('testnet', h.scheme, (n) => h.epochs[n]));
  const peers = ['p1', 'p2'];
  const other = transferId(h.transfer(alice, bob.publicKey, 6n, 2, transferId(t)));
  const wrongId = q.askBundle(other, peers, () => {}, 1_000);
  q.take({ node: 'p1' }, { type: 'lookup-reply', transferId: other, bundle: real });
  q.take({ node: 'p2' }, { type: 'lookup-reply', transferId: other, bundle: null });
  assert.is(await wrongId, null, 'another transfer\'s bundle is not an answer');
  const forged = q.askBundle(transferId(t), peers, () => {}, 1_000);
  q.take({ node: 'p1' }, { type: 'lookup-reply', transferId: transferId(t), bundle: { ...real, receipts: real.receipts.slice(0, 1) } });
  q.take({ node: 'p2' }, { type: 'lookup-reply', transferId: transferId(t), bundle: real });
  assert.is(await forged, real, 'the forged answer is skipped, the genuine one taken');
});

/** Every route of both APIs, with a path parameter filled in from the fuzzer. */
const NODE_ROUTES = ['/status', '/healthz', '/readyz', '/genesis', '/ring', '/epochs/:p', '/accounts/:p', '/accounts/:p/history', '/transfers', '/transfers/:p', '/receipts/:p', '/alerts', '/metrics'];
const MINT_ROUTES = ['/status', '/healthz', '/readyz', '/genesis', '/issue', '/admit', '/epochs/:p', '/reputation', '/notices', '/metrics'];

test('property: arbitrary JSON and bytes to every route of node and mint get only 2xx or 4xx', async () => {
  const node = nodeApp({ httpLoopbackRateLimit: 0 }).app;
  const mint = mintApp({ httpLoopbackRateLimit: 0 }).app;
  // A field's value: any JSON, an object whose keys shadow what String() and friends call, or a near-valid string.
  const field = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(fc.constantFrom('toString', 'valueOf', 'toJSON', '__proto__', 'constructor', 'length', 'then'), fc.jsonValue(), { minKeys: 1 }),
    { arbitrary: fc.record({ toString: fc.jsonValue() }), weight: 3 },
    fc.constantFrom(encodeAddress(kp.publicKey), '00'.repeat(32), '00'.repeat(64), '18446744073709551616', ''),
  );
  const transferLike = fc.record({ from: field, to: field, seq: fc.oneof({ arbitrary: fc.constant(1), weight: 3 }, field), amount: fc.oneof(fc.constant('5'), field), memo: fc.oneof({ arbitrary: fc.constant(''), weight: 3 }, field), prev: field, sig: field })
    .map((t) => ({ payload: safeStringify({ transfer: t, to: t.to, amount: t.amount, memo: t.memo, nodeId: t.from, peerId: t.prev }), type: 'application/json' }));
  const body = fc.oneof(
    { arbitrary: transferLike, weight: 4 },
    fc.json().map((s) => ({ payload: s, type: 'application/json' })),
    fc.jsonValue().map((v) => ({ payload: JSON.stringify({ transfer: v, to: v, amount: v, memo: v, nodeId: v, peerId: v }), type: 'application/json' })),
    fc.uint8Array({ maxLength: 512 }).map((b) => ({ payload: Buffer.from(b), type: 'application/octet-stream' })),
    fc.string({ maxLength: 200 }).map((s) => ({ payload: s, type: 'text/plain' })),
  );
  const param = fc.oneof(fc.string({ maxLength: 80 }), fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')), fc.constant(encodeAddress(kp.publicKey)), fc.integer().map(String));
  const query = fc.oneof(fc.constant(''), fc.dictionary(fc.constantFrom('wait', 'timeoutMs', 'limit', 'after', 'afterNode', 'x'), fc.string({ maxLength: 12 })).map((d) => '?' + new URLSearchParams(d).toString()));
  // Each generated request goes to every route of both APIs.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('GET', 'POST', 'POST', 'PUT', 'DELETE'), param, query, body, fc.boolean(), async (method, p, q, b, authed) => {
      for (const [app, routes] of [[node, NODE_ROUTES], [mint, MINT_ROUTES]] as const) {
        for (const route of routes) {
          const url = route.replace(':p', encodeURIComponent(p)) + q.replace(/timeoutMs=[^&]*/, 'timeoutMs=0');
          const r = await app.inject({
            method: method as 'GET',
            url,
            headers: { 'content-type': b.type, ...(authed ? { authorization: 'Bearer secret-token' } : {}) },
            ...(method === 'GET' ? {} : { payload: b.payload }),
          });
          if (r.statusCode >= 500 || r.statusCode < 200) throw new Error(`${method} ${url} ${String(b.payload).slice(0, 200)} -> ${r.statusCode} ${r.body}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : typeof x === 'symbol' || typeof x === 'function' ? String(x) : x)) ?? 'null';
  } catch {
    return '{}';
  }
}

test.run();
