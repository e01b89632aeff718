// `ringmint mint init|start|issue|admit`.
import type { Command } from 'commander';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAddress } from '../../protocol/address.ts';
import { toHex } from '../../protocol/bytes.ts';
import { Reason } from '../../protocol/errors.ts';
import { CliError, printJson } from '../../runtime/cli-output.ts';
import { readConfigFile, resolveConfig } from '../../runtime/config.ts';
import { findDevnet } from '../../runtime/devnet-file.ts';
import { ApiError, baseUrl, callJson } from '../../runtime/http-client.ts';
import { TOKEN_FILE } from '../../runtime/http-common.ts';
import { parseNodeRef } from '../../runtime/keys.ts';
import { makeLogger, stopOnSignals } from '../../runtime/process.ts';
import { MINT_DEFAULTS, MintDaemon } from './mint-daemon.ts';
import { formatCoins, mintInit, parseCoins, readNodesFile } from './init.ts';

export const DEFAULT_MINT_DATA = './mint-data';

type EndpointOpts = { mint?: string; token?: string; devnet?: string; data?: string };

/** Where the mint answers and its token: --mint/--token, else the devnet file, else the data dir. */
function mintEndpoint(o: EndpointOpts): { url: string; token: string } {
  let url = o.mint ?? process.env.RINGMINT_MINT;
  let token = o.token ?? process.env.RINGMINT_TOKEN;
  if (url === undefined || token === undefined) {
    const dev = o.data === undefined ? findDevnet(o.devnet) : null;
    if (dev) {
      url ??= dev.mint.api;
      token ??= dev.mint.token;
    } else {
      const data = o.data ?? DEFAULT_MINT_DATA;
      url ??= resolveConfig(MINT_DEFAULTS, { file: readConfigFile(data), env: process.env }).api;
      const tp = join(data, TOKEN_FILE);
      if (token === undefined && existsSync(tp)) token = readFileSync(tp, 'utf8').trim();
    }
  }
  if (token === undefined) throw new CliError(Reason.UNAUTHORIZED, 'no operator token: pass --token, --devnet DIR or --data DIR');
  return { url: baseUrl(url), token };
}

function wrap(e: unknown): never {
  if (e instanceof ApiError) throw new CliError(e.code, e.message);
  throw e;
}

export function registerMint(program: Command): void {
  const mint = program.command('mint').description('run and operate the mint (issuance, admission, epochs)');

  mint
    .command('init')
    .description('make the mint key, the genesis file and the operator token')
    .option('--data <dir>', 'mint data dir', DEFAULT_MINT_DATA)
    .option('--network <id>', 'network id', 'ringmint-dev')
    .option('--k <n>', 'custodians per account', '4')
    .option('--q <n>', 'quorum (2q > k)', '3')
    .option('--decimals <n>', 'decimals of the coin', '6')
    .option('--symbol <s>', 'coin symbol', 'RMT')
    .option('--supply-cap <coins>', 'most coins that may ever be issued (default: no cap)')
    .option('--admission <policy>', 'allowlist (production) | open (devnets: capped joins per epoch)', 'allowlist')
    .requiredOption('--nodes <file>', 'node ids (hex or PeerId) of epoch 0, one a line')
    .option('--json', 'print one JSON line')
    .action((o: { data: string; network: string; k: string; q: string; decimals: string; symbol: string; supplyCap?: string; admission: string; nodes: string; json?: boolean }) => {
      if (o.admission !== 'open' && o.admission !== 'allowlist') throw new CliError(Reason.BAD_REQUEST, '--admission must be open or allowlist');
      const decimals = Number(o.decimals);
      const r = mintInit({
        data: o.data,
        network: o.network,
        k: Number(o.k),
        q: Number(o.q),
        decimals,
        symbol: o.symbol,
        supplyCap: o.supplyCap === undefined ? null : parseCoins(o.supplyCap, decimals),
        admission: o.admission,
        members: readNodesFile(o.nodes),
      });
      if (o.json) printJson({ genesis: r.genesisPath, mintKey: toHex(r.genesis.mintKey), members: r.genesis.epoch0.members.length });
      else console.log(`mint initialised in ${o.data}\n  genesis: ${r.genesisPath} (give it to every node)\n  mint account: ${encodeAddress(r.genesis.mintKey)}\n  next: ringmint mint start --data ${o.data}`);
    });

  mint
    .command('start')
    .description('start the mint daemon')
    .option('--data <dir>', 'mint data dir', process.env.RINGMINT_DATA ?? DEFAULT_MINT_DATA)
    .option('--api <host:port>', `HTTP API address (default ${MINT_DEFAULTS.api})`)
    .option('--listen <multiaddr...>', `libp2p listen addresses (default ${MINT_DEFAULTS.listen.join(' ')})`)
    .option('--epoch-interval-ms <ms>', 'least time between epochs')
    .option('--evict-after-ms <ms>', `evict a member silent this long and reported unreachable; 0: never (default ${MINT_DEFAULTS.evictAfterMs})`)
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace')
    .action(async (o: { data: string; api?: string; listen?: string[]; epochIntervalMs?: string; evictAfterMs?: string; logLevel?: string }) => {
      const cfg = resolveConfig(MINT_DEFAULTS, {
        file: readConfigFile(o.data),
        env: process.env,
        flags: { api: o.api, listen: o.listen, epochIntervalMs: o.epochIntervalMs, evictAfterMs: o.evictAfterMs, logLevel: o.logLevel },
      });
      const log = makeLogger(cfg.logLevel, 'ringmint-mint');
      const daemon = new MintDaemon(o.data, log);
      stopOnSignals(() => daemon.close(), log);
      await daemon.start(cfg);
    });

  const endpointOptions = (c: Command): Command =>
    c
      .option('--mint <url>', 'mint API (default: from the devnet or the data dir)')
      .option('--token <token>', 'operator token (default: from the devnet or the data dir)')
      .option('--devnet <dir>', 'devnet dir (default ./devnet when present)')
      .option('--data <dir>', 'mint data dir (token and config)');

  endpointOptions(
    mint
      .command('issue')
      .description('issue new coins to an account')
      .requiredOption('--to <address>', 'recipient (rm1...)')
      .requiredOption('--amount <coins>', 'amount in coins (genesis decimals)')
      .option('--memo <text>', 'memo, at most 64 bytes')
      .option('--wait <level>', 'final|credited|stored: wait until the issuance is stored on the ring')
      .option('--timeout-ms <ms>', 'how long to wait', '20000')
      .option('--json', 'print one JSON line {transferId, status}'),
  ).action(async (o: EndpointOpts & { to: string; amount: string; memo?: string; wait?: string; timeoutMs: string; json?: boolean }) => {
    const ep = mintEndpoint(o);
    try {
      const g = (await callJson<{ decimals: number; symbol: string }>('GET', `${ep.url}/genesis`)).body;
      const amount = parseCoins(o.amount, g.decimals);
      const q = o.wait ? `?wait=${encodeURIComponent(o.wait)}&timeoutMs=${Number(o.timeoutMs)}` : '';
      const r = await callJson<{ transferId: string; status: string }>('POST', `${ep.url}/issue${q}`, {
        token: ep.token,
        body: { to: o.to, amount: amount.toString(), ...(o.memo ? { memo: o.memo } : {}) },
        timeoutMs: Number(o.timeoutMs) + 5_000,
      });
      if (o.wait && r.body.status === 'pending') {
        if (o.json) printJson({ transferId: r.body.transferId, status: r.body.status });
        throw new CliError(Reason.TIMEOUT, `issuance ${r.body.transferId} still pending after ${o.timeoutMs} ms`);
      }
      if (!o.json) console.log(`issued ${formatCoins(amount, g.decimals)} ${g.symbol} to ${o.to}: ${r.body.status} (transfer ${r.body.transferId})`);
      else printJson({ transferId: r.body.transferId, status: r.body.status });
    } catch (e) {
      wrap(e);
    }
  });

  endpointOptions(
    mint
      .command('admit <node>')
      .description('admit a node (node id or PeerId) from the next epoch')
      .option('--json', 'print one JSON line'),
  ).action(async (ref: string, o: EndpointOpts & { json?: boolean }) => {
    const node = parseNodeRef(ref);
    const ep = mintEndpoint(o);
    try {
      const r = await callJson('POST', `${ep.url}/admit`, { token: ep.token, body: { nodeId: toHex(node) } });
      if (o.json) printJson(r.body);
      else console.log(`admitted ${toHex(node)} from the next epoch`);
    } catch (e) {
      wrap(e);
    }
  });
}
