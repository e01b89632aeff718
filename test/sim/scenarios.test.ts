import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runSmall, failures } from './helpers.ts';

test('baseline: every transfer stored, all invariants hold', () => {
  const r = runSmall('baseline');
  const t = r.summary.transfers;
  assert.equal(failures(r), []);
  assert.ok(t.submitted > 200);
  assert.is(t.stored, t.submitted);
  assert.ok(r.summary.latencyMs.final.p50 > 0);
});

test('double-spend-storm: every attempt detected and alerted, none certified twice', () => {
  const r = runSmall('double-spend-storm', { adversaries: { doubleSpenders: 12 } });
  const d = r.summary.doubleSpend;
  assert.equal(failures(r), []);
  assert.is(d.attempted, 12);
  assert.is(d.detected, d.attempted);
  assert.is(d.alerted, d.attempted);
  assert.is(d.certifiedBoth, 0);
});

test('false-accuser: accusers end negative, honest nodes never below 0', () => {
  const r = runSmall('false-accuser');
  assert.equal(failures(r), []);
  assert.ok(r.summary.adversaries.accusations > 0);
  assert.ok(r.summary.reputation.falseAccuserMax! < 0);
  assert.ok(r.summary.reputation.honestMin >= 0);
});

test('byzantine-custodian: the equivocator is caught, evicted, and no double spend is certified', () => {
  const r = runSmall('byzantine-custodian', { adversaries: { doubleSpenders: 20, equivocators: 1 } });
  assert.equal(failures(r), []);
  assert.ok(r.summary.adversaries.equivocations > 0);
  assert.is(r.summary.doubleSpend.certifiedBoth, 0);
  // The losing gateway finds the equivocator's other vote in the winner's stored certificate.
  assert.ok(r.summary.reputation.evicted.some((e: string) => e.includes('equivocator')), 'the equivocator is evicted');
});

test('crash-restart, partition-heal, lossy-wan, churn: invariants hold, every transfer stored', () => {
  for (const name of ['crash-restart', 'partition-heal', 'lossy-wan', 'churn']) {
    const r = runSmall(name, { transfers: 150 });
    assert.equal(failures(r), [], name);
    assert.is(r.summary.transfers.stored, r.summary.transfers.submitted, name);
    if (name === 'churn') {
      assert.ok(r.summary.epochs > 0, 'churn makes new epochs');
      assert.ok(r.summary.reputation.admitted > 0);
    }
  }
});

test.run();
