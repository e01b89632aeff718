// A daemon's genesis file: copied into its data dir on first start and read at every start.
import { readFileSync } from 'node:fs';
import { Reason, Rejection } from '../protocol/errors.ts';
import { genesisFromJson, type Genesis, type GenesisJson } from '../protocol/genesis.ts';
import { ed25519 } from '../protocol/signature.ts';

export const GENESIS_FILE = 'genesis.json';

export function readGenesisFile(path: string): { genesis: Genesis; json: GenesisJson } {
  let json: GenesisJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as GenesisJson;
  } catch (e) {
    throw new Rejection(Reason.BAD_REQUEST, `cannot read genesis file ${path}: ${(e as Error).message}`);
  }
  return { genesis: genesisFromJson(json, ed25519), json };
}
