/**
 * What a write costs with the caches on, and whether that grows with what else the Redis server
 * holds: `updateUser` and `createSignal` (each invalidates what it changed), one at a time, with
 * the caches off, on, and on with 100,000 keys of another application on the same server.
 *
 *   npm run bench:writes     (tsc, then node dist/bench/write-invalidation.bench.js; prints a Markdown section)
 *
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379); BENCH_OTHER_KEYS (default 100000). The other
 * application's keys live under a prefix of this run's own, and each gateway's under its own: all
 * are removed at the end.
 */
import 'reflect-metadata';

import { loadavg } from 'node:os';

import { Redis } from 'ioredis';

import { createGateway } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { median, removeKeys, runEntry, startServer } from './bench-processes';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const OTHER_KEYS = Number(process.env.BENCH_OTHER_KEYS ?? 100_000);
const WRITES = 60;
const PAUSE_MS = 30;
const ADMIN_TOKEN = 'bench-writes-admin-token-0123456789';

const VARIANTS = ['caches off', 'caches on', `caches on, ${OTHER_KEYS.toLocaleString('en')} other keys`] as const;
type Variant = (typeof VARIANTS)[number];
const OPERATIONS = {
  updateUser: (i: number) => ({ query: 'mutation U($id: Int!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id displayName } }', variables: { id: 1 + (i % 20), input: { displayName: `Bench ${i}` } } }),
  createSignal: (i: number) => ({
    query: 'mutation C($input: CreateSignalInput!) { createSignal(input: $input) { id } }',
    variables: { input: { confidence: 0.7, direction: 'BUY', entryPrice: 1.1, symbol: 'EUR_USD', timeframe: 'H1', userId: 1 + (i % 20) } },
  }),
} as const;
type Operation = keyof typeof OPERATIONS;

// ---------------------------------------------------------------- child side

async function serve(cachesOn: boolean): Promise<void> {
  const config = loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    PGLITE_DATA_DIR: 'memory://',
    SEED_DEMO_DATA: 'true',
    REDIS_URL,
    CACHE_KEY_PREFIX: `bench_writes_${process.pid}`,
    CACHE_WARMING_ENABLED: 'false',
    CACHE_ENABLED: String(cachesOn),
    RESPONSE_CACHE_ENABLED: String(cachesOn),
    ADMIN_API_TOKEN: ADMIN_TOKEN,
  });
  const gateway = await createGateway(config, createLogger(config));
  const url = await gateway.listen();
  process.on('message', () => void gateway.close().then(() => process.exit(0)));
  process.send?.({ type: 'ready', port: Number(new URL(url).port) });
}

// ---------------------------------------------------------------- parent side

/** Milliseconds per write, each answered before the next is sent. */
async function timeWrites(port: number, operation: Operation): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < WRITES; i += 1) {
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify(OPERATIONS[operation](i)),
    });
    const answer = (await response.json()) as { errors?: unknown };
    if (answer.errors !== undefined) throw new Error(`${operation}: ${JSON.stringify(answer.errors)}`);
    times.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  }
  return times;
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const otherPrefix = `bench_other_app_${process.pid}`;
  const results = new Map<Variant, Map<Operation, number[]>>();
  try {
    for (const variant of VARIANTS) {
      if (variant !== 'caches off' && variant !== 'caches on') {
        for (let from = 1; from <= OTHER_KEYS; from += 50_000) {
          await redis.eval(`for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do redis.call('SET', ARGV[3] .. ':' .. i, 'x', 'EX', 3600) end`, 0, from, Math.min(OTHER_KEYS, from + 49_999), otherPrefix);
        }
      }
      const child = await startServer(__filename, ['serve', String(variant !== 'caches off')], variant);
      const byOperation = new Map<Operation, number[]>();
      for (const operation of Object.keys(OPERATIONS) as Operation[]) byOperation.set(operation, await timeWrites(child.port, operation));
      results.set(variant, byOperation);
      child.process.send({ type: 'stop' });
      await new Promise((resolve) => child.process.once('exit', resolve));
      await removeKeys(redis, `bench_writes_${child.process.pid}[:~]*`);
      process.stdout.write(`${variant}: ${[...byOperation].map(([operation, times]) => `${operation} p50 ${median(times).toFixed(1)} ms`).join(', ')} (Redis held ${await redis.dbsize()} keys)\n`);
    }
  } finally {
    await removeKeys(redis, `${otherPrefix}:*`);
    redis.disconnect();
  }

  const percentile = (times: readonly number[], share: number) => [...times].sort((a, b) => a - b)[Math.floor(times.length * share)]!;
  const lines = [
    `Command: \`npm run bench:writes\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, Redis on loopback, load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(' / ')} at the end). One gateway process per row (embedded database with the demo data, its own key prefix), ${WRITES} writes of each kind one at a time, ${PAUSE_MS} ms apart, with the admin token; milliseconds from request to answer.`,
    '',
    '| gateway | updateUser p50 | p90 | createSignal p50 | p90 |',
    '|---|---:|---:|---:|---:|',
    ...VARIANTS.map((variant) => {
      const byOperation = results.get(variant)!;
      const cells = (Object.keys(OPERATIONS) as Operation[]).flatMap((operation) => [median(byOperation.get(operation)!).toFixed(1), percentile(byOperation.get(operation)!, 0.9).toFixed(1)]);
      return `| ${variant} | ${cells.join(' | ')} |`;
    }),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

if (process.argv[2] === 'serve') {
  runEntry(() => serve(process.argv[3] === 'true'), { stayUp: true });
} else {
  runEntry(main);
}
