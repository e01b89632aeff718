// The container healthcheck: GET /healthz (or the path given, e.g. /readyz) on the
// API of the daemon this container runs. The address is taken from RINGMINT_HEALTH_URL,
// else from the `--api host:port` of PID 1's command line, else RINGMINT_API; a
// wildcard host is asked on loopback. Exit 0: healthy; 1: not (with one line why).
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? process.env.RINGMINT_HEALTH_PATH ?? '/healthz';

function apiOfPid1() {
  try {
    const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0');
    const i = args.indexOf('--api');
    return i >= 0 ? args[i + 1] : undefined;
  } catch {
    return undefined;
  }
}

function baseUrl() {
  if (process.env.RINGMINT_HEALTH_URL) return process.env.RINGMINT_HEALTH_URL.replace(/\/$/, '');
  const api = apiOfPid1() ?? process.env.RINGMINT_API ?? '127.0.0.1:7700';
  const m = /^(.*):(\d+)$/.exec(api);
  const host = !m || m[1] === '0.0.0.0' || m[1] === '' || m[1] === '::' || m[1] === '[::]' ? '127.0.0.1' : m[1];
  return `http://${host}:${m ? m[2] : '7700'}`;
}

const url = baseUrl() + path;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
  const body = await res.text();
  if (res.ok) process.exit(0);
  console.log(`${url}: ${res.status} ${body.slice(0, 300)}`);
} catch (e) {
  console.log(`${url}: ${e.message}`);
}
process.exit(1);
