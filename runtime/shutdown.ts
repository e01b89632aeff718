// One composition root per daemon registers each started part's stop step here;
// closing runs them in reverse start order, once, and a failing step does not
// keep the later ones (the store's close above all) from running.
import type { Logger } from 'pino';

export type CloseStep = () => Promise<void> | void;

export class Shutdown {
  private readonly steps: CloseStep[] = [];
  private closing: Promise<void> | null = null;
  private readonly log: Logger;
  private readonly what: string;

  constructor(log: Logger, what: string) {
    this.log = log;
    this.what = what;
  }

  /** Registers the stop step of a part that has just started. */
  add(step: CloseStep): void {
    this.steps.push(step);
  }

  /** Stops everything started, in reverse order. Idempotent: later calls share the first. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step();
        } catch (e) {
          this.log.warn({ err: e }, 'close step failed');
        }
      }
      this.log.info(`${this.what} stopped`);
    })();
    return this.closing;
  }
}
