import { buildGateway, GatewayProcess } from '../helpers/gateway-process';
import { createScratchSchema, postgresReachable, type ScratchSchema } from '../helpers/postgres';
import { RedisServer } from '../helpers/redis-server';
import { TEST_ADMIN_TOKEN } from '../helpers/test-gateway';

interface Metrics {
  readonly loads: number;
  readonly response_cache: { readonly executions: number; readonly fleet_coalesced: number; readonly near_hits: number };
}

const reachable = postgresReachable();
if (!reachable) console.warn('NOTICE: PostgreSQL is not reachable on TEST_DATABASE_URL; the two-process suite is skipped');

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
    buildGateway();
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
