import type { GraphQLResolveInfo } from 'graphql';
import { Args, Ctx, Info, Query, Resolver } from 'type-graphql';

import { CacheTags, type ShownTags, stringsOf } from '../cache/cache-tags';
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

/** What the market's part of the schema shows, for the response cache (see ShownTags). */
export const MARKET_TAGS: ShownTags = {
  fields: {
    'Query.price': (args) => stringsOf(args.symbol).map(CacheTags.market),
    'Query.candles': (args) => stringsOf(args.symbol).map(CacheTags.market),
    'Query.prices': (args) => stringsOf(args.symbols).map(CacheTags.market),
  },
  types: { Price: (price) => stringsOf(price.symbol).map(CacheTags.market) },
};

@Resolver()
export class MarketResolver {
  constructor(private readonly market: MarketService) {}

  @Query(() => Price, { nullable: true, description: 'null when the feed does not list the instrument' })
  async price(@Args() { symbol }: PriceArgs, @Ctx() { loaders, staleReads }: RequestContext, @Info() info: GraphQLResolveInfo): Promise<Price | null> {
    const quote = await loaders.quote.load(symbol);
    staleReads.note(info, quote);
    return quote === null ? null : toPrice(quote);
  }

  @Query(() => [Price], { nullable: 'items', description: 'In the order of symbols; null for instruments the feed does not list' })
  async prices(@Args() { symbols }: PricesArgs, @Ctx() { loaders, staleReads }: RequestContext, @Info() info: GraphQLResolveInfo): Promise<(Price | null | Error)[]> {
    // An instrument the feed cannot price now fails its own item only: graphql-js reports an
    // Error in a list as that item's error, and the other prices are still worth having.
    const settled = await Promise.allSettled(symbols.map((symbol) => loaders.quote.load(symbol)));
    return settled.map((outcome, index) => {
      if (outcome.status === 'rejected') return outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason));
      staleReads.note(info, outcome.value, index);
      return outcome.value === null ? null : toPrice(outcome.value);
    });
  }

  @Query(() => [Candle], { description: 'The latest bars, oldest first; NOT_FOUND for an unknown instrument' })
  async candles(@Args() { symbol, timeframe, count }: CandlesArgs, @Ctx() { staleReads }: RequestContext, @Info() info: GraphQLResolveInfo): Promise<CandleBar[]> {
    const candles = await this.market.readCandles(symbol, timeframe, count, staleReads);
    staleReads.note(info, candles);
    return candles;
  }
}
