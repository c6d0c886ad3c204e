/**
 * Renders the figures the reliability tests recorded into RELIABILITY.md.
 *
 *   npm run reliability   (runs test/reliability with RELIABILITY_REPORT=dist/reliability, one file
 *                          after the other, then node dist/bench/reliability-report.js dist/reliability)
 *
 * Only the "## Figures" section is rewritten, up to the next second-level heading; the rest of
 * the file is prose kept by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Scenario {
  readonly scenario: string;
  readonly requests: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly recoveryMs?: number;
  readonly notes?: string;
}

interface ChaosFigures {
  readonly recordedAt: string;
  readonly node: string;
  readonly setup: { readonly concurrency: number; readonly ratePerSecond: number; readonly redisTimeoutMs: number; readonly faultWindowMs: number };
  readonly bounds: { readonly frozenP99Ms: number; readonly frozenMaxMs: number; readonly redisRecoveryMs: number; readonly databaseRecoveryMs: number };
  readonly totalRequests: number;
  readonly scenarios: readonly Scenario[];
}

interface SoakFigures {
  readonly recordedAt: string;
  readonly setup: { readonly durationMs: number; readonly ratePerSecond: number; readonly concurrency: number };
  readonly bounds: { readonly rssGrowthMiB: number; readonly retainedHeapGrowthMiB: number; readonly rssCapMiB: number; readonly rssHeadroomMiB: number; readonly handleTolerance: number };
  readonly requests: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly achievedRatePerSecond: number;
  readonly rssMiB: { readonly start: number; readonly firstThirdMedian: number; readonly lastThirdMedian: number; readonly growth: number; readonly max: number; readonly end: number };
  readonly retainedHeapMiB: { readonly before: number; readonly after: number; readonly growth: number };
  readonly handles: { readonly before: { readonly sockets: number; readonly timers: number }; readonly after: { readonly sockets: number; readonly timers: number }; readonly settleMs: number };
}

const MARKER = '## Figures';

function render(chaos: ChaosFigures, soak: SoakFigures): string {
  const lines = [
    `Recorded by \`npm run reliability\` on ${chaos.recordedAt.slice(0, 10)} (Node ${chaos.node}, 2 cores, Redis 7 and PostgreSQL 15 on loopback, the two suites one after the other). Latencies are client-side, from send to last byte.`,
    '',
    `### Chaos (\`test/reliability/chaos.test.ts\`): ${chaos.setup.concurrency} keep-alive clients, ${chaos.setup.ratePerSecond} req/s, REDIS_TIMEOUT=${chaos.setup.redisTimeoutMs / 1000}, ${chaos.totalRequests} requests in all`,
    '',
    '| scenario | requests | failed | p50 ms | p99 ms | max ms | time to recover | notes |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    ...chaos.scenarios.map(
      (row) => `| ${row.scenario} | ${row.requests} | ${row.failures} | ${row.p50Ms} | ${row.p99Ms} | ${row.maxMs} | ${row.recoveryMs === undefined ? '' : `${row.recoveryMs} ms`} | ${row.notes ?? ''} |`,
    ),
    '',
    `Bounds asserted: frozen Redis p99 < ${chaos.bounds.frozenP99Ms} ms and max < ${chaos.bounds.frozenMaxMs} ms; Redis back to healthy < ${chaos.bounds.redisRecoveryMs} ms; database back (cold reads and readiness) < ${chaos.bounds.databaseRecoveryMs} ms.`,
    '',
    `### Soak (\`test/reliability/soak.test.ts\`): ${soak.setup.durationMs / 1000} s at ${soak.setup.ratePerSecond} req/s, ${soak.setup.concurrency} keep-alive clients`,
    '',
    '| requests | failed | achieved req/s | p50 ms | p99 ms | max ms | RSS start / first-third median / last-third median / max / end (MiB) | RSS growth | retained heap before → after (MiB) | sockets + timers before → after |',
    '|---:|---:|---:|---:|---:|---:|---|---:|---|---|',
    `| ${soak.requests} | ${soak.failures} | ${soak.achievedRatePerSecond} | ${soak.p50Ms} | ${soak.p99Ms} | ${soak.maxMs} | ${soak.rssMiB.start} / ${soak.rssMiB.firstThirdMedian} / ${soak.rssMiB.lastThirdMedian} / ${soak.rssMiB.max} / ${soak.rssMiB.end} | ${soak.rssMiB.growth} MiB | ${soak.retainedHeapMiB.before} → ${soak.retainedHeapMiB.after} | ${soak.handles.before.sockets} + ${soak.handles.before.timers} → ${soak.handles.after.sockets} + ${soak.handles.after.timers} (settled in ${soak.handles.settleMs} ms) |`,
    '',
    `Bounds asserted: RSS growth < ${soak.bounds.rssGrowthMiB} MiB, RSS max < start + ${soak.bounds.rssHeadroomMiB} MiB and < ${soak.bounds.rssCapMiB} MiB, retained heap growth < ${soak.bounds.retainedHeapGrowthMiB} MiB, sockets + timers after ≤ before + ${soak.bounds.handleTolerance}.`,
  ];
  return lines.join('\n');
}

function main(): void {
  const dir = process.argv[2] ?? 'dist/reliability';
  const read = <T>(name: string) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as T;
  const section = render(read<ChaosFigures>('chaos'), read<SoakFigures>('soak'));
  process.stdout.write(`${section}\n`);
  const file = join(process.cwd(), 'RELIABILITY.md');
  const current = readFileSync(file, 'utf8');
  const start = current.indexOf(MARKER);
  if (start < 0) throw new Error(`RELIABILITY.md has no "${MARKER}" section to rewrite`);
  const next = current.indexOf('\n## ', start + MARKER.length);
  const tail = next < 0 ? '' : current.slice(next);
  writeFileSync(file, `${current.slice(0, start)}${MARKER}\n\n${section}\n${tail}`);
}

main();
