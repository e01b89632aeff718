// The wallet's submission rules (wallet/submission.ts): what moves a transfer forward,
// when it goes again, and when its seq may be given back. Pure: no node, no clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decide, holdsSeq, isSettled, reached, stageRank, type Answer, type Claim, type Proof, type Stage } from '../../wallet/submission.ts';

const P = { resubmitAfterMs: 5_000 };

test('a node\'s bare "final" or "stored" moves nothing: only checked evidence does', () => {
  for (const claim of ['final', 'credited', 'stored'] as const) {
    const d = decide({ stage: 'pending', lastSubmitAt: 0 }, { kind: 'status', claim, proof: 'none' }, 1_000, P);
    assert.is(d.stage, 'pending', claim);
    assert.is(d.action, 'wait');
    assert.match(d.why, /unproven/);
    assert.not.ok(reached(d.stage, 'final'));
  }
  assert.is(decide({ stage: 'pending' }, { kind: 'status', claim: 'final', proof: 'certificate' }, 0, P).stage, 'final');
  assert.is(decide({ stage: 'pending' }, { kind: 'status', claim: 'credited', proof: 'bundle' }, 0, P).stage, 'credited');
  const s = decide({ stage: 'final' }, { kind: 'status', claim: 'stored', proof: 'stored' }, 0, P);
  assert.equal([s.stage, s.action], ['stored', 'done']);
});

test('a stage never goes back, whatever a node says later', () => {
  assert.is(decide({ stage: 'credited', lastSubmitAt: 0 }, { kind: 'status', claim: 'pending', proof: 'none' }, 1, P).stage, 'credited');
  assert.is(decide({ stage: 'final', lastSubmitAt: 0 }, { kind: 'conflict' }, 1, P).stage, 'final', 'a certified transfer cannot lose to a conflict report');
  assert.is(decide({ stage: 'final', lastSubmitAt: 0 }, { kind: 'rejected', reason: 'BAD_PREV', verifiesOnNetwork: false }, 1, P).stage, 'final');
});

test('resubmission: at a command\'s start, when the node forgot it, when nothing moved for a while', () => {
  assert.is(decide({ stage: 'signed' }, { kind: 'start' }, 0, P).action, 'resubmit');
  assert.is(decide({ stage: 'pending', lastSubmitAt: 999 }, { kind: 'start' }, 1_000, P).action, 'resubmit', 'unsettled: at once');
  assert.is(decide({ stage: 'final', lastSubmitAt: 999 }, { kind: 'start' }, 1_000, P).action, 'wait', 'certified moments ago: the network finishes it');
  assert.is(decide({ stage: 'final', lastSubmitAt: 0 }, { kind: 'start' }, 6_000, P).action, 'resubmit', 'certified long ago and not stored: repair');
  assert.is(decide({ stage: 'pending', lastSubmitAt: 999 }, { kind: 'unknown' }, 1_000, P).action, 'resubmit', 'a restarted gateway');
  assert.is(decide({ stage: 'pending', lastSubmitAt: 0 }, { kind: 'status', claim: 'pending', proof: 'none' }, 4_999, P).action, 'wait');
  assert.is(decide({ stage: 'pending', lastSubmitAt: 0 }, { kind: 'status', claim: 'pending', proof: 'none' }, 5_000, P).action, 'resubmit');
  assert.is(decide({ stage: 'stored' }, { kind: 'start' }, 0, P).action, 'done');
});

test('a rejection releases the seq only when the transfer can never verify on that network', () => {
  const wrong = decide({ stage: 'pending' }, { kind: 'rejected', reason: 'BAD_REQUEST', verifiesOnNetwork: false }, 0, P);
  assert.equal([wrong.stage, wrong.action], ['released', 'release']);
  assert.not.ok(holdsSeq(wrong.stage));
  const held = decide({ stage: 'pending' }, { kind: 'rejected', reason: 'INSUFFICIENT_FUNDS', verifiesOnNetwork: true }, 0, P);
  assert.equal([held.stage, held.action], ['rejected', 'stop']);
  assert.ok(holdsSeq(held.stage), 'it may be locked at some custodian: it keeps its seq');
  assert.is(decide({ stage: 'rejected' }, { kind: 'start' }, 0, P).action, 'resubmit', 'the next command tries it again');
  const c = decide({ stage: 'pending' }, { kind: 'conflict' }, 0, P);
  assert.equal([c.stage, c.action], ['conflict', 'stop']);
  for (const s of ['released', 'replaced', 'conflict'] as const) assert.is(decide({ stage: s }, { kind: 'start' }, 0, P).action, 'stop');
});

const claims: Claim[] = ['pending', 'final', 'credited', 'stored'];
const proofs: Proof[] = ['none', 'certificate', 'bundle', 'stored'];
const answer: fc.Arbitrary<Answer> = fc.oneof(
  fc.constant<Answer>({ kind: 'start' }),
  fc.constant<Answer>({ kind: 'unreachable' }),
  fc.constant<Answer>({ kind: 'unknown' }),
  fc.constant<Answer>({ kind: 'conflict' }),
  fc.record({ kind: fc.constant('status' as const), claim: fc.constantFrom(...claims), proof: fc.constantFrom(...proofs) }),
  fc.record({ kind: fc.constant('rejected' as const), reason: fc.constant('X'), verifiesOnNetwork: fc.boolean() }),
);

test('property: settled only on proof, never backwards once settled, and a release never undoes a certificate', () => {
  fc.assert(
    fc.property(fc.array(answer, { maxLength: 30 }), (answers) => {
      let stage: Stage = 'signed';
      let proven = 0;
      for (const a of answers) {
        if (a.kind === 'status') proven = Math.max(proven, { none: 0, certificate: 2, bundle: 3, stored: 4 }[a.proof]);
        const before = stage;
        stage = decide({ stage, lastSubmitAt: 0 }, a, 1, P).stage;
        if (isSettled(before)) assert.ok(stageRank(stage) >= stageRank(before), `${before} -> ${stage}`);
        if (isSettled(stage)) assert.ok(proven >= stageRank(stage), `${stage} without proof`);
        if (stage === 'released' || stage === 'conflict') break;
      }
    }),
  );
});

test.run();
