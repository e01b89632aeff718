// DIR/devnet.json: where a running devnet's mint and nodes answer. Written by
// `ringmint devnet`, read by every command that takes --devnet (wallet included).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Reason, Rejection } from '../protocol/errors.ts';

export const DEVNET_FILE = 'devnet.json';
export const DEFAULT_DEVNET_DIR = './devnet';

export type DevnetNode = { api: string; peerId: string; nodeId: string; pid: number; data: string };
export type DevnetFile = {
  /** Path of the genesis file. */
  genesis: string;
  mint: { api: string; token: string; pid: number; peerId: string; multiaddr: string; data: string };
  nodes: DevnetNode[];
  /**
   * True when every API listed answered when the file was written. `ringmint devnet`
   * writes the file first once all answer, and rewrites it (false, then true) while a
   * process it restarts comes back.
   */
  ready?: boolean;
};

export function devnetPath(dir: string): string {
  return join(resolve(dir), DEVNET_FILE);
}

export function writeDevnetFile(dir: string, f: DevnetFile): void {
  const path = devnetPath(dir);
  writeFileSync(path + '.tmp', JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
  renameSync(path + '.tmp', path);
}

/** Reads DIR/devnet.json; throws Rejection(NOT_FOUND) when there is none. */
export function readDevnetFile(dir: string = DEFAULT_DEVNET_DIR): DevnetFile {
  const path = devnetPath(dir);
  if (!existsSync(path)) throw new Rejection(Reason.NOT_FOUND, `no devnet at ${dir} (start one with \`npm start\` or \`ringmint devnet\`)`);
  try {
    const f = JSON.parse(readFileSync(path, 'utf8')) as DevnetFile;
    if (!f.mint || !Array.isArray(f.nodes)) throw new Error('missing mint or nodes');
    return f;
  } catch (e) {
    throw new Rejection(Reason.BAD_REQUEST, `${path}: ${(e as Error).message}`);
  }
}

/** The devnet in `dir` if given, else ./devnet when present, else null. */
export function findDevnet(dir?: string): DevnetFile | null {
  if (dir !== undefined) return readDevnetFile(dir);
  return existsSync(devnetPath(DEFAULT_DEVNET_DIR)) ? readDevnetFile(DEFAULT_DEVNET_DIR) : null;
}
