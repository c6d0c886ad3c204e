import { type Client as WsClient, createClient as createWsClient } from 'graphql-ws';
import { Client } from 'pg';
import WebSocket from 'ws';

import { eventually } from '../helpers/eventually';
import { FakeOandaStream } from '../helpers/fake-oanda-stream';
import { buildGateway, GatewayProcess } from '../helpers/gateway-process';
import { createScratchSchema, postgresReachable, type ScratchSchema } from '../helpers/postgres';
import { RedisCluster } from '../helpers/redis-cluster';
import { MASTER_NAME, RedisSentinelGroup } from '../helpers/redis-sentinel';
import { RedisServer } from '../helpers/redis-server';
import { TEST_ADMIN_TOKEN } from '../helpers/test-gateway';

interface Metrics {
  readonly loads: number;
  readonly response_cache: { readonly executions: number; readonly fleet_coalesced: number; readonly near_hits: number };
}

const reachable = postgresReachable();
if (!reachable) console.warn('NOTICE: PostgreSQL is not reachable on TEST_DATABASE_URL; the two-process suites are skipped');

// Once for the file: every suite below runs `node dist/src/main.js` processes.
if (reachable) beforeAll(() => buildGateway(), 240_000);

/**
 * Two gateway processes, as behind a load balancer: one PostgreSQL, one Redis, nothing else
 * shared. Each keeps near copies of responses in its own memory.
 */
(reachable ? describe : describe.skip)('two gateway processes on one Redis and one PostgreSQL', () => {
  let redis: RedisServer;
  let schema: ScratchSchema;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    [redis, schema] = await Promise.all([RedisServer.start(), createScratchSchema()]);
    const env = { REDIS_URL: redis.url, DATABASE_URL: schema.url, REDIS_TIMEOUT: '2', CACHE_KEY_PREFIX: 'fleet' };
    // One after the other: the first migrates and seeds, the second finds the data there.
    a = await GatewayProcess.start(env);
    b = await GatewayProcess.start(env);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([redis?.stop(), schema?.drop()]);
  });

  it('never serves an old value from one instance after an update through the other', async () => {
    const query = 'query Profile($id: Int!) { user(id: $id) { id displayName } }';
    for (let round = 1; round <= 5; round += 1) {
      const before = await b.graphql<{ user: { displayName: string } }>(query, { id: 9 });
      expect((await b.graphql(query, { id: 9 })).cache).toBe('HIT');
      expect((await a.graphql(query, { id: 9 })).data).toEqual(before.data);

      const name = `Renamed in round ${round}`;
      const update = await a.graphql(`mutation { updateUser(id: 9, input: { displayName: "${name}" }) { id } }`, undefined, TEST_ADMIN_TOKEN);
      expect(update.errors).toBeUndefined();
      // Right after the mutation's answer, with no pause: B must already have dropped its copy.
      const reads = await Promise.all([b, b, a, b].map((instance) => instance.graphql<{ user: { displayName: string } }>(query, { id: 9 })));
      expect(reads.map((read) => read.data?.user.displayName)).toEqual([name, name, name, name]);
    }
    expect((await b.json<Metrics>('/cache/metrics')).response_cache.near_hits).toBeGreaterThanOrEqual(5);
  });

  it('executes a cold query once across both instances, however the burst is split', async () => {
    const before = await Promise.all([a.json<Metrics>('/cache/metrics'), b.json<Metrics>('/cache/metrics')]);
    const query = 'query Cold($symbol: String!) { signals(symbol: $symbol, limit: 30) { id confidence user { displayName } } }';
    const burst = await Promise.all(Array.from({ length: 120 }, (_, index) => (index % 2 === 0 ? a : b).graphql(query, { symbol: 'NZD_USD' })));
    const after = await Promise.all([a.json<Metrics>('/cache/metrics'), b.json<Metrics>('/cache/metrics')]);

    expect(new Set(burst.map((response) => JSON.stringify(response.data))).size).toBe(1);
    expect(burst.every((response) => response.status === 200 && response.errors === undefined)).toBe(true);
    const executions = after.reduce((sum, metrics, index) => sum + metrics.response_cache.executions - before[index]!.response_cache.executions, 0);
    expect(executions).toBe(1);
    // The instance that lost the race answered from the other's stored response.
    const joined = after.reduce((sum, metrics, index) => sum + metrics.response_cache.fleet_coalesced - before[index]!.response_cache.fleet_coalesced, 0);
    expect(joined).toBe(1);
  });
});

const PROFILE = 'query Profile($id: Int!) { user(id: $id) { id displayName } }';
const USER_ID = 7;
const ROUNDS = 200;

type Read = Awaited<ReturnType<GatewayProcess['graphql']>>;
const nameOf = (read: Read) => (read.data as { user?: { displayName?: string } } | undefined)?.user?.displayName;

/** How a round changes the user on A: a mutation, or a direct database change followed by an operator invalidation. */
type Write = (a: GatewayProcess, db: Client, name: string) => Promise<void>;

const WRITES: Readonly<Record<string, Write>> = {
  'the updateUser mutation': async (a, _db, name) => {
    const update = await a.graphql(`mutation { updateUser(id: ${USER_ID}, input: { displayName: "${name}" }) { id } }`, undefined, TEST_ADMIN_TOKEN);
    expect(update.errors).toBeUndefined();
  },
  'a database change and the invalidateCache mutation': async (a, db, name) => {
    await db.query('update users set display_name = $1 where id = $2', [name, USER_ID]);
    const result = await a.graphql(`mutation { invalidateCache(input: { scope: USER, id: ${USER_ID} }) { removed } }`, undefined, TEST_ADMIN_TOKEN);
    expect(result.errors).toBeUndefined();
  },
  'a database change and POST /cache/invalidate': async (a, db, name) => {
    await db.query('update users set display_name = $1 where id = $2', [name, USER_ID]);
    expect(await a.post('/cache/invalidate', { scope: 'user', id: USER_ID }, TEST_ADMIN_TOKEN)).toBe(200);
  },
  'a database change and a pattern invalidation': async (a, db, name) => {
    await db.query('update users set display_name = $1 where id = $2', [name, USER_ID]);
    expect(await a.post('/cache/invalidate', { scope: 'pattern', pattern: `users:${USER_ID}` }, TEST_ADMIN_TOKEN)).toBe(200);
  },
};

/**
 * Rounds of: read on A, read twice on B (so B holds a near copy), write through A, then at once
 * read on B. Returns how many of those last reads were stale, and how many of B's second reads
 * were near hits (so that the test provably exercised near copies).
 */
async function rounds(a: GatewayProcess, b: GatewayProcess, db: Client, write: Write, count: number, label: string): Promise<{ stale: string[]; nearHits: number }> {
  const stale: string[] = [];
  let nearHits = 0;
  for (let round = 1; round <= count; round += 1) {
    await a.graphql(PROFILE, { id: USER_ID });
    await b.graphql(PROFILE, { id: USER_ID });
    if ((await b.graphql(PROFILE, { id: USER_ID })).cache === 'HIT') nearHits += 1;
    const name = `${label} ${round}`;
    await write(a, db, name);
    const after = await b.graphql(PROFILE, { id: USER_ID });
    if (nameOf(after) !== name) stale.push(`round ${round}: ${nameOf(after)} (${after.cache})`);
  }
  return { stale, nearHits };
}

/**
 * Read-your-writes across instances: once a write has answered on one instance, no instance
 * serves an older value, near copies included. Two gateway processes per topology, one
 * PostgreSQL; nothing else shared.
 */
(reachable ? describe : describe.skip)('read-your-writes across two gateway processes', () => {
  let schema: ScratchSchema;
  let db: Client;

  beforeAll(async () => {
    schema = await createScratchSchema();
    db = new Client({ connectionString: schema.url });
    await db.connect();
  }, 240_000);

  afterAll(async () => {
    await db?.end();
    await schema?.drop();
  });

  /** A and B on one Redis topology; the first migrates and seeds, the second finds the data. */
  async function pair(env: Record<string, string>): Promise<[GatewayProcess, GatewayProcess]> {
    const shared = { DATABASE_URL: schema.url, REDIS_TIMEOUT: '2', ...env };
    const a = await GatewayProcess.start(shared);
    const b = await GatewayProcess.start(shared);
    return [a, b];
  }

  /**
   * `nearShare`: the rounds whose third read must be a near copy. An instance keeps no near copy of
   * what an invalidation under way reaches until its writer says it is complete, and on a Cluster
   * that word reaches other nodes' subscribers late: some rounds right after a write read the
   * shared tier instead.
   */
  async function expectNoStaleReads(a: GatewayProcess, b: GatewayProcess, label: string, nearShare = 0.9): Promise<void> {
    const mutation = await rounds(a, b, db, WRITES['the updateUser mutation']!, ROUNDS, `${label} mutation`);
    expect(mutation.stale).toEqual([]);
    expect(mutation.nearHits).toBeGreaterThan(ROUNDS * nearShare);
    for (const [name, write] of Object.entries(WRITES).slice(1)) {
      const result = await rounds(a, b, db, write, 25, `${label} ${name}`);
      expect({ name, stale: result.stale }).toEqual({ name, stale: [] });
    }
  }

  it('holds on a single Redis', async () => {
    const redis = await RedisServer.start();
    const [a, b] = await pair({ REDIS_URL: redis.url, CACHE_KEY_PREFIX: 'ryw_single' });
    try {
      await expectNoStaleReads(a, b, 'single');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.stop();
    }
  }, 180_000);

  it('holds on a 3-master Redis Cluster, where a PUBLISH reaches other nodes\u2019 subscribers late', async () => {
    const cluster = await RedisCluster.start();
    const [a, b] = await pair({ REDIS_CLUSTER_NODES: cluster.seeds, CACHE_KEY_PREFIX: 'ryw_cluster' });
    try {
      await expectNoStaleReads(a, b, 'cluster', 0.7);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await cluster.stop();
    }
  }, 180_000);

  it('holds through Sentinel, before and right after a failover', async () => {
    const group = await RedisSentinelGroup.start();
    const [a, b] = await pair({
      REDIS_SENTINELS: group.sentinels,
      REDIS_SENTINEL_NAME: MASTER_NAME,
      REDIS_TIMEOUT: '1',
      REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
      REDIS_MAX_RECONNECT_DELAY_MS: '200',
      CACHE_KEY_PREFIX: 'ryw_sentinel',
    });
    try {
      await expectNoStaleReads(a, b, 'sentinel');
      await group.master.kill();
      await eventually(async () => (await group.masterPort()) === group.replica.port, 20_000, 'Sentinel promotes the replica');
      for (const instance of [a, b]) {
        await eventually(async () => (await instance.json<{ connection_healthy: boolean }>('/cache/health')).connection_healthy, 20_000, 'back on Redis');
      }
      await expectNoStaleReads(a, b, 'after failover');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await group.stop();
    }
  }, 240_000);
});

/**
 * One upstream price stream for the fleet (issue 17): two gateway processes with subscribers on
 * each, one fake OANDA stream that counts its connections, one Redis of the test's own (stopped
 * in the last case).
 */
(reachable ? describe : describe.skip)('one upstream price stream for two gateway processes', () => {
  let redis: RedisServer;
  let schema: ScratchSchema;
  let oanda: FakeOandaStream;
  let a: GatewayProcess;
  let b: GatewayProcess;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    [redis, schema, oanda] = await Promise.all([RedisServer.start(), createScratchSchema(), FakeOandaStream.start(100)]);
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: schema.url,
      REDIS_TIMEOUT: '1',
      CACHE_KEY_PREFIX: 'stream',
      MARKET_DATA_PROVIDER: 'oanda',
      OANDA_API_URL: oanda.url,
      OANDA_STREAM_URL: oanda.url,
      OANDA_API_TOKEN: 'fake-token',
      OANDA_ACCOUNT_ID: '101-001-1',
      MARKET_STREAM_HEARTBEAT_TIMEOUT_MS: '1500',
    };
    a = await GatewayProcess.start(env);
    b = await GatewayProcess.start(env);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(clients.map(async (client) => client.dispose()));
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([redis?.stop(), schema?.drop(), oanda?.close()]);
  });

  function ticksFrom(gateway: GatewayProcess, symbols: string[]): { symbol: string; bid: number; time: string }[] {
    const ticks: { symbol: string; bid: number; time: string }[] = [];
    const client = createWsClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(client);
    client.subscribe<{ prices: { symbol: string; bid: number; time: string } }>(
      { query: 'subscription($s: [String!]!) { prices(symbols: $s) { symbol bid time } }', variables: { s: symbols } },
      { next: ({ data }) => data && ticks.push(data.prices), error: () => undefined, complete: () => undefined },
    );
    return ticks;
  }

  const roleOf = async (gateway: GatewayProcess): Promise<string | undefined> => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    return /gateway_market_stream_role\{role="(\w+)"\} 1/.exec(text)?.[1];
  };

  it('holds one stream for the union of what both instances want, and every subscriber sees the same ticks', async () => {
    const onA = ticksFrom(a, ['EUR_USD']);
    const onB = ticksFrom(b, ['EUR_USD', 'GBP_USD']);
    await eventually(() => onA.length >= 5 && onB.filter((tick) => tick.symbol === 'GBP_USD').length >= 5, 20_000, 'ticks on both instances');
    // Steady state: exactly one stream open, watched for two seconds.
    oanda.resetPeak();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(oanda.peak).toBe(1);
    expect(oanda.streams).toBe(1);
    expect([await roleOf(a), await roleOf(b)].sort()).toEqual(['follower', 'leader']);
    // Relayed through Redis: the same EUR_USD ticks reach both instances' clients.
    const seenOnB = new Set(onB.filter((tick) => tick.symbol === 'EUR_USD').map((tick) => `${tick.time}/${tick.bid}`));
    const recentOnA = onA.slice(-5).map((tick) => `${tick.time}/${tick.bid}`);
    expect(recentOnA.filter((tick) => seenOnB.has(tick)).length).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('reopens a stream that falls silent (no tick, no heartbeat) within the heartbeat timeout', async () => {
    const opened = oanda.opened;
    oanda.silent = true;
    await eventually(() => oanda.opened > opened, 10_000, 'a new stream after silence');
    oanda.silent = false;
    expect(oanda.streams).toBe(1);
  }, 30_000);

  it('with Redis down, each instance streams for itself; once it is back, one stream again', async () => {
    const onA = ticksFrom(a, ['USD_JPY']);
    await eventually(() => onA.length > 0, 15_000, 'ticks before the outage');
    await redis.kill();
    await eventually(() => oanda.streams === 2, 20_000, 'a stream per instance while Redis is down');
    const during = onA.length;
    await eventually(() => onA.length > during + 3, 10_000, 'ticks during the outage');
    await redis.restart();
    await eventually(async () => oanda.streams === 1 && [await roleOf(a), await roleOf(b)].sort().join() === 'follower,leader', 30_000, 'one stream again after Redis is back');
  }, 90_000);

  it('replaces a leader that dies within 15 seconds', async () => {
    const [roleA, roleB] = [await roleOf(a), await roleOf(b)];
    const [leader, survivor] = roleA === 'leader' ? [a, b] : [b, a];
    expect([roleA, roleB]).toContain('leader');
    const onSurvivor = ticksFrom(survivor, ['AUD_USD']);
    await eventually(() => onSurvivor.length > 0, 15_000, 'ticks before the leader dies');
    await leader.kill();
    const killedAt = Date.now();
    const before = onSurvivor.length;
    await eventually(() => oanda.streams === 1 && onSurvivor.length > before + 2, 20_000, 'ticks from a new leader');
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(await roleOf(survivor)).toBe('leader');
  }, 60_000);
});
