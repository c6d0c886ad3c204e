import type { Histogram, Registry } from 'prom-client';

import type { CacheMonitorReport } from '../cache/cache-monitor';
import type { CacheMetricsReport, CacheHealthReport } from '../cache/cache.service';
import type { ResponseCacheMetrics } from '../graphql/response-cache/response-cache';
import type { MarketDataReport } from '../market/market.service';
import type { WarmingMetrics } from '../warming/warming.service';

/** The route whose latency the console charts: GraphQL's, not the console's own polling. */
export const CHARTED_ROUTE = '/graphql';
const HTTP_DURATION = 'gateway_http_request_duration_seconds';

/**
 * `GET /ops/stats`: cumulative counters only, from the sources `/metrics` and `/cache/metrics`
 * read. The console takes the difference between two polls, as Prometheus's rate() does, so that
 * every chart shows the last few seconds rather than averages since start, and two consoles
 * open at once do not disturb each other.
 */
export interface OpsStats {
  readonly time_ms: number;
  readonly cache: Omit<CacheMetricsReport, 'tiers'> & Pick<CacheHealthReport, 'status' | 'pending_invalidations'> & {
    readonly tiers: Readonly<Record<'redis' | 'memory', Pick<CacheMetricsReport['tiers']['redis'], 'hits' | 'misses' | 'errors' | 'total_operations'>>>;
  };
  readonly response_cache: ResponseCacheMetrics | null;
  /** gateway_http_request_duration_seconds of CHARTED_ROUTE, every method: cumulative buckets (upper bound in seconds, count). */
  readonly http: { readonly route: string; readonly buckets: readonly { readonly le: number; readonly count: number }[]; readonly count: number; readonly sum_seconds: number };
  readonly market: MarketDataReport;
  readonly warming: WarmingMetrics;
  readonly monitor: CacheMonitorReport;
}

export interface OpsStatsSources {
  readonly metrics: Registry;
  readonly cache: { metricsReport(): CacheMetricsReport; healthReport(): CacheHealthReport };
  readonly responseCache: () => ResponseCacheMetrics | undefined;
  readonly market: { report(): MarketDataReport };
  readonly warming: { metrics(): WarmingMetrics };
  readonly monitor: { report(): CacheMonitorReport };
  readonly now?: () => number;
}

export async function opsStats(sources: OpsStatsSources): Promise<OpsStats> {
  const { tiers, ...cache } = sources.cache.metricsReport();
  const health = sources.cache.healthReport();
  const pick = ({ hits, misses, errors, total_operations }: CacheMetricsReport['tiers']['redis']) => ({ hits, misses, errors, total_operations });
  return {
    time_ms: (sources.now ?? Date.now)(),
    cache: { ...cache, status: health.status, pending_invalidations: health.pending_invalidations, tiers: { redis: pick(tiers.redis), memory: pick(tiers.memory) } },
    response_cache: sources.responseCache() ?? null,
    http: await routeLatency(sources.metrics, CHARTED_ROUTE),
    market: sources.market.report(),
    warming: sources.warming.metrics(),
    monitor: sources.monitor.report(),
  };
}

/** The HTTP histogram's series of one route, summed over methods, read from the registry that /metrics serves. */
async function routeLatency(registry: Registry, route: string): Promise<OpsStats['http']> {
  const histogram = registry.getSingleMetric(HTTP_DURATION) as Histogram | undefined;
  const byBound = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const value of (await histogram?.get())?.values ?? []) {
    if (value.labels.route !== route) continue;
    if (value.metricName === `${HTTP_DURATION}_bucket`) {
      const le = Number(value.labels.le);
      // +Inf is the total count, given below.
      if (Number.isFinite(le)) byBound.set(le, (byBound.get(le) ?? 0) + value.value);
    } else if (value.metricName === `${HTTP_DURATION}_count`) count += value.value;
    else if (value.metricName === `${HTTP_DURATION}_sum`) sum += value.value;
  }
  const buckets = [...byBound].sort(([a], [b]) => a - b).map(([le, bucketCount]) => ({ le, count: bucketCount }));
  return { route, buckets, count, sum_seconds: sum };
}
