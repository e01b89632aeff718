// Per-object memos (payloads, ids, hex strings, checks passed) kept on the object
// itself, as a private field, instead of in a WeakMap.
//
// Same lifetime as a WeakMap entry: the memo goes when its object goes. But V8 marks a
// WeakMap entry as an ephemeron, far slower than a plain property: a simulation keeps
// tens of millions of them, and their marking was most of every full GC pause (and of
// the concurrent marking) in a 100,000-node run. A private field is invisible to
// spread copies, JSON, Object.keys, Reflect.ownKeys and deep-equality checks: a copy
// starts without a memo, as it would with a WeakMap. It is added to any object through
// a base constructor that returns that object (the class-fields "stamp"), and V8 adds
// and reads it through inline caches: ~2x faster than the non-enumerable symbol
// property (Object.defineProperty, a runtime call) it replaces, where memo writes were
// ~3 % of a daemon's CPU.

/** A base constructor that returns the object it is given, so a subclass's fields land on it. */
class Adopt {
  constructor(o: object) {
    return o;
  }
}

export class Memo<V> {
  readonly get: (o: object) => V | undefined;
  readonly set: (o: object, v: V) => void;
  /** Forgets the memo (the field stays, empty: an object cannot lose a private field). */
  readonly delete: (o: object) => void;

  constructor(name: string) {
    void name; // for readers: what the memo holds
    // One class per memo: each has its own private name.
    class Stamp extends Adopt {
      #memo: V | undefined;
      constructor(o: object, v: V) {
        super(o);
        this.#memo = v;
      }
      static get(o: object): V | undefined {
        return #memo in o ? (o as Stamp).#memo : undefined;
      }
      static set(o: object, v: V): void {
        if (#memo in o) (o as Stamp).#memo = v;
        else new Stamp(o, v);
      }
      static clear(o: object): void {
        if (#memo in o) (o as Stamp).#memo = undefined;
      }
    }
    this.get = Stamp.get;
    this.set = Stamp.set;
    this.delete = Stamp.clear;
  }
}
