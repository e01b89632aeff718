// A local network on loopback: the mint and N nodes as separate child processes,
// with genesis made here (node keys are made first, so epoch 0 holds the N nodes).
// Used by `ringmint devnet`, the end-to-end tests and `ringmint bench devnet`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, rmSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../protocol/bytes.ts';
import { readKeyFile, loadOrCreateKey, peerIdOfNode, MINT_KEY_FILE } from '../runtime/keys.ts';
import { mintInit } from '../mint/daemon/init.ts';
import { GENESIS_FILE } from '../runtime/genesis-file.ts';
import { loadOrCreateToken } from '../runtime/http-common.ts';
import { callJson } from '../runtime/http-client.ts';
import { devnetPath, writeDevnetFile, type DevnetFile, type DevnetNode } from '../runtime/devnet-file.ts';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'ringmint.ts');

/** A process that does not stop within this long after SIGTERM is killed. */
const STOP_GRACE_MS = 10_000;
/** Waiting for the ring to form gives up after this long. */
export const READY_TIMEOUT_MS = 60_000;
/** A node that died is restarted after this pause (keeps a crash loop from spinning). */
const RESTART_DELAY_MS = 500;
/**
 * Extra Node flags for every daemon process, space separated (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile a devnet under load: NODE_OPTIONS refuses --cpu-prof).
 */
export const DAEMON_NODE_FLAGS_ENV = 'RINGMINT_DAEMON_NODE_FLAGS';

export type DevnetOptions = {
  dir: string;
  nodes: number;
  k?: number;
  q?: number;
  /** Wipe DIR first; otherwise an existing devnet in DIR is started again with its data. */
  fresh?: boolean;
  /** Restart node processes that die (not those stopped through this object). */
  restartDead?: boolean;
  epochIntervalMs?: number;
  /** The mint evicts a member silent (and reported unreachable) this long; default 30 s on a devnet. */
  evictAfterMs?: number;
  logLevel?: string;
  network?: string;
  onLine?: (line: string) => void;
};

/**
 * Listen ports are drawn from below every OS's ephemeral range (Linux 32768-60999,
 * macOS and Windows 49152-65535). A port the OS picked for listen(0) is ephemeral:
 * between our probe and the daemon's bind, any outgoing connection on the machine
 * (the devnet's own dials) could take it, and the daemon would fail with EADDRINUSE.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 } as const;
/** Probes before falling back to an OS-picked port. */
const PORT_TRIES = 50;
/** Ports handed out by this process, never handed out twice. */
const handedOut = new Set<number>();

function probe(port: number): Promise<number | null> {
  return new Promise((res) => {
    const s = createServer();
    s.unref();
    s.once('error', () => res(null));
    s.listen(port, '127.0.0.1', () => {
      const a = s.address();
      const got = typeof a === 'object' && a ? a.port : null;
      s.close(() => res(got));
    });
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < PORT_TRIES; i++) {
    const want = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(want)) continue;
    if ((await probe(want)) === want) {
      handedOut.add(want);
      return want;
    }
  }
  const any = await probe(0);
  if (any === null) throw new Error('no free port on 127.0.0.1');
  handedOut.add(any);
  return any;
}

type Proc = { child: ChildProcess | null; args: string[]; log: string; stopping: boolean; exited: Promise<void> };

export class Devnet {
  readonly opts: DevnetOptions;
  readonly dir: string;
  file!: DevnetFile;
  private mintProc!: Proc;
  private readonly nodeProcs: Proc[] = [];
  /** libp2p addresses of the nodes started so far, in order. */
  private readonly nodeAddrs: string[] = [];
  private stopped = false;
  /** devnet.json is written only once every API answered (start done); before, a reader would get "connection refused". */
  private started = false;

  constructor(opts: DevnetOptions) {
    this.opts = opts;
    this.dir = resolve(opts.dir);
  }

  private say(line: string): void {
    this.opts.onLine?.(line);
  }

  async start(): Promise<DevnetFile> {
    const { dir } = this;
    if (this.opts.fresh) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // A file left by an earlier run names its ports: gone until this run's APIs answer.
    rmSync(devnetPath(dir), { force: true });
    const mintData = join(dir, 'mint');
    const nodeDirs = Array.from({ length: this.opts.nodes }, (_, i) => join(dir, `node-${i}`));
    if (!existsSync(join(mintData, MINT_KEY_FILE))) {
      const members = nodeDirs.map((d) => loadOrCreateKey(d).publicKey);
      mintInit({
        data: mintData,
        network: this.opts.network ?? 'ringmint-devnet',
        k: this.opts.k ?? Math.min(4, this.opts.nodes),
        q: this.opts.q ?? Math.floor(Math.min(4, this.opts.nodes) / 2) + 1,
        decimals: 6,
        symbol: 'RMT',
        supplyCap: null,
        admission: 'open',
        members,
      });
      this.say(`created genesis with ${members.length} nodes in ${mintData}`);
    }
    const genesis = join(mintData, GENESIS_FILE);
    const mintKey = readKeyFile(join(mintData, MINT_KEY_FILE));
    const mintPeer = peerIdOfNode(mintKey.publicKey).toString();
    const [mintApi, mintP2p] = [await freePort(), await freePort()];
    const mintAddr = `/ip4/127.0.0.1/tcp/${mintP2p}/p2p/${mintPeer}`;
    const level = this.opts.logLevel ?? 'info';
    this.mintProc = this.spawnProc(
      ['mint', 'start', '--data', mintData, '--api', `127.0.0.1:${mintApi}`, '--listen', `/ip4/127.0.0.1/tcp/${mintP2p}`, '--epoch-interval-ms', String(this.opts.epochIntervalMs ?? 2_000), '--evict-after-ms', String(this.opts.evictAfterMs ?? 30_000), '--log-level', level],
      join(dir, 'mint.log'),
      false,
    );
    this.file = {
      genesis,
      mint: { api: `http://127.0.0.1:${mintApi}`, token: loadOrCreateToken(mintData), pid: this.mintProc.child!.pid!, peerId: mintPeer, multiaddr: mintAddr, data: mintData },
      nodes: [],
    };
    try {
      await waitHttp(`${this.file.mint.api}/status`, READY_TIMEOUT_MS);
      for (const d of nodeDirs) await this.addNodeProcess(d);
      await this.waitReady();
    } catch (e) {
      // A devnet that did not come up leaves no process behind (see the logs in dir).
      await this.stop();
      throw e;
    }
    this.started = true;
    this.save(true);
    return this.file;
  }

  /** Starts a node process in `data` (a new one joins through the mint). Returns its index. */
  async addNodeProcess(data: string): Promise<number> {
    const key = loadOrCreateKey(data);
    const [api, p2p] = [await freePort(), await freePort()];
    // Bootstrap to the mint and to every node started before: the ring's links form at
    // start instead of on the first message (a dial through the DHT that can fail while
    // routing tables fill, and the protocol's 1 s retries then show as seconds of latency).
    const bootstrap = [this.file.mint.multiaddr, ...this.nodeAddrs];
    const args = ['node', 'start', '--data', data, '--genesis', this.file.genesis, '--api', `127.0.0.1:${api}`, '--listen', `/ip4/127.0.0.1/tcp/${p2p}`, '--bootstrap', ...bootstrap, '--log-level', this.opts.logLevel ?? 'info'];
    this.nodeAddrs.push(`/ip4/127.0.0.1/tcp/${p2p}/p2p/${peerIdOfNode(key.publicKey).toString()}`);
    const i = this.nodeProcs.length;
    const proc = this.spawnProc(args, join(this.dir, `node-${i}.log`), this.opts.restartDead ?? false, i);
    this.nodeProcs.push(proc);
    const node: DevnetNode = { api: `http://127.0.0.1:${api}`, peerId: peerIdOfNode(key.publicKey).toString(), nodeId: toHex(key.publicKey), pid: proc.child!.pid!, data };
    this.file.nodes[i] = node;
    this.save(false);
    return i;
  }

  /** A new node (fresh key) that joins through the mint. */
  async joinNode(): Promise<number> {
    const i = this.nodeProcs.length;
    const i2 = await this.addNodeProcess(join(this.dir, `node-${i}`));
    await waitHttp(`${this.file.nodes[i2]!.api}/status`, READY_TIMEOUT_MS);
    this.save(true);
    return i2;
  }

  /**
   * `env`: extra environment for this launch only (a crash test's RINGMINT_FAILPOINTS);
   * a restart after a death runs without it.
   */
  private spawnProc(args: string[], log: string, restart: boolean, index?: number, env?: Record<string, string>): Proc {
    const proc: Proc = { child: null, args, log, stopping: false, exited: Promise.resolve() };
    let extra = env ?? {};
    const launch = (): void => {
      const fd = openSync(log, 'a');
      const flags = (process.env[DAEMON_NODE_FLAGS_ENV] ?? '').split(' ').filter((f) => f !== '');
      const child = spawn(process.execPath, [...flags, CLI, ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, ...extra } });
      extra = {};
      closeSync(fd);
      proc.child = child;
      proc.exited = new Promise((res) => child.once('exit', () => res()));
      child.once('exit', (code, signal) => {
        if (proc.stopping || this.stopped || !restart) return;
        this.say(`${index === undefined ? 'mint' : `node ${index}`} exited (${signal ?? code}); restarting`);
        setTimeout(() => {
          if (proc.stopping || this.stopped) return;
          launch();
          if (index !== undefined && this.file.nodes[index]) {
            const node = this.file.nodes[index]!;
            node.pid = proc.child!.pid!;
            this.save(false);
            // Ready again once it answers (a later restart writes false again first).
            const pid = node.pid;
            waitHttp(`${node.api}/status`, READY_TIMEOUT_MS).then(
              () => {
                if (!this.stopped && node.pid === pid) this.save(true);
              },
              () => {},
            );
          }
        }, RESTART_DELAY_MS);
      });
    };
    launch();
    return proc;
  }

  /** Every node answers /status with an epoch, and every node is in it. */
  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const n of this.file.nodes) {
      await waitHttp(`${n.api}/status`, Math.max(1, deadline - Date.now()));
    }
  }

  /** Writes devnet.json (once start is done; `ready`: whether every API answers now). */
  save(ready = this.file.ready ?? false): void {
    if (!this.started) return;
    this.file.ready = ready;
    writeDevnetFile(this.dir, this.file);
  }

  /** Sends `signal` to node i (SIGKILL: a crash). It is not restarted automatically. */
  async killNode(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.nodeProcs[i]!;
    p.stopping = true;
    p.child?.kill(signal);
    await p.exited;
  }

  /** Resolves with the exit code of node i's process (or the mint's) once it has exited (null: killed by a signal). */
  async waitExit(who: number | 'mint'): Promise<number | null> {
    const p = who === 'mint' ? this.mintProc : this.nodeProcs[who]!;
    await p.exited;
    return p.child?.exitCode ?? null;
  }

  /** Sends `signal` to the mint (SIGKILL: a crash). It is not restarted automatically. */
  async killMint(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.mintProc;
    p.stopping = true;
    p.child?.kill(signal);
    await p.exited;
  }

  /** Starts the mint again with its data dir and ports; `env` as for restartNode. */
  async restartMint(env?: Record<string, string>): Promise<void> {
    const p = this.mintProc;
    p.stopping = false;
    this.mintProc = this.spawnProc(p.args, p.log, false, undefined, env);
    this.file.mint.pid = this.mintProc.child!.pid!;
    this.save();
    await waitHttp(`${this.file.mint.api}/status`, READY_TIMEOUT_MS);
  }

  /** Starts node i again with its data dir and ports; `env`: extra environment for this launch (e.g. failpoints). */
  async restartNode(i: number, env?: Record<string, string>): Promise<void> {
    const p = this.nodeProcs[i]!;
    p.stopping = false;
    const fresh = this.spawnProc(p.args, p.log, this.opts.restartDead ?? false, i, env);
    this.nodeProcs[i] = fresh;
    this.file.nodes[i]!.pid = fresh.child!.pid!;
    this.save(false);
    await waitHttp(`${this.file.nodes[i]!.api}/status`, READY_TIMEOUT_MS);
    this.save(true);
  }

  /** Stops every process (SIGTERM, then SIGKILL after a grace period). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const all = [...this.nodeProcs, this.mintProc].filter((p): p is Proc => p !== undefined);
    await Promise.all(
      all.map(async (p) => {
        p.stopping = true;
        if (!p.child || p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.child.kill('SIGTERM');
        const t = setTimeout(() => p.child?.kill('SIGKILL'), STOP_GRACE_MS);
        await p.exited;
        clearTimeout(t);
      }),
    );
  }
}

/** Polls `url` until it answers 200 or the time is up. */
export async function waitHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      await callJson('GET', url, { timeoutMs: 2_000 });
      return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}
