// End to end: a devnet of real processes on loopback (mint + 5 nodes), driven through
// the HTTP APIs: issuance, transfers, a double spend, a node crash and restart, a node
// joining, and the invariants I1-I6 checked by asking every node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiError } from '../../runtime/http-client.ts';
import type { Devnet } from '../../localnet/devnet.ts';
import type { DevnetFile } from '../../runtime/devnet-file.ts';
import { Account, get, loudly, post, tempDevnet, until } from './helpers.ts';
import { readGenesisFile } from '../../runtime/genesis-file.ts';
import { bundleFromHex } from '../../protocol/json.ts';
import { verifyBundle } from '../../wallet/verify.ts';

let devnet: Devnet;
let f: DevnetFile;
let network = '';
let alice: Account, bob: Account, carol: Account;
const issued: bigint[] = [];
/** Transfers certified and the gateway each went through. */
const certified: { id: string; gateway: number; to: 'bob' | 'carol' | 'alice'; amount: bigint }[] = [];

const nodeApi = (i: number) => f.nodes[i]!.api;
const balanceAt = async (i: number, a: Account) => (await get(`${nodeApi(i)}/accounts/${a.address}`)) as { balance: string; seq: number; frozen: boolean; custodians: { asked: number; answered: number } };

async function everyNode<T>(fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(f.nodes.map((_, i) => fn(i)));
}

async function balancesAgree(a: Account, want: bigint): Promise<boolean> {
  const all = await everyNode((i) => balanceAt(i, a));
  return all.every((x) => BigInt(x.balance) === want);
}

test.before(loudly(async () => {
  devnet = tempDevnet(5);
  f = await devnet.start();
  network = ((await get(`${f.mint.api}/status`)) as { network: string }).network;
  alice = new Account(network);
  bob = new Account(network);
  carol = new Account(network);
}, () => devnet?.dir));

test.after(async () => {
  await devnet?.stop();
});

test('every node answers /status with epoch 0 and the ring of 5', async () => {
  const all = await everyNode((i) => get(`${nodeApi(i)}/status`));
  for (const s of all) {
    assert.is(s.epoch, 0);
    assert.is(s.members, 5);
    assert.is(s.network, network);
  }
  const ring = await get(`${nodeApi(0)}/ring`);
  assert.is(ring.members.length, 5);
});

test('issuance: the mint issues to alice; every node sees the balance', async () => {
  const r = await post(`${f.mint.api}/issue?wait=stored&timeoutMs=20000`, { to: alice.address, amount: '1000000' }, f.mint.token);
  assert.is(r.status, 200);
  assert.is(r.body.status, 'stored');
  issued.push(1_000_000n);
  await until('alice balance at every node', () => balancesAgree(alice, 1_000_000n));
  const status = await get(`${f.mint.api}/status`);
  assert.is(status.issued, '1000000');
});

test('mint endpoints need the operator token', async () => {
  try {
    await post(`${f.mint.api}/issue`, { to: alice.address, amount: '1' });
    assert.unreachable('issued without a token');
  } catch (e) {
    assert.instance(e, ApiError);
    assert.is((e as ApiError).status, 401);
    assert.is((e as ApiError).code, 'UNAUTHORIZED');
  }
});

test('transfers: alice pays bob through one gateway, then carol through another', async () => {
  const t1 = alice.transfer(bob.address, 250_000n);
  const r1 = await post(`${nodeApi(1)}/transfers?wait=credited&timeoutMs=20000`, { transfer: t1 });
  assert.is(r1.status, 200);
  assert.ok(['credited', 'stored'].includes(r1.body.status));
  certified.push({ id: t1.id, gateway: 1, to: 'bob', amount: 250_000n });
  const t2 = alice.transfer(carol.address, 50_000n);
  const r2 = await post(`${nodeApi(3)}/transfers?wait=stored&timeoutMs=20000`, { transfer: t2 });
  assert.is(r2.body.status, 'stored');
  certified.push({ id: t2.id, gateway: 3, to: 'carol', amount: 50_000n });
  await until('balances everywhere', async () => (await balancesAgree(alice, 700_000n)) && (await balancesAgree(bob, 250_000n)) && (await balancesAgree(carol, 50_000n)));
  // Any node finds the receipt bundle, from its own store or the storage nodes.
  for (let i = 0; i < 5; i++) {
    const rc = (await until(`receipt at node ${i}`, () => get(`${nodeApi(i)}/receipts/${t2.id}`))) as Record<string, any>;
    assert.is(rc.transferId, t2.id);
    assert.ok(rc.bundle.length > 0);
  }
  const v = await get(`${nodeApi(1)}/transfers/${t1.id}`);
  assert.ok(['credited', 'stored'].includes(v.status));
  assert.is(v.transfer.id, t1.id);
});

test('bad input is a 4xx with a reason code', async () => {
  const overdraft = bob.transfer(carol.address, 10_000_000n, false);
  // A different transfer (memo) for the forged signature: its id does not depend on the signature.
  const forged = bob.transfer(carol.address, 1n, false, 'forged');
  const cases: [unknown, string][] = [
    [{}, 'BAD_REQUEST'],
    [{ transfer: { ...forged, sig: '00'.repeat(64) } }, 'BAD_SIGNATURE'],
    [{ transfer: { ...overdraft, amount: '0' } }, 'BAD_AMOUNT'],
  ];
  for (const [body, code] of cases) {
    try {
      await post(`${nodeApi(0)}/transfers?wait=final&timeoutMs=5000`, body);
      assert.unreachable(`accepted ${code}`);
    } catch (e) {
      assert.instance(e, ApiError);
      assert.ok((e as ApiError).status >= 400 && (e as ApiError).status < 500, `status ${(e as ApiError).status}`);
      // A forged signature may be refused at the gateway or by the custodians: either names it.
      assert.is((e as ApiError).code, code, (e as ApiError).message);
    }
  }
  try {
    await post(`${nodeApi(0)}/transfers?wait=final&timeoutMs=10000`, { transfer: overdraft });
    assert.unreachable('overdraft accepted');
  } catch (e) {
    assert.is((e as ApiError).code, 'INSUFFICIENT_FUNDS', (e as ApiError).message);
  }
  try {
    await get(`${nodeApi(0)}/transfers/${'ab'.repeat(32)}`);
    assert.unreachable();
  } catch (e) {
    assert.is((e as ApiError).status, 404);
    assert.is((e as ApiError).code, 'NOT_FOUND');
  }
});

test('double spend: at most one certified, an alert at every node, the account frozen', async () => {
  const toBob = carol.transfer(bob.address, 40_000n, false);
  const toAlice = carol.transfer(alice.address, 40_000n, false);
  const [a, b] = await Promise.allSettled([
    post(`${nodeApi(0)}/transfers?wait=final&timeoutMs=8000`, { transfer: toBob }),
    post(`${nodeApi(4)}/transfers?wait=final&timeoutMs=8000`, { transfer: toAlice }),
  ]);
  const final = (r: PromiseSettledResult<{ status: number; body: Record<string, any> }>) =>
    r.status === 'fulfilled' && ['final', 'credited', 'stored'].includes(r.value.body.status);
  assert.ok(!(final(a) && final(b)), 'both conflicting transfers certified (I3)');
  // I3 asked of the gateways after the dust settles
  await new Promise((r) => setTimeout(r, 1_000));
  const sa = await get(`${nodeApi(0)}/transfers/${toBob.id}`).catch(() => ({ status: 'unknown' }));
  const sb = await get(`${nodeApi(4)}/transfers/${toAlice.id}`).catch(() => ({ status: 'unknown' }));
  const isCert = (s: string) => ['final', 'credited', 'stored'].includes(s);
  assert.ok(!(isCert(sa.status) && isCert(sb.status)), `I3: ${sa.status} and ${sb.status}`);
  if (isCert(sa.status)) certified.push({ id: toBob.id, gateway: 0, to: 'bob', amount: 40_000n });
  if (isCert(sb.status)) certified.push({ id: toAlice.id, gateway: 4, to: 'alice', amount: 40_000n });
  // I6: every live node gets the alert
  await until('an alert at every node', async () => {
    const all = await everyNode((i) => get(`${nodeApi(i)}/alerts`));
    return all.every((x) => x.alerts.some((al: { kind: string; frozen: string[] }) => al.kind === 'double-spend' && al.frozen.includes(carol.address)));
  });
  await until('carol frozen at her custodians', async () => (await everyNode((i) => balanceAt(i, carol))).every((x) => x.frozen));
  const notices = await get(`${f.mint.api}/notices`);
  assert.ok(notices.notices.some((n: { verdict: string }) => n.verdict === 'alert'));
  // A frozen account's debits are refused.
  carol.seq = 1;
  const again = carol.transfer(bob.address, 1n, false);
  try {
    const r = await post(`${nodeApi(2)}/transfers?wait=final&timeoutMs=5000`, { transfer: again });
    assert.ok(!['final', 'credited', 'stored'].includes(r.body.status), 'a frozen account was debited');
  } catch (e) {
    assert.instance(e, ApiError);
  }
});

test('a node killed with SIGKILL and restarted answers as before', async () => {
  const before = await get(`${nodeApi(1)}/transfers/${certified[0]!.id}`);
  const beforeAlice = await balanceAt(1, alice);
  const beforeAlerts = await get(`${nodeApi(1)}/alerts`);
  await devnet.killNode(1, 'SIGKILL');
  // The ring still works with one node down (k=4, q=3).
  const t = alice.transfer(bob.address, 1_000n);
  const r = await post(`${nodeApi(2)}/transfers?wait=final&timeoutMs=20000`, { transfer: t });
  assert.ok(['final', 'credited', 'stored'].includes(r.body.status), r.body.status);
  certified.push({ id: t.id, gateway: 2, to: 'bob', amount: 1_000n });
  await devnet.restartNode(1);
  // The gateway's own views are not durable; a stored transfer is answered from the ring with the same certificate.
  const after = (await until('the restarted node answers for its transfer', () => get(`${nodeApi(1)}/transfers/${certified[0]!.id}`), 15_000)) as Record<string, any>;
  assert.ok(['final', 'credited', 'stored'].includes(after.status), after.status);
  assert.is(after.certificate, before.certificate);
  // Its replicas answer as before (once its peers have reconnected).
  await until('bob balance at the restarted node', async () => (await balanceAt(1, bob)).balance === (await balanceAt(2, bob)).balance);
  const afterAlerts = await get(`${nodeApi(1)}/alerts`);
  assert.equal(afterAlerts.alerts.map((a: { alert: string }) => a.alert), beforeAlerts.alerts.map((a: { alert: string }) => a.alert));
  await until('alice balance settles at the restarted node', async () => BigInt((await balanceAt(1, alice)).balance) === BigInt(beforeAlice.balance) - 1_000n);
});

test('a node started later joins through the mint; custody moves with no lost funds', async () => {
  const i = await devnet.joinNode();
  f = devnet.file;
  await until('epoch with 6 members at every node', async () => (await everyNode((n) => get(`${nodeApi(n)}/status`))).every((s) => s.members === 6 && s.epoch >= 1), 45_000);
  const t = bob.transfer(alice.address, 5_000n);
  const r = await post(`${nodeApi(i)}/transfers?wait=credited&timeoutMs=30000`, { transfer: t });
  assert.ok(['credited', 'stored'].includes(r.body.status), r.body.status);
  certified.push({ id: t.id, gateway: i, to: 'alice', amount: 5_000n });
});

test('invariants I1-I6 asked of every node', async () => {
  const total = issued.reduce((a, b) => a + b, 0n);
  assert.is((await get(`${f.mint.api}/status`)).issued, total.toString());
  const want = { alice: 0n, bob: 0n, carol: 0n };
  await until('every node agrees on every balance', async () => {
    const views = await Promise.all([alice, bob, carol].map((a) => everyNode((i) => balanceAt(i, a))));
    const firsts = views.map((v) => v[0]!.balance);
    if (!views.every((v) => v.every((x) => x.balance === v[0]!.balance))) return false;
    [want.alice, want.bob, want.carol] = firsts.map(BigInt) as [bigint, bigint, bigint];
    return true;
  }, 30_000);
  // I1 conservation (nothing in flight now) and I2 no overdraft
  assert.is(want.alice + want.bob + want.carol, total, 'I1');
  for (const v of Object.values(want)) assert.ok(v >= 0n, 'I2');
  // I4 exactly-once credit: bob's balance is exactly what was certified to him
  const toBob = certified.filter((c) => c.to === 'bob').reduce((a, c) => a + c.amount, 0n);
  const fromBob = certified.filter((c) => c.gateway === devnet.file.nodes.length - 1 && c.to === 'alice').reduce((a, c) => a + c.amount, 0n);
  const carolToBob = certified.some((c) => c.to === 'bob' && c.amount === 40_000n) ? 40_000n : 0n;
  assert.is(want.bob, toBob - fromBob, `I4 (carol->bob ${carolToBob})`);
  // I5: every answered certificate is still there; I6 checked above for the double spend
  for (const c of certified) {
    const v = await get(`${nodeApi(c.gateway)}/transfers/${c.id}`);
    assert.ok(['final', 'credited', 'stored'].includes(v.status), `I5 ${c.id} ${v.status}`);
  }
  // I6: every node live when the alert went out still holds it (the joiner came later).
  for (let i = 0; i < 5; i++) assert.ok((await get(`${nodeApi(i)}/alerts`)).alerts.length >= 1, `I6 at node ${i}`);
});

test('/metrics is Prometheus text with ringmint metrics', async () => {
  const res = await fetch(`${nodeApi(0)}/metrics`);
  const text = await res.text();
  assert.ok(text.includes('ringmint_transfers_total'));
  assert.ok(text.includes('ringmint_event_loop_lag_seconds'));
});

test('a burst of issuances: votes and receipts are signed in batches, and every bundle verifies offline', async () => {
  // Pipelined issuances (one chain of mint seqs) keep the custodians busy enough to batch.
  const to = [alice, bob, carol];
  const results = await Promise.all(
    Array.from({ length: 24 }, (_, i) => post(`${f.mint.api}/issue?wait=stored&timeoutMs=30000`, { to: to[i % 3]!.address, amount: '1' }, f.mint.token)),
  );
  for (const r of results) assert.is(r.body.status, 'stored', JSON.stringify(r.body));
  const metrics = await everyNode(async (i) => (await fetch(`${nodeApi(i)}/metrics`)).text());
  const total = (name: string) => metrics.reduce((n, text) => n + Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? 0), 0);
  assert.ok(total('ringmint_batch_signatures_total') > 0);
  assert.ok(total('ringmint_batch_signed_objects_total') > total('ringmint_batch_signatures_total'), 'some batch signed more than one object');
  // Each bundle, as any node serves it, passes the wallet's offline check.
  const { genesis } = readGenesisFile(f.genesis);
  let batched = 0;
  for (const r of results) {
    const id = r.body.transferId as string;
    const rc = (await until(`receipt ${id.slice(0, 8)}`, () => get(`${nodeApi(0)}/receipts/${id}`).catch(() => undefined))) as { bundle: string };
    const v = await verifyBundle(rc.bundle, genesis, async (n) => (await get(`${nodeApi(0)}/epochs/${n}`)).record as string, id);
    assert.ok(v.valid, JSON.stringify(v));
    const b = bundleFromHex(rc.bundle, network);
    if ([...b.certificate.votes, ...b.receipts].some((o) => o.sig.length > 64)) batched++;
  }
  assert.ok(batched > 0, 'some bundle carries batch signatures');
});

test.run();
