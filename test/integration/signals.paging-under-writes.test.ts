import { performance } from 'node:perf_hooks';

import { eventually } from '../helpers/eventually';
import { createScratchSchema, postgresReachable, type ScratchSchema, TEST_POSTGRES_URL } from '../helpers/postgres';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/*
 * Issue 16, item 3: paging through a list while signals are created and change status never
 * returns a duplicate and never skips an item that existed when paging began. Each scenario runs
 * writers (async loops with short pauses) while one reader pages, stops them when the reader is
 * done, and judges what the reader saw against the database. Times are performance.now() in this
 * process, which runs the writers and the reader: "acknowledged before a page was asked for" is
 * then an order of events, not a guess about clocks.
 */

type Status = 'ACTIVE' | 'EXECUTED' | 'CANCELLED' | 'EXPIRED';
const FINAL_STATUSES: readonly Status[] = ['EXECUTED', 'CANCELLED', 'EXPIRED'];
const PAGE_SIZE = 25;

interface SignalNode {
  readonly id: number;
  readonly status: Status;
}

interface Connection {
  readonly edges: readonly { readonly node: SignalNode }[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly hasPreviousPage: boolean; readonly startCursor: string | null; readonly endCursor: string | null };
}

const PAGE = `query PageUnderWrites($symbol: String, $timeframe: Timeframe, $status: SignalStatus, $first: Int, $after: String, $last: Int, $before: String) {
  signalsConnection(symbol: $symbol, timeframe: $timeframe, status: $status, first: $first, after: $after, last: $last, before: $before) {
    edges { node { id status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

/** A list a reader pages through: one instrument's, optionally in one timeframe or of one status. */
interface ListFilter {
  readonly symbol: string;
  readonly timeframe?: 'H1';
  readonly status?: Status;
}

/** One page as the reader got it: when it was asked for and answered, what it showed, and which cache answered (x-cache). */
interface ServedPage {
  readonly requestedAt: number;
  readonly answeredAt: number;
  readonly nodes: readonly SignalNode[];
  readonly cache: string | null;
}

/** A walk through a whole list: the pages in the order read, and the ids in list order (newest first) whichever way it went. */
interface Reading {
  readonly pages: readonly ServedPage[];
  readonly ids: readonly number[];
}

/** Far more than any list here has (the longest about 500 signals, 20 pages): a walk past it is a loop. */
const MAX_PAGES = 200;

/**
 * Pages through `list` `first: 25` with `after` (forward, from the newest) or `last: 25` with
 * `before` (backward, from the oldest), until pageInfo says nothing follows. `onPage` hears of
 * each page as it arrives; the next one is asked for when it has settled.
 */
async function pageThrough(gw: TestGateway, list: ListFilter, direction: 'forward' | 'backward', onPage: (count: number) => unknown = () => undefined): Promise<Reading> {
  const pages: ServedPage[] = [];
  let cursor: string | null = null;
  for (;;) {
    const variables = direction === 'forward' ? { ...list, first: PAGE_SIZE, after: cursor } : { ...list, last: PAGE_SIZE, before: cursor };
    const requestedAt = performance.now();
    const response = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: PAGE, variables }) });
    const body = (await response.json()) as { data?: { signalsConnection: Connection }; errors?: unknown[] };
    const answeredAt = performance.now();
    expect(body.errors).toBeUndefined();
    const connection = body.data!.signalsConnection;
    pages.push({ requestedAt, answeredAt, nodes: connection.edges.map((edge) => edge.node), cache: response.headers.get('x-cache') });
    await onPage(pages.length);
    const more = direction === 'forward' ? connection.pageInfo.hasNextPage : connection.pageInfo.hasPreviousPage;
    if (!more) break;
    if (pages.length >= MAX_PAGES) throw new Error(`${MAX_PAGES} pages and still more: the walk does not end`);
    cursor = direction === 'forward' ? connection.pageInfo.endCursor : connection.pageInfo.startCursor;
  }
  // Backward, the pages come oldest first, each one newest first within itself.
  const inListOrder = direction === 'forward' ? pages : [...pages].reverse();
  return { pages, ids: inListOrder.flatMap((page) => page.nodes.map((node) => node.id)) };
}

/** A write a writer made, and when its acknowledgement (the mutation's answer) arrived. */
interface Acknowledged {
  readonly id: number;
  readonly status: Status;
  readonly ackedAt: number;
}

/**
 * Writers on one list: `creating` adds ACTIVE signals to it (its instrument, in H1), `moving` moves
 * ACTIVE signals to a final status, each a loop of one write at a time with a pause between. The
 * mover takes the signals given from the last, then those created here. `stop()` ends the loops
 * after their current write and throws the first write that failed.
 */
class Writers {
  readonly created: Acknowledged[] = [];
  readonly moved: Acknowledged[] = [];
  private readonly loops: Promise<void>[] = [];
  private running = true;
  private failure: Error | undefined;

  constructor(
    private readonly gw: TestGateway,
    private readonly list: ListFilter,
    private readonly movable: number[],
  ) {}

  creating(pauseMs: number): this {
    this.loops.push(this.loop(pauseMs, () => this.createOne()));
    return this;
  }

  moving(pauseMs: number): this {
    this.loops.push(this.loop(pauseMs, () => this.moveOne()));
    return this;
  }

  /** Every write of either kind, in order of acknowledgement. */
  writes(): Acknowledged[] {
    return [...this.created, ...this.moved].sort((a, b) => a.ackedAt - b.ackedAt);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    if (this.failure !== undefined) throw this.failure;
  }

  private async loop(pauseMs: number, write: () => Promise<void>): Promise<void> {
    while (this.running) {
      try {
        await write();
      } catch (error) {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  private async createOne(): Promise<void> {
    const result = await this.gw.graphql<{ createSignal: { id: number; status: Status } }>(
      'mutation($input: CreateSignalInput!) { createSignal(input: $input) { id status } }',
      { input: { symbol: this.list.symbol, timeframe: 'H1', direction: 'BUY', entryPrice: 1.1, confidence: 0.7, userId: 1 + Math.floor(Math.random() * 1000) } },
      TEST_ADMIN_TOKEN,
    );
    if (result.errors !== undefined) throw new Error(`createSignal failed: ${JSON.stringify(result.errors)}`);
    const { id, status } = result.data!.createSignal;
    this.created.push({ id, status, ackedAt: performance.now() });
    this.movable.unshift(id);
  }

  private async moveOne(): Promise<void> {
    // Each signal is moved once, by this loop alone: a refusal would be a defect, not a lost race.
    const id = this.movable.pop();
    if (id === undefined) return;
    const status = FINAL_STATUSES[Math.floor(Math.random() * FINAL_STATUSES.length)]!;
    const result = await this.gw.graphql('mutation($id: Int!, $status: SignalStatus!) { updateSignalStatus(id: $id, status: $status) { id } }', { id, status }, TEST_ADMIN_TOKEN);
    if (result.errors !== undefined) throw new Error(`updateSignalStatus(${id}, ${status}) failed: ${JSON.stringify(result.errors)}`);
    this.moved.push({ id, status, ackedAt: performance.now() });
  }
}

/**
 * The shared specification, for any store: `get` returns the gateway the calling block started.
 * Each scenario takes an instrument of its own, so that the writers of one never change another's
 * list. An instrument has about 2,000 demo signals, a quarter of them ACTIVE; an instrument in one
 * timeframe about 330 (14 pages), which keeps a walk with writers to a few seconds on a busy
 * machine where a whole instrument (80 pages) takes ten.
 */
function describePagingUnderWrites(get: () => TestGateway): void {
  /** The ids of a list as the database orders it now: newest first by (created_at, id). */
  const idsInDatabase = async (list: ListFilter): Promise<number[]> => (await rowsInDatabase(list)).map((row) => row.id);

  const rowsInDatabase = (list: ListFilter) =>
    get().gateway.db.query<SignalNode>(
      'test.listRows',
      `select id, status from trading_signals
       where symbol = $1 and ($2::text is null or timeframe = $2) and ($3::text is null or status = $3) order by created_at desc, id desc`,
      [list.symbol, list.timeframe ?? null, list.status ?? null],
    );

  /** Writers on the list, free to move every signal of it that is ACTIVE now, in random order. */
  const writersOn = async (list: ListFilter) => new Writers(get(), list, shuffled(await idsInDatabase({ ...list, status: 'ACTIVE' })));

  /** Resolves when a write of `kind` made from now on is acknowledged (or a writer failed: `stop()` says how). */
  const nextWrite = (writers: Writers, kind: 'created' | 'moved') => {
    const before = writers[kind].length;
    return eventually(() => writers.failed || writers[kind].length > before, 10_000, `a write (${kind})`);
  };

  /**
   * Runs `read` while `writers` write, once they have made a first write (so that they are running
   * when paging begins), and stops them when it ends, even when it fails.
   */
  async function whileWriting<T>(writers: Writers, read: () => Promise<T>): Promise<T> {
    try {
      const started = performance.now();
      await eventually(() => writers.failed || writers.writes().some((write) => write.ackedAt > started), 10_000, 'a first write');
      return await read();
    } finally {
      await writers.stop();
    }
  }

  /**
   * What paging began with: the ids the database held just before the first page, less the
   * creations not yet acknowledged when that page was asked for. Those may be committed before
   * their write has evicted the list's cached pages; like anything created during the walk, they
   * may or may not appear.
   */
  const existedAtStart = (snapshot: readonly number[], reading: Reading, writers: Writers): number[] => {
    const firstAskedAt = reading.pages[0]!.requestedAt;
    const unacknowledged = new Set(writers.created.filter((write) => write.ackedAt > firstAskedAt).map((write) => write.id));
    return snapshot.filter((id) => !unacknowledged.has(id));
  };

  const expectNoDuplicates = (reading: Reading) => {
    const seen = new Set<number>();
    const duplicates = reading.ids.filter((id) => seen.has(id) || !seen.add(id));
    expect(duplicates).toEqual([]);
  };

  const expectAllOf = (reading: Reading, required: readonly number[]) => {
    const seen = new Set(reading.ids);
    expect(required.filter((id) => !seen.has(id))).toEqual([]);
  };

  /** Every node is of the list's instrument (and timeframe), in the database's order: strictly newest first by (created_at, id). */
  const expectDatabaseOrder = async (reading: Reading, list: ListFilter) => {
    const rows = await get().gateway.db.query<{ id: number; symbol: string; timeframe: string }>(
      'test.orderOf',
      'select id, symbol, timeframe from trading_signals where id = any($1::int[]) order by created_at desc, id desc',
      [reading.ids],
    );
    expect(reading.ids).toEqual(rows.map((row) => row.id));
    expect(rows.filter((row) => row.symbol !== list.symbol || (list.timeframe !== undefined && row.timeframe !== list.timeframe))).toEqual([]);
  };

  /**
   * No node shows a status older than one the database had before its page was asked for: a
   * status change acknowledged by then has evicted every cached page showing the signal, in both
   * tiers, so the page must show the new status (a change acknowledged later may or may not show).
   */
  const expectNoStaleStatus = (reading: Reading, writers: Writers) => {
    const stale = reading.pages.flatMap((page, index) =>
      page.nodes.flatMap((node) => {
        const change = writers.moved.find((write) => write.id === node.id && write.ackedAt < page.requestedAt);
        return change === undefined || change.status === node.status ? [] : [{ page: index + 1, cache: page.cache, id: node.id, shown: node.status, acknowledged: change.status }];
      }),
    );
    expect(stale).toEqual([]);
  };

  /** Writes of both kinds were acknowledged after the first page arrived and before the last was asked for. */
  const expectInterleaved = (reading: Reading, writers: Writers) => {
    const during = (write: Acknowledged) => write.ackedAt > reading.pages[0]!.answeredAt && write.ackedAt < reading.pages.at(-1)!.requestedAt;
    expect({ created: writers.created.filter(during).length > 0, moved: writers.moved.filter(during).length > 0 }).toEqual({ created: true, moved: true });
  };

  describe('when a reader pages forward (first/after) through a list while it gains signals and its ACTIVE ones change status', () => {
    it('then no signal appears twice, every one that existed when paging began appears, and the order is newest first as the database orders it', async () => {
      const list = { symbol: 'EUR_USD', timeframe: 'H1' } as const;
      const writers = (await writersOn(list)).creating(10).moving(5);
      let snapshot: number[] = [];
      const reading = await whileWriting(writers, async () => {
        snapshot = await idsInDatabase(list);
        return pageThrough(get(), list, 'forward');
      });

      expectInterleaved(reading, writers);
      expectNoDuplicates(reading);
      expectAllOf(reading, existedAtStart(snapshot, reading, writers));
      await expectDatabaseOrder(reading, list);
      expectNoStaleStatus(reading, writers);
    });
  });

  describe('when a reader pages backward (last/before) from the oldest end of a list while it gains signals at the newest', () => {
    it('then no signal appears twice, every one that existed when paging began appears, and the order is newest first as the database orders it', async () => {
      const list = { symbol: 'GBP_USD', timeframe: 'H1' } as const;
      const writers = (await writersOn(list)).creating(10).moving(5);
      let snapshot: number[] = [];
      const reading = await whileWriting(writers, async () => {
        snapshot = await idsInDatabase(list);
        return pageThrough(get(), list, 'backward');
      });

      expectInterleaved(reading, writers);
      expectNoDuplicates(reading);
      expectAllOf(reading, existedAtStart(snapshot, reading, writers));
      await expectDatabaseOrder(reading, list);
      expectNoStaleStatus(reading, writers);
    });
  });

  describe('when a reader pages through the ACTIVE signals of an instrument while new ones are created and others leave ACTIVE', () => {
    it('then no signal appears twice, every one ACTIVE from start to end appears, and none shows another status', async () => {
      const list = { symbol: 'USD_JPY', status: 'ACTIVE' } as const;
      const writers = (await writersOn(list)).creating(10).moving(5);
      let activeAtStart: number[] = [];
      const reading = await whileWriting(writers, async () => {
        activeAtStart = await idsInDatabase(list);
        return pageThrough(get(), list, 'forward');
      });
      const activeAtEnd = new Set(await idsInDatabase(list));

      expectInterleaved(reading, writers);
      expectNoDuplicates(reading);
      // ACTIVE at both ends means ACTIVE throughout (the other statuses are final), so each of these
      // was in the list whenever a page covering its place was read. A signal that left ACTIVE during
      // the walk may or may not appear, and so may one created during it; but a page asked for after
      // the change was acknowledged must not show it (expectNoStaleStatus, every node being ACTIVE).
      expectAllOf(reading, existedAtStart(activeAtStart, reading, writers).filter((id) => activeAtEnd.has(id)));
      await expectDatabaseOrder(reading, list);
      expect(reading.pages.flatMap((page) => page.nodes).filter((node) => node.status !== 'ACTIVE')).toEqual([]);
      expectNoStaleStatus(reading, writers);
    });
  });

  describe('when a reader pages through a list whose pages are already cached, while its signals change status and it gains signals', () => {
    it('then no signal appears twice, none is skipped, none shows a status older than an acknowledged change, and once the writers stop the pages are the database list', async () => {
      const list = { symbol: 'AUD_USD', timeframe: 'H1' } as const;
      const warm = await pageThrough(get(), list, 'forward');
      expect(warm.pages.filter((page) => page.cache !== 'MISS')).toEqual([]);

      // A status change evicts only the pages that show its signal; a creation evicts every page of
      // the list. So for the first third of the walk only the mover runs, on the ACTIVE signals of
      // pages 2 to `cachedUntil`, farthest first, and the reader asks for each page once another
      // change is acknowledged: its changes land on cached pages the reader has yet to read, and the
      // others come from the caches. Then the creator starts, and the rest is read while both run.
      const cachedUntil = Math.ceil(warm.pages.length / 3);
      const ahead = warm.pages.slice(1, cachedUntil).flatMap((page) => page.nodes.filter((node) => node.status === 'ACTIVE').map((node) => node.id));
      const writers = new Writers(get(), list, ahead).moving(5);
      let snapshot: number[] = [];
      const reading = await whileWriting(writers, async () => {
        snapshot = await idsInDatabase(list);
        return pageThrough(get(), list, 'forward', async (count) => {
          if (count < cachedUntil) return nextWrite(writers, 'moved');
          if (count === cachedUntil) return nextWrite(writers.creating(10), 'created');
        });
      });

      expectInterleaved(reading, writers);
      expect(reading.pages.filter((page) => page.cache?.startsWith('HIT')).length).toBeGreaterThan(0);
      expectNoDuplicates(reading);
      expectAllOf(reading, existedAtStart(snapshot, reading, writers));
      await expectDatabaseOrder(reading, list);
      expectNoStaleStatus(reading, writers);

      const settled = await pageThrough(get(), list, 'forward');
      expect(settled.pages.flatMap((page) => page.nodes)).toEqual(await rowsInDatabase(list));
    });
  });
}

/** A copy of `items` in random order (Fisher–Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe('paging signals while they are written, on the embedded PGlite', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway();
  }, 60_000);

  afterAll(() => gateway.close());

  describePagingUnderWrites(() => gateway);
});

const reachable = postgresReachable();
if (!reachable) {
  // Visible on purpose: a skipped store is a gap in what this run proves.
  console.warn(`NOTICE: PostgreSQL at ${TEST_POSTGRES_URL} is unreachable; paging under writes on PostgreSQL is skipped.`);
}

(reachable ? describe : describe.skip)('paging signals while they are written, on PostgreSQL', () => {
  let schema: ScratchSchema;
  let gateway: TestGateway;

  beforeAll(async () => {
    schema = await createScratchSchema();
    gateway = await startTestGateway({ DATABASE_URL: schema.url });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await schema?.drop();
  });

  describePagingUnderWrites(() => gateway);
});
