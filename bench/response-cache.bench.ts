/**
 * Response-cache benchmark: this gateway against stock Apollo Server 5 with its response-cache
 * plugin, in one sitting, on this machine.
 *
 *   npm run bench        (tsc, then node dist/bench/response-cache.bench.js; writes BENCHMARKS.md's section)
 *
 * Every server is a child process of its own (the load generator never shares its event loop):
 *   ceiling       node:http returning the very bytes of the cached response
 *   apollo-memory stock Apollo Server 5 (startStandaloneServer) + @apollo/server-plugin-response-cache, in-memory cache
 *   apollo-redis  the same with a Redis KeyvAdapter
 *   gateway-near  this gateway, near cache on (the default)
 *   gateway-redis this gateway reading every hit from Redis (RESPONSE_CACHE_NEAR_ENABLED=false)
 * and, for the cold burst across two instances on one Redis (pairs sharing a key prefix or namespace):
 *   gateway-fleet      two gateways (fleet-wide single flight on, the default)
 *   gateway-fleet-off  two gateways with CACHE_FLIGHT_WAIT_MS=0
 *   apollo-fleet       two stock Apollo servers with the Redis KeyvAdapter
 * All GraphQL servers run the same schema over the same data (the gateway's own, embedded PostgreSQL).
 *
 * Each single server is measured twice in the same rounds: with the query as POST text, and with
 * the hashed GET Apollo Client's persisted-queries link sends (useGETForHashedQueries: operationName,
 * variables and extensions.persistedQuery in the URL, no text). The GraphQL servers learn the
 * document as that link teaches them, by automatic persisted queries: one POST with the text and
 * its persistedQuery extension (the gateway's PersistedDocuments, Apollo's built-in APQ). The
 * ceiling answers any method and URL with the same bytes, so its GET row is the price of the URL.
 */
import 'reflect-metadata';

import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { startStandaloneServer } from '@apollo/server/standalone';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import KeyvRedis from '@keyv/redis';
import autocannon from 'autocannon';
import { Keyv } from 'keyv';

import { createGateway } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import type { RequestContext } from '../src/request-context';
import { askStats, median, runEntry, startServer } from './bench-processes';

const VARIANTS = ['ceiling', 'apollo-memory', 'apollo-redis', 'gateway-near', 'gateway-redis'] as const;
const PAIRS = ['gateway-fleet', 'gateway-fleet-off', 'apollo-fleet'] as const;
type Variant = (typeof VARIANTS)[number] | (typeof PAIRS)[number];

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONNECTIONS = 50;
const WARMUP_SECONDS = 2;
const RUN_SECONDS = 5;
const REWARM_SECONDS = 2;
/** BENCH_ROUNDS: fewer for a quick try; the figures in BENCHMARKS.md are from 2. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const BURST = 500;
const RSS_SAMPLE_MS = 50;

const QUERY = `query Board($symbol: String!, $limit: Int!) {
  signals(symbol: $symbol, limit: $limit) {
    id symbol timeframe direction status entryPrice stopLoss takeProfit confidence createdAt
    user { id username displayName }
    currentPrice { bid ask mid }
  }
}`;
const body = (limit: number) => JSON.stringify({ query: QUERY, variables: { symbol: 'EUR_USD', limit } });
const HOT_LIMIT = 24;

const METHODS = ['POST', 'GET'] as const;
type Method = (typeof METHODS)[number];
const PERSISTED_QUERY = { version: 1, sha256Hash: createHash('sha256').update(QUERY).digest('hex') };
/** The hot query as Apollo Client's persisted-queries link sends it over GET (its parameters, in its order and encoding). */
const HASHED_GET_PATH = `/graphql?${Object.entries({ operationName: 'Board', variables: { symbol: 'EUR_USD', limit: HOT_LIMIT }, extensions: { persistedQuery: PERSISTED_QUERY } })
  .map(([name, value]) => `${name}=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`)
  .join('&')}`;
/** What that link posts after a PERSISTED_QUERY_NOT_FOUND: the text with its id, which registers it. */
const REGISTRATION = JSON.stringify({ query: QUERY, operationName: 'Board', variables: { symbol: 'EUR_USD', limit: HOT_LIMIT }, extensions: { persistedQuery: PERSISTED_QUERY } });

/** `cacheHits`: answers from a stored response, read or shared by a concurrent identical request (the gateway's; 0 for Apollo). */
type Counts = { executions: number; dataSourceCalls: number; fleetCoalesced: number; cacheHits: number };
/**
 * `peakRssBytes`: the highest RSS since the previous stats message, read every RSS_SAMPLE_MS (one
 * reading falls anywhere in the garbage collector's sawtooth); `embeddedDbBytes`: what the embedded
 * database holds, as gateway_memory_bytes{part="embedded_database"} counts it (0 for the ceiling).
 */
type Stats = { cpuMicros: number; peakRssBytes: number; embeddedDbBytes: number } & Counts;
type ToChild = { type: 'stats' } | { type: 'stop' };
type FromChild = { type: 'ready'; port: number } | ({ type: 'stats' } & Stats);

// ---------------------------------------------------------------- child side

async function serve(variant: Variant, ceilingBytes: string | undefined, sharedPrefix: string | undefined): Promise<void> {
  let port: number;
  let counts = (): Counts => ({ executions: 0, dataSourceCalls: 0, fleetCoalesced: 0, cacheHits: 0 });
  let embeddedDbBytes = () => 0;

  if (variant === 'ceiling') {
    const bytes = Buffer.from(ceilingBytes ?? '');
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length }).end(bytes));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  } else {
    const near = variant === 'gateway-near' || variant.startsWith('gateway-fleet');
    const config = loadConfig({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      SEED_DEMO_DATA: 'true',
      REDIS_URL,
      REDIS_TIMEOUT: '1',
      CACHE_KEY_PREFIX: sharedPrefix ?? `bench_${variant.replaceAll('-', '_')}_${process.pid}`,
      CACHE_FLIGHT_WAIT_MS: variant === 'gateway-fleet-off' ? '0' : '3000',
      CACHE_WARMING_ENABLED: 'false',
      RESPONSE_CACHE_ENABLED: variant.startsWith('gateway') ? 'true' : 'false',
      RESPONSE_CACHE_NEAR_ENABLED: near ? 'true' : 'false',
    });
    const gateway = await createGateway(config, createLogger(config));
    embeddedDbBytes = () => gateway.db.memoryBytes() ?? 0;
    const dataSourceCalls = () => gateway.db.queryCounts().total + gateway.upstream.requests;
    if (variant.startsWith('gateway')) {
      const url = await gateway.listen();
      port = Number(new URL(url).port);
      counts = () => {
        const metrics = gateway.responseCache?.metrics();
        return { executions: metrics?.executions ?? 0, dataSourceCalls: dataSourceCalls(), fleetCoalesced: metrics?.fleet_coalesced ?? 0, cacheHits: (metrics?.hits ?? 0) + (metrics?.coalesced ?? 0) };
      };
    } else {
      let executions = 0;
      const counter: ApolloServerPlugin<RequestContext> = {
        requestDidStart: () =>
          Promise.resolve({
            executionDidStart: () => {
              executions += 1;
              return Promise.resolve();
            },
          }),
      };
      const cache = variant === 'apollo-memory' ? undefined : new KeyvAdapter(new Keyv(new KeyvRedis(REDIS_URL), { namespace: sharedPrefix ?? `bench_${process.pid}` }));
      const apollo = new ApolloServer<RequestContext>({
        schema: gateway.graphql.schema,
        plugins: [responseCachePlugin(), counter],
        ...(cache === undefined ? {} : { cache }),
        stopOnTerminationSignals: false,
      });
      const { url } = await startStandaloneServer(apollo, {
        listen: { port: 0, host: '127.0.0.1' },
        context: ({ req }) => gateway.graphql.contextFor(req.headers.authorization),
      });
      port = Number(new URL(url).port);
      counts = () => ({ executions, dataSourceCalls: dataSourceCalls(), fleetCoalesced: 0, cacheHits: 0 });
    }
  }
  let peakRss = 0;
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), RSS_SAMPLE_MS).unref();
  process.on('message', (message: ToChild) => {
    if (message.type === 'stop') process.exit(0);
    const cpu = process.cpuUsage();
    const peakRssBytes = Math.max(peakRss, process.memoryUsage.rss());
    peakRss = 0;
    process.send?.({ type: 'stats', cpuMicros: cpu.user + cpu.system, peakRssBytes, embeddedDbBytes: embeddedDbBytes(), ...counts() } satisfies FromChild);
  });
  process.send?.({ type: 'ready', port } satisfies FromChild);
}

// ---------------------------------------------------------------- parent side

interface Child {
  readonly variant: Variant;
  readonly process: ChildProcess;
  readonly port: number;
}

async function start(variant: Variant, options: { ceilingBytes?: string; sharedPrefix?: string } = {}): Promise<Child> {
  const env = { ...process.env, BENCH_CEILING: options.ceilingBytes ?? '', BENCH_SHARED_PREFIX: options.sharedPrefix ?? '' };
  return { variant, ...(await startServer(__filename, ['serve', variant], variant, { env })) };
}

const stats = (child: Child) => askStats<Stats>(child.process);

async function post(child: Child, payload: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${child.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
  return response.text();
}

/** The hashed GET, with the headers the persisted-queries link sends. */
async function hashedGet(child: Child): Promise<{ status: number; xCache: string | null; text: string }> {
  const response = await fetch(`http://127.0.0.1:${child.port}${HASHED_GET_PATH}`, { headers: { 'content-type': 'application/json' } });
  return { status: response.status, xCache: response.headers.get('x-cache'), text: await response.text() };
}

/** One measured load: the hot query as POST text, or as the hashed GET. */
interface Target {
  readonly child: Child;
  readonly method: Method;
  readonly label: string;
}

async function load(target: Target, seconds: number) {
  const { child, method } = target;
  const result = await autocannon({
    url: `http://127.0.0.1:${child.port}${method === 'GET' ? HASHED_GET_PATH : '/graphql'}`,
    method,
    headers: { 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: body(HOT_LIMIT) } : {}),
    connections: CONNECTIONS,
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}

async function main(): Promise<void> {
  // The ceiling serves the gateway's own bytes for the hot query, so every variant sends the same answer.
  const reference = await start('gateway-near');
  const bytes = await post(reference, body(HOT_LIMIT));
  const children: Child[] = [await start('ceiling', { ceilingBytes: bytes }), await start('apollo-memory'), await start('apollo-redis'), reference, await start('gateway-redis')];
  // Same signals and authors everywhere; live prices may differ by the second they were taken.
  const shape = (text: string) => {
    const answer = JSON.parse(text) as { data?: { signals: { id: number; user: { id: number } }[] }; errors?: unknown };
    if (answer.errors !== undefined || answer.data === undefined) return 'error';
    return JSON.stringify(answer.data.signals.map((signal) => [signal.id, signal.user.id]));
  };
  for (const child of children) {
    if (shape(await post(child, body(HOT_LIMIT))) !== shape(bytes)) throw new Error(`${child.variant} answers differently`);
  }
  // The hashed GET: unknown at first (so the id is what is read, not ignored), registered by one
  // POST, then answered 200 with the same answer as the POST, and, on the cached servers, served
  // without executing (the gateway says HIT, or HIT-SHARED when every hit is read from Redis).
  for (const child of children) {
    if (child.variant === 'ceiling') {
      const answer = await hashedGet(child);
      if (answer.status !== 200 || answer.text !== bytes) throw new Error('ceiling: the GET does not answer the same bytes');
      continue;
    }
    const unknown = await hashedGet(child);
    if (!unknown.text.includes('PERSISTED_QUERY_NOT_FOUND')) throw new Error(`${child.variant}: an unregistered hashed GET answered ${unknown.status} ${unknown.text.slice(0, 200)}`);
    if (shape(await post(child, REGISTRATION)) !== shape(bytes)) throw new Error(`${child.variant}: the registration POST answers differently`);
    await hashedGet(child);
    const before = await stats(child);
    const answer = await hashedGet(child);
    const after = await stats(child);
    if (answer.status !== 200 || shape(answer.text) !== shape(bytes)) throw new Error(`${child.variant}: the hashed GET answered ${answer.status} ${answer.text.slice(0, 200)}`);
    if (after.executions !== before.executions) throw new Error(`${child.variant}: the hashed GET was executed, not served from the cache`);
    if (child.variant.startsWith('gateway') && !answer.xCache?.startsWith('HIT')) throw new Error(`${child.variant}: the hashed GET was x-cache ${answer.xCache}`);
  }

  const targets: Target[] = children.flatMap((child) => METHODS.map((method) => ({ child, method, label: `${child.variant} ${method}` })));
  const rows = new Map<string, { rps: number[]; p50: number[]; p99: number[]; cpuPerRequest: number[]; dataCalls: number[]; executions: number; rss: number; embeddedDb: number }>();
  for (const target of targets) {
    await load(target, WARMUP_SECONDS);
    rows.set(target.label, { rps: [], p50: [], p99: [], cpuPerRequest: [], dataCalls: [], executions: 0, rss: 0, embeddedDb: 0 });
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const target of targets) {
      // Each timed run comes right after the same load, untimed: a server left idle while the
      // others ran comes back with its heap shrunk and code dropped (V8's memory reducer), 10-25 %
      // slower for a few seconds (BENCHMARKS.md, "Tracing overhead"), which is not its steady state.
      await load(target, REWARM_SECONDS);
      const before = await stats(target.child);
      const run = await load(target, RUN_SECONDS);
      const after = await stats(target.child);
      // A gateway run is answered from stored responses (a 60 s entry may expire once in a run: its refill is a miss).
      if (target.child.variant.startsWith('gateway') && after.cacheHits - before.cacheHits < run.requests * 0.99) {
        throw new Error(`${target.label}: ${after.cacheHits - before.cacheHits} hits for ${run.requests} requests`);
      }
      const row = rows.get(target.label)!;
      row.rps.push(run.rps);
      row.p50.push(run.p50);
      row.p99.push(run.p99);
      row.cpuPerRequest.push((after.cpuMicros - before.cpuMicros) / run.requests);
      row.dataCalls.push((after.dataSourceCalls - before.dataSourceCalls) / run.requests);
      row.executions += after.executions - before.executions;
      row.rss = Math.max(row.rss, after.peakRssBytes);
      row.embeddedDb = after.embeddedDbBytes;
      process.stdout.write(`round ${round + 1} ${target.label.padEnd(19)} ${run.rps.toFixed(0).padStart(7)} req/s p50 ${run.p50} ms p99 ${run.p99} ms\n`);
    }
  }

  // Cold burst: 500 identical requests for a key nobody has asked for yet.
  const bursts = new Map<Variant, { executions: number; dataCalls: number }>();
  let limit = 40;
  for (const child of children.filter((c) => c.variant !== 'ceiling')) {
    limit += 1;
    const before = await stats(child);
    await Promise.all(Array.from({ length: BURST }, () => post(child, body(limit))));
    const after = await stats(child);
    bursts.set(child.variant, { executions: after.executions - before.executions, dataCalls: after.dataSourceCalls - before.dataSourceCalls });
  }
  for (const child of children) child.process.send({ type: 'stop' } satisfies ToChild);

  // Cold burst across two instances on one Redis: requests alternate between them, as a load balancer would send them.
  const pairBursts = new Map<Variant, Counts>();
  for (const variant of PAIRS) {
    const sharedPrefix = `bench_${variant.replaceAll('-', '_')}_${process.pid}`;
    const pair = [await start(variant, { sharedPrefix }), await start(variant, { sharedPrefix })];
    limit += 1;
    const before = await Promise.all(pair.map(stats));
    await Promise.all(Array.from({ length: BURST }, (_, index) => post(pair[index % 2]!, body(limit))));
    const after = await Promise.all(pair.map(stats));
    const delta = (field: keyof Counts) => after.reduce((sum, entry, index) => sum + entry[field] - before[index]![field], 0);
    pairBursts.set(variant, { executions: delta('executions'), dataSourceCalls: delta('dataSourceCalls'), fleetCoalesced: delta('fleetCoalesced'), cacheHits: delta('cacheHits') });
    for (const child of pair) child.process.send({ type: 'stop' } satisfies ToChild);
    process.stdout.write(`two-instance burst ${variant.padEnd(18)} ${delta('executions')} executions\n`);
  }

  const rps = (variant: Variant, method: Method) => median(rows.get(`${variant} ${method}`)!.rps);
  const lines = [
    `Command: \`npm run bench\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, 2 cores, Redis 7 on loopback). Query: 24 EUR_USD signals with author and current price, ${Buffer.byteLength(bytes)} bytes; autocannon, ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up, ${ROUNDS} rounds of ${RUN_SECONDS} s interleaved across variants and requests, each after ${REWARM_SECONDS} s of the same load untimed; medians.`,
    '',
    `Requests: POST, the query as text; GET, the hashed GET of Apollo Client's persisted-queries link with useGETForHashedQueries (${Buffer.byteLength(HASHED_GET_PATH)}-byte path, no text: \`operationName\`, \`variables\` and \`extensions.persistedQuery\`), the document registered before by one POST with the text and its id (automatic persisted queries: the gateway's own, Apollo's built-in one), after a first GET answered PERSISTED_QUERY_NOT_FOUND. Checked before measuring: every GET answers 200 with the POST's signals and authors (the ceiling: its very bytes), a repeated GET executes nothing, and the gateway's says \`x-cache: HIT\` (\`HIT-SHARED\` from Redis); during the runs at least 99 % of the gateway's answers come from stored responses. × ceiling and × Apollo compare the same request.`,
    '',
    `Memory: peak RSS is the highest RSS of the server process during its timed runs (read every ${RSS_SAMPLE_MS} ms). Every GraphQL server here, stock Apollo too, runs the gateway's schema over an embedded PostgreSQL (PGlite) of its own, in memory, with the demo data; embedded DB is what that database holds, as \`gateway_memory_bytes{part="embedded_database"}\` counts it: its WebAssembly memory's size (pages never touched are not resident, so it is an upper bound of its resident share) and the files it keeps in memory. Peak RSS ÷ Apollo divides a gateway's peak RSS by that of the Apollo of its tier (near: Apollo in memory; Redis-only: Apollo with Redis), same request.`,
    '',
    '| variant | request | req/s | p50 ms | p99 ms | server CPU µs/req | peak RSS MiB | embedded DB MiB | peak RSS ÷ Apollo (same tier) | × ceiling | × Apollo (same tier) | data-source calls/req | executions in timed runs | cold burst of 500: executions | cold burst: data-source calls |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const variant of VARIANTS) {
    for (const method of METHODS) {
      const row = rows.get(`${variant} ${method}`)!;
      const baseline = variant === 'gateway-near' ? 'apollo-memory' : variant === 'gateway-redis' ? 'apollo-redis' : undefined;
      // The cold burst is POST only.
      const burst = method === 'POST' ? bursts.get(variant) : undefined;
      const mib = (bytes: number) => (bytes / 1024 ** 2).toFixed(0);
      const memory = `${mib(row.rss)} | ${variant === 'ceiling' ? '' : mib(row.embeddedDb)} | ${baseline === undefined ? '' : `${(row.rss / rows.get(`${baseline} ${method}`)!.rss).toFixed(2)}×`}`;
      lines.push(
        `| ${variant} | ${method} | ${rps(variant, method).toFixed(0)} | ${median(row.p50)} | ${median(row.p99)} | ${median(row.cpuPerRequest).toFixed(0)} | ${memory} | ${(rps(variant, method) / rps('ceiling', method)).toFixed(2)} | ${baseline === undefined ? '' : `${(rps(variant, method) / rps(baseline, method)).toFixed(2)}×`} | ${variant === 'ceiling' ? '' : median(row.dataCalls).toFixed(3)} | ${variant === 'ceiling' ? '' : row.executions} | ${burst?.executions ?? ''} | ${burst?.dataCalls ?? ''} |`,
      );
    }
  }
  lines.push(
    '',
    `Two instances on one Redis, each with its own process and embedded database: a cold burst of ${BURST} identical requests, alternating between the two.`,
    '',
    '| pair | executions | data-source calls | answered from the other instance |',
    '|---|---:|---:|---:|',
    ...PAIRS.map((variant) => {
      const burst = pairBursts.get(variant)!;
      return `| ${variant} | ${burst.executions} | ${burst.dataSourceCalls} | ${variant === 'apollo-fleet' ? '' : burst.fleetCoalesced} |`;
    }),
  );
  const report = lines.join('\n');
  process.stdout.write(`\n${report}\n`);
  const file = join(process.cwd(), 'BENCHMARKS.md');
  const marker = '## Response cache';
  const current = readFileSync(file, 'utf8');
  const head = current.includes(marker) ? current.slice(0, current.indexOf(marker)) : `${current.trimEnd()}\n\n`;
  writeFileSync(file, `${head}${marker}\n\n${report}\n`);
}

if (process.argv[2] === 'serve') {
  runEntry(() => serve(process.argv[3] as Variant, process.env.BENCH_CEILING, process.env.BENCH_SHARED_PREFIX || undefined), { stayUp: true });
} else {
  runEntry(main);
}
