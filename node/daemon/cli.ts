// `ringmint node start`: runs a node daemon. Options: flags > RINGMINT_* env >
// config.json in the data dir > defaults.
import type { Command } from 'commander';
import { NodeMachine } from '../core/node-machine.ts';
import { readConfigFile, resolveConfig } from '../../runtime/config.ts';
import { NODE_DEFAULTS, NodeDaemon } from './node-daemon.ts';
import { makeLogger, stopOnSignals } from '../../runtime/process.ts';
import { loadOrCreateKey, peerIdOfNode } from '../../runtime/keys.ts';
import { toHex } from '../../protocol/bytes.ts';
import { printJson } from '../../runtime/cli-output.ts';
import { registerBackup } from './backup-cli.ts';

export const DEFAULT_NODE_DATA = './node-data';

export function registerNode(program: Command): void {
  const node = program.command('node').description('run a ringmint node (custodian, storage node and gateway)');
  node
    .command('init')
    .description('make the node key in the data dir (if none) and print the node id and PeerId')
    .option('--data <dir>', 'data dir', process.env.RINGMINT_DATA ?? DEFAULT_NODE_DATA)
    .option('--json', 'print one JSON line {nodeId, peerId}')
    .action((o: { data: string; json?: boolean }) => {
      const key = loadOrCreateKey(o.data);
      const out = { nodeId: toHex(key.publicKey), peerId: peerIdOfNode(key.publicKey).toString() };
      if (o.json) printJson(out);
      else console.log(`node id ${out.nodeId}\nPeerId  ${out.peerId}\n(give the node id to the mint operator: \`ringmint mint init --nodes\` or \`ringmint mint admit\`)`);
    });
  node
    .command('start')
    .description('start the node daemon (the node key is made on first start)')
    .option('--data <dir>', 'data dir (key, store, config.json)', process.env.RINGMINT_DATA ?? DEFAULT_NODE_DATA)
    .option('--genesis <file>', 'genesis file (copied into the data dir on first start)')
    .option('--api <host:port>', `HTTP API address (default ${NODE_DEFAULTS.api})`)
    .option('--listen <multiaddr...>', `libp2p listen addresses (default ${NODE_DEFAULTS.listen.join(' ')})`)
    .option('--bootstrap <multiaddr...>', 'peers to dial at start: the mint, and any others')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace')
    .option('--anti-entropy-ms <ms>', `milliseconds between anti-entropy rounds (default ${NODE_DEFAULTS.antiEntropyMs})`)
    .action(async (opts: { data: string; genesis?: string; api?: string; listen?: string[]; bootstrap?: string[]; logLevel?: string; antiEntropyMs?: string }) => {
      const cfg = resolveConfig(NODE_DEFAULTS, {
        file: readConfigFile(opts.data),
        env: process.env,
        flags: { genesis: opts.genesis, api: opts.api, listen: opts.listen, bootstrap: opts.bootstrap, logLevel: opts.logLevel, antiEntropyMs: opts.antiEntropyMs },
      });
      const log = makeLogger(cfg.logLevel, 'ringmint-node');
      const daemon = new NodeDaemon(opts.data, log);
      stopOnSignals(() => daemon.close(), log);
      await daemon.start(cfg, (init) => new NodeMachine(init));
    });
  registerBackup(node);
}
