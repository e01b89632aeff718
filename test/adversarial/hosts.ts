// Helpers for the adversarial tests: libp2p hosts on loopback built on the project's own
// stack (runtime/p2p.ts), an honest ring of them and a hostile one, and metric reads.
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import type { Message } from '../../protocol/messages.ts';
import type { EpochRecord } from '../../protocol/objects.ts';
import type { Address } from '../../protocol/ports.ts';
import { generateKeyPair } from '../../protocol/signature.ts';
import { createMetrics, type DaemonMetrics } from '../../runtime/metrics.ts';
import { P2PHost } from '../../runtime/p2p.ts';

export const network = 'adversarial-test';
export const log = pino({ level: 'silent' });

export type Got = { from: Address; msg: Message }[];
export type TestHost = { h: P2PHost; kp: { publicKey: Bytes; secretKey: Bytes }; hex: string; metrics: DaemonMetrics; got: Got };

/** An epoch source whose members are fixed (the gate reads members only). */
export function fixedEpoch(members: () => readonly Bytes[]) {
  return {
    current: () => ({ network, epoch: 0, members: members(), k: 4, q: 3, prev: new Uint8Array(32), issuedAt: 0, sig: new Uint8Array(64) }) as EpochRecord,
    byNumber: () => undefined,
  };
}

export type HostOptions = {
  mintKey: Bytes;
  bootstrap?: string[];
  /** Members of the ring this host accepts messages from; absent: no gate. */
  members?: () => readonly Bytes[];
  role?: 'node' | 'mint';
  kp?: { publicKey: Bytes; secretKey: Bytes };
  partialFrameMs?: number;
  /** Each message is a step that settles on the next turn of the event loop, as a daemon's does once durable. */
  steps?: boolean;
};

export async function startHost(o: HostOptions): Promise<TestHost> {
  const kp = o.kp ?? generateKeyPair();
  const metrics = createMetrics(o.role ?? 'node');
  const got: Got = [];
  const h = await P2PHost.start({
    secretKey: kp.secretKey, network, mintKey: o.mintKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: o.bootstrap ?? [], role: o.role ?? 'node', log, metrics,
    ...(o.members ? { epochs: fixedEpoch(o.members) } : {}),
    ...(o.partialFrameMs !== undefined ? { partialFrameMs: o.partialFrameMs } : {}),
    onMessage: (from, msg) => {
      got.push({ from, msg });
      if (o.steps) return new Promise<void>((r) => setImmediate(r));
    },
  });
  return { h, kp, hex: toHex(kp.publicKey), metrics, got };
}

export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A counter's value (summed over labels matching `labels`). */
export async function metric(m: DaemonMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const all = await m.registry.getMetricsAsJSON();
  const found = all.find((x) => x.name === name);
  if (!found) return 0;
  let sum = 0;
  for (const v of found.values as { labels: Record<string, string | number>; value: number }[]) {
    if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
  }
  return sum;
}

export const connected = (a: TestHost, b: TestHost) => a.h.node.getConnections(b.h.peerId).length > 0;

/** Opens `n` TCP sockets to a local port that never speak (half-open handshakes); the caller destroys them. */
export async function idleSockets(port: number, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((res) => {
    const s = connect(port, '127.0.0.1', () => res());
    s.on('error', () => res());
    sockets.push(s);
  })));
  // Let the node register them before the test goes on.
  await new Promise((r) => setTimeout(r, 300));
  return sockets;
}
