// Callers waiting for a transfer to reach a status (HTTP `?wait=`): woken by the
// machine's status events, or answered with the latest view at their timeout.
import { toHex, type Bytes } from '../protocol/bytes.ts';
import { isEnd, reached, type WaitLevel } from '../protocol/wait-levels.ts';

type Waiter<V> = { readonly level: WaitLevel; resolve(v: V | undefined): void };

export class StatusWaiters<V extends { readonly status: string }> {
  private readonly waiters = new Map<string, Set<Waiter<V>>>();
  private readonly view: (id: Bytes) => V | undefined;

  /** `view` reads a transfer's latest view (the machine's). */
  constructor(view: (id: Bytes) => V | undefined) {
    this.view = view;
  }

  /** Resolves once the transfer reached `level` or an end, or after `timeoutMs` with the latest view. */
  waitFor(id: Bytes, level: WaitLevel, timeoutMs: number): Promise<V | undefined> {
    const now = this.view(id);
    if (now && (isEnd(now.status) || reached(now.status, level))) return Promise.resolve(now);
    const key = toHex(id);
    return new Promise((res) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const w: Waiter<V> = {
        level,
        resolve: (v) => {
          clearTimeout(timer);
          set.delete(w);
          if (set.size === 0) this.waiters.delete(key);
          res(v);
        },
      };
      const timer = setTimeout(() => w.resolve(this.view(id)), timeoutMs);
      set.add(w);
    });
  }

  /** A status event: wakes the waiters it satisfies. */
  wake(id: Bytes, status: string): void {
    const set = this.waiters.get(toHex(id));
    if (!set) return;
    const end = isEnd(status);
    for (const w of [...set]) if (end || reached(status, w.level)) w.resolve(this.view(id));
  }

  /** At shutdown: every waiter is answered with what is known now, so closing HTTP does not wait out their timeouts. */
  releaseAll(): void {
    for (const [key, set] of this.waiters) {
      const id = Uint8Array.from(Buffer.from(key, 'hex'));
      for (const w of [...set]) w.resolve(this.view(id));
    }
  }
}
