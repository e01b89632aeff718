// Shared set-up for the mint tests: a small network with deterministic keys, a
// hand-driven clock, and builders for the signed objects nodes would send.
import { ZERO32, utf8, type Bytes } from '../../protocol/bytes.ts';
import { sha256 } from '../../protocol/hash.ts';
import { Rejection } from '../../protocol/errors.ts';
import type { Genesis, ReputationParams } from '../../protocol/genesis.ts';
import {
  JoinCodec, NoticeCodec, TransferCodec, VoteCodec, doubleSpendEvidence, equivocationEvidence, sign, transferId,
  type Evidence, type JoinRequest, type Notice, type Transfer, type Vote,
} from '../../protocol/objects.ts';
import { MemoryStore, type Output } from '../../protocol/ports.ts';
import { Ring } from '../../protocol/ring.ts';
import type { Certificate } from '../../protocol/objects.ts';
import type { SignatureScheme, Signer } from '../../protocol/signature.ts';
import type { MintEvent, MintOptions } from '../../mint/core/api.ts';
import type { AdmissionPolicy } from '../../protocol/genesis.ts';
import { createGenesis } from '../../mint/core/genesis-create.ts';
import { MintMachine } from '../../mint/core/mint-machine.ts';

export const NET = 'testnet';

export class TestClock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
}

export function key(scheme: SignatureScheme, name: string): Signer {
  return scheme.signer(sha256(utf8(`key:${name}`)));
}

export type Net = {
  scheme: SignatureScheme;
  mintKey: Signer;
  nodes: Signer[];
  genesis: Genesis;
  clock: TestClock;
  store: MemoryStore;
  mint: MintMachine;
  /** Steps the mint and keeps its persisted records, as a driver would. */
  run(o: Output<MintEvent>): Output<MintEvent>;
  restart(): MintMachine;
};

export function makeNet(opts: {
  scheme: SignatureScheme;
  members?: number;
  k?: number;
  q?: number;
  supplyCap?: bigint | null;
  reputation?: Partial<ReputationParams>;
  admission?: AdmissionPolicy;
  options?: Partial<MintOptions>;
}): Net {
  const scheme = opts.scheme;
  const mintKey = key(scheme, 'mint');
  const nodes = Array.from({ length: opts.members ?? 4 }, (_, i) => key(scheme, `node${i}`));
  const clock = new TestClock();
  const genesis = createGenesis({
    network: NET,
    mint: mintKey,
    members: nodes.map((n) => n.publicKey),
    k: opts.k,
    q: opts.q,
    supplyCap: opts.supplyCap ?? null,
    reputation: opts.reputation,
    admission: opts.admission,
    issuedAt: clock.t,
  });
  const store = new MemoryStore();
  const build = () => new MintMachine({ genesis, signer: mintKey, scheme, clock, restore: store, options: opts.options });
  const net: Net = {
    scheme, mintKey, nodes, genesis, clock, store,
    mint: build(),
    run(o) {
      store.apply(o.persist);
      return o;
    },
    restart() {
      net.mint = build();
      return net.mint;
    },
  };
  return net;
}

export function transfer(from: Signer, to: Bytes, seq: number, amount = 10n, memo = 'x', prev: Bytes = ZERO32): Transfer {
  return sign(TransferCodec, NET, from, { from: from.publicKey, to, amount, seq, prev, memo: utf8(memo) });
}

export function vote(voter: Signer, t: Transfer, epoch = 0): Vote {
  return sign(VoteCodec, NET, voter, { transferId: transferId(t), from: t.from, seq: t.seq, epoch, voter: voter.publicKey });
}

export function notice(reporter: Signer, evidence: Evidence): Notice {
  return sign(NoticeCodec, NET, reporter, { evidence, reporter: reporter.publicKey });
}

export function joinRequest(node: Signer, at = 0): JoinRequest {
  return sign(JoinCodec, NET, node, { node: node.publicKey, addrs: ['/ip4/127.0.0.1/tcp/1'], issuedAt: at });
}

/** A real double spend by `account` at `seq`: two different signed transfers. */
export function doubleSpend(account: Signer, seq: number): Evidence {
  const a = transfer(account, sha256(utf8('bob')), seq, 5n, 'a');
  const b = transfer(account, sha256(utf8('carol')), seq, 5n, 'b');
  return doubleSpendEvidence(a, b);
}

/** A false accusation: the "second transfer" is forged (signed by someone else). */
export function forgedDoubleSpend(account: Signer, forger: Signer, seq: number): Evidence {
  const a = transfer(account, sha256(utf8('bob')), seq, 5n, 'a');
  const fake = sign(TransferCodec, NET, forger, { from: account.publicKey, to: sha256(utf8('eve')), amount: 5n, seq, prev: ZERO32, memo: utf8('f') });
  return doubleSpendEvidence(a, fake);
}

export function equivocation(voter: Signer, account: Signer, seq: number, epoch = 0): Evidence {
  const a = transfer(account, sha256(utf8('bob')), seq, 5n, 'a');
  const b = transfer(account, sha256(utf8('carol')), seq, 5n, 'b');
  return equivocationEvidence(vote(voter, a, epoch), vote(voter, b, epoch));
}

/**
 * Sends a notice as its reporter. A double spend goes with a proof that the account held
 * funds (an issuance to it, certified in epoch 0), as a custodian holding the account
 * would send it; `proof: null` sends none (a throwaway key's double spend).
 */
export function sendNotice(net: Net, n: Notice, proof?: Certificate | null): Output<MintEvent> {
  const p = proof === undefined && n.evidence.kind === 'double-spend' ? fundingProof(net, n.evidence.t1.from) : (proof ?? undefined);
  return net.run(net.mint.receive({ node: Buffer.from(n.reporter).toString('hex') }, p ? { type: 'notice', notice: n, proof: p } : { type: 'notice', notice: n }));
}

/** A certificate of an issuance to `account`, with q votes of the mint account's epoch-0 custodians. */
export function fundingProof(net: Net, account: Bytes, amount = 1_000n): Certificate {
  const t = transfer(net.mintKey, account, 1, amount, 'funding');
  const ring = new Ring(net.genesis.epoch0);
  const voters = ring.custodians(net.mintKey.publicKey).map((c) => net.nodes.find((s) => Buffer.from(s.publicKey).equals(Buffer.from(c)))!);
  return { transfer: t, votes: voters.slice(0, ring.q).map((s) => vote(s, t, 0)) };
}

export function scoreOf(net: Net, s: Signer): number {
  return net.mint.reputation().get(Buffer.from(s.publicKey).toString('hex')) ?? 0;
}

/** Asserts `fn` throws a Rejection with this reason code. */
export function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof Rejection && e.code === code) return;
    throw new Error(`expected Rejection ${code}, got ${e instanceof Error ? e.message : String(e)}`);
  }
  throw new Error(`expected Rejection ${code}, nothing thrown`);
}
