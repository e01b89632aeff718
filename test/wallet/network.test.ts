// Which node the wallet talks to: --node > RINGMINT_NODE > --devnet DIR > ./devnet/devnet.json,
// and on a connection failure, the next one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEndpoints, localGenesisPath } from '../../wallet/network.ts';
import { NodeClient } from '../../wallet/client.ts';
import { CliError } from '../../runtime/cli-output.ts';

function devnetDir(ports: number[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'rm-devnet-'));
  writeFileSync(
    join(dir, 'devnet.json'),
    JSON.stringify({ genesis: 'genesis.json', mint: { api: 'http://127.0.0.1:9000', token: 't', pid: 1 }, nodes: ports.map((p) => ({ api: `http://127.0.0.1:${p}/`, peerId: 'x', nodeId: 'y', pid: 1 })) }),
  );
  writeFileSync(join(dir, 'genesis.json'), '{}');
  return dir;
}

const first = () => 0;

test('precedence: --node, then RINGMINT_NODE, then --devnet, then ./devnet/devnet.json', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'rm-cwd-'));
  mkdirSync(join(cwd, 'devnet'));
  const local = devnetDir([7001, 7002]);
  writeFileSync(join(cwd, 'devnet', 'devnet.json'), JSON.stringify({ genesis: join(local, 'genesis.json'), nodes: [{ api: 'http://127.0.0.1:7100' }] }));
  const other = devnetDir([7201, 7202, 7203]);
  const env = { RINGMINT_NODE: 'http://127.0.0.1:7300, http://127.0.0.1:7301/' };

  assert.equal(findEndpoints({ node: 'http://127.0.0.1:7400', devnet: other }, env, cwd, first).nodes, ['http://127.0.0.1:7400']);
  const e2 = findEndpoints({ devnet: other }, env, cwd, first);
  assert.equal(e2.nodes, ['http://127.0.0.1:7300', 'http://127.0.0.1:7301']);
  assert.is(e2.source, 'RINGMINT_NODE');
  assert.is(e2.genesisPath, join(other, 'genesis.json'), 'the devnet still supplies the genesis');
  const e3 = findEndpoints({ devnet: other }, {}, cwd, first);
  assert.equal(e3.nodes, ['http://127.0.0.1:7201', 'http://127.0.0.1:7202', 'http://127.0.0.1:7203']);
  assert.is(e3.mint, 'http://127.0.0.1:9000');
  assert.equal(findEndpoints({}, {}, cwd, first).nodes, ['http://127.0.0.1:7100']);
  assert.equal(findEndpoints({}, {}, mkdtempSync(join(tmpdir(), 'rm-empty-')), first).nodes, []);
  // a random start spreads wallets over gateways; all nodes remain as fallbacks
  assert.equal(findEndpoints({ devnet: other }, {}, cwd, () => 1).nodes, ['http://127.0.0.1:7202', 'http://127.0.0.1:7203', 'http://127.0.0.1:7201']);
});

test('genesis: --genesis, then RINGMINT_GENESIS, then the devnet; none is one clear error', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'rm-cwd-'));
  const d = devnetDir([7001]);
  assert.is(localGenesisPath({ genesis: '/g.json', devnet: d }, { RINGMINT_GENESIS: '/e.json' }, cwd), '/g.json');
  assert.is(localGenesisPath({ devnet: d }, { RINGMINT_GENESIS: '/e.json' }, cwd), '/e.json');
  assert.is(localGenesisPath({ devnet: d }, {}, cwd), join(d, 'genesis.json'));
  assert.throws(() => localGenesisPath({}, {}, cwd), /no genesis file/);
});

test('a missing or broken devnet file is one clear error', () => {
  assert.throws(() => findEndpoints({ devnet: '/nonexistent/devnet' }, {}, '/'), /devnet file .*not found/);
  const dir = mkdtempSync(join(tmpdir(), 'rm-bad-'));
  writeFileSync(join(dir, 'devnet.json'), '{"nodes": 3}');
  assert.throws(() => findEndpoints({ devnet: dir }, {}, '/'), /lacks/);
});

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

test('the client moves on from a dead node and a 503, then stays with the node that answered', async () => {
  const dead = await listen(() => undefined);
  const deadUrl = dead.url;
  await new Promise((r) => dead.server.close(r));
  let overloadedHits = 0;
  const overloaded = await listen((_req, res) => {
    overloadedHits++;
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"UNAVAILABLE","message":"busy"}');
  });
  const good = await listen((req, res) => {
    if (req.url === '/missing') res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"NOT_FOUND","message":"no such thing"}');
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  try {
    const c = new NodeClient([deadUrl, overloaded.url, good.url], 2_000);
    assert.equal(await c.call('GET', '/status'), { ok: true });
    assert.is(c.url, good.url);
    await c.call('GET', '/status');
    assert.is(overloadedHits, 1, 'the second call went straight to the node that answered');
    try {
      await c.call('GET', '/missing');
      assert.unreachable();
    } catch (e) {
      assert.instance(e, CliError);
      assert.is((e as CliError).code, 'NOT_FOUND');
      assert.is((e as Error).message, 'no such thing');
    }
    const none = new NodeClient([deadUrl], 2_000);
    try {
      await none.call('GET', '/status');
      assert.unreachable();
    } catch (e) {
      assert.is((e as CliError).code, 'UNAVAILABLE');
      assert.match((e as Error).message, /no node answered: http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    }
    assert.throws(() => new NodeClient([]), /no node to talk to/);
  } finally {
    overloaded.server.close();
    good.server.close();
  }
});

test.run();
