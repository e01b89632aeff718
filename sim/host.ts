// One simulated node: its key, its durable store (a MemoryStore that survives a
// crash, not a disk loss), the machine built from it while it is up, and its role.
import { toHex, type Bytes } from '../protocol/bytes.ts';
import type { Address } from '../protocol/ports.ts';
import { SimStore, type BundleInterner } from './store.ts';
import type { NodeMachineApi } from '../node/core/api.ts';
import type { Signer } from '../protocol/signature.ts';

/** byzantine: a member that also sends arbitrary well-formed messages; outsider: a key in no epoch, with no machine. */
export type Role = 'honest' | 'silent' | 'equivocator' | 'false-accuser' | 'byzantine' | 'outsider';

export class Host {
  readonly index: number;
  readonly signer: Signer;
  readonly id: Bytes;
  /** Hex id; after genesis the very string the machines use for this member (see World). */
  idHex: string;
  addr: Address;
  readonly role: Role;
  machine: NodeMachineApi | null = null;
  store: SimStore;
  readonly interner: BundleInterner | null;
  up = false;
  /** Bumped at every crash: timer events of an earlier life are dropped. */
  gen = 0;
  /** Lost its disk once: it no longer remembers its votes, so durability checks skip it. */
  amnesiac = false;
  /** Left the network for good (churn). */
  left = false;
  /** This life's tick grid: ticks fall on tickPhase + n * tickMs (see World.scheduleTick). */
  tickPhase = 0;
  /** Time of the one live pending tick (+Infinity: none); earlier tick events are stale. */
  tickAt = Infinity;
  /** Time of the last tick run in this life: the grid point is not ticked twice. */
  lastTickAt = -Infinity;
  /** Virtual time this life of the machine began. */
  startedAt = 0;
  crashes = 0;
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;

  constructor(index: number, signer: Signer, role: Role, interner: BundleInterner | null = null) {
    this.index = index;
    this.interner = interner;
    this.store = new SimStore(interner);
    this.signer = signer;
    this.id = signer.publicKey;
    this.idHex = toHex(signer.publicKey);
    this.addr = { node: this.idHex };
    this.role = role;
  }

  get honest(): boolean {
    return this.role === 'honest';
  }
}
