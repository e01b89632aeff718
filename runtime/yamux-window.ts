// Yamux receive-window updates at half the window, not after every data frame.
// @chainsafe/libp2p-yamux answers each data frame it receives with a window-update
// frame, sent at once: on /ringmint/1/msg, where most frames carry one or a few small
// messages, that doubles the frames on the wire, and each costs a noise encryption,
// a socket write and, at the peer, a read and a decryption (about a third of a
// node's libp2p CPU at low load). Go's yamux, and the spec's intent, update once
// half the window is used; this does the same for established streams. Frames with
// flags (SYN, ACK) still go out as before, and the sender is never short of window:
// a frame is at most 64 KiB (MAX_FRAME_BYTES), the window at least 256 KiB.
import { YamuxStream, StreamState } from '@chainsafe/libp2p-yamux/stream';

/** Past this share of the receive window used, the update is sent (Go's yamux: half). */
const UPDATE_AT_USED_SHARE = 0.5;

type WindowFields = { state: StreamState; recvWindow: number; recvWindowCapacity: number };

let installed = false;

/** Installs the half-window rule (idempotent; called once per process by the libp2p host). */
export function deferYamuxWindowUpdates(): void {
  if (installed) return;
  installed = true;
  const proto = YamuxStream.prototype as unknown as { sendWindowUpdate(this: WindowFields): void };
  const original = proto.sendWindowUpdate;
  proto.sendWindowUpdate = function (this: WindowFields): void {
    if (this.state === StreamState.Established && this.recvWindow - this.recvWindowCapacity < this.recvWindow * UPDATE_AT_USED_SHARE) return;
    original.call(this);
  };
}
