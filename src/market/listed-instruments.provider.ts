import type { Timeframe } from './instruments';
import type { CandleBar, MarketDataProvider, PriceStream, PriceStreamHandlers, Quote } from './market-data.provider';

/**
 * The provider, asked only about the instruments this gateway serves. A well-formed instrument
 * it does not serve (ZZZ_ZZZ) is what the schema calls one the feed does not list: no quote
 * (`price` null) and no bars (`candles` NOT_FOUND), without a call. Asking OANDA would get the
 * whole request refused (400 for every instrument in it), and anyone could repeat that at will.
 *
 * The stream is passed through as asked: what it carries is decided by QuoteStreamLeader, which
 * leaves out unlisted instruments that another instance may have put in the fleet's wanted list.
 */
export class ListedInstrumentsProvider implements MarketDataProvider {
  constructor(
    private readonly inner: MarketDataProvider,
    private readonly listed: ReadonlySet<string>,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  async getPrices(symbols: readonly string[]): Promise<ReadonlyMap<string, Quote>> {
    const listed = symbols.filter((symbol) => this.listed.has(symbol));
    return listed.length === 0 ? new Map() : this.inner.getPrices(listed);
  }

  async getCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[] | null> {
    return this.listed.has(symbol) ? this.inner.getCandles(symbol, timeframe, count) : null;
  }

  streamPrices(symbols: readonly string[], handlers: PriceStreamHandlers): PriceStream {
    return this.inner.streamPrices(symbols, handlers);
  }
}
