// How every command reports: human lines by default, one JSON object as the last
// line of stdout with --json, and every failure as one clear line on stderr with
// its reason code and a non-zero exit.
import { Rejection } from '../protocol/errors.ts';

/** An expected failure with a reason code; printed as one line, exit 1. */
export class CliError extends Error {
  readonly code: string;
  /** Extra fields for the --json error object (e.g. the transferId of a timed-out send). */
  readonly details: Record<string, unknown> | undefined;
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
}

/** Aligned "key  value" lines for human output. */
export function printFields(rows: readonly (readonly [string, string])[]): void {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

/** A warning for people: stderr, so stdout stays machine-readable. */
export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

export function exitWithError(e: unknown): never {
  const json = process.argv.includes('--json');
  let code = 'ERROR';
  let message = String(e);
  let details: Record<string, unknown> | undefined;
  if (e instanceof CliError || e instanceof Rejection) {
    code = e.code;
    message = e.message;
    if (e instanceof CliError) details = e.details;
  } else if (e instanceof Error) {
    message = e.message;
    if (process.env.RINGMINT_DEBUG) console.error(e.stack);
  }
  if (json) printJson({ ...details, error: code, message });
  console.error(`error: ${message}${code !== 'ERROR' && !message.includes(code) ? ` (${code})` : ''}`);
  process.exit(1);
}
