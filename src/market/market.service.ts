import { CacheMarketData, type CachingHost } from '../cache/cache-decorators';
import type { CacheKeys } from '../cache/cache-keys';
import type { CacheService, TtlTiers } from '../cache/cache.service';
import { ErrorCode, notFound, PublicError } from '../errors';
import { TIMEFRAME_SECONDS, type Timeframe } from './instruments';
import { type CandleBar, type MarketDataProvider, type Quote, UpstreamError } from './market-data.provider';

/** Shortest life of cached candles, so that the forming bar of M1 is never far behind. */
const MIN_CANDLE_TTL_SECONDS = 5;

/**
 * Market reads for the GraphQL layer, through the cache: quotes for `priceTtlSeconds`
 * (CACHE_TTL_PRICE), candles for a twelfth of their bar size (bounded by CACHE_TTL_SHORT).
 * Upstream failures become UPSTREAM_UNAVAILABLE with a message that names no internals.
 */
export class MarketService implements CachingHost {
  constructor(
    private readonly provider: MarketDataProvider,
    readonly cache: CacheService,
    readonly cacheKeys: CacheKeys,
    private readonly priceTtlSeconds: number,
  ) {}

  /** Quotes in the order of `symbols`; `null` for an instrument the provider does not know. One upstream call for the misses. */
  getQuotes(symbols: readonly string[]): Promise<(Quote | null)[]> {
    return this.cache.getManyOrLoad(
      symbols,
      (symbol) => this.cacheKeys.market(symbol, 'price'),
      async (missing) => {
        const quotes = await this.upstream(() => this.provider.getPrices([...new Set(missing)]));
        return missing.map((symbol) => quotes.get(symbol) ?? null);
      },
      this.priceTtlSeconds,
    );
  }

  @CacheMarketData({ ttl: (tiers: TtlTiers, _symbol: string, timeframe: Timeframe) => candleTtlSeconds(tiers, timeframe) })
  async getCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[]> {
    const candles = await this.upstream(() => this.provider.getCandles(symbol, timeframe, count));
    if (candles === null) throw notFound(`Instrument ${symbol}`);
    return candles;
  }

  private async upstream<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof UpstreamError) {
        throw new PublicError(ErrorCode.UpstreamUnavailable, 'Market data is temporarily unavailable', { cause: error });
      }
      throw error;
    }
  }
}

function candleTtlSeconds(tiers: TtlTiers, timeframe: Timeframe): number {
  return Math.max(MIN_CANDLE_TTL_SECONDS, Math.min(tiers.short, Math.floor(TIMEFRAME_SECONDS[timeframe] / 12)));
}
