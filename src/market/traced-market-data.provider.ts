import { endAfter, type Tracing } from '../tracing/tracing';
import type { Timeframe } from './instruments';
import type { CandleBar, MarketDataProvider, PriceStream, PriceStreamHandlers, Quote } from './market-data.provider';

/**
 * A market-data provider whose calls are spans (`market.getPrices`, `market.getCandles`), with the
 * provider's name and what was asked; an HTTP provider's attempts and retries are CLIENT spans
 * under them (tracedFetch).
 */
export class TracedMarketDataProvider implements MarketDataProvider {
  constructor(
    private readonly inner: MarketDataProvider,
    private readonly tracing: Tracing,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  getPrices(symbols: readonly string[]): Promise<ReadonlyMap<string, Quote>> {
    const span = this.tracing.startChild('market.getPrices', { 'gateway.market.provider': this.inner.name, 'gateway.market.symbols': symbols.length });
    if (span === undefined) return this.inner.getPrices(symbols);
    return endAfter(span, () => this.tracing.within(span, () => this.inner.getPrices(symbols)));
  }

  getCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[] | null> {
    const span = this.tracing.startChild('market.getCandles', { 'gateway.market.provider': this.inner.name, 'gateway.market.symbol': symbol, 'gateway.market.timeframe': timeframe, 'gateway.market.count': count });
    if (span === undefined) return this.inner.getCandles(symbol, timeframe, count);
    return endAfter(span, () => this.tracing.within(span, () => this.inner.getCandles(symbol, timeframe, count)));
  }

  /** Not a span: a stream lives for hours; its ticks are not requests. */
  streamPrices(symbols: readonly string[], handlers: PriceStreamHandlers): PriceStream {
    return this.inner.streamPrices(symbols, handlers);
  }
}
