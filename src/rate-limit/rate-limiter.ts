import { LRUCache } from 'lru-cache';

import type { Logger } from '../logger';
import { EPSILON, emissionMs, type Grant, type RatePolicy } from './gcra';
import type { LocalBudgets } from './local-budgets';
import type { RedisBudgets } from './redis-budgets';

/** A charge's outcome: ALLOWED (one shared object: nothing allocated on the cheap path), or a refusal with what the headers say. */
export type Verdict = typeof ALLOWED | Refusal;
export const ALLOWED = Object.freeze({ allowed: true as const });
export interface Refusal {
  readonly allowed: false;
  readonly policy: RatePolicy;
  /** What the request would have spent (capped at the burst). */
  readonly cost: number;
  readonly retryAfterMs: number;
  readonly remaining: number;
  readonly fullInMs: number;
}

export interface RateLimiterOptions {
  /** Largest lease of one viewer's budget an instance takes at a time (RATE_LIMIT_LEASE_MAX_COST). */
  readonly leaseMaxCost: number;
  /** Longest a lease waits for Redis before the local budgets decide (RATE_LIMIT_REDIS_TIMEOUT_MS). */
  readonly redisTimeoutMs: number;
  /** ms since the epoch; the same clock in every instance's sense (see redis-budgets.ts). */
  readonly now: () => number;
}

/** Counts for /metrics. */
export interface RateLimitCounts {
  readonly refused: Readonly<Record<RatePolicy['name'], number>>;
  /** Leases decided by Redis, and by this process's budgets (Redis down, frozen or slower than the timeout). */
  readonly leases: { readonly redis: number; readonly local: number };
}

/**
 * A lease is spent within this, or its rest lapses: it bounds how long an instance sits on units
 * another could use. What lapses goes back to the budget with the viewer's next lease.
 */
const LEASE_LIFE_MS = 1_000;
/** A lease is at most this share of a burst (a tenth), so instances sharing a budget are off by little. */
const LEASE_BURST_DIVISOR = 10;
/** Viewers whose leases an instance keeps; the least recently seen go first (their leases lapse). */
const MAX_LEASES = 100_000;

interface Lease {
  /** Units left to spend here without asking Redis. */
  units: number;
  expiresAtMs: number;
  /** The size of the last lease asked for: twice that for a viewer that spent it within its life, half for one that let it lapse. */
  size: number;
  /** Which store granted `units` (what lapses goes back there, and nowhere else). */
  source: 'redis' | 'local';
  /** The lease being renewed: concurrent requests of the viewer wait for it rather than each asking Redis. */
  renewing: Promise<void> | undefined;
  /**
   * The budget's TAT as its store last told it (rounded up to the ms): other instances can only
   * have moved it later since, so what it leaves is an upper bound of what the store would grant.
   */
  tatMs: number;
}

/**
 * Budgets of query cost per viewer, kept in Redis (GCRA, one key per viewer) and spent through
 * leases, so that the common case costs no round trip: an instance takes a viewer's units from
 * Redis in chunks and spends them locally, synchronously. Why leases rather than a charge per
 * request: a near hit is answered in a few tens of microseconds (BENCHMARKS.md), a Redis round
 * trip costs more than that; with leases a hot viewer costs one round trip per lease, an
 * occasional one one per request (its lease is exactly what it spends), and a refused one none
 * until its cost can fit (surelyRefused).
 *
 * What this gives up: instances sharing a budget are off by at most one lease each (a tenth of
 * the burst, and at most RATE_LIMIT_LEASE_MAX_COST); a grant from a Redis that answered after the
 * timeout is dropped while the local budgets decide (the viewer's loss, never its gain); units
 * of a viewer that never comes back stay spent until the budget refills. While Redis cannot
 * answer, LocalBudgets decides: a limit per instance, starting from the budget Redis last reported.
 */
export class RateLimiter {
  private readonly leases = new LRUCache<string, Lease>({ max: MAX_LEASES });
  private readonly counts = { refused: { user: 0, anonymous: 0, admin: 0 }, leases: { redis: 0, local: 0 } };
  private deciding: 'redis' | 'local' = 'redis';

  constructor(
    private readonly redis: RedisBudgets,
    private readonly local: LocalBudgets,
    private readonly options: RateLimiterOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * Spends `cost` of `viewer`'s budget. Synchronous (ALLOWED) while its lease here covers it;
   * otherwise a promise of the verdict, which never rejects. A cost above the burst spends the
   * whole burst: such a query passes only on a full budget, rather than never.
   */
  charge(viewer: string, policy: RatePolicy, cost: number): Verdict | Promise<Verdict> {
    const need = Math.min(cost, policy.burstCost);
    if (need <= 0) return ALLOWED;
    const lease = this.leases.get(viewer);
    if (lease !== undefined && lease.renewing === undefined) {
      const nowMs = this.options.now();
      if (lease.units >= need && lease.expiresAtMs > nowMs) {
        lease.units -= need;
        return ALLOWED;
      }
      // A client that keeps asking once refused is refused here, without a round trip each time.
      const refusal = this.surelyRefused(lease, policy, need, nowMs);
      if (refusal !== undefined) return refusal;
    }
    return this.renew(viewer, policy, need);
  }

  /** Gives back units charged but not spent (a shared hit charged as an execution): to the lease here, never to Redis. */
  refund(viewer: string, units: number): void {
    const lease = this.leases.get(viewer);
    if (lease !== undefined && units > 0) lease.units += units;
  }

  metrics(): RateLimitCounts {
    return { refused: { ...this.counts.refused }, leases: { ...this.counts.leases } };
  }

  /** A refusal when even the lease plus all the store could have left falls short of `need`; `undefined`: ask the store. */
  private surelyRefused(lease: Lease, policy: RatePolicy, need: number, nowMs: number): Refusal | undefined {
    // A lapsed lease's units count too: they go back to the budget with the next take (renew).
    const held = lease.units;
    const emission = emissionMs(policy);
    const tolerance = policy.burstCost * emission;
    const ahead = Math.max(0, lease.tatMs - nowMs);
    // A millisecond of slack for the rounding up: never refuse here what the store would grant.
    const available = Math.floor((tolerance - Math.max(0, ahead - 1)) / emission + EPSILON);
    if (held + available >= need) return undefined;
    this.counts.refused[policy.name] += 1;
    return { allowed: false, policy, cost: need, retryAfterMs: Math.max(1, Math.ceil(ahead + (need - held) * emission - tolerance)), remaining: held + Math.max(0, available), fullInMs: Math.ceil(ahead) };
  }

  private async renew(viewer: string, policy: RatePolicy, need: number): Promise<Verdict> {
    let lease = this.leases.get(viewer);
    while (lease?.renewing !== undefined) {
      await lease.renewing;
      lease = this.leases.get(viewer);
    }
    const nowMs = this.options.now();
    const fresh = lease !== undefined && lease.expiresAtMs > nowMs;
    if (fresh && lease!.units >= need) {
      lease!.units -= need;
      return ALLOWED;
    }
    const held = fresh ? lease!.units : 0;
    const lapsed = lease === undefined || fresh ? undefined : { units: lease.units, source: lease.source };
    const maxSize = Math.max(1, Math.min(this.options.leaseMaxCost, Math.ceil(policy.burstCost / LEASE_BURST_DIVISOR)));
    const min = need - held;
    // Leases grow while they are spent within their life and shrink when they lapse: they settle
    // near what the viewer spends in a lease's life, so that little lapses and Redis is seldom asked.
    const size = lease === undefined ? 0 : fresh ? Math.min(maxSize, lease.size * 2) : Math.floor(lease.size / 2);
    const want = Math.max(min, size);
    let done = (): void => undefined;
    const renewing = new Promise<void>((resolve) => (done = resolve));
    const next: Lease = { units: held, expiresAtMs: fresh ? lease!.expiresAtMs : 0, size: want, source: lease?.source ?? 'redis', renewing, tatMs: lease?.tatMs ?? -Infinity };
    this.leases.set(viewer, next);
    try {
      const { grant, source } = await this.take(viewer, nowMs, policy, want, min, lapsed);
      next.source = source;
      next.tatMs = nowMs + grant.fullInMs;
      if (grant.granted === 0) {
        this.counts.refused[policy.name] += 1;
        return { allowed: false, policy, cost: need, retryAfterMs: grant.retryAfterMs, remaining: held + grant.remaining, fullInMs: grant.fullInMs };
      }
      next.units = held + grant.granted - need;
      next.expiresAtMs = this.options.now() + LEASE_LIFE_MS;
      return ALLOWED;
    } finally {
      next.renewing = undefined;
      done();
    }
  }

  /**
   * From Redis while it serves and answers within the timeout; from this process's budgets
   * otherwise. A lapsed lease's units go back to the store that granted them, if that is the one
   * asked (a refund sent to a Redis that then timed out may or may not land: the viewer's loss).
   */
  private async take(viewer: string, nowMs: number, policy: RatePolicy, want: number, min: number, lapsed: Pick<Lease, 'units' | 'source'> | undefined): Promise<{ grant: Grant; source: Lease['source'] }> {
    const refundTo = (source: Lease['source']) => (lapsed !== undefined && lapsed.source === source ? lapsed.units : 0);
    if (this.redis.available) {
      try {
        const grant = await withTimeout(this.redis.take(viewer, nowMs, policy, want, min, refundTo('redis')), this.options.redisTimeoutMs);
        this.local.follow(viewer, nowMs + grant.fullInMs);
        this.counts.leases.redis += 1;
        this.decidedBy('redis');
        return { grant, source: 'redis' };
      } catch (error) {
        this.logger.debug({ err: error, viewer }, 'rate limits: Redis did not answer, deciding locally');
      }
    }
    this.counts.leases.local += 1;
    this.decidedBy('local');
    return { grant: this.local.take(viewer, nowMs, policy, want, min, refundTo('local')), source: 'local' };
  }

  /** One log line per change, not one per lease. */
  private decidedBy(store: 'redis' | 'local'): void {
    if (store === this.deciding) return;
    this.deciding = store;
    if (store === 'local') this.logger.warn('rate limits: Redis unavailable, budgets are kept per instance until it is back');
    else this.logger.info('rate limits: Redis available, budgets are shared by the fleet again');
  }
}

/** Rejects after `ms`; the promise itself goes on (a late grant is spent in Redis and not used: the viewer's loss). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
