import { randomBytes } from 'node:crypto';

import { RedisServer } from '../helpers/redis-server';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * What the gateway remembers about a text and an operation name before validating them (its cost,
 * a subscription's checked document) is keyed so that no request can pass for another: with a
 * separator between name and text, a client could send a name or a text holding it, and what it
 * got remembered (a parse failure, a cost of 1) would be what every later client of that
 * operation got.
 */
describe('texts and operation names remembered before validation', () => {
  let redis: RedisServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    redis = await RedisServer.start();
    gateway = await startTestGateway({
      REDIS_URL: redis.url,
      CACHE_KEY_PREFIX: `forged_${randomBytes(4).toString('hex')}`,
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_ANONYMOUS_COST_PER_MINUTE: '600',
      RATE_LIMIT_ANONYMOUS_BURST_COST: '60',
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
  });

  const post = async (body: unknown) => (await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;

  it('a heavy query keeps its cost after a text forged to share its key was refused (cost 91 each, burst 60)', async () => {
    const statuses: number[] = [];
    for (let limit = 31; limit < 41; limit += 1) {
      const heavy = `query Cheap { signals(symbol: "GBP_USD", limit: ${limit}) { id symbol direction } }`;
      // Does not parse: refused by Apollo (or the limit) and, before the fix, remembered as costing 1 under the heavy query's key.
      expect([400, 429]).toContain(await post({ query: `Cheap\u0000${heavy}` }));
      statuses.push(await post({ query: heavy, operationName: 'Cheap' }));
    }
    // Each spends more than the whole burst: one may pass with the budget full, the rest are refused.
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(1);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(9);
  });

  it("another client's text cannot make a valid named subscription fail for everyone", async () => {
    await new Promise((resolve) => setTimeout(resolve, 6_500)); // the anonymous burst refills (10 a second)
    const stream = async (body: unknown) => {
      const abort = new AbortController();
      const response = await fetch(`${gateway.url}/graphql/stream`, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json' }, body: JSON.stringify(body), signal: abort.signal });
      const text = response.status === 200 ? '' : await response.text();
      abort.abort();
      return { status: response.status, text };
    };
    // As codegen prints it: several lines. The forged request's name is the victim's name and
    // first line, its text the rest (which does not parse).
    const victim = 'subscription OnEvents {\n  signalEvents {\n    id\n    kind\n  }\n}';
    const [first, ...rest] = victim.split('\n');
    expect((await stream({ query: rest.join('\n'), operationName: `OnEvents\n${first!}` })).status).toBe(400);
    expect(await stream({ query: victim, operationName: 'OnEvents' })).toEqual({ status: 200, text: '' });
  }, 20_000);
});
