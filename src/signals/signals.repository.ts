import type { Database } from '../db/database';
import type { PageRequest } from '../graphql/connection/page-args';
import type { SignalList } from './signal-list';
import { EMPTY_AGGREGATE, type NewSignal, type SignalAggregate, type SignalFilter, type SignalRecord, type SignalStatus } from './signal.model';

const COLUMNS = `id, user_id as "userId", symbol, timeframe, direction, status, entry_price as "entryPrice",
  stop_loss as "stopLoss", take_profit as "takeProfit", confidence, created_at as "createdAt", updated_at as "updatedAt"`;

const AGGREGATES = `count(*)::int as "totalSignals",
  (count(*) filter (where status = 'ACTIVE'))::int as "activeSignals",
  (count(*) filter (where status = 'EXECUTED'))::int as "executedSignals",
  (count(*) filter (where direction = 'BUY'))::int as "buySignals",
  (count(*) filter (where direction = 'SELL'))::int as "sellSignals",
  avg(confidence)::float8 as "averageConfidence",
  max(created_at) as "lastSignalAt"`;

/** Newest first everywhere; `id` breaks ties so that pages are stable. */
const NEWEST_FIRST = 'order by created_at desc, id desc';

/**
 * created_at in whole microseconds since the epoch, exactly: whole seconds and the microseconds
 * within the second apart, since before PostgreSQL 14 `extract` returns a double, which cannot
 * hold today's epoch in microseconds to the unit.
 */
const MICROS = `(extract(epoch from date_trunc('second', created_at))::bigint * 1000000 + extract(microseconds from created_at)::bigint % 1000000)::text`;

/** The list filters and the columns they test; each given one is a parameter, never spliced. */
const LIST_COLUMNS: readonly (readonly [keyof SignalList, string])[] = [
  ['symbol', 'symbol'],
  ['timeframe', 'timeframe'],
  ['status', 'status'],
  ['direction', 'direction'],
  ['authorId', 'user_id'],
];

/** The conditions that select a list's members; `param` adds a value and returns its placeholder. */
function listFilters(list: SignalList, param: (value: unknown) => string): string[] {
  return LIST_COLUMNS.flatMap(([field, column]) => (list[field] === undefined ? [] : [`${column} = ${param(list[field])}`]));
}

/** A row of a page query: the signal, its exact position (created_at in microseconds, as text) and which part of the query found it. */
type PageRow = SignalRecord & { readonly micros: string; readonly beyond: boolean };

/**
 * What one page query found: up to `size` signals newest first, each with its exact position
 * (created_at in microseconds, as text: a Date would round it to milliseconds); whether more
 * follow in paging order, and whether any lie behind the bound.
 */
export interface PageRows {
  readonly rows: readonly { readonly signal: SignalRecord; readonly micros: string }[];
  readonly more: boolean;
  readonly beyond: boolean;
}

export class SignalsRepository {
  constructor(private readonly db: Database) {}

  async findByIds(ids: readonly number[]): Promise<(SignalRecord | null)[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<SignalRecord>('signals.findByIds', `select ${COLUMNS} from trading_signals where id = any($1::int[])`, [ids]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async find(filter: SignalFilter): Promise<SignalRecord[]> {
    return this.db.query<SignalRecord>(
      'signals.find',
      `select ${COLUMNS} from trading_signals
       where ($1::text is null or symbol = $1) and ($2::text is null or timeframe = $2) and ($3::text is null or status = $3)
       ${NEWEST_FIRST} limit $4`,
      [filter.symbol ?? null, filter.timeframe ?? null, filter.status ?? null, filter.limit],
    );
  }

  /**
   * One page of a list by keyset, in one statement whatever its depth: the `size + 1` rows past the
   * bound in paging order (the extra one says whether more follow), and, when there is a bound, the
   * one row on its other side (whether any precede it). Both walk an index on (…, created_at, id)
   * from the bound, so page 100 costs what page 1 does. Rows come back newest first.
   */
  async findPage(list: SignalList, page: PageRequest): Promise<PageRows> {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const filters = listFilters(list, param);
    const forward = page.direction === 'forward';
    const order = (descending: boolean) => (descending ? 'order by created_at desc, id desc' : 'order by created_at asc, id asc');
    const select = (beyond: boolean) => `select ${COLUMNS}, ${MICROS} as micros, ${beyond} as beyond from trading_signals`;
    const where = (extra: string[]) => (filters.length + extra.length === 0 ? '' : `where ${[...filters, ...extra].join(' and ')}`);
    let sql: string;
    if (page.from === undefined) {
      sql = `${select(false)} ${where([])} ${order(forward)} limit ${param(page.size + 1)}`;
    } else {
      const bound = `(timestamptz 'epoch' + ${param(page.from.micros.toString())}::bigint * interval '1 microsecond', ${param(page.from.id)}::int)`;
      // Past the bound in paging order, and (inclusive: the bound's own item precedes the page) behind it.
      const past = `(created_at, id) ${forward ? '<' : '>'} ${bound}`;
      const behind = `(created_at, id) ${forward ? '>=' : '<='} ${bound}`;
      sql = `(${select(false)} ${where([past])} ${order(forward)} limit ${param(page.size + 1)})
        union all
        (${select(true)} ${where([behind])} ${order(!forward)} limit 1)`;
    }
    const found = await this.db.query<PageRow>('signals.findPage', sql, params);
    const inPage = found.filter((row) => !row.beyond);
    const rows = inPage.slice(0, page.size).map(({ micros, beyond, ...signal }) => ({ signal, micros }));
    return { rows: forward ? rows : rows.reverse(), more: inPage.length > page.size, beyond: found.some((row) => row.beyond) };
  }

  /** How many signals a list holds. */
  async count(list: SignalList): Promise<number> {
    const params: unknown[] = [];
    const filters = listFilters(list, (value) => `$${params.push(value)}`);
    const rows = await this.db.query<{ count: number }>(
      'signals.count',
      `select count(*)::int as count from trading_signals ${filters.length === 0 ? '' : `where ${filters.join(' and ')}`}`,
      params,
    );
    return rows[0]?.count ?? 0;
  }

  /** The newest `perSymbol` signals of each symbol, in one query; grouped in the order of `symbols`. */
  async findLatestBySymbols(symbols: readonly string[], perSymbol: number): Promise<SignalRecord[][]> {
    if (symbols.length === 0) return [];
    const rows = await this.db.query<SignalRecord>(
      'signals.findLatestBySymbols',
      `select ${COLUMNS} from (
         select s.*, row_number() over (partition by symbol ${NEWEST_FIRST}) as rank
         from trading_signals s where symbol = any($1::text[])
       ) ranked where rank <= $2 ${NEWEST_FIRST}`,
      [symbols, perSymbol],
    );
    return symbols.map((symbol) => rows.filter((row) => row.symbol === symbol));
  }

  /** The newest `perUser` signals of each user, in one query; grouped in the order of `userIds`. */
  async findLatestByUserIds(userIds: readonly number[], perUser: number): Promise<SignalRecord[][]> {
    if (userIds.length === 0) return [];
    const rows = await this.db.query<SignalRecord>(
      'signals.findLatestByUserIds',
      `select ${COLUMNS} from (
         select s.*, row_number() over (partition by user_id ${NEWEST_FIRST}) as rank
         from trading_signals s where user_id = any($1::int[])
       ) ranked where rank <= $2 ${NEWEST_FIRST}`,
      [userIds, perUser],
    );
    const byUser = new Map<number, SignalRecord[]>();
    for (const row of rows) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), row]);
    return userIds.map((id) => byUser.get(id) ?? []);
  }

  async statisticsBySymbol(symbol: string): Promise<SignalAggregate> {
    const rows = await this.db.query<SignalAggregate>('signals.statisticsBySymbol', `select ${AGGREGATES} from trading_signals where symbol = $1`, [symbol]);
    return rows[0] ?? EMPTY_AGGREGATE;
  }

  /** Per-user aggregates in one query, in the order of `userIds` (zeros for users without signals). */
  async statisticsByUserIds(userIds: readonly number[]): Promise<SignalAggregate[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db.query<SignalAggregate & { userId: number }>(
      'signals.statisticsByUserIds',
      `select user_id as "userId", ${AGGREGATES} from trading_signals where user_id = any($1::int[]) group by user_id`,
      [userIds],
    );
    const byUser = new Map(rows.map((row) => [row.userId, row]));
    return userIds.map((id) => byUser.get(id) ?? EMPTY_AGGREGATE);
  }

  async insert(signal: NewSignal): Promise<SignalRecord> {
    const rows = await this.db.query<SignalRecord>(
      'signals.insert',
      `insert into trading_signals (user_id, symbol, timeframe, direction, status, entry_price, stop_loss, take_profit, confidence)
       values ($1, $2, $3, $4, 'ACTIVE', $5, $6, $7, $8) returning ${COLUMNS}`,
      [signal.userId, signal.symbol, signal.timeframe, signal.direction, signal.entryPrice, signal.stopLoss, signal.takeProfit, signal.confidence],
    );
    return rows[0]!;
  }

  /**
   * Compare-and-set: moves the signal to `status` only if it still has the status `from` that the
   * caller checked the change against, so two concurrent changes of one ACTIVE signal cannot both
   * apply. `null` when the signal does not exist or no longer has `from`.
   */
  async updateStatus(id: number, from: SignalStatus, status: SignalStatus): Promise<SignalRecord | null> {
    const rows = await this.db.query<SignalRecord>(
      'signals.updateStatus',
      `update trading_signals set status = $3, updated_at = now() where id = $1 and status = $2 returning ${COLUMNS}`,
      [id, from, status],
    );
    return rows[0] ?? null;
  }
}
