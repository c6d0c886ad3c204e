import type { Lease } from '../cache/lease';
import type { Logger } from '../logger';

/** The seed's four strategies. */
export const WARMING_STRATEGIES = ['user_data', 'signals_data', 'market_data', 'statistics'] as const;
export type WarmingStrategyName = (typeof WARMING_STRATEGIES)[number];

/** Runs one unit of warming work under the shared concurrency bound. */
export type WarmingLimiter = <T>(task: () => Promise<T>) => Promise<T>;

/** A way to fill the cache; it returns how many items it warmed. Every task it starts goes through `limit`. */
export interface WarmingStrategy {
  readonly name: WarmingStrategyName;
  run(limit: WarmingLimiter): Promise<number>;
}

export interface StrategyResult {
  readonly name: WarmingStrategyName;
  readonly success: boolean;
  readonly items_processed: number;
  readonly duration_ms: number;
  readonly error: string | null;
}

export type WarmingRun =
  | { readonly status: 'completed'; readonly started_at: string; readonly duration_ms: number; readonly results: readonly StrategyResult[] }
  | { readonly status: 'skipped'; readonly reason: string };

export interface StrategyMetrics extends StrategyResult {
  readonly runs: number;
  readonly failures: number;
  readonly last_run_at: string | null;
}

export interface WarmingMetrics {
  readonly enabled: boolean;
  readonly running: boolean;
  readonly interval_seconds: number;
  readonly max_concurrent: number;
  readonly runs: number;
  readonly skipped_runs: number;
  readonly last_run_at: string | null;
  readonly strategies: readonly StrategyMetrics[];
}

export interface WarmingOptions {
  readonly enabled: boolean;
  readonly intervalSeconds: number;
  /** Tasks in flight at once, across all strategies (CACHE_WARMING_MAX_CONCURRENT). */
  readonly maxConcurrent: number;
  /** The cross-instance lease outlives a run that hangs by at most this long. */
  readonly leaseTtlMs: number;
}

export interface WarmingLeases {
  tryAcquire(key: string, ttlMs: number): Promise<Lease | null>;
}

/**
 * Cache warming: at start and every interval when enabled, and on demand. A run never overlaps
 * another — in this process or, through a lease in Redis, in another gateway instance — and a
 * strategy that fails does not stop the others.
 */
export class WarmingService {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private runs = 0;
  private skippedRuns = 0;
  private lastRunAt: Date | null = null;
  private readonly perStrategy = new Map<WarmingStrategyName, StrategyMetrics>();

  constructor(
    private readonly strategies: readonly WarmingStrategy[],
    private readonly leases: WarmingLeases,
    private readonly leaseKey: string,
    private readonly options: WarmingOptions,
    private readonly logger: Logger,
  ) {}

  /** Starts the schedule (first run right away, in the background) when warming is enabled. */
  start(): void {
    if (!this.options.enabled) return;
    const tick = () => {
      this.warm().catch((error: unknown) => this.logger.error({ err: error }, 'warming: run failed'));
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Runs the named strategies (all by default) unless a run is already in progress anywhere. */
  async warm(names: readonly WarmingStrategyName[] = WARMING_STRATEGIES): Promise<WarmingRun> {
    if (this.running) return this.skip('a warming run is already in progress on this instance');
    this.running = true;
    try {
      const lease = await this.leases.tryAcquire(this.leaseKey, this.options.leaseTtlMs);
      if (lease === null) return this.skip('a warming run is already in progress on another instance');
      try {
        return await this.runStrategies(this.strategies.filter((strategy) => names.includes(strategy.name)));
      } finally {
        await lease.release();
      }
    } finally {
      this.running = false;
    }
  }

  metrics(): WarmingMetrics {
    return {
      enabled: this.options.enabled,
      running: this.running,
      interval_seconds: this.options.intervalSeconds,
      max_concurrent: this.options.maxConcurrent,
      runs: this.runs,
      skipped_runs: this.skippedRuns,
      last_run_at: this.lastRunAt?.toISOString() ?? null,
      strategies: this.strategies.map((strategy) => this.perStrategy.get(strategy.name) ?? neverRun(strategy.name)),
    };
  }

  private async runStrategies(strategies: readonly WarmingStrategy[]): Promise<WarmingRun> {
    const startedAt = new Date();
    const limit = createLimiter(this.options.maxConcurrent);
    const results = await Promise.all(strategies.map((strategy) => this.runOne(strategy, limit)));
    this.runs += 1;
    this.lastRunAt = startedAt;
    const run: WarmingRun = { status: 'completed', started_at: startedAt.toISOString(), duration_ms: Date.now() - startedAt.getTime(), results };
    this.logger.info({ durationMs: run.duration_ms, items: results.reduce((sum, r) => sum + r.items_processed, 0), failed: results.filter((r) => !r.success).map((r) => r.name) }, 'warming: run completed');
    return run;
  }

  private async runOne(strategy: WarmingStrategy, limit: WarmingLimiter): Promise<StrategyResult> {
    const started = Date.now();
    let result: StrategyResult;
    try {
      const items = await strategy.run(limit);
      result = { name: strategy.name, success: true, items_processed: items, duration_ms: Date.now() - started, error: null };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error({ err: error, strategy: strategy.name }, 'warming: strategy failed');
      result = { name: strategy.name, success: false, items_processed: 0, duration_ms: Date.now() - started, error: message };
    }
    const previous = this.perStrategy.get(strategy.name) ?? neverRun(strategy.name);
    this.perStrategy.set(strategy.name, {
      ...result,
      runs: previous.runs + 1,
      failures: previous.failures + (result.success ? 0 : 1),
      last_run_at: new Date(started).toISOString(),
    });
    return result;
  }

  private skip(reason: string): WarmingRun {
    this.skippedRuns += 1;
    this.logger.info({ reason }, 'warming: run skipped');
    return { status: 'skipped', reason };
  }
}

function neverRun(name: WarmingStrategyName): StrategyMetrics {
  return { name, success: false, items_processed: 0, duration_ms: 0, error: null, runs: 0, failures: 0, last_run_at: null };
}

/** At most `max` tasks in flight; the others wait their turn in order. */
export function createLimiter(max: number): WarmingLimiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < max) active += 1;
    // A finishing task hands its slot straight to the next waiter, so no newcomer can slip in between.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) active -= 1;
      else next();
    }
  };
}
