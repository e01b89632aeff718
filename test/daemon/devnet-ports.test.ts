// The devnet's listen ports: drawn below every OS's ephemeral range, so no outgoing
// connection can take one between the probe and the daemon's bind, and never the
// same one twice in a process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { freePort } from '../../localnet/devnet.ts';

test('ports are distinct, below the ephemeral range, and bindable', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 40; i++) ports.push(await freePort());
  assert.is(new Set(ports).size, ports.length, 'no port handed out twice');
  for (const p of ports) assert.ok(p >= 20_000 && p < 32_768, `port ${p} is outside the ephemeral range`);
  const s = createServer();
  await new Promise<void>((res) => s.listen(ports[0], '127.0.0.1', () => res()));
  await new Promise<void>((res) => s.close(() => res()));
});

test.run();
