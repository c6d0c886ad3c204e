import { type Cache, createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { MASTER_NAME, RedisSentinelGroup } from '../helpers/redis-sentinel';

/** The cache on a master found through Sentinel: it follows a failover by itself. */
describe('the cache through Redis Sentinel', () => {
  let group: RedisSentinelGroup;
  let cache: Cache;

  beforeAll(async () => {
    group = await RedisSentinelGroup.start();
    const config = loadConfig({
      REDIS_SENTINELS: group.sentinels,
      REDIS_SENTINEL_NAME: MASTER_NAME,
      // Long enough that a busy CI machine does not fake an outage; the outage here is a killed master.
      REDIS_TIMEOUT: '1',
      REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
      REDIS_MAX_RECONNECT_DELAY_MS: '200',
      CACHE_KEY_PREFIX: 'sentinel',
      LOG_LEVEL: 'silent',
    });
    cache = createCache(config, createLogger(config));
    await cache.start();
  });

  let closed = false;
  afterAll(async () => {
    if (!closed) await cache.close();
    await group.stop();
  });

  it('writes to the master Sentinel names, and the replica receives it', async () => {
    await cache.service.set(cache.keys.user(1), { name: 'on the master' }, 60);
    expect(await group.get(group.master, 'sentinel:users:1')).toContain('on the master');
    await eventually(async () => (await group.get(group.replica, 'sentinel:users:1')).includes('on the master'), 5_000, 'replicated');
    expect(cache.service.healthReport()).toMatchObject({ status: 'healthy', connection_healthy: true });
  });

  it('keeps answering when the master dies, follows the promoted replica, and honours an invalidation made meanwhile', async () => {
    await cache.service.set(cache.keys.user(2), 'before the failover', 60);
    await eventually(async () => (await group.get(group.replica, 'sentinel:users:2')).includes('before the failover'), 5_000, 'replicated');

    await group.master.kill();
    expect(await cache.service.getOrSet(cache.keys.user(3), () => Promise.resolve('loaded during the outage'), 60)).toBe('loaded during the outage');
    await cache.invalidator.invalidateUserCache(2);

    await eventually(async () => (await group.masterPort()) === group.replica.port, 20_000, 'Sentinel promotes the replica');
    const recoveredMs = await eventually(() => cache.service.healthReport().connection_healthy, 15_000, 'back on Redis');
    expect(recoveredMs).toBeLessThan(15_000);
    expect(cache.service.healthReport()).toMatchObject({ status: 'healthy', pending_invalidations: 0 });
    // The promoted replica held the old value: the journal replay removed it there.
    expect(await group.get(group.replica, 'sentinel:users:2')).toBe('');
    expect(await cache.service.get(cache.keys.user(2))).toBeUndefined();

    // New writes land on the promoted replica (retried: on a loaded machine one command may time out and fall back to memory).
    await eventually(async () => {
      await cache.service.set(cache.keys.user(4), 'after the failover', 60);
      return (await group.get(group.replica, 'sentinel:users:4')).includes('after the failover');
    }, 10_000, 'a write on the new master');
  });

  it('closes every connection it opened, its failover detector’s to the sentinel too (last: it closes the cache)', async () => {
    const sentinelClients = async () => Number(/connected_clients:(\d+)/.exec(await group.info(group.sentinel, 'clients'))?.[1]);
    expect(await sentinelClients()).toBeGreaterThan(1);
    closed = true;
    await cache.close();
    // Only the redis-cli that asks is left: nothing of the cache keeps reconnecting (or keeps a process alive).
    await eventually(async () => (await sentinelClients()) === 1, 5_000, 'no connection of the cache left on the sentinel');
  });
});
