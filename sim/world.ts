// The simulated world: hosts running the real NodeMachine, the real MintMachine,
// wallets, and the virtual network between them, all driven by one scheduler.
// The world only moves messages, keeps stores, injects faults and watches; every
// protocol decision is the machines'. It honours the Output contract: a step's
// persist records are applied to the host's store before any of its sends leave.
import { hexOf, toHex } from '../protocol/bytes.ts';
import type { Message } from '../protocol/messages.ts';
import { wireSize } from './wire-size.ts';
import { ARRIVAL, CALL, DELIVER, FUND, MINT_DELIVER, MINT_TICK, SECOND, SUBMIT, TICK, WALLET_CHECK } from './event-kinds.ts';
import { transferId, type Transfer } from '../protocol/objects.ts';
import { applyTuning, SIMULATOR_TUNING } from '../node/core/process-tuning.ts';
import { MemoryStore, type Address, type Output } from '../protocol/ports.ts';
import { ed25519, fastScheme, type SignatureScheme } from '../protocol/signature.ts';
import type { Genesis } from '../protocol/genesis.ts';
import type { NodeEvent, NodeInit, NodeMachineApi } from '../node/core/api.ts';
import type { MintEvent, MintInit, MintMachineApi } from '../mint/core/api.ts';
import { joinRequest } from '../node/core/joining.ts';
import { Scheduler } from './scheduler.ts';
import { Prng } from './prng.ts';
import { MINT, Network, WALLET } from './network.ts';
import { Host, type Role } from './host.ts';
import { BundleInterner, SimStore } from './store.ts';
import { Workload, type TxRecord } from './workload.ts';
import { Checker } from './checker.ts';
import { Observations } from './observations.ts';
import type { SimParams } from './params.ts';
import { Adversaries } from './adversary.ts';
import { scheduleFaults } from './faults.ts';
import { Byzantine } from './byzantine.ts';
import { StepCrashes } from './step-crash.ts';
import { Course, type CourseWorld } from './course.ts';
import type { RunState, WorldView } from './world-view.ts';

export type { RunState };

/** How the world builds machines: the real ones, or a stand-in in engine tests. */
export type Machines = {
  node(init: NodeInit): NodeMachineApi;
  mint(init: MintInit): MintMachineApi;
  genesis(p: { network: string; mint: import('../protocol/signature.ts').Signer; members: Uint8Array[]; k: number; q: number; issuedAt: number }): Genesis;
};

const MINT_ADDR: Address = { mint: true };
const NETWORK_ID = 'sim';


export class World implements WorldView, CourseWorld {
  readonly params: SimParams;
  readonly sched = new Scheduler();
  readonly rng: Prng;
  readonly net: Network;
  readonly scheme: SignatureScheme;
  readonly hosts: Host[] = [];
  readonly hostByHex = new Map<string, number>();
  readonly genesis: Genesis;
  readonly mint: MintMachineApi;
  readonly mintStore = new MemoryStore();
  /** Stored bundles' bytes, one copy per bundle across every node's store. */
  readonly interner = new BundleInterner();
  /**
   * Whether machines write durable records: only a restart from its store reads one, so
   * a run without such a restart (no crash that restarts without disk loss) runs them
   * with `durable: false` and keeps no stores (about a third of a large run's memory,
   * and the encoding of every record). A restart from an empty store would fail I5.
   */
  readonly durable: boolean;
  readonly workload: Workload;
  readonly checker: Checker;
  /** Series, latencies, the double-spend timeline, reputation and membership, for the outputs. */
  readonly obs: Observations;
  readonly adversaries: Adversaries;
  readonly byzantine: Byzantine;
  readonly stepCrashes: StepCrashes;
  /** Virtual ms of the last fault or its healing (crash, restart, partition, heal, churn): I9 counts from here. */
  lastFaultAt = 0;
  /** Hosts up now (kept by start and crash: the per-second gauge reads it, no scan of every host). */
  private upCount = 0;
  /** The step kind being processed (a message type, 'submit', 'tick'), for step crashes. */
  private stepKind = '';
  readonly errors: string[] = [];
  errorCount = 0;
  messages = 0;
  bytes = 0;
  /** Funding, the transfer window, the drain and the settling run (course.ts). */
  readonly course: Course;
  private readonly machines: Machines;
  private readonly delayBuf: number[] = [0, 0];
  private readonly nodeRng: Prng;
  onSecond: ((w: World) => void) | null = null;

  constructor(params: SimParams, machines: Machines) {
    this.params = params;
    this.machines = machines;
    this.durable = params.faults.crashes.some((c) => c.restartAfter > 0 && !c.diskLoss) ||
      params.faults.stepCrashes.some((c) => c.restartAfter > 0 && !c.diskLoss);
    // The run keeps nearly every signed object to its end: payloads can share slabs (and run.ts resets after it).
    applyTuning(SIMULATOR_TUNING);
    this.rng = new Prng(String(params.seed));
    this.scheme = params.crypto === 'real' ? ed25519 : fastScheme;
    this.net = new Network(params.network, this.rng.fork('network'));
    this.nodeRng = this.rng.fork('node-random');
    const a = params.adversaries;
    const roles: Role[] = [];
    for (let i = 0; i < a.equivocators; i++) roles.push('equivocator');
    for (let i = 0; i < a.falseAccusers; i++) roles.push('false-accuser');
    for (let i = 0; i < a.silent; i++) roles.push('silent');
    for (let i = 0; i < a.byzantine; i++) roles.push('byzantine');
    while (roles.length < params.nodes) roles.push('honest');
    // Roles land on random indexes so region and partition placement do not line up with them.
    const shuffle = this.rng.fork('roles');
    for (let i = roles.length - 1; i > 0; i--) {
      const j = shuffle.int(i + 1);
      [roles[i], roles[j]] = [roles[j]!, roles[i]!];
    }
    const keys = this.rng.fork('node-keys');
    for (let i = 0; i < params.nodes; i++) this.addHost(this.scheme.signer(keys.bytes(32)), roles[i]!);
    const mintSigner = this.scheme.signer(this.rng.fork('mint-key').bytes(32));
    this.genesis = machines.genesis({ network: NETWORK_ID, mint: mintSigner, members: this.hosts.map((h) => h.id), k: params.k, q: params.q, issuedAt: 0 });
    // Hosts take the hex strings the machines address them by (hexOf of the epoch's member
    // bytes): route's host lookup then matches keys by identity, not 64 characters.
    for (const m of this.genesis.epoch0.members) {
      const hex = hexOf(m);
      const i = this.hostByHex.get(hex);
      if (i === undefined) continue;
      const h = this.hosts[i]!;
      this.hostByHex.delete(hex);
      this.hostByHex.set(hex, i);
      h.idHex = hex;
      h.addr = { node: hex };
    }
    // Non-members: keys in no epoch, hosts with no machine that only send (byzantine.ts).
    for (let i = 0; i < a.outsiders; i++) {
      const o = this.addHost(this.scheme.signer(this.rng.fork(`outsider-${i}`).bytes(32)), 'outsider');
      o.left = true;
    }
    this.mint = machines.mint({
      genesis: this.genesis, signer: mintSigner, scheme: this.scheme, clock: this.sched,
      options: { epochIntervalMs: params.mint.epochIntervalMs, maxJoinsPerEpoch: params.mint.maxJoinsPerEpoch, evictAfterMs: params.mint.evictAfterMs > 0 ? params.mint.evictAfterMs : Infinity },
    });
    this.workload = new Workload(params, NETWORK_ID, this.scheme, this.rng.fork('workload'), {
      now: () => this.sched.time,
      submit: (t, avoid, first) => this.submit(t, avoid, first),
      resubmitIssue: (rec) => {
        const m = this.mint as MintMachineApi & { resubmit?: (seq: number, attempt?: number) => Output<MintEvent> };
        if (m.resubmit) this.processMint(this.step(() => m.resubmit!(rec.transfer.seq, rec.submissions - 1)));
      },
      checkLater: (rec, delay) => this.sched.after(delay, WALLET_CHECK, 0, 0, rec),
    });
    this.checker = new Checker(this.genesis.mintKey, this.workload);
    this.checker.dishonest = (hex) => {
      const i = this.hostByHex.get(hex);
      return i !== undefined && !this.hosts[i]!.honest;
    };
    this.obs = new Observations(this.workload);
    this.adversaries = new Adversaries(this);
    this.byzantine = new Byzantine(this);
    this.stepCrashes = new StepCrashes(this);
    this.course = new Course(this);
    for (const h of this.hosts) if (h.role !== 'outsider') this.start(h);
    this.sched.at(0, MINT_TICK, 0, 0, null);
    this.sched.at(0, FUND, 0, 0, null);
    this.sched.at(1000, SECOND, 0, 0, null);
    this.adversaries.schedule();
    this.byzantine.schedule();
    scheduleFaults(this);
  }

  private addHost(signer: import('../protocol/signature.ts').Signer, role: Role): Host {
    const h = new Host(this.hosts.length, signer, role, this.interner);
    this.hosts.push(h);
    this.hostByHex.set(h.idHex, h.index);
    return h;
  }

  /** Builds the host's machine from its store and starts its timer. */
  start(h: Host): void {
    h.machine = this.machines.node({
      genesis: this.genesis, signer: h.signer, scheme: this.scheme, clock: this.sched,
      random: this.nodeRng.fork(`${h.index}/${h.gen}`),
      restore: h.store.size > 0 ? h.store : undefined,
      // A durable run keeps every record in the host's store anyway: history is read back from there, as a daemon does.
      records: this.durable ? h.store : undefined,
      options: {
        retryMs: this.params.node.retryMs, maxRetries: this.params.node.maxRetries, antiEntropyMs: this.params.node.antiEntropyMs,
        // Nothing here reads a finished transfer's view (statuses come as events; bundles from storage).
        maxFinishedViews: 0,
        durable: this.durable,
        // The k replicas of a bundle share one object here; encoding it per replica would be extra work.
        compactBundles: false,
      },
    });
    h.up = true;
    this.upCount++;
    h.startedAt = this.sched.time;
    // Timers of different nodes are spread over the period (the grid's phase; see scheduleTick).
    h.tickPhase = this.sched.time + this.nodeRng.next() * this.params.tickMs;
    h.tickAt = Infinity;
    h.lastTickAt = -Infinity;
    // Like a daemon at start: fetch the epochs made since its store was written.
    const have = h.machine.currentEpoch().epoch;
    const latest = this.mint.currentEpoch().epoch;
    for (let n = have + 1; n <= latest; n++) {
      const record = this.mint.epoch(n);
      if (record) this.deliverNow(h, MINT_ADDR, { type: 'epoch', record });
    }
    this.scheduleTick(h);
  }

  /**
   * Keeps one live tick pending for the host, at the first grid point (tickPhase + n *
   * tickMs, after the last tick) not before the machine's next wakeup: ticks of a node
   * with nothing due are skipped. Re-read after every step, since a step may bring the
   * wakeup earlier; a tick made stale by an earlier one is dropped when it comes up.
   */
  private scheduleTick(h: Host): void {
    const m = h.machine;
    if (!m || !h.up) return;
    const wake = m.nextWakeupAt ? m.nextWakeupAt() : -Infinity;
    if (wake === Infinity) return;
    const now = this.sched.time;
    const tickMs = this.params.tickMs;
    const from = wake > now ? wake : now;
    let t = h.tickPhase + Math.max(0, Math.ceil((from - h.tickPhase) / tickMs)) * tickMs;
    if (t < from) t += tickMs; // rounding
    if (t <= h.lastTickAt) t = h.tickPhase + (Math.floor((h.lastTickAt - h.tickPhase) / tickMs + 0.5) + 1) * tickMs;
    if (t >= h.tickAt) return;
    h.tickAt = t;
    this.sched.at(t, TICK, h.index, h.gen, null);
  }

  /** Crash: memory is gone, the store stays (or goes too, with diskLoss). */
  crash(h: Host, diskLoss: boolean): void {
    if (!h.up) return;
    this.lastFaultAt = this.sched.time;
    this.checker.snapshot(h, 200);
    h.machine = null;
    h.up = false;
    this.upCount--;
    h.gen++;
    h.crashes++;
    if (diskLoss) {
      h.store = new SimStore(this.interner);
      h.amnesiac = true;
    }
  }

  restart(h: Host): void {
    if (h.up || h.left) return;
    this.lastFaultAt = this.sched.time;
    this.start(h);
    this.checker.verifyRestart(h, this.sched.time);
  }

  /** A new node: its own key, a fresh store, a signed join request to the mint. */
  join(): Host {
    const signer = this.scheme.signer(this.rng.fork(`join-${this.hosts.length}`).bytes(32));
    const h = this.addHost(signer, 'honest');
    this.lastFaultAt = this.sched.time;
    this.start(h);
    this.route(h.index, MINT_ADDR, joinRequest(NETWORK_ID, signer, [`/sim/${h.index}`], Math.floor(this.sched.time)));
    return h;
  }

  private deliverNow(h: Host, from: Address, msg: Message): void {
    if (!h.machine) return;
    this.stepKind = msg.type;
    this.processNode(h, this.step(() => h.machine!.receive(from, msg)));
  }

  step<E>(f: () => Output<E>): Output<E> {
    try {
      return f();
    } catch (e) {
      return this.failed(e);
    }
  }

  /** step() for a delivery, without a closure per message (the hot path). */
  private receive(m: NodeMachineApi, from: Address, msg: Message): Output<NodeEvent> {
    try {
      return m.receive(from, msg);
    } catch (e) {
      return this.failed(e);
    }
  }

  private failed<E>(e: unknown): Output<E> {
    this.errorCount++;
    if (this.errors.length < 5) this.errors.push(`${Math.round(this.sched.time)} ms: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return { send: [], persist: [], events: [] };
  }

  /** Hands a transfer to a random gateway, as a wallet's POST would; returns the gateway. */
  submit(t: Transfer, avoid = -1, first = false): number {
    if (first) this.obs.series.add('submitted', this.sched.time);
    let g = this.rng.int(this.hosts.length);
    for (let tries = 0; tries < 8 && (g === avoid || this.hosts[g]!.left); tries++) g = this.rng.int(this.hosts.length);
    const n = this.net.delays(WALLET, g, true, this.delayBuf);
    if (n > 0) this.sched.after(this.delayBuf[0]!, SUBMIT, g, 0, t);
    if (this.byzantine.active) this.byzantine.onSubmit(t, g);
    if (this.params.adversaries.doubleSpenders > 0) this.noteReach(t, -1);
    return g;
  }

  /** Processes one node step: durable first, then observers, then the sends. */
  processNode(h: Host, out: Output<NodeEvent>): void {
    if (out.persist.length > 0) h.store.apply(out.persist);
    const now = this.sched.time;
    for (const ev of out.events) this.onNodeEvent(h, ev, now);
    if (this.stepCrashes.armed && h.honest && this.stepCrashes.strike(h, this.stepKind, out)) return;
    if (out.send.length > 0) {
      const sends = h.role === 'honest' ? out.send : this.adversaries.filter(h, out.send);
      for (const s of sends) this.route(h.index, s.to, s.msg);
    }
    this.scheduleTick(h);
  }

  private onNodeEvent(h: Host, ev: NodeEvent, now: number): void {
    if (ev.type === 'status') {
      const rec = this.workload.onStatus(hexOf(ev.transferId), ev.status, ev.reason, now);
      if (rec !== undefined) this.noteStatus(rec, now);
    } else if (ev.type === 'notice-sent') this.obs.onNotice(ev.notice, h.honest, now);
    this.checker.onNodeEvent(h, ev, now);
  }

  private noteStatus(rec: TxRecord, now: number): void {
    if (rec.kind === 'issue' || rec.kind === 'fund') this.course.onFundingStatus(rec, now);
    else this.obs.onTransferStatus(rec, now);
  }

  processMint(out: Output<MintEvent>): void {
    if (out.persist.length > 0) this.mintStore.apply(out.persist);
    const now = this.sched.time;
    for (const ev of out.events) this.onMintEvent(ev, now);
    for (const s of out.send) this.route(MINT, s.to, s.msg);
  }

  private onMintEvent(ev: MintEvent, now: number): void {
    this.obs.onMintEvent(ev, now, (hex) => this.hostByHex.get(hex));
    this.checker.onMintEvent(ev, now, (hex) => {
      const i = this.hostByHex.get(hex);
      // A node that is down when evicted for silence is not punished for misbehaving (failure detection, protocol.md §7).
      return i !== undefined && this.hosts[i]!.honest && !(ev.type === 'evicted' && !this.hosts[i]!.up);
    });
  }

  /** Sends one message from `from` (a node index or MINT) through the network. */
  route(from: number, to: Address, msg: Message): void {
    const now = this.sched.time;
    this.messages++;
    this.obs.series.add('messages', now);
    if (this.params.measureBytes) {
      const size = wireSize(msg);
      this.bytes += size;
      this.obs.series.add('bytes', now, size);
    }
    if (from >= 0) this.hosts[from]!.messagesOut++;
    if (this.byzantine.active) this.byzantine.observe(msg, from, to);
    if ('node' in to) {
      const i = this.hostByHex.get(to.node);
      if (i === undefined) return;
      if (i === from) {
        this.sched.after(0, DELIVER, i, from, msg); // to itself: no wire
        return;
      }
      const n = this.net.delays(from, i, false, this.delayBuf);
      if (n === 0) this.obs.series.add('dropped', now);
      for (let c = 0; c < n; c++) this.sched.after(this.delayBuf[c]!, DELIVER, i, from, msg);
    } else if ('mint' in to) {
      const n = this.net.delays(from, MINT, false, this.delayBuf);
      if (n === 0) this.obs.series.add('dropped', now);
      for (let c = 0; c < n; c++) this.sched.after(this.delayBuf[c]!, MINT_DELIVER, 0, from, msg);
    } else {
      // The mint's gossip topics reach every node (the mesh repeats what one link loses).
      for (let i = 0; i < this.hosts.length; i++) {
        if (this.hosts[i]!.left) continue;
        this.net.delays(from, i, true, this.delayBuf);
        this.sched.after(this.delayBuf[0]!, DELIVER, i, from, msg);
      }
    }
  }

  private noteReach(t: Transfer, node: number): void {
    const idHex = hexOf(transferId(t));
    const rec = this.workload.byId.get(idHex);
    if (!rec || rec.kind !== 'double-spend' || node < 0) return;
    let s = this.checker.reached.get(idHex);
    if (!s) this.checker.reached.set(idHex, (s = new Set()));
    s.add(node);
  }

  /** Calls `f` at virtual time `at` ms (faults, adversary actions: rare events). */
  call(at: number, f: () => void): void {
    this.sched.at(Math.max(at, this.sched.time), CALL, 0, 0, f);
  }

  /** Runs until the workload settles, the drain time runs out, or the hard stop. */
  run(): void {
    const s = this.sched;
    const hardStop = this.params.maxVirtualSeconds > 0 ? this.params.maxVirtualSeconds * 1000 : Infinity;
    const hosts = this.hosts;
    const tickMs = this.params.tickMs;
    const dsWatch = this.params.adversaries.doubleSpenders > 0;
    const course = this.course;
    while (course.state !== 'done' && s.pop(hardStop)) {
      switch (s.kind) {
        case DELIVER: {
          const h = hosts[s.a]!;
          if (!h.up || !this.net.connected(s.b, s.a)) break;
          const msg = s.item as Message;
          h.messagesIn++;
          if (dsWatch && msg.type === 'vote-request' && h.honest) this.noteReach(msg.transfer, h.index);
          const from = s.b === MINT ? MINT_ADDR : hosts[s.b]!.addr;
          this.stepKind = msg.type;
          this.processNode(h, this.receive(h.machine!, from, msg));
          break;
        }
        case TICK: {
          const h = hosts[s.a]!;
          if (!h.up || s.b !== h.gen || s.time !== h.tickAt) break; // a stale tick
          h.tickAt = Infinity;
          h.lastTickAt = s.time;
          const m = h.machine!;
          this.stepKind = 'tick';
          this.processNode(h, this.step(() => m.tick()));
          break;
        }
        case MINT_DELIVER: {
          if (!this.net.connected(s.b, MINT)) break;
          const from = hosts[s.b]!.addr;
          const msg = s.item as Message;
          this.processMint(this.step(() => this.mint.receive(from, msg)));
          break;
        }
        case MINT_TICK:
          this.processMint(this.step(() => this.mint.tick()));
          s.after(tickMs, MINT_TICK, 0, 0, null);
          break;
        case SUBMIT: {
          const h = hosts[s.a]!;
          if (!h.up) break;
          const t = s.item as Transfer;
          const m = h.machine!;
          this.stepKind = 'submit';
          this.processNode(h, this.step(() => m.submit(t)));
          break;
        }
        case ARRIVAL:
          course.arrival();
          break;
        case WALLET_CHECK:
          this.workload.check(s.item as TxRecord);
          break;
        case FUND:
          course.fundOne();
          break;
        case SECOND:
          course.second();
          break;
        case CALL:
          (s.item as () => void)();
          break;
      }
    }
    course.state = 'done';
  }

  get state(): RunState {
    return this.course.state;
  }

  get fundedAt(): number {
    return this.course.fundedAt;
  }

  get quiet(): boolean {
    return this.course.quiet;
  }

  /** Hosts up now. */
  get nodesUp(): number {
    return this.upCount;
  }

  secondPassed(): void {
    this.onSecond?.(this);
  }
}
