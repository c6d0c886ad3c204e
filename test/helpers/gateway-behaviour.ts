import { DEMO_SIGNAL_COUNT, DEMO_USER_COUNT } from '../../src/demo/demo-data';
import { TEST_ADMIN_TOKEN, type TestGateway, ALICE, BOB, EXPIRED } from './test-gateway';

interface SignalView {
  id: number;
  symbol: string;
  userId: number;
  status: string;
  createdAt: string;
  user: { id: number; username: string } | null;
  currentPrice: { symbol: string; bid: number; ask: number; mid: number } | null;
}

/**
 * What every store must give the same answer to: run against the embedded PGlite and against the
 * local PostgreSQL. `get` returns the gateway started by the calling test file.
 */
export function describeGatewayBehaviour(get: () => TestGateway): void {
  /** Data-source calls (database queries + upstream requests) made while `work` runs. */
  async function dataSourceCalls(work: () => Promise<unknown>): Promise<number> {
    const before = get().dataSourceCalls();
    await work();
    return get().dataSourceCalls() - before;
  }

  describe('demo data', () => {
    it('holds the documented users, instruments and signals', async () => {
      const rows = await get().gateway.db.query<{ users: number; signals: number; symbols: number; timeframes: number }>(
        'test.counts',
        `select (select count(*)::int from users) as users, (select count(*)::int from trading_signals) as signals,
                (select count(distinct symbol)::int from trading_signals) as symbols, (select count(distinct timeframe)::int from trading_signals) as timeframes`,
      );
      expect(rows[0]).toEqual({ users: DEMO_USER_COUNT, signals: expect.any(Number), symbols: 10, timeframes: 6 });
      expect(rows[0]!.signals).toBeGreaterThanOrEqual(DEMO_SIGNAL_COUNT);
    });
  });

  describe("a newcomer's first queries", () => {
    it('returns a user with their newest signals and statistics that agree with each other', async () => {
      const result = await get().graphql<{
        user: { id: number; username: string; signals: { userId: number; createdAt: string }[]; statistics: { userId: number; totalSignals: number; activeSignals: number } };
      }>('{ user(id: 1) { id username signals(limit: 200) { userId createdAt } statistics { userId totalSignals activeSignals } } }');
      expect(result.errors).toBeUndefined();
      const user = result.data!.user;
      expect(user.username).toBe('alice');
      expect(user.signals.length).toBe(Math.min(200, user.statistics.totalSignals));
      expect(user.signals.every((signal) => signal.userId === 1)).toBe(true);
      const times = user.signals.map((signal) => Date.parse(signal.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(user.statistics.activeSignals).toBeLessThanOrEqual(user.statistics.totalSignals);
    });

    it('returns the latest EUR_USD signals with their authors and current prices in at most 3 data-source calls', async () => {
      let result: Awaited<ReturnType<TestGateway['graphql']>> | undefined;
      const calls = await dataSourceCalls(async () => {
        result = await get().graphql(`{ signals(symbol: "EUR_USD", limit: 50) {
          id symbol userId status createdAt user { id username } currentPrice { symbol bid ask mid } } }`);
      });
      expect(result!.errors).toBeUndefined();
      const signals = (result!.data as { signals: SignalView[] }).signals;
      expect(signals).toHaveLength(50);
      expect(new Set(signals.map((s) => s.userId)).size).toBeGreaterThan(1);
      for (const signal of signals) {
        expect(signal.symbol).toBe('EUR_USD');
        expect(signal.user?.id).toBe(signal.userId);
        expect(signal.currentPrice?.symbol).toBe('EUR_USD');
        expect(signal.currentPrice!.bid).toBeLessThan(signal.currentPrice!.ask);
      }
      expect(calls).toBeLessThanOrEqual(3);
    });

    it('groups latestSignals by instrument, newest first, perSymbol each', async () => {
      const result = await get().graphql<{ latestSignals: SignalView[] }>('{ latestSignals(symbols: ["GBP_USD", "USD_JPY"], perSymbol: 3) { id symbol createdAt } }');
      expect(result.data!.latestSignals.map((s) => s.symbol)).toEqual(['GBP_USD', 'GBP_USD', 'GBP_USD', 'USD_JPY', 'USD_JPY', 'USD_JPY']);
    });

    it('returns consistent H1 candles, oldest first, one hour apart', async () => {
      const result = await get().graphql<{ candles: { time: string; open: number; high: number; low: number; close: number; complete: boolean }[] }>(
        '{ candles(symbol: "EUR_USD", timeframe: H1, count: 24) { time open high low close complete } }',
      );
      const candles = result.data!.candles;
      expect(candles).toHaveLength(24);
      candles.forEach((candle, index) => {
        expect(candle.low).toBeLessThanOrEqual(Math.min(candle.open, candle.close));
        expect(candle.high).toBeGreaterThanOrEqual(Math.max(candle.open, candle.close));
        if (index > 0) expect(Date.parse(candle.time) - Date.parse(candles[index - 1]!.time)).toBe(3_600_000);
      });
      expect(candles.slice(0, -1).every((candle) => candle.complete)).toBe(true);
    });

    it('answers signal statistics per instrument', async () => {
      const result = await get().graphql<{ signalStatistics: { symbol: string; totalSignals: number; buySignals: number; sellSignals: number } }>(
        '{ signalStatistics(symbol: "USD_JPY") { symbol totalSignals buySignals sellSignals } }',
      );
      const stats = result.data!.signalStatistics;
      expect(stats.symbol).toBe('USD_JPY');
      expect(stats.totalSignals).toBeGreaterThan(1000);
      expect(stats.buySignals + stats.sellSignals).toBe(stats.totalSignals);
    });

    it('returns null for unknown ids and unlisted instruments, in the requested order', async () => {
      const result = await get().graphql<{ users: ({ id: number } | null)[]; signal: null; prices: ({ symbol: string } | null)[] }>(
        '{ users(ids: [2, 999999, 1]) { id } signal(id: 999999) { id } prices(symbols: ["ABC_XYZ", "EUR_USD"]) { symbol } }',
      );
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ users: [{ id: 2 }, null, { id: 1 }], signal: null, prices: [null, { symbol: 'EUR_USD' }] });
    });

    it('refuses candles of an unlisted instrument with NOT_FOUND', async () => {
      const result = await get().graphql('{ candles(symbol: "ABC_XYZ", timeframe: M5) { time } }');
      expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });
  });

  describe('invalid input', () => {
    it.each([
      ['an instrument in the wrong format', '{ signals(symbol: "eurusd") { id } }', 'symbol must be an instrument like EUR_USD'],
      ['a limit above 200', '{ signals(limit: 201) { id } }', 'limit must be between 1 and 200'],
      ['a limit of 0', '{ signals(limit: 0) { id } }', 'limit must be between 1 and 200'],
      ['a negative id', '{ user(id: -4) { id } }', 'id must be a positive id'],
      ['an empty id list', '{ users(ids: []) { id } }', 'ids must hold at least 1'],
      ['101 ids', `{ users(ids: [${Array.from({ length: 101 }, (_, i) => i + 1).join(',')}]) { id } }`, 'ids must hold at most 100'],
      ['too many candles', '{ candles(symbol: "EUR_USD", timeframe: M1, count: 501) { time } }', 'count must be between 1 and 500'],
      ['a bad instrument in a list', '{ prices(symbols: ["EUR_USD", "EURUSD"]) { bid } }', 'symbols must be an instrument'],
      ['a nested page size out of range', '{ user(id: 1) { signals(limit: 1000) { id } } }', 'limit must be between 1 and 200'],
    ])('refuses %s with BAD_USER_INPUT and runs no data-source call', async (_label, query, message) => {
      let result: Awaited<ReturnType<TestGateway['graphql']>> | undefined;
      const calls = await dataSourceCalls(async () => {
        result = await get().graphql(query);
      });
      const error = result!.errors?.find((e) => e.extensions?.code === 'BAD_USER_INPUT');
      expect(error?.message).toContain(message);
      // The nested case resolves its parent first (one query); nothing else may run.
      expect(calls).toBeLessThanOrEqual(query.includes('user(id: 1)') ? 1 : 0);
    });

    it('refuses a mutation with invalid input before touching the store', async () => {
      const before = get().gateway.db.queryCounts().byLabel['signals.insert'] ?? 0;
      const result = await get().graphql(
        'mutation { createSignal(input: { symbol: "EUR_USD", timeframe: H1, direction: BUY, entryPrice: -1, confidence: 1.5 }) { id } }',
        undefined,
        ALICE,
      );
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/entryPrice must be a positive price.*confidence must be between 0 and 1/);
      expect(get().gateway.db.queryCounts().byLabel['signals.insert'] ?? 0).toBe(before);
    });
  });

  describe('who is asking', () => {
    it('answers me from a session token, and null without one', async () => {
      expect((await get().graphql('{ me { id username email } }', undefined, ALICE)).data).toEqual({
        me: { id: 1, username: 'alice', email: 'alice@example.com' },
      });
      expect((await get().graphql('{ me { id } }')).data).toEqual({ me: null });
    });

    it('shows an email to its owner and to admins only', async () => {
      const query = '{ user(id: 1) { email } }';
      expect((await get().graphql(query, undefined, ALICE)).data).toEqual({ user: { email: 'alice@example.com' } });
      expect((await get().graphql(query, undefined, TEST_ADMIN_TOKEN)).data).toEqual({ user: { email: 'alice@example.com' } });
      expect((await get().graphql(query, undefined, BOB)).data).toEqual({ user: { email: null } });
      expect((await get().graphql(query)).data).toEqual({ user: { email: null } });
    });

    it.each([
      ['an unknown token', 'not-a-session'],
      ['an expired session', EXPIRED],
    ])('refuses %s with 401 UNAUTHENTICATED', async (_label, token) => {
      const result = await get().graphql('{ me { id } }', undefined, token);
      expect(result.status).toBe(401);
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('mutations', () => {
    const create = (input: string, token?: string) =>
      get().graphql<{ createSignal: { id: number; userId: number; status: string } }>(
        `mutation { createSignal(input: { symbol: "EUR_USD", timeframe: M15, direction: BUY, entryPrice: 1.08, stopLoss: 1.07, takeProfit: 1.1, confidence: 0.8${input} }) { id userId status } }`,
        undefined,
        token,
      );

    it('creates a signal authored by the session user, visible at once', async () => {
      const result = await create('', ALICE);
      expect(result.data?.createSignal).toMatchObject({ userId: 1, status: 'ACTIVE' });
      const latest = await get().graphql<{ latestSignals: { id: number }[] }>('{ latestSignals(symbols: ["EUR_USD"], perSymbol: 1) { id } }');
      expect(latest.data!.latestSignals[0]!.id).toBe(result.data!.createSignal.id);
    });

    it('lets an admin create a signal for a named user, and requires that name', async () => {
      expect((await create(', userId: 5', TEST_ADMIN_TOKEN)).data?.createSignal.userId).toBe(5);
      expect((await create('', TEST_ADMIN_TOKEN)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect((await create(', userId: 999999', TEST_ADMIN_TOKEN)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });

    it('refuses anonymous authors, impersonation and incoherent levels', async () => {
      expect((await create('')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await create(', userId: 2', ALICE)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const incoherent = await get().graphql(
        'mutation { createSignal(input: { symbol: "EUR_USD", timeframe: M15, direction: SELL, entryPrice: 1.08, stopLoss: 1.07, confidence: 0.5 }) { id } }',
        undefined,
        ALICE,
      );
      expect(incoherent.errors?.[0]).toMatchObject({ message: expect.stringContaining('SELL'), extensions: { code: 'BAD_USER_INPUT' } });
    });

    it('moves an ACTIVE signal to a final status for its author only', async () => {
      const id = (await create('', ALICE)).data!.createSignal.id;
      const update = (status: string, token?: string) =>
        get().graphql<{ updateSignalStatus: { status: string } }>(`mutation { updateSignalStatus(id: ${id}, status: ${status}) { status } }`, undefined, token);
      expect((await update('EXECUTED', BOB)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await update('EXECUTED', ALICE)).data).toEqual({ updateSignalStatus: { status: 'EXECUTED' } });
      expect((await get().graphql(`{ signal(id: ${id}) { status } }`)).data).toEqual({ signal: { status: 'EXECUTED' } });
      expect((await update('ACTIVE', TEST_ADMIN_TOKEN)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect((await get().graphql('mutation { updateSignalStatus(id: 999999, status: CANCELLED) { id } }', undefined, TEST_ADMIN_TOKEN)).errors?.[0]?.extensions?.code).toBe(
        'NOT_FOUND',
      );
    });

    it('updates a user for that user or an admin, and refuses others', async () => {
      const update = (id: number, input: string, token?: string) =>
        get().graphql<{ updateUser: { displayName: string; email: string | null } }>(`mutation { updateUser(id: ${id}, input: { ${input} }) { displayName email } }`, undefined, token);
      expect((await update(3, 'displayName: "Carol B."', BOB)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await update(3, 'displayName: "Carol B."')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await update(2, 'displayName: "Bobby"', BOB)).data).toEqual({ updateUser: { displayName: 'Bobby', email: 'bob@example.com' } });
      // A session may not change its email (no way to verify the new address), whatever the address: see test/integration/security.input.test.ts.
      expect((await update(2, 'email: "alice@example.com"', BOB)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await update(2, 'email: "alice@example.com"', TEST_ADMIN_TOKEN)).errors?.[0]).toMatchObject({ message: 'This email address is already in use', extensions: { code: 'BAD_USER_INPUT' } });
      expect((await update(2, 'email: "not-an-email"', BOB)).errors?.[0]?.message).toContain('email must be an email address');
      expect((await update(999999, 'displayName: "Ghost"', TEST_ADMIN_TOKEN)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect((await get().graphql('{ user(id: 2) { displayName } }')).data).toEqual({ user: { displayName: 'Bobby' } });
    });
  });

  describe('HTTP', () => {
    it('answers GET /health', async () => {
      const response = await fetch(`${get().url}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'healthy' });
    });

    it('serves GET queries, as HTTP caches and CDNs expect', async () => {
      const response = await fetch(`${get().url}/graphql?query=${encodeURIComponent('{ user(id: 1) { username } }')}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(await response.json()).toEqual({ data: { user: { username: 'alice' } } });
    });
  });
}
