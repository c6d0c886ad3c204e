import { Args, Ctx, Query, Resolver } from 'type-graphql';

import type { RequestContext } from '../request-context';
import { CandlesArgs, PriceArgs, PricesArgs } from './market.args';
import type { CandleBar, Quote } from './market-data.provider';
import type { MarketService } from './market.service';
import { Candle, Price } from './market.type';

/** Decimals kept on derived values, so that mid and spread do not show float noise. */
const DERIVED_DECIMALS = 8;

export function toPrice(quote: Quote): Price {
  const round = (value: number) => Number(value.toFixed(DERIVED_DECIMALS));
  return { symbol: quote.symbol, bid: quote.bid, ask: quote.ask, mid: round((quote.bid + quote.ask) / 2), spread: round(quote.ask - quote.bid), time: quote.time };
}

@Resolver()
export class MarketResolver {
  constructor(private readonly market: MarketService) {}

  @Query(() => Price, { nullable: true, description: 'null when the feed does not list the instrument' })
  async price(@Args() { symbol }: PriceArgs, @Ctx() { loaders }: RequestContext): Promise<Price | null> {
    const quote = await loaders.quote.load(symbol);
    return quote === null ? null : toPrice(quote);
  }

  @Query(() => [Price], { nullable: 'items', description: 'In the order of symbols; null for instruments the feed does not list' })
  async prices(@Args() { symbols }: PricesArgs, @Ctx() { loaders }: RequestContext): Promise<(Price | null)[]> {
    const quotes = await Promise.all(symbols.map((symbol) => loaders.quote.load(symbol)));
    return quotes.map((quote) => (quote === null ? null : toPrice(quote)));
  }

  @Query(() => [Candle], { description: 'The latest bars, oldest first; NOT_FOUND for an unknown instrument' })
  candles(@Args() { symbol, timeframe, count }: CandlesArgs): Promise<CandleBar[]> {
    return this.market.getCandles(symbol, timeframe, count);
  }
}
