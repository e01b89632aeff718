// The wallet's amounts: the protocol's one parser and formatter (protocol/amounts.ts).
export { formatCoins, parseCoins, showCoins } from '../protocol/amounts.ts';
