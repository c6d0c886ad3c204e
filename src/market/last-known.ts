import type { CacheService } from '../cache/cache.service';

/** Counts of stale-if-error decisions, one per value asked for (a quote, a candle series). */
export class StaleIfErrorStats {
  served = 0;
  /** Of `served`: served because the provider had not answered within MARKET_STALE_AFTER_MS (it may still succeed). */
  servedSlowUpstream = 0;
  /** A last-known copy existed but was older than its fresh TTL plus the grace window. */
  refusedTooOld = 0;
  /** No last-known copy (never loaded, invalidated, or expired from the cache). */
  refusedAbsent = 0;
}

export interface LastKnownOptions {
  /** MARKET_STALE_IF_ERROR_SECONDS: how long after its fresh copy expires a value may still be served on upstream failure; 0 turns it off. */
  readonly graceSeconds: number;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

export interface Recalled<T> {
  readonly value: T;
  readonly ageSeconds: number;
}

interface Envelope {
  readonly value: unknown;
  readonly fetchedAtMs: number;
}

/**
 * The last value fetched for each market key, kept beside the fresh entry for its fresh TTL plus
 * the grace window, and read only when the upstream fails. Its age is checked against the same
 * bound on read, since the memory tier and Redis round TTLs differently and the clock is injected.
 */
export class LastKnownValues {
  constructor(
    private readonly cache: CacheService,
    private readonly options: LastKnownOptions,
    readonly stats: StaleIfErrorStats,
  ) {}

  get graceSeconds(): number {
    return this.options.graceSeconds;
  }

  /**
   * Keeps copies of freshly loaded values. `sinceEpoch` is the cache's invalidation epoch when the
   * load started: a value loaded before an invalidation must not survive it as a last-known copy.
   */
  async remember(entries: readonly { key: string; value: unknown; freshTtlSeconds: number }[], sinceEpoch: number): Promise<void> {
    if (this.options.graceSeconds === 0 || entries.length === 0 || this.cache.invalidationEpoch !== sinceEpoch) return;
    const fetchedAtMs = this.options.now();
    await this.cache.mset(
      entries.map(({ key, value, freshTtlSeconds }) => ({ key, value: { value, fetchedAtMs } satisfies Envelope, ttlSeconds: freshTtlSeconds + this.options.graceSeconds })),
    );
  }

  /** For each key, its last-known value when it is within the window; `undefined` otherwise. One round trip; every answer is counted. */
  async recall<T>(entries: readonly { key: string; freshTtlSeconds: number }[]): Promise<(Recalled<T> | undefined)[]> {
    if (this.options.graceSeconds === 0) return entries.map(() => undefined);
    const found = await this.lookup<T>(entries);
    for (const { outcome } of found) {
      if (outcome === 'served') this.stats.served += 1;
      else if (outcome === 'too_old') this.stats.refusedTooOld += 1;
      else this.stats.refusedAbsent += 1;
    }
    return found.map(({ recalled }) => recalled);
  }

  /**
   * Like recall, but counts nothing: for a look taken while the provider is merely slow, when it is
   * not yet known whether the copies will be served. Count the ones that are with `countServedSlow`.
   */
  async peek<T>(entries: readonly { key: string; freshTtlSeconds: number }[]): Promise<(Recalled<T> | undefined)[]> {
    return (await this.lookup<T>(entries)).map(({ recalled }) => recalled);
  }

  /** `count` copies found by `peek` were served because the provider was slow. */
  countServedSlow(count: number): void {
    this.stats.served += count;
    this.stats.servedSlowUpstream += count;
  }

  private async lookup<T>(entries: readonly { key: string; freshTtlSeconds: number }[]): Promise<{ outcome: 'served' | 'too_old' | 'absent'; recalled?: Recalled<T> }[]> {
    if (this.options.graceSeconds === 0 || entries.length === 0) return entries.map(() => ({ outcome: 'absent' }));
    const found = await this.cache.mget<unknown>(entries.map((entry) => entry.key));
    const now = this.options.now();
    return entries.map((entry, index) => {
      const envelope = found[index];
      if (!isEnvelope(envelope)) return { outcome: 'absent' };
      const ageMs = now - envelope.fetchedAtMs;
      if (ageMs > (entry.freshTtlSeconds + this.options.graceSeconds) * 1000) return { outcome: 'too_old' };
      return { outcome: 'served', recalled: { value: envelope.value as T, ageSeconds: Math.max(0, Math.floor(ageMs / 1000)) } };
    });
  }
}

function isEnvelope(value: unknown): value is Envelope {
  return value !== null && typeof value === 'object' && 'value' in value && 'fetchedAtMs' in value && typeof value.fetchedAtMs === 'number';
}
