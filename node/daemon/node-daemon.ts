// The node daemon's composition root: genesis, key, LevelDB store, protocol machine,
// driver, libp2p host and HTTP API, started in that order and closed in reverse
// (idempotently) on SIGINT/SIGTERM or by a test.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { toHex, fromHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import { JoinCodec, sign, type EpochRecord } from '../../protocol/objects.ts';
import { Ring } from '../../protocol/ring.ts';
import { bundleKey, DAEMON_RECENT_KEEP, keepRecentEncodings } from '../core/storage.ts';
import { stateHistory } from '../core/history.ts';
import { HISTORY_INDEX_KEY, historyIndexRecords } from '../core/history-index.ts';
import { ed25519, nativeBackend } from '../../protocol/signature.ts';
import { BatchSigner } from '../../protocol/batch-signature.ts';
import { DEFAULT_NODE_OPTIONS, type NodeEvent, type NodeInit, type NodeMachineApi, type RestorableNodeMachine, type TransferView } from '../core/api.ts';
import type { Address } from '../../protocol/ports.ts';
import type { Message } from '../../protocol/messages.ts';
import { Store } from '../../runtime/store.ts';
import { daemonScheme, skipsSignatureChecks } from '../../runtime/verify-cache.ts';
import { Driver } from '../../runtime/driver.ts';
import { P2PHost } from '../../runtime/p2p.ts';
import { countFrom, createMetrics } from '../../runtime/metrics.ts';
import { buildNodeHttp, reached, replicaOfState, type ReplicaView } from './http.ts';
import { Queries } from '../../runtime/queries.ts';
import { loadOrCreateKey } from '../../runtime/keys.ts';
import { parseHostPort } from '../../runtime/config.ts';
import { loadOrCreateToken, type WaitLevel } from '../../runtime/http-common.ts';
import { Shutdown } from '../../runtime/shutdown.ts';
import { GENESIS_FILE, readGenesisFile } from '../../runtime/genesis-file.ts';

/** Addresses of peers seen connected, so a restarted node reaches its ring without a DHT walk. */
export const PEERS_FILE = 'peers.json';
/** The peers file is rewritten this often. */
const PEERS_SAVE_MS = 10_000;
/** At most this many addresses are kept in it. */
const PEERS_KEPT = 256;

function readPeersFile(path: string): string[] {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, PEERS_KEPT) : [];
  } catch {
    return [];
  }
}

function writePeersFile(path: string, addrs: string[]): void {
  if (addrs.length === 0) return;
  try {
    writeFileSync(path, JSON.stringify(addrs.slice(0, PEERS_KEPT)) + '\n');
  } catch {
    // a cache: failing to write it costs a slower restart only
  }
}

export type NodeConfig = {
  /** HTTP API, host:port (127.0.0.1 unless told otherwise). */
  api: string;
  /** libp2p listen multiaddrs. */
  listen: string[];
  /** Peers dialled at start (the mint's multiaddr at least), with /p2p/<peerId>. */
  bootstrap: string[];
  /** Genesis file; copied into the data dir on first start. */
  genesis: string;
  logLevel: string;
  /**
   * Milliseconds between anti-entropy rounds (protocol.md §7, Anti-entropy). Shorter repairs a replica that
   * missed a message sooner; each round costs work in proportion to what changed
   * since the last (every bundle stored since, every account that moved).
   */
  antiEntropyMs: number;
};

export const NODE_DEFAULTS: NodeConfig = {
  api: '127.0.0.1:7700',
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap: [],
  genesis: '',
  logLevel: 'info',
  antiEntropyMs: DEFAULT_NODE_OPTIONS.antiEntropyMs,
};

/**
 * Anti-entropy intervals a node accepts: below a second a round would overlap the
 * last one's answers; above a day a lost message would wait a day to be repaired.
 */
export const ANTI_ENTROPY_MS_RANGE = { min: 1_000, max: 86_400_000 } as const;

/** A node not in the current epoch asks the mint to admit it this often. */
const JOIN_INTERVAL_MS = 3_000;
/** Epoch records kept for GET /epochs/:n (the mint keeps them all). */
const EPOCHS_KEPT = 64;

export type MachineFactory = (init: NodeInit) => RestorableNodeMachine;

/** Stored bundles' records (storage.ts bundleKey): the upgrade lists their keys only. */
const BUNDLE_PREFIX = bundleKey('');

/** A store from before the history index (core/history-index.ts) gets it, once, before its machine starts. */
export async function upgradeStore(store: Store, log: Logger): Promise<void> {
  if (store.get(HISTORY_INDEX_KEY) !== undefined) return;
  const credits: [string, Uint8Array][] = [];
  for await (const entry of store.scan('c/')) credits.push(entry);
  const bundles: string[] = [];
  for await (const [k] of store.scan(BUNDLE_PREFIX, false)) bundles.push(k);
  await store.commit(historyIndexRecords(credits, bundles));
  if (credits.length + bundles.length > 0) log.info({ credits: credits.length, bundles: bundles.length }, 'store upgraded: history index written');
}

type Waiter = { level: WaitLevel; resolve: (v: TransferView | undefined) => void };

export class NodeDaemon {
  readonly dataDir: string;
  readonly log: Logger;
  readonly metrics = createMetrics('node');
  genesis!: Genesis;
  machine!: NodeMachineApi;
  p2p!: P2PHost;
  http!: FastifyInstance;
  apiUrl = '';
  private store!: Store;
  private driver!: Driver<NodeEvent>;
  private readonly queries = new Queries();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly epochs = new Map<number, EpochRecord>();
  private readonly shutdown: Shutdown;
  private joinTimer: NodeJS.Timeout | null = null;

  constructor(dataDir: string, log?: Logger) {
    this.dataDir = resolve(dataDir);
    this.log = log ?? pino({ level: 'info' });
    this.shutdown = new Shutdown(this.log, 'node');
  }

  async start(cfg: NodeConfig, createMachine: MachineFactory): Promise<this> {
    try {
      await this.startInner(cfg, createMachine);
      return this;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private async startInner(cfg: NodeConfig, createMachine: MachineFactory): Promise<void> {
    const ae = cfg.antiEntropyMs;
    if (!Number.isInteger(ae) || ae < ANTI_ENTROPY_MS_RANGE.min || ae > ANTI_ENTROPY_MS_RANGE.max) {
      throw new Rejection(Reason.BAD_REQUEST, `antiEntropyMs must be an integer from ${ANTI_ENTROPY_MS_RANGE.min} to ${ANTI_ENTROPY_MS_RANGE.max}, got ${ae}`);
    }
    mkdirSync(this.dataDir, { recursive: true });
    const local = join(this.dataDir, GENESIS_FILE);
    if (cfg.genesis && resolve(cfg.genesis) !== local) copyFileSync(cfg.genesis, local);
    if (!existsSync(local)) throw new Rejection(Reason.BAD_REQUEST, `no genesis: pass --genesis FILE (none in ${this.dataDir})`);
    const { genesis, json } = readGenesisFile(local);
    this.genesis = genesis;
    // A daemon's objects are decoded from its own messages: few encodings are ever asked for twice.
    keepRecentEncodings(DAEMON_RECENT_KEEP);
    const key = loadOrCreateKey(this.dataDir);
    loadOrCreateToken(this.dataDir);
    // One scheme for signing and checking, so this node's own signatures count as verified.
    const scheme = daemonScheme(ed25519, genesis.network, process.env);
    if (skipsSignatureChecks(genesis.network, process.env)) this.log.warn({ network: genesis.network }, 'signature checks are OFF (a benchmark network, never a real one)');
    // Votes and receipts are signed in batches, once per synced write's worth (see
    // protocol/batch-signature.ts); the cache remembers each batch signature it makes.
    const signer = new BatchSigner(scheme.signer(key.secretKey), genesis.network);
    signer.gate(); // the driver releases what a step signed once its writes are durable
    let counted = { checks: 0, hits: 0 };
    new Counter({
      name: 'ringmint_signature_verifications_total',
      help: 'signature checks asked of the machine\'s scheme: run (checked) or answered by the verified-signature cache (cached)',
      labelNames: ['result'],
      registers: [this.metrics.registry],
      collect() {
        const now = { checks: scheme.checks(), hits: scheme.hits() };
        this.inc({ result: 'checked' }, now.checks - counted.checks);
        this.inc({ result: 'cached' }, now.hits - counted.hits);
        counted = now;
      },
    });
    countFrom(this.metrics.registry, 'ringmint_batch_signatures_total', 'Ed25519 signatures made over a batch of votes and receipts (a batch of one is a plain signature)', () => signer.batches);
    countFrom(this.metrics.registry, 'ringmint_batch_signed_objects_total', 'votes and receipts signed in batches; divided by ringmint_batch_signatures_total, the mean batch size', () => signer.objects);

    this.store = await Store.open(join(this.dataDir, 'db'));
    this.shutdown.add(() => this.store.close());
    await upgradeStore(this.store, this.log);
    const machine = createMachine({
      genesis,
      signer,
      scheme,
      clock: { now: () => Date.now() },
      random: { next: () => Math.random() },
      // History (old locks and credits, stored bundles) is read back from here while it runs.
      records: this.store,
      options: { antiEntropyMs: cfg.antiEntropyMs },
    });
    // Streamed, not loaded whole: a restart's memory does not grow with the node's history.
    let restored = 0;
    for (const prefix of machine.restorePrefixes()) {
      for await (const [k, v] of this.store.scan(prefix)) {
        machine.restoreRecord(k, v);
        restored++;
      }
    }
    machine.finishRestore();
    this.machine = machine;
    this.log.info({ records: restored }, 'store restored');
    if (machine.held !== undefined) {
      new Gauge({
        name: 'ringmint_history_held',
        help: 'history the node machine holds in memory, by kind (accounts, locks, credits, bundles; reported_credits: credits peers reported and not yet applied here); the rest is read back from the store',
        labelNames: ['kind'],
        registers: [this.metrics.registry],
        collect() {
          const h = machine.held!();
          for (const kind of ['accounts', 'locks', 'credits', 'bundles'] as const) this.set({ kind }, h[kind]);
          this.set({ kind: 'reported_credits' }, h.reportedCredits);
        },
      });
    }
    this.rememberEpoch(genesis.epoch0);
    this.rememberEpoch(this.machine.currentEpoch());
    this.metrics.epoch.set(this.machine.currentEpoch().epoch);

    this.p2p = await P2PHost.start({
      secretKey: key.secretKey,
      network: genesis.network,
      mintKey: genesis.mintKey,
      listen: cfg.listen,
      bootstrap: cfg.bootstrap,
      knownPeers: readPeersFile(join(this.dataDir, PEERS_FILE)),
      role: 'node',
      log: this.log.child({ part: 'p2p' }),
      metrics: this.metrics,
      onMessage: (from, msg) => this.onMessage(from, msg),
    });
    this.shutdown.add(() => this.p2p.stop());
    const savePeers = () => writePeersFile(join(this.dataDir, PEERS_FILE), this.p2p.peerAddrs());
    const peersTimer = setInterval(savePeers, PEERS_SAVE_MS);
    peersTimer.unref();
    this.shutdown.add(() => {
      clearInterval(peersTimer);
      savePeers();
    });

    this.driver = new Driver<NodeEvent>({
      store: this.store,
      transport: this.p2p,
      tick: () => this.machine.tick(),
      onEvents: (events) => this.onEvents(events),
      metrics: this.metrics,
      log: this.log.child({ part: 'driver' }),
      onFatal: () => void this.close().finally(() => process.exit(70)),
      batches: signer,
    });
    this.driver.start();
    this.shutdown.add(() => this.driver.stop());

    const startedAt = Date.now();
    this.http = buildNodeHttp({
      network: genesis.network,
      genesisJson: json,
      machine: this.machine,
      peerId: this.p2p.peerId.toString(),
      startedAt,
      metrics: this.metrics,
      log: this.log,
      submit: (t) => this.driver.step('submit', () => this.machine.submit(t)),
      waitFor: (id, level, ms) => this.waitFor(id, level, ms),
      askAccount: (a) => this.askAccount(a),
      askHistory: (a) => this.askHistory(a),
      findBundle: (id) => this.findBundle(id),
      epoch: (n) => this.epochs.get(n),
    });
    this.shutdown.add(() => this.http.close());
    // Callers waiting on ?wait= are answered with what is known now, so closing HTTP does not wait out their timeouts.
    this.shutdown.add(() => {
      for (const [key, set] of this.waiters) for (const w of [...set]) w.resolve(this.machine.transfer(fromHex(key)));
    });
    const { host, port } = parseHostPort(cfg.api);
    const addr = await this.http.listen({ host, port });
    this.apiUrl = addr;
    this.joinIfOutside();
    this.joinTimer = setInterval(() => this.joinIfOutside(), JOIN_INTERVAL_MS);
    this.joinTimer.unref();
    this.shutdown.add(() => {
      if (this.joinTimer) clearInterval(this.joinTimer);
    });
    this.log.info({ api: addr, peerId: this.p2p.peerId.toString(), nodeId: toHex(signer.publicKey), addrs: this.p2p.addrs(), epoch: this.machine.currentEpoch().epoch, ed25519: nativeBackend }, 'node started');
  }

  get nodeId(): Bytes {
    return this.machine.id;
  }

  private rememberEpoch(e: EpochRecord): void {
    this.epochs.set(e.epoch, e);
    if (this.epochs.size > EPOCHS_KEPT) for (const n of this.epochs.keys()) if (n !== 0 && this.epochs.size > EPOCHS_KEPT) this.epochs.delete(n);
  }

  private onMessage(from: Address, msg: Message): void {
    // The mint asks storage nodes for its issuances' bundles; the answer goes back to its peer id.
    if ('mint' in from && msg.type === 'lookup') from = { node: toHex(this.genesis.mintKey) };
    if (this.queries.take(from, msg)) {
      // An account state also matters to the machine when this node is one of the account's custodians.
      if (msg.type !== 'account-state' || !new Ring(this.machine.currentEpoch()).isCustodian(this.machine.id, msg.state.account)) return;
    }
    this.driver.step(msg.type, () => this.machine.receive(from, msg)).catch(() => {});
  }

  private onEvents(events: readonly NodeEvent[]): void {
    for (const ev of events) {
      switch (ev.type) {
        case 'status': {
          this.metrics.transfers.inc({ status: ev.status });
          // Only these two need the view (its times); a stored one's may cost a store read and a bundle decode.
          if (ev.status === 'final' || ev.status === 'credited') {
            const v = this.machine.transfer(ev.transferId);
            if (v && ev.status === 'final' && v.times.pending !== undefined && v.times.final !== undefined) this.metrics.voteLatency.observe((v.times.final - v.times.pending) / 1000);
            if (v && ev.status === 'credited' && v.times.pending !== undefined && v.times.credited !== undefined) this.metrics.creditLatency.observe((v.times.credited - v.times.pending) / 1000);
          }
          this.wake(ev.transferId, ev.status);
          break;
        }
        case 'rejected':
          this.wake(ev.transferId, 'rejected');
          break;
        case 'alert':
          this.metrics.alerts.inc();
          break;
        case 'notice-sent':
          this.metrics.notices.inc();
          break;
        case 'epoch':
          this.rememberEpoch(this.machine.currentEpoch());
          this.metrics.epoch.set(ev.epoch);
          this.log.info({ epoch: ev.epoch, members: this.machine.currentEpoch().members.length }, 'new epoch');
          break;
        default:
          break;
      }
    }
  }

  private wake(id: Bytes, status: string): void {
    const set = this.waiters.get(toHex(id));
    if (!set) return;
    const end = status === 'rejected' || status === 'conflict';
    for (const w of [...set]) if (end || reached(status, w.level)) w.resolve(this.machine.transfer(id));
  }

  private waitFor(id: Bytes, level: WaitLevel, timeoutMs: number): Promise<TransferView | undefined> {
    const now = this.machine.transfer(id);
    if (now && (now.status === 'rejected' || now.status === 'conflict' || reached(now.status, level))) return Promise.resolve(now);
    const key = toHex(id);
    return new Promise((res) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const w: Waiter = {
        level,
        resolve: (v) => {
          clearTimeout(timer);
          set.delete(w);
          if (set.size === 0) this.waiters.delete(key);
          res(v);
        },
      };
      const timer = setTimeout(() => w.resolve(this.machine.transfer(id)), timeoutMs);
      set.add(w);
    });
  }

  private async askAccount(account: Bytes) {
    const ring = new Ring(this.machine.currentEpoch());
    const custodians = ring.custodians(account).map(toHex);
    const self = toHex(this.machine.id);
    const others = custodians.filter((c) => c !== self);
    const states = await this.queries.askAccount(account, ring.epoch.epoch, others, (to, m) => this.p2p.send(to, m));
    const answers: ReplicaView[] = [...states.values()].map(replicaOfState);
    if (others.length < custodians.length) {
      const v = this.machine.account(account);
      if (v && v.synced) answers.push({ balance: v.balance, seq: v.seq, head: v.head ? toHex(v.head) : null, frozen: v.frozen });
    }
    return { asked: custodians.length, answers };
  }

  /** Histories from the account-state answers (their first credit page) and this node's own replica. */
  private async askHistory(account: Bytes) {
    const ring = new Ring(this.machine.currentEpoch());
    const custodians = ring.custodians(account).map(toHex);
    const self = toHex(this.machine.id);
    const others = custodians.filter((c) => c !== self);
    const states = await this.queries.askAccount(account, ring.epoch.epoch, others, (to, m) => this.p2p.send(to, m));
    const answers = [...states.values()].map(stateHistory);
    if (others.length < custodians.length) {
      const h = this.machine.history?.(account);
      if (h && h.synced) answers.push(h);
    }
    return { asked: custodians.length, answers };
  }

  private findBundle(transferId: Bytes) {
    const storage = new Ring(this.machine.currentEpoch()).storage(transferId).map(toHex).filter((n) => n !== toHex(this.machine.id));
    return this.queries.askBundle(transferId, storage, (to, m) => this.p2p.send(to, m));
  }

  /** Not a member of the current epoch: ask the mint to admit us (it rate-limits and de-duplicates). */
  private joinIfOutside(): void {
    if (new Ring(this.machine.currentEpoch()).isMember(this.machine.id)) return;
    const body = { node: this.machine.id, addrs: this.p2p.addrs().slice(0, 8), issuedAt: Date.now() };
    const signer = ed25519.signer(loadOrCreateKey(this.dataDir).secretKey);
    const join = sign(JoinCodec, this.genesis.network, signer, body);
    this.p2p.send({ mint: true }, { type: 'join', join });
    this.log.debug('join request sent to the mint');
  }

  /** Stops everything started, in reverse order. Idempotent. */
  close(): Promise<void> {
    return this.shutdown.close();
  }
}
