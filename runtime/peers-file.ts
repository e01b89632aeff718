// DATA/peers.json: addresses of peers seen connected, so a restarted daemon reaches
// its ring without a DHT walk. A cache: losing it costs a slower restart only.
import { readFileSync, writeFileSync } from 'node:fs';

export const PEERS_FILE = 'peers.json';
/** The file is rewritten this often. */
const PEERS_SAVE_MS = 10_000;
/** At most this many addresses are kept (a peer list must not grow with every peer ever seen). */
const PEERS_KEPT = 256;

export function readPeersFile(path: string): string[] {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, PEERS_KEPT) : [];
  } catch {
    return [];
  }
}

export function writePeersFile(path: string, addrs: string[]): void {
  if (addrs.length === 0) return;
  try {
    writeFileSync(path, JSON.stringify(addrs.slice(0, PEERS_KEPT)) + '\n');
  } catch {
    // a cache: failing to write it costs a slower restart only
  }
}

/** Saves `addrs()` to `path` every PEERS_SAVE_MS; the returned stop saves once more. */
export function keepPeersFile(path: string, addrs: () => string[]): () => void {
  const save = () => writePeersFile(path, addrs());
  const timer = setInterval(save, PEERS_SAVE_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    save();
  };
}
