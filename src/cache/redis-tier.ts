import type { CacheEntry, CacheTier } from './cache-tier';
import { TierUnavailableError } from './cache-tier';
import type { RedisPool } from './redis-pool';

const COMPARE_AND_DELETE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Keys asked for per SCAN step and deleted per UNLINK. */
const SCAN_BATCH = 500;

/** The shared tier. Every failure is reported as TierUnavailableError, with the ioredis error as cause. */
export class RedisTier implements CacheTier {
  readonly name = 'redis';

  /** `tagSetKey` names the Redis set that lists the keys written with a tag. */
  constructor(
    private readonly pool: RedisPool,
    private readonly tagSetKey: (tag: string) => string,
  ) {}

  get(key: string): Promise<string | undefined> {
    return this.run(async (redis) => (await redis.get(key)) ?? undefined);
  }

  mget(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.run(async (redis) => (await redis.mget(...keys)).map((value) => value ?? undefined));
  }

  set(entry: CacheEntry): Promise<void> {
    return this.run(async (redis) => {
      await redis.set(entry.key, entry.value, 'EX', entry.ttlSeconds);
    });
  }

  mset(entries: readonly CacheEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.run(async (redis) => {
      const pipeline = redis.pipeline();
      for (const entry of entries) {
        pipeline.set(entry.key, entry.value, 'EX', entry.ttlSeconds);
        // A tag set lives as long as its longest-lived member: NX gives a new set a TTL, GT extends it.
        for (const tag of entry.tags ?? []) {
          const setKey = this.tagSetKey(tag);
          pipeline.sadd(setKey, entry.key).expire(setKey, entry.ttlSeconds, 'NX').expire(setKey, entry.ttlSeconds, 'GT');
        }
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    });
  }

  exists(key: string): Promise<boolean> {
    return this.run(async (redis) => (await redis.exists(key)) === 1);
  }

  ttl(key: string): Promise<number | undefined> {
    return this.run(async (redis) => {
      const seconds = await redis.ttl(key);
      return seconds === -2 ? undefined : seconds;
    });
  }

  delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return Promise.resolve(0);
    return this.run((redis) => redis.unlink(...keys));
  }

  /** SCAN + UNLINK in batches on one connection, so the cursor stays valid. */
  deletePattern(pattern: string): Promise<number> {
    return this.run(async (redis) => {
      let cursor = '0';
      let removed = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH);
        cursor = next;
        if (keys.length > 0) removed += await redis.unlink(...keys);
      } while (cursor !== '0');
      return removed;
    });
  }

  /** One round trip to read the tag sets, one to unlink their members and the sets themselves. */
  deleteTagged(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return Promise.resolve(0);
    return this.run(async (redis) => {
      const setKeys = tags.map(this.tagSetKey);
      const pipeline = redis.pipeline();
      for (const setKey of setKeys) pipeline.smembers(setKey);
      const members = new Set<string>();
      for (const [error, keys] of (await pipeline.exec()) ?? []) {
        if (error) throw error;
        for (const key of keys as string[]) members.add(key);
      }
      let removed = 0;
      const all = [...members];
      for (let start = 0; start < all.length; start += SCAN_BATCH) removed += await redis.unlink(...all.slice(start, start + SCAN_BATCH));
      await redis.unlink(...setKeys);
      return removed;
    });
  }

  /** SET NX PX: true when this caller took the key. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.run(async (redis) => (await redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK');
  }

  /** Deletes the key only if it still holds `value` (so a lease that expired and was taken by another is left alone). */
  deleteIfEquals(key: string, value: string): Promise<boolean> {
    return this.run(async (redis) => (await redis.eval(COMPARE_AND_DELETE, 1, key, value)) === 1);
  }

  async ping(): Promise<void> {
    await this.run(async (redis) => {
      await redis.ping();
    });
  }

  private async run<T>(command: (redis: ReturnType<RedisPool['pick']>) => Promise<T>): Promise<T> {
    const redis = this.pool.pick();
    try {
      return await command(redis);
    } catch (error) {
      throw new TierUnavailableError('redis', error instanceof Error ? error.message : String(error), { cause: error });
    }
  }
}
