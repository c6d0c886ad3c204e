import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

import { CacheControl } from '../graphql/response-cache/cache-policy';
import type { Timeframe } from '../market/instruments';
import { TimeframeEnum } from '../market/market.type';
import { SIGNAL_DIRECTIONS, SIGNAL_STATUSES, type SignalDirection, type SignalStatus } from './signal.model';

export const SignalDirectionEnum = Object.fromEntries(SIGNAL_DIRECTIONS.map((d) => [d, d])) as { readonly [K in SignalDirection]: K };
registerEnumType(SignalDirectionEnum, { name: 'SignalDirection' });

export const SignalStatusEnum = Object.fromEntries(SIGNAL_STATUSES.map((s) => [s, s])) as { readonly [K in SignalStatus]: K };
registerEnumType(SignalStatusEnum, {
  name: 'SignalStatus',
  description: 'ACTIVE signals may become EXECUTED, EXPIRED or CANCELLED; those are final',
});

@CacheControl({ maxAge: 1800 })
@ObjectType({ description: 'A trading signal produced by a model or a trader' })
export class Signal {
  @Field(() => Int)
  id!: number;

  @Field({ description: 'Instrument, for example EUR_USD' })
  symbol!: string;

  @Field(() => TimeframeEnum)
  timeframe!: Timeframe;

  @Field(() => SignalDirectionEnum)
  direction!: SignalDirection;

  @Field(() => SignalStatusEnum)
  status!: SignalStatus;

  @Field(() => Float)
  entryPrice!: number;

  @Field(() => Float, { nullable: true })
  stopLoss!: number | null;

  @Field(() => Float, { nullable: true })
  takeProfit!: number | null;

  @Field(() => Float, { description: 'Model confidence between 0 and 1' })
  confidence!: number;

  @Field(() => Int, { description: 'Id of the author' })
  userId!: number;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@CacheControl({ maxAge: 600 })
@ObjectType({ description: 'Aggregates over all signals of one instrument' })
export class SignalStatistics {
  @Field()
  symbol!: string;

  @Field(() => Int)
  totalSignals!: number;

  @Field(() => Int)
  activeSignals!: number;

  @Field(() => Int)
  executedSignals!: number;

  @Field(() => Int)
  buySignals!: number;

  @Field(() => Int)
  sellSignals!: number;

  @Field(() => Float, { nullable: true, description: 'null when there are no signals' })
  averageConfidence!: number | null;

  @Field(() => Date, { nullable: true })
  lastSignalAt!: Date | null;
}
