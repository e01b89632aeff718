// Regression scenarios (sim/scenarios): one per weakness found so far, each judged by
// the invariants that catch it. A scenario whose fix is not in the node code yet is
// listed in EXPECTED_TO_FAIL with the invariant that fails: its test asserts that it
// still fails, so the fix turns the test red and the entry is then removed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { failures } from './helpers.ts';
import { loadScenario } from '../../sim/cli.ts';
import { resolveParams } from '../../sim/params.ts';
import { runSimulation } from '../../sim/run.ts';
import { realMachines } from '../../sim/machines.ts';

/** Scenario -> the invariants it exists to check. */
const REGRESSIONS: Record<string, string[]> = {
  'gateway-crash': ['I9'],
  'spoofed-stored': ['I8', 'I9'],
  'unsigned-future-epochs': ['I9'],
  'zero-balance-vote-flood': ['R1'],
  'forged-submit-flood': ['R1'],
  'unverified-lookup-reply': ['I1', 'I8'],
  'forged-account-state': ['I1', 'I7'],
};

/**
 * Expected to fail until the node code is fixed: scenario -> the invariant that fails on
 * today's code. Remove an entry once its fix is merged (its test then requires a pass).
 */
const EXPECTED_TO_FAIL: Record<string, string> = {
};

/** Regression scenarios run as shipped: their sizes and drain times are what I9 and R1 need. */
const run = (name: string) => runSimulation(resolveParams(loadScenario(name)), { machines: realMachines });

for (const [name, invariants] of Object.entries(REGRESSIONS)) {
  const expected = EXPECTED_TO_FAIL[name];
  test(`${name}: ${expected ? `still fails ${expected} (expected until fixed)` : `${invariants.join(', ')} hold`}`, () => {
    const r = run(name);
    const failed = failures(r);
    if (expected) {
      assert.ok(failed.some((f) => f.startsWith(`${expected} `)), `${name} was expected to fail ${expected} on this code; it now gives ${JSON.stringify(failed)}: remove it from EXPECTED_TO_FAIL`);
    } else {
      assert.equal(failed.filter((f) => invariants.some((i) => f.startsWith(`${i} `))), []);
    }
  });
}

test.run();
