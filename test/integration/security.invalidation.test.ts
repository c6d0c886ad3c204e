import { randomBytes } from 'node:crypto';

import { hashToken } from '../../src/sessions/sessions.repository';
import { eventually, eventuallyPasses } from '../helpers/eventually';
import { createScratchSchema, postgresReachable, type ScratchSchema, TEST_POSTGRES_URL } from '../helpers/postgres';
import { RedisServer } from '../helpers/redis-server';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/**
 * Invalidation defects are security defects: a cache that outlives a revocation keeps a revoked
 * token working, a cached "not found" hides a row, and a scope that misses an entry serves data the
 * operator believes gone. Each case changes the truth (through the API, or in the database
 * followed by the operator's invalidation) and checks the very next request sees it.
 */

type Json = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };

interface Answer {
  readonly status: number;
  readonly body: Json;
  /** MISS, HIT, HIT-SHARED or BYPASS. */
  readonly cache: string | null;
}

function client(get: () => TestGateway) {
  const gql = async (query: string, token?: string, variables?: Record<string, unknown>): Promise<Answer> => {
    const response = await fetch(`${get().url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as Json, cache: response.headers.get('x-cache') };
  };
  const sql = <Row>(text: string, params: unknown[] = []) => get().gateway.db.query<Row>('test.sql', text, params);
  /** A live session of the user, made in the database as a login would. */
  const newSession = async (userId: number): Promise<string> => {
    const token = `test-session-${randomBytes(12).toString('hex')}`;
    await sql(`insert into user_sessions (user_id, token_hash, expires_at) values ($1, $2, now() + interval '1 day')`, [userId, hashToken(token)]);
    return token;
  };
  return { gql, sql, newSession };
}

type Transport = 'GraphQL' | 'REST';
interface Scope {
  readonly scope: 'user' | 'signals' | 'market' | 'pattern' | 'all';
  readonly id?: number;
  readonly symbol?: string;
  readonly pattern?: string;
}

/** The operator's invalidation, through the GraphQL mutation or `POST /cache/invalidate`; returns how many entries it removed. */
async function invalidate(gw: TestGateway, transport: Transport, request: Scope): Promise<number> {
  if (transport === 'REST') {
    const response = await fetch(`${gw.url}/cache/invalidate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      body: JSON.stringify(request),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { removed: number }).removed;
  }
  const result = await gw.graphql<{ invalidateCache: { removed: number } }>(
    'mutation($input: InvalidateCacheInput!) { invalidateCache(input: $input) { removed } }',
    { input: { ...request, scope: request.scope.toUpperCase() } },
    TEST_ADMIN_TOKEN,
  );
  expect(result.errors).toBeUndefined();
  return result.data!.invalidateCache.removed;
}

const CREATE_SIGNAL = 'mutation { createSignal(input: { symbol: "EUR_USD", timeframe: H1, direction: BUY, entryPrice: 1.1, confidence: 0.5 }) { id } }';

describe('invalidation defects, on one gateway', () => {
  let gw: TestGateway;
  const { gql, sql, newSession } = client(() => gw);

  beforeAll(async () => {
    gw = await startTestGateway();
  }, 60_000);

  afterAll(async () => {
    await gw.gateway.cache.invalidator.invalidateAllCache();
    await gw.close();
  });

  // Each case starts cold: what one case left stale must not decide the next.
  afterEach(() => gw.gateway.cache.invalidator.invalidateAllCache());

  describe('a revoked session or a deactivated user is refused from the very next request', () => {
    const me = async (token: string) => (await gql('{ me { id } }', token)).body;

    /** Every use of the token, each the first request after the change: UNAUTHENTICATED with 401, and nothing done. */
    async function refused(token: string, userId: number): Promise<void> {
      const signalsBefore = (await sql<{ count: number }>('select count(*)::int as count from trading_signals where user_id = $1', [userId]))[0]!.count;
      for (const operation of ['{ me { id } }', `mutation { updateUser(id: ${userId}, input: { displayName: "Still here" }) { id } }`, CREATE_SIGNAL]) {
        const answer = await gql(operation, token);
        expect({ operation, status: answer.status, code: answer.body.errors?.[0]?.extensions?.code }).toEqual({ operation, status: 401, code: 'UNAUTHENTICATED' });
      }
      const [user] = await sql<{ displayName: string }>('select display_name as "displayName" from users where id = $1', [userId]);
      expect(user!.displayName).not.toBe('Still here');
      expect((await sql<{ count: number }>('select count(*)::int as count from trading_signals where user_id = $1', [userId]))[0]!.count).toBe(signalsBefore);
    }

    /** The token works, and its lookup is now cached (the state that outlived revocations). */
    async function works(token: string, userId: number): Promise<void> {
      expect(await me(token)).toEqual({ data: { me: { id: userId } } });
      expect((await gql(`mutation { updateUser(id: ${userId}, input: { displayName: "Session ${userId}" }) { id } }`, token)).body.errors).toBeUndefined();
      expect(await me(token)).toEqual({ data: { me: { id: userId } } });
    }

    it('logout ends the session of the token sent, and only that one', async () => {
      const token = await newSession(41);
      const other = await newSession(41);
      await works(token, 41);
      await works(other, 41);
      expect((await gql('mutation { logout }', token)).body).toEqual({ data: { logout: true } });
      await refused(token, 41);
      expect(await me(other)).toEqual({ data: { me: { id: 41 } } });
      expect((await gql('mutation { logout }')).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect((await gql('mutation { logout }', TEST_ADMIN_TOKEN)).body).toEqual({ data: { logout: false } });
    });

    it('revokeUserSessions (admin) ends every session of the user', async () => {
      const tokens = [await newSession(42), await newSession(42)];
      for (const token of tokens) await works(token, 42);
      const bystander = await newSession(43);
      await works(bystander, 43);
      expect((await gql('mutation { revokeUserSessions(userId: 42) }', tokens[0])).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await gql('mutation { revokeUserSessions(userId: 42) }', TEST_ADMIN_TOKEN)).body).toEqual({ data: { revokeUserSessions: 2 } });
      for (const token of tokens) await refused(token, 42);
      expect(await me(bystander)).toEqual({ data: { me: { id: 43 } } });
    });

    it('setUserActive (admin) refuses the user\'s sessions at once, and reactivating restores them', async () => {
      const token = await newSession(45);
      await works(token, 45);
      expect((await gql('mutation { setUserActive(id: 45, active: false) { id isActive } }', token)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect((await gql('mutation { setUserActive(id: 45, active: false) { id isActive } }', TEST_ADMIN_TOKEN)).body).toEqual({ data: { setUserActive: { id: 45, isActive: false } } });
      await refused(token, 45);
      expect((await gql('mutation { setUserActive(id: 45, active: true) { isActive } }', TEST_ADMIN_TOKEN)).body).toEqual({ data: { setUserActive: { isActive: true } } });
      expect(await me(token)).toEqual({ data: { me: { id: 45 } } });
    });

    it.each<[string, Transport, string]>([
      ['sessions deleted in the database', 'REST', 'delete from user_sessions where user_id = $1'],
      ['sessions deleted in the database', 'GraphQL', 'delete from user_sessions where user_id = $1'],
      ['a user deactivated in the database', 'REST', 'update users set is_active = false where id = $1'],
      ['a user deactivated in the database', 'GraphQL', 'update users set is_active = false where id = $1'],
    ])('%s, then the USER scope over %s', async (_what, transport, change) => {
      const userId = 44 + Math.floor(Math.random() * 400);
      const token = await newSession(userId);
      await works(token, userId);
      await sql(change, [userId]);
      // Until the operator says so, the cached lookup answers (what the invalidation is for).
      expect(await me(token)).toEqual({ data: { me: { id: userId } } });
      expect(await invalidate(gw, transport, { scope: 'user', id: userId })).toBeGreaterThan(0);
      await refused(token, userId);
      await sql('update users set is_active = true where id = $1', [userId]);
    });
  });

  describe('a cached "not found" is evicted when the row appears', () => {
    const nextSignalId = async () => {
      const [sequence] = await sql<{ next: string }>(`select (last_value + case when is_called then 1 else 0 end)::text as next from trading_signals_id_seq`);
      return Number(sequence!.next);
    };

    /** Asks twice: the second answer must come from the response cache, or the case would prove nothing. */
    const cachedNull = async (query: string, expected: Record<string, unknown>) => {
      expect((await gql(query)).body).toEqual({ data: expected });
      const again = await gql(query);
      expect(again.body).toEqual({ data: expected });
      expect(again.cache).toMatch(/^HIT/);
    };

    it('signal(id): null before createSignal returns that id, the signal right after', async () => {
      const id = await nextSignalId();
      await cachedNull(`{ signal(id: ${id}) { id } }`, { signal: null });
      const created = await gql(CREATE_SIGNAL.replace('confidence: 0.5', 'confidence: 0.5, userId: 5'), TEST_ADMIN_TOKEN);
      expect(created.body).toEqual({ data: { createSignal: { id } } });
      expect((await gql(`{ signal(id: ${id}) { id } }`)).body).toEqual({ data: { signal: { id } } });
    });

    it('signal(id): a row inserted in the database, then the SIGNALS scope of its instrument', async () => {
      const id = (await nextSignalId()) + 100;
      await cachedNull(`{ signal(id: ${id}) { id symbol } }`, { signal: null });
      await sql(`insert into trading_signals (id, user_id, symbol, timeframe, direction, status, entry_price, confidence) values ($1, 6, 'GBP_USD', 'H1', 'BUY', 'ACTIVE', 1.3, 0.6)`, [id]);
      await invalidate(gw, 'GraphQL', { scope: 'signals', symbol: 'GBP_USD' });
      expect((await gql(`{ signal(id: ${id}) { id symbol } }`)).body).toEqual({ data: { signal: { id, symbol: 'GBP_USD' } } });
    });

    it.each<[Transport]>([['GraphQL'], ['REST']])('user(id) and users(ids): a user inserted in the database, then the USER scope over %s', async (transport) => {
      const id = (await sql<{ id: number }>('select max(id) + 1 as id from users'))[0]!.id;
      await cachedNull(`{ user(id: ${id}) { id username } }`, { user: null });
      await cachedNull(`{ users(ids: [1, ${id}]) { id } }`, { users: [{ id: 1 }, null] });
      await sql(`insert into users (id, username, email, display_name, tier) values ($1, $2, $3, 'New User', 'FREE')`, [id, `new${id}`, `new${id}@example.com`]);
      await invalidate(gw, transport, { scope: 'user', id });
      expect((await gql(`{ user(id: ${id}) { id username } }`)).body).toEqual({ data: { user: { id, username: `new${id}` } } });
      expect((await gql(`{ users(ids: [1, ${id}]) { id } }`)).body).toEqual({ data: { users: [{ id: 1 }, { id }] } });
    });
  });

  describe.each<[Transport]>([['GraphQL'], ['REST']])('each operator scope over %s leaves nothing stale', (transport) => {
    /**
     * Reads each view twice (the second from the response cache, so each view's own tags are
     * tested), applies `change` to the database and the invalidation, then expects every view to
     * show what the database now holds.
     */
    async function freshAfter(views: Record<string, { query: string; token?: string }>, change: () => Promise<void>, scope: Scope, expected: () => Promise<Record<string, unknown>>) {
      for (const [name, view] of Object.entries(views)) {
        await gql(view.query, view.token);
        const again = await gql(view.query, view.token);
        expect({ name, cache: again.cache }).toEqual({ name, cache: expect.stringMatching(/^HIT/) });
      }
      await change();
      await invalidate(gw, transport, scope);
      const seen: Record<string, unknown> = {};
      for (const [name, view] of Object.entries(views)) seen[name] = (await gql(view.query, view.token)).body;
      expect(seen).toEqual(await expected());
    }

    /** The newest signal of all (so that every list shows it), and its author. */
    const newestSignal = async () => (await sql<{ id: number; symbol: string; userId: number }>('select id, symbol, user_id as "userId" from trading_signals order by created_at desc, id desc limit 1'))[0]!;

    const signalViews = (signal: { id: number; symbol: string; userId: number }) => ({
      signal: { query: `{ signal(id: ${signal.id}) { id status confidence } }` },
      bySymbol: { query: `{ signals(symbol: "${signal.symbol}", limit: 1) { id status confidence } }` },
      acrossInstruments: { query: '{ signals(limit: 1) { id status confidence } }' },
      latest: { query: `{ latestSignals(symbols: ["${signal.symbol}"], perSymbol: 1) { id status confidence } }` },
      statistics: { query: `{ signalStatistics(symbol: "${signal.symbol}") { activeSignals averageConfidence } }` },
      author: { query: `{ user(id: ${signal.userId}) { signals(limit: 1) { id status confidence } statistics { activeSignals averageConfidence } } }` },
      authors: { query: `{ users(ids: [${signal.userId}]) { signals(limit: 3) { id status } } }` },
    });

    /** What the signal views must show, read from the database. */
    async function signalTruth(signal: { id: number; symbol: string; userId: number }) {
      const [row] = await sql<{ status: string; confidence: number }>('select status, confidence from trading_signals where id = $1', [signal.id]);
      const aggregate = async (where: string, value: unknown) =>
        (await sql<{ activeSignals: number; averageConfidence: number }>(
          `select (count(*) filter (where status = 'ACTIVE'))::int as "activeSignals", avg(confidence)::float8 as "averageConfidence" from trading_signals where ${where} = $1`,
          [value],
        ))[0]!;
      const userSignals = await sql<{ id: number; status: string }>('select id, status from trading_signals where user_id = $1 order by created_at desc, id desc limit 3', [signal.userId]);
      const shown = { id: signal.id, ...row };
      return {
        signal: { data: { signal: shown } },
        bySymbol: { data: { signals: [shown] } },
        acrossInstruments: { data: { signals: [shown] } },
        latest: { data: { latestSignals: [shown] } },
        statistics: { data: { signalStatistics: await aggregate('symbol', signal.symbol) } },
        author: { data: { user: { signals: [shown], statistics: await aggregate('user_id', signal.userId) } } },
        authors: { data: { users: [{ signals: userSignals }] } },
      };
    }

    const changeSignal = (id: number) => async () => {
      const [row] = await sql<{ status: string }>('select status from trading_signals where id = $1', [id]);
      const status = row!.status === 'ACTIVE' ? 'CANCELLED' : 'ACTIVE';
      await sql('update trading_signals set status = $2, confidence = $3, updated_at = now() where id = $1', [id, status, Math.round(Math.random() * 1000) / 1000]);
    };

    it('SIGNALS of one instrument: the signal itself, every list and statistic showing it, its author’s lists and statistics', async () => {
      const signal = await newestSignal();
      await freshAfter(signalViews(signal), changeSignal(signal.id), { scope: 'signals', symbol: signal.symbol }, () => signalTruth(signal));
    });

    it('SIGNALS of every instrument: the same views', async () => {
      const signal = await newestSignal();
      await freshAfter(signalViews(signal), changeSignal(signal.id), { scope: 'signals' }, () => signalTruth(signal));
    });

    it('USER: the profile wherever it is shown, the user’s own lists and statistics, and `me`', async () => {
      const signal = await newestSignal();
      const userId = signal.userId;
      const token = await newSession(userId);
      const views = {
        user: { query: `{ user(id: ${userId}) { displayName signals(limit: 3) { id status } statistics { activeSignals } } }` },
        users: { query: `{ users(ids: [${userId}]) { displayName } }` },
        me: { query: '{ me { displayName } }', token },
        signalAuthor: { query: `{ signal(id: ${signal.id}) { user { displayName } } }` },
        listAuthor: { query: `{ signals(symbol: "${signal.symbol}", limit: 1) { user { displayName } } }` },
      };
      const name = `Renamed ${randomBytes(3).toString('hex')}`;
      const [older] = await sql<{ id: number }>('select id from trading_signals where user_id = $1 order by created_at desc, id desc offset 1 limit 1', [userId]);
      const change = async () => {
        await sql('update users set display_name = $2 where id = $1', [userId, name]);
        // A change to the user's own signals: their lists and statistics, which the USER scope covers.
        await changeSignal(older!.id)();
      };
      await freshAfter(views, change, { scope: 'user', id: userId }, async () => {
        const userSignals = await sql<{ id: number; status: string }>('select id, status from trading_signals where user_id = $1 order by created_at desc, id desc limit 3', [userId]);
        const [stats] = await sql<{ activeSignals: number }>(`select (count(*) filter (where status = 'ACTIVE'))::int as "activeSignals" from trading_signals where user_id = $1`, [userId]);
        return {
          user: { data: { user: { displayName: name, signals: userSignals, statistics: stats } } },
          users: { data: { users: [{ displayName: name }] } },
          me: { data: { me: { displayName: name } } },
          signalAuthor: { data: { signal: { user: { displayName: name } } } },
          listAuthor: { data: { signals: [{ user: { displayName: name } }] } },
        };
      });
    });

    it('MARKET of one instrument: its quote wherever it is shown', async () => {
      const signal = await newestSignal();
      const symbol = signal.symbol;
      const views = {
        price: { query: `{ price(symbol: "${symbol}") { time } }` },
        prices: { query: `{ prices(symbols: ["${symbol}"]) { time } }` },
        signalPrice: { query: `{ signal(id: ${signal.id}) { currentPrice { time } } }` },
      };
      let before = '';
      // The simulated feed moves every second: wait for the next one, so fresh and cached differ.
      const nextSecond = async () => {
        before = ((await gql(views.price.query)).body.data as { price: { time: string } }).price.time;
        await new Promise((resolve) => setTimeout(resolve, 1_100));
      };
      await freshAfter(views, nextSecond, { scope: 'market', symbol }, async () => {
        const time = ((await gql(views.price.query)).body.data as { price: { time: string } }).price.time;
        expect(time > before).toBe(true);
        return { price: { data: { price: { time } } }, prices: { data: { prices: [{ time }] } }, signalPrice: { data: { signal: { currentPrice: { time } } } } };
      });
    });

    it('PATTERN: the keys it matches, and every cached response', async () => {
      const signal = await newestSignal();
      const views = {
        user: { query: `{ user(id: ${signal.userId}) { displayName } }` },
        signalAuthor: { query: `{ signal(id: ${signal.id}) { user { displayName } } }` },
      };
      const name = `Patterned ${randomBytes(3).toString('hex')}`;
      await freshAfter(views, () => sql('update users set display_name = $2 where id = $1', [signal.userId, name]).then(() => undefined), { scope: 'pattern', pattern: `users:${signal.userId}` }, () =>
        Promise.resolve({ user: { data: { user: { displayName: name } } }, signalAuthor: { data: { signal: { user: { displayName: name } } } } }),
      );
    });

    it('ALL: everything, sessions included', async () => {
      const signal = await newestSignal();
      const token = await newSession(signal.userId);
      const views = { ...signalViews(signal), me: { query: '{ me { id } }', token } };
      const change = async () => {
        await changeSignal(signal.id)();
        await sql('delete from user_sessions where token_hash = $1', [hashToken(token)]);
      };
      await freshAfter(views, change, { scope: 'all' }, async () => ({
        ...(await signalTruth(signal)),
        me: expect.objectContaining({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })] }),
      }));
    });

    it("PATTERN that also matches the tag index (`*:1` matches `tags:UserSignals:1`) leaves it: the user's next write still evicts their statistics", async () => {
      const signal = await newestSignal();
      const statistics = `{ user(id: ${signal.userId}) { statistics { totalSignals } } }`;
      const total = async () => ((await gql(statistics)).body as { data: { user: { statistics: { totalSignals: number } } } }).data.user.statistics.totalSignals;
      const before = await total();
      expect(await invalidate(gw, transport, { scope: 'pattern', pattern: `*:${signal.userId}` })).toBeGreaterThan(0);
      expect(await total()).toBe(before);
      const token = await newSession(signal.userId);
      expect((await gql(CREATE_SIGNAL, token)).body.errors).toBeUndefined();
      expect(await total()).toBe(before + 1);
    });
  });

  it.each(['/cache/invalidate', '/cache/warming/trigger'])('POST %s asks for the admin token before it reads the body', async (path) => {
    for (const authorization of [undefined, `Bearer ${await newSession(1)}`]) {
      const response = await fetch(`${gw.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
        body: JSON.stringify({ scope: 'nope', strategies: ['nope'] }),
      });
      expect(response.status).toBe(authorization === undefined ? 401 : 403);
    }
  });
});

const reachable = postgresReachable();
if (!reachable) console.warn(`NOTICE: PostgreSQL at ${TEST_POSTGRES_URL} is unreachable; the two-instance revocation case is skipped.`);

(reachable ? describe : describe.skip)('revocation across two gateway instances (one PostgreSQL, one Redis)', () => {
  let schema: ScratchSchema;
  let a: TestGateway;
  let b: TestGateway;
  const { sql, newSession } = client(() => a);

  beforeAll(async () => {
    schema = await createScratchSchema();
    const env = { DATABASE_URL: schema.url, CACHE_KEY_PREFIX: `test_${randomBytes(4).toString('hex')}` };
    a = await startTestGateway(env);
    b = await startTestGateway(env);
  }, 90_000);

  afterAll(async () => {
    await a?.gateway.cache.invalidator.invalidateAllCache();
    await Promise.all([a?.close(), b?.close()]);
    await schema?.drop();
  });

  const me = (gw: TestGateway, token: string) => gw.graphql('{ me { id } }', undefined, token);

  it('a session ended on one instance is refused by the other at once', async () => {
    const token = await newSession(7);
    expect((await me(a, token)).data).toEqual({ me: { id: 7 } });
    expect((await me(b, token)).data).toEqual({ me: { id: 7 } });
    expect((await a.graphql('mutation { logout }', undefined, token)).data).toEqual({ logout: true });
    expect((await me(b, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a user deactivated in the database and invalidated on one instance is refused by the other at once', async () => {
    const token = await newSession(8);
    expect((await me(b, token)).data).toEqual({ me: { id: 8 } });
    await sql('update users set is_active = false where id = 8');
    expect((await me(b, token)).data).toEqual({ me: { id: 8 } });
    await invalidate(a, 'REST', { scope: 'user', id: 8 });
    expect((await me(b, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

(reachable ? describe : describe.skip)('revocation across two gateway instances while Redis is down', () => {
  let schema: ScratchSchema;
  let redis: RedisServer;
  let a: TestGateway;
  let b: TestGateway;
  const { newSession } = client(() => a);

  beforeAll(async () => {
    schema = await createScratchSchema();
    redis = await RedisServer.start();
    const env = { DATABASE_URL: schema.url, REDIS_URL: redis.url, CACHE_KEY_PREFIX: `test_${randomBytes(4).toString('hex')}`, REDIS_TIMEOUT: '0.3', REDIS_MAX_RECONNECT_DELAY_MS: '200' };
    a = await startTestGateway(env);
    b = await startTestGateway(env);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
    await schema?.drop();
  });

  const me = (gw: TestGateway, token: string) => gw.graphql('{ me { id } }', undefined, token);

  it('a session ended on one instance is refused by the other at once, though each serves from its memory tier', async () => {
    const token = await newSession(7);
    await redis.kill();
    const onMemory = (gw: TestGateway) => !gw.gateway.cache.service.healthReport().connection_healthy;
    await eventually(() => onMemory(a) && onMemory(b), 10_000, 'both instances on their memory tier');
    // The lookup is kept in b's memory tier, across its reads of the shared journal.
    await eventuallyPasses(async () => {
      expect((await me(b, token)).data).toEqual({ me: { id: 7 } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await b.gateway.cache.service.get(b.gateway.cache.keys.session(hashToken(token)))).toBeDefined();
    });
    expect((await a.graphql('mutation { logout }', undefined, token)).data).toEqual({ logout: true });
    expect((await me(b, token)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(onMemory(b)).toBe(true);
  }, 30_000);
});
