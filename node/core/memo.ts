// Per-object memos (payloads, ids, hex strings, checks passed) kept on the object
// itself, as a non-enumerable symbol property, instead of in a WeakMap.
//
// Same lifetime as a WeakMap entry: the memo goes when its object goes. But V8 marks a
// WeakMap entry as an ephemeron, far slower than a plain property: a simulation keeps
// tens of millions of them, and their marking was most of every full GC pause (and of
// the concurrent marking) in a 100,000-node run. Non-enumerable, so a spread copy, JSON,
// Object.keys and deep-equality checks never see or carry it: a copy starts without a
// memo, as it would with a WeakMap.

export class Memo<V> {
  private readonly key: symbol;

  constructor(name: string) {
    this.key = Symbol(name);
  }

  get(o: object): V | undefined {
    return (o as Record<symbol, V | undefined>)[this.key];
  }

  set(o: object, v: V): void {
    const r = o as Record<symbol, V | undefined>;
    if (r[this.key] !== undefined) r[this.key] = v;
    else Object.defineProperty(o, this.key, { value: v, writable: true, configurable: true, enumerable: false });
  }

  /** Forgets the memo (the slot stays, empty: deleting a property can make an object slow). */
  delete(o: object): void {
    const r = o as Record<symbol, V | undefined>;
    if (r[this.key] !== undefined) r[this.key] = undefined;
  }
}
