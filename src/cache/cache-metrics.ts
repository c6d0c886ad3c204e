import { KEY_FAMILIES, type KeyFamily } from './cache-keys';
import type { CacheEntry, CacheTier, TierName } from './cache-tier';

/** Durations kept for percentiles: the most recent ones, in a ring. */
const SAMPLE_SIZE = 2048;

/** Counters in the seed's shape (rates in percent, times in milliseconds), plus p50/p99. */
export interface MetricsSnapshot {
  readonly hits: number;
  readonly misses: number;
  readonly errors: number;
  readonly total_operations: number;
  readonly hit_rate: number;
  readonly error_rate: number;
  readonly average_response_time_ms: number;
  readonly p50_response_time_ms: number;
  readonly p99_response_time_ms: number;
}

export type Outcome = 'hit' | 'miss' | 'ok' | 'error';

export class OperationMetrics {
  private hits = 0;
  private misses = 0;
  private errors = 0;
  private operations = 0;
  private totalMs = 0;
  private readonly samples = new Float64Array(SAMPLE_SIZE);
  private sampled = 0;

  /** One operation; a multi-key read counts its hits and misses per key. */
  record(durationMs: number, outcome: Outcome, hits = outcome === 'hit' ? 1 : 0, misses = outcome === 'miss' ? 1 : 0): void {
    this.operations += 1;
    this.totalMs += durationMs;
    this.samples[this.sampled % SAMPLE_SIZE] = durationMs;
    this.sampled += 1;
    this.hits += hits;
    this.misses += misses;
    if (outcome === 'error') this.errors += 1;
  }

  /** An error inside an operation that was still answered (a Redis failure served from memory). */
  noteError(): void {
    this.errors += 1;
  }

  snapshot(): MetricsSnapshot {
    const lookups = this.hits + this.misses;
    const window = Array.from(this.samples.subarray(0, Math.min(this.sampled, SAMPLE_SIZE))).sort((a, b) => a - b);
    const percentile = (p: number) => (window.length === 0 ? 0 : round(window[Math.min(window.length - 1, Math.floor((p / 100) * window.length))]!, 3));
    return {
      hits: this.hits,
      misses: this.misses,
      errors: this.errors,
      total_operations: this.operations,
      hit_rate: lookups === 0 ? 0 : round((this.hits / lookups) * 100, 2),
      error_rate: this.operations === 0 ? 0 : round((this.errors / this.operations) * 100, 2),
      average_response_time_ms: this.operations === 0 ? 0 : round(this.totalMs / this.operations, 3),
      p50_response_time_ms: percentile(50),
      p99_response_time_ms: percentile(99),
    };
  }
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/**
 * Keys found and not found by kind of data (users, signals, market, …), whichever tier answered:
 * the seed's figures are per kind ("hit rate for user data"), which one hit rate over every key,
 * whole responses included, does not tell.
 */
export class FamilyLookups {
  private readonly counts = new Map<KeyFamily, { hits: number; misses: number }>(KEY_FAMILIES.map((family) => [family, { hits: 0, misses: 0 }]));

  constructor(private readonly familyOf: (key: string) => KeyFamily) {}

  record(keys: readonly string[], values: readonly (string | undefined)[]): void {
    keys.forEach((key, index) => {
      const count = this.counts.get(this.familyOf(key))!;
      if (values[index] === undefined) count.misses += 1;
      else count.hits += 1;
    });
  }

  snapshot(): ReadonlyMap<KeyFamily, { readonly hits: number; readonly misses: number }> {
    return new Map([...this.counts].map(([family, count]) => [family, { ...count }]));
  }
}

/** Adds per-tier metrics to any tier, without the tier knowing; `families`, when given, also counts its lookups by kind of data. */
export class MeasuredTier implements CacheTier {
  readonly metrics = new OperationMetrics();

  constructor(
    private readonly inner: CacheTier,
    private readonly families?: FamilyLookups,
  ) {}

  get name(): TierName {
    return this.inner.name;
  }

  get(key: string): Promise<string | undefined> {
    return this.measure(
      () => this.inner.get(key),
      (value) => {
        this.families?.record([key], [value]);
        return value === undefined ? 'miss' : 'hit';
      },
    );
  }

  async mget(keys: readonly string[]): Promise<(string | undefined)[]> {
    const started = performance.now();
    try {
      const values = await this.inner.mget(keys);
      this.families?.record(keys, values);
      const hits = values.filter((value) => value !== undefined).length;
      this.metrics.record(performance.now() - started, hits === values.length ? 'hit' : 'miss', hits, values.length - hits);
      return values;
    } catch (error) {
      this.metrics.record(performance.now() - started, 'error');
      throw error;
    }
  }

  set(entry: CacheEntry): Promise<void> {
    return this.measure(() => this.inner.set(entry));
  }

  mset(entries: readonly CacheEntry[]): Promise<void> {
    return this.measure(() => this.inner.mset(entries));
  }

  exists(key: string): Promise<boolean> {
    return this.measure(() => this.inner.exists(key));
  }

  ttl(key: string): Promise<number | undefined> {
    return this.measure(() => this.inner.ttl(key));
  }

  delete(keys: readonly string[]): Promise<number> {
    return this.measure(() => this.inner.delete(keys));
  }

  deletePattern(pattern: string): Promise<number> {
    return this.measure(() => this.inner.deletePattern(pattern));
  }

  deleteTagged(tags: readonly string[]): Promise<number> {
    return this.measure(() => this.inner.deleteTagged(tags));
  }

  private async measure<T>(operation: () => Promise<T>, outcome: (result: T) => Outcome = () => 'ok'): Promise<T> {
    const started = performance.now();
    try {
      const result = await operation();
      this.metrics.record(performance.now() - started, outcome(result));
      return result;
    } catch (error) {
      this.metrics.record(performance.now() - started, 'error');
      throw error;
    }
  }
}
