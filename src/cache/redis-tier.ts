import { createHash } from 'node:crypto';

import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';

import type { CacheEntry, CacheTier } from './cache-tier';
import { TierUnavailableError } from './cache-tier';
import type { RedisClient } from './redis-client';
import type { RedisPool } from './redis-pool';

const COMPARE_AND_EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const COMPARE_AND_DELETE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Keys asked for per SCAN step and deleted per UNLINK. */
const SCAN_BATCH = 500;

/**
 * Tag-set members whose entry expired longer ago than this are pruned on the next write to the
 * set: the slack absorbs clock differences between instances (scores are their wall clocks).
 */
const TAG_PRUNE_SLACK_MS = 60_000;

/** The write commands mset queues: on a pipeline they return the pipeline, on a client a promise. */
interface WriteCommands<Queued> {
  set(key: string, value: string, expiry: 'EX', seconds: number): Queued;
  zadd(key: string, score: number, member: string): Queued;
  zremrangebyscore(key: string, min: string, max: string): Queued;
  expire(key: string, seconds: number, condition: 'NX' | 'GT'): Queued;
}

/** The shared tier. Every failure is reported as TierUnavailableError, with the ioredis error as cause. */
export class RedisTier implements CacheTier {
  readonly name = 'redis';
  /** SHA-1 of each script run through evalOnKey (a handful, fixed in code). */
  private readonly scriptShas = new Map<string, string>();

  /** Where every tag set's key starts. */
  private readonly tagSetsStart: string;

  /** `tagSetKey` names the Redis set that lists the keys written with a tag. */
  constructor(
    private readonly pool: RedisPool,
    private readonly tagSetKey: (tag: string) => string,
  ) {
    this.tagSetsStart = tagSetKey('');
  }

  get(key: string): Promise<string | undefined> {
    return this.run(async (redis) => (await redis.get(key)) ?? undefined);
  }

  /** One MGET per hash slot (one in all on a single server, the path of every shared hit), concurrently. */
  mget(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.run(async (redis) => {
      const groups = this.bySlot(keys);
      const replies = await Promise.all(groups.map((group) => redis.mget(...group)));
      // One group holds the keys in their order: nothing to reassemble.
      if (groups.length === 1) return replies[0]!.map((value) => value ?? undefined);
      const found = new Map(groups.flatMap((group, g) => group.map((key, index) => [key, replies[g]![index]] as const)));
      return keys.map((key) => found.get(key) ?? undefined);
    });
  }

  set(entry: CacheEntry): Promise<void> {
    return this.run(async (redis) => {
      await redis.set(entry.key, entry.value, 'EX', entry.ttlSeconds);
    });
  }

  /** One pipeline on a single server; on a Cluster, concurrent commands that the client pipelines per master. */
  mset(entries: readonly CacheEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.run(async (redis) => {
      if (redis instanceof Cluster) {
        await Promise.all(this.queueWrites<Promise<unknown>>(redis, entries));
        return;
      }
      const pipeline = redis.pipeline();
      this.queueWrites<unknown>(pipeline, entries);
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
    return this.run((redis) => this.unlink(redis, keys));
  }

  /** SCAN + UNLINK in batches on every master (the one server, or each master of a Cluster), each on one connection so its cursor stays valid. */
  deletePattern(pattern: string): Promise<number> {
    return this.run(async (redis) => {
      const masters = redis instanceof Cluster ? redis.nodes('master') : [redis];
      const removed = await Promise.all(
        masters.map(async (master) => {
          let cursor = '0';
          let count = 0;
          do {
            const [next, found] = await master.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_BATCH);
            cursor = next;
            // Entries only: a tag set the glob also matches (an operator's `*:1` matches
            // `tags:UserSignals:1`) must outlive it, or the next invalidation by that tag would
            // find nothing and leave its entries stale. A set whose entries went expires with them.
            const keys = found.filter((key) => !key.startsWith(this.tagSetsStart));
            if (keys.length > 0) count += await this.unlink(master, keys);
          } while (cursor !== '0');
          return count;
        }),
      );
      return removed.reduce((sum, count) => sum + count, 0);
    });
  }

  /**
   * One round trip to read the tag sets, one to unlink their members and take them out of the
   * sets. Only the members read leave a set (a set left empty is gone): an entry written between
   * the two (a load after the change, landing meanwhile) stays listed, so that the next
   * invalidation of its tag still finds it. Unlinking the whole set dropped it from the list.
   */
  deleteTagged(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return Promise.resolve(0);
    return this.run(async (redis) => {
      const setKeys = tags.map(this.tagSetKey);
      const memberLists = await Promise.all(setKeys.map((setKey) => redis.zrange(setKey, '0', '-1')));
      const [removed] = await Promise.all([
        this.unlink(redis, [...new Set(memberLists.flat())]),
        ...setKeys.map(async (setKey, index) => {
          const members = memberLists[index]!;
          for (let start = 0; start < members.length; start += SCAN_BATCH) await redis.zrem(setKey, ...members.slice(start, start + SCAN_BATCH));
        }),
      ]);
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

  /** Extends the key's life only if it still holds `value` (renewing a lease its holder still has). */
  extendIfEquals(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.run(async (redis) => (await redis.eval(COMPARE_AND_EXTEND, 1, key, value, String(ttlMs))) === 1);
  }

  /**
   * A Lua script on one key (so one slot: safe on a Cluster); for state other mechanisms keep in
   * Redis, such as rate budgets. By its SHA-1 (EVALSHA), and with its text only when the server
   * does not know it yet (after a restart, or on a Cluster node it has not run on).
   */
  evalOnKey(script: string, key: string, args: readonly (string | number)[]): Promise<unknown> {
    let sha = this.scriptShas.get(script);
    if (sha === undefined) {
      sha = createHash('sha1').update(script).digest('hex');
      this.scriptShas.set(script, sha);
    }
    const known = sha;
    return this.run(async (redis) => {
      try {
        return await redis.evalsha(known, 1, key, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return redis.eval(script, 1, key, ...args);
      }
    });
  }

  /** Resolves when every master answers. */
  async ping(): Promise<void> {
    try {
      await this.pool.ping();
    } catch (error) {
      throw new TierUnavailableError('redis', error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  /**
   * Every entry, and its tag-set bookkeeping. A tag set is a sorted set scored by each member's
   * expiry, so that a busy tag (a popular instrument) does not keep every key ever written with
   * it: each write prunes the members that expired. The set lives as long as its longest-lived
   * member (NX gives a new set a TTL, GT extends it).
   */
  private queueWrites<Queued>(target: WriteCommands<Queued>, entries: readonly CacheEntry[]): Queued[] {
    const queued: Queued[] = [];
    const nowMs = Date.now();
    for (const entry of entries) {
      queued.push(target.set(entry.key, entry.value, 'EX', entry.ttlSeconds));
      for (const tag of entry.tags ?? []) {
        const setKey = this.tagSetKey(tag);
        queued.push(
          target.zadd(setKey, nowMs + entry.ttlSeconds * 1000, entry.key),
          target.zremrangebyscore(setKey, '-inf', String(nowMs - TAG_PRUNE_SLACK_MS)),
          target.expire(setKey, entry.ttlSeconds, 'NX'),
          target.expire(setKey, entry.ttlSeconds, 'GT'),
        );
      }
    }
    return queued;
  }

  /** UNLINK in batches, each batch split by hash slot where the server is a Cluster (a multi-key command must stay in one slot). */
  private async unlink(redis: RedisClient, keys: readonly string[]): Promise<number> {
    let removed = 0;
    for (let start = 0; start < keys.length; start += SCAN_BATCH) {
      const counts = await Promise.all(this.bySlot(keys.slice(start, start + SCAN_BATCH)).map((group) => redis.unlink(...group)));
      removed += counts.reduce((sum, count) => sum + count, 0);
    }
    return removed;
  }

  /** Keys grouped by Cluster hash slot; on a single server, all of them together. */
  private bySlot(keys: readonly string[]): string[][] {
    if (!this.pool.cluster) return [[...keys]];
    const groups = new Map<number, string[]>();
    for (const key of keys) {
      const slot = calculateSlot(key);
      const group = groups.get(slot);
      if (group === undefined) groups.set(slot, [key]);
      else group.push(key);
    }
    return [...groups.values()];
  }

  private async run<T>(command: (redis: RedisClient) => Promise<T>): Promise<T> {
    const redis = this.pool.pick();
    try {
      return await command(redis);
    } catch (error) {
      throw new TierUnavailableError('redis', error instanceof Error ? error.message : String(error), { cause: error });
    }
  }
}
