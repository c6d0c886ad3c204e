/**
 * What tracing at 10 % costs a near hit in instructions, counted by valgrind's callgrind: the
 * gateway's own work, whatever else the machine does (the OTLP receiver, the load generator,
 * other processes on the same two cores), which the CPU-time bench (tracing-overhead.bench.ts)
 * cannot separate from what its neighbours cost it. Each pair is two fresh gateways (tracing off,
 * tracing on at 10 %) under callgrind side by side: warmed up uninstrumented, then instrumented
 * for a fixed number of near hits each; the report is instructions per request, of the main
 * thread and of all threads (GC helpers and compilers included), and their ratios.
 *
 *   npm run bench:tracing-instructions     (tsc, then node dist/bench/tracing-instructions.bench.js)
 *
 * BENCH_PAIRS (default 3), BENCH_REQUESTS (default 10000 per gateway and pair), BENCH_WARMUP_SECONDS
 * (default 150: some 150 000 requests uninstrumented, for V8 to optimise the hot path),
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379). Needs valgrind (callgrind_control included);
 * a pair takes about 7 minutes on two cores.
 *
 * Under valgrind a gateway runs 5-50 times slower, so its timeouts are stretched (the cache bus
 * would otherwise take its slow event loop for a stall and drop its near copies), and spans are
 * exported by the batch (512), never by the 5 s timer, as at full speed: a timer firing every 5 s
 * of a slowed process would send many small exports that a gateway at full speed never sends.
 * Instruction counts are repeatable for one process, but not between two: V8 compiles in
 * background threads and collects when its heuristics say, so each process settles on code of its
 * own. Hence pairs, and medians.
 */
import 'reflect-metadata';

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import autocannon from 'autocannon';

import { createGateway } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { askStats, median, runEntry, startServer } from './bench-processes';
import { NEAR_HIT_BODY } from './near-hit-query';

const VARIANTS = ['tracing-off', 'tracing-10%'] as const;
type Variant = (typeof VARIANTS)[number];

const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 150);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONNECTIONS = 50;
/** Requests after instrumentation is switched on and before counting: valgrind translates the code again. */
const SETTLE_REQUESTS = 500;

// ---------------------------------------------------------------- child side

async function serve(variant: Variant, otlpEndpoint: string): Promise<void> {
  const config = loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'error',
    SEED_DEMO_DATA: 'true',
    REDIS_URL,
    REDIS_TIMEOUT: '30',
    CACHE_BUS_ACK_TIMEOUT_MS: '60000',
    CACHE_BUS_MEMBER_LEASE_MS: '600000',
    CACHE_KEY_PREFIX: `bench_instr_${variant === 'tracing-off' ? 'off' : 'on'}_${process.pid}`,
    CACHE_WARMING_ENABLED: 'false',
    ...(variant === 'tracing-off' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1', OTEL_BSP_SCHEDULE_DELAY: '600000' }),
  });
  const gateway = await createGateway(config, createLogger(config));
  const url = await gateway.listen();
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') void gateway.close().then(() => process.exit(0));
    else process.send?.({ type: 'stats', hits: gateway.responseCache?.metrics().near_hits ?? 0 });
  });
  process.send?.({ type: 'ready', port: Number(new URL(url).port) });
}

// ---------------------------------------------------------------- parent side

interface Counted {
  readonly mainPerRequest: number;
  readonly allPerRequest: number;
}

async function load(port: number, options: { duration: number } | { amount: number }): Promise<number> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/graphql`, method: 'POST', headers: { 'content-type': 'application/json' }, body: NEAR_HIT_BODY, connections: CONNECTIONS, timeout: 120, ...options });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.total;
}

/** Instructions in the dump `trigger` of `pid`: one file per thread, thread 1 the main one. */
function dumped(folder: string, pid: number, trigger: string): { main: number; all: number } {
  let main = 0;
  let all = 0;
  for (const name of readdirSync(folder).filter((file) => file.includes(`.${pid}.`))) {
    const text = readFileSync(join(folder, name), 'utf8');
    if (!text.includes(`desc: Trigger: dump ${trigger}\n`)) continue;
    const summary = Number(/^summary: (\d+)$/m.exec(text)?.[1] ?? 0);
    all += summary;
    if (/^thread: 1$/m.test(text)) main += summary;
  }
  return { main, all };
}

async function runPair(pair: number, otlpEndpoint: string, folder: string): Promise<Map<Variant, Counted>> {
  const callgrind = (variant: Variant): [string, ...string[]] => ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', '--smc-check=all', '-q', `--callgrind-out-file=${join(folder, `${variant === 'tracing-off' ? 'off' : 'on'}.%p`)}`];
  const children = await Promise.all(VARIANTS.map(async (variant) => ({ variant, ...(await startServer(__filename, ['serve', variant, otlpEndpoint], variant, { wrapper: callgrind(variant) })) })));
  const counted = new Map<Variant, Counted>();
  await Promise.all(
    children.map(async ({ variant, process: child, port }) => {
      const pid = child.pid!;
      // As in tracing-overhead.bench.ts: the first request carries a sampled trace (the async
      // context is in use from then on), the second stores the answer, the third is a near hit.
      for (let i = 0; i < 3; i += 1) {
        const traceparent: Record<string, string> = i === 0 ? { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } : {};
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...traceparent }, body: NEAR_HIT_BODY });
        await response.text();
        if (i === 2 && response.headers.get('x-cache') !== 'HIT') throw new Error(`${variant}: the repeat was x-cache ${response.headers.get('x-cache')}`);
      }
      await load(port, { duration: WARMUP_SECONDS });
      execFileSync('callgrind_control', ['--instr=on', String(pid)], { stdio: 'ignore' });
      await load(port, { amount: SETTLE_REQUESTS });
      execFileSync('callgrind_control', ['--zero', String(pid)], { stdio: 'ignore' });
      const hitsOf = async () => (await askStats<{ hits: number }>(child)).hits;
      const hitsBefore = await hitsOf();
      const requests = await load(port, { amount: REQUESTS });
      execFileSync('callgrind_control', [`--dump=pair-${pair}`, String(pid)], { stdio: 'ignore' });
      const hits = (await hitsOf()) - hitsBefore;
      if (hits < requests * 0.99) throw new Error(`${variant}: ${hits} near hits for ${requests} requests`);
      const { main, all } = dumped(folder, pid, `pair-${pair}`);
      counted.set(variant, { mainPerRequest: main / requests, allPerRequest: all / requests });
      process.stdout.write(`pair ${pair + 1} ${variant.padEnd(12)} ${(main / requests / 1000).toFixed(1)}k instructions/request on the main thread, ${(all / requests / 1000).toFixed(1)}k in all\n`);
    }),
  );
  await Promise.all(
    children.map(({ process: child }) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      return exited;
    }),
  );
  return counted;
}

async function main(): Promise<void> {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  // A receiver that takes the exports and keeps only their number and size.
  const received = { exports: 0, bytes: 0 };
  const receiver = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (received.bytes += chunk.length));
    request.on('end', () => {
      received.exports += 1;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const otlpEndpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  const folder = mkdtempSync(join(tmpdir(), 'tracing-instructions-'));
  const runs: Map<Variant, Counted>[] = [];
  try {
    for (let pair = 0; pair < PAIRS; pair += 1) runs.push(await runPair(pair, otlpEndpoint, folder));
  } finally {
    receiver.close();
    rmSync(folder, { recursive: true, force: true });
  }
  const ratios = (of: keyof Counted) => runs.map((run) => run.get('tracing-10%')![of] / run.get('tracing-off')![of]);
  const list = (values: readonly number[]) => values.map((value) => value.toFixed(3)).join(', ');
  const lines = [
    `Command: \`npm run bench:tracing-instructions\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, valgrind's callgrind). Near hits of one query (24 EUR_USD signals with author and price) as POST, autocannon with ${CONNECTIONS} connections. ${PAIRS} pairs of fresh gateways under callgrind side by side, each warmed up ${WARMUP_SECONDS} s uninstrumented, then ${REQUESTS} requests counted; tracing on at 10 % (\`traceidratio\`, 0.1) exporting over OTLP/HTTP (${received.exports} exports, ${(received.bytes / 2 ** 20).toFixed(1)} MiB, warm-ups included).`,
    '',
    '| pair | off, main thread | 10 %, main thread | ratio | off, all threads | 10 %, all threads | ratio |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...runs.map((run, pair) => {
      const off = run.get('tracing-off')!;
      const on = run.get('tracing-10%')!;
      const k = (value: number) => `${(value / 1000).toFixed(1)}k`;
      return `| ${pair + 1} | ${k(off.mainPerRequest)} | ${k(on.mainPerRequest)} | ${(on.mainPerRequest / off.mainPerRequest).toFixed(3)} | ${k(off.allPerRequest)} | ${k(on.allPerRequest)} | ${(on.allPerRequest / off.allPerRequest).toFixed(3)} |`;
    }),
    '',
    `Instructions per request with tracing ÷ without: main thread ${list(ratios('mainPerRequest'))}, median **${median(ratios('mainPerRequest')).toFixed(3)}**; all threads ${list(ratios('allPerRequest'))}, median **${median(ratios('allPerRequest')).toFixed(3)}**.`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

if (process.argv[2] === 'serve') runEntry(() => serve(process.argv[3] as Variant, process.argv[4] ?? ''), { stayUp: true });
else runEntry(main);
