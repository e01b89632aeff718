import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Scheduler } from '../../sim/scheduler.ts';
import { Prng, Zipf } from '../../sim/prng.ts';
import { resolveParams } from '../../sim/params.ts';

test('scheduler pops by time, then by scheduling order', () => {
  const s = new Scheduler();
  const seen: number[] = [];
  s.at(5, 1, 0, 0, 'a');
  s.at(1, 1, 1, 0, 'b');
  s.at(5, 1, 2, 0, 'c');
  s.at(3, 1, 3, 0, 'd');
  s.at(5, 1, 4, 0, 'e');
  while (s.pop(Infinity)) seen.push(s.a);
  assert.equal(seen, [1, 3, 0, 2, 4]);
  assert.is(s.time, 5);
});

test('scheduler keeps order through growth and interleaved pops', () => {
  const s = new Scheduler();
  const r = new Prng(7);
  const times: number[] = [];
  for (let i = 0; i < 20000; i++) s.at(r.int(1000), 0, i, 0, null);
  let last = -1;
  let lastSeq = -1;
  while (s.pop(Infinity)) {
    assert.ok(s.time >= last);
    if (s.time === last) assert.ok(s.a > lastSeq, 'ties run in scheduling order');
    last = s.time;
    lastSeq = s.a;
    times.push(s.time);
    if (times.length % 3 === 0 && times.length < 10000) s.after(r.int(50), 0, 1_000_000 + times.length, 0, null);
  }
  assert.ok(times.length > 20000);
});

test('scheduler stops at the horizon', () => {
  const s = new Scheduler();
  s.at(10, 0, 0, 0, null);
  s.at(20, 0, 1, 0, null);
  assert.ok(s.pop(15));
  assert.not.ok(s.pop(15));
  assert.is(s.pending, 1);
});

test('prng: same seed same stream, other seed other stream, forks independent of draws', () => {
  const a = new Prng('x');
  const b = new Prng('x');
  const c = new Prng('y');
  const va = Array.from({ length: 10 }, () => a.u32());
  assert.equal(va, Array.from({ length: 10 }, () => b.u32()));
  assert.not.equal(va, Array.from({ length: 10 }, () => c.u32()));
  for (let i = 0; i < 1000; i++) {
    const x = a.next();
    assert.ok(x >= 0 && x < 1);
  }
});

test('zipf favours low ranks and stays in range', () => {
  const z = new Zipf(100, 1.2);
  const r = new Prng(3);
  const counts = new Array(100).fill(0);
  for (let i = 0; i < 20000; i++) counts[z.sample(r)]++;
  assert.ok(counts[0] > counts[10] && counts[10] > counts[90]);
  assert.is(counts.reduce((x: number, y: number) => x + y, 0), 20000);
});

test('params: unknown knobs and bad quorums are refused with the knob named', () => {
  assert.throws(() => resolveParams({ nodes: 4, bogus: 1 }), /bogus/);
  assert.throws(() => resolveParams({ network: { loss: 2 } }), /network\.loss/);
  assert.throws(() => resolveParams({ k: 4, q: 2 }), /2q > k/);
  const p = resolveParams({ network: { latency: { model: 'constant', ms: 7 } } });
  assert.equal(p.network.latency, { model: 'constant', ms: 7 });
});

test.run();
