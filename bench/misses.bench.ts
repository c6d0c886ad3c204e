/**
 * What a response-cache miss costs with the caches on, against the same build with them off:
 * the requests a response cache cannot answer, which only get slower for having it (a lookup, a
 * lease, data-cache reads, writes). Two operations, each a miss on every request:
 *
 * - `Users`: `users(ids)` with five ids drawn at random from the demo data's users, a new
 *   response key every time (the data cache holds some of those users, more as the run goes on);
 * - `UserWithSignals`: a user's profile, statistics and newest signals, each user asked once, so
 *   cold on every tier.
 *
 * The gateways are fresh `node dist/src/main.js` processes on the embedded database (the demo
 * seed) and the machine's Redis: this build with the caches on and off, and, when
 * BENCH_BASELINE_MAIN names another build's `dist/src/main.js`, that build with the caches on.
 * Each round sends the same requests to every gateway in turn, the order rotating from round to
 * round, one at a time and BENCH_PAUSE_MS apart, so that the drift of this shared machine falls
 * on all alike. Prints p50 and p90 per gateway and operation, and each p50 against caches off.
 *
 *   npm run bench:misses
 *   BENCH_BASELINE_MAIN=/tmp/old/dist/src/main.js BENCH_ROUNDS=400 npm run bench:misses
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { print } from 'graphql';
import { Redis } from 'ioredis';

import { DEMO_USER_COUNT, mulberry32 } from '../src/demo/demo-data';
import { UsersDocument, UserWithSignalsDocument } from '../src/generated/graphql';
import { demoGatewayEnv, freePort, median, removeKeys, runEntry, spawnGateway, stopProcess } from './bench-processes';

const ROUNDS = Math.min(Number(process.env.BENCH_ROUNDS ?? 400), DEMO_USER_COUNT - 1);
/** Rounds sent first and not counted: connections, JIT and the database's first plans settle. */
const WARM_UP = 50;
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 15);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const THIS_MAIN = join(__dirname, '..', 'src', 'main.js');
const SEED = 20_261_128;

interface Target {
  readonly label: string;
  readonly main: string;
  readonly caches: boolean;
}

interface Running extends Target {
  readonly port: number;
  readonly prefix: string;
  readonly stop: () => Promise<void>;
  readonly latencyMs: Record<Operation, number[]>;
}

const OPERATIONS = ['Users', 'UserWithSignals'] as const;
type Operation = (typeof OPERATIONS)[number];
/** The documents as codegen prints them, printed once. */
const QUERIES: Record<Operation, string> = { Users: print(UsersDocument), UserWithSignals: print(UserWithSignalsDocument) };

function targets(): Target[] {
  const list: Target[] = [
    { label: 'this build, caches off', main: THIS_MAIN, caches: false },
    { label: 'this build, caches on', main: THIS_MAIN, caches: true },
  ];
  const baseline = process.env.BENCH_BASELINE_MAIN;
  if (baseline !== undefined && baseline !== '') list.push({ label: `baseline (${baseline}), caches on`, main: baseline, caches: true });
  return list;
}

async function start(target: Target, index: number): Promise<Running> {
  const port = await freePort();
  const prefix = `bench_misses_${process.pid}_${index}`;
  const caches = String(target.caches);
  const env = demoGatewayEnv({ port, prefix, redisUrl: REDIS_URL, adminToken: randomBytes(24).toString('hex') }, { CACHE_ENABLED: caches, RESPONSE_CACHE_ENABLED: caches });
  const child = await spawnGateway(target.main, env, port, target.label);
  return { ...target, port, prefix, stop: () => stopProcess(child), latencyMs: { Users: [], UserWithSignals: [] } };
}

async function post(port: number, query: string, variables: Record<string, unknown>): Promise<number> {
  const body = JSON.stringify({ query, variables });
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200 || text.includes('"errors"')) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  if (response.headers.get('x-cache')?.startsWith('HIT') === true) throw new Error('a hit: this bench measures misses only');
  return elapsed;
}

async function main(): Promise<void> {
  const random = mulberry32(SEED);
  const running: Running[] = [];
  try {
    for (const [index, target] of targets().entries()) running.push(await start(target, index));
    for (let round = 0; round < WARM_UP + ROUNDS; round += 1) {
      const ids = new Set<number>();
      while (ids.size < 5) ids.add(1 + Math.floor(random() * DEMO_USER_COUNT));
      const requests: [Operation, Record<string, unknown>][] = [
        ['Users', { ids: [...ids] }],
        ['UserWithSignals', { id: (round % DEMO_USER_COUNT) + 1 }],
      ];
      for (let turn = 0; turn < running.length; turn += 1) {
        const gateway = running[(round + turn) % running.length]!;
        for (const [operation, variables] of requests) {
          const elapsed = await post(gateway.port, QUERIES[operation], variables);
          if (round >= WARM_UP) gateway.latencyMs[operation].push(elapsed);
          await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
        }
      }
    }
  } finally {
    await Promise.all(running.map((gateway) => gateway.stop()));
    const redis = new Redis(REDIS_URL);
    await Promise.all(running.map((gateway) => removeKeys(redis, `${gateway.prefix}*`)));
    redis.disconnect();
  }
  report(running);
}

function report(running: readonly Running[]): void {
  const off = running.find((gateway) => !gateway.caches)!;
  const quantile = (values: readonly number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)] ?? NaN;
  const lines = [
    `${ROUNDS} rounds after ${WARM_UP} of warm-up, ${PAUSE_MS} ms between requests; Node ${process.version}`,
    '',
    '| gateway | operation | p50 ms | p90 ms | p50 against caches off |',
    '|---|---|---:|---:|---:|',
  ];
  for (const gateway of running) {
    for (const operation of OPERATIONS) {
      const values = gateway.latencyMs[operation];
      const ratio = median(values) / median(off.latencyMs[operation]);
      lines.push(`| ${gateway.label} | ${operation} | ${median(values).toFixed(2)} | ${quantile(values, 0.9).toFixed(2)} | ${ratio.toFixed(3)} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

runEntry(main);
