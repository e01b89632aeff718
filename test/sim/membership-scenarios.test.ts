// Outcomes of the membership scenarios (sim/scenarios): a join flood admits no key the
// flooder made and at most the cap per epoch; a node down for 10+ epochs comes back at
// the current one; dead nodes are evicted and the ring heals with no funds lost; a
// reputation farmer ends no better than a plain false accuser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toHex } from '../../protocol/bytes.ts';
import { runSmall, failures } from './helpers.ts';
import { membershipStats } from '../../sim/membership.ts';
import type { World } from '../../sim/world.ts';

function epochs(w: World) {
  const out = [];
  for (let n = 0; n <= w.mint.currentEpoch().epoch; n++) out.push(w.mint.epoch(n)!);
  return out;
}

test('sybil-flood: 600 joins from one peer admit none of its keys; at most the cap a epoch; transfers all stored', () => {
  const r = runSmall('sybil-flood');
  const w = r.world;
  assert.equal(failures(r), []);
  assert.is(membershipStats.get(w)!.floodJoins, 600);
  const hosts = new Set(w.hosts.map((h) => h.idHex));
  const all = epochs(w);
  for (const e of all) for (const m of e.members) assert.ok(hosts.has(toHex(m)), 'every member is a real node, none a flooded key');
  for (let n = 1; n < all.length; n++) assert.ok(all[n]!.members.length - all[n - 1]!.members.length <= w.params.mint.maxJoinsPerEpoch);
  assert.is(r.summary.transfers.stored, r.summary.transfers.submitted);
});

test('long-absence: a node down while 10+ epochs pass comes back at the current epoch', () => {
  const r = runSmall('long-absence', { transfers: 1000 });
  const w = r.world;
  assert.equal(failures(r), []);
  const crash = w.params.faults.crashes[0]!;
  const missed = epochs(w).filter((e) => e.issuedAt > crash.at * 1000 && e.issuedAt < (crash.at + crash.restartAfter) * 1000).length;
  assert.ok(missed >= 10, `${missed} epochs while it was down`);
  const back = w.hosts.filter((h) => h.crashes > 0);
  assert.is(back.length, 1);
  assert.ok(back[0]!.up);
  assert.is(back[0]!.machine!.currentEpoch().epoch, w.mint.currentEpoch().epoch);
  assert.is(r.summary.transfers.stored, r.summary.transfers.submitted);
});

test('permanent-death: nodes that never return are evicted; the ring heals; no funds lost', () => {
  const r = runSmall('permanent-death', { transfers: 1000 });
  const w = r.world;
  assert.equal(failures(r), []);
  const gone = w.hosts.filter((h) => h.left);
  assert.is(gone.length, 3);
  const last = new Set(w.mint.currentEpoch().members.map(toHex));
  for (const h of gone) assert.not.ok(last.has(h.idHex), `node ${h.index} evicted`);
  assert.is(r.summary.reputation.evicted.length, 3);
  assert.ok(membershipStats.get(w)!.reports > 0);
  assert.is(r.summary.transfers.stored, r.summary.transfers.submitted);
});

test('reputation-farm: 30 self-made reports each earn nothing; the farmers end as low as plain false accusers', () => {
  const r = runSmall('reputation-farm');
  const w = r.world;
  assert.equal(failures(r), []);
  assert.is(membershipStats.get(w)!.selfReports, 60);
  const farmers = new Set(w.hosts.filter((h) => h.role === 'false-accuser').map((h) => h.idHex));
  const events = (w.mint as unknown as { reputationEvents(): readonly { node: Uint8Array; reason: string; delta: number }[] }).reputationEvents();
  assert.not.ok(events.some((e) => farmers.has(toHex(e.node)) && e.delta > 0), 'no reward for a throwaway key');
  const alerts = (w.mint as unknown as { alerts(): readonly unknown[] }).alerts();
  assert.ok(alerts.length >= 60, 'the self-made double spends are alerted all the same');
  assert.ok(r.summary.reputation.falseAccuserMax! < 0);
  assert.ok(r.summary.reputation.honestMin >= 0);
});

test.run();
