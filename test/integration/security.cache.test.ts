import { Redis } from 'ioredis';

import { TEST_ADMIN_TOKEN, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Attacks on the response cache itself: growing Redis without bound with requests that mean the
 * same, and reading data older than a write that has already answered.
 */
describe('attacks on the response cache', () => {
  let gw: TestGateway;
  let redis: Redis;

  beforeAll(async () => {
    // Every quote costs 400 ms upstream: a query with a price is slow enough to overlap a write.
    gw = await startTestGateway({ MARKET_SIM_LATENCY_MS: '400' });
    redis = new Redis('redis://127.0.0.1:6379');
  }, 60_000);

  afterAll(async () => {
    redis.disconnect();
    await gw.close();
  });

  const responseKeys = async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', gw.gateway.cache.keys.graphqlResponsesPattern(), 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found;
  };

  it('keeps one entry for requests that differ only in comments, spacing, unused variables or key order', async () => {
    const before = (await responseKeys()).length;
    for (let n = 0; n < 60; n += 1) {
      const query = `# request ${n}\nquery Profile($id: Int!, $fields: Boolean = true) {${' '.repeat(n % 7)} user(id: $id) { id displayName @include(if: $fields) } }`;
      const variables = n % 2 === 0 ? { id: 3, fields: true, [`unused${n}`]: 'x'.repeat(200) } : { fields: true, id: 3 };
      const result = await gw.graphql(query, variables);
      expect(result.errors).toBeUndefined();
    }
    expect((await responseKeys()).length - before).toBe(1);
    expect(gw.gateway.responseCache!.metrics().executions).toBeLessThanOrEqual(1);
  });

  it('still keys variables the operation declares apart', async () => {
    const query = 'query Profile($id: Int!) { user(id: $id) { id } }';
    const [one, two] = [await gw.graphql<{ user: { id: number } }>(query, { id: 4 }), await gw.graphql<{ user: { id: number } }>(query, { id: 5 })];
    expect([one.data?.user.id, two.data?.user.id]).toEqual([4, 5]);
  });

  it('prunes tag-set members whose entries expired long ago when the tag is written again', async () => {
    const tagSet = gw.gateway.cache.keys.tagSet('User:8');
    await redis.zadd(tagSet, Date.now() - 3_600_000, 'long-gone-response');
    await gw.graphql('{ user(id: 8) { id } }');
    const members = await redis.zrange(tagSet, '0', '-1');
    expect(members).not.toContain('long-gone-response');
    expect(members.length).toBeGreaterThan(0);
  });

  it('never answers a read sent after a write from an execution that started before it', async () => {
    const query = '{ user(id: 6) { displayName } price(symbol: "EUR_USD") { bid } }';
    const early = gw.graphql<{ user: { displayName: string } }>(query);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const update = await gw.graphql('mutation { updateUser(id: 6, input: { displayName: "Written while a read ran" }) { id } }', undefined, TEST_ADMIN_TOKEN);
    expect(update.errors).toBeUndefined();
    const late = await gw.graphql<{ user: { displayName: string } }>(query);
    expect(late.data?.user.displayName).toBe('Written while a read ran');
    // The early read may show either name, but what it read must not be stored for later readers.
    await early;
    expect((await gw.graphql<{ user: { displayName: string } }>(query)).data?.user.displayName).toBe('Written while a read ran');
  });
});
