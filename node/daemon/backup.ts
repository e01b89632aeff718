// Backups of a node's store (docs/operators.md, Backup and restore). A backup is one
// LevelDB snapshot of a running node, streamed: a JSON header line, then each record
// as u32 key length, key, u32 value length, value, then an end mark (u32 0xffffffff),
// the record count (u32) and the SHA-256 of every byte before the end mark, so a cut
// or altered file is refused. It holds no secret key: the node key is backed up once,
// apart. A restore writes the records into a fresh store beside the old one, marks it
// restored (node/core/record-keys.ts RESTORED_KEY: the node re-syncs every account from
// its co-custodians before voting on it, protocol.md §8) and swaps it in.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { GenesisJson } from '../../protocol/genesis.ts';
import { restoredMarkRecords } from '../core/record-keys.ts';
import { Store } from '../../runtime/store.ts';
import { NODE_KEY_FILE, readKeyFile } from '../../runtime/keys.ts';
import { GENESIS_FILE } from '../../runtime/genesis-file.ts';

export const BACKUP_FORMAT = 'ringmint-node-backup';
export const BACKUP_VERSION = 1;
const END = 0xffffffff;
/** Records and header are refused past these sizes (a record is a few KB; a bundle the largest). */
const MAX_KEY_BYTES = 1024;
const MAX_VALUE_BYTES = 1 << 20;
const MAX_HEADER_BYTES = 1 << 20;
/** Bytes gathered before a chunk is handed to the stream. */
const CHUNK_BYTES = 64 * 1024;
/** Records written to the new store per batch. */
const RESTORE_BATCH = 5_000;

export type BackupHeader = {
  readonly format: typeof BACKUP_FORMAT;
  readonly version: number;
  readonly network: string;
  readonly nodeId: string;
  readonly createdAt: string;
  readonly genesis: GenesisJson;
};

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** The backup of `records` (one store snapshot) as a stream of chunks. */
export async function* backupChunks(header: BackupHeader, records: AsyncIterable<[string, Bytes]>): AsyncIterable<Uint8Array> {
  const hash = createHash('sha256');
  let parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array): void => {
    hash.update(b);
    parts.push(b);
    size += b.length;
  };
  const flush = (): Uint8Array => {
    const out = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    return out;
  };
  push(Buffer.from(JSON.stringify(header) + '\n'));
  let count = 0;
  for await (const [k, v] of records) {
    const key = Buffer.from(k);
    push(u32(key.length));
    push(key);
    push(u32(v.length));
    push(v);
    count++;
    if (size >= CHUNK_BYTES) yield flush();
  }
  parts.push(u32(END), u32(count), hash.digest());
  size += 4 + 4 + 32;
  yield flush();
}

/** Reads exactly n bytes at a time from a byte stream. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private readonly hash: Hash;
  constructor(src: AsyncIterable<Buffer>, hash: Hash) {
    this.it = src[Symbol.asyncIterator]();
    this.hash = hash;
  }
  private async fill(n: number): Promise<void> {
    while (this.buf.length < n) {
      const r = await this.it.next();
      if (r.done) throw new Rejection(Reason.BAD_REQUEST, 'backup file is cut short (no end mark): not a whole backup');
      this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    }
  }
  async take(n: number, hashed = true): Promise<Buffer> {
    await this.fill(n);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    if (hashed) this.hash.update(out);
    return out;
  }
  async line(max: number): Promise<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(0x0a);
      if (i >= 0) return this.take(i + 1);
      if (this.buf.length > max) throw new Rejection(Reason.BAD_REQUEST, 'not a ringmint backup (no header line)');
      await this.fill(this.buf.length + 1);
    }
  }
  async atEnd(): Promise<boolean> {
    if (this.buf.length > 0) return false;
    const r = await this.it.next();
    if (r.done) return true;
    this.buf = r.value;
    return this.buf.length === 0 ? this.atEnd() : false;
  }
}

/** Parses a backup; `onRecord` sees each record as it is read. Throws on a bad or cut file, after the records read so far. */
export async function readBackup(
  src: AsyncIterable<Buffer>,
  onRecord: (key: string, value: Bytes) => Promise<void> | void,
  onHeader: (h: BackupHeader) => void = () => {},
): Promise<{ header: BackupHeader; records: number }> {
  const hash = createHash('sha256');
  const r = new Reader(src, hash);
  let header: BackupHeader;
  try {
    header = JSON.parse((await r.line(MAX_HEADER_BYTES)).toString('utf8')) as BackupHeader;
  } catch (e) {
    if (e instanceof Rejection) throw e;
    throw new Rejection(Reason.BAD_REQUEST, 'not a ringmint backup (bad header)');
  }
  if (header.format !== BACKUP_FORMAT) throw new Rejection(Reason.BAD_REQUEST, 'not a ringmint node backup');
  if (header.version !== BACKUP_VERSION) throw new Rejection(Reason.BAD_REQUEST, `backup version ${header.version} is not supported (this build reads ${BACKUP_VERSION})`);
  onHeader(header);
  let count = 0;
  for (;;) {
    const head = await r.take(4, false);
    const keyLen = head.readUInt32BE(0);
    if (keyLen === END) break;
    hash.update(head);
    if (keyLen === 0 || keyLen > MAX_KEY_BYTES) throw new Rejection(Reason.BAD_REQUEST, `backup record ${count + 1}: bad key length ${keyLen}`);
    const key = (await r.take(keyLen)).toString('utf8');
    const valueLen = (await r.take(4)).readUInt32BE(0);
    if (valueLen > MAX_VALUE_BYTES) throw new Rejection(Reason.BAD_REQUEST, `backup record ${count + 1}: bad value length ${valueLen}`);
    const value = Uint8Array.from(await r.take(valueLen));
    await onRecord(key, value);
    count++;
  }
  const want = (await r.take(4, false)).readUInt32BE(0);
  const digest = await r.take(32, false);
  if (want !== count) throw new Rejection(Reason.BAD_REQUEST, `backup says ${want} records, holds ${count}`);
  if (!hash.digest().equals(digest)) throw new Rejection(Reason.BAD_REQUEST, 'backup checksum does not match: the file was altered or damaged');
  if (!(await r.atEnd())) throw new Rejection(Reason.BAD_REQUEST, 'bytes after the end of the backup');
  return { header, records: count };
}

export type RestoreResult = { nodeId: string; network: string; records: number; createdAt: string; previous: string | null };

/**
 * Restores the backup `file` into the node data dir `dir`: the node must be stopped
 * (its store is locked while it runs) and `dir` must hold the key of the node the
 * backup is of. The current store, if any, is kept beside as db.before-restore-<time>.
 */
export async function restoreNode(dir: string, file: string, now: Date = new Date()): Promise<RestoreResult> {
  if (!existsSync(file)) throw new Rejection(Reason.NOT_FOUND, `no backup file ${file}`);
  const keyPath = join(dir, NODE_KEY_FILE);
  if (!existsSync(keyPath)) throw new Rejection(Reason.BAD_REQUEST, `${dir} has no ${NODE_KEY_FILE}: a backup holds no secret key; copy the node's key file there first`);
  const nodeId = toHex(readKeyFile(keyPath).publicKey);
  const dbPath = join(dir, 'db');
  // A running node holds its store's lock: refuse rather than restore under it.
  if (existsSync(dbPath)) {
    let s: Store;
    try {
      s = await Store.open(dbPath);
    } catch (e) {
      throw new Rejection(Reason.CONFLICT, `the store in ${dir} is in use (${(e as Error).message}): stop the node first`);
    }
    await s.close();
  }
  const staging = join(dir, 'db.restoring');
  rmSync(staging, { recursive: true, force: true });
  const store = await Store.open(staging);
  let result: { header: BackupHeader; records: number };
  const resynced: string[] = [];
  try {
    let batch: { key: string; value: Bytes | null }[] = [];
    const onRecord = async (key: string, value: Bytes): Promise<void> => {
      if (key.startsWith('r/')) resynced.push(key);
      batch.push({ key, value });
      if (batch.length >= RESTORE_BATCH) {
        const b = batch;
        batch = [];
        await store.commit(b);
      }
    };
    result = await readBackup(createReadStream(file) as AsyncIterable<Buffer>, onRecord, (h) => {
      if (h.nodeId !== nodeId) throw new Rejection(Reason.BAD_REQUEST, `the backup is of node ${h.nodeId}, the key in ${dir} is node ${nodeId}`);
    });
    if (batch.length > 0) await store.commit(batch);
    // Restored: re-sync before voting (and forget any re-sync the backup itself recorded).
    await store.commit(restoredMarkRecords(resynced, now.getTime()));
    await store.close();
  } catch (e) {
    await store.close();
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  let previous: string | null = null;
  if (existsSync(dbPath)) {
    previous = `${dbPath}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
    renameSync(dbPath, previous);
  }
  renameSync(staging, dbPath);
  if (!existsSync(join(dir, GENESIS_FILE))) writeFileSync(join(dir, GENESIS_FILE), JSON.stringify(result.header.genesis, null, 2) + '\n');
  return { nodeId, network: result.header.network, records: result.records, createdAt: result.header.createdAt, previous };
}
