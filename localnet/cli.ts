// `ringmint devnet`: the mint and N nodes on loopback, one command (npm start).
import type { Command } from 'commander';
import { encodeAddress } from '../protocol/address.ts';
import { printJson } from '../runtime/cli-output.ts';
import { join } from 'node:path';
import { Devnet } from './devnet.ts';
import { MINT_KEY_FILE, readKeyFile } from '../runtime/keys.ts';
import { DEFAULT_DEVNET_DIR, devnetPath } from '../runtime/devnet-file.ts';

export function registerDevnet(program: Command): void {
  program
    .command('devnet')
    .description('run a local network: the mint and N nodes as child processes on 127.0.0.1')
    .option('--nodes <n>', 'number of nodes', '5')
    .option('--dir <dir>', 'where keys, data, logs and devnet.json go', DEFAULT_DEVNET_DIR)
    .option('--fresh', 'wipe DIR first (default: reuse what is there)')
    .option('--log-level <level>', 'daemon log level', 'info')
    .option('--json', 'print devnet.json as one JSON line once ready')
    .action(async (o: { nodes: string; dir: string; fresh?: boolean; logLevel: string; json?: boolean }) => {
      const devnet = new Devnet({ dir: o.dir, nodes: Number(o.nodes), fresh: o.fresh, restartDead: true, logLevel: o.logLevel, onLine: (l) => console.error(l) });
      let stopping = false;
      const stop = (): void => {
        if (stopping) process.exit(130);
        stopping = true;
        console.error('stopping the devnet...');
        devnet.stop().then(() => process.exit(0), () => process.exit(1));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      const f = await devnet.start();
      if (o.json) {
        printJson(f);
        return;
      }
      const mintAddr = encodeAddress(readKeyFile(join(f.mint.data, MINT_KEY_FILE)).publicKey);
      console.log(`devnet ready: mint ${f.mint.api}, ${f.nodes.length} nodes`);
      for (const [i, n] of f.nodes.entries()) console.log(`  node ${i}: ${n.api}  ${n.peerId}`);
      console.log(`endpoints written to ${devnetPath(o.dir)}; logs in ${o.dir}/*.log`);
      console.log('');
      console.log('next, in another terminal:');
      console.log('  npx ringmint wallet new alice && npx ringmint wallet new bob');
      console.log('  npx ringmint mint issue --to $(npx ringmint wallet address alice) --amount 100 --wait stored');
      console.log('  npx ringmint wallet send alice --to $(npx ringmint wallet address bob) --amount 10 --wait credited');
      console.log('  npx ringmint wallet balance bob');
      console.log(`(--devnet DIR for another dir; mint account ${mintAddr}; Ctrl-C stops every process)`);
    });
}
