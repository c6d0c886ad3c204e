import { Redis } from 'ioredis';

import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

/** One series of `gateway_cache_lookups_total` from the Prometheus text, 0 when absent. */
function lookups(metrics: string, family: string, result: 'hit' | 'miss'): number {
  const line = new RegExp(`^gateway_cache_lookups_total\\{family="${family}",result="${result}"\\} (\\d+)`, 'm').exec(metrics);
  return Number(line?.[1] ?? 0);
}

describe('the gateway with CACHE_ENABLED=false and RESPONSE_CACHE_ENABLED=false', () => {
  let gw: TestGateway;
  let redis: Redis;

  beforeAll(async () => {
    gw = await startTestGateway({ CACHE_ENABLED: 'false', RESPONSE_CACHE_ENABLED: 'false' });
    redis = new Redis('redis://127.0.0.1:6379');
  }, 60_000);

  afterAll(async () => {
    redis.disconnect();
    await gw.close();
  });

  const metrics = async () => (await fetch(`${gw.url}/metrics`)).text();

  it('sends every read to the database and the provider, however often it is repeated', async () => {
    const query = '{ user(id: 7) { username statistics { totalSignals } } price(symbol: "EUR_USD") { bid } }';
    const first = await gw.graphql(query);
    expect(first.errors).toBeUndefined();
    const usersQueries = () => gw.gateway.db.queryCounts().byLabel['users.findByIds'] ?? 0;
    const before = { users: usersQueries(), upstream: gw.gateway.upstream.requests };
    const second = await gw.graphql<{ user: unknown; price: { bid: number } }>(query);
    // The same user; the simulated quote moves every second, so only its presence is compared.
    expect(second.errors).toBeUndefined();
    expect(second.data?.user).toEqual((first.data as { user: unknown }).user);
    expect(second.data?.price.bid).toEqual(expect.any(Number));
    expect(usersQueries() - before.users).toBe(1);
    expect(gw.gateway.upstream.requests - before.upstream).toBe(1);
  });

  it('writes nothing to Redis and counts every lookup as a miss, by kind of data', async () => {
    const prefix = gw.gateway.cache.keys.prefix;
    await gw.graphql('{ user(id: 8) { username } }');
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    const text = await metrics();
    expect(lookups(text, 'users', 'miss')).toBeGreaterThanOrEqual(3);
    expect(lookups(text, 'market', 'miss')).toBeGreaterThanOrEqual(2);
    expect(lookups(text, 'users', 'hit') + lookups(text, 'market', 'hit') + lookups(text, 'signals', 'hit')).toBe(0);
  });

  it('is still ready: Redis carries health checks and the invalidation bus', async () => {
    const ready = await fetch(`${gw.url}/health/ready`);
    expect(ready.status).toBe(200);
  });
});
