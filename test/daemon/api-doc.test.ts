// docs/api.md is the HTTP interface: every route it documents for the node and the
// mint is registered, and every registered route is documented.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { buildNodeHttp, type NodeApiDeps } from '../../node/daemon/http.ts';
import { buildMintHttp, type MintApiDeps } from '../../mint/daemon/http.ts';
import { registeredRoutes } from '../../runtime/http-common.ts';
import { createMetrics } from '../../runtime/metrics.ts';

/** "METHOD /path" rows of the route table under `## <section>` in docs/api.md. */
function documented(section: string): string[] {
  const doc = readFileSync('docs/api.md', 'utf8');
  const start = doc.indexOf(`\n## ${section}\n`);
  assert.ok(start >= 0, `docs/api.md has a "## ${section}" section`);
  const next = doc.indexOf('\n## ', start + 1);
  const body = doc.slice(start, next < 0 ? undefined : next);
  return [...body.matchAll(/^\| (GET|POST|PUT|DELETE|PATCH) \| (\/[^ |]*) \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
}

const log = pino({ level: 'silent' });
// Building an app registers its routes; no handler runs here, so the parts are stand-ins.
const stub = (): never => {
  throw new Error('not called');
};

test('node: documented routes = registered routes', async () => {
  const app = buildNodeHttp({
    network: 'n', genesisJson: {} as never, machine: {} as never, peerId: 'p', startedAt: 0, metrics: createMetrics('node'), log,
    submit: stub, waitFor: stub, askAccount: stub, findBundle: stub, epoch: stub, askHistory: stub, admin: { token: 't', backup: stub },
  } satisfies NodeApiDeps);
  await app.ready();
  assert.equal([...registeredRoutes(app)].sort(), documented('Node'));
  await app.close();
});

test('mint: documented routes = registered routes', async () => {
  const app = buildMintHttp({
    machine: {} as never, genesisJson: {} as never, token: 't', metrics: createMetrics('mint'), log, issue: stub, waitStored: stub, admit: stub,
  } satisfies MintApiDeps);
  await app.ready();
  assert.equal([...registeredRoutes(app)].sort(), documented('Mint'));
  await app.close();
});

test('the doc parser reads a route table', () => {
  assert.ok(documented('Node').includes('GET /status'));
  assert.ok(documented('Mint').includes('POST /issue'));
});

test.run();
