import { randomBytes } from 'node:crypto';

import { type Cache, createCache } from '../../src/cache/create-cache';
import { SqlSharedJournal } from '../../src/cache/shared-journal';
import { loadConfig } from '../../src/config';
import { Database } from '../../src/db/database';
import { migrate } from '../../src/db/migrations';
import { PgDriver } from '../../src/db/pg-driver';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { createScratchSchema, postgresReachable, type ScratchSchema } from '../helpers/postgres';
import { RedisServer } from '../helpers/redis-server';
import { TcpProxy } from '../helpers/tcp-proxy';

const reachable = postgresReachable();
if (!reachable) console.log('NOTICE: PostgreSQL is unreachable; the shared invalidation journal suite is skipped');

/**
 * An invalidation Redis cannot take is journaled, and applied before Redis serves again. The
 * instance's own journal dies with its process and is replayed by it alone; the fleet's copy, in
 * the gateway's PostgreSQL, reaches Redis through whichever instance gets there first.
 */
(reachable ? describe : describe.skip)('an invalidation journaled while Redis is unreachable', () => {
  let server: RedisServer;
  let schema: ScratchSchema;
  let db: Database;
  let prefix: string;
  const caches: Cache[] = [];
  /** The "database row" the caches load: what a read after the write must see. */
  let row: string;

  beforeAll(async () => {
    schema = await createScratchSchema();
    db = new Database(new PgDriver({ url: schema.url, poolSize: 4 }));
    await migrate(db);
    // Persistent: a restarted Redis still holds what it held, as a production one does.
    server = await RedisServer.start({ persistent: true });
  });

  afterAll(async () => {
    await server.stop();
    await db.close();
    await schema.drop();
  });

  beforeEach(() => {
    prefix = `journal_${randomBytes(4).toString('hex')}`;
    row = 'before the change';
  });

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  async function startCache(redisUrl: string, healthCheckIntervalMs = 100): Promise<Cache> {
    const config = loadConfig({
      REDIS_URL: redisUrl,
      REDIS_TIMEOUT: '0.3',
      REDIS_HEALTH_CHECK_INTERVAL_MS: String(healthCheckIntervalMs),
      REDIS_MAX_RECONNECT_DELAY_MS: '200',
      CACHE_BUS_ACK_TIMEOUT_MS: '300',
      CACHE_KEY_PREFIX: prefix,
      LOG_LEVEL: 'silent',
    });
    const cache = createCache(config, createLogger(config), { sharedJournal: (keys) => new SqlSharedJournal(db, prefix, { kind: 'pattern', pattern: keys.allPattern() }, true) });
    caches.push(cache);
    await cache.start();
    return cache;
  }

  const read = (cache: Cache) => cache.service.getOrSet(cache.keys.user(1), () => Promise.resolve(row), 3600);
  const serving = (cache: Cache) => cache.service.healthReport().connection_healthy;

  /** The value cached in Redis by `cache`, then Redis down and the row changed, and `writer` invalidating it. */
  async function changedDuringAnOutage(cache: Cache, writer: Cache): Promise<void> {
    expect(await read(cache)).toBe('before the change');
    await cache.service.writesLanded();
    await server.kill();
    row = 'after the change';
    await writer.invalidator.invalidateUserCache(1);
    expect(writer.service.healthReport().pending_invalidations).toBeGreaterThan(0);
  }

  it('is applied after its instance is gone', async () => {
    const writer = await startCache(server.url);
    const other = await startCache(server.url);
    await changedDuringAnOutage(other, writer);
    // Replaced (a deploy) or crashed before Redis came back.
    await caches.splice(caches.indexOf(writer), 1)[0]!.close();

    await server.restart();
    await eventually(() => serving(other), 10_000, 'the other instance serving from Redis');
    expect(await read(other)).toBe('after the change');
  }, 30_000);

  it('is applied by whichever instance reaches Redis first, before it reads from it', async () => {
    // The writer checks Redis rarely: the other instance is back long before it.
    const writer = await startCache(server.url, 60_000);
    const other = await startCache(server.url);
    await changedDuringAnOutage(other, writer);

    await server.restart();
    await eventually(() => serving(other), 10_000, 'the other instance serving from Redis');
    expect(writer.service.healthReport().pending_invalidations).toBeGreaterThan(0);
    expect(await read(other)).toBe('after the change');
  }, 30_000);

  it('reaches instances that kept serving from Redis, from one cut off from it', async () => {
    const cutOffRoute = await TcpProxy.start(server.port);
    try {
      const cutOff = await startCache(cutOffRoute.url);
      const other = await startCache(server.url);
      expect(await read(other)).toBe('before the change');
      await other.service.writesLanded();

      // Only this instance loses Redis (a partition): the rest of the fleet keeps serving from it.
      await cutOffRoute.stop();
      row = 'after the change';
      await cutOff.invalidator.invalidateUserCache(1);
      expect(cutOff.service.healthReport().pending_invalidations).toBeGreaterThan(0);

      await eventually(async () => (await other.service.get(other.keys.user(1))) === undefined, 5_000, 'the invalidation applied by the instance serving from Redis');
      expect(serving(other)).toBe(true);
      expect(await read(other)).toBe('after the change');
    } finally {
      await cutOffRoute.stop();
    }
  }, 30_000);

  it('is told again to caches outside the fleet (a CDN) once Redis has taken it, by the instance that applied it', async () => {
    const cutOffRoute = await TcpProxy.start(server.port);
    try {
      const writer = await startCache(cutOffRoute.url);
      const other = await startCache(server.url);
      // What a CDN purger hears on each instance, and whether the old value could still be read there then.
      const heard: { by: string; stillServed: boolean }[] = [];
      for (const [by, cache] of [['writer', writer], ['other', other]] as const) {
        cache.service.onInvalidated(async () => {
          heard.push({ by, stillServed: by === 'other' && (await cache.service.get(cache.keys.user(1))) !== undefined });
        });
      }
      expect(await read(other)).toBe('before the change');
      await other.service.writesLanded();
      await cutOffRoute.stop();
      row = 'after the change';
      await writer.invalidator.invalidateUserCache(1);
      // Told at once (the write answers after its purge), while `other` still serves the old value from Redis...
      expect(heard).toEqual([{ by: 'writer', stillServed: false }]);
      expect(await other.service.get(other.keys.user(1))).toBe('before the change');
      // ...and again once `other` has applied it from the shared journal: a refetch in between is purged.
      await eventually(() => heard.length === 2, 5_000, 'the invalidation heard again where it was applied');
      expect(heard[1]).toEqual({ by: 'other', stillServed: false });
    } finally {
      await cutOffRoute.stop();
    }
  }, 30_000);

  /**
   * While an instance serves from its memory tier, invalidations made by the rest of the fleet
   * reach that tier: on the bus while it still hears it, or from the shared journal, where every
   * invalidation is kept a while, at its next health check.
   */
  describe('reaches the memory tier of an instance cut off from Redis', () => {
    /** `cache` on its memory tier (read the shared journal a few times), holding the row as it was. */
    async function servingFromMemory(cache: Cache): Promise<void> {
      await eventually(() => !serving(cache), 5_000, 'the instance on its memory tier');
      // Held for a few checks: the reads of the journal that follow keep it (nothing invalidated it).
      await eventually(
        async () => {
          expect(await read(cache)).toBe('before the change');
          await new Promise((resolve) => setTimeout(resolve, 300));
          return (await cache.service.get(cache.keys.user(1))) === 'before the change';
        },
        5_000,
        'the memory tier holding the row across reads of the journal',
      );
      expect(serving(cache)).toBe(false);
    }

    /** The row changed and `writer` invalidating it (journaled or not): `cache` stops serving the old value within a few of its checks, still from memory. */
    async function followsWrite(cache: Cache, writer: Cache, journaled: boolean): Promise<void> {
      row = 'after the change';
      await writer.invalidator.invalidateUserCache(1);
      expect(writer.service.healthReport().pending_invalidations > 0).toBe(journaled);
      await eventually(async () => (await cache.service.get(cache.keys.user(1))) === undefined, 2_000, 'the invalidation applied to the memory tier');
      expect(serving(cache)).toBe(false);
      expect(await read(cache)).toBe('after the change');
    }

    it('from another instance cut off too (Redis down)', async () => {
      const writer = await startCache(server.url);
      const other = await startCache(server.url);
      await server.kill();
      try {
        await servingFromMemory(other);
        await followsWrite(other, writer, true);
      } finally {
        await server.restart();
      }
    }, 30_000);

    it('from an instance serving from Redis, which does not wait for it', async () => {
      const cutOffRoute = await TcpProxy.start(server.port);
      try {
        const cutOff = await startCache(cutOffRoute.url);
        const writer = await startCache(server.url);
        // Only this instance loses Redis, its bus too (a partition).
        await cutOffRoute.stop();
        await servingFromMemory(cutOff);
        await followsWrite(cutOff, writer, false);
      } finally {
        await cutOffRoute.stop();
      }
    }, 30_000);

    it('on the bus, before the writer answers, while the instance still hears it', async () => {
      // Checks Redis (and reads the shared journal) too rarely to matter here: only the bus can tell it.
      const other = await startCache(server.url, 60_000);
      const writer = await startCache(server.url);
      // Every command connection dropped, subscriptions kept: `other` serves from its memory tier
      // until its next check, while its bus still hears the fleet.
      await server.cli('client', 'kill', 'type', 'normal');
      await eventually(() => serving(writer), 5_000, 'the writer back on Redis');
      expect(serving(other)).toBe(false);
      expect(await read(other)).toBe('before the change');
      expect(await other.service.get(other.keys.user(1))).toBe('before the change');

      row = 'after the change';
      await writer.invalidator.invalidateUserCache(1);
      expect(serving(other)).toBe(false);
      expect(await other.service.get(other.keys.user(1))).toBeUndefined();
      expect(await read(other)).toBe('after the change');
    }, 30_000);
  });
});
