// Notice verification (protocol.md §6). A node that sees a conflict reports it; the mint
// checks the evidence itself, then relays one alert per offence (per (from, seq)
// for a double spend, per node for an equivocation) or repudiates the notice.
import { equal, toHex, type Bytes } from '../../protocol/bytes.ts';
import { sha256 } from '../../protocol/hash.ts';
import {
  NoticeCodec, TransferCodec, VoteCodec, payload, verify,
  type Alert, type Evidence, type Notice, type Repudiation,
} from '../../protocol/objects.ts';
import type { Ring } from '../../protocol/ring.ts';
import type { Verifier } from '../../protocol/signature.ts';
import type { LogEntry, NoticeVerdict } from './mint-log.ts';

export type EvidenceCheck = { readonly ok: true; readonly key: string } | { readonly ok: false; readonly why: string };

/** Ids computed under the mint's own network: objects from any source check alike. */
function transferIdIn(network: string, t: Parameters<typeof TransferCodec.write>[1]): Bytes {
  return sha256(payload(TransferCodec, network, t));
}
export function noticeHashIn(network: string, n: Notice): Bytes {
  return sha256(payload(NoticeCodec, network, n));
}

/**
 * The offence an evidence proves, as a key (one alert per key), or why it does not.
 * `ringOf` gives the ring of an epoch the mint made (undefined for an unknown one).
 */
export function checkEvidence(network: string, verifier: Verifier, ringOf: (epoch: number) => Ring | undefined, e: Evidence): EvidenceCheck {
  if (e.kind === 'double-spend') {
    const { t1, t2 } = e;
    if (!equal(t1.from, t2.from)) return { ok: false, why: 'transfers are from different accounts' };
    if (t1.seq !== t2.seq) return { ok: false, why: 'transfers have different seq' };
    if (equal(transferIdIn(network, t1), transferIdIn(network, t2))) return { ok: false, why: 'the two transfers are the same' };
    if (!verify(TransferCodec, network, verifier, t1.from, t1)) return { ok: false, why: 'first transfer not signed by its sender' };
    if (!verify(TransferCodec, network, verifier, t2.from, t2)) return { ok: false, why: 'second transfer not signed by its sender' };
    return { ok: true, key: offenceKey(e) };
  }
  const { v1, v2 } = e;
  if (!equal(v1.voter, v2.voter)) return { ok: false, why: 'votes are by different voters' };
  if (!equal(v1.from, v2.from) || v1.seq !== v2.seq || v1.epoch !== v2.epoch) return { ok: false, why: 'votes are for different (from, seq, epoch)' };
  if (equal(v1.transferId, v2.transferId)) return { ok: false, why: 'votes are for the same transfer' };
  const ring = ringOf(v1.epoch);
  if (!ring) return { ok: false, why: `votes name epoch ${v1.epoch}, which the mint never made` };
  // A vote by a non-custodian is void anyway; blaming its signer for it would be false punishment.
  if (!ring.isCustodian(v1.voter, v1.from)) return { ok: false, why: 'voter is not a custodian of the account in that epoch' };
  if (!verify(VoteCodec, network, verifier, v1.voter, v1)) return { ok: false, why: 'first vote not signed by its voter' };
  if (!verify(VoteCodec, network, verifier, v2.voter, v2)) return { ok: false, why: 'second vote not signed by its voter' };
  return { ok: true, key: offenceKey(e) };
}

/** One alert per offence: a double spend is (from, seq); an equivocation is the node itself. */
export function offenceKey(e: Evidence): string {
  return e.kind === 'double-spend' ? `ds:${toHex(e.t1.from)}:${e.t1.seq}` : `eq:${toHex(e.v1.voter)}`;
}

/** The node an equivocation evidence convicts, if that is its kind. */
export function equivocator(e: Evidence): Bytes | undefined {
  return e.kind === 'equivocation' ? e.v1.voter : undefined;
}

export type NoticeLine = { readonly notice: Notice; readonly verdict: NoticeVerdict; readonly at: number };

/** Judged notices, alerts by offence, and which reporters were already credited for which offence. */
export class NoticeDesk {
  private readonly network: string;
  private readonly byHash = new Map<string, Extract<LogEntry, { kind: 'notice' }>>();
  private readonly alertByKey = new Map<string, Alert>();
  private readonly credited = new Set<string>();
  private readonly lines: NoticeLine[] = [];
  private readonly alertList: Alert[] = [];
  private lastAlertSeq = 0;

  constructor(network: string) {
    this.network = network;
  }

  /** An earlier judgement of this very notice (retries are answered the same, changing nothing). */
  judged(hash: string): Extract<LogEntry, { kind: 'notice' }> | undefined {
    return this.byHash.get(hash);
  }
  alertFor(key: string): Alert | undefined {
    return this.alertByKey.get(key);
  }
  /** A reporter earns the duplicate bonus once per offence, so resending cannot farm points. */
  wasCredited(reporter: Bytes, key: string): boolean {
    return this.credited.has(`${toHex(reporter)}/${key}`);
  }
  nextAlertSeq(): number {
    return this.lastAlertSeq + 1;
  }

  apply(entry: Extract<LogEntry, { kind: 'notice' }>, key: string | undefined): void {
    this.byHash.set(toHex(noticeHashIn(this.network, entry.notice)), entry);
    this.lines.push({ notice: entry.notice, verdict: entry.verdict, at: entry.at });
    if (key !== undefined && entry.verdict !== 'repudiated') this.credited.add(`${toHex(entry.notice.reporter)}/${key}`);
    if (entry.verdict === 'alert') {
      this.alertByKey.set(key!, entry.alert);
      this.alertList.push(entry.alert);
      this.lastAlertSeq = Math.max(this.lastAlertSeq, entry.alert.alertSeq);
    }
  }

  /** Graylisted notices are listed but never logged: a flood of them must cost the mint nothing durable. */
  noteGraylisted(notice: Notice, at: number): void {
    this.lines.push({ notice, verdict: 'graylisted', at });
    if (this.lines.length > NOTICE_VIEW_LIMIT) this.lines.splice(0, this.lines.length - NOTICE_VIEW_LIMIT);
  }

  notices(): readonly NoticeLine[] {
    return this.lines;
  }
  alerts(): readonly Alert[] {
    return this.alertList;
  }
  repudiationOf(hash: string): Repudiation | undefined {
    const e = this.byHash.get(hash);
    return e?.verdict === 'repudiated' ? e.repudiation : undefined;
  }
}

/**
 * Lines kept in the notices view once graylisted ones are added. Judged notices
 * are durable in the log anyway; the view is for the operator's recent history.
 */
export const NOTICE_VIEW_LIMIT = 100_000;
