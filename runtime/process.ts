// Process plumbing shared by the node and mint commands: the logger and a clean stop
// on SIGINT/SIGTERM (finish in-flight writes, close the store, stop libp2p).
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function makeLogger(level: string, name: string): Logger {
  const lvl = (LOG_LEVELS as readonly string[]).includes(level) ? level : 'info';
  return pino({ level: lvl, name, base: { pid: process.pid } });
}

/** Calls `close` once on the first SIGINT or SIGTERM, then exits; a second signal exits at once. */
export function stopOnSignals(close: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ sig }, 'stopping');
    close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
