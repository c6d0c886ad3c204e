import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { CacheService } from '../cache/cache.service';
import type { CdnPurger } from '../cdn/cdn-purger';
import type { Database } from '../db/database';
import { PERSISTED_OUTCOMES, type PersistedOutcome } from '../graphql/persisted/persisted-documents';
import type { ResponseCache } from '../graphql/response-cache/response-cache';
import type { BreakerState } from '../market/circuit-breaker';
import type { UpstreamStats } from '../market/market-data.provider';
import type { MarketDataReport } from '../market/market.service';

export interface MetricSources {
  readonly cache: CacheService;
  readonly db: Database;
  readonly upstream: UpstreamStats;
  readonly upstreamProvider: string;
  readonly responseCache: ResponseCache | undefined;
  /** How requests named their documents: listed and registered ids, free text, refusals. */
  readonly persisted: { outcomes(): Readonly<Record<PersistedOutcome, number>> };
  /** Circuit breaker and stale-if-error counts of the market-data provider. */
  readonly market: { report(): MarketDataReport };
}

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half_open'];

/**
 * Prometheus metrics. Counters the gateway already keeps are read at scrape time rather than
 * counted twice. Labels come from fixed sets only (tier, query label, route pattern, status code),
 * so a flood of distinct URLs or queries cannot grow the series count.
 */
export function createMetricsRegistry(sources: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' });

  const tierCounter = (name: string, help: string, pick: (snapshot: ReturnType<CacheService['metricsReport']>['tiers']['redis']) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['tier'],
      registers: [registry],
      collect() {
        const tiers = sources.cache.metricsReport().tiers;
        this.reset();
        this.inc({ tier: 'redis' }, pick(tiers.redis));
        this.inc({ tier: 'memory' }, pick(tiers.memory));
      },
    });
  tierCounter('gateway_cache_operations_total', 'Cache operations per tier', (s) => s.total_operations);
  tierCounter('gateway_cache_hits_total', 'Keys found per tier', (s) => s.hits);
  tierCounter('gateway_cache_misses_total', 'Keys not found per tier', (s) => s.misses);
  tierCounter('gateway_cache_errors_total', 'Failed operations per tier', (s) => s.errors);

  new Gauge({
    name: 'gateway_cache_fallback_active',
    help: '1 while the in-memory tier serves instead of Redis',
    registers: [registry],
    collect() {
      this.set(sources.cache.healthReport().fallback_enabled ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gateway_cache_pending_invalidations',
    help: 'Invalidations waiting for Redis to come back',
    registers: [registry],
    collect() {
      this.set(sources.cache.healthReport().pending_invalidations);
    },
  });
  new Counter({
    name: 'gateway_cache_loads_total',
    help: 'Loads from the data sources after a cache miss, callers that joined a load in flight, here or on another instance',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const report = sources.cache.metricsReport();
      this.reset();
      this.inc({ kind: 'load' }, report.loads);
      this.inc({ kind: 'coalesced' }, report.coalesced);
      this.inc({ kind: 'fleet_coalesced' }, report.fleet_coalesced);
      this.inc({ kind: 'corrupt' }, report.corrupt_values);
    },
  });
  new Counter({
    name: 'gateway_response_cache_events_total',
    help: 'Whole-response cache: hits (near, shared), misses, stores, executions, coalesced requests (here, fleet-wide), uncacheable responses, 304s',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      const counts = sources.responseCache?.metrics();
      this.reset();
      if (counts === undefined) return;
      for (const event of ['near_hits', 'shared_hits', 'misses', 'stores', 'executions', 'coalesced', 'fleet_coalesced', 'uncacheable', 'not_modified'] as const) this.inc({ event }, counts[event]);
    },
  });
  new Counter({
    name: 'gateway_persisted_documents_total',
    help: 'GraphQL requests by how they named their document: listed id, registered (APQ) or registration, not found, free text (unlisted under log-unknown, trusted under require), refused',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const outcomes = sources.persisted.outcomes();
      this.reset();
      for (const outcome of PERSISTED_OUTCOMES) this.inc({ outcome }, outcomes[outcome]);
    },
  });
  new Counter({
    name: 'gateway_upstream_requests_total',
    help: 'Requests to the market-data provider, by outcome',
    labelNames: ['provider', 'outcome'],
    registers: [registry],
    collect() {
      const { requests, failures, retries } = sources.upstream;
      this.reset();
      this.inc({ provider: sources.upstreamProvider, outcome: 'request' }, requests);
      this.inc({ provider: sources.upstreamProvider, outcome: 'failure' }, failures);
      this.inc({ provider: sources.upstreamProvider, outcome: 'retry' }, retries);
    },
  });
  new Gauge({
    name: 'gateway_market_breaker_state',
    help: "1 for the market-data provider's current circuit-breaker state, 0 for the others",
    labelNames: ['provider', 'state'],
    registers: [registry],
    collect() {
      const { provider, breaker } = sources.market.report();
      for (const state of BREAKER_STATES) this.set({ provider, state }, breaker.state === state ? 1 : 0);
    },
  });
  new Counter({
    name: 'gateway_market_breaker_events_total',
    help: 'Market-data circuit breaker: times opened, calls short-circuited without reaching the provider, half-open probes',
    labelNames: ['provider', 'event'],
    registers: [registry],
    collect() {
      const { provider, breaker } = sources.market.report();
      this.reset();
      this.inc({ provider, event: 'opened' }, breaker.opens);
      this.inc({ provider, event: 'short_circuited' }, breaker.short_circuited);
      this.inc({ provider, event: 'probe' }, breaker.probes);
    },
  });
  new Counter({
    name: 'gateway_market_stale_total',
    help: 'Market data asked for while the provider failed or was slow: served from the last-known copy, or refused (copy too old, or none)',
    labelNames: ['provider', 'outcome'],
    registers: [registry],
    collect() {
      const { provider, stale_if_error: stale } = sources.market.report();
      this.reset();
      this.inc({ provider, outcome: 'served' }, stale.served);
      this.inc({ provider, outcome: 'refused_too_old' }, stale.refused_too_old);
      this.inc({ provider, outcome: 'refused_absent' }, stale.refused_absent);
    },
  });
  new Counter({
    name: 'gateway_market_stale_slow_upstream_total',
    help: 'Of gateway_market_stale_total{outcome="served"}: served because the provider had not answered within MARKET_STALE_AFTER_MS',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      const { provider, stale_if_error: stale } = sources.market.report();
      this.reset();
      this.inc({ provider }, stale.served_slow_upstream);
    },
  });
  new Counter({
    name: 'gateway_db_queries_total',
    help: 'Database queries, by repository query',
    labelNames: ['query'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [query, count] of Object.entries(sources.db.queryCounts().byLabel)) this.inc({ query }, count);
    },
  });
  return registry;
}

/** The CDN purger's counters (registered only when CDN_PURGE_URL is set). */
export function registerCdnPurgerMetrics(registry: Registry, purger: CdnPurger): void {
  new Counter({
    name: 'gateway_cdn_purges_total',
    help: 'Purge requests to the CDN: taken (2xx), failed (kept and retried), and times the waiting tags outgrew CDN_PURGE_MAX_PENDING_TAGS and collapsed into one full purge',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const counts = purger.metrics();
      this.reset();
      this.inc({ result: 'ok' }, counts.requests_ok);
      this.inc({ result: 'failed' }, counts.requests_failed);
      this.inc({ result: 'collapsed' }, counts.collapsed);
    },
  });
  new Counter({
    name: 'gateway_cdn_purged_total',
    help: 'What the CDN took: tags, and full purges',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const counts = purger.metrics();
      this.reset();
      this.inc({ kind: 'tag' }, counts.tags_purged);
      this.inc({ kind: 'all' }, counts.full_purges);
    },
  });
  new Gauge({
    name: 'gateway_cdn_purge_pending',
    help: 'Tags waiting to be purged from the CDN (a full purge waiting counts as one)',
    registers: [registry],
    collect() {
      this.set(purger.report().pending);
    },
  });
  new Gauge({
    name: 'gateway_cdn_purger_unreachable_seconds',
    help: 'How long purges have been failing; 0 while the CDN takes them',
    registers: [registry],
    collect() {
      this.set(purger.unreachableSeconds());
    },
  });
}

/** Counts and times every HTTP request by route pattern (not raw URL) and status code. */
export function instrumentHttp(http: FastifyInstance, registry: Registry): void {
  const requests = new Counter({ name: 'gateway_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  http.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = ['GET', 'POST', 'HEAD', 'OPTIONS'].includes(request.method) ? request.method : 'OTHER';
    requests.inc({ method, route, status: String(reply.statusCode) });
    duration.observe({ method, route }, reply.elapsedTime / 1000);
    done();
  });
}
