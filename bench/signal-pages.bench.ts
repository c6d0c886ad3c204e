/**
 * Paged signals: what one page costs by its depth (issue 16: "a page costs at most 2 statements,
 * whatever its depth; page 1 and page 100 alike").
 *
 *   npm run bench:pages   (tsc, then node dist/bench/signal-pages.bench.js; prints a markdown table)
 *
 * The data path alone, without caches: SignalsRepository.findPage against the Database, on the
 * embedded PGlite and on the machine's PostgreSQL (a scratch schema, dropped afterwards;
 * TEST_DATABASE_URL overrides the server, as for the tests). Each database holds the demo seed
 * plus enough rows of one instrument that its list reaches depth 100. The cursors are those a
 * client would hold: pages are walked forward first, and the request that fetched page d is
 * replayed. Depths are interleaved within each iteration, so the machine's drift (it is shared
 * and noisy) falls on all of them alike.
 */
import 'reflect-metadata';

import { Database, type SqlDriver } from '../src/db/database';
import { migrate } from '../src/db/migrations';
import { PgDriver } from '../src/db/pg-driver';
import { PgliteDriver } from '../src/db/pglite-driver';
import { seedDemoData } from '../src/demo/demo-data';
import type { PageRequest } from '../src/graphql/connection/page-args';
import type { SignalList } from '../src/signals/signal-list';
import { SignalsRepository } from '../src/signals/signals.repository';
import { createScratchSchema, type ScratchSchema } from '../test/helpers/postgres';
import { runEntry } from './bench-processes';

const PAGE_SIZE = 20;
/** 2 is the first page read from a cursor: it tells the cost of the cursor from the cost of depth. */
const DEPTHS = [1, 2, 10, 50, 100] as const;
const WARMUP_ITERATIONS = 30;
const ITERATIONS = 200;
/** The instrument list is topped up to this many rows: depth 100 needs 100 × 20 + 1 (the row that says more follow). */
const INSTRUMENT_ROWS = 3_000;
const INSTRUMENT = 'EUR_USD';

const LISTS: readonly { readonly name: string; readonly list: SignalList }[] = [
  { name: `one instrument (${INSTRUMENT})`, list: { symbol: INSTRUMENT } },
  { name: 'unfiltered', list: {} },
  { name: 'status ACTIVE', list: { status: 'ACTIVE' } },
];

/** Remembers the last statement run, so that its plan can be asked for with the very text and parameters. */
class RecordingDriver implements SqlDriver {
  last: { sql: string; params: readonly unknown[] } | undefined;

  constructor(readonly inner: SqlDriver) {}

  query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    this.last = { sql, params };
    return this.inner.query<Row>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.inner.exec(sql);
  }

  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.inner.transaction(work);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

interface DepthResult {
  readonly depth: number;
  readonly p50: number;
  readonly p99: number;
  readonly statements: number;
}

interface ListResult {
  readonly name: string;
  readonly rows: number;
  readonly depths: readonly DepthResult[];
  readonly countP50: number;
  readonly plan: string;
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/**
 * Demo rows give each instrument about 2,000 signals, not enough for page 100 of 20 and the row
 * after it. The extra ones are spread over the demo's three weeks, interleaved with its rows.
 */
async function topUp(db: Database): Promise<void> {
  const [current] = await db.query<{ count: number }>('bench.count', 'select count(*)::int as count from trading_signals where symbol = $1', [INSTRUMENT]);
  const missing = INSTRUMENT_ROWS - (current?.count ?? 0);
  if (missing > 0) {
    await db.query(
      'bench.topUp',
      `insert into trading_signals (user_id, symbol, timeframe, direction, status, entry_price, stop_loss, take_profit, confidence, created_at, updated_at)
       select 1 + g % 1000, $1, (array['M1','M5','M15','H1','H4','D1'])[1 + g % 6], case when g % 2 = 0 then 'BUY' else 'SELL' end,
              (array['ACTIVE','EXECUTED','EXPIRED','CANCELLED'])[1 + g % 4], 1.08 + (g % 100) * 0.0001, null, null, 0.5 + (g % 50) / 100.0,
              timestamptz '2026-11-01T00:00:00Z' - g * ($2::float8 * interval '1 second') - interval '123457 microseconds',
              timestamptz '2026-11-01T00:00:00Z' - g * ($2::float8 * interval '1 second')
       from generate_series(1, $3::int) as g`,
      // The demo spans 20,000 × 97 s; spread the extra rows over the same span.
      [INSTRUMENT, (20_000 * 97) / missing, missing],
    );
  }
  await db.query('bench.analyze', 'analyze trading_signals', []);
}

type PlanNode = {
  readonly 'Node Type': string;
  readonly 'Index Name'?: string;
  readonly 'Scan Direction'?: string;
  readonly 'Index Cond'?: string;
  readonly Filter?: string;
  readonly 'Actual Rows'?: number;
  readonly 'Rows Removed by Filter'?: number;
  readonly Plans?: readonly PlanNode[];
};

/**
 * The plan of a statement, run, in one line: its nodes outermost first; for each index scan, what
 * bounds it (the list's columns, and `cursor` when the scan starts at the cursor rather than at the
 * top of the list), what it filters, and how many entries it read for the rows it kept.
 */
async function planLine(driver: SqlDriver, statement: { sql: string; params: readonly unknown[] }): Promise<string> {
  const [row] = await driver.query<{ 'QUERY PLAN': unknown }>(`explain (analyze, format json, timing off, summary off) ${statement.sql}`, statement.params);
  const raw = row?.['QUERY PLAN'];
  const [root] = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  const columns = (condition: string | undefined) => [...(condition ?? '').matchAll(/\((\w+) = /g)].map((match) => match[1]!);
  const nodes: string[] = [];
  const walk = (node: PlanNode) => {
    let text = node['Node Type'];
    if (node['Index Name'] !== undefined) {
      const bounds = [...columns(node['Index Cond']), ...(node['Index Cond']?.includes('ROW(') === true ? ['cursor'] : [])];
      const filter = columns(node.Filter);
      const kept = node['Actual Rows'] ?? 0;
      text += ` ${node['Scan Direction'] === 'Backward' ? 'backward ' : ''}on ${node['Index Name']} [from ${bounds.join(' + ') || 'the top'}${filter.length === 0 ? '' : `, filter ${filter.join(' + ')}`}: ${kept + (node['Rows Removed by Filter'] ?? 0)} read, ${kept} kept]`;
    }
    nodes.push(text);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(root!.Plan);
  const wholeTable = nodes.some((node) => /^(Sort|Seq Scan|Bitmap)/.test(node));
  return `${nodes.join(' → ')}${wholeTable ? ' (SORTS OR SCANS BEYOND THE PAGE)' : ''}`;
}

async function measureList(db: Database, driver: RecordingDriver, name: string, list: SignalList): Promise<ListResult> {
  const repository = new SignalsRepository(db);

  // Walk forward to collect, for each depth, the request a client holding the previous page's endCursor sends.
  const requests = new Map<number, PageRequest>();
  let request: PageRequest = { direction: 'forward', size: PAGE_SIZE };
  for (let depth = 1; depth <= DEPTHS.at(-1)!; depth += 1) {
    requests.set(depth, request);
    const page = await repository.findPage(list, request);
    const last = page.rows.at(-1);
    if (page.rows.length !== PAGE_SIZE || last === undefined || (!page.more && depth < DEPTHS.at(-1)!)) {
      throw new Error(`${name}: page ${depth} has ${page.rows.length} rows; the list is too short for depth ${DEPTHS.at(-1)}`);
    }
    request = { direction: 'forward', size: PAGE_SIZE, from: { micros: BigInt(last.micros), id: last.signal.id } };
  }

  const samples = new Map<number, number[]>(DEPTHS.map((depth) => [depth, []]));
  const statements = new Map<number, number>(DEPTHS.map((depth) => [depth, 0]));
  for (let iteration = 0; iteration < WARMUP_ITERATIONS + ITERATIONS; iteration += 1) {
    // Rotate the order, so that no depth always runs first.
    for (let k = 0; k < DEPTHS.length; k += 1) {
      const depth = DEPTHS[(iteration + k) % DEPTHS.length]!;
      const before = db.queryCounts().total;
      const started = process.hrtime.bigint();
      await repository.findPage(list, requests.get(depth)!);
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      statements.set(depth, Math.max(statements.get(depth)!, db.queryCounts().total - before));
      if (iteration >= WARMUP_ITERATIONS) samples.get(depth)!.push(elapsedMs);
    }
  }

  await repository.findPage(list, requests.get(DEPTHS.at(-1)!)!);
  const plan = await planLine(driver.inner, driver.last!);

  // The count is the page's second statement (totalCount), the same at every depth: 10 warm-up runs, 40 timed.
  const countTimes: number[] = [];
  for (let iteration = 0; iteration < 50; iteration += 1) {
    const started = process.hrtime.bigint();
    await repository.count(list);
    countTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return {
    name,
    rows: await repository.count(list),
    depths: DEPTHS.map((depth) => ({ depth, p50: percentile(samples.get(depth)!, 50), p99: percentile(samples.get(depth)!, 99), statements: statements.get(depth)! })),
    countP50: percentile(countTimes.slice(10), 50),
    plan,
  };
}

async function measureDatabase(label: string, driver: SqlDriver): Promise<{ label: string; lists: ListResult[] }> {
  const recording = new RecordingDriver(driver);
  const db = new Database(recording);
  try {
    await migrate(db);
    await seedDemoData(db);
    await topUp(db);
    const lists: ListResult[] = [];
    for (const { name, list } of LISTS) {
      process.stdout.write(`${label}: ${name}…\n`);
      lists.push(await measureList(db, recording, name, list));
    }
    return { label, lists };
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const results = [await measureDatabase('PGlite', await PgliteDriver.start())];
  let scratch: ScratchSchema | undefined;
  try {
    scratch = await createScratchSchema();
  } catch (error) {
    process.stdout.write(`PostgreSQL unreachable (${String(error)}): measured on PGlite only\n`);
  }
  if (scratch !== undefined) {
    try {
      results.push(await measureDatabase('PostgreSQL', new PgDriver({ url: scratch.url, poolSize: 2 })));
    } finally {
      await scratch.drop();
    }
  }

  const ms = (value: number) => value.toFixed(3);
  const lines = [
    `Command: \`npm run bench:pages\` (${new Date().toISOString().slice(0, 10)}, Node ${process.version}). SignalsRepository.findPage straight against the database (no cache), page size ${PAGE_SIZE}, depth d = the page after d − 1 pages, ${ITERATIONS} timed iterations per depth after ${WARMUP_ITERATIONS} of warm-up, depths interleaved.`,
    '',
    '| database | list (rows) | depth | p50 ms | p99 ms | statements/page | p50 ÷ p50 at depth 1 |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const { label, lists } of results) {
    for (const result of lists) {
      const first = result.depths[0]!.p50;
      for (const row of result.depths) {
        lines.push(`| ${label} | ${result.name} (${result.rows}) | ${row.depth} | ${ms(row.p50)} | ${ms(row.p99)} | ${row.statements} | ${(row.p50 / first).toFixed(2)} |`);
      }
    }
  }
  lines.push('');
  for (const { label, lists } of results) {
    lines.push(`${label}, count (totalCount, the second statement, depth-independent): ${lists.map((result) => `${result.name} ${ms(result.countP50)} ms`).join('; ')}.`);
  }
  lines.push('');
  for (const { label, lists } of results) {
    for (const result of lists) lines.push(`${label} plan, ${result.name}, page ${DEPTHS.at(-1)}: ${result.plan}`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

runEntry(main);
