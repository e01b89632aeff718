// Bytes a message would take on the wire, for the simulator's traffic figures.
// messageSize computes the frequent types from field lengths; the rare ones it
// finds by encoding, and those objects are often shared (one epoch record gossiped
// to every node), so their sizes are remembered per message object.
import { messageSize, type Message } from '../protocol/messages.ts';

/** Message types whose size messageSize finds by encoding (see messages.ts). */
const ENCODED_SIZE = new Set<string>(['reject', 'account-state', 'notice', 'join', 'alert', 'repudiation', 'epoch']);
const remembered = new WeakMap<object, number>();

export function wireSize(msg: Message): number {
  if (!ENCODED_SIZE.has(msg.type)) return messageSize(msg);
  let size = remembered.get(msg);
  if (size === undefined) remembered.set(msg, (size = messageSize(msg)));
  return size;
}
