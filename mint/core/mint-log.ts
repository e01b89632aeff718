// The mint's durable log. Every state change is one numbered entry; the machine
// applies an entry the same way live and on restore, so a restored mint is the
// same mint (protocol.md §8). Entries carry results (signed objects, exact scores), never
// inputs to recompute, so replay needs no clock and no signing.
import type { Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import { assert } from '../../protocol/assert.ts';
import type { ReputationEvent } from './api.ts';
import { Writer, type Reader } from '../../protocol/codec.ts';
import {
  decodeWith, Limits,
  readAlert, readEpoch, readNotice, readRepudiation, readTransfer,
  writeAlert, writeEpoch, writeNotice, writeRepudiation, writeTransfer,
  type Alert, type EpochRecord, type Notice, type Repudiation, type Transfer,
} from '../../protocol/objects.ts';
import type { PersistRecord, RecordSource } from '../../protocol/ports.ts';
import { readReputationEvent, writeReputationEvent } from './reputation.ts';

export type NoticeVerdict = 'alert' | 'duplicate' | 'repudiated' | 'graylisted';

export type LogEntry =
  | { readonly kind: 'issued'; readonly transfer: Transfer }
  | { readonly kind: 'notice'; readonly notice: Notice; readonly at: number; readonly verdict: 'alert'; readonly alert: Alert }
  | { readonly kind: 'notice'; readonly notice: Notice; readonly at: number; readonly verdict: 'duplicate' }
  | { readonly kind: 'notice'; readonly notice: Notice; readonly at: number; readonly verdict: 'repudiated'; readonly repudiation: Repudiation }
  | { readonly kind: 'reputation'; readonly event: ReputationEvent }
  | { readonly kind: 'epoch'; readonly record: EpochRecord }
  | { readonly kind: 'admitted'; readonly node: Bytes }
  /** Every issuance up to `seq` was seen stored: a restart re-drives only those above (redrive.ts). */
  | { readonly kind: 'settled'; readonly seq: number };

/** Key prefix of the log in the mint's store; keys sort in entry order. */
export const LOG_PREFIX = 'mint/log/';
/** Zero-padded entry numbers: 16 digits sort correctly up to 10^16 entries. */
const KEY_DIGITS = 16;

export function logKey(n: number): string {
  return LOG_PREFIX + String(n).padStart(KEY_DIGITS, '0');
}

const KIND = { issued: 1, notice: 2, reputation: 3, epoch: 4, admitted: 5, settled: 6 } as const;
const VERDICT = { alert: 1, duplicate: 2, repudiated: 3 } as const;

function writeEntry(w: Writer, e: LogEntry): void {
  w.u8(KIND[e.kind]);
  switch (e.kind) {
    case 'issued': return writeTransfer(w, e.transfer);
    case 'notice':
      w.u8(VERDICT[e.verdict]).u64n(e.at);
      writeNotice(w, e.notice);
      if (e.verdict === 'alert') writeAlert(w, e.alert);
      else if (e.verdict === 'repudiated') writeRepudiation(w, e.repudiation);
      return;
    case 'reputation': return writeReputationEvent(w, e.event);
    case 'epoch': return writeEpoch(w, e.record);
    case 'admitted': w.fixed(e.node, 32); return;
    case 'settled': w.u64n(e.seq); return;
  }
}

function readEntry(r: Reader): LogEntry {
  const kind = r.u8();
  switch (kind) {
    case KIND.issued: return { kind: 'issued', transfer: readTransfer(r) };
    case KIND.notice: {
      const v = r.u8();
      const at = r.u64n();
      const notice = readNotice(r);
      if (v === VERDICT.alert) return { kind: 'notice', notice, at, verdict: 'alert', alert: readAlert(r) };
      if (v === VERDICT.duplicate) return { kind: 'notice', notice, at, verdict: 'duplicate' };
      if (v === VERDICT.repudiated) return { kind: 'notice', notice, at, verdict: 'repudiated', repudiation: readRepudiation(r) };
      throw new Rejection(Reason.MALFORMED, `unknown notice verdict ${v}`);
    }
    case KIND.reputation: return { kind: 'reputation', event: readReputationEvent(r) };
    case KIND.epoch: return { kind: 'epoch', record: readEpoch(r) };
    case KIND.admitted: return { kind: 'admitted', node: r.fixed(32) };
    case KIND.settled: return { kind: 'settled', seq: r.u64n() };
  }
  throw new Rejection(Reason.MALFORMED, `unknown mint log entry ${kind}`);
}

export function encodeEntry(e: LogEntry): Bytes {
  const w = new Writer(256);
  writeEntry(w, e);
  return w.finish();
}

export function entryRecord(n: number, e: LogEntry): PersistRecord {
  return { key: logKey(n), value: encodeEntry(e) };
}

/** The log in order; entries are decoded strictly, a corrupt one stops the restore loudly. */
export function* readLog(network: string, source: RecordSource): Iterable<LogEntry> {
  let n = 0;
  for (const [key, value] of source.entries(LOG_PREFIX)) {
    n++;
    // The log is dense from 1: a gap or a stray key means the store is not this mint's log.
    assert(key === logKey(n), `mint log: expected record ${logKey(n)}, found ${key}`);
    yield decodeWith(network, value, readEntry, Limits.EPOCH_RECORD_BYTES);
  }
}
