import { ErrorCode, notFound, PublicError } from '../errors';
import type { Timeframe } from './instruments';
import { type CandleBar, type MarketDataProvider, type Quote, UpstreamError } from './market-data.provider';

/**
 * Market reads for the GraphQL layer. Upstream failures become UPSTREAM_UNAVAILABLE with a
 * message that names no internals; the provider's own error is kept as the cause for the logs.
 */
export class MarketService {
  constructor(private readonly provider: MarketDataProvider) {}

  /** Quotes in the order of `symbols`; `null` for an instrument the provider does not know. */
  async getQuotes(symbols: readonly string[]): Promise<(Quote | null)[]> {
    const quotes = await this.upstream(() => this.provider.getPrices([...new Set(symbols)]));
    return symbols.map((symbol) => quotes.get(symbol) ?? null);
  }

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
