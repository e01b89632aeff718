// Property (I7, protocol.md §9): whatever mix of notices arrives, an honest reporter,
// who reports only real offences, never loses reputation; a false accuser ends
// with a negative score.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { toHex } from '../../protocol/bytes.ts';
import { Ring } from '../../protocol/ring.ts';
import { fastScheme } from '../../protocol/signature.ts';
import { doubleSpend, equivocation, forgedDoubleSpend, joinRequest, key, makeNet, notice, scoreOf, sendNotice } from './helpers.ts';

const HONEST = 4;
const LIARS = 2;
const EQUIVOCATORS = 2;
const ACCOUNTS = Array.from({ length: 5 }, (_, i) => key(fastScheme, `acct${i}`));

type Op =
  | { kind: 'honest-ds'; who: number; acct: number; seq: number }
  | { kind: 'honest-eq'; who: number; voter: number; acct: number; seq: number }
  | { kind: 'lie'; who: number; acct: number; seq: number }
  | { kind: 'epoch'; joiner: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('honest-ds' as const), who: fc.nat(HONEST - 1), acct: fc.nat(ACCOUNTS.length - 1), seq: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('honest-eq' as const), who: fc.nat(HONEST - 1), voter: fc.nat(EQUIVOCATORS - 1), acct: fc.nat(ACCOUNTS.length - 1), seq: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('lie' as const), who: fc.nat(LIARS - 1), acct: fc.nat(ACCOUNTS.length - 1), seq: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('epoch' as const), joiner: fc.nat(1000) }),
);

test('I7: honest reporters never go below 0; false accusers end negative', () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
      const net = makeNet({ scheme: fastScheme, members: HONEST + LIARS + EQUIVOCATORS });
      const honest = net.nodes.slice(0, HONEST);
      const liars = net.nodes.slice(HONEST, HONEST + LIARS);
      const equivocators = net.nodes.slice(HONEST + LIARS);
      const lied = new Set<number>();
      for (const o of ops) {
        if (o.kind === 'honest-ds') sendNotice(net, notice(honest[o.who]!, doubleSpend(ACCOUNTS[o.acct]!, o.seq)));
        else if (o.kind === 'honest-eq') {
          // An honest node reports only votes it really saw: from a custodian, in the current epoch.
          const epoch = net.mint.currentEpoch();
          const voter = equivocators[o.voter]!;
          if (!new Ring(epoch).isCustodian(voter.publicKey, ACCOUNTS[o.acct]!.publicKey)) continue;
          sendNotice(net, notice(honest[o.who]!, equivocation(voter, ACCOUNTS[o.acct]!, o.seq, epoch.epoch)));
        } else if (o.kind === 'lie') {
          sendNotice(net, notice(liars[o.who]!, forgedDoubleSpend(ACCOUNTS[o.acct]!, liars[o.who]!, o.seq)));
          lied.add(o.who);
        } else {
          const j = joinRequest(key(fastScheme, `joiner${o.joiner}`));
          net.run(net.mint.receive({ node: toHex(j.node) }, { type: 'join', join: j }));
          net.clock.t += net.mint.options.epochIntervalMs;
          net.run(net.mint.tick());
        }
        for (const h of honest) if (scoreOf(net, h) < 0) return false;
      }
      for (const l of lied) if (!(scoreOf(net, liars[l]!) < 0)) return false;
      // Honest nodes are never banned, and no alert ever names an account that did not double-spend here.
      return honest.every((h) => !net.mint.isBanned(h.publicKey));
    }),
    { numRuns: 150, seed: 20240601 },
  );
});

test('the property can fail: a liar counted as honest is caught', () => {
  const net = makeNet({ scheme: fastScheme });
  sendNotice(net, notice(net.nodes[0]!, forgedDoubleSpend(ACCOUNTS[0]!, net.nodes[0]!, 1)));
  assert.ok(scoreOf(net, net.nodes[0]!) < 0);
});

test.run();
