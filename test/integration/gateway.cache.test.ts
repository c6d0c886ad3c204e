import { Redis } from 'ioredis';

import { RedisServer } from '../helpers/redis-server';
import { TEST_ADMIN_TOKEN, startTestGateway, type TestGateway, ALICE, BOB } from '../helpers/test-gateway';

interface Counters {
  hitRate: number;
  hits: number;
  misses: number;
}

describe('the gateway with its cache on Redis', () => {
  let gw: TestGateway;
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    prefix = gw.gateway.cache.keys.prefix;
    redis = new Redis('redis://127.0.0.1:6379');
  }, 60_000);

  afterAll(async () => {
    await gw.gateway.cache.invalidator.invalidateAllCache();
    redis.disconnect();
    await gw.close();
  });

  const dataSourceCalls = async (work: () => Promise<unknown>) => {
    const before = gw.dataSourceCalls();
    await work();
    return gw.dataSourceCalls() - before;
  };
  const usersQueries = () => gw.gateway.db.queryCounts().byLabel['users.findByIds'] ?? 0;
  const cacheCounters = async () => (await gw.graphql<{ cacheMetrics: Counters }>('{ cacheMetrics { hitRate hits misses } }')).data!.cacheMetrics;

  describe('reads through the cache', () => {
    const fiftySignals = `{ signals(symbol: "GBP_JPY", limit: 50) { id user { id username } currentPrice { bid ask } } }`;

    it('answers 50 signals with their users and prices in at most 3 data-source calls cold, and 0 warm', async () => {
      let cold: unknown;
      let warm: unknown;
      expect(await dataSourceCalls(async () => (cold = (await gw.graphql(fiftySignals)).data))).toBeLessThanOrEqual(3);
      expect(await dataSourceCalls(async () => (warm = (await gw.graphql(fiftySignals)).data))).toBe(0);
      expect(warm).toEqual(cold);
    });

    it('loads only the misses of a batch, in one query', async () => {
      await gw.graphql('{ a: user(id: 21) { id } b: user(id: 22) { id } }');
      const before = usersQueries();
      const loadsBefore = gw.gateway.cache.service.metricsReport().loads;
      const result = await gw.graphql<{ users: { id: number }[] }>('{ users(ids: [21, 22, 23, 24]) { id username } }');
      expect(result.data!.users.map((u) => u.id)).toEqual([21, 22, 23, 24]);
      expect(usersQueries() - before).toBe(1);
      expect(gw.gateway.cache.service.metricsReport().loads - loadsBefore).toBe(1);
      expect(await redis.exists(`${prefix}:users:23`, `${prefix}:users:24`)).toBe(2);
    });

    it('keeps private fields out of the shared cache: each viewer still gets their own answer', async () => {
      await gw.graphql('{ user(id: 1) { email } }', undefined, ALICE);
      expect((await gw.graphql('{ user(id: 1) { email } }', undefined, BOB)).data).toEqual({ user: { email: null } });
      expect((await gw.graphql('{ user(id: 1) { email } }', undefined, ALICE)).data).toEqual({ user: { email: 'alice@example.com' } });
    });
  });

  describe('writes are never followed by a stale read', () => {
    it('updateUser: the profile read right after shows the change', async () => {
      await gw.graphql('{ user(id: 4) { displayName } }');
      await gw.graphql('mutation { updateUser(id: 4, input: { displayName: "Renamed Four" }) { id } }', undefined, TEST_ADMIN_TOKEN);
      expect((await gw.graphql('{ user(id: 4) { displayName } }')).data).toEqual({ user: { displayName: 'Renamed Four' } });
    });

    it("createSignal: the instrument's lists and statistics and the author's statistics and signals include it", async () => {
      const views = `{
        latestSignals(symbols: ["AUD_USD"], perSymbol: 1) { id }
        signals(symbol: "AUD_USD", limit: 3) { id }
        all: signals(limit: 3) { id }
        signalStatistics(symbol: "AUD_USD") { totalSignals activeSignals }
        user(id: 1) { statistics { totalSignals } signals(limit: 1) { id } }
      }`;
      type Views = {
        latestSignals: { id: number }[];
        signals: { id: number }[];
        all: { id: number }[];
        signalStatistics: { totalSignals: number; activeSignals: number };
        user: { statistics: { totalSignals: number }; signals: { id: number }[] };
      };
      const before = (await gw.graphql<Views>(views)).data!;
      const created = await gw.graphql<{ createSignal: { id: number } }>(
        'mutation { createSignal(input: { symbol: "AUD_USD", timeframe: H4, direction: SELL, entryPrice: 0.66, stopLoss: 0.67, confidence: 0.7 }) { id } }',
        undefined,
        ALICE,
      );
      const id = created.data!.createSignal.id;
      const after = (await gw.graphql<Views>(views)).data!;
      expect(after.latestSignals[0]!.id).toBe(id);
      expect(after.signals[0]!.id).toBe(id);
      expect(after.all[0]!.id).toBe(id);
      expect(after.signalStatistics.totalSignals).toBe(before.signalStatistics.totalSignals + 1);
      expect(after.signalStatistics.activeSignals).toBe(before.signalStatistics.activeSignals + 1);
      expect(after.user.statistics.totalSignals).toBe(before.user.statistics.totalSignals + 1);
      expect(after.user.signals[0]!.id).toBe(id);
    });

    it('updateSignalStatus: the signal, its lists and statistics show the new status', async () => {
      const created = await gw.graphql<{ createSignal: { id: number } }>(
        'mutation { createSignal(input: { symbol: "NZD_USD", timeframe: M5, direction: BUY, entryPrice: 0.6, confidence: 0.9 }) { id } }',
        undefined,
        BOB,
      );
      const id = created.data!.createSignal.id;
      const views = `{ signal(id: ${id}) { status } signals(symbol: "NZD_USD", status: ACTIVE, limit: 1) { id } signalStatistics(symbol: "NZD_USD") { executedSignals } }`;
      type Views = { signal: { status: string }; signals: { id: number }[]; signalStatistics: { executedSignals: number } };
      const before = (await gw.graphql<Views>(views)).data!;
      expect(before.signal.status).toBe('ACTIVE');
      expect(before.signals[0]!.id).toBe(id);
      await gw.graphql(`mutation { updateSignalStatus(id: ${id}, status: EXECUTED) { id } }`, undefined, BOB);
      const after = (await gw.graphql<Views>(views)).data!;
      expect(after.signal.status).toBe('EXECUTED');
      expect(after.signals[0]?.id).not.toBe(id);
      expect(after.signalStatistics.executedSignals).toBe(before.signalStatistics.executedSignals + 1);
    });
  });

  describe('operator GraphQL API', () => {
    it('reports metrics in the seed shape, per tier, and they move with traffic', async () => {
      const before = await cacheCounters();
      // cacheHealth has no cache hint, so the response is executed (not served whole) and reads the data cache.
      await gw.graphql('{ user(id: 30) { id } cacheHealth { status } }');
      await gw.graphql('{ user(id: 30) { id } cacheHealth { status } }');
      const after = await gw.graphql<{ cacheMetrics: Counters & { tiers: { tier: string; metrics: Counters }[]; connectionHealthy: boolean } }>(
        '{ cacheMetrics { hitRate hits misses errors totalOperations averageResponseTimeMs p99ResponseTimeMs connectionHealthy fallbackEnabled tiers { tier metrics { hits misses } } } }',
      );
      const metrics = after.data!.cacheMetrics;
      expect(metrics.hits).toBeGreaterThan(before.hits);
      expect(metrics.misses).toBeGreaterThan(before.misses);
      expect(metrics.connectionHealthy).toBe(true);
      expect(metrics.tiers.map((t) => t.tier)).toEqual(['redis', 'memory']);
      expect(metrics.tiers[0]!.metrics.hits).toBeGreaterThan(0);
    });

    it('reports health', async () => {
      expect((await gw.graphql('{ cacheHealth { status connectionHealthy fallbackEnabled pendingInvalidations } }')).data).toEqual({
        cacheHealth: { status: 'HEALTHY', connectionHealthy: true, fallbackEnabled: false, pendingInvalidations: 0 },
      });
    });

    it('refuses invalidation without the admin token and changes nothing', async () => {
      await gw.graphql('{ user(id: 40) { id } }');
      const mutation = 'mutation { invalidateCache(input: { scope: ALL }) { removed } }';
      expect((await gw.graphql(mutation)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await gw.graphql(mutation, undefined, ALICE)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await redis.exists(`${prefix}:users:40`)).toBe(1);
    });

    it('invalidates a user: the next read goes to the database', async () => {
      await gw.graphql('{ user(id: 41) { id } }');
      const cachedRead = usersQueries();
      await gw.graphql('{ user(id: 41) { id } }');
      expect(usersQueries()).toBe(cachedRead);
      const result = await gw.graphql('mutation { invalidateCache(input: { scope: USER, id: 41 }) { scope removed } }', undefined, TEST_ADMIN_TOKEN);
      // The profile entry, and the cached response that showed it.
      expect(result.data).toEqual({ invalidateCache: { scope: 'USER', removed: 2 } });
      await gw.graphql('{ user(id: 41) { id } }');
      expect(usersQueries()).toBe(cachedRead + 1);
    });

    it.each([
      ['a pattern with a character class', '{ scope: PATTERN, pattern: "users:[0-9]*" }'],
      ['a pattern with an escape', '{ scope: PATTERN, pattern: "users:\\\\*" }'],
      ['a symbol that is a wildcard', '{ scope: SIGNALS, symbol: "*" }'],
      ['USER without an id', '{ scope: USER }'],
    ])('refuses %s with BAD_USER_INPUT', async (_label, input) => {
      const result = await gw.graphql(`mutation { invalidateCache(input: ${input}) { removed } }`, undefined, TEST_ADMIN_TOKEN);
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('warms on demand, then a user-profile workload reads at 95% or more from the cache', async () => {
      await gw.gateway.cache.invalidator.invalidateAllCache();
      const run = await gw.graphql<{ triggerCacheWarming: { ran: boolean; results: { name: string; success: boolean; itemsProcessed: number }[] } }>(
        'mutation { triggerCacheWarming { ran results { name success itemsProcessed } } }',
        undefined,
        TEST_ADMIN_TOKEN,
      );
      expect(run.data!.triggerCacheWarming.ran).toBe(true);
      expect(run.data!.triggerCacheWarming.results).toEqual([
        { name: 'USER_DATA', success: true, itemsProcessed: 500 },
        { name: 'SIGNALS_DATA', success: true, itemsProcessed: 10 },
        { name: 'MARKET_DATA', success: true, itemsProcessed: 10 },
        { name: 'STATISTICS', success: true, itemsProcessed: 10 },
      ]);
      const active = await gw.gateway.db.query<{ id: number }>('test.active', 'select id from users where is_active order by updated_at desc, id limit 200');
      const before = await cacheCounters();
      for (let i = 0; i < active.length; i += 10) {
        const batch = active.slice(i, i + 10);
        await gw.graphql(`{ ${batch.map((u) => `u${u.id}: user(id: ${u.id}) { id username statistics { totalSignals } }`).join(' ')} }`);
      }
      const after = await cacheCounters();
      const hits = after.hits - before.hits;
      const misses = after.misses - before.misses;
      expect(hits / (hits + misses)).toBeGreaterThanOrEqual(0.95);

      const metrics = await gw.graphql<{ warmingMetrics: { runs: number; strategies: { name: string; runs: number; lastRunAt: string | null }[] } }>(
        '{ warmingMetrics { runs strategies { name runs lastRunAt } } }',
      );
      expect(metrics.data!.warmingMetrics.runs).toBeGreaterThanOrEqual(1);
      expect(metrics.data!.warmingMetrics.strategies.every((s) => s.runs >= 1 && s.lastRunAt !== null)).toBe(true);
    });

    it('refuses warming without the admin token', async () => {
      expect((await gw.graphql('mutation { triggerCacheWarming { ran } }', undefined, BOB)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });

  describe('REST operations endpoints', () => {
    const rest = async (method: 'GET' | 'POST', path: string, body?: unknown, token?: string) => {
      const response = await fetch(`${gw.url}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (response.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as Record<string, unknown>) : text };
    };

    it('GET /cache/health and /cache/metrics answer in the seed shape', async () => {
      const health = await rest('GET', '/cache/health');
      expect(health).toMatchObject({ status: 200, body: { status: 'healthy', connection_healthy: true, fallback_enabled: false, metrics: { hit_rate: expect.any(Number), error_rate: expect.any(Number), total_operations: expect.any(Number), average_response_time_ms: expect.any(Number) } } });
      const metrics = await rest('GET', '/cache/metrics');
      expect(Object.keys(metrics.body as object)).toEqual(expect.arrayContaining(['hit_rate', 'error_rate', 'total_operations', 'hits', 'misses', 'errors', 'average_response_time_ms', 'tiers']));
    });

    it('GET /cache/warming/metrics lists every strategy', async () => {
      const { body } = await rest('GET', '/cache/warming/metrics');
      expect((body as { strategies: { name: string }[] }).strategies.map((s) => s.name)).toEqual(['user_data', 'signals_data', 'market_data', 'statistics']);
    });

    it('POST /cache/invalidate needs the admin token, validates the body, and invalidates', async () => {
      await gw.graphql('{ user(id: 50) { id } }');
      expect((await rest('POST', '/cache/invalidate', { scope: 'user', id: 50 })).status).toBe(401);
      expect((await rest('POST', '/cache/invalidate', { scope: 'user', id: 50 }, ALICE)).status).toBe(403);
      expect(await redis.exists(`${prefix}:users:50`)).toBe(1);
      expect(await rest('POST', '/cache/invalidate', { scope: 'everything' }, TEST_ADMIN_TOKEN)).toMatchObject({ status: 400, body: { error: { code: 'BAD_USER_INPUT' } } });
      expect(await rest('POST', '/cache/invalidate', { scope: 'market', symbol: 'EUR*' }, TEST_ADMIN_TOKEN)).toMatchObject({ status: 400 });
      // A field the scope does not read is refused, not ignored: the request would otherwise do more than it says.
      for (const [body, message] of [
        [{ scope: 'all', symbol: '../x' }, 'scope all does not take symbol'],
        [{ scope: 'market', id: 3 }, 'scope market does not take id'],
        [{ scope: 'user', id: 50, pattern: '*' }, 'scope user does not take pattern'],
        [{ scope: 'pattern', pattern: 'users:50', id: 50 }, 'scope pattern does not take id'],
      ] as const) {
        expect(await rest('POST', '/cache/invalidate', body, TEST_ADMIN_TOKEN)).toEqual({ status: 400, body: { error: { code: 'BAD_USER_INPUT', message } } });
      }
      expect(await redis.exists(`${prefix}:users:50`)).toBe(1);
      expect(await rest('POST', '/cache/invalidate', { scope: 'user', id: 50 }, TEST_ADMIN_TOKEN)).toEqual({ status: 200, body: { scope: 'user', removed: 2 } });
      expect(await redis.exists(`${prefix}:users:50`)).toBe(0);
    });

    it('POST /cache/warming/trigger runs the named strategies for an admin', async () => {
      expect((await rest('POST', '/cache/warming/trigger', {})).status).toBe(401);
      const runs = (await rest('GET', '/cache/warming/metrics')).body;
      for (const body of [null, [], 'market_data', { strategies: ['nope'] }]) {
        expect(await rest('POST', '/cache/warming/trigger', body, TEST_ADMIN_TOKEN)).toMatchObject({ status: 400, body: { error: { code: 'BAD_USER_INPUT' } } });
      }
      expect((await rest('GET', '/cache/warming/metrics')).body).toEqual(runs);
      const run = await rest('POST', '/cache/warming/trigger', { strategies: ['market_data'] }, TEST_ADMIN_TOKEN);
      expect(run).toMatchObject({ status: 200, body: { status: 'completed', results: [{ name: 'market_data', success: true, items_processed: 10 }] } });
    });

    it('GET /health/ready is healthy with the database and Redis up', async () => {
      expect(await rest('GET', '/health/ready')).toEqual({ status: 200, body: { status: 'healthy', database: 'up', cache: { status: 'healthy', connection_healthy: true, fallback_enabled: false } } });
    });

    it('GET /metrics exposes cache, database, upstream and HTTP series in Prometheus text format', async () => {
      await gw.graphql('{ price(symbol: "EUR_USD") { bid } }');
      const { status, body } = await rest('GET', '/metrics');
      expect(status).toBe(200);
      expect(body).toMatch(/^gateway_cache_hits_total\{tier="redis"\} \d+/m);
      expect(body).toMatch(/^gateway_cache_fallback_active 0/m);
      expect(body).toMatch(/^gateway_db_queries_total\{query="users.findByIds"\} \d+/m);
      expect(body).toMatch(/^gateway_upstream_requests_total\{provider="simulated",outcome="request"\} \d+/m);
      expect(body).toMatch(/^gateway_http_requests_total\{method="POST",route="\/graphql",status="200"\} \d+/m);
    });
  });
});

describe('the gateway when Redis is down', () => {
  let server: RedisServer;
  let gw: TestGateway;

  beforeAll(async () => {
    server = await RedisServer.start();
    gw = await startTestGateway({ REDIS_URL: server.url, REDIS_TIMEOUT: '0.2', REDIS_HEALTH_CHECK_INTERVAL_MS: '100' });
    await server.kill();
  }, 60_000);

  afterAll(async () => {
    await gw.close();
    await server.stop();
  });

  it('answers every query from the database and the memory tier, and reports degraded readiness', async () => {
    const query = '{ user(id: 1) { username statistics { totalSignals } } latestSignals(symbols: ["EUR_USD"], perSymbol: 2) { id currentPrice { bid } } }';
    const first = await gw.graphql(query);
    expect(first.errors).toBeUndefined();
    const calls = gw.gateway.db.queryCounts().total;
    expect((await gw.graphql(query)).data).toEqual(first.data);
    expect(gw.gateway.db.queryCounts().total).toBe(calls);
    const ready = await fetch(`${gw.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded', database: 'up', cache: { fallback_enabled: true } });
    expect((await gw.graphql('{ cacheHealth { status fallbackEnabled } }')).data).toEqual({ cacheHealth: { status: 'DEGRADED', fallbackEnabled: true } });
  });

  it('still accepts an admin invalidation, and keeps it for when Redis is back', async () => {
    const result = await gw.graphql<{ invalidateCache: { removed: number } }>('mutation { invalidateCache(input: { scope: USER, id: 1 }) { removed } }', undefined, TEST_ADMIN_TOKEN);
    expect(result.errors).toBeUndefined();
    expect((await gw.graphql<{ cacheHealth: { pendingInvalidations: number } }>('{ cacheHealth { pendingInvalidations } }')).data!.cacheHealth.pendingInvalidations).toBeGreaterThan(0);
  });
});
