import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { FamilyLookups } from '../cache/cache-metrics';
import type { CacheService } from '../cache/cache.service';
import type { CdnPurger } from '../cdn/cdn-purger';
import type { Database } from '../db/database';
import { PERSISTED_OUTCOMES, type PersistedOutcome } from '../graphql/persisted/persisted-documents';
import type { ResponseCache } from '../graphql/response-cache/response-cache';
import type { BreakerState } from '../market/circuit-breaker';
import type { UpstreamStats } from '../market/market-data.provider';
import type { MarketDataReport } from '../market/market.service';
import type { RateLimitCounts } from '../rate-limit/rate-limiter';
import type { WarmingMetrics } from '../warming/warming.service';

export interface MetricSources {
  readonly cache: CacheService;
  /** Cache lookups by kind of data (users, signals, market, …). */
  readonly cacheFamilies: Pick<FamilyLookups, 'snapshot'>;
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
    scrapedCounter(registry, name, help, ['tier'], () => {
      const tiers = sources.cache.metricsReport().tiers;
      return [
        [{ tier: 'redis' }, pick(tiers.redis)],
        [{ tier: 'memory' }, pick(tiers.memory)],
      ];
    });
  tierCounter('gateway_cache_operations_total', 'Cache operations per tier', (s) => s.total_operations);
  tierCounter('gateway_cache_hits_total', 'Keys found per tier', (s) => s.hits);
  tierCounter('gateway_cache_misses_total', 'Keys not found per tier', (s) => s.misses);
  tierCounter('gateway_cache_errors_total', 'Failed operations per tier', (s) => s.errors);

  // The seed's figures (GET /cache/metrics, the cache monitor), which deploy/prometheus/alerts.yml
  // judges with the monitor's thresholds: per call of the cache service, whichever tier served it.
  // The tier series above count a Redis failure and its answer from memory as two operations.
  const serviceCounts = () => sources.cache.metricsReport();
  scrapedCounter(registry, 'gateway_cache_service_keys_total', 'Keys looked up through the cache service, found (hit) or not (miss), whichever tier served', ['result'], () => {
    const { hits, misses } = serviceCounts();
    return [
      [{ result: 'hit' }, hits],
      [{ result: 'miss' }, misses],
    ];
  });
  scrapedCounter(registry, 'gateway_cache_service_operations_total', 'Operations of the cache service (reads and writes), whichever tier served', [], () => [[{}, serviceCounts().total_operations]]);
  scrapedCounter(registry, 'gateway_cache_service_errors_total', 'Cache service operations during which a tier failed (Redis failures answered from memory included)', [], () => [[{}, serviceCounts().errors]]);

  scrapedCounter(registry, 'gateway_cache_lookups_total', 'Keys looked up in the cache by kind of data (users, sessions, signals, market, responses, other), found or not, whichever tier answered', ['family', 'result'], () =>
    [...sources.cacheFamilies.snapshot()].flatMap(([family, count]) => [
      [{ family, result: 'hit' }, count.hits] as const,
      [{ family, result: 'miss' }, count.misses] as const,
    ]),
  );

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
  scrapedCounter(registry, 'gateway_cache_loads_total', 'Loads from the data sources after a cache miss, callers that joined a load in flight, here or on another instance', ['kind'], () => {
    const report = sources.cache.metricsReport();
    return [
      [{ kind: 'load' }, report.loads],
      [{ kind: 'coalesced' }, report.coalesced],
      [{ kind: 'fleet_coalesced' }, report.fleet_coalesced],
      [{ kind: 'corrupt' }, report.corrupt_values],
    ];
  });
  scrapedCounter(
    registry,
    'gateway_response_cache_events_total',
    'Whole-response cache: hits (near, shared), misses, stores, executions, coalesced requests (here, fleet-wide), uncacheable responses, 304s',
    ['event'],
    () => {
      const counts = sources.responseCache?.metrics();
      if (counts === undefined) return [];
      return (['near_hits', 'shared_hits', 'misses', 'stores', 'executions', 'coalesced', 'fleet_coalesced', 'uncacheable', 'not_modified'] as const).map((event) => [{ event }, counts[event]]);
    },
  );
  scrapedCounter(
    registry,
    'gateway_persisted_documents_total',
    'GraphQL requests by how they named their document: listed id, registered (APQ) or registration, not found, free text (unlisted under log-unknown, trusted under require), refused',
    ['outcome'],
    () => {
      const outcomes = sources.persisted.outcomes();
      return PERSISTED_OUTCOMES.map((outcome) => [{ outcome }, outcomes[outcome]]);
    },
  );
  scrapedCounter(registry, 'gateway_upstream_requests_total', 'Requests to the market-data provider, by outcome', ['provider', 'outcome'], () => {
    const { requests, failures, retries } = sources.upstream;
    const provider = sources.upstreamProvider;
    return [
      [{ provider, outcome: 'request' }, requests],
      [{ provider, outcome: 'failure' }, failures],
      [{ provider, outcome: 'retry' }, retries],
    ];
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
  scrapedCounter(
    registry,
    'gateway_market_breaker_events_total',
    'Market-data circuit breaker: times opened, calls short-circuited without reaching the provider, half-open probes',
    ['provider', 'event'],
    () => {
      const { provider, breaker } = sources.market.report();
      return [
        [{ provider, event: 'opened' }, breaker.opens],
        [{ provider, event: 'short_circuited' }, breaker.short_circuited],
        [{ provider, event: 'probe' }, breaker.probes],
      ];
    },
  );
  scrapedCounter(
    registry,
    'gateway_market_stale_total',
    'Market data asked for while the provider failed or was slow: served from the last-known copy, or refused (copy too old, or none)',
    ['provider', 'outcome'],
    () => {
      const { provider, stale_if_error: stale } = sources.market.report();
      return [
        [{ provider, outcome: 'served' }, stale.served],
        [{ provider, outcome: 'refused_too_old' }, stale.refused_too_old],
        [{ provider, outcome: 'refused_absent' }, stale.refused_absent],
      ];
    },
  );
  scrapedCounter(
    registry,
    'gateway_market_stale_slow_upstream_total',
    'Of gateway_market_stale_total{outcome="served"}: served because the provider had not answered within MARKET_STALE_AFTER_MS',
    ['provider'],
    () => {
      const { provider, stale_if_error: stale } = sources.market.report();
      return [[{ provider }, stale.served_slow_upstream]];
    },
  );
  scrapedCounter(registry, 'gateway_db_queries_total', 'Database queries, by repository query', ['query'], () =>
    Object.entries(sources.db.queryCounts().byLabel).map(([query, count]) => [{ query }, count]),
  );
  return registry;
}

/**
 * A counter read at scrape time from counts the gateway already keeps: `read` gives each series'
 * labels and its current value (the series it no longer gives are dropped).
 */
function scrapedCounter<Label extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly Label[],
  read: () => Iterable<readonly [Partial<Record<Label, string>>, number]>,
): void {
  new Counter<Label>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

/** The CDN purger's counters (registered only when CDN_PURGE_URL is set). */
export function registerCdnPurgerMetrics(registry: Registry, purger: CdnPurger): void {
  scrapedCounter(
    registry,
    'gateway_cdn_purges_total',
    'Purge requests to the CDN: taken (2xx), failed (kept and retried), and times the waiting tags outgrew CDN_PURGE_MAX_PENDING_TAGS and collapsed into one full purge',
    ['result'],
    () => {
      const counts = purger.metrics();
      return [
        [{ result: 'ok' }, counts.requests_ok],
        [{ result: 'failed' }, counts.requests_failed],
        [{ result: 'collapsed' }, counts.collapsed],
      ];
    },
  );
  scrapedCounter(registry, 'gateway_cdn_purged_total', 'What the CDN took: tags, and full purges', ['kind'], () => {
    const counts = purger.metrics();
    return [
      [{ kind: 'tag' }, counts.tags_purged],
      [{ kind: 'all' }, counts.full_purges],
    ];
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

/** Cache warming: runs, and each strategy's outcomes and last run (the operator console and the Grafana dashboard chart them). */
export function registerWarmingMetrics(registry: Registry, warming: { metrics(): WarmingMetrics }): void {
  scrapedCounter(registry, 'gateway_warming_runs_total', 'Warming runs on this instance: completed, or skipped (another instance held the lease, or one was under way)', ['outcome'], () => {
    const { runs, skipped_runs } = warming.metrics();
    return [
      [{ outcome: 'completed' }, runs],
      [{ outcome: 'skipped' }, skipped_runs],
    ];
  });
  scrapedCounter(registry, 'gateway_warming_strategy_runs_total', 'Runs of each warming strategy, by result', ['strategy', 'result'], () =>
    warming.metrics().strategies.flatMap((strategy) => [
      [{ strategy: strategy.name, result: 'success' }, strategy.runs - strategy.failures] as const,
      [{ strategy: strategy.name, result: 'failure' }, strategy.failures] as const,
    ]),
  );
  const lastRun = (name: string, help: string, pick: (strategy: WarmingMetrics['strategies'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['strategy'],
      registers: [registry],
      collect() {
        this.reset();
        for (const strategy of warming.metrics().strategies) if (strategy.last_run_at !== null) this.set({ strategy: strategy.name }, pick(strategy));
      },
    });
  lastRun('gateway_warming_last_run_timestamp_seconds', "When each strategy's last run started (Unix time)", (strategy) => Date.parse(strategy.last_run_at ?? '') / 1000);
  lastRun('gateway_warming_last_duration_seconds', "How long each strategy's last run took", (strategy) => strategy.duration_ms / 1000);
  lastRun('gateway_warming_last_items', "Entries each strategy's last run loaded into the cache", (strategy) => strategy.items_processed);
}

/** The rate limiter's counters (registered only when RATE_LIMIT_ENABLED). */
export function registerRateLimitMetrics(registry: Registry, limiter: { metrics(): RateLimitCounts }): void {
  scrapedCounter(registry, 'gateway_rate_limit_refusals_total', 'Requests refused with 429 RATE_LIMITED, by budget (user, anonymous, admin)', ['policy'], () =>
    Object.entries(limiter.metrics().refused).map(([policy, count]) => [{ policy }, count]),
  );
  scrapedCounter(
    registry,
    'gateway_rate_limit_leases_total',
    "Allowances taken from a viewer's budget, by where it was decided: redis (shared by the fleet) or local (this process's budgets, while Redis is down, frozen or slower than RATE_LIMIT_REDIS_TIMEOUT_MS)",
    ['store'],
    () => {
      const { leases } = limiter.metrics();
      return [
        [{ store: 'redis' }, leases.redis],
        [{ store: 'local' }, leases.local],
      ];
    },
  );
}

/** What holds memory in the gateway's process, for `gateway_memory_bytes`; `undefined`: not in this process. */
export interface MemoryParts {
  /** The embedded database (Database.memoryBytes); none with a PostgreSQL server. */
  readonly embeddedDatabase: () => number | undefined;
  /** The response cache's near copies (RESPONSE_CACHE_NEAR_MAX_BYTES); none when the response cache is off. */
  readonly nearTier: () => number | undefined;
  /** The data cache's in-process tier (CACHE_FALLBACK_MAX_BYTES). */
  readonly dataFallbackTier: () => number;
}

/**
 * `gateway_memory_bytes{part}`: what the gateway's own parts hold, within the process's RSS
 * (gateway_process_resident_memory_bytes); where JavaScript keeps the rest is in the default
 * gateway_nodejs_* series (heap, external memory and array buffers).
 */
export function registerMemoryMetrics(registry: Registry, parts: MemoryParts): void {
  new Gauge({
    name: 'gateway_memory_bytes',
    help:
      "Bytes held in this process by: the embedded database (its WebAssembly memory's size, of which pages never touched are not resident, and the files it keeps in memory), the response cache's near tier and the data cache's in-process tier (as their byte bounds count them)",
    labelNames: ['part'],
    registers: [registry],
    collect() {
      this.reset();
      const held: [string, number | undefined][] = [
        ['embedded_database', parts.embeddedDatabase()],
        ['near_tier', parts.nearTier()],
        ['data_fallback_tier', parts.dataFallbackTier()],
      ];
      for (const [part, bytes] of held) if (bytes !== undefined) this.set({ part }, bytes);
    },
  });
}

/** Durations of HTTP requests by method and route: counts per bucket (not cumulative: the last is above every bound), their sum. */
interface DurationSeries {
  readonly labels: Readonly<Record<'method' | 'route', string>>;
  readonly perBucket: number[];
  count: number;
  sumSeconds: number;
}

const DURATION_BOUNDS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Counts and times every HTTP request by route pattern (not raw URL) and status code, whether
 * Fastify answered it or the hit front did (see hit-front.ts). Counted here in plain numbers and
 * handed to prom-client when scraped: a near hit costs a few tens of microseconds, and
 * prom-client's own counting (a label hash and checks per observation, even on a labelled child)
 * took 3-10 % of it (side by side: BENCHMARKS.md, "The hit front").
 */
export class HttpMetrics {
  /** By `method route status`: its requests and its duration series. */
  private readonly series = new Map<string, { readonly labels: Readonly<Record<'method' | 'route' | 'status', string>>; requests: number; readonly duration: DurationSeries }>();
  private readonly durations = new Map<string, DurationSeries>();

  constructor(registry: Registry) {
    scrapedCounter(registry, 'gateway_http_requests_total', 'HTTP requests', ['method', 'route', 'status'], () => [...this.series.values()].map(({ labels, requests }) => [labels, requests] as const));
    new ScrapedHistogram(registry, 'gateway_http_request_duration_seconds', 'HTTP request duration', () => this.durations.values());
  }

  /** `route`: the route's pattern, never the URL, so that distinct URLs cannot grow the series count. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const label = KNOWN_METHODS.has(method) ? method : 'OTHER';
    const name = `${label} ${route} ${status}`;
    let series = this.series.get(name);
    if (series === undefined) {
      series = { labels: { method: label, route, status: String(status) }, requests: 0, duration: this.durationSeries(label, route) };
      this.series.set(name, series);
    }
    series.requests += 1;
    const { duration } = series;
    duration.count += 1;
    duration.sumSeconds += seconds;
    let bucket = 0;
    while (bucket < DURATION_BOUNDS_SECONDS.length && seconds > DURATION_BOUNDS_SECONDS[bucket]!) bucket += 1;
    duration.perBucket[bucket]! += 1;
  }

  private durationSeries(method: string, route: string): DurationSeries {
    const name = `${method} ${route}`;
    let series = this.durations.get(name);
    if (series === undefined) {
      series = { labels: { method, route }, perBucket: new Array<number>(DURATION_BOUNDS_SECONDS.length + 1).fill(0), count: 0, sumSeconds: 0 };
      this.durations.set(name, series);
    }
    return series;
  }
}

// `le` is the bucket label prom-client adds itself; it is in the type only for the values given here.
type HistogramValues = Awaited<ReturnType<Histogram<'method' | 'route' | 'le'>['get']>>;

/** A histogram whose series are counted elsewhere (HttpMetrics) and read when scraped, in prom-client's shape. */
class ScrapedHistogram extends Histogram<'method' | 'route' | 'le'> {
  constructor(
    registry: Registry,
    private readonly metricName: string,
    private readonly helpText: string,
    private readonly read: () => Iterable<DurationSeries>,
  ) {
    super({ name: metricName, help: helpText, labelNames: ['method', 'route'], buckets: [...DURATION_BOUNDS_SECONDS], registers: [registry] });
  }

  override get(): Promise<HistogramValues> {
    const bucketName = `${this.metricName}_bucket`;
    const values: HistogramValues['values'] = [];
    for (const { labels, perBucket, count, sumSeconds } of this.read()) {
      let cumulative = 0;
      DURATION_BOUNDS_SECONDS.forEach((le, bucket) => {
        cumulative += perBucket[bucket]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: bucketName });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: bucketName });
      values.push({ labels, value: sumSeconds, metricName: `${this.metricName}_sum` });
      values.push({ labels, value: count, metricName: `${this.metricName}_count` });
    }
    // prom-client's typings call the type an enum; its registry prints it, and its histograms say 'histogram'.
    const type = 'histogram' as unknown as HistogramValues['type'];
    return Promise.resolve({ name: this.metricName, help: this.helpText, type, aggregator: 'sum', collect: () => undefined, values });
  }

  /** What the registry reads for the text format when a metric has it (prom-client's histogram does): the same values. */
  getForPromString(): Promise<HistogramValues> {
    return this.get();
  }
}

const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);

export function instrumentHttp(http: FastifyInstance, metrics: HttpMetrics): void {
  http.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/** What live subscriptions need from this instance, for registerLiveMetrics. */
export interface LiveMetricSources {
  /** Open WebSocket connections (SSE streams are counted with the subscriptions). */
  connections(): number;
  subscriptions(): { subscriptions: number; groups: number };
  /** Events executed once per distinct subscription, frames handed to subscribers, failed executions. */
  counts(): { executions: number; deliveries: number; executionFailures: number };
  /** This instance's part in the fleet's one price stream. */
  stream(): { role: 'leader' | 'follower' | 'solo'; opened: number; reconnects: number; ticks: number };
}

/** Subscriptions and the upstream price stream (README: Subscriptions). */
export function registerLiveMetrics(registry: Registry, live: LiveMetricSources): void {
  new Gauge({
    name: 'gateway_live_connections',
    help: 'Open graphql-ws connections',
    registers: [registry],
    collect() {
      this.set(live.connections());
    },
  });
  new Gauge({
    name: 'gateway_live_subscriptions',
    help: 'Open subscriptions (graphql-ws and SSE), and distinct ones among them (each event is executed once per distinct subscription)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const { subscriptions, groups } = live.subscriptions();
      this.set({ kind: 'all' }, subscriptions);
      this.set({ kind: 'distinct' }, groups);
    },
  });
  scrapedCounter(registry, 'gateway_live_events_total', 'Live events: executions (once per distinct subscription), deliveries (frames to subscribers), failed executions', ['stage'], () => {
    const counts = live.counts();
    return [
      [{ stage: 'executed' }, counts.executions],
      [{ stage: 'delivered' }, counts.deliveries],
      [{ stage: 'failed' }, counts.executionFailures],
    ];
  });
  new Gauge({
    name: 'gateway_market_stream_role',
    help: "This instance's part in the fleet's one upstream price stream: 1 for its role (leader streams for the fleet; solo: Redis is unreachable, streaming for itself)",
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const { role } = live.stream();
      for (const each of ['leader', 'follower', 'solo'] as const) this.set({ role: each }, each === role ? 1 : 0);
    },
  });
  scrapedCounter(registry, 'gateway_market_stream_total', 'The upstream price stream on this instance: streams opened, reopened after a failure or silence, ticks received', ['event'], () => {
    const { opened, reconnects, ticks } = live.stream();
    return [
      [{ event: 'opened' }, opened],
      [{ event: 'reconnect' }, reconnects],
      [{ event: 'tick' }, ticks],
    ];
  });
}
