// `ringmint wallet ...`: keys in an encrypted keystore, transfers signed here and
// handed to any node, receipts verified offline. Each command's work lives in
// account-commands.ts or transfer-commands.ts; this file only wires the options.
import type { Command } from 'commander';
import {
  addressCommand, balanceCommand, exportCommand, historyCommand, importCommand, listCommand, newCommand, receiptCommand,
} from './account-commands.ts';
import { sendCommand, signCommand, submitCommand, syncCommand } from './transfer-commands.ts';

function common(c: Command): Command {
  return c
    .option('--wallet-dir <dir>', 'where wallet files live (default: $RINGMINT_WALLET_DIR or ~/.ringmint/wallets)')
    .option('--json', 'print one JSON object as the last line of stdout');
}

function network(c: Command): Command {
  return c
    .option('--node <url>', 'a node API URL (default: $RINGMINT_NODE, else the devnet)')
    .option('--devnet <dir>', 'a devnet folder holding devnet.json (default: ./devnet)')
    .option('--genesis <file>', 'the genesis file to trust (default: $RINGMINT_GENESIS, else the devnet\'s)');
}

export function registerWallet(program: Command): void {
  const wallet = program.command('wallet').description('keys, balances, transfers and receipts');

  common(wallet.command('new <name>').description('create a wallet with a fresh key')).action((name, o) => newCommand(name, o));
  common(wallet.command('import <name>').description('create a wallet from a secret key read from stdin or a prompt')).action((name, o) =>
    importCommand(name, o),
  );
  common(wallet.command('export <name>').description('print the wallet\'s secret key (after the passphrase)')).action((name, o) =>
    exportCommand(name, o),
  );
  common(wallet.command('list').description('list the wallets')).action((o) => listCommand(o));
  common(wallet.command('address <name>').description('print a wallet\'s address')).action((name, o) => addressCommand(name, o));
  network(common(wallet.command('balance <name>').description('balance of a wallet (or of an rm1 address)'))).action((name, o) =>
    balanceCommand(name, o),
  );

  const transferOptions = (c: Command) =>
    network(common(c))
      .option('--to <address>', 'the recipient\'s rm1 address')
      .option('--amount <coins>', 'amount in coins, e.g. 12.5')
      .option('--memo <text>', 'a note for the recipient, at most 64 bytes')
      .option('--seq <n>', 'sign for this seq even if it was used (risky: a double spend freezes the account)')
      .option('--prev <id>', 'with --seq: the id of the transfer at seq - 1, when the wallet does not know it');

  transferOptions(wallet.command('send <name>').description('sign a transfer, submit it to a node and wait'))
    .option('--wait <status>', 'wait for pending|final|credited|stored', 'final')
    .option('--timeout <seconds>', 'how long to wait', '60')
    .action((name, o) => sendCommand(name, o));
  transferOptions(wallet.command('sign <name>').description('sign a transfer offline and print it as JSON')).action((name, o) =>
    signCommand(name, o),
  );
  network(common(wallet.command('submit <file>').description('submit a signed transfer (JSON from "wallet sign"; - for stdin)')))
    .option('--wait <status>', 'wait for pending|final|credited|stored', 'final')
    .option('--timeout <seconds>', 'how long to wait', '60')
    .action((file, o) => submitCommand(file, o));
  network(common(wallet.command('sync <name>').description('finish this wallet\'s transfers: resubmit each until stored, and report what was repaired')))
    .option('--timeout <seconds>', 'how long to keep at it', '60')
    .action((name, o) => syncCommand(name, o));
  network(common(wallet.command('history <name>').description('transfers this wallet signed and received, newest first, with their status')))
    .option('--offline', 'do not ask a node for fresh statuses')
    .action((name, o) => historyCommand(name, o));
  network(common(wallet.command('receipt <transferId>').description('fetch a transfer\'s receipt bundle; --verify checks it offline')))
    .option('--verify', 'check the bundle against the genesis and mint-signed epoch records')
    .option('--bundle <file>', 'read the bundle (hex) from a file instead of a node')
    .action((id, o) => receiptCommand(id, o));
}
