// Helpers for the end-to-end tests: a devnet in a temp dir, accounts that sign
// transfers, and small polling utilities (bounded in time; no timing asserted).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAddress, encodeAddress } from '../../protocol/address.ts';
import { fromHex, ZERO32, type Bytes } from '../../protocol/bytes.ts';
import { transferToJson, type TransferJson } from '../../protocol/json.ts';
import { sign, TransferCodec, transferId } from '../../protocol/objects.ts';
import { ed25519, generateKeyPair } from '../../protocol/signature.ts';
import { Devnet, type DevnetOptions } from '../../localnet/devnet.ts';
import { callJson } from '../../runtime/http-client.ts';

export function tempDevnet(nodes: number, extra: Partial<DevnetOptions> = {}): Devnet {
  const dir = join(mkdtempSync(join(tmpdir(), 'ringmint-e2e-')), 'devnet');
  return new Devnet({ dir, nodes, fresh: true, logLevel: 'warn', epochIntervalMs: 1_000, ...extra });
}

/**
 * A test hook whose failure is printed: uvu reports a failed hook only as "0 / N".
 * `dir`: a devnet dir whose process logs are printed with it.
 */
export function loudly(fn: () => Promise<void>, dir: () => string | undefined): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (e) {
      const d = dir();
      console.error('test setup failed:', e);
      if (d !== undefined) console.error(devnetLogs(d));
      throw e;
    }
  };
}

/** The last lines of every process log in a devnet dir, for a test that failed to start it. */
export function devnetLogs(dir: string, lines = 30): string {
  let out = '';
  try {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
      const text = readFileSync(join(dir, f), 'utf8').trimEnd().split('\n');
      out += `--- ${f} (last ${Math.min(lines, text.length)} lines)\n${text.slice(-lines).join('\n')}\n`;
    }
  } catch (e) {
    out += `(logs unreadable: ${String(e)})\n`;
  }
  return out;
}

export class Account {
  readonly network: string;
  readonly publicKey: Bytes;
  readonly address: string;
  private readonly signer;
  seq = 0;
  head: Bytes = ZERO32;

  constructor(network: string) {
    const kp = generateKeyPair();
    this.network = network;
    this.signer = ed25519.signer(kp.secretKey);
    this.publicKey = kp.publicKey;
    this.address = encodeAddress(kp.publicKey);
  }

  /** Signs the next transfer; `advance: false` signs another one for the same seq (a double spend). */
  transfer(to: string, amount: bigint, advance = true, memo = ''): TransferJson {
    const t = sign(TransferCodec, this.network, this.signer, {
      from: this.publicKey,
      to: decodeAddress(to),
      amount,
      seq: this.seq + 1,
      prev: this.head,
      memo: new TextEncoder().encode(memo),
    });
    if (advance) {
      this.seq++;
      this.head = transferId(t);
    }
    return transferToJson(t);
  }

  /** After a double spend: the seq was used by `winner`. */
  settle(winner: TransferJson): void {
    this.seq = winner.seq;
    this.head = fromHex(winner.id);
  }
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`);
}

export async function get<T = Record<string, any>>(url: string): Promise<T> {
  return (await callJson<T>('GET', url)).body;
}

export async function post<T = Record<string, any>>(url: string, body: unknown, token?: string): Promise<{ status: number; body: T }> {
  return callJson<T>('POST', url, { body, token });
}
