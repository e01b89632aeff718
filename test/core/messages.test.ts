// Messages: every variant round-trips byte for byte, and no input whatsoever makes
// the decoder throw anything but a typed Rejection.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { toHex, ZERO32 } from '../../protocol/bytes.ts';
import { MAX_MESSAGE_BYTES } from '../../protocol/codec.ts';
import { Rejection } from '../../protocol/errors.ts';
import { decodeMessage, encodeMessage, MessageTag, type Message } from '../../protocol/messages.ts';
import { messageArb, messageArbs } from './vectors/arbitraries.ts';
import { codeOf, epochRecord, keyOf, NET } from './vectors/fixtures.ts';

const SEED = 20240601;

/** Decodes, and re-throws anything that is not a Rejection (a crash the property must catch). */
function decodeOrRejection(bytes: Uint8Array): Message | Rejection {
  try {
    return decodeMessage(NET, bytes);
  } catch (e) {
    if (e instanceof Rejection) return e;
    throw e;
  }
}

test('there is a generator for every wire tag, and tags are distinct bytes', () => {
  assert.equal(Object.keys(messageArbs).sort(), Object.keys(MessageTag).sort());
  const tags = Object.values(MessageTag);
  assert.is(new Set(tags).size, tags.length);
  for (const t of tags) assert.ok(Number.isInteger(t) && t > 0 && t < 256);
});

test('wire tags are pinned (a retired number is never reused)', () => {
  assert.equal(MessageTag, {
    'vote-request': 1, vote: 2, reject: 3, conflict: 4, certified: 5, 'credit-request': 6, receipt: 7, store: 8, stored: 9,
    lookup: 10, 'lookup-reply': 11, 'account-pull': 12, 'account-state': 13, digest: 14, submit: 15, done: 16,
    notice: 20, join: 21, alert: 22, repudiation: 23, epoch: 24, 'epoch-request': 25, reachability: 26,
  });
});

test('known answer: a lookup is its tag then the 32-byte id', () => {
  const bytes = encodeMessage({ type: 'lookup', transferId: ZERO32 });
  assert.is(toHex(bytes), '0a' + '00'.repeat(32));
  const pull = encodeMessage({ type: 'account-pull', account: new Uint8Array(32).fill(0xab), epoch: 258 });
  assert.is(toHex(pull), '0c' + 'ab'.repeat(32) + '0000000000000102');
});

for (const [type, arb] of Object.entries(messageArbs)) {
  test(`every "${type}" message round-trips byte-identically`, () => {
    fc.assert(
      fc.property(arb as fc.Arbitrary<Message>, (m) => {
        const bytes = encodeMessage(m);
        assert.is(bytes[0], MessageTag[m.type]);
        const back = decodeMessage(NET, bytes);
        assert.equal(back, m);
        assert.equal(toHex(encodeMessage(back)), toHex(bytes));
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
}

test('arbitrary bytes never make decodeMessage throw anything but a Rejection', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
      decodeOrRejection(bytes);
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('arbitrary bytes after a valid tag never make decodeMessage throw anything but a Rejection', () => {
  const tags = Object.values(MessageTag);
  fc.assert(
    fc.property(fc.constantFrom(...tags), fc.uint8Array({ maxLength: 1500 }), (tag, rest) => {
      const bytes = new Uint8Array(rest.length + 1);
      bytes[0] = tag;
      bytes.set(rest, 1);
      decodeOrRejection(bytes);
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test('a mutated valid message is rejected, or decodes to a value whose encoding is exactly those bytes', () => {
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  );
  let decoded = 0;
  fc.assert(
    fc.property(messageArb, fc.array(mutation, { minLength: 1, maxLength: 3 }), (m, muts) => {
      let bytes = encodeMessage(m);
      for (const x of muts) {
        const at = x.at % (bytes.length + 1);
        if (x.op === 'set' && at < bytes.length) {
          bytes = bytes.slice();
          bytes[at] = x.byte;
        } else if (x.op === 'cut') bytes = bytes.slice(0, at);
        else if (x.op === 'insert') bytes = Uint8Array.from([...bytes.subarray(0, at), x.byte, ...bytes.subarray(at)]);
      }
      const r = decodeOrRejection(bytes);
      if (!(r instanceof Rejection)) {
        decoded++;
        // Canonical: one encoding per value, so what decodes re-encodes to the same bytes.
        assert.is(toHex(encodeMessage(r)), toHex(bytes));
      }
    }),
    { seed: SEED, numRuns: 1500 },
  );
  assert.ok(decoded > 0, 'some mutations (e.g. inside a signature) must still decode');
});

test('epoch records may exceed the 64 KiB cap; other messages may not', () => {
  const mint = keyOf('mint');
  const members = Array.from({ length: 2500 }, (_, i) => {
    const b = new Uint8Array(32);
    new DataView(b.buffer).setUint32(0, i + 1);
    return b;
  });
  const record = epochRecord(mint, members, { epoch: 3 });
  const bytes = encodeMessage({ type: 'epoch', record });
  assert.ok(bytes.length > MAX_MESSAGE_BYTES);
  const back = decodeMessage(NET, bytes);
  assert.is(back.type, 'epoch');
  assert.is((back as Extract<Message, { type: 'epoch' }>).record.members.length, 2500);
  // The same size under another tag is refused before any parsing.
  const other = bytes.slice();
  other[0] = MessageTag.digest;
  assert.is(codeOf(() => decodeMessage(NET, other)), 'OVERSIZED');
});

test('an epoch record of another network is refused (WRONG_NETWORK)', () => {
  const record = epochRecord(keyOf('mint'), [keyOf('n1').publicKey], { network: 'othernet', k: 1, q: 1 });
  const bytes = encodeMessage({ type: 'epoch', record });
  assert.is(codeOf(() => decodeMessage(NET, bytes)), 'WRONG_NETWORK');
  assert.is(decodeMessage('othernet', bytes).type, 'epoch');
});

test('an unknown tag or reason code is MALFORMED', () => {
  assert.is(codeOf(() => decodeMessage(NET, Uint8Array.of(99))), 'MALFORMED');
  const bytes = encodeMessage({ type: 'reject', transferId: ZERO32, code: 'SEQ_GAP', detail: 'x' });
  const text = Buffer.from(bytes).toString('latin1').replace('SEQ_GAP', 'SEQ_GAQ');
  assert.is(codeOf(() => decodeMessage(NET, Uint8Array.from(Buffer.from(text, 'latin1')))), 'MALFORMED');
});

test('a long reject detail is cut at a character boundary within 256 bytes', () => {
  const detail = 'é'.repeat(200); // 400 bytes of two-byte characters
  const m = decodeMessage(NET, encodeMessage({ type: 'reject', transferId: ZERO32, code: 'FROZEN', detail }));
  assert.is(m.type, 'reject');
  const got = (m as Extract<Message, { type: 'reject' }>).detail;
  assert.is(got, 'é'.repeat(128));
});

test.run();
