// The genesis file: its JSON round-trips, and every bad field is named in the error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../protocol/bytes.ts';
import { DEFAULT_REPUTATION, genesisFromJson, genesisToJson, type Genesis, type GenesisJson } from '../../protocol/genesis.ts';
import { encodeWith, writeEpoch } from '../../protocol/objects.ts';
import { ed25519 } from '../../protocol/signature.ts';
import { codeOf, epochRecord, keyOf, messageOf, NET } from './vectors/fixtures.ts';

const mint = keyOf('mint');
const members = Array.from({ length: 5 }, (_, i) => keyOf(`node-${i}`).publicKey);

function genesis(): Genesis {
  return {
    network: NET,
    mintKey: mint.publicKey,
    decimals: 6,
    symbol: 'RMT',
    supplyCap: 21_000_000_000_000n,
    reputation: DEFAULT_REPUTATION,
    admission: 'allowlist',
    epoch0: epochRecord(mint, members, { k: 4, q: 3 }),
  };
}
const json = (): GenesisJson => JSON.parse(JSON.stringify(genesisToJson(genesis())));

test('genesis round-trips through JSON text', () => {
  const j = json();
  assert.is(j.k, 4);
  assert.is(j.q, 3);
  assert.is(j.supplyCap, '21000000000000');
  assert.is(j.mintKey, toHex(mint.publicKey));
  const g = genesisFromJson(j, ed25519);
  assert.equal(g, genesis());
  assert.equal(genesisToJson(g), j);
  // No cap, and reputation left to the defaults.
  const { reputation: _r, ...rest } = { ...j, supplyCap: null };
  const g2 = genesisFromJson(rest, ed25519);
  assert.is(g2.supplyCap, null);
  assert.equal(g2.reputation, DEFAULT_REPUTATION);
});

/** Each bad value must give BAD_REQUEST naming its field. */
const BAD: [string, Record<string, unknown>][] = [
  ['network', { network: '' }],
  ['network', { network: 'n'.repeat(33) }],
  ['network', { network: 7 }],
  ['mintKey', { mintKey: 'AB'.repeat(32) }],
  ['mintKey', { mintKey: '00'.repeat(31) }],
  ['decimals', { decimals: -1 }],
  ['decimals', { decimals: 19 }],
  ['decimals', { decimals: 1.5 }],
  ['symbol', { symbol: '' }],
  ['symbol', { symbol: 'S'.repeat(13) }],
  ['supplyCap', { supplyCap: '-5' }],
  ['supplyCap', { supplyCap: 5 }],
  ['supplyCap', { supplyCap: undefined }],
  ['admission', { admission: 'closed' }],
  ['epoch0', { epoch0: undefined }],
  ['epoch0', { epoch0: 'zz' }],
  ['epoch0', { epoch0: 'abc' }],
  ['epoch0', { epoch0: '00' }],
  ['reputation.decay', { reputation: { ...DEFAULT_REPUTATION, decay: 'fast' } }],
  ['reputation.evict', { reputation: { ...DEFAULT_REPUTATION, evict: null } }],
  ['k', { k: 5 }],
  ['q', { q: 2 }],
];

for (const [field, patch] of BAD) {
  test(`a bad "${field}" (${JSON.stringify(patch).slice(0, 50)}) is named`, () => {
    const j = { ...json(), ...patch };
    assert.is(codeOf(() => genesisFromJson(j, ed25519)), 'BAD_REQUEST');
    assert.match(messageOf(() => genesisFromJson(j, ed25519)), `"${field}"`);
  });
}

test('an epoch 0 that does not hold is named "epoch0", with the reason', () => {
  const cases: [string, string][] = [
    ['signed by another key', toHex(encodeWith(epochRecord(keyOf('impostor'), members), writeEpoch))],
    ['of another network', toHex(encodeWith(epochRecord(mint, members, { network: 'othernet' }), writeEpoch))],
    ['numbered 1', toHex(encodeWith(epochRecord(mint, members, { epoch: 1 }), writeEpoch))],
    ['with 2q <= k', toHex(encodeWith(epochRecord(mint, members, { k: 4, q: 2 }), writeEpoch))],
    ['truncated', json().epoch0.slice(0, -2)],
  ];
  for (const [why, epoch0] of cases) {
    const j = { ...json(), epoch0, k: undefined, q: undefined };
    assert.is(codeOf(() => genesisFromJson(j, ed25519)), 'BAD_REQUEST', why);
    assert.match(messageOf(() => genesisFromJson(j, ed25519)), '"epoch0"', why);
  }
  // A valid epoch 0 under another mint key: the key and the record disagree.
  const j = { ...json(), mintKey: toHex(keyOf('other-mint').publicKey) };
  assert.match(messageOf(() => genesisFromJson(j, ed25519)), '"epoch0"');
});

test('a root that is not an object is named', () => {
  for (const root of [null, 'genesis', 5]) assert.match(messageOf(() => genesisFromJson(root, ed25519)), '(root)');
});

test.run();
