/**
 * The seed's headline figures, measured (issue 14 item 2): 80–95 % faster database queries,
 * 70–90 % fewer external API calls, 85–98 % hit rate on user data, 60–80 % fewer market-data API
 * calls.
 *
 *   npm run bench:workload   (tsc, then node dist/bench/workload.bench.js; writes BENCHMARKS.md's section)
 *
 * One front-end-like workload is replayed twice, against two real gateway processes
 * (dist/src/main.js, each on the same freshly seeded embedded database): one as configured by
 * default (data cache and response cache on), one with both off. The same seeded sequence of
 * requests goes to both, over the same number of keep-alive virtual clients, the two taking turns
 * (see PHASES and measure). Figures
 * come from the gateway's /metrics (counters read before and after each phase) and from the
 * client's own timings.
 *
 * The workload: the client documents of schema/operations (as codegen made them), over the demo
 * data's 1,000 users and 10 instruments, each picked by a Zipf law (a few are asked for often, most
 * rarely); about 2 % writes (a profile change, a new signal, a signal's status change), which
 * invalidate what they change. Market data comes from the simulated provider, which waits
 * MARKET_SIM_LATENCY_MS per call like a remote API, so that a call saved is time saved.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { getOperationAST, print } from 'graphql';
import { Redis } from 'ioredis';

import { DEMO_SIGNAL_COUNT, DEMO_USER_COUNT, mulberry32 } from '../src/demo/demo-data';
import * as documents from '../src/generated/graphql';
import { DEMO_INSTRUMENTS, type Timeframe } from '../src/market/instruments';
import { demoGatewayEnv, freePort, removeKeys, runEntry, spawnGateway, stopProcess } from './bench-processes';

const SEED = 20_261_127;
const CLIENTS = 24;
/**
 * The sequence is sent in three phases, the same in both runs. Warm-up: connections, JIT and first
 * loads settle, nothing is counted. Paced: requests start at a steady rate that the uncached run
 * sustains with room to spare, so that a latency is the time to serve a request, not the time it
 * queued behind others on a saturated machine (the response-time figures). Flat out: every client
 * sends its next request as soon as its last is answered (req/s, and latency at saturation).
 */
const PHASES = [
  { name: 'warm-up', requests: 1_000, ratePerSecond: undefined },
  { name: 'paced', requests: 1_500, ratePerSecond: 30 },
  { name: 'flat out', requests: 4_000, ratePerSecond: undefined },
] as const;
/** Requests a gateway is sent in one turn (see measure). */
const BLOCK = 500;
type Phase = (typeof PHASES)[number]['name'];
type MeasuredPhase = Exclude<Phase, 'warm-up'>;
const PROVIDER_LATENCY_MS = 40;
/** Zipf exponent: 1 is the classic law of web and catalogue popularity. */
const ZIPF_EXPONENT = 1;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MAIN = join(__dirname, '..', 'src', 'main.js');

const MODES = ['off', 'on'] as const;
type Mode = (typeof MODES)[number];
/** What each run sets; everything else is the same (see demoGatewayEnv). */
const MODE_ENV: Record<Mode, Record<string, string>> = {
  on: { CACHE_ENABLED: 'true', RESPONSE_CACHE_ENABLED: 'true' },
  off: { CACHE_ENABLED: 'false', RESPONSE_CACHE_ENABLED: 'false' },
};

// ---------------------------------------------------------------- the workload

type Kind =
  | 'profile'
  | 'users'
  | 'feed'
  | 'authorFeed'
  | 'signal'
  | 'statistics'
  | 'latest'
  | 'price'
  | 'prices'
  | 'candles'
  | 'updateUser'
  | 'createSignal'
  | 'updateSignalStatus';

/** Per mille of requests. Reads of a trading front end: profiles and boards first, then quotes and charts; 2 % writes. */
const MIX: readonly (readonly [Kind, number])[] = [
  ['profile', 220],
  ['users', 60],
  ['feed', 150],
  ['authorFeed', 60],
  ['signal', 50],
  ['statistics', 80],
  ['latest', 100],
  ['price', 130],
  ['prices', 50],
  ['candles', 80],
  ['updateUser', 8],
  ['createSignal', 6],
  ['updateSignalStatus', 6],
];
/** Reads answered from the database alone: the "database queries" of the seed's first claim. */
const DATABASE_READS: readonly Kind[] = ['profile', 'users', 'feed', 'authorFeed', 'signal', 'statistics'];
const WRITES: readonly Kind[] = ['updateUser', 'createSignal', 'updateSignalStatus'];
const PROFILE_READS: readonly Kind[] = ['profile', 'users'];

interface Planned {
  readonly kind: Kind;
  readonly operationName: string;
  readonly query: string;
  readonly variables: Record<string, unknown>;
  /** Writes go with the admin token; reads are anonymous, as a public board's are. */
  readonly admin: boolean;
  /** createSignal: its number among the signals the workload creates; updateSignalStatus: the one it moves. */
  readonly created?: number;
}

const texts = new Map<unknown, string>();
/** One request of a codegen document; the variables are checked against the document's own type. */
function planned<Variables extends Record<string, unknown>>(kind: Kind, document: TypedDocumentNode<unknown, Variables>, variables: NoInfer<Variables>, extra: Partial<Planned> = {}): Planned {
  let query = texts.get(document);
  if (query === undefined) texts.set(document, (query = print(document)));
  return { kind, operationName: getOperationAST(document)?.name?.value ?? '', query, variables, admin: WRITES.includes(kind), ...extra };
}

/** Items drawn with probability proportional to 1 / rank^s, rank 1 being `items[0]`. */
function zipf<T>(items: readonly T[], random: () => number): () => T {
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= items.length; rank += 1) cumulative.push((total += 1 / rank ** ZIPF_EXPONENT));
  return () => {
    const target = random() * total;
    let low = 0;
    let high = items.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return items[low]!;
  };
}

/** `count` different items from `draw`, in the order drawn. */
function distinct<T>(draw: () => T, count: number): T[] {
  const picked = new Set<T>();
  while (picked.size < count) picked.add(draw());
  return [...picked];
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

/**
 * The sequence both runs send. Popular users are spread over the id range (a seeded shuffle), the
 * newest signals are the ones opened most (demo signal 1 is the newest), and instruments keep the
 * demo order, majors first. A status change moves a signal the workload created before it (demo
 * signals may already be final); with none left to move, it creates one instead.
 */
function workload(count: number): Planned[] {
  const random = mulberry32(SEED);
  const user = zipf(shuffled(Array.from({ length: DEMO_USER_COUNT }, (_, index) => index + 1), random), random);
  const symbol = zipf(DEMO_INSTRUMENTS.map((instrument) => instrument.symbol), random);
  const signalId = zipf(Array.from({ length: DEMO_SIGNAL_COUNT }, (_, index) => index + 1), random);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chartTimeframe = zipf<Timeframe>(['H1', 'M15', 'H4', 'M5', 'D1'], random);
  const kindOf = (): Kind => {
    const draw = random() * 1000;
    let sum = 0;
    return MIX.find(([, weight]) => draw < (sum += weight))?.[0] ?? 'profile';
  };
  let created = 0;
  let moved = 0;
  const sequence: Planned[] = [];
  for (let index = 0; index < count; index += 1) {
    let kind = kindOf();
    if (kind === 'updateSignalStatus' && moved === created) kind = 'createSignal';
    sequence.push(requestOf(kind));
  }
  return sequence;

  function requestOf(kind: Kind): Planned {
    switch (kind) {
      case 'profile':
        return planned(kind, documents.UserWithSignalsDocument, { id: user(), signalLimit: 5 });
      case 'users':
        return planned(kind, documents.UsersDocument, { ids: distinct(user, 5) });
      case 'feed': {
        const filter = random();
        return planned(kind, documents.SignalFeedDocument, {
          symbol: symbol(),
          first: 20,
          ...(filter < 0.3 ? { status: 'ACTIVE' as const } : filter < 0.5 ? { timeframe: chartTimeframe() } : {}),
        });
      }
      case 'authorFeed':
        return planned(kind, documents.SignalFeedDocument, { authorId: user(), first: 10 });
      case 'signal':
        return planned(kind, documents.SignalDocument, { id: signalId() });
      case 'statistics':
        return planned(kind, documents.SignalStatisticsDocument, { symbol: symbol() });
      case 'latest':
        return planned(kind, documents.LatestSignalsDocument, { symbols: distinct(symbol, 3).sort(), perSymbol: 5 });
      case 'price':
        return planned(kind, documents.PriceDocument, { symbol: symbol() });
      case 'prices':
        return planned(kind, documents.PricesDocument, { symbols: distinct(symbol, 4).sort() });
      case 'candles':
        return planned(kind, documents.CandlesDocument, { symbol: symbol(), timeframe: chartTimeframe(), count: 100 });
      case 'updateUser':
        return planned(kind, documents.UpdateUserDocument, { id: user(), input: { displayName: `Trader ${Math.floor(random() * 100_000)}` } });
      case 'createSignal': {
        const name = symbol();
        const instrument = DEMO_INSTRUMENTS.find((spec) => spec.symbol === name)!;
        return planned(
          kind,
          documents.CreateSignalDocument,
          {
            input: {
              symbol: instrument.symbol,
              timeframe: chartTimeframe(),
              direction: pick(['BUY', 'SELL'] as const),
              entryPrice: instrument.basePrice,
              confidence: Math.round((0.5 + random() * 0.45) * 100) / 100,
              userId: user(),
            },
          },
          { created: created++ },
        );
      }
      case 'updateSignalStatus':
        // The id is known only once the signal exists: `created` names it, the replay fills it in.
        return planned(kind, documents.UpdateSignalStatusDocument, { id: 0, status: pick(['EXECUTED', 'CANCELLED'] as const) }, { created: moved++ });
    }
  }
}

// ---------------------------------------------------------------- the client

interface Sample {
  readonly kind: Kind;
  readonly latencyMs: number;
  /** `x-cache` starts with HIT: a stored response answered. */
  readonly responseHit: boolean;
  readonly error: string | undefined;
}

interface Answer {
  readonly status: number;
  readonly xCache: string;
  readonly body: { readonly data?: Record<string, unknown> | null; readonly errors?: readonly { readonly message: string }[] };
}

/** Replays planned requests over CLIENTS keep-alive connections, one request in flight on each. */
class Replay {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  /** The ids of the signals the workload created, by their number (see Planned.created). */
  private readonly createdIds = new Map<number, Promise<number>>();
  private readonly settleCreated = new Map<number, (id: number | Error) => void>();

  constructor(
    private readonly port: number,
    private readonly adminToken: string,
  ) {}

  /** With `ratePerSecond`, request i starts at i / rate seconds, or as soon as a client is free after that. */
  async run(sequence: readonly Planned[], ratePerSecond: number | undefined): Promise<Sample[]> {
    const samples: Sample[] = [];
    const started = performance.now();
    let next = 0;
    const client = async () => {
      while (next < sequence.length) {
        const index = next++;
        const wait = ratePerSecond === undefined ? 0 : started + (index * 1000) / ratePerSecond - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        samples.push(await this.send(sequence[index]!));
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    return samples;
  }

  close(): void {
    this.agent.destroy();
  }

  private async send(item: Planned): Promise<Sample> {
    if (item.kind === 'createSignal') this.expectCreated(item.created!);
    const started = performance.now();
    try {
      const variables = item.kind === 'updateSignalStatus' ? { ...item.variables, id: await this.createdIds.get(item.created!)! } : item.variables;
      const answer = await this.post(JSON.stringify({ operationName: item.operationName, query: item.query, variables }), item.admin);
      const error = answer.status !== 200 ? `HTTP ${answer.status}` : answer.body.errors?.[0]?.message;
      if (item.kind === 'createSignal') {
        const id = (answer.body.data?.createSignal as { id?: number } | undefined)?.id;
        this.settleCreated.get(item.created!)!(typeof id === 'number' ? id : new Error(`createSignal failed: ${error}`));
      }
      return { kind: item.kind, latencyMs: performance.now() - started, responseHit: answer.xCache.startsWith('HIT'), error };
    } catch (error) {
      if (item.kind === 'createSignal') this.settleCreated.get(item.created!)!(error instanceof Error ? error : new Error(String(error)));
      return { kind: item.kind, latencyMs: performance.now() - started, responseHit: false, error: String(error) };
    }
  }

  private expectCreated(index: number): void {
    this.createdIds.set(
      index,
      new Promise<number>((resolve, reject) => {
        this.settleCreated.set(index, (id) => (typeof id === 'number' ? resolve(id) : reject(id)));
      }),
    );
    // A failed create is reported by its own sample; the status change waiting for it reports it again.
    this.createdIds.get(index)!.catch(() => undefined);
  }

  private post(body: string, admin: boolean): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        { host: '127.0.0.1', port: this.port, path: '/graphql', method: 'POST', agent: this.agent, timeout: 30_000, headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(admin ? { authorization: `Bearer ${this.adminToken}` } : {}),
        } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            try {
              resolve({ status: response.statusCode ?? 0, xCache: String(response.headers['x-cache'] ?? ''), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'] });
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('client timeout')));
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}

// ---------------------------------------------------------------- the gateway process

/** Prometheus text as series → value (`name{labels}` exactly as exposed). */
type Scrape = ReadonlyMap<string, number>;

async function scrape(port: number): Promise<Scrape> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match !== null) series.set(match[1]!, Number(match[2]));
  }
  return series;
}

/** The sum of a metric's series whose labels include every `label="value"` given. */
function total(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  let sum = 0;
  for (const [series, value] of scrape) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (wanted.every((pair) => series.includes(pair))) sum += value;
  }
  return sum;
}

interface Gateway {
  readonly process: ChildProcess;
  readonly port: number;
  readonly prefix: string;
}

async function startGateway(mode: Mode, adminToken: string): Promise<Gateway> {
  const port = await freePort();
  const prefix = `bench_workload_${process.pid}_${mode}`;
  return { process: await spawnGateway(MAIN, demoGatewayEnv({ port, prefix, redisUrl: REDIS_URL, adminToken }, { MARKET_SIM_LATENCY_MS: String(PROVIDER_LATENCY_MS), ...MODE_ENV[mode] }), port, `the gateway (${mode})`), port, prefix };
}

async function withRedis<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** Removes what a run left in Redis (its keys, leases, bus membership). */
function removeRunKeys(prefix: string): Promise<void> {
  return withRedis((redis) => removeKeys(redis, `${prefix}*`));
}

// ---------------------------------------------------------------- both runs

interface PhaseResult {
  readonly samples: readonly Sample[];
  /** The time this run spent sending the phase's requests (its turns only). */
  readonly wallMs: number;
  /** A counter's increase over the phase. */
  readonly delta: (name: string, labels?: Record<string, string>) => number;
}

interface Run {
  readonly mode: Mode;
  readonly phases: ReadonlyMap<MeasuredPhase, PhaseResult>;
  /** A counter's increase over every measured request. */
  delta(name: string, labels?: Record<string, string>): number;
  /** The measured samples of one phase, or of all. */
  samples(phase?: MeasuredPhase): readonly Sample[];
}

interface Target {
  readonly mode: Mode;
  readonly gateway: Gateway;
  readonly replay: Replay;
  readonly phases: Map<MeasuredPhase, PhaseResult>;
}

/**
 * Both gateways run side by side and take turns, BLOCK requests at a time (off then on, then on
 * then off, …), so that the load of this shared machine, which drifts over minutes, falls on both
 * runs alike; the one waiting for its turn is idle. Each sends the whole sequence in order.
 */
async function measure(sequence: readonly Planned[]): Promise<Record<Mode, Run>> {
  const targets: Target[] = await Promise.all(
    MODES.map(async (mode) => {
      const adminToken = randomBytes(24).toString('base64url');
      const gateway = await startGateway(mode, adminToken);
      return { mode, gateway, replay: new Replay(gateway.port, adminToken), phases: new Map<MeasuredPhase, PhaseResult>() };
    }),
  );
  try {
    let from = 0;
    for (const phase of PHASES) {
      const part = sequence.slice(from, (from += phase.requests));
      process.stdout.write(`${phase.name}: ${phase.requests} requests${phase.ratePerSecond === undefined ? '' : ` at ${phase.ratePerSecond}/s`} to each gateway…\n`);
      const before = await Promise.all(targets.map((target) => scrape(target.gateway.port)));
      const samples = targets.map((): Sample[] => []);
      const wallMs = targets.map(() => 0);
      for (let block = 0; block * BLOCK < part.length; block += 1) {
        const order = block % 2 === 0 ? [0, 1] : [1, 0];
        for (const index of order) {
          const started = performance.now();
          samples[index]!.push(...(await targets[index]!.replay.run(part.slice(block * BLOCK, (block + 1) * BLOCK), phase.ratePerSecond)));
          wallMs[index]! += performance.now() - started;
        }
      }
      for (const [index, target] of targets.entries()) {
        const failed = samples[index]!.filter((sample) => sample.error !== undefined);
        if (failed.length > 0) throw new Error(`caches ${target.mode}, ${phase.name}: ${failed.length} requests failed, e.g. ${failed[0]!.kind}: ${failed[0]!.error}`);
        if (phase.name === 'warm-up') continue;
        const [start, end] = [before[index]!, await scrape(target.gateway.port)];
        target.phases.set(phase.name, { samples: samples[index]!, wallMs: wallMs[index]!, delta: (name, labels) => total(end, name, labels) - total(start, name, labels) });
      }
    }
  } finally {
    for (const target of targets) target.replay.close();
    await Promise.all(targets.map(async (target) => {
      await stopProcess(target.gateway.process);
      await removeRunKeys(target.gateway.prefix);
    }));
  }
  const run = (target: Target): Run => ({
    mode: target.mode,
    phases: target.phases,
    delta: (name, labels) => [...target.phases.values()].reduce((sum, phase) => sum + phase.delta(name, labels), 0),
    samples: (phase) => (phase === undefined ? [...target.phases.values()].flatMap((result) => result.samples) : (target.phases.get(phase)?.samples ?? [])),
  });
  const [off, on] = targets.map(run);
  return { off: off!, on: on! };
}

// ---------------------------------------------------------------- the report

const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const latencies = (samples: readonly Sample[], kinds: readonly Kind[]) => samples.filter((sample) => kinds.includes(sample.kind)).map((sample) => sample.latencyMs);
const reduction = (on: number, off: number) => (off === 0 ? 0 : (1 - on / off) * 100);
const pct = (value: number) => `${value.toFixed(1)} %`;
const ms = (value: number) => value.toFixed(1);
const setting = (mode: Mode) => Object.entries(MODE_ENV[mode]).map(([name, value]) => `${name}=${value}`).join(' ');

interface Claim {
  readonly figure: string;
  readonly seed: string;
  /** The claim's range, in percent: met from its lower bound up. */
  readonly range: readonly [number, number];
  readonly measured: number;
  readonly how: string;
}

function verdict(claim: Claim): string {
  if (claim.measured < claim.range[0]) return 'not met';
  return claim.measured > claim.range[1] ? 'met (above the range)' : 'met';
}

function claims(on: Run, off: Run): Claim[] {
  const paced = PHASES.find((phase) => phase.name === 'paced')!;
  const databaseOn = latencies(on.samples('paced'), DATABASE_READS);
  const databaseOff = latencies(off.samples('paced'), DATABASE_READS);
  const upstream = (run: Run) => run.delta('gateway_upstream_requests_total', { outcome: 'request' });
  const statements = (run: Run) => run.delta('gateway_db_queries_total');
  const userHits = on.delta('gateway_cache_lookups_total', { family: 'users', result: 'hit' });
  const userMisses = on.delta('gateway_cache_lookups_total', { family: 'users', result: 'miss' });
  const profiles = on.samples().filter((sample) => PROFILE_READS.includes(sample.kind));
  const profileResponseHits = profiles.filter((sample) => sample.responseHit).length;
  return [
    {
      figure: 'database query response time',
      seed: '80–95 % reduction',
      range: [80, 95],
      measured: reduction(percentile(databaseOn, 50), percentile(databaseOff, 50)),
      how: `p50 end-to-end latency of the reads the database alone serves (${DATABASE_READS.join(', ')}), paced phase (${paced.ratePerSecond} req/s; ${databaseOn.length} requests): ${ms(percentile(databaseOn, 50))} ms on, ${ms(percentile(databaseOff, 50))} ms off. Mean: ${ms(mean(databaseOn))} vs ${ms(mean(databaseOff))} ms (${pct(reduction(mean(databaseOn), mean(databaseOff)))}). Database statements over all measured requests: ${statements(on)} on, ${statements(off)} off (${pct(reduction(statements(on), statements(off)))} fewer)`,
    },
    {
      figure: 'external API calls',
      seed: '70–90 % reduction',
      range: [70, 90],
      measured: reduction(upstream(on), upstream(off)),
      how: `calls to the market-data provider, this gateway's only external API (\`gateway_upstream_requests_total{outcome="request"}\`), all measured requests: ${upstream(on)} on, ${upstream(off)} off`,
    },
    {
      figure: 'user-data hit rate',
      seed: '85–98 %',
      range: [85, 98],
      measured: userHits + userMisses === 0 ? 0 : (userHits / (userHits + userMisses)) * 100,
      how: `data-cache lookups of user keys (\`users:{id}\` and its facets: profile, statistics, newest signals), caches on, all measured requests (\`gateway_cache_lookups_total{family="users"}\`): ${userHits} hits, ${userMisses} misses. Only what the response cache in front misses gets this far: it answered ${pct((profileResponseHits / Math.max(1, profiles.length)) * 100)} of the profile requests (${PROFILE_READS.join(', ')}) first`,
    },
    {
      figure: 'market-data API calls',
      seed: '60–80 % reduction',
      range: [60, 80],
      measured: reduction(upstream(on), upstream(off)),
      how: 'the same counter as the row above: every external call this gateway makes is a market-data call (quotes and candles)',
    },
  ];
}

/** What the machine was like at the start: its load, and the keys already in Redis (an operator's pattern invalidation scans them all). */
interface Machine {
  readonly loadAverage: number;
  readonly redisKeys: number;
}

function report(on: Run, off: Run, sequence: readonly Planned[], elapsedSeconds: number, machine: Machine): string {
  const measuredFrom = PHASES[0].requests;
  const measured = sequence.slice(measuredFrom);
  const phaseRow = (run: Run, phase: MeasuredPhase) => {
    const result = run.phases.get(phase)!;
    const all = result.samples.map((sample) => sample.latencyMs);
    const cpuMicros = (result.delta('gateway_process_cpu_seconds_total') * 1e6) / result.samples.length;
    return `| caches ${run.mode} | ${phase} | ${ms(percentile(all, 50))} | ${ms(percentile(all, 99))} | ${(result.samples.length / (result.wallMs / 1000)).toFixed(0)} | ${(result.wallMs / 1000).toFixed(1)} | ${(result.delta('gateway_db_queries_total') / result.samples.length).toFixed(2)} | ${(result.delta('gateway_upstream_requests_total', { outcome: 'request' }) / result.samples.length).toFixed(3)} | ${cpuMicros.toFixed(0)} |`;
  };
  const phaseText = PHASES.map((phase) => `${phase.name} ${phase.requests.toLocaleString('en')}${phase.ratePerSecond === undefined ? '' : ` at ${phase.ratePerSecond} req/s`}`).join(', then ');
  return [
    `Command: \`npm run bench:workload\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, 2 cores shared by the gateway, its embedded database and the load generator, load average ${machine.loadAverage.toFixed(1)} at the start; Redis on loopback, holding ${machine.redisKeys.toLocaleString('en')} keys of other work at the start; ${elapsedSeconds.toFixed(0)} s in all).`,
    '',
    `Workload: the client documents of \`schema/operations\` (as codegen prints them), sent as POST text by ${CLIENTS} keep-alive virtual clients, one request in flight each; seed ${SEED}, the same sequence in both runs: ${phaseText} (flat out: each client sends its next request as soon as its last is answered). Users and instruments picked by a Zipf law (exponent ${ZIPF_EXPONENT}) over the demo data's ${DEMO_USER_COUNT.toLocaleString('en')} users and ${DEMO_INSTRUMENTS.length} instruments, signals opened by one over its ${DEMO_SIGNAL_COUNT.toLocaleString('en')} (the newest most); ${MIX.filter(([kind]) => WRITES.includes(kind)).reduce((sum, [, weight]) => sum + weight, 0) / 10} % writes with the admin token (mix below). Market data from the simulated provider with \`MARKET_SIM_LATENCY_MS=${PROVIDER_LATENCY_MS}\`. Two fresh \`node dist/src/main.js\` processes side by side, taking turns ${BLOCK} requests at a time (off then on, on then off, …) so that the drift of this shared machine falls on both alike; each with \`NODE_ENV=production\`, the embedded database (\`PGLITE_DATA_DIR=memory://\`, the deterministic demo seed), \`CACHE_WARMING_ENABLED=false\` so that both start cold, a key prefix of its own (removed afterwards), and:`,
    '',
    `- **caches on**: \`${setting('on')}\`, the defaults: the data cache on Redis with its in-memory fallback, the response cache with its near tier.`,
    `- **caches off**: \`${setting('off')}\`: no response stored, and a data cache that keeps nothing (checked: no response-cache event and no data-cache hit in that run). Both runs keep one DataLoader batch per request and in-flight sharing (concurrent identical loads share one call, nothing is kept after it): ${off.delta('gateway_cache_loads_total', { kind: 'coalesced' })} loads of the uncached run joined one in flight.`,
    '',
    '| the seed claims | measured | met? | how it is measured |',
    '|---|---:|---|---|',
    ...claims(on, off).map((claim) => `| ${claim.figure}: ${claim.seed} | ${pct(claim.measured)} | ${verdict(claim)} | ${claim.how} |`),
    '',
    'End to end, as the clients saw it:',
    '',
    '| run | phase | p50 ms | p99 ms | req/s | seconds | database statements/request | provider calls/request | gateway CPU µs/request |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...(['paced', 'flat out'] as const).flatMap((phase) => [phaseRow(on, phase), phaseRow(off, phase)]),
    '',
    'By operation: latency in ms in the paced phase; response hits (`x-cache: HIT…`) over all measured requests with caches on.',
    '',
    '| operation | share | p50 on | p50 off | p99 on | p99 off | response hits |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...MIX.map(([kind]) => {
      const onTimes = latencies(on.samples('paced'), [kind]);
      const offTimes = latencies(off.samples('paced'), [kind]);
      const all = on.samples().filter((sample) => sample.kind === kind);
      const share = (measured.filter((item) => item.kind === kind).length / measured.length) * 100;
      return `| ${kind} | ${pct(share)} | ${ms(percentile(onTimes, 50))} | ${ms(percentile(offTimes, 50))} | ${ms(percentile(onTimes, 99))} | ${ms(percentile(offTimes, 99))} | ${pct((all.filter((sample) => sample.responseHit).length / Math.max(1, all.length)) * 100)} |`;
    }),
  ].join('\n');
}

/** Puts `body` under HEADING: in place of the section's last version, else before "## Response cache" (which `npm run bench` rewrites to the end of the file). */
function writeSection(body: string): void {
  const HEADING = "## Workload: the seed's headline figures";
  const file = join(process.cwd(), 'BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = `${HEADING}\n\n${body}\n\n`;
  const start = current.indexOf(`${HEADING}\n`);
  if (start >= 0) {
    const next = current.indexOf('\n## ', start + HEADING.length);
    writeFileSync(file, next < 0 ? `${current.slice(0, start)}${section.trimEnd()}\n` : `${current.slice(0, start)}${section}${current.slice(next + 1)}`);
    return;
  }
  const before = current.indexOf('## Response cache\n');
  writeFileSync(file, before < 0 ? `${current.trimEnd()}\n\n${section.trimEnd()}\n` : `${current.slice(0, before)}${section}${current.slice(before)}`);
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const started = performance.now();
  const machine: Machine = { loadAverage: loadavg()[0]!, redisKeys: await withRedis((redis) => redis.dbsize()) };
  const sequence = workload(PHASES.reduce((sum, phase) => sum + phase.requests, 0));
  const { on, off } = await measure(sequence);
  if (off.delta('gateway_response_cache_events_total') !== 0 || off.delta('gateway_cache_hits_total') !== 0) {
    throw new Error('caches off: the response cache or the data cache served something');
  }
  const body = report(on, off, sequence, (performance.now() - started) / 1000, machine);
  process.stdout.write(`\n${body}\n`);
  writeSection(body);
}

runEntry(main);
