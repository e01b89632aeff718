import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { genesisFromJson, genesisToJson } from '../../protocol/genesis.ts';
import { validateEpoch } from '../../protocol/ring.ts';
import { ed25519, fastScheme } from '../../protocol/signature.ts';
import { createGenesis } from '../../mint/core/genesis-create.ts';
import { key, throwsCode } from './helpers.ts';

test('createGenesis: epoch 0 signed by the mint (ed25519), round-trips through JSON', () => {
  const mint = key(ed25519, 'mint');
  const members = [3, 1, 2, 1].map((i) => key(ed25519, `n${i}`).publicKey);
  const g = createGenesis({ network: 'devnet', mint, members, supplyCap: 1000n, issuedAt: 42 });
  assert.is(g.epoch0.members.length, 3, 'duplicates dropped');
  assert.is(g.epoch0.k, 4);
  assert.is(g.epoch0.q, 3);
  assert.is(g.symbol, 'RMT');
  assert.is(g.decimals, 6);
  assert.is(g.admission, 'open');
  validateEpoch(g.epoch0, mint.publicKey, ed25519);
  const back = genesisFromJson(JSON.parse(JSON.stringify(genesisToJson(g))), ed25519);
  assert.equal(back.epoch0.members, g.epoch0.members);
  assert.is(back.supplyCap, 1000n);
  assert.equal(back.reputation, g.reputation);
});

test('createGenesis: k/q rule, 2q <= k is refused', () => {
  const mint = key(fastScheme, 'mint');
  const members = [key(fastScheme, 'a').publicKey];
  throwsCode(() => createGenesis({ network: 'x', mint, members, k: 4, q: 2, issuedAt: 0 }), 'BAD_REQUEST');
  throwsCode(() => createGenesis({ network: 'x', mint, members, k: 3, q: 4, issuedAt: 0 }), 'BAD_REQUEST');
  throwsCode(() => createGenesis({ network: 'x', mint, members: [], issuedAt: 0 }), 'BAD_REQUEST');
  const ok = createGenesis({ network: 'x', mint, members, k: 5, q: 3, issuedAt: 0 });
  validateEpoch(ok.epoch0, mint.publicKey, fastScheme);
});

test.run();
