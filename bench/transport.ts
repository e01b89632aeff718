// `ringmint bench transport`: what one protocol message costs in the daemons' libp2p
// stack (TCP, noise, yamux, our framing, encode and decode), with no protocol work
// behind it. Two hosts in this process exchange vote requests (a signed transfer,
// as on the wire) with `window` exchanges in flight; each message received is sent
// back, so every turn of the event loop carries several frames, as under load. CPU
// time is this process's (both ends of every message), so cpuUsPerMessage is the
// floor a devnet pays per message before any machine step, store write or signature.
import type { Command } from 'commander';
import { pino } from 'pino';
import { toHex, ZERO32 } from '../protocol/bytes.ts';
import type { Message } from '../protocol/messages.ts';
import { TransferCodec, sign } from '../protocol/objects.ts';
import { generateKeyPair, nativeSigner } from '../protocol/signature.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { P2PHost } from '../runtime/p2p.ts';

const NETWORK = 'bench';

export type TransportBenchResult = { messages: number; seconds: number; messagesPerSec: number; cpuUsPerMessage: number; window: number };

export async function runTransportBench(seconds: number, window: number): Promise<TransportBenchResult> {
  const log = pino({ level: 'silent' });
  const mintKey = generateKeyPair().publicKey;
  const kpA = generateKeyPair();
  const kpB = generateKeyPair();
  const wallet = nativeSigner(generateKeyPair().secretKey);
  const msg: Message = {
    type: 'vote-request',
    transfer: sign(TransferCodec, NETWORK, wallet, { from: wallet.publicKey, to: kpB.publicKey, amount: 12_345n, seq: 7, prev: ZERO32, memo: new Uint8Array(0) }),
  };
  const toA = { node: toHex(kpA.publicKey) };
  const toB = { node: toHex(kpB.publicKey) };
  let received = 0;
  let running = true;
  let b!: P2PHost;
  const start = (kp: { secretKey: Uint8Array }, onMessage: (m: Message) => void, bootstrap: string[]) =>
    P2PHost.start({ secretKey: kp.secretKey, network: NETWORK, mintKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, role: 'node', log, metrics: createMetrics('node'), onMessage: (_, m) => onMessage(m) });
  b = await start(kpB, (m) => {
    received++;
    b.send(toA, m);
  }, []);
  const a: P2PHost = await start(kpA, (m) => {
    received++;
    if (running) a.send(toB, m);
  }, b.addrs());
  try {
    // Warm-up: the connection, the stream each way and the JIT.
    const warm = received + 2_000;
    for (let i = 0; i < window; i++) a.send(toB, msg);
    while (received < warm) await new Promise((r) => setTimeout(r, 5));
    const cpu0 = process.cpuUsage();
    const n0 = received;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const messages = received - n0;
    const wall = (performance.now() - t0) / 1000;
    running = false;
    return { messages, seconds: wall, messagesPerSec: messages / wall, cpuUsPerMessage: (cpu.user + cpu.system) / messages, window };
  } finally {
    running = false;
    await a.stop();
    await b.stop();
  }
}

export function registerBenchTransport(bench: Command): void {
  bench
    .command('transport')
    .description('CPU per protocol message through libp2p (TCP, noise, yamux, framing, codec), both ends in one process')
    .option('--json', 'print the result as JSON on the last line')
    .option('--seconds <s>', 'measured time', '5')
    .option('--window <n>', 'exchanges in flight', '16')
    .action(async (opts: { json?: boolean; seconds: string; window: string }) => {
      const seconds = Number(opts.seconds);
      const window = Number(opts.window);
      if (!(seconds > 0) || !Number.isInteger(window) || window < 1) {
        console.error('bench transport: --seconds must be > 0 and --window a positive integer');
        process.exitCode = 2;
        return;
      }
      const r = await runTransportBench(seconds, window);
      console.log(`messages: ${r.messages.toLocaleString('en')} in ${r.seconds.toFixed(1)} s (${Math.round(r.messagesPerSec).toLocaleString('en')}/s, window ${window})`);
      console.log(`cpu per message (send + receive): ${r.cpuUsPerMessage.toFixed(1)} µs`);
      if (opts.json) console.log(JSON.stringify({ messagesPerSec: Math.round(r.messagesPerSec), cpuUsPerMessage: Number(r.cpuUsPerMessage.toFixed(1)), window, messages: r.messages }));
    });
}
