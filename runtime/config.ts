// Daemon configuration. Precedence: command-line flags > RINGMINT_* environment >
// config.json in the data dir > defaults. Each area keeps its own options type and
// defaults; this file only merges them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Reason, Rejection } from '../protocol/errors.ts';

export const CONFIG_FILE = 'config.json';
export const ENV_PREFIX = 'RINGMINT_';

type Scalar = string | number | boolean | string[];
export type ConfigShape = Record<string, Scalar>;

/** `logLevel` -> `--log-level`, as the flag is typed. */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** `logLevel` -> `RINGMINT_LOG_LEVEL`. */
export function envName(key: string): string {
  return ENV_PREFIX + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

function coerce(key: string, raw: unknown, like: Scalar, source: string): Scalar {
  const bad = (): never => {
    throw new Rejection(Reason.BAD_REQUEST, `${source}: bad value for ${key}: ${JSON.stringify(raw)}`);
  };
  if (Array.isArray(like)) {
    if (Array.isArray(raw)) return raw.map(String);
    if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    return bad();
  }
  if (typeof like === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    return Number.isFinite(n) ? n : bad();
  }
  if (typeof like === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    return bad();
  }
  return typeof raw === 'string' ? raw : bad();
}

export function readConfigFile(dataDir: string): Record<string, unknown> {
  const path = join(dataDir, CONFIG_FILE);
  if (!existsSync(path)) return {};
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('not an object');
    return o as Record<string, unknown>;
  } catch (e) {
    throw new Rejection(Reason.BAD_REQUEST, `${path}: ${(e as Error).message}`);
  }
}

/**
 * Merges the four sources over `defaults`. Unknown keys in the file are rejected
 * (a typo must not silently fall back to a default); flags that are undefined are unset.
 */
export function resolveConfig<T extends ConfigShape>(
  defaults: T,
  sources: { file?: Record<string, unknown>; env?: Record<string, string | undefined>; flags?: Record<string, unknown> },
): T {
  const out: Record<string, Scalar> = { ...defaults };
  const file = sources.file ?? {};
  for (const key of Object.keys(file)) {
    if (!(key in defaults)) throw new Rejection(Reason.BAD_REQUEST, `${CONFIG_FILE}: unknown option ${key}`);
    out[key] = coerce(key, file[key], defaults[key]!, CONFIG_FILE);
  }
  const env = sources.env ?? {};
  for (const key of Object.keys(defaults)) {
    const v = env[envName(key)];
    if (v !== undefined && v !== '') out[key] = coerce(key, v, defaults[key]!, envName(key));
  }
  const flags = sources.flags ?? {};
  for (const key of Object.keys(defaults)) {
    const v = flags[key];
    if (v !== undefined) out[key] = coerce(key, v, defaults[key]!, flagName(key));
  }
  return out as T;
}

/** "127.0.0.1:8080" or ":8080" or "8080" -> host and port. */
export function parseHostPort(s: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(s.trim());
  if (!m) throw new Rejection(Reason.BAD_REQUEST, `expected host:port, got ${s}`);
  const port = Number(m[2]);
  if (port > 65535) throw new Rejection(Reason.BAD_REQUEST, `port out of range: ${s}`);
  return { host: m[1] && m[1].length > 0 ? m[1].replace(/^\[|\]$/g, '') : defaultHost, port };
}
