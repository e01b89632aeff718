// The wallet CLI's error lines: bad input gives one clear line on stderr and exit 1,
// and signs nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keystore } from '../../wallet/keystore.ts';
import { generateKeyPair } from '../../protocol/signature.ts';
import { makeNet } from './fixture.ts';
import { oneErrorLine, run } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'rm-cli-errors-'));
const env = { RINGMINT_WALLET_DIR: join(dir, 'wallets'), RINGMINT_PASSPHRASE: 'test pass' };
const net = makeNet();
const ks = new Keystore(env.RINGMINT_WALLET_DIR);
const addr = { alice: ks.create('alice', generateKeyPair().secretKey, env.RINGMINT_PASSPHRASE).address, bob: ks.create('bob', generateKeyPair().secretKey, 'x').address };
const fake = { url: 'http://127.0.0.1:1' };

test('bad input: one clear line and exit 1', async () => {
  const g = ['--genesis', net.genesisPath];
  oneErrorLine(await run(['sign', 'alice', '--to', 'rm1notanaddress', '--amount', '1', ...g], env), /--to: "rm1notanaddress" is not a valid rm1\.\.\. address/);
  oneErrorLine(await run(['sign', 'alice', '--to', addr.bob, '--amount', '1.0000001', ...g], env), /7 decimal places; RMT has at most 6 \(BAD_AMOUNT\)/);
  oneErrorLine(await run(['sign', 'alice', '--to', addr.bob, '--amount', '-5', ...g], env), /amount must be positive/);
  oneErrorLine(await run(['sign', 'alice', '--to', addr.bob, '--amount', '0', ...g], env), /greater than zero/);
  oneErrorLine(await run(['sign', 'alice', '--to', addr.bob, '--amount', 'ten', ...g], env), /must be a number of RMT/);
  oneErrorLine(await run(['sign', 'alice', '--to', addr.bob, '--amount', '1', '--memo', 'x'.repeat(65), ...g], env), /at most 64/);
  oneErrorLine(await run(['sign', 'carol', '--to', addr.bob, '--amount', '1', ...g], env), /no wallet named "carol"/);
  oneErrorLine(await run(['sign', 'alice', '--to', addr.bob, '--amount', '1'], env), /no genesis file/);
  oneErrorLine(await run(['sign', 'alice', '--to', addr.bob, '--amount', '1', ...g], { ...env, RINGMINT_PASSPHRASE: 'nope' }), /^error: wrong passphrase for wallet "alice" \(BAD_PASSPHRASE\)$/);
  const j = await run(['sign', 'alice', '--to', 'bogus', '--amount', '1', '--json', ...g], env);
  assert.is(j.code, 1);
  assert.is(j.json.error, 'MALFORMED');
  oneErrorLine(await run(['balance', 'alice'], env), /no node to talk to/);
  oneErrorLine(await run(['balance', 'alice', '--node', 'http://127.0.0.1:1'], env), /no node answered/);
  oneErrorLine(await run(['send', 'alice', '--to', addr.alice, '--amount', '1', '--node', fake.url], env), /its own address/);
  // nothing above signed anything
  assert.is(JSON.parse(readFileSync(join(env.RINGMINT_WALLET_DIR, 'alice.json'), 'utf8')).state.nextSeq, 1);
});

test.run();
