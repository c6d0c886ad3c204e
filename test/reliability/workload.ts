import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ALICE, BOB } from '../helpers/test-gateway';
import type { LoadRequest } from './load-generator';

export const CAROL = 'demo-carol-session-token';
/** The user whose display name the outage scenario changes: Alice (her session is in the mix). */
export const WATCHED_USER_ID = 1;

const USER_CARD = 'query UserCard($id: Int!) { user(id: $id) { id username displayName tier } }';
const TEAM = 'query Team { users(ids: [1, 2, 3]) { id displayName } }';
const ME = 'query Me { me { id username displayName email statistics { totalSignals activeSignals } } }';
const COLD_SIGNAL = 'query ColdSignal($id: Int!) { signal(id: $id) { id symbol direction user { username } } }';

interface UserRow {
  readonly id?: unknown;
  readonly displayName?: unknown;
}

const nameOf = (user: unknown): string | undefined => {
  const row = user as UserRow | null | undefined;
  return row !== null && row !== undefined && row.id === WATCHED_USER_ID && typeof row.displayName === 'string' ? row.displayName : undefined;
};

/** Every document of the mix that shows the watched user's display name, each through a different cache path. */
export const WATCHED_READS: readonly LoadRequest[] = [
  { kind: 'public', query: USER_CARD, variables: { id: WATCHED_USER_ID }, observe: (data) => nameOf(data.user) },
  { kind: 'public', query: TEAM, observe: (data) => nameOf((data.users as unknown[] | undefined)?.[0]) },
  { kind: 'viewer', query: ME, token: ALICE, observe: (data) => nameOf(data.me) },
];

const CACHEABLE: readonly LoadRequest[] = [
  ...WATCHED_READS,
  { kind: 'public', query: USER_CARD, variables: { id: 2 } },
  { kind: 'public', query: USER_CARD, variables: { id: 3 } },
  { kind: 'public', query: USER_CARD, variables: { id: 4 } },
  {
    kind: 'public',
    query: 'query LatestSignals { latestSignals(symbols: ["EUR_USD", "GBP_USD"], perSymbol: 5) { id direction confidence user { username } currentPrice { bid ask } } }',
  },
  { kind: 'public', query: 'query SymbolStats { signalStatistics(symbol: "EUR_USD") { totalSignals activeSignals averageConfidence } }' },
  { kind: 'public', query: 'query Quote { price(symbol: "USD_JPY") { bid ask spread } }' },
  { kind: 'public', query: 'query Candles { candles(symbol: "EUR_USD", timeframe: H1, count: 24) { time open close } }' },
  { kind: 'public', query: 'query Author { user(id: 2) { username signals(limit: 5) { id status } statistics { totalSignals } } }' },
  { kind: 'viewer', query: ME, token: BOB },
  { kind: 'viewer', query: ME, token: CAROL },
  { kind: 'viewer', query: 'query MyEmail { user(id: 2) { id email } }', token: BOB },
];

/** Demo signals run from 1 to 20,000: enough distinct cold reads for minutes of load. */
const DEMO_SIGNALS = 20_000;

/**
 * The traffic of a front end: about 85 % reads a cache can answer (public documents, and each
 * viewer's own profile with a demo session token) and 15 % reads that are cold every time (a
 * signal never asked for before), which therefore need the database. Two mixes in one test
 * start their cold reads at different `firstSignalId`s so that they never warm each other.
 */
export function trafficMix(firstSignalId = 1): { next: () => LoadRequest; coldRead: () => LoadRequest } {
  let turn = 0;
  let nextSignal = firstSignalId;
  const coldRead = (): LoadRequest => {
    const id = nextSignal;
    nextSignal = (nextSignal % DEMO_SIGNALS) + 1;
    return { kind: 'uncached', query: COLD_SIGNAL, variables: { id } };
  };
  const next = (): LoadRequest => {
    turn += 1;
    if (turn % 7 === 0) return coldRead();
    return CACHEABLE[turn % CACHEABLE.length] ?? coldRead();
  };
  return { next, coldRead };
}

/** A read of the watched user that no response is cached for yet (the second id changes), so it goes through the data cache. */
export function dataCacheRead(uniqueId: number): LoadRequest {
  return {
    kind: 'public',
    query: 'query Pair($ids: [Int!]!) { users(ids: $ids) { id displayName } }',
    variables: { ids: [WATCHED_USER_ID, 100 + (uniqueId % 900)] },
    observe: (data) => nameOf((data.users as unknown[] | undefined)?.[0]),
  };
}

/**
 * Writes a suite's figures as `<RELIABILITY_REPORT>/<name>.json` when that variable names a
 * directory (`npm run reliability` sets it and renders RELIABILITY.md from the files).
 */
export function writeFigures(name: string, figures: Record<string, unknown>): void {
  const dir = process.env.RELIABILITY_REPORT;
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ recordedAt: new Date().toISOString(), node: process.version, ...figures }, null, 2)}\n`);
}
