// Failpoints (runtime/failpoints.ts): off unless named, `name@N` fires on the N-th hit,
// and the driver reaches `persisted:<kind>` once a step is durable and `send:<kind>`
// before its messages leave, so a crash there loses exactly the step's answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Message } from '../../protocol/messages.ts';
import { FAILPOINT_EXIT_CODE, Failpoints } from '../../runtime/failpoints.ts';
import { manualStore, testDriver } from './driver-stub.ts';

class Exited extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}
const throwing = (code: number): never => {
  throw new Exited(code);
};

test('no spec: nothing is armed and every point passes', () => {
  const f = new Failpoints(undefined, throwing);
  assert.is(f.enabled, false);
  for (let i = 0; i < 10; i++) f.hit('persisted:vote-request');
  assert.is(new Failpoints('', throwing).enabled, false);
});

test('name fires on the first hit, name@N on the N-th, with the distinctive exit code', () => {
  const f = new Failpoints('send:vote, persisted:store@3', throwing);
  assert.equal(f.names(), ['send:vote', 'persisted:store@3']);
  f.hit('send:receipt');
  f.hit('persisted:store');
  f.hit('persisted:store');
  assert.throws(() => f.hit('persisted:store'), (e: unknown) => e instanceof Exited && e.code === FAILPOINT_EXIT_CODE);
  assert.throws(() => f.hit('send:vote'), (e: unknown) => e instanceof Exited);
});

test('a bad count is refused at start, not ignored', () => {
  assert.throws(() => new Failpoints('send:vote@0', throwing), /bad count/);
  assert.throws(() => new Failpoints('send:vote@x', throwing), /bad count/);
});

test('the driver: persisted:<kind> after the step is durable, send:<kind> before its messages leave', async () => {
  const { store, waiting } = manualStore();
  const sent: Message[] = [];
  const hits: string[] = [];
  const fp = new Failpoints('persisted:vote-request', throwing);
  const hit = fp.hit.bind(fp);
  fp.hit = (name: string) => {
    hits.push(name);
    hit(name);
  };
  const driver = testDriver(store, {
    transport: { send: (_to, msg) => void sent.push(msg) },
    failpoints: fp,
  });
  const msg: Message = { type: 'stored', transferId: new Uint8Array(32) };
  // A step that persists nothing: only its send point.
  void driver.step('vote', () => ({ send: [{ to: { node: 'aa' }, msg }], persist: [], events: [] }));
  waiting.shift()!.finish();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(hits, ['send:vote']);
  assert.is(sent.length, 1);
  // A step with a record: the armed point fires after the write, before the message.
  void driver.step('vote-request', () => ({ send: [{ to: { node: 'aa' }, msg }], persist: [{ key: 'l/x', value: new Uint8Array([1]) }], events: [] }));
  assert.is(waiting.length, 1);
  const finished = new Promise<unknown>((res) => {
    queueMicrotask(() => {
      try {
        waiting.shift()!.finish();
      } catch (e) {
        res(e);
      }
    });
    process.once('uncaughtException', res);
    setTimeout(() => res(null), 50);
  });
  const err = await finished;
  assert.ok(err instanceof Exited, `exited: ${String(err)}`);
  assert.equal(hits, ['send:vote', 'persisted:vote-request']);
  assert.is(sent.length, 1, 'the durable step\'s message never left');
});

test.run();
