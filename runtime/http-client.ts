// A small JSON client for the node and mint HTTP APIs, used by the CLI, the devnet
// and the tests. A 4xx/5xx answer becomes a Rejection-like error with its code.
import { Reason } from '../protocol/errors.ts';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, code: string, message: string, body: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** A request gives up after this long unless told otherwise. */
export const CLIENT_TIMEOUT_MS = 30_000;

export function baseUrl(api: string): string {
  return /^https?:\/\//.test(api) ? api.replace(/\/$/, '') : `http://${api}`;
}

export async function callJson<T = Record<string, unknown>>(
  method: 'GET' | 'POST',
  url: string,
  opts: { body?: unknown; token?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? CLIENT_TIMEOUT_MS),
    });
  } catch (e) {
    const timeout = (e as Error).name === 'TimeoutError';
    throw new ApiError(0, timeout ? Reason.TIMEOUT : Reason.UNAVAILABLE, `${method} ${url}: ${timeout ? 'timed out' : (e as Error).message}`, null);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Prometheus text and the like
  }
  if (res.status >= 400) {
    const b = body as { error?: string; message?: string };
    throw new ApiError(res.status, b?.error ?? `HTTP_${res.status}`, b?.message ?? text, body);
  }
  return { status: res.status, body: body as T };
}
