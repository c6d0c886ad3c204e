import calculateSlot from 'cluster-key-slot';

import { type Cache, createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { RedisCluster } from '../helpers/redis-cluster';
import type { RedisServer } from '../helpers/redis-server';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

const COMMAND_TIMEOUT_MS = 300;
/** What "within the command timeout" allows for scheduling on a shared 2-core machine. */
const SLACK_MS = 300;
/**
 * For the tests that do not time an outage: on a loaded machine a health check's PING can take
 * longer than 300 ms, and the cache then rightly reports itself degraded, which is not what they test.
 */
const RELAXED_TIMEOUT_MS = 3000;

/** The cache, and a whole gateway, on a real 3-master Redis Cluster started by the test. */
describe('the cache on a Redis Cluster', () => {
  let cluster: RedisCluster;
  const caches: Cache[] = [];

  const cacheOn = async (prefix: string, commandTimeoutMs = RELAXED_TIMEOUT_MS): Promise<Cache> => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: cluster.seeds,
      REDIS_TIMEOUT: String(commandTimeoutMs / 1000),
      REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
      REDIS_MAX_RECONNECT_DELAY_MS: '200',
      CACHE_KEY_PREFIX: prefix,
      LOG_LEVEL: 'silent',
    });
    const cache = createCache(config, createLogger(config));
    await cache.start();
    caches.push(cache);
    return cache;
  };

  const keysOnEveryMaster = async (pattern: string) => Promise.all(cluster.nodes.map((node) => cluster.keysOn(node, pattern)));

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  });

  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await cluster.stop();
  });

  it('reads and writes many keys across every master without CROSSSLOT errors', async () => {
    const cache = await cacheOn('multi');
    const keys = Array.from({ length: 120 }, (_, index) => cache.keys.user(index));
    await cache.service.mset(keys.map((key, index) => ({ key, value: { index }, ttlSeconds: 60 })));

    const spread = await keysOnEveryMaster('multi:*');
    expect(spread.map((onNode) => onNode.length > 0)).toEqual([true, true, true]);
    expect(spread.flat().sort()).toEqual([...keys].sort());
    expect(await cache.service.mget(keys)).toEqual(keys.map((_, index) => ({ index })));
    expect(cache.service.healthReport()).toMatchObject({ status: 'healthy', fallback_enabled: false });
    expect(cache.service.metricsReport().tiers.redis.errors).toBe(0);
  });

  it('invalidates by pattern on every master and by tag across slots', async () => {
    const cache = await cacheOn('inval');
    const users = Array.from({ length: 60 }, (_, index) => cache.keys.user(index, 'signals'));
    const signals = Array.from({ length: 60 }, (_, index) => cache.keys.signals('EUR_USD', index));
    await cache.service.mset([...users, ...signals].map((key) => ({ key, value: 1, ttlSeconds: 60 })));
    await cache.service.setRaw(signals.map((key, index) => ({ key: `${key}:raw`, value: 'x', ttlSeconds: 60, tags: [`Signal:${index % 3}`] })));

    expect(await cache.invalidator.invalidateSignalCache()).toBe(120);
    expect((await keysOnEveryMaster('inval:signals:*')).flat()).toEqual([]);
    expect((await keysOnEveryMaster('inval:users:*')).flat()).toHaveLength(60);

    await cache.service.setRaw(users.map((key, index) => ({ key: `${key}:raw`, value: 'x', ttlSeconds: 60, tags: [`User:${index % 2}`] })));
    expect(await cache.service.deleteTagged(['User:0', 'User:1'])).toBe(60);
    expect((await keysOnEveryMaster('inval:*:raw')).flat()).toEqual([]);
    expect((await keysOnEveryMaster('inval:tags:User:*')).flat()).toEqual([]);
  });

  it('keeps answering while a master is down, within the command timeout, and serves from Redis again once it is back', async () => {
    const cache = await cacheOn('outage', COMMAND_TIMEOUT_MS);
    const keys = Array.from({ length: 30 }, (_, index) => cache.keys.user(index));
    await cache.service.mset(keys.map((key) => ({ key, value: 'before', ttlSeconds: 60 })));
    const victim = cluster.nodes[1]!;

    // The second master was given the middle third of the slots by `redis-cli --cluster create`.
    let frozenKey = cache.keys.user('frozen');
    for (let n = 0; calculateSlot(frozenKey) < 5461 || calculateSlot(frozenKey) > 10922; n += 1) frozenKey = cache.keys.user(`frozen-${n}`);
    victim.freeze();
    const frozenStarted = performance.now();
    const duringFreeze = await cache.service.getOrSet(frozenKey, () => Promise.resolve('loaded'), 60);
    expect(duringFreeze).toBe('loaded');
    expect(performance.now() - frozenStarted).toBeLessThan(2 * COMMAND_TIMEOUT_MS + SLACK_MS);
    victim.thaw();
    await eventually(() => cache.service.healthReport().connection_healthy, 10_000, 'back on Redis after the freeze');

    await victim.kill();
    const invalidated = cache.keys.user(7);
    // An invalidation made while a master is down must hold once it is back, whichever master holds the key.
    await cache.invalidator.invalidateUserCache(7);
    expect(await cache.service.mget(keys)).toHaveLength(30);
    expect(cache.service.healthReport().connection_healthy).toBe(false);

    await victim.restart();
    await cluster.waitUntilHealthy();
    const recoveredMs = await eventually(() => cache.service.healthReport().connection_healthy, 15_000, 'back on Redis after the restart');
    expect(recoveredMs).toBeLessThan(15_000);
    expect(cache.service.healthReport()).toMatchObject({ status: 'healthy', pending_invalidations: 0 });
    expect(await cache.service.get(invalidated)).toBeUndefined();
    await cache.service.set(cache.keys.user('after'), 'written', 60);
    expect(await cache.service.get(cache.keys.user('after'))).toBe('written');
  });

  /**
   * A master that crashes and comes back from its last snapshot (RDB persistence, or a replica
   * behind it promoted) has lost what it acknowledged since: an invalidation made just before the
   * crash is undone there, and the old value is back. The cluster client hides its nodes'
   * connections, so every outage counts as one that may have lost writes.
   */
  describe('an invalidation a master acknowledged and then lost in a crash', () => {
    /** `key` cached, on the master that holds it and in that master's snapshot; then invalidated on that master alone. */
    const invalidatedAfterTheSnapshot = async (writer: Cache, id: number) => {
      const key = writer.keys.user(id);
      await writer.service.set(key, 'before the change', 60);
      const holders = (await Promise.all(cluster.nodes.map(async (node) => ((await node.cli('EXISTS', key)) === '1' ? node : undefined)))).filter((node) => node !== undefined);
      expect(holders).toHaveLength(1);
      const holder = holders[0]!;
      expect(await holder.cli('SAVE')).toBe('OK');
      await writer.invalidator.invalidateUserCache(id);
      expect(await holder.cli('EXISTS', key)).toBe('0');
      return { key, holder };
    };

    /** Killed (nothing saved), restarted from the snapshot: the invalidated value is back on the node until the cache replays. */
    const crashAndRestart = async (holder: RedisServer, cache: Cache) => {
      await holder.kill();
      await eventually(() => !cache.service.healthReport().connection_healthy, 5_000, 'the crash noticed');
      await holder.restart();
      await cluster.waitUntilHealthy();
      await eventually(() => cache.service.healthReport().connection_healthy, 15_000, 'back on Redis');
      expect(cache.service.healthReport()).toMatchObject({ status: 'healthy', pending_invalidations: 0 });
    };

    it('is replayed on the restarted master by the instance that made it', async () => {
      const cache = await cacheOn('lost-own');
      const { key, holder } = await invalidatedAfterTheSnapshot(cache, 11);
      await crashAndRestart(holder, cache);
      expect(await cache.service.get(key)).toBeUndefined();
      expect(await holder.cli('EXISTS', key)).toBe('0');
    });

    it('is replayed by another instance that heard of it, when the one that made it is gone', async () => {
      const writer = await cacheOn('lost-heard');
      const reader = await cacheOn('lost-heard');
      const { key, holder } = await invalidatedAfterTheSnapshot(writer, 12);
      caches.splice(caches.indexOf(writer), 1);
      await writer.close();
      await crashAndRestart(holder, reader);
      expect(await reader.service.get(key)).toBeUndefined();
      expect(await holder.cli('EXISTS', key)).toBe('0');
    });
  });

  describe('behind a whole gateway', () => {
    let gateway: TestGateway;

    beforeAll(async () => {
      gateway = await startTestGateway({ REDIS_CLUSTER_NODES: cluster.seeds });
    });

    afterAll(async () => {
      await gateway.close();
    });

    it('serves 50 signals from the cluster, then from the response cache, and shows an update at once', async () => {
      const query = '{ signals(symbol: "GBP_JPY", limit: 50) { id user { id displayName } currentPrice { bid ask } } }';
      const cold = await gateway.graphql<{ signals: { user: { id: string; displayName: string } }[] }>(query);
      expect(cold.errors).toBeUndefined();
      expect(cold.data?.signals).toHaveLength(50);
      const callsAfterCold = gateway.dataSourceCalls();
      const response = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      expect(response.headers.get('x-cache')).toMatch(/^HIT/);
      expect(gateway.dataSourceCalls()).toBe(callsAfterCold);

      const author = cold.data!.signals[0]!.user.id;
      await gateway.graphql(`mutation { updateUser(id: ${author}, input: { displayName: "Renamed on the cluster" }) { id } }`, undefined, TEST_ADMIN_TOKEN);
      const after = await gateway.graphql<{ signals: { user: { id: string; displayName: string } }[] }>(query);
      expect(after.data?.signals.filter((signal) => signal.user.id === author).map((signal) => signal.user.displayName)).toEqual(
        cold.data!.signals.filter((signal) => signal.user.id === author).map(() => 'Renamed on the cluster'),
      );

      const metrics = (await (await fetch(`${gateway.url}/cache/metrics`)).json()) as { connection_healthy: boolean; tiers: { redis: { errors: number } } };
      expect(metrics).toMatchObject({ connection_healthy: true, tiers: { redis: { errors: 0 } } });
    });
  });
});
