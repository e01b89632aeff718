// `ringmint node backup` and `ringmint node restore` (docs/operators.md, Backup and restore).
import type { Command } from 'commander';
import { createReadStream, createWriteStream, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Reason } from '../../protocol/errors.ts';
import { CliError, printJson } from '../../runtime/cli-output.ts';
import { TOKEN_FILE } from '../../runtime/http-common.ts';
import { readBackup, restoreNode } from './backup.ts';

const DEFAULT_NODE_URL = 'http://127.0.0.1:7700';

function tokenOf(o: { token?: string; data?: string }): string {
  if (o.token) return o.token;
  if (o.data) {
    try {
      return readFileSync(join(o.data, TOKEN_FILE), 'utf8').trim();
    } catch (e) {
      throw new CliError(Reason.BAD_REQUEST, `cannot read the node's token in ${o.data}: ${(e as Error).message}`);
    }
  }
  if (process.env.RINGMINT_TOKEN) return process.env.RINGMINT_TOKEN;
  throw new CliError(Reason.UNAUTHORIZED, 'the node API token is needed: --token TOKEN, --data DIR (reads DIR/api-token) or RINGMINT_TOKEN');
}

export function registerBackup(node: Command): void {
  node
    .command('backup')
    .description('save a consistent backup of a running node\'s store to a file (no secret key in it)')
    .requiredOption('--out <file>', 'backup file to write')
    .option('--node <url>', `the node's API (default RINGMINT_NODE or ${DEFAULT_NODE_URL})`)
    .option('--token <token>', "the node's API token (DATA/api-token)")
    .option('--data <dir>', "the node's data dir, to read its token")
    .option('--json', 'print one JSON line {file, records, bytes}')
    .action(async (o: { out: string; node?: string; token?: string; data?: string; json?: boolean }) => {
      const url = (o.node ?? (process.env.RINGMINT_NODE || DEFAULT_NODE_URL)).replace(/\/+$/, '');
      const token = tokenOf(o);
      let res: Response;
      try {
        res = await fetch(`${url}/admin/backup`, { headers: { authorization: `Bearer ${token}` } });
      } catch (e) {
        throw new CliError(Reason.UNAVAILABLE, `${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
      }
      if (!res.ok || res.body === null) {
        const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
        throw new CliError(body.error ?? Reason.UNAVAILABLE, `${url}/admin/backup: ${res.status} ${body.message ?? ''}`.trim());
      }
      const tmp = `${o.out}.partial`;
      try {
        await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(tmp, { mode: 0o600 }));
        // Read back whole before it takes the name: a cut stream never looks like a backup.
        const { header, records } = await readBackup(createReadStream(tmp) as AsyncIterable<Buffer>, () => {});
        renameSync(tmp, o.out);
        const bytes = statSync(o.out).size;
        if (o.json) printJson({ file: o.out, nodeId: header.nodeId, records, bytes, createdAt: header.createdAt });
        else console.log(`backup of node ${header.nodeId.slice(0, 16)}… written to ${o.out}: ${records} records, ${bytes} bytes`);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    });

  node
    .command('restore')
    .description('restore a stopped node\'s store from a backup; it re-syncs each account from its co-custodians before voting again')
    .requiredOption('--from <file>', 'backup file (from `ringmint node backup`)')
    .option('--data <dir>', 'the node data dir (must hold the node key)', process.env.RINGMINT_DATA ?? './node-data')
    .option('--json', 'print one JSON line')
    .action(async (o: { from: string; data: string; json?: boolean }) => {
      const r = await restoreNode(o.data, o.from);
      if (o.json) printJson(r);
      else {
        console.log(`restored ${r.records} records of node ${r.nodeId.slice(0, 16)}… (backup of ${r.createdAt}) into ${o.data}`);
        if (r.previous) console.log(`the store it replaced is kept in ${r.previous}`);
        console.log('on start, the node re-syncs each account from its co-custodians before it votes on it');
      }
    });
}
