// The mint daemon's composition root: genesis, mint key, LevelDB store, MintMachine,
// driver, libp2p host (the mint is a peer: notices and joins come to it directly,
// epochs, alerts and repudiations go out on gossip) and the HTTP API. Closed in
// reverse order, idempotently.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { toHex, type Bytes } from '../../protocol/bytes.ts';
import { Reason, Rejection } from '../../protocol/errors.ts';
import type { Genesis } from '../../protocol/genesis.ts';
import type { MintEvent } from '../core/api.ts';
import type { Address, Output } from '../../protocol/ports.ts';
import type { Message } from '../../protocol/messages.ts';
import { transferId, type Transfer } from '../../protocol/objects.ts';
import { Ring } from '../../protocol/ring.ts';
import { ed25519 } from '../../protocol/signature.ts';
import { MintMachine } from '../core/mint-machine.ts';
import { Store } from '../../runtime/store.ts';
import { Driver } from '../../runtime/driver.ts';
import { P2PHost } from '../../runtime/p2p.ts';
import { countFrom, createMetrics } from '../../runtime/metrics.ts';
import { Gauge } from 'prom-client';
import { Queries, epochBundleCheck, type BundleCheck } from '../../runtime/queries.ts';
import { HTTP_LIMIT_DEFAULTS, type HttpLimitConfig } from '../../runtime/http-limits.ts';
import { MINT_KEY_FILE, readKeyFile } from '../../runtime/keys.ts';
import { parseHostPort } from '../../runtime/config.ts';
import { loadOrCreateToken } from '../../runtime/http-common.ts';
import { GENESIS_FILE, readGenesisFile } from '../../runtime/genesis-file.ts';
import { mintReadiness } from './health.ts';
import { buildMintHttp } from './http.ts';
import { Shutdown } from '../../runtime/shutdown.ts';

export type MintConfig = {
  api: string;
  listen: string[];
  logLevel: string;
  /** Epochs are made at most this often (and only when membership changed). */
  epochIntervalMs: number;
  /** A member silent this long (no reachability report) and reported unreachable is evicted; 0: never. */
  evictAfterMs: number;
} & HttpLimitConfig;

export const MINT_DEFAULTS: MintConfig = {
  api: '127.0.0.1:7600',
  listen: ['/ip4/127.0.0.1/tcp/7601'],
  logLevel: 'info',
  epochIntervalMs: 5_000,
  evictAfterMs: 60_000,
  ...HTTP_LIMIT_DEFAULTS,
};

/** The last few epochs are re-published this often, so a node that missed the gossip catches up. */
const EPOCH_REPUBLISH_MS = 5_000;
const EPOCHS_REPUBLISHED = 3;
/** An issuance not seen stored by then is handed to the next gateway (MintOptions.redriveMs). */
const RESUBMIT_AFTER_MS = 3_000;
/** Pending issuances' bundles are looked up this often, this many at a time (the oldest first). */
const SETTLE_POLL_MS = 1_000;
const SETTLE_BATCH = 32;
/** Storage nodes are asked for an issuance's bundle this often while a caller waits. */
const STORED_POLL_MS = 100;

export class MintDaemon {
  readonly dataDir: string;
  readonly log: Logger;
  readonly metrics = createMetrics('mint');
  genesis!: Genesis;
  machine!: MintMachine;
  p2p!: P2PHost;
  http!: FastifyInstance;
  apiUrl = '';
  token = '';
  private store!: Store;
  private driver!: Driver<MintEvent>;
  // An issuance counts as stored only on a bundle whose votes and receipts hold against the mint's own epochs.
  private readonly queries = new Queries((b) => (this.checkIssued ??= epochBundleCheck(this.genesis.network, ed25519, (n) => this.machine.epoch(n)))(b));
  private checkIssued: BundleCheck | undefined;
  private readonly shutdown: Shutdown;
  private redrives = 0;

  constructor(dataDir: string, log?: Logger) {
    this.dataDir = resolve(dataDir);
    this.log = log ?? pino({ level: 'info' });
    this.shutdown = new Shutdown(this.log, 'mint');
  }

  async start(cfg: MintConfig): Promise<this> {
    try {
      await this.startInner(cfg);
      return this;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private async startInner(cfg: MintConfig): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    const gpath = join(this.dataDir, GENESIS_FILE);
    const kpath = join(this.dataDir, MINT_KEY_FILE);
    if (!existsSync(gpath) || !existsSync(kpath)) throw new Rejection(Reason.BAD_REQUEST, `${this.dataDir} has no mint: run \`ringmint mint init --data ${this.dataDir}\` first`);
    const { genesis, json } = readGenesisFile(gpath);
    this.genesis = genesis;
    const key = readKeyFile(kpath);
    this.token = loadOrCreateToken(this.dataDir);

    this.store = await Store.open(join(this.dataDir, 'db'));
    this.shutdown.add(() => this.store.close());
    const restore = await this.store.load();
    this.machine = new MintMachine({
      genesis,
      signer: ed25519.signer(key.secretKey),
      scheme: ed25519,
      clock: { now: () => Date.now() },
      restore,
      options: { epochIntervalMs: cfg.epochIntervalMs, redriveMs: RESUBMIT_AFTER_MS, evictAfterMs: cfg.evictAfterMs > 0 ? cfg.evictAfterMs : Infinity },
    });
    this.metrics.epoch.set(this.machine.currentEpoch().epoch);

    this.p2p = await P2PHost.start({
      secretKey: key.secretKey,
      network: genesis.network,
      mintKey: genesis.mintKey,
      listen: cfg.listen,
      bootstrap: [],
      role: 'mint',
      log: this.log.child({ part: 'p2p' }),
      metrics: this.metrics,
      onMessage: (from, msg) => this.onMessage(from, msg),
      // Members of this epoch and the one before may send anything; others only join requests (docs/security.md).
      epochs: { current: () => this.machine.currentEpoch(), byNumber: (n) => this.machine.epoch(n) },
    });
    this.shutdown.add(() => this.p2p.stop());

    this.driver = new Driver<MintEvent>({
      store: this.store,
      transport: this.p2p,
      tick: () => this.machine.tick(),
      onEvents: (events) => this.onEvents(events),
      metrics: this.metrics,
      log: this.log.child({ part: 'driver' }),
      onFatal: () => void this.close().finally(() => process.exit(70)),
    });
    this.driver.start();
    this.shutdown.add(() => this.driver.stop());

    const republish = setInterval(() => {
      const all = this.machine.epochs();
      for (const record of all.slice(-EPOCHS_REPUBLISHED)) if (record.epoch > 0) this.p2p.send({ broadcast: true }, { type: 'epoch', record });
    }, EPOCH_REPUBLISH_MS);
    republish.unref();
    this.shutdown.add(() => clearInterval(republish));

    // Issuances are re-driven until seen stored (protocol.md §5a): look their bundles up.
    let polling = false;
    const settleTimer = setInterval(() => {
      if (polling) return;
      polling = true;
      void this.pollPending().finally(() => (polling = false));
    }, SETTLE_POLL_MS);
    settleTimer.unref();
    this.shutdown.add(() => clearInterval(settleTimer));
    const machine = this.machine;
    new Gauge({
      name: 'ringmint_issuances_pending',
      help: 'issuances not yet seen stored at a storage node (re-driven until they are)',
      registers: [this.metrics.registry],
      collect() {
        this.set(machine.pendingIssuanceCount());
      },
    });
    countFrom(this.metrics.registry, 'ringmint_issuance_redrives_total', 'issuances handed to another gateway because they were not seen stored in time (or pending at a restart)', () => this.redrives);

    this.http = buildMintHttp({
      machine: this.machine,
      genesisJson: json,
      token: this.token,
      metrics: this.metrics,
      log: this.log,
      issue: (to, amount, memo) => this.issue(to, amount, memo),
      waitStored: (t, ms) => this.waitStored(t, ms),
      admit: (node) => this.run('admit', () => this.machine.admit(node)),
      ready: () => mintReadiness({ currentEpoch: () => this.machine.currentEpoch(), connectedNodes: () => this.p2p.connectedNodes() }),
      limits: cfg,
    });
    this.shutdown.add(() => this.http.close());
    const { host, port } = parseHostPort(cfg.api);
    this.apiUrl = await this.http.listen({ host, port });
    this.log.info({ api: this.apiUrl, peerId: this.p2p.peerId.toString(), addrs: this.p2p.addrs(), epoch: this.machine.currentEpoch().epoch }, 'mint started');
  }

  /** A machine call as a driver step; a Rejection thrown by the machine reaches the caller as is. */
  private run(kind: string, fn: () => Output<MintEvent>): Promise<void> {
    let thrown: unknown = null;
    const p = this.driver.step(kind, () => {
      try {
        return fn();
      } catch (e) {
        thrown = e;
        throw e;
      }
    });
    return p.catch((e: unknown) => {
      throw thrown ?? e;
    });
  }

  private async issue(to: Bytes, amount: bigint, memo: Bytes): Promise<{ transfer: Transfer; gateway: string | null }> {
    let transfer: Transfer | null = null;
    let gateway: string | null = null;
    await this.run('issue', () => {
      const r = this.machine.issue(to, amount, memo);
      transfer = r.transfer;
      const submit = r.output.send.find((s) => s.msg.type === 'submit');
      if (submit && 'node' in submit.to) gateway = submit.to.node;
      return r.output;
    });
    return { transfer: transfer!, gateway };
  }

  /** A caller waits for its issuance: looked up often (re-driving is the tick's, for every pending issuance). */
  private async waitStored(t: Transfer, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.lookUp(t, Math.min(STORED_POLL_MS * 4, Math.max(1, deadline - Date.now())))) return true;
      await new Promise((r) => setTimeout(r, STORED_POLL_MS));
    }
    return false;
  }

  /** Asks an issuance's storage nodes for its bundle; one found settles it (no more re-drives). */
  private async lookUp(t: Transfer, timeoutMs: number): Promise<boolean> {
    const id = transferId(t);
    const storage = Ring.of(this.machine.currentEpoch()).storage(id).map(toHex);
    const found = await this.queries.askBundle(id, storage, (to, m) => this.p2p.send(to, m), timeoutMs);
    if (found === null) return false;
    await this.run('settle', () => this.machine.settle(found)).catch(() => {});
    return true;
  }

  /** The oldest pending issuances, looked up together. */
  private async pollPending(): Promise<void> {
    const pending = this.machine.pendingIssuances(SETTLE_BATCH);
    if (pending.length === 0) return;
    await Promise.all(pending.map((t) => this.lookUp(t, SETTLE_POLL_MS * 2)));
  }

  private onMessage(from: Address, msg: Message): Promise<void> | undefined {
    if (this.queries.take(from, msg)) return;
    // A join counts only over a connection authenticated as the key it names: checked
    // here, before the machine spends a signature check on it (protocol.md §7, Admission).
    if (msg.type === 'join' && !('node' in from && from.node === toHex(msg.join.node))) {
      this.metrics.messagesDropped.inc({ why: 'join-not-from-its-key' });
      return;
    }
    return this.driver.step(msg.type, () => this.machine.receive(from, msg)).catch(() => {});
  }

  private onEvents(events: readonly MintEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'epoch') {
        this.metrics.epoch.set(ev.record.epoch);
        this.log.info({ epoch: ev.record.epoch, members: ev.record.members.length }, 'new epoch');
      } else if (ev.type === 'alert') {
        this.metrics.alerts.inc();
        this.log.warn({ alertSeq: ev.alert.alertSeq, kind: ev.evidence.kind }, 'alert relayed');
      } else if (ev.type === 'redriven') {
        this.redrives++;
        this.log.debug({ seq: ev.transfer.seq, attempt: ev.attempt }, 'issuance re-driven');
      } else if (ev.type === 'admitted') this.log.info({ node: toHex(ev.node) }, 'node admitted for the next epoch');
      else if (ev.type === 'evicted') this.log.warn({ node: toHex(ev.node), why: ev.why }, 'node evicted at the next epoch');
    }
  }

  close(): Promise<void> {
    return this.shutdown.close();
  }
}
