// Gossipsub topic validators (docs/security.md, Gossip): only the mint publishes on the
// ring's topics, and what it publishes is mint-signed. A message is checked before it
// is delivered or forwarded: published by the mint's peer (gossipsub has already
// checked that peer's envelope signature), of the topic's one message type, signed
// by the mint key, and for an epoch record, linked to the epoch this host holds.
// Reject is reported to gossipsub's peer scoring (P4) and to our own peer score.
import { TopicValidatorResult } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import type { Message as GossipMessage } from '@libp2p/gossipsub';
import { equal, type Bytes } from '../protocol/bytes.ts';
import { decodeMessage, type Message } from '../protocol/messages.ts';
import { AlertCodec, EpochCodec, RepudiationCodec, epochHash, type EpochRecord } from '../protocol/objects.ts';
import { verify } from '../protocol/signing.ts';
import { ed25519 } from '../protocol/signature.ts';
import type { EpochSource } from './peer-gate.ts';

export const GossipTopics = {
  epochs: '/ringmint/1/epochs',
  alerts: '/ringmint/1/alerts',
  repudiations: '/ringmint/1/repudiations',
} as const;

const typeOfTopic: Record<string, Message['type']> = {
  [GossipTopics.epochs]: 'epoch',
  [GossipTopics.alerts]: 'alert',
  [GossipTopics.repudiations]: 'repudiation',
};

export type GossipVerdict = { result: TopicValidatorResult; why: string };

const ACCEPT: GossipVerdict = { result: TopicValidatorResult.Accept, why: 'ok' };
const reject = (why: string): GossipVerdict => ({ result: TopicValidatorResult.Reject, why });

export type GossipCheckInit = {
  readonly network: string;
  readonly mintKey: Bytes;
  readonly mintPeer: PeerId;
  /** The epochs this host holds (null: no chain check, e.g. the mint, which makes them). */
  readonly epochs: EpochSource | null;
};

/** Whether an epoch record fits the chain this host holds: the next one links to the current, an old one is the one held. */
function chainFits(record: EpochRecord, epochs: EpochSource): boolean {
  const cur = epochs.current();
  if (record.epoch === cur.epoch + 1) return equal(record.prev, epochHash(cur));
  if (record.epoch <= cur.epoch) {
    const held = epochs.byNumber(record.epoch);
    return held === undefined || equal(epochHash(held), epochHash(record));
  }
  // Further ahead (this host missed some): the mint's signature is what vouches for it.
  return true;
}

/** The check itself, apart from gossipsub (tests call it directly). */
export function checkGossip(init: GossipCheckInit, topic: string, msg: GossipMessage): GossipVerdict {
  if (msg.type !== 'signed' || !msg.from.equals(init.mintPeer)) return reject('not published by the mint');
  const want = typeOfTopic[topic];
  if (want === undefined) return reject('unknown topic');
  let m: Message;
  try {
    m = decodeMessage(init.network, msg.data);
  } catch {
    return reject('malformed');
  }
  if (m.type !== want) return reject('wrong type for topic');
  if (m.type === 'epoch') {
    if (!verify(EpochCodec, init.network, ed25519, init.mintKey, m.record)) return reject('epoch not signed by the mint');
    if (init.epochs !== null && !chainFits(m.record, init.epochs)) return reject('epoch does not link to the chain held');
  } else if (m.type === 'alert') {
    if (!verify(AlertCodec, init.network, ed25519, init.mintKey, m.alert)) return reject('alert not signed by the mint');
  } else if (m.type === 'repudiation') {
    if (!verify(RepudiationCodec, init.network, ed25519, init.mintKey, m.repudiation)) return reject('repudiation not signed by the mint');
  }
  return ACCEPT;
}

/** Validators for every ring topic; `onReject` learns the peer that propagated a rejected message. */
export function gossipValidators(init: GossipCheckInit, onReject: (from: PeerId, why: string) => void): Map<string, (peer: PeerId, msg: GossipMessage) => TopicValidatorResult> {
  const out = new Map<string, (peer: PeerId, msg: GossipMessage) => TopicValidatorResult>();
  for (const topic of Object.values(GossipTopics)) {
    out.set(topic, (peer, msg) => {
      const v = checkGossip(init, topic, msg);
      if (v.result === TopicValidatorResult.Reject) onReject(peer, v.why);
      return v.result;
    });
  }
  return out;
}
