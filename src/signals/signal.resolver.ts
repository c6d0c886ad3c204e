import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, Info, Mutation, Query, Resolver, Root } from 'type-graphql';

import { CacheTags, idsOf, memberOf, type ShownTags, stringsOf } from '../cache/cache-tags';
import { nullsAsAbsent } from '../graphql/nulls-as-absent';
import type { Quote } from '../market/market-data.provider';
import { Price } from '../market/market.type';
import { toPrice } from '../market/market.resolver';
import type { RequestContext } from '../request-context';
import type { UserRecord } from '../users/user.model';
import { User } from '../users/user.type';
import { CreateSignalInput, LatestSignalsArgs, SignalArgs, SignalsArgs, signalListOf, SignalStatisticsArgs, UpdateSignalStatusArgs } from './signal.args';
import { signalListTags } from './signal-list';
import type { SignalRecord } from './signal.model';
import { Signal, SignalStatistics } from './signal.type';
import type { SignalsService } from './signals.service';

/** What the signals' part of the schema shows, for the response cache (see ShownTags). */
export const SIGNAL_TAGS: ShownTags = {
  fields: {
    // By the id asked for, so that a cached "no such signal" goes when the signal is created; a
    // "no such signal" also goes with any new signal (an operator's insert names only its instrument).
    'Query.signal': (args, _root, result) => [...idsOf(args.id).map(CacheTags.signal), ...(result === null ? [CacheTags.allSignalLists()] : [])],
    'Query.signals': (args) => [typeof args.symbol === 'string' ? CacheTags.signals(args.symbol) : CacheTags.allSignalLists()],
    // By the list's name only: a write evicts the lists it changes (listsChangedBy). The arguments
    // are those GraphQL coerced against the field's own, hence their shape.
    'Query.signalsConnection': (args) => signalListTags(signalListOf(args)),
    'Query.latestSignals': (args) => stringsOf(args.symbols).map(CacheTags.signals),
    'Query.signalStatistics': (args) => stringsOf(args.symbol).map(CacheTags.signals),
    'Signal.user': (_args, signal) => idsOf(memberOf(signal, 'userId')).map(CacheTags.user),
    // Also when the feed has no quote (null): the instrument's market invalidation must reach it.
    'Signal.currentPrice': (_args, signal) => stringsOf(memberOf(signal, 'symbol')).map(CacheTags.market),
  },
  types: { Signal: (signal) => [...idsOf(signal.id).map(CacheTags.signal), ...stringsOf(signal.symbol).map(CacheTags.signalOf)] },
};

@Resolver(() => Signal)
export class SignalResolver {
  constructor(private readonly signalsService: SignalsService) {}

  @Query(() => Signal, { nullable: true, description: 'null when there is no such signal' })
  signal(@Args() { id }: SignalArgs, @Ctx() { loaders }: RequestContext): Promise<SignalRecord | null> {
    return loaders.signal.load(id);
  }

  @Query(() => [Signal], {
    description: 'Newest first, filtered by any of symbol, timeframe and status',
    deprecationReason: 'Use signalsConnection: it pages with cursors past the 200 this list stops at, stays stable while signals are added, and gives totalCount',
  })
  signals(@Args() { symbol, timeframe, status, limit }: SignalsArgs): Promise<SignalRecord[]> {
    return this.signalsService.listSignals({ symbol, timeframe, status, limit });
  }

  @Query(() => [Signal], { description: 'The newest signals of each instrument, grouped in the order of symbols' })
  async latestSignals(@Args() { symbols, perSymbol }: LatestSignalsArgs): Promise<SignalRecord[]> {
    return (await this.signalsService.latestBySymbols(symbols, perSymbol)).flat();
  }

  @Query(() => SignalStatistics)
  async signalStatistics(@Args() { symbol }: SignalStatisticsArgs): Promise<SignalStatistics> {
    return { symbol, ...(await this.signalsService.statisticsForSymbol(symbol)) };
  }

  @Mutation(() => Signal, { description: 'Creates an ACTIVE signal; needs a session (author) or the admin token (userId)' })
  async createSignal(@Arg('input') input: CreateSignalInput, @Ctx() { viewer, loaders }: RequestContext): Promise<SignalRecord> {
    const created = await this.signalsService.createSignal(viewer, nullsAsAbsent(input));
    loaders.signal.prime(created.id, created);
    return created;
  }

  @Mutation(() => Signal, { description: 'Moves an ACTIVE signal to another status; author or admin' })
  async updateSignalStatus(@Args() { id, status }: UpdateSignalStatusArgs, @Ctx() { viewer, loaders }: RequestContext): Promise<SignalRecord> {
    const updated = await this.signalsService.updateStatus(viewer, id, status);
    loaders.signal.clear(id).prime(id, updated);
    return updated;
  }

  @FieldResolver(() => User, { nullable: true, description: 'The author' })
  user(@Root() signal: SignalRecord, @Ctx() { loaders }: RequestContext): Promise<UserRecord | null> {
    return loaders.user.load(signal.userId);
  }

  @FieldResolver(() => Price, { nullable: true, description: 'The live quote of the instrument; null if the feed does not list it' })
  async currentPrice(@Root() signal: SignalRecord, @Ctx() { loaders, staleReads }: RequestContext, @Info() info: GraphQLResolveInfo): Promise<Price | null> {
    const quote: Quote | null = await loaders.quote.load(signal.symbol);
    staleReads.note(info, quote);
    return quote === null ? null : toPrice(quote);
  }
}
