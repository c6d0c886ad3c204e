import { type Cache, createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { RedisServer } from '../helpers/redis-server';
import { TcpProxy } from '../helpers/tcp-proxy';

/**
 * Redis acknowledges a write before its replica has it. A failover that promotes a replica which
 * had not yet received an invalidation must not bring the invalidated value back. The failover
 * here is the one a managed Redis (or a virtual IP) makes: the address stays, the server behind
 * it changes, and the connections are cut and come back within a health check's interval.
 */
describe('an invalidation the old master acknowledged and the promoted replica never received', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let endpoint: TcpProxy;
  const caches: Cache[] = [];

  beforeEach(async () => {
    master = await RedisServer.start();
    replica = await RedisServer.start({ args: () => ['--replicaof', '127.0.0.1', String(master.port)] });
    await eventually(async () => (await replica.cli('INFO', 'replication')).includes('master_link_status:up'), 15_000, 'replica in sync');
    endpoint = await TcpProxy.start(master.port);
  });

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
    await endpoint.stop();
    await Promise.all([master.stop(), replica.stop()]);
  });

  async function startCache(): Promise<Cache> {
    const config = loadConfig({
      REDIS_URL: endpoint.url,
      REDIS_TIMEOUT: '1',
      REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
      REDIS_MAX_RECONNECT_DELAY_MS: '200',
      CACHE_KEY_PREFIX: 'failover',
      LOG_LEVEL: 'silent',
    });
    const cache = createCache(config, createLogger(config));
    caches.push(cache);
    await cache.start();
    return cache;
  }

  /** Cached on the master and on the replica; then the replica stops receiving, and the master takes the invalidation alone. */
  async function invalidatedOnTheMasterOnly(writer: Cache): Promise<void> {
    await writer.service.set(writer.keys.user(2), 'before the change', 60);
    await eventually(async () => (await replica.cli('GET', 'failover:users:2')).includes('before the change'), 5_000, 'replicated');
    // The replication stream behind: what the master takes from now on, the replica never gets.
    await replica.cli('REPLICAOF', 'NO', 'ONE');
    await writer.invalidator.invalidateUserCache(2);
    expect(await master.cli('GET', 'failover:users:2')).toBe('');
    expect(await replica.cli('GET', 'failover:users:2')).toContain('before the change');
  }

  async function failover(): Promise<void> {
    await master.kill();
    endpoint.retarget(replica.port);
  }

  async function readAfterRecovery(cache: Cache): Promise<unknown> {
    await eventually(() => !cache.service.healthReport().connection_healthy, 5_000, 'the cut connections noticed');
    await eventually(() => cache.service.healthReport().connection_healthy, 15_000, 'back on Redis');
    expect(cache.service.healthReport()).toMatchObject({ status: 'healthy', pending_invalidations: 0 });
    return cache.service.get(cache.keys.user(2));
  }

  it('is replayed on the promoted replica by the instance that made it', async () => {
    const cache = await startCache();
    await invalidatedOnTheMasterOnly(cache);
    await failover();
    expect(await readAfterRecovery(cache)).toBeUndefined();
    expect(await replica.cli('GET', 'failover:users:2')).toBe('');
  });

  it('is replayed by another instance that heard of it, when the one that made it is gone', async () => {
    const writer = await startCache();
    const reader = await startCache();
    await invalidatedOnTheMasterOnly(writer);
    caches.splice(caches.indexOf(writer), 1);
    await writer.close();
    await failover();
    expect(await readAfterRecovery(reader)).toBeUndefined();
    expect(await replica.cli('GET', 'failover:users:2')).toBe('');
  });
});
