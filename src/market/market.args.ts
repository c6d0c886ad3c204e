import { ArgsType, Field, Int } from 'type-graphql';

import { InRange, ListSize } from '../graphql/validators';
import { IsInstrument, type Timeframe } from './instruments';
import { TimeframeEnum } from './market.type';

export const MAX_PRICES_PER_REQUEST = 50;
export const MAX_CANDLES = 500;

@ArgsType()
export class PriceArgs {
  @Field()
  @IsInstrument()
  symbol!: string;
}

@ArgsType()
export class PricesArgs {
  @Field(() => [String], { description: `1 to ${MAX_PRICES_PER_REQUEST} instruments` })
  @ListSize(1, MAX_PRICES_PER_REQUEST)
  @IsInstrument({ each: true })
  symbols!: string[];
}

@ArgsType()
export class CandlesArgs {
  @Field()
  @IsInstrument()
  symbol!: string;

  @Field(() => TimeframeEnum)
  timeframe!: Timeframe;

  @Field(() => Int, { defaultValue: 100, description: `1 to ${MAX_CANDLES} bars` })
  @InRange(1, MAX_CANDLES)
  count!: number;
}

@ArgsType()
export class CandleStreamArgs {
  @Field()
  @IsInstrument()
  symbol!: string;

  @Field(() => TimeframeEnum)
  timeframe!: Timeframe;
}
