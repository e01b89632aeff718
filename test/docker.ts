// `npm run test:docker`: the container image and the compose network, end to end
// (not part of `npm test`). Builds the image, brings up the mint and 4 nodes with
// their healthchecks, runs the README quickstart from the host CLI through the
// ports published on 127.0.0.1, SIGKILLs a node's daemon inside its container and
// waits for the restart policy to bring it back, cuts one node off the compose
// network and reconnects it, then checks the sum of balances and that every final
// transfer ends stored. Tears everything down, volumes included. Prints each step
// and its time. Installs nothing: where no container engine answers it prints one
// line and exits 0 ("skipped"); a missing tool is named.
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../localnet/devnet.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'cli', 'ringmint.ts');
const COMPOSE_FILE = join(ROOT, 'docker', 'compose.yaml');
const IMAGE = process.env.RINGMINT_TEST_IMAGE ?? 'ringmint:test';
const BASE = process.env.NODE_IMAGE ?? 'node:24-slim';
const PROJECT = `ringmint-test-${process.pid}`;
const NODES = ['node0', 'node1', 'node2', 'node3'] as const;
/** Healthy within this long after `up` (image start, genesis, ring formation on a loaded machine). */
const HEALTHY_MS = 240_000;
/** A transfer reaches `stored` within this long once the network is whole. */
const STORED_MS = 120_000;

type Out = { code: number; stdout: string; stderr: string };

function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<Out> {
  return new Promise((res) => {
    const child = execFile(cmd, args as string[], { env: opts.env ?? process.env, cwd: opts.cwd ?? ROOT, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function must(cmd: string, args: readonly string[], what: string, opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${(r.stderr || r.stdout).trim().split('\n').slice(-25).join('\n')}`);
  return r.stdout;
}

const started = Date.now();
function secs(ms: number): string {
  return (ms / 1000).toFixed(1) + 's';
}
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  process.stdout.write(`-- ${name}\n`);
  try {
    const v = await fn();
    process.stdout.write(`   ok ${name} (${secs(Date.now() - t0)}, at ${secs(Date.now() - started)})\n`);
    return v;
  } catch (e) {
    process.stdout.write(`   FAILED ${name} (${secs(Date.now() - t0)}): ${(e as Error).message}\n`);
    throw e;
  }
}
function note(line: string): void {
  process.stdout.write(`   ${line}\n`);
}

// ---------------------------------------------------------------- the engine

function which(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** `docker compose` (plugin) or `docker-compose` (standalone), or null. */
function composeCommand(): string[] | null {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  if (which('docker-compose')) return ['docker-compose'];
  return null;
}

if (!which('docker')) {
  console.log('test:docker skipped: no container engine (the docker command is not installed; e.g. apt-get install docker.io docker-compose)');
  process.exit(0);
}
const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
if (info.status !== 0) {
  console.log(`test:docker skipped: no container engine answers (${(info.stderr || '').trim().split('\n').pop() || 'docker info failed'}; start dockerd)`);
  process.exit(0);
}
const compose = composeCommand();
if (compose === null) {
  console.log('test:docker: docker answers but compose is missing (install docker-compose, or the docker compose plugin)');
  process.exit(1);
}

const ports = { mint: await freePort(), nodes: [await freePort(), await freePort(), await freePort(), await freePort()] };
const composeEnv: NodeJS.ProcessEnv = {
  ...process.env,
  COMPOSE_PROJECT_NAME: PROJECT,
  RINGMINT_IMAGE: IMAGE,
  RINGMINT_MINT_PORT: String(ports.mint),
  ...Object.fromEntries(ports.nodes.map((p, i) => [`RINGMINT_NODE${i}_PORT`, String(p)])),
};
const dc = (args: readonly string[], what: string, timeoutMs = 600_000) =>
  must(compose[0]!, [...compose.slice(1), '-p', PROJECT, '-f', COMPOSE_FILE, ...args], what, { env: composeEnv, timeoutMs });
const mintUrl = `http://127.0.0.1:${ports.mint}`;
const nodeUrls = ports.nodes.map((p) => `http://127.0.0.1:${p}`);
const work = mkdtempSync(join(tmpdir(), 'ringmint-docker-'));
const cliEnv: NodeJS.ProcessEnv = { ...process.env, RINGMINT_WALLET_DIR: join(work, 'wallets'), RINGMINT_PASSPHRASE: 'docker test passphrase', RINGMINT_NODE: '', RINGMINT_GENESIS: '' };

async function ringmint(args: readonly string[]): Promise<{ out: Out; json: any }> {
  const out = await run(process.execPath, [CLI, ...args], { env: cliEnv, cwd: work, timeoutMs: 120_000 });
  let json: unknown;
  try {
    json = JSON.parse(out.stdout.trim().split('\n').pop() ?? '');
  } catch {
    json = undefined;
  }
  return { out, json };
}
async function ringmintOk(args: readonly string[]): Promise<any> {
  const r = await ringmint(args);
  if (r.out.code !== 0) throw new Error(`ringmint ${args.join(' ')}: ${r.out.stderr.trim()}`);
  return r.json;
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return { status: res.status, body: await res.json().catch(() => null) };
  } catch (e) {
    return { status: 0, body: { error: (e as Error).message } };
  }
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined | false>, every = 1_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000}s`);
    await sleep(every);
  }
}

const containers = new Map<string, string>();
/** The container of a compose service (docker's labels; the compose CLI is slow to start). */
async function containerOf(service: string): Promise<string> {
  const known = containers.get(service);
  if (known !== undefined) return known;
  const id = (await must('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`], `container of ${service}`)).trim().split('\n')[0] ?? '';
  if (id !== '') containers.set(service, id);
  return id;
}
async function inspect(id: string, format: string): Promise<string> {
  return (await must('docker', ['inspect', '-f', format, id], 'docker inspect')).trim();
}
async function allHealthy(services: readonly string[]): Promise<void> {
  await until(`${services.join(', ')} healthy`, HEALTHY_MS, async () => {
    const states: string[] = [];
    for (const s of services) {
      const id = await containerOf(s);
      states.push(id ? await inspect(id, '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}') : 'absent');
    }
    return states.every((s) => s === 'healthy');
  }, 2_000);
}

const transfers: { id: string; note: string }[] = [];
let failed = false;

try {
  await step('promtool check config and rules (docker/monitoring)', async () => {
    if (!which('promtool')) {
      note('promtool is missing (apt-get install prometheus): monitoring files not checked here');
      return;
    }
    await must('sh', [join(ROOT, 'docker', 'monitoring', 'check.sh')], 'docker/monitoring/check.sh');
  });

  await step(`build the image ${IMAGE} (base ${BASE})`, async () => {
    if (spawnSync('docker', ['image', 'inspect', BASE], { stdio: 'ignore' }).status !== 0) {
      note(`base image ${BASE} is not here: the build will try to pull it (no registry? build a stand-in: sudo docker/build-base.sh)`);
    }
    const args = ['build', '-f', 'docker/Dockerfile', '-t', IMAGE, '--build-arg', `NODE_IMAGE=${BASE}`];
    // A TLS-inspecting proxy's CA for npm in the build stage (docs/operators.md): the host's, for this build only.
    const ca = process.env.NODE_EXTRA_CA_CERTS;
    const copied = join(ROOT, 'docker', 'build-ca', 'test-docker-host-ca.crt');
    if (ca && existsSync(ca)) {
      copyFileSync(ca, copied);
      note(`npm CA for the build stage: NODE_EXTRA_CA_CERTS (${ca}), copied to docker/build-ca/ for this build`);
    }
    try {
      await must('docker', [...args, '.'], 'docker build');
    } finally {
      rmSync(copied, { force: true });
    }
    const history = await must('docker', ['history', '--no-trunc', '--format', '{{.CreatedBy}}', IMAGE], 'docker history');
    if (history.includes('build-ca')) throw new Error('the final image\'s history names the build CA');
    const user = await must('docker', ['run', '--rm', '--entrypoint', 'id', IMAGE, '-u'], 'id in the image');
    if (user.trim() === '0') throw new Error('the image runs as root');
    const help = await must('docker', ['run', '--rm', IMAGE, '--help'], 'ringmint --help in the image');
    if (!help.includes('ringmint')) throw new Error('ringmint --help printed no usage');
    const size = await must('docker', ['image', 'inspect', '-f', '{{.Size}}', IMAGE], 'image size');
    note(`image ${IMAGE}: user ${user.trim()}, ${(Number(size) / 1e6).toFixed(0)} MB`);
  });

  await step('compose up: init, mint, 4 nodes; wait for every healthcheck', async () => {
    await dc(['up', '-d'], 'compose up');
    await allHealthy(['mint', ...NODES]);
    const r = await getJson(`${nodeUrls[0]}/readyz`);
    if (r.status !== 200) throw new Error(`node0 /readyz: ${r.status} ${JSON.stringify(r.body)}`);
    note(`mint ${mintUrl}, nodes ${nodeUrls.join(' ')}; node0 /readyz: ${r.body.checks.map((c: { detail: string }) => c.detail).join('; ')}`);
  });

  await step('promtool check metrics of a live node and the mint (ours lint clean)', async () => {
    if (!which('promtool')) {
      note('promtool is missing (apt-get install prometheus): metrics not linted here');
      return;
    }
    const out = await must('sh', [join(ROOT, 'docker', 'monitoring', 'check.sh'), `${nodeUrls[0]}/metrics`, `${mintUrl}/metrics`], 'docker/monitoring/check.sh with metrics');
    for (const line of out.split('\n')) if (/^checking metrics|library metrics/.test(line)) note(line.trim());
  });

  let alice = '';
  let bob = '';
  await step('README quickstart from the host CLI through the published ports', async () => {
    // The devnet file the quickstart's wallet reads (./devnet/devnet.json), here pointing at the containers.
    const token = (await dc(['exec', '-T', 'mint', 'cat', '/data/mint/api-token'], 'mint token')).trim();
    const genesis = await dc(['exec', '-T', 'mint', 'cat', '/data/genesis.json'], 'genesis');
    mkdirSync(join(work, 'devnet'), { recursive: true });
    writeFileSync(join(work, 'devnet', 'genesis.json'), genesis);
    writeFileSync(join(work, 'devnet', 'devnet.json'), JSON.stringify({ genesis: join(work, 'devnet', 'genesis.json'), mint: { api: mintUrl, token }, nodes: nodeUrls.map((api) => ({ api })), ready: true }, null, 2));
    alice = (await ringmintOk(['wallet', 'new', 'alice', '--json'])).address;
    bob = (await ringmintOk(['wallet', 'new', 'bob', '--json'])).address;
    const issued = await ringmintOk(['mint', 'issue', '--to', alice, '--amount', '100', '--wait', 'stored', '--timeout-ms', '60000', '--json']);
    transfers.push({ id: issued.transferId, note: 'issue 100 to alice' });
    await until('alice holds 100', 60_000, async () => (await ringmint(['wallet', 'balance', 'alice', '--json'])).json?.balance === '100000000');
    const sent = await ringmintOk(['wallet', 'send', 'alice', '--to', bob, '--amount', '12.5', '--wait', 'stored', '--timeout', '60', '--json']);
    transfers.push({ id: sent.transferId, note: 'alice pays bob 12.5' });
    const v = await ringmintOk(['wallet', 'receipt', sent.transferId, '--verify', '--json']);
    if (v.valid !== true) throw new Error(`receipt did not verify: ${JSON.stringify(v)}`);
    const b = await ringmintOk(['wallet', 'balance', 'bob', '--json']);
    if (b.balance !== '12500000') throw new Error(`bob holds ${b.balance}`);
    note(`issued 100 to alice, sent 12.5 to bob (${sent.transferId.slice(0, 16)}...), receipt verified offline, bob holds 12.5`);
  });

  await step('SIGKILL node1\'s daemon inside its container; the restart policy brings it back', async () => {
    const id = await containerOf('node1');
    const before = Number(await inspect(id, '{{.RestartCount}}'));
    const policy = await inspect(id, '{{.HostConfig.RestartPolicy.Name}}');
    // The daemon is PID 1's child (init: true); kill -9 it from inside, as a crash would.
    const killed = await must('docker', ['exec', id, 'sh', '-c', 'for d in /proc/[0-9]*; do if tr "\\0" " " < $d/cmdline 2>/dev/null | grep -q "^node /app/cli/ringmint.ts node start"; then p=${d#/proc/}; kill -9 $p && echo $p; fi; done'], 'kill -9 in node1');
    if (killed.trim() === '') throw new Error('no daemon process found in node1');
    note(`killed pid ${killed.trim()} in node1 (restart policy: ${policy}, restarts before: ${before})`);
    await until('node1 restarted', 60_000, async () => Number(await inspect(id, '{{.RestartCount}}')) > before && (await inspect(id, '{{.State.Running}}')) === 'true');
    await allHealthy(['node1']);
    note(`node1 restarts: ${await inspect(id, '{{.RestartCount}}')}, healthy again`);
  });

  await step('partition: node2 off the compose network while transfers go on, then back', async () => {
    const id = await containerOf('node2');
    const network = (await inspect(id, '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}')).split(' ')[0]!;
    await must('docker', ['network', 'disconnect', network, id], 'network disconnect');
    note(`node2 disconnected from ${network}`);
    // Through node0 (its API is published on the host, not the compose network): alice pays bob 5 times.
    for (let i = 0; i < 5; i++) {
      const r = await ringmintOk(['wallet', 'send', 'alice', '--to', bob, '--amount', '1', '--node', nodeUrls[0]!, '--wait', 'final', '--timeout', '60', '--json']);
      transfers.push({ id: r.transferId, note: `alice pays bob 1 (partition, ${i + 1})` });
    }
    note('5 transfers final while node2 was cut off');
    await must('docker', ['network', 'connect', '--alias', 'node2', network, id], 'network connect');
    note('node2 reconnected');
    await allHealthy(NODES);
  });

  await step('every final transfer ends stored, balances sum to the issued total', async () => {
    for (const t of transfers) {
      await until(`${t.note} stored`, STORED_MS, async () => {
        for (const u of nodeUrls) {
          const r = await getJson(`${u}/transfers/${t.id}`);
          if (r.status === 200 && r.body.status === 'stored') return true;
        }
        return false;
      });
    }
    const want = { alice: 100_000_000n - 12_500_000n - 5_000_000n, bob: 12_500_000n + 5_000_000n };
    for (const u of nodeUrls) {
      const balances = await until(`balances at ${u}`, STORED_MS, async () => {
        const a = await getJson(`${u}/accounts/${alice}`);
        const b = await getJson(`${u}/accounts/${bob}`);
        if (a.status !== 200 || b.status !== 200) return undefined;
        return BigInt(a.body.balance) === want.alice && BigInt(b.body.balance) === want.bob ? { a: BigInt(a.body.balance), b: BigInt(b.body.balance) } : undefined;
      });
      if (balances.a + balances.b !== 100_000_000n) throw new Error(`balances at ${u} sum to ${balances.a + balances.b}`);
    }
    note(`${transfers.length} transfers stored; alice ${want.alice}, bob ${want.bob} (base units) at every node; sum 100000000 = issued`);
  });
} catch {
  failed = true;
  try {
    const logs = await run(compose[0]!, [...compose.slice(1), '-p', PROJECT, '-f', COMPOSE_FILE, 'logs', '--no-color', '--tail', '30'], { env: composeEnv });
    process.stdout.write(`-- last log lines\n${logs.stdout}\n`);
  } catch {
    // no logs to show
  }
} finally {
  await step('tear down (containers, network, volumes)', async () => {
    await dc(['down', '-v', '--remove-orphans', '-t', '15'], 'compose down');
    rmSync(work, { recursive: true, force: true });
  }).catch(() => {
    failed = true;
  });
}
console.log(`test:docker ${failed ? 'FAILED' : 'passed'} in ${secs(Date.now() - started)}`);
process.exitCode = failed ? 1 : 0;
