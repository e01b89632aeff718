// Talking to the person at the terminal: passphrases, secret keys and the
// waiting spinner. Prompts and spinners go to stderr, so stdout stays clean for
// --json and pipes; without a terminal nothing is asked, and the line says what to set.
import password from '@inquirer/password';
import { createSpinner } from 'nanospinner';
import { CliError } from '../runtime/cli-output.ts';

function interactive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

async function ask(message: string): Promise<string> {
  try {
    return await password({ message, mask: '*' }, { output: process.stderr });
  } catch (e) {
    if ((e as Error).name === 'ExitPromptError') throw new CliError('ABORTED', 'cancelled');
    throw e;
  }
}

/** The passphrase: RINGMINT_PASSPHRASE, else a prompt (twice when creating a wallet). */
export async function passphrase(name: string, confirm = false): Promise<string> {
  const env = process.env.RINGMINT_PASSPHRASE;
  if (env !== undefined) return env;
  if (!interactive()) throw new CliError('BAD_REQUEST', `a passphrase for wallet "${name}" is needed: set RINGMINT_PASSPHRASE or run in a terminal`);
  const first = await ask(`passphrase for wallet "${name}":`);
  if (confirm) {
    const again = await ask('the same passphrase again:');
    if (again !== first) throw new CliError('BAD_REQUEST', 'the two passphrases differ');
  }
  return first;
}

/** A secret key in hex: from a prompt at a terminal, else all of stdin. */
export async function secretKeyInput(): Promise<string> {
  if (interactive()) return (await ask('secret key (64 hex digits):')).trim();
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export type Progress = { update(text: string): void; done(text?: string): void; fail(text?: string): void };

/** A spinner on stderr, only when stderr is a terminal: logs and pipes get no control codes. */
export function progress(text: string, quiet = false): Progress {
  if (quiet || !process.stderr.isTTY) return { update() {}, done() {}, fail() {} };
  const s = createSpinner(text, { stream: process.stderr }).start();
  return {
    update: (t) => void s.update({ text: t }),
    done: (t) => void (t ? s.success({ text: t }) : s.clear()),
    fail: (t) => void (t ? s.error({ text: t }) : s.clear()),
  };
}
