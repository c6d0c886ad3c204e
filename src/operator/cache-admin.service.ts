import type { CacheInvalidator } from '../cache/cache-invalidator';
import type { CacheHealthReport, CacheMetricsReport, CacheService } from '../cache/cache.service';
import type { ResponseCacheMetrics } from '../graphql/response-cache/response-cache';
import { badInput, forbidden, unauthenticated } from '../errors';
import { INSTRUMENT_PATTERN } from '../market/instruments';
import type { SessionsService } from '../sessions/sessions.service';
import type { Viewer } from '../sessions/viewer';
import type { WarmingMetrics, WarmingRun, WarmingService, WarmingStrategyName } from '../warming/warming.service';

export const INVALIDATION_SCOPES = ['user', 'signals', 'market', 'pattern', 'all'] as const;
export type InvalidationScope = (typeof INVALIDATION_SCOPES)[number];

/**
 * An operator's pattern, relative to the key prefix: letters, digits, `_ : -` and the wildcards
 * `*` and `?`. Character classes and escapes (`[`, `]`, `\`) are refused: no operator needs
 * them, and they are the usual way to smuggle a wider match past a filter.
 */
export const OPERATOR_PATTERN = /^[A-Za-z0-9_:*?-]{1,200}$/;

export interface InvalidationRequest {
  readonly scope: InvalidationScope;
  readonly id?: number | undefined;
  readonly symbol?: string | undefined;
  readonly pattern?: string | undefined;
}

export interface InvalidationResult {
  readonly scope: InvalidationScope;
  /** Entries removed now; invalidations that must wait for Redis are journaled and not counted. */
  readonly removed: number;
}

/** The operator's controls, shared by the GraphQL API and the REST endpoints. Changes need the admin token. */
export class CacheAdminService {
  constructor(
    private readonly cache: CacheService,
    private readonly invalidator: CacheInvalidator,
    private readonly warming: WarmingService,
    /** Response-cache counters, when the response cache is on. */
    private readonly responseCacheMetrics: () => ResponseCacheMetrics | undefined,
    private readonly sessions: Pick<SessionsService, 'revokeUserSessions'>,
  ) {}

  health(): CacheHealthReport {
    return this.cache.healthReport();
  }

  metrics(): CacheMetricsReport & { readonly response_cache: ResponseCacheMetrics | null } {
    return { ...this.cache.metricsReport(), response_cache: this.responseCacheMetrics() ?? null };
  }

  warmingMetrics(): WarmingMetrics {
    return this.warming.metrics();
  }

  async invalidate(viewer: Viewer, request: InvalidationRequest): Promise<InvalidationResult> {
    requireAdmin(viewer);
    return { scope: request.scope, removed: await this.apply(request) };
  }

  /** Ends every session of the user: the rows, and their cached lookups on every instance. */
  async revokeUserSessions(viewer: Viewer, userId: number): Promise<number> {
    requireAdmin(viewer);
    return this.sessions.revokeUserSessions(userId);
  }

  triggerWarming(viewer: Viewer, strategies?: readonly WarmingStrategyName[]): Promise<WarmingRun> {
    requireAdmin(viewer);
    return this.warming.warm(strategies === undefined || strategies.length === 0 ? undefined : strategies);
  }

  private apply(request: InvalidationRequest): Promise<number> {
    refuseUnusedFields(request);
    const { scope, id, symbol, pattern } = request;
    switch (scope) {
      case 'user':
        if (id === undefined) throw badInput('scope user needs id', { field: 'id' });
        return this.invalidator.invalidateUserCache(id);
      case 'signals':
        return this.invalidator.invalidateSignalCache(checkedSymbol(symbol));
      case 'market':
        return this.invalidator.invalidateMarketCache(checkedSymbol(symbol));
      case 'pattern':
        if (pattern === undefined || !OPERATOR_PATTERN.test(pattern)) {
          throw badInput('scope pattern needs a pattern of letters, digits, _ : - and the wildcards * ?', { field: 'pattern' });
        }
        return this.invalidator.invalidatePattern(pattern);
      case 'all':
        return this.invalidator.invalidateAllCache();
    }
  }
}

/** The one field each scope reads; any other is refused, so a request never does more (or other) than it says. */
const FIELD_OF_SCOPE: Readonly<Record<InvalidationScope, 'id' | 'symbol' | 'pattern' | undefined>> = {
  user: 'id',
  signals: 'symbol',
  market: 'symbol',
  pattern: 'pattern',
  all: undefined,
};

function refuseUnusedFields(request: InvalidationRequest): void {
  const unused = (['id', 'symbol', 'pattern'] as const).filter((field) => request[field] !== undefined && field !== FIELD_OF_SCOPE[request.scope]);
  if (unused.length > 0) {
    throw badInput(`scope ${request.scope} does not take ${unused.join(', ')}`, { field: unused[0] });
  }
}

function checkedSymbol(symbol: string | undefined): string | undefined {
  if (symbol !== undefined && !INSTRUMENT_PATTERN.test(symbol)) throw badInput('symbol must be an instrument like EUR_USD', { field: 'symbol' });
  return symbol;
}

export function requireAdmin(viewer: Viewer): void {
  switch (viewer.kind) {
    case 'admin':
      return;
    case 'anonymous':
      throw unauthenticated('This operation needs the admin token');
    case 'user':
      throw forbidden('This operation is for operators only');
  }
}
