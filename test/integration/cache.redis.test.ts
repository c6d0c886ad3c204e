import { Redis } from 'ioredis';

import { CacheApiResponse, CacheDatabaseQuery, CacheMarketData, CacheUserData, type CachingHost } from '../../src/cache/cache-decorators';
import type { CacheKeys } from '../../src/cache/cache-keys';
import type { CacheService } from '../../src/cache/cache.service';
import { type Cache, createCache } from '../../src/cache/create-cache';
import type { RedisPool } from '../../src/cache/redis-pool';
import { RedisTier } from '../../src/cache/redis-tier';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { RedisServer } from '../helpers/redis-server';

const COMMAND_TIMEOUT_MS = 200;
/** What "within the command timeout" allows for scheduling on a shared 2-core machine. */
const SLACK_MS = 150;

function cacheFor(server: RedisServer, env: Record<string, string> = {}): Cache {
  const config = loadConfig({
    REDIS_URL: server.url,
    REDIS_TIMEOUT: String(COMMAND_TIMEOUT_MS / 1000),
    REDIS_POOL_SIZE: '2',
    REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
    REDIS_MAX_RECONNECT_DELAY_MS: '200',
    LOG_LEVEL: 'silent',
    ...env,
  });
  return createCache(config, createLogger(config));
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe('the two-tier cache on a real Redis', () => {
  let server: RedisServer;
  let cache: Cache;
  let redis: Redis;
  let service: CacheService;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
  });

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  beforeEach(async () => {
    // A private server: flushing it between tests is fine (the product itself never flushes).
    await redis.flushdb();
    cache = cacheFor(server);
    await cache.start();
    service = cache.service;
  });

  afterEach(() => cache.close());

  describe('when Redis is healthy', () => {
    it('stores values in Redis under the prefix, with dates intact and a TTL on every entry', async () => {
      const key = cache.keys.user(42);
      const user = { id: 42, name: 'Ada', createdAt: new Date('2026-01-02T03:04:05.678Z') };
      await service.set(key, user, 60);
      expect(await service.get(key)).toEqual(user);
      expect(key).toBe('ai_trading:users:42');
      expect(await redis.ttl(key)).toBeGreaterThan(55);
      expect(await service.exists(key)).toBe(true);
      expect(await service.ttlOf(key)).toBeGreaterThan(55);
      expect(await service.ttlOf('ai_trading:absent')).toBeUndefined();
      expect(service.healthReport()).toMatchObject({ status: 'healthy', connection_healthy: true, fallback_enabled: false });
    });

    it('lets entries expire after their TTL', async () => {
      await service.set('ai_trading:test:short', 'soon gone', 1);
      expect(await service.get('ai_trading:test:short')).toBe('soon gone');
      await eventually(async () => (await service.get('ai_trading:test:short')) === undefined, 3_000);
    });

    it('reads and writes many keys in one round trip each', async () => {
      await redis.config('RESETSTAT');
      const keys = Array.from({ length: 50 }, (_, i) => `ai_trading:test:batch:${i}`);
      await service.mset(keys.map((key, i) => ({ key, value: { i }, ttlSeconds: 60 })));
      const values = await service.mget<{ i: number }>([...keys, 'ai_trading:test:batch:missing']);
      expect(values.slice(0, 50).map((v) => v?.i)).toEqual(keys.map((_, i) => i));
      expect(values[50]).toBeUndefined();
      const stats = await redis.info('commandstats');
      expect(stats).toMatch(/cmdstat_mget:calls=1,/);
      expect(stats).not.toMatch(/cmdstat_get:/);
    });

    it('loads a cold key once for 100 concurrent callers (single flight)', async () => {
      let loads = 0;
      const load = async () => {
        loads += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { price: 1.0842 };
      };
      const results = await Promise.all(Array.from({ length: 100 }, () => service.getOrSet('ai_trading:market:EUR_USD:price', load, 60)));
      expect(loads).toBe(1);
      expect(results.every((r) => r.price === 1.0842)).toBe(true);
      expect(await service.getOrSet('ai_trading:market:EUR_USD:price', load, 60)).toEqual({ price: 1.0842 });
      expect(loads).toBe(1);
      expect(service.metricsReport()).toMatchObject({ loads: 1, coalesced: 99 });
    });

    it('answers a miss before its write lands, and keeps the lease until it has', async () => {
      // The write is held for a while below: a command timeout that outlasts the hold.
      const patient = cacheFor(server, { REDIS_TIMEOUT: '4' });
      await patient.start();
      try {
        const key = patient.keys.user(21);
        const value = await patient.service.getOrSet(
          key,
          async () => {
            // From here the server holds every write (and serves reads) until the pause ends.
            await redis.call('CLIENT', 'PAUSE', '1500', 'WRITE');
            return { id: 21 };
          },
          60,
        );
        expect(value).toEqual({ id: 21 });
        expect(await redis.exists(key)).toBe(0);
        expect(await redis.exists(patient.keys.flightLease(key))).toBe(1);
        await redis.call('CLIENT', 'UNPAUSE');
        await eventually(async () => (await redis.exists(key)) === 1 && (await redis.exists(patient.keys.flightLease(key))) === 0, 2_000, 'stored, then the lease released');
        expect(await patient.service.get(key)).toEqual({ id: 21 });
      } finally {
        await redis.call('CLIENT', 'UNPAUSE');
        await patient.close();
      }
    });

    it('does not cache a load that an invalidation overtook', async () => {
      let release!: () => void;
      const slowLoad = service.getOrSet('ai_trading:users:7', () => new Promise<string>((resolve) => (release = () => resolve('before update'))), 60);
      await eventually(() => release !== undefined);
      await cache.invalidator.invalidateUserCache(7);
      release();
      expect(await slowLoad).toBe('before update');
      expect(await redis.exists('ai_trading:users:7')).toBe(0);
    });

    it('treats a corrupt value as a counted miss and removes it', async () => {
      await redis.set('ai_trading:users:13', '{"id": 13, truncated', 'EX', 60);
      expect(await service.get('ai_trading:users:13')).toBeUndefined();
      expect(service.metricsReport().corrupt_values).toBe(1);
      await eventually(async () => (await redis.exists('ai_trading:users:13')) === 0);
      expect(await service.getOrSet('ai_trading:users:13', () => Promise.resolve({ id: 13 }), 60)).toEqual({ id: 13 });
    });
  });

  describe('invalidation', () => {
    beforeEach(async () => {
      const seed = ['users:1', 'users:1:statistics', 'users:10', 'users:10:statistics', 'signals:EUR_USD:latest', 'signals:EUR_USD:H1', 'signals:GBP_USD:latest', 'market:EUR_USD:H1', 'market:GBP_USD:price'];
      await service.mset(seed.map((key) => ({ key: `ai_trading:${key}`, value: key, ttlSeconds: 60 })));
      await redis.set('other_app:users:1', 'not ours');
    });

    // Entries only: the tag sets that group them (ai_trading:tags:…) are bookkeeping.
    const remaining = async () =>
      (await redis.keys('ai_trading:*'))
        .map((key) => key.slice('ai_trading:'.length))
        .filter((key) => !key.startsWith('tags:'))
        .sort();

    it('removes one user and their derived entries, not users whose id starts the same', async () => {
      expect(await cache.invalidator.invalidateUserCache(1)).toBe(2);
      expect(await remaining()).toEqual(['market:EUR_USD:H1', 'market:GBP_USD:price', 'signals:EUR_USD:H1', 'signals:EUR_USD:latest', 'signals:GBP_USD:latest', 'users:10', 'users:10:statistics']);
    });

    it('removes what one write changed without scanning the keyspace: with 20,000 keys of another application on the server, no SCAN', async () => {
      await redis.eval("for i=1,20000 do redis.call('SET','other_app:junk:'..i,'x') end", 0);
      await service.mset([{ key: 'ai_trading:signals:all:list:abc', value: 'feed', ttlSeconds: 60 }]);
      await redis.config('RESETSTAT');
      expect(await cache.invalidator.invalidateSignalWrite({ id: 3, symbol: 'EUR_USD', userId: 1 }, [])).toBe(4);
      expect(await cache.invalidator.invalidateUserCache(10)).toBe(2);
      expect(await cache.invalidator.invalidateMarketCache('GBP_USD')).toBe(1);
      expect(await redis.info('commandstats')).not.toMatch(/cmdstat_(scan|keys):/);
      expect(await remaining()).toEqual(['market:EUR_USD:H1', 'signals:GBP_USD:latest', 'users:1']);
      expect(await redis.dbsize()).toBeGreaterThan(20_000);
    });

    it('removes one instrument’s signals, or all signals', async () => {
      expect(await cache.invalidator.invalidateSignalCache('EUR_USD')).toBe(2);
      expect(await cache.invalidator.invalidateSignalCache()).toBe(1);
      expect((await remaining()).filter((key) => key.startsWith('signals:'))).toEqual([]);
    });

    it('removes one instrument’s market data, or all of it', async () => {
      expect(await cache.invalidator.invalidateMarketCache('GBP_USD')).toBe(1);
      expect(await cache.invalidator.invalidateMarketCache()).toBe(1);
    });

    it.each([['*'], ['EUR_USD*'], ['?UR_USD'], ['[EG]UR_USD'], ['EUR_USD\\']])('never widens a pattern from input %p', async (input) => {
      expect(await cache.invalidator.invalidateSignalCache(input)).toBe(0);
      expect(await cache.invalidator.invalidateMarketCache(input)).toBe(0);
      expect(await cache.invalidator.invalidateUserCache(input)).toBe(0);
      expect(await remaining()).toHaveLength(9);
    });

    it('confines operator patterns and "all" to the prefix, without KEYS or FLUSH', async () => {
      expect(await cache.invalidator.invalidatePattern('signals:*:latest')).toBe(2);
      const lease = await cache.leases.tryAcquire(cache.keys.lease('warming'), 60_000);
      await redis.config('RESETSTAT');
      // The 7 entries. The 6 tag sets that group them by user, instrument and market are an index,
      // not entries: they stay (expiring with their members), so that an entry written while the
      // scan runs stays listed under its tags.
      expect(await cache.invalidator.invalidateAllCache()).toBe(7);
      expect(await redis.exists(cache.keys.tagSet('keys:users:1'))).toBe(1);
      expect(await redis.get('other_app:users:1')).toBe('not ours');
      // A lease another instance may be waiting on survives even "all".
      expect(await redis.exists(cache.keys.lease('warming'))).toBe(1);
      await lease?.release();
      expect(await redis.exists(cache.keys.lease('warming'))).toBe(0);
      const stats = await redis.info('commandstats');
      expect(stats).toMatch(/cmdstat_scan:/);
      expect(stats).not.toMatch(/cmdstat_(keys|flushdb|flushall):/);
    });
  });

  it('keeps an entry written while its tag is being invalidated listed under the tag, so that the next invalidation finds it', async () => {
    // The tier's client, with a write by someone else landing right after the tag set is read.
    const client = new Redis(server.url);
    let meanwhile: (() => Promise<unknown>) | undefined;
    const interposed = new Proxy(client, {
      get(target, name) {
        const value: unknown = Reflect.get(target, name, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => Promise<unknown>;
        if (name !== 'zrange') return method.bind(target);
        return async (...args: unknown[]) => {
          const members = await method.apply(target, args);
          const write = meanwhile;
          meanwhile = undefined;
          await write?.();
          return members;
        };
      },
    });
    const tier = new RedisTier({ pick: () => interposed, cluster: false } as unknown as RedisPool, (tag) => `race:tags:${tag}`);
    try {
      await tier.mset([{ key: 'race:before', value: 'old', ttlSeconds: 60, tags: ['T'] }]);
      meanwhile = () => tier.mset([{ key: 'race:after', value: 'new', ttlSeconds: 60, tags: ['T'] }]);

      expect(await tier.deleteTagged(['T'])).toBe(1);
      expect(await redis.get('race:after')).toBe('new');
      expect(await tier.deleteTagged(['T'])).toBe(1);
      expect(await redis.get('race:after')).toBeNull();
    } finally {
      client.disconnect();
    }
  });

  describe('decorators', () => {
    class MarketFeed implements CachingHost {
      calls = 0;
      constructor(
        readonly cache: CacheService,
        readonly cacheKeys: CacheKeys,
      ) {}

      @CacheUserData({ ttl: 120 })
      async userById(id: number) {
        this.calls += 1;
        return Promise.resolve({ id });
      }

      @CacheUserData({ facet: 'statistics' })
      async statistics(id: number) {
        this.calls += 1;
        return Promise.resolve({ id, total: 3 });
      }

      @CacheDatabaseQuery({ ttl: 600 })
      async topSymbols(limit: number) {
        this.calls += 1;
        return Promise.resolve(['EUR_USD', 'GBP_USD'].slice(0, limit));
      }

      @CacheApiResponse({ ttl: 60, ignoreParams: ['timestamp'] })
      async currentPrice(symbol: string, timestamp?: Date) {
        this.calls += 1;
        return Promise.resolve({ symbol, at: timestamp?.toISOString() ?? null });
      }

      @CacheMarketData()
      async candles(symbol: string, timeframe: string) {
        this.calls += 1;
        return Promise.resolve([{ symbol, timeframe }]);
      }
    }

    it('cache each kind of method under the seed key layout with its TTL', async () => {
      const feed = new MarketFeed(service, cache.keys);
      await feed.userById(5);
      await feed.userById(5);
      await feed.statistics(5);
      await feed.topSymbols(1);
      await feed.topSymbols(1);
      await feed.topSymbols(2);
      await feed.candles('EUR_USD', 'H1');
      await feed.candles('EUR_USD', 'H1');
      expect(feed.calls).toBe(5);
      // A miss answers before its value has landed in Redis.
      await service.writesLanded();
      expect(await redis.ttl('ai_trading:users:5')).toBeGreaterThan(115);
      expect(await redis.ttl('ai_trading:users:5:statistics')).toBeGreaterThan(3500);
      expect(await redis.ttl('ai_trading:market:EUR_USD:H1')).toBeGreaterThan(290);
      expect(await redis.keys('ai_trading:api:db.MarketFeed.topSymbols:*')).toHaveLength(2);
    });

    it('ignore the parameters they are told to ignore', async () => {
      const feed = new MarketFeed(service, cache.keys);
      const first = await feed.currentPrice('EUR_USD', new Date('2026-01-01T00:00:00Z'));
      const second = await feed.currentPrice('EUR_USD', new Date('2026-06-01T00:00:00Z'));
      await feed.currentPrice('GBP_USD', new Date());
      expect(second).toEqual(first);
      expect(feed.calls).toBe(2);
      await service.writesLanded();
      expect(await redis.keys('ai_trading:api:MarketFeed.currentPrice:*')).toHaveLength(2);
    });
  });
});

describe('the two-tier cache when Redis fails', () => {
  let server: RedisServer;
  let cache: Cache;
  let redis: Redis;

  beforeEach(async () => {
    server = await RedisServer.start({ persistent: true });
    redis = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    cache = cacheFor(server);
    await cache.start();
  });

  afterEach(async () => {
    await cache.close();
    redis.disconnect();
    await server.stop();
  });

  it('answers from the memory tier within the command timeout when Redis is killed', async () => {
    await cache.service.set('ai_trading:users:1', { name: 'before' }, 60);
    await server.kill();
    const { value, ms } = await timed(() => cache.service.get('ai_trading:users:1'));
    expect(value).toBeUndefined();
    expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
    expect(await cache.service.getOrSet('ai_trading:users:1', () => Promise.resolve({ name: 'from the database' }), 60)).toEqual({ name: 'from the database' });
    expect(await cache.service.get('ai_trading:users:1')).toEqual({ name: 'from the database' });
    // (Whether a command failed first, and counted an error, depends on whether the cut connection was noticed before it.)
    expect(cache.service.healthReport()).toMatchObject({ status: 'degraded', connection_healthy: false, fallback_enabled: true });
  });

  it('never waits longer than the command timeout when Redis is frozen', async () => {
    await cache.service.set('ai_trading:users:2', 'cached', 60);
    server.freeze();
    const calls = await Promise.all([
      timed(() => cache.service.get('ai_trading:users:2')),
      timed(() => cache.service.mget(['ai_trading:users:2', 'ai_trading:users:3'])),
      timed(() => cache.service.set('ai_trading:users:4', 'x', 60)),
      timed(() => cache.service.getOrSet('ai_trading:users:5', () => Promise.resolve('loaded'), 60)),
      timed(() => cache.invalidator.invalidateUserCache(2)),
    ]);
    for (const call of calls) expect(call.ms).toBeLessThan(COMMAND_TIMEOUT_MS * 2 + SLACK_MS);
    // Once the switch happened, calls do not touch Redis at all.
    await cache.service.set('ai_trading:users:6', 'in memory', 60);
    const after = await timed(() => cache.service.get('ai_trading:users:6'));
    expect(after.value).toBe('in memory');
    expect(after.ms).toBeLessThan(20);
    expect(cache.service.healthReport().fallback_enabled).toBe(true);
  });

  it('goes back to Redis by itself after a restart, leaving the memory tier behind', async () => {
    await server.kill();
    await cache.service.get('ai_trading:users:1');
    await cache.service.set('ai_trading:users:1', 'written during the outage', 60);
    await server.restart();
    const recoveryMs = await eventually(() => cache.service.healthReport().connection_healthy);
    expect(recoveryMs).toBeLessThan(5_000);
    expect(cache.service.healthReport()).toMatchObject({ status: 'healthy', fallback_enabled: false, pending_invalidations: 0 });
    // The memory tier's copy may be stale: it is not served after the switch back.
    expect(await cache.service.get('ai_trading:users:1')).toBeUndefined();
    await cache.service.set('ai_trading:users:1', 'on redis', 60);
    expect(await redis.get('ai_trading:users:1')).toBe('"on redis"');
  });

  it('uses a Redis that keeps its data across a crash, as production does (so the next case is meaningful)', async () => {
    await redis.set('ai_trading:probe', 'kept', 'EX', 60);
    await server.restart();
    await eventually(async () => (await redis.get('ai_trading:probe').catch(() => null)) === 'kept');
  });

  it('applies an invalidation made during the outage before Redis serves again (restart with persisted data)', async () => {
    await cache.service.set('ai_trading:users:9', { name: 'old name' }, 600);
    await cache.service.set('ai_trading:signals:EUR_USD:latest', ['old list'], 600);
    await server.kill();
    await cache.service.get('ai_trading:users:9');
    expect(await cache.invalidator.invalidateUserCache(9)).toBe(0);
    expect(await cache.invalidator.invalidateSignalCache('EUR_USD')).toBe(0);
    // Each call journals its key, pattern and tag removals as one invalidation.
    expect(cache.service.healthReport().pending_invalidations).toBe(2);
    await server.restart();
    // The restarted server reloads the old values from disk; the cache must never read them.
    let served: unknown;
    await eventually(async () => {
      served ??= await cache.service.get('ai_trading:users:9');
      return cache.service.healthReport().connection_healthy;
    });
    expect(served).toBeUndefined();
    expect(await cache.service.get('ai_trading:users:9')).toBeUndefined();
    expect(await cache.service.get('ai_trading:signals:EUR_USD:latest')).toBeUndefined();
    expect(await redis.exists('ai_trading:users:9', 'ai_trading:signals:EUR_USD:latest')).toBe(0);
  });

  it('applies an invalidation made while Redis was frozen once it thaws', async () => {
    await cache.service.set('ai_trading:users:11', 'old', 600);
    server.freeze();
    await cache.invalidator.invalidateUserCache(11);
    expect(cache.service.healthReport().fallback_enabled).toBe(true);
    server.thaw();
    await eventually(() => cache.service.healthReport().connection_healthy);
    expect(await cache.service.get('ai_trading:users:11')).toBeUndefined();
    expect(await redis.exists('ai_trading:users:11')).toBe(0);
  });

  it('starts on the memory tier when Redis is unreachable, and switches to Redis when it appears', async () => {
    await server.kill();
    const late = cacheFor(server);
    const { ms } = await timed(() => late.start());
    try {
      expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS * 3 + SLACK_MS);
      expect(late.service.healthReport().fallback_enabled).toBe(true);
      expect(await late.service.getOrSet('ai_trading:users:1', () => Promise.resolve('ok'), 60)).toBe('ok');
      await server.restart();
      await eventually(() => late.service.healthReport().connection_healthy);
    } finally {
      await late.close();
    }
  });
});
