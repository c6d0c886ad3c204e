/**
 * What tracing costs the hottest path: near hits of one query, answered by the hit front, with
 * tracing off and with tracing on at 10 % sampling (OTEL_TRACES_SAMPLER=traceidratio, ARG 0.1),
 * exporting to a local OTLP/HTTP receiver (a process of its own, as a collector is) that counts and
 * discards. Both gateways run at once, each a child process of its own over the same kind of data,
 * and are loaded in turn, alternating, in the same sitting; the report is each round's ratio and
 * their median.
 *
 *   npm run bench:tracing     (tsc, then node dist/bench/tracing-overhead.bench.js; prints a Markdown section)
 *
 * BENCH_PAIRS (default 4: fresh pairs of processes), BENCH_ROUNDS (default 4, per pair), BENCH_REDIS_URL (default redis://127.0.0.1:6379); BENCH_TRACED_SAMPLER replaces
 * traceidratio (always_off: the cost of tracing on with nothing sampled), BENCH_SAMPLE_RATIO its argument (default 0.1),
 * BENCH_CPU_PROF a folder for CPU profiles; BENCH_RECEIVER=inline runs the receiver in the load generator's process, as
 * before 2026-11-28 (it then decodes each export between two of the load generator's turns; 6 A/B runs
 * in one sitting: 1.062 against 1.041 for a receiver of its own, median of 36 rounds each);
 * BENCH_SIDE_BY_SIDE=0 loads the two gateways of a pair in turn in each round
 * instead of at once; BENCH_NODE_FLAGS, node options for both gateways (`--max-semi-space-size=16`);
 * BENCH_PIN=1 runs both gateways on CPU 0 and the receiver and the load generator on CPU 1 (`taskset`),
 * as a collector runs on a host of its own: the exports then never wake a process on a gateway's core.
 *
 * Side by side is the default because it is the precise one on a shared machine: both gateways
 * see whatever else the machine does in a round, so their CPU per request compares. With tracing
 * on and nothing sampled (BENCH_TRACED_SAMPLER=always_off), 12 side-by-side rounds gave CPU ratios
 * of 0.96-1.04; 16 rounds in turn gave 0.67-1.25. Their throughputs share one load generator and
 * two cores, so the CPU ratio is the figure to read: for a gateway that has a core to itself,
 * throughput is 1 ÷ CPU per request.
 *
 * Instructions per request (`perf stat`, when perf is installed) are the figure to trust on a busy
 * machine: unlike throughput and CPU time, they do not change with what else the cores are doing.
 * With BENCH_RATE=<req/s>, each load is held at that rate instead of as fast as possible, so that
 * both gateways do the same work per event-loop turn and their instructions per request compare.
 */
import 'reflect-metadata';

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { constants, type NodeGCPerformanceDetail, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

import autocannon from 'autocannon';

import { createGateway } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { readExportRequest } from '../test/helpers/otlp-protobuf-decode';
import { askStats, median, runEntry, startServer } from './bench-processes';
import { NEAR_HIT_BODY } from './near-hit-query';

const VARIANTS = ['tracing-off', 'tracing-10%'] as const;
type Variant = (typeof VARIANTS)[number];

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONNECTIONS = 50;
/** Long enough for the traced code to be optimised at 10 % sampling before the timed rounds. */
const WARMUP_SECONDS = 10;
const RUN_SECONDS = 5;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 4);
const TRACED_SAMPLER = process.env.BENCH_TRACED_SAMPLER ?? 'traceidratio';
const SAMPLE_RATIO = Number(process.env.BENCH_SAMPLE_RATIO ?? 0.1);
const RATE = process.env.BENCH_RATE === undefined ? undefined : Number(process.env.BENCH_RATE);
const SIDE_BY_SIDE = process.env.BENCH_SIDE_BY_SIDE !== '0';
const RECEIVER_INLINE = process.env.BENCH_RECEIVER === 'inline';
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
/** BENCH_PIN=1: both gateways on CPU 0, the receiver and the load generator on CPU 1 (see the header). */
const PIN = process.env.BENCH_PIN === '1';
const ON_GATEWAY_CORE = ['taskset', '-c', '0'] as const;
const ON_OTHER_CORE = ['taskset', '-c', '1'] as const;

type ToChild = { type: 'stats' } | { type: 'stop' };
type FromChild = { type: 'ready'; port: number } | { type: 'stats'; cpuMicros: number; gcMicros: number; scavenges: number; majors: number; youngBytes: number; hits: number };

// ---------------------------------------------------------------- child side

async function serve(variant: Variant, otlpEndpoint: string): Promise<void> {
  const config = loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    SEED_DEMO_DATA: 'true',
    REDIS_URL,
    REDIS_TIMEOUT: '1',
    CACHE_KEY_PREFIX: `bench_tracing_${variant === 'tracing-off' ? 'off' : 'on'}_${process.pid}`,
    CACHE_WARMING_ENABLED: 'false',
    ...(variant === 'tracing-off' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, OTEL_TRACES_SAMPLER: TRACED_SAMPLER, OTEL_TRACES_SAMPLER_ARG: String(SAMPLE_RATIO) }),
  });
  const gateway = await createGateway(config, createLogger(config));
  const url = await gateway.listen();
  // Time spent collecting garbage, how often the young and the old generation were collected, and
  // the young generation's size: sampled requests make V8 double it sooner, or, held small, promote
  // queued spans (BENCHMARKS.md, "Tracing overhead", session 11).
  let gcMicros = 0;
  let scavenges = 0;
  let majors = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMicros += entry.duration * 1000;
      const { kind } = (entry as unknown as { detail: NodeGCPerformanceDetail }).detail;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges += 1;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors += 1;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (message: ToChild) => {
    if (message.type === 'stop') {
      void gateway.close().then(() => process.exit(0));
      return;
    }
    const cpu = process.cpuUsage();
    const youngBytes = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    process.send?.({ type: 'stats', cpuMicros: cpu.user + cpu.system, gcMicros, scavenges, majors, youngBytes, hits: gateway.responseCache?.metrics().near_hits ?? 0 } satisfies FromChild);
  });
  process.send?.({ type: 'ready', port: Number(new URL(url).port) } satisfies FromChild);
}

// ---------------------------------------------------------------- parent side

interface Child {
  readonly variant: Variant;
  readonly process: ChildProcess;
  readonly port: number;
}

async function start(variant: Variant, otlpEndpoint: string): Promise<Child> {
  // BENCH_CPU_PROF=<dir>: each gateway writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${variant}.cpuprofile`];
  return { variant, ...(await startServer(__filename, ['serve', variant, otlpEndpoint], variant, { execArgv: [...profile, ...NODE_FLAGS], ...(PIN ? { wrapper: ON_GATEWAY_CORE } : {}) })) };
}

const stats = (child: Child) => askStats<Extract<FromChild, { type: 'stats' }>>(child.process);

/**
 * The OTLP receiver, a process of its own (BENCH_RECEIVER=inline: in the load generator's), so that
 * decoding exports takes nothing from the load generator: a collector that takes OTLP/HTTP exports
 * (protobuf or JSON) and keeps only counts, asked for with `{ type: 'stats' }`.
 */
async function receive(): Promise<Receiver> {
  const counts = { requestSpans: 0 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const protobuf = request.headers['content-type'] === 'application/x-protobuf';
      const { resourceSpans } = readExportRequest(Buffer.concat(chunks), request.headers['content-type']);
      for (const { scopeSpans } of resourceSpans as { scopeSpans: { spans: { kind: number }[] }[] }[]) for (const { spans } of scopeSpans) counts.requestSpans += spans.filter((span) => span.kind === 2).length;
      response.writeHead(200, { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json' }).end(protobuf ? '' : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { url: `http://127.0.0.1:${port}`, requestSpans: () => Promise.resolve(counts.requestSpans), close };
}

interface Receiver {
  readonly url: string;
  /** Request spans (SERVER kind) received so far. */
  requestSpans(): Promise<number>;
  close(): void;
}

async function startReceiver(): Promise<Receiver> {
  if (RECEIVER_INLINE) return receive();
  const { process: child, port } = await startServer(__filename, ['receive'], 'OTLP receiver', PIN ? { wrapper: ON_OTHER_CORE } : {});
  return {
    url: `http://127.0.0.1:${port}`,
    requestSpans: async () => (await askStats<{ requestSpans: number }>(child)).requestSpans,
    close: () => child.send({ type: 'stop' } satisfies ToChild),
  };
}

/** The receiver's process: `receive`, answering over IPC. */
async function serveReceiver(): Promise<void> {
  const receiver = await receive();
  process.on('message', (message: ToChild) => {
    if (message.type === 'stop') process.exit(0);
    void receiver.requestSpans().then((requestSpans) => process.send?.({ type: 'stats', requestSpans }));
  });
  process.send?.({ type: 'ready', port: Number(new URL(receiver.url).port) } satisfies FromChild);
}

async function load(child: Child, seconds: number) {
  const result = await autocannon({
    url: `http://127.0.0.1:${child.port}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: NEAR_HIT_BODY,
    connections: CONNECTIONS,
    duration: seconds,
    ...(RATE === undefined ? {} : { overallRate: RATE }),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${child.variant}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests: result.requests.total };
}

/** Counts the instructions `pid` retires (user and kernel) until stopped; `undefined` without perf. */
function countInstructions(pid: number): { stop(): Promise<{ user: number; kernel: number } | undefined> } {
  const perf = spawn('perf', ['stat', '-x', ',', '-e', 'instructions:u,instructions:k', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  perf.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<boolean>((resolve) => {
    perf.once('error', () => resolve(false));
    perf.once('exit', () => resolve(true));
  });
  return {
    async stop() {
      perf.kill('SIGINT');
      if (!(await exited)) return undefined;
      const count = (event: string) => Number(output.split('\n').find((line) => line.includes(event))?.split(',')[0]);
      const user = count('instructions:u');
      const kernel = count('instructions:k');
      return Number.isFinite(user) && Number.isFinite(kernel) ? { user, kernel } : undefined;
    },
  };
}

interface Rows {
  readonly rows: Map<Variant, { rps: number[]; p50: number[]; p99: number[]; cpuPerRequest: number[]; instructionsPerRequest: number[] }>;
  readonly ratios: number[];
  readonly cpuRatios: number[];
  readonly instructionRatios: number[];
  tracedRequests: number;
}

/**
 * One pair of gateways, started fresh, warmed up, then ROUNDS rounds alternating between them.
 * Several pairs (BENCH_PAIRS) because a process has luck of its own (where its code is placed,
 * when it collects): two processes of the same build differed by up to 15 % in one sitting.
 */
async function runPair(pair: number, receiver: Receiver, into: Rows): Promise<number> {
  // Which starts first alternates from pair to pair.
  const variants = pair % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  const children = [await start(variants[0], receiver.url), await start(variants[1], receiver.url)];
  for (const child of children) {
    // The first answer is executed and stored; from the second on, the hit front answers from the near copy.
    for (let i = 0; i < 3; i += 1) {
      // The first with a caller's sampled trace: the async context is in use from then on, whatever the sampler.
      const traceparent: Record<string, string> = i === 0 ? { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } : {};
      const response = await fetch(`http://127.0.0.1:${child.port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...traceparent }, body: NEAR_HIT_BODY });
      await response.text();
      if (i === 2 && response.headers.get('x-cache') !== 'HIT') throw new Error(`${child.variant}: the repeat was x-cache ${response.headers.get('x-cache')}`);
    }
  }
  // Both warmed up at once: a gateway warmed first and then left idle while the other warms up
  // came out of it 10-25 % slower in the first rounds (V8 shrinks an idle process's heap and
  // drops code it has not run lately), which read as the other variant's advantage.
  await Promise.all(children.map((child) => load(child, WARMUP_SECONDS)));
  // The warm-up's spans arrive within one export delay (5 s): counted out before the timed rounds.
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const spansBefore = await receiver.requestSpans();
  for (let round = 0; round < ROUNDS; round += 1) {
    // Both loaded at once, each by its own load; or (BENCH_SIDE_BY_SIDE=0) in turn, alternating
    // which goes first, so that neither always runs on a machine the other has just warmed.
    const rps = new Map<Variant, number>();
    const cpu = new Map<Variant, number>();
    const instructions = new Map<Variant, number>();
    const split = new Map<Variant, string>();
    const measure = async (child: Child) => {
      const before = await stats(child);
      const counter = countInstructions(child.process.pid!);
      const run = await load(child, RUN_SECONDS);
      const counted = await counter.stop();
      const after = await stats(child);
      if (counted !== undefined) {
        const perRequest = (counted.user + counted.kernel) / run.requests;
        into.rows.get(child.variant)!.instructionsPerRequest.push(perRequest);
        instructions.set(child.variant, perRequest);
        split.set(child.variant, ` (user ${(counted.user / run.requests / 1000).toFixed(0)}k, kernel ${(counted.kernel / run.requests / 1000).toFixed(0)}k)`);
      }
      if (after.hits - before.hits < run.requests * 0.99) throw new Error(`${child.variant}: ${after.hits - before.hits} near hits for ${run.requests} requests`);
      if (child.variant === 'tracing-10%') into.tracedRequests += run.requests;
      const row = into.rows.get(child.variant)!;
      const cpuPerRequest = (after.cpuMicros - before.cpuMicros) / run.requests;
      const gcPerRequest = (after.gcMicros - before.gcMicros) / run.requests;
      row.rps.push(run.rps);
      row.p50.push(run.p50);
      row.p99.push(run.p99);
      row.cpuPerRequest.push(cpuPerRequest);
      rps.set(child.variant, run.rps);
      cpu.set(child.variant, cpuPerRequest);
      const perRequest = instructions.get(child.variant);
      process.stdout.write(
        `pair ${pair + 1} round ${round + 1} ${child.variant.padEnd(12)} ${run.rps.toFixed(0).padStart(7)} req/s p50 ${run.p50} ms p99 ${run.p99} ms ${cpuPerRequest.toFixed(1)} µs CPU/req (GC ${gcPerRequest.toFixed(2)}: ${after.scavenges - before.scavenges} scavenges, ${after.majors - before.majors} major, young generation ${(after.youngBytes / 2 ** 20).toFixed(0)} MiB)${perRequest === undefined ? '' : ` ${(perRequest / 1000).toFixed(0)}k instructions/req${split.get(child.variant) ?? ''}`}\n`,
      );
    };
    if (SIDE_BY_SIDE) await Promise.all(children.map(measure));
    else for (const child of round % 2 === 0 ? children : [...children].reverse()) await measure(child);
    into.ratios.push(rps.get('tracing-10%')! / rps.get('tracing-off')!);
    into.cpuRatios.push(cpu.get('tracing-10%')! / cpu.get('tracing-off')!);
    if (instructions.size === 2) into.instructionRatios.push(instructions.get('tracing-10%')! / instructions.get('tracing-off')!);
  }
  // Stopping exports what is still queued (Tracing.shutdown) before the process exits.
  await Promise.all(
    children.map((child) => {
      const exited = new Promise((resolve) => child.process.once('exit', resolve));
      child.process.send({ type: 'stop' } satisfies ToChild);
      return exited;
    }),
  );
  return (await receiver.requestSpans()) - spansBefore;
}

async function main(): Promise<void> {
  // The load generator's every thread (autocannon's included) on the receiver's core.
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const receiver = await startReceiver();
  const into: Rows = {
    rows: new Map(VARIANTS.map((variant) => [variant, { rps: [], p50: [], p99: [], cpuPerRequest: [], instructionsPerRequest: [] }])),
    ratios: [],
    cpuRatios: [],
    instructionRatios: [],
    tracedRequests: 0,
  };
  let exported = 0;
  for (let pair = 0; pair < PAIRS; pair += 1) exported += await runPair(pair, receiver, into);
  receiver.close();
  const { rows, ratios, cpuRatios, instructionRatios, tracedRequests } = into;
  const list = (values: readonly number[]) => values.map((value) => value.toFixed(3)).join(', ');

  const lines = [
    `Command: \`npm run bench:tracing\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, 2 cores, Redis on loopback, \`uptime\` load ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' / ')} at the end). Near hits of one query (24 EUR_USD signals with author and price) as POST, answered by the hit front; autocannon, ${CONNECTIONS} connections${RATE === undefined ? '' : ` held at ${RATE} req/s`}. ${PAIRS} pairs of gateways, each pair two fresh processes (tracing off, tracing on) up together, started in turns (off first in odd pairs, on first in even ones): ${WARMUP_SECONDS} s warm-up each, then ${ROUNDS} rounds of ${RUN_SECONDS} s ${SIDE_BY_SIDE ? 'loading both at once, each with its own 50 connections' : 'alternating between the two (`BENCH_SIDE_BY_SIDE=0`)'}; medians over all rounds. Tracing on: \`OTEL_TRACES_SAMPLER=${TRACED_SAMPLER}\`, \`OTEL_TRACES_SAMPLER_ARG=${SAMPLE_RATIO}\`, exporting over OTLP/HTTP to a receiver ${RECEIVER_INLINE ? "in the load generator's process" : 'in a process of its own'} that counts and discards${PIN ? ' (`BENCH_PIN=1`: both gateways on CPU 0, the receiver and the load generator on CPU 1)' : ''}; it received ${exported} request spans for the ${tracedRequests} timed requests (${((exported / Math.max(1, tracedRequests)) * 100).toFixed(1)} % sampled).`,
    '',
    '| gateway | req/s | p50 ms | p99 ms | server CPU µs/req | instructions/req (user + kernel) |',
    '|---|---:|---:|---:|---:|---:|',
    ...VARIANTS.map((variant) => {
      const row = rows.get(variant)!;
      const instructions = row.instructionsPerRequest.length === 0 ? 'no perf' : `${(median(row.instructionsPerRequest) / 1000).toFixed(0)}k`;
      return `| ${variant} | ${median(row.rps).toFixed(0)} | ${median(row.p50)} | ${median(row.p99)} | ${median(row.cpuPerRequest).toFixed(1)} | ${instructions} |`;
    }),
    '',
    `Server CPU per request with tracing ÷ without, per round (pair by pair): ${list(cpuRatios)}; median **${median(cpuRatios).toFixed(3)}**${SIDE_BY_SIDE ? `: hits per second per core with tracing ÷ without, ${(1 / median(cpuRatios)).toFixed(3)}` : ''}.`,
    `Throughput with tracing ÷ without, per round: ${list(ratios)}; median ${median(ratios).toFixed(3)}${SIDE_BY_SIDE ? ' (the two shared the machine and one load generator: not the figure to read)' : ''}.`,
    ...(instructionRatios.length === 0 ? [] : [`Instructions per request with tracing ÷ without, per round: ${list(instructionRatios)}; median ${median(instructionRatios).toFixed(3)}.`]),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

if (process.argv[2] === 'serve') {
  runEntry(() => serve(process.argv[3] as Variant, process.argv[4] ?? ''), { stayUp: true });
} else if (process.argv[2] === 'receive') {
  runEntry(serveReceiver, { stayUp: true });
} else {
  runEntry(main);
}
