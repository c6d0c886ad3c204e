import { type Cache, createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { ResponseCache } from '../../src/graphql/response-cache/response-cache';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { RedisServer } from '../helpers/redis-server';

const POLICY = { ttlSeconds: 60, scope: 'PUBLIC' as const, tags: new Set(['User:1', 'User']) };
const OPERATION = { query: '{ user(id: 1) { name } }', operationName: undefined, variables: undefined };

/** Two gateway instances' caches on one Redis: what one invalidates, the other never serves. */
describe('the response cache across instances', () => {
  let server: RedisServer;
  const caches: Cache[] = [];

  const instance = async (near: boolean) => {
    const config = loadConfig({ REDIS_URL: server.url, REDIS_TIMEOUT: '0.2', REDIS_HEALTH_CHECK_INTERVAL_MS: '100', LOG_LEVEL: 'silent', CACHE_KEY_PREFIX: 'rc_test' });
    const cache = createCache(config, createLogger(config));
    await cache.start();
    caches.push(cache);
    const responses = new ResponseCache(cache.service, cache.keys, { nearEnabled: near, nearMaxBytes: 1_000_000, nearMaxTtlSeconds: 30, schemaVersion: 'v1' });
    return { cache, responses };
  };

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await server.stop();
  });

  it('drops the near copy on every instance when one of them invalidates', async () => {
    const a = await instance(true);
    const b = await instance(true);
    const { publicKey, privateKey } = a.responses.keysFor(OPERATION, 'anonymous');
    await a.responses.store(publicKey, Buffer.from('{"data":{"user":{"name":"old"}}}'), POLICY, a.responses.epoch());
    expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('near');
    expect((await b.responses.lookup(publicKey, privateKey))?.tier).toBe('shared');
    expect((await b.responses.lookup(publicKey, privateKey))?.tier).toBe('near');
    await b.cache.invalidator.invalidateUserCache(1);
    await eventually(() => a.responses.metrics().near_entries === 0);
    expect(await a.responses.lookup(publicKey, privateKey)).toBeUndefined();
    expect(await b.responses.lookup(publicKey, privateKey)).toBeUndefined();
  });

  it('reads every hit from Redis when the near cache is off', async () => {
    const a = await instance(false);
    const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 2 } }, 'anonymous');
    await a.responses.store(publicKey, Buffer.from('{"data":{}}'), POLICY, a.responses.epoch());
    expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('shared');
    expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('shared');
  });

  it('does not store a response computed before an invalidation', async () => {
    const a = await instance(true);
    const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 3 } }, 'anonymous');
    const epoch = a.responses.epoch();
    await a.cache.invalidator.invalidateUserCache(1);
    expect(await a.responses.store(publicKey, Buffer.from('{"data":{"user":{"name":"old"}}}'), POLICY, epoch)).toBeUndefined();
    expect(await a.responses.lookup(publicKey, privateKey)).toBeUndefined();
  });

  it('treats a corrupt stored response as a miss', async () => {
    const a = await instance(false);
    const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 4 } }, 'anonymous');
    await a.cache.service.setRaw([{ key: publicKey, value: '{"e":1}\n{"data":{}}', ttlSeconds: 60 }]);
    expect(await a.responses.lookup(publicKey, privateKey)).toBeUndefined();
  });

  it('clears near copies when its subscriber reconnects (messages may have been lost)', async () => {
    const a = await instance(true);
    const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 5 } }, 'anonymous');
    await a.responses.store(publicKey, Buffer.from('{"data":{}}'), POLICY, a.responses.epoch());
    expect(a.responses.metrics().near_entries).toBeGreaterThan(0);
    await server.restart();
    await eventually(() => a.responses.metrics().near_entries === 0, 10_000);
    expect((await a.responses.lookup(publicKey, privateKey))?.tier).not.toBe('near');
  });
});
