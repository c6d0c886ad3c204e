import { Redis } from 'ioredis';
import pino from 'pino';

import { createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { databaseUnavailable } from '../../src/errors';
import { TEST_ADMIN_TOKEN, startTestGateway, type TestGateway, ALICE } from '../helpers/test-gateway';

const APP_ORIGIN = 'https://app.example.com';

/** Each known attack on a public GraphQL endpoint with a shared cache: a clear refusal, and nothing changed. */
describe('attacks on the gateway', () => {
  let gw: TestGateway;
  let redis: Redis;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
    gw = await startTestGateway({ GRAPHQL_INTROSPECTION: 'false', CORS_ORIGINS: APP_ORIGIN }, { logger });
    redis = new Redis('redis://127.0.0.1:6379');
  }, 60_000);

  afterAll(async () => {
    redis.disconnect();
    await gw.close();
  });

  const send = async (body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await response.text();
    return { status: response.status, text, headers: response.headers, json: () => JSON.parse(text) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  };
  const query = (text: string, token?: string, variables?: Record<string, unknown>) =>
    send(JSON.stringify({ query: text, variables }), token === undefined ? {} : { authorization: `Bearer ${token}` });
  const calls = () => gw.dataSourceCalls();

  /** Sends an attack and checks it was refused with `status` and `message` before anything ran. */
  async function refusedBeforeExecution(attack: () => Promise<{ status: number; text: string }>, status: number, message: RegExp) {
    const before = calls();
    const executions = gw.gateway.responseCache!.metrics().executions;
    const response = await attack();
    expect(response.status).toBe(status);
    expect(response.text).toMatch(message);
    expect(calls()).toBe(before);
    expect(gw.gateway.responseCache!.metrics().executions - executions).toBeLessThanOrEqual(1);
  }

  it('refuses a depth bomb', async () => {
    let nested = 'id';
    for (let i = 0; i < 6; i += 1) nested = `signals(limit: 1) { user { ${nested} } }`;
    await refusedBeforeExecution(() => query(`{ user(id: 1) { ${nested} } }`), 400, /Query is too deep: \d+ levels, at most 8/);
  });

  it('refuses an alias flood', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: user(id: ${i + 1}) { id }`).join(' ');
    await refusedBeforeExecution(() => query(`{ ${aliases} }`), 400, /Too many aliases: 16, at most 15/);
  });

  it('refuses fragment cycles without hanging', async () => {
    const cycle = '{ user(id: 1) { ...A } } fragment A on User { signals { user { ...B } } } fragment B on User { ...A }';
    await refusedBeforeExecution(() => query(cycle), 400, /Cannot spread fragment .{1,3}A.{1,3} within itself/);
  });

  it('refuses a fragment bomb (each fragment spreading the previous one twice) after bounded work', async () => {
    const fragments = ['fragment F0 on User { id username }'];
    for (let i = 1; i <= 25; i += 1) fragments.push(`fragment F${i} on User { ...F${i - 1} ...F${i - 1} }`);
    const started = Date.now();
    await refusedBeforeExecution(() => query(`{ user(id: 1) { ...F25 } } ${fragments.join(' ')}`), 400, /Query is too costly/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a costly fan-out (100 users × 200 signals × their authors)', async () => {
    await refusedBeforeExecution(
      () => query(`{ users(ids: [${Array.from({ length: 100 }, (_, i) => i + 1).join(',')}]) { signals(limit: 200) { id user { id } } } }`),
      400,
      /Query is too costly/,
    );
  });

  it('refuses a 10,000-item list argument at the parser', async () => {
    await refusedBeforeExecution(() => query(`{ users(ids: [${Array.from({ length: 10_000 }, (_, i) => i + 1).join(',')}]) { id } }`), 400, /Document contains more tha[nt] 1000 tokens/);
  });

  it('refuses a body over 100 KiB with 413', async () => {
    await refusedBeforeExecution(() => query(`{ user(id: 1) { id } } # ${'x'.repeat(120 * 1024)}`), 413, /Request body is too large/);
  });

  it('refuses a batch of 1,000 operations', async () => {
    const batch = JSON.stringify(Array.from({ length: 1_000 }, () => ({ query: '{ user(id: 1) { id } }' })));
    await refusedBeforeExecution(() => send(batch), 400, /batching/i);
  });

  it('refuses wrong content types and malformed JSON with a clear 4xx', async () => {
    const xml = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<q/>' });
    expect(xml.status).toBe(415);
    expect(xml.headers.get('cache-control')).toBe('no-store');
    expect(await xml.json()).toEqual({ errors: [{ message: 'Unsupported Media Type', extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } }] });
    const broken = await send('{"query": "{ user(id: 1) { id } }"');
    expect(broken.status).toBe(400);
    expect(broken.headers.get('cache-control')).toBe('no-store');
    // In GraphQL's shape on the GraphQL route, as every other refusal there.
    expect(broken.json()).toEqual({ errors: [{ message: expect.stringMatching(/JSON/), extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('refuses admin mutations without the token or with a wrong one, and changes nothing', async () => {
    await query('{ user(id: 70) { id } }');
    const mutation = 'mutation { invalidateCache(input: { scope: ALL }) { removed } }';
    expect((await query(mutation)).json().errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const wrong = await query(mutation, `${TEST_ADMIN_TOKEN.slice(0, -1)}X`);
    expect(wrong.status).toBe(401);
    expect(await redis.exists(gw.gateway.cache.keys.user(70))).toBe(1);
  });

  it.each([['users:[0-9]*'], ['users:\\*'], ['users:1]']])('refuses the invalidation pattern %p, and confines wildcards to the prefix', async (pattern) => {
    const result = await query('mutation($p: String!) { invalidateCache(input: { scope: PATTERN, pattern: $p }) { removed } }', TEST_ADMIN_TOKEN, { p: pattern });
    expect(result.json().errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await redis.set('someone_else:users:1', 'theirs');
    await query('mutation { invalidateCache(input: { scope: PATTERN, pattern: "*" }) { removed } }', TEST_ADMIN_TOKEN);
    expect(await redis.get('someone_else:users:1')).toBe('theirs');
    await redis.del('someone_else:users:1');
  });

  it("never serves a user's private response to another user", async () => {
    await query('{ me { email } }', ALICE);
    const anonymous = await query('{ me { email } }');
    expect(anonymous.json()).toEqual({ data: { me: null } });
  });

  it('cannot be poisoned through extra variables or headers', async () => {
    const text = '{ user(id: 71) { username } }';
    const poisoned = await send(JSON.stringify({ query: text, variables: { id: 999 }, extensions: { poison: true } }), { 'x-forwarded-host': 'evil.example', 'accept-language': 'xx' });
    const honest = await query(text);
    expect(honest.json()).toEqual(poisoned.json());
    expect(honest.json()).toEqual({ data: { user: { username: expect.any(String) } } });
  });

  it('answers correctly over a corrupt value planted in Redis', async () => {
    await redis.set(gw.gateway.cache.keys.user(72), '{"id": 72, "username": "evil"', 'EX', 60);
    const result = await query('{ user(id: 72) { id username } }');
    expect(result.json()).toEqual({ data: { user: { id: 72, username: expect.not.stringMatching(/evil/) } } });
  });

  it('hides the schema when introspection is off: no introspection, no suggestions', async () => {
    expect((await query('{ __schema { types { name } } }')).text).toMatch(/introspection is not allowed/i);
    const typo = await query('{ usr(id: 1) { id } }');
    expect(typo.status).toBe(400);
    expect(typo.text).not.toMatch(/Did you mean/);
  });

  it('lets only the configured origin use CORS', async () => {
    const preflight = await fetch(`${gw.url}/graphql`, { method: 'OPTIONS', headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    const stranger = await send(JSON.stringify({ query: '{ user(id: 1) { id } }' }), { origin: 'https://evil.example' });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
  });

  describe('when the session lookup fails', () => {
    /** The sessions query fails with `error` while `run` runs; a fresh token each time, so that no cached lookup answers. */
    async function whileSessionsFail<T>(error: Error, run: (token: string) => Promise<T>): Promise<T> {
      const { db } = gw.gateway;
      const query = db.query.bind(db);
      const spy = jest.spyOn(db, 'query').mockImplementation((label, sql, params) => (label === 'sessions.findByTokenHash' ? Promise.reject(error) : query(label, sql, params)));
      try {
        return await run(`unseen-session-token-${Math.random().toString(36).slice(2)}`);
      } finally {
        spy.mockRestore();
      }
    }
    const statistics = '{ signalStatistics(symbol: "EUR_USD") { totalSignals } }';

    it('masks an unexpected failure, with a request id that is also in an error log line (POST, and a repeat the hit front hands on)', async () => {
      await query(statistics);
      for (let i = 0; i < 2; i += 1) {
        const result = await whileSessionsFail(new Error('permission denied for table user_sessions (role gateway_rw@db-primary.internal)'), (token) => query(statistics, token));
        const error = result.json().errors?.[0];
        expect([result.status, error]).toEqual([500, { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: result.headers.get('x-request-id') } }]);
        expect(result.text).not.toMatch(/permission|db-primary|context/i);
        const logged = logs.filter((line) => line.requestId === error?.extensions?.requestId);
        expect(logged).toEqual([expect.objectContaining({ level: 50, err: expect.objectContaining({ message: expect.stringContaining('db-primary.internal') }) })]);
      }
    });

    it('answers DATABASE_UNAVAILABLE with 503 when the database cannot be reached, nothing run', async () => {
      const before = calls();
      const result = await whileSessionsFail(databaseUnavailable(new Error('connect ECONNREFUSED 10.0.0.7:5432')), (token) => query(statistics, token));
      expect(result.status).toBe(503);
      expect(result.json().errors).toEqual([{ message: expect.stringMatching(/^The database is unavailable/), extensions: { code: 'DATABASE_UNAVAILABLE', retryable: true } }]);
      expect(result.text).not.toMatch(/ECONNREFUSED|10\.0\.0\.7/);
      expect(calls()).toBe(before);
    });
  });

  it('masks an unexpected error, with a request id that is also in the logs (last: it closes the database)', async () => {
    await gw.gateway.db.close();
    const result = await query('{ user(id: 999) { id } }');
    const error = result.json().errors?.[0];
    expect(error).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) } });
    expect(result.text).not.toMatch(/stack|PGlite|closed/i);
    expect(result.headers.get('x-request-id')).toBe(error?.extensions?.requestId);
    expect(logs.some((line) => line.requestId === error?.extensions?.requestId && line.level === 50)).toBe(true);
  });
});

describe('a flood of distinct cacheable queries while Redis is down', () => {
  it('keeps the memory tier within its bound, and hot keys keep hitting', async () => {
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_TIMEOUT: '0.2', LOG_LEVEL: 'silent', CACHE_FALLBACK_MAX_ITEMS: '1000' });
    const cache = createCache(config, pino({ level: 'silent' }));
    await cache.start();
    try {
      let hotLoads = 0;
      const hot = () => cache.service.getOrSet('ai_trading:api:graphql:hot', () => Promise.resolve(++hotLoads), 600);
      await hot();
      for (let i = 0; i < 100_000; i += 1) {
        await cache.service.set(`ai_trading:api:graphql:flood:${i}`, { i }, 600);
        if (i % 100 === 0) await hot();
      }
      expect(hotLoads).toBe(1);
      expect(cache.service.metricsReport().tiers.memory.total_operations).toBeGreaterThan(100_000);
      const present = await cache.service.mget(Array.from({ length: 2_000 }, (_, i) => `ai_trading:api:graphql:flood:${98_000 + i}`));
      expect(present.filter((value) => value !== undefined).length).toBeLessThanOrEqual(1_000);
    } finally {
      await cache.close();
    }
  }, 60_000);
});
