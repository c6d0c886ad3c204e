import { Args, Resolver, Root, Subscription } from 'type-graphql';

import { validateArgs } from '../graphql/validate-args';
import { liveSources } from '../request-context';
import { CandleStreamArgs, PricesArgs } from './market.args';
import type { CandleEvent, QuoteEvent } from './market.live';
import { toPrice } from './market.resolver';
import { CandleUpdate, Price } from './market.type';

/**
 * Live quotes and bars. Served by the live transports (graphql-ws, SSE): `subscribe` describes
 * what to listen to (MarketLive), and the field resolves each event, once for all subscribers of
 * the same subscription (see LiveHub).
 */
@Resolver()
export class MarketSubscriptionResolver {
  @Subscription(() => Price, {
    description: 'Quote ticks of the instruments, from the one upstream price stream of the fleet. A slow client gets the latest tick of each instrument, not every tick. BAD_USER_INPUT for an instrument the feed does not list.',
    subscribe: async ({ args, context }) => {
      await validateArgs(Object.assign(new PricesArgs(), args));
      return liveSources(context).market.prices((args as PricesArgs).symbols);
    },
  })
  prices(@Root() quote: QuoteEvent, @Args() _args: PricesArgs): Price {
    return toPrice({ ...quote, time: new Date(quote.time) });
  }

  @Subscription(() => CandleUpdate, {
    description: 'Bars of an instrument built from the live ticks: the forming bar after each tick, then each bar once complete; BAD_USER_INPUT for an instrument the feed does not list',
    subscribe: async ({ args, context }) => {
      await validateArgs(Object.assign(new CandleStreamArgs(), args));
      const { symbol, timeframe } = args as CandleStreamArgs;
      return liveSources(context).market.candles(symbol, timeframe);
    },
  })
  candles(@Root() event: CandleEvent, @Args() _args: CandleStreamArgs): CandleUpdate {
    return { symbol: event.symbol, timeframe: event.timeframe, candle: { ...event.candle, time: new Date(event.candle.time) } };
  }
}
