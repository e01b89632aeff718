// Amounts as people type them (coin units, e.g. "12.5") and as the protocol holds
// them (bigint base units). One parser and formatter for wallet, mint and node.
// Parsing is exact decimal string arithmetic: a float would silently round
// 0.1 + 0.2, and money must not round.
import { U64_MAX } from './codec.ts';
import { Reason, Rejection } from './errors.ts';

const COINS = /^([0-9]+)(?:\.([0-9]+))?$/;

/** "12.5" with 6 decimals -> 12500000n. Throws Rejection(BAD_AMOUNT) with one clear line. */
export function parseCoins(input: string, decimals: number, symbol = 'coins'): bigint {
  const s = String(input).trim();
  if (s.startsWith('-')) throw new Rejection(Reason.BAD_AMOUNT, `amount must be positive, got "${s}"`);
  const m = COINS.exec(s);
  if (!m) throw new Rejection(Reason.BAD_AMOUNT, `amount must be a number of ${symbol} like 12.5, got "${s}"`);
  const whole = m[1]!;
  const frac = m[2] ?? '';
  if (frac.length > decimals) {
    throw new Rejection(Reason.BAD_AMOUNT, `amount "${s}" has ${frac.length} decimal places; ${symbol} has at most ${decimals}`);
  }
  const base = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
  if (base === 0n) throw new Rejection(Reason.BAD_AMOUNT, 'amount must be greater than zero');
  if (base > U64_MAX) throw new Rejection(Reason.BAD_AMOUNT, `amount "${s}" exceeds the largest amount, ${formatCoins(U64_MAX, decimals)}`);
  return base;
}

/** 12500000n with 6 decimals -> "12.5" (no trailing zeros, no exponent). */
export function formatCoins(base: bigint, decimals: number): string {
  const neg = base < 0n;
  const abs = neg ? -base : base;
  const unit = 10n ** BigInt(decimals);
  const whole = (abs / unit).toString();
  const frac = decimals === 0 ? '' : (abs % unit).toString().padStart(decimals, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + whole + (frac ? `.${frac}` : '');
}

/** Human form with the symbol: "12.5 RMT". */
export function showCoins(base: bigint, decimals: number, symbol: string): string {
  return `${formatCoins(base, decimals)} ${symbol}`;
}
