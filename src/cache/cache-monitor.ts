import type { Logger } from '../logger';

/** Cumulative counts since start, as `OperationMetrics.snapshot()` gives them (the cache service's, over both tiers). */
export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
  readonly errors: number;
  readonly total_operations: number;
}

/** What happened between two samples, in the seed's units (rates in percent). */
export interface CacheWindow {
  readonly hits: number;
  readonly misses: number;
  readonly errors: number;
  readonly operations: number;
  /** Of the keys looked up in the window, percent found; `null` when none was looked up. */
  readonly hit_rate: number | null;
  /** Of the operations in the window, percent that failed; `null` when there was none. */
  readonly error_rate: number | null;
  readonly window_seconds: number;
  /** False when the window had fewer operations than the minimum: the states were left as they were. */
  readonly judged: boolean;
}

export type AlertState = 'ok' | 'alerting';

export interface CacheMonitorReport {
  readonly hit_rate: AlertState;
  readonly error_rate: AlertState;
  readonly thresholds: { readonly min_hit_rate: number; readonly max_error_rate: number; readonly min_operations: number; readonly interval_seconds: number };
  /** The last window sampled; `null` before the first. */
  readonly last_window: CacheWindow | null;
}

export interface CacheMonitorOptions {
  /** CACHE_MONITOR_INTERVAL_SECONDS (60). */
  readonly intervalSeconds: number;
  /** CACHE_ALERT_MIN_HIT_RATE (90, percent). */
  readonly minHitRatePercent: number;
  /** CACHE_ALERT_MAX_ERROR_RATE (1, percent). */
  readonly maxErrorRatePercent: number;
  /** CACHE_ALERT_MIN_OPERATIONS (100): a quieter window is not judged, since a few misses after a deploy are not an incident. */
  readonly minOperations: number;
  /** ms since the epoch; tests move it. */
  readonly now?: () => number;
}

/**
 * The seed's `monitor_cache_performance`, with two changes an operator needs: each window is
 * judged on its own (the seed's rates were since start, so one bad hour after a good week never
 * showed), and a state is logged when it changes, not at every sample, so that a long incident
 * is one warning and one recovery line rather than a line a minute.
 */
export class CacheMonitor {
  private readonly now: () => number;
  private previous: { readonly counts: CacheCounts; readonly atMs: number } | undefined;
  private hitRateState: AlertState = 'ok';
  private errorRateState: AlertState = 'ok';
  private lastWindow: CacheWindow | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sample: () => CacheCounts,
    private readonly options: CacheMonitorOptions,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Takes the first sample now and judges a window every interval until `stop`. */
  start(): void {
    if (this.timer !== undefined) return;
    this.previous = { counts: this.sample(), atMs: this.now() };
    this.timer = setInterval(() => this.check(), this.options.intervalSeconds * 1000);
    // The monitor never keeps a process alive on its own.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Samples, judges the window since the previous sample and logs any change of state; the first call only takes a baseline. */
  check(): CacheWindow | undefined {
    const counts = this.sample();
    const atMs = this.now();
    const previous = this.previous;
    this.previous = { counts, atMs };
    if (previous === undefined) return undefined;

    const window = windowBetween(previous.counts, counts, (atMs - previous.atMs) / 1000, this.options.minOperations);
    this.lastWindow = window;
    if (!window.judged) return window;
    if (window.hit_rate !== null) {
      this.hitRateState = this.transition('hit rate', this.hitRateState, window.hit_rate < this.options.minHitRatePercent, window);
    }
    if (window.error_rate !== null) {
      this.errorRateState = this.transition('error rate', this.errorRateState, window.error_rate > this.options.maxErrorRatePercent, window);
    }
    return window;
  }

  report(): CacheMonitorReport {
    return {
      hit_rate: this.hitRateState,
      error_rate: this.errorRateState,
      thresholds: {
        min_hit_rate: this.options.minHitRatePercent,
        max_error_rate: this.options.maxErrorRatePercent,
        min_operations: this.options.minOperations,
        interval_seconds: this.options.intervalSeconds,
      },
      last_window: this.lastWindow,
    };
  }

  private transition(figure: 'hit rate' | 'error rate', state: AlertState, breached: boolean, window: CacheWindow): AlertState {
    const { minHitRatePercent, maxErrorRatePercent } = this.options;
    const fields = { window, threshold: figure === 'hit rate' ? { min_hit_rate: minHitRatePercent } : { max_error_rate: maxErrorRatePercent } };
    if (breached && state === 'ok') {
      // The seed's levels: a low hit rate costs speed (warning), failing cache operations are faults (error).
      if (figure === 'hit rate') this.logger.warn(fields, `cache monitor: low cache hit rate: ${window.hit_rate}% (under ${minHitRatePercent}%)`);
      else this.logger.error(fields, `cache monitor: high cache error rate: ${window.error_rate}% (over ${maxErrorRatePercent}%)`);
      return 'alerting';
    }
    if (!breached && state === 'alerting') {
      const value = figure === 'hit rate' ? window.hit_rate : window.error_rate;
      this.logger.info(fields, `cache monitor: cache ${figure} recovered: ${value}%`);
      return 'ok';
    }
    return state;
  }
}

function windowBetween(before: CacheCounts, after: CacheCounts, windowSeconds: number, minOperations: number): CacheWindow {
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  const errors = after.errors - before.errors;
  const operations = after.total_operations - before.total_operations;
  return {
    hits,
    misses,
    errors,
    operations,
    hit_rate: hits + misses === 0 ? null : round2((hits / (hits + misses)) * 100),
    error_rate: operations === 0 ? null : round2((errors / operations) * 100),
    window_seconds: round2(windowSeconds),
    judged: operations >= minOperations,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
