import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

import { CacheControl } from '../graphql/response-cache/cache-policy';
import { TIMEFRAMES, type Timeframe } from './instruments';

export const TimeframeEnum = Object.fromEntries(TIMEFRAMES.map((t) => [t, t])) as { readonly [K in Timeframe]: K };
registerEnumType(TimeframeEnum, { name: 'Timeframe', description: 'Bar size: minutes (M), hours (H) or a day (D1)' });

@CacheControl({ maxAge: 60 })
@ObjectType({ description: 'The current quote of an instrument' })
export class Price {
  @Field({ description: 'Instrument, for example EUR_USD' })
  symbol!: string;

  @Field(() => Float)
  bid!: number;

  @Field(() => Float)
  ask!: number;

  @Field(() => Float, { description: 'Midpoint of bid and ask' })
  mid!: number;

  @Field(() => Float, { description: 'ask - bid' })
  spread!: number;

  @Field({ description: 'When the quote was taken' })
  time!: Date;
}

@CacheControl({ maxAge: 60 })
@ObjectType({ description: 'One OHLC bar (midpoint prices)' })
export class Candle {
  @Field({ description: 'Start of the bar' })
  time!: Date;

  @Field(() => Float)
  open!: number;

  @Field(() => Float)
  high!: number;

  @Field(() => Float)
  low!: number;

  @Field(() => Float)
  close!: number;

  @Field(() => Int)
  volume!: number;

  @Field({ description: 'False for the bar that is still forming' })
  complete!: boolean;
}

@ObjectType({ description: 'A bar of a live candle subscription: the forming bar after each tick (complete: false), then the bar once complete' })
export class CandleUpdate {
  @Field()
  symbol!: string;

  @Field(() => TimeframeEnum)
  timeframe!: Timeframe;

  @Field(() => Candle)
  candle!: Candle;
}
