// Reachability reports (protocol.md §7, Failure detection): a member tells the mint, signed,
// that it is alive and which members of its epoch it could not reach. The mint evicts a
// member that has sent no report for a configured time and that others report unreachable.
import type { Bytes } from './bytes.ts';
import type { BodyCodec, Reader, Writer } from './codec.ts';

/** Members one report names as unreachable; more are cut (a report is a hint, not a census). */
export const MAX_UNREACHABLE_PER_REPORT = 64;

export type ReachabilityReport = {
  readonly reporter: Bytes;
  /** The reporter's newest epoch. */
  readonly epoch: number;
  /** Milliseconds, by the reporter's clock: orders one reporter's reports; the mint times them by its own clock. */
  readonly at: number;
  readonly unreachable: readonly Bytes[];
  readonly sig: Bytes;
};
export type ReachabilityBody = Omit<ReachabilityReport, 'sig'>;

export const ReachabilityCodec: BodyCodec<ReachabilityBody> = {
  tag: 'reachability',
  write(w, b) {
    w.fixed(b.reporter, 32).u64n(b.epoch).u64n(b.at).u16(b.unreachable.length);
    for (const u of b.unreachable) w.fixed(u, 32);
  },
  read(r) {
    const reporter = r.fixed(32);
    const epoch = r.u64n();
    const at = r.u64n();
    const n = r.count(MAX_UNREACHABLE_PER_REPORT);
    const unreachable: Bytes[] = [];
    for (let i = 0; i < n; i++) unreachable.push(r.fixed(32));
    return { reporter, epoch, at, unreachable };
  },
};

export function writeReachability(w: Writer, x: ReachabilityReport): void {
  ReachabilityCodec.write(w, x);
  w.fixed(x.sig, 64);
}
export function readReachability(r: Reader): ReachabilityReport {
  return { ...ReachabilityCodec.read(r), sig: r.fixed(64) };
}
