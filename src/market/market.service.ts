import { CacheMarketData, type CachingHost } from '../cache/cache-decorators';
import type { CacheKeys } from '../cache/cache-keys';
import type { CacheService, TtlTiers } from '../cache/cache.service';
import { ErrorCode, notFound, PublicError } from '../errors';
import type { StaleSink } from '../graphql/stale-reads';
import { type BreakerSnapshot, type CircuitBreaker, CircuitOpenError } from './circuit-breaker';
import { TIMEFRAME_SECONDS, type Timeframe } from './instruments';
import type { LastKnownValues } from './last-known';
import { type CandleBar, type MarketDataProvider, type Quote, UpstreamError } from './market-data.provider';

/** Shortest life of cached candles, so that the forming bar of M1 is never far behind. */
const MIN_CANDLE_TTL_SECONDS = 5;

/** Why a value was served from its last-known copy: the `reason` in `extensions.stale[]`. */
export type StaleReason = 'timeout' | 'upstream_error' | 'circuit_open';

/** The provider's resilience state, for the operator endpoints (snake_case like the seed's). */
export interface MarketDataReport {
  readonly provider: string;
  readonly breaker: BreakerSnapshot;
  readonly stale_if_error: { readonly grace_seconds: number; readonly served: number; readonly refused_too_old: number; readonly refused_absent: number };
}

/**
 * Market reads for the GraphQL layer, through the cache: quotes for `priceTtlSeconds`
 * (CACHE_TTL_PRICE), candles for a twelfth of their bar size (bounded by CACHE_TTL_SHORT).
 * Every upstream call goes through the provider's circuit breaker, and every value loaded is
 * also kept as a last-known copy. When the provider fails, `readQuotes`/`readCandles` serve that
 * copy within the grace window, marked stale; otherwise, and always for `getQuotes`/`getCandles`,
 * the failure is UPSTREAM_UNAVAILABLE with a message that names no internals.
 */
export class MarketService implements CachingHost {
  constructor(
    private readonly provider: MarketDataProvider,
    readonly cache: CacheService,
    readonly cacheKeys: CacheKeys,
    private readonly priceTtlSeconds: number,
    private readonly breaker: CircuitBreaker,
    private readonly lastKnown: LastKnownValues,
  ) {}

  /**
   * Fresh quotes in the order of `symbols`; `null` for an instrument the provider does not know.
   * One upstream call for the misses. For warming, which must not count a stale copy as warmed.
   */
  async getQuotes(symbols: readonly string[]): Promise<(Quote | null)[]> {
    try {
      return await this.freshQuotes(symbols);
    } catch (error) {
      throw translated(error);
    }
  }

  /**
   * Quotes for a request. When the provider fails, each symbol without a fresh entry gets its
   * last-known quote (marked in `stale`) or, beyond the window, an UPSTREAM_UNAVAILABLE error in
   * its place, which fails that key only (the DataLoader contract).
   */
  async readQuotes(symbols: readonly string[], stale: StaleSink): Promise<(Quote | null | PublicError)[]> {
    try {
      return await this.freshQuotes(symbols);
    } catch (error) {
      const reason = staleReasonOf(error);
      if (reason === undefined) throw error;
      // The batch failed as a whole: entries that were fresh in the cache are still good.
      const fresh = await this.cache.mget<Quote>(symbols.map((symbol) => this.cacheKeys.market(symbol, 'price')));
      const missing = [...new Set(symbols.filter((_, index) => fresh[index] === undefined))];
      const recalled = await this.lastKnown.recall<Quote>(missing.map((symbol) => ({ key: this.cacheKeys.marketLastKnown(symbol, 'price'), freshTtlSeconds: this.priceTtlSeconds })));
      const copies = new Map(missing.map((symbol, index) => [symbol, recalled[index]]));
      const refused = unavailable(error);
      return symbols.map((symbol, index) => {
        const hit = fresh[index];
        if (hit !== undefined) return hit;
        const copy = copies.get(symbol);
        if (copy === undefined) return refused;
        stale.mark(copy.value, { ageSeconds: copy.ageSeconds, reason });
        return copy.value;
      });
    }
  }

  /** The latest `count` bars, fresh; NOT_FOUND for an unknown instrument. */
  async getCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[]> {
    try {
      return await this.freshCandles(symbol, timeframe, count);
    } catch (error) {
      throw translated(error);
    }
  }

  /** Candles for a request: the last-known series (marked in `stale`) when the provider fails within the window. */
  async readCandles(symbol: string, timeframe: Timeframe, count: number, stale: StaleSink): Promise<CandleBar[]> {
    try {
      return await this.freshCandles(symbol, timeframe, count);
    } catch (error) {
      const reason = staleReasonOf(error);
      if (reason === undefined) throw error;
      const [copy] = await this.lastKnown.recall<CandleBar[]>([
        { key: this.cacheKeys.marketLastKnown(symbol, candleSeries(timeframe, count)), freshTtlSeconds: candleTtlSeconds(this.cache.ttl, timeframe) },
      ]);
      if (copy === undefined) throw translated(error);
      stale.mark(copy.value, { ageSeconds: copy.ageSeconds, reason });
      return copy.value;
    }
  }

  report(): MarketDataReport {
    const { served, refusedTooOld, refusedAbsent } = this.lastKnown.stats;
    return {
      provider: this.provider.name,
      breaker: this.breaker.snapshot(),
      stale_if_error: { grace_seconds: this.lastKnown.graceSeconds, served, refused_too_old: refusedTooOld, refused_absent: refusedAbsent },
    };
  }

  /** Throws the provider's UpstreamError or the breaker's CircuitOpenError as they are. */
  private freshQuotes(symbols: readonly string[]): Promise<(Quote | null)[]> {
    return this.cache.getManyOrLoad(
      symbols,
      (symbol) => this.cacheKeys.market(symbol, 'price'),
      async (missing) => {
        const unique = [...new Set(missing)];
        const epoch = this.cache.invalidationEpoch;
        const quotes = await this.breaker.run(() => this.provider.getPrices(unique));
        await this.lastKnown.remember(
          unique.flatMap((symbol) => {
            const quote = quotes.get(symbol);
            return quote === undefined ? [] : [{ key: this.cacheKeys.marketLastKnown(symbol, 'price'), value: quote, freshTtlSeconds: this.priceTtlSeconds }];
          }),
          epoch,
        );
        return missing.map((symbol) => quotes.get(symbol) ?? null);
      },
      this.priceTtlSeconds,
    );
  }

  /** Cached under `market:{symbol}:{timeframe}:{count}` by the decorator; throws upstream failures as they are. */
  @CacheMarketData({ ttl: (tiers: TtlTiers, _symbol: string, timeframe: Timeframe) => candleTtlSeconds(tiers, timeframe) })
  private async freshCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[]> {
    const epoch = this.cache.invalidationEpoch;
    const candles = await this.breaker.run(() => this.provider.getCandles(symbol, timeframe, count));
    if (candles === null) throw notFound(`Instrument ${symbol}`);
    await this.lastKnown.remember(
      [{ key: this.cacheKeys.marketLastKnown(symbol, candleSeries(timeframe, count)), value: candles, freshTtlSeconds: candleTtlSeconds(this.cache.ttl, timeframe) }],
      epoch,
    );
    return candles;
  }
}

/** The timeframe part of a candle key, as @CacheMarketData spells it from the arguments. */
function candleSeries(timeframe: Timeframe, count: number): string {
  return `${timeframe}:${count}`;
}

function candleTtlSeconds(tiers: TtlTiers, timeframe: Timeframe): number {
  return Math.max(MIN_CANDLE_TTL_SECONDS, Math.min(tiers.short, Math.floor(TIMEFRAME_SECONDS[timeframe] / 12)));
}

/** The failures that stale-if-error covers; anything else (NOT_FOUND, a bug) is not an outage. */
function staleReasonOf(error: unknown): StaleReason | undefined {
  if (error instanceof CircuitOpenError) return 'circuit_open';
  if (error instanceof UpstreamError) return error.kind === 'timeout' ? 'timeout' : 'upstream_error';
  return undefined;
}

function unavailable(cause: unknown): PublicError {
  return new PublicError(ErrorCode.UpstreamUnavailable, 'Market data is temporarily unavailable', { cause });
}

function translated(error: unknown): unknown {
  return error instanceof UpstreamError || error instanceof CircuitOpenError ? unavailable(error) : error;
}
