// Yamux window updates at half the receive window: an established stream that has
// used less than half its window sends none; past half it sends one restoring the
// whole window; a stream still owing its ACK flag sends it at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { YamuxStream, StreamState } from '@chainsafe/libp2p-yamux/stream';
import { deferYamuxWindowUpdates } from '../../runtime/yamux-window.ts';

type Frame = { type: number; flag: number; length: number };

/** Just the fields and methods the library's sendWindowUpdate reads, on the real prototype. */
function fakeStream(state: StreamState, recvWindow: number, used: number) {
  const frames: Frame[] = [];
  const s = Object.create(YamuxStream.prototype) as Record<string, unknown>;
  Object.assign(s, {
    state,
    recvWindow,
    recvWindowCapacity: recvWindow - used,
    maxStreamWindowSize: recvWindow,
    epochStart: 0,
    streamId: 1,
    getRTT: () => -1,
    sendFrame: (f: Frame) => void frames.push(f),
  });
  return { s: s as unknown as { sendWindowUpdate(): void; recvWindowCapacity: number; state: StreamState }, frames };
}

const WINDOW = 256 * 1024;

test('an established stream below half its window sends no update', () => {
  deferYamuxWindowUpdates();
  const { s, frames } = fakeStream(StreamState.Established, WINDOW, 1_000);
  s.sendWindowUpdate();
  assert.equal(frames.length, 0);
  assert.equal(s.recvWindowCapacity, WINDOW - 1_000);
});

test('past half the window one update restores it', () => {
  deferYamuxWindowUpdates();
  const { s, frames } = fakeStream(StreamState.Established, WINDOW, WINDOW / 2 + 1);
  s.sendWindowUpdate();
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.length, WINDOW / 2 + 1);
  assert.equal(s.recvWindowCapacity, WINDOW);
});

test('a stream owing its ACK sends it at once', () => {
  deferYamuxWindowUpdates();
  const { s, frames } = fakeStream(StreamState.SYNReceived, WINDOW, 10);
  s.sendWindowUpdate();
  assert.equal(frames.length, 1);
  assert.ok(frames[0]!.flag !== 0);
  assert.equal(s.state, StreamState.Established);
});

test.run();
