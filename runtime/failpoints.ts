// Named failpoints (after FoundationDB's buggify and TiKV's fail-rs): places in the
// daemons where a test can make the process die at once, as a crash would. Off unless
// RINGMINT_FAILPOINTS names them: `name` fires the first time it is reached, `name@N`
// the N-th time. A process that fires one exits with FAILPOINT_EXIT_CODE, without
// closing anything: what is not durable by then is lost, as in a power cut.
//
// Points (runtime/driver.ts, for every step kind: `submit`, `tick`, `issue`, a message type):
//   persisted:<kind>  after a step's records are durable, before any of its messages leave
//   send:<kind>       before a step's messages are sent (also for steps that persist nothing)

export const FAILPOINTS_ENV = 'RINGMINT_FAILPOINTS';
/** The exit status of a process stopped by a failpoint (distinct from crashes, 1, and fatal store errors, 70). */
export const FAILPOINT_EXIT_CODE = 86;

type Armed = { readonly at: number; hits: number };

export class Failpoints {
  private readonly armed = new Map<string, Armed>();
  private readonly exit: (code: number) => never;

  constructor(spec: string | undefined, exit: (code: number) => never = (code) => process.exit(code)) {
    this.exit = exit;
    for (const part of (spec ?? '').split(',')) {
      const s = part.trim();
      if (s === '') continue;
      const at = s.lastIndexOf('@');
      const name = at > 0 ? s.slice(0, at) : s;
      const n = at > 0 ? Number(s.slice(at + 1)) : 1;
      if (!Number.isInteger(n) || n < 1) throw new Error(`${FAILPOINTS_ENV}: bad count in "${s}" (name or name@N, N >= 1)`);
      this.armed.set(name, { at: n, hits: 0 });
    }
  }

  /** Whether any point is armed: callers skip building names when none is. */
  get enabled(): boolean {
    return this.armed.size > 0;
  }

  /** The names armed, for a startup log line. */
  names(): string[] {
    return [...this.armed].map(([name, a]) => (a.at === 1 ? name : `${name}@${a.at}`));
  }

  /** Reached `name`: exits the process if it is armed and this is its N-th hit. */
  hit(name: string): void {
    const a = this.armed.get(name);
    if (a === undefined) return;
    a.hits++;
    if (a.hits !== a.at) return;
    process.stderr.write(`failpoint ${name}${a.at > 1 ? `@${a.at}` : ''} reached: exiting with ${FAILPOINT_EXIT_CODE}\n`);
    this.exit(FAILPOINT_EXIT_CODE);
  }
}

/** This process's failpoints, from the environment (none in normal runs). */
export const failpoints = new Failpoints(process.env[FAILPOINTS_ENV]);
