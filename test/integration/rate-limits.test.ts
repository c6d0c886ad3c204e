import { createHash, randomBytes } from 'node:crypto';

import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

import { type Cache, createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { QueryCosts } from '../../src/graphql/query-costs';
import { createLogger } from '../../src/logger';
import { DEMO_INSTRUMENTS } from '../../src/market/instruments';
import { RedisBudgets } from '../../src/rate-limit/redis-budgets';
import { RedisCluster } from '../helpers/redis-cluster';
import { RedisServer } from '../helpers/redis-server';
import { ALICE, BOB, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/*
 * Rate limits per viewer, spent in query cost (README: Rate limits). Two gateways share a Redis of
 * the test's own (it is frozen at the end) and one key prefix, so they share budgets; the second
 * believes X-Forwarded-For from 127.0.0.1. Both run on one clock the test moves: a budget refills
 * when the test says so, never while it counts.
 *
 * Budgets: 600 of cost a minute (10 a second), 60 at most, for users and for each anonymous
 * address; the admin is exempt; a cached answer costs 10 % of its query (at least 1).
 */
const CAROL = 'demo-carol-session-token';

describe('rate limits per viewer, in query cost', () => {
  let redis: RedisServer;
  let a: TestGateway;
  let b: TestGateway;
  const clock = { ms: Date.now() };
  /** Requests that reached Fastify on gateway a (the rest were answered by its hit front). */
  let routedOnA = 0;
  const costs = new QueryCosts({ maxDepth: 8, maxAliases: 15, maxCost: 5000 }, 1000);

  beforeAll(async () => {
    redis = await RedisServer.start();
    const env = {
      REDIS_URL: redis.url,
      CACHE_KEY_PREFIX: `test_rl_${randomBytes(4).toString('hex')}`,
      REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_COST_PER_MINUTE: '600',
      RATE_LIMIT_BURST_COST: '60',
      RATE_LIMIT_ANONYMOUS_COST_PER_MINUTE: '600',
      RATE_LIMIT_ANONYMOUS_BURST_COST: '60',
      // Generous: a busy CI machine must not hand decisions to the local limiter before the freeze.
      RATE_LIMIT_REDIS_TIMEOUT_MS: '1500',
    };
    const now = () => clock.ms;
    // One after the other: the second copies the run's seeded database the first may have had to make (embedded-template.ts).
    a = await startTestGateway(env, {
      now,
      beforeListen: (gateway) =>
        gateway.http.addHook('onRequest', (_request, _reply, done) => {
          routedOnA += 1;
          done();
        }),
    });
    b = await startTestGateway({ ...env, TRUSTED_PROXIES: '127.0.0.1' }, { now });
  }, 60_000);

  afterAll(async () => {
    redis?.thaw();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  /** Every budget full again, every lease lapsed. */
  beforeEach(() => {
    clock.ms += 10 * 60_000;
  });

  interface Answer {
    readonly status: number;
    readonly headers: Headers;
    readonly body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  }
  const post = async (gateway: TestGateway, query: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const response = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  /** Costs 2 (the field and its id): 30 fit a burst of 60. */
  const rename = (userId: number, name: string) => `mutation { updateUser(id: ${userId}, input: { displayName: "${name}" }) { id } }`;
  const displayNameOf = async (userId: number) => ((await post(a, `{ user(id: ${userId}) { displayName } }`, bearer(TEST_ADMIN_TOKEN))).body.data as { user: { displayName: string } }).user.displayName;
  const expectRateLimited = (answer: Answer, policy: string) => {
    expect(answer.status).toBe(429);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(answer.body.data).toBeUndefined();
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(answer.headers.get('ratelimit-policy')).toBe(`"${policy}";q=60;w=6`);
    expect(answer.headers.get('ratelimit')).toMatch(new RegExp(`^"${policy}";r=\\d+;t=\\d+$`));
    expect(answer.headers.get('cache-control')).toBe('private, no-store');
  };

  it('refuses a burst once the budget is spent: 429, Retry-After, RateLimit headers, RATE_LIMITED, and the refused mutation writes nothing', async () => {
    expect(costs.of(rename(1, 'x'), undefined)).toBe(2);
    const statuses: number[] = [];
    let refused: Answer | undefined;
    for (let i = 0; i < 31; i += 1) {
      const answer = await post(a, rename(1, `burst-${i}`), bearer(ALICE));
      statuses.push(answer.status);
      if (answer.status === 429) refused = answer;
    }
    expect(statuses).toEqual([...Array<number>(30).fill(200), 429]);
    expectRateLimited(refused!, 'user');
    expect(refused!.headers.get('ratelimit')).toMatch(/^"user";r=0;t=6$/);
    expect(await displayNameOf(1)).toBe('burst-29');
  });

  it('stores nothing for a refused request: an APQ registration over budget leaves no document', async () => {
    for (let i = 0; i < 30; i += 1) expect((await post(a, rename(2, `apq-${i}`), bearer(ALICE))).status).toBe(200);
    const text = `query Refused${randomBytes(3).toString('hex')} { price(symbol: "AUD_USD") { symbol bid } }`;
    const id = createHash('sha256').update(text).digest('hex');
    const persistedQuery = { version: 1, sha256Hash: id };
    const refused = await fetch(`${a.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ALICE) }, body: JSON.stringify({ query: text, extensions: { persistedQuery } }) });
    expect(refused.status).toBe(429);
    expect(await a.gateway.cache.service.get(a.gateway.cache.keys.persistedDocument(id))).toBeUndefined();
    clock.ms += 10 * 60_000;
    const byId = await fetch(`${b.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ALICE) }, body: JSON.stringify({ extensions: { persistedQuery } }) });
    expect(((await byId.json()) as Answer['body']).errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('keeps one budget per user, and none for the admin', async () => {
    for (let i = 0; i < 30; i += 1) expect((await post(a, rename(1, `alice-${i}`), bearer(ALICE))).status).toBe(200);
    expectRateLimited(await post(a, '{ me { id } }', bearer(ALICE)), 'user');
    expect((await post(a, '{ me { id username } }', bearer(BOB))).status).toBe(200);
    for (let i = 0; i < 40; i += 1) expect((await post(a, rename(3, `admin-${i}`), bearer(TEST_ADMIN_TOKEN))).status).toBe(200);
  });

  it('refills the budget as time passes: 200 ms of it pays for one more rename', async () => {
    for (let i = 0; i < 30; i += 1) await post(a, rename(1, `refill-${i}`), bearer(ALICE));
    expect((await post(a, rename(1, 'refused'), bearer(ALICE))).status).toBe(429);
    clock.ms += 200;
    expect((await post(a, rename(1, 'refilled'), bearer(ALICE))).status).toBe(200);
    expect((await post(a, rename(1, 'refused again'), bearer(ALICE))).status).toBe(429);
    expect(await displayNameOf(1)).toBe('refilled');
  });

  it('charges answers from the cache 10 % of their cost, in the hit front too', async () => {
    const query = '{ signals(symbol: "EUR_USD", limit: 6) { id symbol direction } }';
    expect(costs.of(query, undefined)).toBe(19);
    const first = await post(a, query);
    expect(first.status).toBe(200);
    // 19 for the execution, then 2 per hit: 20 hits fit the 41 left.
    const routedBefore = routedOnA;
    let hits = 0;
    let answer = await post(a, query);
    while (answer.status === 200 && hits < 100) {
      expect(answer.headers.get('x-cache')).toBe('HIT');
      hits += 1;
      answer = await post(a, query);
    }
    expect(hits).toBe(20);
    expectRateLimited(answer, 'anonymous');
    expect(routedOnA).toBe(routedBefore);
  });

  it('shares one budget between two instances on one Redis', async () => {
    let allowed = 0;
    for (let i = 0; i < 60; i += 1) {
      if ((await post(i % 2 === 0 ? a : b, rename(3, `fleet-${i}`), bearer(CAROL))).status === 200) allowed += 1;
    }
    // 30 on one budget; each instance may strand less than one request's cost of its lease.
    expect(allowed).toBeGreaterThanOrEqual(28);
    expect(allowed).toBeLessThanOrEqual(30);
    expect((await post(a, rename(3, 'refused'), bearer(CAROL))).status).toBe(429);
    expect((await post(b, rename(3, 'refused'), bearer(CAROL))).status).toBe(429);
  });

  it('budgets anonymous callers by address: X-Forwarded-For only from a trusted proxy, read from the right', async () => {
    // Each a first sight (a miss everywhere), costing more than the burst: it spends the whole burst, and passes on a full budget only.
    let n = 0;
    const heavy = () => `{ signals(symbol: "GBP_USD", limit: ${30 + (n += 1)}) { id symbol direction } }`;
    expect(costs.of('{ signals(symbol: "GBP_USD", limit: 30) { id symbol direction } }', undefined)).toBe(91);
    // a trusts no proxy: both "clients" are 127.0.0.1.
    expect((await post(a, heavy(), { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
    expectRateLimited(await post(a, heavy(), { 'x-forwarded-for': '203.0.113.2' }), 'anonymous');
    // b believes 127.0.0.1: each forwarded address has its own budget.
    expect((await post(b, heavy(), { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
    expect((await post(b, heavy(), { 'x-forwarded-for': '198.51.100.1' })).status).toBe(429);
    expect((await post(b, heavy(), { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
    // What a client writes on the left is its own word: the hop 127.0.0.1 saw was 198.51.100.1.
    expect((await post(b, heavy(), { 'x-forwarded-for': '192.0.2.99, 198.51.100.1' })).status).toBe(429);
    // Without the header, b's client is 127.0.0.1 itself, whose budget a spent.
    expect((await post(b, heavy())).status).toBe(429);
  });

  it('charges a subscription its query cost when it starts, from the same budget: SSE answers 429 with Retry-After, graphql-ws an error RATE_LIMITED', async () => {
    const ticks = 'subscription Ticks($symbols: [String!]!) { prices(symbols: $symbols) { symbol bid ask mid spread time } }';
    // Every instrument: above the burst, so the first start spends the whole of it.
    const symbols = DEMO_INSTRUMENTS.map((instrument) => instrument.symbol);
    expect(costs.of(ticks, undefined, { symbols })).toBe(1 + 6 * symbols.length);
    expect(1 + 6 * symbols.length).toBeGreaterThan(60);
    const streams: AbortController[] = [];
    const stream = async (token: string) => {
      const abort = new AbortController();
      streams.push(abort);
      const response = await fetch(`${a.url}/graphql/stream`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify({ query: ticks, variables: { symbols } }),
        signal: abort.signal,
      });
      if (response.status === 200) return { status: 200, headers: response.headers, body: {} };
      return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
    };
    const ws = createWsClient({ url: `${a.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: bearer(ALICE), retryAttempts: 0, lazy: true });
    try {
      expect((await stream(ALICE)).status).toBe(200);
      expectRateLimited(await stream(ALICE), 'user');
      const refused = await new Promise<unknown>((resolve) => ws.subscribe({ query: ticks, variables: { symbols } }, { next: () => undefined, error: resolve, complete: () => resolve('completed') }));
      expect(refused).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED', policy: 'user', cost: 60 }) })]);
      // Bob's budget is his own; Alice's refills.
      expect((await stream(BOB)).status).toBe(200);
      clock.ms += 6_000;
      expect((await stream(ALICE)).status).toBe(200);
    } finally {
      for (const abort of streams) abort.abort();
      await ws.dispose();
    }
  });

  it('charges a token refused on a live transport 1 from its address, as over HTTP: SSE answers 429 once the burst is spent, graphql-ws closes 4429', async () => {
    const statuses: number[] = [];
    for (let guess = 0; guess < 70 && !statuses.includes(429); guess += 1) {
      const response = await fetch(`${a.url}/graphql/stream`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...bearer(`guess-${guess}`) },
        body: JSON.stringify({ query: 'subscription { signalEvents { id } }' }),
      });
      statuses.push(response.status);
      if (response.status === 429) expectRateLimited({ status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] }, 'anonymous');
      else await response.body?.cancel();
    }
    expect(statuses).toEqual([...Array<number>(60).fill(401), 429]);
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const ws = createWsClient({ url: `${a.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams: bearer('guess-ws'), retryAttempts: 0, lazy: false, onNonLazyError: () => undefined, on: { closed: (event) => resolve(event as { code: number; reason: string }) } });
      ws.on('closed', () => void ws.dispose());
    });
    expect(closed.code).toBe(4429);
    expect(closed.reason).toMatch(/^Rate limit exceeded/);
  });

  it('with Redis frozen, the local limiter decides: requests still answer, and a burst is still refused', async () => {
    const localLeases = async () => Number(/gateway_rate_limit_leases_total\{store="local"\} (\d+)/.exec(await (await fetch(`${b.url}/metrics`)).text())?.[1] ?? 0);
    const before = await localLeases();
    redis.freeze();
    try {
      const query = '{ signals(symbol: "USD_JPY", limit: 6) { id symbol direction } }';
      const statuses: number[] = [];
      for (let i = 0; i < 40; i += 1) {
        const started = Date.now();
        statuses.push((await post(b, query, bearer(BOB))).status);
        // Never longer than a command timeout (REDIS_TIMEOUT, 2 s in tests), with room for a busy machine.
        expect(Date.now() - started).toBeLessThan(4_000);
      }
      const allowed = statuses.filter((status) => status === 200).length;
      expect(statuses[0]).toBe(200);
      // 19 for the first answer, about 2 for each after it: neither no limit nor refuse-all.
      expect(allowed).toBeGreaterThanOrEqual(3);
      expect(allowed).toBeLessThan(40);
      expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);
      expect(await localLeases()).toBeGreaterThan(before);
    } finally {
      redis.thaw();
    }
  }, 60_000);
});

describe('rate budgets on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let cache: Cache;
  const prefix = `test_rl_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', REDIS_CLUSTER_NODES: cluster.seeds, CACHE_KEY_PREFIX: prefix, REDIS_TIMEOUT: '2' });
    cache = createCache(config, createLogger(config));
    await cache.start();
  }, 60_000);

  afterAll(async () => {
    await cache?.close();
    await cluster?.stop();
  });

  it('takes atomically, one key per viewer on whichever master holds its slot (no CROSSSLOT)', async () => {
    const budgets = new RedisBudgets(cache.scripts, (viewer) => cache.keys.rateBudget(viewer));
    const policy = { name: 'user', costPerMinute: 60, burstCost: 20 } as const;
    const viewers = Array.from({ length: 12 }, (_, index) => `user:${index + 1}`);
    // 50 concurrent takes of 1 per viewer against a burst of 20: exactly 20 each, whatever the interleaving.
    const granted = await Promise.all(viewers.map(async (viewer) => (await Promise.all(Array.from({ length: 50 }, () => budgets.take(viewer, 1_000, policy, 1, 1, 0)))).reduce((sum, grant) => sum + grant.granted, 0)));
    expect(granted).toEqual(viewers.map(() => 20));
    const holders = await Promise.all(cluster.nodes.map((node) => cluster.keysOn(node, `${prefix}~ratelimit:*`)));
    expect(holders.flat().sort()).toEqual(viewers.map((viewer) => cache.keys.rateBudget(viewer)).sort());
    expect(holders.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
  });
});
