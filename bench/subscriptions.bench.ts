/**
 * Subscriptions benchmark (issue 17, item 7): the gateway's live prices against stock Apollo
 * Server 5 with graphql-ws and graphql-subscriptions' PubSub, in one sitting, on this machine.
 *
 *   npm run bench:subscriptions   (tsc, then node dist/bench/subscriptions.bench.js; writes BENCHMARKS.md's section)
 *
 * Three kinds of process, so that no two share an event loop:
 *   orchestrator   this one: starts the others, asks them for figures over IPC, writes the report
 *   load           the load generator: N raw graphql-ws clients (its own WebSocket framing over net
 *                  sockets, graphql-ws's wire protocol; cheaper than the graphql-ws client at 10k)
 *   serve <server> one server at a time, started with --expose-gc:
 *     gateway  this gateway (simulated feed at 4 ticks/s per instrument, Redis on 127.0.0.1:6379
 *              under a key prefix of its own, warming off, logs silent)
 *     apollo   stock Apollo Server 5 (express5 integration) + `useServer` from graphql-ws/use/ws
 *              + graphql-subscriptions' PubSub, fed by the same simulated feed (the gateway's
 *              SimulatedMarketDataProvider.streamPrices at 4 ticks/s per instrument), each tick
 *              published as the gateway puts it on its bus (QuoteEvent, time as text) and resolved
 *              as the gateway resolves it (toPrice); the Price type is the gateway's (same fields,
 *              same DateTimeISO scalar)
 *
 * Per server: heap per idle connection (N sockets past connection_ack, no subscription, after a
 * forced GC, minus the heap before they connected); then every client subscribes (the MIX below),
 * and after a warm-up, WINDOWS windows measure server CPU per delivered message and delivery
 * latency (receipt time minus the tick's `time`, both this machine's clock); then 10 % of the
 * clients stop reading (socket.pause(): TCP backpressure builds) and the server's heap growth and
 * the other 90 %'s latency are measured over STALL_SECONDS.
 *
 * BENCH_SUBSCRIBERS (default 10000), BENCH_WINDOWS (3), BENCH_WINDOW_SECONDS (8),
 * BENCH_STALL_SECONDS (30), BENCH_SERVERS (gateway,apollo); BENCH_PROFILE_DIR: the server's CPU
 * profile over the measuring windows is written there (node:inspector; profiling inflates CPU).
 */
import 'reflect-metadata';

import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLFloat, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, GraphQLBoolean } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { PubSub } from 'graphql-subscriptions';
import { WebSocketServer } from 'ws';

import { createGateway } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { DEMO_INSTRUMENTS } from '../src/market/instruments';
import { UpstreamStats } from '../src/market/market-data.provider';
import type { QuoteEvent } from '../src/market/market.live';
import { toPrice } from '../src/market/market.resolver';
import { SimulatedMarketDataProvider } from '../src/market/simulated.provider';
import { median, runEntry, startServer } from './bench-processes';

// The package's public subpath (its exports map), typed from the file it maps to: this project's
// moduleResolution ("node") does not read exports maps.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { useServer } = require('graphql-ws/use/ws') as typeof import('graphql-ws/dist/use/ws');

const SERVERS = ['gateway', 'apollo'] as const;
type ServerKind = (typeof SERVERS)[number];

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 10_000);
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 3);
const WINDOW_SECONDS = Number(process.env.BENCH_WINDOW_SECONDS ?? 8);
const WARMUP_SECONDS = 5;
const STALL_SECONDS = Number(process.env.BENCH_STALL_SECONDS ?? 30);
const STALL_SAMPLE_SECONDS = 5;
const TICKS_PER_SECOND = 4;
const CONNECT_CONCURRENCY = 200;
const SELECTED = (process.env.BENCH_SERVERS ?? SERVERS.join(',')).split(',') as ServerKind[];
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

const INSTRUMENTS = DEMO_INSTRUMENTS.map((spec) => spec.symbol);
const PRICES = 'subscription Ticks($symbols: [String!]!) { prices(symbols: $symbols) { symbol bid ask mid time } }';

/**
 * Which instruments client `index` subscribes to: of every 20 clients, 14 take one instrument,
 * 5 take two, 1 takes five (1.45 instruments, 5.8 ticks/s per client on average), rotating over
 * the 10 instruments; 30 distinct subscriptions in all (10 of each size), as watch lists repeat.
 */
function symbolsOf(index: number): string[] {
  const slot = index % 20;
  const count = slot < 14 ? 1 : slot < 19 ? 2 : 5;
  const first = (slot + Math.floor(index / 20)) % INSTRUMENTS.length;
  return Array.from({ length: count }, (_, k) => INSTRUMENTS[(first + k) % INSTRUMENTS.length]!);
}
const MIX_TEXT = '70 % of clients subscribe to 1 instrument, 25 % to 2, 5 % to 5 (1.45 on average: 5.8 ticks/s per client), rotating over the 10 demo instruments: 30 distinct subscriptions';

/** One client in ten, spread over the mix (7 of 10 single-instrument, 2 of 10 two, 1 of 10 five). */
const isStalled = (index: number) => Math.floor(index / 10) % 10 === index % 10;

// ---------------------------------------------------------------- messages

type ServerStats = { cpuMicros: number; heapUsed: number; external: number; arrayBuffers: number; rss: number; eluActive: number; eluIdle: number };
type ToServer = { id: number; type: 'stats'; gc: boolean } | { id: number; type: 'profile'; action: 'start' } | { id: number; type: 'profile'; action: 'stop'; file: string } | { id: number; type: 'stop' };
type FromServer = { type: 'ready'; port: number } | ({ id: number; type: 'stats' } & ServerStats) | { id: number; type: 'done' };

type Window = {
  healthyMessages: number;
  stalledMessages: number;
  /** Ticks the healthy clients should have got in the window: their instruments × TICKS_PER_SECOND × seconds. */
  healthyExpected: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  closes: Record<string, number>;
  cpuMicros: number;
};
type ToLoad =
  | { id: number; type: 'connect'; port: number; count: number }
  | { id: number; type: 'subscribe' }
  | { id: number; type: 'window' }
  | { id: number; type: 'stall' }
  | { id: number; type: 'close' };
type FromLoad = { id: number; type: 'connected'; ok: number; failed: number; seconds: number } | { id: number; type: 'subscribed'; silent: number } | ({ id: number; type: 'window' } & Window) | { id: number; type: 'done' };

// ---------------------------------------------------------------- server side

async function serve(kind: ServerKind): Promise<void> {
  let port: number;
  if (kind === 'gateway') {
    const config = loadConfig({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
      REDIS_URL,
      CACHE_KEY_PREFIX: `bench_subs_${process.pid}`,
      CACHE_WARMING_ENABLED: 'false',
      MARKET_SIM_TICKS_PER_SECOND: String(TICKS_PER_SECOND),
      // Every client is anonymous from 127.0.0.1: one viewer, by address.
      SUBSCRIPTION_MAX_CONNECTIONS_PER_VIEWER: '1000000',
      WS_INIT_TIMEOUT_MS: '30000',
    });
    const gateway = await createGateway(config, createLogger(config));
    port = Number(new URL(await gateway.listen()).port);
  } else {
    port = await serveApollo();
  }
  const session = PROFILE_DIR === undefined ? undefined : new Session();
  session?.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session!.post(method, params ?? {}, (error, result) => (error === null ? resolve(result) : reject(error))));
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (message: ToServer) => {
    void (async () => {
      if (message.type === 'stop') process.exit(0);
      if (message.type === 'profile') {
        if (message.action === 'start') {
          await post('Profiler.enable');
          await post('Profiler.start');
        } else {
          const { profile } = (await post('Profiler.stop')) as { profile: object };
          writeFileSync(message.file, JSON.stringify(profile));
        }
        process.send?.({ id: message.id, type: 'done' } satisfies FromServer);
        return;
      }
      if (message.gc) {
        if (gc === undefined) throw new Error('start the server with --expose-gc');
        for (let i = 0; i < 3; i += 1) {
          gc();
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const cpu = process.cpuUsage();
      const memory = process.memoryUsage();
      const elu = performance.eventLoopUtilization();
      process.send?.({
        id: message.id,
        type: 'stats',
        cpuMicros: cpu.user + cpu.system,
        heapUsed: memory.heapUsed,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers,
        rss: memory.rss,
        eluActive: elu.active,
        eluIdle: elu.idle,
      } satisfies FromServer);
    })();
  });
  process.send?.({ type: 'ready', port } satisfies FromServer);
}

/**
 * Stock Apollo Server 5 with subscriptions as its documentation sets them up: an HTTP server for
 * queries (express5 integration, drain plugin), graphql-ws's `useServer` on a `ws` server for
 * subscriptions, and graphql-subscriptions' PubSub as the event source. Each subscriber gets its
 * own async iterator and graphql-js executes every event once per subscriber.
 */
async function serveApollo(): Promise<number> {
  const pubsub = new PubSub<Record<string, QuoteEvent>>();
  const price = new GraphQLObjectType({
    name: 'Price',
    fields: {
      symbol: { type: new GraphQLNonNull(GraphQLString) },
      bid: { type: new GraphQLNonNull(GraphQLFloat) },
      ask: { type: new GraphQLNonNull(GraphQLFloat) },
      mid: { type: new GraphQLNonNull(GraphQLFloat) },
      spread: { type: new GraphQLNonNull(GraphQLFloat) },
      time: { type: new GraphQLNonNull(GraphQLDateTimeISO) },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean, resolve: () => true } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        prices: {
          type: new GraphQLNonNull(price),
          args: { symbols: { type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(GraphQLString))) } },
          subscribe: (_root: unknown, args: { symbols: string[] }) => pubsub.asyncIterableIterator([...new Set(args.symbols)].map((symbol) => `quote:${symbol}`)),
          // As the gateway's MarketSubscriptionResolver.prices resolves a QuoteEvent.
          resolve: (event: unknown) => {
            const quote = event as QuoteEvent;
            return toPrice({ ...quote, time: new Date(quote.time) });
          },
        },
      },
    }),
  });
  const app = express();
  const httpServer = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const serverCleanup = useServer({ schema }, wsServer);
  const apollo = new ApolloServer({
    schema,
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        serverWillStart: () =>
          Promise.resolve({
            drainServer: async () => {
              await serverCleanup.dispose();
            },
          }),
      },
    ],
  });
  await apollo.start();
  app.use('/graphql', express.json(), expressMiddleware(apollo));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  // The same feed as the gateway's simulated upstream, published as the gateway's MarketLive publishes it.
  const feed = new SimulatedMarketDataProvider({ latencyMs: 0, now: Date.now, ticksPerSecond: TICKS_PER_SECOND }, new UpstreamStats());
  feed.streamPrices(INSTRUMENTS, {
    tick: (quote) => void pubsub.publish(`quote:${quote.symbol}`, { symbol: quote.symbol, bid: quote.bid, ask: quote.ask, time: quote.time.toISOString() }),
    heartbeat: () => undefined,
    ended: () => undefined,
  });
  return (httpServer.address() as { port: number }).port;
}

// ---------------------------------------------------------------- load generator

const UPGRADE = (port: number) =>
  `GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`;
const HEADER_END = Buffer.from('\r\n\r\n');
const TIME_MARK = Buffer.from('"time":"');
const ACK_MARK = Buffer.from('connection_ack');
const NEXT_MARK = Buffer.from('"type":"next"');
const ERRORS_MARK = Buffer.from('"errors"');
const HISTOGRAM_MS = 60_000;

/** A client frame: masked (as the protocol requires of clients) with the all-zero key, so the payload goes as is. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length, 0, 0, 0, 0]) : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff, 0, 0, 0, 0]);
  return Buffer.concat([header, payload]);
}
const textFrame = (message: object) => frame(0x1, Buffer.from(JSON.stringify(message)));

/** Latencies in whole milliseconds (the tick's time is in milliseconds). */
class Histogram {
  readonly counts = new Uint32Array(HISTOGRAM_MS + 1);
  total = 0;
  max = 0;

  add(ms: number): void {
    const bucket = Math.min(HISTOGRAM_MS, Math.max(0, Math.round(ms)));
    this.counts[bucket]! += 1;
    this.total += 1;
    if (bucket > this.max) this.max = bucket;
  }

  percentile(p: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let ms = 0; ms <= HISTOGRAM_MS; ms += 1) {
      seen += this.counts[ms]!;
      if (seen >= rank) return ms;
    }
    return HISTOGRAM_MS;
  }
}

class Meter {
  healthy = new Histogram();
  stalledMessages = 0;
  errors = 0;
  closes: Record<string, number> = {};
}

/** One graphql-ws client on a bare socket: upgrade, connection_init, one subscription, frames counted and timed. */
class WireClient {
  private rest: Buffer | undefined;
  private upgraded = false;
  acked = false;
  received = 0;
  stalled = false;
  closed = false;
  private onAck: (() => void) | undefined;

  constructor(
    readonly index: number,
    private readonly socket: Socket,
    private readonly meter: () => Meter,
    port: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!this.closed) this.closedWith('socket closed');
    });
    socket.write(UPGRADE(port));
  }

  ready(timeoutMs: number): Promise<boolean> {
    if (this.acked) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.onAck = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  subscribe(): void {
    this.socket.write(textFrame({ id: '1', type: 'subscribe', payload: { query: PRICES, variables: { symbols: symbolsOf(this.index) } } }));
  }

  stall(): void {
    this.stalled = true;
    this.socket.pause();
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private closedWith(reason: string): void {
    this.closed = true;
    const closes = this.meter().closes;
    closes[reason] = (closes[reason] ?? 0) + 1;
  }

  private data(chunk: Buffer): void {
    const data = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = undefined;
    let offset = 0;
    if (!this.upgraded) {
      const end = data.indexOf(HEADER_END);
      if (end < 0) {
        this.rest = data;
        return;
      }
      if (!data.toString('latin1', 0, 16).includes(' 101')) {
        this.closedWith(`upgrade ${data.toString('latin1', 9, 12)}`);
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      offset = end + 4;
      this.socket.write(textFrame({ type: 'connection_init', payload: {} }));
    }
    while (data.length - offset >= 2) {
      const opcode = data[offset]! & 0x0f;
      let length = data[offset + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (data.length - offset < header + length) break;
      this.frame(opcode, data, offset + header, offset + header + length);
      offset += header + length;
    }
    if (offset < data.length) this.rest = Buffer.from(data.subarray(offset));
  }

  private frame(opcode: number, data: Buffer, start: number, end: number): void {
    switch (opcode) {
      case 0x1: {
        const body = data.subarray(start, end);
        if (!this.acked) {
          if (body.indexOf(ACK_MARK) >= 0) {
            this.acked = true;
            this.onAck?.();
          }
          return;
        }
        const meter = this.meter();
        if (body.indexOf(NEXT_MARK) < 0 || body.indexOf(ERRORS_MARK) >= 0) {
          meter.errors += 1;
          return;
        }
        this.received += 1;
        if (this.stalled) {
          meter.stalledMessages += 1;
          return;
        }
        const at = body.indexOf(TIME_MARK);
        if (at < 0) {
          meter.errors += 1;
          return;
        }
        const timeStart = at + TIME_MARK.length;
        const time = Date.parse(body.toString('latin1', timeStart, body.indexOf(0x22, timeStart)));
        meter.healthy.add(Date.now() - time);
        return;
      }
      case 0x8:
        this.closedWith(end - start >= 2 ? String(data.readUInt16BE(start)) : 'close');
        this.socket.end();
        return;
      case 0x9:
        this.socket.write(frame(0xa, Buffer.from(data.subarray(start, end))));
        return;
      default:
        return;
    }
  }
}

function runLoad(): void {
  let clients: WireClient[] = [];
  let meter = new Meter();
  let windowStarted = performance.now();
  let cpuAtWindow = process.cpuUsage();
  const reply = (message: FromLoad) => process.send?.(message);
  process.on('message', (message: ToLoad) => {
    void (async () => {
      switch (message.type) {
        case 'connect': {
          const started = performance.now();
          let next = 0;
          let ok = 0;
          const worker = async () => {
            while (next < message.count) {
              const index = next;
              next += 1;
              const socket = connect({ port: message.port, host: '127.0.0.1' });
              const client = new WireClient(index, socket, () => meter, message.port);
              clients.push(client);
              if (await client.ready(30_000)) ok += 1;
            }
          };
          await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
          reply({ id: message.id, type: 'connected', ok, failed: message.count - ok, seconds: (performance.now() - started) / 1000 });
          return;
        }
        case 'subscribe': {
          for (let i = 0; i < clients.length; i += 1) {
            clients[i]!.subscribe();
            if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
          }
          // Every subscriber should hear a tick within a few seconds.
          const deadline = Date.now() + 15_000;
          while (Date.now() < deadline && clients.some((client) => client.received === 0)) await new Promise((resolve) => setTimeout(resolve, 200));
          reply({ id: message.id, type: 'subscribed', silent: clients.filter((client) => client.received === 0).length });
          return;
        }
        case 'window': {
          const now = performance.now();
          const seconds = (now - windowStarted) / 1000;
          const cpu = process.cpuUsage(cpuAtWindow);
          const healthyInstruments = clients.reduce((sum, client) => sum + (client.stalled || client.closed ? 0 : symbolsOf(client.index).length), 0);
          const { healthy, stalledMessages, errors, closes } = meter;
          reply({
            id: message.id,
            type: 'window',
            healthyMessages: healthy.total,
            stalledMessages,
            healthyExpected: healthyInstruments * TICKS_PER_SECOND * seconds,
            seconds,
            p50: healthy.percentile(50),
            p99: healthy.percentile(99),
            max: healthy.max,
            errors,
            closes,
            cpuMicros: cpu.user + cpu.system,
          });
          meter = new Meter();
          windowStarted = now;
          cpuAtWindow = process.cpuUsage();
          return;
        }
        case 'stall':
          for (const client of clients) if (isStalled(client.index)) client.stall();
          reply({ id: message.id, type: 'done' });
          return;
        case 'close':
          for (const client of clients) client.destroy();
          clients = [];
          reply({ id: message.id, type: 'done' });
          return;
      }
    })();
  });
}

// ---------------------------------------------------------------- orchestrator

let nextId = 1;
function ask<T extends { id: number }>(child: ChildProcess, message: Record<string, unknown>, timeoutMs = 180_000): Promise<T> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${String(message.type)}`)), timeoutMs);
    const listener = (answer: T) => {
      if (answer.id !== id) return;
      clearTimeout(timer);
      child.off('message', listener);
      resolve(answer);
    };
    child.on('message', listener);
    child.send({ ...message, id });
  });
}

function forkRole(args: string[], execArgv: string[] = []): ChildProcess {
  return fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const MiB = 1024 ** 2;

/** Bytes the kernel holds unsent on the server's sockets (ss's Send-Q): where a stalled client's backlog sits before the server's heap sees it. */
function kernelSendQueue(port: number): number {
  try {
    const out = execFileSync('ss', ['-tnH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', maxBuffer: 64 * MiB });
    return out
      .split('\n')
      .filter(Boolean)
      .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[1] ?? 0), 0);
  } catch {
    return NaN;
  }
}

interface Result {
  readonly kind: ServerKind;
  connected: number;
  connectSeconds: number;
  silent: number;
  idleHeapPerConnection: number;
  idleRssPerConnection: number;
  windows: { cpuPerMessage: number; cpuShare: number; p50: number; p99: number; max: number; delivered: number; expected: number; rate: number; elu: number; loadCpuShare: number; errors: number }[];
  stall: {
    heapGrowth: number;
    peakHeapGrowth: number;
    bufferGrowth: number;
    kernelSendQueue: number;
    p50: number[];
    p99: number[];
    delivered: number;
    expected: number;
    stalledMessages: number;
    closes: Record<string, number>;
  };
}

async function measure(kind: ServerKind, load: ChildProcess): Promise<Result> {
  const log = (text: string) => process.stdout.write(`[${kind}] ${text}\n`);
  const { process: child, port } = await startServer(__filename, ['serve', kind], kind, { execArgv: ['--expose-gc'] });
  const stats = (gc = false) => ask<{ id: number } & ServerStats>(child, { type: 'stats', gc });
  await sleep(2);
  const empty = await stats(true);
  const connected = await ask<Extract<FromLoad, { type: 'connected' }>>(load, { type: 'connect', port, count: SUBSCRIBERS });
  log(`${connected.ok} connected (${connected.failed} failed) in ${connected.seconds.toFixed(1)} s`);
  await sleep(2);
  const idle = await stats(true);
  const idleHeapPerConnection = (idle.heapUsed - empty.heapUsed) / connected.ok;
  const idleRssPerConnection = (idle.rss - empty.rss) / connected.ok;
  log(`idle: ${(idleHeapPerConnection / 1024).toFixed(1)} KiB heap per connection (${((idle.heapUsed - empty.heapUsed) / MiB).toFixed(1)} MiB for ${connected.ok})`);

  const subscribed = await ask<Extract<FromLoad, { type: 'subscribed' }>>(load, { type: 'subscribe' });
  log(`subscribed; ${subscribed.silent} clients heard nothing yet`);
  await sleep(WARMUP_SECONDS);
  await ask(load, { type: 'window' });
  let before = await stats();
  if (PROFILE_DIR !== undefined) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    await ask(child, { type: 'profile', action: 'start' });
  }
  const windows: Result['windows'] = [];
  for (let round = 0; round < WINDOWS; round += 1) {
    await sleep(WINDOW_SECONDS);
    const after = await stats();
    const window = await ask<{ id: number } & Window>(load, { type: 'window' });
    const delivered = window.healthyMessages + window.stalledMessages;
    const cpuPerMessage = (after.cpuMicros - before.cpuMicros) / delivered;
    const elu = (after.eluActive - before.eluActive) / (after.eluActive - before.eluActive + after.eluIdle - before.eluIdle);
    const loadCpuShare = window.cpuMicros / (window.seconds * 1e6);
    const cpuShare = (after.cpuMicros - before.cpuMicros) / (window.seconds * 1e6);
    windows.push({ cpuPerMessage, cpuShare, p50: window.p50, p99: window.p99, max: window.max, delivered, expected: window.healthyExpected, rate: delivered / window.seconds, elu, loadCpuShare, errors: window.errors });
    log(
      `window ${round + 1}: ${(delivered / window.seconds).toFixed(0)} msg/s (${((100 * delivered) / window.healthyExpected).toFixed(1)} % of the ticks due), ${cpuPerMessage.toFixed(1)} µs CPU/msg, p50 ${window.p50} ms p99 ${window.p99} ms max ${window.max} ms, event loop ${(elu * 100).toFixed(0)} % busy on ${(cpuShare * 100).toFixed(0)} % of a core, load generator ${(loadCpuShare * 100).toFixed(0)} % of a core, ${window.errors} errors`,
    );
    before = after;
  }
  if (PROFILE_DIR !== undefined) await ask(child, { type: 'profile', action: 'stop', file: join(PROFILE_DIR, `${kind}.cpuprofile`) });

  // Stall: 10 % stop reading; the heap is read after a forced GC before and after, and sampled in between.
  const heapBefore = await stats(true);
  // The forced GC stops the server's event loop: ticks it delayed are not the stall's.
  await sleep(2);
  await ask(load, { type: 'window' });
  await ask(load, { type: 'stall' });
  const stall: Result['stall'] = { heapGrowth: 0, peakHeapGrowth: 0, bufferGrowth: 0, kernelSendQueue: 0, p50: [], p99: [], delivered: 0, expected: 0, stalledMessages: 0, closes: {} };
  for (let elapsed = 0; elapsed < STALL_SECONDS; elapsed += STALL_SAMPLE_SECONDS) {
    await sleep(STALL_SAMPLE_SECONDS);
    const sample = await stats();
    const window = await ask<{ id: number } & Window>(load, { type: 'window' });
    stall.peakHeapGrowth = Math.max(stall.peakHeapGrowth, sample.heapUsed - heapBefore.heapUsed);
    stall.p50.push(window.p50);
    stall.p99.push(window.p99);
    stall.delivered += window.healthyMessages;
    stall.expected += window.healthyExpected;
    stall.stalledMessages += window.stalledMessages;
    for (const [code, count] of Object.entries(window.closes)) stall.closes[code] = (stall.closes[code] ?? 0) + count;
    log(`stalled ${elapsed + STALL_SAMPLE_SECONDS} s: heap +${((sample.heapUsed - heapBefore.heapUsed) / MiB).toFixed(1)} MiB, healthy p50 ${window.p50} ms p99 ${window.p99} ms, ${((100 * window.healthyMessages) / window.healthyExpected).toFixed(1)} % of their ticks`);
  }
  stall.kernelSendQueue = kernelSendQueue(port);
  const heapAfter = await stats(true);
  stall.heapGrowth = heapAfter.heapUsed - heapBefore.heapUsed;
  stall.bufferGrowth = heapAfter.external + heapAfter.arrayBuffers - (heapBefore.external + heapBefore.arrayBuffers);
  log(`stall: heap +${(stall.heapGrowth / MiB).toFixed(1)} MiB after GC (peak +${(stall.peakHeapGrowth / MiB).toFixed(1)}), buffers +${(stall.bufferGrowth / MiB).toFixed(1)} MiB, kernel send queues ${(stall.kernelSendQueue / MiB).toFixed(1)} MiB`);

  child.send({ type: 'stop', id: 0 } satisfies ToServer);
  await new Promise((resolve) => child.once('exit', resolve));
  await ask(load, { type: 'close' });
  return { kind, connected: connected.ok, connectSeconds: connected.seconds, silent: subscribed.silent, idleHeapPerConnection, idleRssPerConnection, windows, stall };
}

function report(results: Result[], machine: { loadBefore: number[]; loadAfter: number[] }): string {
  const byKind = new Map(results.map((result) => [result.kind, result]));
  const fig = (result: Result) => ({
    cpu: median(result.windows.map((w) => w.cpuPerMessage)),
    p50: median(result.windows.map((w) => w.p50)),
    p99: median(result.windows.map((w) => w.p99)),
    rate: median(result.windows.map((w) => w.rate)),
    share: median(result.windows.map((w) => w.delivered / w.expected)),
    elu: median(result.windows.map((w) => w.elu)),
    cpuShare: median(result.windows.map((w) => w.cpuShare)),
    load: median(result.windows.map((w) => w.loadCpuShare)),
    stallP50: median(result.stall.p50),
    stallP99: median(result.stall.p99),
  });
  const gateway = byKind.get('gateway');
  const apollo = byKind.get('apollo');
  const ratio = (pick: (result: Result) => number, digits = 2) => (gateway === undefined || apollo === undefined ? '' : `${(pick(gateway) / pick(apollo)).toFixed(digits)}×`);
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  const lines = [
    `Command: \`npm run bench:subscriptions\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, 2 cores shared with other work: \`uptime\` load ${load(machine.loadBefore)} before the run, ${load(machine.loadAfter)} after; Redis on loopback).`,
    '',
    `Load: ${SUBSCRIBERS.toLocaleString('en')} graphql-ws subscribers of \`${PRICES}\` per server, one server process at a time, all driven by one separate load-generator process (raw sockets speaking graphql-ws's protocol, its own framing). Mix: ${MIX_TEXT}. Feed: 10 instruments at ${TICKS_PER_SECOND} ticks/s each (the gateway: its simulated upstream through the QuoteStreamLeader, the cache and the Redis bus; Apollo: the same simulated feed published to graphql-subscriptions' PubSub in process). Warm-up ${WARMUP_SECONDS} s, then ${WINDOWS} windows of ${WINDOW_SECONDS} s; medians of the windows. CPU per message: the server process's user+system CPU (process.cpuUsage over IPC) over the window ÷ messages the clients received in it. Latency: receipt time minus the tick's \`time\` (when the feed made it; same machine clock), whole ms. Idle heap: heapUsed after forced GCs with every client past connection_ack and no subscription, minus before any connected, ÷ clients. Stall: one client in ten (spread over the mix) stops reading (socket.pause()); heap growth is heapUsed after forced GCs ${STALL_SECONDS} s later minus before (peak: highest unforced sample every ${STALL_SAMPLE_SECONDS} s); the other 90 %'s latency is the median of the ${STALL_SAMPLE_SECONDS} s windows.`,
    '',
    '| figure | target | gateway | Apollo 5 + graphql-ws + PubSub | gateway ÷ Apollo |',
    '|---|---:|---:|---:|---:|',
  ];
  const cell = (result: Result | undefined, text: (result: Result) => string) => (result === undefined ? 'n/a' : text(result));
  const row = (name: string, target: string, text: (result: Result) => string, ratioText: string) => lines.push(`| ${name} | ${target} | ${cell(gateway, text)} | ${cell(apollo, text)} | ${ratioText} |`);
  row('subscribers connected', '10,000', (r) => `${r.connected.toLocaleString('en')}`, '');
  row('server CPU per delivered message, µs', '≤ 15', (r) => fig(r).cpu.toFixed(1), ratio((r) => fig(r).cpu));
  row('messages delivered per second', '', (r) => fig(r).rate.toFixed(0), ratio((r) => fig(r).rate));
  row('share of the ticks due that arrived', '', (r) => `${(fig(r).share * 100).toFixed(1)} %`, '');
  row('delivery latency p50, ms', '', (r) => String(fig(r).p50), ratio((r) => fig(r).p50));
  row('delivery latency p99, ms', '≤ 50', (r) => String(fig(r).p99), ratio((r) => fig(r).p99));
  row('server event loop busy (share of wall time)', '', (r) => `${(fig(r).elu * 100).toFixed(0)} %`, '');
  row('server CPU used (share of one core)', '', (r) => `${(fig(r).cpuShare * 100).toFixed(0)} %`, '');
  row('load generator CPU (of one core)', '', (r) => `${(fig(r).load * 100).toFixed(0)} %`, '');
  row('heap per idle connection, KiB', '≤ 16', (r) => (r.idleHeapPerConnection / 1024).toFixed(1), ratio((r) => r.idleHeapPerConnection));
  row('RSS per idle connection, KiB', '', (r) => (r.idleRssPerConnection / 1024).toFixed(1), ratio((r) => r.idleRssPerConnection));
  row(`10 % stalled: heap growth over ${STALL_SECONDS} s (after GC), MiB`, '≤ 50', (r) => (r.stall.heapGrowth / MiB).toFixed(1), '');
  row('10 % stalled: peak heap growth (unforced samples), MiB', '', (r) => (r.stall.peakHeapGrowth / MiB).toFixed(1), '');
  row('10 % stalled: external + array buffers growth, MiB', '', (r) => (r.stall.bufferGrowth / MiB).toFixed(1), '');
  row('10 % stalled: kernel send queues of the server at the end, MiB', '', (r) => (r.stall.kernelSendQueue / MiB).toFixed(1), '');
  row('10 % stalled: the other 90 %, p50 / p99 ms', '', (r) => `${fig(r).stallP50} / ${fig(r).stallP99}`, '');
  row('10 % stalled: share of the 90 %\'s ticks that arrived', '', (r) => `${((100 * r.stall.delivered) / r.stall.expected).toFixed(1)} %`, '');
  row('10 % stalled: ticks that still reached the stalled clients', '', (r) => r.stall.stalledMessages.toLocaleString('en'), '');
  row('connections closed by the server during the stall', '', (r) => JSON.stringify(r.stall.closes), '');
  lines.push('', 'Windows (each server; µs CPU/msg, msg/s, p50/p99/max ms):', '');
  for (const result of results) {
    lines.push(`- ${result.kind}: ${result.windows.map((w) => `${w.cpuPerMessage.toFixed(1)} µs, ${w.rate.toFixed(0)}/s, ${w.p50}/${w.p99}/${w.max} ms`).join('; ')}; stall windows p99: ${result.stall.p99.join(', ')} ms`);
  }
  return lines.join('\n');
}

const HEADING = '## Subscriptions (2026-11-27)';
/** The generated figures sit between these in BENCHMARKS.md; the reading written around them by hand stays. */
const BEGIN = '<!-- bench:subscriptions -->';
const END = '<!-- /bench:subscriptions -->';

/**
 * Replaces the figures between BEGIN and END; without them, adds HEADING with the figures before
 * "## Response cache" (which `npm run bench` rewrites to the end of the file).
 */
function writeSection(body: string): void {
  const file = join(process.cwd(), 'BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${BEGIN}\n${body}\n${END}`;
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin >= 0 && end > begin) {
    writeFileSync(file, `${current.slice(0, begin)}${block}${current.slice(end + END.length)}`);
    return;
  }
  const section = `${HEADING}\n\n${block}\n\n`;
  const before = current.indexOf('## Response cache\n');
  writeFileSync(file, before < 0 ? `${current.trimEnd()}\n\n${section.trimEnd()}\n` : `${current.slice(0, before)}${section}${current.slice(before)}`);
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const load = forkRole(['load']);
  const results: Result[] = [];
  try {
    for (const kind of SELECTED) results.push(await measure(kind, load));
  } finally {
    load.kill();
  }
  const body = report(results, { loadBefore, loadAfter: loadavg() });
  process.stdout.write(`\n${body}\n`);
  if (process.env.BENCH_NO_WRITE === undefined) writeSection(body);
}

const role = process.argv[2];
if (role === 'serve') {
  runEntry(() => serve(process.argv[3] as ServerKind), { stayUp: true });
} else if (role === 'load') {
  runLoad();
} else {
  runEntry(main);
}
