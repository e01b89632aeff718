import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keystore, HISTORY_LIMIT } from '../../wallet/keystore.ts';
import { recordSigned } from '../../wallet/ledger.ts';
import { CliError } from '../../runtime/cli-output.ts';
import { encodeAddress } from '../../protocol/address.ts';
import { toHex } from '../../protocol/bytes.ts';
import { generateKeyPair, publicKeyOf } from '../../protocol/signature.ts';

function fresh(): Keystore {
  return new Keystore(join(mkdtempSync(join(tmpdir(), 'rm-ks-')), 'wallets'));
}

function fails(fn: () => unknown, code: string, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CliError, String(e));
    assert.is((e as CliError).code, code);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('did not fail');
}

function tamper(ks: Keystore, name: string, edit: (f: any) => void): void {
  const f = JSON.parse(readFileSync(ks.path(name), 'utf8'));
  edit(f);
  writeFileSync(ks.path(name), JSON.stringify(f));
}

test('round trip: the key comes back with the right passphrase', () => {
  const ks = fresh();
  const { secretKey } = generateKeyPair();
  const w = ks.create('alice', secretKey, 'correct horse');
  assert.is(w.address, encodeAddress(publicKeyOf(secretKey)));
  const u = ks.unlock('alice', 'correct horse');
  assert.is(toHex(u.secretKey), toHex(secretKey));
  assert.equal(ks.list(), [{ name: 'alice', address: w.address }]);
  assert.is(ks.read('alice').state.nextSeq, 1);
  // the secret never appears in the file
  assert.not.ok(readFileSync(ks.path('alice'), 'utf8').includes(toHex(secretKey)));
});

test('file mode 0600, directory 0700, no temp files left', () => {
  const ks = fresh();
  ks.create('alice', generateKeyPair().secretKey, 'pw');
  assert.is(statSync(ks.path('alice')).mode & 0o777, 0o600);
  assert.is(statSync(ks.dir).mode & 0o777, 0o700);
  const u = ks.unlock('alice', 'pw');
  ks.saveLedger(u, u.state);
  assert.is(statSync(ks.path('alice')).mode & 0o777, 0o600);
  assert.equal(readdirSync(ks.dir), ['alice.json']);
});

test('wrong passphrase: one clear line, code BAD_PASSPHRASE', () => {
  const ks = fresh();
  ks.create('alice', generateKeyPair().secretKey, 'pw');
  fails(() => ks.unlock('alice', 'wrong'), 'BAD_PASSPHRASE', /^wrong passphrase for wallet "alice"$/);
});

test('tampering is detected: ciphertext, address, kdf parameters, ledger', () => {
  const ks = fresh();
  ks.create('alice', generateKeyPair().secretKey, 'pw');
  const orig = readFileSync(ks.path('alice'), 'utf8');
  const restore = () => writeFileSync(ks.path('alice'), orig);

  tamper(ks, 'alice', (f) => (f.crypto.ciphertext = (f.crypto.ciphertext[0] === '0' ? '1' : '0') + f.crypto.ciphertext.slice(1)));
  fails(() => ks.unlock('alice', 'pw'), 'TAMPERED', /altered or damaged/);
  restore();

  tamper(ks, 'alice', (f) => (f.address = encodeAddress(generateKeyPair().publicKey)));
  fails(() => ks.unlock('alice', 'pw'), 'TAMPERED', /altered/);
  restore();

  tamper(ks, 'alice', (f) => (f.crypto.nonce = '00'.repeat(24)));
  fails(() => ks.unlock('alice', 'pw'), 'TAMPERED', /altered/);
  restore();

  // rolling the seq ledger back would let the wallet sign a second transfer for a used seq
  tamper(ks, 'alice', (f) => (f.state.nextSeq = 5));
  fails(() => ks.unlock('alice', 'pw'), 'TAMPERED', /seq ledger/);
  restore();

  tamper(ks, 'alice', (f) => (f.version = 99));
  fails(() => ks.unlock('alice', 'pw'), 'MALFORMED', /damaged or of an unknown version/);
  restore();

  writeFileSync(ks.path('alice'), '{not json');
  fails(() => ks.read('alice'), 'MALFORMED', /not valid JSON/);
  restore();
  assert.ok(ks.unlock('alice', 'pw'));
});

test('the ledger is sealed on save; statuses change without the passphrase', () => {
  const ks = fresh();
  ks.create('alice', generateKeyPair().secretKey, 'pw');
  const u = ks.unlock('alice', 'pw');
  const t = { id: 'ab'.repeat(32), from: u.address, to: u.address, amount: '5', seq: 1, prev: '00'.repeat(32), memo: '', sig: '00'.repeat(64) };
  ks.saveLedger(u, recordSigned(u.state, t, 'now'));
  ks.updateStatuses('alice', new Map([[t.id, { status: 'final' }]]));
  const again = ks.unlock('alice', 'pw');
  assert.is(again.state.nextSeq, 2);
  assert.is(again.state.head, t.id);
  assert.is(again.state.transfers[0]!.status, 'final');
});

test('history is bounded; unsettled transfers are never dropped', () => {
  const ks = fresh();
  ks.create('alice', generateKeyPair().secretKey, 'pw');
  const u = ks.unlock('alice', 'pw');
  let state = u.state;
  for (let seq = 1; seq <= HISTORY_LIMIT + 5; seq++) {
    const id = seq.toString(16).padStart(64, '0');
    state = recordSigned(state, { id, from: u.address, to: u.address, amount: '1', seq, prev: state.head, memo: '', sig: '00'.repeat(64) }, 'now');
    state.transfers[state.transfers.length - 1]!.status = seq === 1 ? 'pending' : 'stored';
  }
  ks.saveLedger(u, state);
  const kept = ks.unlock('alice', 'pw').state.transfers;
  assert.is(kept.length, HISTORY_LIMIT);
  assert.ok(kept.some((t) => t.transfer.seq === 1), 'the pending seq 1 was kept');
  assert.not.ok(kept.some((t) => t.transfer.seq === 2), 'the oldest settled one was dropped');
});

test('names are checked, and an existing wallet is never overwritten', () => {
  const ks = fresh();
  fails(() => ks.create('../evil', generateKeyPair().secretKey, 'pw'), 'BAD_REQUEST', /wallet name/);
  ks.create('alice', generateKeyPair().secretKey, 'pw');
  fails(() => ks.create('alice', generateKeyPair().secretKey, 'pw'), 'BAD_REQUEST', /already exists/);
  fails(() => ks.create('bob', generateKeyPair().secretKey, ''), 'BAD_REQUEST', /must not be empty/);
  fails(() => ks.read('carol'), 'NOT_FOUND', /no wallet named "carol"/);
});

test('the lock file keeps two signers apart and is released after', async () => {
  const ks = fresh();
  ks.create('alice', generateKeyPair().secretKey, 'pw');
  let inner: unknown;
  await ks.withLock('alice', async () => {
    try {
      await ks.withLock('alice', async () => undefined);
    } catch (e) {
      inner = e;
    }
  });
  assert.instance(inner, CliError);
  assert.match((inner as Error).message, /in use by process/);
  assert.is(await ks.withLock('alice', async () => 42), 42);
  // a lock left by a dead process is taken over
  writeFileSync(`${ks.path('alice')}.lock`, '999999999');
  assert.is(await ks.withLock('alice', async () => 7), 7);
});

test.run();
