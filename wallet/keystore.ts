// The wallet's keystore: one JSON file per wallet, the secret key sealed with a
// passphrase (scrypt -> XChaCha20-Poly1305), mode 0600, replaced atomically.
//
// Besides the key, a wallet file keeps the signing ledger: the next seq, the head
// (the id `prev` must name) and every transfer this wallet signed. That ledger is
// what stops the wallet from ever signing two different transfers for one seq
// (protocol.md §5), so it is authenticated too: an HMAC keyed from the passphrase covers
// it, and a rolled-back or edited ledger is refused when the wallet is unlocked.
// Statuses are not covered: read-only commands refresh them without a passphrase.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { encodeAddress } from '../protocol/address.ts';
import { fromHex, toHex, utf8, type Bytes } from '../protocol/bytes.ts';
import { sha256 } from '../protocol/hash.ts';
import type { TransferJson } from '../protocol/json.ts';
import { publicKeyOf } from '../protocol/signature.ts';
import { CliError } from '../runtime/cli-output.ts';

export const WALLET_VERSION = 1;
/** scrypt cost for new wallets: 2^15 x r=8 is 32 MiB and well under a second natively. */
export const SCRYPT_LOG_N = 15;
/** Largest scrypt cost accepted from a file: 2^20 x 8 is 1 GiB, more would be an attack on memory. */
const MAX_SCRYPT_LOG_N = 20;
/** Signed transfers kept per wallet: enough history for people; older settled ones are dropped. */
export const HISTORY_LIMIT = 1000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ZERO_HEAD = '0'.repeat(64);

/** A transfer the wallet signed, with the last status it learned. */
export type WalletTransfer = {
  transfer: TransferJson;
  /**
   * The stage the wallet verified (wallet/submission.ts): 'signed' until a node has
   * answered; pending, final (a certificate checked here), credited and stored (a
   * bundle checked here), rejected, conflict, released (its seq given back) or replaced.
   */
  status: string;
  reason?: string;
  signedAt: string;
  /** The genesis id (wallet/network.ts genesisId) of the network it was signed for; absent in ledgers from before binding. */
  genesis?: string;
  /** When the wallet last handed it to a node, ms since the Unix epoch. */
  lastSubmitAt?: number;
};

/** One network's seq chain: the seq the next new transfer takes there, and the id `prev` must name. */
export type Chain = { nextSeq: number; head: string };

export type WalletState = {
  /** The seq the next new transfer takes. */
  nextSeq: number;
  /** Id of the transfer at nextSeq - 1 (zeros before the first). */
  head: string;
  transfers: WalletTransfer[];
  /**
   * Seq chains by genesis id: an account has its own seqs on each network. Absent
   * until the first transfer bound to a network; the first network used then takes
   * over nextSeq/head above (the chain of ledgers from before binding).
   */
  chains?: Record<string, Chain>;
};

type WalletFile = {
  version: number;
  address: string;
  crypto: {
    kdf: 'scrypt';
    logN: number;
    r: number;
    p: number;
    salt: string;
    cipher: 'xchacha20-poly1305';
    nonce: string;
    ciphertext: string;
    /** SHA-256 of the MAC key: tells a wrong passphrase apart from a damaged file. */
    check: string;
  };
  state: WalletState;
  /** HMAC-SHA256 of the signing ledger (see ledgerBytes). */
  ledgerMac: string;
};

export type WalletSummary = { name: string; address: string; state: WalletState };

export type UnlockedWallet = WalletSummary & { secretKey: Bytes; macKey: Bytes };

/** Statuses after which a transfer's seq is settled: it is certified, its debit irrevocable. */
export const SETTLED = new Set(['final', 'credited', 'stored']);

export function defaultWalletDir(): string {
  return process.env.RINGMINT_WALLET_DIR || join(homedir(), '.ringmint', 'wallets');
}

export function checkWalletName(name: string): void {
  if (!NAME.test(name)) throw new CliError('BAD_REQUEST', `wallet name "${name}" must be 1-64 letters, digits, ".", "_" or "-"`);
}

/** Writes `data` to `path` atomically: a synced temp file renamed over the old one, mode 0600. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // The rename itself must be durable too, or a crash could bring back the old ledger.
  try {
    const dfd = openSync(join(path, '..'), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some filesystems refuse fsync on a directory; the file itself is synced
  }
}

function deriveKeys(passphrase: string, salt: Bytes, logN: number, r: number, p: number): { encKey: Bytes; macKey: Bytes } {
  const N = 2 ** logN;
  const out = scryptSync(passphrase.normalize('NFKC'), salt, 64, { N, r, p, maxmem: 256 * N * r });
  return { encKey: Uint8Array.from(out.subarray(0, 32)), macKey: Uint8Array.from(out.subarray(32)) };
}

/** Associated data: the file's public header, so swapping the address or KDF parameters breaks the seal. */
function aad(f: WalletFile): Bytes {
  const c = f.crypto;
  return utf8(`ringmint/1/wallet|${f.version}|${f.address}|scrypt:${c.logN}:${c.r}:${c.p}:${c.salt}|${c.nonce}`);
}

function ledgerBytes(address: string, s: WalletState): Bytes {
  // Bindings and chains are appended only when present: a ledger from before them keeps its seal.
  const seqs = s.transfers.map((t) => `${t.transfer.seq}:${t.transfer.id}${t.genesis !== undefined ? `@${t.genesis}` : ''}`).join(',');
  const chains = s.chains ?? {};
  const c = Object.keys(chains).sort().map((g) => `${g}=${chains[g]!.nextSeq}:${chains[g]!.head}`).join(',');
  return utf8(`ringmint/1/wallet-ledger|${address}|${s.nextSeq}|${s.head}|${seqs}${s.chains !== undefined ? `|chains:${c}` : ''}`);
}

function mac(macKey: Bytes, address: string, s: WalletState): string {
  return createHmac('sha256', macKey).update(ledgerBytes(address, s)).digest('hex');
}

export class Keystore {
  readonly dir: string;

  constructor(dir: string = defaultWalletDir()) {
    this.dir = dir;
  }

  path(name: string): string {
    checkWalletName(name);
    return join(this.dir, `${name}.json`);
  }

  exists(name: string): boolean {
    return existsSync(this.path(name));
  }

  list(): { name: string; address: string }[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json') && NAME.test(f.slice(0, -5)))
      .sort()
      .map((f) => {
        const name = f.slice(0, -5);
        return { name, address: this.read(name).address };
      });
  }

  /** Creates a wallet for `secretKey`; refuses to overwrite one that exists. */
  create(name: string, secretKey: Bytes, passphrase: string): WalletSummary {
    if (passphrase.length === 0) throw new CliError('BAD_REQUEST', 'the passphrase must not be empty');
    if (secretKey.length !== 32) throw new CliError('BAD_REQUEST', 'a secret key is 32 bytes (64 hex digits)');
    const path = this.path(name);
    if (existsSync(path)) throw new CliError('BAD_REQUEST', `wallet "${name}" already exists (${path})`);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const address = encodeAddress(publicKeyOf(secretKey));
    const salt = Uint8Array.from(randomBytes(32));
    const nonce = Uint8Array.from(randomBytes(24));
    const { encKey, macKey } = deriveKeys(passphrase, salt, SCRYPT_LOG_N, 8, 1);
    const f: WalletFile = {
      version: WALLET_VERSION,
      address,
      crypto: {
        kdf: 'scrypt', logN: SCRYPT_LOG_N, r: 8, p: 1, salt: toHex(salt),
        cipher: 'xchacha20-poly1305', nonce: toHex(nonce), ciphertext: '', check: toHex(sha256(macKey)),
      },
      state: { nextSeq: 1, head: ZERO_HEAD, transfers: [] },
      ledgerMac: '',
    };
    f.crypto.ciphertext = toHex(xchacha20poly1305(encKey, nonce, aad(f)).encrypt(secretKey));
    f.ledgerMac = mac(macKey, address, f.state);
    writeFileAtomic(path, JSON.stringify(f, null, 2) + '\n');
    return { name, address, state: f.state };
  }

  private load(name: string): WalletFile {
    const path = this.path(name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError('NOT_FOUND', `no wallet named "${name}" in ${this.dir}`);
      throw e;
    }
    let f: WalletFile;
    try {
      f = JSON.parse(text) as WalletFile;
    } catch {
      throw new CliError('MALFORMED', `wallet file ${path} is not valid JSON`);
    }
    const c = f?.crypto;
    const ok =
      f && f.version === WALLET_VERSION && typeof f.address === 'string' && c && c.kdf === 'scrypt' && c.cipher === 'xchacha20-poly1305' &&
      Number.isInteger(c.logN) && c.logN >= 10 && c.logN <= MAX_SCRYPT_LOG_N && Number.isInteger(c.r) && c.r >= 1 && c.r <= 32 &&
      Number.isInteger(c.p) && c.p >= 1 && c.p <= 16 && /^[0-9a-f]{64}$/.test(c.salt) && /^[0-9a-f]{48}$/.test(c.nonce) &&
      /^[0-9a-f]{96}$/.test(c.ciphertext) && /^[0-9a-f]{64}$/.test(c.check) && f.state && Number.isSafeInteger(f.state.nextSeq) &&
      f.state.nextSeq >= 1 && typeof f.state.head === 'string' && Array.isArray(f.state.transfers) &&
      (f.state.chains === undefined || (typeof f.state.chains === 'object' && f.state.chains !== null &&
        Object.values(f.state.chains).every((c) => c && Number.isSafeInteger(c.nextSeq) && c.nextSeq >= 1 && typeof c.head === 'string')));
    if (!ok) throw new CliError('MALFORMED', `wallet file ${path} is damaged or of an unknown version`);
    return f;
  }

  /** The public part of a wallet: no passphrase needed. */
  read(name: string): WalletSummary {
    const f = this.load(name);
    return { name, address: f.address, state: f.state };
  }

  /** Decrypts the secret key and checks the ledger. Wrong passphrase and tampering are told apart. */
  unlock(name: string, passphrase: string): UnlockedWallet {
    const f = this.load(name);
    const c = f.crypto;
    const { encKey, macKey } = deriveKeys(passphrase, fromHex(c.salt), c.logN, c.r, c.p);
    if (!timingSafeEqual(sha256(macKey), fromHex(c.check))) throw new CliError('BAD_PASSPHRASE', `wrong passphrase for wallet "${name}"`);
    let secretKey: Bytes;
    try {
      secretKey = xchacha20poly1305(encKey, fromHex(c.nonce), aad(f)).decrypt(fromHex(c.ciphertext));
    } catch {
      throw new CliError('TAMPERED', `wallet file ${this.path(name)} was altered or damaged: its key does not decrypt`);
    }
    if (encodeAddress(publicKeyOf(secretKey)) !== f.address) {
      throw new CliError('TAMPERED', `wallet file ${this.path(name)} was altered: its key does not match its address`);
    }
    const expect = mac(macKey, f.address, f.state);
    if (!/^[0-9a-f]{64}$/.test(f.ledgerMac) || !timingSafeEqual(Buffer.from(expect, 'hex'), Buffer.from(f.ledgerMac, 'hex'))) {
      throw new CliError('TAMPERED', `wallet file ${this.path(name)} was altered: its seq ledger does not match its seal`);
    }
    return { name, address: f.address, state: f.state, secretKey, macKey };
  }

  /** Saves a new ledger (after signing); needs the unlocked wallet to re-seal it. */
  saveLedger(w: UnlockedWallet, state: WalletState): void {
    const f = this.load(w.name);
    if (f.address !== w.address) throw new CliError('TAMPERED', `wallet "${w.name}" changed on disk while in use`);
    trimHistory(state);
    f.state = state;
    f.ledgerMac = mac(w.macKey, w.address, state);
    writeFileAtomic(this.path(w.name), JSON.stringify(f, null, 2) + '\n');
    w.state = state;
  }

  /** Updates transfer statuses only (no passphrase): the sealed ledger is left as it is. */
  updateStatuses(name: string, statuses: ReadonlyMap<string, { status: string; reason?: string; lastSubmitAt?: number }>): void {
    const f = this.load(name);
    let changed = false;
    for (const t of f.state.transfers) {
      const s = statuses.get(t.transfer.id);
      if (s && (s.status !== t.status || s.reason !== t.reason || (s.lastSubmitAt !== undefined && s.lastSubmitAt !== t.lastSubmitAt))) {
        // A released or replaced transfer stays so: only a sealed ledger change gives a seq back.
        if (t.status !== 'released' && t.status !== 'replaced') t.status = s.status;
        if (s.reason === undefined) delete t.reason;
        else t.reason = s.reason;
        if (s.lastSubmitAt !== undefined) t.lastSubmitAt = s.lastSubmitAt;
        changed = true;
      }
    }
    if (changed) writeFileAtomic(this.path(name), JSON.stringify(f, null, 2) + '\n');
  }

  /**
   * Takes the wallet's lock file for the duration of `fn`: two processes signing
   * from one wallet at once could both take the same seq.
   */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${this.path(name)}.lock`;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(lock, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
          throw new CliError('UNAVAILABLE', `wallet "${name}" is in use by another process (lock file ${lock})`);
        }
        const pid = Number(readFileSync(lock, 'utf8'));
        if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new CliError('UNAVAILABLE', `wallet "${name}" is in use by process ${pid}`);
        unlinkSync(lock); // left behind by a process that died
      }
    }
    try {
      return await fn();
    } finally {
      try {
        unlinkSync(lock);
      } catch {
        // already gone
      }
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Statuses of transfers the wallet is done with: the oldest of these go first past HISTORY_LIMIT. */
const DONE = new Set(['stored', 'released', 'replaced']);

/** Drops the oldest finished transfers past HISTORY_LIMIT; open ones always stay (they hold their seq, or await storage). */
function trimHistory(state: WalletState): void {
  let excess = state.transfers.length - HISTORY_LIMIT;
  if (excess <= 0) return;
  state.transfers = state.transfers.filter((t) => !(excess > 0 && DONE.has(t.status) && excess-- > 0));
}
