// The id filter in front of a node's store reads: never a false "no", rarely a false "maybe".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { IdFilter } from '../../node/core/id-filter.ts';

const id = (label: string): Uint8Array => new Uint8Array(createHash('sha256').update(label).digest());

test('every id added is found, across segments; ids never added are mostly refused', () => {
  const f = new IdFilter();
  const n = 200_000; // past the first two segments (65,536 and 131,072)
  for (let i = 0; i < n; i++) f.add(id(`in-${i}`));
  assert.is(f.count, n);
  for (let i = 0; i < n; i++) if (!f.mayHave(id(`in-${i}`))) assert.unreachable(`id ${i} lost`);
  let maybe = 0;
  const probes = 100_000;
  for (let i = 0; i < probes; i++) if (f.mayHave(id(`out-${i}`))) maybe++;
  assert.ok(maybe / probes < 1 / 64, `false positives ${maybe} of ${probes}`);
  // A few bytes an id (here the third segment is just begun), not the ~100 of a set of hex strings.
  assert.ok(f.bytes / n < 8, `${f.bytes} bytes`);
});

test('an empty filter refuses everything', () => {
  assert.is(new IdFilter().mayHave(id('x')), false);
});

test.run();
