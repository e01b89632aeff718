// The node daemon's composition root: genesis, key, LevelDB store, protocol machine,
// driver, libp2p host and HTTP API, started in that order, each registered with the
// one reverse-order close (idempotent) on SIGINT/SIGTERM or by a test. Everything
// else lives in its own module: options (node-config.ts), metrics (node-metrics.ts),
// the store upgrade (store-upgrade.ts), reads from other replicas (replica-reads.ts),
// joining (joiner.ts), waiters (runtime/status-waiters.ts), the peers cache
// (runtime/peers-file.ts).
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import { ed25519, nativeBackend } from '../../protocol/signature.ts';
import { BatchSigner } from '../../protocol/batch-signature.ts';
import type { Address } from '../../protocol/ports.ts';
import type { Message } from '../../protocol/messages.ts';
import type { NodeEvent, NodeInit, NodeMachineApi, RestorableNodeMachine, TransferView } from '../core/api.ts';
import { applyTuning, DAEMON_TUNING } from '../core/process-tuning.ts';
import { Store } from '../../runtime/store.ts';
import { daemonScheme, skipsSignatureChecks } from '../../runtime/verify-cache.ts';
import { Driver } from '../../runtime/driver.ts';
import { P2PHost } from '../../runtime/p2p.ts';
import { createMetrics } from '../../runtime/metrics.ts';
import { loadOrCreateKey } from '../../runtime/keys.ts';
import { parseHostPort } from '../../runtime/config.ts';
import { loadOrCreateToken } from '../../runtime/http-common.ts';
import { Shutdown } from '../../runtime/shutdown.ts';
import { GENESIS_FILE, readGenesisFile } from '../../runtime/genesis-file.ts';
import { keepPeersFile, PEERS_FILE, readPeersFile } from '../../runtime/peers-file.ts';
import { StatusWaiters } from '../../runtime/status-waiters.ts';
import { EpochRecords } from '../../runtime/epoch-records.ts';
import { checkNodeConfig, type NodeConfig } from './node-config.ts';
import { registerHistoryHeld, registerSignatureMetrics } from './node-metrics.ts';
import { registerCompletionMetrics } from './completion-metrics.ts';
import { upgradeStore } from './store-upgrade.ts';
import { ReplicaReads } from './replica-reads.ts';
import { startJoining } from './joiner.ts';
import { Membership } from './membership.ts';
import { buildNodeHttp } from './http.ts';
import { nodeReadiness } from './health.ts';
import { backupChunks, BACKUP_FORMAT, BACKUP_VERSION } from './backup.ts';

export { ANTI_ENTROPY_MS_RANGE, NODE_DEFAULTS, type NodeConfig } from './node-config.ts';

export type MachineFactory = (init: NodeInit) => RestorableNodeMachine;

/** Streams the store's records into the machine: a restart's memory does not grow with the node's history. */
async function restoreMachine(store: Store, machine: RestorableNodeMachine): Promise<number> {
  let restored = 0;
  for (const prefix of machine.restorePrefixes()) {
    for await (const [k, v] of store.scan(prefix)) {
      machine.restoreRecord(k, v);
      restored++;
    }
  }
  machine.finishRestore();
  return restored;
}

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
  private reads!: ReplicaReads;
  private waiters!: StatusWaiters<TransferView>;
  private readonly epochs = new EpochRecords();
  private readonly shutdown: Shutdown;

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
    checkNodeConfig(cfg);
    const { genesis, json } = this.loadGenesis(cfg.genesis);
    this.genesis = genesis;
    // A daemon's objects are decoded from its own messages: few encodings are ever asked for twice.
    applyTuning(DAEMON_TUNING);
    const key = loadOrCreateKey(this.dataDir);
    const token = loadOrCreateToken(this.dataDir);
    // One scheme for signing and checking, so this node's own signatures count as verified.
    const scheme = daemonScheme(ed25519, genesis.network, process.env);
    if (skipsSignatureChecks(genesis.network, process.env)) this.log.warn({ network: genesis.network }, 'signature checks are OFF (a benchmark network, never a real one)');
    // Votes and receipts are signed in batches, once per synced write's worth (see
    // protocol/batch-signature.ts); the driver releases what a step signed once its writes are durable.
    const signer = new BatchSigner(scheme.signer(key.secretKey), genesis.network);
    signer.gate();
    registerSignatureMetrics(this.metrics.registry, scheme, signer);

    // Store, then the machine restored from it.
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
    const restored = await restoreMachine(this.store, machine);
    this.machine = machine;
    this.log.info({ records: restored }, 'store restored');
    registerHistoryHeld(this.metrics.registry, machine);
    if (machine.completionStats !== undefined) registerCompletionMetrics(this.metrics.registry, () => machine.completionStats!());
    this.epochs.remember(genesis.epoch0);
    this.epochs.remember(machine.currentEpoch());
    this.metrics.epoch.set(machine.currentEpoch().epoch);
    this.waiters = new StatusWaiters((id) => machine.transfer(id));

    // Network: the libp2p host, with its peers cache.
    const peersPath = join(this.dataDir, PEERS_FILE);
    this.p2p = await P2PHost.start({
      secretKey: key.secretKey,
      network: genesis.network,
      mintKey: genesis.mintKey,
      listen: cfg.listen,
      bootstrap: cfg.bootstrap,
      knownPeers: readPeersFile(peersPath),
      role: 'node',
      log: this.log.child({ part: 'p2p' }),
      metrics: this.metrics,
      onMessage: (from, msg) => this.onMessage(from, msg),
      // Protocol messages are taken from the mint and members of this epoch and the one before (docs/security.md).
      epochs: { current: () => this.machine.currentEpoch(), byNumber: (n) => this.epochs.get(n) },
    });
    this.shutdown.add(() => this.p2p.stop());
    this.shutdown.add(keepPeersFile(peersPath, () => this.p2p.peerAddrs()));
    const send = (to: Address, m: Message) => this.p2p.send(to, m);
    this.reads = new ReplicaReads(() => this.machine, send);

    // The driver runs the machine: steps, ticks, durable writes before sends.
    this.driver = new Driver<NodeEvent>({
      store: this.store,
      transport: this.p2p,
      tick: () => machine.tick(),
      onEvents: (events) => this.onEvents(events),
      metrics: this.metrics,
      log: this.log.child({ part: 'driver' }),
      onFatal: () => void this.close().finally(() => process.exit(70)),
      batches: signer,
    });
    this.driver.start();
    this.shutdown.add(() => this.driver.stop());

    const membership = new Membership({ network: genesis.network, signer: ed25519.signer(key.secretKey), machine, libp2p: this.p2p.node, send, log: this.log });

    // HTTP API.
    this.http = buildNodeHttp({
      network: genesis.network,
      genesisJson: json,
      machine,
      peerId: this.p2p.peerId.toString(),
      startedAt: Date.now(),
      metrics: this.metrics,
      log: this.log,
      submit: (t) => this.driver.step('submit', () => machine.submit(t)),
      waitFor: (id, level, ms) => this.waiters.waitFor(id, level, ms),
      askAccount: (a) => this.reads.askAccount(a),
      askHistory: (a) => this.reads.askHistory(a),
      findBundle: (id) => this.reads.findBundle(id),
      epoch: (n) => this.epochs.get(n),
      ready: () => nodeReadiness({ machine: this.machine, connectedNodes: () => this.p2p.connectedNodes() }),
      admin: { token, backup: () => backupChunks({ format: BACKUP_FORMAT, version: BACKUP_VERSION, network: genesis.network, nodeId: toHex(signer.publicKey), createdAt: new Date().toISOString(), genesis: json }, this.store.snapshot()) },
      membership: () => membership.view(),
      limits: cfg,
    });
    this.shutdown.add(() => this.http.close());
    // Callers waiting on ?wait= are answered with what is known now, so closing HTTP does not wait out their timeouts.
    this.shutdown.add(() => this.waiters.releaseAll());
    const { host, port } = parseHostPort(cfg.api);
    this.apiUrl = await this.http.listen({ host, port });

    // Joining, once everything that answers the ring is up.
    this.shutdown.add(startJoining({ network: genesis.network, signer: ed25519.signer(key.secretKey), machine, addrs: () => this.p2p.addrs(), send, log: this.log }));
    // Catch-up polls, reachability reports, and the word when this node was evicted (protocol.md §7).
    this.shutdown.add(membership.start());
    this.log.info({ api: this.apiUrl, peerId: this.p2p.peerId.toString(), nodeId: toHex(signer.publicKey), addrs: this.p2p.addrs(), epoch: machine.currentEpoch().epoch, ed25519: nativeBackend }, 'node started');
  }

  /** The data dir's genesis, copied there from `from` on first start. */
  private loadGenesis(from: string) {
    mkdirSync(this.dataDir, { recursive: true });
    const local = join(this.dataDir, GENESIS_FILE);
    if (from && resolve(from) !== local) copyFileSync(from, local);
    if (!existsSync(local)) throw new Rejection(Reason.BAD_REQUEST, `no genesis: pass --genesis FILE (none in ${this.dataDir})`);
    return readGenesisFile(local);
  }

  get nodeId(): Bytes {
    return this.machine.id;
  }

  private onMessage(from: Address, msg: Message): Promise<void> | undefined {
    // The mint asks storage nodes for its issuances' bundles; the answer goes back to its peer id.
    if ('mint' in from && msg.type === 'lookup') from = { node: toHex(this.genesis.mintKey) };
    if (this.reads.take(from, msg)) return;
    return this.driver.step(msg.type, () => this.machine.receive(from, msg)).catch(() => {});
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
          this.waiters.wake(ev.transferId, ev.status);
          break;
        }
        case 'rejected':
          this.waiters.wake(ev.transferId, 'rejected');
          break;
        case 'alert':
          this.metrics.alerts.inc();
          break;
        case 'notice-sent':
          this.metrics.notices.inc();
          break;
        case 'epoch': {
          // A catch-up applies many epochs in one step: each is kept for GET /epochs/:n.
          const record = this.machine.epochRecord?.(ev.epoch) ?? this.machine.currentEpoch();
          this.epochs.remember(record);
          this.metrics.epoch.set(ev.epoch);
          this.log.info({ epoch: ev.epoch, members: record.members.length }, 'new epoch');
          break;
        }
        default:
          break;
      }
    }
  }

  /** Stops everything started, in reverse order. Idempotent. */
  close(): Promise<void> {
    return this.shutdown.close();
  }
}
