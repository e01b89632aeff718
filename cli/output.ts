// How every command reports: human lines by default, one JSON object as the last
// line of stdout with --json, and every failure as one clear line on stderr with
// its reason code and a non-zero exit.
import { Rejection } from '../node/core/errors.ts';

/** An expected failure with a reason code; printed as one line, exit 1. */
export class CliError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
}

export function exitWithError(e: unknown): never {
  const json = process.argv.includes('--json');
  let code = 'ERROR';
  let message = String(e);
  if (e instanceof CliError || e instanceof Rejection) {
    code = e.code;
    message = e.message;
  } else if (e instanceof Error) {
    message = e.message;
    if (process.env.RINGMINT_DEBUG) console.error(e.stack);
  }
  if (json) printJson({ error: code, message });
  console.error(`error: ${message}${code !== 'ERROR' && !message.includes(code) ? ` (${code})` : ''}`);
  process.exit(1);
}
