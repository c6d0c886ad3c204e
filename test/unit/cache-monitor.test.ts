import { type CacheCounts, CacheMonitor, type CacheMonitorOptions } from '../../src/cache/cache-monitor';

/**
 * The seed's monitor_cache_performance, judged window by window: counts are fed by hand, the
 * clock is moved by hand, and the log lines are what an operator would read.
 */

interface Line {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

function monitorWith(options: Partial<CacheMonitorOptions> = {}) {
  let counts: CacheCounts = { hits: 0, misses: 0, errors: 0, total_operations: 0 };
  let nowMs = 1_000_000;
  const lines: Line[] = [];
  const log = (level: Line['level']) => (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message });
  const monitor = new CacheMonitor(
    () => counts,
    { intervalSeconds: 60, minHitRatePercent: 90, maxErrorRatePercent: 1, minOperations: 100, now: () => nowMs, ...options },
    { info: log('info'), warn: log('warn'), error: log('error') } as unknown as ConstructorParameters<typeof CacheMonitor>[2],
  );
  monitor.check(); // the baseline
  /** One window of `seconds`: so many keys found and not, operations, failed ones. */
  const window = (hits: number, misses: number, operations: number, errors = 0, seconds = 60) => {
    counts = { hits: counts.hits + hits, misses: counts.misses + misses, errors: counts.errors + errors, total_operations: counts.total_operations + operations };
    nowMs += seconds * 1000;
    return monitor.check();
  };
  return { monitor, lines, window };
}

describe('the cache monitor', () => {
  it('takes a baseline first and judges nothing until a window has passed', () => {
    const { monitor, lines } = monitorWith();
    expect(monitor.report().last_window).toBeNull();
    expect(lines).toEqual([]);
  });

  it('when a window\'s hit rate falls under the threshold, then it warns once with the window\'s figures', () => {
    const { lines, window } = monitorWith();
    window(80, 20, 100);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', message: expect.stringMatching(/low cache hit rate: 80% \(under 90%\)/) });
    expect(lines[0]!.fields).toEqual({
      window: { hits: 80, misses: 20, errors: 0, operations: 100, hit_rate: 80, error_rate: 0, window_seconds: 60, judged: true },
      threshold: { min_hit_rate: 90 },
    });
    window(50, 50, 100);
    window(10, 90, 100);
    expect(lines).toHaveLength(1);
  });

  it('when the hit rate is back over the threshold, then it logs one recovery line', () => {
    const { monitor, lines, window } = monitorWith();
    window(80, 20, 100);
    expect(monitor.report().hit_rate).toBe('alerting');
    window(95, 5, 100);
    window(99, 1, 100);
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ['warn', expect.stringMatching(/low cache hit rate/)],
      ['info', expect.stringMatching(/cache hit rate recovered: 95%/)],
    ]);
    expect(monitor.report().hit_rate).toBe('ok');
  });

  it('when a window\'s error rate goes over the threshold, then it logs an error once, and a recovery', () => {
    const { lines, window } = monitorWith();
    window(200, 0, 200, 4); // 2 % of operations failed
    window(200, 0, 200, 3);
    window(200, 0, 200, 1); // 0.5 %
    expect(lines.map((line) => line.level)).toEqual(['error', 'info']);
    expect(lines[0]!.message).toMatch(/high cache error rate: 2% \(over 1%\)/);
    expect(lines[0]!.fields).toMatchObject({ window: { errors: 4, operations: 200, error_rate: 2 }, threshold: { max_error_rate: 1 } });
    expect(lines[1]!.message).toMatch(/cache error rate recovered: 0.5%/);
  });

  it('judges the window since the last sample, not the figures since start', () => {
    const { lines, window } = monitorWith();
    window(100_000, 0, 100_000); // a long good run...
    window(50, 50, 100); // ...does not hide a bad minute
    expect(lines.map((line) => line.level)).toEqual(['warn']);
    expect(lines[0]!.fields.window).toMatchObject({ hits: 50, misses: 50, hit_rate: 50 });
  });

  it('leaves a window with fewer operations than the minimum unjudged, and says so', () => {
    const { monitor, lines, window } = monitorWith({ minOperations: 100 });
    expect(window(0, 99, 99, 50)).toMatchObject({ judged: false, hit_rate: 0 });
    expect(lines).toEqual([]);
    expect(monitor.report()).toMatchObject({ hit_rate: 'ok', error_rate: 'ok', thresholds: { min_operations: 100 } });
    // A quiet window during an alert neither repeats nor ends it.
    window(0, 100, 100);
    window(0, 5, 5);
    expect(lines.map((line) => line.level)).toEqual(['warn']);
    expect(monitor.report().hit_rate).toBe('alerting');
  });

  it('reports the window\'s length from the clock it is given', () => {
    const { window } = monitorWith();
    expect(window(100, 0, 100, 0, 15)).toMatchObject({ window_seconds: 15 });
  });

  it('samples every interval once started, and not after stop', () => {
    jest.useFakeTimers();
    try {
      let samples = 0;
      const monitor = new CacheMonitor(
        () => {
          samples += 1;
          return { hits: 0, misses: 0, errors: 0, total_operations: 0 };
        },
        { intervalSeconds: 30, minHitRatePercent: 90, maxErrorRatePercent: 1, minOperations: 100 },
        { info: jest.fn(), warn: jest.fn(), error: jest.fn() },
      );
      monitor.start();
      expect(samples).toBe(1);
      jest.advanceTimersByTime(90_000);
      expect(samples).toBe(4);
      monitor.stop();
      jest.advanceTimersByTime(90_000);
      expect(samples).toBe(4);
    } finally {
      jest.useRealTimers();
    }
  });
});
