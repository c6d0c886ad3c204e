import type { Logger } from '../logger';
import type { CacheBus } from './cache-bus';
import { type MetricsSnapshot, OperationMetrics } from './cache-metrics';
import type { CacheEntry, CacheTier } from './cache-tier';
import type { FleetFlights } from './fleet-flight';
import { CorruptValueError, decode, encode } from './codec';
import { InvalidationFences } from './invalidation-fences';
import type { Invalidation, InvalidationJournal, InvalidationPart } from './invalidation-journal';
import type { CacheStatus, RedisHealth } from './redis-health';
import type { SharedJournal } from './shared-journal';
import { SingleFlight } from './single-flight';

/** The seed's TTL tiers, in seconds. */
export interface TtlTiers {
  /** Real-time data: prices (CACHE_TTL_SHORT, 300). */
  readonly short: number;
  /** Sessions, signals, API responses (CACHE_TTL_MEDIUM, 1800). */
  readonly medium: number;
  /** Profiles, statistics (CACHE_TTL_LONG, 3600). */
  readonly long: number;
  /** Static data (CACHE_TTL_VERY_LONG, 86400). */
  readonly veryLong: number;
}

export interface CacheTiers {
  readonly redis: CacheTier & { readonly metrics: OperationMetrics };
  readonly memory: CacheTier & { readonly metrics: OperationMetrics; clear(): void };
}

export interface CacheHealthReport {
  readonly status: CacheStatus;
  readonly connection_healthy: boolean;
  readonly fallback_enabled: boolean;
  readonly pending_invalidations: number;
  readonly metrics: MetricsSnapshot;
}

export interface CacheMetricsReport extends MetricsSnapshot {
  readonly fallback_enabled: boolean;
  readonly connection_healthy: boolean;
  /** Values that could not be decoded: counted as misses and removed. */
  readonly corrupt_values: number;
  /** Loads run by getOrSet, and callers that joined a load already running instead of starting one. */
  readonly loads: number;
  readonly coalesced: number;
  /** Loads answered by another instance's result instead (see FleetFlight). */
  readonly fleet_coalesced: number;
  readonly tiers: { readonly redis: MetricsSnapshot; readonly memory: MetricsSnapshot };
}

/**
 * The two-tier cache. Redis serves while it is healthy; the moment a command fails the memory
 * tier serves instead, so a request never waits more than one command timeout and never fails
 * because of the cache. What it swallows: every Redis error (counted, logged at debug, answered
 * from memory) and corrupt values (a counted miss). What it guarantees: an invalidation is never
 * undone — if Redis cannot take it now, it is journaled and applied before Redis serves again.
 */
export class CacheService {
  readonly metrics = new OperationMetrics();
  private corruptValues = 0;
  private loads = 0;
  private coalesced = 0;
  private fleetCoalesced = 0;
  /** Bumped by every invalidation: a load that started before one must not write its result back. */
  private epoch = 0;
  /** Every flight made by newFlight: an invalidation ends them all. */
  private readonly flightGroups: SingleFlight<unknown>[] = [];
  private readonly flights = this.newFlight<unknown>();
  /** See onInvalidated. */
  private readonly invalidatedListeners: ((invalidation: Invalidation) => Promise<void> | void)[] = [];
  /** Writes under way: an invalidation (here, or acknowledged for another instance) waits for them to land before deleting. */
  private readonly writes = new Set<Promise<unknown>>();
  /** Invalidations under way, made here or heard: what they reach is not kept meanwhile. */
  private readonly fences = new InvalidationFences();
  private fencesRaised = 0;

  constructor(
    private readonly tiers: CacheTiers,
    private readonly health: RedisHealth,
    private readonly journal: InvalidationJournal,
    readonly ttl: TtlTiers,
    private readonly logger: Logger,
    /** REDIS_RETRY_ON_TIMEOUT: an invalidation that fails is tried once more before it is journaled. Reads never retry. */
    private readonly retryInvalidations: boolean,
    /** Tells in-process copies here and on other instances about every invalidation. */
    readonly bus: CacheBus,
    /** Loads a cold key once across instances. */
    readonly fleet: FleetFlights,
    /** Tags every entry gets from its key alone, beside its own (CacheKeys.groupTagsOf). */
    private readonly tagsOfKey: (key: string) => readonly string[],
    /** Where journaled invalidations are also kept for every instance; without it, only this process has them. */
    private readonly shared?: SharedJournal,
  ) {
    bus.onEvent((event) => {
      if (event.kind === 'reset') {
        this.forgetMemoryTier();
      } else if (event.kind === 'completed') {
        if (this.fences.lower(event.id)) this.forgetLoads();
      } else if (event.remote) {
        if (event.id !== undefined) this.fences.raise(event.id, event.invalidation);
        this.applyFromFleet(event.invalidation);
      }
    });
    bus.settleWritesWith(() => this.writesLanded());
  }

  async get<T>(key: string): Promise<T | undefined> {
    const values = await this.measured(async () => [this.decodeOrDrop(key, await this.onServingTier((tier) => tier.get(key)))]);
    return values[0] as T | undefined;
  }

  /** One round trip for any number of keys; the result is in the order of `keys`. */
  async mget<T>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    return this.measured(async () => {
      const raw = await this.onServingTier((tier) => tier.mget(keys));
      return keys.map((key, index) => this.decodeOrDrop(key, raw[index])) as (T | undefined)[];
    });
  }

  /** `tags`, when given, let deleteTagged evict the entry as part of a group (see CacheTags). */
  async set(key: string, value: unknown, ttlSeconds: number, tags?: readonly string[]): Promise<void> {
    await this.mset([{ key, value, ttlSeconds, tags }]);
  }

  /** One round trip. `undefined` values are skipped: they cannot be told from a miss. */
  async mset(entries: readonly { key: string; value: unknown; ttlSeconds: number; tags?: readonly string[] | undefined }[]): Promise<void> {
    const encoded: CacheEntry[] = entries
      .filter((entry) => entry.value !== undefined)
      .map((entry) => ({
        key: entry.key,
        value: encode(entry.value),
        ttlSeconds: Math.max(1, Math.ceil(entry.ttlSeconds)),
        ...(entry.tags === undefined || entry.tags.length === 0 ? {} : { tags: entry.tags }),
      }));
    await this.write(encoded);
  }

  exists(key: string): Promise<boolean> {
    return this.measured(() => this.onServingTier((tier) => tier.exists(key)), 'ok');
  }

  /** Seconds to live, `undefined` when absent. */
  ttlOf(key: string): Promise<number | undefined> {
    return this.measured(() => this.onServingTier((tier) => tier.ttl(key)), 'ok');
  }

  /**
   * Read-through with single flight: concurrent callers for one key share one lookup and at most
   * one `load`, in this process and (through a lease in Redis) across instances. The result is
   * cached for `ttlSeconds` unless an invalidation happened meanwhile; `tagsOf` tags it (see
   * CacheTags) so that an invalidation can reach it without knowing its key. The caller has the
   * value as soon as it is loaded: the write lands behind it (a round trip less on every miss).
   */
  getOrSet<T>(key: string, load: () => Promise<T>, ttlSeconds: number, tagsOf?: (value: T) => readonly string[]): Promise<T> {
    const epoch = this.epoch;
    const { result, joined } = this.flights.run(key, async () => {
      const cached = await this.get<T>(key);
      if (cached !== undefined) return cached;
      const { value, joined: fromFleet } = await this.fleet.run(
        key,
        // Polled while another instance loads: an operation, not a miss each time.
        async () => this.decodeOrDrop(key, (await this.getRaw([key]))[0]) as T | undefined,
        async () => {
          this.loads += 1;
          const loaded = await load();
          return { value: loaded, stored: this.epoch === epoch ? this.behind(this.set(key, loaded, ttlSeconds, tagsOf?.(loaded))) : Promise.resolve() };
        },
      );
      if (fromFleet) this.fleetCoalesced += 1;
      return value;
    });
    if (joined) this.coalesced += 1;
    return result as Promise<T>;
  }

  /**
   * The batch form of getOrSet, for DataLoaders: one multi-get for all ids, one `loadMissing`
   * call for the misses only, one multi-set to write them back, behind the answer. `null`
   * results (unknown ids) are returned but not cached, so an entity created later is seen at
   * once. `tagsOf` tags each entry written (see CacheTags), so that an invalidation can reach it
   * without knowing its key.
   */
  async getManyOrLoad<Id, Value>(
    ids: readonly Id[],
    keyOf: (id: Id) => string,
    loadMissing: (ids: readonly Id[]) => Promise<readonly (Value | null)[]>,
    ttlSeconds: number,
    tagsOf?: (value: Value, id: Id) => readonly string[],
  ): Promise<(Value | null)[]> {
    if (ids.length === 0) return [];
    const epoch = this.epoch;
    const keys = ids.map(keyOf);
    const cached = await this.mget<Value>(keys);
    const missing = ids.filter((_, index) => cached[index] === undefined);
    if (missing.length === 0) return cached as Value[];
    this.loads += 1;
    const loaded = await loadMissing(missing);
    const byId = new Map(missing.map((id, index) => [id, loaded[index] ?? null]));
    if (this.epoch === epoch) {
      void this.behind(
        this.mset(missing.flatMap((id) => {
          const value = byId.get(id);
          return value === null || value === undefined ? [] : [{ key: keyOf(id), value, ttlSeconds, tags: tagsOf?.(value, id) }];
        })),
      );
    }
    return ids.map((id, index) => cached[index] ?? byId.get(id) ?? null);
  }

  /** Removes keys everywhere; returns how many existed. */
  delete(...keys: string[]): Promise<number> {
    return this.invalidate({ kind: 'keys', keys });
  }

  /** Removes the keys matching a Redis glob (build it with CacheKeys, which escapes input). */
  deletePattern(pattern: string): Promise<number> {
    return this.invalidate({ kind: 'pattern', pattern });
  }

  /**
   * Several removals as one invalidation: applied together, and announced to the other instances
   * in one acknowledgement round (what one write changes). Returns how many entries went.
   */
  deleteAll(parts: readonly InvalidationPart[]): Promise<number> {
    const effective = parts.filter((part) => (part.kind === 'keys' ? part.keys.length > 0 : part.kind === 'tags' ? part.tags.length > 0 : true));
    if (effective.length === 0) return Promise.resolve(0);
    return this.invalidate(effective.length === 1 ? effective[0]! : { kind: 'batch', parts: effective });
  }

  /** Removes every entry written with any of `tags` (see setRaw). */
  deleteTagged(tags: readonly string[]): Promise<number> {
    return tags.length === 0 ? Promise.resolve(0) : this.invalidate({ kind: 'tags', tags });
  }

  /**
   * Values stored as they are, without the JSON codec: for payloads that are already bytes on the
   * wire, such as whole GraphQL responses. Same tiers and fallback as get/mget.
   */
  getRaw(keys: readonly string[]): Promise<(string | undefined)[]> {
    // Counted as an operation, not as hits or misses: the response cache keeps its own, and a
    // response miss must not drag down the hit rate of the data entries.
    return this.measured(() => this.onServingTier((tier) => tier.mget(keys)), 'ok');
  }

  /**
   * Writes raw values, optionally tagged so that deleteTagged can evict them as a group. For
   * writes behind an answer: the promise settles when the write has landed and never rejects.
   */
  setRaw(entries: readonly CacheEntry[]): Promise<void> {
    return this.behind(this.write(entries));
  }

  /**
   * A single flight (concurrent callers of one key share one run) that every invalidation ends,
   * made here or announced by another instance: a read that arrives after a write never joins a
   * run that may have read before it.
   */
  newFlight<Value>(): SingleFlight<Value> {
    const flight = new SingleFlight<Value>();
    this.flightGroups.push(flight);
    return flight;
  }

  /**
   * Another instance's invalidation, heard on the bus or read from the shared journal. A load
   * running here may have read the data before the change, so it must not be written back; and
   * the memory tier, which serves while this instance is cut off from Redis, must lose what went
   * (while Redis serves it is empty: see RedisHealth's switch back).
   */
  applyFromFleet(invalidation: Invalidation): void {
    this.forgetLoads();
    if (!this.health.redisServing) void applyInvalidation(this.tiers.memory, invalidation);
  }

  /** Invalidations may have been missed (messages lost, a gap in the shared journal): loads under way and the memory tier are dropped. */
  forgetMemoryTier(): void {
    this.forgetLoads();
    this.tiers.memory.clear();
  }

  /** Whether Redis serves (rather than this instance's memory tier, which hears other instances' invalidations later). */
  get sharedTierServing(): boolean {
    return this.health.redisServing;
  }

  /** The current invalidation epoch: a value loaded before the epoch moved must not be written back. */
  get invalidationEpoch(): number {
    return this.epoch;
  }

  healthReport(): CacheHealthReport {
    const redisServing = this.health.redisServing;
    return {
      status: this.health.status(),
      connection_healthy: redisServing,
      fallback_enabled: !redisServing,
      pending_invalidations: this.journal.size,
      metrics: this.metrics.snapshot(),
    };
  }

  metricsReport(): CacheMetricsReport {
    const redisServing = this.health.redisServing;
    return {
      ...this.metrics.snapshot(),
      fallback_enabled: !redisServing,
      connection_healthy: redisServing,
      corrupt_values: this.corruptValues,
      loads: this.loads,
      coalesced: this.coalesced,
      fleet_coalesced: this.fleetCoalesced,
      tiers: { redis: this.tiers.redis.metrics.snapshot(), memory: this.tiers.memory.metrics.snapshot() },
    };
  }

  /**
   * Hears every invalidation this instance makes (not those announced by others) once it has been
   * applied as far as it can be now (every tier here, the shared tier and the other instances'
   * copies, or the journal while Redis is down), or has failed part way: for caches outside the
   * fleet (a CDN), which must not be told before, since they could refetch, and keep, what is
   * about to go. The invalidation answers once the listeners' promises have settled, so a
   * listener decides how long a write may wait for it.
   *
   * A journaled invalidation is heard again when it reaches Redis (see replayedToRedis), from
   * whichever instance replays it: until then the instances serving from Redis still served
   * what it removes, and such a cache may have refetched it.
   */
  onInvalidated(listener: (invalidation: Invalidation) => Promise<void> | void): void {
    this.invalidatedListeners.push(listener);
  }

  /**
   * A journaled invalidation (made here or by another instance) that Redis has now taken and the
   * fleet has been told: the listeners hear it again (see onInvalidated). Not waited for: a
   * replay of many must not hold Redis back from serving.
   */
  replayedToRedis(invalidation: Invalidation): void {
    for (const listener of this.invalidatedListeners) {
      void Promise.resolve()
        .then(() => listener(invalidation))
        .catch((error: unknown) => this.logger.warn({ err: error }, 'cache: a listener failed on a replayed invalidation'));
    }
  }

  private async invalidate(invalidation: Invalidation): Promise<number> {
    try {
      return await this.invalidateEverywhere(invalidation);
    } finally {
      await Promise.allSettled(this.invalidatedListeners.map(async (listener) => listener(invalidation)));
    }
  }

  private async invalidateEverywhere(invalidation: Invalidation): Promise<number> {
    const { fromMemory, shared } = await this.throughFleet(invalidation, () => this.invalidateShared(invalidation), false);
    return shared === 'journaled' ? fromMemory : fromMemory + shared;
  }

  /**
   * A journaled invalidation (this instance's, or one from the shared journal) replayed to Redis,
   * through the same steps as a fresh one; rejects when Redis refuses it or its announcement (the
   * replay stops there, and it stays journaled for the next health check).
   */
  async replayToRedis(invalidation: Invalidation): Promise<void> {
    await this.throughFleet(invalidation, () => applyInvalidation(this.tiers.redis, invalidation), true);
    this.replayedToRedis(invalidation);
  }

  /**
   * One invalidation, fenced from start to end (see InvalidationFences): loads under way
   * forgotten, writes under way landed, the memory tier and `deleteShared`; then the other
   * instances told and waited for, a second delete behind the writes they had under way, and
   * word that it is complete. A fresh one is also kept in the shared journal for instances cut off
   * from Redis, and journaled there if it cannot be announced; a `replayed` one is journaled
   * already, and its replay fails instead.
   */
  private async throughFleet(invalidation: Invalidation, deleteShared: () => Promise<number | 'journaled'>, replayed: boolean): Promise<{ fromMemory: number; shared: number | 'journaled' }> {
    const fence = `own:${(this.fencesRaised += 1)}`;
    this.fences.raise(fence, invalidation);
    try {
      // Callers arriving after this point must not join a load that may return the old value.
      this.forgetLoads();
      // A write that passed its epoch check just before could still land after our delete.
      await this.writesLanded();
      const fromMemory = await applyInvalidation(this.tiers.memory, invalidation);
      const shared = await deleteShared();
      // Only now are in-process copies told, here and elsewhere: told earlier, an instance could
      // refill its copy from the shared tier before the old entry left it. The announcement is
      // awaited only while Redis took the invalidation; otherwise the journal replay announces it again later.
      const announced = this.bus.publish(invalidation);
      if (shared === 'journaled') return { fromMemory, shared };
      // Instances cut off from Redis (serving from memory) hear nothing on the bus and are not
      // waited for: they read it from the shared journal.
      const kept = replayed ? Promise.resolve() : this.keepForCutOffInstances(invalidation);
      let announcement = await announced;
      // Once more (the pool picks another connection), then left to the shared journal's replay.
      if (announcement.failed) announcement = await this.bus.publish(invalidation);
      if (announcement.failed) {
        if (replayed) throw new Error('cache: a replayed invalidation could not be announced');
        await this.keepUnannounced(invalidation);
      } else if (announcement.acknowledged > 0 || announcement.evicted > 0) {
        // Other instances may have stored what they read before the change between our delete and
        // their acknowledgement (which waits for their writes under way): delete once more behind
        // them. Behind the silent ones too: a write they issued just before they stalled lands late.
        // Then those that acknowledged may keep what it reaches again (evicted ones drop everything);
        // awaited, so that on a single Redis the word is on its way before the write answers.
        if ((await deleteShared()) !== 'journaled' && announcement.acknowledged > 0) await this.bus.complete(announcement.id);
      }
      await kept;
      return { fromMemory, shared };
    } finally {
      this.fences.lower(fence);
      // What was read while it was under way may have been a late write: not to be kept.
      this.forgetLoads();
    }
  }

  /**
   * The other instances could not be told (Redis refused the announcement): their near copies and
   * loads under way would outlive the change. Kept pending in the shared journal, it is applied
   * and announced again at the next health check of an instance serving from Redis.
   */
  private async keepUnannounced(invalidation: Invalidation): Promise<void> {
    try {
      if (this.shared?.fleetWide !== true) throw new Error('no shared journal');
      await this.shared.add(invalidation, true);
    } catch (error) {
      this.logger.warn({ err: error, invalidation }, 'cache: an invalidation could not be announced; other instances may serve what it removed until their copies expire');
    }
  }

  private async keepForCutOffInstances(invalidation: Invalidation): Promise<void> {
    // With a journal no other gateway reads (an embedded database), no instance can need it.
    if (this.shared?.fleetWide !== true) return;
    try {
      await this.shared.add(invalidation, false);
    } catch (error) {
      this.logger.warn({ err: error, invalidation }, 'cache: an invalidation could not be kept in the shared journal; instances cut off from Redis will not see it');
    }
  }

  /** On Redis, tried twice when configured so (the entries removed); journaled until Redis is back if it cannot take it now. */
  private async invalidateShared(invalidation: Invalidation): Promise<number | 'journaled'> {
    for (let attempt = this.retryInvalidations ? 2 : 1; attempt > 0 && this.health.redisServing; attempt -= 1) {
      try {
        return await applyInvalidation(this.tiers.redis, invalidation);
      } catch (error) {
        if (attempt === 1) this.redisFailed(error);
      }
    }
    this.journal.add(invalidation);
    // Kept for the fleet too: this instance may be gone before Redis is back, or come back after another.
    try {
      if (this.shared !== undefined) {
        await this.shared.add(invalidation, true);
        this.journal.keptShared(invalidation);
      }
    } catch (error) {
      this.logger.warn({ err: error, invalidation }, 'cache: invalidation journaled in this process only (the shared journal is unreachable)');
    }
    this.logger.info({ invalidation, pending: this.journal.size }, 'cache: invalidation journaled until Redis is back');
    return 'journaled';
  }

  /**
   * Writes on the serving tier, tracked until they land. While Redis serves but this instance
   * cannot hear invalidations (bus down), nothing is written to the shared tier: what was loaded
   * may predate a change announced meanwhile, and other instances would read it.
   */
  private write(given: readonly CacheEntry[]): Promise<void> {
    if (given.length === 0 || (this.health.redisServing && !this.bus.coherent)) return Promise.resolve();
    const entries = given
      .map((entry) => {
        const keyTags = this.tagsOfKey(entry.key);
        return keyTags.length === 0 ? entry : { ...entry, tags: [...(entry.tags ?? []), ...keyTags] };
      })
      .filter((entry) => !this.fences.blocks(entry.key, entry.tags ?? []));
    if (entries.length === 0) return Promise.resolve();
    const write = this.measured(() => this.onServingTier((tier) => tier.mset(entries)), 'ok');
    this.writes.add(write);
    const landed = () => this.writes.delete(write);
    write.then(landed, landed);
    return write;
  }

  /**
   * A write that an answer does not wait for: it was registered with the writes under way when
   * issued (so invalidations still wait for it), and a failure is logged instead of thrown at
   * nobody. Settles when the write has landed.
   */
  private behind(write: Promise<void>): Promise<void> {
    return write.catch((error: unknown) => {
      this.logger.warn({ err: error }, 'cache: a write behind an answer failed');
    });
  }

  /**
   * Loads under way may have read before an invalidation (or during one): they must not write
   * back, and later callers must not join them.
   */
  private forgetLoads(): void {
    this.epoch += 1;
    for (const flight of this.flightGroups) flight.forgetAll();
  }

  /**
   * Whether an invalidation under way reaches the entry `key`, tagged `tags` (beside the tags its
   * key gives it): it must not be kept, here or in Redis (see InvalidationFences).
   */
  underInvalidation(key: string, tags: readonly string[]): boolean {
    return this.fences.raisedAny && (this.fences.blocks(key, tags) || this.fences.blocks(key, this.tagsOfKey(key)));
  }

  /** Settles once every write under way has landed (an invalidation's wait, and a close's). */
  async writesLanded(): Promise<void> {
    if (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  /** Runs on the serving tier; a Redis failure is answered from memory, within the same call. */
  private async onServingTier<T>(operation: (tier: CacheTier) => Promise<T>): Promise<T> {
    if (this.health.redisServing) {
      try {
        return await operation(this.tiers.redis);
      } catch (error) {
        this.redisFailed(error);
      }
    }
    return operation(this.tiers.memory);
  }

  private redisFailed(error: unknown): void {
    this.metrics.noteError();
    this.logger.debug({ err: error }, 'cache: Redis command failed, using the memory tier');
    this.health.reportFailure(error);
  }

  private decodeOrDrop(key: string, raw: string | undefined): unknown {
    if (raw === undefined) return undefined;
    try {
      return decode(raw);
    } catch (error) {
      if (!(error instanceof CorruptValueError)) throw error;
      this.corruptValues += 1;
      this.logger.warn({ key, err: error }, 'cache: corrupt value removed');
      void this.delete(key);
      return undefined;
    }
  }

  /** Service-level metrics: a lookup is a hit when any value came back from the serving tier. */
  private async measured<T>(operation: () => Promise<T>, kind: 'lookup' | 'ok' = 'lookup'): Promise<T> {
    const started = performance.now();
    const result = await operation();
    const elapsed = performance.now() - started;
    if (kind === 'ok') {
      this.metrics.record(elapsed, 'ok');
    } else {
      const values = result as unknown[];
      const hits = values.filter((value) => value !== undefined).length;
      this.metrics.record(elapsed, hits === values.length ? 'hit' : 'miss', hits, values.length - hits);
    }
    return result;
  }
}

/** Applies an invalidation to one tier; returns how many entries it removed. */
export function applyInvalidation(tier: CacheTier, invalidation: Invalidation): Promise<number> {
  switch (invalidation.kind) {
    case 'keys':
      return tier.delete(invalidation.keys);
    case 'pattern':
      return tier.deletePattern(invalidation.pattern);
    case 'tags':
      return tier.deleteTagged(invalidation.tags);
    case 'batch':
      return Promise.all(invalidation.parts.map((part) => applyInvalidation(tier, part))).then((counts) => counts.reduce((sum, count) => sum + count, 0));
  }
}
