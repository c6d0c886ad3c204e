import { IsOptional, Length } from 'class-validator';
import { ArgsType, Field, Float, InputType, Int } from 'type-graphql';

import { PageArgs } from '../graphql/connection/page-args';
import { InRange, IsId, IsPrice, ListSize } from '../graphql/validators';
import { IsInstrument, type Timeframe } from '../market/instruments';
import { TimeframeEnum } from '../market/market.type';
import type { SignalDirection, SignalStatus } from './signal.model';
import type { SignalList } from './signal-list';
import { SignalDirectionEnum, SignalStatusEnum } from './signal.type';

export const MAX_SIGNALS_PER_PAGE = 200;
export const MAX_SYMBOLS_PER_REQUEST = 20;
export const MAX_LATEST_PER_SYMBOL = 50;

@ArgsType()
export class SignalArgs {
  @Field(() => Int)
  @IsId()
  id!: number;
}

@ArgsType()
export class SignalsArgs {
  @Field({ nullable: true })
  @IsOptional()
  @IsInstrument()
  symbol?: string;

  @Field(() => TimeframeEnum, { nullable: true })
  timeframe?: Timeframe;

  @Field(() => SignalStatusEnum, { nullable: true })
  status?: SignalStatus;

  @Field(() => Int, { defaultValue: 50, description: `1 to ${MAX_SIGNALS_PER_PAGE}, newest first` })
  @InRange(1, MAX_SIGNALS_PER_PAGE)
  limit!: number;
}

/** A page of a list of signals, filtered by any of symbol, timeframe, status and direction. */
@ArgsType()
export class SignalPageArgs extends PageArgs {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsInstrument()
  symbol?: string | null;

  @Field(() => TimeframeEnum, { nullable: true })
  timeframe?: Timeframe | null;

  @Field(() => SignalStatusEnum, { nullable: true })
  status?: SignalStatus | null;

  @Field(() => SignalDirectionEnum, { nullable: true })
  direction?: SignalDirection | null;
}

/** SignalPageArgs, and the author. */
@ArgsType()
export class SignalsConnectionArgs extends SignalPageArgs {
  @Field(() => Int, { nullable: true, description: 'Id of the author' })
  @IsOptional()
  @IsId()
  authorId?: number | null;
}

/** The list the filter arguments select (a filter given as null is open, like one left out); `authorId` for a user's own list. */
export function signalListOf(args: SignalPageArgs & { readonly authorId?: number | null | undefined }): SignalList {
  return {
    symbol: args.symbol ?? undefined,
    timeframe: args.timeframe ?? undefined,
    status: args.status ?? undefined,
    direction: args.direction ?? undefined,
    authorId: args.authorId ?? undefined,
  };
}

@ArgsType()
export class LatestSignalsArgs {
  @Field(() => [String], { description: `1 to ${MAX_SYMBOLS_PER_REQUEST} instruments` })
  @ListSize(1, MAX_SYMBOLS_PER_REQUEST)
  @IsInstrument({ each: true })
  symbols!: string[];

  @Field(() => Int, { defaultValue: 5, description: `Signals per instrument, 1 to ${MAX_LATEST_PER_SYMBOL}` })
  @InRange(1, MAX_LATEST_PER_SYMBOL)
  perSymbol!: number;
}

@ArgsType()
export class SignalStatisticsArgs {
  @Field()
  @IsInstrument()
  symbol!: string;
}

/** Its optional fields may come as `null`, which means left out (the resolver reads them through nullsAsAbsent). */
@InputType({ description: 'A new ACTIVE signal. A session creates it for its own user; an admin names the author in userId.' })
export class CreateSignalInput {
  @Field()
  @IsInstrument()
  symbol!: string;

  @Field(() => TimeframeEnum)
  timeframe!: Timeframe;

  @Field(() => SignalDirectionEnum)
  direction!: SignalDirection;

  @Field(() => Float)
  @IsPrice()
  entryPrice!: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsPrice()
  stopLoss?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsPrice()
  takeProfit?: number | null;

  @Field(() => Float, { description: 'Between 0 and 1' })
  @InRange(0, 1)
  confidence!: number;

  @Field(() => Int, { nullable: true, description: 'Author; admins only' })
  @IsOptional()
  @IsId()
  userId?: number | null;
}

@ArgsType()
export class UpdateSignalStatusArgs {
  @Field(() => Int)
  @IsId()
  id!: number;

  @Field(() => SignalStatusEnum)
  status!: SignalStatus;
}

@ArgsType()
export class SignalEventsArgs {
  @Field(() => [String], { nullable: true, description: `Only these instruments (1 to ${MAX_SYMBOLS_PER_REQUEST}); all when absent` })
  @IsOptional()
  @ListSize(1, MAX_SYMBOLS_PER_REQUEST)
  @IsInstrument({ each: true })
  symbols?: string[] | null;

  @Field(() => Int, { nullable: true, description: 'Only signals of this author' })
  @IsOptional()
  @IsId()
  authorId?: number | null;

  @Field(() => String, { nullable: true, description: 'Resume after this event id: the events since are sent first, or a GAP event when they are no longer kept' })
  @IsOptional()
  @Length(1, 64)
  after?: string | null;
}
