// Configuration precedence: flags > RINGMINT_* env > config.json > defaults.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName, parseHostPort, readConfigFile, resolveConfig } from '../../runtime/config.ts';
import { Rejection } from '../../protocol/errors.ts';
import { NodeMachine } from '../../node/core/node-machine.ts';
import { ANTI_ENTROPY_MS_RANGE, NODE_DEFAULTS, NodeDaemon } from '../../node/daemon/node-daemon.ts';
import { pino } from 'pino';

const defaults = { api: '127.0.0.1:7700', listen: ['/ip4/127.0.0.1/tcp/0'], logLevel: 'info', epochIntervalMs: 5000 };

test('each source overrides the ones below it', () => {
  const file = { api: '127.0.0.1:1', logLevel: 'debug', epochIntervalMs: 100 };
  const env = { RINGMINT_API: '127.0.0.1:2', RINGMINT_LOG_LEVEL: 'warn' };
  const flags = { api: '127.0.0.1:3', logLevel: undefined };
  const c = resolveConfig(defaults, { file, env, flags });
  assert.is(c.api, '127.0.0.1:3');
  assert.is(c.logLevel, 'warn');
  assert.is(c.epochIntervalMs, 100);
  assert.equal(c.listen, ['/ip4/127.0.0.1/tcp/0']);
  assert.equal(resolveConfig(defaults, {}), defaults);
});

test('types are coerced from env strings; lists are comma separated', () => {
  const c = resolveConfig(defaults, { env: { RINGMINT_EPOCH_INTERVAL_MS: '250', RINGMINT_LISTEN: '/ip4/0.0.0.0/tcp/1, /ip4/0.0.0.0/tcp/2' } });
  assert.is(c.epochIntervalMs, 250);
  assert.equal(c.listen, ['/ip4/0.0.0.0/tcp/1', '/ip4/0.0.0.0/tcp/2']);
  assert.is(envName('epochIntervalMs'), 'RINGMINT_EPOCH_INTERVAL_MS');
});

test('bad values and unknown keys in config.json are refused', () => {
  assert.throws(() => resolveConfig(defaults, { env: { RINGMINT_EPOCH_INTERVAL_MS: 'soon' } }), (e: unknown) => e instanceof Rejection && e.code === 'BAD_REQUEST');
  assert.throws(() => resolveConfig(defaults, { file: { apii: 'x' } }), /unknown option apii/);
});

test('config.json is read from the data dir; a missing one is empty', () => {
  const d = mkdtempSync(join(tmpdir(), 'ringmint-cfg-'));
  assert.equal(readConfigFile(d), {});
  writeFileSync(join(d, 'config.json'), JSON.stringify({ api: '127.0.0.1:9' }));
  assert.is(resolveConfig(defaults, { file: readConfigFile(d) }).api, '127.0.0.1:9');
  writeFileSync(join(d, 'config.json'), '{oops');
  assert.throws(() => readConfigFile(d), (e: unknown) => e instanceof Rejection);
});

test('host:port parsing', () => {
  assert.equal(parseHostPort('127.0.0.1:80'), { host: '127.0.0.1', port: 80 });
  assert.equal(parseHostPort(':81'), { host: '127.0.0.1', port: 81 });
  assert.equal(parseHostPort('82'), { host: '127.0.0.1', port: 82 });
  assert.equal(parseHostPort('0.0.0.0:83'), { host: '0.0.0.0', port: 83 });
  assert.throws(() => parseHostPort('host:99999'));
  assert.throws(() => parseHostPort('nope'));
});

test("a node's anti-entropy interval comes from its sources; one out of range stops the start", async () => {
  assert.is(resolveConfig(NODE_DEFAULTS, { env: { RINGMINT_ANTI_ENTROPY_MS: '120000' } }).antiEntropyMs, 120_000);
  assert.is(resolveConfig(NODE_DEFAULTS, { file: { antiEntropyMs: 5000 }, flags: { antiEntropyMs: '7000' } }).antiEntropyMs, 7000);
  // a bad flag is named as it was typed
  assert.throws(() => resolveConfig(NODE_DEFAULTS, { flags: { antiEntropyMs: 'soon' } }), /^--anti-entropy-ms: bad value/);
  for (const bad of [ANTI_ENTROPY_MS_RANGE.min - 1, ANTI_ENTROPY_MS_RANGE.max + 1, 1500.5]) {
    const d = mkdtempSync(join(tmpdir(), 'ringmint-cfg-'));
    const daemon = new NodeDaemon(d, pino({ level: 'silent' }));
    const err = await daemon.start({ ...NODE_DEFAULTS, antiEntropyMs: bad }, (init) => new NodeMachine(init)).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof Rejection && err.code === 'BAD_REQUEST' && /antiEntropyMs/.test(err.message), String(err));
  }
});

test.run();
