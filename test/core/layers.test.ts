// Layers import only downward, and no file reaches itself through its imports
// (docs/architecture.md). This test reads every source file's imports (type-only and
// dynamic ones too) and fails on an import that goes up or sideways, or on a circle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * Each folder's rank, from the bottom. A file may import from its own folder and from
 * folders of a lower rank; folders of one rank are siblings and never import each other.
 */
export const LAYERS: Record<string, number> = {
  protocol: 0, // the kernel: bytes, codec, hashes, objects, signatures, ring, genesis, messages
  'node/core': 1, // the node's state machine
  'mint/core': 1, // the mint's state machine
  runtime: 2, // what both daemons run on: store, driver, p2p, HTTP plumbing, metrics, config
  'node/daemon': 3, // the node daemon: wiring
  'mint/daemon': 3, // the mint daemon: wiring
  localnet: 4, // `ringmint devnet`: a mint and nodes as local processes
  wallet: 4, // the wallet's commands
  sim: 5, // the simulator
  bench: 5, // the benchmarks
  cli: 6, // the one `ringmint` entry
};

const FOLDERS = Object.keys(LAYERS).sort((a, b) => b.length - a.length);

export function layerOf(file: string): string | undefined {
  return FOLDERS.find((f) => file === f || file.startsWith(f + '/'));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.\.?\/[^'"]+)['"]/g;

/** Relative imports of one file, resolved to repository paths. */
export function importsOf(file: string, text: string): string[] {
  const noComments = text.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  return [...noComments.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1]!)));
}

/** Upward or sideways imports, as "from -> to" lines. */
export function violations(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, tos] of graph) {
    const lf = layerOf(from);
    if (lf === undefined) continue;
    for (const to of tos) {
      const lt = layerOf(to);
      if (lt === undefined) out.push(`${from} -> ${to} (outside every layer)`);
      else if (lt !== lf && LAYERS[lt]! >= LAYERS[lf]!) out.push(`${from} -> ${to} (${lf} may not import ${lt})`);
    }
  }
  return out;
}

/** Every import circle (a strongly connected group of two or more files, or a self-import). */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, iterative enough for a few hundred files.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(group.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

function repositoryGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const root of new Set(Object.keys(LAYERS).map((l) => l.split('/')[0]!))) {
    for (const f of sources(root)) graph.set(f, importsOf(f, readFileSync(f, 'utf8')));
  }
  return graph;
}

test('every source file lies in a layer', () => {
  const top = readdirSync('.').filter((d) => !d.startsWith('.') && statSync(d).isDirectory() && !['node_modules', 'test', 'docs', 'docker', 'devnet', 'sim-out'].includes(d));
  const stray = top.filter((d) => sources(d).some((f) => layerOf(f) === undefined));
  assert.equal(stray, []);
});

test('layers import only downward', () => {
  assert.equal(violations(repositoryGraph()), []);
});

test('no import circles', () => {
  assert.equal(circles(repositoryGraph()), []);
});

test('the layer check itself catches an upward import and a circle', () => {
  const g = new Map<string, string[]>([
    ['protocol/a.ts', ['node/core/b.ts']],
    ['node/core/b.ts', ['mint/core/c.ts']],
    ['mint/core/c.ts', []],
    ['sim/x.ts', ['sim/y.ts']],
    ['sim/y.ts', ['sim/x.ts']],
  ]);
  assert.equal(violations(g).length, 2);
  assert.equal(circles(g), [['sim/x.ts', 'sim/y.ts']]);
  assert.equal(importsOf('sim/x.ts', "import type { A } from '../protocol/a.ts';\nconst m = await import('./y.ts');"), ['protocol/a.ts', 'sim/y.ts']);
});

test.run();
