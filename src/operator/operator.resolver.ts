import { Arg, Args, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';

import type { MetricsSnapshot } from '../cache/cache-metrics';
import { nullsAsAbsent } from '../graphql/nulls-as-absent';
import type { RequestContext } from '../request-context';
import type { StrategyMetrics, WarmingStrategyName } from '../warming/warming.service';
import type { CacheAdminService } from './cache-admin.service';
import {
  CacheCounters,
  CacheHealth,
  CacheMetrics,
  InvalidateCacheInput,
  InvalidationResult,
  RevokeUserSessionsArgs,
  WarmingMetrics,
  WarmingRunResult,
  WarmingStrategyEnum,
  WarmingStrategyMetrics,
} from './operator.type';

/** Reads are open, as the seed's GET endpoints are; changes need the admin token. */
@Resolver()
export class OperatorResolver {
  constructor(private readonly admin: CacheAdminService) {}

  @Query(() => CacheMetrics)
  cacheMetrics(): CacheMetrics {
    const report = this.admin.metrics();
    return {
      ...counters(report),
      fallbackEnabled: report.fallback_enabled,
      connectionHealthy: report.connection_healthy,
      corruptValues: report.corrupt_values,
      loads: report.loads,
      coalesced: report.coalesced,
      fleetCoalesced: report.fleet_coalesced,
      tiers: [
        { tier: 'redis', metrics: counters(report.tiers.redis) },
        { tier: 'memory', metrics: counters(report.tiers.memory) },
      ],
      responseCache:
        report.response_cache === null
          ? null
          : {
              hits: report.response_cache.hits,
              nearHits: report.response_cache.near_hits,
              sharedHits: report.response_cache.shared_hits,
              misses: report.response_cache.misses,
              stores: report.response_cache.stores,
              executions: report.response_cache.executions,
              coalesced: report.response_cache.coalesced,
              fleetCoalesced: report.response_cache.fleet_coalesced,
              uncacheable: report.response_cache.uncacheable,
              notModified: report.response_cache.not_modified,
            },
    };
  }

  @Query(() => CacheHealth)
  cacheHealth(): CacheHealth {
    const report = this.admin.health();
    return {
      status: report.status,
      connectionHealthy: report.connection_healthy,
      fallbackEnabled: report.fallback_enabled,
      pendingInvalidations: report.pending_invalidations,
      metrics: counters(report.metrics),
    };
  }

  @Query(() => WarmingMetrics)
  warmingMetrics(): WarmingMetrics {
    const metrics = this.admin.warmingMetrics();
    return {
      enabled: metrics.enabled,
      running: metrics.running,
      intervalSeconds: metrics.interval_seconds,
      maxConcurrent: metrics.max_concurrent,
      runs: metrics.runs,
      skippedRuns: metrics.skipped_runs,
      lastRunAt: metrics.last_run_at === null ? null : new Date(metrics.last_run_at),
      strategies: metrics.strategies.map(strategyMetrics),
    };
  }

  @Mutation(() => InvalidationResult, { description: 'Admin only' })
  invalidateCache(@Arg('input') input: InvalidateCacheInput, @Ctx() { viewer }: RequestContext): Promise<InvalidationResult> {
    return this.admin.invalidate(viewer, nullsAsAbsent(input));
  }

  @Mutation(() => Int, {
    description: "Admin only. Ends every session of the user (their tokens are UNAUTHENTICATED from the next request on, on every instance); returns how many there were. To deactivate a user, set users.is_active to false and invalidate the USER scope: sessions of inactive users are refused.",
  })
  revokeUserSessions(@Args() { userId }: RevokeUserSessionsArgs, @Ctx() { viewer }: RequestContext): Promise<number> {
    return this.admin.revokeUserSessions(viewer, userId);
  }

  @Mutation(() => WarmingRunResult, { description: 'Admin only. All strategies when none are named.' })
  async triggerCacheWarming(
    @Ctx() { viewer }: RequestContext,
    @Arg('strategies', () => [WarmingStrategyEnum], { nullable: true }) strategies?: WarmingStrategyName[] | null,
  ): Promise<WarmingRunResult> {
    // null, like an empty list or none at all: every strategy.
    const run = await this.admin.triggerWarming(viewer, strategies ?? undefined);
    if (run.status === 'skipped') return { ran: false, skippedReason: run.reason, durationMs: 0, results: [] };
    return {
      ran: true,
      skippedReason: null,
      durationMs: run.duration_ms,
      results: run.results.map((result) => strategyMetrics({ ...result, runs: 1, failures: result.success ? 0 : 1, last_run_at: run.started_at })),
    };
  }
}

function counters(snapshot: MetricsSnapshot): CacheCounters {
  return {
    hitRate: snapshot.hit_rate,
    errorRate: snapshot.error_rate,
    totalOperations: snapshot.total_operations,
    hits: snapshot.hits,
    misses: snapshot.misses,
    errors: snapshot.errors,
    averageResponseTimeMs: snapshot.average_response_time_ms,
    p50ResponseTimeMs: snapshot.p50_response_time_ms,
    p99ResponseTimeMs: snapshot.p99_response_time_ms,
  };
}

function strategyMetrics(metrics: StrategyMetrics): WarmingStrategyMetrics {
  return {
    name: metrics.name,
    success: metrics.success,
    itemsProcessed: metrics.items_processed,
    durationMs: metrics.duration_ms,
    error: metrics.error,
    runs: metrics.runs,
    failures: metrics.failures,
    lastRunAt: metrics.last_run_at === null ? null : new Date(metrics.last_run_at),
  };
}
