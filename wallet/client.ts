// The wallet's HTTP client for node APIs (docs/api.md). It tries the nodes in
// order until one answers, then stays with it: a gateway remembers the transfers
// it handles, so follow-up questions go to the same node. A node that is down or
// answers 503 is skipped; any other answer, error or not, is the answer.
import { CliError } from '../runtime/cli-output.ts';

/** One request's limit: long enough for a gateway's ?wait, short enough to move on from a hung node. */
export const REQUEST_TIMEOUT_MS = 35_000;

export type HttpAnswer = { status: number; body: Record<string, unknown> };

export class NodeClient {
  private readonly urls: string[];
  private current = 0;
  private readonly timeoutMs: number;

  constructor(urls: string[], timeoutMs = REQUEST_TIMEOUT_MS) {
    if (urls.length === 0) {
      throw new CliError('UNAVAILABLE', 'no node to talk to: give --node URL, set RINGMINT_NODE, or start a devnet (npm start) and run from its folder or with --devnet DIR');
    }
    this.urls = urls;
    this.timeoutMs = timeoutMs;
  }

  /** The node that answered last. */
  get url(): string {
    return this.urls[this.current]!;
  }

  /** Sends a request; returns any HTTP answer but 503; throws CliError(UNAVAILABLE) when no node answers. */
  async request(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<HttpAnswer> {
    const failures: string[] = [];
    for (let i = 0; i < this.urls.length; i++) {
      const idx = (this.current + i) % this.urls.length;
      const url = this.urls[idx]!;
      let res: Response;
      try {
        res = await fetch(url + path, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
        failures.push(`${url} (${cause})`);
        continue;
      }
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        parsed = { message: text.slice(0, 200) };
      }
      if (res.status === 503) {
        failures.push(`${url} (503 ${String(parsed.error ?? '')})`);
        continue;
      }
      this.current = idx;
      return { status: res.status, body: parsed };
    }
    throw new CliError('UNAVAILABLE', `no node answered: ${failures.join(', ')}`);
  }

  /** Like request, but a 4xx becomes CliError(code, message) from the API's `{error, message}`. */
  async call(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    const a = await this.request(method, path, body, timeoutMs);
    if (a.status >= 400) throw apiError(a);
    return a.body;
  }
}

export function apiError(a: HttpAnswer): CliError {
  const code = typeof a.body.error === 'string' ? a.body.error : `HTTP_${a.status}`;
  const message = typeof a.body.message === 'string' && a.body.message ? a.body.message : `the node answered ${a.status}`;
  return new CliError(code, message, { ...a.body, error: undefined, message: undefined });
}
