import type { Redis } from 'ioredis';

import type { Config } from '../config';
import type { Logger } from '../logger';
import { CacheBus } from './cache-bus';
import { CacheInvalidator } from './cache-invalidator';
import { CacheKeys } from './cache-keys';
import { FamilyLookups, MeasuredTier } from './cache-metrics';
import type { CacheTier } from './cache-tier';
import { CacheService } from './cache.service';
import { type Invalidation, InvalidationJournal } from './invalidation-journal';
import { FleetFlight, type FleetFlights } from './fleet-flight';
import { LeaseManager } from './lease';
import { MemoryTier } from './memory-tier';
import { NullTier } from './null-tier';
import { createSubscriberClient, describeTopology, type RedisClient, type RedisConnectionOptions } from './redis-client';
import { RedisHealth } from './redis-health';
import { RedisPool } from './redis-pool';
import { RedisTier } from './redis-tier';
import type { SharedJournal } from './shared-journal';
import { SharedJournalFollower } from './shared-journal-follower';

/** Invalidations kept while Redis is unreachable before they collapse into one namespace-wide reset. */
const JOURNAL_MAX_ENTRIES = 1_000;
/**
 * How far back before an outage its replay reaches (InvalidationJournal.reopen): well beyond
 * what a replica lags on a working link (milliseconds) or an append-only file fsynced every
 * second loses, since a replay costs only deletes.
 */
const JOURNAL_LOSS_WINDOW_MS = 10_000;
const MEMORY_PURGE_INTERVAL_MS = 30_000;
/** How often an instance waiting for another's load looks for its result: well under a typical load. */
const FLEET_FLIGHT_POLL_MS = 20;
/**
 * How far back an instance on its memory tier reads the shared journal at each health check (at
 * least four checks): well beyond the time an insert takes to commit.
 */
const FOLLOW_LOOK_BACK_MS = 10_000;
/** On the memory tier for this long, the cache reports `unhealthy` instead of `degraded`. */
const UNHEALTHY_AFTER_MS = 30_000;

export interface Cache {
  readonly service: CacheService;
  readonly invalidator: CacheInvalidator;
  readonly keys: CacheKeys;
  readonly leases: LeaseManager;
  /** Keys found and not found by kind of data, over both tiers. */
  readonly families: FamilyLookups;
  /** Scripts on the shared tier for state that is not a cached copy (rate budgets). */
  readonly scripts: SharedScripts;
  /** Connections for what travels through Redis without being cached data (live events): a pooled command connection, a new subscriber. */
  readonly connections: { readonly pick: () => RedisClient; readonly subscriber: (attempt: number) => Redis };
  /** Connects (never fails: an unreachable Redis means starting on the memory tier) and starts health checks. */
  start(): Promise<void>;
  close(): Promise<void>;
  /** What the in-process tier holds, as CACHE_FALLBACK_MAX_BYTES counts it. */
  memoryTierBytes(): number;
}

/**
 * Lua scripts on Redis, with the cache's word on whether Redis serves. Callers decide what to do
 * when it does not (or a script fails): nothing here falls back to memory.
 */
export interface SharedScripts {
  /** Redis serves and answered its last health PING in time (a frozen Redis is not waited for). */
  available(): boolean;
  /** Rejects with TierUnavailableError when Redis cannot run it. */
  evalOnKey(script: string, key: string, args: readonly (string | number)[]): Promise<unknown>;
}

/** Behaviour added around the tiers the service reads and writes, and around the fleet-wide flight (tracing's spans). */
export interface CacheWrappers {
  tier(tier: CacheTier): CacheTier;
  fleet(flight: FleetFlights): FleetFlights;
}

export interface CacheExtras {
  readonly wrappers?: CacheWrappers | undefined;
  /** Journaled invalidations kept for every instance (the gateway's database); without it, each process keeps its own only. */
  readonly sharedJournal?: ((keys: CacheKeys) => SharedJournal) | undefined;
}

/** Wires the cache: pool → tiers (wrapped, measured) → health → service. */
export function createCache(config: Config, logger: Logger, { wrappers, sharedJournal: sharedJournalOf }: CacheExtras = {}): Cache {
  const keys = new CacheKeys(config.cache.keyPrefix);
  const sharedJournal = sharedJournalOf?.(keys);
  const connection: RedisConnectionOptions = {
    topology: config.redis.topology,
    password: config.redis.password,
    db: config.redis.db,
    timeoutMs: config.redis.timeoutMs,
    maxReconnectDelayMs: config.redis.maxReconnectDelayMs,
  };
  const pool = new RedisPool({ ...connection, size: config.redis.poolSize }, logger);
  const redisTier = new RedisTier(pool, (tag) => keys.tagSet(tag));
  const memoryTier = new MemoryTier({
    maxItems: config.cache.fallbackMaxItems,
    maxBytes: config.cache.fallbackMaxBytes,
    purgeIntervalMs: MEMORY_PURGE_INTERVAL_MS,
  });
  const families = new FamilyLookups((key) => keys.familyOf(key));
  // CACHE_ENABLED=false: the service reads and writes tiers that keep nothing, while Redis itself
  // still carries what is not a copy of data (health checks, leases, the invalidation bus).
  const storing = config.cache.enabled;
  const wrap = (tier: CacheTier) => (wrappers === undefined ? tier : wrappers.tier(tier));
  const tiers = {
    redis: new MeasuredTier(wrap(storing ? redisTier : new NullTier('redis')), families),
    memory: Object.assign(new MeasuredTier(wrap(storing ? memoryTier : new NullTier('memory')), families), { clear: () => memoryTier.clear() }),
  };
  const journal = new InvalidationJournal({ maxEntries: JOURNAL_MAX_ENTRIES, everythingPattern: keys.allPattern(), lossWindowMs: JOURNAL_LOSS_WINDOW_MS });
  const bus = new CacheBus(
    {
      channel: keys.busChannel(),
      membersKey: keys.busMembers(),
      memberLeaseMs: config.cache.busMemberLeaseMs,
      ackTimeoutMs: config.cache.busAckTimeoutMs,
      maxReconnectDelayMs: config.redis.maxReconnectDelayMs,
    },
    (attempt) => createSubscriberClient(connection, attempt),
    () => pool.pick(),
    logger,
  );
  // Made here or announced by another instance: an outage may have to replay it (InvalidationJournal.reopen).
  bus.onEvent((event) => {
    if (event.kind === 'invalidation') journal.remember(event.invalidation);
  });
  const replay = (invalidation: Invalidation): Promise<void> => service.replayToRedis(invalidation);
  // Keeps the service's memory tier up to date (the service, made below, needs the health first).
  const follower =
    sharedJournal?.fleetWide !== true
      ? undefined
      : new SharedJournalFollower(
          sharedJournal,
          { apply: (invalidation) => service.applyFromFleet(invalidation), forgetAll: () => service.forgetMemoryTier() },
          Math.max(FOLLOW_LOOK_BACK_MS, 4 * config.redis.healthCheckIntervalMs),
        );
  const health = new RedisHealth(
    {
      ping: async () => {
        await redisTier.ping();
        // Back from the memory tier only once the bus hears invalidations again: before that,
        // writes to Redis are held back and near copies unused (see CacheBus.coherent).
        if (!health.redisServing && !bus.listening) {
          bus.reconnectNow();
          throw new Error('the cache bus is not listening yet');
        }
      },
      replay,
      ...(sharedJournal === undefined ? {} : { replayShared: () => sharedJournal.replay(replay) }),
      ...(follower === undefined ? {} : { followShared: (memorySinceMs) => follower.follow(memorySinceMs) }),
      beforeSwitchBack: () => {
        follower?.stop();
        memoryTier.clear();
        bus.reset();
      },
    },
    journal,
    { checkIntervalMs: config.redis.healthCheckIntervalMs, unhealthyAfterMs: UNHEALTHY_AFTER_MS, everyOutageMayLoseWrites: pool.cluster },
    logger,
  );
  pool.onConnectionLost(() => health.reportConnectionLost());
  const leases = new LeaseManager(redisTier, logger);
  const flight = new FleetFlight(leases, (key) => keys.flightLease(key), () => health.redisServing, {
    // Without a cache another instance's result is never found: waiting for it would only delay the load.
    waitMs: storing ? config.cache.fleetFlightWaitMs : 0,
    pollMs: FLEET_FLIGHT_POLL_MS,
  });
  const fleet = wrappers === undefined ? flight : wrappers.fleet(flight);
  const service = new CacheService(tiers, health, journal, config.cache.ttlSeconds, logger, config.redis.retryOnTimeout, bus, fleet, (key) => keys.groupTagsOf(key), sharedJournal);
  const redisLocation = describeTopology(config.redis.topology);

  return {
    service,
    invalidator: new CacheInvalidator(service, keys),
    keys,
    leases,
    families,
    connections: { pick: () => pool.pick(), subscriber: (attempt) => createSubscriberClient(connection, attempt) },
    scripts: {
      available: () => health.redisServing && health.status() === 'healthy',
      evalOnKey: (script, key, args) => redisTier.evalOnKey(script, key, args),
    },
    async start() {
      // The bus's heartbeat goes through the pool: connect it first.
      await pool.connect();
      await bus.start();
      await health.check();
      if (health.redisServing) logger.info({ redis: redisLocation }, 'cache: Redis reachable, using it as the shared tier');
      else logger.warn({ redis: redisLocation }, 'cache: Redis unreachable, serving from the in-memory tier and reconnecting in the background');
      if (!storing) logger.warn('cache: CACHE_ENABLED=false, the data cache keeps nothing: every read goes to the database or the market-data provider');
      health.start();
    },
    async close() {
      health.stop();
      // Writes behind the last answers, and the leases they hold, land before the tiers go.
      await service.writesLanded();
      await flight.released();
      memoryTier.close();
      await Promise.all([pool.close(), bus.close()]);
    },
    memoryTierBytes: () => memoryTier.bytes,
  };
}
