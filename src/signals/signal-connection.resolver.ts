import { Args, FieldResolver, Query, Resolver, Root } from 'type-graphql';

import { pageRequestOf } from '../graphql/connection/page-args';
import { type SignalPageArgs, SignalsConnectionArgs, signalListOf } from './signal.args';
import { SignalConnection, type SignalConnectionRoot } from './signal-connection.type';
import { signalListKey } from './signal-list';
import type { SignalsService } from './signals.service';

/** Paged lists of signals (Relay Cursor Connections): `signalsConnection` here, `User.signalsConnection` beside the user. */
@Resolver(() => SignalConnection)
export class SignalConnectionResolver {
  constructor(private readonly signalsService: SignalsService) {}

  @Query(() => SignalConnection, {
    description: 'Signals newest first, filtered by any of symbol, timeframe, status, direction and author, a page at a time: `first` (with `after`) or `last` (with `before`), 1 to 100. Stable while signals are added or change status: no duplicates, nothing that existed is skipped.',
  })
  signalsConnection(@Args() args: SignalsConnectionArgs): Promise<SignalConnectionRoot> {
    return pageOf(this.signalsService, args, args.authorId ?? undefined);
  }

  @FieldResolver()
  totalCount(@Root() connection: SignalConnectionRoot): Promise<number> {
    return this.signalsService.countSignals(connection.list);
  }
}

/** A page of the list the arguments select (validated first: a bad cursor runs nothing), with the list for totalCount. */
export async function pageOf(signals: SignalsService, args: SignalPageArgs, authorId: number | undefined): Promise<SignalConnectionRoot> {
  const list = signalListOf({ ...args, authorId });
  const request = pageRequestOf(args, signalListKey(list));
  return { ...(await signals.pageSignals(list, request)), list };
}
